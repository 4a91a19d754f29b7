//! The authorization-code flow with PKCE: [`start`] (authorize) and [`complete`]
//! (callback), plus [`usable_access_token`], which refreshes an expired access token
//! before a provider API call.
//!
//! The callback is reached by the browser coming back from the provider, so it carries
//! no Bearer token: the single-use `state`, bound to the player who asked for it, is
//! what authenticates it.

use rh_infra::db::Db;

use super::client::{call, origin_of, ApiResponse};
use super::crypto::{token_aad, TokenCipher};
use super::error::IntegrationError;
use super::pkce::{self, STATE_TTL_MS};
use super::provider::{
    oauth_error, parse_identity, parse_tokens, ApiRequest, ProviderConfig, TokenSet,
};
use super::store::{self, LinkSummary, NewLink, PendingState, StoredLink};

/// Step 1: remembers a fresh `state` and PKCE verifier for `user_id` and returns the
/// provider URL the browser should open.
pub fn start(
    db: &Db,
    cfg: &ProviderConfig,
    user_id: u64,
    now_ms: i64,
) -> Result<String, IntegrationError> {
    let state = pkce::new_state();
    let verifier = pkce::new_verifier();
    let pending = PendingState {
        user_id,
        provider: cfg.provider.as_str().to_owned(),
        code_verifier: verifier.clone(),
        expires_at_ms: now_ms + STATE_TTL_MS,
    };
    store::insert_state(db, &state, &pending, &cfg.redirect_uri, now_ms)?;
    Ok(cfg.authorize_url(&state, &pkce::challenge_s256(&verifier)))
}

/// The callback's query parameters.
#[derive(Debug, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set when the provider redirects back with an error (`access_denied`...).
    pub error: Option<String>,
}

impl Callback {
    pub fn from_query(query: &str) -> Self {
        Self {
            code: pkce::query_value(query, "code").filter(|s| !s.is_empty()),
            state: pkce::query_value(query, "state").filter(|s| !s.is_empty()),
            error: pkce::query_value(query, "error").filter(|s| !s.is_empty()),
        }
    }
}

/// Step 2: consumes the state, exchanges the code, reads the account and stores the
/// link. Any failure stores nothing (the state is spent either way, as it should be:
/// a `state` is good for one attempt).
pub fn complete(
    db: &Db,
    cipher: &TokenCipher,
    cfg: &ProviderConfig,
    callback: &Callback,
    ip: Option<String>,
    now_ms: i64,
) -> Result<LinkSummary, IntegrationError> {
    let state = callback
        .state
        .as_deref()
        .ok_or(IntegrationError::InvalidState("the callback has no state"))?;
    let pending = store::take_state(db, state)?
        .ok_or(IntegrationError::InvalidState("unknown or already used"))?;
    if pending.expires_at_ms <= now_ms {
        return Err(IntegrationError::InvalidState("expired"));
    }
    if pending.provider != cfg.provider.as_str() {
        return Err(IntegrationError::InvalidState(
            "issued for another provider",
        ));
    }
    if let Some(error) = &callback.error {
        return Err(IntegrationError::BadCallback(format!(
            "{} returned an error: {}",
            cfg.provider.as_str(),
            error.chars().take(100).collect::<String>()
        )));
    }
    let code = callback
        .code
        .as_deref()
        .ok_or_else(|| IntegrationError::BadCallback("the callback has no code".into()))?;

    let tokens = exchange(cfg, &cfg.code_exchange(code, &pending.code_verifier))?;
    let identity = fetch_identity(cfg, &tokens.access_token)?;

    let user_id = pending.user_id;
    let name = cfg.provider.as_str();
    let access_token_enc =
        cipher.encrypt(&tokens.access_token, &token_aad(user_id, name, "access"))?;
    let refresh_token_enc = match &tokens.refresh_token {
        Some(r) => Some(cipher.encrypt(r, &token_aad(user_id, name, "refresh"))?),
        None => None,
    };
    store::save_link(
        db,
        NewLink {
            user_id,
            provider: cfg.provider,
            identity: &identity,
            access_token_enc,
            refresh_token_enc,
            expires_at_ms: tokens.expires_in_s.map(|s| now_ms + s * 1000),
            scopes: &tokens.scopes,
        },
        ip,
        now_ms,
    )
}

fn unavailable(cfg: &ProviderConfig, why: impl Into<String>) -> IntegrationError {
    IntegrationError::ProviderUnavailable {
        provider: cfg.provider.as_str(),
        why: why.into(),
    }
}

