//! Legal pages: the case list, a case file (timeline, survivors and her choice, hearings,
//! evidence with its chain of custody, upload form, court bundle), and the hearings calendar.
//! Every read goes through `haven_store::legal` / `evidence`, which check and audit it.

use super::{not_found_page, render, Shell};
use crate::auth::{csrf_ok, csrf_token, locale_for, PageUser};
use crate::error::ApiError;
use crate::i18n::Translator;
use crate::state::AppState;
use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use haven_core::legal::{
    Capacity, CaseAccess, InformedDecision, Participation, Stage, StageRefusal, SuspectRole,
    ARTICLES,
};
use haven_core::{Locale, SurvivorId, ValidationError};
use haven_store::legal::{self, CaseFile, NewCase, NewHearing, NewOutcome, NewPlan};
use haven_store::StoreError;
use haven_store::{evidence, legal_bundle};
use serde::Deserialize;
use std::collections::BTreeMap;
use uuid::Uuid;

fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn day(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn size(bytes: Option<i64>) -> String {
    match bytes {
        None => String::new(),
        Some(b) if b < 10_000 => format!("{b} B"),
        Some(b) if b < 10_000_000 => format!("{} KB", b / 1000),
        Some(b) => format!("{} MB", b / 1_000_000),
    }
}

#[derive(Template)]
#[template(path = "legal_cases.html")]
struct CasesPage {
    shell: Shell,
    rows: Vec<(String, String, String, String)>,
    /// Lawyers and managers may open a case here.
    works: bool,
    error: Option<String>,
    kept: BTreeMap<String, String>,
}

impl CasesPage {
    /// A value typed into the refused form, or "".
    fn kept(&self, name: &str) -> &str {
        self.kept.get(name).map(String::as_str).unwrap_or_default()
    }
}

/// `/legal`: the case list.
pub async fn cases(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    cases_page(
        &state,
        &caller,
        locale,
        jar,
        None,
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

async fn cases_page(
    state: &AppState,
    caller: &PageUser,
    locale: Locale,
    jar: CookieJar,
    error: Option<String>,
    kept: BTreeMap<String, String>,
    status: StatusCode,
) -> Response {
    let level = legal::access(&caller.user);
    if !level.sees_case() {
        return not_found_page(locale, Some(&caller.user), jar, state);
    }
    let found = match legal::list_cases(&state.db, &caller.user, None, 200).await {
        Ok(found) => found,
        Err(err) => return super::error_page(locale, err.into()),
    };
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, "/legal");
    let rows = found
        .into_iter()
        .map(|c| (c.id.to_string(), c.reference, c.title, c.court))
        .collect();
    let page = CasesPage {
        shell,
        rows,
        works: level.works_case(),
        error,
        kept,
    };
    (status, jar, render(&page)).into_response()
}

struct EvidenceRow {
    id: String,
    title: String,
    kind: String,
    category: String,
    file: String,
    size: String,
    sha256: String,
    holder: String,
    collected: String,
    custody: Vec<String>,
    has_file: bool,
}

#[derive(Template)]
#[template(path = "legal_case.html")]
struct CasePage {
    shell: Shell,
    case: CaseFile,
    error: Option<String>,
    notice: Option<String>,
    evidence: Vec<EvidenceRow>,
    stages: Vec<(String, String, String)>,
    timeline: Vec<(String, String, String)>,
    survivors: Vec<(String, String, String, String, String)>,
    hearings: Vec<(String, String, String, Vec<String>)>,
    deadlines: Vec<(String, String)>,
    missing: Vec<String>,
    staff: Vec<(String, String)>,
    stage_options: Vec<(String, String)>,
    full: bool,
    /// Which form the error belongs to ("" for the upload and handover forms).
    failed_form: &'static str,
    /// What was typed into the refused form, to show it again.
    kept: BTreeMap<String, String>,
    saved: Option<String>,
    /// Survivors who may be contacted about the case: (survivor ID, reference).
    reachable: Vec<(String, String)>,
    /// Every survivor of the case, for her choice: (survivor ID, reference).
    linked: Vec<(String, String)>,
    decision_options: Vec<(String, String)>,
    languages: Vec<(&'static str, &'static str)>,
    session_kinds: Vec<(String, String)>,
    /// The case's suspects: (suspect ID, name).
    suspect_options: Vec<(String, String)>,
    /// The articles a charge may be laid under: (code, "Article n · title").
    article_options: Vec<(String, String)>,
    role_options: Vec<(String, String)>,
    capacity_options: Vec<(String, String)>,
    deadline_kinds: Vec<(String, String)>,
    /// Judgments recorded: (decided on, accused, result and sentence, compensation).
    outcomes: Vec<(String, String, String, String)>,
}

impl CasePage {
    /// A value typed into the refused form, or "".
    fn kept(&self, name: &str) -> &str {
        self.kept.get(name).map(String::as_str).unwrap_or_default()
    }
}

fn participation_key(p: Option<haven_core::legal::Participation>) -> &'static str {
    match p {
        Some(haven_core::legal::Participation::TakesPart) => "legal-decision-takes-part",
        Some(haven_core::legal::Participation::Withdrawn) => "legal-decision-withdrawn",
        Some(haven_core::legal::Participation::Undecided) | None => "legal-decision-undecided",
    }
}

#[allow(clippy::too_many_arguments)]
async fn case_page(
    state: &AppState,
    caller: &PageUser,
    locale: Locale,
    jar: CookieJar,
    id: Uuid,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let shown = Shown {
        problem: error.map(Problem::Text),
        ..Shown::default()
    };
    case_page_with(state, caller, locale, jar, id, shown, notice, status).await
}

/// What a case page shows besides the case: a refused form with its reason and input, or the
/// confirmation of a saved one.
#[derive(Default)]
struct Shown {
    problem: Option<Problem>,
    form: &'static str,
    kept: BTreeMap<String, String>,
    saved: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn case_page_with(
    state: &AppState,
    caller: &PageUser,
    locale: Locale,
    jar: CookieJar,
    id: Uuid,
    shown: Shown,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let keyring = match state.keyring() {
        Ok(k) => k,
        Err(err) => return super::error_page(locale, err.into()),
    };
    let case = match legal::case_file(&state.db, keyring, &caller.user, &caller.ctx, id).await {
        Ok(case) => case,
        Err(haven_store::StoreError::NotFound(_)) => {
            return not_found_page(locale, Some(&caller.user), jar, state)
        }
        Err(err) => return super::error_page(locale, err.into()),
    };
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, "/legal");
    let t = &shell.t;
    let staff = haven_store::users::list(&state.db, None, 200)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|u| !u.disabled && u.org_id == caller.user.org_id && u.id != caller.user.id)
        .filter(|u| CaseAccess::of(&u.roles, true).handles_evidence())
        .map(|u| (u.username.to_string(), u.display_name))
        .collect();
    let suspect_name = |id: Uuid| {
        case.suspects
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let outcomes = case
        .outcomes
        .iter()
        .map(|o| {
            let result = t.get(&format!("legal-result-{}", o.result));
            let result = match o.sentence_months {
                Some(months) => format!(
                    "{result} · {}",
                    t.with("legal-sentence-months", "months", &months.to_string())
                ),
                None => result,
            };
            (
                o.decided_on.to_string(),
                suspect_name(o.suspect_id),
                result,
                t.with_args(
                    "legal-compensation-line",
                    &[
                        ("ordered", o.compensation_ordered.to_string()),
                        ("paid", o.compensation_paid.to_string()),
                    ],
                ),
            )
        })
        .collect();
    let page = CasePage {
        suspect_options: case
            .suspects
            .iter()
            .map(|s| (s.id.to_string(), s.name.clone()))
            .collect(),
        article_options: ARTICLES
            .iter()
            .map(|a| {
                (
                    a.code.to_owned(),
                    format!(
                        "{} · {}",
                        t.with("legal-article", "number", a.code.trim_start_matches("art-")),
                        t.get(&format!("legal-{}", a.code))
                    ),
                )
            })
            .collect(),
        role_options: SuspectRole::ALL
            .iter()
            .map(|r| {
                (
                    r.as_str().to_owned(),
                    t.get(&format!("legal-role-{}", r.as_str().replace('_', "-"))),
                )
            })
            .collect(),
        capacity_options: Capacity::ALL
            .iter()
            .map(|c| {
                (
                    c.as_str().to_owned(),
                    t.get(&format!("legal-capacity-{}", c.as_str())),
                )
            })
            .collect(),
        outcomes,
        deadline_kinds: [
            "court",
            "statutory-custody",
            "statutory-detention",
            "statutory-appeal",
        ]
        .iter()
        .map(|k| {
            let key = match *k {
                "court" => "legal-reminder-deadline".to_owned(),
                other => format!("legal-reminder-{other}"),
            };
            ((*k).to_owned(), t.get(&key))
        })
        .collect(),
        evidence: case
            .evidence
            .iter()
            .map(|e| EvidenceRow {
                id: e.id.to_string(),
                title: e.title.clone(),
                kind: t.get(&format!("legal-kind-{}", e.kind.replace('_', "-"))),
                category: t.get(&format!("legal-category-{}", e.category.replace('_', "-"))),
                file: e.file_name.clone().unwrap_or_default(),
                size: size(e.size_bytes),
                sha256: e.sha256.clone().unwrap_or_default(),
                holder: e.holder.clone(),
                collected: format!(
                    "{} · {} · {} · {}",
                    e.collected_by,
                    when(&e.collected_at),
                    e.collected_where,
                    e.collected_how
                ),
                custody: Vec::new(),
                has_file: e.sha256.is_some(),
            })
            .collect(),
        stages: case
            .stages
            .iter()
            .map(|s| {
                (
                    t.get(&s.stage.label_key()),
                    s.occurred_on.to_string(),
                    s.note.clone(),
                )
            })
            .collect(),
        timeline: case
            .timeline
            .iter()
            .map(|e| {
                let label = match e.kind.as_str() {
                    "stage" => haven_core::legal::Stage::parse(&e.label)
                        .map(|s| t.get(&s.label_key()))
                        .unwrap_or_else(|_| e.label.clone()),
                    "decision" => match e.label.split_once(": ") {
                        Some((reference, decision)) => format!(
                            "{reference}: {}",
                            t.get(participation_key(
                                haven_core::legal::Participation::parse(decision).ok()
                            ))
                        ),
                        None => e.label.clone(),
                    },
                    _ => e.label.clone(),
                };
                (
                    day(&e.at),
                    t.get(&format!("legal-timeline-{}", e.kind)),
                    label,
                )
            })
            .collect(),
        survivors: case
            .survivors
            .iter()
            .map(|s| {
                (
                    s.reference.clone(),
                    t.get(&format!("legal-capacity-{}", s.capacity)),
                    if s.erased {
                        t.get("legal-survivor-erased")
                    } else if case.full_view {
                        t.get(participation_key(s.participation))
                    } else {
                        String::new()
                    },
                    s.name.clone().unwrap_or_default(),
                    match s.minor {
                        Some(true) => t.get("legal-minor"),
                        _ => String::new(),
                    },
                )
            })
            .collect(),
        hearings: case
            .hearings
            .iter()
            .map(|h| {
                (
                    when(&h.starts_at),
                    format!("{} {}", h.court, h.room).trim().to_owned(),
                    haven_core::legal::Stage::parse(&h.stage)
                        .map(|s| t.get(&s.label_key()))
                        .unwrap_or_default(),
                    h.accompaniment
                        .iter()
                        .map(|a| {
                            format!(
                                "{}: {} · {}{}",
                                a.reference,
                                a.companions,
                                a.transport,
                                if a.separate_waiting_room {
                                    format!(" · {}", t.get("legal-separate-room"))
                                } else {
                                    String::new()
                                }
                            )
                        })
                        .collect(),
                )
            })
            .collect(),
        deadlines: case
            .deadlines
            .iter()
            .map(|d| {
                let title = if d.kind == "court" {
                    d.title.clone()
                } else {
                    t.get(&format!("legal-reminder-{}", d.kind))
                };
                (when(&d.due), title)
            })
            .collect(),
        missing: case
            .missing
            .iter()
            .map(|m| match &m.subject {
                Some(s) => format!("{}: {s}", t.get(&format!("legal-missing-{}", m.key))),
                None => t.get(&format!("legal-missing-{}", m.key)),
            })
            .collect(),
        staff,
        stage_options: haven_core::legal::Stage::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), t.get(&s.label_key())))
            .collect(),
        full: case.full_view,
        error: shown.problem.map(|p| p.text(t, &case)),
        failed_form: shown.form,
        kept: shown.kept,
        saved: shown.saved,
        reachable: case
            .survivors
            .iter()
            .filter(|s| !s.withdrawn && !s.erased)
            .map(|s| (s.survivor_id.to_string(), s.reference.clone()))
            .collect(),
        linked: case
            .survivors
            .iter()
            .map(|s| (s.survivor_id.to_string(), s.reference.clone()))
            .collect(),
        decision_options: Participation::ALL
            .iter()
            .map(|p| (p.as_str().to_owned(), t.get(participation_key(Some(*p)))))
            .collect(),
        languages: LANGUAGES.to_vec(),
        session_kinds: ["preparation", "court_visit"]
            .iter()
            .map(|k| {
                (
                    (*k).to_owned(),
                    t.get(&format!("legal-session-{}", k.replace('_', "-"))),
                )
            })
            .collect(),
        notice,
        case,
        shell,
    };
    let mut page = page;
    for row in &mut page.evidence {
        if let Ok(id) = Uuid::parse_str(&row.id) {
            if let Ok(detail) =
                evidence::read(&state.db, keyring, &caller.user, &caller.ctx, id).await
            {
                row.custody = detail
                    .custody
                    .iter()
                    .map(|c| {
                        format!(
                            "{}. {} — {} → {}: {}",
                            c.seq,
                            when(&c.at),
                            c.from.clone().unwrap_or_else(|| "—".to_owned()),
                            c.to,
                            c.reason
                        )
                    })
                    .collect();
            }
        }
    }
    (status, jar, render(&page)).into_response()
}

