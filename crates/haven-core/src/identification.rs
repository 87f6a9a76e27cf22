//! Victim identification: a structured screening of whether she is a minor, which indicators
//! of trafficking are present (the categories of the Human Trafficking Case Data Standard:
//! means of control, type of exploitation), and the decision with its reasons.
//!
//! Two rules hold whatever staff enter: a probable minor is treated as a minor until proven
//! otherwise, and a child in exploitation is a victim whatever the means (no means of control
//! has to be shown for a child).

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// Whether she is a minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinorStatus {
    /// Papers or a credible date of birth show she is under 18.
    Certain,
    /// Her age is estimated under 18, or it cannot be ruled out.
    Probable,
    /// Papers show she is 18 or older.
    Adult,
}

impl MinorStatus {
    pub const ALL: [MinorStatus; 3] = [
        MinorStatus::Certain,
        MinorStatus::Probable,
        MinorStatus::Adult,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            MinorStatus::Certain => "certain",
            MinorStatus::Probable => "probable",
            MinorStatus::Adult => "adult",
        }
    }

    /// A probable minor is treated as a minor until proven otherwise.
    pub const fn treated_as_minor(self) -> bool {
        !matches!(self, MinorStatus::Adult)
    }

    pub fn parse(input: &str) -> Result<MinorStatus, ValidationError> {
        parse_choice(
            "minor_status",
            input,
            &MinorStatus::ALL,
            MinorStatus::as_str,
        )
    }
}

/// Means of control (HTCDS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlMeans {
    DebtBondage,
    TakesEarnings,
    ThreatsOfViolence,
    PhysicalViolence,
    SexualViolence,
    PsychologicalAbuse,
    PsychoactiveSubstances,
    RestrictsMovement,
    WithholdsDocuments,
    ThreatsToFamily,
    FalsePromises,
    ExcessiveWorkingHours,
    Other,
}

impl ControlMeans {
    pub const ALL: [ControlMeans; 13] = [
        ControlMeans::DebtBondage,
        ControlMeans::TakesEarnings,
        ControlMeans::ThreatsOfViolence,
        ControlMeans::PhysicalViolence,
        ControlMeans::SexualViolence,
        ControlMeans::PsychologicalAbuse,
        ControlMeans::PsychoactiveSubstances,
        ControlMeans::RestrictsMovement,
        ControlMeans::WithholdsDocuments,
        ControlMeans::ThreatsToFamily,
        ControlMeans::FalsePromises,
        ControlMeans::ExcessiveWorkingHours,
        ControlMeans::Other,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ControlMeans::DebtBondage => "debt_bondage",
            ControlMeans::TakesEarnings => "takes_earnings",
            ControlMeans::ThreatsOfViolence => "threats_of_violence",
            ControlMeans::PhysicalViolence => "physical_violence",
            ControlMeans::SexualViolence => "sexual_violence",
            ControlMeans::PsychologicalAbuse => "psychological_abuse",
            ControlMeans::PsychoactiveSubstances => "psychoactive_substances",
            ControlMeans::RestrictsMovement => "restricts_movement",
            ControlMeans::WithholdsDocuments => "withholds_documents",
            ControlMeans::ThreatsToFamily => "threats_to_family",
            ControlMeans::FalsePromises => "false_promises",
            ControlMeans::ExcessiveWorkingHours => "excessive_working_hours",
            ControlMeans::Other => "other",
        }
    }

    pub fn parse(input: &str) -> Result<ControlMeans, ValidationError> {
        parse_choice(
            "control_means",
            input,
            &ControlMeans::ALL,
            ControlMeans::as_str,
        )
    }
}

/// Type of exploitation (HTCDS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExploitationType {
    SexualExploitation,
    ForcedLabour,
    ForcedMarriage,
    DomesticServitude,
    ForcedBegging,
    ForcedCriminality,
    Other,
}

