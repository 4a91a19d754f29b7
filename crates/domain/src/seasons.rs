//! Ranked seasons: the schedule's rules, the soft reset at rollover, placement, inactivity
//! and end-of-season rewards. Pure: the storage and the rollover's steps are
//! `rh_app::seasons`.
//!
//! # The schedule
//! Seasons cover every mode at once (each mode has its own [`ModeSettings`]) and follow
//! each other without gaps: a season ends exactly when the next one starts, and only the
//! last one may be open-ended (`ends_at = None`). A fresh install has one open-ended
//! season starting at 0, so nothing changes for a studio that never configures one.
//! Scheduling a season after an open-ended one closes the open-ended one at the new
//! start ([`plan_create`]); moving a boundary moves both seasons that share it
//! ([`plan_reschedule`]); ending a season early moves its end (and its successor's start)
//! to now ([`plan_end_early`]). Overlaps (409), gaps, inverted or past windows (422) are
//! refused with a [`ScheduleError`] that says which. When a season ends with no
//! successor, the rollover schedules an open-ended one itself, so there is always a
//! current season.
//!
//! # Soft reset (at rollover, for every player with a rating in a mode)
//! `μ' = c + k·(μ − c)` with `c` = a new player's μ (25, mmr 1500) and `k` per mode
//! (default [`DEFAULT_SOFT_RESET_K`] = 0.75): a Master at 2100 mmr starts the next season
//! at 1950 (top of Diamond), a Silver at 1400 at 1425, a new player stays at 1500. Because
//! `k > 0` the pull is strictly increasing in μ, so the order of players is kept (mmr
//! rounding can only turn a gap into a tie, never swap two players).
//!
//! σ is raised toward a target that grows with the player's inactivity at the season's
//! end: `target = σ_active + (σ_new − σ_active)·min(months_idle, 12)/12`, with
//! σ_active = [`SIGMA_ACTIVE`] = 5 and σ_new = 25/3 ≈ 8.33 (a new player's σ), one month =
//! 30 days. This is Teiserver's rule in shape: an active player comes back at σ 5, one
//! back after a year (or more) at 8.33, a new player's uncertainty. σ is never lowered by a
//! reset (`σ' = max(σ, target)`) and never exceeds σ_new. With the higher σ, placement
//! games move the rating further (Weng-Lin's step is proportional to σ²).
//!
//! # Inactivity when a player next plays
//! Before a result is rated, a player's σ is widened by a per-day dynamics term:
//! `σ' = min(sqrt(σ² + τ_d²·max(0, days_idle − grace)), σ_new)` with τ_d =
//! [`INACTIVITY_TAU_PER_DAY`] = 0.3 and a grace of [`INACTIVITY_GRACE_DAYS`] = 14 days, so
//! weekly players never widen, a settled σ of 2 becomes about 3.1 after two months off
//! and 6.1 after a year. Days are counted from the later of the player's last match and the
//! current season's start, because the season's soft reset already accounted for the time
//! before it. The displayed mmr never decays by itself, and neither do tiers: a tier is a
//! function of mmr, so a player away for a year keeps their tier until they play (and,
//! through the higher σ, then move faster). Tiers change at a rollover only because the
//! soft reset moves μ.
//!
//! # Placement
//! The first `placement_games` games of a season in a mode (default
//! [`DEFAULT_PLACEMENT_GAMES`] = 5; 0 in the install's first season, so nothing changes)
//! are placement games: the player is rated but shows no tier and is not on the season's
//! board until placed ([`is_placed`]). With 0 placement games a player is placed by their
//! first game, as before seasons existed.
//!
//! # Rewards
//! At the end of a season every placed player gets one badge per mode for their final
//! tier (`gold`, ...) and, when their final rank is within one of the mode's
//! `reward_top_ranks` (default 1, 10, 100), the best such badge (`top_1`, `top_10`, ...):
//! [`reward_badges`].

use serde::{Deserialize, Serialize};

use crate::rating::{RatingParams, MMR_CENTRE};
use crate::tiers::Tier;

