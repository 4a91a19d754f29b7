//! The pure grouping step of the queue tick: queued tickets in, formed matches and
//! leftover tickets out. The queue-tick component loads tickets from Redis, calls
//! [`group`], then claims and creates each formed match atomically; nothing here knows
//! about Redis, clocks or ids beyond what it is given.
//!
//! # Rules
//! 1. Tickets only ever meet tickets of the same mode and region.
//! 2. A ticket is a party of 1..=team_size players that always plays on one team.
//!    Tickets that cannot be placed (unknown mode, party too big or empty, a player who
//!    already appears in an older ticket) are returned as [`Rejected`], never matched.
//! 3. Tolerance: a set of tickets is compatible when its mmr spread (highest − lowest
//!    ticket mmr) is at most [`tolerance`] of the *oldest* ticket's wait: ±200 at first,
//!    +50 for every full 10 s waited, capped at ±600. So every pair in a match is within
//!    the *larger* of the two tolerances (the older ticket's). Why the larger: widening
//!    exists to rescue the player who has waited; if a pair needed the *smaller*
//!    tolerance, a long-waiting player in a sparse mmr bracket could only ever be matched
//!    with other long-waiting players and the widening would do little for them while
//!    fresh tickets kept arriving. The newcomer pays with a wider (capped) gap and gets an
//!    instant match in exchange.
//! 4. Oldest first: the anchor is the oldest unmatched ticket; it collects the closest
//!    compatible tickets (ties: the older first) until the party sizes fill every team
//!    exactly, searching combinations when the closest ones do not pack.
//! 5. Teams are balanced by an exhaustive search over assignments of whole parties to
//!    teams, minimising the difference between the highest and lowest team mmr total.
//! 6. A ticket that cannot anchor a match this tick is not offered to younger anchors:
//!    any match it could join would have to fit the narrower tolerance of a younger
//!    anchor, out of fewer remaining tickets, so it would already have been found when
//!    the older ticket searched with its own (wider) tolerance. It stays queued.
//!
//! # Cost
//! Per (mode, region) the tickets are sorted by mmr once and kept in a doubly linked list
//! so matched tickets are unlinked in O(1); each anchor looks at no more than
//! [`MAX_CANDIDATES`] nearest neighbours and a bounded search. The whole step is
//! O(n log n); 100,000 tickets take a few tens of milliseconds natively
//! (`cargo run --release -p rh-domain --example bench_grouping`).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, FieldError};
use crate::modes::{Mode, ModeTable};

/// Tolerance at zero wait.
pub const BASE_TOLERANCE: u32 = 200;
/// Added for every full [`TOLERANCE_STEP_MS`] waited.
pub const TOLERANCE_STEP: u32 = 50;
pub const TOLERANCE_STEP_MS: u64 = 10_000;
/// The tolerance never widens past this.
pub const MAX_TOLERANCE: u32 = 600;
/// How many nearest compatible tickets an anchor considers.
pub const MAX_CANDIDATES: usize = 48;
/// Search nodes one anchor may spend choosing tickets before giving up this tick.
const SELECT_BUDGET: u32 = 4_000;
/// Search nodes one match may spend balancing teams (exhaustive for the default modes).
const BALANCE_BUDGET: u32 = 50_000;

/// The mmr tolerance (±) after waiting `wait_ms`: 200, +50 per full 10 s, at most 600.
pub fn tolerance(wait_ms: u64) -> u32 {
    let steps = wait_ms / TOLERANCE_STEP_MS;
    let widened =
        u64::from(BASE_TOLERANCE).saturating_add(steps.saturating_mul(u64::from(TOLERANCE_STEP)));
    widened.min(u64::from(MAX_TOLERANCE)) as u32
}

