use proptest::prelude::*;
use sinergi_exchange::audit::{
    AuditStore as _, ChainHead, ProblemKind, ResyncError, START_MARKER_DECISION,
    START_MARKER_SERVICE, VerifyOptions, WitnessReceipt, request_hash, verify_anchored,
    verify_with,
};
use sinergi_exchange::{
    AuditEntry, AuditLog, AuditRecord, Checkpoint, HashValue, MemoryAuditStore, NodeSecret,
    SigningKey, Timestamp, VerifyReport, subject_hash, verify, who_accessed,
};

const NODE: &str = "ID/GOV/KEMENDAGRI-DUKCAPIL/NODE-1";

fn node_key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

fn secret() -> NodeSecret {
    NodeSecret::from_bytes([5u8; 32])
}

fn record(i: u64) -> AuditRecord {
    let allowed = i % 7 != 0;
    AuditRecord {
        at: Timestamp(1_750_000_000_000_000 + i as i64 * 1_000),
        node: NODE.into(),
        request_id: format!("req-{i:06}"),
        client: "ID/GOV/DINSOS-3301/BANSOS".into(),
        service: "ID/GOV/KEMENDAGRI-DUKCAPIL/DATA/verifikasi_nik".into(),
        purpose: "VALIDASI_BANSOS".into(),
        pks_id: (i % 3 != 0).then(|| "PKS-001".into()),
        user_id: format!("petugas{}", i % 4),
        issue: format!("SK-{}/2025", i % 10),
        decision: if allowed {
            "ALLOWED".into()
        } else {
            "QUOTA_EXCEEDED".into()
        },
        clause: if allowed {
            "PKS-001#grant".into()
        } else {
            "PKS-001#quota.per_second".into()
        },
        subject_hash: (i % 5 != 0)
            .then(|| subject_hash(&secret(), &format!("33010101010{:05}", i % 50))),
        status: if allowed { 200 } else { 429 },
        latency_us: 300 + i,
        request_hash: request_hash("POST", "https://n/r1/x", format!("{i}").as_bytes()),
    }
}

/// A log of `n` entries with a signed checkpoint every `every` entries.
fn log(n: u64, every: u64) -> (Vec<AuditEntry>, Vec<Checkpoint>) {
    let mut l = AuditLog::open(NODE, MemoryAuditStore::default()).unwrap();
    for chunk in (1..=n).collect::<Vec<_>>().chunks(every as usize) {
        l.append(chunk.iter().map(|i| record(*i)).collect())
            .unwrap();
        l.checkpoint(
            &node_key(),
            Timestamp(1_750_000_000_000_000 + chunk[chunk.len() - 1] as i64),
        )
        .unwrap();
    }
    let s = l.store();
    (s.entries.clone(), s.checkpoints.clone())
}

fn check(entries: &[AuditEntry], cps: &[Checkpoint]) -> VerifyReport {
    verify_with(
        entries,
        cps,
        &node_key().verifying_key(),
        VerifyOptions {
            checkpoint_interval: Some(25),
            ..VerifyOptions::default()
        },
    )
}

fn first(r: &VerifyReport) -> (u64, ProblemKind) {
    let p = r.first_problem.clone().expect("a problem is reported");
    (p.seq, p.kind)
}

/// Recomputes every hash from `from` (0-based index) on, as an attacker with write access
/// to the table would.
fn rehash_from(entries: &mut [AuditEntry], from: usize) {
    for i in from..entries.len() {
        let prev = if i == 0 {
            HashValue::default()
        } else {
            entries[i - 1].hash
        };
        entries[i].prev_hash = prev;
        entries[i].hash = entries[i].compute_hash();
    }
}

#[test]
fn an_intact_log_verifies() {
    let (e, c) = log(100, 25);
    let r = check(&e, &c);
    assert!(r.ok, "{r:?}");
    assert_eq!(
        (r.entries, r.last_seq, r.checkpoints_verified),
        (100, 100, 4)
    );
    assert_eq!(r.head_hash, e[99].hash);
    assert!(verify(Vec::<AuditEntry>::new(), &[], &node_key().verifying_key()).ok);
}

