//! The forms of her case file: each posts to `/survivors/{id}/…`, makes one store call (which
//! validates before it writes, so nothing is half-saved) and comes back to her file, with a
//! confirmation or with the reason and what was typed. Also the page of one service.

use super::case_forms::{self, field, parse_date, Failed, Kept, Saved};
use super::casework::{area_name, file_page, survivor_id, FileQuery};
use super::crisis::{failure, form_target, Notice, Req};
use super::{not_found_page, render, Shell};
use crate::auth::{csrf_token, locale_for, PageUser};
use crate::error::ApiError;
use crate::i18n::Translator;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::{CookieJar, Form};
use haven_core::casework::FollowUpKind;
use haven_core::nav::Section;
use haven_core::SurvivorId;
use haven_store::{care_plans, care_services};
use serde::Deserialize;
use std::collections::BTreeMap;

/// After a form on her file: back to it with a confirmation, or the file again with the
/// reason and what was typed.
async fn after_form(
    req: Req<'_>,
    jar: CookieJar,
    id: SurvivorId,
    form: &'static str,
    values: BTreeMap<String, String>,
    result: Result<Saved, Failed>,
) -> Response {
    let Req {
        state,
        headers,
        caller,
    } = req;
    let locale = locale_for(headers, Some(&caller.user));
    let t = Translator::new(locale);
    let (status, text) = match result {
        Ok(saved) => {
            let next = saved.next.map(|d| format!("&next={d}")).unwrap_or_default();
            return Redirect::to(&format!(
                "/survivors/{id}?saved={}{next}#{}",
                saved.key, saved.anchor
            ))
            .into_response();
        }
        Err(Failed::Told(text)) => (StatusCode::BAD_REQUEST, text),
        Err(Failed::Api(err))
            if err.status == StatusCode::BAD_REQUEST
                || err.status == StatusCode::CONFLICT
                || err.status == StatusCode::UNPROCESSABLE_ENTITY =>
        {
            (err.status, t.with("cw-not-saved", "reason", &err.message))
        }
        Err(Failed::Api(err)) => return failure(state, locale, caller, jar, err),
    };
    file_page(
        req,
        jar,
        id,
        &FileQuery::default(),
        Some(Notice { error: true, text }),
        Kept::new(form, values),
        status,
    )
    .await
}

/// Parses the target of a form and checks its token; the shared start of every handler.
macro_rules! start {
    ($state:expr, $headers:expr, $caller:expr, $jar:expr, $raw:expr, $form:expr) => {{
        let csrf = field(&$form, "csrf").to_owned();
        let id = if super::may_open(&$caller.user, Section::Survivors) {
            survivor_id(&$raw)
        } else {
            Err(ApiError::not_found("survivor"))
        };
        match form_target(&$state, &$headers, &$caller, $jar, &csrf, id) {
            Ok(found) => found,
            Err(refused) => return *refused,
        }
    }};
}

type Fields = BTreeMap<String, String>;

pub async fn save_plan(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (id, jar) = start!(state, headers, caller, jar, raw, form);
    let t = Translator::new(locale_for(&headers, Some(&caller.user)));
    let result = async {
        let input = case_forms::plan_input(&t, &form)?;
        let keyring = state.keyring()?;
        let latest =
            care_plans::plan(&state.db, keyring, &caller.user, &caller.ctx, id, None).await?;
        if latest.as_ref().is_some_and(|p| p.current.withheld > 0) {
            return Err(Failed::Told(t.get("cw-plan-not-editable")));
        }
        let input = case_forms::keep_unchanged_areas(input, latest.as_ref());
        care_plans::save(&state.db, keyring, &caller.user, &caller.ctx, id, &input).await?;
        Ok::<Saved, Failed>(Saved::new("plan", "plan"))
    }
    .await;
    after_form(
        req(&state, &headers, &caller),
        jar,
        id,
        "plan",
        form,
        result,
    )
    .await
}

