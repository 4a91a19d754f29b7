//! Team routes: decode, authenticate, call `rh_app::teams`, publish, encode.

use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::Response;

use rh_app::matches;
use rh_app::teams::membership::{self, Actor};
use rh_app::teams::notify::Outbox;
use rh_app::teams::rules::{self, Role, TeamName, TeamTag};
use rh_app::teams::{self, store};
use rh_domain::validation::collect_errors;
use rh_infra::db::Db;
use rh_infra::http::{self, Req};
use rh_infra::redis::Redis;
use rh_infra::{auth, clock, AppError};

/// The authenticated caller, with a Redis connection for publishing afterwards.
fn caller(req: &Req) -> Result<(Actor, Redis), AppError> {
    let redis = Redis::open()?;
    let user = auth::require_user(req, &redis)?;
    let actor = Actor {
        user_id: user.id,
        ip: req.client_ip(),
        now_ms: clock::now_ms(),
    };
    Ok((actor, redis))
}

fn cap() -> Result<u64, AppError> {
    Ok(teams::size_cap()?)
}

/// The team as `GET /api/v1/teams/{id}` shows it, with `status`.
fn team_response(db: &Db, team_id: u64, status: u16) -> Result<Response, AppError> {
    let team =
        store::team(db, team_id)?.ok_or_else(|| AppError::NotFound("no such team".into()))?;
    let mut resp = http::json(status, &team)?;
    if status == 201 {
        resp.set_header("location", format!("/api/v1/teams/{team_id}"));
    }
    Ok(resp)
}

fn publish(outbox: Outbox, redis: &Redis) {
    outbox.publish(redis);
}

#[derive(Deserialize)]
struct CreateBody {
    name: String,
    tag: String,
}

/// `POST /api/v1/teams {name, tag}` → 201 with the team; the caller owns it.
pub fn create(req: &Req) -> Result<Response, AppError> {
    let (actor, _redis) = caller(req)?;
    let body: CreateBody = req.json()?;
    let (name, tag) = (TeamName::parse(&body.name), TeamTag::parse(&body.tag));
    collect_errors([name.as_ref().err(), tag.as_ref().err()])?;
    let (name, tag) = (name?, tag?);
    let db = Db::open()?;
    let team_id = membership::create(&db, &actor, &name, &tag)?;
    team_response(&db, team_id, 201)
}

/// `GET /api/v1/teams?query=&limit=`: name or tag prefix, case-insensitive.
pub fn search(req: &Req) -> Result<Response, AppError> {
    let query = req.query_param("query").unwrap_or_default();
    let query = query.trim();
    if query.chars().count() > *rules::NAME_LEN.end() {
        return Err(AppError::invalid_field(
            "query",
            "must be at most 32 characters",
        ));
    }
    let limit = req.query_int("limit", 20, 1..=rules::SEARCH_MAX)?;
    let db = Db::open()?;
    http::json(200, &json!({"items": store::search(&db, query, limit)?}))
}

/// `GET /api/v1/teams/{id}`: members, roles, mmr per mode, averages per mode.
pub fn show(req: &Req) -> Result<Response, AppError> {
    let team_id = req.path_id("id", "team")?;
    team_response(&Db::open()?, team_id, 200)
}

/// `GET /api/v1/teams/invites` (Bearer): the caller's open invitations.
pub fn my_invites(req: &Req) -> Result<Response, AppError> {
    let (actor, _redis) = caller(req)?;
    let db = Db::open()?;
    let items = membership::my_invites(&db, actor.user_id, actor.now_ms)?;
    http::json(200, &json!({"items": items}))
}

#[derive(Deserialize)]
struct UserBody {
    user_id: u64,
}

/// `POST /api/v1/teams/{id}/invites {user_id}` (owner or captain) → 201 with the invitation.
pub fn invite(req: &Req) -> Result<Response, AppError> {
    let team_id = req.path_id("id", "team")?;
    let (actor, redis) = caller(req)?;
    let body: UserBody = req.json()?;
    let db = Db::open()?;
    let (invite, outbox) = membership::invite(&db, &actor, team_id, body.user_id, cap()?)?;
    publish(outbox, &redis);
    http::json(201, &invite)
}

