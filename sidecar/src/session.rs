//! One client connection, from authentication to close, written against `Sink`/`Stream` of
//! tungstenite [`Message`]s so unit tests drive it with in-memory channels and paused time.
//!
//! The session is a single task that reads client frames, writes control replies and pings,
//! and enforces the limits. Most events never pass through it: the fan-out writes them into
//! the socket directly ([`crate::socket`]). The others (the socket was full, or events were
//! already waiting) reach it through the bounded queue the [`Registry`] fills; when that queue
//! overflows the session closes with 1013.
//!
//! Close codes: 1008 bad/expired/revoked token, auth timeout or persistent flooding; 1009 frame
//! over the hard limit; 1013 too slow (or authentication unavailable); 1001 server shutdown or
//! client silent for too long.

use std::collections::HashMap;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;

use futures::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use tokio::sync::watch;
use tokio::time::{sleep_until, timeout, Instant};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::auth::{AuthError, Authenticator, Identity};
use crate::config::Limits;
use crate::protocol::{error_json, resolve_channel, ClientMessage, ServerMessage};
use crate::registry::{ConnId, Handle, Outbox, Outgoing, Registry};
use crate::socket::Direct;

pub const CLOSE_GOING_AWAY: u16 = 1001;
pub const CLOSE_POLICY: u16 = 1008;
pub const CLOSE_TOO_BIG: u16 = 1009;
pub const CLOSE_TRY_AGAIN_LATER: u16 = 1013;

/// What every session shares.
pub struct Shared<A> {
    pub auth: Arc<A>,
    pub registry: Arc<Registry>,
    pub limits: Limits,
    /// Turns true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

impl<A> Clone for Shared<A> {
    fn clone(&self) -> Self {
        Shared {
            auth: self.auth.clone(),
            registry: self.registry.clone(),
            limits: self.limits.clone(),
            shutdown: self.shutdown.clone(),
        }
    }
}

/// Why a write did not happen.
enum SendFailed {
    /// The socket is gone or stuck: nothing more can be written.
    Broken,
    /// The event queue overflowed while we were writing: close with 1013.
    Overflow,
}

/// Counts client data frames in one-second windows.
struct RateLimiter {
    window_start: Instant,
    count: u32,
    warned: bool,
}

enum Rate {
    Ok,
    /// Over the limit: refuse this one (`warn` is true for the first refusal of the window).
    Refuse {
        warn: bool,
    },
    /// Far over the limit: close the connection.
    Abuse,
}

impl RateLimiter {
    fn new() -> Self {
        RateLimiter {
            window_start: Instant::now(),
            count: 0,
            warned: false,
        }
    }

    fn hit(&mut self, limits: &Limits) -> Rate {
        let now = Instant::now();
        if now.duration_since(self.window_start) >= std::time::Duration::from_secs(1) {
            self.window_start = now;
            self.count = 0;
            self.warned = false;
        }
        self.count += 1;
        if self.count <= limits.max_msgs_per_sec {
            Rate::Ok
        } else if self.count > limits.max_msgs_per_sec.saturating_mul(limits.abuse_factor) {
            Rate::Abuse
        } else {
            // One error per window, so a flood is not answered by a flood.
            let warn = !self.warned;
            self.warned = true;
            Rate::Refuse { warn }
        }
    }
}

fn close_message(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code: code.into(),
        reason: Utf8Bytes::from(reason),
    }))
}

/// The socket half of a session, with the write helpers.
struct Conn<S> {
    socket: S,
    limits: Limits,
    /// Once authenticated: the fan-out's way into this socket, stopped before a close frame.
    outbox: Option<Arc<Outbox>>,
}

