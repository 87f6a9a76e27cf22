//! What partner organisations offer. The organisation runs no shelters: every placement and
//! most services go through partners, so the taxonomy is fixed and shared by the directory,
//! matching and placement rules.

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// A service a partner organisation provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerService {
    /// First placement of a rescued minor, where her needs are assessed.
    AssessmentCentre,
    EmergencyShelter,
    LongTermResidentialCare,
    Counselling,
    MedicalClinic,
    School,
    VocationalTraining,
    LiteracyAndLifeSkills,
    LegalAid,
    FamilyTracing,
    IndependentLivingTransition,
    Employment,
}

impl PartnerService {
    pub const ALL: [PartnerService; 12] = [
        PartnerService::AssessmentCentre,
        PartnerService::EmergencyShelter,
        PartnerService::LongTermResidentialCare,
        PartnerService::Counselling,
        PartnerService::MedicalClinic,
        PartnerService::School,
        PartnerService::VocationalTraining,
        PartnerService::LiteracyAndLifeSkills,
        PartnerService::LegalAid,
        PartnerService::FamilyTracing,
        PartnerService::IndependentLivingTransition,
        PartnerService::Employment,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            PartnerService::AssessmentCentre => "assessment_centre",
            PartnerService::EmergencyShelter => "emergency_shelter",
            PartnerService::LongTermResidentialCare => "long_term_residential_care",
            PartnerService::Counselling => "counselling",
            PartnerService::MedicalClinic => "medical_clinic",
            PartnerService::School => "school",
            PartnerService::VocationalTraining => "vocational_training",
            PartnerService::LiteracyAndLifeSkills => "literacy_and_life_skills",
            PartnerService::LegalAid => "legal_aid",
            PartnerService::FamilyTracing => "family_tracing",
            PartnerService::IndependentLivingTransition => "independent_living_transition",
            PartnerService::Employment => "employment",
        }
    }

    /// Services where a survivor sleeps: a placement goes to one of these.
    pub const fn is_residential(self) -> bool {
        matches!(
            self,
            PartnerService::AssessmentCentre
                | PartnerService::EmergencyShelter
                | PartnerService::LongTermResidentialCare
                | PartnerService::IndependentLivingTransition
        )
    }

    pub fn parse(input: &str) -> Result<PartnerService, ValidationError> {
        let wanted = input.trim().to_ascii_lowercase();
        PartnerService::ALL
            .into_iter()
            .find(|s| s.as_str() == wanted)
            .ok_or_else(|| {
                ValidationError::new(
                    "service",
                    format!(
                        "'{}' is not a service; choose from: {}",
                        input.trim(),
                        PartnerService::ALL.map(PartnerService::as_str).join(", ")
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_round_trip_and_unknown_ones_are_named() {
        for service in PartnerService::ALL {
            assert_eq!(PartnerService::parse(service.as_str()).unwrap(), service);
        }
        let err = PartnerService::parse("karaoke").unwrap_err();
        assert!(err.message.contains("'karaoke'"));
        assert!(err.message.contains("assessment_centre"));
        assert!(PartnerService::AssessmentCentre.is_residential());
        assert!(!PartnerService::Counselling.is_residential());
    }
}
