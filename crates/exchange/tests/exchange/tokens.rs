use sinergi_exchange::token::{
    ApiTokenRecord, TOKEN_LEN, TokenError, check_format, generate_token, hash_presented,
    hash_token, token_from_bytes,
};
use sinergi_exchange::{ErrorCode, Timestamp};

use crate::common::client;

fn record(hash: sinergi_exchange::token::TokenHash) -> ApiTokenRecord {
    ApiTokenRecord {
        hash,
        client: client("DINSOS-3301", "LOKET"),
        label: "aplikasi loket".into(),
        created_at: Timestamp(0),
        expires_at: Some(Timestamp(1_000)),
        revoked_at: None,
    }
}

#[test]
fn generated_tokens_are_prefixed_unique_and_verify() {
    let a = generate_token().unwrap();
    let b = generate_token().unwrap();
    assert_ne!(a.plaintext, b.plaintext);
    assert!(a.plaintext.starts_with("sng_"));
    assert_eq!(a.plaintext.len(), TOKEN_LEN);
    assert_eq!(check_format(&a.plaintext), Ok(()));
    assert_eq!(hash_token(&a.plaintext), a.hash);
    let r = record(a.hash);
    assert_eq!(
        r.verify(&a.plaintext, Timestamp(10)),
        Ok(&client("DINSOS-3301", "LOKET"))
    );
    assert_eq!(
        r.verify(&b.plaintext, Timestamp(10)),
        Err(TokenError::Invalid)
    );
    assert!(
        !format!("{a:?}").contains(&a.plaintext),
        "Debug leaks the token"
    );
}

#[test]
fn token_refusals_have_their_codes() {
    let t = token_from_bytes(&[1u8; 32]);
    let mut typo = t.plaintext.clone().into_bytes();
    typo[10] = if typo[10] == b'A' { b'B' } else { b'A' };
    let typo = String::from_utf8(typo).unwrap();
    let bearer = format!("Bearer {}", t.plaintext);
    let cases: Vec<(&str, Option<&str>, TokenError)> = vec![
        ("no header", None, TokenError::Missing),
        (
            "not bearer",
            Some("Basic dXNlcjpwYXNz"),
            TokenError::Invalid,
        ),
        ("empty bearer", Some("Bearer "), TokenError::Invalid),
        ("typo caught by the check", Some(&typo), TokenError::Invalid),
        (
            "truncated",
            Some(&bearer[..bearer.len() - 1]),
            TokenError::Invalid,
        ),
        (
            "wrong prefix",
            Some("Bearer ghp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_AAAAAA"),
            TokenError::Invalid,
        ),
        (
            "non-ASCII",
            Some("Bearer sng_ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ_AAAAAA"),
            TokenError::Invalid,
        ),
    ];
    for (name, header, want) in cases {
        let typo_header = if name == "typo caught by the check" {
            Some(format!("Bearer {typo}"))
        } else {
            None
        };
        let h = typo_header.as_deref().or(header);
        assert_eq!(hash_presented(h), Err(want), "{name}");
    }
    assert_eq!(hash_presented(Some(&bearer)), Ok(t.hash));
    let r = record(t.hash);
    assert_eq!(
        r.verify(&t.plaintext, Timestamp(1_000)),
        Err(TokenError::Expired)
    );
    let mut revoked = record(t.hash);
    revoked.revoked_at = Some(Timestamp(5));
    assert_eq!(
        revoked.verify(&t.plaintext, Timestamp(6)),
        Err(TokenError::Revoked)
    );
    assert_eq!(TokenError::Missing.code(), ErrorCode::TokenMissing);
    assert_eq!(TokenError::Invalid.code(), ErrorCode::TokenInvalid);
    assert_eq!(TokenError::Expired.code(), ErrorCode::TokenExpired);
    assert_eq!(TokenError::Revoked.code(), ErrorCode::TokenRevoked);
}
