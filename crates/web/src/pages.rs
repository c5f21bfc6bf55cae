//! Login, logout, the language switch, beranda, the stylesheet and error pages.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sinergi_model::Lang;

use crate::audit::Event;
use crate::{Page, Rendered, Session, Web, auth, cookie, lang_of};

/// The language switch's cookie.
pub const LANG_COOKIE: &str = "sinergi_bahasa";
/// The login form's CSRF cookie (double submit: there is no session yet).
const LOGIN_CSRF_COOKIE: &str = "sinergi_masuk";

/// Percent-encodes a value for a query string.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where to go back to after login or a language switch: a path of this site only.
fn local_path(p: Option<&str>) -> String {
    match p {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.into(),
        _ => "/".into(),
    }
}

fn set_cookie(web: &Web, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if web.secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or(HeaderValue::from_static("x=; Max-Age=0"))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTpl {
    p: Page,
    message: String,
}

/// An error page with a message for people.
pub fn error_page(lang: Lang, status: StatusCode, message: &str) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => lang.pick("Tidak ditemukan", "Not found"),
        StatusCode::FORBIDDEN => lang.pick("Tidak diizinkan", "Not allowed"),
        StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE => lang.pick(
            "Permintaan tidak dapat diproses",
            "The request cannot be processed",
        ),
        _ => lang.pick("Terjadi masalah", "Something went wrong"),
    };
    Rendered(
        status,
        ErrorTpl {
            p: Page {
                lang,
                title: title.into(),
                user: None,
                csrf: String::new(),
                here: "/".into(),
            },
            message: message.into(),
        },
    )
    .into_response()
}

/// The same, inside a signed-in user's layout.
pub fn error_for(s: &Session, status: StatusCode, message: &str) -> Response {
    let mut r = error_page(s.lang, status, message);
    // Re-render with the user's navigation.
    let title = match status {
        StatusCode::NOT_FOUND => s.lang.pick("Tidak ditemukan", "Not found"),
        StatusCode::FORBIDDEN => s.lang.pick("Tidak diizinkan", "Not allowed"),
        _ => s.lang.pick("Terjadi masalah", "Something went wrong"),
    };
    if let Ok(html) = (ErrorTpl {
        p: s.page(title),
        message: message.into(),
    })
    .render()
    {
        r = (status, axum::response::Html(html)).into_response();
    }
    r
}

/// The message of a refused CSRF check.
pub fn csrf_message(lang: Lang) -> &'static str {
    lang.pick(
        "Formulir ini kedaluwarsa atau tidak berasal dari halaman Sinergi. Muat ulang halaman lalu kirim lagi.",
        "This form has expired or did not come from a Sinergi page. Reload the page and submit again.",
    )
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTpl {
    p: Page,
    back: String,
    username: String,
    error: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    kembali: Option<String>,
}

fn login_page(
    web: &Web,
    lang: Lang,
    status: StatusCode,
    back: String,
    username: String,
    error: String,
) -> Response {
    let csrf = auth::random_token();
    let mut r = Rendered(
        status,
        LoginTpl {
            p: Page {
                lang,
                title: lang.pick("Masuk", "Log in").into(),
                user: None,
                csrf: csrf.clone(),
                here: "/masuk".into(),
            },
            back,
            username,
            error,
        },
    )
    .into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(web, LOGIN_CSRF_COOKIE, &csrf, Some(3600)),
    );
    r
}

