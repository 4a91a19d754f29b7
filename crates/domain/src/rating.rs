//! Team-aware skill ratings: the Weng-Lin Bayesian model (Weng & Lin, 2011, "A Bayesian
//! Approximation Method for Online Ranking"), Plackett-Luce variant, as popularised by
//! OpenSkill.
//!
//! Why this model: it rates any number of teams of any size in one update (1v1, 2v2 and
//! 4v4 use the same code), handles draws through tied ranks, keeps a per-player
//! uncertainty σ that shrinks as games are played, and has published test vectors we
//! check against (see the tests: the 2-team vector of the OpenSkill docs at our default
//! scale, and openskill.py's generated data for shuffled ranks, three teams and ties,
//! matched to 1e-9).
//!
//! # The update (Algorithm 4 of the paper)
//! A team's strength is the sum of its players' μ and its variance the sum of their σ².
//! With `c = sqrt(Σ_teams (σ²_team + β²))`, each team `i` collects, over every team `q`
//! ranked at or above it (`rank_q <= rank_i`, lower is better), the probability
//! `p = exp(μ_i/c) / Σ_{s: rank_s >= rank_q} exp(μ_s/c)` weighted by `1/A_q`, where
//! `A_q` counts the teams sharing `q`'s rank (that is how ties are split):
//! `Ω_i = σ²_i/c · Σ_q ([q = i] − p)/A_q` and `Δ_i = γ_i · σ²_i/c² · Σ_q p(1 − p)/A_q`,
//! with OpenSkill's default `γ_i = σ_i/c`. Each player then moves in proportion to
//! their share of the team variance: `μ += σ²/σ²_i · Ω_i` and
//! `σ *= sqrt(max(1 − σ²/σ²_i · Δ_i, κ))`; κ is the floor that keeps σ positive.
//! Before the update every σ is widened by the dynamics factor τ (`σ² + τ²`); our
//! default τ = 0 so σ never grows from one match.
//!
//! # Displayed mmr
//! `mmr = round(1500 + 40 · (μ − 25))`. We show μ, not a conservative ordinal such as
//! `μ − 3σ`, because an ordinal rises for a new player even when they lose (σ shrinks
//! faster than μ falls), which reads as a bug on a ranked ladder: with μ a win never
//! lowers and a loss never raises the shown number. The uncertainty σ is stored and
//! exposed beside it. The factor 40 makes β (25/6 ≈ 4.17 μ) about 167 mmr, so gaps read
//! roughly like Elo (one β of skill gap ≈ a 3-in-4 favourite), the default tiers and
//! achievement thresholds (1800, 2000) sit 7.5 and 12.5 μ above a new player, and a new
//! player shows exactly 1500.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Displayed mmr of a brand-new player.
pub const MMR_CENTRE: i32 = 1500;
/// Displayed mmr points per unit of μ.
pub const MMR_PER_MU: f64 = 40.0;

/// One player's skill belief: mean μ and standard deviation σ ("uncertainty").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub mu: f64,
    pub sigma: f64,
}

impl Default for Rating {
    /// A new player at OpenSkill's default scale.
    fn default() -> Self {
        RatingParams::default().new_rating()
    }
}

impl Rating {
    pub fn new(mu: f64, sigma: f64) -> Self {
        Self { mu, sigma }
    }

    /// The integer shown to players (see the module doc for the mapping).
    pub fn mmr(&self) -> i32 {
        mmr_from_mu(self.mu)
    }

    /// σ, the model's uncertainty about this player's μ.
    pub fn uncertainty(&self) -> f64 {
        self.sigma
    }

    /// The rating whose displayed mmr is `mmr`, with the given σ. Used when an admin
    /// sets a rating by its displayed value.
    pub fn from_mmr(mmr: i32, sigma: f64) -> Self {
        Self {
            mu: 25.0 + (f64::from(mmr) - f64::from(MMR_CENTRE)) / MMR_PER_MU,
            sigma,
        }
    }
}

