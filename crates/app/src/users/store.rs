//! SQL of accounts: `users`, `refresh_tokens`, `user_stats` (used by the auth component).
//!
//! Unique-key violations become domain conflicts here, where the query runs
//! ([`Conflict`]), so handlers never look at MySQL error codes.

use rh_domain::tiers::Tier;
use rh_infra::db::{Db, DbError, Row};
use rh_infra::params;
use rh_infra::AppError;
use serde::Serialize;
use serde_json::{Map, Value};

/// Unique keys of `users` (see migrations/V1__users_and_auth.sql).
const EMAIL_KEY: &str = "users_email_key";
const USERNAME_KEY: &str = "users_username_lower_key";

/// Maps a duplicate-key error on `users` to a 409 naming the taken field.
pub fn conflict(e: DbError) -> AppError {
    if e.is_duplicate_of(EMAIL_KEY) {
        AppError::Conflict("an account with this email already exists".into())
    } else if e.is_duplicate_of(USERNAME_KEY) {
        AppError::Conflict("this username is taken".into())
    } else {
        AppError::from(e)
    }
}

/// A row of `users` (without the password hash unless asked for).
#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub email: String,
    pub username: String,
    pub region: String,
    pub avatar_url: Option<String>,
    /// `player` or `admin` (the admin routes check it in MySQL themselves; the owner
    /// sees it so a frontend knows whether to show admin screens).
    pub role: String,
    pub banned_until_ms: Option<i64>,
    pub created_at_ms: i64,
    pub password_hash: String,
}

const USER_COLUMNS: &str =
    "id, email, username, region, avatar_url, role, banned_until_ms, created_at_ms, password_hash";

impl User {
    fn from_row(r: Row<'_>) -> Result<Self, DbError> {
        Ok(Self {
            id: r.get("id")?,
            email: r.get("email")?,
            username: r.get("username")?,
            region: r.get("region")?,
            avatar_url: r.get("avatar_url")?,
            role: r.get("role")?,
            banned_until_ms: r.get("banned_until_ms")?,
            created_at_ms: r.get("created_at_ms")?,
            password_hash: r.get("password_hash")?,
        })
    }

    /// Whether a ban is in force at `now_ms`.
    pub fn is_banned(&self, now_ms: i64) -> bool {
        self.banned_until_ms.is_some_and(|until| until > now_ms)
    }
}

pub fn user_by_email(db: &Db, email: &str) -> Result<Option<User>, DbError> {
    let rows = db.query(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?"),
        &params![email],
    )?;
    rows.first().map(User::from_row).transpose()
}

pub fn user_by_id(db: &Db, id: u64) -> Result<Option<User>, DbError> {
    let rows = db.query(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"),
        &params![id],
    )?;
    rows.first().map(User::from_row).transpose()
}

/// A new account's fields, already validated.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub username_lower: &'a str,
    pub password_hash: &'a str,
    pub region: &'a str,
}

/// Inserts a user; returns its id. Duplicate email/username → 409.
pub fn insert_user(db: &Db, u: &NewUser<'_>, now_ms: i64) -> Result<u64, AppError> {
    db.execute(
        "INSERT INTO users (email, username, username_lower, password_hash, region, \
         created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &params![
            u.email,
            u.username,
            u.username_lower,
            u.password_hash,
            u.region,
            now_ms,
            now_ms
        ],
    )
    .map_err(conflict)?;
    Ok(db.last_insert_id()?)
}

/// Profile changes; `None` leaves a column as it is.
#[derive(Default)]
pub struct ProfileChanges {
    pub username: Option<(String, String)>,
    pub region: Option<String>,
    /// `Some(None)` clears the avatar.
    pub avatar_url: Option<Option<String>>,
}

/// Applies `changes` to user `id`. Duplicate username → 409.
pub fn update_profile(
    db: &Db,
    id: u64,
    changes: ProfileChanges,
    now_ms: i64,
) -> Result<(), AppError> {
    // Column names come from this fixed list, never from the request; values are bound.
    let mut sets = vec!["updated_at_ms = ?"];
    let mut values = vec![rh_infra::db::IntoParam::into_param(now_ms)];
    if let Some((username, lower)) = changes.username {
        sets.push("username = ?");
        sets.push("username_lower = ?");
        values.push(rh_infra::db::IntoParam::into_param(username));
        values.push(rh_infra::db::IntoParam::into_param(lower));
    }
    if let Some(region) = changes.region {
        sets.push("region = ?");
        values.push(rh_infra::db::IntoParam::into_param(region));
    }
    if let Some(avatar) = changes.avatar_url {
        sets.push("avatar_url = ?");
        values.push(rh_infra::db::IntoParam::into_param(avatar));
    }
    values.push(rh_infra::db::IntoParam::into_param(id));
    db.execute(
        &format!("UPDATE users SET {} WHERE id = ?", sets.join(", ")),
        &values,
    )
    .map_err(conflict)
}

