//! Survivor records. The only functions that return survivor data: each takes the acting user
//! and applies the access policy field by field, so a field the policy refuses is absent from
//! the result (not blank), and a record the user may not see is "not found".
//!
//! Every field is encrypted with the survivor's own data key (see [`crate::crypto`]).

use crate::clock::{new_id, now};
use crate::crypto::{DataKey, Keyring, Sealed};
use crate::error::conflict_on_unique;
use crate::users::User;
use crate::{on_pool, on_tx, Db, StoreError, Tx};
use chrono::{DateTime, Utc};
use haven_core::policy::{
    decide, Action, Decision, Grant, PartnerShare, RecordFacts, Subject, BREAK_GLASS_DURATION,
};
use haven_core::survivor::{normalise_name, normalise_phone};
use haven_core::{
    FieldClass, OrgId, Reference, RequestContext, SurvivorField, SurvivorId, UserId,
    ValidationError,
};
use std::collections::BTreeMap;
use uuid::Uuid;

/// What a user may see of a record: its reference always, and only the fields the policy
/// allows her.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurvivorView {
    pub id: SurvivorId,
    pub reference: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub erased: bool,
    /// Changes with every save; a save based on an older version is refused.
    pub version: i64,
    /// Why the user may see the record.
    pub access: Grant,
    pub fields: BTreeMap<SurvivorField, String>,
}

/// A line of a list: never any field, only the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurvivorSummary {
    pub id: SurvivorId,
    pub reference: String,
    pub created_at: DateTime<Utc>,
    pub erased: bool,
}

/// Who shares: a partner organisation, or the legal team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Partner(OrgId),
    Legal,
}

/// Appends the audit event of a survivor action inside `tx`. Field names only, never values.
pub(crate) async fn audit(
    tx: &mut Tx,
    ctx: &RequestContext,
    action: &str,
    id: Uuid,
    fields: &[&str],
    reason: Option<&str>,
) -> Result<(), StoreError> {
    crate::audit::append(
        tx,
        ctx,
        &crate::audit::AuditRecord {
            action,
            entity: "survivor",
            entity_id: Some(id.to_string()),
            fields,
            reason,
        },
    )
    .await
}

/// The policy's view of the acting user.
pub fn subject(user: &User) -> Subject<'_> {
    Subject {
        user: user.id,
        org: user.org_id,
        org_kind: user.org_kind,
        roles: &user.roles,
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SurvivorRow {
    pub(crate) id: Uuid,
    pub(crate) reference: String,
    pub(crate) owner_org: Uuid,
    pub(crate) created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    pub(crate) erased_at: Option<DateTime<Utc>>,
    version: i64,
}

const SURVIVOR_COLUMNS: &str =
    "id, reference, owner_org, created_at, updated_at, erased_at, version";

pub(crate) async fn row(db: &Db, id: Uuid) -> Result<Option<SurvivorRow>, StoreError> {
    let sql = format!("SELECT {SURVIVOR_COLUMNS} FROM survivors WHERE id = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
}

/// audience (or `in_care`), organisation, classes, since.
type ShareRow = (String, Option<Uuid>, String, Option<DateTime<Utc>>);

/// Assignment, consent, care and break-glass facts of one record, as the policy needs them.
/// They are the same whoever asks (every break-glass grant in force is listed, not only the
/// asker's), so the list of who may read her comes from the very facts each decision reads.
pub(crate) async fn facts(
    db: &Db,
    survivor: &SurvivorRow,
    _asking: UserId,
    at: DateTime<Utc>,
) -> Result<RecordFacts, StoreError> {
    let assignees: Vec<Uuid> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM survivor_assignments WHERE survivor_id = $1",
    )
    .bind(survivor.id)
    .fetch_all(pool)
    .await?);
    // Her consents in force, and the partners whose care she is in (admitted), in one query.
    let shares: Vec<ShareRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT audience, org_id, classes, granted_at FROM survivor_shares
         WHERE survivor_id = $1 AND withdrawn_at IS NULL
         UNION ALL
         SELECT 'in_care', org_id, '', admitted_at FROM referrals
         WHERE survivor_id = $1 AND status = 'admitted'",
    )
    .bind(survivor.id)
    .fetch_all(pool)
    .await?);
    let break_glass: Vec<(Uuid, DateTime<Utc>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT user_id, max(expires_at) FROM break_glass WHERE survivor_id = $1 AND expires_at > $2 GROUP BY user_id",
    )
    .bind(survivor.id)
    .bind(at)
    .fetch_all(pool)
    .await?);
    // Only shifts on duty at `at` count: a shift booked for later, one long over, or a
    // cancelled one grants nothing.
    let (latest_start, earliest_end) = haven_core::crisis::crisis_duty_bounds(at);
    let crisis_team: Vec<Uuid> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT r.user_id FROM care_episodes e
         JOIN roster_shifts r ON r.intervention_id = e.intervention_id
         WHERE e.survivor_id = $1 AND e.placed_at IS NULL AND r.cancelled_at IS NULL
           AND r.starts_at <= $2 AND r.ends_at > $3",
    )
    .bind(survivor.id)
    .bind(latest_start)
    .bind(earliest_end)
    .fetch_all(pool)
    .await?);
    let mut facts = RecordFacts {
        owner_org: Some(OrgId::from_uuid(survivor.owner_org)),
        assignees: assignees.into_iter().map(UserId::from_uuid).collect(),
        break_glass: break_glass
            .into_iter()
            .map(|(user, until)| (UserId::from_uuid(user), until))
            .collect(),
        crisis_team: crisis_team.into_iter().map(UserId::from_uuid).collect(),
        ..RecordFacts::default()
    };
    for (audience, org, classes, since) in shares {
        let since = since.unwrap_or(survivor.created_at);
        match (audience.as_str(), org) {
            ("partner", Some(org)) => facts.partner_shares.push(PartnerShare {
                org: OrgId::from_uuid(org),
                classes: FieldClass::parse_list(&classes).unwrap_or_default(),
                since,
            }),
            ("legal", _) => {
                facts
                    .legal_classes
                    .extend(FieldClass::parse_list(&classes).unwrap_or_default());
                facts.legal_since = Some(facts.legal_since.map_or(since, |s| s.min(since)));
            }
            ("in_care", Some(org)) => facts.in_care_with.push((OrgId::from_uuid(org), since)),
            _ => {}
        }
    }
    facts.legal_classes.sort();
    facts.legal_classes.dedup();
    Ok(facts)
}

