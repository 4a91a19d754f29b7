//! Applying a match result exactly once.
//!
//! 1. Read the match (no lock). Unknown → 404. Already completed → compare the
//!    result's hash: the same result answers the stored outcome (200), another → 409.
//! 2. Check the participants against the roster and the winner against the mode.
//! 3. Make sure every player has a `user_stats` row (INSERT IGNORE, autocommit), so
//!    the transaction only updates existing rows: inserting under `FOR UPDATE` would
//!    take gap locks that deadlock two concurrent results.
//! 4. One transaction: `SELECT ... FOR UPDATE` the match row (a concurrent submission
//!    waits here and then sees `completed`), read the active season under a shared lock
//!    (the result counts for it: [`crate::seasons`]), lock the players' stats in user-id
//!    order (no deadlocks between matches sharing players), move each player into the
//!    season if the rollover has not yet, widen σ for inactivity, rate, update stats,
//!    participants and the match, write feed events, notifications and achievements.
//! 5. The answer is built from what the transaction wrote (no second read), exactly as a
//!    replay rebuilds it from what was stored, so a replay returns the same body.
//!
//! The Redis side (leaderboards, events) happens after commit in [`super::effects`].
//!
//! # Layout
//! - `mod.rs` (this file): the body, its hash, the answer, and steps 1 to 5;
//! - `apply.rs`: step 4's work on the locked rows, as named steps.

mod apply;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spin_sdk::mysql::ParameterValue;

use rh_infra::db::Db;

use rh_domain::rating::Rating;
use rh_domain::stats::PlayerStats;

use super::effects::AfterCommit;
use super::read::{get_match, MatchView};
use super::{in_transaction, placeholders, MatchError};
use crate::seasons::{self, SeasonState};

/// One participant's line of a result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParticipantResult {
    pub user_id: u64,
    #[serde(default)]
    pub kills: u32,
    #[serde(default)]
    pub deaths: u32,
    #[serde(default)]
    pub assists: u32,
    #[serde(default)]
    pub hero: Option<String>,
}

/// `PUT /api/v1/matches/{id}/result`'s body. `winner_team: null` is a draw.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultBody {
    pub winner_team: Option<u8>,
    pub duration_s: u32,
    pub participants: Vec<ParticipantResult>,
}

impl ResultBody {
    /// SHA-256 (hex) of the canonical form: participants sorted by user id, fields in a
    /// fixed order. Two bodies meaning the same result (key order, whitespace,
    /// participant order) hash the same.
    pub fn canonical_hash(&self) -> String {
        #[derive(Serialize)]
        struct Canonical<'a> {
            winner_team: Option<u8>,
            duration_s: u32,
            participants: Vec<&'a ParticipantResult>,
        }
        let mut participants: Vec<&ParticipantResult> = self.participants.iter().collect();
        participants.sort_by_key(|p| p.user_id);
        let canonical = Canonical {
            winner_team: self.winner_team,
            duration_s: self.duration_s,
            participants,
        };
        let bytes = serde_json::to_vec(&canonical).expect("plain structs serialise");
        hex::encode(Sha256::digest(bytes))
    }
}

/// One player's rating change in the answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RatingChange {
    pub user_id: u64,
    pub mmr_before: i32,
    pub mmr_after: i32,
}

/// The answer: `{match, rating_changes}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MatchResult {
    #[serde(rename = "match")]
    pub match_view: MatchView,
    pub rating_changes: Vec<RatingChange>,
}

/// What [`apply_result`] did.
#[derive(Debug)]
pub enum Applied {
    /// This call applied the result; `after` is the Redis work to do now.
    Fresh {
        result: MatchResult,
        after: Box<AfterCommit>,
    },
    /// The same result had been applied before; nothing changed.
    Replayed(MatchResult),
}

struct MatchRow {
    mode: String,
    region: String,
    status: String,
    result_hash: Option<String>,
    /// Fixed at creation: what the fresh answer shows without reading the match again.
    created_at_ms: i64,
    prediction: Option<super::MatchPrediction>,
}

/// The match with its mode's shape, in one query (no lock: step 1 and the re-read after
/// losing the race; the transaction locks with [`locked_status`]).
fn read_match(db: &Db, id: u64) -> Result<(MatchRow, rh_domain::modes::Mode), MatchError> {
    let rows = db.query(
        "SELECT m.mode, m.region, m.status, m.result_hash, m.created_at_ms, m.quality, \
         m.predicted_win, m.draw_probability, m.worst_latency_ms, md.teams, md.team_size \
         FROM matches m JOIN modes md ON md.name = m.mode WHERE m.id = ?",
        &[ParameterValue::Uint64(id)],
    )?;
    let r = rows.first().ok_or(MatchError::NotFound)?;
    let row = MatchRow {
        mode: r.get("mode")?,
        region: r.get("region")?,
        status: r.get("status")?,
        result_hash: r.get("result_hash")?,
        created_at_ms: r.get("created_at_ms")?,
        prediction: super::read::prediction_of(
            r.get("quality")?,
            r.get("predicted_win")?,
            r.get("draw_probability")?,
            r.get("worst_latency_ms")?,
        ),
    };
    let mode = rh_domain::modes::Mode {
        name: row.mode.clone(),
        teams: r.get::<u8>("teams")? as usize,
        team_size: r.get::<u8>("team_size")? as usize,
    };
    Ok((row, mode))
}

