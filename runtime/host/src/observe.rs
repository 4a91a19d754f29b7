//! Host calls as an operator sees them: one OpenTelemetry span per call (a child of the
//! request's or the message's span, the current OpenTelemetry context, so a trace shows
//! where a request spent its time) and two instruments,
//! `rh_host_calls_total{component,interface,outcome}` and
//! `rh_host_call_duration_seconds{component,interface}`.
//!
//! Labels stay bounded: the component id comes from the manifest, the interface and outcome
//! from the small enums here; never a statement, key or address.

use std::future::Future;

/// `observed!(self, Interface::X, "x.name", call)`: a guest's host call run through
/// [`HostMetrics::observe`] with its component's id, on a `SpinHostState`. A macro, not a
/// method, because it borrows only `services` and `cfg` while the call holds a resource
/// borrowed from `table`.
macro_rules! observed {
    ($host:ident, $interface:expr, $name:literal, $call:expr) => {
        $host
            .services
            .metrics
            .observe(&$host.cfg.component_id, $interface, $name, $call)
            .await
    };
}
use std::time::Instant;

use opentelemetry::context::FutureExt as _;
use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};

/// Buckets (seconds) for host calls: a Redis round trip on loopback is ~50 µs, a MySQL
/// statement a few ms, an outbound HTTP call or a lock wait up to seconds.
pub const HOST_CALL_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The host interface a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface {
    Mysql,
    Redis,
    OutboundHttp,
    KeyValue,
}

impl Interface {
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Mysql => "mysql",
            Interface::Redis => "redis",
            Interface::OutboundHttp => "outbound_http",
            Interface::KeyValue => "key_value",
        }
    }
}

/// The host-call instruments, shared by every instance.
#[derive(Clone)]
pub struct HostMetrics {
    /// False when nothing reads the meter (see `rh_runtime::telemetry`): skip the labels.
    enabled: bool,
    calls: Counter<u64>,
    duration: Histogram<f64>,
}

impl HostMetrics {
    pub fn new(meter: &Meter, enabled: bool) -> Self {
        HostMetrics {
            enabled,
            calls: meter
                .u64_counter("rh_host_calls")
                .with_description("Host calls made by guests, by interface and outcome")
                .build(),
            duration: meter
                .f64_histogram("rh_host_call_duration")
                .with_unit("s")
                .with_description("How long host calls took, by interface")
                .with_boundaries(HOST_CALL_BUCKETS.to_vec())
                .build(),
        }
    }

    /// Records one finished call.
    pub fn record(&self, component: &str, interface: Interface, ok: bool, seconds: f64) {
        if !self.enabled {
            return;
        }
        let component = KeyValue::new("component", component.to_owned());
        let iface = KeyValue::new("interface", interface.as_str());
        self.duration
            .record(seconds, &[component.clone(), iface.clone()]);
        let outcome = KeyValue::new("outcome", if ok { "ok" } else { "error" });
        self.calls.add(1, &[component, iface, outcome]);
    }

    /// Runs `call` inside a span named `name` (e.g. `mysql.query`) and records it. The
    /// outcome is the guest-visible one: an `Err` the guest receives counts as an error.
    pub async fn observe<T, E>(
        &self,
        component: &str,
        interface: Interface,
        name: &'static str,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let start = Instant::now();
        // A child span only inside a sampled request or message: with traces off (no
        // parent at all) or a request the sampler dropped, the call runs bare.
        let parent = Context::current();
        let result = if parent.span().span_context().is_sampled() {
            let tracer = opentelemetry::global::tracer("rh-runtime");
            let span = tracer
                .span_builder(name)
                .with_kind(SpanKind::Client)
                .with_attributes([
                    KeyValue::new("rh.component", component.to_owned()),
                    KeyValue::new("rh.interface", interface.as_str()),
                ])
                .start_with_context(&tracer, &parent);
            let cx = parent.with_span(span);
            let result = call.with_context(cx.clone()).await;
            let span = cx.span();
            if result.is_err() {
                span.set_status(Status::error("the guest got an error"));
            }
            span.end();
            result
        } else {
            call.await
        };
        self.record(
            component,
            interface,
            result.is_ok(),
            start.elapsed().as_secs_f64(),
        );
        result
    }
}
