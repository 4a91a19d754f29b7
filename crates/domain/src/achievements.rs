//! Achievements as data: each is a code, a name, a description and one threshold on a
//! player's progress; [`newly_unlocked`] is the whole unlock rule.
//!
//! Why a table and not code per achievement: adding one is a one-line change, the set is
//! listable (for `GET /users/{id}/achievements` and docs), and the rule is a pure function
//! of (progress, already unlocked), so result processing unlocks each at most once by
//! passing in what the database already holds (the database's unique key is the final
//! guard against a concurrent duplicate).
//!
//! Progress is the caller's choice of scope: result processing passes the player's wins
//! and kills summed over modes, the current streak and the mmr in the mode just played, so
//! "reach 1800" means in any mode.

use serde::Serialize;

/// What a player must reach. All thresholds are "at least".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "at_least", rename_all = "snake_case")]
pub enum Requirement {
    Wins(u32),
    WinStreak(i32),
    Mmr(i32),
    Kills(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Achievement {
    /// Stable identifier stored in the database; never rename one.
    pub code: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub requirement: Requirement,
}

pub const ACHIEVEMENTS: &[Achievement] = &[
    Achievement {
        code: "first_win",
        name: "First Blood",
        description: "Win your first ranked match.",
        requirement: Requirement::Wins(1),
    },
    Achievement {
        code: "ten_wins",
        name: "Seasoned",
        description: "Win 10 ranked matches.",
        requirement: Requirement::Wins(10),
    },
    Achievement {
        code: "win_streak_5",
        name: "On Fire",
        description: "Win 5 ranked matches in a row.",
        requirement: Requirement::WinStreak(5),
    },
    Achievement {
        code: "mmr_1800",
        name: "Contender",
        description: "Reach 1800 mmr in any mode.",
        requirement: Requirement::Mmr(1800),
    },
    Achievement {
        code: "mmr_2000",
        name: "Elite",
        description: "Reach 2000 mmr in any mode.",
        requirement: Requirement::Mmr(2000),
    },
    Achievement {
        code: "kills_100",
        name: "Centurion",
        description: "Score 100 kills in ranked matches.",
        requirement: Requirement::Kills(100),
    },
];

/// A player's standing after a result, as far as achievements care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub wins: u32,
    /// Signed streak as in [`crate::stats::PlayerStats::streak`].
    pub streak: i32,
    pub mmr: i32,
    pub total_kills: u64,
}

impl Requirement {
    pub fn is_met(self, p: &Progress) -> bool {
        match self {
            Requirement::Wins(n) => p.wins >= n,
            Requirement::WinStreak(n) => p.streak >= n,
            Requirement::Mmr(n) => p.mmr >= n,
            Requirement::Kills(n) => p.total_kills >= n,
        }
    }
}

/// The achievement with this code.
pub fn find(code: &str) -> Option<&'static Achievement> {
    ACHIEVEMENTS.iter().find(|a| a.code == code)
}

/// Achievements whose requirement `progress` meets and whose code is not in `unlocked`,
/// in table order.
pub fn newly_unlocked<S: AsRef<str>>(
    progress: &Progress,
    unlocked: &[S],
) -> Vec<&'static Achievement> {
    ACHIEVEMENTS
        .iter()
        .filter(|a| a.requirement.is_met(progress))
        .filter(|a| !unlocked.iter().any(|u| u.as_ref() == a.code))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(list: Vec<&'static Achievement>) -> Vec<&'static str> {
        list.into_iter().map(|a| a.code).collect()
    }

    const NONE: &[&str] = &[];

    #[test]
    fn each_threshold_unlocks_exactly_at_its_value() {
        let base = Progress {
            mmr: 1500,
            ..Progress::default()
        };
        let table: &[(Progress, &[&str])] = &[
            (base, &[]),
            (
                Progress {
                    wins: 1,
                    streak: 1,
                    ..base
                },
                &["first_win"],
            ),
            (Progress { wins: 9, ..base }, &["first_win"]),
            (Progress { wins: 10, ..base }, &["first_win", "ten_wins"]),
            (
                Progress {
                    wins: 5,
                    streak: 4,
                    ..base
                },
                &["first_win"],
            ),
            (
                Progress {
                    wins: 5,
                    streak: 5,
                    ..base
                },
                &["first_win", "win_streak_5"],
            ),
            (Progress { mmr: 1799, ..base }, &[]),
            (Progress { mmr: 1800, ..base }, &["mmr_1800"]),
            (Progress { mmr: 2000, ..base }, &["mmr_1800", "mmr_2000"]),
            (
                Progress {
                    total_kills: 99,
                    ..base
                },
                &[],
            ),
            (
                Progress {
                    total_kills: 100,
                    ..base
                },
                &["kills_100"],
            ),
        ];
        for (progress, expected) in table {
            assert_eq!(
                codes(newly_unlocked(progress, NONE)),
                *expected,
                "{progress:?}"
            );
        }
    }

    #[test]
    fn already_unlocked_codes_are_never_returned_again() {
        let p = Progress {
            wins: 12,
            streak: 6,
            mmr: 2050,
            total_kills: 300,
        };
        assert_eq!(newly_unlocked(&p, NONE).len(), ACHIEVEMENTS.len());
        let owned = vec!["first_win".to_string(), "mmr_1800".to_string()];
        assert_eq!(
            codes(newly_unlocked(&p, &owned)),
            ["ten_wins", "win_streak_5", "mmr_2000", "kills_100"]
        );
        let all: Vec<&str> = ACHIEVEMENTS.iter().map(|a| a.code).collect();
        assert!(newly_unlocked(&p, &all).is_empty());
    }

    #[test]
    fn a_losing_streak_never_counts_as_a_win_streak() {
        let p = Progress {
            streak: -7,
            ..Progress::default()
        };
        assert!(newly_unlocked(&p, NONE).is_empty());
    }

    #[test]
    fn codes_are_unique_and_findable() {
        for a in ACHIEVEMENTS {
            assert_eq!(find(a.code), Some(a));
        }
        assert_eq!(find("nope"), None);
    }

    #[test]
    fn requirements_serialise_with_kind_and_threshold() {
        let json = serde_json::to_value(find("mmr_2000").unwrap()).unwrap();
        assert_eq!(
            json["requirement"],
            serde_json::json!({"kind": "mmr", "at_least": 2000})
        );
    }
}
