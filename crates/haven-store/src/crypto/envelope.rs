//! Data keys and sealed field values.

use super::CryptoError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;
use std::marker::PhantomData;
use uuid::Uuid;
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// A survivor's own data key, in clear only in memory; wiped on drop. The cipher is keyed
/// once, since a record's fields are sealed and opened together (the cipher wipes its copy of
/// the key on drop too).
pub struct DataKey {
    bytes: Zeroizing<[u8; 32]>,
    cipher: XChaCha20Poly1305,
}

impl DataKey {
    pub fn generate() -> DataKey {
        DataKey::from_bytes(rand::random())
    }

    pub(crate) fn from_bytes(bytes: [u8; 32]) -> DataKey {
        let cipher = XChaCha20Poly1305::new((&bytes).into());
        DataKey {
            bytes: Zeroizing::new(bytes),
            cipher,
        }
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Encrypts one field of one record.
    pub fn seal(&self, record: Uuid, field: &str, plaintext: &str) -> Sealed<String> {
        Sealed::new(seal_with(
            &self.cipher,
            &field_aad(record, field),
            plaintext.as_bytes(),
        ))
    }

    /// Decrypts one field; fails if the ciphertext belongs to another record or field, or was
    /// altered.
    pub fn open(
        &self,
        record: Uuid,
        field: &str,
        sealed: &Sealed<String>,
    ) -> Result<String, CryptoError> {
        let bytes = open_with(&self.cipher, &field_aad(record, field), sealed.as_bytes())?;
        String::from_utf8(bytes.to_vec()).map_err(|_| CryptoError::Integrity)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(***)")
    }
}

fn field_aad(record: Uuid, field: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(40 + field.len());
    aad.extend_from_slice(b"haven/field/v1\0");
    aad.extend_from_slice(record.as_bytes());
    aad.extend_from_slice(field.as_bytes());
    aad
}

/// A value encrypted at rest. A different type from its plaintext, so the two cannot be
/// mixed up; `T` records what it opens to.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed<T> {
    bytes: Vec<u8>,
    _plain: PhantomData<T>,
}

impl<T> Sealed<T> {
    pub fn new(bytes: Vec<u8>) -> Sealed<T> {
        Sealed {
            bytes,
            _plain: PhantomData,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

impl<T> fmt::Debug for Sealed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} bytes)", self.bytes.len())
    }
}

/// `version || nonce || ciphertext+tag`, with a fresh random 192-bit nonce (safe to draw at
/// random, unlike 96-bit nonces).
pub(crate) fn seal_bytes(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    seal_with(&XChaCha20Poly1305::new(key.into()), aad, plaintext)
}

fn seal_with(cipher: &XChaCha20Poly1305, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let nonce_bytes: [u8; NONCE_LEN] = rand::random();
    let nonce = XNonce::from_slice(&nonce_bytes);
    // Encryption with a valid key and nonce cannot fail for in-memory buffers; an empty
    // result would still fail to open, never leak.
    let ciphertext = cipher
        .encrypt(
            nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_default();
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
    out.push(VERSION);
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&ciphertext);
    out
}

pub(crate) fn open_bytes(
    key: &[u8; 32],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    open_with(&XChaCha20Poly1305::new(key.into()), aad, sealed)
}

fn open_with(
    cipher: &XChaCha20Poly1305,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
        return Err(CryptoError::Integrity);
    }
    let nonce = XNonce::from_slice(&sealed[1..1 + NONCE_LEN]);
    cipher
        .decrypt(
            nonce,
            Payload {
                msg: &sealed[1 + NONCE_LEN..],
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Integrity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_opens_only_in_its_own_record_and_slot() {
        let key = DataKey::generate();
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let sealed = key.seal(a, "name", "Sreymom Keo");
        assert_eq!(key.open(a, "name", &sealed).unwrap(), "Sreymom Keo");
        assert_eq!(key.open(b, "name", &sealed), Err(CryptoError::Integrity));
        assert_eq!(key.open(a, "aliases", &sealed), Err(CryptoError::Integrity));
        assert_eq!(
            DataKey::generate().open(a, "name", &sealed),
            Err(CryptoError::Integrity)
        );
    }

    #[test]
    fn tampering_is_detected() {
        let key = DataKey::generate();
        let id = Uuid::from_u128(1);
        let mut bytes = key.seal(id, "name", "Lan").into_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            key.open(id, "name", &Sealed::new(bytes)),
            Err(CryptoError::Integrity)
        );
        assert_eq!(
            key.open(id, "name", &Sealed::new(vec![1, 2, 3])),
            Err(CryptoError::Integrity)
        );
    }

    #[test]
    fn equal_values_give_different_ciphertexts() {
        let key = DataKey::generate();
        let id = Uuid::from_u128(1);
        assert_ne!(key.seal(id, "name", "Lan"), key.seal(id, "name", "Lan"));
    }

    #[test]
    fn keys_never_print() {
        assert_eq!(format!("{:?}", DataKey::generate()), "DataKey(***)");
    }
}
