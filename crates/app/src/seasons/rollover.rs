//! The rollover, driven by the ticks the sidecar publishes (`season-tick` component).
//!
//! 1. **Quiet ticks** read one Redis key (`season:active`: the active season's id and
//!    end, cached for [`CACHE_SECS`]) and stop: no MySQL connection while nothing is due.
//! 2. **The lease** (`season:rollover:lease`, [`LEASE_TTL_MS`]) keeps the replicas that
//!    all receive the tick from piling onto the same rows. It is an optimisation only:
//!    correctness comes from MySQL, and a holder that dies lets the next tick in once it
//!    expires.
//! 3. **The claim** (one transaction, every `seasons` row locked): the due season
//!    becomes `rolling`, its successor (or a new open-ended season with the same
//!    settings) `active`, one `season_rollovers` row per mode is created, and the final
//!    standings of every player who played the season are archived in one
//!    `INSERT ... SELECT` (ranks by a window function), all or nothing. The boards are
//!    rebuilt for the new season (empty: nobody has played it yet).
//! 4. **Batches** (one transaction each, per mode): lock the mode's `season_rollovers`
//!    row, lock the next [`Options::batch_size`] players still naming the old season,
//!    soft-reset them into the new one, grant their badges and write their
//!    notifications, count them. A killed runtime rolls back at most one batch; the
//!    next tick carries on from the rows still naming the old season, so nobody is reset
//!    twice or skipped. A result for a player not reached yet resets them itself
//!    ([`super::enter_season`]) and moves their row on, so the batch skips them.
//! 5. **The finish**: once every mode is done, the old season becomes `ended`, the
//!    boards are rebuilt once more (a result committed just before the claim may have
//!    placed a player after the claim's rebuild) and `season_ended` / `season_started`
//!    go out on the `seasons` channel.

use serde::{Deserialize, Serialize};
use spin_sdk::mysql::ParameterValue;

use rh_domain::events::{Notification, SeasonEvent, UserEvent};
use rh_domain::seasons::{self as rules, ModeSettings};
use rh_domain::tiers::Tier;
use rh_infra::db::Db;
use rh_infra::events::{user_channel, SEASONS_CHANNEL};
use rh_infra::params;
use rh_infra::redis::Redis;

use super::schedule::write_settings;
use super::{get, Season, SeasonError};
use crate::leaderboard;

/// Redis key caching the active season for quiet ticks.
pub const ACTIVE_KEY: &str = "season:active";
const LEASE_KEY: &str = "season:rollover:lease";
/// How long a lease outlives a holder that died mid-rollover.
pub const LEASE_TTL_MS: i64 = 15_000;
/// How long quiet ticks trust the cached end of the active season.
pub const CACHE_SECS: i64 = 30;

#[derive(Debug, Serialize, Deserialize)]
struct CachedActive {
    id: u64,
    ends_at: Option<i64>,
}

/// Drops the tick's cached view of the active season (after any schedule change), and
/// every cached profile with it: a profile shows the active season's numbers. Best
/// effort: if Redis refuses, the caches expire within [`CACHE_SECS`] and
/// [`crate::users::cache::BODY_TTL_S`].
pub fn forget_active(redis: &Redis) {
    let _ = redis.del(&[ACTIVE_KEY]);
    crate::users::cache::invalidate_everyone(redis);
}

/// True when the cached active season is not due at `now_ms`: the tick has nothing to
/// do and needs no MySQL connection. False when due or not cached.
pub fn quiet(redis: &Redis, now_ms: i64) -> Result<bool, SeasonError> {
    let Some(text) = redis.get_string(ACTIVE_KEY)? else {
        return Ok(false);
    };
    Ok(serde_json::from_str::<CachedActive>(&text)
        .map(|c| c.ends_at.is_none_or(|e| e > now_ms))
        .unwrap_or(false))
}

