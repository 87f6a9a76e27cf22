//! Crisis care: intake at the intervention, the care log, safeguard checks, victim
//! identification, placement, the police-station view and the team's alerts.
//!
//! Every function takes the acting user and goes through the access policy of her survivor
//! record (the crisis team of the intervention, her assigned caseworkers, managers for
//! oversight). Notes are sealed with her data key. Rules come from `haven_core::crisis`.

use crate::clock::{new_id, now};
use crate::crypto::{Keyring, Sealed};
use crate::interventions::{self, ensure_crisis_care, Intervention};
use crate::survivors::{self, subject, SurvivorRow};
use crate::users::User;
use crate::{on_pool, on_tx, Db, StoreError, Tx};
use chrono::{DateTime, Utc};
use haven_core::crisis::{
    check_log_entry, check_placement, check_rescue, episode_alerts, is_repeat_confirmation,
    next_step, placement_clock, roster_alerts, safeguard_due, staff_language_for, Alert, CareItem,
    CareLogKind, EpisodeFacts, NextStep, PlacementClock, PlacementRequest, Safeguard,
    SafeguardState,
};
use haven_core::identification::{AgeEvidence, MinorStatus, Screening};
use haven_core::policy::{decide, Action, Decision, RecordFacts};
use haven_core::survivor::age_on;
use haven_core::{
    EpisodeId, FieldClass, InterventionId, OrgId, OrgKind, PartnerService, Reference,
    RequestContext, Role, SurvivorField, SurvivorId, ValidationError,
};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A survivor taken into crisis care at an intervention.
#[derive(Debug, Clone)]
pub struct Intake {
    /// A temporary identifier is enough: she may refuse her name.
    pub reference: Reference,
    pub rescued_at: DateTime<Utc>,
    pub fields: Vec<(SurvivorField, String)>,
}

#[derive(sqlx::FromRow, Debug, Clone)]
struct EpisodeRow {
    id: Uuid,
    survivor_id: Uuid,
    intervention_id: Uuid,
    rescued_at: DateTime<Utc>,
    last_contact_at: Option<DateTime<Utc>>,
    staff_language_needed: Option<String>,
    placed_at: Option<DateTime<Utc>>,
    placement_org_name: Option<String>,
    placement_service: Option<String>,
    venue_name: String,
}

const EPISODE_SELECT: &str = "SELECT e.id, e.survivor_id, e.intervention_id, e.rescued_at,
        e.last_contact_at, e.staff_language_needed, e.placed_at,
        o.name AS placement_org_name, e.placement_service, i.venue_name
    FROM care_episodes e
    JOIN interventions i ON i.id = e.intervention_id
    LEFT JOIN organisations o ON o.id = e.placement_org";

/// The open episodes of an organisation, oldest rescue first, for the alert list. It starts
/// from the partial index of open episodes: joined the other way round, SQLite walks every
/// episode of every intervention the organisation ever ran (100,000 after a few years) to find
/// the few still open. `CROSS JOIN` fixes that order in SQLite; PostgreSQL plans it as the
/// inner join it is.
const OPEN_EPISODES: &str = "SELECT e.id, e.survivor_id, e.intervention_id, e.rescued_at,
        e.last_contact_at, e.staff_language_needed, e.placed_at,
        o.name AS placement_org_name, e.placement_service, i.venue_name
    FROM care_episodes e
    CROSS JOIN interventions i
    LEFT JOIN organisations o ON o.id = e.placement_org
    WHERE i.id = e.intervention_id AND e.placed_at IS NULL AND i.owner_org = $1
    ORDER BY e.rescued_at";

/// Takes a survivor into crisis care: registers her (a temporary reference is enough) and
/// opens her episode, in one transaction.
pub async fn intake(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    intervention: InterventionId,
    intake: &Intake,
) -> Result<(SurvivorId, EpisodeId), StoreError> {
    ensure_crisis_care(user)?;
    let found = interventions::get(db, user, intervention).await?;
    let at = now();
    check_rescue(intake.rescued_at, found.occurred_at, at)?;
    let language = staff_language_for(
        intake
            .fields
            .iter()
            .find(|(f, _)| *f == SurvivorField::Languages)
            .map(|(_, v)| v.as_str()),
    )?;
    let mut tx = db.begin().await?;
    let survivor = survivors::create_in(
        &mut tx,
        keyring,
        user,
        ctx,
        &intake.reference,
        &intake.fields,
        at,
    )
    .await?;
    let episode = insert_episode(
        &mut tx,
        ctx,
        survivor,
        intervention,
        intake.rescued_at,
        language,
        at,
    )
    .await?;
    tx.commit().await?;
    Ok((survivor, episode))
}

