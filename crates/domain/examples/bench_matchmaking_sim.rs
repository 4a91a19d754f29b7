//! Simulation benchmark: today's ±mmr matcher against the quality matcher, on the same
//! arrivals (not a test; run by hand, results in `docs/benchmarks.md`).
//!
//! `cargo run --release -p rh-domain --example bench_matchmaking_sim [sim|grouping|all] [hours]`
//!
//! - `sim`: 10,000 synthetic players with a hidden true skill (μ units, normal(25, 6))
//!   and a performance noise of β per player. Each player decides to queue as a Poisson
//!   process (once every 20 minutes on average; an arrival while queued or playing is
//!   skipped), in one of 1v1 / 2v2 / 4v4 (40 / 35 / 25 %), solo, in one region. The
//!   arrival stream is generated once and replayed for both matchers. One tick per
//!   simulated second; a game lasts 5 / 7 / 10 minutes; tickets expire after 10 minutes
//!   as in Redis. Results are drawn from the true skills (`P(A) = Φ(Δs / (β·√N))`) and
//!   fed to our own rating code, so ratings converge during the run; only matches
//!   formed after the first half (the warm-up) are reported. Per mode: the favourite's
//!   predicted win probability (median, p90), how often the predicted favourite actually
//!   won, the favourite's true win probability from hidden skill (median), the share of
//!   matches with a > 70 % predicted favourite, and median / p95 wait.
//! - `grouping`: the cost of one quality-matcher call over 100,000 queued tickets
//!   (mmr normal(1500, 300), σ uniform 1.5–8.3, 3 modes, 5 regions, a quarter of the
//!   tickets naming 2–3 regions, parties in 2v2/4v4, waits 0–120 s), the matcher run per
//!   mode as the tick does.
//!
//! The PRNG is a seeded SplitMix64, so runs are reproducible.

use std::collections::HashMap;
use std::time::Instant;

use rh_domain::matchmaking::matcher::{form_matches, Member, QueuedTicket};
use rh_domain::matchmaking::quality::{phi, predict};
use rh_domain::matchmaking::regions::RegionLatency;
use rh_domain::matchmaking::settings::QualitySettings;
use rh_domain::matchmaking::{group, Ticket};
use rh_domain::modes::{Mode, ModeTable};
use rh_domain::rating::{Rating, RatingParams};

mod common;
use common::Rng;

const PLAYERS: usize = 10_000;
const MODES: [&str; 3] = ["1v1", "2v2", "4v4"];
const MODE_SHARE: [f64; 3] = [0.40, 0.35, 0.25];
const GAME_S: [u64; 3] = [300, 420, 600];
/// Mean time between a player's decisions to queue (`RH_SIM_GAP_S` overrides).
fn mean_gap_s() -> f64 {
    std::env::var("RH_SIM_GAP_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_200.0)
}
const EXPIRY_MS: u64 = 600_000;

#[derive(Clone, Copy, PartialEq)]
enum Matcher {
    Mmr,
    Quality,
}

#[derive(Default)]
struct ModeStats {
    fav_predicted: Vec<f64>,
    fav_true: Vec<f64>,
    fav_won: u64,
    decided: u64,
    over_70: u64,
    waits_ms: Vec<u64>,
    expired: u64,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((p / 100.0) * (sorted.len() - 1) as f64).round() as usize]
}

fn pct_u(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((p / 100.0) * (sorted.len() - 1) as f64).round() as usize]
}

/// The rows migration V6 ships (start 0.95 / 0.98 / 0.99 for 1v1 / 2v2 / 4v4, floor
/// 0.5, 20 s), or per-mode overrides from `RH_SIM_START`, `RH_SIM_FLOOR`,
/// `RH_SIM_SECONDS` (one value for every mode, or three comma-separated for 1v1, 2v2,
/// 4v4), to explore schedules.
fn sim_settings() -> Vec<QualitySettings> {
    let env = |name: &str, m: usize| -> Option<f64> {
        let v = std::env::var(name).ok()?;
        let parts: Vec<&str> = v.split(',').collect();
        parts.get(m).or(parts.first())?.trim().parse().ok()
    };
    (0..3)
        .map(|m| {
            let mut s = QualitySettings {
                quality_start: [0.95, 0.98, 0.99][m],
                ..QualitySettings::default()
            };
            if let Some(v) = env("RH_SIM_START", m) {
                s.quality_start = v;
            }
            if let Some(v) = env("RH_SIM_FLOOR", m) {
                s.quality_floor = v;
            }
            if let Some(v) = env("RH_SIM_SECONDS", m) {
                s.seconds_to_floor = v as u32;
            }
            s
        })
        .collect()
}

