//! Changing the schedule (admin routes): create, reschedule, end early. Each change
//! locks every `seasons` row, plans the new timeline with the domain's rules
//! (`rh_domain::seasons::plan_*`), and writes only the windows that moved, in one
//! transaction; the tick's cached view of the active season is dropped after commit.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use spin_sdk::mysql::ParameterValue;

use rh_domain::seasons::{self as rules, ModeSettings, Reschedule, Window};
use rh_infra::db::Db;
use rh_infra::params;
use rh_infra::problem::FieldError;
use rh_infra::redis::Redis;

use super::{get, rollover, Season, SeasonError};

/// `null` → `Some(None)` (open-ended), absent → `None` (keep), value → `Some(Some(v))`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// `POST /api/v1/admin/seasons`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub name: String,
    pub starts_at: i64,
    /// Absent or `null`: open-ended.
    #[serde(default)]
    pub ends_at: Option<i64>,
    /// Settings per mode; a mode left out gets the defaults.
    #[serde(default)]
    pub modes: BTreeMap<String, ModeSettings>,
}

/// `PATCH /api/v1/admin/seasons/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub starts_at: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    pub ends_at: Option<Option<i64>>,
    /// Fields of the modes' settings to change (fields and modes not named keep theirs).
    #[serde(default)]
    pub modes: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

/// `current` with the fields of `patch` applied, or what is wrong with them.
fn merged(
    mode: &str,
    current: &ModeSettings,
    patch: &serde_json::Map<String, serde_json::Value>,
) -> Result<ModeSettings, FieldError> {
    let mut value = serde_json::to_value(current).expect("settings serialise");
    if let Some(fields) = value.as_object_mut() {
        fields.extend(patch.clone());
    }
    serde_json::from_value(value)
        .map_err(|e| FieldError::new(format!("modes.{mode}"), e.to_string()))
}

fn check_name(name: &str, errors: &mut Vec<FieldError>) {
    let n = name.trim().chars().count();
    if n == 0 || n > rules::MAX_NAME_CHARS {
        errors.push(FieldError::new(
            "name",
            format!("must be 1 to {} characters", rules::MAX_NAME_CHARS),
        ));
    }
}

/// Checks mode names against the install's modes and each mode's settings.
fn check_modes(
    known: &[String],
    modes: &BTreeMap<String, ModeSettings>,
    errors: &mut Vec<FieldError>,
) {
    for (mode, settings) in modes {
        if !known.contains(mode) {
            errors.push(FieldError::new(
                format!("modes.{mode}"),
                format!("unknown mode (known: {})", known.join(", ")),
            ));
        } else if let Err(bad) = settings.check() {
            for (field, message) in bad {
                errors.push(FieldError::new(format!("modes.{mode}.{field}"), message));
            }
        }
    }
}

fn known_modes(db: &Db) -> Result<Vec<String>, SeasonError> {
    Ok(db
        .query("SELECT name FROM modes ORDER BY name", &[])?
        .iter()
        .map(|r| r.get("name"))
        .collect::<Result<_, _>>()?)
}

/// Every season's window, under an exclusive lock on every row (schedule changes and
/// the rollover's claim run one at a time).
fn lock_windows(db: &Db) -> Result<Vec<Window>, SeasonError> {
    let rows = db.query(
        "SELECT id, starts_at_ms, ends_at_ms, status FROM seasons ORDER BY starts_at_ms, id FOR UPDATE",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let status: String = r.get("status")?;
            Ok(Window {
                id: r.get("id")?,
                starts_at: r.get("starts_at_ms")?,
                ends_at: r.get("ends_at_ms")?,
                closed: matches!(status.as_str(), "rolling" | "ended"),
            })
        })
        .collect()
}

/// Writes the windows of `planned` that differ from `before` (new ones are inserted by
/// the caller).
fn write_moved(db: &Db, before: &[Window], planned: &[Window]) -> Result<(), SeasonError> {
    for p in planned {
        let Some(b) = before.iter().find(|b| b.id == p.id) else {
            continue;
        };
        if (b.starts_at, b.ends_at) != (p.starts_at, p.ends_at) {
            db.execute(
                "UPDATE seasons SET starts_at_ms = ?, ends_at_ms = ? WHERE id = ?",
                &[
                    ParameterValue::Int64(p.starts_at),
                    p.ends_at
                        .map(ParameterValue::Int64)
                        .unwrap_or(ParameterValue::DbNull),
                    ParameterValue::Uint64(p.id),
                ],
            )?;
        }
    }
    Ok(())
}

