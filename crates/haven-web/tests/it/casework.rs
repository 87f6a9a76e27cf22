//! Long-term case management over the API: who may do what (every route × every role), the
//! medical result that only her caseworker reads, what a partner sees of her plan, caseloads
//! and reassignment, closure, incidents and the bad input a worker may send.

use crate::referrals::Session;
use crate::support::DEMO_USERS;
use chrono::{Days, Months, NaiveDate};
use haven_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The medical result the demo gives PP-2026-002's STI/HIV test.
const DEMO_RESULT: &str = "All results negative";

/// Every casework route is covered by the matrix below; the general matrix skips them.
pub fn is_casework_route(path: &str) -> bool {
    const SURVIVOR_PARTS: [&str; 10] = [
        "/case-file",
        "/plan",
        "/services",
        "/follow-ups",
        "/caseworker",
        "/risks",
        "/incidents",
        "/closure",
        "/reopen",
        "/notes",
    ];
    path.starts_with("/api/v1/services/")
        || path.starts_with("/api/v1/follow-ups")
        || path == "/api/v1/follow-up-schedule"
        || path.starts_with("/api/v1/caseload")
        || (path.starts_with("/api/v1/survivors/{id}/")
            && SURVIVOR_PARTS.iter().any(|p| path.ends_with(p)))
}

/// Today where the team works: the date the API judges "overdue" on and the demo is seeded
/// around (already tomorrow in Phnom Penh from 17:00 UTC).
fn today() -> NaiveDate {
    haven_store::clock::team_today()
}

fn days_ago(days: u64) -> String {
    (today() - Days::new(days)).to_string()
}

fn days_on(days: u64) -> String {
    (today() + Days::new(days)).to_string()
}

/// A first plan for her: psychosocial and economic areas, started ten days ago.
fn first_plan() -> Value {
    json!({
        "based_on_version": null,
        "started_on": days_ago(10),
        "areas": [
            {"area": "psychosocial", "status": "in_progress", "needs": "Sleeps badly; afraid of strangers.",
             "goals": [{"text": "Weekly counselling in Vietnamese", "target": days_on(60)}],
             "her_words": "I want to feel safe at night.",
             "responsible": {"kind": "staff", "user": "aftercare"}},
            {"area": "economic", "needs": "Never went to school.",
             "goals": [{"text": "Literacy class", "target": days_on(90)}],
             "her_words": "I want to learn to read."}
        ]
    })
}

async fn ok(
    s: &Session,
    user: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    expected: u16,
) -> Value {
    let (status, answer) = s.call(Some(user), method, &s.path(path), body).await;
    assert_eq!(
        status.as_u16(),
        expected,
        "{method} {path} as {user}: {answer}"
    );
    answer
}

/// Her first plan and a review, so closure can be tried; returns the latest version.
async fn plan_with_review(s: &Session, user: &str, survivor: &str) -> i64 {
    let path = format!("/api/v1/survivors/{{{survivor}}}/plan");
    let first = ok(s, user, "post", &path, Some(first_plan()), 201).await;
    let mut review = first_plan();
    review["based_on_version"] = first["version"].clone();
    review["is_review"] = json!(true);
    review["areas"][1]["status"] = json!("in_progress");
    let reviewed = ok(s, user, "post", &path, Some(review), 201).await;
    reviewed["version"].as_i64().unwrap()
}

async fn user_id(s: &Session, user: &str) -> String {
    let me = ok(s, user, "get", "/api/v1/me", None, 200).await;
    me["id"].as_str().unwrap().to_owned()
}

