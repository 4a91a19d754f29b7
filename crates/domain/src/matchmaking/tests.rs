//! Table-driven and property tests of the grouping rules (see the module doc).

use super::search::Balance;
use super::*;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

const NOW: u64 = 1_000_000_000;

/// A ticket that has waited `wait_ms` at [`NOW`]; the id also orders equal join times.
fn t(id: &str, mode: &str, region: &str, mmr: i32, members: &[u64], wait_ms: u64) -> Ticket {
    Ticket {
        ticket_id: id.to_owned(),
        mode: mode.to_owned(),
        region: region.to_owned(),
        mmr,
        members: members.to_vec(),
        joined_at_ms: NOW - wait_ms,
    }
}

fn solo(id: u64, mode: &str, mmr: i32, wait_ms: u64) -> Ticket {
    t(&format!("t{id:03}"), mode, "eu", mmr, &[id], wait_ms)
}

fn run(tickets: Vec<Ticket>) -> GroupingOutcome {
    let by_ref = group_ref(&tickets, NOW, &ModeTable::default());
    let by_value = group(tickets, NOW, &ModeTable::default());
    assert_eq!(by_ref, by_value, "group and group_ref must agree");
    by_value
}

fn balance(
    sizes: &[u32],
    mmrs: &[i64],
    teams: usize,
    team_size: u32,
) -> Option<(Vec<usize>, Vec<i32>)> {
    let mut b = Balance::default();
    b.run(
        sizes.iter().copied().zip(mmrs.iter().copied()),
        teams,
        team_size,
    )
    .then(|| (b.best.clone(), b.means.clone()))
}

fn ids(tickets: &[Ticket]) -> Vec<&str> {
    tickets.iter().map(|t| t.ticket_id.as_str()).collect()
}

#[test]
fn tolerance_widens_by_50_every_full_10_seconds_up_to_600() {
    let table = [
        (0, 200),
        (9_999, 200),
        (10_000, 250),
        (19_999, 250),
        (20_000, 300),
        (70_000, 550),
        (80_000, 600),
        (90_000, 600),
        (u64::MAX, 600),
    ];
    for (wait, expected) in table {
        assert_eq!(tolerance(wait), expected, "wait {wait} ms");
    }
}

#[test]
fn a_pair_matches_exactly_up_to_the_oldest_tickets_tolerance() {
    // (older wait, younger wait, mmr gap, matched?)
    let table = [
        (0, 0, 200, true),
        (0, 0, 201, false),
        (9_999, 0, 201, false),
        (10_000, 0, 201, true),
        (10_000, 0, 250, true),
        (10_000, 0, 251, false),
        (20_000, 0, 300, true),
        (20_000, 0, 301, false),
        // The younger ticket's narrow tolerance does not matter: the older one's does.
        (20_000, 19_999, 300, true),
        (600_000, 0, 600, true),
        (600_000, 0, 601, false),
    ];
    for (old_wait, young_wait, gap, matched) in table {
        for younger_is_higher in [true, false] {
            let (old_mmr, young_mmr) = if younger_is_higher {
                (1500, 1500 + gap)
            } else {
                (1500 + gap, 1500)
            };
            let out = run(vec![
                solo(1, "1v1", old_mmr, old_wait),
                solo(2, "1v1", young_mmr, young_wait),
            ]);
            assert_eq!(
                out.matches.len(),
                usize::from(matched),
                "waits {old_wait}/{young_wait} gap {gap}"
            );
            assert_eq!(out.leftover.len(), if matched { 0 } else { 2 });
        }
    }
}

#[test]
fn every_ticket_in_a_match_is_within_the_tolerance_of_every_other() {
    // 2v2 at t=0: 1500 anchors; the closest three are 1550, 1600 and 1390, but with 1390
    // the spread is 210 > 200, so the matcher skips it and takes 1650 (further from the
    // anchor, yet within 200 of everyone).
    let out = run(vec![
        solo(1, "2v2", 1500, 1_000),
        solo(2, "2v2", 1390, 0),
        solo(3, "2v2", 1550, 0),
        solo(4, "2v2", 1600, 0),
        solo(5, "2v2", 1650, 0),
    ]);
    assert_eq!(out.matches.len(), 1);
    let mut players: Vec<u64> = out.matches[0].teams.concat();
    players.sort_unstable();
    assert_eq!(players, [1, 3, 4, 5]);
    assert_eq!(ids(&out.leftover), ["t002"]);
}

