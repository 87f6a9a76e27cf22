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

/// Her consent to share classes of information with one partner organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerShare {
    pub org: OrgId,
    pub classes: Vec<FieldClass>,
    /// When she gave it.
    pub since: DateTime<Utc>,
}

/// What is known about a record, relative to sharing and assignment. The same facts answer
/// "may this user do this?" ([`decide`]) and "who may read her, and why?" ([`bases`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFacts {
    /// The organisation responsible for the survivor (the own organisation).
    pub owner_org: Option<OrgId>,
    /// The caseworkers assigned to her (her team).
    pub assignees: Vec<UserId>,
    /// Her consents in force to share with partner organisations (none withdrawn).
    pub partner_shares: Vec<PartnerShare>,
    /// Classes she consented to share for the legal case.
    pub legal_classes: Vec<FieldClass>,
    /// Since when she has consented to share for the legal case.
    pub legal_since: Option<DateTime<Utc>>,
    /// Break-glass grants on this record: who, and until when.
    pub break_glass: Vec<(UserId, DateTime<Utc>)>,
    /// Aftercare staff on duty now (their shift, give or take the hand-over margin) on the
    /// roster of the intervention she was rescued in, while she is still in crisis care: the
    /// team at the police station cares for every girl, day and night.
    pub crisis_team: Vec<UserId>,
    /// Partner organisations she has been admitted to (a placement or a service), and since
    /// when. Being in a partner's care grants nothing by itself: the partner reads her only
    /// through a consent in force.
    pub in_care_with: Vec<(OrgId, DateTime<Utc>)>,
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
    /// See who may read her record and why (her caseworker, her organisation's managers, and
    /// auditors, who check that access is what it should be).
    ListAccess,
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

/// One reason someone may read her record: the only way access is granted. [`bases`] lists
/// them from a record's facts, and [`decide`] allows an action only through one of them, so
/// "who can read her, and why" and the policy cannot disagree, and a basis that is withdrawn
/// (a consent, an assignment, a roster, an expired break-glass) leaves nothing behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis<'a> {
    /// Her assigned caseworker (aftercare staff of her organisation).
    Assigned { org: OrgId, user: UserId },
    /// On the roster of her intervention while she is in crisis care.
    CrisisTeam { org: OrgId, user: UserId },
    /// She consented to share these classes with a partner organisation, since then.
    PartnerConsent {
        org: OrgId,
        classes: &'a [FieldClass],
        since: DateTime<Utc>,
    },
    /// She consented to share these classes for the legal case (her organisation's lawyers).
    LegalConsent {
        org: OrgId,
        classes: &'a [FieldClass],
        since: Option<DateTime<Utc>>,
    },
    /// Managers of her organisation: who she is, for oversight and reassignment.
    ManagerOversight { org: OrgId },
    /// Emergency access by one person of her organisation, until it expires.
    BreakGlass {
        org: OrgId,
        user: UserId,
        until: DateTime<Utc>,
    },
    /// She is in a partner's care but no consent to share with it is in force: the partner
    /// keeps her reference and dates on the referral and reads none of her fields. Listed so
    /// her caseworker sees it and acts; it allows nothing.
    InCareWithoutConsent { org: OrgId, since: DateTime<Utc> },
}

/// Every basis on which someone may read her at `now`, in the order the policy prefers them
/// (the first that allows an action is the grant it reports). Allocation-free: `decide` walks
/// it for every field of every record read.
pub fn bases(record: &RecordFacts, now: DateTime<Utc>) -> impl Iterator<Item = Basis<'_>> + '_ {
    let own = record.owner_org;
    let assigned = own.into_iter().flat_map(move |org| {
        record
            .assignees
            .iter()
            .map(move |&user| Basis::Assigned { org, user })
    });
    let crisis = own.into_iter().flat_map(move |org| {
        record
            .crisis_team
            .iter()
            .map(move |&user| Basis::CrisisTeam { org, user })
    });
    let partners = record
        .partner_shares
        .iter()
        .filter(|s| !s.classes.is_empty())
        .map(|s| Basis::PartnerConsent {
            org: s.org,
            classes: &s.classes,
            since: s.since,
        });
    let legal = own
        .filter(|_| !record.legal_classes.is_empty())
        .map(|org| Basis::LegalConsent {
            org,
            classes: &record.legal_classes,
            since: record.legal_since,
        });
    let managers = own.map(|org| Basis::ManagerOversight { org });
    let break_glass = own.into_iter().flat_map(move |org| {
        record
            .break_glass
            .iter()
            .filter(move |(_, until)| now < *until)
            .map(move |&(user, until)| Basis::BreakGlass { org, user, until })
    });
    let in_care = record
        .in_care_with
        .iter()
        .filter(|(org, _)| {
            !record
                .partner_shares
                .iter()
                .any(|s| s.org == *org && !s.classes.is_empty())
        })
        .map(|&(org, since)| Basis::InCareWithoutConsent { org, since });
    assigned
        .chain(crisis)
        .chain(partners)
        .chain(legal)
        .chain(managers)
        .chain(break_glass)
        .chain(in_care)
}

