//! Request decoding, routing and the entry point every HTTP component calls.
//!
//! A component's `lib.rs` builds a [`Router`] (its route table) and calls
//! [`Router::serve`]. In order, `serve`:
//! 1. matches the path against the table: unknown path → 404 problem;
//! 2. answers `OPTIONS` itself (CORS preflight, `Allow`), for every route;
//! 3. refuses a method the path does not have → 405 problem with `Allow`;
//! 4. reads the body up to [`MAX_BODY_BYTES`] → 413 problem beyond;
//! 5. calls the handler and turns its `AppError` into a problem response;
//! 6. adds the CORS headers for the request's `Origin`.
//!
//! Paths are matched on the full request path, so the table reads like the API docs and
//! does not depend on where `spin.toml` mounts the component.

use crate::client_addr::{self, TrustedProxies};
use crate::cors::Cors;
use crate::error::AppError;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use spin_sdk::http::{IncomingRequest, Method, Response};

/// Largest request body accepted (64 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A decoded request: what handlers see.
#[derive(Debug)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub query: String,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    params: Vec<(String, String)>,
}

impl Req {
    /// A request built by hand (tests, or handlers calling each other).
    pub fn new(
        method: Method,
        path_and_query: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Self {
            method,
            path: path.to_owned(),
            query: query.to_owned(),
            headers: headers
                .into_iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v))
                .collect(),
            body,
            params: Vec::new(),
        }
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A `:name` segment of the matched route.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query-string parameter, percent-decoded (`+` is a space, as in HTML forms);
    /// `None` when it is absent or empty (`?limit=` means "the default").
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    }

    /// A numeric `:name` path segment. Anything else cannot name a resource: 404 saying
    /// there is no such `what`.
    pub fn path_id(&self, name: &str, what: &str) -> Result<u64, AppError> {
        self.param(name)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| AppError::NotFound(format!("no such {what}")))
    }

    /// `?name=` as an integer within `range`, `default` when absent; anything else is a
    /// 422 naming the range.
    pub fn query_int<T>(
        &self,
        name: &str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, AppError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display,
    {
        match self.query_param(name) {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<T>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(AppError::invalid_field(
                    name,
                    format!(
                        "must be an integer from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )),
            },
        }
    }

    /// `?name=` parsed as a `T` (an id, a cursor, a time) when present; a value that does
    /// not parse is a 422 with `message` (e.g. "must be a match id").
    pub fn query_parsed<T: std::str::FromStr>(
        &self,
        name: &str,
        message: &str,
    ) -> Result<Option<T>, AppError> {
        self.query_param(name)
            .map(|raw| {
                raw.trim()
                    .parse()
                    .map_err(|_| AppError::invalid_field(name, message))
            })
            .transpose()
    }

    /// Every value of header `name`, in order (a header may be sent on several lines).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The client's IP address: the TCP peer (`spin-client-addr` without its port), or,
    /// when that peer is one of the `trusted_proxies`, the address those proxies forwarded
    /// (see [`crate::client_addr`]).
    pub fn client_ip(&self) -> Option<String> {
        self.client_ip_behind(&crate::config::trusted_proxies())
    }

    /// [`Req::client_ip`] with the trusted proxies given (no variable read).
    ///
    /// The last `spin-client-addr`: Spin passes on the headers a client sent, `spin-*`
    /// ones included, and appends its own after them, so the first may be the client's
    /// invention.
    pub fn client_ip_behind(&self, trusted: &TrustedProxies) -> Option<String> {
        client_addr::client_ip(
            self.header_all("spin-client-addr").last().copied(),
            &self.header_all("x-forwarded-for"),
            trusted,
        )
    }

    /// The body decoded as a JSON object: empty, malformed or of the wrong shape → 400.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(AppError::BadRequest("expected a JSON body".into()));
        }
        let value: serde_json::Value = serde_json::from_slice(&self.body)
            .map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))?;
        // serde would accept `[..]` for a struct; our bodies are always objects.
        if !value.is_object() {
            return Err(AppError::BadRequest(
                "the JSON body must be an object".into(),
            ));
        }
        serde_json::from_value(value)
            .map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))
    }
}

