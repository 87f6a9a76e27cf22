//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Haven API", description = "Casework for anti-trafficking teams. All routes except health and login need a bearer token."),
    paths(
        super::health::healthz,
        super::health::readyz,
        super::auth::login,
        super::auth::logout,
        super::auth::logout_all,
        super::auth::me,
        super::account::list_sessions,
        super::account::revoke_session,
        super::account::totp_state,
        super::account::totp_begin,
        super::account::totp_confirm,
        super::directory::dashboard,
        super::directory::organisations,
        super::directory::users,
        super::survivors::list,
        super::survivors::create,
        super::survivors::read,
        super::survivors::update,
        super::survivors::history,
        super::survivors::break_glass,
        super::survivors::erase,
        super::survivors::share,
        super::survivors::withdraw_share,
        super::survivors::reassign,
        super::survivors::access,
        super::survivors::break_glass_log,
        super::audit::list,
        super::crisis::list,
        super::crisis::create,
        super::crisis::read,
        super::crisis::roster,
        super::crisis::add_shift,
        super::crisis::cancel_shift,
        super::crisis::intake,
        super::crisis::open_episode,
        super::crisis::station,
        super::crisis::episode,
        super::crisis::log,
        super::crisis::safeguard,
        super::crisis::identification,
        super::crisis::placement,
        super::crisis::alerts,
        super::legal::list_cases,
        super::legal::create_case,
        super::legal::read_case,
        super::legal::add_suspect,
        super::legal::add_charge,
        super::legal::link_survivor,
        super::legal::record_decision,
        super::legal::record_stage,
        super::legal::schedule_hearing,
        super::legal::plan_accompaniment,
        super::legal::record_session,
        super::legal::add_deadline,
        super::legal::record_outcome,
        super::legal::upload,
        super::legal::add_physical,
        super::legal::bundle,
        super::legal::bundle_manifest,
        super::legal::read_item,
        super::legal::content,
        super::legal::verify,
        super::legal::transfer,
        super::legal::legal_hold,
        super::legal::calendar,
        super::legal::figures,
        super::referrals::directory,
        super::referrals::partner,
        super::referrals::update_partner,
        super::referrals::set_occupancy,
        super::referrals::matches,
        super::referrals::consents,
        super::referrals::record_consent,
        super::referrals::withdraw_consent,
        super::referrals::placements,
        super::referrals::list,
        super::referrals::create,
        super::referrals::dashboard,
        super::referrals::read,
        super::referrals::step,
        super::referrals::record_service,
        super::referrals::notifications,
        super::referrals::mark_read,
        super::casework::file::read,
        super::casework::plan::read,
        super::casework::plan::save,
        super::casework::services::list,
        super::casework::services::record,
        super::casework::services::read,
        super::casework::follow_ups::list,
        super::casework::follow_ups::add,
        super::casework::follow_ups::complete,
        super::casework::caseload::team_overdue,
        super::casework::follow_ups::schedule,
        super::casework::follow_ups::set_schedule,
        super::casework::caseload::own,
        super::casework::caseload::team,
        super::casework::caseload::worker,
        super::casework::caseload::reassign,
        super::casework::risk::list,
        super::casework::risk::assess,
        super::casework::risk::incidents,
        super::casework::risk::report,
        super::casework::closure::close,
        super::casework::closure::reopen,
        super::casework::notes::list,
        super::casework::notes::add,
        document,
    ),
    modifiers(&BearerAuth, &UniqueOperationIds),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Handlers in different modules share names (`list`, `read`, `create`), and an operation ID
/// must be unique in the document for client generators and fuzzers to accept it: each one is
/// named after its method and path instead (`get_survivors_id_plan`).
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let slug: String = path
                .trim_start_matches("/api/v1/")
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("_");
            for (method, operation) in [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
            ] {
                if let Some(operation) = operation {
                    operation.operation_id = Some(format!("{method}_{slug}"));
                }
            }
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_route_is_documented_and_nothing_else() {
        let doc = ApiDoc::openapi();
        let documented: BTreeSet<(String, String)> = doc
            .paths
            .paths
            .iter()
            .flat_map(|(path, item)| {
                let mut methods = Vec::new();
                if item.get.is_some() {
                    methods.push(("get".to_owned(), path.clone()));
                }
                if item.post.is_some() {
                    methods.push(("post".to_owned(), path.clone()));
                }
                if item.put.is_some() {
                    methods.push(("put".to_owned(), path.clone()));
                }
                if item.patch.is_some() {
                    methods.push(("patch".to_owned(), path.clone()));
                }
                if item.delete.is_some() {
                    methods.push(("delete".to_owned(), path.clone()));
                }
                methods
            })
            .collect();
        let routed: BTreeSet<(String, String)> = crate::api::ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        assert_eq!(documented, routed);
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = ApiDoc::openapi();
        let mut seen = BTreeSet::new();
        for item in doc.paths.paths.values() {
            for operation in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                let id = operation.operation_id.clone().unwrap_or_default();
                assert!(!id.is_empty(), "an operation without an ID");
                assert!(seen.insert(id.clone()), "{id} is used twice");
            }
        }
        assert!(seen.contains("get_survivors_id_plan"), "{seen:?}");
    }

    /// A parameter declared "in path" that is not in the path cannot be sent by any client
    /// or fuzzer that follows the document: query parameters must say so.
    #[test]
    fn every_path_parameter_is_in_its_path_and_query_parameters_are_declared_as_such() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let mut misplaced = Vec::new();
        let mut query = BTreeSet::new();
        for (path, item) in paths {
            for (method, operation) in item.as_object().unwrap() {
                let Some(parameters) = operation["parameters"].as_array() else {
                    continue;
                };
                for parameter in parameters {
                    let name = parameter["name"].as_str().unwrap();
                    match parameter["in"].as_str().unwrap() {
                        "path" if !path.contains(&format!("{{{name}}}")) => {
                            misplaced.push(format!("{method} {path}: {name}"));
                        }
                        "query" => {
                            query.insert(format!("{path}?{name}"));
                        }
                        _ => {}
                    }
                }
            }
        }
        assert!(
            misplaced.is_empty(),
            "declared in path but not in it: {misplaced:#?}"
        );
        for expected in [
            "/api/v1/users?cursor",
            "/api/v1/users?limit",
            "/api/v1/survivors?name",
            "/api/v1/survivors?phone",
            "/api/v1/audit?actor",
            "/api/v1/referrals?cursor",
            "/api/v1/legal/cases?cursor",
        ] {
            assert!(
                query.contains(expected),
                "{expected} is not a query parameter"
            );
        }
    }
}
