//! The quality matcher's rules, table by table (see the module doc of `matcher`).

use super::*;
use crate::modes::ModeTable;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

use super::input::mmr_age_key;

const NOW: u64 = 1_000_000_000;

fn mode(name: &str) -> Mode {
    ModeTable::default().get(name).unwrap().clone()
}

fn rl(region: &str, latency_ms: u32) -> RegionLatency {
    RegionLatency {
        region: region.into(),
        latency_ms,
    }
}

/// A ticket of players at `mmr` with σ `sigma`, in `regions`, that has waited `wait_ms`.
fn ticket(
    id: u64,
    players: &[u64],
    mmr: i32,
    sigma: f64,
    regions: &[RegionLatency],
    wait_ms: u64,
) -> QueuedTicket {
    QueuedTicket {
        ticket_id: id,
        members: players
            .iter()
            .map(|&user_id| Member {
                user_id,
                rating: Rating::from_mmr(mmr, sigma),
            })
            .collect(),
        regions: regions.to_vec(),
        joined_at_ms: NOW - wait_ms,
        recent_opponents: Vec::new(),
    }
}

fn solo(id: u64, mmr: i32, wait_ms: u64) -> QueuedTicket {
    ticket(id, &[id], mmr, 2.0, &[rl("eu", 0)], wait_ms)
}

fn run(tickets: &[QueuedTicket], mode_name: &str) -> MatchOutcome {
    form_matches(
        tickets,
        &mode(mode_name),
        &QualitySettings::default(),
        &RatingParams::default(),
        NOW,
    )
}

