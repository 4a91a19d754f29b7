//! Per-instance state (the `T` of every `wasmtime::Store<T>`) and what builds it.
//!
//! A [`ComponentContext`] is built once per component at load; every request or message then
//! makes a fresh [`InstanceState`] from it, which is the cheap part: a `WasiCtx` with the
//! component's environment and prefixed stdio, an empty resource table, and Spin's host state.

use std::io::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::host::{self, ComponentHostConfig, HostServices, SpinHostState};

/// What every instance of one component shares.
pub struct ComponentContext {
    pub id: Arc<str>,
    /// `[component.x.environment]` then `--env`, in that order (later wins).
    pub env: Vec<(String, String)>,
    pub host_config: Arc<ComponentHostConfig>,
    pub services: Arc<HostServices>,
    /// Keeps epochs advancing while any instance of this component may run: guests only
    /// yield (and can only be cancelled) at epoch deadlines.
    pub ticker: Arc<crate::engine::EpochTicker>,
    /// The app's runtime instruments (instantiation, deliveries).
    pub metrics: Arc<crate::telemetry::RuntimeMetrics>,
}

impl ComponentContext {
    /// A fresh per-instance state; `request_id` (HTTP) labels the guest's output lines.
    pub fn new_state(&self, request_id: Option<Arc<str>>) -> InstanceState {
        let mut wasi = WasiCtx::builder();
        let output = PrefixedOutput {
            id: self.id.clone(),
            request_id,
        };
        wasi.envs(&self.env).stdout(output.clone()).stderr(output);
        InstanceState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks: OutboundHttp {
                cfg: self.host_config.clone(),
                services: self.services.clone(),
            },
            spin: SpinHostState::new(self.host_config.clone(), self.services.clone()),
        }
    }
}

/// The store data of every instance.
pub struct InstanceState {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: OutboundHttp,
    spin: SpinHostState,
}

impl InstanceState {
    fn spin(&mut self) -> &mut SpinHostState {
        &mut self.spin
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// Everything a component may import: WASI 0.2, `wasi:http`, and Spin's `fermyon:spin/*`.
pub fn linker(engine: &wasmtime::Engine) -> anyhow::Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    host::add_to_linker(&mut linker, InstanceState::spin)?;
    Ok(linker)
}

/// `wasi:http/outgoing-handler` policy: Spin's `allowed_outbound_hosts`, then wasmtime's
/// default client, observed like every host call and carrying the trace on.
struct OutboundHttp {
    cfg: Arc<ComponentHostConfig>,
    services: Arc<HostServices>,
}

type SendFuture = Box<
    dyn std::future::Future<
            Output = Result<
                (
                    http::Response<wasmtime_wasi_http::WasiBody>,
                    Box<
                        dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>>
                            + Send,
                    >,
                ),
                wasmtime_wasi_http::Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> SendFuture {
        let url = request.uri().to_string();
        if !self.cfg.allowed_outbound_hosts.allows_url(&url) {
            // As Spin: the guest sees `error-code::http-request-denied`; the operator sees why.
            tracing::warn!(
                component = %self.cfg.component_id,
                "outbound HTTP to {url} denied: not in allowed_outbound_hosts"
            );
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        let _ = fut;
        let services = self.services.clone();
        let cfg = self.cfg.clone();
        let mut request = request;
        let send = async move {
            use http_body_util::BodyExt;
            // Inside the host call's span: the callee's parent is this client span.
            crate::telemetry::inject_current(request.headers_mut());
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                res.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn std::future::Future<Output = _> + Send>,
            ))
        };
        // wasmtime-wasi-http polls this on a task of its own: carry the guest's context
        // (its request's span) over explicitly, or the call would start a trace of its own.
        let parent = opentelemetry::Context::current();
        Box::new(opentelemetry::context::FutureExt::with_context(
            async move {
                services
                    .metrics()
                    .observe(
                        &cfg.component_id,
                        rh_spin_host::observe::Interface::OutboundHttp,
                        "http.send",
                        send,
                    )
                    .await
            },
            parent,
        ))
    }
}

/// Component stdout/stderr: each complete line goes to the runtime's stderr as
/// `[component-id] line` (with `RH_LOG_FORMAT=json`: a JSON log record with the component
/// and the request id), so interleaved output of concurrent instances stays attributable.
#[derive(Clone)]
struct PrefixedOutput {
    id: Arc<str>,
    request_id: Option<Arc<str>>,
}

impl IsTerminal for PrefixedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for PrefixedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LineWriter {
            id: self.id.clone(),
            request_id: self.request_id.clone(),
            pending: Vec::new(),
        })
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        // Only WASI 0.3 guests use this path; they get unprefixed stderr.
        Box::new(tokio::io::stderr())
    }
}

/// Buffers a partial line until its newline (or the stream's end).
struct LineWriter {
    id: Arc<str>,
    request_id: Option<Arc<str>>,
    pending: Vec<u8>,
}

/// Longest partial line kept before it is written out anyway.
const MAX_PENDING: usize = 64 * 1024;

impl LineWriter {
    fn emit(&self, line: &[u8]) {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        match crate::telemetry::logging_format() {
            crate::telemetry::LogFormat::Text => {
                let mut err = std::io::stderr().lock();
                let _ = match &self.request_id {
                    Some(rid) => writeln!(err, "[{}] [{rid}] {line}", self.id),
                    None => writeln!(err, "[{}] {line}", self.id),
                };
            }
            // Through the subscriber, so it is one JSON record like the runtime's own.
            crate::telemetry::LogFormat::Json => tracing::info!(
                target: "guest",
                component = %self.id,
                request_id = self.request_id.as_deref(),
                "{line}"
            ),
        }
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for LineWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.pending.extend_from_slice(&bytes);
        while let Some(pos) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=pos).collect();
            self.emit(&line[..line.len() - 1]);
        }
        if self.pending.len() > MAX_PENDING {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_PENDING)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LineWriter {
    async fn ready(&mut self) {}
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
    }
}
