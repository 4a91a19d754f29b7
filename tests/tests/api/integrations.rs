//! Creator integrations and live streams through the real runtime, the real components,
//! MariaDB, Redis and the local fake OAuth provider (`rh_tests::fake_provider`).
//!
//! Tests that switch a provider off or count provider calls take [`EXCLUSIVE`] for
//! writing; the others take it for reading, so an outage never hits an unrelated test.

use std::time::{Duration, Instant};

use fred::prelude::{KeysInterface, PubsubInterface};
use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::RwLock;

use rh_tests::fake_provider::{self, FakeAccount, FakeLive, FakeProvider};
use rh_tests::{assert_problem, TestApp, TestUser};

static EXCLUSIVE: RwLock<()> = RwLock::const_new(());

const PROVIDERS: [&str; 3] = ["twitch", "youtube", "discord"];

fn fake() -> &'static FakeProvider {
    fake_provider::shared()
}

/// Asks the app to start linking `provider`; returns the authorize URL.
async fn authorize(app: &TestApp, user: &TestUser, provider: &str) -> String {
    let resp = app
        .get_auth(
            &format!("/api/v1/integrations/{provider}/authorize"),
            &user.access_token,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["authorize_url"]
        .as_str()
        .expect("authorize_url")
        .to_owned()
}

/// The browser coming back from the provider.
async fn callback(app: &TestApp, provider: &str, query: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/integrations/{provider}/callback?{query}"))
        .await
}

/// The whole flow: authorize, approve at the fake as `account`, callback; asserts 200.
async fn link(app: &TestApp, user: &TestUser, provider: &str, account: &FakeAccount) -> Value {
    let url = authorize(app, user, provider).await;
    let query = fake().grant(provider, &url, account);
    let resp = callback(app, provider, &query).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "callback failed: {body}");
    body
}

async fn links_in_db(app: &TestApp, user_id: u64) -> Vec<(String, String)> {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec(
        "SELECT provider, provider_user_id FROM creator_integrations WHERE user_id = ? ORDER BY provider",
        (user_id,),
    )
    .await
    .unwrap()
}

async fn audit_actions(app: &TestApp, user_id: u64) -> Vec<String> {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec(
        "SELECT action FROM audit_log WHERE actor_id = ? AND action LIKE 'integration_%' ORDER BY id",
        (user_id,),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn each_provider_links_through_the_full_oauth_flow_and_is_listed_without_tokens() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;

    let mut accounts = Vec::new();
    for provider in PROVIDERS {
        let account = fake().new_account(provider);
        let body = link(&app, &user, provider, &account).await;
        assert_eq!(body["provider"], provider, "{body}");
        assert_eq!(body["provider_user_id"], account.id.as_str(), "{body}");
        accounts.push(account);
    }
    let resp = app
        .get_auth("/api/v1/integrations", &user.access_token)
        .await;

    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    let list = body["integrations"].as_array().expect("integrations array");
    let providers: Vec<&str> = list
        .iter()
        .map(|l| l["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers, ["discord", "twitch", "youtube"]);
    let twitch = &list[1];
    assert_eq!(twitch["login"], accounts[0].login.as_str());
    assert_eq!(twitch["scopes"], serde_json::json!(["user:read:email"]));
    assert!(twitch["linked_at_ms"].as_i64().unwrap() > 0);
    assert_eq!(list[2]["login"], format!("@{}", accounts[1].login));
    for account in &accounts {
        for token in fake().tokens_of(account) {
            assert!(
                !text.contains(&token),
                "a provider token leaked into the list"
            );
        }
    }
    assert_eq!(
        audit_actions(&app, user.id).await,
        vec!["integration_linked"; 3]
    );
}

#[tokio::test]
async fn a_replayed_state_is_refused() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    let account = fake().new_account("twitch");
    let url = authorize(&app, &user, "twitch").await;
    let query = fake().grant("twitch", &url, &account);
    assert_eq!(
        callback(&app, "twitch", &query).await.status(),
        StatusCode::OK
    );

    let replay = callback(&app, "twitch", &query).await;

    let problem = assert_problem(replay, StatusCode::BAD_REQUEST).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("state"),
        "{problem}"
    );
    assert_eq!(links_in_db(&app, user.id).await.len(), 1);
}

#[tokio::test]
async fn an_expired_or_unknown_state_is_refused_and_nothing_is_stored() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    let account = fake().new_account("discord");
    let url = authorize(&app, &user, "discord").await;
    let query = fake().grant("discord", &url, &account);
    // Ten minutes pass.
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop(
        "UPDATE oauth_states SET expires_at_ms = expires_at_ms - 600001 WHERE user_id = ?",
        (user.id,),
    )
    .await
    .unwrap();

    let expired = callback(&app, "discord", &query).await;
    let unknown = callback(&app, "discord", "code=abc&state=never-issued").await;
    let missing = callback(&app, "discord", "code=abc").await;

    let problem = assert_problem(expired, StatusCode::BAD_REQUEST).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("expired"),
        "{problem}"
    );
    assert_problem(unknown, StatusCode::BAD_REQUEST).await;
    assert_problem(missing, StatusCode::BAD_REQUEST).await;
    assert!(links_in_db(&app, user.id).await.is_empty());
}