/// Placement games of a season created through the admin routes.
pub const DEFAULT_PLACEMENT_GAMES: u32 = 5;
/// Most placement games a season may ask for.
pub const MAX_PLACEMENT_GAMES: u32 = 50;
/// Fraction of a player's distance from the centre kept across a rollover.
pub const DEFAULT_SOFT_RESET_K: f64 = 0.75;
/// σ an active player is raised to at a rollover.
pub const SIGMA_ACTIVE: f64 = 5.0;
/// Months of inactivity after which a rollover raises σ all the way to a new player's.
pub const SIGMA_FULL_AFTER_MONTHS: f64 = 12.0;
/// Per-day dynamics of the inactivity widening (σ units per √day).
pub const INACTIVITY_TAU_PER_DAY: f64 = 0.3;
/// Days off that never widen σ.
pub const INACTIVITY_GRACE_DAYS: f64 = 14.0;
/// Top-rank badges by default: `top_1`, `top_10`, `top_100`.
pub const DEFAULT_REWARD_TOP_RANKS: [u32; 3] = [1, 10, 100];
/// Longest season name.
pub const MAX_NAME_CHARS: usize = 64;

const DAY_MS: f64 = 86_400_000.0;
const MONTH_DAYS: f64 = 30.0;

/// One mode's settings in one season.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeSettings {
    #[serde(default = "default_placement")]
    pub placement_games: u32,
    /// `k` of the soft reset, in `[0, 1]` (1 = no reset, 0 = everyone back to 1500).
    #[serde(default = "default_k")]
    pub soft_reset_k: f64,
    /// Ranks that earn a `top_{n}` badge, ascending, each at least 1.
    #[serde(default = "default_top_ranks")]
    pub reward_top_ranks: Vec<u32>,
}

fn default_placement() -> u32 {
    DEFAULT_PLACEMENT_GAMES
}
fn default_k() -> f64 {
    DEFAULT_SOFT_RESET_K
}
fn default_top_ranks() -> Vec<u32> {
    DEFAULT_REWARD_TOP_RANKS.to_vec()
}

impl Default for ModeSettings {
    fn default() -> Self {
        Self {
            placement_games: DEFAULT_PLACEMENT_GAMES,
            soft_reset_k: DEFAULT_SOFT_RESET_K,
            reward_top_ranks: DEFAULT_REWARD_TOP_RANKS.to_vec(),
        }
    }
}