/// Maps μ to the displayed mmr scale.
pub fn mmr_from_mu(mu: f64) -> i32 {
    let raw = (f64::from(MMR_CENTRE) + (mu - 25.0) * MMR_PER_MU).round();
    // Saturating: a wildly out-of-range μ must not wrap around.
    raw.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
}

/// Model parameters. `Default` is OpenSkill's scale with τ = 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatingParams {
    /// μ of a new player.
    pub mu: f64,
    /// σ of a new player.
    pub sigma: f64,
    /// Performance noise: the skill gap that makes a result fairly (not totally) predictable.
    pub beta: f64,
    /// Floor on the σ shrink factor, so σ stays positive.
    pub kappa: f64,
    /// Dynamics: added (in quadrature) to every σ before each update, letting ratings drift.
    pub tau: f64,
}

impl Default for RatingParams {
    fn default() -> Self {
        Self {
            mu: 25.0,
            sigma: 25.0 / 3.0,
            beta: 25.0 / 6.0,
            kappa: 0.0001,
            tau: 0.0,
        }
    }
}

/// Per-team aggregate used by the update.
struct TeamAgg {
    mu: f64,
    sigma_sq: f64,
    rank: u32,
}

impl RatingParams {
    pub fn new_rating(&self) -> Rating {
        Rating::new(self.mu, self.sigma)
    }

    /// Rates one game. `ranks[i]` is team `i`'s finishing place; lower is better and
    /// equal values are a tie. Returns the new ratings in the input's shape and order.
    pub fn rate(
        &self,
        teams: &[Vec<Rating>],
        ranks: &[u32],
    ) -> Result<Vec<Vec<Rating>>, DomainError> {
        check_input(teams, ranks)?;
        let tau_sq = self.tau * self.tau;
        let teams: Vec<Vec<Rating>> = teams
            .iter()
            .map(|t| {
                t.iter()
                    .map(|p| Rating::new(p.mu, (p.sigma * p.sigma + tau_sq).sqrt()))
                    .collect()
            })
            .collect();

        let aggs: Vec<TeamAgg> = teams
            .iter()
            .zip(ranks)
            .map(|(t, &rank)| TeamAgg {
                mu: t.iter().map(|p| p.mu).sum(),
                sigma_sq: t.iter().map(|p| p.sigma * p.sigma).sum(),
                rank,
            })
            .collect();
        let beta_sq = self.beta * self.beta;
        let c = aggs
            .iter()
            .map(|t| t.sigma_sq + beta_sq)
            .sum::<f64>()
            .sqrt();
        let exp_mu: Vec<f64> = aggs.iter().map(|t| (t.mu / c).exp()).collect();
        // sum_q[q]: the "still in the race" denominator for place q — every team that
        // finished at or below q.
        let sum_q: Vec<f64> = aggs
            .iter()
            .map(|q| {
                aggs.iter()
                    .zip(&exp_mu)
                    .filter(|(s, _)| s.rank >= q.rank)
                    .map(|(_, e)| e)
                    .sum()
            })
            .collect();
        let ties: Vec<f64> = aggs
            .iter()
            .map(|q| aggs.iter().filter(|s| s.rank == q.rank).count() as f64)
            .collect();

        let mut out = Vec::with_capacity(teams.len());
        for (i, (team, agg)) in teams.iter().zip(&aggs).enumerate() {
            let mut omega = 0.0;
            let mut delta = 0.0;
            for (q, other) in aggs.iter().enumerate() {
                if other.rank > agg.rank {
                    continue;
                }
                let p = exp_mu[i] / sum_q[q];
                delta += p * (1.0 - p) / ties[q];
                omega += if q == i { 1.0 - p } else { -p } / ties[q];
            }
            omega *= agg.sigma_sq / c;
            let gamma = agg.sigma_sq.sqrt() / c;
            delta *= gamma * agg.sigma_sq / (c * c);

            out.push(
                team.iter()
                    .map(|p| {
                        let share = p.sigma * p.sigma / agg.sigma_sq;
                        Rating::new(
                            p.mu + share * omega,
                            p.sigma * (1.0 - share * delta).max(self.kappa).sqrt(),
                        )
                    })
                    .collect(),
            );
        }
        Ok(out)
    }

