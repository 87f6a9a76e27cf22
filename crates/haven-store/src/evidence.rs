//! The evidence locker: files and physical items of a legal case, each with who collected it,
//! when, where and how, its SHA-256, and a chain of custody that is appended, never edited.
//!
//! Files are streamed, never held whole in memory: while an upload arrives, its plaintext is
//! hashed (SHA-256) and encrypted in 64 KiB chunks with the STREAM construction
//! (XChaCha20-Poly1305, `aead::stream`, big-endian 32-bit counter and last-chunk flag) under a
//! data key of its own, wrapped by the master key with the evidence ID as associated data.
//! It is written to a temporary file under `DATA_DIR/evidence/tmp`; only when the whole body
//! has arrived, the type and size checks passed and the file is synced does it move to
//! `DATA_DIR/evidence/<id>.hev` and its row commit. An interrupted upload leaves nothing: the
//! temporary file is removed when the upload is dropped.
//!
//! Every read authenticates each chunk and re-computes the SHA-256; a file that was altered,
//! truncated, swapped or lost is reported as such, never served as if it were sound.

// Rows are decoded as tuples next to the query that names their columns; actions take the
// acting user, the audit context and the case as separate arguments, like the rest of the store.
#![allow(clippy::type_complexity, clippy::too_many_arguments)]

use crate::clock::{new_id, now};
use crate::crypto::{DataKey, Keyring, Sealed};
use crate::legal::{access, audit, audit_read, exec, visible_case};
use crate::users::User;
use crate::{on_pool, on_tx, Db, StoreError};
use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::XChaCha20Poly1305;
use chrono::{DateTime, Utc};
use haven_core::legal::{self, CaseAccess, Stage};
use haven_core::{OrgKind, RequestContext, SurvivorId, Username, ValidationError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Plaintext bytes per encrypted chunk.
const CHUNK: usize = 64 * 1024;
/// Authentication tag per chunk.
const TAG: usize = 16;
/// File header: format tag, then the 19-byte STREAM nonce prefix.
const MAGIC: &[u8; 5] = b"HVEV1";
const NONCE_PREFIX: usize = 19;
/// Bytes gathered before a batch is hashed, encrypted and written on the blocking pool.
const BATCH: usize = 1024 * 1024;
/// Bytes looked at to recognise a file's type.
const SNIFF: usize = 8192;

/// The kinds of evidence.
pub const KINDS: [&str; 6] = [
    "photo",
    "video",
    "audio",
    "document",
    "chat_export",
    "physical",
];
/// What a piece of evidence proves, for the "what is missing" list.
pub const CATEGORIES: [&str; 4] = ["general", "medical_report", "age_evidence", "statement"];

/// Where evidence files live, and the largest file accepted.
#[derive(Debug, Clone)]
pub struct Locker {
    dir: PathBuf,
    max_bytes: u64,
}

impl Locker {
    /// Default largest upload: 8 GiB (a long interview on video).
    pub const DEFAULT_MAX_BYTES: u64 = 8 * 1024 * 1024 * 1024;

    /// Opens (creating if need be) the locker folder and its `tmp/` folder, and clears
    /// temporary files an earlier crash may have left.
    pub fn open(dir: impl Into<PathBuf>, max_bytes: u64) -> Result<Locker, StoreError> {
        let dir = dir.into();
        let tmp = dir.join("tmp");
        crate::private_fs::create_dir_all(&tmp)
            .and_then(|()| crate::private_fs::restrict(&dir))
            .and_then(|_| crate::private_fs::restrict(&tmp))
            .map_err(|e| {
                StoreError::Config(format!(
                    "cannot create the evidence folder {}: {e}",
                    tmp.display()
                ))
            })?;
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Locker { dir, max_bytes })
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Where the encrypted file of an item is kept.
    pub fn path_of(&self, id: Uuid) -> PathBuf {
        self.dir.join(format!("{id}.hev"))
    }

    fn temp_path(&self, id: Uuid) -> PathBuf {
        self.dir.join("tmp").join(format!("{id}.part"))
    }

    /// Files in the temporary folder (an interrupted upload must leave none).
    pub fn pending_files(&self) -> usize {
        std::fs::read_dir(self.dir.join("tmp"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Stored evidence files.
    pub fn stored_files(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "hev"))
                    .count()
            })
            .unwrap_or(0)
    }
}

/// What is typed about a piece of evidence.
#[derive(Debug, Clone, Default)]
pub struct EvidenceMeta {
    pub kind: String,
    pub category: String,
    pub survivor_id: Option<SurvivorId>,
    pub signed: bool,
    pub title: String,
    pub stage: Option<String>,
    pub collected_by: String,
    pub collected_at: Option<DateTime<Utc>>,
    pub collected_where: String,
    pub collected_how: String,
}

#[derive(Debug, Clone)]
struct CheckedMeta {
    kind: &'static str,
    category: &'static str,
    survivor_id: Option<Uuid>,
    signed: bool,
    title: String,
    stage: Option<&'static str>,
    collected_by: String,
    collected_at: DateTime<Utc>,
    collected_where: String,
    collected_how: String,
}

fn check_meta(meta: &EvidenceMeta, physical: bool) -> Result<CheckedMeta, ValidationError> {
    let kind = KINDS
        .into_iter()
        .find(|k| *k == meta.kind.trim())
        .ok_or_else(|| {
            ValidationError::new("kind", format!("choose one of: {}", KINDS.join(", ")))
        })?;
    if physical != (kind == "physical") {
        return Err(ValidationError::new(
            "kind",
            if physical {
                "a physical item has kind physical"
            } else {
                "a file is a photo, video, audio, document or chat_export"
            },
        ));
    }
    let category = match meta.category.trim() {
        "" => "general",
        c => CATEGORIES.into_iter().find(|k| *k == c).ok_or_else(|| {
            ValidationError::new(
                "category",
                format!("choose one of: {}", CATEGORIES.join(", ")),
            )
        })?,
    };
    if category != "general" && meta.survivor_id.is_none() {
        return Err(ValidationError::new(
            "survivor_id",
            "a medical report, age evidence or statement belongs to one survivor: choose her",
        ));
    }
    let stage = match meta.stage.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(Stage::parse(s)?.as_str()),
    };
    let at = now();
    let collected_at = meta.collected_at.unwrap_or(at);
    if collected_at > at + chrono::Duration::minutes(5) {
        return Err(ValidationError::new(
            "collected_at",
            "cannot be in the future",
        ));
    }
    Ok(CheckedMeta {
        kind,
        category,
        survivor_id: meta.survivor_id.map(|s| s.as_uuid()),
        signed: meta.signed,
        title: legal::text("title", &meta.title, 300)?,
        stage,
        collected_by: legal::text("collected_by", &meta.collected_by, 200)?,
        collected_at,
        collected_where: legal::text("collected_where", &meta.collected_where, 300)?,
        collected_how: legal::text("collected_how", &meta.collected_how, 1000)?,
    })
}

