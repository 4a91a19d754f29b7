//! rh-runtime's integration tests, one binary (`--test runtime`) with a module per
//! subject: each used to be a binary of its own, and each linked wasmtime. Every test
//! uses its own fixture app, keys, channels or private `redis-server`, so the modules
//! run side by side without a gate (the app's tests, `tests/`, need one:
//! `rh_tests::isolation`).
//!
//! The fixtures must be built first (`./scripts/test` does; see `common`). Run one
//! module: `./scripts/test -p rh-runtime --test runtime -- http_routing::`.

mod common;

mod host_redis_faults;
mod host_storage;
mod http_redis_trigger;
mod http_routing;
mod http_runtime;
mod otlp;
mod telemetry;
