//! The key file: the master wrapping key (current, plus retired ones after a rotation) and the
//! blind-index key. Created with mode 0600 by `haven keys init`; refused if others can read it.
//!
//! ```text
//! haven-keyring v1
//! index <uuid> <base64 key>
//! master <uuid> <base64 key>     <- the first master key wraps new data keys
//! retired <uuid> <base64 key>    <- still unwraps data keys not yet re-wrapped
//! ```

use super::envelope::{open_bytes, seal_bytes, DataKey};
use super::CryptoError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::io::Write;
use std::path::Path;
use uuid::Uuid;
use zeroize::Zeroizing;

const HEADER: &str = "haven-keyring v1";

#[derive(Clone)]
pub struct Key {
    pub id: Uuid,
    bytes: Zeroizing<[u8; 32]>,
}

impl Key {
    fn generate() -> Key {
        Key {
            id: Uuid::now_v7(),
            bytes: Zeroizing::new(rand::random()),
        }
    }

    /// A key check value: proves at start-up that this is the key the database was encrypted
    /// with, without revealing the key, so a wrong key is caught before it garbles anything.
    pub fn check_value(&self) -> Vec<u8> {
        hmac(&self.bytes, b"haven key check v1")[..16].to_vec()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}, ***)", self.id)
    }
}

fn hmac(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; 32 bytes cannot be refused.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// All keys of one deployment.
#[derive(Clone)]
pub struct Keyring {
    index: Key,
    current: Key,
    retired: Vec<Key>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Keyring(current {}, {} retired, index {})",
            self.current.id,
            self.retired.len(),
            self.index.id
        )
    }
}

impl Keyring {
    pub fn generate() -> Keyring {
        Keyring {
            index: Key::generate(),
            current: Key::generate(),
            retired: Vec::new(),
        }
    }

    /// A new keyring with a fresh current key; the old current key is kept as retired so data
    /// keys not yet re-wrapped still open. The index key stays (indexes need no rework).
    pub fn rotated(&self) -> Keyring {
        let mut retired = vec![self.current.clone()];
        retired.extend(self.retired.iter().cloned());
        Keyring {
            index: self.index.clone(),
            current: Key::generate(),
            retired,
        }
    }

    pub fn current(&self) -> &Key {
        &self.current
    }

    pub fn index(&self) -> &Key {
        &self.index
    }

    /// Every wrapping key, current first.
    pub fn wrapping_keys(&self) -> impl Iterator<Item = &Key> {
        std::iter::once(&self.current).chain(self.retired.iter())
    }

    /// Wraps a survivor's data key under the current master key, bound to her record ID.
    pub fn wrap(&self, data_key: &DataKey, record: Uuid) -> (Uuid, Vec<u8>) {
        (
            self.current.id,
            seal_bytes(&self.current.bytes, &wrap_aad(record), data_key.bytes()),
        )
    }

