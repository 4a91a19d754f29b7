//! RankedHonor's integration tests: one test binary (`--test api`), one module per
//! feature, each driving the real runtime with the real components against MariaDB and
//! Redis. One binary, not one per file: each binary linked wasmtime on its own (80–90 MB
//! apiece) and started its own app, which was most of a test run's time.
//!
//! Modules run one at a time, as separate binaries did: the first call into `rh_tests`
//! from a test enters that test's module ([`rh_tests::isolation`]), and a test of another
//! module waits until every test of the module in progress has finished. Tests of one
//! module still run in parallel, so what a module's tests share among themselves (a
//! queue, a whole board) is guarded inside the module as before.
//!
//! Run one module: `./scripts/test -p rh-tests --test api -- auth::` (the filter matches
//! test paths).

mod matches_support;
mod matchmaking_support;
mod seasons_support;

mod activity;
mod admin;
mod analytics;
mod auth;
mod cluster;
mod degradation;
mod feed;
mod integrations;
mod integrity;
mod leaderboard_races;
mod matches;
mod matches_contention;
mod matchmaking;
mod matchmaking_batch;
mod matchmaking_bench;
mod matchmaking_quality;
mod observability;
mod profile_cache;
mod rankings;
mod realtime;
mod redis_outage;
mod revocation_bench;
mod season_bench;
mod seasons;
mod smoke;
mod teams;
mod users;
