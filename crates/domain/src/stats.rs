//! A player's per-mode record and how one result changes it.
//!
//! The streak is one signed number: positive is the current run of wins, negative the
//! current run of losses. A win after losses restarts it at +1, a loss after wins at −1,
//! and a draw resets it to 0, because a draw breaks a run of wins or losses without
//! starting either kind. One column (`streak`) therefore answers both "on a 5-win
//! streak?" (the achievement) and "losing streak?" without a second field.

use serde::{Deserialize, Serialize};

/// How one match ended for one player.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Win,
    Loss,
    Draw,
}

impl Outcome {
    /// The outcome for the player on `team` when `winner` won (`None`: a draw).
    pub fn for_team(team: usize, winner: Option<usize>) -> Outcome {
        match winner {
            None => Outcome::Draw,
            Some(w) if w == team => Outcome::Win,
            Some(_) => Outcome::Loss,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlayerStats {
    pub games: u32,
    pub wins: u32,
    pub losses: u32,
    pub draws: u32,
    /// > 0: consecutive wins; < 0: consecutive losses; 0 after a draw or before any game.
    pub streak: i32,
}

impl PlayerStats {
    /// The record after one more result.
    pub fn apply(self, outcome: Outcome) -> PlayerStats {
        let mut next = PlayerStats {
            games: self.games.saturating_add(1),
            ..self
        };
        match outcome {
            Outcome::Win => {
                next.wins = next.wins.saturating_add(1);
                next.streak = self.streak.max(0).saturating_add(1);
            }
            Outcome::Loss => {
                next.losses = next.losses.saturating_add(1);
                next.streak = self.streak.min(0).saturating_sub(1);
            }
            Outcome::Draw => {
                next.draws = next.draws.saturating_add(1);
                next.streak = 0;
            }
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::{Draw, Loss, Win};

    fn after(outcomes: &[Outcome]) -> PlayerStats {
        outcomes
            .iter()
            .fold(PlayerStats::default(), |s, o| s.apply(*o))
    }

    #[test]
    fn streaks_follow_the_documented_rule() {
        let table: &[(&[Outcome], i32)] = &[
            (&[], 0),
            (&[Win], 1),
            (&[Win, Win, Win], 3),
            (&[Loss], -1),
            (&[Loss, Loss], -2),
            (&[Loss, Loss, Win], 1),
            (&[Win, Win, Loss], -1),
            (&[Win, Win, Draw], 0),
            (&[Loss, Draw, Loss], -1),
        ];
        for (outcomes, streak) in table {
            assert_eq!(after(outcomes).streak, *streak, "{outcomes:?}");
        }
    }

    #[test]
    fn counters_add_up_to_games() {
        let s = after(&[Win, Loss, Draw, Win, Win]);
        assert_eq!((s.games, s.wins, s.losses, s.draws), (5, 3, 1, 1));
    }

    #[test]
    fn the_outcome_follows_the_winning_team() {
        assert_eq!(Outcome::for_team(0, Some(0)), Win);
        assert_eq!(Outcome::for_team(1, Some(0)), Loss);
        assert_eq!(Outcome::for_team(1, None), Draw);
    }
}
