//! Fan-out benchmark (not a test): N concurrent WebSocket connections to one `rh-sidecar`
//! process on loopback, all subscribed to one channel; events published on Redis; delivery
//! latency from PUBLISH to each client's receipt, and the sidecar's memory per idle connection
//! (VmRSS delta of the sidecar process / N). The clients are plain sockets read by one epoll
//! thread ([`client`]); each round checks that every connection got the event exactly once,
//! byte for byte.
//!
//! ```text
//! cargo build --release -p rh-sidecar --examples --bins
//! ulimit -n 20000 && target/release/examples/bench_fanout [connections] [rounds]
//! ```
//! Needs Redis: `RH_REDIS_URL`, default `redis://127.0.0.1:6379/0`. Results go to
//! docs/benchmarks.md by hand.

mod client;

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fred::prelude::{Builder, ClientLike, Config as RedisConfig, PubsubInterface};
use rh_sidecar::protocol::event_json;
use rh_token::TokenType;
use tokio::sync::mpsc;

const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";
/// Threads opening connections (blocking handshakes) before the measurement.
const CONNECT_THREADS: usize = 4;

pub(crate) fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// utime + stime of a process, in clock ticks (100 per second on Linux).
fn cpu_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(10_000, |a| a.parse().unwrap());
    let rounds: usize = args.next().map_or(20, |a| a.parse().unwrap());
    // The sidecar reads the same variable.
    let redis_url =
        std::env::var("RH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into());

    // The sidecar binary sits next to the examples directory.
    let exe = std::env::current_exe()?;
    let bin = exe.parent().unwrap().parent().unwrap().join("rh-sidecar");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut command = tokio::process::Command::new(&bin);
    let mut child = command
        .args([
            "--listen",
            &listen,
            "--tick-interval-ms",
            "0",
            "--streams-refresh-interval-s",
            "0",
        ])
        .env("RH_JWT_SECRET", SECRET)
        .env("RH_REDIS_URL", &redis_url)
        // BENCH_SIDECAR_LOG=rh_sidecar=debug shows, per event, how many were queued.
        .env(
            "RUST_LOG",
            std::env::var("BENCH_SIDECAR_LOG").unwrap_or("warn".into()),
        )
        .stdout(match std::env::var_os("BENCH_SIDECAR_LOG") {
            Some(_) => Stdio::inherit(),
            None => Stdio::null(),
        })
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().unwrap();

    // Ready when /healthz says the Redis subscription is live.
    loop {
        if let Ok(mut s) = tokio::net::TcpStream::connect(&listen).await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await?;
            if buf.starts_with(b"HTTP/1.1 200") {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss_before = rss_kib(pid);

    let keys = rh_token::TokenKeys::new(SECRET.as_bytes())?;
    let channel = format!("rankings:bench{}", std::process::id());
    let addr: std::net::SocketAddr = listen.parse()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let tokens = (0..n)
        .map(|i| {
            let jti = format!("b{i}");
            rh_token::issue(&keys, TokenType::Access, i as u64 + 1, now, jti, None)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    // A few threads of blocking handshakes: few enough that the accept backlog never overflows.
    let per_thread = n.div_ceil(CONNECT_THREADS);
    let conns: Vec<client::Conn> = std::thread::scope(|scope| {
        let handles: Vec<_> = tokens
            .chunks(per_thread.max(1))
            .map(|chunk| {
                let channel = &channel;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|token| client::open(addr, token, channel).expect("connect"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let connect_time = started.elapsed();
    // Let allocations settle before measuring the idle footprint.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_kib(pid);

    let expected: client::Expected = Arc::new(Mutex::new(Arc::from(&b""[..])));
    let (tx, mut deliveries) = mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let receiver = {
        let (expected, stop) = (expected.clone(), stop.clone());
        std::thread::spawn(move || client::receive(conns, expected, tx, stop))
    };

    let redis = Builder::from_config(RedisConfig::from_url(&redis_url)?).build()?;
    redis.init().await?;
    // BENCH_PERF=1 profiles the sidecar during the fan-out rounds only (not the connections).
    let perf = match std::env::var_os("BENCH_PERF") {
        Some(_) => {
            let perf = std::process::Command::new("perf")
                .args([
                    "record",
                    "-F",
                    "1999",
                    "-g",
                    "-o",
                    "/tmp/sidecar-bench.perf",
                    "-p",
                ])
                .arg(pid.to_string())
                .spawn()?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            Some(perf)
        }
        None => None,
    };
    let (sidecar_cpu0, bench_cpu0) = (cpu_ticks(&pid.to_string()), cpu_ticks("self"));
    let mut all = Vec::with_capacity(n * rounds);
    let mut last_per_round = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let payload = format!(r#"{{"rank":1,"mmr":1500,"sent_ns":"{}"}}"#, now_ns());
        // What every client must receive, byte for byte.
        *expected.lock().unwrap() = Arc::from(event_json(&channel, &payload).as_bytes());
        let sent_ns = now_ns();
        let _: u64 = redis.publish(channel.as_str(), payload).await?;
        let mut seen = vec![false; n];
        let mut round = Vec::with_capacity(n);
        while round.len() < n {
            let batch = tokio::time::timeout(Duration::from_secs(30), deliveries.recv())
                .await
                .map_err(|_| anyhow::anyhow!("only {} of {n} clients got the event", round.len()))?
                .ok_or_else(|| anyhow::anyhow!("the clients' thread stopped"))?;
            for d in batch {
                anyhow::ensure!(d.content_ok, "connection {} got a wrong event", d.conn);
                anyhow::ensure!(!seen[d.conn], "connection {} got the event twice", d.conn);
                seen[d.conn] = true;
                round.push((d.received_ns.saturating_sub(sent_ns) / 1000) as u64);
            }
        }
        last_per_round.push(*round.iter().max().unwrap());
        all.extend(round);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rss_after = rss_kib(pid);
    let sidecar_cpu = cpu_ticks(&pid.to_string()) - sidecar_cpu0;
    let bench_cpu = cpu_ticks("self") - bench_cpu0;
    if let Some(mut perf) = perf {
        // SIGINT makes perf write its data and exit.
        let _ = std::process::Command::new("kill")
            .args(["-INT", &perf.id().to_string()])
            .status();
        perf.wait()?;
    }
    stop.store(true, Ordering::Relaxed);
    drop(deliveries);
    receiver.join().unwrap()?;
    all.sort_unstable();
    last_per_round.sort_unstable();

    println!("connections: {n}, rounds: {rounds} (one event to all per round)");
    println!(
        "connect+auth+subscribe all: {:.2} s",
        connect_time.as_secs_f64()
    );
    println!(
        "delivery latency (publish -> client) over {} deliveries: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        percentile(&all, 0.50) as f64 / 1000.0,
        percentile(&all, 0.99) as f64 / 1000.0,
        *all.last().unwrap() as f64 / 1000.0
    );
    println!(
        "time to reach the last client per round: median {:.2} ms, worst {:.2} ms",
        percentile(&last_per_round, 0.5) as f64 / 1000.0,
        *last_per_round.last().unwrap() as f64 / 1000.0
    );
    println!(
        "CPU per round (one event to {n} clients): sidecar {:.1} ms, this benchmark's clients {:.1} ms",
        sidecar_cpu as f64 * 10.0 / rounds as f64,
        bench_cpu as f64 * 10.0 / rounds as f64
    );
    println!(
        "sidecar RSS: {rss_before} KiB before, {rss_idle} KiB with {n} idle connections, {rss_after} KiB after fan-out"
    );
    println!(
        "memory per idle connection: {:.2} KiB",
        (rss_idle.saturating_sub(rss_before)) as f64 / n as f64
    );
    // SIGTERM, so the sidecar shuts down gracefully.
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
    let _ = tokio::time::timeout(Duration::from_secs(20), child.wait()).await;
    Ok(())
}