pub async fn login_form(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let lang = lang_of(&web, &headers);
    login_page(
        &web,
        lang,
        StatusCode::OK,
        local_path(q.kembali.as_deref()),
        String::new(),
        String::new(),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    kembali: String,
}

pub async fn login(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&web, &headers);
    let back = local_path(Some(&f.kembali));
    let name = f.username.trim().to_ascii_lowercase();
    let body = format!("username={name}");
    let ev = |action: &'static str, decision: &'static str, status: u16, issue: &str| Event {
        user: "",
        role: "anonim",
        action,
        decision,
        status,
        issue: issue.to_string(),
        nik: None,
        method: "POST",
        path: "/masuk",
        body: b"",
    };
    let csrf_ok = cookie(&headers, LOGIN_CSRF_COOKIE)
        .is_some_and(|c| !f.csrf.is_empty() && crate::subtle_eq(c.as_bytes(), f.csrf.as_bytes()));
    if !csrf_ok {
        let _ = web
            .audit(Event {
                user: &name,
                ..ev("masuk", "WEB_CSRF", 403, "")
            })
            .await;
        return login_page(
            &web,
            lang,
            StatusCode::FORBIDDEN,
            back,
            name,
            csrf_message(lang).into(),
        );
    }
    let now = crate::now_us();
    if web.throttle.locked(&name, now) {
        let _ = web
            .audit(Event {
                user: &name,
                body: body.as_bytes(),
                ..ev("masuk-gagal", "WEB_LOGIN_LOCKED", 429, "")
            })
            .await;
        return login_page(
            &web,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            back,
            name,
            lang.pick(
                "Terlalu banyak percobaan masuk yang gagal untuk nama ini. Tunggu 15 menit lalu coba lagi, atau minta pengelola untuk memeriksa akun Anda.",
                "Too many failed logins for this name. Wait 15 minutes and try again, or ask an administrator to check your account.",
            )
            .into(),
        );
    }
    let Some(user) = web.db.check_login(&name, &f.password).await else {
        let locked = web.throttle.fail(&name, now);
        let _ = web
            .audit(Event {
                user: &name,
                body: body.as_bytes(),
                ..ev(
                    "masuk-gagal",
                    "WEB_LOGIN_FAILED",
                    401,
                    if locked { "locked" } else { "" },
                )
            })
            .await;
        return login_page(
            &web,
            lang,
            StatusCode::UNAUTHORIZED,
            back,
            name,
            lang.pick(
                "Nama pengguna atau kata sandi salah (atau akun tidak aktif).",
                "Wrong user name or password (or the account is not active).",
            )
            .into(),
        );
    };
    web.throttle.succeed(&name);
    if let Err(e) = web
        .audit(Event {
            user: &user.username,
            role: user.role.code(),
            body: body.as_bytes(),
            ..ev("masuk", "ALLOWED", 303, "")
        })
        .await
    {
        tracing::error!(error = %e, "login not audited");
        return error_page(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            lang.pick(
                "Log audit tidak tersedia; tidak ada yang diubah. Coba lagi sebentar lagi.",
                "The audit log is unavailable; nothing was changed. Try again shortly.",
            ),
        );
    }
    let (token, _) = match web.db.start_session(&user).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "session not started");
            return error_page(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                lang.pick(
                    "Sesi tidak dapat dimulai. Coba lagi.",
                    "The session cannot be started. Try again.",
                ),
            );
        }
    };
    let mut r = Redirect::to(&back).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&web, auth::SESSION_COOKIE, &token, None),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&web, LOGIN_CSRF_COOKIE, "", Some(0)),
    );
    r
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    s: Session,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        let _ = web
            .audit(Event {
                user: &s.user.username,
                role: s.user.role.code(),
                action: "keluar",
                decision: "WEB_CSRF",
                status: 403,
                issue: String::new(),
                nik: None,
                method: "POST",
                path: "/keluar",
                body: b"",
            })
            .await;
        return error_for(&s, StatusCode::FORBIDDEN, csrf_message(s.lang));
    }
    if let Some(token) = cookie(&headers, auth::SESSION_COOKIE) {
        let _ = web.db.end_session(token).await;
    }
    let _ = web
        .audit(Event {
            user: &s.user.username,
            role: s.user.role.code(),
            action: "keluar",
            decision: "ALLOWED",
            status: 303,
            issue: String::new(),
            nik: None,
            method: "POST",
            path: "/keluar",
            body: b"",
        })
        .await;
    let mut r = Redirect::to("/masuk").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&web, auth::SESSION_COOKIE, "", Some(0)),
    );
    r
}

#[derive(Deserialize)]
pub struct LangQuery {
    ke: Option<String>,
    kembali: Option<String>,
}

/// `GET /bahasa?ke=en&kembali=/path`: remembers the language in a cookie and goes back.
pub async fn language(State(web): State<Arc<Web>>, Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::from_setting(q.ke.as_deref());
    let mut r = Redirect::to(&local_path(q.kembali.as_deref())).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&web, LANG_COOKIE, lang.code(), Some(365 * 24 * 3600)),
    );
    r
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/gaya.css"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "beranda.html")]
struct BerandaTpl {
    p: Page,
    board: crate::beranda::Board,
}

#[derive(Deserialize)]
pub struct BerandaQuery {
    provinsi: Option<String>,
}

pub async fn beranda(
    State(web): State<Arc<Web>>,
    s: Session,
    Query(q): Query<BerandaQuery>,
) -> Response {
    let board = match crate::beranda::board(&web, &s, q.provinsi.as_deref()).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    Rendered(
        StatusCode::OK,
        BerandaTpl {
            p: s.page(s.lang.pick("Beranda", "Home")),
            board,
        },
    )
    .into_response()
}
