//! Crisis-care pages: the interventions list with the team's alerts, one intervention with its
//! roster and the intake form, police-station mode, and one girl's episode.
//!
//! Police-station mode is built for a phone on a slow connection: one column, large buttons,
//! plain forms (no script needed), the whole page a few kilobytes. Every action posts a form
//! and comes back to the page it was made from; a refused action shows the page again with
//! the reason and, for intake, everything that was typed.

use super::account::CsrfForm;
use super::{not_found_page, render, Shell};
use crate::api::crisis as api;
use crate::auth::{csrf_ok, csrf_token, locale_for, PageUser};
use crate::error::ApiError;
use crate::i18n::Translator;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::{CookieJar, Form};
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use haven_core::crisis::{
    hours_minutes, last_seen, roster_hours, time_in_care, Alert, CareItem, CareLogKind,
    PlacementClock, Safeguard,
};
use haven_core::identification::{
    ControlMeans, ExploitationType, IdentificationDecision, MinorStatus,
};
use haven_core::intervention::{may_record, may_roster, works_crisis_care, VenueType};
use haven_core::survivor::{RECRUITMENT_FACTORS, SEXES};
use haven_core::{
    EpisodeId, FieldClass, InterventionId, OrgKind, PartnerService, Reference, SurvivorField,
    UserId,
};
use haven_store::crisis::{self, Intake};
use haven_store::{interventions, survivors};
use serde::Deserialize;
use std::collections::BTreeMap;

const TIME: &str = "%Y-%m-%d %H:%M";
const INPUT_TIME: &str = "%Y-%m-%dT%H:%M";

/// Who asks, and the app: what every page builder needs.
#[derive(Clone, Copy)]
pub(crate) struct Req<'a> {
    pub(crate) state: &'a AppState,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) caller: &'a PageUser,
}

/// A message at the top of a page: a refusal (with the reason) or a confirmation.
#[derive(Debug, Clone)]
pub struct Notice {
    pub error: bool,
    pub text: String,
}

/// A time in the instance's local offset, as people read it.
fn local(at: DateTime<Utc>, offset: FixedOffset) -> String {
    at.with_timezone(&offset).format(TIME).to_string()
}

/// A time for a `datetime-local` input.
fn input_value(at: DateTime<Utc>, offset: FixedOffset) -> String {
    at.with_timezone(&offset).format(INPUT_TIME).to_string()
}

/// Reads a `datetime-local` value in the local offset; empty means "now".
fn parse_local(
    field: &'static str,
    value: &str,
    offset: FixedOffset,
) -> Result<DateTime<Utc>, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(haven_store::clock::now());
    }
    let naive = NaiveDateTime::parse_from_str(value, INPUT_TIME)
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M"))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "{field}: write a date and time such as 2026-11-26 21:30"
            ))
        })?;
    naive
        .and_local_timezone(offset)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ApiError::bad_request(format!("{field}: this time does not exist")))
}

/// The offset label shown next to times, e.g. "UTC+07:00".
fn zone(offset: FixedOffset) -> String {
    format!("UTC{offset}")
}

/// Describes an alert in the user's language.
pub fn alert_text(t: &Translator, alert: &Alert, offset: FixedOffset) -> String {
    let key = alert.message_key();
    match alert {
        Alert::SafeguardBreached { safeguard } | Alert::SafeguardMissing { safeguard } => {
            t.with(key, "safeguard", &t.get(&safeguard_key(*safeguard)))
        }
        Alert::PlacementOverdue { hours_past } => t.with(key, "hours", &hours_past.to_string()),
        Alert::PlacementDue { hours_left } => t.with(key, "hours", &hours_left.to_string()),
        Alert::NoContact { since } => t.with(key, "since", &local(*since, offset)),
        Alert::RosterGap { from, to } => t.with_args(
            key,
            &[("from", local(*from, offset)), ("to", local(*to, offset))],
        ),
        Alert::LanguageGap { language, from, to } => t.with_args(
            key,
            &[
                ("language", language.clone()),
                ("from", local(*from, offset)),
                ("to", local(*to, offset)),
            ],
        ),
    }
}

fn safeguard_key(s: Safeguard) -> String {
    format!("safeguard-{}", s.as_str())
}

/// A safeguard as its button shows it: when and by whom it was last checked, a confirmation
/// or a breach, and whether it is due again.
struct SafeguardButton {
    value: &'static str,
    label: String,
    status: String,
    due: bool,
    breach: bool,
}

fn safeguard_buttons(
    t: &Translator,
    status: &[crisis::SafeguardStatus],
    offset: FixedOffset,
) -> Vec<SafeguardButton> {
    status
        .iter()
        .map(|s| SafeguardButton {
            value: s.safeguard.as_str(),
            label: t.get(&safeguard_key(s.safeguard)),
            status: match &s.last {
                Some(last) => t.with_args(
                    if last.met {
                        "safeguard-last-confirmed"
                    } else {
                        "safeguard-last-breach"
                    },
                    &[("time", local(last.at, offset)), ("name", last.by.clone())],
                ),
                None => t.get("safeguard-never"),
            },
            due: s.due,
            breach: s.last.as_ref().is_some_and(|l| !l.met),
        })
        .collect()
}

/// The question after a repeated tap: it was confirmed moments ago; record it again?
pub struct RepeatAsk {
    episode: String,
    safeguard: &'static str,
    text: String,
    note: String,
    back: &'static str,
}

/// "46 h 12 min in care" and how the clock stands (for colour).
fn clock_class(clock: PlacementClock) -> &'static str {
    match clock {
        PlacementClock::OnTrack => "clock-ok",
        PlacementClock::Approaching { .. } => "clock-due",
        PlacementClock::Overdue { .. } => "clock-over",
        PlacementClock::Placed => "clock-placed",
    }
}

