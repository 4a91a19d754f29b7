//! Host calls as an operator sees them: one span per call (a child of the request's or the
//! message's span, so a trace shows where a request spent its time) and two instruments,
//! `rh_host_calls_total{component,interface,outcome}` and
//! `rh_host_call_duration_seconds{component,interface}`.
//!
//! Labels stay bounded: the component id comes from the manifest, the interface and outcome
//! from the small enums here; never a statement, key or address.

use std::future::Future;
use std::time::Instant;

use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::KeyValue;
use tracing::Instrument as _;

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
    calls: Counter<u64>,
    duration: Histogram<f64>,
}

impl HostMetrics {
    pub fn new(meter: &Meter) -> Self {
        HostMetrics {
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
        let span = tracing::info_span!(
            target: "rh_host_call",
            "host_call",
            otel.name = name,
            otel.kind = "client",
            rh.component = component,
            rh.interface = interface.as_str(),
            otel.status_code = tracing::field::Empty,
        );
        let start = Instant::now();
        let result = call.instrument(span.clone()).await;
        if result.is_err() {
            span.record("otel.status_code", "ERROR");
        }
        self.record(
            component,
            interface,
            result.is_ok(),
            start.elapsed().as_secs_f64(),
        );
        result
    }
}