/// Opens a crisis-care episode for a survivor already registered (found again in another
/// intervention). The user must be allowed to change her record.
pub async fn open_episode(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    survivor: SurvivorId,
    intervention: InterventionId,
    rescued_at: DateTime<Utc>,
) -> Result<EpisodeId, StoreError> {
    ensure_crisis_care(user)?;
    let found = interventions::get(db, user, intervention).await?;
    let at = now();
    survivors::ensure_may(db, user, survivor, Action::Write(FieldClass::Identity)).await?;
    check_rescue(rescued_at, found.occurred_at, at)?;
    let fields = fields_for_rules(db, keyring, survivor.as_uuid()).await?;
    let language = staff_language_for(fields.get(&SurvivorField::Languages).map(String::as_str))?;
    let mut tx = db.begin().await?;
    let episode = insert_episode(
        &mut tx,
        ctx,
        survivor,
        intervention,
        rescued_at,
        language,
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(episode)
}

/// Opens her episode inside `tx`, audited there. A survivor is in one episode at a time.
async fn insert_episode(
    tx: &mut Tx,
    ctx: &RequestContext,
    survivor: SurvivorId,
    intervention: InterventionId,
    rescued_at: DateTime<Utc>,
    staff_language: Option<String>,
    at: DateTime<Utc>,
) -> Result<EpisodeId, StoreError> {
    let episode = new_id();
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO care_episodes (id, survivor_id, intervention_id, rescued_at, staff_language_needed, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(episode)
    .bind(survivor.as_uuid())
    .bind(intervention.as_uuid())
    .bind(rescued_at)
    .bind(staff_language)
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| {
        crate::error::conflict_on_unique(e, "she is already in crisis care; place her first")
    })?;
    survivors::audit(
        tx,
        ctx,
        "episode.open",
        survivor.as_uuid(),
        &["intervention", "rescued_at"],
        None,
    )
    .await?;
    Ok(EpisodeId::from_uuid(episode))
}

/// The episode, her record and its facts, when `user` may take `action` on her record.
async fn episode_for(
    db: &Db,
    user: &User,
    episode: EpisodeId,
    action: Action,
    at: DateTime<Utc>,
) -> Result<(EpisodeRow, SurvivorRow, RecordFacts), StoreError> {
    ensure_crisis_care(user)?;
    let sql = format!("{EPISODE_SELECT} WHERE e.id = $1 AND i.owner_org = $2");
    let row: Option<EpisodeRow> = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(episode.as_uuid())
        .bind(user.org_id.as_uuid())
        .fetch_optional(pool)
        .await?);
    let row = row.ok_or(StoreError::NotFound("crisis-care episode"))?;
    let survivor = survivors::row(db, row.survivor_id)
        .await?
        .ok_or(StoreError::NotFound("survivor"))?;
    let facts = survivors::facts(db, &survivor, user.id, at).await?;
    if !decide(&subject(user), Action::See, &facts, at).is_allowed() {
        return Err(StoreError::NotFound("crisis-care episode"));
    }
    if let Decision::Deny(why) = decide(&subject(user), action, &facts, at) {
        return Err(StoreError::Forbidden(why.message().to_owned()));
    }
    Ok((row, survivor, facts))
}

/// The intervention an episode belongs to, when the user may see her.
pub async fn intervention_of(
    db: &Db,
    user: &User,
    episode: EpisodeId,
) -> Result<InterventionId, StoreError> {
    let (row, _, _) = episode_for(db, user, episode, Action::See, now()).await?;
    Ok(InterventionId::from_uuid(row.intervention_id))
}

fn ensure_open(row: &EpisodeRow) -> Result<(), StoreError> {
    match row.placed_at {
        Some(placed) => Err(StoreError::Conflict(format!(
            "she was placed on {}; crisis care has ended",
            placed.format("%Y-%m-%d %H:%M UTC")
        ))),
        None => Ok(()),
    }
}

/// A care-log entry as entered.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub kind: CareLogKind,
    pub items: Vec<CareItem>,
    pub at: DateTime<Utc>,
    pub note: String,
}

/// Which class a note of this kind belongs to: a medical check is medical.
const fn note_class(kind: CareLogKind) -> FieldClass {
    match kind {
        CareLogKind::MedicalCheck => FieldClass::Medical,
        _ => FieldClass::Psychosocial,
    }
}

fn check_note(note: &str) -> Result<String, ValidationError> {
    let note = note.trim();
    if note.chars().count() > 2_000 {
        return Err(ValidationError::new(
            "note",
            "must be at most 2000 characters",
        ));
    }
    if note
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ValidationError::new(
            "note",
            "cannot contain control characters",
        ));
    }
    Ok(note.to_owned())
}

