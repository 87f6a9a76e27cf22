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
    let mut web = config::web_config(&file, args.behind_tls);
    web.max_connections = fit_open_file_limit(web.max_connections);
    let state = AppState::new(db.clone(), hasher, web)
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

/// Open files Haven needs besides its client connections: database pool, SQLite and WAL
/// files, evidence files being read or written, logs.
const OTHER_FILES: u64 = 256;

/// Raises the soft open-file limit (often 1024) toward the hard one so that the connection
/// limit, its health-check reserve and Haven's other files fit; if the system does not
/// allow that much, serves fewer connections, and says so, rather than failing with "too
/// many open files" under load.
fn fit_open_file_limit(max_connections: usize) -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let reserve = haven_web::connections::HEALTH_RESERVE as u64;
    let needed = max_connections as u64 + reserve + OTHER_FILES;
    let limit = getrlimit(Resource::Nofile);
    let Some(current) = limit.current else {
        return max_connections;
    };
    if current >= needed {
        return max_connections;
    }
    let target = limit.maximum.map_or(needed, |hard| hard.min(needed));
    let granted = if target > current
        && setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum: limit.maximum,
            },
        )
        .is_ok()
    {
        target
    } else {
        current
    };
    if granted >= needed {
        return max_connections;
    }
    let fitting = granted.saturating_sub(reserve + OTHER_FILES).max(10);
    tracing::warn!(
        configured = max_connections,
        serving = fitting,
        open_file_limit = granted,
        "http.max_connections does not fit the open-file limit; serving fewer connections \
         (raise LimitNOFILE or ulimit -n to serve more)"
    );
    usize::try_from(fitting).unwrap_or(max_connections)
}
