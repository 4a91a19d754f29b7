//! Joining, consenting, leaving and reading the queue: the HTTP side of matchmaking.
//!
//! Each operation validates against MySQL (modes, users, ratings, unfinished matches)
//! and then makes exactly one atomic change in Redis through a script.

use rh_domain::events::{QueueEvent, Tick};
use rh_infra::db::Db;
use rh_infra::redis::{Arg, Redis};
use serde::Serialize;

use super::error::QueueError;
use super::{db, keys, scripts, Ticket, TICKET_TTL_MS, WAITS_KEPT};

/// `POST /api/v1/matchmaking/queue` body. Exactly one of `party` (create a party
/// ticket as its leader) and `party_id` (consent to a party that lists you) may be set.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    pub mode: String,
    pub region: String,
    #[serde(default)]
    pub party: Option<Vec<u64>>,
    #[serde(default)]
    pub party_id: Option<u64>,
}

/// The 202 answer to a join.
#[derive(Debug, Clone, Serialize)]
pub struct Joined {
    pub ticket_id: u64,
    pub mode: String,
    pub region: String,
    /// The ticket's rating: the mean of its members' mmr when they joined.
    pub mmr: i32,
    /// Every member of the ticket, leader first (just the caller when solo).
    pub party: Vec<u64>,
    /// Set for party tickets: what the other members send to consent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party_id: Option<u64>,
    /// `queued` (eligible for matching) or `pending_party` (waiting for consent).
    pub state: &'static str,
    /// Members who have not consented yet.
    pub waiting_for: Vec<u64>,
    /// Mean of recent waits in this mode and region; `null` before any match formed.
    pub estimated_wait_s: Option<u64>,
}

/// The answer to `GET /api/v1/matchmaking/queue`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `queued`, `matched` or `idle`.
    pub state: &'static str,
    pub waited_s: u64,
    pub estimated_wait_s: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketView>,
}

/// The caller's ticket as shown by the status route.
#[derive(Debug, Clone, Serialize)]
pub struct TicketView {
    pub ticket_id: u64,
    pub mode: String,
    pub region: String,
    pub mmr: i32,
    pub party: Vec<u64>,
    /// `pending_party`, `queued`, or `forming` (a tick is creating its match).
    pub state: &'static str,
    pub waiting_for: Vec<u64>,
}

/// Mean of the recent waits of a (mode, region), in whole seconds (rounded).
pub fn estimated_wait_s(
    redis: &Redis,
    mode: &str,
    region: &str,
) -> Result<Option<u64>, QueueError> {
    let waits = redis
        .execute(
            "LRANGE",
            &[
                Arg::Str(&keys::waits(mode, region)),
                Arg::Int(0),
                Arg::Int(WAITS_KEPT as i64 - 1),
            ],
        )?
        .strings();
    let ms: Vec<u64> = waits.iter().filter_map(|w| w.parse().ok()).collect();
    if ms.is_empty() {
        return Ok(None);
    }
    let mean = ms.iter().sum::<u64>() / ms.len() as u64;
    Ok(Some((mean + 500) / 1000))
}