impl ModeSettings {
    /// The settings, or what is wrong with them (field names relative to the mode).
    pub fn check(&self) -> Result<(), Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        if self.placement_games > MAX_PLACEMENT_GAMES {
            errors.push((
                "placement_games",
                format!("must be at most {MAX_PLACEMENT_GAMES}"),
            ));
        }
        if !(0.0..=1.0).contains(&self.soft_reset_k) {
            errors.push(("soft_reset_k", "must be between 0 and 1".to_owned()));
        }
        if self.reward_top_ranks.len() > 10
            || self.reward_top_ranks.contains(&0)
            || self.reward_top_ranks.windows(2).any(|w| w[0] >= w[1])
        {
            errors.push((
                "reward_top_ranks",
                "must be at most 10 ascending ranks, each at least 1".to_owned(),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// `reward_top_ranks` as stored: `1,10,100`.
    pub fn top_ranks_text(&self) -> String {
        self.reward_top_ranks
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The inverse of [`ModeSettings::top_ranks_text`] (unparsable parts are skipped).
    pub fn parse_top_ranks(text: &str) -> Vec<u32> {
        text.split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect()
    }
}

/// A player's rating in a mode, as the rollover reads and writes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reset {
    pub mu: f64,
    pub sigma: f64,
    pub mmr: i32,
}

/// The soft reset of one player (see the module doc). `idle_ms` is the time from the
/// player's last match to the season's end (0 if unknown or negative).
pub fn soft_reset(mu: f64, sigma: f64, idle_ms: i64, k: f64) -> Reset {
    let params = RatingParams::default();
    let centre = params.mu;
    let k = k.clamp(0.0, 1.0);
    let mu = centre + k * (mu - centre);
    let months = (idle_ms.max(0) as f64 / DAY_MS / MONTH_DAYS).min(SIGMA_FULL_AFTER_MONTHS);
    let target = SIGMA_ACTIVE + (params.sigma - SIGMA_ACTIVE) * months / SIGMA_FULL_AFTER_MONTHS;
    // target <= σ_new, so this never exceeds a new player's σ (nor lowers any σ).
    Reset {
        mu,
        sigma: sigma.max(target),
        mmr: crate::rating::mmr_from_mu(mu),
    }
}

/// σ widened for `idle_ms` without a match (see the module doc), capped at a new
/// player's σ. A σ already above the cap is left as it is.
pub fn widen_for_inactivity(sigma: f64, idle_ms: i64) -> f64 {
    let cap = RatingParams::default().sigma;
    let days = (idle_ms.max(0) as f64 / DAY_MS - INACTIVITY_GRACE_DAYS).max(0.0);
    if days == 0.0 || sigma >= cap {
        return sigma;
    }
    (sigma * sigma + INACTIVITY_TAU_PER_DAY * INACTIVITY_TAU_PER_DAY * days)
        .sqrt()
        .min(cap)
}

/// Whether a player with `season_games` this season is placed (on the board, with a
/// tier): after `placement_games` games, and at least one.
pub fn is_placed(season_games: u32, placement_games: u32) -> bool {
    season_games >= placement_games.max(1)
}

/// Whether the game that took a player from `before` to `before + 1` season games
/// completed a placement of at least one game.
pub fn completes_placement(before: u32, placement_games: u32) -> bool {
    placement_games > 0 && before + 1 == placement_games
}

/// The badges a placed player earns: the final tier's, and the best `top_{n}` whose `n`
/// is at least the final rank.
pub fn reward_badges(tier: Tier, final_rank: u64, top_ranks: &[u32]) -> Vec<String> {
    let mut badges = vec![tier.as_str().to_owned()];
    if let Some(n) = top_ranks
        .iter()
        .filter(|n| final_rank <= u64::from(**n))
        .min()
    {
        badges.push(format!("top_{n}"));
    }
    badges
}

/// The mmr a new player shows (the soft reset's centre).
pub fn centre_mmr() -> i32 {
    MMR_CENTRE
}

/// A season's place on the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub id: u64,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    /// Its rollover has begun or finished: its window is history.
    pub closed: bool,
}

/// Why a schedule change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// 404.
    #[error("season {0} does not exist")]
    Unknown(u64),
    /// 422: `ends_at` not after `starts_at`.
    #[error("ends_at must be after starts_at")]
    Inverted,
    /// 422: a start or end that is not in the future.
    #[error("{0} must be in the future")]
    InPast(&'static str),
    /// 409: the window overlaps another season's.
    #[error("the season would overlap season {0}")]
    Overlap(u64),
    /// 422: seasons follow each other without gaps.
    #[error("the season must start when season {0} ends (at {1}); seasons follow each other without gaps")]
    Gap(u64, i64),
    /// 409: the change would move a boundary that has already passed.
    #[error("season {0} has already started; its start cannot move")]
    Started(u64),
    /// 409: the season has ended (or is rolling over).
    #[error("season {0} has ended")]
    Ended(u64),
    /// 409: only the season under way can be ended early.
    #[error("season {0} is not under way")]
    NotCurrent(u64),
    /// 422: only the last season may be open-ended.
    #[error("only the last season may be open-ended (season {0} follows)")]
    OpenEndedNotLast(u64),
}

impl ScheduleError {
    /// The field a 422 is about, for problem+json's `errors`.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ScheduleError::Inverted | ScheduleError::OpenEndedNotLast(_) => Some("ends_at"),
            ScheduleError::InPast(f) => Some(f),
            ScheduleError::Gap(..) => Some("starts_at"),
            _ => None,
        }
    }
}

fn sorted(windows: &[Window]) -> Vec<Window> {
    let mut w = windows.to_vec();
    w.sort_by_key(|w| (w.starts_at, w.id));
    w
}

