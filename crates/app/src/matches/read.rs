//! The read side of matches: the match page, a player's history, the timeline.

use serde::{Deserialize, Serialize};
use spin_sdk::mysql::ParameterValue;

use rh_infra::db::Db;

use super::{in_transaction, MatchError, MatchPrediction};

/// One participant as the match page shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParticipantView {
    pub user_id: u64,
    pub team: u8,
    pub kills: u32,
    pub deaths: u32,
    pub assists: u32,
    pub hero: Option<String>,
    /// `win`, `loss`, `draw`; null while pending.
    pub result: Option<String>,
    pub mmr_before: Option<i32>,
    pub mmr_after: Option<i32>,
    /// The rating model's μ and σ around the match (null while pending): what a chart
    /// of skill with its uncertainty draws.
    pub mu_before: Option<f64>,
    pub mu_after: Option<f64>,
    pub sigma_before: Option<f64>,
    pub sigma_after: Option<f64>,
}

/// A match with its participants. Times are epoch milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MatchView {
    pub id: u64,
    pub mode: String,
    pub region: String,
    pub status: String,
    pub winner_team: Option<u8>,
    pub duration_s: Option<u32>,
    pub teams: Vec<Vec<u64>>,
    pub participants: Vec<ParticipantView>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    /// What the matchmaker predicted when it formed the match (null for matches a game
    /// server created directly).
    pub prediction: Option<MatchPrediction>,
}

/// The stored prediction columns as one value (none unless all required are set).
pub(super) fn prediction_of(
    quality: Option<f64>,
    predicted_win: Option<String>,
    draw_probability: Option<f64>,
    worst_latency_ms: Option<u32>,
) -> Option<MatchPrediction> {
    Some(MatchPrediction {
        quality: quality?,
        predicted_win: MatchPrediction::parse_win_csv(&predicted_win?)?,
        draw_probability: draw_probability?,
        worst_latency_ms,
    })
}

/// The match `id` with participants ordered by team then user id, or `NotFound`.
pub fn get_match(db: &Db, id: u64) -> Result<MatchView, MatchError> {
    let rows = db.query(
        "SELECT id, mode, region, status, winner_team, duration_s, created_at_ms, completed_at_ms, \
                quality, predicted_win, draw_probability, worst_latency_ms \
         FROM matches WHERE id = ?",
        &[ParameterValue::Uint64(id)],
    )?;
    let Some(m) = rows.first() else {
        return Err(MatchError::NotFound);
    };
    let mut view = MatchView {
        id: m.get("id")?,
        mode: m.get("mode")?,
        region: m.get("region")?,
        status: m.get("status")?,
        winner_team: m.get("winner_team")?,
        duration_s: m.get("duration_s")?,
        teams: Vec::new(),
        participants: Vec::new(),
        created_at: m.get("created_at_ms")?,
        completed_at: m.get("completed_at_ms")?,
        prediction: prediction_of(
            m.get("quality")?,
            m.get("predicted_win")?,
            m.get("draw_probability")?,
            m.get("worst_latency_ms")?,
        ),
    };
    let rows = db.query(
        "SELECT user_id, team, kills, deaths, assists, hero, result, mmr_before, mmr_after, \
                mu_before, mu_after, sigma_before, sigma_after \
         FROM match_participants WHERE match_id = ? ORDER BY team, user_id",
        &[ParameterValue::Uint64(id)],
    )?;
    for r in rows.iter() {
        let p = ParticipantView {
            user_id: r.get("user_id")?,
            team: r.get("team")?,
            kills: r.get("kills")?,
            deaths: r.get("deaths")?,
            assists: r.get("assists")?,
            hero: r.get("hero")?,
            result: r.get("result")?,
            mmr_before: r.get("mmr_before")?,
            mmr_after: r.get("mmr_after")?,
            mu_before: r.get("mu_before")?,
            mu_after: r.get("mu_after")?,
            sigma_before: r.get("sigma_before")?,
            sigma_after: r.get("sigma_after")?,
        };
        view.participants.push(p);
    }
    view.teams = teams_of(&view.participants);
    Ok(view)
}

/// Each team's user ids, in the participants' order (by team, then user id).
pub(super) fn teams_of(participants: &[ParticipantView]) -> Vec<Vec<u64>> {
    let mut teams: Vec<Vec<u64>> = Vec::new();
    for p in participants {
        let team = usize::from(p.team);
        if teams.len() <= team {
            teams.resize(team + 1, Vec::new());
        }
        teams[team].push(p.user_id);
    }
    teams
}

/// One row of a player's history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HistoryEntry {
    pub id: u64,
    pub mode: String,
    pub region: String,
    pub status: String,
    pub winner_team: Option<u8>,
    pub duration_s: Option<u32>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    pub team: u8,
    pub result: Option<String>,
    pub kills: u32,
    pub deaths: u32,
    pub assists: u32,
    pub hero: Option<String>,
    pub mmr_before: Option<i32>,
    pub mmr_after: Option<i32>,
    pub mu_before: Option<f64>,
    pub mu_after: Option<f64>,
    pub sigma_before: Option<f64>,
    pub sigma_after: Option<f64>,
}

/// A page of history: newest first; `next_before` is the cursor for the next page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HistoryPage {
    pub user_id: u64,
    pub matches: Vec<HistoryEntry>,
    pub next_before: Option<u64>,
}