impl Basis<'_> {
    /// Whether this basis is about `subject`: the person, or someone with the right role in
    /// the right organisation.
    pub fn holds_for(&self, subject: &Subject<'_>) -> bool {
        let has = |r: Role| subject.roles.contains(r);
        let own_staff = |org: OrgId| subject.org_kind == OrgKind::Own && subject.org == org;
        let partner_staff = |org: OrgId| {
            subject.org_kind == OrgKind::Partner && subject.org == org && has(Role::Partner)
        };
        match *self {
            Basis::Assigned { org, user } | Basis::CrisisTeam { org, user } => {
                own_staff(org) && subject.user == user && has(Role::Aftercare)
            }
            Basis::PartnerConsent { org, .. } | Basis::InCareWithoutConsent { org, .. } => {
                partner_staff(org)
            }
            Basis::LegalConsent { org, .. } => own_staff(org) && has(Role::Legal),
            Basis::ManagerOversight { org } => own_staff(org) && has(Role::Manager),
            Basis::BreakGlass { org, user, .. } => {
                own_staff(org) && subject.user == user && CARE_ROLES.into_iter().any(has)
            }
        }
    }

    /// What this basis allows, whoever holds it.
    pub fn allows(&self, action: Action) -> bool {
        use Action::*;
        match *self {
            Basis::Assigned { .. } => matches!(
                action,
                See | Read(_)
                    | Write(_)
                    | Share
                    | ReadMedicalResult
                    | ReadConfidential
                    | ManageCase
                    | ListAccess
            ),
            // Crisis care at the station: her record, never the management of her case.
            Basis::CrisisTeam { .. } => matches!(action, See | Read(_) | Write(_)),
            Basis::PartnerConsent { classes, .. } => match action {
                See => !classes.is_empty(),
                Read(class) => classes.contains(&class),
                _ => false,
            },
            Basis::LegalConsent { classes, .. } => match action {
                See => !classes.is_empty(),
                Read(class) => classes.contains(&class),
                Write(class) => class == FieldClass::LegalStatement && classes.contains(&class),
                _ => false,
            },
            // Managers supervise her case: who she is, and the psychosocial side they are
            // alerted about (risk, incidents, services and notes outside the medical area);
            // never medical information, her statement, contact details, medical results or
            // confidential notes.
            Basis::ManagerOversight { .. } => matches!(
                action,
                See | Read(FieldClass::Identity)
                    | Read(FieldClass::Psychosocial)
                    | Share
                    | Reassign
                    | Erase
                    | ListAccess
            ),
            Basis::BreakGlass { .. } => match action {
                See => true,
                Read(class) => class != FieldClass::Medical,
                _ => false,
            },
            Basis::InCareWithoutConsent { .. } => false,
        }
    }

    /// The grant `decide` reports for an action this basis allows.
    pub fn grant(&self) -> Option<Grant> {
        match self {
            Basis::Assigned { .. } => Some(Grant::Assigned),
            Basis::CrisisTeam { .. } => Some(Grant::CrisisTeam),
            Basis::PartnerConsent { .. } => Some(Grant::PartnerConsent),
            Basis::LegalConsent { .. } => Some(Grant::LegalConsent),
            Basis::ManagerOversight { .. } => Some(Grant::ManagerOversight),
            Basis::BreakGlass { .. } => Some(Grant::BreakGlass),
            Basis::InCareWithoutConsent { .. } => None,
        }
    }

    /// A stable name, for the API and translations.
    pub const fn code(&self) -> &'static str {
        match self {
            Basis::Assigned { .. } => "assigned",
            Basis::CrisisTeam { .. } => "crisis_team",
            Basis::PartnerConsent { .. } => "partner_consent",
            Basis::LegalConsent { .. } => "legal_consent",
            Basis::ManagerOversight { .. } => "manager_oversight",
            Basis::BreakGlass { .. } => "break_glass",
            Basis::InCareWithoutConsent { .. } => "in_care_without_consent",
        }
    }
}

