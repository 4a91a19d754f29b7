//! A local OAuth 2.0 provider standing in for Twitch, YouTube (Google) and Discord in
//! tests. It checks what a real provider checks at its token endpoint (client id and
//! secret, single-use code, redirect URI, PKCE S256 verifier), answers the identity and
//! live-stream calls in each provider's JSON shape, and can simulate an outage.
//!
//! There is no consent page: a test reads the app's `authorize_url`, and
//! [`FakeProvider::grant`] plays the player clicking "Authorize" (it records a code for
//! that URL's challenge and redirect URI and returns the callback query the browser
//! would bring back).
//!
//! Paths (the app's `*_token_url` / `*_api_base_url` variables point here):
//! - Twitch: `POST /twitch/oauth2/token`, `GET /twitch/helix/users`, `GET /twitch/helix/streams?user_id=`
//! - Google: `POST /google/token`, `GET /youtube/v3/channels`, `GET /youtube/v3/liveBroadcasts`,
//!   `GET /youtube/v3/videos?id=`
//! - Discord: `POST /discord/api/oauth2/token`, `GET /discord/api/v10/users/@me`,
//!   `POST /discord/api/webhooks/1/test-webhook-token` (the webhook; bodies are kept)

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

// Each provider's API calls, in its own JSON shape; the OAuth token endpoint, shared by
// all three, is below.
mod discord;
mod twitch;
mod youtube;

/// A provider account a test links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeAccount {
    pub id: String,
    pub login: String,
    pub display_name: String,
}

/// A live stream the fake reports for an account.
#[derive(Debug, Clone)]
pub struct FakeLive {
    pub title: String,
    pub viewers: u64,
}

#[derive(Debug, Clone)]
struct PendingCode {
    provider: String,
    account: FakeAccount,
    challenge: String,
    redirect_uri: String,
}

#[derive(Debug, Clone)]
struct IssuedToken {
    provider: String,
    account: FakeAccount,
    expires_at: std::time::Instant,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, PendingCode>,
    access: HashMap<String, IssuedToken>,
    /// refresh token → (provider, account)
    refresh: HashMap<String, (String, FakeAccount)>,
    live: HashMap<(String, String), FakeLive>,
    down: HashMap<String, bool>,
    /// Lifetime of access tokens issued from now on, per provider (default 3600 s).
    lifetime_s: HashMap<String, i64>,
    /// Calls per "provider/endpoint" (`twitch/streams`, `youtube/token`...).
    calls: HashMap<String, u64>,
    /// Bodies posted to the Discord webhook.
    webhook_posts: Vec<Value>,
}

/// The running fake; cheap to share.
pub struct FakeProvider {
    pub base_url: String,
    inner: Arc<Mutex<Inner>>,
}

/// Client id of `provider` in the test app's variables.
pub fn client_id(provider: &str) -> String {
    format!("{provider}-test-client")
}

/// Client secret of `provider` in the test app's variables.
pub fn client_secret(provider: &str) -> String {
    format!("{provider}-test-secret-not-real")
}

static NEXT: AtomicU64 = AtomicU64::new(1);

fn fresh(prefix: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{prefix}-{n}-{nanos:x}-{}", std::process::id())
}

/// The fake shared by every test of this binary (started on first use, on its own
/// thread and runtime so it outlives each `#[tokio::test]`'s runtime).
pub fn shared() -> &'static FakeProvider {
    static SHARED: OnceLock<FakeProvider> = OnceLock::new();
    SHARED.get_or_init(FakeProvider::start)
}

