//! Section pages. Each checks that the user's roles offer the section; otherwise the answer
//! is the same "not found" page as for a path that does not exist.

use super::{may_open, not_found_page, render, MessagePage, Shell};
use crate::auth::{csrf_token, locale_for, PageUser};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use haven_core::nav::Section;
use haven_core::OrgKind;

#[derive(Template)]
#[template(path = "organisations.html")]
struct OrganisationsPage {
    shell: Shell,
    rows: Vec<(String, String)>,
}

pub async fn organisations(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    if !may_open(&caller.user, Section::Partners) {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    }
    let orgs = match haven_store::orgs::list(&state.db).await {
        Ok(orgs) => orgs,
        Err(err) => return super::error_page(locale, err.into()),
    };
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, Section::Partners.path());
    let rows = orgs
        .into_iter()
        .map(|o| {
            let kind = match o.kind {
                OrgKind::Own => shell.t.get("orgs-kind-own"),
                OrgKind::Partner => shell.t.get("orgs-kind-partner"),
            };
            (o.name, kind)
        })
        .collect();
    (jar, render(&OrganisationsPage { shell, rows })).into_response()
}

#[derive(Debug)]
struct UserRow {
    username: String,
    name: String,
    roles: String,
    org: String,
    status: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    shell: Shell,
    rows: Vec<UserRow>,
}

pub async fn users(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    if !may_open(&caller.user, Section::Users) {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    }
    let found = match haven_store::users::list(&state.db, None, 200).await {
        Ok(found) => found,
        Err(err) => return super::error_page(locale, err.into()),
    };
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, Section::Users.path());
    let rows = found
        .into_iter()
        .map(|u| UserRow {
            roles: u
                .roles
                .iter()
                .map(|r| shell.t.get(&format!("role-{}", r.as_str())))
                .collect::<Vec<_>>()
                .join(", "),
            status: shell.t.get(if u.disabled {
                "users-disabled"
            } else {
                "users-active"
            }),
            username: u.username.to_string(),
            name: u.display_name,
            org: u.org_name,
        })
        .collect();
    (jar, render(&UsersPage { shell, rows })).into_response()
}

/// Sections whose pages are not built yet: an honest "not available yet", still only for the
/// roles that are offered the section.
pub async fn not_ready(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let allowed = haven_core::nav::sections_for(&caller.user.roles)
        .into_iter()
        .any(|s| s.path() == uri.path());
    if !allowed {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    }
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, uri.path());
    let page = MessagePage {
        heading: shell.t.get("section-not-ready-title"),
        message: shell.t.get("section-not-ready"),
        shell,
    };
    (jar, render(&page)).into_response()
}
