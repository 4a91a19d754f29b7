//! Accounts: the SQL of `users`, `refresh_tokens` and `user_stats` that the auth
//! component's handlers (register, login, refresh, profiles) call.
//!
//! # Layout
//! - [`store`]: rows, inserts and updates, unique-key violations turned into conflicts.

pub mod store;