/// Loads a record the user may see, with its facts; "not found" when she may not.
pub(crate) async fn visible(
    db: &Db,
    user: &User,
    id: SurvivorId,
    at: DateTime<Utc>,
) -> Result<(SurvivorRow, RecordFacts, Grant), StoreError> {
    let Some(survivor) = row(db, id.as_uuid()).await? else {
        return Err(StoreError::NotFound("survivor"));
    };
    let facts = facts(db, &survivor, user.id, at).await?;
    match decide(&subject(user), Action::See, &facts, at) {
        Decision::Allow(grant) => Ok((survivor, facts, grant)),
        Decision::Deny(_) => Err(StoreError::NotFound("survivor")),
    }
}

pub(crate) async fn data_key(
    db: &Db,
    keyring: &Keyring,
    id: Uuid,
) -> Result<Option<DataKey>, StoreError> {
    let found: Option<(Uuid, Option<Vec<u8>>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT master_key_id, wrapped_key FROM survivor_keys WHERE survivor_id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?);
    match found {
        Some((key_id, Some(wrapped))) => keyring
            .unwrap(key_id, &wrapped, id)
            .map(Some)
            .map_err(|e| StoreError::Internal(format!("survivor {id}: {e}"))),
        _ => Ok(None),
    }
}

fn validate_fields(
    fields: &[(SurvivorField, String)],
) -> Result<Vec<(SurvivorField, String)>, StoreError> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for (field, value) in fields {
        if seen.contains(field) {
            return Err(ValidationError::new(field.as_str(), "is given twice").into());
        }
        seen.push(*field);
        out.push((*field, field.validate(value)?));
    }
    Ok(out)
}

/// The blind-index digests of a record's searchable fields.
fn lookups(
    keyring: &Keyring,
    fields: &BTreeMap<SurvivorField, String>,
) -> Vec<(&'static str, Vec<u8>)> {
    let mut digests = Vec::new();
    for field in [SurvivorField::Name, SurvivorField::Aliases] {
        if let Some(value) = fields.get(&field) {
            for name in value.split([',', ';']) {
                let normalised = normalise_name(name);
                if !normalised.is_empty() {
                    digests.push(("name", keyring.blind_index("name", &normalised)));
                }
            }
        }
    }
    if let Some(phone) = fields
        .get(&SurvivorField::Phone)
        .and_then(|p| normalise_phone(p))
    {
        digests.push(("phone", keyring.blind_index("phone", &phone)));
    }
    digests.sort();
    digests.dedup();
    digests
}

