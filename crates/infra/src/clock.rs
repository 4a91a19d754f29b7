//! Wall-clock time. `SystemTime` maps to WASI's wall clock inside a component.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (what every `*_ms` column stores).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Seconds since the Unix epoch (JWT `iat`/`exp`).
pub fn now_unix() -> i64 {
    now_ms() / 1000
}
