//! Demo data for crisis care: a raid on a karaoke bar in Svay Pak some 40 hours ago, with
//! three girls at different points of their 48 hours at the police station, and a roster with
//! a night gap and one Vietnamese speaker. A trial user opening the station page or the alert
//! list sees every kind of alert the team works with, without typing anything first.
//!
//! Everything is written through the store's own functions, so it is checked and audited
//! exactly like a caseworker's entries. Times are computed from the moment the demo starts,
//! so the clock, the contact alert and the roster gap show whenever it is run.

use crate::clock::now;
use crate::crisis::{self, Intake, LogEntry};
use crate::interventions;
use crate::survivors;
use crate::users::{self, User};
use crate::{Db, Keyring, StoreError};
use chrono::{DateTime, Duration, DurationRound, Utc};
use haven_core::crisis::{CareItem, CareLogKind, Safeguard};
use haven_core::identification::{
    ControlMeans, ExploitationType, IdentificationDecision, MinorStatus, Screening,
};
use haven_core::intervention::{InterventionDraft, VenueType};
use haven_core::{EpisodeId, InterventionId, Reference, RequestContext, SurvivorField, Username};

/// The police unit that leads raids on venues exploiting children in Cambodia.
pub const POLICE_UNIT: &str = "Anti-Human Trafficking and Juvenile Protection Police";
/// The raided venue of the demo.
pub const VENUE: &str = "Golden Lotus Karaoke";
/// Temporary references of the two girls registered at the station.
pub const NO_PAPERS_REFERENCE: &str = "TMP-SVP-02";
pub const ADULT_REFERENCE: &str = "TMP-SVP-03";

async fn demo_user(db: &Db, name: &str) -> Result<User, StoreError> {
    users::find_by_username(db, &Username::parse(name)?)
        .await?
        .ok_or_else(|| StoreError::Internal(format!("demo user {name} missing")))
}

fn entry(kind: CareLogKind, items: &[CareItem], at: DateTime<Utc>, note: &str) -> LogEntry {
    LogEntry {
        kind,
        items: items.to_vec(),
        at,
        note: note.to_owned(),
    }
}

