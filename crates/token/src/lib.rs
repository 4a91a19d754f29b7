//! Issue and verify RankedHonor's JWT access and refresh tokens.
//!
//! Pure code (no I/O, no clock): the caller passes "now" in, so the Spin components and the
//! native WebSocket sidecar share exactly the same rules, and tests can mint expired tokens.
//!
//! Rules, all enforced by [`verify`]:
//! - HS256 only. The accepted algorithm list is pinned, so a header saying `none`, `HS384`,
//!   `HS512` or any asymmetric algorithm is refused before the signature is even looked at.
//! - Issuer [`ISSUER`] and audience [`AUDIENCE`] must match.
//! - `exp` is checked against the caller's clock with no leeway.
//! - The `typ` claim must be the expected [`TokenType`], so a refresh token is never accepted
//!   where an access token is expected (and the other way round).
//! - The secret must be at least 32 bytes (256 bits, the HS256 key size); [`TokenKeys::new`]
//!   refuses shorter ones so a start-up with a weak secret fails loudly.
//!
//! # Layout
//! - [`TokenKeys`]: the HMAC secret, checked for length.
//! - [`Claims`] / [`TokenType`]: the payload.
//! - [`issue`] / [`verify`]: sign and check.
//! - [`revoked_jti_key`] / [`user_tokens_not_before_key`]: the Redis key names every verifier
//!   must consult (revocation lives in Redis so all components and the sidecar see it).

use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// `iss` claim of every token we issue.
pub const ISSUER: &str = "rankedhonor";
/// `aud` claim of every token we issue.
pub const AUDIENCE: &str = "rankedhonor-api";
/// Lifetime of an access token: 15 minutes.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Lifetime of a refresh token: 7 days.
pub const REFRESH_TTL_SECS: i64 = 7 * 24 * 60 * 60;
/// Shortest secret accepted: 256 bits, HS256's key size (RFC 7518 §3.2).
pub const MIN_SECRET_LEN: usize = 32;

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// Short-lived bearer token for API calls.
    Access,
    /// Long-lived token that may only be exchanged for a new pair at `/auth/refresh`.
    Refresh,
}

impl TokenType {
    /// Seconds from issue to expiry.
    pub fn ttl_secs(self) -> i64 {
        match self {
            TokenType::Access => ACCESS_TTL_SECS,
            TokenType::Refresh => REFRESH_TTL_SECS,
        }
    }
}

/// Why a token could not be issued or was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token secret must be at least {MIN_SECRET_LEN} bytes")]
    SecretTooShort,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not of the expected type")]
    WrongType,
    #[error("the token is invalid")]
    Invalid,
    #[error("could not sign the token: {0}")]
    Signing(String),
}

/// The HMAC secret, as encoding and decoding keys.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for TokenKeys {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    /// Keys from the raw secret; refuses secrets shorter than [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &[u8]) -> Result<Self, TokenError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(TokenError::SecretTooShort);
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        })
    }
}

/// The payload of every token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a decimal string (JWT's `sub` is a string).
    pub sub: String,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Unique token id, used for revocation.
    pub jti: String,
    pub iss: String,
    pub aud: String,
    pub typ: TokenType,
    /// Refresh-token family (RFC 9700 rotation); set on refresh tokens only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
}

impl Claims {
    /// The numeric user id in `sub`.
    pub fn user_id(&self) -> Result<u64, TokenError> {
        self.sub.parse().map_err(|_| TokenError::Invalid)
    }
}

/// Signs a new token of type `typ` for `user_id`, valid from `now_unix` for the type's lifetime.
pub fn issue(
    keys: &TokenKeys,
    typ: TokenType,
    user_id: u64,
    now_unix: i64,
    jti: String,
    family: Option<String>,
) -> Result<String, TokenError> {
    let claims = Claims {
        sub: user_id.to_string(),
        exp: now_unix + typ.ttl_secs(),
        iat: now_unix,
        jti,
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        typ,
        fam: family,
    };
    encode_claims(keys, &claims)
}

/// Signs arbitrary claims with HS256. Exposed for tests that need unusual tokens (expired,
/// wrong issuer); production code uses [`issue`].
pub fn encode_claims(keys: &TokenKeys, claims: &Claims) -> Result<String, TokenError> {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &keys.encoding)
        .map_err(|e| TokenError::Signing(e.to_string()))
}

