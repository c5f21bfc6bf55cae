//! Evaluation: facts + programme rules → an explained verdict.

use serde::{Deserialize, Serialize};
use sinergi_model::{Level, RegionCode};

use sinergi_model::minwage::WageLevel;

use crate::catalogue::{Decision, ReasonCode};
use crate::facts::{
    BpjsSegment, CivilServant, CivilServantKind, Facts, Link, Lookup, NikStatus, Slip, Source, Wage,
};
use crate::program::{FactSource, Program, RegionScope, Text, Unit};

/// One reason of a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Catalogue code (`DECEASED`), a custom condition's code, or `RULE_ERROR`.
    pub code: String,
    /// Severity configured for this programme. `LAYAK` only for an exception.
    pub severity: Decision,
    /// Set when an exception cancels this reason (it is kept, for the explanation, but does
    /// not count towards the verdict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overridden_by: Option<String>,
    /// Where the fact behind the reason was read.
    pub source: Source,
    /// What was found, for the citizen.
    pub message: Text,
    /// What the citizen can do.
    pub next_step: Text,
    /// Short technical detail for officers, e.g. `desil 7 > batas 4`.
    pub detail: String,
    /// The likely right NIK, for identity reasons when linkage proposes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_nik: Option<String>,
    /// Linkage confidence of `suggested_nik`, 0.0–1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

/// The verdict on one row for one programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// `LAYAK`, `TINJAU` or `TIDAK_LAYAK`: the worst severity among the reasons that are not
    /// overridden; `LAYAK` without reasons.
    pub verdict: Decision,
    /// Every reason that applies, in catalogue order, then custom conditions in file order.
    pub reasons: Vec<Reason>,
    /// Enabled checks that could not be made because their data was not checked (registry
    /// not loaded, not permitted, or person unknown), in catalogue order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<String>,
    /// Data-correction notes: the row is the linked person, but the list writes their name or
    /// birth date differently from the population registry. They do not change the verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    /// The rules version that produced the verdict.
    pub rules_version: String,
    /// Programme code.
    pub program: String,
}

impl Verdict {
    /// Whether a reason with this code is present (overridden or not).
    pub fn has(&self, code: &str) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }

    /// Codes of the reasons, in order.
    pub fn codes(&self) -> Vec<&str> {
        self.reasons.iter().map(|r| r.code.as_str()).collect()
    }
}

/// A data-correction note (see [`Verdict::notes`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// Stable code: `NAME_DIFFERS`, `BIRTH_DATE_DEFAULT`, `BIRTH_DATE_DIFFERS`.
    pub code: String,
    /// What differs and what to correct.
    pub message: Text,
    /// Where the registry side was read (Dukcapil).
    pub source: Source,
}

/// The codes whose facts are the listed NIK itself; every other reason rests on the linked
/// person and is at most TINJAU when that person was inferred.
const LISTED_NIK_CODES: [ReasonCode; 3] = [
    ReasonCode::NikInvalid,
    ReasonCode::NikNotFound,
    ReasonCode::IdentityMismatch,
];

/// The problem code of a NIK that is well formed but came from a spreadsheet number cell.
pub const NIK_STORED_AS_NUMBER: &str = "NIK_STORED_AS_NUMBER";

