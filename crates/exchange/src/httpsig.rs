//! RFC 9421 HTTP Message Signatures with Ed25519, RFC 9530 `Content-Digest`, and a bounded
//! replay cache.
//!
//! The Sinergi profile (what [`Verifier::verify`] accepts):
//! - covered components include `"@method"`, `"@target-uri"` and `"content-digest"` (more may
//!   be covered, e.g. `"x-road-client"`); component parameters (`;sf`, `;key`, `;req`, `;bs`)
//!   are not used;
//! - signature parameters `created`, `expires`, `nonce`, `keyid` and `alg="ed25519"` are all
//!   present (`tag` is allowed); nothing else;
//! - `Content-Digest` carries `sha-256`.
//!
//! Framework-agnostic: a request is a method, a target URI, a header lookup and the body bytes.
//! The lower-level functions ([`parse_signature`], [`signature_base`], [`verify_base`]) build
//! the signature base exactly as RFC 9421 section 2.5 specifies, for any derived component
//! of a request and any header field, which is how the RFC's own test vectors are checked.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sfv::{BareItem, FieldType as _, InnerList, Item, ListEntry, Parser, Version};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::{ClientId, ErrorCode};

/// The components the Sinergi profile requires to be covered.
pub const REQUIRED_COMPONENTS: [&str; 3] = ["@method", "@target-uri", "content-digest"];
/// Header fields that, when a request carries them, its signature must cover: they decide
/// who asks, under which agreement and for what purpose, and they are written to the audit
/// log, so an intermediary must not be able to change them ([`VerifyConfig::covered_when_present`]).
pub const COVERED_WHEN_PRESENT: [&str; 7] = [
    "x-road-client",
    "x-road-id",
    "x-road-userid",
    "x-road-issue",
    "x-sinergi-purpose",
    "x-sinergi-pks",
    "information-mediator-client",
];
/// The algorithm name in the `alg` parameter.
pub const ALG_ED25519: &str = "ed25519";
const MAX_COMPONENTS: usize = 32;
const MIN_NONCE_LEN: usize = 16;
const MAX_NONCE_LEN: usize = 128;
const MAX_KEYID_LEN: usize = 256;

/// A header lookup. Implementations return the combined value of all field lines with that
/// name (case-insensitive), each line trimmed and the lines joined with `", "` (RFC 9421
/// section 2.1), or `None` when the field is absent.
pub trait Headers {
    fn get(&self, name: &str) -> Option<Cow<'_, str>>;
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for [(K, V)] {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        let mut found: Option<Cow<'_, str>> = None;
        for (k, v) in self {
            if k.as_ref().eq_ignore_ascii_case(name) {
                let v = v.as_ref().trim_matches(|c| c == ' ' || c == '\t');
                found = Some(match found {
                    None => Cow::Borrowed(v),
                    Some(prev) => Cow::Owned(format!("{prev}, {v}")),
                });
            }
        }
        found
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for Vec<(K, V)> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        Headers::get(self.as_slice(), name)
    }
}

/// Adds one field in front of another lookup (used to cover a `Content-Digest` being signed).
struct WithField<'a, H: ?Sized> {
    name: &'a str,
    value: &'a str,
    inner: &'a H,
}

impl<H: Headers + ?Sized> Headers for WithField<'_, H> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        if name.eq_ignore_ascii_case(self.name) {
            Some(Cow::Borrowed(self.value))
        } else {
            self.inner.get(name)
        }
    }
}

/// A request as the signature layer sees it.
#[derive(Clone, Copy)]
pub struct Request<'a, H: Headers + ?Sized> {
    /// The method, e.g. `POST` (case-sensitive, as sent).
    pub method: &'a str,
    /// The absolute target URI, e.g. `https://node.example/r1/ID/GOV/X/Y/svc?q=1`.
    pub target_uri: &'a str,
    pub headers: &'a H,
    pub body: &'a [u8],
}

/// Why a signature was refused. [`SignatureError::code`] gives the stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Signature-Input/Signature headers")]
    Missing,
    #[error("malformed signature: {0}")]
    Malformed(Cow<'static, str>),
    #[error("the signature does not verify")]
    Invalid,
    #[error("signature expired at {expires} (now {now})")]
    Expired { expires: i64, now: i64 },
    #[error("signature created at {created}, in the future (now {now})")]
    NotYetValid { created: i64, now: i64 },
    #[error("unknown key {key_id:?}")]
    UnknownKey { key_id: String },
    #[error("the key does not belong to the stated client")]
    KeyMismatch,
    #[error("nonce already seen within its validity window")]
    Replayed,
    #[error("replay cache full")]
    ReplayCacheFull,
    #[error("body does not match Content-Digest")]
    DigestMismatch,
}

