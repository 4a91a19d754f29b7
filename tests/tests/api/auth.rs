//! `/api/v1/auth/*` through the real runtime and the real `auth` component: register,
//! login, refresh rotation and reuse detection, logout, token checks, rate limits,
//! CORS and the HTTP error contract (400/401/404/405/409/413/422/429).

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use mysql_async::prelude::Queryable;
use reqwest::{Method, StatusCode};
use rh_tests::problem::error_fields;
use rh_tests::{assert_problem, spawn_app, spawn_app_with, unique_suffix, TestApp};
use rh_token::{Claims, TokenKeys, TokenType};
use serde_json::{json, Value};

fn keys(app: &TestApp) -> TokenKeys {
    TokenKeys::new(app.jwt_secret.as_bytes()).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The `WWW-Authenticate` header of a response.
fn challenge(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Asserts a 401 problem with a Bearer challenge.
async fn assert_unauthorized(resp: reqwest::Response) -> Value {
    let www = challenge(&resp);
    assert!(www.starts_with("Bearer"), "WWW-Authenticate is {www:?}");
    assert_problem(resp, StatusCode::UNAUTHORIZED).await
}

async fn audit_actions(app: &TestApp, user_id: u64) -> Vec<String> {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec(
        "SELECT action FROM audit_log WHERE actor_id = ? ORDER BY id",
        (user_id,),
    )
    .await
    .unwrap()
}

// ---- register -------------------------------------------------------------------

#[tokio::test]
async fn register_returns_201_with_the_user_and_a_token_pair() {
    let app = spawn_app().await;
    let s = unique_suffix();

    let user = app
        .register_user_as(
            &format!("Reg_{s}@Example.COM"),
            &format!("Reg_{s}"),
            "correct horse",
            "na",
        )
        .await;

    let body = &user.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(
        body["user"]["email"],
        format!("reg_{s}@example.com"),
        "email is lowercased"
    );
    assert_eq!(
        body["user"]["username"],
        format!("Reg_{s}"),
        "username is kept as typed"
    );
    assert_eq!(body["user"]["region"], "na");
    assert_eq!(body["user"]["stats"], json!({}));
    assert!(body["user"]["created_at"].as_i64().unwrap() > 1_700_000_000_000);
    assert!(body["user"].get("password_hash").is_none());
    let access =
        rh_token::verify(&keys(&app), &user.access_token, TokenType::Access, now()).unwrap();
    assert_eq!(access.user_id().unwrap(), user.id);
    assert_eq!(access.exp - access.iat, 900);
    let refresh =
        rh_token::verify(&keys(&app), &user.refresh_token, TokenType::Refresh, now()).unwrap();
    assert_eq!(refresh.exp - refresh.iat, 7 * 24 * 3600);
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_with_owasp_parameters() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    let mut conn = app.db.get_conn().await.unwrap();
    let hash: Option<String> = conn
        .exec_first("SELECT password_hash FROM users WHERE id = ?", (user.id,))
        .await
        .unwrap();

    let hash = hash.unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(&user.password));
}

#[tokio::test]
async fn a_duplicate_email_is_a_conflict_whatever_its_case() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    let resp = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": user.email.to_uppercase(), "username": format!("o_{}", unique_suffix()),
                    "password": "another password", "region": "eu"}),
        )
        .await;

    let problem = assert_problem(resp, StatusCode::CONFLICT).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("email"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_username_differing_only_in_case_is_a_conflict() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    let resp = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": format!("other_{}@example.com", unique_suffix()),
                    "username": user.username.to_uppercase(), "password": "another password", "region": "eu"}),
        )
        .await;

    let problem = assert_problem(resp, StatusCode::CONFLICT).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("username"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_conflicting_registration_creates_nothing() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let email = format!("half_{}@example.com", unique_suffix());

    // The email is new but the username is taken: the insert fails inside the transaction.
    let resp = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": email, "username": user.username, "password": "another password", "region": "eu"}),
        )
        .await;
    assert_problem(resp, StatusCode::CONFLICT).await;

    let mut conn = app.db.get_conn().await.unwrap();
    let count: Option<i64> = conn
        .exec_first(
            "SELECT COUNT(*) FROM users WHERE email = ?",
            (email.as_str(),),
        )
        .await
        .unwrap();
    assert_eq!(count, Some(0));
}

