//! Spin's host capabilities for rh-runtime: what a spin-sdk 5.2 component imports besides
//! WASI, implemented with Spin's semantics so that a component that works here works on Spin.
//!
//! Lifecycle, as in Spin's factors: the runtime builds one [`HostServices`] at start-up (pools,
//! key-value backends), one [`ComponentHostConfig`] per component (its variables, allowed
//! hosts and stores), and a fresh [`SpinHostState`] per instance; [`add_to_linker`] wires the
//! interfaces to the state.
//!
//! # Layout
//! - `build.rs`: bindings generated from spin-sdk's own WIT ([`bindings`]).
//! - [`outbound`]: `allowed_outbound_hosts` parsing and matching.
//! - [`runtime_config`]: `runtime-config.toml` (key-value stores).
//! - [`mysql`], [`redis`], [`variables`], [`key_value`]: one module per interface, each
//!   implementing its generated `Host` traits on [`SpinHostState`].
//! - [`observe`]: a span and two instruments around every host call.

// First: its `observed!` macro is used by the interfaces below.
#[macro_use]
pub mod observe;
pub mod bindings;
pub mod key_value;
pub mod mysql;
pub mod outbound;
pub mod redis;
pub mod runtime_config;
pub mod variables;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, ResourceTable};

use bindings::imports::fermyon::spin2_0_0 as spin;
use outbound::AllowedHosts;
use runtime_config::RuntimeConfig;

/// What one component may use, built once per component at start-up by the runtime.
#[derive(Debug, Clone, Default)]
pub struct ComponentHostConfig {
    /// The component's id in the manifest.
    pub component_id: String,
    /// Already-resolved values of `[component.x.variables]`.
    pub variables: HashMap<String, String>,
    /// Already template-expanded `allowed_outbound_hosts`.
    pub allowed_outbound_hosts: AllowedHosts,
    /// Labels of the key-value stores the component may open.
    pub key_value_stores: Vec<String>,
}

/// Shared by all instances: connection pools and key-value backends.
pub struct HostServices {
    metrics: observe::HostMetrics,
    mysql: mysql::MysqlPools,
    redis: redis::RedisPools,
    kv: key_value::KvStores,
}

impl HostServices {
    /// Sets up the key-value stores of `rc` (file paths relative to `app_dir`). Connections
    /// (MySQL, Redis, a Redis key-value store) are made lazily, on first use, as Spin does.
    /// Host calls are recorded on `meter` ([`observe`]) when `recording` (something reads
    /// the meter); their spans are made either way, for traces.
    pub async fn new(
        rc: &RuntimeConfig,
        app_dir: &Path,
        meter: &opentelemetry::metrics::Meter,
        recording: bool,
    ) -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            metrics: observe::HostMetrics::new(meter, recording),
            mysql: mysql::MysqlPools::default(),
            redis: redis::RedisPools::default(),
            kv: key_value::KvStores::new(&rc.key_value_stores, app_dir)?,
        }))
    }

    /// Refuses a component that lists a key-value store the runtime config does not define,
    /// as Spin does at start-up.
    pub fn validate_component(&self, cfg: &ComponentHostConfig) -> anyhow::Result<()> {
        for label in &cfg.key_value_stores {
            anyhow::ensure!(
                self.kv.is_defined(label),
                "component {:?} uses key-value store {label:?}, which the runtime config does not define",
                cfg.component_id
            );
        }
        Ok(())
    }

    /// Whether MySQL `open` takes a reset connection from a pool (the default; a guest
    /// cannot tell, see [`mysql`]) or makes a new one, as Spin does. Off is for measuring
    /// what a component gets on Spin and SpinKube.
    pub fn set_mysql_pooling(&self, on: bool) {
        self.mysql.set_pooling(on);
    }

    /// The host-call instruments (the runtime records outbound HTTP on them too).
    pub fn metrics(&self) -> &observe::HostMetrics {
        &self.metrics
    }

    /// Closes pooled connections; call once serving has stopped.
    pub async fn shutdown(&self) {
        self.mysql.shutdown().await;
        self.redis.shutdown().await;
        self.kv.shutdown().await;
    }
}

/// Per-instance state, one per wasmtime `Store`: the guest's open connections and stores.
pub struct SpinHostState {
    cfg: Arc<ComponentHostConfig>,
    services: Arc<HostServices>,
    table: ResourceTable,
    mysql_connections: usize,
    redis_connections: usize,
    kv_stores: usize,
}

impl SpinHostState {
    /// Cheap: no allocation beyond two `Arc` clones, so it suits a fresh instance per request.
    pub fn new(cfg: Arc<ComponentHostConfig>, services: Arc<HostServices>) -> Self {
        Self {
            cfg,
            services,
            table: ResourceTable::new(),
            mysql_connections: 0,
            redis_connections: 0,
            kv_stores: 0,
        }
    }

    /// The component this instance belongs to.
    pub fn config(&self) -> &ComponentHostConfig {
        &self.cfg
    }
}

/// Adds `fermyon:spin/{rdbms-types,mysql,redis,variables,key-value}@2.0.0` to `linker`, and
/// the types-only `fermyon:spin/redis-types` that Redis-triggered components import.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut SpinHostState,
) -> anyhow::Result<()> {
    type D = HasSelf<SpinHostState>;
    spin::rdbms_types::add_to_linker::<T, D>(linker, get)?;
    spin::mysql::add_to_linker::<T, D>(linker, get)?;
    spin::redis::add_to_linker::<T, D>(linker, get)?;
    spin::variables::add_to_linker::<T, D>(linker, get)?;
    spin::key_value::add_to_linker::<T, D>(linker, get)?;
    bindings::redis_trigger::fermyon::spin::redis_types::add_to_linker::<T, D>(linker, get)?;
    Ok(())
}
