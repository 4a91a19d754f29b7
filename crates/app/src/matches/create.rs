//! Creating a match: the single code path behind `POST /api/v1/matches` and the
//! matchmaking tick, so both validate rosters the same way.

use serde::{Deserialize, Serialize};
use spin_sdk::mysql::ParameterValue;

use crate::db::Db;

use super::{in_transaction, last_insert_id, load_mode, placeholders, MatchError};

/// What a game server (or the matchmaker) asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMatch {
    pub mode: String,
    pub region: String,
    /// Team index → user ids.
    pub teams: Vec<Vec<u64>>,
}

/// The created match, as `POST /api/v1/matches` returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CreatedMatch {
    pub id: u64,
    pub mode: String,
    pub region: String,
    pub status: String,
    pub teams: Vec<Vec<u64>>,
    /// Epoch milliseconds.
    pub created_at: i64,
}

/// Validates mode, region and roster, checks every player exists, and inserts the
/// match with its participants in one transaction.
pub fn create_match(
    db: &Db,
    new: NewMatch,
    regions: &[String],
    now_ms: i64,
) -> Result<CreatedMatch, MatchError> {
    let mode = load_mode(db, &new.mode)?;
    if !regions.contains(&new.region) {
        return Err(MatchError::UnknownRegion(new.region));
    }
    mode.validate_roster(&new.teams)?;

    let players: Vec<u64> = new.teams.iter().flatten().copied().collect();
    let missing = unknown_users(db, &players)?;
    if !missing.is_empty() {
        return Err(MatchError::Invalid(format!("unknown users: {missing:?}")));
    }

    let id = in_transaction(db, || {
        db.execute(
            "INSERT INTO matches (mode, region, status, created_at_ms) VALUES (?, ?, 'pending', ?)",
            &[
                ParameterValue::Str(mode.name.clone()),
                ParameterValue::Str(new.region.clone()),
                ParameterValue::Int64(now_ms),
            ],
        )?;
        let id = last_insert_id(db)?;
        let mut sql =
            String::from("INSERT INTO match_participants (match_id, user_id, team) VALUES ");
        let mut params = Vec::with_capacity(players.len() * 3);
        for (team, members) in new.teams.iter().enumerate() {
            for user in members {
                if !params.is_empty() {
                    sql.push_str(", ");
                }
                sql.push_str("(?, ?, ?)");
                params.push(ParameterValue::Uint64(id));
                params.push(ParameterValue::Uint64(*user));
                params.push(ParameterValue::Uint8(team as u8));
            }
        }
        db.execute(&sql, &params)?;
        Ok(id)
    })?;

    Ok(CreatedMatch {
        id,
        mode: mode.name,
        region: new.region,
        status: "pending".into(),
        teams: new.teams,
        created_at: now_ms,
    })
}

/// The ids among `users` that have no account, in input order.
fn unknown_users(db: &Db, users: &[u64]) -> Result<Vec<u64>, MatchError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id FROM users WHERE id IN ({})",
        placeholders(users.len())
    );
    let params: Vec<ParameterValue> = users.iter().map(|u| ParameterValue::Uint64(*u)).collect();
    let rows = db.query(&sql, &params)?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        found.push(row.get::<u64>("id")?);
    }
    Ok(users
        .iter()
        .copied()
        .filter(|u| !found.contains(u))
        .collect())
}
