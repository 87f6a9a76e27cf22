use haven_core::crisis::{Alert, PlacementClock};
use haven_core::identification::MinorStatus;
use haven_core::{Password, RequestContext, Username};
use haven_store::crisis;
use haven_store::demo_crisis::{ADULT_REFERENCE, NO_PAPERS_REFERENCE, VENUE};
use haven_store::testing::TestDb;
use haven_store::users::User;
use haven_store::{crypto::registry, interventions, HashCost, Keyring, PasswordHasher};

async fn user(t: &TestDb, name: &str) -> User {
    haven_store::users::find_by_username(&t.db, &Username::parse(name).unwrap())
        .await
        .unwrap()
        .unwrap()
}

async fn the_demo_shows_a_live_intervention_with_every_kind_of_alert(t: TestDb) {
    let keyring = Keyring::generate();
    let hasher = PasswordHasher::new(HashCost::MINIMAL).unwrap();
    haven_store::demo::seed(&t.db, &hasher, &Password::new("demo passphrase 2026"))
        .await
        .unwrap();
    registry::verify_or_register(&t.db, &keyring).await.unwrap();
    haven_store::demo::seed_survivors(&t.db, &keyring)
        .await
        .unwrap();
    haven_store::demo_crisis::seed_crisis_care(&t.db, &keyring)
        .await
        .unwrap();
    let db = &t.db;
    let aftercare = user(&t, "aftercare").await;

    let alerts = crisis::alerts(db, &aftercare).await.unwrap();
    let has = |f: &dyn Fn(&crisis::TeamAlert) -> bool| alerts.iter().any(f);
    assert!(
        has(&|a| matches!(a.alert, Alert::RosterGap { .. }) && a.venue == VENUE),
        "{alerts:#?}"
    );
    assert!(
        has(&|a| matches!(&a.alert, Alert::LanguageGap { language, .. } if language == "vi")),
        "{alerts:#?}"
    );
    let of = |a: &crisis::TeamAlert, reference: &str| {
        a.survivor.as_ref().is_some_and(|(_, _, r)| r == reference)
    };
    assert!(
        has(&|a| of(a, NO_PAPERS_REFERENCE) && matches!(a.alert, Alert::NoContact { .. })),
        "{alerts:#?}"
    );
    assert!(
        has(&|a| of(a, "PP-2026-001") && matches!(a.alert, Alert::PlacementDue { .. })),
        "{alerts:#?}"
    );
    assert!(
        !has(&|a| of(a, "PP-2026-001") && matches!(a.alert, Alert::NoContact { .. })),
        "her last contact was an hour ago: {alerts:#?}"
    );

    let live = interventions::list(db, &aftercare, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.venue_name == VENUE)
        .unwrap();
    assert_eq!(
        live.police_unit,
        "Anti-Human Trafficking and Juvenile Protection Police"
    );
    assert_eq!((live.in_care, live.awaiting_placement), (3, 3));
    let station = crisis::station(
        db,
        &keyring,
        &aftercare,
        &RequestContext::system("test"),
        live.id,
    )
    .await
    .unwrap();
    let references: Vec<&str> = station
        .entries
        .iter()
        .map(|e| e.reference.as_str())
        .collect();
    assert_eq!(
        references,
        ["PP-2026-001", NO_PAPERS_REFERENCE, ADULT_REFERENCE],
        "oldest rescue first"
    );
    assert!(station.entries.iter().all(|e| e.placed_at.is_none()));
    let hoa = &station.entries[0];
    assert_eq!(hoa.name.as_deref(), Some("Nguyễn Thị Hoa"));
    assert_eq!(hoa.age.as_deref(), Some("14"));
    assert_eq!(hoa.interpreter_language.as_deref(), Some("vi"));
    assert_eq!(hoa.staff_language_needed.as_deref(), Some("vi"));
    assert_eq!(hoa.minor_status, Some(MinorStatus::Certain));
    assert!(matches!(hoa.clock, PlacementClock::Approaching { .. }));
    let no_papers = &station.entries[1];
    assert_eq!(no_papers.age.as_deref(), Some("~16"));
    assert_eq!(no_papers.minor_status, Some(MinorStatus::Probable));
    assert_eq!(station.entries[2].minor_status, None, "not yet screened");
    assert!(station
        .roster_alerts
        .iter()
        .any(|a| matches!(a, Alert::RosterGap { .. })));
    // Lan, the Vietnamese speaker, was on the roster: she still sees the girls.
    let lan = user(&t, "aftercare2").await;
    assert_eq!(crisis::open_episodes(db, &lan).await.unwrap().len(), 3);
}

haven_store::test_both_backends!(the_demo_shows_a_live_intervention_with_every_kind_of_alert);
