//! Haven's domain: the types, validation and rules that every other crate relies on.
//!
//! This crate is pure: no I/O, no async, no SQL, no clock. Values are parsed once at the edge
//! (`Username::parse`, `Role::parse`, ...) so an invalid value cannot exist past it.

pub mod actor;
pub mod audit;
pub mod casework;
pub mod crisis;
pub mod error;
pub mod identification;
pub mod identity;
pub mod ids;
pub mod intervention;
pub mod legal;
pub mod locale;
pub mod matching;
pub mod nav;
pub mod notification;
pub mod org;
pub mod partner;
pub mod password;
pub mod policy;
pub mod referral;
pub mod role;
pub mod session;
pub mod settings;
pub mod survivor;
pub mod throttle;
pub mod user;

pub use actor::{Actor, RequestContext};
pub use error::ValidationError;
pub use identity::TotpPolicy;
pub use ids::{EpisodeId, InterventionId, OrgId, SessionId, ShiftId, SurvivorId, UserId};
pub use locale::Locale;
pub use org::{OrgKind, OrgName};
pub use partner::PartnerService;
pub use password::{check_password_policy, Password};
pub use role::{Role, Roles};
pub use session::{SessionEnd, SessionPolicy};
pub use settings::{SettingKey, SettingValue, Settings};
pub use survivor::{FieldClass, Reference, SurvivorField};
pub use throttle::{RecentFailures, ThrottlePolicy};
pub use user::{DisplayName, Username};
