//! Bearer authentication for any route: the token must verify (rh-token: HS256,
//! issuer, audience, expiry, type `access`) and must not be revoked in Redis.
//!
//! Revocation ([`crate::revocation`]) is recorded in MySQL and read from Redis, so
//! every component and the sidecar see it at once and a Redis that lost its data
//! cannot bring a revoked token back:
//! - [`rh_token::revoked_jti_key`]: set by logout until the token's own expiry;
//! - [`rh_token::user_tokens_not_before_key`]: unix seconds; tokens issued before it are
//!   refused (bans, "log out everywhere").
//!
//! Every failure is an [`AppError`] answering 401 with a `WWW-Authenticate` challenge.

use crate::error::AppError;
use crate::http::Req;
use crate::redis::Redis;
use rh_token::{TokenError, TokenKeys, TokenType};

/// The caller, authenticated by an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: u64,
    /// The access token's id (what logout revokes).
    pub jti: String,
    /// The access token's expiry, unix seconds.
    pub exp: i64,
    /// When the access token was issued, unix seconds.
    pub iat: i64,
    /// The refresh-token family the access token was issued with (logout revokes it).
    pub family: Option<String>,
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(req: &Req) -> Result<&str, AppError> {
    let header = req
        .header("authorization")
        .ok_or(AppError::MissingCredentials)?;
    let (scheme, token) = header.trim().split_once(' ').ok_or_else(|| {
        AppError::InvalidToken("the Authorization header must be `Bearer <token>`".into())
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AppError::MissingCredentials);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AppError::MissingCredentials);
    }
    Ok(token)
}

/// Maps a verification failure to a 401 whose message is safe to show.
pub fn token_error(e: TokenError) -> AppError {
    match e {
        TokenError::Expired => AppError::InvalidToken("the token has expired".into()),
        TokenError::WrongType => AppError::InvalidToken("the token is not an access token".into()),
        TokenError::SecretTooShort | TokenError::Signing(_) => AppError::internal(e),
        TokenError::Invalid => AppError::InvalidToken("the token is invalid".into()),
    }
}

/// Verifies the request's Bearer access token at `now_unix` and checks revocation.
pub fn authenticate(
    req: &Req,
    keys: &TokenKeys,
    redis: &Redis,
    now_unix: i64,
) -> Result<AuthUser, AppError> {
    authenticate_reading(req, keys, redis, now_unix, |_| Vec::new()).map(|(user, _)| user)
}

/// [`authenticate`], also reading the Redis keys `extra(user_id)` in the revocation
/// check's round trip ([`crate::revocation::check_reading`]); their values in order.
pub fn authenticate_reading(
    req: &Req,
    keys: &TokenKeys,
    redis: &Redis,
    now_unix: i64,
    extra: impl FnOnce(u64) -> Vec<String>,
) -> Result<(AuthUser, Vec<Option<String>>), AppError> {
    let token = bearer_token(req)?;
    let claims = rh_token::verify(keys, token, TokenType::Access, now_unix).map_err(token_error)?;
    let id = claims.user_id().map_err(token_error)?;
    let (verdict, values) = crate::revocation::check_reading(
        redis,
        &claims.jti,
        id,
        claims.iat,
        now_unix * 1000,
        &extra(id),
    )?;
    if verdict == crate::revocation::Verdict::Revoked {
        return Err(AppError::InvalidToken("the token has been revoked".into()));
    }
    let user = AuthUser {
        id,
        jti: claims.jti,
        exp: claims.exp,
        iat: claims.iat,
        family: claims.fam,
    };
    Ok((user, values))
}

/// [`authenticate`] with the keys from `jwt_secret` and the current time.
pub fn require_user(req: &Req, redis: &Redis) -> Result<AuthUser, AppError> {
    let keys = crate::config::jwt_keys()?;
    authenticate(req, &keys, redis, crate::clock::now_unix())
}

/// [`authenticate_reading`] with the keys from `jwt_secret` and the current time.
pub fn require_user_reading(
    req: &Req,
    redis: &Redis,
    extra: impl FnOnce(u64) -> Vec<String>,
) -> Result<(AuthUser, Vec<Option<String>>), AppError> {
    let keys = crate::config::jwt_keys()?;
    authenticate_reading(req, &keys, redis, crate::clock::now_unix(), extra)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::Method;

    fn req(auth: Option<&str>) -> Req {
        let headers = auth
            .map(|a| vec![("Authorization".to_owned(), a.to_owned())])
            .unwrap_or_default();
        Req::new(Method::Get, "/", headers, Vec::new())
    }

    #[test]
    fn the_bearer_token_is_extracted_case_insensitively() {
        assert_eq!(bearer_token(&req(Some("Bearer abc"))).unwrap(), "abc");
        assert_eq!(bearer_token(&req(Some("bearer  abc "))).unwrap(), "abc");
    }

    #[test]
    fn missing_or_other_schemes_are_missing_credentials() {
        assert!(matches!(
            bearer_token(&req(None)),
            Err(AppError::MissingCredentials)
        ));
        assert!(matches!(
            bearer_token(&req(Some("Basic dXNlcjpwYXNz"))),
            Err(AppError::MissingCredentials)
        ));
        assert!(matches!(
            bearer_token(&req(Some("Bearer"))),
            Err(AppError::InvalidToken(_))
        ));
    }

    #[test]
    fn token_errors_become_401s_except_configuration_ones() {
        assert_eq!(token_error(TokenError::Expired).status(), 401);
        assert_eq!(token_error(TokenError::WrongType).status(), 401);
        assert_eq!(token_error(TokenError::Invalid).status(), 401);
        assert_eq!(token_error(TokenError::SecretTooShort).status(), 500);
    }
}
