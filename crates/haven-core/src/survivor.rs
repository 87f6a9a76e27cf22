//! The survivor record's fields and how sensitive each one is.
//!
//! Every field belongs to one sensitivity class; the access policy decides per class, and the
//! store encrypts every field. Adding a field means adding it here, with its class.

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// How sensitive a field is. The policy grants or refuses access per class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldClass {
    /// Who she is: names, aliases, date of birth.
    Identity,
    /// How to reach her or her family.
    Contact,
    /// Medical needs and results (HIV status must never leak).
    Medical,
    /// Counselling and psychosocial notes.
    Psychosocial,
    /// Her statement for the legal process.
    LegalStatement,
}

impl FieldClass {
    pub const ALL: [FieldClass; 5] = [
        FieldClass::Identity,
        FieldClass::Contact,
        FieldClass::Medical,
        FieldClass::Psychosocial,
        FieldClass::LegalStatement,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            FieldClass::Identity => "identity",
            FieldClass::Contact => "contact",
            FieldClass::Medical => "medical",
            FieldClass::Psychosocial => "psychosocial",
            FieldClass::LegalStatement => "legal_statement",
        }
    }

    pub fn parse(input: &str) -> Result<FieldClass, ValidationError> {
        FieldClass::ALL
            .into_iter()
            .find(|c| c.as_str() == input.trim())
            .ok_or_else(|| {
                ValidationError::new(
                    "classes",
                    format!(
                        "'{}' is not a kind of information; choose from: {}",
                        input.trim(),
                        FieldClass::ALL.map(FieldClass::as_str).join(", ")
                    ),
                )
            })
    }

    /// Parses a comma-separated list, sorted and without duplicates.
    pub fn parse_list(input: &str) -> Result<Vec<FieldClass>, ValidationError> {
        let mut classes = input
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(FieldClass::parse)
            .collect::<Result<Vec<_>, _>>()?;
        classes.sort();
        classes.dedup();
        Ok(classes)
    }

    pub fn join(classes: &[FieldClass]) -> String {
        classes
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A field of the survivor record. All are stored encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurvivorField {
    Name,
    Aliases,
    DateOfBirth,
    Phone,
    FamilyContact,
    MedicalNotes,
    PsychosocialNotes,
    Statement,
    /// `female`, `male` or `other`.
    Sex,
    /// The age she gives, in whole years.
    StatedAge,
    /// The age staff estimate when she has no papers, in whole years.
    EstimatedAge,
    /// How the age was estimated (appearance, dental check, school records...).
    AgeEstimateMethod,
    Nationality,
    /// Language codes she speaks, e.g. `vi` or `km,en`.
    Languages,
    /// The language an interpreter is needed for; empty when none is needed.
    InterpreterLanguage,
    /// The province or region she comes from.
    HomeRegion,
    /// What needs a doctor now (injuries, pain, pregnancy, medication).
    ImmediateMedicalNeeds,
    /// Who recruited her: a neighbour, a relative, a boyfriend, a stranger...
    RecruiterRelationship,
    /// How she came to the venue: `deception`, `debt`, `family`, `job_offer`, `abduction`, `other`.
    RecruitmentFactors,
}

impl SurvivorField {
    pub const ALL: [SurvivorField; 19] = [
        SurvivorField::Name,
        SurvivorField::Aliases,
        SurvivorField::DateOfBirth,
        SurvivorField::Phone,
        SurvivorField::FamilyContact,
        SurvivorField::MedicalNotes,
        SurvivorField::PsychosocialNotes,
        SurvivorField::Statement,
        SurvivorField::Sex,
        SurvivorField::StatedAge,
        SurvivorField::EstimatedAge,
        SurvivorField::AgeEstimateMethod,
        SurvivorField::Nationality,
        SurvivorField::Languages,
        SurvivorField::InterpreterLanguage,
        SurvivorField::HomeRegion,
        SurvivorField::ImmediateMedicalNeeds,
        SurvivorField::RecruiterRelationship,
        SurvivorField::RecruitmentFactors,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            SurvivorField::Name => "name",
            SurvivorField::Aliases => "aliases",
            SurvivorField::DateOfBirth => "date_of_birth",
            SurvivorField::Phone => "phone",
            SurvivorField::FamilyContact => "family_contact",
            SurvivorField::MedicalNotes => "medical_notes",
            SurvivorField::PsychosocialNotes => "psychosocial_notes",
            SurvivorField::Statement => "statement",
            SurvivorField::Sex => "sex",
            SurvivorField::StatedAge => "stated_age",
            SurvivorField::EstimatedAge => "estimated_age",
            SurvivorField::AgeEstimateMethod => "age_estimate_method",
            SurvivorField::Nationality => "nationality",
            SurvivorField::Languages => "languages",
            SurvivorField::InterpreterLanguage => "interpreter_language",
            SurvivorField::HomeRegion => "home_region",
            SurvivorField::ImmediateMedicalNeeds => "immediate_medical_needs",
            SurvivorField::RecruiterRelationship => "recruiter_relationship",
            SurvivorField::RecruitmentFactors => "recruitment_factors",
        }
    }

    pub const fn class(self) -> FieldClass {
        match self {
            SurvivorField::Name
            | SurvivorField::Aliases
            | SurvivorField::DateOfBirth
            | SurvivorField::Sex
            | SurvivorField::StatedAge
            | SurvivorField::EstimatedAge
            | SurvivorField::AgeEstimateMethod
            | SurvivorField::Nationality
            | SurvivorField::Languages
            | SurvivorField::InterpreterLanguage
            | SurvivorField::HomeRegion => FieldClass::Identity,
            SurvivorField::Phone | SurvivorField::FamilyContact => FieldClass::Contact,
            SurvivorField::MedicalNotes | SurvivorField::ImmediateMedicalNeeds => {
                FieldClass::Medical
            }
            SurvivorField::PsychosocialNotes => FieldClass::Psychosocial,
            SurvivorField::Statement
            | SurvivorField::RecruiterRelationship
            | SurvivorField::RecruitmentFactors => FieldClass::LegalStatement,
        }
    }

    pub fn parse(input: &str) -> Option<SurvivorField> {
        SurvivorField::ALL
            .into_iter()
            .find(|f| f.as_str() == input.trim())
    }

    /// Checks a value for this field; returns it trimmed. Dates are ISO 8601 (YYYY-MM-DD).
    pub fn validate(self, value: &str) -> Result<String, ValidationError> {
        let value = value.trim();
        let max = match self {
            SurvivorField::MedicalNotes
            | SurvivorField::PsychosocialNotes
            | SurvivorField::Statement => 20_000,
            _ => 300,
        };
        if value.chars().count() > max {
            return Err(ValidationError::new(
                self.as_str(),
                format!("must be at most {max} characters"),
            ));
        }
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(ValidationError::new(
                self.as_str(),
                "cannot contain control characters",
            ));
        }
        if value.is_empty() {
            return Ok(String::new());
        }
        match self {
            SurvivorField::DateOfBirth => {
                chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
                    ValidationError::new(self.as_str(), "must be a date written as YYYY-MM-DD")
                })?;
                Ok(value.to_owned())
            }
            SurvivorField::Sex => {
                let sex = value.to_lowercase();
                if SEXES.contains(&sex.as_str()) {
                    Ok(sex)
                } else {
                    Err(ValidationError::new(
                        self.as_str(),
                        "must be female, male or other",
                    ))
                }
            }
            SurvivorField::StatedAge | SurvivorField::EstimatedAge => match value.parse::<u8>() {
                Ok(age) if age <= 120 => Ok(age.to_string()),
                _ => Err(ValidationError::new(
                    self.as_str(),
                    "must be an age in whole years, from 0 to 120",
                )),
            },
            SurvivorField::Languages => Ok(parse_languages(self.as_str(), value)?.join(",")),
            SurvivorField::InterpreterLanguage => {
                let codes = parse_languages(self.as_str(), value)?;
                if codes.len() > 1 {
                    return Err(ValidationError::new(
                        self.as_str(),
                        "name one language the interpreter is needed for",
                    ));
                }
                Ok(codes.join(","))
            }
            SurvivorField::RecruitmentFactors => {
                let mut factors = Vec::new();
                for item in value.split(',').map(|f| f.trim().to_lowercase()) {
                    if item.is_empty() {
                        continue;
                    }
                    if !RECRUITMENT_FACTORS.contains(&item.as_str()) {
                        return Err(ValidationError::new(
                            self.as_str(),
                            format!(
                                "'{item}' is not a recruitment factor; choose from: {}",
                                RECRUITMENT_FACTORS.join(", ")
                            ),
                        ));
                    }
                    if !factors.contains(&item) {
                        factors.push(item);
                    }
                }
                Ok(factors.join(","))
            }
            _ => Ok(value.to_owned()),
        }
    }
}

