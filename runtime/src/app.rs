//! `App::load` (everything that can fail before serving) and `App::serve`.
//!
//! Load order: manifest → variables → runtime config + host services → engine → per
//! component: resolved host config, compile, pre-instantiate → triggers. Any failure returns
//! an error and nothing starts half-configured.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use wasmtime::component::InstancePre;

use crate::admission::Admission;
use crate::engine::{self, EpochTicker};
use crate::host::{AllowedHosts, ComponentHostConfig, HostServices, RuntimeConfig};
use crate::http::{HttpComponent, HttpTrigger, DEFAULT_MAX_BODY_BYTES};
use crate::instance::{self, ComponentContext, InstanceState};
use crate::manifest::{LoadedManifest, RouteDecl};
use crate::redis::OnDisconnect;
use crate::routes::Router;
use crate::telemetry::{serve_metrics, RuntimeMetrics, Telemetry};
use crate::variables::Resolved;

/// What `rh-runtime up` is given.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// `spin.toml`.
    pub manifest: PathBuf,
    /// `runtime-config.toml`.
    pub runtime_config: Option<PathBuf>,
    /// `--env KEY=VALUE`, given to every component's WASI environment.
    pub env: Vec<(String, String)>,
    /// What Spin reads from `SPIN_VARIABLE_<NAME>` (key = lowercase name).
    pub variable_overrides: HashMap<String, String>,
    /// Keep metrics for a Prometheus listener ([`App::with_metrics_listener`]; the command
    /// line sets it with `--metrics-listen`).
    pub prometheus_metrics: bool,
    /// Also push metrics over OTLP (`telemetry::otlp_configured("METRICS")` in the command
    /// line; off in in-process tests unless they ask).
    pub otlp_metrics: bool,
}

/// A loaded application, ready to serve.
pub struct App {
    name: String,
    http: Option<HttpTrigger>,
    redis: Vec<crate::redis::Subscription>,
    on_redis_disconnect: OnDisconnect,
    grace: Duration,
    services: Arc<HostServices>,
    telemetry: Arc<Telemetry>,
    metrics_listener: Option<TcpListener>,
}

/// A compiled, pre-instantiated component.
struct LoadedComponent {
    ctx: Arc<ComponentContext>,
    pre: InstancePre<InstanceState>,
}

