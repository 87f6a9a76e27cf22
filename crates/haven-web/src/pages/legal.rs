//! Legal pages: the case list, a case file (timeline, survivors and her choice, hearings,
//! evidence with its chain of custody, upload form, court bundle), and the hearings calendar.
//! Every read goes through `haven_store::legal` / `evidence`, which check and audit it.

use super::{not_found_page, render, Shell};
use crate::auth::{csrf_ok, csrf_token, locale_for, PageUser};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use haven_core::legal::CaseAccess;
use haven_core::Locale;
use haven_store::legal::{self, CaseFile};
use haven_store::{evidence, legal_bundle};
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
}

/// `/legal`: the case list.
pub async fn cases(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    if !legal::access(&caller.user).sees_case() {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    }
    let found = match legal::list_cases(&state.db, &caller.user, None, 200).await {
        Ok(found) => found,
        Err(err) => return super::error_page(locale, err.into()),
    };
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, "/legal");
    let rows = found
        .into_iter()
        .map(|c| (c.id.to_string(), c.reference, c.title, c.court))
        .collect();
    (jar, render(&CasesPage { shell, rows })).into_response()
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
    let page = CasePage {
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
                    if case.full_view {
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
        error,
        notice,
        case,
        shell,
    };
    let mut page = page;
    for row in &mut page.evidence {
        if let Ok(id) = Uuid::parse_str(&row.id) {
            if let Ok(detail) = evidence::read(&state.db, &caller.user, &caller.ctx, id).await {
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
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let Some(id) = parse_case(&id) else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    case_page(&state, &caller, locale, jar, id, None, None, StatusCode::OK).await
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
    match evidence::transfer(
        &state.db,
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
    let cal = match legal::calendar(&state.db, &caller.user, &caller.ctx, from, 60).await {
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
