//! Predicted match quality under our rating model: each team's chance of winning, the
//! chance of a draw, and one quality number the matcher compares against a threshold.
//!
//! # The predictions (OpenSkill's `predict_win` / `predict_draw`)
//! A team's strength is the sum of its players' μ and its variance the sum of their σ²,
//! as in [`crate::rating`]. For two teams `a` and `b`, with
//! `d = sqrt(2β² + σ²_a + σ²_b)`:
//! - `P(a beats b) = Φ((μ_a − μ_b) / d)` and `P(b) = 1 − P(a)`;
//! - with more teams, each team's pairwise chances against every other team are
//!   averaged and the averages normalised to sum to 1;
//! - `P(draw)` is the mean over team pairs of `Φ((m − μ_a + μ_b)/d) − Φ((μ_b − μ_a − m)/d)`
//!   with the draw margin `m = sqrt(N) · β · Φ⁻¹((1 + 1/N) / 2)` for `N` players in all.
//!
//! These are exactly openskill.py's formulas for its Plackett-Luce model, so the tests
//! pin them to openskill.py's published values (its manual and its test suite).
//! σ enters the denominator: the more uncertain the players, the closer every
//! prediction is to a coin flip. That is what makes the matcher uncertainty-aware
//! without special cases: a new player's lopsided-looking match still predicts close.
//!
//! # Quality
//! [`Prediction::quality`] is `1 − edge / (1 − 1/n)` where `edge = max P(win) − 1/n`
//! for `n` teams: 1 for a coin flip, 0 when one team is certain to win. For two teams it
//! is `2 · (1 − P(favourite))`: a 60 % favourite is quality 0.8, 70 % is 0.6.
//! Why the favourite's edge and not the draw probability (TrueSkill's quality): players
//! judge a match by whether it was close, and the edge reads directly as "the favourite
//! wins 65 % of these"; the draw probability depends on the player count and is near
//! zero for multi-team modes, so one threshold could not serve every mode.

use serde::{Deserialize, Serialize};

use crate::rating::{Rating, RatingParams};

/// The standard normal CDF Φ.
pub fn phi(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Φ⁻¹ for `p` in (0, 1): Acklam's rational approximation refined by one Halley step
/// against [`phi`] (relative error about 1e-15).
pub fn phi_inverse(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let low = 0.02425;
    let x = if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley step.
    let e = phi(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// A team reduced to what the predictions need: Σμ, Σσ² and its player count.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TeamStrength {
    pub mu: f64,
    pub sigma_sq: f64,
    pub players: u32,
}

impl TeamStrength {
    pub fn of(team: &[Rating]) -> Self {
        let mut s = TeamStrength::default();
        for r in team {
            s.add(*r);
        }
        s
    }

    pub fn add(&mut self, r: Rating) {
        self.mu += r.mu;
        self.sigma_sq += r.sigma * r.sigma;
        self.players += 1;
    }
}

/// Each team's predicted chance of winning and the draw chance of one proposed match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Per team, in the match's team order; sums to 1.
    pub win: Vec<f64>,
    pub draw: f64,
}

impl Prediction {
    /// The favourite's predicted win probability.
    pub fn favourite(&self) -> f64 {
        self.win.iter().copied().fold(0.0, f64::max)
    }

    /// 1 for a coin flip, 0 for a certain winner (see the module doc).
    pub fn quality(&self) -> f64 {
        quality_of(&self.win)
    }
}

/// [`Prediction::quality`] of a list of win probabilities.
pub fn quality_of(win: &[f64]) -> f64 {
    let n = win.len().max(2) as f64;
    let fav = win.iter().copied().fold(0.0, f64::max);
    (1.0 - (fav - 1.0 / n) / (1.0 - 1.0 / n)).clamp(0.0, 1.0)
}

/// [`Prediction::quality`] of teams, without the draw chance or an allocation for two
/// teams: what the matcher compares for every candidate group. Equal, bit for bit, to
/// `predict_strengths(params, teams).quality()`.
pub fn quality_of_strengths(params: &RatingParams, teams: &[TeamStrength]) -> f64 {
    if teams.len() == 2 {
        let p = phi((teams[0].mu - teams[1].mu) / pair_denominator(params, &teams[0], &teams[1]));
        return quality_of(&[p, 1.0 - p]);
    }
    quality_of(&predict_win(params, teams))
}

fn pair_denominator(params: &RatingParams, a: &TeamStrength, b: &TeamStrength) -> f64 {
    (2.0 * params.beta * params.beta + a.sigma_sq + b.sigma_sq).sqrt()
}

/// Each team's chance of winning (openskill.py's `predict_win`).
pub fn predict_win(params: &RatingParams, teams: &[TeamStrength]) -> Vec<f64> {
    let n = teams.len();
    if n < 2 {
        return vec![1.0; n];
    }
    if n == 2 {
        let p = phi((teams[0].mu - teams[1].mu) / pair_denominator(params, &teams[0], &teams[1]));
        return vec![p, 1.0 - p];
    }
    let mut win: Vec<f64> = teams
        .iter()
        .enumerate()
        .map(|(i, a)| {
            teams
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, b)| phi((a.mu - b.mu) / pair_denominator(params, a, b)))
                .sum::<f64>()
                / (n - 1) as f64
        })
        .collect();
    let total: f64 = win.iter().sum();
    win.iter_mut().for_each(|p| *p /= total);
    win
}