/// Values accepted for [`SurvivorField::Sex`].
pub const SEXES: [&str; 3] = ["female", "male", "other"];

/// Values accepted in [`SurvivorField::RecruitmentFactors`].
pub const RECRUITMENT_FACTORS: [&str; 6] = [
    "deception",
    "debt",
    "family",
    "job_offer",
    "abduction",
    "other",
];

/// Parses a comma-separated list of ISO 639 language codes (`km`, `vi`, `en`, `th`...), in
/// lowercase and without duplicates, keeping the order given.
pub fn parse_languages(field: &'static str, input: &str) -> Result<Vec<String>, ValidationError> {
    let mut codes: Vec<String> = Vec::new();
    for code in input.split(',').map(|c| c.trim().to_lowercase()) {
        if code.is_empty() {
            continue;
        }
        if !(2..=3).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(ValidationError::new(
                field,
                format!("'{code}' is not a language code; write codes such as km, vi or en"),
            ));
        }
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    Ok(codes)
}

/// Her age in whole years on `day`, from her date of birth.
pub fn age_on(date_of_birth: chrono::NaiveDate, day: chrono::NaiveDate) -> Option<u32> {
    day.years_since(date_of_birth)
}

/// Checks the fields of an intake against each other, on the day of entry: a date of birth
/// in the future, or a stated age that contradicts the date of birth by more than a year.
pub fn check_intake(
    fields: &std::collections::BTreeMap<SurvivorField, String>,
    today: chrono::NaiveDate,
) -> Result<(), ValidationError> {
    let Some(dob) = fields
        .get(&SurvivorField::DateOfBirth)
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    else {
        return Ok(());
    };
    let Some(age) = age_on(dob, today) else {
        return Err(ValidationError::new(
            "date_of_birth",
            "is in the future; check the year",
        ));
    };
    if let Some(stated) = fields
        .get(&SurvivorField::StatedAge)
        .and_then(|a| a.parse::<u32>().ok())
    {
        if stated.abs_diff(age) > 1 {
            return Err(ValidationError::new(
                "stated_age",
                format!(
                    "{stated} does not match the date of birth {dob} (that makes her {age}); correct one of them, or leave the date of birth empty if it is not known"
                ),
            ));
        }
    }
    Ok(())
}

