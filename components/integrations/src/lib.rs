//! `integrations`: creator integrations (OAuth 2.0 with PKCE against Twitch, YouTube and
//! Discord) and the live-streams list.
//!
//! The flows live in `rh_app::integrations` (see its docs); this component decodes,
//! authenticates, calls them and encodes. The callback is the one route without a
//! Bearer token: the browser arrives there from the provider, and the single-use
//! `state` identifies the player.
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
        // Bearer: the caller's links, start a link, unlink.
        .get("/api/v1/integrations", handlers::list)
        .get(
            "/api/v1/integrations/:provider/authorize",
            handlers::authorize,
        )
        .delete("/api/v1/integrations/:provider", handlers::unlink)
        // The provider's redirect: authenticated by the bound `state`.
        .get(
            "/api/v1/integrations/:provider/callback",
            handlers::callback,
        )
        // Public: live creators, most viewers first (from the Redis cache).
        .get("/api/v1/streams", handlers::streams)
        // Public: badges earned through integrations (`discord`), for profiles.
        .get("/api/v1/users/:id/badges", handlers::badges)
        .serve(req)
        .await
}