/// One matcher's world: ratings, who is busy, the queues, and what was measured.
struct World<'a> {
    matcher: Matcher,
    skill: &'a [f64],
    params: RatingParams,
    settings: Vec<QualitySettings>,
    table: ModeTable,
    modes: Vec<Mode>,
    ratings: Vec<[Rating; 3]>,
    busy_until: Vec<u64>,
    queued: Vec<bool>,
    /// Per mode: (ticket, player, joined ms).
    queues: Vec<Vec<(u64, usize, u64)>>,
    stats: Vec<ModeStats>,
    outcome_rng: Rng,
    warmup_ms: u64,
}

impl World<'_> {
    /// One tick of one mode's queue at `tick` ms.
    fn tick(&mut self, m: usize, tick: u64) {
        let (queued, stats, warmup_ms) = (&mut self.queued, &mut self.stats, self.warmup_ms);
        self.queues[m].retain(|&(_, p, joined)| {
            let keep = tick - joined < EXPIRY_MS;
            if !keep {
                queued[p] = false;
                if joined >= warmup_ms {
                    stats[m].expired += 1;
                }
            }
            keep
        });
        if self.queues[m].len() < self.modes[m].match_size() {
            return;
        }
        let by_ticket: HashMap<u64, (usize, u64)> = self.queues[m]
            .iter()
            .map(|&(t, p, j)| (t, (p, j)))
            .collect();
        // (ticket ids, teams of player indices)
        let formed: Vec<(Vec<u64>, Vec<Vec<usize>>)> = match self.matcher {
            Matcher::Mmr => {
                let tickets: Vec<Ticket> = self.queues[m]
                    .iter()
                    .map(|&(t, p, j)| Ticket {
                        ticket_id: format!("{t:012}"),
                        mode: MODES[m].into(),
                        region: "eu".into(),
                        mmr: self.ratings[p][m].mmr(),
                        members: vec![p as u64],
                        joined_at_ms: j,
                    })
                    .collect();
                group(tickets, tick, &self.table)
                    .matches
                    .into_iter()
                    .map(|fm| {
                        (
                            fm.ticket_ids.iter().map(|id| id.parse().unwrap()).collect(),
                            fm.teams
                                .iter()
                                .map(|t| t.iter().map(|&p| p as usize).collect())
                                .collect(),
                        )
                    })
                    .collect()
            }
            Matcher::Quality => {
                let tickets: Vec<QueuedTicket> = self.queues[m]
                    .iter()
                    .map(|&(t, p, j)| QueuedTicket {
                        ticket_id: t,
                        members: vec![Member {
                            user_id: p as u64,
                            rating: self.ratings[p][m],
                        }],
                        regions: vec![RegionLatency {
                            region: "eu".into(),
                            latency_ms: 0,
                        }],
                        joined_at_ms: j,
                        recent_opponents: Vec::new(),
                    })
                    .collect();
                form_matches(
                    &tickets,
                    &self.modes[m],
                    &self.settings[m],
                    &self.params,
                    tick,
                )
                .matches
                .into_iter()
                .map(|fm| {
                    (
                        fm.ticket_ids,
                        fm.teams
                            .iter()
                            .map(|t| t.iter().map(|&p| p as usize).collect())
                            .collect(),
                    )
                })
                .collect()
            }
        };
        if formed.is_empty() {
            return;
        }
        let mut gone = std::collections::HashSet::new();
        for (ids, teams) in formed {
            let report = ids.iter().all(|id| by_ticket[id].1 >= self.warmup_ms);
            for id in &ids {
                let (p, joined) = by_ticket[id];
                gone.insert(*id);
                self.queued[p] = false;
                self.busy_until[p] = tick + GAME_S[m] * 1000;
                if report {
                    self.stats[m].waits_ms.push(tick - joined);
                }
            }
            let rated: Vec<Vec<Rating>> = teams
                .iter()
                .map(|t| t.iter().map(|&p| self.ratings[p][m]).collect())
                .collect();
            let prediction = predict(&self.params, &rated);
            let fav = if prediction.win[0] >= prediction.win[1] {
                0
            } else {
                1
            };
            let true_sum = |t: &Vec<usize>| t.iter().map(|&p| self.skill[p]).sum::<f64>();
            let n = teams.iter().map(Vec::len).sum::<usize>() as f64;
            let p_true_a =
                phi((true_sum(&teams[0]) - true_sum(&teams[1])) / (self.params.beta * n.sqrt()));
            let winner = if self.outcome_rng.unit() < p_true_a {
                0
            } else {
                1
            };
            if report {
                let s = &mut self.stats[m];
                let pf = prediction.win[fav];
                s.fav_predicted.push(pf);
                s.fav_true
                    .push(if fav == 0 { p_true_a } else { 1.0 - p_true_a });
                s.decided += 1;
                s.fav_won += u64::from(winner == fav);
                s.over_70 += u64::from(pf > 0.7);
            }
            let updated = self.params.rate_match(&rated, Some(winner)).unwrap();
            for (t, team) in teams.iter().enumerate() {
                for (k, &p) in team.iter().enumerate() {
                    self.ratings[p][m] = updated[t][k];
                }
            }
        }
        self.queues[m].retain(|(t, _, _)| !gone.contains(t));
    }
}

