//! `teams`: teams (guilds) and the caller's activity trail.
//!
//! Everything that decides is in `rh_app::teams` (rules, transactions, reads); the
//! handlers here decode, authenticate, call it, publish the notifications after the
//! commit, and encode.
//!
//! # Layout
//! - `lib.rs`: the route table (this file);
//! - `handlers.rs`: team routes;
//! - `activity.rs`: `GET /api/v1/users/me/activity`.

mod activity;
mod handlers;

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

use rh_infra::http::Router;

#[http_component]
async fn route(req: IncomingRequest) -> Response {
    // Literal segments (`invites`) come before `:id`: the first matching route wins.
    Router::new()
        .post("/api/v1/teams", handlers::create)
        .get("/api/v1/teams", handlers::search)
        .get("/api/v1/teams/invites", handlers::my_invites)
        .post("/api/v1/teams/invites/:invite_id/accept", handlers::accept)
        .post(
            "/api/v1/teams/invites/:invite_id/decline",
            handlers::decline,
        )
        .get("/api/v1/teams/:id", handlers::show)
        .delete("/api/v1/teams/:id", handlers::disband)
        .post("/api/v1/teams/:id/invites", handlers::invite)
        .post("/api/v1/teams/:id/leave", handlers::leave)
        .post("/api/v1/teams/:id/transfer", handlers::transfer)
        .patch("/api/v1/teams/:id/members/:user_id", handlers::set_role)
        .delete("/api/v1/teams/:id/members/:user_id", handlers::remove)
        .get("/api/v1/rankings/teams/:mode", handlers::rankings)
        .get("/api/v1/users/me/activity", activity::mine)
        .serve(req)
        .await
}
