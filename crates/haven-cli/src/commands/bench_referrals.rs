//! `haven bench`, referrals: ranking partners for one survivor (in memory, and end to end
//! against a database of 500 partners and 100,000 survivors) and the partner portal's list.

use super::bench::summary;
use anyhow::{anyhow, Result};
use haven_core::matching::{rank, Agreement, Need, PartnerProfile, Sex, SurvivorFacts};
use haven_core::{
    OrgId, OrgKind, OrgName, PartnerService, Password, RequestContext, SurvivorField, Username,
};
use haven_store::partner_profiles::{self, ProfileInput};
use haven_store::referrals::{self, ListFilter};
use haven_store::{ConnectOptions, DatabaseUrl, Db, HashCost, Keyring, PasswordHasher};
use std::time::Instant;

const PARTNERS: usize = 500;
const SURVIVORS: i64 = 100_000;
const PORTAL_REFERRALS: i64 = 1_000;

/// A plausible spread of partner profiles.
fn profile(i: usize) -> ProfileInput {
    let services = [
        PartnerService::ALL[i % 12],
        PartnerService::ALL[(i * 7 + 3) % 12],
        PartnerService::Counselling,
    ];
    ProfileInput {
        services: services.to_vec(),
        min_age: [None, Some(0), Some(8), Some(16)][i % 4],
        max_age: [None, Some(17), Some(18), Some(24)][(i / 4) % 4],
        sexes: if i % 3 == 0 {
            vec![Sex::Female]
        } else {
            Vec::new()
        },
        languages: ["km", "km,vi", "km,en", "vi,en"][i % 4].to_owned(),
        regions: ["phnom penh", "an giang,kandal", "siem reap", "battambang"][i % 4].to_owned(),
        beds: (i % 40) as u32,
        occupancy: ((i % 40) as u32).saturating_sub((i % 5) as u32),
        contact_name: format!("Coordinator {i}"),
        contact_phone: String::new(),
        contact_email: String::new(),
        agreement: Some(if i % 17 == 0 {
            Agreement::Paused
        } else {
            Agreement::Active
        }),
    }
}

fn in_memory(i: usize) -> PartnerProfile {
    let p = profile(i);
    PartnerProfile {
        org: OrgId::from_uuid(uuid::Uuid::from_u128(i as u128 + 1)),
        name: format!("Partner {i:03}"),
        services: p.services,
        min_age: p.min_age,
        max_age: p.max_age,
        sexes: p.sexes,
        languages: p.languages.split(',').map(str::to_owned).collect(),
        regions: p.regions.split(',').map(str::to_owned).collect(),
        beds: p.beds,
        occupancy: p.occupancy,
        agreement: p.agreement.unwrap_or(Agreement::Active),
    }
}

