//! The blank recipient-list template (`sinergi templat roster`): an XLSX a Dinas Sosial fills
//! and `sinergi validate` / `sinergi ingest --source roster` read with the shipped roster
//! mapping, no mapping to write.
//!
//! The workbook is built from the mapping itself, so its headers are always the columns the
//! mapping reads: sheet 1 ("Data KPM", the sheet the mapping reads) has one header row and
//! the columns formatted for what they hold — NIK, No KK and Kode Desa as text (Excel keeps
//! 15 significant digits of a number, so a NIK typed into a number cell loses its last
//! digit), dates as dates, the amount as rupiah, the programme chosen from a list; sheet 2
//! ("Petunjuk") says what each column holds, which are required, and an example.
//! Deterministic: same mapping, programmes and language give the same bytes.

use rust_xlsxwriter::{
    DataValidation, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook,
    XlsxError,
};
use sinergi_ingest::Mapping;
use sinergi_ingest::mapping::column_key;
use sinergi_model::Lang;
use sinergi_model::standard::FieldType;

/// The data sheet's name (the first sheet: the shipped mapping reads sheet 0).
pub const DATA_SHEET: &str = "Data KPM";

/// Rows of the data sheet given the column formats and the programme list (an officer's
/// list is rarely longer; longer lists are still read, only unformatted beyond).
pub const FORMATTED_ROWS: u32 = 100_000;

/// What the template says about a canonical field: the column's content and an example, in
/// Bahasa Indonesia and English. Fields not listed here (added to the mapping later) are
/// described by the data standard.
struct Help {
    field: &'static str,
    id: &'static str,
    en: &'static str,
    example: &'static str,
}

/// Field order of the template (the order officers fill a list in), with their help.
const FIELDS: &[Help] = &[
    Help {
        field: "row_no",
        id: "Nomor urut baris.",
        en: "The row's number.",
        example: "1",
    },
    Help {
        field: "nik",
        id: "NIK penerima, 16 digit, diketik sebagai teks (kolom ini sudah berformat teks).",
        en: "The recipient's NIK, 16 digits, typed as text (the column is formatted as text).",
        example: "3201014101000001",
    },
    Help {
        field: "kk",
        id: "Nomor Kartu Keluarga, 16 digit.",
        en: "Family card (KK) number, 16 digits.",
        example: "3201010101200001",
    },
    Help {
        field: "name",
        id: "Nama lengkap sesuai KTP-el.",
        en: "Full name as on the e-KTP.",
        example: "SITI AMINAH",
    },
    Help {
        field: "birth_date",
        id: "Tanggal lahir (dd-mm-yyyy).",
        en: "Date of birth (dd-mm-yyyy).",
        example: "01-01-1980",
    },
    Help {
        field: "address",
        id: "Alamat (jalan, RT/RW).",
        en: "Address (street, RT/RW).",
        example: "JL. MAWAR NO. 5 RT 001 RW 002",
    },
    Help {
        field: "region",
        id: "Kode desa/kelurahan Kemendagri, 10 digit (titik boleh).",
        en: "Kemendagri village code, 10 digits (dots allowed).",
        example: "3201012001",
    },
    Help {
        field: "program",
        id: "Kode program, pilih dari daftar.",
        en: "Programme code, chosen from the list.",
        example: "PKH",
    },
    Help {
        field: "amount",
        id: "Nominal bantuan dalam rupiah (angka).",
        en: "Benefit amount in rupiah (a number).",
        example: "750000",
    },
    Help {
        field: "period",
        id: "Periode penyaluran, mis. 2026-11 atau 2026-Q4.",
        en: "Payment period, e.g. 2026-11 or 2026-Q4.",
        example: "2026-11",
    },
];

/// One column of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateColumn {
    /// The header, exactly as the mapping reads it.
    pub header: String,
    /// The canonical field it fills.
    pub field: &'static str,
    /// A row is rejected without it.
    pub required: bool,
    /// What the column holds.
    pub ty: FieldType,
}

/// The columns of the template for `mapping`: one per column the mapping reads, in the order
/// officers fill them (fields the template does not know follow in the mapping's order).
pub fn columns(mapping: &Mapping) -> Vec<TemplateColumn> {
    let rank = |field: &str| {
        FIELDS
            .iter()
            .position(|h| h.field == field)
            .unwrap_or(FIELDS.len())
    };
    let mut fields: Vec<&sinergi_ingest::mapping::FieldMapping> = mapping.fields.iter().collect();
    fields.sort_by_key(|f| rank(f.field));
    let mut out: Vec<TemplateColumn> = Vec::new();
    for f in fields {
        for c in f.source.columns() {
            let required = f.required && f.default.is_none() && !f.fallback_row_number;
            match out
                .iter_mut()
                .find(|o| column_key(&o.header) == column_key(c))
            {
                // `NIK` fills `nik_raw` and `nik`: the column is described by its first field.
                Some(o) => o.required |= required,
                None => out.push(TemplateColumn {
                    header: c.to_string(),
                    field: f.field,
                    required,
                    ty: f.spec.ty,
                }),
            }
        }
    }
    out
}

