//! Teams (issue 8) through the real runtime: creation, names and tags, one team per
//! player, invitations, roles, removal rules, ownership transfer, leaving, disbanding,
//! the size cap under concurrent accepts, team views with mmr, search, team rankings,
//! notifications and the audit trail.

use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use serde_json::{json, Value};

use rh_tests::{assert_problem, problem::error_fields, spawn_app, TestApp, TestUser};

/// A fresh 5-character tag (`[A-Z0-9]`): tags are unique forever in the test database.
fn fresh_tag() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut n = nanos
        .wrapping_mul(6364136223846793005)
        .wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed) * 1442695040888963407)
        ^ u64::from(std::process::id());
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % 36) as usize] as char;
            n /= 36;
            c
        })
        .collect()
}

fn fresh_name() -> String {
    format!("Team {}", rh_tests::unique_suffix())
}

async fn create_team(app: &TestApp, owner: &TestUser) -> Value {
    let resp = app
        .post_json_auth(
            "/api/v1/teams",
            &owner.access_token,
            &json!({"name": fresh_name(), "tag": fresh_tag()}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json().await.unwrap()
}

async fn invite(app: &TestApp, by: &TestUser, team_id: u64, user: &TestUser) -> u64 {
    let resp = app
        .post_json_auth(
            &format!("/api/v1/teams/{team_id}/invites"),
            &by.access_token,
            &json!({"user_id": user.id}),
        )
        .await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_u64().unwrap()
}

async fn accept(app: &TestApp, user: &TestUser, invite_id: u64) -> reqwest::Response {
    app.post_json_auth(
        &format!("/api/v1/teams/invites/{invite_id}/accept"),
        &user.access_token,
        &json!({}),
    )
    .await
}

/// A team of `owner` plus `n` members who joined by invitation.
async fn team_with_members(app: &TestApp, n: usize) -> (Value, TestUser, Vec<TestUser>) {
    let owner = app.register_user().await;
    let team = create_team(app, &owner).await;
    let id = team["id"].as_u64().unwrap();
    let mut members = Vec::new();
    for _ in 0..n {
        let user = app.register_user().await;
        let invite_id = invite(app, &owner, id, &user).await;
        assert_eq!(accept(app, &user, invite_id).await.status(), StatusCode::OK);
        members.push(user);
    }
    (team, owner, members)
}

async fn get_team(app: &TestApp, id: u64) -> Value {
    let resp = app.get(&format!("/api/v1/teams/{id}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

fn role_of(team: &Value, user_id: u64) -> Option<String> {
    team["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == user_id)
        .map(|m| m["role"].as_str().unwrap().to_string())
}

async fn set_role(
    app: &TestApp,
    by: &TestUser,
    team_id: u64,
    user_id: u64,
    role: &str,
) -> reqwest::Response {
    app.patch_json_auth(
        &format!("/api/v1/teams/{team_id}/members/{user_id}"),
        &by.access_token,
        &json!({"role": role}),
    )
    .await
}

async fn remove(app: &TestApp, by: &TestUser, team_id: u64, user_id: u64) -> reqwest::Response {
    app.delete_auth(
        &format!("/api/v1/teams/{team_id}/members/{user_id}"),
        &by.access_token,
    )
    .await
}

async fn leave(app: &TestApp, user: &TestUser, team_id: u64) -> reqwest::Response {
    app.post_json_auth(
        &format!("/api/v1/teams/{team_id}/leave"),
        &user.access_token,
        &json!({}),
    )
    .await
}

async fn notification_kinds(app: &TestApp, user_id: u64) -> Vec<String> {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec(
        "SELECT kind FROM notifications WHERE user_id = ? ORDER BY id",
        (user_id,),
    )
    .await
    .unwrap()
}

async fn team_audit_actions(app: &TestApp, team_id: u64) -> Vec<String> {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec(
        "SELECT action FROM audit_log WHERE target_type = 'team' AND target_id = ? ORDER BY id",
        (team_id.to_string(),),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn creating_a_team_makes_the_caller_its_owner() {
    let app = spawn_app().await;
    let owner = app.register_user().await;
    let name = fresh_name();
    let tag = fresh_tag();

    let resp = app
        .post_json_auth(
            "/api/v1/teams",
            &owner.access_token,
            &json!({"name": name, "tag": tag.to_lowercase()}),
        )
        .await;

    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let team: Value = resp.json().await.unwrap();
    let id = team["id"].as_u64().unwrap();
    assert_eq!(location, format!("/api/v1/teams/{id}"));
    assert_eq!(team["name"], name);
    assert_eq!(team["tag"], tag, "tags are stored uppercased");
    assert_eq!(team["owner_id"], owner.id);
    assert_eq!(team["member_count"], 1);
    assert_eq!(role_of(&team, owner.id).as_deref(), Some("owner"));
    assert_eq!(get_team(&app, id).await["members"], team["members"]);
    assert_eq!(team_audit_actions(&app, id).await, ["team_create"]);
}

#[tokio::test]
async fn names_are_unique_regardless_of_case_and_tags_are_unique() {
    let app = spawn_app().await;
    let (a, b, c) = (
        app.register_user().await,
        app.register_user().await,
        app.register_user().await,
    );
    let team = create_team(&app, &a).await;
    let name = team["name"].as_str().unwrap();

    let same_name = app
        .post_json_auth(
            "/api/v1/teams",
            &b.access_token,
            &json!({"name": name.to_uppercase(), "tag": fresh_tag()}),
        )
        .await;
    let same_tag = app
        .post_json_auth(
            "/api/v1/teams",
            &c.access_token,
            &json!({"name": fresh_name(), "tag": team["tag"].as_str().unwrap().to_lowercase()}),
        )
        .await;

    let p = assert_problem(same_name, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("name"), "{p}");
    let p = assert_problem(same_tag, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("tag"), "{p}");
}

#[tokio::test]
async fn bad_names_and_tags_are_422_and_anonymous_creation_is_401() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    for (body, fields) in [
        (json!({"name": "ab", "tag": "A"}), vec!["name", "tag"]),
        (json!({"name": fresh_name(), "tag": "TOOLONG"}), vec!["tag"]),
        (json!({"name": fresh_name(), "tag": "A-B"}), vec!["tag"]),
        (
            json!({"name": "bad;name", "tag": fresh_tag()}),
            vec!["name"],
        ),
    ] {
        let resp = app
            .post_json_auth("/api/v1/teams", &user.access_token, &body)
            .await;
        let p = assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&p), fields, "{body}");
    }
    let resp = app
        .post_json(
            "/api/v1/teams",
            &json!({"name": fresh_name(), "tag": fresh_tag()}),
        )
        .await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    let resp = app
        .post_json_auth("/api/v1/teams", &user.access_token, &json!({"name": 5}))
        .await;
    assert_problem(resp, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn a_player_belongs_to_at_most_one_team() {
    let app = spawn_app().await;
    let (team_a, owner_a, members_a) = team_with_members(&app, 1).await;
    let (team_b, owner_b, _) = team_with_members(&app, 0).await;
    let member = &members_a[0];
    let b_id = team_b["id"].as_u64().unwrap();

    let second_team = app
        .post_json_auth(
            "/api/v1/teams",
            &owner_a.access_token,
            &json!({"name": fresh_name(), "tag": fresh_tag()}),
        )
        .await;
    let invite_member_elsewhere = app
        .post_json_auth(
            &format!("/api/v1/teams/{b_id}/invites"),
            &owner_b.access_token,
            &json!({"user_id": member.id}),
        )
        .await;

    assert_problem(second_team, StatusCode::CONFLICT).await;
    assert_problem(invite_member_elsewhere, StatusCode::CONFLICT).await;

    // An invitation accepted after joining another team is refused too.
    let drifter = app.register_user().await;
    let to_b = invite(&app, &owner_b, b_id, &drifter).await;
    let to_a = invite(&app, &owner_a, team_a["id"].as_u64().unwrap(), &drifter).await;
    assert_eq!(accept(&app, &drifter, to_a).await.status(), StatusCode::OK);
    let resp = accept(&app, &drifter, to_b).await;
    // Joining A withdrew the other invitations: there is nothing left to accept.
    assert_problem(resp, StatusCode::NOT_FOUND).await;
    assert_eq!(
        role_of(
            &get_team(&app, team_a["id"].as_u64().unwrap()).await,
            drifter.id
        )
        .as_deref(),
        Some("member")
    );
}

#[tokio::test]
async fn only_the_invitee_accepts_or_declines_and_everyone_is_notified() {
    let app = spawn_app().await;
    let (team, owner, members) = team_with_members(&app, 1).await;
    let id = team["id"].as_u64().unwrap();
    let (invitee, stranger) = (app.register_user().await, app.register_user().await);

    // A plain member cannot invite.
    let resp = app
        .post_json_auth(
            &format!("/api/v1/teams/{id}/invites"),
            &members[0].access_token,
            &json!({"user_id": invitee.id}),
        )
        .await;
    assert_problem(resp, StatusCode::FORBIDDEN).await;

    let invite_id = invite(&app, &owner, id, &invitee).await;
    let listed: Value = app
        .get_auth("/api/v1/teams/invites", &invitee.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], invite_id, "{listed}");
    assert_eq!(listed["items"][0]["team_id"], id);

    assert_problem(
        accept(&app, &stranger, invite_id).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let resp = app
        .post_json_auth(
            &format!("/api/v1/teams/invites/{invite_id}/decline"),
            &stranger.access_token,
            &json!({}),
        )
        .await;
    assert_problem(resp, StatusCode::FORBIDDEN).await;

    let resp = accept(&app, &invitee, invite_id).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let joined: Value = resp.json().await.unwrap();
    assert_eq!(joined["member_count"], 3);
    assert_eq!(role_of(&joined, invitee.id).as_deref(), Some("member"));
    assert!(notification_kinds(&app, invitee.id)
        .await
        .contains(&"team_invite".into()));
    assert!(notification_kinds(&app, owner.id)
        .await
        .contains(&"team_member_joined".into()));
    assert!(notification_kinds(&app, members[0].id)
        .await
        .contains(&"team_member_joined".into()));

    // Declining: the invitation is gone and the inviter is told.
    let decliner = app.register_user().await;
    let invite_id = invite(&app, &owner, id, &decliner).await;
    let resp = app
        .post_json_auth(
            &format!("/api/v1/teams/invites/{invite_id}/decline"),
            &decliner.access_token,
            &json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_problem(
        accept(&app, &decliner, invite_id).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(notification_kinds(&app, owner.id)
        .await
        .contains(&"team_invite_declined".into()));
    let actions = team_audit_actions(&app, id).await;
    for action in ["team_invite", "team_join", "team_invite_decline"] {
        assert!(
            actions.contains(&action.to_string()),
            "{action} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn roles_decide_who_may_promote_and_remove() {
    let app = spawn_app().await;
    let (team, owner, m) = team_with_members(&app, 4).await;
    let id = team["id"].as_u64().unwrap();
    let (cap1, cap2, member, other) = (&m[0], &m[1], &m[2], &m[3]);

    // Only the owner promotes.
    assert_problem(
        set_role(&app, cap1, id, cap2.id, "captain").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    for c in [cap1, cap2] {
        let resp = set_role(&app, &owner, id, c.id, "captain").await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    assert_problem(
        set_role(&app, &owner, id, member.id, "owner").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let view = get_team(&app, id).await;
    assert_eq!(role_of(&view, cap1.id).as_deref(), Some("captain"));
    assert!(notification_kinds(&app, cap1.id)
        .await
        .contains(&"team_role_changed".into()));

    // A captain can neither promote nor remove another captain or the owner.
    assert_problem(
        set_role(&app, cap1, id, member.id, "captain").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_problem(remove(&app, cap1, id, cap2.id).await, StatusCode::FORBIDDEN).await;
    assert_problem(
        remove(&app, cap1, id, owner.id).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // A member removes nobody.
    assert_problem(
        remove(&app, member, id, other.id).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // A captain invites and removes plain members.
    let newcomer = app.register_user().await;
    invite(&app, cap1, id, &newcomer).await;
    assert_eq!(
        remove(&app, cap1, id, other.id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(notification_kinds(&app, other.id)
        .await
        .contains(&"team_removed".into()));
    // The owner removes a captain, after demoting the other one.
    assert_eq!(
        set_role(&app, &owner, id, cap2.id, "member").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        remove(&app, &owner, id, cap1.id).await.status(),
        StatusCode::NO_CONTENT
    );

    let view = get_team(&app, id).await;
    assert_eq!(view["member_count"], 3);
    assert_eq!(role_of(&view, cap2.id).as_deref(), Some("member"));
    assert_eq!(role_of(&view, other.id), None);
    assert_eq!(role_of(&view, cap1.id), None);
    // Someone outside the team cannot act on it.
    let outsider = app.register_user().await;
    assert_problem(
        remove(&app, &outsider, id, member.id).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let actions = team_audit_actions(&app, id).await;
    assert!(
        actions.contains(&"team_role_change".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"team_member_remove".to_string()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn the_owner_cannot_leave_until_ownership_is_handed_over() {
    let app = spawn_app().await;
    let (team, owner, m) = team_with_members(&app, 2).await;
    let id = team["id"].as_u64().unwrap();

    let p = assert_problem(leave(&app, &owner, id).await, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("transfer"), "{p}");

    // Only the owner transfers.
    let resp = app
        .post_json_auth(
            &format!("/api/v1/teams/{id}/transfer"),
            &m[0].access_token,
            &json!({"user_id": m[1].id}),
        )
        .await;
    assert_problem(resp, StatusCode::FORBIDDEN).await;
    let resp = app
        .post_json_auth(
            &format!("/api/v1/teams/{id}/transfer"),
            &owner.access_token,
            &json!({"user_id": m[0].id}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let view: Value = resp.json().await.unwrap();
    assert_eq!(view["owner_id"], m[0].id);
    assert_eq!(role_of(&view, m[0].id).as_deref(), Some("owner"));
    assert_eq!(role_of(&view, owner.id).as_deref(), Some("captain"));
    assert!(notification_kinds(&app, m[1].id)
        .await
        .contains(&"team_ownership_transferred".into()));

    // The former owner leaves; a plain member leaves too.
    assert_eq!(
        leave(&app, &owner, id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        leave(&app, &m[1], id).await.status(),
        StatusCode::NO_CONTENT
    );
    let view = get_team(&app, id).await;
    assert_eq!(view["member_count"], 1);
    assert_eq!(role_of(&view, m[0].id).as_deref(), Some("owner"));
    assert!(notification_kinds(&app, m[0].id)
        .await
        .contains(&"team_member_left".into()));
    // Leaving a team one is not in is refused.
    assert_problem(leave(&app, &owner, id).await, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn only_the_owner_disbands_and_members_are_free_again() {
    let app = spawn_app().await;
    let (team, owner, m) = team_with_members(&app, 1).await;
    let id = team["id"].as_u64().unwrap();

    let resp = app
        .delete_auth(&format!("/api/v1/teams/{id}"), &m[0].access_token)
        .await;
    assert_problem(resp, StatusCode::FORBIDDEN).await;
    let resp = app
        .delete_auth(&format!("/api/v1/teams/{id}"), &owner.access_token)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    assert_problem(
        app.get(&format!("/api/v1/teams/{id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(notification_kinds(&app, m[0].id)
        .await
        .contains(&"team_disbanded".into()));
    assert_eq!(
        team_audit_actions(&app, id)
            .await
            .last()
            .map(String::as_str),
        Some("team_disband")
    );
    // Both may found new teams now.
    create_team(&app, &owner).await;
    create_team(&app, &m[0]).await;
}

#[tokio::test]
async fn concurrent_accepts_never_exceed_the_size_cap() {
    let app = spawn_app().await;
    // Default cap 10: owner + 7 members leaves room for exactly two of four invitees.
    let (team, owner, _) = team_with_members(&app, 7).await;
    let id = team["id"].as_u64().unwrap();
    let mut invitees = Vec::new();
    for _ in 0..4 {
        let user = app.register_user().await;
        let invite_id = invite(&app, &owner, id, &user).await;
        invitees.push((user, invite_id));
    }

    let results = futures_join(&app, &invitees).await;

    let ok = results.iter().filter(|s| **s == StatusCode::OK).count();
    let full = results
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, full), (2, 2), "{results:?}");
    assert_eq!(get_team(&app, id).await["member_count"], 10);
    // And a full team accepts no more invitations.
    let late = app.register_user().await;
    let resp = app
        .post_json_auth(
            &format!("/api/v1/teams/{id}/invites"),
            &owner.access_token,
            &json!({"user_id": late.id}),
        )
        .await;
    let p = assert_problem(resp, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("full"), "{p}");
}

/// Accepts every invitation at once; returns the statuses.
async fn futures_join(app: &TestApp, invitees: &[(TestUser, u64)]) -> Vec<StatusCode> {
    let mut handles = Vec::new();
    for (user, invite_id) in invitees {
        let (http, url, token) = (
            app.http.clone(),
            app.url(&format!("/api/v1/teams/invites/{invite_id}/accept")),
            user.access_token.clone(),
        );
        handles.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

async fn rate(app: &TestApp, user_id: u64, mode: &str, mmr: i64) {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop(
        "INSERT INTO user_stats (user_id, mode, mmr, mu, sigma) VALUES (?, ?, ?, 25.0, 8.0) \
         ON DUPLICATE KEY UPDATE mmr = VALUES(mmr)",
        (user_id, mode, mmr),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_team_shows_each_members_mmr_and_the_average_per_mode() {
    let app = spawn_app().await;
    let (team, owner, m) = team_with_members(&app, 2).await;
    let id = team["id"].as_u64().unwrap();
    rate(&app, owner.id, "1v1", 1500).await;
    rate(&app, m[0].id, "1v1", 1601).await;
    rate(&app, m[0].id, "2v2", 1200).await;

    let view = get_team(&app, id).await;

    let member = |uid: u64| {
        view["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["user_id"] == uid)
            .unwrap()
            .clone()
    };
    assert_eq!(member(owner.id)["mmr"], json!({"1v1": 1500}));
    assert_eq!(member(m[0].id)["mmr"], json!({"1v1": 1601, "2v2": 1200}));
    assert_eq!(member(m[1].id)["mmr"], json!({}));
    assert_eq!(member(m[1].id)["username"], m[1].username);
    // (1500 + 1601) / 2 = 1550.5, rounded; the unrated member does not count.
    assert_eq!(
        view["average_mmr"],
        json!({"1v1": {"mmr": 1551, "rated_members": 2}, "2v2": {"mmr": 1200, "rated_members": 1}})
    );
    assert_problem(
        app.get("/api/v1/teams/999999999").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(app.get("/api/v1/teams/abc").await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn search_matches_name_or_tag_prefixes_regardless_of_case() {
    let app = spawn_app().await;
    let owner = app.register_user().await;
    let prefix = format!("Srch{}", rh_tests::unique_suffix());
    let tag = fresh_tag();
    let resp = app
        .post_json_auth(
            "/api/v1/teams",
            &owner.access_token,
            &json!({"name": format!("{prefix} Wolves"), "tag": tag}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = resp.json::<Value>().await.unwrap()["id"].clone();

    let ids = |body: Value| -> Vec<Value> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].clone())
            .collect()
    };
    let by_name: Value = app
        .get(&format!("/api/v1/teams?query={}", prefix.to_lowercase()))
        .await
        .json()
        .await
        .unwrap();
    let by_full_name: Value = app
        .get(&format!(
            "/api/v1/teams?query={}%20wol",
            prefix.to_uppercase()
        ))
        .await
        .json()
        .await
        .unwrap();
    let by_tag: Value = app
        .get(&format!("/api/v1/teams?query={}", &tag[..3].to_lowercase()))
        .await
        .json()
        .await
        .unwrap();
    let miss: Value = app
        .get(&format!("/api/v1/teams?query={prefix}x"))
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(ids(by_name.clone()), vec![id.clone()], "{by_name}");
    assert_eq!(by_name["items"][0]["member_count"], 1);
    assert_eq!(ids(by_full_name), vec![id.clone()]);
    assert!(ids(by_tag).contains(&id));
    assert!(ids(miss).is_empty());
    // Wildcards are literal, and limits are bounded.
    let wild: Value = app
        .get("/api/v1/teams?query=%25")
        .await
        .json()
        .await
        .unwrap();
    assert!(ids(wild).is_empty());
    assert_problem(
        app.get("/api/v1/teams?limit=0").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let limited: Value = app.get("/api/v1/teams?limit=1").await.json().await.unwrap();
    assert!(limited["items"].as_array().unwrap().len() <= 1);
}

#[tokio::test]
async fn team_rankings_order_teams_by_their_rated_members_average() {
    let app = spawn_app().await;
    // Far above any real rating, and higher on every run, so these two teams lead the
    // 4v4 board whatever earlier runs left in the test database. (Two runs of this
    // test at the same moment, e.g. two `cargo test` processes, would interleave.)
    let base = 1_000_000_000
        + (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            - 1_700_000_000);
    let (strong, s_owner, s) = team_with_members(&app, 2).await;
    let (weak, w_owner, _) = team_with_members(&app, 0).await;
    rate(&app, s_owner.id, "4v4", base + 300).await;
    rate(&app, s[0].id, "4v4", base + 100).await;
    // s[1] has no 4v4 rating: left out of the average (which would otherwise fall).
    rate(&app, s[1].id, "1v1", 10).await;
    rate(&app, w_owner.id, "4v4", base + 150).await;

    let resp = app.get("/api/v1/rankings/teams/4v4?limit=2").await;

    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["mode"], "4v4");
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{body}");
    assert_eq!(items[0]["team_id"], strong["id"]);
    assert_eq!(items[0]["rank"], 1);
    assert_eq!(items[0]["average_mmr"], base + 200);
    assert_eq!(items[0]["rated_members"], 2);
    assert_eq!(items[1]["team_id"], weak["id"]);
    assert_eq!(items[1]["rank"], 2);
    assert_eq!(items[1]["average_mmr"], base + 150);
    let second: Value = app
        .get("/api/v1/rankings/teams/4v4?limit=1&offset=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"][0]["team_id"], weak["id"]);
    assert_eq!(second["items"][0]["rank"], 2);
    let p = assert_problem(
        app.get("/api/v1/rankings/teams/9v9").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&p), ["mode"]);
}

#[tokio::test]
async fn the_size_cap_is_a_variable() {
    let app = rh_tests::spawn_app_with(&[("team_size_cap", "2")]).await;
    let (team, owner, _) = team_with_members(&app, 1).await;
    let id = team["id"].as_u64().unwrap();
    let extra = app.register_user().await;

    let resp = app
        .post_json_auth(
            &format!("/api/v1/teams/{id}/invites"),
            &owner.access_token,
            &json!({"user_id": extra.id}),
        )
        .await;

    let p = assert_problem(resp, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("full"), "{p}");
    assert_eq!(get_team(&app, id).await["member_count"], 2);
}

#[tokio::test]
async fn accepting_two_teams_at_once_joins_exactly_one() {
    let app = spawn_app().await;
    let (team_a, owner_a, _) = team_with_members(&app, 0).await;
    let (team_b, owner_b, _) = team_with_members(&app, 0).await;
    let (a, b) = (
        team_a["id"].as_u64().unwrap(),
        team_b["id"].as_u64().unwrap(),
    );

    for _ in 0..3 {
        let player = app.register_user().await;
        let to_a = invite(&app, &owner_a, a, &player).await;
        let to_b = invite(&app, &owner_b, b, &player).await;

        let statuses = futures_join(&app, &[(player.clone(), to_a), (player.clone(), to_b)]).await;

        let joined = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(joined, 1, "{statuses:?}");
        assert!(
            statuses
                .iter()
                .all(|s| [StatusCode::OK, StatusCode::NOT_FOUND, StatusCode::CONFLICT].contains(s)),
            "{statuses:?}"
        );
        let in_a = role_of(&get_team(&app, a).await, player.id).is_some();
        let in_b = role_of(&get_team(&app, b).await, player.id).is_some();
        assert!(in_a ^ in_b, "in exactly one team");
    }
}

#[tokio::test]
async fn the_invitee_hears_of_the_invitation_on_their_user_channel() {
    use fred::prelude::{ClientLike, Config, EventInterface, PubsubInterface};
    let app = spawn_app().await;
    let (team, owner, _) = team_with_members(&app, 0).await;
    let invitee = app.register_user().await;
    let redis_host = rh_tests::test_variables()["redis_host"].clone();
    let client = fred::types::Builder::from_config(
        Config::from_url(&format!("redis://{redis_host}")).unwrap(),
    )
    .build_subscriber_client()
    .unwrap();
    client.init().await.unwrap();
    let mut rx = client.message_rx();
    client
        .subscribe(format!("user:{}", invitee.id))
        .await
        .unwrap();

    let invite_id = invite(&app, &owner, team["id"].as_u64().unwrap(), &invitee).await;

    let msg = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .expect("a notification within 10 s")
        .unwrap();
    let event: Value = serde_json::from_str(&msg.value.as_string().unwrap()).unwrap();
    assert_eq!(event["type"], "notification", "{event}");
    let n = &event["notification"];
    assert_eq!(n["user_id"], invitee.id);
    assert_eq!(n["kind"], "team_invite");
    assert_eq!(n["data"]["invite_id"], invite_id);
    assert_eq!(n["data"]["team_id"], team["id"]);
    assert_eq!(n["data"]["invited_by"], owner.id);
    assert_eq!(n["read"], false);
    let _ = client.quit().await;
}
