use chrono::{Days, NaiveDate};
use haven_core::casework::{
    AreaPlan, AreaStatus, ClosureCriteria, FollowUpKind, Goal, GoalStatus, IncidentKind, PlanArea,
    PlanChange, Responsible, RiskFactors, RiskLevel, Schedule, ServiceKind,
};
use haven_core::{Password, Reference, RequestContext, SurvivorField, SurvivorId, Username};
use haven_store::care_plans::{self, PlanInput};
use haven_store::care_services::{self, ServiceInput};
use haven_store::case_closures::{self, ClosureInput};
use haven_store::case_notes::{self, NoteInput};
use haven_store::case_risk::{self, IncidentInput, RiskInput};
use haven_store::testing::TestDb;
use haven_store::users::User;
use haven_store::{
    case_file, crypto::registry, follow_ups, notifications, survivors, HashCost, Keyring,
    PasswordHasher, StoreError,
};

struct World {
    t: TestDb,
    keyring: Keyring,
}

fn ctx() -> RequestContext {
    RequestContext::system("test")
}

/// Today where the team works: the date the store schedules and judges on.
fn today() -> NaiveDate {
    haven_store::clock::team_today()
}

fn ago(days: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(days)).unwrap()
}

fn ahead(days: u64) -> NaiveDate {
    today().checked_add_days(Days::new(days)).unwrap()
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

    /// A survivor registered (and so assigned) by `aftercare`.
    async fn survivor(&self, reference: &str) -> SurvivorId {
        survivors::create(
            &self.t.db,
            &self.keyring,
            &self.user("aftercare").await,
            &ctx(),
            &Reference::parse(reference).unwrap(),
            &[(SurvivorField::Name, "Chenda".to_owned())],
        )
        .await
        .unwrap()
    }

    async fn save(&self, by: &str, id: SurvivorId, input: &PlanInput) -> Result<i64, StoreError> {
        care_plans::save(
            &self.t.db,
            &self.keyring,
            &self.user(by).await,
            &ctx(),
            id,
            input,
        )
        .await
    }
}

fn economic(goal_target: NaiveDate) -> AreaPlan {
    AreaPlan {
        area: PlanArea::Economic,
        status: AreaStatus::NotStarted,
        responsible: Responsible::Nobody,
        needs: "Never went to school.".into(),
        goals: vec![Goal {
            text: "Literacy class".into(),
            target: goal_target,
            status: GoalStatus::Open,
        }],
        her_words: "I want to learn to read.".into(),
    }
}

fn medical() -> AreaPlan {
    AreaPlan {
        area: PlanArea::Medical,
        status: AreaStatus::InProgress,
        responsible: Responsible::Nobody,
        needs: "STI and HIV screening.".into(),
        goals: Vec::new(),
        her_words: String::new(),
    }
}

fn first_plan(started: NaiveDate) -> PlanInput {
    PlanInput {
        based_on_version: None,
        started_on: started,
        is_review: false,
        areas: vec![economic(ahead(60)), medical()],
    }
}

async fn a_review_creates_a_version_and_shows_what_changed(t: TestDb) {
    let w = World::new(t).await;
    let id = w.survivor("CW-001").await;
    assert_eq!(
        w.save("aftercare", id, &first_plan(ago(10))).await.unwrap(),
        1
    );
    let mut review = first_plan(ago(10));
    review.based_on_version = Some(1);
    review.is_review = true;
    review.areas[0].status = AreaStatus::InProgress;
    review.areas[0].goals[0].status = GoalStatus::Met;
    assert_eq!(w.save("aftercare", id, &review).await.unwrap(), 2);

    let me = w.user("aftercare").await;
    let view = care_plans::plan(&w.t.db, &w.keyring, &me, &ctx(), id, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.current.version, 2);
    assert!(view.current.is_review);
    assert_eq!(view.versions.len(), 2);
    assert!(view.changes.contains(&PlanChange::Status {
        area: PlanArea::Economic,
        from: AreaStatus::NotStarted,
        to: AreaStatus::InProgress
    }));
    let economic = view
        .current
        .areas
        .iter()
        .find(|a| a.area == PlanArea::Economic)
        .unwrap();
    assert_eq!(economic.her_words, "I want to learn to read.");
    // The first version is still there, unchanged.
    let v1 = care_plans::plan(&w.t.db, &w.keyring, &me, &ctx(), id, Some(1))
        .await
        .unwrap()
        .unwrap();
    let economic = v1
        .current
        .areas
        .iter()
        .find(|a| a.area == PlanArea::Economic);
    assert_eq!(economic.unwrap().status, AreaStatus::NotStarted);

    // A save based on version 1 now clashes and writes nothing.
    let mut stale = first_plan(ago(10));
    stale.based_on_version = Some(1);
    let err = w.save("aftercare", id, &stale).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let still = care_plans::plan(&w.t.db, &w.keyring, &me, &ctx(), id, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.latest_version, 2);
}