/// Logs a contact, meal, care package, medical check or interpreter session.
pub async fn log_care(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    episode: EpisodeId,
    entry: &LogEntry,
) -> Result<(), StoreError> {
    let at = now();
    let class = note_class(entry.kind);
    let (row, survivor, _) = episode_for(db, user, episode, Action::Write(class), at).await?;
    ensure_open(&row)?;
    check_log_entry(entry.kind, &entry.items, entry.at, row.rescued_at, at)?;
    let note = check_note(&entry.note)?;
    let sealed = sealed_note(db, keyring, survivor.id, "care_log.note", &note).await?;
    let items = entry
        .items
        .iter()
        .map(|i| i.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO care_log (id, episode_id, kind, at, items, note, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(row.id)
    .bind(entry.kind.as_str())
    .bind(entry.at)
    .bind(items)
    .bind(sealed)
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if entry.kind.counts_as_contact() {
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE care_episodes SET last_contact_at = $1
             WHERE id = $2 AND (last_contact_at IS NULL OR last_contact_at < $1)",
        )
        .bind(entry.at)
        .bind(row.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    let action = format!("care_log.{}", entry.kind.as_str());
    let fields: &[&str] = if note.is_empty() {
        &["at"]
    } else {
        &["at", "note"]
    };
    survivors::audit(&mut tx, ctx, &action, survivor.id, fields, None).await?;
    tx.commit().await
}

/// Seals a note with her data key; `None` for an empty note.
async fn sealed_note(
    db: &Db,
    keyring: &Keyring,
    survivor: Uuid,
    purpose: &str,
    note: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    if note.is_empty() {
        return Ok(None);
    }
    let key = survivors::data_key(db, keyring, survivor)
        .await?
        .ok_or_else(|| StoreError::Conflict("this record was erased".to_owned()))?;
    Ok(Some(key.seal(survivor, purpose, note).as_bytes().to_vec()))
}

/// What became of a safeguard check.
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SafeguardOutcome {
    Recorded,
    /// Nothing was written: the same safeguard was confirmed for her moments ago
    /// (`crisis::REPEAT_WINDOW`), at `at` by `by`. Sending it again with `repeat` records it.
    AlreadyConfirmed {
        at: DateTime<Utc>,
        by: String,
    },
}

/// Confirms a safeguard, or reports it breached (`met == false`), for her. A confirmation
/// repeating one made moments ago is recorded only when `repeat` says the person means it;
/// a breach is always recorded.
#[allow(clippy::too_many_arguments)]
pub async fn check_safeguard(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    episode: EpisodeId,
    safeguard: Safeguard,
    met: bool,
    note: &str,
    repeat: bool,
) -> Result<SafeguardOutcome, StoreError> {
    let at = now();
    let (row, survivor, _) = episode_for(
        db,
        user,
        episode,
        Action::Write(FieldClass::Psychosocial),
        at,
    )
    .await?;
    ensure_open(&row)?;
    let note = check_note(note)?;
    if !met && note.is_empty() {
        return Err(ValidationError::new(
            "note",
            "say what happened and what was done, so the team lead can act",
        )
        .into());
    }
    let sealed = sealed_note(db, keyring, survivor.id, "safeguard.note", &note).await?;
    let mut tx = db.begin().await?;
    // Claims her episode row first, so two taps arriving together are answered one after
    // the other and the second sees the first (a no-op UPDATE takes the row lock on
    // PostgreSQL; SQLite's transactions hold the write lock from the start).
    on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE care_episodes SET placed_at = placed_at WHERE id = $1",
    )
    .bind(row.id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if met && !repeat {
        let last: Option<(DateTime<Utc>, bool, Option<String>)> = on_tx!(&mut tx, conn => sqlx::query_as(
            "SELECT s.at, s.met, u.display_name FROM safeguard_checks s
             LEFT JOIN users u ON u.id = s.checked_by
             WHERE s.episode_id = $1 AND s.safeguard = $2
             ORDER BY s.at DESC, s.id DESC LIMIT 1",
        )
        .bind(row.id)
        .bind(safeguard.as_str())
        .fetch_optional(conn)
        .await)?;
        if let Some((last_at, last_met, by)) = last {
            if is_repeat_confirmation(Some((last_at, last_met)), met, at) {
                drop(tx);
                return Ok(SafeguardOutcome::AlreadyConfirmed {
                    at: last_at,
                    by: by.unwrap_or_default(),
                });
            }
        }
    }
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO safeguard_checks (id, episode_id, safeguard, met, at, note, checked_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(row.id)
    .bind(safeguard.as_str())
    .bind(met)
    .bind(at)
    .bind(sealed)
    .bind(user.id.as_uuid())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    let action = if met {
        "safeguard.confirm"
    } else {
        "safeguard.breach"
    };
    survivors::audit(
        &mut tx,
        ctx,
        action,
        survivor.id,
        &[safeguard.as_str()],
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(SafeguardOutcome::Recorded)
}

/// Every stored field of her record, decrypted, for rules only (never returned to anyone).
async fn fields_for_rules(
    db: &Db,
    keyring: &Keyring,
    survivor: Uuid,
) -> Result<BTreeMap<SurvivorField, String>, StoreError> {
    let Some(key) = survivors::data_key(db, keyring, survivor).await? else {
        return Ok(BTreeMap::new());
    };
    let sealed: Vec<(String, Vec<u8>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT field, sealed FROM survivor_fields WHERE survivor_id = $1",
    )
    .bind(survivor)
    .fetch_all(pool)
    .await?);
    let mut out = BTreeMap::new();
    for (name, bytes) in sealed {
        if let Some(field) = SurvivorField::parse(&name) {
            let value = key
                .open(survivor, &name, &Sealed::new(bytes))
                .map_err(|e| StoreError::Internal(format!("survivor {survivor}: {name}: {e}")))?;
            out.insert(field, value);
        }
    }
    Ok(out)
}

fn age_evidence(
    fields: &BTreeMap<SurvivorField, String>,
    documents_seen: bool,
    today: chrono::NaiveDate,
) -> AgeEvidence {
    let number = |f| fields.get(&f).and_then(|v: &String| v.parse::<u32>().ok());
    let documented_age = documents_seen
        .then(|| {
            fields
                .get(&SurvivorField::DateOfBirth)
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .and_then(|dob| age_on(dob, today))
        })
        .flatten();
    AgeEvidence {
        documented_age,
        stated_age: number(SurvivorField::StatedAge),
        estimated_age: number(SurvivorField::EstimatedAge),
    }
}

/// Records a victim-identification screening. Earlier screenings stay in the history.
/// `documents_seen`: staff saw papers that prove her date of birth.
pub async fn screen(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    episode: EpisodeId,
    screening: Screening,
    documents_seen: bool,
) -> Result<(), StoreError> {
    let at = now();
    let (_, survivor, _) =
        episode_for(db, user, episode, Action::Write(FieldClass::Identity), at).await?;
    let fields = fields_for_rules(db, keyring, survivor.id).await?;
    let screening = screening.checked(age_evidence(
        &fields,
        documents_seen,
        crate::clock::team_date(at),
    ))?;
    let details = serde_json::to_string(&ScreeningDetails {
        control_means: screening.control_means.iter().map(|m| m.as_str()).collect(),
        exploitation: screening.exploitation.iter().map(|e| e.as_str()).collect(),
        reasons: &screening.reasons,
        documents_seen,
    })
    .map_err(|e| StoreError::Internal(e.to_string()))?;
    let sealed = sealed_note(db, keyring, survivor.id, "identification", &details)
        .await?
        .ok_or_else(|| StoreError::Internal("empty screening".to_owned()))?;
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO identifications (id, survivor_id, minor_status, decision, details, screened_by, screened_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(survivor.id)
    .bind(screening.minor_status.as_str())
    .bind(screening.decision.as_str())
    .bind(sealed)
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    survivors::audit(
        &mut tx,
        ctx,
        "identification.record",
        survivor.id,
        &[
            "minor_status",
            "decision",
            "control_means",
            "exploitation",
            "reasons",
        ],
        None,
    )
    .await?;
    tx.commit().await
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ScreeningDetails<'a> {
    control_means: Vec<&'a str>,
    exploitation: Vec<&'a str>,
    reasons: &'a str,
    documents_seen: bool,
}

/// The latest screening's minor status and decision, if she has been screened.
async fn latest_screening(
    db: &Db,
    survivor: Uuid,
) -> Result<Option<(MinorStatus, String, DateTime<Utc>)>, StoreError> {
    let row: Option<(String, String, DateTime<Utc>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT minor_status, decision, screened_at FROM identifications
         WHERE survivor_id = $1 ORDER BY screened_at DESC, id DESC LIMIT 1",
    )
    .bind(survivor)
    .fetch_optional(pool)
    .await?);
    row.map(|(minor, decision, at)| {
        MinorStatus::parse(&minor)
            .map(|m| (m, decision, at))
            .map_err(|e| StoreError::Internal(format!("stored minor status: {e}")))
    })
    .transpose()
}

/// Places her with a partner: the end of crisis care. A minor (or a girl not yet screened)
/// goes to an assessment centre; the placement cannot be before the rescue.
#[allow(clippy::too_many_arguments)]
pub async fn place(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    episode: EpisodeId,
    partner: OrgId,
    service: PartnerService,
    placed_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let at = now();
    // Managers place too, though they do not write her record.
    let action = if user.roles.contains(Role::Manager) {
        Action::See
    } else {
        Action::Write(FieldClass::Identity)
    };
    let (row, survivor, _) = episode_for(db, user, episode, action, at).await?;
    ensure_open(&row)?;
    let kind: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT kind FROM organisations WHERE id = $1",
    )
    .bind(partner.as_uuid())
    .fetch_optional(pool)
    .await?);
    if kind.as_deref() != Some(OrgKind::Partner.as_str()) {
        return Err(ValidationError::new("partner", "choose a partner organisation").into());
    }
    let services = crate::partner_services::of(db, partner).await?;
    let treated_as_minor = latest_screening(db, survivor.id)
        .await?
        .is_none_or(|(minor, _, _)| minor.treated_as_minor());
    check_placement(
        &PlacementRequest {
            rescued_at: row.rescued_at,
            placed_at,
            service,
            partner_services: &services,
            treated_as_minor,
        },
        at,
    )?;
    let mut tx = db.begin().await?;
    let done = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE care_episodes SET placed_at = $1, placement_org = $2, placement_service = $3, placed_by = $4
         WHERE id = $5 AND placed_at IS NULL",
    )
    .bind(placed_at)
    .bind(partner.as_uuid())
    .bind(service.as_str())
    .bind(user.id.as_uuid())
    .bind(row.id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(StoreError::Conflict(
            "she has just been placed by someone else".to_owned(),
        ));
    }
    survivors::audit(
        &mut tx,
        ctx,
        "episode.place",
        survivor.id,
        &["placement_org", "placement_service", "placed_at"],
        None,
    )
    .await?;
    tx.commit().await
}

/// One girl on the police-station page.
#[derive(Debug, Clone)]
pub struct StationEntry {
    pub episode: EpisodeId,
    pub survivor: SurvivorId,
    pub reference: String,
    /// Her name, when she gave it and the user may read it.
    pub name: Option<String>,
    pub age: Option<String>,
    pub languages: Option<String>,
    pub interpreter_language: Option<String>,
    /// Present only for users the policy lets read medical information.
    pub medical_needs: Option<String>,
    pub rescued_at: DateTime<Utc>,
    pub last_contact_at: Option<DateTime<Utc>>,
    pub placed_at: Option<DateTime<Utc>>,
    pub placement: Option<String>,
    pub staff_language_needed: Option<String>,
    pub minor_status: Option<MinorStatus>,
    pub clock: PlacementClock,
    pub next_step: NextStep,
    pub alerts: Vec<Alert>,
    /// Each safeguard's latest check and whether it is due, in `Safeguard::ALL` order.
    pub safeguards: Vec<SafeguardStatus>,
}

/// The police-station page: every girl of the intervention the user may see, with her clock,
/// needs and next step, and the roster's alerts.
#[derive(Debug, Clone)]
pub struct Station {
    pub intervention: Intervention,
    pub entries: Vec<StationEntry>,
    pub roster_alerts: Vec<Alert>,
    pub at: DateTime<Utc>,
}

const STATION_FIELDS: [SurvivorField; 7] = [
    SurvivorField::Name,
    SurvivorField::StatedAge,
    SurvivorField::EstimatedAge,
    SurvivorField::DateOfBirth,
    SurvivorField::Languages,
    SurvivorField::InterpreterLanguage,
    SurvivorField::ImmediateMedicalNeeds,
];

/// Builds the police-station view. Reading the girls' fields is audited per girl.
pub async fn station(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    intervention: InterventionId,
) -> Result<Station, StoreError> {
    ensure_crisis_care(user)?;
    let found = interventions::get(db, user, intervention).await?;
    let at = now();
    let sql = format!("{EPISODE_SELECT} WHERE e.intervention_id = $1 ORDER BY e.rescued_at, e.id");
    let rows: Vec<EpisodeRow> = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(intervention.as_uuid())
        .fetch_all(pool)
        .await?);
    let who = subject(user);
    let mut entries = Vec::new();
    let mut reads: Vec<(Uuid, Vec<&'static str>)> = Vec::new();
    let mut languages_needed = Vec::new();
    for row in rows {
        let Some(survivor) = survivors::row(db, row.survivor_id).await? else {
            continue;
        };
        let facts = survivors::facts(db, &survivor, user.id, at).await?;
        if !decide(&who, Action::See, &facts, at).is_allowed() {
            continue;
        }
        if row.placed_at.is_none() {
            languages_needed.extend(row.staff_language_needed.clone());
        }
        let mut fields = BTreeMap::new();
        if let Some(key) = survivors::data_key(db, keyring, survivor.id).await? {
            let sealed: Vec<(String, Vec<u8>)> = on_pool!(db, pool => sqlx::query_as(
                "SELECT field, sealed FROM survivor_fields WHERE survivor_id = $1",
            )
            .bind(survivor.id)
            .fetch_all(pool)
            .await?);
            for (name, bytes) in sealed {
                let Some(field) = SurvivorField::parse(&name) else {
                    continue;
                };
                if !STATION_FIELDS.contains(&field)
                    || !decide(&who, Action::Read(field.class()), &facts, at).is_allowed()
                {
                    continue;
                }
                let value = key
                    .open(survivor.id, &name, &Sealed::new(bytes))
                    .map_err(|e| {
                        StoreError::Internal(format!("survivor {}: {name}: {e}", survivor.id))
                    })?;
                if !value.is_empty() {
                    fields.insert(field, value);
                }
            }
        }
        reads.push((survivor.id, fields.keys().map(|f| f.as_str()).collect()));
        let (facts, safeguards) = episode_state(db, &row, at).await?;
        let screening = latest_screening(db, survivor.id).await?;
        let age = fields
            .get(&SurvivorField::DateOfBirth)
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .and_then(|dob| age_on(dob, crate::clock::team_date(at)))
            .map(|a| a.to_string())
            .or_else(|| fields.get(&SurvivorField::StatedAge).cloned())
            .or_else(|| {
                fields
                    .get(&SurvivorField::EstimatedAge)
                    .map(|a| format!("~{a}"))
            });
        entries.push(StationEntry {
            episode: EpisodeId::from_uuid(row.id),
            survivor: SurvivorId::from_uuid(survivor.id),
            reference: survivor.reference.clone(),
            name: fields.remove(&SurvivorField::Name),
            age,
            languages: fields.remove(&SurvivorField::Languages),
            interpreter_language: fields.remove(&SurvivorField::InterpreterLanguage),
            medical_needs: fields.remove(&SurvivorField::ImmediateMedicalNeeds),
            rescued_at: row.rescued_at,
            last_contact_at: row.last_contact_at,
            placed_at: row.placed_at,
            placement: row.placement_org_name.clone(),
            staff_language_needed: row.staff_language_needed.clone(),
            minor_status: screening.map(|(m, _, _)| m),
            clock: placement_clock(row.rescued_at, row.placed_at, at),
            next_step: next_step(&facts, at),
            alerts: episode_alerts(&facts, at),
            safeguards,
        });
    }
    let shifts = interventions::roster_of(db, intervention.as_uuid()).await?;
    let roster_alerts = if entries.iter().any(|e| e.placed_at.is_none()) {
        let shifts: Vec<_> = shifts.iter().map(|s| s.as_shift()).collect();
        roster_alerts(&shifts, &languages_needed, at)
    } else {
        Vec::new()
    };
    if !reads.is_empty() {
        let mut tx = db.begin().await?;
        for (id, fields) in &reads {
            survivors::audit(&mut tx, ctx, "survivor.read", *id, fields, Some("station")).await?;
        }
        tx.commit().await?;
    }
    Ok(Station {
        intervention: found,
        entries,
        roster_alerts,
        at,
    })
}

/// The latest check of a safeguard, as shown next to its button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastCheck {
    pub at: DateTime<Utc>,
    /// A confirmation, or a breach report.
    pub met: bool,
    pub by: String,
}

