//! Components' log lines, labelled with the request they belong to.
//!
//! Each request has an id: the client's `X-Request-Id` when it is a clean token (rh-runtime
//! passes the one it logs), else a fresh random one. [`crate::http::Router::serve`] sets it
//! for the request and returns it in the response's `X-Request-Id`, so a studio that quotes
//! the header of a failed call lets us find its lines. A component instance serves one
//! request on one thread, so the id lives in a thread-local for the request's duration.
//!
//! Lines are one JSON object each (`{"level":...,"request_id":...,"message":...}`) on
//! stderr, which Spin and rh-runtime collect per component.

use std::cell::RefCell;

thread_local! {
    static REQUEST_ID: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The longest client-chosen id kept (the runtime applies the same rule).
const MAX_REQUEST_ID: usize = 128;

/// The id for a request whose `X-Request-Id` header is `given`.
pub fn request_id_for(given: Option<&str>) -> String {
    match given {
        Some(id)
            if !id.is_empty()
                && id.len() <= MAX_REQUEST_ID
                && id
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') =>
        {
            id.to_string()
        }
        _ => crate::ids::random_id(),
    }
}

/// Makes `id` the current request's (until the next call).
pub fn set_request_id(id: &str) {
    REQUEST_ID.with(|r| *r.borrow_mut() = Some(id.to_string()));
}

/// The current request's id, if one is set.
pub fn request_id() -> Option<String> {
    REQUEST_ID.with(|r| r.borrow().clone())
}

/// One log record as a JSON line.
pub fn line(level: &str, message: &str) -> String {
    serde_json::json!({
        "level": level,
        "request_id": request_id(),
        "message": message,
    })
    .to_string()
}

/// Writes an error record to stderr.
pub fn error(message: impl AsRef<str>) {
    eprintln!("{}", line("error", message.as_ref()));
}

/// Writes a warning record to stderr.
pub fn warn(message: impl AsRef<str>) {
    eprintln!("{}", line("warn", message.as_ref()));
}

/// `log_error!("fmt", args..)`: [`error`] with `format!` arguments.
#[macro_export]
macro_rules! log_error {
    ($($arg:tt)*) => { $crate::log::error(format!($($arg)*)) };
}

/// `log_warn!("fmt", args..)`: [`warn`] with `format!` arguments.
#[macro_export]
macro_rules! log_warn {
    ($($arg:tt)*) => { $crate::log::warn(format!($($arg)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_carry_the_current_request_id() {
        set_request_id("abc-1");
        let v: serde_json::Value = serde_json::from_str(&line("error", "boom")).unwrap();
        assert_eq!(v["request_id"], "abc-1");
        assert_eq!(v["level"], "error");
        assert_eq!(v["message"], "boom");
    }

    #[test]
    fn odd_client_ids_are_replaced() {
        assert_eq!(request_id_for(Some("ok-1")), "ok-1");
        for bad in [None, Some(""), Some("two words"), Some("q\"")] {
            let id = request_id_for(bad);
            assert_eq!(id.len(), 32, "{bad:?}");
        }
    }
}
