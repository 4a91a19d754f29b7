//! Steps 1 to 3 of [`form_matches`](super::form_matches): the tickets read once into
//! compact records, checked, put in age order, and dealt into per-region lists sorted by
//! mmr. What the search then walks is only what this builds.

use std::collections::HashSet;

use super::{Member, QueuedTicket, Rejected};
use crate::error::{DomainError, FieldError};
use crate::matchmaking::quality::TeamStrength;
use crate::matchmaking::regions::MAX_REGIONS;
use crate::modes::Mode;

pub(super) const NIL: u32 = u32::MAX;

/// What the search keeps per valid ticket, in age order.
pub(super) struct Rec {
    pub(super) ticket: usize,
    pub(super) ticket_id: u64,
    /// Where its players' ids start in the flat id array (`size` of them).
    pub(super) ids_at: u32,
    pub(super) mmr: i64,
    pub(super) sigma_max: f64,
    pub(super) strength: TeamStrength,
    pub(super) size: u32,
    pub(super) joined_at_ms: u64,
    /// Nodes (one per accepted region, at most [`MAX_REGIONS`]) in the region lists;
    /// a fixed array, so 100,000 tickets do not mean 100,000 small allocations.
    pub(super) nodes: [u32; MAX_REGIONS],
    pub(super) regions: u8,
}

impl Rec {
    pub(super) fn nodes(&self) -> &[u32] {
        &self.nodes[..usize::from(self.regions)]
    }

    pub(super) fn ids<'a>(&self, ids: &'a [u64]) -> &'a [u64] {
        &ids[self.ids_at as usize..][..self.size as usize]
    }
}

/// What the input-order pass reads of one ticket (see step 1 of [`form_matches`]).
struct Pre {
    mmr: i64,
    sigma_max: f64,
    strength: TeamStrength,
    /// [`party_fits`]: only a ticket that does not is checked again for its message.
    fits: bool,
    /// (region id, latency), `region_count` of them.
    regions: [(u32, u32); MAX_REGIONS],
    region_count: u8,
    ids_at: u32,
}

/// A node: one ticket in one region's mmr-sorted list.
#[derive(Clone, Copy)]
pub(super) struct Node {
    pub(super) rec: u32,
    pub(super) region: u32,
    /// Copies of the ticket's, so a walk along a list reads only the list.
    pub(super) mmr: i64,
    pub(super) sigma_max: f64,
    pub(super) latency_ms: u32,
    /// The ticket's player count.
    pub(super) size: u32,
    pub(super) prev: u32,
    pub(super) next: u32,
}

impl Node {
    const EMPTY: Node = Node {
        rec: NIL,
        region: NIL,
        mmr: 0,
        sigma_max: 0.0,
        latency_ms: 0,
        size: 0,
        prev: NIL,
        next: NIL,
    };
}

/// A ticket's (mmr, age position) as one integer that sorts as the pair does: the mmr
/// (a mean of `i32`s, so within `i32`) with its sign bit flipped, above the position.
pub(super) fn mmr_age_key(mmr: i64, rec: usize) -> u64 {
    let mmr = i32::try_from(mmr).unwrap_or(if mmr < 0 { i32::MIN } else { i32::MAX });
    (u64::from(mmr as u32 ^ 0x8000_0000) << 32) | rec as u64
}

/// What [`read`] built: the valid tickets in age order and their region lists.
pub(super) struct Input<'a> {
    pub(super) recs: Vec<Rec>,
    pub(super) nodes: Vec<Node>,
    /// Every ticket's player ids, one flat array ([`Rec::ids`]).
    pub(super) ids: Vec<u64>,
    /// Region names by region id.
    pub(super) region_names: Vec<&'a str>,
    pub(super) rejected: Vec<Rejected>,
    /// (joined at, ticket id) of the tickets with no region left: they stay queued.
    pub(super) no_region: Vec<(u64, u64)>,
}

