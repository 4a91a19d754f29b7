//! Step two of grouping, per (mode, region): anchors in age order pick their closest
//! compatible tickets, and [`Balance`] splits the chosen parties into even teams.

use super::plan::Entry;
use super::{tolerance, MAX_CANDIDATES};
use crate::modes::Mode;

/// Search nodes one anchor may spend choosing tickets before giving up this tick.
const SELECT_BUDGET: u32 = 4_000;
/// Search nodes one match may spend balancing teams (exhaustive for the default modes).
const BALANCE_BUDGET: u32 = 50_000;

const NIL: u32 = u32::MAX;

/// A formed match inside one bucket: `len` tickets starting at `start` of the flat list
/// of (entry, team) pairs, and the team mmr means starting at `mmr_start`.
pub(super) struct Formed {
    pub(super) start: usize,
    pub(super) len: usize,
    pub(super) mmr_start: usize,
}

/// Buffers reused across anchors and buckets, so the hot loop does not allocate.
#[derive(Default)]
pub(super) struct Search {
    order: Vec<u32>,
    pos: Vec<u32>,
    prev: Vec<u32>,
    next: Vec<u32>,
    alive: Vec<bool>,
    cands: Vec<u32>,
    suffix: Vec<u32>,
    chosen: Vec<u32>,
    balance: Balance,
}

impl Search {
    /// Forms matches within one (mode, region); `entries` are in age order. Appends each
    /// match's (entry, team) pairs to `picks` (anchor first) and its team means to `means`.
    pub(super) fn bucket(
        &mut self,
        entries: &[Entry],
        mode: &Mode,
        now_ms: u64,
        picks: &mut Vec<(u32, usize)>,
        means: &mut Vec<i32>,
    ) -> Vec<Formed> {
        let n = entries.len();
        self.order.clear();
        self.order.extend(0..n as u32);
        self.order
            .sort_unstable_by_key(|&e| (entries[e as usize].mmr, e));
        self.pos.resize(n, 0);
        for (p, &e) in self.order.iter().enumerate() {
            self.pos[e as usize] = p as u32;
        }
        self.prev.clear();
        self.prev
            .extend((0..n as u32).map(|p| if p == 0 { NIL } else { p - 1 }));
        self.next.clear();
        self.next
            .extend((0..n as u32).map(|p| if p + 1 == n as u32 { NIL } else { p + 1 }));
        self.alive.clear();
        self.alive.resize(n, true);

        let mut formed = Vec::new();
        for anchor in 0..n {
            if !self.alive[anchor] {
                continue;
            }
            let a = entries[anchor];
            let tol = i64::from(tolerance(now_ms.saturating_sub(a.joined_at_ms)));
            self.alive[anchor] = false;
            self.unlink(self.pos[anchor]);
            // Most anchors fill their match from the first few neighbours: look at twice
            // the players needed first, and only widen to the full candidate list when
            // that fails and more neighbours exist.
            let wanted = 2 * mode.match_size() as u32;
            let limited = self.gather(entries, anchor, tol, wanted);
            let found = self.select(entries, anchor, tol, mode)
                || (limited && {
                    self.gather(entries, anchor, tol, u32::MAX);
                    self.select(entries, anchor, tol, mode)
                });
            if found {
                let start = picks.len();
                let mmr_start = means.len();
                means.extend_from_slice(&self.balance.means);
                for k in 0..self.chosen.len() {
                    let c = self.chosen[k];
                    picks.push((c, self.balance.best[k]));
                    if k > 0 {
                        self.alive[c as usize] = false;
                        self.unlink(self.pos[c as usize]);
                    }
                }
                formed.push(Formed {
                    start,
                    len: self.chosen.len(),
                    mmr_start,
                });
            }
            // else: rule 6 — the anchor stays queued but is no longer offered to others.
        }
        formed
    }

    fn unlink(&mut self, p: u32) {
        let (l, r) = (self.prev[p as usize], self.next[p as usize]);
        if l != NIL {
            self.next[l as usize] = r;
        }
        if r != NIL {
            self.prev[r as usize] = l;
        }
    }

