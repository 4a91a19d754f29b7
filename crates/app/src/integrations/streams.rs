//! Live streams: the refresh step (run by the `streams-refresh` Redis component) and the
//! cached read behind `GET /api/v1/streams`.
//!
//! Redis keys:
//! - `streams:live:{provider}`: JSON [`ProviderStreams`], the last result per provider.
//!   A failed refresh keeps the previous streams and sets `stale`, so a provider outage
//!   degrades to old data instead of none.
//! - `streams:refresh:claim`: `SET NX PX 60000`. Every replica receives every
//!   `streams:refresh` message; the one that sets the key refreshes and the others skip,
//!   so the providers are asked at most once a minute.
//! - `streams:refresh:runs` / `streams:refresh:skipped`: counters (operators, tests).

use serde::{Deserialize, Serialize};

use rh_infra::db::Db;
use rh_infra::error::AppError;
use rh_infra::redis::Redis;

use super::crypto::TokenCipher;
use super::error::IntegrationError;
use super::link::{self, usable_access_token, TokenTrouble};
use super::provider::{
    parse_twitch_streams, parse_youtube_broadcasts, parse_youtube_viewers, LiveStream, Provider,
    ProviderConfig,
};
use super::store::{self, StoredLink};

pub const CLAIM_KEY: &str = "streams:refresh:claim";
pub const RUNS_KEY: &str = "streams:refresh:runs";
pub const SKIPPED_KEY: &str = "streams:refresh:skipped";
/// At most one refresh per this interval, across replicas.
pub const REFRESH_INTERVAL_MS: i64 = 60_000;
/// Data older than this is reported stale even if the last refresh succeeded (refreshes
/// have stopped).
pub const STALE_AFTER_MS: i64 = 3 * REFRESH_INTERVAL_MS;

/// Largest page of `GET /streams`. Each provider's cache keeps only its top this many
/// streams: no page can show more, and the route parses the whole entry per request.
pub const MAX_PAGE: usize = 100;

/// The cache key of `provider`'s streams.
pub fn cache_key(provider: Provider) -> String {
    format!("streams:live:{}", provider.as_str())
}

/// A live stream with its player.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StreamEntry {
    pub provider: Provider,
    /// Login or channel handle on the provider.
    pub channel: String,
    pub display_name: Option<String>,
    pub title: String,
    pub viewer_count: u64,
    pub started_at: Option<String>,
    pub thumbnail_url: Option<String>,
    pub user_id: u64,
    pub username: String,
    /// The player's best mmr over all modes (`null` before their first ranked match).
    pub mmr: Option<i64>,
}

/// One provider's cached result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProviderStreams {
    pub provider: Provider,
    /// When these streams were fetched (the last good refresh); 0 if never.
    pub refreshed_at_ms: i64,
    /// The last refresh failed (or none for a while): these are older streams.
    pub stale: bool,
    /// Why the last refresh failed, when it did.
    pub error: Option<String>,
    pub streams: Vec<StreamEntry>,
}

/// What a refresh did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// Another refresh ran less than a minute ago (or is running).
    Skipped,
    /// Per provider: `Ok(live streams)` or `Err(why)` (kept stale).
    Refreshed(Vec<(Provider, Result<usize, String>)>),
}

