//! Her case file as a page: identity summary, the plan with its versions and what changed,
//! services, follow-ups, risk, incidents, notes and closures, with the forms that add to them
//! (handled in `case_actions`).
//!
//! Every form posts to `/survivors/{id}/…` and comes back here: with a confirmation after a
//! save, or with the reason and everything that was typed when it was refused. Nothing is
//! half-saved: each form is one store call, which validates before it writes.

use super::case_forms::{self, choices, date_input, kept_or, Kept};
use super::crisis::{failure, Choice, Notice, Req};
use super::{not_found_page, render, Shell};
use crate::auth::{csrf_token, locale_for, PageUser};
use crate::error::ApiError;
use crate::i18n::Translator;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use haven_core::casework::{
    AreaStatus, FollowUpKind, GoalStatus, IncidentKind, PlanArea, PlanChange, Responsible,
    RiskLevel, ServiceKind,
};
use haven_core::nav::Section;
use haven_core::{SurvivorField, SurvivorId};
use haven_store::care_plans::{self, PlanView};
use haven_store::case_file;
use serde::Deserialize;

/// How many goals the form offers per area.
pub const GOAL_SLOTS: usize = 3;

/// The fields of her identity shown at the top of the file.
const SUMMARY: [SurvivorField; 6] = [
    SurvivorField::Sex,
    SurvivorField::StatedAge,
    SurvivorField::EstimatedAge,
    SurvivorField::Nationality,
    SurvivorField::Languages,
    SurvivorField::HomeRegion,
];

pub(crate) fn survivor_id(raw: &str) -> Result<SurvivorId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("survivor"))
}

struct GoalShow {
    text: String,
    target: String,
    status: String,
}

struct AreaShow {
    key: &'static str,
    name: String,
    status: String,
    responsible: String,
    needs: String,
    goals: Vec<GoalShow>,
    her_words: String,
}

struct VersionRow {
    version: i64,
    label: String,
    current: bool,
}

struct PlanShow {
    /// Which version this is, of how many, since when and by whom.
    line: String,
    is_review: bool,
    areas: Vec<AreaShow>,
    withheld: usize,
    changes: Vec<String>,
    versions: Vec<VersionRow>,
}

struct GoalForm {
    text: String,
    target: String,
    statuses: Vec<Choice>,
}

struct AreaForm {
    key: &'static str,
    name: String,
    statuses: Vec<Choice>,
    staff: Vec<Choice>,
    needs: String,
    her_words: String,
    goals: Vec<GoalForm>,
}

struct ServiceRow {
    id: String,
    kind: String,
    date: String,
    provider: String,
    outcome: String,
}

struct FollowRow {
    id: String,
    kind: String,
    due: String,
    done: String,
    overdue: bool,
    open: bool,
    note: String,
}

struct RiskRow {
    date: String,
    level: String,
    high: bool,
    factors: String,
    notes: String,
    by: String,
}

struct IncidentRow {
    date: String,
    kind: String,
    account: String,
    by: String,
}

struct NoteRow {
    /// Sanitised by the store before it was saved; rendered as it is.
    body: String,
    area: String,
    confidential: bool,
    by: String,
    at: String,
}

struct ClosureRow {
    /// When and by whom it was closed.
    line: String,
    note: String,
    reopened: String,
    reason: String,
}

/// One line of "who can read her record, and why".
struct AccessRow {
    basis: String,
    /// What it lets them read, and since or until when.
    scope: String,
    people: String,
    /// She is in a partner's care without consent: reads nothing, her caseworker must act.
    flag: bool,
}

/// Who can read her record and why, and the consents she withdrew (who, when, how).
struct AccessShow {
    rows: Vec<AccessRow>,
    flags: Vec<String>,
    withdrawals: Vec<(String, String)>,
}

