//! Claiming, creating and announcing the matches one tick formed in one queue, as a
//! batch: a fixed number of round trips per queue however many matches it formed.
//!
//! (1) One claim script takes every formed group whole or not at all; (2) one call to
//! [`create_matches`] (the code path of `POST /api/v1/matches`) creates all claimed
//! matches in one MySQL transaction; (3) one finalize script records them on the players
//! and publishes their events; a release script runs only when creations failed.
//!
//! Nothing is lost on failure: if the transaction fails, nothing was written and every
//! claimed ticket goes back; a match refused on its own (a player's account is gone)
//! puts its tickets back, except those of the vanished players, which could never be
//! matched and are dropped. If a release itself fails, the claims expire after
//! [`CLAIM_TTL_MS`] and the players are free to queue again.

use std::time::Instant;

use serde_json::json;
use spin_sdk::redis::Connection as Redis;

use super::error::QueueError;
use super::scripts::Script;
use super::tick::{Formation, FormedMatch, TickOutcome};
use super::{keys, redis_io, CLAIM_TTL_MS, MATCH_MARKER_TTL_MS, TICKET_TTL_MS, WAITS_KEPT};
use crate::db::Db;
use crate::matches::{create_matches, MatchError, NewMatch};

/// One queue's region and Redis names, derived once.
pub(super) struct QueueKeys {
    pub(super) region: String,
    pub(super) queue: String,
    pub(super) waits: String,
    pub(super) active_member: String,
}

impl QueueKeys {
    pub(super) fn new(mode: &str, region: &str) -> Self {
        QueueKeys {
            region: region.to_owned(),
            queue: keys::queue(mode, region),
            waits: keys::waits(mode, region),
            active_member: keys::active_member(mode, region),
        }
    }
}

/// Claims, creates and announces every match formed in one queue, in a fixed number of
/// round trips: one claim script, one batch through [`create_matches`] (the code path
/// of `POST /api/v1/matches`), one finalize script, and one release script only when
/// some creation failed.
#[allow(clippy::too_many_arguments)]
pub(super) fn claim_and_create(
    db: &Db,
    redis: &Redis,
    regions: &[String],
    mode: &rh_domain::modes::Mode,
    queue: &QueueKeys,
    formations: Vec<Formation>,
    now_ms: u64,
    outcome: &mut TickOutcome,
) -> Result<Vec<FormedMatch>, QueueError> {
    // (1) Claim every group whole, or not at all, in one script.
    let started = Instant::now();
    let won = claim(redis, queue, &formations, now_ms)?;
    let mut claimed = Vec::with_capacity(formations.len());
    for (formation, won) in formations.into_iter().zip(won) {
        if won {
            claimed.push(formation);
        } else {
            outcome.claims_lost += 1;
        }
    }
    outcome.claim_us += started.elapsed().as_micros() as u64;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }

    // (2) Create them all in one MySQL transaction through the matches code path.
    let started = Instant::now();
    let batch = claimed
        .iter()
        .map(|f| NewMatch {
            mode: mode.name.clone(),
            region: queue.region.clone(),
            teams: f.teams.clone(),
        })
        .collect();
    let results = match create_matches(db, batch, regions, now_ms as i64) {
        Ok(results) => results,
        Err(e) => {
            // Nothing was written: put every ticket back so no player is lost. If even
            // this fails, the claims expire after CLAIM_TTL_MS and free the players.
            eprintln!(
                "queue tick: creating {} {} matches failed: {e}",
                claimed.len(),
                mode.name
            );
            outcome.insert_us += started.elapsed().as_micros() as u64;
            outcome.creations_failed += claimed.len();
            let back: Vec<(u64, bool)> = claimed
                .iter()
                .flat_map(|f| f.ticket_ids.iter().map(|&t| (t, false)))
                .collect();
            release(redis, queue, &back)?;
            return Ok(Vec::new());
        }
    };
    outcome.insert_us += started.elapsed().as_micros() as u64;

    // (3) Announce the created ones in one script; undo the claims of refused ones.
    let started = Instant::now();
    let mut created = Vec::new();
    let mut back: Vec<(u64, bool)> = Vec::new();
    for (formation, result) in claimed.into_iter().zip(results) {
        match result {
            Ok(m) => created.push(FormedMatch {
                match_id: m.id,
                mode: mode.name.clone(),
                region: m.region,
                teams: formation.teams,
                ticket_ids: formation.ticket_ids,
            }),
            Err(e) => {
                eprintln!("queue tick: a {} match was refused: {e}", mode.name);
                outcome.creations_failed += 1;
                let gone: &[u64] = match &e {
                    MatchError::UnknownUsers(users) => users,
                    _ => &[],
                };
                for (&ticket, members) in formation.ticket_ids.iter().zip(&formation.ticket_members)
                {
                    let drop = members.iter().any(|u| gone.contains(u));
                    outcome.tickets_dropped += drop as usize;
                    back.push((ticket, drop));
                }
            }
        }
    }
    if !created.is_empty() {
        finalize(redis, &created)?;
    }
    if !back.is_empty() {
        release(redis, queue, &back)?;
    }
    outcome.finalize_us += started.elapsed().as_micros() as u64;
    Ok(created)
}

