//! Sinergi Web over HTTP (`Router::oneshot`, no sockets): every page and action, the
//! permission matrix, sessions, CSRF, uploads and hostile input. One generated world (a few
//! thousand synthetic people) is loaded once into a store file; each test copies it and starts
//! its own node (audit log, web database) over the copy.

mod harness;

use axum::http::StatusCode;
use harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_logout_and_failed_logins_are_audited() {
    let app = App::start().await;
    // The login page renders and sets its CSRF cookie.
    let r = app.get("/masuk", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Kata sandi"), "{}", r.body);
    // Wrong password: 401, a clear message, audited.
    let r = app.login_raw("pengawas", "salah-sekali-123").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("Nama pengguna atau kata sandi salah"));
    assert!(app.audited("web/masuk-gagal", "WEB_LOGIN_FAILED").await);
    // Right password: a session cookie HttpOnly and SameSite=Strict, audited.
    let s = app.login("pengawas").await;
    let r = app.get("/", Some(&s)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Beranda"));
    assert!(app.audited("web/masuk", "ALLOWED").await);
    // Logout needs the CSRF token; with it the session ends.
    let r = app.post_form("/keluar", &s, &[("csrf", "salah")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.post_form("/keluar", &s, &[("csrf", &s.csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app.get("/", Some(&s)).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "a logged-out session is gone"
    );
    assert!(app.audited("web/keluar", "ALLOWED").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cookies_are_httponly_samesite_strict() {
    let app = App::start().await;
    let r = app.login_raw("pengawas", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let c = r
        .set_cookies
        .iter()
        .find(|c| c.starts_with("sinergi_sesi="))
        .expect("session cookie");
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict"),
        "{c}"
    );
    // Pages are never cached and carry a strict content security policy.
    let s = app.login("pengawas").await;
    let r = app.get("/", Some(&s)).await;
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failed_logins_lock_the_name_even_for_the_right_password() {
    let app = App::start().await;
    for _ in 0..5 {
        assert_eq!(
            app.login_raw("operator", "bukan-sandinya-1").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = app.login_raw("operator", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Tunggu 15 menit"));
    assert!(app.audited("web/masuk-gagal", "WEB_LOGIN_LOCKED").await);
    // Another name is not locked.
    assert_eq!(
        app.login_raw("pengawas", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_without_its_csrf_cookie_is_refused() {
    let app = App::start().await;
    let r = app
        .post_raw(
            "/masuk",
            None,
            "application/x-www-form-urlencoded",
            b"csrf=abc&username=pengawas&password=sinergi-demo-sandi".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Muat ulang halaman"));
    assert!(app.audited("web/masuk", "WEB_CSRF").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_deactivated_sessions_stop_working() {
    let app = App::start().await;
    let s = app.login("operator").await;
    assert_eq!(app.get("/", Some(&s)).await.status, StatusCode::OK);
    app.web.db.age_sessions(31 * 60).await.unwrap();
    let r = app.get("/", Some(&s)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "idle for 31 minutes");
    assert!(r.header("location").unwrap().starts_with("/masuk"));

    let s = app.login("operator").await;
    assert_eq!(app.get("/validasi", Some(&s)).await.status, StatusCode::OK);
    app.web.db.deactivate("operator").await.unwrap();
    assert_eq!(
        app.get("/validasi", Some(&s)).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.login_raw("operator", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED,
        "a deactivated user cannot log in again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_need_a_session_and_come_back_after_login() {
    let app = App::start().await;
    for path in [
        "/",
        "/validasi",
        "/validasi/1",
        "/validasi/1/hasil",
        "/validasi/1/baris/1",
    ] {
        let r = app.get(path, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            r.header("location")
                .unwrap()
                .starts_with("/masuk?kembali=%2F")
        );
    }
    // The way back is a local path only.
    let r = app
        .get("/masuk?kembali=https://contoh.invalid/", None)
        .await;
    assert!(
        r.body.contains("name=\"kembali\" value=\"/\""),
        "{}",
        r.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_gives_english_pages() {
    let app = App::start().await;
    let s = app.login("pengawas").await;
    let r = app.get("/bahasa?ke=en&kembali=/validasi", Some(&s)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location").as_deref(), Some("/validasi"));
    let lang = r.set_cookies[0].split(';').next().unwrap().to_string();
    let s2 = Sess {
        cookie: format!("{}; {lang}", s.cookie),
        ..s.clone()
    };
    let r = app.get("/validasi", Some(&s2)).await;
    assert!(r.body.contains("Upload a recipient list"), "{}", r.body);
    assert!(r.body.contains("<html lang=\"en\">"));
    // A switch to somewhere else goes home instead.
    let r = app
        .get("/bahasa?ke=en&kembali=//contoh.invalid", Some(&s))
        .await;
    assert_eq!(r.header("location").as_deref(), Some("/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_that_are_not_lists_or_too_big_get_a_clear_message() {
    let app = App::start_with_limit(64 * 1024).await;
    let s = app.login("operator").await;
    // Not XLSX/CSV (an old .xls, a PDF renamed .xlsx): 415 with what to do.
    for (name, bytes) in [
        ("daftar.xls", b"\xD0\xCF\x11\xE0 old excel".to_vec()),
        ("daftar.xlsx", b"%PDF-1.4 not a workbook".to_vec()),
        ("daftar.csv", b"PK\x03\x04 a zip named csv".to_vec()),
    ] {
        let r = app.upload(&s, "PKH", name, bytes).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{name}");
        assert!(r.body.contains("Berkas bukan XLSX atau CSV"), "{}", r.body);
    }
    // Over the limit: 413 naming the limit.
    let r = app
        .upload(&s, "PKH", "besar.csv", vec![b'a'; 200 * 1024])
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("Berkas terlalu besar"), "{}", r.body);
    // An empty file, an unknown programme.
    let r = app.upload(&s, "PKH", "kosong.csv", Vec::new()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .upload(&s, "XYZ", "daftar.csv", b"No;NIK\n1;2\n".to_vec())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Pilih program"));
    assert!(app.audited("validasi/unggah", "WEB_UPLOAD_REFUSED").await);
    assert!(
        app.web.recent_jobs(10).await.unwrap().is_empty(),
        "no job was queued"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_without_the_csrf_token_are_refused() {
    let app = App::start().await;
    let s = app.login("operator").await;
    let forged = Sess {
        csrf: "bukan-token".into(),
        ..s.clone()
    };
    let r = app
        .upload(&forged, "PKH", "PKH.xlsx", world_roster("PKH"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.audited("validasi/unggah", "WEB_CSRF").await);
    let r = app
        .post_multipart("/kasus/1/1", &forged, &[("hasil", "tetap")], None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.audited("kasus/catat", "WEB_CSRF").await);
    assert!(app.web.recent_jobs(10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_is_validated_and_its_results_paged_filtered_and_downloaded() {
    let app = App::start().await;
    let op = app.login("operator").await;
    let job = app.validate(&op, "PKH", world_roster("PKH")).await;
    let r = app.get(&format!("/validasi/{job}"), Some(&op)).await;
    assert!(r.body.contains("Selesai"), "{}", r.body);

    // The supervisor sees every row; filters narrow them.
    let sup = app.login("pengawas").await;
    let all = app.get(&format!("/validasi/{job}/hasil"), Some(&sup)).await;
    assert_eq!(all.status, StatusCode::OK);
    let total = rows_total(&all.body);
    assert!(total > 0);
    let tinjau = app
        .get(&format!("/validasi/{job}/hasil?putusan=TINJAU"), Some(&sup))
        .await;
    let n_tinjau = rows_total(&tinjau.body);
    assert!(n_tinjau > 0 && n_tinjau < total, "{n_tinjau} of {total}");
    assert!(!tinjau.body.contains("lencana layak"));
    // Sorting by name keeps the same rows.
    let sorted = app
        .get(&format!("/validasi/{job}/hasil?urut=nama"), Some(&sup))
        .await;
    assert_eq!(rows_total(&sorted.body), total);
    // Free text: a NIK prefix.
    let nik = app.first_nik(job).await;
    let by_nik = app
        .get(&format!("/validasi/{job}/hasil?q={nik}"), Some(&sup))
        .await;
    assert!(rows_total(&by_nik.body) >= 1);
    assert!(by_nik.body.contains(&nik));

    // Downloads: the engine's files, byte for byte.
    let x = app
        .get(&format!("/validasi/{job}/unduh/verdicts.xlsx"), Some(&op))
        .await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(
        x.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    let dir = app.web.job(job).await.unwrap().unwrap().out_dir();
    assert_eq!(x.bytes, std::fs::read(dir.join("verdicts.xlsx")).unwrap());
    let c = app
        .get(&format!("/validasi/{job}/unduh/verdicts.csv"), Some(&sup))
        .await;
    assert_eq!(c.bytes, std::fs::read(dir.join("verdicts.csv")).unwrap());
    assert!(app.audited("hasil/unduh", "ALLOWED").await);
    // Anything else is not found.
    let r = app
        .get(
            &format!("/validasi/{job}/unduh/..%2Fdaftar.xlsx"),
            Some(&sup),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_kept_at_import_agree_with_the_rows_for_every_filter() {
    use sqlx::Row as _;
    let app = App::start().await;
    let sup = app.login("pengawas").await;
    let job = app.validate(&sup, "PKH", world_roster("PKH")).await;
    // The rows as imported: verdict, kabupaten/kota, reason codes.
    let rows: Vec<(String, String, String)> =
        sqlx::query("SELECT verdict, regency, codes FROM web_result WHERE job_id = $1")
            .bind(job)
            .fetch_all(app.web.db.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    assert!(rows.len() > 10, "{}", rows.len());
    let count =
        |f: &dyn Fn(&(String, String, String)) -> bool| rows.iter().filter(|r| f(r)).count() as i64;
    let total = |q: String| {
        let app = &app;
        let sup = &sup;
        async move {
            rows_total(
                &app.get(&format!("/validasi/{job}/hasil?{q}"), Some(sup))
                    .await
                    .body,
            )
        }
    };
    assert_eq!(total(String::new()).await, rows.len() as i64);
    for v in ["LAYAK", "TINJAU", "TIDAK LAYAK"] {
        let want = count(&|r| r.0 == v);
        assert_eq!(
            total(format!("putusan={}", v.replace(' ', "+"))).await,
            want,
            "{v}"
        );
    }
    let mut codes: Vec<String> = rows
        .iter()
        .flat_map(|r| r.2.split(';').filter(|c| !c.is_empty()).map(String::from))
        .collect();
    codes.sort();
    codes.dedup();
    assert!(codes.len() >= 3, "{codes:?}");
    for c in &codes {
        let has = |r: &(String, String, String)| r.2.contains(&format!(";{c};"));
        assert_eq!(total(format!("alasan={c}")).await, count(&has), "{c}");
        assert_eq!(
            total(format!("alasan={c}&putusan=TINJAU")).await,
            count(&|r| has(r) && r.0 == "TINJAU"),
            "{c} TINJAU"
        );
    }
    let regency = rows.iter().find(|r| !r.1.is_empty()).unwrap().1.clone();
    let province = regency[..2].to_string();
    assert_eq!(
        total(format!("wilayah={regency}")).await,
        count(&|r| r.1 == regency)
    );
    assert_eq!(
        total(format!("wilayah={province}&putusan=TIDAK+LAYAK")).await,
        count(&|r| r.1.starts_with(&province) && r.0 == "TIDAK LAYAK")
    );
    // An operator's counts are their kabupaten/kota's, on the results page and beranda.
    let seq = app.rows_in_and_out_of(job, &regency).await.0;
    let op = app.operator_of_row(job, seq).await;
    let r = app.get(&format!("/validasi/{job}/hasil"), Some(&op)).await;
    assert_eq!(rows_total(&r.body), count(&|r| r.1 == regency));
    let r = app
        .get(&format!("/validasi/{job}/hasil?putusan=TINJAU"), Some(&op))
        .await;
    assert_eq!(
        rows_total(&r.body),
        count(&|r| r.1 == regency && r.0 == "TINJAU")
    );
    // A job finished before aggregates were kept gets them from its rows when the node starts.
    for sql in [
        "DELETE FROM web_job_agg",
        "DELETE FROM web_job_reason",
        "UPDATE web_job SET aggregated = 0",
    ] {
        sqlx::query(sql).execute(app.web.db.pool()).await.unwrap();
    }
    let app = app.restart().await;
    let sup = app.login("pengawas").await;
    let page = |q: String| {
        let app = &app;
        let sup = &sup;
        async move {
            rows_total(
                &app.get(&format!("/validasi/{job}/hasil?{q}"), Some(sup))
                    .await
                    .body,
            )
        }
    };
    assert_eq!(page(String::new()).await, rows.len() as i64);
    assert_eq!(
        page("putusan=TINJAU".into()).await,
        count(&|r| r.0 == "TINJAU")
    );
    let c = &codes[0];
    assert_eq!(
        page(format!("alasan={c}")).await,
        count(&|r| r.2.contains(&format!(";{c};")))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_permission_matrix_holds() {
    let app = App::start().await;
    let sup = app.login("pengawas").await;
    let job = app.validate(&sup, "PKH", world_roster("PKH")).await;
    let op = app.login("operator").await; // region()
    let other = app.login("operator2").await; // another regency
    let aud = app.login("auditor").await;
    let steward = app.login("pengelola").await;

    // An operator sees only their regency's rows.
    let mine = app.get(&format!("/validasi/{job}/hasil"), Some(&op)).await;
    let theirs = app
        .get(&format!("/validasi/{job}/hasil"), Some(&other))
        .await;
    let all = app.get(&format!("/validasi/{job}/hasil"), Some(&sup)).await;
    let (n_mine, n_theirs, n_all) = (
        rows_total(&mine.body),
        rows_total(&theirs.body),
        rows_total(&all.body),
    );
    assert!(n_mine > 0, "the operator's regency has rows");
    assert!(n_mine + n_theirs <= n_all);

    // Another regency's row: 404, audited; their own: 200.
    let (own_seq, foreign_seq) = app.rows_in_and_out_of(job, region()).await;
    let r = app
        .get(&format!("/validasi/{job}/baris/{foreign_seq}"), Some(&op))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(app.audited("baris/lihat", "WEB_NOT_FOUND").await);
    let r = app
        .get(&format!("/validasi/{job}/baris/{own_seq}"), Some(&op))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // ... nor can they change it.
    let r = app
        .post_multipart(
            &format!("/kasus/{job}/{foreign_seq}"),
            &op,
            &[("hasil", "tetap"), ("catatan", "x")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // An operator downloads only lists they uploaded.
    let r = app
        .get(&format!("/validasi/{job}/unduh/verdicts.csv"), Some(&op))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The auditor reads, with NIKs masked, and changes nothing.
    let r = app.get(&format!("/validasi/{job}/hasil"), Some(&aud)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("********"), "masked NIKs");
    let r = app
        .upload(&aud, "PKH", "PKH.xlsx", world_roster("PKH"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let tinjau = app.tinjau_row(job, None).await;
    let r = app
        .post_multipart(
            &format!("/kasus/{job}/{tinjau}"),
            &aud,
            &[("hasil", "dikeluarkan"), ("catatan", "x")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.audited("kasus/catat", "WEB_FORBIDDEN").await);

    // The data steward does not see recipients.
    let r = app
        .get(&format!("/validasi/{job}/hasil"), Some(&steward))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .get(&format!("/validasi/{job}/baris/{own_seq}"), Some(&steward))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Unknown jobs and rows are 404.
    let r = app.get("/validasi/999/hasil", Some(&sup)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_is_recorded_by_the_operator_and_overridden_by_the_supervisor() {
    let app = App::start().await;
    let sup = app.login("pengawas").await;
    let job = app.validate(&sup, "PKH", world_roster("PKH")).await;
    let seq = app.tinjau_row(job, None).await;
    // The operator of that row's regency.
    let op = app.operator_of_row(job, seq).await;
    let path = format!("/kasus/{job}/{seq}");
    // A supervisor cannot override a case nobody has worked on yet.
    let r = app
        .post_multipart(
            &path,
            &sup,
            &[("hasil", "tetap"), ("catatan", "alasan")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An attachment that is no photo or PDF is refused, and nothing is recorded.
    let r = app
        .post_multipart(
            &path,
            &op,
            &[("hasil", "dikeluarkan"), ("catatan", "pindah")],
            Some(("foto.jpg", b"<html><script>alert(1)</script>".to_vec())),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.body.contains("foto (JPEG atau PNG) atau PDF"));
    // Too big: refused.
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(5 * 1024 * 1024 + 10, b'a');
    let r = app
        .post_multipart(
            &path,
            &op,
            &[("hasil", "dikeluarkan")],
            Some(("besar.pdf", big)),
        )
        .await;
    assert!(
        r.status == StatusCode::PAYLOAD_TOO_LARGE,
        "{} {}",
        r.status,
        r.body
    );
    // The operator records the outcome with a PDF.
    let r = app
        .post_multipart(
            &path,
            &op,
            &[
                ("hasil", "dikeluarkan"),
                ("catatan", "Sudah pindah ke luar kota"),
            ],
            Some(("berita-acara.pdf", b"%PDF-1.4 berita acara".to_vec())),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app
        .get(&format!("/validasi/{job}/baris/{seq}"), Some(&op))
        .await;
    assert!(page.body.contains("Sudah pindah ke luar kota"));
    assert!(page.body.contains("berita-acara.pdf"));
    assert!(app.audited("kasus/catat", "ALLOWED").await);
    // The results table shows the outcome.
    let list = app
        .get(&format!("/validasi/{job}/hasil?putusan=TINJAU"), Some(&op))
        .await;
    assert!(list.body.contains("Dikeluarkan"));
    // The supervisor overrides, with a reason (required).
    let r = app
        .post_multipart(&path, &sup, &[("hasil", "tetap")], None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("memerlukan alasan"));
    let r = app
        .post_multipart(
            &path,
            &sup,
            &[
                ("hasil", "tetap"),
                ("catatan", "Surat keterangan domisili masih berlaku"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app
        .get(&format!("/validasi/{job}/baris/{seq}"), Some(&sup))
        .await;
    assert!(page.body.contains("koreksi-pengawas"));
    // The cases download has both events, the override last (the final status).
    let csv = app
        .get(&format!("/validasi/{job}/unduh/kasus.csv"), Some(&sup))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = String::from_utf8(csv.bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].contains("dikeluarkan") && lines[1].contains("Sudah pindah ke luar kota"));
    assert!(lines[2].contains("tetap") && lines[2].contains("koreksi-pengawas"));
    // The results download carries the final status: the workbook gets a sheet "Kasus" with
    // the case's last outcome, its other sheets as the run wrote them.
    let x = app
        .get(&format!("/validasi/{job}/unduh/verdicts.xlsx"), Some(&sup))
        .await;
    assert_eq!(x.status, StatusCode::OK);
    let dir = app.web.job(job).await.unwrap().unwrap().out_dir();
    let engine = std::fs::read(dir.join("verdicts.xlsx")).unwrap();
    assert_ne!(x.bytes, engine);
    let (sheets, kasus) = sheet_of(&x.bytes, "Kasus");
    let (engine_sheets, _) = sheet_of(&engine, "Kasus");
    assert_eq!(sheets[..sheets.len() - 1], engine_sheets[..]);
    assert_eq!(sheets.last().unwrap(), "Kasus");
    assert_eq!(kasus.len(), 2, "{kasus:?}");
    assert_eq!(kasus[0][3], "Hasil cek lapangan");
    assert_eq!(kasus[1][3], "Tetap (layak setelah cek lapangan)");
    assert_eq!(kasus[1][4], "Surat keterangan domisili masih berlaku");
    assert_eq!(kasus[1][5], "pengawas");
    assert_eq!(
        sheet_of(&x.bytes, "Hasil").1,
        sheet_of(&engine, "Hasil").1,
        "the results sheet is the run's"
    );
    assert_no_formulas(&x.bytes);
    // The CSV gets the case columns, filled on the case's row only.
    let c = app
        .get(&format!("/validasi/{job}/unduh/verdicts.csv"), Some(&sup))
        .await;
    let text = String::from_utf8(c.bytes).unwrap();
    let mut rd = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = rd.headers().unwrap().clone();
    let col = header
        .iter()
        .position(|h| h == "Hasil cek lapangan")
        .unwrap();
    let outcomes: Vec<String> = rd
        .records()
        .map(|r| r.unwrap().get(col).unwrap().to_string())
        .collect();
    assert_eq!(
        outcomes[(seq - 1) as usize],
        "Tetap (layak setelah cek lapangan)"
    );
    assert_eq!(outcomes.iter().filter(|o| !o.is_empty()).count(), 1);
    // A row that is not TINJAU is no case.
    let layak = app.row_with_verdict(job, "LAYAK", None).await;
    let op = app.operator_of_row(job, layak).await;
    let r = app
        .post_multipart(
            &format!("/kasus/{job}/{layak}"),
            &op,
            &[("hasil", "tetap")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_are_shown_escaped_and_exported_neutralised() {
    let app = App::start().await;
    let sup = app.login("pengawas").await;
    let hostile = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "=HYPERLINK(\"http://contoh.invalid\",\"klik\")",
        "+6281234",
        "-1+2",
        "@SUM(A1:A2)",
    ];
    let job = app
        .validate(&sup, "PKH", roster_with_names("PKH", &hostile))
        .await;
    let all = app.get(&format!("/validasi/{job}/hasil"), Some(&sup)).await;
    assert!(!all.body.contains("<script>alert"), "escaped");
    assert!(!all.body.contains("<img src=x"), "escaped");
    let shown = all
        .body
        .find("alert(1)")
        .map(|i| &all.body[i.saturating_sub(40)..i + 40]);
    assert!(
        all.body.contains("&#60;script&#62;alert(1)&#60;"),
        "{shown:?}"
    );
    // Every row's page too.
    for seq in 1..=hostile.len() as i64 {
        let r = app
            .get(&format!("/validasi/{job}/baris/{seq}"), Some(&sup))
            .await;
        assert!(!r.body.contains("<script>alert") && !r.body.contains("<img src=x"));
    }
    // The CSV export neutralises formulas; the XLSX holds them as text cells, never formulas.
    let csv = app
        .get(&format!("/validasi/{job}/unduh/verdicts.csv"), Some(&sup))
        .await;
    let text = String::from_utf8(csv.bytes.clone()).unwrap();
    for h in &hostile[2..] {
        assert!(!text.contains(&format!(";{h}")), "{h} neutralised in CSV");
        assert!(
            !text.contains(&format!(";\"{}", h.replace('"', "\"\""))),
            "{h}"
        );
    }
    assert!(text.contains("'=HYPERLINK"));
    let xlsx = app
        .get(&format!("/validasi/{job}/unduh/verdicts.xlsx"), Some(&sup))
        .await;
    assert_no_formulas(&xlsx.bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_marks_running_jobs_failed_with_the_reason() {
    let app = App::start().await;
    let op = app.login("operator").await;
    let id = app.insert_running_job(&op).await;
    // The node restarts: a new web application over the same databases.
    let app2 = app.restart().await;
    let j = app2.web.job(id).await.unwrap().unwrap();
    assert_eq!(j.status, "failed");
    let op = app2.login("operator").await;
    let r = app2.get(&format!("/validasi/{id}"), Some(&op)).await;
    assert!(
        r.body.contains("Node dihentikan saat validasi berjalan"),
        "{}",
        r.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_one_at_a_time_in_order() {
    let app = App::start().await;
    let op = app.login("operator").await;
    let a = app
        .upload(&op, "BPNT", "BPNT.xlsx", world_roster("BPNT"))
        .await;
    let b = app
        .upload(&op, "PKH", "PKH.xlsx", world_roster("PKH"))
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(b.status, StatusCode::SEE_OTHER);
    let (ja, jb) = (job_id(&a), job_id(&b));
    app.wait_done(jb).await;
    let (x, y) = (
        app.web.job(ja).await.unwrap().unwrap(),
        app.web.job(jb).await.unwrap().unwrap(),
    );
    assert_eq!((x.status.as_str(), y.status.as_str()), ("done", "done"));
    assert!(x.finished_at.unwrap() <= y.finished_at.unwrap());
    // Beranda shows the latest list's counts.
    let r = app.get("/", Some(&op)).await;
    assert!(
        r.body.contains("PKH · PKH.xlsx"),
        "the latest list: {}",
        r.body
    );
    assert!(r.body.contains("<svg"));
    // The supervisor's beranda: provinces, then a province's kabupaten/kota; the registries
    // behind the verdicts with their versions.
    let sup = app.login("pengawas").await;
    let r = app.get("/", Some(&sup)).await;
    assert!(r.body.contains("Per provinsi"));
    assert!(r.body.contains("dukcapil-penduduk") && r.body.contains("dtsen"));
    let prov = &region()[..2];
    assert!(r.body.contains(&format!("/?provinsi={prov}")));
    let r = app.get(&format!("/?provinsi={prov}"), Some(&sup)).await;
    assert!(r.body.contains("Per kabupaten/kota"));
    // An operator's breakdown is their own regency only.
    let r = app.get("/", Some(&op)).await;
    assert_eq!(r.body.matches("/?provinsi=").count(), 1, "one province");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_list_gives_the_verdicts_its_workbook_gives() {
    let app = App::start().await;
    let sup = app.login("pengawas").await;
    let x = app.validate(&sup, "PKH", world_roster("PKH")).await;
    let c = app.validate(&sup, "PKH", roster_csv("PKH")).await;
    let a = &app;
    let verdicts = |job: i64| async move {
        sqlx::query_scalar::<_, String>(
            "SELECT row_id || ' ' || verdict || ' ' || codes FROM web_result WHERE job_id = $1 ORDER BY seq",
        )
        .bind(job)
        .fetch_all(a.web.db.pool())
        .await
        .unwrap()
    };
    let (vx, vc) = (verdicts(x).await, verdicts(c).await);
    assert!(!vx.is_empty());
    assert_eq!(vx, vc);
}
