//! The verification services, answered from the in-memory [`Index`], data-minimised: each
//! attribute the caller states is answered `"sesuai"` / `"tidak sesuai"`; registry values
//! appear (under `data`) only for the fields the agreement grants and the caller asked for.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sinergi_model::normalize_name;

use crate::index::{Index, nik_key};

/// The services a node can provide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Dukcapil: identity and life status.
    VerifikasiIdentitas,
    /// BPJS Kesehatan: membership status.
    StatusKepesertaan,
    /// BKN (and TNI/Polri): civil-servant status.
    StatusAsn,
    /// BPS DTSEN: welfare decile.
    Desil,
    /// Kemensos: eligibility of a recipient, gathered from the other services.
    ValidasiPenerima,
    /// Dukcapil: the candidate NIKs of the person a list row describes (`crate::pencarian`).
    PencarianIdentitas,
    /// Dukcapil: the population facts validation needs about a linked person (`crate::fakta`).
    FaktaPenduduk,
    /// BPJS Kesehatan: membership facts for validation.
    FaktaKepesertaan,
    /// BPS DTSEN: the family's decile for validation.
    FaktaDesil,
    /// BKN / TNI-Polri: civil-servant facts (the person, the head of family) for validation.
    FaktaAsn,
    /// BPJS Ketenagakerjaan: formal wages (the person, the head of family) for validation.
    FaktaUpah,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::VerifikasiIdentitas,
        Kind::StatusKepesertaan,
        Kind::StatusAsn,
        Kind::Desil,
        Kind::ValidasiPenerima,
        Kind::PencarianIdentitas,
        Kind::FaktaPenduduk,
        Kind::FaktaKepesertaan,
        Kind::FaktaDesil,
        Kind::FaktaAsn,
        Kind::FaktaUpah,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Kind::VerifikasiIdentitas => "verifikasi-identitas",
            Kind::StatusKepesertaan => "status-kepesertaan",
            Kind::StatusAsn => "status-asn",
            Kind::Desil => "desil",
            Kind::ValidasiPenerima => "validasi-penerima",
            Kind::PencarianIdentitas => "pencarian-identitas",
            Kind::FaktaPenduduk => "fakta-penduduk",
            Kind::FaktaKepesertaan => "fakta-kepesertaan",
            Kind::FaktaDesil => "fakta-desil",
            Kind::FaktaAsn => "fakta-asn",
            Kind::FaktaUpah => "fakta-upah",
        }
    }

    /// The services answered with the engine's functions over the node's registries.
    pub fn uses_engine(self) -> bool {
        self.is_fakta() || self == Kind::PencarianIdentitas
    }

    /// The `fakta-*` services (`crate::fakta`).
    pub fn is_fakta(self) -> bool {
        matches!(
            self,
            Kind::FaktaPenduduk
                | Kind::FaktaKepesertaan
                | Kind::FaktaDesil
                | Kind::FaktaAsn
                | Kind::FaktaUpah
        )
    }

    /// Fields an agreement may grant for this service (values returned under `data`).
    pub fn grantable(self) -> &'static [&'static str] {
        match self {
            Kind::VerifikasiIdentitas => &[
                "nama",
                "tgl_lahir",
                "jenis_kelamin",
                "no_kk",
                "kode_wilayah",
                "alamat",
                "tgl_kematian",
            ],
            Kind::StatusKepesertaan => &["segmen", "kelas", "katastropik"],
            Kind::StatusAsn => &["jenis"],
            Kind::Desil => &["desil", "id_keluarga"],
            // The values a verdict's reasons would show (crate::disclosure).
            Kind::ValidasiPenerima => crate::disclosure::FIELDS,
            // Never a registry value: only the per-field evidence of each candidate.
            Kind::PencarianIdentitas => &["bukti"],
            // The facts validation needs, all or nothing: the service is the grant.
            Kind::FaktaPenduduk
            | Kind::FaktaKepesertaan
            | Kind::FaktaDesil
            | Kind::FaktaAsn
            | Kind::FaktaUpah => &[],
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Kind::VerifikasiIdentitas => {
                "Dukcapil: does the NIK exist, do name / birth date / sex / KK match, alive or deceased"
            }
            Kind::StatusKepesertaan => "BPJS Kesehatan: is the NIK a member, is it active",
            Kind::StatusAsn => {
                "BKN / TNI / Polri: is the NIK a civil servant, soldier or police officer"
            }
            Kind::Desil => "BPS DTSEN: is the NIK in DTSEN, is its decile at most a given cut",
            Kind::ValidasiPenerima => {
                "Kemensos: verdict LAYAK / TINJAU / TIDAK LAYAK for a recipient under a programme's rules"
            }
            Kind::FaktaPenduduk => {
                "Dukcapil: for validation, a linked person's KK, domicile, head of family, sex, age, family size and death"
            }
            Kind::FaktaKepesertaan => "BPJS Kesehatan: for validation, a person's membership",
            Kind::FaktaDesil => "BPS DTSEN: for validation, the decile of a person's family",
            Kind::FaktaAsn => {
                "BKN / TNI / Polri: for validation, whether a person or the head of their family serves"
            }
            Kind::FaktaUpah => {
                "BPJS Ketenagakerjaan: for validation, the formal wages of a person and the head of their family"
            }
            Kind::PencarianIdentitas => {
                "Dukcapil: at most three candidate NIKs for the person a list row describes, with match score (and per-field evidence when granted); never a name, address or other registry value"
            }
        }
    }

    /// Parses a service code; the `-batch` suffix selects the streaming NDJSON variant
    /// (for `validasi-penerima`, a list of recipients: `crate::validasi::validate_batch`).
    pub fn parse(code: &str) -> Option<(Kind, bool)> {
        let (base, batch) = match code.strip_suffix("-batch") {
            Some(b) => (b, true),
            None => (code, false),
        };
        let k = Kind::ALL.into_iter().find(|k| k.code() == base)?;
        Some((k, batch))
    }
}

