//! One function per route: decode, authenticate, call `rh_app::integrations`, encode.

use serde_json::json;
use spin_sdk::http::Response;

use rh_app::integrations::link::{self, Callback};
use rh_app::integrations::{settings, store, streams, IntegrationError, Provider};
use rh_infra::auth::require_user;
use rh_infra::clock::now_ms;
use rh_infra::db::Db;
use rh_infra::http::{json, no_content, Req};
use rh_infra::redis::Redis;
use rh_infra::AppError;

/// Default and largest `limit` of `GET /streams`.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = streams::MAX_PAGE;

fn provider_param(req: &Req) -> Result<Provider, AppError> {
    let raw = req.param("provider").unwrap_or_default();
    Provider::parse(raw).ok_or_else(|| IntegrationError::UnknownProvider(raw.to_owned()).into())
}

/// `GET /api/v1/integrations` (Bearer) → `{integrations: [...]}`, never tokens.
pub fn list(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let user = require_user(req, &redis)?;
    let db = Db::open()?;
    let links = store::list_links(&db, user.id)?;
    json(200, &json!({ "integrations": links }))
}

/// `GET /api/v1/integrations/{provider}/authorize` (Bearer) → `{authorize_url}`.
pub fn authorize(req: &Req) -> Result<Response, AppError> {
    let provider = provider_param(req)?;
    let redis = Redis::open()?;
    let user = require_user(req, &redis)?;
    let cfg = settings::provider_config(provider)?;
    let db = Db::open()?;
    let url = link::start(&db, &cfg, user.id, now_ms())?;
    json(200, &json!({ "authorize_url": url }))
}

/// `GET /api/v1/integrations/{provider}/callback?code=&state=` → 200 with the link.
pub fn callback(req: &Req) -> Result<Response, AppError> {
    let provider = provider_param(req)?;
    let cfg = settings::provider_config(provider)?;
    let cipher = settings::cipher()?;
    let db = Db::open()?;
    let callback = Callback::from_query(&req.query);
    let linked = link::complete(&db, &cipher, &cfg, &callback, req.client_ip(), now_ms())?;
    // The public profile shows linked-account badges.
    match Redis::open() {
        Ok(redis) => rh_app::users::cache::invalidate(&redis, &[linked.user_id]),
        Err(e) => rh_infra::log_warn!("profile cache invalidation after a link: {e}"),
    }
    json(200, &linked)
}

/// `DELETE /api/v1/integrations/{provider}` (Bearer) → 204; the tokens are deleted.
pub fn unlink(req: &Req) -> Result<Response, AppError> {
    let provider = provider_param(req)?;
    let redis = Redis::open()?;
    let user = require_user(req, &redis)?;
    let db = Db::open()?;
    store::delete_link(&db, user.id, provider, req.client_ip(), now_ms())?;
    rh_app::users::cache::invalidate(&redis, &[user.id]);
    Ok(no_content())
}

/// `GET /api/v1/streams?provider=&limit=` → `{streams, providers}` from the cache.
pub fn streams(req: &Req) -> Result<Response, AppError> {
    let providers: Vec<Provider> = match req.query_param("provider") {
        None => Provider::STREAMING.to_vec(),
        Some(p) => match Provider::parse(&p).filter(|p| Provider::STREAMING.contains(p)) {
            Some(p) => vec![p],
            None => {
                return Err(AppError::invalid_field(
                    "provider",
                    "must be twitch or youtube",
                ))
            }
        },
    };
    let limit = req.query_int("limit", DEFAULT_LIMIT, 1..=MAX_LIMIT)?;
    let redis = Redis::open()?;
    let cached = providers
        .into_iter()
        .map(|p| Ok((p, streams::read_cache(&redis, p)?)))
        .collect::<Result<Vec<_>, AppError>>()?;
    json(200, &streams::page(cached, limit, now_ms()))
}

/// `GET /api/v1/users/{id}/badges` → `{user_id, badges}`; 404 for an unknown player.
pub fn badges(req: &Req) -> Result<Response, AppError> {
    let id = req.path_id("id", "user")?;
    let db = Db::open()?;
    let exists: Option<u64> =
        db.query_scalar("SELECT id FROM users WHERE id = ?", &rh_infra::params![id])?;
    if exists.is_none() {
        return Err(AppError::NotFound("no such user".into()));
    }
    json(
        200,
        &json!({ "user_id": id, "badges": store::badges(&db, id)? }),
    )
}
