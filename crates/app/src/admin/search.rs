//! Finding accounts (`GET /api/v1/admin/users?query=`): by id, or by a prefix of the
//! username or email, newest first. Both prefixes use their unique indexes
//! (`username_lower`, `email`, stored lowercased), so a search is index range scans.

use serde::Serialize;
use spin_sdk::mysql::ParameterValue;

use rh_infra::db::Db;
use rh_infra::AppError;

/// An account as the admin list shows it (never the password hash).
#[derive(Debug, Clone, Serialize)]
pub struct AdminUser {
    pub id: u64,
    pub username: String,
    pub email: String,
    pub region: String,
    pub role: String,
    pub banned_until_ms: Option<i64>,
    pub ban_reason: Option<String>,
    pub created_at: i64,
}

/// `query` as a LIKE prefix pattern: lowercased, with LIKE's wildcards escaped.
fn prefix_pattern(query: &str) -> String {
    let mut p = String::with_capacity(query.len() + 1);
    for c in query.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Accounts matching `query` (an id, or a username or email prefix; empty: all), newest
/// first, at most `limit`.
pub fn search(db: &Db, query: &str, limit: u32) -> Result<Vec<AdminUser>, AppError> {
    let query = query.trim();
    let id: u64 = query.parse().unwrap_or(0);
    let pattern = prefix_pattern(query);
    let rows = db.query(
        "SELECT id, username, email, region, role, banned_until_ms, ban_reason, created_at_ms \
         FROM users WHERE id = ? OR username_lower LIKE ? OR email LIKE ? \
         ORDER BY id DESC LIMIT ?",
        &[
            ParameterValue::Uint64(id),
            ParameterValue::Str(pattern.clone()),
            ParameterValue::Str(pattern),
            ParameterValue::Uint32(limit),
        ],
    )?;
    rows.iter()
        .map(|r| {
            Ok(AdminUser {
                id: r.get("id")?,
                username: r.get("username")?,
                email: r.get("email")?,
                region: r.get("region")?,
                role: r.get("role")?,
                banned_until_ms: r.get("banned_until_ms")?,
                ban_reason: r.get("ban_reason")?,
                created_at: r.get("created_at_ms")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_is_a_lowercased_prefix_with_wildcards_escaped() {
        assert_eq!(prefix_pattern("Alice"), "alice%");
        assert_eq!(prefix_pattern("a_b%c\\"), "a\\_b\\%c\\\\%");
        assert_eq!(prefix_pattern(""), "%");
    }
}
