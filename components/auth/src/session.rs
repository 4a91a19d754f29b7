//! Issuing a token pair: an access token and a refresh token of one family, with the
//! refresh token recorded in `refresh_tokens` (rotation and reuse detection need it).

use rh_infra::db::Db;
use rh_infra::params;
use rh_infra::AppError;
use rh_token::{TokenKeys, TokenType};
use serde::Serialize;

/// The token half of the register/login/refresh response.
#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Access-token lifetime in seconds.
    pub expires_in: i64,
}

/// Issues a pair for `user_id` in refresh family `family` and records the refresh token.
/// Runs on `db`, so inside the caller's transaction when there is one.
pub fn issue_pair(
    db: &Db,
    keys: &TokenKeys,
    user_id: u64,
    family: &str,
    now_ms: i64,
) -> Result<TokenPair, AppError> {
    let now = now_ms / 1000;
    let access_jti = rh_infra::ids::random_id();
    let refresh_jti = rh_infra::ids::random_id();
    // The access token carries the family too, so logout can revoke it.
    let access = rh_token::issue(
        keys,
        TokenType::Access,
        user_id,
        now,
        access_jti,
        Some(family.to_owned()),
    )
    .map_err(AppError::internal)?;
    let refresh = rh_token::issue(
        keys,
        TokenType::Refresh,
        user_id,
        now,
        refresh_jti.clone(),
        Some(family.to_owned()),
    )
    .map_err(AppError::internal)?;
    db.execute(
        "INSERT INTO refresh_tokens (jti, family_id, user_id, expires_at_ms, created_at_ms) \
         VALUES (?, ?, ?, ?, ?)",
        &params![
            refresh_jti,
            family,
            user_id,
            (now + TokenType::Refresh.ttl_secs()) * 1000,
            now_ms
        ],
    )?;
    Ok(TokenPair {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: TokenType::Access.ttl_secs(),
    })
}

/// Revokes every live refresh token of `family` (logout, reuse detection).
pub fn revoke_family(db: &Db, family: &str, now_ms: i64) -> Result<(), AppError> {
    db.execute(
        "UPDATE refresh_tokens SET revoked_at_ms = ? WHERE family_id = ? AND revoked_at_ms IS NULL",
        &params![now_ms, family],
    )?;
    Ok(())
}
