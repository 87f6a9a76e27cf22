//! Partner directory, matching, consent and referrals over HTTP: the authorization matrix for
//! every route and role, what partner staff can see, and refusals that say why.

use crate::support::{TestApp, DEMO_USERS};
use haven_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The routes the referral matrix covers (the survivor matrix leaves them to this one).
pub const MATRIX_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/partners"),
    ("get", "/api/v1/partners/{id}"),
    ("put", "/api/v1/partners/{id}"),
    ("put", "/api/v1/partners/{id}/occupancy"),
    ("get", "/api/v1/survivors/{id}/matches"),
    ("get", "/api/v1/survivors/{id}/consents"),
    ("post", "/api/v1/survivors/{id}/consents"),
    (
        "post",
        "/api/v1/survivors/{id}/consents/{consent_id}/withdraw",
    ),
    ("get", "/api/v1/survivors/{id}/placements"),
    ("get", "/api/v1/referrals"),
    ("post", "/api/v1/referrals"),
    ("get", "/api/v1/referrals/dashboard"),
    ("get", "/api/v1/referrals/{id}"),
    ("post", "/api/v1/referrals/{id}/steps"),
    ("post", "/api/v1/referrals/{id}/services"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/{id}/read"),
];

pub struct Session {
    pub app: TestApp,
    tokens: HashMap<&'static str, String>,
    pub ids: HashMap<String, String>,
}

