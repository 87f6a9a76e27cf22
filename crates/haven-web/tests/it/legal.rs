//! Legal cases and the evidence locker over HTTP: who may do what, the survivor's choice,
//! stage rules, uploads (types, names, sizes, interruptions), custody, tampering, bundles.

use crate::support::{browser_login, csrf_from, TestApp, DEMO_USERS, TEST_UPLOAD_LIMIT};
use haven_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const PNG: [u8; 74] = haven_store::demo_legal::DEMO_PHOTO;
const JPEG_HEAD: [u8; 12] = [
    0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1,
];

struct Session {
    app: TestApp,
    tokens: HashMap<&'static str, String>,
    ids: HashMap<&'static str, String>,
}

/// A multipart body: text fields, then `file`.
pub fn multipart(
    fields: &[(&str, &str)],
    file_name: &str,
    media: &str,
    data: &[u8],
) -> (String, Vec<u8>) {
    let boundary = "haven-test-boundary-7f3a9c".to_owned();
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {media}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(data);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub const PHOTO_FIELDS: [(&str, &str); 6] = [
    ("kind", "photo"),
    ("title", "Photo of the ledger"),
    ("collected_by", "Police officer Sok Pisey"),
    ("collected_at", "2026-01-10"),
    ("collected_where", "Bar office"),
    ("collected_how", "Police camera, original file"),
];

impl Session {
    async fn new(db: TestDb) -> Session {
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
            .call(Some("legal"), "get", "/api/v1/legal/cases", None)
            .await;
        let case = list["items"][0]["id"].as_str().unwrap().to_owned();
        let (_, file) = s
            .call(
                Some("legal"),
                "get",
                &format!("/api/v1/legal/cases/{case}"),
                None,
            )
            .await;
        s.ids.insert("C", case);
        s.ids
            .insert("E", file["evidence"][0]["id"].as_str().unwrap().to_owned());
        s.ids
            .insert("H", file["hearings"][0]["id"].as_str().unwrap().to_owned());
        s.ids.insert(
            "S1",
            file["survivors"][0]["survivor_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        s.ids.insert(
            "SUSPECT",
            file["suspects"][0]["id"].as_str().unwrap().to_owned(),
        );
        s
    }

    fn path(&self, template: &str) -> String {
        let mut path = template.to_owned();
        for (name, id) in &self.ids {
            path = path.replace(&format!("{{{name}}}"), id);
        }
        path
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

    async fn upload(
        &self,
        user: Option<&str>,
        fields: &[(&str, &str)],
        file_name: &str,
        media: &str,
        data: &[u8],
    ) -> (StatusCode, Value) {
        let (content_type, body) = multipart(fields, file_name, media, data);
        let mut request = self
            .app
            .client()
            .post(self.app.url(&self.path("/api/v1/legal/cases/{C}/evidence")))
            .header("content-type", content_type)
            .body(body);
        if let Some(user) = user {
            request = request.bearer_auth(&self.tokens[user]);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn evidence_rows(&self) -> i64 {
        haven_store::on_pool!(&self.app.db.db, pool => sqlx::query_scalar::<_, i64>("SELECT count(*) FROM evidence")
            .fetch_one(pool)
            .await
            .unwrap())
    }
}

/// Every legal route × every role and no login, from one table.
async fn legal_authorization_matrix(db: TestDb) {
    let s = Session::new(db).await;
    let callers: Vec<Option<&str>> = std::iter::once(None)
        .chain(DEMO_USERS.iter().map(|u| Some(*u)))
        .collect();
    let decision = json!({"decision": "takes_part", "explained_by": "Dara Sok", "language": "vi",
        "explained": "What the trial is and that she may stop at any time.", "guardian": "Her aunt"});
    // Columns: anonymous, admin, investigator, aftercare, aftercare2, legal, manager, auditor,
    // partner-worldhope, partner-hagar.
    type Row = (&'static str, &'static str, Option<Value>, [u16; 10]);
    let rows: Vec<Row> = vec![
        (
            "get",
            "/api/v1/legal/cases",
            None,
            [401, 403, 200, 403, 403, 200, 200, 403, 403, 403],
        ),
        (
            "post",
            "/api/v1/legal/cases",
            Some(json!({"reference": "REF", "title": "State v. X"})),
            [401, 403, 403, 403, 403, 201, 201, 403, 403, 403],
        ),
        (
            "get",
            "/api/v1/legal/cases/{C}",
            None,
            [401, 404, 200, 404, 404, 200, 200, 404, 404, 404],
        ),
        (
            "get",
            "/api/v1/legal/cases/not-an-id",
            None,
            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/suspects",
            Some(json!({"name": "Ouk Dara", "role": "transporter"})),
            [401, 404, 403, 404, 404, 201, 201, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/charges",
            Some(json!({"article": "art-25"})),
            [401, 404, 403, 404, 404, 201, 201, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/survivors",
            Some(json!({"survivor_id": "{S1}", "capacity": "witness"})),
            [401, 404, 403, 404, 404, 409, 409, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/survivors/{S1}/decisions",
            Some(decision),
            [401, 404, 403, 404, 404, 201, 201, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/stages",
            Some(json!({"stage": "investigation", "date": "2026-11-01"})),
            [401, 404, 403, 404, 404, 201, 201, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/hearings",
            Some(json!({"stage": "trial_hearings",
            "starts_at": "2027-01-10T09:00:00+07:00", "ends_at": "2027-01-10T11:00:00+07:00", "court": "Phnom Penh Municipal Court"})),
            [401, 404, 403, 404, 404, 201, 201, 404, 404, 404],
        ),
        (
            "put",
            "/api/v1/legal/cases/{C}/hearings/{H}/accompaniment/{S1}",
            Some(json!({"companions": "Sophea Chan",
            "transport": "Organisation car", "separate_waiting_room": true})),
            [401, 404, 403, 404, 404, 204, 204, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/sessions",
            Some(json!({"survivor_id": "{S1}", "kind": "court_visit",
            "held_at": "2026-11-20T09:00:00+07:00", "staff": "Dara Sok", "covered": "Visited the empty courtroom."})),
            [401, 404, 403, 404, 404, 201, 201, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/deadlines",
            Some(json!({"title": "Submit the expert report", "due_at": "2027-01-01T00:00:00Z"})),
            [401, 404, 403, 404, 404, 201, 201, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/outcomes",
            Some(json!({"suspect_id": "{SUSPECT}", "result": "convicted",
            "sentence_months": 120, "decided_on": "2026-11-01"})),
            [401, 404, 403, 404, 404, 422, 422, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/evidence",
            None,
            [401, 404, 201, 404, 404, 201, 201, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/items",
            Some(
                json!({"title": "Her school uniform", "collected_by": "Sok Pisey",
            "collected_where": "Back room", "collected_how": "Sealed bag, tag 17"}),
            ),
            [401, 404, 201, 404, 404, 201, 201, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/bundle",
            Some(json!({"evidence": ["{E}"]})),
            [401, 404, 403, 404, 404, 200, 200, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/cases/{C}/bundle/manifest",
            Some(json!({"evidence": ["{E}"]})),
            [401, 404, 403, 404, 404, 200, 200, 404, 404, 404],
        ),
        (
            "get",
            "/api/v1/legal/evidence/{E}",
            None,
            [401, 404, 200, 404, 404, 200, 200, 404, 404, 404],
        ),
        (
            "get",
            "/api/v1/legal/evidence/{E}/content",
            None,
            [401, 404, 200, 404, 404, 200, 200, 404, 404, 404],
        ),
        (
            "get",
            "/api/v1/legal/evidence/{E}/verify",
            None,
            [401, 404, 200, 404, 404, 200, 200, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/evidence/{E}/custody",
            Some(json!({"to": "{TO}", "reason": "Taken to court"})),
            [401, 404, 204, 404, 404, 204, 204, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/legal/evidence/{E}/legal-hold",
            Some(json!({"reason": "The trial court asked for this photo to be kept."})),
            // The demo photo is linked to no survivor: nothing to hold it against.
            [401, 404, 403, 404, 404, 400, 400, 404, 404, 404],
        ),
        (
            "get",
            "/api/v1/legal/hearings",
            None,
            [401, 403, 200, 200, 200, 200, 200, 403, 403, 403],
        ),
        (
            "get",
            "/api/v1/legal/figures",
            None,
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403],
        ),
    ];
    // The holder changes with every transfer: each caller hands it to someone else.
    let next_holder = |caller: &str| match caller {
        "investigator" => "manager",
        "legal" => "investigator",
        _ => "legal",
    };
    let mut counter = 0;
    for (method, template, body, expected) in &rows {
        for (column, caller) in callers.iter().enumerate() {
            let path = s.path(template);
            let (status, answer) = if *template == "/api/v1/legal/cases/{C}/evidence" {
                s.upload(*caller, &PHOTO_FIELDS, "ledger.png", "image/png", &PNG)
                    .await
            } else {
                let mut body = body.as_ref().map(|b| {
                    s.path(&b.to_string())
                        .replace("{TO}", next_holder(caller.unwrap_or("")))
                });
                if let Some(b) = body.as_mut() {
                    if b.contains("\"REF\"") {
                        counter += 1;
                        *b = b.replace("\"REF\"", &format!("\"LC-NEW-{counter}\""));
                    }
                }
                let body = body.map(|b| serde_json::from_str(&b).unwrap());
                s.call(*caller, method, &path, body).await
            };
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
            (
                (*m).to_owned(),
                p.replace("{C}", "{id}")
                    .replace("{E}", "{id}")
                    .replace("{H}", "{hearing_id}")
                    .replace("{S1}", "{survivor_id}"),
            )
        })
        .collect();
    for (m, p) in haven_web::api::ROUTES
        .iter()
        .filter(|(_, p)| p.contains("/legal/"))
    {
        assert!(
            covered.contains(&((*m).to_owned(), (*p).to_owned())),
            "route {m} {p} is missing from the legal authorization matrix"
        );
    }
}

/// What each role sees of the case file: investigators no decisions, sessions or
/// statements; lawyers her name (she shared it) and her choice.
async fn each_role_sees_its_part_of_the_case(db: TestDb) {
    let s = Session::new(db).await;
    let c = s.path("/api/v1/legal/cases/{C}");
    let (_, file) = s.call(Some("legal"), "get", &c, None).await;
    assert_eq!(file["full_view"], true);
    assert_eq!(file["survivors"][0]["reference"], "PP-2026-001");
    assert_eq!(file["survivors"][0]["name"], "Nguyễn Thị Hoa");
    assert_eq!(file["survivors"][0]["participation"], "takes_part");
    assert_eq!(file["survivors"][0]["minor"], true);
    assert_eq!(file["suspects"].as_array().unwrap().len(), 2);
    let missing: Vec<&str> = file["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert!(missing.contains(&"no-medical-report"), "{missing:?}");
    assert!(missing.contains(&"no-age-evidence"), "{missing:?}");
    assert!(missing.contains(&"no-accompaniment-plan"), "{missing:?}");
    // A statement she shared for the case: lawyers see it; investigators never do.
    let fields = [
        ("kind", "document"),
        ("category", "statement"),
        ("survivor_id", s.ids["S1"].as_str()),
        ("signed", "false"),
        ("title", "Her statement to the judicial police"),
        ("collected_by", "Judicial police"),
        ("collected_where", "Police station"),
        ("collected_how", "Typed and read back to her"),
    ];
    let (status, body) = s
        .upload(
            Some("legal"),
            &fields,
            "statement.txt",
            "text/plain",
            "Tôi được hứa làm ở nhà hàng.".as_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let statement = body["id"].as_str().unwrap().to_owned();
    let (_, file) = s.call(Some("legal"), "get", &c, None).await;
    assert!(file.to_string().contains(&statement));
    let missing = file["missing"].to_string();
    assert!(missing.contains("unsigned-statement"), "{missing}");
    let (status, file) = s.call(Some("investigator"), "get", &c, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(file["full_view"], false);
    assert!(
        !file.to_string().contains(&statement),
        "investigators never see her statement"
    );
    assert!(file["survivors"][0]["name"].is_null());
    assert!(file["survivors"][0]["participation"].is_null());
    assert!(file["sessions"].as_array().unwrap().is_empty());
    assert_eq!(
        file["suspects"][0]["name"].as_str().map(str::is_empty),
        Some(false)
    );
    let (status, _) = s
        .call(
            Some("investigator"),
            "get",
            &format!("/api/v1/legal/evidence/{statement}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Aftercare: her caseworker sees the hearing; another caseworker does not.
    let (_, cal) = s
        .call(Some("aftercare"), "get", "/api/v1/legal/hearings", None)
        .await;
    assert_eq!(cal["hearings"].as_array().unwrap().len(), 1, "{cal}");
    assert_eq!(cal["reminders"][0]["kind"], "hearing");
    let (_, cal) = s
        .call(Some("aftercare2"), "get", "/api/v1/legal/hearings", None)
        .await;
    assert!(cal["hearings"].as_array().unwrap().is_empty());
    let (_, cal) = s
        .call(Some("legal"), "get", "/api/v1/legal/hearings", None)
        .await;
    let kinds = cal["reminders"].to_string();
    assert!(
        kinds.contains("hearing") && kinds.contains("deadline"),
        "{kinds}"
    );
    // Every read was audited.
    let (_, audit) = s
        .call(
            Some("auditor"),
            "get",
            "/api/v1/audit?entity=legal_case&limit=200",
            None,
        )
        .await;
    assert!(audit.to_string().contains("legal_case.read"));
}

/// Her choice: she may withdraw at any time; the case file says so at the top, her details
/// vanish from it, and no session or accompaniment about the case can be recorded for her.
async fn a_survivor_who_withdraws_is_never_contacted_again(db: TestDb) {
    let s = Session::new(db).await;
    let c = s.path("/api/v1/legal/cases/{C}");
    let decision = |d: &str, guardian: Option<&str>| {
        json!({"decision": d, "explained_by": "Dara Sok", "language": "vi",
            "explained": "That she may stop at any time and still receive care.", "guardian": guardian})
    };
    let (status, body) = s
        .call(
            Some("legal"),
            "post",
            &format!("{c}/survivors/{}/decisions", s.ids["S1"]),
            Some(decision("withdrawn", None)),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a minor's choice needs her guardian named"
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("guardian"));
    let (status, _) = s
        .call(
            Some("legal"),
            "post",
            &format!("{c}/survivors/{}/decisions", s.ids["S1"]),
            Some(decision("withdrawn", Some("Her aunt"))),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, file) = s.call(Some("legal"), "get", &c, None).await;
    assert_eq!(file["withdrawn"], json!(["PP-2026-001"]));
    assert!(file["survivors"][0]["name"].is_null(), "her details vanish");
    assert_eq!(
        file["survivors"][0]["decisions"].as_array().unwrap().len(),
        2,
        "history kept"
    );
    assert!(!file.to_string().contains("Nguyễn"));
    let (status, body) = s
        .call(Some("legal"), "post", &format!("{c}/sessions"), Some(json!({"survivor_id": s.ids["S1"],
            "kind": "preparation", "held_at": "2026-11-20T09:00:00+07:00", "staff": "Dara Sok", "covered": "Questions."})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("must not be contacted"));
    let (status, _) = s
        .call(
            Some("legal"),
            "put",
            &s.path("/api/v1/legal/cases/{C}/hearings/{H}/accompaniment/{S1}"),
            Some(
                json!({"companions": "Sophea", "transport": "car", "separate_waiting_room": true}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, cal) = s
        .call(Some("aftercare"), "get", "/api/v1/legal/hearings", None)
        .await;
    assert!(
        cal["hearings"].as_array().unwrap().is_empty(),
        "no reminders about her case"
    );
    // The page says so at the top.
    let client = browser_login(&s.app, "legal").await;
    let html = client
        .get(s.app.url(&format!("/legal/cases/{}", s.ids["C"])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let banner = html.find("withdrawn-banner").unwrap();
    assert!(banner < html.find("<h1>").unwrap());
    assert!(!html.contains("Nguyễn"));
}

async fn rules_and_bad_input_are_refused_with_the_reason(db: TestDb) {
    let s = Session::new(db).await;
    let c = s.path("/api/v1/legal/cases/{C}");
    let (status, body) = s
        .call(
            Some("legal"),
            "post",
            &format!("{c}/stages"),
            Some(json!({"stage": "verdict", "date": "2026-11-01"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["message"],
        "stage: a verdict cannot be recorded before the trial hearings stage"
    );
    let (status, body) = s
        .call(
            Some("legal"),
            "post",
            &format!("{c}/stages"),
            Some(json!({"stage": "sentencing", "date": "2026-11-01"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("trial_hearings"));
    let (status, body) = s
        .call(
            Some("legal"),
            "post",
            &format!("{c}/charges"),
            Some(json!({"article": "art-99"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("art-15"));
    // Custody only to a known person.
    let e = s.path("/api/v1/legal/evidence/{E}/custody");
    let (status, body) = s
        .call(
            Some("legal"),
            "post",
            &e,
            Some(json!({"to": "mr-nobody", "reason": "court"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("known person"));
    let (status, _) = s
        .call(
            Some("legal"),
            "post",
            &e,
            Some(json!({"to": "partner-hagar", "reason": "court"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "partner staff are not custodians"
    );
    let before = s.evidence_rows().await;
    let stored = s.app.locker.stored_files();
    // Contents that do not match the declared type, the name, or the kind.
    let cases: Vec<(&str, &str, &[u8], &str)> = vec![
        ("ledger.png", "image/jpeg", &PNG, "sent as image/jpeg"),
        ("ledger.jpg", "image/png", &PNG, ".jpg"),
        ("ledger.png", "image/png", b"just some text", "not a photo"),
        ("../x.png", "image/png", &PNG, "not a path"),
        ("a/b.png", "image/png", &PNG, "not a path"),
    ];
    for (name, media, data, reason) in cases {
        let (status, body) = s
            .upload(Some("legal"), &PHOTO_FIELDS, name, media, data)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{name}: {message}");
        assert!(message.starts_with("file:"), "{message}");
    }
    let _ = JPEG_HEAD;
    // Too large for the configured limit.
    let mut big = PNG.to_vec();
    big.resize(TEST_UPLOAD_LIMIT as usize + 10, 0);
    let (status, body) = s
        .upload(Some("legal"), &PHOTO_FIELDS, "big.png", "image/png", &big)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("largest file"));
    assert_eq!(
        s.evidence_rows().await,
        before,
        "nothing refused was recorded"
    );
    assert_eq!(s.app.locker.stored_files(), stored);
    assert_eq!(s.app.locker.pending_files(), 0);
}

/// An upload cut off half-way leaves no file and no row.
async fn an_interrupted_upload_leaves_nothing(db: TestDb) {
    use tokio::io::AsyncWriteExt;
    let s = Session::new(db).await;
    let before = s.evidence_rows().await;
    let stored = s.app.locker.stored_files();
    let data = vec![0u8; 3_000_000];
    let mut file = PNG.to_vec();
    file.extend(&data);
    let (content_type, body) = multipart(&PHOTO_FIELDS, "ledger.png", "image/png", &file);
    let mut stream = tokio::net::TcpStream::connect(s.app.addr).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        s.path("/api/v1/legal/cases/{C}/evidence"),
        s.app.addr,
        s.tokens["legal"],
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // More than one write batch reaches the server, then the connection drops.
    stream.write_all(&body[..2_500_000]).await.unwrap();
    stream.flush().await.unwrap();
    let mut seen_pending = false;
    for _ in 0..50 {
        if s.app.locker.pending_files() > 0 {
            seen_pending = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(stream);
    let mut cleaned = false;
    for _ in 0..100 {
        if s.app.locker.pending_files() == 0 {
            cleaned = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(seen_pending, "the upload was being written");
    assert!(cleaned, "the half-written file was removed");
    assert_eq!(s.evidence_rows().await, before);
    assert_eq!(s.app.locker.stored_files(), stored);
}

/// An upload whose body stops arriving is abandoned after the configured idle time: the
/// client is told, the half-written file is removed and no row is written.
async fn a_stalled_upload_is_abandoned_after_the_idle_time(db: TestDb) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = haven_web::WebConfig {
        upload_idle_timeout: std::time::Duration::from_millis(800),
        ..haven_web::WebConfig::default()
    };
    let app = TestApp::spawn_with(db, config).await;
    let token = app.token("legal").await;
    let case = crate::support::api_call(&app, Some(&token), "get", "/api/v1/legal/cases", None)
        .await
        .1["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let count = || async {
        haven_store::on_pool!(&app.db.db, pool => sqlx::query_scalar::<_, i64>("SELECT count(*) FROM evidence")
            .fetch_one(pool)
            .await
            .unwrap())
    };
    let before = count().await;
    let stored = app.locker.stored_files();
    let mut file = PNG.to_vec();
    file.extend(vec![7u8; 1_000_000]);
    let (content_type, body) = multipart(&PHOTO_FIELDS, "ledger.png", "image/png", &file);
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/legal/cases/{case}/evidence HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        app.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..600_000]).await.unwrap();
    stream.flush().await.unwrap();
    // The connection stays open, sending nothing more.
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the server gave up on the stalled upload");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("nothing was stored"), "{answer}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(700));
    let mut cleaned = false;
    for _ in 0..100 {
        if app.locker.pending_files() == 0 {
            cleaned = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(cleaned, "the half-written file was removed");
    assert_eq!(count().await, before);
    assert_eq!(app.locker.stored_files(), stored);
}

/// A stored file altered on disk is caught on the next read, and the bundle refuses it.
async fn tampering_with_a_stored_file_is_detected(db: TestDb) {
    let s = Session::new(db).await;
    let data: Vec<u8> = PNG
        .iter()
        .copied()
        .chain((0..200_000u32).map(|i| (i % 251) as u8))
        .collect();
    let (status, item) = s
        .upload(
            Some("legal"),
            &PHOTO_FIELDS,
            "ledger.png",
            "image/png",
            &data,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    let id = item["id"].as_str().unwrap().to_owned();
    assert_eq!(item["sha256"], hex(&Sha256::digest(&data)));
    // Sound: it reads back whole and verifies.
    let response = s
        .app
        .client()
        .get(s.app.url(&format!("/api/v1/legal/evidence/{id}/content")))
        .bearer_auth(&s.tokens["legal"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap().as_ref(), data.as_slice());
    let (_, check) = s
        .call(
            Some("legal"),
            "get",
            &format!("/api/v1/legal/evidence/{id}/verify"),
            None,
        )
        .await;
    assert_eq!(check["intact"], true);
    // The file at rest is not the photo in clear.
    let path = s.app.locker.path_of(id.parse().unwrap());
    let mut stored = std::fs::read(&path).unwrap();
    assert!(!stored.windows(8).any(|w| w == &PNG[..8]));
    // Alter one byte in the middle.
    let middle = stored.len() / 2;
    stored[middle] ^= 0x01;
    std::fs::write(&path, &stored).unwrap();
    let (_, check) = s
        .call(
            Some("legal"),
            "get",
            &format!("/api/v1/legal/evidence/{id}/verify"),
            None,
        )
        .await;
    assert_eq!(check["intact"], false);
    assert!(check["problem"]
        .as_str()
        .unwrap()
        .contains("integrity check"));
    let (status, body) = s
        .call(
            Some("legal"),
            "post",
            &s.path("/api/v1/legal/cases/{C}/bundle"),
            Some(json!({"evidence": [id]})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Altered at the start: refused before anything is sent.
    stored[40] ^= 0x01;
    std::fs::write(&path, &stored).unwrap();
    let (status, body) = s
        .call(
            Some("legal"),
            "get",
            &format!("/api/v1/legal/evidence/{id}/content"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("altered"));
    let (_, audit) = s
        .call(
            Some("auditor"),
            "get",
            "/api/v1/audit?action=evidence.integrity_failure",
            None,
        )
        .await;
    assert!(!audit["items"].as_array().unwrap().is_empty(), "{audit}");
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bundle: a PDF with every hash, and a manifest whose hashes match the files.
async fn the_court_bundle_lists_verifiable_hashes(db: TestDb) {
    let s = Session::new(db).await;
    let (status, item) = s
        .upload(
            Some("legal"),
            &PHOTO_FIELDS,
            "ledger.png",
            "image/png",
            &PNG,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let ids = json!({"evidence": [s.ids["E"], item["id"]], "statements": true});
    let response = s
        .app
        .client()
        .post(s.app.url(&s.path("/api/v1/legal/cases/{C}/bundle")))
        .bearer_auth(&s.tokens["legal"])
        .json(&ids)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let pdf = response.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let (_, manifest) = s
        .call(
            Some("legal"),
            "post",
            &s.path("/api/v1/legal/cases/{C}/bundle/manifest"),
            Some(ids),
        )
        .await;
    assert_eq!(manifest["format"], "haven-court-bundle/1");
    assert_eq!(manifest["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        manifest["statements"][0]["survivor_reference"],
        "PP-2026-001"
    );
    let text = String::from_utf8_lossy(&pdf);
    for entry in manifest["items"].as_array().unwrap() {
        let sha = entry["sha256"].as_str().unwrap();
        assert!(text.contains(sha), "the PDF prints {sha}");
        let bytes = s
            .app
            .client()
            .get(s.app.url(&format!(
                "/api/v1/legal/evidence/{}/content",
                entry["id"].as_str().unwrap()
            )))
            .bearer_auth(&s.tokens["legal"])
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(hex(&Sha256::digest(&bytes)), sha);
        assert!(!entry["custody"].as_array().unwrap().is_empty());
    }
    assert!(text.contains("page 1 of"));
    let _ = csrf_from;
}

async fn outcomes_add_up_in_the_figures(db: TestDb) {
    let s = Session::new(db).await;
    let c = s.path("/api/v1/legal/cases/{C}");
    let today = chrono::Utc::now().date_naive();
    for (stage, date) in [("trial_hearings", today), ("verdict", today)] {
        let (status, body) = s
            .call(
                Some("legal"),
                "post",
                &format!("{c}/stages"),
                Some(json!({"stage": stage, "date": date.to_string()})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = s
        .call(Some("legal"), "post", &format!("{c}/outcomes"), Some(json!({"suspect_id": s.ids["SUSPECT"],
            "result": "convicted", "sentence_months": 180, "compensation_ordered": 20000000, "decided_on": today.to_string()})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, figures) = s
        .call(Some("manager"), "get", "/api/v1/legal/figures", None)
        .await;
    assert_eq!(figures["convictions"], 1);
    assert_eq!(figures["acquittals"], 0);
    assert_eq!(figures["sentence_months_total"], 180);
    assert_eq!(figures["compensation_ordered"], 20000000);
    assert_eq!(figures["median_days_complaint_to_verdict"], 60);
    let (_, file) = s.call(Some("legal"), "get", &c, None).await;
    assert!(file["deadlines"].to_string().contains("statutory-appeal"));
}

/// Rows written by the case-page forms, to check that a refused form wrote nothing.
async fn form_rows(s: &Session) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "legal_cases",
        "legal_stages",
        "legal_hearings",
        "legal_accompaniment",
        "legal_decisions",
        "legal_sessions",
    ] {
        let sql = format!("SELECT count(*) FROM {table}");
        counts.push(
            haven_store::on_pool!(&s.app.db.db, pool => sqlx::query_scalar::<_, i64>(&sql)
            .fetch_one(pool)
            .await
            .unwrap()),
        );
    }
    counts
}

fn today() -> String {
    chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// The five form routes with a valid body each (`{C}`/`{S1}` filled in by `Session::path`).
fn page_forms(s: &Session, tag: &str) -> Vec<(String, Vec<(String, String)>)> {
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), s.path(v)))
            .collect()
    };
    let reference = format!("LC-FORM-{tag}");
    let day = today();
    let held = format!("{day}T10:00");
    vec![
        (
            "/legal".to_owned(),
            pairs(&[
                ("reference", &reference),
                ("title", "Karaoke bar, Svay Pak"),
                ("court", "Phnom Penh Municipal Court"),
            ]),
        ),
        (
            s.path("/legal/cases/{C}/stages"),
            pairs(&[
                ("stage", "investigation"),
                ("date", &day),
                ("note", "Further questioning"),
            ]),
        ),
        (
            s.path("/legal/cases/{C}/hearings"),
            pairs(&[
                ("stage", "trial_hearings"),
                ("date", "2026-12-15"),
                ("starts", "09:00"),
                ("ends", "11:30"),
                ("court", "Phnom Penh Municipal Court"),
                ("room", "3"),
                ("survivor_id", "{S1}"),
                ("companions", "Srey Leak (social worker) and her aunt"),
                ("transport", "Organisation car from the shelter"),
                ("separate_waiting_room", "on"),
            ]),
        ),
        (
            s.path("/legal/cases/{C}/decisions"),
            pairs(&[
                ("survivor_id", "{S1}"),
                ("decision", "takes_part"),
                ("explained_by", "Dara Sok (lawyer)"),
                ("language", "vi"),
                (
                    "explained",
                    "What the trial will be like and that she may stop at any time.",
                ),
                ("guardian", "Her aunt"),
                ("minor", "on"),
            ]),
        ),
        (
            s.path("/legal/cases/{C}/sessions"),
            pairs(&[
                ("survivor_id", "{S1}"),
                ("kind", "preparation"),
                ("held_at", &held),
                ("staff", "Dara Sok, Srey Leak"),
                (
                    "covered",
                    "Who sits where in the courtroom; the questions the defence may ask.",
                ),
            ]),
        ),
    ]
}

/// A signed-in browser and a CSRF token it may post with.
async fn page_client(s: &Session, user: &str) -> (reqwest::Client, String) {
    let client = browser_login(&s.app, user).await;
    let home = client
        .get(s.app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_from(&home);
    (client, csrf)
}

/// Every form route: lawyers and managers may post; everyone else is refused (the not-found
/// page) and nothing is written; without a session the browser goes to the login page.
async fn page_forms_are_for_lawyers_and_managers_only(db: TestDb) {
    let s = Session::new(db).await;
    for user in [
        "investigator",
        "partner-hagar",
        "aftercare",
        "admin",
        "auditor",
    ] {
        let (client, csrf) = page_client(&s, user).await;
        for (path, mut form) in page_forms(&s, user) {
            form.push(("csrf".to_owned(), csrf.clone()));
            let before = form_rows(&s).await;
            let answer = client
                .post(s.app.url(&path))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{user} {path}");
            assert_eq!(form_rows(&s).await, before, "{user} {path} wrote nothing");
        }
    }
    let anonymous = s.app.browser_client();
    for (path, form) in page_forms(&s, "anonymous") {
        let before = form_rows(&s).await;
        let answer = anonymous
            .post(s.app.url(&path))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(
            answer.status().is_redirection(),
            "{path}: {}",
            answer.status()
        );
        let to = answer.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/login"), "{path} → {to}");
        assert_eq!(
            form_rows(&s).await,
            before,
            "anonymous {path} wrote nothing"
        );
    }
    for user in ["legal", "manager"] {
        let (client, csrf) = page_client(&s, user).await;
        for (path, mut form) in page_forms(&s, user) {
            form.push(("csrf".to_owned(), csrf.clone()));
            let before = form_rows(&s).await;
            let answer = client
                .post(s.app.url(&path))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{user} {path}");
            let to = answer.headers()["location"].to_str().unwrap().to_owned();
            assert!(to.contains("?saved="), "{user} {path} → {to}");
            assert_ne!(form_rows(&s).await, before, "{user} {path} was saved");
            let page = client.get(s.app.url(&to)).send().await.unwrap();
            assert_eq!(page.status(), StatusCode::OK);
            assert!(page.text().await.unwrap().contains("id=\"saved-notice\""));
        }
    }
    // The hearing and its plan arrived together and show on the case file.
    let (_, file) = s
        .call(
            Some("legal"),
            "get",
            &s.path("/api/v1/legal/cases/{C}"),
            None,
        )
        .await;
    let planned = file["hearings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| {
            h["accompaniment"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|p| p["transport"] == "Organisation car from the shelter")
            })
        })
        .count();
    assert_eq!(
        planned, 2,
        "one hearing with its plan from each of legal and manager"
    );
    // A form posted without its CSRF token is refused.
    let (client, _) = page_client(&s, "legal").await;
    let (path, form) = page_forms(&s, "nocsrf").remove(1);
    let before = form_rows(&s).await;
    let answer = client
        .post(s.app.url(&path))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_client_error(), "{}", answer.status());
    assert_eq!(form_rows(&s).await, before);
}

/// A verdict before a trial, a date that does not exist, a hearing that ends before it
/// starts, a minor's choice without her guardian: the form comes back with the reason in the
/// user's language and what was typed, and nothing is written.
async fn page_forms_refuse_bad_input_with_the_reason(db: TestDb) {
    let s = Session::new(db).await;
    let (client, csrf) = page_client(&s, "legal").await;
    let hearing = |date: &str, starts: &str, ends: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("stage", "trial_hearings".to_owned()),
            ("date", date.to_owned()),
            ("starts", starts.to_owned()),
            ("ends", ends.to_owned()),
            ("court", "Kandal Provincial Court".to_owned()),
            ("survivor_id", s.path("{S1}")),
            ("companions", "Her social worker".to_owned()),
            ("transport", "Tuk-tuk".to_owned()),
        ]
    };
    // (route, form, status, the reason shown, a value kept in the form)
    type Refused<'a> = (
        &'a str,
        Vec<(&'a str, String)>,
        StatusCode,
        &'a str,
        &'a str,
    );
    let cases: Vec<Refused> = vec![
        (
            "/legal/cases/{C}/stages",
            vec![
                ("csrf", csrf.clone()),
                ("stage", "verdict".to_owned()),
                ("date", today()),
                ("note", "Guilty on all counts".to_owned()),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "“Verdict” cannot be recorded before the stage “Trial hearings”",
            "Guilty on all counts",
        ),
        (
            "/legal/cases/{C}/hearings",
            hearing("2026-02-31", "09:00", "10:00"),
            StatusCode::BAD_REQUEST,
            "write a date such as 2026-06-01",
            "Kandal Provincial Court",
        ),
        (
            "/legal/cases/{C}/hearings",
            hearing("next tuesday", "9am", "10:00"),
            StatusCode::BAD_REQUEST,
            "write a date such as 2026-06-01",
            "next tuesday",
        ),
        (
            "/legal/cases/{C}/hearings",
            hearing("2026-12-15", "11:00", "09:00"),
            StatusCode::BAD_REQUEST,
            "The hearing must end after it starts.",
            "Kandal Provincial Court",
        ),
        (
            "/legal/cases/{C}/decisions",
            vec![
                ("csrf", csrf.clone()),
                ("survivor_id", s.path("{S1}")),
                ("decision", "takes_part".to_owned()),
                ("explained_by", "Dara Sok".to_owned()),
                ("language", "vi".to_owned()),
                (
                    "explained",
                    "The trial, the questions, her right to stop.".to_owned(),
                ),
                ("guardian", String::new()),
                ("minor", "on".to_owned()),
            ],
            StatusCode::BAD_REQUEST,
            "name the guardian who was present",
            "The trial, the questions, her right to stop.",
        ),
        (
            "/legal",
            vec![
                ("csrf", csrf.clone()),
                ("reference", "LC 2026 / 7".to_owned()),
                ("title", "Massage parlour, Siem Reap".to_owned()),
            ],
            StatusCode::BAD_REQUEST,
            "A reference is 2 to 40 letters",
            "Massage parlour, Siem Reap",
        ),
    ];
    for (path, form, status, reason, kept) in cases {
        let before = form_rows(&s).await;
        let answer = client
            .post(s.app.url(&s.path(path)))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "{path}");
        let html = answer.text().await.unwrap();
        assert!(
            html.contains(reason),
            "{path}: the reason `{reason}` is shown"
        );
        assert!(html.contains(kept), "{path}: `{kept}` is kept in the form");
        assert_eq!(form_rows(&s).await, before, "{path} wrote nothing");
    }
    // The same refusal in Khmer.
    client
        .post(s.app.url("/lang"))
        .form(&[("lang", "km"), ("csrf", csrf.as_str()), ("next", "/")])
        .send()
        .await
        .unwrap();
    let answer = client
        .post(s.app.url(&s.path("/legal/cases/{C}/hearings")))
        .form(&hearing("2026-12-15", "11:00", "09:00"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer
        .text()
        .await
        .unwrap()
        .contains("សវនាការត្រូវបញ្ចប់ក្រោយពេលចាប់ផ្តើម។"));
}

/// Rows written by the forms for suspects, charges, survivors, deadlines and judgments.
async fn more_form_rows(s: &Session) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "legal_suspects",
        "legal_charges",
        "legal_case_survivors",
        "legal_deadlines",
        "legal_outcomes",
    ] {
        let sql = format!("SELECT count(*) FROM {table}");
        counts.push(
            haven_store::on_pool!(&s.app.db.db, pool => sqlx::query_scalar::<_, i64>(&sql)
            .fetch_one(pool)
            .await
            .unwrap()),
        );
    }
    counts
}

/// Records the trial and the verdict of the demo case, so that a judgment may follow.
async fn reach_the_verdict(s: &Session) {
    for stage in ["trial_hearings", "verdict"] {
        let (status, body) = s
            .call(
                Some("legal"),
                "post",
                &s.path("/api/v1/legal/cases/{C}/stages"),
                Some(json!({"stage": stage, "date": today()})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

/// A new case with no survivor yet, opened through the API; its ID.
async fn empty_case(s: &Session, reference: &str) -> String {
    let (status, body) = s
        .call(
            Some("legal"),
            "post",
            "/api/v1/legal/cases",
            Some(json!({"reference": reference, "title": "Garment factory, Kandal", "court": "Kandal Provincial Court"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// The five further form routes with a valid body each; `fresh` is a case she is not part of.
fn more_page_forms(s: &Session, fresh: &str) -> Vec<(String, Vec<(String, String)>)> {
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), s.path(v)))
            .collect()
    };
    let day = today();
    vec![
        (
            s.path("/legal/cases/{C}/suspects"),
            pairs(&[
                ("name", "Chea Vanna"),
                ("aliases", "Ming Ming"),
                ("role", "recruiter_or_intermediary"),
            ]),
        ),
        (
            s.path("/legal/cases/{C}/charges"),
            pairs(&[("article", "art-15"), ("suspect_id", "{SUSPECT}")]),
        ),
        (
            format!("/legal/cases/{fresh}/survivors"),
            pairs(&[("reference", "pp-2026-001"), ("capacity", "witness")]),
        ),
        (
            s.path("/legal/cases/{C}/deadlines"),
            pairs(&[
                ("title", "File the civil party claim"),
                ("due_on", "2026-12-20"),
                ("due_at", "16:00"),
            ]),
        ),
        (
            s.path("/legal/cases/{C}/outcomes"),
            pairs(&[
                ("suspect_id", "{SUSPECT}"),
                ("result", "convicted"),
                ("sentence_months", "180"),
                ("compensation_ordered", "20,000,000"),
                ("compensation_paid", ""),
                ("decided_on", &day),
            ]),
        ),
    ]
}

/// Suspects, charges, survivors, deadlines and judgments from the case page: lawyers and
/// managers may post; everyone else gets the not-found page and nothing is written; without a
/// session the browser goes to the login page; without the CSRF token nothing is written.
async fn more_page_forms_are_for_lawyers_and_managers_only(db: TestDb) {
    let s = Session::new(db).await;
    reach_the_verdict(&s).await;
    let refused_case = empty_case(&s, "LC-FORM-REFUSED").await;
    for user in [
        "investigator",
        "partner-hagar",
        "aftercare",
        "admin",
        "auditor",
    ] {
        let (client, csrf) = page_client(&s, user).await;
        for (path, mut form) in more_page_forms(&s, &refused_case) {
            form.push(("csrf".to_owned(), csrf.clone()));
            let before = more_form_rows(&s).await;
            let answer = client
                .post(s.app.url(&path))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{user} {path}");
            assert_eq!(
                more_form_rows(&s).await,
                before,
                "{user} {path} wrote nothing"
            );
        }
    }
    let anonymous = s.app.browser_client();
    for (path, form) in more_page_forms(&s, &refused_case) {
        let before = more_form_rows(&s).await;
        let answer = anonymous
            .post(s.app.url(&path))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(
            answer.status().is_redirection(),
            "{path}: {}",
            answer.status()
        );
        let to = answer.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/login"), "{path} → {to}");
        assert_eq!(more_form_rows(&s).await, before, "anonymous {path}");
    }
    let (client, _) = page_client(&s, "legal").await;
    for (path, form) in more_page_forms(&s, &refused_case) {
        let before = more_form_rows(&s).await;
        let answer = client
            .post(s.app.url(&path))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_client_error(), "{path} without CSRF");
        assert_eq!(more_form_rows(&s).await, before, "{path} without CSRF");
    }
    for user in ["legal", "manager"] {
        let fresh = empty_case(&s, &format!("LC-FORM-{user}")).await;
        let (client, csrf) = page_client(&s, user).await;
        for (path, mut form) in more_page_forms(&s, &fresh) {
            form.push(("csrf".to_owned(), csrf.clone()));
            let before = more_form_rows(&s).await;
            let answer = client
                .post(s.app.url(&path))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{user} {path}");
            let to = answer.headers()["location"].to_str().unwrap().to_owned();
            assert!(to.contains("?saved="), "{user} {path} → {to}");
            assert_ne!(more_form_rows(&s).await, before, "{user} {path} was saved");
            let page = client.get(s.app.url(&to)).send().await.unwrap();
            assert_eq!(page.status(), StatusCode::OK);
            assert!(page.text().await.unwrap().contains("id=\"saved-notice\""));
        }
    }
    // A statutory deadline is named by its kind when no title is typed.
    let (client, csrf) = page_client(&s, "legal").await;
    let answer = client
        .post(s.app.url(&s.path("/legal/cases/{C}/deadlines")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "statutory-appeal"),
            ("title", ""),
            ("due_on", "2026-12-28"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let (_, file) = s
        .call(
            Some("legal"),
            "get",
            &s.path("/api/v1/legal/cases/{C}"),
            None,
        )
        .await;
    let text = file.to_string();
    assert!(text.contains("Appeal deadline"), "{text}");
    assert!(text.contains("Chea Vanna"), "{text}");
    assert!(text.contains("File the civil party claim"), "{text}");
    let judgments = file["outcomes"].as_array().unwrap();
    assert_eq!(judgments.len(), 2);
    assert!(judgments
        .iter()
        .all(|o| o["sentence_months"] == 180 && o["compensation_ordered"] == 20000000));
    let page = client
        .get(s.app.url(&s.path("/legal/cases/{C}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"outcomes\""));
    assert!(page.contains("<option value=\"court\">Court deadline</option>"));
    assert!(page.contains("Article 15 · Selling, buying or exchanging a person"));
}

/// An unknown role or charge, a survivor reference the lawyer may not see, a deadline date
/// that is not a date, a judgment before the verdict or with words for months: the form comes
/// back with the reason in the user's language and what was typed, and nothing is written.
async fn more_page_forms_refuse_bad_input_with_the_reason(db: TestDb) {
    let s = Session::new(db).await;
    let (client, csrf) = page_client(&s, "legal").await;
    let outcome = |months: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("suspect_id", s.path("{SUSPECT}")),
            ("result", "convicted".to_owned()),
            ("sentence_months", months.to_owned()),
            ("compensation_ordered", "4000000".to_owned()),
            ("decided_on", today()),
        ]
    };
    type Refused<'a> = (
        &'a str,
        Vec<(&'a str, String)>,
        StatusCode,
        &'a str,
        &'a str,
    );
    let cases: Vec<Refused> = vec![
        (
            "/legal/cases/{C}/suspects",
            vec![
                ("csrf", csrf.clone()),
                ("name", "Sok Pisey".to_owned()),
                ("role", "mastermind".to_owned()),
            ],
            StatusCode::BAD_REQUEST,
            "role in the crime.",
            "Sok Pisey",
        ),
        (
            "/legal/cases/{C}/charges",
            vec![
                ("csrf", csrf.clone()),
                ("article", "art-99".to_owned()),
                ("suspect_id", s.path("{SUSPECT}")),
            ],
            StatusCode::BAD_REQUEST,
            "Choose a charge from the list of articles.",
            "id=\"charge-form\"",
        ),
        (
            "/legal/cases/{C}/charges",
            vec![
                ("csrf", csrf.clone()),
                ("article", "art-15".to_owned()),
                ("suspect_id", uuid::Uuid::new_v4().to_string()),
            ],
            StatusCode::BAD_REQUEST,
            "Choose one of this case",
            "id=\"charge-form\"",
        ),
        (
            "/legal/cases/{C}/survivors",
            vec![
                ("csrf", csrf.clone()),
                ("reference", "PP-2099-999".to_owned()),
                ("capacity", "witness".to_owned()),
            ],
            StatusCode::BAD_REQUEST,
            "No survivor you may see has the reference PP-2099-999",
            "PP-2099-999",
        ),
        (
            "/legal/cases/{C}/survivors",
            vec![
                ("csrf", csrf.clone()),
                ("reference", "PP-2026-002".to_owned()),
                ("capacity", "witness".to_owned()),
            ],
            StatusCode::BAD_REQUEST,
            "No survivor you may see has the reference PP-2026-002",
            "PP-2026-002",
        ),
        (
            "/legal/cases/{C}/survivors",
            vec![
                ("csrf", csrf.clone()),
                ("reference", "PP-2026-001".to_owned()),
                ("capacity", "witness".to_owned()),
            ],
            StatusCode::CONFLICT,
            "She is already part of this case.",
            "PP-2026-001",
        ),
        (
            "/legal/cases/{C}/deadlines",
            vec![
                ("csrf", csrf.clone()),
                ("title", "Appeal brief".to_owned()),
                ("due_on", "next friday".to_owned()),
            ],
            StatusCode::BAD_REQUEST,
            "write a date such as 2026-06-01",
            "next friday",
        ),
        (
            "/legal/cases/{C}/deadlines",
            vec![
                ("csrf", csrf.clone()),
                ("kind", "court".to_owned()),
                ("title", String::new()),
                ("due_on", "2026-12-20".to_owned()),
            ],
            StatusCode::BAD_REQUEST,
            "Please fill in “What is due",
            "2026-12-20",
        ),
        (
            "/legal/cases/{C}/outcomes",
            outcome("180"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Record the verdict stage before the judgment.",
            "4000000",
        ),
        (
            "/legal/cases/{C}/outcomes",
            outcome("fifteen years"),
            StatusCode::BAD_REQUEST,
            "write a whole number",
            "fifteen years",
        ),
    ];
    for (path, form, status, reason, kept) in cases {
        let before = more_form_rows(&s).await;
        let answer = client
            .post(s.app.url(&s.path(path)))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "{path}");
        let html = answer.text().await.unwrap();
        assert!(
            html.contains(reason),
            "{path}: the reason `{reason}` is shown"
        );
        assert!(html.contains(kept), "{path}: `{kept}` is kept in the form");
        assert_eq!(more_form_rows(&s).await, before, "{path} wrote nothing");
    }
    // After the verdict, an acquittal with a sentence is refused in Vietnamese.
    reach_the_verdict(&s).await;
    client
        .post(s.app.url("/lang"))
        .form(&[("lang", "vi"), ("csrf", csrf.as_str()), ("next", "/")])
        .send()
        .await
        .unwrap();
    let mut acquittal = outcome("24");
    acquittal[2].1 = "acquitted".to_owned();
    let before = more_form_rows(&s).await;
    let answer = client
        .post(s.app.url(&s.path("/legal/cases/{C}/outcomes")))
        .form(&acquittal)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer
        .text()
        .await
        .unwrap()
        .contains("Trắng án thì không có mức án"));
    assert_eq!(more_form_rows(&s).await, before);
}

async fn no_contact_is_warned_when_she_has_no_separate_room(db: TestDb) {
    let s = Session::new(db).await;
    let c = s.path("/api/v1/legal/cases/{C}");
    let (_, file) = s.call(Some("legal"), "get", &c, None).await;
    assert!(
        !file["no_contact"].as_array().unwrap().is_empty(),
        "no plan yet: warned"
    );
    let (status, _) = s
        .call(Some("legal"), "put", &s.path("/api/v1/legal/cases/{C}/hearings/{H}/accompaniment/{S1}"),
            Some(json!({"companions": "Sophea Chan and a counsellor", "transport": "Organisation car", "separate_waiting_room": false})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, cal) = s
        .call(Some("legal"), "get", "/api/v1/legal/hearings", None)
        .await;
    assert_eq!(cal["no_contact"][0]["survivor_reference"], "PP-2026-001");
    s.call(Some("legal"), "put", &s.path("/api/v1/legal/cases/{C}/hearings/{H}/accompaniment/{S1}"),
        Some(json!({"companions": "Sophea Chan", "transport": "Organisation car", "separate_waiting_room": true}))).await;
    let (_, cal) = s
        .call(Some("legal"), "get", "/api/v1/legal/hearings", None)
        .await;
    assert!(cal["no_contact"].as_array().unwrap().is_empty(), "{cal}");
    let html = browser_login(&s.app, "aftercare")
        .await
        .get(s.app.url("/legal/hearings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("LC-2026-001"));
    let response = browser_login(&s.app, "partner-hagar")
        .await
        .get(s.app.url("/legal/hearings"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

haven_store::test_both_backends!(
    erasure_leaves_nothing_of_her_readable,
    legal_free_text_is_never_stored_in_clear,
    legal_authorization_matrix,
    each_role_sees_its_part_of_the_case,
    a_survivor_who_withdraws_is_never_contacted_again,
    rules_and_bad_input_are_refused_with_the_reason,
    an_interrupted_upload_leaves_nothing,
    tampering_with_a_stored_file_is_detected,
    the_court_bundle_lists_verifiable_hashes,
    outcomes_add_up_in_the_figures,
    no_contact_is_warned_when_she_has_no_separate_room,
    page_forms_are_for_lawyers_and_managers_only,
    page_forms_refuse_bad_input_with_the_reason,
    more_page_forms_are_for_lawyers_and_managers_only,
    more_page_forms_refuse_bad_input_with_the_reason,
    a_stalled_upload_is_abandoned_after_the_idle_time,
);

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Everything the database keeps on disk: the SQLite file and its log, or a PostgreSQL dump.
pub fn database_bytes(app: &TestApp) -> Vec<u8> {
    match app.db.url.sqlite_path() {
        Some(path) => {
            let mut bytes = std::fs::read(&path).unwrap();
            for ext in ["db-wal", "db-journal"] {
                if let Ok(more) = std::fs::read(path.with_extension(ext)) {
                    bytes.extend(more);
                }
            }
            bytes
        }
        None => {
            let output = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(app.db.url.expose())
                .output()
                .expect("pg_dump must be installed to check PostgreSQL at rest");
            assert!(output.status.success());
            output.stdout
        }
    }
}

/// Erasing her record leaves nothing of her readable: her wrapped key is gone from the
/// database file and its log, her medical report no longer downloads and its file is gone,
/// the case shows that she was erased instead of her plans and sessions; an item put on
/// legal hold before is kept, and the answer says so.
async fn erasure_leaves_nothing_of_her_readable(db: TestDb) {
    let s = Session::new(db).await;
    let marker = "Zephyrine-medical-finding-4417";
    let report = format!("Examination notes. {marker}. Signed, Dr. Kim.");
    let her = s.ids["S1"].clone();
    let mut fields: Vec<(&str, &str)> = vec![
        ("kind", "chat_export"),
        ("category", "medical_report"),
        ("survivor_id", &her),
        ("title", "Medical report"),
        ("collected_by", "Dr. Kim"),
        ("collected_at", "2026-01-10"),
        ("collected_where", "Clinic"),
        ("collected_how", "Original handed over"),
    ];
    let (status, destroyed) = s
        .upload(
            Some("legal"),
            &fields,
            "report.txt",
            "text/plain",
            report.as_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{destroyed}");
    let destroyed = destroyed["id"].as_str().unwrap().to_owned();
    fields[1] = ("category", "age_evidence");
    let (status, held) = s
        .upload(
            Some("legal"),
            &fields,
            "age.txt",
            "text/plain",
            b"Birth certificate copy, kept for the court.",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    let held = held["id"].as_str().unwrap().to_owned();
    let (status, hold) = s
        .call(
            Some("legal"),
            "post",
            &format!("/api/v1/legal/evidence/{held}/legal-hold"),
            Some(json!({"reason": "The trial chamber ordered it kept until the verdict."})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    // Her plan for the hearing and a preparation session, about where she stays.
    let (status, _) = s
        .call(
            Some("legal"),
            "put",
            &s.path("/api/v1/legal/cases/{C}/hearings/{H}/accompaniment/{S1}"),
            Some(json!({"companions": "Quillonbright Sokha", "transport": "Pick-up at Quillonbright shelter", "separate_waiting_room": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s
        .call(
            Some("legal"),
            "post",
            &s.path("/api/v1/legal/cases/{C}/sessions"),
            Some(json!({"survivor_id": her, "kind": "preparation", "held_at": "2026-11-20T09:00:00+07:00",
                "staff": "Dara Sok", "covered": "Quillonbright walked her through the questions."})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, before) = s
        .call(
            Some("legal"),
            "get",
            &s.path("/api/v1/legal/cases/{C}"),
            None,
        )
        .await;
    assert!(before.to_string().contains("Quillonbright"), "{before}");
    let her_uuid: uuid::Uuid = her.parse().unwrap();
    let wrapped: Vec<u8> = haven_store::on_pool!(&s.app.db.db, pool => sqlx::query_scalar(
        "SELECT wrapped_key FROM survivor_keys WHERE survivor_id = $1")
        .bind(her_uuid)
        .fetch_one(pool)
        .await
        .unwrap());
    // pg_dump writes binary columns as hex.
    let key_needle: Vec<u8> = match s.app.db.url.sqlite_path() {
        Some(_) => wrapped[8..40].to_vec(),
        None => hex(&wrapped[8..40]).into_bytes(),
    };
    assert!(
        contains(&database_bytes(&s.app), &key_needle),
        "her wrapped key is on disk before the erasure, proving the search works"
    );

    let (status, erased) = s
        .call(
            Some("manager"),
            "post",
            &format!("/api/v1/survivors/{her}/erase"),
            Some(json!({"reason": "She asked for her data to be erased."})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(erased["evidence_destroyed"], json!([destroyed]));
    assert_eq!(erased["evidence_kept_on_legal_hold"], json!([held]));

    // Her medical report no longer downloads; the held item does.
    for path in ["content", "verify", ""] {
        let (status, _) = s
            .call(
                Some("legal"),
                "get",
                format!("/api/v1/legal/evidence/{destroyed}/{path}").trim_end_matches('/'),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, check) = s
        .call(
            Some("legal"),
            "get",
            &format!("/api/v1/legal/evidence/{held}/verify"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(check["intact"], true);
    assert!(!s.app.locker.path_of(destroyed.parse().unwrap()).exists());

    // The case shows that she was erased, not her plans or sessions.
    let (status, file) = s
        .call(
            Some("legal"),
            "get",
            &s.path("/api/v1/legal/cases/{C}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(file["survivors"][0]["erased"], true);
    assert!(file["survivors"][0]["decisions"]
        .as_array()
        .unwrap()
        .is_empty());
    let text = file.to_string();
    assert!(!text.contains("Quillonbright"), "{text}");
    assert!(
        !text.contains(&destroyed),
        "the destroyed item is not listed"
    );
    assert!(text.contains(&held), "the held item is listed");
    assert!(file["hearings"][0]["accompaniment"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["survivor_id"] != her.as_str()));

    // Nothing of hers on disk: not her key, not her name, not the report.
    let key_left: Option<Vec<u8>> = haven_store::on_pool!(&s.app.db.db, pool => sqlx::query_scalar(
        "SELECT wrapped_key FROM survivor_keys WHERE survivor_id = $1")
        .bind(her_uuid)
        .fetch_one(pool)
        .await
        .unwrap());
    assert_eq!(key_left, None);
    let dump = database_bytes(&s.app);
    assert!(dump.len() > 10_000, "the dump holds data");
    assert!(
        !contains(&dump, &key_needle),
        "her wrapped key is still on disk"
    );
    for needle in ["Nguyễn Thị Hoa", "Quillonbright", marker] {
        assert!(!contains(&dump, needle.as_bytes()), "{needle} is on disk");
    }
    let folder = s
        .app
        .locker
        .path_of(held.parse().unwrap())
        .parent()
        .unwrap()
        .to_owned();
    for entry in walk(&folder) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !contains(&bytes, marker.as_bytes()),
            "{} holds the report",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// String properties of the legal request bodies that are legitimately kept in clear, each
/// with the reason.
const CLEAR_LEGAL_FIELDS: &[(&str, &str, &str)] = &[
    (
        "NewCaseBody",
        "reference",
        "the case's own reference, a code used to find it",
    ),
    ("NewCaseBody", "court", "a public institution"),
    (
        "NewCaseBody",
        "prosecutor",
        "a public official named in the court's own record",
    ),
    (
        "NewCaseBody",
        "judge",
        "a public official named in the court's own record",
    ),
    (
        "NewCaseBody",
        "title",
        "NOT YET SEALED: the case title (it can name the accused); listed for a later change",
    ),
    ("NewCaseBody", "intervention_id", "an identifier"),
    ("SuspectBody", "role", "a code (transporter, exploiter...)"),
    (
        "ChargeBody",
        "article",
        "a code: an article of the 2008 law",
    ),
    ("ChargeBody", "suspect_id", "an identifier"),
    ("LinkBody", "survivor_id", "an identifier"),
    ("LinkBody", "capacity", "a code (complainant or witness)"),
    (
        "DecisionBody",
        "decision",
        "a code (takes_part, undecided, withdrawn)",
    ),
    ("DecisionBody", "language", "a language code"),
    ("StageBody", "stage", "a code"),
    ("StageBody", "date", "a date"),
    ("HearingBody", "stage", "a code"),
    ("HearingBody", "starts_at", "a time"),
    ("HearingBody", "ends_at", "a time"),
    (
        "HearingBody",
        "court",
        "a public institution, on the court's own public list",
    ),
    ("HearingBody", "room", "a room of a public court"),
    ("SessionBody", "survivor_id", "an identifier"),
    ("SessionBody", "kind", "a code (preparation or court_visit)"),
    ("SessionBody", "held_at", "a time"),
    ("DeadlineBody", "due_at", "a time"),
    ("OutcomeBody", "suspect_id", "an identifier"),
    ("OutcomeBody", "result", "a code (convicted or acquitted)"),
    ("OutcomeBody", "decided_on", "a date"),
    ("EvidenceUpload", "kind", "a code"),
    ("EvidenceUpload", "category", "a code"),
    ("EvidenceUpload", "survivor_id", "an identifier"),
    ("EvidenceUpload", "signed", "a yes/no flag"),
    ("EvidenceUpload", "stage", "a code"),
    ("EvidenceUpload", "collected_at", "a date"),
    (
        "EvidenceUpload",
        "file",
        "the file itself, encrypted on disk with its own key",
    ),
    ("PhysicalBody", "kind", "a code"),
    ("PhysicalBody", "category", "a code"),
    ("PhysicalBody", "survivor_id", "an identifier"),
    ("PhysicalBody", "stage", "a code"),
    ("PhysicalBody", "collected_at", "a date"),
    ("TransferBody", "to", "a staff member's username"),
    ("BundleBody", "evidence", "identifiers"),
];

/// The string properties of every legal request body in the OpenAPI document, as
/// (schema, property).
fn legal_string_fields(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/legal/") {
            continue;
        }
        for op in item.as_object().unwrap().values() {
            let Some(content) = op["requestBody"]["content"].as_object() else {
                continue;
            };
            for media in content.values() {
                let Some(reference) = media["schema"]["$ref"].as_str() else {
                    continue;
                };
                let name = reference.rsplit('/').next().unwrap();
                let schema = &doc["components"]["schemas"][name];
                for (prop, def) in schema["properties"].as_object().into_iter().flatten() {
                    let is_string = |t: &Value| {
                        t == "string"
                            || t.as_array()
                                .is_some_and(|a| a.iter().any(|x| x == "string"))
                    };
                    let text = is_string(&def["type"])
                        || def["oneOf"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|x| is_string(&x["type"])))
                        || (def["type"] == "array" && is_string(&def["items"]["type"]));
                    if text && !out.contains(&(name.to_owned(), prop.clone())) {
                        out.push((name.to_owned(), prop.clone()));
                    }
                }
            }
        }
    }
    out
}

/// Every free-text field of every legal form is sealed: a unique marker typed into each is
/// nowhere in the raw database. The fields come from the OpenAPI document, so a new one is
/// either marked here or named, with its reason, in `CLEAR_LEGAL_FIELDS`.
async fn legal_free_text_is_never_stored_in_clear(db: TestDb) {
    let s = Session::new(db).await;
    let m = |field: &str| format!("Qx{}Marker", field.replace('_', ""));
    let mut marked: Vec<(&str, &str)> = Vec::new();
    let expect = |status: StatusCode, want: StatusCode, what: &str, body: &Value| {
        assert_eq!(status, want, "{what}: {body}");
    };
    let (st, b) = s
        .call(Some("legal"), "post", &s.path("/api/v1/legal/cases/{C}/suspects"),
            Some(json!({"name": m("suspectname"), "aliases": m("suspectaliases"), "role": "transporter"})))
        .await;
    expect(st, StatusCode::CREATED, "suspect", &b);
    marked.extend([("SuspectBody", "name"), ("SuspectBody", "aliases")]);
    let (st, b) = s
        .call(
            Some("legal"),
            "post",
            &s.path("/api/v1/legal/cases/{C}/survivors/{S1}/decisions"),
            Some(
                json!({"decision": "takes_part", "explained_by": m("explainedby"), "language": "vi",
                "explained": m("explained"), "guardian": m("guardian")}),
            ),
        )
        .await;
    expect(st, StatusCode::CREATED, "decision", &b);
    marked.extend([
        ("DecisionBody", "explained_by"),
        ("DecisionBody", "explained"),
        ("DecisionBody", "guardian"),
    ]);
    let (st, b) = s
        .call(
            Some("legal"),
            "post",
            &s.path("/api/v1/legal/cases/{C}/stages"),
            Some(json!({"stage": "investigation", "date": "2026-11-01", "note": m("stagenote")})),
        )
        .await;
    expect(st, StatusCode::CREATED, "stage", &b);
    marked.push(("StageBody", "note"));
    let (st, b) = s
        .call(Some("legal"), "put", &s.path("/api/v1/legal/cases/{C}/hearings/{H}/accompaniment/{S1}"),
            Some(json!({"companions": m("companions"), "transport": m("transport"), "separate_waiting_room": true})))
        .await;
    expect(st, StatusCode::NO_CONTENT, "accompaniment", &b);
    marked.extend([
        ("AccompanimentBody", "companions"),
        ("AccompanimentBody", "transport"),
    ]);
    let (st, b) = s
        .call(Some("legal"), "post", &s.path("/api/v1/legal/cases/{C}/sessions"),
            Some(json!({"survivor_id": s.ids["S1"], "kind": "preparation", "held_at": "2026-11-20T09:00:00+07:00",
                "staff": m("sessionstaff"), "covered": m("covered")})))
        .await;
    expect(st, StatusCode::CREATED, "session", &b);
    marked.extend([("SessionBody", "staff"), ("SessionBody", "covered")]);
    let (st, b) = s
        .call(
            Some("legal"),
            "post",
            &s.path("/api/v1/legal/cases/{C}/deadlines"),
            Some(json!({"title": m("deadlinetitle"), "due_at": "2027-01-01T00:00:00Z"})),
        )
        .await;
    expect(st, StatusCode::CREATED, "deadline", &b);
    marked.push(("DeadlineBody", "title"));
    let (st, item) = s
        .call(Some("legal"), "post", &s.path("/api/v1/legal/cases/{C}/items"),
            Some(json!({"title": m("itemtitle"), "collected_by": m("itemby"), "collected_where": m("itemwhere"),
                "collected_how": m("itemhow"), "category": "general", "survivor_id": s.ids["S1"]})))
        .await;
    expect(st, StatusCode::CREATED, "physical item", &item);
    marked.extend([
        ("PhysicalBody", "title"),
        ("PhysicalBody", "collected_by"),
        ("PhysicalBody", "collected_where"),
        ("PhysicalBody", "collected_how"),
    ]);
    let (title, by, place, how, name) = (
        m("uptitle"),
        m("upby"),
        m("upwhere"),
        m("uphow"),
        m("upname"),
    );
    let fields = [
        ("kind", "photo"),
        ("title", title.as_str()),
        ("collected_by", by.as_str()),
        ("collected_at", "2026-01-10"),
        ("collected_where", place.as_str()),
        ("collected_how", how.as_str()),
    ];
    let (st, b) = s
        .upload(
            Some("legal"),
            &fields,
            &format!("{name}.png"),
            "image/png",
            &PNG,
        )
        .await;
    expect(st, StatusCode::CREATED, "upload", &b);
    marked.extend([
        ("EvidenceUpload", "title"),
        ("EvidenceUpload", "collected_by"),
        ("EvidenceUpload", "collected_where"),
        ("EvidenceUpload", "collected_how"),
    ]);
    let item_id = item["id"].as_str().unwrap().to_owned();
    let (st, b) = s
        .call(
            Some("legal"),
            "post",
            &format!("/api/v1/legal/evidence/{item_id}/custody"),
            Some(json!({"to": "investigator", "reason": m("custodyreason")})),
        )
        .await;
    expect(st, StatusCode::NO_CONTENT, "custody", &b);
    marked.push(("TransferBody", "reason"));
    let (st, b) = s
        .call(
            Some("legal"),
            "post",
            &format!("/api/v1/legal/evidence/{item_id}/legal-hold"),
            Some(json!({"reason": m("holdreason")})),
        )
        .await;
    expect(st, StatusCode::CREATED, "legal hold", &b);
    marked.push(("LegalHoldBody", "reason"));

    // What was typed reads back to those allowed.
    let (_, file) = s
        .call(
            Some("legal"),
            "get",
            &s.path("/api/v1/legal/cases/{C}"),
            None,
        )
        .await;
    let text = file.to_string();
    for field in [
        "suspectname",
        "explained",
        "stagenote",
        "companions",
        "sessionstaff",
        "covered",
        "deadlinetitle",
        "itemtitle",
        "itemwhere",
        "uptitle",
        "upname",
        "holdreason",
    ] {
        assert!(
            text.contains(&m(field)),
            "{field} does not read back: {text}"
        );
    }

    // No field is forgotten: each is marked above or named as clear, with its reason.
    let (st, doc) = s.call(None, "get", "/api/v1/openapi.json", None).await;
    assert_eq!(st, StatusCode::OK);
    let fields = legal_string_fields(&doc);
    assert!(
        fields.len() > 30,
        "the document lists the legal bodies: {fields:?}"
    );
    let forgotten: Vec<_> = fields
        .iter()
        .filter(|(schema, prop)| {
            !marked.iter().any(|(s, p)| s == schema && p == prop)
                && !CLEAR_LEGAL_FIELDS
                    .iter()
                    .any(|(s, p, _)| s == schema && p == prop)
        })
        .collect();
    assert!(
        forgotten.is_empty(),
        "free-text fields neither sealed nor allowed in clear: {forgotten:?}"
    );

    let dump = database_bytes(&s.app);
    assert!(contains(&dump, b"PP-2026-001"), "the dump is real");
    let mut found = Vec::new();
    for field in [
        "suspectname",
        "suspectaliases",
        "explainedby",
        "explained",
        "guardian",
        "stagenote",
        "companions",
        "transport",
        "sessionstaff",
        "covered",
        "deadlinetitle",
        "itemtitle",
        "itemby",
        "itemwhere",
        "itemhow",
        "uptitle",
        "upby",
        "upwhere",
        "uphow",
        "upname",
        "custodyreason",
        "holdreason",
    ] {
        if contains(&dump, m(field).as_bytes()) {
            found.push(field);
        }
    }
    assert!(found.is_empty(), "stored in clear: {found:?}");
}
