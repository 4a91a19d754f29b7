//! Claiming, creating and announcing the matches a tick formed, as batches: a fixed
//! number of round trips however many matches form.
//!
//! (4) Per queue, one claim script takes every formed group whole or not at all.
//! (5) One call to [`create_matches`] (the code path of `POST /api/v1/matches`) creates
//! every claimed match of the tick in one MySQL transaction: one commit (one log flush)
//! per tick rather than per queue. (6) One finalize script records them on the players
//! and publishes their events; a release script runs per queue only where creations
//! failed.
//!
//! Nothing is lost on failure. If the tick's transaction fails, nothing was written and
//! each queue is retried in a transaction of its own, so one queue MySQL refuses (or a
//! transient deadlock) does not hold up the others; the claimed tickets of a queue whose
//! transaction fails again go back to it. A match refused on its own (a player's account
//! is gone) puts its tickets back, except those of the vanished players, which could
//! never be matched and are dropped. If a release itself fails, the claims expire after
//! [`CLAIM_TTL_MS`] and the players are free to queue again.

use std::fmt::Write as _;
use std::time::Instant;

use rh_domain::events::{QueueEvent, UserEvent};
use rh_domain::modes::Mode;
use rh_infra::redis::{Arg, Redis};

use super::error::QueueError;
use super::tick::{Formation, FormedMatch, TickOutcome};
use super::{keys, scripts, CLAIM_TTL_MS, MATCH_MARKER_TTL_MS, TICKET_TTL_MS, WAITS_KEPT};
use crate::matches::{create_matches, CreatedMatch, MatchError, MatchPrediction, NewMatch};
use rh_infra::db::Db;

/// One queue: its mode, region and Redis names, derived once.
pub(super) struct QueueKeys {
    pub(super) mode: Mode,
    pub(super) region: String,
    pub(super) queue: String,
    pub(super) waits: String,
    pub(super) active_member: String,
    /// The mode's rematch window (0: off): who met whom is recorded only when on.
    pub(super) rematch_window_ms: u64,
}

impl QueueKeys {
    pub(super) fn new(mode: &Mode, region: &str, rematch_window_ms: u64) -> Self {
        QueueKeys {
            mode: mode.clone(),
            region: region.to_owned(),
            queue: keys::queue(&mode.name, region),
            waits: keys::waits(&mode.name, region),
            active_member: keys::active_member(&mode.name, region),
            rematch_window_ms,
        }
    }
}

/// The groups claimed in one queue, waiting to be created.
pub(super) struct QueueClaim {
    pub(super) queue: QueueKeys,
    pub(super) formations: Vec<Formation>,
}

/// What became of one claimed group.
enum Creation {
    Created(CreatedMatch),
    /// Refused on its own (nothing written for it).
    Refused(MatchError),
    /// Its queue's transaction failed (nothing written for the queue).
    Failed,
}

/// Step (4): claims a queue's formed groups in one script; returns those claimed.
pub(super) fn claim(
    redis: &Redis,
    queue: &QueueKeys,
    formations: Vec<Formation>,
    now_ms: u64,
    outcome: &mut TickOutcome,
) -> Result<Vec<Formation>, QueueError> {
    // `1,2;3,4;...`: the groups' ticket ids (the script derives the keys).
    let groups = formations
        .iter()
        .map(|f| csv(&f.ticket_ids))
        .collect::<Vec<_>>()
        .join(";");
    let claim_keys = [queue.queue.clone(), queue.waits.clone()];
    let args = [
        now_ms.to_string(),
        CLAIM_TTL_MS.to_string(),
        WAITS_KEPT.to_string(),
        groups,
    ];
    let flags = redis
        .eval(&scripts::CLAIM, &claim_keys, &Arg::all(&args))?
        .string()
        .unwrap_or_default();
    if flags.len() != formations.len() {
        return Err(QueueError::Corrupt(format!(
            "claim script answered {} flags for {} groups",
            flags.len(),
            formations.len()
        )));
    }
    let mut claimed = Vec::with_capacity(formations.len());
    for (formation, flag) in formations.into_iter().zip(flags.bytes()) {
        if flag == b'1' {
            claimed.push(formation);
        } else {
            outcome.claims_lost += 1;
        }
    }
    Ok(claimed)
}

