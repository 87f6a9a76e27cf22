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
use haven_store::sessions::{self, ClientInfo, Session, SessionScope, SessionToken};
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
    pub session: Session,
    /// Who, from where, in which request: for the audit log.
    pub ctx: RequestContext,
}

/// A signed-in browser user (session cookie). Missing or invalid: redirect to the login page.
#[derive(Debug)]
pub struct PageUser {
    pub user: User,
    pub token: SessionToken,
    pub session: Session,
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

fn bearer(headers: &HeaderMap) -> Option<SessionToken> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| SessionToken::from_client(token))
        .flatten()
}

/// A valid session, and whether its user still has to enrol a second factor before doing
/// anything else.
struct Resolved {
    user: User,
    session: Session,
    token: SessionToken,
    must_enrol: bool,
}

async fn resolve(state: &AppState, token: SessionToken) -> Result<Option<Resolved>, ApiError> {
    let settings = state.settings().await?;
    let Some((user, session)) = sessions::resolve(&state.db, &token, &settings.session).await?
    else {
        return Ok(None);
    };
    let must_enrol = settings.totp.required_for(&user.roles)
        && !haven_store::totp::status(&state.db, user.id).await?.is_on();
    Ok(Some(Resolved {
        user,
        session,
        token,
        must_enrol,
    }))
}

/// API routes a user who must enrol a second factor may still use: enrolment itself, who am
/// I, and signing out.
const ENROLMENT_API_ROUTES: [&str; 5] = [
    "/api/v1/me",
    "/api/v1/me/totp",
    "/api/v1/me/totp/confirm",
    "/api/v1/auth/logout",
    "/api/v1/auth/logout-all",
];

/// Whether a session may make this request through the pages. Scope belongs to the session,
/// not to the way it is presented: a read-only token sent as the session cookie reads pages
/// but cannot post a form (signing out excepted).
fn may_change_through_pages(scope: SessionScope, method: &axum::http::Method, path: &str) -> bool {
    scope == SessionScope::Full || method.is_safe() || path == "/logout"
}

/// Pages such a user may still open: the account page (where enrolment happens) and sign-out.
fn enrolment_page_allowed(path: &str) -> bool {
    path == "/account" || path.starts_with("/account/") || path == "/logout" || path == "/lang"
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let found = resolve(state, token)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        let path = parts.uri.path();
        if found.session.scope == SessionScope::Read
            && parts.method != axum::http::Method::GET
            && path != "/api/v1/auth/logout"
        {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "insufficient_scope",
                "this token may only read; sign in with \"scope\": \"full\" to make changes",
            ));
        }
        if found.must_enrol && !ENROLMENT_API_ROUTES.contains(&path) {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "totp_enrolment_required",
                "your account must use two-step sign-in: enrol an authenticator app at POST /api/v1/me/totp first",
            ));
        }
        let Ok(addr) = ClientAddr::from_request_parts(parts, state).await;
        let ctx = user_context(&found.user, addr);
        Ok(ApiUser {
            user: found.user,
            token: found.token,
            session: found.session,
            ctx,
        })
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
            .get(cookie_name(SESSION_COOKIE))
            .and_then(|c| SessionToken::from_client(c.value()))
            .ok_or_else(|| Redirect::to("/login").into_response())?;
        match resolve(state, token).await {
            Ok(Some(found)) if found.must_enrol && !enrolment_page_allowed(parts.uri.path()) => {
                Err(Redirect::to("/account").into_response())
            }
            Ok(Some(found))
                if !may_change_through_pages(
                    found.session.scope,
                    &parts.method,
                    parts.uri.path(),
                ) =>
            {
                let locale = locale_for(&parts.headers, Some(&found.user));
                Err(crate::pages::read_only_page(locale))
            }
            Ok(Some(found)) => {
                let Ok(addr) = ClientAddr::from_request_parts(parts, state).await;
                let ctx = user_context(&found.user, addr);
                Ok(PageUser {
                    user: found.user,
                    token: found.token,
                    session: found.session,
                    ctx,
                })
            }
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(err) => Err(crate::pages::error_page(Locale::default(), err)),
        }
    }
}

/// The client's address: the peer of the connection, or, when that peer is a trusted proxy,
/// the nearest address in `X-Forwarded-For` that is not itself a trusted proxy (the rightmost
/// untrusted entry; entries further left are whatever the client chose to send).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<SocketAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(ClientAddr(peer.map(|peer| {
            client_ip(peer.ip(), &parts.headers, &state.config.trusted_proxies)
                .map_or(peer, |ip| SocketAddr::new(ip, 0))
        })))
    }
}

