//! Staff accounts: creation, look-up, listing, disabling, passwords and login.

use crate::audit::{self, AuditRecord};
use crate::clock::{new_id, now};
use crate::error::conflict_on_unique;
use crate::password::{PasswordHasher, Verified};
use crate::{on_pool, on_tx, Db, StoreError, Tx};
use chrono::{DateTime, Utc};
use haven_core::{
    check_password_policy, Actor, DisplayName, Locale, OrgId, OrgKind, Password, RequestContext,
    Role, Roles, UserId, Username,
};
use uuid::Uuid;

/// A staff account as the rest of Haven sees it (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub org_name: String,
    pub org_kind: OrgKind,
    pub username: Username,
    pub display_name: String,
    pub roles: Roles,
    pub locale: Locale,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// What is needed to add an account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub org_id: OrgId,
    pub username: Username,
    pub display_name: DisplayName,
    pub roles: Roles,
    pub locale: Locale,
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: Uuid,
    org_id: Uuid,
    org_name: String,
    org_kind: String,
    username: String,
    display_name: String,
    locale: String,
    disabled_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    pub(crate) password_hash: String,
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.org_id, o.name AS org_name, o.kind AS org_kind, \
     u.username, u.display_name, u.locale, u.disabled_at, u.created_at, u.password_hash";

impl UserRow {
    pub(crate) fn into_user(self, roles: Vec<String>) -> Result<User, StoreError> {
        let corrupt = |what: &str, e: haven_core::ValidationError| {
            StoreError::Internal(format!("stored user {}: {what}: {e}", self.id))
        };
        let roles = Roles::new(
            roles
                .iter()
                .map(|r| Role::parse(r))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| corrupt("role", e))?,
        )
        .map_err(|e| corrupt("roles", e))?;
        Ok(User {
            id: UserId::from_uuid(self.id),
            org_id: OrgId::from_uuid(self.org_id),
            org_kind: OrgKind::parse(&self.org_kind).map_err(|e| corrupt("org kind", e))?,
            org_name: self.org_name.clone(),
            username: Username::parse(&self.username).map_err(|e| corrupt("username", e))?,
            display_name: self.display_name.clone(),
            roles,
            locale: Locale::parse(&self.locale).unwrap_or_default(),
            disabled: self.disabled_at.is_some(),
            created_at: self.created_at,
        })
    }
}

pub(crate) async fn roles_of(db: &Db, id: Uuid) -> Result<Vec<String>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_scalar(
        "SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role",
    )
    .bind(id)
    .fetch_all(pool)
    .await?))
}

/// Adds an account with its roles, in one transaction. The password is checked against the
/// policy before anything is written.
#[tracing::instrument(skip_all, fields(username = %new.username))]
pub async fn create(
    db: &Db,
    ctx: &RequestContext,
    hasher: &PasswordHasher,
    new: &NewUser,
    password: &Password,
) -> Result<UserId, StoreError> {
    check_password_policy(password, new.username.as_str())?;
    let hash = hasher.hash(password).await?;
    create_with_hash(db, ctx, new, &hash).await
}

/// Adds an account whose password is already hashed (demo data hashes once per user).
pub async fn create_with_hash(
    db: &Db,
    ctx: &RequestContext,
    new: &NewUser,
    hash: &str,
) -> Result<UserId, StoreError> {
    let id = new_id();
    let at = now();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO users (id, org_id, username, display_name, password_hash, locale, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(id)
    .bind(new.org_id.as_uuid())
    .bind(new.username.as_str())
    .bind(new.display_name.as_str())
    .bind(hash)
    .bind(new.locale.code())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| {
        conflict_on_unique(e, &format!("the username '{}' is already taken", new.username))
    })?;
    for role in new.roles.iter() {
        on_tx!(&mut tx, conn => sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(id)
            .bind(role.as_str())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
    }
    audit::append(
        &mut tx,
        ctx,
        &AuditRecord {
            action: "user.create",
            entity: "user",
            entity_id: Some(id.to_string()),
            fields: &[
                "org_id",
                "username",
                "display_name",
                "password_hash",
                "locale",
                "roles",
            ],
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(UserId::from_uuid(id))
}

async fn row_by_username(db: &Db, username: &Username) -> Result<Option<UserRow>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.username = $1"
    );
    Ok(on_pool!(db, pool => sqlx::query_as::<_, UserRow>(&sql)
        .bind(username.as_str())
        .fetch_optional(pool)
        .await?))
}

/// Finds an account by username.
pub async fn find_by_username(db: &Db, username: &Username) -> Result<Option<User>, StoreError> {
    match row_by_username(db, username).await? {
        Some(row) => {
            let roles = roles_of(db, row.id).await?;
            Ok(Some(row.into_user(roles)?))
        }
        None => Ok(None),
    }
}

/// One page of accounts, ordered by username. `after` is the last username of the previous
/// page (the cursor); `limit` is capped at 200.
pub async fn list(db: &Db, after: Option<&str>, limit: u32) -> Result<Vec<User>, StoreError> {
    let limit = i64::from(limit.clamp(1, 200));
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id
         WHERE u.username > $1 ORDER BY u.username LIMIT $2"
    );
    let rows: Vec<UserRow> = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(pool)
        .await?);
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(Vec::new());
    };
    // The roles of the whole page in one portable query: users between the first and the
    // last username of the page.
    let pairs: Vec<(Uuid, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT r.user_id, r.role FROM user_roles r JOIN users u ON u.id = r.user_id
         WHERE u.username >= $1 AND u.username <= $2 ORDER BY r.role",
    )
    .bind(&first.username)
    .bind(&last.username)
    .fetch_all(pool)
    .await?);
    rows.into_iter()
        .map(|row| {
            let roles = pairs
                .iter()
                .filter(|(id, _)| *id == row.id)
                .map(|(_, r)| r.clone())
                .collect();
            row.into_user(roles)
        })
        .collect()
}