/// Steps (5) and (6) for every claimed group of the tick; returns the formed matches.
pub(super) fn create_and_announce(
    db: &Db,
    redis: &Redis,
    regions: &[String],
    claims: Vec<QueueClaim>,
    now_ms: u64,
    outcome: &mut TickOutcome,
) -> Result<Vec<FormedMatch>, QueueError> {
    let started = Instant::now();
    let creations = create_all(db, regions, &claims, now_ms);
    outcome.insert_us += started.elapsed().as_micros() as u64;

    let started = Instant::now();
    let mut formed = Vec::new();
    let mut formations = Vec::new();
    let mut windows = Vec::new();
    let mut creations = creations.into_iter();
    for claim in &claims {
        // (ticket id, drop it) for the tickets that go back to this queue.
        let mut back: Vec<(u64, bool)> = Vec::new();
        for (formation, creation) in claim.formations.iter().zip(creations.by_ref()) {
            let gone: &[u64] = match &creation {
                Creation::Created(m) => {
                    formed.push(FormedMatch {
                        match_id: m.id,
                        mode: m.mode.clone(),
                        region: m.region.clone(),
                        teams: formation.teams.clone(),
                        ticket_ids: formation.ticket_ids.clone(),
                        prediction: formation.prediction.clone(),
                    });
                    formations.push(formation);
                    windows.push(claim.queue.rematch_window_ms);
                    continue;
                }
                Creation::Refused(MatchError::UnknownUsers(users)) => users,
                Creation::Refused(_) | Creation::Failed => &[],
            };
            outcome.creations_failed += 1;
            for (&ticket, members) in formation.ticket_ids.iter().zip(&formation.ticket_members) {
                let drop = members.iter().any(|u| gone.contains(u));
                outcome.tickets_dropped += drop as usize;
                back.push((ticket, drop));
            }
        }
        if !back.is_empty() {
            release(redis, &claim.queue, &back)?;
        }
    }
    if !formed.is_empty() {
        let created: Vec<_> = formed
            .iter()
            .map(|m| crate::metrics::Counter::MatchCreated(m.mode.clone()))
            .collect();
        crate::metrics::count(redis, &created);
        finalize(redis, &formed, &formations, &windows, now_ms)?;
    }
    outcome.finalize_us += started.elapsed().as_micros() as u64;
    Ok(formed)
}

/// Step (5): one transaction for the whole tick, else one per queue. One [`Creation`]
/// per claimed group, in claim order.
fn create_all(db: &Db, regions: &[String], claims: &[QueueClaim], now_ms: u64) -> Vec<Creation> {
    let batch = |claims: &[QueueClaim]| -> Vec<NewMatch> {
        claims
            .iter()
            .flat_map(|c| {
                c.formations.iter().map(|f| NewMatch {
                    mode: c.queue.mode.name.clone(),
                    region: c.queue.region.clone(),
                    teams: f.teams.clone(),
                    prediction: Some(f.prediction.clone()),
                })
            })
            .collect()
    };
    let as_creations = |results: Vec<Result<CreatedMatch, MatchError>>| {
        results.into_iter().map(|r| match r {
            Ok(m) => Creation::Created(m),
            Err(e) => {
                rh_infra::log_warn!("queue tick: a match was refused: {e}");
                Creation::Refused(e)
            }
        })
    };
    match create_matches(db, batch(claims), regions, now_ms as i64) {
        Ok(results) => return as_creations(results).collect(),
        Err(e) if claims.len() > 1 => {
            rh_infra::log_warn!(
                "queue tick: creating the tick's matches failed, retrying queue by queue: {e}"
            )
        }
        Err(_) => {}
    }
    let mut creations = Vec::new();
    for claim in claims {
        let one = std::slice::from_ref(claim);
        match create_matches(db, batch(one), regions, now_ms as i64) {
            Ok(results) => creations.extend(as_creations(results)),
            Err(e) => {
                rh_infra::log_warn!(
                    "queue tick: creating {} {} matches in {} failed: {e}",
                    claim.formations.len(),
                    claim.queue.mode.name,
                    claim.queue.region
                );
                creations.extend(claim.formations.iter().map(|_| Creation::Failed));
            }
        }
    }
    creations
}

/// Puts claimed tickets back in a queue, or drops them (`true`): one script.
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
    redis.eval(&scripts::RELEASE, &release_keys, &Arg::all(&args))?;
    Ok(())
}

