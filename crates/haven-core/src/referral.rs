//! A referral's life: draft → sent → accepted / declined (with a reason) → admitted →
//! discharged (with an outcome), or withdrawn by the referring side before admission.
//!
//! Each step belongs to one side: the referring organisation drafts, sends and withdraws;
//! the partner accepts, declines, admits and discharges.

use crate::ValidationError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    Draft,
    Sent,
    Accepted,
    Declined,
    Admitted,
    Discharged,
    Withdrawn,
}

impl ReferralStatus {
    pub const ALL: [ReferralStatus; 7] = [
        ReferralStatus::Draft,
        ReferralStatus::Sent,
        ReferralStatus::Accepted,
        ReferralStatus::Declined,
        ReferralStatus::Admitted,
        ReferralStatus::Discharged,
        ReferralStatus::Withdrawn,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ReferralStatus::Draft => "draft",
            ReferralStatus::Sent => "sent",
            ReferralStatus::Accepted => "accepted",
            ReferralStatus::Declined => "declined",
            ReferralStatus::Admitted => "admitted",
            ReferralStatus::Discharged => "discharged",
            ReferralStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(input: &str) -> Result<ReferralStatus, ValidationError> {
        ReferralStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == input.trim())
            .ok_or_else(|| {
                ValidationError::new(
                    "status",
                    format!(
                        "'{}' is not a referral status; choose from: {}",
                        input.trim(),
                        ReferralStatus::ALL.map(ReferralStatus::as_str).join(", ")
                    ),
                )
            })
    }

    /// Still waiting for something to happen (not declined, discharged or withdrawn).
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            ReferralStatus::Draft
                | ReferralStatus::Sent
                | ReferralStatus::Accepted
                | ReferralStatus::Admitted
        )
    }
}

/// Why a partner declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    NoCapacity,
    OutsideMandate,
    NeedsNotMet,
    SafetyConcern,
    Other,
}

impl DeclineReason {
    pub const ALL: [DeclineReason; 5] = [
        DeclineReason::NoCapacity,
        DeclineReason::OutsideMandate,
        DeclineReason::NeedsNotMet,
        DeclineReason::SafetyConcern,
        DeclineReason::Other,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DeclineReason::NoCapacity => "no_capacity",
            DeclineReason::OutsideMandate => "outside_mandate",
            DeclineReason::NeedsNotMet => "needs_not_met",
            DeclineReason::SafetyConcern => "safety_concern",
            DeclineReason::Other => "other",
        }
    }

    pub fn parse(input: &str) -> Result<DeclineReason, ValidationError> {
        DeclineReason::ALL
            .into_iter()
            .find(|s| s.as_str() == input.trim())
            .ok_or_else(|| {
                ValidationError::new(
                    "reason",
                    format!(
                        "say why the referral is declined; choose from: {}",
                        DeclineReason::ALL.map(DeclineReason::as_str).join(", ")
                    ),
                )
            })
    }
}

/// How a stay or service ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DischargeOutcome {
    /// Back in the community, safely.
    Reintegrated,
    /// Moved on to another partner (a transfer).
    Transferred,
    /// Finished the programme.
    Completed,
    /// Left care without agreement (ran away, taken by family).
    LeftCare,
    Other,
}

impl DischargeOutcome {
    pub const ALL: [DischargeOutcome; 5] = [
        DischargeOutcome::Reintegrated,
        DischargeOutcome::Transferred,
        DischargeOutcome::Completed,
        DischargeOutcome::LeftCare,
        DischargeOutcome::Other,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DischargeOutcome::Reintegrated => "reintegrated",
            DischargeOutcome::Transferred => "transferred",
            DischargeOutcome::Completed => "completed",
            DischargeOutcome::LeftCare => "left_care",
            DischargeOutcome::Other => "other",
        }
    }

    pub fn parse(input: &str) -> Result<DischargeOutcome, ValidationError> {
        DischargeOutcome::ALL
            .into_iter()
            .find(|s| s.as_str() == input.trim())
            .ok_or_else(|| {
                ValidationError::new(
                    "outcome",
                    format!(
                        "say how her stay ended; choose from: {}",
                        DischargeOutcome::ALL
                            .map(DischargeOutcome::as_str)
                            .join(", ")
                    ),
                )
            })
    }
}

/// Why the referring side withdrew a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawReason {
    /// She does not want to go to this partner: matching will exclude it from now on.
    SheDeclined,
    ConsentWithdrawn,
    NeedsChanged,
    PlacedElsewhere,
    Other,
}

