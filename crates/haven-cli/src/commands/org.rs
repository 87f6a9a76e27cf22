//! `haven org add|list`.

use crate::cli::{DbArgs, OrgAddArgs};
use crate::config::FileConfig;
use anyhow::{anyhow, Result};
use haven_core::{OrgKind, OrgName};

pub async fn add(args: OrgAddArgs, file: FileConfig) -> Result<()> {
    let name = OrgName::parse(&args.name).map_err(|e| anyhow!("name: {}", e.message))?;
    let kind = OrgKind::parse(&args.kind).map_err(|e| anyhow!("--kind: {}", e.message))?;
    let db = super::open_db(&args.db, &file, false).await?;
    haven_store::orgs::create(
        &db,
        &haven_core::RequestContext::system("cli:org add"),
        &name,
        kind,
    )
    .await?;
    println!("Added {} ({}).", name.as_str(), kind.as_str());
    db.close().await;
    Ok(())
}

pub async fn list(args: DbArgs, file: FileConfig) -> Result<()> {
    let db = super::open_db(&args, &file, false).await?;
    for org in haven_store::orgs::list(&db).await? {
        println!("{:<8} {}", org.kind.as_str(), org.name);
    }
    db.close().await;
    Ok(())
}
