//! The TOTP second factor (RFC 6238: 30-second steps, 6 digits, HMAC-SHA-1, which is what
//! authenticator apps support) and single-use recovery codes.
//!
//! The secret is sealed with the master key, bound to the account's ID (a database copy
//! alone cannot mint codes), and stored as `sealed:v1:<key id>:<base64>` in
//! `user_totp.secret`. A secret written in clear before sealing existed is sealed by
//! `reseal_secrets` at start-up, and on first use should one be missed. Recovery codes are stored as SHA-256 only; they carry about 78 bits
//! of randomness, so a fast hash is enough. Codes and secrets are never logged.

use crate::clock::{new_id, now};
use crate::{on_pool, on_tx, Db, Keyring, StoreError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use haven_core::{UserId, ValidationError};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};
use zeroize::Zeroizing;

/// How many recovery codes an enrolment issues.
pub const RECOVERY_CODES: usize = 10;
/// Codes from one step before and after the current one are accepted (clock drift).
const SKEW_STEPS: i64 = 1;
const STEP_SECONDS: i64 = 30;
/// Unambiguous characters for recovery codes (no 0/O, 1/I/L, U).
const RECOVERY_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";

/// A TOTP shared secret. Redacted in `Debug`; wiped on drop; never serialised.
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<String>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

impl TotpSecret {
    /// 160 random bits, the size RFC 4226 recommends for HMAC-SHA-1.
    fn generate() -> TotpSecret {
        let bytes: Zeroizing<[u8; 20]> = Zeroizing::new(rand::random());
        TotpSecret(Zeroizing::new(
            Secret::Raw(bytes.to_vec()).to_encoded().to_string(),
        ))
    }

    /// The secret in base32, as typed into an authenticator app by hand.
    pub fn base32(&self) -> &str {
        &self.0
    }

    fn totp(&self) -> Result<TOTP, StoreError> {
        let bytes = Secret::Encoded(self.0.to_string())
            .to_bytes()
            .map_err(|_| StoreError::Internal("stored TOTP secret is not base32".into()))?;
        TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes)
            .map_err(|e| StoreError::Internal(format!("stored TOTP secret refused: {e}")))
    }

    /// The `otpauth://` address an authenticator app reads from the QR code.
    pub fn otpauth_url(&self, issuer: &str, account: &str) -> String {
        let issuer = percent_encode(issuer);
        format!(
            "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits=6&period=30",
            percent_encode(account),
            self.base32()
        )
    }
}

/// Marks a stored secret as sealed; anything else is a base32 secret from before sealing.
const SEALED_PREFIX: &str = "sealed:v1:";
/// What the sealed value is bound to, besides the account.
const PURPOSE: &str = "totp";

/// The stored form of a secret: sealed under the current master key, bound to its account.
fn seal(keyring: &Keyring, user: UserId, secret: &TotpSecret) -> String {
    let (key_id, sealed) = keyring.seal_secret(PURPOSE, user.as_uuid(), secret.base32().as_bytes());
    format!("{SEALED_PREFIX}{key_id}:{}", STANDARD.encode(sealed))
}

/// A stored secret in clear, and whether it should be sealed again (written in clear, or
/// sealed under a key that has since been rotated out).
fn open(keyring: &Keyring, user: UserId, stored: &str) -> Result<(TotpSecret, bool), StoreError> {
    let Some(rest) = stored.strip_prefix(SEALED_PREFIX) else {
        return Ok((TotpSecret(Zeroizing::new(stored.to_owned())), true));
    };
    let unreadable = |why: &str| StoreError::Internal(format!("the TOTP secret of {user} {why}"));
    let (key_id, encoded) = rest
        .split_once(':')
        .ok_or_else(|| unreadable("is not in the sealed format"))?;
    let key_id = uuid::Uuid::parse_str(key_id).map_err(|_| unreadable("names no key"))?;
    let sealed = STANDARD
        .decode(encoded)
        .map_err(|_| unreadable("is not base64"))?;
    let plain = keyring
        .open_secret(key_id, PURPOSE, user.as_uuid(), &sealed)
        .map_err(|e| unreadable(&format!("does not open: {e}")))?;
    let text = std::str::from_utf8(&plain).map_err(|_| unreadable("is not text"))?;
    Ok((
        TotpSecret(Zeroizing::new(text.to_owned())),
        key_id != keyring.current().id,
    ))
}

