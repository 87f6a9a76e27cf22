//! The audit log over HTTP: what auditors see (names, never values), paging, filters, bad
//! parameters, and that web actions are recorded with who and from where.

use crate::support::{browser_login, TestApp, DEMO_PASSWORD};
use haven_core::{DisplayName, Locale, RequestContext, Roles, Username};
use haven_store::testing::TestDb;
use haven_store::users::{self, NewUser};
use reqwest::StatusCode;
use serde_json::{json, Value};

const SECRET_NAME: &str = "Zephyrine Quollworth";

async fn add_distinctive_user(app: &TestApp) {
    let own = haven_store::orgs::own(&app.db.db).await.unwrap().unwrap();
    users::create_with_hash(
        &app.db.db,
        &RequestContext::system("test"),
        &NewUser {
            org_id: own.id,
            username: Username::parse("zephyrine").unwrap(),
            display_name: DisplayName::parse(SECRET_NAME).unwrap(),
            roles: Roles::parse_list("aftercare").unwrap(),
            locale: Locale::En,
        },
        "not-a-real-hash",
    )
    .await
    .unwrap();
}

async fn get(app: &TestApp, token: &str, query: &str) -> (StatusCode, String) {
    let response = app
        .client()
        .get(app.url(&format!("/api/v1/audit{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn auditors_see_field_names_never_values(db: TestDb) {
    let app = TestApp::spawn(db).await;
    add_distinctive_user(&app).await;
    // A failed login is recorded too, without the password.
    let failed = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "wrong horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    let token = app.token("auditor").await;
    // Walk every page, small ones, to exercise the cursor.
    let mut cursor: Option<String> = None;
    let mut events = Vec::new();
    let mut raw = String::new();
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=7&cursor={c}"),
            None => "?limit=7".to_owned(),
        };
        let (status, body) = get(&app, &token, &query).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        raw.push_str(&body);
        let page: Value = serde_json::from_str(&body).unwrap();
        events.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert!(!raw.contains(SECRET_NAME) && !raw.contains("Zephyrine"));
    assert!(!raw.contains("not-a-real-hash") && !raw.contains("wrong horse battery"));
    assert!(!raw.contains(DEMO_PASSWORD));
    // Newest first, contiguous down to 1.
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs.last(), Some(&1));
    assert!(seqs.windows(2).all(|w| w[0] == w[1] + 1), "{seqs:?}");
    let created = events
        .iter()
        .find(|e| e["action"] == "user.create" && e["actor"] == "system:test")
        .expect("the user creation is recorded");
    assert!(created["fields"]
        .as_array()
        .unwrap()
        .contains(&json!("display_name")));
    let failed = events
        .iter()
        .find(|e| e["action"] == "auth.login_failed")
        .expect("the failed login is recorded");
    assert_eq!(failed["client_addr"], "127.0.0.1");
    assert!(failed["request_id"].as_str().is_some());
    let login = events
        .iter()
        .find(|e| e["action"] == "auth.login")
        .expect("the auditor's login is recorded");
    assert_ne!(login["actor"], "system:web:anonymous");
    // Filters.
    let (status, body) = get(&app, &token, "?action=user.create&entity=user").await;
    assert_eq!(status, StatusCode::OK);
    let page: Value = serde_json::from_str(&body).unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 10, "9 demo users and one more");
    assert!(items.iter().all(|e| e["action"] == "user.create"));
    let (_, body) = get(&app, &token, "?since=2000-01-01&until=2000-01-31").await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert!(page["items"].as_array().unwrap().is_empty());
    // Bad parameters are 400s naming the parameter.
    for query in [
        "?limit=0",
        "?limit=201",
        "?limit=many",
        "?cursor=abc",
        "?since=yesterday",
        "?until=2026-13-45",
    ] {
        let (status, body) = get(&app, &token, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
    }
    // And the chain is sound after all that traffic.
    let report = haven_store::audit::verify(&app.db.db, |_, _| {})
        .await
        .unwrap();
    assert!(report.is_valid(), "{report:?}");
}

async fn the_audit_page_lists_events_for_auditors(db: TestDb) {
    let app = TestApp::spawn(db).await;
    add_distinctive_user(&app).await;
    let client = browser_login(&app, "auditor").await;
    let html = client
        .get(app.url("/audit?limit=5"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<table"), "{html}");
    assert!(html.contains("session.start") && html.contains("Audit log"));
    assert!(!html.contains(SECRET_NAME));
    assert!(html.contains("href=\"/audit?cursor="), "a next-page link");
    let html = client
        .get(app.url("/audit?action=user.create&limit=200"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("display_name") && !html.contains("session.start"));
    assert!(!html.contains(SECRET_NAME));
    let bad = client
        .get(app.url("/audit?since=tomorrow"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    // Translated: the auditor's saved language applies.
    let auditor = users::find_by_username(&app.db.db, &Username::parse("auditor").unwrap())
        .await
        .unwrap()
        .unwrap();
    users::set_locale(
        &app.db.db,
        &RequestContext::system("test"),
        auditor.id,
        Locale::Vi,
    )
    .await
    .unwrap();
    let vi = client
        .get(app.url("/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(vi.contains("Nhật ký kiểm toán"), "{vi}");
    // Others do not see it.
    let admin = browser_login(&app, "admin").await;
    let status = admin.get(app.url("/audit")).send().await.unwrap().status();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

haven_store::test_both_backends!(
    auditors_see_field_names_never_values,
    the_audit_page_lists_events_for_auditors,
);