#[tokio::test]
async fn a_player_refusing_at_the_provider_gets_a_problem_and_spends_the_state() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    let url = authorize(&app, &user, "twitch").await;
    let query = fake().grant("twitch", &url, &fake().new_account("twitch"));
    let state = query.split_once("state=").unwrap().1.to_owned();

    let denied = callback(
        &app,
        "twitch",
        &format!("error=access_denied&state={state}"),
    )
    .await;
    let retried = callback(&app, "twitch", &query).await;

    let problem = assert_problem(denied, StatusCode::BAD_REQUEST).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("access_denied"),
        "{problem}"
    );
    assert_problem(retried, StatusCode::BAD_REQUEST).await;
    assert!(links_in_db(&app, user.id).await.is_empty());
}

#[tokio::test]
async fn a_state_issued_for_one_provider_cannot_complete_another() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    let url = authorize(&app, &user, "twitch").await;
    let query = fake().grant("twitch", &url, &fake().new_account("twitch"));

    let resp = callback(&app, "discord", &query).await;

    assert_problem(resp, StatusCode::BAD_REQUEST).await;
    assert!(links_in_db(&app, user.id).await.is_empty());
}

#[tokio::test]
async fn a_tampered_pkce_verifier_is_rejected_by_the_provider_and_nothing_is_stored() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    let url = authorize(&app, &user, "youtube").await;
    let query = fake().grant("youtube", &url, &fake().new_account("youtube"));
    // The verifier no longer matches the challenge the provider saw.
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop(
        "UPDATE oauth_states SET code_verifier = ? WHERE user_id = ?",
        ("tampered-verifier-tampered-verifier-tampered-0123", user.id),
    )
    .await
    .unwrap();

    let resp = callback(&app, "youtube", &query).await;

    let problem = assert_problem(resp, StatusCode::BAD_REQUEST).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{problem}"
    );
    assert!(links_in_db(&app, user.id).await.is_empty());
    assert!(audit_actions(&app, user.id).await.is_empty());
}

#[tokio::test]
async fn a_challenge_swapped_in_the_authorize_url_fails_the_exchange() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    let url = authorize(&app, &user, "twitch").await;
    let (before, after) = url.split_once("code_challenge=").unwrap();
    let rest = after.split_once('&').map(|(_, r)| r).unwrap_or("");
    let swapped =
        format!("{before}code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&{rest}");
    let query = fake().grant("twitch", &swapped, &fake().new_account("twitch"));

    let resp = callback(&app, "twitch", &query).await;

    assert_problem(resp, StatusCode::BAD_REQUEST).await;
    assert!(links_in_db(&app, user.id).await.is_empty());
}