#[test]
fn every_tampering_is_detected_where_it_happened() {
    type Tamper = fn(&mut Vec<AuditEntry>, &mut Vec<Checkpoint>);
    let cases: Vec<(&str, Tamper, u64, ProblemKind)> = vec![
        (
            "alter a field",
            |e, _| e[36].decision = "ALLOWED_X".into(),
            37,
            ProblemKind::HashMismatch,
        ),
        (
            "alter the subject hash",
            |e, _| e[36].subject_hash = None,
            37,
            ProblemKind::HashMismatch,
        ),
        (
            "alter the time",
            |e, _| e[36].at = Timestamp(e[36].at.0 + 1),
            37,
            ProblemKind::HashMismatch,
        ),
        (
            "alter a field and re-hash it",
            |e, _| {
                // seq 35 was refused (QUOTA_EXCEEDED); rewrite it as allowed.
                e[34].status = 200;
                e[34].decision = "ALLOWED".into();
                e[34].hash = e[34].compute_hash();
            },
            36,
            ProblemKind::ChainBroken,
        ),
        (
            "delete an entry",
            |e, _| {
                e.remove(36);
            },
            37,
            ProblemKind::Missing {
                expected: 37,
                found: 38,
            },
        ),
        (
            "delete several entries",
            |e, _| {
                e.drain(36..40);
            },
            37,
            ProblemKind::Missing {
                expected: 37,
                found: 41,
            },
        ),
        (
            "swap two entries",
            |e, _| e.swap(36, 37),
            37,
            ProblemKind::Reordered {
                expected: 37,
                found: 38,
            },
        ),
        (
            "move an entry later",
            |e, _| {
                let x = e.remove(36);
                e.insert(40, x);
            },
            37,
            ProblemKind::Missing {
                expected: 37,
                found: 38,
            },
        ),
        (
            "insert a forged entry",
            |e, _| {
                let mut forged = AuditEntry::new(37, e[35].hash, record(37));
                forged.client = "ID/GOV/PENYUSUP/X".into();
                forged.hash = forged.compute_hash();
                e.insert(36, forged);
            },
            37,
            ProblemKind::OutOfOrder {
                expected: 38,
                found: 37,
            },
        ),
        (
            "insert a forged entry and renumber and re-hash the rest",
            |e, _| {
                let forged = AuditEntry::new(37, e[35].hash, record(1000));
                e.insert(36, forged);
                for (i, x) in e.iter_mut().enumerate() {
                    x.seq = i as u64 + 1;
                }
                rehash_from(e, 36);
            },
            50,
            ProblemKind::CheckpointMismatch { since: 25 },
        ),
        (
            "delete, renumber and re-hash the rest",
            |e, _| {
                e.remove(60);
                for (i, x) in e.iter_mut().enumerate() {
                    x.seq = i as u64 + 1;
                }
                rehash_from(e, 60);
            },
            75,
            ProblemKind::CheckpointMismatch { since: 50 },
        ),
        (
            "truncate the tail after a checkpoint",
            |e, _| e.truncate(60),
            61,
            ProblemKind::Truncated {
                checkpoint_seq: 75,
                last_seq: 60,
            },
        ),
        (
            "truncate everything",
            |e, _| e.clear(),
            1,
            ProblemKind::Truncated {
                checkpoint_seq: 25,
                last_seq: 0,
            },
        ),
        (
            "forge a checkpoint",
            |_, c| {
                let h = ChainHead {
                    seq: 60,
                    hash: HashValue([1; 32]),
                };
                c.push(Checkpoint::sign(
                    NODE,
                    h,
                    Timestamp(0),
                    &SigningKey::from_bytes(&[9; 32]),
                ));
            },
            60,
            ProblemKind::CheckpointForged,
        ),
        (
            "alter a checkpoint's hash",
            |_, c| c[1].head_hash = HashValue([2; 32]),
            50,
            ProblemKind::CheckpointForged,
        ),
        (
            "remove a checkpoint",
            |_, c| {
                c.remove(1);
            },
            50,
            ProblemKind::CheckpointMissing,
        ),
    ];
    for (name, tamper, seq, kind) in cases {
        let (mut e, mut c) = log(100, 25);
        tamper(&mut e, &mut c);
        let r = check(&e, &c);
        assert!(!r.ok, "{name}: not detected");
        assert_eq!(first(&r), (seq, kind), "{name}: {:#?}", r.problems);
    }
}

