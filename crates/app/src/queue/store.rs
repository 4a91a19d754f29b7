//! Joining, consenting, leaving and reading the queue: the HTTP side of matchmaking.
//!
//! Each operation validates against MySQL (modes, users, ratings, unfinished matches)
//! and then makes exactly one atomic change in Redis through a script.

use rh_domain::events::{QueueEvent, Tick};
use rh_infra::db::Db;
use rh_infra::redis::{Arg, Redis};
use serde::Serialize;

use rh_domain::matchmaking::regions::{parse_regions, RegionLatency};
use rh_domain::matchmaking::settings::QualitySettings;

use super::error::QueueError;
use super::{db, keys, rating_value, regions_value, scripts, Ticket, TICKET_TTL_MS, WAITS_KEPT};

/// `POST /api/v1/matchmaking/queue` body. Exactly one of `region` (one region) and
/// `regions` (up to three, each with the client's measured latency) names where to
/// play. At most one of `party` (create a party ticket as its leader) and `party_id`
/// (consent to a party that lists you) may be set; a consenting member names the
/// party's mode and its preferred `region` (the leader's answer has both).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    pub mode: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub regions: Option<Vec<RegionLatency>>,
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
    /// The preferred region (the only one for a single-region ticket).
    pub region: String,
    /// Every region the ticket accepts with its latency, lowest first.
    pub regions: Vec<RegionLatency>,
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
    /// Mean of recent waits in this mode and region, capped by the mode's time to
    /// the quality floor (after which the best available match forms); `null` before
    /// any match formed.
    pub estimated_wait_s: Option<u64>,
}

/// The answer to `GET /api/v1/matchmaking/queue`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `queued`, `matched` or `idle`.
    pub state: &'static str,
    pub waited_s: u64,
    pub estimated_wait_s: Option<u64>,
    /// The quality a match must reach for this ticket now (1 = coin flip); `null` once
    /// the schedule reached its end and the best available match forms. Absent when
    /// not queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality_threshold: Option<Option<f64>>,
    /// Seconds until that happens (0 once it has). Absent when not queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_in_s: Option<u64>,
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
    pub regions: Vec<RegionLatency>,
    pub mmr: i32,
    pub party: Vec<u64>,
    /// `pending_party`, `queued`, or `forming` (a tick is creating its match).
    pub state: &'static str,
    pub waiting_for: Vec<u64>,
}

/// Mean of the recent waits of a (mode, region), in whole seconds (rounded), capped by
/// the schedule's end: after `seconds_to_floor` the best available match forms, so a
/// history of long waits (from before a settings change, or a quiet hour) overstates.
pub fn estimated_wait_s(
    redis: &Redis,
    settings: &QualitySettings,
    mode: &str,
    region: &str,
) -> Result<Option<u64>, QueueError> {
    Ok(recent_wait_s(redis, mode, region)?.map(|w| w.min(settings.max_expected_wait_s())))
}

