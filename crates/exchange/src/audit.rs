//! The append-only, hash-chained audit log, its signed checkpoints and its verification.
//!
//! Every attempt, allowed or refused, becomes one [`AuditEntry`]. Each entry's `hash` is
//! SHA-256 over its canonical serialisation, which includes the previous entry's hash, so
//! changing, removing, inserting or reordering any entry breaks the chain. Periodically the
//! node signs a [`Checkpoint`] (seq, head hash) with its Ed25519 key; a checkpoint pins
//! everything up to its seq even against someone who can rewrite the whole table and
//! recompute every hash. [`verify`] walks a log once, in constant memory, and reports where
//! it is wrong.
//!
//! # Canonical serialisation (version 1)
//!
//! `hash = SHA-256(bytes)` where `bytes` is the concatenation, in this order, of:
//!
//! | # | field | encoding |
//! |---|---|---|
//! | 0 | domain tag | the 16 ASCII bytes `sinergi-audit-v1` |
//! | 1 | prev_hash | 32 bytes (all zero for seq 1) |
//! | 2 | seq | u64 big-endian |
//! | 3 | at | i64 big-endian, microseconds since the Unix epoch, UTC |
//! | 4 | node | str |
//! | 5 | request_id | str |
//! | 6 | client | str |
//! | 7 | service | str |
//! | 8 | purpose | str |
//! | 9 | pks_id | opt-str |
//! | 10 | user_id | str |
//! | 11 | issue | str |
//! | 12 | decision | str |
//! | 13 | clause | str |
//! | 14 | subject_hash | `0x00`, or `0x01` followed by 32 bytes |
//! | 15 | status | u16 big-endian |
//! | 16 | latency_us | u64 big-endian |
//! | 17 | request_hash | 32 bytes |
//!
//! `str` is a u32 big-endian byte length followed by the UTF-8 bytes; `opt-str` is `0x00` for
//! none, or `0x01` followed by a `str`. Fixed order, fixed widths and length prefixes make the
//! encoding injective: two different entries never serialise to the same bytes.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use hmac::{KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};

use crate::Timestamp;

/// The chain's starting `prev_hash`.
pub const GENESIS: HashValue = HashValue([0; 32]);
const ENTRY_TAG: &[u8; 16] = b"sinergi-audit-v1";
const CHECKPOINT_TAG: &[u8] = b"sinergi-audit-checkpoint-v1";
const SUBJECT_TAG: &[u8] = b"sinergi-subject-v1\0";
const WITNESS_TAG: &[u8] = b"sinergi-audit-witness-v1";

/// `service` of the entry a node writes at start when its log ends after its last signed
/// checkpoint (a crash before the final checkpoint, or entries written into the database by
/// someone else while it was stopped). `issue` says `FROM..TO`; [`verify_anchored`] reports
/// the range as [`ProblemKind::Unanchored`] for ever after, so the next checkpoint, which
/// covers those entries too, does not hide them.
pub const START_MARKER_SERVICE: &str = "audit/start";
/// `decision` of the start marker.
pub const START_MARKER_DECISION: &str = "UNANCHORED_TAIL";

/// A 32-byte hash, shown and serialised as lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct HashValue(pub [u8; 32]);

impl fmt::Display for HashValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for HashValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl HashValue {
    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<HashValue> {
        let mut out = [0u8; 32];
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(HashValue(out))
    }
}

impl serde::Serialize for HashValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for HashValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        HashValue::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

// ---------------------------------------------------------------------------------------------
// Subject hash

/// The node's secret for keyed subject hashes. Keep it stable: rotating it makes earlier
/// entries unanswerable by "who looked at NIK X" unless the old secret is kept too.
#[derive(Clone)]
pub struct NodeSecret([u8; 32]);

impl NodeSecret {
    pub fn from_bytes(bytes: [u8; 32]) -> NodeSecret {
        NodeSecret(bytes)
    }

    /// A new secret from the operating system's random source.
    pub fn generate() -> Result<NodeSecret, getrandom::Error> {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b)?;
        Ok(NodeSecret(b))
    }
}

impl fmt::Debug for NodeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NodeSecret(<redacted>)")
    }
}

/// HMAC-SHA256(secret, `"sinergi-subject-v1" NUL nik`) of a NIK (surrounding ASCII white
/// space removed, as the services read a NIK). The log stores this, never the NIK; without
/// the secret it cannot be reversed by enumerating the (small) NIK space.
pub fn subject_hash(secret: &NodeSecret, nik: &str) -> HashValue {
    let mut mac = <hmac::Hmac<Sha256>>::new_from_slice(&secret.0).expect("HMAC takes any key");
    mac.update(SUBJECT_TAG);
    mac.update(
        nik.trim_matches(|c: char| c.is_ascii_whitespace())
            .as_bytes(),
    );
    HashValue(mac.finalize().into_bytes().into())
}