/// A choice in a select, radio group or checkbox group.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

fn choices<T: Copy>(
    t: &Translator,
    all: &[T],
    name: fn(T) -> &'static str,
    prefix: &str,
    checked: &dyn Fn(&str) -> bool,
) -> Vec<Choice> {
    all.iter()
        .map(|v| {
            let value = name(*v).to_owned();
            Choice {
                label: t.get(&format!("{prefix}-{value}")),
                checked: checked(&value),
                value,
            }
        })
        .collect()
}

/// Refusals that mean "not for you" become the not-found page; input errors come back as a
/// notice on the page; anything else is the error page.
pub(crate) fn failure(
    state: &AppState,
    locale: haven_core::Locale,
    caller: &PageUser,
    jar: CookieJar,
    err: ApiError,
) -> Response {
    if err.status == StatusCode::NOT_FOUND || err.status == StatusCode::FORBIDDEN {
        not_found_page(locale, Some(&caller.user), jar, state)
    } else {
        super::error_page(locale, err)
    }
}

/// What every form post starts with: a valid CSRF token (else the "form expired" page) and
/// the ID of what it acts on (else the not-found page).
pub(crate) fn form_target<T>(
    state: &AppState,
    headers: &HeaderMap,
    caller: &PageUser,
    jar: CookieJar,
    csrf: &str,
    id: Result<T, ApiError>,
) -> Result<(T, CookieJar), Box<Response>> {
    if !csrf_ok(&jar, csrf) {
        return Err(Box::new(super::login::expired_form(state, headers, jar)));
    }
    match id {
        Ok(id) => Ok((id, jar)),
        Err(err) => {
            let locale = locale_for(headers, Some(&caller.user));
            Err(Box::new(failure(state, locale, caller, jar, err)))
        }
    }
}

// ---------------------------------------------------------------- the interventions list

struct InterventionRow {
    id: String,
    when: String,
    venue: String,
    venue_type: String,
    area: String,
    in_care: u32,
    awaiting: u32,
}

struct AlertRow {
    text: String,
    urgent: bool,
    link: String,
    who: String,
    venue: String,
}

#[derive(Template)]
#[template(path = "interventions.html")]
struct InterventionsPage {
    shell: Shell,
    notice: Option<Notice>,
    rows: Vec<InterventionRow>,
    alerts: Vec<AlertRow>,
    show_alerts: bool,
    may_record: bool,
    venue_types: Vec<Choice>,
    investigators: Vec<(String, String)>,
    now_input: String,
    zone: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct InterventionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    occurred_at: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    venue_name: String,
    #[serde(default)]
    venue_type: String,
    #[serde(default)]
    police_unit: String,
    #[serde(default)]
    lead_investigator: String,
    #[serde(default)]
    persons_found: String,
    #[serde(default)]
    victims_identified: String,
    #[serde(default)]
    suspects_arrested: String,
}

async fn interventions_page(
    req: Req<'_>,
    jar: CookieJar,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    let Req {
        state,
        headers,
        caller,
    } = req;
    let locale = locale_for(headers, Some(&caller.user));
    let user = &caller.user;
    let offset = state.config.local_offset;
    let loaded = async {
        let list = interventions::list(&state.db, user, 200).await?;
        let alerts = if works_crisis_care(&user.roles) {
            crisis::alerts(&state.db, user).await?
        } else {
            Vec::new()
        };
        let investigators = interventions::investigators(&state.db, user).await?;
        Ok::<_, haven_store::StoreError>((list, alerts, investigators))
    }
    .await;
    let (list, alerts, investigators) = match loaded {
        Ok(found) => found,
        Err(err) => return failure(state, locale, caller, jar, err.into()),
    };
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale, Some(user), csrf, "/interventions");
    let t = &shell.t;
    let rows = list
        .into_iter()
        .map(|i| InterventionRow {
            id: i.id.to_string(),
            when: local(i.occurred_at, offset),
            venue: i.venue_name,
            venue_type: t.get(&format!("venue-{}", i.venue_type.as_str())),
            area: i.area,
            in_care: i.in_care,
            awaiting: i.awaiting_placement,
        })
        .collect();
    let alerts = alerts
        .iter()
        .map(|a| AlertRow {
            text: alert_text(t, &a.alert, offset),
            urgent: a.alert.urgency() <= 2,
            link: match &a.survivor {
                Some((_, episode, _)) => format!("/episodes/{episode}"),
                None => format!("/interventions/{}#roster", a.intervention),
            },
            who: a
                .survivor
                .as_ref()
                .map(|(_, _, r)| r.clone())
                .unwrap_or_default(),
            venue: a.venue.clone(),
        })
        .collect();
    let page = InterventionsPage {
        notice,
        rows,
        alerts,
        show_alerts: works_crisis_care(&user.roles),
        may_record: may_record(&user.roles),
        venue_types: choices(t, &VenueType::ALL, VenueType::as_str, "venue", &|_| false),
        investigators: investigators
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
        now_input: input_value(haven_store::clock::now(), offset),
        zone: zone(offset),
        shell,
    };
    (status, jar, render(&page)).into_response()
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    interventions_page(
        Req {
            state: &state,
            headers: &headers,
            caller: &caller,
        },
        jar,
        None,
        StatusCode::OK,
    )
    .await
}

