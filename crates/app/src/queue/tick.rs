//! The queue tick: one pass over every (mode, region) queue that forms matches.
//!
//! [`run_tick`] is the whole step. The `queue-tick` component calls it for every message
//! on `matchmaking:tick`; the `matchmaking` component exposes it on the server-signed
//! `POST /api/v1/matchmaking/tick` so tests and operators can run one and read its
//! [`TickOutcome`].
//!
//! Only queues in the active set (`mm:active`, maintained by the scripts) are read.
//! Per queue: (1) optionally take a short lock so replicas receiving the same tick do
//! not all do the same work; (2) read the oldest tickets in one script; (3) group them
//! with the pure domain step; (4) for each formed match, claim all its tickets
//! atomically, create the match through [`crate::matches::create_match`] (the same code
//! path as `POST /api/v1/matches`), then record it on the players and notify them. A lost
//! claim means another tick (or a leave) got there first: that group is skipped and its
//! remaining tickets wait for the next tick. A failed creation puts the tickets back.

use crate::db::Db;
use std::time::Instant;

use serde::Serialize;
use serde_json::json;
use spin_sdk::redis::Connection as Redis;

use super::error::QueueError;
use super::scripts::Script;
use super::{
    db, keys, redis_io, Ticket, CLAIM_TTL_MS, MATCH_MARKER_TTL_MS, TICKET_TTL_MS, WAITS_KEPT,
};
use crate::matches::{create_match, NewMatch};

/// How a tick runs.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TickOptions {
    /// Take the per-queue tick lock (saves duplicate work across replicas). Tests turn
    /// it off to race claims directly: correctness never depends on it.
    pub use_lock: bool,
    /// Oldest tickets read per queue and tick. Bounds the work of one tick; the rest
    /// wait for the next one (oldest first anyway).
    pub max_tickets_per_queue: usize,
    /// Ignored. Lets a caller make otherwise identical signed requests distinct (the
    /// signature check refuses a replayed signature).
    pub request_id: Option<String>,
}

impl Default for TickOptions {
    fn default() -> Self {
        TickOptions {
            use_lock: true,
            max_tickets_per_queue: 20_000,
            request_id: None,
        }
    }
}

/// Lifetime of the per-queue tick lock; released early when the tick finishes.
const TICK_LOCK_TTL_MS: u64 = 5_000;

/// One match the tick formed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FormedMatch {
    pub match_id: u64,
    pub mode: String,
    pub region: String,
    pub teams: Vec<Vec<u64>>,
    pub ticket_ids: Vec<u64>,
}

/// What one tick did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TickOutcome {
    pub queues_scanned: usize,
    /// Queues skipped because another tick held their lock.
    pub queues_locked: usize,
    pub tickets_read: usize,
    pub matches: Vec<FormedMatch>,
    /// Eligible tickets still waiting after this tick.
    pub tickets_left: usize,
    /// Formed groups whose claim failed (another tick or a leave came first).
    pub claims_lost: usize,
    /// Claimed groups whose match creation failed; their tickets went back.
    pub creations_failed: usize,
    /// Wall time (µs) spent reading queues, in the pure grouping, and claiming, creating
    /// and announcing matches: where a tick's time goes.
    pub read_us: u64,
    pub group_us: u64,
    pub create_us: u64,
}

/// A group of tickets the domain step formed into one match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formation {
    pub ticket_ids: Vec<u64>,
    /// Team index → user ids (parties kept on one team).
    pub teams: Vec<Vec<u64>>,
}

/// The queues that may hold tickets (`mode`, `region`), sorted.
pub fn active_queues(redis: &Redis) -> Result<Vec<(String, String)>, QueueError> {
    let mut queues: Vec<(String, String)> =
        redis_io::strings(redis, "SMEMBERS", &[keys::ACTIVE_QUEUES.to_owned()])?
            .into_iter()
            .filter_map(|m| {
                let (mode, region) = m.split_once('|')?;
                Some((mode.to_owned(), region.to_owned()))
            })
            .collect();
    queues.sort();
    Ok(queues)
}