async fn a_goal_before_the_plan_started_is_refused_and_nothing_is_saved(t: TestDb) {
    let w = World::new(t).await;
    let id = w.survivor("CW-002").await;
    let mut plan = first_plan(ago(10));
    plan.areas[0].goals[0].target = ago(20);
    let err = w.save("aftercare", id, &plan).await.unwrap_err();
    assert!(err.to_string().contains("before the plan started"), "{err}");
    let me = w.user("aftercare").await;
    assert!(care_plans::plan(&w.t.db, &w.keyring, &me, &ctx(), id, None)
        .await
        .unwrap()
        .is_none());
    let open = follow_ups::list(&w.t.db, &w.keyring, &me, &ctx(), id)
        .await
        .unwrap();
    assert!(
        open.is_empty(),
        "no follow-ups were scheduled by the refused plan"
    );
}

async fn medical_results_are_read_only_by_her_caseworker_and_never_listed(t: TestDb) {
    let w = World::new(t).await;
    let id = w.survivor("CW-003").await;
    let me = w.user("aftercare").await;
    let service = care_services::record(
        &w.t.db,
        &w.keyring,
        &me,
        &ctx(),
        id,
        &ServiceInput {
            kind: ServiceKind::StiHivTest,
            delivered_on: today(),
            provider_user: None,
            provider_org: None,
            outcome: "Tested at the clinic.".into(),
            medical_result: Some("MARKER-RESULT".into()),
        },
    )
    .await
    .unwrap();
    let listed = care_services::list(&w.t.db, &w.keyring, &me, &ctx(), id)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].medical_result, None);
    assert_eq!(listed[0].outcome.as_deref(), Some("Tested at the clinic."));
    let one = care_services::service(&w.t.db, &w.keyring, &me, &ctx(), service)
        .await
        .unwrap();
    assert_eq!(one.medical_result.as_deref(), Some("MARKER-RESULT"));
    let file = case_file::open(&w.t.db, &w.keyring, &me, &ctx(), id)
        .await
        .unwrap();
    assert!(!format!("{file:?}").contains("MARKER-RESULT"));

    // A manager knows she exists, but not even that she had a medical service.
    let manager = w.user("manager").await;
    assert!(matches!(
        care_services::service(&w.t.db, &w.keyring, &manager, &ctx(), service).await,
        Err(StoreError::NotFound(_))
    ));
    let listed = care_services::list(&w.t.db, &w.keyring, &manager, &ctx(), id)
        .await
        .unwrap();
    assert!(listed.is_empty());
    // A caseworker not assigned to her does not even find it.
    let other = w.user("aftercare2").await;
    assert!(matches!(
        care_services::service(&w.t.db, &w.keyring, &other, &ctx(), service).await,
        Err(StoreError::NotFound(_))
    ));
    // A medical result on a school enrolment is refused.
    let err = care_services::record(
        &w.t.db,
        &w.keyring,
        &me,
        &ctx(),
        id,
        &ServiceInput {
            kind: ServiceKind::SchoolEnrolment,
            delivered_on: today(),
            provider_user: None,
            provider_org: None,
            outcome: "Enrolled".into(),
            medical_result: Some("x".into()),
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no medical result"), "{err}");
}

async fn completing_a_contact_schedules_the_next_by_the_schedule_and_risk(t: TestDb) {
    let w = World::new(t).await;
    let id = w.survivor("CW-004").await;
    let me = w.user("aftercare").await;
    w.save("aftercare", id, &first_plan(today())).await.unwrap();
    let open = follow_ups::list(&w.t.db, &w.keyring, &me, &ctx(), id)
        .await
        .unwrap();
    let contact = open
        .iter()
        .find(|f| f.kind == FollowUpKind::Contact)
        .unwrap();
    assert_eq!(contact.due_on, ahead(7), "weekly in the first month");
    assert!(open.iter().any(|f| f.kind == FollowUpKind::Review));

    // A manager makes first-month contacts every 5 days.
    let manager = w.user("manager").await;
    follow_ups::set_schedule(
        &w.t.db,
        &manager,
        &ctx(),
        Schedule {
            first_month_days: 5,
            first_year_days: 30,
            after_days: 90,
        },
    )
    .await
    .unwrap();
    assert!(
        follow_ups::set_schedule(&w.t.db, &me, &ctx(), Schedule::default())
            .await
            .is_err()
    );
    let next = follow_ups::complete(
        &w.t.db,
        &w.keyring,
        &me,
        &ctx(),
        contact.id,
        today(),
        "Visited at the shelter.",
    )
    .await
    .unwrap();
    assert_eq!(next, Some(ahead(5)));
    // Completing it twice is refused.
    assert!(matches!(
        follow_ups::complete(
            &w.t.db,
            &w.keyring,
            &me,
            &ctx(),
            contact.id,
            today(),
            "again"
        )
        .await,
        Err(StoreError::Conflict(_))
    ));

    // A high risk level brings a later contact forward.
    let later = follow_ups::add(&w.t.db, &me, &ctx(), id, FollowUpKind::Contact, ahead(40))
        .await
        .unwrap();
    let level = case_risk::assess(
        &w.t.db,
        &w.keyring,
        &me,
        &ctx(),
        id,
        &RiskInput {
            assessed_on: today(),
            factors: RiskFactors {
                suspect_contact: true,
                ..RiskFactors::default()
            },
            judged: None,
            notes: "The recruiter called her mother.".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(level, RiskLevel::High);
    let after = follow_ups::list(&w.t.db, &w.keyring, &me, &ctx(), id)
        .await
        .unwrap();
    let moved = after.iter().find(|f| f.id == later).unwrap();
    assert!(
        moved.due_on <= ahead(5),
        "due {} after a high risk",
        moved.due_on
    );
    // A follow-up in the past cannot be scheduled (yesterday in UTC may still be today for
    // someone, so two days back).
    assert!(
        follow_ups::add(&w.t.db, &me, &ctx(), id, FollowUpKind::Contact, ago(2))
            .await
            .is_err()
    );
}

async fn the_caseload_puts_overdue_first_and_moves_with_a_reassignment(t: TestDb) {
    let w = World::new(t).await;
    let calm = w.survivor("CW-005").await;
    let late = w.survivor("CW-006").await;
    let me = w.user("aftercare").await;
    w.save("aftercare", calm, &first_plan(today()))
        .await
        .unwrap();
    w.save("aftercare", late, &first_plan(ago(20)))
        .await
        .unwrap();
    // Her first contact (due 13 days ago) and review are open; make one overdue.
    let rows = follow_ups::caseload(&w.t.db, &w.keyring, &me, &ctx(), me.id, ahead(10))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].reference, "CW-006");
    assert!(rows[0].overdue > 0);
    assert_eq!(rows[0].name.as_deref(), Some("Chenda"));

    // The manager sees the team's overdue list and moves CW-006 to aftercare2.
    let manager = w.user("manager").await;
    let (items, total) = follow_ups::team_overdue(&w.t.db, &manager, ahead(10), 50)
        .await
        .unwrap();
    assert!(total >= 1);
    assert!(items.iter().all(|i| i.reference.starts_with("CW-")));
    let loads = follow_ups::team_loads(&w.t.db, &manager, ahead(10))
        .await
        .unwrap();
    let mine = loads.iter().find(|l| l.user == me.id).unwrap();
    assert_eq!(mine.survivors, 2);
    let other = w.user("aftercare2").await;
    follow_ups::reassign(&w.t.db, &manager, &ctx(), late, other.id)
        .await
        .unwrap();
    let rows = follow_ups::caseload(&w.t.db, &w.keyring, &me, &ctx(), me.id, ahead(10))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let theirs = follow_ups::caseload(&w.t.db, &w.keyring, &manager, &ctx(), other.id, ahead(10))
        .await
        .unwrap();
    assert!(theirs
        .iter()
        .any(|r| r.reference == "CW-006" && r.overdue > 0));
    // Caseworkers cannot reassign, nor read another worker's caseload.
    assert!(follow_ups::reassign(&w.t.db, &me, &ctx(), calm, other.id)
        .await
        .is_err());
    assert!(
        follow_ups::caseload(&w.t.db, &w.keyring, &me, &ctx(), other.id, today())
            .await
            .is_err()
    );
    // Reassigning to someone who is not a caseworker is refused.
    let legal = w.user("legal").await;
    assert!(
        follow_ups::reassign(&w.t.db, &manager, &ctx(), calm, legal.id)
            .await
            .is_err()
    );
}

async fn closing_needs_recorded_criteria_and_reopening_keeps_history(t: TestDb) {
    let w = World::new(t).await;
    let id = w.survivor("CW-007").await;
    let me = w.user("aftercare").await;
    w.save("aftercare", id, &first_plan(ago(30))).await.unwrap();
    let all = ClosureCriteria {
        safe_living: true,
        income_or_school: true,
        final_review: true,
    };
    let close = |criteria| ClosureInput {
        closed_on: today(),
        criteria,
        note: "Lives with her aunt; sewing job in Phnom Penh.".into(),
    };
    let err = case_closures::close(
        &w.t.db,
        &w.keyring,
        &me,
        &ctx(),
        id,
        &close(ClosureCriteria {
            income_or_school: false,
            ..all
        }),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("sustainable income"), "{err}");
    // Ticking "final review" without a recorded review is refused too.
    let err = case_closures::close(&w.t.db, &w.keyring, &me, &ctx(), id, &close(all))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("review"), "{err}");
    let mut review = first_plan(ago(30));
    review.based_on_version = Some(1);
    review.is_review = true;
    w.save("aftercare", id, &review).await.unwrap();
    let check_ins = case_closures::close(&w.t.db, &w.keyring, &me, &ctx(), id, &close(all))
        .await
        .unwrap();
    assert_eq!(
        check_ins[0],
        today().checked_add_months(chrono::Months::new(6)).unwrap()
    );
    let after = follow_ups::list(&w.t.db, &w.keyring, &me, &ctx(), id)
        .await
        .unwrap();
    let open: Vec<_> = after.iter().filter(|f| f.is_open()).collect();
    assert_eq!(open.len(), 2);
    assert!(open.iter().all(|f| f.kind == FollowUpKind::PostClosure));
    assert!(
        case_closures::close(&w.t.db, &w.keyring, &me, &ctx(), id, &close(all))
            .await
            .is_err()
    );

    case_closures::reopen(
        &w.t.db,
        &w.keyring,
        &me,
        &ctx(),
        id,
        "She ran away from her aunt's home.",
    )
    .await
    .unwrap();
    let file = case_file::open(&w.t.db, &w.keyring, &me, &ctx(), id)
        .await
        .unwrap();
    assert!(!file.is_closed());
    assert_eq!(file.closures.len(), 1);
    assert_eq!(
        file.closures[0].reopen_reason.as_deref(),
        Some("She ran away from her aunt's home.")
    );
    assert_eq!(file.plan.unwrap().versions.len(), 2, "history kept");
}

