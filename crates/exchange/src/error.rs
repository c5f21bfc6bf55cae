//! The one table of stable error codes of the exchange layer.
//!
//! Every refusal the exchange layer can produce maps to exactly one [`ErrorCode`]: a
//! SCREAMING_SNAKE_CASE code that never changes once released, the HTTP status the server
//! answers with, and a message in Bahasa Indonesia (default) and English. The server renders
//! these; nothing else invents codes.

use std::fmt;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => ($code:literal, $status:literal, $id:literal, $en:literal), )*) => {
        /// A stable, machine-readable refusal code (see the module documentation).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The stable code string, e.g. `SIGNATURE_INVALID`.
            pub const fn code(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// The HTTP status the server answers with.
            pub const fn http_status(self) -> u16 {
                match self { $( ErrorCode::$variant => $status, )* }
            }

            /// The message in Bahasa Indonesia (the default language).
            pub const fn message_id(self) -> &'static str {
                match self { $( ErrorCode::$variant => $id, )* }
            }

            /// The message in English.
            pub const fn message_en(self) -> &'static str {
                match self { $( ErrorCode::$variant => $en, )* }
            }
        }
    };
}

error_codes! {
    /// An `X-Road-Client` value or client part of a path is not a valid identifier.
    ClientIdInvalid => ("CLIENT_ID_INVALID", 400,
        "Identitas klien (X-Road-Client) tidak valid. Gunakan bentuk INSTANCE/KELAS/KODE/SUBSISTEM dengan huruf, angka, '.', '_' atau '-'.",
        "The client identifier (X-Road-Client) is invalid. Use INSTANCE/CLASS/CODE/SUBSYSTEM with letters, digits, '.', '_' or '-'."),
    /// The service path is not `/r1/{instance}/{class}/{code}/{subsystem}/{service}`.
    ServiceIdInvalid => ("SERVICE_ID_INVALID", 400,
        "Alamat layanan tidak valid. Gunakan /r1/INSTANCE/KELAS/KODE/SUBSISTEM/LAYANAN.",
        "The service address is invalid. Use /r1/INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE."),
    /// No `Signature-Input`/`Signature` header.
    SignatureMissing => ("SIGNATURE_MISSING", 401,
        "Permintaan tidak ditandatangani. Sertakan header Signature-Input dan Signature (RFC 9421).",
        "The request is not signed. Include the Signature-Input and Signature headers (RFC 9421)."),
    /// Signature headers present but unparseable or outside the Sinergi profile.
    SignatureMalformed => ("SIGNATURE_MALFORMED", 400,
        "Header tanda tangan tidak sesuai format atau profil Sinergi (@method, @target-uri, content-digest; created, expires, nonce, keyid, alg=\"ed25519\").",
        "The signature headers are malformed or outside the Sinergi profile (@method, @target-uri, content-digest; created, expires, nonce, keyid, alg=\"ed25519\")."),
    /// The signature does not verify over the signature base.
    SignatureInvalid => ("SIGNATURE_INVALID", 401,
        "Tanda tangan tidak cocok dengan isi permintaan. Periksa kunci dan komponen yang ditandatangani.",
        "The signature does not match the request. Check the key and the covered components."),
    /// `expires` is in the past (beyond the allowed clock skew).
    SignatureExpired => ("SIGNATURE_EXPIRED", 401,
        "Tanda tangan sudah kedaluwarsa. Tandatangani ulang permintaan dan periksa jam sistem.",
        "The signature has expired. Sign the request again and check the system clock."),
    /// `created` is in the future (beyond the allowed clock skew).
    SignatureNotYetValid => ("SIGNATURE_NOT_YET_VALID", 401,
        "Waktu pembuatan tanda tangan ada di masa depan. Periksa jam sistem (NTP).",
        "The signature's creation time is in the future. Check the system clock (NTP)."),
    /// `keyid` names no registered member key.
    SignatureUnknownKey => ("SIGNATURE_UNKNOWN_KEY", 401,
        "Kunci penandatangan (keyid) tidak terdaftar. Daftarkan kunci publik anggota terlebih dahulu.",
        "The signing key (keyid) is not registered. Register the member's public key first."),
    /// The key belongs to a member other than the stated client.
    SignatureKeyMismatch => ("SIGNATURE_KEY_MISMATCH", 401,
        "Kunci penandatangan bukan milik klien yang disebut di X-Road-Client.",
        "The signing key does not belong to the client named in X-Road-Client."),
    /// The nonce was already used within the validity window.
    SignatureReplayed => ("SIGNATURE_REPLAYED", 401,
        "Permintaan ini sudah pernah diterima (nonce dipakai ulang). Buat nonce baru untuk setiap permintaan.",
        "This request was already received (nonce reused). Use a fresh nonce for every request."),
    /// The replay cache is full of unexpired nonces: fail closed.
    ReplayCacheFull => ("REPLAY_CACHE_FULL", 503,
        "Server sedang penuh; permintaan belum dapat diperiksa terhadap pengulangan. Coba lagi sebentar lagi.",
        "The server is saturated and cannot check the request for replay. Retry shortly."),
    /// The body does not match its `Content-Digest`.
    DigestMismatch => ("DIGEST_MISMATCH", 400,
        "Isi permintaan tidak cocok dengan Content-Digest (sha-256). Kirim ulang tanpa mengubah isi.",
        "The request body does not match its Content-Digest (sha-256). Resend without altering the body."),
    /// No API token presented.
    TokenMissing => ("TOKEN_MISSING", 401,
        "Token API tidak ada. Sertakan header Authorization: Bearer sng_...",
        "No API token. Include the header Authorization: Bearer sng_..."),
    /// The token is malformed or unknown.
    TokenInvalid => ("TOKEN_INVALID", 401,
        "Token API tidak dikenal atau salah ketik. Minta token baru kepada admin node.",
        "The API token is unknown or mistyped. Ask the node administrator for a new token."),
    /// The token's validity ended.
    TokenExpired => ("TOKEN_EXPIRED", 401,
        "Token API sudah kedaluwarsa. Minta token baru kepada admin node.",
        "The API token has expired. Ask the node administrator for a new token."),
    /// The token was revoked.
    TokenRevoked => ("TOKEN_REVOKED", 401,
        "Token API sudah dicabut. Minta token baru kepada admin node.",
        "The API token has been revoked. Ask the node administrator for a new token."),
    /// No agreement (PKS) between consumer and provider covers the request.
    NoAgreement => ("NO_AGREEMENT", 403,
        "Tidak ada perjanjian kerja sama (PKS) antara instansi Anda dan pemilik data untuk permintaan ini.",
        "There is no data-sharing agreement (PKS) between your agency and the data owner for this request."),
    /// The agreement's validity period has ended.
    AgreementExpired => ("AGREEMENT_EXPIRED", 403,
        "Masa berlaku PKS sudah berakhir. Perpanjang PKS dengan pemilik data.",
        "The agreement (PKS) has expired. Renew it with the data owner."),
    /// The agreement's validity period has not started.
    AgreementNotYetValid => ("AGREEMENT_NOT_YET_VALID", 403,
        "PKS belum berlaku pada tanggal ini.",
        "The agreement (PKS) is not yet in force on this date."),
    /// The provider suspended the agreement.
    AgreementSuspended => ("AGREEMENT_SUSPENDED", 403,
        "PKS sedang ditangguhkan oleh pemilik data. Hubungi pemilik data.",
        "The agreement (PKS) is suspended by the data owner. Contact the data owner."),
    /// The agreement was revoked.
    AgreementRevoked => ("AGREEMENT_REVOKED", 403,
        "PKS sudah dicabut.",
        "The agreement (PKS) has been revoked."),
    /// The stated purpose is not one the agreement allows.
    PurposeNotAllowed => ("PURPOSE_NOT_ALLOWED", 403,
        "Tujuan penggunaan data tidak tercantum dalam PKS.",
        "The stated purpose is not allowed by the agreement (PKS)."),
    /// The service is not covered by the agreement.
    ServiceNotCovered => ("SERVICE_NOT_COVERED", 403,
        "Layanan ini tidak tercakup dalam PKS.",
        "This service is not covered by the agreement (PKS)."),
    /// The data subject is outside the agreement's region scope.
    OutOfRegion => ("OUT_OF_REGION", 403,
        "Penduduk yang ditanyakan terdaftar di luar wilayah yang diizinkan PKS.",
        "The person asked about is registered outside the region the agreement (PKS) allows."),
    /// The agreement's per-second or per-day quota is used up.
    QuotaExceeded => ("QUOTA_EXCEEDED", 429,
        "Kuota permintaan PKS terlampaui. Coba lagi setelah waktu yang disebut di Retry-After.",
        "The agreement's request quota is used up. Retry after the time given in Retry-After."),
    /// A requested field is not granted by the agreement.
    FieldNotGranted => ("FIELD_NOT_GRANTED", 403,
        "Atribut yang diminta tidak diberikan oleh PKS. Minta hanya atribut yang tercantum.",
        "A requested field is not granted by the agreement (PKS). Request only the granted fields."),
    /// The audit log could not be written: the request is refused, never served unaudited.
    AuditUnavailable => ("AUDIT_UNAVAILABLE", 503,
        "Log audit sedang tidak dapat ditulis; permintaan ditolak agar tidak ada akses tanpa jejak. Coba lagi.",
        "The audit log cannot be written; the request is refused so no access goes unrecorded. Retry."),
}

impl ErrorCode {
    /// Looks a code up by its string.
    pub fn from_code(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// The message in the requested language (`"en"` gives English, anything else Indonesian).
    pub fn message(self, lang: &str) -> &'static str {
        if lang.eq_ignore_ascii_case("en") {
            self.message_en()
        } else {
            self.message_id()
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        ErrorCode::from_code(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code {s:?}")))
    }
}
