//! Typed access to the Spin variables a component maps in `spin.toml`.
//!
//! Values are read per request (a component instance lives for one request). Required
//! variables fail with [`ConfigError`] (a 500, logged); optional ones fall back to the
//! defaults documented in the README, which match `spin.toml`'s `[variables]`.

use rh_token::TokenKeys;
use spin_sdk::variables;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("variable `{0}` is not set")]
    Missing(String),
    #[error("variable `{name}` is invalid: {why}")]
    Invalid { name: String, why: String },
}

/// A required variable.
pub fn get(name: &str) -> Result<String, ConfigError> {
    match variables::get(name) {
        Ok(v) => Ok(v),
        Err(e) => {
            // The message may name a provider; never the value. Logged for operators.
            crate::log_warn!("variable `{name}`: {e}");
            Err(ConfigError::Missing(name.to_owned()))
        }
    }
}

/// An optional variable: its value, or `default` when the component does not map it
/// or it is empty.
pub fn get_or(name: &str, default: &str) -> String {
    match variables::get(name) {
        Ok(v) if !v.trim().is_empty() => v,
        _ => default.to_owned(),
    }
}

/// `db_url`: `mysql://user:password@host:port/database`.
pub fn db_url() -> Result<String, ConfigError> {
    get("db_url")
}

/// `redis_url`: `redis://host:port/db`.
pub fn redis_url() -> Result<String, ConfigError> {
    get("redis_url")
}

/// The JWT keys from the secret `jwt_secret`; refused when shorter than 32 bytes.
pub fn jwt_keys() -> Result<TokenKeys, ConfigError> {
    let secret = get("jwt_secret")?;
    TokenKeys::new(secret.as_bytes()).map_err(|e| ConfigError::Invalid {
        name: "jwt_secret".into(),
        why: e.to_string(),
    })
}

/// Splits a comma-separated list, trimming blanks.
pub fn parse_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `trusted_proxies`: load balancers whose `X-Forwarded-For` entries name the client
/// (default none). Entries that do not parse are logged and skipped.
pub fn trusted_proxies() -> crate::client_addr::TrustedProxies {
    let (trusted, invalid) =
        crate::client_addr::TrustedProxies::parse(&get_or("trusted_proxies", ""));
    if !invalid.is_empty() {
        crate::log_warn!("variable `trusted_proxies`: ignoring invalid entries {invalid:?}");
    }
    trusted
}

/// `allowed_origins`: browser origins allowed by CORS (default `http://localhost:3000`).
pub fn allowed_origins() -> Vec<String> {
    parse_list(&get_or("allowed_origins", "http://localhost:3000"))
}

/// `regions`: the regions a player may pick (default `na,eu,sa,asia,oce`).
pub fn regions() -> Vec<String> {
    parse_list(&get_or("regions", "na,eu,sa,asia,oce"))
        .into_iter()
        .map(|r| r.to_ascii_lowercase())
        .collect()
}

/// `auth_rate_limit_per_minute`: register and login attempts per client address and
/// minute (default 10).
pub fn auth_rate_limit_per_minute() -> Result<u32, ConfigError> {
    let raw = get_or("auth_rate_limit_per_minute", "10");
    match raw.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ConfigError::Invalid {
            name: "auth_rate_limit_per_minute".into(),
            why: format!("`{raw}` is not a positive integer"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_split_on_commas_and_trimmed() {
        assert_eq!(
            parse_list(" http://a:3000 , ,http://b "),
            vec!["http://a:3000", "http://b"]
        );
        assert!(parse_list("").is_empty());
    }
}
