//! Creator integrations: OAuth 2.0 links with Twitch, YouTube (Google) and Discord, and
//! the live streams of linked creators.
//!
//! Flow: `GET /integrations/{p}/authorize` ([`link::start`]) stores a single-use `state`
//! with a PKCE verifier (S256) for 10 minutes and returns the provider URL; the
//! provider redirects the browser to `/integrations/{p}/callback`
//! ([`link::complete`]), which spends the state, exchanges the code (outbound
//! `wasi:http`), reads the account and stores the link with its tokens encrypted
//! ([`crypto`], AES-256-GCM under the secret variable `integration_key`).
//!
//! # Layout
//! - [`provider`]: per-provider endpoints, request descriptions and response parsing (pure).
//! - [`pkce`]: verifier, S256 challenge, state, URL encoding (pure).
//! - [`crypto`]: token encryption at rest (pure).
//! - [`client`]: sends a described request with `spin_sdk::http::send`.
//! - [`settings`]: the Spin variables of the integration components.
//! - [`store`]: SQL for `oauth_states` / `creator_integrations`, audit rows, badges.
//! - [`link`]: authorize, callback, token refresh.
//! - [`streams`]: the once-a-minute refresh and the cached `GET /streams` page.
//! - [`webhook`]: the optional Discord webhook messages (rank-ups, achievements).
//! - [`error`]: [`IntegrationError`] and its mapping to `AppError`.

pub mod client;
pub mod crypto;
pub mod error;
pub mod link;
pub mod pkce;
pub mod provider;
pub mod settings;
pub mod store;
pub mod streams;
pub mod webhook;

pub use error::IntegrationError;
pub use provider::Provider;
