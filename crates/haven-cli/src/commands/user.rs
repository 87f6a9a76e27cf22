//! `haven user add|list|disable|enable|reset-password`.

use crate::cli::{DbArgs, LanguagesArgs, PasswordArgs, UserAddArgs, UsernameArgs};
use crate::config::FileConfig;
use anyhow::{anyhow, Result};
use haven_core::{DisplayName, Locale, Password, RequestContext, Roles, Username};
use haven_store::users::{self, NewUser};
use haven_store::{orgs, HashCost, PasswordHasher};

fn password_from(stdin: bool) -> Result<(Password, bool)> {
    if stdin {
        Ok((Password::new(super::read_stdin_line()?), false))
    } else {
        Ok((Password::new(super::generate_password()), true))
    }
}

pub async fn add(args: UserAddArgs, file: FileConfig) -> Result<()> {
    let username =
        Username::parse(&args.username).map_err(|e| anyhow!("--username: {}", e.message))?;
    let display_name =
        DisplayName::parse(&args.name).map_err(|e| anyhow!("--name: {}", e.message))?;
    let roles = Roles::parse_list(&args.roles).map_err(|e| anyhow!("--roles: {}", e.message))?;
    let locale = Locale::parse(&args.locale).unwrap_or_default();
    let (password, generated) = password_from(args.password_stdin)?;
    let db = super::open_db(&args.db, &file, false).await?;
    let org = match &args.org {
        Some(name) => orgs::find_by_name(&db, name).await?.ok_or_else(|| {
            anyhow!("--org: no organisation is named '{name}'; see `haven org list`")
        })?,
        None => orgs::own(&db).await?.ok_or_else(|| {
            anyhow!(
                "the own organisation is not set up yet: run `haven org add NAME --kind own` first"
            )
        })?,
    };
    let hasher = PasswordHasher::new(HashCost::STANDARD)?;
    users::create(
        &db,
        &RequestContext::system("cli:user add"),
        &hasher,
        &NewUser {
            org_id: org.id,
            username: username.clone(),
            display_name,
            roles,
            locale,
        },
        &password,
    )
    .await?;
    println!("Added {username} ({}) to {}.", args.roles, org.name);
    if generated {
        println!(
            "Password (shown once; give it to the user in person): {}",
            password.expose()
        );
    }
    db.close().await;
    Ok(())
}

pub async fn list(args: DbArgs, file: FileConfig) -> Result<()> {
    let db = super::open_db(&args, &file, false).await?;
    let mut after: Option<String> = None;
    println!(
        "{:<24} {:<28} {:<24} {:<32} status",
        "username", "name", "roles", "organisation"
    );
    loop {
        let page = users::list(&db, after.as_deref(), 200).await?;
        for u in &page {
            println!(
                "{:<24} {:<28} {:<24} {:<32} {}",
                u.username.as_str(),
                u.display_name,
                u.roles.to_string(),
                u.org_name,
                if u.disabled { "disabled" } else { "active" }
            );
        }
        match page.last() {
            Some(last) if page.len() == 200 => after = Some(last.username.to_string()),
            _ => break,
        }
    }
    db.close().await;
    Ok(())
}

pub async fn set_disabled(args: UsernameArgs, file: FileConfig, disabled: bool) -> Result<()> {
    let username =
        Username::parse(&args.username).map_err(|e| anyhow!("username: {}", e.message))?;
    let db = super::open_db(&args.db, &file, false).await?;
    users::set_disabled(
        &db,
        &RequestContext::system(if disabled {
            "cli:user disable"
        } else {
            "cli:user enable"
        }),
        &username,
        disabled,
    )
    .await
    .map_err(|e| anyhow!("{username}: {e}"))?;
    println!(
        "{username} is {}.",
        if disabled {
            "disabled and signed out everywhere"
        } else {
            "enabled"
        }
    );
    db.close().await;
    Ok(())
}

pub async fn reset_password(args: PasswordArgs, file: FileConfig) -> Result<()> {
    let username =
        Username::parse(&args.username).map_err(|e| anyhow!("username: {}", e.message))?;
    let (password, generated) = password_from(args.password_stdin)?;
    let db = super::open_db(&args.db, &file, false).await?;
    let hasher = PasswordHasher::new(HashCost::STANDARD)?;
    users::set_password(
        &db,
        &RequestContext::system("cli:user reset-password"),
        &hasher,
        &username,
        &password,
    )
    .await
    .map_err(|e| anyhow!("{username}: {e}"))?;
    println!("New password set for {username}; their sessions have ended.");
    if generated {
        println!("Password (shown once): {}", password.expose());
    }
    db.close().await;
    Ok(())
}

/// For a person who lost both the phone and the recovery codes; an administrator confirms
/// who she is out of band before running this.
pub async fn reset_totp(args: UsernameArgs, file: FileConfig) -> Result<()> {
    let username =
        Username::parse(&args.username).map_err(|e| anyhow!("username: {}", e.message))?;
    let db = super::open_db(&args.db, &file, false).await?;
    haven_store::totp::reset(
        &db,
        &haven_core::RequestContext::system("cli:user reset-totp"),
        &username,
    )
    .await
    .map_err(|e| anyhow!("{username}: {e}"))?;
    println!("Two-step sign-in removed for {username}; their sessions have ended.");
    db.close().await;
    Ok(())
}

pub async fn languages(args: LanguagesArgs, file: FileConfig) -> Result<()> {
    let username =
        Username::parse(&args.username).map_err(|e| anyhow!("username: {}", e.message))?;
    let db = super::open_db(&args.db, &file, false).await?;
    let user = users::find_by_username(&db, &username)
        .await?
        .ok_or_else(|| anyhow!("{username}: user not found"))?;
    users::set_languages(
        &db,
        &RequestContext::system("cli:user languages"),
        user.id,
        &args.languages,
    )
    .await
    .map_err(|e| anyhow!("{username}: {e}"))?;
    println!("{username} speaks: {}", args.languages.trim());
    db.close().await;
    Ok(())
}
