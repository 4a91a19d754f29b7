//! The domain's one error type.
//!
//! Every fallible function in this crate returns [`DomainError`], so the HTTP boundary
//! (in the shared app crate) maps exactly one enum to RFC 9457 problem responses. Each
//! variant's doc names the status it is meant to become; the mapping itself lives at the
//! boundary, not here, because the domain knows nothing about HTTP.

use serde::{Deserialize, Serialize};

/// One problem with one field of a request, e.g. `teams[1]`: "expected 2 players, got 3".
///
/// Serialised as `{"field": ..., "message": ...}` inside a problem+json `errors` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// A JSON-path-like pointer into the request (`mode`, `teams`, `teams[0][2]`).
    pub field: String,
    /// Human-readable and safe to show to the caller.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// 422: the mode is not in the configured mode table.
    #[error("unknown mode {0:?}")]
    UnknownMode(String),

    /// 500 at start-up: the mode table configuration string does not parse.
    /// A configuration error, never the caller's fault.
    #[error("invalid mode configuration: {0}")]
    InvalidModeConfig(String),

    /// 422: request fields that break domain rules (roster shape, party size...).
    #[error("invalid input: {}", summarise(.0))]
    Invalid(Vec<FieldError>),

    /// 422: a rating request that cannot be computed (no teams, ranks of the wrong
    /// length, a winner index out of range, a non-finite or non-positive sigma).
    #[error("invalid rating input: {0}")]
    InvalidRatingInput(String),
}

fn summarise(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_error_message_lists_every_field() {
        let err = DomainError::Invalid(vec![
            FieldError::new("teams", "expected 2 teams, got 3"),
            FieldError::new("teams[0]", "expected 1 player, got 2"),
        ]);
        assert_eq!(
            err.to_string(),
            "invalid input: teams: expected 2 teams, got 3; teams[0]: expected 1 player, got 2"
        );
    }

    #[test]
    fn field_error_serialises_as_field_and_message() {
        let json = serde_json::to_value(FieldError::new("mode", "unknown mode")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"field": "mode", "message": "unknown mode"})
        );
    }
}