fn csv(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

/// Runs a join-like script; when the player is held by a `match:{id}` that MySQL says
/// is over, runs it again allowing that value to be replaced.
fn run_join_script(
    db: &Db,
    mut attempt: impl FnMut(&str) -> Result<String, QueueError>,
) -> Result<String, QueueError> {
    let first = attempt("")?;
    let Some(held_by) = first.strip_prefix("busy:") else {
        return Ok(first);
    };
    let Some(match_id) = held_by.strip_prefix(keys::MATCH_VALUE_PREFIX) else {
        return Err(QueueError::Conflict("already queued".into()));
    };
    let match_id: u64 = match_id
        .parse()
        .map_err(|_| QueueError::Corrupt(format!("bad player value {held_by}")))?;
    if db::match_is_pending(db, match_id)? {
        return Err(QueueError::Conflict(format!(
            "in match {match_id}, which has not finished"
        )));
    }
    let second = attempt(held_by)?;
    if second.starts_with("busy:") {
        return Err(QueueError::Conflict("already queued".into()));
    }
    Ok(second)
}

fn check_mode_region(
    db: &Db,
    regions: &[String],
    mode: &str,
    region: &str,
) -> Result<rh_domain::modes::Mode, QueueError> {
    let shape = db::mode(db, mode)?
        .ok_or_else(|| QueueError::invalid("mode", format!("unknown mode {mode:?}")))?;
    if !regions.iter().any(|r| r == region) {
        return Err(QueueError::invalid(
            "region",
            format!("unknown region {region:?}"),
        ));
    }
    Ok(shape)
}

fn refuse_if_in_match(db: &Db, user_id: u64) -> Result<(), QueueError> {
    match db::unfinished_match(db, user_id)? {
        Some(id) => Err(QueueError::Conflict(format!(
            "in match {id}, which has not finished"
        ))),
        None => Ok(()),
    }
}

/// Joins the queue: solo, as a party leader, or as a consenting party member.
pub fn join(
    db: &Db,
    redis: &Redis,
    regions: &[String],
    user_id: u64,
    req: &JoinRequest,
    now_ms: u64,
) -> Result<Joined, QueueError> {
    let shape = check_mode_region(db, regions, &req.mode, &req.region)?;
    if req.party.is_some() && req.party_id.is_some() {
        return Err(QueueError::invalid(
            "party_id",
            "send either party (to lead a party) or party_id (to join one), not both",
        ));
    }
    refuse_if_in_match(db, user_id)?;
    let mmr = db::mmr(db, user_id, &req.mode)?;
    let joined = match req.party_id {
        Some(party_id) => consent(db, redis, user_id, mmr, req, party_id, now_ms)?,
        None => create(db, redis, &shape, user_id, mmr, req, now_ms)?,
    };
    redis.publish_json(
        &keys::queue_channel(user_id),
        &QueueEvent::QueueJoined {
            ticket_id: joined.ticket_id,
            mode: joined.mode.clone(),
            region: joined.region.clone(),
            state: joined.state.to_owned(),
            party: joined.party.clone(),
        },
    )?;
    if joined.state == "queued" {
        // Joining publishes a tick so a match can form without waiting for the ticker.
        let tick = Tick {
            reason: Some("join".into()),
            ..Tick::default()
        };
        redis.publish_json(keys::TICK_CHANNEL, &tick)?;
    }
    Ok(joined)
}

fn create(
    db: &Db,
    redis: &Redis,
    shape: &rh_domain::modes::Mode,
    user_id: u64,
    mmr: i32,
    req: &JoinRequest,
    now_ms: u64,
) -> Result<Joined, QueueError> {
    // The leader first, then the listed friends in their order, without repeats.
    let mut members = vec![user_id];
    for &id in req.party.iter().flatten() {
        if !members.contains(&id) {
            members.push(id);
        }
    }
    if members.len() > shape.team_size {
        return Err(QueueError::invalid(
            "party",
            format!(
                "a party in {} has at most {} players",
                shape.name, shape.team_size
            ),
        ));
    }
    if members.len() > 1 {
        let known = db::existing_users(db, &members)?;
        let unknown: Vec<u64> = members
            .iter()
            .copied()
            .filter(|m| !known.contains(m))
            .collect();
        if !unknown.is_empty() {
            return Err(QueueError::invalid(
                "party",
                format!("unknown users {unknown:?}"),
            ));
        }
    }
    let ticket_id = redis.incr(keys::TICKET_SEQ)? as u64;
    let script_keys = [
        keys::player(user_id),
        keys::ticket(ticket_id),
        keys::queue(&req.mode, &req.region),
        keys::ACTIVE_QUEUES.to_owned(),
    ];
    let reply = run_join_script(db, |stale| {
        let args = [
            ticket_id.to_string(),
            req.mode.clone(),
            req.region.clone(),
            user_id.to_string(),
            csv(&members),
            mmr.to_string(),
            now_ms.to_string(),
            TICKET_TTL_MS.to_string(),
            stale.to_owned(),
        ];
        Ok(redis
            .eval(&scripts::JOIN, &script_keys, &Arg::all(&args))?
            .string()
            .unwrap_or_default())
    })?;
    let queued = reply == "ok:queued";
    if !queued {
        for &member in &members[1..] {
            redis.publish_json(
                &keys::queue_channel(member),
                &QueueEvent::PartyInvite {
                    party_id: ticket_id,
                    leader: user_id,
                    mode: req.mode.clone(),
                    region: req.region.clone(),
                    party: members.clone(),
                },
            )?;
        }
    }
    Ok(Joined {
        ticket_id,
        mode: req.mode.clone(),
        region: req.region.clone(),
        mmr,
        party_id: (members.len() > 1).then_some(ticket_id),
        waiting_for: members[1..].to_vec(),
        party: members,
        state: if queued { "queued" } else { "pending_party" },
        estimated_wait_s: estimated_wait_s(redis, &req.mode, &req.region)?,
    })
}

fn consent(
    db: &Db,
    redis: &Redis,
    user_id: u64,
    mmr: i32,
    req: &JoinRequest,
    party_id: u64,
    now_ms: u64,
) -> Result<Joined, QueueError> {
    let script_keys = [
        keys::player(user_id),
        keys::ticket(party_id),
        keys::queue(&req.mode, &req.region),
        keys::ACTIVE_QUEUES.to_owned(),
    ];
    let reply = run_join_script(db, |stale| {
        let args = [
            party_id.to_string(),
            user_id.to_string(),
            mmr.to_string(),
            now_ms.to_string(),
            TICKET_TTL_MS.to_string(),
            stale.to_owned(),
            req.mode.clone(),
            req.region.clone(),
        ];
        Ok(redis
            .eval(&scripts::CONSENT, &script_keys, &Arg::all(&args))?
            .string()
            .unwrap_or_default())
    })?;
    match reply.as_str() {
        "ok:queued" | "ok:pending" => {}
        "gone" => return Err(QueueError::NotFound(format!("no party {party_id}"))),
        "not_member" => {
            return Err(QueueError::Forbidden(format!(
                "party {party_id} does not list you"
            )))
        }
        "mismatch" => {
            return Err(QueueError::invalid(
                "party_id",
                format!("party {party_id} queues for another mode or region"),
            ))
        }
        "already" => return Err(QueueError::Conflict("already queued".into())),
        "closed" => {
            return Err(QueueError::Conflict(format!(
                "party {party_id} is no longer waiting for members"
            )))
        }
        other => {
            return Err(QueueError::Corrupt(format!(
                "consent script answered {other:?}"
            )))
        }
    }
    let ticket = read_ticket(redis, user_id)?
        .ok_or_else(|| QueueError::NotFound(format!("no party {party_id}")))?;
    let queued = ticket.state == "queued";
    if queued {
        for &member in &ticket.members {
            redis.publish_json(
                &keys::queue_channel(member),
                &QueueEvent::PartyReady {
                    party_id,
                    mode: req.mode.clone(),
                    region: req.region.clone(),
                    party: ticket.members.clone(),
                },
            )?;
        }
    }
    Ok(Joined {
        ticket_id: party_id,
        mode: ticket.mode.clone(),
        region: ticket.region.clone(),
        mmr: ticket.mmr(),
        party_id: Some(party_id),
        waiting_for: ticket.waiting_for(),
        party: ticket.members.clone(),
        state: if queued { "queued" } else { "pending_party" },
        estimated_wait_s: estimated_wait_s(redis, &req.mode, &req.region)?,
    })
}

/// What the status script says of a player: `ticket|...` (their ticket, whose expiry it
/// refreshes), `match:{id}`, or nothing.
fn status_reply(redis: &Redis, user_id: u64) -> Result<Option<String>, QueueError> {
    let reply = redis.eval(
        &scripts::STATUS,
        &[keys::player(user_id)],
        &[Arg::Uint(TICKET_TTL_MS)],
    )?;
    Ok(reply.string())
}

/// Reads (and keeps alive) the caller's ticket; `Err` never means "not queued".
fn read_ticket(redis: &Redis, user_id: u64) -> Result<Option<Ticket>, QueueError> {
    match status_reply(redis, user_id)? {
        Some(line) if line.starts_with("ticket|") => Ticket::parse_status(&line).map(Some),
        _ => Ok(None),
    }
}

/// Leaves the queue (the caller's whole ticket, so a party leaves together).
pub fn leave(redis: &Redis, user_id: u64) -> Result<(), QueueError> {
    let reply = redis
        .eval(
            &scripts::LEAVE,
            &[keys::player(user_id)],
            &[Arg::Str("mm:queue:")],
        )?
        .string()
        .unwrap_or_default();
    if reply == "idle" {
        return Err(QueueError::NotFound("not in the queue".into()));
    }
    if reply == "claimed" || reply.starts_with(keys::MATCH_VALUE_PREFIX) {
        return Err(QueueError::Conflict("match already formed".into()));
    }
    let Some(rest) = reply.strip_prefix("left:") else {
        return Err(QueueError::Corrupt(format!(
            "leave script answered {reply:?}"
        )));
    };
    let (ticket_id, members) = rest.split_once(':').unwrap_or((rest, ""));
    for member in members.split(',').filter_map(|m| m.parse::<u64>().ok()) {
        redis.publish_json(
            &keys::queue_channel(member),
            &QueueEvent::QueueLeft {
                ticket_id: ticket_id.parse::<u64>().ok(),
                by: user_id,
            },
        )?;
    }
    Ok(())
}

/// The caller's queue state. Reading it refreshes a waiting ticket's expiry.
pub fn status(db: &Db, redis: &Redis, user_id: u64, now_ms: u64) -> Result<Status, QueueError> {
    let reply = status_reply(redis, user_id)?;
    if let Some(line) = reply.as_deref().filter(|l| l.starts_with("ticket|")) {
        let t = Ticket::parse_status(line)?;
        return Ok(Status {
            state: "queued",
            waited_s: now_ms.saturating_sub(t.joined_at_ms) / 1000,
            estimated_wait_s: estimated_wait_s(redis, &t.mode, &t.region)?,
            match_id: None,
            ticket: Some(TicketView {
                ticket_id: t.ticket_id,
                mode: t.mode.clone(),
                region: t.region.clone(),
                mmr: t.mmr(),
                state: match t.state.as_str() {
                    "pending" => "pending_party",
                    "claimed" => "forming",
                    _ => "queued",
                },
                waiting_for: t.waiting_for(),
                party: t.members,
            }),
        });
    }
    // Redis may still say `match:{id}` for a match that finished since; MySQL decides.
    if let Some(value) = reply.as_deref() {
        if let Some(id) = value.strip_prefix(keys::MATCH_VALUE_PREFIX) {
            if let Ok(id) = id.parse::<u64>() {
                if db::match_is_pending(db, id)? {
                    return Ok(matched(id));
                }
            }
            redis.eval(
                &scripts::CLEAR_IF,
                &[keys::player(user_id)],
                &[Arg::Str(value)],
            )?;
        }
    }
    if let Some(id) = db::unfinished_match(db, user_id)? {
        return Ok(matched(id));
    }
    Ok(Status {
        state: "idle",
        waited_s: 0,
        estimated_wait_s: None,
        match_id: None,
        ticket: None,
    })
}

fn matched(match_id: u64) -> Status {
    Status {
        state: "matched",
        waited_s: 0,
        estimated_wait_s: None,
        match_id: Some(match_id),
        ticket: None,
    }
}
