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
    let hasher = PasswordHasher::new(HashCost::STANDARD)?;
    let state = AppState::new(
        db.clone(),
        hasher,
        config::web_config(&file, args.behind_tls),
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (is another program using it?)"))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, backend = db.backend().as_str(), "Haven is serving at http://{address}");
    haven_web::serve(listener, state, super::shutdown_signal()).await?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}
