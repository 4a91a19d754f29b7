//! Reads of what results produce: the public feed (7-day window), a player's
//! notifications, a player's achievements.

use serde::Serialize;
use spin_sdk::mysql::ParameterValue;

use super::effects::{FeedItem, NotificationItem};
use super::MatchError;
use rh_infra::db::Db;

/// Feed events older than this are gone (filtered on read, purged after results).
pub const FEED_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

fn parse_payload(raw: Option<String>) -> serde_json::Value {
    raw.and_then(|p| serde_json::from_str(&p).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// The newest feed events of the last 7 days.
pub fn feed(db: &Db, limit: u32, now_ms: i64) -> Result<Vec<FeedItem>, MatchError> {
    let rows = db.query(
        "SELECT id, kind, user_id, payload, created_at_ms FROM feed_events \
         WHERE created_at_ms >= ? ORDER BY id DESC LIMIT ?",
        &[
            ParameterValue::Int64(now_ms - FEED_WINDOW_MS),
            ParameterValue::Uint32(limit),
        ],
    )?;
    rows.iter()
        .map(|r| {
            Ok(FeedItem {
                id: r.get("id")?,
                kind: r.get("kind")?,
                user_id: r.get("user_id")?,
                data: parse_payload(r.get("payload")?),
                created_at: r.get("created_at_ms")?,
            })
        })
        .collect()
}

/// Deletes a batch of expired feed events (bounded, so it never holds locks long).
pub fn purge_feed(db: &Db, now_ms: i64) -> Result<(), MatchError> {
    db.execute(
        "DELETE FROM feed_events WHERE created_at_ms < ? LIMIT 1000",
        &[ParameterValue::Int64(now_ms - FEED_WINDOW_MS)],
    )?;
    Ok(())
}

/// A page of a player's notifications with their unread count.
#[derive(Debug, Serialize)]
pub struct Inbox {
    pub unread: u64,
    pub notifications: Vec<NotificationItem>,
    pub next_before: Option<u64>,
}

/// `user_id`'s notifications with id below `before`, newest first.
pub fn notifications(
    db: &Db,
    user_id: u64,
    before: Option<u64>,
    limit: u32,
) -> Result<Inbox, MatchError> {
    let unread: i64 = db
        .query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at_ms IS NULL",
            &[ParameterValue::Uint64(user_id)],
        )?
        .unwrap_or(0);
    let rows = db.query(
        "SELECT id, user_id, kind, payload, read_at_ms, created_at_ms FROM notifications \
         WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
        &[
            ParameterValue::Uint64(user_id),
            ParameterValue::Uint64(before.unwrap_or(u64::MAX)),
            ParameterValue::Uint32(limit + 1),
        ],
    )?;
    let mut list = Vec::with_capacity(rows.len());
    for r in rows.iter() {
        list.push(NotificationItem {
            id: r.get("id")?,
            user_id: r.get("user_id")?,
            kind: r.get("kind")?,
            data: parse_payload(r.get("payload")?),
            read: r.get::<Option<i64>>("read_at_ms")?.is_some(),
            created_at: r.get("created_at_ms")?,
        });
    }
    let next_before = if list.len() > limit as usize {
        list.truncate(limit as usize);
        list.last().map(|n| n.id)
    } else {
        None
    };
    Ok(Inbox {
        unread: unread.max(0) as u64,
        notifications: list,
        next_before,
    })
}

/// Marks one of `user_id`'s notifications read. Another player's notification (or a
/// missing one) is `NotFound`: the answer must not reveal that the id exists.
pub fn mark_read(db: &Db, user_id: u64, id: u64, now_ms: i64) -> Result<(), MatchError> {
    let owned = db.query(
        "SELECT id FROM notifications WHERE id = ? AND user_id = ?",
        &[ParameterValue::Uint64(id), ParameterValue::Uint64(user_id)],
    )?;
    if owned.is_empty() {
        return Err(MatchError::NotFound);
    }
    db.execute(
        "UPDATE notifications SET read_at_ms = COALESCE(read_at_ms, ?) WHERE id = ? AND user_id = ?",
        &[
            ParameterValue::Int64(now_ms),
            ParameterValue::Uint64(id),
            ParameterValue::Uint64(user_id),
        ],
    )?;
    Ok(())
}

/// One unlocked achievement.
#[derive(Debug, Serialize)]
pub struct UnlockedAchievement {
    pub code: String,
    pub name: String,
    pub description: String,
    pub unlocked_at: i64,
    pub match_id: Option<u64>,
}

/// A player's unlocked achievements, oldest first; `NotFound` for an unknown user.
pub fn achievements(db: &Db, user_id: u64) -> Result<Vec<UnlockedAchievement>, MatchError> {
    let exists = db.query(
        "SELECT id FROM users WHERE id = ?",
        &[ParameterValue::Uint64(user_id)],
    )?;
    if exists.is_empty() {
        return Err(MatchError::NotFound);
    }
    let rows = db.query(
        "SELECT ua.code, a.name, a.description, ua.unlocked_at_ms, ua.match_id \
         FROM user_achievements ua JOIN achievements a ON a.code = ua.code \
         WHERE ua.user_id = ? ORDER BY ua.unlocked_at_ms, ua.code",
        &[ParameterValue::Uint64(user_id)],
    )?;
    rows.iter()
        .map(|r| {
            Ok(UnlockedAchievement {
                code: r.get("code")?,
                name: r.get("name")?,
                description: r.get("description")?,
                unlocked_at: r.get("unlocked_at_ms")?,
                match_id: r.get("match_id")?,
            })
        })
        .collect()
}
