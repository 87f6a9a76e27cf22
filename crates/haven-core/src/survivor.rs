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
}

impl SurvivorField {
    pub const ALL: [SurvivorField; 8] = [
        SurvivorField::Name,
        SurvivorField::Aliases,
        SurvivorField::DateOfBirth,
        SurvivorField::Phone,
        SurvivorField::FamilyContact,
        SurvivorField::MedicalNotes,
        SurvivorField::PsychosocialNotes,
        SurvivorField::Statement,
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
        }
    }

    pub const fn class(self) -> FieldClass {
        match self {
            SurvivorField::Name | SurvivorField::Aliases | SurvivorField::DateOfBirth => {
                FieldClass::Identity
            }
            SurvivorField::Phone | SurvivorField::FamilyContact => FieldClass::Contact,
            SurvivorField::MedicalNotes => FieldClass::Medical,
            SurvivorField::PsychosocialNotes => FieldClass::Psychosocial,
            SurvivorField::Statement => FieldClass::LegalStatement,
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
        if self == SurvivorField::DateOfBirth && !value.is_empty() {
            chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
                ValidationError::new(self.as_str(), "must be a date written as YYYY-MM-DD")
            })?;
        }
        Ok(value.to_owned())
    }
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
    name.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Normalises a Cambodian or Vietnamese phone number to E.164 (`+855...`, `+84...`) for exact
/// look-up; other international numbers keep their `+`; returns `None` for non-numbers.
pub fn normalise_phone(phone: &str) -> Option<String> {
    let trimmed = phone.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 || digits.len() > 15 {
        return None;
    }
    if trimmed.starts_with('+') {
        return Some(format!("+{digits}"));
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return Some(format!("+{rest}"));
    }
    // A national number with a leading 0 is taken as Cambodian.
    digits.strip_prefix('0').map(|rest| format!("+855{rest}"))
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
