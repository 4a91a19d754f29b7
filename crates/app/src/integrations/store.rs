//! SQL for `oauth_states` and `creator_integrations` (migration V4).
//!
//! Tokens arrive here already encrypted ([`super::crypto`]); nothing in this file sees
//! a plaintext token.

use serde::Serialize;

use rh_infra::audit::Audit;
use rh_infra::db::{Db, DbError, IsDeadlock};
use rh_infra::params;

use super::error::IntegrationError;
use super::provider::{Identity, Provider};

/// The unique key that keeps one provider account on one player.
const ACCOUNT_KEY: &str = "creator_integrations_provider_user_key";

/// A pending authorization.
#[derive(Debug, Clone)]
pub struct PendingState {
    pub user_id: u64,
    pub provider: String,
    pub code_verifier: String,
    pub expires_at_ms: i64,
}

/// Remembers a `state` for 10 minutes, and purges a batch of expired ones (abandoned
/// authorizations) so the table stays small without a cron job.
pub fn insert_state(
    db: &Db,
    state: &str,
    pending: &PendingState,
    redirect_uri: &str,
    now_ms: i64,
) -> Result<(), DbError> {
    // The purge is housekeeping: its range scan takes gap locks on the expiry index, and
    // concurrent authorizations can deadlock on them (error 1213). Losing one purge costs
    // nothing (the next call purges), so its failure must not fail the authorization.
    let _ = db.execute(
        "DELETE FROM oauth_states WHERE expires_at_ms < ? LIMIT 100",
        &params![now_ms],
    );
    let mut attempt = 0;
    loop {
        let inserted = db.execute(
            "INSERT INTO oauth_states (state, user_id, provider, code_verifier, redirect_uri, \
             created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            &params![
                state,
                pending.user_id,
                pending.provider.as_str(),
                pending.code_verifier.as_str(),
                redirect_uri,
                now_ms,
                pending.expires_at_ms
            ],
        );
        match inserted {
            // The server's advice for a deadlock victim is to retry the statement.
            Err(e) if attempt < 2 && e.is_deadlock() => attempt += 1,
            other => return other,
        }
    }
}

/// Consumes a `state`: reads it and deletes it. Only the caller whose DELETE removed
/// the row gets it, so two concurrent callbacks with the same state cannot both pass.
/// Expiry is checked by the caller (the row is gone either way).
pub fn take_state(db: &Db, state: &str) -> Result<Option<PendingState>, DbError> {
    let rows = db.query(
        "SELECT user_id, provider, code_verifier, expires_at_ms FROM oauth_states WHERE state = ?",
        &params![state],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let pending = PendingState {
        user_id: row.get("user_id")?,
        provider: row.get("provider")?,
        code_verifier: row
            .get::<Option<String>>("code_verifier")?
            .unwrap_or_default(),
        expires_at_ms: row.get("expires_at_ms")?,
    };
    db.execute("DELETE FROM oauth_states WHERE state = ?", &params![state])?;
    if db.row_count()? != 1 {
        return Ok(None);
    }
    Ok(Some(pending))
}

/// A link to store.
pub struct NewLink<'a> {
    pub user_id: u64,
    pub provider: Provider,
    pub identity: &'a Identity,
    pub access_token_enc: Vec<u8>,
    pub refresh_token_enc: Option<Vec<u8>>,
    pub expires_at_ms: Option<i64>,
    pub scopes: &'a str,
}

/// Stores a link, replacing the caller's previous link with this provider, and writes
/// the `integration_linked` audit row in the same transaction. Another player's link
/// of the same provider account → [`IntegrationError::AccountTaken`], nothing stored.
pub fn save_link(
    db: &Db,
    link: NewLink<'_>,
    ip: Option<String>,
    now_ms: i64,
) -> Result<LinkSummary, IntegrationError> {
    // A deadlock (concurrent links touching neighbouring index gaps) rolls the whole
    // transaction back; running it again is the documented remedy.
    save_link_once(db, &link, ip, now_ms)
}

