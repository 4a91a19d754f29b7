//! Business metrics (`GET /api/v1/metrics`): what the platform did, in Prometheus
//! format, from state every replica shares, so the numbers are the same on rh-runtime,
//! real Spin and SpinKube, whichever replica a scrape reaches.
//!
//! - **Counters** live in one Redis hash, [`COUNTERS_KEY`], one field per series
//!   ([`Counter::field`]), bumped with `HINCRBY` after the work they count has committed.
//!   A failed bump is logged and never fails the request: a metric is not worth a lost
//!   result. If Redis loses its data the counters restart at 0, which Prometheus reads
//!   as a counter reset (`rate()` and `increase()` handle it).
//! - **Gauges** are read at scrape time: queue depth and waits from the queues
//!   themselves ([`crate::queue::overview`]), the season from MySQL.
//!
//! Every label value is a mode, region or status code the app already validated, so
//! the number of series is bounded by the configuration, never by traffic.

pub mod exposition;

use std::collections::BTreeMap;

use rh_infra::db::Db;
use rh_infra::redis::{Arg, Redis, Script};
use rh_infra::AppError;

use crate::queue::overview;
use exposition::{Family, Kind, Sample};

/// The Redis hash of every counter.
pub const COUNTERS_KEY: &str = "metrics:counters";

/// What a result `PUT` came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultOutcome {
    /// Applied by this call.
    Applied,
    /// Answered from an earlier application (a retry).
    Replayed,
    /// Refused with a 4xx or 5xx.
    Refused,
}

impl ResultOutcome {
    fn as_str(self) -> &'static str {
        match self {
            ResultOutcome::Applied => "applied",
            ResultOutcome::Replayed => "replayed",
            ResultOutcome::Refused => "refused",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "applied" => ResultOutcome::Applied,
            "replayed" => ResultOutcome::Replayed,
            "refused" => ResultOutcome::Refused,
            _ => return None,
        })
    }
}

/// One counted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counter {
    /// A match was created (by `POST /matches` or by the queue tick), in a mode.
    MatchCreated(String),
    /// A match's result was applied: the match completed, in a mode.
    MatchCompleted(String),
    /// A result `PUT` was answered, with its HTTP status.
    Result(ResultOutcome, u16),
}

impl Counter {
    /// The hash field: `created:{mode}`, `completed:{mode}`, `result:{outcome}:{status}`.
    pub fn field(&self) -> String {
        match self {
            Counter::MatchCreated(mode) => format!("created:{mode}"),
            Counter::MatchCompleted(mode) => format!("completed:{mode}"),
            Counter::Result(outcome, status) => format!("result:{}:{status}", outcome.as_str()),
        }
    }

    /// The inverse of [`Counter::field`]; `None` for a field this version does not know.
    pub fn parse(field: &str) -> Option<Self> {
        let (kind, rest) = field.split_once(':')?;
        match kind {
            "created" => Some(Counter::MatchCreated(rest.to_owned())),
            "completed" => Some(Counter::MatchCompleted(rest.to_owned())),
            "result" => {
                let (outcome, status) = rest.split_once(':')?;
                Some(Counter::Result(
                    ResultOutcome::parse(outcome)?,
                    status.parse().ok()?,
                ))
            }
            _ => None,
        }
    }
}

/// KEYS[1]: the hash; ARGV: field, increment, field, increment, ...
const BUMP: Script = Script::new(
    "metrics.bump",
    r#"
for i = 1, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
return #ARGV / 2
"#,
);

/// Adds one per counter (repeats add up), in one round trip; logs a failure.
pub fn count(redis: &Redis, counters: &[Counter]) {
    if counters.is_empty() {
        return;
    }
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for c in counters {
        *totals.entry(c.field()).or_default() += 1;
    }
    let args: Vec<String> = totals
        .into_iter()
        .flat_map(|(field, n)| [field, n.to_string()])
        .collect();
    if let Err(e) = redis.eval(&BUMP, &[COUNTERS_KEY], &Arg::all(&args)) {
        rh_infra::log_warn!("metrics not counted: {e}");
    }
}

/// Every family `GET /api/v1/metrics` serves, read now.
pub fn snapshot(
    db: &Db,
    redis: &Redis,
    regions: &[String],
    now_ms: i64,
) -> Result<Vec<Family>, AppError> {
    let counters = redis
        .execute("HGETALL", &[Arg::Str(COUNTERS_KEY)])?
        .strings();
    let pairs = counters
        .chunks_exact(2)
        .map(|kv| (kv[0].as_str(), kv[1].parse::<f64>().unwrap_or(0.0)));
    let mut families = counter_families(pairs);
    families.extend(queue_families(&overview::overview(
        db, redis, regions, now_ms,
    )?));
    families.extend(season_families(db)?);
    Ok(families)
}

/// The counter families from the hash's (field, value) pairs; unknown fields are skipped.
pub fn counter_families<'a>(pairs: impl Iterator<Item = (&'a str, f64)>) -> Vec<Family> {
    let mut created = Family::new(
        "rh_matches_created_total",
        "Matches created, by POST /api/v1/matches or the queue tick.",
        Kind::Counter,
    );
    let mut completed = Family::new(
        "rh_matches_completed_total",
        "Matches whose result was applied.",
        Kind::Counter,
    );
    let mut results = Family::new(
        "rh_results_total",
        "Result PUTs answered: applied, replayed (a retry of an applied result) or refused, with the HTTP status.",
        Kind::Counter,
    );
    let mut sorted: Vec<(Counter, f64)> = pairs
        .filter_map(|(field, v)| Counter::parse(field).map(|c| (c, v)))
        .collect();
    sorted.sort_by_key(|(c, _)| c.field());
    for (counter, value) in sorted {
        match counter {
            Counter::MatchCreated(mode) => created.samples.push(mode_sample(mode, value)),
            Counter::MatchCompleted(mode) => completed.samples.push(mode_sample(mode, value)),
            Counter::Result(outcome, status) => results.samples.push(Sample::new(
                vec![
                    ("outcome", outcome.as_str().to_owned()),
                    ("status", status.to_string()),
                ],
                value,
            )),
        }
    }
    vec![created, completed, results]
}

