//! `haven serve`: migrate, then serve until Ctrl-C or SIGTERM.

use crate::cli::ServeArgs;
use crate::config::{self, FileConfig, DEFAULT_LISTEN};
use anyhow::{Context, Result};
use haven_store::{HashCost, PasswordHasher};
use haven_web::AppState;

pub async fn run(args: ServeArgs, file: FileConfig) -> Result<()> {
    let listen = args
        .listen
        .clone()
        .or_else(|| file.listen.clone())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let listen = config::parse_listen(&listen).context("--listen")?;
    let db = super::open_db(&args.db, &file, false).await?;
    super::apply_migrations(&db).await?;
    let data_dir = args.db.data_dir.as_deref().or(file.data_dir.as_deref());
    let key_file = config::key_file(args.key_file.as_deref(), &file, data_dir);
    let keyring = super::load_keyring(&db, &key_file).await?;
    let hasher = PasswordHasher::new(HashCost::STANDARD)?;
    let state = AppState::new(
        db.clone(),
        hasher,
        config::web_config(&file, args.behind_tls),
    )
    .await?
    .with_keyring(keyring)
    .with_evidence(haven_store::evidence::Locker::open(
        data_dir
            .unwrap_or(std::path::Path::new("./haven-data"))
            .join("evidence"),
        args.evidence_max_mb.saturating_mul(1_000_000),
    )?);
    let shutdown = super::shutdown_signal();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (is another program using it?)"))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, backend = db.backend().as_str(), "Haven is serving at http://{address}");
    haven_web::serve(listener, state, shutdown).await?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}
