use sinergi_exchange::agreement::{AgreementError, normalize_region};
use sinergi_exchange::{
    AccessRequest, Agreement, AgreementStatus, ErrorCode, Quota, QuotaTracker, RegionScope,
    ServiceGrant, Timestamp, decide, decide_call, evaluate,
};

use crate::common::{client, service, wib};

fn dukcapil() -> sinergi_exchange::ClientId {
    client("KEMENDAGRI-DUKCAPIL", "DATA")
}

fn dinsos() -> sinergi_exchange::ClientId {
    client("DINSOS-3301", "BANSOS")
}

fn pks() -> Agreement {
    Agreement {
        id: "PKS-001".into(),
        provider: dukcapil(),
        consumer: dinsos(),
        services: vec![
            ServiceGrant {
                service_code: "verifikasi_nik".into(),
                fields: vec!["nama".into(), "tgl_lahir".into(), "alamat".into()],
            },
            ServiceGrant {
                service_code: "status_hidup".into(),
                fields: vec![],
            },
        ],
        purposes: vec!["VALIDASI_BANSOS".into()],
        legal_basis: "UU 24/2013 jo. UU 23/2006; Permendagri 102/2019; PKS-001".into(),
        region_scope: RegionScope::Regions(vec!["33.01".into()]),
        valid_from: Timestamp(0),
        valid_until: Timestamp(0),
        quota: Quota {
            per_second: 2,
            per_day: 5,
        },
        status_history: vec![],
    }
    .with_dates("2025-01-01", "2025-12-31")
    .unwrap()
}

fn request() -> AccessRequest {
    AccessRequest {
        consumer: dinsos(),
        service: service(&dukcapil(), "verifikasi_nik"),
        purpose: "VALIDASI_BANSOS".into(),
        pks_id: None,
        subject_region: Some("33.01.02.2001".into()),
        fields_requested: vec!["nama".into(), "tgl_lahir".into()],
        at: wib("2025-06-01", 9 * 3600),
    }
}

type Tweak<T> = fn(&mut T);
/// (name, change to the agreement, change to the request, code, clause)
type Case = (
    &'static str,
    Tweak<Agreement>,
    Tweak<AccessRequest>,
    &'static str,
    &'static str,
);