/// How much one tick does.
#[derive(Debug, Clone)]
pub struct Options {
    /// Players per batch transaction.
    pub batch_size: usize,
    /// Batches per tick at most (`None`: until done or out of time).
    pub max_batches: Option<u32>,
    /// Time after which a tick stops starting batches (the lease lasts longer).
    pub budget_ms: i64,
    /// Take the Redis lease first (false: rely on MySQL alone, as tests of the claim do).
    pub use_lease: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch_size: 2000,
            max_batches: None,
            budget_ms: 10_000,
            use_lease: true,
        }
    }
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TickOutcome {
    /// The season whose rollover this tick claimed.
    pub claimed: Option<u64>,
    /// The season being rolled over, if any.
    pub rolling: Option<u64>,
    pub batches: u32,
    pub players_reset: u64,
    /// The season whose rollover this tick finished.
    pub finished: Option<u64>,
    /// Another replica holds the lease.
    pub busy: bool,
    /// Where this tick's time went (ms): the claim (with the archive and the first
    /// rebuild of the boards), the batches, and the finish (with the second rebuild).
    pub claim_ms: i64,
    pub batches_ms: i64,
    pub finish_ms: i64,
}

/// One tick: claim a due season, reset players in batches, finish (module docs).
pub fn tick(
    db: &Db,
    redis: &Redis,
    regions: &[String],
    now_ms: i64,
    options: &Options,
) -> Result<TickOutcome, SeasonError> {
    let mut out = TickOutcome::default();
    let rows = db.query(
        "SELECT id, ends_at_ms, status FROM seasons WHERE status IN ('active', 'rolling')",
        &[],
    )?;
    let mut active = None;
    for r in rows.iter() {
        let status: String = r.get("status")?;
        if status == "rolling" {
            out.rolling = Some(r.get("id")?);
        } else {
            active = Some((r.get::<u64>("id")?, r.get::<Option<i64>>("ends_at_ms")?));
        }
    }
    let due = active.is_some_and(|(_, end)| end.is_some_and(|e| e <= now_ms));
    if out.rolling.is_none() && !due {
        if let Some((id, ends_at)) = active {
            let cached = serde_json::to_string(&CachedActive { id, ends_at })
                .expect("plain struct serialises");
            redis.set_ex(ACTIVE_KEY, &cached, CACHE_SECS)?;
        }
        return Ok(out);
    }
    if !options.use_lease {
        return run_leased(db, redis, regions, now_ms, options, active, &mut out).map(|()| out);
    }
    let Some(lease) = redis.try_lock(LEASE_KEY, LEASE_TTL_MS)? else {
        out.busy = true;
        return Ok(out);
    };
    let result = run_leased(db, redis, regions, now_ms, options, active, &mut out);
    let _ = lease.release(redis);
    result.map(|()| out)
}

