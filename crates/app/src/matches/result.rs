//! Applying a match result exactly once.
//!
//! 1. Read the match (no lock). Unknown → 404. Already completed → compare the
//!    result's hash: the same result answers the stored outcome (200), another → 409.
//! 2. Check the participants against the roster and the winner against the mode.
//! 3. Make sure every player has a `user_stats` row (INSERT IGNORE, autocommit), so
//!    the transaction only updates existing rows: inserting under `FOR UPDATE` would
//!    take gap locks that deadlock two concurrent results.
//! 4. One transaction: `SELECT ... FOR UPDATE` the match row (a concurrent submission
//!    waits here and then sees `completed`), lock the players' stats in user-id order
//!    (no deadlocks between matches sharing players), rate, update stats,
//!    participants and the match, write feed events, notifications and achievements.
//! 5. The answer is rebuilt from what was stored, so a replay returns the same body.
//!
//! The Redis side (leaderboards, events) happens after commit in [`super::effects`].

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spin_sdk::mysql::ParameterValue;

use rh_infra::db::Db;

use rh_domain::rating::{rate_match, Rating};

use super::effects::{self, AfterCommit, PlayerChange};
use super::read::{get_match, MatchView};
use rh_domain::achievements::Progress;
use rh_domain::stats::{Outcome, PlayerStats};
use rh_domain::tiers::tier_crossed;

use super::{in_transaction, load_mode, outcome_str, placeholders, MatchError};
use crate::leaderboard::Standing;

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
}

fn read_match(db: &Db, id: u64, lock: bool) -> Result<MatchRow, MatchError> {
    let sql = if lock {
        "SELECT mode, region, status, result_hash FROM matches WHERE id = ? FOR UPDATE"
    } else {
        "SELECT mode, region, status, result_hash FROM matches WHERE id = ?"
    };
    let rows = db.query(sql, &[ParameterValue::Uint64(id)])?;
    let r = rows.first().ok_or(MatchError::NotFound)?;
    Ok(MatchRow {
        mode: r.get("mode")?,
        region: r.get("region")?,
        status: r.get("status")?,
        result_hash: r.get("result_hash")?,
    })
}