/// Locks the match row (only it: a join would lock the mode's row too, for every
/// result of the mode) and returns its status.
fn locked_status(db: &Db, id: u64) -> Result<String, MatchError> {
    db.query_scalar(
        "SELECT status FROM matches WHERE id = ? FOR UPDATE",
        &[ParameterValue::Uint64(id)],
    )?
    .ok_or(MatchError::NotFound)
}

/// The stored outcome of a completed match, for replays.
fn stored_result(db: &Db, id: u64) -> Result<MatchResult, MatchError> {
    Ok(MatchResult::of(get_match(db, id)?))
}

impl MatchResult {
    /// The answer for a completed match: its view, and each participant's rating change
    /// in the view's order.
    fn of(view: MatchView) -> Self {
        let rating_changes = view
            .participants
            .iter()
            .map(|p| RatingChange {
                user_id: p.user_id,
                mmr_before: p.mmr_before.unwrap_or_default(),
                mmr_after: p.mmr_after.unwrap_or_default(),
            })
            .collect();
        MatchResult {
            match_view: view,
            rating_changes,
        }
    }
}

/// Same hash → the stored outcome; otherwise a conflict.
fn settled(db: &Db, id: u64, row: &MatchRow, hash: &str) -> Result<Applied, MatchError> {
    if row.status == "completed" && row.result_hash.as_deref() == Some(hash) {
        return Ok(Applied::Replayed(stored_result(db, id)?));
    }
    Err(MatchError::Conflict(format!(
        "match {id} is already {} with a different result",
        row.status
    )))
}

#[derive(Debug, Clone)]
struct Locked {
    user_id: u64,
    rating: Rating,
    counters: PlayerStats,
    last_match_at: Option<i64>,
    season: SeasonState,
}

/// Applies `body` to match `id` exactly once (see the module docs).
pub fn apply_result(
    db: &Db,
    id: u64,
    body: ResultBody,
    now_ms: i64,
) -> Result<Applied, MatchError> {
    let hash = body.canonical_hash();

    // 1. Fast paths without a lock.
    let (row, mode) = read_match(db, id)?;
    if row.status != "pending" {
        return settled(db, id, &row, &hash);
    }

    // 2. Participants must be exactly the roster; the winner a team of the mode.
    let roster = roster(db, id)?;
    check_participants(&body, &roster, mode.teams)?;

    // 3. Stats rows exist before the transaction (see the module docs).
    let mut users: Vec<u64> = roster.iter().map(|(u, _)| *u).collect();
    users.sort_unstable();
    ensure_stats_rows(db, &row.mode, &users)?;

    // 4. The transaction.
    let outcome = in_transaction(db, || {
        if locked_status(db, id)? != "pending" {
            return Ok(None);
        }
        // Before the players' rows: the order every writer of seasons and stats keeps
        // (rh_app::seasons, "Which season a result counts for").
        let season = seasons::active_locked(db, &row.mode)?;
        let locked = lock_stats(db, &row.mode, &users)?;
        let ctx = apply::Context {
            id,
            row: &row,
            mode: &mode,
            body: &body,
            roster: &roster,
            season: &season,
            hash: &hash,
            now_ms,
        };
        let after = apply::apply_locked(db, &ctx, &locked)?;
        Ok(Some(after))
    })?;

    match outcome {
        // Someone else completed it while we waited for the lock.
        None => {
            let (row, _) = read_match(db, id)?;
            settled(db, id, &row, &hash)
        }
        Some((after, result)) => Ok(Applied::Fresh {
            result,
            after: Box::new(after),
        }),
    }
}

/// `(user_id, team)` of every participant.
fn roster(db: &Db, id: u64) -> Result<Vec<(u64, usize)>, MatchError> {
    let rows = db.query(
        "SELECT user_id, team FROM match_participants WHERE match_id = ? ORDER BY user_id",
        &[ParameterValue::Uint64(id)],
    )?;
    rows.iter()
        .map(|r| Ok((r.get::<u64>("user_id")?, r.get::<u8>("team")? as usize)))
        .collect()
}