impl ExploitationType {
    pub const ALL: [ExploitationType; 7] = [
        ExploitationType::SexualExploitation,
        ExploitationType::ForcedLabour,
        ExploitationType::ForcedMarriage,
        ExploitationType::DomesticServitude,
        ExploitationType::ForcedBegging,
        ExploitationType::ForcedCriminality,
        ExploitationType::Other,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ExploitationType::SexualExploitation => "sexual_exploitation",
            ExploitationType::ForcedLabour => "forced_labour",
            ExploitationType::ForcedMarriage => "forced_marriage",
            ExploitationType::DomesticServitude => "domestic_servitude",
            ExploitationType::ForcedBegging => "forced_begging",
            ExploitationType::ForcedCriminality => "forced_criminality",
            ExploitationType::Other => "other",
        }
    }

    pub fn parse(input: &str) -> Result<ExploitationType, ValidationError> {
        parse_choice(
            "exploitation",
            input,
            &ExploitationType::ALL,
            ExploitationType::as_str,
        )
    }
}

/// The outcome of a screening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentificationDecision {
    /// Identified as a victim of trafficking.
    Victim,
    NotVictim,
    /// More information is needed.
    Pending,
}

impl IdentificationDecision {
    pub const ALL: [IdentificationDecision; 3] = [
        IdentificationDecision::Victim,
        IdentificationDecision::NotVictim,
        IdentificationDecision::Pending,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            IdentificationDecision::Victim => "victim",
            IdentificationDecision::NotVictim => "not_victim",
            IdentificationDecision::Pending => "pending",
        }
    }

    pub fn parse(input: &str) -> Result<IdentificationDecision, ValidationError> {
        parse_choice(
            "decision",
            input,
            &IdentificationDecision::ALL,
            IdentificationDecision::as_str,
        )
    }
}

/// What the age evidence says, for checking a screening's minor status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgeEvidence {
    /// Her age from a date of birth on papers, if she has papers.
    pub documented_age: Option<u32>,
    pub stated_age: Option<u32>,
    pub estimated_age: Option<u32>,
}

/// One screening as entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screening {
    pub minor_status: MinorStatus,
    pub control_means: Vec<ControlMeans>,
    pub exploitation: Vec<ExploitationType>,
    pub decision: IdentificationDecision,
    /// Why the decision was taken, in the screener's words.
    pub reasons: String,
}

impl Screening {
    /// Checks the screening against the rules and her age evidence; returns it normalised.
    pub fn checked(mut self, age: AgeEvidence) -> Result<Screening, ValidationError> {
        self.control_means.sort();
        self.control_means.dedup();
        self.exploitation.sort();
        self.exploitation.dedup();
        self.reasons = self.reasons.trim().to_owned();
        if self.reasons.is_empty() {
            return Err(ValidationError::new(
                "reasons",
                "write why you reached this decision",
            ));
        }
        if self.reasons.chars().count() > 5_000 {
            return Err(ValidationError::new(
                "reasons",
                "must be at most 5000 characters",
            ));
        }
        if self.minor_status == MinorStatus::Adult {
            match age.documented_age {
                Some(documented) if documented < 18 => {
                    return Err(ValidationError::new(
                        "minor_status",
                        format!("her papers make her {documented}: she is a minor"),
                    ))
                }
                Some(_) => {}
                None => {
                    if let Some(young) = [age.estimated_age, age.stated_age]
                        .into_iter()
                        .flatten()
                        .find(|a| *a < 18)
                    {
                        return Err(ValidationError::new(
                            "minor_status",
                            format!(
                                "her age is given or estimated as {young}: she is treated as a minor (probable) until papers prove otherwise"
                            ),
                        ));
                    }
                }
            }
        }
        if self.decision == IdentificationDecision::Victim && self.exploitation.is_empty() {
            return Err(ValidationError::new(
                "exploitation",
                "name the type of exploitation to identify her as a victim",
            ));
        }
        let child = self.minor_status.treated_as_minor();
        if self.decision == IdentificationDecision::Victim
            && !child
            && self.control_means.is_empty()
        {
            return Err(ValidationError::new(
                "control_means",
                "for an adult, name at least one means of control to identify her as a victim",
            ));
        }
        if self.decision == IdentificationDecision::NotVictim
            && child
            && !self.exploitation.is_empty()
        {
            return Err(ValidationError::new(
                "decision",
                "a child in exploitation is a victim whatever the means; choose victim, or pending if unsure",
            ));
        }
        Ok(self)
    }
}

