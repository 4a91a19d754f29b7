//! Ranked seasons over MySQL and Redis: the schedule, the active season every result
//! counts for, the rollover the ticks drive, and the archive of past seasons. The rules
//! (timeline plans, soft reset, inactivity, placement, badges) are `rh_domain::seasons`;
//! the design and its guarantees are `docs/seasons.md`.
//!
//! # Which season a result counts for
//! Exactly one `seasons` row is `active`. A result's transaction reads it with a shared
//! lock after locking the match and before locking the players' stats
//! ([`active_locked`]); the rollover's claim takes that row's exclusive lock and, in the
//! same transaction, archives every player's final standing and makes the successor
//! active. So a result is either committed before the claim (and is in the archived
//! standings of the old season) or applied after it, to the new season, with its players
//! soft-reset first if the rollover's batches have not reached them yet
//! ([`enter_season`]). No result is lost and none counts twice.
//!
//! # Layout
//! - `mod.rs` (this file): [`SeasonError`], the season view, the active season;
//! - [`schedule`]: creating, rescheduling, ending early, listing;
//! - [`rollover`]: the tick's claim, the batched soft reset and rewards, the finish;
//! - [`history`]: past boards and a player's season history and badges.

pub mod history;
pub mod rollover;
pub mod schedule;

use std::collections::BTreeMap;

use serde::Serialize;

use rh_domain::seasons::{self as rules, ModeSettings, ScheduleError};
use rh_infra::db::{Db, DbError, IsDeadlock, Row};
use rh_infra::params;
use rh_infra::problem::FieldError;
use rh_infra::redis::RedisError;
use rh_infra::AppError;

use crate::leaderboard::LbError;

/// Errors of the seasons feature.
#[derive(Debug, thiserror::Error)]
pub enum SeasonError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Redis(#[from] RedisError),
    #[error(transparent)]
    Leaderboard(#[from] LbError),
    /// 404 / 409 / 422, as the domain classifies it.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 422 on some fields.
    #[error("invalid season")]
    Invalid(Vec<FieldError>),
}

impl IsDeadlock for SeasonError {
    fn is_deadlock(&self) -> bool {
        matches!(self, SeasonError::Db(e) if e.is_deadlock())
    }
}

impl From<SeasonError> for AppError {
    fn from(e: SeasonError) -> Self {
        match e {
            SeasonError::Db(e) => AppError::Db(e),
            SeasonError::Redis(e) => AppError::Redis(e),
            SeasonError::Leaderboard(e) => e.into(),
            SeasonError::NotFound(m) => AppError::NotFound(m),
            SeasonError::Invalid(errors) => AppError::Validation(errors),
            SeasonError::Schedule(e) => match (&e, e.field()) {
                (ScheduleError::Unknown(_), _) => AppError::NotFound(e.to_string()),
                (_, Some(field)) => AppError::invalid_field(field, e.to_string()),
                _ => AppError::Conflict(e.to_string()),
            },
        }
    }
}

/// A season as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Season {
    pub id: u64,
    pub name: String,
    /// Epoch ms.
    pub starts_at: i64,
    /// Epoch ms; `null` while open-ended.
    pub ends_at: Option<i64>,
    /// `scheduled`, `active`, `rolling` (its rollover is under way) or `ended`.
    pub status: String,
    /// Settings per mode (every mode of the install).
    pub modes: BTreeMap<String, ModeSettings>,
    pub rollover_started_at: Option<i64>,
    pub rollover_finished_at: Option<i64>,
    /// Players the rollover reset, over every mode (0 until it finished).
    pub players_reset: u64,
}

impl Season {
    /// The season's window, as the domain's plans take it.
    pub fn window(&self) -> rules::Window {
        rules::Window {
            id: self.id,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            closed: matches!(self.status.as_str(), "rolling" | "ended"),
        }
    }

    /// The summary `season_started` / `season_ended` carry.
    pub fn summary(&self) -> rh_domain::events::SeasonSummary {
        rh_domain::events::SeasonSummary {
            id: self.id,
            name: self.name.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
        }
    }

    /// This season's settings for `mode` (the domain's defaults if it has no row).
    pub fn settings(&self, mode: &str) -> ModeSettings {
        self.modes.get(mode).cloned().unwrap_or_default()
    }
}