/// Reads a stored secret; one found in clear (or under a retired key) is sealed again under
/// the current key on the way. Not audited: nobody decides anything, the value is the same.
async fn read_secret(
    db: &Db,
    keyring: &Keyring,
    user: UserId,
    stored: String,
) -> Result<TotpSecret, StoreError> {
    let (secret, reseal) = open(keyring, user, &stored)?;
    if reseal {
        on_pool!(db, pool => sqlx::query(
            "UPDATE user_totp SET secret = $1 WHERE user_id = $2 AND secret = $3",
        )
        .bind(seal(keyring, user, &secret))
        .bind(user.as_uuid())
        .bind(&stored)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(secret)
}

/// Seals every TOTP secret still in clear, or sealed under a key other than the current one
/// (after `haven keys rotate`). Run at start-up and by the rotation; returns how many.
#[tracing::instrument(skip_all)]
pub async fn reseal_secrets(db: &Db, keyring: &Keyring) -> Result<u64, StoreError> {
    let current = format!("{SEALED_PREFIX}{}:%", keyring.current().id);
    let stale: Vec<(uuid::Uuid, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT user_id, secret FROM user_totp WHERE secret NOT LIKE $1",
    )
    .bind(&current)
    .fetch_all(pool)
    .await?);
    let mut count = 0;
    for (user, stored) in stale {
        read_secret(db, keyring, UserId::from_uuid(user), stored).await?;
        count += 1;
    }
    Ok(count)
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A recovery code, shown once. Redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(Zeroizing<String>);

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(***)")
    }
}

impl RecoveryCode {
    fn generate() -> RecoveryCode {
        let mut code = String::with_capacity(19);
        for i in 0..16 {
            if i > 0 && i % 4 == 0 {
                code.push('-');
            }
            let index = rand::Rng::gen_range(&mut rand::thread_rng(), 0..RECOVERY_ALPHABET.len());
            code.push(char::from(RECOVERY_ALPHABET[index]));
        }
        RecoveryCode(Zeroizing::new(code))
    }

    /// As shown to the user: `XXXX-XXXX-XXXX-XXXX`.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Upper-case letters and digits only, so spaces, dashes and case do not matter.
fn normalise(code: &str) -> Zeroizing<String> {
    Zeroizing::new(
        code.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .take(32)
            .collect(),
    )
}

fn recovery_hash(normalised: &str) -> Vec<u8> {
    Sha256::digest(normalised.as_bytes()).to_vec()
}

/// Where an account stands with its second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpStatus {
    /// No authenticator.
    Off,
    /// A secret was issued but not yet confirmed with a code.
    Pending,
    /// Codes are required at sign-in.
    On { recovery_codes_left: u32 },
}

impl TotpStatus {
    pub fn is_on(self) -> bool {
        matches!(self, TotpStatus::On { .. })
    }
}

/// The account's second-factor status.
pub async fn status(db: &Db, user: UserId) -> Result<TotpStatus, StoreError> {
    let confirmed: Option<Option<chrono::DateTime<chrono::Utc>>> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT confirmed_at FROM user_totp WHERE user_id = $1",
    )
    .bind(user.as_uuid())
    .fetch_optional(pool)
    .await?);
    match confirmed {
        None => Ok(TotpStatus::Off),
        Some(None) => Ok(TotpStatus::Pending),
        Some(Some(_)) => {
            let left: i64 = on_pool!(db, pool => sqlx::query_scalar(
                "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
            )
            .bind(user.as_uuid())
            .fetch_one(pool)
            .await?);
            Ok(TotpStatus::On {
                recovery_codes_left: u32::try_from(left).unwrap_or(0),
            })
        }
    }
}

