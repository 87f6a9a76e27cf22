use chrono::{DateTime, Duration, Utc};
use haven_core::casework::{AreaPlan, AreaStatus, ClosureCriteria, PlanArea, Responsible};
use haven_core::crisis::{Alert, CareItem, CareLogKind, NextStep, PlacementClock, Safeguard};
use haven_core::identification::{
    ExploitationType, IdentificationDecision, MinorStatus, Screening,
};
use haven_core::intervention::{InterventionDraft, VenueType};
use haven_core::{
    EpisodeId, InterventionId, OrgId, PartnerService, Password, Reference, RequestContext,
    SurvivorField, Username,
};
use haven_store::care_plans::{self, PlanInput};
use haven_store::case_closures::{self, ClosureInput};
use haven_store::crisis::{self, Intake, LogEntry};
use haven_store::testing::TestDb;
use haven_store::users::User;
use haven_store::{
    case_file, crypto::registry, interventions, survivors, HashCost, Keyring, PasswordHasher,
    StoreError,
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
            &self.user("manager").await,
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
        let _ = crisis::check_safeguard(
            db,
            &w.keyring,
            &aftercare,
            &ctx(),
            hoa,
            *safeguard,
            true,
            "",
            false,
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
        false,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(ref v) if v.field == "note"));
    let _ = crisis::check_safeguard(
        db,
        &w.keyring,
        &aftercare,
        &ctx(),
        dara,
        Safeguard::NotInCell,
        false,
        "Held in the holding cell overnight.",
        false,
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

async fn reads_her(w: &World, user: &User, survivor: haven_core::SurvivorId) -> bool {
    survivors::read(&w.t.db, &w.keyring, user, &ctx(), survivor)
        .await
        .is_ok()
}

/// Only a manager or the intervention's lead (the aftercare worker who recorded it) may put
/// anyone on its roster or take anyone off; a plain aftercare worker cannot roster herself.
async fn only_a_manager_or_the_lead_sets_the_roster(t: TestDb) {
    let w = World::new(t).await;
    let db = &w.t.db;
    let lead = w.user("aftercare").await;
    let aftercare2 = w.user("aftercare2").await;
    let manager = w.user("manager").await;
    // `aftercare` records the intervention, so she leads its crisis care.
    let iv = w.intervention("aftercare", 3).await;
    let (hoa, _) = w
        .intake("aftercare", iv, "T-30", 2, &[(SurvivorField::Name, "Hoa")])
        .await
        .unwrap();
    let events = |action: &'static str| {
        let filter = haven_store::audit::AuditFilter {
            action: Some(action.to_owned()),
            entity_id: Some(iv.to_string()),
            ..Default::default()
        };
        async move {
            haven_store::audit::list(db, &filter, None, 50)
                .await
                .unwrap()
        }
    };
    // A plain aftercare worker cannot roster herself, nor anyone else.
    for staff in [aftercare2.id, lead.id] {
        let err = interventions::add_shift(db, &aftercare2, &ctx(), iv, staff, hour(-1), hour(8))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
    }
    assert!(interventions::roster(db, &manager, iv)
        .await
        .unwrap()
        .is_empty());
    assert!(events("roster.add").await.is_empty(), "nothing written");
    assert!(!reads_her(&w, &aftercare2, hoa).await);
    // Recording an intervention as an investigator makes no aftercare worker its lead.
    let other = w.intervention("investigator", 3).await;
    let err = interventions::add_shift(db, &lead, &ctx(), other, lead.id, hour(-1), hour(8))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
    // The manager may, and so may the lead (herself included).
    let (from, to) = (hour(-1), hour(8));
    let by_manager = interventions::add_shift(db, &manager, &ctx(), iv, aftercare2.id, from, to)
        .await
        .unwrap();
    interventions::add_shift(db, &lead, &ctx(), iv, lead.id, hour(8), hour(16))
        .await
        .unwrap();
    interventions::add_shift(db, &manager, &ctx(), other, lead.id, hour(-1), hour(8))
        .await
        .unwrap();
    assert_eq!(interventions::roster(db, &lead, iv).await.unwrap().len(), 2);
    assert!(reads_her(&w, &aftercare2, hoa).await);
    // Nor can she take a shift off: only those who roster may.
    let err = interventions::cancel_shift(db, &aftercare2, &ctx(), iv, by_manager)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
    interventions::cancel_shift(db, &lead, &ctx(), iv, by_manager)
        .await
        .unwrap();
    // The audit log names who rostered whom, for when.
    let added = events("roster.add").await;
    assert_eq!(added.len(), 2);
    let reasons: Vec<String> = added.iter().filter_map(|e| e.reason.clone()).collect();
    let first = format!(
        "by {}: staff {} from {} to {}",
        manager.id,
        aftercare2.id,
        from.to_rfc3339(),
        to.to_rfc3339()
    );
    assert!(reasons.contains(&first), "{first} in {reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with(&format!("by {}: staff {}", lead.id, lead.id))),
        "{reasons:?}"
    );
    let cancelled = events("roster.cancel").await;
    assert!(cancelled[0]
        .reason
        .as_deref()
        .unwrap()
        .starts_with(&format!("by {}: staff {}", lead.id, aftercare2.id)));
}

