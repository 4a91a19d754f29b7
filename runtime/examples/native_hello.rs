//! The benchmark's native baseline: the hello fixture's handler as a plain axum service.
//! `cargo run --release -p rh-runtime --example native_hello -- 127.0.0.1:8091`
//! A POST gets an empty 200 in protobuf, so the same process also serves the benchmark as
//! an OTLP/HTTP sink that accepts every export and keeps nothing.
use axum::http::header;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8091".to_string());
    let app = axum::Router::new().fallback(
        get(|| async { ([(header::CONTENT_TYPE, "text/plain")], "hello") })
            .post(|| async { ([(header::CONTENT_TYPE, "application/x-protobuf")], "") }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("native hello on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