/// `user_id`'s matches with id below `before` (all when `None`), newest first.
pub fn user_history(
    db: &Db,
    user_id: u64,
    before: Option<u64>,
    limit: u32,
) -> Result<HistoryPage, MatchError> {
    let exists = db.query(
        "SELECT id FROM users WHERE id = ?",
        &[ParameterValue::Uint64(user_id)],
    )?;
    if exists.is_empty() {
        return Err(MatchError::NotFound);
    }
    // One more row than asked tells whether a next page exists.
    let rows = db.query(
        "SELECT m.id, m.mode, m.region, m.status, m.winner_team, m.duration_s, m.created_at_ms, \
                m.completed_at_ms, mp.team, mp.result, mp.kills, mp.deaths, mp.assists, mp.hero, \
                mp.mmr_before, mp.mmr_after, mp.mu_before, mp.mu_after, mp.sigma_before, \
                mp.sigma_after \
         FROM match_participants mp JOIN matches m ON m.id = mp.match_id \
         WHERE mp.user_id = ? AND mp.match_id < ? AND m.status <> 'voided' \
         ORDER BY mp.match_id DESC LIMIT ?",
        &[
            ParameterValue::Uint64(user_id),
            ParameterValue::Uint64(before.unwrap_or(u64::MAX)),
            ParameterValue::Uint32(limit + 1),
        ],
    )?;
    let mut matches = Vec::with_capacity(rows.len());
    for r in rows.iter() {
        matches.push(HistoryEntry {
            id: r.get("id")?,
            mode: r.get("mode")?,
            region: r.get("region")?,
            status: r.get("status")?,
            winner_team: r.get("winner_team")?,
            duration_s: r.get("duration_s")?,
            created_at: r.get("created_at_ms")?,
            completed_at: r.get("completed_at_ms")?,
            team: r.get("team")?,
            result: r.get("result")?,
            kills: r.get("kills")?,
            deaths: r.get("deaths")?,
            assists: r.get("assists")?,
            hero: r.get("hero")?,
            mmr_before: r.get("mmr_before")?,
            mmr_after: r.get("mmr_after")?,
            mu_before: r.get("mu_before")?,
            mu_after: r.get("mu_after")?,
            sigma_before: r.get("sigma_before")?,
            sigma_after: r.get("sigma_after")?,
        });
    }
    let next_before = if matches.len() > limit as usize {
        matches.truncate(limit as usize);
        matches.last().map(|m| m.id)
    } else {
        None
    };
    Ok(HistoryPage {
        user_id,
        matches,
        next_before,
    })
}

/// A timeline event as stored, returned and published: the domain's event shape.
pub use rh_domain::events::TimelineEvent;

/// What a game server posts to the timeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTimelineEvent {
    #[serde(rename = "type")]
    pub kind: String,
    pub at_ms: i64,
    #[serde(default)]
    pub data: serde_json::Value,
}

/// Appends an event; `seq` is the next number for the match, assigned under the
/// match row's lock so concurrent appends never collide.
pub fn append_event(
    db: &Db,
    match_id: u64,
    event: NewTimelineEvent,
) -> Result<TimelineEvent, MatchError> {
    append_event_recorded(db, match_id, event, |_, _| Ok(()))
}

/// [`append_event`] that runs `record` inside the appending transaction with the event
/// as it will be answered (the idempotency record of the route).
pub fn append_event_recorded(
    db: &Db,
    match_id: u64,
    event: NewTimelineEvent,
    record: impl Fn(&Db, &TimelineEvent) -> Result<(), MatchError>,
) -> Result<TimelineEvent, MatchError> {
    if event.kind.is_empty() || event.kind.len() > 32 {
        return Err(MatchError::Invalid(
            "type must be 1 to 32 characters".into(),
        ));
    }
    if event.at_ms < 0 {
        return Err(MatchError::Invalid("at_ms must not be negative".into()));
    }
    let data =
        serde_json::to_string(&event.data).map_err(|e| MatchError::Invalid(e.to_string()))?;
    if data.len() > 16 * 1024 {
        return Err(MatchError::Invalid("data is larger than 16 KiB".into()));
    }
    in_transaction(db, || {
        let found = db.query(
            "SELECT id FROM matches WHERE id = ? FOR UPDATE",
            &[ParameterValue::Uint64(match_id)],
        )?;
        if found.is_empty() {
            return Err(MatchError::NotFound);
        }
        let seq: u32 = db
            .query_scalar(
                "SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS UNSIGNED) FROM match_events WHERE match_id = ?",
                &[ParameterValue::Uint64(match_id)],
            )?
            .unwrap_or(1);
        db.execute(
            "INSERT INTO match_events (match_id, seq, type, at_ms, data) VALUES (?, ?, ?, ?, ?)",
            &[
                ParameterValue::Uint64(match_id),
                ParameterValue::Uint32(seq),
                ParameterValue::Str(event.kind.clone()),
                ParameterValue::Int64(event.at_ms),
                ParameterValue::Str(data.clone()),
            ],
        )?;
        let stored = TimelineEvent {
            match_id,
            seq,
            kind: event.kind.clone(),
            at_ms: event.at_ms,
            data: event.data.clone(),
        };
        record(db, &stored)?;
        Ok(stored)
    })
}

/// The match's timeline ordered by time, then by arrival.
pub fn timeline(db: &Db, match_id: u64) -> Result<Vec<TimelineEvent>, MatchError> {
    let found = db.query(
        "SELECT id FROM matches WHERE id = ?",
        &[ParameterValue::Uint64(match_id)],
    )?;
    if found.is_empty() {
        return Err(MatchError::NotFound);
    }
    let rows = db.query(
        "SELECT seq, type, at_ms, data FROM match_events WHERE match_id = ? ORDER BY at_ms, seq",
        &[ParameterValue::Uint64(match_id)],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows.iter() {
        let data: Option<String> = r.get("data")?;
        out.push(TimelineEvent {
            match_id,
            seq: r.get("seq")?,
            kind: r.get("type")?,
            at_ms: r.get("at_ms")?,
            data: data
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or(serde_json::Value::Null),
        });
    }
    Ok(out)
}
