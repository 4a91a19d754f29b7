//! The `auth` Spin component: accounts, tokens, profiles and `/health`.
//!
//! This file is the route table; handlers decode, call the domain or the store, encode.
//! Everything shared (routing, CORS, problem+json, auth, rate limits) is in `rh-app`.
//!
//! # Layout
//! - [`auth`]: register, login, refresh (rotation with reuse detection), logout.
//! - [`users`]: `GET`/`PATCH /users/me`, `GET /users/{id}`.
//! - [`health`]: MySQL and Redis checks.
//! - the SQL for `users`, `refresh_tokens` and `user_stats` is `rh_app::users::store`.
//! - [`password`]: Argon2id hashing with OWASP's parameters.
//! - [`session`]: issuing an access/refresh pair and recording the refresh token.

mod auth;
mod health;
mod password;
mod session;
mod users;

use rh_infra::http::Router;
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

fn routes() -> Router {
    Router::new()
        .post("/api/v1/auth/register", auth::register)
        .post("/api/v1/auth/login", auth::login)
        .post("/api/v1/auth/refresh", auth::refresh)
        .post("/api/v1/auth/logout", auth::logout)
        // `/me` before `/:id`, so "me" is never read as an id.
        .get("/api/v1/users/me", users::me)
        .patch("/api/v1/users/me", users::update_me)
        .get("/api/v1/users/:id", users::profile)
        .get("/health", health::health)
}

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    routes().serve(req).await
}