/// `POST /api/v1/teams/invites/{invite_id}/accept` (the invitee) → 200 with the team.
pub fn accept(req: &Req) -> Result<Response, AppError> {
    let invite_id = req.path_id("invite_id", "invitation")?;
    let (actor, redis) = caller(req)?;
    let db = Db::open()?;
    let (team_id, outbox) = membership::accept(&db, &actor, invite_id, cap()?)?;
    publish(outbox, &redis);
    team_response(&db, team_id, 200)
}

/// `POST /api/v1/teams/invites/{invite_id}/decline` (the invitee) → 204.
pub fn decline(req: &Req) -> Result<Response, AppError> {
    let invite_id = req.path_id("invite_id", "invitation")?;
    let (actor, redis) = caller(req)?;
    let db = Db::open()?;
    publish(membership::decline(&db, &actor, invite_id)?, &redis);
    Ok(http::no_content())
}

/// `POST /api/v1/teams/{id}/leave` → 204 (409 for the owner).
pub fn leave(req: &Req) -> Result<Response, AppError> {
    let team_id = req.path_id("id", "team")?;
    let (actor, redis) = caller(req)?;
    let db = Db::open()?;
    publish(membership::leave(&db, &actor, team_id)?, &redis);
    Ok(http::no_content())
}

/// `POST /api/v1/teams/{id}/transfer {user_id}` (owner) → 200 with the team.
pub fn transfer(req: &Req) -> Result<Response, AppError> {
    let team_id = req.path_id("id", "team")?;
    let (actor, redis) = caller(req)?;
    let body: UserBody = req.json()?;
    let db = Db::open()?;
    publish(
        membership::transfer(&db, &actor, team_id, body.user_id)?,
        &redis,
    );
    team_response(&db, team_id, 200)
}

#[derive(Deserialize)]
struct RoleBody {
    role: String,
}

/// `PATCH /api/v1/teams/{id}/members/{user_id} {role: captain|member}` (owner) → 200
/// with the team.
pub fn set_role(req: &Req) -> Result<Response, AppError> {
    let team_id = req.path_id("id", "team")?;
    let user_id = req.path_id("user_id", "member")?;
    let (actor, redis) = caller(req)?;
    let body: RoleBody = req.json()?;
    let role: Role = Role::parse_assignable(&body.role)?;
    let db = Db::open()?;
    publish(
        membership::set_role(&db, &actor, team_id, user_id, role)?,
        &redis,
    );
    team_response(&db, team_id, 200)
}

/// `DELETE /api/v1/teams/{id}/members/{user_id}` (owner, or captain for members) → 204.
pub fn remove(req: &Req) -> Result<Response, AppError> {
    let team_id = req.path_id("id", "team")?;
    let user_id = req.path_id("user_id", "member")?;
    let (actor, redis) = caller(req)?;
    let db = Db::open()?;
    publish(membership::remove(&db, &actor, team_id, user_id)?, &redis);
    Ok(http::no_content())
}

/// `DELETE /api/v1/teams/{id}` (owner): disband → 204.
pub fn disband(req: &Req) -> Result<Response, AppError> {
    let team_id = req.path_id("id", "team")?;
    let (actor, redis) = caller(req)?;
    let db = Db::open()?;
    publish(membership::disband(&db, &actor, team_id)?, &redis);
    Ok(http::no_content())
}

/// `GET /api/v1/rankings/teams/{mode}?limit=&offset=`: by members' average mmr.
pub fn rankings(req: &Req) -> Result<Response, AppError> {
    let limit = req.query_int("limit", 50, 1..=100)?;
    let offset = req.query_int("offset", 0, 0..=100_000)?;
    let db = Db::open()?;
    let mode = matches::load_mode(&db, req.param("mode").unwrap_or_default())?.name;
    let items = store::rankings(&db, &mode, limit, offset)?;
    http::json(200, &json!({"mode": mode, "items": items}))
}
