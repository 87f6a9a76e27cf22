//! The partner directory, matching, consent, referrals, placements history, the referral
//! dashboard and notifications, over the API. Every answer comes from
//! `haven_store::{partner_profiles, referrals, notifications}`, which check who may do what;
//! a referral or survivor the caller may not see is a 404.

use crate::api::json::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use haven_core::matching::{Agreement, Candidate, Need, Sex};
use haven_core::referral::{CosignerRole, ReferralEvent, ReferralStatus, Side};
use haven_core::{FieldClass, OrgId, PartnerService, SurvivorId, Username};
use haven_store::partner_profiles::{self, DirectoryEntry, ProfileInput};
use haven_store::referrals::{self, ConsentInput, ListFilter, Referral};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The routes of this module (listed in [`super::ROUTES`] too).
pub fn router() -> axum::Router<AppState> {
    use axum::routing::{get, post, put};
    axum::Router::new()
        .route("/api/v1/partners", get(directory))
        .route("/api/v1/partners/{id}", get(partner).put(update_partner))
        .route("/api/v1/partners/{id}/occupancy", put(set_occupancy))
        .route("/api/v1/survivors/{id}/matches", get(matches))
        .route(
            "/api/v1/survivors/{id}/consents",
            get(consents).post(record_consent),
        )
        .route(
            "/api/v1/survivors/{id}/consents/{consent_id}/withdraw",
            post(withdraw_consent),
        )
        .route("/api/v1/survivors/{id}/placements", get(placements))
        .route("/api/v1/referrals", get(list).post(create))
        .route("/api/v1/referrals/dashboard", get(dashboard))
        .route("/api/v1/referrals/{id}", get(read))
        .route("/api/v1/referrals/{id}/steps", post(step))
        .route("/api/v1/referrals/{id}/services", post(record_service))
        .route("/api/v1/notifications", get(notifications))
        .route("/api/v1/notifications/{id}/read", post(mark_read))
}

fn survivor_id(raw: &str) -> Result<SurvivorId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("survivor"))
}

fn org_id(raw: &str) -> Result<OrgId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found("partner organisation"))
}

fn uuid(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| ApiError::not_found(what))
}