impl WithdrawReason {
    pub const ALL: [WithdrawReason; 5] = [
        WithdrawReason::SheDeclined,
        WithdrawReason::ConsentWithdrawn,
        WithdrawReason::NeedsChanged,
        WithdrawReason::PlacedElsewhere,
        WithdrawReason::Other,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            WithdrawReason::SheDeclined => "she_declined",
            WithdrawReason::ConsentWithdrawn => "consent_withdrawn",
            WithdrawReason::NeedsChanged => "needs_changed",
            WithdrawReason::PlacedElsewhere => "placed_elsewhere",
            WithdrawReason::Other => "other",
        }
    }

    pub fn parse(input: &str) -> Result<WithdrawReason, ValidationError> {
        WithdrawReason::ALL
            .into_iter()
            .find(|s| s.as_str() == input.trim())
            .ok_or_else(|| {
                ValidationError::new(
                    "reason",
                    format!(
                        "say why the referral is withdrawn; choose from: {}",
                        WithdrawReason::ALL.map(WithdrawReason::as_str).join(", ")
                    ),
                )
            })
    }
}

/// A step in a referral's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralEvent {
    Send,
    Accept,
    Decline(DeclineReason),
    Admit,
    Discharge(DischargeOutcome),
    Withdraw(WithdrawReason),
}

/// Which side of a referral acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The organisation that refers her (its caseworkers and managers).
    Referrer,
    /// The partner organisation she is referred to.
    Partner,
}

impl ReferralEvent {
    pub const fn name(self) -> &'static str {
        match self {
            ReferralEvent::Send => "send",
            ReferralEvent::Accept => "accept",
            ReferralEvent::Decline(_) => "decline",
            ReferralEvent::Admit => "admit",
            ReferralEvent::Discharge(_) => "discharge",
            ReferralEvent::Withdraw(_) => "withdraw",
        }
    }

    /// The side that may take this step.
    pub const fn side(self) -> Side {
        match self {
            ReferralEvent::Send | ReferralEvent::Withdraw(_) => Side::Referrer,
            _ => Side::Partner,
        }
    }

    /// Parses an action name with its detail (`reason` for decline and withdraw, `outcome`
    /// for discharge).
    pub fn parse(action: &str, detail: Option<&str>) -> Result<ReferralEvent, ValidationError> {
        let detail = detail.unwrap_or("");
        match action.trim() {
            "send" => Ok(ReferralEvent::Send),
            "accept" => Ok(ReferralEvent::Accept),
            "decline" => DeclineReason::parse(detail).map(ReferralEvent::Decline),
            "admit" => Ok(ReferralEvent::Admit),
            "discharge" => DischargeOutcome::parse(detail).map(ReferralEvent::Discharge),
            "withdraw" => WithdrawReason::parse(detail).map(ReferralEvent::Withdraw),
            other => Err(ValidationError::new(
                "action",
                format!(
                    "'{other}' is not a referral step; choose send, accept, decline, admit, discharge or withdraw"
                ),
            )),
        }
    }
}

/// A step that cannot be taken now, in words for the person who tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionError {
    pub message: String,
}

/// The status after `event`, when `side` may take it from `status`.
pub fn transition(
    status: ReferralStatus,
    event: ReferralEvent,
    side: Side,
) -> Result<ReferralStatus, TransitionError> {
    use ReferralStatus::*;
    if event.side() != side {
        return Err(TransitionError {
            message: match side {
                Side::Referrer => format!(
                    "only the partner organisation can {} this referral",
                    event.name()
                ),
                Side::Partner => format!(
                    "only the referring caseworker can {} this referral",
                    event.name()
                ),
            },
        });
    }
    let next = match (status, event) {
        (Draft, ReferralEvent::Send) => Sent,
        (Sent, ReferralEvent::Accept) => Accepted,
        (Sent, ReferralEvent::Decline(_)) => Declined,
        (Accepted, ReferralEvent::Admit) => Admitted,
        (Admitted, ReferralEvent::Discharge(_)) => Discharged,
        (Draft | Sent | Accepted, ReferralEvent::Withdraw(_)) => Withdrawn,
        (Admitted, ReferralEvent::Admit) => {
            return Err(TransitionError {
                message: "she is already admitted on this referral".to_owned(),
            })
        }
        (from, event) => {
            return Err(TransitionError {
                message: format!(
                    "a referral that is {} cannot be {}",
                    from.as_str(),
                    past(event)
                ),
            })
        }
    };
    Ok(next)
}

fn past(event: ReferralEvent) -> &'static str {
    match event {
        ReferralEvent::Send => "sent",
        ReferralEvent::Accept => "accepted",
        ReferralEvent::Decline(_) => "declined",
        ReferralEvent::Admit => "admitted",
        ReferralEvent::Discharge(_) => "discharged",
        ReferralEvent::Withdraw(_) => "withdrawn",
    }
}

/// Who co-signs a minor's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CosignerRole {
    Guardian,
    SocialAffairsOfficer,
}

