use haven_core::matching::Need;
use haven_core::referral::{
    CosignerRole, DeclineReason, DischargeOutcome, ReferralEvent, ReferralStatus, WithdrawReason,
};
use haven_core::{FieldClass, OrgId, Password, RequestContext, SurvivorField};
use haven_store::referrals::{self, ConsentInput, ListFilter};
use haven_store::testing::TestDb;
use haven_store::testing_referrals::{complete_intake, prepare_hoa, survivor_id, user};
use haven_store::{partner_profiles, survivors, Db, HashCost, Keyring, PasswordHasher, StoreError};

async fn seeded(t: &TestDb) -> Keyring {
    let hasher = PasswordHasher::new(HashCost::MINIMAL).unwrap();
    haven_store::demo::seed(&t.db, &hasher, &Password::new("demo passphrase 2026"))
        .await
        .unwrap();
    let keyring = Keyring::generate();
    haven_store::crypto::registry::verify_or_register(&t.db, &keyring)
        .await
        .unwrap();
    haven_store::demo::seed_survivors(&t.db, &keyring)
        .await
        .unwrap();
    keyring
}

fn ctx() -> RequestContext {
    RequestContext::system("test")
}

async fn org(db: &Db, name: &str) -> OrgId {
    haven_store::orgs::find_by_name(db, name)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn occupancy(db: &Db, name: &str) -> u32 {
    partner_profiles::load(db, org(db, name).await)
        .await
        .unwrap()
        .profile
        .occupancy
}

fn consent_for(org: OrgId, cosigner: bool) -> ConsentInput {
    ConsentInput {
        org,
        classes: vec![FieldClass::Identity],
        purpose: "Placement at the assessment centre".to_owned(),
        language: "vi".to_owned(),
        explained_by: None,
        cosigner: cosigner.then(|| {
            (
                CosignerRole::SocialAffairsOfficer,
                "Mr Chhay Vuthy".to_owned(),
            )
        }),
    }
}

async fn a_referral_runs_from_matching_to_discharge(t: TestDb) {
    let keyring = seeded(&t).await;
    let db = &t.db;
    let hoa = prepare_hoa(db, &keyring).await;
    let aftercare = user(db, "aftercare").await;
    let partner = user(db, "partner-worldhope").await;
    let world_hope = org(db, "World Hope International").await;

    let (facts, ranking) =
        referrals::matches(db, &keyring, &aftercare, &ctx(), hoa, Need::Placement)
            .await
            .unwrap();
    assert_eq!(facts.age, Some(14));
    assert!(facts.minor);
    assert_eq!(ranking.eligible[0].name, "World Hope International");
    assert_eq!(
        ranking.eligible[0].reasons[0].code(),
        "assessment_centre_first"
    );
    assert_eq!(ranking.eligible[1].name, "World Vision");
    assert!(ranking
        .excluded
        .iter()
        .any(|c| c.name == "Transitions Global"));

    // Without consent, the referral cannot be sent.
    let id = referrals::create(
        db,
        &keyring,
        &aftercare,
        &ctx(),
        hoa,
        world_hope,
        Need::Placement,
    )
    .await
    .unwrap();
    let err = referrals::act(db, &keyring, &aftercare, &ctx(), id, ReferralEvent::Send)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("consent")),
        "{err:?}"
    );
    // She is a minor: her consent needs a co-signer.
    let err = referrals::record_consent(
        db,
        &keyring,
        &aftercare,
        &ctx(),
        hoa,
        &consent_for(world_hope, false),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(v) if v.field == "cosigner_name"),
        "{err:?}"
    );
    let consent = referrals::record_consent(
        db,
        &keyring,
        &aftercare,
        &ctx(),
        hoa,
        &consent_for(world_hope, true),
    )
    .await
    .unwrap();
    let recorded = referrals::consents(db, &keyring, &aftercare, &ctx(), hoa)
        .await
        .unwrap();
    assert_eq!(recorded[0].id, consent);
    assert_eq!(recorded[0].cosigner_name.as_deref(), Some("Mr Chhay Vuthy"));
    assert_eq!(
        referrals::act(db, &keyring, &aftercare, &ctx(), id, ReferralEvent::Send)
            .await
            .unwrap(),
        ReferralStatus::Sent
    );
    // The partner sees it, with her reference, and nobody else's.
    let seen = referrals::list(db, &partner, &ListFilter::default(), 50)
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].reference.as_deref(), Some("PP-2026-001"));

    let before = occupancy(db, "World Hope International").await;
    referrals::act(db, &keyring, &partner, &ctx(), id, ReferralEvent::Accept)
        .await
        .unwrap();
    assert_eq!(occupancy(db, "World Hope International").await, before + 1);
    // The caseworker cannot admit; the partner can, once.
    let err = referrals::act(db, &keyring, &aftercare, &ctx(), id, ReferralEvent::Admit)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
    referrals::act(db, &keyring, &partner, &ctx(), id, ReferralEvent::Admit)
        .await
        .unwrap();
    let err = referrals::act(db, &keyring, &partner, &ctx(), id, ReferralEvent::Admit)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("already admitted")),
        "{err:?}"
    );
    assert_eq!(occupancy(db, "World Hope International").await, before + 1);
    referrals::record_service(
        db,
        &partner,
        &ctx(),
        id,
        haven_core::PartnerService::Counselling,
        chrono::Utc::now().date_naive(),
    )
    .await
    .unwrap();

    // Transfer: discharged from World Hope, then placed with World Vision.
    referrals::act(
        db,
        &keyring,
        &partner,
        &ctx(),
        id,
        ReferralEvent::Discharge(DischargeOutcome::Transferred),
    )
    .await
    .unwrap();
    assert_eq!(occupancy(db, "World Hope International").await, before);
    let world_vision = org(db, "World Vision").await;
    let (_, ranking) = referrals::matches(db, &keyring, &aftercare, &ctx(), hoa, Need::Placement)
        .await
        .unwrap();
    assert_eq!(
        ranking.eligible[0].name, "World Vision",
        "not her first placement"
    );
    let second = referrals::create(
        db,
        &keyring,
        &aftercare,
        &ctx(),
        hoa,
        world_vision,
        Need::Placement,
    )
    .await
    .unwrap();
    referrals::record_consent(
        db,
        &keyring,
        &aftercare,
        &ctx(),
        hoa,
        &consent_for(world_vision, true),
    )
    .await
    .unwrap();
    let vision_staff = user(db, "partner-hagar").await;
    for step in [ReferralEvent::Send] {
        referrals::act(db, &keyring, &aftercare, &ctx(), second, step)
            .await
            .unwrap();
    }
    // Another partner's staff know nothing of this referral.
    let err = referrals::act(
        db,
        &keyring,
        &vision_staff,
        &ctx(),
        second,
        ReferralEvent::Accept,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let manager = user(db, "manager").await;
    let history = referrals::placements(db, &manager, &ctx(), hoa)
        .await
        .unwrap();
    assert_eq!(history.stays.len(), 1);
    assert_eq!(history.stays[0].org_name, "World Hope International");
    assert_eq!(
        history.stays[0].discharge_outcome.as_deref(),
        Some("transferred")
    );
    let detail = referrals::get(db, &aftercare, &ctx(), id).await.unwrap();
    let steps: Vec<&str> = detail.steps.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(
        steps,
        vec!["draft", "sent", "accepted", "admitted", "discharged"]
    );
    assert_eq!(detail.services.len(), 1);
    // The other side was told at each step.
    let told = haven_store::notifications::list(db, &aftercare, 50)
        .await
        .unwrap();
    let kinds: Vec<&str> = told.iter().map(|n| n.kind.as_str()).collect();
    for kind in [
        "referral.accepted",
        "referral.admitted",
        "referral.discharged",
    ] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    let dashboard = referrals::dashboard(db, &manager).await.unwrap();
    assert_eq!(
        dashboard
            .open_by_age_and_status
            .get(&("9-17".to_owned(), "sent".to_owned())),
        Some(&1)
    );
    assert!(dashboard
        .near_capacity
        .iter()
        .any(|(name, _, _)| name == "Transitions Global"));
}

