//! Organisations: the own organisation and the partner NGOs.

use crate::audit::{self, AuditRecord};
use crate::clock::{new_id, now};
use crate::error::conflict_on_unique;
use crate::{on_pool, on_tx, Db, StoreError, Tx};
use chrono::{DateTime, Utc};
use haven_core::{OrgId, OrgKind, OrgName, RequestContext};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct OrgRow {
    id: Uuid,
    name: String,
    kind: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<OrgRow> for Organisation {
    type Error = StoreError;
    fn try_from(row: OrgRow) -> Result<Self, Self::Error> {
        Ok(Organisation {
            id: OrgId::from_uuid(row.id),
            name: row.name,
            kind: OrgKind::parse(&row.kind)
                .map_err(|e| StoreError::Internal(format!("stored organisation kind: {e}")))?,
            created_at: row.created_at,
        })
    }
}

/// Creates an organisation inside an open transaction, audited in the same transaction.
#[tracing::instrument(skip_all, fields(kind = kind.as_str()))]
pub async fn create_in(
    tx: &mut Tx,
    ctx: &RequestContext,
    name: &OrgName,
    kind: OrgKind,
) -> Result<OrgId, StoreError> {
    let id = new_id();
    let at = now();
    let message = match kind {
        OrgKind::Own => format!(
            "cannot add '{}': an organisation of that name exists, or the own organisation is already set",
            name.as_str()
        ),
        OrgKind::Partner => format!("an organisation named '{}' already exists", name.as_str()),
    };
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO organisations (id, name, kind, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(id)
    .bind(name.as_str())
    .bind(kind.as_str())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| conflict_on_unique(e, &message))?;
    audit::append(
        tx,
        ctx,
        &AuditRecord {
            action: "org.create",
            entity: "organisation",
            entity_id: Some(id.to_string()),
            fields: &["name", "kind"],
            reason: None,
        },
    )
    .await?;
    Ok(OrgId::from_uuid(id))
}

/// Creates an organisation in its own transaction.
pub async fn create(
    db: &Db,
    ctx: &RequestContext,
    name: &OrgName,
    kind: OrgKind,
) -> Result<OrgId, StoreError> {
    let mut tx = db.begin().await?;
    let id = create_in(&mut tx, ctx, name, kind).await?;
    tx.commit().await?;
    Ok(id)
}

/// All organisations, the own one first, then partners by name. Organisations are few (tens),
/// so this list is bounded by nature.
pub async fn list(db: &Db) -> Result<Vec<Organisation>, StoreError> {
    let rows: Vec<OrgRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, name, kind, created_at FROM organisations
         ORDER BY CASE kind WHEN 'own' THEN 0 ELSE 1 END, name LIMIT 1000",
    )
    .fetch_all(pool)
    .await?);
    rows.into_iter().map(Organisation::try_from).collect()
}

/// Finds an organisation by its exact name.
pub async fn find_by_name(db: &Db, name: &str) -> Result<Option<Organisation>, StoreError> {
    let row: Option<OrgRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, name, kind, created_at FROM organisations WHERE name = $1",
    )
    .bind(name.trim())
    .fetch_optional(pool)
    .await?);
    row.map(Organisation::try_from).transpose()
}

/// The organisation that runs this instance, if set up.
pub async fn own(db: &Db) -> Result<Option<Organisation>, StoreError> {
    let row: Option<OrgRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, name, kind, created_at FROM organisations WHERE kind = 'own'",
    )
    .fetch_optional(pool)
    .await?);
    row.map(Organisation::try_from).transpose()
}