/// A JSON response.
pub fn json(status: u16, value: &impl Serialize) -> Result<Response, AppError> {
    let body = serde_json::to_vec(value).map_err(AppError::internal)?;
    Ok(json_body(status, body))
}

/// A JSON response from a body that is JSON already (a cached answer).
pub fn json_body(status: u16, body: impl Into<Vec<u8>>) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.into())
        .build()
}

/// `204 No Content`.
pub fn no_content() -> Response {
    Response::builder().status(204).body(Vec::new()).build()
}

/// A route handler: synchronous, since Spin's MySQL and Redis calls are.
pub type Handler = fn(&Req) -> Result<Response, AppError>;

struct Route {
    method: Method,
    segments: Vec<&'static str>,
    handler: Handler,
}

/// Matches `path` against a pattern's segments; `:name` segments capture.
fn match_path(segments: &[&'static str], path: &str) -> Option<Vec<(String, String)>> {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (seg, part) in segments.iter().zip(parts) {
        if let Some(name) = seg.strip_prefix(':') {
            if part.is_empty() {
                return None;
            }
            params.push((name.to_owned(), part.to_owned()));
        } else if *seg != part {
            return None;
        }
    }
    Some(params)
}

/// A component's route table.
#[derive(Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route; `pattern` is a path with `:name` segments (`/api/v1/users/:id`).
    pub fn route(mut self, method: Method, pattern: &'static str, handler: Handler) -> Self {
        let segments = pattern.trim_end_matches('/').split('/').collect();
        self.routes.push(Route {
            method,
            segments,
            handler,
        });
        self
    }

    pub fn get(self, pattern: &'static str, handler: Handler) -> Self {
        self.route(Method::Get, pattern, handler)
    }

    pub fn post(self, pattern: &'static str, handler: Handler) -> Self {
        self.route(Method::Post, pattern, handler)
    }

    pub fn put(self, pattern: &'static str, handler: Handler) -> Self {
        self.route(Method::Put, pattern, handler)
    }

    pub fn patch(self, pattern: &'static str, handler: Handler) -> Self {
        self.route(Method::Patch, pattern, handler)
    }

    pub fn delete(self, pattern: &'static str, handler: Handler) -> Self {
        self.route(Method::Delete, pattern, handler)
    }

    /// Routes whose pattern matches `path`, with their captured parameters.
    fn matching(&self, path: &str) -> Vec<(&Route, Vec<(String, String)>)> {
        self.routes
            .iter()
            .filter_map(|r| match_path(&r.segments, path).map(|p| (r, p)))
            .collect()
    }

    /// What to do with `method path`: the pure part of [`Router::serve`].
    fn resolve(&self, method: &Method, path: &str) -> Resolved {
        let matches = self.matching(path);
        if matches.is_empty() {
            return Resolved::NotFound;
        }
        let allowed: Vec<String> = matches.iter().map(|(r, _)| r.method.to_string()).collect();
        if *method == Method::Options {
            return Resolved::Options(allowed);
        }
        match matches.into_iter().find(|(r, _)| r.method == *method) {
            Some((route, params)) => Resolved::Handler(route.handler, params),
            None => Resolved::MethodNotAllowed(allowed),
        }
    }

    /// Serves one request (see the module docs for the steps).
    pub async fn serve(&self, incoming: IncomingRequest) -> Response {
        let cors = Cors::from_config();
        let method = incoming.method();
        let path_and_query = incoming.path_with_query().unwrap_or_else(|| "/".into());
        let headers: Vec<(String, String)> = incoming
            .headers()
            .entries()
            .into_iter()
            .map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned()))
            .collect();
        let mut req = Req::new(method, &path_and_query, headers, Vec::new());
        let origin = req.header("origin").map(str::to_owned);
        let request_id = crate::log::request_id_for(req.header("x-request-id"));
        crate::log::set_request_id(&request_id);

        let mut response = match self.resolve(&req.method, &req.path) {
            Resolved::NotFound => AppError::NotFound(format!("no route for {}", req.path))
                .to_problem()
                .into_response(),
            Resolved::Options(allowed) => {
                let mut r = no_content();
                for (name, value) in cors.preflight_headers(origin.as_deref(), &allowed) {
                    r.set_header(name, value);
                }
                r.set_header("x-request-id", request_id);
                return r;
            }
            Resolved::MethodNotAllowed(allowed) => {
                let mut allow = allowed;
                allow.push("OPTIONS".into());
                AppError::MethodNotAllowed { allow }
                    .to_problem()
                    .into_response()
            }
            Resolved::Handler(handler, params) => match read_body(incoming, MAX_BODY_BYTES).await {
                Err(e) => e.to_problem().into_response(),
                Ok(body) => {
                    req.body = body;
                    req.params = params;
                    handler(&req).unwrap_or_else(|e| e.to_problem().into_response())
                }
            },
        };
        for (name, value) in cors.response_headers(origin.as_deref()) {
            response.set_header(name, value);
        }
        response.set_header("x-request-id", request_id);
        response
    }
}

