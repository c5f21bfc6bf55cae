//! Validasi: upload a roster, follow its job, page through the results, download them, open
//! one row (its case is in `kasus`).
//!
//! Permissions: operators and supervisors upload; operators, supervisors and auditors see
//! results; an operator sees only rows of their kabupaten/kota (another region's row is "not
//! found", and the refusal is audited) and downloads only the lists they uploaded; only the
//! operator of the row's region records a case outcome, only a supervisor overrides one; an
//! auditor changes nothing.

use std::io::Write as _;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sinergi_engine::Stage;
use sinergi_engine::output::format_rupiah;
use sinergi_model::Lang;
use sqlx::Row as _;

use crate::audit::Event;
use crate::auth::Role;
use crate::jobs::Job;
use crate::kasus::{
    CaseLine, OUTCOMES, case_events, case_outcomes, cases_csv, final_cases, outcome_label,
};
use crate::pages::{csrf_message, error_for};
use crate::{Page, Rendered, Session, Web};

/// Rows per results page.
pub const PAGE_ROWS: i64 = 50;

pub(crate) fn unavailable(s: &Session) -> Response {
    error_for(
        s,
        StatusCode::SERVICE_UNAVAILABLE,
        s.lang.pick(
            "Basis data aplikasi atau log audit tidak tersedia; tidak ada yang diubah. Coba lagi sebentar lagi.",
            "The application's database or the audit log is unavailable; nothing was changed. Try again shortly.",
        ),
    )
}

impl Web {
    /// Audits a refusal for a signed-in user and renders it.
    pub(crate) async fn refuse(
        &self,
        s: &Session,
        action: &str,
        status: StatusCode,
        issue: String,
        message: &str,
    ) -> Response {
        let code = match status {
            StatusCode::NOT_FOUND => "WEB_NOT_FOUND",
            StatusCode::FORBIDDEN => "WEB_FORBIDDEN",
            _ => "WEB_REFUSED",
        };
        let _ = self
            .audit(Event {
                user: &s.user.username,
                role: s.user.role.code(),
                action,
                decision: code,
                status: status.as_u16(),
                issue,
                nik: None,
                method: "GET",
                path: &s.path,
                body: b"",
            })
            .await;
        error_for(s, status, message)
    }

    /// Audits an allowed action; `Err` when the entry cannot be written (do not go on).
    pub(crate) async fn allowed(
        &self,
        s: &Session,
        action: &str,
        method: &str,
        issue: String,
        nik: Option<&str>,
        body: &[u8],
    ) -> Result<(), Response> {
        self.audit(Event {
            user: &s.user.username,
            role: s.user.role.code(),
            action,
            decision: "ALLOWED",
            status: 200,
            issue,
            nik,
            method,
            path: &s.path,
            body,
        })
        .await
        .map(|_| ())
        .map_err(|e| {
            tracing::error!(error = %e, "action not audited");
            unavailable(s)
        })
    }
}

pub(crate) fn forbidden_message(lang: Lang) -> &'static str {
    lang.pick(
        "Peran Anda tidak mengizinkan tindakan ini.",
        "Your role does not allow this.",
    )
}

pub(crate) fn not_found_message(lang: Lang) -> &'static str {
    lang.pick(
        "Data yang diminta tidak ada atau di luar wilayah Anda.",
        "The data asked for does not exist or is outside your region.",
    )
}

/// A job as a list shows it.
pub struct JobLine {
    pub id: i64,
    pub program: String,
    pub file_name: String,
    pub owner: String,
    pub status: String,
    pub status_label: String,
    pub created: String,
    pub rows: i64,
}

fn status_label(lang: Lang, status: &str) -> String {
    match status {
        "queued" => lang.pick("Menunggu giliran", "Queued"),
        "running" => lang.pick("Berjalan", "Running"),
        "done" => lang.pick("Selesai", "Done"),
        "failed" => lang.pick("Gagal", "Failed"),
        other => other,
    }
    .to_string()
}

/// A time for people: WIB (UTC+7), `dd-mm-yyyy HH:MM WIB`.
pub fn wib(us: i64) -> String {
    let secs = us / 1_000_000 + 7 * 3600;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{d:02}-{m:02}-{y} {:02}:{:02} WIB",
        rem / 3600,
        (rem % 3600) / 60
    )
}

pub(crate) fn line(lang: Lang, j: &Job) -> JobLine {
    JobLine {
        id: j.id,
        program: j.program.clone(),
        file_name: j.file_name.clone(),
        owner: j.owner.clone(),
        status: j.status.clone(),
        status_label: status_label(lang, &j.status),
        created: wib(j.created_at),
        rows: j.rows_done,
    }
}

#[derive(Template)]
#[template(path = "validasi.html")]
struct IndexTpl {
    p: Page,
    programs: Vec<String>,
    jobs: Vec<JobLine>,
    error: String,
    max_mb: usize,
}

async fn index_page(web: &Web, s: &Session, status: StatusCode, error: String) -> Response {
    let jobs = match web.recent_jobs(50).await {
        Ok(j) => j,
        Err(_) => return unavailable(s),
    };
    Rendered(
        status,
        IndexTpl {
            p: s.page(s.lang.pick("Validasi daftar", "Validate a list")),
            programs: web
                .opts
                .programs
                .iter()
                .map(|p| p.code().to_string())
                .collect(),
            jobs: jobs.iter().map(|j| line(s.lang, j)).collect(),
            error,
            max_mb: (web.opts.max_upload_bytes / (1024 * 1024)).max(1),
        },
    )
    .into_response()
}

