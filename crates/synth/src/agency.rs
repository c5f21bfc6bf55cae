//! Pass 1: walks the families in index order and writes every agency's native files.
//!
//! Memory: the set of issued NIKs (needed so roster typos know whether they hit a real person
//! and so NIKs stay unique), a set of KK numbers and of NIP/NRP numbers while writing, and the
//! few serial overrides that resolve collisions. Everything else streams.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::family::{Family, MARITAL, Occ, RELIGIONS, Segment, world_core};
use crate::ids;
use crate::names::{gen_address, gen_names};
use crate::refdata::Ref;
use crate::util::{
    Domain, IntMap, IntSet, civil_from_days, push_dmy, push_field, push_json_str, push_padded,
    push_u64, push_ymd, stream,
};
use crate::{FileSummary, Progress, SynthError};
use sha2::{Digest, Sha256};

/// What roster generation needs to know about the world written in pass 1.
pub struct WorldIndex {
    pub families: u64,
    pub people: u64,
    /// Member count of the last family when it was cut short to reach exactly N people.
    pub last_truncate: Option<usize>,
    /// (family << 4 | member) → serial, for NIKs bumped to avoid a collision.
    pub nik_override: IntMap<u32>,
    /// family → serial, for KK numbers bumped to avoid a collision.
    pub kk_override: IntMap<u32>,
    /// Every NIK in penduduk.csv.
    pub niks: IntSet,
}

impl WorldIndex {
    pub fn truncate_for(&self, f: u64) -> Option<usize> {
        if f + 1 == self.families {
            self.last_truncate
        } else {
            None
        }
    }

    /// Regenerates the core of family `f` exactly as written in pass 1.
    pub fn family(&self, r: &Ref, seed: u64, today: i32, f: u64, fam: &mut Family) {
        world_core(r, seed, f, today, self.truncate_for(f), fam);
        if !self.kk_override.is_empty()
            && let Some(&s) = self.kk_override.get(&f)
        {
            fam.kk = ids::with_serial(fam.kk, s);
        }
        if !self.nik_override.is_empty() {
            for (i, m) in fam.members.iter_mut().enumerate() {
                if let Some(&s) = self.nik_override.get(&(f << 4 | i as u64)) {
                    m.nik = ids::with_serial(m.nik, s);
                }
            }
        }
    }
}

/// A buffered output file that counts rows.
pub struct Out {
    pub path: PathBuf,
    pub rel: String,
    file: File,
    pub buf: Vec<u8>,
    pub rows: u64,
    bytes: u64,
    hasher: Sha256,
}

