//! HTTP route matching with Spin's precedence, and the `spin-*` request headers.
//!
//! Precedence is what Spin gets from the `routefinder` crate, which Spin itself uses: segments
//! are compared left to right, an exact segment beats a `:param`, which beats a trailing
//! wildcard; among wildcards the longer prefix wins; a later duplicate route replaces an
//! earlier one. Using the same matcher (rather than a look-alike) keeps edge cases identical.
//!
//! Route text is normalised as Spin does: a single trailing `/` is dropped (so `/` becomes the
//! empty string, which is what `spin-matched-route` then carries), and `/...` becomes `/*`.

use std::net::SocketAddr;

use anyhow::{anyhow, bail};
use http::{HeaderMap, HeaderName, HeaderValue};

/// One routable `[[trigger.http]]` entry, with the static header values precomputed.
#[derive(Debug)]
pub struct Route {
    /// Index into the app's component table.
    pub component: usize,
    pub component_id: String,
    /// The route as written in the manifest: the `route` label of request metrics and
    /// traces (bounded, unlike the request's path).
    pub template: String,
    /// `spin-matched-route`: the route with the (always `/`) base applied.
    based: HeaderValue,
    /// `spin-raw-component-route`: the route as written.
    raw: HeaderValue,
    /// `spin-component-route`: the route as written, without a trailing `/...`.
    raw_prefix: HeaderValue,
}

#[derive(Debug)]
pub struct Router {
    inner: routefinder::Router<Route>,
}

/// A successful lookup; borrows the router and the request path.
pub struct Match<'r, 'p> {
    pub route: &'r Route,
    captures: routefinder::Captures<'r, 'p>,
    path: &'p str,
}

impl Router {
    /// Builds the router from `(route, component index, component id)` in manifest order.
    pub fn build<'a>(
        entries: impl IntoIterator<Item = (&'a str, usize, &'a str)>,
    ) -> anyhow::Result<Self> {
        let mut inner = routefinder::Router::new();
        // routefinder keeps the first of two identical specs; Spin lets the last one win.
        let mut seen: Vec<(String, Route)> = Vec::new();
        for (raw, component, component_id) in entries {
            // A `*` segment is routefinder's wildcard, not Spin's syntax (a trailing `/...`),
            // and routefinder accepts one mid-route but panics when a request reaches it
            // (found by fuzz/fuzz_targets/manifest.rs): refused here, at start-up.
            // (routefinder's sections end at `/` and at `.`.)
            if raw.split(['/', '.']).any(|section| section == "*") {
                bail!(
                    "invalid route {raw:?} for component `{component_id}`: `*` is not a route \
                     segment; a wildcard is a trailing `/...`"
                );
            }
            let based = sanitize(raw);
            let route = Route {
                component,
                component_id: component_id.to_string(),
                template: raw.to_string(),
                based: header_value(&based, raw)?,
                raw: header_value(raw, raw)?,
                raw_prefix: header_value(raw.strip_suffix("/...").unwrap_or(raw), raw)?,
            };
            seen.retain(|(b, _)| *b != based);
            seen.push((based, route));
        }
        for (based, route) in seen {
            let spec = match based.strip_suffix("/...") {
                Some(prefix) => format!("{prefix}/*"),
                None => based.clone(),
            };
            let id = route.component_id.clone();
            inner
                .add(spec, route)
                .map_err(|e| anyhow!("invalid route {based:?} for component `{id}`: {e}"))?;
        }
        Ok(Self { inner })
    }

    pub fn route<'r, 'p>(&'r self, path: &'p str) -> Option<Match<'r, 'p>> {
        let m = self.inner.best_match(path)?;
        Some(Match {
            route: m.handler(),
            captures: m.captures(),
            path,
        })
    }
}

impl Match<'_, '_> {
    /// `spin-path-info`: the part of the path matched by a trailing wildcard, keeping a trailing
    /// slash as Spin does (routefinder itself drops it).
    pub fn path_info(&self) -> String {
        match self.captures.wildcard() {
            None => String::new(),
            Some(w) => match (w.is_empty(), self.path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".to_string(),
                (false, false) => format!("/{w}"),
                (false, true) => format!("/{w}/"),
            },
        }
    }