/// Every casework route × every role and no login, over PP-2026-001 (assigned to
/// `aftercare`, shared with World Hope and the legal team).
async fn casework_authorization_matrix(db: TestDb) {
    let mut s = Session::new(db).await;
    let version = plan_with_review(&s, "aftercare", "S1").await;
    let service = ok(
        &s,
        "aftercare",
        "post",
        "/api/v1/survivors/{S1}/services",
        Some(json!({"kind": "sti_hiv_test", "delivered_on": days_ago(1), "outcome": "Done at the clinic",
            "medical_result": "Reactive, confirm"})),
        201,
    )
    .await;
    s.ids
        .insert("SV".into(), service["id"].as_str().unwrap().to_owned());
    let follow_up = ok(
        &s,
        "aftercare",
        "post",
        "/api/v1/survivors/{S1}/follow-ups",
        Some(json!({"kind": "contact", "due_on": days_on(3)})),
        201,
    )
    .await;
    s.ids
        .insert("F".into(), follow_up["id"].as_str().unwrap().to_owned());
    s.ids.insert("AC".into(), user_id(&s, "aftercare").await);

    // Columns: anonymous, admin, investigator, aftercare, aftercare2, legal, manager, auditor,
    // partner-worldhope, partner-hagar.
    let reads_file = [401, 404, 404, 200, 404, 200, 200, 404, 200, 404];
    let writes = |ok: u16| [401, 404, 404, ok, 404, 403, 403, 404, 403, 404];
    // Her risk and incidents: her caseworker, and the managers who supervise her case.
    let supervised_read = [401, 404, 404, 200, 404, 403, 200, 404, 403, 404];
    let managers = |ok: u16| [401, 403, 403, 403, 403, 403, ok, 403, 403, 403];
    type Row = (&'static str, &'static str, Option<Value>, [u16; 10]);
    let rows: Vec<Row> = vec![
        ("get", "/api/v1/survivors/{S1}/case-file", None, reads_file),
        ("get", "/api/v1/survivors/{S1}/plan", None, reads_file),
        (
            "get",
            "/api/v1/survivors/{S1}/plan?version=1",
            None,
            reads_file,
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/plan",
            Some(json!({"based_on_version": version, "started_on": days_ago(10), "areas": []})),
            writes(201),
        ),
        ("get", "/api/v1/survivors/{S1}/services", None, reads_file),
        (
            "post",
            "/api/v1/survivors/{S1}/services",
            Some(json!({"kind": "counselling", "delivered_on": days_ago(2), "outcome": "Talked"})),
            writes(201),
        ),
        // A medical service is not even listed to those who may not read medical
        // information (legal, a manager); a partner sees only services in the areas
        // referred to it: none here.
        (
            "get",
            "/api/v1/services/{SV}",
            None,
            [401, 404, 404, 200, 404, 404, 404, 404, 404, 404],
        ),
        // Follow-ups are her caseworkers' and managers' work, not the legal team's.
        (
            "get",
            "/api/v1/survivors/{S1}/follow-ups",
            None,
            [401, 404, 404, 200, 404, 403, 200, 404, 403, 404],
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/follow-ups",
            Some(json!({"kind": "review", "due_on": days_on(30)})),
            writes(201),
        ),
        (
            "post",
            "/api/v1/follow-ups/{F}/complete",
            Some(json!({"note": "Visited her at school"})),
            writes(200),
        ),
        ("get", "/api/v1/follow-ups/overdue", None, managers(200)),
        (
            "get",
            "/api/v1/follow-up-schedule",
            None,
            [401, 403, 403, 200, 200, 403, 200, 403, 403, 403],
        ),
        (
            "put",
            "/api/v1/follow-up-schedule",
            Some(json!({"first_month_days": 7, "first_year_days": 21, "after_days": 60})),
            managers(200),
        ),
        (
            "get",
            "/api/v1/caseload",
            None,
            [401, 403, 403, 200, 200, 403, 403, 403, 403, 403],
        ),
        ("get", "/api/v1/caseloads", None, managers(200)),
        (
            "get",
            "/api/v1/caseloads/{AC}",
            None,
            [401, 403, 403, 200, 403, 403, 200, 403, 403, 403],
        ),
        ("get", "/api/v1/survivors/{S1}/risks", None, supervised_read),
        (
            "post",
            "/api/v1/survivors/{S1}/risks",
            Some(json!({"assessed_on": days_ago(0), "factors": {"debt": true}})),
            writes(201),
        ),
        (
            "get",
            "/api/v1/survivors/{S1}/incidents",
            None,
            supervised_read,
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/incidents",
            Some(
                json!({"kind": "threat", "occurred_on": days_ago(0), "account": "A man waited outside the school"}),
            ),
            writes(201),
        ),
        ("get", "/api/v1/survivors/{S1}/notes", None, reads_file),
        (
            "post",
            "/api/v1/survivors/{S1}/notes",
            Some(json!({"area": "psychosocial", "body": "Calmer this week"})),
            writes(201),
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/closure",
            Some(
                json!({"closed_on": days_ago(0), "note": "Lives with her aunt; in grade 5",
                "criteria": {"safe_living": true, "income_or_school": true, "final_review": true}}),
            ),
            writes(201),
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/reopen",
            Some(json!({"reason": "Her aunt moved away"})),
            writes(204),
        ),
        // Reassignment last: it moves PP-2026-003, whom nobody else above works with.
        (
            "put",
            "/api/v1/survivors/{S3}/caseworker",
            Some(json!({"caseworker": "aftercare2"})),
            managers(204),
        ),
    ];
    let callers: Vec<Option<&str>> = std::iter::once(None)
        .chain(DEMO_USERS.iter().map(|u| Some(*u)))
        .collect();
    for (method, template, body, expected) in &rows {
        for (column, caller) in callers.iter().enumerate() {
            let (status, answer) = s
                .call(*caller, method, &s.path(template), body.clone())
                .await;
            assert_eq!(
                status.as_u16(),
                expected[column],
                "{method} {template} as {}: {answer}",
                caller.unwrap_or("anonymous")
            );
        }
    }
    let covered: Vec<(String, String)> = rows
        .iter()
        .map(|(m, p, _, _)| {
            let mut p = p.split('?').next().unwrap().to_owned();
            for name in ["S1", "S3", "SV", "F"] {
                p = p.replace(&format!("{{{name}}}"), "{id}");
            }
            ((*m).to_owned(), p.replace("{AC}", "{user_id}"))
        })
        .collect();
    for (method, path) in haven_web::api::ROUTES
        .iter()
        .filter(|(_, p)| is_casework_route(p))
    {
        assert!(
            covered.contains(&((*method).to_owned(), (*path).to_owned())),
            "route {method} {path} is missing from the casework authorization matrix"
        );
    }
}