fn notes(f: &Facts) -> Vec<Note> {
    let (pid, pen) = per(&f.identity.source);
    f.identity
        .slips
        .iter()
        .map(|slip| {
            let (code, id, en) = match slip {
                Slip::Name => (
                    "NAME_DIFFERS",
                    format!("Nama di daftar ditulis berbeda dari {pid} (salah ketik, kata hilang atau singkatan); NIK dan orangnya cocok. Perbaiki penulisan nama di daftar sesuai KTP-el."),
                    format!("The name in the list is written differently from {pen} (a typo, a missing word or initials); the NIK and the person match. Correct the name in the list from the KTP-el."),
                ),
                Slip::DefaultBirthDate => (
                    "BIRTH_DATE_DEFAULT",
                    format!("Tanggal lahir di daftar adalah tanggal pengganti (1 Januari, 31 Desember atau 1 Juli), sedangkan {pid} mencatat tanggal lahir lain pada tahun yang sama; NIK dan orangnya cocok. Perbaiki tanggal lahir di daftar sesuai KTP-el."),
                    format!("The birth date in the list is a placeholder (1 January, 31 December or 1 July) while {pen} records another date in the same year; the NIK and the person match. Correct the birth date in the list from the KTP-el."),
                ),
                Slip::NikNumberCell => (
                    "NIK_STORED_AS_NUMBER",
                    format!("NIK di daftar tersimpan sebagai angka di Excel, bukan teks; angkanya sama persis dengan NIK di {pid} atas nama dan tanggal lahir yang cocok, jadi NIK ini dipakai. Format kolom NIK sebagai Teks agar digit terakhir tidak hilang pada daftar berikutnya."),
                    format!("The NIK in the list is stored as a number in Excel, not as text; its digits are exactly the NIK in {pen} of a person whose name and birth date match, so this NIK is used. Format the NIK column as Text so the last digit is not lost in the next list."),
                ),
                Slip::BirthDate => (
                    "BIRTH_DATE_DIFFERS",
                    format!("Tanggal lahir di daftar sedikit berbeda dari {pid} (salah ketik hari, hari dan bulan tertukar, atau tahun meleset satu); NIK dan orangnya cocok. Perbaiki tanggal lahir di daftar sesuai KTP-el."),
                    format!("The birth date in the list differs slightly from {pen} (a mistyped day, day and month swapped, or the year off by one); the NIK and the person match. Correct the birth date in the list from the KTP-el."),
                ),
            };
            Note {
                code: code.to_owned(),
                message: t(id, en),
                source: f.identity.source.clone(),
            }
        })
        .collect()
}

/// Caps at TINJAU every reason that rests on an inferred identity (see
/// [`crate::IdentityFacts::inferred`]); a duplicate whose earlier row was inferred likewise.
fn cap_inferred(reasons: &mut [Reason], f: &Facts, program: &Program) {
    let inferred = f.identity.inferred;
    for r in reasons.iter_mut() {
        if r.severity != Decision::TidakLayak {
            continue;
        }
        let builtin = ReasonCode::parse(&r.code);
        let rests_on_person = match builtin {
            Some(c) if LISTED_NIK_CODES.contains(&c) => false,
            Some(ReasonCode::DuplicateInList) => inferred || f.row.duplicate_inferred,
            Some(_) => inferred,
            None => {
                inferred
                    && program
                        .custom
                        .iter()
                        .find(|c| c.code == r.code)
                        .is_none_or(|c| c.source != Some(FactSource::List))
            }
        };
        if rests_on_person {
            r.severity = Decision::Tinjau;
            r.message.id.push_str(" Orang ini dikenali dari NIK usulan, bukan dari NIK di daftar: petugas memastikan identitasnya sebelum memutuskan.");
            r.message.en.push_str(" This person was identified from a suggested NIK, not the NIK in the list: an officer confirms the identity before deciding.");
            r.detail.push_str("; NIK usulan");
        }
    }
}

fn rp_id(n: u64) -> String {
    group(n, '.')
}
fn rp_en(n: u64) -> String {
    group(n, ',')
}
fn group(n: u64, sep: char) -> String {
    let s = n.to_string();
    let mut out = String::from("Rp");
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

fn t(id: String, en: String) -> Text {
    Text { id, en }
}

/// "Data Dukcapil per 2026-11-01" / "Dukcapil data as of 2026-11-01": the date the data
/// describes. When nobody gave it, the load date is named as what it is ("dimuat", "loaded"),
/// never as the data's date.
fn per(s: &Source) -> (String, String) {
    if s.as_of.is_empty() && !s.loaded.is_empty() {
        (
            format!("Data {} (dimuat {})", s.agency, s.loaded),
            format!("{} data (loaded {})", s.agency, s.loaded),
        )
    } else if s.as_of.is_empty() {
        (format!("Data {}", s.agency), format!("{} data", s.agency))
    } else {
        (
            format!("Data {} per {}", s.agency, s.as_of),
            format!("{} data as of {}", s.agency, s.as_of),
        )
    }
}

fn kind_text(k: &CivilServantKind) -> (String, String) {
    match k {
        CivilServantKind::Pns => (
            "Pegawai Negeri Sipil (PNS)".into(),
            "a civil servant (PNS)".into(),
        ),
        CivilServantKind::Pppk => (
            "pegawai pemerintah dengan perjanjian kerja (PPPK)".into(),
            "a government contract employee (PPPK)".into(),
        ),
        CivilServantKind::Tni => (
            "anggota TNI".into(),
            "a member of the armed forces (TNI)".into(),
        ),
        CivilServantKind::Polri => (
            "anggota Polri".into(),
            "a member of the police (Polri)".into(),
        ),
        CivilServantKind::Occupation(o) => (
            format!("berpekerjaan \"{o}\" (data pekerjaan kependudukan)"),
            format!("working as \"{o}\" (occupation in the population record)"),
        ),
    }
}

struct Out<'p> {
    program: &'p Program,
    reasons: Vec<Reason>,
    not_checked: Vec<String>,
}

