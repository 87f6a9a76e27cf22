//! The access policy for survivor records: one pure function decides, for a user, an action,
//! a record and (for field access) a sensitivity class, whether to allow it and why.
//!
//! The store calls it for every field it would return, so a field the policy refuses never
//! leaves the store. Compartments (DOMAIN.md): investigators never see aftercare data;
//! administrators and auditors manage the system, not survivors; partner staff see only the
//! classes a survivor consented to share with their organisation; legal staff only what she
//! consented to share for her case. Break-glass opens a record outside one's assignment for a
//! limited time, with a written reason, but never the medical class: an HIV status must not
//! leak through an emergency.

use crate::survivor::FieldClass;
use crate::{OrgId, OrgKind, Role, Roles, UserId};
use chrono::{DateTime, Duration, Utc};

/// How long break-glass access lasts.
pub const BREAK_GLASS_DURATION: Duration = Duration::hours(4);

/// The user asking.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub user: UserId,
    pub org: OrgId,
    pub org_kind: OrgKind,
    pub roles: &'a Roles,
}

/// What is known about a record, relative to sharing and assignment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFacts {
    /// The organisation responsible for the survivor (the own organisation).
    pub owner_org: Option<OrgId>,
    /// The caseworkers assigned to her (her team).
    pub assignees: Vec<UserId>,
    /// Partner organisations she consented to share with, and which classes.
    pub partner_shares: Vec<(OrgId, Vec<FieldClass>)>,
    /// Classes she consented to share for the legal case.
    pub legal_classes: Vec<FieldClass>,
    /// Until when the asking user holds break-glass access to this record, if at all.
    pub break_glass_until: Option<DateTime<Utc>>,
    /// Aftercare staff on duty now (their shift, give or take the hand-over margin) on the
    /// roster of the intervention she was rescued in, while she is still in crisis care: the
    /// team at the police station cares for every girl, day and night.
    pub crisis_team: Vec<UserId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Know the record exists (see its reference in a list).
    See,
    /// Read fields of a class.
    Read(FieldClass),
    /// Change fields of a class of her record (what she told the team, how to reach her
    /// family, her immediate needs), which the crisis team revises as her story comes out.
    Write(FieldClass),
    /// Change her long-term case: her plan, services, case notes, risk, incidents,
    /// follow-ups, closing or re-opening it. Her assigned caseworkers only: the crisis team
    /// cares for her at the police station, it does not decide her next years.
    ManageCase,
    /// Register a new survivor.
    Create,
    /// Change who is assigned.
    Reassign,
    /// Record or withdraw her consent to share.
    Share,
    /// Ask for break-glass access.
    BreakGlass,
    /// Destroy her data key (crypto-shredding).
    Erase,
    /// Read the result of a medical service (an STI/HIV test, a diagnosis): the most sensitive
    /// class, for her assigned caseworker only — not the crisis team, a manager, break-glass,
    /// legal staff or any partner.
    ReadMedicalResult,
    /// Read a case note marked confidential: her assigned caseworkers only.
    ReadConfidential,
}

/// Why access was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Assigned,
    /// On shift on the roster of her intervention while she is in crisis care; opens crisis
    /// care and her record, never the management of her long-term case.
    CrisisTeam,
    ManagerOversight,
    LegalConsent,
    PartnerConsent,
    BreakGlass,
    Role,
}

/// Why access was refused, in words for the audit log and for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The role never handles survivor records (admin, investigator, auditor).
    Compartment,
    /// Not assigned to this survivor, and no break-glass in force.
    NotAssigned,
    /// She has not consented to share this with the user's organisation or purpose.
    NoConsent,
    /// Medical information is only for her assigned caseworkers.
    MedicalRestricted,
    /// The record belongs to another organisation.
    OtherOrganisation,
    /// The action needs a role the user does not have.
    RoleRequired,
}