/// One question about one person.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Query {
    #[serde(default)]
    pub nik: String,
    #[serde(default)]
    pub nama: Option<String>,
    #[serde(default)]
    pub tgl_lahir: Option<String>,
    #[serde(default)]
    pub jenis_kelamin: Option<String>,
    #[serde(default)]
    pub no_kk: Option<String>,
    /// DTSEN: answer whether the decile is at most this.
    #[serde(default)]
    pub desil_maks: Option<u8>,
    /// Fields whose values the caller asks for (must be granted).
    #[serde(default)]
    pub fields: Vec<String>,
    /// validasi-penerima: programme code (PKH, BPNT, PBI_JK, BLT_DD).
    #[serde(default)]
    pub program: Option<String>,
    /// validasi-penerima: the region (village code) the list is for.
    #[serde(default)]
    pub kode_wilayah: Option<String>,
}

/// Parses a request body (or a batch line) that must be one JSON object: a JSON array,
/// string or number is not a question, whatever serde would make of it (it reads an array as
/// the struct's fields in order).
pub fn json_object<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

fn verdict(ok: bool) -> Value {
    Value::String(if ok { "sesuai" } else { "tidak sesuai" }.into())
}

/// Normalises a stated date (any format agencies write) to `YYYY-MM-DD`.
pub(crate) fn norm_date(s: &str) -> Option<String> {
    sinergi_model::parse_date(s.trim())
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

pub(crate) fn norm_sex(s: &str) -> String {
    match s.trim().to_ascii_uppercase().as_str() {
        "1" | "L" | "LAKI-LAKI" | "M" => "L".into(),
        "2" | "P" | "PEREMPUAN" | "F" => "P".into(),
        other => other.to_owned(),
    }
}

fn granted(fields: &[String], f: &str) -> bool {
    fields.iter().any(|g| g == f)
}

/// Answers one question. `fields` are the granted (and requested) fields.
pub fn answer(ix: &Index, kind: Kind, q: &Query, fields: &[String]) -> Value {
    let mut out = Map::new();
    out.insert("nik".into(), Value::String(q.nik.clone()));
    let Some(k) = nik_key(&q.nik) else {
        out.insert("nik_valid".into(), Value::Bool(false));
        out.insert("ditemukan".into(), Value::Bool(false));
        return Value::Object(out);
    };
    let mut data = Map::new();
    match kind {
        Kind::VerifikasiIdentitas => {
            let Some(p) = ix.persons.get(&k) else {
                out.insert("ditemukan".into(), Value::Bool(false));
                return Value::Object(out);
            };
            out.insert("ditemukan".into(), Value::Bool(true));
            if let Some(n) = &q.nama {
                out.insert("nama".into(), verdict(normalize_name(n) == *p.name_norm));
            }
            if let Some(d) = &q.tgl_lahir {
                out.insert(
                    "tgl_lahir".into(),
                    verdict(norm_date(d).as_deref() == Some(&*p.birth_date)),
                );
            }
            if let Some(s) = &q.jenis_kelamin {
                out.insert("jenis_kelamin".into(), verdict(norm_sex(s) == *p.sex));
            }
            if let Some(kk) = &q.no_kk {
                out.insert("no_kk".into(), verdict(kk.trim() == &*p.kk));
            }
            let death = ix.deaths.get(&k);
            out.insert(
                "status".into(),
                Value::String(
                    if death.is_some() {
                        "meninggal"
                    } else {
                        "hidup"
                    }
                    .into(),
                ),
            );
            for f in fields {
                let v = match f.as_str() {
                    "nama" => json!(p.name),
                    "tgl_lahir" => json!(p.birth_date),
                    "jenis_kelamin" => json!(p.sex),
                    "no_kk" => json!(p.kk),
                    "kode_wilayah" => json!(p.region),
                    "alamat" => json!(p.address),
                    "tgl_kematian" => json!(death),
                    _ => continue,
                };
                data.insert(f.clone(), v);
            }
        }
        Kind::StatusKepesertaan => {
            let Some(h) = ix.health.get(&k) else {
                out.insert("terdaftar".into(), Value::Bool(false));
                return Value::Object(out);
            };
            out.insert("terdaftar".into(), Value::Bool(true));
            out.insert("aktif".into(), Value::Bool(h.active));
            if granted(fields, "segmen") {
                data.insert("segmen".into(), json!(h.segment));
            }
            if granted(fields, "kelas") {
                data.insert("kelas".into(), json!(h.class));
            }
            if granted(fields, "katastropik") {
                data.insert("katastropik".into(), json!(h.catastrophic));
            }
        }
        Kind::StatusAsn => {
            let e = ix.employment.get(&k);
            out.insert("asn".into(), Value::Bool(e.is_some()));
            if let Some(e) = e
                && granted(fields, "jenis")
            {
                data.insert("jenis".into(), json!(e));
            }
        }
        Kind::Desil => {
            let Some(d) = ix.deciles.get(&k) else {
                out.insert("terdaftar".into(), Value::Bool(false));
                return Value::Object(out);
            };
            out.insert("terdaftar".into(), Value::Bool(true));
            if let Some(m) = q.desil_maks {
                out.insert("desil_maks".into(), verdict(d.decile <= m));
            }
            if granted(fields, "desil") {
                data.insert("desil".into(), json!(d.decile));
            }
            if granted(fields, "id_keluarga") {
                data.insert("id_keluarga".into(), json!(d.family_id));
            }
        }
        _ => {}
    }
    if !data.is_empty() {
        out.insert("data".into(), Value::Object(data));
    }
    Value::Object(out)
}
