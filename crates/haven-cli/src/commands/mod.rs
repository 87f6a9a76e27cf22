//! One module per subcommand; this one loads configuration, starts logging and dispatches.

mod audit;
mod bench;
mod bench_casework;
mod bench_crisis;
mod bench_legal;
mod bench_referrals;
mod config_cmd;
mod demo;
mod keys;
mod org;
mod serve;
mod user;

use crate::cli::{AuditCommand, Cli, Command, DbArgs, KeysCommand, OrgCommand, UserCommand};
use crate::config::{self, FileConfig, LogFormat};
use anyhow::{Context, Result};
use haven_store::{ConnectOptions, Db, StoreError};

pub async fn run(cli: Cli) -> Result<()> {
    let file = match config_file_of(&cli.command) {
        Some(path) => FileConfig::load(&path)?,
        None => FileConfig::default(),
    };
    let format = cli
        .log_format
        .or(file.log.format)
        .unwrap_or(LogFormat::Auto);
    let level = cli
        .log_level
        .clone()
        .or_else(|| file.log.level.clone())
        .unwrap_or_else(|| "info".to_owned());
    crate::logging::init(format, &level)?;

    match cli.command {
        Command::Serve(args) => serve::run(args, file).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Migrate(args) => migrate(args, file).await,
        Command::User(command) => match command {
            UserCommand::Add(args) => user::add(args, file).await,
            UserCommand::List(args) => user::list(args, file).await,
            UserCommand::Disable(args) => user::set_disabled(args, file, true).await,
            UserCommand::Enable(args) => user::set_disabled(args, file, false).await,
            UserCommand::ResetPassword(args) => user::reset_password(args, file).await,
            UserCommand::ResetTotp(args) => user::reset_totp(args, file).await,
            UserCommand::Languages(args) => user::languages(args, file).await,
        },
        Command::Org(command) => match command {
            OrgCommand::Add(args) => org::add(args, file).await,
            OrgCommand::List(args) => org::list(args, file).await,
        },
        Command::Keys(command) => match command {
            KeysCommand::Init(args) => keys::init(args, file),
            KeysCommand::Rotate(args) => keys::rotate(args, file).await,
        },
        Command::Audit(AuditCommand::Verify(args)) => audit::verify(args, file).await,
        Command::Config(command) => config_cmd::run(command),
        Command::Bench(args) => bench::run(args).await,
    }
}

fn config_file_of(command: &Command) -> Option<std::path::PathBuf> {
    let db = match command {
        Command::Serve(a) => &a.db,
        Command::Migrate(a) => a,
        Command::User(UserCommand::Add(a)) => &a.db,
        Command::User(UserCommand::List(a)) => a,
        Command::User(UserCommand::Disable(a))
        | Command::User(UserCommand::Enable(a))
        | Command::User(UserCommand::ResetTotp(a)) => &a.db,
        Command::User(UserCommand::ResetPassword(a)) => &a.db,
        Command::User(UserCommand::Languages(a)) => &a.db,
        Command::Org(OrgCommand::Add(a)) => &a.db,
        Command::Org(OrgCommand::List(a)) => a,
        Command::Keys(KeysCommand::Rotate(a)) => &a.db,
        Command::Keys(KeysCommand::Init(_)) => return None,
        Command::Audit(AuditCommand::Verify(a)) => a,
        Command::Demo(_) | Command::Config(_) | Command::Bench(_) => return None,
    };
    db.config.clone()
}

/// Opens the configured database. `create` makes a missing SQLite file (only `migrate` and
/// `demo` create databases).
pub async fn open_db(args: &DbArgs, file: &FileConfig, create: bool) -> Result<Db> {
    let data_dir = args.data_dir.as_deref().or(file.data_dir.as_deref());
    let url = config::database_url(args.database_url.as_deref(), file, data_dir)?;
    let options = ConnectOptions {
        create_if_missing: create,
        max_connections: file.database.max_connections.unwrap_or(10),
        ..ConnectOptions::default()
    };
    Db::connect(&url, &options).await.map_err(|err| match err {
        StoreError::Unavailable(cause) => {
            anyhow::anyhow!("cannot reach the database at {url}: {cause}")
        }
        other => anyhow::Error::new(other),
    })
}

/// Loads the key file and checks it against the database (key check values), so a wrong or
/// unprotected key file stops start-up with a clear message.
pub async fn load_keyring(db: &Db, path: &std::path::Path) -> Result<haven_store::Keyring> {
    let keyring = haven_store::Keyring::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    haven_store::crypto::registry::verify_or_register(db, &keyring).await?;
    let sealed = haven_store::totp::reseal_secrets(db, &keyring).await?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed TOTP secrets with the current master key");
    }
    Ok(keyring)
}

/// Applies pending migrations and says so in one log line.
pub async fn apply_migrations(db: &Db) -> Result<()> {
    let applied = db
        .migrate()
        .await
        .context("cannot apply database migrations")?;
    tracing::info!(
        backend = db.backend().as_str(),
        applied,
        known = db.known_migrations(),
        "database schema is up to date ({applied} migration(s) applied now)"
    );
    Ok(())
}

async fn migrate(args: DbArgs, file: FileConfig) -> Result<()> {
    let db = open_db(&args, &file, true).await?;
    apply_migrations(&db).await?;
    db.close().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, so the server can drain in-flight requests. The handlers are
/// installed when this is called, not when the future is first polled, so a signal that
/// arrives right after start-up is never lost to the default "terminate at once".
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let streams = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        match streams {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {},
                    _ = terminate.recv() => {},
                }
            }
            _ => {
                tracing::warn!("cannot listen for SIGTERM; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
    }
}

/// Reads one line (a password) from standard input.
pub fn read_stdin_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// A random password that meets the policy: 20 characters from an unambiguous alphabet.
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}
