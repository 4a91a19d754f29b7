//! The integration flows' errors, and their one mapping to [`AppError`] (and so to a
//! problem+json response). Messages name the provider and the reason, never a token,
//! code or secret.

use rh_infra::db::IsDeadlock;
use rh_infra::error::AppError;

use super::crypto::CryptoError;

#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    /// 404: not one of twitch, youtube, discord.
    #[error("unknown provider `{0}` (expected twitch, youtube or discord)")]
    UnknownProvider(String),
    /// 400: the `state` is missing, unknown, already used, expired, or for another provider.
    #[error("invalid OAuth state: {0}")]
    InvalidState(&'static str),
    /// 400: the callback lacks `code`, or the provider redirected with `error=`.
    #[error("{0}")]
    BadCallback(String),
    /// 400: the provider's token endpoint refused the code (bad or reused code, wrong
    /// PKCE verifier or redirect URI), with the provider's OAuth error code.
    #[error("{provider} refused the authorization code ({error})")]
    CodeRejected {
        provider: &'static str,
        error: String,
    },
    /// 503: no answer, a 5xx, or an unusable answer from the provider.
    #[error("{provider} is unavailable: {why}")]
    ProviderUnavailable { provider: &'static str, why: String },
    /// 404 `integration-not-enabled`: the provider's client id or secret is not
    /// configured. A deployment choice, not an outage: retrying would never help, so it
    /// is no 503.
    #[error("integration not enabled: {0} is not configured on this server")]
    NotConfigured(&'static str),
    /// 409: this provider account is linked to another player.
    #[error("this {0} account is already linked to another player")]
    AccountTaken(&'static str),
    /// 404: the caller has no link with this provider.
    #[error("no {0} account is linked")]
    NotLinked(&'static str),
    /// 500: a key or decryption problem (logged; the client sees a generic detail).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Anything else (storage): passed through.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<rh_infra::db::DbError> for IntegrationError {
    fn from(e: rh_infra::db::DbError) -> Self {
        IntegrationError::App(e.into())
    }
}

impl From<rh_infra::redis::RedisError> for IntegrationError {
    fn from(e: rh_infra::redis::RedisError) -> Self {
        IntegrationError::App(e.into())
    }
}

impl IsDeadlock for IntegrationError {
    fn is_deadlock(&self) -> bool {
        matches!(self, IntegrationError::App(e) if e.is_deadlock())
    }
}

impl From<IntegrationError> for AppError {
    fn from(e: IntegrationError) -> Self {
        use IntegrationError as E;
        match e {
            E::UnknownProvider(_) | E::NotLinked(_) => AppError::NotFound(e.to_string()),
            E::InvalidState(_) | E::BadCallback(_) | E::CodeRejected { .. } => {
                AppError::BadRequest(e.to_string())
            }
            E::ProviderUnavailable { .. } => AppError::Unavailable(e.to_string()),
            E::NotConfigured(_) => AppError::NotFound(e.to_string()),
            E::AccountTaken(_) => AppError::Conflict(e.to_string()),
            E::Crypto(c) => AppError::internal(c),
            E::App(app) => app,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_its_status() {
        let status = |e: IntegrationError| AppError::from(e).status();
        assert_eq!(status(IntegrationError::UnknownProvider("x".into())), 404);
        assert_eq!(status(IntegrationError::InvalidState("expired")), 400);
        assert_eq!(
            status(IntegrationError::CodeRejected {
                provider: "twitch",
                error: "invalid_grant".into()
            }),
            400
        );
        assert_eq!(
            status(IntegrationError::ProviderUnavailable {
                provider: "twitch",
                why: "down".into()
            }),
            503
        );
        assert_eq!(status(IntegrationError::NotConfigured("youtube")), 404);
        assert_eq!(status(IntegrationError::AccountTaken("discord")), 409);
        assert_eq!(status(IntegrationError::NotLinked("discord")), 404);
        assert_eq!(status(IntegrationError::Crypto(CryptoError::Decrypt)), 500);
    }
}
