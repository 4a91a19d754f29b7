//! The matchmaking queue: its Redis store, its atomic transitions, and the queue tick.
//!
//! # Layout
//! - [`keys`]: every Redis key and channel name the queue uses;
//! - [`scripts`]: the Lua scripts (join, consent, leave, status, read, claim, release,
//!   finalize) that make each transition one atomic step;
//! - [`db`]: MySQL reads (modes, ratings, users, unfinished matches);
//! - [`store`]: join / consent / leave / status, used by the `matchmaking` component;
//! - [`overview`]: every queue's size and wait estimate (the public queue overview);
//! - [`tick`]: [`tick::run_tick`], one pass over every queue, used by the `queue-tick`
//!   Redis trigger and by the server-signed `POST /api/v1/matchmaking/tick` route;
//! - [`batch`]: a queue's formed matches claimed, created and announced as one batch;
//! - [`error`]: [`QueueError`], mapped to problem+json by the components.
//!
//! # State in Redis
//! - `mm:ticket:{id}` (hash, expires after [`TICKET_TTL_MS`]): a solo player or a party,
//!   its members' mmr at join time, its state (`pending` → `queued` → `claimed`);
//!   a multi-region ticket also has `regions` (`eu=30,na=80`, lowest latency first; its
//!   `region` is the first), and each member's rating is stored as `uid=mmr~sigma`;
//! - `mm:queue:{mode}:{region}` (sorted set): eligible ticket ids by joined time; a
//!   multi-region ticket is listed in the queue of each of its regions;
//! - `mm:player:{user_id}`: the player's ticket id, or `match:{id}` once matched;
//! - `mm:waits:{mode}:{region}` (list): the last [`WAITS_KEPT`] waits in ms;
//! - `mm:active` (set): `mode|region` of every queue that may hold tickets;
//! - `mm:recent:{mode}:{user_id}` (sorted set, only for modes with a rematch window):
//!   opponents met, scored by when, trimmed to the window.
//!
//! # Who plays whom
//! The tick reads every region queue of a mode and runs the pure quality matcher
//! ([`rh_domain::matchmaking::matcher`]) over the mode's tickets with the mode's row of
//! `matchmaking_settings`; see [`grouping`].
//!
//! # Parties: nobody is queued against their will
//! The leader sends `{mode, region, party: [ids]}`; that creates a `pending` ticket
//! (its id is the `party_id`) holding only the leader. Each listed member consents by
//! sending `{mode, region, party_id}` with their own token; their mmr is read then.
//! Only when every member has consented does the ticket enter the queue. Anyone who
//! consented can leave, which removes the whole party.
//!
//! # Never double-booked
//! The tick may run on every replica at once. It reads a queue, groups it with the pure
//! [`rh_domain::matchmaking`] step, and then claims the formed matches with one script:
//! each match's group is claimed only if every one of its tickets is still `queued`
//! (and then they are all marked `claimed`), otherwise that group is skipped. A leave is
//! a script too: it removes a ticket only if it is not claimed. Redis runs scripts one
//! at a time, so a ticket is claimed at most once, and a leave either happens first
//! (that group's claim fails, nobody from it is matched this tick) or answers 409
//! "match already formed".

pub mod batch;
pub mod db;
pub mod error;
pub mod grouping;
pub mod keys;
pub mod overview;
pub mod scripts;
pub mod store;
pub mod tick;

pub use error::QueueError;

use rh_domain::matchmaking::matcher::{Member, QueuedTicket};
use rh_domain::matchmaking::regions::RegionLatency;
pub use store::{join, leave, status, JoinRequest, Joined, Status};
pub use tick::{active_queues, run_tick, FormedMatch, TickOptions, TickOutcome};

/// How long a ticket (and a queued player's key) lives without being refreshed or
/// matched: ten minutes.
pub const TICKET_TTL_MS: u64 = 10 * 60 * 1000;
/// How long claimed tickets live if the claiming tick dies before creating the match.
pub const CLAIM_TTL_MS: u64 = 60 * 1000;
/// How long a player's `match:{id}` marker lives. MySQL stays the source of truth for
/// "in an unfinished match"; the marker only makes the common checks cheap.
pub const MATCH_MARKER_TTL_MS: u64 = 6 * 60 * 60 * 1000;
/// How many recent waits the estimate averages.
pub const WAITS_KEPT: usize = 50;

