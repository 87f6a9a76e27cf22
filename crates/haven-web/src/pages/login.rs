//! Sign-in and sign-out for the browser.

use super::{render, Shell};
use crate::auth::{
    client_info, cookie, csrf_ok, csrf_token, locale_for, ClientAddr, PageUser, SESSION_COOKIE,
};
use crate::login_flow::{self, Outcome};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use haven_core::Password;
use haven_store::sessions::{self, SessionKind, SessionToken};
use haven_store::users::User;
use haven_store::{pending_logins, users};
use serde::Deserialize;

/// The cookie holding a half-finished sign-in (password right, code to come). Never the
/// password itself.
pub const PENDING_COOKIE: &str = "haven_pending";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    error: Option<String>,
    username: String,
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    jar: CookieJar,
    status: StatusCode,
    error_key: Option<&str>,
    username: String,
) -> Response {
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale_for(headers, None), None, csrf, "/login");
    let error = error_key.map(|k| message(&shell, k));
    (
        status,
        jar,
        render(&LoginPage {
            shell,
            error,
            username,
        }),
    )
        .into_response()
}

/// A translated message; `login-too-many:<seconds>` carries the wait, shown in minutes.
fn message(shell: &Shell, key: &str) -> String {
    match key.split_once(':') {
        Some((key, seconds)) => {
            let minutes = seconds.parse::<u64>().unwrap_or(60).div_ceil(60).max(1);
            shell.t.with(key, "minutes", &minutes.to_string())
        }
        None => shell.t.get(key),
    }
}

/// The login page answering a throttled attempt: 429 with `Retry-After`.
fn throttled(
    state: &AppState,
    headers: &HeaderMap,
    jar: CookieJar,
    wait: u64,
    username: String,
) -> Response {
    let mut response = login_page(
        state,
        headers,
        jar,
        StatusCode::TOO_MANY_REQUESTS,
        Some(&format!("login-too-many:{wait}")),
        username,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    response
}

/// Starts the browser session of a user who has fully signed in.
async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    client: ClientAddr,
    jar: CookieJar,
    user: &User,
) -> Response {
    let started = match state.settings().await {
        Ok(settings) => {
            sessions::start(
                &state.db,
                &crate::auth::user_context(user, client),
                user.id,
                SessionKind::Browser,
                &settings.session,
                &client_info(headers, client),
            )
            .await
        }
        Err(err) => Err(err),
    };
    match started {
        Ok((token, _)) => {
            let jar = jar
                .remove(cookie(PENDING_COOKIE, String::new(), state))
                .add(cookie(SESSION_COOKIE, token.expose().to_owned(), state));
            (jar, Redirect::to("/")).into_response()
        }
        Err(err) => super::error_page(user.locale, err.into()),
    }
}

/// The answer to a form whose CSRF token is missing or stale: the login page, saying so.
pub fn expired_form(state: &AppState, headers: &HeaderMap, jar: CookieJar) -> Response {
    login_page(
        state,
        headers,
        jar,
        StatusCode::BAD_REQUEST,
        Some("error-csrf"),
        String::new(),
    )
}

