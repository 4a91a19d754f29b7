//! `matchmaking`: the HTTP side of the matchmaking queue.
//!
//! The logic lives in `rh_app::queue` (state in Redis, atomic Lua transitions, the
//! tick, and the design notes: parties, expiry, never double-booking); this component
//! decodes, authenticates, calls it and encodes.
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
        // Bearer: join (solo, lead a party, or consent to one), leave, status.
        .post("/api/v1/matchmaking/queue", handlers::join)
        .delete("/api/v1/matchmaking/queue", handlers::leave)
        .get("/api/v1/matchmaking/queue", handlers::status)
        // Public: every queue's size and wait estimate (the console's queue view).
        .get("/api/v1/matchmaking/queues", handlers::overview)
        // Game-server signature: one queue tick, answering its outcome.
        .post("/api/v1/matchmaking/tick", handlers::tick)
        .serve(req)
        .await
}
