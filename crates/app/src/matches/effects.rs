//! What a result does beside ratings: inside the transaction, feed events,
//! notifications and achievement unlocks; after commit, the leaderboards and the
//! Redis events (shapes in `docs/events.md`).

use serde::Serialize;
use serde_json::{json, Value};
use spin_sdk::mysql::ParameterValue;

use rh_infra::db::Db;
use rh_infra::redis::Redis;

use rh_domain::achievements::{newly_unlocked, Progress};
use rh_domain::events::{
    FeedData, FeedEvent, MatchEvent, MatchStatus, RankedChange, RankingEvent, UserEvent,
};
use rh_domain::stats::{Outcome, PlayerStats};
use rh_domain::tiers::Tier;

use super::{outcome_str, MatchError};
use crate::leaderboard::{self, Standing};
use rh_infra::events;

/// One player's change, carried from the transaction to the after-commit step.
#[derive(Debug, Clone)]
pub struct PlayerChange {
    pub user_id: u64,
    pub username: String,
    pub region: String,
    pub team: usize,
    pub outcome: Outcome,
    pub mmr_before: i32,
    pub mmr_after: i32,
    /// Whether the player was on this season's board before this match.
    pub was_ranked: bool,
    /// Whether they are on it after (placement done).
    pub placed: bool,
    /// This match completed their placement games.
    pub placement_complete: bool,
    /// The season the result counted for.
    pub season_id: u64,
    pub counters: PlayerStats,
    pub kills: u32,
    /// Banned when the result was applied: rated, but kept off the leaderboards.
    pub banned: bool,
}

/// A stored feed event, as the feed and the `feed` channel show it.
pub use rh_domain::events::FeedItem;
/// A stored notification, as the inbox and the `user:{id}` channel show it.
pub use rh_domain::events::Notification as NotificationItem;

/// A player who rose into a higher tier, into the top 10 (`top_rank`, 1-based), or both.
#[derive(Debug, Clone, PartialEq)]
pub struct RankUp {
    pub user_id: u64,
    pub tier: Option<Tier>,
    pub top_rank: Option<i64>,
}

/// Everything the after-commit step needs.
#[derive(Debug, Clone)]
pub struct AfterCommit {
    pub match_id: u64,
    pub mode: String,
    pub region: String,
    pub winner_team: Option<u8>,
    pub standings: Vec<Standing>,
    pub changes: Vec<PlayerChange>,
    pub feed: Vec<FeedItem>,
    pub notifications: Vec<NotificationItem>,
    /// `(user_id, code, name)`.
    pub achievements: Vec<(u64, String, String)>,
}

/// A feed entry's `kind` and `data`, as stored: those of the domain's [`FeedData`].
fn feed_parts(entry: &FeedData) -> Result<(String, Value), MatchError> {
    // `FeedData` serialises as `{"kind": ..., "data": {...}}` (adjacently tagged).
    let mut tagged = serde_json::to_value(entry)
        .map_err(|e| MatchError::Inconsistent(format!("feed entry: {e}")))?;
    let kind = tagged["kind"].as_str().unwrap_or_default().to_owned();
    Ok((kind, tagged["data"].take()))
}

/// `INSERT ... VALUES (...), (...)` of `rows` rows of `width` columns into `table`
/// (`columns`), then the rows' ids, in row order: two statements for all of them.
/// `LAST_INSERT_ID()` is the first row's id. The ids are read back rather than counted
/// on from it, since InnoDB's interleaved lock mode (MySQL 8's default) does not promise
/// one statement consecutive values. Inside the result's transaction the read sees this
/// transaction's rows and those committed before its snapshot (REPEATABLE READ, InnoDB's
/// default), which its earlier reads took before this insert, so every other row at or
/// above the first id is invisible to it; ids grow in row order.
fn insert_rows(
    db: &Db,
    table: &str,
    columns: &str,
    width: usize,
    params: Vec<ParameterValue>,
) -> Result<Vec<u64>, MatchError> {
    let rows = params.len() / width;
    if rows == 0 {
        return Ok(Vec::new());
    }
    let row = format!("({})", vec!["?"; width].join(", "));
    db.execute(
        &format!(
            "INSERT INTO {table} ({columns}) VALUES {}",
            vec![row; rows].join(", ")
        ),
        &params,
    )?;
    let ids = db.query(
        &format!("SELECT id FROM {table} WHERE id >= LAST_INSERT_ID() ORDER BY id LIMIT ?"),
        &[ParameterValue::Uint64(rows as u64)],
    )?;
    let ids = ids
        .iter()
        .map(|r| r.get::<u64>("id"))
        .collect::<Result<Vec<_>, _>>()?;
    if ids.len() != rows {
        return Err(MatchError::Inconsistent(format!(
            "{table}: {rows} rows inserted, {} read back",
            ids.len()
        )));
    }
    Ok(ids)
}

