//! The metrics listener: real requests through the probe fixture move the counters an
//! operator scrapes (requests by route and status class, latency, instantiation, outbound
//! host calls, admission waits and 503s), and every response carries a request id.

use std::time::Duration;

use crate::common::{client, options, upstream, TOKEN};
use rh_runtime::telemetry::sample;
use rh_runtime::App;

const GUARD: Duration = Duration::from_secs(60);

async fn scrape(url: &str) -> String {
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    r.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_count_requests_host_calls_and_admission_refusals() {
    let (up, mut notified) = upstream().await;
    let host = format!("http://{up}");
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_url = format!("http://{}/metrics", metrics.local_addr().unwrap());
    let mut opts = options("probe.toml", &[TOKEN, ("outbound_host", &host)]);
    opts.prometheus_metrics = true;
    let app = App::load(opts)
        .await
        .unwrap()
        .with_admission(1, Duration::from_millis(100))
        .with_metrics_listener(metrics);
    let app = crate::common::serve(app).await;

    for _ in 0..2 {
        let r = client().get(app.url("/exact")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = client()
        .get(app.url("/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let fetch = app.url(&format!("/api/fetch?url=http://{up}/hello"));
    let r = client().get(fetch).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "200 upstream says hi");

    // Hold the only slot, then be refused.
    let url = app.url(&format!(
        "/api/sleep?ms=60000&notify=http://{up}/notify/held"
    ));
    let sleeper = tokio::spawn(async move { client().get(url).send().await });
    let tag = tokio::time::timeout(GUARD, notified.recv()).await.unwrap();
    assert_eq!(tag.as_deref(), Some("held"));
    let r = client().get(app.url("/exact")).send().await.unwrap();
    assert_eq!(r.status(), 503);

    let text = scrape(&metrics_url).await;
    let requests = |labels: &[(&str, &str)]| sample(&text, "rh_http_requests_total", labels);
    let exact = [
        ("component", "probe"),
        ("route", "/exact"),
        ("method", "GET"),
    ];
    assert_eq!(
        requests(&[exact.as_slice(), &[("status_class", "2xx")]].concat()),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        requests(&[exact.as_slice(), &[("status_class", "5xx")]].concat()),
        Some(1.0)
    );
    // Unrouted: answered by the runtime, labelled without the path.
    assert_eq!(
        requests(&[("component", "-"), ("route", "-"), ("status_class", "4xx")]),
        Some(1.0)
    );
    assert!(
        !text.contains("/no/such/route"),
        "raw paths never become labels"
    );
    assert_eq!(
        sample(&text, "rh_http_requests_total", &[("route", "/api/...")]),
        Some(1.0),
        "the fetch (the sleeper has not answered yet)"
    );
    assert!(
        sample(
            &text,
            "rh_http_request_duration_seconds_count",
            &[("route", "/exact")]
        ) >= Some(3.0)
    );
    // The fetch went out through the outbound-HTTP host (the sleeper's notify may still be
    // on its way back to the guest, so at least one).
    assert!(
        sample(
            &text,
            "rh_host_calls_total",
            &[
                ("component", "probe"),
                ("interface", "outbound_http"),
                ("outcome", "ok")
            ]
        ) >= Some(1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "rh_instance_instantiate_duration_seconds_count",
            &[("component", "probe"), ("trigger", "http")]
        ) >= Some(4.0)
    );
    assert_eq!(sample(&text, "rh_admission_rejected_total", &[]), Some(1.0));
    assert_eq!(sample(&text, "rh_admission_in_flight", &[]), Some(1.0));
    assert!(sample(&text, "rh_admission_wait_duration_seconds_count", &[]) >= Some(5.0));

    // The public port does not serve metrics; the metrics port serves nothing else.
    let r = client().get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let other = metrics_url.replace("/metrics", "/exact");
    assert_eq!(client().get(other).send().await.unwrap().status(), 404);

    sleeper.abort();
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_request_id() {
    let app = crate::common::spawn("probe.toml", &[TOKEN]).await;
    let r = client()
        .get(app.url("/exact"))
        .header("x-request-id", "studio-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "studio-42");
    let r = client().get(app.url("/exact")).send().await.unwrap();
    let made = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(made.len(), 32, "{made}");
    // The runtime's own answers too.
    let r = client().get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers().contains_key("x-request-id"));
    app.shutdown().await.unwrap();
}
