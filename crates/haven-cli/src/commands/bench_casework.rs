//! `haven bench`, case management: a caseworker's caseload, the team's overdue list and one
//! survivor's whole file, on a database of years of aftercare: 100,000 survivors (each with a
//! sealed name under her own data key) shared by 2,500 caseworkers, 1,000,000 services with
//! sealed outcomes and 500,000 follow-ups, about one in ten survivors with an overdue contact.
//! The filler is written straight through sqlx in multi-row inserts; the measured survivors'
//! plans, services and notes go through the store functions, as staff would write them.

use super::bench::summary;
use super::bench_crisis::insert_all;
use anyhow::{anyhow, Result};
use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use haven_core::casework::{
    AreaPlan, AreaStatus, Goal, GoalStatus, PlanArea, Responsible, RiskFactors, ServiceKind,
};
use haven_core::{Password, Reference, RequestContext, SurvivorField, SurvivorId, Username};
use haven_store::care_plans::{self, PlanInput};
use haven_store::care_services::{self, ServiceInput};
use haven_store::case_notes::{self, NoteInput};
use haven_store::case_risk::{self, RiskInput};
use haven_store::crypto::DataKey;
use haven_store::users::User;
use haven_store::{
    case_file, follow_ups, survivors, ConnectOptions, DatabaseUrl, Db, HashCost, Keyring,
    PasswordHasher,
};
use std::time::Instant;
use uuid::Uuid;

const SURVIVORS: usize = 100_000;
const SERVICES_PER_SURVIVOR: usize = 10;
const FOLLOW_UPS_PER_SURVIVOR: usize = 5;
/// Caseworkers sharing them: 40 survivors each.
const CASEWORKERS: usize = 2_500;
/// Every tenth survivor's open contact is overdue.
const OVERDUE_EVERY: usize = 10;

pub async fn run(samples: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("casework.db").display()
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
    let manager = demo_user(&db, "manager").await?;

    let started = Instant::now();
    let counts = fill(&db, &keyring, &aftercare).await?;
    let filled = started.elapsed();
    let ctx = RequestContext::system("cli:bench");
    let full = full_survivor(&db, &keyring, &aftercare, &ctx).await?;
    println!(
        "{:<44} {:>10.3?}  (+ one full file through the store in {:.3?})",
        format!(
            "casework: seed {} survivors, {} services, {} follow-ups",
            counts.0, counts.1, counts.2
        ),
        filled,
        started.elapsed() - filled
    );

    let today = Utc::now().date_naive();
    let mut caseload = Vec::new();
    for _ in 0..samples {
        let started = Instant::now();
        let rows =
            follow_ups::caseload(&db, &keyring, &aftercare, &ctx, aftercare.id, today).await?;
        caseload.push(started.elapsed());
        if rows.len() < 40 || rows[0].overdue == 0 || rows[0].name.is_none() {
            anyhow::bail!("the caseload is not what was seeded ({} rows)", rows.len());
        }
    }
    summary("casework: caseload page (41 survivors)", caseload);

    let mut overdue = Vec::new();
    let mut total = 0;
    for _ in 0..samples {
        let started = Instant::now();
        let (items, all) = follow_ups::team_overdue(&db, &manager, today, 200).await?;
        overdue.push(started.elapsed());
        total = all;
        if items.len() != 200 {
            anyhow::bail!("the overdue list has {} items", items.len());
        }
    }
    summary(
        &format!("casework: team overdue list (200 of {total})"),
        overdue,
    );

    let mut loads = Vec::new();
    for _ in 0..samples.min(5) {
        let started = Instant::now();
        let workers = follow_ups::team_loads(&db, &manager, today).await?;
        loads.push(started.elapsed());
        if workers.len() < CASEWORKERS {
            anyhow::bail!("the team view lists {} caseworkers", workers.len());
        }
    }
    summary("casework: team caseloads (2,500 workers)", loads);

    let mut file = Vec::new();
    for _ in 0..samples {
        let started = Instant::now();
        let opened = case_file::open(&db, &keyring, &aftercare, &ctx, full).await?;
        file.push(started.elapsed());
        if opened.services.len() != SERVICES_PER_SURVIVOR || opened.plan.is_none() {
            anyhow::bail!("her file is incomplete");
        }
    }
    summary("casework: open her full file (decrypt all)", file);
    db.close().await;
    Ok(())
}

async fn demo_user(db: &Db, name: &str) -> Result<User> {
    haven_store::users::find_by_username(db, &Username::parse(name)?)
        .await?
        .ok_or_else(|| anyhow!("demo user {name} missing"))
}

/// A survivor of the filler: id, reference, caseworker, registered at, data key.
struct Girl {
    id: Uuid,
    reference: String,
    worker: Uuid,
    at: DateTime<Utc>,
    key: DataKey,
}