impl<S, E> Conn<S>
where
    S: Sink<Message> + Stream<Item = Result<Message, E>> + Unpin,
{
    /// Writes one message, giving up after `send_timeout` or when `overflow` resolves first.
    async fn send<F: Future<Output = ()>>(
        &mut self,
        msg: Message,
        overflow: Pin<&mut F>,
    ) -> Result<(), SendFailed> {
        let send = self.socket.send(msg);
        Self::bounded(self.limits.send_timeout, send, overflow).await
    }

    /// Writes out whatever the transport holds (the rest of a directly written event).
    async fn flush<F: Future<Output = ()>>(
        &mut self,
        overflow: Pin<&mut F>,
    ) -> Result<(), SendFailed> {
        let flush = self.socket.flush();
        Self::bounded(self.limits.send_timeout, flush, overflow).await
    }

    async fn bounded<F: Future<Output = ()>, E2>(
        send_timeout: std::time::Duration,
        send: impl Future<Output = Result<(), E2>>,
        overflow: Pin<&mut F>,
    ) -> Result<(), SendFailed> {
        let mut send = pin!(send);
        // Fast path: the socket takes the frame at once, so no timer is armed. With 10,000
        // clients an event means 10,000 sends; a timer each would cost more than the write.
        if let Some(r) = (&mut send).now_or_never() {
            return r.map_err(|_| SendFailed::Broken);
        }
        tokio::select! {
            r = timeout(send_timeout, send) => match r {
                Ok(Ok(())) => Ok(()),
                _ => Err(SendFailed::Broken),
            },
            () = overflow => Err(SendFailed::Overflow),
        }
    }

    async fn send_text(&mut self, text: String) -> Result<(), SendFailed> {
        self.send(Message::Text(text.into()), pin!(std::future::pending()))
            .await
    }

    /// No event may follow a close frame: from now on the fan-out leaves this socket alone.
    fn stop_events(&self) {
        if let Some(outbox) = &self.outbox {
            outbox.stop();
        }
    }

    /// Best effort: an optional error message, then a close frame, bounded by `close_timeout`.
    async fn close(&mut self, code: u16, reason: &str, error: Option<(&str, &str)>) {
        self.stop_events();
        let deadline = self.limits.close_timeout;
        let _ = timeout(deadline, async {
            if let Some((code, message)) = error {
                self.socket
                    .send(Message::Text(error_json(code, message).into()))
                    .await?;
            }
            self.socket.send(close_message(code, reason)).await?;
            // Complete the closing handshake: read (and drop) until the client's close reply
            // ends the stream. Closing the TCP connection with unread input would make the
            // kernel send a reset, which can destroy the close frame before the client reads it.
            while let Some(Ok(_)) = self.socket.next().await {}
            Ok::<(), <S as Sink<Message>>::Error>(())
        })
        .await;
    }
}

/// Runs one connection to its end. `query_token` is the `?token=` value, if any; `direct`
/// lets the fan-out write events into the socket itself (`None` for in-memory sockets).
pub async fn run<S, E, A>(
    socket: S,
    query_token: Option<String>,
    direct: Option<Arc<dyn Direct>>,
    shared: Shared<A>,
) where
    S: Sink<Message> + Stream<Item = Result<Message, E>> + Unpin,
    E: std::fmt::Display,
    A: Authenticator,
{
    let mut conn = Conn {
        socket,
        limits: shared.limits.clone(),
        outbox: None,
    };
    let Some(identity) = authenticate(&mut conn, query_token, &shared).await else {
        return;
    };
    let handle = shared.registry.open(shared.limits.queue_size, direct);
    let id = handle.id;
    // Client-facing name -> Redis channel, so cleanup knows what to remove.
    let mut subscriptions: HashMap<String, String> = HashMap::new();
    serve(
        &mut conn,
        identity,
        handle,
        &mut subscriptions,
        shared.clone(),
    )
    .await;
    shared
        .registry
        .remove(id, subscriptions.values().map(String::as_str));
}

/// The first phase: a valid access token from the query or the first message, in time.
async fn authenticate<S, E, A>(
    conn: &mut Conn<S>,
    query_token: Option<String>,
    shared: &Shared<A>,
) -> Option<Identity>
where
    S: Sink<Message> + Stream<Item = Result<Message, E>> + Unpin,
    A: Authenticator,
{
    let token = match query_token {
        Some(token) => token,
        None => match first_auth_message(conn).await {
            Ok(token) => token,
            Err((code, message)) => {
                if code != "closed" {
                    shared.registry.metrics().auth_refused(code);
                }
                conn.close(CLOSE_POLICY, code, Some((code, message))).await;
                return None;
            }
        },
    };
    match shared.auth.authenticate(&token).await {
        Ok(identity) => {
            let hello = ServerMessage::Authenticated {
                user_id: identity.user_id,
                expires_in_s: identity.valid_for.as_secs(),
            };
            conn.send_text(hello.to_json()).await.ok()?;
            Some(identity)
        }
        Err(e) => {
            let close_code = if e == AuthError::Unavailable {
                CLOSE_TRY_AGAIN_LATER
            } else {
                CLOSE_POLICY
            };
            shared.registry.metrics().auth_refused(e.code());
            conn.close(close_code, e.code(), Some((e.code(), &e.to_string())))
                .await;
            None
        }
    }
}