/// One mode's numbers in a profile.
#[derive(Debug, Serialize)]
struct ModeStats {
    mmr: i64,
    wins: u64,
    losses: u64,
    draws: u64,
    games: u64,
    /// The active season's part: its games, whether placement is done and how many
    /// placement games are left. A player in placement shows no tier.
    season_id: Option<u64>,
    season_games: u64,
    placed: bool,
    placement_games_left: u64,
    tier: Option<Tier>,
}

/// `{"1v1": {mmr, wins, losses, draws, games, season_id, season_games, placed,
/// placement_games_left, tier}, ...}` for every mode the user has a row in; `{}` for
/// none. One query: the active season and its settings are joined in.
pub fn stats(db: &Db, user_id: u64) -> Result<Value, DbError> {
    let rows = db.query(
        "SELECT us.mode, us.mmr, us.wins, us.losses, us.draws, us.games, us.season_id, \
         us.season_games, us.placed, s.id AS active_id, sm.placement_games \
         FROM user_stats us \
         LEFT JOIN seasons s ON s.status = 'active' \
         LEFT JOIN season_modes sm ON sm.season_id = s.id AND sm.mode = us.mode \
         WHERE us.user_id = ? ORDER BY us.mode",
        &params![user_id],
    )?;
    let mut out = Map::new();
    for r in rows.iter() {
        let active: Option<u64> = r.get("active_id")?;
        let placement = r
            .get::<Option<u64>>("placement_games")?
            .unwrap_or(u64::from(rh_domain::seasons::DEFAULT_PLACEMENT_GAMES));
        // A row still naming the previous season (mid-rollover) counts as not yet played.
        let current = active.is_some() && active == Some(r.get::<u64>("season_id")?);
        let season_games: u64 = if current { r.get("season_games")? } else { 0 };
        let placed = current && r.get::<u8>("placed")? == 1;
        let mmr: i64 = r.get("mmr")?;
        let s = ModeStats {
            mmr,
            wins: r.get("wins")?,
            losses: r.get("losses")?,
            draws: r.get("draws")?,
            games: r.get("games")?,
            season_id: active,
            season_games,
            placed,
            placement_games_left: if placed {
                0
            } else {
                placement.max(1).saturating_sub(season_games)
            },
            tier: placed.then(|| Tier::from_mmr(mmr as i32)),
        };
        out.insert(
            r.get::<String>("mode")?,
            serde_json::to_value(s).unwrap_or(Value::Null),
        );
    }
    Ok(Value::Object(out))
}

/// A `refresh_tokens` row, locked for the rest of the transaction.
pub struct RefreshRow {
    pub family_id: String,
    pub user_id: u64,
    pub used_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
    pub expires_at_ms: i64,
}

/// Reads and locks (`FOR UPDATE`) refresh token `jti`, so two concurrent refreshes with
/// the same token are serialised: the second sees `used_at_ms` and counts as reuse.
pub fn lock_refresh(db: &Db, jti: &str) -> Result<Option<RefreshRow>, DbError> {
    let rows = db.query(
        "SELECT family_id, user_id, used_at_ms, revoked_at_ms, expires_at_ms \
         FROM refresh_tokens WHERE jti = ? FOR UPDATE",
        &params![jti],
    )?;
    rows.first()
        .map(|r| {
            Ok(RefreshRow {
                family_id: r.get("family_id")?,
                user_id: r.get("user_id")?,
                used_at_ms: r.get("used_at_ms")?,
                revoked_at_ms: r.get("revoked_at_ms")?,
                expires_at_ms: r.get("expires_at_ms")?,
            })
        })
        .transpose()
}

pub fn mark_refresh_used(db: &Db, jti: &str, now_ms: i64) -> Result<(), DbError> {
    db.execute(
        "UPDATE refresh_tokens SET used_at_ms = ? WHERE jti = ?",
        &params![now_ms, jti],
    )
}
