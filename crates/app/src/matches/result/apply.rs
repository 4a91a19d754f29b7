//! Step 4 of applying a result, inside its transaction on the locked rows: move the
//! players into the active season, rate them, write their rows and the match's, count hero picks, find rank-ups and
//! achievements, and plan the after-commit work.

use rh_domain::achievements::Progress;
use rh_domain::rating::{rate_match, Rating};
use rh_domain::seasons::is_placed;
use rh_domain::stats::Outcome;
use rh_domain::tiers::tier_crossed;
use rh_infra::db::Db;
use spin_sdk::mysql::ParameterValue;

use super::super::effects::{self, AfterCommit, PlayerChange, RankUp};
use super::super::read::{teams_of, MatchView, ParticipantView};
use super::super::{outcome_str, placeholders, MatchError};
use super::{Locked, MatchResult, MatchRow, ParticipantResult, ResultBody};
use crate::leaderboard::Standing;
use crate::seasons::{enter_season, ActiveSeason, SeasonState};

/// How many players rank above `mmr` (ties broken by user id) in `mode` this season, not
/// counting `user_id`, counted up to [`TOP_RANKS`] only: rank-ups only ask "in the top
/// ten?", and a bounded count reads at most that many index entries (a full count read
/// every row above a low-ranked winner, in the result's transaction).
fn players_above_capped(
    db: &Db,
    mode: &str,
    season_id: u64,
    mmr: i32,
    user_id: u64,
) -> Result<i64, MatchError> {
    let n: Option<i64> = db.query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM user_stats WHERE mode = ? AND season_id = ? \
         AND placed = 1 AND user_id <> ? AND (mmr > ? OR (mmr = ? AND user_id < ?)) \
         LIMIT ?) above",
        &[
            ParameterValue::Str(mode.to_string()),
            ParameterValue::Uint64(season_id),
            ParameterValue::Uint64(user_id),
            ParameterValue::Int32(mmr),
            ParameterValue::Int32(mmr),
            ParameterValue::Uint64(user_id),
            ParameterValue::Int64(TOP_RANKS),
        ],
    )?;
    Ok(n.unwrap_or(0))
}

/// The ranks a rank-up announces ("entered the top 10").
const TOP_RANKS: i64 = 10;

/// What step 4 works on: the match, its result and the season it counts for.
pub(super) struct Context<'a> {
    pub id: u64,
    pub row: &'a MatchRow,
    pub mode: &'a rh_domain::modes::Mode,
    pub body: &'a ResultBody,
    pub roster: &'a [(u64, usize)],
    pub season: &'a ActiveSeason,
    pub hash: &'a str,
    pub now_ms: i64,
}

/// One player rated: the change carried to the after-commit step, with the ratings
/// before and after and the player's line of the result.
struct Rated<'a> {
    change: PlayerChange,
    before: Rating,
    after: Rating,
    season: SeasonState,
    line: &'a ParticipantResult,
}

/// Step 4 inside the transaction, on the locked rows: rate, write the players' and the
/// match's rows, count hero picks, find rank-ups and achievements, write feed events and
/// notifications. Returns what the after-commit step needs.
pub(super) fn apply_locked(
    db: &Db,
    ctx: &Context<'_>,
    locked: &[Locked],
) -> Result<(AfterCommit, MatchResult), MatchError> {
    let (id, row, body, roster, now_ms) = (ctx.id, ctx.row, ctx.body, ctx.roster, ctx.now_ms);
    let winner = body.winner_team.map(usize::from);
    let team_of = |u: u64| {
        roster
            .iter()
            .find(|(x, _)| *x == u)
            .map(|(_, t)| *t)
            .unwrap_or(0)
    };
    let rated = rate_players(db, ctx, locked, &team_of, winner)?;
    write_players(db, id, &row.mode, &rated, &team_of, now_ms)?;
    complete_match(db, id, body, ctx.hash, now_ms)?;
    let answer = answer(ctx, &rated);

    let changes: Vec<PlayerChange> = rated.into_iter().map(|r| r.change).collect();
    let rank_ups = rank_ups(db, &row.mode, ctx.season.id, &changes)?;
    let figures = figures(db, &changes)?;
    let mut after = after_commit_plan(id, row, body, changes);
    effects::write_in_transaction(db, &mut after, &rank_ups, &figures, now_ms)?;

    // Hero analytics in this transaction: a replay returns before it, so nothing counts
    // twice. Last, just before COMMIT: every result of the day's mode and hero updates the
    // same row, so its lock must be held for as short a time as possible (taken earlier,
    // it serialised concurrent results for the rest of their transactions).
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
    Ok((after, answer))
}

