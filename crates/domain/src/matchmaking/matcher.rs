//! The quality matcher: forms matches of one mode from queued tickets by *predicted*
//! match quality, inside today's ±mmr window, across the regions each ticket accepts.
//!
//! # Rules
//! 1. Tickets meet only tickets of the same mode (the caller passes one mode) that
//!    accept a common region ([`super::regions`]); a single-region ticket is a list of
//!    one. Invalid tickets (party empty, too big or with a repeated player, a player
//!    already in an older ticket) are [`Rejected`]; a ticket with no region left (its
//!    regions are no longer configured) simply stays queued.
//! 2. Oldest first: the anchor is the oldest unmatched ticket. Its wait sets the ±mmr
//!    window ([`super::tolerance`], as today), widened by
//!    [`QualitySettings::widening`] for the most uncertain player of a group, and the
//!    quality threshold ([`QualitySettings::threshold`]).
//! 3. Per region the anchor accepts, it gathers its nearest compatible tickets by mmr
//!    (at most [`MAX_CANDIDATES`]), takes the first combination, closest first, that
//!    fills the match exactly and whose mmr spread fits the window, and then improves it
//!    by swapping in same-size candidates while that raises the group's score (at most
//!    [`IMPROVE_SWEEPS`] sweeps, skipped when the group already reaches both the
//!    threshold and [`GOOD_ENOUGH`]). A group's teams are split by [`super::teams::balance`] and its
//!    score is its [quality](super::quality), less
//!    [`QualitySettings::rematch_penalty`] if someone in it met someone else in it
//!    within the mode's rematch window.
//! 4. A group forms if its score reaches the threshold. Among regions whose best group
//!    does, the one with the lowest worst latency wins (ties: the higher score, then the
//!    region listed first by the anchor).
//! 5. A ticket that cannot anchor a match this tick is not offered to younger anchors:
//!    their windows are narrower and their thresholds higher, so any group they could
//!    form with it would already have qualified for it (up to the search's bounds). It
//!    stays queued for the next tick.
//!
//! # No starvation
//! Once the anchor has waited `seconds_to_floor`, the threshold is gone: the best group
//! the search finds within the ±mmr window forms, whatever its quality. So a ticket
//! that today's matcher would match (a group of compatible tickets inside the window)
//! is matched by this one no later than `seconds_to_floor` into its wait, given the
//! same candidates; before that, it waits only while no group good enough exists.
//! Tickets still expire from Redis after ten minutes, as before.
//!
//! # Cost
//! The tickets are read once, in input order, into compact records; the search then
//! touches only those (its time is mostly memory traffic, not arithmetic: see
//! `docs/benchmarks.md`). A candidate group is scored by its favourite's edge alone;
//! the full prediction, with the draw chance, is computed only for groups that form.
//! Per region, tickets are sorted by mmr once into a doubly linked list so matched
//! tickets leave in O(1) from every region list they are in (at most three). Each anchor
//! looks at no more than [`MAX_CANDIDATES`] neighbours per region with bounded searches:
//! O(n log n) overall (see `docs/benchmarks.md`).

use serde::{Deserialize, Serialize};

use super::quality::{predict_strengths, quality_of_strengths, Prediction, TeamStrength};
use super::regions::RegionLatency;
use super::settings::QualitySettings;
use super::teams::{assign, team_sums};
use super::tolerance;
use crate::error::DomainError;
use crate::modes::Mode;
use crate::rating::{Rating, RatingParams};

/// Nearest tickets an anchor considers per region: three times the match's players,
/// at least [`MIN_CANDIDATES`], at most [`MAX_CANDIDATES`].
pub const MAX_CANDIDATES: usize = 32;
pub const MIN_CANDIDATES: usize = 8;
/// Search nodes one anchor may spend finding a first group per region.
const SELECT_BUDGET: u32 = 2_000;
/// Improvement sweeps over the first group.
pub const IMPROVE_SWEEPS: usize = 2;
/// A group at least this good is not improved further.
pub const GOOD_ENOUGH: f64 = 0.9;

