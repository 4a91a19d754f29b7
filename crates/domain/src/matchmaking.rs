//! Matchmaking, pure: queued tickets in, formed matches and leftover tickets out.
//!
//! # Layout
//! - [`quality`]: predicted win and draw probabilities (OpenSkill's formulas for our
//!   Plackett-Luce model) and the quality score built on them;
//! - [`teams`]: the split of a match's parties into teams with the smallest favourite's
//!   edge (exact up to 8 players, a documented heuristic beyond);
//! - [`settings`]: per-mode quality threshold schedule, σ widening and rematch penalty;
//! - [`regions`]: multi-region tickets and the shared region with the lowest worst latency;
//! - [`matcher`]: the quality matcher the queue tick runs ([`matcher::form_matches`]);
//! - this file, `plan` and `search`: today's ±mmr grouping ([`group`]), kept as the
//!   baseline the simulation benchmark (`examples/bench_matchmaking_sim.rs`) compares
//!   against, and whose [`tolerance`] curve stays the quality matcher's outer bound.
//!
//! # The ±mmr grouping (the baseline)
//! The queue tick used to load tickets from Redis, call [`group`], then claim and
//! create each formed match atomically; nothing here knows about Redis, clocks or ids
//! beyond what it is given.
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
//!    teams, minimising the difference between the highest and lowest team mmr total
//!    (bounded by a node budget that the default modes, at most 8 parties in 2 teams,
//!    never come near).
//! 6. A ticket that cannot anchor a match this tick is not offered to younger anchors:
//!    any match it could join would have to fit the narrower tolerance of a younger
//!    anchor, out of fewer remaining tickets, so it would already have been found when
//!    the older ticket searched with its own (wider) tolerance — up to the search's
//!    bounds ([`MAX_CANDIDATES`] nearest tickets, a node budget). It stays queued for
//!    the next tick.
//!
//! # Cost
//! One sequential pass copies what the search needs (mode, region, mmr, party size, join
//! time) into small records, so the search never chases the tickets' heap strings. Per
//! (mode, region) the records are sorted by mmr once and kept in a doubly linked list so
//! matched tickets are unlinked in O(1); each anchor looks at no more than
//! [`MAX_CANDIDATES`] nearest neighbours with a bounded search, reusing its buffers. The
//! whole step is O(n log n); see `docs/benchmarks.md` for 100,000 tickets
//! (`cargo run --release -p rh-domain --example bench_grouping`).

pub mod matcher;
mod plan;
pub mod quality;
pub mod regions;
mod search;
pub mod settings;
pub mod teams;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::modes::ModeTable;
use plan::{plan, Plan};

/// Tolerance at zero wait.
pub const BASE_TOLERANCE: u32 = 200;
/// Added for every full [`TOLERANCE_STEP_MS`] waited.
pub const TOLERANCE_STEP: u32 = 50;
pub const TOLERANCE_STEP_MS: u64 = 10_000;
/// The tolerance never widens past this.
pub const MAX_TOLERANCE: u32 = 600;
/// How many nearest compatible tickets an anchor considers.
pub const MAX_CANDIDATES: usize = 48;

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

/// Groups `tickets` into matches at time `now_ms` (see the module doc for the rules).
/// Consumes the tickets and moves them into the outcome (no copies of their strings).
pub fn group(mut tickets: Vec<Ticket>, now_ms: u64, modes: &ModeTable) -> GroupingOutcome {
    let plan = plan(&tickets, now_ms, modes);
    materialize(plan, &mut Owned(&mut tickets))
}

/// [`group`] for a caller that keeps its tickets: the outcome holds copies.
pub fn group_ref(tickets: &[Ticket], now_ms: u64, modes: &ModeTable) -> GroupingOutcome {
    let plan = plan(tickets, now_ms, modes);
    materialize(plan, &mut Borrowed(tickets))
}

/// Where the outcome's strings come from: moved out of owned tickets or cloned.
trait Source {
    fn id(&mut self, i: usize) -> String;
    fn place(&mut self, i: usize) -> (String, String);
    fn ticket(&mut self, i: usize) -> Ticket;
}

struct Owned<'a>(&'a mut Vec<Ticket>);
struct Borrowed<'a>(&'a [Ticket]);

impl Source for Owned<'_> {
    fn id(&mut self, i: usize) -> String {
        std::mem::take(&mut self.0[i].ticket_id)
    }
    fn place(&mut self, i: usize) -> (String, String) {
        let t = &mut self.0[i];
        (std::mem::take(&mut t.mode), std::mem::take(&mut t.region))
    }
    fn ticket(&mut self, i: usize) -> Ticket {
        let t = &mut self.0[i];
        Ticket {
            ticket_id: std::mem::take(&mut t.ticket_id),
            mode: std::mem::take(&mut t.mode),
            region: std::mem::take(&mut t.region),
            mmr: t.mmr,
            members: std::mem::take(&mut t.members),
            joined_at_ms: t.joined_at_ms,
        }
    }
}

impl Source for Borrowed<'_> {
    fn id(&mut self, i: usize) -> String {
        self.0[i].ticket_id.clone()
    }
    fn place(&mut self, i: usize) -> (String, String) {
        (self.0[i].mode.clone(), self.0[i].region.clone())
    }
    fn ticket(&mut self, i: usize) -> Ticket {
        self.0[i].clone()
    }
}

fn materialize(plan: Plan, source: &mut impl Source) -> GroupingOutcome {
    let matches = plan
        .matches
        .into_iter()
        .map(|m| {
            let (mode, region) = source.place(m.tickets[0] as usize);
            FormedMatch {
                mode,
                region,
                teams: m.teams,
                ticket_ids: m.tickets.iter().map(|&i| source.id(i as usize)).collect(),
                team_mmr: m.team_mmr,
            }
        })
        .collect();
    GroupingOutcome {
        matches,
        leftover: plan
            .leftover
            .into_iter()
            .map(|i| source.ticket(i as usize))
            .collect(),
        rejected: plan
            .rejected
            .into_iter()
            .map(|(i, reason)| Rejected {
                ticket: source.ticket(i as usize),
                reason,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
