//! Legal figures for `haven bench`: storing a 1 GB evidence file (hash + encrypt + write),
//! reading it back verified, a 200-page court bundle, and the hearings calendar across
//! 10,000 cases.

use anyhow::{anyhow, Result};
use haven_core::{Password, RequestContext, Username};
use haven_store::evidence::{self, EvidenceMeta, Locker};
use haven_store::{legal, legal_bundle, on_tx, ConnectOptions, DatabaseUrl, Db, HashCost};
use haven_store::{Keyring, PasswordHasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Resident memory of this process, in bytes (Linux), or 0 where unknown.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Samples resident memory every 5 ms until stopped; returns the peak.
struct RssWatch {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssWatch {
    fn start() -> RssWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss()));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        RssWatch {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    fn peak(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak.load(Ordering::Relaxed)
    }
}

const MB: f64 = 1_000_000.0;

fn photo_meta(title: String) -> EvidenceMeta {
    EvidenceMeta {
        kind: "photo".to_owned(),
        title,
        collected_by: "Police officer Sok Pisey".to_owned(),
        collected_where: "Bar office, Phnom Penh".to_owned(),
        collected_how: "Police camera, original file".to_owned(),
        ..EvidenceMeta::default()
    }
}

pub async fn run() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("legal.db").display()
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
    let keyring = Keyring::generate();
    haven_store::crypto::registry::verify_or_register(&db, &keyring).await?;
    haven_store::demo::seed(
        &db,
        &PasswordHasher::new(HashCost::MINIMAL)?,
        &Password::new("lotus river morning tea"),
    )
    .await?;
    haven_store::demo::seed_survivors(&db, &keyring).await?;
    let locker = Locker::open(dir.path().join("evidence"), Locker::DEFAULT_MAX_BYTES)?;
    let case = haven_store::demo_legal::seed_legal(&db, &keyring, &locker).await?;
    let lawyer = haven_store::users::find_by_username(&db, &Username::parse("legal")?)
        .await?
        .ok_or_else(|| anyhow!("demo lawyer missing"))?;
    let ctx = RequestContext::system("cli:bench");

    // 1 GB upload: hash + encrypt + write, fed in 64 KiB pieces as from the network.
    let size: usize = 1 << 30;
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in block.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    block[..haven_store::demo_legal::DEMO_PHOTO.len()]
        .copy_from_slice(&haven_store::demo_legal::DEMO_PHOTO);
    let before = rss();
    let watch = RssWatch::start();
    let started = Instant::now();
    let mut upload = evidence::begin_upload(
        &db,
        &locker,
        &lawyer,
        case,
        &photo_meta("A long recording".to_owned()),
        "large.png",
        Some("image/png"),
    )
    .await?;
    let mut sent = 0;
    while sent < size {
        for piece in block.chunks(64 * 1024) {
            upload.write(piece).await?;
        }
        sent += block.len();
    }
    let item = upload.finish(&db, &keyring, &lawyer, &ctx).await?;
    let took = started.elapsed();
    let peak = watch.peak();
    println!(
        "{:<44} {:>10.3?}  ({:.0} MB/s, +{:.1} MB resident at peak)",
        "evidence upload 1 GiB (sha256+encrypt+write)",
        took,
        size as f64 / MB / took.as_secs_f64(),
        peak.saturating_sub(before) as f64 / MB
    );
    let before = rss();
    let watch = RssWatch::start();
    let started = Instant::now();
    let check = evidence::verify(&db, &keyring, &locker, &lawyer, &ctx, item.id).await?;
    let took = started.elapsed();
    let peak = watch.peak();
    println!(
        "{:<44} {:>10.3?}  ({:.0} MB/s, +{:.1} MB resident at peak, intact: {})",
        "evidence read back 1 GiB (decrypt+verify)",
        took,
        size as f64 / MB / took.as_secs_f64(),
        peak.saturating_sub(before) as f64 / MB,
        check.intact
    );
    let _ = std::fs::remove_file(locker.path_of(item.id));

    // A court bundle of about 200 pages: 135 photos, each with its custody chain.
    let mut ids = Vec::new();
    for i in 0..135 {
        let mut upload = evidence::begin_upload(
            &db,
            &locker,
            &lawyer,
            case,
            &photo_meta(format!("Scene photo {i}")),
            &format!("scene-{i}.png"),
            Some("image/png"),
        )
        .await?;
        upload.write(&haven_store::demo_legal::DEMO_PHOTO).await?;
        ids.push(upload.finish(&db, &keyring, &lawyer, &ctx).await?.id);
    }
    let mut samples = Vec::new();
    let mut pages = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let bundle =
            legal_bundle::build(&db, &keyring, &locker, &lawyer, &ctx, case, &ids, true).await?;
        samples.push(started.elapsed());
        pages = bundle.pages;
    }
    super::bench::summary(&format!("court bundle ({pages} pages, 135 items)"), samples);

    // The hearings calendar across 10,000 cases.
    seed_cases(&db, &keyring, lawyer.org_id.as_uuid(), 10_000).await?;
    let mut samples = Vec::new();
    let mut shown = 0;
    for _ in 0..20 {
        let started = Instant::now();
        let cal = legal::calendar(&db, &keyring, &lawyer, &ctx, chrono::Utc::now(), 60).await?;
        samples.push(started.elapsed());
        shown = cal.hearings.len();
    }
    super::bench::summary(
        &format!("hearings calendar, 10k cases ({shown} in 60 days)"),
        samples,
    );
    db.close().await;
    Ok(())
}