fn number(field: &'static str, value: &str) -> Result<u32, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(0);
    }
    value
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{field}: write a whole number, such as 3")))
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Form(form): Form<InterventionForm>,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return super::login::expired_form(&state, &headers, jar);
    }
    let offset = state.config.local_offset;
    let parsed = (|| {
        Ok::<_, ApiError>(api::InterventionIn {
            occurred_at: parse_local("occurred_at", &form.occurred_at, offset)?,
            area: form.area.clone(),
            venue_name: form.venue_name.clone(),
            venue_type: form.venue_type.clone(),
            police_unit: form.police_unit.clone(),
            lead_investigator: Some(form.lead_investigator.clone()),
            persons_found: number("persons_found", &form.persons_found)?,
            victims_identified: number("victims_identified", &form.victims_identified)?,
            suspects_arrested: number("suspects_arrested", &form.suspects_arrested)?,
        })
    })()
    .and_then(api::draft);
    let created = match parsed {
        Ok(draft) => interventions::create(&state.db, &caller.user, &caller.ctx, draft)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match created {
        Ok(id) => Redirect::to(&format!("/interventions/{id}")).into_response(),
        Err(err) if err.status == StatusCode::BAD_REQUEST => {
            let notice = Notice {
                error: true,
                text: err.message,
            };
            interventions_page(
                Req {
                    state: &state,
                    headers: &headers,
                    caller: &caller,
                },
                jar,
                Some(notice),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(err) => failure(
            &state,
            locale_for(&headers, Some(&caller.user)),
            &caller,
            jar,
            err,
        ),
    }
}

// ---------------------------------------------------------------- one intervention

struct HourRow {
    time: String,
    staff: String,
    gap: bool,
}

struct ShiftRow {
    id: String,
    staff: String,
    languages: String,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "intervention.html")]
struct InterventionPage {
    shell: Shell,
    notice: Option<Notice>,
    id: String,
    when: String,
    venue: String,
    venue_type: String,
    area: String,
    police_unit: String,
    lead: String,
    persons_found: u32,
    victims_identified: u32,
    suspects_arrested: u32,
    in_care: u32,
    awaiting: u32,
    crisis_care: bool,
    /// Whether the user may change the roster (a manager or the intervention's lead).
    may_roster: bool,
    hours: Vec<HourRow>,
    shifts: Vec<ShiftRow>,
    staff: Vec<(String, String)>,
    intake: IntakeForm,
    sexes: Vec<Choice>,
    factors: Vec<Choice>,
    now_input: String,
    zone: String,
}

/// The intake form, kept as typed so a refused intake loses nothing.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct IntakeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub rescued_at: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub aliases: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub stated_age: String,
    #[serde(default)]
    pub date_of_birth: String,
    #[serde(default)]
    pub estimated_age: String,
    #[serde(default)]
    pub age_estimate_method: String,
    #[serde(default)]
    pub nationality: String,
    #[serde(default)]
    pub languages: String,
    #[serde(default)]
    pub interpreter_language: String,
    #[serde(default)]
    pub family_contact: String,
    #[serde(default)]
    pub immediate_medical_needs: String,
    #[serde(default)]
    pub recruiter_relationship: String,
    #[serde(default)]
    pub recruitment_factors: Vec<String>,
}

impl IntakeForm {
    fn fields(&self) -> Vec<(SurvivorField, String)> {
        let pairs = [
            (SurvivorField::Name, &self.name),
            (SurvivorField::Aliases, &self.aliases),
            (SurvivorField::Sex, &self.sex),
            (SurvivorField::StatedAge, &self.stated_age),
            (SurvivorField::DateOfBirth, &self.date_of_birth),
            (SurvivorField::EstimatedAge, &self.estimated_age),
            (SurvivorField::AgeEstimateMethod, &self.age_estimate_method),
            (SurvivorField::Nationality, &self.nationality),
            (SurvivorField::Languages, &self.languages),
            (
                SurvivorField::InterpreterLanguage,
                &self.interpreter_language,
            ),
            (SurvivorField::FamilyContact, &self.family_contact),
            (
                SurvivorField::ImmediateMedicalNeeds,
                &self.immediate_medical_needs,
            ),
            (
                SurvivorField::RecruiterRelationship,
                &self.recruiter_relationship,
            ),
        ];
        let mut fields: Vec<(SurvivorField, String)> = pairs
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(f, v)| (f, v.clone()))
            .collect();
        if !self.recruitment_factors.is_empty() {
            fields.push((
                SurvivorField::RecruitmentFactors,
                self.recruitment_factors.join(","),
            ));
        }
        fields
    }
}