/// Her caseworker writes the plan; a stale save is refused; a review makes a new version that
/// says what changed; earlier versions stay readable.
async fn a_review_makes_a_new_version_that_says_what_changed(db: TestDb) {
    let s = Session::new(db).await;
    let path = "/api/v1/survivors/{S1}/plan";
    let (status, answer) = s.call(Some("aftercare"), "get", &s.path(path), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["error"]["code"], "no_plan");

    let first = ok(&s, "aftercare", "post", path, Some(first_plan()), 201).await;
    assert_eq!(first["version"], 1);
    assert_eq!(first["areas"].as_array().unwrap().len(), 2);
    assert_eq!(
        first["areas"][0]["area"], "psychosocial",
        "areas in the fixed order"
    );
    assert_eq!(first["areas"][0]["responsible"]["kind"], "staff");
    assert_eq!(first["areas"][1]["goals"][0]["status"], "open");
    assert_eq!(first["areas"][1]["status"], "not_started");

    let mut review = first_plan();
    review["based_on_version"] = json!(1);
    review["is_review"] = json!(true);
    review["areas"][1]["goals"][0]["status"] = json!("met");
    review["areas"][1]["goals"]
        .as_array_mut()
        .unwrap()
        .push(json!({"text": "Enrol in grade 1", "target": days_on(200)}));
    let second = ok(&s, "aftercare", "post", path, Some(review.clone()), 201).await;
    assert_eq!(second["version"], 2);
    assert!(second["is_review"].as_bool().unwrap());
    let changes: Vec<(String, String)> = second["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().to_owned(),
                c["goal"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("goal_status".to_owned(), "Literacy class".to_owned()),
            ("goal_added".to_owned(), "Enrol in grade 1".to_owned())
        ]
    );
    assert_eq!(second["versions"].as_array().unwrap().len(), 2);

    // Someone else's save based on version 1 now would overwrite version 2: refused.
    let (status, answer) = s
        .call(Some("aftercare"), "post", &s.path(path), Some(review))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("version 2"));
    let old = ok(
        &s,
        "aftercare",
        "get",
        "/api/v1/survivors/{S1}/plan?version=1",
        None,
        200,
    )
    .await;
    assert_eq!(old["version"], 1);
    assert_eq!(old["latest_version"], 2);
    assert_eq!(old["areas"][1]["goals"][0]["status"], "open");
    let (status, _) = s
        .call(
            Some("aftercare"),
            "get",
            &s.path("/api/v1/survivors/{S1}/plan?version=9"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Her first plan scheduled a contact and a review.
    let follow_ups = ok(
        &s,
        "aftercare",
        "get",
        "/api/v1/survivors/{S1}/follow-ups",
        None,
        200,
    )
    .await;
    let kinds: Vec<&str> = follow_ups
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"review"), "{follow_ups}");
}

/// The medical result of PP-2026-002's STI/HIV test reaches her assigned caseworker through
/// the one-service read and nobody and nothing else: no list, case file, search, notification
/// or audit entry, for any role.
async fn medical_results_reach_only_her_caseworker(db: TestDb) {
    let mut s = Session::new(db).await;
    let services = ok(
        &s,
        "aftercare2",
        "get",
        "/api/v1/survivors/{S2}/services",
        None,
        200,
    )
    .await;
    assert!(
        services[0].get("medical_result").is_none(),
        "a list has no such field"
    );
    let test = services
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "sti_hiv_test")
        .expect("the demo test");
    s.ids
        .insert("SV".into(), test["id"].as_str().unwrap().to_owned());
    let own = ok(&s, "aftercare2", "get", "/api/v1/services/{SV}", None, 200).await;
    assert!(
        own["medical_result"]
            .as_str()
            .unwrap()
            .contains(DEMO_RESULT),
        "{own}"
    );
    // Break-glass opens her record to another caseworker, never her medical results.
    ok(
        &s,
        "aftercare",
        "post",
        "/api/v1/survivors/{S2}/break-glass",
        Some(json!({"reason": "She called the hotline at night; her caseworker is away"})),
        200,
    )
    .await;
    ok(
        &s,
        "manager",
        "post",
        "/api/v1/survivors/{S2}/break-glass",
        Some(json!({"reason": "Checking her file after a report from the school"})),
        200,
    )
    .await;
    s.ids.insert("AC2".into(), user_id(&s, "aftercare2").await);
    // An incident, so managers hold a notification about her.
    ok(
        &s,
        "aftercare2",
        "post",
        "/api/v1/survivors/{S2}/incidents",
        Some(json!({"kind": "threat", "occurred_on": days_ago(0), "account": "Her mother's creditor came to the shelter"})),
        201,
    )
    .await;

    let reads = [
        "/api/v1/survivors",
        "/api/v1/survivors?name=Srey%20Pov",
        "/api/v1/survivors/{S2}",
        "/api/v1/survivors/{S2}/history",
        "/api/v1/survivors/{S2}/case-file",
        "/api/v1/survivors/{S2}/plan",
        "/api/v1/survivors/{S2}/plan?version=1",
        "/api/v1/survivors/{S2}/services",
        "/api/v1/services/{SV}",
        "/api/v1/survivors/{S2}/follow-ups",
        "/api/v1/survivors/{S2}/risks",
        "/api/v1/survivors/{S2}/incidents",
        "/api/v1/survivors/{S2}/notes",
        "/api/v1/caseload",
        "/api/v1/caseloads",
        "/api/v1/caseloads/{AC2}",
        "/api/v1/follow-ups/overdue",
        "/api/v1/notifications",
        "/api/v1/referrals",
        "/api/v1/dashboard",
        "/api/v1/audit?limit=200",
        "/api/v1/alerts",
    ];
    let mut seen_by_caseworker = 0;
    for user in DEMO_USERS {
        for path in reads {
            let (_, answer) = s.call(Some(user), "get", &s.path(path), None).await;
            let text = answer.to_string();
            if user == "aftercare2" && path == "/api/v1/services/{SV}" {
                seen_by_caseworker += 1;
                continue;
            }
            assert!(
                !text.contains(DEMO_RESULT),
                "the medical result leaked to {user} through {path}"
            );
        }
    }
    assert_eq!(seen_by_caseworker, 1);
    // Break-glass never opens medical information, so the test is not even listed; a
    // manager's oversight does not reach it either.
    ok(&s, "aftercare", "get", "/api/v1/services/{SV}", None, 404).await;
    ok(&s, "manager", "get", "/api/v1/services/{SV}", None, 404).await;
}

