//! `GET /api/v1/users/me/activity`: the caller's own audit trail (the original
//! design's `user_activity_logs`): logins, failed logins, logouts and token
//! revocations, integration links, team changes... every `audit_log` row where the
//! caller is the actor or the target (`target_type = 'user'`), newest first.
//!
//! Paged by id (`id < cursor`): each half of the UNION walks its own index
//! (`audit_log_actor_idx`, `audit_log_target_idx`) newest first and stops at the page
//! size, so a page costs the same however long the trail is.

use serde::Serialize;

use rh_infra::db::Db;
use rh_infra::error::AppError;
use rh_infra::params;

/// One entry of the trail. `before`/`after` snapshots are left out: they are for the
/// admins' audit view and may describe other players.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityEntry {
    pub id: u64,
    pub action: String,
    pub actor_id: Option<u64>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub reason: Option<String>,
    pub created_at: i64,
}

/// A page of the trail; `next_cursor` is set when there may be more.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityPage {
    pub items: Vec<ActivityEntry>,
    pub next_cursor: Option<String>,
}

/// `user_id`'s entries with id below `cursor` (all when `None`), at most `limit`.
pub fn page(
    db: &Db,
    user_id: u64,
    cursor: Option<u64>,
    limit: u64,
) -> Result<ActivityPage, AppError> {
    let below = cursor.unwrap_or(u64::MAX);
    let cols = "id, action, actor_id, target_type, target_id, ip, reason, created_at_ms";
    let sql = format!(
        "(SELECT {cols} FROM audit_log WHERE actor_id = ? AND id < ? ORDER BY id DESC LIMIT ?) \
         UNION \
         (SELECT {cols} FROM audit_log WHERE target_type = 'user' AND target_id = ? AND id < ? \
         ORDER BY id DESC LIMIT ?) \
         ORDER BY id DESC LIMIT ?"
    );
    let rows = db.query(
        &sql,
        &params![
            user_id,
            below,
            limit,
            user_id.to_string(),
            below,
            limit,
            limit
        ],
    )?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows.iter() {
        items.push(ActivityEntry {
            id: r.get("id")?,
            action: r.get("action")?,
            actor_id: r.get("actor_id")?,
            target_type: r.get("target_type")?,
            target_id: r.get("target_id")?,
            ip: r.get("ip")?,
            reason: r.get("reason")?,
            created_at: r.get("created_at_ms")?,
        });
    }
    let next_cursor = if items.len() as u64 == limit {
        items.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(ActivityPage { items, next_cursor })
}