/// Checks signature, algorithm, issuer, audience, expiry (against `now_unix`) and type.
pub fn verify(
    keys: &TokenKeys,
    token: &str,
    expected: TokenType,
    now_unix: i64,
) -> Result<Claims, TokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    // Expiry is checked below against the caller's clock, without leeway: the library would
    // read the system clock and allow 60 s of slack.
    validation.validate_exp = false;

    let data =
        jsonwebtoken::decode::<Claims>(token, &keys.decoding, &validation).map_err(|e| match e
            .kind()
        {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })?;
    let claims = data.claims;
    if claims.exp <= now_unix {
        return Err(TokenError::Expired);
    }
    if claims.typ != expected {
        return Err(TokenError::WrongType);
    }
    claims.user_id()?;
    Ok(claims)
}

/// Redis key set on logout; present while the access token `jti` would still be valid.
pub fn revoked_jti_key(jti: &str) -> String {
    format!("auth:revoked:{jti}")
}

/// Redis key holding unix seconds; tokens of `user_id` issued before that are refused (bans,
/// "log out everywhere").
pub fn user_tokens_not_before_key(user_id: u64) -> String {
    format!("auth:nbf:{user_id}")
}

/// Redis key present while Redis holds every revocation mark that MySQL records (set by a
/// rebuild, with a TTL). Without it, a reader must not trust a missing mark: Redis may
/// have restarted empty. The API's readers and the sidecar both check it.
pub const REVOCATIONS_LOADED_KEY: &str = "auth:revocations:loaded";

