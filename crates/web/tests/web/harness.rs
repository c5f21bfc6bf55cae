//! The test harness: one generated world loaded once into a store; per test a copy of it, a
//! node over the copy (audit log, keys in a temporary folder) and the web application, driven
//! with `oneshot` requests.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use sinergi_ingest::{Batch, Mapping, ReadOptions};
use sinergi_server::{AppState, NodeConfig};
use sinergi_store::{DatasetMeta, LoadMode, LoadStats, Store};
use sinergi_web::auth::{NewUser, Role};
use sinergi_web::{Web, WebOptions};
use sqlx::Row as _;
use tower::ServiceExt as _;

pub const PASSWORD: &str = "sinergi-demo-sandi";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The generated world: its folder, the loaded store file, and two regencies of the PKH list
/// (the one with most rows, and another).
pub struct World {
    pub dir: PathBuf,
    pub store: PathBuf,
    pub region: String,
    pub region2: String,
}

async fn ingest(store: &Store, mapping: &str, files: &[PathBuf]) {
    let m = Mapping::from_file(root().join(format!("config/mappings/{mapping}.toml"))).unwrap();
    let meta = DatasetMeta {
        name: m.source.clone(),
        table: m.table,
        owner_agency: m.agency.clone(),
        description: m.description.clone(),
        reference_codes: Vec::new(),
        update_cadence: String::new(),
    };
    let mut records = Vec::new();
    let report = sinergi_ingest::read(
        &m,
        files,
        &ReadOptions::default(),
        &mut |b: Batch| {
            records.extend(b.records);
            Ok(())
        },
        &mut |_| {},
    )
    .unwrap();
    let mut l = store.begin_load(&meta, LoadMode::Snapshot).await.unwrap();
    for chunk in records.chunks(10_000) {
        l.insert(chunk).await.unwrap();
    }
    l.commit(LoadStats {
        read: report.rows_read,
        loaded: report.loaded,
        rejected: report.rejected,
        ..LoadStats::default()
    })
    .await
    .unwrap();
}

pub fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        std::thread::spawn(|| {
            let dir = tempfile::tempdir().unwrap().keep();
            let cfg = sinergi_synth::SynthConfig {
                people: 6_000,
                seed: 11,
                ..sinergi_synth::SynthConfig::default()
            };
            sinergi_synth::generate(&cfg, &dir.join("dunia"), &mut |_| {}).unwrap();
            let store_path = dir.join("s.db");
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let store = Store::open(Some(&store_path.display().to_string()))
                    .await
                    .unwrap();
                for (mapping, file) in [
                    ("dukcapil-penduduk", "dukcapil/penduduk.csv"),
                    ("dukcapil-kematian", "dukcapil/kematian.csv"),
                    ("dtsen", "dtsen/dtsen.csv"),
                    ("bpjs-kesehatan", "bpjs-kesehatan/peserta.jsonl"),
                    ("bkn-asn", "bkn/asn.xlsx"),
                    ("tni-polri", "tni-polri/personel.csv"),
                    ("bpjs-ketenagakerjaan-upah", "bpjs-ketenagakerjaan/upah.csv"),
                ] {
                    ingest(&store, mapping, &[dir.join("dunia").join(file)]).await;
                }
                store.close().await;
            });
            // The regencies of the PKH list, most rows first.
            let rows = read_roster(&dir.join("dunia/rosters/PKH.xlsx"));
            let col = rows[0].iter().position(|c| c == "Kode Desa").unwrap();
            let mut counts = std::collections::BTreeMap::<String, usize>::new();
            for r in &rows[1..] {
                let d: String = r[col].chars().filter(|c| c.is_ascii_digit()).collect();
                if d.len() >= 4 {
                    *counts.entry(d[..4].to_string()).or_default() += 1;
                }
            }
            let mut v: Vec<_> = counts.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            World {
                store: store_path,
                region: v[0].0.clone(),
                region2: v[1].0.clone(),
                dir,
            }
        })
        .join()
        .unwrap()
    })
}

/// The regency of the operator account (`operator`).
pub fn region() -> &'static str {
    &world().region
}

/// A programme's list as the generator wrote it.
pub fn world_roster(program: &str) -> Vec<u8> {
    std::fs::read(world().dir.join(format!("dunia/rosters/{program}.xlsx"))).unwrap()
}

