//! Session tests: an in-memory socket made of two `futures` channels, a fake authenticator,
//! and paused tokio time so heartbeats and timeouts run instantly and deterministically.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::channel::mpsc as fmpsc;
use serde_json::Value;

use super::*;
use crate::auth::{AuthError, Authenticator, Identity};

/// The server's view of the socket.
struct TestSocket {
    incoming: fmpsc::UnboundedReceiver<Message>,
    outgoing: fmpsc::Sender<Message>,
}

impl Stream for TestSocket {
    type Item = Result<Message, String>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.incoming)
            .poll_next(cx)
            .map(|m| m.map(Ok))
    }
}

impl Sink<Message> for TestSocket {
    type Error = fmpsc::SendError;
    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.outgoing).poll_ready(cx)
    }
    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        Pin::new(&mut self.outgoing).start_send(item)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.outgoing).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.outgoing).poll_close(cx)
    }
}

/// Tokens are their own meaning: "user:7" is user 7 for 15 minutes, "user:7:60" for 60 s.
struct FakeAuth;

impl Authenticator for FakeAuth {
    async fn authenticate(&self, token: &str) -> Result<Identity, AuthError> {
        match token {
            "expired" => Err(AuthError::Expired),
            "revoked" => Err(AuthError::Revoked),
            "refresh" => Err(AuthError::WrongType),
            "redis-down" => Err(AuthError::Unavailable),
            _ => {
                let mut parts = token
                    .strip_prefix("user:")
                    .ok_or(AuthError::Invalid)?
                    .split(':');
                let user_id = parts
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or(AuthError::Invalid)?;
                let secs = parts.next().and_then(|s| s.parse().ok()).unwrap_or(900);
                Ok(Identity {
                    user_id,
                    valid_for: Duration::from_secs(secs),
                })
            }
        }
    }
}