/// A piece of evidence as listed.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceSummary {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: String,
    pub category: String,
    pub survivor_id: Option<Uuid>,
    pub signed: bool,
    pub title: String,
    pub stage: Option<String>,
    pub collected_by: String,
    pub collected_at: DateTime<Utc>,
    pub collected_where: String,
    pub collected_how: String,
    pub file_name: Option<String>,
    pub media_type: Option<String>,
    pub size_bytes: Option<i64>,
    /// SHA-256 of the original file, lower-case hex; none for a physical item.
    pub sha256: Option<String>,
    /// Who holds it now (the last entry of the chain of custody).
    pub holder: String,
    pub created_at: DateTime<Utc>,
    /// Kept through an erasure of her record because a court needs it.
    pub legal_hold: Option<LegalHold>,
}

/// Why an item linked to a survivor is kept if her record is erased: decided before, by a
/// lawyer or manager, with the reason (sealed with the case key).
#[derive(Debug, Clone, Serialize)]
pub struct LegalHold {
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct EvidenceRow {
    id: Uuid,
    case_id: Uuid,
    kind: String,
    category: String,
    survivor_id: Option<Uuid>,
    signed: bool,
    sealed_title: Vec<u8>,
    stage: Option<String>,
    sealed_collected_by: Vec<u8>,
    collected_at: DateTime<Utc>,
    sealed_collected_where: Vec<u8>,
    sealed_collected_how: Vec<u8>,
    sealed_file_name: Option<Vec<u8>>,
    media_type: Option<String>,
    size_bytes: Option<i64>,
    sha256: Option<Vec<u8>>,
    master_key_id: Option<Uuid>,
    wrapped_key: Option<Vec<u8>>,
    created_at: DateTime<Utc>,
    holder: Option<String>,
    legal_hold_at: Option<DateTime<Utc>>,
    legal_hold_by: Option<String>,
    sealed_legal_hold_reason: Option<Vec<u8>>,
}

const EVIDENCE_SELECT: &str = "SELECT e.id, e.case_id, e.kind, e.category, e.survivor_id, e.signed, e.sealed_title, e.stage,
        e.sealed_collected_by, e.collected_at, e.sealed_collected_where, e.sealed_collected_how, e.sealed_file_name, e.media_type,
        e.size_bytes, e.sha256, e.master_key_id, e.wrapped_key, e.created_at,
        (SELECT u.display_name FROM evidence_custody c JOIN users u ON u.id = c.to_user
          WHERE c.evidence_id = e.id ORDER BY c.seq DESC LIMIT 1) AS holder,
        e.legal_hold_at, (SELECT h.display_name FROM users h WHERE h.id = e.legal_hold_by) AS legal_hold_by,
        e.sealed_legal_hold_reason
     FROM evidence e";

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl EvidenceRow {
    /// One of its texts, sealed with the case key and bound to the item.
    fn text(&self, key: &DataKey, field: &str, sealed: &[u8]) -> String {
        key.open(self.id, field, &Sealed::new(sealed.to_vec()))
            .unwrap_or_else(|_| "[unreadable]".to_owned())
    }

    /// The summary, its texts opened with the case key.
    fn summary(&self, key: &DataKey) -> EvidenceSummary {
        EvidenceSummary {
            id: self.id,
            case_id: self.case_id,
            kind: self.kind.clone(),
            category: self.category.clone(),
            survivor_id: self.survivor_id,
            signed: self.signed,
            title: self.text(key, "title", &self.sealed_title),
            stage: self.stage.clone(),
            collected_by: self.text(key, "collected_by", &self.sealed_collected_by),
            collected_at: self.collected_at,
            collected_where: self.text(key, "collected_where", &self.sealed_collected_where),
            collected_how: self.text(key, "collected_how", &self.sealed_collected_how),
            file_name: self
                .sealed_file_name
                .as_deref()
                .map(|f| self.text(key, "file_name", f)),
            media_type: self.media_type.clone(),
            size_bytes: self.size_bytes,
            sha256: self.sha256.as_deref().map(hex),
            holder: self.holder.clone().unwrap_or_default(),
            created_at: self.created_at,
            legal_hold: self.legal_hold_at.map(|at| LegalHold {
                by: self.legal_hold_by.clone().unwrap_or_default(),
                at,
                reason: self
                    .sealed_legal_hold_reason
                    .as_deref()
                    .map(|r| self.text(key, "legal_hold_reason", r)),
            }),
        }
    }
}

/// A survivor's statement is shown only to those she shared it with (never investigators).
async fn may_see(db: &Db, user: &User, row: &EvidenceRow) -> bool {
    if row.category != "statement" {
        return true;
    }
    match (access(user), row.survivor_id) {
        (CaseAccess::Full, Some(s)) => crate::legal::may_read_statement(db, user, s).await,
        _ => false,
    }
}

/// The evidence of a case the user may see (the case itself was checked by the caller).
/// Items destroyed with an erased survivor's record are not listed.
pub(crate) async fn list_for_case(
    db: &Db,
    user: &User,
    case_id: Uuid,
    case_key: &DataKey,
) -> Result<Vec<EvidenceSummary>, StoreError> {
    let sql = format!(
        "{EVIDENCE_SELECT} WHERE e.case_id = $1 AND e.erased_at IS NULL ORDER BY e.collected_at, e.id"
    );
    let rows: Vec<EvidenceRow> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(case_id).fetch_all(pool).await?);
    let mut out = Vec::new();
    for row in rows {
        if may_see(db, user, &row).await {
            out.push(row.summary(case_key));
        }
    }
    Ok(out)
}

