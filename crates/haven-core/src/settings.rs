//! Instance settings an administrator can change, with their defaults and bounds.

use crate::identity::TotpPolicy;
use crate::session::SessionPolicy;
use crate::ValidationError;
use chrono::Duration;

/// A known setting. Unknown keys are refused, so a typo cannot silently do nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKey {
    SessionIdleMinutes,
    SessionAbsoluteHours,
    /// Everyone needs a second factor, not only admin, manager and legal.
    TotpRequiredForAll,
    /// Whether the second-factor requirement is enforced at all; off only for demos.
    TotpEnforced,
}

impl SettingKey {
    pub const ALL: [SettingKey; 4] = [
        SettingKey::SessionIdleMinutes,
        SettingKey::SessionAbsoluteHours,
        SettingKey::TotpRequiredForAll,
        SettingKey::TotpEnforced,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            SettingKey::SessionIdleMinutes => "session_idle_minutes",
            SettingKey::SessionAbsoluteHours => "session_absolute_hours",
            SettingKey::TotpRequiredForAll => "totp_required_for_all",
            SettingKey::TotpEnforced => "totp_enforced",
        }
    }

    pub fn parse(input: &str) -> Result<SettingKey, ValidationError> {
        SettingKey::ALL
            .into_iter()
            .find(|k| k.as_str() == input.trim())
            .ok_or_else(|| {
                ValidationError::new(
                    "key",
                    format!(
                        "'{}' is not a setting; known settings: {}",
                        input.trim(),
                        SettingKey::ALL.map(SettingKey::as_str).join(", ")
                    ),
                )
            })
    }

    /// Bounds of a whole-number setting; `None` for yes/no settings.
    const fn bounds(self) -> Option<(i64, i64)> {
        match self {
            SettingKey::SessionIdleMinutes => Some((5, 24 * 60)),
            SettingKey::SessionAbsoluteHours => Some((1, 24 * 7)),
            SettingKey::TotpRequiredForAll | SettingKey::TotpEnforced => None,
        }
    }
}

/// The settings in force: stored values over defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    pub session: SessionPolicy,
    pub totp: TotpPolicy,
}

/// A checked setting value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingValue {
    Number(i64),
    Flag(bool),
}

impl std::fmt::Display for SettingValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingValue::Number(n) => write!(f, "{n}"),
            SettingValue::Flag(b) => write!(f, "{b}"),
        }
    }
}

impl Settings {
    /// Checks a value for a key; returns it normalised (its `Display` is what is stored).
    pub fn validate(key: SettingKey, value: &str) -> Result<SettingValue, ValidationError> {
        let Some((min, max)) = key.bounds() else {
            return match value.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Ok(SettingValue::Flag(true)),
                "false" | "no" | "off" | "0" => Ok(SettingValue::Flag(false)),
                _ => Err(ValidationError::new(
                    "value",
                    format!("{} must be true or false", key.as_str()),
                )),
            };
        };
        let number: i64 = value.trim().parse().map_err(|_| {
            ValidationError::new("value", format!("{} must be a whole number", key.as_str()))
        })?;
        if !(min..=max).contains(&number) {
            return Err(ValidationError::new(
                "value",
                format!("{} must be between {min} and {max}", key.as_str()),
            ));
        }
        Ok(SettingValue::Number(number))
    }

    /// Applies one stored value. Values that no longer validate are ignored (the default
    /// stays), so a bad row cannot lock everyone out.
    pub fn apply(&mut self, key: &str, value: &str) {
        let Ok(key) = SettingKey::parse(key) else {
            return;
        };
        let Ok(value) = Settings::validate(key, value) else {
            return;
        };
        match (key, value) {
            (SettingKey::SessionIdleMinutes, SettingValue::Number(n)) => {
                self.session.idle = Duration::minutes(n);
            }
            (SettingKey::SessionAbsoluteHours, SettingValue::Number(n)) => {
                self.session.absolute = Duration::hours(n);
            }
            (SettingKey::TotpRequiredForAll, SettingValue::Flag(b)) => {
                self.totp.required_for_all = b;
            }
            (SettingKey::TotpEnforced, SettingValue::Flag(b)) => self.totp.enforced = b,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_override_defaults() {
        let mut s = Settings::default();
        s.apply("session_idle_minutes", "15");
        assert_eq!(s.session.idle, Duration::minutes(15));
    }

    #[test]
    fn out_of_range_values_are_refused_and_ignored() {
        let err = Settings::validate(SettingKey::SessionIdleMinutes, "1").unwrap_err();
        assert!(err.message.contains("between 5 and 1440"));
        let mut s = Settings::default();
        s.apply("session_idle_minutes", "999999");
        s.apply("no_such_key", "3");
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn flags_accept_yes_and_no_words() {
        let mut s = Settings::default();
        assert!(s.totp.enforced);
        s.apply("totp_enforced", "off");
        s.apply("totp_required_for_all", "true");
        assert!(!s.totp.enforced);
        assert!(s.totp.required_for_all);
        let err = Settings::validate(SettingKey::TotpEnforced, "maybe").unwrap_err();
        assert!(err.message.contains("true or false"));
        assert_eq!(
            Settings::validate(SettingKey::TotpEnforced, "YES")
                .unwrap()
                .to_string(),
            "true"
        );
    }

    #[test]
    fn unknown_keys_name_the_known_ones() {
        let err = SettingKey::parse("idle").unwrap_err();
        assert!(err.message.contains("session_idle_minutes"));
    }
}