/// One queue entry: a solo player or a party, with the mmr it joined with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub ticket_id: String,
    pub mode: String,
    pub region: String,
    /// The ticket's mmr at join time (for a party, the caller's chosen aggregate).
    pub mmr: i32,
    /// The players, all kept on one team.
    pub members: Vec<u64>,
    pub joined_at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormedMatch {
    pub mode: String,
    pub region: String,
    /// Player ids per team; a party's members are contiguous within one team.
    pub teams: Vec<Vec<u64>>,
    /// The tickets consumed, anchor (oldest) first.
    pub ticket_ids: Vec<String>,
    /// Mean ticket mmr per player of each team, rounded.
    pub team_mmr: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub ticket: Ticket,
    pub reason: DomainError,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupingOutcome {
    pub matches: Vec<FormedMatch>,
    /// Still queued, oldest first.
    pub leftover: Vec<Ticket>,
    pub rejected: Vec<Rejected>,
}

/// One ticket as the bucket search sees it.
#[derive(Clone, Copy)]
struct Entry {
    /// Index into the age-sorted ticket list.
    ticket: usize,
    mmr: i64,
    size: usize,
    joined_at_ms: u64,
}

const NIL: u32 = u32::MAX;

/// Groups `tickets` into matches at time `now_ms` (see the module doc for the rules).
pub fn group(mut tickets: Vec<Ticket>, now_ms: u64, modes: &ModeTable) -> GroupingOutcome {
    // Age order everywhere below; the id breaks ties so the result is deterministic.
    tickets.sort_by(|a, b| (a.joined_at_ms, &a.ticket_id).cmp(&(b.joined_at_ms, &b.ticket_id)));

    let mut rejected_reason: HashMap<usize, DomainError> = HashMap::new();
    let mut buckets: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    let mut seen_players: HashSet<u64> = HashSet::with_capacity(tickets.len());
    for (i, t) in tickets.iter().enumerate() {
        let checked = modes
            .get(&t.mode)
            .and_then(|mode| mode.validate_party(&t.members))
            .and_then(|()| claim_players(&mut seen_players, t));
        match checked {
            Ok(()) => buckets
                .entry((t.mode.as_str(), t.region.as_str()))
                .or_default()
                .push(i),
            Err(e) => {
                rejected_reason.insert(i, e);
            }
        }
    }

    let mut keys: Vec<(&str, &str)> = buckets.keys().copied().collect();
    keys.sort_unstable();
    // Per match: ticket indices (anchor first), team per ticket, team mmr means.
    let mut formed: Vec<(Vec<usize>, Vec<usize>, Vec<i32>)> = Vec::new();
    let mut matched = vec![false; tickets.len()];
    for key in keys {
        let mode = modes
            .get(key.0)
            .expect("bucketed tickets have a known mode");
        let entries: Vec<Entry> = buckets[&key]
            .iter()
            .map(|&i| Entry {
                ticket: i,
                mmr: i64::from(tickets[i].mmr),
                size: tickets[i].members.len(),
                joined_at_ms: tickets[i].joined_at_ms,
            })
            .collect();
        for (members, assignment, team_mmr) in group_bucket(&entries, mode, now_ms) {
            for &i in &members {
                matched[i] = true;
            }
            formed.push((members, assignment, team_mmr));
        }
    }

    let matches = formed
        .into_iter()
        .map(|(members, assignment, team_mmr)| {
            let first = &tickets[members[0]];
            let mut teams = vec![Vec::new(); team_mmr.len()];
            for (&i, &team) in members.iter().zip(&assignment) {
                teams[team].extend_from_slice(&tickets[i].members);
            }
            FormedMatch {
                mode: first.mode.clone(),
                region: first.region.clone(),
                teams,
                ticket_ids: members
                    .iter()
                    .map(|&i| tickets[i].ticket_id.clone())
                    .collect(),
                team_mmr,
            }
        })
        .collect();

    let mut outcome = GroupingOutcome {
        matches,
        ..GroupingOutcome::default()
    };
    for (i, ticket) in tickets.into_iter().enumerate() {
        if let Some(reason) = rejected_reason.remove(&i) {
            outcome.rejected.push(Rejected { ticket, reason });
        } else if !matched[i] {
            outcome.leftover.push(ticket);
        }
    }
    outcome
}

/// Records the ticket's players as queued; a player already in an older ticket makes
/// this (younger) ticket invalid, so nobody can be formed into two matches at once.
fn claim_players(seen: &mut HashSet<u64>, t: &Ticket) -> Result<(), DomainError> {
    if let Some(dup) = t.members.iter().find(|m| seen.contains(m)) {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "members",
            format!("user {dup} is already in an older ticket"),
        )]));
    }
    seen.extend(t.members.iter().copied());
    Ok(())
}