/// Stores feed entries `(user_id, kind, data)` in one statement, in order.
fn insert_feed(
    db: &Db,
    entries: Vec<(Option<u64>, String, Value)>,
    now_ms: i64,
) -> Result<Vec<FeedItem>, MatchError> {
    let mut params = Vec::with_capacity(entries.len() * 4);
    for (user_id, kind, data) in &entries {
        params.extend([
            ParameterValue::Str(kind.clone()),
            user_id
                .map(ParameterValue::Uint64)
                .unwrap_or(ParameterValue::DbNull),
            ParameterValue::Str(data.to_string()),
            ParameterValue::Int64(now_ms),
        ]);
    }
    let ids = insert_rows(
        db,
        "feed_events",
        "kind, user_id, payload, created_at_ms",
        4,
        params,
    )?;
    Ok(entries
        .into_iter()
        .zip(ids)
        .map(|((user_id, kind, data), id)| FeedItem {
            id,
            kind,
            user_id,
            data,
            created_at: now_ms,
        })
        .collect())
}

/// Stores notifications `(user_id, kind, data)` in one statement, in order.
fn insert_notifications(
    db: &Db,
    notes: Vec<(u64, String, Value)>,
    now_ms: i64,
) -> Result<Vec<NotificationItem>, MatchError> {
    let mut params = Vec::with_capacity(notes.len() * 4);
    for (user_id, kind, data) in &notes {
        params.extend([
            ParameterValue::Uint64(*user_id),
            ParameterValue::Str(kind.clone()),
            ParameterValue::Str(data.to_string()),
            ParameterValue::Int64(now_ms),
        ]);
    }
    let ids = insert_rows(
        db,
        "notifications",
        "user_id, kind, payload, created_at_ms",
        4,
        params,
    )?;
    Ok(notes
        .into_iter()
        .zip(ids)
        .map(|((user_id, kind, data), id)| NotificationItem {
            id,
            user_id,
            kind,
            data,
            read: false,
            created_at: now_ms,
        })
        .collect())
}

/// The achievement codes each of `users` has unlocked, in one query.
fn unlocked_codes(db: &Db, users: &[u64]) -> Result<Vec<(u64, String)>, MatchError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db.query(
        &format!(
            "SELECT user_id, code FROM user_achievements WHERE user_id IN ({})",
            super::placeholders(users.len())
        ),
        &users
            .iter()
            .map(|u| ParameterValue::Uint64(*u))
            .collect::<Vec<_>>(),
    )?;
    rows.iter()
        .map(|r| Ok((r.get("user_id")?, r.get("code")?)))
        .collect()
}

