//! `haven bench`: figures for Haven's own costs on this machine. HTTP throughput, memory and
//! start-up are measured from outside the process by `bench/http.sh`.

use crate::cli::BenchArgs;
use anyhow::Result;
use haven_core::audit::{AuditEvent, GENESIS};
use haven_core::{Password, RequestContext, SessionPolicy};
use haven_store::audit;
use haven_store::sessions::{self, ClientInfo, SessionKind};
use haven_store::{ConnectOptions, DatabaseUrl, Db, HashCost, PasswordHasher};
use std::time::{Duration, Instant};

pub(crate) fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(index).copied().unwrap_or_default()
    };
    println!(
        "{name:<44} median {:>10.3?}  p95 {:>10.3?}  max {:>10.3?}  (n={})",
        at(0.5),
        at(0.95),
        at(1.0),
        samples.len()
    );
}

pub async fn run(args: BenchArgs) -> Result<()> {
    let n = args.samples as usize;
    println!(
        "haven bench: {n} samples each, on {} core(s)",
        std::thread::available_parallelism()
            .map(|p| p.get())
            .unwrap_or(1)
    );
    if args.legal_only {
        return super::bench_legal::run().await;
    }
    if args.casework_only {
        return super::bench_casework::run(n).await;
    }

    policy_and_crypto();

    let hasher = PasswordHasher::new(HashCost::STANDARD)?;
    let password = Password::new("lotus river morning tea");
    let mut hashing = Vec::new();
    let mut hash = String::new();
    for _ in 0..n.min(50) {
        let started = Instant::now();
        hash = hasher.hash(&password).await?;
        hashing.push(started.elapsed());
    }
    summary("password hash (argon2id m=64MiB t=3 p=1)", hashing);
    let mut verifying = Vec::new();
    for _ in 0..n.min(50) {
        let started = Instant::now();
        hasher.verify(&password, Some(&hash)).await?;
        verifying.push(started.elapsed());
    }
    summary("password verify", verifying);

    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))?;
    let db = Db::connect(
        &url,
        &ConnectOptions {
            create_if_missing: true,
            ..ConnectOptions::default()
        },
    )
    .await?;
    db.migrate().await?;
    haven_store::demo::seed(&db, &PasswordHasher::new(HashCost::MINIMAL)?, &password).await?;
    let user =
        haven_store::users::find_by_username(&db, &haven_core::Username::parse("aftercare")?)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo user missing"))?;
    let policy = SessionPolicy::default();
    let mut starting = Vec::new();
    let mut tokens = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let (token, _) = sessions::start(
            &db,
            &RequestContext::system("cli:bench"),
            user.id,
            SessionKind::Api,
            &policy,
            &ClientInfo::default(),
        )
        .await?;
        starting.push(started.elapsed());
        tokens.push(token);
    }
    summary("session start (SQLite insert, fsync)", starting);
    let mut resolving = Vec::new();
    for token in tokens.iter().cycle().take(n * 10) {
        let started = Instant::now();
        sessions::resolve(&db, token, &policy).await?;
        resolving.push(started.elapsed());
    }
    summary("session resolve (per authenticated request)", resolving);
    audit_append(&db, n.max(50)).await?;
    db.close().await;
    audit_verify(dir.path(), 1_000_000).await?;
    super::bench_crisis::run(&args).await?;
    super::bench_legal::run().await?;
    super::bench_referrals::run(n).await?;
    if !args.skip_crisis {
        super::bench_casework::run(n).await?;
    }
    Ok(())
}

/// The cost the audit log adds to a write: the same one-row write committed alone, and with
/// an audit event appended in its transaction (SQLite, full fsync).
async fn audit_append(db: &Db, n: usize) -> Result<()> {
    let Db::Sqlite(pool) = db else {
        return Ok(());
    };
    let ctx = RequestContext::system("cli:bench");
    let write = |i: usize| {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ('bench', $1, $2)
             ON CONFLICT (key) DO UPDATE SET value = $1, updated_at = $2",
        )
        .bind(i.to_string())
        .bind(haven_store::clock::now())
    };
    // Alternated, so both see the same disk and the same neighbours on a shared machine.
    let mut bare = Vec::new();
    let mut audited = Vec::new();
    for i in 0..n {
        let started = Instant::now();
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        write(i).execute(&mut *tx).await?;
        tx.commit().await?;
        bare.push(started.elapsed());

        let started = Instant::now();
        let mut tx = db.begin().await?;
        if let haven_store::Tx::Sqlite(t) = &mut tx {
            write(i).execute(&mut **t).await?;
        }
        audit::append(
            &mut tx,
            &ctx,
            &audit::AuditRecord {
                action: "setting.set",
                entity: "setting",
                entity_id: Some("bench".to_owned()),
                fields: &["value"],
                reason: None,
            },
        )
        .await?;
        tx.commit().await?;
        audited.push(started.elapsed());
    }
    summary("write alone (SQLite upsert, fsync)", bare);
    summary("same write + audit append", audited);
    Ok(())
}