    /// Adds Spin's request headers after the client's, as Spin does: Spin keeps every
    /// header the client sent, `spin-*` ones included, and appends its own, so a guest
    /// that reads the first `spin-client-addr` reads whatever the client chose. Guests
    /// must read the last value (rh-app's `Req::client_ip` does).
    pub fn set_spin_headers(&self, headers: &mut HeaderMap, full_url: &str, client: SocketAddr) {
        let r = self.route;
        let mut put = |name: &'static str, value: HeaderValue| {
            headers.append(HeaderName::from_static(name), value);
        };
        if let Ok(v) = HeaderValue::from_str(full_url) {
            put("spin-full-url", v);
        }
        if let Ok(v) = HeaderValue::from_str(&self.path_info()) {
            put("spin-path-info", v);
        }
        put("spin-matched-route", r.based.clone());
        put("spin-base-path", HeaderValue::from_static("/"));
        put("spin-raw-component-route", r.raw.clone());
        put("spin-component-route", r.raw_prefix.clone());
        if let Ok(v) = HeaderValue::from_str(&client.to_string()) {
            put("spin-client-addr", v);
        }
        for (name, value) in self.captures.iter() {
            if let (Ok(n), Ok(v)) = (
                HeaderName::try_from(path_match_header(name)),
                HeaderValue::from_str(value),
            ) {
                headers.append(n, v);
            }
        }
    }
}

/// The header of a `:name` route wildcard. Spin builds `SPIN_PATH_MATCH_<NAME>` and turns
/// every `_` into `-` and the whole into lower case (its `prepare_header_key`), so
/// `:path_segment` and `:path-segment` both arrive as `spin-path-match-path-segment`.
pub fn path_match_header(wildcard: &str) -> String {
    format!("spin-path-match-{wildcard}")
        .replace('_', "-")
        .to_ascii_lowercase()
}

/// Spin's base handling with base `/`: make absolute, drop one trailing slash.
fn sanitize(route: &str) -> String {
    let abs = if route.starts_with('/') {
        route.to_string()
    } else {
        format!("/{route}")
    };
    match abs.strip_suffix('/') {
        Some(s) => s.to_string(),
        None => abs,
    }
}

