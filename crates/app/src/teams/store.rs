//! Reads of teams (one team with its members and ratings, search, team rankings) and
//! the locked reads the membership transactions start with.
//!
//! Spin cannot read DECIMAL, so no `AVG()` comes back to us: sums are cast to SIGNED
//! and averages are taken in Rust ([`super::rules::average`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::rules::{average, prefix_pattern, Role};
use rh_infra::db::{Db, DbError, Row};
use rh_infra::error::AppError;
use rh_infra::params;

/// A team's average mmr in one mode, over its members rated in that mode.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModeAverage {
    pub mmr: i64,
    pub rated_members: u64,
}

/// One member as `GET /api/v1/teams/{id}` shows them.
#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    pub user_id: u64,
    pub username: String,
    pub role: Role,
    pub joined_at: i64,
    /// mmr per mode, only the modes the player has a rating in.
    pub mmr: BTreeMap<String, i64>,
}

/// A team with its members (owner first, then captains, then members by join time).
#[derive(Debug, Clone, Serialize)]
pub struct TeamView {
    pub id: u64,
    pub name: String,
    pub tag: String,
    pub owner_id: u64,
    pub created_at: i64,
    pub member_count: u64,
    pub members: Vec<MemberView>,
    /// Per mode, over the members with a rating in it.
    pub average_mmr: BTreeMap<String, ModeAverage>,
}

/// A search hit.
#[derive(Debug, Clone, Serialize)]
pub struct TeamSummary {
    pub id: u64,
    pub name: String,
    pub tag: String,
    pub owner_id: u64,
    pub member_count: u64,
    pub created_at: i64,
}

/// One row of the team rankings.
#[derive(Debug, Clone, Serialize)]
pub struct RankedTeam {
    pub rank: u64,
    pub team_id: u64,
    pub name: String,
    pub tag: String,
    pub average_mmr: i64,
    pub rated_members: u64,
}

fn role_of(row: &Row<'_>) -> Result<Role, AppError> {
    let raw: String = row.get("role")?;
    Role::from_db(&raw).ok_or_else(|| AppError::internal(format!("unknown team role {raw:?}")))
}

/// The team, or `None` when there is no such team.
pub fn team(db: &Db, team_id: u64) -> Result<Option<TeamView>, AppError> {
    let rows = db.query(
        "SELECT id, name, tag, owner_id, created_at_ms FROM teams WHERE id = ?",
        &params![team_id],
    )?;
    let Some(t) = rows.first() else {
        return Ok(None);
    };
    let member_rows = db.query(
        "SELECT m.user_id, u.username, m.role, m.joined_at_ms FROM team_members m \
         JOIN users u ON u.id = m.user_id WHERE m.team_id = ? \
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'captain' THEN 1 ELSE 2 END, \
         m.joined_at_ms, m.user_id",
        &params![team_id],
    )?;
    let mut members = Vec::with_capacity(member_rows.len());
    for r in member_rows.iter() {
        members.push(MemberView {
            user_id: r.get("user_id")?,
            username: r.get("username")?,
            role: role_of(&r)?,
            joined_at: r.get("joined_at_ms")?,
            mmr: BTreeMap::new(),
        });
    }
    let stats = db.query(
        "SELECT s.user_id, s.mode, s.mmr FROM user_stats s \
         JOIN team_members m ON m.user_id = s.user_id WHERE m.team_id = ?",
        &params![team_id],
    )?;
    // (sum, count) per mode, over the members rated in it.
    let mut sums: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in stats.iter() {
        let (user_id, mode, mmr): (u64, String, i64) =
            (r.get("user_id")?, r.get("mode")?, r.get("mmr")?);
        if let Some(m) = members.iter_mut().find(|m| m.user_id == user_id) {
            m.mmr.insert(mode.clone(), mmr);
            let e = sums.entry(mode).or_default();
            e.0 += mmr;
            e.1 += 1;
        }
    }
    let average_mmr = sums
        .into_iter()
        .filter_map(|(mode, (sum, count))| {
            average(sum, count).map(|mmr| {
                (
                    mode,
                    ModeAverage {
                        mmr,
                        rated_members: count as u64,
                    },
                )
            })
        })
        .collect();
    Ok(Some(TeamView {
        id: t.get("id")?,
        name: t.get("name")?,
        tag: t.get("tag")?,
        owner_id: t.get("owner_id")?,
        created_at: t.get("created_at_ms")?,
        member_count: members.len() as u64,
        members,
        average_mmr,
    }))
}

