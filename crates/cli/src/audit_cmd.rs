//! `sinergi audit`: checks a node's hash-chained audit log against its signed checkpoints,
//! and answers "who accessed NIK X" (UU PDP art. 32) from the keyed subject hashes. Reads the
//! node's audit database and key files directly, so it works while the node is stopped.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine as _;
use sinergi_exchange::audit::{AuditEntry, NodeSecret, Problem, ProblemKind};
use sinergi_exchange::{SigningKey, VerifyingKey};
use sinergi_server::NodeConfig;
use sinergi_server::audit_sql::Db;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Periksa rantai hash log audit dan checkpoint bertanda tangan. Status keluar 0 bila
    /// utuh, 1 bila ada perubahan.
    /// [en] Verify the audit log's hash chain and signed checkpoints. Exit status 0 when intact,
    /// 1 when anything changed.
    Verify(VerifyArgs),
    /// Siapa yang mengakses data NIK ini (UU PDP pasal 32).
    /// [en] Who accessed this NIK's data (UU PDP art. 32).
    WhoAccessed(WhoArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Konfigurasi node (TOML); bawaan: konfigurasi demo tertanam.
    /// [en] Node configuration (TOML); default: the embedded demo configuration.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Cetak laporan sebagai JSON. [en] Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct WhoArgs {
    /// NIK yang ditanyakan (16 angka). [en] The NIK asked about (16 digits).
    pub nik: String,
    /// Konfigurasi node (TOML); bawaan: konfigurasi demo tertanam.
    /// [en] Node configuration (TOML); default: the embedded demo configuration.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Cetak sebagai JSON. [en] Print as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        AuditCommand::Verify(a) => verify(a).await,
        AuditCommand::WhoAccessed(a) => who_accessed(a).await,
    }
}

/// Entries are read in pages of this many.
const PAGE: usize = 10_000;

async fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let config = crate::serve_cmd::load_config(args.config.as_deref())?;
    let db = open_audit(&config).await?;
    let key = node_key(&config)?;
    let checkpoints = db.checkpoints().await?;
    let mut entries: Vec<AuditEntry> = Vec::new();
    let mut from = 1;
    loop {
        let page = db.read_range(from, PAGE).await?;
        let Some(last) = page.last() else { break };
        from = last.seq + 1;
        entries.extend(page);
    }
    db.close().await;
    let cps = checkpoints.clone();
    let report = tokio::task::spawn_blocking(move || {
        sinergi_exchange::audit::verify(entries.iter(), &cps, &key)
    })
    .await?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("Log audit: {}", config.audit_url());
        println!(
            "Entri diperiksa: {} (seq terakhir {})",
            report.entries, report.last_seq
        );
        println!(
            "Checkpoint terverifikasi: {} dari {}",
            report.checkpoints_verified,
            checkpoints.len()
        );
        if report.ok {
            println!("UTUH: rantai hash dan semua checkpoint cocok; tidak ada entri yang diubah,");
            println!("dihapus, disisipkan atau ditukar urutannya.");
        } else {
            println!("TIDAK UTUH: log audit telah diubah.");
            if let Some(p) = &report.first_problem {
                println!("Masalah pertama: {}", describe(p));
            }
            println!("Semua masalah ({}):", report.problems.len());
            for p in &report.problems {
                println!("  - {}", describe(p));
            }
            if report.problems_truncated {
                println!("  (daftar dipotong; masih ada masalah lain)");
            }
        }
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One problem in Bahasa Indonesia, naming its seq.
fn describe(p: &Problem) -> String {
    let seq = p.seq;
    match &p.kind {
        ProblemKind::HashMismatch => {
            format!("seq {seq}: isi entri diubah (hash tersimpan tidak sesuai dengan isinya)")
        }
        ProblemKind::ChainBroken => format!(
            "seq {seq}: rantai terputus (prev_hash bukan hash entri sebelumnya: entri ini atau \
             sebelumnya diubah atau diganti)"
        ),
        ProblemKind::Missing { expected, found } => format!(
            "seq {seq}: entri {expected}..{} hilang (dihapus); berikutnya seq {found}",
            found.saturating_sub(1)
        ),
        ProblemKind::Reordered { expected, found } => {
            format!("seq {seq}: urutan ditukar (entri {found} berada di tempat entri {expected})")
        }
        ProblemKind::OutOfOrder { expected, found } => format!(
            "seq {seq}: entri {found} muncul setelah seq {} (entri disisipkan atau urutan \
             diubah; diharapkan {expected})",
            expected.saturating_sub(1)
        ),
        ProblemKind::CheckpointForged => format!(
            "seq {seq}: tanda tangan checkpoint tidak sah (checkpoint dipalsukan atau diubah)"
        ),
        ProblemKind::CheckpointMismatch { since } => format!(
            "seq {seq}: hash entri tidak sama dengan yang ditandatangani checkpoint (log ditulis \
             ulang setelah checkpoint cocok terakhir, seq {since})"
        ),
        ProblemKind::Truncated {
            checkpoint_seq,
            last_seq,
        } => format!(
            "seq {seq}: ekor log dipotong (checkpoint bertanda tangan mencakup seq \
             {checkpoint_seq}, log berakhir di seq {last_seq})"
        ),
        ProblemKind::CheckpointMissing => {
            format!("seq {seq}: tidak ada checkpoint sah yang diwajibkan di sini")
        }
        ProblemKind::Unanchored { from, to } => format!(
            "seq {seq}: entri {from}..{to} tidak dicakup checkpoint bertanda tangan node (ditulis \
             di luar node, atau hilang bersama kerusakan sebelum node sempat menandatanganinya)"
        ),
        ProblemKind::Unwitnessed { from, to } => format!(
            "seq {seq}: entri {from}..{to} tidak dicakup salinan checkpoint yang dipegang saksi"
        ),
    }
}

