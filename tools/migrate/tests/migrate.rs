//! rh-migrate against a real MariaDB: each test creates its own scratch database
//! (`rankedhonor_scratch_*`) with an account allowed to create it, and drops it after.
//!
//! The account comes from `RH_TEST_ADMIN_URL` (no database in the path); default
//! `mysql://root@127.0.0.1:3306`. `./scripts/test` points it at the migration user,
//! which is granted the `rankedhonor\_scratch\_%` databases for this purpose.

use mysql_async::prelude::Queryable;
use mysql_async::{Opts, OptsBuilder, Pool};
use refinery::Migration;
use std::sync::atomic::{AtomicU32, Ordering};

struct Scratch {
    admin: Pool,
    name: String,
    pool: Pool,
}

impl Scratch {
    async fn new() -> Scratch {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let url = std::env::var("RH_TEST_ADMIN_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_string());
        let opts = Opts::from_url(&url).expect("RH_TEST_ADMIN_URL is a MySQL URL");
        let admin = Pool::new(opts.clone());
        let name = format!(
            "rankedhonor_scratch_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = admin.get_conn().await.expect("connect as test admin");
        conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
            .await
            .unwrap();
        conn.query_drop(format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ))
        .await
        .expect("create scratch database");
        drop(conn);
        let pool = Pool::new(OptsBuilder::from_opts(opts).db_name(Some(name.clone())));
        Scratch { admin, name, pool }
    }

    async fn drop_db(self) {
        self.pool.disconnect().await.ok();
        let mut conn = self.admin.get_conn().await.unwrap();
        conn.query_drop(format!("DROP DATABASE `{}`", self.name))
            .await
            .unwrap();
        drop(conn);
        self.admin.disconnect().await.ok();
    }

    async fn tables(&self) -> Vec<String> {
        let mut conn = self.pool.get_conn().await.unwrap();
        conn.query("SHOW TABLES").await.unwrap()
    }
}

#[tokio::test]
async fn applying_twice_applies_everything_once_then_nothing() {
    let db = Scratch::new().await;
    let all = rh_migrate::embedded();

    let first = rh_migrate::apply(&db.pool, &all).await.unwrap();
    let second = rh_migrate::apply(&db.pool, &all).await.unwrap();

    assert_eq!(first.0.len(), all.len());
    assert_eq!(first.0[0], "V1__users_and_auth");
    assert!(second.0.is_empty(), "second run applied {:?}", second.0);
    let tables = db.tables().await;
    for table in [
        "users",
        "user_stats",
        "modes",
        "matches",
        "match_participants",
        "teams",
        "team_members",
        "achievements",
        "user_achievements",
        "creator_integrations",
        "refresh_tokens",
        "feed_events",
        "match_events",
        "notifications",
        "hero_pick_rates",
        "audit_log",
    ] {
        assert!(tables.iter().any(|t| t == table), "missing table {table}");
    }
    db.drop_db().await;
}

#[tokio::test]
async fn an_edited_applied_migration_is_refused() {
    let db = Scratch::new().await;
    let all = rh_migrate::embedded();
    rh_migrate::apply(&db.pool, &all).await.unwrap();

    // Same version and name, different text: what editing V1 in place looks like.
    let mut edited = all.clone();
    let v1 = &all[0];
    let changed_sql = format!("{}\n-- edited after it was applied\n", v1.sql().unwrap());
    edited[0] = Migration::unapplied(&format!("V1__{}", v1.name()), &changed_sql).unwrap();
    let result = rh_migrate::apply(&db.pool, &edited).await;

    let err = result.expect_err("an edited migration must be refused");
    assert!(
        format!("{err:#}").contains("different"),
        "unexpected error: {err:#}"
    );
    db.drop_db().await;
}

#[tokio::test]
async fn pending_migrations_are_applied_on_top_of_earlier_ones() {
    let db = Scratch::new().await;
    let all = rh_migrate::embedded();

    let first = rh_migrate::apply(&db.pool, &all[..1]).await.unwrap();
    let rest = rh_migrate::apply(&db.pool, &all).await.unwrap();

    assert_eq!(first.0.len(), 1);
    assert_eq!(rest.0.len(), all.len() - 1);
    db.drop_db().await;
}

#[tokio::test]
async fn schema_enforces_case_insensitive_usernames_and_roles() {
    let db = Scratch::new().await;
    rh_migrate::apply(&db.pool, &rh_migrate::embedded())
        .await
        .unwrap();
    let mut conn = db.pool.get_conn().await.unwrap();
    let insert = "INSERT INTO users (email, username, username_lower, password_hash, region, \
                  role, created_at_ms, updated_at_ms) VALUES (?, ?, ?, 'x', 'eu', ?, 1, 1)";

    conn.exec_drop(insert, ("a@example.com", "Alice", "alice", "player"))
        .await
        .unwrap();
    let same_name = conn
        .exec_drop(insert, ("b@example.com", "ALICE", "alice", "player"))
        .await;
    let bad_role = conn
        .exec_drop(insert, ("c@example.com", "Carol", "carol", "root"))
        .await;
    let upper_email = conn
        .exec_drop(insert, ("D@example.com", "Dave", "dave", "player"))
        .await;

    assert!(
        format!("{:?}", same_name.unwrap_err()).contains("1062"),
        "duplicate key expected"
    );
    assert!(bad_role.is_err(), "role outside the CHECK accepted");
    assert!(upper_email.is_err(), "non-lowercased email accepted");
    drop(conn);
    db.drop_db().await;
}

#[tokio::test]
async fn promote_admin_sets_the_role_and_writes_one_audit_row() {
    let db = Scratch::new().await;
    rh_migrate::apply(&db.pool, &rh_migrate::embedded())
        .await
        .unwrap();
    let mut conn = db.pool.get_conn().await.unwrap();
    conn.exec_drop(
        "INSERT INTO users (email, username, username_lower, password_hash, region, \
         created_at_ms, updated_at_ms) VALUES ('boss@example.com', 'Boss', 'boss', 'x', 'na', 1, 1)",
        (),
    )
    .await
    .unwrap();

    let id = rh_migrate::promote_admin(&db.pool, "Boss@Example.com", 42)
        .await
        .unwrap();
    rh_migrate::promote_admin(&db.pool, "boss@example.com", 43)
        .await
        .unwrap();
    let unknown = rh_migrate::promote_admin(&db.pool, "nobody@example.com", 44).await;

    let role: Option<String> = conn
        .exec_first("SELECT role FROM users WHERE id = ?", (id,))
        .await
        .unwrap();
    let audits: Vec<(String, String, i64)> = conn
        .exec(
            "SELECT action, target_id, created_at_ms FROM audit_log WHERE target_type = 'user'",
            (),
        )
        .await
        .unwrap();
    assert_eq!(role.as_deref(), Some("admin"));
    assert_eq!(audits, vec![("promote_admin".into(), id.to_string(), 42)]);
    assert!(unknown.is_err());
    drop(conn);
    db.drop_db().await;
}
