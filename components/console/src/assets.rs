//! The embedded build and the answer for each path: pure, so the rules read in one place.

use rh_infra::AppError;
use spin_sdk::http::Response;

/// One file of `console/dist`.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub etag: &'static str,
    pub body: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Shown when the component was built without `console/dist` (no Node on that machine).
const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Console not built</title>\
<h1>The RankedHonor console was not built</h1>\
<p>This component was compiled without <code>console/dist</code>. Install Node.js 20 or newer, \
then run <code>./scripts/up</code> again (or <code>npm ci &amp;&amp; npm run build</code> in \
<code>console/</code> and rebuild this component).</p>";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

pub enum Reply {
    Redirect(&'static str),
    File {
        asset: &'static Asset,
        cache: &'static str,
        not_modified: bool,
        csp: Option<String>,
    },
    Config(String),
    NotBuilt,
    Problem(AppError),
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS
        .binary_search_by(|a| a.path.cmp(path))
        .ok()
        .map(|i| &ASSETS[i])
}

/// The policy for the HTML page. `connect-src` names the WebSocket's origin when it is
/// elsewhere (locally the sidecar listens on its own port); `'self'` covers the API.
fn csp(websocket_url: &str) -> String {
    let ws_origin = websocket_origin(websocket_url);
    let connect = match ws_origin {
        Some(o) => format!("'self' {o}"),
        None => "'self'".into(),
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src {connect}; manifest-src 'self'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// `ws://host:port` of a `ws(s)://host:port/path` URL; `None` if empty or not a WebSocket URL.
fn websocket_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "ws" | "wss") {
        return None;
    }
    let authority = rest.split('/').next().filter(|a| !a.is_empty())?;
    if !authority
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return None;
    }
    Some(format!("{scheme}://{authority}"))
}

/// What to answer for `GET path` (`path` is the whole request path, `/console...`).
pub fn answer(path: &str, if_none_match: Option<&str>, websocket_url: &str) -> Reply {
    let Some(rest) = path.strip_prefix("/console") else {
        return Reply::Problem(AppError::NotFound(format!("no route for {path}")));
    };
    if rest.is_empty() {
        return Reply::Redirect("/console/");
    }
    let rel = rest.trim_start_matches('/');
    if rel == "config.json" {
        let ws = if websocket_origin(websocket_url).is_some() {
            websocket_url
        } else {
            ""
        };
        return Reply::Config(serde_json::json!({ "websocket_url": ws }).to_string());
    }
    if ASSETS.is_empty() {
        return Reply::NotBuilt;
    }
    let (asset, cache) = match find(rel) {
        Some(a) if rel.starts_with("assets/") => (a, IMMUTABLE),
        Some(a) => (a, REVALIDATE),
        // A path of the app (`/console/players/7`): the page routes it. A missing file
        // (`/console/assets/old.js`) is a real 404, or a stale page would run HTML as JS.
        None if !last_segment_has_extension(rel) => match find("index.html") {
            Some(index) => (index, REVALIDATE),
            None => return Reply::NotBuilt,
        },
        None => return Reply::Problem(AppError::NotFound(format!("no file {path}"))),
    };
    let not_modified = if_none_match.is_some_and(|tags| {
        tags.split(',')
            .any(|t| t.trim() == asset.etag || t.trim() == "*")
    });
    let csp = asset
        .content_type
        .starts_with("text/html")
        .then(|| csp(websocket_url));
    Reply::File {
        asset,
        cache,
        not_modified,
        csp,
    }
}

fn last_segment_has_extension(rel: &str) -> bool {
    rel.rsplit('/').next().is_some_and(|s| s.contains('.'))
}

/// Headers every answer of this component carries.
fn hardened(builder: &mut spin_sdk::http::ResponseBuilder) {
    builder
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer");
}

impl Reply {
    pub fn into_response(self, head: bool) -> Response {
        let strip = |body: Vec<u8>| if head { Vec::new() } else { body };
        match self {
            Reply::Redirect(to) => {
                let mut b = Response::builder();
                hardened(&mut b);
                b.status(308)
                    .header("location", to)
                    .body(Vec::new())
                    .build()
            }
            Reply::Config(json) => {
                let mut b = Response::builder();
                hardened(&mut b);
                b.status(200)
                    .header("content-type", "application/json")
                    .header("cache-control", "no-store")
                    .body(strip(json.into_bytes()))
                    .build()
            }
            Reply::NotBuilt => {
                let mut b = Response::builder();
                hardened(&mut b);
                b.status(503)
                    .header("content-type", "text/html; charset=utf-8")
                    .header("cache-control", "no-store")
                    .header("content-security-policy", "default-src 'none'")
                    .body(strip(NOT_BUILT.as_bytes().to_vec()))
                    .build()
            }
            Reply::Problem(e) => e.to_problem().into_response(),
            Reply::File {
                asset,
                cache,
                not_modified,
                csp,
            } => {
                let mut b = Response::builder();
                hardened(&mut b);
                b.header("cache-control", cache).header("etag", asset.etag);
                if let Some(policy) = csp {
                    b.header("content-security-policy", policy)
                        .header("x-frame-options", "DENY");
                }
                if not_modified {
                    return b.status(304).body(Vec::new()).build();
                }
                b.status(200)
                    .header("content-type", asset.content_type)
                    .body(strip(asset.body.to_vec()))
                    .build()
            }
        }
    }
}
