//! Embeds the built console (`console/dist`, made by `npm run build` in `console/`) into
//! the component, so the `.wasm` alone serves it: no `files` mount, which rh-runtime does
//! not implement, and nothing to copy beside the component on Spin or SpinKube.
//!
//! Writes `$OUT_DIR/assets.rs`: a sorted table of (path, content type, ETag, bytes).
//! Without a `console/dist` (no Node on the machine that built it) the table is empty
//! and the component answers with a page saying how to build the console.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let dist = std::env::var_os("RH_CONSOLE_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../console/dist"));
    println!("cargo:rerun-if-env-changed=RH_CONSOLE_DIST");
    // A directory: cargo rescans everything under it for changes.
    println!("cargo:rerun-if-changed={}", dist.display());

    let mut files = Vec::new();
    if dist.is_dir() {
        collect(&dist, &dist, &mut files);
    }
    files.sort();
    let mut out = String::from("pub static ASSETS: &[Asset] = &[\n");
    for (rel, abs) in &files {
        let bytes = std::fs::read(abs).unwrap();
        writeln!(
            out,
            "    Asset {{ path: {rel:?}, content_type: {ct:?}, etag: \"\\\"{etag:016x}\\\"\", body: include_bytes!({abs:?}) }},",
            ct = content_type(rel),
            etag = fnv1a(&bytes),
            abs = abs.display().to_string(),
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("assets.rs");
    std::fs::write(dest, out).unwrap();
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            files.push((rel, path.canonicalize().unwrap()));
        }
    }
}

/// Content types of what a Vite build emits; anything else is served as bytes.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("webp") => "image/webp",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// A content hash for the ETag (not security: it only has to change with the bytes).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
