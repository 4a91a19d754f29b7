//! Spin manifest v2 (`spin.toml`): the serde model and its structural checks.
//!
//! Every table denies unknown fields, so a typo stops start-up with an error that names the
//! key. Keys that Spin knows but this runtime does not implement (`files`, `executor = wagi`,
//! remote `source` tables, ...) are parsed on purpose and refused with a sentence that says so,
//! rather than being reported as "unknown": the app would run on Spin, just not here.
//!
//! Variable resolution and template expansion live in [`crate::variables`]; this module only
//! checks shape and cross-references (each trigger names an existing component, ...).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde::Deserialize;

/// The whole `spin.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<String, VariableDecl>,
    #[serde(default)]
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, ComponentDecl>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub trigger: ApplicationTriggers,
}

/// `[application.trigger.*]`: per-trigger-type application settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationTriggers {
    #[serde(default)]
    pub redis: Option<ApplicationRedis>,
    /// Spin 2+ has no application-level HTTP settings left except `base`, which it ignores;
    /// parsed only so that the error below can say so.
    #[serde(default)]
    pub http: Option<toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRedis {
    /// Default address for `[[trigger.redis]]` entries without their own (may hold templates).
    pub address: String,
}

/// One `[variables]` entry: exactly one of `default` or `required = true`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDecl {
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<HttpTriggerDecl>,
    #[serde(default)]
    pub redis: Vec<RedisTriggerDecl>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTriggerDecl {
    #[serde(default)]
    pub id: Option<String>,
    pub route: RouteDecl,
    pub component: ComponentRef,
    /// Spin's `executor = { type = "spin" | "wagi" }`. Only the default (spin) is supported.
    #[serde(default)]
    pub executor: Option<toml::Table>,
}

/// A route string, or `{ private = true }` for a component reachable only by service chaining.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RouteDecl {
    Route(String),
    Private(PrivateRoute),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateRoute {
    pub private: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisTriggerDecl {
    #[serde(default)]
    pub id: Option<String>,
    pub channel: String,
    #[serde(default)]
    pub address: Option<String>,
    pub component: ComponentRef,
}

/// A trigger's `component`: Spin also allows an inline component table, which we refuse.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ComponentRef {
    Id(String),
    Inline(toml::Table),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentDecl {
    pub source: SourceDecl,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub build: Option<BuildDecl>,
    /// Tooling metadata; Spin ignores it and so do we.
    #[serde(default)]
    pub tool: Option<toml::Table>,
    // Spin keys this runtime does not implement: parsed so the refusal can name them.
    #[serde(default)]
    pub files: Option<toml::Value>,
    #[serde(default)]
    pub exclude_files: Option<toml::Value>,
    #[serde(default)]
    pub sqlite_databases: Option<toml::Value>,
    #[serde(default)]
    pub ai_models: Option<toml::Value>,
    #[serde(default)]
    pub dependencies: Option<toml::Value>,
    #[serde(default)]
    pub dependencies_inherit_configuration: Option<toml::Value>,
    #[serde(default)]
    pub allowed_http_hosts: Option<toml::Value>,
}

/// `source = "path.wasm"`; Spin's `{ url, digest }` and `{ registry, package, version }`
/// forms are refused (this runtime never downloads).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SourceDecl {
    Path(String),
    Remote(toml::Table),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildDecl {
    pub command: BuildCommand,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

/// Spin accepts one command or a list run in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum BuildCommand {
    One(String),
    Many(Vec<String>),
}

impl BuildCommand {
    pub fn commands(&self) -> Vec<&str> {
        match self {
            Self::One(c) => vec![c.as_str()],
            Self::Many(cs) => cs.iter().map(String::as_str).collect(),
        }
    }
}

impl ComponentRef {
    /// The referenced component id, or an error naming the trigger.
    fn id(&self, what: &str) -> anyhow::Result<&str> {
        match self {
            Self::Id(id) => Ok(id),
            Self::Inline(_) => bail!(
                "{what}: inline component tables are not supported by rh-runtime; \
                 declare the component as [component.<id>] and reference it by id"
            ),
        }
    }
}

impl HttpTriggerDecl {
    pub fn component_id(&self) -> &str {
        match &self.component {
            ComponentRef::Id(id) => id,
            ComponentRef::Inline(_) => "",
        }
    }
}

impl RedisTriggerDecl {
    pub fn component_id(&self) -> &str {
        match &self.component {
            ComponentRef::Id(id) => id,
            ComponentRef::Inline(_) => "",
        }
    }
}

/// A manifest read from disk, with the directory relative paths are resolved against.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    pub manifest: Manifest,
    pub dir: PathBuf,
    pub path: PathBuf,
}

