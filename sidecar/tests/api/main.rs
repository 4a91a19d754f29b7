//! Integration tests: real WebSocket clients (tokio-tungstenite) against [`rh_sidecar`] served
//! on port 0, with the real local Redis (db 1 for revocation keys) or a throwaway
//! `redis-server` the test starts and kills itself.
//!
//! Every test uses fresh channel names and user ids, so tests (and anything else publishing on
//! the shared Redis) cannot see each other's events.

mod helpers;

mod auth;
mod channels;
mod fanout;
mod lifecycle;
mod limits;
