//! Token revocation that survives Redis losing its data.
//!
//! Two kinds of marks refuse access tokens before their expiry:
//! - a revoked token id (logout): MySQL `revoked_access_tokens`, Redis
//!   [`rh_token::revoked_jti_key`], until the token would have expired;
//! - a per-user cut-off, "tokens issued before this second are refused" (bans): MySQL
//!   `user_token_cutoffs`, Redis [`rh_token::user_tokens_not_before_key`], for as long
//!   as a refresh token issued before it could live.
//!
//! Writers ([`revoke_token`], [`cut_off_user`]) write MySQL first (the record), then
//! Redis (the fast path). Readers ([`check`]) read Redis: one `MGET` of the token's
//! mark, the user's cut-off and [`LOADED_KEY`]. The marker says "Redis holds every
//! mark MySQL has"; it is set by a rebuild and expires after [`LOADED_TTL_S`]. When it is
//! missing (Redis restarted empty, FLUSHALL, or simply the marker's age), the request
//! checks MySQL itself (two primary-key look-ups), and the first request that takes
//! [`REBUILD_LOCK_KEY`] copies every live mark from MySQL back into Redis and sets the
//! marker again. A rebuild only adds: a revoked id is set if missing, a cut-off only
//! raised (`GREATEST` semantics in [`LOAD`]), so it can never undo a mark written by a
//! logout or ban that ran meanwhile.
//!
//! The marker's TTL also bounds the one gap left: a revocation whose Redis write failed
//! while Redis kept its other data (a network blip) is served from MySQL again at the
//! latest [`LOADED_TTL_S`] later; the revoking request itself answered 503.
//!
//! Refresh tokens are checked in MySQL on every refresh already (`refresh_tokens`:
//! single use, revoked families, bans), so nothing of theirs depends on Redis.

use crate::db::{Db, DbError};
use crate::params;
use crate::redis::{Arg, Redis, RedisError, Script};

/// Present while Redis holds every revocation mark of MySQL.
pub const LOADED_KEY: &str = rh_token::REVOCATIONS_LOADED_KEY;
/// How long a rebuild vouches for Redis before the next one re-checks MySQL.
pub const LOADED_TTL_S: i64 = 300;
/// Lock so one request at a time rebuilds.
pub const REBUILD_LOCK_KEY: &str = "auth:revocations:rebuild";
/// How long a cut-off is kept: a refresh token's lifetime plus a minute.
pub const CUTOFF_TTL_S: i64 = rh_token::REFRESH_TTL_SECS + 60;
/// Marks read from MySQL per page and written per script call while rebuilding.
const REBUILD_PAGE: u64 = 1000;
/// Expired rows deleted per [`purge_expired`] statement.
const PURGE_BATCH: u64 = 500;

/// Writes marks given as `ARGV` triples `(kind, key, value, ttl_ms)`: kind `j` sets a
/// revoked id if missing, kind `n` raises a cut-off (never lowers it).
const LOAD: Script = Script::new(
    "revocation.load",
    r"
for i = 1, #ARGV, 4 do
  local kind, key, value, ttl = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if kind == 'j' then
    redis.call('SET', key, value, 'NX', 'PX', ttl)
  else
    local cur = tonumber(redis.call('GET', key) or '0') or 0
    if tonumber(value) > cur then redis.call('SET', key, value, 'PX', ttl) end
  end
end
return 1
",
);

/// Whether a token is refused, and by what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Revoked,
}

/// The token's own mark and its user's cut-off, as read.
fn refused(revoked: bool, not_before: Option<i64>, iat: i64) -> Verdict {
    if revoked || not_before.is_some_and(|nbf| iat < nbf) {
        Verdict::Revoked
    } else {
        Verdict::Valid
    }
}

/// Checks an access token (`jti`, issued at `iat` to `user_id`) against every mark.
pub fn check(
    redis: &Redis,
    jti: &str,
    user_id: u64,
    iat: i64,
    now_ms: i64,
) -> Result<Verdict, crate::AppError> {
    check_reading(redis, jti, user_id, iat, now_ms, &[]).map(|(verdict, _)| verdict)
}