impl SignatureError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            SignatureError::Missing => ErrorCode::SignatureMissing,
            SignatureError::Malformed(_) => ErrorCode::SignatureMalformed,
            SignatureError::Invalid => ErrorCode::SignatureInvalid,
            SignatureError::Expired { .. } => ErrorCode::SignatureExpired,
            SignatureError::NotYetValid { .. } => ErrorCode::SignatureNotYetValid,
            SignatureError::UnknownKey { .. } => ErrorCode::SignatureUnknownKey,
            SignatureError::KeyMismatch => ErrorCode::SignatureKeyMismatch,
            SignatureError::Replayed => ErrorCode::SignatureReplayed,
            SignatureError::ReplayCacheFull => ErrorCode::ReplayCacheFull,
            SignatureError::DigestMismatch => ErrorCode::DigestMismatch,
        }
    }
}

fn malformed(s: impl Into<Cow<'static, str>>) -> SignatureError {
    SignatureError::Malformed(s.into())
}

// ---------------------------------------------------------------------------------------------
// Content-Digest (RFC 9530)

/// SHA-256 of the body.
pub fn body_sha256(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}

/// The `Content-Digest` field value for a body: `sha-256=:<base64>:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(body_sha256(body)))
}

/// Checks a body against a `Content-Digest` value. The value must be a structured dictionary
/// with a `sha-256` byte sequence of 32 bytes (other algorithms are ignored).
pub fn check_content_digest(value: &str, body: &[u8]) -> Result<(), SignatureError> {
    let dict: sfv::Dictionary = Parser::new(value)
        .with_version(Version::Rfc8941)
        .parse()
        .map_err(|_| malformed("Content-Digest is not a structured dictionary"))?;
    let Some(ListEntry::Item(item)) = dict.get("sha-256") else {
        return Err(malformed("Content-Digest has no sha-256 member"));
    };
    let Some(expected) = item.bare_item.as_byte_sequence() else {
        return Err(malformed("Content-Digest sha-256 is not a byte sequence"));
    };
    if expected.len() != 32 {
        return Err(malformed("Content-Digest sha-256 is not 32 bytes"));
    }
    if bool::from(body_sha256(body).ct_eq(expected)) {
        Ok(())
    } else {
        Err(SignatureError::DigestMismatch)
    }
}

// ---------------------------------------------------------------------------------------------
// Target URI and derived components (RFC 9421 section 2.2)

struct TargetUri<'a> {
    scheme: &'a str,
    authority: &'a str,
    path: &'a str,
    query: Option<&'a str>,
}

fn parse_target_uri(uri: &str) -> Result<TargetUri<'_>, SignatureError> {
    if uri.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(malformed(
            "target URI has a space, control or non-ASCII character",
        ));
    }
    if uri.contains('#') {
        return Err(malformed("target URI has a fragment"));
    }
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| malformed("target URI is not absolute"))?;
    let mut sb = scheme.bytes();
    if !sb.next().is_some_and(|b| b.is_ascii_alphabetic())
        || !sb.all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
    {
        return Err(malformed("target URI scheme is invalid"));
    }
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    if authority.is_empty() || authority.contains('@') {
        return Err(malformed("target URI authority is empty or has user info"));
    }
    let after = &rest[auth_end..];
    let (path, query) = match after.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (after, None),
    };
    Ok(TargetUri {
        scheme,
        authority,
        path,
        query,
    })
}

fn derived_value<'a>(
    name: &str,
    method: &'a str,
    target_uri: &'a str,
) -> Result<Cow<'a, str>, SignatureError> {
    if name == "@method" {
        return Ok(Cow::Borrowed(method));
    }
    let uri = parse_target_uri(target_uri)?;
    let path = if uri.path.is_empty() { "/" } else { uri.path };
    Ok(match name {
        "@target-uri" => Cow::Borrowed(target_uri),
        "@scheme" => Cow::Owned(uri.scheme.to_ascii_lowercase()),
        "@authority" => {
            let lower = uri.authority.to_ascii_lowercase();
            let scheme = uri.scheme.to_ascii_lowercase();
            let stripped = match scheme.as_str() {
                "http" => lower.strip_suffix(":80"),
                "https" => lower.strip_suffix(":443"),
                _ => None,
            };
            Cow::Owned(stripped.map(str::to_owned).unwrap_or(lower))
        }
        "@path" => Cow::Borrowed(path),
        "@query" => Cow::Owned(format!("?{}", uri.query.unwrap_or(""))),
        "@request-target" => match uri.query {
            Some(q) => Cow::Owned(format!("{path}?{q}")),
            None => Cow::Borrowed(path),
        },
        _ => return Err(malformed(format!("unsupported derived component {name:?}"))),
    })
}

fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

// ---------------------------------------------------------------------------------------------
// Signature parameters and headers

/// The signature parameters of one signature (RFC 9421 section 2.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignatureParams {
    pub created: Option<i64>,
    pub expires: Option<i64>,
    pub nonce: Option<String>,
    pub keyid: Option<String>,
    pub alg: Option<String>,
    pub tag: Option<String>,
}

/// One signature read from `Signature-Input` and `Signature`.
#[derive(Debug, Clone)]
pub struct ParsedSignature {
    pub label: String,
    /// The covered components with their parameters, as sent (re-serialised canonically for
    /// the `@signature-params` line).
    pub covered: InnerList,
    pub params: SignatureParams,
    pub signature: Vec<u8>,
}

impl ParsedSignature {
    /// The covered component names, in order.
    pub fn component_names(&self) -> impl Iterator<Item = &str> {
        self.covered
            .items
            .iter()
            .filter_map(|i| i.bare_item.as_string().map(|s| s.as_str()))
    }
}

fn parse_params(list: &InnerList) -> Result<SignatureParams, SignatureError> {
    let mut p = SignatureParams::default();
    for (key, value) in &list.params {
        let int = || {
            value
                .as_integer()
                .map(i64::from)
                .ok_or_else(|| malformed(format!("parameter {} must be an integer", key.as_str())))
        };
        let string = || {
            value
                .as_string()
                .map(|s| s.as_str().to_owned())
                .ok_or_else(|| malformed(format!("parameter {} must be a string", key.as_str())))
        };
        match key.as_str() {
            "created" => p.created = Some(int()?),
            "expires" => p.expires = Some(int()?),
            "nonce" => p.nonce = Some(string()?),
            "keyid" => p.keyid = Some(string()?),
            "alg" => p.alg = Some(string()?),
            "tag" => p.tag = Some(string()?),
            other => return Err(malformed(format!("unknown signature parameter {other:?}"))),
        }
    }
    Ok(p)
}

/// Parses `Signature-Input` and `Signature` and returns the signature with `label`, or when
/// `label` is `None` the first entry of `Signature-Input`. Never panics; every failure is
/// [`SignatureError::Malformed`].
pub fn parse_signature(
    signature_input: &str,
    signature: &str,
    label: Option<&str>,
) -> Result<ParsedSignature, SignatureError> {
    let inputs: sfv::Dictionary = Parser::new(signature_input)
        .with_version(Version::Rfc8941)
        .parse()
        .map_err(|_| malformed("Signature-Input is not a structured dictionary"))?;
    let sigs: sfv::Dictionary = Parser::new(signature)
        .with_version(Version::Rfc8941)
        .parse()
        .map_err(|_| malformed("Signature is not a structured dictionary"))?;
    let (label, entry) = match label {
        Some(l) => inputs
            .iter()
            .find(|(k, _)| k.as_str() == l)
            .ok_or_else(|| malformed(format!("no signature labelled {l:?}")))?,
        None => inputs
            .iter()
            .next()
            .ok_or_else(|| malformed("Signature-Input is empty"))?,
    };
    let ListEntry::InnerList(covered) = entry else {
        return Err(malformed("Signature-Input member is not an inner list"));
    };
    if covered.items.len() > MAX_COMPONENTS {
        return Err(malformed("too many covered components"));
    }
    let sig = match sigs.get(label.as_str()) {
        Some(ListEntry::Item(Item { bare_item, params })) if params.is_empty() => bare_item
            .as_byte_sequence()
            .ok_or_else(|| malformed("Signature member is not a byte sequence"))?
            .to_vec(),
        Some(_) => return Err(malformed("Signature member is not a byte sequence")),
        None => return Err(malformed("Signature has no member with the input's label")),
    };
    let params = parse_params(covered)?;
    Ok(ParsedSignature {
        label: label.as_str().to_owned(),
        covered: covered.clone(),
        params,
        signature: sig,
    })
}