/// Where one safeguard stands for her: its latest check, and whether it is due again
/// (`crisis::safeguard_due`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeguardStatus {
    pub safeguard: Safeguard,
    pub last: Option<LastCheck>,
    pub due: bool,
}

/// The facts the crisis rules need about one episode.
async fn episode_facts(db: &Db, row: &EpisodeRow) -> Result<EpisodeFacts, StoreError> {
    Ok(episode_state(db, row, now()).await?.0)
}

/// The facts the crisis rules need about one episode, and where each safeguard stands at
/// `at`.
async fn episode_state(
    db: &Db,
    row: &EpisodeRow,
    at: DateTime<Utc>,
) -> Result<(EpisodeFacts, Vec<SafeguardStatus>), StoreError> {
    let checks: Vec<(String, bool, DateTime<Utc>, Option<String>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT s.safeguard, s.met, s.at, u.display_name FROM safeguard_checks s
         LEFT JOIN users u ON u.id = s.checked_by
         WHERE s.episode_id = $1 ORDER BY s.at DESC, s.id DESC",
    )
    .bind(row.id)
    .fetch_all(pool)
    .await?);
    let latest = |s: &Safeguard| checks.iter().find(|(name, _, _, _)| name == s.as_str());
    let safeguards = Safeguard::ALL
        .iter()
        .map(|s| SafeguardState {
            safeguard: *s,
            last: latest(s).map(|(_, met, when, _)| (*when, *met)),
        })
        .collect();
    let status = Safeguard::ALL
        .iter()
        .map(|s| {
            let last = latest(s);
            SafeguardStatus {
                safeguard: *s,
                due: safeguard_due(
                    last.map(|(_, met, when, _)| (*when, *met)),
                    row.rescued_at,
                    row.placed_at.is_some(),
                    at,
                ),
                last: last.map(|(_, met, when, by)| LastCheck {
                    at: *when,
                    met: *met,
                    by: by.clone().unwrap_or_default(),
                }),
            }
        })
        .collect();
    let screened: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM identifications WHERE survivor_id = $1",
    )
    .bind(row.survivor_id)
    .fetch_one(pool)
    .await?);
    Ok((
        EpisodeFacts {
            rescued_at: row.rescued_at,
            placed_at: row.placed_at,
            last_contact_at: row.last_contact_at,
            safeguards,
            screened: screened > 0,
        },
        status,
    ))
}