fn parse_choice<T: Copy>(
    field: &'static str,
    input: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, ValidationError> {
    let wanted = input.trim().to_ascii_lowercase();
    all.iter()
        .copied()
        .find(|v| name(*v) == wanted)
        .ok_or_else(|| {
            ValidationError::new(
                field,
                format!(
                    "'{}' is not one of: {}",
                    input.trim(),
                    all.iter().map(|v| name(*v)).collect::<Vec<_>>().join(", ")
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ControlMeans::*;
    use ExploitationType::*;
    use IdentificationDecision::*;
    use MinorStatus::*;

    fn screening(
        minor: MinorStatus,
        means: &[ControlMeans],
        exploitation: &[ExploitationType],
        decision: IdentificationDecision,
    ) -> Screening {
        Screening {
            minor_status: minor,
            control_means: means.to_vec(),
            exploitation: exploitation.to_vec(),
            decision,
            reasons: "Found in a back room; says she owes the owner money.".into(),
        }
    }

    #[test]
    fn the_screening_rules_as_a_table() {
        let none = AgeEvidence::default();
        let estimated_16 = AgeEvidence {
            estimated_age: Some(16),
            ..AgeEvidence::default()
        };
        let papers_20 = AgeEvidence {
            documented_age: Some(20),
            estimated_age: Some(16),
            ..AgeEvidence::default()
        };
        let papers_17 = AgeEvidence {
            documented_age: Some(17),
            ..AgeEvidence::default()
        };
        // (screening, age evidence, Ok or the field refused)
        let table: Vec<(Screening, AgeEvidence, Result<(), &str>)> = vec![
            (
                screening(Certain, &[], &[SexualExploitation], Victim),
                none,
                Ok(()),
            ),
            (
                screening(Probable, &[], &[SexualExploitation], Victim),
                estimated_16,
                Ok(()),
            ),
            (
                screening(Adult, &[DebtBondage], &[SexualExploitation], Victim),
                papers_20,
                Ok(()),
            ),
            (
                screening(Adult, &[], &[SexualExploitation], Victim),
                papers_20,
                Err("control_means"),
            ),
            (
                screening(Adult, &[DebtBondage], &[], Victim),
                papers_20,
                Err("exploitation"),
            ),
            (
                screening(Adult, &[], &[], Pending),
                estimated_16,
                Err("minor_status"),
            ),
            (
                screening(Adult, &[], &[], NotVictim),
                papers_17,
                Err("minor_status"),
            ),
            (
                screening(Probable, &[], &[SexualExploitation], NotVictim),
                none,
                Err("decision"),
            ),
            (screening(Probable, &[], &[], Pending), none, Ok(())),
            (screening(Adult, &[], &[], NotVictim), papers_20, Ok(())),
        ];
        for (s, age, expected) in table {
            let label = format!("{s:?} {age:?}");
            let got = s.checked(age).map(|_| ()).map_err(|e| e.field);
            assert_eq!(got, expected, "{label}");
        }
    }

    #[test]
    fn a_probable_minor_is_treated_as_a_minor() {
        assert!(Probable.treated_as_minor());
        assert!(Certain.treated_as_minor());
        assert!(!Adult.treated_as_minor());
    }

    #[test]
    fn reasons_are_required_and_lists_deduplicated() {
        let mut s = screening(
            Certain,
            &[DebtBondage, DebtBondage],
            &[ForcedLabour],
            Victim,
        );
        let ok = s.clone().checked(AgeEvidence::default()).unwrap();
        assert_eq!(ok.control_means, vec![DebtBondage]);
        s.reasons = "  ".into();
        assert_eq!(
            s.checked(AgeEvidence::default()).unwrap_err().field,
            "reasons"
        );
        assert!(ControlMeans::parse("owes money")
            .unwrap_err()
            .message
            .contains("debt_bondage"));
    }
}