/// The item and its case's key, when the user may see it. An item destroyed with an erased
/// survivor's record is not found: its key and file are gone.
async fn visible_item(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    id: Uuid,
) -> Result<(EvidenceRow, DataKey), StoreError> {
    if !access(user).handles_evidence() {
        return Err(StoreError::NotFound("evidence"));
    }
    let sql = format!("{EVIDENCE_SELECT} WHERE e.id = $1 AND e.erased_at IS NULL");
    let row: Option<EvidenceRow> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    let row = row.ok_or(StoreError::NotFound("evidence"))?;
    let case = visible_case(db, user, row.case_id, CaseAccess::handles_evidence)
        .await
        .map_err(|_| StoreError::NotFound("evidence"))?;
    if !may_see(db, user, &row).await {
        return Err(StoreError::NotFound("evidence"));
    }
    let key = crate::legal::case_key(keyring, &case)?;
    Ok((row, key))
}

/// One entry of the chain of custody.
#[derive(Debug, Clone, Serialize)]
pub struct CustodyEntry {
    pub seq: i64,
    pub from: Option<String>,
    pub to: String,
    pub to_username: String,
    pub at: DateTime<Utc>,
    pub reason: String,
}

async fn custody(db: &Db, key: &DataKey, id: Uuid) -> Result<Vec<CustodyEntry>, StoreError> {
    let rows: Vec<(
        Uuid,
        i64,
        Option<String>,
        String,
        String,
        DateTime<Utc>,
        Vec<u8>,
    )> = on_pool!(db, pool => sqlx::query_as(
        "SELECT c.id, c.seq, f.display_name, t.display_name, t.username, c.moved_at, c.sealed_reason FROM evidence_custody c
         LEFT JOIN users f ON f.id = c.from_user JOIN users t ON t.id = c.to_user
         WHERE c.evidence_id = $1 ORDER BY c.seq")
        .bind(id)
        .fetch_all(pool)
        .await?);
    Ok(rows
        .into_iter()
        .map(
            |(entry, seq, from, to, to_username, at, reason)| CustodyEntry {
                seq,
                from,
                to,
                to_username,
                at,
                reason: key
                    .open(entry, "reason", &Sealed::new(reason))
                    .unwrap_or_else(|_| "[unreadable]".to_owned()),
            },
        )
        .collect())
}

/// An item with its chain of custody.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceDetail {
    #[serde(flatten)]
    pub summary: EvidenceSummary,
    pub custody: Vec<CustodyEntry>,
}

/// Reads an item's record and chain of custody (not its file). Audited.
pub async fn read(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: Uuid,
) -> Result<EvidenceDetail, StoreError> {
    let (row, key) = visible_item(db, keyring, user, id).await?;
    let detail = EvidenceDetail {
        summary: row.summary(&key),
        custody: custody(db, &key, id).await?,
    };
    audit_read(
        db,
        ctx,
        "evidence.read",
        "evidence",
        id,
        &["metadata", "custody"],
    )
    .await?;
    Ok(detail)
}

/// The items of a case with their custody chains, for a court bundle (caller audits).
pub(crate) async fn details_for_bundle(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    case_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<EvidenceDetail>, StoreError> {
    let mut out = Vec::new();
    for id in ids {
        let (row, key) = visible_item(db, keyring, user, *id).await?;
        if row.case_id != case_id {
            return Err(ValidationError::new(
                "evidence",
                "an item chosen for the bundle belongs to another case",
            )
            .into());
        }
        out.push(EvidenceDetail {
            summary: row.summary(&key),
            custody: custody(db, &key, *id).await?,
        });
    }
    Ok(out)
}

/// Registers a physical item (clothing, a phone, a ledger); its holder is the recording user.
pub async fn add_physical(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    meta: &EvidenceMeta,
) -> Result<Uuid, StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::handles_evidence).await?;
    let meta = check_meta(meta, true)?;
    check_survivor(db, case.id, meta.survivor_id).await?;
    let key = crate::legal::case_key(keyring, &case)?;
    let id = new_id();
    let mut tx = db.begin().await?;
    insert_row(&mut tx, &key, user, case.id, id, &meta, None).await?;
    first_custody(&mut tx, &key, user, id, "registered as physical evidence").await?;
    audit(
        &mut tx,
        ctx,
        "evidence.create",
        "evidence",
        id,
        &["kind", "title", "collected"],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn check_survivor(db: &Db, case_id: Uuid, survivor: Option<Uuid>) -> Result<(), StoreError> {
    let Some(survivor) = survivor else {
        return Ok(());
    };
    let n: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM legal_case_survivors WHERE case_id = $1 AND survivor_id = $2")
        .bind(case_id)
        .bind(survivor)
        .fetch_one(pool)
        .await?);
    if n == 0 {
        return Err(ValidationError::new("survivor_id", "she is not part of this case").into());
    }
    Ok(())
}

struct StoredFile<'a> {
    file_name: &'a str,
    media_type: &'a str,
    size: i64,
    sha256: &'a [u8; 32],
    key_id: Uuid,
    wrapped: &'a [u8],
}

