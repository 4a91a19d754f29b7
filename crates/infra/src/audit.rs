//! Rows of the append-only `audit_log` table (security-relevant and admin actions).

use crate::db::{Db, DbError};
use crate::params;

/// One audit entry; build with [`Audit::new`] and the `with_*` setters.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    pub actor_id: Option<u64>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub reason: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Audit {
    /// An entry for `action` (`register`, `login`, `login_failed`, `refresh_reuse`, `logout`...).
    pub fn new(action: &str) -> Self {
        Self {
            action: action.to_owned(),
            ..Self::default()
        }
    }

    pub fn actor(mut self, id: u64) -> Self {
        self.actor_id = Some(id);
        self
    }

    /// The object acted on. `target_id` is VARCHAR(64): longer ids (an email) are cut
    /// to 64 characters rather than failing the insert.
    pub fn target(mut self, kind: &str, id: impl ToString) -> Self {
        self.target_type = Some(kind.to_owned());
        self.target_id = Some(id.to_string().chars().take(64).collect());
        self
    }

    pub fn ip(mut self, ip: Option<String>) -> Self {
        self.ip = ip;
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        // VARCHAR(500); counted in characters so a cut never splits one.
        let reason: String = reason.into();
        self.reason = Some(reason.chars().take(500).collect());
        self
    }

    pub fn before(mut self, v: serde_json::Value) -> Self {
        self.before = Some(v);
        self
    }

    pub fn after(mut self, v: serde_json::Value) -> Self {
        self.after = Some(v);
        self
    }

    /// Inserts the row at `now_ms`.
    pub fn record(&self, db: &Db, now_ms: i64) -> Result<(), DbError> {
        db.execute(
            "INSERT INTO audit_log (actor_id, action, target_type, target_id, ip, reason, \
             before_data, after_data, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &params![
                self.actor_id,
                self.action.as_str(),
                self.target_type.clone(),
                self.target_id.clone(),
                self.ip.clone(),
                self.reason.clone(),
                self.before.as_ref().map(|v| v.to_string()),
                self.after.as_ref().map(|v| v.to_string()),
                now_ms,
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_targets_and_reasons_are_cut_to_their_columns() {
        let long = format!("{}@example.com", "é".repeat(100));
        let a = Audit::new("login_failed")
            .target("email", &long)
            .reason("x".repeat(600));
        assert_eq!(a.target_id.unwrap().chars().count(), 64);
        assert_eq!(a.reason.unwrap().len(), 500);
    }
}
