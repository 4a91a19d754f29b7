//! What an operator scrapes from a sidecar (`--metrics-listen`, `GET /metrics`, Prometheus
//! text): connections, subscriptions by kind of channel, fan-out latency, slow-consumer
//! closes, Redis reconnects and refused tokens.
//!
//! Every label is bounded: channel kinds are the protocol's prefixes (`rankings`, `user`,
//! ...), refusal reasons the protocol's error codes; never a channel name or a user id.
//! Subscriptions are counted at scrape time from the registry, so the fan-out's hot path
//! pays only for the histogram.

use prometheus::{
    Encoder as _, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts,
};

/// Fan-out buckets (seconds): one event to a few clients takes µs, to 10,000 tens of ms.
const FANOUT_BUCKETS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

pub struct Metrics {
    registry: prometheus::Registry,
    pub open_connections: IntGauge,
    pub fanout: Histogram,
    pub slow_consumer_closes: IntCounter,
    pub redis_reconnects: IntCounter,
    auth_refusals: IntCounterVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = prometheus::Registry::new();
        let open_connections = IntGauge::new(
            "rh_sidecar_open_connections",
            "WebSocket connections open (authenticated or not yet)",
        )
        .expect("valid metric");
        let fanout = Histogram::with_opts(
            HistogramOpts::new(
                "rh_sidecar_fanout_duration_seconds",
                "From a Redis message's arrival to its last direct write (slower clients get it queued)",
            )
            .buckets(FANOUT_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        let slow_consumer_closes = IntCounter::new(
            "rh_sidecar_slow_consumer_closes_total",
            "Connections closed with 1013 because their queue overflowed",
        )
        .expect("valid metric");
        let redis_reconnects = IntCounter::new(
            "rh_sidecar_redis_reconnects_total",
            "Times the Redis subscription was lost and retried",
        )
        .expect("valid metric");
        let auth_refusals = IntCounterVec::new(
            Opts::new(
                "rh_sidecar_auth_refusals_total",
                "Connections refused at authentication, by reason",
            ),
            &["reason"],
        )
        .expect("valid metric");
        for c in [
            Box::new(open_connections.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(fanout.clone()),
            Box::new(slow_consumer_closes.clone()),
            Box::new(redis_reconnects.clone()),
            Box::new(auth_refusals.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Metrics {
            registry,
            open_connections,
            fanout,
            slow_consumer_closes,
            redis_reconnects,
            auth_refusals,
        }
    }

    /// A connection refused at authentication, by the protocol's error code.
    pub fn auth_refused(&self, reason: &str) {
        self.auth_refusals.with_label_values(&[reason]).inc();
    }

    /// Everything, plus `rh_sidecar_subscriptions{channel_kind}` from `subscriptions`.
    pub fn render(&self, subscriptions: &[(String, usize)]) -> String {
        let mut families = self.registry.gather();
        let gauge = prometheus::IntGaugeVec::new(
            Opts::new(
                "rh_sidecar_subscriptions",
                "Channel subscriptions held, by kind of channel",
            ),
            &["channel_kind"],
        )
        .expect("valid metric");
        for (kind, n) in subscriptions {
            gauge.with_label_values(&[kind]).set(*n as i64);
        }
        families.extend(prometheus::core::Collector::collect(&gauge));
        let mut out = Vec::new();
        if let Err(e) = prometheus::TextEncoder::new().encode(&families, &mut out) {
            tracing::warn!(error = %e, "encoding metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The kind of a Redis channel: its prefix before the first `:` (`rankings:1v1` →
/// `rankings`), which the protocol keeps to a handful.
pub fn channel_kind(redis_channel: &str) -> &str {
    redis_channel
        .split_once(':')
        .map_or(redis_channel, |(kind, _)| kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_with_subscriptions_by_kind() {
        let m = Metrics::new();
        m.open_connections.inc();
        m.auth_refused("invalid_token");
        m.fanout.observe(0.002);
        let text = m.render(&[("rankings".into(), 3), ("user".into(), 1)]);
        assert!(text.contains("rh_sidecar_open_connections 1"), "{text}");
        assert!(text.contains(r#"rh_sidecar_auth_refusals_total{reason="invalid_token"} 1"#));
        assert!(text.contains("rh_sidecar_fanout_duration_seconds_count 1"));
        assert!(text.contains(r#"rh_sidecar_subscriptions{channel_kind="rankings"} 3"#));
        assert!(text.contains("rh_sidecar_slow_consumer_closes_total 0"));
        assert_eq!(channel_kind("rankings:1v1"), "rankings");
        assert_eq!(channel_kind("feed"), "feed");
    }
}
