//! RankedHonor's pure domain crate: no I/O, no spin-sdk, no database.
//!
//! Everything here is a plain function over plain data so it is tested natively, fast,
//! with table-driven and property tests; components and the sidecar call it.
//!
//! # Layout
//! - [`error`]: [`DomainError`], the one error type of this crate, and [`FieldError`].
//! - [`validation`]: parse-don't-validate newtypes for user input (email, username, password, region).
//! - [`rating`]: Weng-Lin (OpenSkill) Plackett-Luce team ratings and the displayed-mmr mapping.
//! - [`modes`]: game modes as data (team count, team size), roster and party checks.
//! - [`tiers`]: rank tiers by mmr and "rank up into a tier" detection.
//! - [`stats`]: a player's win/loss/draw record and signed streak.
//! - [`matchmaking`]: the pure grouping step of the queue tick and the tolerance curve.
//! - [`achievements`]: achievement definitions and the unlock rule.
//! - [`seasons`]: the season schedule's rules, the soft reset, placement, inactivity, rewards.
//! - [`events`]: JSON shapes of the messages published on Redis channels, and channel names.

pub mod achievements;
pub mod error;
pub mod events;
pub mod matchmaking;
pub mod modes;
pub mod rating;
pub mod seasons;
pub mod stats;
pub mod tiers;
pub mod validation;

pub use error::{DomainError, FieldError};
