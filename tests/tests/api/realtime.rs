//! End to end through both halves of the real-time path: results and timeline events posted
//! over HTTP to the real runtime and components, published on Redis, and fanned out by a
//! real sidecar to WebSocket clients (issue 7's "a result posted over HTTP reaches a
//! `rankings:1v1` subscriber and the players' `user:` channels; a spectator on `match:{id}`
//! receives timeline events").

use std::time::Duration;

use crate::matches_support::{create_match, put_result, result_body, signed};
use futures::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use rh_sidecar::{Config, Sidecar};
use rh_tests::{TestApp, TEST_JWT_SECRET};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A sidecar on 127.0.0.1:0 sharing the test app's Redis (db 1 for revocation keys; pub/sub
/// ignores the db) and JWT secret; its own tickers are off so only our events flow.
async fn spawn_sidecar() -> (String, tokio::sync::oneshot::Sender<()>) {
    spawn_sidecar_on(&test_redis_url()).await
}

/// The test app's Redis as a sidecar names it (db 1).
pub(crate) fn test_redis_url() -> String {
    let redis_host = format!(
        "{}:{}",
        std::env::var("RH_REDIS_HOST").unwrap_or_else(|_| "127.0.0.1".into()),
        std::env::var("RH_REDIS_PORT").unwrap_or_else(|_| "6379".into())
    );
    format!("redis://{redis_host}/1")
}

/// A sidecar on the Redis at `redis_url`, reading revocations from the test database's
/// read-only account when Redis cannot vouch for them.
pub(crate) async fn spawn_sidecar_on(
    redis_url: &str,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    spawn_sidecar_ticking(redis_url, Duration::ZERO).await
}

/// [`spawn_sidecar_on`] with its matchmaking ticker publishing every `tick` (zero: off),
/// as production's does every second.
pub(crate) async fn spawn_sidecar_ticking(
    redis_url: &str,
    tick: Duration,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let mut config = Config::new(redis_url, TEST_JWT_SECRET);
    config.database_url = Some(rh_sidecar::Secret(rh_tests::sidecar_database_url()));
    config.tick_interval = tick;
    config.streams_refresh_interval = Duration::ZERO;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sidecar = Sidecar::new(config).unwrap();
    let mut ready = sidecar.redis_ready();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(sidecar.serve(listener, async move {
        let _ = stopped.await;
    }));
    tokio::time::timeout(Duration::from_secs(30), ready.wait_for(|up| *up))
        .await
        .expect("the sidecar never subscribed to Redis")
        .unwrap();
    (format!("ws://{addr}/ws"), stop)
}

/// The next JSON text frame (pings skipped), bounded so a missing event fails the test.
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("no message from the sidecar within 20 s")
            .expect("the sidecar closed the connection")
            .unwrap();
        match msg {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Connects with the player's access token and subscribes to `channels`.
pub(crate) async fn client(ws_url: &str, token: &str, channels: &[&str]) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{ws_url}?token={token}"))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "authenticated");
    for channel in channels {
        let sub = json!({"type": "subscribe", "channel": channel}).to_string();
        ws.send(Message::text(sub)).await.unwrap();
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["type"], "subscribed", "{reply}");
        assert_eq!(reply["channel"], *channel);
    }
    ws
}

/// Reads events until one on `channel` satisfies `pred` (other traffic, e.g. other tests'
/// rankings events, is skipped).
pub(crate) async fn event_where(
    ws: &mut Ws,
    channel: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    loop {
        let msg = next_json(ws).await;
        if msg["type"] == "event" && msg["channel"] == channel && pred(&msg["data"]) {
            return msg["data"].clone();
        }
    }
}

async fn players(app: &TestApp, n: usize) -> Vec<rh_tests::TestUser> {
    crate::matches_support::players(app, n, "eu").await
}