impl Out<'_> {
    fn on(&self, code: ReasonCode) -> Option<Decision> {
        self.program.severity(code)
    }

    fn unchecked(&mut self, code: ReasonCode) {
        if self.on(code).is_some() {
            self.not_checked.push(code.as_str().to_owned());
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        code: ReasonCode,
        source: &Source,
        message: Text,
        next_step: Text,
        detail: String,
        link: Option<&Link>,
    ) {
        let Some(severity) = self.on(code).or(
            // Exceptions are not checks; they are pushed with their own severity.
            (code == ReasonCode::ExceptionCatastrophic).then_some(Decision::Layak),
        ) else {
            return;
        };
        self.reasons.push(Reason {
            code: code.as_str().to_owned(),
            severity,
            overridden_by: None,
            source: source.clone(),
            message,
            next_step,
            detail,
            suggested_nik: link.map(|l| l.suggested_nik.clone()),
            score: link.map(|l| l.score),
        });
    }
}

fn suggestion(link: Option<&Link>) -> (String, String) {
    match link {
        Some(l) => (
            format!(
                " Kemungkinan NIK yang benar: {} (keyakinan {:.0}%).",
                l.suggested_nik,
                (l.score * 100.0).clamp(0.0, 100.0)
            ),
            format!(
                " The likely correct NIK is {} (confidence {:.0}%).",
                l.suggested_nik,
                (l.score * 100.0).clamp(0.0, 100.0)
            ),
        ),
        None => (String::new(), String::new()),
    }
}

fn identity(o: &mut Out<'_>, f: &Facts) {
    use ReasonCode::*;
    let link = f.identity.link.as_ref();
    let (sug_id, sug_en) = suggestion(link);
    let fix_id = "Petugas memperbaiki NIK di daftar sesuai KTP-el/KK. Yang bersangkutan dapat menunjukkan KTP-el dan KK kepada pendamping atau kantor desa/kelurahan.";
    let fix_en = "The officer corrects the NIK in the list from the KTP-el/KK. The person can show their KTP-el and family card (KK) to their facilitator or the village office.";
    match &f.identity.nik_status {
        NikStatus::NotChecked => {
            o.unchecked(NikInvalid);
            o.unchecked(NikNotFound);
            o.unchecked(IdentityMismatch);
        }
        NikStatus::Valid => {}
        NikStatus::Invalid { problems } => {
            let detail = if problems.is_empty() {
                "NIK tidak sah".to_owned()
            } else {
                problems.join(", ")
            };
            let message = if problems.iter().any(|p| p == NIK_STORED_AS_NUMBER) {
                // 16 well-formed digits, but from a number cell: the last digit may have been
                // lost, and no registry person with these digits has this name and birth date.
                t(
                    format!(
                        "NIK di daftar tersimpan sebagai angka di Excel, bukan teks; Excel hanya menyimpan 15 digit pertama, sehingga digit terakhir mungkin berubah, dan angka ini tidak cocok dengan NIK orang bernama dan bertanggal lahir sama di data kependudukan.{sug_id}"
                    ),
                    format!(
                        "The NIK in the list is stored as a number in Excel, not as text; Excel keeps only the first 15 digits, so the last digit may have changed, and this number is not the NIK of a person with this name and birth date in the population data.{sug_en}"
                    ),
                )
            } else {
                t(
                    format!(
                        "NIK yang tertulis di daftar tidak sah: bukan 16 digit dengan kode wilayah, tanggal lahir dan nomor urut yang benar ({detail}).{sug_id}"
                    ),
                    format!(
                        "The NIK written in the list is not a valid NIK: not 16 digits with a valid region code, birth date and serial ({detail}).{sug_en}"
                    ),
                )
            };
            o.push(
                NikInvalid,
                &f.row.source,
                message,
                t(fix_id.into(), fix_en.into()),
                detail,
                link,
            );
        }
        NikStatus::Missing => o.push(
            NikInvalid,
            &f.row.source,
            t(
                format!("Kolom NIK di daftar kosong.{sug_id}"),
                format!("The NIK column in the list is empty.{sug_en}"),
            ),
            t(fix_id.into(), fix_en.into()),
            "NIK kosong".into(),
            link,
        ),
        NikStatus::NotFound => {
            let (pid, pen) = per(&f.identity.source);
            o.push(
                NikNotFound,
                &f.identity.source,
                t(
                    format!("{pid} tidak memuat NIK yang tertulis di daftar.{sug_id}"),
                    format!("{pen} has no record of the NIK written in the list.{sug_en}"),
                ),
                t(
                    "Periksa kembali NIK pada KTP-el/KK. Jika NIK sudah benar, yang bersangkutan dapat meminta Dinas Dukcapil setempat memeriksa data kependudukannya dengan membawa KTP-el dan KK.".into(),
                    "Check the NIK against the KTP-el/KK. If it is correct, the person can ask the local Dinas Dukcapil to check their population record, bringing their KTP-el and family card (KK).".into(),
                ),
                "NIK tidak ditemukan".into(),
                link,
            );
        }
        NikStatus::ExactMismatch => {
            let (pid, pen) = per(&f.identity.source);
            o.push(
                IdentityMismatch,
                &f.identity.source,
                t(
                    format!("{pid}: NIK di daftar terdaftar atas nama orang lain (nama atau tanggal lahir tidak sama dengan daftar).{sug_id}"),
                    format!("{pen}: the NIK in the list is registered to someone else (name or birth date differ from the list).{sug_en}"),
                ),
                t(fix_id.into(), fix_en.into()),
                "NIK milik orang lain".into(),
                link,
            );
        }
    }
}

