//! Password hashing: Argon2id with OWASP's minimum parameters (m = 19 MiB, t = 2, p = 1).
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), so verification
//! reads the parameters from the stored hash and old hashes keep working if these change.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rh_infra::AppError;

/// Memory cost in KiB (19 MiB).
pub const M_COST_KIB: u32 = 19_456;
/// Iterations.
pub const T_COST: u32 = 2;
/// Lanes.
pub const P_COST: u32 = 1;

fn hasher() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).map_err(AppError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` with a fresh 16-byte random salt.
pub fn hash(password: &str) -> Result<String, AppError> {
    let salt =
        SaltString::encode_b64(&rh_infra::ids::random_bytes::<16>()).map_err(AppError::internal)?;
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

/// Whether `password` matches the stored PHC `hash`.
pub fn verify(password: &str, hash: &str) -> Result<bool, AppError> {
    let parsed = PasswordHash::new(hash).map_err(AppError::internal)?;
    Ok(hasher()?
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// Spends the same work as [`verify`] for an email that has no account, so a login's
/// timing does not reveal whether the email is registered.
pub fn waste_equal_time(password: &str) {
    let _ = hash(password);
}
