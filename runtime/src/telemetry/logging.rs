//! The process's `tracing` subscriber (text or JSON lines, plus the OpenTelemetry layer when
//! traces are exported) and request ids.

use std::sync::OnceLock;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::{EnvFilter, Targets};
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

/// The format [`init_logging`] chose (text when it never ran, as in the in-process tests).
pub(crate) fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or_default()
}

/// What [`init_logging`] set up; [`Logging::shutdown`] flushes the spans still queued.
pub struct Logging {
    tracer: Option<SdkTracerProvider>,
}

impl Logging {
    /// Whether spans are exported (OTLP configured).
    pub fn tracing_exported(&self) -> bool {
        self.tracer.is_some()
    }

    pub fn shutdown(self) {
        if let Some(provider) = self.tracer {
            if let Err(e) = provider.shutdown() {
                eprintln!("trace export shutdown: {e}");
            }
        }
    }
}

/// Installs the process's subscriber: `RUST_LOG` (default `info`) picks what is logged;
/// with OTLP configured for traces ([`super::otlp_configured`]), request and host-call
/// spans are exported too, whatever `RUST_LOG` says. Call once, inside the Tokio runtime.
pub fn init_logging(format: LogFormat) -> anyhow::Result<Logging> {
    let _ = FORMAT.set(format);
    // Host-call spans are for traces only: the log never shows them (they hold no events),
    // so leaving them out of its filter means they cost nothing when traces are off.
    let filter = || {
        EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "info,wasmtime=warn,fred=warn".into())
            .add_directive("rh_host_call=off".parse().expect("a valid directive"))
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
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_filter(filter())
            .boxed(),
    };

    let mut tracer = None;
    let otel = if super::otlp_configured("TRACES") {
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
        let layer = tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("rh-runtime"))
            .with_filter(
                Targets::new()
                    .with_target("rh_runtime::request", tracing::Level::INFO)
                    .with_target("rh_runtime::message", tracing::Level::INFO)
                    .with_target("rh_host_call", tracing::Level::INFO),
            );
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        tracer = Some(provider);
        Some(layer)
    } else {
        None
    };
    tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
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
        None => {
            let mut bytes = [0u8; 16];
            if getrandom::fill(&mut bytes).is_err() {
                // No entropy (never on Linux): still unique enough to correlate lines.
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default();
                bytes = nanos.to_le_bytes();
            }
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    }
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
