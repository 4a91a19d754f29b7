//! The MySQL reads the queue needs: modes, ratings, users, unfinished matches, and the
//! quality matcher's per-mode settings.

use rh_domain::matchmaking::settings::QualitySettings;
use rh_domain::modes::Mode;
use spin_sdk::mysql::ParameterValue;

use super::error::QueueError;
use rh_infra::db::Db;

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// Every mode of the `modes` table (modes are data, not code), in name order.
pub fn modes(db: &Db) -> Result<Vec<Mode>, QueueError> {
    let rows = db
        .query(
            "SELECT name, teams, team_size FROM modes ORDER BY name",
            &[],
        )
        .map_err(QueueError::from)?;
    rows.iter()
        .map(|r| {
            Ok(Mode {
                name: r.get("name").map_err(QueueError::from)?,
                teams: r.get::<u8>("teams").map_err(QueueError::from)? as usize,
                team_size: r.get::<u8>("team_size").map_err(QueueError::from)? as usize,
            })
        })
        .collect()
}

/// One mode, `None` when the mode does not exist.
pub fn mode(db: &Db, name: &str) -> Result<Option<Mode>, QueueError> {
    Ok(modes(db)?.into_iter().find(|m| m.name == name))
}

/// The player's displayed mmr in a mode right now; a player without a row in that mode
/// has the starting rating.
pub fn mmr(db: &Db, user_id: u64, mode: &str) -> Result<i32, QueueError> {
    let mmr = db
        .query_scalar::<i32>(
            "SELECT mmr FROM user_stats WHERE user_id = ? AND mode = ?",
            &[
                ParameterValue::Uint64(user_id),
                ParameterValue::Str(mode.to_owned()),
            ],
        )
        .map_err(QueueError::from)?;
    Ok(mmr.unwrap_or(rh_domain::rating::MMR_CENTRE))
}

/// The ids among `ids` that belong to existing users.
pub fn existing_users(db: &Db, ids: &[u64]) -> Result<Vec<u64>, QueueError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let params: Vec<ParameterValue> = ids.iter().map(|&i| ParameterValue::Uint64(i)).collect();
    let sql = format!(
        "SELECT id FROM users WHERE id IN ({})",
        placeholders(ids.len())
    );
    let rows = db.query(&sql, &params).map_err(QueueError::from)?;
    rows.iter()
        .map(|r| r.get("id").map_err(QueueError::from))
        .collect()
}

/// The newest match of the user's that has not finished (`pending`), if any. This is
/// the source of truth for "in a match": it also covers matches a game server created
/// directly, and it clears itself when the result is applied.
pub fn unfinished_match(db: &Db, user_id: u64) -> Result<Option<u64>, QueueError> {
    db.query_scalar::<u64>(
        "SELECT m.id FROM match_participants p JOIN matches m ON m.id = p.match_id \
         WHERE p.user_id = ? AND m.status = 'pending' ORDER BY m.id DESC LIMIT 1",
        &[ParameterValue::Uint64(user_id)],
    )
    .map_err(QueueError::from)
}

/// Whether a match is still `pending` (a missing match counts as finished).
pub fn match_is_pending(db: &Db, match_id: u64) -> Result<bool, QueueError> {
    let status = db
        .query_scalar::<String>(
            "SELECT status FROM matches WHERE id = ?",
            &[ParameterValue::Uint64(match_id)],
        )
        .map_err(QueueError::from)?;
    Ok(status.as_deref() == Some("pending"))
}

/// The player's displayed mmr and σ in a mode right now; a player without a row in that
/// mode has the starting rating.
pub fn rating(db: &Db, user_id: u64, mode: &str) -> Result<(i32, f64), QueueError> {
    let rows = db
        .query(
            "SELECT mmr, sigma FROM user_stats WHERE user_id = ? AND mode = ?",
            &[
                ParameterValue::Uint64(user_id),
                ParameterValue::Str(mode.to_owned()),
            ],
        )
        .map_err(QueueError::from)?;
    match rows.first() {
        Some(r) => Ok((
            r.get("mmr").map_err(QueueError::from)?,
            r.get("sigma").map_err(QueueError::from)?,
        )),
        None => {
            let new = rh_domain::rating::Rating::default();
            Ok((new.mmr(), new.sigma))
        }
    }
}

/// Every mode's quality-matcher settings (`matchmaking_settings`); a mode without a row
/// (or with a row the domain refuses) gets the domain's defaults.
pub fn quality_settings(db: &Db) -> Result<Vec<(String, QualitySettings)>, QueueError> {
    let rows = db
        .query(
            "SELECT mode, quality_start, quality_floor, seconds_to_floor, settled_sigma, \
                    sigma_widening, max_widening, rematch_window_s, rematch_penalty \
             FROM matchmaking_settings ORDER BY mode",
            &[],
        )
        .map_err(QueueError::from)?;
    rows.iter()
        .map(|r| {
            let s = QualitySettings {
                quality_start: r.get("quality_start").map_err(QueueError::from)?,
                quality_floor: r.get("quality_floor").map_err(QueueError::from)?,
                seconds_to_floor: r.get("seconds_to_floor").map_err(QueueError::from)?,
                settled_sigma: r.get("settled_sigma").map_err(QueueError::from)?,
                sigma_widening: r.get("sigma_widening").map_err(QueueError::from)?,
                max_widening: r.get("max_widening").map_err(QueueError::from)?,
                rematch_window_s: r.get("rematch_window_s").map_err(QueueError::from)?,
                rematch_penalty: r.get("rematch_penalty").map_err(QueueError::from)?,
            };
            let mode: String = r.get("mode").map_err(QueueError::from)?;
            Ok(match s.validate() {
                Ok(()) => (mode, s),
                Err(e) => {
                    rh_infra::log_warn!(
                        "matchmaking_settings for {mode:?} refused ({e}); using defaults"
                    );
                    (mode, QualitySettings::default())
                }
            })
        })
        .collect()
}

/// One mode's settings (the defaults when it has no row).
pub fn quality_settings_for(db: &Db, mode: &str) -> Result<QualitySettings, QueueError> {
    Ok(settings_of(&quality_settings(db)?, mode))
}

/// The settings of `mode` in a list read by [`quality_settings`], else the defaults.
pub fn settings_of(all: &[(String, QualitySettings)], mode: &str) -> QualitySettings {
    all.iter()
        .find(|(m, _)| m == mode)
        .map(|(_, s)| s.clone())
        .unwrap_or_default()
}