fn run_leased(
    db: &Db,
    redis: &Redis,
    regions: &[String],
    now_ms: i64,
    options: &Options,
    active: Option<(u64, Option<i64>)>,
    out: &mut TickOutcome,
) -> Result<(), SeasonError> {
    if out.rolling.is_none() {
        let Some((id, _)) = active else {
            return Ok(());
        };
        let t = rh_infra::clock::now_ms();
        match claim(db, id, now_ms)? {
            Some(()) => {
                out.claimed = Some(id);
                out.rolling = Some(id);
                forget_active(redis);
                rebuild_boards(db, redis, regions)?;
                out.claim_ms = rh_infra::clock::now_ms() - t;
            }
            // Someone claimed it between our read and the lock: carry on with theirs.
            None => {
                out.rolling = db.query_scalar(
                    "SELECT id FROM seasons WHERE status = 'rolling' LIMIT 1",
                    &[],
                )?;
            }
        }
    }
    let Some(old_id) = out.rolling else {
        return Ok(());
    };
    let old = get(db, old_id)?;
    let new = super::current(db)?;
    let started = rh_infra::clock::now_ms();
    let modes: Vec<String> = db
        .query(
            "SELECT mode FROM season_rollovers WHERE season_id = ? AND done = 0 ORDER BY mode",
            &params![old_id],
        )?
        .iter()
        .map(|r| r.get("mode"))
        .collect::<Result<_, _>>()?;
    for mode in &modes {
        loop {
            let out_of_time = rh_infra::clock::now_ms() - started >= options.budget_ms;
            if out_of_time || options.max_batches.is_some_and(|m| out.batches >= m) {
                return Ok(());
            }
            let Some(reset) = batch(db, redis, &old, &new, mode, options.batch_size, now_ms)?
            else {
                break;
            };
            // The batch's players have new ratings and placement to show.
            crate::users::cache::invalidate_everyone(redis);
            out.batches += 1;
            out.players_reset += reset;
        }
    }
    let t = rh_infra::clock::now_ms();
    out.batches_ms = t - started;
    if finish(db, old_id, now_ms)? {
        out.finished = Some(old_id);
        rebuild_boards(db, redis, regions)?;
        forget_active(redis);
        let ended = get(db, old_id)?;
        let _ = redis.publish_json(
            SEASONS_CHANNEL,
            &SeasonEvent::SeasonEnded {
                season: ended.summary(),
                next_season_id: new.id,
                players_reset: ended.players_reset,
            },
        );
        let _ = redis.publish_json(
            SEASONS_CHANNEL,
            &SeasonEvent::SeasonStarted {
                season: new.summary(),
            },
        );
        out.finish_ms = rh_infra::clock::now_ms() - t;
    }
    Ok(())
}

/// Rebuilds every mode's boards from MySQL for the active season. A rebuild already
/// running elsewhere is left to finish; the marker is dropped so the next read checks.
fn rebuild_boards(db: &Db, redis: &Redis, regions: &[String]) -> Result<(), SeasonError> {
    let modes: Vec<String> = db
        .query("SELECT name FROM modes", &[])?
        .iter()
        .map(|r| r.get("name"))
        .collect::<Result<_, _>>()?;
    for mode in &modes {
        if leaderboard::rebuild(redis, db, mode, regions).is_err() {
            leaderboard::invalidate(redis, mode)?;
        }
    }
    Ok(())
}

/// Step 3: claims season `id`'s rollover if it is still active and due. `None` when
/// someone else claimed it first (or it was moved meanwhile).
fn claim(db: &Db, id: u64, now_ms: i64) -> Result<Option<()>, SeasonError> {
    db.transaction_retrying(|db| {
        let rows = db.query(
            "SELECT id, starts_at_ms, ends_at_ms, status FROM seasons ORDER BY starts_at_ms, id FOR UPDATE",
            &[],
        )?;
        let mut end = None;
        let mut next = None;
        let mut count = 0u64;
        for r in rows.iter() {
            count += 1;
            let (sid, status) = (r.get::<u64>("id")?, r.get::<String>("status")?);
            if sid == id && status == "active" {
                end = r.get::<Option<i64>>("ends_at_ms")?.filter(|e| *e <= now_ms);
            }
            if status == "scheduled" && end.is_some() && next.is_none() {
                next = Some((sid, r.get::<i64>("starts_at_ms")?));
            }
        }
        let Some(end) = end else {
            return Ok(None);
        };
        let next_id = match next {
            Some((sid, starts)) if starts == end => sid,
            // The timeline is contiguous, so a scheduled season after `id` starts at its
            // end; anything else is a corrupt schedule, which this will not guess at.
            Some((sid, starts)) => {
                return Err(SeasonError::NotFound(format!(
                    "season {sid} starts at {starts}, not when season {id} ends ({end})"
                )))
            }
            None => open_ended_successor(db, id, end, count + 1, now_ms)?,
        };
        db.execute(
            "UPDATE seasons SET status = 'rolling', rollover_started_at_ms = ? WHERE id = ?",
            &params![now_ms, id],
        )?;
        db.execute(
            "UPDATE seasons SET status = 'active' WHERE id = ?",
            &params![next_id],
        )?;
        db.execute(
            "INSERT INTO season_rollovers (season_id, mode) SELECT ?, name FROM modes",
            &params![id],
        )?;
        archive_standings(db, id, now_ms)?;
        Ok(Some(()))
    })
}