/// The stored outcome of a completed match, for replays.
fn stored_result(db: &Db, id: u64) -> Result<MatchResult, MatchError> {
    let view = get_match(db, id)?;
    let rating_changes = view
        .participants
        .iter()
        .map(|p| RatingChange {
            user_id: p.user_id,
            mmr_before: p.mmr_before.unwrap_or_default(),
            mmr_after: p.mmr_after.unwrap_or_default(),
        })
        .collect();
    Ok(MatchResult {
        match_view: view,
        rating_changes,
    })
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
    mmr: i32,
    rating: Rating,
    counters: PlayerStats,
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
    let row = read_match(db, id, false)?;
    if row.status != "pending" {
        return settled(db, id, &row, &hash);
    }

    // 2. Participants must be exactly the roster; the winner a team of the mode.
    let mode = load_mode(db, &row.mode)?;
    let roster = roster(db, id)?;
    check_participants(&body, &roster, mode.teams)?;

    // 3. Stats rows exist before the transaction (see the module docs).
    let mut users: Vec<u64> = roster.iter().map(|(u, _)| *u).collect();
    users.sort_unstable();
    ensure_stats_rows(db, &row.mode, &users)?;

    // 4. The transaction.
    let outcome = in_transaction(db, || {
        let locked_row = read_match(db, id, true)?;
        if locked_row.status != "pending" {
            return Ok(None);
        }
        let locked = lock_stats(db, &row.mode, &users)?;
        let after = apply_locked(db, id, &row, &mode, &body, &roster, &locked, &hash, now_ms)?;
        Ok(Some(after))
    })?;

    match outcome {
        // Someone else completed it while we waited for the lock.
        None => {
            let row = read_match(db, id, false)?;
            settled(db, id, &row, &hash)
        }
        Some(after) => Ok(Applied::Fresh {
            result: stored_result(db, id)?,
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
    let mut sql =
        String::from("INSERT IGNORE INTO user_stats (user_id, mode, mmr, mu, sigma) VALUES ");
    let mut params = Vec::with_capacity(users.len() * 5);
    for (i, user) in users.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str("(?, ?, ?, ?, ?)");
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
        "SELECT user_id, mmr, mu, sigma, wins, losses, draws, games, streak FROM user_stats \
         WHERE mode = ? AND user_id IN ({}) ORDER BY user_id FOR UPDATE",
        placeholders(users.len())
    );
    let mut params = vec![ParameterValue::Str(mode.to_string())];
    params.extend(users.iter().map(|u| ParameterValue::Uint64(*u)));
    let rows = db.query(&sql, &params)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows.iter() {
        out.push(Locked {
            user_id: r.get("user_id")?,
            mmr: r.get("mmr")?,
            rating: Rating::new(r.get("mu")?, r.get("sigma")?),
            counters: PlayerStats {
                wins: r.get("wins")?,
                losses: r.get("losses")?,
                draws: r.get("draws")?,
                games: r.get("games")?,
                streak: r.get("streak")?,
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

/// Players ranked above `mmr` (ties broken by user id) in `mode`, not counting `user_id`.
fn players_above(db: &Db, mode: &str, mmr: i32, user_id: u64) -> Result<i64, MatchError> {
    let n: Option<i64> = db.query_scalar(
        "SELECT COUNT(*) FROM user_stats WHERE mode = ? AND games > 0 AND user_id <> ? \
         AND (mmr > ? OR (mmr = ? AND user_id < ?))",
        &[
            ParameterValue::Str(mode.to_string()),
            ParameterValue::Uint64(user_id),
            ParameterValue::Int32(mmr),
            ParameterValue::Int32(mmr),
            ParameterValue::Uint64(user_id),
        ],
    )?;
    Ok(n.unwrap_or(0))
}

#[allow(clippy::too_many_arguments)]
fn apply_locked(
    db: &Db,
    id: u64,
    row: &MatchRow,
    mode: &rh_domain::modes::Mode,
    body: &ResultBody,
    roster: &[(u64, usize)],
    locked: &[Locked],
    hash: &str,
    now_ms: i64,
) -> Result<AfterCommit, MatchError> {
    let winner = body.winner_team.map(|w| w as usize);
    let team_of = |u: u64| {
        roster
            .iter()
            .find(|(x, _)| *x == u)
            .map(|(_, t)| *t)
            .unwrap_or(0)
    };

    // Rate: teams in index order, players in user-id order within a team.
    let mut teams: Vec<Vec<&Locked>> = vec![Vec::new(); mode.teams];
    for l in locked {
        teams[team_of(l.user_id)].push(l);
    }
    let ratings: Vec<Vec<Rating>> = teams
        .iter()
        .map(|t| t.iter().map(|l| l.rating).collect())
        .collect();
    let rated = rate_match(&ratings, winner);

    let regions = user_regions(db, &locked.iter().map(|l| l.user_id).collect::<Vec<_>>())?;
    let mut changes = Vec::with_capacity(locked.len());
    for (t, members) in teams.iter().enumerate() {
        for (i, before) in members.iter().enumerate() {
            let after_rating = rated[t][i];
            let outcome = Outcome::for_team(t, winner);
            let counters = before.counters.apply(outcome);
            let p = body
                .participants
                .iter()
                .find(|p| p.user_id == before.user_id)
                .expect("participants checked against the roster");
            let (username, region) = regions
                .iter()
                .find(|(u, _, _)| *u == before.user_id)
                .map(|(_, n, r)| (n.clone(), r.clone()))
                .unwrap_or_default();
            changes.push(PlayerChange {
                user_id: before.user_id,
                username,
                region,
                team: t,
                outcome,
                mmr_before: before.mmr,
                mmr_after: after_rating.mmr(),
                was_ranked: before.counters.games > 0,
                counters,
                kills: p.kills,
            });
            db.execute(
                "UPDATE user_stats SET mmr = ?, mu = ?, sigma = ?, wins = ?, losses = ?, draws = ?, \
                 games = ?, streak = ?, last_match_at_ms = ? WHERE user_id = ? AND mode = ?",
                &[
                    ParameterValue::Int32(after_rating.mmr()),
                    ParameterValue::Floating64(after_rating.mu),
                    ParameterValue::Floating64(after_rating.sigma),
                    ParameterValue::Uint32(counters.wins),
                    ParameterValue::Uint32(counters.losses),
                    ParameterValue::Uint32(counters.draws),
                    ParameterValue::Uint32(counters.games),
                    ParameterValue::Int32(counters.streak),
                    ParameterValue::Int64(now_ms),
                    ParameterValue::Uint64(before.user_id),
                    ParameterValue::Str(row.mode.clone()),
                ],
            )?;
            db.execute(
                "UPDATE match_participants SET kills = ?, deaths = ?, assists = ?, hero = ?, result = ?, \
                 mmr_before = ?, mmr_after = ?, mu_before = ?, mu_after = ?, sigma_before = ?, sigma_after = ? \
                 WHERE match_id = ? AND user_id = ?",
                &[
                    ParameterValue::Uint32(p.kills),
                    ParameterValue::Uint32(p.deaths),
                    ParameterValue::Uint32(p.assists),
                    p.hero.clone().map(ParameterValue::Str).unwrap_or(ParameterValue::DbNull),
                    ParameterValue::Str(outcome_str(outcome).into()),
                    ParameterValue::Int32(before.mmr),
                    ParameterValue::Int32(after_rating.mmr()),
                    ParameterValue::Floating64(before.rating.mu),
                    ParameterValue::Floating64(after_rating.mu),
                    ParameterValue::Floating64(before.rating.sigma),
                    ParameterValue::Floating64(after_rating.sigma),
                    ParameterValue::Uint64(id),
                    ParameterValue::Uint64(before.user_id),
                ],
            )?;
        }
    }
    db.execute(
        "UPDATE matches SET status = 'completed', winner_team = ?, duration_s = ?, result_hash = ?, \
         completed_at_ms = ? WHERE id = ?",
        &[
            body.winner_team.map(ParameterValue::Uint8).unwrap_or(ParameterValue::DbNull),
            ParameterValue::Uint32(body.duration_s),
            ParameterValue::Str(hash.to_string()),
            ParameterValue::Int64(now_ms),
            ParameterValue::Uint64(id),
        ],
    )?;
    // Hero analytics in this transaction: a replay returns before it, so nothing counts twice.
    let picks: Vec<(String, bool)> = body
        .participants
        .iter()
        .filter_map(|p| {
            p.hero
                .clone()
                .map(|h| (h, winner == Some(team_of(p.user_id))))
        })
        .collect();
    crate::analytics::record_hero_picks(db, crate::analytics::day_of(now_ms), &row.mode, &picks)?;

    // Rank-ups: a tier entered, or the top 10 entered.
    let mut rank_ups = Vec::new();
    for c in &changes {
        // Only a rise is a rank-up (a first match that is lost ranks a player, but
        // nobody "ranks up" by losing).
        if c.mmr_after < c.mmr_before || (c.mmr_after == c.mmr_before && c.was_ranked) {
            continue;
        }
        let tier = if c.was_ranked {
            tier_crossed(c.mmr_before, c.mmr_after).map(|t| t.as_str())
        } else {
            None
        };
        let rank_after = players_above(db, &row.mode, c.mmr_after, c.user_id)? + 1;
        let entered_top10 = rank_after <= 10
            && (!c.was_ranked || players_above(db, &row.mode, c.mmr_before, c.user_id)? + 1 > 10);
        if tier.is_some() || entered_top10 {
            rank_ups.push((c.user_id, tier, entered_top10.then_some(rank_after)));
        }
    }

    let figures = figures(db, &changes)?;
    // A banned player stays off the leaderboards until unbanned, even when a match they
    // were already in completes (their stats still change; unban re-places them).
    let banned = banned_now(
        db,
        &changes.iter().map(|c| c.user_id).collect::<Vec<_>>(),
        now_ms,
    )?;
    let mut after = AfterCommit {
        match_id: id,
        mode: row.mode.clone(),
        region: row.region.clone(),
        winner_team: body.winner_team,
        standings: changes
            .iter()
            .filter(|c| !banned.contains(&c.user_id))
            .map(|c| Standing {
                user_id: c.user_id,
                mmr: c.mmr_after as i64,
                region: c.region.clone(),
                username: c.username.clone(),
                wins: c.counters.wins,
                losses: c.counters.losses,
            })
            .collect(),
        changes,
        feed: Vec::new(),
        notifications: Vec::new(),
        achievements: Vec::new(),
    };
    effects::write_in_transaction(db, &mut after, &rank_ups, &figures, now_ms)?;
    Ok(after)
}

/// The players among `users` whose ban is in force at `now_ms`.
fn banned_now(db: &Db, users: &[u64], now_ms: i64) -> Result<Vec<u64>, MatchError> {
    let sql = format!(
        "SELECT id FROM users WHERE id IN ({}) AND banned_until_ms > ?",
        placeholders(users.len())
    );
    let mut params: Vec<ParameterValue> =
        users.iter().map(|u| ParameterValue::Uint64(*u)).collect();
    params.push(ParameterValue::Int64(now_ms));
    let rows = db.query(&sql, &params)?;
    rows.iter().map(|r| Ok(r.get("id")?)).collect()
}

/// `(user_id, username, region)` of each player.
fn user_regions(db: &Db, users: &[u64]) -> Result<Vec<(u64, String, String)>, MatchError> {
    let sql = format!(
        "SELECT id, username, region FROM users WHERE id IN ({})",
        placeholders(users.len())
    );
    let params: Vec<ParameterValue> = users.iter().map(|u| ParameterValue::Uint64(*u)).collect();
    let rows = db.query(&sql, &params)?;
    rows.iter()
        .map(|r| Ok((r.get("id")?, r.get("username")?, r.get("region")?)))
        .collect()
}

/// Achievement figures after this match: total wins across modes, this mode's streak
/// and mmr, total kills across completed matches (this one included: its
/// participants were updated above, in the same transaction).
fn figures(db: &Db, changes: &[PlayerChange]) -> Result<Vec<(u64, Progress)>, MatchError> {
    let users: Vec<u64> = changes.iter().map(|c| c.user_id).collect();
    let params: Vec<ParameterValue> = users.iter().map(|u| ParameterValue::Uint64(*u)).collect();
    let wins = db.query(
        &format!(
            "SELECT user_id, CAST(SUM(wins) AS SIGNED) AS n FROM user_stats WHERE user_id IN ({}) GROUP BY user_id",
            placeholders(users.len())
        ),
        &params,
    )?;
    let kills = db.query(
        &format!(
            "SELECT user_id, CAST(SUM(kills) AS SIGNED) AS n FROM match_participants \
             WHERE user_id IN ({}) AND result IS NOT NULL GROUP BY user_id",
            placeholders(users.len())
        ),
        &params,
    )?;
    let lookup = |set: &rh_infra::db::Rows, user: u64| -> Result<i64, MatchError> {
        for r in set.iter() {
            if r.get::<u64>("user_id")? == user {
                return Ok(r.get::<Option<i64>>("n")?.unwrap_or(0));
            }
        }
        Ok(0)
    };
    changes
        .iter()
        .map(|c| {
            Ok((
                c.user_id,
                Progress {
                    wins: lookup(&wins, c.user_id)?.max(0) as u32,
                    streak: c.counters.streak,
                    mmr: c.mmr_after,
                    total_kills: lookup(&kills, c.user_id)?.max(0) as u64,
                },
            ))
        })
        .collect()
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