fn civil_servant(o: &mut Out<'_>, f: &Facts, family: bool) {
    let code = ReasonCode::CivilServant;
    if o.on(code).is_none() {
        return;
    }
    let person = f.person.civil_servant.found();
    let head = if family {
        f.family.head_civil_servant.found()
    } else {
        None
    };
    let (found, whose_id, whose_en, who) = match (person, head) {
        (Some(p), _) => (p, "yang bersangkutan", "this person", "penerima"),
        (None, Some(h)) => (
            h,
            "kepala keluarga dalam KK yang sama",
            "the head of the same family card (KK)",
            "kepala keluarga",
        ),
        (None, None) => {
            if !f.person.civil_servant.checked()
                || (family && !f.family.head_civil_servant.checked())
            {
                o.unchecked(code);
            }
            return;
        }
    };
    let (cs, src): (&CivilServant, &Source) = found;
    let (kid, ken) = kind_text(&cs.kind);
    let (pid, pen) = per(src);
    o.push(
        code,
        src,
        t(
            format!("{pid} mencatat {whose_id} sebagai {kid}."),
            format!("{pen} records {whose_en} as {ken}."),
        ),
        t(
            "ASN, anggota TNI/Polri dan keluarganya tidak termasuk sasaran program ini. Jika data ini keliru (misalnya sudah pensiun atau diberhentikan), ajukan sanggah ke Dinas Sosial setempat dengan membawa SK pensiun/pemberhentian.".into(),
            "Civil servants, TNI/Polri members and their families are not covered by this programme. If this is wrong (for example after retirement or dismissal), file an objection (sanggah) at the local Dinas Sosial with the retirement/dismissal decree.".into(),
        ),
        format!("{who}: {}", cs.kind.as_str()),
        None,
    );
}