/// A ticket as the scripts report it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub ticket_id: u64,
    pub state: String,
    pub mode: String,
    pub region: String,
    pub joined_at_ms: u64,
    pub members: Vec<u64>,
    pub consented: Vec<u64>,
    /// (user id, mmr at join) for every member who joined.
    pub mmrs: Vec<(u64, i32)>,
    /// σ at join of each member in `mmrs`, in the same order (the starting σ for
    /// tickets written before σ was recorded).
    pub sigmas: Vec<f64>,
    /// The regions a multi-region ticket accepts with the reported latency, lowest
    /// first; empty for a single-region ticket (just `region`).
    pub regions: Vec<RegionLatency>,
    /// Players the members met within the mode's rematch window (read by the tick only
    /// when the mode's window is on).
    pub recent_opponents: Vec<u64>,
}

fn parse_ids(csv: &str) -> Result<Vec<u64>, QueueError> {
    csv.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad(csv)))
        .collect()
}

/// (user id, mmr) per member and, in the same order, their σ.
type MmrsAndSigmas = (Vec<(u64, i32)>, Vec<f64>);

/// `uid=mmr` or `uid=mmr~sigma` entries (σ is recorded since the quality matcher).
fn parse_mmrs(csv: &str) -> Result<MmrsAndSigmas, QueueError> {
    let mut mmrs = Vec::new();
    let mut sigmas = Vec::new();
    for pair in csv.split(',').filter(|s| !s.is_empty()) {
        let (u, rating) = pair.split_once('=').ok_or_else(|| bad(pair))?;
        let (m, sigma) = match rating.split_once('~') {
            Some((m, s)) => (m, s.parse::<f64>().map_err(|_| bad(pair))?),
            None => (rating, rh_domain::rating::Rating::default().sigma),
        };
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(bad(pair));
        }
        mmrs.push((
            u.parse().map_err(|_| bad(pair))?,
            m.parse().map_err(|_| bad(pair))?,
        ));
        sigmas.push(sigma);
    }
    Ok((mmrs, sigmas))
}

/// A member's rating as the join scripts store it: `mmr~sigma`.
pub fn rating_value(mmr: i32, sigma: f64) -> String {
    format!("{mmr}~{sigma:.6}")
}

/// `region=latency,...` as stored in a multi-region ticket's `regions` field.
fn parse_regions(csv: &str) -> Result<Vec<RegionLatency>, QueueError> {
    csv.split(',')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (r, l) = pair.split_once('=').ok_or_else(|| bad(pair))?;
            Ok(RegionLatency {
                region: r.to_owned(),
                latency_ms: l.parse().map_err(|_| bad(pair))?,
            })
        })
        .collect()
}

/// The `regions` field value for a list (empty for none).
pub fn regions_value(regions: &[RegionLatency]) -> String {
    regions
        .iter()
        .map(|r| format!("{}={}", r.region, r.latency_ms))
        .collect::<Vec<_>>()
        .join(",")
}

fn bad(what: &str) -> QueueError {
    QueueError::Corrupt(format!("malformed ticket data {what:?}"))
}

impl Ticket {
    /// The ticket's rating: the rounded mean of its members' mmr.
    pub fn mmr(&self) -> i32 {
        if self.mmrs.is_empty() {
            return rh_domain::rating::MMR_CENTRE;
        }
        let sum: i64 = self.mmrs.iter().map(|&(_, m)| m as i64).sum();
        let n = self.mmrs.len() as i64;
        ((sum as f64) / (n as f64)).round() as i32
    }

    /// The regions this ticket accepts: its list, or its one region at latency 0.
    pub fn region_choices(&self) -> Vec<RegionLatency> {
        if self.regions.is_empty() {
            vec![RegionLatency {
                region: self.region.clone(),
                latency_ms: 0,
            }]
        } else {
            self.regions.clone()
        }
    }

    /// The ticket as the quality matcher sees it (μ from the stored mmr, σ as stored).
    pub fn to_domain(&self) -> QueuedTicket {
        QueuedTicket {
            ticket_id: self.ticket_id,
            members: self
                .mmrs
                .iter()
                .zip(&self.sigmas)
                .map(|(&(user_id, mmr), &sigma)| Member {
                    user_id,
                    rating: rh_domain::rating::Rating::from_mmr(mmr, sigma),
                })
                .collect(),
            regions: self.region_choices(),
            joined_at_ms: self.joined_at_ms,
            recent_opponents: self.recent_opponents.clone(),
        }
    }

    /// Members who have not consented yet.
    pub fn waiting_for(&self) -> Vec<u64> {
        self.members
            .iter()
            .copied()
            .filter(|m| !self.consented.contains(m))
            .collect()
    }

