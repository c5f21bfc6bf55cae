//! Refusals as JSON `{message, code, type, link}` (meilisearch style), with the HTTP status
//! of the code. A refusal never carries personal data.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sinergi_exchange::ErrorCode;

/// Refusal codes of the server itself, beside the exchange table ([`ErrorCode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerCode {
    /// The provider or service is not served by this node.
    ServiceNotFound,
    /// The body is not the JSON (or NDJSON) the service expects, or a query parameter is
    /// missing, malformed or given twice.
    RequestInvalid,
    /// The body is larger than the node's `max_body_bytes`.
    RequestTooLarge,
    /// The method is not the one the route declares (405, with `Allow`).
    MethodNotAllowed,
    /// No route at this path.
    NotFound,
    /// Admin endpoints: no or wrong admin token.
    AdminTokenInvalid,
    /// Admin endpoints: the agreement does not exist.
    AgreementNotFound,
    /// Admin endpoints: an agreement with this id exists already.
    AgreementExists,
    /// Admin endpoints: the agreement is revoked (final) or the change is out of time order.
    AgreementStatusConflict,
    /// A provider this node called did not answer usably.
    UpstreamUnavailable,
    /// The registry index or database failed.
    InternalError,
    /// Witness: another checkpoint is held for this node and seq, or another member speaks
    /// for this node.
    WitnessConflict,
}

impl ServerCode {
    pub const ALL: [ServerCode; 12] = [
        ServerCode::ServiceNotFound,
        ServerCode::RequestInvalid,
        ServerCode::RequestTooLarge,
        ServerCode::MethodNotAllowed,
        ServerCode::NotFound,
        ServerCode::WitnessConflict,
        ServerCode::AdminTokenInvalid,
        ServerCode::AgreementNotFound,
        ServerCode::AgreementExists,
        ServerCode::AgreementStatusConflict,
        ServerCode::UpstreamUnavailable,
        ServerCode::InternalError,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ServerCode::ServiceNotFound => "SERVICE_NOT_FOUND",
            ServerCode::RequestInvalid => "REQUEST_INVALID",
            ServerCode::RequestTooLarge => "REQUEST_TOO_LARGE",
            ServerCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ServerCode::NotFound => "NOT_FOUND",
            ServerCode::WitnessConflict => "WITNESS_CONFLICT",
            ServerCode::AdminTokenInvalid => "ADMIN_TOKEN_INVALID",
            ServerCode::AgreementNotFound => "AGREEMENT_NOT_FOUND",
            ServerCode::AgreementExists => "AGREEMENT_EXISTS",
            ServerCode::AgreementStatusConflict => "AGREEMENT_STATUS_CONFLICT",
            ServerCode::UpstreamUnavailable => "UPSTREAM_UNAVAILABLE",
            ServerCode::InternalError => "INTERNAL_ERROR",
        }
    }

    pub fn http_status(self) -> u16 {
        match self {
            ServerCode::ServiceNotFound | ServerCode::AgreementNotFound | ServerCode::NotFound => {
                404
            }
            ServerCode::MethodNotAllowed => 405,
            ServerCode::WitnessConflict => 409,
            ServerCode::RequestInvalid => 400,
            ServerCode::RequestTooLarge => 413,
            ServerCode::AdminTokenInvalid => 401,
            ServerCode::AgreementExists | ServerCode::AgreementStatusConflict => 409,
            ServerCode::UpstreamUnavailable => 502,
            ServerCode::InternalError => 500,
        }
    }

    pub fn message(self, en: bool) -> &'static str {
        match (self, en) {
            (ServerCode::ServiceNotFound, false) => {
                "Layanan tidak disediakan oleh node ini. Periksa alamat /r1/INSTANCE/KELAS/KODE/SUBSISTEM/LAYANAN (listMethods)."
            }
            (ServerCode::ServiceNotFound, true) => {
                "This node does not provide the service. Check /r1/INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE (listMethods)."
            }
            (ServerCode::RequestInvalid, false) => {
                "Permintaan tidak sesuai format layanan: isinya (JSON, atau NDJSON untuk layanan -batch) atau parameter kuerinya (masing-masing sekali, mis. serviceCode untuk getOpenAPI). Lihat /openapi.json."
            }
            (ServerCode::RequestInvalid, true) => {
                "The request is not in the service's format: its body (JSON, or NDJSON for -batch services) or a query parameter (each given once, e.g. getOpenAPI's serviceCode). See /openapi.json."
            }
            (ServerCode::RequestTooLarge, false) => {
                "Isi permintaan melebihi batas ukuran node (max_body_bytes). Bagi daftar menjadi beberapa permintaan."
            }
            (ServerCode::RequestTooLarge, true) => {
                "The request body exceeds the node's size limit (max_body_bytes). Split the list into several requests."
            }
            (ServerCode::MethodNotAllowed, false) => {
                "Metode HTTP ini tidak dilayani di alamat ini; lihat header Allow (layanan hanya menerima POST, direktori hanya GET)."
            }
            (ServerCode::MethodNotAllowed, true) => {
                "This HTTP method is not served at this address; see the Allow header (services take POST only, the directory GET only)."
            }
            (ServerCode::NotFound, false) => {
                "Tidak ada apa pun di alamat ini. Daftar alamat node ada di /openapi.json."
            }
            (ServerCode::NotFound, true) => {
                "Nothing is served at this address. The node's routes are listed in /openapi.json."
            }
            (ServerCode::WitnessConflict, false) => {
                "Node ini sudah menyimpan checkpoint lain untuk node dan nomor urut ini, atau anggota lain yang mewakili node itu: checkpoint ditolak."
            }
            (ServerCode::WitnessConflict, true) => {
                "This node already holds another checkpoint for that node and seq, or another member speaks for that node: the checkpoint is refused."
            }
            (ServerCode::AdminTokenInvalid, false) => {
                "Token admin (atau tanda tangan kunci node) tidak ada atau tidak sah."
            }
            (ServerCode::AdminTokenInvalid, true) => {
                "The admin token (or the node key's signature) is missing or not valid."
            }
            (ServerCode::AgreementNotFound, false) => "PKS dengan nomor ini tidak ada di node ini.",
            (ServerCode::AgreementNotFound, true) => {
                "No agreement (PKS) with this id on this node."
            }
            (ServerCode::AgreementExists, false) => "PKS dengan nomor ini sudah ada.",
            (ServerCode::AgreementExists, true) => {
                "An agreement (PKS) with this id already exists."
            }
            (ServerCode::AgreementStatusConflict, false) => {
                "Status PKS ini tidak dapat diubah: PKS yang sudah dicabut bersifat final."
            }
            (ServerCode::AgreementStatusConflict, true) => {
                "This agreement's status cannot change: a revoked agreement (PKS) is final."
            }
            (ServerCode::UpstreamUnavailable, false) => {
                "Node instansi penyedia data tidak dapat dihubungi atau menolak permintaan."
            }
            (ServerCode::UpstreamUnavailable, true) => {
                "The data provider's node could not be reached or refused the request."
            }
            (ServerCode::InternalError, false) => {
                "Terjadi kesalahan di server. Coba lagi; jika berulang hubungi admin node."
            }
            (ServerCode::InternalError, true) => {
                "The server failed. Retry; if it persists contact the node administrator."
            }
        }
    }
}

