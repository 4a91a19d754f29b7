//! `rh-runtime`: the command line. All behaviour lives in the library (`rh_runtime`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use rh_runtime::{telemetry, App, OnDisconnect, UpOptions};

/// A Spin-compatible runtime for local development, tests and CI.
#[derive(Parser)]
#[command(name = "rh-runtime", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the application: serve its HTTP triggers and run its Redis triggers.
    ///
    /// Variables are resolved as Spin does: SPIN_VARIABLE_<NAME> from the environment, else
    /// the manifest default; a required variable without a value stops start-up.
    Up {
        /// The application manifest (spin.toml, manifest version 2).
        #[arg(short = 'f', long = "from", default_value = "spin.toml")]
        from: PathBuf,
        /// Address the HTTP trigger listens on.
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: String,
        /// Runtime configuration (key-value stores, ...), as Spin's --runtime-config-file.
        #[arg(long = "runtime-config-file")]
        runtime_config_file: Option<PathBuf>,
        /// Environment variable for every component, KEY=VALUE (repeatable).
        #[arg(short = 'e', long = "env", value_parser = parse_key_value)]
        env: Vec<(String, String)>,
        /// Largest request body accepted, in bytes; larger requests get 413.
        #[arg(long, default_value_t = 1 << 20)]
        max_request_body_bytes: usize,
        /// Requests run at once; more wait (see --queue-timeout-ms). Each running request
        /// holds an instance and its own MySQL/Redis connections, so this also caps the
        /// database connections one runtime opens.
        #[arg(long, default_value_t = rh_runtime::admission::DEFAULT_MAX_CONCURRENT_REQUESTS)]
        max_concurrent_requests: usize,
        /// How long a request waits for a free slot before it gets 503 with Retry-After.
        #[arg(long, default_value_t = rh_runtime::admission::DEFAULT_QUEUE_TIMEOUT.as_millis() as u64)]
        queue_timeout_ms: u64,
        /// Seconds to let in-flight requests finish after SIGINT/SIGTERM.
        #[arg(long, default_value_t = 30)]
        shutdown_grace_secs: u64,
        /// Keep Redis triggers running across a lost Redis connection (reconnect and
        /// re-subscribe). Without it, rh-runtime does what Spin does: a Redis trigger that
        /// cannot connect, or whose connection drops, ends the whole process with an error,
        /// HTTP triggers included, and whoever supervises it restarts it.
        #[arg(long)]
        redis_trigger_reconnect: bool,
        /// Serve Prometheus metrics at `GET /metrics` on this address (off by default; keep
        /// it off the public port). OTLP export is configured by the OTEL_EXPORTER_OTLP_*
        /// variables, as on Spin.
        #[arg(long, env = "RH_METRICS_LISTEN")]
        metrics_listen: Option<String>,
        /// Take MySQL connections from a pool, reset before each reuse so no guest can
        /// tell (true, the default), or open a new one per guest `open` as Spin does
        /// (false: what the same component gets on Spin and SpinKube, for benchmarks).
        #[arg(long, env = "RH_MYSQL_POOL", default_value_t = true, action = clap::ArgAction::Set)]
        mysql_pool: bool,
    },
    /// Run each component's [component.x.build] command in its workdir.
    Build {
        /// The application manifest.
        #[arg(short = 'f', long = "from", default_value = "spin.toml")]
        from: PathBuf,
    },
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

/// What Spin reads from the process environment: SPIN_VARIABLE_<NAME> → `name`.
fn variable_overrides() -> HashMap<String, String> {
    std::env::vars()
        .filter_map(|(k, v)| {
            k.strip_prefix("SPIN_VARIABLE_")
                .map(|n| (n.to_ascii_lowercase(), v))
        })
        .collect()
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Text or JSON lines (RH_LOG_FORMAT), and span export when OTLP is configured.
    let logging = telemetry::init_logging(telemetry::LogFormat::from_env())?;
    let result = run(Cli::parse()).await;
    logging.shutdown();
    result
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Up {
            from,
            listen,
            runtime_config_file,
            env,
            max_request_body_bytes,
            max_concurrent_requests,
            queue_timeout_ms,
            shutdown_grace_secs,
            redis_trigger_reconnect,
            metrics_listen,
            mysql_pool,
        } => {
            let opts = UpOptions {
                manifest: from,
                runtime_config: runtime_config_file,
                env,
                variable_overrides: variable_overrides(),
                prometheus_metrics: metrics_listen.is_some(),
                otlp_metrics: telemetry::otlp_configured("METRICS"),
            };
            let app = App::load(opts)
                .await?
                .with_max_body_bytes(max_request_body_bytes)
                .with_admission(
                    max_concurrent_requests,
                    Duration::from_millis(queue_timeout_ms),
                )
                .with_shutdown_grace(Duration::from_secs(shutdown_grace_secs))
                .with_mysql_pooling(mysql_pool)
                .with_redis_on_disconnect(if redis_trigger_reconnect {
                    OnDisconnect::Reconnect
                } else {
                    OnDisconnect::Exit
                });
            let app = match metrics_listen {
                Some(addr) => {
                    let listener = tokio::net::TcpListener::bind(&addr)
                        .await
                        .with_context(|| format!("cannot listen on {addr} for metrics"))?;
                    eprintln!("Metrics on http://{}/metrics", listener.local_addr()?);
                    app.with_metrics_listener(listener)
                }
                None => app,
            };
            if !app.has_http_trigger() {
                // Redis triggers only (spin-worker.toml): like Spin, listen on nothing.
                eprintln!("Running Redis triggers (no HTTP triggers: not listening)");
                return app.run(shutdown_signal()).await;
            }
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            eprintln!("Serving http://{}", listener.local_addr()?);
            app.serve(listener, shutdown_signal()).await
        }
        Command::Build { from } => rh_runtime::build::build(&from),
    }
}