/// Decides one access. Pure and allocation-free: it runs for every field of every record read.
/// Every action on her record is allowed only through a [`Basis`] from [`bases`]; registering
/// a new record and asking for break-glass depend on the role alone.
pub fn decide(
    subject: &Subject<'_>,
    action: Action,
    record: &RecordFacts,
    now: DateTime<Utc>,
) -> Decision {
    let roles = subject.roles;
    let same_org = record.owner_org == Some(subject.org) && subject.org_kind == OrgKind::Own;
    let has = |r: Role| roles.contains(r);
    if action == Action::ListAccess && same_org && has(Role::Auditor) {
        // Auditors check who may read her; they read nothing of her.
        return Decision::Allow(Grant::Role);
    }
    let works_with_survivors = CARE_ROLES.into_iter().any(has) || has(Role::Partner);
    if !works_with_survivors {
        return Decision::Deny(Refusal::Compartment);
    }
    let partner_share = has(Role::Partner)
        && subject.org_kind == OrgKind::Partner
        && record.partner_shares.iter().any(|s| s.org == subject.org);
    match action {
        Action::Create => {
            return if subject.org_kind == OrgKind::Own
                && (has(Role::Aftercare) || has(Role::Manager))
            {
                Decision::Allow(Grant::Role)
            } else {
                Decision::Deny(Refusal::RoleRequired)
            };
        }
        Action::BreakGlass => {
            return if same_org && CARE_ROLES.into_iter().any(has) {
                Decision::Allow(Grant::Role)
            } else if same_org || partner_share {
                Decision::Deny(Refusal::RoleRequired)
            } else {
                Decision::Deny(Refusal::OtherOrganisation)
            };
        }
        _ => {}
    }
    if let Some(grant) = bases(record, now)
        .filter(|b| b.holds_for(subject) && b.allows(action))
        .find_map(|b| b.grant())
    {
        return Decision::Allow(grant);
    }
    let elsewhere = if same_org {
        Refusal::NotAssigned
    } else {
        Refusal::OtherOrganisation
    };
    Decision::Deny(match action {
        Action::Read(class) => {
            if class == FieldClass::Medical && (same_org || partner_share) {
                Refusal::MedicalRestricted
            } else if partner_share || (same_org && has(Role::Legal)) {
                Refusal::NoConsent
            } else {
                elsewhere
            }
        }
        Action::Share | Action::ReadConfidential => Refusal::NotAssigned,
        Action::ReadMedicalResult => Refusal::MedicalRestricted,
        Action::Reassign | Action::Erase => Refusal::RoleRequired,
        Action::See
        | Action::Write(_)
        | Action::ManageCase
        | Action::ListAccess
        | Action::Create
        | Action::BreakGlass => elsewhere,
    })
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
            partner_shares: vec![PartnerShare {
                org: org(WORLD_HOPE),
                classes: vec![FieldClass::Identity, FieldClass::Contact],
                since: now() - Duration::days(3),
            }],
            legal_classes: vec![FieldClass::Identity, FieldClass::LegalStatement],
            legal_since: Some(now() - Duration::days(5)),
            break_glass: Vec::new(),
            crisis_team: Vec::new(),
            in_care_with: Vec::new(),
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
            // Managers: identity and the psychosocial side for oversight, reassignment,
            // erasure; not medical information or contact details.
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
                allow(Grant::ManagerOversight),
            ),
            (
                30,
                "manager",
                OWN,
                Read(Contact),
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
        r.break_glass = vec![(user(OTHER_CASEWORKER), now() + Duration::minutes(5))];
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
        r.break_glass = vec![(user(OTHER_CASEWORKER), now())];
        assert_eq!(
            check(OTHER_CASEWORKER, "aftercare", OWN, Read(Identity), &r),
            Decision::Deny(Refusal::NotAssigned)
        );
    }

    #[test]
    fn the_bases_say_who_may_read_her_and_why() {
        let mut r = record();
        r.crisis_team = vec![user(12)];
        r.break_glass = vec![
            (user(OTHER_CASEWORKER), now() + Duration::hours(1)),
            (user(13), now() - Duration::minutes(1)),
        ];
        r.in_care_with = vec![(org(HAGAR), now() - Duration::days(1))];
        let listed: Vec<Basis<'_>> = bases(&r, now()).collect();
        let codes: Vec<&str> = listed.iter().map(|b| b.code()).collect();
        assert_eq!(
            codes,
            [
                "assigned",
                "crisis_team",
                "partner_consent",
                "legal_consent",
                "manager_oversight",
                "break_glass",
                "in_care_without_consent"
            ],
            "an expired break-glass is not listed"
        );
        assert_eq!(
            listed[2],
            Basis::PartnerConsent {
                org: org(WORLD_HOPE),
                classes: &[Identity, Contact],
                since: now() - Duration::days(3),
            }
        );
        // Hagar has her in its care but no consent: listed, and it opens nothing.
        assert_eq!(
            check(51, "partner", HAGAR, See, &r),
            Decision::Deny(Refusal::OtherOrganisation)
        );
        // Once she consents again, Hagar is listed by consent and no longer flagged.
        r.partner_shares.push(PartnerShare {
            org: org(HAGAR),
            classes: vec![Identity],
            since: now(),
        });
        assert!(!bases(&r, now()).any(|b| b.code() == "in_care_without_consent"));
    }

    #[test]
    fn every_consent_to_an_organisation_must_end_for_its_staff_to_lose_her() {
        // Two consents in force to World Hope (an earlier share and a referral's): with one
        // ended, the other still opens her record; only ending both closes it.
        let mut r = record();
        r.partner_shares.push(PartnerShare {
            org: org(WORLD_HOPE),
            classes: vec![Identity],
            since: now(),
        });
        r.partner_shares.remove(0);
        assert!(check(50, "partner", WORLD_HOPE, Read(Identity), &r).is_allowed());
        r.partner_shares.retain(|s| s.org != org(WORLD_HOPE));
        for action in [See, Read(Identity), Read(Contact)] {
            assert!(!check(50, "partner", WORLD_HOPE, action, &r).is_allowed());
        }
    }

    #[test]
    fn who_may_list_access() {
        let r = record();
        assert_eq!(
            check(ASSIGNED, "aftercare", OWN, ListAccess, &r),
            Decision::Allow(Grant::Assigned)
        );
        assert_eq!(
            check(30, "manager", OWN, ListAccess, &r),
            Decision::Allow(Grant::ManagerOversight)
        );
        assert_eq!(
            check(70, "auditor", OWN, ListAccess, &r),
            Decision::Allow(Grant::Role)
        );
        assert_eq!(
            check(70, "auditor", OWN, Read(Identity), &r),
            Decision::Deny(Refusal::Compartment)
        );
        for (who, roles, at) in [
            (OTHER_CASEWORKER, "aftercare", OWN),
            (40, "legal", OWN),
            (50, "partner", WORLD_HOPE),
        ] {
            assert!(
                !check(who, roles, at, ListAccess, &r).is_allowed(),
                "{roles}"
            );
        }
        assert_eq!(
            check(20, "admin", OWN, ListAccess, &r),
            Decision::Deny(Refusal::Compartment)
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
        r.partner_shares = vec![PartnerShare {
            org: org(WORLD_HOPE),
            classes: FieldClass::ALL.to_vec(),
            since: now(),
        }];
        r.legal_classes = FieldClass::ALL.to_vec();
        r.crisis_team = vec![user(12)];
        r.break_glass = vec![
            (user(12), now() + Duration::hours(1)),
            (user(OTHER_CASEWORKER), now() + Duration::hours(1)),
            (user(30), now() + Duration::hours(1)),
            (user(40), now() + Duration::hours(1)),
        ];
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

/// Random histories of one record (assign, refer, consent, withdraw, place, discharge, close,
/// break-glass, time passing) against the two promises of the access model: every read the
/// policy allows is explained by a listed basis, and a withdrawn basis allows nothing.
#[cfg(test)]
mod properties {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use uuid::Uuid;

    /// How many random histories each run checks.
    pub(super) const CASES: u32 = 2048;

    fn user(n: u8) -> UserId {
        UserId::from_uuid(Uuid::from_u128(u128::from(n) + 1))
    }
    fn org(n: u8) -> OrgId {
        OrgId::from_uuid(Uuid::from_u128(1000 + u128::from(n)))
    }
    const OWN: u8 = 0;
    const USERS: u8 = 4;
    const PARTNERS: u8 = 3;

    #[derive(Debug, Clone)]
    enum Op {
        Assign(u8),
        Unassign(u8),
        Roster(u8),
        Refer(u8, u8),
        LegalConsent(u8),
        WithdrawLegal,
        Withdraw(u8),
        Place(u8),
        Discharge,
        Close,
        BreakGlass(u8, u16),
        Tick(u16),
    }

    /// A basis the history took away (and has not given back since).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Gone {
        Partner(u8),
        Assigned(u8),
        Crisis(u8),
        Legal,
    }

    fn classes(bits: u8) -> Vec<FieldClass> {
        FieldClass::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, c)| *c)
            .collect()
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..USERS).prop_map(Op::Assign),
            (0..USERS).prop_map(Op::Unassign),
            (0..USERS).prop_map(Op::Roster),
            (1..=PARTNERS, 0u8..32).prop_map(|(o, c)| Op::Refer(o, c)),
            (0u8..32).prop_map(Op::LegalConsent),
            Just(Op::WithdrawLegal),
            (1..=PARTNERS).prop_map(Op::Withdraw),
            (1..=PARTNERS).prop_map(Op::Place),
            Just(Op::Discharge),
            Just(Op::Close),
            (0..USERS, 1u16..600).prop_map(|(u, m)| Op::BreakGlass(u, m)),
            (1u16..600).prop_map(Op::Tick),
        ]
    }

    struct Model {
        facts: RecordFacts,
        now: DateTime<Utc>,
        placed: bool,
        gone: Vec<Gone>,
    }

    impl Model {
        fn new() -> Model {
            Model {
                facts: RecordFacts {
                    owner_org: Some(org(OWN)),
                    ..RecordFacts::default()
                },
                now: Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(),
                placed: false,
                gone: Vec::new(),
            }
        }

        fn back(&mut self, g: Gone) {
            self.gone.retain(|x| *x != g);
        }

        fn apply(&mut self, op: &Op) {
            let f = &mut self.facts;
            match *op {
                Op::Assign(u) => {
                    if !f.assignees.contains(&user(u)) {
                        f.assignees.push(user(u));
                    }
                    self.back(Gone::Assigned(u));
                }
                Op::Unassign(u) => {
                    if f.assignees.contains(&user(u)) {
                        f.assignees.retain(|x| *x != user(u));
                        self.gone.push(Gone::Assigned(u));
                    }
                }
                Op::Roster(u) => {
                    if !self.placed {
                        if !f.crisis_team.contains(&user(u)) {
                            f.crisis_team.push(user(u));
                        }
                        self.back(Gone::Crisis(u));
                    }
                }
                Op::Refer(o, bits) => {
                    let classes = classes(bits);
                    if !classes.is_empty() {
                        f.partner_shares.push(PartnerShare {
                            org: org(o),
                            classes,
                            since: self.now,
                        });
                        self.back(Gone::Partner(o));
                    }
                }
                Op::LegalConsent(bits) => {
                    let classes = classes(bits);
                    if !classes.is_empty() {
                        for c in classes {
                            if !f.legal_classes.contains(&c) {
                                f.legal_classes.push(c);
                            }
                        }
                        f.legal_since.get_or_insert(self.now);
                        self.back(Gone::Legal);
                    }
                }
                Op::WithdrawLegal => {
                    if !f.legal_classes.is_empty() {
                        f.legal_classes.clear();
                        f.legal_since = None;
                        self.gone.push(Gone::Legal);
                    }
                }
                Op::Withdraw(o) => {
                    // A withdrawal for an organisation ends every consent to it.
                    let before = f.partner_shares.len();
                    f.partner_shares.retain(|s| s.org != org(o));
                    if f.partner_shares.len() != before {
                        self.gone.push(Gone::Partner(o));
                    }
                }
                Op::Place(o) => {
                    for u in f.crisis_team.drain(..) {
                        let n = (0..USERS).find(|n| user(*n) == u).unwrap();
                        self.gone.push(Gone::Crisis(n));
                    }
                    self.placed = true;
                    f.in_care_with = vec![(org(o), self.now)];
                }
                Op::Discharge => f.in_care_with.clear(),
                Op::Close => {}
                Op::BreakGlass(u, minutes) => f
                    .break_glass
                    .push((user(u), self.now + Duration::minutes(i64::from(minutes)))),
                Op::Tick(minutes) => self.now += Duration::minutes(i64::from(minutes)),
            }
        }
    }

    const ROLE_SETS: [&str; 9] = [
        "aftercare",
        "manager",
        "legal",
        "partner",
        "investigator",
        "auditor",
        "admin",
        "aftercare,manager",
        "legal,manager",
    ];

    fn actions() -> Vec<Action> {
        let mut all = vec![
            Action::See,
            Action::Share,
            Action::ReadMedicalResult,
            Action::ReadConfidential,
            Action::Reassign,
            Action::Erase,
            Action::ListAccess,
        ];
        for c in FieldClass::ALL {
            all.push(Action::Read(c));
            all.push(Action::Write(c));
        }
        all
    }

    fn check(model: &Model) -> Result<(), TestCaseError> {
        let f = &model.facts;
        let now = model.now;
        let listed: Vec<Basis<'_>> = bases(f, now).collect();
        let actions = actions();
        for roles in ROLE_SETS {
            let roles = Roles::parse_list(roles).unwrap();
            for o in 0..=PARTNERS {
                for u in 0..USERS {
                    let subject = Subject {
                        user: user(u),
                        org: org(o),
                        org_kind: if o == OWN {
                            OrgKind::Own
                        } else {
                            OrgKind::Partner
                        },
                        roles: &roles,
                    };
                    let held: Vec<&Basis<'_>> =
                        listed.iter().filter(|b| b.holds_for(&subject)).collect();
                    let mut allowed_any = false;
                    for &action in &actions {
                        let decision = decide(&subject, action, f, now);
                        let explained = held
                            .iter()
                            .find(|b| b.allows(action) && b.grant().is_some())
                            .and_then(|b| b.grant());
                        match decision {
                            Decision::Allow(Grant::Role) => prop_assert!(
                                action == Action::ListAccess && roles.contains(Role::Auditor),
                                "a role grant on her record: {action:?}"
                            ),
                            Decision::Allow(grant) => {
                                allowed_any = true;
                                prop_assert_eq!(
                                    Some(grant),
                                    explained,
                                    "{:?} {:?} allowed without its listed basis",
                                    subject.user,
                                    action
                                );
                            }
                            Decision::Deny(_) => prop_assert!(
                                explained.is_none(),
                                "a listed basis allows {:?}, the policy refuses",
                                action
                            ),
                        }
                    }
                    // What the history took away allows nothing.
                    let partner_only = roles.contains(Role::Partner) && o != OWN;
                    if partner_only {
                        let consents = f
                            .partner_shares
                            .iter()
                            .any(|s| s.org == org(o) && !s.classes.is_empty());
                        prop_assert_eq!(allowed_any, consents, "partner {} without consent", o);
                        if model.gone.contains(&Gone::Partner(o)) {
                            prop_assert!(!allowed_any, "withdrawn consent to {} still reads", o);
                        }
                    }
                    let bg = f
                        .break_glass
                        .iter()
                        .any(|(who, until)| *who == user(u) && now < *until);
                    if o == OWN && roles == Roles::parse_list("aftercare").unwrap() {
                        let kept = f.assignees.contains(&user(u))
                            || f.crisis_team.contains(&user(u))
                            || bg;
                        prop_assert_eq!(allowed_any, kept, "caseworker {}", u);
                        if (model.gone.contains(&Gone::Assigned(u))
                            || model.gone.contains(&Gone::Crisis(u)))
                            && !kept
                        {
                            prop_assert!(!allowed_any);
                        }
                    }
                    if o == OWN && roles == Roles::parse_list("legal").unwrap() && !bg {
                        prop_assert_eq!(allowed_any, !f.legal_classes.is_empty(), "lawyer");
                    }
                }
            }
        }
        for basis in &listed {
            match *basis {
                Basis::PartnerConsent { org: o, .. } => prop_assert!(!model
                    .gone
                    .iter()
                    .any(|g| matches!(g, Gone::Partner(n) if org(*n) == o))),
                Basis::InCareWithoutConsent { org: o, .. } => {
                    prop_assert!(actions.iter().all(|a| !basis.allows(*a)));
                    prop_assert!(!f.partner_shares.iter().any(|s| s.org == o));
                }
                Basis::BreakGlass { until, .. } => prop_assert!(now < until),
                Basis::CrisisTeam { .. } => prop_assert!(!model.placed),
                _ => {}
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]
        #[test]
        fn every_read_has_a_listed_basis_and_withdrawn_ones_allow_nothing(
            ops in proptest::collection::vec(op(), 0..40)
        ) {
            let mut model = Model::new();
            for op in &ops {
                model.apply(op);
            }
            check(&model)?;
        }
    }
}