/// Writes feed events, notifications and achievements for a result, inside its
/// transaction: gathered in order first, then one statement per table.
pub fn write_in_transaction(
    db: &Db,
    after: &mut AfterCommit,
    rank_ups: &[RankUp],
    figures: &[(u64, Progress)],
    now_ms: i64,
) -> Result<(), MatchError> {
    let teams: Vec<Vec<u64>> = {
        let n = after.changes.iter().map(|c| c.team + 1).max().unwrap_or(0);
        let mut t = vec![Vec::new(); n];
        for c in &after.changes {
            t[c.team].push(c.user_id);
        }
        t
    };
    let mut feed: Vec<(Option<u64>, String, Value)> = Vec::new();
    let mut notes: Vec<(u64, String, Value)> = Vec::new();
    // A feed entry of a player, with the same data as their notification of `kind`.
    let mut announce = |user_id: u64, kind: &str, entry: &FeedData| -> Result<(), MatchError> {
        let (feed_kind, data) = feed_parts(entry)?;
        notes.push((user_id, kind.to_owned(), data.clone()));
        feed.push((Some(user_id), feed_kind, data));
        Ok(())
    };

    let (kind, data) = feed_parts(&FeedData::MatchCompleted {
        match_id: after.match_id,
        mode: after.mode.clone(),
        region: after.region.clone(),
        winner_team: after.winner_team.map(usize::from),
        teams,
    })?;
    let completed = (None, kind, data);
    let changes = after.changes.clone();
    let mut match_notes: Vec<(u64, String, Value)> = changes
        .iter()
        .map(|c| {
            (
                c.user_id,
                "match_completed".to_owned(),
                json!({
                    "match_id": after.match_id,
                    "mode": after.mode,
                    "result": outcome_str(c.outcome),
                    "mmr_before": c.mmr_before,
                    "mmr_after": c.mmr_after,
                }),
            )
        })
        .collect();

    for up in rank_ups {
        let Some(c) = changes.iter().find(|c| c.user_id == up.user_id) else {
            continue;
        };
        let entry = FeedData::RankUp {
            user_id: c.user_id,
            username: c.username.clone(),
            mode: after.mode.clone(),
            mmr: c.mmr_after,
            tier: up.tier,
            top_rank: up.top_rank.map(|r| r.max(0) as u64),
        };
        announce(c.user_id, "rank_up", &entry)?;
    }

    let players: Vec<u64> = figures.iter().map(|(u, _)| *u).collect();
    let all_unlocked = unlocked_codes(db, &players)?;
    for (user_id, figs) in figures {
        let unlocked: Vec<&str> = all_unlocked
            .iter()
            .filter(|(u, _)| u == user_id)
            .map(|(_, code)| code.as_str())
            .collect();
        let username = changes
            .iter()
            .find(|c| c.user_id == *user_id)
            .map(|c| c.username.clone())
            .unwrap_or_default();
        for a in newly_unlocked(figs, &unlocked) {
            // The catalogue is data owned by the code that awards it: make sure the row
            // the foreign key points at exists (a no-op after the first unlock).
            db.execute(
                "INSERT IGNORE INTO achievements (code, name, description) VALUES (?, ?, ?)",
                &[
                    ParameterValue::Str(a.code.into()),
                    ParameterValue::Str(a.name.into()),
                    ParameterValue::Str(a.description.into()),
                ],
            )?;
            // The primary key (user_id, code) makes the unlock idempotent even if two
            // results for one player raced past the check above.
            db.execute(
                "INSERT IGNORE INTO user_achievements (user_id, code, unlocked_at_ms, match_id) \
                 VALUES (?, ?, ?, ?)",
                &[
                    ParameterValue::Uint64(*user_id),
                    ParameterValue::Str(a.code.into()),
                    ParameterValue::Int64(now_ms),
                    ParameterValue::Uint64(after.match_id),
                ],
            )?;
            let entry = FeedData::AchievementUnlocked {
                user_id: *user_id,
                username: username.clone(),
                code: a.code.to_owned(),
                name: a.name.to_owned(),
                match_id: after.match_id,
            };
            announce(*user_id, "achievement_unlocked", &entry)?;
            after
                .achievements
                .push((*user_id, a.code.to_string(), a.name.to_string()));
        }
    }

    for c in changes.iter().filter(|c| c.placement_complete) {
        let entry = FeedData::PlacementComplete {
            user_id: c.user_id,
            username: c.username.clone(),
            season_id: c.season_id,
            mode: after.mode.clone(),
            tier: Tier::from_mmr(c.mmr_after),
            mmr: c.mmr_after,
        };
        announce(c.user_id, "placement_complete", &entry)?;
    }

    // The match's own entry and notifications first, as the events announce them.
    feed.insert(0, completed);
    match_notes.append(&mut notes);
    after.feed = insert_feed(db, feed, now_ms)?;
    after.notifications = insert_notifications(db, match_notes, now_ms)?;
    Ok(())
}