const SEASON_COLUMNS: &str = "id, name, starts_at_ms, ends_at_ms, status, \
     rollover_started_at_ms, rollover_finished_at_ms, players_reset";

fn season_from_row(r: Row<'_>) -> Result<Season, DbError> {
    Ok(Season {
        id: r.get("id")?,
        name: r.get("name")?,
        starts_at: r.get("starts_at_ms")?,
        ends_at: r.get("ends_at_ms")?,
        status: r.get("status")?,
        modes: BTreeMap::new(),
        rollover_started_at: r.get("rollover_started_at_ms")?,
        rollover_finished_at: r.get("rollover_finished_at_ms")?,
        players_reset: r.get("players_reset")?,
    })
}

/// Fills each season's `modes` from `season_modes` (defaults for a mode without a row).
fn with_modes(db: &Db, mut seasons: Vec<Season>) -> Result<Vec<Season>, DbError> {
    if seasons.is_empty() {
        return Ok(seasons);
    }
    let modes: Vec<String> = db
        .query("SELECT name FROM modes ORDER BY name", &[])?
        .iter()
        .map(|r| r.get("name"))
        .collect::<Result<_, _>>()?;
    let ids: Vec<String> = seasons.iter().map(|s| s.id.to_string()).collect();
    // Ids are integers we read ourselves; they are still passed as parameters.
    let sql = format!(
        "SELECT season_id, mode, placement_games, soft_reset_k, reward_top_ranks \
         FROM season_modes WHERE season_id IN ({})",
        vec!["?"; ids.len()].join(", ")
    );
    let params: Vec<_> = seasons
        .iter()
        .map(|s| spin_sdk::mysql::ParameterValue::Uint64(s.id))
        .collect();
    let rows = db.query(&sql, &params)?;
    for s in &mut seasons {
        for m in &modes {
            s.modes.insert(m.clone(), ModeSettings::default());
        }
    }
    for r in rows.iter() {
        let id: u64 = r.get("season_id")?;
        let settings = ModeSettings {
            placement_games: r.get("placement_games")?,
            soft_reset_k: r.get("soft_reset_k")?,
            reward_top_ranks: ModeSettings::parse_top_ranks(&r.get::<String>("reward_top_ranks")?),
        };
        if let Some(s) = seasons.iter_mut().find(|s| s.id == id) {
            s.modes.insert(r.get("mode")?, settings);
        }
    }
    Ok(seasons)
}

/// Every season, oldest first.
pub fn list(db: &Db) -> Result<Vec<Season>, SeasonError> {
    let rows = db.query(
        &format!("SELECT {SEASON_COLUMNS} FROM seasons ORDER BY starts_at_ms, id"),
        &[],
    )?;
    let seasons = rows
        .iter()
        .map(season_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(with_modes(db, seasons)?)
}

/// One season, or 404.
pub fn get(db: &Db, id: u64) -> Result<Season, SeasonError> {
    let rows = db.query(
        &format!("SELECT {SEASON_COLUMNS} FROM seasons WHERE id = ?"),
        &params![id],
    )?;
    let season = rows
        .first()
        .map(season_from_row)
        .transpose()?
        .ok_or_else(|| SeasonError::NotFound(format!("season {id} does not exist")))?;
    Ok(with_modes(db, vec![season])?.remove(0))
}

/// The active season (the one results count for).
pub fn current(db: &Db) -> Result<Season, SeasonError> {
    let rows = db.query(
        &format!(
            "SELECT {SEASON_COLUMNS} FROM seasons WHERE status = 'active' ORDER BY id DESC LIMIT 1"
        ),
        &[],
    )?;
    let season = rows
        .first()
        .map(season_from_row)
        .transpose()?
        .ok_or_else(|| SeasonError::NotFound("no season is active".into()))?;
    Ok(with_modes(db, vec![season])?.remove(0))
}

/// What a result needs of the active season, read inside its transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveSeason {
    pub id: u64,
    pub starts_at: i64,
    pub settings: ModeSettings,
}

