//! The partner directory: what each partner organisation offers (services from
//! [`crate::partner_services`]), whom it accepts, the languages its staff speak, the regions it
//! serves, its beds and current occupancy, contacts and the state of the agreement.
//!
//! Organisations' own details, not survivor data: the directory is open to the own
//! organisation's administrators, caseworkers and managers, and each partner sees its own
//! profile. Administrators and managers change profiles; a partner's staff keep its beds and
//! occupancy up to date.

use crate::audit::{self, AuditRecord};
use crate::clock::now;
use crate::users::User;
use crate::{on_pool, on_tx, Db, StoreError, Tx};
use chrono::{DateTime, Utc};
use haven_core::matching::{Agreement, PartnerProfile, Sex};
use haven_core::survivor::parse_languages;
use haven_core::{OrgId, OrgKind, PartnerService, RequestContext, Role, ValidationError};
use uuid::Uuid;

/// A directory entry: the matching profile plus contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub profile: PartnerProfile,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub updated_at: Option<DateTime<Utc>>,
}

/// What an administrator sets on a profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileInput {
    pub services: Vec<PartnerService>,
    pub min_age: Option<u8>,
    pub max_age: Option<u8>,
    pub sexes: Vec<Sex>,
    pub languages: String,
    pub regions: String,
    pub beds: u32,
    pub occupancy: u32,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub agreement: Option<Agreement>,
}

/// The most beds one partner may list.
pub const MAX_BEDS: u32 = 10_000;

#[derive(sqlx::FromRow)]
struct Row {
    org_id: Uuid,
    name: String,
    min_age: Option<i64>,
    max_age: Option<i64>,
    sexes: Option<String>,
    languages: Option<String>,
    regions: Option<String>,
    beds: Option<i64>,
    occupancy: Option<i64>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    contact_email: Option<String>,
    agreement: Option<String>,
    updated_at: Option<DateTime<Utc>>,
    services: Option<String>,
}

/// Profiles with their services aggregated in the same query (one round trip, one row per
/// partner).
fn select(db: &Db) -> String {
    format!(
        "SELECT o.id AS org_id, o.name, p.min_age, p.max_age, p.sexes, p.languages, \
         p.regions, p.beds, p.occupancy, p.contact_name, p.contact_phone, p.contact_email, \
         p.agreement, p.updated_at, \
         (SELECT {} FROM partner_services s WHERE s.org_id = o.id) AS services \
         FROM organisations o LEFT JOIN partner_profiles p ON p.org_id = o.id \
         WHERE o.kind = 'partner'",
        crate::dialect::string_agg(db.backend(), "s.service")
    )
}