/// kind, at, items, sealed note, recorded by.
type LogRow = (
    String,
    DateTime<Utc>,
    String,
    Option<Vec<u8>>,
    Option<String>,
);
/// safeguard, met, at, sealed note, checked by.
type CheckRow = (String, bool, DateTime<Utc>, Option<Vec<u8>>, Option<String>);

/// One line of an episode's care log, with its note when the user may read it.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub kind: CareLogKind,
    pub at: DateTime<Utc>,
    pub items: Vec<CareItem>,
    pub note: Option<String>,
    pub recorded_by: String,
}

/// A safeguard check as recorded.
#[derive(Debug, Clone)]
pub struct SafeguardLine {
    pub safeguard: Safeguard,
    pub met: bool,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    pub checked_by: String,
}

/// The latest screening, as the user may read it.
#[derive(Debug, Clone)]
pub struct ScreeningView {
    pub minor_status: MinorStatus,
    pub decision: String,
    pub screened_at: DateTime<Utc>,
    /// Means of control, exploitation types and reasons: only with the legal-statement class.
    pub control_means: Vec<String>,
    pub exploitation: Vec<String>,
    pub reasons: Option<String>,
}

/// One girl's crisis-care episode in full.
#[derive(Debug, Clone)]
pub struct EpisodeView {
    pub episode: EpisodeId,
    pub survivor: SurvivorId,
    pub reference: String,
    pub intervention: InterventionId,
    pub rescued_at: DateTime<Utc>,
    pub last_contact_at: Option<DateTime<Utc>>,
    pub placed_at: Option<DateTime<Utc>>,
    pub placement: Option<String>,
    pub placement_service: Option<String>,
    pub clock: PlacementClock,
    pub next_step: NextStep,
    pub alerts: Vec<Alert>,
    pub log: Vec<LogLine>,
    pub safeguards: Vec<SafeguardLine>,
    /// Each safeguard's latest check and whether it is due, in `Safeguard::ALL` order.
    pub safeguard_status: Vec<SafeguardStatus>,
    pub screening: Option<ScreeningView>,
    pub at: DateTime<Utc>,
}