/// The client's view, plus the server side's shared state.
struct Client {
    to_server: fmpsc::UnboundedSender<Message>,
    from_server: fmpsc::Receiver<Message>,
    registry: Arc<Registry>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Client {
    fn start(token: Option<&str>, limits: Limits) -> Client {
        Self::start_with_buffer(token, limits, 64)
    }

    /// `buffer`: frames the "network" holds before the server's writes block.
    fn start_with_buffer(token: Option<&str>, limits: Limits, buffer: usize) -> Client {
        let (to_server, incoming) = fmpsc::unbounded();
        let (outgoing, from_server) = fmpsc::channel(buffer);
        let registry = Arc::new(Registry::new());
        let (stop, shutdown) = watch::channel(false);
        let shared = Shared {
            auth: Arc::new(FakeAuth),
            registry: registry.clone(),
            limits,
            shutdown,
        };
        let socket = TestSocket { incoming, outgoing };
        let task = tokio::spawn(run(socket, token.map(str::to_owned), None, shared));
        Client {
            to_server,
            from_server,
            registry,
            stop,
            task,
        }
    }

    fn send(&self, json: &str) {
        self.to_server
            .unbounded_send(Message::Text(json.into()))
            .unwrap();
    }

    async fn next(&mut self) -> Message {
        tokio::time::timeout(Duration::from_secs(3600), self.from_server.next())
            .await
            .expect("no message from the server")
            .expect("server side closed")
    }

    /// Next text frame as JSON (skipping pings).
    async fn json(&mut self) -> Value {
        loop {
            match self.next().await {
                Message::Text(t) => return serde_json::from_str(&t).unwrap(),
                Message::Ping(_) => continue,
                other => panic!("expected text, got {other:?}"),
            }
        }
    }

    async fn expect_close(&mut self, code: u16) {
        loop {
            match self.next().await {
                Message::Close(Some(frame)) => {
                    assert_eq!(
                        u16::from(frame.code),
                        code,
                        "close reason {:?}",
                        frame.reason
                    );
                    return;
                }
                Message::Ping(_) | Message::Text(_) => continue,
                other => panic!("expected close, got {other:?}"),
            }
        }
    }

    async fn subscribe(&mut self, channel: &str) -> Value {
        self.send(&format!(r#"{{"type":"subscribe","channel":"{channel}"}}"#));
        self.json().await
    }
}

async fn authenticated(token: &str) -> Client {
    let mut c = Client::start(Some(token), Limits::default());
    let hello = c.json().await;
    assert_eq!(hello["type"], "authenticated");
    c
}

#[tokio::test(start_paused = true)]
async fn a_query_token_authenticates_immediately() {
    let mut c = Client::start(Some("user:7"), Limits::default());
    let hello = c.json().await;
    assert_eq!(hello["type"], "authenticated");
    assert_eq!(hello["user_id"], 7);
    assert_eq!(hello["expires_in_s"], 900);
}

#[tokio::test(start_paused = true)]
async fn a_first_auth_message_authenticates() {
    let mut c = Client::start(None, Limits::default());
    c.send(r#"{"type":"auth","token":"user:9"}"#);
    let hello = c.json().await;
    assert_eq!(hello["type"], "authenticated");
    assert_eq!(hello["user_id"], 9);
}

#[tokio::test(start_paused = true)]
async fn refused_tokens_get_an_error_and_1008() {
    for (token, code) in [
        ("garbage", "invalid_token"),
        ("expired", "token_expired"),
        ("revoked", "token_revoked"),
        ("refresh", "wrong_token_type"),
    ] {
        let mut c = Client::start(Some(token), Limits::default());
        let err = c.json().await;
        assert_eq!(err["type"], "error");
        assert_eq!(err["code"], code);
        c.expect_close(CLOSE_POLICY).await;
        c.task.await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn unavailable_revocation_checks_close_with_try_again_later() {
    let mut c = Client::start(Some("redis-down"), Limits::default());
    assert_eq!(c.json().await["code"], "unavailable");
    c.expect_close(CLOSE_TRY_AGAIN_LATER).await;
}

#[tokio::test(start_paused = true)]
async fn no_auth_message_within_five_seconds_closes_with_1008() {
    let start = Instant::now();
    let mut c = Client::start(None, Limits::default());
    // A ping does not count as authentication.
    c.to_server
        .unbounded_send(Message::Ping(Default::default()))
        .unwrap();
    let err = c.json().await;
    assert_eq!(err["code"], "auth_timeout");
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    c.expect_close(CLOSE_POLICY).await;
}

#[tokio::test(start_paused = true)]
async fn a_first_message_other_than_auth_is_refused() {
    let mut c = Client::start(None, Limits::default());
    c.send(r#"{"type":"subscribe","channel":"feed"}"#);
    assert_eq!(c.json().await["code"], "auth_required");
    c.expect_close(CLOSE_POLICY).await;
}

#[tokio::test(start_paused = true)]
async fn subscribed_channels_receive_events_and_unsubscribed_do_not() {
    let mut c = authenticated("user:7").await;
    let ack = c.subscribe("rankings:1v1").await;
    assert_eq!(
        ack,
        serde_json::json!({"type":"subscribed","channel":"rankings:1v1"})
    );

    c.registry
        .dispatch("rankings:1v1", r#"{"user_id":7,"mmr":1510}"#);
    let event = c.json().await;
    assert_eq!(event["type"], "event");
    assert_eq!(event["channel"], "rankings:1v1");
    assert_eq!(event["data"]["mmr"], 1510);

    c.send(r#"{"type":"unsubscribe","channel":"rankings:1v1"}"#);
    assert_eq!(c.json().await["type"], "unsubscribed");
    assert_eq!(c.registry.dispatch("rankings:1v1", "{}").delivered, 0);
}

#[tokio::test(start_paused = true)]
async fn queue_is_the_callers_own_queue_channel() {
    let mut c = authenticated("user:7").await;
    assert_eq!(c.subscribe("queue").await["channel"], "queue");
    assert_eq!(c.registry.dispatch("queue:8", "{}").delivered, 0);
    c.registry.dispatch("queue:7", r#"{"status":"searching"}"#);
    let event = c.json().await;
    assert_eq!(event["channel"], "queue");
    assert_eq!(event["data"]["status"], "searching");
}

#[tokio::test(start_paused = true)]
async fn another_users_channel_is_refused_and_the_connection_stays_open() {
    let mut c = authenticated("user:7").await;
    let err = c.subscribe("user:8").await;
    assert_eq!(err["type"], "error");
    assert_eq!(err["code"], "forbidden_channel");
    assert_eq!(c.registry.subscribers("user:8"), 0);
    assert_eq!(c.subscribe("user:7").await["type"], "subscribed");
}

#[tokio::test(start_paused = true)]
async fn unknown_channels_and_malformed_messages_get_errors_and_stay_open() {
    let mut c = authenticated("user:7").await;
    assert_eq!(c.subscribe("admin").await["code"], "unknown_channel");
    c.send("not json");
    assert_eq!(c.json().await["code"], "malformed");
    c.send(r#"{"type":"dance"}"#);
    assert_eq!(c.json().await["code"], "malformed");
    c.to_server
        .unbounded_send(Message::Binary(vec![1, 2].into()))
        .unwrap();
    assert_eq!(c.json().await["code"], "malformed");
    assert_eq!(c.subscribe("feed").await["type"], "subscribed");
}

#[tokio::test(start_paused = true)]
async fn a_ping_message_is_answered_with_pong() {
    let mut c = authenticated("user:7").await;
    c.send(r#"{"type":"ping"}"#);
    assert_eq!(c.json().await, serde_json::json!({"type": "pong"}));
    assert_eq!(c.subscribe("feed").await["type"], "subscribed");
}

#[tokio::test(start_paused = true)]
async fn frames_over_4_kib_are_refused_and_the_connection_stays_open() {
    let mut c = authenticated("user:7").await;
    let big = format!(r#"{{"type":"subscribe","channel":"{}"}}"#, "x".repeat(4096));
    c.send(&big);
    assert_eq!(c.json().await["code"], "frame_too_large");
    assert_eq!(c.subscribe("feed").await["type"], "subscribed");
}

#[tokio::test(start_paused = true)]
async fn more_than_20_messages_a_second_are_refused_with_one_error() {
    let mut c = authenticated("user:7").await;
    for _ in 0..25 {
        c.send(r#"{"type":"subscribe","channel":"feed"}"#);
    }
    for _ in 0..20 {
        assert_eq!(c.json().await["type"], "subscribed");
    }
    assert_eq!(c.json().await["code"], "rate_limited");
    // The next second has a fresh allowance, and the 4 refused messages left no replies.
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(c.subscribe("match:1").await["channel"], "match:1");
}

#[tokio::test(start_paused = true)]
async fn flooding_closes_with_1008() {
    let mut c = authenticated("user:7").await;
    for _ in 0..101 {
        c.send(r#"{"type":"subscribe","channel":"feed"}"#);
    }
    c.expect_close(CLOSE_POLICY).await;
    c.task.await.unwrap();
    assert_eq!(
        c.registry.subscribers("feed"),
        0,
        "a closed session leaves the registry"
    );
}

#[tokio::test(start_paused = true)]
async fn the_server_pings_every_15_s_and_drops_a_client_silent_for_30_s() {
    let start = Instant::now();
    let mut c = authenticated("user:7").await;
    assert!(matches!(c.next().await, Message::Ping(_)));
    assert_eq!(start.elapsed(), Duration::from_secs(15));
    // At 30 s a second ping and the idle deadline are due together; either may come first.
    c.expect_close(CLOSE_GOING_AWAY).await;
    assert_eq!(start.elapsed(), Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn a_pong_counts_as_activity() {
    let start = Instant::now();
    let mut c = authenticated("user:7").await;
    assert!(matches!(c.next().await, Message::Ping(_)));
    c.to_server
        .unbounded_send(Message::Pong(Default::default()))
        .unwrap();
    // Pings at 30 s and 45 s; the pong at 15 s moved the idle deadline to 45 s.
    assert!(matches!(c.next().await, Message::Ping(_)));
    c.expect_close(CLOSE_GOING_AWAY).await;
    assert_eq!(start.elapsed(), Duration::from_secs(45));
}

#[tokio::test(start_paused = true)]
async fn an_expiring_token_closes_unless_renewed() {
    let start = Instant::now();
    let limits = Limits {
        ping_interval: Duration::from_secs(3600),
        idle_timeout: Duration::from_secs(3600),
        ..Limits::default()
    };
    let mut c = Client::start(Some("user:7:60"), limits);
    assert_eq!(c.json().await["expires_in_s"], 60);
    c.send(r#"{"type":"auth","token":"user:8"}"#);
    assert_eq!(c.json().await["code"], "user_mismatch");
    tokio::time::advance(Duration::from_secs(30)).await;
    c.send(r#"{"type":"auth","token":"user:7:60"}"#);
    assert_eq!(c.json().await["type"], "authenticated");
    let err = c.json().await;
    assert_eq!(err["code"], "token_expired");
    assert_eq!(start.elapsed(), Duration::from_secs(90));
    c.expect_close(CLOSE_POLICY).await;
}

#[tokio::test(start_paused = true)]
async fn a_client_that_falls_behind_is_closed_with_1013() {
    let limits = Limits {
        queue_size: 2,
        ..Limits::default()
    };
    // The "network" holds one frame: the server's second write blocks until the client reads.
    let mut slow = Client::start_with_buffer(Some("user:7"), limits, 0);
    assert_eq!(slow.json().await["type"], "authenticated");
    assert_eq!(slow.subscribe("feed").await["type"], "subscribed");

    let mut overflowed = 0;
    for i in 0..10 {
        overflowed += slow.registry.dispatch("feed", &i.to_string()).overflowed;
        tokio::task::yield_now().await;
    }
    assert_eq!(overflowed, 1);
    assert_eq!(slow.registry.subscribers("feed"), 0);

    // The client finally reads: a few events, the reason, then 1013.
    let mut events = 0;
    loop {
        let v = slow.json().await;
        if v["type"] == "event" {
            events += 1;
            continue;
        }
        assert_eq!(v["code"], "too_slow");
        break;
    }
    assert!(events < 10);
    slow.expect_close(CLOSE_TRY_AGAIN_LATER).await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_closes_with_1001() {
    let mut c = authenticated("user:7").await;
    c.stop.send_replace(true);
    c.expect_close(CLOSE_GOING_AWAY).await;
    c.task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_client_close_ends_the_session_and_cleans_up() {
    let mut c = authenticated("user:7").await;
    assert_eq!(c.subscribe("feed").await["type"], "subscribed");
    c.to_server.unbounded_send(Message::Close(None)).unwrap();
    c.task.await.unwrap();
    assert_eq!(c.registry.subscribers("feed"), 0);
}

#[test]
fn an_idle_session_is_small() {
    // Every idle connection holds one of these futures: it dominates memory per connection.
    let (_to_server, incoming) = fmpsc::unbounded();
    let (outgoing, _from_server) = fmpsc::channel(1);
    let (_stop, shutdown) = watch::channel(false);
    let shared = Shared {
        auth: Arc::new(FakeAuth),
        registry: Arc::new(Registry::new()),
        limits: Limits::default(),
        shutdown,
    };
    let fut = run(TestSocket { incoming, outgoing }, None, None, shared);
    let size = std::mem::size_of_val(&fut);
    println!("session future: {size} bytes");
    assert!(size < 4096, "session future grew to {size} bytes");
}