async fn notes_are_sanitised_and_confidential_ones_narrowed(t: TestDb) {
    let w = World::new(t).await;
    let id = w.survivor("CW-008").await;
    let me = w.user("aftercare").await;
    let saved = case_notes::add(
        &w.t.db,
        &w.keyring,
        &me,
        &ctx(),
        id,
        &NoteInput {
            area: Some(PlanArea::Psychosocial),
            confidential: false,
            body: "<p>Calm today<script>fetch('//x')</script></p><img src=x onerror=alert(1)>"
                .into(),
        },
    )
    .await
    .unwrap();
    assert!(saved.neutralised);
    case_notes::add(
        &w.t.db,
        &w.keyring,
        &me,
        &ctx(),
        id,
        &NoteInput {
            area: None,
            confidential: true,
            body: "Her uncle sold her.\n\nDo not tell <the family>.".into(),
        },
    )
    .await
    .unwrap();
    let mine = case_notes::list(&w.t.db, &w.keyring, &me, &ctx(), id)
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().any(|n| n.body == "<p>Calm today</p>"));
    assert!(mine
        .iter()
        .any(|n| n.body == "<p>Her uncle sold her.</p><p>Do not tell &lt;the family&gt;.</p>"));
    // A manager, who supervises her case, reads the ordinary note and never the
    // confidential one; break-glass does not open it either.
    let manager = w.user("manager").await;
    let seen = case_notes::list(&w.t.db, &w.keyring, &manager, &ctx(), id)
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body, "<p>Calm today</p>");
    survivors::break_glass(
        &w.t.db,
        &manager,
        &ctx(),
        id,
        "She is missing; police need her details now.",
    )
    .await
    .unwrap();
    let glass = case_notes::list(&w.t.db, &w.keyring, &manager, &ctx(), id)
        .await
        .unwrap();
    assert_eq!(glass.len(), 1);
    assert!(!glass[0].confidential);
}