/// Forms matches within one (mode, region). `entries` are in age order. Returns, per
/// match, the ticket indices (anchor first), each one's team, and the team mmr means.
fn group_bucket(
    entries: &[Entry],
    mode: &Mode,
    now_ms: u64,
) -> Vec<(Vec<usize>, Vec<usize>, Vec<i32>)> {
    let n = entries.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by_key(|&a| (entries[a as usize].mmr, a));
    let mut pos = vec![0u32; n];
    for (p, &a) in order.iter().enumerate() {
        pos[a as usize] = p as u32;
    }
    let mut prev: Vec<u32> = (0..n as u32).map(|p| p.wrapping_sub(1)).collect();
    prev[0..n.min(1)].fill(NIL);
    let mut next: Vec<u32> = (1..=n as u32).collect();
    if n > 0 {
        next[n - 1] = NIL;
    }
    let mut alive = vec![true; n];
    let unlink = |p: u32, prev: &mut Vec<u32>, next: &mut Vec<u32>| {
        let (l, r) = (prev[p as usize], next[p as usize]);
        if l != NIL {
            next[l as usize] = r;
        }
        if r != NIL {
            prev[r as usize] = l;
        }
    };

    let mut out = Vec::new();
    let mut cands: Vec<u32> = Vec::with_capacity(MAX_CANDIDATES);
    for anchor in 0..n {
        if !alive[anchor] {
            continue;
        }
        let a = entries[anchor];
        let tol = i64::from(tolerance(now_ms.saturating_sub(a.joined_at_ms)));

        // Nearest alive neighbours within tolerance, closest first, ties to the older.
        cands.clear();
        let p = pos[anchor];
        let (mut l, mut r) = (prev[p as usize], next[p as usize]);
        while cands.len() < MAX_CANDIDATES {
            let dl = (l != NIL).then(|| a.mmr - entries[order[l as usize] as usize].mmr);
            let dr = (r != NIL).then(|| entries[order[r as usize] as usize].mmr - a.mmr);
            let dl = dl.filter(|d| *d <= tol);
            let dr = dr.filter(|d| *d <= tol);
            let take_left = match (dl, dr) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(x), Some(y)) => x < y || (x == y && order[l as usize] < order[r as usize]),
            };
            if take_left {
                cands.push(order[l as usize]);
                l = prev[l as usize];
            } else {
                cands.push(order[r as usize]);
                r = next[r as usize];
            }
        }

        alive[anchor] = false;
        unlink(p, &mut prev, &mut next);
        if let Some((chosen, assignment, team_mmr)) = select(entries, anchor, &cands, tol, mode) {
            for &c in &chosen[1..] {
                alive[c] = false;
                unlink(pos[c], &mut prev, &mut next);
            }
            out.push((
                chosen.iter().map(|&c| entries[c].ticket).collect(),
                assignment,
                team_mmr,
            ));
        }
        // else: rule 6 — the anchor stays queued but is no longer offered to others.
    }
    out
}

/// Chooses tickets to join `anchor`: the first combination, in candidate priority order,
/// whose sizes fill the match exactly, whose spread is within `tol`, and that packs into
/// teams. Returns entry indices (anchor first), team per ticket, team mmr means.
fn select(
    entries: &[Entry],
    anchor: usize,
    cands: &[u32],
    tol: i64,
    mode: &Mode,
) -> Option<(Vec<usize>, Vec<usize>, Vec<i32>)> {
    // Players still available from candidate k onwards, to stop early when too few.
    let mut suffix = vec![0usize; cands.len() + 1];
    for k in (0..cands.len()).rev() {
        suffix[k] = suffix[k + 1] + entries[cands[k] as usize].size;
    }
    let a = entries[anchor];
    if a.size + suffix[0] < mode.match_size() {
        return None;
    }
    let mut search = Select {
        entries,
        cands,
        suffix: &suffix,
        tol,
        mode,
        budget: SELECT_BUDGET,
        chosen: vec![anchor],
    };
    search
        .dfs(0, a.size, a.mmr, a.mmr)
        .map(|(assignment, team_mmr)| (search.chosen, assignment, team_mmr))
}

