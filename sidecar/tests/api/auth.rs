//! Authentication: query token, first message, refused tokens, timeout.

use std::time::Duration;

use fred::prelude::{Expiration, KeysInterface};
use rh_token::TokenType;

use crate::helpers::*;

#[tokio::test]
async fn a_token_in_the_query_authenticates() {
    let sidecar = spawn_sidecar(test_config(&REDIS_URL)).await;
    let user = unique();
    let mut c = Client::authenticated(&sidecar, user).await;
    assert_eq!(
        c.subscribe(&format!("user:{user}")).await["type"],
        "subscribed"
    );
}

#[tokio::test]
async fn a_first_auth_message_authenticates() {
    let sidecar = spawn_sidecar(test_config(&REDIS_URL)).await;
    let user = unique();
    let mut c = Client::connect(&sidecar.ws_url()).await;
    c.send(&format!(
        r#"{{"type":"auth","token":"{}"}}"#,
        access_token(user)
    ))
    .await;
    let hello = c.json().await;
    assert_eq!(hello["type"], "authenticated");
    assert_eq!(hello["user_id"], user);
    assert!(hello["expires_in_s"].as_u64().unwrap() > 800);
}

async fn assert_refused(sidecar: &TestSidecar, token: &str, code: &str) {
    // Both ways in are checked the same way.
    let mut c = Client::connect(&format!("{}?token={token}", sidecar.ws_url())).await;
    let err = c.json().await;
    assert_eq!(err["type"], "error");
    assert_eq!(err["code"], code, "{err}");
    assert_eq!(c.close_code().await, 1008);

    let mut c = Client::connect(&sidecar.ws_url()).await;
    c.send(&format!(r#"{{"type":"auth","token":"{token}"}}"#))
        .await;
    assert_eq!(c.json().await["code"], code);
    assert_eq!(c.close_code().await, 1008);
}

#[tokio::test]
async fn bad_expired_and_refresh_tokens_are_refused_with_1008() {
    let sidecar = spawn_sidecar(test_config(&REDIS_URL)).await;
    let user = unique();
    assert_refused(&sidecar, "not-a-jwt", "invalid_token").await;
    let other_secret = rh_token::TokenKeys::new(&[7u8; 32]).unwrap();
    let forged = rh_token::issue(
        &other_secret,
        TokenType::Access,
        user,
        now(),
        "j".into(),
        None,
    )
    .unwrap();
    assert_refused(&sidecar, &forged, "invalid_token").await;
    let expired = token_with(user, TokenType::Access, now() - 3600, "jti-old");
    assert_refused(&sidecar, &expired, "token_expired").await;
    let refresh = token_with(user, TokenType::Refresh, now(), "jti-refresh");
    assert_refused(&sidecar, &refresh, "wrong_token_type").await;

    // Each refusal counted by reason (two ways in each).
    let text = scrape(&sidecar).await;
    for (reason, n) in [
        ("invalid_token", 4.0),
        ("token_expired", 2.0),
        ("wrong_token_type", 2.0),
    ] {
        let series = format!("rh_sidecar_auth_refusals_total{{reason=\"{reason}\"}}");
        assert_eq!(metric(&text, &series), Some(n), "{text}");
    }
}

#[tokio::test]
async fn revoked_tokens_are_refused_with_1008() {
    let sidecar = spawn_sidecar(test_config(&REDIS_URL)).await;
    let redis = redis(&REDIS_URL).await;

    // Logged out: the jti is on the revocation list.
    let user = unique();
    let jti = format!("jti-{}", unique());
    let token = token_with(user, TokenType::Access, now(), &jti);
    let _: () = redis
        .set(
            rh_token::revoked_jti_key(&jti),
            "1",
            Some(Expiration::EX(60)),
            None,
            false,
        )
        .await
        .unwrap();
    assert_refused(&sidecar, &token, "token_revoked").await;

    // Banned: every token issued before the user's not-before time.
    let user = unique();
    let token = access_token(user);
    let _: () = redis
        .set(
            rh_token::user_tokens_not_before_key(user),
            (now() + 10).to_string(),
            Some(Expiration::EX(60)),
            None,
            false,
        )
        .await
        .unwrap();
    assert_refused(&sidecar, &token, "token_revoked").await;
}

#[tokio::test]
async fn no_auth_message_in_time_closes_with_1008() {
    let mut config = test_config(&REDIS_URL);
    config.limits.auth_timeout = Duration::from_millis(300);
    let sidecar = spawn_sidecar(config).await;
    let mut c = Client::connect(&sidecar.ws_url()).await;
    let err = c.json().await;
    assert_eq!(err["code"], "auth_timeout");
    assert_eq!(c.close_code().await, 1008);
}
