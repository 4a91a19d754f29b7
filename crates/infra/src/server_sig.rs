//! Game-server request signatures.
//!
//! Routes that game servers call (create a match, post its result or timeline
//! events, rebuild leaderboards) never accept a player's Bearer token. The
//! server signs each request instead:
//!
//! - `X-RH-Timestamp`: unix seconds when the request was signed;
//! - `X-RH-Signature`: lowercase hex of HMAC-SHA256 over
//!   `"{timestamp}.{METHOD}.{path}.{body}"` keyed with the secret Spin variable
//!   `game_server_key`. `{path}` is the request path without the query string
//!   (`/api/v1/matches/7/result`), `{METHOD}` is upper case, `{body}` the raw bytes;
//! - `Idempotency-Key` (optional): 1 to 255 visible ASCII characters. When sent, it is
//!   signed too: the signed string is `"idempotency-key:{key}\n"` followed by the form
//!   above, so the header can be neither added, removed nor changed in transit. (The
//!   plain form starts with the timestamp's digits, so the two forms never collide.)
//!
//! A signature is refused (401) when it is wrong, older than [`MAX_AGE_S`] or more than
//! [`MAX_FUTURE_SKEW_S`] in the future. A repeated request is not refused: it is the same
//! call, and [`crate::idempotency`] answers it with the original outcome (the key is the
//! `Idempotency-Key`, or the signature itself without one). After the window a replayed
//! signature is stale anyway; a retry with a fresh signature and the same
//! `Idempotency-Key` still gets the original answer for the key's retention.
//!
//! [`verify`] is pure (so it is unit-tested natively); [`check_request`] adds the key
//! from the Spin variable.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header carrying the signing time (unix seconds).
pub const TIMESTAMP_HEADER: &str = "x-rh-timestamp";
/// Header carrying the hex HMAC.
pub const SIGNATURE_HEADER: &str = "x-rh-signature";
/// How long a signature stays valid, in seconds.
pub const MAX_AGE_S: i64 = 300;
/// Clock skew tolerated for timestamps ahead of ours. Small on purpose: a signature
/// dated in the future would otherwise stay valid longer than [`MAX_AGE_S`].
pub const MAX_FUTURE_SKEW_S: i64 = 5;

/// Why a signed request was refused. Every variant answers 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    #[error("missing X-RH-Timestamp or X-RH-Signature header")]
    Missing,
    #[error("malformed X-RH-Timestamp or X-RH-Signature header")]
    Malformed,
    #[error("signature timestamp is older than 300 seconds")]
    Stale,
    #[error("signature timestamp is in the future")]
    Future,
    #[error("signature does not match")]
    Invalid,
    #[error("malformed Idempotency-Key header (1 to 255 visible ASCII characters)")]
    BadIdempotencyKey,
}

/// Header naming the call for safe retries (optional, signed when sent).
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Whether `key` is a usable `Idempotency-Key` (1 to 255 visible ASCII characters).
pub fn valid_idempotency_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

type HmacSha256 = Hmac<Sha256>;