async fn insert_row(
    tx: &mut crate::Tx,
    key: &DataKey,
    user: &User,
    case_id: Uuid,
    id: Uuid,
    meta: &CheckedMeta,
    file: Option<StoredFile<'_>>,
) -> Result<(), StoreError> {
    exec!(tx, sqlx::query(
        "INSERT INTO evidence (id, case_id, kind, category, survivor_id, signed, sealed_title, stage, sealed_collected_by,
             collected_at, sealed_collected_where, sealed_collected_how, sealed_file_name, media_type, size_bytes, sha256,
             master_key_id, wrapped_key, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)")
        .bind(id)
        .bind(case_id)
        .bind(meta.kind)
        .bind(meta.category)
        .bind(meta.survivor_id)
        .bind(meta.signed)
        .bind(key.seal(id, "title", &meta.title).into_bytes())
        .bind(meta.stage)
        .bind(key.seal(id, "collected_by", &meta.collected_by).into_bytes())
        .bind(meta.collected_at)
        .bind(key.seal(id, "collected_where", &meta.collected_where).into_bytes())
        .bind(key.seal(id, "collected_how", &meta.collected_how).into_bytes())
        .bind(file.as_ref().map(|f| key.seal(id, "file_name", f.file_name).into_bytes()))
        .bind(file.as_ref().map(|f| f.media_type))
        .bind(file.as_ref().map(|f| f.size))
        .bind(file.as_ref().map(|f| f.sha256.as_slice()))
        .bind(file.as_ref().map(|f| f.key_id))
        .bind(file.as_ref().map(|f| f.wrapped))
        .bind(user.id.as_uuid())
        .bind(now()))?;
    Ok(())
}

async fn first_custody(
    tx: &mut crate::Tx,
    key: &DataKey,
    user: &User,
    id: Uuid,
    reason: &str,
) -> Result<(), StoreError> {
    let entry = new_id();
    exec!(tx, sqlx::query(
        "INSERT INTO evidence_custody (id, evidence_id, seq, from_user, to_user, moved_at, sealed_reason, recorded_by)
         VALUES ($1, $2, 1, NULL, $3, $4, $5, $3)")
        .bind(entry)
        .bind(id)
        .bind(user.id.as_uuid())
        .bind(now())
        .bind(key.seal(entry, "reason", reason).into_bytes()))?;
    Ok(())
}

/// Hands an item to another known member of staff, with the reason. Appended to the chain.
pub async fn transfer(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: Uuid,
    to: &str,
    reason: &str,
) -> Result<(), StoreError> {
    let (row, key) = visible_item(db, keyring, user, id).await?;
    let unknown = || {
        StoreError::Invalid(ValidationError::new(
            "to",
            format!(
                "'{}' is not an active member of your organisation's staff: custody can only pass to a known person",
                to.trim()
            ),
        ))
    };
    let username = Username::parse(to).map_err(|_| unknown())?;
    let recipient = crate::users::find_by_username(db, &username)
        .await?
        .filter(|u| !u.disabled && u.org_id == user.org_id && u.org_kind == OrgKind::Own)
        .ok_or_else(unknown)?;
    let reason = legal::text("reason", reason, 1000)?;
    let mut tx = db.begin().await?;
    let last: Option<(i64, Uuid)> = on_tx!(&mut tx, conn => sqlx::query_as(
        "SELECT seq, to_user FROM evidence_custody WHERE evidence_id = $1 ORDER BY seq DESC LIMIT 1")
        .bind(row.id)
        .fetch_optional(conn)
        .await?);
    let (seq, holder) =
        last.ok_or_else(|| StoreError::Internal(format!("evidence {id} has no custody")))?;
    if holder == recipient.id.as_uuid() {
        return Err(ValidationError::new("to", "this person already holds it").into());
    }
    let entry = new_id();
    exec!(&mut tx, sqlx::query(
        "INSERT INTO evidence_custody (id, evidence_id, seq, from_user, to_user, moved_at, sealed_reason, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(entry)
        .bind(row.id)
        .bind(seq + 1)
        .bind(holder)
        .bind(recipient.id.as_uuid())
        .bind(now())
        .bind(key.seal(entry, "reason", &reason).into_bytes())
        .bind(user.id.as_uuid()))
    .map_err(|e| crate::error::conflict_on_unique(e, "someone else moved this item at the same moment; look again and retry"))?;
    audit(
        &mut tx,
        ctx,
        "evidence.custody.transfer",
        "evidence",
        row.id,
        &["from", "to", "reason"],
    )
    .await?;
    tx.commit().await
}

/// Puts an item linked to a survivor on legal hold (lawyers and managers): it is then kept,
/// file and all, if her record is erased later. Decided before an erasure, never after: an
/// erased record's items are already destroyed.
pub async fn place_legal_hold(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: Uuid,
    reason: &str,
) -> Result<LegalHold, StoreError> {
    let (row, _) = visible_item(db, keyring, user, id).await?;
    let case = visible_case(db, user, row.case_id, CaseAccess::works_case).await?;
    if row.survivor_id.is_none() {
        return Err(ValidationError::new(
            "evidence",
            "a legal hold keeps an item linked to a survivor through the erasure of her record; this item is not linked to anyone",
        )
        .into());
    }
    if let Some(at) = row.legal_hold_at {
        return Err(StoreError::Conflict(format!(
            "this item is already on legal hold since {}",
            at.format("%Y-%m-%d")
        )));
    }
    let reason = legal::text("reason", reason, 1000)?;
    if reason.chars().count() < 10 {
        return Err(ValidationError::new(
            "reason",
            "explain why a court needs this item kept (at least 10 characters)",
        )
        .into());
    }
    let key = crate::legal::case_key(keyring, &case)?;
    let at = now();
    let mut tx = db.begin().await?;
    exec!(&mut tx, sqlx::query(
        "UPDATE evidence SET legal_hold_by = $1, legal_hold_at = $2, sealed_legal_hold_reason = $3
         WHERE id = $4 AND legal_hold_at IS NULL AND erased_at IS NULL")
        .bind(user.id.as_uuid())
        .bind(at)
        .bind(key.seal(row.id, "legal_hold_reason", &reason).into_bytes())
        .bind(row.id))?;
    audit(
        &mut tx,
        ctx,
        "evidence.legal_hold",
        "evidence",
        row.id,
        &["legal_hold_by", "legal_hold_at", "legal_hold_reason"],
    )
    .await?;
    tx.commit().await?;
    Ok(LegalHold {
        by: user.display_name.clone(),
        at,
        reason: Some(reason),
    })
}

/// What an erasure did to the evidence linked to her.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErasedEvidence {
    /// Items whose key was destroyed and description wiped; their files are deleted after
    /// the commit.
    pub destroyed: Vec<Uuid>,
    /// Items kept because they were on legal hold before the erasure.
    pub kept_on_legal_hold: Vec<Uuid>,
}

/// Inside her erasure's transaction: destroys the key of every item linked to her that is not
/// on legal hold (the file can then never be read, even if deleting it fails later), wipes its
/// description, and audits each item destroyed or kept.
pub(crate) async fn erase_for_survivor(
    tx: &mut crate::Tx,
    ctx: &RequestContext,
    survivor: Uuid,
    at: DateTime<Utc>,
) -> Result<ErasedEvidence, StoreError> {
    let items: Vec<(Uuid, Option<DateTime<Utc>>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT id, legal_hold_at FROM evidence WHERE survivor_id = $1 AND erased_at IS NULL ORDER BY id")
        .bind(survivor)
        .fetch_all(conn)
        .await?);
    let mut out = ErasedEvidence::default();
    for (id, hold) in items {
        if hold.is_some() {
            audit(tx, ctx, "evidence.kept_on_legal_hold", "evidence", id, &[]).await?;
            out.kept_on_legal_hold.push(id);
            continue;
        }
        exec!(
            tx,
            sqlx::query(
                "UPDATE evidence SET master_key_id = NULL, wrapped_key = NULL, erased_at = $1,
                 sealed_title = $2, sealed_collected_by = $2, sealed_collected_where = $2,
                 sealed_collected_how = $2, sealed_file_name = NULL
             WHERE id = $3"
            )
            .bind(at)
            .bind(Vec::<u8>::new())
            .bind(id)
        )?;
        audit(
            tx,
            ctx,
            "evidence.erase",
            "evidence",
            id,
            &["file", "key", "title", "collected"],
        )
        .await?;
        out.destroyed.push(id);
    }
    Ok(out)
}

impl Locker {
    /// Deletes the files of destroyed items (their keys are already gone). A file that cannot
    /// be deleted stays unreadable; it is logged for the administrator.
    pub fn remove_files(&self, ids: &[Uuid]) {
        for id in ids {
            let path = self.path_of(*id);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(evidence = %id, error = %e, "could not delete the file of a destroyed evidence item");
                }
            }
        }
    }
}

