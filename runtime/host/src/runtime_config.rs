//! `runtime-config.toml`: where the key-value stores live.
//!
//! ```toml
//! [key_value_store.default]
//! type = "redis"
//! url = "redis://127.0.0.1:6379/2"
//!
//! [key_value_store.cache]
//! type = "spin"           # local: in memory, or in a file when `path` is given
//! path = ".spin/cache.json"
//! ```
//!
//! Without a file (or without a `default` entry) the `default` store is in memory, which is
//! what a component may assume on any Spin. Unknown keys are refused, naming them, so a typo
//! never silently leaves a store in memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

/// The parsed runtime configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Key-value stores by label (always holds `default`).
    pub key_value_stores: BTreeMap<String, KeyValueStoreConfig>,
}

/// Where one key-value store keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValueStoreConfig {
    /// In this process's memory; gone when it exits.
    Memory,
    /// A JSON file (relative paths are relative to the app's directory), rewritten on change.
    File(PathBuf),
    /// A Redis database (keys stored as given, as Spin's Redis store does).
    Redis {
        /// `redis://host:port[/db]`.
        url: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    key_value_store: BTreeMap<String, RawStore>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    #[serde(rename = "type")]
    kind: String,
    url: Option<String>,
    path: Option<PathBuf>,
}

impl RuntimeConfig {
    /// Reads `path`, or gives the defaults when there is none.
    pub fn from_file(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::with_defaults(BTreeMap::new()));
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read runtime config {}", path.display()))?;
        Self::from_toml_str(&text)
            .with_context(|| format!("invalid runtime config {}", path.display()))
    }

    /// Parses a runtime config's text.
    pub fn from_toml_str(text: &str) -> anyhow::Result<Self> {
        let raw: RawConfig = toml::from_str(text)?;
        let mut stores = BTreeMap::new();
        for (label, store) in raw.key_value_store {
            let config = match (store.kind.as_str(), store.url, store.path) {
                ("redis", Some(url), None) => {
                    url::Url::parse(&url)
                        .ok()
                        .filter(|u| u.scheme() == "redis" && u.has_host())
                        .with_context(|| format!("key_value_store.{label}: url {url:?} is not a redis:// URL"))?;
                    KeyValueStoreConfig::Redis { url }
                }
                ("redis", None, _) => anyhow::bail!("key_value_store.{label}: type \"redis\" needs a `url`"),
                ("redis", Some(_), Some(_)) => anyhow::bail!("key_value_store.{label}: type \"redis\" takes no `path`"),
                ("spin", None, Some(path)) => KeyValueStoreConfig::File(path),
                ("spin", None, None) => KeyValueStoreConfig::Memory,
                ("spin", Some(_), _) => anyhow::bail!("key_value_store.{label}: type \"spin\" takes no `url`"),
                (other, _, _) => anyhow::bail!(
                    "key_value_store.{label}: unsupported type {other:?} (rh-runtime supports \"spin\" and \"redis\")"
                ),
            };
            stores.insert(label, config);
        }
        Ok(Self::with_defaults(stores))
    }

    fn with_defaults(mut stores: BTreeMap<String, KeyValueStoreConfig>) -> Self {
        stores
            .entry("default".to_owned())
            .or_insert(KeyValueStoreConfig::Memory);
        Self {
            key_value_stores: stores,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_file_default_is_in_memory() {
        let rc = RuntimeConfig::from_file(None).unwrap();
        assert_eq!(rc.key_value_stores.len(), 1);
        assert_eq!(rc.key_value_stores["default"], KeyValueStoreConfig::Memory);
    }

    #[test]
    fn default_can_move_to_redis_and_other_stores_can_be_added() {
        let rc = RuntimeConfig::from_toml_str(
            r#"
            [key_value_store.default]
            type = "redis"
            url = "redis://127.0.0.1:6379/3"
            [key_value_store.cache]
            type = "spin"
            path = "data/cache.json"
            "#,
        )
        .unwrap();
        assert_eq!(
            rc.key_value_stores["default"],
            KeyValueStoreConfig::Redis {
                url: "redis://127.0.0.1:6379/3".into()
            }
        );
        assert_eq!(
            rc.key_value_stores["cache"],
            KeyValueStoreConfig::File("data/cache.json".into())
        );
    }

    #[test]
    fn mistakes_are_refused_with_their_name() {
        let err = |t: &str| format!("{:#}", RuntimeConfig::from_toml_str(t).unwrap_err());
        assert!(err("[key_value_store.default]\ntype = \"redis\"").contains("needs a `url`"));
        assert!(
            err("[key_value_store.default]\ntype = \"azure_cosmos\"").contains("unsupported type")
        );
        assert!(
            err("[key_value_store.default]\ntype = \"redis\"\nurl = \"http://x\"")
                .contains("not a redis://")
        );
        assert!(
            err("[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://x\"\nuser = 1")
                .contains("user")
        );
        assert!(err("[sqlite_database.default]\ntype = \"spin\"").contains("sqlite_database"));
    }
}