fn list_of(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn age(value: Option<i64>) -> Option<u8> {
    value.and_then(|v| u8::try_from(v).ok())
}

fn count(value: Option<i64>) -> u32 {
    value.and_then(|v| u32::try_from(v).ok()).unwrap_or(0)
}

impl Row {
    fn into_entry(self) -> Result<DirectoryEntry, StoreError> {
        let mut services = list_of(self.services.as_deref())
            .iter()
            .map(|n| {
                PartnerService::parse(n)
                    .map_err(|e| StoreError::Internal(format!("stored partner service: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        services.sort();
        let agreement = match self.agreement.as_deref() {
            None => Agreement::Active,
            Some(a) => Agreement::parse(a)
                .map_err(|e| StoreError::Internal(format!("stored agreement: {e}")))?,
        };
        Ok(DirectoryEntry {
            profile: PartnerProfile {
                org: OrgId::from_uuid(self.org_id),
                name: self.name,
                services,
                min_age: age(self.min_age),
                max_age: age(self.max_age),
                sexes: Sex::parse_list(self.sexes.as_deref().unwrap_or(""))
                    .map_err(|e| StoreError::Internal(format!("stored sexes: {e}")))?,
                languages: list_of(self.languages.as_deref()),
                regions: list_of(self.regions.as_deref()),
                beds: count(self.beds),
                occupancy: count(self.occupancy),
                agreement,
            },
            contact_name: self.contact_name.unwrap_or_default(),
            contact_phone: self.contact_phone.unwrap_or_default(),
            contact_email: self.contact_email.unwrap_or_default(),
            updated_at: self.updated_at,
        })
    }
}

/// Every partner's profile, by name, without permission checks: for matching inside the
/// store, where the caller has been checked already.
pub async fn all(db: &Db) -> Result<Vec<DirectoryEntry>, StoreError> {
    let sql = format!("{} ORDER BY o.name LIMIT 5000", select(db));
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    rows.into_iter().map(Row::into_entry).collect()
}

/// Who may read the whole directory: the own organisation's administrators, caseworkers and
/// managers.
pub fn may_read_directory(user: &User) -> bool {
    user.org_kind == OrgKind::Own
        && [Role::Admin, Role::Aftercare, Role::Manager]
            .into_iter()
            .any(|r| user.roles.contains(r))
}

fn may_edit_profile(user: &User) -> bool {
    user.org_kind == OrgKind::Own
        && (user.roles.contains(Role::Admin) || user.roles.contains(Role::Manager))
}

fn is_partner_staff_of(user: &User, org: OrgId) -> bool {
    user.org_kind == OrgKind::Partner && user.roles.contains(Role::Partner) && user.org_id == org
}

/// The directory, for those who may read it.
pub async fn directory(db: &Db, user: &User) -> Result<Vec<DirectoryEntry>, StoreError> {
    if !may_read_directory(user) {
        return Err(StoreError::Forbidden(
            "your role does not use the partner directory".to_owned(),
        ));
    }
    all(db).await
}

/// One partner's profile: for directory readers, and for that partner's own staff.
pub async fn get(db: &Db, user: &User, org: OrgId) -> Result<DirectoryEntry, StoreError> {
    if !may_read_directory(user) && !is_partner_staff_of(user, org) {
        return Err(StoreError::NotFound("partner organisation"));
    }
    load(db, org).await
}

/// One partner's profile, without permission checks (for the store's own rules).
pub async fn load(db: &Db, org: OrgId) -> Result<DirectoryEntry, StoreError> {
    let sql = format!("{} AND o.id = $1", select(db));
    let row: Option<Row> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(org.as_uuid()).fetch_optional(pool).await?);
    row.ok_or(StoreError::NotFound("partner organisation"))?
        .into_entry()
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "cannot contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// Checks beds and occupancy against each other.
pub fn check_beds(beds: u32, occupancy: u32) -> Result<(), ValidationError> {
    if beds > MAX_BEDS {
        return Err(ValidationError::new(
            "beds",
            format!("must be at most {MAX_BEDS}"),
        ));
    }
    if occupancy > beds {
        return Err(ValidationError::new(
            "occupancy",
            format!("cannot be more than the number of beds ({beds})"),
        ));
    }
    Ok(())
}

/// Validated, stored form of a profile's lists.
struct Clean {
    languages: String,
    regions: String,
    contact_name: String,
    contact_phone: String,
    contact_email: String,
}

fn clean(input: &ProfileInput) -> Result<Clean, ValidationError> {
    if let (Some(min), Some(max)) = (input.min_age, input.max_age) {
        if min > max {
            return Err(ValidationError::new(
                "min_age",
                format!("the youngest age accepted ({min}) is above the oldest ({max})"),
            ));
        }
    }
    for (field, age) in [("min_age", input.min_age), ("max_age", input.max_age)] {
        if age.is_some_and(|a| a > 120) {
            return Err(ValidationError::new(field, "must be an age from 0 to 120"));
        }
    }
    check_beds(input.beds, input.occupancy)?;
    let mut regions = Vec::new();
    for region in input.regions.split(',') {
        let region = text("regions", region, 60)?.to_lowercase();
        if !region.is_empty() && !regions.contains(&region) {
            regions.push(region);
        }
    }
    Ok(Clean {
        languages: parse_languages("languages", &input.languages)?.join(","),
        regions: regions.join(","),
        contact_name: text("contact_name", &input.contact_name, 120)?,
        contact_phone: text("contact_phone", &input.contact_phone, 40)?,
        contact_email: text("contact_email", &input.contact_email, 200)?,
    })
}

/// Writes a whole profile inside an open transaction, audited there.
pub async fn set_in(
    tx: &mut Tx,
    ctx: &RequestContext,
    by: Option<Uuid>,
    org: OrgId,
    input: &ProfileInput,
) -> Result<(), StoreError> {
    let clean = clean(input)?;
    let sexes = input
        .sexes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let agreement = input.agreement.unwrap_or(Agreement::Active);
    on_tx!(&mut *tx, conn => sqlx::query("DELETE FROM partner_profiles WHERE org_id = $1")
        .bind(org.as_uuid())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    on_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO partner_profiles (org_id, min_age, max_age, sexes, languages, regions, beds, occupancy,
            contact_name, contact_phone, contact_email, agreement, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(org.as_uuid())
    .bind(input.min_age.map(i64::from))
    .bind(input.max_age.map(i64::from))
    .bind(&sexes)
    .bind(&clean.languages)
    .bind(&clean.regions)
    .bind(i64::from(input.beds))
    .bind(i64::from(input.occupancy))
    .bind(&clean.contact_name)
    .bind(&clean.contact_phone)
    .bind(&clean.contact_email)
    .bind(agreement.as_str())
    .bind(now())
    .bind(by)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    crate::partner_services::set_in(tx, ctx, org, &input.services).await?;
    audit::append(
        tx,
        ctx,
        &AuditRecord {
            action: "partner.profile",
            entity: "organisation",
            entity_id: Some(org.to_string()),
            fields: &[
                "ages",
                "sexes",
                "languages",
                "regions",
                "beds",
                "occupancy",
                "contacts",
                "agreement",
            ],
            reason: None,
        },
    )
    .await
}

/// Replaces a partner's profile (administrators and managers).
pub async fn update(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    org: OrgId,
    input: &ProfileInput,
) -> Result<(), StoreError> {
    if !may_edit_profile(user) {
        return Err(StoreError::Forbidden(
            "only administrators and managers change partner profiles".to_owned(),
        ));
    }
    load(db, org).await?;
    let mut tx = db.begin().await?;
    set_in(&mut tx, ctx, Some(user.id.as_uuid()), org, input).await?;
    tx.commit().await
}

/// Sets a partner's beds and current occupancy (its own staff, administrators, managers).
pub async fn set_occupancy(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    org: OrgId,
    beds: u32,
    occupancy: u32,
) -> Result<(), StoreError> {
    if !may_edit_profile(user) && !is_partner_staff_of(user, org) {
        return Err(if may_read_directory(user) {
            StoreError::Forbidden("only this partner's staff and managers update its beds".into())
        } else {
            StoreError::NotFound("partner organisation")
        });
    }
    check_beds(beds, occupancy)?;
    load(db, org).await?;
    let mut tx = db.begin().await?;
    let sql = crate::dialect::upsert(
        db.backend(),
        "partner_profiles (org_id, beds, occupancy, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)",
        "org_id",
        "beds = $2, occupancy = $3, updated_at = $4, updated_by = $5",
    );
    on_tx!(&mut tx, conn => sqlx::query(&sql)
        .bind(org.as_uuid())
        .bind(i64::from(beds))
        .bind(i64::from(occupancy))
        .bind(now())
        .bind(user.id.as_uuid())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        ctx,
        &AuditRecord {
            action: "partner.occupancy",
            entity: "organisation",
            entity_id: Some(org.to_string()),
            fields: &["beds", "occupancy"],
            reason: None,
        },
    )
    .await?;
    tx.commit().await
}
