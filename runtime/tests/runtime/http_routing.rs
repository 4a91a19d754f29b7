//! Routing, Spin request headers, variables, environment and manifest errors, driven through
//! `App::load` / `App::serve` with the http-probe fixture.

use crate::common::{client, lines, options, spawn, TOKEN};
use rh_runtime::App;

async fn get(url: &str) -> (u16, String) {
    let r = client().get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_follow_spin_precedence_and_set_spin_headers() {
    let app = spawn("probe.toml", &[TOKEN]).await;

    // Exact segment beats `:param`.
    let (status, body) = get(&app.url("/users/me")).await;
    assert_eq!(status, 200);
    assert_eq!(lines(&body)["spin-matched-route"], "/users/me");

    // `:param` segment, with its capture header.
    let r = client()
        .get(app.url("/users/42?tab=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = lines(&r.text().await.unwrap());
    assert_eq!(h["path"], "/users/42");
    assert_eq!(h["spin-matched-route"], "/users/:id");
    assert_eq!(h["spin-raw-component-route"], "/users/:id");
    assert_eq!(h["spin-component-route"], "/users/:id");
    assert_eq!(h["spin-path-match-id"], "42");
    assert_eq!(h["spin-path-info"], "");
    assert_eq!(h["spin-base-path"], "/");
    assert_eq!(
        h["spin-full-url"],
        format!("http://{}/users/42?tab=1", app.addr)
    );
    assert!(h["spin-client-addr"].starts_with("127.0.0.1:"), "{h:?}");
    let spin_headers: Vec<&String> = h.keys().filter(|k| k.starts_with("spin-")).collect();
    assert_eq!(
        spin_headers.len(),
        8,
        "exactly Spin's headers: {spin_headers:?}"
    );

    // A client's own spin-* headers reach the guest before Spin's, as on Spin (which
    // keeps the client's headers and appends its own; routes.rs's unit test sees both
    // values). spin-sdk's `Request` keeps the last value of a name: Spin's.
    let r = client()
        .get(app.url("/users/42"))
        .header("spin-client-addr", "6.6.6.6:6")
        .header("spin-evil", "1")
        .send()
        .await
        .unwrap();
    let h = lines(&r.text().await.unwrap());
    assert!(h["spin-client-addr"].starts_with("127.0.0.1:"), "{h:?}");
    assert_eq!(h["spin-evil"], "1", "{h:?}");

    // `:param` then wildcard: the longer route wins over `/users/:id`.
    let (_, body) = get(&app.url("/users/42/games/7")).await;
    let h = lines(&body);
    assert_eq!(h["spin-matched-route"], "/users/:id/...");
    assert_eq!(h["spin-component-route"], "/users/:id");
    assert_eq!(h["spin-path-info"], "/games/7");
    assert_eq!(h["spin-path-match-id"], "42");

    // Plain wildcard, including its trailing slash handling.
    let (_, body) = get(&app.url("/files/a/b/")).await;
    let h = lines(&body);
    assert_eq!(h["spin-matched-route"], "/files/...");
    assert_eq!(h["spin-path-info"], "/a/b/");
    let (_, body) = get(&app.url("/files")).await;
    assert_eq!(lines(&body)["spin-path-info"], "");

    // Exact routes, including the root.
    let (status, body) = get(&app.url("/exact")).await;
    assert_eq!(status, 200);
    assert_eq!(lines(&body)["spin-raw-component-route"], "/exact");
    let (status, body) = get(&app.url("/")).await;
    assert_eq!(status, 200);
    assert_eq!(lines(&body)["spin-raw-component-route"], "/");

    // No route.
    let (status, _) = get(&app.url("/nothing/here")).await;
    assert_eq!(status, 404);
    let (status, _) = get(&app.url("/exact/more")).await;
    assert_eq!(status, 404);

    app.shutdown().await.unwrap();
}

/// What the conformance suite's `request-shape` case (fermyon/conformance-tests) checks,
/// on its route and request: every `spin-*` header exactly once with Spin's value, and no
/// other `spin-*` header. Wildcard names keep Spin's spelling: `_` becomes `-`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_shape_headers_match_spin_for_underscored_and_hyphenated_wildcards() {
    let app = spawn("probe.toml", &[TOKEN]).await;

    let r = client()
        .get(app.url("/base/path/end/rest?key=value"))
        .header("host", "example.com")
        .header("user-agent", "my-agent")
        .header("accept", "*/*")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    let h = lines(&body);
    let expected = [
        (
            "spin-raw-component-route",
            "/base/:path_segment/:path_end/...",
        ),
        (
            "spin-full-url",
            "http://example.com/base/path/end/rest?key=value",
        ),
        ("spin-path-info", "/rest"),
        ("spin-base-path", "/"),
        ("spin-component-route", "/base/:path_segment/:path_end"),
        ("spin-path-match-path-segment", "path"),
        ("spin-path-match-path-end", "end"),
        ("spin-matched-route", "/base/:path_segment/:path_end/..."),
    ];
    for (name, value) in expected {
        assert_eq!(
            h.get(name).map(String::as_str),
            Some(value),
            "{name}: {body}"
        );
    }
    assert!(
        h["spin-client-addr"]
            .parse::<std::net::SocketAddr>()
            .is_ok(),
        "{body}"
    );
    let mut spin: Vec<&str> = body
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(k, _)| k))
        .filter(|k| k.starts_with("spin-") || k.starts_with("spin_"))
        .collect();
    spin.sort();
    let mut want: Vec<&str> = expected.iter().map(|(k, _)| *k).collect();
    want.push("spin-client-addr");
    want.sort();
    assert_eq!(spin, want, "each spin-* header once, and no other");

    // Hyphens stay hyphens, capitals become lower case.
    let (status, body) = get(&app.url("/hyphen/42/games")).await;
    assert_eq!(status, 200);
    let h = lines(&body);
    assert_eq!(h["spin-path-match-user-id"], "42", "{body}");
    assert_eq!(h["spin-path-match-tab-name"], "games", "{body}");
    assert_eq!(h["spin-matched-route"], "/hyphen/:user-id/:Tab_Name");

    app.shutdown().await.unwrap();
}

