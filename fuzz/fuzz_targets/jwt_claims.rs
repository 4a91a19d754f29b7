//! Tokens that carry a valid HS256 signature over an arbitrary header and payload: what
//! a holder of the key could send, and how far the claims parser can be pushed once the
//! signature checks. `verify` must not panic; whatever it accepts must satisfy every rule
//! it promises (HS256 only, our issuer and audience, unexpired, the asked type, a numeric
//! `sub`), and must survive re-encoding unchanged.
#![no_main]

use arbitrary::Arbitrary;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use rh_token::{TokenKeys, TokenType};
use sha2::Sha256;

const SECRET: &[u8] = b"fuzz-only-jwt-secret-0123456789abcdef-0123456789";
const NOW: i64 = 1_700_000_000;

/// Headers a forger would try; only the first may ever verify.
const HEADERS: [&str; 5] = [
    r#"{"alg":"HS256","typ":"JWT"}"#,
    r#"{"alg":"none","typ":"JWT"}"#,
    r#"{"alg":"HS384","typ":"JWT"}"#,
    r#"{"alg":"HS512"}"#,
    r#"{"alg":"RS256","typ":"JWT"}"#,
];

#[derive(Arbitrary, Debug)]
struct Input {
    header: u8,
    /// Used instead of a canned header when `header` selects it.
    raw_header: Vec<u8>,
    payload: Vec<u8>,
    refresh: bool,
}

fuzz_target!(|input: Input| {
    let keys = TokenKeys::new(SECRET).expect("long enough");
    let pick = usize::from(input.header) % (HEADERS.len() + 1);
    let header = HEADERS.get(pick).map_or(&input.raw_header[..], |h| h.as_bytes());
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(&input.payload)
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("any key length");
    mac.update(signing_input.as_bytes());
    let token = format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    );
    let typ = if input.refresh {
        TokenType::Refresh
    } else {
        TokenType::Access
    };
    let Ok(claims) = rh_token::verify(&keys, &token, typ, NOW) else {
        return;
    };
    if pick != 0 {
        let header: serde_json::Value = serde_json::from_slice(header).expect("it verified");
        assert_eq!(header["alg"], "HS256", "accepted another algorithm");
    }
    assert_eq!(claims.iss, rh_token::ISSUER);
    assert_eq!(claims.aud, rh_token::AUDIENCE);
    assert!(claims.exp > NOW, "accepted an expired token");
    assert_eq!(claims.typ, typ);
    assert!(claims.user_id().is_ok(), "accepted a non-numeric sub");
    let again = rh_token::encode_claims(&keys, &claims).expect("claims encode");
    assert_eq!(rh_token::verify(&keys, &again, typ, NOW).ok(), Some(claims));
});
