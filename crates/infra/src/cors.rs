//! CORS for browser frontends on other origins.
//!
//! Allowed origins come from the `allowed_origins` variable (comma list). Rules:
//! - an allowed origin is echoed back exactly, with `Access-Control-Allow-Credentials`,
//!   never a wildcard (the Fetch standard forbids `*` with credentials);
//! - a literal `*` in the list allows any origin as `*` *without* credentials;
//! - an origin not on the list gets no CORS header at all, so the browser blocks it;
//! - every response carries `Vary: Origin`, because it depends on that header.
//!
//! The functions return header lists so they are unit-tested without a runtime.

/// Headers a browser may send on cross-origin requests.
pub const ALLOWED_HEADERS: &str = "Authorization, Content-Type";
/// Response headers a browser script may read.
pub const EXPOSED_HEADERS: &str = "Retry-After, WWW-Authenticate, Location, X-Request-Id";
/// How long a browser may cache a preflight answer (seconds).
pub const MAX_AGE_SECS: u32 = 600;

type Headers = Vec<(&'static str, String)>;

/// The CORS policy of one request.
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Vec<String>,
}

impl Cors {
    pub fn new(origins: Vec<String>) -> Self {
        Self { origins }
    }

    /// The policy from the `allowed_origins` variable.
    pub fn from_config() -> Self {
        Self::new(crate::config::allowed_origins())
    }

    /// The `Access-Control-Allow-Origin` (and credentials) headers for `origin`, or none.
    fn allow_origin(&self, origin: Option<&str>) -> Headers {
        let Some(origin) = origin else {
            return Vec::new();
        };
        if self.origins.iter().any(|o| o == origin) {
            vec![
                ("access-control-allow-origin", origin.to_owned()),
                ("access-control-allow-credentials", "true".to_owned()),
            ]
        } else if self.origins.iter().any(|o| o == "*") {
            vec![("access-control-allow-origin", "*".to_owned())]
        } else {
            Vec::new()
        }
    }

    /// Headers of an actual (non-preflight) response.
    pub fn response_headers(&self, origin: Option<&str>) -> Headers {
        let mut headers = self.allow_origin(origin);
        if !headers.is_empty() {
            headers.push(("access-control-expose-headers", EXPOSED_HEADERS.to_owned()));
        }
        headers.push(("vary", "Origin".to_owned()));
        headers
    }

    /// Headers of the answer to `OPTIONS` on a route allowing `methods`. `Allow` is always
    /// there; the `Access-Control-*` ones only for an allowed origin.
    pub fn preflight_headers(&self, origin: Option<&str>, methods: &[String]) -> Headers {
        let mut list: Vec<&str> = methods.iter().map(String::as_str).collect();
        if !list.contains(&"OPTIONS") {
            list.push("OPTIONS");
        }
        let methods = list.join(", ");
        let mut headers = self.allow_origin(origin);
        if !headers.is_empty() {
            headers.push(("access-control-allow-methods", methods.clone()));
            headers.push(("access-control-allow-headers", ALLOWED_HEADERS.to_owned()));
            headers.push(("access-control-max-age", MAX_AGE_SECS.to_string()));
        }
        headers.push(("allow", methods));
        headers.push(("vary", "Origin".to_owned()));
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(h: &'a Headers, name: &str) -> Option<&'a str> {
        h.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    fn cors() -> Cors {
        Cors::new(vec!["http://localhost:3000".into()])
    }

    #[test]
    fn an_allowed_origin_is_echoed_with_credentials() {
        let h = cors().response_headers(Some("http://localhost:3000"));
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            Some("http://localhost:3000")
        );
        assert_eq!(get(&h, "access-control-allow-credentials"), Some("true"));
        assert_eq!(get(&h, "vary"), Some("Origin"));
    }

    #[test]
    fn another_origin_gets_no_cors_headers() {
        for h in [
            cors().response_headers(Some("http://evil.example")),
            cors().preflight_headers(Some("http://evil.example"), &["GET".into()]),
            cors().response_headers(None),
        ] {
            assert!(
                h.iter().all(|(n, _)| !n.starts_with("access-control-")),
                "{h:?}"
            );
        }
    }

    #[test]
    fn a_preflight_lists_the_routes_methods_and_headers() {
        let h = cors().preflight_headers(
            Some("http://localhost:3000"),
            &["GET".into(), "PATCH".into()],
        );
        assert_eq!(
            get(&h, "access-control-allow-methods"),
            Some("GET, PATCH, OPTIONS")
        );
        assert_eq!(
            get(&h, "access-control-allow-headers"),
            Some("Authorization, Content-Type")
        );
        assert_eq!(get(&h, "allow"), Some("GET, PATCH, OPTIONS"));
    }

    #[test]
    fn a_wildcard_never_comes_with_credentials() {
        let h = Cors::new(vec!["*".into()]).response_headers(Some("http://any.example"));
        assert_eq!(get(&h, "access-control-allow-origin"), Some("*"));
        assert_eq!(get(&h, "access-control-allow-credentials"), None);
    }
}
