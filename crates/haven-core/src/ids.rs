//! Typed identifiers: a `UserId` can never be passed where an `OrgId` is expected.
//!
//! All IDs are UUIDv7 (time-ordered, so indexes stay compact); they are minted at the edge
//! and passed in, keeping this crate free of randomness.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = crate::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| {
                    crate::ValidationError::new("id", "is not a valid identifier")
                })
            }
        }
    };
}

typed_id!(
    /// An organisation: the own organisation or a partner NGO.
    OrgId
);
typed_id!(
    /// A staff member's account.
    UserId
);
typed_id!(
    /// A login session (browser or API token).
    SessionId
);
typed_id!(
    /// A survivor's record.
    SurvivorId
);
typed_id!(
    /// A raid or rescue operation.
    InterventionId
);
typed_id!(
    /// One survivor's crisis care, from rescue to placement.
    EpisodeId
);
typed_id!(
    /// A shift on an intervention's roster.
    ShiftId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let raw = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        let id = UserId::from_uuid(raw);
        let parsed: UserId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
    }

    #[test]
    fn garbage_is_refused_with_a_message() {
        let err = "not-an-id".parse::<OrgId>().unwrap_err();
        assert_eq!(err.field, "id");
        assert!(err.message.contains("not a valid identifier"));
    }
}