/// A new open-ended season from `starts_at` with the settings of `after`.
fn open_ended_successor(
    db: &Db,
    after: u64,
    starts_at: i64,
    number: u64,
    now_ms: i64,
) -> Result<u64, SeasonError> {
    db.execute(
        "INSERT INTO seasons (name, starts_at_ms, ends_at_ms, status, created_at_ms) \
         VALUES (?, ?, NULL, 'scheduled', ?)",
        &params![format!("Season {number}").as_str(), starts_at, now_ms],
    )?;
    let id = db.last_insert_id()?;
    let previous = get(db, after)?;
    for (mode, settings) in &previous.modes {
        write_settings(db, id, mode, settings)?;
    }
    Ok(id)
}

/// The final standings of season `id`, every mode, as `user_stats` holds them inside the
/// claim: players who played the season, ranked when placed and not banned.
fn archive_standings(db: &Db, id: u64, now_ms: i64) -> Result<(), SeasonError> {
    db.execute(
        "INSERT INTO season_standings (season_id, mode, user_id, region, `rank`, \
         mmr, peak_mmr, games, wins, losses, draws) \
         SELECT ?, t.mode, t.user_id, t.region, \
           CASE WHEN t.ranked = 1 THEN ROW_NUMBER() OVER (PARTITION BY t.mode, t.ranked \
             ORDER BY t.mmr DESC, t.user_id) END, \
           t.mmr, t.season_peak_mmr, t.season_games, t.season_wins, t.season_losses, t.season_draws \
         FROM (SELECT us.mode, us.user_id, u.region, us.mmr, us.season_peak_mmr, us.season_games, \
                 us.season_wins, us.season_losses, us.season_draws, \
                 IF(us.placed = 1 AND (u.banned_until_ms IS NULL OR u.banned_until_ms <= ?), 1, 0) AS ranked \
               FROM user_stats us JOIN users u ON u.id = us.user_id \
               WHERE us.season_id = ? AND us.season_games > 0) t",
        &params![id, now_ms, id],
    )?;
    Ok(())
}

/// One player's reset and rewards inside a batch.
struct Reached {
    user_id: u64,
    reset: rules::Reset,
}