/// Writes the filler; returns (survivors, services, follow-ups).
async fn fill(db: &Db, keyring: &Keyring, aftercare: &User) -> Result<(usize, usize, usize)> {
    let Db::Sqlite(pool) = db else {
        anyhow::bail!("the benchmark runs on SQLite");
    };
    let org = aftercare.org_id.as_uuid();
    let now = haven_store::clock::now();
    // Caseworker 0 is the demo `aftercare`, whose caseload is measured.
    let mut workers = vec![aftercare.id.as_uuid()];
    let extra: Vec<(Uuid, String)> = (1..CASEWORKERS)
        .map(|i| (Uuid::now_v7(), format!("caseworker{i:04}")))
        .collect();
    insert_all(
        pool,
        "INSERT INTO users (id, org_id, username, display_name, password_hash, created_at, updated_at) ",
        &extra,
        |mut row, (id, name)| {
            row.push_bind(*id)
                .push_bind(org)
                .push_bind(name.clone())
                .push_bind(name.clone())
                .push_bind("!")
                .push_bind(now)
                .push_bind(now);
        },
    )
    .await?;
    insert_all(
        pool,
        "INSERT INTO user_roles (user_id, role) ",
        &extra,
        |mut row, (id, _)| {
            row.push_bind(*id).push_bind("aftercare");
        },
    )
    .await?;
    workers.extend(extra.iter().map(|(id, _)| *id));

    let first = now - Duration::days(4 * 365);
    let girls: Vec<Girl> = (0..SURVIVORS)
        .map(|i| Girl {
            id: Uuid::now_v7(),
            reference: format!("CW-{i:06}"),
            worker: workers[i % CASEWORKERS],
            at: first + Duration::minutes(i as i64 * 20),
            key: DataKey::generate(),
        })
        .collect();
    insert_all(
        pool,
        "INSERT INTO survivors (id, reference, owner_org, created_by, created_at, updated_at) ",
        &girls,
        |mut row, g| {
            row.push_bind(g.id)
                .push_bind(g.reference.clone())
                .push_bind(org)
                .push_bind(g.worker)
                .push_bind(g.at)
                .push_bind(g.at);
        },
    )
    .await?;
    insert_all(
        pool,
        "INSERT INTO survivor_keys (survivor_id, master_key_id, wrapped_key) ",
        &girls,
        |mut row, g| {
            let (key_id, wrapped) = keyring.wrap(&g.key, g.id);
            row.push_bind(g.id).push_bind(key_id).push_bind(wrapped);
        },
    )
    .await?;
    insert_all(
        pool,
        "INSERT INTO survivor_fields (survivor_id, field, sealed, updated_at, updated_by) ",
        &girls,
        |mut row, g| {
            let name = format!("Survivor {}", g.reference);
            let sealed = g.key.seal(g.id, SurvivorField::Name.as_str(), &name);
            row.push_bind(g.id)
                .push_bind(SurvivorField::Name.as_str())
                .push_bind(sealed.as_bytes().to_vec())
                .push_bind(g.at)
                .push_bind(g.worker);
        },
    )
    .await?;
    insert_all(
        pool,
        "INSERT INTO survivor_assignments (survivor_id, user_id, assigned_at) ",
        &girls,
        |mut row, g| {
            row.push_bind(g.id).push_bind(g.worker).push_bind(g.at);
        },
    )
    .await?;

    const KINDS: [ServiceKind; 5] = [
        ServiceKind::Counselling,
        ServiceKind::Literacy,
        ServiceKind::VocationalTraining,
        ServiceKind::HomeVisit,
        ServiceKind::StiHivTest,
    ];
    let mut services = 0;
    for slice in girls.chunks(20_000) {
        let rows: Vec<(Uuid, &Girl, usize)> = slice
            .iter()
            .flat_map(|g| (0..SERVICES_PER_SURVIVOR).map(move |k| (Uuid::now_v7(), g, k)))
            .collect();
        insert_all(
            pool,
            "INSERT INTO care_services (id, survivor_id, kind, area, delivered_on, outcome, \
             medical_result, recorded_by, recorded_at) ",
            &rows,
            |mut row, (id, g, k)| {
                let kind = KINDS[k % KINDS.len()];
                let on = g.at + Duration::days(30 * *k as i64);
                let outcome = g.key.seal(*id, "service.outcome", "Attended; doing well.");
                let result = kind.has_medical_result().then(|| {
                    g.key
                        .seal(*id, "service.medical_result", "Negative.")
                        .into_bytes()
                });
                row.push_bind(*id)
                    .push_bind(g.id)
                    .push_bind(kind.as_str())
                    .push_bind(kind.area().as_str())
                    .push_bind(on.date_naive())
                    .push_bind(outcome.into_bytes())
                    .push_bind(result)
                    .push_bind(g.worker)
                    .push_bind(on);
            },
        )
        .await?;
        services += rows.len();
    }

    // Four done contacts and one open per survivor; every tenth open one is overdue.
    let today = now.date_naive();
    let mut follow_ups = 0;
    for slice in girls.chunks(40_000) {
        let rows: Vec<(Uuid, &Girl, usize, NaiveDate)> = slice
            .iter()
            .enumerate()
            .flat_map(|(i, g)| {
                (0..FOLLOW_UPS_PER_SURVIVOR).map(move |k| {
                    let due = if k + 1 < FOLLOW_UPS_PER_SURVIVOR {
                        g.at.date_naive() + Days::new(30 * k as u64 + 7)
                    } else if i % OVERDUE_EVERY == 0 {
                        today - Days::new(1 + (i % 60) as u64)
                    } else {
                        today + Days::new(1 + (i % 80) as u64)
                    };
                    (Uuid::now_v7(), g, k, due)
                })
            })
            .collect();
        insert_all(
            pool,
            "INSERT INTO follow_ups (id, survivor_id, kind, due_on, done_on, done_by, created_by, created_at) ",
            &rows,
            |mut row, (id, g, k, due)| {
                let done = *k + 1 < FOLLOW_UPS_PER_SURVIVOR;
                row.push_bind(*id)
                    .push_bind(g.id)
                    .push_bind("contact")
                    .push_bind(*due)
                    .push_bind(done.then_some(*due))
                    .push_bind(done.then_some(g.worker))
                    .push_bind(g.worker)
                    .push_bind(g.at);
            },
        )
        .await?;
        follow_ups += rows.len();
    }
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok((girls.len(), services, follow_ups))
}

