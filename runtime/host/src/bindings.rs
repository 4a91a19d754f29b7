//! Wasmtime bindings generated at build time from spin-sdk's own WIT (see `build.rs`).
//!
//! - [`imports`]: host traits for `fermyon:spin/{rdbms-types,mysql,redis,variables,key-value}@2.0.0`.
//! - [`RedisTrigger`] / [`RedisTriggerPre`]: the unversioned `fermyon:spin/inbound-redis` export,
//!   called by the runtime's Redis trigger through
//!   `trigger.fermyon_spin_inbound_redis().call_handle_message(&mut store, &payload)`.

#![allow(missing_docs, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

/// The Redis trigger's types at their WIT path, e.g. `bindings::fermyon::spin::redis_types::Error`
/// (the result of `handle-message`), and the export module.
pub use redis_trigger::{exports, fermyon};
pub use redis_trigger::{RedisTrigger, RedisTriggerPre};
