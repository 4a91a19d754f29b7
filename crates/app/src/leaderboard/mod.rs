//! Leaderboards: Redis sorted sets kept equal to MySQL's `user_stats`.
//!
//! # Keys
//! - `lb:{mode}`: every player placed in the mode in the active season (at least one
//!   game, and the season's placement games: `rh_app::seasons`);
//! - `lb:{mode}:{region}`: the same players split by their home region (`users.region`),
//!   so the regional boards partition the global one;
//! - `lbmeta:{mode}:built`: marker set when the mode's boards were (re)built from MySQL.
//!   Its value lists the boards that were empty then (`|lb:1v1:oce|`). Redis losing its
//!   data (flush, restart without persistence) loses the marker too, so "marker missing"
//!   means "boards untrustworthy": the next read rebuilds them. A board key missing
//!   while the marker says it was not empty (someone deleted just that key) counts as
//!   lost too, both on read and when a result adds to it;
//! - `lbmeta:{mode}:lock`: a lock ([`rh_infra::redis::Lock`]) so only one request
//!   rebuilds at a time; while it is held, reads that find the boards untrustworthy are
//!   answered from MySQL (the source of truth) instead of waiting for the rebuild;
//! - `lbmeta:{mode}:touched`: players placed while that lock is held (see Consistency);
//! - `lbinfo:{mode}`: hash user id → `[username, wins, losses]` (JSON), so a page is
//!   answered from Redis alone in one round trip ([`read_page`]): no MySQL connection
//!   on the hot path. Written with the boards (results, rebuilds) and checked like one;
//!   a rename rewrites the username in it ([`rename`]);
//! - `lbver:{mode}`: hash user id → the version of the player's placement (their
//!   `user_stats.games`, which every result raises under the row lock, so versions
//!   follow commit order). A placement older than the one on the board is dropped.
//! - `lbmeta:{mode}:gen`: the mode's generation, moved on by every write to its boards
//!   (a placement, a removal, a rename, a rebuild going live);
//! - `lbpage:{board}:{offset}:{limit}`: a rendered `GET /rankings/{mode}` body, tagged
//!   with the generation it was read at ([`read::fill_page`]). [`read::read_page_cached`]
//!   serves it only while the generation is unchanged, in the same script that checks
//!   the marker, so a page is never older than the boards; it lives [`read::PAGE_TTL_S`]
//!   at most. A generation that vanished (a flush) serves nothing until a writer or a
//!   rebuild sets it again, and a rebuild starts it at a random value, so a recreated
//!   generation never matches an old tag.
//!
//! # Layout
//! - `mod.rs` (this file): keys, the score, [`Standing`] and [`Entry`], [`LbError`];
//! - [`read`]: pages and ranks from Redis, or from MySQL while a rebuild runs;
//! - [`place`]: putting players on the boards (results, admin changes) and taking them off;
//! - [`rebuild`]: rebuilding a mode's boards from MySQL under the lock.
//!
//! # Score: a composite that makes ties stable
//! `score = mmr * 2^32 + (2^32 - 1 - user_id)`: higher mmr first and, for equal mmr, the
//! lower (older) user id first. Scores stay below 2^53 for any mmr under about
//! two million, so the double Redis stores is exact; `mmr = floor(score / 2^32)`.
//! User ids are below 2^32 in practice; beyond that ties fall back to Redis's member
//! order (lexicographic), still stable.
//!
//! # Consistency
//! MySQL is the source of truth. Results update Redis after their transaction commits;
//! if that update fails, [`invalidate`] drops the marker so the next read rebuilds.
//! A rebuild writes into `lbtmp:` keys and `RENAME`s them over the live ones, so
//! readers never see a half-built board.
//!
//! A result can commit after a rebuild read MySQL and place its players before the
//! `RENAME` replaces the board it wrote to (on another runtime, or another request of
//! this one): its update would be lost under a marker saying the boards are whole. So
//! every placement made while the rebuild lock is held also records its players in
//! `lbmeta:{mode}:touched`, in the same script as the write; the rebuild empties that
//! set before reading MySQL and, once its boards are live, places every player recorded
//! since then again from MySQL as it is by then; a player recorded there who is no
//! longer ranked (banned meanwhile: [`remove`] records them too) is taken off again,
//! so a ban during a rebuild is never undone by it.
//!
//! Two results for one player commit in some order but run their after-commit steps
//! concurrently, so their placements can reach Redis in the other order. Each placement
//! carries the player's `games` after its result (a per-player version, raised under
//! the `user_stats` row lock) and lands only if `lbver:{mode}` holds no newer one.
//! Admin changes that move mmr without a game (rating adjustments) place with the
//! current version, which equal versions accept.

pub mod place;
pub mod read;
pub mod rebuild;

pub use place::{invalidate, place, remove, rename, rename_everywhere};
pub use read::{
    fill_page, page_cache_key, page_from_db, rank_from_db, rank_of, ranks_of, read_page,
    read_page_cached, Page,
};
pub use rebuild::{ensure_built, rebuild, standings_from_db, Ensured};

use rh_infra::db::{DbError, Row};
use rh_infra::redis::RedisError;
use rh_infra::AppError;

const SHIFT: i64 = 1 << 32;

