//! Assertions on RFC 9457 problem responses (every 4xx/5xx of the API is one).

use reqwest::{Response, StatusCode};
use serde_json::Value;

/// Asserts `resp` has `status`, `Content-Type: application/problem+json` and a problem
/// body (`type`, `title`, and `status` equal to the HTTP status), and returns the body
/// for further checks (`detail`, `errors`, ...).
pub async fn assert_problem(resp: Response, status: StatusCode) -> Value {
    let actual = resp.status();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type:?} is not application/problem+json; body: {text}"
    );
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("problem body is not JSON ({e}): {text}"));
    assert_eq!(
        body["status"].as_u64(),
        Some(u64::from(status.as_u16())),
        "problem.status: {body}"
    );
    assert!(body["title"].is_string(), "problem.title missing: {body}");
    assert!(body["type"].is_string(), "problem.type missing: {body}");
    body
}

/// The `field` names of a 422 problem's `errors` array.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
