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
//! - `mm:queue:{mode}:{region}` (sorted set): eligible ticket ids by joined time;
//! - `mm:player:{user_id}`: the player's ticket id, or `match:{id}` once matched;
//! - `mm:waits:{mode}:{region}` (list): the last [`WAITS_KEPT`] waits in ms;
//! - `mm:active` (set): `mode|region` of every queue that may hold tickets.
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

fn parse_ids(csv: &str) -> Result<Vec<u64>, QueueError> {
    csv.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad(csv)))
        .collect()
}

fn parse_mmrs(csv: &str) -> Result<Vec<(u64, i32)>, QueueError> {
    csv.split(',')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (u, m) = pair.split_once('=').ok_or_else(|| bad(pair))?;
            Ok((
                u.parse().map_err(|_| bad(pair))?,
                m.parse().map_err(|_| bad(pair))?,
            ))
        })
        .collect()
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

    /// Members who have not consented yet.
    pub fn waiting_for(&self) -> Vec<u64> {
        self.members
            .iter()
            .copied()
            .filter(|m| !self.consented.contains(m))
            .collect()
    }

    /// Parses the status script's
    /// `ticket|{id}|{state}|{mode}|{region}|{joined}|{members}|{consented}|{mmrs}`.
    pub fn parse_status(line: &str) -> Result<Ticket, QueueError> {
        let f: Vec<&str> = line.split('|').collect();
        if f.len() != 9 || f[0] != "ticket" {
            return Err(bad(line));
        }
        Ok(Ticket {
            ticket_id: f[1].parse().map_err(|_| bad(line))?,
            state: f[2].to_owned(),
            mode: f[3].to_owned(),
            region: f[4].to_owned(),
            joined_at_ms: f[5].parse().map_err(|_| bad(line))?,
            members: parse_ids(f[6])?,
            consented: parse_ids(f[7])?,
            mmrs: parse_mmrs(f[8])?,
        })
    }

    /// Parses one line of the read-queue script, `{id}|{joined}|{uid=mmr,...}`; every
    /// listed ticket is `queued` and fully consented.
    pub fn parse_queue_line(line: &str, mode: &str, region: &str) -> Result<Ticket, QueueError> {
        let mut f = line.split('|');
        let (Some(id), Some(joined), Some(mmrs), None) = (f.next(), f.next(), f.next(), f.next())
        else {
            return Err(bad(line));
        };
        let mmrs = parse_mmrs(mmrs)?;
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
    fn malformed_lines_are_errors_not_panics() {
        assert!(Ticket::parse_queue_line("13|x|3=1700", "1v1", "eu").is_err());
        assert!(Ticket::parse_queue_line("13|1|3=17=1", "1v1", "eu").is_err());
        assert!(Ticket::parse_status("ticket|1|queued").is_err());
    }
}