/// The subject hash to look up to answer "who accessed NIK X" (UU PDP art. 32).
pub fn who_accessed(nik: &str, secret: &NodeSecret) -> HashValue {
    subject_hash(secret, nik)
}

/// SHA-256 identifying a request: length-prefixed method, target URI and SHA-256 of the body.
pub fn request_hash(method: &str, target_uri: &str, body: &[u8]) -> HashValue {
    let mut h = Sha256::new();
    for part in [method.as_bytes(), target_uri.as_bytes()] {
        h.update((part.len() as u32).to_be_bytes());
        h.update(part);
    }
    h.update(Sha256::digest(body));
    HashValue(h.finalize().into())
}

// ---------------------------------------------------------------------------------------------
// Entries

/// What the server records about one attempt; the chain adds seq and hashes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditRecord {
    pub at: Timestamp,
    /// The node that decided (its X-Road identifier).
    pub node: String,
    /// `X-Road-Id`.
    pub request_id: String,
    /// The client in X-Road form, or the raw value (bounded) when it did not parse.
    pub client: String,
    /// The service in X-Road form, or the raw value (bounded) when it did not parse.
    pub service: String,
    pub purpose: String,
    pub pks_id: Option<String>,
    /// `X-Road-UserId`: the officer behind the request.
    pub user_id: String,
    /// `X-Road-Issue`: the case or letter number.
    pub issue: String,
    /// `ALLOWED` or an error code.
    pub decision: String,
    pub clause: String,
    /// Keyed hash of the data subject's NIK, when there is one.
    pub subject_hash: Option<HashValue>,
    /// HTTP status answered.
    pub status: u16,
    pub latency_us: u64,
    pub request_hash: HashValue,
}

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// 1, 2, 3, … without gaps.
    pub seq: u64,
    pub at: Timestamp,
    pub node: String,
    pub request_id: String,
    pub client: String,
    pub service: String,
    pub purpose: String,
    pub pks_id: Option<String>,
    pub user_id: String,
    pub issue: String,
    pub decision: String,
    pub clause: String,
    pub subject_hash: Option<HashValue>,
    pub status: u16,
    pub latency_us: u64,
    pub request_hash: HashValue,
    pub prev_hash: HashValue,
    pub hash: HashValue,
}

fn put_str(out: &mut impl FnMut(&[u8]), s: &str) {
    out(&(s.len() as u32).to_be_bytes());
    out(s.as_bytes());
}

impl AuditEntry {
    /// The record this entry was linked from (seq and hashes dropped): to link it again
    /// after another head, when a write failed because the log moved underneath.
    pub fn into_record(self) -> AuditRecord {
        AuditRecord {
            at: self.at,
            node: self.node,
            request_id: self.request_id,
            client: self.client,
            service: self.service,
            purpose: self.purpose,
            pks_id: self.pks_id,
            user_id: self.user_id,
            issue: self.issue,
            decision: self.decision,
            clause: self.clause,
            subject_hash: self.subject_hash,
            status: self.status,
            latency_us: self.latency_us,
            request_hash: self.request_hash,
        }
    }

    /// Links a record after `prev_hash` at `seq` and computes its hash.
    pub fn new(seq: u64, prev_hash: HashValue, r: AuditRecord) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            at: r.at,
            node: r.node,
            request_id: r.request_id,
            client: r.client,
            service: r.service,
            purpose: r.purpose,
            pks_id: r.pks_id,
            user_id: r.user_id,
            issue: r.issue,
            decision: r.decision,
            clause: r.clause,
            subject_hash: r.subject_hash,
            status: r.status,
            latency_us: r.latency_us,
            request_hash: r.request_hash,
            prev_hash,
            hash: GENESIS,
        };
        e.hash = e.compute_hash();
        e
    }

    /// Feeds the canonical serialisation (module documentation) to `out`, piece by piece.
    pub fn write_canonical(&self, mut out: impl FnMut(&[u8])) {
        out(ENTRY_TAG);
        out(&self.prev_hash.0);
        out(&self.seq.to_be_bytes());
        out(&self.at.0.to_be_bytes());
        for s in [
            &self.node,
            &self.request_id,
            &self.client,
            &self.service,
            &self.purpose,
        ] {
            put_str(&mut out, s);
        }
        match &self.pks_id {
            None => out(&[0]),
            Some(p) => {
                out(&[1]);
                put_str(&mut out, p);
            }
        }
        for s in [&self.user_id, &self.issue, &self.decision, &self.clause] {
            put_str(&mut out, s);
        }
        match &self.subject_hash {
            None => out(&[0]),
            Some(h) => {
                out(&[1]);
                out(&h.0);
            }
        }
        out(&self.status.to_be_bytes());
        out(&self.latency_us.to_be_bytes());
        out(&self.request_hash.0);
    }

    /// The canonical serialisation as bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(256);
        self.write_canonical(|b| v.extend_from_slice(b));
        v
    }

    /// SHA-256 of the canonical serialisation (no allocation).
    pub fn compute_hash(&self) -> HashValue {
        let mut h = Sha256::new();
        self.write_canonical(|b| h.update(b));
        HashValue(h.finalize().into())
    }
}

