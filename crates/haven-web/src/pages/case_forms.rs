//! Reading the case-management forms: what a social worker typed becomes the store's input,
//! or a reason in her language. Kept apart from the pages so the rules read in one place.

use super::casework::GOAL_SLOTS;
use super::crisis::{Choice, Notice};
use crate::error::ApiError;
use crate::i18n::Translator;
use crate::state::AppState;
use chrono::NaiveDate;
use haven_core::casework::{
    AreaPlan, AreaStatus, ClosureCriteria, Goal, GoalStatus, IncidentKind, PlanArea, Responsible,
    RiskFactors, RiskLevel, ServiceKind,
};
use haven_core::{Role, UserId, ValidationError};
use haven_store::care_plans::{PlanInput, PlanView};
use haven_store::care_services::ServiceInput;
use haven_store::case_closures::ClosureInput;
use haven_store::case_notes::NoteInput;
use haven_store::case_risk::{IncidentInput, RiskInput};
use haven_store::users::User;
use haven_store::StoreError;
use std::collections::BTreeMap;

/// The risk factors, as the form names them.
pub const FACTORS: [&str; 4] = [
    "family_pressure",
    "suspect_contact",
    "debt",
    "school_dropout",
];
/// The closure criteria, as the form names them.
pub const CRITERIA: [&str; 3] = ["safe_living", "income_or_school", "final_review"];
/// The value of the responsible select that keeps a partner named through the API.
pub const KEEP_PARTNER: &str = "partner";

/// Why a form was not saved: already in her language, or an error from the store.
#[derive(Debug)]
pub enum Failed {
    Told(String),
    Api(ApiError),
}

impl From<ApiError> for Failed {
    fn from(err: ApiError) -> Self {
        Failed::Api(err)
    }
}

impl From<StoreError> for Failed {
    fn from(err: StoreError) -> Self {
        Failed::Api(err.into())
    }
}

impl From<ValidationError> for Failed {
    fn from(err: ValidationError) -> Self {
        Failed::Api(StoreError::Invalid(err).into())
    }
}

/// Which confirmation to show after the redirect, and where on the page.
pub struct Saved {
    pub key: &'static str,
    pub anchor: &'static str,
    /// The next contact a completed follow-up scheduled, to say when it is.
    pub next: Option<NaiveDate>,
}

impl Saved {
    pub fn new(key: &'static str, anchor: &'static str) -> Saved {
        Saved {
            key,
            anchor,
            next: None,
        }
    }
}

/// What was typed in the form that was refused, to show it again.
#[derive(Debug, Default)]
pub struct Kept {
    form: &'static str,
    values: BTreeMap<String, String>,
}

impl Kept {
    pub fn new(form: &'static str, values: BTreeMap<String, String>) -> Kept {
        Kept { form, values }
    }

    /// The value typed in `name` of `form`, when that form was the one refused.
    pub fn value(&self, form: &str, name: &str) -> Option<&str> {
        if self.form == form {
            self.values.get(name).map(String::as_str)
        } else {
            None
        }
    }

    /// For templates: the typed value or nothing.
    pub fn get(&self, form: &str, name: &str) -> &str {
        self.value(form, name).unwrap_or("")
    }

    /// Whether a checkbox of the refused form was ticked.
    pub fn on(&self, form: &str, name: &str) -> bool {
        self.value(form, name).is_some_and(|v| !v.is_empty())
    }
}

/// A field of a posted form; missing is empty.
pub fn field<'a>(form: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", |v| v.as_str())
}

/// What was typed, or else the saved value.
pub fn kept_or(typed: Option<&str>, saved: impl FnOnce() -> String) -> String {
    typed.map_or_else(saved, str::to_owned)
}

pub fn date_input(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Reads a date; `label` names the field in her language.
pub fn parse_date(t: &Translator, label: &str, value: &str) -> Result<NaiveDate, Failed> {
    let value = value.trim();
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%d/%m/%Y"))
        .map_err(|_| Failed::Told(t.with("cw-bad-date", "field", &t.get(label))))
}

/// Options of a select or a group of boxes, labelled from `prefix-value`.
pub fn choices<T: Copy>(
    t: &Translator,
    all: &[T],
    name: fn(T) -> &'static str,
    prefix: &str,
    selected: &str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| {
            let value = name(*v);
            Choice {
                label: t.get(&format!("{prefix}-{value}")),
                checked: value == selected,
                value: value.to_owned(),
            }
        })
        .collect()
}

/// Whether the user does casework (and so is offered the forms).
pub fn works_cases(user: &User) -> bool {
    user.roles.contains(Role::Aftercare) || user.roles.contains(Role::Manager)
}

