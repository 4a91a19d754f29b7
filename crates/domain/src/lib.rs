//! RankedHonor's pure domain crate: no I/O, no spin-sdk, no database.
//!
//! # Layout
//! - [`validation`]: parse-don't-validate newtypes for user input (email, username, password, region).
//! - [`rating`]: Weng-Lin (OpenSkill) Plackett-Luce team ratings and the displayed-mmr mapping.
//! - [`modes`]: game modes as data (team count, team size).
//! - [`matchmaking`]: the pure grouping step of the queue tick and the tolerance curve.
//! - [`achievements`]: achievement definitions and the unlock rule.
//! - [`events`]: shapes of the JSON events published on Redis channels.

pub mod validation;
