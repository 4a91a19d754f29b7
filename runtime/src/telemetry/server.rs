//! The metrics listener: `GET /metrics` in Prometheus' text format, on an address of its
//! own so that the public port never exposes it (a scrape target is an operator's, not a
//! player's). Anything else is 404.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, Response, StatusCode};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::Telemetry;

/// Prometheus' text exposition format, version 0.0.4.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Answers scrapes on `listener` until `shutdown` resolves.
pub async fn serve_metrics(
    listener: TcpListener,
    telemetry: Arc<Telemetry>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("metrics listener: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let telemetry = telemetry.clone();
        let service = hyper::service::service_fn(move |req: http::Request<_>| {
            let telemetry = telemetry.clone();
            async move {
                let resp = if req.uri().path() == "/metrics" && req.method() == http::Method::GET {
                    Response::builder()
                        .header(header::CONTENT_TYPE, CONTENT_TYPE)
                        .body(Full::new(Bytes::from(telemetry.render())))
                } else {
                    Response::builder()
                        .status(StatusCode::NOT_FOUND)
                        .body(Full::new(Bytes::from_static(b"Not Found")))
                };
                Ok::<_, Infallible>(resp.expect("static response parts"))
            }
        });
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!("metrics connection: {e}");
            }
        });
    }
}
