use proptest::prelude::*;
use sinergi_exchange::id::{IdError, IdPart};
use sinergi_exchange::{ClientId, ServiceId};

#[test]
fn client_header_round_trips() {
    let c = ClientId::parse_header("ID/GOV/KEMENDAGRI-DUKCAPIL/verifikasi.nik_v2").unwrap();
    assert_eq!(c.instance, "ID");
    assert_eq!(c.member_class, "GOV");
    assert_eq!(c.member_code, "KEMENDAGRI-DUKCAPIL");
    assert_eq!(c.subsystem_code, "verifikasi.nik_v2");
    assert_eq!(
        c.to_header(),
        "ID/GOV/KEMENDAGRI-DUKCAPIL/verifikasi.nik_v2"
    );
    assert_eq!("ID/GOV/X/Y".parse::<ClientId>().unwrap().member_code, "X");
}

#[test]
fn service_path_round_trips() {
    let s = ServiceId::parse_path("/r1/ID/GOV/DUKCAPIL/DATA/verifikasi_nik").unwrap();
    assert_eq!(s.client.member_code, "DUKCAPIL");
    assert_eq!(s.service_code, "verifikasi_nik");
    assert_eq!(s.to_path(), "/r1/ID/GOV/DUKCAPIL/DATA/verifikasi_nik");
    let p = ServiceId::parse_path_prefix("/r1/ID/GOV/DUKCAPIL/DATA/verifikasi_nik/orang/123?x=1")
        .unwrap();
    assert_eq!(p.service, s);
    assert_eq!(p.resource, "/orang/123");
    assert_eq!(p.query, Some("x=1"));
    let p = ServiceId::parse_path_prefix("/r1/ID/GOV/DUKCAPIL/DATA/verifikasi_nik?x=1").unwrap();
    assert_eq!((p.resource, p.query), ("", Some("x=1")));
    assert_eq!(s.to_string().parse::<ServiceId>().unwrap(), s);
}

