//! `haven bench`: figures for Haven's own costs on this machine. HTTP throughput, memory and
//! start-up are measured from outside the process by `bench/http.sh`.

use crate::cli::BenchArgs;
use anyhow::Result;
use haven_core::{Password, SessionPolicy};
use haven_store::sessions::{self, ClientInfo, SessionKind};
use haven_store::{ConnectOptions, DatabaseUrl, Db, HashCost, PasswordHasher};
use std::time::{Duration, Instant};

fn summary(name: &str, mut samples: Vec<Duration>) {
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
    db.close().await;
    Ok(())
}
