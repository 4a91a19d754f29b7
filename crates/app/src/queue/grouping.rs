//! Adapter between the queue's tickets and the pure quality matcher in
//! [`rh_domain::matchmaking::matcher`] (quality threshold schedule inside the ±mmr
//! window, σ widening, balanced teams, parties kept together, the best shared region).
//! Nothing here decides who plays whom.

use std::collections::HashMap;

use rh_domain::matchmaking::matcher::form_matches as quality_matches;
use rh_domain::matchmaking::settings::QualitySettings;
use rh_domain::modes::Mode;
use rh_domain::rating::RatingParams;

use super::tick::Formation;
use super::Ticket;
use crate::matches::MatchPrediction;

/// Forms one mode's matches out of `tickets` (read from any of its region queues) at
/// `now_ms`; each with the region it formed in. A ticket's regions outside `regions`
/// (removed from configuration) are ignored.
pub fn form_matches(
    mode: &Mode,
    settings: &QualitySettings,
    tickets: &[Ticket],
    regions: &[String],
    now_ms: u64,
) -> Vec<(String, Formation)> {
    let input: Vec<_> = tickets
        .iter()
        .map(|t| {
            let mut d = t.to_domain();
            d.regions.retain(|r| regions.contains(&r.region));
            d
        })
        .collect();
    let outcome = quality_matches(&input, mode, settings, &RatingParams::default(), now_ms);
    for r in &outcome.rejected {
        // Cannot happen through the HTTP routes (they validate parties); such a ticket
        // simply expires.
        eprintln!(
            "queue tick: ticket {} not matchable: {}",
            r.ticket_id, r.reason
        );
    }
    let members: HashMap<u64, &Vec<u64>> =
        tickets.iter().map(|t| (t.ticket_id, &t.members)).collect();
    let multi: HashMap<u64, bool> = tickets
        .iter()
        .map(|t| (t.ticket_id, !t.regions.is_empty()))
        .collect();
    outcome
        .matches
        .into_iter()
        .filter_map(|m| {
            let ticket_members = m
                .ticket_ids
                .iter()
                .map(|id| members.get(id).map(|v| v.to_vec()))
                .collect::<Option<Vec<_>>>()?;
            // Latency is only known when some ticket reported it.
            let reported = m.ticket_ids.iter().any(|id| multi.get(id) == Some(&true));
            let prediction = MatchPrediction {
                quality: m.quality,
                predicted_win: m.prediction.win.clone(),
                draw_probability: m.prediction.draw,
                worst_latency_ms: reported.then_some(m.worst_latency_ms),
            };
            Some((
                m.region,
                Formation {
                    ticket_ids: m.ticket_ids,
                    ticket_members,
                    teams: m.teams,
                    prediction,
                },
            ))
        })
        .collect()
}