/// The chance of a draw (openskill.py's `predict_draw`).
pub fn predict_draw(params: &RatingParams, teams: &[TeamStrength]) -> f64 {
    let players: u32 = teams.iter().map(|t| t.players).sum();
    if teams.len() < 2 || players == 0 {
        return 0.0;
    }
    let total = f64::from(players);
    let margin = total.sqrt() * params.beta * phi_inverse((1.0 + 1.0 / total) / 2.0);
    let mut sum = 0.0;
    let mut pairs = 0;
    for (i, a) in teams.iter().enumerate() {
        for b in &teams[i + 1..] {
            let d = pair_denominator(params, a, b);
            sum += phi((margin - a.mu + b.mu) / d) - phi((b.mu - a.mu - margin) / d);
            pairs += 1;
        }
    }
    sum / f64::from(pairs)
}

/// Both predictions for teams of players' ratings.
pub fn predict(params: &RatingParams, teams: &[Vec<Rating>]) -> Prediction {
    let strengths: Vec<TeamStrength> = teams.iter().map(|t| TeamStrength::of(t)).collect();
    predict_strengths(params, &strengths)
}

pub fn predict_strengths(params: &RatingParams, teams: &[TeamStrength]) -> Prediction {
    Prediction {
        win: predict_win(params, teams),
        draw: predict_draw(params, teams),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(mu: f64, sigma: f64) -> Rating {
        Rating::new(mu, sigma)
    }

    fn close(got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "got {got}, expected {want}");
    }

    #[test]
    fn phi_and_its_inverse_agree_with_known_values() {
        close(phi(0.0), 0.5, 1e-15);
        close(phi(1.959963984540054), 0.975, 1e-12);
        close(phi(-3.0), 0.0013498980316301, 1e-14);
        for p in [1e-6, 0.01, 0.3, 0.5, 0.625, 0.9, 0.999_99] {
            close(phi(phi_inverse(p)), p, 1e-14);
        }
        close(phi_inverse(0.975), 1.959963984540054, 1e-12);
    }

    /// openskill.py's manual, "Predicting Winners": a new player against
    /// (33.564, 1.123) prints [0.2021226121041832, 0.7978773878958167].
    #[test]
    fn win_prediction_matches_the_openskill_manual() {
        let p = predict(
            &RatingParams::default(),
            &[vec![Rating::default()], vec![r(33.564, 1.123)]],
        );
        close(p.win[0], 0.2021226121041832, 1e-12);
        close(p.win[1], 0.7978773878958167, 1e-12);
    }

    /// openskill.py's manual, "Predicting Draws": (35, 1) v (35, 1.1) prints
    /// 0.4868868769871696. (The manual's 2 v 3 example, 0.00028, predates the current
    /// pairwise denominator `2β²`; the test suite's values below are the current ones.)
    #[test]
    fn draw_prediction_matches_the_openskill_manual() {
        let params = RatingParams::default();
        close(
            predict_draw(
                &params,
                &[
                    TeamStrength::of(&[r(35.0, 1.0)]),
                    TeamStrength::of(&[r(35.0, 1.1)]),
                ],
            ),
            0.4868868769871696,
            1e-12,
        );
    }

    /// openskill.py's `tests/models/weng_lin/test_plackett_luce.py::test_predict_draw`
    /// (to its 1e-4 relative tolerance), including five teams.
    #[test]
    fn draw_prediction_matches_openskill_py_tests() {
        let params = RatingParams::default();
        let a1 = Rating::default();
        let a2 = r(32.444, 1.123);
        let b1 = r(35.881, 0.0001);
        let b2 = r(25.188, 0.00001);
        let two = [TeamStrength::of(&[a1, a2]), TeamStrength::of(&[b1, b2])];
        close(predict_draw(&params, &two), 0.1919967, 0.1919967e-4);
        let five = [
            two[0],
            two[1],
            TeamStrength::of(&[a1]),
            TeamStrength::of(&[a2]),
            TeamStrength::of(&[b1]),
        ];
        close(predict_draw(&params, &five), 0.0603735, 0.0603735e-4);
        let same = [TeamStrength::of(&[b1]), TeamStrength::of(&[b1])];
        close(predict_draw(&params, &same), 0.5, 1e-9);
    }

    /// `test_predict_win` and `test_predict_5p_impostor`: probabilities sum to 1 for two
    /// and for five teams, and the one stronger player of five is the favourite.
    #[test]
    fn win_predictions_sum_to_one_and_find_the_impostor() {
        let params = RatingParams::default();
        let (a1, a2) = (Rating::default(), r(32.444, 5.123));
        let (b1, b2) = (r(73.381, 1.421), r(25.188, 6.211));
        let t1 = TeamStrength::of(&[a1, a2]);
        let t2 = TeamStrength::of(&[b1, b2]);
        let five = predict_win(
            &params,
            &[
                t1,
                t2,
                TeamStrength::of(&[a2]),
                TeamStrength::of(&[a1]),
                TeamStrength::of(&[b1]),
            ],
        );
        close(five.iter().sum(), 1.0, 1e-12);
        close(predict_win(&params, &[t1, t2]).iter().sum(), 1.0, 1e-12);
        let one = |x| TeamStrength::of(&[x]);
        let p = predict_win(&params, &[one(a1), one(a1), one(a1), one(a2), one(a1)]);
        let best = p.iter().copied().fold(0.0, f64::max);
        assert_eq!(best, p[3]);
    }

    #[test]
    fn quality_is_one_for_a_coin_flip_and_falls_with_the_favourites_edge() {
        close(quality_of(&[0.5, 0.5]), 1.0, 1e-12);
        close(quality_of(&[0.6, 0.4]), 0.8, 1e-12);
        close(quality_of(&[0.3, 0.7]), 0.6, 1e-12);
        close(quality_of(&[1.0, 0.0]), 0.0, 1e-12);
        close(quality_of(&[0.25; 4]), 1.0, 1e-12);
    }

    #[test]
    fn uncertainty_pulls_a_prediction_towards_a_coin_flip() {
        let params = RatingParams::default();
        let sure = predict(&params, &[vec![r(25.0, 1.0)], vec![r(30.0, 1.0)]]);
        let unsure = predict(&params, &[vec![r(25.0, 8.0)], vec![r(30.0, 8.0)]]);
        assert!(unsure.quality() > sure.quality());
        assert!(unsure.favourite() < sure.favourite());
    }
}
