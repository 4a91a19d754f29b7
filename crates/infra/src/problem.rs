//! RFC 9457 problem details: the body of every 4xx and 5xx the app returns.
//!
//! Handlers never build these directly: they return an [`crate::error::AppError`], and
//! `error.rs` is the single place that turns one into a [`Problem`].

use serde::Serialize;
use spin_sdk::http::Response;

/// Media type of every error body (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One offending input field of a 422 response (`{field, message}`); the domain's type.
pub use rh_domain::FieldError;

/// A problem details object plus the extra response headers it needs.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// A URI naming the kind of problem; documented in `docs/openapi.yaml`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field errors of a failed validation (422 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extension members (RFC 9457 §3.2), e.g. `/health`'s `"mysql": "down"`.
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
    /// Headers such as `WWW-Authenticate`, `Retry-After` or `Allow`; not part of the body.
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
}

impl Problem {
    /// A problem of kind `slug` (a path under `/problems/`), e.g. `Problem::new(404, "not-found", "Not Found")`.
    pub fn new(status: u16, slug: &str, title: impl Into<String>) -> Self {
        Self {
            type_uri: format!("/problems/{slug}"),
            title: title.into(),
            status,
            detail: None,
            errors: Vec::new(),
            extensions: serde_json::Map::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_extension(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extensions.insert(name.to_owned(), value.into());
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The JSON body as bytes.
    pub fn body(&self) -> Vec<u8> {
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The HTTP response: status, `application/problem+json`, extra headers, JSON body.
    pub fn into_response(self) -> Response {
        let mut builder = Response::builder();
        builder
            .status(self.status)
            .header("content-type", PROBLEM_JSON);
        for (name, value) in &self.headers {
            builder.header(name.as_str(), value.as_str());
        }
        builder.body(self.body()).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_serialises_the_rfc_9457_members() {
        let p = Problem::new(422, "validation-failed", "Validation failed")
            .with_detail("2 fields are invalid")
            .with_errors(vec![FieldError::new("email", "is not an email address")])
            .with_header("x-test", "1");
        let v: serde_json::Value = serde_json::from_slice(&p.body()).unwrap();
        assert_eq!(v["type"], "/problems/validation-failed");
        assert_eq!(v["title"], "Validation failed");
        assert_eq!(v["status"], 422);
        assert_eq!(v["detail"], "2 fields are invalid");
        assert_eq!(v["errors"][0]["field"], "email");
        assert!(v.get("headers").is_none());
    }

    #[test]
    fn empty_optional_members_are_left_out() {
        let v: serde_json::Value =
            serde_json::from_slice(&Problem::new(404, "not-found", "Not Found").body()).unwrap();
        assert!(v.get("detail").is_none());
        assert!(v.get("errors").is_none());
    }
}
