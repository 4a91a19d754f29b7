//! A local cluster for the cross-instance tests (`tests/tests/api/cluster.rs`): two
//! `rh-runtime` processes serving the API (`spin.toml`) and two `rh-sidecar` processes,
//! behind a real HAProxy, and two worker `rh-runtime`s (`spin-worker.toml`, the Redis
//! triggers, as production's two worker pods), all on the test database and Redis. The
//! API and sidecars sit behind HAProxy configured by `scripts/haproxy-config` (the generator
//! `./scripts/cluster` uses, so what the tests check is what the script runs).
//!
//! Processes, not threads: nothing in memory may be shared between instances, and the
//! tests must see what separate replicas see. The binaries are the release builds next
//! to the test binary (`target/release/rh-runtime`, `rh-sidecar`); `./scripts/test`
//! builds them. Runtimes listen on port 0 and report their address on stderr
//! (`Serving http://...`); sidecars and HAProxy get free loopback ports picked here.
//!
//! One cluster for the module that uses it, started on first use ([`shared`]) and
//! stopped when the next module of the test binary begins. Each process runs under a
//! small shell wrapper that stops it when the test process exits, whatever way
//! it exits (the wrapper waits for end-of-file on a pipe only this process holds), so
//! no run leaves processes behind. Logs go to `target/cluster-tests/<pid>/<name>.log`,
//! and a start-up failure quotes the end of the failing log.
//!
//! The app runs with the shared test variables plus: `trusted_proxies = 127.0.0.1`
//! (HAProxy and the tests reach the runtimes from there, so `X-Forwarded-For` names the
//! client), a low register/login limit ([`AUTH_RATE_LIMIT`]) and the extra queue
//! regions in [`REGIONS`]. The [`TestApp`]s it hands out send every request from a
//! distinct client address (see [`TestApp::request`]), so only tests that choose an
//! address meet that limit.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::TestApp;

/// Register/login attempts per client address per minute in the cluster.
pub const AUTH_RATE_LIMIT: u32 = 5;
/// The cluster's regions: the defaults plus one queue per matchmaking test.
pub const REGIONS: &str = "na,eu,sa,asia,oce,clrace,clleave";
/// How long a process may take to start: runtimes compile every component on a cold
/// cache, two at once, on a machine other work may be loading.
const START_TIMEOUT: Duration = Duration::from_secs(900);

/// The running cluster.
pub struct Cluster {
    /// HAProxy's HTTP frontend, e.g. `http://127.0.0.1:41234`.
    pub lb_url: String,
    /// HAProxy's WebSocket frontend, e.g. `ws://127.0.0.1:41235/ws`.
    pub lb_ws_url: String,
    /// Each runtime's own address (`http://127.0.0.1:port`), runtime-1 first.
    pub runtime_urls: Vec<String>,
    /// Each sidecar's own WebSocket URL (`ws://127.0.0.1:port/ws`), sidecar-1 first.
    pub sidecar_ws_urls: Vec<String>,
    /// Where the logs, the HAProxy configuration and its admin socket are.
    pub dir: PathBuf,
    /// The wrappers; their stdin pipes are what keeps the processes alive.
    procs: Mutex<Vec<Proc>>,
}

/// The cluster shared by the tests of the calling module (started on first use, and
/// stopped when the next module of the binary begins: its workers tick every queue, so
/// they must not outlive the module, see [`crate::isolation`]). The shared in-process
/// app is stopped first, so only the cluster answers the cluster's messages.
pub fn shared() -> &'static Cluster {
    static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();
    let started = SHARED.get_or_init(|| {
        crate::isolation::enter();
        crate::server::stop_shared();
        let cluster = start()?;
        crate::isolation::on_leave(|| {
            if let Some(Ok(cluster)) = SHARED.get() {
                cluster.stop();
            }
        });
        Ok(cluster)
    });
    match started {
        Ok(cluster) => cluster,
        Err(e) => panic!("the test cluster did not start: {e}"),
    }
}

