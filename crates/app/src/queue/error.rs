//! The queue's error type. Each variant's doc names the status it answers with; it
//! converts into the boundary's [`AppError`], whose single mapping makes the problem.

use rh_infra::db::DbError;
use rh_infra::error::AppError;
use rh_infra::redis::RedisError;

/// What can go wrong in a queue operation.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// 422: unknown mode or region, a party too large, unknown users, a party for
    /// another mode or region.
    #[error("{field}: {message}")]
    Unprocessable {
        field: &'static str,
        message: String,
    },
    /// 422: several request fields at once (a ticket's region list).
    #[error("invalid request: {0:?}")]
    Invalid(Vec<rh_domain::FieldError>),
    /// 409: already queued, in an unfinished match, or the match already formed.
    #[error("{0}")]
    Conflict(String),
    /// 404: no such party, or not in the queue.
    #[error("{0}")]
    NotFound(String),
    /// 403: a party ticket that does not list the caller.
    #[error("{0}")]
    Forbidden(String),
    /// 500: Redis failed.
    #[error("queue: {0}")]
    Redis(#[from] RedisError),
    /// 500: MySQL failed.
    #[error("queue: {0}")]
    Mysql(#[from] DbError),
    /// 500: the queue's Redis state or a script's answer is not what the code wrote.
    #[error("queue state: {0}")]
    Corrupt(String),
}

impl QueueError {
    /// A 422 about one request field.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        QueueError::Unprocessable {
            field,
            message: message.into(),
        }
    }
}

impl From<QueueError> for AppError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::Unprocessable { field, message } => AppError::invalid_field(field, message),
            QueueError::Invalid(errors) => AppError::Validation(errors),
            QueueError::Conflict(m) => AppError::Conflict(m),
            QueueError::NotFound(m) => AppError::NotFound(m),
            QueueError::Forbidden(m) => AppError::Forbidden(m),
            QueueError::Redis(e) => AppError::Redis(e),
            QueueError::Mysql(e) => AppError::Db(e),
            other @ QueueError::Corrupt(_) => AppError::internal(other),
        }
    }
}