/// The SQL that decides a token's marks when Redis cannot vouch for them (parameters:
/// `jti`, now in ms, user id, now in ms; columns `revoked` (count) and `not_before`
/// (unix seconds or NULL)). One statement, two primary-key look-ups, shared by the API
/// and the sidecar so both read the same tables the same way.
pub const REVOCATION_CHECK_SQL: &str =
    "SELECT (SELECT COUNT(*) FROM revoked_access_tokens WHERE jti = ? AND expires_at_ms > ?) \
     AS revoked, \
     (SELECT not_before_s FROM user_token_cutoffs WHERE user_id = ? AND expires_at_ms > ?) \
     AS not_before";

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::{Hmac, Mac};

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_800_000_000;

    fn keys() -> TokenKeys {
        TokenKeys::new(SECRET).unwrap()
    }

    fn access() -> String {
        issue(&keys(), TokenType::Access, 42, NOW, "j1".into(), None).unwrap()
    }

    /// Builds a token by hand with any header and an HMAC of the given hash function.
    fn hand_made<M: Mac + hmac::digest::KeyInit>(alg: &str, claims: &Claims) -> String {
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
        let input = format!("{header}.{payload}");
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(SECRET).unwrap();
        mac.update(input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{input}.{sig}")
    }

    fn claims_now() -> Claims {
        verify(&keys(), &access(), TokenType::Access, NOW).unwrap()
    }

    #[test]
    fn an_issued_token_verifies_and_round_trips_its_claims() {
        let token = issue(
            &keys(),
            TokenType::Refresh,
            7,
            NOW,
            "j2".into(),
            Some("fam".into()),
        )
        .unwrap();
        let claims = verify(&keys(), &token, TokenType::Refresh, NOW + 10).unwrap();
        assert_eq!(claims.sub, "7");
        assert_eq!(claims.user_id(), Ok(7));
        assert_eq!(claims.jti, "j2");
        assert_eq!(claims.fam.as_deref(), Some("fam"));
        assert_eq!(claims.iat, NOW);
        assert_eq!(claims.exp, NOW + REFRESH_TTL_SECS);
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.aud, AUDIENCE);
    }

    #[test]
    fn an_access_token_lasts_fifteen_minutes() {
        let claims = claims_now();
        assert_eq!(claims.exp - claims.iat, 900);
        assert!(verify(&keys(), &access(), TokenType::Access, NOW + 899).is_ok());
        assert_eq!(
            verify(&keys(), &access(), TokenType::Access, NOW + 900),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn an_expired_token_is_refused() {
        let token = issue(&keys(), TokenType::Access, 1, NOW - 3600, "j".into(), None).unwrap();
        assert_eq!(
            verify(&keys(), &token, TokenType::Access, NOW),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_tampered_signature_is_refused() {
        let token = access();
        let (rest, sig) = token.rsplit_once('.').unwrap();
        let mut sig: Vec<u8> = sig.bytes().collect();
        sig[3] = if sig[3] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{rest}.{}", String::from_utf8(sig).unwrap());
        assert_eq!(
            verify(&keys(), &tampered, TokenType::Access, NOW),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let token = access();
        let mut parts: Vec<&str> = token.split('.').collect();
        let mut claims = claims_now();
        claims.sub = "1".into();
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        parts[1] = &forged;
        assert_eq!(
            verify(&keys(), &parts.join("."), TokenType::Access, NOW),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = TokenKeys::new(b"another-secret-that-is-long-enough!!").unwrap();
        let token = issue(&other, TokenType::Access, 1, NOW, "j".into(), None).unwrap();
        assert_eq!(
            verify(&keys(), &token, TokenType::Access, NOW),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_refresh_token_is_not_an_access_token_and_vice_versa() {
        let refresh = issue(
            &keys(),
            TokenType::Refresh,
            1,
            NOW,
            "j".into(),
            Some("f".into()),
        )
        .unwrap();
        assert_eq!(
            verify(&keys(), &refresh, TokenType::Access, NOW),
            Err(TokenError::WrongType)
        );
        assert_eq!(
            verify(&keys(), &access(), TokenType::Refresh, NOW),
            Err(TokenError::WrongType)
        );
    }

    #[test]
    fn the_none_algorithm_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims_now()).unwrap());
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            assert_eq!(
                verify(&keys(), &token, TokenType::Access, NOW),
                Err(TokenError::Invalid)
            );
        }
    }

    #[test]
    fn other_hmac_algorithms_are_refused_even_with_the_right_secret() {
        let claims = claims_now();
        let hs384 = hand_made::<Hmac<sha2::Sha384>>("HS384", &claims);
        let hs512 = hand_made::<Hmac<sha2::Sha512>>("HS512", &claims);
        for token in [hs384, hs512] {
            assert_eq!(
                verify(&keys(), &token, TokenType::Access, NOW),
                Err(TokenError::Invalid)
            );
        }
        // The same hand-made construction with HS256 passes, so the refusals above are about
        // the algorithm and not about the helper.
        let hs256 = hand_made::<Hmac<sha2::Sha256>>("HS256", &claims);
        assert!(verify(&keys(), &hs256, TokenType::Access, NOW).is_ok());
    }

    #[test]
    fn an_asymmetric_algorithm_header_is_refused() {
        let claims = claims_now();
        let rs256 = hand_made::<Hmac<sha2::Sha256>>("RS256", &claims);
        assert_eq!(
            verify(&keys(), &rs256, TokenType::Access, NOW),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_wrong_issuer_or_audience_is_refused() {
        let mut wrong_iss = claims_now();
        wrong_iss.iss = "someone-else".into();
        let mut wrong_aud = claims_now();
        wrong_aud.aud = "another-api".into();
        for claims in [wrong_iss, wrong_aud] {
            let token = encode_claims(&keys(), &claims).unwrap();
            assert_eq!(
                verify(&keys(), &token, TokenType::Access, NOW),
                Err(TokenError::Invalid)
            );
        }
    }

    #[test]
    fn a_non_numeric_subject_is_refused() {
        let mut claims = claims_now();
        claims.sub = "admin".into();
        let token = encode_claims(&keys(), &claims).unwrap();
        assert_eq!(
            verify(&keys(), &token, TokenType::Access, NOW),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn garbage_is_refused() {
        for token in ["", "a.b.c", "not-a-jwt", "...."] {
            assert_eq!(
                verify(&keys(), token, TokenType::Access, NOW),
                Err(TokenError::Invalid)
            );
        }
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert_eq!(
            TokenKeys::new(&SECRET[..31]).unwrap_err(),
            TokenError::SecretTooShort
        );
        assert!(TokenKeys::new(&[0u8; 32]).is_ok());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        assert_eq!(format!("{:?}", keys()), "TokenKeys(..)");
    }

    #[test]
    fn redis_keys_are_namespaced() {
        assert_eq!(revoked_jti_key("abc"), "auth:revoked:abc");
        assert_eq!(user_tokens_not_before_key(9), "auth:nbf:9");
    }
}
