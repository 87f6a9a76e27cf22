//! Demo data: the partner organisations of a Cambodian anti-trafficking network and one staff
//! account per role. Real partner names appear only here, as demo data.

use crate::orgs;
use crate::users::{self, NewUser};
use crate::{Db, PasswordHasher, StoreError};
use haven_core::{
    DisplayName, Locale, OrgKind, OrgName, Password, RequestContext, Roles, Username,
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
        partner_ids.push((name, id));
    }
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
