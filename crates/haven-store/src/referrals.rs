//! Referrals to partner organisations: matching, her informed consent, the referral's life
//! from draft to discharge, services delivered, where she has lived, and the aftercare
//! leads' dashboard.
//!
//! Consent is built on `survivor_shares`: recording consent creates the share that the
//! access policy reads, and withdrawing it withdraws the share, so the partner loses access
//! from that moment. Each step of a referral is audited and notifies the other side.
//!
//! Beds: a partner accepting a placement takes a bed in the same transaction as the
//! acceptance, with a conditional `UPDATE ... WHERE occupancy < beds`, so two acceptances of
//! the last bed cannot both succeed. Discharge or withdrawal gives the bed back.

use crate::audit::{self, AuditRecord};
use crate::clock::{new_id, now};
use crate::crypto::{DataKey, Keyring, Sealed};
use crate::partner_profiles;
use crate::survivors;
use crate::users::User;
use crate::{notifications, on_pool, on_tx, Db, StoreError, Tx};
use chrono::{DateTime, NaiveDate, Utc};
use haven_core::matching::{self, judge, rank, Need, Ranking, Sex, SurvivorFacts};
use haven_core::notification::NotificationKind;
use haven_core::policy::Action;
use haven_core::referral::{
    check_cosigner, transition, CosignerRole, ReferralEvent, ReferralStatus, Side,
};
use haven_core::survivor::{age_on, parse_languages};
use haven_core::{
    FieldClass, OrgId, OrgKind, PartnerService, RequestContext, Role, SurvivorField, SurvivorId,
    UserId, ValidationError,
};
use std::collections::BTreeMap;
use uuid::Uuid;

// ----------------------------------------------------------------------------------------
// What is known about her, for matching.

async fn minor_status(db: &Db, survivor: Uuid) -> Result<Option<String>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_scalar(
        "SELECT minor_status FROM identifications WHERE survivor_id = $1 ORDER BY screened_at DESC LIMIT 1",
    )
    .bind(survivor)
    .fetch_optional(pool)
    .await?))
}

/// Her facts as matching needs them, from the fields `user` may read (the read is audited)
/// and from identification and earlier referrals.
pub async fn facts(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    survivor: SurvivorId,
) -> Result<SurvivorFacts, StoreError> {
    let view = survivors::read(db, keyring, user, ctx, survivor).await?;
    let id = survivor.as_uuid();
    let field = |f: SurvivorField| {
        view.fields
            .get(&f)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let today = crate::clock::team_today();
    let age = field(SurvivorField::DateOfBirth)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .and_then(|dob| age_on(dob, today))
        .and_then(|a| u8::try_from(a).ok())
        .or_else(|| field(SurvivorField::StatedAge).and_then(|a| a.parse().ok()))
        .or_else(|| field(SurvivorField::EstimatedAge).and_then(|a| a.parse().ok()));
    let minor = match minor_status(db, id).await?.as_deref() {
        Some("certain" | "probable") => true,
        Some(_) => false,
        None => age.is_some_and(|a| a < matching::ADULT_AGE),
    };
    let declined: Vec<Uuid> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT org_id FROM referrals WHERE survivor_id = $1 AND withdraw_reason = 'she_declined'",
    )
    .bind(id)
    .fetch_all(pool)
    .await?);
    let placed: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM referrals WHERE survivor_id = $1 AND need = 'placement' AND admitted_at IS NOT NULL)
              + (SELECT count(*) FROM care_episodes WHERE survivor_id = $1 AND placed_at IS NOT NULL)",
    )
    .bind(id)
    .fetch_one(pool)
    .await?);
    Ok(SurvivorFacts {
        age,
        minor,
        sex: field(SurvivorField::Sex).and_then(|s| Sex::parse(s).ok()),
        languages: field(SurvivorField::Languages)
            .and_then(|l| parse_languages("languages", l).ok())
            .unwrap_or_default(),
        home_region: field(SurvivorField::HomeRegion).map(str::to_lowercase),
        declined: declined.into_iter().map(OrgId::from_uuid).collect(),
        placed_before: placed > 0,
    })
}

/// Ranks every partner for her need, with reasons. For those who may refer her.
pub async fn matches(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    survivor: SurvivorId,
    need: Need,
) -> Result<(SurvivorFacts, Ranking), StoreError> {
    survivors::ensure_may(db, user, survivor, Action::Share).await?;
    let facts = facts(db, keyring, user, ctx, survivor).await?;
    let profiles: Vec<_> = partner_profiles::all(db)
        .await?
        .into_iter()
        .map(|e| e.profile)
        .collect();
    let ranking = rank(&facts, need, &profiles);
    Ok((facts, ranking))
}

// ----------------------------------------------------------------------------------------
// Consent.

/// Her informed consent to share, as recorded by a caseworker.
#[derive(Debug, Clone)]
pub struct ConsentInput {
    pub org: OrgId,
    pub classes: Vec<FieldClass>,
    /// What it is for, in words she was told.
    pub purpose: String,
    /// The language the consent was explained in (a code such as `vi`).
    pub language: String,
    /// The staff member who explained it; the recording user when `None`.
    pub explained_by: Option<UserId>,
    /// For a minor: who co-signs, and their name.
    pub cosigner: Option<(CosignerRole, String)>,
}

/// A recorded consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: Uuid,
    pub org_id: OrgId,
    pub org_name: String,
    pub classes: Vec<FieldClass>,
    pub purpose: String,
    pub language: String,
    pub explained_by: String,
    pub cosigner_role: Option<CosignerRole>,
    pub cosigner_name: Option<String>,
    pub given_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

async fn data_key(db: &Db, keyring: &Keyring, id: Uuid) -> Result<DataKey, StoreError> {
    let found: Option<(Uuid, Option<Vec<u8>>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT master_key_id, wrapped_key FROM survivor_keys WHERE survivor_id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?);
    match found {
        Some((key_id, Some(wrapped))) => keyring
            .unwrap(key_id, &wrapped, id)
            .map_err(|e| StoreError::Internal(format!("survivor {id}: {e}"))),
        _ => Err(StoreError::Conflict(
            "this record was erased: nothing can be shared".to_owned(),
        )),
    }
}

fn cosigner_field(consent: Uuid) -> String {
    format!("consent_cosigner:{consent}")
}

/// What the information will be used for can describe her situation: sealed with her key.
fn purpose_field(consent: Uuid) -> String {
    format!("consent_purpose:{consent}")
}

/// The partner organisation named in a request, or a message naming the field.
async fn partner_org(db: &Db, org: OrgId) -> Result<partner_profiles::DirectoryEntry, StoreError> {
    match partner_profiles::load(db, org).await {
        Err(StoreError::NotFound(_)) => Err(ValidationError::new(
            "organisation_id",
            "is not a partner organisation in the directory",
        )
        .into()),
        other => other,
    }
}