fn parse_case(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw.trim()).ok()
}

/// `/legal/cases/{id}`: the case file.
pub async fn case(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let Some(id) = parse_case(&id) else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    let shown = Shown {
        saved: saved_notice(&Translator::new(locale), query.saved.as_deref()),
        ..Shown::default()
    };
    case_page_with(
        &state,
        &caller,
        locale,
        jar,
        id,
        shown,
        None,
        StatusCode::OK,
    )
    .await
}

/// The upload form (multipart, CSRF first, file last).
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let Some(id) = parse_case(&id) else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    let result = match multipart {
        Ok(multipart) => {
            crate::api::legal::receive_upload(
                &state,
                &caller.user,
                &caller.ctx,
                id,
                multipart,
                Some(&jar),
            )
            .await
        }
        Err(_) => Err(ApiError::bad_request("choose a file to upload")),
    };
    match result {
        Ok(item) => {
            let notice = Some(format!(
                "{} — SHA-256 {}",
                item.title,
                item.sha256.unwrap_or_default()
            ));
            case_page(
                &state,
                &caller,
                locale,
                jar,
                id,
                None,
                notice,
                StatusCode::OK,
            )
            .await
        }
        Err(err) if err.status == StatusCode::NOT_FOUND => {
            not_found_page(locale, Some(&caller.user), jar, &state)
        }
        Err(err) if err.status.is_client_error() => {
            let status = err.status;
            case_page(
                &state,
                &caller,
                locale,
                jar,
                id,
                Some(err.message),
                None,
                status,
            )
            .await
        }
        Err(err) => super::error_page(locale, err),
    }
}

