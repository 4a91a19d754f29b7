//! The runtime's own instruments (the host calls' are in `rh_spin_host::observe`).
//!
//! OpenTelemetry names; the Prometheus exporter appends `_total` to counters and the unit
//! (`_seconds`) to histograms, so `rh_http_requests` is scraped as `rh_http_requests_total`.
//! Every label is bounded: route templates from the manifest (never the request path),
//! component ids, a status class, a method from a fixed set.

use std::time::Duration;

use opentelemetry::metrics::{Counter, Histogram, Meter, UpDownCounter};
use opentelemetry::KeyValue;

/// Request latency buckets (seconds): from a cached read (~1 ms) to the 10 s a stuck MySQL
/// statement may take before it fails.
pub const REQUEST_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Instantiation buckets (seconds): a pre-instantiated component takes tens of µs.
pub const INSTANTIATE_BUCKETS: &[f64] = &[
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05,
];

/// What the HTTP trigger, the admission queue and the Redis trigger record.
pub struct RuntimeMetrics {
    /// False when nothing reads the meter: the instruments would be no-ops, so the calls
    /// skip building their labels too.
    enabled: bool,
    requests: Counter<u64>,
    request_duration: Histogram<f64>,
    instantiate: Histogram<f64>,
    in_flight: UpDownCounter<i64>,
    waiting: UpDownCounter<i64>,
    admission_wait: Histogram<f64>,
    rejected: Counter<u64>,
    deliveries: Counter<u64>,
}

/// Who answered a request: a component on a manifest route, or the runtime itself (404
/// without a route, Spin's well-known paths, 413 before any instance).
pub struct RouteLabels<'a> {
    pub component: &'a str,
    pub route: &'a str,
}

impl RouteLabels<'static> {
    pub const RUNTIME: RouteLabels<'static> = RouteLabels {
        component: "-",
        route: "-",
    };
}

impl RuntimeMetrics {
    pub fn new(meter: &Meter, enabled: bool) -> Self {
        RuntimeMetrics {
            enabled,
            requests: meter
                .u64_counter("rh_http_requests")
                .with_description(
                    "HTTP requests served, by component, route, method and status class",
                )
                .build(),
            request_duration: meter
                .f64_histogram("rh_http_request_duration")
                .with_unit("s")
                .with_description("Time from the request's arrival to its response head")
                .with_boundaries(REQUEST_BUCKETS.to_vec())
                .build(),
            instantiate: meter
                .f64_histogram("rh_instance_instantiate_duration")
                .with_unit("s")
                .with_description("Time to instantiate a component for one request or message")
                .with_boundaries(INSTANTIATE_BUCKETS.to_vec())
                .build(),
            in_flight: meter
                .i64_up_down_counter("rh_admission_in_flight")
                .with_description("Requests holding an admission slot")
                .build(),
            waiting: meter
                .i64_up_down_counter("rh_admission_waiting")
                .with_description("Requests waiting for an admission slot")
                .build(),
            admission_wait: meter
                .f64_histogram("rh_admission_wait_duration")
                .with_unit("s")
                .with_description("Time requests waited for an admission slot (admitted or not)")
                .with_boundaries(REQUEST_BUCKETS.to_vec())
                .build(),
            rejected: meter
                .u64_counter("rh_admission_rejected")
                .with_description("Requests answered 503 because no slot freed up in time")
                .build(),
            deliveries: meter
                .u64_counter("rh_redis_trigger_deliveries")
                .with_description("Redis messages handed to a component, by outcome")
                .build(),
        }
    }

    /// One finished request (its response head is ready).
    pub fn request(&self, at: RouteLabels<'_>, method: &http::Method, status: u16, took: Duration) {
        if !self.enabled {
            return;
        }
        let component = KeyValue::new("component", at.component.to_owned());
        let route = KeyValue::new("route", at.route.to_owned());
        self.request_duration
            .record(took.as_secs_f64(), &[component.clone(), route.clone()]);
        self.requests.add(
            1,
            &[
                component,
                route,
                KeyValue::new("method", method_label(method)),
                KeyValue::new("status_class", status_class(status)),
            ],
        );
    }

    pub fn instantiated(&self, component: &str, trigger: &'static str, took: Duration) {
        if !self.enabled {
            return;
        }
        self.instantiate.record(
            took.as_secs_f64(),
            &[
                KeyValue::new("component", component.to_owned()),
                KeyValue::new("trigger", trigger),
            ],
        );
    }

    /// A request starts waiting for a slot; the returned guard counts it as waiting until
    /// it is admitted or refused.
    pub fn waiting(&self) -> Waiting<'_> {
        if self.enabled {
            self.waiting.add(1, &[]);
        }
        Waiting {
            metrics: self,
            start: std::time::Instant::now(),
        }
    }

    pub fn slot_taken(&self) {
        if self.enabled {
            self.in_flight.add(1, &[]);
        }
    }

    pub fn slot_freed(&self) {
        if self.enabled {
            self.in_flight.add(-1, &[]);
        }
    }

    pub fn delivery(&self, component: &str, channel: &str, ok: bool) {
        if !self.enabled {
            return;
        }
        self.deliveries.add(
            1,
            &[
                KeyValue::new("component", component.to_owned()),
                KeyValue::new("channel", channel.to_owned()),
                KeyValue::new("outcome", if ok { "ok" } else { "error" }),
            ],
        );
    }
}

/// A request waiting for an admission slot (see [`RuntimeMetrics::waiting`]).
pub struct Waiting<'a> {
    metrics: &'a RuntimeMetrics,
    start: std::time::Instant,
}

impl Waiting<'_> {
    /// It got a slot (`true`) or timed out and gets a 503 (`false`).
    pub fn done(self, admitted: bool) {
        let m = self.metrics;
        if !m.enabled {
            return;
        }
        m.admission_wait
            .record(self.start.elapsed().as_secs_f64(), &[]);
        if !admitted {
            m.rejected.add(1, &[]);
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        // Also when the client went away while waiting (hyper dropped the future).
        if self.metrics.enabled {
            self.metrics.waiting.add(-1, &[]);
        }
    }
}

/// Spin's trigger accepts any method; the label keeps the common ones and folds the rest.
fn method_label(m: &http::Method) -> &'static str {
    match *m {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_in_small_fixed_sets() {
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(method_label(&http::Method::GET), "GET");
        let odd = http::Method::from_bytes(b"PROPFIND").unwrap();
        assert_eq!(method_label(&odd), "other");
    }
}