/// The answer, from what this transaction wrote: the same [`MatchResult`] a replay
/// rebuilds from the stored rows (`stored_result`: participants by team, then user id;
/// the rating changes in that order), without reading the match back.
fn answer(ctx: &Context<'_>, rated: &[Rated<'_>]) -> MatchResult {
    let mut participants: Vec<ParticipantView> = rated
        .iter()
        .map(|r| ParticipantView {
            user_id: r.change.user_id,
            team: r.change.team as u8,
            kills: r.line.kills,
            deaths: r.line.deaths,
            assists: r.line.assists,
            hero: r.line.hero.clone(),
            result: Some(outcome_str(r.change.outcome).to_owned()),
            mmr_before: Some(r.change.mmr_before),
            mmr_after: Some(r.change.mmr_after),
            mu_before: Some(r.before.mu),
            mu_after: Some(r.after.mu),
            sigma_before: Some(r.before.sigma),
            sigma_after: Some(r.after.sigma),
        })
        .collect();
    participants.sort_by_key(|p| (p.team, p.user_id));
    MatchResult::of(MatchView {
        id: ctx.id,
        mode: ctx.row.mode.clone(),
        region: ctx.row.region.clone(),
        status: "completed".to_owned(),
        winner_team: ctx.body.winner_team,
        duration_s: Some(ctx.body.duration_s),
        teams: teams_of(&participants),
        participants,
        created_at: ctx.row.created_at_ms,
        completed_at: Some(ctx.now_ms),
        prediction: ctx.row.prediction.clone(),
    })
}

/// Moves each player into the season (soft reset if the rollover has not reached them,
/// inactivity widening), rates the match (teams in index order, players in user-id
/// order within a team) and works out each player's new counters and placement.
fn rate_players<'a>(
    db: &Db,
    ctx: &Context<'a>,
    locked: &[Locked],
    team_of: &dyn Fn(u64) -> usize,
    winner: Option<usize>,
) -> Result<Vec<Rated<'a>>, MatchError> {
    let entered: Vec<(&Locked, Rating, SeasonState)> = locked
        .iter()
        .map(|l| {
            let (mu, sigma, season) = enter_season(
                ctx.season,
                l.rating.mu,
                l.rating.sigma,
                l.last_match_at,
                l.season,
                ctx.now_ms,
            );
            (l, Rating::new(mu, sigma), season)
        })
        .collect();
    let mut teams: Vec<Vec<&(&Locked, Rating, SeasonState)>> = vec![Vec::new(); ctx.mode.teams];
    for e in &entered {
        teams[team_of(e.0.user_id)].push(e);
    }
    let ratings: Vec<Vec<Rating>> = teams
        .iter()
        .map(|t| t.iter().map(|e| e.1).collect())
        .collect();
    let new_ratings = rate_match(&ratings, winner);

    let placement = ctx.season.settings.placement_games;
    let users = user_rows(
        db,
        &locked.iter().map(|l| l.user_id).collect::<Vec<_>>(),
        ctx.now_ms,
    )?;
    let mut rated = Vec::with_capacity(locked.len());
    for (t, members) in teams.iter().enumerate() {
        for (i, (before, rating, season)) in members.iter().enumerate() {
            let after = new_ratings[t][i];
            let outcome = Outcome::for_team(t, winner);
            let line = ctx
                .body
                .participants
                .iter()
                .find(|p| p.user_id == before.user_id)
                .expect("participants checked against the roster");
            let user = users
                .iter()
                .find(|u| u.id == before.user_id)
                .cloned()
                .unwrap_or_default();
            let season_after = season_after(season, outcome, after.mmr(), placement);
            rated.push(Rated {
                change: PlayerChange {
                    user_id: before.user_id,
                    username: user.username,
                    region: user.region,
                    banned: user.banned,
                    team: t,
                    outcome,
                    mmr_before: rating.mmr(),
                    mmr_after: after.mmr(),
                    was_ranked: season.placed,
                    placed: season_after.placed,
                    placement_complete: season_after.placed && !season.placed && placement > 0,
                    season_id: ctx.season.id,
                    counters: before.counters.apply(outcome),
                    kills: line.kills,
                },
                before: *rating,
                after,
                season: season_after,
                line,
            });
        }
    }
    Ok(rated)
}

