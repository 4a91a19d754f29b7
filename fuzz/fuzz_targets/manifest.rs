//! rh-runtime's reading of `spin.toml`: any text as a manifest, and the text's lines as
//! routes and request paths through the router built from them. Nothing may panic; a
//! manifest that parses must parse again the same way; a lookup returns a given route.
//! Seeded with the repository's own manifests (fuzz/seeds/manifest).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rh_runtime::manifest;
use rh_runtime::routes::Router;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = manifest::parse(text) {
        let again = manifest::parse(text).expect("parsing is deterministic");
        assert_eq!(m.component.len(), again.component.len());
        assert_eq!(m.trigger.http.len(), again.trigger.http.len());
    }
    let lines: Vec<&str> = text.lines().take(64).collect();
    let entries = lines.iter().enumerate().map(|(n, r)| (*r, n, "c"));
    if let Ok(router) = Router::build(entries) {
        for path in &lines {
            if let Some(found) = router.route(path) {
                assert!(found.route.component < lines.len());
                let _ = found.path_info();
            }
        }
    }
});