pub async fn index(State(web): State<Arc<Web>>, s: Session) -> Response {
    if !s.user.role.can_validate() && !s.user.role.can_see_results() {
        return web
            .refuse(
                &s,
                "validasi/lihat",
                StatusCode::FORBIDDEN,
                String::new(),
                forbidden_message(s.lang),
            )
            .await;
    }
    index_page(&web, &s, StatusCode::OK, String::new()).await
}

/// What an uploaded file is, from its first bytes and its name.
fn sniff(name: &str, head: &[u8]) -> Result<&'static str, ()> {
    let lower = name.to_ascii_lowercase();
    if head.starts_with(b"PK\x03\x04") && lower.ends_with(".xlsx") {
        return Ok("xlsx");
    }
    if lower.ends_with(".csv") && !head.contains(&0) && !head.starts_with(b"PK\x03\x04") {
        return Ok("csv");
    }
    Err(())
}

pub(crate) fn upload_error(lang: Lang, what: &str, limit: usize) -> String {
    match what {
        "too_big" => format!(
            "{} {} MB.",
            lang.pick(
                "Berkas terlalu besar. Batas unggahan adalah",
                "The file is too large. The upload limit is"
            ),
            (limit / (1024 * 1024)).max(1)
        ),
        "type" => lang
            .pick(
                "Berkas bukan XLSX atau CSV. Simpan daftar dari Excel sebagai \"Buku Kerja Excel (.xlsx)\" atau CSV lalu unggah lagi (berkas .xls lama tidak dapat dibaca).",
                "The file is not XLSX or CSV. Save the list from Excel as \"Excel Workbook (.xlsx)\" or CSV and upload it again (old .xls files cannot be read).",
            )
            .into(),
        "empty" => lang
            .pick(
                "Tidak ada berkas yang dipilih, atau berkasnya kosong.",
                "No file was chosen, or the file is empty.",
            )
            .into(),
        "program" => lang
            .pick("Pilih program dari daftar.", "Choose a programme from the list.")
            .into(),
        _ => lang
            .pick(
                "Unggahan terputus atau tidak dapat dibaca. Coba lagi.",
                "The upload was cut off or cannot be read. Try again.",
            )
            .into(),
    }
}

/// `POST /validasi` (multipart: `csrf` first, `program`, `berkas`).
pub async fn upload(State(web): State<Arc<Web>>, s: Session, mut mp: Multipart) -> Response {
    let lang = s.lang;
    let mut csrf_seen = false;
    let mut program = String::new();
    let mut staged: Option<(std::path::PathBuf, String)> = None;
    let staging = web
        .opts
        .work_dir
        .join(format!("unggah-{}", &crate::auth::random_token()[..16]));
    let limit = web.opts.max_upload_bytes;
    let fail = |what: &str, status| (status, upload_error(lang, what, limit));
    let result: Result<(), (StatusCode, String)> = async {
        while let Some(mut field) = mp.next_field().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                fail("too_big", StatusCode::PAYLOAD_TOO_LARGE)
            } else {
                fail("read", StatusCode::BAD_REQUEST)
            }
        })? {
            let name = field.name().unwrap_or("").to_string();
            if !csrf_seen {
                // The token comes first, so nothing of a forged request is read further.
                let ok = name == "csrf" && field.text().await.is_ok_and(|t| s.csrf_ok(&t));
                if !ok {
                    return Err((StatusCode::FORBIDDEN, csrf_message(lang).to_string()));
                }
                csrf_seen = true;
                continue;
            }
            match name.as_str() {
                "program" => {
                    program = field.text().await.unwrap_or_default().trim().to_string();
                }
                "berkas" => {
                    let file_name: String = field
                        .file_name()
                        .unwrap_or("")
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(200)
                        .collect();
                    let mut out = None;
                    let mut size = 0usize;
                    let mut kind = "";
                    while let Some(chunk) = field.chunk().await.map_err(|e| {
                        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                            fail("too_big", StatusCode::PAYLOAD_TOO_LARGE)
                        } else {
                            fail("read", StatusCode::BAD_REQUEST)
                        }
                    })? {
                        if out.is_none() {
                            kind = sniff(&file_name, &chunk)
                                .map_err(|_| fail("type", StatusCode::UNSUPPORTED_MEDIA_TYPE))?;
                            std::fs::create_dir_all(&web.opts.work_dir)
                                .map_err(|_| fail("read", StatusCode::INTERNAL_SERVER_ERROR))?;
                            out = Some(
                                std::fs::File::create(staging.with_extension(kind))
                                    .map_err(|_| fail("read", StatusCode::INTERNAL_SERVER_ERROR))?,
                            );
                        }
                        size += chunk.len();
                        if size > limit {
                            return Err(fail("too_big", StatusCode::PAYLOAD_TOO_LARGE));
                        }
                        if let Some(f) = out.as_mut() {
                            f.write_all(&chunk)
                                .map_err(|_| fail("read", StatusCode::INTERNAL_SERVER_ERROR))?;
                        }
                    }
                    if size == 0 {
                        return Err(fail("empty", StatusCode::BAD_REQUEST));
                    }
                    staged = Some((staging.with_extension(kind), file_name));
                }
                _ => {}
            }
        }
        if !csrf_seen {
            return Err((StatusCode::FORBIDDEN, csrf_message(lang).to_string()));
        }
        Ok(())
    }
    .await;
    let cleanup = |staged: &Option<(std::path::PathBuf, String)>| {
        if let Some((p, _)) = staged {
            let _ = std::fs::remove_file(p);
        }
        for ext in ["xlsx", "csv"] {
            let _ = std::fs::remove_file(staging.with_extension(ext));
        }
    };
    if let Err((status, msg)) = result {
        cleanup(&staged);
        let code = if status == StatusCode::FORBIDDEN {
            "WEB_CSRF"
        } else {
            "WEB_UPLOAD_REFUSED"
        };
        let _ = web
            .audit(Event {
                user: &s.user.username,
                role: s.user.role.code(),
                action: "validasi/unggah",
                decision: code,
                status: status.as_u16(),
                issue: status.as_str().to_string(),
                nik: None,
                method: "POST",
                path: "/validasi",
                body: b"",
            })
            .await;
        if status == StatusCode::FORBIDDEN {
            return error_for(&s, status, &msg);
        }
        return index_page(&web, &s, status, msg).await;
    }
    if !s.user.role.can_validate() {
        cleanup(&staged);
        return web
            .refuse(
                &s,
                "validasi/unggah",
                StatusCode::FORBIDDEN,
                String::new(),
                forbidden_message(lang),
            )
            .await;
    }
    if !web.opts.programs.iter().any(|p| p.code() == program) {
        cleanup(&staged);
        return index_page(
            &web,
            &s,
            StatusCode::BAD_REQUEST,
            upload_error(lang, "program", 0),
        )
        .await;
    }
    let Some((path, file_name)) = staged else {
        return index_page(
            &web,
            &s,
            StatusCode::BAD_REQUEST,
            upload_error(lang, "empty", 0),
        )
        .await;
    };
    if let Err(r) = web
        .allowed(
            &s,
            "validasi/unggah",
            "POST",
            format!("program={program}"),
            None,
            file_name.as_bytes(),
        )
        .await
    {
        cleanup(&Some((path, file_name)));
        return r;
    }
    match web.queue_job(&s.user, &program, &file_name, &path).await {
        Ok(job) => Redirect::to(&format!("/validasi/{}", job.id)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "job not queued");
            cleanup(&Some((path, file_name)));
            unavailable(&s)
        }
    }
}

