//! Who may read her record, and why: the policy's own list of bases for her record
//! (`haven_core::policy::bases`, from the same facts every decision reads), with the people
//! each basis covers, and her withdrawals of consent. Because the policy grants nothing
//! outside that list, what this shows is what the policy allows.

use crate::referrals::{withdrawals_of, Withdrawal};
use crate::survivors::{self, subject};
use crate::users::{self, User};
use crate::{Db, Keyring, StoreError};
use chrono::{DateTime, Utc};
use haven_core::policy::{bases, decide, Action, Basis, Decision};
use haven_core::{FieldClass, OrgId, RequestContext, SurvivorId, UserId};
use std::collections::BTreeMap;

/// Someone a basis covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
}

/// One basis on which her record may be read, and who it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    /// `assigned`, `crisis_team`, `partner_consent`, `legal_consent`, `manager_oversight`,
    /// `break_glass` or `in_care_without_consent` (which reads nothing: a flag to act on).
    pub basis: &'static str,
    pub org_id: OrgId,
    pub org_name: String,
    /// The classes of her record it lets its holders read.
    pub classes: Vec<FieldClass>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// The active accounts it covers now.
    pub people: Vec<Person>,
}

/// Everyone who may read her record and why, and the consents she withdrew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessReport {
    pub survivor: SurvivorId,
    /// Her reference, for those who may see her record (not auditors).
    pub reference: Option<String>,
    pub entries: Vec<AccessEntry>,
    pub withdrawals: Vec<Withdrawal>,
}

impl AccessReport {
    /// Partners she is admitted to without a consent in force: her caseworker must act.
    pub fn in_care_without_consent(&self) -> impl Iterator<Item = &AccessEntry> {
        self.entries
            .iter()
            .filter(|e| e.basis == "in_care_without_consent")
    }
}

fn period(basis: &Basis<'_>) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    match *basis {
        Basis::PartnerConsent { since, .. } | Basis::InCareWithoutConsent { since, .. } => {
            (Some(since), None)
        }
        Basis::LegalConsent { since, .. } => (since, None),
        Basis::BreakGlass { until, .. } => (None, Some(until)),
        Basis::Assigned { .. } | Basis::CrisisTeam { .. } | Basis::ManagerOversight { .. } => {
            (None, None)
        }
    }
}

fn org_of(basis: &Basis<'_>) -> OrgId {
    match *basis {
        Basis::Assigned { org, .. }
        | Basis::CrisisTeam { org, .. }
        | Basis::PartnerConsent { org, .. }
        | Basis::LegalConsent { org, .. }
        | Basis::ManagerOversight { org }
        | Basis::BreakGlass { org, .. }
        | Basis::InCareWithoutConsent { org, .. } => org,
    }
}

/// Who may read her record and why. For her assigned caseworker, the managers of her
/// organisation and auditors; "not found" for anyone who may not see her record, "forbidden"
/// for anyone else who may. The read is audited.
#[tracing::instrument(skip_all, fields(user = %user.id, survivor = %id))]
pub async fn report(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
) -> Result<AccessReport, StoreError> {
    let at = crate::clock::now();
    let Some(row) = survivors::row(db, id.as_uuid()).await? else {
        return Err(StoreError::NotFound("survivor"));
    };
    let facts = survivors::facts(db, &row, user.id, at).await?;
    let who = subject(user);
    let sees = decide(&who, Action::See, &facts, at).is_allowed();
    if let Decision::Deny(why) = decide(&who, Action::ListAccess, &facts, at) {
        return Err(if sees {
            StoreError::Forbidden(why.message().to_owned())
        } else {
            StoreError::NotFound("survivor")
        });
    }
    let listed: Vec<Basis<'_>> = bases(&facts, at).collect();
    // The people of every organisation a basis names, once each.
    let mut staff: BTreeMap<OrgId, Vec<User>> = BTreeMap::new();
    let mut names: BTreeMap<OrgId, String> = BTreeMap::new();
    let mut orgs: Vec<OrgId> = listed.iter().map(org_of).collect();
    orgs.sort();
    orgs.dedup();
    for org in orgs {
        let people = users::active_in_org(db, org).await?;
        let name = match people.first() {
            Some(u) => u.org_name.clone(),
            None => crate::orgs::list(db)
                .await?
                .into_iter()
                .find(|o| o.id == org)
                .map(|o| o.name)
                .unwrap_or_default(),
        };
        names.insert(org, name);
        staff.insert(org, people);
    }
    let mut entries = Vec::with_capacity(listed.len());
    for basis in &listed {
        let org = org_of(basis);
        let (since, until) = period(basis);
        entries.push(AccessEntry {
            basis: basis.code(),
            org_id: org,
            org_name: names.get(&org).cloned().unwrap_or_default(),
            classes: FieldClass::ALL
                .iter()
                .copied()
                .filter(|c| basis.allows(Action::Read(*c)))
                .collect(),
            since,
            until,
            people: staff
                .get(&org)
                .map(|people| {
                    people
                        .iter()
                        .filter(|u| basis.holds_for(&subject(u)))
                        .map(|u| Person {
                            id: u.id,
                            username: u.username.as_str().to_owned(),
                            display_name: u.display_name.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    let with_reasons = decide(&who, Action::Share, &facts, at).is_allowed();
    let withdrawals = withdrawals_of(db, keyring, row.id, with_reasons).await?;
    let mut tx = db.begin().await?;
    survivors::audit(&mut tx, ctx, "survivor.access.read", row.id, &[], None).await?;
    tx.commit().await?;
    Ok(AccessReport {
        survivor: id,
        reference: sees.then_some(row.reference),
        entries,
        withdrawals,
    })
}