/// Adds the live intervention, its roster and its three girls in crisis care. Call after
/// [`crate::demo::seed_survivors`]: the first girl is the demo survivor PP-2026-001, found
/// again in this raid.
#[tracing::instrument(skip_all)]
pub async fn seed_crisis_care(db: &Db, keyring: &Keyring) -> Result<(), StoreError> {
    let ctx = RequestContext::system("demo");
    let investigator = demo_user(db, "investigator").await?;
    let aftercare = demo_user(db, "aftercare").await?;
    let aftercare2 = demo_user(db, "aftercare2").await?;
    let start = now();
    let hours = |h: i64| start - Duration::hours(h);
    let minutes = |m: i64| start - Duration::minutes(m);

    let occurred_at = hours(40);
    let intervention = interventions::create(
        db,
        &investigator,
        &ctx,
        InterventionDraft {
            occurred_at,
            area: "Svay Pak, Russey Keo, Phnom Penh".to_owned(),
            venue_name: VENUE.to_owned(),
            venue_type: VenueType::KaraokeBar,
            police_unit: POLICE_UNIT.to_owned(),
            lead_investigator: Some(investigator.id),
            persons_found: 11,
            victims_identified: 3,
            suspects_arrested: 2,
        },
    )
    .await?;

    // Lan (aftercare2) is the only member of staff who speaks Vietnamese.
    users::set_languages(db, &ctx, aftercare2.id, "km,vi").await?;
    roster(
        db,
        &aftercare,
        &aftercare2,
        &ctx,
        intervention,
        occurred_at,
        start,
    )
    .await?;

    hoa(db, keyring, &aftercare, &ctx, intervention, &hours).await?;

    let (_, no_papers) = crisis::intake(
        db,
        keyring,
        &aftercare,
        &ctx,
        intervention,
        &Intake {
            reference: Reference::parse(NO_PAPERS_REFERENCE)?,
            rescued_at: hours(20),
            fields: vec![
                (SurvivorField::Sex, "female".to_owned()),
                (SurvivorField::EstimatedAge, "16".to_owned()),
                (
                    SurvivorField::AgeEstimateMethod,
                    "Appearance and dental development, assessed by the station nurse; no papers"
                        .to_owned(),
                ),
                (SurvivorField::Nationality, "Cambodian".to_owned()),
                (SurvivorField::Languages, "km".to_owned()),
                (SurvivorField::HomeRegion, "Prey Veng".to_owned()),
                (
                    SurvivorField::ImmediateMedicalNeeds,
                    "Bruising on both arms; complains of stomach pain".to_owned(),
                ),
            ],
        },
    )
    .await?;
    // Her last contact was six hours ago: the four-hour contact alert shows.
    for e in [
        entry(
            CareLogKind::Contact,
            &[],
            hours(19),
            "Quiet, would not give her name. Sat with her until she slept.",
        ),
        entry(
            CareLogKind::CarePackage,
            &[CareItem::Water, CareItem::Food, CareItem::Clothing],
            hours(19),
            "",
        ),
        entry(
            CareLogKind::MedicalCheck,
            &[],
            hours(14),
            "Station nurse: bruises several days old, no fracture. Stomach pain eased after food.",
        ),
        entry(
            CareLogKind::Contact,
            &[],
            hours(6),
            "Asked whether her mother will be told. Explained what happens next.",
        ),
        entry(CareLogKind::Meal, &[], hours(5), ""),
    ] {
        crisis::log_care(db, keyring, &aftercare, &ctx, no_papers, &e).await?;
    }
    confirm_safeguards(db, keyring, &aftercare, &ctx, no_papers).await?;
    crisis::screen(
        db,
        keyring,
        &aftercare,
        &ctx,
        no_papers,
        Screening {
            minor_status: MinorStatus::Probable,
            control_means: vec![ControlMeans::TakesEarnings, ControlMeans::RestrictsMovement],
            exploitation: vec![ExploitationType::SexualExploitation],
            decision: IdentificationDecision::Victim,
            reasons: "No papers; estimated 16 by the station nurse, so treated as a child. Found \
                      in a back room of the karaoke bar; the manager kept her earnings and she \
                      was not allowed out alone."
                .to_owned(),
        },
        false,
    )
    .await?;

    // An adult who came forward at the station two hours ago; not yet screened.
    let (_, adult) = crisis::intake(
        db,
        keyring,
        &aftercare,
        &ctx,
        intervention,
        &Intake {
            reference: Reference::parse(ADULT_REFERENCE)?,
            rescued_at: hours(2),
            fields: vec![
                (SurvivorField::Sex, "female".to_owned()),
                (SurvivorField::StatedAge, "23".to_owned()),
                (SurvivorField::Nationality, "Cambodian".to_owned()),
                (SurvivorField::Languages, "km".to_owned()),
                (SurvivorField::HomeRegion, "Kampong Cham".to_owned()),
            ],
        },
    )
    .await?;
    crisis::log_care(
        db,
        keyring,
        &aftercare,
        &ctx,
        adult,
        &entry(
            CareLogKind::Contact,
            &[],
            minutes(90),
            "Says she owes the owner for her room and was told she could not leave until it is paid.",
        ),
    )
    .await?;
    Ok(())
}