#[test]
fn the_tail_after_the_last_checkpoint_is_pinned_only_by_the_next_checkpoint() {
    // Documented limit: removing entries written after the last checkpoint leaves a valid
    // shorter chain. Checkpoint often, and ship checkpoints off the node.
    let (mut e, c) = log(100, 25);
    let mut head = ChainHead {
        seq: 100,
        hash: e[99].hash,
    };
    for i in 101..=110 {
        e.push(head.append(record(i)));
    }
    assert!(check(&e, &c).ok);
    e.truncate(105);
    assert!(check(&e, &c).ok);
}

#[test]
fn the_store_refuses_a_fork() {
    let mut store = MemoryAuditStore::default();
    let mut head = ChainHead::default();
    let a = head.append(record(1));
    store.append_batch(std::slice::from_ref(&a)).unwrap();
    let mut other = ChainHead::default();
    let fork = other.append(record(2));
    assert!(store.append_batch(&[fork]).is_err(), "seq 1 again");
    let bad_link = AuditEntry::new(2, HashValue([3; 32]), record(2));
    assert!(
        store.append_batch(&[bad_link]).is_err(),
        "not linked to the head"
    );
    let b = head.append(record(2));
    store.append_batch(&[b]).unwrap();
    assert_eq!(store.head().unwrap(), head);
    assert_eq!(store.read_range(2, 10).unwrap().len(), 1);
}

#[test]
fn who_accessed_a_nik_without_the_log_holding_niks() {
    let (e, _) = log(100, 25);
    let nik = "3301010101000007";
    let wanted = who_accessed(nik, &secret());
    assert_eq!(wanted, subject_hash(&secret(), " 3301010101000007 "));
    assert_ne!(wanted, subject_hash(&NodeSecret::from_bytes([6; 32]), nik));
    let mut store = MemoryAuditStore::default();
    store.append_batch(&e).unwrap();
    let hits = store.by_subject(&wanted).unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.subject_hash == Some(wanted)));
    for x in &e {
        let bytes = x.canonical_bytes();
        assert!(
            !bytes.windows(nik.len()).any(|w| w == nik.as_bytes()),
            "NIK in the log"
        );
    }
}

#[test]
fn canonical_serialisation_is_fixed() {
    let e = AuditEntry::new(1, HashValue::default(), record(1));
    let b = e.canonical_bytes();
    assert_eq!(&b[..16], b"sinergi-audit-v1");
    assert_eq!(&b[16..48], &[0u8; 32]);
    assert_eq!(&b[48..56], &1u64.to_be_bytes());
    assert_eq!(&b[56..64], &e.at.0.to_be_bytes());
    assert_eq!(&b[64..68], &(NODE.len() as u32).to_be_bytes());
    assert_eq!(&b[68..68 + NODE.len()], NODE.as_bytes());
    assert_eq!(&b[b.len() - 32..], &e.request_hash.0);
    use sha2::Digest as _;
    assert_eq!(HashValue(sha2::Sha256::digest(&b).into()), e.hash);
    // Moving a byte between adjacent fields changes the hash (length prefixes).
    let mut a = record(1);
    a.user_id = "ab".into();
    a.issue = "c".into();
    let mut b2 = record(1);
    b2.user_id = "a".into();
    b2.issue = "bc".into();
    assert_ne!(
        AuditEntry::new(1, HashValue::default(), a).hash,
        AuditEntry::new(1, HashValue::default(), b2).hash
    );
}

#[derive(Debug, Clone)]
enum Tamper {
    Field(usize, u8),
    Delete(usize),
    Swap(usize),
    Duplicate(usize),
    RewriteFrom(usize),
}

fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        (0..60usize, 0..8u8).prop_map(|(i, f)| Tamper::Field(i, f)),
        (0..60usize).prop_map(Tamper::Delete),
        (0..59usize).prop_map(Tamper::Swap),
        (0..60usize).prop_map(Tamper::Duplicate),
        (0..60usize).prop_map(Tamper::RewriteFrom),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn random_tampering_is_always_detected(t in tamper(), rehash in any::<bool>()) {
        let (mut e, c) = log(60, 20);
        match t {
            Tamper::Field(i, f) => {
                let x = &mut e[i];
                match f {
                    0 => x.client.push('X'),
                    1 => x.decision = "DIUBAH".into(),
                    2 => x.status ^= 1,
                    3 => x.latency_us += 1,
                    4 => x.seq += 1000,
                    5 => x.pks_id = if x.pks_id.is_some() { None } else { Some("PKS-X".into()) },
                    6 => x.prev_hash.0[0] ^= 1,
                    _ => x.user_id.clear(),
                }
                if rehash {
                    x.hash = x.compute_hash();
                }
            }
            Tamper::Delete(i) => { e.remove(i); }
            Tamper::Swap(i) => e.swap(i, i + 1),
            Tamper::Duplicate(i) => { let x = e[i].clone(); e.insert(i, x); }
            Tamper::RewriteFrom(i) => {
                e[i].purpose = "LAIN".into();
                rehash_from(&mut e, i);
            }
        }
        let r = verify(&e, &c, &node_key().verifying_key());
        prop_assert!(!r.ok, "undetected: {:?}", t);
        prop_assert!(r.first_problem.is_some());
    }
}

