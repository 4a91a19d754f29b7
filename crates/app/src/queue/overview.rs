//! The queue overview (`GET /api/v1/matchmaking/queues`): for every mode × region, the
//! eligible tickets waiting, how long the oldest has waited, and the wait estimate a
//! join would return. One `EVAL` reads every queue, so it costs one Redis round trip
//! whatever the number of queues (plus the modes from MySQL).

use rh_infra::db::Db;
use rh_infra::redis::{Arg, Redis, Script};
use serde::Serialize;
use spin_sdk::redis::RedisResult;

use super::error::QueueError;
use super::{db as queue_db, keys, WAITS_KEPT};

/// One queue's numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueSize {
    pub mode: String,
    pub region: String,
    /// Eligible tickets (a party is one ticket; pending parties are not counted).
    pub tickets: u64,
    /// How long the oldest eligible ticket has waited; `None` when the queue is empty.
    pub oldest_wait_s: Option<u64>,
    /// Mean of the last [`WAITS_KEPT`] waits capped by the mode's time to the quality
    /// floor, as `POST /queue` reports it.
    pub estimated_wait_s: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub modes: Vec<String>,
    pub regions: Vec<String>,
    pub queues: Vec<QueueSize>,
}

/// KEYS: queue, waits, queue, waits, ... ARGV[1]: waits to average. Four integers per
/// queue: tickets, the oldest score (joined ms, -1 when empty), waits read, their sum.
const SCRIPT: Script = Script::new(
    "queue.overview",
    r#"
local out = {}
for i = 1, #KEYS, 2 do
  local n = redis.call('ZCARD', KEYS[i])
  local oldest = -1
  if n > 0 then oldest = tonumber(redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')[2]) end
  local waits = redis.call('LRANGE', KEYS[i + 1], 0, tonumber(ARGV[1]) - 1)
  local sum = 0
  for _, w in ipairs(waits) do sum = sum + (tonumber(w) or 0) end
  out[#out + 1] = n
  out[#out + 1] = oldest
  out[#out + 1] = #waits
  out[#out + 1] = sum
end
return out
"#,
);

/// Every queue of every mode and `regions`, by mode then region.
pub fn overview(
    db: &Db,
    redis: &Redis,
    regions: &[String],
    now_ms: i64,
) -> Result<Overview, QueueError> {
    let modes: Vec<String> = queue_db::modes(db)?.into_iter().map(|m| m.name).collect();
    let pairs: Vec<(String, String)> = modes
        .iter()
        .flat_map(|m| regions.iter().map(move |r| (m.clone(), r.clone())))
        .collect();
    let keys: Vec<String> = pairs
        .iter()
        .flat_map(|(m, r)| [keys::queue(m, r), keys::waits(m, r)])
        .collect();
    let reply = redis.eval(&SCRIPT, &keys, &[Arg::Uint(WAITS_KEPT as u64)])?;
    let mut queues = decode(&pairs, reply.values(), now_ms)?;
    // Capped by each mode's schedule, as a join's estimate is.
    let settings = queue_db::quality_settings(db)?;
    for q in &mut queues {
        let cap = queue_db::settings_of(&settings, &q.mode).max_expected_wait_s();
        q.estimated_wait_s = q.estimated_wait_s.map(|w| w.min(cap));
    }
    Ok(Overview {
        modes,
        regions: regions.to_vec(),
        queues,
    })
}

/// The script's flat reply, four integers per queue, into [`QueueSize`]s.
fn decode(
    pairs: &[(String, String)],
    reply: &[RedisResult],
    now_ms: i64,
) -> Result<Vec<QueueSize>, QueueError> {
    let ints: Vec<i64> = reply
        .iter()
        .map(|v| match v {
            RedisResult::Int64(n) => Ok(*n),
            other => Err(QueueError::Corrupt(format!(
                "queue overview: expected integers, got {other:?}"
            ))),
        })
        .collect::<Result<_, _>>()?;
    if ints.len() != 4 * pairs.len() {
        return Err(QueueError::Corrupt(format!(
            "queue overview: {} values for {} queues",
            ints.len(),
            pairs.len()
        )));
    }
    Ok(pairs
        .iter()
        .zip(ints.chunks(4))
        .map(|((mode, region), v)| QueueSize {
            mode: mode.clone(),
            region: region.clone(),
            tickets: v[0].max(0) as u64,
            oldest_wait_s: (v[1] >= 0).then(|| ((now_ms - v[1]).max(0) as u64) / 1000),
            // Rounded like `store::estimated_wait_s`.
            estimated_wait_s: (v[2] > 0).then(|| ((v[3] / v[2]).max(0) as u64 + 500) / 1000),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs() -> Vec<(String, String)> {
        vec![("1v1".into(), "eu".into()), ("1v1".into(), "na".into())]
    }

    #[test]
    fn an_empty_queue_has_no_oldest_wait_and_no_estimate_before_any_match() {
        let reply = [0, -1, 0, 0, 0, -1, 0, 0].map(RedisResult::Int64);
        let q = decode(&pairs(), &reply, 10_000).unwrap();
        assert_eq!(q[0].tickets, 0);
        assert_eq!(q[0].oldest_wait_s, None);
        assert_eq!(q[0].estimated_wait_s, None);
    }

    #[test]
    fn waits_are_whole_seconds_and_the_estimate_is_the_rounded_mean() {
        // eu: 3 tickets, the oldest joined 42.9 s ago; two waits of 1 s and 2 s (mean 1.5 s).
        let reply = [3, 57_100, 2, 3_000, 1, 99_000, 1, 400].map(RedisResult::Int64);
        let q = decode(&pairs(), &reply, 100_000).unwrap();
        assert_eq!(
            q[0],
            QueueSize {
                mode: "1v1".into(),
                region: "eu".into(),
                tickets: 3,
                oldest_wait_s: Some(42),
                estimated_wait_s: Some(2),
            }
        );
        assert_eq!(q[1].oldest_wait_s, Some(1));
        assert_eq!(q[1].estimated_wait_s, Some(0));
    }

    #[test]
    fn a_short_reply_is_an_error_not_a_wrong_table() {
        let reply = [1, 2, 3].map(RedisResult::Int64);
        assert!(decode(&pairs(), &reply, 0).is_err());
    }
}
