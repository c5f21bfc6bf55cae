//! `sinergi serve`: runs an exchange node (crates/server) until Ctrl-C or SIGTERM, then
//! drains in-flight requests and the audit writer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sinergi_server::NodeConfig;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Konfigurasi node (TOML, lihat config/node.example.toml); bawaan: konfigurasi demo
    /// tertanam dengan semua instansi dalam satu proses.
    #[arg(long)]
    pub config: Option<PathBuf>,
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
        Some(p) => NodeConfig::load(p)
            .map_err(|e| anyhow::anyhow!("Konfigurasi node tidak dapat dipakai: {e}")),
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
    // Bind first (through spawn) so the address printed is the one really listened on.
    let running = sinergi_server::spawn(config)
        .await
        .map_err(|e| anyhow::anyhow!("Node {node} tidak dapat dijalankan di {listen}: {e}"))?;
    println!("Node {node} mendengarkan di http://{}", running.addr);
    println!("Log audit: {audit}");
    if let Some(ex) = example {
        println!("{ex}");
    }
    println!("Tekan Ctrl-C (atau kirim SIGTERM) untuk berhenti; permintaan yang sedang berjalan");
    println!("diselesaikan dan setiap entri audit ditulis sebelum node berhenti.");
    shutdown_signal().await;
    println!("Menghentikan node...");
    running
        .stop()
        .await
        .map_err(|e| anyhow::anyhow!("Node berhenti dengan galat: {e}"))?;
    println!("Node berhenti; log audit lengkap.");
    Ok(ExitCode::SUCCESS)
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