// ---- Uploading ----

/// Removes a file when dropped, unless disarmed: an interrupted upload leaves nothing.
struct Cleanup(Option<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Hashes, encrypts and writes plaintext in chunks. Runs on the blocking pool.
pub struct Sealer {
    file: File,
    encryptor: Option<EncryptorBE32<XChaCha20Poly1305>>,
    hasher: Sha256,
    buf: Vec<u8>,
    aad: [u8; 16],
    size: u64,
}

impl Sealer {
    /// Starts an encrypted file: writes the header.
    pub fn create(path: &Path, key: &DataKey, id: Uuid) -> std::io::Result<Sealer> {
        let mut file = crate::private_fs::create_new_file(path)?;
        let prefix: [u8; NONCE_PREFIX] = rand::random();
        file.write_all(MAGIC)?;
        file.write_all(&prefix)?;
        let cipher = XChaCha20Poly1305::new(key.bytes().into());
        Ok(Sealer {
            file,
            encryptor: Some(EncryptorBE32::from_aead(cipher, (&prefix).into())),
            hasher: Sha256::new(),
            buf: Vec::with_capacity(CHUNK + TAG),
            aad: *id.as_bytes(),
            size: 0,
        })
    }

    pub fn push(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        self.hasher.update(data);
        self.size += data.len() as u64;
        while !data.is_empty() {
            let take = (CHUNK - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == CHUNK {
                let enc = self
                    .encryptor
                    .as_mut()
                    .ok_or_else(|| std::io::Error::other("sealer already finished"))?;
                enc.encrypt_next_in_place(&self.aad, &mut self.buf)
                    .map_err(|_| std::io::Error::other("encryption failed"))?;
                self.file.write_all(&self.buf)?;
                self.buf.clear();
            }
        }
        Ok(())
    }

    /// Writes the last chunk, syncs, and returns the SHA-256 and size of the plaintext.
    pub fn finish(mut self) -> std::io::Result<([u8; 32], u64)> {
        let enc = self
            .encryptor
            .take()
            .ok_or_else(|| std::io::Error::other("sealer already finished"))?;
        enc.encrypt_last_in_place(&self.aad, &mut self.buf)
            .map_err(|_| std::io::Error::other("encryption failed"))?;
        self.file.write_all(&self.buf)?;
        self.file.sync_all()?;
        Ok((self.hasher.finalize().into(), self.size))
    }
}

/// An upload in progress. Feed it the body with [`PendingUpload::write`], then
/// [`PendingUpload::finish`]; dropped before that, it removes what it wrote.
pub struct PendingUpload {
    id: Uuid,
    case_id: Uuid,
    meta: CheckedMeta,
    file_name: String,
    declared: Option<String>,
    media_type: Option<String>,
    head: Vec<u8>,
    batch: Vec<u8>,
    written: u64,
    max: u64,
    sealer: Option<Sealer>,
    key: std::sync::Arc<DataKey>,
    temp: Cleanup,
    final_path: PathBuf,
}

impl std::fmt::Debug for PendingUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PendingUpload({}, {} bytes)", self.id, self.written)
    }
}

/// Starts an upload: checks the user may add evidence to the case, the description and the
/// file name, before a byte of the file is stored.
pub async fn begin_upload(
    db: &Db,
    locker: &Locker,
    user: &User,
    case_id: Uuid,
    meta: &EvidenceMeta,
    file_name: &str,
    declared_type: Option<&str>,
) -> Result<PendingUpload, StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::handles_evidence).await?;
    let meta = check_meta(meta, false)?;
    check_survivor(db, case.id, meta.survivor_id).await?;
    let file_name = legal::file_name(file_name)?;
    let id = new_id();
    let temp = locker.temp_path(id);
    Ok(PendingUpload {
        id,
        case_id: case.id,
        meta,
        file_name,
        declared: declared_type
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty() && t != "application/octet-stream"),
        media_type: None,
        head: Vec::with_capacity(SNIFF),
        batch: Vec::with_capacity(BATCH),
        written: 0,
        max: locker.max_bytes,
        sealer: None,
        key: std::sync::Arc::new(DataKey::generate()),
        temp: Cleanup(Some(temp)),
        final_path: locker.path_of(id),
    })
}

