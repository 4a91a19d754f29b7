//! Bans and rating changes. MySQL first (one transaction with its audit row), then
//! Redis: a ban cuts the user's tokens off, takes them out of the queue and off every
//! leaderboard; an unban or a rating change puts them back at their current mmr.

use serde::Deserialize;
use serde_json::json;
use spin_sdk::mysql::ParameterValue;

use crate::leaderboard::{self, Standing};
use crate::queue;
use rh_domain::rating::Rating;
use rh_infra::audit::Audit;
use rh_infra::db::Db;
use rh_infra::redis::Redis;
use rh_infra::{clock, revocation, AppError};

/// A permanent ban's deadline (9999-12-31, see V1: bans are deadlines).
pub const PERMANENT_BAN_MS: i64 = 253_402_300_799_999;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanBody {
    pub reason: String,
    /// Epoch ms; absent means permanent.
    pub until_ms: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    pub mode: String,
    pub reason: String,
    /// Set the mmr to this value...
    pub mmr: Option<i32>,
    /// ... or move it by this much ...
    pub delta: Option<i32>,
    /// ... or reset it to a new player's rating.
    #[serde(default)]
    pub reset: bool,
}

fn user_row(db: &Db, user_id: u64, lock: bool) -> Result<(String, serde_json::Value), AppError> {
    let sql = format!(
        "SELECT region, banned_until_ms, ban_reason FROM users WHERE id = ?{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let rows = db.query(&sql, &[ParameterValue::Uint64(user_id)])?;
    let row = rows
        .first()
        .ok_or_else(|| AppError::NotFound("user not found".into()))?;
    let until: Option<i64> = row.get("banned_until_ms")?;
    let reason: Option<String> = row.get("ban_reason")?;
    Ok((
        row.get("region")?,
        json!({"banned_until_ms": until, "ban_reason": reason}),
    ))
}

/// The user's leaderboard standings in every mode they are ranked in (placed in the
/// active season).
fn standings(db: &Db, user_id: u64) -> Result<Vec<(String, Standing)>, AppError> {
    let rows = db.query(
        "SELECT us.mode, us.mmr, us.wins, us.losses, us.games, u.region, u.username \
         FROM user_stats us \
         JOIN users u ON u.id = us.user_id WHERE us.user_id = ? AND us.placed = 1 \
         AND us.season_id = (SELECT id FROM seasons WHERE status = 'active')",
        &[ParameterValue::Uint64(user_id)],
    )?;
    let mut out = Vec::new();
    for r in rows.iter() {
        out.push((
            r.get("mode")?,
            Standing {
                user_id,
                mmr: r.get("mmr")?,
                region: r.get("region")?,
                username: r.get("username")?,
                wins: r.get("wins")?,
                losses: r.get("losses")?,
                version: r.get("games")?,
            },
        ));
    }
    Ok(out)
}

/// Removes a user from every board of the modes they are ranked in.
fn remove_from_boards(redis: &Redis, db: &Db, user_id: u64) -> Result<(), AppError> {
    let mut regions = rh_infra::config::regions();
    for (mode, s) in standings(db, user_id)? {
        if !regions.contains(&s.region) {
            regions.push(s.region.clone());
        }
        leaderboard::remove(redis, &mode, &regions, user_id)?;
    }
    Ok(())
}

/// `POST /api/v1/admin/users/{id}/ban`.
pub fn ban(
    db: &Db,
    redis: &Redis,
    actor: u64,
    user_id: u64,
    body: BanBody,
    ip: Option<String>,
) -> Result<serde_json::Value, AppError> {
    let reason = super::check_reason(&body.reason)?;
    let now = clock::now_ms();
    let until = match body.until_ms {
        None => PERMANENT_BAN_MS,
        Some(t) if t > now => t,
        Some(_) => return Err(AppError::invalid_field("until_ms", "must be in the future")),
    };
    if actor == user_id {
        return Err(AppError::invalid_field(
            "id",
            "an admin cannot ban themselves",
        ));
    }
    let after = json!({"banned_until_ms": until, "ban_reason": reason});
    db.transaction(|tx| {
        let (_, before) = user_row(tx, user_id, true)?;
        tx.execute(
            "UPDATE users SET banned_until_ms = ?, ban_reason = ?, updated_at_ms = ? WHERE id = ?",
            &[
                ParameterValue::Int64(until),
                ParameterValue::Str(reason.clone()),
                ParameterValue::Int64(now),
                ParameterValue::Uint64(user_id),
            ],
        )?;
        tx.execute(
            "UPDATE refresh_tokens SET revoked_at_ms = ? WHERE user_id = ? AND revoked_at_ms IS NULL",
            &[ParameterValue::Int64(now), ParameterValue::Uint64(user_id)],
        )?;
        // Tokens issued up to this second stop working (iat < not_before is refused),
        // recorded durably with the ban; Redis gets it after commit.
        revocation::cut_off_user(tx, user_id, now / 1000 + 1, now)?;
        Audit::new("admin_ban")
            .actor(actor)
            .target("user", user_id)
            .ip(ip)
            .reason(reason.clone())
            .before(before)
            .after(after.clone())
            .record(tx, now)?;
        Ok::<_, AppError>(())
    })?;
    crate::users::cache::invalidate(redis, &[user_id]);
    revocation::write_cutoff_mark(redis, user_id, now / 1000 + 1)?;
    // Not in the queue is fine; a formed match is the game server's business.
    let _ = queue::store::leave(redis, user_id);
    remove_from_boards(redis, db, user_id)?;
    Ok(json!({"user_id": user_id, "banned_until_ms": until, "ban_reason": reason}))
}

/// `POST /api/v1/admin/users/{id}/unban`.
pub fn unban(
    db: &Db,
    redis: &Redis,
    actor: u64,
    user_id: u64,
    reason: &str,
    ip: Option<String>,
) -> Result<serde_json::Value, AppError> {
    let reason = super::check_reason(reason)?;
    let now = clock::now_ms();
    db.transaction(|tx| {
        let (_, before) = user_row(tx, user_id, true)?;
        tx.execute(
            "UPDATE users SET banned_until_ms = NULL, ban_reason = NULL, updated_at_ms = ? WHERE id = ?",
            &[ParameterValue::Int64(now), ParameterValue::Uint64(user_id)],
        )?;
        Audit::new("admin_unban")
            .actor(actor)
            .target("user", user_id)
            .ip(ip)
            .reason(reason.clone())
            .before(before)
            .after(json!({"banned_until_ms": null, "ban_reason": null}))
            .record(tx, now)?;
        Ok::<_, AppError>(())
    })?;
    crate::users::cache::invalidate(redis, &[user_id]);
    for (mode, s) in standings(db, user_id)? {
        leaderboard::place(redis, &mode, &[s])?;
    }
    Ok(json!({"user_id": user_id, "banned_until_ms": null}))
}

/// The rating a [`RatingBody`] asks for, from the current `(mmr, sigma)`.
pub fn target_rating(body: &RatingBody, mmr: i32, sigma: f64) -> Result<Rating, AppError> {
    let chosen = [body.mmr.is_some(), body.delta.is_some(), body.reset]
        .iter()
        .filter(|b| **b)
        .count();
    if chosen != 1 {
        return Err(AppError::invalid_field(
            "mmr",
            "give exactly one of `mmr`, `delta` or `reset: true`",
        ));
    }
    Ok(match (body.mmr, body.delta) {
        (Some(m), _) => Rating::from_mmr(m, sigma),
        (_, Some(d)) => Rating::from_mmr(mmr.saturating_add(d), sigma),
        _ => Rating::default(),
    })
}

/// `POST /api/v1/admin/users/{id}/rating`: reset or adjust a rating in one mode.
pub fn adjust_rating(
    db: &Db,
    redis: &Redis,
    actor: u64,
    user_id: u64,
    body: RatingBody,
    ip: Option<String>,
) -> Result<serde_json::Value, AppError> {
    let reason = super::check_reason(&body.reason)?;
    let now = clock::now_ms();
    let (before, after) = db.transaction(|tx| {
        let rows = tx.query(
            "SELECT mmr, mu, sigma FROM user_stats WHERE user_id = ? AND mode = ? FOR UPDATE",
            &[
                ParameterValue::Uint64(user_id),
                ParameterValue::Str(body.mode.clone()),
            ],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| AppError::NotFound("the user has no rating in this mode".into()))?;
        let (mmr, mu, sigma): (i32, f64, f64) =
            (row.get("mmr")?, row.get("mu")?, row.get("sigma")?);
        let rating = target_rating(&body, mmr, sigma)?;
        tx.execute(
            "UPDATE user_stats SET mmr = ?, mu = ?, sigma = ? WHERE user_id = ? AND mode = ?",
            &[
                ParameterValue::Int32(rating.mmr()),
                ParameterValue::Floating64(rating.mu),
                ParameterValue::Floating64(rating.sigma),
                ParameterValue::Uint64(user_id),
                ParameterValue::Str(body.mode.clone()),
            ],
        )?;
        let before = json!({"mode": body.mode, "mmr": mmr, "mu": mu, "sigma": sigma});
        let after =
            json!({"mode": body.mode, "mmr": rating.mmr(), "mu": rating.mu, "sigma": rating.sigma});
        Audit::new("admin_rating")
            .actor(actor)
            .target("user", user_id)
            .ip(ip)
            .reason(reason.clone())
            .before(before.clone())
            .after(after.clone())
            .record(tx, now)?;
        Ok::<_, AppError>((before, after))
    })?;
    crate::users::cache::invalidate(redis, &[user_id]);
    // The boards follow at once (banned players stay off them).
    let (_, ban) = user_row(db, user_id, false)?;
    let banned = ban["banned_until_ms"].as_i64().is_some_and(|t| t > now);
    if !banned {
        if let Some((mode, s)) = standings(db, user_id)?
            .into_iter()
            .find(|(m, _)| *m == body.mode)
        {
            leaderboard::place(redis, &mode, &[s])?;
        }
    }
    Ok(json!({"user_id": user_id, "before": before, "after": after}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(mmr: Option<i32>, delta: Option<i32>, reset: bool) -> RatingBody {
        RatingBody {
            mode: "1v1".into(),
            reason: "r".into(),
            mmr,
            delta,
            reset,
        }
    }

    #[test]
    fn exactly_one_kind_of_change_is_accepted() {
        assert!(target_rating(&body(None, None, false), 1500, 5.0).is_err());
        assert!(target_rating(&body(Some(1), Some(2), false), 1500, 5.0).is_err());
        assert!(target_rating(&body(Some(1), None, true), 1500, 5.0).is_err());
    }

    #[test]
    fn set_delta_and_reset_give_the_expected_mmr() {
        assert_eq!(
            target_rating(&body(Some(1800), None, false), 1500, 5.0)
                .unwrap()
                .mmr(),
            1800
        );
        let moved = target_rating(&body(None, Some(-120), false), 1640, 4.0).unwrap();
        assert_eq!((moved.mmr(), moved.sigma), (1520, 4.0));
        assert_eq!(
            target_rating(&body(None, None, true), 1900, 2.0).unwrap(),
            Rating::default()
        );
    }
}
