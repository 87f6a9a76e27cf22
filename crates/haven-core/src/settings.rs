//! Instance settings an administrator can change, with their defaults and bounds.

use crate::session::SessionPolicy;
use crate::ValidationError;
use chrono::Duration;

/// A known setting. Unknown keys are refused, so a typo cannot silently do nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKey {
    SessionIdleMinutes,
    SessionAbsoluteHours,
}

impl SettingKey {
    pub const ALL: [SettingKey; 2] = [
        SettingKey::SessionIdleMinutes,
        SettingKey::SessionAbsoluteHours,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            SettingKey::SessionIdleMinutes => "session_idle_minutes",
            SettingKey::SessionAbsoluteHours => "session_absolute_hours",
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

    const fn bounds(self) -> (i64, i64) {
        match self {
            SettingKey::SessionIdleMinutes => (5, 24 * 60),
            SettingKey::SessionAbsoluteHours => (1, 24 * 7),
        }
    }
}

/// The settings in force: stored values over defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    pub session: SessionPolicy,
}

impl Settings {
    /// Checks a value for a key; returns it normalised for storage.
    pub fn validate(key: SettingKey, value: &str) -> Result<i64, ValidationError> {
        let (min, max) = key.bounds();
        let number: i64 = value.trim().parse().map_err(|_| {
            ValidationError::new("value", format!("{} must be a whole number", key.as_str()))
        })?;
        if !(min..=max).contains(&number) {
            return Err(ValidationError::new(
                "value",
                format!("{} must be between {min} and {max}", key.as_str()),
            ));
        }
        Ok(number)
    }

    /// Applies one stored value. Values that no longer validate are ignored (the default
    /// stays), so a bad row cannot lock everyone out.
    pub fn apply(&mut self, key: &str, value: &str) {
        let Ok(key) = SettingKey::parse(key) else {
            return;
        };
        let Ok(number) = Settings::validate(key, value) else {
            return;
        };
        match key {
            SettingKey::SessionIdleMinutes => self.session.idle = Duration::minutes(number),
            SettingKey::SessionAbsoluteHours => self.session.absolute = Duration::hours(number),
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
    fn unknown_keys_name_the_known_ones() {
        let err = SettingKey::parse("idle").unwrap_err();
        assert!(err.message.contains("session_idle_minutes"));
    }
}