/// `Rp 1.250.000`.
pub fn rupiah(x: i64) -> String {
    format!("Rp {}", format_rupiah(x))
}

/// Counts of a job's rows (in the user's region for an operator).
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub rows: i64,
    pub layak: i64,
    pub tinjau: i64,
    pub tidak_layak: i64,
    pub amount_tinjau: i64,
    pub amount_tidak_layak: i64,
}

impl Counts {
    /// Adds `n` rows of a verdict and their amount.
    pub(crate) fn add(&mut self, verdict: &str, n: i64, amount: i64) {
        self.rows += n;
        match verdict {
            "LAYAK" => self.layak += n,
            "TINJAU" => {
                self.tinjau += n;
                self.amount_tinjau += amount;
            }
            _ => {
                self.tidak_layak += n;
                self.amount_tidak_layak += amount;
            }
        }
    }

    pub fn rp_tinjau(&self) -> String {
        rupiah(self.amount_tinjau)
    }
    pub fn rp_tidak_layak(&self) -> String {
        rupiah(self.amount_tidak_layak)
    }
    /// Bar widths (per mille of rows) for the SVG chart.
    pub fn pct(&self, n: &i64) -> i64 {
        if self.rows == 0 {
            0
        } else {
            n * 1000 / self.rows
        }
    }
}

pub(crate) async fn counts(
    web: &Web,
    job: i64,
    region: Option<&str>,
) -> Result<Counts, sqlx::Error> {
    // From the job's aggregates (written once when its rows were imported).
    let mut sql = String::from(
        "SELECT verdict, SUM(n) AS n, SUM(amount) AS amt FROM web_job_agg WHERE job_id = $1",
    );
    if region.is_some() {
        sql.push_str(" AND regency = $2");
    }
    sql.push_str(" GROUP BY verdict");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(job);
    if let Some(r) = region {
        q = q.bind(r.to_string());
    }
    let mut c = Counts::default();
    for r in q.fetch_all(&web.db.pool).await? {
        let v: String = r.try_get("verdict")?;
        let n: i64 = r.try_get("n")?;
        let amt: i64 = r.try_get("amt")?;
        c.add(&v, n, amt);
    }
    Ok(c)
}

