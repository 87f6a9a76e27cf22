//! `haven bench`, crisis care: the pages the team at the police station opens all night, on a
//! database the size of years of work. The filler history (100,000 survivors placed long ago,
//! 2,000,000 care-log entries) is written straight through sqlx in big multi-row inserts,
//! because going through the store would take hours; it keeps every foreign key and every
//! index. The live intervention is made through the store functions, as staff would.

use super::bench::summary;
use crate::cli::BenchArgs;
use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, Duration, Utc};
use haven_core::crisis::{CareItem, CareLogKind, Safeguard};
use haven_core::intervention::{InterventionDraft, VenueType};
use haven_core::{InterventionId, Password, Reference, RequestContext, SurvivorField, Username};
use haven_store::crisis::{self, Intake, LogEntry};
use haven_store::users::User;
use haven_store::{
    interventions, ConnectOptions, DatabaseUrl, Db, HashCost, Keyring, PasswordHasher,
};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::time::Instant;
use uuid::Uuid;

const SURVIVORS: usize = 100_000;
const LOG_PER_EPISODE: usize = 20;
/// Girls per old intervention: 10,000 raids over three years.
const GIRLS_PER_INTERVENTION: usize = 10;
/// Rows per INSERT statement (SQLite allows 32,766 bound values) and per transaction.
const ROWS_PER_INSERT: usize = 2_000;
const ROWS_PER_TX: usize = 200_000;
/// Girls in crisis care at the live intervention.
const LIVE_GIRLS: usize = 10;

pub async fn run(args: &BenchArgs) -> Result<()> {
    if args.skip_crisis {
        return Ok(());
    }
    let samples = args.samples as usize;
    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("crisis.db").display()
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
    let aftercare = demo_user(&db, "aftercare").await?;
    let aftercare2 = demo_user(&db, "aftercare2").await?;
    let investigator = demo_user(&db, "investigator").await?;

    let started = Instant::now();
    let Db::Sqlite(pool) = &db else {
        return Ok(());
    };
    let partner: Uuid = sqlx::query_scalar("SELECT id FROM organisations WHERE name = $1")
        .bind("World Hope International")
        .fetch_one(pool)
        .await?;
    let log_rows = fill_history(pool, &aftercare, &aftercare2, partner).await?;
    let filled = started.elapsed();
    let live = live_intervention(&db, &keyring, &investigator, &aftercare, &aftercare2).await?;
    println!(
        "{:<44} {:>10.3?}  (+ {} live girls through the store in {:.3?})",
        format!("crisis: seed {SURVIVORS} survivors, {log_rows} log rows"),
        filled,
        LIVE_GIRLS,
        started.elapsed() - filled
    );

    let ctx = RequestContext::system("cli:bench");
    let mut station = Vec::new();
    for _ in 0..samples {
        let started = Instant::now();
        let view = crisis::station(&db, &keyring, &aftercare, &ctx, live).await?;
        station.push(started.elapsed());
        if view.entries.len() != LIVE_GIRLS {
            anyhow::bail!("the station view shows {} girls", view.entries.len());
        }
    }
    summary("crisis: police-station view (10 girls)", station);

    let mut alerts = Vec::new();
    for _ in 0..samples {
        let started = Instant::now();
        let list = crisis::alerts(&db, &aftercare).await?;
        alerts.push(started.elapsed());
        if list.is_empty() {
            anyhow::bail!("the alert list is empty");
        }
    }
    summary("crisis: team alert list (aftercare)", alerts);

    let mut intakes = Vec::new();
    for i in 0..samples {
        let intake = Intake {
            reference: Reference::parse(&format!("TMP-BENCH-{i:04}"))?,
            rescued_at: haven_store::clock::now() - Duration::minutes(30),
            fields: vec![
                (SurvivorField::Name, "Sokha Chhim".to_owned()),
                (SurvivorField::Sex, "female".to_owned()),
                (SurvivorField::EstimatedAge, "15".to_owned()),
                (SurvivorField::Languages, "km".to_owned()),
            ],
        };
        let started = Instant::now();
        crisis::intake(&db, &keyring, &aftercare, &ctx, live, &intake).await?;
        intakes.push(started.elapsed());
    }
    summary("crisis: intake (encrypt, audit, commit)", intakes);
    db.close().await;
    Ok(())
}