struct Select<'a> {
    entries: &'a [Entry],
    cands: &'a [u32],
    suffix: &'a [usize],
    tol: i64,
    mode: &'a Mode,
    budget: u32,
    chosen: Vec<usize>,
}

impl Select<'_> {
    fn dfs(
        &mut self,
        start: usize,
        players: usize,
        lo: i64,
        hi: i64,
    ) -> Option<(Vec<usize>, Vec<i32>)> {
        let need = self.mode.match_size();
        if players == need {
            let sizes: Vec<usize> = self.chosen.iter().map(|&c| self.entries[c].size).collect();
            let mmrs: Vec<i64> = self.chosen.iter().map(|&c| self.entries[c].mmr).collect();
            return balance(&sizes, &mmrs, self.mode.teams, self.mode.team_size);
        }
        for k in start..self.cands.len() {
            if players + self.suffix[k] < need || self.budget == 0 {
                return None;
            }
            self.budget -= 1;
            let c = self.cands[k] as usize;
            let e = self.entries[c];
            let (nlo, nhi) = (lo.min(e.mmr), hi.max(e.mmr));
            if players + e.size > need || nhi - nlo > self.tol {
                continue;
            }
            self.chosen.push(c);
            if let Some(found) = self.dfs(k + 1, players + e.size, nlo, nhi) {
                return Some(found);
            }
            self.chosen.pop();
        }
        None
    }
}

/// Assigns whole parties (sizes, per-player mmrs) to `teams` teams of exactly
/// `team_size` players, minimising (highest team mmr total − lowest). `None` when the
/// sizes cannot be packed. Returns the team per party and each team's mean mmr.
pub(crate) fn balance(
    sizes: &[usize],
    mmrs: &[i64],
    teams: usize,
    team_size: usize,
) -> Option<(Vec<usize>, Vec<i32>)> {
    struct Balance<'a> {
        sizes: &'a [usize],
        mmrs: &'a [i64],
        team_size: usize,
        load: Vec<usize>,
        sum: Vec<i64>,
        current: Vec<usize>,
        best: Option<(i64, Vec<usize>)>,
        budget: u32,
    }
    impl Balance<'_> {
        fn dfs(&mut self, i: usize) {
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            if i == self.sizes.len() {
                let spread = self.sum.iter().max().unwrap() - self.sum.iter().min().unwrap();
                if self.best.as_ref().is_none_or(|(b, _)| spread < *b) {
                    self.best = Some((spread, self.current.clone()));
                }
                return;
            }
            let mut tried_empty = false;
            for t in 0..self.load.len() {
                if self.load[t] + self.sizes[i] > self.team_size {
                    continue;
                }
                // Empty teams are interchangeable: trying one is enough.
                if self.load[t] == 0 {
                    if tried_empty {
                        continue;
                    }
                    tried_empty = true;
                }
                self.load[t] += self.sizes[i];
                self.sum[t] += self.mmrs[i] * self.sizes[i] as i64;
                self.current[i] = t;
                self.dfs(i + 1);
                self.load[t] -= self.sizes[i];
                self.sum[t] -= self.mmrs[i] * self.sizes[i] as i64;
                if self.best.as_ref().is_some_and(|(b, _)| *b == 0) {
                    return;
                }
            }
        }
    }
    if sizes.iter().sum::<usize>() != teams * team_size {
        return None;
    }
    let mut search = Balance {
        sizes,
        mmrs,
        team_size,
        load: vec![0; teams],
        sum: vec![0; teams],
        current: vec![0; sizes.len()],
        best: None,
        budget: BALANCE_BUDGET,
    };
    search.dfs(0);
    let (_, assignment) = search.best?;
    let mut sum = vec![0i64; teams];
    for (i, &t) in assignment.iter().enumerate() {
        sum[t] += mmrs[i] * sizes[i] as i64;
    }
    let means = sum
        .iter()
        .map(|s| (*s as f64 / team_size as f64).round() as i32)
        .collect();
    Some((assignment, means))
}

#[cfg(test)]
#[path = "matchmaking_tests.rs"]
mod tests;
