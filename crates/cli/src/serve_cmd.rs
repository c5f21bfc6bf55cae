//! `sinergi serve`: runs an exchange node (crates/server) until Ctrl-C or SIGTERM, then
//! drains in-flight requests and the audit writer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sinergi_server::NodeConfig;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Konfigurasi node (TOML, lihat config/node.example.toml); bawaan: konfigurasi demo
    /// tertanam dengan semua instansi dalam satu proses.
    /// [en] Node configuration (TOML, see config/node.example.toml); default: the embedded
    /// demo configuration with every agency in one process.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub db: crate::DbArgs,
}

pub async fn run(db: Option<&str>, args: Args) -> anyhow::Result<ExitCode> {
    let mut config = load_config(args.config.as_deref())?;
    if config.database_url.is_none()
        && let Some(db) = db
    {
        config.database_url = Some(store_url(db));
    }
    serve(config, None).await
}

/// The node configuration from `--config`, or the embedded default; errors name the file
/// and, for TOML errors, the line.
pub fn load_config(path: Option<&Path>) -> anyhow::Result<NodeConfig> {
    match path {
        Some(p) => NodeConfig::load(p).map_err(|e| {
            anyhow::anyhow!(crate::tr!(
                "Konfigurasi node tidak dapat dipakai: {e}",
                "The node configuration cannot be used: {e}"
            ))
        }),
        None => Ok(NodeConfig::embedded_default()),
    }
}

/// A `--db` value as the URL the node's store expects.
pub fn store_url(db: &str) -> String {
    if db.contains("://") || db.starts_with("sqlite:") {
        db.to_string()
    } else {
        format!("sqlite://{db}")
    }
}

