//! Redis over Spin's `fermyon:spin/redis` connection.
//!
//! Spin's typed calls cover GET/SET/INCR/DEL/sets/PUBLISH; everything else (sorted sets,
//! `EVAL`, `SET NX PX`, `EXPIRE`, `PING`) goes through `execute`, which returns a flat
//! list of typed values. The helpers here hide that shape.

use serde::Serialize;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};

#[derive(Debug, thiserror::Error)]
pub enum RedisError {
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
                    "io error",
                    "canceled",
                ]
                .iter()
                .any(|sign| why.contains(sign))
            }
            RedisError::Reply { .. } => false,
        }
    }
}

/// A string or integer argument of a Redis command.
pub enum Arg<'a> {
    Str(&'a str),
    Int(i64),
}

impl Arg<'_> {
    fn to_param(&self) -> RedisParameter {
        match self {
            Arg::Str(s) => RedisParameter::Binary(s.as_bytes().to_vec()),
            Arg::Int(n) => RedisParameter::Int64(*n),
        }
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

/// One Redis connection for the duration of a request.
pub struct Redis {
    conn: Connection,
}

impl Redis {
    /// Opens a connection with the `redis_url` variable.
    pub fn open() -> Result<Self, crate::error::AppError> {
        let url = crate::config::redis_url()?;
        Ok(Self::open_url(&url)?)
    }

    pub fn open_url(url: &str) -> Result<Self, RedisError> {
        Connection::open(url)
            .map(|conn| Self { conn })
            .map_err(|e| RedisError::Connect(e.to_string()))
    }

    /// The underlying Spin connection, for the typed calls (`get`, `set`, `del`...).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs any command; `command` is the command name, `args` its arguments.
    pub fn execute(&self, command: &str, args: &[Arg<'_>]) -> Result<Vec<RedisResult>, RedisError> {
        let params: Vec<RedisParameter> = args.iter().map(Arg::to_param).collect();
        self.conn
            .execute(command, &params)
            .map_err(|e| RedisError::Command {
                command: command.to_owned(),
                why: e.to_string(),
            })
    }

    /// `GET key` as UTF-8 text.
    pub fn get_string(&self, key: &str) -> Result<Option<String>, RedisError> {
        let value = self.conn.get(key).map_err(|e| RedisError::Command {
            command: "GET".into(),
            why: e.to_string(),
        })?;
        Ok(value.map(|v| String::from_utf8_lossy(&v).into_owned()))
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

    /// `SET key value NX PX ms`: true when the key was set (a lock or a claim won).
    pub fn set_nx_px(&self, key: &str, value: &str, ttl_ms: i64) -> Result<bool, RedisError> {
        let reply = self.execute(
            "SET",
            &[
                Arg::Str(key),
                Arg::Str(value),
                Arg::Str("NX"),
                Arg::Str("PX"),
                Arg::Int(ttl_ms.max(1)),
            ],
        )?;
        // "OK" when set; nil (or, on hosts that drop nils, nothing) when the key existed.
        Ok(reply.iter().any(|r| {
            matches!(r, RedisResult::Status(s) if s == "OK")
                || matches!(r, RedisResult::Binary(b) if b == b"OK")
        }))
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
        Ok(reply
            .into_iter()
            .filter_map(|r| match r {
                RedisResult::Binary(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                RedisResult::Status(s) => Some(s),
                _ => None,
            })
            .collect())
    }

    /// `EVAL script numkeys keys... args...`. Scripts should return a flat array of
    /// integers or strings: the host flattens nested arrays.
    pub fn eval(
        &self,
        script: &str,
        keys: &[&str],
        args: &[Arg<'_>],
    ) -> Result<Vec<RedisResult>, RedisError> {
        let mut all = Vec::with_capacity(2 + keys.len() + args.len());
        all.push(Arg::Str(script));
        all.push(Arg::Int(keys.len() as i64));
        all.extend(keys.iter().map(|k| Arg::Str(k)));
        for a in args {
            all.push(match a {
                Arg::Str(s) => Arg::Str(s),
                Arg::Int(n) => Arg::Int(*n),
            });
        }
        self.execute("EVAL", &all)
    }

    /// `PING`: Ok when the server answers.
    pub fn ping(&self) -> Result<(), RedisError> {
        let reply = self.execute("PING", &[])?;
        let pong = reply.iter().any(|r| {
            matches!(r, RedisResult::Status(s) if s == "PONG")
                || matches!(r, RedisResult::Binary(b) if b == b"PONG")
        });
        if pong {
            Ok(())
        } else {
            Err(RedisError::Reply {
                command: "PING".into(),
                reply: format!("{reply:?}"),
            })
        }
    }

    /// Publishes `message` as JSON on `channel`.
    pub fn publish_json(&self, channel: &str, message: &impl Serialize) -> Result<(), RedisError> {
        let payload = serde_json::to_vec(message).map_err(|e| RedisError::Command {
            command: "PUBLISH".into(),
            why: e.to_string(),
        })?;
        self.conn
            .publish(channel, &payload)
            .map_err(|e| RedisError::Command {
                command: "PUBLISH".into(),
                why: e.to_string(),
            })
    }
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
}