/// After commit: move players on the leaderboards, then publish events. Errors are
/// collected, not returned early: the result is committed, so every step still runs;
/// a failed leaderboard update invalidates the mode's boards so the next read
/// rebuilds them from MySQL.
pub fn after_commit(redis: &Redis, after: &AfterCommit, now_ms: i64) -> Vec<String> {
    // First, so the players' next profile reads are fresh as soon as possible.
    let changed: Vec<u64> = after.changes.iter().map(|c| c.user_id).collect();
    crate::users::cache::invalidate(redis, &changed);
    let mut errors = Vec::new();
    if let Err(e) = leaderboard::place(redis, &after.mode, &after.standings) {
        errors.push(format!("leaderboard update: {e}"));
        if let Err(e) = leaderboard::invalidate(redis, &after.mode) {
            errors.push(format!("leaderboard invalidate: {e}"));
        }
    }

    let global = leaderboard::key(&after.mode, None);
    let players: Vec<u64> = after.changes.iter().map(|c| c.user_id).collect();
    // One round trip for every player's rank; without it the events carry no rank.
    let ranks = leaderboard::ranks_of(redis, &global, &players).unwrap_or_default();
    let mut sends: Vec<(String, Event)> = Vec::new();
    let mut ranked = Vec::with_capacity(after.changes.len());
    for (i, c) in after.changes.iter().enumerate() {
        let rank = ranks.get(i).copied().flatten().map(|r| r + 1);
        ranked.push(RankedChange {
            user_id: c.user_id,
            username: c.username.clone(),
            mmr_before: c.mmr_before,
            mmr_after: c.mmr_after,
            rank,
        });
        sends.push((
            events::user_channel(c.user_id),
            Event::User(UserEvent::RatingChanged {
                mode: after.mode.clone(),
                match_id: after.match_id,
                result: c.outcome,
                mmr_before: c.mmr_before,
                mmr_after: c.mmr_after,
                rank,
            }),
        ));
    }
    sends.push((
        events::rankings_channel(&after.mode),
        Event::Ranking(RankingEvent::RatingChanged {
            mode: after.mode.clone(),
            match_id: after.match_id,
            changes: ranked,
            at: now_ms,
        }),
    ));
    sends.push((
        events::match_channel(after.match_id),
        Event::Match(MatchEvent::Status {
            match_id: after.match_id,
            status: MatchStatus::Completed,
            winner_team: after.winner_team.map(usize::from),
        }),
    ));
    for n in &after.notifications {
        sends.push((
            events::user_channel(n.user_id),
            Event::User(UserEvent::Notification {
                notification: n.clone(),
            }),
        ));
    }
    for (user_id, code, name) in &after.achievements {
        sends.push((
            events::user_channel(*user_id),
            Event::User(UserEvent::AchievementUnlocked {
                code: code.clone(),
                name: name.clone(),
                match_id: after.match_id,
            }),
        ));
    }
    for c in after.changes.iter().filter(|c| c.placement_complete) {
        sends.push((
            events::user_channel(c.user_id),
            Event::User(UserEvent::PlacementComplete {
                season_id: c.season_id,
                mode: after.mode.clone(),
                tier: Tier::from_mmr(c.mmr_after),
                mmr: c.mmr_after,
                match_id: after.match_id,
            }),
        ));
    }
    for f in &after.feed {
        sends.push((
            events::FEED_CHANNEL.to_string(),
            Event::Feed(FeedEvent::Feed { event: f.clone() }),
        ));
    }
    // Every message in one round trip, in order (a result sends a dozen or more).
    let mut messages = Vec::with_capacity(sends.len());
    for (channel, message) in sends {
        match serde_json::to_string(&message) {
            Ok(json) => messages.push((channel, json)),
            Err(e) => errors.push(format!("encoding the event for {channel}: {e}")),
        }
    }
    if let Err(e) = redis.publish_many(&messages) {
        errors.push(format!("publishing {} events: {e}", messages.len()));
    }
    errors
}

/// The messages of one result, each of its channel's type.
#[derive(Serialize)]
#[serde(untagged)]
enum Event {
    User(UserEvent),
    Ranking(RankingEvent),
    Match(MatchEvent),
    Feed(FeedEvent),
}