async fn who_accessed(args: WhoArgs) -> anyhow::Result<ExitCode> {
    let nik = args.nik.trim();
    if nik.len() != 16 || !nik.bytes().all(|b| b.is_ascii_digit()) {
        anyhow::bail!("NIK harus 16 angka: {:?}", args.nik);
    }
    let config = crate::serve_cmd::load_config(args.config.as_deref())?;
    let db = open_audit(&config).await?;
    let secret = NodeSecret::from_bytes(read_key(
        &config
            .audit_secret_file
            .clone()
            .unwrap_or_else(|| config.data_dir.join("audit-secret.key")),
        "rahasia audit node",
    )?);
    let entries = db
        .by_subject(&sinergi_exchange::who_accessed(nik, &secret))
        .await?;
    db.close().await;

    if args.json {
        let rows: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "seq": e.seq,
                    "waktu": crate::wib::from_micros(e.at.0),
                    "at_us": e.at.0,
                    "client": e.client,
                    "service": e.service,
                    "purpose": e.purpose,
                    "pks_id": e.pks_id,
                    "decision": e.decision,
                    "status": e.status,
                    "user_id": e.user_id,
                    "issue": e.issue,
                    "request_id": e.request_id,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "nik": nik, "entries": rows }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        println!("Tidak ada akses tercatat atas NIK {nik} di log audit node ini.");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} akses tercatat atas NIK {nik}:", entries.len());
    println!(
        "{:>6}  {:<23}  {:<34}  {:<60}  {:<16}  {:<30}  keputusan",
        "seq", "waktu", "klien", "layanan", "tujuan", "PKS"
    );
    for e in &entries {
        println!(
            "{:>6}  {:<23}  {:<34}  {:<60}  {:<16}  {:<30}  {}",
            e.seq,
            crate::wib::from_micros(e.at.0),
            e.client,
            e.service,
            e.purpose,
            e.pks_id.as_deref().unwrap_or("-"),
            e.decision
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the node's audit database; refuses to create an absent SQLite file.
async fn open_audit(config: &NodeConfig) -> anyhow::Result<Db> {
    let url = config.audit_url();
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        && !Path::new(path).exists()
    {
        anyhow::bail!(
            "Log audit {path} tidak ada: node ini belum pernah dijalankan dengan data_dir {} \
             (jalankan `sinergi serve` atau beri --config)",
            config.data_dir.display()
        );
    }
    Db::open(&url, false)
        .await
        .map_err(|e| anyhow::anyhow!("Log audit {url} tidak dapat dibuka: {e}"))
}

/// The public half of the node's checkpoint key.
fn node_key(config: &NodeConfig) -> anyhow::Result<VerifyingKey> {
    let path = config
        .node_key_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join("node.key"));
    let bytes = read_key(&path, "kunci checkpoint node")?;
    Ok(SigningKey::from_bytes(&bytes).verifying_key())
}

/// 32 bytes of base64 from a key file the node generated.
fn read_key(path: &Path, what: &str) -> anyhow::Result<[u8; 32]> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "Berkas {what} {} tidak dapat dibaca: {e} (node membuatnya saat pertama dijalankan)",
            path.display()
        )
    })?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| anyhow::anyhow!("Berkas {what} {}: bukan base64: {e}", path.display()))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("Berkas {what} {}: harus 32 bita", path.display()))
}
