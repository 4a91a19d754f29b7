//! The HTTP trigger: hyper 1 server, Spin routing, one fresh instance per request.
//!
//! Per request: route → body limit → Spin headers → new `Store` + instance from the
//! component's `ProxyPre` → `wasi:http/incoming-handler.handle` in its own task. The guest
//! runs on a spawned task so that it may keep streaming the body after it sets the response,
//! and so that a trap never takes the connection task down with it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::WasiHttpView as _;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _};
use opentelemetry::KeyValue;

use crate::admission::Admission;
use crate::instance::{ComponentContext, InstanceState};
use crate::routes::Router;
use crate::telemetry::instruments::RouteLabels;
use crate::telemetry::{self, RuntimeMetrics};

/// Paths Spin's HTTP trigger keeps for itself (`/.well-known/spin/health`, `.../info`).
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// Default cap on a request body; larger bodies get 413 before any instance exists.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// One component as the HTTP trigger sees it.
pub struct HttpComponent {
    pub ctx: Arc<ComponentContext>,
    pub pre: ProxyPre<InstanceState>,
}

pub struct HttpTrigger {
    pub router: Router,
    /// Indexed by `Route::component`.
    pub components: Vec<Arc<HttpComponent>>,
    pub max_body_bytes: usize,
    pub admission: Admission,
    pub metrics: Arc<RuntimeMetrics>,
}

