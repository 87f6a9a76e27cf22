//! Legal cases and the evidence locker over the API. Every answer comes from
//! `haven_store::legal`, `haven_store::evidence` and `haven_store::legal_bundle`, which check
//! who may do what and audit it; a case or item the caller may not see is a 404.

use crate::api::json::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use haven_core::legal::{Capacity, InformedDecision, Participation, Stage, SuspectRole};
use haven_core::{RequestContext, SurvivorId};
use haven_store::evidence::{self, EvidenceMeta, EvidenceSummary};
use haven_store::legal::{self, NewCase, NewHearing, NewOutcome};
use haven_store::users::User;
use haven_store::{legal_bundle, StoreError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

fn case_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| ApiError::not_found("legal case"))
}

fn item_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| ApiError::not_found("evidence"))
}

fn bad(e: haven_core::ValidationError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

/// A broken rule (a verdict before a trial) is a 422, not a typing mistake.
fn rule(err: StoreError) -> ApiError {
    match err {
        StoreError::Invalid(v) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "rule_broken",
            v.to_string(),
        ),
        other => other.into(),
    }
}

fn survivor(raw: &str) -> Result<SurvivorId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request("survivor_id: is not a valid identifier"))
}

fn optional_uuid(field: &str, raw: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Uuid::parse_str(s)
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("{field}: is not a valid identifier"))),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The legal cases the caller may see (lawyers, managers, investigators).
#[utoipa::path(get, path = "/api/v1/legal/cases", tag = "legal", params(CaseQuery), security(("bearer" = [])),
    responses((status = 200, description = "{items: [case summary], next_cursor}"), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_cases(
    State(state): State<AppState>,
    caller: ApiUser,
    query: Result<Query<CaseQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 200"));
    }
    let after = optional_uuid("cursor", query.cursor.as_deref())?;
    let page = legal::list_cases(&state.db, &caller.user, after, limit).await?;
    let next = (page.len() == limit as usize)
        .then(|| page.last().map(|c| c.id.to_string()))
        .flatten();
    Ok(Json(
        serde_json::json!({"items": page, "next_cursor": next}),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCaseBody {
    /// The case reference, e.g. LC-2026-014.
    pub reference: String,
    pub title: String,
    #[serde(default)]
    pub court: String,
    #[serde(default)]
    pub prosecutor: String,
    #[serde(default)]
    pub judge: String,
    /// The intervention (rescue operation) the case came from.
    pub intervention_id: Option<String>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

fn created(id: Uuid) -> (StatusCode, Json<Created>) {
    (StatusCode::CREATED, Json(Created { id: id.to_string() }))
}

/// Open a case (lawyers and managers).
#[utoipa::path(post, path = "/api/v1/legal/cases", tag = "legal", request_body = NewCaseBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_case(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(body): ApiJson<NewCaseBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let new = NewCase {
        reference: body.reference,
        title: body.title,
        court: body.court,
        prosecutor: body.prosecutor,
        judge: body.judge,
        intervention_id: optional_uuid("intervention_id", body.intervention_id.as_deref())?,
    };
    let id = legal::create_case(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        &new,
    )
    .await?;
    Ok(created(id))
}

/// The case file: suspects, charges, survivors (with her choice; a withdrawn survivor is
/// named at the top and nothing else of hers is shown), timeline, hearings, deadlines,
/// evidence, what is missing, and no-contact warnings. Investigators get a partial view.
#[utoipa::path(get, path = "/api/v1/legal/cases/{id}", tag = "legal", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The case file"), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read_case(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<legal::CaseFile>, ApiError> {
    let file = legal::case_file(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        case_id(&id)?,
    )
    .await?;
    Ok(Json(file))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SuspectBody {
    pub name: String,
    #[serde(default)]
    pub aliases: String,
    /// recruiter_or_intermediary, transporter, exploiter, abuser, buyer, other.
    pub role: String,
}

/// Add a suspect.
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/suspects", tag = "legal", params(("id" = String, Path)), request_body = SuspectBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn add_suspect(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SuspectBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let case = case_id(&id)?;
    let role = SuspectRole::parse(&body.role).map_err(bad)?;
    let id = legal::add_suspect(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        case,
        &body.name,
        &body.aliases,
        role,
    )
    .await?;
    Ok(created(id))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChargeBody {
    /// An article of the 2008 law, e.g. art-15.
    pub article: String,
    pub suspect_id: Option<String>,
}

/// Add a charge under the Law on Suppression of Human Trafficking and Sexual Exploitation.
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/charges", tag = "legal", params(("id" = String, Path)), request_body = ChargeBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn add_charge(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChargeBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let case = case_id(&id)?;
    let suspect = optional_uuid("suspect_id", body.suspect_id.as_deref())?;
    let id = legal::add_charge(
        &state.db,
        &caller.user,
        &caller.context(),
        case,
        &body.article,
        suspect,
    )
    .await?;
    Ok(created(id))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LinkBody {
    pub survivor_id: String,
    /// complainant or witness.
    pub capacity: String,
}

/// Link a survivor to the case as complainant or witness.
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/survivors", tag = "legal", params(("id" = String, Path)), request_body = LinkBody, security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn link_survivor(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LinkBody>,
) -> Result<StatusCode, ApiError> {
    let case = case_id(&id)?;
    let capacity = Capacity::parse(&body.capacity).map_err(bad)?;
    let who = survivor(&body.survivor_id)?;
    legal::link_survivor(
        &state.db,
        &caller.user,
        &caller.context(),
        case,
        who,
        capacity,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionBody {
    /// takes_part, undecided or withdrawn.
    pub decision: String,
    /// Who explained the case and her choices to her.
    pub explained_by: String,
    /// The language it was explained in (two letters: km, vi, en...).
    pub language: String,
    /// What was explained.
    pub explained: String,
    /// The guardian present, required for a minor.
    pub guardian: Option<String>,
    /// Whether she is a minor, when her date of birth is not on her record.
    #[serde(default)]
    pub minor: bool,
}

/// Record her informed decision about taking part. Earlier decisions stay as history; a
/// survivor who withdraws is never contacted about the case again.
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/survivors/{survivor_id}/decisions", tag = "legal",
    params(("id" = String, Path), ("survivor_id" = String, Path)), request_body = DecisionBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn record_decision(
    State(state): State<AppState>,
    caller: ApiUser,
    Path((id, survivor_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let case = case_id(&id)?;
    let who: SurvivorId = survivor_id
        .parse()
        .map_err(|_| ApiError::not_found("survivor in this case"))?;
    let decision = InformedDecision {
        decision: Participation::parse(&body.decision).map_err(bad)?,
        explained_by: body.explained_by,
        language: body.language,
        explained: body.explained,
        guardian: body.guardian,
    };
    let id = legal::record_decision(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        case,
        who,
        &decision,
        body.minor,
    )
    .await?;
    Ok(created(id))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StageBody {
    /// complaint, investigation, arrest, charge, pre_trial_detention, trial_hearings,
    /// verdict, sentence, appeal, closed.
    pub stage: String,
    /// YYYY-MM-DD.
    pub date: String,
    #[serde(default)]
    pub note: String,
}

fn date(field: &'static str, raw: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(format!("{field}: must be a date written as YYYY-MM-DD"))
    })
}

fn instant(field: &'static str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "{field}: must be a date and time such as 2026-06-01T09:00:00+07:00"
            ))
        })
}