#[test]
fn the_oldest_ticket_is_served_first() {
    // Without oldest-first the two 1900s would pair; the old 1500 (tolerance 500 after
    // 60 s) anchors and takes the closer one.
    let out = run(vec![
        solo(1, "1v1", 1500, 60_000),
        solo(2, "1v1", 1900, 1_000),
        solo(3, "1v1", 1910, 0),
    ]);
    assert_eq!(out.matches.len(), 1);
    assert_eq!(out.matches[0].ticket_ids, ["t001", "t002"]);
    assert_eq!(ids(&out.leftover), ["t003"]);
}

#[test]
fn equally_close_candidates_go_to_the_older_ticket() {
    let out = run(vec![
        solo(1, "1v1", 1500, 30_000),
        solo(2, "1v1", 1600, 10_000),
        solo(3, "1v1", 1400, 20_000),
    ]);
    assert_eq!(out.matches[0].ticket_ids, ["t001", "t003"]);
    assert_eq!(ids(&out.leftover), ["t002"]);
}

#[test]
fn uneven_queues_leave_the_youngest_over() {
    let out = run((1..=5)
        .map(|i| solo(i, "1v1", 1500, 10 * (6 - i)))
        .collect());
    assert_eq!(out.matches.len(), 2);
    assert_eq!(ids(&out.leftover), ["t005"]);

    let seven = run((1..=7).map(|i| solo(i, "4v4", 1500, 0)).collect());
    assert!(seven.matches.is_empty(), "4v4 needs eight players");
    assert_eq!(seven.leftover.len(), 7);

    let eight = run((1..=8).map(|i| solo(i, "4v4", 1500, 0)).collect());
    assert_eq!(eight.matches.len(), 1);
    assert!(eight.matches[0].teams.iter().all(|team| team.len() == 4));
}

#[test]
fn modes_and_regions_are_never_mixed() {
    let out = run(vec![
        t("a", "1v1", "eu", 1500, &[1], 0),
        t("b", "1v1", "na", 1500, &[2], 0),
        t("c", "2v2", "eu", 1500, &[3], 0),
        t("d", "2v2", "na", 1500, &[4], 0),
    ]);
    assert!(out.matches.is_empty());
    assert_eq!(out.leftover.len(), 4);

    let out = run(vec![
        t("a", "1v1", "eu", 1500, &[1], 0),
        t("b", "1v1", "na", 1500, &[2], 0),
        t("c", "1v1", "eu", 1500, &[3], 0),
        t("d", "1v1", "na", 1500, &[4], 0),
    ]);
    let mut pairs: Vec<(String, Vec<String>)> = out
        .matches
        .iter()
        .map(|m| (m.region.clone(), m.ticket_ids.clone()))
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("eu".to_string(), vec!["a".to_string(), "c".to_string()]),
            ("na".to_string(), vec!["b".to_string(), "d".to_string()]),
        ]
    );
}

#[test]
fn a_party_is_kept_on_one_team() {
    let out = run(vec![
        t("p", "2v2", "eu", 1500, &[10, 11], 5_000),
        t("a", "2v2", "eu", 1400, &[1], 0),
        t("b", "2v2", "eu", 1600, &[2], 0),
    ]);
    assert_eq!(out.matches.len(), 1);
    let m = &out.matches[0];
    assert!(m.teams.contains(&vec![10, 11]), "{:?}", m.teams);
    assert!(m
        .teams
        .iter()
        .any(|team| team.contains(&1) && team.contains(&2)));
    assert_eq!(m.team_mmr.iter().sum::<i32>(), 3000);
}

#[test]
fn parties_that_do_not_pack_in_closeness_order_are_still_combined() {
    // 4v4. Closest to the solo anchor are three duos (1+2+2+2 = 7, no solo left to fill),
    // so the matcher must back off to anchor + 2 + 2 + trio = 8 => [1,3] vs [2,2].
    let out = run(vec![
        t("anchor", "4v4", "eu", 1500, &[1], 9_000),
        t("d1", "4v4", "eu", 1501, &[2, 3], 0),
        t("d2", "4v4", "eu", 1502, &[4, 5], 0),
        t("d3", "4v4", "eu", 1503, &[6, 7], 0),
        t("trio", "4v4", "eu", 1510, &[8, 9, 10], 0),
    ]);
    assert_eq!(out.matches.len(), 1, "{out:?}");
    let m = &out.matches[0];
    assert_eq!(m.ticket_ids, ["anchor", "d1", "d2", "trio"]);
    let mut teams = m.teams.clone();
    teams.sort();
    assert_eq!(teams, [vec![1, 8, 9, 10], vec![2, 3, 4, 5]]);
    assert_eq!(ids(&out.leftover), ["d3"]);
}