impl Refusal {
    pub const fn message(self) -> &'static str {
        match self {
            Refusal::Compartment => "your role does not work with survivor records",
            Refusal::NotAssigned => "you are not assigned to this survivor",
            Refusal::NoConsent => "she has not consented to share this with you",
            Refusal::MedicalRestricted => {
                "medical information is only for her assigned caseworkers"
            }
            Refusal::OtherOrganisation => "this record belongs to another organisation",
            Refusal::RoleRequired => "your role does not allow this",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow(Grant),
    Deny(Refusal),
}

impl Decision {
    pub const fn is_allowed(self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}

const CARE_ROLES: [Role; 3] = [Role::Aftercare, Role::Legal, Role::Manager];

/// Decides one access. Pure and allocation-free: it runs for every field of every record read.
pub fn decide(
    subject: &Subject<'_>,
    action: Action,
    record: &RecordFacts,
    now: DateTime<Utc>,
) -> Decision {
    let roles = subject.roles;
    let same_org = record.owner_org == Some(subject.org) && subject.org_kind == OrgKind::Own;
    let has = |r: Role| roles.contains(r);
    let works_with_survivors = CARE_ROLES.into_iter().any(has) || has(Role::Partner);
    if !works_with_survivors {
        return Decision::Deny(Refusal::Compartment);
    }
    let assigned = same_org && has(Role::Aftercare) && record.assignees.contains(&subject.user);
    let crisis_team =
        same_org && has(Role::Aftercare) && record.crisis_team.contains(&subject.user);
    let manager = same_org && has(Role::Manager);
    let partner_classes = if has(Role::Partner) && subject.org_kind == OrgKind::Partner {
        record
            .partner_shares
            .iter()
            .find(|(org, _)| *org == subject.org)
            .map(|(_, classes)| classes.as_slice())
    } else {
        None
    };
    let legal = same_org && has(Role::Legal);
    let break_glass = same_org
        && CARE_ROLES.into_iter().any(has)
        && record.break_glass_until.is_some_and(|until| now < until);

    match action {
        Action::Read(class) => {
            if assigned {
                return Decision::Allow(Grant::Assigned);
            }
            if crisis_team {
                return Decision::Allow(Grant::CrisisTeam);
            }
            if let Some(classes) = partner_classes {
                if classes.contains(&class) {
                    return Decision::Allow(Grant::PartnerConsent);
                }
            }
            if legal && record.legal_classes.contains(&class) {
                return Decision::Allow(Grant::LegalConsent);
            }
            if manager && class == FieldClass::Identity {
                return Decision::Allow(Grant::ManagerOversight);
            }
            if class == FieldClass::Medical && (same_org || partner_classes.is_some()) {
                return Decision::Deny(Refusal::MedicalRestricted);
            }
            if break_glass {
                return Decision::Allow(Grant::BreakGlass);
            }
            if partner_classes.is_some() || legal {
                return Decision::Deny(Refusal::NoConsent);
            }
            if same_org {
                Decision::Deny(Refusal::NotAssigned)
            } else {
                Decision::Deny(Refusal::OtherOrganisation)
            }
        }
        Action::Write(class) => {
            if assigned {
                Decision::Allow(Grant::Assigned)
            } else if crisis_team {
                Decision::Allow(Grant::CrisisTeam)
            } else if legal
                && class == FieldClass::LegalStatement
                && record.legal_classes.contains(&class)
            {
                Decision::Allow(Grant::LegalConsent)
            } else if same_org {
                Decision::Deny(Refusal::NotAssigned)
            } else {
                Decision::Deny(Refusal::OtherOrganisation)
            }
        }
        Action::See => {
            if assigned {
                Decision::Allow(Grant::Assigned)
            } else if crisis_team {
                Decision::Allow(Grant::CrisisTeam)
            } else if manager {
                Decision::Allow(Grant::ManagerOversight)
            } else if partner_classes.is_some_and(|c| !c.is_empty()) {
                Decision::Allow(Grant::PartnerConsent)
            } else if legal && !record.legal_classes.is_empty() {
                Decision::Allow(Grant::LegalConsent)
            } else if break_glass {
                Decision::Allow(Grant::BreakGlass)
            } else if same_org {
                Decision::Deny(Refusal::NotAssigned)
            } else {
                Decision::Deny(Refusal::OtherOrganisation)
            }
        }
        Action::Create => {
            if subject.org_kind == OrgKind::Own && (has(Role::Aftercare) || has(Role::Manager)) {
                Decision::Allow(Grant::Role)
            } else {
                Decision::Deny(Refusal::RoleRequired)
            }
        }
        Action::Share => {
            if assigned {
                Decision::Allow(Grant::Assigned)
            } else if manager {
                Decision::Allow(Grant::ManagerOversight)
            } else {
                Decision::Deny(Refusal::NotAssigned)
            }
        }
        Action::ReadMedicalResult => {
            if assigned {
                Decision::Allow(Grant::Assigned)
            } else {
                Decision::Deny(Refusal::MedicalRestricted)
            }
        }
        Action::ManageCase => {
            if assigned {
                Decision::Allow(Grant::Assigned)
            } else if same_org {
                Decision::Deny(Refusal::NotAssigned)
            } else {
                Decision::Deny(Refusal::OtherOrganisation)
            }
        }
        Action::ReadConfidential => {
            if assigned {
                Decision::Allow(Grant::Assigned)
            } else {
                Decision::Deny(Refusal::NotAssigned)
            }
        }
        Action::Reassign | Action::Erase => {
            if manager {
                Decision::Allow(Grant::ManagerOversight)
            } else {
                Decision::Deny(Refusal::RoleRequired)
            }
        }
        Action::BreakGlass => {
            if same_org && CARE_ROLES.into_iter().any(has) {
                Decision::Allow(Grant::Role)
            } else if same_org || partner_classes.is_some() {
                Decision::Deny(Refusal::RoleRequired)
            } else {
                Decision::Deny(Refusal::OtherOrganisation)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn user(n: u128) -> UserId {
        UserId::from_uuid(Uuid::from_u128(n))
    }
    fn org(n: u128) -> OrgId {
        OrgId::from_uuid(Uuid::from_u128(1000 + n))
    }
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    const OWN: u128 = 0;
    const WORLD_HOPE: u128 = 1;
    const HAGAR: u128 = 2;
    const ASSIGNED: u128 = 10;
    const OTHER_CASEWORKER: u128 = 11;

    fn record() -> RecordFacts {
        RecordFacts {
            owner_org: Some(org(OWN)),
            assignees: vec![user(ASSIGNED)],
            partner_shares: vec![(
                org(WORLD_HOPE),
                vec![FieldClass::Identity, FieldClass::Contact],
            )],
            legal_classes: vec![FieldClass::Identity, FieldClass::LegalStatement],
            break_glass_until: None,
            crisis_team: Vec::new(),
        }
    }

    fn check(
        who: u128,
        roles: &str,
        at_org: u128,
        action: Action,
        record: &RecordFacts,
    ) -> Decision {
        let roles = Roles::parse_list(roles).unwrap();
        let kind = if at_org == OWN {
            OrgKind::Own
        } else {
            OrgKind::Partner
        };
        let subject = Subject {
            user: user(who),
            org: org(at_org),
            org_kind: kind,
            roles: &roles,
        };
        decide(&subject, action, record, now())
    }

    use Action::*;
    use FieldClass::*;

    #[test]
    fn the_policy_table() {
        let r = record();
        let allow = |g| Decision::Allow(g);
        let deny = |d| Decision::Deny(d);
        let table: Vec<(u128, &str, u128, Action, Decision)> = vec![
            // Her assigned caseworker: everything, medical included.
            (
                ASSIGNED,
                "aftercare",
                OWN,
                Read(Medical),
                allow(Grant::Assigned),
            ),
            (
                ASSIGNED,
                "aftercare",
                OWN,
                Write(Psychosocial),
                allow(Grant::Assigned),
            ),
            (ASSIGNED, "aftercare", OWN, Share, allow(Grant::Assigned)),
            // Another caseworker of the same organisation: nothing without break-glass.
            (
                OTHER_CASEWORKER,
                "aftercare",
                OWN,
                See,
                deny(Refusal::NotAssigned),
            ),
            (
                OTHER_CASEWORKER,
                "aftercare",
                OWN,
                Read(Identity),
                deny(Refusal::NotAssigned),
            ),
            (
                OTHER_CASEWORKER,
                "aftercare",
                OWN,
                Read(Medical),
                deny(Refusal::MedicalRestricted),
            ),
            (
                OTHER_CASEWORKER,
                "aftercare",
                OWN,
                BreakGlass,
                allow(Grant::Role),
            ),
            // Compartments.
            (20, "admin", OWN, Read(Identity), deny(Refusal::Compartment)),
            (21, "investigator", OWN, See, deny(Refusal::Compartment)),
            (
                22,
                "auditor",
                OWN,
                Read(Identity),
                deny(Refusal::Compartment),
            ),
            (
                21,
                "investigator",
                OWN,
                BreakGlass,
                deny(Refusal::Compartment),
            ),
            // Managers: identity for oversight, reassignment, erasure; not notes.
            (30, "manager", OWN, See, allow(Grant::ManagerOversight)),
            (
                30,
                "manager",
                OWN,
                Read(Identity),
                allow(Grant::ManagerOversight),
            ),
            (
                30,
                "manager",
                OWN,
                Read(Psychosocial),
                deny(Refusal::NotAssigned),
            ),
            (
                30,
                "manager",
                OWN,
                Read(Medical),
                deny(Refusal::MedicalRestricted),
            ),
            (30, "manager", OWN, Reassign, allow(Grant::ManagerOversight)),
            (30, "manager", OWN, Erase, allow(Grant::ManagerOversight)),
            (
                ASSIGNED,
                "aftercare",
                OWN,
                Erase,
                deny(Refusal::RoleRequired),
            ),
            // Legal: only what she consented to share for the case.
            (
                40,
                "legal",
                OWN,
                Read(LegalStatement),
                allow(Grant::LegalConsent),
            ),
            (
                40,
                "legal",
                OWN,
                Write(LegalStatement),
                allow(Grant::LegalConsent),
            ),
            (40, "legal", OWN, Read(Contact), deny(Refusal::NoConsent)),
            (
                40,
                "legal",
                OWN,
                Write(Identity),
                deny(Refusal::NotAssigned),
            ),
            // Partners: only their organisation, only the consented classes.
            (50, "partner", WORLD_HOPE, See, allow(Grant::PartnerConsent)),
            (
                50,
                "partner",
                WORLD_HOPE,
                Read(Contact),
                allow(Grant::PartnerConsent),
            ),
            (
                50,
                "partner",
                WORLD_HOPE,
                Read(Psychosocial),
                deny(Refusal::NoConsent),
            ),
            (
                50,
                "partner",
                WORLD_HOPE,
                Read(Medical),
                deny(Refusal::MedicalRestricted),
            ),
            (
                50,
                "partner",
                WORLD_HOPE,
                Write(Contact),
                deny(Refusal::OtherOrganisation),
            ),
            (
                50,
                "partner",
                WORLD_HOPE,
                BreakGlass,
                deny(Refusal::RoleRequired),
            ),
            (51, "partner", HAGAR, See, deny(Refusal::OtherOrganisation)),
            (
                51,
                "partner",
                HAGAR,
                Read(Identity),
                deny(Refusal::OtherOrganisation),
            ),
            // Creating records.
            (ASSIGNED, "aftercare", OWN, Create, allow(Grant::Role)),
            (
                50,
                "partner",
                WORLD_HOPE,
                Create,
                deny(Refusal::RoleRequired),
            ),
            (40, "legal", OWN, Create, deny(Refusal::RoleRequired)),
        ];
        for (who, roles, at, action, expected) in table {
            assert_eq!(
                check(who, roles, at, action, &r),
                expected,
                "{roles} #{who} {action:?}"
            );
        }
    }

    #[test]
    fn break_glass_opens_all_but_medical_and_expires() {
        let mut r = record();
        r.break_glass_until = Some(now() + Duration::minutes(5));
        assert_eq!(
            check(OTHER_CASEWORKER, "aftercare", OWN, Read(Psychosocial), &r),
            Decision::Allow(Grant::BreakGlass)
        );
        assert_eq!(
            check(OTHER_CASEWORKER, "aftercare", OWN, See, &r),
            Decision::Allow(Grant::BreakGlass)
        );
        assert_eq!(
            check(OTHER_CASEWORKER, "aftercare", OWN, Read(Medical), &r),
            Decision::Deny(Refusal::MedicalRestricted)
        );
        assert_eq!(
            check(OTHER_CASEWORKER, "aftercare", OWN, Write(Identity), &r),
            Decision::Deny(Refusal::NotAssigned)
        );
        r.break_glass_until = Some(now());
        assert_eq!(
            check(OTHER_CASEWORKER, "aftercare", OWN, Read(Identity), &r),
            Decision::Deny(Refusal::NotAssigned)
        );
    }

    #[test]
    fn withdrawn_consent_closes_the_partner_view() {
        let mut r = record();
        r.partner_shares.clear();
        assert_eq!(
            check(50, "partner", WORLD_HOPE, See, &r),
            Decision::Deny(Refusal::OtherOrganisation)
        );
    }

    #[test]
    fn a_partner_role_at_the_own_org_sees_nothing_through_it() {
        // Role "partner" only means something for staff of a partner organisation.
        assert_eq!(
            check(60, "partner", OWN, Read(Identity), &record()),
            Decision::Deny(Refusal::NotAssigned)
        );
    }

    #[test]
    fn the_crisis_team_cares_for_every_girl_of_its_intervention() {
        let mut r = record();
        r.crisis_team = vec![user(OTHER_CASEWORKER)];
        for action in [See, Read(Identity), Read(Medical), Write(Contact)] {
            assert_eq!(
                check(OTHER_CASEWORKER, "aftercare", OWN, action, &r),
                Decision::Allow(Grant::CrisisTeam),
                "{action:?}"
            );
        }
        // Being on a roster gives an investigator nothing, and ends with placement.
        assert_eq!(
            check(OTHER_CASEWORKER, "investigator", OWN, See, &r),
            Decision::Deny(Refusal::Compartment)
        );
        r.crisis_team.clear();
        assert_eq!(
            check(OTHER_CASEWORKER, "aftercare", OWN, Read(Identity), &r),
            Decision::Deny(Refusal::NotAssigned)
        );
    }

    #[test]
    fn the_crisis_grant_is_for_crisis_care_not_her_long_term_case() {
        let mut r = record();
        r.crisis_team = vec![user(OTHER_CASEWORKER)];
        let allow = |g| Decision::Allow(g);
        let deny = |d| Decision::Deny(d);
        // (who, roles, action, decision)
        let table: Vec<(u128, &str, Action, Decision)> = vec![
            // On shift: sees and revises her record, as care at the station needs.
            (OTHER_CASEWORKER, "aftercare", See, allow(Grant::CrisisTeam)),
            (
                OTHER_CASEWORKER,
                "aftercare",
                Read(Medical),
                allow(Grant::CrisisTeam),
            ),
            (
                OTHER_CASEWORKER,
                "aftercare",
                Write(Identity),
                allow(Grant::CrisisTeam),
            ),
            // Never her plan, services, notes, risk or closure, and never the most private.
            (
                OTHER_CASEWORKER,
                "aftercare",
                ManageCase,
                deny(Refusal::NotAssigned),
            ),
            (
                OTHER_CASEWORKER,
                "aftercare",
                ReadConfidential,
                deny(Refusal::NotAssigned),
            ),
            (
                OTHER_CASEWORKER,
                "aftercare",
                ReadMedicalResult,
                deny(Refusal::MedicalRestricted),
            ),
            (
                OTHER_CASEWORKER,
                "aftercare",
                Share,
                deny(Refusal::NotAssigned),
            ),
            (
                OTHER_CASEWORKER,
                "aftercare",
                Reassign,
                deny(Refusal::RoleRequired),
            ),
            // Her case is managed by her assigned caseworker alone.
            (ASSIGNED, "aftercare", ManageCase, allow(Grant::Assigned)),
            (30, "manager", ManageCase, deny(Refusal::NotAssigned)),
            (40, "legal", ManageCase, deny(Refusal::NotAssigned)),
            (20, "investigator", ManageCase, deny(Refusal::Compartment)),
        ];
        for (who, roles, action, expected) in table {
            assert_eq!(
                check(who, roles, OWN, action, &r),
                expected,
                "{roles} #{who} {action:?}"
            );
        }
        assert_eq!(
            check(50, "partner", WORLD_HOPE, ManageCase, &r),
            Decision::Deny(Refusal::OtherOrganisation)
        );
        // Off shift (the store leaves her out of the crisis team), nothing at all.
        r.crisis_team.clear();
        for action in [See, Read(Identity), Write(Identity), ManageCase] {
            assert!(
                !check(OTHER_CASEWORKER, "aftercare", OWN, action, &r).is_allowed(),
                "{action:?}"
            );
        }
    }

    #[test]
    fn medical_results_and_confidential_notes_are_for_her_caseworker_only() {
        let mut r = record();
        r.partner_shares = vec![(org(WORLD_HOPE), FieldClass::ALL.to_vec())];
        r.legal_classes = FieldClass::ALL.to_vec();
        r.crisis_team = vec![user(12)];
        r.break_glass_until = Some(now() + Duration::hours(1));
        for action in [ReadMedicalResult, ReadConfidential] {
            assert!(check(ASSIGNED, "aftercare", OWN, action, &r).is_allowed());
            for (who, roles, at) in [
                (12, "aftercare", OWN),
                (OTHER_CASEWORKER, "aftercare", OWN),
                (30, "manager", OWN),
                (40, "legal", OWN),
                (20, "investigator", OWN),
                (50, "partner", WORLD_HOPE),
                (60, "admin", OWN),
                (70, "auditor", OWN),
            ] {
                assert!(
                    !check(who, roles, at, action, &r).is_allowed(),
                    "{roles} must not {action:?}"
                );
            }
        }
    }
}