#[test]
fn every_agreement_refusal_has_its_code_and_clause() {
    let cases: Vec<Case> = vec![
        ("allowed", |_| {}, |_| {}, "ALLOWED", "PKS-001#grant"),
        (
            "allowed citing the PKS",
            |_| {},
            |r| r.pks_id = Some("PKS-001".into()),
            "ALLOWED",
            "PKS-001#grant",
        ),
        (
            "yes/no only, no fields",
            |_| {},
            |r| r.fields_requested.clear(),
            "ALLOWED",
            "PKS-001#grant",
        ),
        (
            "region given without dots",
            |_| {},
            |r| r.subject_region = Some("3301022001".into()),
            "ALLOWED",
            "PKS-001#grant",
        ),
        (
            "national scope",
            |a| a.region_scope = RegionScope::National,
            |r| r.subject_region = None,
            "ALLOWED",
            "PKS-001#grant",
        ),
        (
            "last second of validity",
            |_| {},
            |r| r.at = wib("2026-01-01", 0).prev(),
            "ALLOWED",
            "PKS-001#grant",
        ),
        (
            "no agreement with this consumer",
            |_| {},
            |r| r.consumer = client("DINSOS-3302", "BANSOS"),
            "NO_AGREEMENT",
            "default-deny",
        ),
        (
            "no agreement with this provider",
            |_| {},
            |r| r.service = service(&client("BPJS-KESEHATAN", "DATA"), "verifikasi_nik"),
            "NO_AGREEMENT",
            "default-deny",
        ),
        (
            "cited PKS does not exist",
            |_| {},
            |r| r.pks_id = Some("PKS-999".into()),
            "NO_AGREEMENT",
            "default-deny",
        ),
        (
            "expired",
            |_| {},
            |r| r.at = wib("2026-01-01", 0),
            "AGREEMENT_EXPIRED",
            "PKS-001#valid_until",
        ),
        (
            "not yet valid",
            |_| {},
            |r| r.at = wib("2025-01-01", 0).prev(),
            "AGREEMENT_NOT_YET_VALID",
            "PKS-001#valid_from",
        ),
        (
            "revoked",
            |a| {
                a.set_status(
                    AgreementStatus::Revoked,
                    "kadis.dukcapil",
                    wib("2025-03-01", 0),
                    "kebocoran data",
                )
                .unwrap()
            },
            |_| {},
            "AGREEMENT_REVOKED",
            "PKS-001#status",
        ),
        (
            "suspended",
            |a| {
                a.set_status(
                    AgreementStatus::Suspended,
                    "admin.dukcapil",
                    wib("2025-05-01", 0),
                    "audit BPK",
                )
                .unwrap()
            },
            |_| {},
            "AGREEMENT_SUSPENDED",
            "PKS-001#status",
        ),
        (
            "suspended later than the request",
            |a| {
                a.set_status(
                    AgreementStatus::Suspended,
                    "admin.dukcapil",
                    wib("2025-07-01", 0),
                    "audit",
                )
                .unwrap()
            },
            |_| {},
            "ALLOWED",
            "PKS-001#grant",
        ),
        (
            "suspended then reinstated",
            |a| {
                a.set_status(
                    AgreementStatus::Suspended,
                    "admin",
                    wib("2025-05-01", 0),
                    "audit",
                )
                .unwrap();
                a.set_status(
                    AgreementStatus::Active,
                    "admin",
                    wib("2025-05-15", 0),
                    "selesai",
                )
                .unwrap();
            },
            |_| {},
            "ALLOWED",
            "PKS-001#grant",
        ),
        (
            "wrong purpose",
            |_| {},
            |r| r.purpose = "PEMASARAN".into(),
            "PURPOSE_NOT_ALLOWED",
            "PKS-001#purposes",
        ),
        (
            "service not covered",
            |_| {},
            |r| r.service = service(&dukcapil(), "data_keluarga"),
            "SERVICE_NOT_COVERED",
            "PKS-001#services",
        ),
        (
            "out of region",
            |_| {},
            |r| r.subject_region = Some("33.02.01.2001".into()),
            "OUT_OF_REGION",
            "PKS-001#region_scope",
        ),
        (
            "region prefix is not a segment",
            |a| a.region_scope = RegionScope::Regions(vec!["33.0".into()]),
            |_| {},
            "OUT_OF_REGION",
            "PKS-001#region_scope",
        ),
        (
            "subject region unknown",
            |_| {},
            |r| r.subject_region = None,
            "OUT_OF_REGION",
            "PKS-001#region_scope",
        ),
        (
            "subject region not a code",
            |_| {},
            |r| r.subject_region = Some("33.01' OR 1=1".into()),
            "OUT_OF_REGION",
            "PKS-001#region_scope",
        ),
        (
            "empty region list",
            |a| a.region_scope = RegionScope::Regions(vec![]),
            |_| {},
            "OUT_OF_REGION",
            "PKS-001#region_scope",
        ),
        (
            "field not granted",
            |_| {},
            |r| r.fields_requested.push("nama_ibu".into()),
            "FIELD_NOT_GRANTED",
            "PKS-001#fields.verifikasi_nik",
        ),
        (
            "fields on a yes/no service",
            |_| {},
            |r| {
                r.service = service(&dukcapil(), "status_hidup");
                r.fields_requested = vec!["tgl_kematian".into()];
            },
            "FIELD_NOT_GRANTED",
            "PKS-001#fields.status_hidup",
        ),
        (
            "zero quota",
            |a| {
                a.quota = Quota {
                    per_second: 0,
                    per_day: 10,
                }
            },
            |_| {},
            "QUOTA_EXCEEDED",
            "PKS-001#quota.per_second",
        ),
        (
            "zero daily quota",
            |a| {
                a.quota = Quota {
                    per_second: 10,
                    per_day: 0,
                }
            },
            |_| {},
            "QUOTA_EXCEEDED",
            "PKS-001#quota.per_day",
        ),
    ];
    for (name, tweak_a, tweak_r, code, clause) in cases {
        let mut a = pks();
        tweak_a(&mut a);
        let mut r = request();
        tweak_r(&mut r);
        let d = decide(std::slice::from_ref(&a), &QuotaTracker::default(), &r);
        assert_eq!(d.code.as_str(), code, "{name}: {d:?}");
        assert_eq!(d.clause.to_string(), clause, "{name}");
        assert_eq!(d.allowed, code == "ALLOWED", "{name}");
        if let Some(e) = d.code.error() {
            assert_eq!(ErrorCode::from_code(code), Some(e));
            assert!(
                d.fields_granted.is_empty(),
                "{name}: a refusal grants nothing"
            );
        }
    }
}

#[test]
fn allowed_decision_grants_exactly_the_requested_fields() {
    let mut r = request();
    r.fields_requested = vec!["tgl_lahir".into(), "nama".into(), "tgl_lahir".into()];
    let d = evaluate(&[pks()], &r);
    assert!(d.allowed);
    assert_eq!(d.fields_granted, ["tgl_lahir", "nama"]);
}

