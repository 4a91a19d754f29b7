//! Step one of grouping: validate, order and bucket the tickets, then run the search per
//! (mode, region) and record the outcome as ticket indices.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use super::search::Search;
use super::Ticket;
use crate::error::{DomainError, FieldError};
use crate::modes::{Mode, ModeTable};

/// The outcome in ticket indices (into the caller's slice).
#[derive(Default)]
pub(super) struct Plan {
    pub(super) matches: Vec<PlannedMatch>,
    /// Oldest first.
    pub(super) leftover: Vec<u32>,
    pub(super) rejected: Vec<(u32, DomainError)>,
}

pub(super) struct PlannedMatch {
    /// Anchor (oldest) first.
    pub(super) tickets: Vec<u32>,
    pub(super) teams: Vec<Vec<u64>>,
    pub(super) team_mmr: Vec<i32>,
}

/// What the search needs of one ticket, copied out in input order so the search touches
/// one compact array instead of 100,000 scattered heap strings.
#[derive(Clone, Copy)]
pub(super) struct Entry {
    /// Index into the caller's ticket slice.
    pub(super) ticket: u32,
    /// Where the ticket's members start in the copied player array.
    pub(super) start: u32,
    pub(super) size: u32,
    pub(super) mmr: i64,
    pub(super) joined_at_ms: u64,
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

/// Decides the whole outcome in terms of ticket indices; [`super::group`] and
/// [`super::group_ref`] then move or clone the tickets into the public outcome.
pub(super) fn plan(tickets: &[Ticket], now_ms: u64, modes: &ModeTable) -> Plan {
    let mode_list: Vec<&Mode> = modes.iter().collect();
    let mut regions: Vec<&str> = Vec::new();
    let mut out = Plan::default();
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
    let mut picks: Vec<(u32, usize)> = Vec::new();
    let mut means: Vec<i32> = Vec::new();
    for b in bucket_ids {
        let mode = mode_list[b % mode_list.len()];
        let entries = &buckets[b];
        picks.clear();
        means.clear();
        let formed = search.bucket(entries, mode, now_ms, &mut picks, &mut means);
        out.matches.reserve(formed.len());
        for f in formed {
            let mut teams = vec![Vec::with_capacity(mode.team_size); mode.teams];
            let mut members = Vec::with_capacity(f.len);
            for &(e, team) in &picks[f.start..f.start + f.len] {
                let entry = entries[e as usize];
                matched[entry.ticket as usize] = true;
                teams[team].extend_from_slice(members_of(entry.start, entry.size));
                members.push(entry.ticket);
            }
            out.matches.push(PlannedMatch {
                tickets: members,
                teams,
                team_mmr: means[f.mmr_start..f.mmr_start + mode.teams].to_vec(),
            });
        }
    }

    // 5. Whatever was neither matched nor rejected stays queued, oldest first.
    out.leftover = order
        .iter()
        .map(|&(_, _, i)| i)
        .filter(|&i| !matched[i as usize] && !is_rejected[i as usize])
        .collect();
    // Rejections were found in two passes (input order, then age order): report them
    // oldest first like everything else, so the outcome never depends on input order.
    rejected.sort_by(|(a, _), (b, _)| {
        let (x, y) = (&tickets[*a as usize], &tickets[*b as usize]);
        (x.joined_at_ms, &x.ticket_id, a).cmp(&(y.joined_at_ms, &y.ticket_id, b))
    });
    out.rejected = rejected;
    out
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
