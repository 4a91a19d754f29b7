//! rh-runtime: a Spin-compatible runtime on wasmtime 48. It runs a Spin manifest v2
//! (`spin.toml`) with HTTP and Redis triggers, giving components what Spin 3 gives them and
//! refusing what Spin refuses, so the same `.wasm` behaves the same here and on Spin.
//!
//! Integration tests drive it in-process: [`App::load`] then [`App::serve`] on a listener
//! bound to `127.0.0.1:0`.
//!
//! # Layout
//! - [`app`]: `UpOptions`, `App::load` (manifest → variables → compile → pre-instantiate),
//!   `App::serve` (triggers until shutdown, then drain).
//! - [`manifest`]: the `spin.toml` serde model, unknown-key and unsupported-feature refusals.
//! - [`variables`]: `[variables]` resolution and `{{ name }}` templates.
//! - [`routes`]: Spin route precedence and the `spin-*` request headers.
//! - [`engine`]: engine settings (pooling, epochs, cache), core-module adaptation.
//! - [`instance`]: the store data type, outbound-HTTP policy, prefixed guest stdio.
//! - [`http`]: the HTTP trigger (hyper 1, fresh instance per request, body limit, drain).
//! - [`admission`]: how many requests run at once, and how long the rest wait.
//! - [`redis`]: the Redis trigger (fred subscriber, fresh instance per message) and what it
//!   does when Redis goes away ([`OnDisconnect`]: end the app as Spin does, or reconnect).
//! - [`telemetry`]: metrics (Prometheus listener, OTLP), traces (a span per request and
//!   host call, `traceparent` in and out), JSON logs and request ids.
//! - [`build`]: `rh-runtime build`.
//! - [`host`]: the seam to rh-spin-host (Spin's host interfaces).

pub mod admission;
pub mod app;
pub mod build;
pub mod engine;
pub mod host;
pub mod http;
pub mod instance;
pub mod manifest;
pub mod redis;
pub mod routes;
pub mod telemetry;
pub mod variables;

pub use app::{App, UpOptions};
pub use redis::OnDisconnect;
