use proptest::prelude::*;
use sinergi_exchange::audit::{
    AuditStore as _, ChainHead, ProblemKind, VerifyOptions, request_hash, verify_with,
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
    let e = admin.append_or_resync(vec![record(3)]).unwrap();
    assert_eq!(e[0].seq, 3);
    assert_eq!(e[0].request_id, "req-000003");
    // The node, stale in turn, follows the admin's entry.
    let e = node.append_or_resync(vec![record(4), record(5)]).unwrap();
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