impl Out {
    pub fn create(dir: &Path, rel: &str) -> Result<Out, SynthError> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| SynthError::io(parent, e))?;
        }
        let file = File::create(&path).map_err(|e| SynthError::io(&path, e))?;
        Ok(Out {
            path,
            rel: rel.to_string(),
            file,
            buf: Vec::with_capacity(1 << 20),
            rows: 0,
            bytes: 0,
            hasher: Sha256::new(),
        })
    }

    pub fn end_row(&mut self, crlf: bool) -> Result<(), SynthError> {
        if crlf {
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.buf.push(b'\n');
        }
        self.rows += 1;
        if self.buf.len() >= 1 << 20 {
            self.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> Result<(), SynthError> {
        self.hasher.update(&self.buf);
        self.bytes += self.buf.len() as u64;
        self.file
            .write_all(&self.buf)
            .map_err(|e| SynthError::io(&self.path, e))?;
        self.buf.clear();
        Ok(())
    }

    pub fn finish(mut self) -> Result<FileSummary, SynthError> {
        self.flush()?;
        Ok(FileSummary {
            path: self.rel,
            rows: self.rows,
            bytes: self.bytes,
            sha256: hex(&self.hasher.finalize()),
        })
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Size and SHA-256 of a written file (XLSX files are written by rust_xlsxwriter).
pub fn summarise_file(out: &Path, rel: &str, rows: u64) -> Result<FileSummary, SynthError> {
    use std::io::Read;
    let path = out.join(rel);
    let mut f = File::open(&path).map_err(|e| SynthError::io(&path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| SynthError::io(&path, e))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    Ok(FileSummary {
        path: rel.to_string(),
        rows,
        bytes: total,
        sha256: hex(&h.finalize()),
    })
}

/// Fixed creation date so XLSX files are byte-identical across runs.
pub fn new_workbook(reference: (i32, u32, u32)) -> Result<Workbook, SynthError> {
    let mut wb = Workbook::new();
    let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(
        reference.0 as u16,
        reference.1 as u8,
        reference.2 as u8,
    )
    .map_err(|e| SynthError::Xlsx("creation date".into(), e.to_string()))?;
    let props = rust_xlsxwriter::DocProperties::new()
        .set_creation_datetime(&dt)
        .set_author("sinergi synth");
    wb.set_properties(&props);
    wb.set_zip_compression_level(1);
    Ok(wb)
}

pub fn xerr(path: &Path) -> impl Fn(rust_xlsxwriter::XlsxError) -> SynthError + '_ {
    move |e| SynthError::Xlsx(path.display().to_string(), e.to_string())
}

const CENTRAL: [&str; 8] = [
    "KEMENTERIAN AGAMA",
    "KEMENTERIAN KEUANGAN",
    "KEMENTERIAN PENDIDIKAN DASAR DAN MENENGAH",
    "KEMENTERIAN KESEHATAN",
    "KEMENTERIAN HUKUM",
    "KEMENTERIAN DALAM NEGERI",
    "BADAN PUSAT STATISTIK",
    "KEMENTERIAN SOSIAL",
];

const KODAM: [&str; 6] = [
    "KODAM JAYA/JAYAKARTA",
    "KODAM III/SILIWANGI",
    "KODAM IV/DIPONEGORO",
    "KODAM V/BRAWIJAYA",
    "KODAM I/BUKIT BARISAN",
    "KODAM XIV/HASANUDDIN",
];

/// Names as TNI/Polri's Windows software keeps them: typographic apostrophe and accents.
fn personnel_name(name: &str) -> String {
    let mut s = name.replace('\'', "\u{2019}");
    for (plain, accented) in [("ANDRE", "ANDRÉ"), ("JOSE", "JOSÉ"), ("RENE", "RENÉ")] {
        let mut out = String::with_capacity(s.len() + 2);
        for (i, word) in s.split(' ').enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(if word == plain { accented } else { word });
        }
        s = out;
    }
    s
}

struct Writers {
    penduduk: Out,
    kematian: Out,
    dtsen: Out,
    bpjs: Out,
    personel: Out,
    upah: Out,
    asn_path: PathBuf,
    asn_book: Workbook,
    asn_row: u32,
}

pub struct Pass1Result {
    pub index: WorldIndex,
    pub files: Vec<FileSummary>,
}

fn asn_sheet(wb: &mut Workbook) -> &mut Worksheet {
    wb.worksheet_from_index(0).expect("sheet 0 exists")
}

pub fn write_agencies(
    r: &Ref,
    seed: u64,
    people: u64,
    today: i32,
    period: &str,
    out: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<Pass1Result, SynthError> {
    let mut w = Writers {
        penduduk: Out::create(out, "dukcapil/penduduk.csv")?,
        kematian: Out::create(out, "dukcapil/kematian.csv")?,
        dtsen: Out::create(out, "dtsen/dtsen.csv")?,
        bpjs: Out::create(out, "bpjs-kesehatan/peserta.jsonl")?,
        personel: Out::create(out, "tni-polri/personel.csv")?,
        upah: Out::create(out, "bpjs-ketenagakerjaan/upah.csv")?,
        asn_path: out.join("bkn/asn.xlsx"),
        asn_book: new_workbook(civil_from_days(today))?,
        asn_row: 0,
    };
    w.penduduk.buf.extend_from_slice(
        b"NIK|NO_KK|NAMA_LGKP|JENIS_KLMIN|TMPT_LHR|TGL_LHR|STAT_HBKEL|AGAMA|STATUS_KAWIN|JENIS_PKRJN|NO_PROP|NO_KAB|NO_KEC|NO_KEL|ALAMAT|NO_RT|NO_RW\r\n",
    );
    w.kematian
        .buf
        .extend_from_slice(b"NIK,NO_AKTA_KEMATIAN,TGL_KEMATIAN\n");
    w.dtsen.buf.extend_from_slice(
        "\u{feff}ID_KELUARGA;NO_KK;NIK;NAMA;TGL_LAHIR;KODE_WILAYAH;DESIL\n".as_bytes(),
    );
    w.personel.buf.extend_from_slice(b"NRP,NIK,NAMA,SATUAN\r\n");
    w.upah
        .buf
        .extend_from_slice(b"NIK,NAMA,UPAH_BULANAN,NPP_PERUSAHAAN\n");
    {
        let perr = xerr(&w.asn_path);
        let bold = Format::new().set_bold();
        let ws = w
            .asn_book
            .add_worksheet_with_constant_memory()
            .map_err(&perr)?;
        ws.set_name("ASN").map_err(&perr)?;
        for (c, width) in [(0u16, 22.0), (1, 20.0), (2, 36.0), (3, 44.0), (4, 8.0)] {
            ws.set_column_width(c, width).map_err(&perr)?;
        }
        ws.write_string_with_format(0, 0, "DATA APARATUR SIPIL NEGARA (ASN)", &bold)
            .map_err(&perr)?;
        ws.write_string(
            1,
            0,
            format!("Sumber: Badan Kepegawaian Negara, keadaan per periode {period}"),
        )
        .map_err(&perr)?;
        for (c, h) in ["NIP", "NIK", "NAMA", "INSTANSI", "JENIS"]
            .iter()
            .enumerate()
        {
            ws.write_string_with_format(2, c as u16, *h, &bold)
                .map_err(&perr)?;
        }
        w.asn_row = 3;
    }

    let mut index = WorldIndex {
        families: 0,
        people: 0,
        last_truncate: None,
        nik_override: IntMap::default(),
        kk_override: IntMap::default(),
        niks: IntSet::with_capacity_and_hasher(people as usize, Default::default()),
    };
    let mut kks = IntSet::with_capacity_and_hasher((people / 3) as usize, Default::default());
    let mut staff_ids = IntSet::default();
    let mut fam = Family::default();
    let mut names = Vec::new();
    let mut card_counter: u64 = 0;
    let mut death_counter: u64 = 0;
    let mut next_report = 0u64;
    let mut f: u64 = 0;
    while index.people < people {
        world_core(r, seed, f, today, None, &mut fam);
        let remaining = (people - index.people) as usize;
        if fam.members.len() > remaining {
            world_core(r, seed, f, today, Some(remaining), &mut fam);
            index.last_truncate = Some(remaining);
        }
        // Keep KK and NIK unique: bump the serial and remember the override.
        if kks.contains(&fam.kk) {
            let mut s = (fam.kk % 10_000) as u32;
            while kks.contains(&fam.kk) {
                s = s % 9999 + 1;
                fam.kk = ids::with_serial(fam.kk, s);
            }
            index.kk_override.insert(f, s);
        }
        kks.insert(fam.kk);
        for (i, m) in fam.members.iter_mut().enumerate() {
            if index.niks.contains(&m.nik) {
                let mut s = (m.nik % 10_000) as u32;
                while index.niks.contains(&m.nik) {
                    s = s % 9999 + 1;
                    m.nik = ids::with_serial(m.nik, s);
                }
                index.nik_override.insert(f << 4 | i as u64, s);
            }
            index.niks.insert(m.nik);
        }
        gen_names(
            r,
            &mut stream(seed, Domain::Names, f),
            &fam,
            today,
            &mut names,
        );
        let (alamat, rt, rw) = gen_address(r, &mut stream(seed, Domain::Address, f), &fam);
        let mut arng = stream(seed, Domain::Agency, f);
        write_family(
            r,
            &mut w,
            &fam,
            &names,
            &alamat,
            rt,
            rw,
            &mut arng,
            &mut card_counter,
            &mut death_counter,
            &mut staff_ids,
        )?;
        index.people += fam.members.len() as u64;
        f += 1;
        if index.people >= next_report {
            progress(Progress {
                phase: Phase::Agencies,
                people_done: index.people,
                people_total: people,
            });
            next_report = index.people + 65_536;
        }
    }
    index.families = f;
    if index.last_truncate.is_some_and(|t| f == 0 || t == 0) {
        index.last_truncate = None;
    }
    drop(kks);

    let mut files = Vec::new();
    for o in [w.penduduk, w.kematian, w.dtsen, w.bpjs] {
        files.push(o.finish()?);
    }
    let personel = w.personel;
    files.push(personel.finish()?);
    files.push(w.upah.finish()?);
    let asn_rows = (w.asn_row - 3) as u64;
    if let Some(parent) = w.asn_path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| SynthError::io(parent, e))?;
    }
    w.asn_book.save(&w.asn_path).map_err(xerr(&w.asn_path))?;
    files.push(summarise_file(out, "bkn/asn.xlsx", asn_rows)?);
    Ok(Pass1Result { index, files })
}

use crate::Phase;

#[allow(clippy::too_many_arguments)]
fn write_family(
    r: &Ref,
    w: &mut Writers,
    fam: &Family,
    names: &[String],
    alamat: &str,
    rt: u8,
    rw: u8,
    rng: &mut fastrand::Rng,
    card_counter: &mut u64,
    death_counter: &mut u64,
    staff_ids: &mut IntSet,
) -> Result<(), SynthError> {
    let village = &r.villages[fam.village as usize];
    let regency = &r.regencies[village.regency as usize];
    let province = &r.provinces[regency.province as usize];
    let vd = village.digits;
    // A bijection of the family index onto 12 digits (the multiplier is coprime with 10).
    let dtsen_id = ((fam.idx as u128 + 1) * 736_481_925_373 % 1_000_000_000_000) as u64;
    for (i, m) in fam.members.iter().enumerate() {
        let name = &names[i];
        // penduduk.csv
        let b = &mut w.penduduk.buf;
        push_padded(b, m.nik, 16);
        b.push(b'|');
        push_padded(b, fam.kk, 16);
        b.push(b'|');
        push_field(b, name, b'|');
        b.extend_from_slice(if m.female { b"|2|" } else { b"|1|" });
        let birth_regency = r
            .regencies
            .binary_search_by_key(&(m.reg_district / 100), |rg| rg.code.as_u64() as u32)
            .map(|i| r.regencies[i].short_name.as_str())
            .unwrap_or(&regency.short_name);
        b.extend_from_slice(birth_regency.as_bytes());
        b.push(b'|');
        push_dmy(b, m.birth, b'-');
        b.push(b'|');
        b.extend_from_slice(m.rel.dukcapil().as_bytes());
        b.push(b'|');
        b.extend_from_slice(RELIGIONS[fam.religion as usize].as_bytes());
        b.push(b'|');
        b.extend_from_slice(MARITAL[m.marital as usize].as_bytes());
        b.push(b'|');
        b.extend_from_slice(m.occ.dukcapil().as_bytes());
        b.push(b'|');
        push_u64(b, vd / 100_000_000);
        b.push(b'|');
        push_u64(b, vd / 1_000_000 % 100);
        b.push(b'|');
        push_u64(b, vd / 10_000 % 100);
        b.push(b'|');
        push_u64(b, vd % 10_000);
        b.push(b'|');
        push_field(b, alamat, b'|');
        b.push(b'|');
        push_padded(b, rt as u64, 3);
        b.push(b'|');
        push_padded(b, rw as u64, 3);
        w.penduduk.end_row(true)?;

        // kematian.csv
        if let Some(d) = m.death {
            *death_counter += 1;
            let b = &mut w.kematian.buf;
            push_padded(b, m.nik, 16);
            b.push(b',');
            push_padded(b, regency.code.as_u64(), 4);
            b.extend_from_slice(b"-KM-");
            let (y, mo, dd) = civil_from_days(d);
            push_padded(b, dd as u64, 2);
            push_padded(b, mo as u64, 2);
            push_padded(b, y as u64, 4);
            b.push(b'-');
            push_padded(b, *death_counter, 7);
            b.push(b',');
            push_ymd(b, d);
            w.kematian.end_row(false)?;
        }

        // dtsen.csv
        if fam.in_dtsen {
            let b = &mut w.dtsen.buf;
            push_padded(b, province.code as u64, 2);
            push_padded(b, dtsen_id, 12);
            b.push(b';');
            push_padded(b, fam.kk, 16);
            b.push(b';');
            push_padded(b, m.nik, 16);
            b.push(b';');
            push_field(b, name, b';');
            b.push(b';');
            push_ymd(b, m.birth);
            b.push(b';');
            push_padded(b, vd, 10);
            b.push(b';');
            push_u64(b, fam.decile as u64);
            w.dtsen.end_row(false)?;
        }

        // peserta.jsonl
        if m.segment != Segment::None {
            *card_counter += 1;
            let card = (*card_counter)
                .wrapping_mul(7_919_393)
                .wrapping_add(1_234_567)
                % 10_000_000_000;
            let b = &mut w.bpjs.buf;
            b.extend_from_slice(b"{\"noKartu\":\"000");
            push_padded(b, card, 10);
            b.extend_from_slice(b"\",\"nik\":\"");
            push_padded(b, m.nik, 16);
            b.extend_from_slice(b"\",\"nama\":");
            push_json_str(b, name);
            b.extend_from_slice(b",\"tglLahir\":\"");
            push_dmy(b, m.birth, b'/');
            b.extend_from_slice(b"\",\"segmen\":\"");
            b.extend_from_slice(m.segment.text().as_bytes());
            b.extend_from_slice(b"\",\"kelas\":");
            push_u64(b, m.kelas as u64);
            b.extend_from_slice(if m.active {
                b",\"status\":\"AKTIF\",\"katastropik\":"
            } else {
                b",\"status\":\"NONAKTIF\",\"katastropik\":"
            });
            b.extend_from_slice(if m.katastropik { b"true}" } else { b"false}" });
            w.bpjs.end_row(false)?;
        }

        // Civil servants (living only) and formal wages.
        if m.in_civil_file() {
            let (by, bm, bd) = civil_from_days(m.birth);
            match m.occ {
                Occ::Pns | Occ::Pppk => {
                    let (ay, am, _) = civil_from_days(m.appointed);
                    let base = (by as u64 * 10_000 + bm as u64 * 100 + bd as u64) * 10_000_000_000
                        + (ay as u64 * 100 + am as u64) * 10_000
                        + if m.female { 2000 } else { 1000 };
                    let mut serial = rng.u64(1..200);
                    while staff_ids.contains(&(base + serial)) {
                        serial = serial % 999 + 1;
                    }
                    staff_ids.insert(base + serial);
                    let instansi = match rng.u32(0..100) {
                        0..60 => format!(
                            "PEMERINTAH {} {}",
                            if regency.kota { "KOTA" } else { "KABUPATEN" },
                            regency.short_name
                        ),
                        60..75 => format!("PEMERINTAH PROVINSI {}", province.name),
                        _ => CENTRAL[rng.usize(0..CENTRAL.len())].to_string(),
                    };
                    let row = w.asn_row;
                    let perr = xerr(&w.asn_path);
                    let ws = asn_sheet(&mut w.asn_book);
                    ws.write_string(row, 0, format!("{:018}", base + serial))
                        .map_err(&perr)?;
                    ws.write_string(row, 1, format!("{:016}", m.nik))
                        .map_err(&perr)?;
                    ws.write_string(row, 2, name).map_err(&perr)?;
                    ws.write_string(row, 3, instansi).map_err(&perr)?;
                    ws.write_string(row, 4, if m.occ == Occ::Pns { "PNS" } else { "PPPK" })
                        .map_err(&perr)?;
                    w.asn_row += 1;
                }
                _ => {
                    let nrp = loop {
                        let id = if m.occ == Occ::Polri {
                            (by.rem_euclid(100) as u64 * 100 + bm as u64) * 10_000
                                + rng.u64(1..10_000)
                        } else {
                            rng.u64(1..4) * 10_000_000
                                + (by.rem_euclid(100) as u64) * 100_000
                                + rng.u64(1..100_000)
                        };
                        let tagged = id | 1 << 62;
                        if staff_ids.insert(tagged) {
                            break id;
                        }
                    };
                    let satuan = if m.occ == Occ::Polri {
                        match rng.u32(0..10) {
                            0..6 => format!(
                                "POLRES {}{}",
                                if regency.kota { "KOTA " } else { "" },
                                regency.short_name
                            ),
                            6..8 => format!("POLDA {}", province.name),
                            _ => format!("SAT BRIMOB, POLDA {}", province.name),
                        }
                    } else {
                        match rng.u32(0..10) {
                            0..5 => {
                                format!("KODIM {:04}/{}", regency.code.as_u64(), regency.short_name)
                            }
                            5..8 => format!(
                                "YONIF {}/RAIDER, {}",
                                rng.u32(100..800),
                                KODAM[rng.usize(0..KODAM.len())]
                            ),
                            _ => format!("LANUD {}", regency.short_name),
                        }
                    };
                    let line = {
                        let mut l = Vec::with_capacity(96);
                        push_u64(&mut l, nrp);
                        l.push(b',');
                        push_padded(&mut l, m.nik, 16);
                        l.push(b',');
                        push_field(&mut l, &personnel_name(name), b',');
                        l.push(b',');
                        push_field(&mut l, &satuan, b',');
                        l
                    };
                    let text = std::str::from_utf8(&line).expect("utf-8");
                    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
                    debug_assert!(!unmappable, "{text}");
                    w.personel.buf.extend_from_slice(&bytes);
                    w.personel.end_row(true)?;
                }
            }
        }
        if let Some(wage) = m.wage_row() {
            let npp = regency.code.as_u64() * 10_000
                + if m.occ.is_asn() {
                    9000 + rng.u64(0..1000)
                } else {
                    rng.u64(1..9000)
                };
            let b = &mut w.upah.buf;
            push_padded(b, m.nik, 16);
            b.push(b',');
            push_field(b, name, b',');
            b.push(b',');
            push_u64(b, wage);
            b.push(b',');
            push_padded(b, npp, 8);
            w.upah.end_row(false)?;
        }
    }
    Ok(())
}