/// Stores `settings` for `(season, mode)`, replacing what was there.
pub(super) fn write_settings(
    db: &Db,
    season_id: u64,
    mode: &str,
    s: &ModeSettings,
) -> Result<(), SeasonError> {
    db.execute(
        "INSERT INTO season_modes (season_id, mode, placement_games, soft_reset_k, reward_top_ranks) \
         VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE placement_games = VALUES(placement_games), \
         soft_reset_k = VALUES(soft_reset_k), reward_top_ranks = VALUES(reward_top_ranks)",
        &params![season_id, mode, s.placement_games, s.soft_reset_k, s.top_ranks_text()],
    )?;
    Ok(())
}

fn invalid(errors: Vec<FieldError>) -> Result<(), SeasonError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SeasonError::Invalid(errors))
    }
}

/// Schedules a new season after the last one (closing an open-ended last season at
/// the new start).
pub fn create(
    db: &Db,
    redis: &Redis,
    body: CreateBody,
    now_ms: i64,
) -> Result<Season, SeasonError> {
    let known = known_modes(db)?;
    let mut errors = Vec::new();
    check_name(&body.name, &mut errors);
    check_modes(&known, &body.modes, &mut errors);
    invalid(errors)?;
    let id = db.transaction_retrying(|db| {
        let before = lock_windows(db)?;
        let planned = rules::plan_create(&before, 0, body.starts_at, body.ends_at, now_ms)?;
        write_moved(db, &before, &planned)?;
        db.execute(
            "INSERT INTO seasons (name, starts_at_ms, ends_at_ms, status, created_at_ms) \
             VALUES (?, ?, ?, 'scheduled', ?)",
            &[
                ParameterValue::Str(body.name.trim().to_owned()),
                ParameterValue::Int64(body.starts_at),
                body.ends_at
                    .map(ParameterValue::Int64)
                    .unwrap_or(ParameterValue::DbNull),
                ParameterValue::Int64(now_ms),
            ],
        )?;
        let id = db.last_insert_id()?;
        for mode in &known {
            let settings = body.modes.get(mode).cloned().unwrap_or_default();
            write_settings(db, id, mode, &settings)?;
        }
        Ok::<_, SeasonError>(id)
    })?;
    rollover::forget_active(redis);
    get(db, id)
}

/// Renames, moves or re-tunes a season that has not ended. Moving a boundary moves the
/// neighbour that shares it.
pub fn reschedule(
    db: &Db,
    redis: &Redis,
    id: u64,
    body: PatchBody,
    now_ms: i64,
) -> Result<Season, SeasonError> {
    let known = known_modes(db)?;
    let season = get(db, id)?;
    let mut errors = Vec::new();
    if let Some(name) = &body.name {
        check_name(name, &mut errors);
    }
    let mut modes = BTreeMap::new();
    for (mode, patch) in &body.modes {
        match merged(mode, &season.settings(mode), patch) {
            Ok(settings) => {
                modes.insert(mode.clone(), settings);
            }
            Err(e) => errors.push(e),
        }
    }
    check_modes(&known, &modes, &mut errors);
    invalid(errors)?;
    db.transaction_retrying(|db| {
        let before = lock_windows(db)?;
        let change = Reschedule {
            starts_at: body.starts_at,
            ends_at: body.ends_at,
        };
        let planned = rules::plan_reschedule(&before, id, change, now_ms)?;
        write_moved(db, &before, &planned)?;
        if let Some(name) = &body.name {
            db.execute(
                "UPDATE seasons SET name = ? WHERE id = ?",
                &params![name.trim(), id],
            )?;
        }
        for (mode, settings) in &modes {
            write_settings(db, id, mode, settings)?;
        }
        Ok::<_, SeasonError>(())
    })?;
    rollover::forget_active(redis);
    get(db, id)
}

/// Ends the active season now; the next tick rolls it over (and starts its successor,
/// moved to now, or an open-ended one).
pub fn end_early(db: &Db, redis: &Redis, id: u64, now_ms: i64) -> Result<Season, SeasonError> {
    db.transaction_retrying(|db| {
        let before = lock_windows(db)?;
        let planned = rules::plan_end_early(&before, id, now_ms)?;
        write_moved(db, &before, &planned)?;
        Ok::<_, SeasonError>(())
    })?;
    rollover::forget_active(redis);
    get(db, id)
}