/// [`check`], also reading `extra` keys in the same `MGET` (a handler's cached answer,
/// say), so an authenticated read that Redis can answer costs one round trip. Their
/// values come back in order, `None` for absent keys.
pub fn check_reading(
    redis: &Redis,
    jti: &str,
    user_id: u64,
    iat: i64,
    now_ms: i64,
    extra: &[String],
) -> Result<(Verdict, Vec<Option<String>>), crate::AppError> {
    let jti_key = rh_token::revoked_jti_key(jti);
    let nbf_key = rh_token::user_tokens_not_before_key(user_id);
    let mut keys = vec![Arg::Str(&jti_key), Arg::Str(&nbf_key), Arg::Str(LOADED_KEY)];
    keys.extend(extra.iter().map(|k| Arg::Str(k)));
    let reply = redis.execute("MGET", &keys)?;
    let mut values: Vec<Option<String>> = reply
        .values()
        .iter()
        .map(crate::redis::reply_string)
        .collect();
    let extra_values = values.split_off(values.len().min(3));
    let revoked = values.first().cloned().flatten().is_some();
    // A value that does not parse refuses everything: failing closed.
    let not_before = values
        .get(1)
        .cloned()
        .flatten()
        .map(|v| v.trim().parse().unwrap_or(i64::MAX));
    if refused(revoked, not_before, iat) == Verdict::Revoked {
        return Ok((Verdict::Revoked, extra_values));
    }
    let loaded = values.get(2).cloned().flatten().is_some();
    if loaded {
        return Ok((Verdict::Valid, extra_values));
    }
    // Redis cannot vouch for its marks: MySQL decides, and one request rebuilds.
    let db = Db::open()?;
    let verdict = check_in_mysql(&db, jti, user_id, iat, now_ms)?;
    if let Some(lock) = redis.try_lock(REBUILD_LOCK_KEY, 30_000)? {
        let rebuilt = rebuild(&db, redis, now_ms);
        let _ = lock.release(redis);
        if let Err(e) = rebuilt {
            crate::log_warn!("revocation rebuild: {e}");
        }
    }
    Ok((verdict, extra_values))
}

/// The token's marks as MySQL has them.
pub fn check_in_mysql(
    db: &Db,
    jti: &str,
    user_id: u64,
    iat: i64,
    now_ms: i64,
) -> Result<Verdict, DbError> {
    let rows = db.query(
        rh_token::REVOCATION_CHECK_SQL,
        &params![jti, now_ms, user_id, now_ms],
    )?;
    let Some(row) = rows.first() else {
        return Ok(Verdict::Valid);
    };
    let revoked: i64 = row.get("revoked")?;
    let not_before: Option<i64> = row.get("not_before")?;
    Ok(refused(revoked > 0, not_before, iat))
}

/// Copies every live mark from MySQL into Redis, then sets [`LOADED_KEY`].
pub fn rebuild(db: &Db, redis: &Redis, now_ms: i64) -> Result<usize, crate::AppError> {
    let mut loaded = 0;
    let mut after = String::new();
    loop {
        let rows = db.query(
            "SELECT jti, expires_at_ms FROM revoked_access_tokens \
             WHERE expires_at_ms > ? AND jti > ? ORDER BY jti LIMIT ?",
            &params![now_ms, after.as_str(), REBUILD_PAGE],
        )?;
        let mut marks = Vec::with_capacity(rows.len());
        for row in rows.iter() {
            let jti: String = row.get("jti")?;
            let expires: i64 = row.get("expires_at_ms")?;
            marks.push((
                "j",
                rh_token::revoked_jti_key(&jti),
                "logout".to_owned(),
                (expires - now_ms).max(1),
            ));
            after = jti;
        }
        loaded += load(redis, &marks)?;
        if (rows.len() as u64) < REBUILD_PAGE {
            break;
        }
    }
    let mut after_user: u64 = 0;
    loop {
        let rows = db.query(
            "SELECT user_id, not_before_s, expires_at_ms FROM user_token_cutoffs \
             WHERE expires_at_ms > ? AND user_id > ? ORDER BY user_id LIMIT ?",
            &params![now_ms, after_user, REBUILD_PAGE],
        )?;
        let mut marks = Vec::with_capacity(rows.len());
        for row in rows.iter() {
            let user_id: u64 = row.get("user_id")?;
            let nbf: i64 = row.get("not_before_s")?;
            let expires: i64 = row.get("expires_at_ms")?;
            marks.push((
                "n",
                rh_token::user_tokens_not_before_key(user_id),
                nbf.to_string(),
                (expires - now_ms).max(1),
            ));
            after_user = user_id;
        }
        loaded += load(redis, &marks)?;
        if (rows.len() as u64) < REBUILD_PAGE {
            break;
        }
    }
    redis.set_ex(LOADED_KEY, "1", LOADED_TTL_S)?;
    Ok(loaded)
}

