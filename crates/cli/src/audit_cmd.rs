//! `sinergi audit`: checks a node's hash-chained audit log against its signed checkpoints and
//! the copies its witnesses hold, and answers "who accessed NIK X" (UU PDP art. 32) from the
//! keyed subject hashes. Reads the node's audit database and key files directly, so it works
//! while the node is stopped; when it runs, it first asks it for a fresh checkpoint.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine as _;
use sinergi_exchange::audit::{AuditEntry, NodeSecret, Problem, ProblemKind, VerifyOptions};
use sinergi_exchange::{SigningKey, VerifyingKey};
use sinergi_server::NodeConfig;
use sinergi_server::audit_sql::Db;
use sinergi_server::operator::Operator;

use crate::tr;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Periksa rantai hash log audit dan checkpoint bertanda tangan, terhadap salinan saksi.
    /// Status keluar 0 bila utuh, 1 bila ada perubahan, 3 bila saksi tidak dapat ditanya.
    /// [en] Verify the audit log's hash chain and signed checkpoints, against the witnesses'
    /// copies. Exit status 0 when intact, 1 when anything changed, 3 when a witness could not
    /// be asked.
    Verify(VerifyArgs),
    /// Siapa yang mengakses data NIK ini (UU PDP pasal 32).
    /// [en] Who accessed this NIK's data (UU PDP art. 32).
    WhoAccessed(WhoArgs),
    /// Cetak kunci publik node (checkpoint) dan anggotanya, untuk konfigurasi saksi dan
    /// peer di node lain.
    /// [en] Print the node's (checkpoint) and its members' public keys, to configure witnesses
    /// and peers on other nodes.
    KunciPublik(KeyArgs),
}

#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// Konfigurasi node (TOML); bawaan: konfigurasi demo tertanam.
    /// [en] Node configuration (TOML); default: the embedded demo configuration.
    #[arg(long)]
    pub config: Option<PathBuf>,
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
    /// Alamat node saksi yang memegang salinan checkpoint; boleh diulang. Bawaan:
    /// `[[witnesses]]` di konfigurasi.
    /// [en] URL of a witness node holding copies of the checkpoints; repeatable. Default: the
    /// configuration's `[[witnesses]]`.
    #[arg(long)]
    pub saksi: Vec<String>,
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
        AuditCommand::KunciPublik(a) => public_keys(a),
    }
}