fn too_large(max: u64) -> StoreError {
    ValidationError::new(
        "file",
        format!(
            "is larger than the largest file accepted ({} MB)",
            max / 1_000_000
        ),
    )
    .into()
}

impl PendingUpload {
    pub fn id(&self) -> Uuid {
        self.id
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn limit(&self) -> u64 {
        self.max
    }

    /// Takes the next piece of the body.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        if self.written + bytes.len() as u64 > self.max {
            return Err(too_large(self.max));
        }
        self.written += bytes.len() as u64;
        if self.head.len() < SNIFF {
            let take = (SNIFF - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
        }
        self.batch.extend_from_slice(bytes);
        if self.batch.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.media_type.is_none() {
            self.media_type = Some(check_type(
                self.meta.kind,
                &self.file_name,
                self.declared.as_deref(),
                &self.head,
            )?);
        }
        let sealer = match self.sealer.take() {
            Some(s) => s,
            None => {
                let path = self
                    .temp
                    .0
                    .clone()
                    .ok_or_else(|| StoreError::Internal("upload already finished".into()))?;
                let key = self.key.clone();
                let id = self.id;
                blocking(move || Sealer::create(&path, &key, id)).await?
            }
        };
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let sealer = blocking(move || {
            let mut sealer = sealer;
            sealer.push(&batch).map(|()| sealer)
        })
        .await?;
        self.sealer = Some(sealer);
        Ok(())
    }

    /// Completes the upload: checks the type, writes the last chunk, syncs, moves the file
    /// into the locker and commits its row, first custody entry and audit event together.
    pub async fn finish(
        mut self,
        db: &Db,
        keyring: &Keyring,
        user: &User,
        ctx: &RequestContext,
    ) -> Result<EvidenceSummary, StoreError> {
        if self.written == 0 {
            return Err(ValidationError::new("file", "is empty").into());
        }
        self.flush().await?;
        let sealer = self
            .sealer
            .take()
            .ok_or_else(|| StoreError::Internal("upload has no file".into()))?;
        let (sha256, size) = blocking(move || sealer.finish()).await?;
        let temp = self
            .temp
            .0
            .take()
            .ok_or_else(|| StoreError::Internal("upload already finished".into()))?;
        let final_path = self.final_path.clone();
        let moved = Cleanup(Some(final_path.clone()));
        if let Err(e) = std::fs::rename(&temp, &final_path) {
            let _ = std::fs::remove_file(&temp);
            return Err(StoreError::Internal(format!(
                "cannot store evidence file: {e}"
            )));
        }
        if let Some(dir) = final_path.parent() {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        let case = visible_case(db, user, self.case_id, CaseAccess::handles_evidence).await?;
        let case_key = crate::legal::case_key(keyring, &case)?;
        let (key_id, wrapped) = keyring.wrap(&self.key, self.id);
        let media_type = self.media_type.clone().unwrap_or_default();
        let size = i64::try_from(size).map_err(|_| too_large(self.max))?;
        let mut tx = db.begin().await?;
        insert_row(
            &mut tx,
            &case_key,
            user,
            self.case_id,
            self.id,
            &self.meta,
            Some(StoredFile {
                file_name: &self.file_name,
                media_type: &media_type,
                size,
                sha256: &sha256,
                key_id,
                wrapped: &wrapped,
            }),
        )
        .await?;
        first_custody(
            &mut tx,
            &case_key,
            user,
            self.id,
            "uploaded to the evidence locker",
        )
        .await?;
        audit(
            &mut tx,
            ctx,
            "evidence.create",
            "evidence",
            self.id,
            &["kind", "title", "collected", "file", "sha256"],
        )
        .await?;
        tx.commit().await?;
        let mut moved = moved;
        moved.0 = None;
        let sql = format!("{EVIDENCE_SELECT} WHERE e.id = $1");
        let row: EvidenceRow =
            on_pool!(db, pool => sqlx::query_as(&sql).bind(self.id).fetch_one(pool).await?);
        Ok(row.summary(&case_key))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Internal(format!("evidence writer stopped: {e}")))?
        .map_err(|e| StoreError::Internal(format!("evidence file: {e}")))
}

/// Recognises a file's type from its first bytes and checks it against the kind chosen, the
/// declared media type and the file name's extension. Returns the media type to record.
pub fn check_type(
    kind: &str,
    file_name: &str,
    declared: Option<&str>,
    head: &[u8],
) -> Result<String, ValidationError> {
    let refuse = |m: String| Err(ValidationError::new("file", m));
    let sniffed = infer::get(head);
    let is_text = sniffed.is_none() && looks_like_text(head);
    let (mime, what): (String, String) = match sniffed {
        Some(t) => (t.mime_type().to_owned(), format!("{} ({})", t.extension().to_uppercase(), t.mime_type())),
        None if is_text => ("text/plain".to_owned(), "plain text".to_owned()),
        None => {
            return refuse(
                "its contents are of no type Haven recognises; upload photos, video, audio, PDF or office documents, or text chat exports".to_owned(),
            )
        }
    };
    let fits = match kind {
        "photo" => mime.starts_with("image/"),
        "video" => mime.starts_with("video/"),
        "audio" => mime.starts_with("audio/"),
        "document" => {
            mime == "application/pdf"
                || mime == "text/plain"
                || mime == "application/rtf"
                || mime.starts_with("application/vnd.openxmlformats-officedocument")
                || mime.starts_with("application/vnd.oasis.opendocument")
                || mime == "application/msword"
                || mime.starts_with("image/")
        }
        "chat_export" => mime == "text/plain" || mime == "application/zip",
        _ => false,
    };
    if !fits {
        return refuse(format!(
            "its contents are {what}, which is not a {} file",
            kind.replace('_', " ")
        ));
    }
    if let Some(declared) = declared {
        let same = declared == mime
            || (is_text && (declared.starts_with("text/") || declared == "application/json"))
            || (declared == "image/jpg" && mime == "image/jpeg");
        if !same {
            return refuse(format!(
                "it was sent as {declared} but its contents are {what}"
            ));
        }
    }
    if let Some((_, ext)) = file_name.rsplit_once('.') {
        let ext = ext.to_ascii_lowercase();
        let allowed: Vec<&str> = match sniffed {
            Some(t) => {
                let mut v = vec![t.extension()];
                v.extend(match t.extension() {
                    "jpg" => &["jpeg", "jpe"][..],
                    "tif" => &["tiff"][..],
                    "mp4" => &["m4v"][..],
                    "mov" => &["qt"][..],
                    "zip" => &["docx", "xlsx", "odt"][..],
                    "m4a" => &["mp4", "aac"][..],
                    "ogg" => &["oga", "opus"][..],
                    "mpg" => &["mpeg"][..],
                    _ => &[][..],
                });
                v
            }
            None => vec!["txt", "json", "csv", "html", "htm", "md", "log", "xml"],
        };
        if !allowed.contains(&ext.as_str()) {
            return refuse(format!(
                "the file name ends in .{ext} but its contents are {what}"
            ));
        }
    }
    Ok(mime)
}

fn looks_like_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        // A multi-byte character cut at the end of the sample is still text.
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    };
    valid && !head.contains(&0)
}