/// The refresh step: claims the minute, then refreshes each streaming provider.
/// `config` gives a provider's settings (an unconfigured provider counts as failed).
pub fn refresh(
    db: &Db,
    redis: &Redis,
    cipher: &TokenCipher,
    config: impl Fn(Provider) -> Result<ProviderConfig, IntegrationError>,
    now_ms: i64,
) -> Result<RefreshOutcome, AppError> {
    if !redis.set_nx_px(CLAIM_KEY, &now_ms.to_string(), REFRESH_INTERVAL_MS)? {
        redis.execute("INCR", &[rh_infra::redis::Arg::Str(SKIPPED_KEY)])?;
        return Ok(RefreshOutcome::Skipped);
    }
    let mut results = Vec::new();
    for provider in Provider::STREAMING {
        let fetched = config(provider).and_then(|cfg| fetch_provider(db, cipher, &cfg, now_ms));
        let previous = read_cache(redis, provider)?;
        let entry = match fetched {
            Ok(mut streams) => {
                streams.sort_by_key(|s| std::cmp::Reverse(s.viewer_count));
                results.push((provider, Ok(streams.len())));
                streams.truncate(MAX_PAGE);
                ProviderStreams {
                    provider,
                    refreshed_at_ms: now_ms,
                    stale: false,
                    error: None,
                    streams,
                }
            }
            Err(e) => {
                let why = AppError::from(e).to_string();
                rh_infra::log_warn!("streams refresh: {} failed: {why}", provider.as_str());
                results.push((provider, Err(why.clone())));
                let mut kept = previous.unwrap_or(ProviderStreams {
                    provider,
                    refreshed_at_ms: 0,
                    stale: true,
                    error: None,
                    streams: Vec::new(),
                });
                kept.stale = true;
                kept.error = Some(why);
                kept
            }
        };
        let json = serde_json::to_string(&entry).map_err(AppError::internal)?;
        redis.execute(
            "SET",
            &[
                rh_infra::redis::Arg::Str(&cache_key(provider)),
                rh_infra::redis::Arg::Str(&json),
            ],
        )?;
    }
    redis.execute("INCR", &[rh_infra::redis::Arg::Str(RUNS_KEY)])?;
    Ok(RefreshOutcome::Refreshed(results))
}

/// The live streams of every linked account of one provider. A link whose token the
/// player revoked is skipped; a provider failure fails the whole provider.
fn fetch_provider(
    db: &Db,
    cipher: &TokenCipher,
    cfg: &ProviderConfig,
    now_ms: i64,
) -> Result<Vec<StreamEntry>, IntegrationError> {
    let mut out = Vec::new();
    for mut link in store::links_for_provider(db, cfg.provider)? {
        match fetch_link(db, cipher, cfg, &mut link, now_ms) {
            Ok(streams) => out.extend(streams.into_iter().map(|s| StreamEntry {
                provider: cfg.provider,
                channel: link.login.clone(),
                display_name: link.display_name.clone(),
                title: s.title,
                viewer_count: s.viewer_count,
                started_at: s.started_at,
                thumbnail_url: s.thumbnail_url,
                user_id: link.user_id,
                username: link.username.clone(),
                mmr: link.mmr,
            })),
            Err(TokenTrouble::Revoked(why)) => {
                rh_infra::log_warn!(
                    "streams refresh: {} link of user {} skipped: {why}",
                    cfg.provider.as_str(),
                    link.user_id
                );
            }
            Err(TokenTrouble::Failed(e)) => return Err(e),
        }
    }
    Ok(out)
}

/// One link's live streams; on a 401 the token is refreshed once and the call retried.
fn fetch_link(
    db: &Db,
    cipher: &TokenCipher,
    cfg: &ProviderConfig,
    link: &mut StoredLink,
    now_ms: i64,
) -> Result<Vec<LiveStream>, TokenTrouble> {
    let mut force = false;
    loop {
        let token = usable_access_token(db, cipher, cfg, link, now_ms, force)?;
        let Some(req) = cfg.live_request(&link.provider_user_id, &token) else {
            return Ok(Vec::new());
        };
        let resp = link::send(cfg, &req)?;
        if resp.status == 401 && !force {
            force = true;
            continue;
        }
        if resp.status == 401 || resp.status == 403 {
            return Err(TokenTrouble::Revoked(format!(
                "the provider answered {}",
                resp.status
            )));
        }
        let bad = |why: String| {
            TokenTrouble::Failed(IntegrationError::ProviderUnavailable {
                provider: cfg.provider.as_str(),
                why,
            })
        };
        if !resp.is_success() {
            return Err(bad(format!("the streams call answered {}", resp.status)));
        }
        return match cfg.provider {
            Provider::Twitch => parse_twitch_streams(&resp.body).map_err(bad),
            Provider::Youtube => {
                let mut streams = parse_youtube_broadcasts(&resp.body).map_err(bad)?;
                if !streams.is_empty() {
                    let ids: Vec<String> = streams.iter().map(|s| s.stream_id.clone()).collect();
                    let viewers = link::send(cfg, &cfg.youtube_viewers_request(&ids, &token))?;
                    if viewers.is_success() {
                        for (id, n) in parse_youtube_viewers(&viewers.body).map_err(bad)? {
                            if let Some(s) = streams.iter_mut().find(|s| s.stream_id == id) {
                                s.viewer_count = n;
                            }
                        }
                    }
                }
                Ok(streams)
            }
            Provider::Discord => Ok(Vec::new()),
        };
    }
}