/// Every cell of the first sheet as text (header first).
fn read_roster(path: &Path) -> Vec<Vec<String>> {
    use calamine::{Data, Reader as _};
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Float(f) => format!("{f}"),
                    Data::Int(i) => i.to_string(),
                    Data::DateTime(d) => format!("#{}", d.as_f64()),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// The programme's list with the names of its first rows replaced.
pub fn roster_with_names(program: &str, names: &[&str]) -> Vec<u8> {
    let rows = read_roster(&world().dir.join(format!("dunia/rosters/{program}.xlsx")));
    let name_col = rows[0].iter().position(|c| c == "Nama KPM").unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("dd-mm-yyyy");
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r32, c16) = (r as u32, c as u16);
            if r >= 1 && r <= names.len() && c == name_col {
                ws.write_string(r32, c16, names[r - 1]).unwrap();
            } else if let Some(serial) = cell.strip_prefix('#') {
                ws.write_number_with_format(r32, c16, serial.parse::<f64>().unwrap(), &date)
                    .unwrap();
            } else if r > 0 && rows[0][c] == "Nominal" && cell.parse::<f64>().is_ok() {
                ws.write_number(r32, c16, cell.parse::<f64>().unwrap())
                    .unwrap();
            } else if !cell.is_empty() {
                ws.write_string(r32, c16, cell).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// The programme's list as a CSV file officers save from Excel (`;`, dates as text).
pub fn roster_csv(program: &str) -> Vec<u8> {
    let rows = read_roster(&world().dir.join(format!("dunia/rosters/{program}.xlsx")));
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c.strip_prefix('#') {
                // An Excel date serial (days since 1899-12-30) as YYYY-MM-DD.
                Some(serial) => {
                    let days = serial.parse::<f64>().unwrap() as i64 - 25_569;
                    civil(days)
                }
                None => c.clone(),
            })
            .collect();
        out.push_str(&cells.join(";"));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// Days since 1970-01-01 as YYYY-MM-DD.
fn civil(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The workbook holds no formula anywhere.
/// A workbook's sheet names and one sheet's cells as text (empty when there is no such sheet).
pub fn sheet_of(bytes: &[u8], name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    use calamine::Reader as _;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = wb.sheet_names();
    let rows = match wb.worksheet_range(name) {
        Ok(r) => r
            .rows()
            .map(|row| row.iter().map(|c| c.to_string()).collect())
            .collect(),
        Err(_) => Vec::new(),
    };
    (names, rows)
}

pub fn assert_no_formulas(bytes: &[u8]) {
    use calamine::Reader as _;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    for name in wb.sheet_names() {
        let f = wb.worksheet_formula(&name).unwrap();
        assert!(
            f.used_cells().all(|(_, _, s)| s.is_empty()),
            "sheet {name} has a formula"
        );
    }
}

/// A signed-in browser: its cookie header and the session's CSRF token.
#[derive(Clone, Debug)]
pub struct Sess {
    pub cookie: String,
    pub csrf: String,
}

/// A response, read whole.
pub struct Resp {
    pub status: StatusCode,
    pub body: String,
    pub bytes: Vec<u8>,
    pub headers: axum::http::HeaderMap,
    pub set_cookies: Vec<String>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

pub struct App {
    pub dir: PathBuf,
    pub state: Arc<AppState>,
    pub web: Arc<Web>,
    router: Router,
    limit: usize,
}

fn config(dir: &Path) -> NodeConfig {
    let mut c = NodeConfig::embedded_default();
    c.data_dir = dir.to_path_buf();
    c.database_url = Some(format!("sqlite://{}", dir.join("s.db").display()));
    c.listen = "127.0.0.1:0".parse().unwrap();
    c
}

async fn open(dir: &Path, limit: usize) -> (Arc<AppState>, Arc<Web>, Router) {
    let state = AppState::start(config(dir)).await.unwrap();
    let programs = sinergi_engine::run::load_programs(&root().join("config/programs")).unwrap();
    let opts = WebOptions {
        programs,
        roster_mapping: Mapping::from_file(root().join("config/mappings/roster.toml")).unwrap(),
        lang: sinergi_model::Lang::Id,
        work_dir: dir.join("web"),
        database_url: None,
        max_upload_bytes: limit,
    };
    let web = sinergi_web::start(state.clone(), opts).await.unwrap();
    let router = sinergi_web::router(web.clone());
    (state, web, router)
}

impl App {
    pub async fn start() -> App {
        App::start_with_limit(sinergi_web::MAX_UPLOAD_BYTES).await
    }

    pub async fn start_with_limit(limit: usize) -> App {
        let w = world();
        let dir = tempfile::tempdir().unwrap().keep();
        std::fs::copy(&w.store, dir.join("s.db")).unwrap();
        let (state, web, router) = open(&dir, limit).await;
        for (name, role, region) in [
            ("operator", Role::Operator, Some(w.region.clone())),
            ("operator2", Role::Operator, Some(w.region2.clone())),
            ("pengawas", Role::Pengawas, None),
            ("auditor", Role::Auditor, None),
            ("pengelola", Role::PengelolaData, None),
        ] {
            web.db
                .add_user(&NewUser {
                    username: name.into(),
                    display_name: String::new(),
                    role,
                    region,
                    password: PASSWORD.into(),
                })
                .await
                .unwrap();
        }
        App {
            dir,
            state,
            web,
            router,
            limit,
        }
    }

    /// Stops this node (audit writer drained) and starts another over the same folder.
    pub async fn restart(self) -> App {
        self.state.finish().await;
        self.web.db.close().await;
        let (state, web, router) = open(&self.dir, self.limit).await;
        App {
            dir: self.dir,
            state,
            web,
            router,
            limit: self.limit,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let r = self.router.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let set_cookies = headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let bytes = r.into_body().collect().await.unwrap().to_bytes().to_vec();
        Resp {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
            headers,
            set_cookies,
        }
    }

    pub async fn get(&self, path: &str, s: Option<&Sess>) -> Resp {
        let mut b = Request::get(path);
        if let Some(s) = s {
            b = b.header("cookie", &s.cookie);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    pub async fn post_raw(&self, path: &str, s: Option<&Sess>, ctype: &str, body: Vec<u8>) -> Resp {
        let mut b = Request::post(path).header("content-type", ctype);
        if let Some(s) = s {
            b = b.header("cookie", &s.cookie);
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    pub async fn post_form(&self, path: &str, s: &Sess, fields: &[(&str, &str)]) -> Resp {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", sinergi_web::pages::url_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.post_raw(
            path,
            Some(s),
            "application/x-www-form-urlencoded",
            body.into_bytes(),
        )
        .await
    }

    /// A multipart form with the session's CSRF token first, `fields`, and an optional file
    /// (field `lampiran`).
    pub async fn post_multipart(
        &self,
        path: &str,
        s: &Sess,
        fields: &[(&str, &str)],
        file: Option<(&str, Vec<u8>)>,
    ) -> Resp {
        self.multipart(path, s, fields, file.map(|(n, b)| ("lampiran", n, b)))
            .await
    }

    async fn multipart(
        &self,
        path: &str,
        s: &Sess,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, Vec<u8>)>,
    ) -> Resp {
        const B: &str = "----sinergi-uji-batas";
        let mut body = Vec::new();
        let mut part = |name: &str, value: &[u8], file_name: Option<&str>| {
            body.extend_from_slice(format!("--{B}\r\n").as_bytes());
            match file_name {
                Some(f) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(value);
            body.extend_from_slice(b"\r\n");
        };
        part("csrf", s.csrf.as_bytes(), None);
        for (k, v) in fields {
            part(k, v.as_bytes(), None);
        }
        if let Some((field, name, bytes)) = file {
            part(field, &bytes, Some(name));
        }
        body.extend_from_slice(format!("--{B}--\r\n").as_bytes());
        self.post_raw(
            path,
            Some(s),
            &format!("multipart/form-data; boundary={B}"),
            body,
        )
        .await
    }

    pub async fn upload(&self, s: &Sess, program: &str, name: &str, bytes: Vec<u8>) -> Resp {
        self.multipart(
            "/validasi",
            s,
            &[("program", program)],
            Some(("berkas", name, bytes)),
        )
        .await
    }

    /// Uploads a list and waits for its job to finish; the job's id.
    pub async fn validate(&self, s: &Sess, program: &str, bytes: Vec<u8>) -> i64 {
        let ext = if bytes.starts_with(b"PK") {
            "xlsx"
        } else {
            "csv"
        };
        let r = self
            .upload(s, program, &format!("{program}.{ext}"), bytes)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let id = job_id(&r);
        self.wait_done(id).await;
        id
    }

    pub async fn wait_done(&self, id: i64) {
        for _ in 0..1200 {
            let j = self.web.job(id).await.unwrap().unwrap();
            match j.status.as_str() {
                "done" => return,
                "failed" => panic!("job {id} failed: {:?}", j.error),
                _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
        panic!("job {id} did not finish");
    }

    /// The login form's POST with its CSRF cookie and field.
    pub async fn login_raw(&self, user: &str, password: &str) -> Resp {
        let form = self.get("/masuk", None).await;
        let cookie = form.set_cookies[0].split(';').next().unwrap().to_string();
        let csrf = hidden(&form.body, "csrf");
        let s = Sess { cookie, csrf };
        self.post_form(
            "/masuk",
            &s,
            &[
                ("csrf", &s.csrf),
                ("username", user),
                ("password", password),
                ("kembali", "/"),
            ],
        )
        .await
    }

    pub async fn login(&self, user: &str) -> Sess {
        let r = self.login_raw(user, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "login {user}: {}", r.body);
        let cookie = r
            .set_cookies
            .iter()
            .find(|c| c.starts_with("sinergi_sesi="))
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let home = self
            .get(
                "/",
                Some(&Sess {
                    cookie: cookie.clone(),
                    csrf: String::new(),
                }),
            )
            .await;
        Sess {
            cookie,
            csrf: hidden(&home.body, "csrf"),
        }
    }

    /// Whether the audit log has an entry for this web action with this decision.
    pub async fn audited(&self, service: &str, decision: &str) -> bool {
        let entries = self.state.db.read_range(1, 100_000).await.unwrap();
        entries
            .iter()
            .any(|e| e.service.ends_with(service) && e.client == "web" && e.decision == decision)
            || entries
                .iter()
                .any(|e| e.service == format!("web/{service}") && e.decision == decision)
    }

    async fn scalar(&self, sql: &str, job: i64, arg: Option<&str>) -> Option<i64> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).bind(job);
        if let Some(a) = arg {
            q = q.bind(a.to_string());
        }
        q.fetch_optional(self.web.db.pool())
            .await
            .unwrap()
            .map(|r| r.try_get::<i64, _>(0).unwrap())
    }

    pub async fn first_nik(&self, job: i64) -> String {
        sqlx::query_scalar::<_, String>(
            "SELECT nik FROM web_result WHERE job_id = $1 AND length(nik) = 16 ORDER BY seq LIMIT 1",
        )
        .bind(job)
        .fetch_one(self.web.db.pool())
        .await
        .unwrap()
    }

    /// A row of the region and a row of another region.
    pub async fn rows_in_and_out_of(&self, job: i64, region: &str) -> (i64, i64) {
        let own = self
            .scalar(
                "SELECT seq FROM web_result WHERE job_id = $1 AND regency = $2 ORDER BY seq LIMIT 1",
                job,
                Some(region),
            )
            .await
            .unwrap();
        let other = self
            .scalar(
                "SELECT seq FROM web_result WHERE job_id = $1 AND regency <> $2 AND regency <> '' \
                 ORDER BY seq LIMIT 1",
                job,
                Some(region),
            )
            .await
            .unwrap();
        (own, other)
    }

    pub async fn row_with_verdict(&self, job: i64, verdict: &str, region: Option<&str>) -> i64 {
        let mut sql =
            format!("SELECT seq FROM web_result WHERE job_id = $1 AND verdict = '{verdict}'");
        if region.is_some() {
            sql.push_str(" AND regency = $2");
        }
        sql.push_str(" ORDER BY seq LIMIT 1");
        self.scalar(&sql, job, region)
            .await
            .unwrap_or_else(|| panic!("no {verdict} row in {region:?}"))
    }

    pub async fn tinjau_row(&self, job: i64, region: Option<&str>) -> i64 {
        self.row_with_verdict(job, "TINJAU", region).await
    }

    /// Signs in an operator of the row's regency (created on first use).
    pub async fn operator_of_row(&self, job: i64, seq: i64) -> Sess {
        let regency: String =
            sqlx::query_scalar("SELECT regency FROM web_result WHERE job_id = $1 AND seq = $2")
                .bind(job)
                .bind(seq)
                .fetch_one(self.web.db.pool())
                .await
                .unwrap();
        let name = format!("op-{regency}");
        if self.web.db.user_by_name(&name).await.unwrap().is_none() {
            self.web
                .db
                .add_user(&NewUser {
                    username: name.clone(),
                    display_name: String::new(),
                    role: Role::Operator,
                    region: Some(regency),
                    password: PASSWORD.into(),
                })
                .await
                .unwrap();
        }
        self.login(&name).await
    }

    pub async fn insert_running_job(&self, _s: &Sess) -> i64 {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO web_job (owner_id, owner, program, file_name, status, rows_done, \
             created_at, dir) VALUES (1, 'operator', 'PKH', 'PKH.xlsx', 'running', 0, 0, '') \
             RETURNING id",
        )
        .fetch_one(self.web.db.pool())
        .await
        .unwrap()
    }
}

/// A hidden field's value in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let i = html
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + key.len();
    html[i..].split('"').next().unwrap().to_string()
}

/// The row count a results page states.
pub fn rows_total(html: &str) -> i64 {
    let key = "<p aria-live=\"polite\">";
    let i = html
        .find(key)
        .unwrap_or_else(|| panic!("no count in {html}"))
        + key.len();
    html[i..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The job id of an upload's redirect.
pub fn job_id(r: &Resp) -> i64 {
    r.header("location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}
