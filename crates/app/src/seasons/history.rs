//! Reading past seasons: a season's archived board (global or by region, paginated) and
//! a player's history (final rank and tier, peak tier, games and wins per mode and
//! season) with their end-of-season badges.

use serde::Serialize;

use rh_domain::tiers::Tier;
use rh_infra::db::Db;
use rh_infra::params;

use super::SeasonError;

/// One row of an archived board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArchivedEntry {
    /// Global final rank, or the position within the region when the page is filtered.
    pub rank: u64,
    /// The global final rank, filtered or not.
    pub global_rank: u64,
    pub user_id: u64,
    pub username: String,
    pub region: String,
    pub mmr: i32,
    pub tier: Tier,
    pub peak_tier: Option<Tier>,
    pub games: u32,
    pub wins: u32,
    pub losses: u32,
}

/// A page of season `season_id`'s final board of `mode`: `(total ranked, entries)`.
pub fn board(
    db: &Db,
    season_id: u64,
    mode: &str,
    region: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<(u64, Vec<ArchivedEntry>), SeasonError> {
    let status: Option<String> = db.query_scalar(
        "SELECT status FROM seasons WHERE id = ?",
        &params![season_id],
    )?;
    match status.as_deref() {
        None => {
            return Err(SeasonError::NotFound(format!(
                "season {season_id} does not exist"
            )))
        }
        Some("ended") => {}
        Some(_) => {
            return Err(SeasonError::NotFound(format!(
                "season {season_id} has no final standings yet (its board is GET /api/v1/rankings/{mode})"
            )))
        }
    }
    // A region's board is its rows in global rank order; positions are counted here.
    let filter = if region.is_some() {
        " AND ss.region = ?"
    } else {
        ""
    };
    let count_sql = format!(
        "SELECT COUNT(*) FROM season_standings ss WHERE ss.season_id = ? AND ss.mode = ? \
         AND ss.`rank` IS NOT NULL{filter}"
    );
    let page_sql = format!(
        "SELECT ss.`rank` AS r, ss.user_id, u.username, ss.region, ss.mmr, ss.peak_mmr, ss.games, \
         ss.wins, ss.losses FROM season_standings ss JOIN users u ON u.id = ss.user_id \
         WHERE ss.season_id = ? AND ss.mode = ? AND ss.`rank` IS NOT NULL{filter} \
         ORDER BY ss.`rank` LIMIT ? OFFSET ?"
    );
    let (total, rows) = match region {
        Some(r) => (
            db.query_scalar::<u64>(&count_sql, &params![season_id, mode, r])?,
            db.query(&page_sql, &params![season_id, mode, r, limit, offset])?,
        ),
        None => (
            db.query_scalar::<u64>(&count_sql, &params![season_id, mode])?,
            db.query(&page_sql, &params![season_id, mode, limit, offset])?,
        ),
    };
    let mut entries = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let mmr: i32 = r.get("mmr")?;
        let global: u64 = r.get("r")?;
        entries.push(ArchivedEntry {
            rank: if region.is_some() {
                offset + i as u64 + 1
            } else {
                global
            },
            global_rank: global,
            user_id: r.get("user_id")?,
            username: r.get("username")?,
            region: r.get("region")?,
            mmr,
            tier: Tier::from_mmr(mmr),
            peak_tier: r.get::<Option<i32>>("peak_mmr")?.map(Tier::from_mmr),
            games: r.get("games")?,
            wins: r.get("wins")?,
            losses: r.get("losses")?,
        });
    }
    Ok((total.unwrap_or(0), entries))
}

/// One season and mode of a player's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub season_id: u64,
    pub season_name: String,
    pub mode: String,
    /// `null` when the player had not finished placement (or was banned) at the end.
    pub final_rank: Option<u64>,
    pub final_tier: Option<Tier>,
    pub final_mmr: i32,
    pub peak_tier: Option<Tier>,
    pub games: u32,
    pub wins: u32,
    pub losses: u32,
    pub draws: u32,
    /// The badges this season earned the player in this mode.
    pub badges: Vec<String>,
}

/// Player `user_id`'s ended seasons, newest first, one entry per mode played.
pub fn user_history(db: &Db, user_id: u64) -> Result<Vec<HistoryEntry>, SeasonError> {
    let rows = db.query(
        "SELECT ss.season_id, s.name, ss.mode, ss.`rank`, ss.mmr, ss.peak_mmr, ss.games, ss.wins, \
         ss.losses, ss.draws FROM season_standings ss JOIN seasons s ON s.id = ss.season_id \
         WHERE ss.user_id = ? ORDER BY ss.season_id DESC, ss.mode",
        &params![user_id],
    )?;
    let badges = badges(db, user_id)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows.iter() {
        let (season_id, mode): (u64, String) = (r.get("season_id")?, r.get("mode")?);
        let rank: Option<u64> = r.get("rank")?;
        let mmr: i32 = r.get("mmr")?;
        out.push(HistoryEntry {
            season_id,
            season_name: r.get("name")?,
            final_rank: rank,
            final_tier: rank.map(|_| Tier::from_mmr(mmr)),
            final_mmr: mmr,
            peak_tier: r.get::<Option<i32>>("peak_mmr")?.map(Tier::from_mmr),
            games: r.get("games")?,
            wins: r.get("wins")?,
            losses: r.get("losses")?,
            draws: r.get("draws")?,
            badges: badges
                .iter()
                .filter(|b| b.season_id == season_id && b.mode == mode)
                .map(|b| b.badge.clone())
                .collect(),
            mode,
        });
    }
    Ok(out)
}

/// An end-of-season badge on a profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeasonBadge {
    pub season_id: u64,
    pub mode: String,
    pub badge: String,
    /// Epoch ms.
    pub granted_at: i64,
}

/// Every season badge of a player, newest season first.
pub fn badges(db: &Db, user_id: u64) -> Result<Vec<SeasonBadge>, SeasonError> {
    let rows = db.query(
        "SELECT season_id, mode, badge, granted_at_ms FROM season_rewards WHERE user_id = ? \
         ORDER BY season_id DESC, mode, badge",
        &params![user_id],
    )?;
    rows.iter()
        .map(|r| {
            Ok(SeasonBadge {
                season_id: r.get("season_id")?,
                mode: r.get("mode")?,
                badge: r.get("badge")?,
                granted_at: r.get("granted_at_ms")?,
            })
        })
        .collect()
}