/// A player's season counters after one more game; placed once the season's placement
/// games are played, peak mmr tracked while placed.
fn season_after(s: &SeasonState, outcome: Outcome, mmr_after: i32, placement: u32) -> SeasonState {
    let mut next = *s;
    next.games += 1;
    match outcome {
        Outcome::Win => next.wins += 1,
        Outcome::Loss => next.losses += 1,
        Outcome::Draw => next.draws += 1,
    }
    next.placed = s.placed || is_placed(next.games, placement);
    if next.placed {
        next.peak_mmr = Some(s.peak_mmr.map_or(mmr_after, |p| p.max(mmr_after)));
    }
    next
}

/// Every player's new stats and line of the match, in two statements (one per table,
/// a row per player). The rows exist and are locked (steps 3 and 4), so each
/// `INSERT ... ON DUPLICATE KEY UPDATE` only ever takes its update branch; it is the
/// multi-row form of an `UPDATE ... WHERE` per player.
fn write_players(
    db: &Db,
    match_id: u64,
    mode: &str,
    rated: &[Rated<'_>],
    team_of: &dyn Fn(u64) -> usize,
    now_ms: i64,
) -> Result<(), MatchError> {
    if rated.is_empty() {
        return Ok(());
    }
    let mut stats = Vec::with_capacity(rated.len() * 19);
    let mut lines = Vec::with_capacity(rated.len() * 14);
    for r in rated {
        let (c, p) = (&r.change, r.line);
        stats.extend([
            ParameterValue::Uint64(c.user_id),
            ParameterValue::Str(mode.to_owned()),
            ParameterValue::Int32(c.mmr_after),
            ParameterValue::Floating64(r.after.mu),
            ParameterValue::Floating64(r.after.sigma),
            ParameterValue::Uint32(c.counters.wins),
            ParameterValue::Uint32(c.counters.losses),
            ParameterValue::Uint32(c.counters.draws),
            ParameterValue::Uint32(c.counters.games),
            ParameterValue::Int32(c.counters.streak),
            ParameterValue::Int64(now_ms),
            ParameterValue::Uint64(r.season.season_id),
            ParameterValue::Uint32(r.season.games),
            ParameterValue::Uint32(r.season.wins),
            ParameterValue::Uint32(r.season.losses),
            ParameterValue::Uint32(r.season.draws),
            r.season
                .peak_mmr
                .map(ParameterValue::Int32)
                .unwrap_or(ParameterValue::DbNull),
            ParameterValue::Uint8(u8::from(r.season.placed)),
            ParameterValue::Uint32(p.kills),
        ]);
        lines.extend([
            ParameterValue::Uint64(match_id),
            ParameterValue::Uint64(c.user_id),
            ParameterValue::Uint8(team_of(c.user_id) as u8),
            ParameterValue::Uint32(p.kills),
            ParameterValue::Uint32(p.deaths),
            ParameterValue::Uint32(p.assists),
            p.hero
                .clone()
                .map(ParameterValue::Str)
                .unwrap_or(ParameterValue::DbNull),
            ParameterValue::Str(outcome_str(c.outcome).into()),
            ParameterValue::Int32(c.mmr_before),
            ParameterValue::Int32(c.mmr_after),
            ParameterValue::Floating64(r.before.mu),
            ParameterValue::Floating64(r.after.mu),
            ParameterValue::Floating64(r.before.sigma),
            ParameterValue::Floating64(r.after.sigma),
        ]);
    }
    let rows = |width: usize| {
        let row = format!("({})", vec!["?"; width].join(", "));
        vec![row; rated.len()].join(", ")
    };
    db.execute(
        &format!(
            "INSERT INTO user_stats (user_id, mode, mmr, mu, sigma, wins, losses, draws, games, \
             streak, last_match_at_ms, season_id, season_games, season_wins, season_losses, \
             season_draws, season_peak_mmr, placed, kills) VALUES {} \
             ON DUPLICATE KEY UPDATE mmr = VALUES(mmr), mu = VALUES(mu), sigma = VALUES(sigma), \
             wins = VALUES(wins), losses = VALUES(losses), draws = VALUES(draws), \
             games = VALUES(games), streak = VALUES(streak), \
             last_match_at_ms = VALUES(last_match_at_ms), season_id = VALUES(season_id), \
             season_games = VALUES(season_games), season_wins = VALUES(season_wins), \
             season_losses = VALUES(season_losses), season_draws = VALUES(season_draws), \
             season_peak_mmr = VALUES(season_peak_mmr), placed = VALUES(placed), \
             kills = kills + VALUES(kills)",
            rows(19)
        ),
        &stats,
    )?;
    db.execute(
        &format!(
            "INSERT INTO match_participants (match_id, user_id, team, kills, deaths, assists, \
             hero, result, mmr_before, mmr_after, mu_before, mu_after, sigma_before, sigma_after) \
             VALUES {} ON DUPLICATE KEY UPDATE kills = VALUES(kills), deaths = VALUES(deaths), \
             assists = VALUES(assists), hero = VALUES(hero), result = VALUES(result), \
             mmr_before = VALUES(mmr_before), mmr_after = VALUES(mmr_after), \
             mu_before = VALUES(mu_before), mu_after = VALUES(mu_after), \
             sigma_before = VALUES(sigma_before), sigma_after = VALUES(sigma_after)",
            rows(14)
        ),
        &lines,
    )?;
    Ok(())
}

/// The match row: completed, with its winner, duration and the result's hash.
fn complete_match(
    db: &Db,
    id: u64,
    body: &ResultBody,
    hash: &str,
    now_ms: i64,
) -> Result<(), MatchError> {
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
    Ok(())
}

/// Rank-ups: a tier entered, or the top 10 entered.
fn rank_ups(
    db: &Db,
    mode: &str,
    season_id: u64,
    changes: &[PlayerChange],
) -> Result<Vec<RankUp>, MatchError> {
    let mut rank_ups = Vec::new();
    for c in changes {
        // Only a rise is a rank-up (a first match that is lost ranks a player, but
        // nobody "ranks up" by losing); a player in placement has no rank to rise in.
        if !c.placed || c.mmr_after < c.mmr_before || (c.mmr_after == c.mmr_before && c.was_ranked)
        {
            continue;
        }
        let tier = if c.was_ranked {
            tier_crossed(c.mmr_before, c.mmr_after)
        } else {
            None
        };
        // Both counts stop at TOP_RANKS: exact inside the top ten, "10" beyond it.
        let rank_after = players_above_capped(db, mode, season_id, c.mmr_after, c.user_id)? + 1;
        let entered_top10 = rank_after <= TOP_RANKS
            && (!c.was_ranked
                || players_above_capped(db, mode, season_id, c.mmr_before, c.user_id)? + 1
                    > TOP_RANKS);
        if tier.is_some() || entered_top10 {
            rank_ups.push(RankUp {
                user_id: c.user_id,
                tier,
                top_rank: entered_top10.then_some(rank_after),
            });
        }
    }
    Ok(rank_ups)
}

/// What the after-commit step will do: the players' new standings (a banned player stays
/// off the leaderboards until unbanned, even when a match they were already in
/// completes: their stats still change, and unbanning re-places them), and the changes.
fn after_commit_plan(
    id: u64,
    row: &MatchRow,
    body: &ResultBody,
    changes: Vec<PlayerChange>,
) -> AfterCommit {
    AfterCommit {
        match_id: id,
        mode: row.mode.clone(),
        region: row.region.clone(),
        winner_team: body.winner_team,
        standings: changes
            .iter()
            .filter(|c| c.placed && !c.banned)
            .map(|c| Standing {
                user_id: c.user_id,
                mmr: c.mmr_after as i64,
                region: c.region.clone(),
                username: c.username.clone(),
                wins: c.counters.wins,
                losses: c.counters.losses,
                version: u64::from(c.counters.games),
            })
            .collect(),
        changes,
        feed: Vec::new(),
        notifications: Vec::new(),
        achievements: Vec::new(),
    }
}

/// What a result needs of a player's account.
#[derive(Debug, Clone, Default)]
struct UserRow {
    id: u64,
    username: String,
    region: String,
    /// A ban in force at the result's time.
    banned: bool,
}

/// The players' accounts, in one query.
fn user_rows(db: &Db, users: &[u64], now_ms: i64) -> Result<Vec<UserRow>, MatchError> {
    let sql = format!(
        "SELECT id, username, region, banned_until_ms FROM users WHERE id IN ({})",
        placeholders(users.len())
    );
    let params: Vec<ParameterValue> = users.iter().map(|u| ParameterValue::Uint64(*u)).collect();
    let rows = db.query(&sql, &params)?;
    rows.iter()
        .map(|r| {
            Ok(UserRow {
                id: r.get("id")?,
                username: r.get("username")?,
                region: r.get("region")?,
                banned: r
                    .get::<Option<i64>>("banned_until_ms")?
                    .is_some_and(|until| until > now_ms),
            })
        })
        .collect()
}

/// Achievement figures after this match: total wins and kills across modes (this match
/// included: the players' rows were updated above, in the same transaction), this mode's
/// streak and mmr. One query over the players' `user_stats` rows.
fn figures(db: &Db, changes: &[PlayerChange]) -> Result<Vec<(u64, Progress)>, MatchError> {
    let params: Vec<ParameterValue> = changes
        .iter()
        .map(|c| ParameterValue::Uint64(c.user_id))
        .collect();
    let totals = db.query(
        &format!(
            "SELECT user_id, CAST(SUM(wins) AS SIGNED) AS wins, CAST(SUM(kills) AS SIGNED) AS kills \
             FROM user_stats WHERE user_id IN ({}) GROUP BY user_id",
            placeholders(changes.len())
        ),
        &params,
    )?;
    let lookup = |user: u64| -> Result<(i64, i64), MatchError> {
        for r in totals.iter() {
            if r.get::<u64>("user_id")? == user {
                return Ok((
                    r.get::<Option<i64>>("wins")?.unwrap_or(0),
                    r.get::<Option<i64>>("kills")?.unwrap_or(0),
                ));
            }
        }
        Ok((0, 0))
    };
    changes
        .iter()
        .map(|c| {
            let (wins, kills) = lookup(c.user_id)?;
            Ok((
                c.user_id,
                Progress {
                    wins: wins.max(0) as u32,
                    streak: c.counters.streak,
                    mmr: c.mmr_after,
                    total_kills: kills.max(0) as u64,
                },
            ))
        })
        .collect()
}