/// A survivor's reference code, used instead of her name wherever a name is not needed (a girl
/// may refuse to give her name): 2 to 40 letters, digits and dashes, e.g. `PP-2026-014`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reference(String);

impl Reference {
    pub fn parse(input: &str) -> Result<Reference, ValidationError> {
        let value = input.trim().to_ascii_uppercase();
        let ok = (2..=40).contains(&value.len())
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(ValidationError::new(
                "reference",
                "a reference is 2 to 40 letters, digits or dashes, such as PP-2026-014",
            ));
        }
        Ok(Reference(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Reference {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Reference::parse(&value)
    }
}

impl From<Reference> for String {
    fn from(value: Reference) -> Self {
        value.0
    }
}

/// Normalises a name for exact look-up through a blind index: case, spacing and Unicode
/// composition must not matter, so "Sreymom  KEO" finds "sreymom keo".
pub fn normalise_name(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let composed: String = name.nfc().collect();
    composed
        .split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Normalises a Cambodian or Vietnamese phone number to E.164 (`+855...`, `+84...`) for exact
/// look-up; other international numbers keep their country code; returns `None` for anything
/// that cannot be a phone number (E.164: a country code never starts with 0, and a number has
/// 6 to 15 digits).
pub fn normalise_phone(phone: &str) -> Option<String> {
    let trimmed = phone.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return None;
    }
    // "+855 ...", "(+855) ..." are written with their country code.
    let international = trimmed.trim_start_matches(['(', ' ']).starts_with('+');
    let e164 = if international {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else {
        // A national number with a leading 0 is taken as Cambodian.
        format!("855{}", digits.strip_prefix('0')?)
    };
    ((6..=15).contains(&e164.len()) && !e164.starts_with('0')).then(|| format!("+{e164}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_class_and_round_trips() {
        for field in SurvivorField::ALL {
            assert_eq!(SurvivorField::parse(field.as_str()), Some(field));
        }
        assert_eq!(SurvivorField::MedicalNotes.class(), FieldClass::Medical);
        assert_eq!(SurvivorField::parse("hiv_status"), None);
    }

    #[test]
    fn values_are_checked() {
        assert!(SurvivorField::DateOfBirth.validate("2011-02-30").is_err());
        assert_eq!(
            SurvivorField::DateOfBirth.validate(" 2011-02-03 ").unwrap(),
            "2011-02-03"
        );
        assert!(SurvivorField::Name.validate(&"x".repeat(301)).is_err());
        assert!(SurvivorField::Statement
            .validate("line one\nline two")
            .is_ok());
        assert!(SurvivorField::Name.validate("bad\u{0000}name").is_err());
    }

    #[test]
    fn intake_values_are_normalised_or_refused() {
        assert_eq!(SurvivorField::Sex.validate("Female").unwrap(), "female");
        assert!(SurvivorField::Sex.validate("girl").is_err());
        assert_eq!(SurvivorField::StatedAge.validate(" 14 ").unwrap(), "14");
        assert!(SurvivorField::EstimatedAge.validate("about 15").is_err());
        assert!(SurvivorField::StatedAge.validate("130").is_err());
        assert_eq!(
            SurvivorField::Languages.validate("VI, km ,vi").unwrap(),
            "vi,km"
        );
        assert!(SurvivorField::Languages.validate("Vietnamese").is_err());
        assert!(SurvivorField::InterpreterLanguage
            .validate("vi,km")
            .is_err());
        assert_eq!(
            SurvivorField::RecruitmentFactors
                .validate("debt, Family")
                .unwrap(),
            "debt,family"
        );
        assert!(SurvivorField::RecruitmentFactors
            .validate("bad luck")
            .is_err());
        assert_eq!(SurvivorField::StatedAge.validate("").unwrap(), "");
    }

    #[test]
    fn intake_fields_must_agree() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let intake = |dob: &str, age: &str| {
            let mut m = std::collections::BTreeMap::new();
            m.insert(SurvivorField::DateOfBirth, dob.to_owned());
            m.insert(SurvivorField::StatedAge, age.to_owned());
            check_intake(&m, today)
        };
        assert!(intake("2012-03-01", "14").is_ok());
        assert!(intake("2012-03-01", "15").is_ok(), "a year's slack");
        let err = intake("2012-03-01", "19").unwrap_err();
        assert_eq!(err.field, "stated_age");
        assert!(err.message.contains("makes her 14"));
        assert_eq!(intake("2027-01-01", "").unwrap_err().field, "date_of_birth");
    }

    #[test]
    fn references_are_plain_codes() {
        assert_eq!(
            Reference::parse(" pp-2026-014 ").unwrap().as_str(),
            "PP-2026-014"
        );
        assert!(Reference::parse("Srey Mom").is_err());
    }

    #[test]
    fn class_lists_parse() {
        assert_eq!(
            FieldClass::parse_list("contact, identity,identity").unwrap(),
            vec![FieldClass::Identity, FieldClass::Contact]
        );
        assert!(FieldClass::parse_list("everything")
            .unwrap_err()
            .message
            .contains("identity"));
    }

    #[test]
    fn names_and_phones_normalise_for_lookup() {
        assert_eq!(normalise_name("  Sreymom   KEO "), "sreymom keo");
        assert_eq!(
            normalise_phone("012 345 678").as_deref(),
            Some("+85512345678")
        );
        assert_eq!(
            normalise_phone("+84 91 234 5678").as_deref(),
            Some("+84912345678")
        );
        assert_eq!(
            normalise_phone("0084912345678").as_deref(),
            Some("+84912345678")
        );
        assert_eq!(normalise_phone("call me"), None);
    }
}