#[derive(serde::Deserialize)]
pub struct TransferForm {
    csrf: String,
    to: String,
    reason: String,
    case_id: String,
}

/// Hands an item on, from the case page.
pub async fn transfer(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<TransferForm>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    if !csrf_ok(&jar, &form.csrf) {
        return super::login::expired_form(&state, &headers, jar);
    }
    let (Some(item), Some(case)) = (parse_case(&id), parse_case(&form.case_id)) else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    let keyring = match state.keyring() {
        Ok(keyring) => keyring,
        Err(err) => return super::error_page(locale, err.into()),
    };
    match evidence::transfer(
        &state.db,
        keyring,
        &caller.user,
        &caller.ctx,
        item,
        &form.to,
        &form.reason,
    )
    .await
    {
        Ok(()) => Redirect::to(&format!("/legal/cases/{case}#evidence")).into_response(),
        Err(err) => {
            let err: ApiError = err.into();
            if err.status.is_client_error() && err.status != StatusCode::NOT_FOUND {
                let status = err.status;
                case_page(
                    &state,
                    &caller,
                    locale,
                    jar,
                    case,
                    Some(err.message),
                    None,
                    status,
                )
                .await
            } else if err.status == StatusCode::NOT_FOUND {
                not_found_page(locale, Some(&caller.user), jar, &state)
            } else {
                super::error_page(locale, err)
            }
        }
    }
}