/// Step (6): records every created match on its players (and, where the mode's rematch
/// window is on, who met whom) and publishes their events, in one script.
/// `formations[i]` is what `formed[i]` was created from, `windows[i]` its mode's window.
fn finalize(
    redis: &Redis,
    formed: &[FormedMatch],
    formations: &[&Formation],
    windows: &[u64],
    now_ms: u64,
) -> Result<(), QueueError> {
    let mut tickets = String::new();
    let mut published = String::new();
    let mut recent = String::new();
    for ((m, formation), &window) in formed.iter().zip(formations).zip(windows) {
        if window > 0 {
            for (t, team) in m.teams.iter().enumerate() {
                let opponents: Vec<u64> = m
                    .teams
                    .iter()
                    .enumerate()
                    .filter(|&(o, _)| o != t)
                    .flat_map(|(_, o)| o.iter().copied())
                    .collect();
                for &user in team {
                    let _ = writeln!(recent, "{window}:{}:{user}:{}", m.mode, csv(&opponents));
                }
            }
        }
        for (&ticket, members) in formation.ticket_ids.iter().zip(&formation.ticket_members) {
            let _ = writeln!(tickets, "{ticket}:{}:{}", m.match_id, csv(members));
        }
        for (channel, payload) in events(
            m.match_id,
            &m.mode,
            &m.region,
            &m.teams,
            Some(&m.prediction),
        ) {
            let _ = writeln!(published, "{channel}\t{payload}");
        }
    }
    let args = [
        MATCH_MARKER_TTL_MS.to_string(),
        tickets,
        published,
        now_ms.to_string(),
        recent,
    ];
    redis.eval(&scripts::FINALIZE, &[] as &[&str], &Arg::all(&args))?;
    Ok(())
}

fn csv(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

/// `match_found` on every player's `user:{id}` (with teammates and opponents) and
/// `matched` on their `queue:{id}`, as (channel, JSON payload) pairs. Serialised from
/// the domain's types straight to text (no `serde_json::Value` in between: a burst
/// tick writes tens of thousands of these).
fn events(
    match_id: u64,
    mode: &str,
    region: &str,
    teams: &[Vec<u64>],
    prediction: Option<&MatchPrediction>,
) -> Vec<(String, String)> {
    fn text(event: &impl serde::Serialize) -> String {
        // Plain strings and integers: serialising cannot fail.
        serde_json::to_string(event).unwrap_or_default()
    }
    let matched = text(&QueueEvent::Matched { match_id });
    let mut out = Vec::new();
    for (team_index, team) in teams.iter().enumerate() {
        let opponents: Vec<u64> = teams
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != team_index)
            .flat_map(|(_, t)| t.iter().copied())
            .collect();
        for &user in team {
            let found = UserEvent::MatchFound {
                match_id,
                mode: mode.to_owned(),
                region: region.to_owned(),
                team: team_index,
                teammates: team.iter().copied().filter(|&u| u != user).collect(),
                opponents: opponents.clone(),
                quality: prediction.map(|p| p.quality),
                win_probability: prediction.and_then(|p| p.predicted_win.get(team_index).copied()),
                predicted_win: prediction.map(|p| p.predicted_win.clone()),
            };
            out.push((keys::user_channel(user), text(&found)));
            out.push((keys::queue_channel(user), matched.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parsed(events: &[(String, String)], i: usize) -> (&str, Value) {
        let (channel, payload) = &events[i];
        (channel, serde_json::from_str(payload).unwrap())
    }

    #[test]
    fn every_player_hears_of_the_match_with_their_own_teammates() {
        let events = events(9, "2v2", "eu", &[vec![1, 2], vec![3, 4]], None);
        assert_eq!(events.len(), 8);
        assert_eq!(
            parsed(&events, 0),
            (
                "user:1",
                json!({"type": "match_found", "match_id": 9, "mode": "2v2", "region": "eu",
                       "team": 0, "teammates": [2], "opponents": [3, 4]})
            )
        );
        assert_eq!(
            parsed(&events, 1),
            ("queue:1", json!({"type": "matched", "match_id": 9}))
        );
        let (channel, found) = parsed(&events, 6);
        assert_eq!(channel, "user:4");
        assert_eq!(found["team"], 1);
        assert_eq!(found["teammates"], json!([3]));
        assert_eq!(found["opponents"], json!([1, 2]));
    }

    #[test]
    fn match_found_carries_the_prediction_and_the_own_teams_chance() {
        let p = MatchPrediction {
            quality: 0.8,
            predicted_win: vec![0.6, 0.4],
            draw_probability: 0.1,
            worst_latency_ms: None,
        };
        let events = events(3, "1v1", "eu", &[vec![1], vec![2]], Some(&p));
        let (_, a) = parsed(&events, 0);
        let (_, b) = parsed(&events, 2);
        assert_eq!(a["quality"], 0.8);
        assert_eq!(a["win_probability"], 0.6);
        assert_eq!(b["win_probability"], 0.4);
        assert_eq!(b["predicted_win"], json!([0.6, 0.4]));
    }

    #[test]
    fn payloads_are_one_line_of_valid_json_whatever_the_names() {
        let events = events(1, "odd\t\"mode\"\n", "r\\", &[vec![5], vec![6]], None);
        for (_, payload) in &events {
            assert!(!payload.contains(['\t', '\n']), "{payload}");
        }
        let (_, found) = parsed(&events, 0);
        assert_eq!(found["mode"], "odd\t\"mode\"\n");
        assert_eq!(found["region"], "r\\");
        assert_eq!(found["teammates"], json!([]));
    }
}