impl App {
    /// Parses and validates the manifest, resolves variables, compiles and pre-instantiates
    /// every component. Any error here means nothing starts.
    pub async fn load(opts: UpOptions) -> anyhow::Result<App> {
        let loaded = LoadedManifest::read(&opts.manifest)?;
        let m = &loaded.manifest;
        let vars = Resolved::resolve(&m.variables, &opts.variable_overrides)?;

        let rc = RuntimeConfig::from_file(opts.runtime_config.as_deref())?;
        let telemetry = Arc::new(Telemetry::new(opts.prometheus_metrics, opts.otlp_metrics)?);
        let services =
            HostServices::new(&rc, &loaded.dir, telemetry.meter(), telemetry.recording())
                .await
                .context("initialising host services")?;
        let engine = engine::new_engine()?;
        let linker = instance::linker(&engine)?;
        let ticker = Arc::new(EpochTicker::start(engine.clone()));

        // Resolve every component's configuration first: cheap, and a bad template should
        // not wait for a compile to be reported.
        let mut contexts = Vec::with_capacity(m.component.len());
        for (id, decl) in &m.component {
            let mut variables = HashMap::with_capacity(decl.variables.len());
            for (name, template) in &decl.variables {
                let ctx = format!("[component.{id}.variables] `{name}`");
                variables.insert(name.clone(), vars.expand(template, &ctx)?);
            }
            let hosts = decl
                .allowed_outbound_hosts
                .iter()
                .map(|h| vars.expand(h, &format!("[component.{id}] allowed_outbound_hosts")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let allowed = AllowedHosts::parse(&hosts)
                .with_context(|| format!("[component.{id}] allowed_outbound_hosts"))?;
            let mut env: Vec<(String, String)> = decl
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            env.extend(opts.env.iter().cloned());
            let host_config = Arc::new(ComponentHostConfig {
                component_id: id.clone(),
                variables,
                allowed_outbound_hosts: allowed,
                key_value_stores: decl.key_value_stores.clone(),
            });
            services.validate_component(&host_config)?;
            let ctx = ComponentContext {
                id: id.as_str().into(),
                env,
                host_config,
                services: services.clone(),
                ticker: ticker.clone(),
                metrics: telemetry.runtime().clone(),
            };
            contexts.push((id.clone(), loaded.source_path(decl), ctx));
        }

        // Compile in parallel on the blocking pool; cranelift is the slow part of start-up.
        let mut compiles = Vec::with_capacity(contexts.len());
        for (id, path, ctx) in contexts {
            let engine = engine.clone();
            compiles.push(tokio::task::spawn_blocking(move || {
                engine::load_component(&engine, &path, &id).map(|c| (id, c, ctx))
            }));
        }
        let mut components: HashMap<String, Arc<LoadedComponent>> = HashMap::new();
        for handle in compiles {
            let (id, component, ctx) = handle.await.context("compile task panicked")??;
            let pre = linker
                .instantiate_pre(&component)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!("component `{id}`: imports something rh-runtime does not provide")
                })?;
            components.insert(
                id,
                Arc::new(LoadedComponent {
                    ctx: Arc::new(ctx),
                    pre,
                }),
            );
        }

        let http = if m.trigger.http.is_empty() {
            None
        } else {
            Some(build_http(
                &loaded,
                &components,
                telemetry.runtime().clone(),
            )?)
        };

        let mut redis = Vec::new();
        for t in &m.trigger.redis {
            let id = t.component_id();
            let template = t
                .address
                .as_deref()
                .or(m
                    .application
                    .trigger
                    .redis
                    .as_ref()
                    .map(|r| r.address.as_str()))
                .unwrap_or_default();
            let address = vars.expand(
                template,
                &format!("[[trigger.redis]] channel {:?} address", t.channel),
            )?;
            let pre = crate::redis::redis_pre(&components[id].pre, id)?;
            redis.push(crate::redis::Subscription {
                address,
                channel: t.channel.clone(),
                ctx: components[id].ctx.clone(),
                pre,
            });
        }

        Ok(App {
            name: m.application.name.clone(),
            http,
            redis,
            on_redis_disconnect: OnDisconnect::default(),
            grace: Duration::from_secs(30),
            services,
            telemetry,
            metrics_listener: None,
        })
    }

    /// Serves `GET /metrics` (Prometheus text) on `listener` while the app runs: an
    /// address of its own, never the public port (see [`crate::telemetry`]). The app must
    /// have been loaded with [`UpOptions::prometheus_metrics`], or the page stays empty.
    pub fn with_metrics_listener(mut self, listener: TcpListener) -> Self {
        if !self.telemetry.prometheus() {
            tracing::warn!(
                "a metrics listener without UpOptions::prometheus_metrics serves nothing"
            );
        }
        self.metrics_listener = Some(listener);
        self
    }