/// Record a stage. Out-of-order stages (a verdict before a trial) are refused with 422.
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/stages", tag = "legal", params(("id" = String, Path)), request_body = StageBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn record_stage(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StageBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let case = case_id(&id)?;
    let stage = Stage::parse(&body.stage).map_err(bad)?;
    let on = date("date", &body.date)?;
    let id = legal::record_stage(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        case,
        stage,
        on,
        &body.note,
    )
    .await
    .map_err(rule)?;
    Ok(created(id))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HearingBody {
    pub stage: String,
    /// RFC 3339, e.g. 2026-06-01T09:00:00+07:00.
    pub starts_at: String,
    pub ends_at: String,
    pub court: String,
    #[serde(default)]
    pub room: String,
}

/// Schedule a hearing.
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/hearings", tag = "legal", params(("id" = String, Path)), request_body = HearingBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn schedule_hearing(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HearingBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let case = case_id(&id)?;
    let new = NewHearing {
        stage: Stage::parse(&body.stage).map_err(bad)?,
        starts_at: instant("starts_at", &body.starts_at)?,
        ends_at: instant("ends_at", &body.ends_at)?,
        court: body.court,
        room: body.room,
    };
    let id = legal::schedule_hearing(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        case,
        &new,
    )
    .await?;
    Ok(created(id))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AccompanimentBody {
    /// Who goes with her.
    pub companions: String,
    /// How she gets there and back.
    pub transport: String,
    /// A waiting room apart from the accused is arranged.
    pub separate_waiting_room: bool,
}

