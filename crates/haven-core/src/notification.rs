//! What an in-app notification can say. Every kind the store writes is one of these, and the
//! pages name each one in every language, so a notification can never show a raw key.

use crate::referral::ReferralStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    ReferralSent,
    ReferralAccepted,
    ReferralDeclined,
    ReferralAdmitted,
    ReferralDischarged,
    ReferralWithdrawn,
    /// A partner recorded a service for her.
    ReferralService,
    /// To a partner: her consent to share with it was withdrawn.
    ConsentWithdrawn,
    /// To her caseworkers: she is in a partner's care without consent to share with it.
    InCareWithoutConsent,
    /// To the partner caring for her: her consent was withdrawn while she is in its care.
    ConsentWithdrawnInCare,
    /// To her organisation's managers: an incident was reported on her case.
    IncidentReported,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 11] = [
        NotificationKind::ReferralSent,
        NotificationKind::ReferralAccepted,
        NotificationKind::ReferralDeclined,
        NotificationKind::ReferralAdmitted,
        NotificationKind::ReferralDischarged,
        NotificationKind::ReferralWithdrawn,
        NotificationKind::ReferralService,
        NotificationKind::ConsentWithdrawn,
        NotificationKind::InCareWithoutConsent,
        NotificationKind::ConsentWithdrawnInCare,
        NotificationKind::IncidentReported,
    ];

    /// The stored name (kept as it was before kinds were typed, so old rows still read).
    pub const fn as_str(self) -> &'static str {
        match self {
            NotificationKind::ReferralSent => "referral.sent",
            NotificationKind::ReferralAccepted => "referral.accepted",
            NotificationKind::ReferralDeclined => "referral.declined",
            NotificationKind::ReferralAdmitted => "referral.admitted",
            NotificationKind::ReferralDischarged => "referral.discharged",
            NotificationKind::ReferralWithdrawn => "referral.withdrawn",
            NotificationKind::ReferralService => "referral.service",
            NotificationKind::ConsentWithdrawn => "consent.withdrawn",
            NotificationKind::InCareWithoutConsent => "referral.in_care_without_consent",
            NotificationKind::ConsentWithdrawnInCare => "referral.consent_withdrawn",
            NotificationKind::IncidentReported => "incident.reported",
        }
    }

    pub fn parse(stored: &str) -> Option<NotificationKind> {
        NotificationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == stored)
    }

    /// The notification a referral's move to `status` sends; a draft sends none.
    pub const fn for_referral(status: ReferralStatus) -> Option<NotificationKind> {
        match status {
            ReferralStatus::Draft => None,
            ReferralStatus::Sent => Some(NotificationKind::ReferralSent),
            ReferralStatus::Accepted => Some(NotificationKind::ReferralAccepted),
            ReferralStatus::Declined => Some(NotificationKind::ReferralDeclined),
            ReferralStatus::Admitted => Some(NotificationKind::ReferralAdmitted),
            ReferralStatus::Discharged => Some(NotificationKind::ReferralDischarged),
            ReferralStatus::Withdrawn => Some(NotificationKind::ReferralWithdrawn),
        }
    }

    /// Whether it is about her record (linked to her file) rather than a referral.
    pub const fn about_her_record(self) -> bool {
        matches!(self, NotificationKind::IncidentReported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_name() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(NotificationKind::parse("referral.unknown"), None);
        for status in ReferralStatus::ALL {
            if let Some(kind) = NotificationKind::for_referral(status) {
                assert_eq!(kind.as_str(), format!("referral.{}", status.as_str()));
            }
        }
    }
}
