//! The `/audit` page: the audit log as a table for auditors, with a filter form (GET, so a
//! filtered view can be bookmarked) and a link to the next, older page.

use super::{may_open, not_found_page, render, Shell};
use crate::api::audit::{page, AuditQuery};
use crate::auth::{csrf_token, locale_for, PageUser};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use haven_core::nav::Section;

#[derive(Debug)]
struct EventRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    fields: String,
    reason: String,
    client_addr: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    shell: Shell,
    rows: Vec<EventRow>,
    /// The filter values as typed, to refill the form.
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    since: String,
    until: String,
    error: bool,
    next: Option<String>,
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    if !may_open(&caller.user, Section::Audit) {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    }
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let typed = |v: &Option<String>| v.clone().unwrap_or_default();
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, Section::Audit.path());
    let mut view = AuditPage {
        actor: typed(&query.actor),
        action: typed(&query.action),
        entity: typed(&query.entity),
        entity_id: typed(&query.entity_id),
        since: typed(&query.since),
        until: typed(&query.until),
        shell,
        rows: Vec::new(),
        error: false,
        next: None,
    };
    let Ok(parsed) = query.parse() else {
        view.error = true;
        return (StatusCode::BAD_REQUEST, jar, render(&view)).into_response();
    };
    let (found, next_cursor) = match page(&state, &parsed).await {
        Ok(found) => found,
        Err(err) => return super::error_page(locale, err),
    };
    view.next = next_cursor.map(|cursor| {
        let mut url = format!("/audit?cursor={cursor}");
        for (name, value) in [
            ("actor", &view.actor),
            ("action", &view.action),
            ("entity", &view.entity),
            ("entity_id", &view.entity_id),
            ("since", &view.since),
            ("until", &view.until),
        ] {
            if !value.is_empty() {
                url.push_str(&format!("&{name}={}", encode(value)));
            }
        }
        url
    });
    view.rows = found
        .into_iter()
        .map(|e| EventRow {
            seq: e.seq,
            at: e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: e.actor,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id.unwrap_or_default(),
            fields: e.fields.join(", "),
            reason: e.reason.unwrap_or_default(),
            client_addr: e.client_addr.unwrap_or_default(),
        })
        .collect();
    (jar, render(&view)).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            super::encode("system:cli:user add"),
            "system%3Acli%3Auser%20add"
        );
        assert_eq!(super::encode("user.create"), "user.create");
    }
}
