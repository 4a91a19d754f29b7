//! What an operator sees of real traffic through the real components: the runtime's
//! metrics listener counts requests by route template and the components' MySQL and Redis
//! host calls; every response carries the request's id, the client's or a fresh one.

use reqwest::StatusCode;
use rh_runtime::telemetry::sample;

async fn scrape() -> String {
    let url = rh_tests::shared_metrics_url();
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample(text, name, labels).unwrap_or(0.0)
}

#[tokio::test]
async fn a_profile_read_moves_the_request_and_host_call_counters() {
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    let before = scrape().await;

    for _ in 0..3 {
        let r = app.get_auth("/api/v1/users/me", &user.access_token).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let after = scrape().await;

    let me = [
        // The manifest's route template, not the path.
        ("route", "/api/v1/users/..."),
        ("method", "GET"),
        ("status_class", "2xx"),
    ];
    let delta = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert_eq!(delta("rh_http_requests_total", &me), 3.0, "{after}");
    let component = after
        .lines()
        .find(|l| {
            l.starts_with("rh_http_requests_total") && l.contains("route=\"/api/v1/users/...\"")
        })
        .and_then(|l| l.split("component=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .expect("the route's component label")
        .to_string();
    // Each profile read asks MySQL and Redis (revocation marks) through the host.
    for interface in ["mysql", "redis"] {
        let calls = delta(
            "rh_host_calls_total",
            &[
                ("component", &component),
                ("interface", interface),
                ("outcome", "ok"),
            ],
        );
        assert!(calls >= 3.0, "{interface}: {calls} calls for 3 reads");
    }
    assert!(
        delta(
            "rh_host_call_duration_seconds_count",
            &[("component", &component), ("interface", "mysql")]
        ) >= 3.0
    );
    // No raw path or id ever becomes a label.
    assert!(!after.contains(&format!("/users/{}", user.id)));
}

#[tokio::test]
async fn responses_echo_the_request_id_or_make_one() {
    let app = rh_tests::spawn_app().await;
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/api/v1/seasons/current", app.base_url))
        .header("x-request-id", "launcher-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "launcher-7f3a");

    // Errors too: a problem response says which request failed.
    let r = app.get("/api/v1/users/not-a-number").await;
    assert!(r.status().is_client_error());
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
}

/// `GET /api/v1/metrics` with `token` (none: no Authorization header).
async fn business(app: &rh_tests::TestApp, token: Option<&str>) -> reqwest::Response {
    let mut req = app.http.get(app.url("/api/v1/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn business_text(app: &rh_tests::TestApp) -> String {
    let r = business(app, Some(rh_tests::TEST_METRICS_TOKEN)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    r.text().await.unwrap()
}

#[tokio::test]
async fn business_metrics_need_the_metrics_token() {
    let app = rh_tests::spawn_app().await;
    rh_tests::assert_problem(business(&app, None).await, StatusCode::UNAUTHORIZED).await;
    let wrong = business(&app, Some("not-the-metrics-token")).await;
    rh_tests::assert_problem(wrong, StatusCode::UNAUTHORIZED).await;
    // A player's token is not a scraper's credential.
    let user = app.register_user().await;
    let theirs = business(&app, Some(&user.access_token)).await;
    rh_tests::assert_problem(theirs, StatusCode::UNAUTHORIZED).await;

    // Unconfigured, the route is off.
    let off = rh_tests::spawn_app_with(&[("metrics_token", "")]).await;
    let r = business(&off, Some(rh_tests::TEST_METRICS_TOKEN)).await;
    rh_tests::assert_problem(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn business_metrics_count_matches_results_queues_and_the_season() {
    use crate::matches_support::{create_match, players, put_result, result_body, signed_at};
    use crate::matchmaking_support::{join_ok, queue_app};
    use reqwest::Method;

    let app = queue_app(&["mqmetrics"]).await;
    let before = business_text(&app).await;

    let ps = players(&app, 2, "eu").await;
    let teams = vec![vec![ps[0].id], vec![ps[1].id]];
    let created = create_match(&app, "1v1", "eu", &teams).await;
    let id = created["id"].as_u64().unwrap();
    // Applied, then the launcher's retry of the very same signed call, then a result for a
    // match that does not exist.
    let path = format!("/api/v1/matches/{id}/result");
    let body = result_body(&teams, Some(0), 3);
    let ts = crate::matches_support::fresh_ts();
    for _ in 0..2 {
        let r = signed_at(
            &app,
            &app.game_server_key,
            ts,
            Method::PUT,
            &path,
            Some(&body),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let missing = put_result(&app, u64::MAX / 2, &body).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // One ticket waiting in a queue of its own.
    let waiting = app.register_user().await;
    join_ok(&app, &waiting, "1v1", "mqmetrics").await;

    let after = business_text(&app).await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert_eq!(
        delta("rh_matches_created_total", &[("mode", "1v1")]),
        1.0,
        "{after}"
    );
    assert_eq!(delta("rh_matches_completed_total", &[("mode", "1v1")]), 1.0);
    for (outcome, status) in [("applied", "200"), ("replayed", "200"), ("refused", "404")] {
        let labels = [("outcome", outcome), ("status", status)];
        assert_eq!(
            delta("rh_results_total", &labels),
            1.0,
            "{outcome}: {after}"
        );
    }
    let queue = [("mode", "1v1"), ("region", "mqmetrics")];
    assert_eq!(value(&after, "rh_queue_depth", &queue), 1.0, "{after}");
    assert!(sample(&after, "rh_queue_oldest_wait_seconds", &queue).is_some());

    let season: serde_json::Value = app
        .get("/api/v1/seasons/current")
        .await
        .json()
        .await
        .unwrap();
    let season_id = season["id"].as_u64().unwrap().to_string();
    assert_eq!(
        value(&after, "rh_season_active", &[("season_id", &season_id)]),
        1.0
    );
    assert_eq!(
        sample(&after, "rh_season_rollover_in_progress", &[]),
        Some(0.0)
    );
}

/// A real Prometheus (Debian's, which ./scripts/test installs) scrapes the test app's
/// runtime metrics and its business metrics, as deploy/monitoring configures them, and its
/// query API returns our series.
#[tokio::test]
async fn a_real_prometheus_scrapes_and_queries_our_series() {
    let app = rh_tests::spawn_app().await;
    let metrics_url = rh_tests::shared_metrics_url();
    let runtime_target = metrics_url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .to_string();
    let api_target = app.base_url.trim_start_matches("http://").to_string();
    // Something for both jobs to have counted.
    let r = app.get("/api/v1/seasons/current").await;
    assert_eq!(r.status(), StatusCode::OK);

    let dir = std::env::temp_dir().join(format!("rh-prometheus-{}", rh_tests::unique_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
         scrape_configs:\n\
         \x20 - job_name: rh-runtime\n    static_configs: [{{targets: ['{runtime_target}']}}]\n\
         \x20 - job_name: rh-business\n    metrics_path: /api/v1/metrics\n\
         \x20   authorization: {{type: Bearer, credentials: '{}'}}\n\
         \x20   static_configs: [{{targets: ['{api_target}']}}]\n",
        rh_tests::TEST_METRICS_TOKEN
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let listen = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut prometheus = std::process::Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={listen}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("prometheus not found: ./scripts/test installs Debian's prometheus package");

    let query = |q: &'static str| {
        let url = format!("http://{listen}/api/v1/query");
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .query(&[("query", q)])
                .send()
                .await
                .ok()?;
            let body: serde_json::Value = r.json().await.ok()?;
            let result = body["data"]["result"].as_array()?.clone();
            (!result.is_empty()).then_some(result)
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut found = (None, None, None);
    while std::time::Instant::now() < deadline {
        found = (
            query(r#"up{job="rh-business"} == 1"#).await,
            query(r#"rh_http_requests_total{route="/api/v1/seasons/..."}"#).await,
            query(r#"rh_season_active{job="rh-business"}"#).await,
        );
        if found.0.is_some() && found.1.is_some() && found.2.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let _ = prometheus.kill();
    let _ = prometheus.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        found.0.is_some(),
        "the business endpoint was not scraped with the token"
    );
    let requests = found
        .1
        .expect("rh_http_requests_total from the runtime listener");
    assert_eq!(requests[0]["metric"]["job"], "rh-runtime");
    let season = found.2.expect("rh_season_active from GET /api/v1/metrics");
    assert_eq!(season[0]["value"][1], "1");
}
