//! Random identifiers (token ids, refresh-token families, rate-limit members).
//!
//! 128 bits from the platform's CSPRNG (`wasi:random` inside a component) as 32 lowercase
//! hex characters: unguessable, and short enough for the VARCHAR(64) key columns.

/// A fresh 128-bit random id as lowercase hex.
pub fn random_id() -> String {
    hex::encode(random_bytes::<16>())
}

/// `N` bytes from the platform's CSPRNG (salts, ids).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The WASI random source does not fail in practice; if it ever did, a predictable
    // value would be a security bug, so refuse to continue.
    getrandom::fill(&mut bytes).expect("the platform random source failed");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_hex_chars_and_differ() {
        let (a, b) = (random_id(), random_id());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
