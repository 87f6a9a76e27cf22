//! The case-management pages over HTTP: who may open and post what, and how bad input comes
//! back (the reason on the form, what was typed kept, nothing saved).

use crate::support::{browser_login, csrf_from, TestApp};
use haven_store::testing::TestDb;
use haven_store::testing_referrals::survivor_id;
use reqwest::{Client, StatusCode};

/// A signed-in page client with a CSRF token from its home page.
struct Page {
    client: Client,
    csrf: String,
}

/// Signs `user` in with the interface in English, so the tests read the reasons.
async fn page_for(app: &TestApp, user: &str) -> Page {
    page_in(app, user, "en").await
}

async fn page_in(app: &TestApp, user: &str, lang: &str) -> Page {
    let client = browser_login(app, user).await;
    let html = client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_from(&html);
    let response = client
        .post(app.url("/lang"))
        .form(&[("lang", lang), ("csrf", &csrf), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    Page { csrf, client }
}

impl Page {
    async fn get(&self, app: &TestApp, path: &str) -> (StatusCode, String) {
        let response = self.client.get(app.url(path)).send().await.unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    async fn post(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        form.extend_from_slice(fields);
        let response = self
            .client
            .post(app.url(path))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, location, response.text().await.unwrap())
    }
}

fn today() -> String {
    haven_store::clock::now().date_naive().to_string()
}

fn days_from_today(days: i64) -> String {
    (haven_store::clock::now().date_naive() + chrono::Duration::days(days)).to_string()
}

/// The ID of the first open follow-up on her file page.
fn first_follow_up(html: &str) -> String {
    let marker = "/follow-ups/";
    let start = html.find(marker).expect("an open follow-up") + marker.len();
    html[start..start + 36].to_owned()
}

/// Every POST route of her file, with fields that would be accepted.
fn posts(follow_up: &str) -> Vec<(String, Vec<(&'static str, String)>)> {
    vec![
        (
            "plan".into(),
            vec![
                ("started_on", today()),
                ("medical_status", "in_progress".into()),
            ],
        ),
        (
            "services".into(),
            vec![
                ("kind", "counselling".into()),
                ("delivered_on", today()),
                ("outcome", "First session".into()),
            ],
        ),
        (
            "follow-ups".into(),
            vec![("kind", "contact".into()), ("due_on", days_from_today(3))],
        ),
        (
            format!("follow-ups/{follow_up}/complete"),
            vec![("done_on", today()), ("note", "Called her".into())],
        ),
        (
            "risk".into(),
            vec![("debt", "yes".into()), ("assessed_on", today())],
        ),
        (
            "incidents".into(),
            vec![
                ("kind", "threat".into()),
                ("occurred_on", today()),
                ("account", "A man came to the shelter gate".into()),
            ],
        ),
        (
            "notes".into(),
            vec![("body", "Spoke with her today".into())],
        ),
        (
            "close".into(),
            vec![
                ("safe_living", "yes".into()),
                ("income_or_school", "yes".into()),
                ("final_review", "yes".into()),
                ("closed_on", today()),
            ],
        ),
        (
            "reopen".into(),
            vec![("reason", "She asked for help again".into())],
        ),
        ("reassign".into(), vec![("to", String::new())]),
    ]
}

/// Without a session every page sends the browser to sign in.
async fn casework_pages_need_a_session(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let s1 = survivor_id(&app.db.db, "PP-2026-001").await;
    let client = app.browser_client();
    let mut paths = vec![
        format!("/survivors/{s1}"),
        "/services/00000000-0000-0000-0000-000000000000".to_owned(),
    ];
    for path in &paths {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "GET {path}");
        assert_eq!(response.headers()["location"], "/login", "GET {path}");
    }
    paths.clear();
    for (route, _) in posts("00000000-0000-0000-0000-000000000000") {
        paths.push(format!("/survivors/{s1}/{route}"));
    }
    paths.push("/survivors/schedule".to_owned());
    for path in &paths {
        let response = client
            .post(app.url(path))
            .form(&[("csrf", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "POST {path}");
        assert_eq!(response.headers()["location"], "/login", "POST {path}");
    }
}

/// Who may open her file, and that every form refuses those who may not act on it, saving
/// nothing.
async fn casework_page_authorization(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let s1 = survivor_id(&app.db.db, "PP-2026-001").await;
    let file = format!("/survivors/{s1}");
    let aftercare = page_for(&app, "aftercare").await;
    let (status, html) = aftercare.get(&app, &file).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("PP-2026-001"));
    let follow_up = first_follow_up(&html);
    for (user, expected) in [
        ("admin", 404),
        ("investigator", 404),
        ("auditor", 404),
        ("partner-hagar", 404),
        ("partner-worldhope", 404),
        ("aftercare2", 404),
        ("manager", 200),
    ] {
        let page = page_for(&app, user).await;
        let (status, html) = page.get(&app, &file).await;
        assert_eq!(status.as_u16(), expected, "{user} GET {file}");
        if expected == 404 {
            assert!(!html.contains("Nguyễn Thị Hoa"), "{user} sees no name");
        }
        let (status, _) = page.get(&app, "/survivors").await;
        let caseload = if matches!(user, "manager" | "aftercare2") {
            200
        } else {
            404
        };
        assert_eq!(status.as_u16(), caseload, "{user} GET /survivors");
    }
    // The legal team has no caseload; it is told where to look instead.
    let legal = page_for(&app, "legal").await;
    let (status, html) = legal.get(&app, "/survivors").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Legal cases"), "{html}");
    // Her legal team reads what the policy gives it, and is offered no casework forms.
    let (status, html) = legal.get(&app, &file).await;
    assert_eq!(status, StatusCode::OK, "legal GET {file}");
    assert!(!html.contains("id=\"plan-form\"") && !html.contains("id=\"note-form\""));

    for user in [
        "admin",
        "investigator",
        "auditor",
        "partner-hagar",
        "aftercare2",
    ] {
        let page = page_for(&app, user).await;
        for (route, fields) in posts(&follow_up) {
            let path = format!("{file}/{route}");
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, _, html) = page.post(&app, &path, &fields).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{user} POST {path}");
            assert!(!html.contains("Nguyễn Thị Hoa"));
        }
        let (status, _, _) = page
            .post(
                &app,
                "/survivors/schedule",
                &[
                    ("first_month_days", "1"),
                    ("first_year_days", "2"),
                    ("after_days", "3"),
                ],
            )
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{user} POST /survivors/schedule"
        );
    }
    // Nothing the refused users posted reached her file.
    let (_, html) = aftercare.get(&app, &file).await;
    assert!(html.contains("id=\"no-plan\""));
    assert!(!html.contains("A man came to the shelter gate"));
    assert!(!html.contains("Spoke with her today"));
    assert!(!html.contains("id=\"closed-flag\""));
    // The schedule is unchanged.
    let manager = page_for(&app, "manager").await;
    let (_, html) = manager.get(&app, "/survivors").await;
    assert!(
        html.contains("name=\"first_month_days\" value=\"7\""),
        "schedule kept"
    );
}

/// A goal before the plan starts, a script in a note, closing with criteria unmet: each
/// refused or neutralised with the reason, and nothing half-saved.
async fn bad_input_comes_back_with_the_reason(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let s1 = survivor_id(&app.db.db, "PP-2026-001").await;
    let file = format!("/survivors/{s1}");
    let aftercare = page_for(&app, "aftercare").await;
    let start = days_from_today(-10);
    let early = days_from_today(-20);
    let (status, _, html) = aftercare
        .post(
            &app,
            &format!("{file}/plan"),
            &[
                ("started_on", &start),
                ("based_on_version", ""),
                ("economic_status", "in_progress"),
                ("economic_needs", "Wants to train as a tailor"),
                ("economic_goal1_text", "Enrol in a tailoring course"),
                ("economic_goal1_target", &early),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Enrol in a tailoring course"), "goal named");
    assert!(
        html.contains(&early) && html.contains(&start),
        "dates named"
    );
    assert!(
        html.contains("Wants to train as a tailor"),
        "what was typed is kept"
    );
    assert!(html.contains("id=\"no-plan\""), "nothing saved");

    // A script in a note is removed, and she is told.
    let (status, location, _) = aftercare
        .post(
            &app,
            &format!("{file}/notes"),
            &[("body", "<p>Visited her</p><script>alert('x')</script>")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.contains("saved=note-neutralised"), "{location}");
    let (_, html) = aftercare.get(&app, &location).await;
    assert!(html.contains("<p>Visited her</p>"));
    assert!(!html.contains("alert('x')"));
    assert!(html.contains("Formatting or code that Haven does not keep was removed"));

    // Closing with criteria unmet names each one and closes nothing.
    let (status, _, html) = aftercare
        .post(
            &app,
            &format!("{file}/close"),
            &[
                ("safe_living", "yes"),
                ("closed_on", &today()),
                ("note", "Doing well"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("A sustainable income or schooling"));
    assert!(html.contains("A final review of her plan"));
    assert!(html.contains("Doing well"), "the note is kept");
    assert!(!html.contains("id=\"closed-flag\""));
    // In Khmer, the same refusal is in Khmer.
    let khmer = page_in(&app, "aftercare", "km").await;
    let (status, _, html) = khmer
        .post(&app, &format!("{file}/close"), &[("closed_on", &today())])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("មិនទាន់អាចបិទករណីរបស់នាងបានទេ"), "{html}");

    // A follow-up in the past, a bad date and an empty incident: refused, with the reason.
    let (status, _, html) = aftercare
        .post(
            &app,
            &format!("{file}/follow-ups"),
            &[("kind", "contact"), ("due_on", &days_from_today(-3))],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("in the past"), "{html}");
    let (status, _, html) = aftercare
        .post(
            &app,
            &format!("{file}/services"),
            &[("kind", "counselling"), ("delivered_on", "yesterday")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("write a date such as"));
    let (status, _, _) = aftercare
        .post(
            &app,
            &format!("{file}/incidents"),
            &[
                ("kind", "threat"),
                ("occurred_on", &today()),
                ("account", " "),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The manager's schedule refuses intervals out of order.
    let manager = page_for(&app, "manager").await;
    let (status, _, html) = manager
        .post(
            &app,
            "/survivors/schedule",
            &[
                ("first_month_days", "40"),
                ("first_year_days", "30"),
                ("after_days", "90"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("name=\"first_month_days\" value=\"40\""),
        "kept"
    );
}

/// A form posted without its token is refused and saves nothing.
async fn forms_without_a_token_are_refused(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let s1 = survivor_id(&app.db.db, "PP-2026-001").await;
    let aftercare = page_for(&app, "aftercare").await;
    let response = aftercare
        .client
        .post(app.url(&format!("/survivors/{s1}/notes")))
        .form(&[("body", "No token here")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let manager = page_for(&app, "manager").await;
    let aftercare2 = browser_login(&app, "aftercare2").await;
    let (_, html) = manager.get(&app, "/survivors").await;
    let worker = html
        .split("/survivors?worker=")
        .nth(1)
        .map(|s| s[..36].to_owned())
        .unwrap();
    let response = manager
        .client
        .post(app.url(&format!("/survivors/{s1}/reassign")))
        .form(&[("to", worker.as_str()), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (_, html) = aftercare.get(&app, &format!("/survivors/{s1}")).await;
    assert!(!html.contains("No token here"));
    let html = aftercare2
        .get(app.url("/survivors"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("PP-2026-001"));
}

/// A read-only API token presented as the session cookie reads pages but cannot post a form:
/// scope belongs to the session, wherever it is used. Nothing is saved.
async fn a_read_only_token_cannot_write_through_the_pages(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let s1 = survivor_id(&app.db.db, "PP-2026-001").await;
    let (status, body) = crate::support::api_call(
        &app,
        None,
        "post",
        "/api/v1/auth/login",
        Some(serde_json::json!({
            "username": "aftercare",
            "password": crate::support::DEMO_PASSWORD,
            "scope": "read",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap();
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let base: reqwest::Url = app.url("/").parse().unwrap();
    jar.add_cookie_str(&format!("haven_session={token}; Path=/"), &base);
    jar.add_cookie_str("haven_lang=en; Path=/", &base);
    let client = Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let file = format!("/survivors/{s1}");
    let response = client.get(app.url(&file)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "reading is allowed");
    let csrf = csrf_from(&response.text().await.unwrap());
    let response = client
        .post(app.url(&format!("{file}/notes")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("body", "WRITTEN-WITH-A-READ-TOKEN"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("may only read"));
    let aftercare = page_for(&app, "aftercare").await;
    let (_, html) = aftercare.get(&app, &file).await;
    assert!(
        !html.contains("WRITTEN-WITH-A-READ-TOKEN"),
        "the note was saved"
    );
    // Signing out still works with it.
    let response = client
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), StatusCode::FORBIDDEN);
}

/// Her caseworker writes the plan, reviews it and sees what changed; logs a service and a
/// follow-up; her caseload shows the overdue contact first. The manager moves her.
async fn a_caseworker_keeps_her_file_and_the_manager_moves_her(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let s1 = survivor_id(&app.db.db, "PP-2026-001").await;
    let file = format!("/survivors/{s1}");
    let aftercare = page_for(&app, "aftercare").await;
    let (_, html) = aftercare.get(&app, "/survivors").await;
    assert!(html.contains("PP-2026-001"));
    assert!(
        html.contains("class=\"overdue\""),
        "the overdue contact is marked"
    );

    let start = days_from_today(-1);
    let target = days_from_today(60);
    let (status, location, _) = aftercare
        .post(
            &app,
            &format!("{file}/plan"),
            &[
                ("started_on", &start),
                ("based_on_version", ""),
                ("economic_status", "in_progress"),
                ("economic_goal1_text", "Enrol in a tailoring course"),
                ("economic_goal1_target", &target),
                ("economic_her_words", "I want my own shop"),
                ("psychosocial_status", "in_progress"),
                ("psychosocial_goal1_text", "Weekly counselling"),
                ("psychosocial_goal1_target", &target),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.contains("saved=plan"));
    // A second save from the same (now stale) version is refused, not merged.
    let (status, _, html) = aftercare
        .post(
            &app,
            &format!("{file}/plan"),
            &[("started_on", &start), ("based_on_version", "")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("Not saved"));
    // A review from version 1 marks a goal met.
    let (status, _, _) = aftercare
        .post(
            &app,
            &format!("{file}/plan"),
            &[
                ("started_on", &start),
                ("based_on_version", "1"),
                ("is_review", "yes"),
                ("economic_status", "in_progress"),
                ("economic_goal1_text", "Enrol in a tailoring course"),
                ("economic_goal1_target", &target),
                ("economic_goal1_status", "met"),
                ("economic_her_words", "I want my own shop"),
                ("psychosocial_status", "in_progress"),
                ("psychosocial_goal1_text", "Weekly counselling"),
                ("psychosocial_goal1_target", &target),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = aftercare.get(&app, &file).await;
    assert!(html.contains("I want my own shop"));
    assert!(
        html.contains("Enrol in a tailoring course&#34; changed from Open to Met"),
        "what changed"
    );
    let (_, html) = aftercare.get(&app, &format!("{file}?version=1")).await;
    assert!(html.contains("Version 1 of 2"));

    let (status, location, _) = aftercare
        .post(
            &app,
            &format!("{file}/services"),
            &[
                ("kind", "sti_hiv_test"),
                ("delivered_on", &today()),
                ("outcome", "Done at the clinic"),
                ("medical_result", "Negative"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let (_, html) = aftercare.get(&app, &file).await;
    assert!(!html.contains("Negative"), "no medical result in the list");
    let service = html
        .split("/services/")
        .nth(1)
        .map(|s| s[..36].to_owned())
        .unwrap();
    let (_, detail) = aftercare.get(&app, &format!("/services/{service}")).await;
    assert!(detail.contains("id=\"medical-result\">Negative<"));
    let manager = page_for(&app, "manager").await;
    // Medical information is for her caseworkers only: the manager is shown nothing of it.
    let (status, detail) = manager.get(&app, &format!("/services/{service}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        !detail.contains("Negative"),
        "only her caseworker reads the result"
    );

    let follow_up = first_follow_up(&html);
    let (status, location, _) = aftercare
        .post(
            &app,
            &format!("{file}/follow-ups/{follow_up}/complete"),
            &[("done_on", &today()), ("note", "Called her, she is well")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert!(
        location.contains("saved=follow-up-done&next="),
        "{location}"
    );
    let (_, html) = aftercare.get(&app, &location).await;
    assert!(
        html.contains("Her next contact is due on"),
        "the next contact is named"
    );
    assert!(html.contains("Called her, she is well"));

    // The manager sees the team and moves her to aftercare2.
    let (_, html) = manager.get(&app, "/survivors").await;
    assert!(html.contains("id=\"team-overdue\""));
    let aftercare_id = aftercare_user_id(&app, "aftercare").await;
    let aftercare2_id = aftercare_user_id(&app, "aftercare2").await;
    let (_, html) = manager
        .get(&app, &format!("/survivors?worker={aftercare_id}"))
        .await;
    assert!(html.contains(&format!("/survivors/{s1}/reassign")));
    let (status, location, _) = manager
        .post(
            &app,
            &format!("{file}/reassign"),
            &[("to", &aftercare2_id), ("from", &aftercare_id)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.contains("saved=reassigned"));
    let aftercare2 = page_for(&app, "aftercare2").await;
    let (_, html) = aftercare2.get(&app, "/survivors").await;
    assert!(html.contains("PP-2026-001"));
    let (status, _) = aftercare.get(&app, &file).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no longer hers");
}

async fn aftercare_user_id(app: &TestApp, username: &str) -> String {
    haven_store::users::find_by_username(
        &app.db.db,
        &haven_core::Username::parse(username).unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .id
    .to_string()
}

/// A plan with areas hidden from the user (the manager does not read medical areas) is not
/// offered for rewriting, and a rewrite posted anyway is refused: saving it would drop them.
async fn a_plan_is_rewritten_only_by_who_reads_all_of_it(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let s2 = survivor_id(&app.db.db, "PP-2026-002").await;
    let file = format!("/survivors/{s2}");
    let manager = page_for(&app, "manager").await;
    let (status, html) = manager.get(&app, &file).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"plan-not-editable\""));
    assert!(!html.contains("id=\"plan-form\""));
    let version = html
        .split("name=\"based_on_version\" value=\"")
        .nth(1)
        .map(|s| s.split('"').next().unwrap_or("").to_owned())
        .unwrap_or_else(|| "2".to_owned());
    let (status, _, html) = manager
        .post(
            &app,
            &format!("{file}/plan"),
            &[
                ("started_on", &days_from_today(-100)),
                ("based_on_version", &version),
                ("economic_status", "met"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("only her caseworker can update it"));
    // Her caseworker reads the whole plan and is offered the form.
    let aftercare2 = page_for(&app, "aftercare2").await;
    let (_, html) = aftercare2.get(&app, &file).await;
    assert!(html.contains("id=\"plan-form\""));
    assert!(html.contains("id=\"area-medical\""));
    assert!(!html.contains("Version 3"), "nothing was saved");
    // Notes: formatting kept as written, the confidential one marked and for her caseworker only.
    assert!(html.contains("<strong>ready for grade 5</strong>"));
    assert!(html.contains("her uncle was paid by the recruiter"));
    assert!(html.contains("class=\"tag warn\">Confidential<"));
    let (_, html) = manager.get(&app, &file).await;
    assert!(!html.contains("her uncle was paid by the recruiter"));
}

haven_store::test_both_backends!(
    a_plan_is_rewritten_only_by_who_reads_all_of_it,
    casework_pages_need_a_session,
    casework_page_authorization,
    bad_input_comes_back_with_the_reason,
    forms_without_a_token_are_refused,
    a_caseworker_keeps_her_file_and_the_manager_moves_her,
    a_read_only_token_cannot_write_through_the_pages,
);
