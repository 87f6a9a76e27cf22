//! The access context every case-management read and write starts from: her record, the
//! policy's facts about it, why the user may see it, and her data key. One place, so each
//! module asks the policy the same way and refuses in the same words.

use crate::crypto::{DataKey, Keyring, Sealed};
use crate::survivors::{self, subject, SurvivorRow};
use crate::users::User;
use crate::{on_pool, Db, StoreError, Tx};
use chrono::{DateTime, NaiveDate, Utc};
use haven_core::casework::PlanArea;
use haven_core::policy::{decide, Action, Decision, Grant, RecordFacts};
use haven_core::{RequestContext, SurvivorId};
use uuid::Uuid;

/// Her record as the acting user may approach it.
pub(crate) struct Case {
    pub(crate) row: SurvivorRow,
    pub(crate) facts: RecordFacts,
    /// Why the user may see the record at all.
    pub(crate) grant: Grant,
    pub(crate) at: DateTime<Utc>,
}

impl Case {
    /// Opens her record for `user`: "not found" when the user may not know it exists.
    pub(crate) async fn open(
        db: &Db,
        user: &User,
        id: SurvivorId,
        at: DateTime<Utc>,
    ) -> Result<Case, StoreError> {
        let (row, facts, grant) = survivors::visible(db, user, id, at).await?;
        Ok(Case {
            row,
            facts,
            grant,
            at,
        })
    }

    pub(crate) fn id(&self) -> Uuid {
        self.row.id
    }

    pub(crate) fn decide(&self, user: &User, action: Action) -> Decision {
        decide(&subject(user), action, &self.facts, self.at)
    }

    pub(crate) fn allows(&self, user: &User, action: Action) -> bool {
        self.decide(user, action).is_allowed()
    }

    /// Refuses with the policy's reason when `user` may not take `action`.
    pub(crate) fn require(&self, user: &User, action: Action) -> Result<(), StoreError> {
        match self.decide(user, action) {
            Decision::Allow(_) => Ok(()),
            Decision::Deny(why) => Err(StoreError::Forbidden(why.message().to_owned())),
        }
    }

    /// Whether the user sees her only as partner staff she was referred to.
    pub(crate) fn as_partner(&self) -> bool {
        self.grant == Grant::PartnerConsent
    }

    /// Whether the user may read what is written in `area`, owned (for partners) by
    /// `responsible_org`. A partner reads an area only when it was referred to it.
    pub(crate) fn reads_area(
        &self,
        user: &User,
        area: PlanArea,
        responsible_org: Option<Uuid>,
    ) -> bool {
        if self.as_partner() {
            return responsible_org == Some(user.org_id.as_uuid())
                && self.allows(user, Action::See);
        }
        self.allows(user, Action::Read(area.class()))
    }

    /// Refuses a write to `area` of her case with the policy's reason: it is managing her
    /// case (which the crisis team may not) and writing that area's class.
    pub(crate) fn require_write(&self, user: &User, area: PlanArea) -> Result<(), StoreError> {
        self.require(user, Action::ManageCase)?;
        self.require(user, Action::Write(area.class()))
    }

    /// Her records can no longer be written once she was erased.
    pub(crate) fn require_not_erased(&self) -> Result<(), StoreError> {
        if self.row.erased_at.is_some() {
            return Err(StoreError::Conflict(
                "her record was erased; nothing more can be added to it".into(),
            ));
        }
        Ok(())
    }

    /// Her data key; an erased record has none.
    pub(crate) async fn key(&self, db: &Db, keyring: &Keyring) -> Result<DataKey, StoreError> {
        survivors::data_key(db, keyring, self.row.id)
            .await?
            .ok_or_else(|| {
                StoreError::Conflict("her record was erased; its contents cannot be read".into())
            })
    }

    /// The day she was rescued, when an intake recorded it.
    pub(crate) async fn rescued_on(&self, db: &Db) -> Result<Option<NaiveDate>, StoreError> {
        let rescued: Option<DateTime<Utc>> = on_pool!(db, pool => sqlx::query_scalar(
            "SELECT min(rescued_at) FROM care_episodes WHERE survivor_id = $1",
        )
        .bind(self.row.id)
        .fetch_one(pool)
        .await?);
        Ok(rescued.map(crate::clock::team_date))
    }
}

/// Opens a sealed text; a value that does not open means tampering or a wrong key.
pub(crate) fn open_text(
    key: &DataKey,
    record: Uuid,
    field: &str,
    sealed: Vec<u8>,
) -> Result<String, StoreError> {
    key.open(record, field, &Sealed::new(sealed))
        .map_err(|e| StoreError::Internal(format!("{field} of {record}: {e}")))
}

/// Appends the audit event of a case-management action inside `tx` (field names only).
pub(crate) async fn audit(
    tx: &mut Tx,
    ctx: &RequestContext,
    action: &str,
    survivor: Uuid,
    fields: &[&str],
    reason: Option<&str>,
) -> Result<(), StoreError> {
    survivors::audit(tx, ctx, action, survivor, fields, reason).await
}

/// Audits a read in a transaction of its own.
pub(crate) async fn audit_read(
    db: &Db,
    ctx: &RequestContext,
    action: &str,
    survivor: Uuid,
    fields: &[&str],
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    audit(&mut tx, ctx, action, survivor, fields, None).await?;
    tx.commit().await
}

/// Display names of users, for "who did it" columns.
pub(crate) async fn user_names(
    db: &Db,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, StoreError> {
    let mut out = std::collections::HashMap::new();
    let mut wanted: Vec<Uuid> = ids.to_vec();
    wanted.sort();
    wanted.dedup();
    for id in wanted {
        let name: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
            "SELECT display_name FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        if let Some(name) = name {
            out.insert(id, name);
        }
    }
    Ok(out)
}