impl Session {
    pub async fn new(db: TestDb) -> Session {
        let app = TestApp::spawn(db).await;
        let mut tokens = HashMap::new();
        for user in DEMO_USERS {
            tokens.insert(user, app.token(user).await);
        }
        let mut s = Session {
            app,
            tokens,
            ids: HashMap::new(),
        };
        let (_, list) = s
            .call(Some("manager"), "get", "/api/v1/survivors", None)
            .await;
        for item in list["items"].as_array().unwrap() {
            let key = match item["reference"].as_str().unwrap() {
                "PP-2026-001" => "S1",
                "PP-2026-002" => "S2",
                "PP-2026-003" => "S3",
                _ => continue,
            };
            s.ids
                .insert(key.to_owned(), item["id"].as_str().unwrap().to_owned());
        }
        let (_, partners) = s.call(Some("admin"), "get", "/api/v1/partners", None).await;
        for p in partners.as_array().unwrap() {
            let key = match p["name"].as_str().unwrap() {
                "World Hope International" => "WH",
                "World Vision" => "WV",
                "Hagar" => "HG",
                "Transitions Global" => "TG",
                "Chab Dai Coalition" => "CD",
                _ => continue,
            };
            s.ids
                .insert(key.to_owned(), p["id"].as_str().unwrap().to_owned());
        }
        // Her intake as the scenario needs it: a Vietnamese girl, identified as a minor.
        let (_, current) = s
            .call(
                Some("aftercare"),
                "get",
                &s.path("/api/v1/survivors/{S1}"),
                None,
            )
            .await;
        let version = current["version"].as_i64().unwrap();
        let (status, body) = s
            .call(
                Some("aftercare"),
                "patch",
                &s.path("/api/v1/survivors/{S1}"),
                Some(json!({"fields": {"sex": "female", "languages": "vi", "home_region": "An Giang"}, "version": version})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let s1 = s.ids["S1"].parse().unwrap();
        haven_store::testing_referrals::mark_minor(&s.app.db.db, s1, "certain").await;
        s
    }

    pub async fn call(
        &self,
        user: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let token = user.map(|u| self.tokens[u].as_str());
        crate::support::api_call(&self.app, token, method, path, body).await
    }

    pub fn path(&self, template: &str) -> String {
        let mut path = template.to_owned();
        for (name, id) in &self.ids {
            path = path.replace(&format!("{{{name}}}"), id);
        }
        path
    }

    /// Records her consent to share identity with a partner; returns the consent ID.
    pub async fn consent(&self, survivor: &str, partner: &str) -> String {
        let (status, body) = self
            .call(
                Some("aftercare"),
                "post",
                &self.path(&format!("/api/v1/survivors/{{{survivor}}}/consents")),
                Some(json!({
                    "organisation_id": self.ids[partner],
                    "classes": ["identity"],
                    "purpose": "Placement and care at the partner",
                    "language": "vi",
                    "cosigner_role": "social_affairs_officer",
                    "cosigner_name": "Chhay Vuthy"
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// A referral of S1 by `aftercare`, sent when `send`.
    pub async fn referral(&self, partner: &str, need: &str, send: bool) -> String {
        let (status, body) = self
            .call(
                Some("aftercare"),
                "post",
                "/api/v1/referrals",
                Some(json!({"survivor_id": self.ids["S1"], "organisation_id": self.ids[partner], "need": need})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        if send {
            self.step("aftercare", &id, json!({"action": "send"}), StatusCode::OK)
                .await;
        }
        id
    }

    pub async fn step(&self, user: &str, id: &str, body: Value, expected: StatusCode) -> Value {
        let (status, answer) = self
            .call(
                Some(user),
                "post",
                &format!("/api/v1/referrals/{id}/steps"),
                Some(body),
            )
            .await;
        assert_eq!(status, expected, "{answer}");
        answer
    }
}

/// Every referral route × every role and no login, from one table.
async fn referral_authorization_matrix(db: TestDb) {
    let mut s = Session::new(db).await;
    s.consent("S1", "WH").await;
    let sent = s.referral("WH", "placement", true).await;
    let draft = s.referral("WH", "family_tracing", false).await;
    s.ids.insert("R1".into(), sent.clone());
    s.ids.insert("R0".into(), draft);
    let (_, told) = s
        .call(
            Some("partner-worldhope"),
            "get",
            "/api/v1/notifications",
            None,
        )
        .await;
    assert_eq!(told["items"][0]["kind"], "referral.sent");
    s.ids.insert(
        "N".into(),
        told["items"][0]["id"].as_str().unwrap().to_owned(),
    );
    let callers: Vec<Option<&str>> = std::iter::once(None)
        .chain(DEMO_USERS.iter().map(|u| Some(*u)))
        .collect();
    let today = chrono::Utc::now().date_naive().to_string();
    // Columns: anonymous, admin, investigator, aftercare, aftercare2, legal, manager, auditor,
    // partner-worldhope, partner-hagar.
    type Row = (&'static str, &'static str, Option<Value>, [u16; 10]);
    let profile = json!({"services": ["legal_aid"], "languages": ["km"], "regions": ["phnom penh"],
        "beds": 0, "occupancy": 0, "agreement": "active"});
    let consent = json!({"organisation_id": "{HG}", "classes": ["identity"], "purpose": "Placement at Hagar",
        "language": "vi", "cosigner_role": "guardian", "cosigner_name": "Nguyễn Văn Minh"});
    let rows: Vec<Row> = vec![
        (
            "get",
            "/api/v1/partners",
            None,
            [401, 200, 403, 200, 200, 403, 200, 403, 403, 403],
        ),
        (
            "get",
            "/api/v1/partners/{WH}",
            None,
            [401, 200, 404, 200, 200, 404, 200, 404, 200, 404],
        ),
        (
            "put",
            "/api/v1/partners/{CD}",
            Some(profile),
            [401, 200, 403, 403, 403, 403, 200, 403, 403, 403],
        ),
        (
            "put",
            "/api/v1/partners/{WH}/occupancy",
            Some(json!({"beds": 12, "occupancy": 9})),
            [401, 200, 404, 403, 403, 404, 200, 404, 200, 404],
        ),
        (
            "get",
            "/api/v1/survivors/{S1}/matches?need=placement",
            None,
            [401, 404, 404, 200, 404, 403, 200, 404, 403, 404],
        ),
        (
            "get",
            "/api/v1/survivors/{S1}/consents",
            None,
            [401, 404, 404, 200, 404, 403, 200, 404, 403, 404],
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/consents",
            Some(consent),
            // Once she consents to share with Hagar, Hagar's staff know of her record.
            [401, 404, 404, 201, 404, 403, 201, 404, 403, 403],
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/consents/{CONSENT}/withdraw",
            Some(json!({"reason": "She asked her caseworker to stop sharing"})),
            [401, 404, 404, 204, 404, 403, 204, 404, 403, 403],
        ),
        (
            "get",
            "/api/v1/survivors/{S1}/placements",
            None,
            [401, 404, 404, 200, 404, 404, 200, 404, 404, 404],
        ),
        (
            "get",
            "/api/v1/referrals",
            None,
            [401, 403, 403, 200, 200, 403, 200, 403, 200, 200],
        ),
        (
            "post",
            "/api/v1/referrals",
            Some(json!({"survivor_id": "{S1}", "organisation_id": "{HG}", "need": "placement"})),
            [401, 404, 404, 201, 404, 403, 201, 404, 403, 403],
        ),
        (
            "get",
            "/api/v1/referrals/dashboard",
            None,
            [401, 403, 403, 200, 200, 403, 200, 403, 403, 403],
        ),
        (
            "get",
            "/api/v1/referrals/{R1}",
            None,
            [401, 404, 404, 200, 404, 404, 200, 404, 200, 404],
        ),
        (
            "get",
            "/api/v1/referrals/{R0}",
            None,
            [401, 404, 404, 200, 404, 404, 200, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/referrals/{FRESH}/steps",
            Some(json!({"action": "accept"})),
            [401, 404, 404, 403, 404, 404, 403, 404, 200, 404],
        ),
        (
            "post",
            "/api/v1/referrals/{FRESH}/steps",
            Some(json!({"action": "withdraw", "reason": "needs_changed"})),
            [401, 404, 404, 200, 404, 404, 200, 404, 403, 404],
        ),
        (
            "post",
            "/api/v1/referrals/{R1}/services",
            Some(json!({"service": "counselling", "delivered_on": today})),
            [401, 404, 404, 403, 404, 404, 403, 404, 409, 404],
        ),
        (
            "get",
            "/api/v1/notifications",
            None,
            [401, 200, 200, 200, 200, 200, 200, 200, 200, 200],
        ),
        (
            "post",
            "/api/v1/notifications/{N}/read",
            None,
            [401, 404, 404, 404, 404, 404, 404, 404, 204, 404],
        ),
    ];
    for (method, template, body, expected) in &rows {
        for (column, caller) in callers.iter().enumerate() {
            let mut path = s.path(template);
            if path.contains("{CONSENT}") {
                path = path.replace("{CONSENT}", &s.consent("S1", "WV").await);
            }
            let fresh = path.contains("{FRESH}");
            if fresh {
                path = path.replace("{FRESH}", &s.referral("WH", "counselling", true).await);
            }
            let body = body
                .as_ref()
                .map(|b| serde_json::from_str::<Value>(&s.path(&b.to_string())).unwrap());
            let (status, answer) = s.call(*caller, method, &path, body).await;
            assert_eq!(
                status.as_u16(),
                expected[column],
                "{method} {template} as {}: {answer}",
                caller.unwrap_or("anonymous")
            );
            // Leave no open referral behind, so the next caller starts from the same state.
            if fresh || (*template == "/api/v1/referrals" && status == StatusCode::CREATED) {
                let id = if fresh {
                    path.split('/').nth(4).unwrap().to_owned()
                } else {
                    answer["id"].as_str().unwrap().to_owned()
                };
                let (_, now) = s
                    .call(
                        Some("aftercare"),
                        "get",
                        &format!("/api/v1/referrals/{id}"),
                        None,
                    )
                    .await;
                if now["referral"]["status"] != "withdrawn" {
                    s.step(
                        "aftercare",
                        &id,
                        json!({"action": "withdraw", "reason": "needs_changed"}),
                        StatusCode::OK,
                    )
                    .await;
                }
            }
        }
    }
    let covered: Vec<(String, String)> = rows
        .iter()
        .map(|(m, p, _, _)| {
            let mut p = p.split('?').next().unwrap().to_owned();
            for name in ["S1", "WH", "CD", "R1", "R0", "FRESH", "N"] {
                p = p.replace(&format!("{{{name}}}"), "{id}");
            }
            ((*m).to_owned(), p.replace("{CONSENT}", "{consent_id}"))
        })
        .collect();
    for (method, path) in MATRIX_ROUTES {
        assert!(
            covered.contains(&((*method).to_owned(), (*path).to_owned())),
            "route {method} {path} is missing from the referral authorization matrix"
        );
    }
    for route in haven_web::api::ROUTES.iter().filter(|(_, p)| {
        p.contains("/partners") || p.contains("/referrals") || p.contains("/notifications")
    }) {
        assert!(
            MATRIX_ROUTES.contains(route),
            "{route:?} is not in MATRIX_ROUTES"
        );
    }
}

/// A partner's staff see only survivors referred to them with consent, by list, by ID and by
/// search, and lose access the moment consent is withdrawn.
async fn partner_staff_see_only_what_she_consented_to(db: TestDb) {
    let s = Session::new(db).await;
    let hagar = "partner-hagar";
    let s1 = s.path("/api/v1/survivors/{S1}");
    let sees = |list: &Value| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["reference"] == "PP-2026-001")
    };
    let (_, list) = s.call(Some(hagar), "get", "/api/v1/survivors", None).await;
    assert!(!sees(&list));
    assert_eq!(
        s.call(Some(hagar), "get", &s1, None).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, found) = s
        .call(
            Some(hagar),
            "get",
            "/api/v1/survivors?name=Nguy%E1%BB%85n%20Th%E1%BB%8B%20Hoa",
            None,
        )
        .await;
    assert!(!sees(&found));
    let (_, referrals) = s.call(Some(hagar), "get", "/api/v1/referrals", None).await;
    assert_eq!(referrals["items"].as_array().unwrap().len(), 0);

    let consent = s.consent("S1", "HG").await;
    let id = s.referral("HG", "placement", true).await;
    let (status, view) = s.call(Some(hagar), "get", &s1, None).await;
    assert_eq!(status, StatusCode::OK);
    let mut fields: Vec<&String> = view["fields"].as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        ["date_of_birth", "home_region", "languages", "name", "sex"],
        "identity only: no contact, medical, psychosocial or statement"
    );
    let (_, list) = s.call(Some(hagar), "get", "/api/v1/survivors", None).await;
    assert!(sees(&list));
    // World Hope, to whom she was not referred this time, sees the referral nowhere.
    let (status, _) = s
        .call(
            Some("partner-worldhope"),
            "get",
            &format!("/api/v1/referrals/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let withdraw = s.path(&format!(
        "/api/v1/survivors/{{S1}}/consents/{consent}/withdraw"
    ));
    let (status, body) = s
        .call(
            Some("aftercare"),
            "post",
            &withdraw,
            Some(json!({"reason": ""})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "how she withdrew is asked: {body}"
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("reason"));
    let (status, _) = s
        .call(
            Some("aftercare"),
            "post",
            &withdraw,
            Some(json!({"reason": "She told us on the phone she wants Hagar to stop"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.call(Some(hagar), "get", &s1, None).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, list) = s.call(Some(hagar), "get", "/api/v1/survivors", None).await;
    assert!(!sees(&list));
    // The referral, withdrawn with her consent, leaves Hagar's list and pages too.
    let (_, referrals) = s.call(Some(hagar), "get", "/api/v1/referrals", None).await;
    assert_eq!(
        referrals["items"].as_array().unwrap().len(),
        0,
        "{referrals}"
    );
    let (status, _) = s
        .call(Some(hagar), "get", &format!("/api/v1/referrals/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, referrals) = s
        .call(
            Some("aftercare"),
            "get",
            &format!("/api/v1/referrals/{id}"),
            None,
        )
        .await;
    assert_eq!(referrals["referral"]["status"], "withdrawn");
    let (_, told) = s
        .call(Some(hagar), "get", "/api/v1/notifications", None)
        .await;
    let kinds: Vec<&str> = told["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"consent.withdrawn"), "{kinds:?}");
    assert!(
        told["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["referral_id"].is_null()),
        "no notification leads Hagar back to her: {told}"
    );
    let (_, audit) = s
        .call(
            Some("auditor"),
            "get",
            "/api/v1/audit?action=referral.consent.withdraw",
            None,
        )
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}

/// Refusals name the reason in words a caseworker understands.
async fn bad_referrals_are_refused_with_reasons(db: TestDb) {
    let s = Session::new(db).await;
    let (status, body) = s
        .call(
            Some("aftercare"),
            "get",
            &s.path("/api/v1/survivors/{S1}/matches?need=placement"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["eligible"][0]["name"], "World Hope International");
    assert_eq!(
        body["eligible"][0]["reasons"][0]["code"],
        "assessment_centre_first"
    );
    assert_eq!(body["eligible"][1]["name"], "World Vision");
    assert!(body["eligible"][1]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["code"] == "speaks_language" && r["args"]["language"] == "vi"));
    let (status, body) = s
        .call(
            Some("aftercare"),
            "get",
            &s.path("/api/v1/survivors/{S1}/matches?need=karaoke"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().contains("need"));

    // Her age.
    let (status, body) = s
        .call(
            Some("aftercare"),
            "post",
            "/api/v1/referrals",
            Some(json!({"survivor_id": s.ids["S1"], "organisation_id": s.ids["TG"], "need": "placement"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Transitions Global cannot take her"),
        "{message}"
    );
    // Without consent.
    let id = s.referral("WH", "placement", false).await;
    let body = s
        .step(
            "aftercare",
            &id,
            json!({"action": "send"}),
            StatusCode::CONFLICT,
        )
        .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("consent"));
    // A minor's consent without a co-signer.
    let (status, body) = s
        .call(
            Some("aftercare"),
            "post",
            &s.path("/api/v1/survivors/{S1}/consents"),
            Some(
                json!({"organisation_id": s.ids["WH"], "classes": ["identity"],
                "purpose": "Placement at the assessment centre", "language": "vi"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("co-sign"),
        "{body}"
    );
    // A decline needs a reason; a partner admits only once.
    s.consent("S1", "WH").await;
    s.step("aftercare", &id, json!({"action": "send"}), StatusCode::OK)
        .await;
    let body = s
        .step(
            "partner-worldhope",
            &id,
            json!({"action": "decline"}),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("reason"));
    s.step(
        "partner-worldhope",
        &id,
        json!({"action": "accept"}),
        StatusCode::OK,
    )
    .await;
    s.step(
        "partner-worldhope",
        &id,
        json!({"action": "admit"}),
        StatusCode::OK,
    )
    .await;
    let body = s
        .step(
            "partner-worldhope",
            &id,
            json!({"action": "admit"}),
            StatusCode::CONFLICT,
        )
        .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already admitted"));
    // No free bed: the partner's occupancy is full.
    let (status, _) = s
        .call(
            Some("partner-worldhope"),
            "put",
            &s.path("/api/v1/partners/{WH}/occupancy"),
            Some(json!({"beds": 12, "occupancy": 13})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = s
        .call(
            Some("aftercare"),
            "get",
            &s.path("/api/v1/survivors/{S1}/placements"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["stays"][0]["organisation"], "World Hope International");
}

/// The reproduced case over HTTP: World Hope accepts and admits her, with the demo's earlier
/// share (name, date of birth, family contact) still in force. "Withdraw her consent now"
/// must end every way World Hope's staff read her, leave the placement flagged for her
/// caseworker, and show who withdrew, when and how.
async fn withdrawing_consent_at_world_hope_ends_every_read_route(db: TestDb) {
    let s = Session::new(db).await;
    let wh = "partner-worldhope";
    let s1 = s.path("/api/v1/survivors/{S1}");
    let consent = s.consent("S1", "WH").await;
    let id = s.referral("WH", "placement", true).await;
    s.step(wh, &id, json!({"action": "accept"}), StatusCode::OK)
        .await;
    s.step(wh, &id, json!({"action": "admit"}), StatusCode::OK)
        .await;
    let (status, view) = s.call(Some(wh), "get", &s1, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(view["fields"]["family_contact"].is_string(), "{view}");

    let reason = "She asked at the shelter that World Hope stop seeing her file";
    let (status, body) = s
        .call(
            Some("aftercare"),
            "post",
            &s.path(&format!(
                "/api/v1/survivors/{{S1}}/consents/{consent}/withdraw"
            )),
            Some(json!({ "reason": reason })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    for path in [
        s1.clone(),
        format!("{s1}/history"),
        format!("{s1}/case-file"),
        format!("{s1}/plan"),
    ] {
        let (status, body) = s.call(Some(wh), "get", &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (_, list) = s.call(Some(wh), "get", "/api/v1/survivors", None).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
    assert_eq!(
        s.call(Some(wh), "get", "/api/v1/referrals/dashboard", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // She lives there: the admission stays, with her reference and dates and nothing else.
    let (_, referrals) = s.call(Some(wh), "get", "/api/v1/referrals", None).await;
    let items = referrals["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{referrals}");
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["status"], "admitted");
    assert_eq!(items[0]["reference"], "PP-2026-001");
    let (_, told) = s.call(Some(wh), "get", "/api/v1/notifications", None).await;
    for n in told["items"].as_array().unwrap() {
        assert!(
            n["referral_id"].is_null() || n["referral_id"] == id.as_str(),
            "{n}"
        );
        assert!(n["survivor_id"].is_null());
    }
    let portal = crate::support::browser_login(&s.app, wh).await;
    let page = portal
        .get(s.app.url(&format!("/partner/referrals/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("PP-2026-001"));
    assert!(page.contains("consent-withdrawn"));
    assert!(!page.contains("Nguyễn Thị Hoa") && !page.contains("Châu Đốc"));

    // Her caseworker is told and sees who may read her, and why.
    let (_, mine) = s
        .call(Some("aftercare"), "get", "/api/v1/notifications", None)
        .await;
    assert!(mine["items"].as_array().unwrap().iter().any(|n| n["kind"]
        == "referral.in_care_without_consent"
        && n["referral_id"] == id.as_str()));
    let (status, access) = s
        .call(Some("aftercare"), "get", &format!("{s1}/access"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{access}");
    let entries = access["entries"].as_array().unwrap();
    let of = |basis: &str| {
        entries
            .iter()
            .filter(|e| e["basis"] == basis)
            .collect::<Vec<_>>()
    };
    assert!(of("partner_consent").is_empty(), "{access}");
    let flagged = of("in_care_without_consent");
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0]["organisation"], "World Hope International");
    assert_eq!(flagged[0]["classes"], json!([]));
    assert_eq!(of("assigned")[0]["people"][0]["username"], "aftercare");
    assert_eq!(of("legal_consent")[0]["people"][0]["username"], "legal");
    assert_eq!(
        of("manager_oversight")[0]["classes"],
        json!(["identity", "psychosocial"])
    );
    assert_eq!(access["withdrawals"][0]["reason"], reason);
    assert_eq!(
        access["withdrawals"][0]["organisation"],
        "World Hope International"
    );
    // An auditor checks the same list, without her reference or how she withdrew.
    let (status, audited) = s
        .call(Some("auditor"), "get", &format!("{s1}/access"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(audited["reference"].is_null());
    assert!(audited["withdrawals"][0]["reason"].is_null());
    assert_eq!(audited["entries"], access["entries"]);
    let (_, events) = s
        .call(
            Some("auditor"),
            "get",
            "/api/v1/audit?action=survivor.access.read",
            None,
        )
        .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 2, "{events}");
    // Her file shows the flag, the panel and the withdrawal.
    let caseworker = crate::support::browser_login(&s.app, "aftercare").await;
    let file = caseworker
        .get(s.app.url(&s.path("/survivors/{S1}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(file.contains("id=\"in-care-without-consent\""));
    assert!(file.contains("id=\"access\""));
    let panel = &file[file.find("id=\"access\"").unwrap()..];
    assert!(panel.contains("class=\"access-row flagged\""), "{panel}");
    assert!(panel.contains("World Hope International"));
    assert!(file.contains(reason));
    let referral = caseworker
        .get(s.app.url(&format!("/referrals/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(referral.contains("id=\"in-care-without-consent\""));
}

/// A referral form for a 14-year-old with the co-signer left empty is refused with the reason
/// and writes nothing at all: no referral (not even a withdrawn one), no consent, no share,
/// no notification to the partner. Only the audited read of her record is added.
async fn a_refused_referral_form_writes_nothing(db: TestDb) {
    let s = Session::new(db).await;
    let app = &s.app;
    let client = crate::support::browser_login(app, "aftercare").await;
    let (s1, wh) = (s.ids["S1"].clone(), s.ids["WH"].clone());
    let form_url = app.url(&format!(
        "/referrals/new?survivor={s1}&org={wh}&need=placement"
    ));
    let html = client
        .get(&form_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::support::csrf_from(&html);
    let before = haven_store::testing::row_counts(&app.db.db).await;
    let audit_before = before["audit_events"];
    let response = client
        .post(app.url("/referrals/new"))
        .header("accept-language", "en")
        .form(&[
            ("csrf", csrf.as_str()),
            ("survivor", s1.as_str()),
            ("org", wh.as_str()),
            ("need", "placement"),
            ("class_identity", "on"),
            ("purpose", "Placement at the assessment centre"),
            ("language", "vi"),
            ("cosigner_role", ""),
            ("cosigner_name", ""),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_ne!(
        status,
        StatusCode::SEE_OTHER,
        "the form was accepted: {html}"
    );
    assert!(
        html.contains("Placement at the assessment centre"),
        "what was typed is kept"
    );
    let after = haven_store::testing::row_counts(&app.db.db).await;
    let changed: Vec<_> = after
        .iter()
        .filter(|(table, n)| !table.starts_with("audit_") && before.get(*table) != Some(*n))
        .collect();
    assert!(changed.is_empty(), "a refused form wrote to {changed:?}");
    assert!(
        after["audit_events"] - audit_before <= 2,
        "only reads are audited"
    );
    // World Hope was told nothing and sees nothing.
    let (status, list) = s
        .call(Some("partner-worldhope"), "get", "/api/v1/referrals", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!list.to_string().contains("PP-2026-001"), "{list}");
}

haven_store::test_both_backends!(
    a_refused_referral_form_writes_nothing,
    consent_purpose_is_sealed_at_rest,
    referral_authorization_matrix,
    partner_staff_see_only_what_she_consented_to,
    bad_referrals_are_refused_with_reasons,
    referral_pages_open_for_their_roles_only,
    withdrawing_consent_at_world_hope_ends_every_read_route,
);

/// The referral pages open only for the roles that use them, and their forms need CSRF.
async fn referral_pages_open_for_their_roles_only(db: TestDb) {
    let s = Session::new(db).await;
    let app = &s.app;
    let table = [
        ("aftercare", "/referrals", 200),
        ("aftercare", "/referrals/dashboard", 200),
        ("aftercare", "/partner", 404),
        ("manager", "/referrals/dashboard", 200),
        ("admin", "/referrals/dashboard", 404),
        ("legal", "/referrals/dashboard", 404),
        ("partner-worldhope", "/referrals", 200),
        ("partner-worldhope", "/partner", 200),
        ("partner-worldhope", "/referrals/dashboard", 404),
        ("partner-hagar", "/partners", 404),
    ];
    for (user, path, expected) in table {
        let client = crate::support::browser_login(app, user).await;
        let status = client.get(app.url(path)).send().await.unwrap().status();
        assert_eq!(status.as_u16(), expected, "{user} GET {path}");
    }
    let matched = crate::support::browser_login(app, "aftercare")
        .await
        .get(app.url(&s.path("/referrals/match?survivor={S1}&need=placement")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(matched.contains("data-code=\"assessment_centre_first\""));
    let partner = crate::support::browser_login(app, "partner-worldhope").await;
    let response = partner
        .post(app.url("/partner/occupancy"))
        .form(&[("beds", "12"), ("occupancy", "0"), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_ne!(
        response.status(),
        StatusCode::SEE_OTHER,
        "a forged form is refused"
    );
    let (_, wh) = s
        .call(Some("admin"), "get", &s.path("/api/v1/partners/{WH}"), None)
        .await;
    assert_eq!(wh["occupancy"], 9);
    // Withdrawing her consent from the referral page ends Hagar's access at once.
    let consent = s.consent("S1", "HG").await;
    let id = s.referral("HG", "placement", true).await;
    let s1 = s.path("/api/v1/survivors/{S1}");
    assert_eq!(
        s.call(Some("partner-hagar"), "get", &s1, None).await.0,
        StatusCode::OK
    );
    let caseworker = crate::support::browser_login(app, "aftercare").await;
    let page = caseworker
        .get(app.url(&format!("/referrals/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let action = format!("/referrals/{id}/consents/{consent}/withdraw");
    assert!(
        page.contains(&action),
        "the page offers to withdraw her consent"
    );
    let reason = "She said at the shelter visit that Hagar should not have her details";
    // Without the confirmation box nothing changes, and what was typed comes back.
    let response = caseworker
        .post(app.url(&action))
        .form(&[
            ("csrf", crate::support::csrf_from(&page)),
            ("reason", reason.to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = response.text().await.unwrap();
    assert!(refused.contains("withdraw-consent-error"));
    assert!(refused.contains(reason));
    assert_eq!(
        s.call(Some("partner-hagar"), "get", &s1, None).await.0,
        StatusCode::OK
    );
    let response = caseworker
        .post(app.url(&action))
        .form(&[
            ("csrf", crate::support::csrf_from(&page)),
            ("reason", reason.to_owned()),
            ("confirm", "yes".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        s.call(Some("partner-hagar"), "get", &s1, None).await.0,
        StatusCode::NOT_FOUND
    );
    // Who withdrew, when and how, in the referral's history.
    let page = caseworker
        .get(app.url(&format!("/referrals/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let history = &page[page.find("referral-history").unwrap()..];
    assert!(history.contains(reason), "{history}");
    let (_, dashboard) = s
        .call(Some("manager"), "get", "/api/v1/referrals/dashboard", None)
        .await;
    assert!(dashboard["near_capacity"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["organisation"] == "Transitions Global"));
}

/// What she agreed her information is used for can describe her situation: it reads back to
/// her caseworkers but is nowhere in the raw database.
async fn consent_purpose_is_sealed_at_rest(db: TestDb) {
    let s = Session::new(db).await;
    let purpose = "Qxconsentpurpose: shelter near her aunt in Takhmao";
    let (status, body) = s
        .call(
            Some("aftercare"),
            "post",
            &s.path("/api/v1/survivors/{S1}/consents"),
            Some(json!({
                "organisation_id": s.ids["HG"],
                "classes": ["identity"],
                "purpose": purpose,
                "language": "vi",
                "cosigner_role": "social_affairs_officer",
                "cosigner_name": "Chhay Vuthy"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, list) = s
        .call(
            Some("aftercare"),
            "get",
            &s.path("/api/v1/survivors/{S1}/consents"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(list.to_string().contains(purpose), "{list}");
    let dump = crate::legal::database_bytes(&s.app);
    assert!(
        !dump.windows(16).any(|w| w == &b"Qxconsentpurpose"[..]),
        "the purpose is stored in clear"
    );
}