/// A provider's cached streams, if any refresh has run.
pub fn read_cache(redis: &Redis, provider: Provider) -> Result<Option<ProviderStreams>, AppError> {
    match redis.get_string(&cache_key(provider))? {
        None => Ok(None),
        Some(json) => serde_json::from_str(&json)
            .map(Some)
            .map_err(AppError::internal),
    }
}

/// The body of `GET /api/v1/streams`.
#[derive(Debug, Serialize)]
pub struct StreamsPage {
    pub streams: Vec<StreamEntry>,
    /// Per provider: freshness of what is shown.
    pub providers: Vec<ProviderStatus>,
}

#[derive(Debug, Serialize)]
pub struct ProviderStatus {
    pub provider: Provider,
    pub refreshed_at_ms: i64,
    pub stale: bool,
}

/// Merges the cached providers' streams, most viewers first, at most `limit`.
pub fn page(
    cached: Vec<(Provider, Option<ProviderStreams>)>,
    limit: usize,
    now_ms: i64,
) -> StreamsPage {
    let mut streams = Vec::new();
    let mut providers = Vec::new();
    for (provider, entry) in cached {
        match entry {
            Some(e) => {
                providers.push(ProviderStatus {
                    provider,
                    refreshed_at_ms: e.refreshed_at_ms,
                    stale: e.stale || now_ms - e.refreshed_at_ms > STALE_AFTER_MS,
                });
                streams.extend(e.streams);
            }
            None => providers.push(ProviderStatus {
                provider,
                refreshed_at_ms: 0,
                stale: true,
            }),
        }
    }
    // Stable sort: ties keep provider order, then the provider's own order.
    streams.sort_by_key(|s| std::cmp::Reverse(s.viewer_count));
    streams.truncate(limit);
    StreamsPage { streams, providers }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(provider: Provider, viewers: u64) -> StreamEntry {
        StreamEntry {
            provider,
            channel: format!("c{viewers}"),
            display_name: None,
            title: "t".into(),
            viewer_count: viewers,
            started_at: None,
            thumbnail_url: None,
            user_id: viewers,
            username: "u".into(),
            mmr: Some(1000),
        }
    }

    #[test]
    fn pages_merge_providers_by_viewers_and_mark_old_or_failed_data_stale() {
        let tw = ProviderStreams {
            provider: Provider::Twitch,
            refreshed_at_ms: 1_000_000,
            stale: false,
            error: None,
            streams: vec![entry(Provider::Twitch, 5), entry(Provider::Twitch, 50)],
        };
        let yt = ProviderStreams {
            provider: Provider::Youtube,
            refreshed_at_ms: 1_000_000 - STALE_AFTER_MS - 1,
            stale: false,
            error: None,
            streams: vec![entry(Provider::Youtube, 20)],
        };
        let p = page(
            vec![(Provider::Twitch, Some(tw)), (Provider::Youtube, Some(yt))],
            2,
            1_000_000,
        );
        let viewers: Vec<u64> = p.streams.iter().map(|s| s.viewer_count).collect();
        assert_eq!(viewers, vec![50, 20]);
        assert!(!p.providers[0].stale);
        assert!(p.providers[1].stale);
        let empty = page(vec![(Provider::Twitch, None)], 10, 0);
        assert!(empty.streams.is_empty() && empty.providers[0].stale);
    }
}
