//! Per-mode matchmaking settings, as data (the `matchmaking_settings` table, migration
//! V6): how good a match must be, how fast that relaxes, how much wider uncertain
//! players are matched, and whether recent opponents are avoided.
//!
//! # The schedule
//! A group may form when its [quality](super::quality) reaches
//! [`QualitySettings::threshold`] of its *oldest* ticket's wait: `quality_start` at
//! once, falling linearly to `quality_floor` at `seconds_to_floor`. From
//! `seconds_to_floor` on there is no quality threshold at all: the best group the
//! search finds within today's ±mmr window forms (that is the no-starvation guarantee,
//! see [`super::matcher`]). The ±mmr window ([`super::tolerance`]) stays the outer bound
//! throughout, widened for uncertain players by [`QualitySettings::widening`].
//!
//! # Why these defaults
//! Two teams: quality 0.95 is a 52.5 % favourite, 0.5 a 75 % one. Today's matcher
//! forms a pair 200 mmr apart at once, which between settled players (σ ≈ 2) is a 78 %
//! favourite (quality 0.44); starting at 0.95 refuses anything but a close match while
//! a closer player may still arrive, and 20 s to the floor keeps the worst case well
//! inside the 80 s the ±mmr window takes to open fully. The simulation benchmark
//! (`examples/bench_matchmaking_sim.rs`, `docs/benchmarks.md`) chose these: in 1v1 they
//! cut the median favourite's edge to a third for under a second more median wait.
//! Team modes are balanced by the split already, so their rows in V6 start higher
//! (0.98 for 2v2, 0.99 for 4v4). σ above `settled_sigma` (a player still being
//! placed: a new player has σ = 8.33, a settled one 1–3) widens the window by
//! `sigma_widening` mmr per unit of σ, at most `max_widening`: their μ is a guess, so a
//! 250-mmr gap to them is no more telling than a 100-mmr gap between settled players,
//! and their predictions (which include σ) stay close anyway.

use serde::{Deserialize, Serialize};

/// One mode's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualitySettings {
    /// Quality a group needs at zero wait (0..=1).
    pub quality_start: f64,
    /// Quality needed just before `seconds_to_floor` (0..=`quality_start`).
    pub quality_floor: f64,
    /// Wait after which the best available group forms whatever its quality.
    pub seconds_to_floor: u32,
    /// σ at or below which a player counts as settled (no widening).
    pub settled_sigma: f64,
    /// Extra ± mmr of window per unit of σ above `settled_sigma` (the group's highest σ).
    pub sigma_widening: f64,
    /// Cap on that extra window.
    pub max_widening: u32,
    /// Avoid groups in which someone met someone else within this many seconds (0: off).
    pub rematch_window_s: u32,
    /// Quality a rematch is charged: a fresh group within this much quality wins.
    pub rematch_penalty: f64,
}

impl Default for QualitySettings {
    fn default() -> Self {
        QualitySettings {
            quality_start: 0.95,
            quality_floor: 0.5,
            seconds_to_floor: 20,
            settled_sigma: 3.0,
            sigma_widening: 20.0,
            max_widening: 150,
            rematch_window_s: 0,
            rematch_penalty: 0.1,
        }
    }
}

impl QualitySettings {
    /// The quality a group whose oldest ticket waited `wait_ms` must reach; `None` once
    /// the floor's time has passed (the best available group forms).
    pub fn threshold(&self, wait_ms: u64) -> Option<f64> {
        let limit_ms = u64::from(self.seconds_to_floor) * 1000;
        if wait_ms >= limit_ms {
            return None;
        }
        let f = wait_ms as f64 / limit_ms as f64;
        Some(self.quality_start - (self.quality_start - self.quality_floor) * f)
    }

    /// Extra ± mmr for a group whose most uncertain player has `sigma`.
    pub fn widening(&self, sigma: f64) -> u32 {
        let extra = (sigma - self.settled_sigma).max(0.0) * self.sigma_widening;
        (extra.round() as u32).min(self.max_widening)
    }

    /// Checks ranges; the message names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        let unit = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
        if !unit(self.quality_start) {
            return Err(format!(
                "quality_start {} is not within 0..=1",
                self.quality_start
            ));
        }
        if !unit(self.quality_floor) || self.quality_floor > self.quality_start {
            return Err(format!(
                "quality_floor {} is not within 0..=quality_start",
                self.quality_floor
            ));
        }
        if self.seconds_to_floor == 0 {
            return Err("seconds_to_floor must be at least 1".into());
        }
        if !self.settled_sigma.is_finite() || self.settled_sigma < 0.0 {
            return Err("settled_sigma must be a non-negative number".into());
        }
        if !self.sigma_widening.is_finite() || self.sigma_widening < 0.0 {
            return Err("sigma_widening must be a non-negative number".into());
        }
        if !unit(self.rematch_penalty) {
            return Err("rematch_penalty is not within 0..=1".into());
        }
        Ok(())
    }

    /// The wait (s) a ticket should expect at most: the schedule's end. Used to cap the
    /// recent-waits estimate, which lags when the schedule changes.
    pub fn max_expected_wait_s(&self) -> u64 {
        u64::from(self.seconds_to_floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_falls_linearly_to_the_floor_then_lifts() {
        let s = QualitySettings::default();
        assert_eq!(s.threshold(0), Some(0.95));
        let mid = s.threshold(10_000).unwrap();
        assert!((mid - 0.725).abs() < 1e-12, "{mid}");
        assert!(s.threshold(19_999).unwrap() > 0.5);
        assert_eq!(s.threshold(20_000), None);
        assert_eq!(s.threshold(u64::MAX), None);
    }

    #[test]
    fn uncertain_players_widen_the_window_up_to_a_cap() {
        let s = QualitySettings::default();
        assert_eq!(s.widening(2.0), 0);
        assert_eq!(s.widening(3.0), 0);
        assert_eq!(s.widening(5.0), 40);
        assert_eq!(s.widening(25.0 / 3.0), 107);
        assert_eq!(s.widening(50.0), 150);
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        assert!(QualitySettings::default().validate().is_ok());
        let bad = [
            QualitySettings {
                quality_start: 1.5,
                ..Default::default()
            },
            QualitySettings {
                quality_floor: 0.99,
                ..Default::default()
            },
            QualitySettings {
                seconds_to_floor: 0,
                ..Default::default()
            },
            QualitySettings {
                sigma_widening: f64::NAN,
                ..Default::default()
            },
            QualitySettings {
                rematch_penalty: -0.1,
                ..Default::default()
            },
        ];
        for s in bad {
            assert!(s.validate().is_err(), "{s:?}");
        }
    }
}
