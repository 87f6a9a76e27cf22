//! `haven demo`: a fresh SQLite database with demo data, served at once.

use crate::cli::DemoArgs;
use crate::config::{self, FileConfig, DEFAULT_LISTEN};
use anyhow::{bail, Context, Result};
use haven_core::{check_password_policy, Password};
use haven_store::{ConnectOptions, DatabaseUrl, Db, HashCost, PasswordHasher};
use haven_web::AppState;

pub async fn run(args: DemoArgs) -> Result<()> {
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let listen = config::parse_listen(&listen).context("--listen")?;

    // A temporary folder lives as long as this process and is removed when it stops.
    let temporary;
    let data_dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => {
            temporary = tempfile::Builder::new()
                .prefix("haven-demo-")
                .tempdir()
                .context("cannot create a temporary folder for the demo")?;
            temporary.path().to_path_buf()
        }
    };
    let db_path = data_dir.join("haven.db");
    if db_path.exists() {
        bail!(
            "{} already holds a database; give --data-dir an empty folder, or leave it out for a temporary one",
            data_dir.display()
        );
    }

    let (password, chosen) = match std::env::var("HAVEN_DEMO_PASSWORD") {
        Ok(p) if !p.is_empty() => (Password::new(p), true),
        _ => (Password::new(super::generate_password()), false),
    };
    for user in &haven_store::demo::USERS {
        check_password_policy(&password, user.username)
            .map_err(|e| anyhow::anyhow!("HAVEN_DEMO_PASSWORD is not acceptable: {}", e.message))?;
    }

    let shutdown = super::shutdown_signal();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {listen} (is another program using it? try --listen 127.0.0.1:0)"
            )
        })?;
    let address = listener.local_addr()?;

    let url = DatabaseUrl::parse(&format!("sqlite://{}", db_path.display()))?;
    let db = Db::connect(
        &url,
        &ConnectOptions {
            create_if_missing: true,
            ..ConnectOptions::default()
        },
    )
    .await?;
    super::apply_migrations(&db).await?;
    let hasher = PasswordHasher::new(HashCost::STANDARD)?;
    let key_file = data_dir.join("haven.key");
    haven_store::Keyring::generate()
        .write_new(&key_file)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let keyring = super::load_keyring(&db, &key_file).await?;
    // The demo's dates are counted from today where the team works.
    let web = config::web_config(&FileConfig::default(), false);
    haven_store::clock::set_team_offset(web.local_offset);
    haven_store::demo::seed(&db, &hasher, &password)
        .await
        .context("cannot fill the demo database")?;
    haven_store::demo::seed_settings(&db, args.require_totp)
        .await
        .context("cannot fill the demo database")?;
    haven_store::demo::seed_survivors(&db, &keyring)
        .await
        .context("cannot add the demo survivors")?;
    haven_store::demo_crisis::seed_crisis_care(&db, &keyring)
        .await
        .context("cannot add the demo crisis care")?;
    haven_store::demo_casework::seed_casework(&db, &keyring)
        .await
        .context("cannot add the demo case management")?;
    let locker = haven_store::evidence::Locker::open(
        data_dir.join("evidence"),
        haven_store::evidence::Locker::DEFAULT_MAX_BYTES,
    )?;
    haven_store::demo_legal::seed_legal(&db, &keyring, &locker)
        .await
        .context("cannot add the demo legal case")?;
    let state = AppState::new(db.clone(), hasher, web)
        .await?
        .with_keyring(keyring)
        .with_evidence(locker);

    let users: Vec<&str> = haven_store::demo::USERS
        .iter()
        .map(|u| u.username)
        .collect();
    let password_line = if chosen {
        "the value of HAVEN_DEMO_PASSWORD".to_owned()
    } else {
        format!("{} (the same for every demo user)", password.expose())
    };
    let banner = format!(
        "\n  Haven demo is running at http://{address}/\n  Data folder: {}{}\n  Demo users:  {}\n  Password:    {password_line}\n  Press Ctrl-C to stop.\n\n",
        data_dir.display(),
        if args.data_dir.is_none() { " (removed when you stop)" } else { "" },
        users.join(", "),
    );
    // Written once, errors ignored: a closed stdout must not stop the server.
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes());
        let _ = out.flush();
    }

    haven_web::serve(listener, state, shutdown).await?;
    db.close().await;
    Ok(())
}
