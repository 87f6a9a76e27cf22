//! Demo data: the partner organisations of a Cambodian anti-trafficking network and one staff
//! account per role. Real partner names appear only here, as demo data.

use crate::orgs;
use crate::partner_services;
use crate::survivors::{self, Audience};
use crate::users::{self, NewUser};
use crate::{Db, Keyring, PasswordHasher, StoreError};
use haven_core::{
    DisplayName, FieldClass, Locale, OrgKind, OrgName, PartnerService, Password, Reference,
    RequestContext, Roles, SurvivorField, Username,
};

/// The organisation that runs the demo instance.
pub const OWN_ORGANISATION: &str = "Haven Demo Field Office";

/// Partner NGOs, as named in the domain notes.
pub const PARTNERS: [&str; 9] = [
    "World Hope International",
    "Agape International Missions",
    "Rapha House",
    "Hagar",
    "Transitions Global",
    "World Vision",
    "Bloom Café",
    "Sak Saum",
    "Chab Dai Coalition",
];

/// What each demo partner offers, after the domain notes.
fn services_of(partner: &str) -> &'static [PartnerService] {
    use PartnerService::*;
    match partner {
        "World Hope International" => {
            &[AssessmentCentre, Counselling, MedicalClinic, FamilyTracing]
        }
        "Agape International Missions" => &[LongTermResidentialCare, Counselling, School, LegalAid],
        "Rapha House" => &[LongTermResidentialCare, Counselling, LiteracyAndLifeSkills],
        "Hagar" => &[
            LongTermResidentialCare,
            Counselling,
            School,
            VocationalTraining,
            LiteracyAndLifeSkills,
            Employment,
        ],
        "Transitions Global" => &[IndependentLivingTransition, Counselling, VocationalTraining],
        "World Vision" => &[EmergencyShelter, Counselling, FamilyTracing],
        "Bloom Café" | "Sak Saum" => &[VocationalTraining, Employment],
        "Chab Dai Coalition" => &[LegalAid, FamilyTracing],
        _ => &[],
    }
}

/// A demo login: username, display name, roles, organisation (None = own), language.
#[derive(Debug)]
pub struct DemoUser {
    pub username: &'static str,
    pub display_name: &'static str,
    pub roles: &'static str,
    pub partner: Option<&'static str>,
    pub locale: Locale,
}

pub const USERS: [DemoUser; 9] = [
    DemoUser {
        username: "admin",
        display_name: "Vannak Pich",
        roles: "admin",
        partner: None,
        locale: Locale::En,
    },
    DemoUser {
        username: "investigator",
        display_name: "Rithy Chea",
        roles: "investigator",
        partner: None,
        locale: Locale::En,
    },
    DemoUser {
        username: "aftercare",
        display_name: "Sophea Chan",
        roles: "aftercare",
        partner: None,
        locale: Locale::Km,
    },
    DemoUser {
        username: "aftercare2",
        display_name: "Nguyễn Thị Lan",
        roles: "aftercare",
        partner: None,
        locale: Locale::Vi,
    },
    DemoUser {
        username: "legal",
        display_name: "Dara Sok",
        roles: "legal",
        partner: None,
        locale: Locale::En,
    },
    DemoUser {
        username: "manager",
        display_name: "Bopha Keo",
        roles: "manager",
        partner: None,
        locale: Locale::En,
    },
    DemoUser {
        username: "auditor",
        display_name: "Sreyleak Mao",
        roles: "auditor",
        partner: None,
        locale: Locale::En,
    },
    DemoUser {
        username: "partner-worldhope",
        display_name: "Channary Lim",
        roles: "partner",
        partner: Some("World Hope International"),
        locale: Locale::Km,
    },
    DemoUser {
        username: "partner-hagar",
        display_name: "Kimheng Ouk",
        roles: "partner",
        partner: Some("Hagar"),
        locale: Locale::En,
    },
];

/// Fills an empty, migrated database with the demo organisations and users, all with
/// `password`. Hashing runs in parallel on the blocking pool.
#[tracing::instrument(skip_all)]
pub async fn seed(db: &Db, hasher: &PasswordHasher, password: &Password) -> Result<(), StoreError> {
    // Demo data is audited like any other write, by Haven itself.
    let ctx = RequestContext::system("demo");
    let mut tx = db.begin().await?;
    let own = orgs::create_in(
        &mut tx,
        &ctx,
        &OrgName::parse(OWN_ORGANISATION)?,
        OrgKind::Own,
    )
    .await?;
    let mut partner_ids = Vec::new();
    for name in PARTNERS {
        let id = orgs::create_in(&mut tx, &ctx, &OrgName::parse(name)?, OrgKind::Partner).await?;
        partner_services::set_in(&mut tx, &ctx, id, services_of(name)).await?;
        partner_ids.push((name, id));
    }
    crate::demo_partners::seed_profiles(&mut tx, &ctx, &partner_ids, services_of).await?;
    tx.commit().await?;

    let mut hashing = tokio::task::JoinSet::new();
    for (index, _) in USERS.iter().enumerate() {
        let hasher = hasher.clone();
        let password = password.clone();
        hashing.spawn(async move { (index, hasher.hash(&password).await) });
    }
    let mut hashes = vec![String::new(); USERS.len()];
    while let Some(done) = hashing.join_next().await {
        let (index, hash) = done.map_err(|e| StoreError::Internal(e.to_string()))?;
        if let Some(slot) = hashes.get_mut(index) {
            *slot = hash?;
        }
    }
    for (user, hash) in USERS.iter().zip(hashes) {
        let org_id = match user.partner {
            None => own,
            Some(partner) => partner_ids
                .iter()
                .find(|(name, _)| *name == partner)
                .map(|(_, id)| *id)
                .ok_or_else(|| StoreError::Internal(format!("demo partner {partner} missing")))?,
        };
        let new = NewUser {
            org_id,
            username: Username::parse(user.username)?,
            display_name: DisplayName::parse(user.display_name)?,
            roles: Roles::parse_list(user.roles)?,
            locale: user.locale,
        };
        users::create_with_hash(db, &ctx, &new, &hash).await?;
    }
    Ok(())
}