fn bad(e: haven_core::ValidationError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

// ---------------------------------------------------------------------------------------
// Directory.

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerOut {
    pub id: String,
    pub name: String,
    pub services: Vec<String>,
    pub min_age: Option<u8>,
    pub max_age: Option<u8>,
    /// Sexes accepted; empty means all.
    pub sexes: Vec<String>,
    pub languages: Vec<String>,
    pub regions: Vec<String>,
    pub beds: u32,
    pub occupancy: u32,
    pub free_beds: u32,
    pub near_capacity: bool,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    /// active, paused or ended.
    pub agreement: String,
    pub updated_at: Option<DateTime<Utc>>,
}

pub fn partner_out(e: DirectoryEntry) -> PartnerOut {
    let p = &e.profile;
    PartnerOut {
        id: p.org.to_string(),
        name: p.name.clone(),
        services: p.services.iter().map(|s| s.as_str().to_owned()).collect(),
        min_age: p.min_age,
        max_age: p.max_age,
        sexes: p.sexes.iter().map(|s| s.as_str().to_owned()).collect(),
        languages: p.languages.clone(),
        regions: p.regions.clone(),
        beds: p.beds,
        occupancy: p.occupancy,
        free_beds: p.free_beds(),
        near_capacity: p.near_capacity(),
        agreement: p.agreement.as_str().to_owned(),
        contact_name: e.contact_name,
        contact_phone: e.contact_phone,
        contact_email: e.contact_email,
        updated_at: e.updated_at,
    }
}

/// The partner directory (administrators, caseworkers, managers).
#[utoipa::path(get, path = "/api/v1/partners", tag = "partners", security(("bearer" = [])),
    responses((status = 200, body = [PartnerOut]), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn directory(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<Vec<PartnerOut>>, ApiError> {
    let entries = partner_profiles::directory(&state.db, &caller.user).await?;
    Ok(Json(entries.into_iter().map(partner_out).collect()))
}

/// One partner's profile (directory readers, and the partner's own staff).
#[utoipa::path(get, path = "/api/v1/partners/{id}", tag = "partners", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = PartnerOut), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn partner(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<PartnerOut>, ApiError> {
    let entry = partner_profiles::get(&state.db, &caller.user, org_id(&id)?).await?;
    Ok(Json(partner_out(entry)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileIn {
    #[serde(default)]
    pub services: Vec<String>,
    pub min_age: Option<u8>,
    pub max_age: Option<u8>,
    #[serde(default)]
    pub sexes: Vec<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    pub beds: u32,
    #[serde(default)]
    pub occupancy: u32,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub contact_email: String,
    /// active, paused or ended.
    pub agreement: String,
}

/// Replace a partner's profile (administrators and managers).
#[utoipa::path(put, path = "/api/v1/partners/{id}", tag = "partners", params(("id" = String, Path)), request_body = ProfileIn, security(("bearer" = [])),
    responses((status = 200, body = PartnerOut), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn update_partner(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProfileIn>,
) -> Result<Json<PartnerOut>, ApiError> {
    let org = org_id(&id)?;
    let input = ProfileInput {
        services: body
            .services
            .iter()
            .map(|s| PartnerService::parse(s))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        min_age: body.min_age,
        max_age: body.max_age,
        sexes: body
            .sexes
            .iter()
            .map(|s| Sex::parse(s))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        languages: body.languages.join(","),
        regions: body.regions.join(","),
        beds: body.beds,
        occupancy: body.occupancy,
        contact_name: body.contact_name,
        contact_phone: body.contact_phone,
        contact_email: body.contact_email,
        agreement: Some(Agreement::parse(&body.agreement).map_err(bad)?),
    };
    partner_profiles::update(&state.db, &caller.user, &caller.context(), org, &input).await?;
    Ok(Json(partner_out(
        partner_profiles::get(&state.db, &caller.user, org).await?,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OccupancyIn {
    pub beds: u32,
    pub occupancy: u32,
}

/// Update beds and current occupancy (the partner's own staff, administrators, managers).
#[utoipa::path(put, path = "/api/v1/partners/{id}/occupancy", tag = "partners", params(("id" = String, Path)), request_body = OccupancyIn, security(("bearer" = [])),
    responses((status = 200, body = PartnerOut), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn set_occupancy(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OccupancyIn>,
) -> Result<Json<PartnerOut>, ApiError> {
    let org = org_id(&id)?;
    partner_profiles::set_occupancy(
        &state.db,
        &caller.user,
        &caller.context(),
        org,
        body.beds,
        body.occupancy,
    )
    .await?;
    Ok(Json(partner_out(
        partner_profiles::get(&state.db, &caller.user, org).await?,
    )))
}

// ---------------------------------------------------------------------------------------
// Matching.

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonOut {
    /// A stable code, e.g. `speaks_language`, `no_free_bed`.
    pub code: String,
    /// The code's arguments, e.g. `{"language": "vi"}`.
    pub args: BTreeMap<String, String>,
    /// The reason in English.
    pub text: String,
    /// True when this reason excludes the partner.
    pub excludes: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateOut {
    pub organisation_id: String,
    pub name: String,
    pub score: i64,
    pub reasons: Vec<ReasonOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchesOut {
    pub need: String,
    /// Partners who may take her, best first.
    pub eligible: Vec<CandidateOut>,
    /// Partners a hard rule excludes, with the reasons.
    pub excluded: Vec<CandidateOut>,
}

fn candidate_out(c: Candidate) -> CandidateOut {
    CandidateOut {
        organisation_id: c.org.to_string(),
        name: c.name,
        score: c.score,
        reasons: c
            .reasons
            .iter()
            .map(|r| ReasonOut {
                code: r.code().to_owned(),
                args: r
                    .args()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
                text: r.english(),
                excludes: r.excludes(),
            })
            .collect(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NeedQuery {
    /// `placement` (default) or a service such as `vocational_training`.
    pub need: Option<String>,
}

/// Rank every partner for her need, each with its reasons (those who may refer her).
#[utoipa::path(get, path = "/api/v1/survivors/{id}/matches", tag = "referrals", params(("id" = String, Path), NeedQuery), security(("bearer" = [])),
    responses((status = 200, body = MatchesOut), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn matches(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    query: Result<Query<NeedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MatchesOut>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let survivor = survivor_id(&id)?;
    let need = Need::parse(query.need.as_deref().unwrap_or("placement")).map_err(bad)?;
    let (_, ranking) = referrals::matches(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor,
        need,
    )
    .await?;
    Ok(Json(MatchesOut {
        need: need.as_string(),
        eligible: ranking.eligible.into_iter().map(candidate_out).collect(),
        excluded: ranking.excluded.into_iter().map(candidate_out).collect(),
    }))
}

// ---------------------------------------------------------------------------------------
// Consent.

#[derive(Debug, Deserialize, ToSchema)]
pub struct ConsentIn {
    /// The partner organisation she agrees to share with.
    pub organisation_id: String,
    /// Kinds of information: identity, contact, psychosocial, legal_statement.
    pub classes: Vec<String>,
    /// What the information will be used for, as she was told.
    pub purpose: String,
    /// The language the consent was explained in, e.g. `vi`.
    pub language: String,
    /// Username of the staff member who explained it; the caller when absent.
    pub explained_by: Option<String>,
    /// For a minor: `guardian` or `social_affairs_officer`.
    pub cosigner_role: Option<String>,
    /// For a minor: the co-signer's name (stored encrypted).
    pub cosigner_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

pub async fn consent_input(
    state: &AppState,
    caller: &haven_store::users::User,
    body: &ConsentIn,
) -> Result<ConsentInput, ApiError> {
    let org = body
        .organisation_id
        .parse::<OrgId>()
        .map_err(|_| ApiError::bad_request("organisation_id is not a valid identifier"))?;
    let classes = body
        .classes
        .iter()
        .map(|c| FieldClass::parse(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let explained_by = match body
        .explained_by
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        None => None,
        Some(name) => {
            let username = Username::parse(name).map_err(bad)?;
            let user = haven_store::users::find_by_username(&state.db, &username)
                .await?
                .filter(|u| !u.disabled && u.org_id == caller.org_id)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "explained_by: {name} is not an active staff member of your organisation"
                    ))
                })?;
            Some(user.id)
        }
    };
    let cosigner = match (
        body.cosigner_role
            .as_deref()
            .filter(|s| !s.trim().is_empty()),
        body.cosigner_name
            .as_deref()
            .filter(|s| !s.trim().is_empty()),
    ) {
        (None, None) => None,
        (Some(role), Some(name)) => {
            Some((CosignerRole::parse(role).map_err(bad)?, name.to_owned()))
        }
        (None, Some(_)) => return Err(ApiError::bad_request(
            "cosigner_role: say whether the co-signer is her guardian or a social-affairs officer",
        )),
        (Some(_), None) => {
            return Err(ApiError::bad_request(
                "cosigner_name: give the name of the person who co-signs",
            ))
        }
    };
    Ok(ConsentInput {
        org,
        classes,
        purpose: body.purpose.clone(),
        language: body.language.clone(),
        explained_by,
        cosigner,
    })
}

/// Record her informed consent to share kinds of information with one partner.
#[utoipa::path(post, path = "/api/v1/survivors/{id}/consents", tag = "referrals", params(("id" = String, Path)), request_body = ConsentIn, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn record_consent(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConsentIn>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let survivor = survivor_id(&id)?;
    haven_store::survivors::ensure_may(
        &state.db,
        &caller.user,
        survivor,
        haven_core::policy::Action::Share,
    )
    .await?;
    let input = consent_input(&state, &caller.user, &body).await?;
    let consent = referrals::record_consent(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor,
        &input,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: consent.to_string(),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentOut {
    pub id: String,
    pub organisation_id: String,
    pub organisation: String,
    pub classes: Vec<String>,
    pub purpose: String,
    pub language: String,
    pub explained_by: String,
    pub cosigner_role: Option<String>,
    pub cosigner_name: Option<String>,
    pub given_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// Her consents, newest first.
#[utoipa::path(get, path = "/api/v1/survivors/{id}/consents", tag = "referrals", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = [ConsentOut]), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn consents(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<ConsentOut>>, ApiError> {
    let list = referrals::consents(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor_id(&id)?,
    )
    .await?;
    Ok(Json(
        list.into_iter()
            .map(|c| ConsentOut {
                id: c.id.to_string(),
                organisation_id: c.org_id.to_string(),
                organisation: c.org_name,
                classes: c.classes.iter().map(|x| x.as_str().to_owned()).collect(),
                purpose: c.purpose,
                language: c.language,
                explained_by: c.explained_by,
                cosigner_role: c.cosigner_role.map(|r| r.as_str().to_owned()),
                cosigner_name: c.cosigner_name,
                given_at: c.given_at,
                withdrawn_at: c.withdrawn_at,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WithdrawConsentIn {
    /// How she withdrew her consent (she need not give a reason); kept sealed with her record.
    pub reason: String,
}

/// Withdraw her consent to share with the consent's partner: every consent and share to that
/// organisation ends at once, referrals to it not yet admitted are withdrawn, and one she is
/// admitted on is flagged for her caseworker (the partner keeps her reference and dates only).
#[utoipa::path(post, path = "/api/v1/survivors/{id}/consents/{consent_id}/withdraw", tag = "referrals",
    params(("id" = String, Path), ("consent_id" = String, Path)), request_body = WithdrawConsentIn, security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn withdraw_consent(
    State(state): State<AppState>,
    caller: ApiUser,
    Path((id, consent)): Path<(String, String)>,
    ApiJson(body): ApiJson<WithdrawConsentIn>,
) -> Result<StatusCode, ApiError> {
    let survivor = survivor_id(&id)?;
    let consent = uuid(&consent, "consent")?;
    referrals::withdraw_consent(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor,
        consent,
        &body.reason,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// Referrals.

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralOut {
    pub id: String,
    pub survivor_id: String,
    /// Her reference; absent for a partner once her consent is withdrawn.
    pub reference: Option<String>,
    pub organisation_id: String,
    pub organisation: String,
    /// `placement` or a service.
    pub need: String,
    pub status: String,
    pub age_band: String,
    pub decline_reason: Option<String>,
    pub withdraw_reason: Option<String>,
    pub discharge_outcome: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub admitted_at: Option<DateTime<Utc>>,
    pub discharged_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

pub fn referral_out(r: Referral) -> ReferralOut {
    ReferralOut {
        id: r.id.to_string(),
        survivor_id: r.survivor_id.to_string(),
        reference: r.reference,
        organisation_id: r.org_id.to_string(),
        organisation: r.org_name,
        need: r.need.as_string(),
        status: r.status.as_str().to_owned(),
        age_band: r.age_band,
        decline_reason: r.decline_reason,
        withdraw_reason: r.withdraw_reason,
        discharge_outcome: r.discharge_outcome,
        created_at: r.created_at,
        sent_at: r.sent_at,
        decided_at: r.decided_at,
        admitted_at: r.admitted_at,
        discharged_at: r.discharged_at,
        updated_at: r.updated_at,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralList {
    pub items: Vec<ReferralOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReferralQuery {
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub status: Option<String>,
    pub survivor_id: Option<String>,
}

/// Referrals the caller may see, newest first: partner staff see those sent to their
/// organisation; managers their organisation's; caseworkers those of their survivors.
#[utoipa::path(get, path = "/api/v1/referrals", tag = "referrals", params(ReferralQuery), security(("bearer" = [])),
    responses((status = 200, body = ReferralList), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
    query: Result<Query<ReferralQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ReferralList>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 200"));
    }
    let filter = ListFilter {
        status: query
            .status
            .as_deref()
            .map(ReferralStatus::parse)
            .transpose()
            .map_err(bad)?,
        survivor: query
            .survivor_id
            .as_deref()
            .map(|s| s.parse::<SurvivorId>())
            .transpose()
            .map_err(|_| ApiError::bad_request("survivor_id is not a valid identifier"))?,
        before: query
            .cursor
            .as_deref()
            .map(Uuid::parse_str)
            .transpose()
            .map_err(|_| ApiError::bad_request("cursor is not valid"))?,
    };
    let page = referrals::list(&state.db, &caller.user, &filter, limit).await?;
    let next_cursor = (page.len() == limit as usize)
        .then(|| page.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(Json(ReferralList {
        items: page.into_iter().map(referral_out).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewReferral {
    pub survivor_id: String,
    pub organisation_id: String,
    /// `placement` or a service such as `vocational_training`.
    pub need: String,
}

/// Draft a referral (those who may refer her). Refused with the reasons when a hard rule
/// excludes the partner.
#[utoipa::path(post, path = "/api/v1/referrals", tag = "referrals", request_body = NewReferral, security(("bearer" = [])),
    responses((status = 201, body = ReferralOut), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(body): ApiJson<NewReferral>,
) -> Result<(StatusCode, Json<ReferralOut>), ApiError> {
    let survivor = survivor_id(&body.survivor_id)?;
    haven_store::survivors::ensure_may(
        &state.db,
        &caller.user,
        survivor,
        haven_core::policy::Action::Share,
    )
    .await?;
    let org = body
        .organisation_id
        .parse::<OrgId>()
        .map_err(|_| ApiError::bad_request("organisation_id is not a valid identifier"))?;
    let need = Need::parse(&body.need).map_err(bad)?;
    let ctx = caller.context();
    let id = referrals::create(
        &state.db,
        state.keyring()?,
        &caller.user,
        &ctx,
        survivor,
        org,
        need,
    )
    .await?;
    let detail = referrals::get(&state.db, &caller.user, &ctx, id).await?;
    Ok((StatusCode::CREATED, Json(referral_out(detail.referral))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepOut {
    pub status: String,
    pub detail: String,
    pub at: DateTime<Utc>,
    pub by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceOut {
    pub service: String,
    pub delivered_on: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralDetailOut {
    pub referral: ReferralOut,
    /// `referrer` or `partner`: the caller's side.
    pub side: String,
    pub steps: Vec<StepOut>,
    pub services: Vec<ServiceOut>,
}

/// One referral with its history (the referring side, and the partner it was sent to).
#[utoipa::path(get, path = "/api/v1/referrals/{id}", tag = "referrals", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ReferralDetailOut), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ReferralDetailOut>, ApiError> {
    let id = uuid(&id, "referral")?;
    let detail = referrals::get(&state.db, &caller.user, &caller.context(), id).await?;
    Ok(Json(ReferralDetailOut {
        referral: referral_out(detail.referral),
        side: match detail.side {
            Side::Referrer => "referrer",
            Side::Partner => "partner",
        }
        .to_owned(),
        steps: detail
            .steps
            .into_iter()
            .map(|s| StepOut {
                status: s.status,
                detail: s.detail,
                at: s.at,
                by: s.by_name,
            })
            .collect(),
        services: detail
            .services
            .into_iter()
            .map(|s| ServiceOut {
                service: s.service,
                delivered_on: s.delivered_on,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StepIn {
    /// send, withdraw (referring side); accept, decline, admit, discharge (partner).
    pub action: String,
    /// For decline: no_capacity, outside_mandate, needs_not_met, safety_concern, other.
    /// For withdraw: she_declined, consent_withdrawn, needs_changed, placed_elsewhere, other.
    pub reason: Option<String>,
    /// For discharge: reintegrated, transferred, completed, left_care, other.
    pub outcome: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepDone {
    pub status: String,
}

/// Take the next step of a referral. Each side takes only its own steps; the other side is
/// notified.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/steps", tag = "referrals", params(("id" = String, Path)), request_body = StepIn, security(("bearer" = [])),
    responses((status = 200, body = StepDone), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn step(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StepIn>,
) -> Result<Json<StepDone>, ApiError> {
    let id = uuid(&id, "referral")?;
    let detail = body.outcome.as_deref().or(body.reason.as_deref());
    let event = ReferralEvent::parse(&body.action, detail).map_err(bad)?;
    let status = referrals::act(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        id,
        event,
    )
    .await?;
    Ok(Json(StepDone {
        status: status.as_str().to_owned(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ServiceIn {
    /// A service from the taxonomy, e.g. `counselling`.
    pub service: String,
    /// YYYY-MM-DD.
    pub delivered_on: String,
}

/// Record a service delivered to her (the partner's staff, once she is admitted).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/services", tag = "referrals", params(("id" = String, Path)), request_body = ServiceIn, security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn record_service(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ServiceIn>,
) -> Result<StatusCode, ApiError> {
    let id = uuid(&id, "referral")?;
    let service = PartnerService::parse(&body.service).map_err(bad)?;
    let on = NaiveDate::parse_from_str(body.delivered_on.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request("delivered_on must be a date written as YYYY-MM-DD"))?;
    referrals::record_service(&state.db, &caller.user, &caller.context(), id, service, on).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// Where she has been; the dashboard.

#[derive(Debug, Serialize, ToSchema)]
pub struct StayOut {
    pub referral_id: String,
    pub organisation: String,
    pub need: String,
    pub admitted_at: DateTime<Utc>,
    pub discharged_at: Option<DateTime<Utc>>,
    pub discharge_outcome: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlacementsOut {
    pub rescued_at: Vec<DateTime<Utc>>,
    /// Every stay with a partner, in order, transfers included.
    pub stays: Vec<StayOut>,
}

/// Where she has been: rescue, then each stay with a partner in order.
#[utoipa::path(get, path = "/api/v1/survivors/{id}/placements", tag = "referrals", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = PlacementsOut), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn placements(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<PlacementsOut>, ApiError> {
    let history = referrals::placements(
        &state.db,
        &caller.user,
        &caller.context(),
        survivor_id(&id)?,
    )
    .await?;
    Ok(Json(PlacementsOut {
        rescued_at: history.rescued_at,
        stays: history
            .stays
            .into_iter()
            .map(|s| StayOut {
                referral_id: s.referral_id.to_string(),
                organisation: s.org_name,
                need: s.need,
                admitted_at: s.admitted_at,
                discharged_at: s.discharged_at,
                discharge_outcome: s.discharge_outcome,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountOut {
    pub age_band: String,
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CapacityOut {
    pub organisation: String,
    pub free_beds: u32,
    pub beds: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeclineCount {
    pub reason: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardOut {
    pub open_referrals: Vec<CountOut>,
    pub placed: usize,
    pub median_hours_to_placement: Option<i64>,
    pub waiting_for_placement: i64,
    pub near_capacity: Vec<CapacityOut>,
    pub declined: Vec<DeclineCount>,
}

/// Open referrals by age band and status, time from rescue to placement, partners near
/// capacity, declines by reason (aftercare staff and managers).
#[utoipa::path(get, path = "/api/v1/referrals/dashboard", tag = "referrals", security(("bearer" = [])),
    responses((status = 200, body = DashboardOut), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<DashboardOut>, ApiError> {
    let d = referrals::dashboard(&state.db, &caller.user).await?;
    Ok(Json(DashboardOut {
        median_hours_to_placement: d.median_hours_to_placement(),
        placed: d.hours_to_placement.len(),
        waiting_for_placement: d.waiting_for_placement,
        open_referrals: d
            .open_by_age_and_status
            .into_iter()
            .map(|((age_band, status), count)| CountOut {
                age_band,
                status,
                count,
            })
            .collect(),
        near_capacity: d
            .near_capacity
            .into_iter()
            .map(|(organisation, free_beds, beds)| CapacityOut {
                organisation,
                free_beds,
                beds,
            })
            .collect(),
        declined: d
            .declined_by_reason
            .into_iter()
            .map(|(reason, count)| DeclineCount { reason, count })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------
// Notifications.

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    pub id: String,
    /// e.g. `referral.sent`, `referral.accepted`, `consent.withdrawn`.
    pub kind: String,
    pub referral_id: Option<String>,
    pub organisation: String,
    /// The survivor an alert is about (an incident), by ID and reference only: what happened
    /// is read in her file by those who may.
    pub survivor_id: Option<String>,
    pub survivor_reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub unread: i64,
    pub items: Vec<NotificationOut>,
}

/// The caller's own notifications, unread first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationList), (status = 401, body = crate::error::ErrorBody)))]
pub async fn notifications(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<NotificationList>, ApiError> {
    let items = haven_store::notifications::list(&state.db, &caller.user, 100).await?;
    let unread = haven_store::notifications::unread(&state.db, &caller.user).await?;
    Ok(Json(NotificationList {
        unread,
        items: items
            .into_iter()
            .map(|n| NotificationOut {
                id: n.id.to_string(),
                kind: n.kind,
                referral_id: n.referral_id.map(|r| r.to_string()),
                organisation: n.org_name,
                survivor_id: n.survivor_id.map(|s| s.to_string()),
                survivor_reference: n.survivor_reference,
                created_at: n.created_at,
                read: n.read_at.is_some(),
            })
            .collect(),
    }))
}

/// Mark one of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = uuid(&id, "notification")?;
    haven_store::notifications::mark_read(&state.db, &caller.user, &caller.context(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