async fn an_incident_alerts_the_team_lead_without_saying_what_happened(t: TestDb) {
    let w = World::new(t).await;
    let id = w.survivor("CW-009").await;
    let me = w.user("aftercare").await;
    case_risk::report_incident(
        &w.t.db,
        &w.keyring,
        &me,
        &ctx(),
        id,
        &IncidentInput {
            kind: IncidentKind::SuspectedRetrafficking,
            occurred_on: today(),
            account: "MARKER-ACCOUNT: seen getting into a van near the border.".into(),
        },
    )
    .await
    .unwrap();
    let manager = w.user("manager").await;
    let alerts = notifications::list(&w.t.db, &manager, 10).await.unwrap();
    let alert = alerts
        .iter()
        .find(|n| n.kind == "incident.reported")
        .unwrap();
    assert_eq!(alert.survivor_reference.as_deref(), Some("CW-009"));
    assert!(!format!("{alerts:?}").contains("MARKER-ACCOUNT"));
    let listed = case_risk::incidents(&w.t.db, &w.keyring, &me, &ctx(), id)
        .await
        .unwrap();
    assert_eq!(listed[0].kind, IncidentKind::SuspectedRetrafficking);
    // An incident in the future is refused.
    assert!(case_risk::report_incident(
        &w.t.db,
        &w.keyring,
        &me,
        &ctx(),
        id,
        &IncidentInput {
            kind: IncidentKind::Threat,
            occurred_on: ahead(2),
            account: "x".into(),
        },
    )
    .await
    .is_err());
}