    /// Unwraps a data key with whichever key of the ring wrapped it.
    pub fn unwrap(
        &self,
        key_id: Uuid,
        wrapped: &[u8],
        record: Uuid,
    ) -> Result<DataKey, CryptoError> {
        let key = self
            .wrapping_keys()
            .find(|k| k.id == key_id)
            .ok_or(CryptoError::UnknownKey(key_id))?;
        let bytes = open_bytes(&key.bytes, &wrap_aad(record), wrapped)?;
        let array: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Integrity)?;
        Ok(DataKey::from_bytes(array))
    }

    /// Seals a small account secret (such as a TOTP secret) directly under the current master
    /// key, bound to its purpose and owner, so a sealed value copied to another row or column
    /// does not open. Returns the key's ID, needed to open it after a rotation.
    pub fn seal_secret(&self, purpose: &str, owner: Uuid, plaintext: &[u8]) -> (Uuid, Vec<u8>) {
        (
            self.current.id,
            seal_bytes(&self.current.bytes, &secret_aad(purpose, owner), plaintext),
        )
    }

    /// Opens what `seal_secret` sealed, with whichever key of the ring sealed it.
    pub fn open_secret(
        &self,
        key_id: Uuid,
        purpose: &str,
        owner: Uuid,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let key = self
            .wrapping_keys()
            .find(|k| k.id == key_id)
            .ok_or(CryptoError::UnknownKey(key_id))?;
        open_bytes(&key.bytes, &secret_aad(purpose, owner), sealed)
    }

    /// A blind index: the keyed hash of a normalised value, for exact look-ups. `kind`
    /// separates domains, so a name never matches a phone number.
    pub fn blind_index(&self, kind: &str, normalised: &str) -> Vec<u8> {
        let mut message = Vec::with_capacity(kind.len() + 1 + normalised.len());
        message.extend_from_slice(kind.as_bytes());
        message.push(0);
        message.extend_from_slice(normalised.as_bytes());
        hmac(&self.index.bytes, &message).to_vec()
    }

    fn render(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::new());
        text.push_str(
            "# Haven key file. Keep it secret, and back it up apart from the database:\n",
        );
        text.push_str("# without it no survivor record can be read.\n");
        text.push_str(HEADER);
        text.push('\n');
        let line = |label: &str, key: &Key| {
            format!("{label} {} {}\n", key.id, STANDARD.encode(*key.bytes))
        };
        text.push_str(&line("index", &self.index));
        text.push_str(&line("master", &self.current));
        for key in &self.retired {
            text.push_str(&line("retired", key));
        }
        text
    }

    fn parse(text: &str) -> Result<Keyring, CryptoError> {
        let bad = |why: &str| CryptoError::KeyFile(why.to_owned());
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        if lines.next() != Some(HEADER) {
            return Err(bad(
                "it is not a Haven key file (missing 'haven-keyring v1')",
            ));
        }
        let (mut index, mut current, mut retired) = (None, None, Vec::new());
        for line in lines {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [label, id, encoded] = parts.as_slice() else {
                return Err(bad("a line is not 'LABEL ID KEY'"));
            };
            let id = Uuid::parse_str(id).map_err(|_| bad("a key ID is not a UUID"))?;
            let decoded = Zeroizing::new(
                STANDARD
                    .decode(encoded)
                    .map_err(|_| bad("a key is not base64"))?,
            );
            let bytes: [u8; 32] = decoded
                .as_slice()
                .try_into()
                .map_err(|_| bad("a key is not 32 bytes long"))?;
            let key = Key {
                id,
                bytes: Zeroizing::new(bytes),
            };
            match *label {
                "index" if index.is_none() => index = Some(key),
                "master" if current.is_none() => current = Some(key),
                "retired" => retired.push(key),
                other => return Err(bad(&format!("unexpected or repeated '{other}' line"))),
            }
        }
        Ok(Keyring {
            index: index.ok_or_else(|| bad("it has no index key"))?,
            current: current.ok_or_else(|| bad("it has no master key"))?,
            retired,
        })
    }

    /// Writes a new key file readable only by its owner. Refuses to overwrite a file.
    pub fn write_new(&self, path: &Path) -> Result<(), CryptoError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(path)
            .map_err(|e| CryptoError::KeyFile(format!("cannot create {}: {e}", path.display())))?;
        file.write_all(self.render().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| CryptoError::KeyFile(format!("cannot write {}: {e}", path.display())))
    }

    /// Reads a key file, refusing one that other users could read.
    pub fn load(path: &Path) -> Result<Keyring, CryptoError> {
        let metadata = std::fs::metadata(path).map_err(|e| {
            CryptoError::KeyFile(format!(
                "cannot open {}: {e}; create one with `haven keys init --key-file {}`",
                path.display(),
                path.display()
            ))
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(CryptoError::KeyFile(format!(
                    "{} can be read by other users (mode {mode:o}); run `chmod 600 {}`",
                    path.display(),
                    path.display()
                )));
            }
        }
        let text =
            Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                CryptoError::KeyFile(format!("cannot read {}: {e}", path.display()))
            })?);
        Keyring::parse(&text).map_err(|e| match e {
            CryptoError::KeyFile(why) => CryptoError::KeyFile(format!("{}: {why}", path.display())),
            other => other,
        })
    }
}

fn wrap_aad(record: Uuid) -> Vec<u8> {
    let mut aad = b"haven/data-key/v1\0".to_vec();
    aad.extend_from_slice(record.as_bytes());
    aad
}

fn secret_aad(purpose: &str, owner: Uuid) -> Vec<u8> {
    let mut aad = format!("haven/secret/{purpose}/v1\0").into_bytes();
    aad.extend_from_slice(owner.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_round_trip_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haven.key");
        let ring = Keyring::generate().rotated();
        ring.write_new(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let loaded = Keyring::load(&path).unwrap();
        assert_eq!(loaded.current().check_value(), ring.current().check_value());
        assert_eq!(loaded.wrapping_keys().count(), 2);
        assert!(
            ring.write_new(&path).is_err(),
            "never overwrites a key file"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haven.key");
        Keyring::generate().write_new(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Keyring::load(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn garbage_files_are_refused_clearly() {
        assert!(Keyring::parse("hello")
            .unwrap_err()
            .to_string()
            .contains("not a Haven key file"));
        assert!(Keyring::parse("haven-keyring v1\nmaster x y")
            .unwrap_err()
            .to_string()
            .contains("UUID"));
    }

    #[test]
    fn data_keys_unwrap_after_rotation_and_only_for_their_record() {
        let ring = Keyring::generate();
        let data_key = DataKey::generate();
        let record = Uuid::from_u128(9);
        let (key_id, wrapped) = ring.wrap(&data_key, record);
        let rotated = ring.rotated();
        let unwrapped = rotated.unwrap(key_id, &wrapped, record).unwrap();
        assert_eq!(unwrapped.bytes(), data_key.bytes());
        assert!(rotated
            .unwrap(key_id, &wrapped, Uuid::from_u128(10))
            .is_err());
        assert!(matches!(
            Keyring::generate().unwrap(key_id, &wrapped, record),
            Err(CryptoError::UnknownKey(_))
        ));
    }

    #[test]
    fn blind_indexes_are_stable_keyed_and_domain_separated() {
        let ring = Keyring::generate();
        assert_eq!(
            ring.blind_index("name", "lan"),
            ring.rotated().blind_index("name", "lan")
        );
        assert_ne!(
            ring.blind_index("name", "lan"),
            ring.blind_index("phone", "lan")
        );
        assert_ne!(
            ring.blind_index("name", "lan"),
            Keyring::generate().blind_index("name", "lan")
        );
    }
}