/// The forwarded client address, if the peer is trusted to report one.
fn client_ip(
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    trusted: &[std::net::IpAddr],
) -> Option<std::net::IpAddr> {
    if !trusted.contains(&peer) {
        return None;
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    forwarded.into_iter().rev().find(|ip| !trusted.contains(ip))
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

tokio::task_local! {
    /// Whether the request being handled reached Haven over HTTPS (`--behind-tls`).
    static BEHIND_TLS: bool;
}

/// Runs the rest of the request knowing whether it came over HTTPS, so that cookies are
/// named (and read) with the `__Host-` prefix there wherever they are set or checked.
pub async fn tls_scope(
    axum::extract::State(behind_tls): axum::extract::State<bool>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    BEHIND_TLS.scope(behind_tls, next.run(request)).await
}

/// The name a cookie has in this request. Behind TLS the session and CSRF cookies carry the
/// `__Host-` prefix: browsers then accept them only when `Secure`, for `/`, and set by this
/// host, so a sibling subdomain cannot plant or shadow them.
pub fn cookie_name(base: &'static str) -> &'static str {
    let behind_tls = BEHIND_TLS.try_with(|b| *b).unwrap_or(false);
    match base {
        SESSION_COOKIE if behind_tls => "__Host-haven_session",
        CSRF_COOKIE if behind_tls => "__Host-haven_csrf",
        other => other,
    }
}

/// A cookie with the attributes every Haven cookie has.
pub fn cookie(name: &'static str, value: String, state: &AppState) -> Cookie<'static> {
    Cookie::build((cookie_name(name), value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.behind_tls)
        .build()
}

/// The form token for a browser: an HMAC, keyed by the browser's random CSRF cookie, of the
/// SHA-256 of its session token (empty before sign-in). A cross-site page can make the
/// browser send its cookies but not read them; and a token taken from one session (or a
/// CSRF cookie planted in the browser) is worthless in another, because nobody but that
/// browser knows its session token.
fn form_token(nonce: &str, jar: &CookieJar) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    use sha2::Digest as _;
    let session = jar
        .get(cookie_name(SESSION_COOKIE))
        .map(|c| sha2::Sha256::digest(c.value().as_bytes()).to_vec())
        .unwrap_or_default();
    // HMAC takes keys of any length: this cannot fail.
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(nonce.as_bytes()) else {
        return String::new();
    };
    mac.update(b"haven csrf v1\0");
    mac.update(&session);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The form's CSRF token, bound to this browser's session: reuses the browser's CSRF cookie
/// or issues one.
pub fn csrf_token(jar: CookieJar, state: &AppState) -> (CookieJar, String) {
    if let Some(existing) = jar
        .get(cookie_name(CSRF_COOKIE))
        .map(|c| c.value().to_owned())
    {
        if existing.len() == 43 {
            let token = form_token(&existing, &jar);
            return (jar, token);
        }
    }
    use base64::Engine as _;
    let bytes: [u8; 32] = rand::random();
    let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let jar = jar.add(cookie(CSRF_COOKIE, nonce, state));
    let token = jar
        .get(cookie_name(CSRF_COOKIE))
        .map(|c| form_token(c.value(), &jar))
        .unwrap_or_default();
    (jar, token)
}

/// True when the submitted form token is the one for this browser's CSRF cookie and session
/// (compared in constant time).
pub fn csrf_ok(jar: &CookieJar, submitted: &str) -> bool {
    match jar.get(cookie_name(CSRF_COOKIE)) {
        Some(cookie) if cookie.value().len() == 43 => {
            let expected = form_token(cookie.value(), jar);
            bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
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
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.9, 10.0.0.3"),
        );
        let trusted = [proxy, "10.0.0.3".parse().unwrap()];
        assert_eq!(
            client_ip(proxy, &headers, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(
            client_ip("198.51.100.1".parse().unwrap(), &headers, &trusted),
            None
        );
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), None);
    }

    #[test]
    fn csrf_needs_the_matching_cookie_and_session() {
        let nonce = "b".repeat(43);
        let jar = CookieJar::new().add(Cookie::new(CSRF_COOKIE, nonce.clone()));
        let token = form_token(&nonce, &jar);
        assert!(csrf_ok(&jar, &token));
        assert!(!csrf_ok(&jar, &nonce), "the cookie itself is not the token");
        assert!(!csrf_ok(&jar, &"c".repeat(43)));
        assert!(!csrf_ok(&CookieJar::new(), &token));
        let signed_in = jar.clone().add(Cookie::new(SESSION_COOKIE, "a".repeat(43)));
        let session_token = form_token(&nonce, &signed_in);
        assert!(csrf_ok(&signed_in, &session_token));
        assert!(!csrf_ok(&signed_in, &token), "a token from before sign-in");
        let other = jar.add(Cookie::new(SESSION_COOKIE, "d".repeat(43)));
        assert!(
            !csrf_ok(&other, &session_token),
            "a token from another session"
        );
    }
}
