//! `fermyon:spin/key-value@2.0.0`, with Spin's rules.
//!
//! - `open(label)`: `access-denied` unless the label is in the component's
//!   `key_value_stores`; `no-such-store` when it is listed but the runtime config defines no
//!   such store; `store-table-full` past Spin's 256 open stores per instance.
//! - Backends ([`RuntimeConfig`](crate::runtime_config::RuntimeConfig)): memory (the
//!   `default`), a local JSON file, or Redis (keys stored as given, `get-keys` is `KEYS *`,
//!   as Spin's Redis store does; so give the store a Redis database of its own).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use fred::prelude::*;
use tokio::sync::OnceCell;
use wasmtime::component::Resource;

use crate::bindings::imports::fermyon::spin2_0_0::key_value::{self, Error};
use crate::observe::Interface;
use crate::runtime_config::KeyValueStoreConfig;
use crate::SpinHostState;

/// Spin's cap on stores open at once in one instance.
pub const MAX_STORES_PER_INSTANCE: usize = 256;

/// An open store (the `store` resource).
pub struct KvStore {
    backend: Arc<Backend>,
}

/// The stores of the runtime config, by label, shared by all instances.
pub(crate) struct KvStores {
    stores: HashMap<String, Arc<Backend>>,
}

enum Backend {
    Memory(Mutex<BTreeMap<String, Vec<u8>>>),
    File {
        path: PathBuf,
        data: Mutex<BTreeMap<String, Vec<u8>>>,
    },
    Redis {
        url: String,
        client: OnceCell<fred::clients::Client>,
    },
}

impl KvStores {
    pub(crate) fn new(
        configs: &BTreeMap<String, KeyValueStoreConfig>,
        app_dir: &Path,
    ) -> anyhow::Result<Self> {
        let mut stores = HashMap::new();
        for (label, config) in configs {
            let backend = match config {
                KeyValueStoreConfig::Memory => Backend::Memory(Mutex::default()),
                KeyValueStoreConfig::File(path) => {
                    let path = app_dir.join(path);
                    let data =
                        load_file(&path).with_context(|| format!("key_value_store.{label}"))?;
                    Backend::File {
                        path,
                        data: Mutex::new(data),
                    }
                }
                KeyValueStoreConfig::Redis { url } => Backend::Redis {
                    url: url.clone(),
                    client: OnceCell::new(),
                },
            };
            stores.insert(label.clone(), Arc::new(backend));
        }
        Ok(Self { stores })
    }

    pub(crate) fn is_defined(&self, label: &str) -> bool {
        self.stores.contains_key(label)
    }

    pub(crate) async fn shutdown(&self) {
        for backend in self.stores.values() {
            if let Backend::Redis { client, .. } = &**backend {
                if let Some(c) = client.get() {
                    let _ = c.quit().await;
                }
            }
        }
    }
}

fn load_file(path: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a key-value file", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes the whole map to a temporary file and renames it over the old one, so a crash
/// never leaves half a file.
fn save_file(path: &Path, data: &BTreeMap<String, Vec<u8>>) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::Other(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    let json = serde_json::to_vec(data).map_err(|e| Error::Other(e.to_string()))?;
    std::fs::write(&tmp, json).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn other(e: impl std::fmt::Display) -> Error {
    Error::Other(e.to_string())
}

impl Backend {
    async fn redis(
        url: &str,
        cell: &OnceCell<fred::clients::Client>,
    ) -> Result<fred::clients::Client, Error> {
        cell.get_or_try_init(|| async {
            let config = fred::types::config::Config::from_url(url).map_err(other)?;
            let client = fred::types::Builder::from_config(config)
                .set_policy(fred::types::config::ReconnectPolicy::new_exponential(
                    0, 100, 5_000, 2,
                ))
                .build()
                .map_err(other)?;
            client.init().await.map_err(other)?;
            Ok(client)
        })
        .await
        .cloned()
    }

    /// Runs `f` on the in-process map (memory and file stores), saving the file if `f` changed it.
    fn local<R>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, Vec<u8>>) -> (R, bool),
    ) -> Result<R, Error> {
        match self {
            Backend::Memory(data) => Ok(f(&mut data.lock().unwrap_or_else(|e| e.into_inner())).0),
            Backend::File { path, data } => {
                let mut data = data.lock().unwrap_or_else(|e| e.into_inner());
                let (r, changed) = f(&mut data);
                if changed {
                    save_file(path, &data)?;
                }
                Ok(r)
            }
            Backend::Redis { .. } => unreachable!("local() on a Redis store"),
        }
    }

    async fn get(&self, key: String) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Backend::Redis { url, client } => {
                let c = Self::redis(url, client).await?;
                c.get::<Option<Vec<u8>>, _>(key).await.map_err(other)
            }
            _ => self.local(|m| (m.get(&key).cloned(), false)),
        }
    }

    async fn set(&self, key: String, value: Vec<u8>) -> Result<(), Error> {
        match self {
            Backend::Redis { url, client } => {
                let c = Self::redis(url, client).await?;
                c.set::<(), _, _>(key, value, None, None, false)
                    .await
                    .map_err(other)
            }
            _ => self.local(|m| (m.insert(key, value), true)).map(drop),
        }
    }

    async fn delete(&self, key: String) -> Result<(), Error> {
        match self {
            Backend::Redis { url, client } => {
                let c = Self::redis(url, client).await?;
                c.del::<i64, _>(key).await.map(drop).map_err(other)
            }
            _ => self.local(|m| {
                let removed = m.remove(&key).is_some();
                ((), removed)
            }),
        }
    }

    async fn exists(&self, key: String) -> Result<bool, Error> {
        match self {
            Backend::Redis { url, client } => {
                let c = Self::redis(url, client).await?;
                c.exists::<i64, _>(key).await.map(|n| n > 0).map_err(other)
            }
            _ => self.local(|m| (m.contains_key(&key), false)),
        }
    }

    async fn get_keys(&self) -> Result<Vec<String>, Error> {
        match self {
            Backend::Redis { url, client } => {
                let c = Self::redis(url, client).await?;
                c.custom::<Vec<String>, _>(
                    fred::types::CustomCommand::new_static(
                        "KEYS",
                        fred::types::ClusterHash::FirstKey,
                        false,
                    ),
                    vec!["*"],
                )
                .await
                .map_err(other)
            }
            _ => self.local(|m| (m.keys().cloned().collect(), false)),
        }
    }
}