fn public_keys(args: KeyArgs) -> anyhow::Result<ExitCode> {
    let config = crate::serve_cmd::load_config(args.config.as_deref())?;
    let node = config.node_key().map_err(|e| {
        anyhow::anyhow!(tr!(
            "Kunci checkpoint node tidak dapat dibaca: {e}",
            "The node's checkpoint key cannot be read: {e}"
        ))
    })?;
    let name = &config.node_name;
    println!(
        "{}",
        tr!(
            "# Node {name}: untuk [[witnesses]] di node lain",
            "# Node {name}: for [[witnesses]] on other nodes"
        )
    );
    println!("name = \"{name}\"");
    println!(
        "public_key = \"{}\"",
        sinergi_server::config::public_key_b64(&node)
    );
    for m in &config.members {
        let key = config.member_signing_key(m).map_err(|e| {
            anyhow::anyhow!(tr!(
                "Kunci anggota {} tidak dapat dibaca: {e}",
                "The key of member {} cannot be read: {e}",
                m.id
            ))
        })?;
        println!(
            "{}",
            tr!(
                "# Anggota {}: untuk [[peers.members]] di node lain",
                "# Member {}: for [[peers.members]] on other nodes",
                m.id
            )
        );
        println!("id = \"{}\"", m.id);
        println!("key_id = \"{}\"", m.key_id());
        println!(
            "public_key = \"{}\"",
            sinergi_server::config::public_key_b64(&key)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Entries are read in pages of this many.
const PAGE: usize = 10_000;

async fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let config = crate::serve_cmd::load_config(args.config.as_deref())?;
    let db = open_audit(&config).await?;
    let key = node_key(&config)?;
    // A running node signs a checkpoint of everything it wrote, now (and its witnesses
    // countersign it): every entry in the log before that must then be covered. A stopped
    // node signed a final checkpoint: every entry must be covered.
    let mut notes: Vec<String> = Vec::new();
    let anchored_through = match Operator::find(&config).await {
        Some(node) => {
            let head = db.head().await?.seq;
            let url = node.url().to_owned();
            let (status, answer) = node
                .call(
                    "POST",
                    "/admin/audit/checkpoint",
                    Vec::new(),
                    "sinergi audit verify",
                )
                .await
                .map_err(|e| {
                    anyhow::anyhow!(tr!(
                        "Node {url} tidak menjawab: {e}",
                        "The node at {url} does not answer: {e}"
                    ))
                })?;
            if status != 200 {
                anyhow::bail!(tr!(
                    "Node {url} menolak membuat checkpoint: HTTP {status} {answer}",
                    "The node at {url} refused to sign a checkpoint: HTTP {status} {answer}"
                ));
            }
            let seq = &answer["checkpoint"]["seq"];
            notes.push(tr!(
                "Node berjalan di {url}: checkpoint baru sampai seq {seq}; entri sampai seq {head} harus tercakup.",
                "The node runs at {url}: a new checkpoint up to seq {seq}; entries up to seq {head} must be covered."
            ));
            for e in answer["witness_errors"].as_array().into_iter().flatten() {
                let e = e.as_str().unwrap_or_default();
                notes.push(tr!("Saksi: {e}", "Witness: {e}"));
            }
            head
        }
        None => u64::MAX,
    };
    let checkpoints = db.checkpoints().await?;
    let mut copies =
        sinergi_server::witness::receipt_copies(&config.witnesses, &db.receipts().await?);
    let urls: Vec<String> = if args.saksi.is_empty() {
        config
            .witnesses
            .iter()
            .map(|w| w.base_url.clone())
            .collect()
    } else {
        args.saksi.clone()
    };
    // Witnesses that could not be asked: without their copies a log cut short together with
    // its local receipts cannot be told from an intact one, so the answer is not INTACT.
    let mut unreached: Vec<String> = Vec::new();
    if !urls.is_empty() {
        let member = config
            .members
            .iter()
            .min_by(|a, b| a.id.cmp(&b.id))
            .ok_or_else(|| {
                anyhow::anyhow!(tr!(
                    "Node tanpa anggota ([[members]]) tidak dapat bertanya ke saksi",
                    "A node without members ([[members]]) cannot ask its witnesses"
                ))
            })?;
        let speaker = sinergi_server::state::Hosted {
            id: member.id.clone(),
            name: member.name.clone(),
            key: config.member_signing_key(member)?,
            key_id: member.key_id(),
            services: Vec::new(),
        };
        let client = sinergi_server::client::new_client(config.tls.as_ref())?;
        for url in &urls {
            match sinergi_server::witness::fetch(&client, &speaker, url, &config.node_name).await {
                Ok(c) => {
                    let n = c.len();
                    notes.push(tr!(
                        "Saksi {url}: {n} salinan checkpoint.",
                        "Witness {url}: {n} copies of checkpoints."
                    ));
                    copies.extend(c);
                }
                Err(e) => {
                    notes.push(tr!(
                        "Saksi {url} tidak dapat ditanya ({e}); dipakai tanda terima yang tersimpan.",
                        "Witness {url} cannot be asked ({e}); the stored receipts are used."
                    ));
                    unreached.push(url.clone());
                }
            }
        }
    }
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
    let witnessed = !urls.is_empty() || !config.witnesses.is_empty();
    let opts = VerifyOptions {
        checkpoint_interval: Some(config.checkpoint_every.max(1)),
        anchored_through: Some(anchored_through),
        witnessed_through: witnessed.then_some(anchored_through),
        ..VerifyOptions::default()
    };
    let report = tokio::task::spawn_blocking(move || {
        sinergi_exchange::audit::verify_anchored(entries.iter(), &cps, &copies, &key, opts)
    })
    .await?;

    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["witnesses_unreached"] = serde_json::json!(unreached);
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let (entries, last, matched, all, anchored) = (
            report.entries,
            report.last_seq,
            report.checkpoints_verified,
            checkpoints.len(),
            report.anchored_seq,
        );
        println!(
            "{}",
            tr!("Log audit: {}", "Audit log: {}", config.audit_url())
        );
        for n in &notes {
            println!("{n}");
        }
        println!(
            "{}",
            tr!(
                "Entri diperiksa: {entries} (seq terakhir {last})",
                "Entries checked: {entries} (last seq {last})"
            )
        );
        println!(
            "{}",
            tr!(
                "Checkpoint terverifikasi: {matched} dari {all}; tercakup sampai seq {anchored}",
                "Checkpoints verified: {matched} of {all}; covered up to seq {anchored}"
            )
        );
        if witnessed {
            let (copies, seq) = (report.witness_copies_verified, report.witnessed_seq);
            println!(
                "{}",
                tr!(
                    "Salinan saksi cocok: {copies}; disaksikan sampai seq {seq}",
                    "Witness copies matching: {copies}; witnessed up to seq {seq}"
                )
            );
        }
        if report.ok && !unreached.is_empty() {
            let list = unreached.join(", ");
            println!(
                "{}",
                tr!(
                    "BELUM PASTI: rantai hash dan checkpoint cocok, tetapi saksi {list} tidak dapat ditanya;\ntanpa salinannya, log yang dipotong bersama tanda terima lokalnya tidak terlihat.",
                    "NOT CONFIRMED: the hash chain and checkpoints match, but witness {list} could not be asked;\nwithout its copies, a log cut short together with its local receipts cannot be seen."
                )
            );
        } else if report.ok {
            println!(
                "{}",
                tr!(
                    "UTUH: rantai hash dan semua checkpoint cocok; tidak ada entri yang diubah,\ndihapus, disisipkan, ditukar urutannya atau ditambahkan di luar node.",
                    "INTACT: the hash chain and every checkpoint match; no entry was altered,\ndeleted, inserted, reordered or appended behind the node's back."
                )
            );
        } else {
            println!(
                "{}",
                tr!(
                    "TIDAK UTUH: log audit telah diubah.",
                    "NOT INTACT: the audit log was changed."
                )
            );
            if let Some(p) = &report.first_problem {
                println!(
                    "{}",
                    tr!("Masalah pertama: {}", "First problem: {}", describe(p))
                );
            }
            let n = report.problems.len();
            println!("{}", tr!("Semua masalah ({n}):", "Every problem ({n}):"));
            for p in &report.problems {
                println!("  - {}", describe(p));
            }
            if report.problems_truncated {
                println!(
                    "{}",
                    tr!(
                        "  (daftar dipotong; masih ada masalah lain)",
                        "  (list cut short; there are more problems)"
                    )
                );
            }
        }
    }
    Ok(if !report.ok {
        ExitCode::from(1)
    } else if !unreached.is_empty() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// One problem in the current language, naming its seq.
fn describe(p: &Problem) -> String {
    let seq = p.seq;
    match &p.kind {
        ProblemKind::HashMismatch => tr!(
            "seq {seq}: isi entri diubah (hash tersimpan tidak sesuai dengan isinya)",
            "seq {seq}: the entry was altered (its stored hash does not match its content)"
        ),
        ProblemKind::ChainBroken => tr!(
            "seq {seq}: rantai terputus (prev_hash bukan hash entri sebelumnya: entri ini atau sebelumnya diubah atau diganti)",
            "seq {seq}: chain broken (prev_hash is not the previous entry's hash: this entry or the one before was altered or replaced)"
        ),
        ProblemKind::Missing { expected, found } => {
            let end = found.saturating_sub(1);
            tr!(
                "seq {seq}: entri {expected}..{end} hilang (dihapus); berikutnya seq {found}",
                "seq {seq}: entries {expected}..{end} are missing (deleted); next is seq {found}"
            )
        }
        ProblemKind::Reordered { expected, found } => tr!(
            "seq {seq}: urutan ditukar (entri {found} berada di tempat entri {expected})",
            "seq {seq}: reordered (entry {found} stands where entry {expected} should)"
        ),
        ProblemKind::OutOfOrder { expected, found } => {
            let after = expected.saturating_sub(1);
            tr!(
                "seq {seq}: entri {found} muncul setelah seq {after} (entri disisipkan atau urutan diubah; diharapkan {expected})",
                "seq {seq}: entry {found} appears after seq {after} (an entry inserted or reordered; expected {expected})"
            )
        }
        ProblemKind::CheckpointForged => tr!(
            "seq {seq}: tanda tangan checkpoint tidak sah (checkpoint dipalsukan atau diubah)",
            "seq {seq}: the checkpoint's signature is not valid (forged or altered checkpoint)"
        ),
        ProblemKind::CheckpointMismatch { since } => tr!(
            "seq {seq}: hash entri tidak sama dengan yang ditandatangani checkpoint (log ditulis ulang setelah checkpoint cocok terakhir, seq {since})",
            "seq {seq}: the entry's hash is not the one the checkpoint signed (the log was rewritten after the last matching checkpoint, seq {since})"
        ),
        ProblemKind::Truncated {
            checkpoint_seq,
            last_seq,
        } => tr!(
            "seq {seq}: ekor log dipotong (checkpoint bertanda tangan mencakup seq {checkpoint_seq}, log berakhir di seq {last_seq})",
            "seq {seq}: the log's tail was cut off (a signed checkpoint covers seq {checkpoint_seq}, the log ends at seq {last_seq})"
        ),
        ProblemKind::CheckpointMissing => tr!(
            "seq {seq}: tidak ada checkpoint sah yang diwajibkan di sini",
            "seq {seq}: no valid checkpoint where one is required"
        ),
        ProblemKind::Unanchored { from, to } => tr!(
            "seq {seq}: entri {from}..{to} tidak dicakup checkpoint bertanda tangan node (ditulis di luar node, atau hilang bersama kerusakan sebelum node sempat menandatanganinya)",
            "seq {seq}: entries {from}..{to} are covered by no checkpoint of the node's key (written behind the node's back, or lost with a crash before the node signed them)"
        ),
        ProblemKind::Unwitnessed { from, to } => tr!(
            "seq {seq}: entri {from}..{to} tidak dicakup salinan checkpoint yang dipegang saksi",
            "seq {seq}: entries {from}..{to} are covered by no copy a witness holds"
        ),
    }
}

async fn who_accessed(args: WhoArgs) -> anyhow::Result<ExitCode> {
    let nik = args.nik.trim();
    if nik.len() != 16 || !nik.bytes().all(|b| b.is_ascii_digit()) {
        let given = &args.nik;
        anyhow::bail!(tr!(
            "NIK harus 16 angka: {given:?}",
            "A NIK has 16 digits: {given:?}"
        ));
    }
    let config = crate::serve_cmd::load_config(args.config.as_deref())?;
    let db = open_audit(&config).await?;
    let secret = NodeSecret::from_bytes(read_key(
        &config
            .audit_secret_file
            .clone()
            .unwrap_or_else(|| config.data_dir.join("audit-secret.key")),
        &tr!("rahasia audit node", "node audit secret"),
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
        println!(
            "{}",
            tr!(
                "Tidak ada akses tercatat atas NIK {nik} di log audit node ini.",
                "No access to NIK {nik} is recorded in this node's audit log."
            )
        );
        return Ok(ExitCode::SUCCESS);
    }
    let n = crate::lang::num(entries.len() as u64);
    println!(
        "{}",
        tr!(
            "{n} akses tercatat atas NIK {nik}:",
            "{n} accesses recorded to NIK {nik}:"
        )
    );
    println!(
        "{:>6}  {:<23}  {:<34}  {:<60}  {:<16}  {:<30}  {}",
        "seq",
        tr!("waktu", "time"),
        tr!("klien", "client"),
        tr!("layanan", "service"),
        tr!("tujuan", "purpose"),
        "PKS",
        tr!("keputusan", "decision")
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
        let dir = config.data_dir.display();
        anyhow::bail!(tr!(
            "Log audit {path} tidak ada: node ini belum pernah dijalankan dengan data_dir {dir} (jalankan `sinergi serve` atau beri --config)",
            "The audit log {path} does not exist: this node has never run with data_dir {dir} (run `sinergi serve` or give --config)"
        ));
    }
    Db::open(&url, false).await.map_err(|e| {
        anyhow::anyhow!(tr!(
            "Log audit {url} tidak dapat dibuka: {e}",
            "The audit log {url} cannot be opened: {e}"
        ))
    })
}

/// The public half of the node's checkpoint key.
fn node_key(config: &NodeConfig) -> anyhow::Result<VerifyingKey> {
    let path = config
        .node_key_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join("node.key"));
    let bytes = read_key(&path, &tr!("kunci checkpoint node", "node checkpoint key"))?;
    Ok(SigningKey::from_bytes(&bytes).verifying_key())
}

/// 32 bytes of base64 from a key file the node generated.
fn read_key(path: &Path, what: &str) -> anyhow::Result<[u8; 32]> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let p = path.display();
        anyhow::anyhow!(tr!(
            "Berkas {what} {p} tidak dapat dibaca: {e} (node membuatnya saat pertama dijalankan)",
            "The {what} file {p} cannot be read: {e} (the node writes it when it first runs)"
        ))
    })?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| {
            let p = path.display();
            anyhow::anyhow!(tr!(
                "Berkas {what} {p}: bukan base64: {e}",
                "The {what} file {p}: not base64: {e}"
            ))
        })?;
    bytes.try_into().map_err(|_| {
        let p = path.display();
        anyhow::anyhow!(tr!(
            "Berkas {what} {p}: harus 32 bita",
            "The {what} file {p}: must be 32 bytes"
        ))
    })
}
