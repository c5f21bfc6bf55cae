//! `sinergi validasi --daftar FILE --program P --node URL --token T`: an officer's (or a
//! regional system's) client of a node's `validasi-penerima-batch`. Reads the list through
//! the roster mapping as `sinergi validate` does, sends every row in one request with an API
//! token, shows the answers arriving (stderr), and writes the same verdict files (CSV, XLSX,
//! JSON, summary, manifest) with the engine's own output code (`sinergi_engine::run::
//! run_judged`): the validator ran at the node, this only writes what it answered.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::Value;
use sinergi_engine::facts::RosterRow;
use sinergi_engine::run::{EngineError, Judge, LoadTimings, run_judged};
use sinergi_engine::{NotChecked, OutputFormat, ValidateRequest, VerdictRow};
use sinergi_ingest::{Batch, ReadOptions};
use sinergi_rules::Program;

use crate::progress;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Daftar penerima (XLSX atau CSV sesuai pemetaan).
    /// [en] The recipient list (XLSX or CSV, as the mapping says).
    #[arg(long, alias = "list")]
    pub daftar: PathBuf,
    /// Kode program: PKH, BPNT, PBI_JK, BLT_DD. [en] Programme code: PKH, BPNT, PBI_JK, BLT_DD.
    #[arg(long)]
    pub program: String,
    /// Alamat node, mis. https://sinergi.kemensos.go.id:8480.
    /// [en] The node's address, e.g. https://sinergi.kemensos.go.id:8480.
    #[arg(long, env = "SINERGI_NODE")]
    pub node: String,
    /// Token API sistem Anda (atau variabel SINERGI_TOKEN).
    /// [en] Your system's API token (or the SINERGI_TOKEN variable).
    #[arg(long, env = "SINERGI_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Sistem Anda, pemilik token (X-Road-Client), mis. ID/GOV/KEMENSOS/SIKS.
    /// [en] Your system, the token's owner (X-Road-Client), e.g. ID/GOV/KEMENSOS/SIKS.
    #[arg(long, env = "SINERGI_CLIENT", default_value = "ID/GOV/KEMENSOS/SIKS")]
    pub klien: String,
    /// Anggota yang menyediakan layanan validasi.
    /// [en] The member providing the validation service.
    #[arg(long, default_value = "ID/GOV/KEMENSOS/BANSOS")]
    pub penyedia: String,
    /// Tujuan permintaan sesuai PKS. [en] The request's purpose as the agreement names it.
    #[arg(long, default_value = "VALIDASI_BANSOS")]
    pub tujuan: String,
    /// Nilai yang boleh ditampilkan putusan bila PKS memberikannya, mis. nik_saran,desil.
    /// [en] Values the verdicts may show when the agreement grants them, e.g. nik_saran,desil.
    #[arg(long)]
    pub fields: Option<String>,
    /// Periode daftar bila baris tidak menyebutkannya, mis. 2026-11.
    /// [en] The list's period when its rows do not say, e.g. 2026-11.
    #[arg(long)]
    pub period: Option<String>,
    /// Pemetaan daftar (bawaan: pemetaan roster yang dikirim bersama Sinergi).
    /// [en] The list's mapping (default: the roster mapping shipped with Sinergi).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Folder aturan program (bawaan: aturan yang dikirim bersama Sinergi).
    /// [en] Folder of programme rules (default: the rules shipped with Sinergi).
    #[arg(long)]
    pub programs: Option<PathBuf>,
    /// Folder hasil (bawaan: hasil-<PROGRAM>). [en] Result folder (default: hasil-<PROGRAM>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Format hasil: csv, xlsx, json (dipisah koma).
    /// [en] Result formats: csv, xlsx, json (comma-separated).
    #[arg(long, default_value = "csv,xlsx,json")]
    pub format: String,
    /// Detik tanpa jawaban sebelum node dianggap tidak menjawab.
    /// [en] Seconds without an answer before the node counts as not answering.
    #[arg(long, default_value_t = 120)]
    pub tunggu: u64,
}

