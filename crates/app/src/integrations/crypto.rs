//! Provider tokens at rest: AES-256-GCM (RustCrypto `aes-gcm`).
//!
//! Stored form: `nonce (12 random bytes) || ciphertext || tag (16 bytes)`. A fresh nonce
//! per encryption makes equal tokens encrypt differently. The associated data binds a
//! ciphertext to its row and column (`user_id/provider/access`), so a ciphertext copied
//! into another row or column fails to decrypt instead of yielding someone's token.
//!
//! The key is the secret Spin variable `integration_key`: 32 bytes written either as 64
//! hex characters or as standard base64 (44 characters with padding). Anything else is
//! refused, so a short or mistyped key never silently weakens the encryption.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The key is not 32 bytes of hex or base64. Never includes the key itself.
    #[error("integration_key must be 32 bytes as 64 hex characters or base64 ({0})")]
    BadKey(&'static str),
    /// Wrong key, tampered bytes, or bytes that belong to another row or column.
    #[error("a stored token could not be decrypted")]
    Decrypt,
    #[error("the platform random source failed")]
    Random,
}

/// The AEAD key for provider tokens. `Debug` never prints the key.
#[derive(Clone)]
pub struct TokenCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher(..)")
    }
}

/// Decodes a 32-byte key written as hex (64 characters) or base64.
pub fn parse_key(raw: &str) -> Result<[u8; 32], CryptoError> {
    let raw = raw.trim();
    let bytes = if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(raw).map_err(|_| CryptoError::BadKey("invalid hex"))?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(raw)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(raw))
            .map_err(|_| CryptoError::BadKey("neither 64 hex characters nor base64"))?
    };
    bytes
        .try_into()
        .map_err(|_| CryptoError::BadKey("the decoded key is not 32 bytes"))
}

impl TokenCipher {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// Parses the key text (see [`parse_key`]).
    pub fn from_key_text(raw: &str) -> Result<Self, CryptoError> {
        Ok(Self::new(&parse_key(raw)?))
    }

    /// Encrypts `plaintext` bound to `aad` with a fresh random nonce.
    pub fn encrypt(&self, plaintext: &str, aad: &str) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| CryptoError::Random)?;
        self.encrypt_with_nonce(plaintext, aad, nonce)
    }

    fn encrypt_with_nonce(
        &self,
        plaintext: &str,
        aad: &str,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Vec<u8>, CryptoError> {
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            // Only fails for absurd lengths (> 64 GiB).
            .map_err(|_| CryptoError::Decrypt)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts bytes made by [`TokenCipher::encrypt`] with the same `aad`.
    pub fn decrypt(&self, stored: &[u8], aad: &str) -> Result<String, CryptoError> {
        if stored.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, sealed) = stored.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Decrypt)?;
        let plain = self
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Decrypt)
    }
}

/// The associated data of one token column: `{user_id}/{provider}/{kind}`.
pub fn token_aad(user_id: u64, provider: &str, kind: &str) -> String {
    format!("{user_id}/{provider}/{kind}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn keys_are_accepted_as_hex_or_base64_and_must_be_32_bytes() {
        let from_hex = parse_key(HEX_KEY).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(from_hex);
        assert_eq!(parse_key(&b64).unwrap(), from_hex);
        assert!(parse_key("short").is_err());
        assert!(parse_key(&HEX_KEY[..62]).is_err());
        let b64_16 = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
        assert!(parse_key(&b64_16).is_err());
    }

    #[test]
    fn a_token_round_trips_and_the_ciphertext_hides_it() {
        let c = TokenCipher::from_key_text(HEX_KEY).unwrap();
        let sealed = c.encrypt("secret-access-token", "1/twitch/access").unwrap();
        assert_eq!(sealed.len(), 12 + "secret-access-token".len() + 16);
        assert!(!sealed.windows("secret".len()).any(|w| w == b"secret"));
        assert_eq!(
            c.decrypt(&sealed, "1/twitch/access").unwrap(),
            "secret-access-token"
        );
    }

    #[test]
    fn equal_tokens_encrypt_differently() {
        let c = TokenCipher::from_key_text(HEX_KEY).unwrap();
        assert_ne!(c.encrypt("t", "a").unwrap(), c.encrypt("t", "a").unwrap());
    }

    #[test]
    fn another_row_tampering_or_another_key_fail_to_decrypt() {
        let c = TokenCipher::from_key_text(HEX_KEY).unwrap();
        let sealed = c
            .encrypt_with_nonce("tok", "1/twitch/access", [9; 12])
            .unwrap();
        assert_eq!(
            c.decrypt(&sealed, "2/twitch/access"),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(
            c.decrypt(&sealed, "1/twitch/refresh"),
            Err(CryptoError::Decrypt)
        );
        let mut tampered = sealed.clone();
        tampered[14] ^= 1;
        assert_eq!(
            c.decrypt(&tampered, "1/twitch/access"),
            Err(CryptoError::Decrypt)
        );
        let other = TokenCipher::new(&[1; 32]);
        assert_eq!(
            other.decrypt(&sealed, "1/twitch/access"),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(
            c.decrypt(&sealed[..20], "1/twitch/access"),
            Err(CryptoError::Decrypt)
        );
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let c = TokenCipher::from_key_text(HEX_KEY).unwrap();
        assert_eq!(format!("{c:?}"), "TokenCipher(..)");
    }
}