async fn demo_user(db: &Db, name: &str) -> Result<User> {
    haven_store::users::find_by_username(db, &Username::parse(name)?)
        .await?
        .ok_or_else(|| anyhow!("demo user {name} missing"))
}

/// Runs `insert` over `rows` in statements of [`ROWS_PER_INSERT`] and transactions of
/// [`ROWS_PER_TX`] rows.
pub(crate) async fn insert_all<T>(
    pool: &SqlitePool,
    head: &str,
    rows: &[T],
    mut bind: impl FnMut(sqlx::query_builder::Separated<'_, '_, Sqlite, &'static str>, &T),
) -> Result<()> {
    for tx_rows in rows.chunks(ROWS_PER_TX) {
        let mut tx = pool.begin().await?;
        for chunk in tx_rows.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::<Sqlite>::new(head);
            insert.push_values(chunk, &mut bind);
            insert
                .build()
                .execute(&mut *tx)
                .await
                .with_context(|| format!("bulk insert: {head}"))?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// id, intervention, staff, starts, ends.
type ShiftRow = (Uuid, Uuid, Uuid, DateTime<Utc>, DateTime<Utc>);

/// Years of finished crisis care: old interventions with their rosters, survivors (no
/// fields: the figures are about the crisis-care tables), placed episodes, safeguard checks
/// and care-log entries. Returns the number of care-log rows.
async fn fill_history(
    pool: &SqlitePool,
    aftercare: &User,
    aftercare2: &User,
    partner: Uuid,
) -> Result<usize> {
    let org = aftercare.org_id.as_uuid();
    let staff = [aftercare.id.as_uuid(), aftercare2.id.as_uuid()];
    let now = haven_store::clock::now();
    let interventions = SURVIVORS / GIRLS_PER_INTERVENTION;
    let first = now - Duration::days(3 * 365);
    let step = Duration::days(3 * 365 - 7) / i32::try_from(interventions)?;
    let ivs: Vec<(Uuid, DateTime<Utc>)> = (0..interventions)
        .map(|i| (Uuid::now_v7(), first + step * i32::try_from(i).unwrap_or(0)))
        .collect();
    insert_all(
        pool,
        "INSERT INTO interventions (id, owner_org, occurred_at, area, venue_name, venue_type, \
         police_unit, lead_investigator, persons_found, victims_identified, suspects_arrested, \
         created_by, created_at, updated_at) ",
        &ivs,
        |mut row, (id, at)| {
            row.push_bind(*id)
                .push_bind(org)
                .push_bind(*at)
                .push_bind("Svay Pak")
                .push_bind("Karaoke bar")
                .push_bind("karaoke_bar")
                .push_bind("Anti-Human Trafficking and Juvenile Protection Police")
                .push_bind(None::<Uuid>)
                .push_bind(14_i64)
                .push_bind(GIRLS_PER_INTERVENTION as i64)
                .push_bind(2_i64)
                .push_bind(staff[0])
                .push_bind(*at)
                .push_bind(*at);
        },
    )
    .await?;
    let shifts: Vec<ShiftRow> = ivs
        .iter()
        .flat_map(|(iv, at)| {
            (0..4).map(move |k| {
                let from = *at + Duration::hours(12 * k);
                (
                    Uuid::now_v7(),
                    *iv,
                    staff[(k % 2) as usize],
                    from,
                    from + Duration::hours(12),
                )
            })
        })
        .collect();
    insert_all(
        pool,
        "INSERT INTO roster_shifts (id, intervention_id, user_id, starts_at, ends_at, \
         created_by, created_at) ",
        &shifts,
        |mut row, (id, iv, user, from, to)| {
            row.push_bind(*id)
                .push_bind(*iv)
                .push_bind(*user)
                .push_bind(*from)
                .push_bind(*to)
                .push_bind(staff[0])
                .push_bind(*from);
        },
    )
    .await?;
    drop(shifts);

    // (survivor, episode, intervention, rescued at, staff)
    let girls: Vec<(Uuid, Uuid, Uuid, DateTime<Utc>, Uuid)> = (0..SURVIVORS)
        .map(|i| {
            let (iv, at) = ivs[i / GIRLS_PER_INTERVENTION];
            (
                Uuid::now_v7(),
                Uuid::now_v7(),
                iv,
                at + Duration::minutes(30 + 10 * (i % GIRLS_PER_INTERVENTION) as i64),
                staff[i % 2],
            )
        })
        .collect();
    let references: Vec<String> = (0..SURVIVORS).map(|i| format!("BX-{i:06}")).collect();
    let numbered: Vec<_> = girls.iter().zip(&references).collect();
    insert_all(
        pool,
        "INSERT INTO survivors (id, reference, owner_org, created_by, created_at, updated_at) ",
        &numbered,
        |mut row, ((id, _, _, at, by), reference)| {
            row.push_bind(*id)
                .push_bind((*reference).clone())
                .push_bind(org)
                .push_bind(*by)
                .push_bind(*at)
                .push_bind(*at);
        },
    )
    .await?;
    insert_all(
        pool,
        "INSERT INTO survivor_assignments (survivor_id, user_id, assigned_at) ",
        &girls,
        |mut row, (id, _, _, at, by)| {
            row.push_bind(*id).push_bind(*by).push_bind(*at);
        },
    )
    .await?;
    insert_all(
        pool,
        "INSERT INTO care_episodes (id, survivor_id, intervention_id, rescued_at, \
         last_contact_at, placed_at, placement_org, placement_service, placed_by, created_at) ",
        &girls,
        |mut row, (survivor, episode, iv, at, by)| {
            row.push_bind(*episode)
                .push_bind(*survivor)
                .push_bind(*iv)
                .push_bind(*at)
                .push_bind(*at + Duration::hours(28))
                .push_bind(*at + Duration::hours(30))
                .push_bind(partner)
                .push_bind("assessment_centre")
                .push_bind(*by)
                .push_bind(*at);
        },
    )
    .await?;
    let checks: Vec<(Uuid, Uuid, &'static str, DateTime<Utc>, Uuid)> = girls
        .iter()
        .flat_map(|(_, episode, _, at, by)| {
            Safeguard::ALL.iter().map(move |s| {
                (
                    Uuid::now_v7(),
                    *episode,
                    s.as_str(),
                    *at + Duration::minutes(45),
                    *by,
                )
            })
        })
        .collect();
    insert_all(
        pool,
        "INSERT INTO safeguard_checks (id, episode_id, safeguard, met, at, checked_by) ",
        &checks,
        |mut row, (id, episode, safeguard, at, by)| {
            row.push_bind(*id)
                .push_bind(*episode)
                .push_bind(*safeguard)
                .push_bind(true)
                .push_bind(*at)
                .push_bind(*by);
        },
    )
    .await?;
    drop(checks);

    // Twenty entries per girl, one every 80 minutes over her 30 hours: contacts, meals, a
    // care package, a medical check and interpreter sessions. Built a slice at a time.
    const KINDS: [(&str, &str); 5] = [
        ("contact", ""),
        ("meal", ""),
        ("care_package", "food,water,toiletries"),
        ("medical_check", ""),
        ("interpreter_session", ""),
    ];
    let mut written = 0;
    for slice in girls.chunks(ROWS_PER_TX / LOG_PER_EPISODE) {
        let log: Vec<(Uuid, Uuid, usize, DateTime<Utc>, Uuid)> = slice
            .iter()
            .flat_map(|(_, episode, _, at, by)| {
                (0..LOG_PER_EPISODE).map(move |j| {
                    (
                        Uuid::now_v7(),
                        *episode,
                        j % KINDS.len(),
                        *at + Duration::minutes(80 * j as i64 + 5),
                        *by,
                    )
                })
            })
            .collect();
        insert_all(
            pool,
            "INSERT INTO care_log (id, episode_id, kind, at, items, recorded_by, recorded_at) ",
            &log,
            |mut row, (id, episode, kind, at, by)| {
                let (kind, items) = KINDS[*kind];
                row.push_bind(*id)
                    .push_bind(*episode)
                    .push_bind(kind)
                    .push_bind(*at)
                    .push_bind(items)
                    .push_bind(*by)
                    .push_bind(*at);
            },
        )
        .await?;
        written += log.len();
    }
    Ok(written)
}

/// Last night's raid, recorded by the investigator; ten girls taken in by aftercare through
/// the store (sealed fields, audit), with a roster and a few log entries and safeguard checks
/// each.
async fn live_intervention(
    db: &Db,
    keyring: &Keyring,
    investigator: &User,
    aftercare: &User,
    aftercare2: &User,
) -> Result<InterventionId> {
    let ctx = RequestContext::system("cli:bench");
    let now = haven_store::clock::now();
    // Recorded by the aftercare worker, who so leads its crisis care and sets its roster.
    let iv = interventions::create(
        db,
        aftercare,
        &ctx,
        InterventionDraft {
            occurred_at: now - Duration::hours(10),
            area: "Svay Pak".to_owned(),
            venue_name: "Golden Lotus Karaoke".to_owned(),
            venue_type: VenueType::KaraokeBar,
            police_unit: "Anti-Human Trafficking and Juvenile Protection Police".to_owned(),
            lead_investigator: Some(investigator.id),
            persons_found: 14,
            victims_identified: LIVE_GIRLS as u32,
            suspects_arrested: 3,
        },
    )
    .await?;
    for (staff, from, to) in [(aftercare, -10, 2), (aftercare2, 2, 8), (aftercare, 12, 24)] {
        interventions::add_shift(
            db,
            aftercare,
            &ctx,
            iv,
            staff.id,
            now + Duration::hours(from),
            now + Duration::hours(to),
        )
        .await?;
    }
    const NAMES: [&str; LIVE_GIRLS] = [
        "Srey Mom",
        "Nguyễn Thị Mai",
        "Dara Kim",
        "Sophy Chea",
        "Trần Thị Linh",
        "Channary Ros",
        "Bopha Nhem",
        "Sokunthea Lim",
        "Phạm Thị Hương",
        "Kanha Sok",
    ];
    for (i, name) in NAMES.iter().enumerate() {
        let vietnamese = name.contains("Thị");
        let rescued_at = now - Duration::minutes(590 - 50 * i as i64);
        let (_, episode) = crisis::intake(
            db,
            keyring,
            aftercare,
            &ctx,
            iv,
            &Intake {
                reference: Reference::parse(&format!("TMP-LIVE-{:02}", i + 1))?,
                rescued_at,
                fields: vec![
                    (SurvivorField::Name, (*name).to_owned()),
                    (SurvivorField::Sex, "female".to_owned()),
                    (SurvivorField::StatedAge, (14 + i % 6).to_string()),
                    (
                        SurvivorField::Languages,
                        if vietnamese { "vi" } else { "km" }.to_owned(),
                    ),
                    (
                        SurvivorField::ImmediateMedicalNeeds,
                        "Dehydrated; needs a medical check".to_owned(),
                    ),
                ],
            },
        )
        .await?;
        for (kind, items, minutes) in [
            (CareLogKind::Contact, vec![], 5),
            (
                CareLogKind::CarePackage,
                vec![CareItem::Water, CareItem::Food],
                10,
            ),
            (CareLogKind::Meal, vec![], 60),
        ] {
            let entry = LogEntry {
                kind,
                items,
                at: rescued_at + Duration::minutes(minutes),
                note: "Settled, drinking water.".to_owned(),
            };
            crisis::log_care(db, keyring, aftercare, &ctx, episode, &entry).await?;
        }
        for safeguard in Safeguard::ALL.iter().take(1 + i % 3) {
            let _ = crisis::check_safeguard(
                db, keyring, aftercare, &ctx, episode, *safeguard, true, "", false,
            )
            .await?;
        }
    }
    Ok(iv)
}