/// The active aftercare caseworkers of the user's organisation, as (ID, name), by name.
pub async fn team_staff(state: &AppState, user: &User) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = haven_store::users::list(&state.db, after.as_deref(), 200).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.username.as_str().to_owned());
        let full = page.len() >= 200;
        out.extend(
            page.into_iter()
                .filter(|u| {
                    u.org_id == user.org_id && !u.disabled && u.roles.contains(Role::Aftercare)
                })
                .map(|u| (u.id.to_string(), u.display_name)),
        );
        if !full {
            break;
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// The confirmation a `?saved=` names (with the next contact's date when `next` is one);
/// anything else shows none.
pub fn saved_notice(t: &Translator, saved: Option<&str>, next: Option<&str>) -> Option<Notice> {
    let next = next.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    if let (Some("follow-up-done"), Some(next)) = (saved, next) {
        return Some(Notice {
            error: false,
            text: t.with("cw-saved-follow-up-next", "date", &next.to_string()),
        });
    }
    let key = match saved? {
        "plan" => "cw-saved-plan",
        "service" => "cw-saved-service",
        "follow-up" => "cw-saved-follow-up",
        "follow-up-done" => "cw-saved-follow-up-done",
        "risk" => "cw-saved-risk",
        "incident" => "cw-saved-incident",
        "note" => "cw-saved-note",
        "note-neutralised" => "cw-saved-note-neutralised",
        "closed" => "cw-saved-closed",
        "reopened" => "cw-saved-reopened",
        "reassigned" => "cw-saved-reassigned",
        "schedule" => "cw-saved-schedule",
        _ => return None,
    };
    Some(Notice {
        error: false,
        text: t.get(key),
    })
}

fn ticked(form: &BTreeMap<String, String>, name: &str) -> bool {
    !field(form, name).is_empty()
}

/// The plan as typed, and the areas whose partner (named through the API) stays.
pub struct TypedPlan {
    pub input: PlanInput,
    keep_partner: Vec<PlanArea>,
}

/// Reads the plan form: one fieldset per area, up to three goals each. A goal dated before
/// the plan starts is refused here with the goal named, in her language.
pub fn plan_input(t: &Translator, form: &BTreeMap<String, String>) -> Result<TypedPlan, Failed> {
    let started_on = parse_date(t, "cw-plan-started", field(form, "started_on"))?;
    let based_on_version = match field(form, "based_on_version").trim() {
        "" => None,
        v => Some(
            v.parse::<i64>()
                .map_err(|_| Failed::Told(t.get("cw-plan-stale")))?,
        ),
    };
    let mut areas = Vec::new();
    let mut keep_partner = Vec::new();
    for &area in PlanArea::ALL {
        let key = area.as_str();
        let get = |name: &str| field(form, &format!("{key}_{name}"));
        let status = match get("status") {
            "" => AreaStatus::NotStarted,
            s => AreaStatus::parse(s)?,
        };
        let responsible = match get("responsible").trim() {
            "" => Responsible::Nobody,
            KEEP_PARTNER => {
                keep_partner.push(area);
                Responsible::Nobody
            }
            id => Responsible::Staff {
                user: id
                    .parse::<UserId>()
                    .map_err(|_| Failed::Told(t.get("cw-plan-bad-staff")))?
                    .as_uuid(),
            },
        };
        let mut goals = Vec::new();
        for n in 1..=GOAL_SLOTS {
            let text = get(&format!("goal{n}_text")).trim().to_owned();
            let target = get(&format!("goal{n}_target")).trim();
            if text.is_empty() {
                if target.is_empty() {
                    continue;
                }
                return Err(Failed::Told(t.with(
                    "cw-goal-needs-text",
                    "area",
                    &t.get(&format!("cw-area-{key}")),
                )));
            }
            if target.is_empty() {
                return Err(Failed::Told(t.with("cw-goal-needs-date", "goal", &text)));
            }
            let target = parse_date(t, "cw-goal-target", target)?;
            if target < started_on {
                return Err(Failed::Told(t.with_args(
                    "cw-goal-before-start",
                    &[
                        ("goal", text),
                        ("target", target.to_string()),
                        ("start", started_on.to_string()),
                    ],
                )));
            }
            let status = match get(&format!("goal{n}_status")) {
                "" => GoalStatus::Open,
                s => GoalStatus::parse(s)?,
            };
            goals.push(Goal {
                text,
                target,
                status,
            });
        }
        areas.push(AreaPlan {
            area,
            status,
            responsible,
            needs: get("needs").trim().to_owned(),
            goals,
            her_words: get("her_words").trim().to_owned(),
        });
    }
    Ok(TypedPlan {
        input: PlanInput {
            based_on_version,
            started_on,
            is_review: ticked(form, "is_review"),
            areas,
        },
        keep_partner,
    })
}

fn is_empty(area: &AreaPlan) -> bool {
    area.status == AreaStatus::NotStarted
        && area.responsible == Responsible::Nobody
        && area.needs.is_empty()
        && area.goals.is_empty()
        && area.her_words.is_empty()
}

/// The areas to save: those with something written, and every area her plan already has
/// (an emptied area stays in the plan rather than disappearing from it). A partner named
/// through the API stays named.
pub fn keep_unchanged_areas(typed: TypedPlan, latest: Option<&PlanView>) -> PlanInput {
    let TypedPlan {
        mut input,
        keep_partner,
    } = typed;
    let before =
        |area: PlanArea| latest.and_then(|p| p.current.areas.iter().find(|a| a.area == area));
    input
        .areas
        .retain(|a| !is_empty(a) || before(a.area).is_some());
    for area in &mut input.areas {
        if keep_partner.contains(&area.area) {
            if let Some(prev) = before(area.area) {
                if matches!(prev.responsible, Responsible::Partner { .. }) {
                    area.responsible = prev.responsible;
                }
            }
        }
    }
    input
}

pub fn service_input(
    t: &Translator,
    form: &BTreeMap<String, String>,
) -> Result<ServiceInput, Failed> {
    let kind = ServiceKind::parse(field(form, "kind"))?;
    let delivered_on = parse_date(t, "cw-service-date", field(form, "delivered_on"))?;
    let provider_user = match field(form, "provider_user").trim() {
        "" => None,
        id => Some(
            id.parse::<UserId>()
                .map_err(|_| Failed::Told(t.get("cw-plan-bad-staff")))?,
        ),
    };
    let result = field(form, "medical_result").trim();
    Ok(ServiceInput {
        kind,
        delivered_on,
        provider_user,
        provider_org: None,
        outcome: field(form, "outcome").trim().to_owned(),
        medical_result: (!result.is_empty()).then(|| result.to_owned()),
    })
}

pub fn risk_input(t: &Translator, form: &BTreeMap<String, String>) -> Result<RiskInput, Failed> {
    let judged = match field(form, "raise").trim() {
        "" => None,
        level => Some(RiskLevel::parse(level)?),
    };
    Ok(RiskInput {
        assessed_on: parse_date(t, "cw-risk-date", field(form, "assessed_on"))?,
        factors: RiskFactors {
            family_pressure: ticked(form, "family_pressure"),
            suspect_contact: ticked(form, "suspect_contact"),
            debt: ticked(form, "debt"),
            school_dropout: ticked(form, "school_dropout"),
        },
        judged,
        notes: field(form, "notes").trim().to_owned(),
    })
}

pub fn incident_input(
    t: &Translator,
    form: &BTreeMap<String, String>,
) -> Result<IncidentInput, Failed> {
    let account = field(form, "account").trim().to_owned();
    if account.is_empty() {
        return Err(Failed::Told(t.get("cw-incident-needs-account")));
    }
    Ok(IncidentInput {
        kind: IncidentKind::parse(field(form, "kind"))?,
        occurred_on: parse_date(t, "cw-incident-date", field(form, "occurred_on"))?,
        account,
    })
}

pub fn note_input(form: &BTreeMap<String, String>) -> Result<NoteInput, Failed> {
    let area = match field(form, "area").trim() {
        "" => None,
        a => Some(PlanArea::parse(a)?),
    };
    Ok(NoteInput {
        area,
        confidential: ticked(form, "confidential"),
        body: field(form, "body").to_owned(),
    })
}

/// Reads the closure form; criteria not ticked are refused here, each named in her language.
pub fn closure_input(
    t: &Translator,
    form: &BTreeMap<String, String>,
) -> Result<ClosureInput, Failed> {
    let criteria = ClosureCriteria {
        safe_living: ticked(form, "safe_living"),
        income_or_school: ticked(form, "income_or_school"),
        final_review: ticked(form, "final_review"),
    };
    let unmet = criteria.unmet();
    if !unmet.is_empty() {
        let names: Vec<String> = unmet
            .iter()
            .map(|c| t.get(&format!("cw-criterion-{c}")))
            .collect();
        return Err(Failed::Told(t.with(
            "cw-close-unmet",
            "criteria",
            &names.join("; "),
        )));
    }
    Ok(ClosureInput {
        closed_on: parse_date(t, "cw-close-date", field(form, "closed_on"))?,
        criteria,
        note: field(form, "note").trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_core::Locale;

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_goal_before_the_plan_starts_is_refused_with_its_name() {
        let t = Translator::new(Locale::En);
        let refused = plan_input(
            &t,
            &form(&[
                ("started_on", "2026-11-01"),
                ("medical_goal1_text", "See a dentist"),
                ("medical_goal1_target", "2026-10-01"),
            ]),
        );
        match refused {
            Err(Failed::Told(text)) => assert!(text.contains("See a dentist"), "{text}"),
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn only_areas_with_something_written_are_saved() {
        let t = Translator::new(Locale::En);
        let typed = plan_input(
            &t,
            &form(&[
                ("started_on", "2026-11-01"),
                ("medical_status", "in_progress"),
                ("economic_needs", "Wants to train as a tailor"),
            ]),
        )
        .map_err(|_| "refused")
        .unwrap();
        let input = keep_unchanged_areas(typed, None);
        let areas: Vec<_> = input.areas.iter().map(|a| a.area).collect();
        assert_eq!(areas, vec![PlanArea::Medical, PlanArea::Economic]);
    }

    #[test]
    fn unmet_closure_criteria_are_named() {
        let t = Translator::new(Locale::En);
        match closure_input(
            &t,
            &form(&[("safe_living", "yes"), ("closed_on", "2026-11-01")]),
        ) {
            Err(Failed::Told(text)) => {
                assert!(text.contains(&t.get("cw-criterion-final_review")), "{text}");
                assert!(!text.contains(&t.get("cw-criterion-safe_living")), "{text}");
            }
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
    }
}