/// A partner that accepted her referral and owns an area of her plan sees that area, its
/// services and its notes; nothing of the other areas, no follow-ups, risks or medical
/// results. Confidential notes stay with her caseworker.
async fn a_partner_sees_only_the_plan_areas_referred_to_it(db: TestDb) {
    let mut s = Session::new(db).await;
    s.consent("S1", "HG").await;
    let referral = s.referral("HG", "placement", true).await;
    s.step(
        "partner-hagar",
        &referral,
        json!({"action": "accept"}),
        StatusCode::OK,
    )
    .await;
    let mut plan = first_plan();
    plan["areas"].as_array_mut().unwrap().push(json!({
        "area": "placement", "status": "in_progress", "needs": "A girls' home near a school",
        "responsible": {"kind": "partner", "organisation_id": s.ids["HG"], "referral_id": referral},
        "her_words": "Somewhere with other girls"
    }));
    plan["areas"].as_array_mut().unwrap().push(json!({
        "area": "medical", "needs": "HIV follow-up", "goals": [], "her_words": ""
    }));
    ok(
        &s,
        "aftercare",
        "post",
        "/api/v1/survivors/{S1}/plan",
        Some(plan),
        201,
    )
    .await;
    let sti = ok(
        &s,
        "aftercare",
        "post",
        "/api/v1/survivors/{S1}/services",
        Some(
            json!({"kind": "sti_hiv_test", "delivered_on": days_ago(1), "outcome": "At the clinic",
            "medical_result": "MARKER-RESULT reactive"}),
        ),
        201,
    )
    .await;
    s.ids
        .insert("STI".into(), sti["id"].as_str().unwrap().to_owned());
    ok(&s, "aftercare", "post", "/api/v1/survivors/{S1}/services",
        Some(json!({"kind": "shelter", "delivered_on": days_ago(0), "provider_organisation_id": s.ids["HG"], "outcome": "Settled in"})), 201).await;
    for (area, confidential, body) in [
        ("placement", false, "Likes her room-mate"),
        ("placement", true, "CONFIDENTIAL-MARKER her uncle"),
        ("psychosocial", false, "PSYCHOSOCIAL-MARKER nightmares"),
    ] {
        ok(
            &s,
            "aftercare",
            "post",
            "/api/v1/survivors/{S1}/notes",
            Some(json!({"area": area, "confidential": confidential, "body": body})),
            201,
        )
        .await;
    }

    let hagar = "partner-hagar";
    let plan = ok(&s, hagar, "get", "/api/v1/survivors/{S1}/plan", None, 200).await;
    let areas: Vec<&str> = plan["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["area"].as_str().unwrap())
        .collect();
    assert_eq!(areas, ["placement"]);
    assert_eq!(plan["withheld_areas"], 3);
    let services = ok(
        &s,
        hagar,
        "get",
        "/api/v1/survivors/{S1}/services",
        None,
        200,
    )
    .await;
    let kinds: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["shelter"]);
    let notes = ok(&s, hagar, "get", "/api/v1/survivors/{S1}/notes", None, 200).await;
    assert_eq!(notes.as_array().unwrap().len(), 1, "{notes}");
    assert_eq!(notes[0]["body"], "<p>Likes her room-mate</p>");
    ok(&s, hagar, "get", "/api/v1/services/{STI}", None, 404).await;
    ok(
        &s,
        hagar,
        "get",
        "/api/v1/survivors/{S1}/follow-ups",
        None,
        403,
    )
    .await;
    ok(&s, hagar, "get", "/api/v1/survivors/{S1}/risks", None, 403).await;
    let file = ok(
        &s,
        hagar,
        "get",
        "/api/v1/survivors/{S1}/case-file",
        None,
        200,
    )
    .await;
    let text = file.to_string();
    for secret in [
        "MARKER-RESULT",
        "CONFIDENTIAL-MARKER",
        "PSYCHOSOCIAL-MARKER",
        "HIV follow-up",
        "Sleeps badly",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} reached the partner: {text}"
        );
    }
    assert_eq!(file["follow_ups"].as_array().unwrap().len(), 0);
    // World Hope, to whom she was not referred for anything, sees no area at all.
    let plan = ok(
        &s,
        "partner-worldhope",
        "get",
        "/api/v1/survivors/{S1}/plan",
        None,
        200,
    )
    .await;
    assert_eq!(plan["areas"].as_array().unwrap().len(), 0);
    assert_eq!(plan["withheld_areas"], 4);
    // Her own caseworker reads every note, the confidential one included.
    let notes = ok(
        &s,
        "aftercare",
        "get",
        "/api/v1/survivors/{S1}/notes",
        None,
        200,
    )
    .await;
    assert_eq!(notes.as_array().unwrap().len(), 3);
}

