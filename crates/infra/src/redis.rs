//! Redis over Spin's `fermyon:spin/redis` connection: the one Redis API of the app.
//!
//! Spin's typed calls cover GET/SET/INCR/DEL/sets/PUBLISH; everything else (sorted sets,
//! hashes, scripts, `SET NX PX`, `EXPIRE`, `PING`) goes through `execute`, which returns
//! a flat list of typed values. [`Redis`] hides that shape behind typed methods, and
//! [`Reply`] reads what `execute` returned. Features never hold Spin's connection.
//!
//! - Scripts ([`Script`]) run by `EVALSHA`, falling back to `EVAL` when the server does
//!   not have the script cached yet (`NOSCRIPT`: a fresh or restarted Redis). `EVAL`
//!   also caches it, so from then on only the 40-byte hash crosses the network. A
//!   failed `EVALSHA` ran nothing, so the fallback never runs a script twice.
//! - Claims and locks ([`Redis::set_nx_px`], [`Redis::try_lock`]) read their answer
//!   from a script's integer reply: hosts differ in how `execute` surfaces `OK` and nil
//!   (older Spin drops both), an integer is unambiguous everywhere.
//! - A lock is released only by its holder ([`Lock::release`] checks the token in a
//!   script), so a holder that outlived its TTL cannot drop the next holder's lock.

use serde::Serialize;
use sha1::{Digest, Sha1};
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};

#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// The `redis_url` variable is missing or invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot connect to Redis: {0}")]
    Connect(String),
    #[error("redis `{command}` failed: {why}")]
    Command { command: String, why: String },
    #[error("redis `{command}` returned an unexpected reply: {reply}")]
    Reply { command: String, reply: String },
}

impl RedisError {
    /// Whether Redis could not be reached (rather than answering with an error). Spin's
    /// host reports I/O failures as text (`other(<message>)`), so the message decides.
    pub fn is_unreachable(&self) -> bool {
        match self {
            RedisError::Connect(_) => true,
            RedisError::Command { why, .. } => {
                let why = why.to_ascii_lowercase();
                [
                    "connection",
                    "broken pipe",
                    "os error",
                    "timed out",
                    "timeout",
                    "io error",
                    "io:",
                    "canceled",
                    "closed",
                    "reset",
                    "eof",
                    "refused",
                    // Server replies of a Redis that is starting, stopping or failing over.
                    "loading",
                    "shutdown",
                    "shutting down",
                    "masterdown",
                    "tryagain",
                ]
                .iter()
                .any(|sign| why.contains(sign))
            }
            RedisError::Config(_) | RedisError::Reply { .. } => false,
        }
    }
}

/// An argument of a Redis command or script.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
    Int(i64),
    /// Sent as its decimal text (Spin's parameters have no unsigned integer).
    Uint(u64),
}

impl Arg<'_> {
    fn to_param(self) -> RedisParameter {
        match self {
            Arg::Str(s) => RedisParameter::Binary(s.as_bytes().to_vec()),
            Arg::Bytes(b) => RedisParameter::Binary(b.to_vec()),
            Arg::Int(n) => RedisParameter::Int64(n),
            Arg::Uint(n) => RedisParameter::Binary(n.to_string().into_bytes()),
        }
    }

    /// Every string of `values` as an argument.
    pub fn all(values: &[String]) -> Vec<Arg<'_>> {
        values.iter().map(|v| Arg::Str(v)).collect()
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Str(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Str(s)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Int(n)
    }
}

impl From<u64> for Arg<'_> {
    fn from(n: u64) -> Self {
        Arg::Uint(n)
    }
}

/// A Lua script, named for error messages. Scripts should return a flat array of
/// integers or strings (or one of them): Spin's interface flattens nested arrays.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    pub name: &'static str,
    pub source: &'static str,
}

impl Script {
    pub const fn new(name: &'static str, source: &'static str) -> Self {
        Self { name, source }
    }

    /// The SHA-1 Redis caches the script under (lowercase hex), for `EVALSHA`.
    pub fn sha1(&self) -> String {
        hex::encode(Sha1::digest(self.source.as_bytes()))
    }
}

