//! rh-tests: RankedHonor's integration-test harness. Tests run the real runtime
//! (rh-runtime, in-process) with the real components built for wasm32-wasip2, against
//! MariaDB (database `rankedhonor_test`, as the app's own DML-only user) and Redis
//! (database 1), exactly as `./scripts/up` wires them, only with test variables.
//!
//! `./scripts/test` prepares all of that (database, migrations, components) and exports
//! the variables read below; running `cargo test -p rh-tests` by hand works after it
//! has run once (rebuild the components after changing them).
//!
//! # Layout
//! - `lib.rs`: [`spawn_app`] / [`spawn_app_with`], [`TestApp`] and its request helpers.
//! - [`server`]: starting the runtime on its own thread (the API and the worker, as
//!   production runs them), shared per test binary.
//! - [`cluster`]: two runtime and two sidecar processes behind HAProxy, for the
//!   cross-instance tests.
//! - [`problem`]: assertions on RFC 9457 problem responses.
//! - [`private_redis`]: a `redis-server` of a test's own, for tests that restart Redis.
//! - [`tcp_proxy`]: a TCP proxy between the app and MySQL or Redis that freezes, refuses
//!   or holds one command on cue.
//!
//! # Environment
//! | variable | default | meaning |
//! |---|---|---|
//! | `RH_TEST_DB_NAME` | `rankedhonor_test` | database the app and the tests use |
//! | `RH_DB_HOST` / `RH_DB_PORT` | `127.0.0.1` / `3306` | MariaDB |
//! | `RH_DB_USER` / `RH_DB_PASSWORD` | `rankedhonor` / `rankedhonor-dev` | the app's account |
//! | `RH_SIDECAR_DB_USER` / `RH_SIDECAR_DB_PASSWORD` | `rankedhonor_sidecar` / `rankedhonor-sidecar-dev` | the sidecar's read-only account |
//! | `RH_REDIS_HOST` / `RH_REDIS_PORT` | `127.0.0.1` / `6379` | Redis (db 1 is used) |
//! | `RH_TEST_MANIFEST` | `spin.toml` | the API's manifest, relative to the repository root |
//! | `RH_TEST_WORKER_MANIFEST` | `spin-worker.toml` | the worker's (Redis triggers); empty: none |

pub mod cluster;
pub mod fake_provider;
pub mod isolation;
pub mod private_redis;
pub mod problem;
pub mod server;
pub mod tcp_proxy;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use fred::prelude::{ClientLike, Config as RedisConfig};
use mysql_async::{OptsBuilder, Pool};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

pub use problem::assert_problem;

/// The `jwt_secret` the test app runs with: tests mint their own tokens with it
/// (expired ones, tampered ones) through rh-token.
pub const TEST_JWT_SECRET: &str = "test-only-jwt-secret-0123456789abcdef-0123456789abcdef";
/// The `game_server_key` the test app runs with, for signing game-server requests.
pub const TEST_GAME_SERVER_KEY: &str = "test-only-game-server-key-0123456789abcdef";
/// The `integration_key` (AES-256-GCM key for provider tokens at rest, 64 hex chars).
pub const TEST_INTEGRATION_KEY: &str =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// The `metrics_token` the test app runs with (`GET /api/v1/metrics`).
pub const TEST_METRICS_TOKEN: &str = "test-only-metrics-token-0123456789";
/// Redis database of the test app (the `up` app uses 0).
pub const TEST_REDIS_DB: u8 = 1;
/// The shared app's register/login limit: high, because every test registers users
/// from 127.0.0.1 within the same minute. Rate-limit tests use [`spawn_app_with`].
pub const SHARED_AUTH_RATE_LIMIT: &str = "100000";

/// The shared app's queue regions: the defaults plus one per queue test of the
/// matchmaking modules (`mq...`), so tests running in parallel never share a queue;
/// `mqbatch_unstorable_region` is longer than `matches.region` on purpose (a batch there
/// fails in MySQL). The cluster runs with its own list ([`cluster::REGIONS`]).
pub const TEST_REGIONS: &str = "na,eu,sa,asia,oce,\
    mqpair,mqtol,mqmixa,mqmixb,mqparty,mq4v4,mqleave,mqrace,mqexp,mqbad,mqleaverace,mqview,\
    mqbat1,mqbat2,mqgone,mqbatch_unstorable_region,\
    mqb1,mqb2,mqb3,mqb4,mqb5,\
    mqqlop,mqqra,mqqrb,mqqbad,mqqparty,mqqlv1,mqqlv2,mqmetrics";