/// A store two logs share (two processes appending to one database).
#[derive(Clone, Default)]
struct Shared(std::rc::Rc<std::cell::RefCell<MemoryAuditStore>>);

impl sinergi_exchange::AuditStore for Shared {
    type Error = sinergi_exchange::audit::StoreError;
    fn append_batch(&mut self, e: &[AuditEntry]) -> Result<(), Self::Error> {
        self.0.borrow_mut().append_batch(e)
    }
    fn head(&self) -> Result<ChainHead, Self::Error> {
        self.0.borrow().head()
    }
    fn read_range(&self, from: u64, limit: usize) -> Result<Vec<AuditEntry>, Self::Error> {
        self.0.borrow().read_range(from, limit)
    }
    fn put_checkpoint(&mut self, c: &Checkpoint) -> Result<(), Self::Error> {
        self.0.borrow_mut().put_checkpoint(c)
    }
    fn checkpoints(&self) -> Result<Vec<Checkpoint>, Self::Error> {
        self.0.borrow().checkpoints()
    }
    fn by_subject(&self, s: &HashValue) -> Result<Vec<AuditEntry>, Self::Error> {
        self.0.borrow().by_subject(s)
    }
}

#[test]
fn a_second_writer_is_refused_by_append_and_followed_by_append_or_resync() {
    let store = Shared::default();
    let mut node = AuditLog::open(NODE, store.clone()).unwrap();
    let mut admin = AuditLog::open(NODE, store.clone()).unwrap();
    node.append(vec![record(1), record(2)]).unwrap();
    // The admin's head is stale: the store refuses rather than forking the chain...
    assert!(admin.append(vec![record(3)]).is_err());
    assert_eq!(admin.head().seq, 0);
    // ...and append_or_resync continues after what the node wrote.
    let e = admin.append_or_resync(vec![record(3)], None).unwrap();
    assert_eq!(e[0].seq, 3);
    assert_eq!(e[0].request_id, "req-000003");
    // The node, stale in turn, follows the admin's entry.
    // The node follows only entries pinned by a checkpoint of its key: the admin's entry is
    // not (yet), so the node refuses and writes nothing...
    let key = node_key().verifying_key();
    let e = node.append_or_resync(vec![record(4)], Some(&key));
    assert!(
        matches!(e, Err(ResyncError::Unanchored { from: 3, to: 3 })),
        "{e:?}"
    );
    assert_eq!(store.0.borrow().head().unwrap().seq, 3);
    // ...until the admin signs one with the node's key (as `sinergi pks` does).
    admin
        .checkpoint(&node_key(), Timestamp(1_750_000_050_000_000))
        .unwrap();
    let e = node
        .append_or_resync(vec![record(4), record(5)], Some(&key))
        .unwrap();
    assert_eq!(e.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4, 5]);
    node.checkpoint(&node_key(), Timestamp(1_750_000_100_000_000))
        .unwrap();
    let all = store.0.borrow().read_range(1, 100).unwrap();
    let cps = store.0.borrow().checkpoints().unwrap();
    let r = verify(all.iter(), &cps, &node_key().verifying_key());
    assert!(r.ok, "{r:?}");
    assert_eq!(r.entries, 5);
    // An entry turned back into its record links to the same hash after the same head.
    let again = AuditEntry::new(3, all[1].hash, all[2].clone().into_record());
    assert_eq!(again, all[2]);
}

// ---- anchoring: witnesses, unanchored tails (issue 14, hole 1) -------------------------------

fn witness_key() -> SigningKey {
    SigningKey::from_bytes(&[43u8; 32])
}

