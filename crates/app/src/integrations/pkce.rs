//! PKCE (RFC 7636, method S256), the OAuth `state`, and the little URL encoding the
//! flow needs (percent-encoding of query and form values, decoding of callback
//! parameters).

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// How long a `state` (and its PKCE verifier) may wait for the callback: 10 minutes.
pub const STATE_TTL_MS: i64 = 10 * 60 * 1000;

fn random_b64url(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // A predictable verifier or state would be a security bug: refuse to continue.
    getrandom::fill(&mut buf).expect("the platform random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// A fresh code verifier: 32 random bytes as base64url, 43 characters (RFC 7636 §4.1
/// allows 43 to 128 unreserved characters).
pub fn new_verifier() -> String {
    random_b64url(32)
}

/// A fresh `state`: 32 random bytes as base64url (43 characters).
pub fn new_state() -> String {
    random_b64url(32)
}

/// The S256 challenge of a verifier: `BASE64URL(SHA256(verifier))` without padding.
pub fn challenge_s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so the result is
/// safe both in a query string and in an `application/x-www-form-urlencoded` body.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `k1=v1&k2=v2` with every key and value encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes a query or form value (`+` is a space, `%XX` a byte). Invalid escapes are
/// kept as they are; invalid UTF-8 is replaced.
pub fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The decoded value of query parameter `name` in `query` (no leading `?`).
pub fn query_value(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(n, _)| decode(n) == name)
        .map(|(_, v)| decode(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_and_states_are_43_unreserved_characters_and_differ() {
        let (a, b) = (new_verifier(), new_verifier());
        assert_eq!(a.len(), 43);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
        assert_ne!(new_state(), new_state());
    }

    #[test]
    fn values_are_encoded_and_decoded_symmetrically() {
        let raw = "4/0Ab c+d&e=f~é";
        assert_eq!(encode(raw), "4%2F0Ab%20c%2Bd%26e%3Df~%C3%A9");
        assert_eq!(decode(&encode(raw)), raw);
        assert_eq!(decode("a+b%2"), "a b%2");
        assert_eq!(form(&[("a", "1 2"), ("b", "x/y")]), "a=1%202&b=x%2Fy");
    }

    #[test]
    fn query_values_are_found_and_decoded() {
        let q = "code=4%2F0Ab&state=xyz&error";
        assert_eq!(query_value(q, "code").as_deref(), Some("4/0Ab"));
        assert_eq!(query_value(q, "state").as_deref(), Some("xyz"));
        assert_eq!(query_value(q, "error").as_deref(), Some(""));
        assert_eq!(query_value(q, "nope"), None);
    }
}
