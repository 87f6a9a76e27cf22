use crate::support::{TestApp, DEMO_USERS};
use haven_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;

struct Session {
    app: TestApp,
    tokens: HashMap<&'static str, String>,
    ids: HashMap<&'static str, String>,
}

impl Session {
    async fn new(db: TestDb) -> Session {
        let app = TestApp::spawn(db).await;
        let mut tokens = HashMap::new();
        for user in DEMO_USERS {
            tokens.insert(user, app.token(user).await);
        }
        let list: Value = app
            .client()
            .get(app.url("/api/v1/survivors"))
            .bearer_auth(&tokens["manager"])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut ids = HashMap::new();
        for item in list["items"].as_array().unwrap() {
            let reference = match item["reference"].as_str().unwrap() {
                "PP-2026-001" => "S1",
                "PP-2026-002" => "S2",
                "PP-2026-003" => "S3",
                _ => continue,
            };
            ids.insert(reference, item["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(ids.len(), 3, "the manager sees all three demo survivors");
        Session { app, tokens, ids }
    }

    async fn call(
        &self,
        user: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let token = user.map(|u| self.tokens[u].as_str());
        crate::support::api_call(&self.app, token, method, path, body).await
    }

    /// Changes fields as `user`, based on the record's current version.
    async fn edit(&self, user: &str, path: &str, fields: Value) -> (StatusCode, Value) {
        let (_, current) = self.call(Some("manager"), "get", path, None).await;
        let version = current["version"].as_i64().expect("a version");
        self.call(
            Some(user),
            "patch",
            path,
            Some(json!({"fields": fields, "version": version})),
        )
        .await
    }

    fn path(&self, template: &str) -> String {
        let mut path = template.to_owned();
        for (name, id) in &self.ids {
            path = path.replace(&format!("{{{name}}}"), id);
        }
        path
    }
}

/// Survivor routes × every role and no login × assigned / unassigned / shared / other
/// organisation's record, from one table.
async fn survivor_authorization_matrix(db: TestDb) {
    let s = Session::new(db).await;
    let callers: Vec<Option<&str>> = std::iter::once(None)
        .chain(DEMO_USERS.iter().map(|u| Some(*u)))
        .collect();
    // Columns: anonymous, admin, investigator, aftercare, aftercare2, legal, manager, auditor,
    // partner-worldhope, partner-hagar.
    // S1: assigned to aftercare, shared with World Hope and legal. S2: assigned to aftercare2,
    // shared with Hagar. S3: unassigned, shared with nobody.
    type Row = (&'static str, &'static str, Option<Value>, [u16; 10]);
    let rows: Vec<Row> = vec![
        (
            "get",
            "/api/v1/survivors",
            None,
            [401, 200, 200, 200, 200, 200, 200, 200, 200, 200],
        ),
        (
            "post",
            "/api/v1/survivors",
            Some(json!({"reference": "REF", "fields": {"name": "New Girl"}})),
            [401, 403, 403, 201, 201, 403, 201, 403, 403, 403],
        ),
        (
            "get",
            "/api/v1/survivors/{S1}",
            None,
            [401, 404, 404, 200, 404, 200, 200, 404, 200, 404],
        ),
        (
            "get",
            "/api/v1/survivors/{S1}/history",
            None,
            [401, 404, 404, 200, 404, 200, 200, 404, 200, 404],
        ),
        (
            "get",
            "/api/v1/survivors/{S2}",
            None,
            [401, 404, 404, 404, 200, 404, 200, 404, 404, 200],
        ),
        // Who may read her: her caseworker, managers, auditors; others who see her 403.
        (
            "get",
            "/api/v1/survivors/{S1}/access",
            None,
            [401, 404, 404, 200, 404, 403, 200, 200, 403, 404],
        ),
        (
            "get",
            "/api/v1/survivors/{S2}/access",
            None,
            [401, 404, 404, 404, 200, 404, 200, 200, 404, 403],
        ),
        (
            "get",
            "/api/v1/survivors/01900000-0000-7000-8000-000000000000/access",
            None,
            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        (
            "get",
            "/api/v1/survivors/{S3}",
            None,
            [401, 404, 404, 404, 404, 404, 200, 404, 404, 404],
        ),
        (
            "get",
            "/api/v1/survivors/not-an-id",
            None,
            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        (
            "patch",
            "/api/v1/survivors/{S1}",
            Some(json!({"fields": {"psychosocial_notes": "Sleeping better."}, "version": 1})),
            [401, 404, 404, 200, 404, 403, 403, 404, 403, 404],
        ),
        (
            "post",
            "/api/v1/survivors/{S1}/shares",
            Some(json!({"audience": "legal", "classes": ["contact"]})),
            [401, 404, 404, 201, 404, 403, 201, 404, 403, 404],
        ),
        (
            "delete",
            "/api/v1/survivors/{S1}/shares/{SHARE}",
            None,
            [401, 404, 404, 204, 404, 403, 204, 404, 403, 404],
        ),
        (
            "get",
            "/api/v1/break-glass",
            None,
            [401, 403, 403, 403, 403, 403, 200, 403, 403, 403],
        ),
        (
            "post",
            "/api/v1/survivors/{S2}/break-glass",
            Some(json!({"reason": "She called the hotline at night and her caseworker is away."})),
            [401, 404, 404, 200, 200, 200, 200, 404, 404, 403],
        ),
        (
            "put",
            "/api/v1/survivors/{S3}/assignees",
            Some(json!({"usernames": ["aftercare2"]})),
            [401, 404, 404, 404, 404, 404, 204, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/survivors/{S3}/erase",
            Some(json!({"reason": "Her guardian asked for her data to be erased."})),
            [401, 404, 404, 404, 403, 404, 200, 404, 404, 404],
        ),
    ];
    let mut counter = 0;
    for (method, template, body, expected) in &rows {
        for (column, caller) in callers.iter().enumerate() {
            let mut path = s.path(template);
            if path.contains("{SHARE}") {
                // A fresh consent for each caller to try to withdraw.
                let (status, share) = s
                    .call(
                        Some("aftercare"),
                        "post",
                        &s.path("/api/v1/survivors/{S1}/shares"),
                        Some(json!({"audience": "legal", "classes": ["psychosocial"]})),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED);
                path = path.replace("{SHARE}", share["id"].as_str().unwrap());
            }
            let mut body = body.clone();
            if let Some(Value::Object(map)) = body.as_mut() {
                if map.get("reference") == Some(&json!("REF")) {
                    counter += 1;
                    map.insert("reference".into(), json!(format!("NEW-{counter}")));
                }
            }
            let (status, answer) = s.call(*caller, method, &path, body).await;
            assert_eq!(
                status.as_u16(),
                expected[column],
                "{method} {template} as {}: {answer}",
                caller.unwrap_or("anonymous")
            );
        }
    }
    let covered: Vec<(&str, &str)> = rows
        .iter()
        .map(|(m, p, _, _)| {
            (
                *m,
                p.replace("{S1}", "{id}")
                    .replace("{S2}", "{id}")
                    .replace("{S3}", "{id}")
                    .replace("{SHARE}", "{share_id}"),
            )
        })
        .map(|(m, p)| (m, Box::leak(p.into_boxed_str()) as &str))
        .collect();
    for route in haven_web::api::ROUTES
        .iter()
        .filter(|(_, p)| p.starts_with("/api/v1/survivors") || p.contains("break-glass"))
        .filter(|route| !crate::referrals::MATRIX_ROUTES.contains(route))
        .filter(|(_, p)| !crate::casework::is_casework_route(p))
    {
        assert!(
            covered.contains(route),
            "route {route:?} is missing from the survivor authorization matrix"
        );
    }
}

fn field_names(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body["fields"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

async fn each_role_sees_only_its_fields(db: TestDb) {
    let s = Session::new(db).await;
    let s1 = s.path("/api/v1/survivors/{S1}");
    let (_, body) = s.call(Some("aftercare"), "get", &s1, None).await;
    assert_eq!(body["fields"]["name"], "Nguyễn Thị Hoa");
    assert!(
        body["fields"]["medical_notes"].is_string(),
        "the assigned caseworker sees medical notes"
    );
    let (_, body) = s.call(Some("partner-worldhope"), "get", &s1, None).await;
    assert_eq!(
        field_names(&body),
        ["date_of_birth", "family_contact", "name"]
    );
    let (_, body) = s.call(Some("legal"), "get", &s1, None).await;
    assert_eq!(field_names(&body), ["date_of_birth", "name", "statement"]);
    // A manager supervises her case: who she is and the psychosocial side, never medical
    // notes, contact details or her statement.
    let (_, body) = s.call(Some("manager"), "get", &s1, None).await;
    assert_eq!(
        field_names(&body),
        ["date_of_birth", "name", "psychosocial_notes"]
    );
    // Lists never carry fields.
    let (_, list) = s
        .call(Some("aftercare"), "get", "/api/v1/survivors", None)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains("Nguyễn"));
    let (_, list) = s
        .call(Some("admin"), "get", "/api/v1/survivors", None)
        .await;
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "administrators see no survivor"
    );
    // Legal may write the statement she consented to share, nothing else.
    let (status, _) = s
        .edit("legal", &s1, json!({"statement": "Signed on 2 March."}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s.edit("legal", &s1, json!({"name": "X"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["error"]["message"].as_str().unwrap().contains("name"));
}

async fn break_glass_opens_a_record_for_a_time_and_managers_see_it(db: TestDb) {
    let s = Session::new(db).await;
    let s1 = s.path("/api/v1/survivors/{S1}");
    assert_eq!(
        s.call(Some("aftercare2"), "get", &s1, None).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, body) = s
        .call(
            Some("aftercare2"),
            "post",
            &format!("{s1}/break-glass"),
            Some(json!({"reason": "urgent"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at least 10 characters"));
    let reason = "She is at the hospital and her caseworker cannot be reached.";
    let (status, _) = s
        .call(
            Some("aftercare2"),
            "post",
            &format!("{s1}/break-glass"),
            Some(json!({"reason": reason})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s.call(Some("aftercare2"), "get", &s1, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["fields"]["psychosocial_notes"].is_string());
    assert!(
        body["fields"].get("medical_notes").is_none(),
        "break-glass never opens medical notes"
    );
    let (status, log) = s
        .call(Some("manager"), "get", "/api/v1/break-glass", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(log[0]["username"], "aftercare2");
    assert_eq!(log[0]["reference"], "PP-2026-001");
    assert_eq!(log[0]["reason"], reason);
}

async fn withdrawn_consent_ends_partner_access_at_once(db: TestDb) {
    let s = Session::new(db).await;
    let s1 = s.path("/api/v1/survivors/{S1}");
    assert_eq!(
        s.call(Some("partner-hagar"), "get", &s1, None).await.0,
        StatusCode::NOT_FOUND
    );
    let orgs: Value = s
        .call(Some("aftercare"), "get", "/api/v1/organisations", None)
        .await
        .1;
    let hagar = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Hagar")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, share) = s
        .call(
            Some("aftercare"),
            "post",
            &format!("{s1}/shares"),
            Some(json!({"audience": "partner", "organisation_id": hagar, "classes": ["identity"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = s.call(Some("partner-hagar"), "get", &s1, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(field_names(&body), ["date_of_birth", "name"]);
    let share_id = share["id"].as_str().unwrap();
    assert_eq!(
        s.call(
            Some("aftercare"),
            "delete",
            &format!("{s1}/shares/{share_id}"),
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.call(Some("partner-hagar"), "get", &s1, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.call(
            Some("aftercare"),
            "delete",
            &format!("{s1}/shares/{share_id}"),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (status, body) = s
        .call(
            Some("aftercare"),
            "post",
            &format!("{s1}/shares"),
            Some(json!({"audience": "partner", "classes": ["identity"]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = s
        .call(
            Some("aftercare"),
            "post",
            &format!("{s1}/shares"),
            Some(json!({"audience": "legal", "classes": ["everything"]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("legal_statement"));
}

async fn names_and_phones_are_found_through_blind_indexes(db: TestDb) {
    let s = Session::new(db).await;
    let (_, found) = s
        .call(
            Some("aftercare2"),
            "get",
            "/api/v1/survivors?name=SREY%20%20pov",
            None,
        )
        .await;
    assert_eq!(found["items"][0]["reference"], "PP-2026-002");
    let (_, found) = s
        .call(
            Some("aftercare2"),
            "get",
            "/api/v1/survivors?name=neang",
            None,
        )
        .await;
    assert_eq!(
        found["items"][0]["reference"], "PP-2026-002",
        "aliases are indexed too"
    );
    let (_, found) = s
        .call(
            Some("aftercare2"),
            "get",
            "/api/v1/survivors?phone=%2B855%2012%20345%20678",
            None,
        )
        .await;
    assert_eq!(found["items"][0]["reference"], "PP-2026-002");
    let (_, found) = s
        .call(
            Some("aftercare"),
            "get",
            "/api/v1/survivors?name=srey%20pov",
            None,
        )
        .await;
    assert!(
        found["items"].as_array().unwrap().is_empty(),
        "a match the caller may not see stays hidden"
    );
    let (status, _) = s
        .call(
            Some("aftercare2"),
            "get",
            "/api/v1/survivors?phone=abc",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn revisions_keep_history_and_bad_input_is_refused(db: TestDb) {
    let s = Session::new(db).await;
    let s2 = s.path("/api/v1/survivors/{S2}");
    for name in ["Srey Pov Chhim", "Srey Pov Chhim Sok"] {
        let (status, body) = s.edit("aftercare2", &s2, json!({"name": name})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["fields"]["name"], name);
    }
    let id = s.ids["S2"].parse().unwrap();
    let history =
        haven_store::survivors::revisions(&s.app.db.db, id, haven_core::SurvivorField::Name)
            .await
            .unwrap();
    assert_eq!(history, 2, "both earlier names are kept");
    let (status, shown) = s
        .call(Some("aftercare2"), "get", &format!("{s2}/history"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let earlier: Vec<&str> = shown["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["field"] == "name")
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        earlier,
        vec!["Srey Pov Chhim", "Srey Pov"],
        "newest change first"
    );
    assert_eq!(shown["items"][0]["replaced_by"], "Nguyễn Thị Lan");
    let (status, _) = s
        .call(Some("aftercare"), "get", &format!("{s2}/history"), None)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "not her caseworker, no history"
    );
    let (_, found) = s
        .call(
            Some("aftercare2"),
            "get",
            "/api/v1/survivors?name=srey%20pov%20chhim%20sok",
            None,
        )
        .await;
    assert_eq!(
        found["items"].as_array().unwrap().len(),
        1,
        "the index follows the new name"
    );
    for (fields, hint) in [
        (json!({"hiv_status": "x"}), "not a field"),
        (json!({"date_of_birth": "15/01/2010"}), "YYYY-MM-DD"),
        (json!({}), "at least one field"),
        (json!({"date_of_birth": "2040-01-01"}), "in the future"),
        (
            json!({"date_of_birth": "2010-01-15", "stated_age": "25"}),
            "does not match the date of birth",
        ),
        (json!({"languages": "Vietnamese"}), "language code"),
    ] {
        let (status, answer) = s.edit("aftercare2", &s2, fields).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(hint),
            "{answer}"
        );
    }
    // A save without the version it is based on is refused.
    let (status, answer) = s
        .call(
            Some("aftercare2"),
            "patch",
            &s2,
            Some(json!({"fields": {"name": "Pov"}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("version"));
    let (status, _) = s
        .call(
            Some("aftercare"),
            "post",
            "/api/v1/survivors",
            Some(json!({"reference": "PP-2026-001"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = s
        .call(
            Some("aftercare"),
            "post",
            "/api/v1/survivors",
            Some(json!({"reference": "has spaces"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn erasure_destroys_the_key_and_keeps_the_count(db: TestDb) {
    let s = Session::new(db).await;
    let s1 = s.path("/api/v1/survivors/{S1}");
    assert_eq!(
        s.call(
            Some("manager"),
            "post",
            &format!("{s1}/erase"),
            Some(json!({"reason": "Her guardian asked for erasure."}))
        )
        .await
        .0,
        StatusCode::OK
    );
    let (status, body) = s.call(Some("aftercare"), "get", &s1, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["erased"], true);
    assert!(body["fields"].as_object().unwrap().is_empty());
    assert_eq!(
        haven_store::survivors::count(&s.app.db.db).await.unwrap(),
        3
    );
    let (_, found) = s
        .call(
            Some("aftercare"),
            "get",
            "/api/v1/survivors?name=Nguy%E1%BB%85n%20Th%E1%BB%8B%20Hoa",
            None,
        )
        .await;
    assert!(found["items"].as_array().unwrap().is_empty());
    let (status, _) = s.edit("aftercare", &s1, json!({"name": "x"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

/// Every way a distinctive name could appear in a dump of the data.
fn encodings(name: &str) -> Vec<(String, Vec<u8>)> {
    use base64::Engine as _;
    let utf16le: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let utf16be: Vec<u8> = name.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    vec![
        ("utf-8".into(), name.as_bytes().to_vec()),
        ("lowercase".into(), name.to_lowercase().into_bytes()),
        ("utf-16le".into(), utf16le),
        ("utf-16be".into(), utf16be),
        (
            "base64".into(),
            base64::engine::general_purpose::STANDARD
                .encode(name)
                .into_bytes(),
        ),
        ("hex".into(), hex.into_bytes()),
        (
            "first word".into(),
            name.split(' ').next().unwrap().as_bytes().to_vec(),
        ),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn names_are_never_stored_in_clear(db: TestDb) {
    let s = Session::new(db).await;
    let name = "Kunthearithvanny Zephyrine";
    let (status, created) = s
        .call(Some("aftercare"), "post", "/api/v1/survivors", Some(json!({"reference": "AT-REST-1", "fields": {"name": name, "phone": "+855 97 111 2222", "medical_notes": "Kunthearithvanny test result"}})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["fields"]["name"], name);
    let dump: Vec<u8> = match s.app.db.url.sqlite_path() {
        Some(path) => {
            let mut bytes = std::fs::read(&path).unwrap();
            let wal = path.with_extension("db-wal");
            if let Ok(more) = std::fs::read(wal) {
                bytes.extend(more);
            }
            bytes
        }
        None => {
            let output = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(s.app.db.url.expose())
                .output()
                .expect("pg_dump must be installed to check PostgreSQL at rest");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            output.stdout
        }
    };
    assert!(dump.len() > 10_000, "the dump holds data");
    assert!(
        contains(&dump, b"AT-REST-1"),
        "the reference is in clear, proving the dump is real"
    );
    for (encoding, needle) in encodings(name) {
        assert!(
            !contains(&dump, &needle),
            "the name appears in clear as {encoding}"
        );
    }
    assert!(
        !contains(&dump, b"97 111 2222") && !contains(&dump, b"+85597111"),
        "the phone number appears in clear"
    );
}

async fn every_survivor_read_and_write_is_audited_without_values(db: TestDb) {
    let s = Session::new(db).await;
    let s1 = s.path("/api/v1/survivors/{S1}");
    assert_eq!(
        s.call(Some("partner-worldhope"), "get", &s1, None).await.0,
        StatusCode::OK
    );
    let (status, _) = s
        .edit(
            "aftercare",
            &s1,
            json!({"psychosocial_notes": "Zanzibarine note"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let filter = haven_store::audit::AuditFilter {
        entity: Some("survivor".to_owned()),
        entity_id: Some(s.ids["S1"].clone()),
        ..Default::default()
    };
    let events = haven_store::audit::list(&s.app.db.db, &filter, None, 200)
        .await
        .unwrap();
    // The partner read exactly the three fields shared with her organisation.
    assert!(
        events.iter().any(|e| e.action == "survivor.read"
            && e.fields == ["name", "date_of_birth", "family_contact"]),
        "the partner's read is recorded with the fields returned: {:?}",
        events
            .iter()
            .map(|e| (e.action.clone(), e.fields.clone()))
            .collect::<Vec<_>>()
    );
    let update = events
        .iter()
        .find(|e| e.action == "survivor.update")
        .expect("the change is recorded");
    assert_eq!(update.fields, ["psychosocial_notes"]);
    let everything = format!("{events:?}");
    assert!(
        !everything.contains("Zanzibarine") && !everything.contains("Nguyễn"),
        "values never reach the audit log"
    );
    let report = haven_store::audit::verify(&s.app.db.db, |_, _| {})
        .await
        .unwrap();
    assert!(report.is_valid(), "{report:?}");
    assert_eq!(report.checked, report.total);
}

haven_store::test_both_backends!(
    every_survivor_read_and_write_is_audited_without_values,
    survivor_authorization_matrix,
    each_role_sees_only_its_fields,
    break_glass_opens_a_record_for_a_time_and_managers_see_it,
    withdrawn_consent_ends_partner_access_at_once,
    names_and_phones_are_found_through_blind_indexes,
    revisions_keep_history_and_bad_input_is_refused,
    erasure_destroys_the_key_and_keeps_the_count,
    names_are_never_stored_in_clear,
    the_second_of_two_saves_is_refused,
);

/// Two staff open the same record; the second save is told it changed and overwrites nothing.
async fn the_second_of_two_saves_is_refused(db: TestDb) {
    let s = Session::new(db).await;
    let s2 = s.path("/api/v1/survivors/{S2}");
    let (_, opened) = s.call(Some("aftercare2"), "get", &s2, None).await;
    let version = opened["version"].as_i64().unwrap();
    let save = |name: &'static str| json!({"fields": {"aliases": name}, "version": version});
    let (status, first) = s
        .call(Some("aftercare2"), "patch", &s2, Some(save("Pov")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["version"].as_i64().unwrap(), version + 1);
    let (status, second) = s
        .call(Some("aftercare2"), "patch", &s2, Some(save("Neang")))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(second["error"]["message"]
        .as_str()
        .unwrap()
        .contains("changed this record since you opened it"));
    let (_, now) = s.call(Some("aftercare2"), "get", &s2, None).await;
    assert_eq!(now["fields"]["aliases"], "Pov", "the first save stands");
    assert_eq!(now["version"].as_i64().unwrap(), version + 1);
}