/// The active season and its settings for `mode`, under a shared lock on its row (see
/// the module docs: this is what orders a result against the rollover's claim).
pub fn active_locked(db: &Db, mode: &str) -> Result<ActiveSeason, DbError> {
    let rows = db.query(
        "SELECT s.id, s.starts_at_ms, sm.placement_games, sm.soft_reset_k, sm.reward_top_ranks \
         FROM seasons s LEFT JOIN season_modes sm ON sm.season_id = s.id AND sm.mode = ? \
         WHERE s.status = 'active' LOCK IN SHARE MODE",
        &params![mode],
    )?;
    let r = rows
        .first()
        .ok_or_else(|| DbError::Query("no season is active (migration V9 seeds one)".into()))?;
    let defaults = ModeSettings::default();
    Ok(ActiveSeason {
        id: r.get("id")?,
        starts_at: r.get("starts_at_ms")?,
        settings: ModeSettings {
            placement_games: r
                .get::<Option<u32>>("placement_games")?
                .unwrap_or(defaults.placement_games),
            soft_reset_k: r
                .get::<Option<f64>>("soft_reset_k")?
                .unwrap_or(defaults.soft_reset_k),
            reward_top_ranks: r
                .get::<Option<String>>("reward_top_ranks")?
                .map(|t| ModeSettings::parse_top_ranks(&t))
                .unwrap_or(defaults.reward_top_ranks),
        },
    })
}

/// A player's season state as a result reads it under the row lock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeasonState {
    pub season_id: u64,
    pub games: u32,
    pub wins: u32,
    pub losses: u32,
    pub draws: u32,
    pub peak_mmr: Option<i32>,
    pub placed: bool,
}

/// A player's rating and season state as they enter `active` for this result: when the
/// row still names an older season (the rollover's batches have not reached them), the
/// soft reset the batch would have applied, with the season's counters at zero; then the
/// inactivity widening for the time since their last match (or the season's start,
/// whichever is later). Returns `(mu, sigma, state)`.
pub fn enter_season(
    active: &ActiveSeason,
    mu: f64,
    sigma: f64,
    last_match_at: Option<i64>,
    state: SeasonState,
    now_ms: i64,
) -> (f64, f64, SeasonState) {
    let (mut mu, mut sigma, mut state) = (mu, sigma, state);
    if state.season_id != active.id {
        let idle = last_match_at.map_or(0, |t| active.starts_at - t);
        let reset = rules::soft_reset(mu, sigma, idle, active.settings.soft_reset_k);
        (mu, sigma) = (reset.mu, reset.sigma);
        state = SeasonState {
            season_id: active.id,
            games: 0,
            wins: 0,
            losses: 0,
            draws: 0,
            peak_mmr: None,
            placed: false,
        };
    }
    if let Some(last) = last_match_at {
        sigma = rules::widen_for_inactivity(sigma, now_ms - last.max(active.starts_at));
    }
    (mu, sigma, state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active() -> ActiveSeason {
        ActiveSeason {
            id: 2,
            starts_at: 1_000_000,
            settings: ModeSettings::default(),
        }
    }

    fn state(season_id: u64) -> SeasonState {
        SeasonState {
            season_id,
            games: 7,
            wins: 4,
            losses: 3,
            draws: 0,
            peak_mmr: Some(1800),
            placed: true,
        }
    }

    #[test]
    fn a_player_of_the_old_season_is_soft_reset_and_starts_unplaced() {
        let (mu, sigma, s) = enter_season(&active(), 35.0, 2.0, Some(999_000), state(1), 1_000_500);
        let expected = rules::soft_reset(35.0, 2.0, 1_000, rules::DEFAULT_SOFT_RESET_K);
        assert_eq!((mu, sigma), (expected.mu, expected.sigma));
        assert_eq!(
            (s.season_id, s.games, s.placed, s.peak_mmr),
            (2, 0, false, None)
        );
    }

    #[test]
    fn a_player_already_in_the_season_keeps_rating_and_counters() {
        let (mu, sigma, s) =
            enter_season(&active(), 35.0, 2.0, Some(1_000_100), state(2), 1_000_500);
        assert_eq!((mu, sigma), (35.0, 2.0));
        assert_eq!(s, state(2));
    }

    #[test]
    fn idleness_is_counted_from_the_season_start_when_that_is_later() {
        const DAY: i64 = 86_400_000;
        let a = active();
        // Last played long before the season began: only the time since its start counts.
        let now = a.starts_at + 100 * DAY;
        let (_, sigma, _) =
            enter_season(&a, 25.0, 6.0, Some(a.starts_at - 400 * DAY), state(2), now);
        assert_eq!(sigma, rules::widen_for_inactivity(6.0, 100 * DAY));
    }
}