    /// Caps request bodies (default 1 MiB); larger ones get 413.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        if let Some(h) = self.http.as_mut() {
            h.max_body_bytes = bytes;
        }
        self
    }

    /// At most `limit` requests run at once; others wait up to `queue_timeout`, then get
    /// 503 (defaults in [`crate::admission`]).
    pub fn with_admission(mut self, limit: usize, queue_timeout: Duration) -> Self {
        if let Some(h) = self.http.as_mut() {
            h.admission = Admission::new(limit, queue_timeout);
        }
        self
    }

    /// How long `serve` waits for in-flight requests after `shutdown` resolves (default 30 s).
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// MySQL connections from a pool (`true`, the default) or one new connection per
    /// guest `open`, as Spin makes them (`false`: `--mysql-pool false`, for benchmarks).
    pub fn with_mysql_pooling(self, on: bool) -> Self {
        self.services.set_mysql_pooling(on);
        self
    }

    /// What the Redis triggers do when their connection fails or drops (default
    /// [`OnDisconnect::Exit`], as Spin: the app stops, HTTP included).
    pub fn with_redis_on_disconnect(mut self, on_disconnect: OnDisconnect) -> Self {
        self.on_redis_disconnect = on_disconnect;
        self
    }

    /// Whether the manifest has HTTP triggers (an app of Redis triggers alone listens on
    /// nothing: run it with [`App::run`]).
    pub fn has_http_trigger(&self) -> bool {
        self.http.is_some()
    }

    /// Serves HTTP triggers on `listener` and runs Redis triggers until `shutdown` resolves;
    /// then drains in-flight requests. Under [`OnDisconnect::Exit`] a Redis trigger that
    /// loses its connection stops the app the same way (in-flight requests drain) and this
    /// returns that trigger's error, as Spin ends its process.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(app = %self.name, addr = ?listener.local_addr().ok(), "serving");
        self.run_inner(Some(listener), shutdown).await
    }

    /// Runs an app's triggers without an HTTP listener (its HTTP triggers, if any, are not
    /// served) until `shutdown` resolves or, under [`OnDisconnect::Exit`], a Redis trigger
    /// fails.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(app = %self.name, "running its Redis triggers");
        self.run_inner(None, shutdown).await
    }

    async fn run_inner(
        self,
        listener: Option<TcpListener>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let metrics_server = self.metrics_listener.map(|listener| {
            let mut stop = stop_rx.clone();
            tokio::spawn(serve_metrics(
                listener,
                self.telemetry.clone(),
                async move {
                    let _ = stop.changed().await;
                },
            ))
        });
        let redis_tasks = crate::redis::spawn_all(&self.redis, self.on_redis_disconnect, stop_rx);
        // The first trigger that ends with an error (only ever under OnDisconnect::Exit).
        let (failed_tx, mut failed_rx) = tokio::sync::mpsc::channel::<anyhow::Error>(1);
        let watchers: Vec<_> = redis_tasks
            .into_iter()
            .map(|task| {
                let failed = failed_tx.clone();
                tokio::spawn(async move {
                    let outcome = match task.await {
                        Ok(r) => r,
                        Err(e) => Err(anyhow::anyhow!("redis trigger task panicked: {e}")),
                    };
                    if let Err(e) = outcome {
                        let _ = failed.try_send(e);
                    }
                })
            })
            .collect();
        drop(failed_tx);
        let failure = Arc::new(std::sync::Mutex::new(None::<anyhow::Error>));
        let stopping = {
            let failure = failure.clone();
            async move {
                tokio::select! {
                    () = shutdown => {}
                    Some(e) = failed_rx.recv() => {
                        tracing::error!("a trigger exited unexpectedly, terminating: {e:#}");
                        *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    }
                }
            }
        };

        let result = match (self.http, listener) {
            (Some(http), Some(listener)) => {
                Arc::new(http).serve(listener, stopping, self.grace).await
            }
            _ => {
                stopping.await;
                Ok(())
            }
        };
        let _ = stop_tx.send(true);
        for w in watchers {
            let _ = w.await;
        }
        self.services.shutdown().await;
        if let Some(server) = metrics_server {
            let _ = server.await;
        }
        self.telemetry.shutdown();
        let failed = failure.lock().unwrap_or_else(|p| p.into_inner()).take();
        match failed {
            Some(e) => Err(e.context("a Redis trigger exited unexpectedly")),
            None => result,
        }
    }
}

fn build_http(
    loaded: &LoadedManifest,
    components: &HashMap<String, Arc<LoadedComponent>>,
    metrics: Arc<RuntimeMetrics>,
) -> anyhow::Result<HttpTrigger> {
    let mut http_components = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut entries = Vec::new();
    for t in &loaded.manifest.trigger.http {
        let id = t.component_id();
        let RouteDecl::Route(route) = &t.route else {
            continue;
        };
        let i = match index.get(id) {
            Some(i) => *i,
            None => {
                let c = &components[id];
                let pre = wasmtime_wasi_http::p2::bindings::ProxyPre::new(c.pre.clone()).map_err(anyhow::Error::from).with_context(|| {
                    format!("component `{id}` is used by [[trigger.http]] but does not export wasi:http/incoming-handler@0.2")
                })?;
                http_components.push(Arc::new(HttpComponent {
                    ctx: c.ctx.clone(),
                    pre,
                }));
                index.insert(id, http_components.len() - 1);
                http_components.len() - 1
            }
        };
        entries.push((route.as_str(), i, id));
    }
    let router = Router::build(entries)?;
    Ok(HttpTrigger {
        router,
        components: http_components,
        max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        admission: Admission::default(),
        metrics,
    })
}
