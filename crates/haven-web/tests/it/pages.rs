use crate::support::{browser_login, csrf_from, TestApp, DEMO_PASSWORD};
use haven_store::testing::TestDb;
use reqwest::StatusCode;

async fn pages_need_a_session(db: TestDb) {
    let app = TestApp::spawn(db).await;
    for path in ["/", "/partners", "/users", "/survivors"] {
        let response = app
            .browser_client()
            .get(app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()["location"], "/login", "{path}");
    }
}

async fn form_login_shows_the_dashboard_with_real_counts(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let client = browser_login(&app, "manager").await;
    let html = client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Welcome, Bopha Keo"));
    assert!(
        html.contains("id=\"count-partners\">9<"),
        "partner count shown"
    );
    assert!(html.contains("id=\"count-active-users\">9<"));
    // A manager is offered reports and survivors, never intelligence or user administration.
    assert!(html.contains("href=\"/reports\""));
    assert!(html.contains("href=\"/survivors\""));
    assert!(!html.contains("href=\"/investigations\""));
    assert!(!html.contains("href=\"/users\""));
}

async fn a_wrong_password_keeps_the_user_on_the_form(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let client = app.browser_client();
    let csrf = csrf_from(
        &client
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("username", "aftercare"),
            ("password", "not the password"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = response.text().await.unwrap();
    assert!(html.contains("Unknown username or wrong password."));
    assert!(html.contains("value=\"aftercare\""), "the username is kept");
    assert!(
        !html.contains("not the password"),
        "the password is never echoed"
    );
}

async fn forms_without_the_csrf_token_are_refused(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let client = app.browser_client();
    client.get(app.url("/login")).send().await.unwrap();
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", DEMO_PASSWORD),
            ("csrf", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("This form had expired"));
    // A cross-site post carries no CSRF cookie at all.
    let response = app
        .browser_client()
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", DEMO_PASSWORD),
            ("csrf", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Logged-in forms too: sign-out without the token does not sign out.
    let client = browser_login(&app, "admin").await;
    let response = client
        .post(app.url("/logout"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        client.get(app.url("/")).send().await.unwrap().status(),
        StatusCode::OK
    );
}

async fn sign_out_ends_the_session(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let client = browser_login(&app, "auditor").await;
    let html = client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = client
        .post(app.url("/logout"))
        .form(&[("csrf", csrf_from(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let after = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(after.headers()["location"], "/login");
}

async fn sections_open_only_for_the_roles_offered_them(db: TestDb) {
    let app = TestApp::spawn(db).await;
    // (user, path, expected status)
    let table = [
        ("admin", "/users", 200),
        ("admin", "/partners", 200),
        ("admin", "/survivors", 404),
        ("investigator", "/investigations", 200),
        ("investigator", "/survivors", 404),
        ("investigator", "/partners", 404),
        ("aftercare", "/survivors", 200),
        ("aftercare", "/partners", 200),
        ("aftercare", "/investigations", 404),
        ("aftercare", "/users", 404),
        ("legal", "/legal", 200),
        ("legal", "/referrals", 404),
        ("manager", "/reports", 200),
        ("auditor", "/audit", 200),
        ("auditor", "/survivors", 404),
        ("partner-hagar", "/referrals", 200),
        ("partner-hagar", "/partners", 404),
        ("partner-hagar", "/users", 404),
    ];
    let mut clients = std::collections::HashMap::new();
    for (user, path, expected) in table {
        if !clients.contains_key(user) {
            clients.insert(user, browser_login(&app, user).await);
        }
        let status = clients[user]
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, expected, "{user} GET {path}");
    }
    let html = clients["admin"]
        .get(app.url("/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("partner-worldhope") && html.contains("World Hope International"));
    let html = clients["aftercare"]
        .get(app.url("/partners"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Chab Dai Coalition"));
}

async fn the_language_switch_translates_the_shell(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let client = browser_login(&app, "manager").await;
    let html = client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_from(&html);
    for (code, title, nav) in [
        ("km", "ទិដ្ឋភាពទូទៅ", "អង្គការដៃគូ"),
        ("vi", "Tổng quan", "Tổ chức đối tác"),
    ] {
        let response = client
            .post(app.url("/lang"))
            .form(&[("lang", code), ("csrf", &csrf), ("next", "/")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let html = client
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(&format!("<html lang=\"{code}\">")));
        assert!(html.contains(title), "{code} title");
        assert!(html.contains(nav), "{code} navigation");
    }
    // The choice is saved on the account, so the API and other devices follow it.
    let user = haven_store::users::find_by_username(
        &app.db.db,
        &haven_core::Username::parse("manager").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(user.locale, haven_core::Locale::Vi);
    let bad = client
        .post(app.url("/lang"))
        .form(&[("lang", "fr"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let offsite = client
        .post(app.url("/lang"))
        .form(&[("lang", "en"), ("csrf", &csrf), ("next", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(offsite.headers()["location"], "/");
}

async fn the_login_page_follows_the_browser_language(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let html = app
        .client()
        .get(app.url("/login"))
        .header("accept-language", "vi-VN,vi;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"vi\">"));
    assert!(html.contains("Đăng nhập"));
}

async fn every_response_carries_the_security_headers(db: TestDb) {
    let app = TestApp::spawn(db).await;
    for path in ["/login", "/healthz", "/api/v1/me", "/no-such-page"] {
        let response = app.client().get(app.url(path)).send().await.unwrap();
        let h = response.headers();
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert!(h.contains_key("x-request-id"), "{path}");
        assert!(
            !h.contains_key("strict-transport-security"),
            "no HSTS over plain HTTP"
        );
    }
    let css = app
        .client()
        .get(app.url("/assets/haven.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let missing = app
        .client()
        .get(app.url("/no-such-page"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("Page not found"));
}

/// The value of the cookie `name` among a response's `Set-Cookie` headers.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// Signs in by hand (no cookie store): returns (CSRF cookie, session cookie).
async fn manual_login(app: &TestApp, username: &str) -> (String, String) {
    let client = app.browser_client_without_cookies();
    let form = client.get(app.url("/login")).send().await.unwrap();
    let nonce = set_cookie(&form, "haven_csrf").unwrap();
    let token = csrf_from(&form.text().await.unwrap());
    let response = client
        .post(app.url("/login"))
        .header("cookie", format!("haven_csrf={nonce}"))
        .form(&[
            ("username", username),
            ("password", DEMO_PASSWORD),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    (nonce, set_cookie(&response, "haven_session").unwrap())
}

/// A form token is good only with the session it was issued for: even with the same CSRF
/// cookie (one planted in the browser, say), a token from another session is refused.
async fn a_csrf_token_from_another_session_is_refused(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let client = app.browser_client_without_cookies();
    let (nonce, mine) = manual_login(&app, "aftercare").await;
    let (_, theirs) = manual_login(&app, "manager").await;
    let page = client
        .get(app.url("/account"))
        .header(
            "cookie",
            format!("haven_csrf={nonce}; haven_session={mine}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let my_token = csrf_from(&page.text().await.unwrap());
    // My token, my CSRF cookie, their session: refused, and their session goes on.
    let forged = client
        .post(app.url("/logout"))
        .header(
            "cookie",
            format!("haven_csrf={nonce}; haven_session={theirs}"),
        )
        .form(&[("csrf", my_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let still_in = client
        .get(app.url("/account"))
        .header("cookie", format!("haven_session={theirs}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        still_in.status(),
        StatusCode::OK,
        "their session was not ended"
    );
    // With my own session the same token works.
    let mine_out = client
        .post(app.url("/logout"))
        .header(
            "cookie",
            format!("haven_csrf={nonce}; haven_session={mine}"),
        )
        .form(&[("csrf", my_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(mine_out.status(), StatusCode::SEE_OTHER);
}

/// Behind TLS the session and CSRF cookies carry the `__Host-` prefix (Secure, path /, no
/// domain), so a sibling subdomain cannot plant or shadow them.
async fn cookies_carry_the_host_prefix_behind_tls(db: TestDb) {
    let config = haven_web::WebConfig {
        behind_tls: true,
        ..haven_web::WebConfig::default()
    };
    let app = TestApp::spawn_with(db, config).await;
    let client = app.browser_client_without_cookies();
    let form = client.get(app.url("/login")).send().await.unwrap();
    let nonce = set_cookie(&form, "__Host-haven_csrf").expect("__Host- CSRF cookie");
    assert!(set_cookie(&form, "haven_csrf").is_none());
    let raw: Vec<String> = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        raw.iter()
            .all(|c| c.contains("Secure") && c.contains("Path=/") && !c.contains("Domain")),
        "{raw:?}"
    );
    let token = csrf_from(&form.text().await.unwrap());
    // A plain-named cookie (as a subdomain could plant) does not count.
    let planted = client
        .post(app.url("/login"))
        .header("cookie", format!("haven_csrf={nonce}"))
        .form(&[
            ("username", "admin"),
            ("password", DEMO_PASSWORD),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(planted.status(), StatusCode::BAD_REQUEST);
    let response = client
        .post(app.url("/login"))
        .header("cookie", format!("__Host-haven_csrf={nonce}"))
        .form(&[
            ("username", "admin"),
            ("password", DEMO_PASSWORD),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&response, "__Host-haven_session").expect("__Host- session cookie");
    let home = client
        .get(app.url("/"))
        .header("cookie", format!("__Host-haven_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), StatusCode::OK);
}

haven_store::test_both_backends!(
    a_csrf_token_from_another_session_is_refused,
    cookies_carry_the_host_prefix_behind_tls,
    pages_need_a_session,
    form_login_shows_the_dashboard_with_real_counts,
    a_wrong_password_keeps_the_user_on_the_form,
    forms_without_the_csrf_token_are_refused,
    sign_out_ends_the_session,
    sections_open_only_for_the_roles_offered_them,
    the_language_switch_translates_the_shell,
    the_login_page_follows_the_browser_language,
    every_response_carries_the_security_headers,
);