pub async fn run(n: usize) -> Result<()> {
    let partners: Vec<PartnerProfile> = (0..PARTNERS).map(in_memory).collect();
    let girl = SurvivorFacts {
        age: Some(14),
        minor: true,
        sex: Some(Sex::Female),
        languages: vec!["vi".to_owned()],
        home_region: Some("an giang".to_owned()),
        declined: Vec::new(),
        placed_before: false,
    };
    let mut ranking = Vec::new();
    for _ in 0..n * 10 {
        let started = Instant::now();
        let ranked = rank(&girl, Need::Placement, &partners);
        ranking.push(started.elapsed());
        std::hint::black_box(ranked);
    }
    summary("rank 500 partners for one girl (memory)", ranking);

    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("referrals.db").display()
    ))?;
    let db = Db::connect(
        &url,
        &ConnectOptions {
            create_if_missing: true,
            ..ConnectOptions::default()
        },
    )
    .await?;
    db.migrate().await?;
    let password = Password::new("lotus river morning tea");
    haven_store::demo::seed(&db, &PasswordHasher::new(HashCost::MINIMAL)?, &password).await?;
    let keyring = Keyring::generate();
    haven_store::crypto::registry::verify_or_register(&db, &keyring).await?;
    haven_store::demo::seed_survivors(&db, &keyring).await?;
    let ctx = RequestContext::system("cli:bench");
    let mut tx = db.begin().await?;
    for i in 9..PARTNERS {
        let org = haven_store::orgs::create_in(
            &mut tx,
            &ctx,
            &OrgName::parse(&format!("Bench partner {i:03}"))?,
            OrgKind::Partner,
        )
        .await?;
        partner_profiles::set_in(&mut tx, &ctx, None, org, &profile(i)).await?;
    }
    tx.commit().await?;
    let Db::Sqlite(pool) = &db else {
        return Ok(());
    };
    let find = |name: &'static str| {
        let db = db.clone();
        async move {
            haven_store::users::find_by_username(&db, &Username::parse(name)?)
                .await?
                .ok_or_else(|| anyhow!("demo user {name} missing"))
        }
    };
    let aftercare = find("aftercare").await?;
    let partner = find("partner-worldhope").await?;
    sqlx::query(
        "INSERT INTO survivors (id, reference, owner_org, created_at, updated_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         SELECT randomblob(16), 'BENCH-' || i, $2, $3, $3 FROM n",
    )
    .bind(SURVIVORS)
    .bind(aftercare.org_id.as_uuid())
    .bind(haven_store::clock::now())
    .execute(pool)
    .await?;

    let mut loading = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let all = partner_profiles::all(&db).await?;
        loading.push(started.elapsed());
        if all.len() != PARTNERS {
            return Err(anyhow!("expected {PARTNERS} partners, found {}", all.len()));
        }
    }
    summary("load 500 partner profiles (SQLite)", loading);

    let hoa: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM survivors WHERE reference = 'PP-2026-001'")
            .fetch_one(pool)
            .await?;
    let hoa = haven_core::SurvivorId::from_uuid(hoa);
    let version = haven_store::survivors::read(&db, &keyring, &aftercare, &ctx, hoa)
        .await?
        .version;
    haven_store::survivors::update(
        &db,
        &keyring,
        &aftercare,
        &ctx,
        hoa,
        &[
            (SurvivorField::Sex, "female".to_owned()),
            (SurvivorField::Languages, "vi".to_owned()),
        ],
        version,
    )
    .await?;
    let mut matching = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let (_, ranked) =
            referrals::matches(&db, &keyring, &aftercare, &ctx, hoa, Need::Placement).await?;
        matching.push(started.elapsed());
        std::hint::black_box(ranked);
    }
    summary("rank for her end to end (audited read, fsync)", matching);

    sqlx::query(
        "INSERT INTO referrals (id, survivor_id, org_id, need, status, age_band, holds_bed, created_by, created_at, updated_at)
         SELECT randomblob(16), id, $1, 'placement', 'sent', '9-17', 0, $2, $3, $3
         FROM survivors WHERE reference LIKE 'BENCH-%' LIMIT $4",
    )
    .bind(partner.org_id.as_uuid())
    .bind(aftercare.id.as_uuid())
    .bind(haven_store::clock::now())
    .bind(PORTAL_REFERRALS)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO survivor_shares (id, survivor_id, audience, org_id, classes, granted_at)
         SELECT randomblob(16), survivor_id, 'partner', org_id, 'identity', created_at
         FROM referrals WHERE org_id = $1",
    )
    .bind(partner.org_id.as_uuid())
    .execute(pool)
    .await?;
    let mut listing = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let page = referrals::list(&db, &partner, &ListFilter::default(), 50).await?;
        listing.push(started.elapsed());
        if page.len() != 50 {
            return Err(anyhow!("the portal listed {} referrals", page.len()));
        }
    }
    summary("partner portal list (50 of 1,000 referrals)", listing);
    db.close().await;
    Ok(())
}
