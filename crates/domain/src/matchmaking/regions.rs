//! Multi-region tickets: a ticket names up to [`MAX_REGIONS`] regions it accepts, each
//! with the client's measured latency; a match forms only in a region every ticket of
//! it accepted, and among those the matcher prefers the lowest *worst* latency (the
//! slowest player's experience is the match's experience).
//!
//! A single-region ticket is the same thing with one entry and latency 0 (unknown), so
//! it behaves exactly as before: it meets only tickets that accept its region.

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, FieldError};

/// Most regions one ticket may name.
pub const MAX_REGIONS: usize = 3;
/// Highest latency a client may report (ms); more is a measurement error or a region
/// nobody should be matched in.
pub const MAX_LATENCY_MS: u32 = 1_000;

/// One acceptable region of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionLatency {
    pub region: String,
    pub latency_ms: u32,
}

/// Checks a ticket's region list against the configured regions: 1 to [`MAX_REGIONS`]
/// distinct known regions, each latency at most [`MAX_LATENCY_MS`]. Returns the list
/// sorted by latency (then name), so the first is the ticket's preferred region.
pub fn parse_regions(
    choices: &[RegionLatency],
    known: &[String],
) -> Result<Vec<RegionLatency>, DomainError> {
    let mut errors = Vec::new();
    if choices.is_empty() || choices.len() > MAX_REGIONS {
        errors.push(FieldError::new(
            "regions",
            format!("name 1 to {MAX_REGIONS} regions, got {}", choices.len()),
        ));
    }
    for (i, c) in choices.iter().enumerate() {
        if !known.contains(&c.region) {
            errors.push(FieldError::new(
                format!("regions[{i}].region"),
                format!("unknown region {:?}", c.region),
            ));
        }
        if c.latency_ms > MAX_LATENCY_MS {
            errors.push(FieldError::new(
                format!("regions[{i}].latency_ms"),
                format!("latency {} ms is above {MAX_LATENCY_MS} ms", c.latency_ms),
            ));
        }
        if choices[..i].iter().any(|o| o.region == c.region) {
            errors.push(FieldError::new(
                format!("regions[{i}].region"),
                format!("region {:?} is named twice", c.region),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut sorted = choices.to_vec();
    sorted.sort_by(|a, b| (a.latency_ms, &a.region).cmp(&(b.latency_ms, &b.region)));
    Ok(sorted)
}

/// The region every one of `tickets` accepts with the lowest worst latency (ties: the
/// lowest total latency, then the name), with that worst latency. `None` if they share
/// none.
pub fn best_shared_region<'a>(tickets: &[&'a [RegionLatency]]) -> Option<(&'a str, u32)> {
    let first = tickets.first()?;
    let mut best: Option<(&'a str, u32, u64)> = None;
    for candidate in first.iter() {
        let mut worst = 0;
        let mut total = 0u64;
        let mut shared = true;
        for t in tickets {
            match t.iter().find(|r| r.region == candidate.region) {
                Some(r) => {
                    worst = worst.max(r.latency_ms);
                    total += u64::from(r.latency_ms);
                }
                None => {
                    shared = false;
                    break;
                }
            }
        }
        if !shared {
            continue;
        }
        let better = match best {
            None => true,
            Some((name, w, tot)) => (worst, total, candidate.region.as_str()) < (w, tot, name),
        };
        if better {
            best = Some((candidate.region.as_str(), worst, total));
        }
    }
    best.map(|(r, w, _)| (r, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rl(region: &str, latency_ms: u32) -> RegionLatency {
        RegionLatency {
            region: region.into(),
            latency_ms,
        }
    }

    fn known() -> Vec<String> {
        ["na", "eu", "sa"].iter().map(|s| s.to_string()).collect()
    }

    fn fields(e: DomainError) -> Vec<String> {
        match e {
            DomainError::Invalid(errs) => errs.into_iter().map(|e| e.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_valid_list_comes_back_sorted_by_latency() {
        let parsed = parse_regions(&[rl("na", 90), rl("eu", 30)], &known()).unwrap();
        assert_eq!(parsed, vec![rl("eu", 30), rl("na", 90)]);
    }

    #[test]
    fn bad_lists_name_each_offending_field() {
        assert_eq!(
            fields(parse_regions(&[], &known()).unwrap_err()),
            ["regions"]
        );
        let four = [rl("na", 1), rl("eu", 1), rl("sa", 1), rl("oce", 1)];
        assert_eq!(
            fields(parse_regions(&four, &known()).unwrap_err()),
            ["regions", "regions[3].region"]
        );
        assert_eq!(
            fields(parse_regions(&[rl("eu", 1001)], &known()).unwrap_err()),
            ["regions[0].latency_ms"]
        );
        assert_eq!(
            fields(parse_regions(&[rl("eu", 1), rl("eu", 2)], &known()).unwrap_err()),
            ["regions[1].region"]
        );
    }

    #[test]
    fn the_shared_region_with_the_lowest_worst_latency_wins() {
        let a = [rl("eu", 20), rl("na", 80)];
        let b = [rl("na", 40), rl("eu", 120)];
        let c = [rl("na", 60), rl("eu", 60), rl("sa", 10)];
        // eu: worst 120; na: worst 80.
        assert_eq!(best_shared_region(&[&a, &b, &c]), Some(("na", 80)));
        assert_eq!(best_shared_region(&[&a, &c]), Some(("eu", 60)));
        assert_eq!(best_shared_region(&[&[rl("sa", 5)][..], &a]), None);
    }
}
