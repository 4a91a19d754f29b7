//! rh-migrate: applies RankedHonor's SQL migrations and holds the few admin
//! operations that must work without the API (promoting the first admin).
//!
//! Migrations are the `migrations/V<n>__<name>.sql` files, embedded at compile time
//! with refinery and applied over mysql_async. refinery records each applied file
//! with a checksum in `refinery_schema_history`; we keep its default of aborting on a
//! divergent (edited) or missing migration, and say so explicitly, because silently
//! running on top of a schema that no longer matches its files is how production and
//! development drift apart.
//!
//! # Layout
//! - `lib.rs`: [`embedded`], [`apply`] (the migration run) and [`promote_admin`].
//! - `main.rs`: the clap CLI (`run`, `promote-admin`); thin.
//! - `tests/migrate.rs`: applying twice, refusing an edited migration, promoting,
//!   each against a scratch database created as root.

use anyhow::{bail, Context};
use mysql_async::prelude::Queryable;
use mysql_async::{Pool, TxOpts};
use refinery::{Migration, Runner};

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

/// The migrations compiled into this binary, in version order.
pub fn embedded() -> Vec<Migration> {
    let mut migrations = embedded::migrations::runner().get_migrations().clone();
    migrations.sort_by_key(|m| m.version());
    migrations
}

/// What a run did: the `V<n>__<name>` of each migration it applied (empty when the
/// database was already current).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied(pub Vec<String>);

/// Applies every migration of `migrations` not yet recorded in the database.
///
/// Fails without applying anything when an applied migration was edited (checksum
/// differs) or is missing from `migrations`. Each migration runs on its own; MariaDB
/// commits DDL implicitly, so a migration failing halfway leaves what it did.
pub async fn apply(pool: &Pool, migrations: &[Migration]) -> anyhow::Result<Applied> {
    let runner = Runner::new(migrations)
        .set_abort_divergent(true)
        .set_abort_missing(true);
    // refinery's AsyncMigrate is implemented for Pool by value; a Pool is a cheap
    // handle onto the same connections.
    let mut pool = pool.clone();
    let report = runner
        .run_async(&mut pool)
        .await
        .context("applying migrations")?;
    Ok(Applied(
        report
            .applied_migrations()
            .iter()
            .map(|m| format!("V{}__{}", m.version(), m.name()))
            .collect(),
    ))
}

/// Gives the account with `email` the `admin` role and records it in `audit_log`
/// (actor NULL: done from the command line, not by a user). Returns the user id.
///
/// Idempotent: promoting an admin again changes nothing and writes no audit row.
pub async fn promote_admin(pool: &Pool, email: &str, now_ms: i64) -> anyhow::Result<u64> {
    let email = email.trim().to_lowercase();
    let mut conn = pool.get_conn().await.context("connecting")?;
    let mut tx = conn
        .start_transaction(TxOpts::default())
        .await
        .context("starting transaction")?;
    let row: Option<(u64, String)> = tx
        .exec_first(
            "SELECT id, role FROM users WHERE email = ? FOR UPDATE",
            (&email,),
        )
        .await
        .context("looking up user")?;
    let Some((id, role)) = row else {
        bail!("no user with email {email}");
    };
    if role != "admin" {
        tx.exec_drop(
            "UPDATE users SET role = 'admin', updated_at_ms = ? WHERE id = ?",
            (now_ms, id),
        )
        .await
        .context("updating role")?;
        tx.exec_drop(
            "INSERT INTO audit_log (actor_id, action, target_type, target_id, reason, \
             before_data, after_data, created_at_ms) \
             VALUES (NULL, 'promote_admin', 'user', ?, 'rh-migrate promote-admin', ?, ?, ?)",
            (
                id.to_string(),
                format!(r#"{{"role":"{role}"}}"#),
                r#"{"role":"admin"}"#,
                now_ms,
            ),
        )
        .await
        .context("writing audit log")?;
    }
    tx.commit().await.context("committing")?;
    Ok(id)
}

/// Current time in epoch milliseconds, the unit of every `*_ms` column.
pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_migrations_are_numbered_without_gaps() {
        let versions: Vec<i32> = embedded().iter().map(|m| m.version()).collect();
        assert!(!versions.is_empty());
        let expected: Vec<i32> = (1..=versions.len() as i32).collect();
        assert_eq!(versions, expected);
    }

    #[test]
    fn migrations_avoid_column_types_spin_cannot_read() {
        for m in embedded() {
            let sql = m.sql().unwrap_or_default().to_uppercase();
            let code: String = sql
                .lines()
                .map(|l| l.split("--").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            for banned in [
                " DATETIME",
                " TIMESTAMP",
                " DATE ",
                " DATE,",
                " DECIMAL",
                " JSON",
                " ENUM(",
                " ENUM (",
                " BIT(",
                " YEAR",
                " TIME ",
            ] {
                assert!(
                    !code.contains(banned),
                    "{} uses{banned}, which Spin's MySQL interface cannot read",
                    m.name()
                );
            }
        }
    }
}