/// Reason codes and their row counts, most frequent first (from the job's aggregates).
pub(crate) async fn top_reasons(
    web: &Web,
    job: i64,
    region: Option<&str>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let mut sql = String::from("SELECT code, SUM(n) AS n FROM web_job_reason WHERE job_id = $1");
    if region.is_some() {
        sql.push_str(" AND regency = $2");
    }
    sql.push_str(" GROUP BY code");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(job);
    if let Some(r) = region {
        q = q.bind(r.to_string());
    }
    let mut v: Vec<(String, i64)> = q
        .fetch_all(&web.db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("code")?, r.try_get("n")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(v)
}

/// The operator's region filter (`None`: national).
pub(crate) fn scope(s: &Session) -> Option<&str> {
    match s.user.role {
        Role::Operator => Some(s.user.region.as_deref().unwrap_or("----")),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobTpl {
    p: Page,
    job: JobLine,
    error: String,
    stage: String,
    rows_live: u64,
    ahead: i64,
    counts: Counts,
    may_download: bool,
}

async fn load_job(web: &Web, s: &Session, id: i64, action: &str) -> Result<Job, Response> {
    match web.job(id).await {
        Ok(Some(j)) => Ok(j),
        Ok(None) => Err(web
            .refuse(
                s,
                action,
                StatusCode::NOT_FOUND,
                format!("job={id}"),
                not_found_message(s.lang),
            )
            .await),
        Err(_) => Err(unavailable(s)),
    }
}

fn stage_label(lang: Lang, st: Stage) -> &'static str {
    match st {
        Stage::LoadRegistries => lang.pick("Memuat data registri", "Loading registries"),
        Stage::Ledger => lang.pick(
            "Menyusun buku besar keluarga",
            "Building the household ledger",
        ),
        Stage::Validate => lang.pick("Memvalidasi baris", "Validating rows"),
        Stage::Finish => lang.pick("Menyimpan hasil", "Saving the results"),
    }
}

fn job_error(lang: Lang, e: &str) -> String {
    match e {
        crate::jobs::RESTARTED => lang
            .pick(
                "Node dihentikan saat validasi berjalan; hasilnya tidak lengkap. Unggah daftar lagi.",
                "The node was stopped while the validation ran; its results are incomplete. Upload the list again.",
            )
            .into(),
        other => other.to_string(),
    }
}

pub async fn job(State(web): State<Arc<Web>>, s: Session, Path(id): Path<i64>) -> Response {
    if !s.user.role.can_validate() && !s.user.role.can_see_results() {
        return web
            .refuse(
                &s,
                "validasi/lihat",
                StatusCode::FORBIDDEN,
                format!("job={id}"),
                forbidden_message(s.lang),
            )
            .await;
    }
    let j = match load_job(&web, &s, id, "validasi/lihat").await {
        Ok(j) => j,
        Err(r) => return r,
    };
    let live = web.jobs.live(id);
    let ahead = if j.status == "queued" {
        web.queue_position(id).await.unwrap_or(0)
    } else {
        0
    };
    let counts = if j.status == "done" && s.user.role.can_see_results() {
        match counts(&web, id, scope(&s)).await {
            Ok(c) => c,
            Err(_) => return unavailable(&s),
        }
    } else {
        Counts::default()
    };
    Rendered(
        StatusCode::OK,
        JobTpl {
            p: s.page(format!("{} #{id}", s.lang.pick("Validasi", "Validation"))),
            error: j
                .error
                .as_deref()
                .map(|e| job_error(s.lang, e))
                .unwrap_or_default(),
            stage: live
                .map(|l| stage_label(s.lang, l.stage).to_string())
                .unwrap_or_default(),
            rows_live: live.map_or(0, |l| l.rows),
            ahead,
            counts,
            may_download: may_download(&s, &j),
            job: line(s.lang, &j),
        },
    )
    .into_response()
}

pub(crate) fn may_download(s: &Session, j: &Job) -> bool {
    match s.user.role {
        Role::Operator => j.owner_id == s.user.id,
        Role::Pengawas | Role::Auditor => true,
        Role::PengelolaData => false,
    }
}

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    putusan: String,
    #[serde(default)]
    alasan: String,
    #[serde(default)]
    wilayah: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    urut: String,
    #[serde(default)]
    hal: Option<i64>,
}

/// One line of the results table.
pub struct ResultLine {
    pub seq: i64,
    pub row_id: String,
    pub nik: String,
    pub name: String,
    pub verdict: String,
    pub verdict_class: &'static str,
    pub verdict_label: String,
    pub codes: String,
    pub regency: String,
    pub amount: String,
    pub case: String,
}

/// `3301********0001`: the NIK as a role that may not see it sees it.
pub fn mask_nik(nik: &str) -> String {
    let chars: Vec<char> = nik.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < 4 || i >= n - 4 { *c } else { '*' })
        .collect()
}

pub(crate) fn verdict_class(v: &str) -> &'static str {
    match v {
        "LAYAK" => "layak",
        "TINJAU" => "tinjau",
        _ => "tidak",
    }
}