/// What a command or script returned (Spin flattens nested arrays into this list).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply(pub Vec<RedisResult>);

impl Reply {
    /// The values, in order.
    pub fn values(&self) -> &[RedisResult] {
        &self.0
    }

    /// The first value as an integer (`None` for nil, nothing, or no number).
    pub fn int(&self) -> Option<i64> {
        self.0.first().and_then(reply_int)
    }

    /// The first value as text (`None` for nil or nothing).
    pub fn string(&self) -> Option<String> {
        self.0.first().and_then(reply_string)
    }

    /// Every non-nil value as text.
    pub fn strings(&self) -> Vec<String> {
        self.0.iter().filter_map(reply_string).collect()
    }
}

/// Reads an integer from a reply value (Redis sends Lua numbers as integers and some
/// commands' counts as bulk strings).
pub fn reply_int(value: &RedisResult) -> Option<i64> {
    match value {
        RedisResult::Int64(n) => Some(*n),
        RedisResult::Binary(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        RedisResult::Status(s) => s.trim().parse().ok(),
        RedisResult::Nil => None,
    }
}

/// Reads text from a reply value (integers as their decimal text; nil is `None`).
pub fn reply_string(value: &RedisResult) -> Option<String> {
    match value {
        RedisResult::Binary(b) => Some(String::from_utf8_lossy(b).into_owned()),
        RedisResult::Status(s) => Some(s.clone()),
        RedisResult::Int64(n) => Some(n.to_string()),
        RedisResult::Nil => None,
    }
}

/// `SET key value NX PX ttl`, answered as an integer (see the module docs on claims).
const SET_NX_PX: Script = Script::new(
    "set_nx_px",
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 else return 0 end",
);

/// Deletes a lock only if it still holds the caller's token.
const RELEASE_LOCK: Script = Script::new(
    "release_lock",
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
);

/// One Redis connection for the duration of a request.
pub struct Redis {
    conn: Connection,
}

impl Redis {
    /// Opens a connection with the `redis_url` variable.
    pub fn open() -> Result<Self, RedisError> {
        Self::open_url(&crate::config::redis_url()?)
    }

    pub fn open_url(url: &str) -> Result<Self, RedisError> {
        Connection::open(url)
            .map(|conn| Self { conn })
            .map_err(|e| RedisError::Connect(e.to_string()))
    }

    /// Runs any command; `command` is the command name, `args` its arguments.
    pub fn execute(&self, command: &str, args: &[Arg<'_>]) -> Result<Reply, RedisError> {
        let params: Vec<RedisParameter> = args.iter().map(|a| a.to_param()).collect();
        self.conn
            .execute(command, &params)
            .map(Reply)
            .map_err(|e| failed(command, e))
    }

    /// Runs `script` with `keys` and `args`: `EVALSHA`, then `EVAL` if Redis does not
    /// have it cached (module docs).
    pub fn eval<K: AsRef<str>>(
        &self,
        script: &Script,
        keys: &[K],
        args: &[Arg<'_>],
    ) -> Result<Reply, RedisError> {
        let sha = script.sha1();
        let mut all = Vec::with_capacity(2 + keys.len() + args.len());
        all.push(RedisParameter::Binary(sha.into_bytes()));
        all.push(RedisParameter::Int64(keys.len() as i64));
        all.extend(keys.iter().map(|k| Arg::Str(k.as_ref()).to_param()));
        all.extend(args.iter().map(|a| a.to_param()));
        match self.conn.execute("EVALSHA", &all) {
            Ok(values) => Ok(Reply(values)),
            Err(e) if is_noscript(&e.to_string()) => {
                all[0] = RedisParameter::Binary(script.source.as_bytes().to_vec());
                self.conn
                    .execute("EVAL", &all)
                    .map(Reply)
                    .map_err(|e| failed(script.name, e))
            }
            Err(e) => Err(failed(script.name, e)),
        }
    }

    /// `GET key` as UTF-8 text.
    pub fn get_string(&self, key: &str) -> Result<Option<String>, RedisError> {
        let value = self.conn.get(key).map_err(|e| failed("GET", e))?;
        Ok(value.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// `SET key value`.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), RedisError> {
        self.conn.set(key, value).map_err(|e| failed("SET", e))
    }

    /// `SET key value EX secs`.
    pub fn set_ex(&self, key: &str, value: &str, secs: i64) -> Result<(), RedisError> {
        self.execute(
            "SET",
            &[
                Arg::Str(key),
                Arg::Str(value),
                Arg::Str("EX"),
                Arg::Int(secs.max(1)),
            ],
        )?;
        Ok(())
    }

    /// `SET key value NX PX ms`: true when this call set the key (a claim won).
    pub fn set_nx_px(&self, key: &str, value: &str, ttl_ms: i64) -> Result<bool, RedisError> {
        let reply = self.eval(
            &SET_NX_PX,
            &[key],
            &[Arg::Str(value), Arg::Int(ttl_ms.max(1))],
        )?;
        Ok(reply.int() == Some(1))
    }

    /// Takes the lock `key` for `ttl_ms` unless someone holds it. The lock expires by
    /// itself if its holder dies; release it with [`Lock::release`].
    pub fn try_lock(&self, key: &str, ttl_ms: i64) -> Result<Option<Lock>, RedisError> {
        let token = crate::ids::random_id();
        Ok(self.set_nx_px(key, &token, ttl_ms)?.then(|| Lock {
            key: key.to_owned(),
            token,
        }))
    }

    /// `DEL key...`: how many keys existed.
    pub fn del(&self, keys: &[&str]) -> Result<i64, RedisError> {
        let args: Vec<Arg<'_>> = keys.iter().map(|k| Arg::Str(k)).collect();
        Ok(self.execute("DEL", &args)?.int().unwrap_or(0))
    }

    /// `EXISTS key`.
    pub fn exists(&self, key: &str) -> Result<bool, RedisError> {
        Ok(self.execute("EXISTS", &[Arg::Str(key)])?.int().unwrap_or(0) > 0)
    }

    /// `INCR key`: the new value.
    pub fn incr(&self, key: &str) -> Result<i64, RedisError> {
        self.conn.incr(key).map_err(|e| failed("INCR", e))
    }

    /// `EXPIRE key secs`.
    pub fn expire(&self, key: &str, secs: i64) -> Result<(), RedisError> {
        self.execute("EXPIRE", &[Arg::Str(key), Arg::Int(secs)])?;
        Ok(())
    }

    /// `ZADD key score member`.
    pub fn zadd(&self, key: &str, score: i64, member: &str) -> Result<(), RedisError> {
        self.execute("ZADD", &[Arg::Str(key), Arg::Int(score), Arg::Str(member)])?;
        Ok(())
    }

    /// `ZRANGE key start stop`: the members as text.
    pub fn zrange(&self, key: &str, start: i64, stop: i64) -> Result<Vec<String>, RedisError> {
        let reply = self.execute("ZRANGE", &[Arg::Str(key), Arg::Int(start), Arg::Int(stop)])?;
        Ok(reply.strings())
    }

    /// `PING`: Ok when the server answers.
    pub fn ping(&self) -> Result<(), RedisError> {
        let reply = self.execute("PING", &[])?;
        let pong = reply.0.iter().any(|r| {
            matches!(r, RedisResult::Status(s) if s == "PONG")
                || matches!(r, RedisResult::Binary(b) if b == b"PONG")
        });
        if pong {
            Ok(())
        } else {
            Err(RedisError::Reply {
                command: "PING".into(),
                reply: format!("{:?}", reply.0),
            })
        }
    }

    /// `PUBLISH channel payload`.
    pub fn publish(&self, channel: &str, payload: &[u8]) -> Result<(), RedisError> {
        self.conn
            .publish(channel, payload)
            .map_err(|e| failed("PUBLISH", e))
    }

    /// Publishes `message` as JSON on `channel`.
    pub fn publish_json(&self, channel: &str, message: &impl Serialize) -> Result<(), RedisError> {
        let payload = serde_json::to_vec(message).map_err(|e| RedisError::Command {
            command: "PUBLISH".into(),
            why: e.to_string(),
        })?;
        self.publish(channel, &payload)
    }
}

/// Publishes each `(channel, payload)` pair in order, in one round trip.
const PUBLISH_MANY: Script = Script::new(
    "redis.publish_many",
    "for i = 1, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end return #ARGV / 2",
);

impl Redis {
    /// `PUBLISH` of many messages in one script call (a rollover announces its rewards to
    /// thousands of players: one round trip per message would dominate its time).
    pub fn publish_many(&self, messages: &[(String, String)]) -> Result<(), RedisError> {
        if messages.is_empty() {
            return Ok(());
        }
        let args: Vec<Arg<'_>> = messages
            .iter()
            .flat_map(|(c, m)| [Arg::Str(c), Arg::Str(m)])
            .collect();
        self.eval(&PUBLISH_MANY, &[] as &[&str], &args)?;
        Ok(())
    }
}

/// A lock held in Redis (see [`Redis::try_lock`]).
#[derive(Debug)]
#[must_use = "a lock is held until released or expired"]
pub struct Lock {
    key: String,
    token: String,
}

impl Lock {
    /// The key the lock lives under.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Releases the lock if this holder still has it; false when it had expired and
    /// (perhaps) someone else holds it now, which is then left alone.
    pub fn release(self, redis: &Redis) -> Result<bool, RedisError> {
        let reply = redis.eval(
            &RELEASE_LOCK,
            &[self.key.as_str()],
            &[Arg::Str(&self.token)],
        )?;
        Ok(reply.int() == Some(1))
    }
}

fn failed(command: &str, e: spin_sdk::redis::Error) -> RedisError {
    RedisError::Command {
        command: command.to_owned(),
        why: e.to_string(),
    }
}

/// Whether an error says the server lacks the script (`NOSCRIPT No matching script`;
/// some clients spell it `NoScriptError`).
fn is_noscript(message: &str) -> bool {
    message.to_ascii_lowercase().contains("noscript")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_read_from_int_and_text_replies() {
        assert_eq!(reply_int(&RedisResult::Int64(3)), Some(3));
        assert_eq!(reply_int(&RedisResult::Binary(b"42".to_vec())), Some(42));
        assert_eq!(reply_int(&RedisResult::Nil), None);
    }

    #[test]
    fn a_redis_out_of_reach_is_told_from_a_redis_that_answered_an_error() {
        let command = |why: &str| RedisError::Command {
            command: "GET".into(),
            why: why.into(),
        };
        assert!(RedisError::Connect("Connection refused (os error 111)".into()).is_unreachable());
        assert!(command("Broken pipe (os error 32)").is_unreachable());
        assert!(command("IO Error: connection reset by peer").is_unreachable());
        assert!(command("connecting to Redis timed out after 10 s").is_unreachable());
        assert!(
            !command("WRONGTYPE Operation against a key holding the wrong kind of value")
                .is_unreachable()
        );
        assert!(!RedisError::Reply {
            command: "EVAL".into(),
            reply: "[]".into()
        }
        .is_unreachable());
    }

    #[test]
    fn a_script_is_cached_under_the_sha1_of_its_source() {
        // `redis-cli SCRIPT LOAD "return 1"` answers this hash.
        let s = Script::new("one", "return 1");
        assert_eq!(s.sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    }

    #[test]
    fn noscript_errors_are_recognised_in_either_spelling() {
        assert!(is_noscript("NOSCRIPT No matching script. Please use EVAL."));
        assert!(is_noscript("NoScriptError: No matching script"));
        assert!(!is_noscript("ERR wrong number of arguments"));
    }

    #[test]
    fn replies_read_their_first_value_and_skip_nils() {
        let r = Reply(vec![
            RedisResult::Binary(b"7".to_vec()),
            RedisResult::Nil,
            RedisResult::Status("x".into()),
        ]);
        assert_eq!(r.int(), Some(7));
        assert_eq!(r.string().as_deref(), Some("7"));
        assert_eq!(r.strings(), vec!["7", "x"]);
    }

    #[test]
    fn unsigned_arguments_are_sent_as_decimal_text() {
        assert!(
            matches!(Arg::from(u64::MAX).to_param(), RedisParameter::Binary(b) if b == u64::MAX.to_string().as_bytes())
        );
        assert!(matches!(
            Arg::from(-3i64).to_param(),
            RedisParameter::Int64(-3)
        ));
    }
}
