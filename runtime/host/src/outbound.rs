//! Spin's `allowed_outbound_hosts` rules: which addresses a component may connect to.
//!
//! An entry is `scheme://host[:port]`:
//! - `scheme` is a name (`mysql`, `redis`, `http`, `https`, ...) or `*`;
//! - `host` is a name, `*`, `*.example.com` (any subdomain), an IP address or CIDR block
//!   (`10.0.0.0/8`), or `self` (the app itself: allows relative URLs only);
//! - `port` is a number, a range `a..b` (end excluded), or `*`; when omitted, the scheme's
//!   well-known port (mysql 3306, redis 6379, http 80, https 443, ...) and an entry whose
//!   scheme has none is refused.
//!
//! A URL is allowed when any entry matches its scheme, host and port (an absent port in the
//! URL means the scheme's well-known one). Malformed entries are refused at start-up so a
//! typo never silently denies (or allows) traffic. Spin behaves the same way
//! (`spin-outbound-networking-config`); this is our own implementation of those rules.

use std::fmt;
use std::net::IpAddr;

use anyhow::{bail, Context as _};

/// The parsed `allowed_outbound_hosts` of one component (after template expansion).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    entries: Vec<AllowedHost>,
}

impl AllowedHosts {
    /// Parses every entry; the first malformed one fails the whole list, naming it.
    pub fn parse(entries: &[String]) -> anyhow::Result<Self> {
        if entries.len() == 1 && entries[0] == "insecure:allow-all" {
            bail!(
                "'insecure:allow-all' is not allowed: use '*://*:*' to allow all outbound traffic"
            );
        }
        let entries = entries
            .iter()
            .map(|e| {
                AllowedHost::parse(e)
                    .with_context(|| format!("invalid allowed_outbound_hosts entry {e:?}"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { entries })
    }

    /// True when the absolute `url` (its own scheme decides) is allowed.
    /// A URL that cannot be parsed or has no host is never allowed.
    pub fn allows_url(&self, url: &str) -> bool {
        match OutboundUrl::parse(url, None) {
            Ok(url) => self.allows(&url),
            Err(_) => false,
        }
    }

    /// Like [`allows_url`](Self::allows_url), for an address that may lack its scheme
    /// (`127.0.0.1:3306`): `default_scheme` is assumed then, as Spin does for database addresses.
    pub fn allows_address(&self, address: &str, default_scheme: &str) -> bool {
        match OutboundUrl::parse(address, Some(default_scheme)) {
            Ok(url) => self.allows(&url),
            Err(_) => false,
        }
    }

    /// True when some entry allows relative URLs (requests to the app itself) for one of
    /// `schemes`: an entry whose host is `self` or `*`.
    pub fn allows_relative(&self, schemes: &[&str]) -> bool {
        self.entries.iter().any(|e| {
            schemes.iter().any(|s| e.scheme.allows(s))
                && matches!(e.host, HostRule::Any | HostRule::ToSelf)
        })
    }

    fn allows(&self, url: &OutboundUrl) -> bool {
        self.entries.iter().any(|e| e.allows(url))
    }
}

/// One `scheme://host[:port]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    scheme: SchemeRule,
    host: HostRule,
    port: PortRule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemeRule {
    Any,
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    Any,
    /// `*.example.com`, stored as `.example.com`.
    Subdomain(String),
    /// `self`: only relative URLs (the app itself), never an absolute host.
    ToSelf,
    Exact(String),
    Cidr(Cidr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortRule {
    Any,
    Exact(u16),
    /// `start..end`, end excluded.
    Range(u16, u16),
}

impl AllowedHost {
    fn parse(entry: &str) -> anyhow::Result<Self> {
        let entry = entry.trim();
        let Some((scheme, rest)) = entry.split_once("://") else {
            if matches!(entry, "*" | "" | ":" | "?") {
                bail!("hosts must be in the form <scheme>://<host>[:<port>], with '*' wildcards allowed for each (use '*://*:*' to allow everything)");
            }
            bail!("no scheme (such as 'http://', 'mysql://' or '*://')");
        };
        // Split the port off the last ':'. IPv6 literals are written as CIDR blocks
        // (`[::1]` is not supported by Spin either).
        let (host, port) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match port.split_once('/') {
            Some((_, path)) if !path.is_empty() => bail!("a path is not allowed"),
            Some((port, _)) => port,
            None => port,
        };
        Ok(Self {
            scheme: SchemeRule::parse(scheme)?,
            host: HostRule::parse(host)?,
            port: PortRule::parse(port, scheme)?,
        })
    }

    fn allows(&self, url: &OutboundUrl) -> bool {
        self.scheme.allows(&url.scheme)
            && self.host.allows(&url.host)
            && self.port.allows(url.port, &url.scheme)
    }
}

impl SchemeRule {
    fn parse(scheme: &str) -> anyhow::Result<Self> {
        if scheme == "*" {
            return Ok(Self::Any);
        }
        if scheme.starts_with('{') {
            bail!("scheme lists are not supported");
        }
        if scheme.is_empty() || !scheme.chars().all(char::is_alphabetic) {
            bail!("scheme {scheme:?} must be alphabetic or '*'");
        }
        Ok(Self::Exact(scheme.to_owned()))
    }

    fn allows(&self, scheme: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(s) => s == scheme,
        }
    }
}

impl HostRule {
    fn parse(host: &str) -> anyhow::Result<Self> {
        let host = host.trim();
        match host {
            "*" => return Ok(Self::Any),
            "self" | "self.alt" => return Ok(Self::ToSelf),
            "" => bail!("the host is empty"),
            _ => {}
        }
        if host.starts_with('{') {
            bail!("host lists are not supported");
        }
        if let Some(cidr) = Cidr::parse(host) {
            return Ok(Self::Cidr(cidr));
        }
        if matches!(host.split_once('/'), Some((_, path)) if !path.is_empty()) {
            bail!("a host must not contain a path");
        }
        if let Some(domain) = host.strip_prefix("*.") {
            if domain.contains('*') {
                bail!("wildcards are allowed only as a leading '*.'");
            }
            return Ok(Self::Subdomain(format!(".{domain}")));
        }
        if host.contains('*') {
            bail!("wildcards are allowed only as a leading '*.'");
        }
        Ok(Self::Exact(host.trim_end_matches('/').to_owned()))
    }

    fn allows(&self, host: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Subdomain(suffix) => host.ends_with(suffix.as_str()),
            Self::ToSelf => false,
            Self::Exact(h) => h == host,
            Self::Cidr(c) => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| c.contains(ip)),
        }
    }
}

impl PortRule {
    fn parse(port: &str, scheme: &str) -> anyhow::Result<Self> {
        if port.is_empty() {
            return well_known_port(scheme).map(Self::Exact).with_context(|| {
                format!("no port was given and the scheme {scheme:?} has no well-known port")
            });
        }
        if port == "*" {
            return Ok(Self::Any);
        }
        if port.starts_with('{') {
            bail!("port lists are not supported");
        }
        if let Some((start, end)) = port.split_once("..") {
            let number = |s: &str| {
                s.parse::<u16>()
                    .with_context(|| format!("port range {port:?} contains a non-number"))
            };
            return Ok(Self::Range(number(start)?, number(end)?));
        }
        port.parse()
            .map(Self::Exact)
            .with_context(|| format!("port {port:?} is not a number"))
    }

    fn allows(&self, port: Option<u16>, scheme: &str) -> bool {
        let Some(port) = port.or_else(|| well_known_port(scheme)) else {
            return matches!(self, Self::Any);
        };
        match self {
            Self::Any => true,
            Self::Exact(p) => *p == port,
            Self::Range(start, end) => (*start..*end).contains(&port),
        }
    }
}

fn well_known_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "postgres" => 5432,
        "mysql" => 3306,
        "redis" => 6379,
        "mqtt" => 1883,
        "http" => 80,
        "https" => 443,
        _ => return None,
    })
}

