//! Which services each partner organisation provides (the taxonomy of
//! [`haven_core::PartnerService`]). Placement rules read it: a minor goes first to an
//! assessment centre.

use crate::audit::{self, AuditRecord};
use crate::{on_pool, on_tx, Db, StoreError, Tx};
use haven_core::{OrgId, PartnerService, RequestContext};

/// Replaces the services of `org` inside an open transaction, audited there.
pub async fn set_in(
    tx: &mut Tx,
    ctx: &RequestContext,
    org: OrgId,
    services: &[PartnerService],
) -> Result<(), StoreError> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM partner_services WHERE org_id = $1")
        .bind(org.as_uuid())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    let mut sorted = services.to_vec();
    sorted.sort();
    sorted.dedup();
    for service in sorted {
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO partner_services (org_id, service) VALUES ($1, $2)",
        )
        .bind(org.as_uuid())
        .bind(service.as_str())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    audit::append(
        tx,
        ctx,
        &AuditRecord {
            action: "org.services",
            entity: "organisation",
            entity_id: Some(org.to_string()),
            fields: &["services"],
            reason: None,
        },
    )
    .await
}

/// The services `org` provides, in taxonomy order.
pub async fn of(db: &Db, org: OrgId) -> Result<Vec<PartnerService>, StoreError> {
    let names: Vec<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT service FROM partner_services WHERE org_id = $1",
    )
    .bind(org.as_uuid())
    .fetch_all(pool)
    .await?);
    let mut services = names
        .iter()
        .map(|n| {
            PartnerService::parse(n)
                .map_err(|e| StoreError::Internal(format!("stored partner service: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    services.sort();
    Ok(services)
}