/// Disables or re-enables an account. Disabling also ends every session of the account.
#[tracing::instrument(skip_all, fields(username = %username, disabled))]
pub async fn set_disabled(
    db: &Db,
    ctx: &RequestContext,
    username: &Username,
    disabled: bool,
) -> Result<(), StoreError> {
    let at = now();
    let mut tx = db.begin().await?;
    let disabled_at = disabled.then_some(at);
    let id: Option<Uuid> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "UPDATE users SET disabled_at = $1, updated_at = $2 WHERE username = $3 RETURNING id",
    )
    .bind(disabled_at)
    .bind(at)
    .bind(username.as_str())
    .fetch_optional(conn)
    .await?);
    let Some(id) = id else {
        return Err(StoreError::NotFound("user"));
    };
    if disabled {
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE sessions SET revoked_at = $1
             WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE username = $2)",
        )
        .bind(at)
        .bind(username.as_str())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    audit_user(
        &mut tx,
        ctx,
        if disabled {
            "user.disable"
        } else {
            "user.enable"
        },
        id,
        &["disabled_at"],
    )
    .await?;
    tx.commit().await
}

/// Sets a new password (checked against the policy) and ends every session of the account.
#[tracing::instrument(skip_all, fields(username = %username))]
pub async fn set_password(
    db: &Db,
    ctx: &RequestContext,
    hasher: &PasswordHasher,
    username: &Username,
    password: &Password,
) -> Result<(), StoreError> {
    check_password_policy(password, username.as_str())?;
    let hash = hasher.hash(password).await?;
    let at = now();
    let mut tx = db.begin().await?;
    let id: Option<Uuid> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "UPDATE users SET password_hash = $1, updated_at = $2 WHERE username = $3 RETURNING id",
    )
    .bind(&hash)
    .bind(at)
    .bind(username.as_str())
    .fetch_optional(conn)
    .await?);
    let Some(id) = id else {
        return Err(StoreError::NotFound("user"));
    };
    on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE sessions SET revoked_at = $1
         WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE username = $2)",
    )
    .bind(at)
    .bind(username.as_str())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    audit_user(&mut tx, ctx, "user.set_password", id, &["password_hash"]).await?;
    tx.commit().await
}

/// Remembers a user's language.
pub async fn set_locale(
    db: &Db,
    ctx: &RequestContext,
    user: UserId,
    locale: Locale,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let done = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE users SET locale = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(locale.code())
    .bind(now())
    .bind(user.as_uuid())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(StoreError::NotFound("user"));
    }
    audit_user(&mut tx, ctx, "user.set_locale", user.as_uuid(), &["locale"]).await?;
    tx.commit().await
}

/// Records the languages a staff member speaks (codes such as `km,vi`): the roster checks that
/// a girl who speaks only Vietnamese has Vietnamese-speaking staff on duty.
pub async fn set_languages(
    db: &Db,
    ctx: &RequestContext,
    user: UserId,
    languages: &str,
) -> Result<(), StoreError> {
    let codes = haven_core::survivor::parse_languages("languages", languages)?.join(",");
    let mut tx = db.begin().await?;
    let done = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE users SET languages = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(codes)
    .bind(now())
    .bind(user.as_uuid())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(StoreError::NotFound("user"));
    }
    audit_user(
        &mut tx,
        ctx,
        "user.set_languages",
        user.as_uuid(),
        &["languages"],
    )
    .await?;
    tx.commit().await
}