async fn the_demo_case_management_seeds_on_both_backends(t: TestDb) {
    let w = World::new(t).await;
    haven_store::demo::seed_survivors(&w.t.db, &w.keyring)
        .await
        .unwrap();
    haven_store::demo_casework::seed_casework(&w.t.db, &w.keyring)
        .await
        .unwrap();
    let me = w.user("aftercare").await;
    let rows = follow_ups::caseload(&w.t.db, &w.keyring, &me, &ctx(), me.id, today())
        .await
        .unwrap();
    assert_eq!(rows[0].reference, "PP-2026-001");
    assert_eq!(rows[0].overdue, 1);
    let other = w.user("aftercare2").await;
    let pov = survivors::list(&w.t.db, &other, None, 10).await.unwrap();
    let pov = pov
        .iter()
        .find(|s| s.reference == "PP-2026-002")
        .unwrap()
        .id;
    let file = case_file::open(&w.t.db, &w.keyring, &other, &ctx(), pov)
        .await
        .unwrap();
    let plan = file.plan.unwrap();
    assert_eq!(plan.latest_version, 2);
    assert!(!plan.changes.is_empty());
    assert_eq!(file.services.len(), 3);
    assert_eq!(file.notes.len(), 2);
    assert_eq!(file.risks[0].level, RiskLevel::Medium);
}

haven_store::test_both_backends!(
    a_review_creates_a_version_and_shows_what_changed,
    a_goal_before_the_plan_started_is_refused_and_nothing_is_saved,
    medical_results_are_read_only_by_her_caseworker_and_never_listed,
    completing_a_contact_schedules_the_next_by_the_schedule_and_risk,
    the_caseload_puts_overdue_first_and_moves_with_a_reassignment,
    closing_needs_recorded_criteria_and_reopening_keeps_history,
    notes_are_sanitised_and_confidential_ones_narrowed,
    an_incident_alerts_the_team_lead_without_saying_what_happened,
    the_demo_case_management_seeds_on_both_backends,
);