/// Builds the signature base (RFC 9421 section 2.5) for the covered components of `covered`
/// over a request. Component identifiers must be strings without parameters, unique, and each
/// either a supported derived component (`@method`, `@target-uri`, `@authority`, `@scheme`,
/// `@request-target`, `@path`, `@query`) or a lower-case field name present in the request.
pub fn signature_base<H: Headers + ?Sized>(
    covered: &InnerList,
    req: &Request<'_, H>,
) -> Result<String, SignatureError> {
    let mut base = String::with_capacity(256);
    for (i, item) in covered.items.iter().enumerate() {
        let Some(name) = item.bare_item.as_string().map(|s| s.as_str()) else {
            return Err(malformed("component identifier is not a string"));
        };
        if !item.params.is_empty() {
            return Err(malformed("component parameters are not supported"));
        }
        if covered.items[..i]
            .iter()
            .any(|o| o.bare_item.as_string().map(|s| s.as_str()) == Some(name))
        {
            return Err(malformed(format!("component {name:?} is covered twice")));
        }
        let value: Cow<'_, str> = if name.starts_with('@') {
            if name == "@signature-params" {
                return Err(malformed("@signature-params cannot be covered"));
            }
            derived_value(name, req.method, req.target_uri)?
        } else {
            if !is_field_name(name) {
                return Err(malformed(format!(
                    "{name:?} is not a lower-case field name"
                )));
            }
            let v = req
                .headers
                .get(name)
                .ok_or_else(|| malformed(format!("covered field {name:?} is absent")))?;
            // A CR or LF in a value would let a sender forge lines of the base.
            if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(malformed(format!("field {name:?} has a line break")));
            }
            Cow::Owned(v.trim_matches(|c| c == ' ' || c == '\t').to_owned())
        };
        if value.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(malformed(format!("component {name:?} has a line break")));
        }
        base.push('"');
        base.push_str(name);
        base.push_str("\": ");
        base.push_str(&value);
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(&serialize_inner_list(covered)?);
    Ok(base)
}

fn serialize_inner_list(list: &InnerList) -> Result<String, SignatureError> {
    let l: sfv::List = vec![ListEntry::InnerList(list.clone())];
    l.serialize()
        .ok_or_else(|| malformed("signature parameters cannot be serialised"))
}

/// Verifies an Ed25519 signature over a signature base (strict verification: rejects
/// non-canonical and small-order encodings).
pub fn verify_base(key: &VerifyingKey, base: &str, signature: &[u8]) -> Result<(), SignatureError> {
    let bytes: [u8; 64] = signature
        .try_into()
        .map_err(|_| malformed("an Ed25519 signature is 64 bytes"))?;
    key.verify_strict(base.as_bytes(), &Signature::from_bytes(&bytes))
        .map_err(|_| SignatureError::Invalid)
}

// ---------------------------------------------------------------------------------------------
// Signing

/// What to put in a signature.
#[derive(Debug, Clone, Copy)]
pub struct SignOptions<'a> {
    /// The dictionary label, e.g. `sig1`.
    pub label: &'a str,
    pub key_id: &'a str,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds; `created < expires <= created + max validity`.
    pub expires: i64,
    /// A fresh random value per request, see [`new_nonce`].
    pub nonce: &'a str,
    /// Further lower-case header fields to cover after the required components (e.g.
    /// `x-road-client`, `x-road-id`).
    pub extra_components: &'a [&'a str],
}

/// The headers a signer adds to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub content_digest: String,
    pub signature_input: String,
    pub signature: String,
    /// The signature base that was signed (for debugging and audit).
    pub base: String,
}

fn sfv_string(s: &str) -> Result<BareItem, SignatureError> {
    sfv::String::from_string(s.to_owned())
        .map(BareItem::String)
        .map_err(|_| malformed(format!("{s:?} cannot be a structured-field string")))
}

fn sfv_key(s: &'static str) -> sfv::Key {
    sfv::Key::from_string(s.to_owned()).expect("static key is valid")
}

