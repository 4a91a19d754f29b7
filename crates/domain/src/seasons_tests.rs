use super::*;
use crate::rating::Rating;

const DAY: i64 = 86_400_000;

#[test]
fn the_soft_reset_pulls_mu_toward_the_centre_by_k() {
    // (mu, k, expected mu')
    let table = [
        (40.0, 0.75, 36.25),
        (25.0, 0.75, 25.0),
        (10.0, 0.75, 13.75),
        (40.0, 0.0, 25.0),
        (40.0, 1.0, 40.0),
        (33.0, 0.5, 29.0),
    ];
    for (mu, k, expected) in table {
        let r = soft_reset(mu, 3.0, 0, k);
        assert!((r.mu - expected).abs() < 1e-12, "mu {mu} k {k}: {}", r.mu);
        assert_eq!(r.mmr, crate::rating::mmr_from_mu(expected));
    }
}

#[test]
fn a_master_at_2100_drops_to_1950_with_the_default_k() {
    let master = Rating::from_mmr(2100, 2.0);
    let r = soft_reset(master.mu, master.sigma, 0, DEFAULT_SOFT_RESET_K);
    assert_eq!(r.mmr, 1950);
    assert_eq!(soft_reset(25.0, 8.0, 0, DEFAULT_SOFT_RESET_K).mmr, 1500);
}

#[test]
fn sigma_rises_to_five_for_active_players_and_toward_new_for_idle_ones() {
    let new_sigma = RatingParams::default().sigma;
    let table = [
        // (sigma, idle days, expected sigma')
        (2.0, 0, 5.0),
        (2.0, 180, 5.0 + (new_sigma - 5.0) * 0.5),
        (2.0, 360, new_sigma),
        (2.0, 3650, new_sigma),
        // Never lowered.
        (6.5, 0, 6.5),
        (new_sigma, 0, new_sigma),
    ];
    for (sigma, days, expected) in table {
        let r = soft_reset(30.0, sigma, days * DAY, 0.75);
        assert!(
            (r.sigma - expected).abs() < 1e-9,
            "sigma {sigma} idle {days}d: {}",
            r.sigma
        );
        assert!(r.sigma <= new_sigma + 1e-12);
    }
}

#[test]
fn the_soft_reset_keeps_the_order_of_players() {
    let mut mus: Vec<f64> = (0..200).map(|i| 5.0 + f64::from(i) * 0.173).collect();
    mus.reverse();
    for k in [0.1, 0.5, 0.75, 0.99] {
        let after: Vec<Reset> = mus.iter().map(|m| soft_reset(*m, 4.0, 0, k)).collect();
        for pair in after.windows(2) {
            assert!(pair[0].mu > pair[1].mu, "k {k}");
            assert!(pair[0].mmr >= pair[1].mmr, "k {k}");
        }
    }
}

#[test]
fn inactivity_widens_sigma_per_day_after_the_grace_and_caps_at_new() {
    let cap = RatingParams::default().sigma;
    assert_eq!(widen_for_inactivity(2.0, 0), 2.0);
    assert_eq!(widen_for_inactivity(2.0, 14 * DAY), 2.0);
    let two_months = widen_for_inactivity(2.0, 74 * DAY);
    assert!((two_months - (4.0f64 + 0.09 * 60.0).sqrt()).abs() < 1e-9);
    assert!((3.0..3.2).contains(&two_months), "{two_months}");
    let year = widen_for_inactivity(2.0, 379 * DAY);
    assert!((6.0..6.2).contains(&year), "{year}");
    assert_eq!(widen_for_inactivity(2.0, 10_000 * DAY), cap);
    assert_eq!(widen_for_inactivity(cap, 400 * DAY), cap);
    assert_eq!(widen_for_inactivity(2.0, -5), 2.0);
}

#[test]
fn a_player_is_placed_after_the_placement_games_and_at_least_one() {
    assert!(!is_placed(0, 0));
    assert!(is_placed(1, 0));
    assert!(!is_placed(4, 5));
    assert!(is_placed(5, 5));
    assert!(completes_placement(4, 5));
    assert!(!completes_placement(5, 5));
    assert!(!completes_placement(0, 0));
    assert!(completes_placement(0, 1));
}

#[test]
fn badges_are_the_final_tier_and_the_best_top_rank() {
    let top = DEFAULT_REWARD_TOP_RANKS;
    assert_eq!(
        reward_badges(Tier::Master, 1, &top),
        vec!["master", "top_1"]
    );
    assert_eq!(
        reward_badges(Tier::Diamond, 7, &top),
        vec!["diamond", "top_10"]
    );
    assert_eq!(
        reward_badges(Tier::Gold, 100, &top),
        vec!["gold", "top_100"]
    );
    assert_eq!(reward_badges(Tier::Gold, 101, &top), vec!["gold"]);
    assert_eq!(reward_badges(Tier::Silver, 1, &[]), vec!["silver"]);
}

