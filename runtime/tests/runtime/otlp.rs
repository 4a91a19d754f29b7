//! OTLP export from the rh-runtime binary, as an operator turns it on: with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set, a request's span (parented on the incoming
//! `traceparent`) and its host calls' child spans reach the collector, the outbound call
//! carries the same trace on, and the metrics are pushed too. The collector is a minimal
//! OTLP/HTTP receiver in this test, decoding the protobuf with opentelemetry-proto.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use crate::common::{client, manifests_dir, options, TOKEN};

#[derive(Default)]
struct Received {
    spans: Vec<Span>,
    metric_names: Vec<String>,
    /// `traceparent` headers the upstream saw.
    traceparents: Vec<String>,
}

type Shared = Arc<Mutex<Received>>;

async fn traces(State(got): State<Shared>, body: Bytes) -> &'static str {
    let req = ExportTraceServiceRequest::decode(body).expect("an OTLP trace request");
    let mut got = got.lock().unwrap();
    for rs in req.resource_spans {
        for ss in rs.scope_spans {
            got.spans.extend(ss.spans);
        }
    }
    ""
}

async fn metrics(State(got): State<Shared>, body: Bytes) -> &'static str {
    let req = ExportMetricsServiceRequest::decode(body).expect("an OTLP metrics request");
    let mut got = got.lock().unwrap();
    for rm in req.resource_metrics {
        for sm in rm.scope_metrics {
            got.metric_names
                .extend(sm.metrics.into_iter().map(|m| m.name));
        }
    }
    ""
}

async fn hello(State(got): State<Shared>, headers: HeaderMap) -> &'static str {
    if let Some(tp) = headers.get("traceparent") {
        got.lock()
            .unwrap()
            .traceparents
            .push(tp.to_str().unwrap().to_string());
    }
    "upstream says hi"
}

async fn serve(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops the child with SIGTERM (it flushes its exporters on the way out).
struct Runtime(Child);

impl Runtime {
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_and_metrics_reach_the_otlp_endpoint_with_the_callers_trace() {
    let got: Shared = Arc::default();
    let collector = serve(
        Router::new()
            .route("/v1/traces", post(traces))
            .route("/v1/metrics", post(metrics))
            .with_state(got.clone()),
    )
    .await;
    let upstream = serve(
        Router::new()
            .route("/hello", get(hello))
            .with_state(got.clone()),
    )
    .await;

    // Checks the fixtures are built, as the in-process tests do.
    let _ = options("probe.toml", &[]);
    let port = free_port();
    let mut runtime = Runtime(
        Command::new(env!("CARGO_BIN_EXE_rh-runtime"))
            .args(["up", "--from"])
            .arg(manifests_dir().join("probe.toml"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("SPIN_VARIABLE_SECRET_TOKEN", TOKEN.1)
            .env("SPIN_VARIABLE_OUTBOUND_HOST", format!("http://{upstream}"))
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}"))
            .env("OTEL_SERVICE_NAME", "rh-runtime-otlp-test")
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .env("OTEL_METRIC_EXPORT_INTERVAL", "200")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting rh-runtime"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while client().get(format!("{base}/exact")).send().await.is_err() {
        assert!(Instant::now() < deadline, "rh-runtime did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let r = client()
        .get(format!("{base}/api/fetch?url=http://{upstream}/hello"))
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "200 upstream says hi");
    // A moment for the periodic reader's next export, then a clean stop flushes the spans.
    tokio::time::sleep(Duration::from_millis(600)).await;
    runtime.stop();

    let got = got.lock().unwrap();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let ours: Vec<&Span> = got
        .spans
        .iter()
        .filter(|s| hex(&s.trace_id) == trace_id)
        .collect();
    let request = ours
        .iter()
        .find(|s| hex(&s.parent_span_id) == caller_span)
        .unwrap_or_else(|| panic!("no span parented on the caller's: {:?}", got.spans));
    assert_eq!(request.name, "GET /api/...");
    let outbound = ours
        .iter()
        .find(|s| s.parent_span_id == request.span_id)
        .expect("a host-call child span of the request");
    assert_eq!(outbound.name, "http.send");
    // The upstream was called inside the same trace, with the host call as its parent.
    let sent = got
        .traceparents
        .first()
        .expect("the outbound call's traceparent");
    assert_eq!(
        sent,
        &format!("00-{trace_id}-{}-01", hex(&outbound.span_id))
    );
    assert!(
        got.metric_names.iter().any(|n| n == "rh_http_requests"),
        "metrics pushed: {:?}",
        got.metric_names
    );
}