#[tokio::test]
async fn tokens_are_stored_encrypted_and_unreadable_in_mysql() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    let account = fake().new_account("twitch");
    link(&app, &user, "twitch", &account).await;

    let mut conn = app.db.get_conn().await.unwrap();
    let row: Option<(Vec<u8>, Option<Vec<u8>>)> = conn
        .exec_first(
            "SELECT access_token_enc, refresh_token_enc FROM creator_integrations WHERE user_id = ? AND provider = 'twitch'",
            (user.id,),
        )
        .await
        .unwrap();

    let (access, refresh) = row.expect("the link row");
    let refresh = refresh.expect("a refresh token is stored");
    let tokens = fake().tokens_of(&account);
    assert_eq!(
        tokens.len(),
        2,
        "one access and one refresh token were issued"
    );
    for token in &tokens {
        for stored in [&access, &refresh] {
            assert!(
                !stored.windows(token.len()).any(|w| w == token.as_bytes()),
                "a plaintext token is in MySQL"
            );
        }
    }
    // nonce (12) + ciphertext + tag (16)
    let access_plain_len = tokens.iter().find(|t| t.contains("access")).unwrap().len();
    assert_eq!(access.len(), 12 + access_plain_len + 16);
}

#[tokio::test]
async fn unlinking_deletes_the_link_and_is_audited() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    link(&app, &user, "discord", &fake().new_account("discord")).await;

    let resp = app
        .delete_auth("/api/v1/integrations/discord", &user.access_token)
        .await;
    let again = app
        .delete_auth("/api/v1/integrations/discord", &user.access_token)
        .await;

    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_problem(again, StatusCode::NOT_FOUND).await;
    assert!(links_in_db(&app, user.id).await.is_empty());
    let list: Value = app
        .get_auth("/api/v1/integrations", &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["integrations"], serde_json::json!([]));
    assert_eq!(
        audit_actions(&app, user.id).await,
        ["integration_linked", "integration_unlinked"]
    );
}

#[tokio::test]
async fn one_provider_account_links_to_at_most_one_player() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let (alice, bob) = (app.register_user().await, app.register_user().await);
    let account = fake().new_account("twitch");
    link(&app, &alice, "twitch", &account).await;

    let url = authorize(&app, &bob, "twitch").await;
    let query = fake().grant("twitch", &url, &account);
    let resp = callback(&app, "twitch", &query).await;

    assert_problem(resp, StatusCode::CONFLICT).await;
    assert!(links_in_db(&app, bob.id).await.is_empty());
    assert_eq!(
        links_in_db(&app, alice.id).await,
        [("twitch".to_owned(), account.id.clone())]
    );
    // Relinking the same provider replaces the player's own previous link.
    let other = fake().new_account("twitch");
    link(&app, &alice, "twitch", &other).await;
    assert_eq!(
        links_in_db(&app, alice.id).await,
        [("twitch".to_owned(), other.id)]
    );
}

