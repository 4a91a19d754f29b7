//! The one error type of the HTTP boundary, and the one place it becomes a response.
//!
//! Every handler returns `Result<_, AppError>`. Each variant's doc names its status.
//! [`AppError::to_problem`] is the only mapping to RFC 9457 problem details: 500s are
//! logged here with their cause and answered with a generic detail, so internals (SQL,
//! host errors) never reach a client.

use crate::config::ConfigError;
use crate::db::{DbError, IsDeadlock};
use crate::problem::{FieldError, Problem};
use crate::redis::RedisError;
use spin_sdk::http::{IntoResponse, Response};

/// `WWW-Authenticate` realm of our Bearer challenges (RFC 6750 §3).
const REALM: &str = "rankedhonor";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the body is not valid JSON or does not have the expected shape.
    #[error("malformed request: {0}")]
    BadRequest(String),
    /// 401 with `WWW-Authenticate: Bearer realm=...`: no credentials were sent.
    #[error("authentication required")]
    MissingCredentials,
    /// 401 with `WWW-Authenticate: Bearer ..., error="invalid_token"`: the token is bad,
    /// expired, revoked or of the wrong type. The message says which (no secret in it).
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// 401 (no challenge, RFC 6750 only covers tokens): wrong email or password.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// 403: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the resource or route does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 405 with `Allow`: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<String> },
    /// 409: a unique value (email, username...) is already taken.
    #[error("{0}")]
    Conflict(String),
    /// 413: the request body exceeds the limit (bytes).
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 422: the input was understood but some fields are invalid.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 429 with `Retry-After` (seconds).
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    /// 503 with `Retry-After: 1`: the work is in progress elsewhere (a rebuild holding
    /// its lock) or the database was busy; nothing was changed and a retry will do.
    #[error("{0}")]
    Busy(String),
    /// 503 with `Retry-After: 1`: a dependency is down; the message names it.
    #[error("{0}")]
    Unavailable(String),
    /// 503 from a health check: `checks` are `(dependency, "ok" | "down")`, sent as
    /// extension members so monitors read them like the 200 body.
    #[error("unhealthy: {}", .checks.iter().filter(|c| c.1 != "ok").map(|c| c.0.as_str()).collect::<Vec<_>>().join(", "))]
    Unhealthy { checks: Vec<(String, String)> },
    /// MySQL failed. 503 with `Retry-After` when InnoDB chose the transaction as a
    /// deadlock victim even after [`crate::db::Db::transaction_retrying`]'s attempts
    /// (nothing was written; the same request a moment later is the cure); otherwise 500,
    /// logged with its cause.
    #[error(transparent)]
    Db(#[from] DbError),
    /// 500: Redis failed. Logged with its cause.
    #[error(transparent)]
    Redis(#[from] RedisError),
    /// 500: a required Spin variable is missing or invalid. Logged.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// 500: anything else. Logged with its cause; the client sees a generic detail.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl IsDeadlock for AppError {
    fn is_deadlock(&self) -> bool {
        matches!(self, AppError::Db(e) if e.is_deadlock())
    }
}

impl AppError {
    /// 500 from any printable cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!("{cause}"))
    }

    /// One invalid field (422).
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::MissingCredentials
            | AppError::InvalidToken(_)
            | AppError::InvalidCredentials => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::MethodNotAllowed { .. } => 405,
            AppError::Conflict(_) => 409,
            AppError::PayloadTooLarge { .. } => 413,
            AppError::Validation(_) => 422,
            AppError::RateLimited { .. } => 429,
            AppError::Db(DbError::Deadlock(_)) => 503,
            AppError::Db(e) if e.is_unreachable() => 503,
            AppError::Redis(e) if e.is_unreachable() => 503,
            AppError::Db(_) | AppError::Redis(_) | AppError::Config(_) | AppError::Internal(_) => {
                500
            }
            AppError::Busy(_) | AppError::Unavailable(_) | AppError::Unhealthy { .. } => 503,
        }
    }

    /// The problem details for this error (the single mapping of the boundary).
    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        match self {
            AppError::BadRequest(msg) => {
                Problem::new(status, "bad-request", "Malformed request").with_detail(msg)
            }
            AppError::MissingCredentials => {
                Problem::new(status, "unauthorized", "Authentication required")
                    .with_detail("send an access token as `Authorization: Bearer <token>`")
                    .with_header("www-authenticate", format!("Bearer realm=\"{REALM}\""))
            }
            AppError::InvalidToken(why) => Problem::new(status, "invalid-token", "Invalid token")
                .with_detail(why)
                .with_header(
                    "www-authenticate",
                    format!(
                        "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                        why.replace(['"', '\\'], "'")
                    ),
                ),
            AppError::InvalidCredentials => {
                Problem::new(status, "invalid-credentials", "Invalid credentials")
                    .with_detail("invalid email or password")
            }
            AppError::Forbidden(msg) => Problem::new(status, "forbidden", "Forbidden").with_detail(msg),
            AppError::NotFound(msg) => Problem::new(status, "not-found", "Not Found").with_detail(msg),
            AppError::MethodNotAllowed { allow } => {
                Problem::new(status, "method-not-allowed", "Method Not Allowed")
                    .with_detail(format!("allowed methods: {}", allow.join(", ")))
                    .with_header("allow", allow.join(", "))
            }
            AppError::Conflict(msg) => Problem::new(status, "conflict", "Conflict").with_detail(msg),
            AppError::PayloadTooLarge { limit } => {
                Problem::new(status, "payload-too-large", "Payload Too Large")
                    .with_detail(format!("the request body must not exceed {limit} bytes"))
            }
            AppError::Validation(errors) => {
                Problem::new(status, "validation-failed", "Validation failed")
                    .with_detail(format!("{} invalid field(s)", errors.len()))
                    .with_errors(errors.clone())
            }
            AppError::RateLimited { retry_after_secs } => {
                Problem::new(status, "rate-limited", "Too Many Requests")
                    .with_detail(format!("retry in {retry_after_secs} s"))
                    .with_header("retry-after", retry_after_secs.to_string())
            }
            AppError::Busy(what) => Problem::new(status, "busy", "Service Unavailable")
                .with_detail(what)
                .with_header("retry-after", "1"),
            AppError::Unavailable(what) => {
                Problem::new(status, "unavailable", "Service Unavailable")
                    .with_detail(what)
                    .with_header("retry-after", "1")
            }
            AppError::Unhealthy { checks } => {
                let down: Vec<&str> = checks
                    .iter()
                    .filter(|(_, state)| state != "ok")
                    .map(|(name, _)| name.as_str())
                    .collect();
                let mut p = Problem::new(status, "unhealthy", "Service Unavailable")
                    .with_detail(format!("down: {}", down.join(", ")))
                    .with_header("retry-after", "1");
                for (name, state) in checks {
                    p = p.with_extension(name, state.as_str());
                }
                p
            }
            AppError::Db(cause @ DbError::Deadlock(_)) => {
                // Still a deadlock after the transaction's own retries: nothing was written,
                // and the same request a moment later is the cure.
                crate::log_warn!("deadlock after retries: {cause}");
                Problem::new(status, "busy", "Service Unavailable")
                    .with_detail("the database was busy and nothing was changed; retry")
                    .with_header("retry-after", "1")
            }
            AppError::Db(e) if e.is_unreachable() => {
                // MySQL out of reach (down, restarting): a 503 the client may retry.
                crate::log_warn!("mysql unavailable: {e}");
                Problem::new(status, "unavailable", "Service Unavailable")
                    .with_detail("the database is unavailable; retry shortly")
                    .with_header("retry-after", "1")
            }
            AppError::Redis(e) if e.is_unreachable() => {
                // Redis out of reach (down, restarting, the connection lost under a
                // command): a 503 the client may retry, on Spin as on rh-runtime. Spin
                // connects at `open`, so a stopped Redis fails there.
                crate::log_warn!("redis unavailable: {e}");
                Problem::new(status, "unavailable", "Service Unavailable")
                    .with_detail("Redis is unavailable; retry shortly")
                    .with_header("retry-after", "1")
            }
            AppError::Db(_) | AppError::Redis(_) | AppError::Config(_) | AppError::Internal(_) => {
                // The cause may hold SQL or host details: log it, never send it.
                crate::log_error!("internal error: {self:#}");
                Problem::new(status, "internal", "Internal Server Error")
                    .with_detail("an unexpected error occurred")
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.to_problem().into_response()
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        AppError::Validation(errors)
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Validation(vec![e])
    }
}