/// Runs one tick over every active queue (see the module doc for the steps).
pub fn run_tick(
    db: &Db,
    redis: &Redis,
    regions: &[String],
    now_ms: u64,
    opts: &TickOptions,
) -> Result<TickOutcome, QueueError> {
    let mut outcome = TickOutcome::default();
    let active = active_queues(redis)?;
    if active.is_empty() {
        return Ok(outcome);
    }
    let modes = db::modes(db)?;
    for (mode_name, region) in active {
        // A queue of a mode or region removed from configuration is left to expire.
        let Some(mode) = modes.iter().find(|m| m.name == mode_name) else {
            continue;
        };
        if !regions.contains(&region) {
            continue;
        }
        tick_queue(
            db,
            redis,
            regions,
            mode,
            &region,
            now_ms,
            opts,
            &mut outcome,
        )?;
    }
    Ok(outcome)
}

#[allow(clippy::too_many_arguments)]
fn tick_queue(
    db: &Db,
    redis: &Redis,
    regions: &[String],
    mode: &rh_domain::modes::Mode,
    region: &str,
    now_ms: u64,
    opts: &TickOptions,
    outcome: &mut TickOutcome,
) -> Result<(), QueueError> {
    let lock = if opts.use_lock {
        let token = format!("{now_ms}-{}", redis_io::incr(redis, "mm:tick_seq")?);
        let key = keys::tick_lock(&mode.name, region);
        if !redis_io::set_nx_px(redis, &key, &token, TICK_LOCK_TTL_MS)? {
            outcome.queues_locked += 1;
            return Ok(());
        }
        Some((key, token))
    } else {
        None
    };
    let result = form_in_queue(db, redis, regions, mode, region, now_ms, opts, outcome);
    if let Some((key, token)) = lock {
        redis_io::eval_int(redis, Script::Unlock, &[key], &[token])?;
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn form_in_queue(
    db: &Db,
    redis: &Redis,
    regions: &[String],
    mode: &rh_domain::modes::Mode,
    region: &str,
    now_ms: u64,
    opts: &TickOptions,
    outcome: &mut TickOutcome,
) -> Result<(), QueueError> {
    outcome.queues_scanned += 1;
    let queue_key = keys::queue(&mode.name, region);
    let started = Instant::now();
    let listing = redis_io::eval_string(
        redis,
        Script::ReadQueue,
        &[queue_key.clone(), keys::ACTIVE_QUEUES.to_owned()],
        &[
            opts.max_tickets_per_queue.to_string(),
            keys::active_member(&mode.name, region),
        ],
    )?
    .unwrap_or_default();
    let tickets: Vec<Ticket> = listing
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| Ticket::parse_queue_line(l, &mode.name, region))
        .collect::<Result<_, _>>()?;
    outcome.tickets_read += tickets.len();
    outcome.read_us += started.elapsed().as_micros() as u64;
    let players: usize = tickets.iter().map(|t| t.members.len()).sum();
    let mut left = tickets.len();
    if players >= mode.match_size() {
        let started = Instant::now();
        let formations = super::grouping::form_matches(mode, &tickets, now_ms);
        outcome.group_us += started.elapsed().as_micros() as u64;
        let started = Instant::now();
        for formation in formations {
            let n = formation.ticket_ids.len();
            if let Some(formed) = claim_and_create(
                db, redis, regions, mode, region, &queue_key, formation, now_ms, outcome,
            )? {
                left -= n;
                outcome.matches.push(formed);
            }
        }
        outcome.create_us += started.elapsed().as_micros() as u64;
    }
    outcome.tickets_left += left;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn claim_and_create(
    db: &Db,
    redis: &Redis,
    regions: &[String],
    mode: &rh_domain::modes::Mode,
    region: &str,
    queue_key: &str,
    formation: Formation,
    now_ms: u64,
    outcome: &mut TickOutcome,
) -> Result<Option<FormedMatch>, QueueError> {
    let ticket_keys: Vec<String> = formation
        .ticket_ids
        .iter()
        .map(|&t| keys::ticket(t))
        .collect();
    let ticket_args: Vec<String> = formation.ticket_ids.iter().map(u64::to_string).collect();

    // (1) Claim every ticket of the group, or none.
    let mut claim_keys = vec![queue_key.to_owned(), keys::waits(&mode.name, region)];
    claim_keys.extend(ticket_keys.iter().cloned());
    let mut claim_args = vec![
        now_ms.to_string(),
        CLAIM_TTL_MS.to_string(),
        WAITS_KEPT.to_string(),
    ];
    claim_args.extend(ticket_args.iter().cloned());
    if redis_io::eval_int(redis, Script::Claim, &claim_keys, &claim_args)? != 1 {
        outcome.claims_lost += 1;
        return Ok(None);
    }

    // (2) Create the match through the same code path as POST /api/v1/matches.
    let new = NewMatch {
        mode: mode.name.clone(),
        region: region.to_owned(),
        teams: formation.teams.clone(),
    };
    let created = match create_match(db, new, regions, now_ms as i64) {
        Ok(created) => created,
        Err(e) => {
            // Put the tickets back so the players are not lost; report, don't abort the tick.
            eprintln!(
                "queue tick: creating a {} match in {region} failed: {e}",
                mode.name
            );
            let mut release_keys = vec![queue_key.to_owned(), keys::ACTIVE_QUEUES.to_owned()];
            release_keys.extend(ticket_keys);
            let mut release_args = vec![
                TICKET_TTL_MS.to_string(),
                keys::active_member(&mode.name, region),
            ];
            release_args.extend(ticket_args);
            redis_io::eval_int(redis, Script::Release, &release_keys, &release_args)?;
            outcome.creations_failed += 1;
            return Ok(None);
        }
    };

    // (3) Record the match on the players and tell them, in one script.
    let marker = format!("{}{}", keys::MATCH_VALUE_PREFIX, created.id);
    let mut finalize_args = vec![marker, MATCH_MARKER_TTL_MS.to_string()];
    finalize_args.extend(ticket_args);
    for (channel, payload) in events(created.id, &mode.name, region, &formation.teams) {
        finalize_args.push(channel);
        finalize_args.push(payload.to_string());
    }
    redis_io::eval_int(redis, Script::Finalize, &ticket_keys, &finalize_args)?;

    Ok(Some(FormedMatch {
        match_id: created.id,
        mode: mode.name.clone(),
        region: region.to_owned(),
        teams: formation.teams,
        ticket_ids: formation.ticket_ids,
    }))
}

/// `match_found` on every player's `user:{id}` (with teammates and opponents) and
/// `matched` on their `queue:{id}`, as (channel, payload) pairs.
fn events(
    match_id: u64,
    mode: &str,
    region: &str,
    teams: &[Vec<u64>],
) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for (team_index, team) in teams.iter().enumerate() {
        let opponents: Vec<u64> = teams
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != team_index)
            .flat_map(|(_, t)| t.iter().copied())
            .collect();
        for &user in team {
            let teammates: Vec<u64> = team.iter().copied().filter(|&u| u != user).collect();
            out.push((
                keys::user_channel(user),
                json!({"type": "match_found", "match_id": match_id, "mode": mode,
                        "region": region, "team": team_index, "teammates": teammates,
                        "opponents": opponents}),
            ));
            out.push((
                keys::queue_channel(user),
                json!({"type": "matched", "match_id": match_id}),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_player_hears_of_the_match_with_their_own_teammates() {
        let events = events(9, "2v2", "eu", &[vec![1, 2], vec![3, 4]]);
        assert_eq!(events.len(), 8);
        let (channel, found) = &events[0];
        assert_eq!(channel, "user:1");
        assert_eq!(found["type"], "match_found");
        assert_eq!(found["teammates"], json!([2]));
        assert_eq!(found["opponents"], json!([3, 4]));
        let (channel, found) = &events[6];
        assert_eq!(channel, "user:4");
        assert_eq!(found["team"], 1);
        assert_eq!(found["teammates"], json!([3]));
        assert_eq!(events[1].0, "queue:1");
    }
}
