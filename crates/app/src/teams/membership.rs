//! Every change to a team, each in one transaction that starts by locking the team row
//! ([`lock_team`]): concurrent invites, accepts, leaves and transfers of one team run
//! one at a time, so the size cap and "exactly one owner" hold. "One team per player"
//! is the unique key on `team_members.user_id`, so it holds across teams too.
//!
//! Each change writes its notifications ([`Outbox`]) and an `audit_log` row in the same
//! transaction; the caller publishes the outbox after the commit.

use serde::Serialize;
use serde_json::json;

use super::notify::Outbox;
use super::rules::{self, Refusal, Role, TeamName, TeamTag, INVITE_TTL_MS};
use super::store::{lock_team, team_of, username, LockedTeam};
use rh_infra::audit::Audit;
use rh_infra::db::{Db, DbError};
use rh_infra::error::AppError;
use rh_infra::params;

/// Who acts, from where, and when.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: u64,
    pub ip: Option<String>,
    pub now_ms: i64,
}

impl Actor {
    fn audit(&self, action: &str, team_id: u64) -> Audit {
        Audit::new(action)
            .actor(self.user_id)
            .target("team", team_id)
            .ip(self.ip.clone())
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Forbidden(why) => AppError::Forbidden(why.into()),
            Refusal::Conflict(why) => AppError::Conflict(why.into()),
        }
    }
}

