//! `fermyon:spin/redis@2.0.0` on `fred`, with Spin's semantics.
//!
//! - `open` checks the address against `allowed_outbound_hosts` (scheme `redis`; a refused
//!   address is `invalid-address`, as on Spin), then gives the guest a connection of its own:
//!   `redis://host:port/db` selects the database.
//! - Spin opens a new connection per `open`. We keep idle connections per URL in
//!   [`HostServices`](crate::HostServices) and reuse them, which the guest cannot observe:
//!   a connection is exclusive while the guest holds it, and it only goes back to the idle
//!   list if the guest ran nothing that changes connection state (`SELECT`, `MULTI`, `WATCH`,
//!   `SUBSCRIBE`, `CLIENT`, ... through `execute`) and no command failed; otherwise it is
//!   closed on drop. A failed command may have left a dead or confused connection behind
//!   (Redis restarted, a half-read reply), and the next guest must never inherit that. An
//!   idle connection whose socket the server closed is dropped when it is next taken
//!   ([`Live::alive`]).
//! - Every command has a deadline ([`COMMAND_TIMEOUT`]) and is sent at most once: a
//!   connection that dies under a command fails it (as a fresh connection per `open` does
//!   on Spin) instead of queueing it for a reconnect that never comes, which hung requests
//!   forever after a Redis restart. At most once also keeps `INCR` and friends from being
//!   applied twice by a silent resend.
//! - `execute` results map as Spin maps them ([`flatten`]): integers → `int64`, bulk strings →
//!   `binary`, simple strings → `status`, nil → `nil`, arrays (nested too) flattened into the
//!   returned list; maps and other RESP3-only shapes are errors.
//! - Errors are `other(<message>)` except where Spin uses another variant.

use std::collections::HashMap;
use std::sync::Mutex;

use fred::prelude::*;
use fred::types::{ClusterHash, CustomCommand, Resp3Frame};
use wasmtime::component::Resource;

use crate::bindings::imports::fermyon::spin2_0_0::redis;
use crate::observe::Interface;
use crate::SpinHostState;
use redis::{Error, RedisParameter, RedisResult};

/// Spin's per-instance cap on open connections.
pub const MAX_CONNECTIONS_PER_INSTANCE: usize = 1024;
/// Idle connections kept per URL.
const MAX_IDLE_PER_URL: usize = 64;
/// Deadline of one command, and of connecting. Our guests' commands take microseconds; a
/// reply this late means the server or the path to it is gone, and the guest should get
/// an error it can report rather than hold its request (and its instance) open.
pub const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A fred client and its connection task. Without a reconnect policy, fred ends the task
/// when the server closes the socket but leaves the client looking connected, and commands
/// sent after that wait in a channel nobody reads. The task's end is the reliable sign.
struct Live {
    client: fred::clients::Client,
    task: fred::types::ConnectHandle,
}

impl Live {
    fn alive(&self) -> bool {
        !self.task.is_finished() && self.client.is_connected()
    }

    fn close(self) {
        tokio::spawn(async move {
            let _ = self.client.quit().await;
            self.task.abort();
        });
    }
}

/// A guest's open connection (the `connection` resource).
pub struct RedisConnection {
    client: fred::clients::Client,
    task: fred::types::ConnectHandle,
    address: String,
    /// Set once the guest ran a command that changes connection state, or one that
    /// failed: the connection is then closed on drop instead of reused.
    dirty: bool,
}

impl RedisConnection {
    /// Passes `result` through, remembering a failure (see the module docs).
    fn check<T>(&mut self, result: Result<T, Error>) -> Result<T, Error> {
        if result.is_err() {
            self.dirty = true;
        }
        result
    }
}

/// Idle connections per URL, shared by all instances.
#[derive(Default)]
pub(crate) struct RedisPools {
    idle: Mutex<HashMap<String, Vec<Live>>>,
}

