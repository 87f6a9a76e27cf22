//! `/survivors`: a caseworker's caseload, overdue first; for a manager, the team: each
//! worker's load, the team's overdue follow-ups, one worker's caseload with a way to move a
//! girl to another caseworker, and the organisation's follow-up schedule.

use super::case_forms::{field, saved_notice, team_staff, Kept};
use super::crisis::{failure, form_target, Choice, Notice, Req};
use super::{not_found_page, render, MessagePage, Shell};
use crate::auth::{csrf_token, locale_for, PageUser};
use crate::error::ApiError;
use crate::i18n::Translator;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::{CookieJar, Form};
use haven_core::casework::Schedule;
use haven_core::nav::Section;
use haven_core::{Role, UserId};
use haven_store::follow_ups::{self, CaseloadRow};
use serde::Deserialize;
use std::collections::BTreeMap;

/// How many overdue follow-ups the team list shows.
const OVERDUE_SHOWN: u32 = 50;

struct Row {
    id: String,
    reference: String,
    name: String,
    next: String,
    next_due: String,
    overdue: i64,
    risk: String,
    high_risk: bool,
    closed: bool,
    /// Other caseworkers she could be moved to (managers only).
    move_to: Vec<Choice>,
}

struct WorkerRow {
    id: String,
    name: String,
    survivors: i64,
    overdue: i64,
    current: bool,
}

struct OverdueRow {
    id: String,
    reference: String,
    kind: String,
    due: String,
    days: i64,
    caseworkers: String,
}

