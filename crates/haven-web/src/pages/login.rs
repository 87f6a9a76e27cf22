//! Sign-in and sign-out for the browser.

use super::{render, Shell};
use crate::auth::{
    client_info, cookie, csrf_ok, csrf_token, locale_for, ClientAddr, PageUser, SESSION_COOKIE,
};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use haven_core::Password;
use haven_store::sessions::{self, SessionKind, SessionToken};
use haven_store::{users, StoreError};
use serde::Deserialize;

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
    let error = error_key.map(|k| shell.t.get(k));
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
        .get(SESSION_COOKIE)
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
    let attempt = users::authenticate(
        &state.db,
        &crate::auth::anonymous_context(client),
        &state.hasher,
        &username,
        &password,
    )
    .await;
    let user = match attempt {
        Ok(user) => user,
        Err(StoreError::BadCredentials) => {
            return login_page(
                &state,
                &headers,
                jar,
                StatusCode::UNAUTHORIZED,
                Some("login-failed"),
                username,
            )
        }
        Err(err) => return super::error_page(locale_for(&headers, None), err.into()),
    };
    let started = match state.settings().await {
        Ok(settings) => {
            sessions::start(
                &state.db,
                &crate::auth::user_context(&user, client),
                user.id,
                SessionKind::Browser,
                &settings.session,
                &client_info(&headers, client),
            )
            .await
        }
        Err(err) => Err(err),
    };
    match started {
        Ok((token, _)) => {
            let jar = jar.add(cookie(SESSION_COOKIE, token.expose().to_owned(), &state));
            (jar, Redirect::to("/")).into_response()
        }
        Err(err) => super::error_page(user.locale, err.into()),
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Form(form): Form<LogoutForm>,
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