#[tokio::test]
async fn integration_routes_need_a_token_and_a_known_provider() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;

    assert_problem(
        app.get("/api/v1/integrations").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_problem(
        app.get("/api/v1/integrations/twitch/authorize").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_problem(
        app.get_auth("/api/v1/integrations/myspace/authorize", &user.access_token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get("/api/v1/streams?provider=discord").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_problem(
        app.get("/api/v1/streams?limit=0").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_problem(
        app.get("/api/v1/streams?limit=abc").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn an_unreachable_provider_during_the_callback_is_a_503_and_nothing_is_stored() {
    let _exclusive = EXCLUSIVE.write().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    let url = authorize(&app, &user, "discord").await;
    let query = fake().grant("discord", &url, &fake().new_account("discord"));
    fake().set_down("discord", true);

    let resp = callback(&app, "discord", &query).await;
    fake().set_down("discord", false);

    let problem = assert_problem(resp, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("discord"),
        "{problem}"
    );
    assert!(links_in_db(&app, user.id).await.is_empty());
}

#[tokio::test]
async fn a_discord_link_adds_the_discord_badge() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    let path = format!("/api/v1/users/{}/badges", user.id);
    let profile_path = format!("/api/v1/users/{}", user.id);
    let before: Value = app.get(&path).await.json().await.unwrap();
    // Read (and so cached) before the link: the link must make it stale.
    let profile: Value = app.get(&profile_path).await.json().await.unwrap();
    assert_eq!(profile["badges"], serde_json::json!([]), "{profile}");

    link(&app, &user, "discord", &fake().new_account("discord")).await;
    let after: Value = app.get(&path).await.json().await.unwrap();

    assert_eq!(before["badges"], serde_json::json!([]), "{before}");
    assert_eq!(after["badges"], serde_json::json!(["discord"]), "{after}");
    // The public profile carries the same badge.
    let profile: Value = app.get(&profile_path).await.json().await.unwrap();
    assert_eq!(
        profile["badges"],
        serde_json::json!(["discord"]),
        "{profile}"
    );
    // And loses it with the link.
    let unlinked = app
        .delete_auth("/api/v1/integrations/discord", &user.access_token)
        .await;
    assert_eq!(unlinked.status(), StatusCode::NO_CONTENT);
    let profile: Value = app.get(&profile_path).await.json().await.unwrap();
    assert_eq!(profile["badges"], serde_json::json!([]), "{profile}");
    assert_problem(
        app.get("/api/v1/users/999999999/badges").await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

// ---------------------------------------------------------------------------
// Live streams
// ---------------------------------------------------------------------------

/// Publishes until a subscriber receives the message: the app's Redis trigger
/// subscribes after start-up, and until it has, PUBLISH reaches nobody.
async fn publish_until_heard(app: &TestApp, channel: &str, message: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let receivers: i64 = app.redis.publish(channel, message).await.unwrap();
        if receivers > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "nothing subscribes to {channel}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn counter(app: &TestApp, key: &str) -> i64 {
    let v: Option<i64> = app.redis.get(key).await.unwrap();
    v.unwrap_or(0)
}

/// Publishes `n` refresh messages at once (as `n` replicas would each receive one) and
/// waits until the component has handled all of them.
/// Links left in the shared test database by earlier test processes belong to fakes that
/// are gone: their token refresh fails (no streams call), and they could push this run's
/// links past the refresh's page of links. Fake account ids end in the creating process's
/// id, so everything else goes. Call it holding `EXCLUSIVE.write()`.
async fn drop_links_of_earlier_runs(app: &TestApp) {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop(
        "DELETE FROM creator_integrations WHERE provider_user_id NOT LIKE ?",
        (format!("%-{}", std::process::id()),),
    )
    .await
    .unwrap();
}

async fn refresh_streams(app: &TestApp, n: usize) {
    let _: i64 = app.redis.del("streams:refresh:claim").await.unwrap();
    let before =
        counter(app, "streams:refresh:runs").await + counter(app, "streams:refresh:skipped").await;
    publish_until_heard(app, "streams:refresh", "{}").await;
    let publishes: Vec<_> = (1..n)
        .map(|_| {
            let redis = app.redis.clone();
            tokio::spawn(async move {
                let _: i64 = redis.publish("streams:refresh", "{}").await.unwrap();
            })
        })
        .collect();
    for p in publishes {
        p.await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = counter(app, "streams:refresh:runs").await
            + counter(app, "streams:refresh:skipped").await;
        if now >= before + n as i64 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the refresh did not run within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn streams(app: &TestApp, query: &str) -> Value {
    let resp = app.get(&format!("/api/v1/streams{query}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

fn stream_of<'a>(body: &'a Value, user: &TestUser) -> Option<&'a Value> {
    body["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_id"].as_u64() == Some(user.id))
}

fn provider_status<'a>(body: &'a Value, provider: &str) -> &'a Value {
    body["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == provider)
        .expect("provider status")
}

#[tokio::test]
async fn streams_are_refreshed_sorted_by_viewers_and_kept_stale_during_an_outage() {
    let _exclusive = EXCLUSIVE.write().await;
    let app = rh_tests::spawn_app().await;
    drop_links_of_earlier_runs(&app).await;
    let (streamer, youtuber) = (app.register_user().await, app.register_user().await);
    let tw = fake().new_account("twitch");
    let yt = fake().new_account("youtube");
    link(&app, &streamer, "twitch", &tw).await;
    link(&app, &youtuber, "youtube", &yt).await;
    fake().set_live(
        "twitch",
        &tw,
        Some(FakeLive {
            title: "ranked grind".into(),
            viewers: 1_000_050,
        }),
    );
    fake().set_live(
        "youtube",
        &yt,
        Some(FakeLive {
            title: "road to top 10".into(),
            viewers: 1_000_080,
        }),
    );

    refresh_streams(&app, 1).await;
    let first = streams(&app, "?limit=100").await;

    let t = stream_of(&first, &streamer).expect("the twitch stream is listed");
    let y = stream_of(&first, &youtuber).expect("the youtube stream is listed");
    assert_eq!(
        (t["provider"].as_str(), t["viewer_count"].as_u64()),
        (Some("twitch"), Some(1_000_050))
    );
    assert_eq!(t["channel"], tw.login.as_str());
    assert_eq!(t["title"], "ranked grind");
    assert_eq!(t["username"], streamer.username.as_str());
    assert!(t.get("mmr").is_some(), "{t}");
    assert!(
        t["thumbnail_url"]
            .as_str()
            .unwrap()
            .ends_with("-440x248.jpg"),
        "{t}"
    );
    assert_eq!(y["viewer_count"], 1_000_080);
    let ours: Vec<u64> = first["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["viewer_count"].as_u64().unwrap())
        .collect();
    assert!(
        ours.windows(2).all(|w| w[0] >= w[1]),
        "most viewers first: {ours:?}"
    );
    assert_eq!(provider_status(&first, "youtube")["stale"], false);

    // YouTube goes down; Twitch numbers change.
    fake().set_down("youtube", true);
    fake().set_live(
        "twitch",
        &tw,
        Some(FakeLive {
            title: "ranked grind".into(),
            viewers: 1_000_060,
        }),
    );
    refresh_streams(&app, 1).await;
    let second = streams(&app, "?limit=100").await;
    fake().set_down("youtube", false);

    assert_eq!(
        provider_status(&second, "twitch")["stale"],
        false,
        "{second}"
    );
    assert_eq!(
        provider_status(&second, "youtube")["stale"],
        true,
        "{second}"
    );
    assert_eq!(
        stream_of(&second, &streamer).unwrap()["viewer_count"],
        1_000_060
    );
    assert_eq!(
        stream_of(&second, &youtuber).expect("the last good youtube data is kept")["viewer_count"],
        1_000_080
    );
    let only_youtube = streams(&app, "?provider=youtube&limit=1").await;
    assert_eq!(only_youtube["streams"].as_array().unwrap().len(), 1);
    assert_eq!(only_youtube["streams"][0]["provider"], "youtube");

    fake().set_live("twitch", &tw, None);
    fake().set_live("youtube", &yt, None);
}

#[tokio::test]
async fn concurrent_refreshes_ask_the_providers_once() {
    let _exclusive = EXCLUSIVE.write().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    let tw = fake().new_account("twitch");
    link(&app, &user, "twitch", &tw).await;
    fake().set_live(
        "twitch",
        &tw,
        Some(FakeLive {
            title: "once".into(),
            viewers: 7,
        }),
    );
    let mut conn = app.db.get_conn().await.unwrap();
    drop_links_of_earlier_runs(&app).await;
    let twitch_links: Option<u64> = conn
        .query_first("SELECT COUNT(*) FROM creator_integrations WHERE provider = 'twitch'")
        .await
        .unwrap();
    let calls_before = fake().calls("twitch/streams");
    let runs_before = counter(&app, "streams:refresh:runs").await;
    let skipped_before = counter(&app, "streams:refresh:skipped").await;

    refresh_streams(&app, 5).await;

    assert_eq!(counter(&app, "streams:refresh:runs").await - runs_before, 1);
    assert_eq!(
        counter(&app, "streams:refresh:skipped").await - skipped_before,
        4
    );
    // One streams call per linked Twitch account, once.
    assert_eq!(
        fake().calls("twitch/streams") - calls_before,
        twitch_links.unwrap()
    );
    let body = streams(&app, "?provider=twitch&limit=100").await;
    assert_eq!(stream_of(&body, &user).unwrap()["title"], "once");
    fake().set_live("twitch", &tw, None);
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_before_the_streams_call() {
    let _exclusive = EXCLUSIVE.write().await;
    let app = rh_tests::spawn_app().await;
    drop_links_of_earlier_runs(&app).await;
    let user = app.register_user().await;
    let yt = fake().new_account("youtube");
    // Valid at the provider for 30 s, but inside the app's 60 s renewal margin: the
    // refresh must renew it before calling the API.
    fake().set_token_lifetime("youtube", 30);
    link(&app, &user, "youtube", &yt).await;
    fake().set_token_lifetime("youtube", 3600);
    fake().set_live(
        "youtube",
        &yt,
        Some(FakeLive {
            title: "fresh token".into(),
            viewers: 3,
        }),
    );
    let mut conn = app.db.get_conn().await.unwrap();
    let read_enc = "SELECT access_token_enc FROM creator_integrations WHERE user_id = ? AND provider = 'youtube'";
    let before: Option<Vec<u8>> = conn.exec_first(read_enc, (user.id,)).await.unwrap();
    let refreshes_before = fake().calls("youtube/refresh");

    refresh_streams(&app, 1).await;

    assert!(fake().calls("youtube/refresh") > refreshes_before);
    let after: Option<Vec<u8>> = conn.exec_first(read_enc, (user.id,)).await.unwrap();
    assert_ne!(before, after, "the refreshed token was stored");
    let body = streams(&app, "?provider=youtube&limit=100").await;
    let s = stream_of(&body, &user).expect("listed with the refreshed token");
    assert_eq!(
        (s["title"].as_str(), s["viewer_count"].as_u64()),
        (Some("fresh token"), Some(3))
    );
    fake().set_live("youtube", &yt, None);
}

#[tokio::test]
async fn rank_ups_reach_the_discord_webhook_once_mentioning_linked_players() {
    let _shared = EXCLUSIVE.read().await;
    let app = rh_tests::spawn_app().await;
    let user = app.register_user().await;
    let discord = fake().new_account("discord");
    link(&app, &user, "discord", &discord).await;
    // A unique feed event id, far above the ids the matches tests create.
    let event_id = 9_000_000_000 + user.id;
    let message = serde_json::json!({"type": "feed", "event": {"id": event_id, "kind": "rank_up",
        "user_id": user.id, "created_at": 1, "data": {"user_id": user.id, "username": user.username,
        "mode": "1v1", "mmr": 1712, "tier": "platinum", "top_rank": null}}})
    .to_string();
    let expected = format!("<@{}> reached platinum in 1v1 (1712 mmr)", discord.id);

    // Twice, as two replicas would each receive it.
    for _ in 0..2 {
        publish_until_heard(&app, "feed", &message).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !fake()
        .webhook_posts()
        .iter()
        .any(|p| p["content"] == expected.as_str())
    {
        assert!(Instant::now() < deadline, "no webhook post within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The second delivery found the claim: wait until Redis shows it, then count.
    let claimed: Option<String> = app
        .redis
        .get(format!("discord:webhook:sent:{event_id}"))
        .await
        .unwrap();
    assert!(claimed.is_some());
    let posts = fake()
        .webhook_posts()
        .into_iter()
        .filter(|p| p["content"] == expected.as_str())
        .count();
    assert_eq!(posts, 1);
}
