//! `sinergi pengguna`: accounts of the web application (crates/web) — add, list, deactivate.
//! Acts on the node's web database directly (the node may be running); every change is
//! written to the node's audit log first, as `sinergi pks` does.

use std::io::BufRead as _;
use std::process::ExitCode;

use clap::Subcommand;
use sinergi_server::pks::AuditSink;
use sinergi_web::auth::{NewUser, Role};
use sinergi_web::{User, WebDb};

use crate::tr;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: PenggunaCommand,
    /// Konfigurasi node (bawaan: konfigurasi demo tertanam).
    /// [en] Node configuration (default: the embedded demo configuration).
    #[arg(long, global = true)]
    pub config: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub db: crate::DbArgs,
}

#[derive(Debug, Subcommand)]
pub enum PenggunaCommand {
    /// Tambah pengguna; kata sandi dibaca dari SINERGI_SANDI atau baris pertama masukan standar.
    /// [en] Add a user; the password is read from SINERGI_SANDI or the first line of standard
    /// input.
    Tambah(TambahArgs),
    /// Daftar pengguna. [en] List users.
    Daftar,
    /// Nonaktifkan pengguna; sesinya langsung berakhir.
    /// [en] Deactivate a user; their sessions end at once.
    Nonaktifkan(NonaktifkanArgs),
}

#[derive(Debug, clap::Args)]
pub struct TambahArgs {
    /// Nama pengguna (a–z, 0–9, '.', '-', '_'). [en] User name (a–z, 0–9, '.', '-', '_').
    pub nama: String,
    /// Peran: operator, pengawas, pengelola-data, auditor.
    /// [en] Role: operator, pengawas, pengelola-data, auditor.
    #[arg(long)]
    pub peran: String,
    /// Kode kabupaten/kota operator (4 digit, mis. 3301).
    /// [en] The operator's kabupaten/kota code (4 digits, e.g. 3301).
    #[arg(long)]
    pub wilayah: Option<String>,
    /// Nama lengkap yang ditampilkan. [en] Full name shown.
    #[arg(long, default_value = "")]
    pub nama_lengkap: String,
    /// Siapa yang menambahkan (dicatat di log audit).
    /// [en] Who adds the user (written to the audit log).
    #[arg(long, default_value = "admin:cli")]
    pub oleh: String,
}

#[derive(Debug, clap::Args)]
pub struct NonaktifkanArgs {
    /// Nama pengguna. [en] User name.
    pub nama: String,
    /// Siapa yang menonaktifkan (dicatat di log audit).
    /// [en] Who deactivates the user (written to the audit log).
    #[arg(long, default_value = "admin:cli")]
    pub oleh: String,
}

/// The node's configuration (with `--db`) and its web database.
pub struct Node {
    pub config: sinergi_server::NodeConfig,
    pub db: WebDb,
}

pub async fn open(config: Option<&std::path::Path>, db: Option<&str>) -> anyhow::Result<Node> {
    let mut config = crate::serve_cmd::load_config(config)?;
    if config.database_url.is_none()
        && let Some(db) = db
    {
        config.database_url = Some(crate::serve_cmd::store_url(db));
    }
    open_node(config).await
}

/// The web database of a node with this configuration.
pub async fn open_node(config: sinergi_server::NodeConfig) -> anyhow::Result<Node> {
    let url = sinergi_web::db::url_for(&config.store_url());
    let db = WebDb::open(&url).await.map_err(|e| {
        anyhow::anyhow!(tr!(
            "Basis data aplikasi web {url} tidak dapat dibuka: {e}",
            "The web application's database {url} cannot be opened: {e}"
        ))
    })?;
    Ok(Node { config, db })
}