impl RedisPools {
    async fn take(&self, address: &str) -> Result<Live, Error> {
        loop {
            let idle = {
                let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                idle.get_mut(address).and_then(Vec::pop)
            };
            match idle {
                Some(live) if live.alive() => return Ok(live),
                Some(dead) => dead.close(),
                None => break,
            }
        }
        let config =
            fred::types::config::Config::from_url(address).map_err(|_| Error::InvalidAddress)?;
        let client = fred::types::Builder::from_config(config)
            .with_connection_config(|c| {
                c.connection_timeout = COMMAND_TIMEOUT;
                c.internal_command_timeout = COMMAND_TIMEOUT;
                c.max_command_attempts = 1;
            })
            .with_performance_config(|p| p.default_command_timeout = COMMAND_TIMEOUT)
            .build()
            .map_err(|_| Error::InvalidAddress)?;
        match tokio::time::timeout(COMMAND_TIMEOUT, client.init()).await {
            Ok(Ok(task)) => Ok(Live { client, task }),
            Ok(Err(e)) => Err(other(e)),
            Err(_) => {
                let _ = client.quit().await;
                Err(Error::Other(format!(
                    "connecting to Redis timed out after {} s",
                    COMMAND_TIMEOUT.as_secs()
                )))
            }
        }
    }

    fn give_back(&self, conn: RedisConnection) {
        let live = Live {
            client: conn.client,
            task: conn.task,
        };
        if conn.dirty || !live.alive() {
            return live.close();
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.entry(conn.address).or_default();
        if list.len() < MAX_IDLE_PER_URL {
            list.push(live);
        } else {
            drop(idle);
            live.close();
        }
    }

    pub(crate) async fn shutdown(&self) {
        let clients: Vec<_> = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.drain().flat_map(|(_, v)| v).collect()
        };
        for live in clients {
            let _ = live.client.quit().await;
            live.task.abort();
        }
    }
}

/// Commands after which a connection is no longer like a fresh one.
fn changes_connection_state(command: &str) -> bool {
    const STATEFUL: &[&str] = &[
        "SELECT",
        "MULTI",
        "EXEC",
        "DISCARD",
        "WATCH",
        "UNWATCH",
        "SUBSCRIBE",
        "PSUBSCRIBE",
        "SSUBSCRIBE",
        "UNSUBSCRIBE",
        "PUNSUBSCRIBE",
        "SUNSUBSCRIBE",
        "MONITOR",
        "CLIENT",
        "AUTH",
        "HELLO",
        "RESET",
        "READONLY",
        "READWRITE",
        "QUIT",
        "ASKING",
        "SYNC",
        "PSYNC",
        "REPLCONF",
        "BLPOP",
        "BRPOP",
        "BLMOVE",
        "BZPOPMIN",
        "BZPOPMAX",
        "BLMPOP",
        "BZMPOP",
        "XREAD",
        "XREADGROUP",
        "WAIT",
        "WAITAOF",
    ];
    let first = command.split_whitespace().next().unwrap_or("");
    STATEFUL.iter().any(|c| c.eq_ignore_ascii_case(first))
}

fn other(e: impl std::fmt::Display) -> Error {
    Error::Other(e.to_string())
}

impl redis::Host for SpinHostState {}
impl crate::bindings::redis_trigger::fermyon::spin::redis_types::Host for SpinHostState {}