impl HttpTrigger {
    /// Accepts connections until `shutdown` resolves, then stops accepting and waits up to
    /// `grace` for connections with a request in flight to finish.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
        grace: Duration,
    ) -> anyhow::Result<()> {
        let graceful = GracefulShutdown::new();
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.keep_alive(true).timer(TokioTimer::new());
        let builder = Arc::new(builder);
        tokio::pin!(shutdown);
        loop {
            let (stream, client) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let this = self.clone();
            let service = hyper::service::service_fn(move |req| {
                let this = this.clone();
                async move { Ok::<_, Infallible>(this.handle(req, client).await) }
            });
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!("connection from {client}: {e}");
                }
            });
        }
        drop(listener);
        tracing::info!("shutting down: waiting up to {grace:?} for in-flight requests");
        if tokio::time::timeout(grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period elapsed with requests still in flight");
        }
        Ok(())
    }

    /// One request: its id and span, then [`Self::dispatch`], then its metrics and the
    /// access log line (which carries the request id).
    async fn handle(
        &self,
        mut req: Request<Incoming>,
        client: SocketAddr,
    ) -> Response<HyperOutgoingBody> {
        let start = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        // The guest sees the same id the runtime logs (its `X-Request-Id` header); on real
        // Spin rh-infra makes one itself when the client sent none.
        let request_id: Arc<str> = telemetry::request_id(req.headers()).into();
        let id_header = HeaderValue::from_str(&request_id).ok();
        if let Some(v) = &id_header {
            req.headers_mut().insert(REQUEST_ID, v.clone());
        }
        // Named by the method until the route is known (semantic conventions: `{method}
        // {route}`, renamed below).
        let cx = telemetry::start_span(
            &telemetry::remote_parent(req.headers()),
            SpanKind::Server,
            || method.to_string(),
            || {
                vec![
                    KeyValue::new("http.request.method", method.to_string()),
                    KeyValue::new("url.path", path.clone()),
                    KeyValue::new("rh.request_id", request_id.to_string()),
                ]
            },
        );
        // Only a sampled request carries its context down (to the guest's host calls and
        // outbound requests); one the sampler dropped runs as if traces were off, so its
        // outbound calls carry no traceparent and the callee samples on its own.
        let (at, mut response) = if cx.span().span_context().is_sampled() {
            self.dispatch(req, client, &request_id)
                .with_context(cx.clone())
                .await
        } else {
            self.dispatch(req, client, &request_id).await
        };
        let status = response.status().as_u16();
        let took = start.elapsed();
        let span = cx.span();
        if span.is_recording() {
            span.update_name(format!("{method} {}", at.route));
            span.set_attribute(KeyValue::new("http.route", at.route.to_owned()));
            span.set_attribute(KeyValue::new(
                "http.response.status_code",
                i64::from(status),
            ));
            if status >= 500 {
                span.set_status(Status::error(""));
            }
        }
        span.end();
        if let Some(v) = id_header {
            response.headers_mut().entry(REQUEST_ID).or_insert(v);
        }
        // Not inside the span: a log line is not a span event (that would cost every
        // exported trace an event), and it carries the request id itself.
        tracing::info!(
            target: "rh_runtime::request",
            parent: None,
            request_id = %request_id,
            "{method} {path} {} {status} {:.2}ms",
            at.component,
            took.as_secs_f64() * 1000.0
        );
        self.metrics.request(at, &method, status, took);
        response
    }

    async fn dispatch(
        &self,
        req: Request<Incoming>,
        client: SocketAddr,
        request_id: &Arc<str>,
    ) -> (RouteLabels<'_>, Response<HyperOutgoingBody>) {
        let (mut parts, body) = req.into_parts();
        let uri = parts.uri.clone();
        // Spin answers its own paths before routing, whatever the app's routes: `health`
        // is 200 "OK" while the trigger serves (what a readiness check should ask: it
        // says nothing about MySQL or Redis, which every replica shares), the rest 404.
        if let Some(well_known) = uri.path().strip_prefix(WELL_KNOWN_PREFIX) {
            return match well_known {
                "health" => (RouteLabels::RUNTIME, plain(StatusCode::OK, "OK")),
                _ => (
                    RouteLabels::RUNTIME,
                    plain(StatusCode::NOT_FOUND, "Not Found"),
                ),
            };
        }
        let Some(m) = self.router.route(uri.path()) else {
            return (
                RouteLabels::RUNTIME,
                plain(StatusCode::NOT_FOUND, "Not Found"),
            );
        };
        let route = m.route;
        let component = &self.components[route.component];
        let id = RouteLabels {
            component: &route.component_id,
            route: &route.template,
        };

        let body = match read_body(&parts.headers, body, self.max_body_bytes).await {
            Ok(b) => b,
            Err(status) => return (id, plain(status, status.canonical_reason().unwrap_or(""))),
        };
        // After the body: a slow sender must not hold a slot. The permit is held by the
        // guest's task until the guest finishes (see `execute`).
        let waiting = self.metrics.waiting();
        let permit = self.admission.admit().await;
        waiting.done(permit.is_some());
        let Some(permit) = permit else {
            return (id, overloaded());
        };
        let slot = Slot::taken(permit, self.metrics.clone());

        // Spin hands guests an absolute URI: `http://<host><path?query>`.
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
            .to_string();
        let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let full_url = format!("http://{host}{path_and_query}");
        m.set_spin_headers(&mut parts.headers, &full_url, client);
        match full_url.parse() {
            Ok(uri) => parts.uri = uri,
            Err(_) => return (id, plain(StatusCode::BAD_REQUEST, "Bad Request")),
        }
        let req = Request::from_parts(parts, body);

        match execute(component, req, slot, request_id.clone()).await {
            Ok(resp) => (id, resp),
            Err(e) => {
                tracing::error!(component = %route.component_id, "request failed: {e:?}");
                (
                    id,
                    plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
                )
            }
        }
    }
}

/// After a 413 the rest of the body is read and dropped, up to this many bytes and for at
/// most `DRAIN_TIMEOUT`: a client still sending then reads the 413 instead of failing its
/// write on a connection the server has already closed (EPIPE/RST). Anything bigger or
/// slower is cut off; such a client was never going to be served.
const DRAIN_MAX_BYTES: usize = 16 << 20;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Buffers the request body up to `limit` bytes: 413 if it is (or claims to be) larger.
/// Buffering keeps the limit exact for chunked bodies too; bodies are small by design.
async fn read_body(
    headers: &http::HeaderMap,
    mut body: Incoming,
    limit: usize,
) -> Result<Full<Bytes>, StatusCode> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        if declared.is_some_and(|n| n <= DRAIN_MAX_BYTES as u64) {
            drain(body, 0).await;
        }
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(StatusCode::BAD_REQUEST);
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                drain(body, buf.len() + data.len()).await;
                return Err(StatusCode::PAYLOAD_TOO_LARGE);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Full::new(buf.freeze()))
}

/// Reads and discards what is left of a refused body (see `DRAIN_MAX_BYTES`).
async fn drain(mut body: Incoming, mut seen: usize) {
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += data.len();
                if seen > DRAIN_MAX_BYTES {
                    break;
                }
            }
        }
    })
    .await;
}

