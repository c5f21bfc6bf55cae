use std::collections::BTreeSet;

use sinergi_exchange::ErrorCode;

#[test]
fn codes_are_unique_stable_and_bilingual() {
    let mut seen = BTreeSet::new();
    for c in ErrorCode::ALL {
        let code = c.code();
        assert!(seen.insert(code), "duplicate code {code}");
        assert!(
            !code.is_empty()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "{code} is not SCREAMING_SNAKE_CASE"
        );
        assert!((400..=599).contains(&c.http_status()), "{code} status");
        assert!(
            !c.message_id().trim().is_empty(),
            "{code} has no Indonesian message"
        );
        assert!(
            !c.message_en().trim().is_empty(),
            "{code} has no English message"
        );
        assert_ne!(
            c.message_id(),
            c.message_en(),
            "{code} messages are not translated"
        );
        assert_eq!(ErrorCode::from_code(code), Some(*c));
        assert_eq!(c.message("en"), c.message_en());
        assert_eq!(c.message("id"), c.message_id());
    }
    assert_eq!(seen.len(), ErrorCode::ALL.len());
}

#[test]
fn refusals_map_to_the_documented_statuses() {
    let table = [
        ("SIGNATURE_MISSING", 401),
        ("SIGNATURE_INVALID", 401),
        ("SIGNATURE_MALFORMED", 400),
        ("SIGNATURE_EXPIRED", 401),
        ("SIGNATURE_NOT_YET_VALID", 401),
        ("SIGNATURE_UNKNOWN_KEY", 401),
        ("SIGNATURE_REPLAYED", 401),
        ("DIGEST_MISMATCH", 400),
        ("NO_AGREEMENT", 403),
        ("AGREEMENT_EXPIRED", 403),
        ("AGREEMENT_NOT_YET_VALID", 403),
        ("AGREEMENT_SUSPENDED", 403),
        ("AGREEMENT_REVOKED", 403),
        ("PURPOSE_NOT_ALLOWED", 403),
        ("SERVICE_NOT_COVERED", 403),
        ("OUT_OF_REGION", 403),
        ("QUOTA_EXCEEDED", 429),
        ("FIELD_NOT_GRANTED", 403),
        ("TOKEN_INVALID", 401),
        ("AUDIT_UNAVAILABLE", 503),
    ];
    for (code, status) in table {
        let c = ErrorCode::from_code(code).unwrap_or_else(|| panic!("{code} missing"));
        assert_eq!(c.http_status(), status, "{code}");
    }
}

#[test]
fn every_code_is_documented() {
    let doc = include_str!("../../../../docs/EXCHANGE.md");
    for c in ErrorCode::ALL {
        let row = format!("| {} | {} ", c.code(), c.http_status());
        assert!(
            doc.contains(&row),
            "docs/EXCHANGE.md lacks the row for {}",
            c.code()
        );
    }
}