impl redis::HostConnection for SpinHostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<RedisConnection>, Error>> {
        if !self
            .cfg
            .allowed_outbound_hosts
            .allows_address(&address, "redis")
        {
            return Ok(Err(Error::InvalidAddress));
        }
        if self.redis_connections >= MAX_CONNECTIONS_PER_INSTANCE {
            return Ok(Err(Error::TooManyConnections));
        }
        let take = self.services.redis.take(&address);
        let live = match observed!(self, Interface::Redis, "redis.open", take) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let res = self.table.push(RedisConnection {
            client: live.client,
            task: live.task,
            address,
            dirty: false,
        })?;
        self.redis_connections += 1;
        Ok(Ok(res))
    }

    async fn publish(
        &mut self,
        conn: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let conn = self.table.get_mut(&conn)?;
        let call = async {
            conn.client
                .publish::<i64, _, _>(channel, payload)
                .await
                .map(|_| ())
                .map_err(other)
        };
        let r = observed!(self, Interface::Redis, "redis.publish", call);
        Ok(conn.check(r))
    }

    async fn get(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let conn = self.table.get_mut(&conn)?;
        let call = async {
            let frame = run(&conn.client, "GET", vec![Value::from(key)]).await;
            frame.and_then(|f| match f {
                Resp3Frame::Null => Ok(None),
                Resp3Frame::BlobString { data, .. } => Ok(Some(data.to_vec())),
                Resp3Frame::SimpleString { data, .. } => Ok(Some(data.to_vec())),
                other => Err(Error::Other(format!(
                    "unexpected response to GET: {other:?}"
                ))),
            })
        };
        let r = observed!(self, Interface::Redis, "redis.get", call);
        Ok(conn.check(r))
    }

    async fn set(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let conn = self.table.get_mut(&conn)?;
        let call = async {
            run(
                &conn.client,
                "SET",
                vec![Value::from(key), Value::Bytes(value.into())],
            )
            .await
            .map(|_| ())
        };
        let r = observed!(self, Interface::Redis, "redis.set", call);
        Ok(conn.check(r))
    }

    async fn incr(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, Error>> {
        let conn = self.table.get_mut(&conn)?;
        let call = async { conn.client.incr::<i64, _>(key).await.map_err(other) };
        let r = observed!(self, Interface::Redis, "redis.incr", call);
        Ok(conn.check(r))
    }

    async fn del(
        &mut self,
        conn: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let conn = self.table.get_mut(&conn)?;
        let call = async { conn.client.del::<u32, _>(keys).await.map_err(other) };
        let r = observed!(self, Interface::Redis, "redis.del", call);
        Ok(conn.check(r))
    }

    async fn sadd(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let conn = self.table.get_mut(&conn)?;
        let call = async {
            conn.client
                .sadd::<u32, _, _>(key, values)
                .await
                .map_err(other)
        };
        let r = observed!(self, Interface::Redis, "redis.sadd", call);
        Ok(conn.check(r))
    }

    async fn smembers(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let conn = self.table.get_mut(&conn)?;
        let call = async {
            conn.client
                .smembers::<Vec<String>, _>(key)
                .await
                .map_err(other)
        };
        let r = observed!(self, Interface::Redis, "redis.smembers", call);
        Ok(conn.check(r))
    }

    async fn srem(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let conn = self.table.get_mut(&conn)?;
        let call = async {
            conn.client
                .srem::<u32, _, _>(key, values)
                .await
                .map_err(other)
        };
        let r = observed!(self, Interface::Redis, "redis.srem", call);
        Ok(conn.check(r))
    }

    async fn execute(
        &mut self,
        conn: Resource<RedisConnection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<RedisResult>, Error>> {
        let conn = self.table.get_mut(&conn)?;
        let call = async {
            if changes_connection_state(&command) {
                conn.dirty = true;
            }
            let args = arguments
                .into_iter()
                .map(|a| match a {
                    RedisParameter::Int64(v) => Value::Integer(v),
                    RedisParameter::Binary(v) => Value::Bytes(v.into()),
                })
                .collect();
            run(&conn.client, &command, args).await.and_then(|frame| {
                let mut results = Vec::new();
                flatten(frame, &mut results).map(|()| results)
            })
        };
        let r = observed!(self, Interface::Redis, "redis.execute", call);
        Ok(conn.check(r))
    }

    async fn drop(&mut self, conn: Resource<RedisConnection>) -> wasmtime::Result<()> {
        let conn = self.table.delete(conn)?;
        self.redis_connections -= 1;
        self.services.redis.give_back(conn);
        Ok(())
    }
}

/// Sends one command and returns the raw reply frame, so that simple and bulk strings stay
/// apart (fred's `Value` would merge them); an error reply becomes `other`.
async fn run(
    client: &fred::clients::Client,
    command: &str,
    args: Vec<Value>,
) -> Result<Resp3Frame, Error> {
    let cmd = CustomCommand::new(command.to_owned(), ClusterHash::FirstKey, false);
    let frame = client.custom_raw(cmd, args).await.map_err(other)?;
    match frame {
        Resp3Frame::SimpleError { data, .. } => Err(Error::Other(data.to_string())),
        Resp3Frame::BlobError { data, .. } => {
            Err(Error::Other(String::from_utf8_lossy(&data).into_owned()))
        }
        frame => Ok(frame),
    }
}

/// Appends a reply to `out` the way Spin does: arrays and sets flattened (recursively), RESP3
/// doubles and big numbers as their text in `binary`, booleans as 0/1; maps, attributes,
/// verbatim strings and pushes are refused.
pub(crate) fn flatten(frame: Resp3Frame, out: &mut Vec<RedisResult>) -> Result<(), Error> {
    let unsupported = |what: &str| {
        Err(Error::Other(format!(
            "Could not convert Redis response: Redis {what} is not supported"
        )))
    };
    match frame {
        Resp3Frame::Null => out.push(RedisResult::Nil),
        Resp3Frame::Number { data, .. } => out.push(RedisResult::Int64(data)),
        Resp3Frame::BlobString { data, .. } => out.push(RedisResult::Binary(data.to_vec())),
        Resp3Frame::SimpleString { data, .. } => out.push(RedisResult::Status(
            String::from_utf8_lossy(&data).into_owned(),
        )),
        Resp3Frame::Array { data, .. } => {
            for f in data {
                flatten(f, out)?;
            }
        }
        Resp3Frame::Set { data, .. } => {
            for f in data {
                flatten(f, out)?;
            }
        }
        Resp3Frame::Double { data, .. } => {
            out.push(RedisResult::Binary(data.to_string().into_bytes()))
        }
        Resp3Frame::BigNumber { data, .. } => out.push(RedisResult::Binary(data.to_vec())),
        Resp3Frame::Boolean { data, .. } => out.push(RedisResult::Int64(i64::from(data))),
        Resp3Frame::SimpleError { data, .. } => return Err(Error::Other(data.to_string())),
        Resp3Frame::BlobError { data, .. } => {
            return Err(Error::Other(String::from_utf8_lossy(&data).into_owned()))
        }
        Resp3Frame::Map { .. } => return unsupported("Map type"),
        Resp3Frame::VerbatimString { .. } => return unsupported("string with format attribute"),
        Resp3Frame::Push { .. } => return unsupported("Pub/Sub types"),
        _ => return unsupported("response type"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn replies_flatten_as_on_spin() {
        let frame = Resp3Frame::Array {
            data: vec![
                Resp3Frame::Number {
                    data: 7,
                    attributes: None,
                },
                Resp3Frame::BlobString {
                    data: Bytes::from_static(b"v"),
                    attributes: None,
                },
                Resp3Frame::SimpleString {
                    data: Bytes::from_static(b"OK"),
                    attributes: None,
                },
                Resp3Frame::Null,
                Resp3Frame::Array {
                    data: vec![Resp3Frame::BlobString {
                        data: Bytes::from_static(b"inner"),
                        attributes: None,
                    }],
                    attributes: None,
                },
            ],
            attributes: None,
        };
        let mut out = Vec::new();
        flatten(frame, &mut out).unwrap();
        let shown: Vec<String> = out.iter().map(|r| format!("{r:?}")).collect();
        assert_eq!(shown.len(), 5);
        assert!(matches!(out[0], RedisResult::Int64(7)));
        assert!(matches!(&out[1], RedisResult::Binary(b) if b == b"v"));
        assert!(matches!(&out[2], RedisResult::Status(s) if s == "OK"));
        assert!(matches!(out[3], RedisResult::Nil));
        assert!(matches!(&out[4], RedisResult::Binary(b) if b == b"inner"));
    }

    #[test]
    fn maps_and_errors_are_refused() {
        let mut out = Vec::new();
        let map = Resp3Frame::Map {
            data: Default::default(),
            attributes: None,
        };
        assert!(matches!(flatten(map, &mut out), Err(Error::Other(m)) if m.contains("Map")));
        let err = Resp3Frame::BlobError {
            data: Bytes::from_static(b"WRONGTYPE nope"),
            attributes: None,
        };
        assert!(
            matches!(flatten(err, &mut out), Err(Error::Other(m)) if m.starts_with("WRONGTYPE"))
        );
    }

    #[test]
    fn state_changing_commands_are_recognised_in_any_case() {
        assert!(changes_connection_state("select"));
        assert!(changes_connection_state("MULTI"));
        assert!(changes_connection_state("Client setname x"));
        assert!(!changes_connection_state("ZADD"));
        assert!(!changes_connection_state("EVAL"));
    }
}