/// Appends an event about one user account.
async fn audit_user(
    tx: &mut Tx,
    ctx: &RequestContext,
    action: &str,
    id: Uuid,
    fields: &[&str],
) -> Result<(), StoreError> {
    audit::append(
        tx,
        ctx,
        &AuditRecord {
            action,
            entity: "user",
            entity_id: Some(id.to_string()),
            fields,
            reason: None,
        },
    )
    .await
}

/// Checks a username and password. Unknown user, wrong password and disabled account all give
/// the same error after the same work, so the answer reveals nothing.
///
/// Both outcomes are audited: a success as `auth.login` by the user herself, a failure as
/// `auth.login_failed` by `ctx`'s actor, naming the account only when it exists (the typed
/// username is not recorded: people sometimes type their password into that box).
#[tracing::instrument(skip_all)]
pub async fn authenticate(
    db: &Db,
    ctx: &RequestContext,
    hasher: &PasswordHasher,
    username: &str,
    password: &Password,
) -> Result<User, StoreError> {
    let row = match Username::parse(username) {
        Ok(name) => row_by_username(db, &name).await?,
        Err(_) => None,
    };
    let verified = hasher
        .verify(password, row.as_ref().map(|r| r.password_hash.as_str()))
        .await?;
    let known = row.as_ref().map(|r| r.id);
    let row = match (row, verified) {
        (Some(row), Verified::Yes { needs_rehash }) if row.disabled_at.is_none() => {
            (row, needs_rehash)
        }
        _ => {
            let mut tx = db.begin().await?;
            let record = AuditRecord {
                action: "auth.login_failed",
                entity: "user",
                entity_id: known.map(|id| id.to_string()),
                fields: &[],
                reason: None,
            };
            audit::append(&mut tx, ctx, &record).await?;
            tx.commit().await?;
            return Err(StoreError::BadCredentials);
        }
    };
    let (row, needs_rehash) = row;
    let roles = roles_of(db, row.id).await?;
    let user = row.into_user(roles)?;
    // From here on the user herself is the actor.
    let ctx = RequestContext {
        actor: Actor::User {
            id: user.id,
            roles: user.roles.clone(),
        },
        ..ctx.clone()
    };
    let hash = if needs_rehash {
        Some(hasher.hash(password).await?)
    } else {
        None
    };
    let mut tx = db.begin().await?;
    if let Some(hash) = hash {
        on_tx!(&mut tx, conn => sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(user.id.as_uuid())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        audit_user(
            &mut tx,
            &ctx,
            "user.password_rehash",
            user.id.as_uuid(),
            &["password_hash"],
        )
        .await?;
        tracing::info!("password hash upgraded to the current cost");
    }
    audit_user(&mut tx, &ctx, "auth.login", user.id.as_uuid(), &[]).await?;
    tx.commit().await?;
    Ok(user)
}

/// Finds an account by its ID (the second sign-in step knows only the ID).
pub async fn find_by_id(db: &Db, id: UserId) -> Result<Option<User>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.id = $1"
    );
    let row: Option<UserRow> = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(id.as_uuid())
        .fetch_optional(pool)
        .await?);
    match row {
        Some(row) => {
            let roles = roles_of(db, row.id).await?;
            Ok(Some(row.into_user(roles)?))
        }
        None => Ok(None),
    }
}

/// The active (not disabled) accounts of one organisation with their roles, by username; at
/// most 1,000 (an organisation's staff).
pub(crate) async fn active_in_org(db: &Db, org: OrgId) -> Result<Vec<User>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id
         WHERE u.org_id = $1 AND u.disabled_at IS NULL ORDER BY u.username LIMIT 1000"
    );
    let rows: Vec<UserRow> = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(org.as_uuid())
        .fetch_all(pool)
        .await?);
    let pairs: Vec<(Uuid, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT r.user_id, r.role FROM user_roles r JOIN users u ON u.id = r.user_id
         WHERE u.org_id = $1 AND u.disabled_at IS NULL ORDER BY r.role",
    )
    .bind(org.as_uuid())
    .fetch_all(pool)
    .await?);
    rows.into_iter()
        .map(|row| {
            let roles = pairs
                .iter()
                .filter(|(id, _)| *id == row.id)
                .map(|(_, r)| r.clone())
                .collect();
            row.into_user(roles)
        })
        .collect()
}