/// Records her informed consent to share `classes` with one partner, and creates the share
/// the access policy reads. A minor's consent needs a co-signer.
#[tracing::instrument(skip_all, fields(user = %user.id, survivor = %survivor))]
pub async fn record_consent(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    survivor: SurvivorId,
    input: &ConsentInput,
) -> Result<Uuid, StoreError> {
    let consent = prepare_consent(db, keyring, user, ctx, survivor, input).await?;
    let mut tx = db.begin().await?;
    insert_consent_in(&mut tx, user, ctx, &consent, now()).await?;
    tx.commit().await?;
    Ok(consent.id)
}

/// A consent checked and sealed, ready to be written.
struct PreparedConsent {
    id: Uuid,
    share_id: Uuid,
    survivor: Uuid,
    org: OrgId,
    org_name: String,
    classes: Vec<FieldClass>,
    sealed_purpose: Vec<u8>,
    explained_by: UserId,
    language: String,
    cosigner_role: Option<&'static str>,
    sealed_cosigner: Option<Vec<u8>>,
}

/// Checks a consent (who may record it, what she shares, why, in which language, the
/// co-signer of a minor) and seals its words; writes nothing, so a refusal leaves no trace.
async fn prepare_consent(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    survivor: SurvivorId,
    input: &ConsentInput,
) -> Result<PreparedConsent, StoreError> {
    survivors::ensure_may(db, user, survivor, Action::Share).await?;
    let partner = partner_org(db, input.org).await?;
    let mut classes = input.classes.clone();
    classes.sort();
    classes.dedup();
    if classes.is_empty() {
        return Err(ValidationError::new(
            "classes",
            "choose at least one kind of information she agrees to share",
        )
        .into());
    }
    if classes.contains(&FieldClass::Medical) {
        return Err(ValidationError::new(
            "classes",
            "medical information is never shared with partners through Haven; the clinic shares results directly with her",
        )
        .into());
    }
    let purpose = input.purpose.trim();
    if purpose.chars().count() < 5 || purpose.chars().count() > 500 {
        return Err(ValidationError::new(
            "purpose",
            "say in a sentence what the information will be used for (5 to 500 characters)",
        )
        .into());
    }
    let language = parse_languages("language", &input.language)?;
    let [language] = language.as_slice() else {
        return Err(ValidationError::new(
            "language",
            "name the one language the consent was explained in, e.g. vi or km",
        )
        .into());
    };
    let facts = facts(db, keyring, user, ctx, survivor).await?;
    check_cosigner(
        facts.minor,
        input.cosigner.as_ref().map(|(r, n)| (*r, n.as_str())),
    )?;
    let id = survivor.as_uuid();
    let key = data_key(db, keyring, id).await?;
    let consent_id = new_id();
    Ok(PreparedConsent {
        id: consent_id,
        share_id: new_id(),
        survivor: id,
        org: input.org,
        org_name: partner.profile.name.clone(),
        classes,
        sealed_purpose: key
            .seal(id, &purpose_field(consent_id), purpose)
            .into_bytes(),
        explained_by: input.explained_by.unwrap_or(user.id),
        language: language.clone(),
        cosigner_role: input.cosigner.as_ref().map(|(r, _)| r.as_str()),
        sealed_cosigner: input.cosigner.as_ref().map(|(_, name)| {
            key.seal(id, &cosigner_field(consent_id), name.trim())
                .into_bytes()
        }),
    })
}

/// Writes a prepared consent and the share the policy reads, with its audit event, inside
/// the caller's transaction.
async fn insert_consent_in(
    tx: &mut Tx,
    user: &User,
    ctx: &RequestContext,
    consent: &PreparedConsent,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let classes = FieldClass::join(&consent.classes);
    on_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO survivor_shares (id, survivor_id, audience, org_id, classes, granted_by, granted_at) VALUES ($1, $2, 'partner', $3, $4, $5, $6)",
    )
    .bind(consent.share_id)
    .bind(consent.survivor)
    .bind(consent.org.as_uuid())
    .bind(&classes)
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    on_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO referral_consents (id, survivor_id, org_id, share_id, classes, sealed_purpose, explained_by, language,
            cosigner_role, cosigner_name, given_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(consent.id)
    .bind(consent.survivor)
    .bind(consent.org.as_uuid())
    .bind(consent.share_id)
    .bind(&classes)
    .bind(&consent.sealed_purpose)
    .bind(consent.explained_by.as_uuid())
    .bind(consent.language.as_str())
    .bind(consent.cosigner_role)
    .bind(consent.sealed_cosigner.as_deref())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    let names: Vec<&str> = consent.classes.iter().map(|c| c.as_str()).collect();
    tracing::info!(partner = %consent.org_name, "consent recorded");
    audit::append(
        tx,
        ctx,
        &AuditRecord {
            action: "referral.consent",
            entity: "survivor",
            entity_id: Some(consent.survivor.to_string()),
            fields: &names,
            reason: None,
        },
    )
    .await
}

#[derive(sqlx::FromRow)]
struct ConsentRow {
    id: Uuid,
    org_id: Uuid,
    org_name: String,
    classes: String,
    sealed_purpose: Vec<u8>,
    language: String,
    explained_by: String,
    cosigner_role: Option<String>,
    cosigner_name: Option<Vec<u8>>,
    given_at: DateTime<Utc>,
    withdrawn_at: Option<DateTime<Utc>>,
}