/// The end of a chain: the last seq (0 when empty) and its hash ([`GENESIS`] when empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainHead {
    pub seq: u64,
    pub hash: HashValue,
}

impl Default for ChainHead {
    fn default() -> Self {
        ChainHead {
            seq: 0,
            hash: GENESIS,
        }
    }
}

impl ChainHead {
    /// Links the next record and advances the head.
    pub fn append(&mut self, record: AuditRecord) -> AuditEntry {
        let e = AuditEntry::new(self.seq + 1, self.hash, record);
        self.seq = e.seq;
        self.hash = e.hash;
        e
    }
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

/// A signed statement by a node: "my log's entry `seq` has hash `head_hash`".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub node: String,
    pub seq: u64,
    pub head_hash: HashValue,
    pub at: Timestamp,
    /// Ed25519 over [`Checkpoint::message`], base64 in JSON.
    #[serde(with = "sig_b64")]
    pub signature: [u8; 64],
}

mod sig_b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    pub fn serialize<S: serde::Serializer>(v: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        let v = STANDARD
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom("a signature is 64 bytes"))
    }
}

impl Checkpoint {
    /// The signed bytes: tag, node (u32 length + bytes), seq (u64 BE), head hash, at (i64 BE).
    pub fn message(node: &str, seq: u64, head_hash: &HashValue, at: Timestamp) -> Vec<u8> {
        let mut m = Vec::with_capacity(CHECKPOINT_TAG.len() + 4 + node.len() + 8 + 32 + 8);
        m.extend_from_slice(CHECKPOINT_TAG);
        put_str(&mut |b: &[u8]| m.extend_from_slice(b), node);
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(&head_hash.0);
        m.extend_from_slice(&at.0.to_be_bytes());
        m
    }

    /// Signs a checkpoint of a chain head.
    pub fn sign(node: &str, head: ChainHead, at: Timestamp, key: &SigningKey) -> Checkpoint {
        let sig = key.sign(&Checkpoint::message(node, head.seq, &head.hash, at));
        Checkpoint {
            node: node.to_owned(),
            seq: head.seq,
            head_hash: head.hash,
            at,
            signature: sig.to_bytes(),
        }
    }

    /// Whether the signature is the node key's.
    pub fn verify_signature(&self, key: &VerifyingKey) -> bool {
        let msg = Checkpoint::message(&self.node, self.seq, &self.head_hash, self.at);
        key.verify_strict(&msg, &Signature::from_bytes(&self.signature))
            .is_ok()
    }
}

/// A witness's countersignature of a checkpoint: "I, `witness`, received this checkpoint of
/// `checkpoint.node` at `received_at`". The witness keeps its own copy; the node keeps the
/// receipt. Neither can later be made to agree with a log cut short, rewritten or extended
/// behind the witness's back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WitnessReceipt {
    pub checkpoint: Checkpoint,
    /// The witness node's name.
    pub witness: String,
    pub received_at: Timestamp,
    /// Ed25519 of the witness's node key over [`WitnessReceipt::message`], base64 in JSON.
    #[serde(with = "sig_b64")]
    pub signature: [u8; 64],
}

impl WitnessReceipt {
    /// The signed bytes: tag, the checkpoint's own signed message, its signature, the witness
    /// (u32 length + bytes) and the time received (i64 BE).
    pub fn message(cp: &Checkpoint, witness: &str, received_at: Timestamp) -> Vec<u8> {
        let mut m = WITNESS_TAG.to_vec();
        m.extend_from_slice(&Checkpoint::message(&cp.node, cp.seq, &cp.head_hash, cp.at));
        m.extend_from_slice(&cp.signature);
        put_str(&mut |b: &[u8]| m.extend_from_slice(b), witness);
        m.extend_from_slice(&received_at.0.to_be_bytes());
        m
    }