async fn hard_rules_refuse_with_reasons(t: TestDb) {
    let keyring = seeded(&t).await;
    let db = &t.db;
    let hoa = prepare_hoa(db, &keyring).await;
    let aftercare = user(db, "aftercare").await;
    let transitions = org(db, "Transitions Global").await;
    let err = referrals::create(
        db,
        &keyring,
        &aftercare,
        &ctx(),
        hoa,
        transitions,
        Need::Placement,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("Transitions Global cannot take her") && m.contains("16")),
        "{err:?}"
    );
    // A boy is refused by a girls-only partner.
    let boy = complete_intake(
        db,
        &keyring,
        "aftercare2",
        "PP-2026-002",
        &[(SurvivorField::Sex, "male")],
        "probable",
    )
    .await;
    let aftercare2 = user(db, "aftercare2").await;
    let err = referrals::create(
        db,
        &keyring,
        &aftercare2,
        &ctx(),
        boy,
        org(db, "World Hope International").await,
        Need::Placement,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("male")),
        "{err:?}"
    );
    // A partner with no service of that kind.
    let err = referrals::create(
        db,
        &keyring,
        &aftercare,
        &ctx(),
        hoa,
        org(db, "Bloom Café").await,
        Need::Placement,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // Medical information is never shared with partners.
    let mut consent = consent_for(org(db, "World Hope International").await, true);
    consent.classes.push(FieldClass::Medical);
    let err = referrals::record_consent(db, &keyring, &aftercare, &ctx(), hoa, &consent)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(v) if v.field == "classes"),
        "{err:?}"
    );
    // She declines a partner: it is excluded from then on.
    let world_vision = org(db, "World Vision").await;
    let id = referrals::create(
        db,
        &keyring,
        &aftercare,
        &ctx(),
        hoa,
        world_vision,
        Need::Placement,
    )
    .await
    .unwrap();
    referrals::act(
        db,
        &keyring,
        &aftercare,
        &ctx(),
        id,
        ReferralEvent::Withdraw(WithdrawReason::SheDeclined),
    )
    .await
    .unwrap();
    let (_, ranking) = referrals::matches(db, &keyring, &aftercare, &ctx(), hoa, Need::Placement)
        .await
        .unwrap();
    let vision = ranking
        .excluded
        .iter()
        .find(|c| c.name == "World Vision")
        .unwrap();
    assert_eq!(vision.exclusions().next().unwrap().code(), "she_declined");
}

