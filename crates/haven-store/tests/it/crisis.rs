use chrono::{DateTime, Duration, Utc};
use haven_core::crisis::{Alert, CareItem, CareLogKind, NextStep, PlacementClock, Safeguard};
use haven_core::identification::{
    ExploitationType, IdentificationDecision, MinorStatus, Screening,
};
use haven_core::intervention::{InterventionDraft, VenueType};
use haven_core::{
    EpisodeId, InterventionId, OrgId, PartnerService, Password, Reference, RequestContext,
    SurvivorField, Username,
};
use haven_store::crisis::{self, Intake, LogEntry};
use haven_store::testing::TestDb;
use haven_store::users::User;
use haven_store::{
    crypto::registry, interventions, survivors, HashCost, Keyring, PasswordHasher, StoreError,
};

struct World {
    t: TestDb,
    keyring: Keyring,
}

impl World {
    async fn new(t: TestDb) -> World {
        let keyring = Keyring::generate();
        let hasher = PasswordHasher::new(HashCost::MINIMAL).unwrap();
        haven_store::demo::seed(&t.db, &hasher, &Password::new("demo passphrase 2026"))
            .await
            .unwrap();
        registry::verify_or_register(&t.db, &keyring).await.unwrap();
        World { t, keyring }
    }

    async fn user(&self, name: &str) -> User {
        haven_store::users::find_by_username(&self.t.db, &Username::parse(name).unwrap())
            .await
            .unwrap()
            .unwrap()
    }

    async fn org(&self, name: &str) -> OrgId {
        haven_store::orgs::list(&self.t.db)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.name == name)
            .unwrap()
            .id
    }

    async fn intervention(&self, by: &str, hours_ago: i64) -> InterventionId {
        interventions::create(
            &self.t.db,
            &self.user(by).await,
            &ctx(),
            draft(Utc::now() - Duration::hours(hours_ago)),
        )
        .await
        .unwrap()
    }

    async fn intake(
        &self,
        by: &str,
        intervention: InterventionId,
        reference: &str,
        hours_ago: i64,
        fields: &[(SurvivorField, &str)],
    ) -> Result<(haven_core::SurvivorId, EpisodeId), StoreError> {
        crisis::intake(
            &self.t.db,
            &self.keyring,
            &self.user(by).await,
            &ctx(),
            intervention,
            &Intake {
                reference: Reference::parse(reference).unwrap(),
                rescued_at: Utc::now() - Duration::hours(hours_ago),
                fields: fields.iter().map(|(f, v)| (*f, (*v).to_owned())).collect(),
            },
        )
        .await
    }

    async fn shift(&self, intervention: InterventionId, staff: &str, from_h: i64, to_h: i64) {
        let staff = self.user(staff).await.id;
        interventions::add_shift(
            &self.t.db,
            &self.user("aftercare").await,
            &ctx(),
            intervention,
            staff,
            hour(from_h),
            hour(to_h),
        )
        .await
        .unwrap();
    }
}

fn ctx() -> RequestContext {
    RequestContext::system("test")
}

/// Now plus `h` hours.
fn hour(h: i64) -> DateTime<Utc> {
    Utc::now() + Duration::hours(h)
}

fn draft(at: DateTime<Utc>) -> InterventionDraft {
    InterventionDraft {
        occurred_at: at,
        area: "Svay Pak".into(),
        venue_name: "Golden Star Karaoke".into(),
        venue_type: VenueType::KaraokeBar,
        police_unit: "AHTJP Phnom Penh".into(),
        lead_investigator: None,
        persons_found: 7,
        victims_identified: 3,
        suspects_arrested: 2,
    }
}