/// PP-2026-001, the demo survivor already on file, found again in this raid: her intake
/// details are added to her record, then her crisis-care episode is opened.
async fn hoa(
    db: &Db,
    keyring: &Keyring,
    aftercare: &User,
    ctx: &RequestContext,
    intervention: InterventionId,
    hours: &impl Fn(i64) -> DateTime<Utc>,
) -> Result<(), StoreError> {
    let id = survivors::list(db, aftercare, None, 200)
        .await?
        .into_iter()
        .find(|s| s.reference == "PP-2026-001")
        .map(|s| s.id)
        .ok_or_else(|| StoreError::Internal("demo survivor PP-2026-001 missing".to_owned()))?;
    let current = survivors::read(db, keyring, aftercare, ctx, id).await?;
    survivors::update(
        db,
        keyring,
        aftercare,
        ctx,
        id,
        &[
            (SurvivorField::Sex, "female".to_owned()),
            (SurvivorField::Languages, "vi".to_owned()),
            (SurvivorField::InterpreterLanguage, "vi".to_owned()),
            (SurvivorField::Nationality, "Vietnamese".to_owned()),
            (SurvivorField::StatedAge, "14".to_owned()),
            (
                SurvivorField::ImmediateMedicalNeeds,
                "Dehydrated and exhausted; a cut on her left foot needs cleaning and dressing"
                    .to_owned(),
            ),
        ],
        current.version,
    )
    .await?;
    let episode =
        crisis::open_episode(db, keyring, aftercare, ctx, id, intervention, hours(39)).await?;
    for e in [
        entry(
            CareLogKind::Contact,
            &[],
            hours(38),
            "Very frightened of the police officers; calmer once told she is not in trouble.",
        ),
        entry(
            CareLogKind::CarePackage,
            &[
                CareItem::Water,
                CareItem::Food,
                CareItem::Toiletries,
                CareItem::Clothing,
            ],
            hours(38),
            "",
        ),
        entry(
            CareLogKind::MedicalCheck,
            &[],
            hours(36),
            "Foot cleaned and dressed. Drinking water; STI and HIV screening to follow at the partner clinic.",
        ),
        entry(
            CareLogKind::InterpreterSession,
            &[],
            hours(26),
            "With Lan: she asked to call her aunt in Châu Đốc.",
        ),
        entry(CareLogKind::Meal, &[], hours(8), ""),
        entry(
            CareLogKind::Contact,
            &[],
            hours(1),
            "Slept a few hours. Asked again about her aunt.",
        ),
    ] {
        crisis::log_care(db, keyring, aftercare, ctx, episode, &e).await?;
    }
    confirm_safeguards(db, keyring, aftercare, ctx, episode).await?;
    crisis::screen(
        db,
        keyring,
        aftercare,
        ctx,
        episode,
        Screening {
            minor_status: MinorStatus::Certain,
            control_means: vec![
                ControlMeans::DebtBondage,
                ControlMeans::FalsePromises,
                ControlMeans::RestrictsMovement,
            ],
            exploitation: vec![ExploitationType::SexualExploitation],
            decision: IdentificationDecision::Victim,
            reasons: "14 years old by her date of birth on file. Brought from Vietnam with a \
                      promise of restaurant work, told she owed the owner for the journey, and \
                      found in a karaoke room with a customer."
                .to_owned(),
        },
        false,
    )
    .await
}

async fn confirm_safeguards(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    episode: EpisodeId,
) -> Result<(), StoreError> {
    for safeguard in Safeguard::ALL {
        let _ =
            crisis::check_safeguard(db, keyring, user, ctx, episode, *safeguard, true, "", false)
                .await?;
    }
    Ok(())
}

/// The roster, set by the manager (the investigator recorded the raid, so there is no
/// aftercare lead): staff day and night since the raid, with nobody on duty for eight hours
/// starting four to five hours from now (the roster-gap alert), and the only Vietnamese
/// speaker (Lan) back on a short shift that ends in two hours (the language-gap alert for
/// PP-2026-001). Both demo aftercare workers are on duty now, so both see the girls.
async fn roster(
    db: &Db,
    aftercare: &User,
    aftercare2: &User,
    ctx: &RequestContext,
    intervention: InterventionId,
    occurred_at: DateTime<Utc>,
    start: DateTime<Utc>,
) -> Result<(), StoreError> {
    let manager = demo_user(db, "manager").await?;
    let gap_from = (start + Duration::hours(5))
        .duration_trunc(Duration::hours(1))
        .map_err(|e| StoreError::Internal(format!("demo roster: {e}")))?;
    let gap_to = gap_from + Duration::hours(8);
    let shifts = [
        (aftercare, occurred_at, occurred_at + Duration::hours(12)),
        (
            aftercare2,
            occurred_at + Duration::hours(12),
            gap_from - Duration::hours(12),
        ),
        (aftercare, gap_from - Duration::hours(12), gap_from),
        (aftercare, gap_to, gap_to + Duration::hours(12)),
        (
            aftercare2,
            start - Duration::hours(2),
            start + Duration::hours(2),
        ),
    ];
    for (staff, from, to) in shifts {
        interventions::add_shift(db, &manager, ctx, intervention, staff.id, from, to).await?;
    }
    Ok(())
}