    /// Countersigns a checkpoint as `witness`.
    pub fn sign(
        cp: &Checkpoint,
        witness: &str,
        received_at: Timestamp,
        key: &SigningKey,
    ) -> WitnessReceipt {
        let sig = key.sign(&WitnessReceipt::message(cp, witness, received_at));
        WitnessReceipt {
            checkpoint: cp.clone(),
            witness: witness.to_owned(),
            received_at,
            signature: sig.to_bytes(),
        }
    }

    /// Whether the countersignature is the witness key's.
    pub fn verify_signature(&self, witness_key: &VerifyingKey) -> bool {
        let msg = WitnessReceipt::message(&self.checkpoint, &self.witness, self.received_at);
        witness_key
            .verify_strict(&msg, &Signature::from_bytes(&self.signature))
            .is_ok()
    }
}

// ---------------------------------------------------------------------------------------------
// Verification

/// What is wrong at a place in the log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProblemKind {
    /// The entry's stored hash is not the hash of its content: the entry was altered.
    HashMismatch,
    /// The entry's `prev_hash` is not the previous entry's hash: this entry or the one before
    /// it was altered and re-hashed, or an entry was replaced.
    ChainBroken,
    /// Entries `expected..found` are absent (deleted).
    Missing { expected: u64, found: u64 },
    /// Entry `found` stands where `expected` should, and `expected` follows it: reordered.
    Reordered { expected: u64, found: u64 },
    /// A seq at or below one already seen: a duplicate (inserted) entry or a reordering.
    OutOfOrder { expected: u64, found: u64 },
    /// The checkpoint's signature is not the node key's: forged or altered checkpoint.
    CheckpointForged,
    /// The entry at the checkpoint's seq does not have the signed hash: the log up to here was
    /// rewritten after `since` (the last checkpoint that matched; 0 = the start).
    CheckpointMismatch { since: u64 },
    /// A signed checkpoint covers entries the log no longer has: the tail was truncated.
    Truncated { checkpoint_seq: u64, last_seq: u64 },
    /// No valid checkpoint where the checkpoint interval requires one.
    CheckpointMissing,
    /// Entries `from..=to` are covered by no signed checkpoint, though they must be (they
    /// were in the log before the node's latest checkpoint, or the node found them
    /// unanchored at start): entries appended behind the node's back, or lost with a crash
    /// before the node could sign them.
    Unanchored { from: u64, to: u64 },
    /// Entries `from..=to` are covered by no checkpoint a witness holds, though they must be.
    Unwitnessed { from: u64, to: u64 },
}

/// One problem: the seq it concerns, and the entry's position in the walk (0-based) if any.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub seq: u64,
    pub position: Option<u64>,
    #[serde(flatten)]
    pub kind: ProblemKind,
}

/// Options of [`verify_with`].
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    /// Require a valid checkpoint at every multiple of this seq.
    pub checkpoint_interval: Option<u64>,
    /// Stop recording problems after this many (verification still runs to the end).
    pub max_problems: usize,
    /// Every entry up to this seq must be covered by a checkpoint that matches the log
    /// ([`ProblemKind::Unanchored`] otherwise). For a stopped node: its last seq (it signs a
    /// final checkpoint); for a running node: the log's head read before asking it for a
    /// fresh checkpoint. `None`: not required.
    pub anchored_through: Option<u64>,
    /// Every entry up to this seq must be covered by a witness's copy that matches the log
    /// ([`ProblemKind::Unwitnessed`] otherwise). `None`: not required.
    pub witnessed_through: Option<u64>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            checkpoint_interval: None,
            max_problems: 1000,
            anchored_through: None,
            witnessed_through: None,
        }
    }
}

/// The result of verifying a log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub entries: u64,
    pub last_seq: u64,
    pub head_hash: HashValue,
    /// Checkpoints whose signature verified and whose hash matched the log.
    pub checkpoints_verified: usize,
    /// The highest seq pinned by a matching checkpoint (0: none).
    pub anchored_seq: u64,
    /// Witnesses' copies that verified and matched the log, and the highest seq they pin.
    pub witness_copies_verified: usize,
    pub witnessed_seq: u64,
    /// The problem at the lowest seq.
    pub first_problem: Option<Problem>,
    /// Every problem found (up to the limit), in the order found.
    pub problems: Vec<Problem>,
    pub problems_truncated: bool,
}