/// A user-facing error in both languages.
fn fail(id: String, en: String) -> EngineError {
    EngineError::Judge {
        message_id: id,
        message_en: en,
    }
}

/// The node's base URL, checked: `http(s)://host[:port]`, nothing after the authority but an
/// optional `/`.
pub fn node_url(raw: &str) -> Result<String, EngineError> {
    let bad = || {
        fail(
            format!(
                "Alamat node tidak sah: '{raw}'. Tulis http:// atau https://, nama host dan port, mis. https://10.0.0.5:8480."
            ),
            format!(
                "Invalid node address: '{raw}'. Write http:// or https://, the host name and port, e.g. https://10.0.0.5:8480."
            ),
        )
    };
    let t = raw.trim().trim_end_matches('/');
    let rest = t
        .strip_prefix("http://")
        .or_else(|| t.strip_prefix("https://"))
        .ok_or_else(bad)?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, Some(p)),
        _ => (rest, None),
    };
    let ok = !host.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' ', '\\'])
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
        && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if !ok {
        return Err(bad());
    }
    Ok(t.to_string())
}

/// Reads the list as the run will (the same mapping, the same rows in the same order).
fn read_rows(
    mapping: &sinergi_ingest::Mapping,
    file: &std::path::Path,
    period: Option<&str>,
) -> Result<Vec<RosterRow>, EngineError> {
    let mut rows = Vec::new();
    let report = sinergi_ingest::read(
        mapping,
        &[file.to_path_buf()],
        &ReadOptions {
            lang: crate::lang::lang(),
            ..ReadOptions::default()
        },
        &mut |b: Batch| {
            for (rec, row) in b.records.iter().zip(&b.rows) {
                let mut r = RosterRow::from_record(rec, *row);
                if let (Some(p), true) = (period, r.period.is_empty()) {
                    r.period = p.to_string();
                }
                rows.push(r);
            }
            Ok(())
        },
        &mut |_| {},
    )?;
    if rows.is_empty() {
        return Err(EngineError::NoRows {
            file: file.display().to_string(),
            rejected: report.rejected,
        });
    }
    Ok(rows)
}

/// The verdicts the node answered, handed to the run block by block.
struct Remote {
    answers: std::vec::IntoIter<Value>,
    programs: BTreeMap<String, Program>,
    next: u64,
}

impl Remote {
    fn verdict(&self, row: &RosterRow, a: &Value) -> Result<VerdictRow, EngineError> {
        if let Some(code) = a.get("code").and_then(Value::as_str) {
            let msg = a.get("message").and_then(Value::as_str).unwrap_or("");
            return Err(fail(
                format!(
                    "Node tidak memvalidasi baris {} (NIK {}): {code} {msg}. Perbaiki baris itu (atau minta PKS yang mencakupnya) lalu kirim ulang daftar.",
                    row.row_no, row.nik_raw
                ),
                format!(
                    "The node did not validate row {} (NIK {}): {code} {msg}. Fix that row (or ask for an agreement that covers it) and send the list again.",
                    row.row_no, row.nik_raw
                ),
            ));
        }
        let bad = |what: &str| {
            fail(
                format!(
                    "Jawaban node untuk baris {} tidak terbaca ({what}).",
                    row.row_no
                ),
                format!(
                    "The node's answer for row {} cannot be read ({what}).",
                    row.row_no
                ),
            )
        };
        let program = a
            .get("program")
            .and_then(Value::as_str)
            .and_then(|p| self.programs.get(p))
            .ok_or_else(|| bad("program"))?;
        let rules: sinergi_rules::Verdict =
            serde_json::from_value(a.get("verdict").cloned().unwrap_or(Value::Null))
                .map_err(|_| bad("verdict"))?;
        let nik = |k: &str| {
            a.get(k)
                .and_then(Value::as_str)
                .and_then(sinergi_engine::keymap::id16)
        };
        let suggestion = nik("nik_saran").map(|n| {
            (
                n,
                a.get("skor_saran").and_then(Value::as_f64).unwrap_or(0.0),
            )
        });
        let not_checked: Vec<NotChecked> = serde_json::from_value(
            a.get("tidak_diperiksa")
                .cloned()
                .unwrap_or(Value::Array(Vec::new())),
        )
        .map_err(|_| bad("tidak_diperiksa"))?;
        Ok(VerdictRow::from_rules(
            program,
            row,
            rules,
            nik("nik_tertaut"),
            suggestion,
            not_checked,
        ))
    }
}