impl Cluster {
    /// A client of the load balancer (the way players reach the API).
    pub async fn lb(&self) -> TestApp {
        TestApp::connect_distinct(self.lb_url.clone()).await
    }

    /// A client of runtime `i` (0-based) directly, bypassing the load balancer.
    pub async fn runtime(&self, i: usize) -> TestApp {
        TestApp::connect_distinct(self.runtime_urls[i].clone()).await
    }

    /// Sends one command to HAProxy's admin socket (`set server runtimes/runtime-1 state
    /// maint`, `show servers state`) and returns its answer.
    pub fn haproxy(&self, command: &str) -> String {
        let path = self.dir.join("haproxy.sock");
        let mut sock = std::os::unix::net::UnixStream::connect(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        writeln!(sock, "{command}").unwrap();
        let mut answer = String::new();
        sock.read_to_string(&mut answer).unwrap();
        answer
    }

    /// Stops every process and waits for each to exit. The cluster is unusable after.
    fn stop(&self) {
        let procs = std::mem::take(&mut *self.procs.lock().unwrap_or_else(|e| e.into_inner()));
        for mut proc in procs {
            // End-of-file on its stdin makes the wrapper stop the process (WRAPPER).
            drop(proc.wrapper.stdin.take());
            let _ = proc.wrapper.wait();
        }
    }

    /// The end of a process's log (`runtime-1`, `sidecar-2`, `haproxy`), for messages.
    pub fn log_tail(&self, name: &str) -> String {
        tail(&self.dir.join(format!("{name}.log")))
    }
}

/// The variables every process of the cluster runs with.
pub fn variables() -> HashMap<String, String> {
    let mut vars = crate::test_variables();
    vars.insert("trusted_proxies".into(), "127.0.0.1".into());
    vars.insert(
        "auth_rate_limit_per_minute".into(),
        AUTH_RATE_LIMIT.to_string(),
    );
    vars.insert("regions".into(), REGIONS.into());
    vars
}

/// Runs its arguments as a child and stops it (TERM, then KILL after 10 s) when its own
/// stdin reaches end-of-file, i.e. when the test process, the only holder of the pipe's
/// other end, exits. Exits with the child's status when the child exits first.
const WRAPPER: &str = r#"
exec 3<&0
"$@" 3<&- </dev/null &
child=$!
(
  read -r line <&3
  kill -TERM "$child" 2>/dev/null
  i=0
  while kill -0 "$child" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$child" 2>/dev/null
) &
watcher=$!
exec 3<&-
wait "$child"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

struct Proc {
    name: String,
    log: PathBuf,
    wrapper: Child,
}

impl Proc {
    fn spawn(
        dir: &Path,
        name: &str,
        program: &Path,
        args: &[&str],
        env: &[(String, String)],
    ) -> Result<Proc, String> {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let wrapper = Command::new("sh")
            .arg("-c")
            .arg(WRAPPER)
            .arg(name)
            .arg(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("NO_COLOR", "1")
            .current_dir(crate::server::repo_root())
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting {name}: {e}"))?;
        Ok(Proc {
            name: name.to_owned(),
            log,
            wrapper,
        })
    }

    /// `Err` with the end of its log if the process has exited.
    fn check_alive(&mut self) -> Result<(), String> {
        match self.wrapper.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "{} exited ({status}); end of {}:\n{}",
                self.name,
                self.log.display(),
                tail(&self.log)
            )),
            Err(e) => Err(format!("{}: {e}", self.name)),
        }
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A loopback port nothing listens on right now (the process given it binds it within
/// milliseconds of starting).
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// `GET path` over a fresh HTTP/1.1 connection: the status and the `X-RH-Server` header
/// (set by HAProxy), or `None` if nothing answered.
fn probe(addr: SocketAddr, path: &str) -> Option<(u16, Option<String>)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let head = response.split("\r\n\r\n").next()?;
    let mut lines = head.lines();
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let server = lines.find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("x-rh-server")
            .then(|| value.trim().to_owned())
    });
    Some((status, server))
}