fn load(redis: &Redis, marks: &[(&str, String, String, i64)]) -> Result<usize, RedisError> {
    if marks.is_empty() {
        return Ok(0);
    }
    let mut args = Vec::with_capacity(marks.len() * 4);
    for (kind, key, value, ttl) in marks {
        args.push(Arg::Str(kind));
        args.push(Arg::Str(key));
        args.push(Arg::Str(value));
        args.push(Arg::Int(*ttl));
    }
    redis.eval(&LOAD, &[] as &[&str], &args)?;
    Ok(marks.len())
}

/// Logout: the access token `jti` (of `user_id`, expiring at `exp_s`) is refused from
/// now on. MySQL first (inside the caller's transaction when there is one), then Redis
/// with [`write_token_mark`] after commit.
pub fn revoke_token(
    db: &Db,
    jti: &str,
    user_id: u64,
    exp_s: i64,
    now_ms: i64,
) -> Result<(), DbError> {
    db.execute(
        "INSERT IGNORE INTO revoked_access_tokens (jti, user_id, expires_at_ms, revoked_at_ms) \
         VALUES (?, ?, ?, ?)",
        &params![jti, user_id, exp_s * 1000, now_ms],
    )
}

/// The Redis half of [`revoke_token`].
pub fn write_token_mark(
    redis: &Redis,
    jti: &str,
    exp_s: i64,
    now_ms: i64,
) -> Result<(), RedisError> {
    let ttl = (exp_s - now_ms / 1000).max(1);
    redis.set_ex(&rh_token::revoked_jti_key(jti), "logout", ttl)
}

/// A ban: tokens of `user_id` issued before `not_before_s` are refused. MySQL (raised,
/// never lowered), inside the caller's transaction; then [`write_cutoff_mark`].
pub fn cut_off_user(db: &Db, user_id: u64, not_before_s: i64, now_ms: i64) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO user_token_cutoffs (user_id, not_before_s, expires_at_ms, updated_at_ms) \
         VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE \
         not_before_s = GREATEST(not_before_s, VALUES(not_before_s)), \
         expires_at_ms = VALUES(expires_at_ms), updated_at_ms = VALUES(updated_at_ms)",
        &params![user_id, not_before_s, now_ms + CUTOFF_TTL_S * 1000, now_ms],
    )
}

/// The Redis half of [`cut_off_user`] (raised, never lowered, as a rebuild writes it).
pub fn write_cutoff_mark(redis: &Redis, user_id: u64, not_before_s: i64) -> Result<(), RedisError> {
    load(
        redis,
        &[(
            "n",
            rh_token::user_tokens_not_before_key(user_id),
            not_before_s.to_string(),
            CUTOFF_TTL_S * 1000,
        )],
    )
    .map(drop)
}

/// Deletes up to a batch of expired marks of each table.
pub fn purge_expired(db: &Db, now_ms: i64) -> Result<(), DbError> {
    db.execute(
        "DELETE FROM revoked_access_tokens WHERE expires_at_ms < ? LIMIT ?",
        &params![now_ms, PURGE_BATCH],
    )?;
    db.execute(
        "DELETE FROM user_token_cutoffs WHERE expires_at_ms < ? LIMIT ?",
        &params![now_ms, PURGE_BATCH],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_refused_when_revoked_or_issued_before_the_cut_off() {
        assert_eq!(refused(false, None, 100), Verdict::Valid);
        assert_eq!(refused(true, None, 100), Verdict::Revoked);
        assert_eq!(refused(false, Some(101), 100), Verdict::Revoked);
        assert_eq!(refused(false, Some(100), 100), Verdict::Valid);
        assert_eq!(refused(false, Some(i64::MAX), 100), Verdict::Revoked);
    }
}
