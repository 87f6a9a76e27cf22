//! Interventions and their rosters. An intervention holds no survivor detail: investigators
//! and aftercare share it. The roster lists the aftercare staff on duty for it, day and night.

use crate::audit::{self, AuditRecord};
use crate::clock::{new_id, now};
use crate::users::User;
use crate::{on_pool, on_tx, Db, StoreError, Tx};
use chrono::{DateTime, Utc};
use haven_core::crisis::{check_shift, Shift};
use haven_core::intervention::{
    may_record, may_roster, may_see, works_crisis_care, InterventionDraft, VenueType,
};
use haven_core::{InterventionId, OrgKind, RequestContext, Role, ShiftId, UserId};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intervention {
    pub id: InterventionId,
    pub occurred_at: DateTime<Utc>,
    pub area: String,
    pub venue_name: String,
    pub venue_type: VenueType,
    pub police_unit: String,
    pub lead_investigator: Option<UserId>,
    pub lead_investigator_name: Option<String>,
    /// Who recorded it: when an aftercare worker, she leads its crisis care and may set its
    /// roster (see [`haven_core::intervention::may_roster`]).
    pub recorded_by: Option<UserId>,
    pub persons_found: u32,
    pub victims_identified: u32,
    pub suspects_arrested: u32,
    /// Survivors taken into crisis care from it, and how many of them are still there.
    pub in_care: u32,
    pub awaiting_placement: u32,
}

#[derive(sqlx::FromRow)]
struct InterventionRow {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    area: String,
    venue_name: String,
    venue_type: String,
    police_unit: String,
    lead_investigator: Option<Uuid>,
    lead_name: Option<String>,
    created_by: Option<Uuid>,
    persons_found: i64,
    victims_identified: i64,
    suspects_arrested: i64,
    in_care: i64,
    awaiting: i64,
}

const SELECT: &str = "SELECT i.id, i.occurred_at, i.area, i.venue_name, i.venue_type, i.police_unit,
        i.lead_investigator, u.display_name AS lead_name, i.created_by, i.persons_found, i.victims_identified,
        i.suspects_arrested,
        (SELECT count(*) FROM care_episodes e WHERE e.intervention_id = i.id) AS in_care,
        (SELECT count(*) FROM care_episodes e WHERE e.intervention_id = i.id AND e.placed_at IS NULL) AS awaiting
    FROM interventions i LEFT JOIN users u ON u.id = i.lead_investigator";

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl TryFrom<InterventionRow> for Intervention {
    type Error = StoreError;
    fn try_from(r: InterventionRow) -> Result<Self, StoreError> {
        Ok(Intervention {
            id: InterventionId::from_uuid(r.id),
            occurred_at: r.occurred_at,
            area: r.area,
            venue_name: r.venue_name,
            venue_type: VenueType::parse(&r.venue_type)
                .map_err(|e| StoreError::Internal(format!("stored venue type: {e}")))?,
            police_unit: r.police_unit,
            lead_investigator: r.lead_investigator.map(UserId::from_uuid),
            lead_investigator_name: r.lead_name,
            recorded_by: r.created_by.map(UserId::from_uuid),
            persons_found: count(r.persons_found),
            victims_identified: count(r.victims_identified),
            suspects_arrested: count(r.suspects_arrested),
            in_care: count(r.in_care),
            awaiting_placement: count(r.awaiting),
        })
    }
}

/// Refuses users whose role never sees interventions, and partner staff.
fn ensure_sees(user: &User) -> Result<(), StoreError> {
    if user.org_kind == OrgKind::Own && may_see(&user.roles) {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "your role does not work with interventions".to_owned(),
        ))
    }
}

/// Refuses users who do not work crisis care (rosters, intake, care log, placement).
pub(crate) fn ensure_crisis_care(user: &User) -> Result<(), StoreError> {
    if user.org_kind == OrgKind::Own && works_crisis_care(&user.roles) {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "only aftercare staff and managers work crisis care".to_owned(),
        ))
    }
}

async fn audit_event(
    tx: &mut Tx,
    ctx: &RequestContext,
    action: &str,
    id: Uuid,
    fields: &[&str],
    reason: Option<&str>,
) -> Result<(), StoreError> {
    audit::append(
        tx,
        ctx,
        &AuditRecord {
            action,
            entity: "intervention",
            entity_id: Some(id.to_string()),
            fields,
            reason,
        },
    )
    .await
}

/// The intervention, when `user` may set its roster: a manager, or its aftercare lead.
async fn rostered_by(
    db: &Db,
    user: &User,
    intervention: InterventionId,
) -> Result<Intervention, StoreError> {
    ensure_crisis_care(user)?;
    let found = get(db, user, intervention).await?;
    if !may_roster(user.id, &user.roles, found.recorded_by) {
        return Err(StoreError::Forbidden(
            "only a manager or the aftercare worker who recorded this intervention can change its roster"
                .to_owned(),
        ));
    }
    Ok(found)
}