/// Steps 1 to 3 (see `form_matches`).
pub(super) fn read<'a>(tickets: &'a [QueuedTicket], mode: &Mode) -> Input<'a> {
    let mut rejected: Vec<Rejected> = Vec::new();

    // 1. One pass over the tickets in input order reads everything the search needs of
    //    each into a compact record (its mmr, strength, region ids and latencies, its
    //    player ids into one flat array). Walking the tickets in age order instead chased
    //    each one's members, regions and region names on the heap in random order, and
    //    that cache-missing was most of the matcher's time.
    let mut region_names: Vec<&str> = Vec::new();
    let mut ids: Vec<u64> = Vec::with_capacity(tickets.len() * 2);
    let pre: Vec<Pre> = tickets
        .iter()
        .map(|t| {
            let ids_at = ids.len() as u32;
            let mut strength = TeamStrength::default();
            let mut sigma_max: f64 = 0.0;
            for m in &t.members {
                strength.add(m.rating);
                sigma_max = sigma_max.max(m.rating.sigma);
                ids.push(m.user_id);
            }
            // A ticket's regions past MAX_REGIONS (the queue refuses them) are ignored.
            // The few region names are found by a linear scan, cheaper than hashing.
            let mut regions = [(0u32, 0u32); MAX_REGIONS];
            let mut count = 0u8;
            for rl in t.regions.iter().take(MAX_REGIONS) {
                let id = match region_names.iter().position(|n| *n == rl.region) {
                    Some(id) => id,
                    None => {
                        region_names.push(rl.region.as_str());
                        region_names.len() - 1
                    }
                } as u32;
                regions[usize::from(count)] = (id, rl.latency_ms);
                count += 1;
            }
            Pre {
                mmr: t.mmr(),
                sigma_max,
                strength,
                fits: party_fits(&t.members, mode.team_size),
                regions,
                region_count: count,
                ids_at,
            }
        })
        .collect();

    // 2. Age order; validity; one ticket per player (the older wins). Duplicates are
    //    rare (the queue refuses a second ticket), so a sorted copy first proves there
    //    are none and the set is only built when there are.
    let mut order: Vec<(u64, u64, u32)> = tickets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.joined_at_ms, t.ticket_id, i as u32))
        .collect();
    order.sort_unstable();
    let mut all = ids.clone();
    all.sort_unstable();
    let any_duplicate = all.windows(2).any(|w| w[0] == w[1]);
    drop(all);
    let mut seen: HashSet<u64> = HashSet::new();
    let mut recs: Vec<Rec> = Vec::with_capacity(tickets.len());
    let mut no_region: Vec<(u64, u64)> = Vec::new();
    for &(joined_at_ms, ticket_id, i) in &order {
        let (i, p) = (i as usize, &pre[i as usize]);
        let t = &tickets[i];
        if !p.fits {
            let ids: Vec<u64> = t.members.iter().map(|m| m.user_id).collect();
            if let Err(reason) = mode.validate_party(&ids) {
                rejected.push(Rejected { ticket_id, reason });
                continue;
            }
        }
        if any_duplicate {
            if let Some(dup) = t.members.iter().find(|m| seen.contains(&m.user_id)) {
                rejected.push(Rejected {
                    ticket_id,
                    reason: DomainError::Invalid(vec![FieldError::new(
                        "members",
                        format!("user {} is already in an older ticket", dup.user_id),
                    )]),
                });
                continue;
            }
            seen.extend(t.members.iter().map(|m| m.user_id));
        }
        if p.region_count == 0 {
            no_region.push((joined_at_ms, ticket_id));
            continue;
        }
        recs.push(Rec {
            ticket: i,
            ticket_id,
            ids_at: p.ids_at,
            mmr: p.mmr,
            sigma_max: p.sigma_max,
            strength: p.strength,
            size: t.members.len() as u32,
            joined_at_ms,
            nodes: [NIL; MAX_REGIONS],
            regions: 0,
        });
    }

    // 3. Region lists: every (ticket, region) node sorted by (region, mmr, age) and
    //    stored in that order, so walking a list walks memory in order (a linked list
    //    scattered over 100,000 nodes spent most of its time in cache misses).
    //    A ticket's nodes keep its own region order (`slot`): rule 4's last tie-break.
    //    The tickets are sorted once by (mmr, age), as one packed integer each, and
    //    then dealt into their regions' ranges in that order: cheaper than sorting
    //    every node by a three-part key.
    let mut region_len = vec![0u32; region_names.len()];
    let mut keys: Vec<u64> = Vec::with_capacity(recs.len());
    for (r, rec) in recs.iter_mut().enumerate() {
        let p = &pre[rec.ticket];
        rec.regions = p.region_count;
        for &(region, _) in &p.regions[..usize::from(p.region_count)] {
            region_len[region as usize] += 1;
        }
        keys.push(mmr_age_key(rec.mmr, r));
    }
    keys.sort_unstable();
    let mut region_at: Vec<u32> = Vec::with_capacity(region_len.len() + 1);
    let mut total = 0u32;
    for len in &region_len {
        region_at.push(total);
        total += len;
    }
    region_at.push(total);
    let mut fill = region_at.clone();
    let mut nodes: Vec<Node> = vec![Node::EMPTY; total as usize];
    for key in keys {
        let r = (key & u64::from(u32::MAX)) as usize;
        let rec = &mut recs[r];
        let p = &pre[rec.ticket];
        for (slot, &(region, latency_ms)) in
            p.regions[..usize::from(p.region_count)].iter().enumerate()
        {
            let k = fill[region as usize];
            fill[region as usize] += 1;
            let (first, end) = (region_at[region as usize], region_at[region as usize + 1]);
            nodes[k as usize] = Node {
                rec: r as u32,
                region,
                mmr: rec.mmr,
                sigma_max: rec.sigma_max,
                latency_ms,
                size: rec.size,
                prev: if k > first { k - 1 } else { NIL },
                next: if k + 1 < end { k + 1 } else { NIL },
            };
            rec.nodes[slot] = k;
        }
    }
    drop(pre);

    Input {
        recs,
        nodes,
        ids,
        region_names,
        rejected,
        no_region,
    }
}

/// The common case of [`Mode::validate_party`] without allocating: 1..=team_size
/// distinct players. Only when this fails is the full check run for its messages.
fn party_fits(members: &[Member], team_size: usize) -> bool {
    (1..=team_size).contains(&members.len())
        && members
            .iter()
            .enumerate()
            .all(|(i, m)| !members[..i].iter().any(|o| o.user_id == m.user_id))
}