/// Verifies a log from seq 1 with the node's checkpoints (see [`verify_with`]).
pub fn verify<I>(entries: I, checkpoints: &[Checkpoint], node_key: &VerifyingKey) -> VerifyReport
where
    I: IntoIterator,
    I::Item: Borrow<AuditEntry>,
{
    verify_with(entries, checkpoints, node_key, VerifyOptions::default())
}

/// Verifies a log from seq 1: each entry's hash, the links, seq continuity, every checkpoint's
/// signature and that the log agrees with every checkpoint. One pass, memory independent of
/// the log's length.
pub fn verify_with<I>(
    entries: I,
    checkpoints: &[Checkpoint],
    node_key: &VerifyingKey,
    opts: VerifyOptions,
) -> VerifyReport
where
    I: IntoIterator,
    I::Item: Borrow<AuditEntry>,
{
    verify_anchored(entries, checkpoints, &[], node_key, opts)
}

/// [`verify_with`] with the copies of the node's checkpoints that its witnesses hold
/// (fetched from them, or from their countersigned receipts). A witness's copy pins the log
/// like a local checkpoint, but the node's database cannot delete or rewrite it: a log cut
/// short behind a witnessed checkpoint is [`ProblemKind::Truncated`], a log re-hashed and
/// re-signed [`ProblemKind::CheckpointMismatch`]. With [`VerifyOptions::anchored_through`]
/// and [`VerifyOptions::witnessed_through`], entries no checkpoint covers are reported too.
pub fn verify_anchored<I>(
    entries: I,
    checkpoints: &[Checkpoint],
    witness_copies: &[Checkpoint],
    node_key: &VerifyingKey,
    opts: VerifyOptions,
) -> VerifyReport
where
    I: IntoIterator,
    I::Item: Borrow<AuditEntry>,
{
    let mut problems: Vec<Problem> = Vec::new();
    let mut truncated = false;
    let mut report = |p: Problem, problems: &mut Vec<Problem>| {
        if problems.len() < opts.max_problems {
            problems.push(p);
        } else {
            truncated = true;
        }
    };

    // Checkpoints: signature first; only genuine ones pin the log. A witness's copy is
    // marked, so what the witnesses pin is known apart.
    let mut pins: BTreeMap<u64, Vec<(&Checkpoint, bool)>> = BTreeMap::new();
    let all = checkpoints
        .iter()
        .map(|c| (c, false))
        .chain(witness_copies.iter().map(|c| (c, true)));
    for (cp, witnessed) in all {
        if cp.verify_signature(node_key) {
            pins.entry(cp.seq).or_default().push((cp, witnessed));
        } else {
            report(
                Problem {
                    seq: cp.seq,
                    position: None,
                    kind: ProblemKind::CheckpointForged,
                },
                &mut problems,
            );
        }
    }
    let mut matched_checkpoints = 0usize;
    let mut last_good_checkpoint = 0u64;
    let mut witness_matched = 0usize;
    let mut witnessed_seq = 0u64;
    // Start markers: ranges the node itself found unanchored when it started.
    let mut marked: Vec<(u64, u64, u64)> = Vec::new();

    let mut it = entries.into_iter().peekable();
    let mut expected = 1u64;
    let mut prev = GENESIS;
    let mut position = 0u64;
    let mut count = 0u64;
    let mut last_seq = 0u64;
    while let Some(item) = it.next() {
        let e: &AuditEntry = item.borrow();
        let pos = Some(position);
        position += 1;
        count += 1;
        if e.compute_hash() != e.hash {
            report(
                Problem {
                    seq: e.seq,
                    position: pos,
                    kind: ProblemKind::HashMismatch,
                },
                &mut problems,
            );
        }
        let in_order = e.seq >= expected;
        if e.seq == expected {
            if e.prev_hash != prev {
                report(
                    Problem {
                        seq: e.seq,
                        position: pos,
                        kind: ProblemKind::ChainBroken,
                    },
                    &mut problems,
                );
            }
        } else if e.seq > expected {
            let next_is_expected = it
                .peek()
                .is_some_and(|n| Borrow::<AuditEntry>::borrow(n).seq == expected);
            let kind = if next_is_expected {
                ProblemKind::Reordered {
                    expected,
                    found: e.seq,
                }
            } else {
                ProblemKind::Missing {
                    expected,
                    found: e.seq,
                }
            };
            report(
                Problem {
                    seq: expected,
                    position: pos,
                    kind,
                },
                &mut problems,
            );
        } else {
            report(
                Problem {
                    seq: e.seq,
                    position: pos,
                    kind: ProblemKind::OutOfOrder {
                        expected,
                        found: e.seq,
                    },
                },
                &mut problems,
            );
        }
        if e.service == START_MARKER_SERVICE
            && e.decision == START_MARKER_DECISION
            && let Some((from, to)) = e.issue.split_once("..")
            && let (Ok(from), Ok(to)) = (from.parse::<u64>(), to.parse::<u64>())
        {
            marked.push((e.seq, from, to));
        }
        if in_order {
            if let Some(cps) = pins.remove(&e.seq) {
                for (cp, witnessed) in cps {
                    if cp.head_hash == e.hash {
                        if witnessed {
                            witness_matched += 1;
                            witnessed_seq = e.seq;
                        } else {
                            matched_checkpoints += 1;
                        }
                        last_good_checkpoint = e.seq;
                    } else {
                        report(
                            Problem {
                                seq: e.seq,
                                position: pos,
                                kind: ProblemKind::CheckpointMismatch {
                                    since: last_good_checkpoint,
                                },
                            },
                            &mut problems,
                        );
                    }
                }
            }
            expected = e.seq + 1;
            prev = e.hash;
            last_seq = e.seq;
        }
    }

    // Genuine checkpoints the walk never reached.
    for (seq, cps) in pins {
        let mut seen = std::collections::BTreeSet::new();
        for (cp, _) in cps {
            // A checkpoint held both locally and by witnesses is one problem, not several.
            if !seen.insert((cp.head_hash, cp.signature)) {
                continue;
            }
            let kind = if seq > last_seq {
                ProblemKind::Truncated {
                    checkpoint_seq: seq,
                    last_seq,
                }
            } else {
                ProblemKind::CheckpointMismatch {
                    since: last_good_checkpoint.min(seq.saturating_sub(1)),
                }
            };
            let at = if seq > last_seq { last_seq + 1 } else { seq };
            report(
                Problem {
                    seq: at,
                    position: None,
                    kind,
                },
                &mut problems,
            );
        }
    }

    for (seq, from, to) in marked {
        report(
            Problem {
                seq,
                position: None,
                kind: ProblemKind::Unanchored { from, to },
            },
            &mut problems,
        );
    }
    if let Some(through) = opts.anchored_through.map(|t| t.min(last_seq))
        && through > last_good_checkpoint
    {
        report(
            Problem {
                seq: last_good_checkpoint + 1,
                position: None,
                kind: ProblemKind::Unanchored {
                    from: last_good_checkpoint + 1,
                    to: through,
                },
            },
            &mut problems,
        );
    }
    if let Some(through) = opts.witnessed_through.map(|t| t.min(last_seq))
        && through > witnessed_seq
    {
        report(
            Problem {
                seq: witnessed_seq + 1,
                position: None,
                kind: ProblemKind::Unwitnessed {
                    from: witnessed_seq + 1,
                    to: through,
                },
            },
            &mut problems,
        );
    }

    if let Some(interval) = opts.checkpoint_interval.filter(|i| *i > 0) {
        let have: std::collections::BTreeSet<u64> = checkpoints
            .iter()
            .filter(|c| c.verify_signature(node_key))
            .map(|c| c.seq)
            .collect();
        let mut s = interval;
        while s <= last_seq {
            if !have.contains(&s) {
                report(
                    Problem {
                        seq: s,
                        position: None,
                        kind: ProblemKind::CheckpointMissing,
                    },
                    &mut problems,
                );
            }
            s += interval;
        }
    }

    let first_problem = problems
        .iter()
        .enumerate()
        .min_by_key(|(i, p)| (p.seq, *i))
        .map(|(_, p)| p.clone());
    VerifyReport {
        ok: problems.is_empty() && !truncated,
        entries: count,
        last_seq,
        head_hash: prev,
        checkpoints_verified: matched_checkpoints,
        anchored_seq: last_good_checkpoint,
        witness_copies_verified: witness_matched,
        witnessed_seq,
        first_problem,
        problems,
        problems_truncated: truncated,
    }
}

