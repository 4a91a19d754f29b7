//! The fake Discord API: `GET /discord/api/v10/users/@me` and the webhook
//! (`POST /discord/api/webhooks/1/test-webhook-token`, bodies kept for the tests).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{bearer, count, is_down, unauthorized, Shared};

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/discord/api/v10/users/@me", get(discord_me))
        .route(
            "/discord/api/webhooks/1/test-webhook-token",
            post(discord_webhook),
        )
}

async fn discord_me(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let mut inner = state.lock().unwrap_or_else(|e| e.into_inner());
    count(&mut inner, "discord/me");
    if is_down(&inner, "discord") {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    match bearer(&inner, "discord", &headers) {
        Some(a) => Json(json!({"id": a.id, "username": a.login, "global_name": a.display_name}))
            .into_response(),
        None => unauthorized(),
    }
}

async fn discord_webhook(State(state): State<Shared>, Json(body): Json<Value>) -> StatusCode {
    let mut inner = state.lock().unwrap_or_else(|e| e.into_inner());
    count(&mut inner, "discord/webhook");
    inner.webhook_posts.push(body);
    StatusCode::NO_CONTENT
}