/// Runs the claim script over every formation; `true` per formation claimed.
fn claim(
    redis: &Redis,
    queue: &QueueKeys,
    formations: &[Formation],
    now_ms: u64,
) -> Result<Vec<bool>, QueueError> {
    let tickets = formations.iter().flat_map(|f| f.ticket_ids.iter().copied());
    let mut claim_keys = vec![queue.queue.clone(), queue.waits.clone()];
    claim_keys.extend(tickets.clone().map(keys::ticket));
    let sizes: Vec<String> = formations
        .iter()
        .map(|f| f.ticket_ids.len().to_string())
        .collect();
    let mut args = vec![
        now_ms.to_string(),
        CLAIM_TTL_MS.to_string(),
        WAITS_KEPT.to_string(),
        sizes.join(","),
    ];
    args.extend(tickets.map(|t| t.to_string()));
    let flags =
        redis_io::eval_string(redis, Script::Claim, &claim_keys, &args)?.unwrap_or_default();
    if flags.len() != formations.len() {
        return Err(QueueError::Redis(format!(
            "claim script answered {} flags for {} groups",
            flags.len(),
            formations.len()
        )));
    }
    Ok(flags.bytes().map(|b| b == b'1').collect())
}

/// Puts claimed tickets back in the queue, or drops them (`true`): one script.
fn release(redis: &Redis, queue: &QueueKeys, tickets: &[(u64, bool)]) -> Result<(), QueueError> {
    let mut release_keys = vec![queue.queue.clone(), keys::ACTIVE_QUEUES.to_owned()];
    release_keys.extend(tickets.iter().map(|&(t, _)| keys::ticket(t)));
    let flags: String = tickets
        .iter()
        .map(|&(_, drop)| if drop { 'd' } else { 'r' })
        .collect();
    let mut args = vec![
        TICKET_TTL_MS.to_string(),
        queue.active_member.clone(),
        flags,
    ];
    args.extend(tickets.iter().map(|&(t, _)| t.to_string()));
    redis_io::eval_int(redis, Script::Release, &release_keys, &args)?;
    Ok(())
}

/// Records every created match on its players and publishes their events: one script.
fn finalize(redis: &Redis, created: &[FormedMatch]) -> Result<(), QueueError> {
    let mut finalize_keys = Vec::new();
    let mut args = vec![MATCH_MARKER_TTL_MS.to_string()];
    for m in created {
        let marker = format!("{}{}", keys::MATCH_VALUE_PREFIX, m.match_id);
        for &ticket in &m.ticket_ids {
            finalize_keys.push(keys::ticket(ticket));
            args.push(ticket.to_string());
            args.push(marker.clone());
        }
    }
    for m in created {
        for (channel, payload) in events(m.match_id, &m.mode, &m.region, &m.teams) {
            args.push(channel);
            args.push(payload.to_string());
        }
    }
    redis_io::eval_int(redis, Script::Finalize, &finalize_keys, &args)?;
    Ok(())
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
