//! Staff roles. Access is decided per role (and later per assignment and field); a user may
//! hold several roles.

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Users, partners, configuration; no survivor data by default.
    Admin,
    /// Intelligence and operations; never aftercare or medical notes.
    Investigator,
    /// Survivors assigned to them or their team.
    Aftercare,
    /// Legal cases and what survivors consented to share for them.
    Legal,
    /// Aggregates, approvals, reassignment.
    Manager,
    /// Staff of a partner NGO: only survivors referred to their organisation.
    Partner,
    /// The audit log.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Investigator,
        Role::Aftercare,
        Role::Legal,
        Role::Manager,
        Role::Partner,
        Role::Auditor,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Investigator => "investigator",
            Role::Aftercare => "aftercare",
            Role::Legal => "legal",
            Role::Manager => "manager",
            Role::Partner => "partner",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(input: &str) -> Result<Role, ValidationError> {
        let wanted = input.trim().to_ascii_lowercase();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or_else(|| {
                ValidationError::new(
                    "role",
                    format!(
                        "'{}' is not a role; choose one of: {}",
                        input.trim(),
                        Role::ALL.map(Role::as_str).join(", ")
                    ),
                )
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-empty, sorted, duplicate-free set of roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Role>", into = "Vec<Role>")]
pub struct Roles(Vec<Role>);

impl Roles {
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Result<Roles, ValidationError> {
        let mut roles: Vec<Role> = roles.into_iter().collect();
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(ValidationError::new(
                "roles",
                "a user needs at least one role",
            ));
        }
        Ok(Roles(roles))
    }

    /// Parses a comma-separated list such as `aftercare,manager`.
    pub fn parse_list(input: &str) -> Result<Roles, ValidationError> {
        let parsed = input
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(Role::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Roles::new(parsed)
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    pub fn as_slice(&self) -> &[Role] {
        &self.0
    }
}

impl TryFrom<Vec<Role>> for Roles {
    type Error = ValidationError;
    fn try_from(value: Vec<Role>) -> Result<Self, Self::Error> {
        Roles::new(value)
    }
}

impl From<Roles> for Vec<Role> {
    fn from(value: Roles) -> Self {
        value.0
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|r| r.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(Role::parse(" Legal "), Ok(Role::Legal));
    }

    #[test]
    fn unknown_role_lists_the_accepted_ones() {
        let err = Role::parse("janitor").unwrap_err();
        assert!(err.message.contains("'janitor' is not a role"));
        assert!(err.message.contains("aftercare"));
    }

    #[test]
    fn role_sets_are_sorted_and_deduplicated() {
        let roles = Roles::parse_list("manager, aftercare,manager").unwrap();
        assert_eq!(roles.as_slice(), &[Role::Aftercare, Role::Manager]);
        assert_eq!(roles.to_string(), "aftercare,manager");
    }

    #[test]
    fn empty_role_set_is_refused() {
        assert!(Roles::parse_list(" , ").is_err());
    }
}