/// Checks the whole timeline: ordered, contiguous, no inverted window, only the last
/// open-ended.
pub fn check_timeline(windows: &[Window]) -> Result<(), ScheduleError> {
    let w = sorted(windows);
    for (i, s) in w.iter().enumerate() {
        if s.ends_at.is_some_and(|e| e <= s.starts_at) {
            return Err(ScheduleError::Inverted);
        }
        if let Some(next) = w.get(i + 1) {
            match s.ends_at {
                None => return Err(ScheduleError::OpenEndedNotLast(next.id)),
                Some(e) if e > next.starts_at => return Err(ScheduleError::Overlap(next.id)),
                Some(e) if e < next.starts_at => return Err(ScheduleError::Gap(s.id, e)),
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// The timeline with a new season `new_id` from `starts_at` to `ends_at` appended.
pub fn plan_create(
    windows: &[Window],
    new_id: u64,
    starts_at: i64,
    ends_at: Option<i64>,
    now: i64,
) -> Result<Vec<Window>, ScheduleError> {
    if starts_at <= now {
        return Err(ScheduleError::InPast("starts_at"));
    }
    if ends_at.is_some_and(|e| e <= starts_at) {
        return Err(ScheduleError::Inverted);
    }
    let mut w = sorted(windows);
    if let Some(last) = w.last_mut() {
        if starts_at <= last.starts_at {
            return Err(ScheduleError::Overlap(last.id));
        }
        match last.ends_at {
            // Closing the open-ended season at the new start.
            None if !last.closed => last.ends_at = Some(starts_at),
            None => {}
            Some(e) if starts_at < e => return Err(ScheduleError::Overlap(last.id)),
            Some(e) if starts_at > e => return Err(ScheduleError::Gap(last.id, e)),
            Some(_) => {}
        }
    }
    w.push(Window {
        id: new_id,
        starts_at,
        ends_at,
        closed: false,
    });
    check_timeline(&w)?;
    Ok(w)
}

/// What a reschedule asks for: `None` leaves a field as it is; `ends_at: Some(None)`
/// makes the season open-ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reschedule {
    pub starts_at: Option<i64>,
    pub ends_at: Option<Option<i64>>,
}

/// The timeline after moving season `id`'s start and/or end; a moved boundary moves the
/// neighbour that shares it.
pub fn plan_reschedule(
    windows: &[Window],
    id: u64,
    change: Reschedule,
    now: i64,
) -> Result<Vec<Window>, ScheduleError> {
    let mut w = sorted(windows);
    let i = w
        .iter()
        .position(|s| s.id == id)
        .ok_or(ScheduleError::Unknown(id))?;
    if w[i].closed {
        return Err(ScheduleError::Ended(id));
    }
    if let Some(start) = change.starts_at {
        if start != w[i].starts_at {
            if w[i].starts_at <= now {
                return Err(ScheduleError::Started(id));
            }
            if start <= now {
                return Err(ScheduleError::InPast("starts_at"));
            }
            w[i].starts_at = start;
            if i > 0 {
                let prev = &mut w[i - 1];
                if prev.closed {
                    return Err(ScheduleError::Ended(prev.id));
                }
                if start <= prev.starts_at {
                    return Err(ScheduleError::Overlap(prev.id));
                }
                prev.ends_at = Some(start);
            }
        }
    }
    if let Some(end) = change.ends_at {
        if end != w[i].ends_at {
            match end {
                Some(e) if e <= now => return Err(ScheduleError::InPast("ends_at")),
                Some(e) if e <= w[i].starts_at => return Err(ScheduleError::Inverted),
                _ => {}
            }
            w[i].ends_at = end;
            if let Some(next) = w.get_mut(i + 1) {
                let e = end.ok_or(ScheduleError::OpenEndedNotLast(next.id))?;
                if next.starts_at <= now {
                    return Err(ScheduleError::Started(next.id));
                }
                if next.ends_at.is_some_and(|ne| ne <= e) {
                    return Err(ScheduleError::Overlap(next.id));
                }
                next.starts_at = e;
            }
        }
    }
    check_timeline(&w)?;
    Ok(w)
}

/// The timeline after ending the season under way (`id`) at `now`; its successor, if
/// scheduled, starts at `now` instead.
pub fn plan_end_early(windows: &[Window], id: u64, now: i64) -> Result<Vec<Window>, ScheduleError> {
    let mut w = sorted(windows);
    let i = w
        .iter()
        .position(|s| s.id == id)
        .ok_or(ScheduleError::Unknown(id))?;
    if w[i].closed {
        return Err(ScheduleError::Ended(id));
    }
    if w[i].starts_at > now || w[i].ends_at.is_some_and(|e| e <= now) {
        return Err(ScheduleError::NotCurrent(id));
    }
    // The new start keeps the window non-empty even for a season begun this millisecond.
    let end = now.max(w[i].starts_at + 1);
    w[i].ends_at = Some(end);
    if let Some(next) = w.get_mut(i + 1) {
        next.starts_at = end;
        if next.ends_at.is_some_and(|e| e <= end) {
            return Err(ScheduleError::Overlap(next.id));
        }
    }
    check_timeline(&w)?;
    Ok(w)
}

/// The season current at `now` on a contiguous timeline: the last one started.
pub fn current_at(windows: &[Window], now: i64) -> Option<Window> {
    sorted(windows)
        .into_iter()
        .rev()
        .find(|w| w.starts_at <= now)
}

#[cfg(test)]
#[path = "seasons_tests.rs"]
mod tests;