/// Either table's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Exchange(ErrorCode),
    Server(ServerCode),
}

impl From<ErrorCode> for Code {
    fn from(c: ErrorCode) -> Code {
        Code::Exchange(c)
    }
}

impl From<ServerCode> for Code {
    fn from(c: ServerCode) -> Code {
        Code::Server(c)
    }
}

impl Code {
    pub fn code(self) -> &'static str {
        match self {
            Code::Exchange(c) => c.code(),
            Code::Server(c) => c.code(),
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Code::Exchange(c) => c.http_status(),
            Code::Server(c) => c.http_status(),
        }
    }

    fn message(self, en: bool) -> &'static str {
        match self {
            Code::Exchange(c) => c.message(if en { "en" } else { "id" }),
            Code::Server(c) => c.message(en),
        }
    }

    fn kind(self) -> &'static str {
        match self.status() {
            400 | 404 | 405 | 409 | 413 => "invalid_request",
            401 => "auth",
            403 => "agreement",
            429 => "quota",
            _ => "system",
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    message: &'a str,
    code: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    link: String,
}

/// Whether the caller asked for English (`Accept-Language: en...`).
pub fn wants_english(headers: &HeaderMap) -> bool {
    headers
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("en"))
}

/// A 405 refusal with the `Allow` header (e.g. `POST`, or `GET, HEAD`).
pub fn method_not_allowed(allow: &'static str, en: bool) -> Response {
    let mut r = refuse(ServerCode::MethodNotAllowed, en, None);
    r.headers_mut()
        .insert("allow", HeaderValue::from_static(allow));
    r
}

/// A JSON answer of the node's own that names its character encoding,
/// `application/json; charset=utf-8`: GovStack IM 1.1, 14.1.6.2, "The REST messages
/// originating from the Security Server (e.g. error messages) MUST include the header and
/// indicate the content's type and character encoding with it."
pub fn json_utf8(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// The refusal response.
pub fn refuse(code: impl Into<Code>, en: bool, retry_after: Option<u64>) -> Response {
    let code = code.into();
    let body = Body {
        message: code.message(en),
        code: code.code(),
        kind: code.kind(),
        link: format!("docs/API.md#{}", code.code().to_ascii_lowercase()),
    };
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = json_utf8((status, axum::Json(body)).into_response());
    if let Some(s) = retry_after
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        resp.headers_mut().insert("retry-after", v);
    }
    resp
}