/// Signs a request with the Sinergi profile. The `Content-Digest` is computed from `body` and
/// returned; the caller adds the three headers to the request.
pub fn sign_request<H: Headers + ?Sized>(
    key: &SigningKey,
    method: &str,
    target_uri: &str,
    headers: &H,
    body: &[u8],
    opts: &SignOptions<'_>,
) -> Result<SignedHeaders, SignatureError> {
    let digest = content_digest(body);
    let with_digest = WithField {
        name: "content-digest",
        value: &digest,
        inner: headers,
    };
    let mut items: Vec<Item> = Vec::with_capacity(3 + opts.extra_components.len());
    for c in REQUIRED_COMPONENTS.iter().chain(opts.extra_components) {
        items.push(Item::new(sfv_string(c)?));
    }
    let mut params = sfv::Parameters::new();
    params.insert(sfv_key("created"), BareItem::Integer(int(opts.created)?));
    params.insert(sfv_key("expires"), BareItem::Integer(int(opts.expires)?));
    params.insert(sfv_key("nonce"), sfv_string(opts.nonce)?);
    params.insert(sfv_key("keyid"), sfv_string(opts.key_id)?);
    params.insert(sfv_key("alg"), sfv_string(ALG_ED25519)?);
    let covered = InnerList::with_params(items, params);
    let req = Request {
        method,
        target_uri,
        headers: &with_digest,
        body,
    };
    let base = signature_base(&covered, &req)?;
    let sig = key.sign(base.as_bytes());
    sfv::KeyRef::from_str(opts.label).map_err(|_| malformed("label is not a valid key"))?;
    Ok(SignedHeaders {
        signature_input: format!("{}={}", opts.label, serialize_inner_list(&covered)?),
        signature: format!("{}=:{}:", opts.label, STANDARD.encode(sig.to_bytes())),
        content_digest: digest,
        base,
    })
}

fn int(v: i64) -> Result<sfv::Integer, SignatureError> {
    sfv::Integer::try_from(v).map_err(|_| malformed("integer out of structured-field range"))
}

/// A fresh random nonce: 16 random bytes, base64url (22 characters).
pub fn new_nonce() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    Ok(URL_SAFE_NO_PAD.encode(b))
}

/// Generates a new member signing key from the operating system's random source.
pub fn generate_signing_key() -> Result<SigningKey, getrandom::Error> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// A stable fingerprint of a public key, usable as a `keyid`: `ed25519:` + base64url of the
/// first 16 bytes of SHA-256 of the raw key.
pub fn key_fingerprint(key: &VerifyingKey) -> String {
    let h = Sha256::digest(key.as_bytes());
    format!("ed25519:{}", URL_SAFE_NO_PAD.encode(&h[..16]))
}

// ---------------------------------------------------------------------------------------------
// Keys

/// A registered member key: who it belongs to and the public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberKey {
    pub client: ClientId,
    pub key: VerifyingKey,
}

/// Finds a member key by `keyid`.
pub trait KeyResolver {
    fn resolve(&self, key_id: &str) -> Option<MemberKey>;
}

impl<S: std::hash::BuildHasher> KeyResolver for HashMap<String, MemberKey, S> {
    fn resolve(&self, key_id: &str) -> Option<MemberKey> {
        self.get(key_id).cloned()
    }
}

// ---------------------------------------------------------------------------------------------
// Replay cache

/// A replay-cache key (see [`ReplayCache::key`]).
pub type ReplayKey = [u8; 16];

/// Why the replay cache refused a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayRefusal {
    Replayed,
    Full,
}

/// Remembers `(keyid, nonce)` pairs until their signature could no longer be accepted, in a
/// fixed number of entries. Keys are 128-bit truncated SHA-256 of `keyid NUL nonce`, so an
/// entry costs the same whatever the nonce length. When every slot holds an unexpired nonce
/// the cache refuses (fails closed) rather than forgetting one.
#[derive(Debug)]
pub struct ReplayCache {
    seen: HashMap<[u8; 16], i64>,
    by_expiry: BinaryHeap<Reverse<(i64, [u8; 16])>>,
    capacity: usize,
}

impl ReplayCache {
    pub fn new(capacity: usize) -> ReplayCache {
        ReplayCache {
            seen: HashMap::new(),
            by_expiry: BinaryHeap::new(),
            capacity,
        }
    }

