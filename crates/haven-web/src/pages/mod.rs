//! The server-rendered HTML UI: a shell (layout, navigation per role, language switcher) and
//! its pages. Templates are askama, checked at compile time.

pub mod account;
pub mod assets;
pub mod audit;
pub mod case_actions;
pub mod case_forms;
pub mod caseload;
pub mod casework;
pub mod crisis;
pub mod home;
pub mod legal;
pub mod login;
pub mod referrals;
pub mod sections;

use crate::auth::{csrf_token, locale_for, LANG_COOKIE};
use crate::error::ApiError;
use crate::i18n::Translator;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use haven_core::nav::{sections_for, Section};
use haven_core::Locale;
use haven_store::users::User;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/login", get(login::form).post(login::submit))
        .route(
            "/login/code",
            get(login::code_form).post(login::code_submit),
        )
        .route("/logout", post(login::logout))
        .route("/account", get(account::page))
        .route("/account/sessions/{id}/revoke", post(account::revoke))
        .route("/account/logout-all", post(account::logout_all))
        .route("/account/totp", post(account::enrol))
        .route("/account/totp/confirm", post(account::confirm))
        .route("/lang", post(switch_language))
        .route("/partners", get(referrals::directory))
        .route("/users", get(sections::users))
        .route("/investigations", get(sections::not_ready))
        .route("/interventions", get(crisis::list).post(crisis::create))
        .route("/interventions/{id}", get(crisis::show))
        .route("/interventions/{id}/roster", post(crisis::add_shift))
        .route(
            "/interventions/{id}/roster/{shift}/cancel",
            post(crisis::cancel_shift),
        )
        .route("/interventions/{id}/intake", post(crisis::intake))
        .route("/interventions/{id}/station", get(crisis::station))
        .route("/episodes/{id}", get(crisis::episode))
        .route("/episodes/{id}/log", post(crisis::log))
        .route("/episodes/{id}/safeguards", post(crisis::safeguard))
        .route("/episodes/{id}/identification", post(crisis::screen))
        .route("/episodes/{id}/placement", post(crisis::place))
        .route("/episodes/{id}/record", post(crisis::record))
        .route("/survivors", get(caseload::caseload))
        .route("/survivors/schedule", post(caseload::set_schedule))
        .route("/survivors/{id}", get(casework::show))
        .route("/survivors/{id}/reassign", post(caseload::reassign))
        .route("/survivors/{id}/plan", post(case_actions::save_plan))
        .route(
            "/survivors/{id}/services",
            post(case_actions::record_service),
        )
        .route(
            "/survivors/{id}/follow-ups",
            post(case_actions::add_follow_up),
        )
        .route(
            "/survivors/{id}/follow-ups/{follow_up}/complete",
            post(case_actions::complete_follow_up),
        )
        .route("/survivors/{id}/risk", post(case_actions::assess_risk))
        .route(
            "/survivors/{id}/incidents",
            post(case_actions::report_incident),
        )
        .route("/survivors/{id}/notes", post(case_actions::add_note))
        .route("/survivors/{id}/close", post(case_actions::close_case))
        .route("/survivors/{id}/reopen", post(case_actions::reopen_case))
        .route("/services/{id}", get(case_actions::service))
        .route("/referrals", get(referrals::referrals))
        .route("/referrals/match", get(referrals::match_page))
        .route(
            "/referrals/new",
            get(referrals::consent_form).post(referrals::consent_submit),
        )
        .route("/referrals/dashboard", get(referrals::dashboard))
        .route("/referrals/{id}", get(referrals::detail))
        .route("/referrals/{id}/withdraw", post(referrals::withdraw))
        .route(
            "/referrals/{id}/consents/{consent}/withdraw",
            post(referrals::withdraw_consent),
        )
        .route("/partner", get(referrals::portal))
        .route("/partner/occupancy", post(referrals::occupancy))
        .route("/partner/referrals/{id}", get(referrals::portal_referral))
        .route("/partner/referrals/{id}/step", post(referrals::portal_step))
        .route(
            "/partner/referrals/{id}/service",
            post(referrals::portal_service),
        )
        .route("/legal", get(legal::cases).post(legal::open_case))
        .route("/legal/hearings", get(legal::hearings))
        .route("/legal/cases/{id}", get(legal::case))
        .route("/legal/cases/{id}/stages", post(legal::add_stage))
        .route("/legal/cases/{id}/hearings", post(legal::add_hearing))
        .route("/legal/cases/{id}/decisions", post(legal::add_decision))
        .route("/legal/cases/{id}/sessions", post(legal::add_session))
        .route("/legal/cases/{id}/suspects", post(legal::add_suspect))
        .route("/legal/cases/{id}/charges", post(legal::add_charge))
        .route("/legal/cases/{id}/survivors", post(legal::link_survivor))
        .route("/legal/cases/{id}/deadlines", post(legal::add_deadline))
        .route("/legal/cases/{id}/outcomes", post(legal::add_outcome))
        .route("/legal/cases/{id}/bundle", post(legal::bundle))
        .route("/legal/cases/{id}/bundle.pdf", post(legal::bundle_pdf))
        .route("/legal/evidence/{id}/content", get(legal::content))
        .route("/legal/evidence/{id}/custody", post(legal::transfer))
        .route("/reports", get(sections::not_ready))
        .route("/audit", get(audit::audit))
        .route("/assets/{file}", get(assets::serve))
}