/// Step 4: one batch of `mode`. `None` when the mode is done (marked so).
///
/// Badges follow the archived standings by user-id range: the batch grants them for
/// every ranked player between the previous batch's last user id (`cursor_user_id`) and
/// its own last one, and the closing step for those after it. So a player whom a result
/// moved into the new season before any batch reached them still gets their badges,
/// and each range is granted by exactly one committed batch.
fn batch(
    db: &Db,
    redis: &Redis,
    old: &Season,
    new: &Season,
    mode: &str,
    size: usize,
    now_ms: i64,
) -> Result<Option<u64>, SeasonError> {
    let k = new.settings(mode).soft_reset_k;
    let old_settings = old.settings(mode);
    let step = db.transaction_retrying(|db| {
        let rows = db.query(
            "SELECT done, cursor_user_id FROM season_rollovers WHERE season_id = ? AND mode = ? \
             FOR UPDATE",
            &params![old.id, mode],
        )?;
        let Some(progress) = rows.first() else {
            return Ok(None);
        };
        if progress.get::<u8>("done")? != 0 {
            return Ok(None);
        }
        let cursor: u64 = progress.get("cursor_user_id")?;
        let rows = db.query(
            "SELECT user_id, mu, sigma, last_match_at_ms FROM user_stats \
             WHERE mode = ? AND season_id = ? ORDER BY user_id LIMIT ? FOR UPDATE",
            &params![mode, old.id, size as u64],
        )?;
        if rows.is_empty() {
            let notes = grant_rewards(db, old.id, mode, &old_settings, (cursor, u64::MAX), now_ms)?;
            db.execute(
                "UPDATE season_rollovers SET done = 1 WHERE season_id = ? AND mode = ?",
                &params![old.id, mode],
            )?;
            return Ok(Some((None, notes)));
        }
        let mut reached = Vec::with_capacity(rows.len());
        for r in rows.iter() {
            let last: Option<i64> = r.get("last_match_at_ms")?;
            let idle = last.map_or(0, |t| new.starts_at - t);
            reached.push(Reached {
                user_id: r.get("user_id")?,
                reset: rules::soft_reset(r.get("mu")?, r.get("sigma")?, idle, k),
            });
        }
        write_resets(db, mode, new.id, &reached)?;
        let last = reached[reached.len() - 1].user_id;
        let notes = grant_rewards(db, old.id, mode, &old_settings, (cursor, last), now_ms)?;
        db.execute(
            "UPDATE season_rollovers SET reset = reset + ?, cursor_user_id = ? \
             WHERE season_id = ? AND mode = ?",
            &params![reached.len() as u64, last, old.id, mode],
        )?;
        Ok::<_, SeasonError>(Some((Some(reached.len() as u64), notes)))
    })?;
    let Some((reset, notes)) = step else {
        return Ok(None);
    };
    // Best effort, like every event: the notifications are stored already.
    let messages: Vec<(String, String)> = notes
        .into_iter()
        .filter_map(|n| {
            let channel = user_channel(n.user_id);
            serde_json::to_string(&UserEvent::Notification { notification: n })
                .ok()
                .map(|m| (channel, m))
        })
        .collect();
    let _ = redis.publish_many(&messages);
    Ok(reset)
}

/// The reset ratings, the season counters at zero and the row moved to `season_id`, in
/// one multi-row upsert (every row exists: it was just locked).
fn write_resets(
    db: &Db,
    mode: &str,
    season_id: u64,
    reached: &[Reached],
) -> Result<(), SeasonError> {
    let mut sql =
        String::from("INSERT INTO user_stats (user_id, mode, mmr, mu, sigma, season_id) VALUES ");
    let mut params = Vec::with_capacity(reached.len() * 6);
    for (i, p) in reached.iter().enumerate() {
        sql.push_str(if i == 0 {
            "(?, ?, ?, ?, ?, ?)"
        } else {
            ", (?, ?, ?, ?, ?, ?)"
        });
        params.extend([
            ParameterValue::Uint64(p.user_id),
            ParameterValue::Str(mode.to_owned()),
            ParameterValue::Int32(p.reset.mmr),
            ParameterValue::Floating64(p.reset.mu),
            ParameterValue::Floating64(p.reset.sigma),
            ParameterValue::Uint64(season_id),
        ]);
    }
    sql.push_str(
        " ON DUPLICATE KEY UPDATE mmr = VALUES(mmr), mu = VALUES(mu), sigma = VALUES(sigma), \
         season_id = VALUES(season_id), season_games = 0, season_wins = 0, season_losses = 0, \
         season_draws = 0, season_peak_mmr = NULL, placed = 0",
    );
    db.execute(&sql, &params)?;
    Ok(())
}

