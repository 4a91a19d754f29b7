//! One function per route: decode, authenticate, call `rh_app::matches`, encode.

use serde_json::json;
use spin_sdk::http::Response;

use rh_app::matches::{self, effects, inbox, read, Applied, NewMatch, ResultBody};
use rh_app::metrics::{self, Counter, ResultOutcome};
use rh_domain::events::{MatchEvent, MatchStatus};
use rh_infra::db::Db;
use rh_infra::http::{json, Req};
use rh_infra::redis::Redis;
use rh_infra::{clock, config, events, idempotency, AppError};

/// POST /api/v1/matches (server): 201 with the pending match. Create-type: the
/// idempotency record commits with the match, so a retry, or a replay after Redis lost
/// its data, gets this answer again and creates nothing.
pub fn create(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let db = Db::open()?;
    let now = clock::now_ms();
    let resp = idempotency::serve_signed(req, &redis, Some(&db), |call| {
        let new: NewMatch = req.json()?;
        let created =
            matches::create_match_recorded(&db, new, &config::regions(), now, |tx, created| {
                let body = serde_json::to_vec(created).map_err(|e| {
                    rh_app::matches::MatchError::Inconsistent(format!("answer: {e}"))
                })?;
                Ok(call.record(tx, 201, &body, now)?)
            })?;
        let status = MatchEvent::Status {
            match_id: created.id,
            status: MatchStatus::Pending,
            winner_team: None,
        };
        if let Err(e) = events::publish(&redis, &events::match_channel(created.id), &status) {
            rh_infra::log_warn!("{e}");
        }
        metrics::count(&redis, &[Counter::MatchCreated(created.mode.clone())]);
        json(201, &created)
    })?;
    purge_idempotency(&db, now);
    Ok(resp)
}

/// Expired idempotency records go a batch at a time, after create-type calls.
fn purge_idempotency(db: &Db, now: i64) {
    if let Err(e) = idempotency::purge_expired(db, now) {
        rh_infra::log_warn!("idempotency purge: {e}");
    }
}

/// PUT /api/v1/matches/{id}/result (server): applied once; a replay gets the same body.
/// The match's own exactly-once transaction is the durable record: after Redis lost
/// its data a replay finds the match completed with the same result and answers it.
pub fn result(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    // Counted once at the end, with the answer's counter: one script call.
    let mut counters = Vec::with_capacity(2);
    let answer = idempotency::serve_signed(req, &redis, None, |_| {
        let id = req.path_id("id", "match")?;
        let body: ResultBody = req.json()?;
        let db = Db::open()?;
        let now = clock::now_ms();
        match matches::apply_result(&db, id, body, now)? {
            Applied::Replayed(result) => {
                let mut resp = json(200, &result)?;
                resp.set_header(idempotency::REPLAYED_HEADER, "true");
                Ok(resp)
            }
            Applied::Fresh { result, after } => {
                // Committed: from here on failures are logged, never turned into an error
                // answer (a retry would only be a replay).
                for e in effects::after_commit(&redis, &after, now) {
                    rh_infra::log_warn!("after commit of match {id}: {e}");
                }
                counters.push(Counter::MatchCompleted(result.match_view.mode.clone()));
                // Expired feed events go a bounded batch at a time, after one result in
                // PURGE_EVERY: far more than results add, without a DELETE per result.
                if u16::from(rh_infra::ids::random_bytes::<1>()[0]) < 256 / PURGE_EVERY {
                    if let Err(e) = inbox::purge_feed(&db, now) {
                        rh_infra::log_warn!("feed purge: {e}");
                    }
                }
                json(200, &result)
            }
        }
    });
    // Every answer counts, the idempotency cache's replays and refusals included.
    let counted = match &answer {
        Ok(resp) if resp.header(idempotency::REPLAYED_HEADER).is_some() => {
            Counter::Result(ResultOutcome::Replayed, *resp.status())
        }
        Ok(resp) => Counter::Result(ResultOutcome::Applied, *resp.status()),
        Err(e) => Counter::Result(ResultOutcome::Refused, e.status()),
    };
    counters.push(counted);
    metrics::count(&redis, &counters);
    answer
}

/// One result in this many purges expired feed events (each purge deletes up to 1,000;
/// a result adds a few).
const PURGE_EVERY: u16 = 16;

/// POST /api/v1/matches/{id}/events (server): 201 with the stored event, published.
/// Create-type, as [`create`].
pub fn append_event(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let db = Db::open()?;
    let now = clock::now_ms();
    let resp = idempotency::serve_signed(req, &redis, Some(&db), |call| {
        let id = req.path_id("id", "match")?;
        let event: read::NewTimelineEvent = req.json()?;
        let stored = read::append_event_recorded(&db, id, event, |tx, stored| {
            let body = serde_json::to_vec(stored)
                .map_err(|e| rh_app::matches::MatchError::Inconsistent(format!("answer: {e}")))?;
            Ok(call.record(tx, 201, &body, now)?)
        })?;
        let message = MatchEvent::Timeline {
            match_id: id,
            event: stored.clone(),
        };
        if let Err(e) = events::publish(&redis, &events::match_channel(id), &message) {
            rh_infra::log_warn!("{e}");
        }
        json(201, &stored)
    })?;
    purge_idempotency(&db, now);
    Ok(resp)
}

/// GET /api/v1/matches/{id}
pub fn get(req: &Req) -> Result<Response, AppError> {
    let id = req.path_id("id", "match")?;
    let db = Db::open()?;
    json(200, &matches::get_match(&db, id)?)
}

/// GET /api/v1/matches/{id}/events
pub fn timeline(req: &Req) -> Result<Response, AppError> {
    let id = req.path_id("id", "match")?;
    let db = Db::open()?;
    let events = matches::timeline(&db, id)?;
    json(200, &json!({"match_id": id, "events": events}))
}

/// GET /api/v1/users/{id}/matches?limit=&before=
pub fn history(req: &Req) -> Result<Response, AppError> {
    let user_id = req.path_id("id", "match")?;
    let limit = req.query_int("limit", 20, 1..=100)?;
    let before = req.query_parsed("before", "must be a match id")?;
    let db = Db::open()?;
    json(
        200,
        &matches::read::user_history(&db, user_id, before, limit)?,
    )
}
