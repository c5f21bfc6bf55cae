//! Kasus: every TINJAU row is a case. The operator of the row's kabupaten/kota records the
//! outcome of the field check (tetap / dikeluarkan / perbaiki data) with a note and an optional
//! attachment (PDF, JPEG or PNG by its first bytes, at most 5 MB, kept in the database and never
//! served back); a supervisor overrides a recorded outcome with a reason. Every event is kept
//! and audited; `kasus.csv` lists them, the last of a row being its final status, which the
//! next download of the results carries (`sinergi_engine::cases`).

use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sinergi_model::Lang;
use sqlx::Row as _;

use crate::audit::Event;
use crate::auth::Role;
use crate::pages::{csrf_message, error_for};
use crate::validasi::{
    forbidden_message, row_page, scope, unavailable, upload_error, visible_row, wib,
};
use crate::{Session, Web};

/// Largest case attachment (bytes).
pub const MAX_ATTACHMENT: usize = 5 * 1024 * 1024;

/// Case outcomes.
pub const OUTCOMES: [&str; 3] = ["tetap", "dikeluarkan", "perbaiki"];

pub fn outcome_label(lang: Lang, o: &str) -> &'static str {
    sinergi_engine::layout::case_outcome_label(o, lang)
}

/// The final status of every case of a job (the last event of each row), in row order, for
/// the results download.
pub(crate) async fn final_cases(
    web: &Web,
    s: &Session,
    job: i64,
) -> Result<Vec<(i64, sinergi_engine::layout::CaseStatus)>, sqlx::Error> {
    // An operator's download carries the cases of their kabupaten/kota only.
    let mut sql = String::from(
        "SELECT e.seq, e.outcome, e.note, e.by_user, e.at_us, r.row_id, r.nik, r.name \
         FROM web_case_event e JOIN web_result r ON r.job_id = e.job_id AND r.seq = e.seq \
         WHERE e.job_id = $1",
    );
    if scope(s).is_some() {
        sql.push_str(" AND r.regency = $2");
    }
    sql.push_str(" ORDER BY e.id");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(job);
    if let Some(r) = scope(s) {
        q = q.bind(r.to_string());
    }
    let rows = q.fetch_all(&web.db.pool).await?;
    let mut last: std::collections::BTreeMap<i64, sinergi_engine::layout::CaseStatus> =
        Default::default();
    for r in rows {
        last.insert(
            r.try_get("seq")?,
            sinergi_engine::layout::CaseStatus {
                row_id: r.try_get("row_id")?,
                nik: r.try_get("nik")?,
                name: r.try_get("name")?,
                outcome: r.try_get("outcome")?,
                note: r.try_get("note")?,
                by: r.try_get("by_user")?,
                at: wib(r.try_get("at_us")?),
            },
        );
    }
    Ok(last.into_iter().collect())
}

/// The latest outcome of each case among `seqs`.
pub async fn case_outcomes(
    web: &Web,
    job: i64,
    seqs: &[i64],
) -> Result<std::collections::HashMap<i64, String>, sqlx::Error> {
    let mut out = std::collections::HashMap::new();
    if seqs.is_empty() {
        return Ok(out);
    }
    let list = seqs
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT seq, outcome FROM web_case_event WHERE job_id = $1 AND seq IN ({list}) ORDER BY id"
    )))
    .bind(job)
    .fetch_all(&web.db.pool)
    .await?;
    for r in rows {
        out.insert(
            r.try_get::<i64, _>("seq")?,
            r.try_get::<String, _>("outcome")?,
        );
    }
    Ok(out)
}

/// A case event as the detail page lists it.
pub struct CaseLine {
    pub kind: String,
    pub outcome: String,
    pub note: String,
    pub by: String,
    pub at: String,
    pub attachment: String,
}

