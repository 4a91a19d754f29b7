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
        rh_infra::log_warn!(
            "queue tick: ticket {} not matchable: {}",
            r.ticket_id,
            r.reason
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

#[cfg(test)]
mod tests {
    use super::*;
    use rh_domain::matchmaking::regions::RegionLatency;

    fn ticket(id: u64, user: u64, regions: &[(&str, u32)]) -> Ticket {
        Ticket {
            ticket_id: id,
            state: "queued".into(),
            mode: "1v1".into(),
            region: regions[0].0.into(),
            joined_at_ms: 1_000,
            members: vec![user],
            consented: vec![user],
            mmrs: vec![(user, 1500)],
            sigmas: vec![2.0],
            regions: regions
                .iter()
                .map(|&(r, l)| RegionLatency {
                    region: r.into(),
                    latency_ms: l,
                })
                .collect(),
            recent_opponents: Vec::new(),
        }
    }

    fn mode() -> Mode {
        Mode {
            name: "1v1".into(),
            teams: 2,
            team_size: 1,
        }
    }

    #[test]
    fn a_region_no_longer_configured_is_never_chosen() {
        // "old" would be the better shared region, but it is gone from configuration.
        let tickets = [
            ticket(1, 10, &[("old", 10), ("eu", 80)]),
            ticket(2, 20, &[("old", 10), ("eu", 90)]),
        ];
        let regions = vec!["eu".to_owned()];
        let formed = form_matches(
            &mode(),
            &QualitySettings::default(),
            &tickets,
            &regions,
            2_000,
        );
        assert_eq!(formed.len(), 1);
        let (region, f) = &formed[0];
        assert_eq!(region, "eu");
        assert_eq!(f.ticket_members, vec![vec![10], vec![20]]);
        assert_eq!(f.prediction.worst_latency_ms, Some(90));
        assert!(f.prediction.quality > 0.99);
    }

    #[test]
    fn single_region_tickets_report_no_latency() {
        let mut a = ticket(1, 10, &[("eu", 0)]);
        let mut b = ticket(2, 20, &[("eu", 0)]);
        a.regions.clear();
        b.regions.clear();
        let regions = vec!["eu".to_owned()];
        let formed = form_matches(
            &mode(),
            &QualitySettings::default(),
            &[a, b],
            &regions,
            2_000,
        );
        assert_eq!(formed[0].0, "eu");
        assert_eq!(formed[0].1.prediction.worst_latency_ms, None);
        assert_eq!(formed[0].1.prediction.predicted_win.len(), 2);
    }
}