fn access_show(t: &Translator, report: &haven_store::access::AccessReport) -> AccessShow {
    let time = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M").to_string();
    let rows = report
        .entries
        .iter()
        .map(|e| {
            let mut scope = if e.classes.is_empty() {
                t.get("access-reads-nothing")
            } else {
                t.with(
                    "access-reads",
                    "classes",
                    &e.classes
                        .iter()
                        .map(|c| t.get(&format!("access-class-{}", c.as_str())))
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            };
            if let Some(since) = e.since {
                scope.push_str(" · ");
                scope.push_str(&t.with("access-since", "date", &time(since)));
            }
            if let Some(until) = e.until {
                scope.push_str(" · ");
                scope.push_str(&t.with("access-until", "time", &time(until)));
            }
            AccessRow {
                basis: t.with(&format!("access-basis-{}", e.basis), "org", &e.org_name),
                scope,
                people: if e.people.is_empty() {
                    t.get("access-nobody")
                } else {
                    e.people
                        .iter()
                        .map(|p| p.display_name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                flag: e.basis == "in_care_without_consent",
            }
        })
        .collect();
    AccessShow {
        rows,
        flags: report
            .in_care_without_consent()
            .map(|e| t.with("access-flag", "org", &e.org_name))
            .collect(),
        withdrawals: report
            .withdrawals
            .iter()
            .map(|w| {
                (
                    t.with_args(
                        "access-withdrawal",
                        &[
                            ("org", w.org_name.clone()),
                            ("date", time(w.withdrawn_at)),
                            ("by", w.withdrawn_by.clone()),
                        ],
                    ),
                    w.reason.clone().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "case_file.html")]
struct CaseFilePage {
    shell: Shell,
    /// Who can read her and why: for her caseworker and her organisation's managers.
    access: Option<AccessShow>,
    notice: Option<Notice>,
    kept: Kept,
    id: String,
    reference: String,
    name: String,
    summary: Vec<(String, String)>,
    closed: bool,
    may_write: bool,
    /// Whether the plan form is offered: a plan with areas hidden from the user would lose
    /// them on save, so only someone who reads the whole plan may rewrite it.
    plan_editable: bool,
    today: String,
    plan: Option<PlanShow>,
    plan_form: Vec<AreaForm>,
    based_on: String,
    started_on: String,
    services: Vec<ServiceRow>,
    service_kinds: Vec<Choice>,
    staff: Vec<Choice>,
    follow_ups: Vec<FollowRow>,
    follow_kinds: Vec<Choice>,
    risks: Vec<RiskRow>,
    risk_factors: Vec<Choice>,
    raise_levels: Vec<Choice>,
    incidents: Vec<IncidentRow>,
    incident_kinds: Vec<Choice>,
    notes: Vec<NoteRow>,
    note_areas: Vec<Choice>,
    closures: Vec<ClosureRow>,
    criteria: Vec<Choice>,
}

#[derive(Debug, Deserialize, Default)]
pub struct FileQuery {
    #[serde(default)]
    pub(crate) saved: Option<String>,
    #[serde(default)]
    pub(crate) version: Option<String>,
    /// The next contact a completed follow-up scheduled.
    #[serde(default)]
    pub(crate) next: Option<String>,
}

pub(crate) fn area_name(t: &Translator, area: PlanArea) -> String {
    t.get(&format!("cw-area-{}", area.as_str()))
}

/// "What changed" in words, one line per change.
fn change_text(t: &Translator, change: &PlanChange) -> String {
    match change {
        PlanChange::AreaAdded { area } => {
            t.with("cw-change-area-added", "area", &area_name(t, *area))
        }
        PlanChange::AreaRemoved { area } => {
            t.with("cw-change-area-removed", "area", &area_name(t, *area))
        }
        PlanChange::Status { area, from, to } => t.with_args(
            "cw-change-status",
            &[
                ("area", area_name(t, *area)),
                ("from", t.get(&format!("cw-status-{}", from.as_str()))),
                ("to", t.get(&format!("cw-status-{}", to.as_str()))),
            ],
        ),
        PlanChange::Responsible { area } => {
            t.with("cw-change-responsible", "area", &area_name(t, *area))
        }
        PlanChange::Needs { area } => t.with("cw-change-needs", "area", &area_name(t, *area)),
        PlanChange::HerWords { area } => {
            t.with("cw-change-her-words", "area", &area_name(t, *area))
        }
        PlanChange::GoalAdded { area, goal } => t.with_args(
            "cw-change-goal-added",
            &[("area", area_name(t, *area)), ("goal", goal.clone())],
        ),
        PlanChange::GoalRemoved { area, goal } => t.with_args(
            "cw-change-goal-removed",
            &[("area", area_name(t, *area)), ("goal", goal.clone())],
        ),
        PlanChange::GoalStatus {
            area,
            goal,
            from,
            to,
        } => t.with_args(
            "cw-change-goal-status",
            &[
                ("area", area_name(t, *area)),
                ("goal", goal.clone()),
                ("from", t.get(&format!("cw-goal-{}", from.as_str()))),
                ("to", t.get(&format!("cw-goal-{}", to.as_str()))),
            ],
        ),
        PlanChange::GoalTarget {
            area,
            goal,
            from,
            to,
        } => t.with_args(
            "cw-change-goal-target",
            &[
                ("area", area_name(t, *area)),
                ("goal", goal.clone()),
                ("from", from.to_string()),
                ("to", to.to_string()),
            ],
        ),
    }
}

fn responsible_text(t: &Translator, staff: &[(String, String)], r: &Responsible) -> String {
    match r {
        Responsible::Nobody => t.get("cw-nobody"),
        Responsible::Staff { user } => {
            let id = user.to_string();
            staff
                .iter()
                .find(|(sid, _)| *sid == id)
                .map(|(_, name)| name.clone())
                .unwrap_or_else(|| t.get("cw-former-staff"))
        }
        Responsible::Partner { .. } => t.get("cw-partner-responsible"),
    }
}

fn plan_show(t: &Translator, staff: &[(String, String)], view: &PlanView) -> PlanShow {
    let current = &view.current;
    PlanShow {
        line: t.with_args(
            "cw-plan-version",
            &[
                ("version", current.version.to_string()),
                ("latest", view.latest_version.to_string()),
                ("date", current.started_on.to_string()),
                ("by", current.created_by.clone()),
            ],
        ),
        is_review: current.is_review,
        withheld: current.withheld,
        areas: current
            .areas
            .iter()
            .map(|a| AreaShow {
                key: a.area.as_str(),
                name: area_name(t, a.area),
                status: t.get(&format!("cw-status-{}", a.status.as_str())),
                responsible: responsible_text(t, staff, &a.responsible),
                needs: a.needs.clone(),
                her_words: a.her_words.clone(),
                goals: a
                    .goals
                    .iter()
                    .map(|g| GoalShow {
                        text: g.text.clone(),
                        target: g.target.to_string(),
                        status: t.get(&format!("cw-goal-{}", g.status.as_str())),
                    })
                    .collect(),
            })
            .collect(),
        changes: view.changes.iter().map(|c| change_text(t, c)).collect(),
        versions: view
            .versions
            .iter()
            .map(|v| VersionRow {
                version: v.version,
                label: t.with_args(
                    if v.is_review {
                        "cw-version-review"
                    } else {
                        "cw-version-line"
                    },
                    &[
                        ("version", v.version.to_string()),
                        ("by", v.created_by.clone()),
                        ("date", v.created_at.date_naive().to_string()),
                    ],
                ),
                current: v.version == current.version,
            })
            .collect(),
    }
}

/// The plan form: from what was typed (after a refusal) or from her latest plan.
fn plan_form(
    t: &Translator,
    staff: &[(String, String)],
    latest: Option<&PlanView>,
    kept: &Kept,
) -> Vec<AreaForm> {
    PlanArea::ALL
        .iter()
        .map(|&area| {
            let key = area.as_str();
            let saved = latest.and_then(|p| p.current.areas.iter().find(|a| a.area == area));
            let typed = |name: &str| kept.value("plan", &format!("{key}_{name}"));
            let status = typed("status").map(str::to_owned).unwrap_or_else(|| {
                saved
                    .map_or(AreaStatus::NotStarted, |a| a.status)
                    .as_str()
                    .to_owned()
            });
            let responsible =
                typed("responsible").map(str::to_owned).unwrap_or_else(|| {
                    match saved.map(|a| a.responsible) {
                        Some(Responsible::Staff { user }) => user.to_string(),
                        _ => String::new(),
                    }
                });
            let mut staff_choices = vec![Choice {
                value: String::new(),
                label: t.get("cw-nobody"),
                checked: responsible.is_empty(),
            }];
            staff_choices.extend(staff.iter().map(|(id, name)| Choice {
                value: id.clone(),
                label: name.clone(),
                checked: *id == responsible,
            }));
            if matches!(
                saved.map(|a| a.responsible),
                Some(Responsible::Partner { .. })
            ) {
                staff_choices.push(Choice {
                    value: case_forms::KEEP_PARTNER.to_owned(),
                    label: t.get("cw-partner-responsible"),
                    checked: responsible.is_empty() || responsible == case_forms::KEEP_PARTNER,
                });
                if let Some(first) = staff_choices.first_mut() {
                    first.checked = false;
                }
            }
            let goals = (0..GOAL_SLOTS)
                .map(|i| {
                    let n = i + 1;
                    let goal = saved.and_then(|a| a.goals.get(i));
                    let status = typed(&format!("goal{n}_status"))
                        .map(str::to_owned)
                        .unwrap_or_else(|| {
                            goal.map_or(GoalStatus::Open, |g| g.status)
                                .as_str()
                                .to_owned()
                        });
                    GoalForm {
                        text: kept_or(typed(&format!("goal{n}_text")), || {
                            goal.map(|g| g.text.clone()).unwrap_or_default()
                        }),
                        target: kept_or(typed(&format!("goal{n}_target")), || {
                            goal.map(|g| g.target.to_string()).unwrap_or_default()
                        }),
                        statuses: choices(
                            t,
                            GoalStatus::ALL,
                            GoalStatus::as_str,
                            "cw-goal",
                            &status,
                        ),
                    }
                })
                .collect();
            AreaForm {
                key,
                name: area_name(t, area),
                statuses: choices(t, AreaStatus::ALL, AreaStatus::as_str, "cw-status", &status),
                staff: staff_choices,
                needs: kept_or(typed("needs"), || {
                    saved.map(|a| a.needs.clone()).unwrap_or_default()
                }),
                her_words: kept_or(typed("her_words"), || {
                    saved.map(|a| a.her_words.clone()).unwrap_or_default()
                }),
                goals,
            }
        })
        .collect()
}

/// Builds and shows her case file.
pub(crate) async fn file_page(
    req: Req<'_>,
    jar: CookieJar,
    id: SurvivorId,
    query: &FileQuery,
    notice: Option<Notice>,
    kept: Kept,
    status: StatusCode,
) -> Response {
    let Req {
        state,
        headers,
        caller,
    } = req;
    let locale = locale_for(headers, Some(&caller.user));
    let user = &caller.user;
    if !super::may_open(user, Section::Survivors) {
        return not_found_page(locale, Some(user), jar, state);
    }
    let chosen = query
        .version
        .as_deref()
        .and_then(|v| v.trim().parse::<i64>().ok());
    let loaded = async {
        let keyring = state.keyring()?;
        let file = case_file::open(&state.db, keyring, user, &caller.ctx, id).await?;
        let shown = match (chosen, &file.plan) {
            (Some(v), Some(p)) if v != p.latest_version => {
                care_plans::plan(&state.db, keyring, user, &caller.ctx, id, Some(v)).await?
            }
            _ => None,
        };
        let staff = case_forms::team_staff(state, user).await?;
        let access =
            match haven_store::access::report(&state.db, keyring, user, &caller.ctx, id).await {
                Ok(report) => Some(report),
                Err(
                    haven_store::StoreError::NotFound(_) | haven_store::StoreError::Forbidden(_),
                ) => None,
                Err(other) => return Err(other.into()),
            };
        Ok::<_, ApiError>((file, shown, staff, access))
    }
    .await;
    let (file, shown, staff, access) = match loaded {
        Ok(found) => found,
        Err(err) => return failure(state, locale, caller, jar, err),
    };
    let (jar, csrf) = csrf_token(jar, state);
    let path = format!("/survivors/{id}");
    let shell = Shell::new(locale, Some(user), csrf, &path);
    let t = &shell.t;
    // Overdue is judged, and forms start, from the date where the team works.
    let local_today = state.team_today();
    let notice = notice
        .or_else(|| case_forms::saved_notice(t, query.saved.as_deref(), query.next.as_deref()));
    let fields = &file.survivor.fields;
    let summary = SUMMARY
        .iter()
        .filter_map(|f| {
            fields
                .get(f)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (t.get(&format!("field-{}", f.as_str())), v.clone()))
        })
        .collect();
    let plan = shown
        .as_ref()
        .or(file.plan.as_ref())
        .map(|p| plan_show(t, &staff, p));
    let plan_form = plan_form(t, &staff, file.plan.as_ref(), &kept);
    let no_one = || Choice {
        value: String::new(),
        label: t.get("cw-none-chosen"),
        checked: true,
    };
    let mut staff_choices = vec![no_one()];
    staff_choices.extend(staff.iter().map(|(sid, name)| Choice {
        value: sid.clone(),
        label: name.clone(),
        checked: kept.value("service", "provider_user") == Some(sid.as_str()),
    }));
    let mut note_areas = vec![Choice {
        value: String::new(),
        label: t.get("cw-note-general"),
        checked: true,
    }];
    note_areas.extend(choices(
        t,
        PlanArea::ALL,
        PlanArea::as_str,
        "cw-area",
        kept.value("note", "area").unwrap_or(""),
    ));
    let mut raise_levels = vec![Choice {
        value: String::new(),
        label: t.get("cw-risk-no-raise"),
        checked: true,
    }];
    raise_levels.extend(choices(
        t,
        &[RiskLevel::Medium, RiskLevel::High],
        RiskLevel::as_str,
        "cw-risk",
        kept.value("risk", "raise").unwrap_or(""),
    ));
    let page = CaseFilePage {
        access: access.as_ref().map(|r| access_show(t, r)),
        id: id.to_string(),
        reference: file.survivor.reference.clone(),
        name: fields
            .get(&SurvivorField::Name)
            .cloned()
            .unwrap_or_default(),
        summary,
        closed: file.is_closed(),
        may_write: case_forms::works_cases(user),
        plan_editable: case_forms::works_cases(user)
            && file.plan.as_ref().is_none_or(|p| p.current.withheld == 0),
        today: date_input(local_today),
        based_on: file
            .plan
            .as_ref()
            .map(|p| p.latest_version.to_string())
            .unwrap_or_default(),
        started_on: kept_or(kept.value("plan", "started_on"), || {
            file.plan
                .as_ref()
                .map_or(local_today, |p| p.current.started_on)
                .to_string()
        }),
        plan,
        plan_form,
        services: file
            .services
            .iter()
            .map(|s| ServiceRow {
                id: s.id.to_string(),
                kind: t.get(&format!("cw-service-{}", s.kind.as_str())),
                date: s.delivered_on.to_string(),
                provider: s.provider.clone(),
                outcome: s.outcome.clone().unwrap_or_default(),
            })
            .collect(),
        service_kinds: choices(
            t,
            ServiceKind::ALL,
            ServiceKind::as_str,
            "cw-service",
            kept.value("service", "kind").unwrap_or(""),
        ),
        staff: staff_choices,
        follow_ups: file
            .follow_ups
            .iter()
            .filter(|f| !f.cancelled)
            .map(|f| FollowRow {
                id: f.id.to_string(),
                kind: t.get(&format!("cw-follow-{}", f.kind.as_str())),
                due: f.due_on.to_string(),
                done: f
                    .done_on
                    .map(|d| {
                        t.with_args(
                            "cw-follow-done-by",
                            &[
                                ("date", d.to_string()),
                                ("by", f.done_by.clone().unwrap_or_default()),
                            ],
                        )
                    })
                    .unwrap_or_default(),
                overdue: f.is_overdue(local_today),
                open: f.is_open(),
                note: f.note.clone().unwrap_or_default(),
            })
            .collect(),
        follow_kinds: choices(
            t,
            &[FollowUpKind::Contact, FollowUpKind::Review],
            FollowUpKind::as_str,
            "cw-follow",
            kept.value("follow", "kind").unwrap_or(""),
        ),
        risks: file
            .risks
            .iter()
            .map(|r| RiskRow {
                date: r.assessed_on.to_string(),
                level: t.get(&format!("cw-risk-{}", r.level.as_str())),
                high: r.level == RiskLevel::High,
                factors: r
                    .factors
                    .present()
                    .iter()
                    .map(|f| t.get(&format!("cw-factor-{f}")))
                    .collect::<Vec<_>>()
                    .join(", "),
                notes: r.notes.clone(),
                by: r.assessed_by.clone(),
            })
            .collect(),
        risk_factors: case_forms::FACTORS
            .iter()
            .map(|f| Choice {
                value: (*f).to_owned(),
                label: t.get(&format!("cw-factor-{f}")),
                checked: kept.on("risk", f),
            })
            .collect(),
        raise_levels,
        incidents: file
            .incidents
            .iter()
            .map(|i| IncidentRow {
                date: i.occurred_on.to_string(),
                kind: t.get(&format!("cw-incident-{}", i.kind.as_str())),
                account: i.account.clone(),
                by: i.reported_by.clone(),
            })
            .collect(),
        incident_kinds: choices(
            t,
            IncidentKind::ALL,
            IncidentKind::as_str,
            "cw-incident",
            kept.value("incident", "kind").unwrap_or(""),
        ),
        notes: file
            .notes
            .iter()
            .map(|n| NoteRow {
                body: n.body.clone(),
                area: n.area.map(|a| area_name(t, a)).unwrap_or_default(),
                confidential: n.confidential,
                by: n.author.clone(),
                at: n.created_at.date_naive().to_string(),
            })
            .collect(),
        note_areas,
        closures: file
            .closures
            .iter()
            .map(|c| ClosureRow {
                line: t.with_args(
                    "cw-closed-on",
                    &[
                        ("date", c.closed_on.to_string()),
                        ("by", c.closed_by.clone()),
                    ],
                ),
                note: c.note.clone().unwrap_or_default(),
                reopened: c
                    .reopened_at
                    .map(|at| {
                        t.with_args(
                            "cw-reopened-on",
                            &[
                                ("date", at.date_naive().to_string()),
                                ("by", c.reopened_by.clone().unwrap_or_default()),
                            ],
                        )
                    })
                    .unwrap_or_default(),
                reason: c.reopen_reason.clone().unwrap_or_default(),
            })
            .collect(),
        criteria: case_forms::CRITERIA
            .iter()
            .map(|c| Choice {
                value: (*c).to_owned(),
                label: t.get(&format!("cw-criterion-{c}")),
                checked: kept.on("close", c),
            })
            .collect(),
        kept,
        notice,
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
    Query(query): Query<FileQuery>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    match survivor_id(&raw) {
        Ok(id) => {
            file_page(
                Req {
                    state: &state,
                    headers: &headers,
                    caller: &caller,
                },
                jar,
                id,
                &query,
                None,
                Kept::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(err) => failure(&state, locale, &caller, jar, err),
    }
}
