//! Login sessions, kept in the database so any instance behind a load balancer can check them.
//!
//! A session is identified by a random 256-bit token given to the client once (as a cookie or
//! a bearer token). Only the token's SHA-256 is stored.

use crate::audit::{self, AuditRecord};
use crate::clock::{new_id, now};
use crate::users::{roles_of, User, UserRow, USER_COLUMNS};
use crate::{on_pool, on_tx, Db, StoreError, Tx};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use haven_core::{RequestContext, SessionId, SessionPolicy, UserId};
use sha2::{Digest, Sha256};
use std::fmt;
use uuid::Uuid;
use zeroize::Zeroizing;

/// Browser sessions use a cookie; API sessions a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Browser,
    Api,
}

impl SessionKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionKind::Browser => "browser",
            SessionKind::Api => "api",
        }
    }
}

/// What a session may do. API tokens can be limited to reading, for scripts and dashboards
/// that should never change anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionScope {
    #[default]
    Full,
    Read,
}

impl SessionScope {
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionScope::Full => "full",
            SessionScope::Read => "read",
        }
    }

    pub fn parse(input: &str) -> Option<SessionScope> {
        match input.trim() {
            "full" => Some(SessionScope::Full),
            "read" => Some(SessionScope::Read),
            _ => None,
        }
    }
}

/// The secret a client presents. Redacted in `Debug`; wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(Zeroizing<String>);

impl SessionToken {
    pub(crate) fn generate() -> SessionToken {
        let bytes: [u8; 32] = rand::random();
        SessionToken(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Wraps a token a client sent. Anything not shaped like a token is refused without a
    /// database look-up.
    pub fn from_client(raw: &str) -> Option<SessionToken> {
        let raw = raw.trim();
        (raw.len() == 43
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| SessionToken(Zeroizing::new(raw.to_owned())))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn digest(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

/// What is known about a session, for the session list and for the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub kind: SessionKind,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub client_addr: Option<String>,
    pub scope: SessionScope,
}

/// Where a login came from, kept with the session so a user can recognise her sessions.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub addr: Option<String>,
    pub user_agent: Option<String>,
}

/// Starts a session for a user who has just proven who she is.
#[tracing::instrument(skip_all, fields(user = %user, kind = kind.as_str()))]
pub async fn start(
    db: &Db,
    ctx: &RequestContext,
    user: UserId,
    kind: SessionKind,
    policy: &SessionPolicy,
    client: &ClientInfo,
) -> Result<(SessionToken, Session), StoreError> {
    start_scoped(db, ctx, user, kind, SessionScope::Full, policy, client).await
}

/// Starts a session limited to `scope` (API tokens may be read-only).
#[tracing::instrument(skip_all, fields(user = %user, kind = kind.as_str(), scope = scope.as_str()))]
pub async fn start_scoped(
    db: &Db,
    ctx: &RequestContext,
    user: UserId,
    kind: SessionKind,
    scope: SessionScope,
    policy: &SessionPolicy,
    client: &ClientInfo,
) -> Result<(SessionToken, Session), StoreError> {
    let token = SessionToken::generate();
    let id = new_id();
    let at = now();
    let expires_at = policy.expires_at(at);
    let user_agent = client
        .user_agent
        .as_deref()
        .map(|ua| ua.chars().take(300).collect::<String>());
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO sessions (id, token_hash, user_id, kind, created_at, last_seen_at, expires_at, client_addr, user_agent, scope)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(token.digest())
    .bind(user.as_uuid())
    .bind(kind.as_str())
    .bind(at)
    .bind(expires_at)
    .bind(client.addr.as_deref())
    .bind(user_agent)
    .bind(scope.as_str())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    audit_session(&mut tx, ctx, "session.start", id).await?;
    tx.commit().await?;
    Ok((
        token,
        Session {
            id: SessionId::from_uuid(id),
            kind,
            created_at: at,
            last_seen_at: at,
            expires_at,
            client_addr: client.addr.clone(),
            scope,
        },
    ))
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_id: Uuid,
    session_kind: String,
    session_created_at: DateTime<Utc>,
    session_last_seen_at: DateTime<Utc>,
    session_expires_at: DateTime<Utc>,
    session_revoked_at: Option<DateTime<Utc>>,
    session_client_addr: Option<String>,
    session_scope: String,
}

/// Session columns, prefixed so they can sit beside the user's in one row.
const SESSION_COLUMNS: &str = "s.id AS session_id, s.kind AS session_kind, \
     s.created_at AS session_created_at, s.last_seen_at AS session_last_seen_at, \
     s.expires_at AS session_expires_at, s.revoked_at AS session_revoked_at, \
     s.client_addr AS session_client_addr, s.scope AS session_scope";

impl SessionRow {
    fn into_session(self) -> Session {
        Session {
            id: SessionId::from_uuid(self.session_id),
            kind: if self.session_kind == "api" {
                SessionKind::Api
            } else {
                SessionKind::Browser
            },
            created_at: self.session_created_at,
            last_seen_at: self.session_last_seen_at,
            expires_at: self.session_expires_at,
            client_addr: self.session_client_addr,
            // Anything unreadable is treated as the narrower scope.
            scope: SessionScope::parse(&self.session_scope).unwrap_or(SessionScope::Read),
        }
    }
}

/// Activity within this window does not rewrite `last_seen_at`, sparing a write per request.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Resolves a presented token to its user, if the session is valid under `policy` and the
/// account is enabled. Refreshes the idle clock.
///
/// The idle-clock refresh is deliberately not audited: it happens on ordinary requests (at
/// most once a minute per session), records nothing a person chose to change, and would bury
/// the meaningful events in noise. The reads and writes the request itself makes are audited
/// where they happen.
pub async fn resolve(
    db: &Db,
    token: &SessionToken,
    policy: &SessionPolicy,
) -> Result<Option<(User, Session)>, StoreError> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS}, {USER_COLUMNS}
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.org_id
         WHERE s.token_hash = $1"
    );
    let digest = token.digest();
    let found: Option<(SessionRow, UserRow)> = on_pool!(db, pool => {
        let row = sqlx::query(&sql).bind(&digest).fetch_optional(pool).await?;
        match row {
            Some(row) => {
                use sqlx::FromRow;
                Some((SessionRow::from_row(&row)?, UserRow::from_row(&row)?))
            }
            None => None,
        }
    });
    let Some((session, user)) = found else {
        return Ok(None);
    };
    let at = now();
    let absolute_end = session
        .session_expires_at
        .min(policy.expires_at(session.session_created_at));
    if policy
        .check(
            session.session_created_at,
            session.session_last_seen_at,
            session.session_revoked_at.is_some(),
            at,
        )
        .is_err()
        || at >= absolute_end
    {
        return Ok(None);
    }
    let roles = roles_of(db, user.id).await?;
    let user = user.into_user(roles)?;
    if user.disabled {
        return Ok(None);
    }
    if at - session.session_last_seen_at >= TOUCH_EVERY {
        on_pool!(db, pool => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(at)
            .bind(session.session_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(Some((user, session.into_session())))
}

/// Ends one session (logout). Ending an unknown or already ended session is not an error,
/// and, having changed nothing, is not audited.
pub async fn revoke(db: &Db, ctx: &RequestContext, token: &SessionToken) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let ended: Option<Uuid> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL RETURNING id",
    )
    .bind(now())
    .bind(token.digest())
    .fetch_optional(conn)
    .await?);
    if let Some(id) = ended {
        audit_session(&mut tx, ctx, "session.revoke", id).await?;
    }
    tx.commit().await
}