/// One player of a ticket and their rating in the ticket's mode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: u64,
    pub rating: Rating,
}

/// A queued ticket: a solo player or a party that always plays on one team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedTicket {
    pub ticket_id: u64,
    pub members: Vec<Member>,
    /// Regions it accepts with the measured latency (0 when unknown).
    pub regions: Vec<RegionLatency>,
    pub joined_at_ms: u64,
    /// Players any member met within the mode's rematch window (empty when off).
    #[serde(default)]
    pub recent_opponents: Vec<u64>,
}

impl QueuedTicket {
    /// Mean displayed mmr of the members.
    pub fn mmr(&self) -> i64 {
        if self.members.is_empty() {
            return 0;
        }
        let sum: i64 = self.members.iter().map(|m| i64::from(m.rating.mmr())).sum();
        (sum as f64 / self.members.len() as f64).round() as i64
    }
}

/// A match the matcher formed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityMatch {
    /// Anchor (oldest) first.
    pub ticket_ids: Vec<u64>,
    pub region: String,
    /// The slowest member's latency to `region` (0 when unknown).
    pub worst_latency_ms: u32,
    /// Player ids per team; a party's members are together in one team.
    pub teams: Vec<Vec<u64>>,
    pub prediction: Prediction,
    /// [`Prediction::quality`] of the teams.
    pub quality: f64,
    /// Someone in it met someone else in it within the rematch window.
    pub rematch: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub ticket_id: u64,
    pub reason: DomainError,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchOutcome {
    pub matches: Vec<QualityMatch>,
    /// Still queued, oldest first.
    pub leftover: Vec<u64>,
    pub rejected: Vec<Rejected>,
}

/// A gathered candidate: what choosing a group reads, copied from its node so the
/// search does not chase the ticket's record.
#[derive(Clone, Copy)]
struct Cand {
    rec: usize,
    size: u32,
    mmr: i64,
    sigma_max: f64,
}

/// Forms matches of `mode` out of `tickets` at `now_ms` (see the module doc).
pub fn form_matches(
    tickets: &[QueuedTicket],
    mode: &Mode,
    settings: &QualitySettings,
    params: &RatingParams,
    now_ms: u64,
) -> MatchOutcome {
    let Input {
        recs,
        mut nodes,
        ids,
        region_names,
        rejected,
        no_region,
    } = read(tickets, mode);
    let mut out = MatchOutcome {
        rejected,
        ..MatchOutcome::default()
    };

    // 4. Anchors in age order.
    let mut search = Search {
        recs: &recs,
        nodes: &mut nodes,
        tickets,
        mode,
        settings,
        params,
        alive: vec![true; recs.len()],
        cands: Vec::new(),
        chosen: Vec::new(),
    };
    let mut matched = vec![false; recs.len()];
    for anchor in 0..recs.len() {
        if !search.alive[anchor] {
            continue;
        }
        search.kill(anchor);
        let wait = now_ms.saturating_sub(recs[anchor].joined_at_ms);
        if let Some(found) = search.anchor(anchor, wait) {
            matched[anchor] = true;
            for &c in &found.recs[1..] {
                search.kill(c);
                matched[c] = true;
            }
            out.matches
                .push(found.into_match(params, &recs, &ids, &region_names));
        }
        // else: rule 5 — it stays queued but is no longer offered to younger anchors.
    }

    // 5. Everything neither matched nor rejected stays, oldest first.
    let mut left: Vec<(u64, u64)> = recs
        .iter()
        .enumerate()
        .filter(|(r, _)| !matched[*r])
        .map(|(_, rec)| (rec.joined_at_ms, rec.ticket_id))
        .chain(no_region)
        .collect();
    left.sort_unstable();
    out.leftover = left.into_iter().map(|(_, id)| id).collect();
    out
}

/// A candidate group for one region.
struct Group {
    /// Anchor first.
    recs: Vec<usize>,
    region: u32,
    worst_latency_ms: u32,
    team_of: Vec<usize>,
    /// Per team; the full [`Prediction`] (with the draw chance) is computed only for
    /// the group that forms.
    teams: Vec<TeamStrength>,
    quality: f64,
    score: f64,
    rematch: bool,
}