fn save_link_once(
    db: &Db,
    link: &NewLink<'_>,
    ip: Option<String>,
    now_ms: i64,
) -> Result<LinkSummary, IntegrationError> {
    let provider = link.provider.as_str();
    let values = params![
        link.identity.provider_user_id.as_str(),
        link.identity.login.as_str(),
        link.identity.display_name.clone(),
        link.access_token_enc.clone(),
        link.refresh_token_enc.clone(),
        link.expires_at_ms,
        link.scopes,
        now_ms,
        link.user_id,
        provider
    ];
    db.transaction_retrying(|db| {
        // Insert, or replace the player's own previous link of this provider. No DELETE
        // first: deleting a missing row takes gap locks that deadlock concurrent links.
        let inserted = db.execute(
            "INSERT INTO creator_integrations (provider_user_id, login, display_name, \
             access_token_enc, refresh_token_enc, expires_at_ms, scopes, linked_at_ms, user_id, provider) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &values,
        );
        let stored = match inserted {
            Err(e) if e.is_duplicate_of("PRIMARY") => db.execute(
                "UPDATE creator_integrations SET provider_user_id = ?, login = ?, display_name = ?, \
                 access_token_enc = ?, refresh_token_enc = ?, expires_at_ms = ?, scopes = ?, \
                 linked_at_ms = ? WHERE user_id = ? AND provider = ?",
                &values,
            ),
            other => other,
        };
        match stored {
            Err(e) if e.is_duplicate_of(ACCOUNT_KEY) => {
                return Err(IntegrationError::AccountTaken(provider))
            }
            other => other?,
        }
        Audit::new("integration_linked")
            .actor(link.user_id)
            .target("integration", provider)
            .ip(ip.clone())
            .after(serde_json::json!({
                "provider": provider,
                "provider_user_id": link.identity.provider_user_id,
                "login": link.identity.login,
            }))
            .record(db, now_ms)?;
        Ok(LinkSummary {
            user_id: link.user_id,
            provider: provider.to_owned(),
            provider_user_id: link.identity.provider_user_id.clone(),
            login: link.identity.login.clone(),
            display_name: link.identity.display_name.clone(),
            scopes: split_scopes(link.scopes),
            linked_at_ms: now_ms,
        })
    })
}

fn split_scopes(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

/// A link as the owner sees it: never a token.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LinkSummary {
    /// The linking player (for the caller's cache invalidation; never shown).
    #[serde(skip)]
    pub user_id: u64,
    pub provider: String,
    pub provider_user_id: String,
    /// Login, channel handle or username on the provider.
    pub login: String,
    pub display_name: Option<String>,
    pub scopes: Vec<String>,
    pub linked_at_ms: i64,
}

/// The caller's links, by provider name.
pub fn list_links(db: &Db, user_id: u64) -> Result<Vec<LinkSummary>, DbError> {
    let rows = db.query(
        "SELECT provider, provider_user_id, login, display_name, scopes, linked_at_ms \
         FROM creator_integrations WHERE user_id = ? ORDER BY provider",
        &params![user_id],
    )?;
    rows.iter()
        .map(|r| {
            Ok(LinkSummary {
                user_id,
                provider: r.get("provider")?,
                provider_user_id: r.get("provider_user_id")?,
                login: r.get("login")?,
                display_name: r.get("display_name")?,
                scopes: split_scopes(&r.get::<String>("scopes")?),
                linked_at_ms: r.get("linked_at_ms")?,
            })
        })
        .collect()
}

/// Deletes the link (and so its tokens) with the `integration_unlinked` audit row.
pub fn delete_link(
    db: &Db,
    user_id: u64,
    provider: Provider,
    ip: Option<String>,
    now_ms: i64,
) -> Result<(), IntegrationError> {
    let name = provider.as_str();
    db.transaction(|db| {
        let login: Option<String> = db.query_scalar(
            "SELECT login FROM creator_integrations WHERE user_id = ? AND provider = ? FOR UPDATE",
            &params![user_id, name],
        )?;
        let Some(login) = login else {
            return Err(IntegrationError::NotLinked(name));
        };
        db.execute(
            "DELETE FROM creator_integrations WHERE user_id = ? AND provider = ?",
            &params![user_id, name],
        )?;
        Audit::new("integration_unlinked")
            .actor(user_id)
            .target("integration", name)
            .ip(ip)
            .before(serde_json::json!({ "provider": name, "login": login }))
            .record(db, now_ms)?;
        Ok(())
    })
}

