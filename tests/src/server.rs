//! Running the app for tests. The runtime lives on its own thread with its own tokio
//! runtime: each `#[tokio::test]` has a runtime that ends with the test, and a server
//! spawned on it would die with the first test that finishes.
//!
//! The app is production's two Spin apps: the API (`spin.toml`, HTTP triggers) served on
//! a port, and the worker (`spin-worker.toml`, the Redis triggers) run beside it, both
//! with rh-runtime's default, Spin's behaviour: a worker whose Redis connection drops
//! exits (and is not restarted here: no test of the shared server restarts Redis;
//! `tests/redis_outage.rs` runs its own pair and restarts the worker itself).
//!
//! [`shared`] starts one server per test binary (components are compiled once, which
//! is most of the start-up time; [`stop_shared`] stops it for a module that must run
//! alone); [`Dedicated`] starts one with its own variables and stops it when dropped.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use rh_runtime::{App, UpOptions};

/// The repository root (this crate is `tests/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The API's manifest: `RH_TEST_MANIFEST` (relative to the repository root) runs another
/// one, e.g. a trimmed copy while a component is being written; the default is the real one.
pub fn http_manifest() -> String {
    std::env::var("RH_TEST_MANIFEST").unwrap_or_else(|_| "spin.toml".into())
}

/// The worker's manifest: `RH_TEST_WORKER_MANIFEST`, default `spin-worker.toml`; empty
/// runs no worker.
pub fn worker_manifest() -> Option<String> {
    match std::env::var("RH_TEST_WORKER_MANIFEST") {
        Ok(m) if m.is_empty() => None,
        Ok(m) => Some(m),
        Err(_) => Some("spin-worker.toml".into()),
    }
}

/// Options for `manifest` (relative to the repository root) with the test variables.
pub fn options(manifest: &str, vars: HashMap<String, String>) -> UpOptions {
    let root = repo_root();
    UpOptions {
        manifest: root.join(manifest),
        runtime_config: Some(root.join("runtime-config.toml")),
        env: Vec::new(),
        variable_overrides: vars,
        // Every app here gets a metrics listener (`metrics_url`).
        prometheus_metrics: true,
        otlp_metrics: false,
    }
}

/// The shared server, once started (or the error it failed with).
/// Dropped by `stop_shared`, which stops it like any [`Dedicated`] one.
static SHARED: Mutex<Option<Result<Dedicated, String>>> = Mutex::new(None);

/// Base URL of the server shared by the tests of this binary (started on first use).
pub fn shared(vars: HashMap<String, String>) -> String {
    shared_urls(vars).0
}

/// The shared server's base URL and its metrics URL (`http://.../metrics`, the runtime's
/// `--metrics-listen` endpoint on a port of its own).
pub fn shared_urls(vars: HashMap<String, String>) -> (String, String) {
    let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    let started = slot.get_or_insert_with(|| start(vars));
    match started {
        Ok(shared) => (shared.base_url.clone(), shared.metrics_url.clone()),
        Err(e) => panic!("the test app did not start: {e}"),
    }
}

/// Stops the shared server, if it runs (the next [`shared`] starts a new one). The
/// cluster module calls it before starting its processes: the shared app's worker
/// listens on the same Redis, and pub/sub ignores database numbers, so it would hear
/// the cluster's messages (a streams refresh, a tick) and answer some itself.
pub fn stop_shared() {
    let taken = SHARED.lock().unwrap_or_else(|e| e.into_inner()).take();
    drop(taken);
}

/// A server of its own, stopped (and its thread joined) on drop.
pub struct Dedicated {
    pub base_url: String,
    /// Where the runtime serves `GET /metrics`.
    pub metrics_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Dedicated {
    pub fn start(vars: HashMap<String, String>) -> Dedicated {
        start(vars).unwrap_or_else(|e| panic!("the test app did not start: {e}"))
    }
}

impl Drop for Dedicated {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The base URL and the metrics URL, or why it did not start.
type Started = Result<(String, String), String>;

fn start(vars: HashMap<String, String>) -> Result<Dedicated, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("rh-test-app".into())
        .spawn(move || serve_on_this_thread(vars, stop_rx, tx))
        .map_err(|e| e.to_string())?;
    let (base_url, metrics_url) = rx
        .recv()
        .map_err(|_| "the test app's thread died while starting".to_string())??;
    Ok(Dedicated {
        base_url,
        metrics_url,
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// Loads the app, reports its URL (or the load error) on `started`, then serves until
/// `stop` fires (or its sender is dropped).
fn serve_on_this_thread(
    vars: HashMap<String, String>,
    stop: tokio::sync::oneshot::Receiver<()>,
    started: std::sync::mpsc::Sender<Started>,
) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = started.send(Err(format!("tokio runtime: {e}")));
            return;
        }
    };
    rt.block_on(async move {
        let loaded = async {
            let load_worker = async {
                match worker_manifest() {
                    Some(m) => App::load(options(&m, vars.clone())).await.map(Some),
                    None => Ok(None),
                }
            };
            // Compiling is most of the start-up: both apps at once.
            let (app, worker) = tokio::join!(
                App::load(options(&http_manifest(), vars.clone())),
                load_worker
            );
            let app = app.map_err(|e| format!("{e:#}"))?;
            let worker = worker.map_err(|e| format!("worker: {e:#}"))?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let metrics = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            let metrics_url = format!(
                "http://{}/metrics",
                metrics.local_addr().map_err(|e| e.to_string())?
            );
            let app = app.with_metrics_listener(metrics);
            Ok::<_, String>((app, worker, listener, format!("http://{addr}"), metrics_url))
        }
        .await;
        match loaded {
            Ok((app, worker, listener, url, metrics_url)) => {
                let _ = started.send(Ok((url, metrics_url)));
                let (stopping, stopped) = tokio::sync::watch::channel(false);
                tokio::spawn(async move {
                    let _ = stop.await;
                    let _ = stopping.send(true);
                });
                let until_stopped = move || {
                    let mut stopped = stopped.clone();
                    async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    }
                };
                let worker = worker.map(|w| {
                    let shutdown = until_stopped();
                    tokio::spawn(async move {
                        if let Err(e) = w.run(shutdown).await {
                            eprintln!("test worker stopped with an error: {e:#}");
                        }
                    })
                });
                if let Err(e) = app
                    .with_shutdown_grace(std::time::Duration::from_secs(5))
                    .serve(listener, until_stopped())
                    .await
                {
                    eprintln!("test app stopped with an error: {e:#}");
                }
                if let Some(w) = worker {
                    let _ = w.await;
                }
            }
            Err(e) => {
                let _ = started.send(Err(e));
            }
        }
    });
}
