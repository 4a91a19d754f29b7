//! What differs between Twitch, YouTube (Google) and Discord: endpoints, scopes, the
//! shape of their token, identity and live-stream responses. Pure: requests are
//! described as [`ApiRequest`] values and responses parsed from bytes, so all of it is
//! tested natively; `client.rs` does the I/O.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pkce::{encode, form};

/// A provider a player can link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Twitch,
    Youtube,
    Discord,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Twitch, Provider::Youtube, Provider::Discord];
    /// Providers whose live streams are listed (Discord has none).
    pub const STREAMING: [Provider; 2] = [Provider::Twitch, Provider::Youtube];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Twitch => "twitch",
            Provider::Youtube => "youtube",
            Provider::Discord => "discord",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The scopes requested at authorization: the least that reads identity and streams.
    pub fn scopes(self) -> &'static str {
        match self {
            Provider::Twitch => "user:read:email",
            Provider::Youtube => "https://www.googleapis.com/auth/youtube.readonly",
            Provider::Discord => "identify",
        }
    }

    /// The real endpoints: `(authorize_url, token_url, api_base_url)`; `spin.toml`'s
    /// variable defaults are the same values.
    pub fn default_endpoints(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Provider::Twitch => (
                "https://id.twitch.tv/oauth2/authorize",
                "https://id.twitch.tv/oauth2/token",
                "https://api.twitch.tv/helix",
            ),
            Provider::Youtube => (
                "https://accounts.google.com/o/oauth2/v2/auth",
                "https://oauth2.googleapis.com/token",
                "https://www.googleapis.com/youtube/v3",
            ),
            Provider::Discord => (
                "https://discord.com/oauth2/authorize",
                "https://discord.com/api/oauth2/token",
                "https://discord.com/api/v10",
            ),
        }
    }
}

/// One provider's client registration and endpoints (Spin variables
/// `{provider}_{client_id,client_secret,authorize_url,token_url,api_base_url}`).
#[derive(Clone)]
pub struct ProviderConfig {
    pub provider: Provider,
    pub client_id: String,
    pub client_secret: String,
    pub authorize_url: String,
    pub token_url: String,
    pub api_base_url: String,
    /// Where the provider sends the browser back: `{oauth_redirect_base}/api/v1/integrations/{provider}/callback`.
    pub redirect_uri: String,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("provider", &self.provider)
            .field("client_id", &self.client_id)
            .field("client_secret", &"..")
            .field("token_url", &self.token_url)
            .finish()
    }
}

/// The redirect URI registered for `provider` under `base` (no trailing slash needed).
pub fn redirect_uri(base: &str, provider: Provider) -> String {
    format!(
        "{}/api/v1/integrations/{}/callback",
        base.trim_end_matches('/'),
        provider.as_str()
    )
}

impl ProviderConfig {
    /// The authorization-code URL with PKCE S256 the browser is sent to.
    pub fn authorize_url(&self, state: &str, challenge: &str) -> String {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", self.provider.scopes()),
            ("state", state),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ];
        if self.provider == Provider::Youtube {
            // Google only issues a refresh token for offline access, and only on consent.
            params.push(("access_type", "offline"));
            params.push(("prompt", "consent"));
        }
        let sep = if self.authorize_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{sep}{}", self.authorize_url, form(&params))
    }

    /// The token request exchanging an authorization code (form body).
    pub fn code_exchange(&self, code: &str, verifier: &str) -> ApiRequest {
        ApiRequest::post_form(
            &self.token_url,
            form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect_uri),
                ("client_id", &self.client_id),
                ("client_secret", &self.client_secret),
                ("code_verifier", verifier),
            ]),
        )
    }

    /// The token request renewing an access token with a refresh token.
    pub fn refresh(&self, refresh_token: &str) -> ApiRequest {
        ApiRequest::post_form(
            &self.token_url,
            form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", &self.client_id),
                ("client_secret", &self.client_secret),
            ]),
        )
    }

    fn api_get(&self, path_and_query: &str, access_token: &str) -> ApiRequest {
        let mut req = ApiRequest::get(&format!(
            "{}{path_and_query}",
            self.api_base_url.trim_end_matches('/')
        ));
        req.headers
            .push(("authorization".into(), format!("Bearer {access_token}")));
        if self.provider == Provider::Twitch {
            // Helix wants the app's client id on every call.
            req.headers
                .push(("client-id".into(), self.client_id.clone()));
        }
        req
    }

    /// Who the access token belongs to.
    pub fn identity_request(&self, access_token: &str) -> ApiRequest {
        match self.provider {
            Provider::Twitch => self.api_get("/users", access_token),
            Provider::Youtube => self.api_get("/channels?part=snippet&mine=true", access_token),
            Provider::Discord => self.api_get("/users/@me", access_token),
        }
    }

    /// The live stream of one linked account (Twitch: Helix streams of a user id;
    /// YouTube: the channel's active broadcasts). Discord has none.
    pub fn live_request(&self, provider_user_id: &str, access_token: &str) -> Option<ApiRequest> {
        match self.provider {
            Provider::Twitch => Some(self.api_get(
                &format!("/streams?user_id={}", encode(provider_user_id)),
                access_token,
            )),
            Provider::Youtube => Some(self.api_get(
                "/liveBroadcasts?part=snippet&broadcastStatus=active&mine=true",
                access_token,
            )),
            Provider::Discord => None,
        }
    }

    /// YouTube's concurrent viewers of broadcasts (videos.liveStreamingDetails).
    pub fn youtube_viewers_request(&self, video_ids: &[String], access_token: &str) -> ApiRequest {
        self.api_get(
            &format!(
                "/videos?part=liveStreamingDetails&id={}",
                encode(&video_ids.join(","))
            ),
            access_token,
        )
    }
}

