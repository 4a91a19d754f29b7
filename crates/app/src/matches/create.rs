//! Creating matches: the single code path behind `POST /api/v1/matches` (a batch of one)
//! and the matchmaking tick (one batch per queue), so both validate rosters the same way.
//!
//! [`create_matches`] takes a batch: each match is validated on its own (mode, region,
//! roster, players exist), so one bad roster refuses that match only; every valid match
//! is then inserted in one transaction with multi-row INSERTs, a fixed number of MySQL
//! round trips whatever the batch size (see [`CHUNK_MATCHES`] for the limit). That the
//! players exist is left to the foreign key, which checks every row anyway; the users
//! are read only when the transaction fails, to tell which matches to refuse.
//!
//! Ids: a multi-row INSERT's AUTO_INCREMENT values are consecutive only in some
//! `innodb_autoinc_lock_mode`s, and Spin gives no insert id anyway. Each INSERT
//! statement therefore gets a random 128-bit `batch_key` and numbers its rows
//! (`batch_index`); one `SELECT id, batch_index ... WHERE batch_key = ?` maps them back,
//! correct in every lock mode (migration V5).

use std::collections::{HashMap, HashSet};

use rh_domain::modes::Mode;
use serde::{Deserialize, Serialize};
use spin_sdk::mysql::ParameterValue;

use rh_infra::db::Db;

use super::{in_transaction, placeholders, MatchError};

/// Matches per INSERT statement (and per read-back SELECT). Keeps each statement far
/// below `max_allowed_packet` and the 65,535 placeholders of a prepared statement,
/// and within `batch_index`'s SMALLINT UNSIGNED.
pub const CHUNK_MATCHES: usize = 500;
/// Participant rows per INSERT (three placeholders each).
const CHUNK_PARTICIPANTS: usize = 5_000;
/// User ids per existence check (one placeholder each).
const CHUNK_USERS: usize = 5_000;

/// What a game server (or the matchmaker) asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMatch {
    pub mode: String,
    pub region: String,
    /// Team index → user ids.
    pub teams: Vec<Vec<u64>>,
    /// What the matchmaker predicted; never taken from a request body.
    #[serde(skip)]
    pub prediction: Option<MatchPrediction>,
}

/// What the quality matcher predicted for a match it formed (stored on the match,
/// migration V6): its quality, each team's win probability, the draw probability and
/// the slowest player's latency to its region (when tickets reported latencies).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MatchPrediction {
    pub quality: f64,
    pub predicted_win: Vec<f64>,
    pub draw_probability: f64,
    pub worst_latency_ms: Option<u32>,
}

