//! The game-server signature headers (`X-RH-Timestamp`, `X-RH-Signature`,
//! `Idempotency-Key`) as anyone may send them. `verify_with_key` must not panic (the
//! target is built with overflow checks), must accept exactly the HMAC of the documented
//! signed string (computed here independently, from docs: `idempotency-key:{key}\n` then
//! `{timestamp}.{METHOD}.{path}.{body}`), and must hold its freshness window.
#![no_main]

use arbitrary::Arbitrary;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use rh_infra::server_sig::{
    sign_with_key, valid_idempotency_key, verify_with_key, MAX_AGE_S, MAX_FUTURE_SKEW_S,
};

#[derive(Arbitrary, Debug)]
struct Input {
    key: Vec<u8>,
    idempotency_key: Option<String>,
    timestamp: String,
    signature: String,
    method: String,
    path: String,
    body: Vec<u8>,
    /// The server's clock: any second from 1970 to 2106.
    now: u32,
    /// A signing time near `now`, for the round trip.
    skew: i16,
    /// Sign the headers as sent (so the MAC matches) instead of trusting `signature`.
    sign_as_sent: bool,
}

/// The documented signed string's HMAC, written from the docs, not from the code.
fn documented_mac(key: &[u8], idem: Option<&str>, ts: &str, method: &str, path: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    if let Some(idem) = idem {
        mac.update(format!("idempotency-key:{idem}\n").as_bytes());
    }
    mac.update(format!("{ts}.{}.{path}.", method.to_ascii_uppercase()).as_bytes());
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fuzz_target!(|i: Input| {
    let now = i64::from(i.now);
    let idem = i.idempotency_key.as_deref();
    let ts = i.timestamp.trim();
    let signature = if i.sign_as_sent {
        documented_mac(&i.key, idem, ts, &i.method, &i.path, &i.body)
    } else {
        i.signature.clone()
    };
    let verdict = verify_with_key(
        &i.key, idem, Some(&i.timestamp), Some(&signature), &i.method, &i.path, &i.body, now,
    );
    if verdict.is_ok() {
        assert_eq!(
            signature.trim().to_ascii_lowercase(),
            documented_mac(&i.key, idem, ts, &i.method, &i.path, &i.body),
            "accepted a signature that is not the documented HMAC"
        );
        let sent: i64 = ts.parse().expect("an accepted timestamp is a number");
        assert!(sent <= now + MAX_FUTURE_SKEW_S, "accepted a timestamp from the future");
        assert!(sent >= now - MAX_AGE_S, "accepted a stale timestamp: {sent} at {now}");
        assert!(idem.is_none_or(valid_idempotency_key));
    }

    // What sign_with_key makes, verify_with_key takes, within the window only.
    let signed_at = now + i64::from(i.skew);
    let sig = sign_with_key(&i.key, idem, signed_at, &i.method, &i.path, &i.body);
    let ok = verify_with_key(
        &i.key, idem, Some(&signed_at.to_string()), Some(&sig), &i.method, &i.path, &i.body, now,
    )
    .is_ok();
    let fresh = signed_at <= now + MAX_FUTURE_SKEW_S && now - signed_at <= MAX_AGE_S;
    assert_eq!(ok, fresh && idem.is_none_or(valid_idempotency_key), "round trip at skew {}", i.skew);
});