/// Issues a fresh secret awaiting confirmation, replacing any unconfirmed one. An account
/// whose second factor is already on is refused (409): replacing it needs its own flow.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn begin_enrolment(
    db: &Db,
    keyring: &Keyring,
    user: UserId,
) -> Result<TotpSecret, StoreError> {
    if status(db, user).await?.is_on() {
        return Err(StoreError::Conflict(
            "two-step sign-in is already on for this account".into(),
        ));
    }
    let secret = TotpSecret::generate();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query("DELETE FROM user_totp WHERE user_id = $1 AND confirmed_at IS NULL")
        .bind(user.as_uuid())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO user_totp (user_id, secret, created_at) VALUES ($1, $2, $3)",
    )
    .bind(user.as_uuid())
    .bind(seal(keyring, user, &secret))
    .bind(now())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| {
        crate::error::conflict_on_unique(e, "two-step sign-in is already on for this account")
    })?;
    tx.commit().await?;
    Ok(secret)
}

/// The secret awaiting confirmation, to show its QR code again.
pub async fn pending_secret(
    db: &Db,
    keyring: &Keyring,
    user: UserId,
) -> Result<Option<TotpSecret>, StoreError> {
    let stored: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT secret FROM user_totp WHERE user_id = $1 AND confirmed_at IS NULL",
    )
    .bind(user.as_uuid())
    .fetch_optional(pool)
    .await?);
    match stored {
        Some(stored) => Ok(Some(read_secret(db, keyring, user, stored).await?)),
        None => Ok(None),
    }
}

/// The step a code belongs to, if it is valid now (within the allowed drift).
fn matching_step(secret: &TotpSecret, code: &str, at: i64) -> Result<Option<i64>, StoreError> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = secret.totp()?;
    let current = at.div_euclid(STEP_SECONDS);
    let mut found = None;
    // Every candidate is compared, in constant time, so timing does not tell which matched.
    for step in (current - SKEW_STEPS)..=(current + SKEW_STEPS) {
        let time = u64::try_from(step * STEP_SECONDS).unwrap_or(0);
        let expected = Zeroizing::new(totp.generate(time));
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    Ok(found)
}