#[test]
fn an_even_pair_forms_at_once_with_its_prediction() {
    let out = run(&[solo(1, 1500, 1_000), solo(2, 1510, 0)], "1v1");
    assert_eq!(out.matches.len(), 1);
    let m = &out.matches[0];
    assert_eq!(m.ticket_ids, vec![1, 2]);
    assert_eq!(m.region, "eu");
    assert!(m.quality > 0.95, "{m:?}");
    assert!((m.prediction.win.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(m.prediction.draw > 0.0);
    assert!(out.leftover.is_empty());
}

#[test]
fn a_lopsided_pair_waits_until_the_floor_even_inside_the_mmr_window() {
    // 190 apart between settled players: a 77 % favourite (quality ~0.47), inside
    // today's ±200, which would have matched them at once.
    let young = [solo(1, 1500, 0), solo(2, 1690, 0)];
    let out = run(&young, "1v1");
    assert!(out.matches.is_empty(), "{out:?}");
    assert_eq!(out.leftover, vec![1, 2]);
    // Half-way to the floor (threshold 0.725) still not.
    let out = run(&[solo(1, 1500, 10_000), solo(2, 1690, 0)], "1v1");
    assert!(out.matches.is_empty());
    // Past the floor the best available group forms.
    let out = run(&[solo(1, 1500, 20_000), solo(2, 1690, 0)], "1v1");
    assert_eq!(out.matches.len(), 1);
    assert!(out.matches[0].quality < 0.5);
}

#[test]
fn a_balanced_group_is_chosen_over_a_lopsided_one() {
    let out = run(
        &[solo(1, 1500, 5_000), solo(2, 1690, 3_000), solo(3, 1515, 0)],
        "1v1",
    );
    assert_eq!(out.matches.len(), 1);
    assert_eq!(out.matches[0].ticket_ids, vec![1, 3]);
    assert_eq!(out.leftover, vec![2]);
}

#[test]
fn uncertain_players_are_matched_more_widely() {
    let settings = QualitySettings {
        quality_start: 0.0,
        quality_floor: 0.0,
        ..QualitySettings::default()
    };
    let form = |sigma: f64| {
        let t = [
            ticket(1, &[1], 1500, sigma, &[rl("eu", 0)], 0),
            ticket(2, &[2], 1750, sigma, &[rl("eu", 0)], 0),
        ];
        form_matches(&t, &mode("1v1"), &settings, &RatingParams::default(), NOW)
    };
    // 250 apart: outside ±200 for settled players, inside ±(200 + 100) at σ = 8.
    assert!(form(2.0).matches.is_empty());
    let wide = form(8.0);
    assert_eq!(wide.matches.len(), 1);
    // Their prediction is close to a coin flip: σ is in the denominator.
    assert!(wide.matches[0].quality > 0.55, "{wide:?}");
}

#[test]
fn multi_region_tickets_meet_in_the_shared_region_with_the_lowest_worst_latency() {
    let a = ticket(1, &[1], 1500, 2.0, &[rl("eu", 20), rl("na", 90)], 2_000);
    let b = ticket(2, &[2], 1500, 2.0, &[rl("na", 30), rl("eu", 150)], 1_000);
    let c = ticket(3, &[3], 1500, 2.0, &[rl("sa", 10)], 0);
    let out = run(&[a, b, c], "1v1");
    assert_eq!(out.matches.len(), 1);
    let m = &out.matches[0];
    assert_eq!(m.ticket_ids, vec![1, 2]);
    assert_eq!((m.region.as_str(), m.worst_latency_ms), ("na", 90));
    assert_eq!(out.leftover, vec![3]);
}

/// Rule 4's last tie-break is the anchor's own region order, not the order in which
/// the matcher first saw each region (here the older ticket 1 sees "eu" first).
#[test]
fn equal_groups_in_two_regions_form_in_the_region_the_anchor_listed_first() {
    let tickets = [
        ticket(1, &[1], 3000, 2.0, &[rl("eu", 0)], 9_000),
        ticket(2, &[2], 1500, 2.0, &[rl("na", 40), rl("eu", 40)], 5_000),
        ticket(3, &[3], 1500, 2.0, &[rl("eu", 40), rl("na", 40)], 0),
    ];
    let out = run(&tickets, "1v1");
    assert_eq!(out.matches.len(), 1, "{out:?}");
    assert_eq!(out.matches[0].ticket_ids, vec![2, 3]);
    assert_eq!(out.matches[0].region, "na");
    assert_eq!(out.leftover, vec![1]);
}

#[test]
fn single_region_tickets_never_cross_regions() {
    let a = ticket(1, &[1], 1500, 2.0, &[rl("eu", 0)], 0);
    let b = ticket(2, &[2], 1500, 2.0, &[rl("na", 0)], 0);
    assert!(run(&[a, b], "1v1").matches.is_empty());
}

#[test]
fn parties_stay_together_and_teams_are_balanced_by_prediction() {
    let party = ticket(1, &[10, 11], 1700, 2.0, &[rl("eu", 0)], 10_000);
    let out = run(
        &[party, solo(2, 1650, 0), solo(3, 1750, 0), solo(4, 1700, 0)],
        "2v2",
    );
    assert_eq!(out.matches.len(), 1, "{out:?}");
    let m = &out.matches[0];
    let party_team = m.teams.iter().find(|t| t.contains(&10)).unwrap();
    assert!(party_team.contains(&11), "{m:?}");
    // The party (1700 + 1700) against 1650 + 1750: an even split.
    assert!(m.quality > 0.98, "{m:?}");
}

#[test]
fn four_v_four_forms_from_eight_solos_with_balanced_teams() {
    let mmrs = [1400, 1450, 1480, 1500, 1520, 1550, 1580, 1600];
    let tickets: Vec<QueuedTicket> = mmrs
        .iter()
        .enumerate()
        .map(|(i, &m)| solo(i as u64 + 1, m, 1_000 * (8 - i as u64)))
        .collect();
    let out = run(&tickets, "4v4");
    assert_eq!(out.matches.len(), 1);
    assert!(out.matches[0].teams.iter().all(|t| t.len() == 4));
    // The best split is 20 mmr apart in team totals (6030 v 6050).
    assert!(out.matches[0].quality > 0.95, "{:?}", out.matches[0]);
}

#[test]
fn a_recent_opponent_is_avoided_when_an_alternative_is_as_good() {
    let settings = QualitySettings {
        rematch_window_s: 600,
        ..QualitySettings::default()
    };
    let mut a = solo(1, 1500, 5_000);
    a.recent_opponents = vec![2];
    let tickets = [a, solo(2, 1505, 0), solo(3, 1495, 0)];
    let out = form_matches(
        &tickets,
        &mode("1v1"),
        &settings,
        &RatingParams::default(),
        NOW,
    );
    assert_eq!(out.matches[0].ticket_ids, vec![1, 3]);
    assert!(!out.matches[0].rematch);
    // Alone with the recent opponent, the rematch still forms (penalised, above 0.7).
    let mut a = solo(1, 1500, 5_000);
    a.recent_opponents = vec![2];
    let out = form_matches(
        &[a, solo(2, 1500, 0)],
        &mode("1v1"),
        &settings,
        &RatingParams::default(),
        NOW,
    );
    assert!(out.matches[0].rematch);
}

#[test]
fn invalid_and_duplicate_tickets_are_rejected() {
    let too_big = ticket(1, &[1, 2], 1500, 2.0, &[rl("eu", 0)], 5_000);
    let dup_older = solo(3, 1500, 4_000);
    let dup_younger = ticket(4, &[3], 1500, 2.0, &[rl("eu", 0)], 0);
    let out = run(&[too_big, dup_older, dup_younger], "1v1");
    let rejected: Vec<u64> = out.rejected.iter().map(|r| r.ticket_id).collect();
    assert_eq!(rejected, vec![1, 4]);
    assert_eq!(out.leftover, vec![3]);
}

#[test]
fn a_ticket_without_regions_stays_queued() {
    let mut a = solo(1, 1500, 0);
    a.regions.clear();
    let out = run(&[a, solo(2, 1500, 0)], "1v1");
    assert!(out.matches.is_empty());
    assert_eq!(out.leftover, vec![1, 2]);
}

fn arb_ticket() -> impl Strategy<Value = (u32, i32, f64, Vec<(u8, u32)>, u64)> {
    (
        1u32..=3,
        1200i32..1800,
        1.0f64..8.5,
        prop::collection::vec((0u8..3, 0u32..200), 1..=3),
        0u64..90_000,
    )
}

proptest! {
    #[test]
    fn formed_matches_obey_the_rules(specs in prop::collection::vec(arb_ticket(), 0..40), m in 0usize..3) {
        let names = ["1v1", "2v2", "4v4"];
        let mode = mode(names[m]);
        let regions = ["eu", "na", "sa"];
        let mut next_player = 1u64;
        let tickets: Vec<QueuedTicket> = specs.iter().enumerate().map(|(i, (size, mmr, sigma, regs, wait))| {
            let size = (*size as usize).min(mode.team_size) as u64;
            let players: Vec<u64> = (next_player..next_player + size).collect();
            next_player += size;
            let mut rls: Vec<RegionLatency> = Vec::new();
            for &(r, l) in regs {
                if !rls.iter().any(|x| x.region == regions[r as usize]) {
                    rls.push(rl(regions[r as usize], l));
                }
            }
            ticket(i as u64 + 1, &players, *mmr, *sigma, &rls, *wait)
        }).collect();
        let settings = QualitySettings::default();
        let out = form_matches(&tickets, &mode, &settings, &RatingParams::default(), NOW);
        let by_id: HashMap<u64, &QueuedTicket> = tickets.iter().map(|t| (t.ticket_id, t)).collect();
        let mut used = HashSet::new();
        for fm in &out.matches {
            let ts: Vec<&QueuedTicket> = fm.ticket_ids.iter().map(|id| by_id[id]).collect();
            // Every ticket accepts the region; every player once; teams full; parties together.
            for t in &ts {
                prop_assert!(t.regions.iter().any(|r| r.region == fm.region));
                prop_assert!(used.insert(t.ticket_id));
                let team = fm.teams.iter().position(|tm| tm.contains(&t.members[0].user_id)).unwrap();
                for mbr in &t.members {
                    prop_assert!(fm.teams[team].contains(&mbr.user_id));
                }
            }
            prop_assert!(fm.teams.iter().all(|t| t.len() == mode.team_size));
            // The anchor is the oldest and the threshold (if any) was met.
            let anchor_wait = NOW - ts[0].joined_at_ms;
            prop_assert!(ts.iter().all(|t| t.joined_at_ms >= ts[0].joined_at_ms));
            if let Some(th) = settings.threshold(anchor_wait) {
                prop_assert!(fm.quality + 1e-9 >= th);
            }
            // Inside the widened window.
            let lo = ts.iter().map(|t| t.mmr()).min().unwrap();
            let hi = ts.iter().map(|t| t.mmr()).max().unwrap();
            let sigma = ts.iter().flat_map(|t| t.members.iter().map(|m| m.rating.sigma)).fold(0.0, f64::max);
            prop_assert!(hi - lo <= i64::from(tolerance(anchor_wait)) + i64::from(settings.widening(sigma)));
        }
        // Every ticket is accounted for exactly once.
        let total = out.matches.iter().map(|m| m.ticket_ids.len()).sum::<usize>() + out.leftover.len() + out.rejected.len();
        prop_assert_eq!(total, tickets.len());
    }
}

#[test]
fn the_packed_region_list_key_sorts_as_its_mmr_and_age_do() {
    let pairs = [
        (-3_000_i64, 7_usize),
        (-1, 0),
        (-1, 2),
        (0, 1),
        (0, 9),
        (1_499, 4),
        (1_500, 3),
        (i64::from(i32::MAX), 0),
    ];
    let mut shuffled: Vec<(i64, usize)> = pairs.iter().rev().copied().collect();
    shuffled.swap(1, 5);
    shuffled.sort_by_key(|&(mmr, rec)| mmr_age_key(mmr, rec));
    assert_eq!(shuffled, pairs);
    // The position comes back out of the low half.
    assert_eq!(mmr_age_key(-42, 123_456) & u64::from(u32::MAX), 123_456);
}