#[test]
fn hostile_client_headers_are_refused() {
    let long = "A".repeat(65);
    let cases: Vec<(&str, IdError)> = vec![
        (
            "",
            IdError::PartCount {
                expected: 4,
                found: 1,
            },
        ),
        (
            "ID/GOV/X",
            IdError::PartCount {
                expected: 4,
                found: 3,
            },
        ),
        (
            "ID/GOV/X/Y/Z",
            IdError::PartCount {
                expected: 4,
                found: 5,
            },
        ),
        (
            "ID/GOV//Y",
            IdError::Empty {
                part: IdPart::MemberCode,
            },
        ),
        (
            "ID/GO-V/X/Y",
            IdError::BadChar {
                part: IdPart::MemberClass,
                ch: '-',
                at: 2,
            },
        ),
        (
            "1D/GOV/X/Y",
            IdError::BadStart {
                part: IdPart::Instance,
            },
        ),
        (
            "ID/1GOV/X/Y",
            IdError::BadStart {
                part: IdPart::MemberClass,
            },
        ),
        (
            "ID/GOV/_X/Y",
            IdError::BadStart {
                part: IdPart::MemberCode,
            },
        ),
        (
            "ID/GOV/../Y",
            IdError::BadStart {
                part: IdPart::MemberCode,
            },
        ),
        (
            "ID/GOV/./Y",
            IdError::BadStart {
                part: IdPart::MemberCode,
            },
        ),
        (
            "ID/GOV/X/-y",
            IdError::BadStart {
                part: IdPart::SubsystemCode,
            },
        ),
        (
            "ID/GOV/X%2FY/Z",
            IdError::BadChar {
                part: IdPart::MemberCode,
                ch: '%',
                at: 1,
            },
        ),
        (
            "ID/GOV/X Y/Z",
            IdError::BadChar {
                part: IdPart::MemberCode,
                ch: ' ',
                at: 1,
            },
        ),
        (
            "ID/GOV/X\nY/Z",
            IdError::BadChar {
                part: IdPart::MemberCode,
                ch: '\n',
                at: 1,
            },
        ),
        (
            "ID/GOV/X\0/Z",
            IdError::BadChar {
                part: IdPart::MemberCode,
                ch: '\0',
                at: 1,
            },
        ),
        (
            "ID/GOV/DİNSOS/Z",
            IdError::BadChar {
                part: IdPart::MemberCode,
                ch: 'İ',
                at: 1,
            },
        ),
        (
            "ID/GOV/X/Y;Z",
            IdError::BadChar {
                part: IdPart::SubsystemCode,
                ch: ';',
                at: 1,
            },
        ),
        (
            "ID/GOV/X/Y:Z",
            IdError::BadChar {
                part: IdPart::SubsystemCode,
                ch: ':',
                at: 1,
            },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(ClientId::parse_header(input), Err(want), "{input:?}");
    }
    let too_long = format!("ID/GOV/{long}/Y");
    assert_eq!(
        ClientId::parse_header(&too_long),
        Err(IdError::TooLong {
            part: IdPart::MemberCode,
            max: 64
        })
    );
    assert!(matches!(
        ClientId::parse_header(&"A/".repeat(10_000)),
        Err(IdError::TooLong {
            part: IdPart::Whole,
            ..
        })
    ));
}

#[test]
fn hostile_service_paths_are_refused() {
    for input in [
        "",
        "/",
        "/r1",
        "/r1/",
        "/r2/ID/GOV/X/Y/svc",
        "r1/ID/GOV/X/Y/svc",
        "/r1/ID/GOV/X/Y",
        "/r1/ID/GOV/X/Y/",
        "/r1/ID/GOV/X/Y/..",
        "/r1/ID/GOV/X//svc",
        "/r1/ID/GOV/X/Y/sv%63",
        "/r1/ID/GOV/X/Y/svc/extra",
        "/r1/ID/GOV/X/Y/svc?q",
        "//r1/ID/GOV/X/Y/svc",
    ] {
        assert!(ServiceId::parse_path(input).is_err(), "{input:?} accepted");
    }
    assert_eq!(ServiceId::ERROR_CODE.code(), "SERVICE_ID_INVALID");
    assert_eq!(ClientId::ERROR_CODE.code(), "CLIENT_ID_INVALID");
}

/// GovStack identifiers (the upstream suite's valid rows): lower-case member classes, codes
/// starting with a digit; and its invalid rows (a digit first in the instance or class, an
/// underscore first in a code).
#[test]
fn govstack_identifiers() {
    for ok in [
        "identifier/identifier/alp4aNum3r1c/alp4aNum3r1c",
        "a11a11a11a/asd2211a/12as12/m3mb3rc0d3",
        "a552example/zzz321a/m3mb3rc0d3/aa15",
        "valid1dentifi3r/rand0mid3nt/str1ng/azxcv55",
        "eGovStack/GOV/90000009/digitalregistries",
    ] {
        let c = ClientId::parse_header(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert_eq!(c.to_header(), ok);
    }
    // Exact comparison, as X-Road: another case is another member class.
    assert_ne!(
        ClientId::parse_header("ID/gov/X/Y").unwrap(),
        ClientId::parse_header("ID/GOV/X/Y").unwrap()
    );
    for bad in [
        "1nval1d/identifier/alp4aNum3r1c/alp4aNum3r1c",
        "identifier/1nval1d/alp4aNum3r1c/alp4aNum3r1c",
        "identifier/identifier/_invalid/alp4aNum3r1c",
        "identifier/identifier/str1ng/_invalid",
    ] {
        assert!(ClientId::parse_header(bad).is_err(), "{bad} accepted");
    }
}

/// What follows the service code: nothing, or clean segments; never a dot-segment, an
/// empty segment, an escape or a backslash (issue 14, hole 5).
#[test]
fn resource_paths_are_clean_or_refused() {
    let clean = |p: &str| {
        ServiceId::parse_path_prefix(p)
            .unwrap()
            .check_resource()
            .is_ok()
    };
    assert!(clean("/r1/ID/GOV/X/Y/svc"));
    assert!(clean("/r1/ID/GOV/X/Y/svc?x=1"));
    assert!(clean("/r1/ID/GOV/X/Y/svc/orang/123"));
    for bad in [
        "/r1/ID/GOV/KEMENDAGRI-DUKCAPIL/DATA/verifikasi-identitas/../../../BPS/DTSEN/desil",
        "/r1/ID/GOV/X/Y/svc/.",
        "/r1/ID/GOV/X/Y/svc/",
        "/r1/ID/GOV/X/Y/svc//a",
        "/r1/ID/GOV/X/Y/svc/%2e%2e",
        "/r1/ID/GOV/X/Y/svc/a%2Fb",
        "/r1/ID/GOV/X/Y/svc/a\\b",
        "/r1/ID/GOV/X/Y/svc/a;b=c",
    ] {
        assert!(!clean(bad), "{bad} accepted");
    }
}

proptest! {
    #[test]
    fn client_parsing_never_panics_and_round_trips(s in "\\PC{0,80}") {
        if let Ok(c) = ClientId::parse_header(&s) {
            prop_assert_eq!(c.to_header(), s);
        }
    }

    #[test]
    fn service_parsing_never_panics_and_round_trips(s in "(/r1/)?[A-Za-z0-9./_%?-]{0,60}") {
        if let Ok(sv) = ServiceId::parse_path(&s) {
            prop_assert_eq!(sv.to_path(), s.clone());
        }
        let _ = ServiceId::parse_path_prefix(&s);
    }
}