#[test]
fn quota_per_second_is_a_token_bucket() {
    let agreements = [pks()]; // 2 per second, 5 per day
    let q = QuotaTracker::default();
    let t0 = request().at;
    let at = |us: i64| {
        let mut r = request();
        r.at = Timestamp(t0.0 + us);
        r
    };
    assert!(decide(&agreements, &q, &at(0)).allowed);
    assert!(decide(&agreements, &q, &at(0)).allowed);
    let d = decide(&agreements, &q, &at(0));
    assert_eq!(
        (d.code.as_str(), d.clause.to_string()),
        ("QUOTA_EXCEEDED", "PKS-001#quota.per_second".into())
    );
    assert_eq!(d.retry_after_secs, Some(1));
    // Half a second refills one request at 2/s.
    let d = decide(&agreements, &q, &at(499_999));
    assert_eq!(d.code.as_str(), "QUOTA_EXCEEDED");
    assert!(decide(&agreements, &q, &at(500_000)).allowed);
    assert_eq!(
        decide(&agreements, &q, &at(500_000)).code.as_str(),
        "QUOTA_EXCEEDED"
    );
}

#[test]
fn quota_per_day_counts_calendar_days_in_wib() {
    let agreements = [pks()]; // 5 per day
    let q = QuotaTracker::default();
    let mut r = request();
    for i in 0..5 {
        r.at = wib("2025-06-01", 3600 * (i + 1));
        assert!(decide(&agreements, &q, &r).allowed, "request {i}");
    }
    r.at = wib("2025-06-01", 23 * 3600);
    let d = decide(&agreements, &q, &r);
    assert_eq!(
        (d.code.as_str(), d.clause.to_string()),
        ("QUOTA_EXCEEDED", "PKS-001#quota.per_day".into())
    );
    assert_eq!(d.retry_after_secs, Some(3600));
    r.at = wib("2025-06-02", 0);
    assert!(decide(&agreements, &q, &r).allowed, "a new day in WIB");
    // A refused request consumes nothing.
    let d2 = QuotaTracker::default();
    let mut tiny = pks();
    tiny.quota = Quota {
        per_second: 1,
        per_day: 1,
    };
    let t = [tiny];
    assert!(decide(&t, &d2, &request()).allowed);
    assert!(!decide(&t, &d2, &request()).allowed);
}

