//! Adapter between the queue's tickets and the pure grouping step in
//! [`rh_domain::matchmaking`] (tolerance curve, oldest first, balanced teams, parties
//! kept together). Nothing here decides who plays whom.

use std::collections::HashMap;

use rh_domain::matchmaking::{group, Ticket as DomainTicket};
use rh_domain::modes::{Mode, ModeTable};

use super::tick::Formation;
use super::Ticket;

/// Groups one queue's tickets (all of `mode` and one region) at `now_ms`.
pub fn form_matches(mode: &Mode, tickets: &[Ticket], now_ms: u64) -> Vec<Formation> {
    // The table holds just this mode: the queue was read per (mode, region).
    let Ok(table) = format!("{}:{}x{}", mode.name, mode.teams, mode.team_size).parse::<ModeTable>()
    else {
        eprintln!("queue tick: mode {:?} cannot be grouped", mode.name);
        return Vec::new();
    };
    let input = tickets
        .iter()
        .map(|t| DomainTicket {
            ticket_id: t.ticket_id.to_string(),
            mode: t.mode.clone(),
            region: t.region.clone(),
            mmr: t.mmr(),
            members: t.members.clone(),
            joined_at_ms: t.joined_at_ms,
        })
        .collect();
    let outcome = group(input, now_ms, &table);
    let members: HashMap<u64, &Vec<u64>> =
        tickets.iter().map(|t| (t.ticket_id, &t.members)).collect();
    for r in &outcome.rejected {
        // Cannot happen through the HTTP routes (they validate parties); such a ticket
        // simply expires.
        eprintln!(
            "queue tick: ticket {} not matchable: {}",
            r.ticket.ticket_id, r.reason
        );
    }
    outcome
        .matches
        .into_iter()
        .filter_map(|m| {
            let ticket_ids = m
                .ticket_ids
                .iter()
                .map(|id| id.parse::<u64>())
                .collect::<Result<Vec<_>, _>>()
                .ok()?;
            let ticket_members = ticket_ids
                .iter()
                .map(|id| members.get(id).map(|m| m.to_vec()))
                .collect::<Option<Vec<_>>>()?;
            Some(Formation {
                ticket_ids,
                ticket_members,
                teams: m.teams,
            })
        })
        .collect()
}
