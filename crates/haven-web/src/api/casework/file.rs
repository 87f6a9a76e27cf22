//! Her whole case file in one answer, each part filtered exactly as its own route filters it.
//! Services appear without medical results, as in every list.

use super::closure::{closure_out, ClosureOut};
use super::follow_ups::{follow_up_out, FollowUpOut};
use super::notes::{note_out, NoteOut};
use super::plan::{plan_out, PlanOut};
use super::risk::{incident_out, risk_out, IncidentOut, RiskOut};
use super::services::{service_out, ServiceItem};
use super::survivor_id;
use crate::api::survivors::{survivor_out, SurvivorOut};
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use haven_store::case_file;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseFileOut {
    /// Her record, with only the fields the caller may read.
    pub survivor: SurvivorOut,
    /// True while her case is closed.
    pub closed: bool,
    /// Absent before a first plan is written.
    pub plan: Option<PlanOut>,
    pub services: Vec<ServiceItem>,
    /// Empty for partners: follow-up is her caseworker's work.
    pub follow_ups: Vec<FollowUpOut>,
    pub risks: Vec<RiskOut>,
    pub incidents: Vec<IncidentOut>,
    pub notes: Vec<NoteOut>,
    pub closures: Vec<ClosureOut>,
}

/// Her whole case file as the caller may see it, in one read (audited once).
#[utoipa::path(get, path = "/api/v1/survivors/{id}/case-file", tag = "casework", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CaseFileOut), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<CaseFileOut>, ApiError> {
    let file = case_file::open(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor_id(&id)?,
    )
    .await?;
    let closed = file.is_closed();
    let today = state.team_today();
    Ok(Json(CaseFileOut {
        survivor: survivor_out(file.survivor),
        closed,
        plan: file.plan.map(plan_out),
        services: file.services.into_iter().map(service_out).collect(),
        follow_ups: file
            .follow_ups
            .into_iter()
            .map(|f| follow_up_out(f, today))
            .collect(),
        risks: file.risks.into_iter().map(risk_out).collect(),
        incidents: file.incidents.into_iter().map(incident_out).collect(),
        notes: file.notes.into_iter().map(note_out).collect(),
        closures: file.closures.into_iter().map(closure_out).collect(),
    }))
}
