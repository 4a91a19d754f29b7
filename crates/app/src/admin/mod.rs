//! Admin operations behind `/api/v1/admin/...`: the role check, bans, rating
//! adjustments, match voids and the audit-log reader.
//!
//! The role is read from MySQL on every request (never from the token), so a demotion
//! takes effect at once. A refused caller gets a 403 and an `admin_denied` audit row.
//! Every admin action writes one `audit_log` row (actor, action, target, reason, before,
//! after) in the same transaction as the change it records.
//!
//! # Layout
//! - [`users`]: ban, unban, rating reset/adjust (MySQL, then Redis: token cut-off,
//!   queue, leaderboards);
//! - [`void`]: voiding a completed match;
//! - [`audit_read`]: the filtered, cursor-paginated audit log;
//! - [`search`]: finding accounts by id, username or email prefix;
//! - [`boards`]: rebuilding every leaderboard from MySQL.

pub mod audit_read;
pub mod boards;
pub mod search;
pub mod users;
pub mod void;

use spin_sdk::mysql::ParameterValue;

use rh_infra::audit::Audit;
use rh_infra::auth::{self, AuthUser};
use rh_infra::db::Db;
use rh_infra::http::Req;
use rh_infra::redis::Redis;
use rh_infra::{clock, AppError};

/// Authenticates the caller and checks `users.role = 'admin'`; otherwise records the
/// refusal and answers 403.
pub fn require_admin(req: &Req, db: &Db, redis: &Redis) -> Result<AuthUser, AppError> {
    let me = auth::require_user(req, redis)?;
    let role: Option<String> = db.query_scalar(
        "SELECT role FROM users WHERE id = ?",
        &[ParameterValue::Uint64(me.id)],
    )?;
    if role.as_deref() == Some("admin") {
        return Ok(me);
    }
    Audit::new("admin_denied")
        .actor(me.id)
        .target("route", &req.path)
        .ip(req.client_ip())
        .reason("not an admin")
        .record(db, clock::now_ms())?;
    Err(AppError::Forbidden("this route needs an admin".into()))
}

/// A required, non-blank reason of at most 500 characters.
pub fn check_reason(reason: &str) -> Result<String, AppError> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 500 {
        return Err(AppError::invalid_field(
            "reason",
            "is required (1 to 500 characters)",
        ));
    }
    Ok(r.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_required_trimmed_and_bounded() {
        assert!(check_reason("  ").is_err());
        assert!(check_reason(&"x".repeat(501)).is_err());
        assert_eq!(check_reason(" cheating ").unwrap(), "cheating");
        assert_eq!(check_reason(&"é".repeat(500)).unwrap().chars().count(), 500);
    }
}