impl key_value::Host for SpinHostState {}

impl key_value::HostStore for SpinHostState {
    async fn open(&mut self, label: String) -> wasmtime::Result<Result<Resource<KvStore>, Error>> {
        if !self.cfg.key_value_stores.contains(&label) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(backend) = self.services.kv.stores.get(&label) else {
            return Ok(Err(Error::NoSuchStore));
        };
        if self.kv_stores >= MAX_STORES_PER_INSTANCE {
            return Ok(Err(Error::StoreTableFull));
        }
        let res = self.table.push(KvStore {
            backend: backend.clone(),
        })?;
        self.kv_stores += 1;
        Ok(Ok(res))
    }

    async fn get(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(observed!(
            self,
            Interface::KeyValue,
            "key_value.get",
            backend.get(key)
        ))
    }

    async fn set(
        &mut self,
        store: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(observed!(
            self,
            Interface::KeyValue,
            "key_value.set",
            backend.set(key, value)
        ))
    }

    async fn delete(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(observed!(
            self,
            Interface::KeyValue,
            "key_value.delete",
            backend.delete(key)
        ))
    }

    async fn exists(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(observed!(
            self,
            Interface::KeyValue,
            "key_value.exists",
            backend.exists(key)
        ))
    }

    async fn get_keys(
        &mut self,
        store: Resource<KvStore>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(observed!(
            self,
            Interface::KeyValue,
            "key_value.get_keys",
            backend.get_keys()
        ))
    }

    async fn drop(&mut self, store: Resource<KvStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        self.kv_stores -= 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_store_round_trip() {
        let b = Backend::Memory(Mutex::default());
        assert_eq!(b.get("k".into()).await.unwrap(), None);
        b.set("k".into(), b"v".to_vec()).await.unwrap();
        assert!(b.exists("k".into()).await.unwrap());
        assert_eq!(b.get("k".into()).await.unwrap(), Some(b"v".to_vec()));
        assert_eq!(b.get_keys().await.unwrap(), vec!["k".to_string()]);
        b.delete("k".into()).await.unwrap();
        b.delete("k".into()).await.unwrap();
        assert!(!b.exists("k".into()).await.unwrap());
    }

    #[tokio::test]
    async fn file_store_survives_a_restart() {
        let dir = std::env::temp_dir().join(format!("rh-kv-test-{}", std::process::id()));
        let configs = BTreeMap::from([(
            "f".to_string(),
            KeyValueStoreConfig::File("kv/f.json".into()),
        )]);
        let stores = KvStores::new(&configs, &dir).unwrap();
        stores.stores["f"]
            .set("a".into(), vec![0, 255])
            .await
            .unwrap();
        let reopened = KvStores::new(&configs, &dir).unwrap();
        assert_eq!(
            reopened.stores["f"].get("a".into()).await.unwrap(),
            Some(vec![0, 255])
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