/// A running app plus clients onto the same database and Redis it uses.
pub struct TestApp {
    /// e.g. `http://127.0.0.1:41234`, no trailing slash.
    pub base_url: String,
    pub http: reqwest::Client,
    /// The app's own account on the test database (SELECT/INSERT/UPDATE/DELETE only).
    pub db: Pool,
    /// Connected to the app's Redis database ([`TEST_REDIS_DB`]).
    pub redis: fred::clients::Client,
    pub jwt_secret: String,
    pub game_server_key: String,
    /// Keeps a dedicated server (from [`spawn_app_with`]) alive; dropping stops it.
    _server: Option<server::Dedicated>,
    /// Every request names a client address of its own ([`TestApp::request`]).
    distinct_clients: bool,
}

/// An account created through the API, with the tokens it got.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: u64,
    pub email: String,
    pub username: String,
    pub password: String,
    pub region: String,
    pub access_token: String,
    pub refresh_token: String,
    /// The whole 201 body.
    pub body: Value,
}

/// The variables every test app runs with (keys are the lowercase variable names).
///
/// Every app, cluster and client of a test is built from these, so this is where a test
/// enters its module ([`isolation::enter`]): one module of the binary runs at a time.
pub fn test_variables() -> HashMap<String, String> {
    isolation::enter();
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let mut vars = HashMap::from([
        (
            "db_host".into(),
            format!(
                "{}:{}",
                env("RH_DB_HOST", "127.0.0.1"),
                env("RH_DB_PORT", "3306")
            ),
        ),
        ("db_name".into(), test_db_name()),
        ("db_user".into(), env("RH_DB_USER", "rankedhonor")),
        (
            "db_password".into(),
            env("RH_DB_PASSWORD", "rankedhonor-dev"),
        ),
        (
            "redis_host".into(),
            format!(
                "{}:{}",
                env("RH_REDIS_HOST", "127.0.0.1"),
                env("RH_REDIS_PORT", "6379")
            ),
        ),
        ("redis_db".into(), TEST_REDIS_DB.to_string()),
        ("jwt_secret".into(), TEST_JWT_SECRET.into()),
        ("game_server_key".into(), TEST_GAME_SERVER_KEY.into()),
        ("integration_key".into(), TEST_INTEGRATION_KEY.into()),
        ("metrics_token".into(), TEST_METRICS_TOKEN.into()),
        (
            "auth_rate_limit_per_minute".into(),
            SHARED_AUTH_RATE_LIMIT.into(),
        ),
        ("regions".into(), TEST_REGIONS.into()),
    ]);
    // Every OAuth provider points at the local fake (started on first use).
    vars.extend(fake_provider::shared().variables());
    vars
}

/// `RH_TEST_DB_NAME`, default `rankedhonor_test`. Refuses the `up` database.
pub fn test_db_name() -> String {
    let name = std::env::var("RH_TEST_DB_NAME").unwrap_or_else(|_| "rankedhonor_test".into());
    assert_ne!(
        name, "rankedhonor",
        "tests must never use the ./scripts/up database"
    );
    name
}

/// The `mysql://` URL a sidecar under test reads revocations with: the read-only account
/// `scripts/lib.sh` `ensure_sidecar_account` grants, on the test database.
pub fn sidecar_database_url() -> String {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    format!(
        "mysql://{}:{}@{}:{}/{}",
        env("RH_SIDECAR_DB_USER", "rankedhonor_sidecar"),
        env("RH_SIDECAR_DB_PASSWORD", "rankedhonor-sidecar-dev"),
        env("RH_DB_HOST", "127.0.0.1"),
        env("RH_DB_PORT", "3306"),
        test_db_name()
    )
}

/// The app shared by every test of this test binary (started on first use).
pub async fn spawn_app() -> TestApp {
    let base_url = server::shared(test_variables());
    TestApp::connect(base_url, None).await
}

/// Where the shared app's runtime serves `GET /metrics` (started on first use).
pub fn shared_metrics_url() -> String {
    server::shared_urls(test_variables()).1
}

/// A dedicated app with some variables changed (e.g. a low
/// `auth_rate_limit_per_minute`), stopped when the returned [`TestApp`] is dropped.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let mut vars = test_variables();
    for (k, v) in overrides {
        vars.insert((*k).to_string(), (*v).to_string());
    }
    let dedicated = server::Dedicated::start(vars);
    TestApp::connect(dedicated.base_url.clone(), Some(dedicated)).await
}

/// A string unique within this test run, for emails and usernames: unique across
/// test binaries (process id) and within one (counter), short enough for a username.
pub fn unique_suffix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    // 6 + up to 5 + up to 3 chars: a `u_`-prefixed username stays within 20.
    format!(
        "{:x}{:x}{n:x}",
        (nanos >> 8) & 0xff_ffff,
        std::process::id() & 0xfffff
    )
}

