//! Who is acting, and from where: recorded with every audited change.

use crate::{Roles, UserId};

/// The party performing an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in staff member.
    User { id: UserId, roles: Roles },
    /// An operator at the command line, or Haven itself (migrations, demo data); the string
    /// names the command, e.g. `cli:user add`.
    System(&'static str),
}

impl Actor {
    /// The user's ID, when a user is acting.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User { id, .. } => Some(*id),
            Actor::System(_) => None,
        }
    }

    /// A stable label for the audit log: the user ID or `system:<what>`.
    pub fn label(&self) -> String {
        match self {
            Actor::User { id, .. } => id.to_string(),
            Actor::System(what) => format!("system:{what}"),
        }
    }
}

/// The circumstances of a request, carried from the edge to the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub actor: Actor,
    /// The client's network address, when known.
    pub client_addr: Option<String>,
    /// The request ID shown to the user on errors, so a log line can be matched to it.
    pub request_id: Option<String>,
}

impl RequestContext {
    /// A context for work done by Haven itself or an operator's command.
    pub fn system(what: &'static str) -> RequestContext {
        RequestContext {
            actor: Actor::System(what),
            client_addr: None,
            request_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_actor() {
        assert_eq!(
            RequestContext::system("cli:migrate").actor.label(),
            "system:cli:migrate"
        );
        let id = UserId::from_uuid(uuid::Uuid::from_u128(7));
        let actor = Actor::User {
            id,
            roles: Roles::parse_list("auditor").unwrap(),
        };
        assert_eq!(actor.label(), id.to_string());
        assert_eq!(actor.user_id(), Some(id));
    }
}