impl FakeProvider {
    fn start() -> FakeProvider {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the fake provider");
        listener.set_nonblocking(true).expect("nonblocking");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = router(inner.clone());
        std::thread::Builder::new()
            .name("fake-oauth-provider".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("fake provider runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    axum::serve(listener, app)
                        .await
                        .expect("fake provider serve");
                });
            })
            .expect("spawn the fake provider");
        FakeProvider { base_url, inner }
    }

    /// The app variables pointing every provider at this fake (lowercase names).
    pub fn variables(&self) -> Vec<(String, String)> {
        let b = &self.base_url;
        let mut vars = Vec::new();
        for (p, authorize, token, api) in [
            (
                "twitch",
                "/twitch/oauth2/authorize",
                "/twitch/oauth2/token",
                "/twitch/helix",
            ),
            ("youtube", "/google/auth", "/google/token", "/youtube/v3"),
            (
                "discord",
                "/discord/oauth2/authorize",
                "/discord/api/oauth2/token",
                "/discord/api/v10",
            ),
        ] {
            vars.push((format!("{p}_client_id"), client_id(p)));
            vars.push((format!("{p}_client_secret"), client_secret(p)));
            vars.push((format!("{p}_authorize_url"), format!("{b}{authorize}")));
            vars.push((format!("{p}_token_url"), format!("{b}{token}")));
            vars.push((format!("{p}_api_base_url"), format!("{b}{api}")));
            vars.push((format!("{p}_token_origin"), b.clone()));
            vars.push((format!("{p}_api_origin"), b.clone()));
        }
        vars.push((
            "discord_webhook_url".into(),
            format!("{b}/discord/api/webhooks/1/test-webhook-token"),
        ));
        vars.push(("discord_webhook_origin".into(), b.clone()));
        vars
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh account with a unique id.
    pub fn new_account(&self, provider: &str) -> FakeAccount {
        let id = fresh(provider);
        FakeAccount {
            login: format!("login_{}", &id[id.len() - 8..]),
            display_name: format!("Creator {id}"),
            id,
        }
    }

    /// Plays the player approving `authorize_url` as `account`: checks the URL is for
    /// this provider's client with PKCE S256, records a single-use code, and returns
    /// the query the browser brings to the callback (`code=...&state=...`).
    pub fn grant(&self, provider: &str, authorize_url: &str, account: &FakeAccount) -> String {
        let query = authorize_url
            .split_once('?')
            .expect("authorize_url has a query")
            .1;
        let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            params.get("client_id"),
            Some(&client_id(provider)),
            "{authorize_url}"
        );
        assert_eq!(
            params.get("response_type").map(String::as_str),
            Some("code")
        );
        assert_eq!(
            params.get("code_challenge_method").map(String::as_str),
            Some("S256")
        );
        let code = fresh("code");
        self.lock().codes.insert(
            code.clone(),
            PendingCode {
                provider: provider.to_owned(),
                account: account.clone(),
                challenge: params["code_challenge"].clone(),
                redirect_uri: params["redirect_uri"].clone(),
            },
        );
        format!(
            "code={}&state={}",
            url::form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>(),
            url::form_urlencoded::byte_serialize(params["state"].as_bytes()).collect::<String>()
        )
    }

    /// Makes every endpoint of `provider` answer 503 (or work again).
    pub fn set_down(&self, provider: &str, down: bool) {
        self.lock().down.insert(provider.to_owned(), down);
    }

    /// Reports `account` live (or offline with `None`).
    pub fn set_live(&self, provider: &str, account: &FakeAccount, live: Option<FakeLive>) {
        let key = (provider.to_owned(), account.id.clone());
        let mut inner = self.lock();
        match live {
            Some(l) => inner.live.insert(key, l),
            None => inner.live.remove(&key),
        };
    }

    /// Lifetime of access tokens issued from now on (0: already expired when issued).
    pub fn set_token_lifetime(&self, provider: &str, secs: i64) {
        self.lock().lifetime_s.insert(provider.to_owned(), secs);
    }

    /// Calls received on `provider/endpoint` (`twitch/streams`, `youtube/broadcasts`,
    /// `discord/token`, `twitch/refresh`...).
    pub fn calls(&self, endpoint: &str) -> u64 {
        self.lock().calls.get(endpoint).copied().unwrap_or(0)
    }

    /// Bodies posted to the Discord webhook so far.
    pub fn webhook_posts(&self) -> Vec<Value> {
        self.lock().webhook_posts.clone()
    }

    /// Every access and refresh token issued so far for `account` (to look for them in MySQL).
    pub fn tokens_of(&self, account: &FakeAccount) -> Vec<String> {
        let inner = self.lock();
        inner
            .access
            .iter()
            .filter(|(_, t)| t.account.id == account.id)
            .map(|(k, _)| k.clone())
            .chain(
                inner
                    .refresh
                    .iter()
                    .filter(|(_, (_, a))| a.id == account.id)
                    .map(|(k, _)| k.clone()),
            )
            .collect()
    }
}