fn req<'a>(state: &'a AppState, headers: &'a HeaderMap, caller: &'a PageUser) -> Req<'a> {
    Req {
        state,
        headers,
        caller,
    }
}

pub async fn record_service(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (id, jar) = start!(state, headers, caller, jar, raw, form);
    let t = Translator::new(locale_for(&headers, Some(&caller.user)));
    let result = async {
        let input = case_forms::service_input(&t, &form)?;
        let keyring = state.keyring()?;
        care_services::record(&state.db, keyring, &caller.user, &caller.ctx, id, &input).await?;
        Ok::<Saved, Failed>(Saved::new("service", "services"))
    }
    .await;
    after_form(
        req(&state, &headers, &caller),
        jar,
        id,
        "service",
        form,
        result,
    )
    .await
}

pub async fn add_follow_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (id, jar) = start!(state, headers, caller, jar, raw, form);
    let t = Translator::new(locale_for(&headers, Some(&caller.user)));
    let result = async {
        let kind = FollowUpKind::parse(field(&form, "kind"))?;
        let due = parse_date(&t, "cw-follow-due", field(&form, "due_on"))?;
        haven_store::follow_ups::add(&state.db, &caller.user, &caller.ctx, id, kind, due).await?;
        Ok::<Saved, Failed>(Saved::new("follow-up", "follow-ups"))
    }
    .await;
    after_form(
        req(&state, &headers, &caller),
        jar,
        id,
        "follow",
        form,
        result,
    )
    .await
}

pub async fn complete_follow_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path((raw, follow_up)): Path<(String, String)>,
    Form(form): Form<Fields>,
) -> Response {
    let (id, jar) = start!(state, headers, caller, jar, raw, form);
    let t = Translator::new(locale_for(&headers, Some(&caller.user)));
    let result = async {
        let fid = uuid::Uuid::parse_str(follow_up.trim())
            .map_err(|_| Failed::Api(ApiError::not_found("follow-up")))?;
        // A follow-up of another survivor, addressed under her page, names nothing here.
        if haven_store::follow_ups::survivor_of(&state.db, fid).await? != Some(id) {
            return Err(Failed::Api(ApiError::not_found("follow-up")));
        }
        let done = parse_date(&t, "cw-follow-done-on", field(&form, "done_on"))?;
        let keyring = state.keyring()?;
        let next = haven_store::follow_ups::complete(
            &state.db,
            keyring,
            &caller.user,
            &caller.ctx,
            fid,
            done,
            field(&form, "note"),
        )
        .await?;
        let mut saved = Saved::new("follow-up-done", "follow-ups");
        saved.next = next;
        Ok::<Saved, Failed>(saved)
    }
    .await;
    after_form(
        req(&state, &headers, &caller),
        jar,
        id,
        "complete",
        form,
        result,
    )
    .await
}

pub async fn assess_risk(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (id, jar) = start!(state, headers, caller, jar, raw, form);
    let t = Translator::new(locale_for(&headers, Some(&caller.user)));
    let result = async {
        let input = case_forms::risk_input(&t, &form)?;
        let keyring = state.keyring()?;
        haven_store::case_risk::assess(&state.db, keyring, &caller.user, &caller.ctx, id, &input)
            .await?;
        Ok::<Saved, Failed>(Saved::new("risk", "risk"))
    }
    .await;
    after_form(
        req(&state, &headers, &caller),
        jar,
        id,
        "risk",
        form,
        result,
    )
    .await
}

pub async fn report_incident(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (id, jar) = start!(state, headers, caller, jar, raw, form);
    let t = Translator::new(locale_for(&headers, Some(&caller.user)));
    let result = async {
        let input = case_forms::incident_input(&t, &form)?;
        let keyring = state.keyring()?;
        haven_store::case_risk::report_incident(
            &state.db,
            keyring,
            &caller.user,
            &caller.ctx,
            id,
            &input,
        )
        .await?;
        Ok::<Saved, Failed>(Saved::new("incident", "incidents"))
    }
    .await;
    after_form(
        req(&state, &headers, &caller),
        jar,
        id,
        "incident",
        form,
        result,
    )
    .await
}