/// Her consents, newest first, for those who may record them.
pub async fn consents(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    survivor: SurvivorId,
) -> Result<Vec<Consent>, StoreError> {
    survivors::ensure_may(db, user, survivor, Action::Share).await?;
    let id = survivor.as_uuid();
    let rows: Vec<ConsentRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT c.id, c.org_id, o.name AS org_name, c.classes, c.sealed_purpose, c.language,
                u.display_name AS explained_by, c.cosigner_role, c.cosigner_name, c.given_at, c.withdrawn_at
         FROM referral_consents c JOIN organisations o ON o.id = c.org_id JOIN users u ON u.id = c.explained_by
         WHERE c.survivor_id = $1 ORDER BY c.given_at DESC LIMIT 200",
    )
    .bind(id)
    .fetch_all(pool)
    .await?);
    let key = data_key(db, keyring, id).await.ok();
    let mut out = Vec::new();
    for row in rows {
        let cosigner_name = match (&key, row.cosigner_name) {
            (Some(key), Some(bytes)) => Some(
                key.open(id, &cosigner_field(row.id), &Sealed::new(bytes))
                    .map_err(|e| StoreError::Internal(format!("consent {}: {e}", row.id)))?,
            ),
            _ => None,
        };
        let purpose = match &key {
            Some(key) => key
                .open(id, &purpose_field(row.id), &Sealed::new(row.sealed_purpose))
                .map_err(|e| StoreError::Internal(format!("consent {}: {e}", row.id)))?,
            None => String::new(),
        };
        out.push(Consent {
            id: row.id,
            org_id: OrgId::from_uuid(row.org_id),
            org_name: row.org_name,
            classes: FieldClass::parse_list(&row.classes).unwrap_or_default(),
            purpose,
            language: row.language,
            explained_by: row.explained_by,
            cosigner_role: row
                .cosigner_role
                .as_deref()
                .and_then(|r| CosignerRole::parse(r).ok()),
            cosigner_name,
            given_at: row.given_at,
            withdrawn_at: row.withdrawn_at,
        });
    }
    let mut tx = db.begin().await?;
    audit::append(
        &mut tx,
        ctx,
        &AuditRecord {
            action: "referral.consent.read",
            entity: "survivor",
            entity_id: Some(id.to_string()),
            fields: &[],
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

fn withdrawal_field(withdrawal: Uuid) -> String {
    format!("consent_withdrawal:{withdrawal}")
}

/// The words a caseworker wrote about how she withdrew, checked.
fn withdrawal_reason(reason: &str) -> Result<&str, StoreError> {
    let reason = reason.trim();
    let n = reason.chars().count();
    if !(5..=1000).contains(&n) {
        return Err(ValidationError::new(
            "reason",
            "say in a sentence how she withdrew her consent, e.g. \u{201c}she asked us at the home visit to stop sharing\u{201d} (5 to 1000 characters; she does not have to give a reason)",
        )
        .into());
    }
    Ok(reason)
}

/// Withdraws her consent to share with the partner of `consent`: every consent and share to
/// that organisation ends now, in one transaction, so its staff lose her record at once.
/// `reason` (how she withdrew) is sealed with her data key.
#[tracing::instrument(skip_all, fields(user = %user.id, survivor = %survivor))]
pub async fn withdraw_consent(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    survivor: SurvivorId,
    consent: Uuid,
    reason: &str,
) -> Result<(), StoreError> {
    survivors::ensure_may(db, user, survivor, Action::Share).await?;
    let reason = withdrawal_reason(reason)?;
    let id = survivor.as_uuid();
    let key = survivors::data_key(db, keyring, id).await?;
    let mut tx = db.begin().await?;
    let org: Option<Uuid> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT org_id FROM referral_consents WHERE id = $1 AND survivor_id = $2 AND withdrawn_at IS NULL",
    )
    .bind(consent)
    .bind(id)
    .fetch_optional(conn)
    .await?);
    let Some(org) = org else {
        return Err(StoreError::NotFound("consent"));
    };
    end_partner_access_in(
        &mut tx,
        ctx,
        user,
        id,
        org,
        key.as_ref().map(|k| (k, reason)),
    )
    .await?;
    tx.commit().await
}