impl MatchPrediction {
    /// `predicted_win` as stored: comma-separated, 6 decimals.
    pub fn win_csv(&self) -> String {
        self.predicted_win
            .iter()
            .map(|p| format!("{p:.6}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Parses the stored `predicted_win` (None when malformed).
    pub fn parse_win_csv(csv: &str) -> Option<Vec<f64>> {
        csv.split(',').map(|p| p.trim().parse().ok()).collect()
    }
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

/// Creates one match: a batch of one, so `POST /api/v1/matches` and the tick share
/// every rule and statement.
pub fn create_match(
    db: &Db,
    new: NewMatch,
    regions: &[String],
    now_ms: i64,
) -> Result<CreatedMatch, MatchError> {
    create_match_recorded(db, new, regions, now_ms, |_, _| Ok(()))
}

/// [`create_match`] that also runs `record` inside the creating transaction with the
/// match as it will be answered, so what `record` writes (the idempotency record of
/// `POST /api/v1/matches`) commits with the match or not at all. When `record` fails,
/// nothing is created.
pub fn create_match_recorded(
    db: &Db,
    new: NewMatch,
    regions: &[String],
    now_ms: i64,
    record: impl Fn(&Db, &CreatedMatch) -> Result<(), MatchError>,
) -> Result<CreatedMatch, MatchError> {
    let answer = |id: u64| CreatedMatch {
        id,
        mode: new.mode.clone(),
        region: new.region.clone(),
        status: "pending".into(),
        teams: new.teams.clone(),
        created_at: now_ms,
    };
    let hook = |tx: &Db, ids: &[u64]| match ids {
        [id] => record(tx, &answer(*id)),
        _ => Ok(()),
    };
    create_batch(db, vec![new.clone()], regions, now_ms, &hook)?
        .pop()
        .unwrap_or_else(|| {
            Err(MatchError::Inconsistent(
                "a batch of one created nothing".into(),
            ))
        })
}

/// Validates every match of `batch` and inserts the valid ones, each `pending` with its
/// participants, in one transaction.
///
/// Returns one result per input match, in input order: the created match, or why that
/// match was refused (nothing of it was written). `Err` means the batch failed as a
/// whole (MySQL refused or the connection broke): nothing was written.
pub fn create_matches(
    db: &Db,
    batch: Vec<NewMatch>,
    regions: &[String],
    now_ms: i64,
) -> Result<Vec<Result<CreatedMatch, MatchError>>, MatchError> {
    create_batch(db, batch, regions, now_ms, &|_, _| Ok(()))
}

/// What runs inside the creating transaction after the inserts, with the new ids.
type InTransaction<'a> = dyn Fn(&Db, &[u64]) -> Result<(), MatchError> + 'a;

fn create_batch(
    db: &Db,
    batch: Vec<NewMatch>,
    regions: &[String],
    now_ms: i64,
    hook: &InTransaction<'_>,
) -> Result<Vec<Result<CreatedMatch, MatchError>>, MatchError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let modes = load_modes(db)?;
    let mut checked: Vec<Result<(Mode, NewMatch), MatchError>> = batch
        .into_iter()
        .map(|new| validate(&modes, regions, new))
        .collect();

    // The players are checked by the foreign key as their rows go in, so the common
    // case reads no users at all. Only when the transaction fails are the players looked
    // up: matches naming unknown users are refused and the rest tried once more.
    let ids = match insert_valid(db, &checked, now_ms, hook) {
        Ok(ids) => ids,
        Err(e) => {
            if refuse_unknown_users(db, &mut checked)? == 0 {
                return Err(e);
            }
            insert_valid(db, &checked, now_ms, hook)?
        }
    };

    let mut ids = ids.into_iter();
    Ok(checked
        .into_iter()
        .map(|slot| {
            let (mode, new) = slot?;
            let id = ids
                .next()
                .ok_or_else(|| MatchError::Inconsistent("fewer ids than matches".into()))?;
            Ok(CreatedMatch {
                id,
                mode: mode.name,
                region: new.region,
                status: "pending".into(),
                teams: new.teams,
                created_at: now_ms,
            })
        })
        .collect())
}

/// Inserts the matches still valid in one transaction; their ids in order.
fn insert_valid(
    db: &Db,
    checked: &[Result<(Mode, NewMatch), MatchError>],
    now_ms: i64,
    hook: &InTransaction<'_>,
) -> Result<Vec<u64>, MatchError> {
    let valid: Vec<&(Mode, NewMatch)> = checked.iter().flatten().collect();
    if valid.is_empty() {
        return Ok(Vec::new());
    }
    in_transaction(db, || {
        let ids = insert(db, &valid, now_ms)?;
        hook(db, &ids)?;
        Ok(ids)
    })
}

/// Refuses the matches that name users without an account (one look-up for the whole
/// batch); how many were refused.
fn refuse_unknown_users(
    db: &Db,
    checked: &mut [Result<(Mode, NewMatch), MatchError>],
) -> Result<usize, MatchError> {
    let players: Vec<u64> = checked
        .iter()
        .flatten()
        .flat_map(|(_, new)| new.teams.iter().flatten().copied())
        .collect::<HashSet<u64>>()
        .into_iter()
        .collect();
    let known = known_users(db, &players)?;
    let mut refused = 0;
    for slot in checked.iter_mut() {
        if let Ok((_, new)) = slot {
            let missing: Vec<u64> = new
                .teams
                .iter()
                .flatten()
                .copied()
                .filter(|u| !known.contains(u))
                .collect();
            if !missing.is_empty() {
                *slot = Err(MatchError::UnknownUsers(missing));
                refused += 1;
            }
        }
    }
    Ok(refused)
}

/// The checks that need no I/O, in the order `POST /api/v1/matches` reports them.
fn validate(
    modes: &[Mode],
    regions: &[String],
    new: NewMatch,
) -> Result<(Mode, NewMatch), MatchError> {
    let mode = modes
        .iter()
        .find(|m| m.name == new.mode)
        .cloned()
        .ok_or_else(|| MatchError::UnknownMode(new.mode.clone()))?;
    if !regions.contains(&new.region) {
        return Err(MatchError::UnknownRegion(new.region));
    }
    mode.validate_roster(&new.teams)?;
    Ok((mode, new))
}

/// Every mode of the `modes` table (a handful of rows: one read serves the batch).
fn load_modes(db: &Db) -> Result<Vec<Mode>, MatchError> {
    let rows = db.query("SELECT name, teams, team_size FROM modes", &[])?;
    rows.iter()
        .map(|row| {
            Ok(Mode {
                name: row.get("name")?,
                teams: row.get::<u8>("teams")? as usize,
                team_size: row.get::<u8>("team_size")? as usize,
            })
        })
        .collect()
}

/// The ids among `users` that have an account.
fn known_users(db: &Db, users: &[u64]) -> Result<HashSet<u64>, MatchError> {
    let mut found = HashSet::with_capacity(users.len());
    for chunk in users.chunks(CHUNK_USERS) {
        let sql = format!(
            "SELECT id FROM users WHERE id IN ({})",
            placeholders(chunk.len())
        );
        let params: Vec<ParameterValue> =
            chunk.iter().map(|u| ParameterValue::Uint64(*u)).collect();
        for row in db.query(&sql, &params)?.iter() {
            found.insert(row.get::<u64>("id")?);
        }
    }
    Ok(found)
}

/// Inserts the matches and their participants (inside the caller's transaction) and
/// returns their ids in input order.
fn insert(db: &Db, matches: &[&(Mode, NewMatch)], now_ms: i64) -> Result<Vec<u64>, MatchError> {
    let mut ids = Vec::with_capacity(matches.len());
    for chunk in matches.chunks(CHUNK_MATCHES) {
        let key = rh_infra::ids::random_bytes::<16>().to_vec();
        let mut sql = String::from(
            "INSERT INTO matches (mode, region, status, created_at_ms, batch_key, batch_index, \
             quality, predicted_win, draw_probability, worst_latency_ms) VALUES ",
        );
        let mut params = Vec::with_capacity(chunk.len() * 9);
        for (index, (mode, new)) in chunk.iter().enumerate() {
            if index > 0 {
                sql.push_str(", ");
            }
            sql.push_str("(?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)");
            params.extend([
                ParameterValue::Str(mode.name.clone()),
                ParameterValue::Str(new.region.clone()),
                ParameterValue::Int64(now_ms),
                ParameterValue::Binary(key.clone()),
                ParameterValue::Uint16(index as u16),
            ]);
            match &new.prediction {
                Some(p) => params.extend([
                    ParameterValue::Floating64(p.quality),
                    ParameterValue::Str(p.win_csv()),
                    ParameterValue::Floating64(p.draw_probability),
                    p.worst_latency_ms
                        .map_or(ParameterValue::DbNull, ParameterValue::Uint32),
                ]),
                None => params.extend(std::iter::repeat_n(ParameterValue::DbNull, 4)),
            }
        }
        db.execute(&sql, &params)?;
        ids.extend(read_back(db, key, chunk.len())?);
    }

    let rows: Vec<(u64, u64, u8)> = matches
        .iter()
        .zip(&ids)
        .flat_map(|((_, new), &id)| {
            new.teams
                .iter()
                .enumerate()
                .flat_map(move |(team, members)| {
                    members.iter().map(move |&user| (id, user, team as u8))
                })
        })
        .collect();
    for chunk in rows.chunks(CHUNK_PARTICIPANTS) {
        let mut sql =
            String::from("INSERT INTO match_participants (match_id, user_id, team) VALUES ");
        sql.push_str(&vec!["(?, ?, ?)"; chunk.len()].join(", "));
        let params: Vec<ParameterValue> = chunk
            .iter()
            .flat_map(|&(id, user, team)| {
                [
                    ParameterValue::Uint64(id),
                    ParameterValue::Uint64(user),
                    ParameterValue::Uint8(team),
                ]
            })
            .collect();
        db.execute(&sql, &params)?;
    }
    Ok(ids)
}

/// The ids of the `n` rows one INSERT wrote with `key`, by their `batch_index`.
fn read_back(db: &Db, key: Vec<u8>, n: usize) -> Result<Vec<u64>, MatchError> {
    let rows = db.query(
        "SELECT id, batch_index FROM matches WHERE batch_key = ?",
        &[ParameterValue::Binary(key)],
    )?;
    let mut by_index = HashMap::with_capacity(n);
    for row in rows.iter() {
        by_index.insert(
            row.get::<u16>("batch_index")? as usize,
            row.get::<u64>("id")?,
        );
    }
    (0..n)
        .map(|i| {
            by_index.get(&i).copied().ok_or_else(|| {
                MatchError::Inconsistent(format!("inserted match {i} of {n} not found"))
            })
        })
        .collect()
}
