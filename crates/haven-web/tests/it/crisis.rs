//! Interventions and crisis care over the API: who may do what, the whole first 48 hours as an
//! aftercare worker would live them, and the refusals a worker would meet.

use crate::browser_crisis::local_input;
use crate::support::{TestApp, DEMO_USERS};
use chrono::{Duration, Utc};
use haven_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Routes covered by this file's matrix rather than the general one.
pub fn is_crisis_route(path: &str) -> bool {
    path.starts_with("/api/v1/interventions")
        || path.starts_with("/api/v1/episodes")
        || path == "/api/v1/alerts"
}

struct Team {
    app: TestApp,
    tokens: HashMap<&'static str, String>,
    users: HashMap<String, String>,
}

impl Team {
    async fn new(db: TestDb) -> Team {
        let app = TestApp::spawn(db).await;
        let mut tokens = HashMap::new();
        for user in DEMO_USERS {
            tokens.insert(user, app.token(user).await);
        }
        let mut team = Team {
            app,
            tokens,
            users: HashMap::new(),
        };
        let (_, list) = team
            .call(Some("admin"), "get", "/api/v1/users?limit=200", None)
            .await;
        for user in list["items"].as_array().unwrap() {
            team.users.insert(
                user["username"].as_str().unwrap().to_owned(),
                user["id"].as_str().unwrap().to_owned(),
            );
        }
        team
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

    /// Calls and insists on `expected`, returning the answer.
    async fn ok(
        &self,
        user: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let (status, answer) = self.call(Some(user), method, path, body).await;
        assert_eq!(
            status.as_u16(),
            expected,
            "{method} {path} as {user}: {answer}"
        );
        answer
    }

    async fn organisation(&self, name: &str) -> String {
        let (_, list) = self
            .call(Some("admin"), "get", "/api/v1/organisations", None)
            .await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn intervention(&self, by: &str, hours_ago: i64) -> String {
        let body = json!({
            "occurred_at": ago(hours_ago),
            "area": "Svay Pak",
            "venue_name": "Golden Star Karaoke",
            "venue_type": "karaoke_bar",
            "police_unit": "AHTJP Phnom Penh",
            "lead_investigator": self.users["investigator"],
            "persons_found": 8,
            "victims_identified": 3,
            "suspects_arrested": 2,
        });
        let created = self
            .ok(by, "post", "/api/v1/interventions", Some(body), 201)
            .await;
        created["id"].as_str().unwrap().to_owned()
    }

    /// Takes a girl in; returns her episode ID.
    async fn intake(
        &self,
        by: &str,
        intervention: &str,
        reference: &str,
        hours_ago: i64,
        fields: Value,
    ) -> String {
        let body = json!({"reference": reference, "rescued_at": ago(hours_ago), "fields": fields});
        let path = format!("/api/v1/interventions/{intervention}/survivors");
        let created = self.ok(by, "post", &path, Some(body), 201).await;
        created["episode_id"].as_str().unwrap().to_owned()
    }
}

fn ago(hours: i64) -> String {
    (Utc::now() - Duration::hours(hours)).to_rfc3339()
}

fn ahead(hours: i64) -> String {
    (Utc::now() + Duration::hours(hours)).to_rfc3339()
}

fn alert_kinds(alerts: &Value) -> Vec<String> {
    alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alert"]["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// Every crisis-care route × every role and no login.
async fn crisis_authorization_matrix(db: TestDb) {
    let team = Team::new(db).await;
    let iv = team.intervention("aftercare", 3).await;
    let episode = team
        .intake("aftercare", &iv, "T-100", 2, json!({"name": "Lan"}))
        .await;
    let (_, survivors) = team
        .call(Some("manager"), "get", "/api/v1/survivors", None)
        .await;
    let s1 = survivors["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["reference"] == "PP-2026-001")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let world_hope = team.organisation("World Hope International").await;
    let callers: Vec<Option<&str>> = std::iter::once(None)
        .chain(DEMO_USERS.iter().map(|u| Some(*u)))
        .collect();
    // Columns: anonymous, admin, investigator, aftercare, aftercare2, legal, manager, auditor,
    // partner-worldhope, partner-hagar. {SHIFT} and {FRESH} are made anew for each call.
    // `aftercare` recorded the intervention, so she leads it and may set its roster; plain
    // aftercare staff (aftercare2) may not. The roster rows come last.
    type Row = (&'static str, &'static str, Option<Value>, [u16; 10]);
    let intervention_body = json!({
        "occurred_at": ago(1), "area": "Tuol Kork", "venue_name": "Room 4", "venue_type": "rented_room",
        "police_unit": "AHTJP", "persons_found": 1, "victims_identified": 1, "suspects_arrested": 0,
    });
    let rows: Vec<Row> = vec![
        (
            "get",
            "/api/v1/interventions",
            None,
            [401, 403, 200, 200, 200, 200, 200, 403, 403, 403],
        ),
        (
            "post",
            "/api/v1/interventions",
            Some(intervention_body),
            [401, 403, 201, 201, 201, 403, 201, 403, 403, 403],
        ),
        (
            "get",
            "/api/v1/interventions/{I}",
            None,
            [401, 403, 200, 200, 200, 200, 200, 403, 403, 403],
        ),
        (
            "get",
            "/api/v1/interventions/not-an-id",
            None,
            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        (
            "post",
            "/api/v1/interventions/{I}/survivors",
            Some(json!({"reference": "REF", "rescued_at": ago(1)})),
            [401, 403, 403, 201, 201, 403, 201, 403, 403, 403],
        ),
        (
            "post",
            "/api/v1/interventions/{I}/episodes",
            Some(json!({"survivor_id": s1, "rescued_at": ago(1)})),
            [401, 403, 403, 201, 404, 403, 403, 403, 403, 403],
        ),
        (
            "get",
            "/api/v1/interventions/{I}/station",
            None,
            [401, 403, 403, 200, 200, 403, 200, 403, 403, 403],
        ),
        (
            "get",
            "/api/v1/episodes/{E}",
            None,
            [401, 403, 403, 200, 404, 403, 200, 403, 403, 403],
        ),
        (
            "post",
            "/api/v1/episodes/{E}/log",
            Some(json!({"kind": "contact"})),
            [401, 403, 403, 204, 404, 403, 403, 403, 403, 403],
        ),
        (
            "post",
            "/api/v1/episodes/{E}/safeguards",
            Some(json!({"safeguard": "not_in_cell", "met": true})),
            [401, 403, 403, 204, 404, 403, 403, 403, 403, 403],
        ),
        (
            "post",
            "/api/v1/episodes/{E}/identification",
            Some(
                json!({"minor_status": "probable", "decision": "pending", "reasons": "Still talking."}),
            ),
            [401, 403, 403, 204, 404, 403, 403, 403, 403, 403],
        ),
        (
            "post",
            "/api/v1/episodes/{FRESH}/placement",
            Some(json!({"partner": world_hope, "service": "assessment_centre"})),
            [401, 403, 403, 204, 404, 403, 204, 403, 403, 403],
        ),
        (
            "get",
            "/api/v1/alerts",
            None,
            [401, 403, 403, 200, 200, 403, 200, 403, 403, 403],
        ),
        (
            "get",
            "/api/v1/interventions/{I}/roster",
            None,
            [401, 403, 403, 200, 200, 403, 200, 403, 403, 403],
        ),
        (
            "post",
            "/api/v1/interventions/{I}/roster",
            Some(json!("SHIFT")),
            [401, 403, 403, 201, 403, 403, 201, 403, 403, 403],
        ),
        (
            "delete",
            "/api/v1/interventions/{I}/roster/{SHIFT}",
            None,
            [401, 403, 403, 204, 403, 403, 204, 403, 403, 403],
        ),
    ];
    let mut counter = 0;
    for (method, template, body, expected) in &rows {
        for (column, caller) in callers.iter().enumerate() {
            counter += 1;
            let mut path = template.replace("{I}", &iv).replace("{E}", &episode);
            if path.contains("{SHIFT}") {
                let shift = json!({"staff": team.users["aftercare"], "starts_at": ahead(100 + counter * 10), "ends_at": ahead(104 + counter * 10)});
                let created = team
                    .ok(
                        "aftercare",
                        "post",
                        &format!("/api/v1/interventions/{iv}/roster"),
                        Some(shift),
                        201,
                    )
                    .await;
                path = path.replace("{SHIFT}", created["id"].as_str().unwrap());
            }
            if path.contains("{FRESH}") {
                let fresh = team
                    .intake("aftercare", &iv, &format!("T-F{counter}"), 1, json!({}))
                    .await;
                path = path.replace("{FRESH}", &fresh);
            }
            let body = match body {
                Some(Value::String(s)) if s == "SHIFT" => Some(json!({
                    "staff": team.users["aftercare2"],
                    "starts_at": ahead(counter * 10),
                    "ends_at": ahead(counter * 10 + 4),
                })),
                Some(Value::Object(map)) if map.get("reference") == Some(&json!("REF")) => {
                    let mut map = map.clone();
                    map.insert("reference".into(), json!(format!("T-N{counter}")));
                    Some(Value::Object(map))
                }
                other => other.clone(),
            };
            let (status, answer) = team.call(*caller, method, &path, body).await;
            assert_eq!(
                status.as_u16(),
                expected[column],
                "{method} {template} as {}: {answer}",
                caller.unwrap_or("anonymous")
            );
        }
    }
    let covered: Vec<(&str, String)> = rows
        .iter()
        .map(|(m, p, _, _)| {
            (
                *m,
                p.replace("{I}", "{id}")
                    .replace("{E}", "{id}")
                    .replace("{FRESH}", "{id}")
                    .replace("{SHIFT}", "{shift_id}"),
            )
        })
        .collect();
    for (method, path) in haven_web::api::ROUTES
        .iter()
        .filter(|(_, p)| is_crisis_route(p))
    {
        assert!(
            covered.iter().any(|(m, p)| m == method && p == path),
            "route {method} {path} is missing from the crisis-care authorization matrix"
        );
    }
}

/// The first 48 hours as an aftercare worker lives them: an intervention, three girls, a
/// roster with a night gap, contacts and a care package, the 48-hour alert, placements.
async fn the_first_48_hours_over_the_api(db: TestDb) {
    let team = Team::new(db).await;
    let iv = team.intervention("investigator", 47).await;
    let hoa = team
        .intake("aftercare", &iv, "TMP-01", 46, json!({"name": "Hoa", "stated_age": "14", "languages": "vi", "interpreter_language": "vi", "sex": "female"}))
        .await;
    let mey = team
        .intake("aftercare", &iv, "TMP-02", 20, json!({"estimated_age": "16", "age_estimate_method": "appearance and school grade", "languages": "km"}))
        .await;
    let srey = team
        .intake(
            "aftercare",
            &iv,
            "TMP-03",
            1,
            json!({"stated_age": "23", "languages": "km"}),
        )
        .await;
    // Day shifts with a night gap from +8 h to +14 h, set by the manager (an investigator
    // recorded the intervention, so it has no aftercare lead).
    let roster = format!("/api/v1/interventions/{iv}/roster");
    for (who, from, to) in [("aftercare", -2, 8), ("aftercare2", 14, 26)] {
        let shift =
            json!({"staff": team.users[who], "starts_at": ahead(from), "ends_at": ahead(to)});
        team.ok("manager", "post", &roster, Some(shift), 201).await;
    }
    let grid = team.ok("aftercare", "get", &roster, None, 200).await;
    // Within the covered day: only the night gap.
    let gaps = grid["hours"].as_array().unwrap()[..24]
        .iter()
        .filter(|h| h["gap"] == true)
        .count();
    assert!(
        (6..=7).contains(&gaps),
        "the night gap shows hour by hour: {gaps}"
    );
    // The alerts: Hoa near 48 hours, nobody has seen any of them, the gap, no Vietnamese.
    let alerts = team
        .ok("aftercare", "get", "/api/v1/alerts", None, 200)
        .await;
    let kinds = alert_kinds(&alerts);
    for kind in [
        "placement_due",
        "no_contact",
        "roster_gap",
        "language_gap",
        "safeguard_missing",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    let due = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alert"]["kind"] == "placement_due")
        .unwrap();
    assert_eq!(due["survivor_reference"], "TMP-01");
    // Contacts and a care package.
    for episode in [&hoa, &mey, &srey] {
        let log = format!("/api/v1/episodes/{episode}/log");
        team.ok(
            "aftercare",
            "post",
            &log,
            Some(json!({"kind": "contact", "note": "Sat with her; she drank some water."})),
            204,
        )
        .await;
        team.ok("aftercare", "post", &log, Some(json!({"kind": "care_package", "items": ["food", "water", "toiletries", "clothing"]})), 204).await;
    }
    let view = team
        .ok(
            "aftercare",
            "get",
            &format!("/api/v1/episodes/{hoa}"),
            None,
            200,
        )
        .await;
    assert_eq!(view["log"].as_array().unwrap().len(), 2);
    assert_eq!(
        view["log"][1]["note"],
        "Sat with her; she drank some water."
    );
    assert_eq!(view["clock"]["state"], "approaching");
    let kinds = alert_kinds(
        &team
            .ok("aftercare", "get", "/api/v1/alerts", None, 200)
            .await,
    );
    assert!(!kinds.iter().any(|k| k == "no_contact"), "{kinds:?}");
    // The station shows each girl with her clock and next step.
    let station = team
        .ok(
            "aftercare",
            "get",
            &format!("/api/v1/interventions/{iv}/station"),
            None,
            200,
        )
        .await;
    let girls = station["girls"].as_array().unwrap();
    assert_eq!(girls.len(), 3);
    assert_eq!(girls[0]["name"], "Hoa");
    assert_eq!(girls[0]["next_step"], "place_now");
    assert_eq!(girls[0]["staff_language_needed"], "vi");
    assert!(girls[0]["time_in_care"]
        .as_str()
        .unwrap()
        .starts_with("46 h"));
    // Screenings, then each girl is placed: the minors at the assessment centre.
    let screen = |minor: &str, decision: &str, exploitation: Value, means: Value| json!({"minor_status": minor, "decision": decision, "exploitation": exploitation, "control_means": means, "reasons": "Interview with a female social worker and an interpreter."});
    team.ok(
        "aftercare",
        "post",
        &format!("/api/v1/episodes/{hoa}/identification"),
        Some(screen(
            "certain",
            "victim",
            json!(["sexual_exploitation"]),
            json!([]),
        )),
        204,
    )
    .await;
    team.ok(
        "aftercare",
        "post",
        &format!("/api/v1/episodes/{mey}/identification"),
        Some(screen(
            "probable",
            "victim",
            json!(["sexual_exploitation"]),
            json!(["debt_bondage"]),
        )),
        204,
    )
    .await;
    team.ok("aftercare", "post", &format!("/api/v1/episodes/{srey}/identification"), Some(json!({"minor_status": "adult", "documents_seen": false, "decision": "victim", "exploitation": ["sexual_exploitation"], "control_means": ["debt_bondage", "withholds_documents"], "reasons": "The owner keeps her ID card and says she owes 800 dollars."})), 204).await;
    let world_hope = team.organisation("World Hope International").await;
    let hagar = team.organisation("Hagar").await;
    for (episode, partner, service) in [
        (&hoa, &world_hope, "assessment_centre"),
        (&mey, &world_hope, "assessment_centre"),
        (&srey, &hagar, "long_term_residential_care"),
    ] {
        team.ok(
            "aftercare",
            "post",
            &format!("/api/v1/episodes/{episode}/placement"),
            Some(json!({"partner": partner, "service": service})),
            204,
        )
        .await;
    }
    let station = team
        .ok(
            "aftercare",
            "get",
            &format!("/api/v1/interventions/{iv}/station"),
            None,
            200,
        )
        .await;
    for girl in station["girls"].as_array().unwrap() {
        assert_eq!(girl["clock"]["state"], "placed", "{girl}");
    }
    assert!(
        station["roster_alerts"].as_array().unwrap().is_empty(),
        "no girl left: no roster alerts"
    );
    let alerts = team
        .ok("aftercare", "get", "/api/v1/alerts", None, 200)
        .await;
    assert!(alerts["items"].as_array().unwrap().is_empty(), "{alerts}");
    let found = team
        .ok(
            "investigator",
            "get",
            &format!("/api/v1/interventions/{iv}"),
            None,
            200,
        )
        .await;
    assert_eq!(found["in_care"], 3);
    assert_eq!(found["awaiting_placement"], 0);
}

/// Each refusal says which field and why, and changes nothing.
async fn bad_input_names_the_field(db: TestDb) {
    let team = Team::new(db).await;
    let iv = team.intervention("aftercare", 5).await;
    let episode = team
        .intake(
            "aftercare",
            &iv,
            "TMP-09",
            4,
            json!({"estimated_age": "15"}),
        )
        .await;
    let hagar = team.organisation("Hagar").await;
    let world_hope = team.organisation("World Hope International").await;
    let cases: Vec<(&str, String, Value, &str)> = vec![
        (
            "post",
            "/api/v1/interventions".into(),
            json!({"occurred_at": ahead(2), "area": "A", "venue_name": "B", "venue_type": "brothel", "police_unit": "C", "persons_found": 1, "victims_identified": 1, "suspects_arrested": 0}),
            "occurred_at",
        ),
        (
            "post",
            "/api/v1/interventions".into(),
            json!({"occurred_at": ago(2), "area": "A", "venue_name": "B", "venue_type": "casino", "police_unit": "C", "persons_found": 1, "victims_identified": 1, "suspects_arrested": 0}),
            "karaoke_bar",
        ),
        (
            "post",
            "/api/v1/interventions".into(),
            json!({"occurred_at": "yesterday", "area": "A"}),
            "occurred_at",
        ),
        (
            "post",
            format!("/api/v1/interventions/{iv}/survivors"),
            json!({"reference": "TMP-10", "rescued_at": ago(1), "fields": {"date_of_birth": "2012-03-01", "stated_age": "19"}}),
            "stated_age",
        ),
        (
            "post",
            format!("/api/v1/interventions/{iv}/survivors"),
            json!({"reference": "TMP-10", "rescued_at": ago(1), "fields": {"date_of_birth": "2031-03-01"}}),
            "date_of_birth",
        ),
        (
            "post",
            format!("/api/v1/interventions/{iv}/survivors"),
            json!({"reference": "TMP-10", "rescued_at": ago(9)}),
            "rescued_at",
        ),
        (
            "post",
            format!("/api/v1/interventions/{iv}/survivors"),
            json!({"reference": "TMP 10 !", "rescued_at": ago(1)}),
            "reference",
        ),
        (
            "post",
            format!("/api/v1/interventions/{iv}/roster"),
            json!({"staff": team.users["aftercare"], "starts_at": ahead(5), "ends_at": ahead(2)}),
            "ends_at",
        ),
        (
            "post",
            format!("/api/v1/interventions/{iv}/roster"),
            json!({"staff": team.users["investigator"], "starts_at": ahead(1), "ends_at": ahead(2)}),
            "staff",
        ),
        (
            "post",
            format!("/api/v1/episodes/{episode}/log"),
            json!({"kind": "contact", "at": ago(6)}),
            "before her rescue",
        ),
        (
            "post",
            format!("/api/v1/episodes/{episode}/log"),
            json!({"kind": "care_package"}),
            "items",
        ),
        (
            "post",
            format!("/api/v1/episodes/{episode}/log"),
            json!({"kind": "nap"}),
            "interpreter_session",
        ),
        (
            "post",
            format!("/api/v1/episodes/{episode}/safeguards"),
            json!({"safeguard": "no_suspect_contact", "met": false}),
            "note",
        ),
        (
            "post",
            format!("/api/v1/episodes/{episode}/placement"),
            json!({"partner": world_hope, "service": "assessment_centre", "placed_at": ago(6)}),
            "placed_at",
        ),
        (
            "post",
            format!("/api/v1/episodes/{episode}/placement"),
            json!({"partner": hagar, "service": "long_term_residential_care"}),
            "assessment centre",
        ),
        (
            "post",
            format!("/api/v1/episodes/{episode}/placement"),
            json!({"partner": hagar, "service": "assessment_centre"}),
            "does not provide",
        ),
        (
            "post",
            format!("/api/v1/episodes/{episode}/identification"),
            json!({"minor_status": "adult", "decision": "pending", "reasons": "Says she is 18."}),
            "treated as a minor",
        ),
    ];
    let (_, before) = team
        .call(Some("manager"), "get", "/api/v1/survivors", None)
        .await;
    for (method, path, body, hint) in cases {
        let (status, answer) = team
            .call(Some("aftercare"), method, &path, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(hint),
            "{path}: '{message}' should mention {hint}"
        );
    }
    let (_, after) = team
        .call(Some("manager"), "get", "/api/v1/survivors", None)
        .await;
    assert_eq!(before, after, "no refused intake left a record behind");
    let view = team
        .ok(
            "aftercare",
            "get",
            &format!("/api/v1/episodes/{episode}"),
            None,
            200,
        )
        .await;
    assert!(view["log"].as_array().unwrap().is_empty());
    assert!(view["placed_at"].is_null());
}

/// Investigators see interventions but never the girls; partners see nothing at all.
async fn compartments_hold_at_the_police_station(db: TestDb) {
    let team = Team::new(db).await;
    let iv = team.intervention("investigator", 3).await;
    let episode = team
        .intake("aftercare", &iv, "TMP-20", 2, json!({"name": "Dara Sok"}))
        .await;
    let found = team
        .ok(
            "investigator",
            "get",
            &format!("/api/v1/interventions/{iv}"),
            None,
            200,
        )
        .await;
    assert_eq!(found["in_care"], 1);
    assert!(
        !found.to_string().contains("Dara"),
        "no survivor detail on an intervention"
    );
    team.ok(
        "investigator",
        "get",
        &format!("/api/v1/interventions/{iv}/station"),
        None,
        403,
    )
    .await;
    team.ok(
        "investigator",
        "get",
        &format!("/api/v1/episodes/{episode}"),
        None,
        403,
    )
    .await;
    let list = team
        .ok("investigator", "get", "/api/v1/survivors", None, 200)
        .await;
    assert!(!list.to_string().contains("TMP-20"));
    for partner in ["partner-worldhope", "partner-hagar"] {
        team.ok(partner, "get", "/api/v1/interventions", None, 403)
            .await;
        let list = team
            .ok(partner, "get", "/api/v1/survivors", None, 200)
            .await;
        assert!(!list.to_string().contains("TMP-20"), "{partner}");
        let found = team
            .ok(
                partner,
                "get",
                "/api/v1/survivors?name=dara%20sok",
                None,
                200,
            )
            .await;
        assert!(found["items"].as_array().unwrap().is_empty(), "{partner}");
    }
    // The manager puts aftercare2 on duty: now she cares for the girl, until the placement.
    let shift =
        json!({"staff": team.users["aftercare2"], "starts_at": ago(1), "ends_at": ahead(6)});
    team.ok(
        "manager",
        "post",
        &format!("/api/v1/interventions/{iv}/roster"),
        Some(shift),
        201,
    )
    .await;
    let view = team
        .ok(
            "aftercare2",
            "get",
            &format!("/api/v1/episodes/{episode}"),
            None,
            200,
        )
        .await;
    assert_eq!(view["reference"], "TMP-20");
}

/// Police-station mode stays light and script-free, and pages keep compartments.
async fn station_pages_are_light_and_compartmented(db: TestDb) {
    let team = Team::new(db).await;
    let iv = team.intervention("investigator", 10).await;
    for n in 1..=12 {
        let fields = json!({"name": format!("Girl {n}"), "stated_age": "15", "languages": "km", "immediate_medical_needs": "Cut on her left hand"});
        team.intake("aftercare", &iv, &format!("TMP-P{n}"), 9, fields)
            .await;
    }
    let aftercare = crate::support::browser_login(&team.app, "aftercare").await;
    let page = aftercare
        .get(team.app.url(&format!("/interventions/{iv}/station")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert_eq!(html.matches("<article class=\"girl").count(), 12);
    assert!(html.len() < 100 * 1024, "the page is {} bytes", html.len());
    for script in html.split("<script").skip(1) {
        let tag = &script[..script.find('>').unwrap()];
        assert!(
            tag.contains("defer") || tag.contains("async"),
            "a blocking script: <script{tag}>"
        );
    }
    assert!(
        html.contains("Cut on her left hand"),
        "her assigned caseworker sees her needs"
    );
    // Investigators see the intervention page but not the station; partners see neither.
    let investigator = crate::support::browser_login(&team.app, "investigator").await;
    let details = investigator
        .get(team.app.url(&format!("/interventions/{iv}")))
        .send()
        .await
        .unwrap();
    assert_eq!(details.status(), StatusCode::OK);
    let details = details.text().await.unwrap();
    assert!(!details.contains("Girl 1") && !details.contains("intake-form"));
    let station = investigator
        .get(team.app.url(&format!("/interventions/{iv}/station")))
        .send()
        .await
        .unwrap();
    assert_eq!(station.status(), StatusCode::NOT_FOUND);
    let partner = crate::support::browser_login(&team.app, "partner-worldhope").await;
    for path in [format!("/interventions/{iv}"), "/interventions".to_owned()] {
        let answer = partner.get(team.app.url(&path)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

/// A refused intake on the form shows the reason and keeps everything that was typed.
async fn a_refused_intake_form_loses_nothing(db: TestDb) {
    let team = Team::new(db).await;
    let iv = team.intervention("aftercare", 5).await;
    let client = crate::support::browser_login(&team.app, "aftercare").await;
    let page = client
        .get(team.app.url(&format!("/interventions/{iv}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::support::csrf_from(&page);
    let answer = client
        .post(team.app.url(&format!("/interventions/{iv}/intake")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reference", "TMP-Q1"),
            ("rescued_at", ""),
            ("name", "Chanthou"),
            ("date_of_birth", "2012-03-01"),
            ("stated_age", "19"),
            (
                "family_contact",
                "Older sister in Kampong Cham, 012 555 101",
            ),
            ("recruitment_factors", "debt"),
            ("recruitment_factors", "family"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let html = answer.text().await.unwrap();
    assert!(html.contains("stated_age"), "the reason names the field");
    for typed in [
        "Chanthou",
        "TMP-Q1",
        "Older sister in Kampong Cham, 012 555 101",
        "2012-03-01",
    ] {
        assert!(html.contains(typed), "{typed} is still in the form");
    }
    assert!(html.contains("value=\"debt\" checked") && html.contains("value=\"family\" checked"));
    let (_, list) = team
        .call(Some("manager"), "get", "/api/v1/survivors", None)
        .await;
    assert!(!list.to_string().contains("TMP-Q1"), "nothing was stored");
}

/// Who may set the roster over the API: the manager and the intervention's lead, never a
/// plain aftercare worker, herself included; nothing is written on a refusal.
async fn only_a_manager_or_the_lead_rosters_over_the_api(db: TestDb) {
    let team = Team::new(db).await;
    let iv = team.intervention("aftercare", 3).await;
    let episode = team
        .intake("aftercare", &iv, "TMP-30", 2, json!({"name": "Hoa"}))
        .await;
    let roster = format!("/api/v1/interventions/{iv}/roster");
    let shift =
        |who: &str| json!({"staff": team.users[who], "starts_at": ago(1), "ends_at": ahead(8)});
    for staff in ["aftercare2", "aftercare"] {
        let answer = team
            .ok("aftercare2", "post", &roster, Some(shift(staff)), 403)
            .await;
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("manager"),
            "{answer}"
        );
    }
    let grid = team.ok("aftercare", "get", &roster, None, 200).await;
    assert!(
        grid["shifts"].as_array().unwrap().is_empty(),
        "nothing written"
    );
    let her = format!("/api/v1/episodes/{episode}");
    team.ok("aftercare2", "get", &her, None, 404).await;
    // The aftercare worker leads only what she recorded.
    let other = team.intervention("investigator", 3).await;
    team.ok(
        "aftercare",
        "post",
        &format!("/api/v1/interventions/{other}/roster"),
        Some(shift("aftercare")),
        403,
    )
    .await;
    // The manager may; so may the lead.
    let by_manager = team
        .ok("manager", "post", &roster, Some(shift("aftercare2")), 201)
        .await;
    let mut lead_shift = shift("aftercare");
    lead_shift["starts_at"] = json!(ahead(8));
    lead_shift["ends_at"] = json!(ahead(16));
    team.ok("aftercare", "post", &roster, Some(lead_shift), 201)
        .await;
    team.ok("aftercare2", "get", &her, None, 200).await;
    let cancel = format!("{roster}/{}", by_manager["id"].as_str().unwrap());
    team.ok("aftercare2", "delete", &cancel, None, 403).await;
    team.ok("aftercare", "delete", &cancel, None, 204).await;
    team.ok("aftercare2", "get", &her, None, 404).await;
}

/// The roster opens the girls only during the shift; during it, crisis care but not her
/// long-term case (no plan, no re-opening her closed case).
async fn the_crisis_grant_holds_only_on_shift_and_only_for_crisis_care(db: TestDb) {
    let team = Team::new(db).await;
    // Her case was closed; she is found again in a raid.
    let created = team
        .ok(
            "aftercare",
            "post",
            "/api/v1/survivors",
            Some(json!({"reference": "CW-070", "fields": {"name": "Chenda"}})),
            201,
        )
        .await;
    let chenda = created["id"].as_str().unwrap().to_owned();
    let today = haven_store::clock::team_today();
    let plan_path = format!("/api/v1/survivors/{chenda}/plan");
    let plan = |version: Value, review: bool| {
        json!({
            "based_on_version": version,
            "started_on": (today - chrono::Days::new(30)).to_string(),
            "is_review": review,
            "areas": [{"area": "psychosocial", "status": "in_progress", "needs": "Sleeps badly."}]
        })
    };
    team.ok(
        "aftercare",
        "post",
        &plan_path,
        Some(plan(Value::Null, false)),
        201,
    )
    .await;
    team.ok(
        "aftercare",
        "post",
        &plan_path,
        Some(plan(json!(1), true)),
        201,
    )
    .await;
    let closure = json!({"closed_on": today.to_string(), "note": "Lives with her aunt",
        "criteria": {"safe_living": true, "income_or_school": true, "final_review": true}});
    team.ok(
        "aftercare",
        "post",
        &format!("/api/v1/survivors/{chenda}/closure"),
        Some(closure),
        201,
    )
    .await;
    let iv = team.intervention("investigator", 72).await;
    let opened = team
        .ok(
            "aftercare",
            "post",
            &format!("/api/v1/interventions/{iv}/episodes"),
            Some(json!({"survivor_id": chenda, "rescued_at": ago(70)})),
            201,
        )
        .await;
    let her = format!("/api/v1/episodes/{}", opened["id"].as_str().unwrap());
    let record = format!("/api/v1/survivors/{chenda}");
    let roster = format!("/api/v1/interventions/{iv}/roster");
    let on = |from: String, to: String| json!({"staff": team.users["aftercare2"], "starts_at": from, "ends_at": to});
    // In two days; ended two days ago; current but cancelled: nothing.
    for (from, to) in [(ahead(48), ahead(56)), (ago(60), ago(48))] {
        team.ok("manager", "post", &roster, Some(on(from, to)), 201)
            .await;
        team.ok("aftercare2", "get", &her, None, 404).await;
        team.ok("aftercare2", "get", &record, None, 404).await;
    }
    let current = team
        .ok("manager", "post", &roster, Some(on(ago(1), ahead(8))), 201)
        .await;
    team.ok("aftercare2", "get", &record, None, 200).await;
    team.ok(
        "manager",
        "delete",
        &format!("{roster}/{}", current["id"].as_str().unwrap()),
        None,
        204,
    )
    .await;
    team.ok("aftercare2", "get", &her, None, 404).await;
    team.ok("aftercare2", "get", &record, None, 404).await;
    // On shift: her record and crisis care, not her case.
    team.ok("manager", "post", &roster, Some(on(ago(1), ahead(8))), 201)
        .await;
    let view = team.ok("aftercare2", "get", &record, None, 200).await;
    assert!(view.to_string().contains("Chenda"), "{view}");
    team.ok(
        "aftercare2",
        "post",
        &format!("{her}/log"),
        Some(json!({"kind": "contact", "note": "Asked for her aunt."})),
        204,
    )
    .await;
    team.ok(
        "aftercare2",
        "post",
        &plan_path,
        Some(plan(json!(2), false)),
        403,
    )
    .await;
    let reopen = format!("/api/v1/survivors/{chenda}/reopen");
    team.ok(
        "aftercare2",
        "post",
        &reopen,
        Some(json!({"reason": "Found again in a raid"})),
        403,
    )
    .await;
    team.ok(
        "aftercare",
        "post",
        &reopen,
        Some(json!({"reason": "Found again in a raid"})),
        204,
    )
    .await;
}

/// On the intervention page a plain aftercare worker finds no roster form, and a roster form
/// posted anyway is refused on the page in words, with nothing written; the lead's works.
async fn the_roster_form_is_for_the_manager_and_the_lead(db: TestDb) {
    let team = Team::new(db).await;
    let iv = team.intervention("aftercare", 3).await;
    let page_of = |client: reqwest::Client| {
        let url = team.app.url(&format!("/interventions/{iv}"));
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let plain = crate::support::browser_login(&team.app, "aftercare2").await;
    let page = page_of(plain.clone()).await;
    assert!(!page.contains("id=\"shift-form\""), "no roster form");
    assert!(page.contains("id=\"roster-locked\""));
    let csrf = crate::support::csrf_from(&page);
    let answer = plain
        .post(team.app.url(&format!("/interventions/{iv}/roster")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("staff", team.users["aftercare2"].as_str()),
            ("starts_at", &local_input(-1)),
            ("ends_at", &local_input(8)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let html = answer.text().await.unwrap();
    // In her language (Lan's account is in Vietnamese): the refusal above the roster, and
    // the same words where the form would be.
    let refusal = "Chỉ người quản lý hoặc nhân viên chăm sóc đã ghi nhận cuộc can thiệp này";
    assert_eq!(
        html.matches(refusal).count(),
        2,
        "the refusal is on the page"
    );
    let grid = team
        .ok(
            "aftercare",
            "get",
            &format!("/api/v1/interventions/{iv}/roster"),
            None,
            200,
        )
        .await;
    assert!(
        grid["shifts"].as_array().unwrap().is_empty(),
        "nothing written"
    );
    // The lead sees the form and her shift is taken.
    let lead = crate::support::browser_login(&team.app, "aftercare").await;
    let page = page_of(lead.clone()).await;
    assert!(page.contains("id=\"shift-form\""));
    let csrf = crate::support::csrf_from(&page);
    let answer = lead
        .post(team.app.url(&format!("/interventions/{iv}/roster")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("staff", team.users["aftercare2"].as_str()),
            ("starts_at", &local_input(-1)),
            ("ends_at", &local_input(8)),
        ])
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_redirection() || answer.status().is_success());
    let grid = team
        .ok(
            "aftercare",
            "get",
            &format!("/api/v1/interventions/{iv}/roster"),
            None,
            200,
        )
        .await;
    assert_eq!(grid["shifts"].as_array().unwrap().len(), 1);
}

/// The checks of one safeguard in her episode, and where it stands, over the API.
async fn safeguard_of(team: &Team, episode: &str, safeguard: &str) -> (usize, Value) {
    let view = team
        .ok(
            "aftercare",
            "get",
            &format!("/api/v1/episodes/{episode}"),
            None,
            200,
        )
        .await;
    let count = view["safeguards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["safeguard"] == safeguard)
        .count();
    let status = view["safeguard_status"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["safeguard"] == safeguard)
        .unwrap()
        .clone();
    (count, status)
}

/// A safeguard tapped again moments later is asked about, not logged twice; the buttons say
/// when and by whom each was last checked, and which are due.
async fn a_repeated_safeguard_tap_is_asked_about_not_duplicated(db: TestDb) {
    let team = Team::new(db).await;
    let iv = team.intervention("aftercare", 5).await;
    let episode = team
        .intake("aftercare", &iv, "TMP-R1", 4, json!({"languages": "km"}))
        .await;
    let path = format!("/api/v1/episodes/{episode}/safeguards");
    // Over the API: never confirmed and due; confirmed once; the repeat answered 409.
    let (count, status) = safeguard_of(&team, &episode, "not_in_cell").await;
    assert_eq!((count, &status["due"]), (0, &json!(true)));
    let confirm = json!({"safeguard": "not_in_cell", "met": true});
    team.ok("aftercare", "post", &path, Some(confirm.clone()), 204)
        .await;
    let answer = team
        .ok("aftercare", "post", &path, Some(confirm.clone()), 409)
        .await;
    assert_eq!(answer["error"]["code"], "already_confirmed");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("by Sophea Chan") && message.contains("\"repeat\": true"),
        "{message}"
    );
    let (count, status) = safeguard_of(&team, &episode, "not_in_cell").await;
    assert_eq!(count, 1, "the repeat wrote nothing");
    assert_eq!(status["due"], false);
    assert_eq!(status["last_met"], true);
    assert_eq!(status["last_by"], "Sophea Chan");
    // Meant as a repeat: recorded. A breach: always recorded.
    let again = json!({"safeguard": "not_in_cell", "met": true, "repeat": true});
    team.ok("aftercare", "post", &path, Some(again), 204).await;
    let breach =
        json!({"safeguard": "not_in_cell", "met": false, "note": "Moved to the holding cell."});
    team.ok("aftercare", "post", &path, Some(breach), 204).await;
    let (count, status) = safeguard_of(&team, &episode, "not_in_cell").await;
    assert_eq!(count, 3);
    assert_eq!(status["last_met"], false);

    // On the station page (in her language, Khmer): each button says where it stands.
    let client = crate::support::browser_login(&team.app, "aftercare").await;
    let station = format!("/interventions/{iv}/station");
    let html = client
        .get(team.app.url(&station))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("បានរាយការណ៍ពីការរំលោភ "), "{html}");
    assert!(html.contains("មិនទាន់បានបញ្ជាក់"));
    assert!(
        html.contains("ត្រូវបញ្ជាក់ឥឡូវនេះ"),
        "an unconfirmed safeguard is due"
    );
    let csrf = crate::support::csrf_from(&html);
    let tap = |repeat: &'static str| {
        client
            .post(team.app.url(&format!("/episodes/{episode}/safeguards")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("back", "station"),
                ("met", "yes"),
                ("safeguard", "no_suspect_contact"),
                ("repeat", repeat),
            ])
            .send()
    };
    let first = tap("").await.unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let (count, status) = safeguard_of(&team, &episode, "no_suspect_contact").await;
    assert_eq!(count, 1);
    let at: chrono::DateTime<Utc> = status["last_at"].as_str().unwrap().parse().unwrap();
    let local = at.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap());
    let html = client
        .get(team.app.url(&station))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let shown = format!(
        "បានបញ្ជាក់ចុងក្រោយ {} ដោយ Sophea Chan",
        local.format("%Y-%m-%d %H:%M")
    );
    assert!(html.contains(&shown), "{shown} not in the page");
    // The second tap asks, and writes nothing.
    let second = tap("").await.unwrap();
    assert_eq!(second.status(), StatusCode::CONFLICT);
    let html = second.text().await.unwrap();
    let asked = format!(
        "ត្រូវបានបញ្ជាក់រួចហើយនៅម៉ោង {} ដោយ Sophea Chan",
        local.format("%H:%M")
    );
    assert!(html.contains(&asked), "{asked} not in the page");
    assert!(html.contains("កត់ត្រាម្តងទៀត") && html.contains("name=\"repeat\" value=\"yes\""));
    assert_eq!(
        safeguard_of(&team, &episode, "no_suspect_contact").await.0,
        1
    );
    // "កត់ត្រាម្តងទៀត" records it.
    assert_eq!(tap("yes").await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(
        safeguard_of(&team, &episode, "no_suspect_contact").await.0,
        2
    );
    // The episode page shows the same.
    let html = client
        .get(team.app.url(&format!("/episodes/{episode}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let list = &html[html.find("id=\"safeguard-status\"").unwrap()..];
    let list = &list[..list.find("</ul>").unwrap()];
    assert!(list.contains("បានរាយការណ៍ពីការរំលោភ ") && list.contains("បានបញ្ជាក់ចុងក្រោយ "));
    assert!(
        list.contains("ត្រូវបញ្ជាក់ឥឡូវនេះ"),
        "female staff never confirmed: due"
    );
}

haven_store::test_both_backends!(
    only_a_manager_or_the_lead_rosters_over_the_api,
    the_crisis_grant_holds_only_on_shift_and_only_for_crisis_care,
    the_roster_form_is_for_the_manager_and_the_lead,
    crisis_authorization_matrix,
    the_first_48_hours_over_the_api,
    bad_input_names_the_field,
    compartments_hold_at_the_police_station,
    station_pages_are_light_and_compartmented,
    a_refused_intake_form_loses_nothing,
    a_repeated_safeguard_tap_is_asked_about_not_duplicated,
);
