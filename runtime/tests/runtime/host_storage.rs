//! Spin's storage interfaces through the whole runtime: the `fixture-storage` component,
//! loaded with `App::load` and called over HTTP, against the real MariaDB and Redis.
//!
//! Needs the fixture: `cargo build --release --target wasm32-wasip2 -p fixture-storage`,
//! MariaDB on 127.0.0.1:3306 (root, empty password: the tests create `rh_runtime_test`) and
//! Redis on 127.0.0.1:6379 (databases 3 and 4, keys prefixed per test run).
//! Run: `cargo test --release -p rh-runtime --test runtime -- host_storage::`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fred::prelude::*;
use mysql_async::prelude::Queryable as _;
use rh_runtime::{App, UpOptions};
use serde_json::{json, Value};

const DB_URL: &str = "mysql://root@127.0.0.1:3306/rh_runtime_test";
const REDIS_URL: &str = "redis://127.0.0.1:6379/3";
const KV_REDIS_URL: &str = "redis://127.0.0.1:6379/4";

/// A name unique to this test run, for tables and key prefixes.
fn unique(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{tag}_{}_{nanos}", std::process::id())
}

async fn ensure_database() {
    let mut conn = mysql_async::Conn::from_url("mysql://root@127.0.0.1:3306")
        .await
        .expect("MariaDB as root");
    conn.query_drop("CREATE DATABASE IF NOT EXISTS rh_runtime_test")
        .await
        .unwrap();
    conn.disconnect().await.unwrap();
}