    /// The number of remembered nonces.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn evict(&mut self, now: i64) {
        while let Some(Reverse((exp, _))) = self.by_expiry.peek() {
            if *exp >= now {
                break;
            }
            if let Some(Reverse((_, k))) = self.by_expiry.pop() {
                self.seen.remove(&k);
            }
        }
    }

    /// The cache key of a `(keyid, nonce)` pair: the first 16 bytes of SHA-256(`keyid NUL
    /// nonce`). What a node persists to remember nonces across a restart.
    pub fn key(key_id: &str, nonce: &str) -> ReplayKey {
        let mut h = Sha256::new();
        h.update(key_id.as_bytes());
        h.update([0u8]);
        h.update(nonce.as_bytes());
        let full: [u8; 32] = h.finalize().into();
        let mut k = [0u8; 16];
        k.copy_from_slice(&full[..16]);
        k
    }

    /// Remembers keys persisted by an earlier run (valid until their second, inclusive);
    /// expired ones are skipped. A key already present is kept once.
    pub fn preload(&mut self, keys: impl IntoIterator<Item = (ReplayKey, i64)>, now: i64) {
        for (k, valid_until) in keys {
            if valid_until >= now && !self.seen.contains_key(&k) {
                self.seen.insert(k, valid_until);
                self.by_expiry.push(Reverse((valid_until, k)));
            }
        }
    }

    /// Records a nonce valid until `valid_until` (unix seconds, inclusive), or refuses it.
    pub fn check_and_insert(
        &mut self,
        key_id: &str,
        nonce: &str,
        valid_until: i64,
        now: i64,
    ) -> Result<(), ReplayRefusal> {
        self.evict(now);
        let k = ReplayCache::key(key_id, nonce);
        if self.seen.contains_key(&k) {
            return Err(ReplayRefusal::Replayed);
        }
        if self.seen.len() >= self.capacity {
            return Err(ReplayRefusal::Full);
        }
        self.seen.insert(k, valid_until);
        self.by_expiry.push(Reverse((valid_until, k)));
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Verifier

/// Verification policy.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    /// Clock skew tolerated on `created` and `expires`, in seconds.
    pub max_skew_secs: i64,
    /// Longest accepted `expires - created`, in seconds (bounds the replay cache).
    pub max_validity_secs: i64,
    /// Verify the signature with this label; `None`: the first in `Signature-Input`.
    pub label: Option<String>,
    /// Longest accepted `Signature-Input` or `Signature` value, in bytes.
    pub max_header_len: usize,
    /// Replay cache size, in nonces (about 100 bytes each).
    pub replay_capacity: usize,
    /// Header fields the signature must cover whenever the request carries them
    /// (default [`COVERED_WHEN_PRESENT`]); a request sending one uncovered is
    /// SIGNATURE_MALFORMED.
    pub covered_when_present: Vec<String>,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            max_skew_secs: 30,
            max_validity_secs: 300,
            label: None,
            max_header_len: 8 * 1024,
            replay_capacity: 1_000_000,
            covered_when_present: COVERED_WHEN_PRESENT.map(str::to_owned).to_vec(),
        }
    }
}

/// A verified signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub label: String,
    pub key_id: String,
    /// The member the key is registered to.
    pub client: ClientId,
    pub created: i64,
    pub expires: i64,
    pub nonce: String,
    /// The covered component names, in order.
    pub covered: Vec<String>,
    /// The replay-cache key of this signature and the last second it must be remembered:
    /// a node persists both before it answers, so a restart does not forget the nonce
    /// ([`Verifier::preload`]).
    pub replay_key: ReplayKey,
    pub replay_until: i64,
}

impl Verified {
    /// Checks the signer is the client the request claims to be (`X-Road-Client`).
    pub fn check_client(&self, claimed: &ClientId) -> Result<(), SignatureError> {
        if &self.client == claimed {
            Ok(())
        } else {
            Err(SignatureError::KeyMismatch)
        }
    }
}

/// Verifies signed requests under the Sinergi profile and remembers nonces.
#[derive(Debug)]
pub struct Verifier {
    config: VerifyConfig,
    replay: Mutex<ReplayCache>,
}

impl Verifier {
    pub fn new(config: VerifyConfig) -> Verifier {
        let replay = Mutex::new(ReplayCache::new(config.replay_capacity));
        Verifier { config, replay }
    }

    pub fn config(&self) -> &VerifyConfig {
        &self.config
    }

