//! `embed_migrations!` reads `migrations/` at compile time; `include_str!` already
//! tracks the files it embeds, but not a newly added one. Rebuild when the folder
//! changes so `rh-migrate` never ships without the latest migration.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
