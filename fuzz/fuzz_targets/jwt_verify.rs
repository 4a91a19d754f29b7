//! Any string as an access or refresh token. `rh_token::verify` must not panic, and it
//! must accept nothing: the fuzzer cannot sign with our key, so an accepted input would
//! be a way past the signature (alg confusion, `none`, a parser slip).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rh_token::{TokenKeys, TokenType};

const SECRET: &[u8] = b"fuzz-only-jwt-secret-0123456789abcdef-0123456789";
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let keys = TokenKeys::new(SECRET).expect("long enough");
    for typ in [TokenType::Access, TokenType::Refresh] {
        if let Ok(claims) = rh_token::verify(&keys, token, typ, NOW) {
            panic!("accepted a token nobody signed with our key: {claims:?}");
        }
    }
});