#[tokio::test]
async fn a_result_posted_over_http_reaches_rankings_and_the_players_user_channels() {
    let app = rh_tests::spawn_app().await;
    let (ws_url, _stop) = spawn_sidecar().await;
    let p = players(&app, 2).await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let created = create_match(&app, "1v1", "eu", &teams).await;
    let match_id = created["id"].as_u64().unwrap();

    let winner_channel = format!("user:{}", p[0].id);
    let mut spectator = client(&ws_url, &p[1].access_token, &["rankings:1v1"]).await;
    let mut winner = client(&ws_url, &p[0].access_token, &[&winner_channel]).await;
    let loser_channel = format!("user:{}", p[1].id);
    let mut loser = client(&ws_url, &p[1].access_token, &[&loser_channel]).await;

    let resp = put_result(&app, match_id, &result_body(&teams, Some(0), 3)).await;
    assert_eq!(resp.status(), StatusCode::OK);

    let of_this_match = |d: &Value| d["match_id"].as_u64() == Some(match_id);
    let ranking = event_where(&mut spectator, "rankings:1v1", of_this_match).await;
    assert_eq!(ranking["type"], "rating_changed", "{ranking}");
    let mine = event_where(&mut winner, &winner_channel, |d| {
        of_this_match(d) && d["type"] == "rating_changed"
    })
    .await;
    assert_eq!(mine["result"], "win", "{mine}");
    assert!(
        mine["mmr_after"].as_i64() > mine["mmr_before"].as_i64(),
        "{mine}"
    );
    let theirs = event_where(&mut loser, &loser_channel, |d| {
        of_this_match(d) && d["type"] == "rating_changed"
    })
    .await;
    assert_eq!(theirs["result"], "loss", "{theirs}");
    assert!(
        theirs["mmr_after"].as_i64() < theirs["mmr_before"].as_i64(),
        "{theirs}"
    );
}

#[tokio::test]
async fn a_spectator_on_the_match_channel_receives_timeline_events_in_order() {
    let app = rh_tests::spawn_app().await;
    let (ws_url, _stop) = spawn_sidecar().await;
    let p = players(&app, 3).await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let created = create_match(&app, "1v1", "eu", &teams).await;
    let match_id = created["id"].as_u64().unwrap();
    let channel = format!("match:{match_id}");
    // A third player, in neither team, watches.
    let mut spectator = client(&ws_url, &p[2].access_token, &[&channel]).await;

    let path = format!("/api/v1/matches/{match_id}/events");
    for (at_ms, kind) in [(1_000, "first_blood"), (2_500, "tower_destroyed")] {
        let body = json!({"type": kind, "at_ms": at_ms, "data": {"by": p[0].id}});
        let resp = signed(&app, Method::POST, &path, Some(&body)).await;
        assert!(resp.status().is_success(), "{}", resp.status());
    }

    let is_timeline = |d: &Value| d["type"] == "timeline";
    let first = event_where(&mut spectator, &channel, is_timeline).await;
    let second = event_where(&mut spectator, &channel, is_timeline).await;
    assert_eq!(first["event"]["type"], "first_blood", "{first}");
    assert_eq!(second["event"]["type"], "tower_destroyed", "{second}");
    assert!(first["event"]["seq"].as_u64() < second["event"]["seq"].as_u64());
}

#[tokio::test]
async fn a_logged_out_token_is_refused_by_the_sidecar() {
    let app = rh_tests::spawn_app().await;
    let (ws_url, _stop) = spawn_sidecar().await;
    let p = players(&app, 1).await;
    let resp = app
        .request(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&p[0].access_token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    assert_eq!(
        ws_auth_outcome(&ws_url, &p[0].access_token).await,
        Err(("token_revoked".to_owned(), 1008))
    );
}

/// How the sidecar at `ws_url` answers a connection with `token`: `Ok(())` once it says
/// `authenticated`, else the error message's `code` and the close frame's code.
pub(crate) async fn ws_auth_outcome(ws_url: &str, token: &str) -> Result<(), (String, u16)> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{ws_url}?token={token}"))
        .await
        .unwrap();
    let first = next_json(&mut ws).await;
    if first["type"] == "authenticated" {
        return Ok(());
    }
    assert_eq!(first["type"], "error", "{first}");
    let close = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .unwrap();
    Err((first["code"].as_str().unwrap_or_default().to_owned(), close))
}