    /// Rates a match with one winning team (`Some(index)`) or a draw (`None`): the
    /// winner takes rank 0 and everyone else shares rank 1; a draw ties every team.
    pub fn rate_match(
        &self,
        teams: &[Vec<Rating>],
        winner: Option<usize>,
    ) -> Result<Vec<Vec<Rating>>, DomainError> {
        if let Some(w) = winner {
            if w >= teams.len() {
                return Err(DomainError::InvalidRatingInput(format!(
                    "winner team {w} out of range for {} teams",
                    teams.len()
                )));
            }
        }
        let ranks: Vec<u32> = (0..teams.len())
            .map(|i| match winner {
                Some(w) if w == i => 0,
                Some(_) => 1,
                None => 0,
            })
            .collect();
        self.rate(teams, &ranks)
    }
}

/// [`RatingParams::rate_match`] at the default parameters.
///
/// # Panics
/// If the input is invalid (fewer than two teams, an empty team, a winner index out of
/// range, a non-finite μ or a non-positive σ). Callers validate the roster against the
/// mode first; use [`RatingParams::rate_match`] to get an error instead.
pub fn rate_match(teams: &[Vec<Rating>], winner: Option<usize>) -> Vec<Vec<Rating>> {
    match RatingParams::default().rate_match(teams, winner) {
        Ok(rated) => rated,
        Err(e) => panic!("rate_match called with invalid input: {e}"),
    }
}

