//! Voiding a completed match: it leaves history, stats and analytics.
//!
//! In one transaction under `SELECT ... FOR UPDATE` on the match row: status becomes
//! `voided` (history, the overview and replays all see that); every participant loses
//! the match's win/loss/draw and game; a participant whose rating was last moved by
//! this match (no later completed match in the mode) gets `mu/sigma/mmr_before` back,
//! the others keep their rating and the skipped reversal is listed in the audit row
//! (replaying their later matches is out of scope); the match's hero picks are
//! subtracted from its day; the feed items its result wrote (match completed, rank-ups,
//! achievements of the match) are deleted. After commit the mode's leaderboards are
//! rebuilt.
//! Streaks cannot be recomputed from one match, so a reversed player's streak is 0.

use serde_json::json;
use spin_sdk::mysql::ParameterValue;

use crate::analytics;
use crate::leaderboard;
use crate::seasons::{self, ActiveSeason};
use rh_infra::audit::Audit;
use rh_infra::db::Db;
use rh_infra::redis::Redis;
use rh_infra::{clock, config, AppError};

struct Participant {
    user_id: u64,
    kills: u32,
    hero: Option<String>,
    result: Option<String>,
    mmr_before: Option<i32>,
    mu_before: Option<f64>,
    sigma_before: Option<f64>,
}

/// `POST /api/v1/admin/matches/{id}/void`.
pub fn void_match(
    db: &Db,
    redis: &Redis,
    actor: u64,
    match_id: u64,
    reason: &str,
    ip: Option<String>,
) -> Result<serde_json::Value, AppError> {
    let reason = super::check_reason(reason)?;
    let now = clock::now_ms();
    let (mode, reversed, skipped, voided_players) = db.transaction(|tx| {
        let rows = tx.query(
            "SELECT mode, status, completed_at_ms FROM matches WHERE id = ? FOR UPDATE",
            &[ParameterValue::Uint64(match_id)],
        )?;
        let m = rows
            .first()
            .ok_or_else(|| AppError::NotFound("match not found".into()))?;
        let (mode, status): (String, String) = (m.get("mode")?, m.get("status")?);
        if status != "completed" {
            return Err(AppError::Conflict(format!(
                "only a completed match can be voided (this one is {status})"
            )));
        }
        let completed_at: i64 = m.get("completed_at_ms")?;
        // The season the match counted for, if it is still the active one: its counters
        // drop the match too (an ended season's archived standings stay as they were).
        let season = seasons::active_locked(tx, &mode)?;
        let rows = tx.query(
            "SELECT user_id, kills, hero, result, mmr_before, mu_before, sigma_before \
             FROM match_participants WHERE match_id = ? ORDER BY user_id",
            &[ParameterValue::Uint64(match_id)],
        )?;
        let mut players = Vec::new();
        for r in rows.iter() {
            players.push(Participant {
                user_id: r.get("user_id")?,
                kills: r.get("kills")?,
                hero: r.get("hero")?,
                result: r.get("result")?,
                mmr_before: r.get("mmr_before")?,
                mu_before: r.get("mu_before")?,
                sigma_before: r.get("sigma_before")?,
            });
        }
        let (mut reversed, mut skipped) = (Vec::new(), Vec::new());
        for p in &players {
            let (w, l, d) = match p.result.as_deref() {
                Some("win") => (1, 0, 0),
                Some("loss") => (0, 1, 0),
                Some("draw") => (0, 0, 1),
                _ => (0, 0, 0),
            };
            let later: i64 = tx
                .query_scalar(
                    "SELECT COUNT(*) FROM match_participants mp JOIN matches m ON m.id = mp.match_id \
                     WHERE mp.user_id = ? AND m.mode = ? AND m.status = 'completed' AND m.id <> ? \
                     AND (m.completed_at_ms > ? OR (m.completed_at_ms = ? AND m.id > ?))",
                    &[
                        ParameterValue::Uint64(p.user_id),
                        ParameterValue::Str(mode.clone()),
                        ParameterValue::Uint64(match_id),
                        ParameterValue::Int64(completed_at),
                        ParameterValue::Int64(completed_at),
                        ParameterValue::Uint64(match_id),
                    ],
                )?
                .unwrap_or(0);
            // Counters always drop the match (GREATEST guards the unsigned columns), its
            // kills included.
            tx.execute(
                "UPDATE user_stats SET wins = GREATEST(CAST(wins AS SIGNED) - ?, 0), \
                 losses = GREATEST(CAST(losses AS SIGNED) - ?, 0), \
                 draws = GREATEST(CAST(draws AS SIGNED) - ?, 0), \
                 games = GREATEST(CAST(games AS SIGNED) - 1, 0), \
                 kills = GREATEST(CAST(kills AS SIGNED) - ?, 0) WHERE user_id = ? AND mode = ?",
                &[
                    ParameterValue::Int32(w),
                    ParameterValue::Int32(l),
                    ParameterValue::Int32(d),
                    ParameterValue::Int64(i64::from(p.kills)),
                    ParameterValue::Uint64(p.user_id),
                    ParameterValue::Str(mode.clone()),
                ],
            )?;
            unplay_in_season(tx, &season, &mode, p.user_id, completed_at, (w, l, d))?;
            match (later, p.mmr_before, p.mu_before, p.sigma_before) {
                (0, Some(mmr), Some(mu), Some(sigma)) => {
                    tx.execute(
                        "UPDATE user_stats SET mmr = ?, mu = ?, sigma = ?, streak = 0 \
                         WHERE user_id = ? AND mode = ?",
                        &[
                            ParameterValue::Int32(mmr),
                            ParameterValue::Floating64(mu),
                            ParameterValue::Floating64(sigma),
                            ParameterValue::Uint64(p.user_id),
                            ParameterValue::Str(mode.clone()),
                        ],
                    )?;
                    reversed.push(json!({"user_id": p.user_id, "mmr": mmr}));
                }
                _ => skipped.push(json!({
                    "user_id": p.user_id,
                    "why": "played a later match in this mode; rating kept",
                })),
            }
        }
        let picks: Vec<(String, bool)> = players
            .iter()
            .filter_map(|p| {
                p.hero
                    .clone()
                    .map(|h| (h, p.result.as_deref() == Some("win")))
            })
            .collect();
        analytics::subtract_hero_picks(tx, analytics::day_of(completed_at), &mode, &picks)?;
        // The feed must not go on claiming the match counted: its result wrote its feed
        // items at its completion time (the same `now`): the match's own (`match_id` in
        // their data) and its participants' rank-ups.
        let mut sql = String::from(
            "DELETE FROM feed_events WHERE created_at_ms = ? AND \
             (JSON_VALUE(payload, '$.match_id') = CAST(? AS CHAR)",
        );
        let mut params = vec![
            ParameterValue::Int64(completed_at),
            ParameterValue::Uint64(match_id),
        ];
        if !players.is_empty() {
            sql.push_str(" OR (kind = 'rank_up' AND user_id IN (");
            sql.push_str(&vec!["?"; players.len()].join(", "));
            sql.push_str("))");
            params.extend(players.iter().map(|p| ParameterValue::Uint64(p.user_id)));
        }
        sql.push(')');
        tx.execute(&sql, &params)?;
        tx.execute(
            "UPDATE matches SET status = 'voided' WHERE id = ?",
            &[ParameterValue::Uint64(match_id)],
        )?;
        let mut audit = Audit::new("admin_void_match")
            .actor(actor)
            .target("match", match_id)
            .ip(ip)
            .reason(reason.clone())
            .before(json!({"status": "completed"}))
            .after(json!({"status": "voided", "reversed": reversed, "skipped": skipped}));
        if !skipped.is_empty() {
            audit = audit.reason(format!("{reason} (reversal skipped for {} player(s))", skipped.len()));
        }
        audit.record(tx, now)?;
        let ids: Vec<u64> = players.iter().map(|p| p.user_id).collect();
        Ok::<_, AppError>((mode, reversed, skipped, ids))
    })?;
    crate::users::cache::invalidate(redis, &voided_players);
    // The boards come from MySQL; if a rebuild is already running, mark them stale so
    // the next read rebuilds.
    if leaderboard::rebuild(redis, db, &mode, &config::regions()).is_err() {
        leaderboard::invalidate(redis, &mode)?;
    }
    // The cached overviews (one per `days`, see components/analytics) counted the match.
    let keys: Vec<String> = (1..=90)
        .map(|d| format!("analytics:overview:{d}"))
        .collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    redis.del(&keys)?;
    Ok(json!({"match_id": match_id, "status": "voided", "reversed": reversed, "skipped": skipped}))
}