    /// The number of nonces currently remembered.
    pub fn replay_len(&self) -> usize {
        self.replay.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Verifies a request at `now` (unix seconds). Checks, in order: presence, syntax and
    /// profile (SIGNATURE_MISSING, SIGNATURE_MALFORMED), time (SIGNATURE_NOT_YET_VALID,
    /// SIGNATURE_EXPIRED), key (SIGNATURE_UNKNOWN_KEY), signature (SIGNATURE_INVALID), body
    /// (DIGEST_MISMATCH), and last, once the request is authentic, the nonce
    /// (SIGNATURE_REPLAYED, REPLAY_CACHE_FULL), so unauthenticated traffic cannot fill the
    /// replay cache.
    pub fn verify<H: Headers + ?Sized, K: KeyResolver + ?Sized>(
        &self,
        req: &Request<'_, H>,
        keys: &K,
        now: i64,
    ) -> Result<Verified, SignatureError> {
        let cfg = &self.config;
        let input = req.headers.get("signature-input");
        let sig = req.headers.get("signature");
        let (input, sig) = match (input, sig) {
            (None, None) => return Err(SignatureError::Missing),
            (Some(i), Some(s)) => (i, s),
            _ => {
                return Err(malformed(
                    "only one of Signature-Input and Signature is present",
                ));
            }
        };
        if input.len() > cfg.max_header_len || sig.len() > cfg.max_header_len {
            return Err(malformed("signature header too long"));
        }
        let parsed = parse_signature(&input, &sig, cfg.label.as_deref())?;
        for required in REQUIRED_COMPONENTS {
            if !parsed.component_names().any(|n| n == required) {
                return Err(malformed(format!("component {required:?} must be covered")));
            }
        }
        for field in &cfg.covered_when_present {
            if req.headers.get(field).is_some() && !parsed.component_names().any(|n| n == field) {
                return Err(malformed(format!(
                    "header {field:?} is sent but not covered by the signature"
                )));
            }
        }
        let p = &parsed.params;
        let (Some(created), Some(expires), Some(nonce), Some(key_id), Some(alg)) =
            (p.created, p.expires, &p.nonce, &p.keyid, &p.alg)
        else {
            return Err(malformed(
                "created, expires, nonce, keyid and alg parameters are all required",
            ));
        };
        if alg != ALG_ED25519 {
            return Err(malformed(format!("alg must be \"ed25519\", not {alg:?}")));
        }
        if !(MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&nonce.len()) {
            return Err(malformed("nonce must be 16 to 128 characters"));
        }
        if key_id.is_empty() || key_id.len() > MAX_KEYID_LEN {
            return Err(malformed("keyid must be 1 to 256 characters"));
        }
        if expires <= created || expires - created > cfg.max_validity_secs {
            return Err(malformed(format!(
                "expires must be after created and at most {} s later",
                cfg.max_validity_secs
            )));
        }
        if created > now.saturating_add(cfg.max_skew_secs) {
            return Err(SignatureError::NotYetValid { created, now });
        }
        if now > expires.saturating_add(cfg.max_skew_secs) {
            return Err(SignatureError::Expired { expires, now });
        }
        let member = keys
            .resolve(key_id)
            .ok_or_else(|| SignatureError::UnknownKey {
                key_id: key_id.clone(),
            })?;
        let base = signature_base(&parsed.covered, req)?;
        verify_base(&member.key, &base, &parsed.signature)?;
        let digest = req
            .headers
            .get("content-digest")
            .ok_or_else(|| malformed("Content-Digest is absent"))?;
        check_content_digest(&digest, req.body)?;
        let replay_until = expires.saturating_add(cfg.max_skew_secs);
        self.replay
            .lock()
            .map_err(|_| SignatureError::ReplayCacheFull)?
            .check_and_insert(key_id, nonce, replay_until, now)
            .map_err(|r| match r {
                ReplayRefusal::Replayed => SignatureError::Replayed,
                ReplayRefusal::Full => SignatureError::ReplayCacheFull,
            })?;
        Ok(Verified {
            covered: parsed.component_names().map(str::to_owned).collect(),
            label: parsed.label,
            key_id: key_id.clone(),
            client: member.client,
            created,
            expires,
            nonce: nonce.clone(),
            replay_key: ReplayCache::key(key_id, nonce),
            replay_until,
        })
    }

    /// Remembers nonces persisted by an earlier run of the node (see [`ReplayCache::preload`]).
    pub fn preload_replay(&self, keys: impl IntoIterator<Item = (ReplayKey, i64)>, now: i64) {
        if let Ok(mut r) = self.replay.lock() {
            r.preload(keys, now);
        }
    }
}