    /// Fills `cands` with the nearest alive neighbours of `anchor` within `tol`, closest
    /// first, ties to the older ticket, until they hold `players` players or
    /// [`MAX_CANDIDATES`] tickets. True when it stopped at `players` (more may exist).
    fn gather(&mut self, entries: &[Entry], anchor: usize, tol: i64, players: u32) -> bool {
        self.cands.clear();
        let mut gathered = 0;
        let a = entries[anchor].mmr;
        let p = self.pos[anchor] as usize;
        let (mut l, mut r) = (self.prev[p], self.next[p]);
        let mmr_at = |q: u32| entries[self.order[q as usize] as usize].mmr;
        while self.cands.len() < MAX_CANDIDATES {
            if gathered >= players {
                return true;
            }
            let dl = (l != NIL).then(|| a - mmr_at(l)).filter(|d| *d <= tol);
            let dr = (r != NIL).then(|| mmr_at(r) - a).filter(|d| *d <= tol);
            let take_left = match (dl, dr) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(x), Some(y)) => {
                    x < y || (x == y && self.order[l as usize] < self.order[r as usize])
                }
            };
            let q = if take_left { l } else { r };
            let e = self.order[q as usize];
            self.cands.push(e);
            gathered += entries[e as usize].size;
            if take_left {
                l = self.prev[q as usize];
            } else {
                r = self.next[q as usize];
            }
        }
        false
    }

    /// Chooses tickets to join `anchor` into `chosen` (anchor first): the first
    /// combination, in candidate priority order, that fills the match exactly, keeps the
    /// spread within `tol` and packs into teams (the packing is left in `balance`).
    fn select(&mut self, entries: &[Entry], anchor: usize, tol: i64, mode: &Mode) -> bool {
        // Players still available from candidate k onwards, to stop early when too few.
        self.suffix.clear();
        self.suffix.resize(self.cands.len() + 1, 0);
        for k in (0..self.cands.len()).rev() {
            self.suffix[k] = self.suffix[k + 1] + entries[self.cands[k] as usize].size;
        }
        let a = entries[anchor];
        let need = mode.match_size() as u32;
        if a.size + self.suffix[0] < need {
            return false;
        }
        self.chosen.clear();
        self.chosen.push(anchor as u32);
        let mut budget = SELECT_BUDGET;
        self.dfs(entries, mode, tol, 0, a.size, a.mmr, a.mmr, &mut budget)
    }

    #[allow(clippy::too_many_arguments)]
    fn dfs(
        &mut self,
        entries: &[Entry],
        mode: &Mode,
        tol: i64,
        start: usize,
        players: u32,
        lo: i64,
        hi: i64,
        budget: &mut u32,
    ) -> bool {
        let need = mode.match_size() as u32;
        if players == need {
            let chosen = &self.chosen;
            return self.balance.run(
                chosen.iter().map(|&c| {
                    let e = entries[c as usize];
                    (e.size, e.mmr)
                }),
                mode.teams,
                mode.team_size as u32,
            );
        }
        for k in start..self.cands.len() {
            if players + self.suffix[k] < need || *budget == 0 {
                return false;
            }
            *budget -= 1;
            let c = self.cands[k];
            let e = entries[c as usize];
            let (nlo, nhi) = (lo.min(e.mmr), hi.max(e.mmr));
            if players + e.size > need || nhi - nlo > tol {
                continue;
            }
            self.chosen.push(c);
            if self.dfs(
                entries,
                mode,
                tol,
                k + 1,
                players + e.size,
                nlo,
                nhi,
                budget,
            ) {
                return true;
            }
            self.chosen.pop();
        }
        false
    }
}

/// Team balancing: assigns whole parties to teams of exactly `team_size` players,
/// minimising (highest team mmr total − lowest). Exhaustive within [`BALANCE_BUDGET`]
/// nodes (always, for the default modes), with interchangeable empty teams tried once.
#[derive(Default)]
pub(crate) struct Balance {
    sizes: Vec<u32>,
    mmrs: Vec<i64>,
    load: Vec<u32>,
    sum: Vec<i64>,
    current: Vec<usize>,
    /// Team per party of the best assignment found.
    pub(crate) best: Vec<usize>,
    best_spread: Option<i64>,
    /// Mean per-player mmr of each team in `best`, rounded.
    pub(crate) means: Vec<i32>,
    budget: u32,
    team_size: u32,
}

impl Balance {
    /// Balances parties given as (size, per-player mmr). False when they cannot be
    /// packed into `teams` teams of `team_size`.
    pub(crate) fn run(
        &mut self,
        parties: impl Iterator<Item = (u32, i64)>,
        teams: usize,
        team_size: u32,
    ) -> bool {
        self.sizes.clear();
        self.mmrs.clear();
        for (size, mmr) in parties {
            self.sizes.push(size);
            self.mmrs.push(mmr);
        }
        if self.sizes.iter().sum::<u32>() != teams as u32 * team_size {
            return false;
        }
        self.load.clear();
        self.load.resize(teams, 0);
        self.sum.clear();
        self.sum.resize(teams, 0);
        self.current.clear();
        self.current.resize(self.sizes.len(), 0);
        self.best_spread = None;
        self.budget = BALANCE_BUDGET;
        self.team_size = team_size;
        self.dfs(0);
        if self.best_spread.is_none() {
            return false;
        }
        self.sum.iter_mut().for_each(|s| *s = 0);
        for (i, &t) in self.best.iter().enumerate() {
            self.sum[t] += self.mmrs[i] * i64::from(self.sizes[i]);
        }
        self.means.clear();
        self.means.extend(
            self.sum
                .iter()
                .map(|s| (*s as f64 / f64::from(team_size)).round() as i32),
        );
        true
    }

    fn dfs(&mut self, i: usize) {
        if self.budget == 0 {
            return;
        }
        self.budget -= 1;
        if i == self.sizes.len() {
            let spread = self.sum.iter().max().unwrap() - self.sum.iter().min().unwrap();
            if self.best_spread.is_none_or(|b| spread < b) {
                self.best_spread = Some(spread);
                self.best.clone_from(&self.current);
            }
            return;
        }
        let mut tried_empty = false;
        for t in 0..self.load.len() {
            if self.load[t] + self.sizes[i] > self.team_size {
                continue;
            }
            if self.load[t] == 0 {
                if tried_empty {
                    continue;
                }
                tried_empty = true;
            }
            let weight = self.mmrs[i] * i64::from(self.sizes[i]);
            self.load[t] += self.sizes[i];
            self.sum[t] += weight;
            self.current[i] = t;
            self.dfs(i + 1);
            self.load[t] -= self.sizes[i];
            self.sum[t] -= weight;
            if self.best_spread == Some(0) {
                return;
            }
        }
    }
}