/// Runs a node until Ctrl-C / SIGTERM; `example` is printed after the address (how to call it).
pub async fn serve(config: NodeConfig, example: Option<String>) -> anyhow::Result<ExitCode> {
    let listen = config.listen;
    let node = config.node_name.clone();
    let audit = config.audit_url();
    let web = web_routes(&config)?;
    // Bind first (through spawn) so the address printed is the one really listened on.
    let running = sinergi_server::spawn_with(config, Some(web))
        .await
        .map_err(|e| {
            anyhow::anyhow!(crate::tr!(
                "Node {node} tidak dapat dijalankan di {listen}: {e}",
                "Node {node} cannot run on {listen}: {e}"
            ))
        })?;
    println!(
        "{}",
        crate::tr!(
            "Node {node} mendengarkan di {}",
            "Node {node} listening on {}",
            running.url()
        )
    );
    println!("{}", crate::tr!("Log audit: {audit}", "Audit log: {audit}"));
    if running.state.store.is_some() {
        println!(
            "{}",
            crate::tr!(
                "Aplikasi web petugas: {}/ (akun: `sinergi pengguna tambah`)",
                "Officers' web application: {}/ (accounts: `sinergi pengguna tambah`)",
                running.url()
            )
        );
    }
    if let Some(ex) = example {
        println!("{ex}");
    }
    println!(
        "{}",
        crate::tr!(
            "Tekan Ctrl-C (atau kirim SIGTERM) untuk berhenti; permintaan yang sedang berjalan\n\
             diselesaikan dan setiap entri audit ditulis sebelum node berhenti.",
            "Press Ctrl-C (or send SIGTERM) to stop; requests in flight are finished and every\n\
             audit entry is written before the node stops."
        )
    );
    shutdown_signal().await;
    println!(
        "{}",
        crate::tr!("Menghentikan node...", "Stopping the node...")
    );
    running.stop().await.map_err(|e| {
        anyhow::anyhow!(crate::tr!(
            "Node berhenti dengan galat: {e}",
            "The node stopped with an error: {e}"
        ))
    })?;
    println!(
        "{}",
        crate::tr!(
            "Node berhenti; log audit lengkap.",
            "Node stopped; the audit log is complete."
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// The officers' web application (crates/web) mounted beside the node's routes, with the
/// CLI's shipped programmes and roster mapping; none on a node without a store.
fn web_routes(config: &NodeConfig) -> anyhow::Result<sinergi_server::ExtraRoutes> {
    let opts = sinergi_web::WebOptions {
        programs: crate::builtin::programs(None)?,
        roster_mapping: crate::load::resolve_mapping("roster", None)?,
        lang: crate::lang::lang(),
        work_dir: config.data_dir.join("web"),
        database_url: None,
        max_upload_bytes: sinergi_web::MAX_UPLOAD_BYTES,
    };
    Ok(Box::new(move |state| {
        Box::pin(async move { sinergi_web::mount_if_store(state, opts).await })
    }))
}

/// Completes on Ctrl-C, or SIGTERM on Unix.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// The Kemensos application the demo token stands for (inside Kemensos, so a token suffices).
const DEMO_CLIENT: &str = "ID/GOV/KEMENSOS/APLIKASI";

/// `sinergi demo --serve`: the embedded-default node over the demo's database, with a fresh
/// API token (shown once) for a Kemensos application and a demo agreement letting it call
/// `validasi-penerima` and `validasi-penerima-batch`; `penduduk` (Dukcapil's file) supplies the NIK of the example request.
pub async fn serve_demo(
    db: Option<&str>,
    penduduk: &Path,
    pkh_summary: &Path,
) -> anyhow::Result<ExitCode> {
    let token = sinergi_exchange::token::generate_token().map_err(|e| {
        anyhow::anyhow!(crate::tr!(
            "Token demo tidak dapat dibuat: {e}",
            "The demo token cannot be made: {e}"
        ))
    })?;
    let hash = sinergi_server::config::token_hash_hex(&token.hash);
    let extra = format!(
        r#"
[[tokens]]
hash = "{hash}"
client = "{DEMO_CLIENT}"
label = "token demo (sinergi demo --serve)"

[[agreements]]
id = "PKS-KEMENSOS-APLIKASI-DEMO"
provider = "ID/GOV/KEMENSOS/BANSOS"
consumer = "{DEMO_CLIENT}"
services = [
  {{ service_code = "validasi-penerima", fields = [] }},
  {{ service_code = "validasi-penerima-batch", fields = [] }},
]
purposes = ["VALIDASI_BANSOS"]
legal_basis = "demo"
region_scope = "national"
valid_from = 1735664400000000
valid_until = 1924966800000000
quota = {{ per_second = 5000, per_day = 50000000 }}
status_history = []
"#
    );
    let text = format!("{}{extra}", sinergi_server::config::EMBEDDED_DEFAULT);
    let mut config = NodeConfig::parse("embedded default (demo)", &text).map_err(|e| {
        anyhow::anyhow!(crate::tr!(
            "Konfigurasi demo tidak sah: {e}",
            "The demo configuration is invalid: {e}"
        ))
    })?;
    config.database_url = Some(store_url(db.unwrap_or(sinergi_store::DEFAULT_SQLITE_PATH)));
    let nik = first_nik(penduduk).unwrap_or_else(|| "3301015505900001".into());
    let lang = crate::lang::lang();
    let (t_token, t_example, t_list, t_who) = (
        lang.pick(
            "Token API demo (hanya ditampilkan sekali)",
            "Demo API token (shown only once)",
        ),
        lang.pick(
            "Contoh permintaan (validasi penerima PKH oleh aplikasi Kemensos)",
            "Example request (PKH recipient validation by a Kemensos application)",
        ),
        lang.pick(
            "Daftar penerima (NDJSON, satu penerima per baris; jawaban per baris dengan nomor baris)",
            "A recipient list (NDJSON, one recipient per line; one answer per line with its line number)",
        ),
        lang.pick("Siapa mengakses NIK itu", "Who accessed that NIK"),
    );
    let example = format!(
        "{t_token}: {tok}\n\
         {t_example}:\n  \
         curl -s -X POST http://{addr}/r1/ID/GOV/KEMENSOS/BANSOS/validasi-penerima \\\n    \
         -H 'X-Road-Client: {DEMO_CLIENT}' \\\n    \
         -H 'Authorization: Bearer {tok}' \\\n    \
         -H 'X-Sinergi-Purpose: VALIDASI_BANSOS' -H 'Content-Type: application/json' \\\n    \
         -d '{{\"nik\":\"{nik}\",\"program\":\"PKH\"}}'\n\
         {t_list}:\n  \
         printf '%s\\n' '{{\"nik\":\"{nik}\"}}' '{{\"nik\":\"{nik}\"}}' | \\\n    \
         curl -s -X POST 'http://{addr}/r1/ID/GOV/KEMENSOS/BANSOS/validasi-penerima-batch?program=PKH' \\\n    \
         -H 'X-Road-Client: {DEMO_CLIENT}' -H 'Authorization: Bearer {tok}' \\\n    \
         -H 'X-Sinergi-Purpose: VALIDASI_BANSOS' -H 'Content-Type: application/x-ndjson' --data-binary @-\n\
         {t_who}: sinergi audit who-accessed {nik}",
        tok = token.plaintext,
        addr = config.listen,
    );
    let accounts = demo_accounts(&config, pkh_summary).await?;
    println!();
    serve(config, Some(format!("{example}\n{accounts}"))).await
}

/// The demo's password for its web accounts (the demo serves 127.0.0.1 only).
const DEMO_PASSWORD: &str = "sinergi-demo";

/// Creates the demo's web accounts when absent (an operator of the busiest
/// kabupaten/kota, a supervisor, an auditor, a data steward) and says how to log in.
async fn demo_accounts(config: &NodeConfig, summary: &Path) -> anyhow::Result<String> {
    use sinergi_web::auth::{NewUser, Role};
    let region = busiest_regency(summary).unwrap_or_else(|| "3301".into());
    let node = crate::pengguna_cmd::open_node(config.clone()).await?;
    let lang = crate::lang::lang();
    let mut lines = vec![
        lang.pick(
            "Akun demo aplikasi web (kata sandi semuanya",
            "Demo accounts of the web application (every password",
        )
        .to_string()
            + &format!(" {DEMO_PASSWORD}):"),
    ];
    for (name, role, region) in [
        ("operator", Role::Operator, Some(region.clone())),
        ("pengawas", Role::Pengawas, None),
        ("auditor", Role::Auditor, None),
        ("pengelola", Role::PengelolaData, None),
    ] {
        if node.db.user_by_name(name).await.ok().flatten().is_none() {
            crate::pengguna_cmd::add(
                &node,
                &NewUser {
                    username: name.into(),
                    display_name: String::new(),
                    role,
                    region: region.clone(),
                    password: DEMO_PASSWORD.into(),
                },
                "sinergi demo",
            )
            .await?;
        }
        lines.push(format!(
            "  {name:<10} {}{}",
            role.label(lang),
            region
                .as_deref()
                .map(|r| format!(
                    " ({})",
                    sinergi_web::region::regency_name(r).unwrap_or_default()
                ))
                .unwrap_or_default()
        ));
    }
    node.db.close().await;
    Ok(lines.join("\n"))
}

/// The kabupaten/kota of the demo's PKH list with the most rows to review (then the most
/// rows), from the run's `summary.json`, so the demo operator has cases to work on.
fn busiest_regency(summary: &Path) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(summary).ok()?).ok()?;
    let by = v.get("by_regency")?.as_object()?;
    let n = |t: &serde_json::Value, k: &str| t.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
    by.iter()
        .max_by_key(|(code, t)| {
            (
                n(t, "tinjau"),
                n(t, "rows"),
                std::cmp::Reverse(code.to_string()),
            )
        })
        .map(|(code, _)| code.replace('.', ""))
        .filter(|c| sinergi_web::region::regency_name(c).is_some())
}

/// The first NIK of Dukcapil's `penduduk.csv` (pipe-separated, NIK first).
fn first_nik(path: &Path) -> Option<String> {
    use std::io::BufRead as _;
    let f = std::fs::File::open(path).ok()?;
    let line = std::io::BufReader::new(f).lines().nth(1)?.ok()?;
    let nik = line.split('|').next()?.trim().to_string();
    (nik.len() == 16 && nik.bytes().all(|b| b.is_ascii_digit())).then_some(nik)
}
