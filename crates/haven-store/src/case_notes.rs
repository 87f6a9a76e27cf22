//! Case notes: rich text sanitised to simple formatting before it is sealed, attached to an
//! area of her plan (or to none). A confidential note is read only by her assigned
//! caseworkers; a partner reads only notes on the areas referred to it, never confidential ones.

use crate::case_access::{self, open_text, Case};
use crate::clock::{new_id, now};
use crate::crypto::{DataKey, Keyring};
use crate::users::User;
use crate::{on_pool, on_tx, Db, StoreError};
use chrono::{DateTime, Utc};
use haven_core::casework::{looks_like_html, note_was_neutralised, sanitise_note, PlanArea};
use haven_core::policy::Action;
use haven_core::{FieldClass, RequestContext, SurvivorId};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct NoteInput {
    pub area: Option<PlanArea>,
    pub confidential: bool,
    /// As typed: HTML from the editor, or plain text (kept as paragraphs, escaped).
    pub body: String,
}

/// What was saved, and whether sanitising removed something (so the page can say so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedNote {
    pub id: Uuid,
    pub neutralised: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteView {
    pub id: Uuid,
    pub area: Option<PlanArea>,
    pub confidential: bool,
    /// Sanitised HTML (safe to render as it is).
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

fn class_of(area: Option<PlanArea>) -> FieldClass {
    area.map_or(FieldClass::Psychosocial, PlanArea::class)
}

/// Adds a note. Plain text is kept as paragraphs; HTML is sanitised.
pub async fn add(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    input: &NoteInput,
) -> Result<SavedNote, StoreError> {
    let at = now();
    let case = Case::open(db, user, id, at).await?;
    case.require_not_erased()?;
    case.require(user, Action::ManageCase)?;
    let typed = if looks_like_html(&input.body) {
        input.body.clone()
    } else {
        plain_to_html(&input.body)
    };
    let clean = sanitise_note(&typed)?;
    let neutralised = note_was_neutralised(&typed, &clean);
    let key = case.key(db, keyring).await?;
    let nid = new_id();
    let sealed = key.seal(nid, "note.body", &clean);
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO case_notes (id, survivor_id, area, confidential, body, author, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(nid)
    .bind(case.id())
    .bind(input.area.map(PlanArea::as_str))
    .bind(input.confidential)
    .bind(sealed.as_bytes())
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    case_access::audit(&mut tx, ctx, "note.add", case.id(), &["body"], None).await?;
    tx.commit().await?;
    Ok(SavedNote {
        id: nid,
        neutralised,
    })
}

/// Plain text as paragraphs, escaped (so "<" typed as text stays text).
fn plain_to_html(text: &str) -> String {
    text.split("\n\n")
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let escaped = p
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('\n', "<br>");
            format!("<p>{escaped}</p>")
        })
        .collect()
}

pub(crate) async fn notes_in(
    db: &Db,
    key: &DataKey,
    case: &Case,
    user: &User,
) -> Result<Vec<NoteView>, StoreError> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(Uuid, Option<String>, bool, Vec<u8>, Uuid, DateTime<Utc>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, area, confidential, body, author, created_at FROM case_notes
         WHERE survivor_id = $1 ORDER BY created_at DESC",
    )
    .bind(case.id())
    .fetch_all(pool)
    .await?);
    let referred = if case.as_partner() {
        crate::care_services::partner_areas(db, case.id(), user.org_id.as_uuid()).await?
    } else {
        Vec::new()
    };
    let reads_confidential = case.allows(user, Action::ReadConfidential);
    let names = case_access::user_names(db, &rows.iter().map(|r| r.4).collect::<Vec<_>>()).await?;
    let mut out = Vec::new();
    for (nid, area, confidential, body, author, created_at) in rows {
        let area = area.as_deref().map(PlanArea::parse).transpose()?;
        let visible = if confidential && !reads_confidential {
            false
        } else if case.as_partner() {
            area.is_some_and(|a| referred.contains(&a))
        } else {
            case.allows(user, Action::Read(class_of(area)))
        };
        if !visible {
            continue;
        }
        out.push(NoteView {
            id: nid,
            area,
            confidential,
            body: open_text(key, nid, "note.body", body)?,
            author: names.get(&author).cloned().unwrap_or_default(),
            created_at,
        });
    }
    Ok(out)
}

/// Her notes the user may read, newest first. Audited.
pub async fn list(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
) -> Result<Vec<NoteView>, StoreError> {
    let case = Case::open(db, user, id, now()).await?;
    let key = case.key(db, keyring).await?;
    let out = notes_in(db, &key, &case, user).await?;
    case_access::audit_read(db, ctx, "note.list", case.id(), &["body"]).await?;
    Ok(out)
}
