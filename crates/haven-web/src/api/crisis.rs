//! Interventions, rosters and crisis care over the API. Every answer comes from
//! `haven_store::{interventions, crisis}`, which apply the roles and the survivor policy.

use crate::api::json::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use haven_core::crisis::{
    hours_minutes, last_seen, roster_hours, time_in_care, Alert, CareItem, CareLogKind, NextStep,
    PlacementClock, Safeguard,
};
use haven_core::identification::{
    ControlMeans, ExploitationType, IdentificationDecision, MinorStatus, Screening,
};
use haven_core::intervention::{InterventionDraft, VenueType};
use haven_core::{
    EpisodeId, InterventionId, OrgId, PartnerService, Reference, ShiftId, SurvivorId, UserId,
    ValidationError,
};
use haven_store::crisis::{self, Intake, LogEntry};
use haven_store::interventions::{self, Intervention};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

type ErrorBody = crate::error::ErrorBody;

/// An unparseable ID names nothing: the same answer as something one may not see.
fn id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(what))
}

fn invalid(e: ValidationError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InterventionIn {
    pub occurred_at: DateTime<Utc>,
    pub area: String,
    pub venue_name: String,
    /// brothel, karaoke_bar, beer_garden, massage_parlour, rented_room or other.
    pub venue_type: String,
    pub police_unit: String,
    /// The lead investigator's user ID.
    #[serde(default)]
    pub lead_investigator: Option<String>,
    pub persons_found: u32,
    pub victims_identified: u32,
    pub suspects_arrested: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InterventionOut {
    pub id: String,
    pub occurred_at: DateTime<Utc>,
    pub area: String,
    pub venue_name: String,
    pub venue_type: String,
    pub police_unit: String,
    pub lead_investigator: Option<String>,
    pub lead_investigator_name: Option<String>,
    pub persons_found: u32,
    pub victims_identified: u32,
    pub suspects_arrested: u32,
    /// Survivors taken into crisis care, and how many still await placement.
    pub in_care: u32,
    pub awaiting_placement: u32,
}

impl From<Intervention> for InterventionOut {
    fn from(i: Intervention) -> Self {
        InterventionOut {
            id: i.id.to_string(),
            occurred_at: i.occurred_at,
            area: i.area,
            venue_name: i.venue_name,
            venue_type: i.venue_type.as_str().to_owned(),
            police_unit: i.police_unit,
            lead_investigator: i.lead_investigator.map(|u| u.to_string()),
            lead_investigator_name: i.lead_investigator_name,
            persons_found: i.persons_found,
            victims_identified: i.victims_identified,
            suspects_arrested: i.suspects_arrested,
            in_care: i.in_care,
            awaiting_placement: i.awaiting_placement,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InterventionList {
    pub items: Vec<InterventionOut>,
}

/// Interventions of your organisation, newest first (no survivor detail).
#[utoipa::path(get, path = "/api/v1/interventions", tag = "crisis care", security(("bearer" = [])),
    responses((status = 200, body = InterventionList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<InterventionList>, ApiError> {
    let items = interventions::list(&state.db, &caller.user, 200).await?;
    Ok(Json(InterventionList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Parses an intervention as entered (the store checks it against the clock).
pub fn draft(body: InterventionIn) -> Result<InterventionDraft, ApiError> {
    let lead_investigator =
        match body.lead_investigator.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(raw.parse::<UserId>().map_err(|_| {
                ApiError::bad_request("lead_investigator: is not a valid identifier")
            })?),
        };
    Ok(InterventionDraft {
        occurred_at: body.occurred_at,
        area: body.area,
        venue_name: body.venue_name,
        venue_type: VenueType::parse(&body.venue_type).map_err(invalid)?,
        police_unit: body.police_unit,
        lead_investigator,
        persons_found: body.persons_found,
        victims_identified: body.victims_identified,
        suspects_arrested: body.suspects_arrested,
    })
}

/// Record an intervention (investigators, aftercare staff, managers).
#[utoipa::path(post, path = "/api/v1/interventions", tag = "crisis care", request_body = InterventionIn, security(("bearer" = [])),
    responses((status = 201, body = InterventionOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(body): ApiJson<InterventionIn>,
) -> Result<(StatusCode, Json<InterventionOut>), ApiError> {
    let draft = draft(body)?;
    let id = interventions::create(&state.db, &caller.user, &caller.context(), draft).await?;
    let found = interventions::get(&state.db, &caller.user, id).await?;
    Ok((StatusCode::CREATED, Json(found.into())))
}

/// One intervention (no survivor detail).
#[utoipa::path(get, path = "/api/v1/interventions/{id}", tag = "crisis care", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = InterventionOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<InterventionOut>, ApiError> {
    let found = interventions::get(&state.db, &caller.user, id(&raw, "intervention")?).await?;
    Ok(Json(found.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShiftOut {
    pub id: String,
    pub staff: String,
    pub staff_name: String,
    pub languages: Vec<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HourOut {
    pub starts_at: DateTime<Utc>,
    pub on_duty: Vec<String>,
    /// Part of this hour has nobody on duty.
    pub gap: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RosterOut {
    pub shifts: Vec<ShiftOut>,
    /// The next 48 hours, hour by hour, from the start of the current hour.
    pub hours: Vec<HourOut>,
}

/// The roster: shifts, and the coming 48 hours with every gap marked.
#[utoipa::path(get, path = "/api/v1/interventions/{id}/roster", tag = "crisis care", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = RosterOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn roster(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<RosterOut>, ApiError> {
    let shifts = interventions::roster(&state.db, &caller.user, id(&raw, "intervention")?).await?;
    let names: BTreeMap<UserId, String> = shifts
        .iter()
        .map(|s| (s.staff, s.staff_name.clone()))
        .collect();
    let plain: Vec<_> = shifts.iter().map(|s| s.as_shift()).collect();
    let hours = roster_hours(&plain, haven_store::clock::now(), 48)
        .into_iter()
        .map(|h| HourOut {
            starts_at: h.starts_at,
            on_duty: h
                .on_duty
                .iter()
                .filter_map(|u| names.get(u).cloned())
                .collect(),
            gap: h.gap,
        })
        .collect();
    Ok(Json(RosterOut {
        shifts: shifts
            .into_iter()
            .map(|s| ShiftOut {
                id: s.id.to_string(),
                staff: s.staff.to_string(),
                staff_name: s.staff_name,
                languages: s.languages,
                starts_at: s.starts_at,
                ends_at: s.ends_at,
            })
            .collect(),
        hours,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ShiftIn {
    /// The staff member's user ID (aftercare staff of your organisation).
    pub staff: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

/// Put a staff member on the roster: a manager or the intervention's lead (the aftercare
/// worker who recorded it) only; a shift opens the girls' records for its hours.
#[utoipa::path(post, path = "/api/v1/interventions/{id}/roster", tag = "crisis care", params(("id" = String, Path)), request_body = ShiftIn, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_shift(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<ShiftIn>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let intervention = id(&raw, "intervention")?;
    let staff: UserId = body
        .staff
        .parse()
        .map_err(|_| ApiError::bad_request("staff: is not a valid identifier"))?;
    let shift = interventions::add_shift(
        &state.db,
        &caller.user,
        &caller.context(),
        intervention,
        staff,
        body.starts_at,
        body.ends_at,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: shift.to_string(),
        }),
    ))
}

/// Take a shift off the roster: a manager or the intervention's lead only.
#[utoipa::path(delete, path = "/api/v1/interventions/{id}/roster/{shift_id}", tag = "crisis care", params(("id" = String, Path), ("shift_id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel_shift(
    State(state): State<AppState>,
    caller: ApiUser,
    Path((raw, shift)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let shift: ShiftId = id(&shift, "shift")?;
    interventions::cancel_shift(
        &state.db,
        &caller.user,
        &caller.context(),
        id(&raw, "intervention")?,
        shift,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IntakeIn {
    /// A temporary identifier is enough (she may refuse her name), e.g. TMP-SVP-04.
    pub reference: String,
    pub rescued_at: DateTime<Utc>,
    /// Survivor fields by name: name, aliases, sex, stated_age, date_of_birth, estimated_age,
    /// age_estimate_method, nationality, languages, interpreter_language, family_contact,
    /// immediate_medical_needs, recruiter_relationship, recruitment_factors...
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeOut {
    pub survivor_id: String,
    pub episode_id: String,
}

/// Take a survivor into crisis care at this intervention (registers her).
#[utoipa::path(post, path = "/api/v1/interventions/{id}/survivors", tag = "crisis care", params(("id" = String, Path)), request_body = IntakeIn, security(("bearer" = [])),
    responses((status = 201, body = IntakeOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn intake(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<IntakeIn>,
) -> Result<(StatusCode, Json<IntakeOut>), ApiError> {
    let intervention = id(&raw, "intervention")?;
    let reference = Reference::parse(&body.reference).map_err(invalid)?;
    let fields = super::survivors::parse_fields(&body.fields)?;
    let (survivor, episode) = crisis::intake(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        intervention,
        &Intake {
            reference,
            rescued_at: body.rescued_at,
            fields,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(IntakeOut {
            survivor_id: survivor.to_string(),
            episode_id: episode.to_string(),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OpenEpisodeIn {
    /// A survivor already registered.
    pub survivor_id: String,
    pub rescued_at: DateTime<Utc>,
}

/// Open crisis care for a survivor already registered, found again at this intervention.
#[utoipa::path(post, path = "/api/v1/interventions/{id}/episodes", tag = "crisis care", params(("id" = String, Path)), request_body = OpenEpisodeIn, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn open_episode(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<OpenEpisodeIn>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let intervention = id(&raw, "intervention")?;
    let survivor: SurvivorId = id(&body.survivor_id, "survivor")?;
    let episode = crisis::open_episode(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor,
        intervention,
        body.rescued_at,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: episode.to_string(),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StationGirl {
    pub episode_id: String,
    pub survivor_id: String,
    pub reference: String,
    /// Absent when she gave no name or you may not read it.
    pub name: Option<String>,
    pub age: Option<String>,
    pub languages: Option<String>,
    pub interpreter_language: Option<String>,
    /// Only for those allowed medical information.
    pub immediate_medical_needs: Option<String>,
    pub rescued_at: DateTime<Utc>,
    /// "31 h 05 min"
    pub time_in_care: String,
    pub last_contact_at: Option<DateTime<Utc>>,
    pub since_last_contact: String,
    pub placed_at: Option<DateTime<Utc>>,
    pub placement: Option<String>,
    pub staff_language_needed: Option<String>,
    pub minor_status: Option<String>,
    #[schema(value_type = Object)]
    pub clock: PlacementClock,
    #[schema(value_type = String)]
    pub next_step: NextStep,
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<Alert>,
    /// Each safeguard's latest check and whether it is due.
    pub safeguards: Vec<SafeguardStatusOut>,
}

/// Where one safeguard stands for her.
#[derive(Debug, Serialize, ToSchema)]
pub struct SafeguardStatusOut {
    pub safeguard: String,
    /// Absent when it was never checked.
    pub last_at: Option<DateTime<Utc>>,
    /// Whether the latest check was a confirmation (true) or a breach report (false).
    pub last_met: Option<bool>,
    pub last_by: Option<String>,
    /// Due to be confirmed (again): unconfirmed for 12 hours, or never since her first hour.
    pub due: bool,
}

fn status_out(status: Vec<crisis::SafeguardStatus>) -> Vec<SafeguardStatusOut> {
    status
        .into_iter()
        .map(|s| SafeguardStatusOut {
            safeguard: s.safeguard.as_str().to_owned(),
            last_at: s.last.as_ref().map(|l| l.at),
            last_met: s.last.as_ref().map(|l| l.met),
            last_by: s.last.map(|l| l.by),
            due: s.due,
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StationOut {
    pub intervention: InterventionOut,
    pub at: DateTime<Utc>,
    pub girls: Vec<StationGirl>,
    /// Roster gaps (anyone, and staff speaking a language a girl needs) in the next 12 hours.
    #[schema(value_type = Vec<Object>)]
    pub roster_alerts: Vec<Alert>,
}

/// The police-station view: every girl you may see, her clock, needs and next step.
#[utoipa::path(get, path = "/api/v1/interventions/{id}/station", tag = "crisis care", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = StationOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn station(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<StationOut>, ApiError> {
    let view = crisis::station(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        id(&raw, "intervention")?,
    )
    .await?;
    let at = view.at;
    Ok(Json(StationOut {
        intervention: view.intervention.into(),
        at,
        girls: view
            .entries
            .into_iter()
            .map(|e| StationGirl {
                episode_id: e.episode.to_string(),
                survivor_id: e.survivor.to_string(),
                reference: e.reference,
                name: e.name,
                age: e.age,
                languages: e.languages,
                interpreter_language: e.interpreter_language,
                immediate_medical_needs: e.medical_needs,
                time_in_care: hours_minutes(time_in_care(e.rescued_at, e.placed_at, at)),
                since_last_contact: hours_minutes(at - last_seen(e.rescued_at, e.last_contact_at)),
                rescued_at: e.rescued_at,
                last_contact_at: e.last_contact_at,
                placed_at: e.placed_at,
                placement: e.placement,
                staff_language_needed: e.staff_language_needed,
                minor_status: e.minor_status.map(|m| m.as_str().to_owned()),
                clock: e.clock,
                next_step: e.next_step,
                alerts: e.alerts,
                safeguards: status_out(e.safeguards),
            })
            .collect(),
        roster_alerts: view.roster_alerts,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogLineOut {
    pub kind: String,
    pub at: DateTime<Utc>,
    pub items: Vec<String>,
    /// Absent when empty or when you may not read notes of this kind (medical checks).
    pub note: Option<String>,
    pub recorded_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SafeguardOut {
    pub safeguard: String,
    pub met: bool,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    pub checked_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScreeningOut {
    pub minor_status: String,
    pub decision: String,
    pub screened_at: DateTime<Utc>,
    pub control_means: Vec<String>,
    pub exploitation: Vec<String>,
    pub reasons: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EpisodeOut {
    pub id: String,
    pub survivor_id: String,
    pub reference: String,
    pub intervention_id: String,
    pub rescued_at: DateTime<Utc>,
    pub last_contact_at: Option<DateTime<Utc>>,
    pub placed_at: Option<DateTime<Utc>>,
    pub placement: Option<String>,
    pub placement_service: Option<String>,
    #[schema(value_type = Object)]
    pub clock: PlacementClock,
    #[schema(value_type = String)]
    pub next_step: NextStep,
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<Alert>,
    /// Newest first.
    pub log: Vec<LogLineOut>,
    pub safeguards: Vec<SafeguardOut>,
    /// Each safeguard's latest check and whether it is due.
    pub safeguard_status: Vec<SafeguardStatusOut>,
    pub screening: Option<ScreeningOut>,
}

/// One girl's crisis care: log, safeguard checks, screening, placement.
#[utoipa::path(get, path = "/api/v1/episodes/{id}", tag = "crisis care", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = EpisodeOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn episode(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<EpisodeOut>, ApiError> {
    let v = crisis::episode(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        id(&raw, "crisis-care episode")?,
    )
    .await?;
    Ok(Json(EpisodeOut {
        id: v.episode.to_string(),
        survivor_id: v.survivor.to_string(),
        reference: v.reference,
        intervention_id: v.intervention.to_string(),
        rescued_at: v.rescued_at,
        last_contact_at: v.last_contact_at,
        placed_at: v.placed_at,
        placement: v.placement,
        placement_service: v.placement_service,
        clock: v.clock,
        next_step: v.next_step,
        alerts: v.alerts,
        log: v
            .log
            .into_iter()
            .map(|l| LogLineOut {
                kind: l.kind.as_str().to_owned(),
                at: l.at,
                items: l.items.iter().map(|i| i.as_str().to_owned()).collect(),
                note: l.note,
                recorded_by: l.recorded_by,
            })
            .collect(),
        safeguards: v
            .safeguards
            .into_iter()
            .map(|s| SafeguardOut {
                safeguard: s.safeguard.as_str().to_owned(),
                met: s.met,
                at: s.at,
                note: s.note,
                checked_by: s.checked_by,
            })
            .collect(),
        safeguard_status: status_out(v.safeguard_status),
        screening: v.screening.map(|s| ScreeningOut {
            minor_status: s.minor_status.as_str().to_owned(),
            decision: s.decision,
            screened_at: s.screened_at,
            control_means: s.control_means,
            exploitation: s.exploitation,
            reasons: s.reasons,
        }),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LogIn {
    /// contact, meal, care_package, medical_check or interpreter_session.
    pub kind: String,
    /// For a care package: food, water, toiletries, clothing.
    #[serde(default)]
    pub items: Vec<String>,
    /// When it happened; now when absent.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub note: String,
}

/// Parses a care-log entry as entered.
pub fn log_entry(
    kind: &str,
    items: &[String],
    at: Option<DateTime<Utc>>,
    note: String,
) -> Result<LogEntry, ApiError> {
    Ok(LogEntry {
        kind: CareLogKind::parse(kind).map_err(invalid)?,
        items: items
            .iter()
            .map(|i| CareItem::parse(i))
            .collect::<Result<_, _>>()
            .map_err(invalid)?,
        at: at.unwrap_or_else(haven_store::clock::now),
        note,
    })
}

/// Log a contact, meal, care package, medical check or interpreter session.
#[utoipa::path(post, path = "/api/v1/episodes/{id}/log", tag = "crisis care", params(("id" = String, Path)), request_body = LogIn, security(("bearer" = [])),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn log(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<LogIn>,
) -> Result<StatusCode, ApiError> {
    let episode: EpisodeId = id(&raw, "crisis-care episode")?;
    let entry = log_entry(&body.kind, &body.items, body.at, body.note)?;
    crisis::log_care(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        episode,
        &entry,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SafeguardIn {
    /// not_in_cell, no_suspect_contact or female_staff_present.
    pub safeguard: String,
    /// false reports a breach (a note is then required).
    pub met: bool,
    #[serde(default)]
    pub note: String,
    /// true records a confirmation although the same safeguard was confirmed for her in the
    /// last 10 minutes (otherwise answered 409 `already_confirmed`, nothing written).
    #[serde(default)]
    pub repeat: bool,
}

/// Confirm a safeguard, or report it breached. A confirmation of a safeguard already
/// confirmed for her in the last 10 minutes is taken for a repeated tap: 409
/// `already_confirmed` says when and by whom, and nothing is written unless `repeat` is true.
/// A breach report is always recorded.
#[utoipa::path(post, path = "/api/v1/episodes/{id}/safeguards", tag = "crisis care", params(("id" = String, Path)), request_body = SafeguardIn, security(("bearer" = [])),
    responses((status = 204, description = "Recorded"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Already confirmed moments ago (`already_confirmed`; send `repeat: true` to record it again), or her episode has ended")))]
pub async fn safeguard(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<SafeguardIn>,
) -> Result<StatusCode, ApiError> {
    let episode: EpisodeId = id(&raw, "crisis-care episode")?;
    let safeguard = Safeguard::parse(&body.safeguard).map_err(invalid)?;
    let outcome = crisis::check_safeguard(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        episode,
        safeguard,
        body.met,
        &body.note,
        body.repeat,
    )
    .await?;
    match outcome {
        crisis::SafeguardOutcome::Recorded => Ok(StatusCode::NO_CONTENT),
        crisis::SafeguardOutcome::AlreadyConfirmed { at, by } => Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_confirmed",
            format!(
                "\"{}\" was already confirmed at {} by {by}; nothing was recorded. Send it again with \"repeat\": true to record it once more.",
                safeguard.as_str(),
                at.with_timezone(&state.config.local_offset).format("%H:%M"),
            ),
        )),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ScreeningIn {
    /// certain, probable or adult.
    pub minor_status: String,
    #[serde(default)]
    pub control_means: Vec<String>,
    #[serde(default)]
    pub exploitation: Vec<String>,
    /// victim, not_victim or pending.
    pub decision: String,
    pub reasons: String,
    /// Staff saw papers proving her date of birth.
    #[serde(default)]
    pub documents_seen: bool,
}

/// Parses a screening as entered.
pub fn screening(
    minor_status: &str,
    control_means: &[String],
    exploitation: &[String],
    decision: &str,
    reasons: String,
) -> Result<Screening, ApiError> {
    Ok(Screening {
        minor_status: MinorStatus::parse(minor_status).map_err(invalid)?,
        control_means: control_means
            .iter()
            .map(|m| ControlMeans::parse(m))
            .collect::<Result<_, _>>()
            .map_err(invalid)?,
        exploitation: exploitation
            .iter()
            .map(|e| ExploitationType::parse(e))
            .collect::<Result<_, _>>()
            .map_err(invalid)?,
        decision: IdentificationDecision::parse(decision).map_err(invalid)?,
        reasons,
    })
}

/// Record a victim-identification screening.
#[utoipa::path(post, path = "/api/v1/episodes/{id}/identification", tag = "crisis care", params(("id" = String, Path)), request_body = ScreeningIn, security(("bearer" = [])),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn identification(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<ScreeningIn>,
) -> Result<StatusCode, ApiError> {
    let episode: EpisodeId = id(&raw, "crisis-care episode")?;
    let parsed = screening(
        &body.minor_status,
        &body.control_means,
        &body.exploitation,
        &body.decision,
        body.reasons,
    )?;
    crisis::screen(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        episode,
        parsed,
        body.documents_seen,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlacementIn {
    /// The partner organisation's ID.
    pub partner: String,
    /// assessment_centre, emergency_shelter, long_term_residential_care or
    /// independent_living_transition.
    pub service: String,
    /// When she was placed; now when absent.
    #[serde(default)]
    pub placed_at: Option<DateTime<Utc>>,
}

/// Place her with a partner: the end of crisis care.
#[utoipa::path(post, path = "/api/v1/episodes/{id}/placement", tag = "crisis care", params(("id" = String, Path)), request_body = PlacementIn, security(("bearer" = [])),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn placement(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<PlacementIn>,
) -> Result<StatusCode, ApiError> {
    let episode: EpisodeId = id(&raw, "crisis-care episode")?;
    let partner: OrgId = body
        .partner
        .parse()
        .map_err(|_| ApiError::bad_request("partner: is not a valid identifier"))?;
    let service = PartnerService::parse(&body.service).map_err(invalid)?;
    crisis::place(
        &state.db,
        &caller.user,
        &caller.context(),
        episode,
        partner,
        service,
        body.placed_at.unwrap_or_else(haven_store::clock::now),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamAlertOut {
    pub intervention_id: String,
    pub venue: String,
    /// Her reference and episode, for an alert about one girl.
    pub survivor_reference: Option<String>,
    pub episode_id: Option<String>,
    #[schema(value_type = Object)]
    pub alert: Alert,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertList {
    pub items: Vec<TeamAlertOut>,
}

/// Your team's alerts, most urgent first: unplaced girls near or past 48 hours, no contact
/// for 4 hours, safeguards missing or breached, roster gaps in the next 12 hours.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "crisis care", security(("bearer" = [])),
    responses((status = 200, body = AlertList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<AlertList>, ApiError> {
    let items = crisis::alerts(&state.db, &caller.user).await?;
    Ok(Json(AlertList {
        items: items
            .into_iter()
            .map(|a| TeamAlertOut {
                intervention_id: a.intervention.to_string(),
                venue: a.venue,
                survivor_reference: a.survivor.as_ref().map(|(_, _, r)| r.clone()),
                episode_id: a.survivor.as_ref().map(|(_, e, _)| e.to_string()),
                alert: a.alert,
            })
            .collect(),
    }))
}

/// The ID type of an intervention path segment, for pages sharing these parsers.
pub fn intervention_id(raw: &str) -> Result<InterventionId, ApiError> {
    id(raw, "intervention")
}

/// The ID type of an episode path segment.
pub fn episode_id(raw: &str) -> Result<EpisodeId, ApiError> {
    id(raw, "crisis-care episode")
}