/// Fills a fresh SQLite file with `count` chained events (batched inserts, chain computed
/// here), then times `haven audit verify`'s check of the whole chain.
async fn audit_verify(dir: &std::path::Path, count: i64) -> Result<()> {
    let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.join("audit.db").display()))?;
    let db = Db::connect(
        &url,
        &ConnectOptions {
            create_if_missing: true,
            ..ConnectOptions::default()
        },
    )
    .await?;
    db.migrate().await?;
    let Db::Sqlite(pool) = &db else {
        return Ok(());
    };
    let started = Instant::now();
    let mut prev = GENESIS;
    let at = haven_store::clock::now();
    const BATCH: i64 = 1_000;
    let mut tx = pool.begin().await?;
    let mut seq = 0;
    while seq < count {
        let mut events = Vec::with_capacity(BATCH as usize);
        for _ in 0..BATCH.min(count - seq) {
            seq += 1;
            let event = AuditEvent {
                seq,
                id: haven_store::clock::new_id(),
                at,
                actor: "system:cli:bench".to_owned(),
                action: "survivor.read".to_owned(),
                entity: "survivor".to_owned(),
                entity_id: Some(format!("{seq:08}")),
                fields: vec!["name".to_owned(), "date_of_birth".to_owned()],
                reason: None,
                client_addr: Some("192.0.2.1".to_owned()),
                request_id: None,
                prev_hash: prev,
                hash: GENESIS,
            }
            .seal();
            prev = event.hash;
            events.push(event);
        }
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO audit_events (seq, id, at, actor, action, entity, entity_id, fields, \
             reason, client_addr, request_id, prev_hash, hash) ",
        );
        insert.push_values(&events, |mut row, e| {
            row.push_bind(e.seq)
                .push_bind(e.id)
                .push_bind(e.at)
                .push_bind(e.actor.clone())
                .push_bind(e.action.clone())
                .push_bind(e.entity.clone())
                .push_bind(e.entity_id.clone())
                .push_bind(e.fields.join(","))
                .push_bind(e.reason.clone())
                .push_bind(e.client_addr.clone())
                .push_bind(e.request_id.clone())
                .push_bind(e.prev_hash.to_vec())
                .push_bind(e.hash.to_vec());
        });
        insert.build().execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(count)
        .bind(prev.to_vec())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    println!(
        "{:<44} {:>10.3?}",
        format!("audit: generate {count} events"),
        started.elapsed()
    );
    let started = Instant::now();
    let report = audit::verify(&db, |_, _| {}).await?;
    let took = started.elapsed();
    if !report.is_valid() || report.checked != count as u64 {
        anyhow::bail!("the generated chain did not verify: {report:?}");
    }
    println!(
        "{:<44} {:>10.3?}  ({:.0} events/s)",
        format!("audit verify ({count} events)"),
        took,
        count as f64 / took.as_secs_f64()
    );
    db.close().await;
    Ok(())
}

/// The access decision (runs for every field of every record read) and sealing and opening a
/// whole survivor record of 20 fields, timed over many iterations so each sample is above the
/// clock's resolution.
fn policy_and_crypto() {
    use haven_core::policy::{decide, Action, PartnerShare, RecordFacts, Subject};
    use haven_core::{FieldClass, OrgId, OrgKind, Roles, UserId};
    use uuid::Uuid;

    const ROUNDS: u32 = 100_000;
    let user = UserId::from_uuid(Uuid::from_u128(1));
    let org = OrgId::from_uuid(Uuid::from_u128(2));
    let Ok(roles) = Roles::parse_list("aftercare") else {
        return;
    };
    let subject = Subject {
        user,
        org,
        org_kind: OrgKind::Own,
        roles: &roles,
    };
    let facts = RecordFacts {
        owner_org: Some(org),
        assignees: vec![UserId::from_uuid(Uuid::from_u128(3)), user],
        partner_shares: vec![PartnerShare {
            org: OrgId::from_uuid(Uuid::from_u128(4)),
            classes: vec![FieldClass::Identity],
            since: chrono::Utc::now(),
        }],
        legal_classes: vec![FieldClass::LegalStatement],
        ..RecordFacts::default()
    };
    let now = chrono::Utc::now();
    let mut samples = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let mut allowed = 0u32;
        for i in 0..ROUNDS {
            let class = FieldClass::ALL[(i % 5) as usize];
            allowed += u32::from(
                decide(
                    std::hint::black_box(&subject),
                    Action::Read(class),
                    &facts,
                    now,
                )
                .is_allowed(),
            );
        }
        std::hint::black_box(allowed);
        samples.push(started.elapsed() / ROUNDS);
    }
    summary("policy decision (one field)", samples);

    let keyring = haven_store::Keyring::generate();
    let record = Uuid::now_v7();
    let value = "Nguyễn Thị Hoa, born 2012-05-03, aunt in Châu Đốc";
    let mut samples = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let data_key = haven_store::crypto::DataKey::generate();
        let (key_id, wrapped) = keyring.wrap(&data_key, record);
        let sealed: Vec<_> = (0..20)
            .map(|i| data_key.seal(record, &format!("field_{i}"), value))
            .collect();
        let Ok(opened_key) = keyring.unwrap(key_id, &wrapped, record) else {
            return;
        };
        for (i, s) in sealed.iter().enumerate() {
            std::hint::black_box(opened_key.open(record, &format!("field_{i}"), s).ok());
        }
        samples.push(started.elapsed());
    }
    summary("seal + open a 20-field record (with key wrap)", samples);
}