fn check_participants(
    body: &ResultBody,
    roster: &[(u64, usize)],
    teams: usize,
) -> Result<(), MatchError> {
    if let Some(w) = body.winner_team {
        if w as usize >= teams {
            return Err(MatchError::Invalid(format!(
                "winner_team must be null or below {teams}"
            )));
        }
    }
    let mut posted: Vec<u64> = body.participants.iter().map(|p| p.user_id).collect();
    posted.sort_unstable();
    let expected: Vec<u64> = roster.iter().map(|(u, _)| *u).collect();
    if posted != expected {
        return Err(MatchError::Invalid(format!(
            "participants {posted:?} do not match the roster {expected:?}"
        )));
    }
    for p in &body.participants {
        if p.hero.as_ref().is_some_and(|h| h.chars().count() > 32) {
            return Err(MatchError::Invalid(
                "hero must be at most 32 characters".into(),
            ));
        }
    }
    Ok(())
}

fn ensure_stats_rows(db: &Db, mode: &str, users: &[u64]) -> Result<(), MatchError> {
    let fresh = Rating::default();
    // A new row starts in the active season (the column's default names the first).
    let mut sql = String::from(
        "INSERT IGNORE INTO user_stats (user_id, mode, mmr, mu, sigma, season_id) VALUES ",
    );
    let mut params = Vec::with_capacity(users.len() * 5);
    for (i, user) in users.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str("(?, ?, ?, ?, ?, (SELECT id FROM seasons WHERE status = 'active'))");
        params.push(ParameterValue::Uint64(*user));
        params.push(ParameterValue::Str(mode.to_string()));
        params.push(ParameterValue::Int32(fresh.mmr()));
        params.push(ParameterValue::Floating64(fresh.mu));
        params.push(ParameterValue::Floating64(fresh.sigma));
    }
    db.execute(&sql, &params)?;
    Ok(())
}

fn lock_stats(db: &Db, mode: &str, users: &[u64]) -> Result<Vec<Locked>, MatchError> {
    let sql = format!(
        "SELECT user_id, mu, sigma, wins, losses, draws, games, streak, last_match_at_ms, \
         season_id, season_games, season_wins, season_losses, season_draws, season_peak_mmr, placed \
         FROM user_stats WHERE mode = ? AND user_id IN ({}) ORDER BY user_id FOR UPDATE",
        placeholders(users.len())
    );
    let mut params = vec![ParameterValue::Str(mode.to_string())];
    params.extend(users.iter().map(|u| ParameterValue::Uint64(*u)));
    let rows = db.query(&sql, &params)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows.iter() {
        out.push(Locked {
            user_id: r.get("user_id")?,
            rating: Rating::new(r.get("mu")?, r.get("sigma")?),
            counters: PlayerStats {
                wins: r.get("wins")?,
                losses: r.get("losses")?,
                draws: r.get("draws")?,
                games: r.get("games")?,
                streak: r.get("streak")?,
            },
            last_match_at: r.get("last_match_at_ms")?,
            season: SeasonState {
                season_id: r.get("season_id")?,
                games: r.get("season_games")?,
                wins: r.get("season_wins")?,
                losses: r.get("season_losses")?,
                draws: r.get("season_draws")?,
                peak_mmr: r.get("season_peak_mmr")?,
                placed: r.get::<u8>("placed")? == 1,
            },
        });
    }
    if out.len() != users.len() {
        return Err(MatchError::Inconsistent(
            "user_stats rows missing after insert".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> ResultBody {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_hash_ignores_participant_order_key_order_and_whitespace() {
        let a = body(
            r#"{"winner_team":0,"duration_s":60,"participants":[{"user_id":1,"kills":2},{"user_id":2}]}"#,
        );
        let b = body(
            r#"{ "participants": [ {"user_id": 2, "kills": 0}, {"kills": 2, "user_id": 1} ], "duration_s": 60, "winner_team": 0 }"#,
        );
        assert_eq!(a.canonical_hash(), b.canonical_hash());
        assert_eq!(a.canonical_hash().len(), 64);
    }

    #[test]
    fn the_hash_changes_with_any_field_of_the_result() {
        let base = r#"{"winner_team":0,"duration_s":60,"participants":[{"user_id":1,"kills":2,"hero":"a"}]}"#;
        let h = body(base).canonical_hash();
        for other in [
            base.replace(r#""winner_team":0"#, r#""winner_team":null"#),
            base.replace("60", "61"),
            base.replace(r#""kills":2"#, r#""kills":3"#),
            base.replace(r#""hero":"a""#, r#""hero":"b""#),
        ] {
            assert_ne!(body(&other).canonical_hash(), h, "{other}");
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<ResultBody>(
            r#"{"winner_team":0,"duration_s":1,"participants":[],"mmr":9}"#
        )
        .is_err());
    }
}