/// One more survivor on `aftercare`'s caseload with a full file written through the store:
/// a reviewed seven-area plan, ten services, a risk assessment and notes.
async fn full_survivor(
    db: &Db,
    keyring: &Keyring,
    aftercare: &User,
    ctx: &RequestContext,
) -> Result<SurvivorId> {
    let today = Utc::now().date_naive();
    let started = today - Days::new(200);
    let id = survivors::create(
        db,
        keyring,
        aftercare,
        ctx,
        &Reference::parse("CW-FULL")?,
        &[
            (SurvivorField::Name, "Sophea Chan".to_owned()),
            (SurvivorField::DateOfBirth, "2010-04-01".to_owned()),
            (SurvivorField::Phone, "012 999 888".to_owned()),
            (
                SurvivorField::PsychosocialNotes,
                "Settled at the shelter.".to_owned(),
            ),
        ],
    )
    .await?;
    let areas: Vec<AreaPlan> = PlanArea::ALL
        .iter()
        .map(|area| AreaPlan {
            area: *area,
            status: AreaStatus::InProgress,
            responsible: Responsible::Staff {
                user: aftercare.id.as_uuid(),
            },
            needs: format!("Needs assessed for {area}."),
            goals: vec![
                Goal {
                    text: format!("First goal for {area}"),
                    target: started + Days::new(90),
                    status: GoalStatus::Met,
                },
                Goal {
                    text: format!("Second goal for {area}"),
                    target: started + Days::new(365),
                    status: GoalStatus::Open,
                },
            ],
            her_words: "I want to finish school.".to_owned(),
        })
        .collect();
    let mut plan = PlanInput {
        based_on_version: None,
        started_on: started,
        is_review: false,
        areas,
    };
    care_plans::save(db, keyring, aftercare, ctx, id, &plan).await?;
    plan.based_on_version = Some(1);
    plan.is_review = true;
    care_plans::save(db, keyring, aftercare, ctx, id, &plan).await?;
    for k in 0..SERVICES_PER_SURVIVOR {
        let kind = if k % 3 == 0 {
            ServiceKind::StiHivTest
        } else {
            ServiceKind::Counselling
        };
        care_services::record(
            db,
            keyring,
            aftercare,
            ctx,
            id,
            &ServiceInput {
                kind,
                delivered_on: started + Days::new(15 * k as u64),
                provider_user: Some(aftercare.id),
                provider_org: None,
                outcome: "Went well; she asked good questions.".to_owned(),
                medical_result: kind.has_medical_result().then(|| "Negative.".to_owned()),
            },
        )
        .await?;
    }
    case_risk::assess(
        db,
        keyring,
        aftercare,
        ctx,
        id,
        &RiskInput {
            assessed_on: today,
            factors: RiskFactors {
                family_pressure: true,
                ..RiskFactors::default()
            },
            judged: None,
            notes: "Mother asks about money.".to_owned(),
        },
    )
    .await?;
    for confidential in [false, false, true] {
        case_notes::add(
            db,
            keyring,
            aftercare,
            ctx,
            id,
            &NoteInput {
                area: Some(PlanArea::Psychosocial),
                confidential,
                body: "<p>Talked about <b>school</b> and her brother.</p>".to_owned(),
            },
        )
        .await?;
    }
    Ok(id)
}
