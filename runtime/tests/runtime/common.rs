//! Shared helpers for the runtime's integration tests: load a fixture manifest through
//! `App::load` and serve it in-process on `127.0.0.1:0`, plus a tiny local upstream server.
//!
//! Fixtures must be built first:
//! `cargo build --release --target wasm32-wasip2 -p fixture-hello -p fixture-http-probe -p fixture-redis-listener`
//! (and `--target wasm32-wasip1 -p fixture-hello` for the core-module test).
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use rh_runtime::{App, UpOptions};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub fn manifests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/manifests")
}

/// Absolute path of a built fixture; panics with the build command if it is missing.
pub fn fixture_wasm(target: &str, crate_name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target")
        .join(target)
        .join("release")
        .join(format!("{}.wasm", crate_name.replace('-', "_")));
    assert!(
        path.exists(),
        "fixture {} is missing: build it first with \
         `cargo build --release --target {target} -p {crate_name}`",
        path.display()
    );
    path
}

/// Options for a manifest in `tests/manifests`, after checking its fixtures exist.
pub fn options(manifest: &str, overrides: &[(&str, &str)]) -> UpOptions {
    let path = manifests_dir().join(manifest);
    let text = std::fs::read_to_string(&path).expect("reading test manifest");
    for line in text.lines() {
        if let Some(rest) = line.trim().strip_prefix("source = \"") {
            let rel = rest.trim_end_matches('"');
            let p = PathBuf::from(rel);
            let target = p.iter().rev().nth(2).unwrap().to_str().unwrap().to_string();
            let file = p.file_stem().unwrap().to_str().unwrap().replace('_', "-");
            fixture_wasm(&target, &file);
        }
    }
    UpOptions {
        manifest: path,
        runtime_config: None,
        env: Vec::new(),
        variable_overrides: overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
        prometheus_metrics: false,
        otlp_metrics: false,
    }
}

/// A running app; dropping it without `shutdown` aborts the server task.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Resolves `serve`'s shutdown future (as SIGTERM would) and waits for `serve` to return.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.expect("serve task panicked")
    }

    /// Signals shutdown without waiting.
    pub fn signal_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves an already-loaded app on `127.0.0.1:0`.
pub async fn serve(app: App) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

/// Loads `manifest` with variable overrides and serves it.
pub async fn spawn(manifest: &str, overrides: &[(&str, &str)]) -> Running {
    spawn_with(manifest, overrides, |app| app).await
}

/// As [`spawn`], with `configure` applied to the loaded app (e.g. its Redis triggers'
/// `OnDisconnect`).
pub async fn spawn_with(
    manifest: &str,
    overrides: &[(&str, &str)],
    configure: impl FnOnce(App) -> App,
) -> Running {
    let app = App::load(options(manifest, overrides))
        .await
        .expect("loading the app");
    serve(configure(app)).await
}

/// The probe manifest's required secret, so tests that don't care can load it.
pub const TOKEN: (&str, &str) = ("secret_token", "t0ps3cret");

/// A local upstream HTTP server: `GET /hello` answers "upstream says hi"; any request to
/// `/notify/<tag>` sends `<tag>` on the returned channel (how a fixture tells a test "I am
/// running now", so tests order events without sleeping).
pub async fn upstream() -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    use axum::extract::{Path, State};
    use axum::routing::get;
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let app = axum::Router::new()
        .route("/hello", get(|| async { "upstream says hi" }))
        .route(
            "/notify/{tag}",
            get(|State(tx): State<mpsc::UnboundedSender<String>>, Path(tag): Path<String>| async move {
                let _ = tx.send(tag);
                "ok"
            }),
        )
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, rx)
}

/// Parses the probe's `name: value` lines.
pub fn lines(body: &str) -> HashMap<String, String> {
    body.lines()
        .filter_map(|l| {
            l.split_once(": ")
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}
