//! `/api/v1/users/*`: the caller's own profile and public profiles.

use rh_app::users::cache::{self, Cached, View};
use rh_app::users::store::{self, ProfileChanges, User};
use rh_domain::validation::{collect_errors, AvatarUrl, Region, Username};
use rh_infra::db::Db;
use rh_infra::http::{self, Req};
use rh_infra::redis::Redis;
use rh_infra::{clock, config, AppError};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use spin_sdk::http::Response;

/// The owner's view: everything but the password hash and the ban.
pub fn private_view(u: &User, stats: Value) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "role": u.role,
        "region": u.region,
        "avatar_url": u.avatar_url,
        "created_at": u.created_at_ms,
        "stats": stats,
    })
}

/// What anyone may see: no email; `badges` from linked creator accounts (e.g. `discord`);
/// `season_badges` earned at the end of past seasons.
pub fn public_view(u: &User, stats: Value, badges: Vec<String>, season_badges: Value) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "region": u.region,
        "avatar_url": u.avatar_url,
        "created_at": u.created_at_ms,
        "stats": stats,
        "badges": badges,
        "season_badges": season_badges,
    })
}

fn load(db: &Db, id: u64) -> Result<User, AppError> {
    store::user_by_id(db, id)?.ok_or_else(|| AppError::NotFound(format!("no user with id {id}")))
}

/// `GET /api/v1/users/me` (Bearer). Answered from the profile cache when it can be
/// (one Redis round trip with the revocation check), else from MySQL, then cached.
pub fn me(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let (auth, values) = rh_infra::auth::require_user_reading(req, &redis, |id| {
        cache::read_keys(id, View::Owner).to_vec()
    })?;
    let tag = match Cached::from_values(&values) {
        Cached::Hit(body) => return Ok(http::json_body(200, body)),
        Cached::Miss(tag) => Some(tag),
        Cached::Unavailable => None,
    };
    let db = Db::open()?;
    let user = load(&db, auth.id)?;
    let stats = store::stats(&db, user.id)?;
    let body = serde_json::to_string(&private_view(&user, stats)).map_err(AppError::internal)?;
    if let Some(tag) = tag {
        cache::fill(&redis, user.id, View::Owner, &tag, &body);
    }
    Ok(http::json_body(200, body))
}

/// `null` → `Some(None)` (clear), absent → `None` (keep), value → `Some(Some(v))`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    username: Option<String>,
    region: Option<String>,
    #[serde(default, deserialize_with = "present")]
    avatar_url: Option<Option<String>>,
}

/// `PATCH /api/v1/users/me` (Bearer) `{username?, region?, avatar_url?}` → the updated user.
pub fn update_me(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let auth = rh_infra::auth::require_user(req, &redis)?;
    let body: PatchBody = req.json()?;

    let regions = config::regions();
    let username = body.username.as_deref().map(Username::parse).transpose();
    let region = body
        .region
        .as_deref()
        .map(|r| Region::parse(r, &regions))
        .transpose();
    let avatar = match &body.avatar_url {
        Some(Some(url)) if !url.trim().is_empty() => AvatarUrl::parse(url).map(|a| Some(Some(a))),
        Some(_) => Ok(Some(None)),
        None => Ok(None),
    };
    collect_errors([
        username.as_ref().err(),
        region.as_ref().err(),
        avatar.as_ref().err(),
    ])?;
    let changes = ProfileChanges {
        username: username?.map(|u| (u.as_str().to_owned(), u.lower())),
        region: region?.map(|r| r.as_str().to_owned()),
        avatar_url: avatar?.map(|a| a.map(|a| a.as_str().to_owned())),
    };

    let renamed = changes.username.is_some();
    let db = Db::open()?;
    store::update_profile(&db, auth.id, changes, clock::now_ms())?;
    cache::invalidate(&redis, &[auth.id]);
    let user = load(&db, auth.id)?;
    if renamed {
        // Committed: the boards follow the new name (or are rebuilt when they cannot).
        if let Err(e) = rh_app::leaderboard::rename_everywhere(&redis, &db, user.id, &user.username)
        {
            rh_infra::log_warn!("leaderboard rename of user {}: {e}", user.id);
        }
    }
    let stats = store::stats(&db, user.id)?;
    http::json(200, &private_view(&user, stats))
}

/// `GET /api/v1/users/{id}`: the public profile; unknown or malformed id → 404. Served
/// from the profile cache when it can be; a Redis failure only means MySQL answers.
pub fn profile(req: &Req) -> Result<Response, AppError> {
    let id = req.path_id("id", "user")?;
    let redis = Redis::open()
        .inspect_err(|e| rh_infra::log_warn!("profile cache: {e}"))
        .ok();
    let tag = match Cached::read(redis.as_ref(), id, View::Public) {
        Cached::Hit(body) => return Ok(http::json_body(200, body)),
        Cached::Miss(tag) => Some(tag),
        Cached::Unavailable => None,
    };
    let db = Db::open()?;
    let user = load(&db, id)?;
    let stats = store::stats(&db, user.id)?;
    let badges = rh_app::integrations::store::badges(&db, user.id)?;
    let season_badges = serde_json::to_value(rh_app::seasons::history::badges(&db, user.id)?)
        .map_err(AppError::internal)?;
    let view = public_view(&user, stats, badges, season_badges);
    let body = serde_json::to_string(&view).map_err(AppError::internal)?;
    if let (Some(redis), Some(tag)) = (&redis, tag) {
        cache::fill(redis, user.id, View::Public, &tag, &body);
    }
    Ok(http::json_body(200, body))
}