type Shared = Arc<Mutex<Inner>>;

fn router(state: Shared) -> Router {
    Router::new()
        .route(
            "/twitch/oauth2/token",
            post(|s: State<Shared>, f: Form<HashMap<String, String>>| token("twitch", s, f)),
        )
        .route(
            "/google/token",
            post(|s: State<Shared>, f: Form<HashMap<String, String>>| token("youtube", s, f)),
        )
        .route(
            "/discord/api/oauth2/token",
            post(|s: State<Shared>, f: Form<HashMap<String, String>>| token("discord", s, f)),
        )
        .merge(twitch::routes())
        .merge(youtube::routes())
        .merge(discord::routes())
        .with_state(state)
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

fn count(inner: &mut Inner, key: &str) {
    *inner.calls.entry(key.to_owned()).or_default() += 1;
}

fn is_down(inner: &Inner, provider: &str) -> bool {
    inner.down.get(provider).copied().unwrap_or(false)
}

fn issue(inner: &mut Inner, provider: &str, account: &FakeAccount) -> Value {
    let access = fresh(&format!("{provider}-access"));
    let refresh = fresh(&format!("{provider}-refresh"));
    let lifetime = inner.lifetime_s.get(provider).copied().unwrap_or(3600);
    inner.access.insert(
        access.clone(),
        IssuedToken {
            provider: provider.to_owned(),
            account: account.clone(),
            expires_at: std::time::Instant::now()
                + std::time::Duration::from_secs(lifetime.max(0) as u64),
        },
    );
    inner
        .refresh
        .insert(refresh.clone(), (provider.to_owned(), account.clone()));
    let scope = match provider {
        // Twitch sends scopes as an array, the others as a space-separated string.
        "twitch" => json!(["user:read:email"]),
        "youtube" => json!("https://www.googleapis.com/auth/youtube.readonly"),
        _ => json!("identify"),
    };
    json!({
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": lifetime,
        "token_type": "bearer",
        "scope": scope,
    })
}

async fn token(
    provider: &'static str,
    State(state): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut inner = state.lock().unwrap_or_else(|e| e.into_inner());
    let grant = form.get("grant_type").cloned().unwrap_or_default();
    count(
        &mut inner,
        &format!(
            "{provider}/{}",
            if grant == "refresh_token" {
                "refresh"
            } else {
                "token"
            }
        ),
    );
    if is_down(&inner, provider) {
        return oauth_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable");
    }
    if form.get("client_id") != Some(&client_id(provider))
        || form.get("client_secret") != Some(&client_secret(provider))
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    match grant.as_str() {
        "authorization_code" => {
            // Single use: the code is gone whatever happens next, as RFC 6749 §4.1.2 asks.
            let Some(pending) = form.get("code").and_then(|c| inner.codes.remove(c)) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            if pending.provider != provider
                || form.get("redirect_uri") != Some(&pending.redirect_uri)
            {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes()));
            if verifier.len() < 43 || challenge != pending.challenge {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let body = issue(&mut inner, provider, &pending.account);
            Json(body).into_response()
        }
        "refresh_token" => {
            let Some((p, account)) = form
                .get("refresh_token")
                .and_then(|r| inner.refresh.remove(r))
            else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            if p != provider {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let body = issue(&mut inner, provider, &account);
            Json(body).into_response()
        }
        _ => oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
}

/// The account of a valid, unexpired Bearer token of `provider`.
fn bearer(inner: &Inner, provider: &str, headers: &HeaderMap) -> Option<FakeAccount> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    inner
        .access
        .get(token)
        .filter(|t| t.provider == provider && t.expires_at > std::time::Instant::now())
        .map(|t| t.account.clone())
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"})),
    )
        .into_response()
}