/// Reads one episode: the log (newest first), safeguard checks and latest screening. Notes
/// are opened only where the policy allows the user their class. Audited.
pub async fn episode(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    episode: EpisodeId,
) -> Result<EpisodeView, StoreError> {
    let at = now();
    let (row, survivor, facts) = episode_for(db, user, episode, Action::See, at).await?;
    let who = subject(user);
    let may = |class| decide(&who, Action::Read(class), &facts, at).is_allowed();
    let key = survivors::data_key(db, keyring, survivor.id).await?;
    let open = |purpose: &str,
                bytes: Option<Vec<u8>>,
                allowed: bool|
     -> Result<Option<String>, StoreError> {
        match (bytes, &key, allowed) {
            (Some(bytes), Some(key), true) => key
                .open(survivor.id, purpose, &Sealed::new(bytes))
                .map(Some)
                .map_err(|e| {
                    StoreError::Internal(format!("survivor {}: {purpose}: {e}", survivor.id))
                }),
            _ => Ok(None),
        }
    };
    let rows: Vec<LogRow> = on_pool!(db, pool => sqlx::query_as(
            "SELECT l.kind, l.at, l.items, l.note, u.display_name FROM care_log l
             LEFT JOIN users u ON u.id = l.recorded_by
             WHERE l.episode_id = $1 ORDER BY l.at DESC, l.id DESC LIMIT 500",
        )
        .bind(row.id)
        .fetch_all(pool)
        .await?);
    let mut log = Vec::new();
    let mut opened: Vec<&'static str> = Vec::new();
    for (kind, when, items, note, by) in rows {
        let kind = CareLogKind::parse(&kind)?;
        let allowed = may(note_class(kind));
        let note = open("care_log.note", note, allowed)?;
        if note.is_some() && !opened.contains(&"care_log.note") {
            opened.push("care_log.note");
        }
        log.push(LogLine {
            kind,
            at: when,
            items: items
                .split(',')
                .filter(|i| !i.is_empty())
                .map(CareItem::parse)
                .collect::<Result<_, _>>()?,
            note,
            recorded_by: by.unwrap_or_default(),
        });
    }
    let checks: Vec<CheckRow> = on_pool!(db, pool => sqlx::query_as(
            "SELECT s.safeguard, s.met, s.at, s.note, u.display_name FROM safeguard_checks s
             LEFT JOIN users u ON u.id = s.checked_by
             WHERE s.episode_id = $1 ORDER BY s.at DESC, s.id DESC LIMIT 200",
        )
        .bind(row.id)
        .fetch_all(pool)
        .await?);
    let mut safeguards = Vec::new();
    for (name, met, when, note, by) in checks {
        safeguards.push(SafeguardLine {
            safeguard: Safeguard::parse(&name)?,
            met,
            at: when,
            note: open("safeguard.note", note, may(FieldClass::Psychosocial))?,
            checked_by: by.unwrap_or_default(),
        });
    }
    let screening_row: Option<(String, String, DateTime<Utc>, Vec<u8>)> = on_pool!(db, pool => sqlx::query_as(
            "SELECT minor_status, decision, screened_at, details FROM identifications
             WHERE survivor_id = $1 ORDER BY screened_at DESC, id DESC LIMIT 1",
        )
        .bind(survivor.id)
        .fetch_optional(pool)
        .await?);
    let screening = match screening_row {
        Some((minor, decision, when, details)) if may(FieldClass::Identity) => {
            // Unreadable details must not take the whole episode away from the team at the
            // station: the rest is shown, and the fault is logged for the administrator.
            let details = open(
                "identification",
                Some(details),
                may(FieldClass::LegalStatement),
            )
            .unwrap_or_else(|e| {
                tracing::error!(survivor = %survivor.id, error = %e, "screening details cannot be opened");
                None
            });
            let parsed: Option<ScreeningDetails<'_>> = details
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok());
            Some(ScreeningView {
                minor_status: MinorStatus::parse(&minor)?,
                decision,
                screened_at: when,
                control_means: parsed
                    .as_ref()
                    .map(|p| p.control_means.iter().map(|s| (*s).to_owned()).collect())
                    .unwrap_or_default(),
                exploitation: parsed
                    .as_ref()
                    .map(|p| p.exploitation.iter().map(|s| (*s).to_owned()).collect())
                    .unwrap_or_default(),
                reasons: parsed.as_ref().map(|p| p.reasons.to_owned()),
            })
        }
        _ => None,
    };
    let (rules, safeguard_status) = episode_state(db, &row, at).await?;
    let mut tx = db.begin().await?;
    survivors::audit(&mut tx, ctx, "episode.read", survivor.id, &opened, None).await?;
    tx.commit().await?;
    Ok(EpisodeView {
        episode,
        survivor: SurvivorId::from_uuid(survivor.id),
        reference: survivor.reference,
        intervention: InterventionId::from_uuid(row.intervention_id),
        rescued_at: row.rescued_at,
        last_contact_at: row.last_contact_at,
        placed_at: row.placed_at,
        placement: row.placement_org_name,
        placement_service: row.placement_service,
        clock: placement_clock(row.rescued_at, row.placed_at, at),
        next_step: next_step(&rules, at),
        alerts: episode_alerts(&rules, at),
        log,
        safeguards,
        safeguard_status,
        screening,
        at,
    })
}