/// Downloads a file from the locker (decrypted, verified as it streams).
pub async fn content(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let Some(id) = parse_case(&id) else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    match crate::api::legal::content_response(&state, &caller.user, &caller.ctx, id).await {
        Ok(response) => response,
        Err(err) if err.status == StatusCode::NOT_FOUND => {
            not_found_page(locale, Some(&caller.user), jar, &state)
        }
        Err(err) => {
            let shell = Shell::new(locale, Some(&caller.user), String::new(), "/legal");
            let page = super::MessagePage {
                heading: shell.t.get("legal-integrity-title"),
                message: err.message.clone(),
                shell,
            };
            (err.status, render(&page)).into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "legal_bundle.html")]
struct BundlePage {
    shell: Shell,
    case_id: String,
    reference: String,
    pages: usize,
    items: Vec<String>,
    statements: bool,
    manifest: String,
}

fn bundle_choice(form: &[(String, String)]) -> (Vec<Uuid>, bool, Option<String>) {
    let mut items = Vec::new();
    let mut statements = false;
    let mut csrf = None;
    for (k, v) in form {
        match k.as_str() {
            "evidence" => items.extend(Uuid::parse_str(v.trim()).ok()),
            "statements" => statements = true,
            "csrf" => csrf = Some(v.clone()),
            _ => {}
        }
    }
    (items, statements, csrf)
}

async fn make_bundle(
    state: &AppState,
    caller: &PageUser,
    case: Uuid,
    items: &[Uuid],
    statements: bool,
) -> Result<legal_bundle::Bundle, ApiError> {
    Ok(legal_bundle::build(
        &state.db,
        state.keyring()?,
        state.evidence()?,
        &caller.user,
        &caller.ctx,
        case,
        items,
        statements,
    )
    .await?)
}

/// Prepares the bundle and shows its manifest, with the PDF to download.
pub async fn bundle(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let (items, statements, csrf) = bundle_choice(&form);
    if !csrf_ok(&jar, csrf.as_deref().unwrap_or_default()) {
        return super::login::expired_form(&state, &headers, jar);
    }
    let Some(case) = parse_case(&id) else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    match make_bundle(&state, &caller, case, &items, statements).await {
        Ok(bundle) => {
            let (jar, csrf) = csrf_token(jar, &state);
            let shell = Shell::new(locale, Some(&caller.user), csrf, "/legal");
            let page = BundlePage {
                shell,
                case_id: case.to_string(),
                reference: bundle.manifest.case_reference.clone(),
                pages: bundle.pages,
                items: items.iter().map(Uuid::to_string).collect(),
                statements,
                manifest: serde_json::to_string_pretty(&bundle.manifest).unwrap_or_default(),
            };
            (jar, render(&page)).into_response()
        }
        Err(err) if err.status == StatusCode::NOT_FOUND => {
            not_found_page(locale, Some(&caller.user), jar, &state)
        }
        Err(err) if err.status.is_client_error() => {
            let status = err.status;
            case_page(
                &state,
                &caller,
                locale,
                jar,
                case,
                Some(err.message),
                None,
                status,
            )
            .await
        }
        Err(err) => super::error_page(locale, err),
    }
}

/// The bundle as a PDF download.
pub async fn bundle_pdf(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let (items, statements, csrf) = bundle_choice(&form);
    if !csrf_ok(&jar, csrf.as_deref().unwrap_or_default()) {
        return super::login::expired_form(&state, &headers, jar);
    }
    let Some(case) = parse_case(&id) else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    match make_bundle(&state, &caller, case, &items, statements).await {
        Ok(bundle) => crate::api::legal::pdf_response(bundle),
        Err(err) if err.status == StatusCode::NOT_FOUND => {
            not_found_page(locale, Some(&caller.user), jar, &state)
        }
        Err(err) => super::error_page(locale, err),
    }
}

#[derive(Template)]
#[template(path = "legal_hearings.html")]
struct HearingsPage {
    shell: Shell,
    rows: Vec<(String, String, String, String, String, String)>,
    reminders: Vec<(String, String, String, String)>,
    warnings: Vec<String>,
    links: bool,
}

/// `/legal/hearings`: every hearing in the next 60 days the user may see, reminders and
/// no-contact warnings. Open to lawyers, managers, investigators and aftercare staff.
pub async fn hearings(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let level = legal::access(&caller.user);
    if level == CaseAccess::None {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    }
    let from = Utc::now() - chrono::Duration::hours(12);
    let keyring = match state.keyring() {
        Ok(keyring) => keyring,
        Err(err) => return super::error_page(locale, err.into()),
    };
    let cal = match legal::calendar(&state.db, keyring, &caller.user, &caller.ctx, from, 60).await {
        Ok(cal) => cal,
        Err(err) => return super::error_page(locale, err.into()),
    };
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, "/legal");
    let t = &shell.t;
    let page = HearingsPage {
        rows: cal
            .hearings
            .iter()
            .map(|h| {
                (
                    when(&h.starts_at),
                    h.case_id.to_string(),
                    h.case_reference.clone(),
                    format!("{} {}", h.court, h.room).trim().to_owned(),
                    h.survivors.join(", "),
                    h.without_plan.join(", "),
                )
            })
            .collect(),
        reminders: cal
            .reminders
            .iter()
            .map(|r| {
                (
                    when(&r.due),
                    t.get(&format!("legal-reminder-{}", r.kind)),
                    r.case_reference.clone(),
                    if r.kind.starts_with("statutory") {
                        String::new()
                    } else {
                        r.title.clone()
                    },
                )
            })
            .collect(),
        warnings: cal
            .no_contact
            .iter()
            .map(|w| {
                format!(
                    "{} — {} ({})",
                    w.survivor_reference, w.court, w.accused_case
                )
            })
            .collect(),
        links: level.sees_case(),
        shell,
    };
    (jar, render(&page)).into_response()
}

// ---------------------------------------------------------------- forms on the case pages

/// Languages offered for explaining her choice, by their own names.
const LANGUAGES: [(&str, &str); 5] = [
    ("km", "ខ្មែរ"),
    ("vi", "Tiếng Việt"),
    ("en", "English"),
    ("th", "ไทย"),
    ("lo", "ລາວ"),
];