pub async fn form(State(state): State<AppState>, headers: HeaderMap, jar: CookieJar) -> Response {
    if let Some(token) = jar
        .get(crate::auth::cookie_name(SESSION_COOKIE))
        .and_then(|c| SessionToken::from_client(c.value()))
    {
        if let Ok(settings) = state.settings().await {
            if let Ok(Some(_)) = sessions::resolve(&state.db, &token, &settings.session).await {
                return Redirect::to("/").into_response();
            }
        }
    }
    login_page(&state, &headers, jar, StatusCode::OK, None, String::new())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn submit(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return expired_form(&state, &headers, jar);
    }
    let username = form.username.trim().chars().take(64).collect::<String>();
    let password = Password::new(form.password);
    let addr = client_info(&headers, client).addr;
    let outcome = login_flow::sign_in(&state, &username, &password, None, addr.as_deref()).await;
    match outcome {
        Ok(Outcome::SignedIn(user)) => finish(&state, &headers, client, jar, &user).await,
        Ok(Outcome::Throttled(wait)) => throttled(&state, &headers, jar, wait, username),
        Ok(Outcome::NeedsCode(user)) => match pending_logins::create(&state.db, user.id).await {
            Ok(token) => {
                let jar = jar.add(cookie(PENDING_COOKIE, token.expose().to_owned(), &state));
                code_page(&state, &headers, jar, StatusCode::OK, None)
            }
            Err(err) => super::error_page(locale_for(&headers, None), err.into()),
        },
        Err(err) if err.code == "bad_credentials" => login_page(
            &state,
            &headers,
            jar,
            StatusCode::UNAUTHORIZED,
            Some("login-failed"),
            username,
        ),
        Err(err) => super::error_page(locale_for(&headers, None), err),
    }
}

#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    shell: Shell,
    error: Option<String>,
}

fn code_page(
    state: &AppState,
    headers: &HeaderMap,
    jar: CookieJar,
    status: StatusCode,
    error_key: Option<&str>,
) -> Response {
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale_for(headers, None), None, csrf, "/login/code");
    let error = error_key.map(|k| shell.t.get(k));
    (status, jar, render(&CodePage { shell, error })).into_response()
}

/// The user of the browser's pending sign-in, if it is still valid.
async fn pending_user(state: &AppState, jar: &CookieJar) -> Option<(SessionToken, User)> {
    let token = jar
        .get(PENDING_COOKIE)
        .and_then(|c| SessionToken::from_client(c.value()))?;
    let id = pending_logins::find(&state.db, &token).await.ok()??;
    let user = users::find_by_id(&state.db, id).await.ok()??;
    (!user.disabled).then_some((token, user))
}

/// The second step's form; without a pending sign-in, back to the first step.
pub async fn code_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    if pending_user(&state, &jar).await.is_none() {
        return Redirect::to("/login").into_response();
    }
    code_page(&state, &headers, jar, StatusCode::OK, None)
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

/// The second step: the code from the authenticator app (or a recovery code).
pub async fn code_submit(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<CodeForm>,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return expired_form(&state, &headers, jar);
    }
    let Some((token, user)) = pending_user(&state, &jar).await else {
        let jar = jar.remove(cookie(PENDING_COOKIE, String::new(), &state));
        return login_page(
            &state,
            &headers,
            jar,
            StatusCode::UNAUTHORIZED,
            Some("login-code-expired"),
            String::new(),
        );
    };
    let addr = client_info(&headers, client).addr;
    match login_flow::second_factor(&state, &user, &form.code, addr.as_deref()).await {
        Ok(Outcome::SignedIn(user)) => {
            if let Err(err) = pending_logins::delete(&state.db, &token).await {
                return super::error_page(user.locale, err.into());
            }
            finish(&state, &headers, client, jar, &user).await
        }
        Ok(Outcome::Throttled(wait)) => {
            let jar = jar.remove(cookie(PENDING_COOKIE, String::new(), &state));
            throttled(&state, &headers, jar, wait, String::new())
        }
        Ok(Outcome::NeedsCode(_)) => code_page(
            &state,
            &headers,
            jar,
            StatusCode::UNAUTHORIZED,
            Some("login-code-failed"),
        ),
        Err(err) if err.code == "bad_credentials" => code_page(
            &state,
            &headers,
            jar,
            StatusCode::UNAUTHORIZED,
            Some("login-code-failed"),
        ),
        Err(err) => super::error_page(user.locale, err),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Form(form): Form<super::account::CsrfForm>,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return expired_form(&state, &headers, jar);
    }
    if let Err(err) = sessions::revoke(&state.db, &caller.ctx, &caller.token).await {
        return super::error_page(caller.user.locale, err.into());
    }
    let jar = jar.remove(cookie(SESSION_COOKIE, String::new(), &state));
    (jar, Redirect::to("/login")).into_response()
}