#[test]
fn the_same_requests_give_the_same_decisions() {
    let run = || {
        let q = QuotaTracker::default();
        (0..50)
            .map(|i| {
                let mut r = request();
                r.at = Timestamp(r.at.0 + i * 137_000);
                let d = decide(&[pks()], &q, &r);
                (d.code.as_str(), d.clause.to_string())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn several_agreements_report_the_most_specific_refusal_and_allow_if_any_does() {
    let mut expired = pks();
    expired.id = "PKS-000".into();
    expired = expired.with_dates("2024-01-01", "2024-12-31").unwrap();
    let mut other_purpose = pks();
    other_purpose.id = "PKS-002".into();
    other_purpose.purposes = vec!["STATISTIK".into()];
    let mut r = request();
    r.purpose = "STATISTIK".into();
    r.service = service(&dukcapil(), "status_hidup");
    r.fields_requested.clear();
    // PKS-001 refuses (purpose), PKS-002 allows.
    let d = evaluate(&[expired.clone(), pks(), other_purpose.clone()], &r);
    assert_eq!(d.clause.to_string(), "PKS-002#grant");
    // Without PKS-002: PKS-000 expired (validity), PKS-001 wrong purpose: purpose is more specific.
    let d = evaluate(&[expired.clone(), pks()], &r);
    assert_eq!(
        (d.code.as_str(), d.clause.to_string()),
        ("PURPOSE_NOT_ALLOWED", "PKS-001#purposes".into())
    );
    // Citing the expired PKS restricts the decision to it.
    r.pks_id = Some("PKS-000".into());
    let d = evaluate(&[expired, pks(), other_purpose], &r);
    assert_eq!(
        (d.code.as_str(), d.clause.to_string()),
        ("AGREEMENT_EXPIRED", "PKS-000#valid_until".into())
    );
}

#[test]
fn revocation_is_final_and_records_who_when_why() {
    let mut a = pks();
    a.set_status(
        AgreementStatus::Revoked,
        "kadis",
        wib("2025-03-01", 0),
        "pelanggaran",
    )
    .unwrap();
    assert_eq!(
        a.set_status(
            AgreementStatus::Active,
            "kadis",
            wib("2025-03-02", 0),
            "salah"
        ),
        Err(AgreementError::AlreadyRevoked)
    );
    let (status, change) = a.status_at(wib("2025-04-01", 0));
    assert_eq!(status, AgreementStatus::Revoked);
    let c = change.unwrap();
    assert_eq!((c.by.as_str(), c.reason.as_str()), ("kadis", "pelanggaran"));
    let d = evaluate(&[a], &request());
    assert!(
        d.detail.contains("kadis") && d.detail.contains("pelanggaran"),
        "{}",
        d.detail
    );
}

#[test]
fn agreement_records_are_validated() {
    assert_eq!(pks().validate(), Ok(()));
    let mut a = pks();
    a.region_scope = RegionScope::Regions(vec!["3301".into()]);
    assert_eq!(a.validate(), Err(AgreementError::BadRegion("3301".into())));
    let mut a = pks();
    a.purposes = vec!["validasi bansos".into()];
    assert!(matches!(a.validate(), Err(AgreementError::BadPurpose(_))));
    let mut a = pks();
    a.valid_until = a.valid_from;
    assert_eq!(a.validate(), Err(AgreementError::EmptyValidity));
    assert!(pks().with_dates("2025-02-30", "2025-12-31").is_err());
    for (input, want) in [
        ("33", Some("33")),
        ("3301", Some("33.01")),
        ("33.01.02", Some("33.01.02")),
        ("3301022001", Some("33.01.02.2001")),
        ("33.01.02.2001", Some("33.01.02.2001")),
        ("33.0102", None),
        ("330", None),
        ("", None),
        ("33.01.02.20011", None),
        ("٣٣٠١", None),
    ] {
        assert_eq!(normalize_region(input).as_deref(), want, "{input:?}");
    }
}

trait Prev {
    fn prev(self) -> Timestamp;
}

impl Prev for Timestamp {
    fn prev(self) -> Timestamp {
        Timestamp(self.0 - 1)
    }
}

/// A batch is decided once for the call (issue 14, holes 4 and 7): fields are refused at call
/// level whatever the region scope, and the day's quota counts every person asked about.
#[test]
fn a_call_is_decided_once_with_fields_and_persons_counted() {
    let mut r = request();
    r.subject_region = None;
    // Regional agreement, ungranted field: refused for the whole call, not per line.
    let mut ungranted = r.clone();
    ungranted.fields_requested = vec!["no_kk".into()];
    let q = QuotaTracker::default();
    let d = decide_call(&[pks()], &q, &ungranted, 3);
    assert_eq!(
        (d.code.as_str(), d.clause.to_string()),
        ("FIELD_NOT_GRANTED", "PKS-001#fields.verifikasi_nik".into())
    );
    // ... and nothing was consumed: the full day's quota (5) is still there.
    assert!(decide_call(&[pks()], &q, &r, 5).allowed);
    // The day's five persons are used up: one more person is refused, with the clause.
    let d = decide_call(&[pks()], &q, &r, 1);
    assert_eq!(d.clause.to_string(), "PKS-001#quota.per_day");
    assert!(d.retry_after_secs.is_some());

    // A batch of more persons than the day allows is refused whole, and consumes nothing.
    let q = QuotaTracker::default();
    let d = decide_call(&[pks()], &q, &r, 6);
    assert_eq!(d.code.as_str(), "QUOTA_EXCEEDED");
    assert!(decide(&[pks()], &q, &request()).allowed, "nothing consumed");

    // The per-second rate counts requests: one call of 4 persons is one token of 2.
    let q = QuotaTracker::default();
    assert!(decide_call(&[pks()], &q, &r, 2).allowed);
    assert!(decide_call(&[pks()], &q, &r, 2).allowed);
    let d = decide_call(&[pks()], &q, &r, 1);
    assert_eq!(d.clause.to_string(), "PKS-001#quota.per_second");
}

#[test]
fn a_call_prefers_an_agreement_covering_every_region() {
    let regional = pks();
    let mut national = pks();
    national.id = "PKS-002".into();
    national.region_scope = RegionScope::National;
    let mut r = request();
    r.subject_region = None;
    let d = decide_call(
        &[regional.clone(), national],
        &QuotaTracker::default(),
        &r,
        1,
    );
    assert_eq!(d.clause.to_string(), "PKS-002#grant");
    assert!(regional.covers_region(Some("3301022001")));
    assert!(regional.covers_region(Some("33.01")));
    assert!(!regional.covers_region(Some("33.02.01.2001")));
    assert!(!regional.covers_region(Some("33.0")));
    assert!(!regional.covers_region(None));
}