#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// Which confirmation a `?saved=` names; anything else shows none.
fn saved_notice(t: &Translator, saved: Option<&str>) -> Option<String> {
    let key = match saved? {
        "case" => "legal-saved-case",
        "stage" => "legal-saved-stage",
        "hearing" => "legal-saved-hearing",
        "decision" => "legal-saved-decision",
        "session" => "legal-saved-session",
        "suspect" => "legal-saved-suspect",
        "charge" => "legal-saved-charge",
        "link" => "legal-saved-link",
        "deadline" => "legal-saved-deadline",
        "outcome" => "legal-saved-outcome",
        _ => return None,
    };
    Some(t.get(key))
}

/// Why a form was refused, put in the user's language when the page is drawn.
enum Problem {
    /// Already in words.
    Text(String),
    /// A message key with its arguments.
    Key(&'static str, Vec<(&'static str, String)>),
    /// The field's name is part of the message.
    Field(&'static str, &'static str),
    /// A stage out of order: the reason is worked out again from the stages on file.
    Stage(Stage, NaiveDate),
}

/// The label of a form field, for messages that name it.
fn field_label(t: &Translator, field: &str) -> String {
    let key = match field {
        "reference" => "legal-reference",
        "title" => "legal-case-title",
        "court" => "legal-court",
        "prosecutor" => "legal-prosecutor",
        "judge" => "legal-judge",
        "note" => "legal-f-note",
        "room" => "legal-f-room",
        "date" => "legal-f-date",
        "starts" | "starts_at" => "legal-f-starts",
        "ends" | "ends_at" => "legal-f-ends",
        "companions" => "legal-f-companions",
        "transport" => "legal-f-transport",
        "explained_by" => "legal-f-explained-by",
        "explained" => "legal-f-explained",
        "guardian" => "legal-f-guardian",
        "staff" => "legal-f-staff",
        "covered" => "legal-f-covered",
        "held_at" => "legal-f-held-at",
        "survivor_id" => "legal-survivor",
        "stage" => "legal-stage",
        "name" => "legal-f-suspect-name",
        "aliases" => "legal-f-aliases",
        "deadline_title" => "legal-f-deadline-title",
        "due_on" => "legal-f-due-on",
        "due_at" => "legal-f-due-at",
        "decided_on" => "legal-f-decided-on",
        "sentence_months" => "legal-f-sentence",
        "compensation_ordered" => "legal-f-compensation-ordered",
        "compensation_paid" => "legal-f-compensation-paid",
        _ => return field.to_owned(),
    };
    t.get(key)
}

impl Problem {
    fn text(self, t: &Translator, case: &CaseFile) -> String {
        match self {
            Problem::Text(text) => text,
            Problem::Key(key, args) => t.with_args(key, &args),
            Problem::Field(key, field) => t.with(key, "field", &field_label(t, field)),
            Problem::Stage(stage, on) => {
                let recorded: Vec<(Stage, NaiveDate)> = case
                    .stages
                    .iter()
                    .map(|s| (s.stage, s.occurred_on))
                    .collect();
                let name = |s: Stage| t.get(&s.label_key());
                match haven_core::legal::stage_refusal(&recorded, stage, on) {
                    Some(StageRefusal::Closed) => t.get("legal-err-stage-closed"),
                    Some(StageRefusal::Needs { needed }) => t.with_args(
                        "legal-err-stage-needs",
                        &[("stage", name(stage)), ("needed", name(needed))],
                    ),
                    Some(StageRefusal::Before { needed, date }) => t.with_args(
                        "legal-err-stage-before",
                        &[
                            ("stage", name(stage)),
                            ("needed", name(needed)),
                            ("date", date.to_string()),
                        ],
                    ),
                    // Another user changed the stages in between: the rule's own words.
                    None => t.get("legal-err-stage-changed"),
                }
            }
        }
    }
}

/// A refused value in the user's language (the message of the rule otherwise).
fn invalid(v: &ValidationError) -> Problem {
    let message = v.message.as_str();
    if message == "must be filled in" {
        Problem::Field("legal-err-required", v.field)
    } else if message.starts_with("must be at most") {
        Problem::Field("legal-err-too-long", v.field)
    } else if message == "cannot contain control characters" {
        Problem::Field("legal-err-control", v.field)
    } else {
        match v.field {
            "reference" => Problem::Key("legal-err-reference", Vec::new()),
            "language" => Problem::Key("legal-err-language", Vec::new()),
            "guardian" => Problem::Key("legal-err-guardian", Vec::new()),
            "ends_at" => Problem::Key("legal-err-ends-before", Vec::new()),
            "kind" => Problem::Key("legal-err-choose-kind", Vec::new()),
            _ => Problem::Text(v.to_string()),
        }
    }
}

/// How a form post ended when it did not succeed.
enum Refusal {
    /// Not for this user, or no such case: the not-found page.
    Hidden,
    /// Bad input or a broken rule: the form again, with the reason and what was typed.
    Input(StatusCode, Problem),
    /// Anything else: the error page.
    Failed(ApiError),
}

impl From<StoreError> for Refusal {
    fn from(err: StoreError) -> Refusal {
        match err {
            StoreError::NotFound(_) | StoreError::Forbidden(_) => Refusal::Hidden,
            StoreError::Invalid(v) => Refusal::Input(StatusCode::BAD_REQUEST, invalid(&v)),
            StoreError::Conflict(message) => {
                let problem = if message.starts_with("the case reference") {
                    Problem::Key("legal-err-reference-taken", Vec::new())
                } else if message.starts_with("she withdrew") {
                    Problem::Key("legal-err-withdrawn", Vec::new())
                } else {
                    Problem::Text(message)
                };
                Refusal::Input(StatusCode::CONFLICT, problem)
            }
            other => Refusal::Failed(other.into()),
        }
    }
}

fn input(key: &'static str, args: Vec<(&'static str, String)>) -> Refusal {
    Refusal::Input(StatusCode::BAD_REQUEST, Problem::Key(key, args))
}

fn parse_date(field: &'static str, raw: &str) -> Result<NaiveDate, Refusal> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        Refusal::Input(
            StatusCode::BAD_REQUEST,
            Problem::Field("legal-err-date", field),
        )
    })
}

