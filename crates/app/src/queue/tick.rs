//! The queue tick: one pass over every (mode, region) queue that forms matches.
//!
//! [`run_tick`] is the whole step. The `queue-tick` component calls it for every message
//! on `matchmaking:tick`; the `matchmaking` component exposes it on the server-signed
//! `POST /api/v1/matchmaking/tick` so tests and operators can run one and read its
//! [`TickOutcome`].
//!
//! Only queues in the active set (`mm:active`, maintained by the scripts) are read.
//! Per mode: (1) per region queue of the mode, optionally take a short lock so replicas
//! receiving the same tick do not all do the same work; (2) read each locked queue's
//! oldest tickets in one script (a multi-region ticket is listed in each of its
//! queues and read once); (3) form the mode's matches with the pure quality matcher
//! ([`rh_domain::matchmaking::matcher`]), which picks each match's region; (4) per
//! region, claim every formed match's tickets in one script (each group whole or not
//! at all). Then, for the whole tick: (5) create every claimed match
//! in one MySQL transaction through `crate::matches::create_matches` (the code path of
//! `POST /api/v1/matches`); (6) record them on the players and notify them in one
//! script. So a tick costs a fixed number of round trips per queue, however many
//! matches it forms.
//!
//! A lost claim means another tick (or a leave) got there first: that group is skipped
//! and its tickets wait for the next tick. Steps (4) to (6), and what happens when MySQL
//! fails, are in [`super::batch`].

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use rh_infra::redis::{Arg, Lock, Redis};
use serde::Serialize;

use rh_domain::modes::Mode;

use super::batch::{claim, create_and_announce, QueueClaim, QueueKeys};
use super::error::QueueError;
use super::{db, keys, scripts, Ticket};
use crate::matches::MatchPrediction;
use rh_infra::db::Db;

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
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FormedMatch {
    pub match_id: u64,
    pub mode: String,
    pub region: String,
    pub teams: Vec<Vec<u64>>,
    pub ticket_ids: Vec<u64>,
    /// What the matcher predicted (quality, each team's win probability, draw).
    pub prediction: MatchPrediction,
}

/// What one tick did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
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
    /// Claimed groups whose match creation failed; their tickets went back (but see
    /// `tickets_dropped`).
    pub creations_failed: usize,
    /// Tickets removed because a member's account no longer exists.
    pub tickets_dropped: usize,
    /// Wall time (µs) spent reading queues, in the pure grouping, and claiming, creating
    /// and announcing matches (`create_us`, split into the claim script, the MySQL batch
    /// and the finalize/release scripts): where a tick's time goes.
    pub read_us: u64,
    pub group_us: u64,
    pub create_us: u64,
    pub claim_us: u64,
    pub insert_us: u64,
    pub finalize_us: u64,
}

/// A group of tickets the domain step formed into one match.
#[derive(Debug, Clone, PartialEq)]
pub struct Formation {
    pub ticket_ids: Vec<u64>,
    /// Each ticket's members, in `ticket_ids` order.
    pub ticket_members: Vec<Vec<u64>>,
    /// Team index → user ids (parties kept on one team).
    pub teams: Vec<Vec<u64>>,
    pub prediction: MatchPrediction,
}

/// The queues that may hold tickets (`mode`, `region`), sorted.
pub fn active_queues(redis: &Redis) -> Result<Vec<(String, String)>, QueueError> {
    let mut queues: Vec<(String, String)> = redis
        .execute("SMEMBERS", &[Arg::Str(keys::ACTIVE_QUEUES)])?
        .strings()
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
    let mut locks = Vec::new();
    let result = tick_queues(
        db,
        redis,
        regions,
        &modes,
        active,
        now_ms,
        opts,
        &mut outcome,
        &mut locks,
    );
    // Locks are released whatever happened (they also expire on their own).
    for lock in locks {
        let unlocked = lock.release(redis);
        if let (Err(e), Ok(())) = (unlocked, &result) {
            return Err(e.into());
        }
    }
    outcome.create_us = outcome.claim_us + outcome.insert_us + outcome.finalize_us;
    result.map(|()| outcome)
}