enum Resolved {
    NotFound,
    Options(Vec<String>),
    MethodNotAllowed(Vec<String>),
    Handler(Handler, Vec<(String, String)>),
}

/// Reads the body, refusing more than `limit` bytes (413). A `Content-Length` over the
/// limit is refused before reading; a chunked body is cut off as soon as it exceeds it.
pub async fn read_body(incoming: IncomingRequest, limit: usize) -> Result<Vec<u8>, AppError> {
    let declared = incoming
        .headers()
        .get("content-length")
        .first()
        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(AppError::PayloadTooLarge { limit });
    }
    let mut body = Vec::new();
    let mut stream = incoming.into_body_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("cannot read body: {e:?}")))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(_: &Req) -> Result<Response, AppError> {
        Ok(no_content())
    }

    fn router() -> Router {
        Router::new()
            .get("/api/v1/users/me", ok)
            .patch("/api/v1/users/me", ok)
            .get("/api/v1/users/:id", ok)
    }

    #[test]
    fn literal_routes_and_parameters_match() {
        let segs: Vec<&'static str> = "/api/v1/users/:id".split('/').collect();
        assert_eq!(
            match_path(&segs, "/api/v1/users/42"),
            Some(vec![("id".into(), "42".into())])
        );
        assert_eq!(
            match_path(&segs, "/api/v1/users/42/"),
            Some(vec![("id".into(), "42".into())])
        );
        assert_eq!(match_path(&segs, "/api/v1/users"), None);
        assert_eq!(match_path(&segs, "/api/v1/users/42/x"), None);
    }

    #[test]
    fn an_unknown_path_is_not_found_and_a_wrong_method_lists_the_allowed_ones() {
        let r = router();
        assert!(matches!(
            r.resolve(&Method::Get, "/nope"),
            Resolved::NotFound
        ));
        match r.resolve(&Method::Delete, "/api/v1/users/me") {
            Resolved::MethodNotAllowed(allowed) => {
                // "/me" also matches ":id"; both patterns' methods are allowed there.
                assert!(allowed.contains(&"GET".to_owned()));
                assert!(allowed.contains(&"PATCH".to_owned()));
            }
            _ => panic!("expected 405"),
        }
    }

    #[test]
    fn options_is_answered_for_every_known_path() {
        match router().resolve(&Method::Options, "/api/v1/users/7") {
            Resolved::Options(allowed) => assert_eq!(allowed, vec!["GET".to_owned()]),
            _ => panic!("expected options"),
        }
    }

    #[test]
    fn the_first_matching_route_wins() {
        match router().resolve(&Method::Get, "/api/v1/users/me") {
            Resolved::Handler(_, params) => assert!(params.is_empty()),
            _ => panic!("expected the /me handler"),
        }
    }

    #[test]
    fn requests_expose_headers_params_and_the_client_ip() {
        let req = Req::new(
            Method::Get,
            "/x?a=1&b=two+words",
            vec![("Spin-Client-Addr".into(), "127.0.0.1:5555".into())],
            Vec::new(),
        );
        let none = TrustedProxies::none();
        assert_eq!(req.client_ip_behind(&none).as_deref(), Some("127.0.0.1"));
        assert_eq!(req.query_param("b").as_deref(), Some("two words"));
        assert_eq!(req.query_param("c"), None);
        let v6 = Req::new(
            Method::Get,
            "/",
            vec![("spin-client-addr".into(), "[::1]:80".into())],
            vec![],
        );
        assert_eq!(v6.client_ip_behind(&none).as_deref(), Some("::1"));
        // Behind a trusted proxy, every X-Forwarded-For line counts, in order.
        let proxied = Req::new(
            Method::Get,
            "/",
            vec![
                ("spin-client-addr".into(), "127.0.0.1:40000".into()),
                ("X-Forwarded-For".into(), "6.6.6.6".into()),
                ("x-forwarded-for".into(), "198.51.100.7".into()),
            ],
            vec![],
        );
        let (lb, _) = TrustedProxies::parse("127.0.0.1");
        assert_eq!(
            proxied.client_ip_behind(&lb).as_deref(),
            Some("198.51.100.7")
        );
        // On Spin a client's own spin-client-addr comes first and Spin's last: a forged
        // trusted peer must not let the client pick its address.
        let forged = Req::new(
            Method::Get,
            "/",
            vec![
                ("spin-client-addr".into(), "127.0.0.1:1".into()),
                ("x-forwarded-for".into(), "6.6.6.6".into()),
                ("spin-client-addr".into(), "203.0.113.9:40000".into()),
            ],
            vec![],
        );
        assert_eq!(forged.client_ip_behind(&lb).as_deref(), Some("203.0.113.9"));
        assert_eq!(
            proxied.client_ip_behind(&none).as_deref(),
            Some("127.0.0.1")
        );
    }

    #[test]
    fn query_values_are_percent_decoded_and_empty_ones_are_absent() {
        let req = Req::new(
            Method::Get,
            "/x?q=%C3%A9t%C3%A9%20x&p=%25&e=&plus=a+b",
            vec![],
            vec![],
        );
        assert_eq!(req.query_param("q").as_deref(), Some("été x"));
        assert_eq!(req.query_param("p").as_deref(), Some("%"));
        assert_eq!(req.query_param("plus").as_deref(), Some("a b"));
        assert_eq!(req.query_param("e"), None);
    }

    #[test]
    fn bounded_integers_default_when_absent_and_refuse_out_of_range() {
        let req = Req::new(
            Method::Get,
            "/x?limit=7&big=500&bad=x&before=12",
            vec![],
            vec![],
        );
        assert_eq!(req.query_int("limit", 20u32, 1..=100).unwrap(), 7);
        assert_eq!(req.query_int("none", 20u32, 1..=100).unwrap(), 20);
        for name in ["big", "bad"] {
            let e = req.query_int(name, 20u32, 1..=100).unwrap_err();
            assert_eq!(e.status(), 422);
        }
        assert_eq!(
            req.query_parsed::<u64>("before", "must be an id").unwrap(),
            Some(12)
        );
        assert_eq!(
            req.query_parsed::<u64>("none", "must be an id").unwrap(),
            None
        );
        assert_eq!(
            req.query_parsed::<u64>("bad", "must be an id")
                .unwrap_err()
                .status(),
            422
        );
    }

    #[test]
    fn path_ids_that_are_not_numbers_name_nothing() {
        let mut req = Req::new(Method::Get, "/x", vec![], vec![]);
        req.params = vec![("id".into(), "42".into()), ("bad".into(), "4x".into())];
        assert_eq!(req.path_id("id", "match").unwrap(), 42);
        let e = req.path_id("bad", "match").unwrap_err();
        assert_eq!(e.status(), 404);
        assert_eq!(e.to_string(), "no such match");
    }

    #[test]
    fn malformed_or_empty_json_is_a_bad_request() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[allow(dead_code)]
            a: u32,
        }
        for body in [&b""[..], b"  ", b"{", b"[1]", b"{\"a\":\"x\"}"] {
            let req = Req::new(Method::Post, "/", vec![], body.to_vec());
            assert!(matches!(req.json::<Body>(), Err(AppError::BadRequest(_))));
        }
        let req = Req::new(Method::Post, "/", vec![], b"{\"a\":1}".to_vec());
        assert!(req.json::<Body>().is_ok());
    }
}