async fn the_rostered_team_cares_for_every_girl_and_compartments_hold(t: TestDb) {
    let w = World::new(t).await;
    let db = &w.t.db;
    // An investigator records the intervention; aftercare takes the girls in.
    let iv = w.intervention("investigator", 3).await;
    let (hoa, _) = w
        .intake(
            "aftercare",
            iv,
            "T-01",
            2,
            &[
                (SurvivorField::Name, "Hoa"),
                (SurvivorField::Languages, "vi"),
            ],
        )
        .await
        .unwrap();
    // aftercare2 is not assigned to her: nothing until she is on the roster.
    let aftercare2 = w.user("aftercare2").await;
    assert!(matches!(
        survivors::read(db, &w.keyring, &aftercare2, &ctx(), hoa).await,
        Err(StoreError::NotFound(_))
    ));
    w.shift(iv, "aftercare2", -1, 8).await;
    let view = survivors::read(db, &w.keyring, &aftercare2, &ctx(), hoa)
        .await
        .unwrap();
    assert_eq!(view.fields[&SurvivorField::Name], "Hoa");
    // The investigator sees the intervention but never her.
    let investigator = w.user("investigator").await;
    let seen = interventions::get(db, &investigator, iv).await.unwrap();
    assert_eq!(seen.in_care, 1);
    assert!(matches!(
        crisis::station(db, &w.keyring, &investigator, &ctx(), iv).await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        survivors::read(db, &w.keyring, &investigator, &ctx(), hoa).await,
        Err(StoreError::NotFound(_))
    ));
    // Partners, administrators and auditors see no intervention at all.
    for name in ["partner-worldhope", "admin", "auditor"] {
        let user = w.user(name).await;
        assert!(
            matches!(
                interventions::list(db, &user, 50).await,
                Err(StoreError::Forbidden(_))
            ),
            "{name}"
        );
        assert!(matches!(
            survivors::read(db, &w.keyring, &user, &ctx(), hoa).await,
            Err(StoreError::NotFound(_))
        ));
    }
    // Placement ends the crisis team's access; the assigned caseworker keeps hers.
    let world_hope = w.org("World Hope International").await;
    let station = crisis::station(db, &w.keyring, &w.user("aftercare").await, &ctx(), iv)
        .await
        .unwrap();
    let episode = station.entries[0].episode;
    crisis::place(
        db,
        &aftercare2,
        &ctx(),
        episode,
        world_hope,
        PartnerService::AssessmentCentre,
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(matches!(
        survivors::read(db, &w.keyring, &aftercare2, &ctx(), hoa).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        survivors::read(db, &w.keyring, &w.user("aftercare").await, &ctx(), hoa)
            .await
            .is_ok()
    );
}

async fn bad_input_is_refused_naming_the_field(t: TestDb) {
    let w = World::new(t).await;
    let db = &w.t.db;
    let aftercare = w.user("aftercare").await;
    let field_of = |e: StoreError| match e {
        StoreError::Invalid(v) => v.field,
        other => panic!("expected a validation error, got {other:?}"),
    };
    let future = interventions::create(db, &aftercare, &ctx(), draft(hour(3)))
        .await
        .unwrap_err();
    assert_eq!(field_of(future), "occurred_at");
    let iv = w.intervention("aftercare", 5).await;
    // Rescued before the intervention began; an age that contradicts the date of birth.
    assert_eq!(
        field_of(w.intake("aftercare", iv, "T-02", 6, &[]).await.unwrap_err()),
        "rescued_at"
    );
    let dob = (Utc::now() - Duration::days(365 * 14 + 30))
        .format("%Y-%m-%d")
        .to_string();
    let err = w
        .intake(
            "aftercare",
            iv,
            "T-02",
            4,
            &[
                (SurvivorField::DateOfBirth, &dob),
                (SurvivorField::StatedAge, "19"),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(err), "stated_age");
    assert_eq!(
        survivors::count(db).await.unwrap(),
        0,
        "nothing half-stored"
    );
    // A shift that ends before it starts.
    let staff = w.user("aftercare2").await.id;
    let err = interventions::add_shift(db, &aftercare, &ctx(), iv, staff, hour(4), hour(1))
        .await
        .unwrap_err();
    assert_eq!(field_of(err), "ends_at");
    // A log entry before the rescue; a placement before it; a minor not to an assessment centre.
    let (_, episode) = w
        .intake(
            "aftercare",
            iv,
            "T-02",
            4,
            &[(SurvivorField::EstimatedAge, "16")],
        )
        .await
        .unwrap();
    let entry = LogEntry {
        kind: CareLogKind::Contact,
        items: vec![],
        at: hour(-5),
        note: String::new(),
    };
    let err = crisis::log_care(db, &w.keyring, &aftercare, &ctx(), episode, &entry)
        .await
        .unwrap_err();
    assert_eq!(field_of(err), "at");
    let hagar = w.org("Hagar").await;
    let world_hope = w.org("World Hope International").await;
    let err = crisis::place(
        db,
        &aftercare,
        &ctx(),
        episode,
        world_hope,
        PartnerService::AssessmentCentre,
        hour(-6),
    )
    .await
    .unwrap_err();
    assert_eq!(field_of(err), "placed_at");
    let err = crisis::place(
        db,
        &aftercare,
        &ctx(),
        episode,
        hagar,
        PartnerService::LongTermResidentialCare,
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        field_of(err),
        "service",
        "not screened yet: treated as a minor"
    );
    // A screening calling her an adult while her age is estimated at 16.
    let adult = Screening {
        minor_status: MinorStatus::Adult,
        control_means: vec![],
        exploitation: vec![],
        decision: IdentificationDecision::Pending,
        reasons: "Says she is 19.".into(),
    };
    let err = crisis::screen(db, &w.keyring, &aftercare, &ctx(), episode, adult, false)
        .await
        .unwrap_err();
    assert_eq!(field_of(err), "minor_status");
}

async fn the_clock_alerts_and_placement_follow_the_rules(t: TestDb) {
    let w = World::new(t).await;
    let db = &w.t.db;
    let aftercare = w.user("aftercare").await;
    let iv = w.intervention("investigator", 45).await;
    let (_, hoa) = w
        .intake(
            "aftercare",
            iv,
            "T-11",
            45,
            &[
                (SurvivorField::Languages, "vi"),
                (SurvivorField::StatedAge, "14"),
            ],
        )
        .await
        .unwrap();
    let (_, dara) = w
        .intake(
            "aftercare",
            iv,
            "T-12",
            2,
            &[(SurvivorField::Languages, "km")],
        )
        .await
        .unwrap();
    // Day shift covered, a night gap from +6 h to +10 h; nobody speaks Vietnamese.
    w.shift(iv, "aftercare", -1, 6).await;
    w.shift(iv, "aftercare2", 10, 20).await;
    let alerts = crisis::alerts(db, &aftercare).await.unwrap();
    let has = |f: &dyn Fn(&Alert) -> bool| alerts.iter().any(|a| f(&a.alert));
    assert!(
        has(&|a| matches!(a, Alert::PlacementDue { hours_left: 2 | 3 })),
        "{alerts:?}"
    );
    assert!(has(&|a| matches!(a, Alert::NoContact { .. })));
    assert!(has(&|a| matches!(a, Alert::SafeguardMissing { .. })));
    assert!(has(
        &|a| matches!(a, Alert::RosterGap { from, to } if (*to - *from).num_hours() == 4)
    ));
    assert!(has(
        &|a| matches!(a, Alert::LanguageGap { language, .. } if language == "vi")
    ));
    // A contact, a care package and the safeguards clear her alerts but the clock.
    for entry in [
        LogEntry {
            kind: CareLogKind::Contact,
            items: vec![],
            at: Utc::now(),
            note: "Ate a little, asked for her aunt.".into(),
        },
        LogEntry {
            kind: CareLogKind::CarePackage,
            items: vec![CareItem::Water, CareItem::Clothing],
            at: Utc::now(),
            note: String::new(),
        },
    ] {
        crisis::log_care(db, &w.keyring, &aftercare, &ctx(), hoa, &entry)
            .await
            .unwrap();
    }
    for safeguard in Safeguard::ALL {
        crisis::check_safeguard(
            db,
            &w.keyring,
            &aftercare,
            &ctx(),
            hoa,
            *safeguard,
            true,
            "",
        )
        .await
        .unwrap();
    }
    let view = crisis::episode(db, &w.keyring, &aftercare, &ctx(), hoa)
        .await
        .unwrap();
    assert_eq!(view.log.len(), 2);
    assert_eq!(
        view.log
            .iter()
            .find(|l| l.kind == CareLogKind::Contact)
            .unwrap()
            .note
            .as_deref(),
        Some("Ate a little, asked for her aunt.")
    );
    assert!(matches!(view.clock, PlacementClock::Approaching { .. }));
    assert_eq!(view.alerts.len(), 1, "{:?}", view.alerts);
    assert_eq!(view.next_step, NextStep::PlaceNow);
    // A reported breach needs a note, then comes first.
    let err = crisis::check_safeguard(
        db,
        &w.keyring,
        &aftercare,
        &ctx(),
        dara,
        Safeguard::NotInCell,
        false,
        "",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(ref v) if v.field == "note"));
    crisis::check_safeguard(
        db,
        &w.keyring,
        &aftercare,
        &ctx(),
        dara,
        Safeguard::NotInCell,
        false,
        "Held in the holding cell overnight.",
    )
    .await
    .unwrap();
    let alerts = crisis::alerts(db, &aftercare).await.unwrap();
    assert!(matches!(
        alerts[0].alert,
        Alert::SafeguardBreached {
            safeguard: Safeguard::NotInCell
        }
    ));
    // Screened a minor, she goes to the assessment centre; placing her again is refused.
    let screening = Screening {
        minor_status: MinorStatus::Certain,
        control_means: vec![],
        exploitation: vec![ExploitationType::SexualExploitation],
        decision: IdentificationDecision::Victim,
        reasons: "14 years old, found in a karaoke bar back room.".into(),
    };
    crisis::screen(db, &w.keyring, &aftercare, &ctx(), hoa, screening, false)
        .await
        .unwrap();
    let world_hope = w.org("World Hope International").await;
    crisis::place(
        db,
        &aftercare,
        &ctx(),
        hoa,
        world_hope,
        PartnerService::AssessmentCentre,
        Utc::now(),
    )
    .await
    .unwrap();
    let again = crisis::place(
        db,
        &aftercare,
        &ctx(),
        hoa,
        world_hope,
        PartnerService::AssessmentCentre,
        Utc::now(),
    )
    .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    let station = crisis::station(db, &w.keyring, &aftercare, &ctx(), iv)
        .await
        .unwrap();
    let placed = station.entries.iter().find(|e| e.episode == hoa).unwrap();
    assert_eq!(placed.clock, PlacementClock::Placed);
    assert_eq!(
        placed.placement.as_deref(),
        Some("World Hope International")
    );
    assert_eq!(placed.minor_status, Some(MinorStatus::Certain));
    // The Vietnamese language gap is gone with her; the night gap stays for Dara.
    let alerts = crisis::alerts(db, &aftercare).await.unwrap();
    assert!(!alerts
        .iter()
        .any(|a| matches!(a.alert, Alert::LanguageGap { .. })));
    assert!(alerts
        .iter()
        .any(|a| matches!(a.alert, Alert::RosterGap { .. })));
}

async fn of_two_simultaneous_placements_exactly_one_succeeds(t: TestDb) {
    let w = World::new(t).await;
    let iv = w.intervention("aftercare", 3).await;
    let (_, episode) = w.intake("aftercare", iv, "T-21", 2, &[]).await.unwrap();
    let world_hope = w.org("World Hope International").await;
    let a = w.user("aftercare").await;
    let m = w.user("manager").await;
    let db = &w.t.db;
    let ctx = ctx();
    let (first, second) = tokio::join!(
        crisis::place(
            db,
            &a,
            &ctx,
            episode,
            world_hope,
            PartnerService::AssessmentCentre,
            Utc::now()
        ),
        crisis::place(
            db,
            &m,
            &ctx,
            episode,
            world_hope,
            PartnerService::AssessmentCentre,
            Utc::now()
        ),
    );
    assert_eq!(
        [first.is_ok(), second.is_ok()]
            .iter()
            .filter(|ok| **ok)
            .count(),
        1,
        "{first:?} {second:?}"
    );
}

haven_store::test_both_backends!(
    the_rostered_team_cares_for_every_girl_and_compartments_hold,
    bad_input_is_refused_naming_the_field,
    the_clock_alerts_and_placement_follow_the_rules,
    of_two_simultaneous_placements_exactly_one_succeeds,
);
