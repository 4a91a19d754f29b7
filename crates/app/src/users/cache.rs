//! The profile cache: `GET /api/v1/users/me` and `GET /api/v1/users/{id}` answered from
//! Redis without opening MySQL.
//!
//! A profile joins `users`, `user_stats`, the active season and (public view) the
//! player's badges, so many writers change it. Instead of having each writer delete the
//! right keys in the right order, every cached body is **tagged** with two counters read
//! before MySQL was:
//! - the player's version, [`version_key`]: bumped by [`invalidate`] after any commit that
//!   changes their account, stats or badges (a result, a rename, a ban, an adjustment, a
//!   void, a linked account);
//! - the profile epoch, [`EPOCH_KEY`]: bumped by [`invalidate_everyone`] after anything that
//!   changes every profile at once (a season created, edited, ended, rolled over, a
//!   batch of players reset).
//!
//! A read takes the body only when its tag equals both counters as they are now (one
//! `MGET`, for `/me` the same one as the revocation check). Writers bump after their
//! commit, so whichever way a reader and a writer interleave, a body read from MySQL
//! before the commit carries a counter the bump has since moved past; the writer answers
//! only after its bump, so its own next read (and everyone's) is fresh. A fill ([`fill`])
//! stores its body only if the counters still equal what the reader saw, and starts an
//! absent counter at a random value, so a counter lost and recreated (eviction, restart)
//! can never match an old tag.
//!
//! Failure modes: Redis unreachable → readers go to MySQL ([`Cached::Unavailable`]); a
//! bump that fails after its commit is logged, and the stale body lives at most
//! [`BODY_TTL_S`]. Bodies expire after [`BODY_TTL_S`]; counters after [`COUNTER_TTL_S`]
//! (refreshed by every fill and bump, and always longer-lived than the bodies they tag).

use rh_infra::redis::{reply_string, Arg, Redis, RedisError, Script};

/// The counter every body is also tagged with; bumped when all profiles change.
pub const EPOCH_KEY: &str = "profile:epoch";
/// How long a cached body lives (bounds staleness if a bump was lost).
pub const BODY_TTL_S: i64 = 600;
/// How long a counter lives untouched; longer than any body it tags.
pub const COUNTER_TTL_S: i64 = 86_400;

/// Which view of a profile a body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `GET /users/me`: the owner's view (email, role).
    Owner,
    /// `GET /users/{id}`: what anyone may see (badges, no email).
    Public,
}

/// The player's version counter.
pub fn version_key(user_id: u64) -> String {
    format!("profile:{user_id}:v")
}

/// Where a view's body is cached.
pub fn body_key(user_id: u64, view: View) -> String {
    match view {
        View::Owner => format!("profile:{user_id}:owner"),
        View::Public => format!("profile:{user_id}:public"),
    }
}

/// The keys a read needs, in the order [`Cached::from_values`] expects them.
pub fn read_keys(user_id: u64, view: View) -> [String; 3] {
    [
        version_key(user_id),
        EPOCH_KEY.to_owned(),
        body_key(user_id, view),
    ]
}

/// The counters as a reader saw them: what a fill must still find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    version: String,
    epoch: String,
}

/// What a read found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached {
    /// A body whose tag matches the counters: serve it.
    Hit(String),
    /// No usable body: read MySQL, then [`fill`] with this tag.
    Miss(Tag),
    /// Redis could not be asked: read MySQL and do not fill.
    Unavailable,
}

impl Cached {
    /// Interprets the values of [`read_keys`] (absent keys as `None`).
    pub fn from_values(values: &[Option<String>]) -> Self {
        let get = |i: usize| values.get(i).cloned().flatten();
        let (version, epoch) = (get(0).unwrap_or_default(), get(1).unwrap_or_default());
        if let Some(stored) = get(2) {
            if let Some(body) = untag(&stored, &version, &epoch) {
                return Cached::Hit(body.to_owned());
            }
        }
        Cached::Miss(Tag { version, epoch })
    }

    /// Reads a view with one `MGET`; a Redis failure is [`Cached::Unavailable`].
    pub fn read(redis: Option<&Redis>, user_id: u64, view: View) -> Self {
        let Some(redis) = redis else {
            return Cached::Unavailable;
        };
        let keys = read_keys(user_id, view);
        match redis.execute("MGET", &Arg::all(&keys)) {
            Ok(reply) => {
                let values: Vec<Option<String>> = reply.values().iter().map(reply_string).collect();
                Cached::from_values(&values)
            }
            Err(e) => {
                rh_infra::log_warn!("profile cache read of user {user_id}: {e}");
                Cached::Unavailable
            }
        }
    }
}

/// The body of `stored` when it was tagged with exactly `version` and `epoch` (both
/// present: an untagged counter means nothing was ever filled under it).
fn untag<'a>(stored: &'a str, version: &str, epoch: &str) -> Option<&'a str> {
    if version.is_empty() || epoch.is_empty() {
        return None;
    }
    let rest = stored.strip_prefix(version)?.strip_prefix('|')?;
    let rest = rest.strip_prefix(epoch)?.strip_prefix('|')?;
    Some(rest)
}

