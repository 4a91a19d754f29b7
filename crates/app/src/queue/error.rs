//! The queue's error type. Each variant's doc names the status it answers with; it
//! converts into the boundary's [`AppError`], whose single mapping makes the problem.

use rh_infra::error::AppError;

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
    #[error("redis: {0}")]
    Redis(String),
    /// 500: MySQL failed.
    #[error("mysql: {0}")]
    Mysql(String),
    /// 500: creating the match failed (the claimed tickets were put back).
    #[error("match creation: {0}")]
    CreateMatch(String),
}

impl QueueError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            QueueError::Unprocessable { .. } => 422,
            QueueError::Conflict(_) => 409,
            QueueError::NotFound(_) => 404,
            QueueError::Forbidden(_) => 403,
            QueueError::Redis(_) | QueueError::Mysql(_) | QueueError::CreateMatch(_) => 500,
        }
    }
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
            QueueError::Conflict(m) => AppError::Conflict(m),
            QueueError::NotFound(m) => AppError::NotFound(m),
            QueueError::Forbidden(m) => AppError::Forbidden(m),
            other => AppError::internal(other),
        }
    }
}
