//! `haven keys init|rotate`.

use crate::cli::{KeyFileArgs, KeysRotateArgs};
use crate::config::{self, FileConfig};
use anyhow::{anyhow, Context, Result};
use haven_store::crypto::registry;
use haven_store::Keyring;
use std::path::{Path, PathBuf};

pub fn init(args: KeyFileArgs, file: FileConfig) -> Result<()> {
    let data_dir = args.data_dir.as_deref().or(file.data_dir.as_deref());
    let path = config::key_file(args.key_file.as_deref(), &file, data_dir);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        haven_store::private_fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    Keyring::generate()
        .write_new(&path)
        .map_err(|e| anyhow!("{e}"))?;
    println!("Created {} (readable only by you).", path.display());
    println!(
        "Back it up somewhere apart from the database: without it no survivor record can be read."
    );
    Ok(())
}

fn next_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".next");
    PathBuf::from(name)
}

pub async fn rotate(args: KeysRotateArgs, file: FileConfig) -> Result<()> {
    let data_dir = args.db.data_dir.as_deref().or(file.data_dir.as_deref());
    let path = config::key_file(args.key_file.as_deref(), &file, data_dir);
    let next = next_path(&path);
    let db = super::open_db(&args.db, &file, false).await?;
    // An interrupted rotation left its new key file beside the old one: carry on with it.
    let keyring = if next.exists() {
        println!(
            "Resuming the rotation started earlier ({}).",
            next.display()
        );
        Keyring::load(&next).map_err(|e| anyhow!("{e}"))?
    } else {
        let current = super::load_keyring(&db, &path).await?;
        let rotated = current.rotated();
        rotated.write_new(&next).map_err(|e| anyhow!("{e}"))?;
        rotated
    };
    registry::verify_or_register(&db, &keyring).await?;
    let total = registry::pending_rewrap(&db, &keyring).await?;
    let mut done: u64 = 0;
    loop {
        let n = registry::rewrap_batch(&db, &keyring, 500).await?;
        if n == 0 {
            break;
        }
        done += n;
        println!("re-wrapped {done} of {total} data keys");
    }
    let secrets = haven_store::totp::reseal_secrets(&db, &keyring).await?;
    if secrets > 0 {
        println!("re-sealed {secrets} TOTP secrets");
    }
    std::fs::rename(&next, &path)
        .with_context(|| format!("cannot replace {} with {}", path.display(), next.display()))?;
    println!(
        "Rotation complete: {done} data keys now use master key {}. {} holds the new key (and the old one, retired).",
        keyring.current().id,
        path.display()
    );
    db.close().await;
    Ok(())
}