/// Who put whom on duty for when, for the audit log (staff IDs and times, no survivor data).
fn roster_reason(
    by: UserId,
    staff: UserId,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> String {
    format!(
        "by {by}: staff {staff} from {} to {}",
        starts_at.to_rfc3339(),
        ends_at.to_rfc3339()
    )
}

/// Records an intervention. Investigators and aftercare staff (and managers) may.
pub async fn create(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    draft: InterventionDraft,
) -> Result<InterventionId, StoreError> {
    if user.org_kind != OrgKind::Own || !may_record(&user.roles) {
        return Err(StoreError::Forbidden(
            "only investigators, aftercare staff and managers record interventions".to_owned(),
        ));
    }
    let at = now();
    let draft = draft.checked(at)?;
    if let Some(lead) = draft.lead_investigator {
        ensure_staff_with_role(db, user, lead, Role::Investigator, "lead_investigator").await?;
    }
    let id = new_id();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO interventions (id, owner_org, occurred_at, area, venue_name, venue_type, police_unit,
            lead_investigator, persons_found, victims_identified, suspects_arrested, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(id)
    .bind(user.org_id.as_uuid())
    .bind(draft.occurred_at)
    .bind(&draft.area)
    .bind(&draft.venue_name)
    .bind(draft.venue_type.as_str())
    .bind(&draft.police_unit)
    .bind(draft.lead_investigator.map(|u| u.as_uuid()))
    .bind(i64::from(draft.persons_found))
    .bind(i64::from(draft.victims_identified))
    .bind(i64::from(draft.suspects_arrested))
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    audit_event(
        &mut tx,
        ctx,
        "intervention.create",
        id,
        &[
            "occurred_at",
            "area",
            "venue_name",
            "venue_type",
            "police_unit",
            "lead_investigator",
            "persons_found",
            "victims_identified",
            "suspects_arrested",
        ],
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(InterventionId::from_uuid(id))
}

/// Checks that `staff` is an active account of the user's organisation with `role`.
async fn ensure_staff_with_role(
    db: &Db,
    user: &User,
    staff: UserId,
    role: Role,
    field: &'static str,
) -> Result<(), StoreError> {
    let found: Option<i64> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM users u JOIN user_roles r ON r.user_id = u.id
         WHERE u.id = $1 AND u.org_id = $2 AND u.disabled_at IS NULL AND r.role = $3",
    )
    .bind(staff.as_uuid())
    .bind(user.org_id.as_uuid())
    .bind(role.as_str())
    .fetch_optional(pool)
    .await?);
    if found.unwrap_or(0) == 0 {
        return Err(haven_core::ValidationError::new(
            field,
            format!("choose an active {} of your organisation", role.as_str()),
        )
        .into());
    }
    Ok(())
}

/// The interventions of the user's organisation, newest first.
pub async fn list(db: &Db, user: &User, limit: u32) -> Result<Vec<Intervention>, StoreError> {
    ensure_sees(user)?;
    let sql = format!("{SELECT} WHERE i.owner_org = $1 ORDER BY i.occurred_at DESC LIMIT $2");
    let rows: Vec<InterventionRow> = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(user.org_id.as_uuid())
        .bind(i64::from(limit.clamp(1, 500)))
        .fetch_all(pool)
        .await?);
    rows.into_iter().map(Intervention::try_from).collect()
}

/// One intervention of the user's organisation.
pub async fn get(db: &Db, user: &User, id: InterventionId) -> Result<Intervention, StoreError> {
    ensure_sees(user)?;
    let sql = format!("{SELECT} WHERE i.id = $1 AND i.owner_org = $2");
    let row: Option<InterventionRow> = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(id.as_uuid())
        .bind(user.org_id.as_uuid())
        .fetch_optional(pool)
        .await?);
    row.ok_or(StoreError::NotFound("intervention"))?.try_into()
}

/// A shift on the roster, with the staff member's name and languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterShift {
    pub id: ShiftId,
    pub staff: UserId,
    pub staff_name: String,
    pub languages: Vec<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl RosterShift {
    pub fn as_shift(&self) -> Shift<UserId> {
        Shift {
            staff: self.staff,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            languages: self.languages.clone(),
        }
    }
}

/// The roster of an intervention (cancelled shifts left out), by start time.
pub async fn roster(
    db: &Db,
    user: &User,
    intervention: InterventionId,
) -> Result<Vec<RosterShift>, StoreError> {
    ensure_crisis_care(user)?;
    get(db, user, intervention).await?;
    roster_of(db, intervention.as_uuid()).await
}

/// id, staff, name, languages, starts, ends.
type ShiftRow = (Uuid, Uuid, String, String, DateTime<Utc>, DateTime<Utc>);

pub(crate) async fn roster_of(db: &Db, intervention: Uuid) -> Result<Vec<RosterShift>, StoreError> {
    let rows: Vec<ShiftRow> = on_pool!(db, pool => sqlx::query_as(
            "SELECT r.id, r.user_id, u.display_name, u.languages, r.starts_at, r.ends_at
             FROM roster_shifts r JOIN users u ON u.id = r.user_id
             WHERE r.intervention_id = $1 AND r.cancelled_at IS NULL
             ORDER BY r.starts_at, r.id",
        )
        .bind(intervention)
        .fetch_all(pool)
        .await?);
    Ok(rows
        .into_iter()
        .map(
            |(id, staff, name, languages, starts_at, ends_at)| RosterShift {
                id: ShiftId::from_uuid(id),
                staff: UserId::from_uuid(staff),
                staff_name: name,
                languages: languages
                    .split(',')
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect(),
                starts_at,
                ends_at,
            },
        )
        .collect())
}