/// Her withdrawals of consent, newest first, with how each came about (sealed), for those who
/// may record her consents. The read is audited.
pub async fn withdrawals(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    survivor: SurvivorId,
) -> Result<Vec<Withdrawal>, StoreError> {
    survivors::ensure_may(db, user, survivor, Action::Share).await?;
    let id = survivor.as_uuid();
    let out = withdrawals_of(db, keyring, id, true).await?;
    let mut tx = db.begin().await?;
    audit::append(
        &mut tx,
        ctx,
        &AuditRecord {
            action: "referral.consent.withdrawals.read",
            entity: "survivor",
            entity_id: Some(id.to_string()),
            fields: &[],
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// Ends everything through which partner organisation `org` reads her, inside `tx`: every
/// share and consent to it, and its referrals not yet admitted (withdrawn, beds given back).
/// A referral she is admitted on stays (she lives there, or is in its care) and is flagged:
/// the partner keeps her reference and dates, her caseworkers are told to act. The withdrawal
/// is recorded (who, when, how: sealed) and audited.
pub(crate) async fn end_partner_access_in(
    tx: &mut Tx,
    ctx: &RequestContext,
    user: &User,
    survivor: Uuid,
    org: Uuid,
    reason: Option<(&DataKey, &str)>,
) -> Result<Uuid, StoreError> {
    let at = now();
    let org_name: String = on_tx!(&mut *tx, conn => sqlx::query_scalar(
        "SELECT name FROM organisations WHERE id = $1",
    )
    .bind(org)
    .fetch_one(conn)
    .await?);
    on_tx!(&mut *tx, conn => sqlx::query(
        "UPDATE referral_consents SET withdrawn_at = $1, withdrawn_by = $2
         WHERE survivor_id = $3 AND org_id = $4 AND withdrawn_at IS NULL",
    )
    .bind(at)
    .bind(user.id.as_uuid())
    .bind(survivor)
    .bind(org)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    on_tx!(&mut *tx, conn => sqlx::query(
        "UPDATE survivor_shares SET withdrawn_at = $1
         WHERE survivor_id = $2 AND audience = 'partner' AND org_id = $3 AND withdrawn_at IS NULL",
    )
    .bind(at)
    .bind(survivor)
    .bind(org)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    let open: Vec<(Uuid, bool)> = on_tx!(&mut *tx, conn => sqlx::query_as(
        "SELECT id, holds_bed FROM referrals
         WHERE survivor_id = $1 AND org_id = $2 AND status IN ('draft', 'sent', 'accepted')",
    )
    .bind(survivor)
    .bind(org)
    .fetch_all(conn)
    .await?);
    for (referral, holds_bed) in open {
        if holds_bed {
            release_bed(tx, org).await?;
        }
        on_tx!(&mut *tx, conn => sqlx::query(
            "UPDATE referrals SET status = 'withdrawn', withdraw_reason = 'consent_withdrawn', holds_bed = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(false)
        .bind(at)
        .bind(referral)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        event_in(
            tx,
            referral,
            ReferralStatus::Withdrawn,
            "consent_withdrawn",
            user,
            at,
        )
        .await?;
    }
    let withdrawal = new_id();
    let sealed = reason.map(|(key, text)| {
        key.seal(survivor, &withdrawal_field(withdrawal), text)
            .into_bytes()
    });
    on_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO consent_withdrawals (id, survivor_id, org_id, withdrawn_by, withdrawn_at, reason)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(withdrawal)
    .bind(survivor)
    .bind(org)
    .bind(user.id.as_uuid())
    .bind(at)
    .bind(sealed)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    // The partner is told that a consent ended, without a link to her: only a referral she
    // is admitted on stays visible to it, with her reference and dates.
    let staff = org_staff(tx, org).await?;
    notifications::notify_in(
        tx,
        &staff,
        NotificationKind::ConsentWithdrawn,
        None,
        &org_name,
    )
    .await?;
    let admitted: Vec<(Uuid, Uuid)> = on_tx!(&mut *tx, conn => sqlx::query_as(
        "SELECT id, created_by FROM referrals WHERE survivor_id = $1 AND org_id = $2 AND status = 'admitted'",
    )
    .bind(survivor)
    .bind(org)
    .fetch_all(conn)
    .await?);
    if !admitted.is_empty() {
        let mut caseworkers: Vec<Uuid> = on_tx!(&mut *tx, conn => sqlx::query_scalar(
            "SELECT user_id FROM survivor_assignments WHERE survivor_id = $1",
        )
        .bind(survivor)
        .fetch_all(conn)
        .await?);
        for (referral, created_by) in &admitted {
            caseworkers.push(*created_by);
            notifications::notify_in(
                tx,
                &caseworkers,
                NotificationKind::InCareWithoutConsent,
                Some(*referral),
                &org_name,
            )
            .await?;
            notifications::notify_in(
                tx,
                &staff,
                NotificationKind::ConsentWithdrawnInCare,
                Some(*referral),
                &org_name,
            )
            .await?;
        }
    }
    audit::append(
        tx,
        ctx,
        &AuditRecord {
            action: "referral.consent.withdraw",
            entity: "survivor",
            entity_id: Some(survivor.to_string()),
            fields: &[],
            reason: Some(&org_name),
        },
    )
    .await?;
    Ok(withdrawal)
}

/// A withdrawal of her consent to share with a partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub id: Uuid,
    pub org_id: OrgId,
    pub org_name: String,
    pub withdrawn_by: String,
    pub withdrawn_at: DateTime<Utc>,
    /// How she withdrew, for those who may record her consents; `None` for anyone else.
    pub reason: Option<String>,
}

type WithdrawalRow = (Uuid, Uuid, String, String, DateTime<Utc>, Option<Vec<u8>>);

/// Her withdrawals of consent, newest first (no audit: callers audit the read they are part
/// of). The reasons are opened only when `with_reasons`.
pub(crate) async fn withdrawals_of(
    db: &Db,
    keyring: &Keyring,
    survivor: Uuid,
    with_reasons: bool,
) -> Result<Vec<Withdrawal>, StoreError> {
    let rows: Vec<WithdrawalRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT w.id, w.org_id, o.name, u.display_name, w.withdrawn_at, w.reason
         FROM consent_withdrawals w JOIN organisations o ON o.id = w.org_id JOIN users u ON u.id = w.withdrawn_by
         WHERE w.survivor_id = $1 ORDER BY w.withdrawn_at DESC LIMIT 200",
    )
    .bind(survivor)
    .fetch_all(pool)
    .await?);
    let key = if with_reasons {
        survivors::data_key(db, keyring, survivor).await?
    } else {
        None
    };
    let mut out = Vec::with_capacity(rows.len());
    for (id, org, org_name, by, at, sealed) in rows {
        let reason = match (&key, sealed) {
            (Some(key), Some(bytes)) => Some(
                key.open(survivor, &withdrawal_field(id), &Sealed::new(bytes))
                    .map_err(|e| StoreError::Internal(format!("withdrawal {id}: {e}")))?,
            ),
            _ => None,
        };
        out.push(Withdrawal {
            id,
            org_id: OrgId::from_uuid(org),
            org_name,
            withdrawn_by: by,
            withdrawn_at: at,
            reason,
        });
    }
    Ok(out)
}

// ----------------------------------------------------------------------------------------
// Referrals.

/// A referral as its reader may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub id: Uuid,
    pub survivor_id: SurvivorId,
    /// Her reference; `None` for a partner who no longer holds her consent.
    pub reference: Option<String>,
    pub org_id: OrgId,
    pub org_name: String,
    pub need: Need,
    pub status: ReferralStatus,
    pub age_band: String,
    pub decline_reason: Option<String>,
    pub withdraw_reason: Option<String>,
    pub discharge_outcome: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub admitted_at: Option<DateTime<Utc>>,
    pub discharged_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ReferralRow {
    id: Uuid,
    survivor_id: Uuid,
    reference: Option<String>,
    partner_sees: bool,
    org_id: Uuid,
    org_name: String,
    need: String,
    status: String,
    consent_id: Option<Uuid>,
    age_band: String,
    holds_bed: bool,
    decline_reason: Option<String>,
    withdraw_reason: Option<String>,
    discharge_outcome: Option<String>,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    decided_at: Option<DateTime<Utc>>,
    admitted_at: Option<DateTime<Utc>>,
    discharged_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

/// Whether the partner a referral `r` was sent to may still see it: while she consents to
/// share with it, or while she is admitted there (then with her reference and dates only:
/// her record stays closed to it). Once her consent is withdrawn, every other referral to
/// that partner leaves its lists, pages and notifications.
pub(crate) const PARTNER_SEES_REFERRAL: &str =
    "(r.status = 'admitted' OR EXISTS (SELECT 1 FROM survivor_shares sh
        WHERE sh.survivor_id = r.survivor_id AND sh.audience = 'partner' AND sh.org_id = r.org_id
        AND sh.withdrawn_at IS NULL))";

/// The reference is shown to the own organisation ($1 true), or to the partner while it may
/// see the referral.
static REFERRAL_SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT r.id, r.survivor_id,
        CASE WHEN $1 OR {PARTNER_SEES_REFERRAL} THEN s.reference ELSE NULL END AS reference,
        {PARTNER_SEES_REFERRAL} AS partner_sees,
        r.org_id, o.name AS org_name, r.need, r.status, r.consent_id, r.age_band, r.holds_bed,
        r.decline_reason, r.withdraw_reason, r.discharge_outcome, r.created_by, r.created_at, r.sent_at,
        r.decided_at, r.admitted_at, r.discharged_at, r.updated_at
     FROM referrals r JOIN survivors s ON s.id = r.survivor_id JOIN organisations o ON o.id = r.org_id"
    )
});

impl ReferralRow {
    fn status(&self) -> Result<ReferralStatus, StoreError> {
        ReferralStatus::parse(&self.status)
            .map_err(|e| StoreError::Internal(format!("stored referral {}: {e}", self.id)))
    }

    fn need(&self) -> Result<Need, StoreError> {
        Need::parse(&self.need)
            .map_err(|e| StoreError::Internal(format!("stored referral {}: {e}", self.id)))
    }

    fn into_referral(self) -> Result<Referral, StoreError> {
        Ok(Referral {
            status: self.status()?,
            need: self.need()?,
            id: self.id,
            survivor_id: SurvivorId::from_uuid(self.survivor_id),
            reference: self.reference,
            org_id: OrgId::from_uuid(self.org_id),
            org_name: self.org_name,
            age_band: self.age_band,
            decline_reason: self.decline_reason,
            withdraw_reason: self.withdraw_reason,
            discharge_outcome: self.discharge_outcome,
            created_at: self.created_at,
            sent_at: self.sent_at,
            decided_at: self.decided_at,
            admitted_at: self.admitted_at,
            discharged_at: self.discharged_at,
            updated_at: self.updated_at,
        })
    }
}

