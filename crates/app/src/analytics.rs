//! Hero pick-rate analytics and the platform overview.
//!
//! Writes: [`record_hero_picks`] runs inside a match result's transaction (the result
//! code returns before it for a replay, so nothing counts twice); [`subtract_hero_picks`]
//! undoes one match when an admin voids it. Reads: [`heroes`] and [`overview`].
//!
//! Definitions (also in docs/openapi.yaml):
//! - a *pick* is one participant of a completed match who reported a hero;
//! - `pick_rate` = a hero's picks / all picks of the mode over the window (so the rates
//!   of a mode add up to 1); `win_rate` = the hero's wins / its picks;
//! - days are UTC days written `yyyymmdd`; "the last N days" is today and the N−1
//!   days before it.

use serde::Serialize;
use spin_sdk::mysql::ParameterValue;

use rh_infra::db::{Db, DbError};

const DAY_MS: i64 = 86_400_000;

/// The UTC day of an epoch-millisecond time as `yyyymmdd` (`20261125`).
pub fn day_of(ms: i64) -> u32 {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    (y * 10_000 + m * 100 + d) as u32
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (the well-known
/// era-based conversion: 400-year eras of 146,097 days).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The first day (`yyyymmdd`) of a window of `days` days ending today.
pub fn window_start(now_ms: i64, days: u32) -> u32 {
    day_of(now_ms - (i64::from(days.max(1)) - 1) * DAY_MS)
}

/// Adds one pick per `(hero, won)` to `day`'s aggregate of `mode`. Call it inside the
/// result's transaction. Participants without a hero are not passed.
pub fn record_hero_picks(
    tx: &Db,
    day: u32,
    mode: &str,
    picks: &[(String, bool)],
) -> Result<(), DbError> {
    // One statement for the match: picks summed per hero, rows in hero order, so two
    // results touching the same heroes lock their rows in the same order (no deadlock).
    let mut per_hero: std::collections::BTreeMap<&str, (u32, u32)> = Default::default();
    for (hero, won) in picks {
        let e = per_hero.entry(hero.as_str()).or_default();
        e.0 += 1;
        e.1 += u32::from(*won);
    }
    if per_hero.is_empty() {
        return Ok(());
    }
    let mut sql =
        String::from("INSERT INTO hero_pick_rates (day, mode, hero, picks, wins) VALUES ");
    sql.push_str(&vec!["(?, ?, ?, ?, ?)"; per_hero.len()].join(", "));
    sql.push_str(
        " ON DUPLICATE KEY UPDATE picks = picks + VALUES(picks), wins = wins + VALUES(wins)",
    );
    let mut params = Vec::with_capacity(per_hero.len() * 5);
    for (hero, (n, wins)) in per_hero {
        params.extend([
            ParameterValue::Uint32(day),
            ParameterValue::Str(mode.to_owned()),
            ParameterValue::Str(hero.to_owned()),
            ParameterValue::Uint32(n),
            ParameterValue::Uint32(wins),
        ]);
    }
    tx.execute(&sql, &params)
}

/// Removes what [`record_hero_picks`] added for one match (an admin void).
pub fn subtract_hero_picks(
    tx: &Db,
    day: u32,
    mode: &str,
    picks: &[(String, bool)],
) -> Result<(), DbError> {
    for (hero, won) in picks {
        // GREATEST keeps the unsigned columns from underflowing if a row was edited by hand.
        tx.execute(
            "UPDATE hero_pick_rates SET picks = GREATEST(CAST(picks AS SIGNED) - 1, 0), \
             wins = GREATEST(CAST(wins AS SIGNED) - ?, 0) WHERE day = ? AND mode = ? AND hero = ?",
            &[
                ParameterValue::Int32(i32::from(*won)),
                ParameterValue::Uint32(day),
                ParameterValue::Str(mode.to_owned()),
                ParameterValue::Str(hero.clone()),
            ],
        )?;
    }
    Ok(())
}

/// One hero's figures over a window.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeroStats {
    pub hero: String,
    pub picks: u64,
    pub pick_rate: f64,
    pub wins: u64,
    pub win_rate: f64,
}

/// `GET /api/v1/analytics/heroes`.
#[derive(Debug, Clone, Serialize)]
pub struct HeroReport {
    pub mode: String,
    pub days: u32,
    pub from_day: u32,
    pub to_day: u32,
    pub total_picks: u64,
    pub heroes: Vec<HeroStats>,
}

/// Turns `(hero, picks, wins)` into rates, sorted by pick rate (then hero name).
pub fn rank_heroes(rows: Vec<(String, u64, u64)>) -> (u64, Vec<HeroStats>) {
    let total: u64 = rows.iter().map(|r| r.1).sum();
    let mut heroes: Vec<HeroStats> = rows
        .into_iter()
        .filter(|r| r.1 > 0)
        .map(|(hero, picks, wins)| HeroStats {
            hero,
            picks,
            pick_rate: picks as f64 / total.max(1) as f64,
            wins,
            win_rate: wins as f64 / picks as f64,
        })
        .collect();
    heroes.sort_by(|a, b| b.picks.cmp(&a.picks).then_with(|| a.hero.cmp(&b.hero)));
    (total, heroes)
}

/// Whether `mode` is in the `modes` table.
pub fn mode_exists(db: &Db, mode: &str) -> Result<bool, DbError> {
    Ok(db
        .query_scalar::<i64>(
            "SELECT COUNT(*) FROM modes WHERE name = ?",
            &[ParameterValue::Str(mode.to_owned())],
        )?
        .unwrap_or(0)
        > 0)
}

/// Pick and win rates of every hero of `mode` over the last `days` days.
pub fn heroes(db: &Db, mode: &str, days: u32, now_ms: i64) -> Result<HeroReport, DbError> {
    let from_day = window_start(now_ms, days);
    let rows = db.query(
        "SELECT hero, CAST(SUM(picks) AS SIGNED) AS picks, CAST(SUM(wins) AS SIGNED) AS wins \
         FROM hero_pick_rates WHERE mode = ? AND day >= ? GROUP BY hero",
        &[
            ParameterValue::Str(mode.to_owned()),
            ParameterValue::Uint32(from_day),
        ],
    )?;
    let mut raw = Vec::with_capacity(rows.len());
    for r in rows.iter() {
        raw.push((r.get("hero")?, r.get("picks")?, r.get("wins")?));
    }
    let (total_picks, heroes) = rank_heroes(raw);
    Ok(HeroReport {
        mode: mode.to_owned(),
        days,
        from_day,
        to_day: day_of(now_ms),
        total_picks,
        heroes,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct MatchesPerDay {
    pub day: u32,
    pub mode: String,
    pub matches: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivePerDay {
    pub day: u32,
    pub players: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MmrBucket {
    pub mode: String,
    /// Inclusive lower bound; the bucket is `[from, from + 100)`.
    pub from: i64,
    pub players: u64,
}

/// `GET /api/v1/analytics/overview`.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub days: u32,
    pub matches_per_day: Vec<MatchesPerDay>,
    pub active_players_per_day: Vec<ActivePerDay>,
    pub mmr_distribution: Vec<MmrBucket>,
}

/// Completed matches per UTC day and mode, distinct players per day (both over the last
/// `days` days; voided matches excluded), and ranked players per mmr bucket of 100.
pub fn overview(db: &Db, days: u32, now_ms: i64) -> Result<Overview, DbError> {
    let since = (now_ms.div_euclid(DAY_MS) - (i64::from(days) - 1)) * DAY_MS;
    let rows = db.query(
        "SELECT completed_at_ms DIV 86400000 AS d, mode, COUNT(*) AS n FROM matches \
         WHERE status = 'completed' AND completed_at_ms >= ? GROUP BY d, mode ORDER BY d, mode",
        &[ParameterValue::Int64(since)],
    )?;
    let mut matches_per_day = Vec::new();
    for r in rows.iter() {
        let d: i64 = r.get("d")?;
        matches_per_day.push(MatchesPerDay {
            day: day_of(d * DAY_MS),
            mode: r.get("mode")?,
            matches: r.get("n")?,
        });
    }
    let rows = db.query(
        "SELECT m.completed_at_ms DIV 86400000 AS d, COUNT(DISTINCT mp.user_id) AS n \
         FROM matches m JOIN match_participants mp ON mp.match_id = m.id \
         WHERE m.status = 'completed' AND m.completed_at_ms >= ? GROUP BY d ORDER BY d",
        &[ParameterValue::Int64(since)],
    )?;
    let mut active_players_per_day = Vec::new();
    for r in rows.iter() {
        let d: i64 = r.get("d")?;
        active_players_per_day.push(ActivePerDay {
            day: day_of(d * DAY_MS),
            players: r.get("n")?,
        });
    }
    let rows = db.query(
        "SELECT mode, CAST(FLOOR(mmr / 100) AS SIGNED) * 100 AS b, COUNT(*) AS n FROM user_stats \
         WHERE games > 0 GROUP BY mode, b ORDER BY mode, b",
        &[],
    )?;
    let mut mmr_distribution = Vec::new();
    for r in rows.iter() {
        mmr_distribution.push(MmrBucket {
            mode: r.get("mode")?,
            from: r.get("b")?,
            players: r.get("n")?,
        });
    }
    Ok(Overview {
        days,
        matches_per_day,
        active_players_per_day,
        mmr_distribution,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_calendar_days() {
        assert_eq!(day_of(0), 19_700_101);
        assert_eq!(day_of(DAY_MS - 1), 19_700_101);
        assert_eq!(day_of(-1), 19_691_231);
        // 2024-02-29 12:00 UTC (a leap day) and 2026-11-25 00:00 UTC.
        assert_eq!(day_of(1_709_208_000_000), 20_240_229);
        assert_eq!(day_of(1_795_564_800_000), 20_261_125);
    }

    #[test]
    fn a_window_of_n_days_ends_today() {
        let now = 1_795_564_800_000 + 5_000;
        assert_eq!(window_start(now, 1), 20_261_125);
        assert_eq!(window_start(now, 7), 20_261_119);
        assert_eq!(window_start(now, 30), 20_261_027);
    }

    #[test]
    fn heroes_are_sorted_by_pick_rate_and_rates_add_up() {
        let (total, heroes) = rank_heroes(vec![
            ("b".into(), 1, 1),
            ("a".into(), 3, 0),
            ("c".into(), 1, 0),
            ("gone".into(), 0, 0),
        ]);
        assert_eq!(total, 5);
        let names: Vec<_> = heroes.iter().map(|h| h.hero.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!((heroes.iter().map(|h| h.pick_rate).sum::<f64>() - 1.0).abs() < 1e-9);
        assert_eq!(heroes[1].win_rate, 1.0);
        assert_eq!(heroes[0].pick_rate, 0.6);
    }
}
