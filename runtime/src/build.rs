//! `rh-runtime build`: runs each component's `[component.x.build] command` in its `workdir`
//! (relative to the manifest directory, default the manifest directory), in manifest order.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _};

use crate::manifest::LoadedManifest;

pub fn build(manifest: &Path) -> anyhow::Result<()> {
    let loaded = LoadedManifest::read(manifest)?;
    for (id, component) in &loaded.manifest.component {
        let Some(build) = &component.build else {
            eprintln!("{id}: no build command, skipping");
            continue;
        };
        let dir = match &build.workdir {
            Some(w) => loaded.dir.join(w),
            None => loaded.dir.clone(),
        };
        for command in build.command.commands() {
            eprintln!("{id}: running `{command}` in {}", dir.display());
            let status = Command::new("sh")
                .arg("-c")
                .arg(command)
                .current_dir(&dir)
                .status()
                .with_context(|| format!("component `{id}`: cannot run `{command}`"))?;
            if !status.success() {
                bail!("component `{id}`: build command `{command}` failed ({status})");
            }
        }
    }
    Ok(())
}
