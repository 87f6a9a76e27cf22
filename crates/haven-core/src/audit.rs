//! The tamper-evident audit log: the event, its canonical encoding, and chain verification.
//!
//! Every event carries the SHA-256 of its canonical encoding, and that encoding includes the
//! previous event's hash, so the events form a chain: editing an event changes its hash,
//! removing one leaves a gap in the contiguous 1-based sequence, and reordering breaks the
//! `prev_hash` links. Anyone holding the rows can re-check the chain with [`Verifier`].
//!
//! The encoding is unambiguous by construction: a version tag, then every field in a fixed
//! order, strings and lists length-prefixed and optional values tagged as present or absent,
//! so no two different events encode to the same bytes.
//!
//! Field *names* only are recorded (`display_name`), never values: the audit log must not
//! become a second copy of survivor data.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fmt;
use uuid::Uuid;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The `prev_hash` of the first event.
pub const GENESIS: Hash = [0; 32];

/// Tags the encoding so a future format change cannot collide with this one.
const VERSION_TAG: &str = "haven-audit-v1";

/// One event of the audit log, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Position in the chain: 1-based, contiguous.
    pub seq: i64,
    /// UUIDv7 of the event.
    pub id: Uuid,
    /// When it happened, UTC (microsecond precision, as both backends store it).
    pub at: DateTime<Utc>,
    /// Who acted: [`crate::Actor::label`].
    pub actor: String,
    /// What was done, e.g. `user.create`, `session.start`, `survivor.read`.
    pub action: String,
    /// The kind of thing acted on, e.g. `user`.
    pub entity: String,
    /// Which one, when there is one.
    pub entity_id: Option<String>,
    /// The names of the fields read or written (never their values).
    pub fields: Vec<String>,
    /// Why, when a reason is required (break-glass access).
    pub reason: Option<String>,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
    /// The hash of the event before this one ([`GENESIS`] for the first).
    pub prev_hash: Hash,
    /// SHA-256 over the canonical encoding of every field above.
    pub hash: Hash,
}

/// Where the canonical encoding goes: a buffer, or straight into the hasher (verification
/// hashes millions of events, and skipping the buffer spares an allocation and a copy each).
trait Sink {
    fn put(&mut self, bytes: &[u8]);

    fn put_str(&mut self, s: &str) {
        // Lengths are u64 so no realistic value can overflow the prefix.
        self.put(&(s.len() as u64).to_be_bytes());
        self.put(s.as_bytes());
    }

    fn put_opt(&mut self, s: Option<&str>) {
        match s {
            None => self.put(&[0]),
            Some(s) => {
                self.put(&[1]);
                self.put_str(s);
            }
        }
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl AuditEvent {
    fn encode(&self, out: &mut impl Sink) {
        out.put_str(VERSION_TAG);
        out.put(&self.seq.to_be_bytes());
        out.put(self.id.as_bytes());
        out.put(&self.at.timestamp_micros().to_be_bytes());
        out.put_str(&self.actor);
        out.put_str(&self.action);
        out.put_str(&self.entity);
        out.put_opt(self.entity_id.as_deref());
        out.put(&(self.fields.len() as u64).to_be_bytes());
        for field in &self.fields {
            out.put_str(field);
        }
        out.put_opt(self.reason.as_deref());
        out.put_opt(self.client_addr.as_deref());
        out.put_opt(self.request_id.as_deref());
        out.put(&self.prev_hash);
    }

    /// The canonical encoding of every field except `hash`, in a fixed order.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(256);
        self.encode(&mut buf);
        buf
    }

    /// The hash this event should carry: SHA-256 of [`AuditEvent::canonical_bytes`].
    pub fn compute_hash(&self) -> Hash {
        let mut hasher = Sha256::new();
        self.encode(&mut hasher);
        hasher.finalize().into()
    }

    /// Sets `hash` from the other fields; used once, when the event is appended.
    pub fn seal(mut self) -> AuditEvent {
        self.hash = self.compute_hash();
        self
    }
}

/// Checks that a name is an identifier (`display_name`, `user.create`), not free text, so a
/// value cannot be slipped into the log where a name belongs.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
}

