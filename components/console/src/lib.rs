//! `console`: serves the web console (a single-page app built by Vite from `console/`)
//! under `/console/`, from files embedded into the component at build time (`build.rs`).
//!
//! Why embedded rather than Spin's `files` mount: rh-runtime refuses `files`
//! (`runtime/src/manifest.rs`), and one self-contained `.wasm` runs the same on
//! rh-runtime, Spin and SpinKube with no volume to ship beside it. The cost is a rebuild
//! of this component when the console changes (`./scripts/up` and `spin build` do it).
//! No outbound hosts: the page talks to the API (same origin) and to the WebSocket
//! sidecar itself.
//!
//! Responses:
//! - `/console` redirects to `/console/` (so relative URLs resolve under it);
//! - a file of the build: its content type; `assets/*` (names carry a content hash) are
//!   cached for a year as immutable, everything else is revalidated (`no-cache` + ETag);
//! - `/console/config.json`: the page's runtime settings (the WebSocket URL, from the
//!   `websocket_url` variable), never cached;
//! - any other path without a file extension: `index.html` (the app routes it);
//!   with one: 404 problem+json. Methods other than GET and HEAD: 405 problem+json.
//! - HTML carries a strict Content-Security-Policy (scripts and styles from this origin
//!   only; connections to this origin and the WebSocket origin) and anti-framing headers.
//!
//! # Layout
//! - `lib.rs`: the route table (this file).
//! - `assets.rs`: the embedded files and what to answer for a path (no I/O).

mod assets;

use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

use rh_infra::AppError;

#[http_component]
async fn route(req: IncomingRequest) -> Response {
    let method = req.method();
    let path = req.path_with_query().unwrap_or_else(|| "/".into());
    let path = path.split('?').next().unwrap_or("/").to_owned();
    if !matches!(method, Method::Get | Method::Head) {
        return AppError::MethodNotAllowed {
            allow: vec!["GET".into(), "HEAD".into()],
        }
        .to_problem()
        .into_response();
    }
    let if_none_match = req
        .headers()
        .get("if-none-match")
        .first()
        .map(|v| String::from_utf8_lossy(v).into_owned());
    let websocket_url = spin_sdk::variables::get("websocket_url").unwrap_or_default();
    let reply = assets::answer(&path, if_none_match.as_deref(), &websocket_url);
    let head = matches!(method, Method::Head);
    reply.into_response(head)
}