async fn write_lookups(
    tx: &mut Tx,
    id: Uuid,
    digests: &[(&'static str, Vec<u8>)],
) -> Result<(), StoreError> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM survivor_lookup WHERE survivor_id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    for (kind, digest) in digests {
        on_tx!(tx, conn => sqlx::query("INSERT INTO survivor_lookup (survivor_id, kind, digest) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(*kind)
            .bind(digest)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Registers a survivor. The creating caseworker is assigned to her.
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn create(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    reference: &Reference,
    fields: &[(SurvivorField, String)],
) -> Result<SurvivorId, StoreError> {
    let at = now();
    let mut tx = db.begin().await?;
    let id = create_in(&mut tx, keyring, user, ctx, reference, fields, at).await?;
    tx.commit().await?;
    Ok(id)
}

/// Registers a survivor inside an open transaction (intake adds her crisis-care episode in
/// the same one). Policy and validation are checked here too.
pub(crate) async fn create_in(
    tx: &mut Tx,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    reference: &Reference,
    fields: &[(SurvivorField, String)],
    at: DateTime<Utc>,
) -> Result<SurvivorId, StoreError> {
    if let Decision::Deny(why) = decide(&subject(user), Action::Create, &RecordFacts::default(), at)
    {
        return Err(StoreError::Forbidden(why.message().to_owned()));
    }
    let fields = validate_fields(fields)?;
    haven_core::survivor::check_intake(
        &fields.iter().cloned().collect(),
        crate::clock::team_date(at),
    )?;
    let id = new_id();
    let data_key = DataKey::generate();
    let (key_id, wrapped) = keyring.wrap(&data_key, id);
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO survivors (id, reference, owner_org, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(id)
    .bind(reference.as_str())
    .bind(user.org_id.as_uuid())
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| conflict_on_unique(e, &format!("the reference {} is already in use", reference.as_str())))?;
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO survivor_keys (survivor_id, master_key_id, wrapped_key) VALUES ($1, $2, $3)",
    )
    .bind(id)
    .bind(key_id)
    .bind(wrapped)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    for (field, value) in &fields {
        let sealed = data_key.seal(id, field.as_str(), value);
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO survivor_fields (survivor_id, field, sealed, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(field.as_str())
        .bind(sealed.as_bytes())
        .bind(at)
        .bind(user.id.as_uuid())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    let map: BTreeMap<SurvivorField, String> = fields.into_iter().collect();
    write_lookups(tx, id, &lookups(keyring, &map)).await?;
    if user.roles.contains(haven_core::Role::Aftercare) {
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO survivor_assignments (survivor_id, user_id, assigned_at) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(user.id.as_uuid())
        .bind(at)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    let names: Vec<&str> = map.keys().map(|f| f.as_str()).collect();
    audit(tx, ctx, "survivor.create", id, &names, None).await?;
    Ok(SurvivorId::from_uuid(id))
}

/// Reads a record as `user` may see it.
#[tracing::instrument(skip_all, fields(user = %user.id, survivor = %id))]
pub async fn read(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
) -> Result<SurvivorView, StoreError> {
    let at = now();
    let (survivor, facts, access) = visible(db, user, id, at).await?;
    let mut view = SurvivorView {
        id,
        reference: survivor.reference,
        created_at: survivor.created_at,
        updated_at: survivor.updated_at,
        erased: survivor.erased_at.is_some(),
        version: survivor.version,
        access,
        fields: BTreeMap::new(),
    };
    let Some(data_key) = data_key(db, keyring, survivor.id).await? else {
        let mut tx = db.begin().await?;
        audit(&mut tx, ctx, "survivor.read", survivor.id, &[], None).await?;
        tx.commit().await?;
        return Ok(view);
    };
    let sealed: Vec<(String, Vec<u8>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT field, sealed FROM survivor_fields WHERE survivor_id = $1",
    )
    .bind(survivor.id)
    .fetch_all(pool)
    .await?);
    let who = subject(user);
    for (name, bytes) in sealed {
        let Some(field) = SurvivorField::parse(&name) else {
            continue;
        };
        if !decide(&who, Action::Read(field.class()), &facts, at).is_allowed() {
            continue;
        }
        let value = data_key
            .open(survivor.id, field.as_str(), &Sealed::new(bytes))
            .map_err(|e| {
                StoreError::Internal(format!("survivor {}: field {name}: {e}", survivor.id))
            })?;
        view.fields.insert(field, value);
    }
    let names: Vec<&str> = view.fields.keys().map(|f| f.as_str()).collect();
    let mut tx = db.begin().await?;
    audit(&mut tx, ctx, "survivor.read", survivor.id, &names, None).await?;
    tx.commit().await?;
    Ok(view)
}

/// Changes fields. Every earlier value is kept (encrypted) in the history.
#[tracing::instrument(skip_all, fields(user = %user.id, survivor = %id))]
pub async fn update(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    changes: &[(SurvivorField, String)],
    based_on_version: i64,
) -> Result<(), StoreError> {
    let at = now();
    let (survivor, facts, _) = visible(db, user, id, at).await?;
    if survivor.erased_at.is_some() {
        return Err(StoreError::Conflict(
            "this record was erased and cannot be changed".to_owned(),
        ));
    }
    let changes = validate_fields(changes)?;
    let who = subject(user);
    for (field, _) in &changes {
        if let Decision::Deny(why) = decide(&who, Action::Write(field.class()), &facts, at) {
            return Err(StoreError::Forbidden(format!(
                "{}: {}",
                field.as_str(),
                why.message()
            )));
        }
    }
    let data_key = data_key(db, keyring, survivor.id).await?.ok_or_else(|| {
        StoreError::Conflict("this record was erased and cannot be changed".to_owned())
    })?;
    let mut tx = db.begin().await?;
    // Claim the next version first: of two saves based on the same version, the second finds
    // none to claim and is refused, before it writes anything.
    let claimed = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE survivors SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3",
    )
    .bind(at)
    .bind(survivor.id)
    .bind(based_on_version)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if claimed == 0 {
        return Err(StoreError::Conflict(
            "someone else changed this record since you opened it; nothing was saved. Open it again to see their changes, then make yours"
                .to_owned(),
        ));
    }
    let mut current = current_fields(&mut tx, &data_key, survivor.id).await?;
    for (field, value) in &changes {
        current.insert(*field, value.clone());
    }
    haven_core::survivor::check_intake(&current, crate::clock::team_date(at))?;
    for (field, value) in &changes {
        let previous: Option<(Vec<u8>, DateTime<Utc>)> = on_tx!(&mut tx, conn => sqlx::query_as(
            "SELECT sealed, updated_at FROM survivor_fields WHERE survivor_id = $1 AND field = $2",
        )
        .bind(survivor.id)
        .bind(field.as_str())
        .fetch_optional(conn)
        .await?);
        if let Some((old, valid_from)) = previous {
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO survivor_field_history (id, survivor_id, field, sealed, valid_from, replaced_at, replaced_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(new_id())
            .bind(survivor.id)
            .bind(field.as_str())
            .bind(old)
            .bind(valid_from)
            .bind(at)
            .bind(user.id.as_uuid())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        }
        let sealed = data_key.seal(survivor.id, field.as_str(), value);
        let sql = crate::dialect::upsert(
            db.backend(),
            "survivor_fields (survivor_id, field, sealed, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)",
            "survivor_id, field",
            "sealed = $3, updated_at = $4, updated_by = $5",
        );
        on_tx!(&mut tx, conn => sqlx::query(&sql)
            .bind(survivor.id)
            .bind(field.as_str())
            .bind(sealed.as_bytes())
            .bind(at)
            .bind(user.id.as_uuid())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
    }
    if changes.iter().any(|(f, _)| {
        matches!(
            f,
            SurvivorField::Name | SurvivorField::Aliases | SurvivorField::Phone
        )
    }) {
        // Rebuild the look-ups from the full, current record.
        write_lookups(&mut tx, survivor.id, &lookups(keyring, &current)).await?;
    }
    if let Some(languages) = current.get(&SurvivorField::Languages) {
        // Crisis care follows her languages as they become known.
        let needed = haven_core::crisis::staff_language_for(Some(languages))?;
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE care_episodes SET staff_language_needed = $1 WHERE survivor_id = $2 AND placed_at IS NULL",
        )
        .bind(needed)
        .bind(survivor.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    let names: Vec<&str> = changes.iter().map(|(f, _)| f.as_str()).collect();
    audit(&mut tx, ctx, "survivor.update", survivor.id, &names, None).await?;
    tx.commit().await
}

/// An earlier value of one field: what it was, from when, and who replaced it when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub field: SurvivorField,
    pub value: String,
    pub valid_from: DateTime<Utc>,
    pub replaced_at: DateTime<Utc>,
    pub replaced_by: Option<String>,
}

/// field, sealed value, valid from, replaced at, replaced by.
type RevisionRow = (
    String,
    Vec<u8>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<String>,
);

/// The history of her record, newest change first: only fields of classes the user may read.
/// Audited like a read.
pub async fn history(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
) -> Result<Vec<Revision>, StoreError> {
    let at = now();
    let (survivor, facts, _) = visible(db, user, id, at).await?;
    let Some(key) = data_key(db, keyring, survivor.id).await? else {
        return Ok(Vec::new());
    };
    let rows: Vec<RevisionRow> = on_pool!(db, pool => sqlx::query_as(
            "SELECT h.field, h.sealed, h.valid_from, h.replaced_at, u.display_name
             FROM survivor_field_history h LEFT JOIN users u ON u.id = h.replaced_by
             WHERE h.survivor_id = $1 ORDER BY h.replaced_at DESC, h.id DESC LIMIT 500",
        )
        .bind(survivor.id)
        .fetch_all(pool)
        .await?);
    let who = subject(user);
    let mut out = Vec::new();
    let mut names: Vec<&'static str> = Vec::new();
    for (name, sealed, valid_from, replaced_at, replaced_by) in rows {
        let Some(field) = SurvivorField::parse(&name) else {
            continue;
        };
        if !decide(&who, Action::Read(field.class()), &facts, at).is_allowed() {
            continue;
        }
        let value = key
            .open(survivor.id, field.as_str(), &Sealed::new(sealed))
            .map_err(|e| StoreError::Internal(format!("survivor {}: {name}: {e}", survivor.id)))?;
        if !names.contains(&field.as_str()) {
            names.push(field.as_str());
        }
        out.push(Revision {
            field,
            value,
            valid_from,
            replaced_at,
            replaced_by,
        });
    }
    let mut tx = db.begin().await?;
    audit(&mut tx, ctx, "survivor.history", survivor.id, &names, None).await?;
    tx.commit().await?;
    Ok(out)
}

/// Every field of her record as stored, decrypted (for checks across fields; never returned).
async fn current_fields(
    tx: &mut Tx,
    data_key: &DataKey,
    id: Uuid,
) -> Result<BTreeMap<SurvivorField, String>, StoreError> {
    let sealed: Vec<(String, Vec<u8>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT field, sealed FROM survivor_fields WHERE survivor_id = $1",
    )
    .bind(id)
    .fetch_all(conn)
    .await?);
    let mut map = BTreeMap::new();
    for (name, bytes) in sealed {
        if let Some(field) = SurvivorField::parse(&name) {
            let value = data_key
                .open(id, &name, &Sealed::new(bytes))
                .map_err(|e| StoreError::Internal(format!("survivor {id}: field {name}: {e}")))?;
            map.insert(field, value);
        }
    }
    Ok(map)
}

/// One page of the records `user` may see, by ID (time order). Only references, no fields.
pub async fn list(
    db: &Db,
    user: &User,
    after: Option<SurvivorId>,
    limit: u32,
) -> Result<Vec<SurvivorSummary>, StoreError> {
    let limit = limit.clamp(1, 200) as usize;
    let at = now();
    let mut cursor = after.map(|a| a.as_uuid()).unwrap_or(Uuid::nil());
    let mut out = Vec::new();
    // Candidates are scanned in pages and filtered by the policy until the page is full.
    loop {
        let sql =
            format!("SELECT {SURVIVOR_COLUMNS} FROM survivors WHERE id > $1 ORDER BY id LIMIT 200");
        let rows: Vec<SurvivorRow> =
            on_pool!(db, pool => sqlx::query_as(&sql).bind(cursor).fetch_all(pool).await?);
        let Some(last) = rows.last() else { break };
        cursor = last.id;
        let scanned = rows.len();
        for survivor in rows {
            let facts = facts(db, &survivor, user.id, at).await?;
            if decide(&subject(user), Action::See, &facts, at).is_allowed() {
                out.push(SurvivorSummary {
                    id: SurvivorId::from_uuid(survivor.id),
                    reference: survivor.reference,
                    created_at: survivor.created_at,
                    erased: survivor.erased_at.is_some(),
                });
                if out.len() == limit {
                    return Ok(out);
                }
            }
        }
        if scanned < 200 {
            break;
        }
    }
    Ok(out)
}

/// Exact look-up by name or phone number through the blind index; only records `user` may see.
pub async fn find(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    name: Option<&str>,
    phone: Option<&str>,
) -> Result<Vec<SurvivorSummary>, StoreError> {
    let (kind, digest) = match (name, phone) {
        (Some(name), _) => ("name", keyring.blind_index("name", &normalise_name(name))),
        (None, Some(phone)) => {
            let normalised = normalise_phone(phone)
                .ok_or_else(|| ValidationError::new("phone", "is not a phone number"))?;
            ("phone", keyring.blind_index("phone", &normalised))
        }
        (None, None) => return Ok(Vec::new()),
    };
    let ids: Vec<Uuid> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT survivor_id FROM survivor_lookup WHERE kind = $1 AND digest = $2 LIMIT 100",
    )
    .bind(kind)
    .bind(digest)
    .fetch_all(pool)
    .await?);
    let at = now();
    let mut out = Vec::new();
    for id in ids {
        if let Ok((survivor, _, _)) = visible(db, user, SurvivorId::from_uuid(id), at).await {
            out.push(SurvivorSummary {
                id: SurvivorId::from_uuid(survivor.id),
                reference: survivor.reference,
                created_at: survivor.created_at,
                erased: survivor.erased_at.is_some(),
            });
        }
    }
    Ok(out)
}

/// Emergency access outside one's assignment, for [`BREAK_GLASS_DURATION`], with a written
/// reason that managers see.
pub async fn break_glass(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    reason: &str,
) -> Result<DateTime<Utc>, StoreError> {
    let reason = reason.trim();
    if reason.chars().count() < 10 {
        return Err(ValidationError::new(
            "reason",
            "explain in a sentence why you need this record now (at least 10 characters)",
        )
        .into());
    }
    if reason.chars().count() > 1000 {
        return Err(ValidationError::new("reason", "must be at most 1000 characters").into());
    }
    let at = now();
    let Some(survivor) = row(db, id.as_uuid()).await? else {
        return Err(StoreError::NotFound("survivor"));
    };
    let facts = facts(db, &survivor, user.id, at).await?;
    match decide(&subject(user), Action::BreakGlass, &facts, at) {
        Decision::Allow(_) => {}
        Decision::Deny(
            haven_core::policy::Refusal::OtherOrganisation
            | haven_core::policy::Refusal::Compartment,
        ) => return Err(StoreError::NotFound("survivor")),
        Decision::Deny(why) => return Err(StoreError::Forbidden(why.message().to_owned())),
    }
    let expires = at + BREAK_GLASS_DURATION;
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO break_glass (id, survivor_id, user_id, reason, granted_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(survivor.id)
    .bind(user.id.as_uuid())
    .bind(reason)
    .bind(at)
    .bind(expires)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    audit(
        &mut tx,
        ctx,
        "survivor.break_glass",
        survivor.id,
        &[],
        Some(reason),
    )
    .await?;
    tx.commit().await?;
    tracing::warn!(user = %user.id, survivor = %survivor.id, "break-glass access granted");
    Ok(expires)
}

/// A break-glass grant, as shown to managers.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BreakGlassEntry {
    pub username: String,
    pub display_name: String,
    pub reference: String,
    pub reason: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Recent break-glass grants in the manager's organisation, newest first. Managers only.
pub async fn break_glass_log(
    db: &Db,
    user: &User,
    limit: u32,
) -> Result<Vec<BreakGlassEntry>, StoreError> {
    if !user.roles.contains(haven_core::Role::Manager) || user.org_kind != haven_core::OrgKind::Own
    {
        return Err(StoreError::Forbidden(
            "only managers see break-glass access".to_owned(),
        ));
    }
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT u.username, u.display_name, s.reference, b.reason, b.granted_at, b.expires_at
         FROM break_glass b JOIN users u ON u.id = b.user_id JOIN survivors s ON s.id = b.survivor_id
         WHERE s.owner_org = $1 ORDER BY b.granted_at DESC LIMIT $2",
    )
    .bind(user.org_id.as_uuid())
    .bind(i64::from(limit.clamp(1, 200)))
    .fetch_all(pool)
    .await?))
}

/// Records her consent to share classes of information with an audience.
pub async fn share(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    audience: Audience,
    classes: &[FieldClass],
) -> Result<Uuid, StoreError> {
    let at = now();
    let survivor = permitted(db, user, id, Action::Share, at).await?;
    if classes.is_empty() {
        return Err(ValidationError::new(
            "classes",
            "choose at least one kind of information to share",
        )
        .into());
    }
    let (kind, org) = match audience {
        Audience::Partner(org) => ("partner", Some(org.as_uuid())),
        Audience::Legal => ("legal", None),
    };
    let share_id = new_id();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO survivor_shares (id, survivor_id, audience, org_id, classes, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(share_id)
    .bind(survivor.id)
    .bind(kind)
    .bind(org)
    .bind(FieldClass::join(classes))
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    let class_names: Vec<&str> = classes.iter().map(|c| c.as_str()).collect();
    audit(
        &mut tx,
        ctx,
        &format!("survivor.share.{kind}"),
        survivor.id,
        &class_names,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(share_id)
}

/// Withdraws consent: the audience loses access from this moment. Withdrawing a share with a
/// partner ends every way that partner reads her (every share, consent and open referral to
/// it), as withdrawing a referral's consent does.
pub async fn withdraw_share(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    share_id: Uuid,
) -> Result<(), StoreError> {
    let at = now();
    let survivor = permitted(db, user, id, Action::Share, at).await?;
    let mut tx = db.begin().await?;
    let found: Option<(String, Option<Uuid>)> = on_tx!(&mut tx, conn => sqlx::query_as(
        "SELECT audience, org_id FROM survivor_shares WHERE id = $1 AND survivor_id = $2 AND withdrawn_at IS NULL",
    )
    .bind(share_id)
    .bind(survivor.id)
    .fetch_optional(conn)
    .await?);
    let Some((audience, org)) = found else {
        return Err(StoreError::NotFound("consent"));
    };
    if let (Some(org), "partner") = (org, audience.as_str()) {
        crate::referrals::end_partner_access_in(&mut tx, ctx, user, survivor.id, org, None).await?;
        return tx.commit().await;
    }
    on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE survivor_shares SET withdrawn_at = $1 WHERE id = $2",
    )
    .bind(at)
    .bind(share_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    audit(
        &mut tx,
        ctx,
        "survivor.share.withdraw",
        survivor.id,
        &[],
        None,
    )
    .await?;
    tx.commit().await
}

/// Checks that `user` may take `action` on the record: "not found" when she may not see it,
/// "forbidden" with the reason when she may see it but not do this. Lets the web layer refuse
/// before it validates the rest of a request.
pub async fn ensure_may(
    db: &Db,
    user: &User,
    id: SurvivorId,
    action: Action,
) -> Result<(), StoreError> {
    permitted(db, user, id, action, now()).await.map(|_| ())
}

/// The record, when `user` may see it and take `action` on it.
async fn permitted(
    db: &Db,
    user: &User,
    id: SurvivorId,
    action: Action,
    at: DateTime<Utc>,
) -> Result<SurvivorRow, StoreError> {
    let (survivor, facts, _) = visible(db, user, id, at).await?;
    match decide(&subject(user), action, &facts, at) {
        Decision::Allow(_) => Ok(survivor),
        Decision::Deny(why) => Err(StoreError::Forbidden(why.message().to_owned())),
    }
}

/// Replaces who is assigned to her. Managers only.
pub async fn reassign(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    assignees: &[UserId],
) -> Result<(), StoreError> {
    let at = now();
    let survivor = permitted(db, user, id, Action::Reassign, at).await?;
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query("DELETE FROM survivor_assignments WHERE survivor_id = $1")
        .bind(survivor.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    for assignee in assignees {
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO survivor_assignments (survivor_id, user_id, assigned_at) VALUES ($1, $2, $3)",
        )
        .bind(survivor.id)
        .bind(assignee.as_uuid())
        .bind(at)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    audit(&mut tx, ctx, "survivor.reassign", survivor.id, &[], None).await?;
    tx.commit().await
}

/// What an erasure did, for the answer and the record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erasure {
    /// Evidence items linked to her whose key and file were destroyed with her record.
    pub evidence_destroyed: Vec<Uuid>,
    /// Evidence items linked to her kept because a lawyer put them on legal hold before.
    pub evidence_kept_on_legal_hold: Vec<Uuid>,
}

/// Erases her record for good by destroying her data key (crypto-shredding). The rows stay,
/// as unreadable ciphertext, so aggregate counts remain right; her look-up digests go too.
/// Everything sealed with her key (her record, her care, her legal plans, sessions and
/// decisions) becomes unreadable at once; evidence linked to her is destroyed unless it was
/// put on legal hold before. After the commit the SQLite log is emptied into the file, where
/// `secure_delete` has zeroed the old key bytes, so no copy of her key survives on disk.
pub async fn erase(
    db: &Db,
    locker: &crate::evidence::Locker,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    reason: &str,
) -> Result<Erasure, StoreError> {
    if reason.trim().chars().count() < 10 {
        return Err(ValidationError::new(
            "reason",
            "explain why this record is erased (at least 10 characters)",
        )
        .into());
    }
    let at = now();
    let survivor = permitted(db, user, id, Action::Erase, at).await?;
    if survivor.erased_at.is_some() {
        return Err(StoreError::Conflict(
            "this record was already erased".to_owned(),
        ));
    }
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE survivor_keys SET wrapped_key = NULL, destroyed_at = $1 WHERE survivor_id = $2",
    )
    .bind(at)
    .bind(survivor.id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, conn => sqlx::query("DELETE FROM survivor_lookup WHERE survivor_id = $1")
        .bind(survivor.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, conn => sqlx::query("UPDATE survivors SET erased_at = $1, updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(survivor.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    let evidence = crate::evidence::erase_for_survivor(&mut tx, ctx, survivor.id, at).await?;
    let reason = reason.trim();
    let recorded = if evidence.kept_on_legal_hold.is_empty() {
        reason.to_owned()
    } else {
        format!(
            "{reason} (evidence kept on legal hold: {})",
            evidence
                .kept_on_legal_hold
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    audit(
        &mut tx,
        ctx,
        "survivor.erase",
        survivor.id,
        &[],
        Some(&recorded),
    )
    .await?;
    tx.commit().await?;
    locker.remove_files(&evidence.destroyed);
    if let Err(e) = db.checkpoint().await {
        tracing::warn!(error = %e, "the database log could not be emptied after an erasure; it will be at the next checkpoint");
    }
    Ok(Erasure {
        evidence_destroyed: evidence.destroyed,
        evidence_kept_on_legal_hold: evidence.kept_on_legal_hold,
    })
}

/// Her record's ID by its reference, for seeding and tools (no policy: returns no data).
pub(crate) async fn id_by_reference(
    db: &Db,
    reference: &Reference,
) -> Result<Option<SurvivorId>, StoreError> {
    let id: Option<Uuid> = on_pool!(db, pool => sqlx::query_scalar("SELECT id FROM survivors WHERE reference = $1")
        .bind(reference.as_str())
        .fetch_optional(pool)
        .await?);
    Ok(id.map(SurvivorId::from_uuid))
}

/// Her record's ID by its reference, only when `user` may see her record (no data returned;
/// a reference that does not exist and one the user may not see both give `None`).
pub async fn visible_by_reference(
    db: &Db,
    user: &User,
    reference: &str,
) -> Result<Option<SurvivorId>, StoreError> {
    let Ok(reference) = Reference::parse(reference.trim()) else {
        return Ok(None);
    };
    let Some(id) = id_by_reference(db, &reference).await? else {
        return Ok(None);
    };
    match visible(db, user, id, now()).await {
        Ok((survivor, _, _)) if survivor.erased_at.is_none() => Ok(Some(id)),
        Ok(_) | Err(StoreError::NotFound(_) | StoreError::Forbidden(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// How many survivors are registered (erased ones included): an aggregate, no names.
pub async fn count(db: &Db) -> Result<i64, StoreError> {
    Ok(
        on_pool!(db, pool => sqlx::query_scalar("SELECT count(*) FROM survivors").fetch_one(pool).await?),
    )
}

/// How many earlier values of a field are kept (the values stay encrypted).
pub async fn revisions(db: &Db, id: SurvivorId, field: SurvivorField) -> Result<i64, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM survivor_field_history WHERE survivor_id = $1 AND field = $2",
    )
    .bind(id.as_uuid())
    .bind(field.as_str())
    .fetch_one(pool)
    .await?))
}
