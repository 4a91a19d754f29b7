//! Rank tiers: named bands of displayed mmr, used for badges and "rank up" feed events.
//!
//! | Tier     | mmr          |
//! |----------|--------------|
//! | Bronze   | below 1300   |
//! | Silver   | 1300 – 1499  |
//! | Gold     | 1500 – 1699  |
//! | Platinum | 1700 – 1899  |
//! | Diamond  | 1900 – 2099  |
//! | Master   | 2100 and up  |
//!
//! Why these bounds: bands of 200 mmr (about 5 μ, a bit more than one β of skill, see
//! [`crate::rating`]) are wide enough that one game rarely flips a tier back and forth,
//! and a new player (1500) starts at the bottom of Gold, so early losses show as a
//! visible step down and early wins do not immediately announce a promotion.
//! Only moving *up* into a tier is an event ([`tier_crossed`]); dropping is silent.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Bronze,
    Silver,
    Gold,
    Platinum,
    Diamond,
    Master,
}

/// Lower bound (inclusive) of each tier above Bronze, in ascending order.
const BOUNDS: [(i32, Tier); 5] = [
    (1300, Tier::Silver),
    (1500, Tier::Gold),
    (1700, Tier::Platinum),
    (1900, Tier::Diamond),
    (2100, Tier::Master),
];

impl Tier {
    pub fn from_mmr(mmr: i32) -> Tier {
        BOUNDS
            .iter()
            .rev()
            .find(|(floor, _)| mmr >= *floor)
            .map_or(Tier::Bronze, |(_, tier)| *tier)
    }

    /// Lowercase name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Bronze => "bronze",
            Tier::Silver => "silver",
            Tier::Gold => "gold",
            Tier::Platinum => "platinum",
            Tier::Diamond => "diamond",
            Tier::Master => "master",
        }
    }

    /// The lowest mmr in this tier (`i32::MIN` for Bronze).
    pub fn floor(self) -> i32 {
        BOUNDS
            .iter()
            .find(|(_, t)| *t == self)
            .map_or(i32::MIN, |(floor, _)| *floor)
    }
}

/// The tier a player rose *into* when their mmr went from `before` to `after`, if it is
/// higher than the tier they were in. Skipping tiers reports the highest one reached.
pub fn tier_crossed(before: i32, after: i32) -> Option<Tier> {
    let (from, to) = (Tier::from_mmr(before), Tier::from_mmr(after));
    (to > from).then_some(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_bounds_are_inclusive_at_the_floor() {
        let table = [
            (i32::MIN, Tier::Bronze),
            (1299, Tier::Bronze),
            (1300, Tier::Silver),
            (1499, Tier::Silver),
            (1500, Tier::Gold),
            (1699, Tier::Gold),
            (1700, Tier::Platinum),
            (1899, Tier::Platinum),
            (1900, Tier::Diamond),
            (2099, Tier::Diamond),
            (2100, Tier::Master),
            (i32::MAX, Tier::Master),
        ];
        for (mmr, tier) in table {
            assert_eq!(Tier::from_mmr(mmr), tier, "mmr {mmr}");
        }
    }

    #[test]
    fn a_new_player_is_gold() {
        assert_eq!(
            Tier::from_mmr(crate::rating::Rating::default().mmr()),
            Tier::Gold
        );
    }

    #[test]
    fn only_rising_into_a_higher_tier_is_a_crossing() {
        assert_eq!(tier_crossed(1690, 1710), Some(Tier::Platinum));
        assert_eq!(tier_crossed(1650, 1699), None);
        assert_eq!(tier_crossed(1710, 1690), None);
        assert_eq!(tier_crossed(1700, 1700), None);
        assert_eq!(tier_crossed(1450, 1950), Some(Tier::Diamond));
    }

    #[test]
    fn tiers_serialise_lowercase_and_report_their_floor() {
        assert_eq!(
            serde_json::to_string(&Tier::Platinum).unwrap(),
            "\"platinum\""
        );
        assert_eq!(Tier::Platinum.as_str(), "platinum");
        assert_eq!(Tier::Diamond.floor(), 1900);
        assert_eq!(Tier::Bronze.floor(), i32::MIN);
    }
}
