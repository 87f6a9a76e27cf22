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
    haven_store::demo::seed(&db, &hasher, &password)
        .await
        .context("cannot fill the demo database")?;
    let state = AppState::new(
        db.clone(),
        hasher,
        config::web_config(&FileConfig::default(), false),
    )
    .await?;

    let users: Vec<&str> = haven_store::demo::USERS
        .iter()
        .map(|u| u.username)
        .collect();
    println!();
    println!("  Haven demo is running at http://{address}/");
    println!(
        "  Data folder: {}{}",
        data_dir.display(),
        if args.data_dir.is_none() {
            " (removed when you stop)"
        } else {
            ""
        }
    );
    println!("  Demo users:  {}", users.join(", "));
    if chosen {
        println!("  Password:    the value of HAVEN_DEMO_PASSWORD");
    } else {
        println!(
            "  Password:    {} (the same for every demo user)",
            password.expose()
        );
    }
    println!("  Press Ctrl-C to stop.");
    println!();

    haven_web::serve(listener, state, super::shutdown_signal()).await?;
    db.close().await;
    Ok(())
}
