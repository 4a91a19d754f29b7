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
//! One sequential pass copies what the search needs (mode, region, mmr, party size, join
//! time) into small records, so the search never chases the tickets' heap strings. Per
//! (mode, region) the records are sorted by mmr once and kept in a doubly linked list so
//! matched tickets are unlinked in O(1); each anchor looks at no more than
//! [`MAX_CANDIDATES`] nearest neighbours with a bounded search, reusing its buffers. The
//! whole step is O(n log n); see `docs/benchmarks.md` for 100,000 tickets
//! (`cargo run --release -p rh-domain --example bench_grouping`).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

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

/// What the search needs of one ticket, copied out in input order so the search touches
/// one compact array instead of 100,000 scattered heap strings.
#[derive(Clone, Copy)]
struct Entry {
    /// Index into the caller's ticket slice.
    ticket: u32,
    /// Where the ticket's members start in the copied player array.
    start: u32,
    size: u32,
    mmr: i64,
    joined_at_ms: u64,
}

/// Per ticket, in input order: the fields every later pass reads.
struct Rec {
    joined_at_ms: u64,
    id_prefix: u64,
    mmr: i32,
    /// `mode + region * modes`, or [`REJECTED`].
    bucket: u32,
    start: u32,
    len: u32,
}

const NIL: u32 = u32::MAX;
const REJECTED: u32 = u32::MAX;

/// Player ids are database ids, not attacker-chosen keys, so a fast multiplicative hash
/// is safe here and several times cheaper than SipHash for 100,000+ inserts.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type IdSet = HashSet<u64, BuildHasherDefault<IdHasher>>;

/// The first 8 bytes of an id, big-endian, so most tie-breaks compare integers.
fn id_prefix(id: &str) -> u64 {
    let mut buf = [0u8; 8];
    let n = id.len().min(8);
    buf[..n].copy_from_slice(&id.as_bytes()[..n]);
    u64::from_be_bytes(buf)
}

/// A formed match inside one bucket: `len` tickets starting at `start` of the flat list
/// of (entry, team) pairs, and the team mmr means starting at `mmr_start`.
struct Formed {
    start: usize,
    len: usize,
    mmr_start: usize,
}