#[derive(Debug, Clone)]
pub struct NavLink {
    pub path: &'static str,
    pub label: String,
    pub current: bool,
}

#[derive(Debug, Clone)]
pub struct LanguageOption {
    pub code: &'static str,
    pub name: &'static str,
    pub selected: bool,
}

/// What the layout needs on every page.
#[derive(Debug, Clone)]
pub struct Shell {
    pub t: Translator,
    pub user_name: Option<String>,
    pub nav: Vec<NavLink>,
    pub csrf: String,
    pub path: String,
    pub languages: Vec<LanguageOption>,
}

impl Shell {
    pub fn new(locale: Locale, user: Option<&User>, csrf: String, path: &str) -> Shell {
        let t = Translator::new(locale);
        let nav = user
            .map(|u| {
                sections_for(&u.roles)
                    .into_iter()
                    .map(|s| NavLink {
                        path: s.path(),
                        label: t.get(s.label_key()),
                        current: s.path() == path,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Shell {
            languages: Locale::ALL
                .into_iter()
                .map(|l| LanguageOption {
                    code: l.code(),
                    name: l.native_name(),
                    selected: l == locale,
                })
                .collect(),
            t,
            user_name: user.map(|u| u.display_name.clone()),
            nav,
            csrf,
            path: path.to_owned(),
        }
    }
}

/// Renders a template; a rendering failure is logged and becomes a plain 500.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "template rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Haven could not show this page.",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub shell: Shell,
    pub heading: String,
    pub message: String,
}

/// An error as a page in the user's language, with the request ID to quote.
pub fn error_page(locale: Locale, err: ApiError) -> Response {
    let shell = Shell::new(locale, None, String::new(), "/");
    let (heading, message) = if err.status == StatusCode::NOT_FOUND {
        (
            shell.t.get("error-not-found-title"),
            shell.t.get("error-not-found"),
        )
    } else {
        (
            shell.t.get("error-generic-title"),
            shell
                .t
                .with("error-generic", "request", &crate::request_id::current()),
        )
    };
    let status = err.status;
    (
        status,
        render(&MessagePage {
            shell,
            heading,
            message,
        }),
    )
        .into_response()
}

/// The refusal of a change made with a read-only session (403): it says why and what to do.
pub fn read_only_page(locale: Locale) -> Response {
    let shell = Shell::new(locale, None, String::new(), "/");
    let page = MessagePage {
        heading: shell.t.get("error-read-only-title"),
        message: shell.t.get("error-read-only"),
        shell,
    };
    (StatusCode::FORBIDDEN, render(&page)).into_response()
}

/// The page shown for a section the user may not open, or a path that does not exist. Both
/// look the same, so the answer does not reveal what exists.
pub fn not_found_page(
    locale: Locale,
    user: Option<&User>,
    jar: CookieJar,
    state: &AppState,
) -> Response {
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale, user, csrf, "");
    let page = MessagePage {
        heading: shell.t.get("error-not-found-title"),
        message: shell.t.get("error-not-found"),
        shell,
    };
    (StatusCode::NOT_FOUND, jar, render(&page)).into_response()
}

/// Unknown paths: JSON under `/api`, a page elsewhere.
pub async fn fallback(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::not_found("this API route").into_response();
    }
    not_found_page(locale_for(&headers, None), None, jar, &state)
}

/// Whether a user may open a section.
pub fn may_open(user: &User, section: Section) -> bool {
    sections_for(&user.roles).contains(&section)
}

#[derive(Deserialize)]
pub struct LanguageForm {
    lang: String,
    csrf: String,
    #[serde(default)]
    next: String,
}

/// Only paths inside Haven are followed after a form, never another site.
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

/// Switches the interface language; remembered in a cookie and, when signed in, on the
/// account so it follows the user to other devices.
async fn switch_language(
    State(state): State<AppState>,
    client: crate::auth::ClientAddr,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LanguageForm>,
) -> Response {
    if !crate::auth::csrf_ok(&jar, &form.csrf) {
        return login::expired_form(&state, &headers, jar);
    }
    let Some(locale) = Locale::parse(&form.lang) else {
        return (
            StatusCode::BAD_REQUEST,
            "Unknown language: choose en, km or vi.",
        )
            .into_response();
    };
    if let Some(token) = jar
        .get(crate::auth::cookie_name(crate::auth::SESSION_COOKIE))
        .and_then(|c| haven_store::sessions::SessionToken::from_client(c.value()))
    {
        if let Ok(settings) = state.settings().await {
            if let Ok(Some((user, _))) =
                haven_store::sessions::resolve(&state.db, &token, &settings.session).await
            {
                if let Err(err) = haven_store::users::set_locale(
                    &state.db,
                    &crate::auth::user_context(&user, client),
                    user.id,
                    locale,
                )
                .await
                {
                    tracing::warn!(error = %err, "could not save the language on the account");
                }
            }
        }
    }
    let jar = jar.add(crate::auth::cookie(
        LANG_COOKIE,
        locale.code().to_owned(),
        &state,
    ));
    (jar, Redirect::to(safe_next(&form.next))).into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next("/partners"), "/partners");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
