//! The infrastructure of RankedHonor's Spin components (spin-sdk 5.2, `wasm32-wasip2`):
//! everything a handler needs around its feature, and nothing about any feature.
//!
//! Handlers in `components/*` stay thin: decode with [`http`], authenticate with [`auth`]
//! or [`server_sig`], call a feature of `rh-app` or the domain (`rh-domain`), encode.
//! Every failure is an [`error::AppError`], turned into an RFC 9457 problem
//! ([`problem`]) in one place.
//!
//! This crate depends on no feature (`rh-app` depends on it, never the reverse), so the
//! plumbing cannot reach into matches, queues or leaderboards.
//!
//! # Layout
//! - [`http`]: the [`http::Router`] every HTTP component serves (404/405/OPTIONS, 64 KiB
//!   body limit, CORS), [`http::Req`] with JSON decoding and path parameters.
//! - [`error`] / [`problem`]: the boundary's error type and its problem+json mapping.
//! - [`config`]: typed Spin variables (`db_url`, `redis_url`, `jwt_secret`, ...).
//! - [`db`]: Spin MySQL with typed rows, transactions (retried when InnoDB picks them as
//!   a deadlock victim), duplicate-key detection.
//! - [`redis`]: Spin Redis: typed commands over `execute` (`SET NX PX`, sorted sets,
//!   scripts, publish).
//! - [`events`]: publishing JSON events for the WebSocket sidecar.
//! - [`auth`]: Bearer access tokens checked with `rh-token` plus revocation.
//! - [`revocation`]: logouts and cut-offs recorded in MySQL, read from Redis, rebuilt
//!   from MySQL when Redis lost them.
//! - [`server_sig`]: game-server request signatures (HMAC, optional signed `Idempotency-Key`).
//! - [`idempotency`]: a signed call runs once per key; repeats get the original answer
//!   (Redis, and MySQL for create-type calls).
//! - [`ratelimit`]: atomic sliding-window limits in Redis (Lua).
//! - [`client_addr`]: the client's address behind trusted load balancers (`X-Forwarded-For`).
//! - [`cors`]: allowed origins and preflight answers.
//! - [`log`]: request ids (`X-Request-Id`) and JSON log lines that carry them.
//! - [`audit`]: `audit_log` rows. [`clock`], [`ids`]: time and random ids.

pub mod audit;
pub mod auth;
pub mod client_addr;
pub mod clock;
pub mod config;
pub mod cors;
pub mod db;
pub mod error;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod log;
pub mod problem;
pub mod ratelimit;
pub mod redis;
pub mod revocation;
pub mod server_sig;

pub use error::AppError;