async fn row(db: &Db, id: Uuid, own_view: bool) -> Result<ReferralRow, StoreError> {
    let sql = format!("{} WHERE r.id = $2", *REFERRAL_SELECT);
    let found: Option<ReferralRow> = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(own_view)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    found.ok_or(StoreError::NotFound("referral"))
}

fn is_partner_staff(user: &User) -> bool {
    user.org_kind == OrgKind::Partner && user.roles.contains(Role::Partner)
}

fn is_referrer_role(user: &User) -> bool {
    user.org_kind == OrgKind::Own
        && (user.roles.contains(Role::Aftercare) || user.roles.contains(Role::Manager))
}

/// Which side `user` is on for this referral, if she may see it at all ("not found"
/// otherwise: a partner never learns of referrals to others, nor of drafts).
async fn side_of(db: &Db, user: &User, row: &ReferralRow) -> Result<Side, StoreError> {
    if is_partner_staff(user) {
        if user.org_id.as_uuid() == row.org_id && row.status != "draft" && row.partner_sees {
            return Ok(Side::Partner);
        }
        return Err(StoreError::NotFound("referral"));
    }
    if is_referrer_role(user)
        && survivors::ensure_may(
            db,
            user,
            SurvivorId::from_uuid(row.survivor_id),
            Action::See,
        )
        .await
        .is_ok()
    {
        return Ok(Side::Referrer);
    }
    Err(StoreError::NotFound("referral"))
}

