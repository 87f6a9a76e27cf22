//! The home page: a greeting, the navigation for the user's roles, and real counts.

use super::{render, Shell};
use crate::auth::{csrf_token, locale_for, PageUser};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    welcome: String,
    partners: i64,
    active_users: i64,
    open_sessions: i64,
    by_role: Vec<(String, i64)>,
}

pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let counts = match haven_store::stats::dashboard(&state.db).await {
        Ok(counts) => counts,
        Err(err) => return super::error_page(locale, err.into()),
    };
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, "/");
    let page = HomePage {
        welcome: shell
            .t
            .with("home-welcome", "name", &caller.user.display_name),
        partners: counts.partner_organisations,
        active_users: counts.active_users,
        open_sessions: counts.open_sessions,
        by_role: counts
            .users_by_role
            .into_iter()
            .map(|(role, n)| (shell.t.get(&format!("role-{}", role.as_str())), n))
            .collect(),
        shell,
    };
    (jar, render(&page)).into_response()
}
