//! Match storage: the one code path that creates matches (used by
//! `POST /api/v1/matches` and by the matchmaking queue tick), the exactly-once result
//! transaction, and the read side (match page, history, timeline).
//!
//! # Layout
//! - [`create`]: validate rosters against the mode table and insert `pending` matches,
//!   a batch at a time (the tick's batch per queue; `POST` sends a batch of one);
//! - [`result`]: apply a result once, under `SELECT ... FOR UPDATE` on the match row;
//! - [`effects`]: what a result writes beside ratings (feed, notifications,
//!   achievements) and what happens after commit (leaderboards, Redis events);
//! - [`read`]: match with participants, a player's history, the timeline;
//! - [`inbox`]: the feed, notifications and achievements a player reads.
//!
//! The rules themselves (rating, stats, tiers, achievements) are pure and live in
//! `rh-domain`.
//!
//! Functions take an open Spin MySQL connection (one per request, as Spin opens a new
//! connection per `open`) and return [`MatchError`], which handlers map to problems.

pub mod create;
pub mod effects;
pub mod inbox;
pub mod read;
pub mod result;

use spin_sdk::mysql::ParameterValue;

use rh_infra::db::{Db, DbError, IsDeadlock};

pub use create::{
    create_match, create_match_recorded, create_matches, CreatedMatch, MatchPrediction, NewMatch,
};
pub use read::{get_match, timeline, user_history, MatchView, ParticipantView, TimelineEvent};
pub use result::{apply_result, Applied, MatchResult, ParticipantResult, ResultBody};

/// Errors of match storage; each variant's doc names its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// 422: the mode is not in the `modes` table.
    #[error("unknown mode {0:?}")]
    UnknownMode(String),
    /// 422: the region is not configured.
    #[error("unknown region {0:?}")]
    UnknownRegion(String),
    /// 422: request fields that break the rules (roster shape, participants...).
    #[error("{0}")]
    Invalid(String),
    /// 422: players without an account (a batch refuses only the matches naming them).
    #[error("unknown users: {0:?}")]
    UnknownUsers(Vec<u64>),
    /// 422: field-level problems from the domain.
    #[error(transparent)]
    Domain(#[from] rh_domain::error::DomainError),
    /// 404: no such match (or user, or notification of this user).
    #[error("match not found")]
    NotFound,
    /// 409: the match already has a different result (or was voided).
    #[error("{0}")]
    Conflict(String),
    /// 500: the stored data broke an invariant the code relies on (a row just inserted
    /// is missing...).
    #[error("inconsistent match data: {0}")]
    Inconsistent(String),
    /// 500 (503 for a deadlock victim left after the retries): storage failure.
    #[error("database: {0}")]
    Db(#[from] DbError),
}

impl IsDeadlock for MatchError {
    fn is_deadlock(&self) -> bool {
        matches!(self, MatchError::Db(e) if e.is_deadlock())
    }
}

impl From<MatchError> for rh_infra::AppError {
    fn from(e: MatchError) -> Self {
        use rh_infra::AppError;
        match e {
            MatchError::UnknownMode(m) => {
                AppError::invalid_field("mode", format!("unknown mode {m:?}"))
            }
            MatchError::UnknownRegion(r) => {
                AppError::invalid_field("region", format!("unknown region {r:?}"))
            }
            MatchError::Invalid(why) => AppError::invalid_field("body", why),
            e @ MatchError::UnknownUsers(_) => AppError::invalid_field("body", e.to_string()),
            MatchError::Domain(d) => AppError::from(d),
            MatchError::NotFound => AppError::NotFound("not found".into()),
            MatchError::Conflict(why) => AppError::Conflict(why),
            MatchError::Db(e) => AppError::Db(e),
            e @ MatchError::Inconsistent(_) => AppError::internal(e),
        }
    }
}

/// A mode as stored in the `modes` table (modes are data).
pub fn load_mode(db: &Db, name: &str) -> Result<rh_domain::modes::Mode, MatchError> {
    let rows = db.query(
        "SELECT name, teams, team_size FROM modes WHERE name = ?",
        &[ParameterValue::Str(name.to_string())],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| MatchError::UnknownMode(name.to_string()))?;
    Ok(rh_domain::modes::Mode {
        name: row.get("name")?,
        teams: row.get::<u8>("teams")? as usize,
        team_size: row.get::<u8>("team_size")? as usize,
    })
}

/// Every mode name in the `modes` table.
pub fn mode_names(db: &Db) -> Result<Vec<String>, MatchError> {
    let rows = db.query("SELECT name FROM modes ORDER BY name", &[])?;
    rows.iter()
        .map(|r| r.get("name").map_err(MatchError::from))
        .collect()
}

/// `"win"`, `"loss"` or `"draw"`, as stored in `match_participants.result`.
pub fn outcome_str(o: rh_domain::stats::Outcome) -> &'static str {
    match o {
        rh_domain::stats::Outcome::Win => "win",
        rh_domain::stats::Outcome::Loss => "loss",
        rh_domain::stats::Outcome::Draw => "draw",
    }
}

/// `?, ?, ?` for an IN list of `n` values.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Runs `body` inside a transaction on `db`: commits on `Ok`, rolls back on `Err`, and
/// runs it again when InnoDB picked it as a deadlock victim ([`Db::transaction_retrying`]).
pub(crate) fn in_transaction<T>(
    db: &Db,
    mut body: impl FnMut() -> Result<T, MatchError>,
) -> Result<T, MatchError> {
    db.transaction_retrying(|_| body())
}