/// Writes an account change to the node's audit log (before it is made).
async fn audit(n: &Node, by: &str, action: &str, user: &str) -> anyhow::Result<()> {
    let key = n.config.node_key().map_err(|e| {
        anyhow::anyhow!(tr!(
            "Kunci checkpoint node tidak dapat dibaca: {e}",
            "The node's checkpoint key cannot be read: {e}"
        ))
    })?;
    let sink = AuditSink::Direct {
        url: n.config.audit_url(),
        node: n.config.node_name.clone(),
        key: Box::new(key),
    };
    let rec = sinergi_exchange::AuditRecord {
        at: sinergi_server::now(),
        node: n.config.node_name.clone(),
        request_id: format!("pengguna-{}", sinergi_server::now().0),
        client: "admin:cli".into(),
        service: format!("web/pengguna/{action}"),
        purpose: String::new(),
        pks_id: None,
        user_id: by.into(),
        issue: user.into(),
        decision: "ALLOWED".into(),
        clause: "admin#pengguna".into(),
        subject_hash: None,
        status: 200,
        latency_us: 0,
        request_hash: sinergi_exchange::audit::request_hash("CLI", action, user.as_bytes()),
    };
    sink.append(rec).await.map(|_| ()).map_err(|e| {
        anyhow::anyhow!(tr!(
            "Log audit tidak tersedia; tidak ada yang diubah: {e}",
            "The audit log is unavailable; nothing was changed: {e}"
        ))
    })
}

/// Adds an account (audited first).
pub async fn add(n: &Node, u: &NewUser, by: &str) -> anyhow::Result<User> {
    let lang = crate::lang::lang();
    if let Ok(Some(_)) = n.db.user_by_name(&u.username).await {
        anyhow::bail!(sinergi_web::auth::AccountError::Exists(u.username.clone()).message(lang));
    }
    audit(n, by, "tambah", &u.username).await?;
    n.db.add_user(u)
        .await
        .map_err(|e| anyhow::anyhow!(e.message(lang)))
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("SINERGI_SANDI") {
        return Ok(p);
    }
    eprintln!(
        "{}",
        tr!(
            "Ketik kata sandi (minimal 10 karakter) lalu Enter:",
            "Type the password (at least 10 characters) and press Enter:"
        )
    );
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let n = open(args.config.as_deref(), args.db.db.as_deref()).await?;
    let lang = crate::lang::lang();
    match args.command {
        PenggunaCommand::Tambah(a) => {
            let role = Role::parse(&a.peran).ok_or_else(|| {
                anyhow::anyhow!(tr!(
                    "Peran {} tidak dikenal; pilih operator, pengawas, pengelola-data atau auditor",
                    "Unknown role {}; choose operator, pengawas, pengelola-data or auditor",
                    a.peran
                ))
            })?;
            let password = read_password()?;
            let u = add(
                &n,
                &NewUser {
                    username: a.nama,
                    display_name: a.nama_lengkap,
                    role,
                    region: a.wilayah,
                    password,
                },
                &a.oleh,
            )
            .await?;
            println!(
                "{}",
                tr!(
                    "Pengguna {} ditambahkan ({}).",
                    "User {} added ({}).",
                    u.username,
                    u.role.label(lang)
                )
            );
        }
        PenggunaCommand::Daftar => {
            let users =
                n.db.users()
                    .await
                    .map_err(|e| anyhow::anyhow!(e.message(lang)))?;
            if users.is_empty() {
                println!(
                    "{}",
                    tr!(
                        "Belum ada pengguna; tambahkan dengan `sinergi pengguna tambah`.",
                        "No users yet; add one with `sinergi pengguna tambah`."
                    )
                );
            }
            for u in users {
                println!(
                    "{:<24} {:<16} {:<6} {}",
                    u.username,
                    u.role.code(),
                    u.region.as_deref().unwrap_or("-"),
                    if u.active {
                        tr!("aktif", "active")
                    } else {
                        tr!("nonaktif", "deactivated")
                    }
                );
            }
        }
        PenggunaCommand::Nonaktifkan(a) => {
            if n.db
                .user_by_name(&a.nama)
                .await
                .map_err(|e| anyhow::anyhow!(e.message(lang)))?
                .is_none()
            {
                anyhow::bail!(sinergi_web::auth::AccountError::NotFound(a.nama).message(lang));
            }
            audit(&n, &a.oleh, "nonaktifkan", &a.nama).await?;
            let u =
                n.db.deactivate(&a.nama)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.message(lang)))?;
            println!(
                "{}",
                tr!(
                    "Pengguna {} dinonaktifkan; sesinya berakhir.",
                    "User {} deactivated; their sessions have ended.",
                    u.username
                )
            );
        }
    }
    n.db.close().await;
    Ok(ExitCode::SUCCESS)
}