/// Runs one matcher over the arrival stream: every join ticks its queue at once (as
/// the join route publishes a tick), and every queue ticks once a second (the
/// sidecar's ticker). Per-mode statistics after the warm-up (the first half).
fn simulate(
    matcher: Matcher,
    skill: &[f64],
    arrivals: &[(u64, usize, usize)],
    seconds: u64,
) -> (Vec<ModeStats>, f64) {
    let table = ModeTable::default();
    let modes: Vec<Mode> = MODES
        .iter()
        .map(|m| table.get(m).unwrap().clone())
        .collect();
    let mut w = World {
        matcher,
        skill,
        params: RatingParams::default(),
        settings: sim_settings(),
        table,
        modes,
        ratings: vec![[Rating::default(); 3]; PLAYERS],
        busy_until: vec![0; PLAYERS],
        queued: vec![false; PLAYERS],
        queues: vec![Vec::new(); 3],
        stats: (0..3).map(|_| ModeStats::default()).collect(),
        outcome_rng: Rng(99),
        warmup_ms: seconds * 500,
    };
    let started = Instant::now();
    let mut next = 0usize;
    let mut ticket_seq = 0u64;
    for second in 0..seconds {
        let now = second * 1000;
        while next < arrivals.len() && arrivals[next].0 < now + 1000 {
            let (at, p, m) = arrivals[next];
            next += 1;
            if w.queued[p] || w.busy_until[p] > at {
                continue;
            }
            w.queued[p] = true;
            ticket_seq += 1;
            w.queues[m].push((ticket_seq, p, at));
            w.tick(m, at);
        }
        for m in 0..3 {
            w.tick(m, now + 999);
        }
    }
    (w.stats, started.elapsed().as_secs_f64())
}

fn run_sim(hours: u64) {
    let seconds = hours * 3600;
    let mut rng = Rng(2026);
    let skill: Vec<f64> = (0..PLAYERS).map(|_| rng.normal(25.0, 6.0)).collect();
    let mut arrivals: Vec<(u64, usize, usize)> = Vec::new();
    for p in 0..PLAYERS {
        let mut t = rng.exp(mean_gap_s());
        while t < seconds as f64 {
            arrivals.push(((t * 1000.0) as u64, p, rng.pick(&MODE_SHARE)));
            t += rng.exp(mean_gap_s());
        }
    }
    arrivals.sort_unstable();
    println!(
        "sim: {PLAYERS} players, {} arrivals over {hours} h (one every {} s per player on average), reported after {} h of warm-up",
        arrivals.len(),
        mean_gap_s(),
        hours / 2
    );
    let (old, old_s) = simulate(Matcher::Mmr, &skill, &arrivals, seconds);
    let (new, new_s) = simulate(Matcher::Quality, &skill, &arrivals, seconds);
    println!("  simulated in {old_s:.1} s (±mmr) and {new_s:.1} s (quality)");
    for (m, s) in sim_settings().iter().enumerate() {
        println!(
            "  {} quality schedule: start {}, floor {}, {} s to floor",
            MODES[m], s.quality_start, s.quality_floor, s.seconds_to_floor
        );
    }
    println!(
        "  {:<5} {:<8} {:>8} {:>9} {:>8} {:>9} {:>8} {:>7} {:>9} {:>8} {:>8}",
        "mode",
        "matcher",
        "matches",
        "fav pred",
        "fav p90",
        "fav won",
        "fav true",
        ">70%",
        "wait p50",
        "wait p95",
        "expired"
    );
    for m in 0..3 {
        for (name, s) in [("±mmr", &old[m]), ("quality", &new[m])] {
            let mut pred = s.fav_predicted.clone();
            pred.sort_by(f64::total_cmp);
            let mut tru = s.fav_true.clone();
            tru.sort_by(f64::total_cmp);
            let mut w = s.waits_ms.clone();
            w.sort_unstable();
            println!(
                "  {:<5} {:<8} {:>8} {:>8.1}% {:>7.1}% {:>8.1}% {:>7.1}% {:>6.1}% {:>8.1}s {:>7.1}s {:>8}",
                MODES[m],
                name,
                s.decided,
                100.0 * pct(&pred, 50.0),
                100.0 * pct(&pred, 90.0),
                100.0 * s.fav_won as f64 / s.decided.max(1) as f64,
                100.0 * pct(&tru, 50.0),
                100.0 * s.over_70 as f64 / s.decided.max(1) as f64,
                pct_u(&w, 50.0) as f64 / 1000.0,
                pct_u(&w, 95.0) as f64 / 1000.0,
                s.expired
            );
        }
        let edge = |s: &ModeStats| {
            let mut pred = s.fav_predicted.clone();
            pred.sort_by(f64::total_cmp);
            pct(&pred, 50.0) - 0.5
        };
        println!(
            "  {:<5} median favourite edge: quality / ±mmr = {:.2}",
            MODES[m],
            edge(&new[m]) / edge(&old[m])
        );
    }
}

