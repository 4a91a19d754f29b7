//! Teams (guilds): creation, invitations, roles, ownership, the size cap, team views,
//! search and team rankings; plus the caller's own audit trail ([`activity`]), served by
//! the same component.
//!
//! # Layout
//! - [`rules`]: pure rules (name and tag parsing, who may do what, the cap), unit-tested.
//! - [`store`]: reads (team with members and mmr, search, rankings) and the team lock.
//! - [`membership`]: every change, one transaction each, locked on the team row.
//! - [`notify`]: notifications written in the transaction, published after commit.
//! - [`activity`]: `GET /api/v1/users/me/activity`.
//!
//! # Roles
//! | action | owner | captain | member | invitee |
//! |---|---|---|---|---|
//! | invite | yes | yes | 403 | |
//! | accept / decline an invitation | | | | only they |
//! | remove a member | yes | plain members only | 403 | |
//! | promote / demote (captain ↔ member) | yes | 403 | 403 | |
//! | transfer ownership | yes | 403 | 403 | |
//! | disband | yes | 403 | 403 | |
//! | leave | 409 (transfer or disband first) | yes | yes | |

pub mod activity;
pub mod membership;
pub mod notify;
pub mod rules;
pub mod store;

use rh_infra::config::{self, ConfigError};

/// `team_size_cap`: most members a team may have (default 10, at least 1).
pub fn size_cap() -> Result<u64, ConfigError> {
    let raw = config::get_or("team_size_cap", "10");
    match raw.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ConfigError::Invalid {
            name: "team_size_cap".into(),
            why: format!("`{raw}` is not a positive integer"),
        }),
    }
}