pub(crate) fn verdict_label(lang: Lang, v: &str) -> String {
    match (lang, v) {
        (Lang::En, "LAYAK") => "ELIGIBLE".into(),
        (Lang::En, "TINJAU") => "REVIEW".into(),
        (Lang::En, "TIDAK LAYAK") => "NOT ELIGIBLE".into(),
        _ => v.to_string(),
    }
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[derive(Template)]
#[template(path = "hasil.html")]
struct ResultsTpl {
    p: Page,
    job: JobLine,
    rows: Vec<ResultLine>,
    total: i64,
    page: i64,
    pages: i64,
    f: Filters,
    reasons: Vec<String>,
    regencies: Vec<(String, String)>,
    query_base: String,
    may_download: bool,
}

pub async fn results(
    State(web): State<Arc<Web>>,
    s: Session,
    Path(id): Path<i64>,
    Query(f): Query<Filters>,
) -> Response {
    if !s.user.role.can_see_results() {
        return web
            .refuse(
                &s,
                "hasil/lihat",
                StatusCode::FORBIDDEN,
                format!("job={id}"),
                forbidden_message(s.lang),
            )
            .await;
    }
    let j = match load_job(&web, &s, id, "hasil/lihat").await {
        Ok(j) => j,
        Err(r) => return r,
    };
    let mut wh = String::from(" WHERE job_id = $1");
    let mut args: Vec<String> = Vec::new();
    // The same filters on the aggregates, while there is no free text (`web_job_reason` when
    // a reason is asked for, `web_job_agg` otherwise): the count needs no pass over the rows.
    let mut agg_wh = String::from(" WHERE job_id = $1");
    fn push(args: &mut Vec<String>, wh: &mut String, cond: &str, v: String) {
        args.push(v);
        wh.push_str(&cond.replace("$?", &format!("${}", args.len() + 1)));
    }
    if let Some(r) = scope(&s) {
        push(&mut args, &mut wh, " AND regency = $?", r.to_string());
        agg_wh.push_str(&format!(" AND regency = ${}", args.len() + 1));
    }
    if ["LAYAK", "TINJAU", "TIDAK LAYAK"].contains(&f.putusan.as_str()) {
        push(&mut args, &mut wh, " AND verdict = $?", f.putusan.clone());
        agg_wh.push_str(&format!(" AND verdict = ${}", args.len() + 1));
    }
    let code: String = f
        .alasan
        .chars()
        .filter(|c| c.is_ascii_uppercase() || *c == '_')
        .collect();
    let mut agg_args: Vec<String> = args.clone();
    if !code.is_empty() {
        push(
            &mut args,
            &mut wh,
            " AND codes LIKE $? ESCAPE '\\'",
            format!("%;{};%", like_escape(&code)),
        );
        push(&mut agg_args, &mut agg_wh, " AND code = $?", code.clone());
    }
    let region: String = f.wilayah.chars().filter(|c| c.is_ascii_digit()).collect();
    if region.len() == 4 {
        push(&mut args, &mut wh, " AND regency = $?", region.clone());
        push(&mut agg_args, &mut agg_wh, " AND regency = $?", region);
    } else if region.len() == 2 {
        push(
            &mut args,
            &mut wh,
            " AND regency LIKE $?",
            format!("{region}%"),
        );
        push(
            &mut agg_args,
            &mut agg_wh,
            " AND regency LIKE $?",
            format!("{region}%"),
        );
    }
    let q = f.q.trim();
    if !q.is_empty() {
        if q.chars().all(|c| c.is_ascii_digit()) {
            push(
                &mut args,
                &mut wh,
                " AND nik LIKE $?",
                format!("{}%", like_escape(q)),
            );
        } else {
            push(
                &mut args,
                &mut wh,
                " AND UPPER(name) LIKE $? ESCAPE '\\'",
                format!("%{}%", like_escape(&q.to_uppercase())),
            );
        }
    }
    let order = match f.urut.as_str() {
        "nama" => "name, seq",
        "putusan" => "verdict, seq",
        "nominal" => "amount DESC, seq",
        "nik" => "nik, seq",
        _ => "seq",
    };
    // A job still running has rows in the table already (imported as the engine writes
    // them) but no results yet: nothing is listed until it is done.
    let done = j.status == "done";
    let total: i64 = if !done {
        0
    } else {
        let sql = if !q.is_empty() {
            format!("SELECT COUNT(*) FROM web_result{wh}")
        } else if !code.is_empty() {
            format!("SELECT COALESCE(SUM(n), 0) FROM web_job_reason{agg_wh}")
        } else {
            format!("SELECT COALESCE(SUM(n), 0) FROM web_job_agg{agg_wh}")
        };
        let mut qq = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id);
        for a in if q.is_empty() { &agg_args } else { &args } {
            qq = qq.bind(a.clone());
        }
        match qq.fetch_one(&web.db.pool).await {
            Ok(n) => n,
            Err(_) => return unavailable(&s),
        }
    };
    let pages = ((total + PAGE_ROWS - 1) / PAGE_ROWS).max(1);
    let page = f.hal.unwrap_or(1).clamp(1, pages);
    let sql = format!(
        "SELECT seq, row_id, nik, name, verdict, codes, regency, amount FROM web_result{wh} \
         ORDER BY {order} LIMIT {PAGE_ROWS} OFFSET {}",
        (page - 1) * PAGE_ROWS
    );
    let mut qq = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
    for a in &args {
        qq = qq.bind(a.clone());
    }
    let rows = match qq.fetch_all(&web.db.pool).await {
        Ok(_) if !done => Vec::new(),
        Ok(r) => r,
        Err(_) => return unavailable(&s),
    };
    let seqs: Vec<i64> = rows.iter().filter_map(|r| r.try_get("seq").ok()).collect();
    let cases = case_outcomes(&web, id, &seqs).await.unwrap_or_default();
    let full = s.user.role.sees_full_nik();
    let lines = rows
        .iter()
        .filter_map(|r| {
            let seq: i64 = r.try_get("seq").ok()?;
            let nik: String = r.try_get("nik").ok()?;
            let verdict: String = r.try_get("verdict").ok()?;
            let regency: String = r.try_get("regency").ok()?;
            let amount: Option<i64> = r.try_get("amount").ok()?;
            Some(ResultLine {
                seq,
                row_id: r.try_get("row_id").ok()?,
                nik: if full { nik } else { mask_nik(&nik) },
                name: r.try_get("name").ok()?,
                verdict_class: verdict_class(&verdict),
                verdict_label: verdict_label(s.lang, &verdict),
                verdict,
                codes: r
                    .try_get::<String, _>("codes")
                    .ok()?
                    .trim_matches(';')
                    .replace(';', ", "),
                regency: crate::region::regency_name(&regency).unwrap_or(regency),
                amount: amount.map(rupiah).unwrap_or_default(),
                case: cases
                    .get(&seq)
                    .map(|o| outcome_label(s.lang, o).to_string())
                    .unwrap_or_default(),
            })
        })
        .collect();
    if let Err(r) = web
        .allowed(
            &s,
            "hasil/lihat",
            "GET",
            format!("job={id} page={page}"),
            None,
            b"",
        )
        .await
    {
        return r;
    }
    let reasons = top_reasons(&web, id, scope(&s))
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let regencies = regencies(&web, id, scope(&s)).await.unwrap_or_default();
    let query_base = format!(
        "putusan={}&alasan={}&wilayah={}&q={}&urut={}",
        crate::pages::url_encode(&f.putusan),
        crate::pages::url_encode(&f.alasan),
        crate::pages::url_encode(&f.wilayah),
        crate::pages::url_encode(&f.q),
        crate::pages::url_encode(&f.urut)
    );
    Rendered(
        StatusCode::OK,
        ResultsTpl {
            p: s.page(format!(
                "{} #{id}",
                s.lang.pick("Hasil validasi", "Validation results")
            )),
            may_download: may_download(&s, &j),
            job: line(s.lang, &j),
            rows: lines,
            total,
            page,
            pages,
            f,
            reasons,
            regencies,
            query_base,
        },
    )
    .into_response()
}