/// An IP network: an address with a prefix length (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(s: &str) -> Option<Self> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Self { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
            if prefix == 0 {
                0
            } else {
                bits >> (width - prefix)
            }
        }
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), self.prefix, 32)
                    == masked(u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// The parts of an outbound address that the rules look at.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OutboundUrl {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl OutboundUrl {
    /// Parses `address`; when it does not parse as a URL with a host and `default_scheme` is
    /// given, `default_scheme://` is put in front and it is tried again.
    fn parse(address: &str, default_scheme: Option<&str>) -> anyhow::Result<Self> {
        // Parsed exactly as the connectors (mysql_async, fred, hyper via `url`/`http`) parse
        // it, so the host checked here is the host they connect to.
        let parsed = match url::Url::parse(address) {
            Ok(url) if url.has_host() => url,
            first => match default_scheme.map(|s| url::Url::parse(&format!("{s}://{address}"))) {
                Some(Ok(url)) => url,
                _ => {
                    first?;
                    bail!("{address:?} has no host");
                }
            },
        };
        Ok(Self {
            scheme: parsed.scheme().to_owned(),
            host: parsed.host_str().context("no host")?.to_owned(),
            port: parsed.port(),
        })
    }
}

impl fmt::Display for OutboundUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}://{}:{p}", self.scheme, self.host),
            None => write!(f, "{}://{}", self.scheme, self.host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn refused(entry: &str) -> String {
        format!(
            "{:#}",
            AllowedHosts::parse(&[entry.to_string()]).unwrap_err()
        )
    }

    #[test]
    fn an_omitted_port_means_the_schemes_well_known_port() {
        let h = hosts(&[
            "mysql://127.0.0.1",
            "redis://localhost",
            "https://example.com",
        ]);
        assert!(h.allows_url("mysql://user:pw@127.0.0.1/db"));
        assert!(h.allows_url("mysql://user:pw@127.0.0.1:3306/db"));
        assert!(!h.allows_url("mysql://user:pw@127.0.0.1:3307/db"));
        assert!(h.allows_url("redis://localhost:6379/1"));
        assert!(!h.allows_url("redis://localhost:6380"));
        assert!(h.allows_url("https://example.com/path?q=1"));
        assert!(!h.allows_url("http://example.com/"));
    }

    #[test]
    fn the_scheme_must_match_unless_it_is_a_wildcard() {
        let h = hosts(&["mysql://127.0.0.1:3306"]);
        assert!(!h.allows_url("redis://127.0.0.1:3306"));
        let any = hosts(&["*://127.0.0.1:3306"]);
        assert!(any.allows_url("redis://127.0.0.1:3306"));
        assert!(any.allows_url("mysql://127.0.0.1:3306"));
        assert!(!any.allows_url("mysql://127.0.0.1:3307"));
    }

    #[test]
    fn wildcard_hosts_and_ports() {
        let h = hosts(&["*://localhost:*", "http://*.example.com", "https://*:8443"]);
        assert!(h.allows_url("mysql://localhost:1234/x"));
        assert!(h.allows_url("redis://localhost"));
        assert!(h.allows_url("http://api.example.com/"));
        assert!(!h.allows_url("http://example.com/"));
        assert!(h.allows_url("https://anything.test:8443/"));
        assert!(!h.allows_url("https://anything.test/"));
        assert!(hosts(&["*://*:*"]).allows_url("mqtt://10.1.2.3:99"));
    }

    #[test]
    fn port_ranges_exclude_their_end() {
        let h = hosts(&["redis://127.0.0.1:6379..6381"]);
        assert!(h.allows_url("redis://127.0.0.1:6379"));
        assert!(h.allows_url("redis://127.0.0.1:6380"));
        assert!(!h.allows_url("redis://127.0.0.1:6381"));
    }

    #[test]
    fn cidr_blocks_match_ip_hosts_only() {
        let h = hosts(&["mysql://10.0.0.0/8:3306", "*://::1/128:*"]);
        assert!(h.allows_url("mysql://10.20.30.40/db"));
        assert!(!h.allows_url("mysql://11.0.0.1/db"));
        assert!(!h.allows_url("mysql://ten.example/db"));
        assert!(h.allows_url("http://[::1]:8080/"));
    }

    #[test]
    fn self_allows_only_relative_urls() {
        let h = hosts(&["http://self"]);
        assert!(h.allows_relative(&["http"]));
        assert!(!h.allows_relative(&["https"]));
        assert!(!h.allows_url("http://self/"));
        assert!(!hosts(&["http://example.com"]).allows_relative(&["http"]));
    }

    #[test]
    fn an_empty_list_allows_nothing() {
        let h = hosts(&[]);
        assert!(!h.allows_url("http://localhost/"));
        assert!(!h.allows_relative(&["http"]));
    }

    #[test]
    fn the_host_is_read_as_the_connector_reads_it() {
        let h = hosts(&["mysql://127.0.0.1"]);
        assert!(h.allows_url("mysql://user:p%23ss%40w@127.0.0.1/db"));
        // Everything after '#' is a fragment: the connector would go to evil.example.
        assert!(!h.allows_url("mysql://user:x@evil.example#@127.0.0.1/db"));
        assert!(hosts(&["https://example.com"]).allows_url("https://example.com/file@0.1.0.json"));
    }

    #[test]
    fn addresses_without_a_scheme_take_the_default_one() {
        let h = hosts(&["mysql://127.0.0.1:3306"]);
        assert!(h.allows_address("127.0.0.1:3306", "mysql"));
        assert!(!h.allows_address("127.0.0.1:3306", "redis"));
        assert!(!h.allows_url("127.0.0.1:3306"));
    }

    #[test]
    fn unparseable_urls_are_denied() {
        let h = hosts(&["*://*:*"]);
        assert!(!h.allows_url("not a url"));
        assert!(!h.allows_url("mailto:someone@example.com"));
    }

    #[test]
    fn malformed_entries_are_refused_with_a_reason() {
        assert!(refused("example.com").contains("no scheme"));
        assert!(refused("*").contains("<scheme>://<host>"));
        assert!(refused("insecure:allow-all").contains("*://*:*"));
        assert!(refused("ftp://example.com").contains("no well-known port"));
        assert!(refused("http://example.com:eighty").contains("not a number"));
        assert!(refused("http://example.com/path").contains("path"));
        assert!(refused("http://ex*ample.com").contains("wildcards"));
        assert!(refused("http://*.ex*.com").contains("wildcards"));
        assert!(refused("ht-tp://example.com").contains("alphabetic"));
        assert!(refused("http://:80").contains("empty"));
        assert!(refused("mysql://{a,b}:3306").contains("lists"));
        assert!(refused("http://example.com:1..x").contains("non-number"));
        // The failing entry is named.
        assert!(refused("ftp://example.com").contains("\"ftp://example.com\""));
    }

    #[test]
    fn a_trailing_slash_is_accepted() {
        assert!(hosts(&["https://example.com/"]).allows_url("https://example.com/x"));
        assert!(hosts(&["https://example.com:443/"]).allows_url("https://example.com/x"));
    }
}
