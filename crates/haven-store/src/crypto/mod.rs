//! Field encryption: an envelope scheme with crypto-shredding and blind indexes.
//!
//! - A **key file** (see [`keyfile`]) holds the master wrapping key (plus retired ones after a
//!   rotation) and the blind-index key. It never enters the database.
//! - Each survivor has her own random **data key**, stored only wrapped (encrypted) by the
//!   master key, with her record ID as associated data. Destroying it erases her record for
//!   good: the ciphertext stays, unreadable (crypto-shredding).
//! - Each field is sealed with XChaCha20-Poly1305 under her data key, with her record ID and
//!   the field name as associated data, so a ciphertext copied to another record or field
//!   fails to open instead of showing the wrong person's data.
//! - **Blind indexes** (HMAC-SHA256 of a normalised value under the index key) allow exact
//!   look-ups of names and phone numbers without storing them.

pub mod envelope;
pub mod keyfile;
pub mod registry;

pub use envelope::{DataKey, Sealed};
pub use keyfile::Keyring;

/// Why a cryptographic operation failed. Deliberately vague towards users; precise in logs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the key file cannot be used: {0}")]
    KeyFile(String),
    #[error("no key in the key file can unwrap this record's data key (key {0})")]
    UnknownKey(uuid::Uuid),
    #[error("a ciphertext failed its integrity check (tampered, moved or wrong key)")]
    Integrity,
    #[error("this record was erased")]
    Erased,
}
