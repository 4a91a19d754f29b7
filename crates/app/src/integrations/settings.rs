//! The integration variables a component maps (see `spin.toml`):
//! `integration_key` (secret), `oauth_redirect_base`, and per provider
//! `{provider}_{client_id,client_secret,authorize_url,token_url,api_base_url}`.
//! Endpoint variables default to the real providers' endpoints.

use rh_infra::config;

use super::crypto::TokenCipher;
use super::error::IntegrationError;
use super::provider::{redirect_uri, Provider, ProviderConfig};

/// Default `oauth_redirect_base` (the `./scripts/up` address).
pub const DEFAULT_REDIRECT_BASE: &str = "http://localhost:8080";

/// The token cipher keyed by `integration_key`.
pub fn cipher() -> Result<TokenCipher, IntegrationError> {
    let raw = config::get("integration_key").map_err(rh_infra::error::AppError::from)?;
    Ok(TokenCipher::from_key_text(&raw)?)
}

/// `provider`'s registration and endpoints; [`IntegrationError::NotConfigured`] when
/// its client id or secret is empty.
pub fn provider_config(provider: Provider) -> Result<ProviderConfig, IntegrationError> {
    let name = provider.as_str();
    let var = |suffix: &str, default: &str| config::get_or(&format!("{name}_{suffix}"), default);
    let (authorize, token, api) = provider.default_endpoints();
    let cfg = ProviderConfig {
        provider,
        client_id: var("client_id", ""),
        client_secret: var("client_secret", ""),
        authorize_url: var("authorize_url", authorize),
        token_url: var("token_url", token),
        api_base_url: var("api_base_url", api),
        redirect_uri: redirect_uri(
            &config::get_or("oauth_redirect_base", DEFAULT_REDIRECT_BASE),
            provider,
        ),
    };
    if cfg.client_id.is_empty() || cfg.client_secret.is_empty() {
        return Err(IntegrationError::NotConfigured(name));
    }
    Ok(cfg)
}