/// The reproduced case: World Hope holds the demo's earlier share (identity and contact) and
/// the consent of a referral that admitted her. One withdrawal must end both, so no read route
/// of World Hope's staff answers anything about her, while her placement stays flagged for
/// her caseworker with the partner keeping only her reference and dates.
async fn withdrawing_consent_ends_the_partners_access(t: TestDb) {
    let keyring = seeded(&t).await;
    let db = &t.db;
    let hoa = prepare_hoa(db, &keyring).await;
    let aftercare = user(db, "aftercare").await;
    let partner = user(db, "partner-worldhope").await;
    let world_hope = org(db, "World Hope International").await;
    let consent = referrals::record_consent(
        db,
        &keyring,
        &aftercare,
        &ctx(),
        hoa,
        &consent_for(world_hope, true),
    )
    .await
    .unwrap();
    let placement = referrals::create(
        db,
        &keyring,
        &aftercare,
        &ctx(),
        hoa,
        world_hope,
        Need::Placement,
    )
    .await
    .unwrap();
    let counselling = referrals::create(
        db,
        &keyring,
        &aftercare,
        &ctx(),
        hoa,
        world_hope,
        Need::parse("counselling").unwrap(),
    )
    .await
    .unwrap();
    for id in [placement, counselling] {
        referrals::act(db, &keyring, &aftercare, &ctx(), id, ReferralEvent::Send)
            .await
            .unwrap();
    }
    for step in [ReferralEvent::Accept, ReferralEvent::Admit] {
        referrals::act(db, &keyring, &partner, &ctx(), placement, step)
            .await
            .unwrap();
    }
    let view = survivors::read(db, &keyring, &partner, &ctx(), hoa)
        .await
        .unwrap();
    assert!(view.fields.contains_key(&SurvivorField::FamilyContact));
    assert!(!view.fields.contains_key(&SurvivorField::MedicalNotes));
    haven_store::case_file::open(db, &keyring, &partner, &ctx(), hoa)
        .await
        .unwrap();

    let reason = "She asked us at the home visit to stop sharing with World Hope";
    let err = referrals::withdraw_consent(db, &keyring, &aftercare, &ctx(), hoa, consent, " no ")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    referrals::withdraw_consent(db, &keyring, &aftercare, &ctx(), hoa, consent, reason)
        .await
        .unwrap();

    // Her record, lists, search, case file and plan: nothing.
    let err = survivors::read(db, &keyring, &partner, &ctx(), hoa)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert!(!survivors::list(db, &partner, None, 200)
        .await
        .unwrap()
        .iter()
        .any(|s| s.id == hoa));
    assert!(
        survivors::find(db, &keyring, &partner, Some("Nguyễn Thị Hoa"), None)
            .await
            .unwrap()
            .is_empty()
    );
    for err in [
        haven_store::case_file::open(db, &keyring, &partner, &ctx(), hoa)
            .await
            .map(|_| ())
            .unwrap_err(),
        haven_store::care_plans::plan(db, &keyring, &partner, &ctx(), hoa, None)
            .await
            .map(|_| ())
            .unwrap_err(),
        survivors::history(db, &keyring, &partner, &ctx(), hoa)
            .await
            .map(|_| ())
            .unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    }
    // The open referral is withdrawn and gone from the partner's view; the admission stays,
    // with her reference and dates only.
    let err = referrals::get(db, &partner, &ctx(), counselling)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let seen = referrals::list(db, &partner, &ListFilter::default(), 50)
        .await
        .unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].id, placement);
    assert_eq!(seen[0].status, ReferralStatus::Admitted);
    assert_eq!(seen[0].reference.as_deref(), Some("PP-2026-001"));
    assert!(seen[0].admitted_at.is_some());
    assert!(referrals::dashboard(db, &partner).await.is_err());
    let told = haven_store::notifications::list(db, &partner, 100)
        .await
        .unwrap();
    assert!(
        told.iter()
            .all(|n| n.referral_id.is_none() || n.referral_id == Some(placement)),
        "{told:?}"
    );
    assert!(told.iter().all(|n| n.survivor_id.is_none()));
    assert!(told
        .iter()
        .any(|n| n.kind == "referral.consent_withdrawn" && n.referral_id == Some(placement)));
    assert_eq!(
        haven_store::notifications::unread(db, &partner)
            .await
            .unwrap(),
        told.iter().filter(|n| n.read_at.is_none()).count() as i64
    );

    // Her caseworker is told, and her file says who can read her and why.
    let mine = haven_store::notifications::list(db, &aftercare, 100)
        .await
        .unwrap();
    assert!(mine
        .iter()
        .any(|n| n.kind == "referral.in_care_without_consent" && n.referral_id == Some(placement)));
    let detail = referrals::get(db, &aftercare, &ctx(), placement)
        .await
        .unwrap();
    assert!(detail.in_care_without_consent());
    let report = haven_store::access::report(db, &keyring, &aftercare, &ctx(), hoa)
        .await
        .unwrap();
    let bases: Vec<&str> = report.entries.iter().map(|e| e.basis).collect();
    assert!(!report
        .entries
        .iter()
        .any(|e| e.org_id == world_hope && e.basis == "partner_consent"));
    let flagged: Vec<_> = report.in_care_without_consent().collect();
    assert_eq!(flagged.len(), 1, "{bases:?}");
    assert_eq!(flagged[0].org_id, world_hope);
    assert!(flagged[0].classes.is_empty());
    assert_eq!(report.withdrawals.len(), 1);
    assert_eq!(report.withdrawals[0].reason.as_deref(), Some(reason));
    assert_eq!(report.withdrawals[0].withdrawn_by, aftercare.display_name);
    // The reason is sealed at rest.
    let stored: Vec<u8> = haven_store::on_pool!(db, pool => sqlx::query_scalar(
        "SELECT reason FROM consent_withdrawals WHERE survivor_id = $1",
    )
    .bind(hoa.as_uuid())
    .fetch_one(pool)
    .await
    .unwrap());
    assert!(!stored.windows(9).any(|w| w == b"home visit"[..9].as_ref()));
    let filter = haven_store::audit::AuditFilter {
        action: Some("referral.consent.withdraw".to_owned()),
        ..Default::default()
    };
    let events = haven_store::audit::list(db, &filter, None, 10)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
}