/// The header that carries a request's id both ways.
const REQUEST_ID: &str = "x-request-id";

/// An admission slot, counted in `rh_admission_in_flight` while held.
struct Slot {
    _permit: tokio::sync::OwnedSemaphorePermit,
    metrics: Arc<RuntimeMetrics>,
}

impl Slot {
    fn taken(permit: tokio::sync::OwnedSemaphorePermit, metrics: Arc<RuntimeMetrics>) -> Slot {
        metrics.slot_taken();
        Slot {
            _permit: permit,
            metrics,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.metrics.slot_freed();
    }
}

/// Runs one request on a fresh instance.
async fn execute(
    component: &Arc<HttpComponent>,
    req: Request<Full<Bytes>>,
    slot: Slot,
    request_id: Arc<str>,
) -> anyhow::Result<Response<HyperOutgoingBody>> {
    let mut store = Store::new(
        component.pre.engine(),
        component.ctx.new_state(Some(request_id)),
    );
    store.set_epoch_deadline(1);
    store.epoch_deadline_async_yield_and_update(1);

    let req =
        req.map(|b| b.map_err(|never: Infallible| -> wasmtime_wasi_http::Error { match never {} }));
    let request = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let outparam = store.data_mut().http().new_response_outparam(tx)?;

    let component = component.clone();
    let guest = async move {
        // The instance (and whatever connections it opened) lives as long as this task.
        let _slot = slot;
        let start = Instant::now();
        let proxy = component.pre.instantiate_async(&mut store).await?;
        component
            .ctx
            .metrics
            .instantiated(&component.ctx.id, "http", start.elapsed());
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, request, outparam)
            .await
    };
    // Host calls made by the guest are children of the request's span: its context goes
    // along, when there is one (a guest is polled many times; a bare task saves each
    // poll the context switch).
    let cx = opentelemetry::Context::current();
    let task = if cx.span().span_context().is_sampled() {
        tokio::spawn(guest.with_context(cx))
    } else {
        tokio::spawn(guest)
    };
    // If the client goes away (hyper drops this future, or later the response body), the
    // guest is stopped rather than left burning CPU for nobody, as Spin does.
    let abort = AbortOnDrop(task.abort_handle());

    match rx.await {
        Ok(Ok(resp)) => {
            // The guest may still be writing the body; log a later failure, don't lose it.
            tokio::spawn(async move {
                match task.await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::error!("component failed after sending the response head: {e:?}")
                    }
                    Err(e) if e.is_cancelled() => {}
                    Err(e) => tracing::error!("component task panicked: {e}"),
                }
            });
            Ok(resp.map(|body| {
                AbortOnDropBody {
                    body,
                    _abort: abort,
                }
                .boxed_unsync()
            }))
        }
        Ok(Err(code)) => anyhow::bail!("component returned error code {code:?}"),
        Err(_) => {
            // The outparam was dropped without a response: the guest trapped or returned.
            match task.await {
                Ok(Ok(())) => anyhow::bail!("component returned without setting a response"),
                Ok(Err(e)) => Err(anyhow::Error::from(e).context("component trapped")),
                Err(e) => Err(anyhow::anyhow!("component task panicked: {e}")),
            }
        }
    }
}

/// Aborts the guest's task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A response body that stops the guest when hyper drops it (sent, or client gone).
struct AbortOnDropBody {
    body: HyperOutgoingBody,
    _abort: AbortOnDrop,
}

impl hyper::body::Body for AbortOnDropBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// 503 when no slot freed up within the queue timeout ([`Admission`]): problem details,
/// as the app answers its own errors, with a hint to retry.
fn overloaded() -> Response<HyperOutgoingBody> {
    let body = r#"{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the server is at capacity; retry shortly"}"#;
    let mut resp = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never: Infallible| match never {})
            .boxed_unsync(),
    );
    *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

/// A small runtime-generated response (Spin's health, 404, 413, 500).
fn plain(status: StatusCode, text: &'static str) -> Response<HyperOutgoingBody> {
    let body = Full::new(Bytes::from_static(text.as_bytes()))
        .map_err(|never: Infallible| match never {})
        .boxed_unsync();
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}