async fn event_in(
    tx: &mut Tx,
    referral: Uuid,
    status: ReferralStatus,
    detail: &str,
    user: &User,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO referral_events (id, referral_id, status, detail, at, by_user) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(referral)
    .bind(status.as_str())
    .bind(detail)
    .bind(at)
    .bind(user.id.as_uuid())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Active staff of a partner organisation.
async fn org_staff(tx: &mut Tx, org: Uuid) -> Result<Vec<Uuid>, StoreError> {
    Ok(on_tx!(&mut *tx, conn => sqlx::query_scalar(
        "SELECT id FROM users WHERE org_id = $1 AND disabled_at IS NULL",
    )
    .bind(org)
    .fetch_all(conn)
    .await?))
}

/// The referring caseworker and whoever is assigned to her now.
async fn referrer_staff(tx: &mut Tx, row: &ReferralRow) -> Result<Vec<Uuid>, StoreError> {
    let mut users: Vec<Uuid> = on_tx!(&mut *tx, conn => sqlx::query_scalar(
        "SELECT user_id FROM survivor_assignments WHERE survivor_id = $1",
    )
    .bind(row.survivor_id)
    .fetch_all(conn)
    .await?);
    users.insert(0, row.created_by);
    Ok(users)
}

async fn take_bed(tx: &mut Tx, org: Uuid) -> Result<bool, StoreError> {
    let done = on_tx!(&mut *tx, conn => sqlx::query(
        "UPDATE partner_profiles SET occupancy = occupancy + 1 WHERE org_id = $1 AND occupancy < beds",
    )
    .bind(org)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

async fn release_bed(tx: &mut Tx, org: Uuid) -> Result<(), StoreError> {
    on_tx!(&mut *tx, conn => sqlx::query(
        "UPDATE partner_profiles SET occupancy = occupancy - 1 WHERE org_id = $1 AND occupancy > 0",
    )
    .bind(org)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

fn cannot_take(name: &str, candidate: &matching::Candidate) -> StoreError {
    let why: Vec<String> = candidate.exclusions().map(|r| r.english()).collect();
    StoreError::Conflict(format!("{name} cannot take her: {}", why.join("; ")))
}

/// Drafts a referral of her to a partner for a need. Refused when a hard rule excludes the
/// partner (age, sex, service, beds for a placement, agreement, her refusal).
#[tracing::instrument(skip_all, fields(user = %user.id, survivor = %survivor))]
pub async fn create(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    survivor: SurvivorId,
    org: OrgId,
    need: Need,
) -> Result<Uuid, StoreError> {
    let draft = prepare_referral(db, keyring, user, ctx, survivor, org, need).await?;
    let at = now();
    let mut tx = db.begin().await?;
    insert_draft_in(&mut tx, user, ctx, &draft, at).await?;
    tx.commit().await?;
    Ok(draft.id)
}

/// Refers her to a partner with her informed consent, in one transaction: the referral, the
/// consent and the share it grants, and the referral sent to the partner, or none of them.
/// Every check (who may refer, whether the partner can take her, the consent and the
/// co-signer of a minor) runs before anything is written, so a refusal leaves no referral,
/// no consent and no notification behind.
#[allow(clippy::too_many_arguments)]
pub async fn refer_with_consent(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    survivor: SurvivorId,
    org: OrgId,
    need: Need,
    consent: &ConsentInput,
) -> Result<Uuid, StoreError> {
    if consent.org != org {
        return Err(ValidationError::new(
            "org",
            "the consent must be to share with the organisation she is referred to",
        )
        .into());
    }
    let draft = prepare_referral(db, keyring, user, ctx, survivor, org, need).await?;
    let consent = prepare_consent(db, keyring, user, ctx, survivor, consent).await?;
    let at = now();
    let mut tx = db.begin().await?;
    insert_draft_in(&mut tx, user, ctx, &draft, at).await?;
    insert_consent_in(&mut tx, user, ctx, &consent, at).await?;
    let changed = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE referrals SET status = 'sent', consent_id = $1, sent_at = $2, updated_at = $2
         WHERE id = $3 AND status = 'draft'",
    )
    .bind(consent.id)
    .bind(at)
    .bind(draft.id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if changed != 1 {
        return Err(StoreError::Internal(format!(
            "referral {} was not a draft",
            draft.id
        )));
    }
    event_in(&mut tx, draft.id, ReferralStatus::Sent, "", user, at).await?;
    let recipients = org_staff(&mut tx, org.as_uuid()).await?;
    notifications::notify_in(
        &mut tx,
        &recipients,
        NotificationKind::ReferralSent,
        Some(draft.id),
        &draft.org_name,
    )
    .await?;
    audit::append(
        &mut tx,
        ctx,
        &AuditRecord {
            action: "referral.send",
            entity: "referral",
            entity_id: Some(draft.id.to_string()),
            fields: &[],
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(draft.id)
}

/// A referral checked and ready to be written as a draft.
struct PreparedReferral {
    id: Uuid,
    survivor: Uuid,
    org: OrgId,
    org_name: String,
    need: Need,
    age_band: &'static str,
}

/// Checks a referral (who may refer her, whether the partner can take her, no open referral
/// for the same need); writes nothing.
async fn prepare_referral(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    survivor: SurvivorId,
    org: OrgId,
    need: Need,
) -> Result<PreparedReferral, StoreError> {
    survivors::ensure_may(db, user, survivor, Action::Share).await?;
    let partner = partner_org(db, org).await?;
    let facts = facts(db, keyring, user, ctx, survivor).await?;
    let candidate = judge(&facts, need, &partner.profile);
    if candidate.excluded() {
        return Err(cannot_take(&partner.profile.name, &candidate));
    }
    let id = survivor.as_uuid();
    let open: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM referrals WHERE survivor_id = $1 AND org_id = $2 AND need = $3
         AND status IN ('draft', 'sent', 'accepted', 'admitted')",
    )
    .bind(id)
    .bind(org.as_uuid())
    .bind(need.as_string())
    .fetch_one(pool)
    .await?);
    if open > 0 {
        return Err(StoreError::Conflict(format!(
            "she already has an open referral to {} for this need",
            partner.profile.name
        )));
    }
    Ok(PreparedReferral {
        id: new_id(),
        survivor: id,
        org,
        org_name: partner.profile.name.clone(),
        need,
        age_band: matching::age_band(facts.age, facts.minor),
    })
}

/// Writes a prepared referral as a draft, with its first step and audit event, inside the
/// caller's transaction.
async fn insert_draft_in(
    tx: &mut Tx,
    user: &User,
    ctx: &RequestContext,
    draft: &PreparedReferral,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO referrals (id, survivor_id, org_id, need, status, age_band, holds_bed, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $8)",
    )
    .bind(draft.id)
    .bind(draft.survivor)
    .bind(draft.org.as_uuid())
    .bind(draft.need.as_string())
    .bind(draft.age_band)
    .bind(false)
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    event_in(tx, draft.id, ReferralStatus::Draft, "", user, at).await?;
    audit::append(
        tx,
        ctx,
        &AuditRecord {
            action: "referral.create",
            entity: "referral",
            entity_id: Some(draft.id.to_string()),
            fields: &[],
            reason: None,
        },
    )
    .await
}

/// Takes one step of a referral's life, for the side whose step it is.
#[tracing::instrument(skip_all, fields(user = %user.id, referral = %id, step = event.name()))]
pub async fn act(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: Uuid,
    event: ReferralEvent,
) -> Result<ReferralStatus, StoreError> {
    let mut row = row(db, id, true).await?;
    let side = side_of(db, user, &row).await?;
    let from = row.status()?;
    let need = row.need()?;
    if event.side() != side {
        return Err(StoreError::Forbidden(
            transition(from, event, side)
                .err()
                .map(|e| e.message)
                .unwrap_or_default(),
        ));
    }
    let survivor = SurvivorId::from_uuid(row.survivor_id);
    if side == Side::Referrer {
        survivors::ensure_may(db, user, survivor, Action::Share).await?;
    }
    let to = transition(from, event, side).map_err(|e| StoreError::Conflict(e.message))?;
    let at = now();
    let mut detail = String::new();
    // Checks that need a database read before the write transaction.
    if event == ReferralEvent::Send {
        let consent: Option<Uuid> = on_pool!(db, pool => sqlx::query_scalar(
            "SELECT id FROM referral_consents WHERE survivor_id = $1 AND org_id = $2 AND withdrawn_at IS NULL
             ORDER BY given_at DESC LIMIT 1",
        )
        .bind(row.survivor_id)
        .bind(row.org_id)
        .fetch_optional(pool)
        .await?);
        let Some(consent) = consent else {
            return Err(StoreError::Conflict(format!(
                "record her informed consent to share information with {} before sending the referral",
                row.org_name
            )));
        };
        let partner = partner_profiles::load(db, OrgId::from_uuid(row.org_id)).await?;
        let facts = facts(db, keyring, user, ctx, survivor).await?;
        let candidate = judge(&facts, need, &partner.profile);
        if candidate.excluded() {
            return Err(cannot_take(&partner.profile.name, &candidate));
        }
        row.consent_id = Some(consent);
    }
    if event == ReferralEvent::Admit && need.is_placement() {
        let elsewhere: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
            "SELECT o.name FROM referrals r JOIN organisations o ON o.id = r.org_id
             WHERE r.survivor_id = $1 AND r.need = 'placement' AND r.status = 'admitted' AND r.id <> $2",
        )
        .bind(row.survivor_id)
        .bind(row.id)
        .fetch_optional(pool)
        .await?);
        if let Some(name) = elsewhere {
            return Err(StoreError::Conflict(format!(
                "she is already admitted at {name}; her discharge there (outcome: transferred) must be recorded first"
            )));
        }
    }

    let mut tx = db.begin().await?;
    match event {
        ReferralEvent::Send => row.sent_at = Some(at),
        ReferralEvent::Accept => {
            row.decided_at = Some(at);
            if need.is_placement() {
                if !take_bed(&mut tx, row.org_id).await? {
                    return Err(StoreError::Conflict(format!(
                        "{} has no free bed left; update the occupancy if a bed has become free, or decline the referral (reason: no_capacity)",
                        row.org_name
                    )));
                }
                row.holds_bed = true;
            }
        }
        ReferralEvent::Decline(reason) => {
            row.decided_at = Some(at);
            row.decline_reason = Some(reason.as_str().to_owned());
            detail = reason.as_str().to_owned();
        }
        ReferralEvent::Admit => row.admitted_at = Some(at),
        ReferralEvent::Discharge(outcome) => {
            row.discharged_at = Some(at);
            row.discharge_outcome = Some(outcome.as_str().to_owned());
            detail = outcome.as_str().to_owned();
        }
        ReferralEvent::Withdraw(reason) => {
            row.withdraw_reason = Some(reason.as_str().to_owned());
            detail = reason.as_str().to_owned();
        }
    }
    if matches!(
        event,
        ReferralEvent::Discharge(_) | ReferralEvent::Withdraw(_)
    ) && row.holds_bed
    {
        release_bed(&mut tx, row.org_id).await?;
        row.holds_bed = false;
    }
    let changed = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE referrals SET status = $1, consent_id = $2, holds_bed = $3, decline_reason = $4, withdraw_reason = $5,
            discharge_outcome = $6, sent_at = $7, decided_at = $8, admitted_at = $9, discharged_at = $10, updated_at = $11
         WHERE id = $12 AND status = $13",
    )
    .bind(to.as_str())
    .bind(row.consent_id)
    .bind(row.holds_bed)
    .bind(&row.decline_reason)
    .bind(&row.withdraw_reason)
    .bind(&row.discharge_outcome)
    .bind(row.sent_at)
    .bind(row.decided_at)
    .bind(row.admitted_at)
    .bind(row.discharged_at)
    .bind(at)
    .bind(row.id)
    .bind(from.as_str())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| crate::error::conflict_on_unique(e, "she is already admitted to a placement elsewhere; her discharge there must be recorded first"))?;
    if changed == 0 {
        return Err(StoreError::Conflict(
            "this referral was changed by someone else a moment ago; reload it and try again"
                .to_owned(),
        ));
    }
    event_in(&mut tx, row.id, to, &detail, user, at).await?;
    let recipients = match side {
        Side::Referrer => org_staff(&mut tx, row.org_id).await?,
        Side::Partner => referrer_staff(&mut tx, &row).await?,
    };
    if let Some(kind) = NotificationKind::for_referral(to) {
        notifications::notify_in(&mut tx, &recipients, kind, Some(row.id), &row.org_name).await?;
    }
    let action = format!("referral.{}", event.name());
    audit::append(
        &mut tx,
        ctx,
        &AuditRecord {
            action: &action,
            entity: "referral",
            entity_id: Some(row.id.to_string()),
            fields: &[],
            reason: (!detail.is_empty()).then_some(detail.as_str()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(to)
}

/// A service a partner delivered.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveredService {
    pub service: String,
    pub delivered_on: NaiveDate,
    pub recorded_at: DateTime<Utc>,
}

/// A step in a referral's history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReferralStep {
    pub status: String,
    pub detail: String,
    pub at: DateTime<Utc>,
    pub by_name: Option<String>,
}

/// A referral with its history and services delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralDetail {
    pub referral: Referral,
    /// The side the reader is on.
    pub side: Side,
    pub steps: Vec<ReferralStep>,
    pub services: Vec<DeliveredService>,
    /// Whether she consents now to share with the partner. An admitted referral without it
    /// is flagged: she is in the partner's care, which reads nothing of her record.
    pub consent_in_force: bool,
}

