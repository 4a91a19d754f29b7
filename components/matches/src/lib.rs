//! `matches`: the match lifecycle over HTTP.
//!
//! Game servers (HMAC-signed, see `rh_infra::server_sig`) create matches, post results
//! and timeline events; anyone reads matches, histories and timelines. The storage
//! and the exactly-once result transaction live in `rh_app::matches`; this component
//! decodes, checks the signature, calls it, runs the after-commit step and encodes.
//!
//! # Layout
//! - `lib.rs`: the route table (this file);
//! - `handlers.rs`: one function per route.

mod handlers;

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

use rh_infra::http::Router;

#[http_component]
async fn route(req: IncomingRequest) -> Response {
    Router::new()
        // Game-server signature.
        .post("/api/v1/matches", handlers::create)
        .put("/api/v1/matches/:id/result", handlers::result)
        .post("/api/v1/matches/:id/events", handlers::append_event)
        // Public reads.
        .get("/api/v1/matches/:id", handlers::get)
        .get("/api/v1/matches/:id/events", handlers::timeline)
        .get("/api/v1/users/:id/matches", handlers::history)
        .serve(req)
        .await
}