/// The roster opens the girls' records only during the shift (with the hand-over margin):
/// not for a shift in two days or next month, not for one that ended two days ago, not for a
/// cancelled one.
async fn the_crisis_grant_holds_only_during_the_shift(t: TestDb) {
    let w = World::new(t).await;
    let db = &w.t.db;
    let manager = w.user("manager").await;
    let aftercare2 = w.user("aftercare2").await;
    let iv = w.intervention("investigator", 72).await;
    let (hoa, _) = w
        .intake("aftercare", iv, "T-40", 70, &[(SurvivorField::Name, "Hoa")])
        .await
        .unwrap();
    w.shift(iv, "aftercare2", 48, 56).await;
    assert!(
        !reads_her(&w, &aftercare2, hoa).await,
        "a shift in two days"
    );
    w.shift(iv, "aftercare2", 24 * 30, 24 * 30 + 1).await;
    assert!(!reads_her(&w, &aftercare2, hoa).await, "a shift next month");
    w.shift(iv, "aftercare2", -60, -48).await;
    assert!(!reads_her(&w, &aftercare2, hoa).await, "ended two days ago");
    let station = crisis::station(db, &w.keyring, &aftercare2, &ctx(), iv)
        .await
        .unwrap();
    assert!(
        station.entries.is_empty(),
        "off duty: no girl at the station"
    );
    // A current shift, cancelled: nothing.
    let current =
        interventions::add_shift(db, &manager, &ctx(), iv, aftercare2.id, hour(-1), hour(6))
            .await
            .unwrap();
    assert!(reads_her(&w, &aftercare2, hoa).await, "on duty");
    interventions::cancel_shift(db, &manager, &ctx(), iv, current)
        .await
        .unwrap();
    assert!(!reads_her(&w, &aftercare2, hoa).await, "cancelled");
    // Twenty minutes before her shift she is already there for the hand-over.
    let soon = Utc::now() + Duration::minutes(20);
    interventions::add_shift(db, &manager, &ctx(), iv, aftercare2.id, soon, hour(8))
        .await
        .unwrap();
    assert!(reads_her(&w, &aftercare2, hoa).await, "hand-over");
    let station = crisis::station(db, &w.keyring, &aftercare2, &ctx(), iv)
        .await
        .unwrap();
    assert_eq!(station.entries.len(), 1);
}

fn plan_area(area: PlanArea) -> AreaPlan {
    AreaPlan {
        area,
        status: AreaStatus::InProgress,
        responsible: Responsible::Nobody,
        needs: "Sleeps badly.".into(),
        goals: Vec::new(),
        her_words: String::new(),
    }
}

