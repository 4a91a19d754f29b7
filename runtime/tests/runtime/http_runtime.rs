//! Instance isolation and server behaviour: traps, CPU-bound requests beside short ones,
//! body limit, outbound HTTP policy, graceful shutdown, core-module components.

use std::time::Duration;

use crate::common::{client, options, spawn, upstream, TOKEN};
use rh_runtime::App;

/// A failure guard for awaits that should complete promptly; never a pacing sleep.
const GUARD: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_is_a_500_and_the_next_request_is_fine() {
    let app = spawn("probe.toml", &[TOKEN]).await;
    let r = client().get(app.url("/api/trap")).send().await.unwrap();
    assert_eq!(r.status(), 500);
    for _ in 0..3 {
        let r = client().get(app.url("/exact")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    app.shutdown().await.unwrap();
}

/// One tokio worker: without epoch yielding, the busy guest would hold the only thread and
/// the short requests could not be served until it finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_cpu_bound_request_does_not_stall_short_ones() {
    let (up, mut notified) = upstream().await;
    let host = format!("http://{up}");
    let app = spawn("probe.toml", &[TOKEN, ("outbound_host", &host)]).await;

    // The guest tells the upstream it started, then burns CPU for a long time.
    let busy_url = app.url(&format!(
        "/api/busy?ms=30000&notify=http://{up}/notify/busy"
    ));
    let busy = tokio::spawn(async move { client().get(busy_url).send().await });
    let tag = tokio::time::timeout(GUARD, notified.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tag, "busy");

    for _ in 0..5 {
        let r = tokio::time::timeout(GUARD, client().get(app.url("/exact")).send())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert!(
        !busy.is_finished(),
        "the short requests were answered while the busy one still runs"
    );
    busy.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_gets_413() {
    let app = App::load(options("probe.toml", &[TOKEN]))
        .await
        .unwrap()
        .with_max_body_bytes(1024);
    let app = crate::common::serve(app).await;
    let r = client()
        .post(app.url("/api/body"))
        .body(vec![b'x'; 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "1024");
    let r = client()
        .post(app.url("/api/body"))
        .body(vec![b'x'; 1025])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_body_limit_is_one_mebibyte() {
    let app = spawn("probe.toml", &[TOKEN]).await;
    let r = client()
        .post(app.url("/api/body"))
        .body(vec![b'x'; (1 << 20) + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    app.shutdown().await.unwrap();
}

/// A chunked body has no length to refuse up front: the limit trips mid-stream, and the
/// client, still sending, must read a 413 rather than a reset connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_over_the_limit_gets_413_after_the_client_finished_sending() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = App::load(options("probe.toml", &[TOKEN]))
        .await
        .unwrap()
        .with_max_body_bytes(1024);
    let app = crate::common::serve(app).await;
    let addr = app.addr;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request =
        format!("POST /api/body HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\n\r\n")
            .into_bytes();
    for _ in 0..64 {
        request.extend_from_slice(b"400\r\n");
        request.extend_from_slice(&[b'x'; 0x400]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    tokio::time::timeout(GUARD, stream.write_all(&request))
        .await
        .unwrap()
        .expect("the whole 64 KiB body was accepted on the wire");
    let mut head = vec![0; 12];
    tokio::time::timeout(GUARD, stream.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_http_is_allowed_only_to_allowed_hosts() {
    let (up, _rx) = upstream().await;
    let (other, _rx2) = upstream().await;
    let host = format!("http://{up}");
    let app = spawn("probe.toml", &[TOKEN, ("outbound_host", &host)]).await;

    let r = client()
        .get(app.url(&format!("/api/fetch?url=http://{up}/hello")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "200 upstream says hi");

    let r = client()
        .get(app.url(&format!("/api/fetch?url=http://{other}/hello")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let body = r.text().await.unwrap();
    assert!(body.contains("HttpRequestDenied"), "{body}");
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_an_in_flight_request_finish() {
    let (up, mut notified) = upstream().await;
    let host = format!("http://{up}");
    let mut app = spawn("probe.toml", &[TOKEN, ("outbound_host", &host)]).await;

    let url = app.url(&format!(
        "/api/sleep?ms=500&notify=http://{up}/notify/sleeping"
    ));
    let in_flight = tokio::spawn(async move { client().get(url).send().await.unwrap() });
    assert_eq!(
        tokio::time::timeout(GUARD, notified.recv())
            .await
            .unwrap()
            .unwrap(),
        "sleeping"
    );

    app.signal_shutdown();
    let r = tokio::time::timeout(GUARD, in_flight)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "slept");
    let served = tokio::time::timeout(GUARD, &mut app.task)
        .await
        .unwrap()
        .unwrap();
    served.unwrap();

    // Stopped accepting: a new connection is refused.
    assert!(client().get(app.url("/exact")).send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wasip1_core_module_is_adapted_and_served() {
    let app = spawn("hello-wasip1.toml", &[]).await;
    let r = client().get(app.url("/anything")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "hello");
    app.shutdown().await.unwrap();
}

/// Admission control: with one slot taken, a request waits for it; past the queue timeout
/// it gets a 503 problem with `Retry-After`; a slot whose client went away frees up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_concurrency_limit_wait_then_get_503() {
    let (up, mut notified) = upstream().await;
    let host = format!("http://{up}");
    let load = |queue: Duration| {
        let opts = options("probe.toml", &[TOKEN, ("outbound_host", &host)]);
        async move {
            let app = App::load(opts).await.unwrap().with_admission(1, queue);
            crate::common::serve(app).await
        }
    };

    // A long queue timeout: the second request waits for the sleeper's slot.
    let app = load(GUARD).await;
    let url = app.url(&format!("/api/sleep?ms=300&notify=http://{up}/notify/a"));
    let sleeper = tokio::spawn(async move { client().get(url).send().await.unwrap() });
    let tag = tokio::time::timeout(GUARD, notified.recv()).await.unwrap();
    assert_eq!(tag.as_deref(), Some("a"));
    let r = client().get(app.url("/exact")).send().await.unwrap();
    assert_eq!(r.status(), 200, "it waited for the slot");
    assert_eq!(sleeper.await.unwrap().status(), 200);
    app.shutdown().await.unwrap();

    // A short one: refused while the slot is held.
    let app = load(Duration::from_millis(100)).await;
    let url = app.url(&format!("/api/sleep?ms=60000&notify=http://{up}/notify/b"));
    let sleeper = tokio::spawn(async move { client().get(url).send().await });
    let tag = tokio::time::timeout(GUARD, notified.recv()).await.unwrap();
    assert_eq!(tag.as_deref(), Some("b"));
    let r = client().get(app.url("/exact")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = r.json().await.unwrap();
    assert_eq!(problem["status"], 503);

    // The sleeper's client gives up: its guest is stopped and the slot frees.
    sleeper.abort();
    let start = std::time::Instant::now();
    loop {
        let r = client().get(app.url("/exact")).send().await.unwrap();
        if r.status() == 200 {
            break;
        }
        assert_eq!(r.status(), 503);
        assert!(
            start.elapsed() < GUARD,
            "the abandoned request kept its slot"
        );
    }
    app.shutdown().await.unwrap();
}
