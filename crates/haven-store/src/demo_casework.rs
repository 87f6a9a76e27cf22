//! Demo case management: PP-2026-001 has a contact already overdue (so the caseload shows one)
//! and no plan yet; PP-2026-002 has a plan that has been reviewed, services (one an STI/HIV
//! test with a result), a risk assessment and notes, one of them confidential.

use crate::care_plans::{self, PlanInput};
use crate::care_services::{self, ServiceInput};
use crate::case_notes::{self, NoteInput};
use crate::case_risk::{self, RiskInput};
use crate::clock::{now, team_date};
use crate::crypto::Keyring;
use crate::follow_ups;
use crate::users;
use crate::{Db, StoreError};
use chrono::{Days, NaiveDate};
use haven_core::casework::{
    AreaPlan, AreaStatus, FollowUpKind, Goal, GoalStatus, PlanArea, Responsible, RiskFactors,
    ServiceKind,
};
use haven_core::{Reference, RequestContext, SurvivorId, Username};

async fn survivor(db: &Db, reference: &str) -> Result<SurvivorId, StoreError> {
    let reference = Reference::parse(reference)?;
    crate::survivors::id_by_reference(db, &reference)
        .await?
        .ok_or_else(|| {
            StoreError::Internal(format!("demo survivor {} missing", reference.as_str()))
        })
}

async fn user(db: &Db, name: &str) -> Result<users::User, StoreError> {
    users::find_by_username(db, &Username::parse(name)?)
        .await?
        .ok_or_else(|| StoreError::Internal(format!("demo user {name} missing")))
}

fn days_ago(today: NaiveDate, days: u64) -> NaiveDate {
    today.checked_sub_days(Days::new(days)).unwrap_or(today)
}

fn days_on(today: NaiveDate, days: u64) -> NaiveDate {
    today.checked_add_days(Days::new(days)).unwrap_or(today)
}

fn area(
    area: PlanArea,
    status: AreaStatus,
    needs: &str,
    goals: &[(&str, NaiveDate, GoalStatus)],
    her_words: &str,
    responsible: Responsible,
) -> AreaPlan {
    AreaPlan {
        area,
        status,
        responsible,
        needs: needs.into(),
        goals: goals
            .iter()
            .map(|(text, target, status)| Goal {
                text: (*text).into(),
                target: *target,
                status: *status,
            })
            .collect(),
        her_words: her_words.into(),
    }
}

/// Seeds the demo case-management records (after `demo::seed_survivors`). Dates are counted
/// from today where the team works, the date on which the pages judge what is overdue: her
/// contact is five days late there, whatever the hour in UTC.
#[tracing::instrument(skip_all)]
pub async fn seed_casework(db: &Db, keyring: &Keyring) -> Result<(), StoreError> {
    let ctx = RequestContext::system("demo");
    let at = now();
    let today = team_date(at);
    let hoa = survivor(db, "PP-2026-001").await?;
    let pov = survivor(db, "PP-2026-002").await?;
    let aftercare = user(db, "aftercare").await?;
    let aftercare2 = user(db, "aftercare2").await?;

    // Her first contact after crisis care was due five days ago and has not happened.
    let mut tx = db.begin().await?;
    follow_ups::insert_in(
        &mut tx,
        hoa.as_uuid(),
        FollowUpKind::Contact,
        days_ago(today, 5),
        &aftercare,
        at,
    )
    .await?;
    tx.commit().await?;

    let started = days_ago(today, 120);
    let first = PlanInput {
        based_on_version: None,
        started_on: started,
        is_review: false,
        areas: vec![
            area(
                PlanArea::Medical,
                AreaStatus::InProgress,
                "STI and HIV screening; dental check.",
                &[(
                    "Complete screening at the partner clinic",
                    days_on(started, 30),
                    GoalStatus::Open,
                )],
                "I want to see a woman doctor.",
                Responsible::Staff {
                    user: aftercare2.id.as_uuid(),
                },
            ),
            area(
                PlanArea::Psychosocial,
                AreaStatus::InProgress,
                "Nightmares; does not trust adults she does not know.",
                &[(
                    "Weekly counselling in Khmer",
                    days_on(started, 90),
                    GoalStatus::Open,
                )],
                "I want to sleep without being afraid.",
                Responsible::Staff {
                    user: aftercare2.id.as_uuid(),
                },
            ),
            area(
                PlanArea::Economic,
                AreaStatus::NotStarted,
                "Left school in grade 4; cannot yet read fluently.",
                &[
                    (
                        "Literacy class three times a week",
                        days_on(started, 150),
                        GoalStatus::Open,
                    ),
                    ("Enrol in grade 5", days_on(started, 270), GoalStatus::Open),
                ],
                "I want to go back to school and become a teacher.",
                Responsible::Nobody,
            ),
            area(
                PlanArea::Transition,
                AreaStatus::NotStarted,
                "Family owes money to the recruiter's relative; mother asks her to send money.",
                &[(
                    "Family assessment visit",
                    days_on(started, 200),
                    GoalStatus::Open,
                )],
                "I miss my little brother.",
                Responsible::Nobody,
            ),
        ],
    };
    care_plans::save(db, keyring, &aftercare2, &ctx, pov, &first).await?;
    let mut reviewed = first.clone();
    reviewed.based_on_version = Some(1);
    reviewed.is_review = true;
    reviewed.areas[0].status = AreaStatus::Met;
    reviewed.areas[0].goals[0].status = GoalStatus::Met;
    reviewed.areas[2].status = AreaStatus::InProgress;
    reviewed.areas[2].goals[0].status = GoalStatus::Met;
    care_plans::save(db, keyring, &aftercare2, &ctx, pov, &reviewed).await?;

    for service in [
        ServiceInput {
            kind: ServiceKind::StiHivTest,
            delivered_on: days_ago(today, 110),
            provider_user: None,
            provider_org: None,
            outcome: "Screening done; results given to her in private.".into(),
            medical_result: Some("All results negative.".into()),
        },
        ServiceInput {
            kind: ServiceKind::Counselling,
            delivered_on: days_ago(today, 60),
            provider_user: Some(aftercare2.id),
            provider_org: None,
            outcome: "Talked about her brother; slept better this week.".into(),
            medical_result: None,
        },
        ServiceInput {
            kind: ServiceKind::Literacy,
            delivered_on: days_ago(today, 30),
            provider_user: None,
            provider_org: None,
            outcome: "Reads short sentences; attends every class.".into(),
            medical_result: None,
        },
    ] {
        care_services::record(db, keyring, &aftercare2, &ctx, pov, &service).await?;
    }
    case_risk::assess(
        db,
        keyring,
        &aftercare2,
        &ctx,
        pov,
        &RiskInput {
            assessed_on: days_ago(today, 14),
            factors: RiskFactors {
                family_pressure: true,
                ..RiskFactors::default()
            },
            judged: None,
            notes: "Mother asked twice when she will start earning.".into(),
        },
    )
    .await?;
    case_notes::add(
        db,
        keyring,
        &aftercare2,
        &ctx,
        pov,
        &NoteInput {
            area: Some(PlanArea::Economic),
            confidential: false,
            body:
                "<p>Teacher says she is <strong>ready for grade 5</strong> after the holidays.</p>"
                    .into(),
        },
    )
    .await?;
    case_notes::add(
        db,
        keyring,
        &aftercare2,
        &ctx,
        pov,
        &NoteInput {
            area: Some(PlanArea::Transition),
            confidential: true,
            body: "She told me her uncle was paid by the recruiter. Not to be discussed with the family.".into(),
        },
    )
    .await?;
    Ok(())
}