/// Set the accompaniment plan for her at one hearing.
#[utoipa::path(put, path = "/api/v1/legal/cases/{id}/hearings/{hearing_id}/accompaniment/{survivor_id}", tag = "legal",
    params(("id" = String, Path), ("hearing_id" = String, Path), ("survivor_id" = String, Path)), request_body = AccompanimentBody, security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn plan_accompaniment(
    State(state): State<AppState>,
    caller: ApiUser,
    Path((id, hearing, survivor_id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<AccompanimentBody>,
) -> Result<StatusCode, ApiError> {
    let case = case_id(&id)?;
    let hearing = Uuid::parse_str(&hearing).map_err(|_| ApiError::not_found("hearing"))?;
    let who: SurvivorId = survivor_id
        .parse()
        .map_err(|_| ApiError::not_found("survivor in this case"))?;
    legal::plan_accompaniment(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        case,
        hearing,
        who,
        &body.companions,
        &body.transport,
        body.separate_waiting_room,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionBody {
    pub survivor_id: String,
    /// preparation or court_visit.
    pub kind: String,
    pub held_at: String,
    /// Who took part from the staff and partners.
    pub staff: String,
    /// What was covered.
    pub covered: String,
}

/// Record a testimony preparation session or a court visit.
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/sessions", tag = "legal", params(("id" = String, Path)), request_body = SessionBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn record_session(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SessionBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let case = case_id(&id)?;
    let who = survivor(&body.survivor_id)?;
    let held_at = instant("held_at", &body.held_at)?;
    let id = legal::record_session(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        case,
        who,
        &body.kind,
        held_at,
        &body.staff,
        &body.covered,
    )
    .await?;
    Ok(created(id))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DeadlineBody {
    pub title: String,
    pub due_at: String,
}

/// Add a deadline set by the court.
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/deadlines", tag = "legal", params(("id" = String, Path)), request_body = DeadlineBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn add_deadline(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DeadlineBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let case = case_id(&id)?;
    let due = instant("due_at", &body.due_at)?;
    let id = legal::add_deadline(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        case,
        &body.title,
        due,
    )
    .await?;
    Ok(created(id))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OutcomeBody {
    pub suspect_id: String,
    /// convicted or acquitted.
    pub result: String,
    pub sentence_months: Option<i64>,
    /// In riel.
    #[serde(default)]
    pub compensation_ordered: i64,
    #[serde(default)]
    pub compensation_paid: i64,
    /// YYYY-MM-DD.
    pub decided_on: String,
}

/// Record a judgment against one accused.
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/outcomes", tag = "legal", params(("id" = String, Path)), request_body = OutcomeBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn record_outcome(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OutcomeBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let case = case_id(&id)?;
    let convicted = match body.result.trim() {
        "convicted" => true,
        "acquitted" => false,
        _ => {
            return Err(ApiError::bad_request(
                "result: choose convicted or acquitted",
            ))
        }
    };
    let new = NewOutcome {
        suspect_id: optional_uuid("suspect_id", Some(&body.suspect_id))?
            .ok_or_else(|| ApiError::bad_request("suspect_id: must be filled in"))?,
        convicted,
        sentence_months: body.sentence_months,
        compensation_ordered: body.compensation_ordered,
        compensation_paid: body.compensation_paid,
        decided_on: date("decided_on", &body.decided_on)?,
    };
    let id = legal::record_outcome(&state.db, &caller.user, &caller.context(), case, &new)
        .await
        .map_err(rule)?;
    Ok(created(id))
}

// ---- Evidence ----

/// The fields of an evidence upload (multipart/form-data); `file` must come last.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EvidenceUpload {
    /// photo, video, audio, document or chat_export.
    pub kind: String,
    /// general, medical_report, age_evidence or statement.
    pub category: Option<String>,
    pub survivor_id: Option<String>,
    /// For a statement: "true" when signed.
    pub signed: Option<String>,
    pub title: String,
    pub stage: Option<String>,
    pub collected_by: String,
    /// RFC 3339 or YYYY-MM-DD; now when left out.
    pub collected_at: Option<String>,
    pub collected_where: String,
    pub collected_how: String,
    #[schema(format = Binary, value_type = String)]
    pub file: Vec<u8>,
}

fn collected_at(raw: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M") {
        return Ok(Some(t.and_utc()));
    }
    instant("collected_at", raw).map(Some)
}

fn interrupted() -> ApiError {
    ApiError::bad_request(
        "the upload was interrupted or malformed; nothing was stored, please try again",
    )
}

/// Reads a multipart upload: text fields, then the file, streamed into the locker. When
/// `csrf` is given (the HTML form), the form's token must match it before any file byte is
/// accepted.
/// Waits for the next part of an upload, at most `idle`.
async fn within<T>(
    idle: std::time::Duration,
    next: impl std::future::Future<Output = T>,
) -> Result<T, ApiError> {
    tokio::time::timeout(idle, next).await.map_err(|_| {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "upload_stalled",
            format!(
                "the upload stopped sending data for {} seconds and was abandoned; nothing was stored, please try again",
                idle.as_secs().max(1)
            ),
        )
    })
}