#[test]
fn teams_are_balanced_to_the_smallest_mmr_difference() {
    // Tolerance 300 after 20 s; the best split is {1000,1300} vs {1100,1200}.
    let out = run(vec![
        solo(1, "2v2", 1000, 20_000),
        solo(2, "2v2", 1100, 0),
        solo(3, "2v2", 1200, 0),
        solo(4, "2v2", 1300, 0),
    ]);
    let m = &out.matches[0];
    assert_eq!(m.team_mmr, [1150, 1150]);
    let mut teams: Vec<Vec<u64>> = m
        .teams
        .iter()
        .map(|t| {
            let mut t = t.clone();
            t.sort_unstable();
            t
        })
        .collect();
    teams.sort();
    assert_eq!(teams, [vec![1, 4], vec![2, 3]]);
}

#[test]
fn balancing_weights_a_party_by_its_size() {
    // A duo at 1500 (total 3000) vs the two solos 1450 + 1550 (total 3000).
    let (assignment, means) = balance(&[2, 1, 1], &[1500, 1450, 1550], 2, 2).unwrap();
    assert_ne!(assignment[0], assignment[1]);
    assert_eq!(assignment[1], assignment[2]);
    assert_eq!(means, [1500, 1500]);
    assert_eq!(
        balance(&[2, 2, 1], &[1, 1, 1], 2, 2),
        None,
        "sizes must fill teams"
    );
    assert_eq!(
        balance(&[3, 1], &[1, 1], 2, 2),
        None,
        "a trio cannot fit a team of 2"
    );
}

#[test]
fn invalid_tickets_are_rejected_not_matched() {
    let out = run(vec![
        t("big", "2v2", "eu", 1500, &[1, 2, 3], 0),
        t("empty", "2v2", "eu", 1500, &[], 0),
        t("unknown", "9v9", "eu", 1500, &[4], 0),
        t("ok1", "1v1", "eu", 1500, &[5], 2),
        t("dup", "1v1", "eu", 1500, &[5], 1),
        t("ok2", "1v1", "eu", 1500, &[6], 0),
    ]);
    let mut rejected: Vec<&str> = out
        .rejected
        .iter()
        .map(|r| r.ticket.ticket_id.as_str())
        .collect();
    rejected.sort_unstable();
    assert_eq!(rejected, ["big", "dup", "empty", "unknown"]);
    let unknown = out
        .rejected
        .iter()
        .find(|r| r.ticket.ticket_id == "unknown")
        .unwrap();
    assert_eq!(unknown.reason, DomainError::UnknownMode("9v9".into()));
    assert!(matches!(
        out.rejected
            .iter()
            .find(|r| r.ticket.ticket_id == "big")
            .unwrap()
            .reason,
        DomainError::Invalid(_)
    ));
    assert_eq!(out.matches.len(), 1);
    assert_eq!(out.matches[0].ticket_ids, ["ok1", "ok2"]);
    assert!(out.leftover.is_empty());
}

#[test]
fn an_empty_queue_forms_nothing() {
    assert_eq!(run(Vec::new()), GroupingOutcome::default());
}