impl ReferralDetail {
    /// She is admitted there but withdrew her consent: her caseworker must act.
    pub fn in_care_without_consent(&self) -> bool {
        self.referral.status == ReferralStatus::Admitted && !self.consent_in_force
    }
}

/// One referral, for the referring side or the partner it was sent to. The read is audited.
pub async fn get(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    id: Uuid,
) -> Result<ReferralDetail, StoreError> {
    let found = row(db, id, !is_partner_staff(user)).await?;
    let side = side_of(db, user, &found).await?;
    let steps: Vec<ReferralStep> = on_pool!(db, pool => sqlx::query_as(
        "SELECT e.status, e.detail, e.at, u.display_name AS by_name FROM referral_events e
         LEFT JOIN users u ON u.id = e.by_user WHERE e.referral_id = $1 ORDER BY e.at, e.id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?);
    let services: Vec<DeliveredService> = on_pool!(db, pool => sqlx::query_as(
        "SELECT service, delivered_on, recorded_at FROM referral_services WHERE referral_id = $1 ORDER BY delivered_on, recorded_at",
    )
    .bind(id)
    .fetch_all(pool)
    .await?);
    let consents: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM survivor_shares WHERE survivor_id = $1 AND audience = 'partner'
         AND org_id = $2 AND withdrawn_at IS NULL",
    )
    .bind(found.survivor_id)
    .bind(found.org_id)
    .fetch_one(pool)
    .await?);
    let mut tx = db.begin().await?;
    audit::append(
        &mut tx,
        ctx,
        &AuditRecord {
            action: "referral.read",
            entity: "referral",
            entity_id: Some(id.to_string()),
            fields: &[],
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(ReferralDetail {
        referral: found.into_referral()?,
        side,
        steps,
        services,
        consent_in_force: consents > 0,
    })
}

/// Records a service the partner delivered to her (partner staff, once she is admitted).
pub async fn record_service(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    id: Uuid,
    service: PartnerService,
    delivered_on: NaiveDate,
) -> Result<(), StoreError> {
    let found = row(db, id, true).await?;
    if side_of(db, user, &found).await? != Side::Partner {
        return Err(StoreError::Forbidden(
            "only the partner organisation records the services it delivered".to_owned(),
        ));
    }
    if found.status != ReferralStatus::Admitted.as_str() {
        return Err(StoreError::Conflict(
            "services are recorded once she is admitted".to_owned(),
        ));
    }
    let today = crate::clock::team_today();
    if delivered_on > today {
        return Err(ValidationError::new("delivered_on", "cannot be in the future").into());
    }
    let at = now();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO referral_services (id, referral_id, service, delivered_on, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(id)
    .bind(service.as_str())
    .bind(delivered_on)
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    let recipients = referrer_staff(&mut tx, &found).await?;
    notifications::notify_in(
        &mut tx,
        &recipients,
        NotificationKind::ReferralService,
        Some(id),
        &found.org_name,
    )
    .await?;
    audit::append(
        &mut tx,
        ctx,
        &AuditRecord {
            action: "referral.service",
            entity: "referral",
            entity_id: Some(id.to_string()),
            fields: &[],
            reason: Some(service.as_str()),
        },
    )
    .await?;
    tx.commit().await
}

/// Which referrals to list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<ReferralStatus>,
    pub survivor: Option<SurvivorId>,
    /// Referrals older than this one (by ID, which is time-ordered).
    pub before: Option<Uuid>,
}

/// The referrals `user` may see, newest first: a partner's staff see those sent to their
/// organisation; a manager those of her organisation; a caseworker those of the survivors
/// assigned to her.
pub async fn list(
    db: &Db,
    user: &User,
    filter: &ListFilter,
    limit: u32,
) -> Result<Vec<Referral>, StoreError> {
    let scope = if is_partner_staff(user) {
        format!("r.org_id = $2 AND r.status <> 'draft' AND {PARTNER_SEES_REFERRAL}")
    } else if user.org_kind == OrgKind::Own && user.roles.contains(Role::Manager) {
        "s.owner_org = $2".to_owned()
    } else if user.org_kind == OrgKind::Own && user.roles.contains(Role::Aftercare) {
        "r.survivor_id IN (SELECT survivor_id FROM survivor_assignments WHERE user_id = $2)"
            .to_owned()
    } else {
        return Err(StoreError::Forbidden(
            "your role does not work with referrals".to_owned(),
        ));
    };
    let scope_id = if scope.contains("user_id") {
        user.id.as_uuid()
    } else {
        user.org_id.as_uuid()
    };
    let sql = format!(
        "{} WHERE {scope} AND ($3 = '' OR r.status = $3) AND ($4 OR r.survivor_id = $5)
         AND r.id < $6 ORDER BY r.id DESC LIMIT $7",
        *REFERRAL_SELECT
    );
    let rows: Vec<ReferralRow> = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(!is_partner_staff(user))
        .bind(scope_id)
        .bind(filter.status.map(|s| s.as_str()).unwrap_or(""))
        .bind(filter.survivor.is_none())
        .bind(filter.survivor.map(|s| s.as_uuid()).unwrap_or(Uuid::nil()))
        .bind(filter.before.unwrap_or(Uuid::max()))
        .bind(i64::from(limit.clamp(1, 200)))
        .fetch_all(pool)
        .await?);
    rows.into_iter().map(ReferralRow::into_referral).collect()
}

