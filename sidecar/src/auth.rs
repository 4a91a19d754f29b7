//! Access-token checks: the same rules as the HTTP API (rh-token), plus the revocations the API
//! records (logout: `revoked_jti_key(jti)`; bans: `user_tokens_not_before_key(user)`).
//!
//! The marks are read from Redis, as the API reads them, in one `MGET` that also reads
//! [`rh_token::REVOCATIONS_LOADED_KEY`]. That marker says Redis holds every mark MySQL
//! records; when it is missing (Redis restarted empty, `FLUSHALL`, or the marker's TTL ran
//! out while no API request rebuilt it) a missing mark proves nothing, so the sidecar asks
//! MySQL (read-only account, `RH_SIDECAR_DATABASE_URL`) with the API's own statement. The
//! sidecar never rebuilds Redis: the API does that on its next authenticated request.
//! Without a database configured it trusts Redis alone, as before, and says so at start-up.
//!
//! Sessions depend on the [`Authenticator`] trait so unit tests can use a fake one.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fred::prelude::{Client, KeysInterface};
use mysql_async::prelude::Queryable;
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

/// How long the MySQL fallback may take before the token is refused as unavailable.
const MYSQL_TIMEOUT: Duration = Duration::from_secs(2);

/// The real authenticator: rh-token verification, then the revocation marks (Redis, or
/// MySQL when Redis cannot vouch for them).
pub struct TokenAuth {
    keys: TokenKeys,
    redis: Client,
    db: Option<mysql_async::Pool>,
}

impl TokenAuth {
    /// `db`: the read-only pool for the fallback; `None` trusts Redis alone.
    pub fn new(keys: TokenKeys, redis: Client, db: Option<mysql_async::Pool>) -> Self {
        TokenAuth { keys, redis, db }
    }

    /// The token's marks as MySQL records them: `(revoked, not_before_s)`.
    async fn marks_in_mysql(
        &self,
        pool: &mysql_async::Pool,
        jti: &str,
        user_id: u64,
    ) -> Result<(bool, Option<i64>), AuthError> {
        let now_ms = now_unix_ms();
        let query = async {
            let mut conn = pool.get_conn().await?;
            conn.exec_first::<(i64, Option<i64>), _, _>(
                rh_token::REVOCATION_CHECK_SQL,
                (jti, now_ms, user_id, now_ms),
            )
            .await
        };
        match tokio::time::timeout(MYSQL_TIMEOUT, query).await {
            Ok(Ok(row)) => Ok(row.map_or((false, None), |(n, nbf)| (n > 0, nbf))),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "revocation check in MySQL failed");
                Err(AuthError::Unavailable)
            }
            Err(_) => {
                tracing::warn!("revocation check in MySQL timed out");
                Err(AuthError::Unavailable)
            }
        }
    }
}

fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Whether a token issued at `iat` is refused by its marks.
fn refused(revoked: bool, not_before: Option<i64>, iat: i64) -> bool {
    revoked || not_before.is_some_and(|nb| iat < nb)
}

/// A cut-off as Redis holds it. One that does not parse refuses everything: failing closed.
fn parse_cut_off(raw: &str) -> i64 {
    raw.trim().parse().unwrap_or(i64::MAX)
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

        let keys = vec![
            rh_token::revoked_jti_key(&claims.jti),
            rh_token::user_tokens_not_before_key(user_id),
            rh_token::REVOCATIONS_LOADED_KEY.to_owned(),
        ];
        let marks: Vec<Option<String>> = self.redis.mget(keys).await.map_err(|e| {
            tracing::warn!(error = %e, "revocation check failed");
            AuthError::Unavailable
        })?;
        let mark = |i: usize| marks.get(i).cloned().flatten();
        let not_before = mark(1).map(|raw| parse_cut_off(&raw));
        if refused(mark(0).is_some(), not_before, claims.iat) {
            return Err(AuthError::Revoked);
        }
        if mark(2).is_none() {
            if let Some(pool) = &self.db {
                // Redis cannot vouch for a missing mark: MySQL decides.
                let (revoked, nbf) = self.marks_in_mysql(pool, &claims.jti, user_id).await?;
                if refused(revoked, nbf, claims.iat) {
                    return Err(AuthError::Revoked);
                }
            }
        }
        Ok(Identity {
            user_id,
            valid_for: Duration::from_secs(claims.exp.saturating_sub(now).max(0) as u64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_cut_off, refused};

    #[test]
    fn marks_refuse_revoked_ids_and_tokens_issued_before_the_cut_off() {
        assert!(!refused(false, None, 100));
        assert!(refused(true, None, 100));
        assert!(refused(false, Some(101), 100));
        assert!(
            !refused(false, Some(100), 100),
            "issued at the cut-off second"
        );
        assert_eq!(parse_cut_off(" 101 "), 101);
        assert!(
            refused(false, Some(parse_cut_off("not a number")), 100),
            "fails closed"
        );
    }
}
