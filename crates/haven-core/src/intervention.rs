//! Interventions: the raid or rescue operation where survivors are found. An intervention
//! carries no survivor detail, so investigators and aftercare share it.

use crate::{Role, Roles, UserId, ValidationError};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Clocks of phones and servers differ a little; a time this far ahead is still "now".
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VenueType {
    Brothel,
    KaraokeBar,
    BeerGarden,
    MassageParlour,
    RentedRoom,
    Other,
}

impl VenueType {
    pub const ALL: [VenueType; 6] = [
        VenueType::Brothel,
        VenueType::KaraokeBar,
        VenueType::BeerGarden,
        VenueType::MassageParlour,
        VenueType::RentedRoom,
        VenueType::Other,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            VenueType::Brothel => "brothel",
            VenueType::KaraokeBar => "karaoke_bar",
            VenueType::BeerGarden => "beer_garden",
            VenueType::MassageParlour => "massage_parlour",
            VenueType::RentedRoom => "rented_room",
            VenueType::Other => "other",
        }
    }

    pub fn parse(input: &str) -> Result<VenueType, ValidationError> {
        let wanted = input.trim().to_ascii_lowercase();
        VenueType::ALL
            .into_iter()
            .find(|v| v.as_str() == wanted)
            .ok_or_else(|| {
                ValidationError::new(
                    "venue_type",
                    format!(
                        "'{}' is not a venue type; choose from: {}",
                        input.trim(),
                        VenueType::ALL.map(VenueType::as_str).join(", ")
                    ),
                )
            })
    }
}

/// An intervention as entered, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterventionDraft {
    pub occurred_at: DateTime<Utc>,
    pub area: String,
    pub venue_name: String,
    pub venue_type: VenueType,
    pub police_unit: String,
    pub lead_investigator: Option<UserId>,
    pub persons_found: u32,
    pub victims_identified: u32,
    pub suspects_arrested: u32,
}

impl InterventionDraft {
    /// Checks the draft on entry at `now`; returns it with texts trimmed.
    pub fn checked(mut self, now: DateTime<Utc>) -> Result<InterventionDraft, ValidationError> {
        if self.occurred_at > now + CLOCK_SKEW {
            return Err(ValidationError::new(
                "occurred_at",
                "is in the future; enter when the intervention happened",
            ));
        }
        for (field, value) in [
            ("area", &mut self.area),
            ("venue_name", &mut self.venue_name),
            ("police_unit", &mut self.police_unit),
        ] {
            *value = short_text(field, value, true)?;
        }
        if self.victims_identified > self.persons_found {
            return Err(ValidationError::new(
                "victims_identified",
                format!(
                    "{} victims cannot be more than the {} persons found",
                    self.victims_identified, self.persons_found
                ),
            ));
        }
        for (field, n) in [
            ("persons_found", self.persons_found),
            ("suspects_arrested", self.suspects_arrested),
        ] {
            if n > 10_000 {
                return Err(ValidationError::new(field, "must be at most 10000"));
            }
        }
        Ok(self)
    }
}

/// A one-line text of at most 200 characters, trimmed, without control characters.
pub fn short_text(
    field: &'static str,
    value: &str,
    required: bool,
) -> Result<String, ValidationError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if value.chars().count() > 200 {
        return Err(ValidationError::new(
            field,
            "must be at most 200 characters",
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "cannot contain control characters or line breaks",
        ));
    }
    Ok(value.to_owned())
}

/// Who may record interventions: investigators and aftercare (leads); managers oversee.
pub fn may_record(roles: &Roles) -> bool {
    [Role::Investigator, Role::Aftercare, Role::Manager]
        .into_iter()
        .any(|r| roles.contains(r))
}

/// Who may see interventions (without survivor detail): those who record them, and legal
/// staff, whose cases start from them.
pub fn may_see(roles: &Roles) -> bool {
    may_record(roles) || roles.contains(Role::Legal)
}

/// Who works the crisis care of an intervention's survivors (roster, care log, placement).
pub fn works_crisis_care(roles: &Roles) -> bool {
    roles.contains(Role::Aftercare) || roles.contains(Role::Manager)
}

/// Who may put staff on an intervention's roster or take them off it: a manager of the
/// organisation, or the intervention's lead for aftercare, who is the aftercare worker who
/// recorded it. Being rostered opens every girl of the intervention, so nobody else may
/// roster anyone, herself included. The caller checks that the intervention belongs to the
/// user's organisation.
pub fn may_roster(user: UserId, roles: &Roles, recorded_by: Option<UserId>) -> bool {
    roles.contains(Role::Manager) || (roles.contains(Role::Aftercare) && recorded_by == Some(user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn draft() -> InterventionDraft {
        InterventionDraft {
            occurred_at: Utc.with_ymd_and_hms(2026, 11, 25, 21, 0, 0).unwrap(),
            area: " Svay Pak ".into(),
            venue_name: "Golden Star Karaoke".into(),
            venue_type: VenueType::KaraokeBar,
            police_unit: "Anti-Human Trafficking and Juvenile Protection Police".into(),
            lead_investigator: None,
            persons_found: 9,
            victims_identified: 3,
            suspects_arrested: 2,
        }
    }

    #[test]
    fn a_draft_is_checked_field_by_field() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        assert_eq!(draft().checked(now).unwrap().area, "Svay Pak");
        let mut future = draft();
        future.occurred_at = now + Duration::hours(2);
        assert_eq!(future.checked(now).unwrap_err().field, "occurred_at");
        let mut blank = draft();
        blank.venue_name = "  ".into();
        assert_eq!(blank.checked(now).unwrap_err().field, "venue_name");
        let mut too_many = draft();
        too_many.victims_identified = 10;
        let err = too_many.checked(now).unwrap_err();
        assert_eq!(err.field, "victims_identified");
        assert!(err.message.contains("9 persons found"));
    }

    #[test]
    fn venue_types_parse_and_name_the_choices() {
        assert_eq!(
            VenueType::parse("Karaoke_Bar").unwrap(),
            VenueType::KaraokeBar
        );
        assert!(VenueType::parse("casino")
            .unwrap_err()
            .message
            .contains("massage_parlour"));
    }

    #[test]
    fn roles_that_see_and_record_interventions() {
        let roles = |r: &str| Roles::parse_list(r).unwrap();
        assert!(may_record(&roles("investigator")));
        assert!(may_record(&roles("aftercare")));
        assert!(!may_record(&roles("legal")));
        assert!(may_see(&roles("legal")));
        for r in ["admin", "partner", "auditor"] {
            assert!(!may_see(&roles(r)), "{r}");
        }
        assert!(!works_crisis_care(&roles("investigator")));
    }

    #[test]
    fn only_a_manager_or_the_lead_may_roster() {
        let roles = |r: &str| Roles::parse_list(r).unwrap();
        let id = |n: u128| UserId::from_uuid(uuid::Uuid::from_u128(n));
        let (lead, other) = (id(1), id(2));
        // (who, roles, recorded by, may roster?)
        let table = [
            (other, "manager", Some(lead), true),
            (other, "manager", None, true),
            (lead, "aftercare", Some(lead), true),
            (other, "aftercare", Some(lead), false),
            (other, "aftercare", None, false),
            // Recording it as an investigator makes nobody a crisis-care lead.
            (lead, "investigator", Some(lead), false),
            (lead, "legal", Some(lead), false),
            (other, "admin", Some(lead), false),
            (other, "partner", Some(lead), false),
        ];
        for (who, r, recorded_by, expected) in table {
            assert_eq!(may_roster(who, &roles(r), recorded_by), expected, "{r}");
        }
    }
}