/// Stores `body` tagged with the counters, only if they still are what `tag` saw;
/// absent counters start at `ARGV[5]` (random), so they never repeat an old value.
const FILL: Script = Script::new(
    "profile.fill",
    r"
local v = redis.call('GET', KEYS[1]) or ''
local e = redis.call('GET', KEYS[2]) or ''
if v ~= ARGV[1] or e ~= ARGV[2] then return 0 end
if v == '' then v = ARGV[5] end
if e == '' then e = ARGV[5] end
redis.call('SET', KEYS[1], v, 'EX', ARGV[6])
redis.call('SET', KEYS[2], e, 'EX', ARGV[6])
redis.call('SET', KEYS[3], v .. '|' .. e .. '|' .. ARGV[3], 'EX', ARGV[4])
return 1
",
);

/// Caches `body` (JSON) as `view` of `user_id`, read from MySQL after the counters in
/// `tag` were read. Best effort: a failure only means the next read goes to MySQL too.
pub fn fill(redis: &Redis, user_id: u64, view: View, tag: &Tag, body: &str) {
    let keys = read_keys(user_id, view);
    let seed = start_value();
    let stored = redis.eval(
        &FILL,
        &keys,
        &[
            Arg::Str(&tag.version),
            Arg::Str(&tag.epoch),
            Arg::Str(body),
            Arg::Int(BODY_TTL_S),
            Arg::Str(&seed),
            Arg::Int(COUNTER_TTL_S),
        ],
    );
    if let Err(e) = stored {
        rh_infra::log_warn!("profile cache fill of user {user_id}: {e}");
    }
}

/// A counter's first value: random, so a recreated counter never meets an old tag.
fn start_value() -> String {
    // 60 random bits: positive, and a lifetime of INCRs away from overflowing an i64.
    let n = u64::from_le_bytes(rh_infra::ids::random_bytes::<8>()) >> 4;
    (n.max(1)).to_string()
}

/// Moves every counter in `KEYS` on (starting an absent one at `ARGV[1]`) and keeps it
/// for `ARGV[2]` seconds.
const BUMP: Script = Script::new(
    "profile.bump",
    r"
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[2])
  else
    redis.call('INCR', KEYS[i])
    redis.call('EXPIRE', KEYS[i], ARGV[2])
  end
end
return #KEYS
",
);

fn bump(redis: &Redis, keys: &[String]) -> Result<(), RedisError> {
    if keys.is_empty() {
        return Ok(());
    }
    let seed = start_value();
    redis.eval(&BUMP, keys, &[Arg::Str(&seed), Arg::Int(COUNTER_TTL_S)])?;
    Ok(())
}

/// After a commit that changed these players' profiles: their cached bodies are stale
/// from now on. Logged, never failing the committed request (module docs).
pub fn invalidate(redis: &Redis, users: &[u64]) {
    let keys: Vec<String> = users.iter().map(|u| version_key(*u)).collect();
    if let Err(e) = bump(redis, &keys) {
        rh_infra::log_warn!("profile cache invalidation of users {users:?}: {e}");
    }
}

/// After a commit that changed every profile (seasons): all cached bodies are stale.
pub fn invalidate_everyone(redis: &Redis) {
    if let Err(e) = bump(redis, &[EPOCH_KEY.to_owned()]) {
        rh_infra::log_warn!("profile cache invalidation of everyone: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|x| x.map(str::to_owned)).collect()
    }

    #[test]
    fn a_body_is_served_only_under_the_counters_it_was_tagged_with() {
        let hit = Cached::from_values(&values(&[Some("7"), Some("3"), Some("7|3|{\"id\":1}")]));
        assert_eq!(hit, Cached::Hit("{\"id\":1}".into()));
        // The player's version moved on (a result, a rename): stale.
        let stale = Cached::from_values(&values(&[Some("8"), Some("3"), Some("7|3|{}")]));
        assert_eq!(
            stale,
            Cached::Miss(Tag {
                version: "8".into(),
                epoch: "3".into()
            })
        );
        // The epoch moved on (a season rolled over): stale.
        assert!(matches!(
            Cached::from_values(&values(&[Some("7"), Some("4"), Some("7|3|{}")])),
            Cached::Miss(_)
        ));
        // A prefix is not a match: version 1 must not accept a body of version 17.
        assert!(matches!(
            Cached::from_values(&values(&[Some("1"), Some("3"), Some("17|3|{}")])),
            Cached::Miss(_)
        ));
    }

    #[test]
    fn absent_counters_never_vouch_for_a_body() {
        for v in [
            values(&[None, Some("3"), Some("|3|{}")]),
            values(&[Some("7"), None, Some("7||{}")]),
            values(&[None, None, Some("||{}")]),
        ] {
            assert!(matches!(Cached::from_values(&v), Cached::Miss(_)), "{v:?}");
        }
        assert_eq!(
            Cached::from_values(&values(&[None, None, None])),
            Cached::Miss(Tag {
                version: String::new(),
                epoch: String::new()
            })
        );
    }

    #[test]
    fn start_values_are_positive_and_differ() {
        let a: i64 = start_value().parse().unwrap();
        let b: i64 = start_value().parse().unwrap();
        assert!(a > 0 && b > 0);
        assert_ne!(a, b);
    }
}