impl CosignerRole {
    pub const fn as_str(self) -> &'static str {
        match self {
            CosignerRole::Guardian => "guardian",
            CosignerRole::SocialAffairsOfficer => "social_affairs_officer",
        }
    }

    pub fn parse(input: &str) -> Result<CosignerRole, ValidationError> {
        match input.trim() {
            "guardian" => Ok(CosignerRole::Guardian),
            "social_affairs_officer" => Ok(CosignerRole::SocialAffairsOfficer),
            _ => Err(ValidationError::new(
                "cosigner_role",
                "must be guardian or social_affairs_officer",
            )),
        }
    }
}

/// Checks the co-signature rule: a minor's consent needs a guardian or a social-affairs
/// officer who co-signs, named.
pub fn check_cosigner(
    minor: bool,
    cosigner: Option<(CosignerRole, &str)>,
) -> Result<(), ValidationError> {
    match cosigner {
        None if minor => Err(ValidationError::new(
            "cosigner_name",
            "she is a minor: a guardian or a social-affairs officer must co-sign her consent; give their name",
        )),
        Some((_, name)) if name.trim().chars().count() < 2 => Err(ValidationError::new(
            "cosigner_name",
            "give the full name of the person who co-signs",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReferralStatus::*;

    #[test]
    fn the_whole_table_of_steps() {
        let decline = ReferralEvent::Decline(DeclineReason::NoCapacity);
        let discharge = ReferralEvent::Discharge(DischargeOutcome::Transferred);
        let withdraw = ReferralEvent::Withdraw(WithdrawReason::SheDeclined);
        let events = [
            ReferralEvent::Send,
            ReferralEvent::Accept,
            decline,
            ReferralEvent::Admit,
            discharge,
            withdraw,
        ];
        // Expected next status per (from, event); None = refused.
        let table: [(ReferralStatus, [Option<ReferralStatus>; 6]); 7] = [
            (Draft, [Some(Sent), None, None, None, None, Some(Withdrawn)]),
            (
                Sent,
                [
                    None,
                    Some(Accepted),
                    Some(Declined),
                    None,
                    None,
                    Some(Withdrawn),
                ],
            ),
            (
                Accepted,
                [None, None, None, Some(Admitted), None, Some(Withdrawn)],
            ),
            (Declined, [None; 6]),
            (Admitted, [None, None, None, None, Some(Discharged), None]),
            (Discharged, [None; 6]),
            (Withdrawn, [None; 6]),
        ];
        for (from, expected) in table {
            for (event, want) in events.into_iter().zip(expected) {
                let got = transition(from, event, event.side()).ok();
                assert_eq!(got, want, "{from:?} + {event:?}");
            }
        }
    }

    #[test]
    fn each_side_takes_only_its_own_steps() {
        let err = transition(Sent, ReferralEvent::Accept, Side::Referrer).unwrap_err();
        assert_eq!(
            err.message,
            "only the partner organisation can accept this referral"
        );
        let err = transition(Draft, ReferralEvent::Send, Side::Partner).unwrap_err();
        assert_eq!(
            err.message,
            "only the referring caseworker can send this referral"
        );
    }

    #[test]
    fn refusals_say_why() {
        let err = transition(Admitted, ReferralEvent::Admit, Side::Partner).unwrap_err();
        assert_eq!(err.message, "she is already admitted on this referral");
        let err = transition(Declined, ReferralEvent::Accept, Side::Partner).unwrap_err();
        assert_eq!(
            err.message,
            "a referral that is declined cannot be accepted"
        );
    }

    #[test]
    fn steps_parse_with_their_detail() {
        assert_eq!(
            ReferralEvent::parse("decline", Some("no_capacity")).unwrap(),
            ReferralEvent::Decline(DeclineReason::NoCapacity)
        );
        assert_eq!(
            ReferralEvent::parse("decline", None).unwrap_err().field,
            "reason"
        );
        assert_eq!(
            ReferralEvent::parse("discharge", Some("x"))
                .unwrap_err()
                .field,
            "outcome"
        );
        assert_eq!(
            ReferralEvent::parse("fly", None).unwrap_err().field,
            "action"
        );
        assert!(Sent.is_open() && !Declined.is_open());
        assert_eq!(ReferralStatus::parse("admitted").unwrap(), Admitted);
    }

    #[test]
    fn a_minors_consent_needs_a_cosigner() {
        assert!(check_cosigner(true, None).is_err());
        assert!(check_cosigner(true, Some((CosignerRole::Guardian, " "))).is_err());
        assert!(check_cosigner(true, Some((CosignerRole::SocialAffairsOfficer, "Mr Sok"))).is_ok());
        assert!(check_cosigner(false, None).is_ok());
        assert_eq!(
            CosignerRole::parse("social_affairs_officer").unwrap(),
            CosignerRole::SocialAffairsOfficer
        );
    }
}