/// A demo survivor: reference, creator, fields, and consents (partner name or "legal").
struct DemoSurvivor {
    reference: &'static str,
    created_by: &'static str,
    fields: &'static [(SurvivorField, &'static str)],
    shares: &'static [(&'static str, &'static [FieldClass])],
}

const SURVIVORS: [DemoSurvivor; 3] = [
    DemoSurvivor {
        reference: "PP-2026-001",
        created_by: "aftercare",
        fields: &[
            (SurvivorField::Name, "Nguyễn Thị Hoa"),
            (SurvivorField::DateOfBirth, "2012-05-03"),
            (
                SurvivorField::FamilyContact,
                "Aunt in Châu Đốc (safe contact, speaks Vietnamese)",
            ),
            (
                SurvivorField::MedicalNotes,
                "Needs STI and HIV screening at the partner clinic.",
            ),
            (
                SurvivorField::PsychosocialNotes,
                "Frightened of police; calmer with a Vietnamese-speaking staff member.",
            ),
            (
                SurvivorField::Statement,
                "Brought from Vietnam by a neighbour who promised restaurant work.",
            ),
        ],
        shares: &[
            (
                "World Hope International",
                &[FieldClass::Identity, FieldClass::Contact],
            ),
            ("legal", &[FieldClass::Identity, FieldClass::LegalStatement]),
        ],
    },
    DemoSurvivor {
        reference: "PP-2026-002",
        created_by: "aftercare2",
        fields: &[
            (SurvivorField::Name, "Srey Pov"),
            (SurvivorField::Aliases, "Pov, Neang"),
            (SurvivorField::DateOfBirth, "2010-01-15"),
            (SurvivorField::Phone, "012 345 678"),
            (
                SurvivorField::PsychosocialNotes,
                "Wants to go back to school.",
            ),
        ],
        shares: &[("Hagar", &[FieldClass::Identity])],
    },
    DemoSurvivor {
        reference: "PP-2026-003",
        created_by: "manager",
        fields: &[
            (SurvivorField::Name, "Sreyneang Mao"),
            (SurvivorField::DateOfBirth, "2009-09-09"),
        ],
        shares: &[],
    },
];

/// Adds three demo survivors: one assigned to `aftercare` and shared with World Hope and the
/// legal team, one assigned to `aftercare2` and shared with Hagar, one unassigned.
#[tracing::instrument(skip_all)]
pub async fn seed_survivors(db: &Db, keyring: &Keyring) -> Result<(), StoreError> {
    let ctx = RequestContext::system("demo");
    let all_orgs = orgs::list(db).await?;
    for survivor in &SURVIVORS {
        let creator = users::find_by_username(db, &Username::parse(survivor.created_by)?)
            .await?
            .ok_or_else(|| {
                StoreError::Internal(format!("demo user {} missing", survivor.created_by))
            })?;
        let fields: Vec<(SurvivorField, String)> = survivor
            .fields
            .iter()
            .map(|(f, v)| (*f, (*v).to_owned()))
            .collect();
        let id = survivors::create(
            db,
            keyring,
            &creator,
            &ctx,
            &Reference::parse(survivor.reference)?,
            &fields,
        )
        .await?;
        for (audience, classes) in survivor.shares {
            let audience = if *audience == "legal" {
                Audience::Legal
            } else {
                let org = all_orgs
                    .iter()
                    .find(|o| o.name == *audience)
                    .ok_or_else(|| {
                        StoreError::Internal(format!("demo partner {audience} missing"))
                    })?;
                Audience::Partner(org.id)
            };
            survivors::share(db, &creator, &ctx, id, audience, classes).await?;
        }
    }
    Ok(())
}

/// Demo settings: the second factor is not forced on demo users unless `require_totp`, so a
/// trial can be explored with the printed password alone.
pub async fn seed_settings(db: &Db, require_totp: bool) -> Result<(), StoreError> {
    crate::settings::set(
        db,
        &RequestContext::system("demo"),
        haven_core::SettingKey::TotpEnforced,
        if require_totp { "true" } else { "false" },
    )
    .await
}