impl From<rh_domain::DomainError> for AppError {
    fn from(e: rh_domain::DomainError) -> Self {
        use rh_domain::DomainError as D;
        match e {
            D::Invalid(errors) => AppError::Validation(errors),
            D::UnknownMode(mode) => {
                AppError::invalid_field("mode", format!("unknown mode {mode:?}"))
            }
            D::InvalidRatingInput(why) => AppError::invalid_field("rating", why),
            // Configuration errors (and variants added later) are our fault: 500.
            other => AppError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(p: &'a Problem, name: &str) -> Option<&'a str> {
        p.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn unauthorized_errors_carry_a_bearer_challenge() {
        let p = AppError::MissingCredentials.to_problem();
        assert_eq!(p.status, 401);
        assert_eq!(
            header(&p, "www-authenticate"),
            Some("Bearer realm=\"rankedhonor\"")
        );
        let p = AppError::InvalidToken("the token has \"expired\"".into()).to_problem();
        let challenge = header(&p, "www-authenticate").unwrap();
        assert!(challenge.contains("error=\"invalid_token\""));
        assert!(challenge.ends_with("'expired'\""), "{challenge}");
    }

    #[test]
    fn redis_out_of_reach_is_503_and_a_redis_error_500() {
        let down = AppError::from(crate::redis::RedisError::Connect("refused".into()));
        assert_eq!(down.status(), 503);
        let bug = AppError::from(crate::redis::RedisError::Command {
            command: "ZADD".into(),
            why: "WRONGTYPE".into(),
        });
        assert_eq!(bug.status(), 500);
    }

    #[test]
    fn redis_or_mysql_out_of_reach_is_503_and_a_redis_error_500() {
        let down = AppError::from(RedisError::Connect("refused".into()));
        assert_eq!(down.status(), 503);
        assert_eq!(header(&down.to_problem(), "retry-after"), Some("1"));
        let bug = AppError::from(RedisError::Command {
            command: "ZADD".into(),
            why: "WRONGTYPE".into(),
        });
        assert_eq!(bug.status(), 500);
        let db_down = AppError::from(DbError::Connect("Connection refused".into()));
        assert_eq!(db_down.status(), 503);
        assert_eq!(
            AppError::from(DbError::Query("syntax".into())).status(),
            500
        );
    }

    #[test]
    fn rate_limited_sets_retry_after() {
        let p = AppError::RateLimited {
            retry_after_secs: 7,
        }
        .to_problem();
        assert_eq!(p.status, 429);
        assert_eq!(header(&p, "retry-after"), Some("7"));
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let p = AppError::internal("SELECT secret FROM users failed").to_problem();
        assert_eq!(p.status, 500);
        assert!(!String::from_utf8(p.body()).unwrap().contains("secret"));
    }

    #[test]
    fn a_deadlock_left_after_retries_is_a_503_to_retry() {
        let cause = "ERROR 1213 (40001): Deadlock found when trying to get lock; \
                     try restarting transaction";
        let p = AppError::from(DbError::Deadlock(cause.into())).to_problem();
        assert_eq!(p.status, 503);
        assert_eq!(header(&p, "retry-after"), Some("1"));
        assert!(!String::from_utf8(p.body()).unwrap().contains("1213"));
        // Any other database failure is ours: a 500 that hides its cause.
        let p = AppError::from(DbError::Query("user 1213 vanished".into())).to_problem();
        assert_eq!(p.status, 500);
        assert!(!String::from_utf8(p.body()).unwrap().contains("1213"));
    }

    #[test]
    fn method_not_allowed_lists_the_allowed_methods() {
        let p = AppError::MethodNotAllowed {
            allow: vec!["GET".into(), "PATCH".into()],
        }
        .to_problem();
        assert_eq!(p.status, 405);
        assert_eq!(header(&p, "allow"), Some("GET, PATCH"));
    }

    #[test]
    fn an_unhealthy_problem_names_what_is_down() {
        let p = AppError::Unhealthy {
            checks: vec![
                ("mysql".into(), "down".into()),
                ("redis".into(), "ok".into()),
            ],
        }
        .to_problem();
        let v: serde_json::Value = serde_json::from_slice(&p.body()).unwrap();
        assert_eq!(v["status"], 503);
        assert_eq!(v["mysql"], "down");
        assert_eq!(v["redis"], "ok");
        assert_eq!(v["detail"], "down: mysql");
    }

    #[test]
    fn validation_errors_list_their_fields() {
        let p = AppError::invalid_field("region", "unknown region").to_problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors, vec![FieldError::new("region", "unknown region")]);
    }
}