fn wage(o: &mut Out<'_>, f: &Facts, family: bool) {
    let code = ReasonCode::WageAboveMinimum;
    if o.on(code).is_none() {
        return;
    }
    let person: &Lookup<Wage> = &f.person.wage;
    let head: &Lookup<Wage> = &f.family.head_wage;
    let Some(umk) = &f.person.umk else {
        let any = person.found().is_some() || (family && head.found().is_some());
        if any || !person.checked() {
            o.unchecked(code);
        }
        return;
    };
    let cap = umk.value;
    fn above(l: &Lookup<Wage>, cap: u64) -> Option<(&Wage, &Source)> {
        l.found().filter(|(w, _)| w.monthly > cap)
    }
    let (w, src, whose_id, whose_en, who) = if let Some((w, s)) = above(person, cap) {
        (w, s, "yang bersangkutan", "this person", "penerima")
    } else if let Some((w, s)) = family.then(|| above(head, cap)).flatten() {
        (
            w,
            s,
            "kepala keluarga dalam KK yang sama",
            "the head of the same family card (KK)",
            "kepala keluarga",
        )
    } else {
        if !person.checked() || (family && !head.checked()) {
            o.unchecked(code);
        }
        return;
    };
    let (pid, pen) = per(src);
    // Name the minimum wage that was used: the regency's UMK, or the province's UMP where the
    // UMK is not known (a lower bound of it).
    let (min_id, min_en, short) = match f.person.umk_level {
        WageLevel::Regency => (
            format!("upah minimum kabupaten/kota (UMK) {}", rp_id(umk.value)),
            format!("the regency minimum wage (UMK) of {}", rp_en(umk.value)),
            "UMK",
        ),
        WageLevel::Province => (
            format!(
                "upah minimum provinsi (UMP) {}; UMK kabupaten/kota ini belum tersedia, jadi UMP dipakai sebagai batas bawahnya",
                rp_id(umk.value)
            ),
            format!(
                "the provincial minimum wage (UMP) of {}; this regency's UMK is not available, so the UMP is used as its lower bound",
                rp_en(umk.value)
            ),
            "UMP",
        ),
    };
    o.push(
        code,
        src,
        t(
            format!(
                "{pid} mencatat upah bulanan {whose_id} {}, di atas {min_id}.",
                rp_id(w.monthly),
            ),
            format!(
                "{pen} records a monthly wage for {whose_en} of {}, above {min_en}.",
                rp_en(w.monthly),
            ),
        ),
        t(
            "Jika sudah tidak bekerja atau upah sebenarnya lebih rendah, tunjukkan surat keterangan berhenti kerja/PHK atau slip gaji terbaru kepada Dinas Sosial untuk ditinjau.".into(),
            "If the job has ended or the actual wage is lower, show a letter of termination or a recent pay slip to the Dinas Sosial for review.".into(),
        ),
        format!(
            "{who}: upah {} > {short} {}",
            rp_id(w.monthly),
            rp_id(umk.value)
        ),
        None,
    );
}

fn region(o: &mut Out<'_>, f: &Facts) {
    let code = ReasonCode::OutOfRegion;
    if o.on(code).is_none() {
        return;
    }
    let (Some(list), Lookup::Found { value: dom, source }) =
        (f.row.list_region, &f.person.domicile)
    else {
        if f.row.list_region.is_none() || !f.person.domicile.checked() {
            o.unchecked(code);
        }
        return;
    };
    let scope = match o.program.region_scope() {
        RegionScope::Regency => Level::Regency,
        RegionScope::Village => Level::Village,
    };
    // Compare at the scope level, or coarser when one of the codes is coarser.
    let level = scope.min(list.level()).min(dom.level());
    let at = |c: RegionCode| c.at(level).unwrap_or(c);
    let (l, d) = (at(list), at(*dom));
    if l == d {
        return;
    }
    let (pid, pen) = per(source);
    let (lvl_id, lvl_en) = match level {
        Level::Village => ("desa/kelurahan", "village"),
        Level::District => ("kecamatan", "district"),
        Level::Regency => ("kabupaten/kota", "regency/city"),
        Level::Province => ("provinsi", "province"),
    };
    o.push(
        code,
        source,
        t(
            format!("{pid}: domisili yang bersangkutan ({lvl_id} {d}) berada di luar wilayah daftar ini ({lvl_id} {l})."),
            format!("{pen}: this person's domicile ({lvl_en} {d}) is outside the region of this list ({lvl_en} {l})."),
        ),
        t(
            "Bantuan diberikan di wilayah domisili. Jika sudah pindah, daftarkan melalui desa/kelurahan domisili; jika alamat di data kependudukan keliru, perbarui di Dinas Dukcapil dengan membawa KTP-el dan KK.".into(),
            "Aid is given where the person lives. After a move, register through the village of the new domicile; if the address in the population record is wrong, update it at the Dinas Dukcapil with the KTP-el and family card (KK).".into(),
        ),
        format!("domisili {d} ≠ wilayah daftar {l}"),
        None,
    );
}