/// Teams whose name or tag starts with `query` (case-insensitive), by name.
pub fn search(db: &Db, query: &str, limit: u64) -> Result<Vec<TeamSummary>, AppError> {
    let rows = db.query(
        "SELECT t.id, t.name, t.tag, t.owner_id, t.created_at_ms, \
         (SELECT COUNT(*) FROM team_members m WHERE m.team_id = t.id) AS member_count \
         FROM teams t WHERE t.name_lower LIKE ? OR t.tag LIKE ? \
         ORDER BY t.name_lower, t.id LIMIT ?",
        &params![
            prefix_pattern(&query.to_lowercase()),
            prefix_pattern(&query.to_uppercase()),
            limit
        ],
    )?;
    rows.iter()
        .map(|r| {
            Ok(TeamSummary {
                id: r.get("id")?,
                name: r.get("name")?,
                tag: r.get("tag")?,
                owner_id: r.get("owner_id")?,
                member_count: r.get("member_count")?,
                created_at: r.get("created_at_ms")?,
            })
        })
        .collect()
}

/// Teams ranked by their members' average mmr in `mode` (members rated in it only;
/// teams with none are left out). Ties go to the older team (lower id).
pub fn rankings(db: &Db, mode: &str, limit: u64, offset: u64) -> Result<Vec<RankedTeam>, AppError> {
    let rows = db.query(
        "SELECT t.id, t.name, t.tag, CAST(SUM(s.mmr) AS SIGNED) AS mmr_sum, \
         COUNT(*) AS rated FROM teams t \
         JOIN team_members m ON m.team_id = t.id \
         JOIN user_stats s ON s.user_id = m.user_id AND s.mode = ? \
         GROUP BY t.id, t.name, t.tag \
         ORDER BY SUM(s.mmr) / COUNT(*) DESC, t.id LIMIT ? OFFSET ?",
        &params![mode, limit, offset],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let (sum, rated): (i64, i64) = (r.get("mmr_sum")?, r.get("rated")?);
        out.push(RankedTeam {
            rank: offset + i as u64 + 1,
            team_id: r.get("id")?,
            name: r.get("name")?,
            tag: r.get("tag")?,
            average_mmr: average(sum, rated).unwrap_or(0),
            rated_members: rated as u64,
        });
    }
    Ok(out)
}

/// The team row, locked for the rest of the transaction.
#[derive(Debug, Clone)]
pub struct LockedTeam {
    pub id: u64,
    pub name: String,
    pub tag: String,
    /// Every member and role, read with a locking read (so the latest committed rows,
    /// whatever the transaction's snapshot).
    pub members: Vec<(u64, Role)>,
}

impl LockedTeam {
    pub fn role_of(&self, user_id: u64) -> Option<Role> {
        self.members
            .iter()
            .find(|(id, _)| *id == user_id)
            .map(|(_, r)| *r)
    }

    pub fn member_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.members.iter().map(|(id, _)| *id)
    }
}

/// Locks the team row (`SELECT ... FOR UPDATE`) and reads its members: every membership
/// change of a team starts here, so they run one at a time per team and the cap and the
/// single owner hold under concurrency. Must be the transaction's first read of the
/// team. `None` when there is no such team.
pub fn lock_team(db: &Db, team_id: u64) -> Result<Option<LockedTeam>, AppError> {
    let rows = db.query(
        "SELECT id, name, tag FROM teams WHERE id = ? FOR UPDATE",
        &params![team_id],
    )?;
    let Some(t) = rows.first() else {
        return Ok(None);
    };
    let member_rows = db.query(
        "SELECT user_id, role FROM team_members WHERE team_id = ? FOR UPDATE",
        &params![team_id],
    )?;
    let mut members = Vec::with_capacity(member_rows.len());
    for r in member_rows.iter() {
        members.push((r.get("user_id")?, role_of(&r)?));
    }
    Ok(Some(LockedTeam {
        id: t.get("id")?,
        name: t.get("name")?,
        tag: t.get("tag")?,
        members,
    }))
}

/// The team `user_id` belongs to, if any.
pub fn team_of(db: &Db, user_id: u64) -> Result<Option<u64>, DbError> {
    db.query_scalar(
        "SELECT team_id FROM team_members WHERE user_id = ?",
        &params![user_id],
    )
}

/// A user's username, `None` if there is no such user.
pub fn username(db: &Db, user_id: u64) -> Result<Option<String>, DbError> {
    db.query_scalar("SELECT username FROM users WHERE id = ?", &params![user_id])
}