pub async fn receive_upload(
    state: &AppState,
    user: &User,
    ctx: &RequestContext,
    case: Uuid,
    mut multipart: Multipart,
    csrf: Option<&axum_extra::extract::CookieJar>,
) -> Result<EvidenceSummary, ApiError> {
    let locker = state.evidence()?;
    let idle = state.config.upload_idle_timeout;
    let mut meta = EvidenceMeta::default();
    let mut csrf_seen = false;
    loop {
        let field = within(idle, multipart.next_field())
            .await?
            .map_err(|_| interrupted())?;
        let Some(mut field) = field else {
            return Err(ApiError::bad_request("file: choose a file to upload"));
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if csrf.is_some() && !csrf_seen {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "this form has expired; reload the page and try again",
                ));
            }
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let declared = field.content_type().map(str::to_owned);
            let mut pending = evidence::begin_upload(
                &state.db,
                locker,
                user,
                case,
                &meta,
                &file_name,
                declared.as_deref(),
            )
            .await?;
            // A stalled body ends here: `pending` is dropped and its temporary file removed.
            while let Some(chunk) = within(idle, field.chunk())
                .await?
                .map_err(|_| interrupted())?
            {
                if pending.written() + chunk.len() as u64 > pending.limit() {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        format!(
                            "file: is larger than the largest file accepted ({} MB)",
                            pending.limit() / 1_000_000
                        ),
                    ));
                }
                pending.write(&chunk).await?;
            }
            return Ok(pending
                .finish(&state.db, state.keyring()?, user, ctx)
                .await?);
        }
        let value = within(idle, field.text())
            .await?
            .map_err(|_| interrupted())?;
        if value.len() > 10_000 {
            return Err(ApiError::bad_request(format!("{name}: is too long")));
        }
        match name.as_str() {
            "csrf" => {
                if let Some(jar) = csrf {
                    if !crate::auth::csrf_ok(jar, &value) {
                        return Err(ApiError::new(
                            StatusCode::FORBIDDEN,
                            "csrf",
                            "this form has expired; reload the page and try again",
                        ));
                    }
                    csrf_seen = true;
                }
            }
            "kind" => meta.kind = value,
            "category" => meta.category = value,
            "survivor_id" => {
                meta.survivor_id = match value.trim() {
                    "" => None,
                    v => Some(survivor(v)?),
                }
            }
            "signed" => meta.signed = matches!(value.trim(), "true" | "on" | "yes" | "1"),
            "title" => meta.title = value,
            "stage" => meta.stage = Some(value),
            "collected_by" => meta.collected_by = value,
            "collected_at" => meta.collected_at = collected_at(&value)?,
            "collected_where" => meta.collected_where = value,
            "collected_how" => meta.collected_how = value,
            _ => {}
        }
    }
}

/// Upload a file to the evidence locker (multipart/form-data, `file` last). Its SHA-256 is
/// computed while it streams in, it is encrypted at rest, and its type is checked against
/// its contents, its declared type and its name. Nothing is stored if anything fails.
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/evidence", tag = "legal", params(("id" = String, Path)),
    request_body(content = EvidenceUpload, content_type = "multipart/form-data"), security(("bearer" = [])),
    responses((status = 201, description = "The stored item, with its SHA-256"), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<EvidenceSummary>), ApiError> {
    let case = case_id(&id)?;
    let multipart = multipart.map_err(|_| {
        ApiError::bad_request("send the file as multipart/form-data with a part named file")
    })?;
    let item = receive_upload(
        &state,
        &caller.user,
        &caller.context(),
        case,
        multipart,
        None,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(item)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PhysicalBody {
    pub title: String,
    #[serde(default)]
    pub category: String,
    pub survivor_id: Option<String>,
    pub stage: Option<String>,
    pub collected_by: String,
    pub collected_at: Option<String>,
    pub collected_where: String,
    pub collected_how: String,
}

/// Register a physical item (clothing, a phone, a ledger).
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/items", tag = "legal", params(("id" = String, Path)), request_body = PhysicalBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn add_physical(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PhysicalBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let case = case_id(&id)?;
    let meta = EvidenceMeta {
        kind: "physical".into(),
        category: body.category,
        survivor_id: match body.survivor_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(survivor(s)?),
        },
        signed: false,
        title: body.title,
        stage: body.stage,
        collected_by: body.collected_by,
        collected_at: collected_at(body.collected_at.as_deref().unwrap_or_default())?,
        collected_where: body.collected_where,
        collected_how: body.collected_how,
    };
    let id = evidence::add_physical(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        case,
        &meta,
    )
    .await?;
    Ok(created(id))
}

