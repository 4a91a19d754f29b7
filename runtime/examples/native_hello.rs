//! The benchmark's native baseline: the hello fixture's handler as a plain axum service.
//! `cargo run --release -p rh-runtime --example native_hello -- 127.0.0.1:8091`
use axum::http::header;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8091".to_string());
    let app = axum::Router::new().fallback(get(|| async {
        ([(header::CONTENT_TYPE, "text/plain")], "hello")
    }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("native hello on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