/// Mean of the recent waits of a (mode, region), in whole seconds (rounded).
fn recent_wait_s(redis: &Redis, mode: &str, region: &str) -> Result<Option<u64>, QueueError> {
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

/// The request's mode and its regions, lowest latency first (one region at latency 0
/// for a single-region request).
fn check_mode_regions(
    db: &Db,
    regions: &[String],
    req: &JoinRequest,
) -> Result<(rh_domain::modes::Mode, Vec<RegionLatency>), QueueError> {
    let shape = db::mode(db, &req.mode)?
        .ok_or_else(|| QueueError::invalid("mode", format!("unknown mode {:?}", req.mode)))?;
    let choices = match (&req.region, &req.regions) {
        (Some(region), None) => {
            if !regions.iter().any(|r| r == region) {
                return Err(QueueError::invalid(
                    "region",
                    format!("unknown region {region:?}"),
                ));
            }
            vec![RegionLatency {
                region: region.clone(),
                latency_ms: 0,
            }]
        }
        (None, Some(list)) => parse_regions(list, regions).map_err(|e| match e {
            rh_domain::DomainError::Invalid(errors) => QueueError::Invalid(errors),
            other => QueueError::invalid("regions", other.to_string()),
        })?,
        (Some(_), Some(_)) => {
            return Err(QueueError::invalid(
                "regions",
                "send either region or regions, not both",
            ))
        }
        (None, None) => {
            return Err(QueueError::invalid(
                "region",
                "name a region (region) or up to three with latencies (regions)",
            ))
        }
    };
    Ok((shape, choices))
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
    let (shape, choices) = check_mode_regions(db, regions, req)?;
    if req.party.is_some() && req.party_id.is_some() {
        return Err(QueueError::invalid(
            "party_id",
            "send either party (to lead a party) or party_id (to join one), not both",
        ));
    }
    refuse_if_in_match(db, user_id)?;
    let (mmr, sigma) = db::rating(db, user_id, &req.mode)?;
    let settings = db::quality_settings_for(db, &req.mode)?;
    let joined = match req.party_id {
        Some(party_id) => consent(
            db,
            redis,
            &settings,
            user_id,
            (mmr, sigma),
            req,
            &choices[0].region,
            party_id,
            now_ms,
        )?,
        None => create(
            db,
            redis,
            &settings,
            &shape,
            user_id,
            (mmr, sigma),
            req,
            &choices,
            now_ms,
        )?,
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

#[allow(clippy::too_many_arguments)]
fn create(
    db: &Db,
    redis: &Redis,
    settings: &QualitySettings,
    shape: &rh_domain::modes::Mode,
    user_id: u64,
    (mmr, sigma): (i32, f64),
    req: &JoinRequest,
    choices: &[RegionLatency],
    now_ms: u64,
) -> Result<Joined, QueueError> {
    let region = choices[0].region.clone();
    // A single-region ticket keeps today's shape (no `regions` field).
    let multi = req.regions.is_some();
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
        keys::queue(&req.mode, &region),
        keys::ACTIVE_QUEUES.to_owned(),
    ];
    let regions_field = if multi {
        regions_value(choices)
    } else {
        String::new()
    };
    let reply = run_join_script(db, |stale| {
        let args = [
            ticket_id.to_string(),
            req.mode.clone(),
            region.clone(),
            user_id.to_string(),
            csv(&members),
            rating_value(mmr, sigma),
            now_ms.to_string(),
            TICKET_TTL_MS.to_string(),
            stale.to_owned(),
            regions_field.clone(),
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
                    region: region.clone(),
                    party: members.clone(),
                },
            )?;
        }
    }
    Ok(Joined {
        ticket_id,
        mode: req.mode.clone(),
        estimated_wait_s: estimated_wait_s(redis, settings, &req.mode, &region)?,
        region,
        regions: choices.to_vec(),
        mmr,
        party_id: (members.len() > 1).then_some(ticket_id),
        waiting_for: members[1..].to_vec(),
        party: members,
        state: if queued { "queued" } else { "pending_party" },
    })
}

#[allow(clippy::too_many_arguments)]
fn consent(
    db: &Db,
    redis: &Redis,
    settings: &QualitySettings,
    user_id: u64,
    (mmr, sigma): (i32, f64),
    req: &JoinRequest,
    region: &str,
    party_id: u64,
    now_ms: u64,
) -> Result<Joined, QueueError> {
    let script_keys = [
        keys::player(user_id),
        keys::ticket(party_id),
        keys::queue(&req.mode, region),
        keys::ACTIVE_QUEUES.to_owned(),
    ];
    let reply = run_join_script(db, |stale| {
        let args = [
            party_id.to_string(),
            user_id.to_string(),
            rating_value(mmr, sigma),
            now_ms.to_string(),
            TICKET_TTL_MS.to_string(),
            stale.to_owned(),
            req.mode.clone(),
            region.to_owned(),
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
                    region: region.to_owned(),
                    party: ticket.members.clone(),
                },
            )?;
        }
    }
    Ok(Joined {
        ticket_id: party_id,
        mode: ticket.mode.clone(),
        region: ticket.region.clone(),
        regions: ticket.region_choices(),
        mmr: ticket.mmr(),
        party_id: Some(party_id),
        waiting_for: ticket.waiting_for(),
        party: ticket.members.clone(),
        state: if queued { "queued" } else { "pending_party" },
        estimated_wait_s: estimated_wait_s(redis, settings, &req.mode, region)?,
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
        let settings = db::quality_settings_for(db, &t.mode)?;
        let waited_ms = now_ms.saturating_sub(t.joined_at_ms);
        // A pending party has not started waiting: its schedule starts at the last consent.
        let schedule_ms = if t.state == "pending" { 0 } else { waited_ms };
        let floor_ms = u64::from(settings.seconds_to_floor) * 1000;
        return Ok(Status {
            state: "queued",
            waited_s: waited_ms / 1000,
            estimated_wait_s: estimated_wait_s(redis, &settings, &t.mode, &t.region)?,
            quality_threshold: Some(settings.threshold(schedule_ms)),
            floor_in_s: Some(floor_ms.saturating_sub(schedule_ms).div_ceil(1000)),
            match_id: None,
            ticket: Some(TicketView {
                ticket_id: t.ticket_id,
                mode: t.mode.clone(),
                region: t.region.clone(),
                regions: t.region_choices(),
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
        quality_threshold: None,
        floor_in_s: None,
        match_id: None,
        ticket: None,
    })
}

fn matched(match_id: u64) -> Status {
    Status {
        state: "matched",
        waited_s: 0,
        estimated_wait_s: None,
        quality_threshold: None,
        floor_in_s: None,
        match_id: Some(match_id),
        ticket: None,
    }
}