/// Ends every session of a user ("log out everywhere"); returns how many ended. Audited even
/// when none were open, since the user asked for it.
pub async fn revoke_all(db: &Db, ctx: &RequestContext, user: UserId) -> Result<u64, StoreError> {
    let mut tx = db.begin().await?;
    let done = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now())
    .bind(user.as_uuid())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        ctx,
        &AuditRecord {
            action: "session.revoke_all",
            entity: "user",
            entity_id: Some(user.to_string()),
            fields: &["revoked_at"],
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}

/// Appends an event about one session (never its token).
async fn audit_session(
    tx: &mut Tx,
    ctx: &RequestContext,
    action: &str,
    id: Uuid,
) -> Result<(), StoreError> {
    let fields: &[&str] = if action == "session.start" {
        &["user_id", "kind", "expires_at", "client_addr", "user_agent"]
    } else {
        &["revoked_at"]
    };
    audit::append(
        tx,
        ctx,
        &AuditRecord {
            action,
            entity: "session",
            entity_id: Some(id.to_string()),
            fields,
            reason: None,
        },
    )
    .await
}

/// The user's sessions that are still open, newest first (at most 100).
pub async fn list_open(db: &Db, user: UserId) -> Result<Vec<Session>, StoreError> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s
         WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
         ORDER BY s.created_at DESC LIMIT 100"
    );
    let rows: Vec<SessionRow> = on_pool!(db, pool => sqlx::query_as(&sql)
    .bind(user.as_uuid())
    .bind(now())
    .fetch_all(pool)
    .await?);
    Ok(rows.into_iter().map(SessionRow::into_session).collect())
}

/// Ends one of the user's own sessions by its ID. Another user's session is "not found",
/// so IDs of other people's sessions cannot be probed.
pub async fn revoke_own(
    db: &Db,
    ctx: &RequestContext,
    user: UserId,
    id: SessionId,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let done = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now())
    .bind(id.as_uuid())
    .bind(user.as_uuid())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(StoreError::NotFound("session"));
    }
    audit_session(&mut tx, ctx, "session.revoke", id.as_uuid()).await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hidden() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert_eq!(format!("{a:?}"), "SessionToken(***)");
        assert!(SessionToken::from_client(a.expose()).is_some());
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_lookup() {
        assert!(SessionToken::from_client("short").is_none());
        assert!(SessionToken::from_client(&"a'; DROP TABLE x;--".repeat(3)).is_none());
    }
}