/// Spin answers `/.well-known/spin/health` itself, before the app's routes (a catch-all
/// included): what the SpinApp's readiness check asks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spins_own_health_path_answers_before_any_app_route() {
    let app = spawn("hello.toml", &[]).await;
    assert_eq!(
        get(&app.url("/.well-known/spin/health")).await,
        (200, "OK".to_string())
    );
    assert_eq!(get(&app.url("/.well-known/spin/nothing")).await.0, 404);
    let (status, body) = get(&app.url("/.well-known/other")).await;
    assert_eq!(status, 200, "not Spin's prefix: the app's catch-all");
    assert_ne!(body, "OK");
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_come_from_defaults_and_overrides() {
    let app = spawn("probe.toml", &[TOKEN]).await;
    assert_eq!(
        get(&app.url("/api/var?name=greeting")).await,
        (200, "hello, world".to_string())
    );
    assert_eq!(
        get(&app.url("/api/var?name=token")).await,
        (200, "t0ps3cret".to_string())
    );
    // Only variables mapped in [component.x.variables] are visible.
    let (status, _) = get(&app.url("/api/var?name=outbound_host")).await;
    assert_eq!(status, 500);
    app.shutdown().await.unwrap();

    let app = spawn("probe.toml", &[TOKEN, ("greeting", "hi")]).await;
    assert_eq!(
        get(&app.url("/api/var?name=greeting")).await,
        (200, "hi, world".to_string())
    );
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn components_see_manifest_and_cli_environment() {
    let mut opts = options("probe.toml", &[TOKEN]);
    opts.env.push(("FROM_CLI".into(), "cli-value".into()));
    let app = crate::common::serve(App::load(opts).await.unwrap()).await;
    assert_eq!(
        get(&app.url("/api/env?name=FROM_MANIFEST")).await,
        (200, "manifest-value".to_string())
    );
    assert_eq!(
        get(&app.url("/api/env?name=FROM_CLI")).await,
        (200, "cli-value".to_string())
    );
    assert_eq!(
        get(&app.url("/api/env?name=HOME")).await.0,
        404,
        "the host environment is not inherited"
    );
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_required_variable_stops_start_up_and_names_it() {
    let err = App::load(options("probe.toml", &[]))
        .await
        .err()
        .expect("load must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("secret_token"), "{msg}");
    assert!(msg.contains("SPIN_VARIABLE_SECRET_TOKEN"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_manifest_key_stops_start_up_and_names_it() {
    let wasm = crate::common::fixture_wasm("wasm32-wasip2", "fixture-hello");
    let dir = std::env::temp_dir().join(format!("rh-runtime-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("spin.toml");
    std::fs::write(
        &path,
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"x\"\n\
             [[trigger.http]]\nroute = \"/\"\ncomponent = \"hello\"\n\
             [component.hello]\nsource = {:?}\nallowed_outbound_host = []\n",
            wasm.display().to_string()
        ),
    )
    .unwrap();
    let mut opts = options("probe.toml", &[]);
    opts.manifest = path;
    let err = App::load(opts).await.err().expect("load must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("allowed_outbound_host"), "{msg}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_value_never_appears_in_load_errors() {
    let wasm = crate::common::fixture_wasm("wasm32-wasip2", "fixture-hello");
    let dir = std::env::temp_dir().join(format!("rh-runtime-test-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("spin.toml");
    std::fs::write(
        &path,
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"x\"\n\
             [variables]\npw = {{ required = true, secret = true }}\n\
             [[trigger.http]]\nroute = \"/\"\ncomponent = \"hello\"\n\
             [component.hello]\nsource = {:?}\n\
             [component.hello.variables]\nurl = \"mysql://u:{{{{ pw }}}}@{{{{ nope }}}}\"\n",
            wasm.display().to_string()
        ),
    )
    .unwrap();
    let mut opts = options("probe.toml", &[("pw", "hunter2-secret")]);
    opts.manifest = path;
    let err = App::load(opts).await.err().expect("load must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("nope"), "{msg}");
    assert!(!msg.contains("hunter2-secret"), "{msg}");
    std::fs::remove_dir_all(&dir).unwrap();
}
