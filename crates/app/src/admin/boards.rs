//! `POST /api/v1/admin/rankings/rebuild`: every mode's leaderboards rebuilt from MySQL,
//! for an admin's Bearer token (the rankings component's
//! `/api/v1/admin/leaderboards/rebuild` does the same for a signed game server).

use serde_json::json;

use crate::{leaderboard, matches};
use rh_infra::audit::Audit;
use rh_infra::db::Db;
use rh_infra::redis::Redis;
use rh_infra::{clock, config, AppError};

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
        // A rebuild already running (the lock's holder) ends with boards equal to MySQL
        // as well; the admin gets a 503 with Retry-After rather than a wait.
        let players = leaderboard::rebuild(redis, db, &mode, &regions)?;
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
