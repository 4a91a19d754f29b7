//! `POST /api/v1/admin/rankings/rebuild`: every mode's leaderboards rebuilt from MySQL,
//! for an admin's Bearer token (the matches component's
//! `/api/v1/admin/leaderboards/rebuild` does the same for a signed game server).

use serde_json::json;

use crate::{leaderboard, matches};
use rh_infra::audit::Audit;
use rh_infra::db::Db;
use rh_infra::redis::Redis;
use rh_infra::{clock, config, AppError};

/// One mode's rebuild; if another rebuild holds the mode's lock, waits for it (up to
/// about a second) and rebuilds again, since the admin asked for boards built from now.
fn rebuild_waiting(
    redis: &Redis,
    db: &Db,
    mode: &str,
    regions: &[String],
) -> Result<usize, AppError> {
    for _ in 0..40 {
        match leaderboard::rebuild(redis.conn(), db, mode, regions) {
            Err(leaderboard::LbError::Busy) => {
                std::thread::sleep(std::time::Duration::from_millis(25))
            }
            other => return Ok(other?),
        }
    }
    Err(leaderboard::LbError::Busy.into())
}

/// Rebuilds every mode; returns `[{mode, players}]` and records one audit row.
pub fn rebuild_all(
    db: &Db,
    redis: &Redis,
    actor: u64,
    ip: Option<String>,
) -> Result<serde_json::Value, AppError> {
    let regions = config::regions();
    let mut rebuilt = Vec::new();
    for mode in matches::mode_names(db)? {
        let players = rebuild_waiting(redis, db, &mode, &regions)?;
        rebuilt.push(json!({"mode": mode, "players": players}));
    }
    let after = json!({ "rebuilt": rebuilt });
    Audit::new("admin_rebuild_leaderboards")
        .actor(actor)
        .target("leaderboards", "all")
        .ip(ip)
        .after(after.clone())
        .record(db, clock::now_ms())?;
    Ok(after)
}