/// The caseworker sees the overdue contact first on her caseload, writes the plan, logs a
/// service and a follow-up; the manager sees the team's overdue list and moves her to another
/// caseworker, which the audit log records.
async fn caseload_overdue_first_and_a_manager_reassigns(db: TestDb) {
    let s = Session::new(db).await;
    let caseload = ok(&s, "aftercare", "get", "/api/v1/caseload", None, 200).await;
    let first = &caseload["items"][0];
    assert_eq!(first["reference"], "PP-2026-001");
    assert_eq!(first["name"], "Nguyễn Thị Hoa");
    assert_eq!(first["overdue"], 1);
    assert_eq!(first["next_kind"], "contact");
    assert_eq!(first["next_due"], days_ago(5));

    let worker = user_id(&s, "aftercare").await;
    let loads = ok(&s, "manager", "get", "/api/v1/caseloads", None, 200).await;
    let aftercare = loads
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["user_id"] == worker.as_str())
        .expect("the caseworker is on the team view");
    assert_eq!(aftercare["overdue"], 1);
    assert_eq!(loads[0]["user_id"], worker.as_str(), "most overdue first");
    let overdue = ok(
        &s,
        "manager",
        "get",
        "/api/v1/follow-ups/overdue?limit=10",
        None,
        200,
    )
    .await;
    assert_eq!(overdue["total"], 1);
    let item = &overdue["items"][0];
    assert_eq!(item["reference"], "PP-2026-001");
    assert_eq!(item["days_overdue"], 5);
    assert_eq!(item["caseworkers"].as_array().unwrap().len(), 1);
    assert!(
        item.get("name").is_none(),
        "the team list carries no survivor data"
    );
    let manager_view = ok(
        &s,
        "manager",
        "get",
        &format!("/api/v1/caseloads/{worker}"),
        None,
        200,
    )
    .await;
    assert_eq!(manager_view["items"][0]["reference"], "PP-2026-001");

    ok(
        &s,
        "aftercare",
        "post",
        "/api/v1/survivors/{S1}/plan",
        Some(first_plan()),
        201,
    )
    .await;
    ok(&s, "aftercare", "post", "/api/v1/survivors/{S1}/services",
        Some(json!({"kind": "counselling", "delivered_on": days_ago(1), "provider_user": "aftercare", "outcome": "First session; she talked about home"})), 201).await;
    let follow_up = ok(
        &s,
        "aftercare",
        "post",
        "/api/v1/survivors/{S1}/follow-ups",
        Some(json!({"kind": "contact", "due_on": days_on(2)})),
        201,
    )
    .await;
    assert!(follow_up["id"].is_string());
    // She completes the overdue contact; the next one is scheduled by the schedule.
    let follow_ups = ok(
        &s,
        "aftercare",
        "get",
        "/api/v1/survivors/{S1}/follow-ups",
        None,
        200,
    )
    .await;
    let late = follow_ups
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["overdue"] == true)
        .expect("the overdue contact");
    let done = ok(
        &s,
        "aftercare",
        "post",
        &format!(
            "/api/v1/follow-ups/{}/complete",
            late["id"].as_str().unwrap()
        ),
        Some(json!({"note": "Met her at the shelter; she is settling in"})),
        200,
    )
    .await;
    assert!(done["next_contact_due"].is_string(), "{done}");
    let (status, again) = s
        .call(
            Some("aftercare"),
            "post",
            &format!(
                "/api/v1/follow-ups/{}/complete",
                late["id"].as_str().unwrap()
            ),
            Some(json!({"note": "twice"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let caseload = ok(&s, "aftercare", "get", "/api/v1/caseload", None, 200).await;
    assert_eq!(caseload["items"][0]["overdue"], 0);

    ok(
        &s,
        "manager",
        "put",
        "/api/v1/survivors/{S1}/caseworker",
        Some(json!({"caseworker": "aftercare2"})),
        204,
    )
    .await;
    let mine = ok(&s, "aftercare2", "get", "/api/v1/caseload", None, 200).await;
    assert!(mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["reference"] == "PP-2026-001"));
    let theirs = ok(&s, "aftercare", "get", "/api/v1/caseload", None, 200).await;
    assert!(!theirs["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["reference"] == "PP-2026-001"));
    ok(
        &s,
        "aftercare",
        "get",
        "/api/v1/survivors/{S1}/plan",
        None,
        404,
    )
    .await;
    ok(
        &s,
        "aftercare2",
        "get",
        "/api/v1/survivors/{S1}/plan",
        None,
        200,
    )
    .await;
    let audit = ok(
        &s,
        "auditor",
        "get",
        "/api/v1/audit?action=survivor.reassign",
        None,
        200,
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    // Only an active aftercare caseworker of the organisation can take her.
    for (who, status) in [("legal", 400), ("partner-hagar", 400), ("nobody-here", 400)] {
        let (got, answer) = s
            .call(
                Some("manager"),
                "put",
                &s.path("/api/v1/survivors/{S1}/caseworker"),
                Some(json!({"caseworker": who})),
            )
            .await;
        assert_eq!(got.as_u16(), status, "{who}: {answer}");
    }
}

/// Closing needs every criterion and a recorded review; it schedules check-ins at six and
/// twelve months; re-opening keeps the closure in her history.
async fn a_case_closes_only_when_the_criteria_are_met(db: TestDb) {
    let s = Session::new(db).await;
    let close = "/api/v1/survivors/{S2}/closure";
    let (status, answer) = s
        .call(
            Some("aftercare2"),
            "post",
            &s.path(close),
            Some(
                json!({"closed_on": days_ago(0), "note": "Back with her family",
                "criteria": {"safe_living": true}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("sustainable income") && message.contains("final review"),
        "{message}"
    );
    let (status, answer) = s
        .call(
            Some("aftercare2"),
            "post",
            &s.path(close),
            Some(
                json!({"closed_on": days_on(3), "note": "Back with her family",
                "criteria": {"safe_living": true, "income_or_school": true, "final_review": true}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let all = json!({"closed_on": days_ago(0), "note": "Lives with her aunt; in grade 5",
        "criteria": {"safe_living": true, "income_or_school": true, "final_review": true}});
    let closed = ok(&s, "aftercare2", "post", close, Some(all.clone()), 201).await;
    let six = today()
        .checked_add_months(Months::new(6))
        .unwrap()
        .to_string();
    let twelve = today()
        .checked_add_months(Months::new(12))
        .unwrap()
        .to_string();
    assert_eq!(closed["check_ins"], json!([six, twelve]));
    ok(&s, "aftercare2", "post", close, Some(all), 409).await;

    let follow_ups = ok(
        &s,
        "aftercare2",
        "get",
        "/api/v1/survivors/{S2}/follow-ups",
        None,
        200,
    )
    .await;
    let open: Vec<&str> = follow_ups
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["done_on"].is_null() && f["cancelled"] == false)
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(open, ["post_closure", "post_closure"]);
    let caseload = ok(&s, "aftercare2", "get", "/api/v1/caseload", None, 200).await;
    let her = caseload["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["reference"] == "PP-2026-002")
        .unwrap();
    assert_eq!(her["closed"], true);

    let reopen = "/api/v1/survivors/{S2}/reopen";
    ok(
        &s,
        "aftercare2",
        "post",
        reopen,
        Some(json!({"reason": "no"})),
        400,
    )
    .await;
    ok(
        &s,
        "aftercare2",
        "post",
        reopen,
        Some(json!({"reason": "Her mother took her out of school"})),
        204,
    )
    .await;
    ok(
        &s,
        "aftercare2",
        "post",
        reopen,
        Some(json!({"reason": "Her mother took her out of school"})),
        409,
    )
    .await;
    let file = ok(
        &s,
        "aftercare2",
        "get",
        "/api/v1/survivors/{S2}/case-file",
        None,
        200,
    )
    .await;
    assert_eq!(file["closed"], false);
    assert_eq!(file["closures"].as_array().unwrap().len(), 1);
    assert_eq!(
        file["closures"][0]["reopen_reason"],
        "Her mother took her out of school"
    );
    assert_eq!(
        file["plan"]["latest_version"], 2,
        "her plan and history stay"
    );
}

/// An incident alerts the managers at once without saying what happened; a risk assessment's
/// level is raised by judgement, never lowered.
async fn incidents_alert_the_team_lead_and_risk_sets_the_level(db: TestDb) {
    let s = Session::new(db).await;
    let account = "A man from the karaoke bar asked for her at the market";
    ok(&s, "aftercare2", "post", "/api/v1/survivors/{S2}/incidents",
        Some(json!({"kind": "suspected_retrafficking", "occurred_on": days_ago(1), "account": account})), 201).await;
    let told = ok(&s, "manager", "get", "/api/v1/notifications", None, 200).await;
    let incident = told["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "incident.reported")
        .expect("the manager is alerted");
    assert!(!incident.to_string().contains("karaoke"), "{incident}");
    assert_eq!(incident["survivor_reference"], "PP-2026-002", "{incident}");
    let incidents = ok(
        &s,
        "aftercare2",
        "get",
        "/api/v1/survivors/{S2}/incidents",
        None,
        200,
    )
    .await;
    assert_eq!(incidents[0]["account"], account);
    assert_eq!(incidents[0]["kind"], "suspected_retrafficking");

    let risk = "/api/v1/survivors/{S2}/risks";
    let high = ok(&s, "aftercare2", "post", risk,
        Some(json!({"assessed_on": days_ago(0), "factors": {"suspect_contact": true}, "notes": "After the market"})), 201).await;
    assert_eq!(high["level"], "high");
    let kept = ok(&s, "aftercare2", "post", risk,
        Some(json!({"assessed_on": days_ago(0), "factors": {"family_pressure": true}, "judged_level": "low"})), 201).await;
    assert_eq!(kept["level"], "medium", "judgement never lowers the level");
    let raised = ok(
        &s,
        "aftercare2",
        "post",
        risk,
        Some(json!({"assessed_on": days_ago(0), "judged_level": "high"})),
        201,
    )
    .await;
    assert_eq!(raised["level"], "high");
    let list = ok(&s, "aftercare2", "get", risk, None, 200).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        4,
        "three new and the demo one"
    );
    // High risk brings her next contact within a week.
    let follow_ups = ok(
        &s,
        "aftercare2",
        "get",
        "/api/v1/survivors/{S2}/follow-ups",
        None,
        200,
    )
    .await;
    let week = (today() + Days::new(7)).to_string();
    assert!(
        follow_ups
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "contact" && f["done_on"].is_null())
            .all(|f| f["due_on"].as_str().unwrap() <= week.as_str()),
        "{follow_ups}"
    );
}

/// What a manager is alerted about, the manager can open: the incident names her reference and
/// links to her file, where the manager reads the incident, her risk, her services and notes
/// outside the medical area, and never a medical result or a confidential note.
async fn a_manager_opens_what_she_is_alerted_about(db: TestDb) {
    let s = Session::new(db).await;
    ok(&s, "aftercare2", "post", "/api/v1/survivors/{S2}/incidents",
        Some(json!({"kind": "threat", "occurred_on": days_ago(1), "account": "INCIDENT-MARKER at the gate"})), 201).await;
    ok(&s, "aftercare2", "post", "/api/v1/survivors/{S2}/risks",
        Some(json!({"assessed_on": days_ago(0), "factors": {"suspect_contact": true}, "notes": "RISK-MARKER"})), 201).await;
    let file = ok(
        &s,
        "manager",
        "get",
        "/api/v1/survivors/{S2}/case-file",
        None,
        200,
    )
    .await;
    let text = file.to_string();
    assert!(text.contains("INCIDENT-MARKER"), "the incident: {text}");
    assert!(text.contains("RISK-MARKER"), "her risk: {text}");
    assert!(
        !file["services"].as_array().unwrap().is_empty(),
        "her services: {text}"
    );
    assert!(!file["notes"].as_array().unwrap().is_empty(), "{text}");
    assert!(
        !text.contains(DEMO_RESULT),
        "a medical result reached the manager"
    );
    assert!(
        !text.contains("uncle was paid"),
        "a confidential note reached the manager"
    );
    // The notification names her and links to her file, in words, never a raw key.
    let app = &s.app;
    let manager = crate::support::browser_login(app, "manager").await;
    let html = manager
        .get(app.url("/referrals"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("referral-notification-"),
        "a raw key: {html}"
    );
    let s2 = s.ids["S2"].clone();
    assert!(
        html.contains(&format!("href=\"/survivors/{s2}\"")),
        "no link to her file"
    );
    assert!(html.contains("PP-2026-002"));
    let page = manager
        .get(app.url(&format!("/survivors/{s2}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("INCIDENT-MARKER"),
        "the file page shows the incident"
    );
    assert!(!page.contains(DEMO_RESULT));
}

/// Bad input is refused with a reason a worker understands, and writes nothing; a note with
/// script or HTML injection is neutralised and says so.
async fn bad_input_is_refused_with_the_reason(db: TestDb) {
    let s = Session::new(db).await;
    let plan = "/api/v1/survivors/{S1}/plan";
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "post",
            plan,
            json!({"started_on": days_ago(0), "areas": [{"area": "economic",
            "goals": [{"text": "Sewing course", "target": days_ago(30)}]}]}),
            "before the plan started",
        ),
        (
            "post",
            plan,
            json!({"started_on": "15/03/2026", "areas": []}),
            "YYYY-MM-DD",
        ),
        (
            "post",
            plan,
            json!({"started_on": days_ago(0), "areas": [{"area": "hobbies"}]}),
            "plan area",
        ),
        (
            "post",
            plan,
            json!({"started_on": days_ago(0), "areas": [{"area": "economic"}, {"area": "economic"}]}),
            "twice",
        ),
        (
            "post",
            plan,
            json!({"started_on": days_ago(0), "areas": [{"area": "economic", "status": "done"}]}),
            "not_started",
        ),
        (
            "post",
            plan,
            json!({"started_on": days_ago(0), "areas": [{"area": "economic",
            "responsible": {"kind": "staff", "user": "partner-hagar"}}]}),
            "not a staff member",
        ),
        (
            "post",
            plan,
            json!({"started_on": days_ago(0), "areas": [{"area": "economic",
            "responsible": {"kind": "partner", "organisation_id": s.ids["HG"], "referral_id": "01900000-0000-7000-8000-000000000000"}}]}),
            "no referral",
        ),
        (
            "post",
            plan,
            json!({"started_on": days_ago(0), "is_review": true, "areas": []}),
            "review needs an existing plan",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/services",
            json!({"kind": "counselling", "delivered_on": days_on(2)}),
            "in the future",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/services",
            json!({"kind": "literacy", "delivered_on": days_ago(1),
            "medical_result": "negative"}),
            "has no medical result",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/services",
            json!({"kind": "massage", "delivered_on": days_ago(1)}),
            "counselling",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/follow-ups",
            json!({"kind": "contact", "due_on": days_ago(2)}),
            "in the past",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/follow-ups",
            json!({"kind": "post_closure", "due_on": days_on(1)}),
            "when her case is closed",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/risks",
            json!({"assessed_on": days_on(2)}),
            "in the future",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/risks",
            json!({"assessed_on": days_ago(0), "judged_level": "extreme"}),
            "risk level",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/incidents",
            json!({"kind": "threat", "occurred_on": days_ago(0), "account": "  "}),
            "say what happened",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/closure",
            json!({"closed_on": days_ago(0), "note": "x",
            "criteria": {"safe_living": true, "income_or_school": true, "final_review": true}}),
            "review of her plan",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/reopen",
            json!({"reason": "She ran away again"}),
            "not closed",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/notes",
            json!({"body": "<script>alert(1)</script>"}),
            "empty",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/notes",
            json!({"area": "finance", "body": "x"}),
            "plan area",
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/plan",
            json!({"started_on": 5}),
            "JSON",
        ),
    ];
    for (method, path, body, reason) in cases {
        let (status, answer) = s
            .call(Some("aftercare"), method, &s.path(path), Some(body.clone()))
            .await;
        assert!(
            status.is_client_error() && status != StatusCode::NOT_FOUND,
            "{path} {body}: {status} {answer}"
        );
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(reason),
            "{path} {body}: '{message}' should say '{reason}'"
        );
    }
    let (status, _) = s
        .call(
            Some("aftercare"),
            "get",
            &s.path("/api/v1/survivors/{S1}/plan"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no refused plan was saved");
    let services = ok(
        &s,
        "aftercare",
        "get",
        "/api/v1/survivors/{S1}/services",
        None,
        200,
    )
    .await;
    assert_eq!(
        services.as_array().unwrap().len(),
        0,
        "no refused service was saved"
    );

    let saved = ok(&s, "aftercare", "post", "/api/v1/survivors/{S1}/notes",
        Some(json!({"area": "psychosocial", "body": "<p onclick=\"steal()\">Met her at <b>school</b></p><script>alert(1)</script><img src=x onerror=alert(2)>"})), 201).await;
    assert_eq!(saved["neutralised"], true);
    assert!(saved["message"].as_str().unwrap().contains("scripts"));
    let plain = ok(
        &s,
        "aftercare",
        "post",
        "/api/v1/survivors/{S1}/notes",
        Some(json!({"body": "She said 1 < 2 & smiled"})),
        201,
    )
    .await;
    assert_eq!(plain["neutralised"], false);
    assert!(plain["message"].is_null());
    let notes = ok(
        &s,
        "aftercare",
        "get",
        "/api/v1/survivors/{S1}/notes",
        None,
        200,
    )
    .await;
    let bodies: Vec<&str> = notes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert!(
        bodies.contains(&"<p>Met her at <b>school</b></p>"),
        "{bodies:?}"
    );
    assert!(
        bodies.contains(&"<p>She said 1 &lt; 2 &amp; smiled</p>"),
        "{bodies:?}"
    );

    // The schedule: out of range or upside down, named.
    for (body, reason) in [
        (
            json!({"first_month_days": 0, "first_year_days": 30, "after_days": 90}),
            "between 1 and 365",
        ),
        (
            json!({"first_month_days": -3, "first_year_days": 30, "after_days": 90}),
            "between 1 and 365",
        ),
        (
            json!({"first_month_days": 60, "first_year_days": 30, "after_days": 90}),
            "rarer",
        ),
    ] {
        let (status, answer) = s
            .call(
                Some("manager"),
                "put",
                "/api/v1/follow-up-schedule",
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains(reason),
            "{answer}"
        );
    }
    let set = ok(
        &s,
        "manager",
        "put",
        "/api/v1/follow-up-schedule",
        Some(json!({"first_month_days": 5, "first_year_days": 21, "after_days": 60})),
        200,
    )
    .await;
    assert_eq!(set["first_year_days"], 21);
    let read = ok(
        &s,
        "aftercare",
        "get",
        "/api/v1/follow-up-schedule",
        None,
        200,
    )
    .await;
    assert_eq!(read, set);
    for path in [
        "/api/v1/services/not-an-id",
        "/api/v1/follow-ups/nope/complete",
        "/api/v1/caseloads/nobody",
    ] {
        let method = if path.ends_with("complete") {
            "post"
        } else {
            "get"
        };
        let (status, _) = s.call(Some("manager"), method, path, Some(json!({}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    ok(
        &s,
        "manager",
        "get",
        "/api/v1/follow-ups/overdue?limit=0",
        None,
        400,
    )
    .await;
    ok(
        &s,
        "manager",
        "get",
        "/api/v1/follow-ups/overdue?limit=lots",
        None,
        400,
    )
    .await;
}

haven_store::test_both_backends!(
    casework_authorization_matrix,
    a_review_makes_a_new_version_that_says_what_changed,
    medical_results_reach_only_her_caseworker,
    a_partner_sees_only_the_plan_areas_referred_to_it,
    caseload_overdue_first_and_a_manager_reassigns,
    a_case_closes_only_when_the_criteria_are_met,
    incidents_alert_the_team_lead_and_risk_sets_the_level,
    a_manager_opens_what_she_is_alerted_about,
    bad_input_is_refused_with_the_reason,
);
