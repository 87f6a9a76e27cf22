//! The navigation each role sees. Compartments start here: an investigator is never offered
//! aftercare pages, and aftercare staff are never offered intelligence files.

use crate::{Role, Roles};

/// A top-level section of the web application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Home,
    Investigations,
    Interventions,
    Survivors,
    Referrals,
    Partners,
    LegalCases,
    Reports,
    Audit,
    Users,
}

impl Section {
    /// Fluent message ID of the section's label.
    pub const fn label_key(self) -> &'static str {
        match self {
            Section::Home => "nav-home",
            Section::Investigations => "nav-investigations",
            Section::Interventions => "nav-interventions",
            Section::Survivors => "nav-survivors",
            Section::Referrals => "nav-referrals",
            Section::Partners => "nav-partners",
            Section::LegalCases => "nav-legal-cases",
            Section::Reports => "nav-reports",
            Section::Audit => "nav-audit",
            Section::Users => "nav-users",
        }
    }

    pub const fn path(self) -> &'static str {
        match self {
            Section::Home => "/",
            Section::Investigations => "/investigations",
            Section::Interventions => "/interventions",
            Section::Survivors => "/survivors",
            Section::Referrals => "/referrals",
            Section::Partners => "/partners",
            Section::LegalCases => "/legal",
            Section::Reports => "/reports",
            Section::Audit => "/audit",
            Section::Users => "/users",
        }
    }

    const ORDER: [Section; 10] = [
        Section::Home,
        Section::Investigations,
        Section::Interventions,
        Section::Survivors,
        Section::Referrals,
        Section::Partners,
        Section::LegalCases,
        Section::Reports,
        Section::Audit,
        Section::Users,
    ];
}

fn role_sections(role: Role) -> &'static [Section] {
    use Section::*;
    match role {
        Role::Admin => &[Partners, Users],
        Role::Investigator => &[Investigations, Interventions],
        Role::Aftercare => &[Interventions, Survivors, Referrals, Partners],
        Role::Legal => &[LegalCases, Survivors],
        Role::Manager => &[Interventions, Survivors, Referrals, Partners, Reports],
        Role::Partner => &[Referrals],
        Role::Auditor => &[Audit],
    }
}

/// The sections offered to a user, in a fixed order, each once; Home is always first.
pub fn sections_for(roles: &Roles) -> Vec<Section> {
    Section::ORDER
        .into_iter()
        .filter(|s| *s == Section::Home || roles.iter().any(|r| role_sections(r).contains(s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Section::*;

    fn for_roles(list: &str) -> Vec<Section> {
        sections_for(&Roles::parse_list(list).unwrap())
    }

    #[test]
    fn investigators_never_see_aftercare_sections() {
        let s = for_roles("investigator");
        assert_eq!(s, vec![Home, Investigations, Interventions]);
        assert!(!s.contains(&Survivors));
    }

    #[test]
    fn aftercare_never_sees_intelligence() {
        assert!(!for_roles("aftercare").contains(&Investigations));
    }

    #[test]
    fn partner_staff_see_only_referrals() {
        assert_eq!(for_roles("partner"), vec![Home, Referrals]);
    }

    #[test]
    fn admins_see_no_survivor_section() {
        assert_eq!(for_roles("admin"), vec![Home, Partners, Users]);
    }

    #[test]
    fn several_roles_merge_without_duplicates() {
        assert_eq!(
            for_roles("aftercare,manager"),
            vec![Home, Interventions, Survivors, Referrals, Partners, Reports]
        );
    }
}
