//! The audit log on disk: appending inside the caller's transaction, verifying the chain,
//! and listing events for auditors.
//!
//! The chain itself (encoding, hashing, verification rules) is in `haven_core::audit`; this
//! module only stores and streams it. Invariant: `audit_events` holds seq 1..=n with no gaps,
//! each event's `prev_hash` is the hash of the one before, and `audit_head` holds (n, hash of
//! event n). Appenders serialise on the `audit_head` row (`UPDATE ... RETURNING` takes its row
//! lock on PostgreSQL; SQLite transactions begin `IMMEDIATE`, see [`Db::begin`]), so two
//! concurrent writers can never both claim the same seq.

use crate::clock::{new_id, now};
use crate::{on_pool, on_tx, Db, StoreError, Tx};
use chrono::{DateTime, Utc};
use haven_core::audit::{is_name, AuditEvent, Break, Hash, Problem, Verifier};
use haven_core::RequestContext;
use uuid::Uuid;

/// An event as read back from the store.
pub type StoredEvent = AuditEvent;

/// What a caller records: what was done to what, and the names (never values) of the fields.
#[derive(Debug, Clone)]
pub struct AuditRecord<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<String>,
    pub fields: &'a [&'a str],
    pub reason: Option<&'a str>,
}

/// Stands in for a stored hash of the wrong length: it can match nothing, so verification
/// reports the event instead of failing to read it.
const MALFORMED: Hash = [0xff; 32];

fn to_hash(bytes: &[u8]) -> Hash {
    Hash::try_from(bytes).unwrap_or(MALFORMED)
}