fn queue() -> impl Strategy<Value = Vec<Ticket>> {
    let ticket = (
        0usize..3,
        0usize..2,
        1200i32..1800,
        1usize..=4,
        0u64..120_000,
    );
    prop::collection::vec(ticket, 0..60).prop_map(|raw| {
        let mut next_player = 1u64;
        raw.into_iter()
            .enumerate()
            .map(|(i, (mode, region, mmr, party, wait))| {
                let mode = ["1v1", "2v2", "4v4"][mode];
                let team_size = ModeTable::default().get(mode).unwrap().team_size;
                let party = party.min(team_size) as u64;
                let members = (next_player..next_player + party).collect::<Vec<_>>();
                next_player += party;
                t(
                    &format!("t{i:03}"),
                    mode,
                    ["eu", "na"][region],
                    mmr,
                    &members,
                    wait,
                )
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn formed_matches_always_obey_the_rules(tickets in queue()) {
        let by_id: HashMap<String, Ticket> =
            tickets.iter().map(|t| (t.ticket_id.clone(), t.clone())).collect();
        let total = tickets.len();
        let out = run(tickets);
        let modes = ModeTable::default();
        let mut used = HashSet::new();
        let mut accounted = out.leftover.len() + out.rejected.len();
        prop_assert!(out.rejected.is_empty());
        for m in &out.matches {
            let mode = modes.get(&m.mode).unwrap();
            prop_assert_eq!(m.teams.len(), mode.teams);
            prop_assert!(m.teams.iter().all(|team| team.len() == mode.team_size));
            let members: Vec<&Ticket> = m.ticket_ids.iter().map(|id| &by_id[id]).collect();
            accounted += members.len();
            let oldest = members.iter().map(|t| t.joined_at_ms).min().unwrap();
            let lo = members.iter().map(|t| t.mmr).min().unwrap();
            let hi = members.iter().map(|t| t.mmr).max().unwrap();
            prop_assert!((hi - lo) as u32 <= tolerance(NOW - oldest));
            prop_assert_eq!(members[0].joined_at_ms, oldest);
            for t in &members {
                prop_assert_eq!(&t.mode, &m.mode);
                prop_assert_eq!(&t.region, &m.region);
                prop_assert!(m.teams.iter().any(|team| t.members.iter().all(|p| team.contains(p))));
            }
            for p in m.teams.iter().flatten() {
                prop_assert!(used.insert(*p), "player {} in two matches", p);
            }
        }
        prop_assert_eq!(accounted, total);
    }
}

/// Smallest (max − min) team total over every assignment of parties to teams with
/// exactly `team_size` players each, by brute force; `None` if none exists.
fn brute_force_spread(sizes: &[u32], mmrs: &[i64], teams: usize, team_size: u32) -> Option<i64> {
    let n = sizes.len();
    let mut best: Option<i64> = None;
    for code in 0..teams.pow(n as u32) {
        let (mut load, mut sum) = (vec![0u32; teams], vec![0i64; teams]);
        let mut c = code;
        for i in 0..n {
            let t = c % teams;
            c /= teams;
            load[t] += sizes[i];
            sum[t] += mmrs[i] * i64::from(sizes[i]);
        }
        if load.iter().all(|&l| l == team_size) {
            let spread = sum.iter().max().unwrap() - sum.iter().min().unwrap();
            best = Some(best.map_or(spread, |b: i64| b.min(spread)));
        }
    }
    best
}

proptest! {
    #[test]
    fn balancing_finds_the_best_split_that_brute_force_finds(
        parties in prop::collection::vec((1u32..=3, 1000i64..2000), 1..8),
        teams in 2usize..=3,
    ) {
        let total: u32 = parties.iter().map(|p| p.0).sum();
        prop_assume!(total.is_multiple_of(teams as u32));
        let team_size = total / teams as u32;
        let sizes: Vec<u32> = parties.iter().map(|p| p.0).collect();
        let mmrs: Vec<i64> = parties.iter().map(|p| p.1).collect();
        let expected = brute_force_spread(&sizes, &mmrs, teams, team_size);
        let mut b = Balance::default();
        let packed = b.run(parties.iter().copied(), teams, team_size);
        prop_assert_eq!(packed, expected.is_some());
        if let Some(best) = expected {
            let mut sum = vec![0i64; teams];
            let mut load = vec![0u32; teams];
            for (i, &t) in b.best.iter().enumerate() {
                sum[t] += mmrs[i] * i64::from(sizes[i]);
                load[t] += sizes[i];
            }
            prop_assert!(load.iter().all(|&l| l == team_size));
            prop_assert_eq!(sum.iter().max().unwrap() - sum.iter().min().unwrap(), best);
        }
    }

    #[test]
    fn the_outcome_does_not_depend_on_input_order(
        tickets in queue(),
        seed in any::<u64>(),
    ) {
        let mut tickets = tickets;
        // Some tickets the step must reject, reported in the same order whatever the input.
        tickets.push(t("x1", "9v9", "eu", 1500, &[100_000], 5));
        tickets.push(t("x2", "2v2", "eu", 1500, &[100_001, 100_002, 100_003], 7));
        let mut shuffled = tickets.clone();
        // Fisher-Yates with a tiny LCG, so the permutation comes from the seed.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(run(tickets), run(shuffled));
    }
}