/// An open invitation.
#[derive(Debug, Clone, Serialize)]
pub struct Invite {
    pub id: u64,
    pub team_id: u64,
    pub team_name: String,
    pub team_tag: String,
    pub user_id: u64,
    pub invited_by: u64,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Runs `f` in a transaction, again when InnoDB chose it as a deadlock victim: two changes
/// touching the same player's invitations from two teams can lock rows in opposite orders.
fn in_transaction<T>(db: &Db, f: impl FnMut(&Db) -> Result<T, AppError>) -> Result<T, AppError> {
    db.transaction_retrying(f)
}

const NO_TEAM: &str = "no such team";

fn locked(db: &Db, team_id: u64) -> Result<LockedTeam, AppError> {
    lock_team(db, team_id)?.ok_or_else(|| AppError::NotFound(NO_TEAM.into()))
}

/// The caller's role in `team`; 403 when they are not a member.
fn actor_role(team: &LockedTeam, actor: &Actor) -> Result<Role, AppError> {
    team.role_of(actor.user_id)
        .ok_or_else(|| AppError::Forbidden("you are not a member of this team".into()))
}

/// `target`'s role in `team`; 404 when they are not a member.
fn target_role(team: &LockedTeam, target: u64) -> Result<Role, AppError> {
    team.role_of(target)
        .ok_or_else(|| AppError::NotFound("that player is not a member of this team".into()))
}

fn already_in_team() -> AppError {
    AppError::Conflict("that player already belongs to a team".into())
}

/// Adds `user_id` to `team_id`; the unique key on `user_id` refuses a second team.
fn insert_member(
    db: &Db,
    team_id: u64,
    user_id: u64,
    role: Role,
    now_ms: i64,
) -> Result<(), AppError> {
    db.execute(
        "INSERT INTO team_members (team_id, user_id, role, joined_at_ms) VALUES (?, ?, ?, ?)",
        &params![team_id, user_id, role.as_str(), now_ms],
    )
    .map_err(|e| match e {
        DbError::Duplicate { .. } => already_in_team(),
        other => other.into(),
    })
}

fn set_member_role(db: &Db, team_id: u64, user_id: u64, role: Role) -> Result<(), AppError> {
    Ok(db.execute(
        "UPDATE team_members SET role = ? WHERE team_id = ? AND user_id = ?",
        &params![role.as_str(), team_id, user_id],
    )?)
}

fn team_data(team: &LockedTeam) -> serde_json::Value {
    json!({"team_id": team.id, "team_name": team.name, "team_tag": team.tag})
}

/// Creates a team owned by the caller; returns its id. 409 when the name (any case) or
/// the tag is taken or the caller already belongs to a team.
pub fn create(db: &Db, actor: &Actor, name: &TeamName, tag: &TeamTag) -> Result<u64, AppError> {
    in_transaction(db, |db| {
        if team_of(db, actor.user_id)?.is_some() {
            return Err(AppError::Conflict("you already belong to a team".into()));
        }
        db.execute(
            "INSERT INTO teams (name, name_lower, tag, owner_id, created_at_ms) VALUES (?, ?, ?, ?, ?)",
            &params![name.as_str(), name.lower(), tag.as_str(), actor.user_id, actor.now_ms],
        )
        .map_err(|e| {
            if e.is_duplicate_of("teams_name_lower_key") {
                AppError::Conflict("a team with that name already exists".into())
            } else if e.is_duplicate_of("teams_tag_key") {
                AppError::Conflict("a team with that tag already exists".into())
            } else {
                e.into()
            }
        })?;
        let team_id = db.last_insert_id()?;
        // Racing a concurrent create or accept, the unique key decides (409, rolled back).
        insert_member(db, team_id, actor.user_id, Role::Owner, actor.now_ms)
            .map_err(|_| AppError::Conflict("you already belong to a team".into()))?;
        // Invitations elsewhere are moot now: a player belongs to one team.
        db.execute(
            "DELETE FROM team_invites WHERE user_id = ?",
            &params![actor.user_id],
        )?;
        actor
            .audit("team_create", team_id)
            .after(json!({"name": name.as_str(), "tag": tag.as_str()}))
            .record(db, actor.now_ms)?;
        Ok(team_id)
    })
}

/// Invites `user_id` (owner or captain only). Re-inviting refreshes the invitation.
pub fn invite(
    db: &Db,
    actor: &Actor,
    team_id: u64,
    user_id: u64,
    cap: u64,
) -> Result<(Invite, Outbox), AppError> {
    in_transaction(db, |db| {
        let team = locked(db, team_id)?;
        rules::may_invite(actor_role(&team, actor)?)?;
        if username(db, user_id)?.is_none() {
            return Err(AppError::invalid_field("user_id", "no such user"));
        }
        if team.role_of(user_id).is_some() {
            return Err(AppError::Conflict(
                "that player is already a member of this team".into(),
            ));
        }
        if team_of(db, user_id)?.is_some() {
            return Err(already_in_team());
        }
        rules::has_room(team.members.len() as u64, cap)?;
        let expires_at = actor.now_ms + INVITE_TTL_MS;
        db.execute(
            "INSERT INTO team_invites (team_id, user_id, invited_by, created_at_ms, expires_at_ms) \
             VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE invited_by = VALUES(invited_by), \
             created_at_ms = VALUES(created_at_ms), expires_at_ms = VALUES(expires_at_ms)",
            &params![team_id, user_id, actor.user_id, actor.now_ms, expires_at],
        )?;
        let id: u64 = db
            .query_scalar(
                "SELECT id FROM team_invites WHERE team_id = ? AND user_id = ?",
                &params![team_id, user_id],
            )?
            .ok_or_else(|| AppError::internal("the invitation just written is missing"))?;
        let invite = Invite {
            id,
            team_id,
            team_name: team.name.clone(),
            team_tag: team.tag.clone(),
            user_id,
            invited_by: actor.user_id,
            created_at: actor.now_ms,
            expires_at,
        };
        let mut outbox = Outbox::default();
        let mut data = team_data(&team);
        data["invite_id"] = json!(id);
        data["invited_by"] = json!(actor.user_id);
        outbox.notify(db, user_id, "team_invite", data, actor.now_ms)?;
        actor
            .audit("team_invite", team_id)
            .after(json!({"invite_id": id, "user_id": user_id}))
            .record(db, actor.now_ms)?;
        Ok((invite, outbox))
    })
}

/// The invitation's team and invitee, if it exists and is still open.
fn open_invite(
    db: &Db,
    invite_id: u64,
    now_ms: i64,
    lock: bool,
) -> Result<(u64, u64, u64), AppError> {
    let sql = if lock {
        "SELECT team_id, user_id, invited_by FROM team_invites WHERE id = ? AND expires_at_ms > ? FOR UPDATE"
    } else {
        "SELECT team_id, user_id, invited_by FROM team_invites WHERE id = ? AND expires_at_ms > ?"
    };
    let rows = db.query(sql, &params![invite_id, now_ms])?;
    let row = rows
        .first()
        .ok_or_else(|| AppError::NotFound("no open invitation with that id".into()))?;
    Ok((
        row.get("team_id")?,
        row.get("user_id")?,
        row.get("invited_by")?,
    ))
}

/// Accepts an invitation (the invitee only); returns the team id. 409 when the team is
/// full or the caller already belongs to a team.
pub fn accept(db: &Db, actor: &Actor, invite_id: u64, cap: u64) -> Result<(u64, Outbox), AppError> {
    // Read outside the transaction to learn which team to lock first (lock order: team
    // row, then invite), then read again under the lock: it may be gone by then.
    let (team_id, invitee, _) = open_invite(db, invite_id, actor.now_ms, false)?;
    if invitee != actor.user_id {
        return Err(AppError::Forbidden(
            "only the invited player may accept".into(),
        ));
    }
    in_transaction(db, |db| {
        let team = locked(db, team_id)?;
        open_invite(db, invite_id, actor.now_ms, true)?;
        if team_of(db, actor.user_id)?.is_some() {
            return Err(AppError::Conflict("you already belong to a team".into()));
        }
        rules::has_room(team.members.len() as u64, cap)?;
        insert_member(db, team_id, actor.user_id, Role::Member, actor.now_ms)?;
        db.execute(
            "DELETE FROM team_invites WHERE user_id = ?",
            &params![actor.user_id],
        )?;
        let mut outbox = Outbox::default();
        let mut data = team_data(&team);
        data["user_id"] = json!(actor.user_id);
        data["username"] = json!(username(db, actor.user_id)?);
        outbox.notify_all(
            db,
            team.member_ids(),
            "team_member_joined",
            &data,
            actor.now_ms,
        )?;
        actor
            .audit("team_join", team_id)
            .reason(format!("accepted invitation {invite_id}"))
            .record(db, actor.now_ms)?;
        Ok((team_id, outbox))
    })
}

/// Declines an invitation (the invitee only); the inviter is told.
pub fn decline(db: &Db, actor: &Actor, invite_id: u64) -> Result<Outbox, AppError> {
    in_transaction(db, |db| {
        let (team_id, invitee, invited_by) = open_invite(db, invite_id, actor.now_ms, true)?;
        if invitee != actor.user_id {
            return Err(AppError::Forbidden(
                "only the invited player may decline".into(),
            ));
        }
        db.execute("DELETE FROM team_invites WHERE id = ?", &params![invite_id])?;
        let mut outbox = Outbox::default();
        let data = json!({"team_id": team_id, "invite_id": invite_id, "user_id": actor.user_id});
        outbox.notify(db, invited_by, "team_invite_declined", data, actor.now_ms)?;
        actor
            .audit("team_invite_decline", team_id)
            .reason(format!("declined invitation {invite_id}"))
            .record(db, actor.now_ms)?;
        Ok(outbox)
    })
}

/// Leaves the team (anyone but the owner).
pub fn leave(db: &Db, actor: &Actor, team_id: u64) -> Result<Outbox, AppError> {
    in_transaction(db, |db| {
        let team = locked(db, team_id)?;
        let role = actor_role(&team, actor)?;
        rules::may_leave(role)?;
        db.execute(
            "DELETE FROM team_members WHERE team_id = ? AND user_id = ?",
            &params![team_id, actor.user_id],
        )?;
        let mut outbox = Outbox::default();
        let mut data = team_data(&team);
        data["user_id"] = json!(actor.user_id);
        let others = team.member_ids().filter(|id| *id != actor.user_id);
        outbox.notify_all(db, others, "team_member_left", &data, actor.now_ms)?;
        actor
            .audit("team_leave", team_id)
            .before(json!({"role": role.as_str()}))
            .record(db, actor.now_ms)?;
        Ok(outbox)
    })
}

/// Removes `user_id` (see [`rules::may_remove`]). The caller removing themselves is 409:
/// that is leaving.
pub fn remove(db: &Db, actor: &Actor, team_id: u64, user_id: u64) -> Result<Outbox, AppError> {
    in_transaction(db, |db| {
        let team = locked(db, team_id)?;
        let role = actor_role(&team, actor)?;
        if user_id == actor.user_id {
            return Err(AppError::Conflict(
                "to leave the team use POST /api/v1/teams/{id}/leave".into(),
            ));
        }
        let target = target_role(&team, user_id)?;
        rules::may_remove(role, target)?;
        db.execute(
            "DELETE FROM team_members WHERE team_id = ? AND user_id = ?",
            &params![team_id, user_id],
        )?;
        let mut outbox = Outbox::default();
        let mut data = team_data(&team);
        data["user_id"] = json!(user_id);
        data["removed_by"] = json!(actor.user_id);
        outbox.notify(db, user_id, "team_removed", data.clone(), actor.now_ms)?;
        let others = team
            .member_ids()
            .filter(|id| *id != user_id && *id != actor.user_id);
        outbox.notify_all(db, others, "team_member_removed", &data, actor.now_ms)?;
        actor
            .audit("team_member_remove", team_id)
            .before(json!({"user_id": user_id, "role": target.as_str()}))
            .record(db, actor.now_ms)?;
        Ok(outbox)
    })
}

/// Promotes to captain or demotes to member (the owner only).
pub fn set_role(
    db: &Db,
    actor: &Actor,
    team_id: u64,
    user_id: u64,
    role: Role,
) -> Result<Outbox, AppError> {
    in_transaction(db, |db| {
        let team = locked(db, team_id)?;
        let actor_is = actor_role(&team, actor)?;
        let before = target_role(&team, user_id)?;
        rules::may_set_role(actor_is, before)?;
        let mut outbox = Outbox::default();
        if before == role {
            return Ok(outbox);
        }
        set_member_role(db, team_id, user_id, role)?;
        let mut data = team_data(&team);
        data["role"] = json!(role.as_str());
        outbox.notify(db, user_id, "team_role_changed", data, actor.now_ms)?;
        actor
            .audit("team_role_change", team_id)
            .before(json!({"user_id": user_id, "role": before.as_str()}))
            .after(json!({"user_id": user_id, "role": role.as_str()}))
            .record(db, actor.now_ms)?;
        Ok(outbox)
    })
}

/// Hands ownership to another member (the owner only); the old owner becomes a captain.
pub fn transfer(db: &Db, actor: &Actor, team_id: u64, new_owner: u64) -> Result<Outbox, AppError> {
    in_transaction(db, |db| {
        let team = locked(db, team_id)?;
        rules::may_transfer(actor_role(&team, actor)?, new_owner == actor.user_id)?;
        target_role(&team, new_owner)?;
        set_member_role(db, team_id, actor.user_id, Role::Captain)?;
        set_member_role(db, team_id, new_owner, Role::Owner)?;
        db.execute(
            "UPDATE teams SET owner_id = ? WHERE id = ?",
            &params![new_owner, team_id],
        )?;
        let mut outbox = Outbox::default();
        let mut data = team_data(&team);
        data["owner_id"] = json!(new_owner);
        data["previous_owner_id"] = json!(actor.user_id);
        let others = team.member_ids().filter(|id| *id != actor.user_id);
        outbox.notify_all(
            db,
            others,
            "team_ownership_transferred",
            &data,
            actor.now_ms,
        )?;
        actor
            .audit("team_transfer", team_id)
            .before(json!({"owner_id": actor.user_id}))
            .after(json!({"owner_id": new_owner}))
            .record(db, actor.now_ms)?;
        Ok(outbox)
    })
}

/// Disbands the team (the owner only): members and invitations go with it (cascade).
pub fn disband(db: &Db, actor: &Actor, team_id: u64) -> Result<Outbox, AppError> {
    in_transaction(db, |db| {
        let team = locked(db, team_id)?;
        rules::may_disband(actor_role(&team, actor)?)?;
        db.execute("DELETE FROM teams WHERE id = ?", &params![team_id])?;
        let mut outbox = Outbox::default();
        let data = team_data(&team);
        let others = team.member_ids().filter(|id| *id != actor.user_id);
        outbox.notify_all(db, others, "team_disbanded", &data, actor.now_ms)?;
        let members: Vec<_> = team
            .members
            .iter()
            .map(|(id, r)| json!({"user_id": id, "role": r.as_str()}))
            .collect();
        actor
            .audit("team_disband", team_id)
            .before(json!({"name": team.name, "tag": team.tag, "members": members}))
            .record(db, actor.now_ms)?;
        Ok(outbox)
    })
}

/// The caller's open invitations, newest first.
pub fn my_invites(db: &Db, user_id: u64, now_ms: i64) -> Result<Vec<Invite>, AppError> {
    let rows = db.query(
        "SELECT i.id, i.team_id, t.name, t.tag, i.user_id, i.invited_by, i.created_at_ms, \
         i.expires_at_ms FROM team_invites i JOIN teams t ON t.id = i.team_id \
         WHERE i.user_id = ? AND i.expires_at_ms > ? ORDER BY i.id DESC LIMIT 100",
        &params![user_id, now_ms],
    )?;
    rows.iter()
        .map(|r| {
            Ok(Invite {
                id: r.get("id")?,
                team_id: r.get("team_id")?,
                team_name: r.get("name")?,
                team_tag: r.get("tag")?,
                user_id: r.get("user_id")?,
                invited_by: r.get("invited_by")?,
                created_at: r.get("created_at_ms")?,
                expires_at: r.get("expires_at_ms")?,
            })
        })
        .collect()
}