/// Waits up to `auth_timeout` for `{"type":"auth","token":...}`; control frames are ignored.
async fn first_auth_message<S, E>(
    conn: &mut Conn<S>,
) -> Result<String, (&'static str, &'static str)>
where
    S: Sink<Message> + Stream<Item = Result<Message, E>> + Unpin,
{
    let deadline = Instant::now() + conn.limits.auth_timeout;
    loop {
        let frame = tokio::select! {
            f = conn.socket.next() => f,
            () = sleep_until(deadline) => {
                return Err(("auth_timeout", "no auth message within the time allowed"));
            }
        };
        match frame {
            Some(Ok(Message::Text(text))) => {
                if text.len() > conn.limits.max_frame_bytes {
                    return Err(("frame_too_large", "frame too large"));
                }
                return match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(ClientMessage::Auth { token }) => Ok(token),
                    _ => Err(("auth_required", "the first message must be an auth message")),
                };
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                return Err(("auth_required", "the first message must be an auth message"));
            }
            // Closed, or a transport error: nobody left to answer.
            _ => return Err(("closed", "closed")),
        }
    }
}

/// What to do after a client message.
enum Reply {
    Send(String),
    Close(u16, &'static str, String),
}

/// The authenticated phase.
async fn serve<S, E, A>(
    conn: &mut Conn<S>,
    mut identity: Identity,
    handle: Handle,
    subscriptions: &mut HashMap<String, String>,
    shared: Shared<A>,
) where
    S: Sink<Message> + Stream<Item = Result<Message, E>> + Unpin,
    E: std::fmt::Display,
    A: Authenticator,
{
    let limits = shared.limits.clone();
    let Handle { id, outbox, mut rx } = handle;
    conn.outbox = Some(outbox.clone());
    let mut rate = RateLimiter::new();
    let mut last_seen = Instant::now();
    let mut next_ping = Instant::now() + limits.ping_interval;
    let mut token_expiry = Instant::now() + identity.valid_for;
    let too_slow = ("too_slow", "events were not read fast enough");
    let flooding = ("rate_limited", "too many messages");
    let mut shutdown = shared.shutdown.clone();
    // Created once, not per loop turn: an idle connection then costs no timer or waiter
    // registrations per event, only the write.
    let mut stopping = pin!(crate::stopped(&mut shutdown));
    let mut overflow = pin!(outbox.overflowed());
    // One timer for the three deadlines (ping, idle, token expiry), reset only when the
    // earliest one moves.
    let earliest = |next_ping: Instant, last_seen: Instant, token_expiry: Instant| {
        next_ping
            .min(last_seen + limits.idle_timeout)
            .min(token_expiry)
    };
    let mut timer = pin!(sleep_until(earliest(next_ping, last_seen, token_expiry)));

    loop {
        let wake = earliest(next_ping, last_seen, token_expiry);
        if timer.deadline() != wake {
            timer.as_mut().reset(wake);
        }
        tokio::select! {
            frame = conn.socket.next() => {
                let frame = match frame {
                    Some(Ok(frame)) => frame,
                    Some(Err(e)) => {
                        // tungstenite reports a frame over the hard limit as "Space limit exceeded".
                        if e.to_string().contains("Space limit exceeded") {
                            conn.close(CLOSE_TOO_BIG, "frame too large", None).await;
                        }
                        return;
                    }
                    None => return,
                };
                // Any frame, pongs included, proves the client is alive.
                last_seen = Instant::now();
                let text = match frame {
                    Message::Text(text) => Some(text),
                    Message::Binary(_) => None,
                    Message::Close(_) => {
                        // tungstenite queues the close reply itself; flushing sends it.
                        conn.stop_events();
                        let _ = timeout(limits.close_timeout, conn.socket.flush()).await;
                        return;
                    }
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                };
                match rate.hit(&limits) {
                    Rate::Ok => {}
                    Rate::Refuse { warn: false } => continue,
                    Rate::Refuse { warn: true } => {
                        if conn.send_text(error_json(flooding.0, flooding.1)).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Rate::Abuse => {
                        conn.close(CLOSE_POLICY, "flooding", Some(flooding)).await;
                        return;
                    }
                }
                let reply = match text {
                    None => Reply::Send(error_json("malformed", "binary frames are not supported")),
                    Some(text) if text.len() > limits.max_frame_bytes => {
                        Reply::Send(error_json("frame_too_large", "frames are limited to 4 KiB"))
                    }
                    Some(text) => {
                        handle_message(&text, &mut identity, &mut token_expiry, id, &outbox, subscriptions, &shared).await
                    }
                };
                match reply {
                    Reply::Send(json) => {
                        if conn.send_text(json).await.is_err() {
                            return;
                        }
                    }
                    Reply::Close(code, error_code, message) => {
                        conn.close(code, error_code, Some((error_code, &message))).await;
                        return;
                    }
                }
            }
            Some(item) = rx.recv() => {
                let sent = match item {
                    Outgoing::Event(text) => conn.send(Message::Text(text), overflow.as_mut()).await,
                    Outgoing::Flush => conn.flush(overflow.as_mut()).await,
                };
                match sent {
                    Ok(()) => outbox.settle(&rx),
                    Err(SendFailed::Overflow) => {
                        shared.registry.metrics().slow_consumer_closes.inc();
                conn.close(CLOSE_TRY_AGAIN_LATER, "too slow", Some(too_slow)).await;
                        return;
                    }
                    Err(SendFailed::Broken) => return,
                }
            }
            () = overflow.as_mut() => {
                shared.registry.metrics().slow_consumer_closes.inc();
                        conn.close(CLOSE_TRY_AGAIN_LATER, "too slow", Some(too_slow)).await;
                return;
            }
            () = timer.as_mut() => {
                let now = Instant::now();
                if now >= token_expiry {
                    let msg = ("token_expired", "the access token expired; re-authenticate before it does");
                    conn.close(CLOSE_POLICY, "token expired", Some(msg)).await;
                    return;
                }
                if now >= last_seen + limits.idle_timeout {
                    conn.close(CLOSE_GOING_AWAY, "idle timeout", None).await;
                    return;
                }
                if now >= next_ping {
                    next_ping = now + limits.ping_interval;
                    if conn.send(Message::Ping(Default::default()), overflow.as_mut()).await.is_err() {
                        return;
                    }
                }
            }
            () = stopping.as_mut() => {
                conn.close(CLOSE_GOING_AWAY, "server shutting down", None).await;
                return;
            }
        }
    }
}

/// Decodes and applies one client text message.
async fn handle_message<A: Authenticator>(
    text: &str,
    identity: &mut Identity,
    token_expiry: &mut Instant,
    id: ConnId,
    outbox: &Arc<Outbox>,
    subscriptions: &mut HashMap<String, String>,
    shared: &Shared<A>,
) -> Reply {
    let Ok(msg) = serde_json::from_str::<ClientMessage>(text) else {
        return Reply::Send(error_json(
            "malformed",
            r#"expected {"type": "subscribe" | "unsubscribe" | "auth" | "ping", ...}"#,
        ));
    };
    match msg {
        ClientMessage::Ping => Reply::Send(ServerMessage::Pong.to_json()),
        ClientMessage::Subscribe { channel } => {
            let sub = match resolve_channel(&channel, identity.user_id) {
                Ok(sub) => sub,
                Err(e) => return Reply::Send(error_json(e.code(), &format!("{e}: {channel}"))),
            };
            if !subscriptions.contains_key(&sub.client_name)
                && subscriptions.len() >= shared.limits.max_subscriptions
            {
                return Reply::Send(error_json(
                    "too_many_subscriptions",
                    "unsubscribe from a channel first",
                ));
            }
            shared.registry.subscribe(id, outbox, &sub.redis_channel);
            let reply = ServerMessage::Subscribed {
                channel: &sub.client_name,
            }
            .to_json();
            subscriptions.insert(sub.client_name, sub.redis_channel);
            Reply::Send(reply)
        }
        ClientMessage::Unsubscribe { channel } => {
            let sub = match resolve_channel(&channel, identity.user_id) {
                Ok(sub) => sub,
                Err(e) => return Reply::Send(error_json(e.code(), &format!("{e}: {channel}"))),
            };
            if let Some(redis_channel) = subscriptions.remove(&sub.client_name) {
                shared.registry.unsubscribe(id, &redis_channel);
            }
            Reply::Send(
                ServerMessage::Unsubscribed {
                    channel: &sub.client_name,
                }
                .to_json(),
            )
        }
        // Re-authentication extends the session with a fresh token of the same user.
        ClientMessage::Auth { token } => match shared.auth.authenticate(&token).await {
            Ok(fresh) if fresh.user_id == identity.user_id => {
                *identity = fresh;
                *token_expiry = Instant::now() + fresh.valid_for;
                Reply::Send(
                    ServerMessage::Authenticated {
                        user_id: fresh.user_id,
                        expires_in_s: fresh.valid_for.as_secs(),
                    }
                    .to_json(),
                )
            }
            Ok(_) => Reply::Send(error_json(
                "user_mismatch",
                "the token belongs to another user",
            )),
            Err(AuthError::Unavailable) => {
                Reply::Send(error_json(AuthError::Unavailable.code(), "try again later"))
            }
            Err(e) => Reply::Close(CLOSE_POLICY, e.code(), e.to_string()),
        },
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
