//! The fake Twitch Helix API: `GET /twitch/helix/users` and `GET /twitch/helix/streams?user_id=`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{bearer, client_id, count, is_down, unauthorized, Shared};

pub(super) fn routes() -> Router<Shared> {
    Router::new().route("/twitch/helix/{endpoint}", get(twitch_api))
}

async fn twitch_api(
    State(state): State<Shared>,
    Path(endpoint): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut inner = state.lock().unwrap_or_else(|e| e.into_inner());
    count(&mut inner, &format!("twitch/{endpoint}"));
    if is_down(&inner, "twitch") {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    if headers.get("client-id").and_then(|v| v.to_str().ok()) != Some(client_id("twitch").as_str())
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Client-Id header required"})),
        )
            .into_response();
    }
    let Some(account) = bearer(&inner, "twitch", &headers) else {
        return unauthorized();
    };
    match endpoint.as_str() {
        "users" => Json(json!({"data": [{"id": account.id, "login": account.login, "display_name": account.display_name}]})).into_response(),
        "streams" => {
            let user_id = query.get("user_id").cloned().unwrap_or_default();
            let data: Vec<Value> = inner
                .live
                .get(&("twitch".to_owned(), user_id.clone()))
                .map(|l| {
                    json!({
                        "id": format!("stream-{user_id}"), "user_id": user_id, "type": "live",
                        "title": l.title, "viewer_count": l.viewers,
                        "started_at": "2026-11-25T12:00:00Z",
                        "thumbnail_url": format!("https://static.example/{user_id}-{{width}}x{{height}}.jpg"),
                    })
                })
                .into_iter()
                .collect();
            Json(json!({ "data": data })).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
