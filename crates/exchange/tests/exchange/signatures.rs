use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use sinergi_exchange::httpsig::{
    self, MemberKey, ReplayCache, ReplayRefusal, Request, SignOptions, SignatureError,
    check_content_digest, content_digest, parse_signature, sign_request, signature_base,
    verify_base,
};
use sinergi_exchange::{ErrorCode, SigningKey, Verifier, VerifyConfig, VerifyingKey};

use crate::common::client;

// ---- RFC 9421 Appendix B.2.6 -------------------------------------------------------------
// Key B.1.4 `test-key-ed25519`, as published (SPKI / PKCS#8 PEM bodies).
const RFC_PUBLIC_SPKI: &str = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=";
const RFC_PRIVATE_PKCS8: &str = "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF";
// The signature base of B.2.6, with the RFC 8792 line wrapping undone.
const RFC_B26_BASE: &str = concat!(
    "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n",
    "\"@method\": POST\n",
    "\"@path\": /foo\n",
    "\"@authority\": example.com\n",
    "\"content-type\": application/json\n",
    "\"content-length\": 18\n",
    "\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" ",
    "\"content-type\" \"content-length\");created=1618884473",
    ";keyid=\"test-key-ed25519\""
);
const RFC_B26_INPUT: &str = concat!(
    "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" ",
    "\"content-type\" \"content-length\");created=1618884473",
    ";keyid=\"test-key-ed25519\""
);
const RFC_B26_SIGNATURE: &str = concat!(
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1",
    "u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
);

fn rfc_keys() -> (SigningKey, VerifyingKey) {
    let spki = STANDARD.decode(RFC_PUBLIC_SPKI).unwrap();
    let pkcs8 = STANDARD.decode(RFC_PRIVATE_PKCS8).unwrap();
    // Ed25519 SPKI and PKCS#8 prefixes (RFC 8410), then the 32 raw key bytes.
    assert_eq!(
        spki[..12],
        [
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
        ]
    );
    assert_eq!(
        pkcs8[..16],
        [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20
        ]
    );
    let public = VerifyingKey::from_bytes(&spki[12..].try_into().unwrap()).unwrap();
    let private = SigningKey::from_bytes(&pkcs8[16..].try_into().unwrap());
    assert_eq!(
        private.verifying_key(),
        public,
        "B.1.4 key pair is consistent"
    );
    (private, public)
}

fn rfc_test_request_headers() -> Vec<(&'static str, &'static str)> {
    // RFC 9421 Appendix B.2 test-request.
    vec![
        ("Host", "example.com"),
        ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
        ("Content-Type", "application/json"),
        (
            "Content-Digest",
            "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
        ),
        ("Content-Length", "18"),
        ("Signature-Input", RFC_B26_INPUT),
        ("Signature", RFC_B26_SIGNATURE),
    ]
}

#[test]
fn rfc9421_b26_ed25519_base_and_signature() {
    let (private, public) = rfc_keys();
    let headers = rfc_test_request_headers();
    let req = Request {
        method: "POST",
        target_uri: "https://example.com/foo?param=Value&Pet=dog",
        headers: &headers,
        body: br#"{"hello": "world"}"#,
    };
    let parsed = parse_signature(RFC_B26_INPUT, RFC_B26_SIGNATURE, Some("sig-b26")).unwrap();
    assert_eq!(parsed.params.created, Some(1_618_884_473));
    assert_eq!(parsed.params.keyid.as_deref(), Some("test-key-ed25519"));
    let base = signature_base(&parsed.covered, &req).unwrap();
    assert_eq!(
        base, RFC_B26_BASE,
        "signature base differs from RFC 9421 B.2.6"
    );
    verify_base(&public, &base, &parsed.signature).expect("the RFC's signature verifies");
    // Ed25519 is deterministic: signing the base with the B.1.4 private key gives the RFC's
    // published bytes.
    use ed25519_dalek::Signer as _;
    assert_eq!(
        private.sign(base.as_bytes()).to_bytes().as_slice(),
        parsed.signature.as_slice()
    );
    // One flipped bit of the base no longer verifies.
    let tampered = base.replace("POST", "PUT");
    assert_eq!(
        verify_base(&public, &tampered, &parsed.signature),
        Err(SignatureError::Invalid)
    );
    // The RFC example is outside the Sinergi profile (no expires/nonce/alg, no
    // @target-uri/content-digest, sha-512 digest): the strict verifier refuses it as malformed.
    let mut keys = HashMap::new();
    keys.insert(
        "test-key-ed25519".to_owned(),
        MemberKey {
            client: client("RFC", "TEST"),
            key: public,
        },
    );
    let err = Verifier::new(VerifyConfig::default())
        .verify(&req, &keys, 1_618_884_473)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::SignatureMalformed);
}

