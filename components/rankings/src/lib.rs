//! `rankings`: leaderboards, the activity feed, achievements and notifications.
//!
//! Leaderboards are Redis sorted sets kept equal to MySQL (`rh_app::leaderboard`):
//! every read first checks the boards are trustworthy and rebuilds them from MySQL
//! under a lock when Redis lost them. The feed, achievements and notifications are
//! read from MySQL (`rh_app::matches::inbox`).
//!
//! # Layout
//! - `lib.rs`: the route table (this file);
//! - `boards.rs`: leaderboard routes (public page, the caller's neighbourhood, the
//!   server-signed rebuild);
//! - `inbox.rs`: feed, achievements, notifications.

mod boards;
mod inbox;

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

use rh_infra::http::Router;

#[http_component]
async fn route(req: IncomingRequest) -> Response {
    Router::new()
        .get("/api/v1/rankings/:mode", boards::page)
        .get("/api/v1/rankings/:mode/me", boards::me)
        .post("/api/v1/admin/leaderboards/rebuild", boards::rebuild)
        .get("/api/v1/feed", inbox::feed)
        .get("/api/v1/users/:id/achievements", inbox::achievements)
        .get("/api/v1/notifications", inbox::notifications)
        .post("/api/v1/notifications/:id/read", inbox::mark_read)
        .serve(req)
        .await
}
