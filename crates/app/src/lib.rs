//! RankedHonor's features, shared by the Spin components (spin-sdk 5.2, `wasm32-wasip2`).
//!
//! Each feature is a folder or file holding its storage (SQL, Redis keys and scripts),
//! its flows and its error type, which converts into the boundary's
//! [`rh_infra::AppError`]. The plumbing they stand on (HTTP, problems, MySQL and Redis
//! wrappers, config, auth, signatures) is `rh-infra`; the rules (ratings, grouping,
//! validation, event shapes) are the pure `rh-domain`. Components call these functions
//! from their handlers.
//!
//! # Layout
//! - [`users`]: accounts, refresh tokens and per-mode stats (the auth component).
//! - [`matches`]: creating matches, the exactly-once result transaction, reads.
//! - [`leaderboard`]: Redis sorted sets kept equal to MySQL, rebuilds.
//! - [`queue`]: the matchmaking queue in Redis and its tick.
//! - [`seasons`]: the season schedule, the rollover, past seasons' boards and history.
//! - [`teams`]: teams, members, invitations.
//! - [`integrations`]: creator integrations (OAuth 2.0 + PKCE), live streams, the
//!   Discord webhook.
//! - [`analytics`]: hero pick-rate aggregates and the overview.
//! - [`admin`]: bans, rating adjustments, match voids, the audit-log reader.
//! - [`metrics`]: business counters in Redis and the `/api/v1/metrics` exposition.

pub mod admin;
pub mod analytics;
pub mod integrations;
pub mod leaderboard;
pub mod matches;
pub mod metrics;
pub mod queue;
pub mod seasons;
pub mod teams;
pub mod users;