/// An outbound call, described; `client.rs` sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl ApiRequest {
    fn get(url: &str) -> Self {
        Self {
            method: "GET",
            url: url.to_owned(),
            headers: vec![("accept".into(), "application/json".into())],
            body: None,
        }
    }

    fn post_form(url: &str, body: String) -> Self {
        Self {
            method: "POST",
            url: url.to_owned(),
            headers: vec![
                ("accept".into(), "application/json".into()),
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
            ],
            body: Some(body.into_bytes()),
        }
    }
}

/// Tokens from a token endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in_s: Option<i64>,
    /// Space-separated.
    pub scopes: String,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_in_s", &self.expires_in_s)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Parses a token endpoint's JSON. `scope` is a space-separated string (RFC 6749,
/// Google, Discord) or an array (Twitch).
pub fn parse_tokens(body: &[u8]) -> Result<TokenSet, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("token response is not JSON: {e}"))?;
    let access_token = v["access_token"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or("token response has no access_token")?
        .to_owned();
    let scopes = match &v["scope"] {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    Ok(TokenSet {
        access_token,
        refresh_token: v["refresh_token"].as_str().map(str::to_owned),
        expires_in_s: v["expires_in"].as_i64(),
        scopes,
    })
}

/// The OAuth `error` code of an error response (`invalid_grant`...), if it has one.
pub fn oauth_error(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v["error"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| v["message"].as_str().map(str::to_owned))
}

/// A provider account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub provider_user_id: String,
    /// Login, channel handle or username.
    pub login: String,
    pub display_name: Option<String>,
}

fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Parses the identity response of `provider`.
pub fn parse_identity(provider: Provider, body: &[u8]) -> Result<Identity, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("identity response is not JSON: {e}"))?;
    let found = match provider {
        Provider::Twitch => {
            let u = &v["data"][0];
            text(&u["id"])
                .zip(text(&u["login"]))
                .map(|(id, login)| Identity {
                    provider_user_id: id,
                    login,
                    display_name: text(&u["display_name"]),
                })
        }
        Provider::Youtube => {
            let c = &v["items"][0];
            let title = text(&c["snippet"]["title"]);
            text(&c["id"]).map(|id| Identity {
                login: text(&c["snippet"]["customUrl"])
                    .or_else(|| title.clone())
                    .unwrap_or_else(|| id.clone()),
                provider_user_id: id,
                display_name: title,
            })
        }
        Provider::Discord => text(&v["id"])
            .zip(text(&v["username"]))
            .map(|(id, name)| Identity {
                provider_user_id: id,
                login: name,
                display_name: text(&v["global_name"]),
            }),
    };
    let mut id = found.ok_or_else(|| {
        format!(
            "{} identity response lacks the account id",
            provider.as_str()
        )
    })?;
    // Column widths: a provider sending longer values must not fail the insert.
    id.provider_user_id.truncate(64);
    truncate_chars(&mut id.login, 64);
    if let Some(d) = id.display_name.as_mut() {
        truncate_chars(d, 100);
    }
    Ok(id)
}

