//! Passwords: a secret type that never prints, and the policy every new password must meet.

use crate::ValidationError;
use std::fmt;
use zeroize::Zeroizing;

/// A password in clear, held only long enough to hash or verify it. Wiped on drop, never
/// printed: `Debug` shows `Password(***)`, and there is no `Display` or `Serialize`.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    pub fn new(secret: impl Into<String>) -> Password {
        Password(Zeroizing::new(secret.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The shortest password accepted. Long passphrases beat complex short ones (NIST SP 800-63B).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Bounds the work of hashing; no real passphrase is longer.
pub const MAX_PASSWORD_CHARS: usize = 256;

const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Checks a new password against the policy: at least 12 characters, not one of the commonest
/// passwords, not built from the username, not a single repeated character.
pub fn check_password_policy(password: &Password, username: &str) -> Result<(), ValidationError> {
    let secret = password.expose();
    let chars = secret.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(ValidationError::new(
            "password",
            format!("the password must be at least {MIN_PASSWORD_CHARS} characters long"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(ValidationError::new(
            "password",
            format!("the password must be at most {MAX_PASSWORD_CHARS} characters long"),
        ));
    }
    let lowered = secret.to_lowercase();
    if COMMON_PASSWORDS
        .lines()
        .any(|common| !common.is_empty() && common == lowered)
    {
        return Err(ValidationError::new(
            "password",
            "this password is one of the most common and easy to guess; choose another",
        ));
    }
    let username = username.trim().to_lowercase();
    if username.len() >= 3 && lowered.contains(&username) {
        return Err(ValidationError::new(
            "password",
            "the password must not contain the username",
        ));
    }
    let mut distinct = secret.chars().collect::<Vec<_>>();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 4 {
        return Err(ValidationError::new(
            "password",
            "the password needs more variety than a few repeated characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(p: &str) -> Result<(), ValidationError> {
        check_password_policy(&Password::new(p), "sokha")
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check("short1!")
            .unwrap_err()
            .message
            .contains("at least 12"));
    }

    #[test]
    fn common_passwords_are_refused_in_any_case() {
        assert!(check("Password1234")
            .unwrap_err()
            .message
            .contains("most common"));
    }

    #[test]
    fn username_inside_password_is_refused() {
        assert!(check("my-name-is-SOKHA-2026")
            .unwrap_err()
            .message
            .contains("username"));
    }

    #[test]
    fn repeated_characters_are_refused() {
        assert!(check("abababababababab").is_err());
    }

    #[test]
    fn a_passphrase_is_accepted() {
        assert_eq!(check("river lotus morning tea"), Ok(()));
        assert_eq!(check("ផ្កាឈូក និង ទន្លេ"), Ok(()));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert_eq!(
            format!("{:?}", Password::new("hunter2hunter2")),
            "Password(***)"
        );
    }
}