#[tokio::test]
async fn invalid_fields_are_all_reported_in_one_422() {
    let app = spawn_app().await;

    let resp = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "not-an-email", "username": "ab", "password": "short", "region": "mars"}),
        )
        .await;

    let problem = assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        ["email", "password", "region", "username"],
        "{problem}"
    );
    for e in problem["errors"].as_array().unwrap() {
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
}

#[tokio::test]
async fn username_and_password_length_rules_are_enforced() {
    let app = spawn_app().await;
    let cases = [
        (format!("u{}", "x".repeat(20)), "long enough pw", "username"), // 21 characters
        ("bad-name!".to_string(), "long enough pw", "username"),
        (
            format!("ok_{}", unique_suffix()),
            &"p".repeat(129)[..],
            "password",
        ),
    ];
    for (username, password, field) in cases {
        let resp = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": format!("len_{}@example.com", unique_suffix()), "username": username,
                        "password": password, "region": "eu"}),
            )
            .await;
        let problem = assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&problem), [field], "{problem}");
    }
}

#[tokio::test]
async fn missing_fields_are_a_422_naming_them() {
    let app = spawn_app().await;

    let resp = app
        .post_json("/api/v1/auth/register", &json!({"email": "x@example.com"}))
        .await;

    let problem = assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(fields, ["password", "region", "username"]);
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;

    for body in ["{\"email\": ", "not json", "[1, 2]", ""] {
        let resp = app
            .request(Method::POST, "/api/v1/auth/register", None)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(resp, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_a_413() {
    let app = spawn_app().await;
    let big = json!({"email": "a@example.com", "username": "big_body", "password": "x".repeat(70 * 1024), "region": "eu"});

    let resp = app.post_json("/api/v1/auth/register", &big).await;

    assert_problem(resp, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test]
async fn a_wrong_method_is_a_405_with_allow() {
    let app = spawn_app().await;

    let resp = app.get("/api/v1/auth/register").await;

    let allow = resp
        .headers()
        .get("allow")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(allow.contains("POST"), "{allow}");
    assert_problem(resp, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn an_unknown_auth_route_is_a_404_problem() {
    let app = spawn_app().await;

    let resp = app.get("/api/v1/auth/nope").await;

    assert_problem(resp, StatusCode::NOT_FOUND).await;
}

// ---- login ----------------------------------------------------------------------

#[tokio::test]
async fn login_returns_200_with_the_same_shape_as_register() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    let resp = app.login(&user.email.to_uppercase(), &user.password).await;

    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user"]["id"], user.id);
    assert_eq!(body["user"]["email"], user.email);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let me = app
        .get_auth("/api/v1/users/me", body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    assert!(body["refresh_token"].is_string());
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_401_in_similar_time() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let unknown = format!("nobody_{}@example.com", unique_suffix());

    // Warm up (first requests pay for instance start-up).
    app.login(&unknown, "whatever password").await;
    let mut wrong_time = Duration::ZERO;
    let mut unknown_time = Duration::ZERO;
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let resp = app.login(&user.email, "wrong password!").await;
        wrong_time += t.elapsed();
        bodies.push(assert_problem(resp, StatusCode::UNAUTHORIZED).await);
        let t = Instant::now();
        let resp = app.login(&unknown, "wrong password!").await;
        unknown_time += t.elapsed();
        bodies.push(assert_problem(resp, StatusCode::UNAUTHORIZED).await);
    }

    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    // Without the dummy hash, an unknown email would answer ~50x faster (no Argon2).
    assert!(
        unknown_time * 3 > wrong_time && wrong_time * 3 > unknown_time,
        "unknown email {unknown_time:?} vs wrong password {wrong_time:?}"
    );
}

#[tokio::test]
async fn register_login_and_failed_login_are_audited() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    assert_eq!(
        app.login(&user.email, "wrong password!").await.status(),
        401
    );
    assert_eq!(app.login(&user.email, &user.password).await.status(), 200);

    assert_eq!(
        audit_actions(&app, user.id).await,
        ["register", "login_failed", "login"]
    );
    let mut conn = app.db.get_conn().await.unwrap();
    let ip: Option<Option<String>> = conn
        .exec_first(
            "SELECT ip FROM audit_log WHERE actor_id = ? AND action = 'login'",
            (user.id,),
        )
        .await
        .unwrap();
    assert_eq!(ip.flatten().as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn a_failed_login_with_a_very_long_email_is_still_a_401() {
    let app = spawn_app().await;
    let email = format!("{}@example.com", "l".repeat(60));

    let resp = app.login(&email, "wrong password!").await;

    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn login_with_a_malformed_email_is_a_422_and_without_password_too() {
    let app = spawn_app().await;

    let resp = app
        .post_json("/api/v1/auth/login", &json!({"email": "nope"}))
        .await;

    let problem = assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(fields, ["email", "password"]);
}

// ---- refresh --------------------------------------------------------------------

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": token}))
        .await
}

#[tokio::test]
async fn refresh_rotates_the_pair() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    let resp = refresh(&app, &user.refresh_token).await;

    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let new_refresh = body["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, user.refresh_token);
    assert_eq!(body["user"]["id"], user.id);
    let me = app
        .get_auth("/api/v1/users/me", body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    // The new refresh token works once too.
    assert_eq!(refresh(&app, new_refresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let rotated: Value = refresh(&app, &user.refresh_token)
        .await
        .json()
        .await
        .unwrap();
    let newest = rotated["refresh_token"].as_str().unwrap().to_string();

    // An attacker replays the old token.
    let reuse = refresh(&app, &user.refresh_token).await;

    assert_unauthorized(reuse).await;
    // The legitimate newest token dies with the family.
    assert_unauthorized(refresh(&app, &newest).await).await;
    assert!(audit_actions(&app, user.id)
        .await
        .contains(&"refresh_reuse".to_string()));
    // A fresh login starts a new family that works.
    let login: Value = app
        .login(&user.email, &user.password)
        .await
        .json()
        .await
        .unwrap();
    let fresh = login["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&app, fresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_access_token_is_not_a_refresh_token() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    assert_unauthorized(refresh(&app, &user.access_token).await).await;
}

#[tokio::test]
async fn refresh_without_a_token_is_a_422() {
    let app = spawn_app().await;

    let resp = app.post_json("/api/v1/auth/refresh", &json!({})).await;

    let problem = assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["refresh_token"]);
}

// ---- logout ---------------------------------------------------------------------

#[tokio::test]
async fn logout_revokes_the_access_token_and_its_refresh_family() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    let resp = app
        .request(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&user.access_token),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // Not expired, but refused from now on.
    let me = app.get_auth("/api/v1/users/me", &user.access_token).await;
    let problem = assert_unauthorized(me).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("revoked"),
        "{problem}"
    );
    assert_unauthorized(refresh(&app, &user.refresh_token).await).await;
    assert_eq!(audit_actions(&app, user.id).await.last().unwrap(), "logout");
    // The revocation key expires with the token.
    use fred::prelude::KeysInterface;
    let claims =
        rh_token::verify(&keys(&app), &user.access_token, TokenType::Access, now()).unwrap();
    let ttl: i64 = app
        .redis
        .ttl(rh_token::revoked_jti_key(&claims.jti))
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 900, "ttl {ttl}");
}

#[tokio::test]
async fn logout_needs_a_token() {
    let app = spawn_app().await;

    let resp = app
        .request(Method::POST, "/api/v1/auth/logout", None)
        .send()
        .await
        .unwrap();

    assert_eq!(challenge(&resp), "Bearer realm=\"rankedhonor\"");
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
}

// ---- bad tokens -----------------------------------------------------------------

fn claims_for(user_id: u64, typ: TokenType, iat: i64) -> Claims {
    Claims {
        sub: user_id.to_string(),
        exp: iat + typ.ttl_secs(),
        iat,
        jti: format!("test-{}", unique_suffix()),
        iss: rh_token::ISSUER.into(),
        aud: rh_token::AUDIENCE.into(),
        typ,
        fam: None,
    }
}

/// A JWT with any `alg` header, signed with HMAC-SHA512 (or nothing for `none`).
fn forge(alg: &str, claims: &Claims, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    let input = format!("{header}.{payload}");
    if alg == "none" {
        return format!("{input}.");
    }
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[tokio::test]
async fn tampered_expired_foreign_and_wrong_type_tokens_are_refused() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let k = keys(&app);

    let (head_payload, _sig) = user.access_token.rsplit_once('.').unwrap();
    let tampered_sig = format!("{head_payload}.{}", URL_SAFE_NO_PAD.encode([7u8; 32]));
    let mut other_user =
        rh_token::verify(&k, &user.access_token, TokenType::Access, now()).unwrap();
    other_user.sub = "1".into();
    let parts: Vec<&str> = user.access_token.split('.').collect();
    let tampered_payload = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other_user).unwrap()),
        parts[2]
    );
    let expired =
        rh_token::encode_claims(&k, &claims_for(user.id, TokenType::Access, now() - 3600)).unwrap();
    let hs512 = forge(
        "HS512",
        &claims_for(user.id, TokenType::Access, now()),
        app.jwt_secret.as_bytes(),
    );
    let none = forge("none", &claims_for(user.id, TokenType::Access, now()), b"");
    let other_secret = TokenKeys::new(b"a-different-secret-of-at-least-32-bytes!").unwrap();
    let foreign = rh_token::encode_claims(
        &other_secret,
        &claims_for(user.id, TokenType::Access, now()),
    )
    .unwrap();
    let mut wrong_aud = claims_for(user.id, TokenType::Access, now());
    wrong_aud.aud = "someone-else".into();
    let wrong_aud = rh_token::encode_claims(&k, &wrong_aud).unwrap();

    for (name, token) in [
        ("tampered signature", tampered_sig),
        ("tampered payload", tampered_payload),
        ("expired", expired),
        ("HS512", hs512),
        ("alg none", none),
        ("other secret", foreign),
        ("wrong audience", wrong_aud),
        ("refresh as access", user.refresh_token.clone()),
        ("garbage", "abc.def.ghi".into()),
    ] {
        let resp = app.get_auth("/api/v1/users/me", &token).await;
        let www = challenge(&resp);
        assert!(www.contains("error=\"invalid_token\""), "{name}: {www:?}");
        assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    }
    // The genuine token still works, so the refusals above are about the tokens.
    assert_eq!(
        app.get_auth("/api/v1/users/me", &user.access_token)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn tokens_issued_before_the_users_not_before_mark_are_refused() {
    use fred::prelude::KeysInterface;
    let app = spawn_app().await;
    let user = app.register_user().await;

    let _: () = app
        .redis
        .set(
            rh_token::user_tokens_not_before_key(user.id),
            now() + 1,
            Some(fred::types::Expiration::EX(60)),
            None,
            false,
        )
        .await
        .unwrap();

    assert_unauthorized(app.get_auth("/api/v1/users/me", &user.access_token).await).await;
}

// ---- rate limit -----------------------------------------------------------------

/// A client whose connections come from their own loopback address `127.{net}.x.y`, so
/// its requests have a `spin-client-addr` no other test shares (each test uses its own
/// `net`). Stale rate-limit windows of that address are cleared first.
async fn client_from_own_address(app: &TestApp, net: u8) -> (reqwest::Client, String) {
    use fred::prelude::KeysInterface;
    let n = std::process::id()
        ^ (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos());
    let ip = Ipv4Addr::new(127, net, (n >> 8) as u8, (n % 250 + 2) as u8);
    let client = reqwest::Client::builder()
        .local_address(IpAddr::V4(ip))
        .build()
        .unwrap();
    let ip = ip.to_string();
    for scope in ["login", "register"] {
        let _: i64 = app.redis.del(format!("rl:{scope}:{ip}")).await.unwrap();
    }
    (client, ip)
}

#[tokio::test]
async fn login_and_register_are_rate_limited_per_client_address() {
    let app = spawn_app_with(&[("auth_rate_limit_per_minute", "3")]).await;
    let (client, ip) = client_from_own_address(&app, 201).await;
    let (other_client, _) = client_from_own_address(&app, 202).await;
    let login = |client: &reqwest::Client| {
        client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": "limited@example.com", "password": "wrong password"}))
            .send()
    };

    for _ in 0..3 {
        assert_eq!(
            login(&client).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = login(&client).await.unwrap();

    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_problem(limited, StatusCode::TOO_MANY_REQUESTS).await;
    // Another address is not affected.
    assert_eq!(
        login(&other_client).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // Register has its own budget for the same address, limited the same way.
    let register = || {
        client
            .post(app.url("/api/v1/auth/register"))
            .json(&json!({"email": "bad"}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            register().await.unwrap().status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    assert_problem(register().await.unwrap(), StatusCode::TOO_MANY_REQUESTS).await;
    // The window lives in Redis, keyed by the client address.
    use fred::prelude::SortedSetsInterface;
    let n: i64 = app.redis.zcard(format!("rl:login:{ip}")).await.unwrap();
    assert_eq!(n, 3);
}

// ---- CORS -----------------------------------------------------------------------

#[tokio::test]
async fn a_preflight_from_the_allowed_origin_is_answered() {
    let app = spawn_app().await;

    let resp = app
        .request(Method::OPTIONS, "/api/v1/auth/login", None)
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let h = resp.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:3000");
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    let allowed_headers = h["access-control-allow-headers"].to_str().unwrap();
    assert!(allowed_headers.contains("Authorization") && allowed_headers.contains("Content-Type"));
    assert_eq!(h["vary"], "Origin");
    assert_ne!(h["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn preflights_are_answered_for_every_route() {
    let app = spawn_app().await;
    for (path, method) in [
        ("/api/v1/auth/register", "POST"),
        ("/api/v1/auth/refresh", "POST"),
        ("/api/v1/auth/logout", "POST"),
        ("/api/v1/users/me", "PATCH"),
        ("/api/v1/users/42", "GET"),
        ("/health", "GET"),
    ] {
        let resp = app
            .request(Method::OPTIONS, path, None)
            .header("origin", "http://localhost:3000")
            .header("access-control-request-method", method)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{path}");
        let methods = resp.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap();
        assert!(methods.contains(method), "{path}: {methods}");
    }
}

#[tokio::test]
async fn another_origin_gets_no_cors_headers() {
    let app = spawn_app().await;

    let preflight = app
        .request(Method::OPTIONS, "/api/v1/auth/login", None)
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    let actual = app
        .request(Method::GET, "/health", None)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();

    for resp in [preflight, actual] {
        let cors: Vec<_> = resp
            .headers()
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "{cors:?}");
    }
}

#[tokio::test]
async fn responses_to_the_allowed_origin_carry_cors_headers_errors_included() {
    let app = spawn_app().await;

    let resp = app
        .request(Method::GET, "/api/v1/users/me", None)
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();

    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert_eq!(resp.headers()["access-control-allow-credentials"], "true");
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
}