fn anchored(
    entries: &[AuditEntry],
    cps: &[Checkpoint],
    witness: &[Checkpoint],
    through: Option<u64>,
) -> VerifyReport {
    verify_anchored(
        entries,
        cps,
        witness,
        &node_key().verifying_key(),
        VerifyOptions {
            checkpoint_interval: Some(25),
            anchored_through: through,
            witnessed_through: through,
            ..VerifyOptions::default()
        },
    )
}

#[test]
fn a_log_cut_short_with_its_checkpoints_is_caught_by_the_witness_copy() {
    let (e, c) = log(100, 25);
    let witness = c.clone();
    // The tail and every checkpoint after the cut are deleted: locally consistent...
    let (cut, cut_cps) = (&e[..60], &c[..2]);
    let local = verify_with(
        cut,
        cut_cps,
        &node_key().verifying_key(),
        VerifyOptions::default(),
    );
    assert!(local.ok, "locally it looks intact: {local:?}");
    // ...but the witness holds checkpoints 75 and 100.
    let r = anchored(cut, cut_cps, &witness, None);
    assert!(!r.ok);
    assert!(
        r.problems.iter().any(|p| p.kind
            == ProblemKind::Truncated {
                checkpoint_seq: 100,
                last_seq: 60
            }),
        "{r:?}"
    );
    // A checkpoint held locally and by the witness is counted once.
    let full = anchored(&e, &c, &witness, Some(100));
    assert!(full.ok, "{full:?}");
    assert_eq!((full.witnessed_seq, full.anchored_seq), (100, 100));
    assert_eq!(full.witness_copies_verified, 4);
}

#[test]
fn a_rehashed_log_without_checkpoints_is_caught() {
    let (mut e, c) = log(100, 25);
    e[10].purpose = "PENAGIHAN_PAJAK".into();
    rehash_from(&mut e, 10);
    // Every checkpoint deleted: the interval says they are missing...
    let r = anchored(&e, &[], &[], None);
    assert_eq!(first(&r), (25, ProblemKind::CheckpointMissing));
    // ...and the witness's copy no longer matches.
    let r = anchored(&e, &[], &c, None);
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p.kind, ProblemKind::CheckpointMismatch { .. })),
        "{r:?}"
    );
}

#[test]
fn a_forged_entry_after_the_last_checkpoint_is_unanchored() {
    let (mut e, c) = log(100, 25);
    let mut head = ChainHead {
        seq: 100,
        hash: e[99].hash,
    };
    e.push(head.append(record(101)));
    // Without the requirement, the extension passes (today's `audit verify`).
    assert!(anchored(&e, &c, &c, None).ok);
    let r = anchored(&e, &c, &c, Some(101));
    assert!(!r.ok);
    assert!(
        r.problems
            .iter()
            .any(|p| p.kind == ProblemKind::Unanchored { from: 101, to: 101 })
    );
    assert!(
        r.problems
            .iter()
            .any(|p| p.kind == ProblemKind::Unwitnessed { from: 101, to: 101 })
    );
}

#[test]
fn a_start_marker_keeps_reporting_the_range_it_found_unanchored() {
    let (mut e, mut c) = log(50, 25);
    let mut head = ChainHead {
        seq: 50,
        hash: e[49].hash,
    };
    e.push(head.append(record(51))); // written behind the node's back
    let mut marker = record(52);
    marker.service = START_MARKER_SERVICE.into();
    marker.decision = START_MARKER_DECISION.into();
    marker.issue = "51..51".into();
    e.push(head.append(marker));
    // The node's next checkpoint covers both, but the marker keeps the range reported.
    c.push(Checkpoint::sign(NODE, head, Timestamp(1), &node_key()));
    let r = anchored(&e, &c, &c, Some(52));
    assert_eq!(
        r.problems
            .iter()
            .map(|p| p.kind.clone())
            .collect::<Vec<_>>(),
        vec![ProblemKind::Unanchored { from: 51, to: 51 }]
    );
}

#[test]
fn a_witness_receipt_verifies_with_the_witness_key_only() {
    let (_, c) = log(25, 25);
    let r = WitnessReceipt::sign(&c[0], "bpjs", Timestamp(5), &witness_key());
    assert!(r.verify_signature(&witness_key().verifying_key()));
    assert!(!r.verify_signature(&node_key().verifying_key()));
    let mut forged = r.clone();
    forged.checkpoint.seq = 24;
    assert!(!forged.verify_signature(&witness_key().verifying_key()));
    let json = serde_json::to_string(&r).unwrap();
    let back: WitnessReceipt = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}