pub(crate) async fn case_events(
    web: &Web,
    job: i64,
    seq: i64,
) -> Result<Vec<CaseLine>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kind, outcome, note, by_user, at_us, attachment_name FROM web_case_event \
         WHERE job_id = $1 AND seq = $2 ORDER BY id",
    )
    .bind(job)
    .bind(seq)
    .fetch_all(&web.db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CaseLine {
                kind: r.try_get("kind")?,
                outcome: r.try_get("outcome")?,
                note: r.try_get("note")?,
                by: r.try_get("by_user")?,
                at: wib(r.try_get("at_us")?),
                attachment: r
                    .try_get::<Option<String>, _>("attachment_name")?
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// `kasus.csv`: every case event of a job (in the user's region), oldest first, the last of a
/// row being its final status; Excel's Indonesian CSV conventions as the engine's files (UTF-8
/// with BOM, `;`), text cells neutralised against formulas as the engine's are.
pub(crate) async fn cases_csv(web: &Web, s: &Session, job: i64) -> Result<Vec<u8>, sqlx::Error> {
    let mut sql = String::from(
        "SELECT r.row_id, r.nik, r.name, r.verdict, e.kind, e.outcome, e.note, e.by_user, e.at_us, \
         e.attachment_name FROM web_case_event e JOIN web_result r ON r.job_id = e.job_id AND \
         r.seq = e.seq WHERE e.job_id = $1",
    );
    if scope(s).is_some() {
        sql.push_str(" AND r.regency = $2");
    }
    sql.push_str(" ORDER BY e.id");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(job);
    if let Some(r) = scope(s) {
        q = q.bind(r.to_string());
    }
    let rows = q.fetch_all(&web.db.pool).await?;
    let lang = s.lang;
    let header = [
        "No",
        "NIK",
        lang.pick("Nama", "Name"),
        lang.pick("Putusan", "Verdict"),
        lang.pick("Jenis", "Kind"),
        lang.pick("Hasil", "Outcome"),
        lang.pick("Catatan", "Note"),
        lang.pick("Oleh", "By"),
        lang.pick("Waktu", "Time"),
        lang.pick("Lampiran", "Attachment"),
    ];
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut out);
        let _ = w.write_record(header);
        for r in rows {
            let cell = |k: &str| {
                sinergi_engine::layout::neutralise_formula(
                    &r.try_get::<Option<String>, _>(k)
                        .ok()
                        .flatten()
                        .unwrap_or_default(),
                )
            };
            let at: i64 = r.try_get("at_us")?;
            let _ = w.write_record([
                cell("row_id"),
                cell("nik"),
                cell("name"),
                cell("verdict"),
                cell("kind"),
                cell("outcome"),
                cell("note"),
                cell("by_user"),
                wib(at),
                cell("attachment_name"),
            ]);
        }
        let _ = w.flush();
    }
    Ok(out)
}