#[test]
fn settings_are_checked_and_round_trip_their_top_ranks() {
    assert!(ModeSettings::default().check().is_ok());
    let bad = ModeSettings {
        placement_games: 51,
        soft_reset_k: 1.5,
        reward_top_ranks: vec![10, 1],
    };
    let fields: Vec<&str> = bad.check().unwrap_err().iter().map(|e| e.0).collect();
    assert_eq!(
        fields,
        ["placement_games", "soft_reset_k", "reward_top_ranks"]
    );
    let s = ModeSettings::default();
    assert_eq!(s.top_ranks_text(), "1,10,100");
    assert_eq!(ModeSettings::parse_top_ranks("1,10,100"), vec![1, 10, 100]);
    assert_eq!(ModeSettings::parse_top_ranks(""), Vec::<u32>::new());
}

fn w(id: u64, starts_at: i64, ends_at: Option<i64>) -> Window {
    Window {
        id,
        starts_at,
        ends_at,
        closed: false,
    }
}

#[test]
fn creating_after_an_open_ended_season_closes_it_at_the_new_start() {
    let plan = plan_create(&[w(1, 0, None)], 2, 1000, Some(2000), 500).unwrap();
    assert_eq!(plan, vec![w(1, 0, Some(1000)), w(2, 1000, Some(2000))]);
    let plan = plan_create(&plan, 3, 2000, None, 500).unwrap();
    assert_eq!(plan[2], w(3, 2000, None));
}

#[test]
fn bad_schedules_are_refused_with_the_reason() {
    let t = [w(1, 0, Some(1000)), w(2, 1000, Some(2000))];
    assert_eq!(
        plan_create(&t, 3, 1500, None, 0),
        Err(ScheduleError::Overlap(2))
    );
    assert_eq!(
        plan_create(&t, 3, 2500, None, 0),
        Err(ScheduleError::Gap(2, 2000))
    );
    assert_eq!(
        plan_create(&t, 3, 2000, Some(1999), 0),
        Err(ScheduleError::Inverted)
    );
    assert_eq!(
        plan_create(&t, 3, 2000, None, 2000),
        Err(ScheduleError::InPast("starts_at"))
    );
    assert_eq!(
        plan_create(&[w(1, 0, None)], 2, 0, None, -1),
        Err(ScheduleError::Overlap(1))
    );
}

#[test]
fn moving_a_boundary_moves_both_neighbours() {
    let t = [
        w(1, 0, Some(1000)),
        w(2, 1000, Some(2000)),
        w(3, 2000, None),
    ];
    let plan = plan_reschedule(
        &t,
        2,
        Reschedule {
            starts_at: Some(1200),
            ends_at: Some(Some(2500)),
        },
        100,
    )
    .unwrap();
    assert_eq!(
        plan,
        vec![
            w(1, 0, Some(1200)),
            w(2, 1200, Some(2500)),
            w(3, 2500, None)
        ]
    );
    // The start of a season under way cannot move; a boundary past its successor's end
    // overlaps; an open end only for the last.
    let started = plan_reschedule(
        &t,
        1,
        Reschedule {
            starts_at: Some(50),
            ends_at: None,
        },
        100,
    );
    assert_eq!(started, Err(ScheduleError::Started(1)));
    let t2 = [w(1, 0, Some(1000)), w(2, 1000, Some(2000))];
    let over = plan_reschedule(
        &t2,
        1,
        Reschedule {
            starts_at: None,
            ends_at: Some(Some(2000)),
        },
        100,
    );
    assert_eq!(over, Err(ScheduleError::Overlap(2)));
    let open = plan_reschedule(
        &t2,
        1,
        Reschedule {
            starts_at: None,
            ends_at: Some(None),
        },
        100,
    );
    assert_eq!(open, Err(ScheduleError::OpenEndedNotLast(2)));
    let closed = [Window {
        closed: true,
        ..w(1, 0, Some(10))
    }];
    assert_eq!(
        plan_reschedule(&closed, 1, Reschedule::default(), 100),
        Err(ScheduleError::Ended(1))
    );
    assert_eq!(
        plan_reschedule(&t2, 9, Reschedule::default(), 100),
        Err(ScheduleError::Unknown(9))
    );
}

#[test]
fn ending_early_ends_now_and_starts_the_successor_now() {
    let t = [w(1, 0, Some(1000)), w(2, 1000, Some(2000))];
    let plan = plan_end_early(&t, 1, 400).unwrap();
    assert_eq!(plan, vec![w(1, 0, Some(400)), w(2, 400, Some(2000))]);
    assert_eq!(
        plan_end_early(&t, 2, 400),
        Err(ScheduleError::NotCurrent(2))
    );
    let open = plan_end_early(&[w(1, 0, None)], 1, 400).unwrap();
    assert_eq!(open, vec![w(1, 0, Some(400))]);
}

#[test]
fn the_current_season_is_the_last_one_started() {
    let t = [w(1, 0, Some(1000)), w(2, 1000, None)];
    assert_eq!(current_at(&t, 999).map(|w| w.id), Some(1));
    assert_eq!(current_at(&t, 1000).map(|w| w.id), Some(2));
    assert_eq!(current_at(&t, -1), None);
}
