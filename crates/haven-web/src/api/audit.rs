//! The audit log, for auditors: one page of events, newest first, with filters.
//!
//! Events hold field names only, so nothing here can show a survivor's or a colleague's data.

use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, Days, NaiveDate, Utc};
use haven_core::Role;
use haven_store::audit::{AuditFilter, StoredEvent, LIST_MAX};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Paging and filters, shared by the API and the `/audit` page. Empty values (as an HTML form
/// sends them) mean "no filter".
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// At most this many events (1 to 200, default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// An actor label: a user ID, or `system:...`.
    pub actor: Option<String>,
    /// An action, e.g. `user.create`.
    pub action: Option<String>,
    /// An entity kind, e.g. `user`.
    pub entity: Option<String>,
    /// An entity ID.
    pub entity_id: Option<String>,
    /// From this day (`YYYY-MM-DD`, UTC) or instant (RFC 3339), inclusive.
    pub since: Option<String>,
    /// Up to this day (`YYYY-MM-DD`, UTC, inclusive) or before this instant (RFC 3339).
    pub until: Option<String>,
}

fn present(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A day means its start (`since`) or the start of the next day (`until`, so the day counts).
fn instant(name: &str, value: &str, end_of_day: bool) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        format!("{name} must be a date (YYYY-MM-DD) or an RFC 3339 time, e.g. 2026-03-01T08:00:00Z")
    })?;
    let day = if end_of_day {
        day.checked_add_days(Days::new(1))
            .ok_or_else(|| format!("{name} is out of range"))?
    } else {
        day
    };
    Ok(day.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// The parsed query: filter, cursor and limit.
#[derive(Debug)]
pub struct ParsedQuery {
    pub filter: AuditFilter,
    pub cursor: Option<i64>,
    pub limit: u32,
}

impl AuditQuery {
    /// Checks every parameter; the error names the parameter and what is accepted.
    pub fn parse(&self) -> Result<ParsedQuery, String> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=LIST_MAX).contains(&limit) {
            return Err(format!("limit must be between 1 and {LIST_MAX}"));
        }
        let cursor = match present(&self.cursor) {
            None => None,
            Some(c) => Some(
                c.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or("cursor must be the next_cursor of a previous page")?,
            ),
        };
        for (name, value) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("entity", &self.entity),
            ("entity_id", &self.entity_id),
        ] {
            if value.as_deref().is_some_and(|v| v.len() > 200) {
                return Err(format!("{name} is too long (at most 200 characters)"));
            }
        }
        let since = present(&self.since)
            .map(|v| instant("since", &v, false))
            .transpose()?;
        let until = present(&self.until)
            .map(|v| instant("until", &v, true))
            .transpose()?;
        Ok(ParsedQuery {
            filter: AuditFilter {
                actor: present(&self.actor),
                action: present(&self.action),
                entity: present(&self.entity),
                entity_id: present(&self.entity_id),
                since,
                until,
            },
            cursor,
            limit,
        })
    }
}

/// One audit event. `fields` are names of the fields touched, never their values.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventInfo {
    pub seq: i64,
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub fields: Vec<String>,
    pub reason: Option<String>,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
    /// SHA-256 of the event, hex, as chained.
    pub hash: String,
}

impl From<StoredEvent> for AuditEventInfo {
    fn from(e: StoredEvent) -> Self {
        AuditEventInfo {
            seq: e.seq,
            id: e.id.to_string(),
            at: e.at,
            actor: e.actor,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            fields: e.fields,
            reason: e.reason,
            client_addr: e.client_addr,
            request_id: e.request_id,
            hash: e.hash.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    /// Newest first.
    pub items: Vec<AuditEventInfo>,
    /// Pass as `cursor` to get the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Fetches one page; shared with the HTML page.
pub async fn page(
    state: &AppState,
    query: &ParsedQuery,
) -> Result<(Vec<StoredEvent>, Option<String>), ApiError> {
    let found =
        haven_store::audit::list(&state.db, &query.filter, query.cursor, query.limit).await?;
    let next = (found.len() == query.limit as usize)
        .then(|| found.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok((found, next))
}

/// The audit log, newest first. Auditors only.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of audit events, newest first", body = AuditList),
        (status = 400, description = "Bad paging or filter parameters", body = crate::error::ErrorBody),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
        (status = 403, description = "Not an auditor", body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditList>, ApiError> {
    if !caller.user.roles.contains(Role::Auditor) {
        return Err(ApiError::forbidden());
    }
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let parsed = query.parse().map_err(ApiError::bad_request)?;
    let (found, next_cursor) = page(&state, &parsed).await?;
    Ok(Json(AuditList {
        items: found.into_iter().map(AuditEventInfo::from).collect(),
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_instants_are_accepted_and_bad_values_named() {
        let q = AuditQuery {
            since: Some("2026-03-01".into()),
            until: Some("2026-03-01".into()),
            cursor: Some(" ".into()),
            actor: Some(String::new()),
            ..AuditQuery::default()
        };
        let p = q.parse().unwrap();
        assert_eq!(
            p.filter.since.unwrap().to_rfc3339(),
            "2026-03-01T00:00:00+00:00"
        );
        assert_eq!(
            p.filter.until.unwrap().to_rfc3339(),
            "2026-03-02T00:00:00+00:00"
        );
        assert_eq!((p.cursor, p.filter.actor, p.limit), (None, None, 50));
        let bad = AuditQuery {
            since: Some("yesterday".into()),
            ..AuditQuery::default()
        };
        assert!(bad.parse().unwrap_err().starts_with("since"));
        let bad = AuditQuery {
            cursor: Some("-3".into()),
            ..AuditQuery::default()
        };
        assert!(bad.parse().unwrap_err().starts_with("cursor"));
        let bad = AuditQuery {
            limit: Some(0),
            ..AuditQuery::default()
        };
        assert!(bad.parse().is_err());
    }
}
