//! API tokens for systems inside an agency calling their own node.
//!
//! A token is `sng_`, then 43 characters of base64url (32 random bytes from the operating
//! system), then `_` and a 6-character check (base64url of the first 4 bytes of SHA-256 of the
//! random part), so a mistyped or truncated token is refused without a database look-up and secret scanners
//! can recognise leaked tokens by their shape.
//!
//! The node stores only [`TokenHash`] = SHA-256(`"sinergi-api-token-v1" NUL token`), which is
//! also the look-up key. Why SHA-256 and not argon2id: argon2id exists to make guessing *low
//! entropy* secrets (passwords) expensive. A token has 256 bits of entropy: nobody can
//! enumerate it, fast hash or slow. A memory-hard hash would only add tens of milliseconds and
//! megabytes to every request (the real-time path has a 5 ms p99 budget) and force a
//! per-token salt, which prevents looking the token up by its hash. Comparison is in constant
//! time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::{ClientId, ErrorCode, Timestamp};

/// The token prefix.
pub const TOKEN_PREFIX: &str = "sng_";
const BODY_LEN: usize = 43;
const CHECK_LEN: usize = 6;
/// Length of every token.
pub const TOKEN_LEN: usize = TOKEN_PREFIX.len() + BODY_LEN + 1 + CHECK_LEN;

/// SHA-256 of a token, the only form the node stores.
#[derive(Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TokenHash(pub [u8; 32]);

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenHash({})", URL_SAFE_NO_PAD.encode(&self.0[..8]))
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no token")]
    Missing,
    #[error("malformed or unknown token")]
    Invalid,
    #[error("token expired")]
    Expired,
    #[error("token revoked")]
    Revoked,
}

impl TokenError {
    pub fn code(self) -> ErrorCode {
        match self {
            TokenError::Missing => ErrorCode::TokenMissing,
            TokenError::Invalid => ErrorCode::TokenInvalid,
            TokenError::Expired => ErrorCode::TokenExpired,
            TokenError::Revoked => ErrorCode::TokenRevoked,
        }
    }
}

fn check_of(body: &str) -> String {
    let h = Sha256::digest(body.as_bytes());
    URL_SAFE_NO_PAD.encode(&h[..4])
}

/// A newly generated token: the plaintext is shown to the operator once, the hash is stored.
pub struct NewToken {
    pub plaintext: String,
    pub hash: TokenHash,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("plaintext", &"<redacted>")
            .field("hash", &self.hash)
            .finish()
    }
}

/// Generates a token from the operating system's random source.
pub fn generate_token() -> Result<NewToken, getrandom::Error> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw)?;
    Ok(token_from_bytes(&raw))
}

/// Builds the token for given random bytes (for deterministic tests).
pub fn token_from_bytes(raw: &[u8; 32]) -> NewToken {
    let body = URL_SAFE_NO_PAD.encode(raw);
    let plaintext = format!("{TOKEN_PREFIX}{body}_{}", check_of(&body));
    let hash = hash_token(&plaintext);
    NewToken { plaintext, hash }
}

/// Checks the shape and check characters of a presented token.
pub fn check_format(token: &str) -> Result<(), TokenError> {
    if token.len() != TOKEN_LEN || !token.starts_with(TOKEN_PREFIX) {
        return Err(TokenError::Invalid);
    }
    let rest = &token[TOKEN_PREFIX.len()..];
    let (body, check) = rest.split_at(BODY_LEN);
    let Some(check) = check.strip_prefix('_') else {
        return Err(TokenError::Invalid);
    };
    let b64 = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !b64(body) || !b64(check) || check_of(body) != check {
        return Err(TokenError::Invalid);
    }
    Ok(())
}

/// The stored hash of a token.
pub fn hash_token(token: &str) -> TokenHash {
    let mut h = Sha256::new();
    h.update(b"sinergi-api-token-v1\0");
    h.update(token.as_bytes());
    TokenHash(h.finalize().into())
}

/// Parses `Authorization: Bearer <token>` and returns the token's hash for the look-up.
pub fn hash_presented(authorization: Option<&str>) -> Result<TokenHash, TokenError> {
    let value = authorization.ok_or(TokenError::Missing)?.trim();
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or(TokenError::Invalid)?
        .trim();
    check_format(token)?;
    Ok(hash_token(token))
}

/// A stored token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiTokenRecord {
    pub hash: TokenHash,
    /// The agency system this token stands for.
    pub client: ClientId,
    /// What the operator called it, e.g. "aplikasi loket Dinsos".
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiTokenRecord {
    /// Verifies a presented token against this record at `now`: constant-time hash comparison,
    /// then revocation and expiry.
    pub fn verify(&self, presented: &str, now: Timestamp) -> Result<&ClientId, TokenError> {
        check_format(presented)?;
        let h = hash_token(presented);
        if !bool::from(h.0.ct_eq(&self.hash.0)) {
            return Err(TokenError::Invalid);
        }
        self.check_status(now)
    }

    /// Revocation and expiry only (after a look-up by hash).
    pub fn check_status(&self, now: Timestamp) -> Result<&ClientId, TokenError> {
        if self.revoked_at.is_some_and(|r| r <= now) {
            return Err(TokenError::Revoked);
        }
        if self.expires_at.is_some_and(|e| e <= now) {
            return Err(TokenError::Expired);
        }
        Ok(&self.client)
    }
}