// ---------------------------------------------------------------------------------------------
// Storage

/// Durable storage of the log. Implementations: [`MemoryAuditStore`] here; SQL with the
/// server (schema in docs/EXCHANGE.md).
pub trait AuditStore {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Appends a batch atomically (all or nothing). The batch must continue the stored head:
    /// its first entry's seq is head.seq + 1 and its prev_hash is head.hash, and it is linked
    /// internally; otherwise the store refuses, so two writers can never fork the chain.
    fn append_batch(&mut self, entries: &[AuditEntry]) -> Result<(), Self::Error>;
    /// The stored head.
    fn head(&self) -> Result<ChainHead, Self::Error>;
    /// Up to `limit` entries with seq >= `from_seq`, in seq order.
    fn read_range(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, Self::Error>;
    /// Stores a checkpoint.
    fn put_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), Self::Error>;
    /// All checkpoints, in seq order.
    fn checkpoints(&self) -> Result<Vec<Checkpoint>, Self::Error>;
    /// Entries about a data subject (by [`subject_hash`]), in seq order.
    fn by_subject(&self, subject: &HashValue) -> Result<Vec<AuditEntry>, Self::Error>;
}

/// Why [`AuditLog::append_or_resync`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ResyncError<E: std::error::Error + 'static> {
    #[error(transparent)]
    Store(E),
    #[error(
        "audit entries {from}..={to} were written by another writer and are not pinned by a \
         checkpoint of this node's key: refusing to link after them"
    )]
    Unanchored { from: u64, to: u64 },
}

