//! Sliding-window rate limits in Redis, shared by every runtime.
//!
//! Each limited key (`rl:{scope}:{client}`) is a sorted set of request timestamps in
//! milliseconds. One Lua script, run with `EVAL`, drops the entries older than the window,
//! counts the rest and either records this request or reports when the oldest entry leaves
//! the window. Redis runs a script atomically, so concurrent requests on several runtimes
//! cannot both take the last slot, and the script reads Redis's own clock (`TIME`) so
//! runtimes with skewed clocks agree.

use crate::error::AppError;
use crate::redis::{reply_int, Arg, Redis, RedisError, Reply, Script};

/// The script: returns `{1, 0}` when allowed, `{0, retry_after_ms}` when limited.
const SLIDING_WINDOW: Script = Script::new(
    "sliding_window",
    r#"
local key = KEYS[1]
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local member = ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local retry = tonumber(oldest[2]) + window - now
if retry < 1 then retry = 1 end
return {0, retry}
"#,
);

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Refused; the client may retry after this many seconds (at least 1).
    Limited {
        retry_after_secs: u64,
    },
}

/// Parses the script's `{allowed, retry_after_ms}` reply.
fn decide(reply: &Reply) -> Option<Decision> {
    let reply = reply.values();
    let allowed = reply_int(reply.first()?)?;
    if allowed == 1 {
        return Some(Decision::Allowed);
    }
    let retry_ms = reply.get(1).and_then(reply_int).unwrap_or(1000).max(1);
    Some(Decision::Limited {
        retry_after_secs: (retry_ms as u64).div_ceil(1000),
    })
}

/// Records one request under `key` unless `limit` were already made in the last
/// `window_ms`.
pub fn check(redis: &Redis, key: &str, limit: u32, window_ms: i64) -> Result<Decision, RedisError> {
    let member = crate::ids::random_id();
    let reply = redis.eval(
        &SLIDING_WINDOW,
        &[key],
        &[
            Arg::Int(window_ms),
            Arg::Int(limit as i64),
            Arg::Str(&member),
        ],
    )?;
    decide(&reply).ok_or_else(|| RedisError::Reply {
        command: SLIDING_WINDOW.name.into(),
        reply: format!("{:?}", reply.values()),
    })
}

/// [`check`] as a guard: `Err(AppError::RateLimited)` when over the limit.
pub fn enforce(redis: &Redis, key: &str, limit: u32, window_ms: i64) -> Result<(), AppError> {
    match check(redis, key, limit, window_ms)? {
        Decision::Allowed => Ok(()),
        Decision::Limited { retry_after_secs } => Err(AppError::RateLimited { retry_after_secs }),
    }
}

/// The Redis key of `scope` (e.g. `auth`) for one client.
pub fn key(scope: &str, client: &str) -> String {
    format!("rl:{scope}:{client}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::redis::RedisResult;

    #[test]
    fn replies_are_decoded_and_retry_after_rounds_up() {
        assert_eq!(
            decide(&Reply(vec![RedisResult::Int64(1), RedisResult::Int64(0)])),
            Some(Decision::Allowed)
        );
        assert_eq!(
            decide(&Reply(vec![
                RedisResult::Int64(0),
                RedisResult::Int64(1001)
            ])),
            Some(Decision::Limited {
                retry_after_secs: 2
            })
        );
        assert_eq!(
            decide(&Reply(vec![RedisResult::Int64(0), RedisResult::Int64(1)])),
            Some(Decision::Limited {
                retry_after_secs: 1
            })
        );
        assert_eq!(decide(&Reply(vec![])), None);
    }
}
