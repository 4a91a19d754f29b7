//! Several sidecars, and Redis going away and coming back.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::helpers::*;

#[tokio::test]
async fn two_sidecars_both_deliver_every_event() {
    let a = spawn_sidecar(test_config(&REDIS_URL)).await;
    let b = spawn_sidecar(test_config(&REDIS_URL)).await;
    let redis = redis(&REDIS_URL).await;
    let channel = format!("rankings:t{}", unique());
    let mut on_a = Client::authenticated(&a, unique()).await;
    let mut on_b = Client::authenticated(&b, unique()).await;
    on_a.subscribe(&channel).await;
    on_b.subscribe(&channel).await;

    for i in 0..3 {
        publish(&redis, &channel, &format!(r#"{{"i":{i}}}"#)).await;
    }

    for client in [&mut on_a, &mut on_b] {
        for i in 0..3 {
            assert_eq!(client.json().await["data"]["i"], i);
        }
    }
}

/// A `redis-server` of our own, so the test can kill it without disturbing anyone.
struct OwnRedis {
    port: u16,
    child: Child,
}

impl OwnRedis {
    async fn start(port: u16) -> OwnRedis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed");
        // redis-server has no readiness signal other than accepting connections.
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return OwnRedis { port, child };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("redis-server did not start on port {port}");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn clients_stay_connected_through_a_redis_restart_and_delivery_resumes() {
    let port = free_port();
    let own = OwnRedis::start(port).await;
    let url = own.url();
    let mut config = test_config(&url);
    config.redis_max_backoff = Duration::from_millis(500);
    let mut sidecar = spawn_sidecar(config).await;
    let mut c = Client::authenticated(&sidecar, unique()).await;
    c.subscribe("feed").await;
    let publisher = redis(&url).await;
    publish(&publisher, "feed", r#"{"n":1}"#).await;
    assert_eq!(c.json().await["data"]["n"], 1);

    own.kill().await;
    sidecar.wait_ready(false).await;
    // The client is still served while Redis is away.
    assert_eq!(c.subscribe("match:9").await["type"], "subscribed");
    // A newcomer cannot be checked against the revocation list, so it is not let in.
    let ws_url = format!("{}?token={}", sidecar.ws_url(), access_token(unique()));
    let mut newcomer = Client::connect(&ws_url).await;
    assert_eq!(newcomer.json().await["code"], "unavailable");
    assert_eq!(newcomer.close_code().await, 1013);

    let _own = OwnRedis::start(port).await;
    sidecar.wait_ready(true).await;
    let publisher = redis(&url).await;
    assert_eq!(
        publish(&publisher, "feed", r#"{"n":2}"#).await,
        1,
        "resubscribed"
    );
    assert_eq!(c.json().await["data"]["n"], 2);
}

#[tokio::test]
async fn a_sidecar_started_before_redis_connects_when_it_appears() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let mut config = test_config(&url);
    config.redis_max_backoff = Duration::from_millis(300);
    let mut sidecar = spawn_sidecar_unready(config).await;
    let health = format!("http://{}/healthz", sidecar.addr);
    assert_eq!(http_status(&health).await, 503);

    let _own = OwnRedis::start(port).await;
    sidecar.wait_ready(true).await;
    assert_eq!(http_status(&health).await, 200);
}

/// Minimal HTTP/1.1 GET returning the status code (no HTTP client dependency needed).
pub async fn http_status(url: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(
        format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let head = String::from_utf8_lossy(&buf);
    head.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn shutdown_is_prompt_even_while_redis_is_unreachable() {
    let url = format!("redis://127.0.0.1:{}/0", free_port());
    let sidecar = spawn_sidecar_unready(test_config(&url)).await;
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(10), sidecar.shutdown())
        .await
        .expect("shutdown finished")
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
