//! X-Road compatible member, subsystem and service identifiers.
//!
//! Forms:
//! - `X-Road-Client` header: `INSTANCE/CLASS/CODE/SUBSYSTEM`
//! - REST path: `/r1/{instance}/{memberClass}/{memberCode}/{subsystemCode}/{serviceCode}[/resource...][?query]`
//!
//! Validation is strict and does no decoding: a part is 1..=max bytes of ASCII letters,
//! digits, `.`, `_`, `-`, starting with a letter or digit (so `.`/`..`, empty parts,
//! percent-escapes, whitespace, control and non-ASCII characters are all refused). The
//! instance and the member class start with a letter; a member class is letters and digits
//! only (`GOV`, `COM`, `NGO`; GovStack deployments also use lower case, e.g. `identifier`).
//! Identifiers compare exactly: `gov` and `GOV` are different classes, as in X-Road.
//!
//! The same syntax serves X-Road (`X-Road-Client`, `/r1/...`) and the GovStack Information
//! Mediator (`Information-Mediator-Client`, `{GovStackInstance}/{memberClass}/{memberCode}/
//! {applicationCode}`): a GovStack application is an X-Road subsystem.

use std::fmt;
use std::str::FromStr;

use crate::ErrorCode;

/// Maximum length of the instance part.
pub const MAX_INSTANCE_LEN: usize = 32;
/// Maximum length of the member class part.
pub const MAX_MEMBER_CLASS_LEN: usize = 16;
/// Maximum length of the member code, subsystem code and service code parts.
pub const MAX_CODE_LEN: usize = 64;

/// Which part of an identifier was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdPart {
    Prefix,
    Instance,
    MemberClass,
    MemberCode,
    SubsystemCode,
    ServiceCode,
    Whole,
}

impl fmt::Display for IdPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdPart::Prefix => "prefix",
            IdPart::Instance => "instance",
            IdPart::MemberClass => "memberClass",
            IdPart::MemberCode => "memberCode",
            IdPart::SubsystemCode => "subsystemCode",
            IdPart::ServiceCode => "serviceCode",
            IdPart::Whole => "identifier",
        })
    }
}

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{part}: empty")]
    Empty { part: IdPart },
    #[error("{part}: longer than {max} bytes")]
    TooLong { part: IdPart, max: usize },
    #[error("{part}: character {ch:?} at byte {at} is not allowed")]
    BadChar { part: IdPart, ch: char, at: usize },
    #[error("{part}: must start with a letter (instance, member class) or a letter or digit")]
    BadStart { part: IdPart },
    #[error("expected {expected} parts separated by '/', found {found}")]
    PartCount { expected: usize, found: usize },
    #[error("path must start with /r1/")]
    BadPrefix,
    #[error("resource path after the service code: {0}")]
    BadResource(&'static str),
}

fn check_part(part: IdPart, s: &str, max: usize) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { part });
    }
    if s.len() > max {
        return Err(IdError::TooLong { part, max });
    }
    for (at, ch) in s.char_indices() {
        let ok = if part == IdPart::MemberClass {
            ch.is_ascii_alphanumeric()
        } else {
            ch.is_ascii_alphanumeric() || ch == '.' || ch == '_' || ch == '-'
        };
        if !ok {
            return Err(IdError::BadChar { part, ch, at });
        }
    }
    let first = s.as_bytes()[0];
    let letter_first = matches!(part, IdPart::Instance | IdPart::MemberClass);
    if !first.is_ascii_alphanumeric() || (letter_first && !first.is_ascii_alphabetic()) {
        return Err(IdError::BadStart { part });
    }
    Ok(())
}

/// A subsystem of a member: the party that sends (client) or provides (service) requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId {
    pub instance: String,
    pub member_class: String,
    pub member_code: String,
    pub subsystem_code: String,
}

impl ClientId {
    /// Builds and validates an identifier from its parts.
    pub fn new(
        instance: &str,
        member_class: &str,
        member_code: &str,
        subsystem_code: &str,
    ) -> Result<ClientId, IdError> {
        check_part(IdPart::Instance, instance, MAX_INSTANCE_LEN)?;
        check_part(IdPart::MemberClass, member_class, MAX_MEMBER_CLASS_LEN)?;
        check_part(IdPart::MemberCode, member_code, MAX_CODE_LEN)?;
        check_part(IdPart::SubsystemCode, subsystem_code, MAX_CODE_LEN)?;
        Ok(ClientId {
            instance: instance.to_owned(),
            member_class: member_class.to_owned(),
            member_code: member_code.to_owned(),
            subsystem_code: subsystem_code.to_owned(),
        })
    }

    /// Parses the `X-Road-Client` header form `INSTANCE/CLASS/CODE/SUBSYSTEM`.
    pub fn parse_header(s: &str) -> Result<ClientId, IdError> {
        let max = MAX_INSTANCE_LEN + MAX_MEMBER_CLASS_LEN + 2 * MAX_CODE_LEN + 3;
        if s.len() > max {
            return Err(IdError::TooLong {
                part: IdPart::Whole,
                max,
            });
        }
        let mut it = s.split('/');
        let parts: [&str; 4] = [
            it.next().unwrap_or(""),
            it.next().unwrap_or(""),
            it.next().unwrap_or(""),
            it.next().unwrap_or(""),
        ];
        let rest = it.count();
        let found = s.split('/').count();
        if rest > 0 || found != 4 {
            return Err(IdError::PartCount { expected: 4, found });
        }
        ClientId::new(parts[0], parts[1], parts[2], parts[3])
    }