impl LoadedManifest {
    /// Reads, parses and structurally validates `path`.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let manifest =
            parse(&text).with_context(|| format!("invalid manifest {}", path.display()))?;
        let dir = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."))
            .to_path_buf();
        Ok(Self {
            manifest,
            dir,
            path: path.to_path_buf(),
        })
    }

    /// A component's source path, resolved against the manifest directory.
    pub fn source_path(&self, component: &ComponentDecl) -> PathBuf {
        match &component.source {
            SourceDecl::Path(p) => self.dir.join(p),
            // `validate` refused remote sources already.
            SourceDecl::Remote(_) => PathBuf::new(),
        }
    }
}

/// Parses and validates manifest text.
pub fn parse(text: &str) -> anyhow::Result<Manifest> {
    let manifest: Manifest = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    validate(&manifest)?;
    Ok(manifest)
}

/// Checks what serde cannot: versions, names, references, unsupported Spin features.
fn validate(m: &Manifest) -> anyhow::Result<()> {
    if m.spin_manifest_version != 2 {
        bail!(
            "spin_manifest_version = {} is not supported; rh-runtime reads manifest version 2",
            m.spin_manifest_version
        );
    }
    if m.application.trigger.http.is_some() {
        bail!("[application.trigger.http] is not supported by rh-runtime (Spin 2+ ignores `base`); remove it");
    }
    for (name, decl) in &m.variables {
        check_variable_name(name).with_context(|| format!("[variables] `{name}`"))?;
        match (&decl.default, decl.required) {
            (Some(_), true) => {
                bail!("variable `{name}`: `default` and `required = true` are mutually exclusive")
            }
            (None, false) => {
                bail!("variable `{name}`: needs either a `default` or `required = true`")
            }
            _ => {}
        }
    }
    for (id, c) in &m.component {
        check_component_id(id)?;
        check_component(id, c)?;
    }
    for (i, t) in m.trigger.http.iter().enumerate() {
        let what = format!("[[trigger.http]] #{}", i + 1);
        let id = t.component.id(&what)?;
        if !m.component.contains_key(id) {
            bail!(
                "{what} (route {:?}) references component `{id}`, which is not declared",
                route_text(&t.route)
            );
        }
        if let Some(exec) = &t.executor {
            match exec.get("type").and_then(|v| v.as_str()) {
                Some("spin") if exec.len() == 1 => {}
                other => bail!(
                    "{what} (component `{id}`): executor {:?} is not supported by rh-runtime; \
                     only wasi:http components (executor type \"spin\", the default) run here",
                    other.unwrap_or("?")
                ),
            }
        }
        match &t.route {
            RouteDecl::Route(r) if !r.starts_with('/') => {
                bail!("{what} (component `{id}`): route {r:?} must start with '/'")
            }
            RouteDecl::Private(p) if !p.private => {
                bail!("{what} (component `{id}`): route must be a string or {{ private = true }}")
            }
            _ => {}
        }
    }
    for (i, t) in m.trigger.redis.iter().enumerate() {
        let what = format!("[[trigger.redis]] #{} (channel {:?})", i + 1, t.channel);
        let id = t.component.id(&what)?;
        if !m.component.contains_key(id) {
            bail!("{what} references component `{id}`, which is not declared");
        }
        if t.channel.is_empty() {
            bail!("{what}: `channel` must not be empty");
        }
        if t.address.is_none() && m.application.trigger.redis.is_none() {
            bail!("{what}: no `address`, and no [application.trigger.redis] address to default to");
        }
    }
    Ok(())
}

fn route_text(r: &RouteDecl) -> String {
    match r {
        RouteDecl::Route(s) => s.clone(),
        RouteDecl::Private(_) => "{ private = true }".into(),
    }
}