/// During her shift the crisis team cares for her at the station, but her long-term case is
/// her caseworker's: no plan, no re-opening of her closed case.
async fn the_crisis_team_cannot_manage_her_case(t: TestDb) {
    let w = World::new(t).await;
    let db = &w.t.db;
    let aftercare = w.user("aftercare").await;
    let aftercare2 = w.user("aftercare2").await;
    // Her case was closed; months later she is found again in a raid.
    let chenda = survivors::create(
        db,
        &w.keyring,
        &aftercare,
        &ctx(),
        &Reference::parse("CW-050").unwrap(),
        &[(SurvivorField::Name, "Chenda".to_owned())],
    )
    .await
    .unwrap();
    let today = Utc::now().date_naive();
    let mut plan = PlanInput {
        based_on_version: None,
        started_on: today - chrono::Days::new(30),
        is_review: false,
        areas: vec![plan_area(PlanArea::Psychosocial)],
    };
    care_plans::save(db, &w.keyring, &aftercare, &ctx(), chenda, &plan)
        .await
        .unwrap();
    plan.based_on_version = Some(1);
    plan.is_review = true;
    care_plans::save(db, &w.keyring, &aftercare, &ctx(), chenda, &plan)
        .await
        .unwrap();
    let closure = ClosureInput {
        closed_on: today,
        criteria: ClosureCriteria {
            safe_living: true,
            income_or_school: true,
            final_review: true,
        },
        note: "Lives with her aunt; sewing job.".into(),
    };
    case_closures::close(db, &w.keyring, &aftercare, &ctx(), chenda, &closure)
        .await
        .unwrap();
    let iv = w.intervention("investigator", 3).await;
    let episode = crisis::open_episode(
        db,
        &w.keyring,
        &aftercare,
        &ctx(),
        chenda,
        iv,
        Utc::now() - Duration::hours(2),
    )
    .await
    .unwrap();
    w.shift(iv, "aftercare2", -1, 8).await;
    // Crisis care: her record, the care log, the safeguards.
    assert!(reads_her(&w, &aftercare2, chenda).await);
    let contact = LogEntry {
        kind: CareLogKind::Contact,
        items: vec![],
        at: Utc::now(),
        note: "Asked for her aunt.".into(),
    };
    crisis::log_care(db, &w.keyring, &aftercare2, &ctx(), episode, &contact)
        .await
        .unwrap();
    let _ = crisis::check_safeguard(
        db,
        &w.keyring,
        &aftercare2,
        &ctx(),
        episode,
        Safeguard::NotInCell,
        true,
        "",
        false,
    )
    .await
    .unwrap();
    // Not her plan, not re-opening her case.
    plan.based_on_version = Some(2);
    plan.is_review = false;
    let err = care_plans::save(db, &w.keyring, &aftercare2, &ctx(), chenda, &plan)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
    let err = case_closures::reopen(
        db,
        &w.keyring,
        &aftercare2,
        &ctx(),
        chenda,
        "Found again in a raid.",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
    assert!(case_closures::is_closed(db, chenda.as_uuid())
        .await
        .unwrap());
    let file = case_file::open(db, &w.keyring, &aftercare, &ctx(), chenda)
        .await
        .unwrap();
    assert_eq!(
        file.plan.unwrap().versions.len(),
        2,
        "no plan version added"
    );
    // Her caseworker can.
    case_closures::reopen(
        db,
        &w.keyring,
        &aftercare,
        &ctx(),
        chenda,
        "Found again in a raid.",
    )
    .await
    .unwrap();
}

haven_store::test_both_backends!(
    only_a_manager_or_the_lead_sets_the_roster,
    the_crisis_grant_holds_only_during_the_shift,
    the_crisis_team_cannot_manage_her_case,
    the_rostered_team_cares_for_every_girl_and_compartments_hold,
    bad_input_is_refused_naming_the_field,
    the_clock_alerts_and_placement_follow_the_rules,
    of_two_simultaneous_placements_exactly_one_succeeds,
    a_repeated_tap_is_asked_about_not_recorded_again,
);

/// How many checks of `safeguard` her episode holds, and the latest status shown for it.
async fn checks_of(
    w: &World,
    user: &User,
    episode: EpisodeId,
    safeguard: Safeguard,
) -> (usize, crisis::SafeguardStatus) {
    let view = crisis::episode(&w.t.db, &w.keyring, user, &ctx(), episode)
        .await
        .unwrap();
    let count = view
        .safeguards
        .iter()
        .filter(|c| c.safeguard == safeguard)
        .count();
    let status = view
        .safeguard_status
        .into_iter()
        .find(|s| s.safeguard == safeguard)
        .unwrap();
    (count, status)
}

async fn a_repeated_tap_is_asked_about_not_recorded_again(t: TestDb) {
    let w = World::new(t).await;
    let db = &w.t.db;
    let aftercare = w.user("aftercare").await;
    let iv = w.intervention("aftercare", 3).await;
    let (_, episode) = w.intake("aftercare", iv, "T-31", 2, &[]).await.unwrap();
    // Never confirmed and past her first hour: due.
    let (count, status) = checks_of(&w, &aftercare, episode, Safeguard::NotInCell).await;
    assert_eq!((count, status.due, status.last), (0, true, None));
    let tap = |met: bool, note: &'static str, repeat: bool| {
        let aftercare = aftercare.clone();
        let w = &w;
        async move {
            crisis::check_safeguard(
                db,
                &w.keyring,
                &aftercare,
                &ctx(),
                episode,
                Safeguard::NotInCell,
                met,
                note,
                repeat,
            )
            .await
            .unwrap()
        }
    };
    // Three taps: one row, the other two answer when and by whom.
    assert_eq!(
        tap(true, "", false).await,
        crisis::SafeguardOutcome::Recorded
    );
    for _ in 0..2 {
        match tap(true, "", false).await {
            crisis::SafeguardOutcome::AlreadyConfirmed { by, at } => {
                assert_eq!(by, aftercare.display_name);
                assert!(Utc::now() - at < Duration::minutes(1));
            }
            other => panic!("a repeat was recorded: {other:?}"),
        }
    }
    let (count, status) = checks_of(&w, &aftercare, episode, Safeguard::NotInCell).await;
    assert_eq!(count, 1);
    assert!(!status.due);
    let last = status.last.unwrap();
    assert!(last.met);
    assert_eq!(last.by, aftercare.display_name);
    // Meant: recorded again.
    assert_eq!(
        tap(true, "", true).await,
        crisis::SafeguardOutcome::Recorded
    );
    assert_eq!(
        checks_of(&w, &aftercare, episode, Safeguard::NotInCell)
            .await
            .0,
        2
    );
    // A breach is always recorded, however soon after a confirmation.
    assert_eq!(
        tap(false, "Moved to the holding cell.", false).await,
        crisis::SafeguardOutcome::Recorded
    );
    let (count, status) = checks_of(&w, &aftercare, episode, Safeguard::NotInCell).await;
    assert_eq!(count, 3);
    assert!(!status.last.unwrap().met);
    // Two taps arriving together: one row.
    let other = Safeguard::NoSuspectContact;
    let ctx = ctx();
    let check = || {
        crisis::check_safeguard(
            db, &w.keyring, &aftercare, &ctx, episode, other, true, "", false,
        )
    };
    let (first, second) = tokio::join!(check(), check());
    let recorded = [first.unwrap(), second.unwrap()]
        .iter()
        .filter(|o| **o == crisis::SafeguardOutcome::Recorded)
        .count();
    assert_eq!(recorded, 1);
    assert_eq!(checks_of(&w, &aftercare, episode, other).await.0, 1);
}