async fn intervention_page(
    req: Req<'_>,
    jar: CookieJar,
    id: InterventionId,
    notice: Option<Notice>,
    intake: Option<IntakeForm>,
    status: StatusCode,
) -> Response {
    let Req {
        state,
        headers,
        caller,
    } = req;
    let locale = locale_for(headers, Some(&caller.user));
    let user = &caller.user;
    let offset = state.config.local_offset;
    let crisis_care = works_crisis_care(&user.roles);
    let loaded = async {
        let found = interventions::get(&state.db, user, id).await?;
        let (shifts, staff) = if crisis_care {
            (
                interventions::roster(&state.db, user, id).await?,
                interventions::aftercare_staff(&state.db, user).await?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Ok::<_, haven_store::StoreError>((found, shifts, staff))
    }
    .await;
    let (found, shifts, staff) = match loaded {
        Ok(found) => found,
        Err(err) => return failure(state, locale, caller, jar, err.into()),
    };
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale, Some(user), csrf, "/interventions");
    let t = &shell.t;
    let now = haven_store::clock::now();
    let names: BTreeMap<UserId, String> = shifts
        .iter()
        .map(|s| (s.staff, s.staff_name.clone()))
        .collect();
    let plain: Vec<_> = shifts.iter().map(|s| s.as_shift()).collect();
    let hours = roster_hours(&plain, now, 48)
        .into_iter()
        .map(|h| HourRow {
            time: local(h.starts_at, offset),
            staff: h
                .on_duty
                .iter()
                .filter_map(|u| names.get(u).cloned())
                .collect::<Vec<_>>()
                .join(", "),
            gap: h.gap,
        })
        .collect();
    let intake = intake.unwrap_or_else(|| IntakeForm {
        rescued_at: input_value(now, offset),
        ..IntakeForm::default()
    });
    let page = InterventionPage {
        notice,
        id: found.id.to_string(),
        when: local(found.occurred_at, offset),
        venue_type: t.get(&format!("venue-{}", found.venue_type.as_str())),
        venue: found.venue_name,
        area: found.area,
        police_unit: found.police_unit,
        lead: found.lead_investigator_name.unwrap_or_default(),
        persons_found: found.persons_found,
        victims_identified: found.victims_identified,
        suspects_arrested: found.suspects_arrested,
        in_care: found.in_care,
        awaiting: found.awaiting_placement,
        crisis_care,
        may_roster: crisis_care && may_roster(user.id, &user.roles, found.recorded_by),
        hours,
        shifts: shifts
            .iter()
            .filter(|s| s.ends_at > now)
            .map(|s| ShiftRow {
                id: s.id.to_string(),
                staff: s.staff_name.clone(),
                languages: s.languages.join(", "),
                from: local(s.starts_at, offset),
                to: local(s.ends_at, offset),
            })
            .collect(),
        staff: staff
            .into_iter()
            .map(|(id, name, langs)| {
                let label = if langs.is_empty() {
                    name
                } else {
                    format!("{name} ({langs})")
                };
                (id.to_string(), label)
            })
            .collect(),
        sexes: choices(t, &SEXES, |s| s, "sex", &|v| v == intake.sex),
        factors: choices(t, &RECRUITMENT_FACTORS, |s| s, "factor", &|v| {
            intake.recruitment_factors.iter().any(|f| f == v)
        }),
        intake,
        now_input: input_value(now, offset),
        zone: zone(offset),
        shell,
    };
    (status, jar, render(&page)).into_response()
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    match api::intervention_id(&raw) {
        Ok(id) => {
            intervention_page(
                Req {
                    state: &state,
                    headers: &headers,
                    caller: &caller,
                },
                jar,
                id,
                None,
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(err) => failure(&state, locale, &caller, jar, err),
    }
}

#[derive(Debug, Deserialize)]
pub struct ShiftForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    staff: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
}

/// After a form on an intervention: back to its page, or the page again with the reason. A
/// refusal (403) of a roster form comes back on the page too, in the user's language.
async fn after_intervention_form(
    req: Req<'_>,
    jar: CookieJar,
    id: InterventionId,
    result: Result<String, ApiError>,
    intake: Option<IntakeForm>,
) -> Response {
    let Req {
        state,
        headers,
        caller,
    } = req;
    match result {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(err) if err.status == StatusCode::FORBIDDEN && intake.is_none() => {
            let t = Translator::new(locale_for(headers, Some(&caller.user)));
            let notice = Notice {
                error: true,
                text: t.get("roster-locked"),
            };
            intervention_page(
                Req {
                    state,
                    headers,
                    caller,
                },
                jar,
                id,
                Some(notice),
                None,
                err.status,
            )
            .await
        }
        Err(err) if err.status == StatusCode::BAD_REQUEST || err.status == StatusCode::CONFLICT => {
            let notice = Notice {
                error: true,
                text: err.message,
            };
            intervention_page(
                Req {
                    state,
                    headers,
                    caller,
                },
                jar,
                id,
                Some(notice),
                intake,
                err.status,
            )
            .await
        }
        Err(err) => failure(
            state,
            locale_for(headers, Some(&caller.user)),
            caller,
            jar,
            err,
        ),
    }
}

pub async fn add_shift(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<ShiftForm>,
) -> Response {
    let (id, jar) = match form_target(
        &state,
        &headers,
        &caller,
        jar,
        &form.csrf,
        api::intervention_id(&raw),
    ) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let offset = state.config.local_offset;
    let result = async {
        let staff: UserId = form
            .staff
            .parse()
            .map_err(|_| ApiError::bad_request("staff: choose who is on duty"))?;
        let starts = parse_local("starts_at", &form.starts_at, offset)?;
        let ends = parse_local("ends_at", &form.ends_at, offset)?;
        interventions::add_shift(
            &state.db,
            &caller.user,
            &caller.ctx,
            id,
            staff,
            starts,
            ends,
        )
        .await?;
        Ok(format!("/interventions/{id}#roster"))
    }
    .await;
    after_intervention_form(
        Req {
            state: &state,
            headers: &headers,
            caller: &caller,
        },
        jar,
        id,
        result,
        None,
    )
    .await
}

pub async fn cancel_shift(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path((raw, shift)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (id, jar) = match form_target(
        &state,
        &headers,
        &caller,
        jar,
        &form.csrf,
        api::intervention_id(&raw),
    ) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let result = async {
        let shift = shift.parse().map_err(|_| ApiError::not_found("shift"))?;
        interventions::cancel_shift(&state.db, &caller.user, &caller.ctx, id, shift).await?;
        Ok(format!("/interventions/{id}#roster"))
    }
    .await;
    after_intervention_form(
        Req {
            state: &state,
            headers: &headers,
            caller: &caller,
        },
        jar,
        id,
        result,
        None,
    )
    .await
}

pub async fn intake(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<IntakeForm>,
) -> Response {
    let (id, jar) = match form_target(
        &state,
        &headers,
        &caller,
        jar,
        &form.csrf,
        api::intervention_id(&raw),
    ) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let offset = state.config.local_offset;
    let result = async {
        let reference =
            Reference::parse(&form.reference).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let rescued_at = parse_local("rescued_at", &form.rescued_at, offset)?;
        let intake = Intake {
            reference,
            rescued_at,
            fields: form.fields(),
        };
        crisis::intake(
            &state.db,
            state.keyring()?,
            &caller.user,
            &caller.ctx,
            id,
            &intake,
        )
        .await?;
        Ok(format!("/interventions/{id}/station?saved=intake"))
    }
    .await;
    after_intervention_form(
        Req {
            state: &state,
            headers: &headers,
            caller: &caller,
        },
        jar,
        id,
        result,
        Some(form),
    )
    .await
}

// ---------------------------------------------------------------- police-station mode

struct GirlCard {
    episode: String,
    reference: String,
    name: String,
    age: String,
    languages: String,
    interpreter: String,
    medical: String,
    minor: String,
    in_care: String,
    since_contact: String,
    clock_class: &'static str,
    placed: bool,
    placement: String,
    next_step: String,
    alerts: Vec<String>,
    staff_language: String,
    safeguards: Vec<SafeguardButton>,
}

#[derive(Template)]
#[template(path = "station.html")]
struct StationPage {
    shell: Shell,
    notice: Option<Notice>,
    repeat: Option<RepeatAsk>,
    id: String,
    venue: String,
    when: String,
    girls: Vec<GirlCard>,
    roster_alerts: Vec<String>,
    items: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// Which confirmation a `?saved=` names; anything else shows none.
fn saved_notice(t: &Translator, saved: Option<&str>) -> Option<Notice> {
    let key = match saved? {
        "intake" => "saved-intake",
        "log" => "saved-log",
        "safeguard" => "saved-safeguard",
        "screening" => "saved-screening",
        "placement" => "saved-placement",
        "record" => "saved-record",
        _ => return None,
    };
    Some(Notice {
        error: false,
        text: t.get(key),
    })
}

async fn station_page(
    req: Req<'_>,
    jar: CookieJar,
    id: InterventionId,
    notice: Option<Notice>,
    repeat: Option<RepeatAsk>,
    saved: Option<&str>,
    status: StatusCode,
) -> Response {
    let Req {
        state,
        headers,
        caller,
    } = req;
    let locale = locale_for(headers, Some(&caller.user));
    let offset = state.config.local_offset;
    let keyring = match state.keyring() {
        Ok(k) => k,
        Err(err) => return super::error_page(locale, err.into()),
    };
    let view = match crisis::station(&state.db, keyring, &caller.user, &caller.ctx, id).await {
        Ok(view) => view,
        Err(err) => return failure(state, locale, caller, jar, err.into()),
    };
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, "/interventions");
    let t = &shell.t;
    let at = view.at;
    let girls = view
        .entries
        .iter()
        .map(|e| GirlCard {
            episode: e.episode.to_string(),
            reference: e.reference.clone(),
            name: e.name.clone().unwrap_or_default(),
            age: e.age.clone().unwrap_or_default(),
            languages: e.languages.clone().unwrap_or_default(),
            interpreter: e.interpreter_language.clone().unwrap_or_default(),
            medical: e.medical_needs.clone().unwrap_or_default(),
            minor: e
                .minor_status
                .map(|m| t.get(&format!("minor-{}", m.as_str())))
                .unwrap_or_default(),
            in_care: hours_minutes(time_in_care(e.rescued_at, e.placed_at, at)),
            since_contact: hours_minutes(at - last_seen(e.rescued_at, e.last_contact_at)),
            clock_class: clock_class(e.clock),
            placed: e.placed_at.is_some(),
            placement: match (&e.placement, e.placed_at) {
                (Some(partner), Some(when)) => format!("{partner} · {}", local(when, offset)),
                _ => String::new(),
            },
            next_step: t.get(e.next_step.message_key()),
            alerts: e.alerts.iter().map(|a| alert_text(t, a, offset)).collect(),
            staff_language: e.staff_language_needed.clone().unwrap_or_default(),
            safeguards: safeguard_buttons(t, &e.safeguards, offset),
        })
        .collect();
    let notice = notice.or_else(|| saved_notice(t, saved));
    let page = StationPage {
        notice,
        repeat,
        id: id.to_string(),
        when: local(view.intervention.occurred_at, offset),
        venue: view.intervention.venue_name.clone(),
        girls,
        roster_alerts: view
            .roster_alerts
            .iter()
            .map(|a| alert_text(t, a, offset))
            .collect(),
        items: choices(t, CareItem::ALL, |i| i.as_str(), "item", &|_| true),
        shell,
    };
    (status, jar, render(&page)).into_response()
}

pub async fn station(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    match api::intervention_id(&raw) {
        Ok(id) => {
            station_page(
                Req {
                    state: &state,
                    headers: &headers,
                    caller: &caller,
                },
                jar,
                id,
                None,
                None,
                query.saved.as_deref(),
                StatusCode::OK,
            )
            .await
        }
        Err(err) => failure(&state, locale, &caller, jar, err),
    }
}

// ---------------------------------------------------------------- one girl's episode

struct LogRow {
    when: String,
    kind: String,
    items: String,
    note: String,
    by: String,
}

struct CheckRow {
    when: String,
    safeguard: String,
    met: bool,
    note: String,
    by: String,
}

struct FieldInput {
    name: &'static str,
    label: String,
    value: String,
    long: bool,
}

struct RevisionRow {
    field: String,
    value: String,
    from: String,
    replaced: String,
    by: String,
}

#[derive(Template)]
#[template(path = "episode.html")]
struct EpisodePage {
    shell: Shell,
    notice: Option<Notice>,
    repeat: Option<RepeatAsk>,
    safeguard_status: Vec<SafeguardButton>,
    id: String,
    intervention: String,
    reference: String,
    in_care: String,
    since_contact: String,
    clock_class: &'static str,
    placed: bool,
    placement: String,
    next_step: String,
    alerts: Vec<String>,
    log: Vec<LogRow>,
    checks: Vec<CheckRow>,
    screening: Option<String>,
    screening_detail: Option<String>,
    kinds: Vec<Choice>,
    items: Vec<Choice>,
    safeguards: Vec<Choice>,
    minor_statuses: Vec<Choice>,
    decisions: Vec<Choice>,
    control_means: Vec<Choice>,
    exploitation: Vec<Choice>,
    partners: Vec<(String, String)>,
    services: Vec<Choice>,
    record: Vec<FieldInput>,
    version: i64,
    may_edit: bool,
    history: Vec<RevisionRow>,
    now_input: String,
    zone: String,
}

/// Fields shown in the record form on the episode page, in intake order.
const RECORD_FIELDS: [SurvivorField; 15] = [
    SurvivorField::Name,
    SurvivorField::Aliases,
    SurvivorField::Sex,
    SurvivorField::StatedAge,
    SurvivorField::DateOfBirth,
    SurvivorField::EstimatedAge,
    SurvivorField::AgeEstimateMethod,
    SurvivorField::Nationality,
    SurvivorField::Languages,
    SurvivorField::InterpreterLanguage,
    SurvivorField::HomeRegion,
    SurvivorField::FamilyContact,
    SurvivorField::ImmediateMedicalNeeds,
    SurvivorField::RecruiterRelationship,
    SurvivorField::RecruitmentFactors,
];

#[allow(clippy::too_many_arguments)]
async fn episode_page(
    req: Req<'_>,
    jar: CookieJar,
    id: EpisodeId,
    notice: Option<Notice>,
    repeat: Option<RepeatAsk>,
    record_input: Option<BTreeMap<String, String>>,
    saved: Option<&str>,
    status: StatusCode,
) -> Response {
    let Req {
        state,
        headers,
        caller,
    } = req;
    let locale = locale_for(headers, Some(&caller.user));
    let offset = state.config.local_offset;
    let user = &caller.user;
    let loaded = async {
        let keyring = state.keyring()?;
        let view = crisis::episode(&state.db, keyring, user, &caller.ctx, id).await?;
        let record = survivors::read(&state.db, keyring, user, &caller.ctx, view.survivor).await?;
        let history =
            survivors::history(&state.db, keyring, user, &caller.ctx, view.survivor).await?;
        let orgs = haven_store::orgs::list(&state.db).await?;
        let mut partners = Vec::new();
        for org in orgs.into_iter().filter(|o| o.kind == OrgKind::Partner) {
            let services = haven_store::partner_services::of(&state.db, org.id).await?;
            let residential: Vec<&str> = services
                .iter()
                .filter(|s| s.is_residential())
                .map(|s| s.as_str())
                .collect();
            if !residential.is_empty() {
                partners.push((org.id, org.name, residential.join(", ")));
            }
        }
        Ok::<_, ApiError>((view, record, history, partners))
    }
    .await;
    let (view, record, history, partners) = match loaded {
        Ok(found) => found,
        Err(err) => return failure(state, locale, caller, jar, err),
    };
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale, Some(user), csrf, "/interventions");
    let t = &shell.t;
    let at = view.at;
    let may_edit = haven_store::survivors::ensure_may(
        &state.db,
        user,
        view.survivor,
        haven_core::policy::Action::Write(FieldClass::Identity),
    )
    .await
    .is_ok();
    let field_label = |f: SurvivorField| t.get(&format!("field-{}", f.as_str()));
    let record_fields = RECORD_FIELDS
        .into_iter()
        .filter(|f| record.fields.contains_key(f) || may_edit)
        .map(|f| FieldInput {
            name: f.as_str(),
            label: field_label(f),
            value: record_input
                .as_ref()
                .and_then(|m| m.get(f.as_str()).cloned())
                .or_else(|| record.fields.get(&f).cloned())
                .unwrap_or_default(),
            long: matches!(
                f,
                SurvivorField::FamilyContact | SurvivorField::ImmediateMedicalNeeds
            ),
        })
        .collect();
    let screening = view.screening.as_ref().map(|s| {
        t.with_args(
            "screening-summary",
            &[
                (
                    "minor",
                    t.get(&format!("minor-{}", s.minor_status.as_str())),
                ),
                ("decision", t.get(&format!("decision-{}", s.decision))),
                ("when", local(s.screened_at, offset)),
            ],
        )
    });
    let screening_detail = view.screening.as_ref().and_then(|s| {
        s.reasons.as_ref().map(|reasons| {
            let means: Vec<String> = s
                .control_means
                .iter()
                .map(|m| t.get(&format!("means-{m}")))
                .collect();
            let kinds: Vec<String> = s
                .exploitation
                .iter()
                .map(|e| t.get(&format!("exploitation-{e}")))
                .collect();
            format!("{} · {} · {reasons}", kinds.join(", "), means.join(", "))
        })
    });
    let residential: Vec<PartnerService> = PartnerService::ALL
        .into_iter()
        .filter(|s| s.is_residential())
        .collect();
    let page = EpisodePage {
        notice: notice.or_else(|| saved_notice(t, saved)),
        repeat,
        safeguard_status: safeguard_buttons(t, &view.safeguard_status, offset),
        id: id.to_string(),
        intervention: view.intervention.to_string(),
        reference: view.reference.clone(),
        in_care: hours_minutes(time_in_care(view.rescued_at, view.placed_at, at)),
        since_contact: hours_minutes(at - last_seen(view.rescued_at, view.last_contact_at)),
        clock_class: clock_class(view.clock),
        placed: view.placed_at.is_some(),
        placement: match (&view.placement, view.placed_at) {
            (Some(p), Some(when)) => format!("{p} · {}", local(when, offset)),
            _ => String::new(),
        },
        next_step: t.get(view.next_step.message_key()),
        alerts: view
            .alerts
            .iter()
            .map(|a| alert_text(t, a, offset))
            .collect(),
        log: view
            .log
            .iter()
            .map(|l| LogRow {
                when: local(l.at, offset),
                kind: t.get(&format!("log-kind-{}", l.kind.as_str())),
                items: l
                    .items
                    .iter()
                    .map(|i| t.get(&format!("item-{}", i.as_str())))
                    .collect::<Vec<_>>()
                    .join(", "),
                note: l.note.clone().unwrap_or_default(),
                by: l.recorded_by.clone(),
            })
            .collect(),
        checks: view
            .safeguards
            .iter()
            .map(|c| CheckRow {
                when: local(c.at, offset),
                safeguard: t.get(&safeguard_key(c.safeguard)),
                met: c.met,
                note: c.note.clone().unwrap_or_default(),
                by: c.checked_by.clone(),
            })
            .collect(),
        screening,
        screening_detail,
        kinds: choices(t, CareLogKind::ALL, CareLogKind::as_str, "log-kind", &|v| {
            v == "contact"
        }),
        items: choices(t, CareItem::ALL, |i| i.as_str(), "item", &|_| false),
        safeguards: choices(t, Safeguard::ALL, Safeguard::as_str, "safeguard", &|_| {
            false
        }),
        minor_statuses: choices(t, &MinorStatus::ALL, MinorStatus::as_str, "minor", &|v| {
            v == "probable"
        }),
        decisions: choices(
            t,
            &IdentificationDecision::ALL,
            IdentificationDecision::as_str,
            "decision",
            &|v| v == "pending",
        ),
        control_means: choices(
            t,
            &ControlMeans::ALL,
            ControlMeans::as_str,
            "means",
            &|_| false,
        ),
        exploitation: choices(
            t,
            &ExploitationType::ALL,
            ExploitationType::as_str,
            "exploitation",
            &|_| false,
        ),
        partners: partners
            .into_iter()
            .map(|(id, name, services)| (id.to_string(), format!("{name} ({services})")))
            .collect(),
        services: choices(
            t,
            &residential,
            PartnerService::as_str,
            "placement-service",
            &|v| v == "assessment_centre",
        ),
        record: record_fields,
        version: record.version,
        may_edit,
        history: history
            .into_iter()
            .map(|r| RevisionRow {
                field: field_label(r.field),
                value: r.value,
                from: local(r.valid_from, offset),
                replaced: local(r.replaced_at, offset),
                by: r.replaced_by.unwrap_or_default(),
            })
            .collect(),
        now_input: input_value(at, offset),
        zone: zone(offset),
        shell,
    };
    (status, jar, render(&page)).into_response()
}

pub async fn episode(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    match api::episode_id(&raw) {
        Ok(id) => {
            episode_page(
                Req {
                    state: &state,
                    headers: &headers,
                    caller: &caller,
                },
                jar,
                id,
                None,
                None,
                None,
                query.saved.as_deref(),
                StatusCode::OK,
            )
            .await
        }
        Err(err) => failure(&state, locale, &caller, jar, err),
    }
}

/// Where a form on an episode came from, to go back there.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
enum Back {
    Station,
    #[default]
    Episode,
}

/// After a form on an episode: back where it came from with a confirmation, or the page
/// again with the reason.
async fn after_episode_form(
    req: Req<'_>,
    jar: CookieJar,
    id: EpisodeId,
    back: Back,
    saved: &str,
    result: Result<(), ApiError>,
    record_input: Option<BTreeMap<String, String>>,
) -> Response {
    let Req {
        state,
        headers,
        caller,
    } = req;
    let locale = locale_for(headers, Some(&caller.user));
    match result {
        Ok(()) => {
            let to = match back {
                Back::Episode => format!("/episodes/{id}?saved={saved}"),
                Back::Station => match intervention_of(state, caller, id).await {
                    Some(iv) => format!("/interventions/{iv}/station?saved={saved}#e-{id}"),
                    None => format!("/episodes/{id}?saved={saved}"),
                },
            };
            Redirect::to(&to).into_response()
        }
        Err(err) if err.status == StatusCode::BAD_REQUEST || err.status == StatusCode::CONFLICT => {
            let notice = Some(Notice {
                error: true,
                text: err.message,
            });
            page_again(req, jar, id, back, notice, None, record_input, err.status).await
        }
        Err(err) => failure(state, locale, caller, jar, err),
    }
}

/// The page a form on an episode came from, shown again with a notice or a question.
#[allow(clippy::too_many_arguments)]
async fn page_again(
    req: Req<'_>,
    jar: CookieJar,
    id: EpisodeId,
    back: Back,
    notice: Option<Notice>,
    repeat: Option<RepeatAsk>,
    record_input: Option<BTreeMap<String, String>>,
    status: StatusCode,
) -> Response {
    match (back, intervention_of(req.state, req.caller, id).await) {
        (Back::Station, Some(iv)) => station_page(req, jar, iv, notice, repeat, None, status).await,
        _ => episode_page(req, jar, id, notice, repeat, record_input, None, status).await,
    }
}

async fn intervention_of(
    state: &AppState,
    caller: &PageUser,
    id: EpisodeId,
) -> Option<InterventionId> {
    crisis::intervention_of(&state.db, &caller.user, id)
        .await
        .ok()
}

#[derive(Debug, Deserialize)]
pub struct LogForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    items: Vec<String>,
    #[serde(default)]
    at: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: Back,
}

pub async fn log(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<LogForm>,
) -> Response {
    let (id, jar) = match form_target(
        &state,
        &headers,
        &caller,
        jar,
        &form.csrf,
        api::episode_id(&raw),
    ) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let offset = state.config.local_offset;
    let result = async {
        let at = parse_local("at", &form.at, offset)?;
        let entry = api::log_entry(&form.kind, &form.items, Some(at), form.note.clone())?;
        crisis::log_care(
            &state.db,
            state.keyring()?,
            &caller.user,
            &caller.ctx,
            id,
            &entry,
        )
        .await?;
        Ok(())
    }
    .await;
    after_episode_form(
        Req {
            state: &state,
            headers: &headers,
            caller: &caller,
        },
        jar,
        id,
        form.back,
        "log",
        result,
        None,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct SafeguardForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    safeguard: String,
    /// "yes" confirms; "no" reports a breach.
    #[serde(default)]
    met: String,
    #[serde(default)]
    note: String,
    /// "yes" records a confirmation although it repeats one made moments ago.
    #[serde(default)]
    repeat: String,
    #[serde(default)]
    back: Back,
}

pub async fn safeguard(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<SafeguardForm>,
) -> Response {
    let (id, jar) = match form_target(
        &state,
        &headers,
        &caller,
        jar,
        &form.csrf,
        api::episode_id(&raw),
    ) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let req = Req {
        state: &state,
        headers: &headers,
        caller: &caller,
    };
    let result = async {
        let safeguard =
            Safeguard::parse(&form.safeguard).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let outcome = crisis::check_safeguard(
            &state.db,
            state.keyring()?,
            &caller.user,
            &caller.ctx,
            id,
            safeguard,
            form.met != "no",
            &form.note,
            form.repeat == "yes",
        )
        .await?;
        Ok((safeguard, outcome))
    }
    .await;
    match result {
        Ok((safeguard, crisis::SafeguardOutcome::AlreadyConfirmed { at, by })) => {
            let t = Translator::new(locale_for(&headers, Some(&caller.user)));
            let text = t.with_args(
                "safeguard-already-confirmed",
                &[
                    ("safeguard", t.get(&safeguard_key(safeguard))),
                    (
                        "time",
                        at.with_timezone(&state.config.local_offset)
                            .format("%H:%M")
                            .to_string(),
                    ),
                    ("name", by),
                ],
            );
            let ask = RepeatAsk {
                episode: id.to_string(),
                safeguard: safeguard.as_str(),
                text,
                note: form.note.clone(),
                back: match form.back {
                    Back::Station => "station",
                    Back::Episode => "episode",
                },
            };
            page_again(
                req,
                jar,
                id,
                form.back,
                None,
                Some(ask),
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        other => {
            after_episode_form(
                req,
                jar,
                id,
                form.back,
                "safeguard",
                other.map(|_| ()),
                None,
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ScreeningForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    minor_status: String,
    #[serde(default)]
    control_means: Vec<String>,
    #[serde(default)]
    exploitation: Vec<String>,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reasons: String,
    #[serde(default)]
    documents_seen: Option<String>,
}

pub async fn screen(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<ScreeningForm>,
) -> Response {
    let (id, jar) = match form_target(
        &state,
        &headers,
        &caller,
        jar,
        &form.csrf,
        api::episode_id(&raw),
    ) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let result = async {
        let screening = api::screening(
            &form.minor_status,
            &form.control_means,
            &form.exploitation,
            &form.decision,
            form.reasons.clone(),
        )?;
        crisis::screen(
            &state.db,
            state.keyring()?,
            &caller.user,
            &caller.ctx,
            id,
            screening,
            form.documents_seen.is_some(),
        )
        .await?;
        Ok(())
    }
    .await;
    after_episode_form(
        Req {
            state: &state,
            headers: &headers,
            caller: &caller,
        },
        jar,
        id,
        Back::Episode,
        "screening",
        result,
        None,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct PlacementForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    partner: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    placed_at: String,
}

pub async fn place(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<PlacementForm>,
) -> Response {
    let (id, jar) = match form_target(
        &state,
        &headers,
        &caller,
        jar,
        &form.csrf,
        api::episode_id(&raw),
    ) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let offset = state.config.local_offset;
    let result = async {
        let partner = form
            .partner
            .parse()
            .map_err(|_| ApiError::bad_request("partner: choose the partner organisation"))?;
        let service = PartnerService::parse(&form.service)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let placed_at = parse_local("placed_at", &form.placed_at, offset)?;
        crisis::place(
            &state.db,
            &caller.user,
            &caller.ctx,
            id,
            partner,
            service,
            placed_at,
        )
        .await?;
        Ok(())
    }
    .await;
    after_episode_form(
        Req {
            state: &state,
            headers: &headers,
            caller: &caller,
        },
        jar,
        id,
        Back::Episode,
        "placement",
        result,
        None,
    )
    .await
}

pub async fn record(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let (id, jar) = match form_target(
        &state,
        &headers,
        &caller,
        jar,
        form.get("csrf").map(String::as_str).unwrap_or(""),
        api::episode_id(&raw),
    ) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let result = async {
        let keyring = state.keyring()?;
        let version: i64 = form
            .get("version")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ApiError::bad_request("version: open the page again and retry"))?;
        let view = crisis::episode(&state.db, keyring, &caller.user, &caller.ctx, id).await?;
        let current =
            survivors::read(&state.db, keyring, &caller.user, &caller.ctx, view.survivor).await?;
        // Only what changed is saved: unchanged fields keep their history clean.
        let changes: Vec<(SurvivorField, String)> = RECORD_FIELDS
            .into_iter()
            .filter_map(|f| {
                let typed = form.get(f.as_str())?.trim().to_owned();
                let before = current.fields.get(&f).cloned().unwrap_or_default();
                (typed != before).then_some((f, typed))
            })
            .collect();
        if changes.is_empty() {
            return Ok(());
        }
        survivors::update(
            &state.db,
            keyring,
            &caller.user,
            &caller.ctx,
            view.survivor,
            &changes,
            version,
        )
        .await?;
        Ok(())
    }
    .await;
    let typed: BTreeMap<String, String> = form
        .iter()
        .filter(|(k, _)| SurvivorField::parse(k).is_some())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    after_episode_form(
        Req {
            state: &state,
            headers: &headers,
            caller: &caller,
        },
        jar,
        id,
        Back::Episode,
        "record",
        result,
        Some(typed),
    )
    .await
}