// ---- Reading ----

/// A stored file that is not what was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrityFailure(pub String);

/// Decrypts an evidence file chunk by chunk, re-hashing it; the last chunk also compares
/// the SHA-256 with the one recorded at upload.
pub struct ContentReader {
    file: std::io::BufReader<File>,
    decryptor: Option<DecryptorBE32<XChaCha20Poly1305>>,
    hasher: Sha256,
    expected: Vec<u8>,
    aad: [u8; 16],
    done: bool,
}

impl std::fmt::Debug for ContentReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentReader")
    }
}

fn failure(m: &str) -> IntegrityFailure {
    IntegrityFailure(m.to_owned())
}

impl ContentReader {
    pub fn open(
        path: &Path,
        key: &DataKey,
        id: Uuid,
        expected: Vec<u8>,
    ) -> Result<ContentReader, IntegrityFailure> {
        let file = File::open(path).map_err(|_| failure("the stored file is missing"))?;
        let mut file = std::io::BufReader::with_capacity(CHUNK + TAG, file);
        let mut header = [0u8; 5 + NONCE_PREFIX];
        file.read_exact(&mut header)
            .map_err(|_| failure("the stored file is cut short"))?;
        if &header[..5] != MAGIC {
            return Err(failure("the stored file is not an evidence file"));
        }
        let cipher = XChaCha20Poly1305::new(key.bytes().into());
        let prefix: [u8; NONCE_PREFIX] = header[5..]
            .try_into()
            .map_err(|_| failure("the stored file is cut short"))?;
        Ok(ContentReader {
            file,
            decryptor: Some(DecryptorBE32::from_aead(cipher, (&prefix).into())),
            hasher: Sha256::new(),
            expected,
            aad: *id.as_bytes(),
            done: false,
        })
    }

    /// The next piece of plaintext, `None` at the (verified) end.
    pub fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, IntegrityFailure> {
        if self.done {
            return Ok(None);
        }
        let mut buf = vec![0u8; CHUNK + TAG];
        let mut n = 0;
        while n < buf.len() {
            match self.file.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(failure("the stored file cannot be read")),
            }
        }
        buf.truncate(n);
        let altered = || failure("the stored file was altered, cut short or replaced");
        if n == CHUNK + TAG {
            self.decryptor
                .as_mut()
                .ok_or_else(altered)?
                .decrypt_next_in_place(&self.aad, &mut buf)
                .map_err(|_| altered())?;
        } else {
            if n < TAG {
                return Err(altered());
            }
            self.decryptor
                .take()
                .ok_or_else(altered)?
                .decrypt_last_in_place(&self.aad, &mut buf)
                .map_err(|_| altered())?;
            self.done = true;
        }
        self.hasher.update(&buf);
        if self.done {
            let actual: [u8; 32] = std::mem::take(&mut self.hasher).finalize().into();
            if actual.as_slice() != self.expected.as_slice() {
                return Err(IntegrityFailure(format!(
                    "its SHA-256 is now {}, not {} as recorded at upload",
                    hex(&actual),
                    hex(&self.expected)
                )));
            }
        }
        Ok(Some(buf))
    }
}

/// An opened file: its record, and a reader whose first chunk is already verified.
pub struct OpenedContent {
    pub summary: EvidenceSummary,
    pub first: Vec<u8>,
    pub reader: ContentReader,
}

fn integrity_message(title: &str, why: &IntegrityFailure) -> String {
    format!(
        "the stored file of \"{title}\" failed its integrity check: {}. Do not rely on it; tell your administrator",
        why.0
    )
}

async fn reader_for(
    db: &Db,
    keyring: &Keyring,
    locker: &Locker,
    user: &User,
    id: Uuid,
) -> Result<
    (
        EvidenceRow,
        EvidenceSummary,
        Result<ContentReader, IntegrityFailure>,
    ),
    StoreError,
> {
    let (row, case_key) = visible_item(db, keyring, user, id).await?;
    let summary = row.summary(&case_key);
    let (Some(key_id), Some(wrapped), Some(sha)) = (
        row.master_key_id,
        row.wrapped_key.clone(),
        row.sha256.clone(),
    ) else {
        return Err(StoreError::Conflict(
            "this is a physical item: it has no file".to_owned(),
        ));
    };
    let key = keyring
        .unwrap(key_id, &wrapped, row.id)
        .map_err(|e| StoreError::Internal(format!("evidence {}: {e}", row.id)))?;
    let path = locker.path_of(row.id);
    let opened = tokio::task::spawn_blocking(move || ContentReader::open(&path, &key, id, sha))
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok((row, summary, opened))
}

