//! Her individual plan over the seven areas. A save adds a version (a review too), so the
//! answer carries the version history and what changed from the version before.

use super::{bad, body_uuid, date, nothing_yet, staff, survivor_id};
use crate::api::json::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use haven_core::casework::{
    AreaPlan, AreaStatus, Goal, GoalStatus, PlanArea, PlanChange, Responsible,
};
use haven_store::care_plans::{self, PlanInput, PlanView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Who owns an area. `kind` is `nobody`, `staff` (with `user`: her user ID or username) or
/// `partner` (with `organisation_id` and the accepted `referral_id` that brought it in).
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct ResponsibleBody {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct GoalBody {
    pub text: String,
    /// The date it should be reached by (YYYY-MM-DD); not before the plan started.
    pub target: String,
    /// open (default), met or dropped.
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct AreaBody {
    /// treatment, medical, psychosocial, placement, economic, legal_support or transition.
    pub area: String,
    /// not_started (default), in_progress, met or not_needed.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub responsible: Option<ResponsibleBody>,
    /// The needs assessed.
    #[serde(default)]
    pub needs: String,
    #[serde(default)]
    pub goals: Vec<GoalBody>,
    /// What she says she wants, in her own words.
    #[serde(default)]
    pub her_words: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanBody {
    /// The `version` the changes are based on; absent or null for her first plan. When
    /// someone saved in the meantime the answer is 409 and nothing is saved.
    pub based_on_version: Option<i64>,
    /// When the plan started (YYYY-MM-DD).
    pub started_on: String,
    /// True when this save records a plan review (it completes the review that was due).
    #[serde(default)]
    pub is_review: bool,
    pub areas: Vec<AreaBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResponsibleOut {
    /// nobody, staff or partner.
    pub kind: String,
    pub user_id: Option<String>,
    pub organisation_id: Option<String>,
    pub referral_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GoalOut {
    pub text: String,
    pub target: NaiveDate,
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaOut {
    pub area: String,
    pub status: String,
    pub responsible: ResponsibleOut,
    pub needs: String,
    pub goals: Vec<GoalOut>,
    pub her_words: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionOut {
    pub version: i64,
    pub is_review: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// One difference from the version before. `change` is one of area_added, area_removed,
/// status, responsible, needs, her_words, goal_added, goal_removed, goal_status, goal_target.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOut {
    pub change: String,
    pub area: String,
    pub goal: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOut {
    /// The version shown; send it back as `based_on_version` with changes.
    pub version: i64,
    pub latest_version: i64,
    pub started_on: NaiveDate,
    pub is_review: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The areas the caller may read, in the fixed area order.
    pub areas: Vec<AreaOut>,
    /// How many areas exist that the caller may not read (a partner sees only its own).
    pub withheld_areas: usize,
    /// Every version, newest first.
    pub versions: Vec<VersionOut>,
    /// What changed from the version before, in the areas the caller may read.
    pub changes: Vec<ChangeOut>,
}

fn responsible_out(r: Responsible) -> ResponsibleOut {
    match r {
        Responsible::Nobody => ResponsibleOut {
            kind: "nobody".into(),
            user_id: None,
            organisation_id: None,
            referral_id: None,
        },
        Responsible::Staff { user } => ResponsibleOut {
            kind: "staff".into(),
            user_id: Some(user.to_string()),
            organisation_id: None,
            referral_id: None,
        },
        Responsible::Partner { org, referral } => ResponsibleOut {
            kind: "partner".into(),
            user_id: None,
            organisation_id: Some(org.to_string()),
            referral_id: Some(referral.to_string()),
        },
    }
}

fn area_out(a: AreaPlan) -> AreaOut {
    AreaOut {
        area: a.area.as_str().into(),
        status: a.status.as_str().into(),
        responsible: responsible_out(a.responsible),
        needs: a.needs,
        goals: a
            .goals
            .into_iter()
            .map(|g| GoalOut {
                text: g.text,
                target: g.target,
                status: g.status.as_str().into(),
            })
            .collect(),
        her_words: a.her_words,
    }
}

fn change_out(c: PlanChange) -> ChangeOut {
    let plain = |change: &str, area: PlanArea| ChangeOut {
        change: change.into(),
        area: area.as_str().into(),
        goal: None,
        from: None,
        to: None,
    };
    match c {
        PlanChange::AreaAdded { area } => plain("area_added", area),
        PlanChange::AreaRemoved { area } => plain("area_removed", area),
        PlanChange::Responsible { area } => plain("responsible", area),
        PlanChange::Needs { area } => plain("needs", area),
        PlanChange::HerWords { area } => plain("her_words", area),
        PlanChange::Status { area, from, to } => ChangeOut {
            from: Some(from.as_str().into()),
            to: Some(to.as_str().into()),
            ..plain("status", area)
        },
        PlanChange::GoalAdded { area, goal } => ChangeOut {
            goal: Some(goal),
            ..plain("goal_added", area)
        },
        PlanChange::GoalRemoved { area, goal } => ChangeOut {
            goal: Some(goal),
            ..plain("goal_removed", area)
        },
        PlanChange::GoalStatus {
            area,
            goal,
            from,
            to,
        } => ChangeOut {
            goal: Some(goal),
            from: Some(from.as_str().into()),
            to: Some(to.as_str().into()),
            ..plain("goal_status", area)
        },
        PlanChange::GoalTarget {
            area,
            goal,
            from,
            to,
        } => ChangeOut {
            goal: Some(goal),
            from: Some(from.to_string()),
            to: Some(to.to_string()),
            ..plain("goal_target", area)
        },
    }
}

pub(crate) fn plan_out(view: PlanView) -> PlanOut {
    let current = view.current;
    PlanOut {
        version: current.version,
        latest_version: view.latest_version,
        started_on: current.started_on,
        is_review: current.is_review,
        created_by: current.created_by,
        created_at: current.created_at,
        areas: current.areas.into_iter().map(area_out).collect(),
        withheld_areas: current.withheld,
        versions: view
            .versions
            .into_iter()
            .map(|v| VersionOut {
                version: v.version,
                is_review: v.is_review,
                created_by: v.created_by,
                created_at: v.created_at,
            })
            .collect(),
        changes: view.changes.into_iter().map(change_out).collect(),
    }
}

async fn responsible(
    state: &AppState,
    caller: &ApiUser,
    area: PlanArea,
    body: Option<&ResponsibleBody>,
) -> Result<Responsible, ApiError> {
    let Some(body) = body else {
        return Ok(Responsible::Nobody);
    };
    let needs = |what: &str| {
        ApiError::bad_request(format!("responsible: for the area {area}, give the {what}"))
    };
    match body.kind.trim() {
        "" | "nobody" => Ok(Responsible::Nobody),
        "staff" => {
            let name = body
                .user
                .as_deref()
                .ok_or_else(|| needs("staff member (user)"))?;
            let user = staff(state, &caller.user, "responsible", name).await?;
            Ok(Responsible::Staff {
                user: user.as_uuid(),
            })
        }
        "partner" => {
            let org = body
                .organisation_id
                .as_deref()
                .ok_or_else(|| needs("partner's organisation_id"))?;
            let referral = body
                .referral_id
                .as_deref()
                .ok_or_else(|| needs("referral_id of the referral the partner accepted"))?;
            Ok(Responsible::Partner {
                org: body_uuid("organisation_id", org)?,
                referral: body_uuid("referral_id", referral)?,
            })
        }
        other => Err(ApiError::bad_request(format!(
            "responsible: '{other}' is not a kind of owner; choose nobody, staff or partner"
        ))),
    }
}

async fn area_plan(
    state: &AppState,
    caller: &ApiUser,
    body: &AreaBody,
) -> Result<AreaPlan, ApiError> {
    let area = PlanArea::parse(&body.area).map_err(bad)?;
    let status = match body.status.as_deref().map(str::trim) {
        None | Some("") => AreaStatus::NotStarted,
        Some(s) => AreaStatus::parse(s).map_err(bad)?,
    };
    let mut goals = Vec::with_capacity(body.goals.len());
    for goal in &body.goals {
        goals.push(Goal {
            text: goal.text.clone(),
            target: date("target", &goal.target)?,
            status: match goal.status.as_deref().map(str::trim) {
                None | Some("") => GoalStatus::Open,
                Some(s) => GoalStatus::parse(s).map_err(bad)?,
            },
        });
    }
    Ok(AreaPlan {
        area,
        status,
        responsible: responsible(state, caller, area, body.responsible.as_ref()).await?,
        needs: body.needs.clone(),
        goals,
        her_words: body.her_words.clone(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// An earlier version to show; the latest by default.
    pub version: Option<i64>,
}

/// Her plan as the caller may see it: the areas she may read (a partner only those referred
/// to it), the version history and what changed at the version shown. 404 with code
/// `no_plan` before a first plan is written.
#[utoipa::path(get, path = "/api/v1/survivors/{id}/plan", tag = "casework", params(("id" = String, Path), VersionQuery), security(("bearer" = [])),
    responses((status = 200, body = PlanOut), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    query: Result<Query<VersionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PlanOut>, ApiError> {
    let Query(query) = query.map_err(|_| {
        ApiError::bad_request("version: give the version number to show, e.g. ?version=2")
    })?;
    let view = care_plans::plan(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor_id(&id)?,
        query.version,
    )
    .await?
    .ok_or_else(|| nothing_yet("no_plan", "no plan has been written for her yet"))?;
    Ok(Json(plan_out(view)))
}

/// Save a new version of her plan (her caseworker). Checked whole before anything is
/// written: each area once, goals not due before the plan started, the owner of an area an
/// active member of her team or a partner that accepted her referral. Answers the new version
/// with what changed.
#[utoipa::path(post, path = "/api/v1/survivors/{id}/plan", tag = "casework", params(("id" = String, Path)), request_body = PlanBody, security(("bearer" = [])),
    responses((status = 201, body = PlanOut), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn save(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PlanBody>,
) -> Result<(StatusCode, Json<PlanOut>), ApiError> {
    let id = survivor_id(&id)?;
    let mut areas = Vec::with_capacity(body.areas.len());
    for area in &body.areas {
        areas.push(area_plan(&state, &caller, area).await?);
    }
    let input = PlanInput {
        based_on_version: body.based_on_version,
        started_on: date("started_on", &body.started_on)?,
        is_review: body.is_review,
        areas,
    };
    let keyring = state.keyring()?;
    let ctx = caller.context();
    let version = care_plans::save(&state.db, keyring, &caller.user, &ctx, id, &input).await?;
    let view = care_plans::plan(&state.db, keyring, &caller.user, &ctx, id, Some(version))
        .await?
        .ok_or_else(|| nothing_yet("no_plan", "no plan has been written for her yet"))?;
    Ok((StatusCode::CREATED, Json(plan_out(view))))
}
