//! Thin typed wrappers over Spin's Redis `execute` for the queue's scripts and reads.

use spin_sdk::redis::{Connection as Redis, RedisParameter, RedisResult};

use super::error::QueueError;
use super::scripts::Script;

fn bin(s: impl AsRef<[u8]>) -> RedisParameter {
    RedisParameter::Binary(s.as_ref().to_vec())
}

/// Runs a script with `EVAL` and returns Redis's (flattened) reply.
pub fn eval(
    redis: &Redis,
    script: Script,
    keys: &[String],
    args: &[String],
) -> Result<Vec<RedisResult>, QueueError> {
    let mut params = Vec::with_capacity(2 + keys.len() + args.len());
    params.push(bin(script.source()));
    params.push(RedisParameter::Int64(keys.len() as i64));
    params.extend(keys.iter().map(bin));
    params.extend(args.iter().map(bin));
    redis
        .execute("EVAL", &params)
        .map_err(|e| QueueError::Redis(format!("{script:?} script: {e}")))
}

/// A script reply read as one optional string (nil → `None`).
pub fn eval_string(
    redis: &Redis,
    script: Script,
    keys: &[String],
    args: &[String],
) -> Result<Option<String>, QueueError> {
    let reply = eval(redis, script, keys, args)?;
    Ok(match reply.into_iter().next() {
        None | Some(RedisResult::Nil) => None,
        Some(RedisResult::Binary(b)) => Some(String::from_utf8_lossy(&b).into_owned()),
        Some(RedisResult::Status(s)) => Some(s),
        Some(RedisResult::Int64(i)) => Some(i.to_string()),
    })
}

/// A script reply read as an integer.
pub fn eval_int(
    redis: &Redis,
    script: Script,
    keys: &[String],
    args: &[String],
) -> Result<i64, QueueError> {
    match eval(redis, script, keys, args)?.into_iter().next() {
        Some(RedisResult::Int64(i)) => Ok(i),
        other => Err(QueueError::Redis(format!(
            "{script:?} script: expected an integer, got {other:?}"
        ))),
    }
}

/// Any command whose reply is a list of bulk strings (`LRANGE`...).
pub fn strings(redis: &Redis, cmd: &str, args: &[String]) -> Result<Vec<String>, QueueError> {
    let params: Vec<RedisParameter> = args.iter().map(bin).collect();
    let reply = redis
        .execute(cmd, &params)
        .map_err(|e| QueueError::Redis(format!("{cmd}: {e}")))?;
    Ok(reply
        .into_iter()
        .filter_map(|r| match r {
            RedisResult::Binary(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            RedisResult::Status(s) => Some(s),
            RedisResult::Int64(i) => Some(i.to_string()),
            RedisResult::Nil => None,
        })
        .collect())
}

/// `SET key value NX PX ttl`: true when this caller got the key.
pub fn set_nx_px(redis: &Redis, key: &str, value: &str, ttl_ms: u64) -> Result<bool, QueueError> {
    let reply = redis
        .execute(
            "SET",
            &[
                bin(key),
                bin(value),
                bin("NX"),
                bin("PX"),
                RedisParameter::Int64(ttl_ms as i64),
            ],
        )
        .map_err(|e| QueueError::Redis(format!("SET NX: {e}")))?;
    Ok(matches!(
        reply.first(),
        Some(RedisResult::Status(_)) | Some(RedisResult::Binary(_))
    ))
}

/// Publishes a JSON payload on a channel.
pub fn publish(
    redis: &Redis,
    channel: &str,
    payload: &serde_json::Value,
) -> Result<(), QueueError> {
    redis
        .publish(channel, &payload.to_string().into_bytes())
        .map_err(|e| QueueError::Redis(format!("PUBLISH {channel}: {e}")))
}

/// `INCR`, used to hand out ticket ids.
pub fn incr(redis: &Redis, key: &str) -> Result<u64, QueueError> {
    redis
        .incr(key)
        .map(|v| v as u64)
        .map_err(|e| QueueError::Redis(format!("INCR {key}: {e}")))
}