/// Confirms enrolment with a first code from the app. On success the second factor is on and
/// the recovery codes are returned, the only time they exist in clear.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn confirm_enrolment(
    db: &Db,
    keyring: &Keyring,
    ctx: &haven_core::RequestContext,
    user: UserId,
    code: &str,
) -> Result<Vec<RecoveryCode>, StoreError> {
    let Some(secret) = pending_secret(db, keyring, user).await? else {
        return Err(StoreError::Conflict(
            "there is no enrolment to confirm; start again".into(),
        ));
    };
    let code = normalise(code);
    let at = now();
    let Some(step) = matching_step(&secret, &code, at.timestamp())? else {
        return Err(StoreError::Invalid(ValidationError::new(
            "code",
            "that code is not right; check the time on your phone and try the current code",
        )));
    };
    let codes: Vec<RecoveryCode> = (0..RECOVERY_CODES)
        .map(|_| RecoveryCode::generate())
        .collect();
    let mut tx = db.begin().await?;
    let done = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE user_totp SET confirmed_at = $1, last_step = $2 WHERE user_id = $3 AND confirmed_at IS NULL",
    )
    .bind(at)
    .bind(step)
    .bind(user.as_uuid())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(StoreError::Conflict(
            "two-step sign-in is already on for this account".into(),
        ));
    }
    on_tx!(&mut tx, conn => sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user.as_uuid())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    for code in &codes {
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO recovery_codes (id, user_id, code_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(new_id())
        .bind(user.as_uuid())
        .bind(recovery_hash(&normalise(code.expose())))
        .bind(at)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    crate::audit::append(
        &mut tx,
        ctx,
        &crate::audit::AuditRecord {
            action: "user.totp_enable",
            entity: "user",
            entity_id: Some(user.to_string()),
            fields: &["totp", "recovery_codes"],
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Checks a sign-in code: a current authenticator code not used before, or an unused
/// recovery code (which is then spent). Both checks are single statements, so two instances
/// cannot accept the same code twice.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn verify(
    db: &Db,
    keyring: &Keyring,
    user: UserId,
    code: &str,
) -> Result<bool, StoreError> {
    let stored: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT secret FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL",
    )
    .bind(user.as_uuid())
    .fetch_optional(pool)
    .await?);
    let Some(stored) = stored else {
        return Ok(false);
    };
    let secret = read_secret(db, keyring, user, stored).await?;
    let code = normalise(code);
    let at = now();
    if let Some(step) = matching_step(&secret, &code, at.timestamp())? {
        let done = on_pool!(db, pool => sqlx::query(
            "UPDATE user_totp SET last_step = $1 WHERE user_id = $2 AND (last_step IS NULL OR last_step < $1)",
        )
        .bind(step)
        .bind(user.as_uuid())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        return Ok(done == 1);
    }
    if code.len() != 16 {
        return Ok(false);
    }
    let done = on_pool!(db, pool => sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(at)
    .bind(user.as_uuid())
    .bind(recovery_hash(&code))
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    if done > 0 {
        tracing::info!("a recovery code was used");
    }
    Ok(done > 0)
}

/// Removes an account's authenticator and recovery codes and ends its sessions, in one
/// transaction (for a lost phone and lost codes; the account enrols again).
#[tracing::instrument(skip_all, fields(username = %username))]
pub async fn reset(
    db: &Db,
    ctx: &haven_core::RequestContext,
    username: &haven_core::Username,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let id: Option<uuid::Uuid> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT id FROM users WHERE username = $1",
    )
    .bind(username.as_str())
    .fetch_optional(conn)
    .await?);
    let Some(id) = id else {
        return Err(StoreError::NotFound("user"));
    };
    for sql in [
        "DELETE FROM user_totp WHERE user_id = $1",
        "DELETE FROM recovery_codes WHERE user_id = $1",
    ] {
        on_tx!(&mut tx, conn => sqlx::query(sql)
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
    }
    on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now())
    .bind(id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    crate::audit::append(
        &mut tx,
        ctx,
        &crate::audit::AuditRecord {
            action: "user.totp_reset",
            entity: "user",
            entity_id: Some(id.to_string()),
            fields: &["totp", "recovery_codes"],
            reason: None,
        },
    )
    .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_codes_are_hidden_in_debug() {
        let s = TotpSecret::generate();
        assert_eq!(s.base32().len(), 32);
        assert_eq!(format!("{s:?}"), "TotpSecret(***)");
        let c = RecoveryCode::generate();
        assert_eq!(c.expose().len(), 19);
        assert_eq!(format!("{c:?}"), "RecoveryCode(***)");
    }

    #[test]
    fn codes_match_their_step_only() {
        let s = TotpSecret::generate();
        let totp = s.totp().unwrap();
        let at = 1_800_000_000_i64;
        let code = totp.generate(u64::try_from(at).unwrap());
        assert_eq!(matching_step(&s, &code, at).unwrap(), Some(at / 30));
        assert_eq!(matching_step(&s, &code, at + 31).unwrap(), Some(at / 30));
        assert_eq!(matching_step(&s, &code, at + 120).unwrap(), None);
        assert_eq!(matching_step(&s, "12345", at).unwrap(), None);
    }

    #[test]
    fn recovery_codes_ignore_dashes_and_case() {
        assert_eq!(&*normalise("abcd-efgh ijkl-mnpq"), "ABCDEFGHIJKLMNPQ");
    }

    #[test]
    fn otpauth_urls_are_encoded() {
        let s = TotpSecret(Zeroizing::new("JBSWY3DPEHPK3PXP".into()));
        assert_eq!(
            s.otpauth_url("Haven", "Sophea Chan"),
            "otpauth://totp/Haven:Sophea%20Chan?secret=JBSWY3DPEHPK3PXP&issuer=Haven&algorithm=SHA1&digits=6&period=30"
        );
    }
}
