//! Sends an [`ApiRequest`] with outbound `wasi:http` (`spin_sdk::http::send`).
//!
//! Our handlers are synchronous (Spin's MySQL and Redis calls are), so a call is driven
//! to completion with the SDK's executor (`spin_sdk::http::run`). That nests inside the
//! component's own executor safely: by the time a handler runs, the request body has
//! been read and nothing else of ours is waiting on a pollable.
//!
//! The host refuses URLs outside `allowed_outbound_hosts`; that, a connection failure
//! or a timeout all come back as [`CallError::Unreachable`]. Response bodies are never
//! logged (they carry tokens).

use spin_sdk::http::{Method, Request, Response};

use super::provider::ApiRequest;

/// A response: status and body.
pub struct ApiResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

impl ApiResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No response: DNS, connection, TLS, a denied host or a timeout. The message names
    /// the host error, never a token.
    #[error("{0}")]
    Unreachable(String),
}

/// Sends `req` and waits for the whole response.
pub fn call(req: &ApiRequest) -> Result<ApiResponse, CallError> {
    let method = match req.method {
        "POST" => Method::Post,
        _ => Method::Get,
    };
    let mut builder = Request::builder();
    builder.method(method).uri(req.url.clone());
    for (name, value) in &req.headers {
        builder.header(name.clone(), value.clone());
    }
    if let Some(body) = &req.body {
        builder.body(body.clone());
    }
    let request = builder.build();
    let result: Result<Response, _> = spin_sdk::http::run(spin_sdk::http::send(request));
    match result {
        Ok(resp) => Ok(ApiResponse {
            status: *resp.status(),
            body: resp.into_body(),
        }),
        Err(e) => Err(CallError::Unreachable(e.to_string())),
    }
}

/// The scheme, host and port of `url`, for messages (never the path or query, which may
/// carry codes).
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_drops_path_and_query() {
        assert_eq!(
            origin_of("https://id.twitch.tv/oauth2/token?x=1"),
            "https://id.twitch.tv"
        );
        assert_eq!(origin_of("http://127.0.0.1:9/a"), "http://127.0.0.1:9");
        assert_eq!(origin_of("http://h"), "http://h");
    }
}
