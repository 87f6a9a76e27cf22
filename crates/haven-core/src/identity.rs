//! Second-factor rules: who must use a TOTP authenticator app.

use crate::role::{Role, Roles};

/// Whether and for whom a second factor is required, from the instance settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpPolicy {
    /// Everyone must use a second factor, not only the roles that can change the most.
    pub required_for_all: bool,
    /// Off only for demos and trials: nobody is forced to enrol (those who have enrolled are
    /// still asked for their code).
    pub enforced: bool,
}

impl Default for TotpPolicy {
    fn default() -> Self {
        Self {
            required_for_all: false,
            enforced: true,
        }
    }
}

/// Roles whose accounts can change users, approvals or legal records: a stolen password
/// alone must not be enough for them.
pub const TOTP_ROLES: [Role; 3] = [Role::Admin, Role::Manager, Role::Legal];

impl TotpPolicy {
    /// True when an account with these roles must have a second factor.
    pub fn required_for(&self, roles: &Roles) -> bool {
        self.enforced && (self.required_for_all || roles.iter().any(|r| TOTP_ROLES.contains(&r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(list: &[Role]) -> Roles {
        Roles::new(list.to_vec()).unwrap()
    }

    #[test]
    fn powerful_roles_need_a_second_factor() {
        let p = TotpPolicy::default();
        assert!(p.required_for(&roles(&[Role::Admin])));
        assert!(p.required_for(&roles(&[Role::Legal])));
        assert!(p.required_for(&roles(&[Role::Manager])));
        assert!(!p.required_for(&roles(&[Role::Aftercare])));
    }

    #[test]
    fn everyone_when_asked_and_nobody_when_enforcement_is_off() {
        let all = TotpPolicy {
            required_for_all: true,
            enforced: true,
        };
        assert!(all.required_for(&roles(&[Role::Partner])));
        let off = TotpPolicy {
            required_for_all: true,
            enforced: false,
        };
        assert!(!off.required_for(&roles(&[Role::Admin])));
    }
}