/// Takes a voided match off a player's season counters when it counted for the active
/// season (completed after its start, and the player's row is in it); placement is
/// recomputed, so a player whose only game is voided leaves the board.
fn unplay_in_season(
    tx: &Db,
    season: &ActiveSeason,
    mode: &str,
    user_id: u64,
    completed_at: i64,
    (w, l, d): (i32, i32, i32),
) -> Result<(), AppError> {
    if completed_at < season.starts_at {
        return Ok(());
    }
    let rows = tx.query(
        "SELECT season_id, season_games, season_wins, season_losses, season_draws FROM user_stats \
         WHERE user_id = ? AND mode = ?",
        &rh_infra::params![user_id, mode],
    )?;
    let Some(r) = rows.first() else {
        return Ok(());
    };
    if r.get::<u64>("season_id")? != season.id {
        return Ok(());
    }
    let less = |col: &str, n: i32| -> Result<u32, AppError> {
        Ok(r.get::<u32>(col)?.saturating_sub(n.max(0) as u32))
    };
    let games = less("season_games", 1)?;
    let placed = rh_domain::seasons::is_placed(games, season.settings.placement_games);
    tx.execute(
        "UPDATE user_stats SET season_games = ?, season_wins = ?, season_losses = ?, \
         season_draws = ?, placed = ? WHERE user_id = ? AND mode = ?",
        &rh_infra::params![
            games,
            less("season_wins", w)?,
            less("season_losses", l)?,
            less("season_draws", d)?,
            u8::from(placed),
            user_id,
            mode
        ],
    )?;
    Ok(())
}