/// Writes a manifest (and optionally a runtime config) for the storage fixture into a fresh
/// temporary directory and starts the app.
async fn start(runtime_config: Option<&str>, overrides: &[(&str, &str)]) -> crate::common::Running {
    crate::common::serve(
        App::load(storage_app(runtime_config, overrides, r#"["default"]"#).await)
            .await
            .expect("loading the storage app"),
    )
    .await
}

/// Options for the storage fixture's app, written to a fresh temporary directory.
async fn storage_app(
    runtime_config: Option<&str>,
    overrides: &[(&str, &str)],
    key_value_stores: &str,
) -> UpOptions {
    ensure_database().await;
    let wasm = crate::common::fixture_wasm("wasm32-wasip2", "fixture-storage");
    let dir = std::env::temp_dir().join(unique("rh-host-test"));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = format!(
        r#"spin_manifest_version = 2

[application]
name = "storage"
version = "0.1.0"

[variables]
db_url = {{ default = "{DB_URL}" }}
redis_url = {{ default = "{REDIS_URL}" }}
greeting = {{ default = "hello" }}

[[trigger.http]]
route = "/..."
component = "storage"

[component.storage]
source = "{wasm}"
allowed_outbound_hosts = ["mysql://127.0.0.1:3306", "redis://127.0.0.1:6379"]
key_value_stores = {key_value_stores}

[component.storage.variables]
db_url = "{{{{ db_url }}}}"
redis_url = "{{{{ redis_url }}}}"
greeting = "{{{{ greeting }}}}"
"#,
        wasm = wasm.display()
    );
    std::fs::write(dir.join("spin.toml"), manifest).unwrap();
    let runtime_config = runtime_config.map(|text| {
        let path = dir.join("runtime-config.toml");
        std::fs::write(&path, text).unwrap();
        path
    });
    UpOptions {
        manifest: dir.join("spin.toml"),
        runtime_config,
        env: Vec::new(),
        variable_overrides: overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
        prometheus_metrics: false,
        otlp_metrics: false,
    }
}

async fn post(app: &crate::common::Running, path: &str, body: Value) -> Vec<Value> {
    let resp = reqwest::Client::new()
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{path} failed");
    let v: Value = resp.json().await.unwrap();
    v.as_array().cloned().expect("an array of step results")
}

fn ok(step: &Value) -> &Value {
    assert!(step.get("ok").is_some(), "expected ok, got {step}");
    &step["ok"]
}

fn err(step: &Value) -> String {
    step.get("err")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("expected err, got {step}"))
        .to_owned()
}

fn exec(sql: &str, params: Value) -> Value {
    json!({ "op": "execute", "sql": sql, "params": params })
}

fn query(sql: &str, params: Value) -> Value {
    json!({ "op": "query", "sql": sql, "params": params })
}

#[tokio::test]
async fn mysql_round_trips_every_supported_column_type() {
    let app = start(None, &[]).await;
    let t = unique("types");
    let create = format!(
        "CREATE TABLE {t} (ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, \
         mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, \
         f FLOAT, d DOUBLE, c CHAR(4), vc VARCHAR(20), tx TEXT, b BINARY(3), vb VARBINARY(8), bl BLOB, n INT NULL)"
    );
    let insert = format!("INSERT INTO {t} VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    let params = json!([
        {"int8": -128}, {"uint8": 255}, {"int16": -32768}, {"uint16": 65535},
        {"int32": -8388608}, {"uint32": 16777215}, {"int32": -2147483648i64}, {"uint32": 4294967295u64},
        {"int64": i64::MIN}, {"uint64": u64::MAX},
        {"floating32": 1.5}, {"floating64": -2.25},
        {"str": "abcd"}, {"str": "héllo"}, {"str": "long text"},
        {"binary": [1, 2, 3]}, {"binary": [0, 255]}, {"binary": [9, 8, 7, 6]}, "null"
    ]);
    let results = post(
        &app,
        "/mysql",
        json!({"steps": [exec(&create, json!([])), exec(&insert, params), query(&format!("SELECT * FROM {t}"), json!([])), exec(&format!("DROP TABLE {t}"), json!([]))]}),
    )
    .await;
    ok(&results[0]);
    ok(&results[1]);
    let rows = ok(&results[2]);
    let types: Vec<&str> = rows["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[1].as_str().unwrap())
        .collect();
    let expected = [
        "Int8",
        "Uint8",
        "Int16",
        "Uint16",
        "Int32",
        "Uint32",
        "Int32",
        "Uint32",
        "Int64",
        "Uint64",
        "Floating32",
        "Floating64",
        "Str",
        "Str",
        "Str",
        "Binary",
        "Binary",
        "Binary",
        "Int32",
    ];
    assert_eq!(types.len(), expected.len());
    for (got, want) in types.iter().zip(expected) {
        assert!(got.ends_with(want), "column type {got}, expected {want}");
    }
    assert_eq!(
        rows["rows"][0],
        json!([
            {"int8": -128}, {"uint8": 255}, {"int16": -32768}, {"uint16": 65535},
            {"int32": -8388608}, {"uint32": 16777215}, {"int32": -2147483648i64}, {"uint32": 4294967295u64},
            {"int64": i64::MIN}, {"uint64": u64::MAX},
            {"floating32": 1.5}, {"floating64": -2.25},
            {"str": "abcd"}, {"str": "héllo"}, {"str": "long text"},
            {"binary": [1, 2, 3]}, {"binary": [0, 255]}, {"binary": [9, 8, 7, 6]}, "null"
        ])
    );
    ok(&results[3]);
}

#[tokio::test]
async fn mysql_refuses_the_column_types_spin_refuses() {
    let app = start(None, &[]).await;
    for (ty, value) in [
        ("DECIMAL(5,2)", json!({"str": "1.50"})),
        ("DATETIME", json!({"str": "2024-01-02 03:04:05"})),
        ("DATE", json!({"str": "2024-01-02"})),
        ("TIMESTAMP", json!({"str": "2024-01-02 03:04:05"})),
        ("TIME", json!({"str": "03:04:05"})),
        ("YEAR", json!({"int32": 2024})),
        ("BIT(3)", json!({"int8": 5})),
    ] {
        let t = unique("refused");
        let results = post(
            &app,
            "/mysql",
            json!({"steps": [
                exec(&format!("CREATE TABLE {t} (v {ty})"), json!([])),
                query(&format!("SELECT v FROM {t}"), json!([])),
                exec(&format!("INSERT INTO {t} VALUES (?)"), json!([value])),
                query(&format!("SELECT v FROM {t}"), json!([])),
                exec(&format!("DROP TABLE {t}"), json!([])),
            ]}),
        )
        .await;
        // No rows: the query works and reports the column as `other`, as on Spin.
        let empty = ok(&results[1]);
        assert!(
            empty["columns"][0][1].as_str().unwrap().ends_with("Other"),
            "{ty}: {empty}"
        );
        ok(&results[2]);
        let e = err(&results[3]);
        assert!(
            e.contains("ValueConversionFailed") && e.contains("Cannot convert value"),
            "{ty}: {e}"
        );
        ok(&results[4]);
    }
    // MariaDB's JSON is LONGTEXT with a binary collation (utf8mb4_bin) on the wire, so Spin,
    // which decides by wire type and BINARY flag, returns its text as `binary` there; MySQL's
    // own JSON type (MYSQL_TYPE_JSON) is `other` and refused (rh-spin-host's unit tests).
    // We match Spin on both.
    let t = unique("json");
    let results = post(
        &app,
        "/mysql",
        json!({"steps": [
            exec(&format!("CREATE TABLE {t} (v JSON)"), json!([])),
            exec(&format!("INSERT INTO {t} VALUES (?)"), json!([{"str": "{\"a\": 1}"}])),
            query(&format!("SELECT v FROM {t}"), json!([])),
            exec(&format!("DROP TABLE {t}"), json!([])),
        ]}),
    )
    .await;
    assert_eq!(
        ok(&results[2])["rows"][0][0],
        json!({ "binary": b"{\"a\": 1}".to_vec() })
    );
    // Aggregates over integers are DECIMAL too; the portable form casts them.
    let results = post(
        &app,
        "/mysql",
        json!({"steps": [query("SELECT SUM(x) FROM (SELECT 1 AS x UNION ALL SELECT 2) s", json!([])),
                         query("SELECT CAST(SUM(x) AS SIGNED) FROM (SELECT 1 AS x UNION ALL SELECT 2) s", json!([]))]}),
    )
    .await;
    assert!(err(&results[0]).contains("Cannot convert value"));
    assert_eq!(ok(&results[1])["rows"][0][0], json!({"int64": 3}));
}

#[tokio::test]
async fn mysql_transactions_and_sessions_behave_as_on_spin() {
    let app = start(None, &[]).await;
    let t = unique("tx");
    let count = || {
        query(
            &format!("SELECT CAST(COUNT(*) AS SIGNED) FROM {t}"),
            json!([]),
        )
    };
    let results = post(
        &app,
        "/mysql",
        json!({"steps": [
            exec(&format!("CREATE TABLE {t} (id INT PRIMARY KEY) ENGINE=InnoDB"), json!([])),
            exec("START TRANSACTION", json!([])),
            exec(&format!("INSERT INTO {t} VALUES (?)"), json!([{"int32": 1}])),
            count(),
            exec("ROLLBACK", json!([])),
            count(),
            exec("START TRANSACTION", json!([])),
            exec(&format!("INSERT INTO {t} VALUES (?)"), json!([{"int32": 2}])),
            exec("COMMIT", json!([])),
            count(),
            query("SELECT ROW_COUNT()", json!([])),
        ]}),
    )
    .await;
    for r in &results {
        ok(r);
    }
    assert_eq!(ok(&results[3])["rows"][0][0], json!({"int64": 1}));
    assert_eq!(ok(&results[5])["rows"][0][0], json!({"int64": 0}));
    assert_eq!(ok(&results[9])["rows"][0][0], json!({"int64": 1}));

    // A request that ends inside a transaction leaves nothing behind, and the next request
    // starts a fresh session (no user variables), whatever connection reuse happens.
    let left_open = post(
        &app,
        "/mysql",
        json!({"steps": [exec("START TRANSACTION", json!([])),
                         exec(&format!("INSERT INTO {t} VALUES (?)"), json!([{"int32": 3}])),
                         exec("SET @leak = 42", json!([]))]}),
    )
    .await;
    for r in &left_open {
        ok(r);
    }
    for _ in 0..3 {
        let next = post(
            &app,
            "/mysql",
            json!({"steps": [count(), query("SELECT @leak", json!([]))]}),
        )
        .await;
        assert_eq!(ok(&next[0])["rows"][0][0], json!({"int64": 1}));
        assert_eq!(ok(&next[1])["rows"][0][0], json!("null"));
    }
    post(
        &app,
        "/mysql",
        json!({"steps": [exec(&format!("DROP TABLE {t}"), json!([]))]}),
    )
    .await;
}

/// `--mysql-pool false`: every `open` is a new server connection (a new connection id),
/// as on Spin; with the pool (default) the ids repeat, since idle connections are reused.
#[tokio::test]
async fn mysql_pooling_can_be_turned_off_to_connect_as_spin_does() {
    let connection_ids = |app: crate::common::Running| async move {
        let mut ids = Vec::new();
        for _ in 0..4 {
            let r = post(
                &app,
                "/mysql",
                json!({"steps": [query("SELECT CAST(CONNECTION_ID() AS SIGNED)", json!([]))]}),
            )
            .await;
            ids.push(ok(&r[0])["rows"][0][0]["int64"].as_i64().expect("an id"));
            // Time for a pooled connection to be reset and back in its pool.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        app.shutdown().await.unwrap();
        ids
    };
    let load = || async {
        App::load(storage_app(None, &[], r#"["default"]"#).await)
            .await
            .expect("loading the storage app")
    };
    let unpooled =
        connection_ids(crate::common::serve(load().await.with_mysql_pooling(false)).await).await;
    let mut distinct = unpooled.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        unpooled.len(),
        "a new connection per open: {unpooled:?}"
    );

    let pooled = connection_ids(crate::common::serve(load().await).await).await;
    let mut reused = pooled.clone();
    reused.sort_unstable();
    reused.dedup();
    assert!(
        reused.len() < pooled.len(),
        "sequential requests reuse pooled connections: {pooled:?}"
    );
}

#[tokio::test]
async fn mysql_refuses_hosts_not_in_allowed_outbound_hosts() {
    let app = start(None, &[]).await;
    for url in [
        "mysql://root@127.0.0.2:3306/rh_runtime_test",
        "mysql://root@127.0.0.1:3307/rh_runtime_test",
        "mysql://root@localhost/rh_runtime_test",
    ] {
        let results = post(&app, "/mysql", json!({"url": url, "steps": []})).await;
        let e = results[0]["open_err"].as_str().unwrap_or_default();
        assert!(
            e.contains("ConnectionFailed") && e.contains("is not permitted"),
            "{url}: {e}"
        );
    }
    // A bad query is a query failure, and the connection stays usable.
    let results = post(
        &app,
        "/mysql",
        json!({"steps": [query("SELEKT 1", json!([])), query("SELECT 1", json!([]))]}),
    )
    .await;
    assert!(err(&results[0]).contains("QueryFailed"));
    assert_eq!(ok(&results[1])["rows"][0][0], json!({"int32": 1}));
}

async fn native_redis(url: &str) -> fred::clients::Client {
    let client =
        fred::types::Builder::from_config(fred::types::config::Config::from_url(url).unwrap())
            .build()
            .unwrap();
    client.init().await.expect("Redis on 127.0.0.1:6379");
    client
}

#[tokio::test]
async fn redis_every_call_reaches_redis() {
    let app = start(None, &[]).await;
    let native = native_redis(REDIS_URL).await;
    let p = unique("rh_host");
    let (k, n, s, z) = (
        format!("{p}:k"),
        format!("{p}:n"),
        format!("{p}:s"),
        format!("{p}:z"),
    );
    let results = post(
        &app,
        "/redis",
        json!({"steps": [
            {"op": "set", "key": k, "value": "v1"},
            {"op": "get", "key": k},
            {"op": "get", "key": format!("{p}:missing")},
            {"op": "incr", "key": n},
            {"op": "incr", "key": n},
            {"op": "sadd", "key": s, "values": ["a", "b", "c"]},
            {"op": "srem", "key": s, "values": ["b", "x"]},
            {"op": "smembers", "key": s},
            {"op": "execute", "command": "ZADD", "args": [z, 5, "five", 7, "seven"]},
            {"op": "execute", "command": "ZRANGE", "args": [z, 0, -1, "WITHSCORES"]},
            {"op": "execute", "command": "SET", "args": [format!("{p}:e"), "x"]},
            {"op": "execute", "command": "GET", "args": [format!("{p}:none")]},
            {"op": "incr", "key": s},
            {"op": "del", "keys": [n, format!("{p}:missing")]},
        ]}),
    )
    .await;
    assert_eq!(ok(&results[0]), &Value::Null);
    assert_eq!(ok(&results[1]), &json!("v1"));
    assert_eq!(ok(&results[2]), &Value::Null);
    assert_eq!(ok(&results[3]), &json!(1));
    assert_eq!(ok(&results[4]), &json!(2));
    assert_eq!(ok(&results[5]), &json!(3));
    assert_eq!(ok(&results[6]), &json!(1));
    assert_eq!(ok(&results[7]), &json!(["a", "c"]));
    assert_eq!(ok(&results[8]), &json!([{"int64": 2}]));
    assert_eq!(
        ok(&results[9]),
        &json!([{"binary": "five"}, {"binary": "5"}, {"binary": "seven"}, {"binary": "7"}])
    );
    assert_eq!(ok(&results[10]), &json!([{"status": "OK"}]));
    assert_eq!(ok(&results[11]), &json!(["nil"]));
    assert!(err(&results[12]).contains("Other"), "incr on a set");
    assert_eq!(ok(&results[13]), &json!(1));

    // What the guest wrote is in Redis.
    assert_eq!(
        native
            .get::<Option<String>, _>(&k)
            .await
            .unwrap()
            .as_deref(),
        Some("v1")
    );
    assert_eq!(native.exists::<i64, _>(&n).await.unwrap(), 0);
    assert_eq!(
        native
            .get::<Option<String>, _>(format!("{p}:e"))
            .await
            .unwrap()
            .as_deref(),
        Some("x")
    );
    let _: i64 = native.del(vec![k, s, z, format!("{p}:e")]).await.unwrap();
}

#[tokio::test]
async fn redis_publish_reaches_a_subscriber() {
    let app = start(None, &[]).await;
    let channel = unique("rh_host_chan");
    let subscriber = fred::types::Builder::from_config(
        fred::types::config::Config::from_url(REDIS_URL).unwrap(),
    )
    .build_subscriber_client()
    .unwrap();
    subscriber.init().await.unwrap();
    let mut messages = subscriber.message_rx();
    subscriber.subscribe(channel.clone()).await.unwrap();
    let results = post(
        &app,
        "/redis",
        json!({"steps": [{"op": "publish", "channel": channel, "value": "hello"}]}),
    )
    .await;
    ok(&results[0]);
    let msg = tokio::time::timeout(Duration::from_secs(10), messages.recv())
        .await
        .expect("a message")
        .unwrap();
    assert_eq!(msg.channel.to_string(), channel);
    assert_eq!(msg.value.as_bytes(), Some(&b"hello"[..]));
    let _ = subscriber.quit().await;
}

#[tokio::test]
async fn redis_refuses_denied_hosts_and_keeps_connections_isolated() {
    let app = start(None, &[]).await;
    let results = post(
        &app,
        "/redis",
        json!({"url": "redis://127.0.0.1:6380/3", "steps": []}),
    )
    .await;
    assert!(
        results[0]["open_err"]
            .as_str()
            .unwrap()
            .contains("InvalidAddress"),
        "{results:?}"
    );
    let results = post(
        &app,
        "/redis",
        json!({"url": "redis://10.0.0.1:6379", "steps": []}),
    )
    .await;
    assert!(results[0]["open_err"]
        .as_str()
        .unwrap()
        .contains("InvalidAddress"));

    // A guest that switches database with SELECT must not leak that into the next request.
    let key = unique("rh_host_sel");
    let native = native_redis(REDIS_URL).await;
    post(&app, "/redis", json!({"steps": [{"op": "execute", "command": "SELECT", "args": [5]}, {"op": "set", "key": key, "value": "in5"}]})).await;
    for _ in 0..3 {
        let r = post(
            &app,
            "/redis",
            json!({"steps": [{"op": "get", "key": key}]}),
        )
        .await;
        assert_eq!(
            ok(&r[0]),
            &Value::Null,
            "db 3 must not see the key written to db 5"
        );
    }
    let db5 = native_redis("redis://127.0.0.1:6379/5").await;
    assert_eq!(
        db5.get::<Option<String>, _>(&key).await.unwrap().as_deref(),
        Some("in5")
    );
    let _: i64 = db5.del(&key).await.unwrap();
    let _ = native.quit().await;
}

#[tokio::test]
async fn key_value_default_store_in_memory_and_access_denied() {
    let app = start(None, &[]).await;
    let results = post(
        &app,
        "/kv",
        json!({"store": "default", "steps": [
            {"op": "get", "key": "a"},
            {"op": "set", "key": "a", "value": "1"},
            {"op": "set", "key": "b", "value": "2"},
            {"op": "exists", "key": "a"},
            {"op": "get_keys"},
            {"op": "delete", "key": "b"},
            {"op": "exists", "key": "b"},
        ]}),
    )
    .await;
    assert_eq!(ok(&results[0]), &Value::Null);
    assert_eq!(ok(&results[3]), &json!(true));
    assert_eq!(ok(&results[4]), &json!(["a", "b"]));
    assert_eq!(ok(&results[6]), &json!(false));
    // The store outlives the instance that wrote it.
    let again = post(
        &app,
        "/kv",
        json!({"store": "default", "steps": [{"op": "get", "key": "a"}]}),
    )
    .await;
    assert_eq!(ok(&again[0]), &json!("1"));
    let denied = post(&app, "/kv", json!({"store": "other", "steps": []})).await;
    assert!(
        denied[0]["open_err"]
            .as_str()
            .unwrap()
            .contains("AccessDenied"),
        "{denied:?}"
    );
}

#[tokio::test]
async fn key_value_default_store_on_redis() {
    let rc = format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{KV_REDIS_URL}\"\n");
    let app = start(Some(&rc), &[]).await;
    let key = unique("rh_host_kv");
    let results = post(
        &app,
        "/kv",
        json!({"store": "default", "steps": [
            {"op": "set", "key": key, "value": "on-redis"},
            {"op": "get", "key": key},
            {"op": "exists", "key": key},
            {"op": "get_keys"},
        ]}),
    )
    .await;
    assert_eq!(ok(&results[1]), &json!("on-redis"));
    assert_eq!(ok(&results[2]), &json!(true));
    assert!(ok(&results[3]).as_array().unwrap().contains(&json!(key)));
    let native = native_redis(KV_REDIS_URL).await;
    assert_eq!(
        native
            .get::<Option<String>, _>(&key)
            .await
            .unwrap()
            .as_deref(),
        Some("on-redis")
    );
    let results = post(
        &app,
        "/kv",
        json!({"store": "default", "steps": [{"op": "delete", "key": key}]}),
    )
    .await;
    ok(&results[0]);
    assert_eq!(native.exists::<i64, _>(&key).await.unwrap(), 0);
}

#[tokio::test]
async fn variables_resolve_and_report_spins_errors() {
    let get = |app: &crate::common::Running, name: &str| {
        let url = app.url(&format!("/var?name={name}"));
        async move {
            reqwest::get(url)
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let app = start(None, &[]).await;
    assert_eq!(get(&app, "greeting").await, json!({"ok": "hello"}));
    let missing = get(&app, "missing").await;
    assert!(
        missing["err"].as_str().unwrap().contains("Undefined"),
        "{missing}"
    );
    assert!(get(&app, "Bad").await["err"]
        .as_str()
        .unwrap()
        .contains("InvalidName"));
    let app = start(None, &[("greeting", "overridden")]).await;
    assert_eq!(get(&app, "greeting").await, json!({"ok": "overridden"}));
}

#[tokio::test]
async fn start_up_fails_on_an_undefined_store_or_a_bad_runtime_config() {
    let opts = storage_app(None, &[], r#"["default", "nope"]"#).await;
    let e = format!(
        "{:#}",
        App::load(opts).await.err().expect("an undefined store")
    );
    assert!(e.contains("nope"), "{e}");
    let rc = "[key_value_store.default]\ntype = \"azure_cosmos\"\n";
    let opts = storage_app(Some(rc), &[], r#"["default"]"#).await;
    let e = format!(
        "{:#}",
        App::load(opts)
            .await
            .err()
            .expect("an unsupported store type")
    );
    assert!(e.contains("azure_cosmos"), "{e}");
}

#[tokio::test]
async fn redis_caps_open_connections_per_instance_as_spin_does() {
    let app = start(None, &[]).await;
    let r = post(&app, "/redis/many", json!({"n": 1030})).await;
    assert_eq!(r[0]["opened"], json!(1024), "{r:?}");
    assert!(
        r[0]["err"].as_str().unwrap().contains("TooManyConnections"),
        "{r:?}"
    );
    // The next instance starts from zero.
    let r = post(&app, "/redis/many", json!({"n": 3})).await;
    assert_eq!(r[0], json!({"opened": 3, "err": null}));
}
