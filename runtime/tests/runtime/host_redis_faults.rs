//! Redis going away under the runtime's pooled connections (a load-test finding: after a
//! Redis restart, requests hung on dead idle connections). A private `redis-server` on a
//! free port is restarted, frozen (SIGSTOP) and stopped under the `fixture-storage`
//! component; every request must get an answer, and a working connection once Redis is
//! back.
//!
//! Needs the fixture (`cargo build --release --target wasm32-wasip2 -p fixture-storage`)
//! and `redis-server` on the PATH. Run: `cargo test --release -p rh-runtime --test runtime -- host_redis_faults::`.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rh_runtime::{App, UpOptions};
use serde_json::{json, Value};

/// A failure guard for awaits that must complete; never a pacing sleep.
const GUARD: Duration = Duration::from_secs(60);

/// A `redis-server` of this test's own, on a fixed port across restarts.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    fn start() -> PrivateRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = PrivateRedis { port, child: None };
        redis.restart();
        redis
    }

    /// Kills the server (if running) and starts a new one, empty, on the same port.
    fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on the PATH");
        self.child = Some(child);
        let start = Instant::now();
        while !self.answers_ping() {
            assert!(start.elapsed() < GUARD, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let mut reply = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok()
            && s.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// SIGKILL: the connections die with the process, as in a crash.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let ok = Command::new("kill").args([sig, &pid]).status().unwrap();
        assert!(ok.success());
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.signal("-CONT");
        }
        self.stop();
    }
}

async fn start_app(redis: &PrivateRedis) -> crate::common::Running {
    let wasm = crate::common::fixture_wasm("wasm32-wasip2", "fixture-storage");
    let dir = std::env::temp_dir().join(format!(
        "rh-redis-faults-{}-{}",
        std::process::id(),
        redis.port
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = format!(
        r#"spin_manifest_version = 2

[application]
name = "redis-faults"
version = "0.1.0"

[[trigger.http]]
route = "/..."
component = "storage"

[component.storage]
source = "{wasm}"
allowed_outbound_hosts = ["redis://127.0.0.1:{port}"]
"#,
        wasm = wasm.display(),
        port = redis.port
    );
    std::fs::write(dir.join("spin.toml"), manifest).unwrap();
    let options = UpOptions {
        manifest: dir.join("spin.toml"),
        runtime_config: None,
        env: Vec::new(),
        variable_overrides: HashMap::new(),
        prometheus_metrics: false,
        otlp_metrics: false,
    };
    crate::common::serve(App::load(options).await.expect("loading the app")).await
}

/// SET then GET `value` through the component; the fixture's per-step results.
async fn set_get(app: &crate::common::Running, url: &str, value: &str) -> Value {
    let body = json!({"url": url, "steps": [
        {"op": "set", "key": "k", "value": value},
        {"op": "get", "key": "k"},
    ]});
    let resp = tokio::time::timeout(
        GUARD,
        reqwest::Client::new()
            .post(app.url("/redis"))
            .json(&body)
            .send(),
    )
    .await
    .expect("the request was answered")
    .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn got(results: &Value) -> Option<&str> {
    results[1]["ok"].as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_connections_survive_a_redis_restart_and_a_frozen_redis_times_out() {
    let mut redis = PrivateRedis::start();
    let url = redis.url();
    let app = start_app(&redis).await;

    // Several requests at once leave several idle connections in the pool.
    let before = futures_join(&app, &url, "before").await;
    assert!(
        before.iter().all(|r| got(r) == Some("before")),
        "{before:?}"
    );

    // A crash and restart: every pooled connection is dead. Each request must still get
    // a working connection.
    redis.restart();
    for i in 0..6 {
        let value = format!("after-{i}");
        let r = set_get(&app, &url, &value).await;
        assert_eq!(got(&r), Some(value.as_str()), "request {i}: {r}");
    }

    // A frozen server: commands hit their deadline and the guest gets an error, instead
    // of the request hanging for as long as Redis does.
    redis.signal("-STOP");
    let r = set_get(&app, &url, "frozen").await;
    redis.signal("-CONT");
    assert!(
        r.to_string().contains("err"),
        "a frozen Redis must fail the steps: {r}"
    );

    // The connection that timed out is not handed to the next guest: its late replies
    // would be read as answers to the next guest's commands.
    for i in 0..4 {
        let value = format!("thawed-{i}");
        let r = set_get(&app, &url, &value).await;
        assert_eq!(got(&r), Some(value.as_str()), "request {i}: {r}");
    }

    // Gone: an error, promptly.
    redis.stop();
    let r = set_get(&app, &url, "gone").await;
    assert!(
        r.to_string().contains("err"),
        "a stopped Redis must fail: {r}"
    );
    app.shutdown().await.unwrap();
}

/// Four concurrent SET/GET requests, each with its own value.
async fn futures_join(app: &crate::common::Running, url: &str, value: &str) -> Vec<Value> {
    let (a, b, c, d) = tokio::join!(
        set_get(app, url, value),
        set_get(app, url, value),
        set_get(app, url, value),
        set_get(app, url, value),
    );
    vec![a, b, c, d]
}
