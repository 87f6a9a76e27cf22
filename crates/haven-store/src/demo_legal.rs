//! Demo legal casework: one prosecution linked to demo survivor PP-2026-001, with two
//! suspects, charges, a few stages, an upcoming hearing and a photo in the evidence locker.

use crate::clock::now;
use crate::evidence::{self, EvidenceMeta, Locker};
use crate::legal::{self, NewCase, NewHearing};
use crate::users::{self, User};
use crate::{Db, Keyring, StoreError};
use chrono::Duration;
use haven_core::legal::{Capacity, InformedDecision, Participation, Stage, SuspectRole};
use haven_core::{RequestContext, SurvivorId, Username};
use uuid::Uuid;

/// The demo case's reference.
pub const CASE_REFERENCE: &str = "LC-2026-001";

/// A small photo (8×8 PNG) standing in for a picture taken at the scene.
pub const DEMO_PHOTO: [u8; 74] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 8, 0, 0, 0, 8, 8, 2, 0,
    0, 0, 75, 109, 41, 220, 0, 0, 0, 17, 73, 68, 65, 84, 120, 156, 99, 56, 17, 96, 131, 21, 49, 12,
    45, 9, 0, 89, 183, 85, 1, 106, 60, 217, 145, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

async fn demo_user(db: &Db, name: &str) -> Result<User, StoreError> {
    users::find_by_username(db, &Username::parse(name)?)
        .await?
        .ok_or_else(|| StoreError::Internal(format!("demo user {name} missing")))
}

/// Adds the demo case. Needs the demo users and survivors.
#[tracing::instrument(skip_all)]
pub async fn seed_legal(db: &Db, keyring: &Keyring, locker: &Locker) -> Result<Uuid, StoreError> {
    let ctx = RequestContext::system("demo");
    let lawyer = demo_user(db, "legal").await?;
    let survivor: Uuid = crate::on_pool!(db, pool => sqlx::query_scalar(
        "SELECT id FROM survivors WHERE reference = 'PP-2026-001'")
        .fetch_one(pool)
        .await?);
    let survivor = SurvivorId::from_uuid(survivor);
    let case = legal::create_case(
        db,
        keyring,
        &lawyer,
        &ctx,
        &NewCase {
            reference: CASE_REFERENCE.to_owned(),
            title: "Prosecution of the owners of a Phnom Penh karaoke bar".to_owned(),
            court: "Phnom Penh Municipal Court".to_owned(),
            prosecutor: "Deputy Prosecutor Keo Ratana".to_owned(),
            judge: "Investigating Judge Prak Sovann".to_owned(),
            intervention_id: None,
        },
    )
    .await?;
    let owner = legal::add_suspect(
        db,
        keyring,
        &lawyer,
        &ctx,
        case,
        "Chan Vuthy",
        "Ta Vuthy",
        SuspectRole::Exploiter,
    )
    .await?;
    let recruiter = legal::add_suspect(
        db,
        keyring,
        &lawyer,
        &ctx,
        case,
        "Lim Sokha",
        "Mama Kha",
        SuspectRole::RecruiterOrIntermediary,
    )
    .await?;
    legal::add_charge(db, &lawyer, &ctx, case, "art-15", Some(recruiter)).await?;
    legal::add_charge(db, &lawyer, &ctx, case, "art-30", Some(owner)).await?;
    legal::add_charge(db, &lawyer, &ctx, case, "art-34", Some(owner)).await?;
    legal::link_survivor(db, &lawyer, &ctx, case, survivor, Capacity::Complainant).await?;
    legal::record_decision(
        db,
        keyring,
        &lawyer,
        &ctx,
        case,
        survivor,
        &InformedDecision {
            decision: Participation::TakesPart,
            explained_by: "Dara Sok (lawyer), with a Vietnamese interpreter".to_owned(),
            language: "vi".to_owned(),
            explained: "What a complaint and a trial are, who will be in court, that she can stop at any time and still receive care.".to_owned(),
            guardian: Some("Her aunt, by video call from Châu Đốc".to_owned()),
        },
        true,
    )
    .await?;
    let today = now().date_naive();
    for (stage, days_ago, note) in [
        (
            Stage::Complaint,
            60,
            "Complaint filed with the anti-trafficking police",
        ),
        (
            Stage::Investigation,
            58,
            "Judicial police investigation opened",
        ),
        (Stage::Arrest, 45, "Both suspects arrested at the bar"),
        (Stage::Charge, 43, "Charged by the investigating judge"),
        (
            Stage::PreTrialDetention,
            43,
            "Both held in pre-trial detention",
        ),
    ] {
        legal::record_stage(
            db,
            keyring,
            &lawyer,
            &ctx,
            case,
            stage,
            today - Duration::days(days_ago),
            note,
        )
        .await?;
    }
    let start = (today + Duration::days(5))
        .and_hms_opt(2, 0, 0)
        .map(|t| t.and_utc())
        .ok_or_else(|| StoreError::Internal("demo hearing time".into()))?;
    legal::schedule_hearing(
        db,
        keyring,
        &lawyer,
        &ctx,
        case,
        &NewHearing {
            stage: Stage::TrialHearings,
            starts_at: start,
            ends_at: start + Duration::hours(3),
            court: "Phnom Penh Municipal Court".to_owned(),
            room: "Courtroom 3".to_owned(),
        },
    )
    .await?;
    legal::add_deadline(
        db,
        keyring,
        &lawyer,
        &ctx,
        case,
        "File the list of witnesses with the court",
        start - Duration::days(2),
    )
    .await?;
    let mut upload = evidence::begin_upload(
        db,
        locker,
        &lawyer,
        case,
        &EvidenceMeta {
            kind: "photo".to_owned(),
            category: "general".to_owned(),
            title: "Photo of the back room of the bar".to_owned(),
            stage: Some("investigation".to_owned()),
            collected_by: "Anti-trafficking police officer Sok Pisey".to_owned(),
            collected_at: Some(now() - Duration::days(45)),
            collected_where: "Back room of the karaoke bar, Phnom Penh".to_owned(),
            collected_how: "Photographed during the arrest, police camera, original file"
                .to_owned(),
            ..EvidenceMeta::default()
        },
        "back-room.png",
        Some("image/png"),
    )
    .await?;
    upload.write(&DEMO_PHOTO).await?;
    upload.finish(db, keyring, &lawyer, &ctx).await?;
    Ok(case)
}
