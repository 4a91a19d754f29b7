//! The seam to `rh-spin-host` (Spin's host capabilities: MySQL, Redis, variables, key-value,
//! outbound-host rules).
//!
//! TEMPORARY: until rh-spin-host exposes its contract (contracts.md), this module provides
//! stand-ins with the same names and signatures so the runtime builds and serves components
//! that need no Spin host interface. Swapping to the real crate is a `pub use` here.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub mod outbound {
    /// Stand-in for `rh_spin_host::outbound::AllowedHosts`: exact `scheme://host:port`
    /// entries and `*://*:*` only.
    #[derive(Debug, Clone, Default)]
    pub struct AllowedHosts {
        entries: Vec<String>,
    }

    impl AllowedHosts {
        pub fn parse(entries: &[String]) -> anyhow::Result<Self> {
            Ok(Self {
                entries: entries.to_vec(),
            })
        }

        pub fn allows_url(&self, url: &str) -> bool {
            let Ok(u) = url::Url::parse(url) else {
                return false;
            };
            let Some(host) = u.host_str() else {
                return false;
            };
            let port = u.port_or_known_default().unwrap_or(0);
            let wanted = format!("{}://{}:{}", u.scheme(), host, port);
            self.entries.iter().any(|e| e == "*://*:*" || *e == wanted)
        }
    }
}

pub mod runtime_config {
    use std::path::Path;

    /// Stand-in for `rh_spin_host::runtime_config::RuntimeConfig`.
    #[derive(Debug, Default)]
    pub struct RuntimeConfig;

    impl RuntimeConfig {
        pub fn from_file(path: Option<&Path>) -> anyhow::Result<Self> {
            if let Some(p) = path {
                std::fs::read_to_string(p).map_err(|e| {
                    anyhow::anyhow!("cannot read runtime config {}: {e}", p.display())
                })?;
            }
            Ok(Self)
        }
    }
}

pub use outbound::AllowedHosts;
pub use runtime_config::RuntimeConfig;

pub struct ComponentHostConfig {
    pub component_id: String,
    pub variables: HashMap<String, String>,
    pub allowed_outbound_hosts: AllowedHosts,
    pub key_value_stores: Vec<String>,
}

pub struct HostServices;

impl HostServices {
    pub async fn new(_rc: &RuntimeConfig, _app_dir: &Path) -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(Self))
    }
}

pub struct SpinHostState {
    #[allow(dead_code)]
    cfg: Arc<ComponentHostConfig>,
}

impl SpinHostState {
    pub fn new(cfg: Arc<ComponentHostConfig>, _services: Arc<HostServices>) -> Self {
        Self { cfg }
    }
}

pub fn add_to_linker<T: Send + 'static>(
    _linker: &mut wasmtime::component::Linker<T>,
    _get: fn(&mut T) -> &mut SpinHostState,
) -> anyhow::Result<()> {
    Ok(())
}