/// What is wrong with the first broken event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The stored hash does not match the event's contents: it was edited.
    Edited,
    /// The sequence jumps: events before this one were removed.
    Gap { expected: i64 },
    /// The event does not link to the one before it: events were reordered or removed.
    Unlinked,
    /// A stored value no longer has its column's type (written behind Haven's back); the seq
    /// is the one after the last readable event.
    Unreadable,
    /// The chain ends before the recorded head: events at the end were removed.
    Truncated { head_seq: i64 },
    /// The recorded head does not match the last event.
    HeadMismatch { head_seq: i64 },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Edited => f.write_str("its hash does not match its contents (edited)"),
            Problem::Gap { expected } => write!(
                f,
                "sequence gap: expected event {expected} (events removed)"
            ),
            Problem::Unlinked => f.write_str(
                "it does not link to the event before it (events reordered or removed)",
            ),
            Problem::Unreadable => f.write_str(
                "it cannot be read: a value was overwritten with one of the wrong type (edited)",
            ),
            Problem::Truncated { head_seq } => write!(
                f,
                "the log ends here but {head_seq} events were recorded (events removed from the end)"
            ),
            Problem::HeadMismatch { head_seq } => write!(
                f,
                "the recorded head (event {head_seq}) does not match the last event"
            ),
        }
    }
}

/// The first broken event and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Break {
    pub seq: i64,
    pub id: Option<Uuid>,
    pub problem: Problem,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id {
            Some(id) => write!(f, "event {} ({id}): {}", self.seq, self.problem),
            None => write!(f, "event {}: {}", self.seq, self.problem),
        }
    }
}

/// Checks a chain one event at a time, so a store can stream millions of events through it.
#[derive(Debug, Clone)]
pub struct Verifier {
    next_seq: i64,
    prev_hash: Hash,
    last_id: Option<Uuid>,
    checked: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            next_seq: 1,
            prev_hash: GENESIS,
            last_id: None,
            checked: 0,
        }
    }
}

impl Verifier {
    pub fn new() -> Verifier {
        Verifier::default()
    }

    /// How many events have been checked and found sound.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// Checks the next event in sequence order.
    pub fn check(&mut self, event: &AuditEvent) -> Result<(), Break> {
        let broken = |problem| Break {
            seq: event.seq,
            id: Some(event.id),
            problem,
        };
        if event.seq != self.next_seq {
            return Err(broken(Problem::Gap {
                expected: self.next_seq,
            }));
        }
        if event.compute_hash() != event.hash {
            return Err(broken(Problem::Edited));
        }
        if event.prev_hash != self.prev_hash {
            return Err(broken(Problem::Unlinked));
        }
        self.next_seq += 1;
        self.prev_hash = event.hash;
        self.last_id = Some(event.id);
        self.checked += 1;
        Ok(())
    }

    /// Checks the end of the chain against the recorded head (`seq`, `hash`), which catches
    /// events removed from the end.
    pub fn finish(&self, head_seq: i64, head_hash: &Hash) -> Result<(), Break> {
        let last = self.next_seq - 1;
        if last < head_seq {
            return Err(Break {
                seq: last + 1,
                id: None,
                problem: Problem::Truncated { head_seq },
            });
        }
        if last != head_seq || &self.prev_hash != head_hash {
            return Err(Break {
                seq: last,
                id: self.last_id,
                problem: Problem::HeadMismatch { head_seq },
            });
        }
        Ok(())
    }
}

