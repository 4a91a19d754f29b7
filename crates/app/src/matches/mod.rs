//! Match storage: the one code path that creates matches (used by
//! `POST /api/v1/matches` and by the matchmaking queue tick), the exactly-once result
//! transaction, and the read side (match page, history, timeline).
//!
//! # Layout
//! - [`create`]: validate a roster against the mode table and insert a `pending` match;
//! - [`result`]: apply a result once, under `SELECT ... FOR UPDATE` on the match row;
//! - [`effects`]: what a result writes beside ratings (feed, notifications,
//!   achievements) and what happens after commit (leaderboards, Redis events);
//! - [`read`]: match with participants, a player's history, the timeline.
//!
//! The rules themselves (rating, stats, tiers, achievements) are pure and live in
//! `rh-domain`.
//!
//! Functions take an open Spin MySQL connection (one per request, as Spin opens a new
//! connection per `open`) and return [`MatchError`], which handlers map to problems.

pub mod create;
pub mod effects;
pub mod read;
pub mod result;

use spin_sdk::mysql::{self, Decode, ParameterValue};

pub use create::{create_match, CreatedMatch, NewMatch};
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
    /// 422: field-level problems from the domain.
    #[error(transparent)]
    Domain(#[from] rh_domain::error::DomainError),
    /// 404: no such match.
    #[error("match not found")]
    NotFound,
    /// 409: the match already has a different result (or was voided).
    #[error("{0}")]
    Conflict(String),
    /// 500: storage failure.
    #[error("database: {0}")]
    Db(String),
}

impl From<mysql::Error> for MatchError {
    fn from(e: mysql::Error) -> Self {
        MatchError::Db(e.to_string())
    }
}
impl From<mysql::MysqlError> for MatchError {
    fn from(e: mysql::MysqlError) -> Self {
        MatchError::Db(e.to_string())
    }
}

/// A mode as stored in the `modes` table (modes are data).
pub fn load_mode(db: &mysql::Connection, name: &str) -> Result<rh_domain::modes::Mode, MatchError> {
    let rows = db.query(
        "SELECT name, teams, team_size FROM modes WHERE name = ?",
        &[ParameterValue::Str(name.to_string())],
    )?;
    let row = rows
        .rows
        .first()
        .ok_or_else(|| MatchError::UnknownMode(name.to_string()))?;
    Ok(rh_domain::modes::Mode {
        name: String::decode(&row[0])?,
        teams: u8::decode(&row[1])? as usize,
        team_size: u8::decode(&row[2])? as usize,
    })
}

/// Every mode name in the `modes` table.
pub fn mode_names(db: &mysql::Connection) -> Result<Vec<String>, MatchError> {
    let rows = db.query("SELECT name FROM modes ORDER BY name", &[])?;
    rows.rows
        .iter()
        .map(|r| String::decode(&r[0]).map_err(MatchError::from))
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

/// Runs `body` inside a transaction on `db`: commits on `Ok`, rolls back on `Err`.
pub(crate) fn in_transaction<T>(
    db: &mysql::Connection,
    body: impl FnOnce() -> Result<T, MatchError>,
) -> Result<T, MatchError> {
    db.execute("START TRANSACTION", &[])?;
    match body() {
        Ok(v) => {
            db.execute("COMMIT", &[])?;
            Ok(v)
        }
        Err(e) => {
            // A failed rollback leaves nothing committed either: the connection closes.
            let _ = db.execute("ROLLBACK", &[]);
            Err(e)
        }
    }
}

pub(crate) fn last_insert_id(db: &mysql::Connection) -> Result<u64, MatchError> {
    let rows = db.query("SELECT LAST_INSERT_ID()", &[])?;
    let row = rows
        .rows
        .first()
        .ok_or_else(|| MatchError::Db("LAST_INSERT_ID returned no row".into()))?;
    Ok(u64::decode(&row[0])?)
}
