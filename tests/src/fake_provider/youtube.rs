//! The fake YouTube Data API: `GET /youtube/v3/channels`, `GET /youtube/v3/liveBroadcasts` and
//! `GET /youtube/v3/videos?id=`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{bearer, count, is_down, unauthorized, Shared};

pub(super) fn routes() -> Router<Shared> {
    Router::new().route("/youtube/v3/{endpoint}", get(youtube_api))
}

async fn youtube_api(
    State(state): State<Shared>,
    Path(endpoint): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut inner = state.lock().unwrap_or_else(|e| e.into_inner());
    let key = match endpoint.as_str() {
        "liveBroadcasts" => "youtube/broadcasts".to_owned(),
        other => format!("youtube/{other}"),
    };
    count(&mut inner, &key);
    if is_down(&inner, "youtube") {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    let Some(account) = bearer(&inner, "youtube", &headers) else {
        return unauthorized();
    };
    match endpoint.as_str() {
        "channels" => Json(json!({"items": [{"id": account.id, "snippet": {"title": account.display_name, "customUrl": format!("@{}", account.login)}}]})).into_response(),
        "liveBroadcasts" => {
            let items: Vec<Value> = inner
                .live
                .get(&("youtube".to_owned(), account.id.clone()))
                .map(|l| {
                    json!({"id": format!("video-{}", account.id), "snippet": {
                        "title": l.title, "actualStartTime": "2026-11-25T12:00:00Z",
                        "thumbnails": {"high": {"url": format!("https://i.example/{}.jpg", account.id)}}}})
                })
                .into_iter()
                .collect();
            Json(json!({ "items": items })).into_response()
        }
        "videos" => {
            let ids = query.get("id").cloned().unwrap_or_default();
            let items: Vec<Value> = ids
                .split(',')
                .filter_map(|id| {
                    let channel = id.strip_prefix("video-")?;
                    let l = inner.live.get(&("youtube".to_owned(), channel.to_owned()))?;
                    // The real API sends the count as a string.
                    Some(json!({"id": id, "liveStreamingDetails": {"concurrentViewers": l.viewers.to_string()}}))
                })
                .collect();
            Json(json!({ "items": items })).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