/// Why a store refused an append.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("batch does not continue the head: expected seq {expected}, got {found}")]
    NotContinuing { expected: u64, found: u64 },
    #[error("batch entry {seq} is not linked to its predecessor")]
    NotLinked { seq: u64 },
}

/// An in-memory [`AuditStore`] for tests and the sandbox.
#[derive(Debug, Default, Clone)]
pub struct MemoryAuditStore {
    pub entries: Vec<AuditEntry>,
    pub checkpoints: Vec<Checkpoint>,
}

impl AuditStore for MemoryAuditStore {
    type Error = StoreError;

    fn append_batch(&mut self, batch: &[AuditEntry]) -> Result<(), StoreError> {
        let mut head = self.head()?;
        for e in batch {
            if e.seq != head.seq + 1 {
                return Err(StoreError::NotContinuing {
                    expected: head.seq + 1,
                    found: e.seq,
                });
            }
            if e.prev_hash != head.hash || e.compute_hash() != e.hash {
                return Err(StoreError::NotLinked { seq: e.seq });
            }
            head = ChainHead {
                seq: e.seq,
                hash: e.hash,
            };
        }
        self.entries.extend_from_slice(batch);
        Ok(())
    }

    fn head(&self) -> Result<ChainHead, StoreError> {
        Ok(self
            .entries
            .last()
            .map_or(ChainHead::default(), |e| ChainHead {
                seq: e.seq,
                hash: e.hash,
            }))
    }

    fn read_range(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let start = self.entries.partition_point(|e| e.seq < from_seq);
        Ok(self.entries[start..].iter().take(limit).cloned().collect())
    }

    fn put_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let at = self
            .checkpoints
            .partition_point(|c| c.seq <= checkpoint.seq);
        self.checkpoints.insert(at, checkpoint.clone());
        Ok(())
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        Ok(self.checkpoints.clone())
    }

    fn by_subject(&self, subject: &HashValue) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self
            .entries
            .iter()
            .filter(|e| e.subject_hash.as_ref() == Some(subject))
            .cloned()
            .collect())
    }
}

/// A writer over a store: keeps the head, links records, writes batches, signs checkpoints.
#[derive(Debug)]
pub struct AuditLog<S: AuditStore> {
    node: String,
    head: ChainHead,
    store: S,
}

impl<S: AuditStore> AuditLog<S> {
    /// Opens a log on a store, continuing from its head.
    pub fn open(node: &str, store: S) -> Result<AuditLog<S>, S::Error> {
        let head = store.head()?;
        Ok(AuditLog {
            node: node.to_owned(),
            head,
            store,
        })
    }