fn parse_time(field: &'static str, raw: &str) -> Result<NaiveTime, Refusal> {
    let raw = raw.trim();
    NaiveTime::parse_from_str(raw, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(raw, "%H:%M:%S"))
        .map_err(|_| {
            Refusal::Input(
                StatusCode::BAD_REQUEST,
                Problem::Field("legal-err-time", field),
            )
        })
}

/// A local date and time (the instance's offset) as UTC.
fn local_instant(
    field: &'static str,
    on: NaiveDate,
    at: NaiveTime,
    offset: FixedOffset,
) -> Result<DateTime<Utc>, Refusal> {
    NaiveDateTime::new(on, at)
        .and_local_timezone(offset)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or(Refusal::Input(
            StatusCode::BAD_REQUEST,
            Problem::Field("legal-err-time", field),
        ))
}

/// A `datetime-local` value in the instance's offset.
fn parse_local(
    field: &'static str,
    raw: &str,
    offset: FixedOffset,
) -> Result<DateTime<Utc>, Refusal> {
    let raw = raw.trim();
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M"))
        .map_err(|_| {
            Refusal::Input(
                StatusCode::BAD_REQUEST,
                Problem::Field("legal-err-when", field),
            )
        })?;
    local_instant(field, naive.date(), naive.time(), offset)
}

fn survivor_choice(raw: &str) -> Result<SurvivorId, Refusal> {
    raw.trim()
        .parse()
        .map_err(|_| input("legal-err-choose-survivor", Vec::new()))
}

fn stage_choice(raw: &str) -> Result<Stage, Refusal> {
    Stage::parse(raw).map_err(|_| input("legal-err-choose-stage", Vec::new()))
}

/// The posted fields, kept to fill the form again (never the CSRF token).
fn kept(form: &[(String, String)]) -> BTreeMap<String, String> {
    form.iter()
        .filter(|(k, _)| k != "csrf")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn field<'a>(form: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or_default()
}

/// After a form on a case page: the page again with a confirmation, or with the reason and
/// the input kept.
#[allow(clippy::too_many_arguments)]
async fn after_case_form(
    state: &AppState,
    caller: &PageUser,
    locale: Locale,
    jar: CookieJar,
    case: Uuid,
    form: &'static str,
    kept: BTreeMap<String, String>,
    result: Result<(), Refusal>,
) -> Response {
    match result {
        Ok(()) => {
            Redirect::to(&format!("/legal/cases/{case}?saved={form}#{form}-form")).into_response()
        }
        Err(Refusal::Hidden) => not_found_page(locale, Some(&caller.user), jar, state),
        Err(Refusal::Input(status, problem)) => {
            let shown = Shown {
                problem: Some(problem),
                form,
                kept,
                saved: None,
            };
            case_page_with(state, caller, locale, jar, case, shown, None, status).await
        }
        Err(Refusal::Failed(err)) => super::error_page(locale, err),
    }
}

/// What every form post starts with: a valid CSRF token and a case ID.
fn case_form(
    state: &AppState,
    headers: &HeaderMap,
    caller: &PageUser,
    jar: CookieJar,
    id: &str,
    csrf: Option<&str>,
) -> Result<(Uuid, CookieJar, Locale), Box<Response>> {
    let locale = locale_for(headers, Some(&caller.user));
    if !csrf_ok(&jar, csrf.unwrap_or_default()) {
        return Err(Box::new(super::login::expired_form(state, headers, jar)));
    }
    // Only those who work cases get past here, whatever they typed.
    match parse_case(id) {
        Some(case) if legal::access(&caller.user).works_case() => Ok((case, jar, locale)),
        _ => Err(Box::new(not_found_page(
            locale,
            Some(&caller.user),
            jar,
            state,
        ))),
    }
}

fn csrf_of(form: &[(String, String)]) -> Option<&str> {
    form.iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
}

/// Opens a case from the form on `/legal`, then shows it.
pub async fn open_case(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    if !csrf_ok(&jar, csrf_of(&form).unwrap_or_default()) {
        return super::login::expired_form(&state, &headers, jar);
    }
    let values = kept(&form);
    let result: Result<Uuid, Refusal> = async {
        let new = NewCase {
            reference: field(&values, "reference").to_owned(),
            title: field(&values, "title").to_owned(),
            court: field(&values, "court").to_owned(),
            prosecutor: field(&values, "prosecutor").to_owned(),
            judge: field(&values, "judge").to_owned(),
            intervention_id: None,
        };
        let keyring = state.keyring().map_err(|e| Refusal::Failed(e.into()))?;
        Ok(legal::create_case(&state.db, keyring, &caller.user, &caller.ctx, &new).await?)
    }
    .await;
    match result {
        Ok(id) => Redirect::to(&format!("/legal/cases/{id}?saved=case")).into_response(),
        Err(Refusal::Hidden) => not_found_page(locale, Some(&caller.user), jar, &state),
        Err(Refusal::Input(status, problem)) => {
            let t = Translator::new(locale);
            let text = match problem {
                Problem::Text(text) => text,
                Problem::Key(key, args) => t.with_args(key, &args),
                Problem::Field(key, field) => t.with(key, "field", &field_label(&t, field)),
                Problem::Stage(..) => String::new(),
            };
            cases_page(&state, &caller, locale, jar, Some(text), values, status).await
        }
        Err(Refusal::Failed(err)) => super::error_page(locale, err),
    }
}

/// Records a stage with its date.
pub async fn add_stage(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let values = kept(&form);
    let (case, jar, locale) = match case_form(&state, &headers, &caller, jar, &id, csrf_of(&form)) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let result = async {
        let stage = stage_choice(field(&values, "stage"))?;
        let on = parse_date("date", field(&values, "date"))?;
        let keyring = state.keyring().map_err(|e| Refusal::Failed(e.into()))?;
        legal::record_stage(
            &state.db,
            keyring,
            &caller.user,
            &caller.ctx,
            case,
            stage,
            on,
            field(&values, "note"),
        )
        .await
        .map_err(|err| match err {
            StoreError::Invalid(v) if v.field == "stage" || v.field == "date" => {
                Refusal::Input(StatusCode::UNPROCESSABLE_ENTITY, Problem::Stage(stage, on))
            }
            other => other.into(),
        })?;
        Ok(())
    }
    .await;
    after_case_form(&state, &caller, locale, jar, case, "stage", values, result).await
}