fn check_component(id: &str, c: &ComponentDecl) -> anyhow::Result<()> {
    let unsupported = [
        ("files", c.files.is_some()),
        ("exclude_files", c.exclude_files.is_some()),
        ("sqlite_databases", c.sqlite_databases.is_some()),
        ("ai_models", c.ai_models.is_some()),
        ("dependencies", c.dependencies.is_some()),
        (
            "dependencies_inherit_configuration",
            c.dependencies_inherit_configuration.is_some(),
        ),
        ("allowed_http_hosts", c.allowed_http_hosts.is_some()),
    ];
    if let Some((key, _)) = unsupported.iter().find(|(_, present)| *present) {
        bail!("[component.{id}] `{key}` is a Spin key that rh-runtime does not support; remove it");
    }
    if let SourceDecl::Remote(_) = c.source {
        bail!(
            "[component.{id}] `source` must be a local file path; remote sources are not supported"
        );
    }
    for name in c.variables.keys() {
        check_variable_name(name)
            .with_context(|| format!("[component.{id}.variables] `{name}`"))?;
    }
    Ok(())
}

/// Spin variable names: lowercase ASCII letters, digits and underscores, starting with a
/// letter, no double or trailing underscore (they become `SPIN_VARIABLE_<NAME>`).
pub fn check_variable_name(name: &str) -> anyhow::Result<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !first_ok || !rest_ok || name.contains("__") || name.ends_with('_') {
        bail!("invalid variable name {name:?}: use lowercase letters, digits and single underscores, starting with a letter");
    }
    Ok(())
}

/// Spin component ids: lowercase letters, digits and dashes (kebab case), starting with a letter.
fn check_component_id(id: &str) -> anyhow::Result<()> {
    let ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && !id.ends_with('-');
    if !ok {
        bail!("invalid component id {id:?}: use lowercase letters, digits and dashes, starting with a letter");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
greeting = { default = "hi" }
[[trigger.http]]
route = "/..."
component = "hello"
[component.hello]
source = "hello.wasm"
"#;

    fn err(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
    }

    #[test]
    fn a_minimal_manifest_parses() {
        let m = parse(MINIMAL).unwrap();
        assert_eq!(m.trigger.http.len(), 1);
        assert_eq!(m.trigger.http[0].component_id(), "hello");
        assert_eq!(m.variables["greeting"].default.as_deref(), Some("hi"));
    }

    #[test]
    fn an_unknown_component_key_is_named() {
        let text = MINIMAL.replace(
            "source = \"hello.wasm\"",
            "source = \"hello.wasm\"\nsorce = 1",
        );
        assert!(err(&text).contains("sorce"), "{}", err(&text));
    }

    #[test]
    fn an_unknown_top_level_key_is_named() {
        let text = format!("{MINIMAL}\n[extras]\nx = 1\n");
        assert!(err(&text).contains("extras"));
    }

    #[test]
    fn a_trigger_naming_a_missing_component_is_refused() {
        let text = MINIMAL.replace("component = \"hello\"", "component = \"nope\"");
        assert!(err(&text).contains("`nope`"));
    }

    #[test]
    fn files_are_refused_by_name() {
        let text = MINIMAL.replace(
            "source = \"hello.wasm\"",
            "source = \"hello.wasm\"\nfiles = [\"a\"]",
        );
        assert!(err(&text).contains("`files`"));
    }

    #[test]
    fn the_wagi_executor_is_refused() {
        let text = MINIMAL.replace(
            "component = \"hello\"",
            "component = \"hello\"\nexecutor = { type = \"wagi\" }",
        );
        assert!(err(&text).contains("wagi"));
    }

    #[test]
    fn the_spin_executor_is_accepted() {
        let text = MINIMAL.replace(
            "component = \"hello\"",
            "component = \"hello\"\nexecutor = { type = \"spin\" }",
        );
        parse(&text).unwrap();
    }

    #[test]
    fn a_variable_needs_a_default_or_required() {
        let text = MINIMAL.replace(
            "greeting = { default = \"hi\" }",
            "greeting = { secret = true }",
        );
        assert!(err(&text).contains("greeting"));
    }

    #[test]
    fn version_one_is_refused() {
        let text = MINIMAL.replace("spin_manifest_version = 2", "spin_manifest_version = 1");
        assert!(err(&text).contains("spin_manifest_version"));
    }

    #[test]
    fn a_redis_trigger_without_any_address_is_refused() {
        let text =
            format!("{MINIMAL}\n[[trigger.redis]]\nchannel = \"c\"\ncomponent = \"hello\"\n");
        assert!(err(&text).contains("address"));
    }

    #[test]
    fn bad_variable_names_are_refused() {
        assert!(check_variable_name("db_host").is_ok());
        assert!(check_variable_name("DbHost").is_err());
        assert!(check_variable_name("1x").is_err());
        assert!(check_variable_name("a__b").is_err());
    }
}