impl Group {
    fn into_match(
        self,
        params: &RatingParams,
        recs: &[Rec],
        ids: &[u64],
        regions: &[&str],
    ) -> QualityMatch {
        let mut teams = vec![Vec::new(); self.teams.len()];
        for (k, &r) in self.recs.iter().enumerate() {
            teams[self.team_of[k]].extend_from_slice(recs[r].ids(ids));
        }
        QualityMatch {
            ticket_ids: self.recs.iter().map(|&r| recs[r].ticket_id).collect(),
            region: regions[self.region as usize].to_owned(),
            worst_latency_ms: self.worst_latency_ms,
            teams,
            prediction: predict_strengths(params, &self.teams),
            quality: self.quality,
            rematch: self.rematch,
        }
    }
}

struct Search<'a> {
    recs: &'a [Rec],
    nodes: &'a mut Vec<Node>,
    tickets: &'a [QueuedTicket],
    mode: &'a Mode,
    settings: &'a QualitySettings,
    params: &'a RatingParams,
    alive: Vec<bool>,
    /// The gathered candidates, closest first.
    cands: Vec<Cand>,
    chosen: Vec<usize>,
}

impl Search<'_> {
    /// Removes a ticket from every region list.
    fn kill(&mut self, r: usize) {
        self.alive[r] = false;
        for &n in self.recs[r].nodes() {
            let (p, q) = (self.nodes[n as usize].prev, self.nodes[n as usize].next);
            if p != NIL {
                self.nodes[p as usize].next = q;
            }
            if q != NIL {
                self.nodes[q as usize].prev = p;
            }
        }
    }

    /// The window (±mmr) for a group at this wait whose most uncertain player has `sigma`.
    fn window(&self, wait_ms: u64, sigma: f64) -> i64 {
        i64::from(tolerance(wait_ms)) + i64::from(self.settings.widening(sigma))
    }

    /// Rules 3 and 4 for one anchor: its best qualifying group over its regions.
    fn anchor(&mut self, anchor: usize, wait_ms: u64) -> Option<Group> {
        let threshold = self.settings.threshold(wait_ms);
        let mut best: Option<Group> = None;
        for slot in 0..usize::from(self.recs[anchor].regions) {
            let node = self.recs[anchor].nodes[slot];
            let Some(group) = self.region_group(anchor, node, wait_ms, threshold) else {
                continue;
            };
            if threshold.is_some_and(|t| group.score < t) {
                continue;
            }
            let better = match &best {
                None => true,
                Some(b) => (group.worst_latency_ms, -group.score) < (b.worst_latency_ms, -b.score),
            };
            if better {
                best = Some(group);
            }
        }
        best
    }

    /// The anchor's best group in the region of `node`, whatever its score.
    fn region_group(
        &mut self,
        anchor: usize,
        node: u32,
        wait_ms: u64,
        threshold: Option<f64>,
    ) -> Option<Group> {
        self.gather(anchor, node, wait_ms);
        let need = self.mode.match_size() as u32 - self.recs[anchor].size;
        let available: u32 = self.cands.iter().map(|c| c.size).sum();
        if available < need {
            return None;
        }
        // First fit, closest first.
        self.chosen.clear();
        let mut budget = SELECT_BUDGET;
        let a = &self.recs[anchor];
        if !self.first_fit(
            anchor,
            0,
            need,
            a.mmr,
            a.mmr,
            a.sigma_max,
            wait_ms,
            &mut budget,
        ) {
            return None;
        }
        let mut group = self.evaluate(anchor, node, &self.chosen)?;
        // Improve by same-size swaps (one trial buffer for all of them).
        let mut trial: Vec<usize> = Vec::with_capacity(group.recs.len());
        for _ in 0..IMPROVE_SWEEPS {
            if group.score >= GOOD_ENOUGH.max(threshold.unwrap_or(0.0)) {
                break;
            }
            let mut improved = false;
            for k in 1..group.recs.len() {
                for ci in 0..self.cands.len() {
                    let Cand { rec: c, size, .. } = self.cands[ci];
                    if group.recs.contains(&c) || size != self.recs[group.recs[k]].size {
                        continue;
                    }
                    trial.clear();
                    trial.extend_from_slice(&group.recs[1..]);
                    trial[k - 1] = c;
                    if !self.fits_window(anchor, &trial, wait_ms) {
                        continue;
                    }
                    if let Some(g) = self.evaluate(anchor, node, &trial) {
                        if g.score > group.score + 1e-12 {
                            group = g;
                            improved = true;
                        }
                    }
                }
            }
            if !improved {
                break;
            }
        }
        Some(group)
    }

    /// Nearest alive neighbours of the anchor in one region list, closest first (ties:
    /// the older), each within the window its own σ allows.
    fn gather(&mut self, anchor: usize, node: u32, wait_ms: u64) {
        self.cands.clear();
        let a = &self.recs[anchor];
        // The anchor is unlinked already, but its node still points at its old
        // neighbours: walk from them, skipping any that died since.
        let mut l = self.nodes[node as usize].prev;
        let mut r = self.nodes[node as usize].next;
        while l != NIL && !self.alive[self.nodes[l as usize].rec as usize] {
            l = self.nodes[l as usize].prev;
        }
        while r != NIL && !self.alive[self.nodes[r as usize].rec as usize] {
            r = self.nodes[r as usize].next;
        }
        let max_window = i64::from(tolerance(wait_ms)) + i64::from(self.settings.max_widening);
        let cap = (3 * self.mode.match_size()).clamp(MIN_CANDIDATES, MAX_CANDIDATES);
        while self.cands.len() < cap {
            let dist = |n: u32| (self.nodes[n as usize].mmr - a.mmr).abs();
            let dl = (l != NIL).then(|| dist(l)).filter(|d| *d <= max_window);
            let dr = (r != NIL).then(|| dist(r)).filter(|d| *d <= max_window);
            let take_left = match (dl, dr) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(x), Some(y)) => {
                    x < y || (x == y && self.nodes[l as usize].rec < self.nodes[r as usize].rec)
                }
            };
            let n = if take_left { l } else { r };
            let c = self.nodes[n as usize].rec as usize;
            let d = if take_left { dl } else { dr }.unwrap_or(i64::MAX);
            let sigma = a.sigma_max.max(self.nodes[n as usize].sigma_max);
            if d <= self.window(wait_ms, sigma) {
                let node = &self.nodes[n as usize];
                self.cands.push(Cand {
                    rec: c,
                    size: node.size,
                    mmr: node.mmr,
                    sigma_max: node.sigma_max,
                });
            }
            if take_left {
                l = self.nodes[l as usize].prev;
            } else {
                r = self.nodes[r as usize].next;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn first_fit(
        &mut self,
        anchor: usize,
        start: usize,
        need: u32,
        lo: i64,
        hi: i64,
        sigma: f64,
        wait_ms: u64,
        budget: &mut u32,
    ) -> bool {
        if need == 0 {
            return self.packs(anchor, &self.chosen);
        }
        for k in start..self.cands.len() {
            if *budget == 0 {
                return false;
            }
            *budget -= 1;
            let rec = self.cands[k];
            let c = rec.rec;
            if rec.size > need {
                continue;
            }
            let (nlo, nhi, ns) = (lo.min(rec.mmr), hi.max(rec.mmr), sigma.max(rec.sigma_max));
            if nhi - nlo > self.window(wait_ms, ns) {
                continue;
            }
            self.chosen.push(c);
            if self.first_fit(
                anchor,
                k + 1,
                need - rec.size,
                nlo,
                nhi,
                ns,
                wait_ms,
                budget,
            ) {
                return true;
            }
            self.chosen.pop();
        }
        false
    }

    /// Whether the parties pack into the mode's teams exactly (size check only).
    fn packs(&self, anchor: usize, chosen: &[usize]) -> bool {
        // Solo players (most groups) fill any teams: the search already counted them to
        // the match's size, so no list of sizes is built for them.
        let solo = |r: &usize| self.recs[*r].size == 1;
        if solo(&anchor) && chosen.iter().all(solo) {
            return true;
        }
        let mut sizes: Vec<u32> = std::iter::once(anchor)
            .chain(chosen.iter().copied())
            .map(|r| self.recs[r].size)
            .collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        let mut load = vec![0u32; self.mode.teams];
        fn place(i: usize, sizes: &[u32], load: &mut [u32], cap: u32) -> bool {
            if i == sizes.len() {
                return true;
            }
            let mut tried_empty = false;
            for t in 0..load.len() {
                if load[t] + sizes[i] > cap
                    || (load[t] == 0 && std::mem::replace(&mut tried_empty, true))
                {
                    continue;
                }
                load[t] += sizes[i];
                if place(i + 1, sizes, load, cap) {
                    return true;
                }
                load[t] -= sizes[i];
            }
            false
        }
        place(0, &sizes, &mut load, self.mode.team_size as u32)
    }

    fn fits_window(&self, anchor: usize, chosen: &[usize], wait_ms: u64) -> bool {
        let a = &self.recs[anchor];
        let (mut lo, mut hi, mut s) = (a.mmr, a.mmr, a.sigma_max);
        for &c in chosen {
            let r = &self.recs[c];
            lo = lo.min(r.mmr);
            hi = hi.max(r.mmr);
            s = s.max(r.sigma_max);
        }
        hi - lo <= self.window(wait_ms, s)
    }

    /// Splits and scores anchor + `chosen` in the region of `node`.
    fn evaluate(&self, anchor: usize, node: u32, chosen: &[usize]) -> Option<Group> {
        let region = self.nodes[node as usize].region;
        let mut members: Vec<usize> = Vec::with_capacity(chosen.len() + 1);
        members.push(anchor);
        members.extend_from_slice(chosen);
        let (team_of, teams) = if members.len() == 2 && self.mode.teams == 2 {
            // One party per team (1v1, or two full parties): nothing to choose.
            let teams = [
                self.recs[members[0]].strength,
                self.recs[members[1]].strength,
            ];
            if teams
                .iter()
                .any(|t| t.players != self.mode.team_size as u32)
            {
                return None;
            }
            (vec![0, 1], teams.to_vec())
        } else {
            let parties: Vec<TeamStrength> =
                members.iter().map(|&r| self.recs[r].strength).collect();
            let team_of = assign(
                self.params,
                &parties,
                self.mode.teams,
                self.mode.team_size as u32,
            )?;
            let teams = team_sums(&parties, &team_of, self.mode.teams);
            (team_of, teams)
        };
        let mut worst = 0;
        for &r in &members {
            let latency = self.recs[r]
                .nodes()
                .iter()
                .map(|&n| &self.nodes[n as usize])
                .find(|n| n.region == region)
                .map_or(0, |n| n.latency_ms);
            worst = worst.max(latency);
        }
        let rematch = self.settings.rematch_window_s > 0 && self.rematch(&members);
        let quality = quality_of_strengths(self.params, &teams);
        Some(Group {
            recs: members,
            region,
            worst_latency_ms: worst,
            team_of,
            teams,
            quality,
            score: quality
                - if rematch {
                    self.settings.rematch_penalty
                } else {
                    0.0
                },
            rematch,
        })
    }

    fn rematch(&self, members: &[usize]) -> bool {
        members.iter().enumerate().any(|(i, &a)| {
            let recent = &self.tickets[self.recs[a].ticket].recent_opponents;
            !recent.is_empty()
                && members.iter().enumerate().any(|(j, &b)| {
                    i != j
                        && self.tickets[self.recs[b].ticket]
                            .members
                            .iter()
                            .any(|m| recent.contains(&m.user_id))
                })
        })
    }
}

#[path = "matcher_input.rs"]
mod input;
use input::{read, Input, Node, Rec, NIL};

#[cfg(test)]
#[path = "matcher_tests.rs"]
mod tests;