    /// Parses the status script's
    /// `ticket|{id}|{state}|{mode}|{region}|{joined}|{members}|{consented}|{mmrs}|{regions}`.
    pub fn parse_status(line: &str) -> Result<Ticket, QueueError> {
        let f: Vec<&str> = line.split('|').collect();
        if !(9..=10).contains(&f.len()) || f[0] != "ticket" {
            return Err(bad(line));
        }
        let (mmrs, sigmas) = parse_mmrs(f[8])?;
        Ok(Ticket {
            ticket_id: f[1].parse().map_err(|_| bad(line))?,
            state: f[2].to_owned(),
            mode: f[3].to_owned(),
            region: f[4].to_owned(),
            joined_at_ms: f[5].parse().map_err(|_| bad(line))?,
            members: parse_ids(f[6])?,
            consented: parse_ids(f[7])?,
            mmrs,
            sigmas,
            regions: parse_regions(f.get(9).copied().unwrap_or(""))?,
            recent_opponents: Vec::new(),
        })
    }

    /// Parses one line of the read-queue script,
    /// `{id}|{joined}|{uid=mmr~sigma,...}|{region=latency,...}|{recent opponents}`
    /// (the last two fields may be empty or absent); every listed ticket is
    /// `queued` and fully consented. `region` is the queue's region the line was read
    /// from (a multi-region ticket's regions are in its last field).
    pub fn parse_queue_line(line: &str, mode: &str, region: &str) -> Result<Ticket, QueueError> {
        let mut f = line.split('|');
        let (Some(id), Some(joined), Some(mmrs), regions, recent, None) =
            (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            return Err(bad(line));
        };
        let (mmrs, sigmas) = parse_mmrs(mmrs)?;
        let members: Vec<u64> = mmrs.iter().map(|&(u, _)| u).collect();
        Ok(Ticket {
            ticket_id: id.parse().map_err(|_| bad(line))?,
            state: "queued".into(),
            mode: mode.to_owned(),
            region: region.to_owned(),
            joined_at_ms: joined.parse().map_err(|_| bad(line))?,
            consented: members.clone(),
            members,
            mmrs,
            sigmas,
            regions: parse_regions(regions.unwrap_or(""))?,
            recent_opponents: parse_ids(recent.unwrap_or(""))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_line_parses_into_a_ticket_with_its_missing_members() {
        let t = Ticket::parse_status("ticket|13|pending|2v2|eu|1300|3,4|3|3=1700").unwrap();
        assert_eq!(t.ticket_id, 13);
        assert_eq!(t.members, vec![3, 4]);
        assert_eq!(t.waiting_for(), vec![4]);
        assert_eq!(t.mmr(), 1700);
    }

    #[test]
    fn a_party_rating_is_the_rounded_mean_of_its_members() {
        let t = Ticket::parse_queue_line("13|1300|3=1700,4=1501", "2v2", "eu").unwrap();
        assert_eq!(t.members, vec![3, 4]);
        assert_eq!(t.mmr(), 1601);
        assert_eq!(t.joined_at_ms, 1300);
    }

    #[test]
    fn sigma_and_regions_are_read_when_present() {
        let t = Ticket::parse_queue_line("13|1300|3=1700~2.500000,4=1500|eu=30,na=80", "2v2", "eu")
            .unwrap();
        assert_eq!(t.sigmas[0], 2.5);
        assert_eq!(t.sigmas[1], rh_domain::rating::Rating::default().sigma);
        assert_eq!(regions_value(&t.regions), "eu=30,na=80");
        let d = t.to_domain();
        assert_eq!(d.members[0].rating.mmr(), 1700);
        assert_eq!(d.regions.len(), 2);
        let recent = Ticket::parse_queue_line("15|1300|5=1500||7,8", "1v1", "sa").unwrap();
        assert_eq!(recent.to_domain().recent_opponents, vec![7, 8]);
        let single = Ticket::parse_queue_line("14|1300|5=1500", "1v1", "sa").unwrap();
        assert_eq!(single.region_choices()[0].region, "sa");
        let st = Ticket::parse_status("ticket|13|queued|2v2|eu|1300|3|3|3=1700~1.5|eu=30,na=80")
            .unwrap();
        assert_eq!(st.regions.len(), 2);
    }

    #[test]
    fn malformed_lines_are_errors_not_panics() {
        assert!(Ticket::parse_queue_line("13|1|3=1700~x", "1v1", "eu").is_err());
        assert!(Ticket::parse_queue_line("13|1|3=1700~0", "1v1", "eu").is_err());
        assert!(Ticket::parse_queue_line("13|1|3=1700|eu=x", "1v1", "eu").is_err());
        assert!(Ticket::parse_queue_line("13|x|3=1700", "1v1", "eu").is_err());
        assert!(Ticket::parse_queue_line("13|1|3=17=1", "1v1", "eu").is_err());
        assert!(Ticket::parse_status("ticket|1|queued").is_err());
    }
}
