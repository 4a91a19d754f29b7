//! The pure rules of teams: input parsing and who may do what. No I/O, so every rule is
//! unit-tested natively; the transactions in [`super::membership`] only ask these.

use rh_infra::problem::FieldError;

/// Team name length in characters (the column is VARCHAR(32)).
pub const NAME_LEN: std::ops::RangeInclusive<usize> = 3..=32;
/// Tag length (issue 8: 2 to 5 of `[A-Z0-9]`).
pub const TAG_LEN: std::ops::RangeInclusive<usize> = 2..=5;
/// How long an invitation stays open.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Search results per request, at most.
pub const SEARCH_MAX: u64 = 50;

/// A team name: trimmed, 3 to 32 characters of letters, digits, spaces, `_`, `-`, `.`.
/// Kept as typed; [`TeamName::lower`] is what must be unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamName(String);

impl TeamName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("name", m);
        let name = raw.trim();
        if name.is_empty() {
            return Err(err("is required"));
        }
        if !NAME_LEN.contains(&name.chars().count()) {
            return Err(err("must be 3 to 32 characters"));
        }
        if !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.'))
        {
            return Err(err(
                "may only contain letters, digits, spaces, '_', '-' and '.'",
            ));
        }
        // Two spaces in a row would make names that look equal but are not.
        if name.contains("  ") {
            return Err(err("must not contain consecutive spaces"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form stored in `teams.name_lower` (the database's CHECK compares
    /// it with `LOWER(name)`, so this must agree with MySQL's lowercasing for the
    /// characters we accept).
    pub fn lower(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A team tag: 2 to 5 of `[A-Z0-9]`. Lowercase letters are accepted and uppercased, so
/// tags are unique regardless of case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamTag(String);

impl TeamTag {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("tag", m);
        let tag = raw.trim().to_ascii_uppercase();
        if tag.is_empty() {
            return Err(err("is required"));
        }
        if !TAG_LEN.contains(&tag.chars().count())
            || !tag
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(err("must be 2 to 5 characters of A-Z and 0-9"));
        }
        Ok(Self(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A member's role (`team_members.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Captain,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Captain => "captain",
            Role::Owner => "owner",
        }
    }

    /// Reads a stored role; `None` for anything else.
    pub fn from_db(raw: &str) -> Option<Self> {
        match raw {
            "member" => Some(Role::Member),
            "captain" => Some(Role::Captain),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }

    /// Parses the role a `PATCH .../members/{user_id}` sets: only `captain` or
    /// `member`; ownership moves through the transfer route, never by setting a role.
    pub fn parse_assignable(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "captain" => Ok(Role::Captain),
            "member" => Ok(Role::Member),
            _ => Err(FieldError::new(
                "role",
                "must be \"captain\" or \"member\" (use the transfer route for ownership)",
            )),
        }
    }
}

/// Why an action is refused (mapped to 403 or 409 at the boundary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller's role does not allow it (403).
    Forbidden(&'static str),
    /// The team's state does not allow it (409).
    Conflict(&'static str),
}

/// Owners and captains invite.
pub fn may_invite(actor: Role) -> Result<(), Refusal> {
    if actor >= Role::Captain {
        Ok(())
    } else {
        Err(Refusal::Forbidden("only the owner or a captain may invite"))
    }
}

/// Removing `target` from the team by `actor` (someone else: leaving is its own rule).
/// The owner removes anyone but themselves; a captain removes plain members only, so
/// captains cannot remove each other or the owner.
pub fn may_remove(actor: Role, target: Role) -> Result<(), Refusal> {
    match (actor, target) {
        (_, Role::Owner) => Err(Refusal::Forbidden("the owner cannot be removed")),
        (Role::Owner, _) => Ok(()),
        (Role::Captain, Role::Member) => Ok(()),
        (Role::Captain, _) => Err(Refusal::Forbidden(
            "a captain may only remove members, not other captains",
        )),
        (Role::Member, _) => Err(Refusal::Forbidden(
            "only the owner or a captain may remove members",
        )),
    }
}

/// Only the owner promotes and demotes, and never their own role.
pub fn may_set_role(actor: Role, target: Role) -> Result<(), Refusal> {
    if actor != Role::Owner {
        return Err(Refusal::Forbidden("only the owner may change roles"));
    }
    if target == Role::Owner {
        return Err(Refusal::Conflict(
            "the owner's role changes only by transferring ownership",
        ));
    }
    Ok(())
}

/// Only the owner hands ownership over, and only to another member.
pub fn may_transfer(actor: Role, target_is_self: bool) -> Result<(), Refusal> {
    if actor != Role::Owner {
        return Err(Refusal::Forbidden("only the owner may transfer ownership"));
    }
    if target_is_self {
        return Err(Refusal::Conflict("you already own this team"));
    }
    Ok(())
}

/// Only the owner disbands.
pub fn may_disband(actor: Role) -> Result<(), Refusal> {
    if actor == Role::Owner {
        Ok(())
    } else {
        Err(Refusal::Forbidden("only the owner may disband the team"))
    }
}

/// Anyone but the owner leaves; the owner must transfer ownership or disband first, so
/// a team is never without an owner.
pub fn may_leave(actor: Role) -> Result<(), Refusal> {
    if actor == Role::Owner {
        Err(Refusal::Conflict(
            "the owner cannot leave: transfer ownership or disband the team first",
        ))
    } else {
        Ok(())
    }
}

/// One more member fits under `cap`.
pub fn has_room(members: u64, cap: u64) -> Result<(), Refusal> {
    if members < cap {
        Ok(())
    } else {
        Err(Refusal::Conflict("the team is full"))
    }
}

/// A `LIKE` pattern matching values that start with `prefix` (wildcards escaped; `\`
/// is MySQL's default escape character).
pub fn prefix_pattern(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Integer average, rounded half away from zero (team averages over member mmr).
pub fn average(sum: i64, count: i64) -> Option<i64> {
    if count <= 0 {
        return None;
    }
    let (q, r) = (sum / count, sum % count);
    Some(if 2 * r.abs() >= count {
        q + sum.signum()
    } else {
        q
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_kept_as_typed_and_lowercased_for_uniqueness() {
        let n = TeamName::parse("  Night Owls ").unwrap();
        assert_eq!(n.as_str(), "Night Owls");
        assert_eq!(n.lower(), "night owls");
    }

    #[test]
    fn bad_names_are_refused_with_the_name_field() {
        for raw in ["", "ab", "a;drop", "x  y", &"n".repeat(33)] {
            let e = TeamName::parse(raw).unwrap_err();
            assert_eq!(e.field, "name", "{raw:?}");
        }
        assert!(TeamName::parse(&"n".repeat(32)).is_ok());
    }

    #[test]
    fn tags_are_2_to_5_alphanumerics_uppercased() {
        assert_eq!(TeamTag::parse("ab1").unwrap().as_str(), "AB1");
        assert_eq!(TeamTag::parse("OWL").unwrap().as_str(), "OWL");
        for raw in ["", "A", "ABCDEF", "A-B", "ÄB", "A B"] {
            assert_eq!(TeamTag::parse(raw).unwrap_err().field, "tag", "{raw:?}");
        }
    }

    #[test]
    fn only_owners_and_captains_invite() {
        assert!(may_invite(Role::Owner).is_ok());
        assert!(may_invite(Role::Captain).is_ok());
        assert!(matches!(
            may_invite(Role::Member),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn removal_follows_the_role_table() {
        use Role::*;
        let table = [
            (Owner, Captain, true),
            (Owner, Member, true),
            (Owner, Owner, false),
            (Captain, Member, true),
            (Captain, Captain, false),
            (Captain, Owner, false),
            (Member, Member, false),
            (Member, Captain, false),
        ];
        for (actor, target, allowed) in table {
            assert_eq!(
                may_remove(actor, target).is_ok(),
                allowed,
                "{actor:?} removing {target:?}"
            );
        }
    }

    #[test]
    fn only_the_owner_changes_roles_and_never_their_own() {
        assert!(may_set_role(Role::Owner, Role::Member).is_ok());
        assert!(may_set_role(Role::Owner, Role::Captain).is_ok());
        assert!(matches!(
            may_set_role(Role::Captain, Role::Member),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            may_set_role(Role::Owner, Role::Owner),
            Err(Refusal::Conflict(_))
        ));
    }

    #[test]
    fn the_owner_cannot_leave_but_others_can() {
        assert!(matches!(may_leave(Role::Owner), Err(Refusal::Conflict(_))));
        assert!(may_leave(Role::Captain).is_ok());
        assert!(may_leave(Role::Member).is_ok());
    }

    #[test]
    fn transfer_and_disband_are_the_owners_alone() {
        assert!(may_transfer(Role::Owner, false).is_ok());
        assert!(may_transfer(Role::Owner, true).is_err());
        assert!(may_transfer(Role::Captain, false).is_err());
        assert!(may_disband(Role::Owner).is_ok());
        assert!(may_disband(Role::Captain).is_err());
    }

    #[test]
    fn assignable_roles_exclude_owner() {
        assert_eq!(Role::parse_assignable("captain"), Ok(Role::Captain));
        assert_eq!(Role::parse_assignable("member"), Ok(Role::Member));
        assert!(Role::parse_assignable("owner").is_err());
        assert_eq!(Role::from_db("owner"), Some(Role::Owner));
        assert_eq!(Role::from_db("boss"), None);
    }

    #[test]
    fn the_cap_counts_the_current_members() {
        assert!(has_room(9, 10).is_ok());
        assert!(has_room(10, 10).is_err());
    }

    #[test]
    fn prefix_patterns_escape_like_wildcards() {
        assert_eq!(prefix_pattern("ab"), "ab%");
        assert_eq!(prefix_pattern("a%_\\"), "a\\%\\_\\\\%");
    }

    #[test]
    fn averages_round_half_away_from_zero() {
        assert_eq!(average(3, 2), Some(2));
        assert_eq!(average(2999, 2), Some(1500));
        assert_eq!(average(1000, 3), Some(333));
        assert_eq!(average(-3, 2), Some(-2));
        assert_eq!(average(5, 0), None);
    }
}