/// CPU time this thread has run (Linux `/proc/thread-self/schedstat`, ns): the machine
/// is shared, so wall time alone overstates the cost when other work competes.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn bench_grouping() {
    const N: u64 = 100_000;
    const NOW: u64 = 10_000_000;
    let regions = ["na", "eu", "asia", "sa", "oce"];
    let table = ModeTable::default();
    let modes: Vec<Mode> = MODES
        .iter()
        .map(|m| table.get(m).unwrap().clone())
        .collect();
    let mut rng = Rng(42);
    let mut next_player = 1u64;
    let mut per_mode: Vec<Vec<QueuedTicket>> = vec![Vec::new(); 3];
    for id in 0..N {
        let m = rng.pick(&MODE_SHARE);
        let party = match m {
            0 => 1,
            1 => 1 + rng.pick(&[0.75, 0.25]),
            _ => 1 + rng.pick(&[0.60, 0.20, 0.10, 0.10]),
        } as u64;
        let mmr = rng.normal(1500.0, 300.0).round().clamp(0.0, 3500.0) as i32;
        let sigma = 1.5 + rng.unit() * 6.8;
        let members = (next_player..next_player + party)
            .map(|user_id| Member {
                user_id,
                rating: Rating::from_mmr(mmr, sigma),
            })
            .collect();
        next_player += party;
        let home = rng.pick(&[0.30, 0.30, 0.20, 0.10, 0.10]);
        let mut regs = vec![RegionLatency {
            region: regions[home].into(),
            latency_ms: 20 + (rng.unit() * 40.0) as u32,
        }];
        if rng.unit() < 0.25 {
            for _ in 0..1 + rng.pick(&[0.5, 0.5]) {
                let r = regions[rng.pick(&[1.0; 5])];
                if !regs.iter().any(|x| x.region == r) {
                    regs.push(RegionLatency {
                        region: r.into(),
                        latency_ms: 60 + (rng.unit() * 120.0) as u32,
                    });
                }
            }
        }
        per_mode[m].push(QueuedTicket {
            ticket_id: id,
            members,
            regions: regs,
            joined_at_ms: NOW - (rng.unit() * 120_000.0) as u64,
            recent_opponents: Vec::new(),
        });
    }
    let settings = QualitySettings::default();
    let params = RatingParams::default();
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut formed = 0;
    let mut mode_ms = [0.0f64; 3];
    for _ in 0..5 {
        let cpu_start = thread_cpu_ns();
        let start = Instant::now();
        formed = 0;
        for (m, tickets) in per_mode.iter().enumerate() {
            let t = Instant::now();
            formed += form_matches(tickets, &modes[m], &settings, &params, NOW)
                .matches
                .len();
            mode_ms[m] += t.elapsed().as_secs_f64() * 1000.0 / 5.0;
        }
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        cpu.push((thread_cpu_ns() - cpu_start) as f64 / 1e6);
    }
    cpu.sort_by(f64::total_cmp);
    println!(
        "  cpu (this thread) median {:.1} ms, best {:.1} ms",
        cpu[cpu.len() / 2],
        cpu[0]
    );
    println!(
        "  mean per mode (ms): 1v1 {:.1} ({} tickets), 2v2 {:.1} ({}), 4v4 {:.1} ({})",
        mode_ms[0],
        per_mode[0].len(),
        mode_ms[1],
        per_mode[1].len(),
        mode_ms[2],
        per_mode[2].len()
    );
    let runs = times
        .iter()
        .map(|t| format!("{t:.1}"))
        .collect::<Vec<_>>()
        .join(", ");
    times.sort_by(f64::total_cmp);
    println!(
        "grouping (quality matcher): {N} tickets, {} players, 3 modes x 5 regions, 25% multi-region",
        next_player - 1
    );
    println!(
        "  runs (ms): {runs}; median {:.1} ms, best {:.1} ms; {formed} matches formed",
        times[times.len() / 2],
        times[0]
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "all".to_owned());
    let hours: u64 = args.next().and_then(|h| h.parse().ok()).unwrap_or(12);
    if what == "grouping" || what == "all" {
        bench_grouping();
    }
    if what == "sim" || what == "all" {
        run_sim(hours);
    }
}
