//! The process's `tracing` subscriber (text or JSON lines), the OpenTelemetry tracer when
//! traces are exported, and request ids.

use std::sync::OnceLock;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::{filter_fn, EnvFilter, FilterExt as _, LevelFilter};
use tracing_subscriber::layer::Filter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default; colours on a terminal).
    #[default]
    Text,
    /// One JSON object per line (`RH_LOG_FORMAT=json`), for a log pipeline.
    Json,
}

impl LogFormat {
    /// `RH_LOG_FORMAT`: `json`, else text.
    pub fn from_env() -> LogFormat {
        match std::env::var("RH_LOG_FORMAT") {
            Ok(v) if v.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();
static TRACER: OnceLock<opentelemetry_sdk::trace::SdkTracer> = OnceLock::new();

/// The process's tracer, when [`init_logging`] found OTLP configured for traces.
pub(crate) fn tracer() -> Option<&'static opentelemetry_sdk::trace::SdkTracer> {
    TRACER.get()
}

/// Whether this process exports spans: without it no span is built, so nothing needs to
/// prepare one.
pub fn traces_exported() -> bool {
    TRACER.get().is_some()
}

/// The format [`init_logging`] chose (text when it never ran, as in the in-process tests).
pub(crate) fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or_default()
}

/// What [`init_logging`] set up; [`Logging::shutdown`] flushes the spans still queued.
pub struct Logging {
    tracer: Option<SdkTracerProvider>,
}

impl Logging {
    pub fn shutdown(self) {
        if let Some(provider) = self.tracer {
            if let Err(e) = provider.shutdown() {
                eprintln!("trace export shutdown: {e}");
            }
        }
    }
}

/// Installs the process's subscriber: `RUST_LOG` (default `info`) picks what is logged;
/// with OTLP configured for traces ([`super::otlp_configured`]), it also installs the
/// OpenTelemetry tracer (global, with the W3C propagator) that request, message and
/// host-call spans are made with, whatever `RUST_LOG` says. Call once, inside the Tokio runtime.
pub fn init_logging(format: LogFormat) -> anyhow::Result<Logging> {
    let _ = FORMAT.set(format);
    // The log takes events alone, and each request's line carries its own request id. A
    // `tracing` span (a dependency's) the log layer saw would cost a formatted copy of its
    // fields and lengthen every line inside it; the runtime's own spans are OpenTelemetry
    // spans and never reach this subscriber.
    let filter = || {
        let env = EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "info,wasmtime=warn,fred=warn".into());
        // The combined filter keeps EnvFilter's level hint: without one, `log` records of
        // every level from the dependencies would be built and dispatched only to be
        // dropped (a fifth of a trivial route's throughput).
        let hint = Filter::<tracing_subscriber::Registry>::max_level_hint(&env)
            .unwrap_or(LevelFilter::TRACE);
        env.and(filter_fn(|meta| meta.is_event()).with_max_level_hint(hint))
    };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .with_filter(filter())
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_filter(filter())
            .boxed(),
    };

    let mut tracer = None;
    if super::otlp_configured("TRACES") {
        // Endpoint, headers, timeout and the sampler (OTEL_TRACES_SAMPLER) come from the
        // OTEL_* variables, as Spin reads them.
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .context("creating the OTLP span exporter")?;
        let processor =
            opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor::builder(
                exporter,
                opentelemetry_sdk::runtime::Tokio,
            )
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_resource(super::resource())
            .build();
        // Global, as the host crate's host-call spans find it there.
        opentelemetry::global::set_tracer_provider(provider.clone());
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let _ = TRACER.set(provider.tracer("rh-runtime"));
        tracer = Some(provider);
    }
    tracing_subscriber::registry()
        .with(fmt)
        .try_init()
        .context("installing the log subscriber")?;
    Ok(Logging { tracer })
}

/// The longest `X-Request-Id` taken from a client; a longer or odd one is replaced.
const MAX_REQUEST_ID: usize = 128;

/// The request's id: the client's `X-Request-Id` when it is 1–128 visible ASCII characters
/// without spaces or quotes (so it is safe in a header, a log line and JSON), else a fresh
/// random one (32 hex digits).
pub fn request_id(headers: &http::HeaderMap) -> String {
    let given = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= MAX_REQUEST_ID
                && v.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        });
    match given {
        Some(id) => id.to_string(),
        None => fresh_request_id(),
    }
}

/// 32 hex digits: a random per-process half and a counter scrambled by SplitMix64, so ids
/// are unique across processes and restarts without a system call per request. They
/// correlate log lines; nothing relies on them being unpredictable.
fn fresh_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static PROCESS: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let process = *PROCESS.get_or_init(|| {
        let mut bytes = [0u8; 8];
        if getrandom::fill(&mut bytes).is_err() {
            // No entropy (never on Linux): the start time still tells processes apart.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or_default();
            bytes = nanos.to_le_bytes();
        }
        u64::from_le_bytes(bytes)
    });
    let mut z = COUNTER
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_add(process)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    format!("{process:016x}{z:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(id: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert("x-request-id", id.parse().unwrap());
        h
    }

    #[test]
    fn a_clean_client_id_is_kept_and_anything_else_replaced() {
        assert_eq!(request_id(&headers("abc-123_x.y:z")), "abc-123_x.y:z");
        let fresh = request_id(&http::HeaderMap::new());
        assert_eq!(fresh.len(), 32);
        assert!(fresh.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(fresh, request_id(&http::HeaderMap::new()));
        for bad in ["has space", "quo\"te", &"x".repeat(129)] {
            assert_ne!(request_id(&headers(bad)), bad, "{bad:?}");
        }
    }
}