/// An item's record and chain of custody.
#[utoipa::path(get, path = "/api/v1/legal/evidence/{id}", tag = "legal", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The item with its chain of custody"), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read_item(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<evidence::EvidenceDetail>, ApiError> {
    Ok(Json(
        evidence::read(
            &state.db,
            state.keyring()?,
            &caller.user,
            &caller.context(),
            item_id(&id)?,
        )
        .await?,
    ))
}

/// Streams a decrypted evidence file to the client. The first chunk is verified before the
/// answer starts; a later altered chunk or a final hash mismatch aborts the transfer.
pub async fn content_response(
    state: &AppState,
    user: &User,
    ctx: &RequestContext,
    id: Uuid,
) -> Result<Response, ApiError> {
    let opened = evidence::open_content(
        &state.db,
        state.keyring()?,
        state.evidence()?,
        user,
        ctx,
        id,
    )
    .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let first = opened.first;
    let mut reader = opened.reader;
    tokio::task::spawn_blocking(move || {
        if tx.blocking_send(Ok(first)).is_err() {
            return;
        }
        loop {
            match reader.next_chunk() {
                Ok(Some(chunk)) => {
                    if tx.blocking_send(Ok(chunk)).is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(why) => {
                    tracing::error!(evidence = %id, problem = %why.0, "evidence file failed its integrity check while streaming");
                    let _ = tx.blocking_send(Err(std::io::Error::other(why.0)));
                    return;
                }
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let summary = opened.summary;
    let media = summary
        .media_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let name: String = summary
        .file_name
        .clone()
        .unwrap_or_else(|| "evidence".to_owned())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&media)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(size) = summary.size_bytes {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    }
    if let Some(sha) = summary.sha256 {
        if let Ok(v) = HeaderValue::from_str(&sha) {
            headers.insert("x-content-sha256", v);
        }
    }
    Ok(response)
}

/// Download an item's original file, decrypted and verified as it streams.
#[utoipa::path(get, path = "/api/v1/legal/evidence/{id}/content", tag = "legal", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The original file; X-Content-SHA256 carries its recorded hash"), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn content(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    content_response(&state, &caller.user, &caller.context(), item_id(&id)?).await
}

/// Re-read a stored file and check it against its recorded SHA-256.
#[utoipa::path(get, path = "/api/v1/legal/evidence/{id}/verify", tag = "legal", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "{intact, sha256, problem}"), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<evidence::Integrity>, ApiError> {
    Ok(Json(
        evidence::verify(
            &state.db,
            state.keyring()?,
            state.evidence()?,
            &caller.user,
            &caller.context(),
            item_id(&id)?,
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TransferBody {
    /// The username of the staff member who receives it.
    pub to: String,
    pub reason: String,
}

/// Hand an item to another known member of staff; appended to its chain of custody.
#[utoipa::path(post, path = "/api/v1/legal/evidence/{id}/custody", tag = "legal", params(("id" = String, Path)), request_body = TransferBody, security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn transfer(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<StatusCode, ApiError> {
    evidence::transfer(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        item_id(&id)?,
        &body.to,
        &body.reason,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LegalHoldBody {
    /// Why a court needs this item kept if her record is erased.
    pub reason: String,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct LegalHoldPlaced {
    /// Who decided it.
    pub by: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Put an item linked to a survivor on legal hold (lawyers and managers): it is kept, file and
/// all, if her record is erased later.
#[utoipa::path(post, path = "/api/v1/legal/evidence/{id}/legal-hold", tag = "legal", params(("id" = String, Path)), request_body = LegalHoldBody, security(("bearer" = [])),
    responses((status = 201, body = LegalHoldPlaced), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn legal_hold(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LegalHoldBody>,
) -> Result<(StatusCode, Json<LegalHoldPlaced>), ApiError> {
    let hold = evidence::place_legal_hold(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        item_id(&id)?,
        &body.reason,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(LegalHoldPlaced {
            by: hold.by,
            at: hold.at,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BundleBody {
    /// The items to include, in order.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Include the statements survivors shared for the case.
    #[serde(default)]
    pub statements: bool,
}

async fn build_bundle(
    state: &AppState,
    caller: &ApiUser,
    id: &str,
    body: &BundleBody,
) -> Result<legal_bundle::Bundle, ApiError> {
    let case = case_id(id)?;
    let items = body
        .evidence
        .iter()
        .map(|e| {
            Uuid::parse_str(e.trim())
                .map_err(|_| ApiError::bad_request("evidence: an item is not a valid identifier"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(legal_bundle::build(
        &state.db,
        state.keyring()?,
        state.evidence()?,
        &caller.user,
        &caller.context(),
        case,
        &items,
        body.statements,
    )
    .await?)
}

/// The court bundle as a PDF (cover index, page numbers, hashes, custody, manifest).
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/bundle", tag = "legal", params(("id" = String, Path)), request_body = BundleBody, security(("bearer" = [])),
    responses((status = 200, description = "application/pdf"), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn bundle(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BundleBody>,
) -> Result<Response, ApiError> {
    let bundle = build_bundle(&state, &caller, &id, &body).await?;
    Ok(pdf_response(bundle))
}

pub fn pdf_response(bundle: legal_bundle::Bundle) -> Response {
    let name = format!(
        "attachment; filename=\"bundle-{}.pdf\"",
        bundle.manifest.case_reference
    );
    let mut response = bundle.pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// The bundle's manifest alone (JSON), to re-verify every file's SHA-256.
#[utoipa::path(post, path = "/api/v1/legal/cases/{id}/bundle/manifest", tag = "legal", params(("id" = String, Path)), request_body = BundleBody, security(("bearer" = [])),
    responses((status = 200, description = "The manifest"), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn bundle_manifest(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BundleBody>,
) -> Result<Json<legal_bundle::Manifest>, ApiError> {
    Ok(Json(
        build_bundle(&state, &caller, &id, &body).await?.manifest,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// First day shown (YYYY-MM-DD); today when left out.
    pub from: Option<String>,
    /// How many days, 1 to 366 (default 60).
    pub days: Option<i64>,
}

/// Hearings across cases, with reminders for the caller and no-contact warnings. Aftercare
/// staff see only hearings where a survivor assigned to them is expected.
#[utoipa::path(get, path = "/api/v1/legal/hearings", tag = "legal", params(CalendarQuery), security(("bearer" = [])),
    responses((status = 200, description = "{hearings, reminders, no_contact}"), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn calendar(
    State(state): State<AppState>,
    caller: ApiUser,
    query: Result<Query<CalendarQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<legal::Calendar>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let from = match query.from.as_deref() {
        Some(raw) => date("from", raw)?
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_else(Utc::now),
        None => Utc::now() - chrono::Duration::hours(12),
    };
    let days = query.days.unwrap_or(60);
    if !(1..=366).contains(&days) {
        return Err(ApiError::bad_request("days must be between 1 and 366"));
    }
    Ok(Json(
        legal::calendar(
            &state.db,
            state.keyring()?,
            &caller.user,
            &caller.context(),
            from,
            days,
        )
        .await?,
    ))
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Figures {
    pub cases: i64,
    pub convictions: u64,
    pub acquittals: u64,
    pub sentence_months_total: i64,
    /// In riel.
    pub compensation_ordered: i64,
    pub compensation_paid: i64,
    pub median_days_complaint_to_verdict: Option<i64>,
}

/// Legal outcome indicators across the organisation's cases.
#[utoipa::path(get, path = "/api/v1/legal/figures", tag = "legal", security(("bearer" = [])),
    responses((status = 200, body = Figures), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn figures(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<Figures>, ApiError> {
    let (f, cases) = legal::figures(&state.db, &caller.user, &caller.context()).await?;
    Ok(Json(Figures {
        cases,
        convictions: f.convictions,
        acquittals: f.acquittals,
        sentence_months_total: f.sentence_months_total,
        compensation_ordered: f.compensation_ordered,
        compensation_paid: f.compensation_paid,
        median_days_complaint_to_verdict: f.median_days_to_verdict,
    }))
}