fn header_value(s: &str, route: &str) -> anyhow::Result<HeaderValue> {
    HeaderValue::from_str(s).map_err(|_| anyhow!("route {route:?} is not a valid header value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        Router::build(routes.iter().enumerate().map(|(i, (r, c))| (*r, i, *c))).unwrap()
    }

    fn id(r: &Router, path: &str) -> Option<String> {
        r.route(path).map(|m| m.route.component_id.clone())
    }

    #[test]
    fn a_star_segment_is_refused_at_build_not_at_request_time() {
        for route in ["/a/*/b", "/*", "/x/*", "/a/*.rs"] {
            let err = Router::build([(route, 0, "c")]).unwrap_err().to_string();
            assert!(err.contains("trailing `/...`"), "{route}: {err}");
        }
        // Stars inside a segment are ordinary characters, as in Spin.
        assert!(Router::build([("/a*b/c", 0, "c")]).is_ok());
    }

    #[test]
    fn exact_beats_wildcard_and_longest_prefix_wins() {
        let r = router(&[
            ("/...", "all"),
            ("/one", "one"),
            ("/one/...", "one-wild"),
            ("/one/two/...", "two-wild"),
        ]);
        assert_eq!(id(&r, "/one").as_deref(), Some("one"));
        assert_eq!(id(&r, "/one/x").as_deref(), Some("one-wild"));
        assert_eq!(id(&r, "/one/two/three").as_deref(), Some("two-wild"));
        assert_eq!(id(&r, "/other").as_deref(), Some("all"));
        assert_eq!(id(&r, "/").as_deref(), Some("all"));
    }

    #[test]
    fn exact_segment_beats_param_beats_wildcard() {
        let r = router(&[
            ("/users/...", "wild"),
            ("/users/:id", "param"),
            ("/users/me", "me"),
        ]);
        assert_eq!(id(&r, "/users/me").as_deref(), Some("me"));
        assert_eq!(id(&r, "/users/42").as_deref(), Some("param"));
        assert_eq!(id(&r, "/users/42/x").as_deref(), Some("wild"));
    }

    #[test]
    fn no_route_means_none() {
        let r = router(&[("/a", "a")]);
        assert!(id(&r, "/b").is_none());
        assert!(id(&r, "/a/b").is_none());
    }

    #[test]
    fn the_last_duplicate_wins() {
        let r = router(&[("/a", "first"), ("/a", "second")]);
        assert_eq!(id(&r, "/a").as_deref(), Some("second"));
    }

    #[test]
    fn path_info_keeps_trailing_slashes_like_spin() {
        let r = router(&[("/test/...", "t")]);
        assert_eq!(r.route("/test").unwrap().path_info(), "");
        assert_eq!(r.route("/test/").unwrap().path_info(), "/");
        assert_eq!(r.route("/test/hello").unwrap().path_info(), "/hello");
        assert_eq!(r.route("/test/hello/").unwrap().path_info(), "/hello/");
    }

    #[test]
    fn spin_headers_follow_the_clients_as_on_spin() {
        let r = router(&[("/foo/:userid/...", "c")]);
        let m = r.route("/foo/42/bar").unwrap();
        let mut h = HeaderMap::new();
        h.insert("spin-evil", HeaderValue::from_static("x"));
        h.insert("spin-client-addr", HeaderValue::from_static("6.6.6.6:6"));
        h.insert("accept", HeaderValue::from_static("*/*"));
        m.set_spin_headers(
            &mut h,
            "http://h/foo/42/bar?q=1",
            "127.0.0.1:9".parse().unwrap(),
        );
        // Spin keeps what the client sent and appends its own value after it.
        let all =
            |k: &str| -> Vec<&str> { h.get_all(k).iter().map(|v| v.to_str().unwrap()).collect() };
        assert_eq!(all("spin-client-addr"), ["6.6.6.6:6", "127.0.0.1:9"]);
        assert_eq!(all("spin-evil"), ["x"]);
        h.remove("spin-evil");
        h.remove("spin-client-addr");
        h.insert("spin-client-addr", HeaderValue::from_static("127.0.0.1:9"));
        let get = |k: &str| h.get(k).map(|v| v.to_str().unwrap().to_string());
        assert_eq!(get("accept").as_deref(), Some("*/*"));
        assert_eq!(
            get("spin-full-url").as_deref(),
            Some("http://h/foo/42/bar?q=1")
        );
        assert_eq!(get("spin-path-info").as_deref(), Some("/bar"));
        assert_eq!(
            get("spin-matched-route").as_deref(),
            Some("/foo/:userid/...")
        );
        assert_eq!(
            get("spin-raw-component-route").as_deref(),
            Some("/foo/:userid/...")
        );
        assert_eq!(get("spin-component-route").as_deref(), Some("/foo/:userid"));
        assert_eq!(get("spin-base-path").as_deref(), Some("/"));
        assert_eq!(get("spin-client-addr").as_deref(), Some("127.0.0.1:9"));
        assert_eq!(get("spin-path-match-userid").as_deref(), Some("42"));
        let spin_count = h.keys().filter(|k| k.as_str().starts_with("spin-")).count();
        assert_eq!(spin_count, 8);
    }

    #[test]
    fn wildcard_headers_are_named_as_spin_names_them() {
        // The conformance suite's request-shape route, then hyphens and capitals.
        let r = router(&[
            ("/base/:path_segment/:path_end/...", "shape"),
            ("/other/:user-id/:Tab_Name", "other"),
        ]);
        let mut h = HeaderMap::new();
        r.route("/base/path/end/rest").unwrap().set_spin_headers(
            &mut h,
            "http://example.com/base/path/end/rest?key=value",
            "127.0.0.1:9".parse().unwrap(),
        );
        let get = |h: &HeaderMap, k: &str| h.get(k).map(|v| v.to_str().unwrap().to_string());
        assert_eq!(
            get(&h, "spin-path-match-path-segment").as_deref(),
            Some("path")
        );
        assert_eq!(get(&h, "spin-path-match-path-end").as_deref(), Some("end"));
        assert_eq!(get(&h, "spin-path-info").as_deref(), Some("/rest"));
        assert_eq!(
            get(&h, "spin-component-route").as_deref(),
            Some("/base/:path_segment/:path_end")
        );
        assert!(h.keys().all(|k| !k.as_str().contains('_')), "{h:?}");

        let mut h = HeaderMap::new();
        r.route("/other/42/games").unwrap().set_spin_headers(
            &mut h,
            "http://h/other/42/games",
            "127.0.0.1:9".parse().unwrap(),
        );
        assert_eq!(get(&h, "spin-path-match-user-id").as_deref(), Some("42"));
        assert_eq!(
            get(&h, "spin-path-match-tab-name").as_deref(),
            Some("games")
        );
    }
}