/// Sends `req`, mapping no answer or a 5xx to [`IntegrationError::ProviderUnavailable`].
pub fn send(cfg: &ProviderConfig, req: &ApiRequest) -> Result<ApiResponse, IntegrationError> {
    let resp = call(req).map_err(|e| {
        unavailable(
            cfg,
            format!("no response from {}: {e}", origin_of(&req.url)),
        )
    })?;
    if resp.status >= 500 {
        return Err(unavailable(
            cfg,
            format!("{} answered {}", origin_of(&req.url), resp.status),
        ));
    }
    Ok(resp)
}

/// Calls a token endpoint. A 4xx is the provider refusing the grant
/// ([`IntegrationError::CodeRejected`]).
fn exchange(cfg: &ProviderConfig, req: &ApiRequest) -> Result<TokenSet, IntegrationError> {
    let resp = send(cfg, req)?;
    if !resp.is_success() {
        return Err(IntegrationError::CodeRejected {
            provider: cfg.provider.as_str(),
            error: oauth_error(&resp.body).unwrap_or_else(|| format!("HTTP {}", resp.status)),
        });
    }
    parse_tokens(&resp.body).map_err(|why| unavailable(cfg, why))
}

fn fetch_identity(
    cfg: &ProviderConfig,
    access_token: &str,
) -> Result<super::provider::Identity, IntegrationError> {
    let resp = send(cfg, &cfg.identity_request(access_token))?;
    if !resp.is_success() {
        return Err(unavailable(
            cfg,
            format!("the identity call answered {}", resp.status),
        ));
    }
    parse_identity(cfg.provider, &resp.body).map_err(|why| unavailable(cfg, why))
}

/// Renew access tokens this long before they expire, so a call does not race expiry.
const REFRESH_MARGIN_MS: i64 = 60_000;

/// Why a link's token cannot be used.
#[derive(Debug)]
pub enum TokenTrouble {
    /// The provider refused the refresh token (revoked by the player): skip the link.
    Revoked(String),
    /// The provider or our storage failed: the whole refresh of this provider fails.
    Failed(IntegrationError),
}

impl From<IntegrationError> for TokenTrouble {
    fn from(e: IntegrationError) -> Self {
        TokenTrouble::Failed(e)
    }
}

/// The link's access token, refreshed first (and stored re-encrypted) when it has
/// expired or is about to, or when `force` (after a 401).
pub fn usable_access_token(
    db: &Db,
    cipher: &TokenCipher,
    cfg: &ProviderConfig,
    link: &mut StoredLink,
    now_ms: i64,
    force: bool,
) -> Result<String, TokenTrouble> {
    let name = cfg.provider.as_str();
    let expired = link
        .expires_at_ms
        .is_some_and(|at| at <= now_ms + REFRESH_MARGIN_MS);
    if !(expired || force) {
        let access = cipher
            .decrypt(
                &link.access_token_enc,
                &token_aad(link.user_id, name, "access"),
            )
            .map_err(IntegrationError::from)?;
        return Ok(access);
    }
    let Some(refresh_enc) = &link.refresh_token_enc else {
        return Err(TokenTrouble::Revoked("expired and no refresh token".into()));
    };
    let refresh = cipher
        .decrypt(refresh_enc, &token_aad(link.user_id, name, "refresh"))
        .map_err(IntegrationError::from)?;
    let tokens = match exchange(cfg, &cfg.refresh(&refresh)) {
        Ok(t) => t,
        Err(IntegrationError::CodeRejected { error, .. }) => {
            return Err(TokenTrouble::Revoked(error))
        }
        Err(e) => return Err(TokenTrouble::Failed(e)),
    };
    let access_enc = cipher
        .encrypt(
            &tokens.access_token,
            &token_aad(link.user_id, name, "access"),
        )
        .map_err(IntegrationError::from)?;
    // Providers that rotate refresh tokens send a new one; the others keep the old.
    let refresh_enc = match &tokens.refresh_token {
        Some(r) => Some(
            cipher
                .encrypt(r, &token_aad(link.user_id, name, "refresh"))
                .map_err(IntegrationError::from)?,
        ),
        None => link.refresh_token_enc.clone(),
    };
    let expires_at_ms = tokens.expires_in_s.map(|s| now_ms + s * 1000);
    store::update_tokens(
        db,
        link.user_id,
        cfg.provider,
        access_enc.clone(),
        refresh_enc.clone(),
        expires_at_ms,
    )
    .map_err(IntegrationError::from)?;
    link.access_token_enc = access_enc;
    link.refresh_token_enc = refresh_enc;
    link.expires_at_ms = expires_at_ms;
    Ok(tokens.access_token)
}