/// Verifies a whole chain in sequence order: the first broken event, if any.
pub fn verify<'a>(events: impl IntoIterator<Item = &'a AuditEvent>) -> Result<u64, Break> {
    let mut verifier = Verifier::new();
    for event in events {
        verifier.check(event)?;
    }
    Ok(verifier.checked())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let event = AuditEvent {
                    seq,
                    id: Uuid::from_u128(seq as u128),
                    at: Utc.timestamp_opt(1_700_000_000 + seq, 0).unwrap(),
                    actor: "system:test".into(),
                    action: "user.create".into(),
                    entity: "user".into(),
                    entity_id: Some(format!("u{seq}")),
                    fields: vec!["username".into(), "display_name".into()],
                    reason: None,
                    client_addr: Some("127.0.0.1".into()),
                    request_id: None,
                    prev_hash: prev,
                    hash: GENESIS,
                }
                .seal();
                prev = event.hash;
                event
            })
            .collect()
    }

    #[test]
    fn a_sound_chain_verifies() {
        let events = chain(5);
        assert_eq!(verify(&events), Ok(5));
        let mut v = Verifier::new();
        events.iter().for_each(|e| v.check(e).unwrap());
        assert_eq!(v.finish(5, &events[4].hash), Ok(()));
        assert_eq!(verify(&[]), Ok(0));
        assert_eq!(Verifier::new().finish(0, &GENESIS), Ok(()));
    }

    #[test]
    fn an_edit_is_named() {
        let mut events = chain(5);
        events[2].entity_id = Some("someone else".into());
        let err = verify(&events).unwrap_err();
        assert_eq!((err.seq, err.problem), (3, Problem::Edited));
    }

    #[test]
    fn a_removal_is_a_gap() {
        let mut events = chain(5);
        events.remove(1);
        let err = verify(&events).unwrap_err();
        assert_eq!((err.seq, err.problem), (3, Problem::Gap { expected: 2 }));
    }

    #[test]
    fn a_swap_of_contents_breaks_the_links() {
        let mut events = chain(5);
        // Swap everything but the sequence numbers, as an attacker rewriting rows would.
        let (a, b) = (events[1].clone(), events[2].clone());
        events[1] = AuditEvent { seq: 2, ..b };
        events[2] = AuditEvent { seq: 3, ..a };
        let err = verify(&events).unwrap_err();
        assert_eq!(err.seq, 2);
        assert_eq!(err.problem, Problem::Edited);
        // Re-sealed after the swap, the links still give it away.
        let mut events = chain(5);
        let (a, b) = (events[1].clone(), events[2].clone());
        events[1] = AuditEvent { seq: 2, ..b }.seal();
        events[2] = AuditEvent { seq: 3, ..a }.seal();
        let err = verify(&events).unwrap_err();
        assert_eq!((err.seq, err.problem), (2, Problem::Unlinked));
    }

    #[test]
    fn a_removed_tail_is_caught_by_the_head() {
        let events = chain(5);
        let mut v = Verifier::new();
        events[..3].iter().for_each(|e| v.check(e).unwrap());
        let err = v.finish(5, &events[4].hash).unwrap_err();
        assert_eq!(
            (err.seq, err.problem),
            (4, Problem::Truncated { head_seq: 5 })
        );
    }

    #[test]
    fn the_encoding_is_unambiguous() {
        let base = &chain(1)[0];
        // Moving bytes between adjacent strings changes the encoding.
        let a = AuditEvent {
            action: "user.cr".into(),
            entity: "eateuser".into(),
            ..base.clone()
        };
        let b = AuditEvent {
            action: "user.create".into(),
            entity: "user".into(),
            ..base.clone()
        };
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
        // An absent value differs from an empty one; field lists keep their boundaries.
        let c = AuditEvent {
            reason: Some(String::new()),
            ..base.clone()
        };
        let d = AuditEvent {
            reason: None,
            ..base.clone()
        };
        assert_ne!(c.compute_hash(), d.compute_hash());
        let e = AuditEvent {
            fields: vec!["ab".into()],
            ..base.clone()
        };
        let f = AuditEvent {
            fields: vec!["a".into(), "b".into()],
            ..base.clone()
        };
        assert_ne!(e.compute_hash(), f.compute_hash());
    }

    #[test]
    fn the_hash_is_over_the_canonical_bytes() {
        let event = &chain(2)[1];
        let direct: Hash = Sha256::digest(event.canonical_bytes()).into();
        assert_eq!(event.compute_hash(), direct);
    }

    #[test]
    fn names_are_identifiers_not_values() {
        assert!(is_name("display_name"));
        assert!(is_name("user.create"));
        assert!(!is_name("Sophea Chan"));
        assert!(!is_name(""));
        assert!(!is_name(&"a".repeat(65)));
    }
}