#[derive(Template)]
#[template(path = "case_caseload.html")]
struct CaseloadPage {
    shell: Shell,
    notice: Option<Notice>,
    kept: Kept,
    /// Her own caseload (aftercare caseworkers).
    own: Option<Vec<Row>>,
    manager: bool,
    workers: Vec<WorkerRow>,
    worker_name: String,
    worker_id: String,
    worker_rows: Vec<Row>,
    overdue: Vec<OverdueRow>,
    overdue_total: i64,
    schedule: Schedule,
    /// The defaults, in words, next to the form.
    defaults_text: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct CaseloadQuery {
    #[serde(default)]
    worker: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

fn rows(
    t: &Translator,
    list: Vec<CaseloadRow>,
    move_to: &[(String, String)],
    worker: &str,
) -> Vec<Row> {
    list.into_iter()
        .map(|r| Row {
            id: r.survivor.to_string(),
            reference: r.reference,
            name: r.name.unwrap_or_default(),
            next: r
                .next_kind
                .map(|k| t.get(&format!("cw-follow-{}", k.as_str())))
                .unwrap_or_default(),
            next_due: r.next_due.map(|d| d.to_string()).unwrap_or_default(),
            overdue: r.overdue,
            high_risk: r.risk == Some(haven_core::casework::RiskLevel::High),
            risk: r
                .risk
                .map(|l| t.get(&format!("cw-risk-{}", l.as_str())))
                .unwrap_or_default(),
            closed: r.closed,
            move_to: move_to
                .iter()
                .filter(|(id, _)| id != worker)
                .map(|(id, name)| Choice {
                    value: id.clone(),
                    label: name.clone(),
                    checked: false,
                })
                .collect(),
        })
        .collect()
}

fn is_manager(user: &haven_store::users::User) -> bool {
    user.roles.contains(Role::Manager)
}

async fn caseload_page(
    req: Req<'_>,
    jar: CookieJar,
    query: &CaseloadQuery,
    notice: Option<Notice>,
    kept: Kept,
    status: StatusCode,
) -> Response {
    let Req {
        state,
        headers,
        caller,
    } = req;
    let user = &caller.user;
    let locale = locale_for(headers, Some(user));
    if !super::may_open(user, Section::Survivors) {
        return not_found_page(locale, Some(user), jar, state);
    }
    let aftercare = user.roles.contains(Role::Aftercare);
    let manager = is_manager(user);
    if !aftercare && !manager {
        // Legal staff reach her through their legal cases, not a caseload.
        let (jar, csrf) = csrf_token(jar, state);
        let shell = Shell::new(locale, Some(user), csrf, "/survivors");
        let page = MessagePage {
            heading: shell.t.get("cw-caseload-title"),
            message: shell.t.get("cw-caseload-not-yours"),
            shell,
        };
        return (jar, render(&page)).into_response();
    }
    // Overdue is judged on the date where the team works.
    let today = state.team_today();
    let worker = query
        .worker
        .as_deref()
        .filter(|w| !w.trim().is_empty())
        .map(|w| {
            w.trim()
                .parse::<UserId>()
                .map_err(|_| ApiError::not_found("caseworker"))
        })
        .transpose();
    let loaded = async {
        let worker = worker?;
        let keyring = state.keyring()?;
        let own = if aftercare {
            Some(follow_ups::caseload(&state.db, keyring, user, &caller.ctx, user.id, today).await?)
        } else {
            None
        };
        let mut team = None;
        if manager {
            let loads = follow_ups::team_loads(&state.db, user, today).await?;
            let overdue = follow_ups::team_overdue(&state.db, user, today, OVERDUE_SHOWN).await?;
            let schedule = follow_ups::schedule(&state.db, user).await?;
            let chosen = match worker {
                Some(w) => Some((
                    w,
                    follow_ups::caseload(&state.db, keyring, user, &caller.ctx, w, today).await?,
                )),
                None => None,
            };
            let staff = team_staff(state, user).await?;
            team = Some((loads, overdue, schedule, chosen, staff));
        } else if worker.is_some_and(|w| w != user.id) {
            return Err(ApiError::not_found("caseworker"));
        }
        Ok::<_, ApiError>((own, team))
    }
    .await;
    let (own, team) = match loaded {
        Ok(found) => found,
        Err(err) => return failure(state, locale, caller, jar, err),
    };
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale, Some(user), csrf, "/survivors");
    let t = &shell.t;
    let notice = notice.or_else(|| saved_notice(t, query.saved.as_deref(), None));
    let own = own.map(|list| rows(t, list, &[], ""));
    let mut page = CaseloadPage {
        notice,
        kept,
        own,
        manager,
        workers: Vec::new(),
        worker_name: String::new(),
        worker_id: String::new(),
        worker_rows: Vec::new(),
        overdue: Vec::new(),
        overdue_total: 0,
        schedule: Schedule::default(),
        defaults_text: {
            let d = Schedule::default();
            t.with_args(
                "cw-schedule-defaults",
                &[
                    ("month", d.first_month_days.to_string()),
                    ("year", d.first_year_days.to_string()),
                    ("after", d.after_days.to_string()),
                ],
            )
        },
        shell,
    };
    if let Some((loads, (overdue, total), schedule, chosen, staff)) = team {
        let t = &page.shell.t;
        let chosen_id = chosen
            .as_ref()
            .map(|(w, _)| w.to_string())
            .unwrap_or_default();
        page.workers = loads
            .into_iter()
            .map(|w| WorkerRow {
                current: w.user.to_string() == chosen_id,
                id: w.user.to_string(),
                name: w.name,
                survivors: w.survivors,
                overdue: w.overdue,
            })
            .collect();
        page.overdue = overdue
            .into_iter()
            .map(|o| OverdueRow {
                id: o.survivor.to_string(),
                reference: o.reference,
                kind: t.get(&format!("cw-follow-{}", o.kind.as_str())),
                due: o.due_on.to_string(),
                days: o.days_overdue,
                caseworkers: if o.caseworkers.is_empty() {
                    t.get("cw-nobody")
                } else {
                    o.caseworkers.join(", ")
                },
            })
            .collect();
        page.overdue_total = total;
        page.schedule = schedule;
        if let Some((w, list)) = chosen {
            page.worker_name = staff
                .iter()
                .find(|(id, _)| *id == chosen_id)
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            page.worker_rows = rows(t, list, &staff, &chosen_id);
            page.worker_id = w.to_string();
        }
    }
    (status, jar, render(&page)).into_response()
}

pub async fn caseload(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Query(query): Query<CaseloadQuery>,
) -> Response {
    caseload_page(
        Req {
            state: &state,
            headers: &headers,
            caller: &caller,
        },
        jar,
        &query,
        None,
        Kept::default(),
        StatusCode::OK,
    )
    .await
}

type Fields = BTreeMap<String, String>;

/// After a manager's form: back to the team page, or the page again with the reason.
async fn after_form(
    req: Req<'_>,
    jar: CookieJar,
    worker: Option<String>,
    form: &'static str,
    values: Fields,
    result: Result<&'static str, ApiError>,
) -> Response {
    let locale = locale_for(req.headers, Some(&req.caller.user));
    match result {
        Ok(saved) => {
            let to = match worker.as_deref().filter(|w| w.parse::<UserId>().is_ok()) {
                Some(w) => format!("/survivors?worker={w}&saved={saved}"),
                None => format!("/survivors?saved={saved}"),
            };
            Redirect::to(&to).into_response()
        }
        Err(err) if err.status == StatusCode::BAD_REQUEST || err.status == StatusCode::CONFLICT => {
            let t = Translator::new(locale);
            let status = err.status;
            caseload_page(
                req,
                jar,
                &CaseloadQuery {
                    worker,
                    saved: None,
                },
                Some(Notice {
                    error: true,
                    text: t.with("cw-not-saved", "reason", &err.message),
                }),
                Kept::new(form, values),
                status,
            )
            .await
        }
        Err(err) => failure(req.state, locale, req.caller, jar, err),
    }
}

/// Moves her to another aftercare caseworker (managers).
pub async fn reassign(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let id = if is_manager(&caller.user) {
        super::casework::survivor_id(&raw)
    } else {
        Err(ApiError::not_found("survivor"))
    };
    let (id, jar) = match form_target(&state, &headers, &caller, jar, field(&form, "csrf"), id) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let result = async {
        let to = field(&form, "to").trim().parse::<UserId>().map_err(|_| {
            ApiError::bad_request(
                Translator::new(locale_for(&headers, Some(&caller.user))).get("cw-reassign-choose"),
            )
        })?;
        follow_ups::reassign(&state.db, &caller.user, &caller.ctx, id, to).await?;
        Ok::<_, ApiError>("reassigned")
    }
    .await;
    let worker = Some(field(&form, "from").to_owned());
    after_form(
        Req {
            state: &state,
            headers: &headers,
            caller: &caller,
        },
        jar,
        worker,
        "reassign",
        form,
        result,
    )
    .await
}

/// Sets the organisation's follow-up schedule (managers).
pub async fn set_schedule(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Form(form): Form<Fields>,
) -> Response {
    let allowed = if is_manager(&caller.user) {
        Ok(())
    } else {
        Err(ApiError::not_found("page"))
    };
    let ((), jar) = match form_target(
        &state,
        &headers,
        &caller,
        jar,
        field(&form, "csrf"),
        allowed,
    ) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let t = Translator::new(locale_for(&headers, Some(&caller.user)));
    let days = |name: &str| {
        field(&form, name)
            .trim()
            .parse::<u32>()
            .map_err(|_| ApiError::bad_request(t.get("cw-schedule-whole-days")))
    };
    let result = async {
        let schedule = Schedule {
            first_month_days: days("first_month_days")?,
            first_year_days: days("first_year_days")?,
            after_days: days("after_days")?,
        };
        follow_ups::set_schedule(&state.db, &caller.user, &caller.ctx, schedule).await?;
        Ok::<_, ApiError>("schedule")
    }
    .await;
    after_form(
        Req {
            state: &state,
            headers: &headers,
            caller: &caller,
        },
        jar,
        None,
        "schedule",
        form,
        result,
    )
    .await
}