impl TestApp {
    async fn connect(base_url: String, server: Option<server::Dedicated>) -> TestApp {
        TestApp::connect_with(base_url, server, &test_variables()).await
    }

    /// A client of an app a test runs itself, on `vars`' database and Redis.
    pub async fn attach(base_url: String, vars: &HashMap<String, String>) -> TestApp {
        TestApp::connect_with(base_url, None, vars).await
    }

    async fn connect_with(
        base_url: String,
        server: Option<server::Dedicated>,
        vars: &HashMap<String, String>,
    ) -> TestApp {
        let (host, port) = vars["db_host"]
            .rsplit_once(':')
            .expect("db_host is host:port");
        let db = Pool::new(
            OptsBuilder::default()
                .ip_or_hostname(host.to_string())
                .tcp_port(port.parse().expect("db port"))
                .user(Some(vars["db_user"].clone()))
                .pass(Some(vars["db_password"].clone()))
                .db_name(Some(vars["db_name"].clone())),
        );
        let redis_url = format!("redis://{}/{}", vars["redis_host"], TEST_REDIS_DB);
        let redis = fred::clients::Client::new(
            RedisConfig::from_url(&redis_url).expect("redis url"),
            None,
            None,
            None,
        );
        redis.init().await.expect("connecting to Redis");
        TestApp {
            base_url,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            db,
            redis,
            jwt_secret: TEST_JWT_SECRET.into(),
            game_server_key: TEST_GAME_SERVER_KEY.into(),
            _server: server,
            distinct_clients: false,
        }
    }

    /// A client of an app behind trusted proxies ([`cluster`]) whose requests each come
    /// from a client address of their own.
    pub(crate) async fn connect_distinct(base_url: String) -> TestApp {
        TestApp {
            distinct_clients: true,
            ..TestApp::connect(base_url, None).await
        }
    }

    /// `base_url` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request builder for `method` on `path`, optionally with a Bearer token.
    ///
    /// A [`cluster`] app trusts 127.0.0.1 as a proxy, so `X-Forwarded-For` names the
    /// client: there each request names its own address in `10.0.0.0/8`, as players
    /// behind a load balancer have theirs. Only tests that pick an address themselves
    /// then meet the cluster's low register/login limit.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut req = self.http.request(method, self.url(path));
        if self.distinct_clients {
            // Offset by the process id: a rerun within the minute uses other addresses.
            static NEXT: AtomicU64 = AtomicU64::new(1);
            let n = (u64::from(std::process::id()) << 12)
                .wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed))
                & 0xff_ffff;
            req = req.header(
                "x-forwarded-for",
                format!("10.{}.{}.{}", n >> 16, (n >> 8) & 0xff, n & 0xff),
            );
        }
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None).send().await.unwrap()
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path, None)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json_auth(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(token))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch_json_auth(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path, Some(token))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete_auth(&self, path: &str, token: &str) -> Response {
        self.request(Method::DELETE, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    /// Registers a new account with a unique email and username (region `eu`) and
    /// panics unless the API answers 201 with both tokens.
    pub async fn register_user(&self) -> TestUser {
        let suffix = unique_suffix();
        self.register_user_as(
            &format!("player_{suffix}@example.com"),
            &format!("u_{suffix}"),
            "correct horse battery",
            "eu",
        )
        .await
    }

    /// Registers the given account; panics unless the API answers 201.
    pub async fn register_user_as(
        &self,
        email: &str,
        username: &str,
        password: &str,
        region: &str,
    ) -> TestUser {
        let resp = self
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": email, "username": username, "password": password, "region": region}),
            )
            .await;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::CREATED, "register failed: {body}");
        let tokens: Tokens = serde_json::from_value(body.clone()).expect("register body");
        TestUser {
            id: body["user"]["id"].as_u64().expect("user.id"),
            email: email.to_lowercase(),
            username: username.to_string(),
            password: password.to_string(),
            region: region.to_string(),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            body,
        }
    }

    /// Logs in; returns the raw response (tests assert on failures too).
    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }
}

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_usernames_are_valid_and_unique() {
        let a = format!("u_{}", unique_suffix());
        let b = format!("u_{}", unique_suffix());

        assert_ne!(a, b);
        for name in [&a, &b] {
            assert!((3..=20).contains(&name.len()), "{name}");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
        }
    }

    #[test]
    fn test_variables_point_at_the_test_database_and_redis_db() {
        let vars = test_variables();

        assert_ne!(vars["db_name"], "rankedhonor");
        assert_eq!(vars["redis_db"], "1");
        assert!(vars["jwt_secret"].len() >= 32);
    }
}