/// Steps (1) to (4) mode by mode, then (5) and (6) for every claimed match at once.
#[allow(clippy::too_many_arguments)]
fn tick_queues(
    db: &Db,
    redis: &Redis,
    regions: &[String],
    modes: &[Mode],
    active: Vec<(String, String)>,
    now_ms: u64,
    opts: &TickOptions,
    outcome: &mut TickOutcome,
    locks: &mut Vec<Lock>,
) -> Result<(), QueueError> {
    let settings = db::quality_settings(db)?;
    let mut by_mode: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (mode, region) in active {
        by_mode.entry(mode).or_default().push(region);
    }
    let mut claims = Vec::new();
    for (mode_name, mode_regions) in by_mode {
        // A queue of a mode or region removed from configuration is left to expire.
        let Some(mode) = modes.iter().find(|m| m.name == mode_name) else {
            continue;
        };
        let mode_settings = db::settings_of(&settings, &mode.name);
        let window_ms = u64::from(mode_settings.rematch_window_s) * 1000;
        let mut tickets: Vec<Ticket> = Vec::new();
        let mut seen: HashSet<u64> = HashSet::new();
        for region in mode_regions {
            if !regions.contains(&region) {
                continue;
            }
            if opts.use_lock {
                let key = keys::tick_lock(&mode.name, &region);
                let Some(lock) = redis.try_lock(&key, TICK_LOCK_TTL_MS as i64)? else {
                    outcome.queues_locked += 1;
                    continue;
                };
                locks.push(lock);
            }
            let queue = QueueKeys::new(mode, &region, window_ms);
            for t in read_queue(redis, &queue, now_ms, opts, outcome)? {
                if seen.insert(t.ticket_id) {
                    tickets.push(t);
                }
            }
        }
        outcome.tickets_read += tickets.len();
        outcome.tickets_left += tickets.len();
        let players: usize = tickets.iter().map(|t| t.members.len()).sum();
        if players < mode.match_size() {
            continue;
        }
        let started = Instant::now();
        let formed = super::grouping::form_matches(mode, &mode_settings, &tickets, regions, now_ms);
        outcome.group_us += started.elapsed().as_micros() as u64;
        // (4) One claim per region the matches formed in (regions in name order).
        let mut per_region: BTreeMap<String, Vec<Formation>> = BTreeMap::new();
        for (region, formation) in formed {
            per_region.entry(region).or_default().push(formation);
        }
        for (region, formations) in per_region {
            let queue = QueueKeys::new(mode, &region, window_ms);
            let started = Instant::now();
            let claimed = claim(redis, &queue, formations, now_ms, outcome)?;
            outcome.claim_us += started.elapsed().as_micros() as u64;
            if !claimed.is_empty() {
                claims.push(QueueClaim {
                    queue,
                    formations: claimed,
                });
            }
        }
    }
    if claims.is_empty() {
        return Ok(());
    }
    let formed = create_and_announce(db, redis, regions, claims, now_ms, outcome)?;
    let matched: usize = formed.iter().map(|m| m.ticket_ids.len()).sum();
    outcome.tickets_left -= matched;
    outcome.matches = formed;
    Ok(())
}

/// Step (2) for one queue: its oldest eligible tickets.
fn read_queue(
    redis: &Redis,
    queue: &QueueKeys,
    now_ms: u64,
    opts: &TickOptions,
    outcome: &mut TickOutcome,
) -> Result<Vec<Ticket>, QueueError> {
    outcome.queues_scanned += 1;
    let started = Instant::now();
    let listing = redis
        .eval(
            &scripts::READ_QUEUE,
            &[queue.queue.as_str(), keys::ACTIVE_QUEUES],
            &[
                Arg::Uint(opts.max_tickets_per_queue as u64),
                Arg::Str(&queue.active_member),
                Arg::Uint(queue.rematch_window_ms),
                Arg::Uint(now_ms),
                Arg::Str(&queue.mode.name),
            ],
        )?
        .string()
        .unwrap_or_default();
    let tickets: Vec<Ticket> = listing
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| Ticket::parse_queue_line(l, &queue.mode.name, &queue.region))
        .collect::<Result<_, _>>()?;
    outcome.read_us += started.elapsed().as_micros() as u64;
    Ok(tickets)
}
