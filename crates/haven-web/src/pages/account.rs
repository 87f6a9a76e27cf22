//! The account page: where the user is signed in (with "sign out this session" and "sign out
//! everywhere"), and setting up two-step sign-in with an authenticator app.

use super::{render, Shell};
use crate::auth::{cookie, csrf_ok, csrf_token, locale_for, PageUser, SESSION_COOKIE};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use haven_core::SessionId;
use haven_store::sessions::{self, SessionKind};
use haven_store::totp::{self, TotpStatus};
use haven_store::StoreError;
use serde::Deserialize;
use uuid::Uuid;

/// One row of the session table, ready to show.
struct SessionRow {
    id: String,
    kind: String,
    created: String,
    last_seen: String,
    addr: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    shell: Shell,
    sessions: Vec<SessionRow>,
    totp_on: bool,
    totp_text: String,
    must_enrol: bool,
}

const TIME_FORMAT: &str = "%Y-%m-%d %H:%M UTC";

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let loaded = async {
        let settings = state.settings().await?;
        let status = totp::status(&state.db, caller.user.id).await?;
        let open = sessions::list_open(&state.db, caller.user.id).await?;
        Ok::<_, StoreError>((settings, status, open))
    }
    .await;
    let (settings, status, open) = match loaded {
        Ok(found) => found,
        Err(err) => return super::error_page(locale, err.into()),
    };
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, "/account");
    let now = haven_store::clock::now();
    let sessions = open
        .into_iter()
        .filter(|s| {
            settings
                .session
                .check(s.created_at, s.last_seen_at, false, now)
                .is_ok()
        })
        .map(|s| SessionRow {
            id: s.id.to_string(),
            kind: shell.t.get(match s.kind {
                SessionKind::Browser => "account-session-browser",
                SessionKind::Api => "account-session-api",
            }),
            created: s.created_at.format(TIME_FORMAT).to_string(),
            last_seen: s.last_seen_at.format(TIME_FORMAT).to_string(),
            addr: s.client_addr.clone().unwrap_or_default(),
            current: s.id == caller.session.id,
        })
        .collect();
    let totp_text = match status {
        TotpStatus::On {
            recovery_codes_left,
        } => shell
            .t
            .with("account-totp-on", "count", &recovery_codes_left.to_string()),
        TotpStatus::Off | TotpStatus::Pending => shell.t.get("account-totp-off"),
    };
    let page = AccountPage {
        must_enrol: settings.totp.required_for(&caller.user.roles) && !status.is_on(),
        totp_on: status.is_on(),
        totp_text,
        sessions,
        shell,
    };
    (jar, render(&page)).into_response()
}

/// A form that carries nothing but its CSRF token (sign-out buttons).
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub(super) csrf: String,
}

/// "Sign out this session". Ending the current one signs this browser out.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return super::login::expired_form(&state, &headers, jar);
    }
    let locale = locale_for(&headers, Some(&caller.user));
    let Ok(id) = Uuid::parse_str(id.trim()).map(SessionId::from_uuid) else {
        return super::not_found_page(locale, Some(&caller.user), jar, &state);
    };
    match sessions::revoke_own(&state.db, &caller.ctx, caller.user.id, id).await {
        Ok(()) if id == caller.session.id => {
            let jar = jar.remove(cookie(SESSION_COOKIE, String::new(), &state));
            (jar, Redirect::to("/login")).into_response()
        }
        Ok(()) => Redirect::to("/account").into_response(),
        Err(StoreError::NotFound(_)) => {
            super::not_found_page(locale, Some(&caller.user), jar, &state)
        }
        Err(err) => super::error_page(locale, err.into()),
    }
}

/// "Sign out everywhere", this browser included.
pub async fn logout_all(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return super::login::expired_form(&state, &headers, jar);
    }
    if let Err(err) = sessions::revoke_all(&state.db, &caller.ctx, caller.user.id).await {
        return super::error_page(caller.user.locale, err.into());
    }
    let jar = jar.remove(cookie(SESSION_COOKIE, String::new(), &state));
    (jar, Redirect::to("/login")).into_response()
}

#[derive(Template)]
#[template(path = "totp_enrol.html")]
struct EnrolPage {
    shell: Shell,
    qr_code: String,
    secret: String,
    error: Option<String>,
}

fn enrol_page(
    state: &AppState,
    headers: &HeaderMap,
    caller: &PageUser,
    jar: CookieJar,
    secret: &totp::TotpSecret,
    error_key: Option<&str>,
) -> Response {
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(
        locale_for(headers, Some(&caller.user)),
        Some(&caller.user),
        csrf,
        "/account",
    );
    let url = secret.otpauth_url(
        crate::api::account::TOTP_ISSUER,
        caller.user.username.as_str(),
    );
    let page = EnrolPage {
        qr_code: crate::qr::svg_data_uri(&url).unwrap_or_default(),
        secret: secret.base32().to_owned(),
        error: error_key.map(|k| shell.t.get(k)),
        shell,
    };
    let status = if error_key.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (status, jar, render(&page)).into_response()
}

/// Starts enrolment: a new secret, shown as a QR code and as text.
pub async fn enrol(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return super::login::expired_form(&state, &headers, jar);
    }
    let keyring = match state.keyring() {
        Ok(keyring) => keyring,
        Err(err) => return super::error_page(caller.user.locale, err.into()),
    };
    match totp::begin_enrolment(&state.db, keyring, caller.user.id).await {
        Ok(secret) => enrol_page(&state, &headers, &caller, jar, &secret, None),
        Err(StoreError::Conflict(_)) => Redirect::to("/account").into_response(),
        Err(err) => super::error_page(caller.user.locale, err.into()),
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Template)]
#[template(path = "totp_codes.html")]
struct CodesPage {
    shell: Shell,
    codes: Vec<String>,
}

/// Confirms enrolment with a code; shows the recovery codes this once.
pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Form(form): Form<ConfirmForm>,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return super::login::expired_form(&state, &headers, jar);
    }
    let locale = locale_for(&headers, Some(&caller.user));
    let keyring = match state.keyring() {
        Ok(keyring) => keyring,
        Err(err) => return super::error_page(caller.user.locale, err.into()),
    };
    match totp::confirm_enrolment(&state.db, keyring, &caller.ctx, caller.user.id, &form.code).await
    {
        Ok(codes) => {
            let (jar, csrf) = csrf_token(jar, &state);
            let page = CodesPage {
                shell: Shell::new(locale, Some(&caller.user), csrf, "/account"),
                codes: codes.iter().map(|c| c.expose().to_owned()).collect(),
            };
            (jar, render(&page)).into_response()
        }
        Err(StoreError::Invalid(_)) => {
            match totp::pending_secret(&state.db, keyring, caller.user.id).await {
                Ok(Some(secret)) => enrol_page(
                    &state,
                    &headers,
                    &caller,
                    jar,
                    &secret,
                    Some("totp-enrol-failed"),
                ),
                Ok(None) => Redirect::to("/account").into_response(),
                Err(err) => super::error_page(locale, err.into()),
            }
        }
        Err(StoreError::Conflict(_)) => Redirect::to("/account").into_response(),
        Err(err) => super::error_page(locale, err.into()),
    }
}