fn truncate_chars(s: &mut String, max: usize) {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
}

/// One live stream as the provider describes it (player fields are added later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveStream {
    /// Twitch stream id or YouTube video id.
    pub stream_id: String,
    pub title: String,
    pub viewer_count: u64,
    /// RFC 3339, as the provider sent it.
    pub started_at: Option<String>,
    pub thumbnail_url: Option<String>,
}

/// Twitch `GET /streams`: the live streams in `data` (empty when offline).
pub fn parse_twitch_streams(body: &[u8]) -> Result<Vec<LiveStream>, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("streams response is not JSON: {e}"))?;
    let data = v["data"]
        .as_array()
        .ok_or("streams response has no data array")?;
    Ok(data
        .iter()
        .filter(|s| s["type"].as_str().unwrap_or("live") == "live")
        .map(|s| LiveStream {
            stream_id: text(&s["id"]).unwrap_or_default(),
            title: text(&s["title"]).unwrap_or_default(),
            viewer_count: s["viewer_count"].as_u64().unwrap_or(0),
            started_at: text(&s["started_at"]),
            // Helix returns a template; fill in a 16:9 size.
            thumbnail_url: text(&s["thumbnail_url"])
                .map(|t| t.replace("{width}", "440").replace("{height}", "248")),
        })
        .collect())
}

/// YouTube `GET /liveBroadcasts`: active broadcasts (viewers filled in separately).
pub fn parse_youtube_broadcasts(body: &[u8]) -> Result<Vec<LiveStream>, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("broadcasts response is not JSON: {e}"))?;
    let items = v["items"]
        .as_array()
        .ok_or("broadcasts response has no items array")?;
    Ok(items
        .iter()
        .filter_map(|b| {
            let sn = &b["snippet"];
            Some(LiveStream {
                stream_id: text(&b["id"])?,
                title: text(&sn["title"]).unwrap_or_default(),
                viewer_count: 0,
                started_at: text(&sn["actualStartTime"]),
                thumbnail_url: text(&sn["thumbnails"]["high"]["url"])
                    .or_else(|| text(&sn["thumbnails"]["default"]["url"])),
            })
        })
        .collect())
}

