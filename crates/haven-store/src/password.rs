//! Password hashing with Argon2id.
//!
//! Cost is deliberate: about 150 ms and 64 MiB per hash on one core of a small server
//! (m = 65536 KiB, t = 3, p = 1; see `haven bench`), which makes offline guessing of a stolen
//! hash expensive. Hashing runs on the blocking pool, and a semaphore bounds how many run at
//! once, so a burst of logins cannot exhaust memory.

use crate::StoreError;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use haven_core::Password;
use std::sync::Arc;
use tokio::sync::{OnceCell, Semaphore};

/// Argon2id parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashCost {
    /// What a deployment uses.
    pub const STANDARD: HashCost = HashCost {
        memory_kib: 65_536,
        iterations: 3,
        parallelism: 1,
    };
    /// Real Argon2id at the lowest cost the algorithm allows, for test suites that log in
    /// hundreds of times. Never used by `serve` or `demo`.
    pub const MINIMAL: HashCost = HashCost {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };

    fn params(self) -> Result<Params, StoreError> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| StoreError::Config(format!("invalid password hashing cost: {e}")))
    }
}

/// Whether a verified password's stored hash should be replaced (its cost is out of date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    Yes { needs_rehash: bool },
    No,
}

#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the user does not exist, so the
    /// answer for an unknown user takes as long as for a wrong password.
    dummy: Arc<OnceCell<String>>,
}

impl PasswordHasher {
    pub fn new(cost: HashCost) -> Result<PasswordHasher, StoreError> {
        let parallel = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Ok(PasswordHasher {
            params: cost.params()?,
            permits: Arc::new(Semaphore::new(parallel)),
            dummy: Arc::new(OnceCell::new()),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes a password into a PHC string (`$argon2id$v=19$m=...`).
    pub async fn hash(&self, password: &Password) -> Result<String, StoreError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let argon2 = self.argon2();
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| StoreError::Internal(format!("password hashing failed: {e}")))
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }

    /// Verifies a password against a stored hash, or against a dummy hash when there is no
    /// user, so both cases cost the same.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<Verified, StoreError> {
        let (phc, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash().await?, false),
        };
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let argon2 = self.argon2();
        let wanted = self.params.clone();
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&phc).map_err(|e| {
                StoreError::Internal(format!("stored password hash is malformed: {e}"))
            })?;
            let ok = argon2
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
            if !(ok && real) {
                return Ok(Verified::No);
            }
            let current = Params::try_from(&parsed).ok();
            let needs_rehash = parsed.algorithm.as_str() != "argon2id"
                || current.is_none_or(|p| {
                    p.m_cost() != wanted.m_cost()
                        || p.t_cost() != wanted.t_cost()
                        || p.p_cost() != wanted.p_cost()
                });
            Ok(Verified::Yes { needs_rehash })
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }

    async fn dummy_hash(&self) -> Result<String, StoreError> {
        self.dummy
            .get_or_try_init(|| async {
                let random: [u8; 24] = rand::random();
                let secret: String = random.iter().map(|b| format!("{b:02x}")).collect();
                self.hash(&Password::new(secret)).await
            })
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_the_right_password_only() {
        let hasher = PasswordHasher::new(HashCost::MINIMAL).unwrap();
        let hash = hasher
            .hash(&Password::new("lotus river morning"))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert_eq!(
            hasher
                .verify(&Password::new("lotus river morning"), Some(&hash))
                .await
                .unwrap(),
            Verified::Yes {
                needs_rehash: false
            }
        );
        assert_eq!(
            hasher
                .verify(&Password::new("lotus river evening"), Some(&hash))
                .await
                .unwrap(),
            Verified::No
        );
    }

    #[tokio::test]
    async fn unknown_user_is_refused_after_real_work() {
        let hasher = PasswordHasher::new(HashCost::MINIMAL).unwrap();
        assert_eq!(
            hasher
                .verify(&Password::new("anything at all"), None)
                .await
                .unwrap(),
            Verified::No
        );
    }

    #[tokio::test]
    async fn changed_cost_asks_for_rehash() {
        let old = PasswordHasher::new(HashCost::MINIMAL).unwrap();
        let hash = old
            .hash(&Password::new("lotus river morning"))
            .await
            .unwrap();
        let new = PasswordHasher::new(HashCost {
            memory_kib: 16,
            iterations: 2,
            parallelism: 1,
        })
        .unwrap();
        assert_eq!(
            new.verify(&Password::new("lotus river morning"), Some(&hash))
                .await
                .unwrap(),
            Verified::Yes { needs_rehash: true }
        );
    }
}