    /// The `X-Road-Client` header form.
    pub fn to_header(&self) -> String {
        self.to_string()
    }

    /// The stable error code for a refused client identifier.
    pub const ERROR_CODE: ErrorCode = ErrorCode::ClientIdInvalid;
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.instance, self.member_class, self.member_code, self.subsystem_code
        )
    }
}

impl FromStr for ClientId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClientId::parse_header(s)
    }
}

/// A service offered by a provider subsystem.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId {
    pub client: ClientId,
    pub service_code: String,
}

/// A parsed REST path: the service and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePath<'a> {
    pub service: ServiceId,
    /// The resource path after the service code, starting with `/`, or empty.
    pub resource: &'a str,
    /// The query string without `?`, if any.
    pub query: Option<&'a str>,
}

impl ServicePath<'_> {
    /// Checks the resource path after the service code as a path that every proxy and
    /// server reads the same way: segments of the identifier alphabet only, so no empty
    /// segment (`//`, a trailing `/`), no dot-segment (`.`, `..`), no percent-escape (`%2e`,
    /// `%2F`), no backslash, no parameters (`;`). A normalising proxy in front of the node
    /// would otherwise route `.../svc/../../OTHER/svc` to another service than the node
    /// reads. Empty (nothing after the service code) is fine.
    pub fn check_resource(&self) -> Result<(), IdError> {
        if self.resource.is_empty() {
            return Ok(());
        }
        let Some(rest) = self.resource.strip_prefix('/') else {
            return Err(IdError::BadResource("must start with '/'"));
        };
        for seg in rest.split('/') {
            if seg.is_empty() {
                return Err(IdError::BadResource("empty segment"));
            }
            if seg == "." || seg == ".." {
                return Err(IdError::BadResource("dot-segment"));
            }
            if !seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            {
                return Err(IdError::BadResource(
                    "only letters, digits, '.', '_' and '-' in a segment",
                ));
            }
        }
        Ok(())
    }
}

impl ServiceId {
    /// Builds and validates a service identifier.
    pub fn new(client: ClientId, service_code: &str) -> Result<ServiceId, IdError> {
        check_part(IdPart::ServiceCode, service_code, MAX_CODE_LEN)?;
        Ok(ServiceId {
            client,
            service_code: service_code.to_owned(),
        })
    }

    /// Parses exactly `/r1/{instance}/{class}/{code}/{subsystem}/{service}`.
    pub fn parse_path(path: &str) -> Result<ServiceId, IdError> {
        let p = ServiceId::parse_path_prefix(path)?;
        if !p.resource.is_empty() || p.query.is_some() {
            let found = path.split('/').count().saturating_sub(1);
            return Err(IdError::PartCount { expected: 6, found });
        }
        Ok(p.service)
    }

    /// Parses `/r1/{instance}/{class}/{code}/{subsystem}/{service}` followed by an optional
    /// resource path and query, as an X-Road REST request path.
    pub fn parse_path_prefix(path: &str) -> Result<ServicePath<'_>, IdError> {
        // Upper bound on the identifier part; the resource part is the caller's business.
        let (before_query, query) = match path.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (path, None),
        };
        let rest = before_query
            .strip_prefix("/r1/")
            .ok_or(IdError::BadPrefix)?;
        let mut parts = [""; 5];
        let mut remaining = rest;
        for (i, slot) in parts.iter_mut().enumerate() {
            match remaining.find('/') {
                Some(pos) if i < 4 => {
                    *slot = &remaining[..pos];
                    remaining = &remaining[pos + 1..];
                }
                Some(pos) => {
                    *slot = &remaining[..pos];
                    remaining = &remaining[pos..];
                }
                None if i == 4 => {
                    *slot = remaining;
                    remaining = "";
                }
                None => {
                    return Err(IdError::PartCount {
                        expected: 5,
                        found: i + 1,
                    });
                }
            }
        }
        let client = ClientId::new(parts[0], parts[1], parts[2], parts[3])?;
        let service = ServiceId::new(client, parts[4])?;
        Ok(ServicePath {
            service,
            resource: remaining,
            query,
        })
    }

    /// The REST path form `/r1/INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE`.
    pub fn to_path(&self) -> String {
        format!("/r1/{self}")
    }

    /// The stable error code for a refused service identifier or path.
    pub const ERROR_CODE: ErrorCode = ErrorCode::ServiceIdInvalid;
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.client, self.service_code)
    }
}

macro_rules! serde_as_string {
    ($t:ty, $parse:path) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_as_string!(ClientId, ClientId::parse_header);

fn parse_service_string(s: &str) -> Result<ServiceId, IdError> {
    let (client, code) = s.rsplit_once('/').ok_or(IdError::PartCount {
        expected: 5,
        found: 1,
    })?;
    ServiceId::new(ClientId::parse_header(client)?, code)
}

serde_as_string!(ServiceId, parse_service_string);

impl FromStr for ServiceId {
    type Err = IdError;
    /// Parses `INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE` (the path form without `/r1/`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_service_string(s)
    }
}
