//! Game modes as data: a mode name maps to a team count and a team size.
//!
//! Why data and not an enum: operators add or change modes (a 3v3, a 5-team free-for-all)
//! through one Spin variable without a rebuild. The table is parsed once from a compact
//! string, `name:TEAMSxSIZE` separated by commas, e.g. [`DEFAULT_MODES`]
//! (`"1v1:2x1,2v2:2x2,4v4:2x4"`). Parsing is strict: a typo in configuration should stop
//! start-up, not silently drop a mode.
//!
//! A mode's match size is capped at [`MAX_MATCH_SIZE`] players so the matchmaker's
//! exhaustive team balancing stays cheap.

use std::collections::HashSet;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, FieldError};

/// The modes RankedHonor ships with: three two-team modes.
pub const DEFAULT_MODES: &str = "1v1:2x1,2v2:2x2,4v4:2x4";
/// Largest `teams * team_size` a mode may declare.
pub const MAX_MATCH_SIZE: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mode {
    pub name: String,
    /// Number of teams in one match (at least 2).
    pub teams: usize,
    /// Players per team (at least 1).
    pub team_size: usize,
}

impl Mode {
    /// Players in one full match.
    pub fn match_size(&self) -> usize {
        self.teams * self.team_size
    }

    /// Checks a match roster: the right number of teams, each of the right size, and no
    /// player twice. Collects every problem so the caller sees them all at once.
    pub fn validate_roster(&self, teams: &[Vec<u64>]) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        if teams.len() != self.teams {
            errors.push(FieldError::new(
                "teams",
                format!(
                    "mode {} needs {} teams, got {}",
                    self.name,
                    self.teams,
                    teams.len()
                ),
            ));
        }
        let mut seen = HashSet::new();
        for (t, team) in teams.iter().enumerate() {
            if team.len() != self.team_size {
                errors.push(FieldError::new(
                    format!("teams[{t}]"),
                    format!(
                        "mode {} needs {} players per team, got {}",
                        self.name,
                        self.team_size,
                        team.len()
                    ),
                ));
            }
            for (p, user) in team.iter().enumerate() {
                if !seen.insert(*user) {
                    errors.push(FieldError::new(
                        format!("teams[{t}][{p}]"),
                        format!("user {user} appears more than once"),
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(errors))
        }
    }

    /// Checks a queueing party: 1 to `team_size` distinct players (a party always
    /// plays on one team).
    pub fn validate_party(&self, members: &[u64]) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        if members.is_empty() || members.len() > self.team_size {
            errors.push(FieldError::new(
                "party",
                format!(
                    "a party in mode {} has 1 to {} players, got {}",
                    self.name,
                    self.team_size,
                    members.len()
                ),
            ));
        }
        let mut seen = HashSet::new();
        for (i, user) in members.iter().enumerate() {
            if !seen.insert(*user) {
                errors.push(FieldError::new(
                    format!("party[{i}]"),
                    format!("user {user} appears more than once"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(errors))
        }
    }
}

/// The configured modes, in configuration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeTable {
    modes: Vec<Mode>,
}

impl Default for ModeTable {
    fn default() -> Self {
        DEFAULT_MODES
            .parse()
            .expect("the built-in mode table parses (checked by a test)")
    }
}

impl ModeTable {
    /// The mode called `name`, or [`DomainError::UnknownMode`] (a 422 at the boundary).
    pub fn get(&self, name: &str) -> Result<&Mode, DomainError> {
        self.modes
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| DomainError::UnknownMode(name.to_owned()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Mode> {
        self.modes.iter()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.modes.iter().map(|m| m.name.as_str())
    }
}

impl FromStr for ModeTable {
    type Err = DomainError;

    fn from_str(config: &str) -> Result<Self, Self::Err> {
        let bad = |m: String| DomainError::InvalidModeConfig(m);
        let mut modes: Vec<Mode> = Vec::new();
        for entry in config.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, shape) = entry
                .split_once(':')
                .ok_or_else(|| bad(format!("{entry:?}: expected name:TEAMSxSIZE")))?;
            let name = name.trim();
            if name.is_empty()
                || name.len() > 32
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(bad(format!(
                    "{name:?}: a mode name is 1-32 of [A-Za-z0-9_-] (it appears in URLs and channel names)"
                )));
            }
            let (teams, size) = shape
                .trim()
                .split_once(['x', 'X'])
                .ok_or_else(|| bad(format!("{entry:?}: expected name:TEAMSxSIZE")))?;
            let teams: usize = teams
                .trim()
                .parse()
                .map_err(|_| bad(format!("{entry:?}: team count is not a number")))?;
            let team_size: usize = size
                .trim()
                .parse()
                .map_err(|_| bad(format!("{entry:?}: team size is not a number")))?;
            if teams < 2 || team_size < 1 || teams * team_size > MAX_MATCH_SIZE {
                return Err(bad(format!(
                    "{entry:?}: needs at least 2 teams of at least 1 player, at most {MAX_MATCH_SIZE} players"
                )));
            }
            if modes.iter().any(|m| m.name == name) {
                return Err(bad(format!("mode {name:?} is declared twice")));
            }
            modes.push(Mode {
                name: name.to_owned(),
                teams,
                team_size,
            });
        }
        if modes.is_empty() {
            return Err(bad("no modes configured".to_owned()));
        }
        Ok(Self { modes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(err: DomainError) -> Vec<String> {
        match err {
            DomainError::Invalid(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn the_default_table_has_1v1_2v2_and_4v4_with_two_teams() {
        let table = ModeTable::default();
        assert_eq!(table.names().collect::<Vec<_>>(), ["1v1", "2v2", "4v4"]);
        for (name, size) in [("1v1", 2), ("2v2", 4), ("4v4", 8)] {
            let mode = table.get(name).unwrap();
            assert_eq!(mode.teams, 2);
            assert_eq!(mode.match_size(), size);
        }
    }

    #[test]
    fn an_unknown_mode_is_an_unknown_mode_error() {
        assert_eq!(
            ModeTable::default().get("5v5"),
            Err(DomainError::UnknownMode("5v5".into()))
        );
    }

    #[test]
    fn a_custom_table_parses_with_whitespace_and_other_shapes() {
        let table: ModeTable = " 3v3 : 2x3 , ffa:4X1 ,".parse().unwrap();
        assert_eq!(table.get("3v3").unwrap().match_size(), 6);
        let ffa = table.get("ffa").unwrap();
        assert_eq!((ffa.teams, ffa.team_size), (4, 1));
    }

    #[test]
    fn malformed_tables_are_refused() {
        for config in [
            "",
            "1v1",
            "1v1:2",
            "1v1:ax1",
            "1v1:1x1",
            "1v1:2x0",
            "big:2x9",
            "1v1:2x1,1v1:2x2",
            "bad name:2x1",
            "a/b:2x1",
        ] {
            assert!(
                matches!(
                    config.parse::<ModeTable>(),
                    Err(DomainError::InvalidModeConfig(_))
                ),
                "{config:?} was accepted"
            );
        }
    }

    #[test]
    fn a_correct_roster_is_accepted() {
        let mode = ModeTable::default().get("2v2").unwrap().clone();
        assert_eq!(mode.validate_roster(&[vec![1, 2], vec![3, 4]]), Ok(()));
    }

    #[test]
    fn roster_errors_name_each_offending_field() {
        let mode = ModeTable::default().get("2v2").unwrap().clone();
        assert_eq!(
            fields(mode.validate_roster(&[vec![1, 2], vec![3]]).unwrap_err()),
            ["teams[1]"]
        );
        assert_eq!(
            fields(mode.validate_roster(&[vec![1, 2]]).unwrap_err()),
            ["teams"]
        );
        assert_eq!(
            fields(mode.validate_roster(&[vec![1, 2], vec![3, 1]]).unwrap_err()),
            ["teams[1][1]"]
        );
        assert_eq!(
            fields(
                mode.validate_roster(&[vec![1, 2], vec![2, 2, 3]])
                    .unwrap_err()
            ),
            ["teams[1]", "teams[1][0]", "teams[1][1]"]
        );
    }

    #[test]
    fn a_party_must_fit_one_team_without_duplicates() {
        let mode = ModeTable::default().get("2v2").unwrap().clone();
        assert_eq!(mode.validate_party(&[1]), Ok(()));
        assert_eq!(mode.validate_party(&[1, 2]), Ok(()));
        assert_eq!(
            fields(mode.validate_party(&[1, 2, 3]).unwrap_err()),
            ["party"]
        );
        assert_eq!(fields(mode.validate_party(&[]).unwrap_err()), ["party"]);
        assert_eq!(
            fields(mode.validate_party(&[4, 4]).unwrap_err()),
            ["party[1]"]
        );
    }
}