    pub fn head(&self) -> ChainHead {
        self.head
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The node name written into checkpoints.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Links and durably appends records as one batch. On failure nothing is appended and the
    /// head does not move: the caller must refuse the requests (AUDIT_UNAVAILABLE).
    pub fn append(&mut self, records: Vec<AuditRecord>) -> Result<Vec<AuditEntry>, S::Error> {
        let mut head = self.head;
        let entries: Vec<AuditEntry> = records.into_iter().map(|r| head.append(r)).collect();
        self.store.append_batch(&entries)?;
        self.head = head;
        Ok(entries)
    }

    /// Like [`AuditLog::append`], but when the write fails because another writer appended
    /// to the log (an administrator's command writing to a node's log), the head is re-read
    /// from the store and the records are linked after it and written once more. The store's
    /// own check that a batch continues its head (and the unique `seq`) makes the second
    /// writer fail instead of forking the chain.
    ///
    /// `anchor`: when given, the log is followed only if the other writer's entries end at a
    /// checkpoint signed with this key (as `sinergi pks` signs one after its entry) and link
    /// to this writer's head; otherwise the append fails with [`ResyncError::Unanchored`] and
    /// nothing is written: entries that someone with write access to the database appended
    /// behind the node's back are never covered by the node's next checkpoint.
    ///
    /// If the first write did reach the store before failing, the retry writes the records a
    /// second time under new seqs: an attempt is then logged twice, never not at all.
    pub fn append_or_resync(
        &mut self,
        records: Vec<AuditRecord>,
        anchor: Option<&VerifyingKey>,
    ) -> Result<Vec<AuditEntry>, ResyncError<S::Error>> {
        let mut head = self.head;
        let entries: Vec<AuditEntry> = records.into_iter().map(|r| head.append(r)).collect();
        match self.store.append_batch(&entries) {
            Ok(()) => {
                self.head = head;
                Ok(entries)
            }
            Err(first) => {
                let Ok(stored) = self.store.head() else {
                    return Err(ResyncError::Store(first));
                };
                if stored == self.head {
                    // The log did not move: a real failure, not a second writer.
                    return Err(ResyncError::Store(first));
                }
                if let Some(key) = anchor {
                    self.check_anchored(stored, key)?;
                }
                self.head = stored;
                self.append(entries.into_iter().map(AuditEntry::into_record).collect())
                    .map_err(ResyncError::Store)
            }
        }
    }

    /// Whether the store's entries after this writer's head link to it and end at `stored`,
    /// pinned by a checkpoint signed with `key`.
    fn check_anchored(
        &self,
        stored: ChainHead,
        key: &VerifyingKey,
    ) -> Result<(), ResyncError<S::Error>> {
        let unanchored = || ResyncError::Unanchored {
            from: self.head.seq + 1,
            to: stored.seq,
        };
        if stored.seq <= self.head.seq {
            return Err(unanchored());
        }
        let pinned = self
            .store
            .checkpoints()
            .map_err(ResyncError::Store)?
            .iter()
            .any(|c| c.seq == stored.seq && c.head_hash == stored.hash && c.verify_signature(key));
        if !pinned {
            return Err(unanchored());
        }
        let mut prev = self.head;
        let mut from = self.head.seq + 1;
        while from <= stored.seq {
            let page = self
                .store
                .read_range(from, 10_000)
                .map_err(ResyncError::Store)?;
            if page.is_empty() {
                return Err(unanchored());
            }
            for e in page.iter().take_while(|e| e.seq <= stored.seq) {
                if e.seq != prev.seq + 1 || e.prev_hash != prev.hash || e.compute_hash() != e.hash {
                    return Err(unanchored());
                }
                prev = ChainHead {
                    seq: e.seq,
                    hash: e.hash,
                };
            }
            from = prev.seq + 1;
            if page.last().is_some_and(|e| e.seq >= stored.seq) {
                break;
            }
        }
        if prev == stored {
            Ok(())
        } else {
            Err(unanchored())
        }
    }

    /// The highest seq pinned by a checkpoint of the store signed with `key` that matches the
    /// stored entry (0: none); the node compares it with its head at start.
    pub fn anchored_seq(&self, key: &VerifyingKey) -> Result<u64, S::Error> {
        let mut cps = self.store.checkpoints()?;
        cps.sort_by_key(|c| std::cmp::Reverse(c.seq));
        for c in cps {
            if c.seq > self.head.seq || !c.verify_signature(key) {
                continue;
            }
            let e = self.store.read_range(c.seq, 1)?;
            if e.first()
                .is_some_and(|e| e.seq == c.seq && e.hash == c.head_hash)
            {
                return Ok(c.seq);
            }
        }
        Ok(0)
    }

    /// Signs and stores a checkpoint of an entry this writer appended (its seq and hash):
    /// checkpoints fall on exact multiples of the interval, whatever the batch boundaries.
    pub fn checkpoint_entry(
        &mut self,
        entry: &AuditEntry,
        key: &SigningKey,
        at: Timestamp,
    ) -> Result<Checkpoint, S::Error> {
        let head = ChainHead {
            seq: entry.seq,
            hash: entry.hash,
        };
        let cp = Checkpoint::sign(&self.node, head, at, key);
        self.store.put_checkpoint(&cp)?;
        Ok(cp)
    }

    /// Signs and stores a checkpoint of the current head.
    pub fn checkpoint(&mut self, key: &SigningKey, at: Timestamp) -> Result<Checkpoint, S::Error> {
        let cp = Checkpoint::sign(&self.node, self.head, at, key);
        self.store.put_checkpoint(&cp)?;
        Ok(cp)
    }
}