async fn record_failure(
    db: &Db,
    ctx: &RequestContext,
    row: &EvidenceRow,
    title: &str,
    why: &IntegrityFailure,
) -> StoreError {
    tracing::error!(evidence = %row.id, problem = %why.0, "evidence file failed its integrity check");
    if let Ok(mut tx) = db.begin().await {
        if audit(
            &mut tx,
            ctx,
            "evidence.integrity_failure",
            "evidence",
            row.id,
            &["file"],
        )
        .await
        .is_ok()
        {
            let _ = tx.commit().await;
        }
    }
    StoreError::Conflict(integrity_message(title, why))
}

/// Opens an item's file for reading. The first chunk is decrypted and checked before this
/// returns, so a small altered file is refused at once; a later altered chunk, or a hash that
/// does not match at the end, makes the reader fail. Audited.
pub async fn open_content(
    db: &Db,
    keyring: &Keyring,
    locker: &Locker,
    user: &User,
    ctx: &RequestContext,
    id: Uuid,
) -> Result<OpenedContent, StoreError> {
    let (row, summary, reader) = reader_for(db, keyring, locker, user, id).await?;
    let first = match reader {
        Ok(reader) => tokio::task::spawn_blocking(move || {
            let mut reader = reader;
            reader.next_chunk().map(|c| (reader, c.unwrap_or_default()))
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?,
        Err(e) => Err(e),
    };
    match first {
        Ok((reader, first)) => {
            audit_read(
                db,
                ctx,
                "evidence.content.read",
                "evidence",
                row.id,
                &["file"],
            )
            .await?;
            Ok(OpenedContent {
                summary,
                first,
                reader,
            })
        }
        Err(why) => Err(record_failure(db, ctx, &row, &summary.title, &why).await),
    }
}

/// The result of re-checking a stored file.
#[derive(Debug, Clone, Serialize)]
pub struct Integrity {
    pub id: Uuid,
    pub intact: bool,
    pub sha256: String,
    /// What is wrong, when it is not intact.
    pub problem: Option<String>,
}

/// Reads a whole stored file, authenticating every chunk and re-computing its SHA-256.
pub async fn verify(
    db: &Db,
    keyring: &Keyring,
    locker: &Locker,
    user: &User,
    ctx: &RequestContext,
    id: Uuid,
) -> Result<Integrity, StoreError> {
    let (row, summary, reader) = reader_for(db, keyring, locker, user, id).await?;
    let result = match reader {
        Ok(reader) => tokio::task::spawn_blocking(move || {
            let mut reader = reader;
            while reader.next_chunk()?.is_some() {}
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?,
        Err(e) => Err(e),
    };
    let sha256 = row.sha256.as_deref().map(hex).unwrap_or_default();
    let mut tx = db.begin().await?;
    let action = if result.is_ok() {
        "evidence.verify"
    } else {
        "evidence.integrity_failure"
    };
    audit(&mut tx, ctx, action, "evidence", row.id, &["file"]).await?;
    tx.commit().await?;
    if let Err(why) = &result {
        tracing::error!(evidence = %row.id, problem = %why.0, "evidence file failed its integrity check");
    }
    Ok(Integrity {
        id: row.id,
        intact: result.is_ok(),
        sha256,
        problem: result
            .err()
            .map(|why| integrity_message(&summary.title, &why)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1,
    ];
    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
    ];

    #[test]
    fn types_must_match_contents_name_and_declaration() {
        assert_eq!(
            check_type("photo", "a.jpg", Some("image/jpeg"), JPEG).unwrap(),
            "image/jpeg"
        );
        assert_eq!(
            check_type("photo", "a.JPEG", None, JPEG).unwrap(),
            "image/jpeg"
        );
        let err = check_type("photo", "a.jpg", None, PNG).unwrap_err();
        assert!(err.message.contains(".jpg"), "{}", err.message);
        let err = check_type("photo", "a.png", Some("image/jpeg"), PNG).unwrap_err();
        assert!(
            err.message.contains("sent as image/jpeg"),
            "{}",
            err.message
        );
        let err = check_type("video", "a.png", None, PNG).unwrap_err();
        assert!(err.message.contains("not a video"), "{}", err.message);
        assert_eq!(
            check_type(
                "chat_export",
                "chat.txt",
                Some("text/plain"),
                "Hôm nay 10:00".as_bytes()
            )
            .unwrap(),
            "text/plain"
        );
        assert!(check_type("chat_export", "chat.txt", None, &[0, 1, 2, 3, 0, 9]).is_err());
    }

    #[test]
    fn a_sealed_file_reads_back_and_tampering_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let key = DataKey::generate();
        let id = Uuid::from_u128(7);
        for size in [0usize, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5] {
            let path = dir.path().join(format!("{size}.hev"));
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let mut sealer = Sealer::create(&path, &key, id).unwrap();
            for piece in data.chunks(1000) {
                sealer.push(piece).unwrap();
            }
            let (sha, n) = sealer.finish().unwrap();
            assert_eq!(n as usize, size);
            assert_eq!(sha.as_slice(), Sha256::digest(&data).as_slice());
            let mut reader = ContentReader::open(&path, &key, id, sha.to_vec()).unwrap();
            let mut back = Vec::new();
            while let Some(c) = reader.next_chunk().unwrap() {
                back.extend(c);
            }
            assert_eq!(back, data, "size {size}");
            // Another record's ID does not open it.
            let mut other =
                ContentReader::open(&path, &key, Uuid::from_u128(8), sha.to_vec()).unwrap();
            assert!(other.next_chunk().is_err());
            // A flipped byte is caught.
            let mut bytes = std::fs::read(&path).unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            std::fs::write(&path, &bytes).unwrap();
            let mut reader = ContentReader::open(&path, &key, id, sha.to_vec()).unwrap();
            let mut failed = false;
            loop {
                match reader.next_chunk() {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => {
                        failed = true;
                        break;
                    }
                }
            }
            assert!(failed, "size {size}");
        }
    }
}