// ----------------------------------------------------------------------------------------
// Where she has been, and the leads' dashboard.

/// One stay with a partner.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Stay {
    pub referral_id: Uuid,
    pub org_name: String,
    pub need: String,
    pub admitted_at: DateTime<Utc>,
    pub discharged_at: Option<DateTime<Utc>>,
    pub discharge_outcome: Option<String>,
}

/// Her continuous history: rescues, then every stay with a partner in order, transfers
/// included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementHistory {
    pub rescued_at: Vec<DateTime<Utc>>,
    pub stays: Vec<Stay>,
}

/// Where she has been (her own organisation's caseworkers and managers). The read is audited.
pub async fn placements(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    survivor: SurvivorId,
) -> Result<PlacementHistory, StoreError> {
    if !is_referrer_role(user) {
        return Err(StoreError::NotFound("survivor"));
    }
    survivors::ensure_may(db, user, survivor, Action::See).await?;
    let id = survivor.as_uuid();
    let rescued_at: Vec<DateTime<Utc>> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT rescued_at FROM care_episodes WHERE survivor_id = $1 ORDER BY rescued_at",
    )
    .bind(id)
    .fetch_all(pool)
    .await?);
    let stays: Vec<Stay> = on_pool!(db, pool => sqlx::query_as(
        "SELECT r.id AS referral_id, o.name AS org_name, r.need, r.admitted_at, r.discharged_at, r.discharge_outcome
         FROM referrals r JOIN organisations o ON o.id = r.org_id
         WHERE r.survivor_id = $1 AND r.admitted_at IS NOT NULL ORDER BY r.admitted_at",
    )
    .bind(id)
    .fetch_all(pool)
    .await?);
    let mut tx = db.begin().await?;
    audit::append(
        &mut tx,
        ctx,
        &AuditRecord {
            action: "referral.placements.read",
            entity: "survivor",
            entity_id: Some(id.to_string()),
            fields: &[],
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(PlacementHistory { rescued_at, stays })
}

/// A declined referral, without anything about her but her age band.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Declined {
    pub org_name: String,
    pub reason: Option<String>,
    pub age_band: String,
    pub decided_at: Option<DateTime<Utc>>,
}

/// Aggregates for aftercare leads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dashboard {
    /// (age band, status) → open referrals.
    pub open_by_age_and_status: BTreeMap<(String, String), i64>,
    /// Hours from rescue to placement, for those placed.
    pub hours_to_placement: Vec<i64>,
    /// Rescued and not yet placed.
    pub waiting_for_placement: i64,
    /// (partner, free beds, beds) for partners near capacity.
    pub near_capacity: Vec<(String, u32, u32)>,
    /// Reason → count of declined referrals.
    pub declined_by_reason: BTreeMap<String, i64>,
    pub recent_declines: Vec<Declined>,
}

impl Dashboard {
    pub fn median_hours_to_placement(&self) -> Option<i64> {
        let mut sorted = self.hours_to_placement.clone();
        sorted.sort_unstable();
        sorted.get(sorted.len() / 2).copied()
    }
}

/// The dashboard of open referrals, time to placement, capacity and declines (aftercare and
/// managers of the own organisation).
pub async fn dashboard(db: &Db, user: &User) -> Result<Dashboard, StoreError> {
    if !is_referrer_role(user) {
        return Err(StoreError::Forbidden(
            "the referral dashboard is for aftercare staff and managers".to_owned(),
        ));
    }
    let org = user.org_id.as_uuid();
    let open: Vec<(String, String, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT r.age_band, r.status, count(*) FROM referrals r JOIN survivors s ON s.id = r.survivor_id
         WHERE s.owner_org = $1 AND r.status IN ('draft', 'sent', 'accepted', 'admitted')
         GROUP BY r.age_band, r.status",
    )
    .bind(org)
    .fetch_all(pool)
    .await?);
    let episodes: Vec<(Uuid, DateTime<Utc>, Option<DateTime<Utc>>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT e.survivor_id, e.rescued_at, e.placed_at FROM care_episodes e JOIN survivors s ON s.id = e.survivor_id
         WHERE s.owner_org = $1",
    )
    .bind(org)
    .fetch_all(pool)
    .await?);
    let admissions: Vec<(Uuid, DateTime<Utc>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT r.survivor_id, r.admitted_at FROM referrals r JOIN survivors s ON s.id = r.survivor_id
         WHERE s.owner_org = $1 AND r.need = 'placement' AND r.admitted_at IS NOT NULL",
    )
    .bind(org)
    .fetch_all(pool)
    .await?);
    let declined: Vec<(Option<String>, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT r.decline_reason, count(*) FROM referrals r JOIN survivors s ON s.id = r.survivor_id
         WHERE s.owner_org = $1 AND r.status = 'declined' GROUP BY r.decline_reason",
    )
    .bind(org)
    .fetch_all(pool)
    .await?);
    let recent_declines: Vec<Declined> = on_pool!(db, pool => sqlx::query_as(
        "SELECT o.name AS org_name, r.decline_reason AS reason, r.age_band, r.decided_at
         FROM referrals r JOIN survivors s ON s.id = r.survivor_id JOIN organisations o ON o.id = r.org_id
         WHERE s.owner_org = $1 AND r.status = 'declined' ORDER BY r.decided_at DESC LIMIT 20",
    )
    .bind(org)
    .fetch_all(pool)
    .await?);
    let mut dashboard = Dashboard {
        recent_declines,
        ..Dashboard::default()
    };
    for (band, status, n) in open {
        dashboard.open_by_age_and_status.insert((band, status), n);
    }
    for (survivor, rescued_at, placed_at) in episodes {
        let placed = placed_at.or_else(|| {
            admissions
                .iter()
                .filter(|(s, at)| *s == survivor && *at >= rescued_at)
                .map(|(_, at)| *at)
                .min()
        });
        match placed {
            Some(at) => dashboard
                .hours_to_placement
                .push((at - rescued_at).num_hours()),
            None => dashboard.waiting_for_placement += 1,
        }
    }
    for entry in partner_profiles::all(db).await? {
        if entry.profile.near_capacity() {
            dashboard.near_capacity.push((
                entry.profile.name.clone(),
                entry.profile.free_beds(),
                entry.profile.beds,
            ));
        }
    }
    for (reason, n) in declined {
        dashboard
            .declined_by_reason
            .insert(reason.unwrap_or_else(|| "other".to_owned()), n);
    }
    Ok(dashboard)
}
