//! Staff accounts: usernames and display names, parsed at the edge.

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A login name: 3 to 64 characters of lowercase ASCII letters, digits, `.`, `_` and `-`,
/// starting with a letter or digit. Stored lowercase so look-ups are exact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(input: &str) -> Result<Username, ValidationError> {
        let name = input.trim().to_ascii_lowercase();
        if name.len() < 3 || name.len() > 64 {
            return Err(ValidationError::new(
                "username",
                "a username must be 3 to 64 characters long",
            ));
        }
        let valid_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        let starts_well = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if !valid_chars || !starts_well {
            return Err(ValidationError::new(
                "username",
                "a username may use only letters a-z, digits and . _ - and must start with a letter or digit",
            ));
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Username {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Username::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

/// The name shown for a staff member: 1 to 120 characters in any script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<DisplayName, ValidationError> {
        let name = input.trim();
        let len = name.chars().count();
        if len == 0 || len > 120 {
            return Err(ValidationError::new(
                "display_name",
                "a display name must be 1 to 120 characters long",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "display_name",
                "a display name cannot contain control characters",
            ));
        }
        Ok(DisplayName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        DisplayName::parse(&value)
    }
}

impl From<DisplayName> for String {
    fn from(value: DisplayName) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised() {
        assert_eq!(
            Username::parse(" Partner-WorldHope ").unwrap().as_str(),
            "partner-worldhope"
        );
    }

    #[test]
    fn bad_usernames_are_refused() {
        for bad in ["ab", "-lead", "sok dara", "ដារ៉ា", "a/b", &"x".repeat(65)] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn display_names_accept_khmer_and_vietnamese() {
        assert!(DisplayName::parse("សុខ ដារ៉ា").is_ok());
        assert!(DisplayName::parse("Nguyễn Thị Lan").is_ok());
        assert!(DisplayName::parse("   ").is_err());
    }
}