fn check_input(teams: &[Vec<Rating>], ranks: &[u32]) -> Result<(), DomainError> {
    let bad = |m: String| Err(DomainError::InvalidRatingInput(m));
    if teams.len() < 2 {
        return bad(format!("need at least 2 teams, got {}", teams.len()));
    }
    if ranks.len() != teams.len() {
        return bad(format!("{} ranks for {} teams", ranks.len(), teams.len()));
    }
    for (i, team) in teams.iter().enumerate() {
        if team.is_empty() {
            return bad(format!("team {i} is empty"));
        }
        if team
            .iter()
            .any(|p| !p.mu.is_finite() || !p.sigma.is_finite() || p.sigma <= 0.0)
        {
            return bad(format!(
                "team {i} has a non-finite mu or a non-positive sigma"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn assert_close(actual: Rating, mu: f64, sigma: f64) {
        assert!(
            (actual.mu - mu).abs() < 1e-4 && (actual.sigma - sigma).abs() < 1e-4,
            "got ({}, {}), expected ({mu}, {sigma})",
            actual.mu,
            actual.sigma
        );
    }

    #[test]
    fn two_team_win_matches_the_published_openskill_vector() {
        let teams = vec![
            vec![Rating::new(25.0, 25.0 / 3.0), Rating::new(32.444, 5.123)],
            vec![Rating::new(43.381, 2.421), Rating::new(25.188, 6.211)],
        ];
        let rated = rate_match(&teams, Some(0));
        assert_close(rated[0][0], 28.669648, 8.071521);
        assert_close(rated[0][1], 33.830870, 5.062773);
        assert_close(rated[1][0], 43.071275, 2.416690);
        assert_close(rated[1][1], 23.149503, 6.137861);
    }

    /// Expected values from openskill.py's generated test data for Plackett-Luce
    /// (`tests/models/data/plackettluce.json`): a random model scale (μ ≈ 31.32,
    /// σ ≈ 11.38) with OpenSkill's β = 25/6 and τ = 25/300. They pin down the parts the
    /// 2-team vector cannot: shuffled ranks, three teams, uneven sizes and ties.
    #[test]
    fn multi_team_ranks_and_ties_match_openskill_py_test_data() {
        let (mu, sigma) = (31.321989232514305, 11.379964801443018);
        let p = RatingParams {
            mu,
            sigma,
            beta: 25.0 / 6.0,
            kappa: 0.0001,
            tau: 25.0 / 300.0,
        };
        let r = p.new_rating();
        let exact = |got: Rating, mu: f64, sigma: f64| {
            assert!(
                (got.mu - mu).abs() < 1e-9 && (got.sigma - sigma).abs() < 1e-9,
                "got {got:?}, expected ({mu}, {sigma})"
            );
        };
        // "normal": team 1 (1 player) beats team 2 (2 players).
        let normal = p.rate(&[vec![r], vec![r, r]], &[0, 1]).unwrap();
        exact(normal[0][0], 36.48967347401391, 11.237778601372977);
        exact(normal[1][1], 26.154304991014694, 11.17822477763209);
        // "ranks": the same teams with ranks [2, 1]: team 2 wins.
        let ranks = p.rate(&[vec![r], vec![r, r]], &[2, 1]).unwrap();
        exact(ranks[0][0], 30.19454401757094, 11.237778601372977);
        exact(ranks[1][0], 32.44943444745767, 11.17822477763209);
        // "limit_sigma" (no σ rose, so the limit did not apply): three teams, ranks [2, 1, 3].
        let three = p
            .rate(&[vec![r], vec![r; 2], vec![r; 3]], &[2, 1, 3])
            .unwrap();
        exact(three[0][0], 35.008962716922355, 11.322612945836939);
        exact(three[1][1], 34.774820565754936, 11.291328826858104);
        exact(three[2][2], 24.182184414865624, 11.192736898569162);
        // "ties": ranks [1, 2, 1], teams 1 and 3 share first place.
        let ties = p
            .rate(&[vec![r], vec![r; 2], vec![r; 3]], &[1, 2, 1])
            .unwrap();
        exact(ties[0][0], 33.21874815457553, 11.354896725884002);
        exact(ties[1][0], 30.27713112192334, 11.291328826858104);
        exact(ties[2][1], 30.470088421044046, 11.249240904583088);
    }

    #[test]
    fn ranks_give_the_same_result_as_the_winner_shorthand() {
        let teams = vec![
            vec![Rating::new(43.381, 2.421), Rating::new(25.188, 6.211)],
            vec![Rating::new(25.0, 25.0 / 3.0), Rating::new(32.444, 5.123)],
        ];
        let by_rank = RatingParams::default().rate(&teams, &[1, 0]).unwrap();
        assert_eq!(by_rank, rate_match(&teams, Some(1)));
        assert_close(by_rank[1][0], 28.669648, 8.071521);
        assert_close(by_rank[0][1], 23.149503, 6.137861);
    }

    #[test]
    fn a_draw_between_identical_teams_keeps_mu_and_shrinks_sigma() {
        let teams = vec![vec![Rating::default(); 2], vec![Rating::default(); 2]];
        let rated = rate_match(&teams, None);
        for p in rated.iter().flatten() {
            assert!((p.mu - 25.0).abs() < 1e-9, "mu moved to {}", p.mu);
            assert!(p.sigma < 25.0 / 3.0);
        }
    }

    #[test]
    fn a_three_way_free_for_all_orders_the_mu_changes_by_place() {
        let teams = vec![vec![Rating::default()]; 3];
        let rated = RatingParams::default().rate(&teams, &[2, 0, 1]).unwrap();
        assert!(rated[1][0].mu > rated[2][0].mu);
        assert!(rated[2][0].mu > rated[0][0].mu);
        assert!(rated[1][0].mu > 25.0 && rated[0][0].mu < 25.0);
    }

    #[test]
    fn tau_widens_sigma_before_the_update() {
        let params = RatingParams {
            tau: 1.0,
            ..RatingParams::default()
        };
        let teams = vec![vec![Rating::new(25.0, 0.5)], vec![Rating::new(25.0, 0.5)]];
        let rated = params.rate_match(&teams, None).unwrap();
        assert!(rated[0][0].sigma > 0.5, "sigma {}", rated[0][0].sigma);
    }

    #[test]
    fn invalid_inputs_are_errors_not_panics() {
        let p = RatingParams::default();
        let one = vec![vec![Rating::default()]];
        assert!(p.rate_match(&one, Some(0)).is_err());
        let two = vec![vec![Rating::default()], vec![Rating::default()]];
        assert!(p.rate_match(&two, Some(2)).is_err());
        assert!(p.rate(&two, &[0]).is_err());
        assert!(p
            .rate_match(&[vec![Rating::default()], vec![]], None)
            .is_err());
        assert!(p
            .rate_match(
                &[vec![Rating::new(25.0, 0.0)], vec![Rating::default()]],
                None
            )
            .is_err());
    }

    #[test]
    fn a_new_player_shows_exactly_1500() {
        assert_eq!(Rating::default().mmr(), 1500);
        assert_eq!(Rating::default().uncertainty(), 25.0 / 3.0);
    }

    #[test]
    fn mmr_mapping_round_trips_and_saturates() {
        assert_eq!(Rating::new(32.5, 1.0).mmr(), 1800);
        assert_eq!(Rating::from_mmr(2000, 3.0).mmr(), 2000);
        assert_eq!(Rating::from_mmr(1234, 3.0).mmr(), 1234);
        assert_eq!(mmr_from_mu(1e300), i32::MAX);
        assert_eq!(Rating::from_mmr(i32::MIN, 1.0).mmr(), i32::MIN);
    }

    fn rating() -> impl Strategy<Value = Rating> {
        (0.0f64..50.0, 0.5f64..9.0).prop_map(|(mu, sigma)| Rating::new(mu, sigma))
    }

    fn two_teams() -> impl Strategy<Value = Vec<Vec<Rating>>> {
        (1usize..=4)
            .prop_flat_map(|size| prop::collection::vec(prop::collection::vec(rating(), size), 2))
    }

    proptest! {
        #[test]
        fn winners_never_lose_and_losers_never_gain(teams in two_teams(), winner in 0usize..2) {
            let rated = rate_match(&teams, Some(winner));
            for (t, team) in rated.iter().enumerate() {
                for (p, after) in team.iter().enumerate() {
                    let before = teams[t][p];
                    if t == winner {
                        prop_assert!(after.mu >= before.mu);
                        prop_assert!(after.mmr() >= before.mmr());
                    } else {
                        prop_assert!(after.mu <= before.mu);
                        prop_assert!(after.mmr() <= before.mmr());
                    }
                }
            }
        }

        #[test]
        fn sigma_never_grows_with_tau_zero(teams in two_teams(), winner in prop::option::of(0usize..2)) {
            let rated = rate_match(&teams, winner);
            for (before, after) in teams.iter().flatten().zip(rated.iter().flatten()) {
                prop_assert!(after.sigma <= before.sigma);
                prop_assert!(after.sigma > 0.0);
            }
        }

        #[test]
        fn in_a_free_for_all_first_never_loses_last_never_gains(
            players in prop::collection::vec(rating(), 3..6),
        ) {
            // Distinct places 0..n: team 0 wins, the last team finishes last.
            let teams: Vec<Vec<Rating>> = players.iter().map(|p| vec![*p]).collect();
            let ranks: Vec<u32> = (0..teams.len() as u32).collect();
            let rated = RatingParams::default().rate(&teams, &ranks).unwrap();
            let last = teams.len() - 1;
            prop_assert!(rated[0][0].mu >= teams[0][0].mu);
            prop_assert!(rated[last][0].mu <= teams[last][0].mu);
            for (before, after) in teams.iter().flatten().zip(rated.iter().flatten()) {
                prop_assert!(after.sigma <= before.sigma && after.sigma > 0.0);
            }
        }

        #[test]
        fn a_draw_between_equals_changes_little(r in rating(), size in 1usize..=4) {
            let teams = vec![vec![r; size], vec![r; size]];
            let rated = rate_match(&teams, None);
            for p in rated.iter().flatten() {
                prop_assert!((p.mu - r.mu).abs() < 1e-9);
                prop_assert_eq!(p.mmr(), r.mmr());
            }
        }
    }
}
