//! Metrics, traces and logs of rh-runtime, in the formats operators already run.
//!
//! - **Metrics**: one OpenTelemetry meter provider per [`crate::App`] ([`Telemetry`]). A
//!   Prometheus exporter always reads it; [`serve_metrics`] answers `GET /metrics` on a
//!   listener of its own (`--metrics-listen`), never on the public port. When
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`) is set, as
//!   Spin reads them, the same instruments are also pushed over OTLP (HTTP with protobuf,
//!   Spin's default protocol; gRPC and JSON are not built in).
//! - **Traces**: [`init_logging`] (once per process) installs an OpenTelemetry tracer when
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (with
//!   the sampler of `OTEL_TRACES_SAMPLER`). The HTTP trigger opens one span per request
//!   ([`start_span`], its parent taken from the request's `traceparent`), every host call a
//!   child span (the request's span travels as the current OpenTelemetry context), and
//!   outbound HTTP carries the trace on in its own `traceparent`. The spans are made with
//!   the OpenTelemetry API directly, not through `tracing`: a request the sampler drops
//!   then costs next to nothing, and with traces off nothing at all.
//! - **Logs**: text, or JSON lines with `RH_LOG_FORMAT=json`; every request has an id
//!   (`X-Request-Id` from the client, else generated) that is in its log lines, its
//!   component's output lines and its response.
//!
//! Instrument names and labels: [`instruments`], `rh_spin_host::observe`; the reference
//! table is in docs/operations.md.

pub mod instruments;
mod logging;
mod server;

use std::sync::Arc;

use anyhow::Context as _;
use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::trace::{Span as _, SpanKind, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::Resource;

pub use instruments::RuntimeMetrics;
pub(crate) use logging::format as logging_format;
pub use logging::{init_logging, request_id, traces_exported, LogFormat, Logging};
pub use server::serve_metrics;

/// Whether the OpenTelemetry environment asks for an OTLP export of `signal` ("TRACES",
/// "METRICS"): the per-signal endpoint, else the common one, as Spin and the SDKs read them.
pub fn otlp_configured(signal: &str) -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    set(&format!("OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")) || set("OTEL_EXPORTER_OTLP_ENDPOINT")
}

/// The resource every signal carries: `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` when
/// set, else `service.name = rh-runtime`.
pub(crate) fn resource() -> Resource {
    let builder = Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").is_ok() {
        builder.build()
    } else {
        builder.with_service_name("rh-runtime").build()
    }
}

/// One app's meter provider, its Prometheus registry and the runtime's instruments.
pub struct Telemetry {
    provider: SdkMeterProvider,
    prometheus: bool,
    otlp: bool,
    registry: prometheus::Registry,
    meter: Meter,
    runtime: Arc<RuntimeMetrics>,
}

impl Telemetry {
    /// `prometheus`: keep the instruments for [`Telemetry::render`] (a metrics listener);
    /// `otlp`: also push them over OTLP (see [`otlp_configured`]; needs a Tokio runtime, as
    /// the exporter's HTTP client is hyper on it). With neither, the provider has no reader
    /// and the SDK hands out no-op instruments: an operator who exports nothing pays
    /// (almost) nothing for them.
    pub fn new(prometheus: bool, otlp: bool) -> anyhow::Result<Telemetry> {
        let registry = prometheus::Registry::new();
        let mut builder = SdkMeterProvider::builder().with_resource(resource());
        if prometheus {
            // Scope and target info would add a label to every series and a `target_info`
            // series; the resource is what OTLP carries, Prometheus adds job/instance.
            let exporter = opentelemetry_prometheus::exporter()
                .with_registry(registry.clone())
                .without_target_info()
                .scope_info_enabled(false)
                .build()
                .context("creating the Prometheus exporter")?;
            builder = builder.with_reader(exporter);
        }
        if otlp {
            // Endpoint, headers, timeout and temporality come from the OTEL_* variables.
            let exporter = opentelemetry_otlp::MetricExporter::builder()
                .with_http()
                .build()
                .context("creating the OTLP metric exporter")?;
            let reader =
                opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader::builder(
                    exporter,
                    opentelemetry_sdk::runtime::Tokio,
                )
                .build();
            builder = builder.with_reader(reader);
        }
        let provider = builder.build();
        let meter = provider.meter("rh-runtime");
        let runtime = Arc::new(RuntimeMetrics::new(&meter, prometheus || otlp));
        Ok(Telemetry {
            provider,
            prometheus,
            otlp,
            registry,
            meter,
            runtime,
        })
    }

    /// Whether any reader takes the metrics (a Prometheus listener or OTLP).
    pub fn recording(&self) -> bool {
        self.prometheus || self.otlp
    }

    /// Whether [`Telemetry::render`] has anything to render.
    pub fn prometheus(&self) -> bool {
        self.prometheus
    }

    /// Where host services record their calls.
    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    pub fn runtime(&self) -> &Arc<RuntimeMetrics> {
        &self.runtime
    }

    /// Every instrument in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        use prometheus::Encoder as _;
        let mut out = Vec::new();
        let encoder = prometheus::TextEncoder::new();
        if let Err(e) = encoder.encode(&self.registry.gather(), &mut out) {
            tracing::warn!("encoding metrics: {e}");
        }
        String::from_utf8(out).unwrap_or_default()
    }

    /// Pushes what is left over OTLP (if configured) and stops the exporters.
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::debug!("metrics shutdown: {e}");
        }
    }
}

/// The caller's trace when the request carries a W3C `traceparent` and traces are
/// exported; else an empty context (the span made under it starts a trace).
pub fn remote_parent(headers: &http::HeaderMap) -> Context {
    if !traces_exported() || !headers.contains_key("traceparent") {
        return Context::new();
    }
    opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)))
}

/// Starts the span of one request or message under `parent` and returns the context that
/// holds it: run the work `.with_context(cx)`, and its host calls become the span's
/// children. With traces off this is an empty context and costs nothing: the name and
/// the attributes are not even built.
pub fn start_span(
    parent: &Context,
    kind: SpanKind,
    name: impl FnOnce() -> String,
    attributes: impl FnOnce() -> Vec<KeyValue>,
) -> Context {
    let Some(tracer) = logging::tracer() else {
        return Context::new();
    };
    let mut span = tracer
        .span_builder(name())
        .with_kind(kind)
        .start_with_context(tracer, parent);
    // Only a span the sampler kept is worth its attributes.
    if span.is_recording() {
        span.set_attributes(attributes());
    }
    parent.with_span(span)
}

/// Adds the current context's `traceparent` (and `tracestate`) to an outgoing request, so
/// the service called joins the trace. A no-op unless traces are exported.
pub fn inject_current(headers: &mut http::HeaderMap) {
    if !traces_exported() {
        return;
    }
    let cx = Context::current();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut HeaderInjector(headers))
    });
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl opentelemetry::propagation::Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Reads one sample back from a Prometheus text exposition: the value of the series named
/// `name` whose labels include every `(label, value)` in `labels`, summed over the series
/// that match (so a subset of labels adds up the rest). `None` if no series matches. For
/// tests and benchmark scripts that check what a scrape says.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut total = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = match line.rsplit_once(' ') {
            Some(pair) => pair,
            None => continue,
        };
        let (series_name, series_labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        if series_name != name {
            continue;
        }
        let matches = labels.iter().all(|(k, v)| {
            series_labels
                .split(',')
                .any(|pair| pair == format!("{k}=\"{v}\""))
        });
        if let (true, Ok(v)) = (matches, value.parse::<f64>()) {
            *total.get_or_insert(0.0) += v;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sample_is_read_back_by_name_and_label_subset() {
        let text =
            "# HELP x\nrh_x_total{a=\"1\",b=\"2\"} 3\nrh_x_total{a=\"1\",b=\"3\"} 4\nrh_y 7\n";
        assert_eq!(super::sample(text, "rh_x_total", &[("a", "1")]), Some(7.0));
        assert_eq!(super::sample(text, "rh_x_total", &[("b", "3")]), Some(4.0));
        assert_eq!(super::sample(text, "rh_y", &[]), Some(7.0));
        assert_eq!(super::sample(text, "rh_x_total", &[("a", "2")]), None);
    }
}