/// Errors of leaderboard storage.
#[derive(Debug, thiserror::Error)]
pub enum LbError {
    #[error("leaderboard: {0}")]
    Redis(#[from] RedisError),
    #[error("leaderboard: {0}")]
    Mysql(#[from] DbError),
    /// Another request holds the rebuild lock (an explicit rebuild asked for one).
    #[error("the leaderboards of {0} are being rebuilt")]
    Busy(String),
}

impl From<LbError> for AppError {
    fn from(e: LbError) -> Self {
        match e {
            LbError::Busy(_) => AppError::Busy(e.to_string()),
            LbError::Redis(e) => AppError::Redis(e),
            LbError::Mysql(e) => AppError::Db(e),
        }
    }
}

/// The composite sort score (see the module docs).
pub fn score(mmr: i64, user_id: u64) -> i64 {
    mmr * SHIFT + (SHIFT - 1 - (user_id % SHIFT as u64) as i64)
}

/// Inverse of [`score`] for the mmr part.
pub fn mmr_from_score(score: f64) -> i64 {
    (score / SHIFT as f64).floor() as i64
}

/// `lb:{mode}` or `lb:{mode}:{region}`.
pub fn key(mode: &str, region: Option<&str>) -> String {
    match region {
        Some(r) => format!("lb:{mode}:{r}"),
        None => format!("lb:{mode}"),
    }
}

/// The player-details hash of a mode.
pub fn info_key(mode: &str) -> String {
    format!("lbinfo:{mode}")
}

fn marker_key(mode: &str) -> String {
    format!("lbmeta:{mode}:built")
}

fn lock_key(mode: &str) -> String {
    format!("lbmeta:{mode}:lock")
}

fn touched_key(mode: &str) -> String {
    format!("lbmeta:{mode}:touched")
}

/// The mode's board generation (see `# Keys`).
pub fn generation_key(mode: &str) -> String {
    format!("lbmeta:{mode}:gen")
}

/// The placement-version hash of a mode.
fn version_key(mode: &str) -> String {
    format!("lbver:{mode}")
}

/// One player's place on the boards of a mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub user_id: u64,
    pub mmr: i64,
    pub region: String,
    pub username: String,
    pub wins: u32,
    pub losses: u32,
    /// The player's `user_stats.games` in the mode: the placement's version.
    pub version: u64,
}

/// Ranked players of a mode (placed in the active season, not banned) as
/// [`Standing::from_row`] reads them; callers append their own `AND ...` conditions
/// after `us.mode = ?`. Wins and losses are the player's totals in the mode (a season's
/// are in its history).
const STANDINGS_SELECT: &str =
    "SELECT us.user_id, us.mmr, us.wins, us.losses, us.games, u.region, u.username \
     FROM user_stats us \
     JOIN users u ON u.id = us.user_id \
     WHERE us.mode = ? AND us.placed = 1 \
     AND us.season_id = (SELECT id FROM seasons WHERE status = 'active') \
     AND (u.banned_until_ms IS NULL OR u.banned_until_ms <= UNIX_TIMESTAMP() * 1000)";

impl Standing {
    fn from_row(row: Row<'_>) -> Result<Standing, DbError> {
        Ok(Standing {
            user_id: row.get("user_id")?,
            mmr: row.get("mmr")?,
            region: row.get("region")?,
            username: row.get("username")?,
            wins: row.get("wins")?,
            losses: row.get("losses")?,
            version: row.get("games")?,
        })
    }

    /// The `lbinfo` hash value: `[username, wins, losses]`.
    fn info(&self) -> String {
        serde_json::json!([self.username, self.wins, self.losses]).to_string()
    }
}

/// One row of a page with the player's details.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Entry {
    /// 1-based.
    pub rank: u64,
    pub user_id: u64,
    pub username: String,
    pub mmr: i64,
    pub wins: u32,
    pub losses: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_mmr_always_scores_higher() {
        assert!(score(1501, 999_999) > score(1500, 1));
        assert!(score(-3, 5) > score(-4, 1));
    }

    #[test]
    fn equal_mmr_puts_the_lower_user_id_first() {
        assert!(score(1500, 1) > score(1500, 2));
        assert!(score(1500, 2) > score(1500, 4_000_000));
    }

    #[test]
    fn mmr_round_trips_through_a_double() {
        for mmr in [-250, 0, 1, 1500, 1799, 2000, 4321, 100_000] {
            for user in [1, 2, 77, 123_456, (1 << 32) - 1] {
                let s = score(mmr, user);
                assert_eq!(s as f64 as i64, s, "score must be exact as f64");
                assert_eq!(mmr_from_score(s as f64), mmr);
            }
        }
    }

    #[test]
    fn keys_follow_the_documented_names() {
        assert_eq!(key("1v1", None), "lb:1v1");
        assert_eq!(key("2v2", Some("eu")), "lb:2v2:eu");
        assert_eq!(marker_key("4v4"), "lbmeta:4v4:built");
        assert_eq!(generation_key("1v1"), "lbmeta:1v1:gen");
        assert_eq!(
            read::page_cache_key("lb:1v1:eu", 0, 50),
            "lbpage:lb:1v1:eu:0:50"
        );
    }
}