/// YouTube `GET /videos?part=liveStreamingDetails`: `(video id, concurrent viewers)`.
/// The API sends the count as a string.
pub fn parse_youtube_viewers(body: &[u8]) -> Result<Vec<(String, u64)>, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("videos response is not JSON: {e}"))?;
    let items = v["items"]
        .as_array()
        .ok_or("videos response has no items array")?;
    Ok(items
        .iter()
        .filter_map(|i| {
            let viewers = &i["liveStreamingDetails"]["concurrentViewers"];
            let n = viewers
                .as_u64()
                .or_else(|| viewers.as_str().and_then(|s| s.parse().ok()))
                .unwrap_or(0);
            Some((text(&i["id"])?, n))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(provider: Provider) -> ProviderConfig {
        let (a, t, api) = provider.default_endpoints();
        ProviderConfig {
            provider,
            client_id: "cid".into(),
            client_secret: "csecret".into(),
            authorize_url: a.into(),
            token_url: t.into(),
            api_base_url: api.into(),
            redirect_uri: redirect_uri("http://localhost:8080/", provider),
        }
    }

    #[test]
    fn the_authorize_url_carries_pkce_state_and_the_redirect_uri() {
        let url = cfg(Provider::Twitch).authorize_url("st", "ch");
        assert!(url
            .starts_with("https://id.twitch.tv/oauth2/authorize?response_type=code&client_id=cid"));
        assert!(url.contains("&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fapi%2Fv1%2Fintegrations%2Ftwitch%2Fcallback"));
        assert!(url.contains("&state=st&code_challenge=ch&code_challenge_method=S256"));
        assert!(cfg(Provider::Youtube)
            .authorize_url("s", "c")
            .contains("access_type=offline"));
    }

    #[test]
    fn the_code_exchange_sends_the_verifier_and_client_secret_as_a_form() {
        let req = cfg(Provider::Discord).code_exchange("a/b", "ver");
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://discord.com/api/oauth2/token");
        let body = String::from_utf8(req.body.unwrap()).unwrap();
        assert!(body.contains("grant_type=authorization_code&code=a%2Fb&"));
        assert!(body.contains("client_secret=csecret&code_verifier=ver"));
    }

    #[test]
    fn twitch_calls_carry_the_client_id_header() {
        let req = cfg(Provider::Twitch).identity_request("tok");
        assert_eq!(req.url, "https://api.twitch.tv/helix/users");
        assert!(req.headers.contains(&("client-id".into(), "cid".into())));
        assert!(req
            .headers
            .contains(&("authorization".into(), "Bearer tok".into())));
        assert!(!cfg(Provider::Discord)
            .identity_request("t")
            .headers
            .iter()
            .any(|(n, _)| n == "client-id"));
    }

    #[test]
    fn token_responses_with_string_or_array_scopes_parse() {
        let t = parse_tokens(
            br#"{"access_token":"a","refresh_token":"r","expires_in":3600,"scope":["x","y"]}"#,
        )
        .unwrap();
        assert_eq!((t.scopes.as_str(), t.expires_in_s), ("x y", Some(3600)));
        let t = parse_tokens(br#"{"access_token":"a","scope":"identify"}"#).unwrap();
        assert_eq!((t.refresh_token, t.scopes.as_str()), (None, "identify"));
        assert!(parse_tokens(br#"{"error":"invalid_grant"}"#).is_err());
        assert_eq!(
            oauth_error(br#"{"error":"invalid_grant"}"#).as_deref(),
            Some("invalid_grant")
        );
    }

    #[test]
    fn token_sets_never_print_their_tokens() {
        let t = parse_tokens(br#"{"access_token":"very-secret"}"#).unwrap();
        assert!(!format!("{t:?}").contains("very-secret"));
    }

    #[test]
    fn identities_parse_for_each_provider_shape() {
        let tw = parse_identity(
            Provider::Twitch,
            br#"{"data":[{"id":"141","login":"ninja","display_name":"Ninja"}]}"#,
        )
        .unwrap();
        assert_eq!(
            tw,
            Identity {
                provider_user_id: "141".into(),
                login: "ninja".into(),
                display_name: Some("Ninja".into())
            }
        );
        let yt = parse_identity(
            Provider::Youtube,
            br#"{"items":[{"id":"UC1","snippet":{"title":"Chan","customUrl":"@chan"}}]}"#,
        )
        .unwrap();
        assert_eq!(
            (yt.provider_user_id.as_str(), yt.login.as_str()),
            ("UC1", "@chan")
        );
        let dc = parse_identity(
            Provider::Discord,
            br#"{"id":"9","username":"bob","global_name":null}"#,
        )
        .unwrap();
        assert_eq!((dc.login.as_str(), dc.display_name), ("bob", None));
        assert!(parse_identity(Provider::Twitch, br#"{"data":[]}"#).is_err());
    }

    #[test]
    fn twitch_streams_and_youtube_broadcasts_parse() {
        let s = parse_twitch_streams(br#"{"data":[{"id":"1","user_id":"141","type":"live","title":"T","viewer_count":42,"started_at":"2026-01-01T00:00:00Z","thumbnail_url":"https://x/{width}x{height}.jpg"}]}"#).unwrap();
        assert_eq!(s[0].viewer_count, 42);
        assert_eq!(s[0].thumbnail_url.as_deref(), Some("https://x/440x248.jpg"));
        assert!(parse_twitch_streams(br#"{"data":[]}"#).unwrap().is_empty());
        let b = parse_youtube_broadcasts(br#"{"items":[{"id":"v1","snippet":{"title":"Y","actualStartTime":"2026-01-01T00:00:00Z","thumbnails":{"high":{"url":"https://t"}}}}]}"#).unwrap();
        assert_eq!(
            (b[0].stream_id.as_str(), b[0].thumbnail_url.as_deref()),
            ("v1", Some("https://t"))
        );
        let v = parse_youtube_viewers(
            br#"{"items":[{"id":"v1","liveStreamingDetails":{"concurrentViewers":"17"}}]}"#,
        )
        .unwrap();
        assert_eq!(v, vec![("v1".to_owned(), 17)]);
    }
}