/// What a case attachment is, from its first bytes: PDF, JPEG or PNG only.
fn attachment_type(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

/// `POST /kasus/{job}/{seq}` (multipart: `csrf` first, `hasil`, `catatan`, optional
/// `lampiran`): an operator records the outcome of the field check; a supervisor overrides
/// it (the note is the reason, required).
pub async fn record_case(
    State(web): State<Arc<Web>>,
    s: Session,
    Path((id, seq)): Path<(i64, i64)>,
    mut mp: Multipart,
) -> Response {
    let lang = s.lang;
    let mut outcome = String::new();
    let mut note = String::new();
    let mut attachment: Option<(String, &'static str, Vec<u8>)> = None;
    let mut csrf_seen = false;
    let mut problem: Option<(StatusCode, String)> = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                problem = Some(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        lang.pick("Lampiran lebih dari 5 MB.", "The attachment is over 5 MB.")
                            .into(),
                    )
                } else {
                    (StatusCode::BAD_REQUEST, upload_error(lang, "read", 0))
                });
                break;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if !csrf_seen {
            let ok = name == "csrf" && field.text().await.is_ok_and(|t| s.csrf_ok(&t));
            if !ok {
                let _ = web
                    .audit(Event {
                        user: &s.user.username,
                        role: s.user.role.code(),
                        action: "kasus/catat",
                        decision: "WEB_CSRF",
                        status: 403,
                        issue: format!("job={id} row={seq}"),
                        nik: None,
                        method: "POST",
                        path: &s.path,
                        body: b"",
                    })
                    .await;
                return error_for(&s, StatusCode::FORBIDDEN, csrf_message(lang));
            }
            csrf_seen = true;
            continue;
        }
        match name.as_str() {
            "hasil" => outcome = field.text().await.unwrap_or_default().trim().to_string(),
            "catatan" => {
                note = field
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(2000)
                    .collect()
            }
            "lampiran" => {
                let fname: String = field
                    .file_name()
                    .unwrap_or("")
                    .chars()
                    .filter(|c| !c.is_control() && !"/\\\"".contains(*c))
                    .take(120)
                    .collect();
                let mut field = field;
                let mut buf = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) => {
                            buf.extend_from_slice(&c);
                            if buf.len() > MAX_ATTACHMENT {
                                problem = Some((
                                    StatusCode::PAYLOAD_TOO_LARGE,
                                    lang.pick(
                                        "Lampiran lebih dari 5 MB.",
                                        "The attachment is over 5 MB.",
                                    )
                                    .into(),
                                ));
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {
                            problem =
                                Some((StatusCode::BAD_REQUEST, upload_error(lang, "read", 0)));
                            break;
                        }
                    }
                }
                if problem.is_some() {
                    break;
                }
                if !buf.is_empty() {
                    match attachment_type(&buf) {
                        Some(t) => attachment = Some((fname, t, buf)),
                        None => {
                            problem = Some((
                                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                                lang.pick(
                                    "Lampiran harus foto (JPEG atau PNG) atau PDF.",
                                    "The attachment must be a photo (JPEG or PNG) or a PDF.",
                                )
                                .into(),
                            ));
                            break;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if !csrf_seen {
        return error_for(&s, StatusCode::FORBIDDEN, csrf_message(lang));
    }
    let (j, row) = match visible_row(&web, &s, id, seq, "kasus/catat").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let kind = match s.user.role {
        Role::Operator => "hasil-cek",
        Role::Pengawas => "koreksi-pengawas",
        _ => "",
    };
    let has_case = !case_events(&web, id, seq)
        .await
        .unwrap_or_default()
        .is_empty();
    if kind.is_empty() || row.verdict != "TINJAU" || (kind == "koreksi-pengawas" && !has_case) {
        return web
            .refuse(
                &s,
                "kasus/catat",
                StatusCode::FORBIDDEN,
                format!("job={id} row={seq}"),
                forbidden_message(lang),
            )
            .await;
    }
    if problem.is_none() && !OUTCOMES.contains(&outcome.as_str()) {
        problem = Some((
            StatusCode::BAD_REQUEST,
            lang.pick(
                "Pilih hasil cek lapangan.",
                "Choose the outcome of the field check.",
            )
            .into(),
        ));
    }
    if problem.is_none() && kind == "koreksi-pengawas" && note.trim().is_empty() {
        problem = Some((
            StatusCode::BAD_REQUEST,
            lang.pick(
                "Koreksi pengawas memerlukan alasan.",
                "A supervisor's override needs a reason.",
            )
            .into(),
        ));
    }
    if let Some((status, msg)) = problem {
        return row_page(&web, &s, &j, seq, row, status, msg).await;
    }
    let body = format!("hasil={outcome}&catatan={note}");
    if let Err(r) = web
        .audit(Event {
            user: &s.user.username,
            role: s.user.role.code(),
            action: "kasus/catat",
            decision: "ALLOWED",
            status: 303,
            issue: format!("job={id} row={seq} {kind}={outcome}"),
            nik: Some(&row.nik),
            method: "POST",
            path: &s.path,
            body: body.as_bytes(),
        })
        .await
        .map_err(|_| unavailable(&s))
    {
        return r;
    }
    let (aname, atype, adata) = match attachment {
        Some((n, t, d)) => (Some(n), Some(t), Some(d)),
        None => (None, None, None),
    };
    let r = sqlx::query(
        "INSERT INTO web_case_event (job_id, seq, kind, outcome, note, by_user, at_us, \
         attachment_name, attachment_type, attachment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(seq)
    .bind(kind)
    .bind(&outcome)
    .bind(&note)
    .bind(&s.user.username)
    .bind(crate::now_us())
    .bind(aname)
    .bind(atype)
    .bind(adata)
    .execute(&web.db.pool)
    .await;
    if r.is_err() {
        return unavailable(&s);
    }
    Redirect::to(&format!("/validasi/{id}/baris/{seq}")).into_response()
}