/// Schedules a hearing, with the accompaniment plan for one survivor when one is given; both
/// are saved together or not at all.
pub async fn add_hearing(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let values = kept(&form);
    let (case, jar, locale) = match case_form(&state, &headers, &caller, jar, &id, csrf_of(&form)) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let offset = state.config.local_offset;
    let result = async {
        let stage = stage_choice(field(&values, "stage"))?;
        let on = parse_date("date", field(&values, "date"))?;
        let starts = parse_time("starts", field(&values, "starts"))?;
        let ends = parse_time("ends", field(&values, "ends"))?;
        let new = NewHearing {
            stage,
            starts_at: local_instant("starts", on, starts, offset)?,
            ends_at: local_instant("ends", on, ends, offset)?,
            court: field(&values, "court").to_owned(),
            room: field(&values, "room").to_owned(),
        };
        let survivor = field(&values, "survivor_id").trim();
        let plans = if survivor.is_empty() {
            Vec::new()
        } else {
            vec![NewPlan {
                survivor: survivor_choice(survivor)?,
                companions: field(&values, "companions").to_owned(),
                transport: field(&values, "transport").to_owned(),
                separate_waiting_room: !field(&values, "separate_waiting_room").is_empty(),
            }]
        };
        let keyring = state.keyring().map_err(|e| Refusal::Failed(e.into()))?;
        legal::schedule_hearing_with_plans(
            &state.db,
            keyring,
            &caller.user,
            &caller.ctx,
            case,
            &new,
            &plans,
        )
        .await?;
        Ok(())
    }
    .await;
    after_case_form(
        &state, &caller, locale, jar, case, "hearing", values, result,
    )
    .await
}

/// Records her informed decision (or a change of mind).
pub async fn add_decision(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let values = kept(&form);
    let (case, jar, locale) = match case_form(&state, &headers, &caller, jar, &id, csrf_of(&form)) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let result = async {
        let who = survivor_choice(field(&values, "survivor_id"))?;
        let decision = InformedDecision {
            decision: Participation::parse(field(&values, "decision"))
                .map_err(|_| input("legal-err-choose-decision", Vec::new()))?,
            explained_by: field(&values, "explained_by").to_owned(),
            language: field(&values, "language").to_owned(),
            explained: field(&values, "explained").to_owned(),
            guardian: Some(field(&values, "guardian").to_owned()),
        };
        let keyring = state.keyring().map_err(|e| Refusal::Failed(e.into()))?;
        legal::record_decision(
            &state.db,
            keyring,
            &caller.user,
            &caller.ctx,
            case,
            who,
            &decision,
            !field(&values, "minor").is_empty(),
        )
        .await?;
        Ok(())
    }
    .await;
    after_case_form(
        &state, &caller, locale, jar, case, "decision", values, result,
    )
    .await
}

/// Logs a testimony-preparation session or a court visit.
pub async fn add_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let values = kept(&form);
    let (case, jar, locale) = match case_form(&state, &headers, &caller, jar, &id, csrf_of(&form)) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let offset = state.config.local_offset;
    let result = async {
        let who = survivor_choice(field(&values, "survivor_id"))?;
        let held_at = parse_local("held_at", field(&values, "held_at"), offset)?;
        let keyring = state.keyring().map_err(|e| Refusal::Failed(e.into()))?;
        legal::record_session(
            &state.db,
            keyring,
            &caller.user,
            &caller.ctx,
            case,
            who,
            field(&values, "kind"),
            held_at,
            field(&values, "staff"),
            field(&values, "covered"),
        )
        .await?;
        Ok(())
    }
    .await;
    after_case_form(
        &state, &caller, locale, jar, case, "session", values, result,
    )
    .await
}

fn suspect_choice(raw: &str) -> Result<Uuid, Refusal> {
    Uuid::parse_str(raw.trim()).map_err(|_| input("legal-err-choose-suspect", Vec::new()))
}

/// A whole number of at most `max`, or `None` when left empty.
fn parse_amount(field: &'static str, raw: &str, max: i64) -> Result<Option<i64>, Refusal> {
    let raw: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '_'))
        .collect();
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<i64>() {
        Ok(n) if (0..=max).contains(&n) => Ok(Some(n)),
        _ => Err(Refusal::Input(
            StatusCode::BAD_REQUEST,
            Problem::Field("legal-err-number", field),
        )),
    }
}

/// Adds a suspect with her or his role in the crime.
pub async fn add_suspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let values = kept(&form);
    let (case, jar, locale) = match case_form(&state, &headers, &caller, jar, &id, csrf_of(&form)) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let result = async {
        let role = SuspectRole::parse(field(&values, "role"))
            .map_err(|_| input("legal-err-choose-role", Vec::new()))?;
        let keyring = state.keyring().map_err(|e| Refusal::Failed(e.into()))?;
        legal::add_suspect(
            &state.db,
            keyring,
            &caller.user,
            &caller.ctx,
            case,
            field(&values, "name"),
            field(&values, "aliases"),
            role,
        )
        .await?;
        Ok(())
    }
    .await;
    after_case_form(
        &state, &caller, locale, jar, case, "suspect", values, result,
    )
    .await
}

