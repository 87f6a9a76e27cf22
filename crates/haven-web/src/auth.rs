//! Who is asking: session cookies for the HTML UI, bearer tokens for the API, CSRF tokens for
//! forms, and the language of the answer.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use haven_core::{Actor, Locale, RequestContext};
use haven_store::sessions::{self, ClientInfo, SessionToken};
use haven_store::users::User;
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "haven_session";
pub const CSRF_COOKIE: &str = "haven_csrf";
pub const LANG_COOKIE: &str = "haven_lang";

/// A signed-in API caller (bearer token). Missing or invalid token: 401.
#[derive(Debug)]
pub struct ApiUser {
    pub user: User,
    pub token: SessionToken,
    /// Who, from where, in which request: for the audit log.
    pub ctx: RequestContext,
}

/// A signed-in browser user (session cookie). Missing or invalid: redirect to the login page.
#[derive(Debug)]
pub struct PageUser {
    pub user: User,
    pub token: SessionToken,
    /// Who, from where, in which request: for the audit log.
    pub ctx: RequestContext,
}

/// The audit context of a request by a signed-in user.
pub fn user_context(user: &User, addr: ClientAddr) -> RequestContext {
    RequestContext {
        actor: Actor::User {
            id: user.id,
            roles: user.roles.clone(),
        },
        ..anonymous_context(addr)
    }
}

/// The audit context of a request before anyone has signed in (a login attempt).
pub fn anonymous_context(addr: ClientAddr) -> RequestContext {
    let request_id = crate::request_id::current();
    RequestContext {
        actor: Actor::System("web:anonymous"),
        client_addr: addr.0.map(|a| a.ip().to_string()),
        request_id: (request_id != "-").then_some(request_id),
    }
}

fn connection_addr(parts: &Parts) -> ClientAddr {
    ClientAddr(
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0),
    )
}

fn bearer(headers: &HeaderMap) -> Option<SessionToken> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| SessionToken::from_client(token))
        .flatten()
}

async fn resolve(
    state: &AppState,
    token: SessionToken,
) -> Result<Option<(User, SessionToken)>, ApiError> {
    let settings = state.settings().await?;
    Ok(sessions::resolve(&state.db, &token, &settings.session)
        .await?
        .map(|(user, _)| (user, token)))
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let (user, token) = resolve(state, token)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        let ctx = user_context(&user, connection_addr(parts));
        Ok(ApiUser { user, token, ctx })
    }
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(SESSION_COOKIE)
            .and_then(|c| SessionToken::from_client(c.value()))
            .ok_or_else(|| Redirect::to("/login").into_response())?;
        match resolve(state, token).await {
            Ok(Some((user, token))) => {
                let ctx = user_context(&user, connection_addr(parts));
                Ok(PageUser { user, token, ctx })
            }
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(err) => Err(crate::pages::error_page(Locale::default(), err)),
        }
    }
}

/// The peer address of the connection, when the server recorded one.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(connection_addr(parts))
    }
}

/// Where a request came from, stored with a new session.
pub fn client_info(parts_headers: &HeaderMap, addr: ClientAddr) -> ClientInfo {
    ClientInfo {
        addr: addr.0.map(|a| a.ip().to_string()),
        user_agent: parts_headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// The language of the answer: the language cookie, then the user's saved choice, then the
/// browser's `Accept-Language`, then English.
pub fn locale_for(headers: &HeaderMap, user: Option<&User>) -> Locale {
    let jar = CookieJar::from_headers(headers);
    if let Some(locale) = jar.get(LANG_COOKIE).and_then(|c| Locale::parse(c.value())) {
        return locale;
    }
    if let Some(user) = user {
        return user.locale;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Locale::from_accept_language)
        .unwrap_or_default()
}

/// A cookie with the attributes every Haven cookie has.
pub fn cookie(name: &'static str, value: String, state: &AppState) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.behind_tls)
        .build()
}

/// The form's CSRF token (double-submit cookie): reuses the browser's token or issues one.
pub fn csrf_token(jar: CookieJar, state: &AppState) -> (CookieJar, String) {
    if let Some(existing) = jar.get(CSRF_COOKIE).map(|c| c.value().to_owned()) {
        if existing.len() == 43 {
            return (jar, existing);
        }
    }
    use base64::Engine as _;
    let bytes: [u8; 32] = rand::random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    (jar.add(cookie(CSRF_COOKIE, token.clone(), state)), token)
}

/// True when the submitted form token matches the browser's CSRF cookie. A cross-site page
/// can make the browser send the cookie but cannot read it to put it in the form.
pub fn csrf_ok(jar: &CookieJar, submitted: &str) -> bool {
    match jar.get(CSRF_COOKIE) {
        Some(cookie) if cookie.value().len() == 43 => {
            bool::from(cookie.value().as_bytes().ct_eq(submitted.as_bytes()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let token = "a".repeat(43);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("bearer {token}")).unwrap(),
        );
        assert_eq!(bearer(&headers).unwrap().expose(), token);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(bearer(&headers).is_none());
    }

    #[test]
    fn language_cookie_beats_browser_preference() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("vi"));
        assert_eq!(locale_for(&headers, None), Locale::Vi);
        headers.insert(header::COOKIE, HeaderValue::from_static("haven_lang=km"));
        assert_eq!(locale_for(&headers, None), Locale::Km);
    }

    #[test]
    fn csrf_needs_the_matching_cookie() {
        let token = "b".repeat(43);
        let jar = CookieJar::new().add(Cookie::new(CSRF_COOKIE, token.clone()));
        assert!(csrf_ok(&jar, &token));
        assert!(!csrf_ok(&jar, &"c".repeat(43)));
        assert!(!csrf_ok(&CookieJar::new(), &token));
    }
}
