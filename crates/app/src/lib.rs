//! Shared code of RankedHonor's Spin components (spin-sdk 5.2, `wasm32-wasip2`).
//!
//! Handlers in `components/*` stay thin: decode with [`http`], authenticate with [`auth`],
//! call the domain (`rh-domain`) or storage ([`db`], [`redis`]), encode. Every failure is an
//! [`error::AppError`], turned into an RFC 9457 problem ([`problem`]) in one place.
//!
//! # Layout
//! - [`http`]: the [`http::Router`] every HTTP component serves (404/405/OPTIONS, 64 KiB
//!   body limit, CORS), [`http::Req`] with JSON decoding and path parameters.
//! - [`error`] / [`problem`]: the boundary's error type and its problem+json mapping.
//! - [`config`]: typed Spin variables (`db_url`, `redis_url`, `jwt_secret`, ...).
//! - [`db`]: Spin MySQL with typed rows, transactions, duplicate-key detection.
//! - [`redis`]: Spin Redis helpers over `execute` (EVAL, SET NX PX, sorted sets, publish).
//! - [`auth`]: Bearer access tokens checked with `rh-token` plus Redis revocation.
//! - [`ratelimit`]: atomic sliding-window limits in Redis (Lua).
//! - [`client_addr`]: the client's address behind trusted load balancers (`X-Forwarded-For`).
//! - [`cors`]: allowed origins and preflight answers.
//! - [`audit`]: `audit_log` rows. [`clock`], [`ids`]: time and random ids.
//! - [`events`], [`leaderboard`], [`matches`], [`queue`], [`server_sig`]: ranked-play
//!   storage and protocols shared by the match and matchmaking components.
//! - [`analytics`]: hero pick-rate aggregates and the overview; [`admin`]: bans, rating
//!   adjustments, match voids, the audit-log reader.

pub mod audit;
pub mod auth;
pub mod client_addr;
pub mod clock;
pub mod config;
pub mod cors;
pub mod db;
pub mod error;
pub mod http;
pub mod ids;
pub mod problem;
pub mod ratelimit;
pub mod redis;

pub use error::AppError;
pub mod admin;
pub mod analytics;
pub mod events;
pub mod integrations;
pub mod leaderboard;
pub mod matches;
pub mod queue;
pub mod server_sig;
pub mod teams;