pub async fn add_note(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (id, jar) = start!(state, headers, caller, jar, raw, form);
    let result = async {
        let input = case_forms::note_input(&form)?;
        let keyring = state.keyring()?;
        let saved =
            haven_store::case_notes::add(&state.db, keyring, &caller.user, &caller.ctx, id, &input)
                .await?;
        Ok::<Saved, Failed>(if saved.neutralised {
            Saved::new("note-neutralised", "notes")
        } else {
            Saved::new("note", "notes")
        })
    }
    .await;
    after_form(
        req(&state, &headers, &caller),
        jar,
        id,
        "note",
        form,
        result,
    )
    .await
}

pub async fn close_case(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (id, jar) = start!(state, headers, caller, jar, raw, form);
    let t = Translator::new(locale_for(&headers, Some(&caller.user)));
    let result = async {
        let input = case_forms::closure_input(&t, &form)?;
        let keyring = state.keyring()?;
        haven_store::case_closures::close(
            &state.db,
            keyring,
            &caller.user,
            &caller.ctx,
            id,
            &input,
        )
        .await?;
        Ok::<Saved, Failed>(Saved::new("closed", "closure"))
    }
    .await;
    after_form(
        req(&state, &headers, &caller),
        jar,
        id,
        "close",
        form,
        result,
    )
    .await
}

pub async fn reopen_case(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (id, jar) = start!(state, headers, caller, jar, raw, form);
    let result = async {
        let keyring = state.keyring()?;
        haven_store::case_closures::reopen(
            &state.db,
            keyring,
            &caller.user,
            &caller.ctx,
            id,
            field(&form, "reason"),
        )
        .await?;
        Ok::<Saved, Failed>(Saved::new("reopened", "closure"))
    }
    .await;
    after_form(
        req(&state, &headers, &caller),
        jar,
        id,
        "reopen",
        form,
        result,
    )
    .await
}

// ---------------------------------------------------------------- one service

#[derive(Template)]
#[template(path = "case_service.html")]
struct ServicePage {
    shell: Shell,
    survivor: String,
    kind: String,
    area: String,
    date: String,
    provider: String,
    outcome: String,
    medical_result: Option<String>,
    medical_kind: bool,
}

#[derive(Debug, Deserialize, Default)]
pub struct ServiceQuery {
    /// Her record, for the link back to her file.
    #[serde(default)]
    from: Option<String>,
}

/// One service; her medical result only when the store returns it (her assigned caseworker).
pub async fn service(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(raw): Path<String>,
    Query(query): Query<ServiceQuery>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let user = &caller.user;
    if !super::may_open(user, Section::Survivors) {
        return not_found_page(locale, Some(user), jar, &state);
    }
    let loaded = async {
        let sid = uuid::Uuid::parse_str(raw.trim()).map_err(|_| ApiError::not_found("service"))?;
        let keyring = state.keyring()?;
        let view = care_services::service(&state.db, keyring, user, &caller.ctx, sid).await?;
        Ok::<_, ApiError>(view)
    }
    .await;
    let survivor = query
        .from
        .as_deref()
        .and_then(|raw| survivor_id(raw).ok())
        .map(|s| s.to_string())
        .unwrap_or_default();
    let view = match loaded {
        Ok(found) => found,
        Err(err) => return failure(&state, locale, &caller, jar, err),
    };
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(user), csrf, "/survivors");
    let t = &shell.t;
    let page = ServicePage {
        survivor,
        kind: t.get(&format!("cw-service-{}", view.kind.as_str())),
        area: area_name(t, view.area),
        date: view.delivered_on.to_string(),
        provider: view.provider.clone(),
        outcome: view.outcome.clone().unwrap_or_default(),
        medical_result: view.medical_result.clone(),
        medical_kind: view.kind.has_medical_result(),
        shell,
    };
    (jar, render(&page)).into_response()
}
