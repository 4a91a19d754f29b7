//! One function per route: decode, authenticate, call `rh_app::matches`, encode.

use serde_json::json;
use spin_sdk::http::Response;

use rh_app::matches::{self, effects, inbox, read, Applied, NewMatch, ResultBody};
use rh_domain::events::{MatchEvent, MatchStatus};
use rh_infra::db::Db;
use rh_infra::http::{json, Req};
use rh_infra::redis::Redis;
use rh_infra::{clock, config, events, server_sig, AppError};

/// POST /api/v1/matches (server): 201 with the pending match.
pub fn create(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    server_sig::require_server(req, &redis)?;
    let new: NewMatch = req.json()?;
    let db = Db::open()?;
    let created = matches::create_match(&db, new, &config::regions(), clock::now_ms())?;
    let status = MatchEvent::Status {
        match_id: created.id,
        status: MatchStatus::Pending,
        winner_team: None,
    };
    if let Err(e) = events::publish(&redis, &events::match_channel(created.id), &status) {
        eprintln!("{e}");
    }
    json(201, &created)
}

/// PUT /api/v1/matches/{id}/result (server): applied once; a replay gets the same body.
pub fn result(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    server_sig::require_server(req, &redis)?;
    let id = req.path_id("id", "match")?;
    let body: ResultBody = req.json()?;
    let db = Db::open()?;
    let now = clock::now_ms();
    match matches::apply_result(&db, id, body, now)? {
        Applied::Replayed(result) => json(200, &result),
        Applied::Fresh { result, after } => {
            // Committed: from here on failures are logged, never turned into an error
            // answer (a retry would only be a replay).
            for e in effects::after_commit(&redis, &after, now) {
                eprintln!("after commit of match {id}: {e}");
            }
            if let Err(e) = inbox::purge_feed(&db, now) {
                eprintln!("feed purge: {e}");
            }
            json(200, &result)
        }
    }
}

/// POST /api/v1/matches/{id}/events (server): 201 with the stored event, published.
pub fn append_event(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    server_sig::require_server(req, &redis)?;
    let id = req.path_id("id", "match")?;
    let event: read::NewTimelineEvent = req.json()?;
    let db = Db::open()?;
    let stored = read::append_event(&db, id, event)?;
    let message = MatchEvent::Timeline {
        match_id: id,
        event: stored.clone(),
    };
    if let Err(e) = events::publish(&redis, &events::match_channel(id), &message) {
        eprintln!("{e}");
    }
    json(201, &stored)
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