/// Polls `ready` every 100 ms until it gives a value, failing when any process has
/// exited or `START_TIMEOUT` passes.
fn wait_for<T>(
    what: &str,
    procs: &mut [Proc],
    mut ready: impl FnMut() -> Option<T>,
) -> Result<T, String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(value) = ready() {
            return Ok(value);
        }
        for p in procs.iter_mut() {
            p.check_alive()?;
        }
        if Instant::now() > deadline {
            return Err(format!("{what}: not ready after {START_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start() -> Result<Cluster, String> {
    let root = crate::server::repo_root();
    // The release binaries next to this test binary (target/release/deps/cluster-...).
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("no target directory above the test binary")?
        .to_path_buf();
    let (runtime_bin, sidecar_bin) = (bin_dir.join("rh-runtime"), bin_dir.join("rh-sidecar"));
    for bin in [&runtime_bin, &sidecar_bin] {
        if !bin.is_file() {
            return Err(format!(
                "{} is missing: ./scripts/test builds it (or cargo build --release -p rh-runtime -p rh-sidecar)",
                bin.display()
            ));
        }
    }
    let dir = bin_dir
        .parent()
        .unwrap_or(&bin_dir)
        .join("cluster-tests")
        .join(std::process::id().to_string());
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;

    let vars = variables();
    let app_env: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| {
            (
                format!("SPIN_VARIABLE_{}", k.to_ascii_uppercase()),
                v.clone(),
            )
        })
        .collect();
    let sidecar_env = vec![
        ("RH_JWT_SECRET".to_owned(), vars["jwt_secret"].clone()),
        // The app's Redis db: the sidecar reads token revocations from it.
        (
            "RH_REDIS_URL".to_owned(),
            format!("redis://{}/{}", vars["redis_host"], vars["redis_db"]),
        ),
        // Revocations from MySQL when Redis has lost them, as deployed.
        (
            "RH_SIDECAR_DATABASE_URL".to_owned(),
            crate::sidecar_database_url(),
        ),
        // Matchmaking ticks every second as in production; the streams refresh only when
        // a test publishes one, so its test counts its own message alone.
        ("RH_STREAMS_REFRESH_INTERVAL_S".to_owned(), "0".to_owned()),
    ];

    let mut procs = Vec::new();
    let runtime_args = [
        "up",
        "--from",
        "spin.toml",
        "--listen",
        "127.0.0.1:0",
        "--runtime-config-file",
        "runtime-config.toml",
        "--shutdown-grace-secs",
        "5",
    ];
    for i in 1..=2 {
        procs.push(Proc::spawn(
            &dir,
            &format!("runtime-{i}"),
            &runtime_bin,
            &runtime_args,
            &app_env,
        )?);
    }
    // Workers listen on nothing. rh-runtime's default is Spin's: one that loses Redis
    // exits (no cluster test restarts Redis).
    let worker_args = [
        "up",
        "--from",
        "spin-worker.toml",
        "--runtime-config-file",
        "runtime-config.toml",
    ];
    let mut worker_logs = Vec::new();
    for i in 1..=2 {
        let worker = Proc::spawn(
            &dir,
            &format!("worker-{i}"),
            &runtime_bin,
            &worker_args,
            &app_env,
        )?;
        worker_logs.push(worker.log.clone());
        procs.push(worker);
    }
    let mut sidecar_addrs = Vec::new();
    for i in 1..=2 {
        let addr = format!("127.0.0.1:{}", free_port()?);
        procs.push(Proc::spawn(
            &dir,
            &format!("sidecar-{i}"),
            &sidecar_bin,
            &["--listen", &addr],
            &sidecar_env,
        )?);
        sidecar_addrs.push(addr);
    }

    // Runtimes: the address they print once listening.
    let mut runtime_addrs = Vec::new();
    for i in 0..2 {
        let log = procs[i].log.clone();
        let addr = wait_for(&format!("runtime-{}", i + 1), &mut procs, || {
            let text = std::fs::read_to_string(&log).ok()?;
            let line = text.lines().find(|l| l.starts_with("Serving http://"))?;
            Some(line.trim_start_matches("Serving http://").trim().to_owned())
        })?;
        runtime_addrs.push(addr);
    }
    // Workers: once their triggers subscribed (a message before that reaches nobody).
    for (i, log) in worker_logs.iter().enumerate() {
        wait_for(&format!("worker-{}", i + 1), &mut procs, || {
            let text = std::fs::read_to_string(log).ok()?;
            text.contains("redis trigger subscribed").then_some(())
        })?;
    }
    // Sidecars: healthy once subscribed to Redis.
    for addr in &sidecar_addrs {
        let sock: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
        wait_for(&format!("sidecar on {addr}"), &mut procs, || {
            matches!(probe(sock, "/health"), Some((200, _))).then_some(())
        })?;
    }

    // HAProxy, configured by the script.
    let (http, ws) = (
        format!("127.0.0.1:{}", free_port()?),
        format!("127.0.0.1:{}", free_port()?),
    );
    let mut args = vec![
        "--http".to_owned(),
        http.clone(),
        "--ws".to_owned(),
        ws.clone(),
        "--stats-socket".to_owned(),
        dir.join("haproxy.sock").display().to_string(),
    ];
    for a in &runtime_addrs {
        args.extend(["--runtime".to_owned(), a.clone()]);
    }
    for a in &sidecar_addrs {
        args.extend(["--sidecar".to_owned(), a.clone()]);
    }
    let generated = Command::new("bash")
        .arg(root.join("scripts/haproxy-config"))
        .args(&args)
        .output()
        .map_err(|e| format!("scripts/haproxy-config: {e}"))?;
    if !generated.status.success() {
        return Err(format!(
            "scripts/haproxy-config failed: {}",
            String::from_utf8_lossy(&generated.stderr)
        ));
    }
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(&cfg, &generated.stdout).map_err(|e| e.to_string())?;
    let cfg_arg = cfg.display().to_string();
    let checked = Command::new("haproxy")
        .args(["-c", "-q", "-f", &cfg_arg])
        .output()
        .map_err(|e| format!("haproxy (./scripts/test installs it): {e}"))?;
    if !checked.status.success() {
        return Err(format!(
            "haproxy refused {cfg_arg}: {}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        ));
    }
    procs.push(Proc::spawn(
        &dir,
        "haproxy",
        Path::new("haproxy"),
        &["-db", "-f", &cfg_arg],
        &[],
    )?);
    // Ready when both runtimes have answered through it (round robin over healthy
    // servers), and the WebSocket frontend reaches a healthy sidecar.
    let (http_sock, ws_sock): (SocketAddr, SocketAddr) = (
        http.parse().map_err(|e| format!("{e}"))?,
        ws.parse().map_err(|e| format!("{e}"))?,
    );
    let mut seen = HashSet::new();
    wait_for("HAProxy with both runtimes up", &mut procs, || {
        if let Some((200, Some(server))) = probe(http_sock, "/health") {
            seen.insert(server);
        }
        (seen.len() == 2).then_some(())
    })?;
    wait_for("HAProxy's WebSocket frontend", &mut procs, || {
        matches!(probe(ws_sock, "/health"), Some((200, Some(_)))).then_some(())
    })?;

    Ok(Cluster {
        lb_url: format!("http://{http}"),
        lb_ws_url: format!("ws://{ws}/ws"),
        runtime_urls: runtime_addrs
            .iter()
            .map(|a| format!("http://{a}"))
            .collect(),
        sidecar_ws_urls: sidecar_addrs
            .iter()
            .map(|a| format!("ws://{a}/ws"))
            .collect(),
        dir,
        procs: Mutex::new(procs),
    })
}