/// Adds a charge under an article of the law, against one suspect or the case as a whole.
pub async fn add_charge(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let values = kept(&form);
    let (case, jar, locale) = match case_form(&state, &headers, &caller, jar, &id, csrf_of(&form)) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let result = async {
        let article = haven_core::legal::article(field(&values, "article"))
            .map_err(|_| input("legal-err-choose-article", Vec::new()))?;
        let suspect = match field(&values, "suspect_id").trim() {
            "" => None,
            raw => Some(suspect_choice(raw)?),
        };
        legal::add_charge(
            &state.db,
            &caller.user,
            &caller.ctx,
            case,
            article.code,
            suspect,
        )
        .await
        .map_err(|err| match err {
            StoreError::Invalid(v) if v.field == "suspect_id" => {
                input("legal-err-choose-suspect", Vec::new())
            }
            other => other.into(),
        })?;
        Ok(())
    }
    .await;
    after_case_form(&state, &caller, locale, jar, case, "charge", values, result).await
}

/// Links a survivor, found by her reference, as complainant or witness.
pub async fn link_survivor(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let values = kept(&form);
    let (case, jar, locale) = match case_form(&state, &headers, &caller, jar, &id, csrf_of(&form)) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let result = async {
        let capacity = Capacity::parse(field(&values, "capacity"))
            .map_err(|_| input("legal-err-choose-capacity", Vec::new()))?;
        let wanted = field(&values, "reference").trim().to_uppercase();
        if wanted.is_empty() {
            return Err(Refusal::Input(
                StatusCode::BAD_REQUEST,
                Problem::Field("legal-err-required", "reference"),
            ));
        }
        let no_one = || input("legal-err-no-survivor", vec![("reference", wanted.clone())]);
        let who = haven_store::survivors::visible_by_reference(&state.db, &caller.user, &wanted)
            .await
            .map_err(Refusal::from)?
            .ok_or_else(no_one)?;
        legal::link_survivor(&state.db, &caller.user, &caller.ctx, case, who, capacity)
            .await
            .map_err(|err| match err {
                StoreError::Invalid(v) if v.field == "survivor_id" => no_one(),
                StoreError::Conflict(_) => Refusal::Input(
                    StatusCode::CONFLICT,
                    Problem::Key("legal-err-already-linked", Vec::new()),
                ),
                other => other.into(),
            })?;
        Ok(())
    }
    .await;
    after_case_form(&state, &caller, locale, jar, case, "link", values, result).await
}

/// Adds a deadline the court set, or a statutory one (named in the user's language), due on a
/// local date and time.
pub async fn add_deadline(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let values = kept(&form);
    let (case, jar, locale) = match case_form(&state, &headers, &caller, jar, &id, csrf_of(&form)) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let offset = state.config.local_offset;
    let t = Translator::new(locale);
    let result = async {
        let kind = field(&values, "kind").trim();
        let typed = field(&values, "title").trim();
        let title = match kind {
            "" | "court" => typed.to_owned(),
            "statutory-custody" | "statutory-detention" | "statutory-appeal" => {
                let label = t.get(&format!("legal-reminder-{kind}"));
                if typed.is_empty() {
                    label
                } else {
                    format!("{label}: {typed}")
                }
            }
            _ => return Err(input("legal-err-choose-deadline", Vec::new())),
        };
        let on = parse_date("due_on", field(&values, "due_on"))?;
        let at = match field(&values, "due_at").trim() {
            "" => NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
            raw => parse_time("due_at", raw)?,
        };
        let due = local_instant("due_at", on, at, offset)?;
        let keyring = state.keyring().map_err(|e| Refusal::Failed(e.into()))?;
        legal::add_deadline(
            &state.db,
            keyring,
            &caller.user,
            &caller.ctx,
            case,
            &title,
            due,
        )
        .await
        .map_err(|err| match err {
            StoreError::Invalid(mut v) if v.field == "title" => {
                v.field = "deadline_title";
                Refusal::from(StoreError::Invalid(v))
            }
            other => Refusal::from(other),
        })?;
        Ok(())
    }
    .await;
    after_case_form(
        &state, &caller, locale, jar, case, "deadline", values, result,
    )
    .await
}

/// Records the judgment against one accused: conviction or acquittal, sentence and
/// compensation ordered and paid.
pub async fn add_outcome(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let values = kept(&form);
    let (case, jar, locale) = match case_form(&state, &headers, &caller, jar, &id, csrf_of(&form)) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let result = async {
        let suspect_id = suspect_choice(field(&values, "suspect_id"))?;
        let convicted = match field(&values, "result").trim() {
            "convicted" => true,
            "acquitted" => false,
            _ => return Err(input("legal-err-choose-result", Vec::new())),
        };
        let new = NewOutcome {
            suspect_id,
            convicted,
            sentence_months: parse_amount(
                "sentence_months",
                field(&values, "sentence_months"),
                1200,
            )?,
            compensation_ordered: parse_amount(
                "compensation_ordered",
                field(&values, "compensation_ordered"),
                i64::MAX / 2,
            )?
            .unwrap_or(0),
            compensation_paid: parse_amount(
                "compensation_paid",
                field(&values, "compensation_paid"),
                i64::MAX / 2,
            )?
            .unwrap_or(0),
            decided_on: parse_date("decided_on", field(&values, "decided_on"))?,
        };
        legal::record_outcome(&state.db, &caller.user, &caller.ctx, case, &new)
            .await
            .map_err(|err| match err {
                StoreError::Invalid(v) => {
                    let key = match v.field {
                        "result" => "legal-err-outcome-before-verdict",
                        "suspect_id" => "legal-err-choose-suspect",
                        "sentence_months" if !new.convicted => "legal-err-acquittal-sentence",
                        "sentence_months" | "compensation" => {
                            return Refusal::Input(
                                StatusCode::UNPROCESSABLE_ENTITY,
                                Problem::Field("legal-err-number", v.field),
                            )
                        }
                        _ => return Refusal::from(StoreError::Invalid(v)),
                    };
                    Refusal::Input(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Problem::Key(key, Vec::new()),
                    )
                }
                other => other.into(),
            })?;
        Ok(())
    }
    .await;
    after_case_form(
        &state, &caller, locale, jar, case, "outcome", values, result,
    )
    .await
}