const DEMO_USERNAMES: [&str; 9] = [
    "admin",
    "investigator",
    "aftercare",
    "aftercare2",
    "legal",
    "manager",
    "auditor",
    "partner-worldhope",
    "partner-hagar",
];

/// Who may read her comes from the policy's own list: the people it names are exactly those
/// the policy lets see her record, among every active account.
async fn the_access_report_names_exactly_who_the_policy_lets_in(t: TestDb) {
    let keyring = seeded(&t).await;
    let db = &t.db;
    let hoa = survivor_id(db, "PP-2026-001").await;
    let aftercare = user(db, "aftercare").await;
    let report = haven_store::access::report(db, &keyring, &aftercare, &ctx(), hoa)
        .await
        .unwrap();
    let mut listed: Vec<String> = report
        .entries
        .iter()
        .filter(|e| !e.classes.is_empty())
        .flat_map(|e| e.people.iter().map(|p| p.username.clone()))
        .collect();
    listed.sort();
    listed.dedup();
    let mut allowed = Vec::new();
    for name in DEMO_USERNAMES {
        let who = user(db, name).await;
        if survivors::ensure_may(db, &who, hoa, haven_core::policy::Action::See)
            .await
            .is_ok()
        {
            allowed.push(name.to_owned());
        }
    }
    allowed.sort();
    assert_eq!(listed, allowed);
    assert_eq!(
        listed,
        ["aftercare", "legal", "manager", "partner-worldhope"],
        "her caseworker, the lawyers (legal consent), managers, World Hope (the demo's consent)"
    );
    // Auditors may ask, and see nothing of her; others who see her may not ask.
    let auditor = user(db, "auditor").await;
    let checked = haven_store::access::report(db, &keyring, &auditor, &ctx(), hoa)
        .await
        .unwrap();
    assert_eq!(checked.reference, None);
    for name in ["legal", "partner-worldhope"] {
        let err = haven_store::access::report(db, &keyring, &user(db, name).await, &ctx(), hoa)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{name}: {err:?}");
    }
    for name in ["aftercare2", "admin", "investigator", "partner-hagar"] {
        let err = haven_store::access::report(db, &keyring, &user(db, name).await, &ctx(), hoa)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{name}: {err:?}");
    }
    let filter = haven_store::audit::AuditFilter {
        action: Some("survivor.access.read".to_owned()),
        ..Default::default()
    };
    assert_eq!(
        haven_store::audit::list(db, &filter, None, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn two_acceptances_of_the_last_bed_one_succeeds(t: TestDb) {
    let keyring = seeded(&t).await;
    let db = &t.db;
    let manager = user(db, "manager").await;
    let partner = user(db, "partner-hagar").await;
    let hagar = org(db, "Hagar").await;
    partner_profiles::set_occupancy(db, &partner, &ctx(), hagar, 40, 39)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for reference in ["PP-2026-002", "PP-2026-003"] {
        let survivor = survivor_id(db, reference).await;
        let mut consent = consent_for(hagar, true);
        consent.language = "km".into();
        referrals::record_consent(db, &keyring, &manager, &ctx(), survivor, &consent)
            .await
            .unwrap();
        let id = referrals::create(
            db,
            &keyring,
            &manager,
            &ctx(),
            survivor,
            hagar,
            Need::Placement,
        )
        .await
        .unwrap();
        referrals::act(db, &keyring, &manager, &ctx(), id, ReferralEvent::Send)
            .await
            .unwrap();
        ids.push(id);
    }
    let accept = |id| {
        let db = db.clone();
        let partner = partner.clone();
        let keyring = keyring.clone();
        tokio::spawn(async move {
            referrals::act(&db, &keyring, &partner, &ctx(), id, ReferralEvent::Accept).await
        })
    };
    let (a, b) = (accept(ids[0]), accept(ids[1]));
    let results = [a.await.unwrap(), b.await.unwrap()];
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    let refused = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert!(
        matches!(refused, StoreError::Conflict(m) if m.contains("no free bed")),
        "{refused:?}"
    );
    assert_eq!(occupancy(db, "Hagar").await, 40);
    // The refused one can still be declined for lack of capacity; the other, withdrawn,
    // gives its bed back.
    let (won, lost) = if results[0].is_ok() {
        (ids[0], ids[1])
    } else {
        (ids[1], ids[0])
    };
    referrals::act(
        db,
        &keyring,
        &partner,
        &ctx(),
        lost,
        ReferralEvent::Decline(DeclineReason::NoCapacity),
    )
    .await
    .unwrap();
    referrals::act(
        db,
        &keyring,
        &manager,
        &ctx(),
        won,
        ReferralEvent::Withdraw(WithdrawReason::NeedsChanged),
    )
    .await
    .unwrap();
    assert_eq!(occupancy(db, "Hagar").await, 39);
    let dashboard = referrals::dashboard(db, &manager).await.unwrap();
    assert_eq!(dashboard.declined_by_reason.get("no_capacity"), Some(&1));
}

haven_store::test_both_backends!(
    a_referral_runs_from_matching_to_discharge,
    hard_rules_refuse_with_reasons,
    withdrawing_consent_ends_the_partners_access,
    the_access_report_names_exactly_who_the_policy_lets_in,
    two_acceptances_of_the_last_bed_one_succeeds,
);
