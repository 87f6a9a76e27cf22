//! Survivor records over the API. Every answer comes from `haven_store::survivors`, which
//! applies the access policy field by field; a record the caller may not see is a 404.

use crate::api::json::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use haven_core::{
    FieldClass, OrgId, Reference, RequestContext, SurvivorField, SurvivorId, Username,
};
use haven_store::survivors::{self, Audience, SurvivorSummary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

fn parse_id(raw: &str) -> Result<SurvivorId, ApiError> {
    // An unparseable ID names no record: the same answer as a record one may not see.
    raw.parse().map_err(|_| ApiError::not_found("survivor"))
}

/// Parses `{"field": "value"}` into survivor fields, naming an unknown field.
pub fn parse_fields(
    fields: &BTreeMap<String, String>,
) -> Result<Vec<(SurvivorField, String)>, ApiError> {
    fields
        .iter()
        .map(|(name, value)| {
            SurvivorField::parse(name)
                .map(|f| (f, value.clone()))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "'{name}' is not a field of the survivor record; known fields: {}",
                        SurvivorField::ALL.map(SurvivorField::as_str).join(", ")
                    ))
                })
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurvivorOut {
    pub id: String,
    pub reference: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// True when the record was erased: its fields can never be read again.
    pub erased: bool,
    /// Send it back with changes: a save based on an older version is refused (409).
    pub version: i64,
    /// Only the fields the caller may read; a hidden field is absent, not blank.
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurvivorListItem {
    pub id: String,
    pub reference: String,
    pub created_at: DateTime<Utc>,
    pub erased: bool,
}

impl From<SurvivorSummary> for SurvivorListItem {
    fn from(s: SurvivorSummary) -> Self {
        SurvivorListItem {
            id: s.id.to_string(),
            reference: s.reference,
            created_at: s.created_at,
            erased: s.erased,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurvivorList {
    pub items: Vec<SurvivorListItem>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SurvivorQuery {
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Exact name or alias (case and spacing do not matter).
    pub name: Option<String>,
    /// Exact phone number, in any common format.
    pub phone: Option<String>,
}

/// The records the caller may see: references only, never fields.
#[utoipa::path(get, path = "/api/v1/survivors", tag = "survivors", params(SurvivorQuery), security(("bearer" = [])),
    responses((status = 200, body = SurvivorList), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
    query: Result<Query<SurvivorQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SurvivorList>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 200"));
    }
    if query.name.is_some() || query.phone.is_some() {
        let found = survivors::find(
            &state.db,
            state.keyring()?,
            &caller.user,
            query.name.as_deref(),
            query.phone.as_deref(),
        )
        .await?;
        return Ok(Json(SurvivorList {
            items: found.into_iter().map(Into::into).collect(),
            next_cursor: None,
        }));
    }
    let after = match query.cursor.as_deref() {
        Some(c) => Some(
            c.parse::<SurvivorId>()
                .map_err(|_| ApiError::bad_request("cursor is not valid"))?,
        ),
        None => None,
    };
    let page = survivors::list(&state.db, &caller.user, after, limit).await?;
    let next_cursor = (page.len() == limit as usize)
        .then(|| page.last().map(|s| s.id.to_string()))
        .flatten();
    Ok(Json(SurvivorList {
        items: page.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSurvivor {
    /// Her reference code, e.g. PP-2026-014 (a girl may refuse her name).
    pub reference: String,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// Register a survivor (aftercare and managers). The creating caseworker is assigned.
#[utoipa::path(post, path = "/api/v1/survivors", tag = "survivors", request_body = NewSurvivor, security(("bearer" = [])),
    responses((status = 201, body = SurvivorOut), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(body): ApiJson<NewSurvivor>,
) -> Result<(StatusCode, Json<SurvivorOut>), ApiError> {
    let reference =
        Reference::parse(&body.reference).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = parse_fields(&body.fields)?;
    let ctx = caller.context();
    let keyring = state.keyring()?;
    let id = survivors::create(&state.db, keyring, &caller.user, &ctx, &reference, &fields).await?;
    let view = survivors::read(&state.db, keyring, &caller.user, &ctx, id).await?;
    Ok((StatusCode::CREATED, Json(survivor_out(view))))
}

/// Her record as the API shows it (also the head of her case file).
pub(crate) fn survivor_out(view: survivors::SurvivorView) -> SurvivorOut {
    SurvivorOut {
        id: view.id.to_string(),
        reference: view.reference,
        created_at: view.created_at,
        updated_at: view.updated_at,
        version: view.version,
        erased: view.erased,
        fields: view
            .fields
            .into_iter()
            .map(|(f, v)| (f.as_str().to_owned(), v))
            .collect(),
    }
}

/// One record, with only the fields the caller may read.
#[utoipa::path(get, path = "/api/v1/survivors/{id}", tag = "survivors", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = SurvivorOut), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<SurvivorOut>, ApiError> {
    let id = parse_id(&id)?;
    let view = survivors::read(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        id,
    )
    .await?;
    Ok(Json(survivor_out(view)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SurvivorChanges {
    pub fields: BTreeMap<String, String>,
    /// The `version` of the record the changes are based on. When someone else saved in the
    /// meantime the answer is 409 and nothing is saved.
    pub version: i64,
}

/// Change fields; earlier values are kept in the history.
#[utoipa::path(patch, path = "/api/v1/survivors/{id}", tag = "survivors", params(("id" = String, Path)), request_body = SurvivorChanges, security(("bearer" = [])),
    responses((status = 200, body = SurvivorOut), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SurvivorChanges>,
) -> Result<Json<SurvivorOut>, ApiError> {
    let id = parse_id(&id)?;
    let changes = parse_fields(&body.fields)?;
    if changes.is_empty() {
        return Err(ApiError::bad_request("name at least one field to change"));
    }
    let ctx = caller.context();
    let keyring = state.keyring()?;
    survivors::update(
        &state.db,
        keyring,
        &caller.user,
        &ctx,
        id,
        &changes,
        body.version,
    )
    .await?;
    Ok(Json(survivor_out(
        survivors::read(&state.db, keyring, &caller.user, &ctx, id).await?,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Reason {
    /// Why, in a sentence (at least 10 characters).
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BreakGlassGranted {
    pub expires_at: DateTime<Utc>,
}

/// Emergency access to a record outside one's assignment (not medical), for four hours. The
/// reason is recorded and shown to managers.
#[utoipa::path(post, path = "/api/v1/survivors/{id}/break-glass", tag = "survivors", params(("id" = String, Path)), request_body = Reason, security(("bearer" = [])),
    responses((status = 200, body = BreakGlassGranted), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn break_glass(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<BreakGlassGranted>, ApiError> {
    let id = parse_id(&id)?;
    let expires_at =
        survivors::break_glass(&state.db, &caller.user, &caller.context(), id, &body.reason)
            .await?;
    Ok(Json(BreakGlassGranted { expires_at }))
}

/// What an erasure did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Erased {
    pub erased: bool,
    /// Evidence items linked to her whose key and file were destroyed with her record.
    pub evidence_destroyed: Vec<String>,
    /// Evidence items linked to her kept because they were put on legal hold before.
    pub evidence_kept_on_legal_hold: Vec<String>,
}

/// Erase a record for good (managers): her data key is destroyed, and with it everything
/// sealed with it; evidence linked to her is destroyed unless it is on legal hold.
#[utoipa::path(post, path = "/api/v1/survivors/{id}/erase", tag = "survivors", params(("id" = String, Path)), request_body = Reason, security(("bearer" = [])),
    responses((status = 200, body = Erased), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn erase(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Erased>, ApiError> {
    let id = parse_id(&id)?;
    let done = survivors::erase(
        &state.db,
        state.evidence()?,
        &caller.user,
        &caller.context(),
        id,
        &body.reason,
    )
    .await?;
    let ids = |v: Vec<uuid::Uuid>| v.into_iter().map(|i| i.to_string()).collect();
    Ok(Json(Erased {
        erased: true,
        evidence_destroyed: ids(done.evidence_destroyed),
        evidence_kept_on_legal_hold: ids(done.evidence_kept_on_legal_hold),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewShare {
    /// `partner` or `legal`.
    pub audience: String,
    /// The partner organisation, for `partner`.
    pub organisation_id: Option<String>,
    /// Kinds of information: identity, contact, medical, psychosocial, legal_statement.
    pub classes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareCreated {
    pub id: String,
}

/// Record her consent to share kinds of information with a partner or the legal team.
#[utoipa::path(post, path = "/api/v1/survivors/{id}/shares", tag = "survivors", params(("id" = String, Path)), request_body = NewShare, security(("bearer" = [])),
    responses((status = 201, body = ShareCreated), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn share(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewShare>,
) -> Result<(StatusCode, Json<ShareCreated>), ApiError> {
    let id = parse_id(&id)?;
    let audience = match (body.audience.as_str(), body.organisation_id.as_deref()) {
        ("legal", None) => Audience::Legal,
        ("partner", Some(org)) => Audience::Partner(
            org.parse::<OrgId>()
                .map_err(|_| ApiError::bad_request("organisation_id is not a valid identifier"))?,
        ),
        _ => {
            return Err(ApiError::bad_request(
                "audience must be 'legal', or 'partner' with an organisation_id",
            ))
        }
    };
    let classes = body
        .classes
        .iter()
        .map(|c| FieldClass::parse(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let share_id = survivors::share(
        &state.db,
        &caller.user,
        &caller.context(),
        id,
        audience,
        &classes,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ShareCreated {
            id: share_id.to_string(),
        }),
    ))
}

/// Withdraw a consent: the audience loses access at once.
#[utoipa::path(delete, path = "/api/v1/survivors/{id}/shares/{share_id}", tag = "survivors",
    params(("id" = String, Path), ("share_id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn withdraw_share(
    State(state): State<AppState>,
    caller: ApiUser,
    Path((id, share_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let share_id = uuid::Uuid::parse_str(&share_id).map_err(|_| ApiError::not_found("consent"))?;
    survivors::withdraw_share(&state.db, &caller.user, &caller.context(), id, share_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Assignees {
    pub usernames: Vec<String>,
}

/// Replace who is assigned to her (managers).
#[utoipa::path(put, path = "/api/v1/survivors/{id}/assignees", tag = "survivors", params(("id" = String, Path)), request_body = Assignees, security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn reassign(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Assignees>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    survivors::ensure_may(
        &state.db,
        &caller.user,
        id,
        haven_core::policy::Action::Reassign,
    )
    .await?;
    let mut ids = Vec::new();
    for name in &body.usernames {
        let username = Username::parse(name).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let user = haven_store::users::find_by_username(&state.db, &username)
            .await?
            .filter(|u| {
                !u.disabled
                    && u.org_id == caller.user.org_id
                    && u.roles.contains(haven_core::Role::Aftercare)
            })
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{name} is not an active aftercare caseworker of your organisation"
                ))
            })?;
        ids.push(user.id);
    }
    survivors::reassign(&state.db, &caller.user, &caller.context(), id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BreakGlassLogEntry {
    pub username: String,
    pub display_name: String,
    pub reference: String,
    pub reason: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Recent break-glass access in the organisation (managers).
#[utoipa::path(get, path = "/api/v1/break-glass", tag = "survivors", security(("bearer" = [])),
    responses((status = 200, body = [BreakGlassLogEntry]), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn break_glass_log(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<Vec<BreakGlassLogEntry>>, ApiError> {
    let entries = survivors::break_glass_log(&state.db, &caller.user, 100).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| BreakGlassLogEntry {
                username: e.username,
                display_name: e.display_name,
                reference: e.reference,
                reason: e.reason,
                granted_at: e.granted_at,
                expires_at: e.expires_at,
            })
            .collect(),
    ))
}

impl ApiUser {
    /// The audit context of this request.
    pub fn context(&self) -> RequestContext {
        self.ctx.clone()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionOut {
    pub field: String,
    /// The earlier value.
    pub value: String,
    pub valid_from: DateTime<Utc>,
    pub replaced_at: DateTime<Utc>,
    pub replaced_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOut {
    pub items: Vec<RevisionOut>,
}

/// Earlier values of her record, newest change first; only fields you may read.
#[utoipa::path(get, path = "/api/v1/survivors/{id}/history", tag = "survivors", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = HistoryOut), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<HistoryOut>, ApiError> {
    let id = parse_id(&id)?;
    let found = survivors::history(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        id,
    )
    .await?;
    Ok(Json(HistoryOut {
        items: found
            .into_iter()
            .map(|r| RevisionOut {
                field: r.field.as_str().to_owned(),
                value: r.value,
                valid_from: r.valid_from,
                replaced_at: r.replaced_at,
                replaced_by: r.replaced_by,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonOut {
    pub id: String,
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntryOut {
    /// Why: `assigned`, `crisis_team`, `partner_consent`, `legal_consent`,
    /// `manager_oversight`, `break_glass`, or `in_care_without_consent` (she is admitted to a
    /// partner whose consent she withdrew: it reads nothing, her caseworker must act).
    pub basis: String,
    pub organisation_id: String,
    pub organisation: String,
    /// The kinds of information it lets its holders read.
    pub classes: Vec<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// The active accounts it covers now.
    pub people: Vec<PersonOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalOut {
    pub organisation_id: String,
    pub organisation: String,
    pub withdrawn_by: String,
    pub withdrawn_at: DateTime<Utc>,
    /// How she withdrew; only for those who may record her consents.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessOut {
    pub survivor_id: String,
    /// Her reference; absent for auditors, who see who may read her but nothing of her.
    pub reference: Option<String>,
    pub entries: Vec<AccessEntryOut>,
    pub withdrawals: Vec<WithdrawalOut>,
}

/// Who may read her record, and why: every basis the access policy grants on (the same list
/// it decides from), with the people each covers, and the consents she withdrew. For her
/// assigned caseworker, managers of her organisation and auditors. The read is audited.
#[utoipa::path(get, path = "/api/v1/survivors/{id}/access", tag = "survivors", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = AccessOut), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn access(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<AccessOut>, ApiError> {
    let id = parse_id(&id)?;
    let report = haven_store::access::report(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        id,
    )
    .await?;
    Ok(Json(AccessOut {
        survivor_id: report.survivor.to_string(),
        reference: report.reference,
        entries: report
            .entries
            .into_iter()
            .map(|e| AccessEntryOut {
                basis: e.basis.to_owned(),
                organisation_id: e.org_id.to_string(),
                organisation: e.org_name,
                classes: e.classes.iter().map(|c| c.as_str().to_owned()).collect(),
                since: e.since,
                until: e.until,
                people: e
                    .people
                    .into_iter()
                    .map(|p| PersonOut {
                        id: p.id.to_string(),
                        username: p.username,
                        display_name: p.display_name,
                    })
                    .collect(),
            })
            .collect(),
        withdrawals: report
            .withdrawals
            .into_iter()
            .map(|w| WithdrawalOut {
                organisation_id: w.org_id.to_string(),
                organisation: w.org_name,
                withdrawn_by: w.withdrawn_by,
                withdrawn_at: w.withdrawn_at,
                reason: w.reason,
            })
            .collect(),
    }))
}