/// An alert for the team, naming the intervention and (for a girl's alert) her reference.
#[derive(Debug, Clone)]
pub struct TeamAlert {
    pub intervention: InterventionId,
    pub venue: String,
    pub survivor: Option<(SurvivorId, EpisodeId, String)>,
    pub alert: Alert,
}

/// The alerts of the user's team: girls in crisis care she may see (crisis team, assigned,
/// or all for a manager), and roster gaps of interventions with girls still in care. Most
/// urgent first.
pub async fn alerts(db: &Db, user: &User) -> Result<Vec<TeamAlert>, StoreError> {
    ensure_crisis_care(user)?;
    let at = now();
    let rows: Vec<EpisodeRow> = on_pool!(db, pool => sqlx::query_as(OPEN_EPISODES)
        .bind(user.org_id.as_uuid())
        .fetch_all(pool)
        .await?);
    let who = subject(user);
    let mut out = Vec::new();
    // Each intervention with a girl the user may see: its venue and the languages needed.
    let mut interventions_seen: BTreeMap<Uuid, (String, Vec<String>)> = BTreeMap::new();
    for row in rows {
        let Some(survivor) = survivors::row(db, row.survivor_id).await? else {
            continue;
        };
        let facts = survivors::facts(db, &survivor, user.id, at).await?;
        if !decide(&who, Action::See, &facts, at).is_allowed() {
            continue;
        }
        interventions_seen
            .entry(row.intervention_id)
            .or_insert_with(|| (row.venue_name.clone(), Vec::new()))
            .1
            .extend(row.staff_language_needed.clone());
        for alert in episode_alerts(&episode_facts(db, &row).await?, at) {
            out.push(TeamAlert {
                intervention: InterventionId::from_uuid(row.intervention_id),
                venue: row.venue_name.clone(),
                survivor: Some((
                    SurvivorId::from_uuid(survivor.id),
                    EpisodeId::from_uuid(row.id),
                    survivor.reference.clone(),
                )),
                alert,
            });
        }
    }
    for (intervention, (venue, languages)) in interventions_seen {
        let shifts: Vec<_> = interventions::roster_of(db, intervention)
            .await?
            .iter()
            .map(|s| s.as_shift())
            .collect();
        for alert in roster_alerts(&shifts, &languages, at) {
            out.push(TeamAlert {
                intervention: InterventionId::from_uuid(intervention),
                venue: venue.clone(),
                survivor: None,
                alert,
            });
        }
    }
    out.sort_by_key(|a| a.alert.urgency());
    Ok(out)
}

/// The girls in crisis care the user may see, across interventions: (episode, reference).
pub async fn open_episodes(db: &Db, user: &User) -> Result<Vec<(EpisodeId, String)>, StoreError> {
    ensure_crisis_care(user)?;
    let at = now();
    let rows: Vec<EpisodeRow> = on_pool!(db, pool => sqlx::query_as(OPEN_EPISODES)
        .bind(user.org_id.as_uuid())
        .fetch_all(pool)
        .await?);
    let mut out = Vec::new();
    for row in rows {
        if let Some(survivor) = survivors::row(db, row.survivor_id).await? {
            let facts = survivors::facts(db, &survivor, user.id, at).await?;
            if decide(&subject(user), Action::See, &facts, at).is_allowed() {
                out.push((EpisodeId::from_uuid(row.id), survivor.reference));
            }
        }
    }
    Ok(out)
}