/// Inserts `n` cases, each with a suspect and a hearing in the coming year; every tenth has
/// the demo survivor taking part. Written directly in one transaction: bench set-up only.
async fn seed_cases(db: &Db, keyring: &Keyring, org: Uuid, n: usize) -> Result<()> {
    let survivor: Uuid = haven_store::on_pool!(db, pool => sqlx::query_scalar(
        "SELECT id FROM survivors WHERE reference = 'PP-2026-001'")
        .fetch_one(pool)
        .await?);
    let now = chrono::Utc::now();
    let courts = [
        "Phnom Penh Municipal Court",
        "Siem Reap Provincial Court",
        "Battambang Provincial Court",
        "Kandal Provincial Court",
        "Preah Sihanouk Provincial Court",
    ];
    let mut tx = db.begin().await?;
    for i in 0..n {
        let id = Uuid::now_v7();
        let (key_id, wrapped) = keyring.wrap(&haven_store::crypto::DataKey::generate(), id);
        let court = courts[i % courts.len()];
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO legal_cases (id, reference, title, owner_org, court, prosecutor, judge, master_key_id, wrapped_key, created_at, updated_at)
             VALUES ($1, $2, 'Bench case', $3, $4, '', '', $5, $6, $7, $7)")
            .bind(id)
            .bind(format!("BENCH-{i}"))
            .bind(org)
            .bind(court)
            .bind(key_id)
            .bind(wrapped)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO legal_suspects (id, case_id, sealed_name, sealed_aliases, role, created_at) VALUES ($1, $2, $3, $3, 'exploiter', $4)")
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(vec![0u8; 48])
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        let starts = now + chrono::Duration::hours(1 + (i as i64 * 7919) % (365 * 24));
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO legal_hearings (id, case_id, stage, starts_at, ends_at, court, room, created_at) VALUES ($1, $2, 'trial_hearings', $3, $4, $5, $6, $7)")
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(starts)
            .bind(starts + chrono::Duration::hours(2))
            .bind(court)
            .bind(format!("Courtroom {}", i % 7 + 1))
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if i % 10 == 0 {
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO legal_case_survivors (case_id, survivor_id, capacity, added_at) VALUES ($1, $2, 'witness', $3)")
                .bind(id)
                .bind(survivor)
                .bind(now)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO legal_decisions (id, case_id, survivor_id, decision, language, sealed_detail, decided_at) VALUES ($1, $2, $3, 'takes_part', 'km', $4, $5)")
                .bind(Uuid::now_v7())
                .bind(id)
                .bind(survivor)
                .bind(vec![0u8; 48])
                .bind(now)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
        }
    }
    tx.commit().await?;
    Ok(())
}