/// Groups `tickets` into matches at time `now_ms` (see the module doc for the rules).
///
/// Takes the tickets by reference: the caller usually still needs them (to claim each
/// formed match's tickets atomically), and the outcome clones only what it returns.
pub fn group(tickets: &[Ticket], now_ms: u64, modes: &ModeTable) -> GroupingOutcome {
    let mode_list: Vec<&Mode> = modes.iter().collect();
    let mut regions: Vec<&str> = Vec::new();
    let mut outcome = GroupingOutcome::default();
    let mut rejected: Vec<(u32, DomainError)> = Vec::new();
    let mut is_rejected = vec![false; tickets.len()];

    // 1. One sequential pass over the tickets copies what later passes need into compact
    //    records, members into one array: those passes visit tickets in age or mmr
    //    order, and a compact array is far cheaper to jump around in than 100,000
    //    scattered tickets with their own heap strings and vectors.
    let mut recs: Vec<Rec> = Vec::with_capacity(tickets.len());
    let mut players: Vec<u64> = Vec::with_capacity(tickets.len() * 2);
    for (i, t) in tickets.iter().enumerate() {
        let start = players.len() as u32;
        players.extend_from_slice(&t.members);
        let mut rec = Rec {
            joined_at_ms: t.joined_at_ms,
            id_prefix: id_prefix(&t.ticket_id),
            mmr: t.mmr,
            bucket: REJECTED,
            start,
            len: t.members.len() as u32,
        };
        let Some(m) = mode_list.iter().position(|m| m.name == t.mode) else {
            rejected.push((i as u32, DomainError::UnknownMode(t.mode.clone())));
            recs.push(rec);
            continue;
        };
        if !party_fits(&t.members, mode_list[m].team_size) {
            if let Err(e) = mode_list[m].validate_party(&t.members) {
                rejected.push((i as u32, e));
                recs.push(rec);
                continue;
            }
        }
        let r = match regions.iter().position(|r| *r == t.region) {
            Some(r) => r,
            None => {
                regions.push(&t.region);
                regions.len() - 1
            }
        };
        rec.bucket = (r * mode_list.len() + m) as u32;
        recs.push(rec);
    }
    let members_of = |start: u32, len: u32| &players[start as usize..(start + len) as usize];

    // 2. Age order: join time, then ticket id, so the result does not depend on the order
    //    the caller listed the tickets in.
    let mut order: Vec<(u64, u64, u32)> = recs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.bucket != REJECTED)
        .map(|(i, r)| (r.joined_at_ms, r.id_prefix, i as u32))
        .collect();
    order.sort_unstable_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| {
                tickets[a.2 as usize]
                    .ticket_id
                    .cmp(&tickets[b.2 as usize].ticket_id)
            })
            .then(a.2.cmp(&b.2))
    });

    // 3. In age order: a player already in an older ticket makes the younger ticket
    //    invalid, so nobody can be formed into two matches at once. Survivors go to
    //    their bucket, still in age order. Duplicates are rare (the queue component
    //    refuses a second ticket), so a sorted copy first proves there are none and the
    //    per-ticket set is only built when there are.
    let mut sorted_players: Vec<u64> = order
        .iter()
        .flat_map(|&(_, _, i)| {
            let r = &recs[i as usize];
            members_of(r.start, r.len).iter().copied()
        })
        .collect();
    sorted_players.sort_unstable();
    let any_duplicate = sorted_players.windows(2).any(|w| w[0] == w[1]);
    drop(sorted_players);
    let mut seen: IdSet = IdSet::default();
    let mut buckets: Vec<Vec<Entry>> = vec![Vec::new(); regions.len() * mode_list.len()];
    for &(_, _, i) in &order {
        let r = &recs[i as usize];
        let members = members_of(r.start, r.len);
        if any_duplicate {
            if let Some(dup) = members.iter().find(|p| seen.contains(p)) {
                is_rejected[i as usize] = true;
                rejected.push((
                    i,
                    DomainError::Invalid(vec![FieldError::new(
                        "members",
                        format!("user {dup} is already in an older ticket"),
                    )]),
                ));
                continue;
            }
            seen.extend(members.iter().copied());
        }
        buckets[r.bucket as usize].push(Entry {
            ticket: i,
            start: r.start,
            size: r.len,
            mmr: i64::from(r.mmr),
            joined_at_ms: r.joined_at_ms,
        });
    }

    // 4. Search each bucket, in a stable (mode, region) order.
    let mut bucket_ids: Vec<usize> = (0..buckets.len())
        .filter(|&b| !buckets[b].is_empty())
        .collect();
    bucket_ids.sort_unstable_by_key(|&b| {
        (
            mode_list[b % mode_list.len()].name.as_str(),
            regions[b / mode_list.len()],
        )
    });
    let mut matched = vec![false; tickets.len()];
    let mut search = Search::default();
    for b in bucket_ids {
        let mode = mode_list[b % mode_list.len()];
        let entries = &buckets[b];
        let mut picks: Vec<(u32, usize)> = Vec::new();
        let mut means: Vec<i32> = Vec::new();
        let formed = search.bucket(entries, mode, now_ms, &mut picks, &mut means);
        outcome.matches.reserve(formed.len());
        for f in formed {
            let picked = &picks[f.start..f.start + f.len];
            let first = &tickets[entries[picked[0].0 as usize].ticket as usize];
            let mut teams = vec![Vec::with_capacity(mode.team_size); mode.teams];
            let mut ticket_ids = Vec::with_capacity(f.len);
            for &(e, team) in picked {
                let entry = entries[e as usize];
                let idx = entry.ticket as usize;
                matched[idx] = true;
                teams[team].extend_from_slice(members_of(entry.start, entry.size));
                ticket_ids.push(tickets[idx].ticket_id.clone());
            }
            outcome.matches.push(FormedMatch {
                mode: first.mode.clone(),
                region: first.region.clone(),
                teams,
                ticket_ids,
                team_mmr: means[f.mmr_start..f.mmr_start + mode.teams].to_vec(),
            });
        }
    }

    // 5. Whatever was neither matched nor rejected stays queued, oldest first.
    outcome.leftover = order
        .iter()
        .map(|&(_, _, i)| i as usize)
        .filter(|&i| !matched[i] && !is_rejected[i])
        .map(|i| tickets[i].clone())
        .collect();
    outcome.rejected = rejected
        .into_iter()
        .map(|(i, reason)| Rejected {
            ticket: tickets[i as usize].clone(),
            reason,
        })
        .collect();
    outcome
}

/// The common case of [`Mode::validate_party`] without allocating: 1..=team_size
/// distinct players. Only when this fails is the full check run for its messages.
fn party_fits(members: &[u64], team_size: usize) -> bool {
    (1..=team_size).contains(&members.len())
        && members
            .iter()
            .enumerate()
            .all(|(i, m)| !members[..i].contains(m))
}

/// Buffers reused across anchors and buckets, so the hot loop does not allocate.
#[derive(Default)]
struct Search {
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
    fn bucket(
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

#[cfg(test)]
#[path = "matchmaking_tests.rs"]
mod tests;
