//! Benchmark and quality run for the pure matchmaking grouping step (not a test).
//!
//! `cargo run --release -p rh-domain --example bench_grouping [grouping|day|all]`
//!
//! - `grouping`: 100,000 queued tickets (mmr ~ normal(1500, 300), 3 modes, 5 regions,
//!   parties in 2v2/4v4, waits 0–120 s) grouped in one call; prints the time of each of
//!   several runs and the median.
//! - `day`: a simulated day of queueing: arrivals follow a daily curve (mean 5 tickets/s,
//!   0.3x at night to 1.7x at peak), one tick per simulated second, tickets expire after
//!   10 minutes as in Redis. Prints median and p95 wait, mean team mmr difference and the
//!   share of matches whose mmr spread is within ±200.
//!
//! The PRNG is a tiny seeded SplitMix64 so runs are reproducible without a dependency.

use std::collections::HashMap;
use std::time::Instant;

use rh_domain::matchmaking::{group, group_ref, Ticket};
use rh_domain::modes::ModeTable;

mod common;
use common::Rng;

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (Linux; first field
/// is nanoseconds on CPU). The machine is shared, so wall time alone overstates the cost
/// whenever other work competes for the cores.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

const MODES: [&str; 3] = ["1v1", "2v2", "4v4"];
const MODE_SHARE: [f64; 3] = [0.40, 0.35, 0.25];
const REGIONS: [&str; 5] = ["na", "eu", "asia", "sa", "oce"];
const REGION_SHARE: [f64; 5] = [0.30, 0.30, 0.20, 0.10, 0.10];

/// A random ticket for a fresh party; `next_player` hands out unique player ids.
fn random_ticket(rng: &mut Rng, id: u64, next_player: &mut u64, joined_at_ms: u64) -> Ticket {
    let mode = rng.pick(&MODE_SHARE);
    let region = rng.pick(&REGION_SHARE);
    let party = match mode {
        0 => 1,
        1 => 1 + rng.pick(&[0.75, 0.25]),
        _ => 1 + rng.pick(&[0.60, 0.20, 0.10, 0.10]),
    } as u64;
    let members = (*next_player..*next_player + party).collect();
    *next_player += party;
    Ticket {
        ticket_id: format!("t{id}"),
        mode: MODES[mode].to_owned(),
        region: REGIONS[region].to_owned(),
        mmr: rng.normal(1500.0, 300.0).round().clamp(0.0, 3500.0) as i32,
        members,
        joined_at_ms,
    }
}

fn bench_grouping() {
    const N: u64 = 100_000;
    const NOW: u64 = 10_000_000;
    let modes = ModeTable::default();
    let mut rng = Rng(42);
    let mut next_player = 1;
    let tickets: Vec<Ticket> = (0..N)
        .map(|i| {
            let wait = (rng.unit() * 120_000.0) as u64;
            random_ticket(&mut rng, i, &mut next_player, NOW - wait)
        })
        .collect();
    let players = next_player - 1;

    println!("grouping: {N} tickets ({players} players), 3 modes x 5 regions");
    for by_value in [true, false] {
        let mut times = Vec::new();
        let mut cpu_times = Vec::new();
        let mut last = None;
        for _ in 0..7 {
            // The by-value input is copied outside the timed region.
            let input = by_value.then(|| tickets.clone());
            let cpu = thread_cpu_ns();
            let start = Instant::now();
            let outcome = match input {
                Some(input) => group(input, NOW, &modes),
                None => group_ref(&tickets, NOW, &modes),
            };
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            if let (Some(before), Some(after)) = (cpu, thread_cpu_ns()) {
                cpu_times.push((after - before) as f64 / 1e6);
            }
            // Dropping the previous outcome happens here, outside the timed region.
            last = Some(outcome);
        }
        let outcome = last.expect("ran at least once");
        let runs = times
            .iter()
            .map(|t| format!("{t:.1}"))
            .collect::<Vec<_>>()
            .join(", ");
        times.sort_by(f64::total_cmp);
        cpu_times.sort_by(f64::total_cmp);
        if by_value {
            println!("  group(Vec<Ticket>) — moves tickets into the outcome, frees the rest:");
        } else {
            println!("  group_ref(&[Ticket]) — copies what the outcome returns:");
        }
        println!("    runs (ms): {runs}");
        println!(
            "    wall median: {:.1} ms, best: {:.1} ms",
            times[times.len() / 2],
            times[0]
        );
        if !cpu_times.is_empty() {
            println!(
                "    cpu (this thread) median: {:.1} ms, best: {:.1} ms",
                cpu_times[cpu_times.len() / 2],
                cpu_times[0]
            );
        }
        println!(
            "    formed {} matches, {} tickets left over, {} rejected",
            outcome.matches.len(),
            outcome.leftover.len(),
            outcome.rejected.len()
        );
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

fn simulate_day() {
    const DAY_S: u64 = 86_400;
    const MEAN_RATE: f64 = 5.0;
    const EXPIRY_MS: u64 = 600_000;
    let modes = ModeTable::default();
    let mut rng = Rng(7);
    let mut next_player = 1;
    let mut next_ticket = 0;
    let mut queue: Vec<Ticket> = Vec::new();
    // ticket id -> (mmr, joined_at_ms), for tickets still queued.
    let mut live: HashMap<String, (i32, u64)> = HashMap::new();
    let mut waits_ms: Vec<u64> = Vec::new();
    let mut per_mode_waits: HashMap<String, Vec<u64>> = HashMap::new();
    let (mut matches, mut within_200, mut expired) = (0u64, 0u64, 0u64);
    let mut diff_sum = 0.0;
    // mode -> (matches, sum of team mmr differences, matches within ±200)
    let mut per_mode_quality: HashMap<String, (u64, f64, u64)> = HashMap::new();
    let mut tick_ms_max: f64 = 0.0;
    let started = Instant::now();

    for second in 0..DAY_S {
        let now = second * 1000;
        // Daily curve: trough at 04:00, peak at 16:00.
        let phase = (second as f64 / DAY_S as f64 - 4.0 / 24.0) * std::f64::consts::TAU;
        let rate = MEAN_RATE * (1.0 - 0.7 * phase.cos());
        // Poisson arrivals via exponential gaps within this second.
        let mut t = -rng.unit().max(f64::MIN_POSITIVE).ln() / rate;
        while t < 1.0 {
            let ticket = random_ticket(
                &mut rng,
                next_ticket,
                &mut next_player,
                now + (t * 1000.0) as u64,
            );
            next_ticket += 1;
            live.insert(ticket.ticket_id.clone(), (ticket.mmr, ticket.joined_at_ms));
            queue.push(ticket);
            t += -rng.unit().max(f64::MIN_POSITIVE).ln() / rate;
        }
        let tick_at = now + 999;
        queue.retain(|tk| {
            let keep = tick_at - tk.joined_at_ms < EXPIRY_MS;
            if !keep {
                expired += 1;
                live.remove(&tk.ticket_id);
            }
            keep
        });

        let start = Instant::now();
        let outcome = group(std::mem::take(&mut queue), tick_at, &modes);
        tick_ms_max = tick_ms_max.max(start.elapsed().as_secs_f64() * 1000.0);
        queue = outcome.leftover;
        for m in outcome.matches {
            matches += 1;
            let (mut lo, mut hi) = (i32::MAX, i32::MIN);
            for id in &m.ticket_ids {
                let (mmr, joined) = live.remove(id).expect("matched tickets were queued");
                lo = lo.min(mmr);
                hi = hi.max(mmr);
                waits_ms.push(tick_at - joined);
                per_mode_waits
                    .entry(m.mode.clone())
                    .or_default()
                    .push(tick_at - joined);
            }
            let diff = f64::from((m.team_mmr[0] - m.team_mmr[1]).abs());
            let q = per_mode_quality.entry(m.mode.clone()).or_default();
            q.0 += 1;
            q.1 += diff;
            if hi - lo <= 200 {
                within_200 += 1;
                q.2 += 1;
            }
            diff_sum += diff;
        }
    }

    waits_ms.sort_unstable();
    println!(
        "day: {next_ticket} tickets ({} players) over 24 h, mean {MEAN_RATE}/s, one tick per second; simulated in {:.1} s (slowest tick {tick_ms_max:.2} ms)",
        next_player - 1,
        started.elapsed().as_secs_f64()
    );
    println!(
        "  matched tickets: {}, expired after 10 min: {expired}, still queued at the end: {}",
        waits_ms.len(),
        queue.len()
    );
    println!(
        "  wait: median {:.1} s, p95 {:.1} s",
        percentile(&waits_ms, 50.0) as f64 / 1000.0,
        percentile(&waits_ms, 95.0) as f64 / 1000.0
    );
    let mut modes_seen: Vec<_> = per_mode_waits.into_iter().collect();
    modes_seen.sort();
    for (mode, mut w) in modes_seen {
        w.sort_unstable();
        let (n, diffs, within) = per_mode_quality.get(&mode).copied().unwrap_or_default();
        println!(
            "    {mode}: wait median {:.1} s, p95 {:.1} s; {n} matches, mean team mmr difference {:.1}, within ±200: {:.1}%",
            percentile(&w, 50.0) as f64 / 1000.0,
            percentile(&w, 95.0) as f64 / 1000.0,
            diffs / n.max(1) as f64,
            100.0 * within as f64 / n.max(1) as f64
        );
    }
    println!(
        "  matches: {matches}, mean team mmr difference {:.1}, within ±200 spread: {:.1}%",
        diff_sum / matches.max(1) as f64,
        100.0 * within_200 as f64 / matches.max(1) as f64
    );
}

fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "all".to_owned());
    if what == "grouping" || what == "all" {
        bench_grouping();
    }
    if what == "day" || what == "all" {
        simulate_day();
    }
}