/// The template workbook's bytes. `programs` are the programme codes offered in the
/// programme column's list; `lang` is the language of the instructions (the headers are the
/// mapping's, whatever the language).
pub fn roster_template(
    mapping: &Mapping,
    programs: &[&str],
    lang: Lang,
) -> Result<Vec<u8>, XlsxError> {
    let cols = columns(mapping);
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new()
            .set_title(lang.pick("Templat daftar penerima", "Recipient list template"))
            .set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?),
    );
    let header = Format::new()
        .set_bold()
        .set_background_color("#D9E1F2")
        .set_border_bottom(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let required_header = header.clone().set_font_color("#9C0006");
    let text = Format::new().set_num_format("@");
    let date = Format::new()
        .set_num_format("dd-mm-yyyy")
        .set_align(FormatAlign::Center);
    let rupiah = Format::new().set_num_format("#,##0");
    let integer = Format::new().set_num_format("0");

    let ws = wb.add_worksheet();
    ws.set_name(DATA_SHEET)?;
    for (c, col) in cols.iter().enumerate() {
        let c = c as u16;
        let fmt = if col.required {
            &required_header
        } else {
            &header
        };
        ws.write_string_with_format(0, c, &col.header, fmt)?;
        let (width, cell) = match col.ty {
            FieldType::Nik | FieldType::Kk => (20.0, &text),
            FieldType::Region => (13.0, &text),
            FieldType::Date => (13.0, &date),
            FieldType::Integer if col.field == "row_no" => (6.0, &integer),
            FieldType::Integer => (14.0, &rupiah),
            _ if col.field == "name" || col.field == "address" => (30.0, &text),
            _ => (12.0, &text),
        };
        ws.set_column_width(c, width)?;
        ws.set_column_format(c, cell)?;
        if col.field == "program" && !programs.is_empty() {
            let dv = DataValidation::new()
                .allow_list_strings(programs)?
                .set_error_title(lang.pick("Program tidak dikenal", "Unknown programme"))?
                .set_error_message(lang.pick(
                    "Pilih kode program dari daftar.",
                    "Choose a programme code from the list.",
                ))?;
            ws.add_data_validation(1, c, FORMATTED_ROWS, c, &dv)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if !cols.is_empty() {
        ws.autofilter(0, 0, 0, cols.len() as u16 - 1)?;
    }

    let help = wb.add_worksheet();
    help.set_name(lang.pick("Petunjuk", "Instructions"))?;
    let title = Format::new().set_bold().set_font_size(13);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let bold = Format::new().set_bold();
    help.write_string_with_format(
        0,
        0,
        lang.pick(
            "Templat daftar penerima bantuan (Sinergi)",
            "Aid recipient list template (Sinergi)",
        ),
        &title,
    )?;
    let lines = [
        lang.pick(
            &format!(
                "Isi lembar \"{DATA_SHEET}\": satu baris per penerima, mulai baris 2. Jangan ubah, hapus atau pindahkan judul kolom, dan biarkan \"{DATA_SHEET}\" tetap lembar pertama."
            ),
            &format!(
                "Fill the \"{DATA_SHEET}\" sheet: one row per recipient, from row 2. Do not change, delete or move the column headers, and keep \"{DATA_SHEET}\" the first sheet."
            ),
        )
        .to_string(),
        lang.pick(
            "Kolom berjudul merah wajib diisi. Simpan sebagai .xlsx, lalu: sinergi validate --program PKH --list BERKAS.xlsx",
            "Columns with a red header are required. Save as .xlsx, then: sinergi validate --program PKH --list FILE.xlsx",
        )
        .to_string(),
    ];
    for (i, l) in lines.iter().enumerate() {
        help.write_string(1 + i as u32, 0, l)?;
    }
    let top = 4u32;
    let heads = [
        lang.pick("Kolom", "Column"),
        lang.pick("Wajib", "Required"),
        lang.pick("Isi", "Content"),
        lang.pick("Contoh", "Example"),
    ];
    for (c, h) in heads.iter().enumerate() {
        help.write_string_with_format(top, c as u16, *h, &header)?;
    }
    for (i, col) in cols.iter().enumerate() {
        let r = top + 1 + i as u32;
        let known = FIELDS.iter().find(|h| h.field == col.field);
        let spec_text = || {
            mapping
                .fields
                .iter()
                .find(|f| f.field == col.field)
                .map(|f| f.spec.description)
                .unwrap_or("")
        };
        help.write_string_with_format(r, 0, &col.header, &bold)?;
        help.write_string(
            r,
            1,
            if col.required {
                lang.pick("ya", "yes")
            } else {
                lang.pick("tidak", "no")
            },
        )?;
        let content = match known {
            Some(h) => lang.pick(h.id, h.en),
            None => spec_text(),
        };
        help.write_string_with_format(r, 2, content, &wrap)?;
        if col.field == "program" && !programs.is_empty() {
            help.write_string(r, 3, programs.join(", "))?;
        } else if let Some(h) = known {
            help.write_string(r, 3, h.example)?;
        }
    }
    help.set_column_width(0, 16)?;
    help.set_column_width(1, 8)?;
    help.set_column_width(2, 70)?;
    help.set_column_width(3, 34)?;
    wb.save_to_buffer()
}