/// Appends one event inside the caller's transaction, so the data and its audit event commit
/// (or roll back) together.
///
/// Call it as the transaction's last statement (before `commit`): it locks the head row
/// until commit, so appending last keeps that lock short and means no transaction ever waits
/// for another row while holding the head (on PostgreSQL that order could deadlock with a
/// writer holding that row and waiting for the head). Several appends in a row are fine.
pub async fn append(
    tx: &mut Tx,
    ctx: &RequestContext,
    record: &AuditRecord<'_>,
) -> Result<(), StoreError> {
    // Names are identifiers, so a value cannot be recorded by mistake. The error does not
    // echo the offending text, in case it is a value.
    if !is_name(record.action) || !is_name(record.entity) {
        return Err(StoreError::Internal(
            "audit action and entity must be lowercase identifiers".into(),
        ));
    }
    if !record.fields.iter().all(|f| is_name(f)) {
        return Err(StoreError::Internal(format!(
            "audit field names must be lowercase identifiers ({})",
            record.action
        )));
    }
    // Claims the next seq and locks the head row until commit.
    let (seq, prev): (i64, Vec<u8>) = on_tx!(&mut *tx, conn => sqlx::query_as(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
    )
    .fetch_one(conn)
    .await?);
    let event = AuditEvent {
        seq,
        id: new_id(),
        at: now(),
        actor: ctx.actor.label(),
        action: record.action.to_owned(),
        entity: record.entity.to_owned(),
        entity_id: record.entity_id.clone(),
        fields: record.fields.iter().map(|f| (*f).to_owned()).collect(),
        reason: record.reason.map(str::to_owned),
        client_addr: ctx.client_addr.clone(),
        request_id: ctx.request_id.clone(),
        prev_hash: to_hash(&prev),
        hash: [0; 32],
    }
    .seal();
    insert(tx, &event).await?;
    on_tx!(&mut *tx, conn => sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&event.hash[..])
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

const INSERT_SQL: &str = "INSERT INTO audit_events
     (seq, id, at, actor, action, entity, entity_id, fields, reason, client_addr, request_id, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

/// Writes a sealed event as is.
async fn insert(tx: &mut Tx, event: &AuditEvent) -> Result<(), StoreError> {
    let fields = event.fields.join(",");
    on_tx!(&mut *tx, conn => sqlx::query(INSERT_SQL)
        .bind(event.seq)
        .bind(event.id)
        .bind(event.at)
        .bind(&event.actor)
        .bind(&event.action)
        .bind(&event.entity)
        .bind(event.entity_id.as_deref())
        .bind(&fields)
        .bind(event.reason.as_deref())
        .bind(event.client_addr.as_deref())
        .bind(event.request_id.as_deref())
        .bind(&event.prev_hash[..])
        .bind(&event.hash[..])
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    id: Uuid,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    entity: String,
    entity_id: Option<String>,
    fields: String,
    reason: Option<String>,
    client_addr: Option<String>,
    request_id: Option<String>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl From<EventRow> for AuditEvent {
    fn from(row: EventRow) -> Self {
        AuditEvent {
            seq: row.seq,
            id: row.id,
            at: row.at,
            actor: row.actor,
            action: row.action,
            entity: row.entity,
            entity_id: row.entity_id,
            fields: if row.fields.is_empty() {
                Vec::new()
            } else {
                row.fields.split(',').map(str::to_owned).collect()
            },
            reason: row.reason,
            client_addr: row.client_addr,
            request_id: row.request_id,
            prev_hash: to_hash(&row.prev_hash),
            hash: to_hash(&row.hash),
        }
    }
}

const COLUMNS: &str = "seq, id, at, actor, action, entity, entity_id, fields, reason, \
     client_addr, request_id, prev_hash, hash";

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Events found sound, from seq 1 up to the first broken one (or the head).
    pub checked: u64,
    /// The number of events the head says exist.
    pub total: u64,
    /// The first broken event, if any.
    pub broken: Option<Break>,
}

impl VerifyReport {
    pub fn is_valid(&self) -> bool {
        self.broken.is_none()
    }
}

/// Events read per query while verifying: large enough that round trips do not dominate,
/// small enough to keep memory flat.
const VERIFY_PAGE: i64 = 10_000;

/// Re-checks the whole chain, streaming it in pages of [`VERIFY_PAGE`] by seq, and compares
/// its end with the head. `progress(checked, total)` is called after every page.
///
/// The head is read first and only events up to it are checked, so writers appending during
/// a verification do not make a sound log look broken.
pub async fn verify(
    db: &Db,
    mut progress: impl FnMut(u64, u64),
) -> Result<VerifyReport, StoreError> {
    let (head_seq, head_hash): (i64, Vec<u8>) = on_pool!(db, pool => sqlx::query_as(
        "SELECT seq, hash FROM audit_head WHERE id = 1",
    )
    .fetch_one(pool)
    .await?);
    let total = u64::try_from(head_seq).unwrap_or(0);
    let sql: std::sync::Arc<str> = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
    )
    .into();
    // Pages are seq ranges (lo, lo + VERIFY_PAGE], so the next page can be fetched and parsed
    // on another thread while this one is hashed; a gap only makes a page short.
    let fetch = |lo: i64| {
        let (db, sql) = (db.clone(), sql.clone());
        let hi = lo.saturating_add(VERIFY_PAGE).min(head_seq);
        (
            hi,
            tokio::spawn(async move { fetch_page(&db, &sql, lo, hi).await }),
        )
    };
    let mut verifier = Verifier::new();
    progress(0, total);
    let mut next = (head_seq > 0).then(|| fetch(0));
    while let Some((hi, handle)) = next.take() {
        let page = handle
            .await
            .map_err(|e| StoreError::Internal(format!("audit verification task: {e}")))??;
        next = (hi < head_seq).then(|| fetch(hi));
        let broken = page
            .events
            .iter()
            .find_map(|event| verifier.check(event).err())
            .or(page.unreadable.map(|seq| Break {
                seq,
                id: None,
                problem: Problem::Unreadable,
            }));
        progress(verifier.checked(), total);
        if let Some(broken) = broken {
            if let Some((_, handle)) = next {
                handle.abort();
            }
            return Ok(VerifyReport {
                checked: verifier.checked(),
                total,
                broken: Some(broken),
            });
        }
    }
    Ok(VerifyReport {
        checked: verifier.checked(),
        total,
        broken: verifier.finish(head_seq, &to_hash(&head_hash)).err(),
    })
}

/// One page of the chain for [`verify`]: the events read in seq order, stopping before the
/// first row that could not be read (whose seq is `unreadable`).
struct Page {
    events: Vec<AuditEvent>,
    unreadable: Option<i64>,
}

/// Reads the events with `after < seq <= upto`.
async fn fetch_page(db: &Db, sql: &str, after: i64, upto: i64) -> Result<Page, StoreError> {
    if let Db::Sqlite(pool) = db {
        // SQLite through sqlx pays a copy, an allocation per value and a cross-thread hand-off
        // per row, which made verifying a million events take over 10 s. Aggregating each
        // page into one JSON value in SQLite's C code and parsing it here is several times
        // faster; the values (and so the hashes) are the same.
        let json: Option<String> = sqlx::query_scalar(sqlite_fast::PAGE_SQL)
            .bind(after)
            .bind(upto)
            .bind(VERIFY_PAGE)
            .fetch_one(pool)
            .await?;
        if let Some(page) = json.as_deref().and_then(sqlite_fast::parse) {
            return Ok(page);
        }
        // Not parseable as a whole (should not happen): fall back to the portable path.
    }
    let fetched: Result<Vec<EventRow>, sqlx::Error> = on_pool!(db, pool => sqlx::query_as(sql)
        .bind(after)
        .bind(upto)
        .bind(VERIFY_PAGE)
        .fetch_all(pool)
        .await);
    match fetched {
        Ok(rows) => Ok(Page {
            events: rows.into_iter().map(AuditEvent::from).collect(),
            unreadable: None,
        }),
        // A value no longer has its column's type: someone wrote to the table directly.
        // Find and name the row rather than fail without a seq.
        Err(sqlx::Error::ColumnDecode { .. }) => find_unreadable(db, sql, after, upto).await,
        Err(err) => Err(err.into()),
    }
}

/// Reads one row at a time in `after < seq <= upto` until one fails to decode.
async fn find_unreadable(
    db: &Db,
    sql: &str,
    mut after: i64,
    upto: i64,
) -> Result<Page, StoreError> {
    let mut events = Vec::new();
    loop {
        let one: Result<Option<EventRow>, sqlx::Error> = on_pool!(db, pool => sqlx::query_as(sql)
            .bind(after)
            .bind(upto)
            .bind(1_i64)
            .fetch_optional(pool)
            .await);
        match one {
            Ok(Some(row)) => {
                after = row.seq;
                events.push(AuditEvent::from(row));
            }
            Ok(None) => {
                return Err(StoreError::Internal(
                    "an audit event could not be read, then could not be found again".into(),
                ))
            }
            Err(sqlx::Error::ColumnDecode { .. }) => {
                // The seq itself is an INTEGER PRIMARY KEY / BIGINT and always readable.
                let seq: Option<i64> = on_pool!(db, pool => sqlx::query_scalar(
                    "SELECT seq FROM audit_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 1",
                )
                .bind(after)
                .bind(upto)
                .fetch_optional(pool)
                .await?);
                return Ok(Page {
                    events,
                    unreadable: Some(seq.unwrap_or(after + 1)),
                });
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// The SQLite fast path of [`verify`]: a page as one JSON array.
mod sqlite_fast {
    use super::{to_hash, Page, MALFORMED};
    use chrono::{DateTime, Utc};
    use haven_core::audit::{AuditEvent, Hash};
    use uuid::Uuid;

    /// Blobs are hex-encoded; every other column is passed through as JSON text or null.
    pub(super) const PAGE_SQL: &str = "SELECT json_group_array(json_array(
            seq, hex(id), at, actor, action, entity, entity_id, fields, reason, client_addr,
            request_id, hex(prev_hash), hex(hash)))
         FROM (SELECT * FROM audit_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3)";

    type Row = (
        i64,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
    );

    fn unhex(text: &str) -> Option<Vec<u8>> {
        let digit = |c: u8| (c as char).to_digit(16);
        let bytes = text.as_bytes();
        if bytes.len() % 2 != 0 {
            return None;
        }
        bytes
            .chunks(2)
            .map(|pair| match pair {
                [hi, lo] => Some((digit(*hi)? * 16 + digit(*lo)?) as u8),
                _ => None,
            })
            .collect()
    }

    fn hash(text: &str) -> Hash {
        unhex(text).map_or(MALFORMED, |bytes| to_hash(&bytes))
    }

    /// The page's events in seq order, or `None` when any row is not what Haven writes (a
    /// value of the wrong type, a time that does not parse): the caller then reads the page
    /// through the portable path, which names the unreadable row.
    pub(super) fn parse(json: &str) -> Option<Page> {
        let mut rows: Vec<Row> = serde_json::from_str(json).ok()?;
        // Aggregation order is not promised by SQLite; the seq order is what counts.
        rows.sort_unstable_by_key(|row| row.0);
        let events = rows.into_iter().map(event).collect::<Option<Vec<_>>>()?;
        Some(Page {
            events,
            unreadable: None,
        })
    }

    fn event(row: Row) -> Option<AuditEvent> {
        let (
            seq,
            id,
            at,
            actor,
            action,
            entity,
            entity_id,
            fields,
            reason,
            client,
            request,
            prev,
            hash_hex,
        ) = row;
        let id = Uuid::from_slice(&unhex(&id)?).ok()?;
        let at = DateTime::parse_from_rfc3339(&at).ok()?.with_timezone(&Utc);
        Some(AuditEvent {
            seq,
            id,
            at,
            actor,
            action,
            entity,
            entity_id,
            fields: if fields.is_empty() {
                Vec::new()
            } else {
                fields.split(',').map(str::to_owned).collect()
            },
            reason,
            client_addr: client,
            request_id: request,
            prev_hash: hash(&prev),
            hash: hash(&hash_hex),
        })
    }
}

/// Narrows [`list`]. Every filter is optional; set ones must all match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// An actor label (a user ID or `system:...`).
    pub actor: Option<String>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// From this instant (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Before this instant (exclusive).
    pub until: Option<DateTime<Utc>>,
}

/// The most events one [`list`] call returns.
pub const LIST_MAX: u32 = 200;

/// One page of events, **newest first** (descending seq). `after_seq` is the cursor: the seq
/// of the last event of the previous page; this page holds events with a smaller seq.
/// `limit` is clamped to 1..=[`LIST_MAX`].
pub async fn list(
    db: &Db,
    filter: &AuditFilter,
    after_seq: Option<i64>,
    limit: u32,
) -> Result<Vec<StoredEvent>, StoreError> {
    let limit = i64::from(limit.clamp(1, LIST_MAX));
    // One SQL text for both engines: an unset filter is bound as NULL and matches everything.
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events
         WHERE seq < $1
           AND ($2 IS NULL OR actor = $2)
           AND ($3 IS NULL OR action = $3)
           AND ($4 IS NULL OR entity = $4)
           AND ($5 IS NULL OR entity_id = $5)
           AND ($6 IS NULL OR at >= $6)
           AND ($7 IS NULL OR at < $7)
         ORDER BY seq DESC LIMIT $8"
    );
    let rows: Vec<EventRow> = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(after_seq.unwrap_or(i64::MAX))
        .bind(filter.actor.as_deref())
        .bind(filter.action.as_deref())
        .bind(filter.entity.as_deref())
        .bind(filter.entity_id.as_deref())
        .bind(filter.since)
        .bind(filter.until)
        .bind(limit)
        .fetch_all(pool)
        .await?);
    Ok(rows.into_iter().map(AuditEvent::from).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The fast SQLite page must read back exactly what was written, or verification would
    /// silently fall back to the slow path.
    #[tokio::test]
    async fn the_sqlite_fast_path_reads_what_was_written() {
        let t = crate::testing::TestDb::sqlite().await;
        let ctx = RequestContext::system("test");
        for i in 0..3 {
            let mut tx = t.db.begin().await.unwrap();
            let fields: &[&str] = if i == 0 { &[] } else { &["a", "b_c"] };
            let record = AuditRecord {
                action: "test.write",
                entity: "thing",
                entity_id: (i > 0).then(|| format!("t{i}")),
                fields,
                reason: (i == 2).then_some("why: \"quoted\", ✓ ក"),
            };
            append(&mut tx, &ctx, &record).await.unwrap();
            tx.commit().await.unwrap();
        }
        let Db::Sqlite(pool) = &t.db else { panic!() };
        let json: Option<String> = sqlx::query_scalar(sqlite_fast::PAGE_SQL)
            .bind(0_i64)
            .bind(3_i64)
            .bind(10_i64)
            .fetch_one(pool)
            .await
            .unwrap();
        let page = sqlite_fast::parse(&json.unwrap()).expect("fast path parses");
        let slow = list(&t.db, &AuditFilter::default(), None, 10)
            .await
            .unwrap();
        let mut slow = slow;
        slow.reverse();
        assert_eq!(page.events, slow);
    }
}
