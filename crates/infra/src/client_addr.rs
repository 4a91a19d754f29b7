//! The client's IP address when the app runs behind load balancers.
//!
//! Spin tells a component its TCP peer (`spin-client-addr`). Behind a load balancer
//! (HAProxy in `./scripts/cluster`, an ingress on Kubernetes) that peer is the proxy, so
//! every player would share one register/login rate limit and audit rows would name the
//! proxy. Proxies append the address they saw to `X-Forwarded-For`; a client can put
//! anything in that header itself, so only what trusted proxies added counts. Reading the
//! chain from the right (the peer, then each `X-Forwarded-For` entry from the last), the
//! first address that is not a trusted proxy is the client. With no trusted proxies (the
//! default) the header is ignored and the peer is the client, as before.
//!
//! Trusted proxies come from the variable `trusted_proxies`: addresses or CIDR ranges,
//! comma-separated (`127.0.0.1`, `10.0.0.0/8`, `::1`).

use std::net::{IpAddr, SocketAddr};

/// Addresses whose `X-Forwarded-For` entries are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Trusts nobody: the peer is always the client.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses `a, b/prefix, ...`. Entries that do not parse are returned separately, so
    /// the caller can log them; the valid ones still apply.
    pub fn parse(raw: &str) -> (Self, Vec<String>) {
        let mut nets = Vec::new();
        let mut invalid = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match parse_net(entry) {
                Some(net) => nets.push(net),
                None => invalid.push(entry.to_owned()),
            }
        }
        (Self(nets), invalid)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|&(net, prefix)| in_net(ip, net, prefix))
    }
}

fn parse_net(entry: &str) -> Option<(IpAddr, u8)> {
    let (addr, prefix) = match entry.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
        None => (entry, None),
    };
    let addr = addr.parse::<IpAddr>().ok()?.to_canonical();
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some((addr, prefix))
}

fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// An address as proxies and Spin write it: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:80`.
fn parse_addr(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    raw.parse::<IpAddr>()
        .or_else(|_| raw.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The client's address from the peer (`spin-client-addr`) and every `X-Forwarded-For`
/// header value in order (a proxy may add its own header line rather than extend one).
/// `None` only without a peer. An unparseable peer is returned as it is.
pub fn client_ip(
    peer: Option<&str>,
    forwarded_for: &[&str],
    trusted: &TrustedProxies,
) -> Option<String> {
    let peer_raw = peer?;
    let Some(mut client) = parse_addr(peer_raw) else {
        return Some(peer_raw.to_owned());
    };
    let chain: Vec<&str> = forwarded_for.iter().flat_map(|h| h.split(',')).collect();
    for entry in chain.iter().rev() {
        if !trusted.contains(client) {
            break;
        }
        // A trusted proxy vouches for this entry; garbage there ends the walk at the
        // last address we could read.
        match parse_addr(entry) {
            Some(ip) => client = ip,
            None => break,
        }
    }
    Some(client.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(raw: &str) -> TrustedProxies {
        let (t, invalid) = TrustedProxies::parse(raw);
        assert!(invalid.is_empty(), "{invalid:?}");
        t
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let none = TrustedProxies::none();
        for (peer, xff, want) in [
            ("127.0.0.1:5555", &["10.1.2.3"][..], "127.0.0.1"),
            ("[::1]:80", &[][..], "::1"),
            ("203.0.113.9:1", &["1.1.1.1, 2.2.2.2"][..], "203.0.113.9"),
        ] {
            assert_eq!(client_ip(Some(peer), xff, &none).as_deref(), Some(want));
        }
        assert_eq!(client_ip(None, &["1.1.1.1"], &none), None);
        assert_eq!(client_ip(Some("odd"), &[], &none).as_deref(), Some("odd"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_entry_is_the_client() {
        let lb = trusted("127.0.0.1, 10.0.0.0/8");
        for (peer, xff, want) in [
            // HAProxy appended what it saw.
            ("127.0.0.1:40000", &["198.51.100.7"][..], "198.51.100.7"),
            // A client's own (spoofed) header comes first; the proxy's entry wins.
            (
                "127.0.0.1:40000",
                &["6.6.6.6, 198.51.100.7"][..],
                "198.51.100.7",
            ),
            (
                "127.0.0.1:40000",
                &["6.6.6.6", "198.51.100.7"][..],
                "198.51.100.7",
            ),
            // Two trusted hops (ingress, then HAProxy) are skipped.
            (
                "127.0.0.1:40000",
                &["198.51.100.7, 10.3.4.5"][..],
                "198.51.100.7",
            ),
            // Everything trusted: the furthest hop is the best we know.
            ("127.0.0.1:1", &["10.0.0.2"][..], "10.0.0.2"),
            // No header: the proxy itself.
            ("127.0.0.1:1", &[][..], "127.0.0.1"),
            // Ports and brackets as some proxies write them.
            ("127.0.0.1:1", &["[2001:db8::1]:443"][..], "2001:db8::1"),
            ("127.0.0.1:1", &["198.51.100.7:9"][..], "198.51.100.7"),
            // Garbage vouched for by a trusted proxy: stop at the proxy.
            ("127.0.0.1:1", &["unknown"][..], "127.0.0.1"),
        ] {
            assert_eq!(
                client_ip(Some(peer), xff, &lb).as_deref(),
                Some(want),
                "{peer} {xff:?}"
            );
        }
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let lb = trusted("127.0.0.1");
        assert_eq!(
            client_ip(Some("127.0.0.2:5000"), &["127.0.0.1"], &lb).as_deref(),
            Some("127.0.0.2")
        );
    }

    #[test]
    fn ranges_parse_and_match_and_bad_entries_are_reported() {
        let (t, invalid) =
            TrustedProxies::parse(" 10.0.0.0/8,fd00::/8 , ::ffff:192.0.2.1, 1.2.3.4/33, nope,,");
        assert_eq!(invalid, vec!["1.2.3.4/33".to_owned(), "nope".to_owned()]);
        assert!(t.contains("10.255.0.1".parse().unwrap()));
        assert!(!t.contains("11.0.0.1".parse().unwrap()));
        assert!(t.contains("fd12::1".parse().unwrap()));
        assert!(!t.contains("fe80::1".parse().unwrap()));
        // An IPv4-mapped IPv6 peer is its IPv4 address.
        assert!(t.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(t.contains("192.0.2.1".parse().unwrap()));
        let (all, _) = TrustedProxies::parse("0.0.0.0/0");
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!(!TrustedProxies::none().contains("127.0.0.1".parse().unwrap()));
    }
}
