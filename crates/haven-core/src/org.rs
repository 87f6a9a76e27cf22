//! Organisations: the own organisation and the partner NGOs it refers survivors to.

use crate::ValidationError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    /// The organisation that runs this Haven instance.
    Own,
    /// A partner NGO that receives referrals.
    Partner,
}

impl OrgKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            OrgKind::Own => "own",
            OrgKind::Partner => "partner",
        }
    }

    pub fn parse(input: &str) -> Result<OrgKind, ValidationError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "own" => Ok(OrgKind::Own),
            "partner" => Ok(OrgKind::Partner),
            other => Err(ValidationError::new(
                "kind",
                format!("'{other}' is not an organisation kind; choose own or partner"),
            )),
        }
    }
}

/// An organisation's display name: 2 to 120 characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgName(String);

impl OrgName {
    pub fn parse(input: &str) -> Result<OrgName, ValidationError> {
        let name = input.trim();
        let len = name.chars().count();
        if !(2..=120).contains(&len) {
            return Err(ValidationError::new(
                "name",
                "an organisation name must be 2 to 120 characters long",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "name",
                "an organisation name cannot contain control characters",
            ));
        }
        Ok(OrgName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrgName {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        OrgName::parse(&value)
    }
}

impl From<OrgName> for String {
    fn from(value: OrgName) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(OrgName::parse("  Hagar ").unwrap().as_str(), "Hagar");
        assert!(OrgName::parse("H").is_err());
        assert!(OrgName::parse(&"x".repeat(121)).is_err());
        assert!(OrgName::parse("Rapha\u{0007}House").is_err());
    }

    #[test]
    fn kinds_parse() {
        assert_eq!(OrgKind::parse("Partner"), Ok(OrgKind::Partner));
        assert!(OrgKind::parse("shelter")
            .unwrap_err()
            .message
            .contains("own or partner"));
    }
}
