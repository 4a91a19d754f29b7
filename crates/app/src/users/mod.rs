//! Accounts: the SQL of `users`, `refresh_tokens` and `user_stats` that the auth
//! component's handlers (register, login, refresh, profiles) call, and the cache that
//! answers profile reads from Redis.
//!
//! # Layout
//! - [`store`]: rows, inserts and updates, unique-key violations turned into conflicts;
//! - [`cache`]: profile bodies in Redis, tagged with counters that writers bump after
//!   their commits (how each writer invalidates is in its docs).

pub mod cache;
pub mod store;