fn mode_sample(mode: String, value: f64) -> Sample {
    Sample::new(vec![("mode", mode)], value)
}

/// Queue depth and waits per mode × region.
pub fn queue_families(overview: &overview::Overview) -> Vec<Family> {
    let mut depth = Family::new(
        "rh_queue_depth",
        "Eligible tickets waiting (a party is one ticket).",
        Kind::Gauge,
    );
    let mut oldest = Family::new(
        "rh_queue_oldest_wait_seconds",
        "How long the oldest eligible ticket has waited; 0 when the queue is empty.",
        Kind::Gauge,
    );
    let mut estimated = Family::new(
        "rh_queue_estimated_wait_seconds",
        "The wait a join is told now (recent waits, capped by the quality schedule); absent before the first match.",
        Kind::Gauge,
    );
    for q in &overview.queues {
        let labels = || vec![("mode", q.mode.clone()), ("region", q.region.clone())];
        depth.samples.push(Sample::new(labels(), q.tickets as f64));
        oldest
            .samples
            .push(Sample::new(labels(), q.oldest_wait_s.unwrap_or(0) as f64));
        if let Some(w) = q.estimated_wait_s {
            estimated.samples.push(Sample::new(labels(), w as f64));
        }
    }
    vec![depth, oldest, estimated]
}

/// The active season and the rollover's progress.
fn season_families(db: &Db) -> Result<Vec<Family>, AppError> {
    let rows = db.query(
        "SELECT id, status, rollover_started_at_ms FROM seasons \
         WHERE status IN ('active', 'rolling') ORDER BY id",
        &[],
    )?;
    let mut seasons = Vec::new();
    for row in rows.iter() {
        seasons.push((
            row.get::<u64>("id")?,
            row.get::<String>("status")?,
            row.get::<Option<i64>>("rollover_started_at_ms")?,
        ));
    }
    Ok(season_families_of(&seasons))
}

/// [`season_families`] from (id, status, rollover started ms) rows.
pub fn season_families_of(seasons: &[(u64, String, Option<i64>)]) -> Vec<Family> {
    let mut active = Family::new(
        "rh_season_active",
        "1 for the season results count for now.",
        Kind::Gauge,
    );
    let mut rolling = Family::new(
        "rh_season_rollover_in_progress",
        "1 while a season's rollover (soft reset of every player) has not finished.",
        Kind::Gauge,
    );
    let mut started = Family::new(
        "rh_season_rollover_started_seconds",
        "When the unfinished rollover started (unix seconds); absent when none runs.",
        Kind::Gauge,
    );
    let mut in_progress = 0.0;
    for (id, status, started_ms) in seasons {
        match status.as_str() {
            "active" => active
                .samples
                .push(Sample::new(vec![("season_id", id.to_string())], 1.0)),
            _ => {
                in_progress = 1.0;
                if let Some(ms) = started_ms {
                    started.samples.push(Sample::new(
                        vec![("season_id", id.to_string())],
                        (*ms / 1000) as f64,
                    ));
                }
            }
        }
    }
    rolling.samples.push(Sample::bare(in_progress));
    vec![active, rolling, started]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_fields_round_trip() {
        for c in [
            Counter::MatchCreated("2v2".into()),
            Counter::MatchCompleted("1v1".into()),
            Counter::Result(ResultOutcome::Refused, 409),
        ] {
            assert_eq!(Counter::parse(&c.field()), Some(c));
        }
        assert_eq!(Counter::parse("result:bogus:200"), None);
        assert_eq!(Counter::parse("nope"), None);
    }

    #[test]
    fn counters_render_by_family_and_skip_unknown_fields() {
        let text = exposition::render(&counter_families(
            [
                ("result:refused:409", 2.0),
                ("created:2v2", 5.0),
                ("future:thing", 9.0),
                ("completed:2v2", 4.0),
            ]
            .into_iter(),
        ));
        assert!(text.contains("rh_matches_created_total{mode=\"2v2\"} 5\n"));
        assert!(text.contains("rh_matches_completed_total{mode=\"2v2\"} 4\n"));
        assert!(text.contains("rh_results_total{outcome=\"refused\",status=\"409\"} 2\n"));
        assert!(!text.contains("future"));
    }

    #[test]
    fn a_rolling_season_reports_its_start() {
        let text = exposition::render(&season_families_of(&[
            (3, "rolling".into(), Some(1_700_000_000_999)),
            (4, "active".into(), None),
        ]));
        assert!(text.contains("rh_season_active{season_id=\"4\"} 1\n"));
        assert!(text.contains("rh_season_rollover_in_progress 1\n"));
        assert!(text.contains("rh_season_rollover_started_seconds{season_id=\"3\"} 1700000000\n"));
        let idle = exposition::render(&season_families_of(&[(4, "active".into(), None)]));
        assert!(idle.contains("rh_season_rollover_in_progress 0\n"));
    }
}