impl Judge for Remote {
    fn judge(
        &mut self,
        _program: &Program,
        block: &[RosterRow],
    ) -> Result<Vec<VerdictRow>, EngineError> {
        block
            .iter()
            .map(|row| {
                self.next += 1;
                let a = self.answers.next().ok_or_else(|| {
                    fail(
                        format!(
                            "Node berhenti menjawab pada baris {} (jawaban tidak lengkap). Kirim ulang daftar; bila berulang, hubungi pengelola node.",
                            row.row_no
                        ),
                        format!(
                            "The node stopped answering at row {} (incomplete answer). Send the list again; if it recurs, contact the node's operator.",
                            row.row_no
                        ),
                    )
                })?;
                if a.get("baris").and_then(Value::as_u64) != Some(self.next) {
                    return Err(fail(
                        format!("Jawaban node tidak berurutan pada baris {}.", row.row_no),
                        format!("The node's answers are out of order at row {}.", row.row_no),
                    ));
                }
                self.verdict(row, &a)
            })
            .collect()
    }
}

/// Sends the list and returns its answer lines, in order.
async fn send(args: &Args, url: &str, rows: &[RosterRow]) -> Result<Vec<Value>, EngineError> {
    let mut body = Vec::with_capacity(rows.len() * 256);
    for r in rows {
        serde_json::to_writer(&mut body, &sinergi_server::validasi::recipient_line(r))
            .map_err(|e| fail(e.to_string(), e.to_string()))?;
        body.push(b'\n');
    }
    let mut query = format!("?program={}", args.program);
    if let Some(f) = &args.fields {
        query.push_str(&format!("&fields={f}"));
    }
    if let Some(p) = &args.period {
        query.push_str(&format!("&periode={p}"));
    }
    let target = format!(
        "{url}/r1/{}/validasi-penerima-batch{query}",
        args.penyedia.trim_matches('/')
    );
    let client =
        sinergi_server::client::new_client(None).map_err(|e| fail(e.to_string(), e.to_string()))?;
    let lang = crate::lang::lang();
    let headers = [
        ("x-road-client", args.klien.clone()),
        (
            "x-road-id",
            sinergi_exchange::httpsig::new_nonce().unwrap_or_default(),
        ),
        ("x-sinergi-purpose", args.tujuan.clone()),
        ("accept-language", lang.pick("id", "en").to_string()),
    ];
    let bar = progress::bar(
        rows.len() as u64,
        &crate::tr!("Validasi di node", "Validating at the node"),
    );
    let b = bar.clone();
    let got = sinergi_server::client::post_with_token(
        &client,
        &target,
        &args.token,
        &headers,
        body,
        std::time::Duration::from_secs(args.tunggu.max(1)),
        &mut move |n| b.set_position(n),
    )
    .await;
    bar.finish_and_clear();
    let (status, answer) = got.map_err(|e| match e {
        sinergi_server::client::CallError::Timeout(s) => fail(
            format!(
                "Node {url} tidak menjawab dalam {s} detik. Periksa node atau naikkan --tunggu."
            ),
            format!(
                "The node {url} gave no answer within {s} s. Check the node or raise --tunggu."
            ),
        ),
        e => fail(
            format!("Node {url} tidak dapat dihubungi: {e}. Periksa alamat, port dan jaringan."),
            format!("The node {url} cannot be reached: {e}. Check the address, port and network."),
        ),
    })?;
    if status != 200 {
        let v: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        let code = v.get("code").and_then(Value::as_str).unwrap_or("");
        let msg = v.get("message").and_then(Value::as_str).unwrap_or("");
        let hint = match code {
            "TOKEN_INVALID" | "TOKEN_EXPIRED" | "TOKEN_REVOKED" => (
                " Periksa --token dan --klien (token hanya berlaku untuk sistem yang menerimanya).",
                " Check --token and --klien (a token is valid only for the system it was issued to).",
            ),
            "" => (
                " Apakah alamat itu node Sinergi?",
                " Is that address a Sinergi node?",
            ),
            _ => ("", ""),
        };
        return Err(fail(
            format!(
                "Node menolak daftar (HTTP {status} {code}): {msg}{}",
                hint.0
            ),
            format!(
                "The node refused the list (HTTP {status} {code}): {msg}{}",
                hint.1
            ),
        ));
    }
    let mut lines = Vec::with_capacity(rows.len());
    for l in answer.split(|b| *b == b'\n') {
        if l.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let v: Value = serde_json::from_slice(l).map_err(|_| {
            fail(
                "Jawaban node bukan NDJSON yang sah.".to_string(),
                "The node's answer is not valid NDJSON.".to_string(),
            )
        })?;
        if v.get("baris").is_none() && v.get("code").is_some() {
            // The batch stopped (e.g. AUDIT_UNAVAILABLE): said in a line without `baris`.
            let code = v["code"].as_str().unwrap_or("");
            let msg = v.get("message").and_then(Value::as_str).unwrap_or("");
            return Err(fail(
                format!("Node menghentikan validasi ({code}): {msg}"),
                format!("The node stopped the validation ({code}): {msg}"),
            ));
        }
        lines.push(v);
    }
    Ok(lines)
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let url = node_url(&args.node)?;
    let formats = OutputFormat::parse_list(&args.format).map_err(|e| anyhow::anyhow!("{e}"))?;
    let programs = crate::builtin::programs(args.programs.as_deref())?;
    let program = sinergi_engine::run::find_program(&programs, &args.program)?.clone();
    let defaults: Vec<(&str, &str)> = args.period.iter().map(|p| ("period", p.as_str())).collect();
    let mapping = crate::load::resolve_mapping_with("roster", args.mapping.as_deref(), &defaults)?;
    let (m2, file, period) = (mapping.clone(), args.daftar.clone(), args.period.clone());
    let rows =
        tokio::task::spawn_blocking(move || read_rows(&m2, &file, period.as_deref())).await??;
    let answers = send(&args, &url, &rows).await?;
    if answers.len() != rows.len() {
        return Err(fail(
            format!(
                "Node menjawab {} baris untuk {} baris yang dikirim. Kirim ulang daftar.",
                answers.len(),
                rows.len()
            ),
            format!(
                "The node answered {} lines for {} rows sent. Send the list again.",
                answers.len(),
                rows.len()
            ),
        )
        .into());
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| format!("hasil-{}", args.program).into());
    let mut req = ValidateRequest::new(&args.daftar, &args.program, out);
    req.period = args.period.clone();
    req.formats = formats;
    req.lang = crate::lang::lang();
    let mut judge = Remote {
        answers: answers.into_iter(),
        programs: programs
            .iter()
            .map(|p| (p.code().to_string(), p.clone()))
            .collect(),
        next: 0,
    };
    let run = tokio::task::spawn_blocking(move || {
        run_judged(
            &program,
            &mapping,
            &req,
            &mut judge,
            Vec::new(),
            LoadTimings::default(),
            &mut |_| {},
        )
        .map(|r| (r, req.lang))
    })
    .await??;
    let (run, lang) = run;
    print!("{}", run.summary.render_table(lang));
    println!(
        "{}",
        crate::tr!(
            "Selesai dalam {:.1} detik (divalidasi di {}). Hasil: {}",
            "Done in {:.1} s (validated at {}). Results: {}",
            run.total_s,
            url,
            run.out_dir.display()
        )
    );
    Ok(ExitCode::SUCCESS)
}