async fn regencies(
    web: &Web,
    job: i64,
    region: Option<&str>,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut sql = String::from("SELECT DISTINCT regency FROM web_job_agg WHERE job_id = $1");
    if region.is_some() {
        sql.push_str(" AND regency = $2");
    }
    sql.push_str(" ORDER BY regency");
    let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).bind(job);
    if let Some(r) = region {
        q = q.bind(r.to_string());
    }
    Ok(q.fetch_all(&web.db.pool)
        .await?
        .into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| {
            let n = crate::region::regency_name(&r).unwrap_or_else(|| r.clone());
            (r, n)
        })
        .collect())
}

/// `GET /validasi/{job}/unduh/{file}`: `verdicts.xlsx` or `verdicts.csv`, the files the
/// engine wrote for the job, byte for byte as `sinergi validate` writes them — with, once
/// cases have been worked on, each case's final status (`sinergi_engine::cases`); or
/// `kasus.csv`, every case event.
pub async fn download(
    State(web): State<Arc<Web>>,
    s: Session,
    Path((id, file)): Path<(i64, String)>,
) -> Response {
    let j = match load_job(&web, &s, id, "hasil/unduh").await {
        Ok(j) => j,
        Err(r) => return r,
    };
    if !may_download(&s, &j) {
        return web
            .refuse(
                &s,
                "hasil/unduh",
                StatusCode::FORBIDDEN,
                format!("job={id}"),
                forbidden_message(s.lang),
            )
            .await;
    }
    let (name, ctype) = match file.as_str() {
        "verdicts.xlsx" => (
            "verdicts.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "verdicts.csv" => ("verdicts.csv", "text/csv; charset=utf-8"),
        "kasus.csv" => ("kasus.csv", "text/csv; charset=utf-8"),
        _ => {
            return web
                .refuse(
                    &s,
                    "hasil/unduh",
                    StatusCode::NOT_FOUND,
                    format!("job={id}"),
                    not_found_message(s.lang),
                )
                .await;
        }
    };
    if j.status != "done" {
        return web
            .refuse(
                &s,
                "hasil/unduh",
                StatusCode::NOT_FOUND,
                format!("job={id}"),
                not_found_message(s.lang),
            )
            .await;
    }
    let bytes = if name == "kasus.csv" {
        match cases_csv(&web, &s, id).await {
            Ok(b) => b,
            Err(_) => return unavailable(&s),
        }
    } else {
        let bytes = match tokio::fs::read(j.out_dir().join(name)).await {
            Ok(b) => b,
            Err(_) => return unavailable(&s),
        };
        // After case work, the final status of every case goes with the results.
        let cases = match final_cases(&web, &s, id).await {
            Ok(c) => c,
            Err(_) => return unavailable(&s),
        };
        if cases.is_empty() {
            bytes
        } else {
            let lang = web.opts.lang;
            let made = tokio::task::spawn_blocking(move || {
                if name == "verdicts.xlsx" {
                    let list: Vec<_> = cases.into_iter().map(|(_, c)| c).collect();
                    sinergi_engine::cases::workbook_with_cases(&bytes, &list, lang)
                } else {
                    let by_row = cases.into_iter().map(|(seq, c)| (seq as u64, c)).collect();
                    sinergi_engine::cases::csv_with_cases(&bytes, &by_row, lang)
                }
            })
            .await;
            match made {
                Ok(Ok(b)) => b,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, job = id, "results with cases not made");
                    return unavailable(&s);
                }
                Err(_) => return unavailable(&s),
            }
        }
    };
    if let Err(r) = web
        .allowed(
            &s,
            "hasil/unduh",
            "GET",
            format!("job={id} file={name}"),
            None,
            b"",
        )
        .await
    {
        return r;
    }
    let disposition = format!(
        "attachment; filename=\"hasil-{}-{id}-{name}\"",
        j.program
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "")
    );
    (
        [
            (header::CONTENT_TYPE, ctype.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// One reason as the detail page shows it.
pub struct ReasonLine {
    pub code: String,
    pub severity: String,
    pub agency: String,
    pub dataset: String,
    pub version: String,
    pub date: String,
    pub message: String,
    pub next_step: String,
    pub detail: String,
    pub overridden_by: String,
}

#[derive(Template)]
#[template(path = "baris.html")]
struct RowTpl {
    p: Page,
    job: JobLine,
    seq: i64,
    row_id: String,
    nik: String,
    name: String,
    verdict_class: &'static str,
    verdict_label: String,
    kk: String,
    birth: String,
    address: String,
    region: String,
    amount: String,
    linked: String,
    suggested: String,
    score: String,
    reasons: Vec<ReasonLine>,
    not_checked: Vec<String>,
    notes: Vec<String>,
    household: Vec<(i64, String, String, String)>,
    cases: Vec<CaseLine>,
    is_case: bool,
    may_record: bool,
    may_override: bool,
    outcomes: Vec<(&'static str, &'static str)>,
    error: String,
}

pub(crate) struct RowData {
    pub(crate) nik: String,
    pub(crate) regency: String,
    pub(crate) verdict: String,
    /// The row's KK is in `web_result.kk` (rows imported before: only in `body`).
    pub(crate) kk_indexed: bool,
    pub(crate) body: serde_json::Value,
}

async fn load_row(web: &Web, j: &Job, seq: i64) -> Result<Option<RowData>, sqlx::Error> {
    let r = sqlx::query(
        "SELECT nik, regency, verdict, kk, body, body_at, body_len FROM web_result \
         WHERE job_id = $1 AND seq = $2",
    )
    .bind(j.id)
    .bind(seq)
    .fetch_optional(&web.db.pool)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let at: Option<i64> = r.try_get("body_at")?;
    let len: Option<i64> = r.try_get("body_len")?;
    let body = match (at, len) {
        // The row's JSON in the job's `baris.jsonl`.
        (Some(at), Some(len)) => {
            let path = j.dir.join(crate::jobs::BODY_FILE);
            let bytes = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
                use std::io::{Read as _, Seek as _};
                let mut f = std::fs::File::open(path)?;
                f.seek(std::io::SeekFrom::Start(at as u64))?;
                let mut b = vec![0u8; len as usize];
                f.read_exact(&mut b)?;
                Ok(b)
            })
            .await
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
            .map_err(sqlx::Error::Io)?;
            serde_json::from_slice(&bytes).unwrap_or_default()
        }
        // A row imported before the file was kept has its JSON in `body`.
        _ => serde_json::from_str(&r.try_get::<String, _>("body")?).unwrap_or_default(),
    };
    Ok(Some(RowData {
        nik: r.try_get("nik")?,
        regency: r.try_get("regency")?,
        verdict: r.try_get("verdict")?,
        kk_indexed: at.is_some(),
        body,
    }))
}

pub(crate) async fn row_page(
    web: &Web,
    s: &Session,
    j: &Job,
    seq: i64,
    row: RowData,
    status: StatusCode,
    error: String,
) -> Response {
    let lang = s.lang;
    let b = &row.body;
    let st = |k: &str| b.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let full = s.user.role.sees_full_nik();
    let show = |n: String| {
        if full || n.is_empty() {
            n
        } else {
            mask_nik(&n)
        }
    };
    let reasons = b
        .get("reasons")
        .and_then(|r| r.as_array())
        .map(|a| {
            a.iter()
                .map(|r| {
                    let g = |k: &str| r.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                    ReasonLine {
                        code: g("code"),
                        severity: verdict_label(lang, &g("severity").replace('_', " ")),
                        agency: g("agency"),
                        dataset: g("dataset"),
                        version: g("dataset_version"),
                        date: g("dataset_date"),
                        message: g(if lang.is_en() {
                            "message_en"
                        } else {
                            "message_id"
                        }),
                        next_step: g(if lang.is_en() {
                            "next_step_en"
                        } else {
                            "next_step_id"
                        }),
                        detail: g("detail"),
                        overridden_by: g("overridden_by"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let list = |k: &str, field: &str| -> Vec<String> {
        b.get(k)
            .and_then(|r| r.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.get(field).and_then(|m| m.as_str()).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let kk = st("kk_listed");
    let household = if kk.is_empty() {
        Vec::new()
    } else {
        household(web, j.id, seq, &kk, row.kk_indexed, scope(s))
            .await
            .unwrap_or_default()
    };
    let cases = case_events(web, j.id, seq).await.unwrap_or_default();
    let is_case = row.verdict == "TINJAU";
    Rendered(
        status,
        RowTpl {
            p: s.page(format!(
                "{} {}",
                lang.pick("Penerima", "Recipient"),
                st("name")
            )),
            job: line(lang, j),
            seq,
            row_id: b
                .get("row_id")
                .and_then(|x| x.as_str())
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| b.get("row_no").map(|x| x.to_string()).unwrap_or_default()),
            nik: show(row.nik.clone()),
            name: st("name"),
            verdict_class: verdict_class(&row.verdict),
            verdict_label: verdict_label(lang, &row.verdict),
            kk: show(kk),
            birth: st("birth_date"),
            address: st("address"),
            region: {
                let r = st("region");
                match crate::region::name(&r) {
                    Some(n) => format!(
                        "{r} ({n}, {})",
                        crate::region::regency_name(&row.regency).unwrap_or_default()
                    ),
                    None => r,
                }
            },
            amount: b
                .get("amount")
                .and_then(|a| a.as_i64())
                .map(rupiah)
                .unwrap_or_default(),
            linked: show(st("linked_nik")),
            suggested: show(st("suggested_nik")),
            score: b
                .get("suggested_score")
                .and_then(|x| x.as_f64())
                .map(|x| format!("{:.1}%", x * 100.0))
                .unwrap_or_default(),
            reasons,
            not_checked: list(
                "not_checked",
                if lang.is_en() { "why_en" } else { "why_id" },
            ),
            notes: list(
                "notes",
                if lang.is_en() {
                    "message_en"
                } else {
                    "message_id"
                },
            ),
            household,
            is_case,
            may_record: is_case
                && s.user.role == Role::Operator
                && s.user.sees_region(&row.regency),
            may_override: is_case && s.user.role == Role::Pengawas && !cases.is_empty(),
            cases,
            outcomes: OUTCOMES
                .iter()
                .map(|o| (*o, outcome_label(lang, o)))
                .collect(),
            error,
        },
    )
    .into_response()
}

/// Other rows of the same list with the same KK (the household as listed).
async fn household(
    web: &Web,
    job: i64,
    seq: i64,
    kk: &str,
    indexed: bool,
    region: Option<&str>,
) -> Result<Vec<(i64, String, String, String)>, sqlx::Error> {
    let mut sql = String::from(if indexed {
        "SELECT seq, name, verdict, regency FROM web_result WHERE job_id = $1 AND seq <> $2 \
         AND kk = $3"
    } else {
        "SELECT seq, name, verdict, regency FROM web_result WHERE job_id = $1 AND seq <> $2 \
         AND body LIKE $3 ESCAPE '\\'"
    });
    if region.is_some() {
        sql.push_str(" AND regency = $4");
    }
    sql.push_str(" ORDER BY seq LIMIT 20");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(job)
        .bind(seq)
        .bind(if indexed {
            kk.to_string()
        } else {
            format!("%\"kk_listed\":\"{}\"%", like_escape(kk))
        });
    if let Some(r) = region {
        q = q.bind(r.to_string());
    }
    let rows = q.fetch_all(&web.db.pool).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("seq")?,
                r.try_get("name")?,
                r.try_get("verdict")?,
                r.try_get("regency")?,
            ))
        })
        .collect()
}

/// Loads a row the user may see, or the audited refusal.
pub(crate) async fn visible_row(
    web: &Web,
    s: &Session,
    id: i64,
    seq: i64,
    action: &str,
) -> Result<(Job, RowData), Response> {
    if !s.user.role.can_see_results() {
        return Err(web
            .refuse(
                s,
                action,
                StatusCode::FORBIDDEN,
                format!("job={id} row={seq}"),
                forbidden_message(s.lang),
            )
            .await);
    }
    let j = load_job(web, s, id, action).await?;
    let row = match load_row(web, &j, seq).await {
        Ok(r) => r,
        Err(_) => return Err(unavailable(s)),
    };
    match row {
        Some(r) if s.user.sees_region(&r.regency) => Ok((j, r)),
        // Another region's row is "not found": its existence is not disclosed.
        _ => Err(web
            .refuse(
                s,
                action,
                StatusCode::NOT_FOUND,
                format!("job={id} row={seq}"),
                not_found_message(s.lang),
            )
            .await),
    }
}

pub async fn row(
    State(web): State<Arc<Web>>,
    s: Session,
    Path((id, seq)): Path<(i64, i64)>,
) -> Response {
    let (j, row) = match visible_row(&web, &s, id, seq, "baris/lihat").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let nik = row.nik.clone();
    if let Err(r) = web
        .allowed(
            &s,
            "baris/lihat",
            "GET",
            format!("job={id} row={seq}"),
            Some(&nik),
            b"",
        )
        .await
    {
        return r;
    }
    row_page(&web, &s, &j, seq, row, StatusCode::OK, String::new()).await
}