fn decile(o: &mut Out<'_>, f: &Facts) {
    use ReasonCode::*;
    let cut = o.program.decile_cut();
    match &f.family.dtsen {
        Lookup::NotChecked => {
            o.unchecked(DecileAboveCut);
            o.unchecked(NotInDtsen);
        }
        Lookup::Absent { source } => {
            let (pid, pen) = per(source);
            o.push(
                NotInDtsen,
                source,
                t(
                    format!("{pid}: keluarga ini tidak terdaftar di DTSEN, sehingga desil kesejahteraannya tidak diketahui."),
                    format!("{pen}: this family is not registered in DTSEN, so its welfare decile is unknown."),
                ),
                t(
                    "Keluarga dapat diusulkan masuk DTSEN melalui desa/kelurahan atau Dinas Sosial setempat (usul), dengan membawa KK.".into(),
                    "The family can be proposed for DTSEN through the village office or the local Dinas Sosial (usul), bringing the family card (KK).".into(),
                ),
                "tidak ada di DTSEN".into(),
                None,
            );
        }
        Lookup::Found { value, source } => {
            if value.decile > cut {
                let (pid, pen) = per(source);
                o.push(
                    DecileAboveCut,
                    source,
                    t(
                        format!("{pid}: keluarga ini berada pada desil {}, di atas batas desil {cut} untuk program {}.", value.decile, o.program.code()),
                        format!("{pen}: this family is in welfare decile {}, above the cut-off of decile {cut} for {}.", value.decile, o.program.code()),
                    ),
                    t(
                        "Jika kondisi ekonomi keluarga sebenarnya lebih rendah, ajukan pemutakhiran data DTSEN melalui desa/kelurahan atau Dinas Sosial setempat (sanggah).".into(),
                        "If the family's economic situation is actually worse, ask for the DTSEN record to be updated through the village office or the local Dinas Sosial (sanggah).".into(),
                    ),
                    format!("desil {} > batas {cut}", value.decile),
                    None,
                );
            }
        }
    }
}

fn overlap(o: &mut Out<'_>, f: &Facts) {
    let code = ReasonCode::ProgramOverlap;
    if o.on(code).is_none() || o.program.not_combinable_with().is_empty() {
        return;
    }
    let Some(other) = &f.family.other_programs else {
        o.unchecked(code);
        return;
    };
    let mut hits: Vec<&str> = other
        .value
        .iter()
        .map(|s| s.as_str())
        .filter(|p| o.program.not_combinable_with().iter().any(|n| n == p))
        .collect();
    hits.sort_unstable();
    hits.dedup();
    if hits.is_empty() {
        return;
    }
    let list = hits.join(", ");
    let me = o.program.code().to_owned();
    let (pid, pen) = per(&other.source);
    o.push(
        code,
        &other.source,
        t(
            format!("{pid}: keluarga ini (KK yang sama) juga menerima {list} pada periode yang sama; {me} tidak boleh digabung dengan {list}."),
            format!("{pen}: this family (same KK) also receives {list} in the same period; {me} may not be combined with {list}."),
        ),
        t(
            "Keluarga hanya dapat menerima salah satu program. Petugas Dinas Sosial/desa menetapkan program yang berlaku; keluarga dapat menanyakannya ke kantor desa/kelurahan.".into(),
            "A family can receive only one of these programmes. The Dinas Sosial or village officer decides which applies; the family can ask at the village office.".into(),
        ),
        format!("juga menerima {list}"),
        None,
    );
}

fn custom(o: &mut Out<'_>, f: &Facts) {
    let p = o.program;
    let Some(cel) = &p.cel else { return };
    let ctx = cel.context(f);
    for rule in &p.custom {
        let result = match &ctx {
            Ok(ctx) => rule
                .compiled
                .execute(ctx)
                .map_err(|e| e.to_string())
                .and_then(|v| match v {
                    cel::Value::Bool(b) => Ok(b),
                    other => Err(format!("result is {other:?}, not a boolean")),
                }),
            Err(e) => Err(e.clone()),
        };
        let source = rule
            .source
            .and_then(|s| fact_source(f, s))
            .unwrap_or_else(|| Source {
                agency: "Aturan program".into(),
                dataset: p.code.clone(),
                version: p.version.clone(),
                as_of: String::new(),
                loaded: String::new(),
            });
        match result {
            Ok(false) => {}
            Ok(true) => o.reasons.push(Reason {
                code: rule.code.clone(),
                severity: rule.severity,
                overridden_by: None,
                source,
                message: rule.message.clone(),
                next_step: rule.next_step.clone(),
                detail: rule.when.clone(),
                suggested_nik: None,
                score: None,
            }),
            Err(e) => o.reasons.push(Reason {
                code: ReasonCode::RuleError.as_str().to_owned(),
                severity: ReasonCode::RuleError.default_severity(),
                overridden_by: None,
                source,
                message: t(
                    format!("Aturan tambahan {} tidak dapat dinilai untuk data ini, sehingga perlu diperiksa petugas.", rule.code),
                    format!("The additional rule {} could not be evaluated for this record, so an officer must check it.", rule.code),
                ),
                next_step: t(
                    "Tidak perlu tindakan dari yang bersangkutan; petugas Dinas Sosial akan memeriksa.".into(),
                    "Nothing to do for the person; a Dinas Sosial officer will check.".into(),
                ),
                detail: format!("{}: {e}", rule.code),
                suggested_nik: None,
                score: None,
            }),
        }
    }
}