#[test]
fn rfc9530_content_digest() {
    // RFC 9530 section 2 example: sha-256 of {"hello": "world"}.
    assert_eq!(
        content_digest(br#"{"hello": "world"}"#),
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    );
    assert!(
        check_content_digest(
            "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
            br#"{"hello": "world"}"#
        )
        .is_ok()
    );
    assert_eq!(
        check_content_digest(
            "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
            b"{}"
        ),
        Err(SignatureError::DigestMismatch)
    );
    assert_eq!(
        check_content_digest("sha-512=:AAAA:", b"{}")
            .unwrap_err()
            .code(),
        ErrorCode::SignatureMalformed
    );
}

// ---- the Sinergi profile ---------------------------------------------------------------

const NOW: i64 = 1_750_000_000;
const URI: &str = "https://dukcapil.node.example/r1/ID/GOV/DUKCAPIL/DATA/verifikasi_nik";
const BODY: &[u8] = br#"{"nik":"3301010101010001"}"#;
const KEY_ID: &str = "ID/GOV/DINSOS-3301/BANSOS#2025";

fn member_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn keys() -> HashMap<String, MemberKey> {
    let mut m = HashMap::new();
    m.insert(
        KEY_ID.to_owned(),
        MemberKey {
            client: client("DINSOS-3301", "BANSOS"),
            key: member_key().verifying_key(),
        },
    );
    m
}

struct Signed {
    method: &'static str,
    uri: String,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

fn signed_with(key: &SigningKey, key_id: &str, created: i64, expires: i64, nonce: &str) -> Signed {
    let base_headers = vec![(
        "X-Road-Client".to_owned(),
        "ID/GOV/DINSOS-3301/BANSOS".to_owned(),
    )];
    let h = sign_request(
        key,
        "POST",
        URI,
        &base_headers,
        BODY,
        &SignOptions {
            label: "sig1",
            key_id,
            created,
            expires,
            nonce,
            extra_components: &["x-road-client"],
        },
    )
    .unwrap();
    let mut headers = base_headers;
    headers.push(("Content-Digest".into(), h.content_digest));
    headers.push(("Signature-Input".into(), h.signature_input));
    headers.push(("Signature".into(), h.signature));
    Signed {
        method: "POST",
        uri: URI.to_owned(),
        body: BODY.to_vec(),
        headers,
    }
}

fn good(nonce: &str) -> Signed {
    signed_with(&member_key(), KEY_ID, NOW, NOW + 60, nonce)
}

fn set(s: &mut Signed, name: &str, value: &str) {
    s.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    s.headers.push((name.to_owned(), value.to_owned()));
}

fn run(verifier: &Verifier, s: &Signed, now: i64) -> Result<httpsig::Verified, SignatureError> {
    let req = Request {
        method: s.method,
        target_uri: &s.uri,
        headers: &s.headers,
        body: &s.body,
    };
    verifier.verify(&req, &keys(), now)
}

#[test]
fn a_good_signature_verifies_and_names_the_member() {
    let v = Verifier::new(VerifyConfig::default());
    let s = good("nonce-0000000000000001");
    let ok = run(&v, &s, NOW + 5).unwrap();
    assert_eq!(ok.key_id, KEY_ID);
    assert_eq!(ok.client, client("DINSOS-3301", "BANSOS"));
    assert_eq!(
        ok.covered,
        ["@method", "@target-uri", "content-digest", "x-road-client"]
    );
    assert!(ok.check_client(&client("DINSOS-3301", "BANSOS")).is_ok());
    assert_eq!(
        ok.check_client(&client("DINSOS-3302", "BANSOS"))
            .unwrap_err()
            .code(),
        ErrorCode::SignatureKeyMismatch
    );
    let si = &s
        .headers
        .iter()
        .find(|(k, _)| k == "Signature-Input")
        .unwrap()
        .1;
    assert_eq!(
        si,
        &format!(
            "sig1=(\"@method\" \"@target-uri\" \"content-digest\" \"x-road-client\");created={NOW};expires={};nonce=\"nonce-0000000000000001\";keyid=\"{KEY_ID}\";alg=\"ed25519\"",
            NOW + 60
        )
    );
}

#[test]
fn every_signature_refusal_has_its_code() {
    type Case = (&'static str, Box<dyn Fn() -> Signed>, i64, ErrorCode);
    let other_key = SigningKey::from_bytes(&[9u8; 32]);
    let cases: Vec<Case> = vec![
        (
            "unsigned",
            Box::new(|| {
                let mut s = good("nonce-unsigned-000001");
                s.headers.retain(|(k, _)| !k.starts_with("Signature"));
                s
            }),
            NOW,
            ErrorCode::SignatureMissing,
        ),
        (
            "only Signature-Input",
            Box::new(|| {
                let mut s = good("nonce-only-input-0001");
                s.headers.retain(|(k, _)| k != "Signature");
                s
            }),
            NOW,
            ErrorCode::SignatureMalformed,
        ),
        (
            "garbage Signature-Input",
            Box::new(|| {
                let mut s = good("nonce-garbage-000001");
                set(&mut s, "Signature-Input", "sig1=(((");
                s
            }),
            NOW,
            ErrorCode::SignatureMalformed,
        ),
        (
            "signature not base64",
            Box::new(|| {
                let mut s = good("nonce-notb64-0000001");
                set(&mut s, "Signature", "sig1=:!!!:");
                s
            }),
            NOW,
            ErrorCode::SignatureMalformed,
        ),
        (
            "signature of wrong length",
            Box::new(|| {
                let mut s = good("nonce-shortsig-00001");
                set(&mut s, "Signature", "sig1=:AAAA:");
                s
            }),
            NOW,
            ErrorCode::SignatureMalformed,
        ),
        (
            "badly signed (another key under a registered keyid)",
            Box::new(move || {
                signed_with(&other_key, KEY_ID, NOW, NOW + 60, "nonce-otherkey-00001")
            }),
            NOW,
            ErrorCode::SignatureInvalid,
        ),
        (
            "tampered @method",
            Box::new(|| {
                let mut s = good("nonce-method-0000001");
                s.method = "PUT";
                s
            }),
            NOW,
            ErrorCode::SignatureInvalid,
        ),
        (
            "tampered @target-uri",
            Box::new(|| {
                let mut s = good("nonce-uri-000000001");
                s.uri = URI.replace("verifikasi_nik", "data_lengkap");
                s
            }),
            NOW,
            ErrorCode::SignatureInvalid,
        ),
        (
            "tampered covered header",
            Box::new(|| {
                let mut s = good("nonce-header-0000001");
                set(&mut s, "X-Road-Client", "ID/GOV/DINSOS-3302/BANSOS");
                s
            }),
            NOW,
            ErrorCode::SignatureInvalid,
        ),
        (
            "tampered content-digest and body",
            Box::new(|| {
                let mut s = good("nonce-digesthdr-0001");
                s.body = b"{\"nik\":\"3301010101010002\"}".to_vec();
                let d = content_digest(&s.body);
                set(&mut s, "Content-Digest", &d);
                s
            }),
            NOW,
            ErrorCode::SignatureInvalid,
        ),
        (
            "tampered signature parameter",
            Box::new(|| {
                let mut s = good("nonce-params-0000001");
                let si = s
                    .headers
                    .iter()
                    .find(|(k, _)| k == "Signature-Input")
                    .unwrap()
                    .1
                    .clone();
                set(
                    &mut s,
                    "Signature-Input",
                    &si.replace(
                        &format!("expires={}", NOW + 60),
                        &format!("expires={}", NOW + 90),
                    ),
                );
                s
            }),
            NOW,
            ErrorCode::SignatureInvalid,
        ),
        (
            "body changed (digest mismatch)",
            Box::new(|| {
                let mut s = good("nonce-body-00000001");
                s.body = b"{\"nik\":\"3301010101010002\"}".to_vec();
                s
            }),
            NOW,
            ErrorCode::DigestMismatch,
        ),
        (
            "expired",
            Box::new(|| good("nonce-expired-000001")),
            NOW + 60 + 31,
            ErrorCode::SignatureExpired,
        ),
        (
            "not yet valid",
            Box::new(|| good("nonce-future-0000001")),
            NOW - 31,
            ErrorCode::SignatureNotYetValid,
        ),
        (
            "unknown key",
            Box::new(|| {
                signed_with(
                    &member_key(),
                    "ID/GOV/NOBODY/X#1",
                    NOW,
                    NOW + 60,
                    "nonce-unknown-000001",
                )
            }),
            NOW,
            ErrorCode::SignatureUnknownKey,
        ),
        (
            "validity window too long",
            Box::new(|| {
                signed_with(
                    &member_key(),
                    KEY_ID,
                    NOW,
                    NOW + 3600,
                    "nonce-longwin-000001",
                )
            }),
            NOW,
            ErrorCode::SignatureMalformed,
        ),
        (
            "expires before created",
            Box::new(|| signed_with(&member_key(), KEY_ID, NOW, NOW - 1, "nonce-backwards-0001")),
            NOW,
            ErrorCode::SignatureMalformed,
        ),
        (
            "nonce too short",
            Box::new(|| signed_with(&member_key(), KEY_ID, NOW, NOW + 60, "short")),
            NOW,
            ErrorCode::SignatureMalformed,
        ),
        (
            "line break injected into a covered field",
            Box::new(|| {
                let mut s = good("nonce-newline-000001");
                set(
                    &mut s,
                    "X-Road-Client",
                    "ID/GOV/DINSOS-3301/BANSOS\n\"@method\": GET",
                );
                s
            }),
            NOW,
            ErrorCode::SignatureMalformed,
        ),
        (
            "content-digest not covered",
            Box::new(|| {
                let mut s = good("nonce-notcovered-001");
                let si = s
                    .headers
                    .iter()
                    .find(|(k, _)| k == "Signature-Input")
                    .unwrap()
                    .1
                    .clone();
                set(
                    &mut s,
                    "Signature-Input",
                    &si.replace(" \"content-digest\"", ""),
                );
                s
            }),
            NOW,
            ErrorCode::SignatureMalformed,
        ),
        (
            "alg is not ed25519",
            Box::new(|| {
                let mut s = good("nonce-alg-000000001");
                let si = s
                    .headers
                    .iter()
                    .find(|(k, _)| k == "Signature-Input")
                    .unwrap()
                    .1
                    .clone();
                set(
                    &mut s,
                    "Signature-Input",
                    &si.replace("alg=\"ed25519\"", "alg=\"hmac-sha256\""),
                );
                s
            }),
            NOW,
            ErrorCode::SignatureMalformed,
        ),
        (
            "unknown parameter",
            Box::new(|| {
                let mut s = good("nonce-param-00000001");
                let si = s
                    .headers
                    .iter()
                    .find(|(k, _)| k == "Signature-Input")
                    .unwrap()
                    .1
                    .clone();
                set(&mut s, "Signature-Input", &format!("{si};extra=1"));
                s
            }),
            NOW,
            ErrorCode::SignatureMalformed,
        ),
        (
            "Content-Digest removed",
            Box::new(|| {
                let mut s = good("nonce-nodigest-00001");
                s.headers.retain(|(k, _)| k != "Content-Digest");
                s
            }),
            NOW,
            ErrorCode::SignatureMalformed,
        ),
    ];
    for (name, make, now, want) in cases {
        let v = Verifier::new(VerifyConfig::default());
        let got = run(&v, &make(), now);
        assert_eq!(
            got.as_ref().err().map(SignatureError::code),
            Some(want),
            "{name}: {got:?}"
        );
        assert_eq!(
            v.replay_len(),
            0,
            "{name}: a refused request must not use up its nonce"
        );
    }
}

#[test]
fn clock_skew_tolerance_is_configurable() {
    let strict = Verifier::new(VerifyConfig {
        max_skew_secs: 0,
        ..VerifyConfig::default()
    });
    assert_eq!(
        run(&strict, &good("nonce-skew-000000001"), NOW - 1)
            .unwrap_err()
            .code(),
        ErrorCode::SignatureNotYetValid
    );
    let lenient = Verifier::new(VerifyConfig {
        max_skew_secs: 120,
        ..VerifyConfig::default()
    });
    assert!(run(&lenient, &good("nonce-skew-000000002"), NOW - 100).is_ok());
    assert!(run(&lenient, &good("nonce-skew-000000003"), NOW + 60 + 100).is_ok());
}

#[test]
fn a_replayed_request_is_refused_until_it_would_have_expired() {
    let v = Verifier::new(VerifyConfig::default());
    let s = good("nonce-replay-0000001");
    assert!(run(&v, &s, NOW).is_ok());
    assert_eq!(
        run(&v, &s, NOW + 1).unwrap_err().code(),
        ErrorCode::SignatureReplayed
    );
    assert_eq!(
        run(&v, &s, NOW + 60 + 30).unwrap_err().code(),
        ErrorCode::SignatureReplayed
    );
    // Past expires + skew the request is refused as expired, and the nonce is forgotten.
    assert_eq!(
        run(&v, &s, NOW + 60 + 31).unwrap_err().code(),
        ErrorCode::SignatureExpired
    );
    let other = good("nonce-replay-0000002");
    assert!(run(&v, &other, NOW + 60 + 31 - 60).is_ok());
}

#[test]
fn replay_cache_is_bounded_and_evicts_expired_nonces() {
    let mut c = ReplayCache::new(3);
    for (i, n) in ["a", "b", "c"].iter().enumerate() {
        assert_eq!(c.check_and_insert("k", n, 100 + i as i64, 50), Ok(()));
    }
    assert_eq!(
        c.check_and_insert("k", "a", 200, 60),
        Err(ReplayRefusal::Replayed)
    );
    assert_eq!(
        c.check_and_insert("k2", "a", 200, 60),
        Err(ReplayRefusal::Full)
    );
    assert_eq!(c.len(), 3);
    // At 101, "a" (valid until 100) has expired and makes room.
    assert_eq!(c.check_and_insert("k", "d", 300, 101), Ok(()));
    assert_eq!(c.len(), 3);
    assert_eq!(
        c.check_and_insert("k", "a", 300, 101),
        Err(ReplayRefusal::Full)
    );
    assert_eq!(c.check_and_insert("k", "z", 400, 1000), Ok(()));
    assert_eq!(c.len(), 1);

    let v = Verifier::new(VerifyConfig {
        replay_capacity: 1,
        ..VerifyConfig::default()
    });
    assert!(run(&v, &good("nonce-full-000000001"), NOW).is_ok());
    assert_eq!(
        run(&v, &good("nonce-full-000000002"), NOW)
            .unwrap_err()
            .code(),
        ErrorCode::ReplayCacheFull
    );
}

#[test]
fn header_lookup_combines_repeated_fields() {
    use sinergi_exchange::httpsig::Headers as _;
    let h = vec![("X-A", " 1 "), ("x-a", "2"), ("X-B", "3")];
    assert_eq!(h.get("x-a").as_deref(), Some("1, 2"));
    assert_eq!(h.get("X-B").as_deref(), Some("3"));
    assert_eq!(h.get("x-c"), None);
}

#[test]
fn huge_headers_are_refused_without_parsing() {
    let v = Verifier::new(VerifyConfig::default());
    let mut s = good("nonce-huge-000000001");
    set(
        &mut s,
        "Signature-Input",
        &format!("sig1=({})", "\"a\" ".repeat(100_000)),
    );
    assert_eq!(
        run(&v, &s, NOW).unwrap_err().code(),
        ErrorCode::SignatureMalformed
    );
}

proptest! {
    #[test]
    fn signature_header_parsing_never_panics(input in "\\PC{0,200}", sig in "\\PC{0,120}") {
        let _ = parse_signature(&input, &sig, None);
        let _ = parse_signature(&input, &sig, Some("sig1"));
        let headers = vec![
            ("Signature-Input".to_owned(), input.clone()),
            ("Signature".to_owned(), sig.clone()),
            ("Content-Digest".to_owned(), sig.clone()),
        ];
        let req = Request { method: "POST", target_uri: &input, headers: &headers, body: b"" };
        let v = Verifier::new(VerifyConfig::default());
        prop_assert!(v.verify(&req, &keys(), NOW).is_err());
        let _ = check_content_digest(&input, b"x");
    }

    #[test]
    fn structured_garbage_never_panics(
        input in "(sig1|a|[a-z*]{1,4})=\\((\"[@a-z-]{0,12}\"( |;[a-z]{1,3}=[0-9\"a-z?:=]{0,6})?){0,5}\\)(;[a-z]{1,7}=(-?[0-9]{1,20}|\"[^\"]{0,20}\"|\\?[01]|:[A-Za-z0-9+/=]{0,12}:|[a-z]{1,3})){0,6}",
        sig in "(sig1|a)=:[A-Za-z0-9+/=]{0,100}:",
        uri in "(https?://)?[a-z.:@0-9]{0,15}(/[a-z%?#=&]{0,10}){0,3}",
    ) {
        let headers = vec![
            ("Signature-Input".to_owned(), input.clone()),
            ("Signature".to_owned(), sig.clone()),
            ("Content-Digest".to_owned(), content_digest(b"")),
        ];
        let req = Request { method: "GET", target_uri: &uri, headers: &headers, body: b"" };
        if let Ok(p) = parse_signature(&input, &sig, None) {
            let _ = signature_base(&p.covered, &req);
        }
        let v = Verifier::new(VerifyConfig::default());
        prop_assert!(v.verify(&req, &keys(), NOW).is_err());
    }
}

/// The purpose, the PKS and the X-Road headers decide the request and go to the audit log:
/// sent, they must be signed (issue 14: the purpose was not among the covered components, so
/// an intermediary could change it on a signed request).
#[test]
fn decisive_headers_must_be_covered_when_sent() {
    let v = Verifier::new(VerifyConfig::default());
    for field in [
        "X-Sinergi-Purpose",
        "X-Sinergi-Pks",
        "X-Road-UserId",
        "X-Road-Id",
    ] {
        let mut s = good(&format!("nonce-uncovered-{field}"));
        set(&mut s, field, "VALIDASI_BANSOS");
        let e = run(&v, &s, NOW + 5).unwrap_err();
        assert_eq!(e.code(), ErrorCode::SignatureMalformed, "{field}");
        assert!(e.to_string().contains("not covered"), "{e}");
    }
    // The profile can be relaxed deliberately, e.g. for a client that cannot sign them.
    let relaxed = Verifier::new(VerifyConfig {
        covered_when_present: vec!["x-road-client".into()],
        ..VerifyConfig::default()
    });
    let mut s = good("nonce-relaxed-000001");
    set(&mut s, "X-Sinergi-Purpose", "VALIDASI_BANSOS");
    assert!(run(&relaxed, &s, NOW + 5).is_ok());
}

/// A node persists each verified signature's replay key and reloads it at start: a request
/// replayed to the restarted node is refused (issue 14, hole 2).
#[test]
fn a_preloaded_replay_key_survives_a_restart() {
    let first = Verifier::new(VerifyConfig::default());
    let s = good("nonce-restart-000001");
    let ok = run(&first, &s, NOW + 5).unwrap();
    assert_eq!(
        ok.replay_key,
        ReplayCache::key(KEY_ID, "nonce-restart-000001")
    );
    assert_eq!(ok.replay_until, NOW + 60 + 30);
    // A new process knows nothing...
    let restarted = Verifier::new(VerifyConfig::default());
    // ...until it loads what the first one persisted (an expired key is skipped).
    restarted.preload_replay(
        [(ok.replay_key, ok.replay_until), ([9; 16], NOW - 1)],
        NOW + 6,
    );
    assert_eq!(restarted.replay_len(), 1);
    assert_eq!(
        run(&restarted, &s, NOW + 7).unwrap_err().code(),
        ErrorCode::SignatureReplayed
    );
}
