//! Case notes: rich text sanitised to simple formatting, attached to an area of her plan or to
//! none, optionally confidential (read only by her assigned caseworkers).

use super::{bad, survivor_id};
use crate::api::json::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use haven_core::casework::PlanArea;
use haven_store::case_notes::{self, NoteInput, NoteView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NoteBody {
    /// The plan area it belongs to; absent for a general note.
    #[serde(default)]
    pub area: Option<String>,
    /// Read only by her assigned caseworkers.
    #[serde(default)]
    pub confidential: bool,
    /// HTML from an editor, or plain text. Only paragraphs, emphasis, lists, headings and
    /// line breaks are kept; scripts, styles, links and images are removed.
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteSaved {
    pub id: String,
    /// True when something was removed from what was typed.
    pub neutralised: bool,
    /// Says what happened when something was removed.
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteOut {
    pub id: String,
    pub area: Option<String>,
    pub confidential: bool,
    /// Sanitised HTML, safe to show as it is.
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

pub(crate) fn note_out(n: NoteView) -> NoteOut {
    NoteOut {
        id: n.id.to_string(),
        area: n.area.map(|a| a.as_str().to_owned()),
        confidential: n.confidential,
        body: n.body,
        author: n.author,
        created_at: n.created_at,
    }
}

/// Her notes the caller may read, newest first: confidential ones only for her assigned
/// caseworkers; a partner only notes on the areas referred to it.
#[utoipa::path(get, path = "/api/v1/survivors/{id}/notes", tag = "casework", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = [NoteOut]), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<NoteOut>>, ApiError> {
    let list = case_notes::list(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor_id(&id)?,
    )
    .await?;
    Ok(Json(list.into_iter().map(note_out).collect()))
}

/// Add a case note (her caseworker). Formatting beyond the simple kinds and any code are
/// removed, and the answer says so.
#[utoipa::path(post, path = "/api/v1/survivors/{id}/notes", tag = "casework", params(("id" = String, Path)), request_body = NoteBody, security(("bearer" = [])),
    responses((status = 201, body = NoteSaved), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Result<(StatusCode, Json<NoteSaved>), ApiError> {
    let id = survivor_id(&id)?;
    let area = match body.area.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(a) => Some(PlanArea::parse(a).map_err(bad)?),
    };
    let saved = case_notes::add(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        id,
        &NoteInput {
            area,
            confidential: body.confidential,
            body: body.body,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(NoteSaved {
            id: saved.id.to_string(),
            neutralised: saved.neutralised,
            message: saved.neutralised.then(|| {
                "the note was saved without formatting or code that Haven does not keep (scripts, styles, links, images)".to_owned()
            }),
        }),
    ))
}
