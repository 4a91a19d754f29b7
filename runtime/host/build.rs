//! Generates the wasmtime host bindings from the WIT shipped inside the `spin-sdk` package
//! that our components are built with, so host and guests cannot drift apart.
//!
//! The script asks `cargo metadata` (on the workspace root) where `spin-sdk` 5.2.x lives,
//! takes the interface files we implement from its `wit/` folder (see [`assemble_wit`] for
//! why not the whole folder) into `OUT_DIR/wit`, and writes `OUT_DIR/bindings.rs`: two
//! `bindgen!` invocations with that absolute path, which `src/bindings.rs` includes.
//! No WIT is kept in this repo.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The spin-sdk line whose WIT we implement (`fermyon:spin/*@2.0.0`).
const SDK_VERSION_PREFIX: &str = "5.2.";

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.join("../..");
    let workspace = workspace.canonicalize().unwrap_or(workspace);
    // The lockfile decides which spin-sdk the components get; re-run when it changes.
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.lock").display()
    );
    println!("cargo:rerun-if-changed=build.rs");

    let sdk_wit = find_spin_sdk_wit(&workspace);
    println!("cargo:rerun-if-changed={}", sdk_wit.display());
    let out_dir = PathBuf::from(env("OUT_DIR"));
    let wit = assemble_wit(&sdk_wit, &out_dir);
    let out = out_dir.join("bindings.rs");
    std::fs::write(&out, bindings_source(&wit, &sdk_wit))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo did not set {name}"))
}

/// Returns `<spin-sdk package dir>/wit` for the spin-sdk 5.2.x in the workspace's dependency graph.
fn find_spin_sdk_wit(workspace: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(workspace.join("Cargo.toml"))
        .output()
        .expect("cannot run `cargo metadata`");
    assert!(
        output.status.success(),
        "`cargo metadata` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("`cargo metadata` printed invalid JSON");
    let packages = metadata["packages"]
        .as_array()
        .expect("`cargo metadata` has no packages");
    let sdk = packages
        .iter()
        .find(|p| {
            p["name"] == "spin-sdk"
                && p["version"]
                    .as_str()
                    .is_some_and(|v| v.starts_with(SDK_VERSION_PREFIX))
        })
        .unwrap_or_else(|| {
            panic!("no spin-sdk {SDK_VERSION_PREFIX}x in the workspace's dependency graph")
        });
    let manifest = Path::new(
        sdk["manifest_path"]
            .as_str()
            .expect("spin-sdk has no manifest_path"),
    );
    let wit = manifest
        .parent()
        .expect("spin-sdk manifest_path has no parent")
        .join("wit");
    assert!(
        wit.is_dir(),
        "spin-sdk ships no wit/ folder at {}",
        wit.display()
    );
    wit
}

/// The spin-sdk WIT files we implement, by package folder under `wit/deps/`, and the
/// package each belongs to.
const PACKAGES: &[(&str, &str, &[&str])] = &[
    (
        "spin@2.0.0",
        "fermyon:spin@2.0.0",
        &[
            "rdbms-types.wit",
            "mysql.wit",
            "redis.wit",
            "variables.wit",
            "key-value.wit",
        ],
    ),
    (
        "spin@unversioned",
        "fermyon:spin",
        &["redis-types.wit", "inbound-redis.wit"],
    ),
];

/// Builds `OUT_DIR/wit`: our two worlds, with the interface files copied unchanged from
/// spin-sdk's `wit/deps`.
///
/// Why not point `bindgen!` at spin-sdk's `wit/` itself: that tree also holds the WASI 0.3
/// (p3) packages, whose `future`/`stream` types make wasmtime's `bindgen!` demand the
/// `component-model-async` feature even though no world of ours uses them, and turning that
/// on would change the engine for the whole runtime. The interface files carry no `package`
/// line (spin-sdk declares it in a `world.wit` that also includes WASI), so each copied
/// package gets a one-line `package.wit`.
fn assemble_wit(sdk_wit: &Path, out: &Path) -> PathBuf {
    let root = out.join("wit");
    if root.exists() {
        std::fs::remove_dir_all(&root).expect("cannot clear OUT_DIR/wit");
    }
    for (folder, package, files) in PACKAGES {
        let from = sdk_wit.join("deps").join(folder);
        let to = root.join("deps").join(folder);
        std::fs::create_dir_all(&to).expect("cannot create OUT_DIR/wit/deps");
        for file in *files {
            let src = from.join(file);
            std::fs::copy(&src, to.join(file))
                .unwrap_or_else(|e| panic!("cannot copy {}: {e}", src.display()));
        }
        std::fs::write(to.join("package.wit"), format!("package {package};\n"))
            .expect("cannot write package.wit");
    }
    std::fs::write(
        root.join("worlds.wit"),
        "package rh:spin-host;\n\n\
         /// The Spin 2.0 host interfaces rh-runtime implements.\n\
         world imports {\n\
         \x20   import fermyon:spin/rdbms-types@2.0.0;\n\
         \x20   import fermyon:spin/mysql@2.0.0;\n\
         \x20   import fermyon:spin/redis@2.0.0;\n\
         \x20   import fermyon:spin/variables@2.0.0;\n\
         \x20   import fermyon:spin/key-value@2.0.0;\n\
         }\n\n\
         /// What `#[redis_component]` exports.\n\
         world redis-trigger {\n\
         \x20   export fermyon:spin/inbound-redis;\n\
         }\n",
    )
    .expect("cannot write worlds.wit");
    root
}

/// The Rust source of the bindings: one `bindgen!` per world, both on `OUT_DIR/wit`.
fn bindings_source(wit: &Path, sdk_wit: &Path) -> String {
    let path = format!("{:?}", wit.display().to_string());
    format!(
        r#"// @generated by runtime/host/build.rs from the WIT of {sdk}
/// Host side of the `fermyon:spin/*@2.0.0` imports we implement.
pub mod imports {{
    wasmtime::component::bindgen!({{
        path: {path},
        world: "rh:spin-host/imports",
        imports: {{ default: async | trappable }},
        with: {{
            "fermyon:spin/mysql@2.0.0.connection": crate::mysql::MysqlConnection,
            "fermyon:spin/redis@2.0.0.connection": crate::redis::RedisConnection,
            "fermyon:spin/key-value@2.0.0.store": crate::key_value::KvStore,
        }},
    }});
}}

/// Guest side of the Redis trigger: the unversioned `fermyon:spin/inbound-redis` export
/// that `#[redis_component]` implements.
pub mod redis_trigger {{
    wasmtime::component::bindgen!({{
        path: {path},
        world: "rh:spin-host/redis-trigger",
        exports: {{ default: async }},
    }});
}}
"#,
        sdk = sdk_wit.display()
    )
}