fn fact_source(f: &Facts, s: FactSource) -> Option<Source> {
    fn src<T>(l: &Lookup<T>) -> Option<Source> {
        match l {
            Lookup::NotChecked => None,
            Lookup::Absent { source } | Lookup::Found { source, .. } => Some(source.clone()),
        }
    }
    match s {
        FactSource::List => Some(f.row.source.clone()),
        FactSource::Population => Some(f.identity.source.clone()),
        FactSource::Death => src(&f.person.death),
        FactSource::CivilServant => src(&f.person.civil_servant),
        FactSource::Wage => src(&f.person.wage),
        FactSource::Bpjs => src(&f.person.bpjs),
        FactSource::Dtsen => src(&f.family.dtsen),
        FactSource::Rosters => f.family.other_programs.as_ref().map(|o| o.source.clone()),
    }
}

/// Evaluates one row's facts against a programme's rules. Never panics; deterministic: the
/// same facts and the same rules give an identical verdict (reasons in catalogue order, then
/// custom conditions in file order).
pub fn evaluate(program: &Program, facts: &Facts) -> Verdict {
    use ReasonCode::*;
    let f = facts;
    let family = program.unit() == Unit::Family;
    let mut o = Out {
        program,
        reasons: Vec::new(),
        not_checked: Vec::new(),
    };

    identity(&mut o, f);

    if let Some(first) = f.row.duplicate_of_row {
        o.push(
            DuplicateInList,
            &f.row.source,
            t(
                format!("Orang yang sama sudah tercantum pada baris {first} daftar ini; baris ini adalah pendaftaran ganda."),
                format!("The same person is already listed in row {first} of this list; this row is a duplicate."),
            ),
            t(
                format!("Tidak perlu tindakan dari yang bersangkutan: bantuan disalurkan satu kali melalui baris {first}. Petugas menghapus baris ganda ini."),
                format!("Nothing to do for the person: aid is paid once, through row {first}. The officer removes this duplicate row."),
            ),
            format!("sama dengan baris {first}"),
            None,
        );
    }

    match f.identity.kk_stated_matches {
        Some(false) => {
            let (pid, pen) = per(&f.identity.source);
            o.push(
                KkMismatch,
                &f.identity.source,
                t(
                    format!("{pid}: yang bersangkutan tidak tercatat pada Nomor KK yang tertulis di daftar."),
                    format!("{pen}: this person is not on the family card (KK) number written in the list."),
                ),
                t(
                    "Jika susunan keluarga berubah (pindah, menikah, pisah KK), tunjukkan KK terbaru kepada petugas; bila KK belum diperbarui, urus di Dinas Dukcapil setempat.".into(),
                    "If the family changed (moved, married, split the KK), show the latest family card to the officer; if the KK has not been updated, update it at the local Dinas Dukcapil.".into(),
                ),
                "tidak ada di No KK daftar".into(),
                None,
            );
        }
        Some(true) => {}
        None => o.unchecked(KkMismatch),
    }

    match &f.person.death {
        Lookup::NotChecked => o.unchecked(Deceased),
        Lookup::Absent { .. } => {}
        Lookup::Found { value, source } => {
            let (pid, pen) = per(source);
            o.push(
                Deceased,
                source,
                t(
                    format!("{pid} mencatat yang bersangkutan telah meninggal dunia (tanggal kematian {})." , value.date),
                    format!("{pen} records that this person has died (date of death {}).", value.date),
                ),
                t(
                    "Jika ini keliru, yang bersangkutan atau ahli waris dapat mengajukan sanggah ke Dinas Dukcapil setempat dengan membawa KTP-el dan KK.".into(),
                    "If this is wrong, the person or their heirs can file an objection (sanggah) at the local Dinas Dukcapil, bringing the KTP-el and family card (KK).".into(),
                ),
                format!("meninggal {}", value.date),
                None,
            );
        }
    }

    civil_servant(&mut o, f, family);
    wage(&mut o, f, family);

    if o.on(FormalEmployeeInsured).is_some() {
        match &f.person.bpjs {
            Lookup::NotChecked => o.unchecked(FormalEmployeeInsured),
            Lookup::Absent { .. } => {}
            Lookup::Found { value, source } => {
                // Only an active PPU membership shows current formal employment; a NONAKTIF
                // one is a past job and no reason to refuse the premium subsidy.
                if value.segment == BpjsSegment::Ppu && value.active {
                    let (pid, pen) = per(source);
                    let status = "AKTIF";
                    o.push(
                        FormalEmployeeInsured,
                        source,
                        t(
                            format!("{pid} mencatat yang bersangkutan sebagai peserta segmen PPU (pekerja penerima upah, status {status}), yang iurannya dibayar bersama pemberi kerja."),
                            format!("{pen} records this person in the PPU segment (formal employee, status {status}), whose premium is paid with the employer."),
                        ),
                        t(
                            "Selama masih bekerja, iuran dibayar pemberi kerja sehingga PBI tidak diperlukan. Jika sudah berhenti bekerja, minta pemberi kerja menonaktifkan kepesertaan PPU, lalu ajukan kembali melalui Dinas Sosial.".into(),
                            "While employed, the employer pays the premium, so PBI is not needed. After leaving the job, ask the employer to end the PPU membership, then apply again through the Dinas Sosial.".into(),
                        ),
                        format!("segmen PPU ({status})"),
                        None,
                    );
                }
            }
        }
    }

    decile(&mut o, f);
    overlap(&mut o, f);
    region(&mut o, f);

    // Exceptions: EXCEPTION_CATASTROPHIC cancels DECILE_ABOVE_CUT only.
    if program.exceptions().contains(&ExceptionCatastrophic) {
        let decile_at = o
            .reasons
            .iter()
            .position(|r| r.code == DecileAboveCut.as_str());
        if let Some(i) = decile_at {
            match &f.person.bpjs {
                Lookup::Found { value, source } if value.catastrophic => {
                    o.reasons[i].overridden_by = Some(ExceptionCatastrophic.as_str().to_owned());
                    let (pid, pen) = per(source);
                    let detail = o.reasons[i].detail.clone();
                    let reason = Reason {
                        code: ExceptionCatastrophic.as_str().to_owned(),
                        severity: Decision::Layak,
                        overridden_by: None,
                        source: source.clone(),
                        message: t(
                            format!(
                                "{pid} mencatat yang bersangkutan sedang menjalani pengobatan penyakit katastropik; kepesertaan {} tetap dipertahankan walaupun desil keluarga di atas batas.",
                                program.code()
                            ),
                            format!(
                                "{pen} records that this person is under treatment for a catastrophic illness; {} membership is kept even though the family's decile is above the cut-off.",
                                program.code()
                            ),
                        ),
                        next_step: t(
                            "Tidak perlu tindakan; kepesertaan tetap aktif selama pengobatan."
                                .into(),
                            "Nothing to do; the membership stays active during treatment.".into(),
                        ),
                        detail: format!("katastropik; mengesampingkan {detail}"),
                        suggested_nik: None,
                        score: None,
                    };
                    o.reasons.push(reason);
                }
                Lookup::NotChecked => o.not_checked.push(ExceptionCatastrophic.as_str().into()),
                _ => {}
            }
        }
    }
    // Built-in reasons were pushed in catalogue order; keep that an invariant.
    o.reasons
        .sort_by_key(|r| ReasonCode::parse(&r.code).map_or(usize::MAX, |c| c.index()));

    custom(&mut o, f);
    cap_inferred(&mut o.reasons, f, program);

    let verdict = o
        .reasons
        .iter()
        .filter(|r| r.overridden_by.is_none())
        .map(|r| r.severity)
        .max()
        .unwrap_or(Decision::Layak);
    Verdict {
        verdict,
        reasons: o.reasons,
        not_checked: o.not_checked,
        notes: notes(f),
        rules_version: program.version().to_owned(),
        program: program.code().to_owned(),
    }
}
