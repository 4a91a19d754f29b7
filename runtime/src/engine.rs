//! The wasmtime `Engine` (configured once), the epoch ticker, and component loading
//! (including turning a `wasm32-wasip1` core module into a component, as Spin does).
//!
//! Engine settings are where a fresh instance per request gets cheap (see SPIN-NOTES): the
//! pooling allocator keeps slots warm, `*_keep_resident` resets memory with `memset` instead
//! of `madvise` + page faults, and `PAGEMAP_SCAN` (Linux >= 6.7) limits that reset to the
//! pages the guest actually touched.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use wasmtime::component::Component;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances; a guest running longer than this yields to the executor.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Most concurrent instances (requests + messages) the pool holds.
const MAX_INSTANCES: u32 = 1000;

pub fn new_engine() -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);

    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(MAX_INSTANCES)
        // spin-sdk components hold a few core instances each (guest, adapters, shims).
        .total_core_instances(MAX_INSTANCES * 8)
        .total_memories(MAX_INSTANCES * 2)
        .total_tables(MAX_INSTANCES * 4)
        .total_stacks(MAX_INSTANCES)
        .max_memory_size(1 << 30)
        .max_component_instance_size(2 << 20)
        .max_core_instance_size(2 << 20)
        .linear_memory_keep_resident(16 << 20)
        .table_keep_resident(1 << 20)
        .pagemap_scan(Enabled::Auto);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));

    // The compilation cache makes the second start (and every test after the first) skip
    // cranelift; a broken cache directory only costs speed.
    match wasmtime::Cache::new(wasmtime::CacheConfig::new()) {
        Ok(cache) => {
            config.cache(Some(cache));
        }
        Err(e) => tracing::debug!("wasmtime compilation cache disabled: {e:#}"),
    }

    match Engine::new(&config) {
        Ok(engine) => Ok(engine),
        // Some kernels refuse the large virtual reservations of the pool; fall back.
        Err(e) => {
            tracing::warn!("pooling allocator unavailable ({e:#}); using on-demand allocation");
            config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
            Ok(Engine::new(&config)?)
        }
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] on its own OS thread (a tokio task
/// could be starved by the very guests it must interrupt). Stops when dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    pub fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("rh-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch thread");
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads and compiles a component, converting a core module first.
pub fn load_component(
    engine: &Engine,
    path: &Path,
    component_id: &str,
) -> anyhow::Result<Component> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "component `{component_id}`: cannot read source {}",
            path.display()
        )
    })?;
    let bytes = if is_core_module(&bytes) {
        componentize(&bytes).with_context(|| {
            format!(
                "component `{component_id}`: cannot adapt core module {}",
                path.display()
            )
        })?
    } else {
        bytes
    };
    Component::new(engine, &bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| {
            format!(
                "component `{component_id}`: cannot compile {}",
                path.display()
            )
        })
}

/// A core module's preamble is `\0asm` + version 1; a component's has layer 1 in the upper
/// half of the version field.
pub fn is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
}

/// Wraps a `wasm32-wasip1` module into a component with wasmtime's preview 1 reactor adapter
/// (the module's `_start` is not called: Spin components are reactors).
fn componentize(module: &[u8]) -> anyhow::Result<Vec<u8>> {
    use wasi_preview1_component_adapter_provider::{
        WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
    };
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_modules_and_components_are_told_apart() {
        assert!(is_core_module(b"\0asm\x01\0\0\0rest"));
        assert!(!is_core_module(b"\0asm\x0d\0\x01\0rest"));
        assert!(!is_core_module(b"nope"));
    }
}