/// Badges of the ranked players whose user id is in `(after, upto]` (from the archived
/// standings), and one `season_reward` notification each. Returns the notifications, for
/// publishing.
fn grant_rewards(
    db: &Db,
    season_id: u64,
    mode: &str,
    settings: &ModeSettings,
    (after, upto): (u64, u64),
    now_ms: i64,
) -> Result<Vec<Notification>, SeasonError> {
    let rows = db.query(
        "SELECT user_id, `rank`, mmr FROM season_standings WHERE season_id = ? AND mode = ? \
         AND user_id > ? AND user_id <= ? AND `rank` IS NOT NULL",
        &params![season_id, mode, after, upto],
    )?;
    let mut granted = Vec::with_capacity(rows.len());
    for r in rows.iter() {
        let (user_id, rank, mmr): (u64, u64, i32) =
            (r.get("user_id")?, r.get("rank")?, r.get("mmr")?);
        let tier = Tier::from_mmr(mmr);
        let badges = rules::reward_badges(tier, rank, &settings.reward_top_ranks);
        granted.push((user_id, rank, tier, badges));
    }
    if granted.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = String::from(
        "INSERT IGNORE INTO season_rewards (season_id, mode, user_id, badge, granted_at_ms) VALUES ",
    );
    let mut params = Vec::new();
    for (user_id, _, _, badges) in &granted {
        for badge in badges {
            if !params.is_empty() {
                sql.push_str(", ");
            }
            sql.push_str("(?, ?, ?, ?, ?)");
            params.extend([
                ParameterValue::Uint64(season_id),
                ParameterValue::Str(mode.to_owned()),
                ParameterValue::Uint64(*user_id),
                ParameterValue::Str(badge.clone()),
                ParameterValue::Int64(now_ms),
            ]);
        }
    }
    db.execute(&sql, &params)?;

    let mut sql =
        String::from("INSERT INTO notifications (user_id, kind, payload, created_at_ms) VALUES ");
    let mut params = Vec::with_capacity(granted.len() * 4);
    let mut notes = Vec::with_capacity(granted.len());
    for (i, (user_id, rank, tier, badges)) in granted.into_iter().enumerate() {
        let data = serde_json::json!({
            "season_id": season_id, "mode": mode, "rank": rank, "tier": tier, "badges": badges,
        });
        sql.push_str(if i == 0 {
            "(?, ?, ?, ?)"
        } else {
            ", (?, ?, ?, ?)"
        });
        params.extend([
            ParameterValue::Uint64(user_id),
            ParameterValue::Str("season_reward".into()),
            ParameterValue::Str(data.to_string()),
            ParameterValue::Int64(now_ms),
        ]);
        notes.push(Notification {
            id: 0,
            user_id,
            kind: "season_reward".into(),
            data,
            read: false,
            created_at: now_ms,
        });
    }
    db.execute(&sql, &params)?;
    // A multi-row INSERT takes consecutive AUTO_INCREMENT values from the first one
    // (InnoDB's default lock mode for inserts whose row count is known).
    let first = db.last_insert_id()?;
    for (i, n) in notes.iter_mut().enumerate() {
        n.id = first + i as u64;
    }
    Ok(notes)
}

/// Step 5: marks season `id` ended once every mode is done. True when this call did.
fn finish(db: &Db, id: u64, now_ms: i64) -> Result<bool, SeasonError> {
    db.transaction_retrying(|db| {
        let status: Option<String> = db.query_scalar(
            "SELECT status FROM seasons WHERE id = ? FOR UPDATE",
            &params![id],
        )?;
        if status.as_deref() != Some("rolling") {
            return Ok(false);
        }
        let pending: Option<u64> = db.query_scalar(
            "SELECT COUNT(*) FROM season_rollovers WHERE season_id = ? AND done = 0",
            &params![id],
        )?;
        if pending.unwrap_or(0) > 0 {
            return Ok(false);
        }
        let reset: Option<u64> = db.query_scalar(
            "SELECT CAST(COALESCE(SUM(reset), 0) AS UNSIGNED) FROM season_rollovers WHERE season_id = ?",
            &params![id],
        )?;
        db.execute(
            "UPDATE seasons SET status = 'ended', rollover_finished_at_ms = ?, players_reset = ? \
             WHERE id = ?",
            &params![now_ms, reset.unwrap_or(0), id],
        )?;
        Ok::<_, SeasonError>(true)
    })
}