/// A link with its encrypted tokens and its player, for the streams refresh.
#[derive(Debug, Clone)]
pub struct StoredLink {
    pub user_id: u64,
    pub provider_user_id: String,
    pub login: String,
    pub display_name: Option<String>,
    pub access_token_enc: Vec<u8>,
    pub refresh_token_enc: Option<Vec<u8>>,
    pub expires_at_ms: Option<i64>,
    pub username: String,
    /// The player's best mmr over all modes; `None` before their first ranked match.
    pub mmr: Option<i64>,
}

/// Most links of one provider read per refresh (the host caps result sizes).
pub const MAX_LINKS_PER_REFRESH: u32 = 500;

/// The links of `provider` (the first [`MAX_LINKS_PER_REFRESH`] by player id).
pub fn links_for_provider(db: &Db, provider: Provider) -> Result<Vec<StoredLink>, DbError> {
    let rows = db.query(
        "SELECT ci.user_id, ci.provider_user_id, ci.login, ci.display_name, ci.access_token_enc, \
         ci.refresh_token_enc, ci.expires_at_ms, u.username, \
         (SELECT MAX(s.mmr) FROM user_stats s WHERE s.user_id = ci.user_id) AS mmr \
         FROM creator_integrations ci JOIN users u ON u.id = ci.user_id \
         WHERE ci.provider = ? ORDER BY ci.user_id LIMIT ?",
        &params![provider.as_str(), MAX_LINKS_PER_REFRESH],
    )?;
    rows.iter()
        .map(|r| {
            Ok(StoredLink {
                user_id: r.get("user_id")?,
                provider_user_id: r.get("provider_user_id")?,
                login: r.get("login")?,
                display_name: r.get("display_name")?,
                access_token_enc: r.get("access_token_enc")?,
                refresh_token_enc: r.get("refresh_token_enc")?,
                expires_at_ms: r.get("expires_at_ms")?,
                username: r.get("username")?,
                mmr: r.get("mmr")?,
            })
        })
        .collect()
}

/// Replaces a link's tokens after a refresh.
pub fn update_tokens(
    db: &Db,
    user_id: u64,
    provider: Provider,
    access_token_enc: Vec<u8>,
    refresh_token_enc: Option<Vec<u8>>,
    expires_at_ms: Option<i64>,
) -> Result<(), DbError> {
    db.execute(
        "UPDATE creator_integrations SET access_token_enc = ?, refresh_token_enc = ?, \
         expires_at_ms = ? WHERE user_id = ? AND provider = ?",
        &params![
            access_token_enc,
            refresh_token_enc,
            expires_at_ms,
            user_id,
            provider.as_str()
        ],
    )
}

/// Public profile badges earned through integrations: `discord` for a linked Discord
/// account. For the profile route (`GET /api/v1/users/{id}`).
pub fn badges(db: &Db, user_id: u64) -> Result<Vec<String>, DbError> {
    let rows = db.query(
        "SELECT provider FROM creator_integrations WHERE user_id = ? AND provider = 'discord'",
        &params![user_id],
    )?;
    Ok(if rows.is_empty() {
        Vec::new()
    } else {
        vec!["discord".to_owned()]
    })
}

/// The player's Discord user id, when they linked Discord (webhook mentions).
pub fn discord_user_id(db: &Db, user_id: u64) -> Result<Option<String>, DbError> {
    db.query_scalar(
        "SELECT provider_user_id FROM creator_integrations WHERE user_id = ? AND provider = 'discord'",
        &params![user_id],
    )
}