/// Puts an aftercare staff member on the roster: a manager or the intervention's lead may,
/// nobody else (not even for herself), since a shift opens every girl of the intervention for
/// its hours. Refuses a shift that ends before it starts, and one that overlaps another shift
/// of the same person on this intervention.
pub async fn add_shift(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    intervention: InterventionId,
    staff: UserId,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Result<ShiftId, StoreError> {
    rostered_by(db, user, intervention).await?;
    check_shift(starts_at, ends_at)?;
    ensure_staff_with_role(db, user, staff, Role::Aftercare, "staff").await?;
    let id = new_id();
    let mut tx = db.begin().await?;
    let overlapping: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT count(*) FROM roster_shifts
         WHERE intervention_id = $1 AND user_id = $2 AND cancelled_at IS NULL
           AND starts_at < $4 AND ends_at > $3",
    )
    .bind(intervention.as_uuid())
    .bind(staff.as_uuid())
    .bind(starts_at)
    .bind(ends_at)
    .fetch_one(conn)
    .await?);
    if overlapping > 0 {
        return Err(StoreError::Conflict(
            "this person is already on the roster for part of that time".to_owned(),
        ));
    }
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO roster_shifts (id, intervention_id, user_id, starts_at, ends_at, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(intervention.as_uuid())
    .bind(staff.as_uuid())
    .bind(starts_at)
    .bind(ends_at)
    .bind(user.id.as_uuid())
    .bind(now())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    audit_event(
        &mut tx,
        ctx,
        "roster.add",
        intervention.as_uuid(),
        &["staff", "starts_at", "ends_at"],
        Some(&roster_reason(user.id, staff, starts_at, ends_at)),
    )
    .await?;
    tx.commit().await?;
    Ok(ShiftId::from_uuid(id))
}

/// Takes a shift off the roster (kept, marked cancelled): a manager or the lead, as for
/// adding one.
pub async fn cancel_shift(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    intervention: InterventionId,
    shift: ShiftId,
) -> Result<(), StoreError> {
    rostered_by(db, user, intervention).await?;
    let mut tx = db.begin().await?;
    let found: Option<(Uuid, DateTime<Utc>, DateTime<Utc>)> = on_tx!(&mut tx, conn => sqlx::query_as(
        "SELECT user_id, starts_at, ends_at FROM roster_shifts
         WHERE id = $1 AND intervention_id = $2 AND cancelled_at IS NULL",
    )
    .bind(shift.as_uuid())
    .bind(intervention.as_uuid())
    .fetch_optional(conn)
    .await?);
    let Some((staff, starts_at, ends_at)) = found else {
        return Err(StoreError::NotFound("shift"));
    };
    let done = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE roster_shifts SET cancelled_at = $1
         WHERE id = $2 AND intervention_id = $3 AND cancelled_at IS NULL",
    )
    .bind(now())
    .bind(shift.as_uuid())
    .bind(intervention.as_uuid())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(StoreError::NotFound("shift"));
    }
    audit_event(
        &mut tx,
        ctx,
        "roster.cancel",
        intervention.as_uuid(),
        &["shift"],
        Some(&roster_reason(
            user.id,
            UserId::from_uuid(staff),
            starts_at,
            ends_at,
        )),
    )
    .await?;
    tx.commit().await
}

/// Aftercare staff of the user's organisation who can be put on a roster: (id, name,
/// languages).
pub async fn aftercare_staff(
    db: &Db,
    user: &User,
) -> Result<Vec<(UserId, String, String)>, StoreError> {
    ensure_crisis_care(user)?;
    let rows: Vec<(Uuid, String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT u.id, u.display_name, u.languages FROM users u JOIN user_roles r ON r.user_id = u.id
         WHERE u.org_id = $1 AND u.disabled_at IS NULL AND r.role = 'aftercare'
         ORDER BY u.display_name",
    )
    .bind(user.org_id.as_uuid())
    .fetch_all(pool)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(id, name, langs)| (UserId::from_uuid(id), name, langs))
        .collect())
}

/// Investigators of the user's organisation, to lead an intervention: (id, name).
pub async fn investigators(db: &Db, user: &User) -> Result<Vec<(UserId, String)>, StoreError> {
    ensure_sees(user)?;
    let rows: Vec<(Uuid, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT u.id, u.display_name FROM users u JOIN user_roles r ON r.user_id = u.id
         WHERE u.org_id = $1 AND u.disabled_at IS NULL AND r.role = 'investigator'
         ORDER BY u.display_name",
    )
    .bind(user.org_id.as_uuid())
    .fetch_all(pool)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(id, name)| (UserId::from_uuid(id), name))
        .collect())
}