fn mac(
    key: &[u8],
    idempotency_key: Option<&str>,
    timestamp: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    if let Some(idem) = idempotency_key {
        mac.update(b"idempotency-key:");
        mac.update(idem.as_bytes());
        mac.update(b"\n");
    }
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(method.to_ascii_uppercase().as_bytes());
    mac.update(b".");
    mac.update(path.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature a game server sends (lowercase hex). Used by tests and tools.
pub fn sign(key: &[u8], timestamp: i64, method: &str, path: &str, body: &[u8]) -> String {
    sign_with_key(key, None, timestamp, method, path, body)
}

/// The signature of a request that carries `Idempotency-Key: {idempotency_key}`.
pub fn sign_with_key(
    key: &[u8],
    idempotency_key: Option<&str>,
    timestamp: i64,
    method: &str,
    path: &str,
    body: &[u8],
) -> String {
    let ts = timestamp.to_string();
    hex::encode(
        mac(key, idempotency_key, &ts, method, path, body)
            .finalize()
            .into_bytes(),
    )
}

/// Checks headers, freshness and the HMAC (constant-time compare). No replay check.
pub fn verify(
    key: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    method: &str,
    path: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SigError> {
    verify_with_key(
        key, None, timestamp, signature, method, path, body, now_unix,
    )
}

/// [`verify`] for a request that may carry an `Idempotency-Key` (signed with it).
#[allow(clippy::too_many_arguments)]
pub fn verify_with_key(
    key: &[u8],
    idempotency_key: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    method: &str,
    path: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SigError> {
    let (Some(ts_raw), Some(sig_raw)) = (timestamp, signature) else {
        return Err(SigError::Missing);
    };
    if idempotency_key.is_some_and(|k| !valid_idempotency_key(k)) {
        return Err(SigError::BadIdempotencyKey);
    }
    let ts_raw = ts_raw.trim();
    let ts: i64 = ts_raw.parse().map_err(|_| SigError::Malformed)?;
    let sig = hex::decode(sig_raw.trim()).map_err(|_| SigError::Malformed)?;
    // Saturating: the timestamp is the sender's. `now - i64::MIN` wrapped (release builds
    // do not check overflow) to a negative age, so a signature dated i64::MIN never went
    // stale.
    if ts > now_unix.saturating_add(MAX_FUTURE_SKEW_S) {
        return Err(SigError::Future);
    }
    if now_unix.saturating_sub(ts) > MAX_AGE_S {
        return Err(SigError::Stale);
    }
    // The MAC covers the timestamp exactly as sent, so "0100" and "100" differ.
    mac(key, idempotency_key, ts_raw, method, path, body)
        .verify_slice(&sig)
        .map_err(|_| SigError::Invalid)
}

/// A signed request that passed [`check_request`]: what names the call for
/// [`crate::idempotency`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The `Idempotency-Key` header, when sent.
    pub idempotency_key: Option<String>,
    /// The signature (lowercase hex), the call's key when no `Idempotency-Key` was sent.
    pub signature: String,
}

/// [`verify_with_key`] with the `game_server_key` variable and the request's headers.
/// Every refusal is a 401 problem. Repeats are not refused here: see
/// [`crate::idempotency::serve_signed`].
pub fn check_request(req: &crate::http::Req) -> Result<Verified, crate::AppError> {
    let key = crate::config::get("game_server_key")?;
    let refused =
        |e: SigError| crate::AppError::InvalidToken(format!("game-server signature: {e}"));
    let signature = req.header(SIGNATURE_HEADER);
    let idempotency_key = req.header(IDEMPOTENCY_KEY_HEADER).map(str::trim);
    verify_with_key(
        key.as_bytes(),
        idempotency_key,
        req.header(TIMESTAMP_HEADER),
        signature,
        &req.method.to_string(),
        &req.path,
        &req.body,
        crate::clock::now_unix(),
    )
    .map_err(refused)?;
    Ok(Verified {
        idempotency_key: idempotency_key.map(str::to_owned),
        signature: signature.unwrap_or_default().trim().to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_at_the_ends_of_i64_is_stale_or_future_not_an_overflow() {
        let now = 1_700_000_000;
        for (ts, want) in [(i64::MIN, SigError::Stale), (i64::MAX, SigError::Future)] {
            let sig = sign(b"key", ts, "POST", "/api/v1/matches", b"{}");
            assert_eq!(
                verify(
                    b"key",
                    Some(&ts.to_string()),
                    Some(&sig),
                    "POST",
                    "/api/v1/matches",
                    b"{}",
                    now
                ),
                Err(want),
                "timestamp {ts}"
            );
        }
    }

    const KEY: &[u8] = b"test-game-server-key";
    const NOW: i64 = 1_700_000_000;

    fn check(ts: i64, sig: &str, body: &[u8]) -> Result<(), SigError> {
        let ts = ts.to_string();
        verify(
            KEY,
            Some(&ts),
            Some(sig),
            "PUT",
            "/api/v1/matches/1/result",
            body,
            NOW,
        )
    }

    #[test]
    fn a_fresh_correct_signature_is_accepted() {
        let sig = sign(KEY, NOW - 10, "PUT", "/api/v1/matches/1/result", b"{}");
        assert_eq!(check(NOW - 10, &sig, b"{}"), Ok(()));
    }

    #[test]
    fn the_method_is_compared_upper_case() {
        let sig = sign(KEY, NOW, "put", "/api/v1/matches/1/result", b"{}");
        assert_eq!(check(NOW, &sig, b"{}"), Ok(()));
    }

    #[test]
    fn a_changed_body_path_or_key_is_refused() {
        let sig = sign(KEY, NOW, "PUT", "/api/v1/matches/1/result", b"{}");
        assert_eq!(check(NOW, &sig, b"{ }"), Err(SigError::Invalid));
        let other_path = sign(KEY, NOW, "PUT", "/api/v1/matches/2/result", b"{}");
        assert_eq!(check(NOW, &other_path, b"{}"), Err(SigError::Invalid));
        let other_key = sign(
            b"another-key",
            NOW,
            "PUT",
            "/api/v1/matches/1/result",
            b"{}",
        );
        assert_eq!(check(NOW, &other_key, b"{}"), Err(SigError::Invalid));
        let other_method = sign(KEY, NOW, "POST", "/api/v1/matches/1/result", b"{}");
        assert_eq!(check(NOW, &other_method, b"{}"), Err(SigError::Invalid));
    }

    #[test]
    fn the_window_edges_are_exact() {
        let at = |ts: i64| sign(KEY, ts, "PUT", "/api/v1/matches/1/result", b"");
        assert_eq!(check(NOW - 300, &at(NOW - 300), b""), Ok(()));
        assert_eq!(check(NOW - 301, &at(NOW - 301), b""), Err(SigError::Stale));
        assert_eq!(check(NOW + 5, &at(NOW + 5), b""), Ok(()));
        assert_eq!(check(NOW + 6, &at(NOW + 6), b""), Err(SigError::Future));
    }

    #[test]
    fn missing_or_malformed_headers_are_refused() {
        let r = verify(KEY, None, Some("ab"), "PUT", "/", b"", NOW);
        assert_eq!(r, Err(SigError::Missing));
        let r = verify(KEY, Some("soon"), Some("ab"), "PUT", "/", b"", NOW);
        assert_eq!(r, Err(SigError::Malformed));
        let r = verify(KEY, Some("1"), Some("not-hex"), "PUT", "/", b"", NOW);
        assert_eq!(r, Err(SigError::Malformed));
    }

    #[test]
    fn an_idempotency_key_is_signed_and_cannot_be_added_removed_or_changed() {
        let path = "/api/v1/matches";
        let with = sign_with_key(KEY, Some("k-1"), NOW, "POST", path, b"{}");
        let ts = NOW.to_string();
        let check = |idem: Option<&str>, sig: &str| {
            verify_with_key(KEY, idem, Some(&ts), Some(sig), "POST", path, b"{}", NOW)
        };
        assert_eq!(check(Some("k-1"), &with), Ok(()));
        assert_eq!(check(None, &with), Err(SigError::Invalid));
        assert_eq!(check(Some("k-2"), &with), Err(SigError::Invalid));
        let without = sign(KEY, NOW, "POST", path, b"{}");
        assert_eq!(check(Some("k-1"), &without), Err(SigError::Invalid));
        assert_eq!(check(None, &without), Ok(()));
    }

    #[test]
    fn idempotency_keys_are_visible_ascii_of_bounded_length() {
        assert!(valid_idempotency_key("3f2a-uuid_like:1"));
        assert!(!valid_idempotency_key(""));
        assert!(!valid_idempotency_key("has space"));
        assert!(!valid_idempotency_key(&"k".repeat(256)));
        assert!(!valid_idempotency_key("é"));
    }

    #[test]
    fn signatures_are_lowercase_hex_sha256() {
        let sig = sign(KEY, NOW, "GET", "/", b"");
        assert_eq!(sig.len(), 64);
        assert!(sig
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    }
}
