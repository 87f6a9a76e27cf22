//! Her whole case file in one read: the record's fields, her plan, services, follow-ups, risk
//! assessments, incidents, notes and closures, each filtered by the policy exactly as the
//! separate reads are (it calls the same `*_in` functions). Her data key is unwrapped once.

use crate::care_plans::{self, PlanView};
use crate::care_services::{self, ServiceView};
use crate::case_access::{self, Case};
use crate::case_closures::{self, ClosureView};
use crate::case_notes::{self, NoteView};
use crate::case_risk::{self, IncidentView, RiskView};
use crate::clock::now;
use crate::crypto::Keyring;
use crate::follow_ups::{self, FollowUpView};
use crate::survivors::{self, SurvivorView};
use crate::users::User;
use crate::{Db, StoreError};
use haven_core::{RequestContext, SurvivorId};

#[derive(Debug, Clone)]
pub struct CaseFile {
    pub survivor: SurvivorView,
    pub plan: Option<PlanView>,
    pub services: Vec<ServiceView>,
    /// Empty for legal staff and partners: follow-up is her caseworkers' work.
    pub follow_ups: Vec<FollowUpView>,
    pub risks: Vec<RiskView>,
    pub incidents: Vec<IncidentView>,
    pub notes: Vec<NoteView>,
    pub closures: Vec<ClosureView>,
}

impl CaseFile {
    pub fn is_closed(&self) -> bool {
        self.closures.iter().any(|c| c.reopened_at.is_none())
    }
}

/// Opens her whole file as `user` may see it. Audited: the record read as usual, and one
/// event for the case-management parts.
#[tracing::instrument(skip_all, fields(user = %user.id, survivor = %id))]
pub async fn open(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
) -> Result<CaseFile, StoreError> {
    let survivor = survivors::read(db, keyring, user, ctx, id).await?;
    let case = Case::open(db, user, id, now()).await?;
    let key = case.key(db, keyring).await?;
    let plan = care_plans::plan_in(db, &key, &case, user, None).await?;
    let services = care_services::list_in(db, &key, &case, user).await?;
    let follow_ups = follow_ups::list_in(db, Some(&key), &case, user).await?;
    let risks = case_risk::risks_in(db, &key, &case, user).await?;
    let incidents = case_risk::incidents_in(db, &key, &case, user).await?;
    let notes = case_notes::notes_in(db, &key, &case, user).await?;
    let closures = case_closures::closures_in(db, &key, &case, user).await?;
    case_access::audit_read(
        db,
        ctx,
        "case_file.read",
        case.id(),
        &[
            "plan",
            "services",
            "follow_ups",
            "risks",
            "incidents",
            "notes",
            "closures",
        ],
    )
    .await?;
    Ok(CaseFile {
        survivor,
        plan,
        services,
        follow_ups,
        risks,
        incidents,
        notes,
        closures,
    })
}
