use crate::support::{TestApp, DEMO_PASSWORD, DEMO_USERS};
use haven_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn health_and_readiness_need_no_login(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let backend = app.db.db.backend().as_str();
    let health: Value = app
        .client()
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"status": "ok"}));
    let ready: Value = app
        .client()
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready, json!({"status": "ready", "database": backend}));
    app.stop().await;
}

async fn readiness_fails_when_the_database_is_gone(db: TestDb) {
    let app = TestApp::spawn(db).await;
    app.db.db.close().await;
    let response = app.client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    // The process itself is still alive.
    assert_eq!(
        app.client()
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

async fn every_demo_user_can_sign_in_and_out(db: TestDb) {
    let app = TestApp::spawn(db).await;
    for username in DEMO_USERS {
        let token = app.token(username).await;
        let me: Value = app
            .client()
            .get(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["username"], username);
        let out = app
            .client()
            .post(app.url("/api/v1/auth/logout"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), StatusCode::NO_CONTENT);
        let after = app
            .client()
            .get(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            after.status(),
            StatusCode::UNAUTHORIZED,
            "{username}'s token must be dead after logout"
        );
    }
}

async fn bad_logins_all_look_the_same(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut bodies = Vec::new();
    for (username, password) in [
        ("admin", "wrong password here"),
        ("nobody-at-all", DEMO_PASSWORD),
    ] {
        let response = app
            .client()
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let mut body: Value = response.json().await.unwrap();
        body["error"]["request_id"] = Value::Null;
        bodies.push(body);
    }
    haven_store::users::set_disabled(
        &app.db.db,
        &haven_core::RequestContext::system("test"),
        &haven_core::Username::parse("legal").unwrap(),
        true,
    )
    .await
    .unwrap();
    let response = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "legal", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let mut body: Value = response.json().await.unwrap();
    body["error"]["request_id"] = Value::Null;
    bodies.push(body);
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert_eq!(bodies[0]["error"]["code"], "bad_credentials");
}

async fn malformed_json_is_a_400_with_the_reason(db: TestDb) {
    let app = TestApp::spawn(db).await;
    for (body, hint) in [
        ("{\"username\": ", "EOF"),
        ("{\"username\": 5, \"password\": \"x\"}", "username"),
        ("\"just text\"", "invalid type"),
    ] {
        let response = app
            .client()
            .post(app.url("/api/v1/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let request_id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "bad_request");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(hint), "{message} should mention {hint}");
        assert_eq!(error["error"]["request_id"], request_id.as_str());
    }
    let missing_type = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(missing_type.status(), StatusCode::BAD_REQUEST);
    let empty = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "", "password": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
}

async fn oversized_bodies_are_refused(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let huge = format!(
        "{{\"username\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(2 * 1024 * 1024)
    );
    let response = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "too_large");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{error}"
    );
}

/// Every API route × every role (and no login), with the expected status.
async fn authorization_matrix(db: TestDb) {
    let app = TestApp::spawn(db).await;
    // (method, route, path requested, statuses for: anonymous, then DEMO_USERS in order)
    let admin_only = [401, 200, 403, 403, 403, 403, 403, 403, 403, 403];
    let any_user = [401, 200, 200, 200, 200, 200, 200, 200, 200, 200];
    let auditor_only = [401, 403, 403, 403, 403, 403, 403, 200, 403, 403];
    let public = [200; 10];
    let no_such_session = "/api/v1/me/sessions/01900000-0000-7000-8000-000000000000";
    // Logout-all comes last: it ends the tokens the other rows use.
    let table: [(&str, &str, &str, [u16; 10]); 14] = [
        ("get", "/healthz", "/healthz", public),
        ("get", "/readyz", "/readyz", public),
        (
            "get",
            "/api/v1/openapi.json",
            "/api/v1/openapi.json",
            public,
        ),
        ("get", "/api/v1/me", "/api/v1/me", any_user),
        ("get", "/api/v1/dashboard", "/api/v1/dashboard", any_user),
        (
            "get",
            "/api/v1/organisations",
            "/api/v1/organisations",
            any_user,
        ),
        ("get", "/api/v1/users", "/api/v1/users", admin_only),
        (
            "get",
            "/api/v1/me/sessions",
            "/api/v1/me/sessions",
            any_user,
        ),
        (
            "delete",
            "/api/v1/me/sessions/{id}",
            no_such_session,
            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        ("get", "/api/v1/me/totp", "/api/v1/me/totp", any_user),
        ("post", "/api/v1/me/totp", "/api/v1/me/totp", any_user),
        // No body: signed-in callers get a 400 for the missing code.
        (
            "post",
            "/api/v1/me/totp/confirm",
            "/api/v1/me/totp/confirm",
            [401, 400, 400, 400, 400, 400, 400, 400, 400, 400],
        ),
        ("get", "/api/v1/audit", "/api/v1/audit", auditor_only),
        (
            "post",
            "/api/v1/auth/logout-all",
            "/api/v1/auth/logout-all",
            [401, 204, 204, 204, 204, 204, 204, 204, 204, 204],
        ),
    ];
    let mut tokens = vec![None];
    for user in DEMO_USERS {
        tokens.push(Some(app.token(user).await));
    }
    for (method, _, path, expected) in table {
        for (who, token) in tokens.iter().enumerate() {
            let mut request = match method {
                "get" => app.client().get(app.url(path)),
                "delete" => app.client().delete(app.url(path)),
                _ => app.client().post(app.url(path)),
            };
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let status = request.send().await.unwrap().status().as_u16();
            let caller = if who == 0 {
                "anonymous"
            } else {
                DEMO_USERS[who - 1]
            };
            assert_eq!(status, expected[who], "{method} {path} as {caller}");
        }
    }
    // Login and logout complete the route list; both are covered above and here.
    let covered: Vec<(&str, &str)> = table
        .iter()
        .map(|(m, r, _, _)| (*m, *r))
        .chain([
            ("post", "/api/v1/auth/login"),
            ("post", "/api/v1/auth/logout"),
        ])
        .collect();
    // Survivor, crisis-care, legal and casework routes have their own matrices, over records as well as
    // roles (survivors.rs, crisis.rs, legal.rs).
    let survivor_route = |path: &str| {
        path.starts_with("/api/v1/survivors")
            || path == "/api/v1/break-glass"
            || crate::crisis::is_crisis_route(path)
            || path.starts_with("/api/v1/legal/")
    };
    for route in haven_web::api::ROUTES
        .iter()
        .filter(|(_, p)| !survivor_route(p))
        .filter(|route| !crate::referrals::MATRIX_ROUTES.contains(route))
        .filter(|(_, p)| !crate::casework::is_casework_route(p))
    {
        assert!(
            covered.contains(route),
            "route {route:?} is missing from the authorization matrix"
        );
    }
    let anonymous_logout = app
        .client()
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_logout.status(), StatusCode::UNAUTHORIZED);
}

async fn user_list_pages_with_a_cursor(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = app.token("admin").await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = app.url("/api/v1/users?limit=4");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = app
            .client()
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["username"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut expected: Vec<String> = DEMO_USERS.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(seen, expected);
    let bad = app
        .client()
        .get(app.url("/api/v1/users?limit=0"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let bad = app
        .client()
        .get(app.url("/api/v1/users?limit=many"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

/// A cursor that no page ever handed out is a mistake to report, not an empty page that
/// looks like "nothing more to see".
async fn a_malformed_cursor_is_refused_on_every_paginated_list(db: TestDb) {
    let app = TestApp::spawn(db).await;
    for (user, path) in [
        ("admin", "/api/v1/users"),
        ("aftercare", "/api/v1/survivors"),
        ("aftercare", "/api/v1/referrals"),
        ("auditor", "/api/v1/audit"),
        ("legal", "/api/v1/legal/cases"),
    ] {
        let token = app.token(user).await;
        let good = app
            .client()
            .get(app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(good.status(), StatusCode::OK, "{path} as {user}");
        for cursor in ["zzz", "nobody-by-that-name"] {
            let bad = app
                .client()
                .get(app.url(&format!("{path}?cursor={cursor}")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(
                bad.status(),
                StatusCode::BAD_REQUEST,
                "{path}?cursor={cursor}"
            );
            let body: Value = bad.json().await.unwrap();
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("cursor"),
                "{path}: {body}"
            );
        }
    }
}

async fn dashboard_counts_are_real(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = app.token("manager").await;
    let body: Value = app
        .client()
        .get(app.url("/api/v1/dashboard"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["partner_organisations"], 9);
    assert_eq!(body["active_users"], 9);
    assert_eq!(body["open_sessions"], 1);
    let aftercare = body["users_by_role"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "aftercare")
        .unwrap();
    assert_eq!(aftercare["count"], 2);
}

async fn unknown_api_routes_are_json_404s(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let response = app
        .client()
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

async fn openapi_describes_the_api(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let doc: Value = app
        .client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/auth/login"]["post"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

haven_store::test_both_backends!(
    health_and_readiness_need_no_login,
    readiness_fails_when_the_database_is_gone,
    every_demo_user_can_sign_in_and_out,
    bad_logins_all_look_the_same,
    malformed_json_is_a_400_with_the_reason,
    oversized_bodies_are_refused,
    authorization_matrix,
    user_list_pages_with_a_cursor,
    a_malformed_cursor_is_refused_on_every_paginated_list,
    dashboard_counts_are_real,
    unknown_api_routes_are_json_404s,
    openapi_describes_the_api,
);
