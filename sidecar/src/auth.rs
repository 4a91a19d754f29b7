//! Access-token checks: the same rules as the HTTP API (rh-token), plus the revocations the API
//! records in Redis (logout: `revoked_jti_key(jti)`; bans: `user_tokens_not_before_key(user)`).
//!
//! Sessions depend on the [`Authenticator`] trait so unit tests can use a fake one.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fred::prelude::{Client, KeysInterface};
use rh_token::{TokenError, TokenKeys, TokenType};

/// Who a connection belongs to, and for how long its token stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub user_id: u64,
    pub valid_for: Duration,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("invalid token")]
    Invalid,
    #[error("token expired")]
    Expired,
    #[error("not an access token")]
    WrongType,
    #[error("token revoked")]
    Revoked,
    /// Revocation could not be checked (Redis unreachable): refused, never assumed valid.
    #[error("authentication is temporarily unavailable")]
    Unavailable,
}

impl AuthError {
    /// The stable `code` of the error message sent to the client.
    pub fn code(self) -> &'static str {
        match self {
            AuthError::Invalid => "invalid_token",
            AuthError::Expired => "token_expired",
            AuthError::WrongType => "wrong_token_type",
            AuthError::Revoked => "token_revoked",
            AuthError::Unavailable => "unavailable",
        }
    }
}

pub trait Authenticator: Send + Sync + 'static {
    fn authenticate(&self, token: &str)
        -> impl Future<Output = Result<Identity, AuthError>> + Send;
}

/// The real authenticator: rh-token verification, then the Redis revocation keys.
pub struct TokenAuth {
    keys: TokenKeys,
    redis: Client,
}

impl TokenAuth {
    pub fn new(keys: TokenKeys, redis: Client) -> Self {
        TokenAuth { keys, redis }
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Authenticator for TokenAuth {
    async fn authenticate(&self, token: &str) -> Result<Identity, AuthError> {
        let now = now_unix();
        let claims =
            rh_token::verify(&self.keys, token, TokenType::Access, now).map_err(|e| match e {
                TokenError::Expired => AuthError::Expired,
                TokenError::WrongType => AuthError::WrongType,
                _ => AuthError::Invalid,
            })?;
        let user_id: u64 = claims.sub.parse().map_err(|_| AuthError::Invalid)?;

        let revoked_key = rh_token::revoked_jti_key(&claims.jti);
        let not_before_key = rh_token::user_tokens_not_before_key(user_id);
        let (revoked, not_before) = tokio::join!(
            self.redis.exists::<u64, _>(revoked_key),
            self.redis.get::<Option<String>, _>(not_before_key),
        );
        let revoked = revoked.map_err(|e| {
            tracing::warn!(error = %e, "revocation check failed");
            AuthError::Unavailable
        })?;
        let not_before = not_before.map_err(|e| {
            tracing::warn!(error = %e, "not-before check failed");
            AuthError::Unavailable
        })?;
        if revoked > 0 {
            return Err(AuthError::Revoked);
        }
        // A value that does not parse is treated as "revoke everything": failing closed.
        if let Some(nb) = not_before {
            if nb.trim().parse::<i64>().map_or(true, |nb| claims.iat < nb) {
                return Err(AuthError::Revoked);
            }
        }
        Ok(Identity {
            user_id,
            valid_for: Duration::from_secs(claims.exp.saturating_sub(now).max(0) as u64),
        })
    }
}
