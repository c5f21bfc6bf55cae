//! `sinergi pks`: create, list, suspend, reinstate and revoke data-sharing agreements (PKS)
//! of a node. When the node runs, the change is handed to it (the admin API, signed with the
//! node's own key: `sinergi_server::operator`), which applies it under the lock its decisions
//! take: in force for every request decided after the command returns. When it does not
//! run, the change goes into its database through the same code path (`sinergi_server::pks`),
//! so decisions and audit entries are the same either way.

use std::path::PathBuf;
use std::process::ExitCode;

use sinergi_exchange::{
    Agreement, AgreementStatus, ClientId, Quota, RegionScope, ServiceGrant, Timestamp,
};
use sinergi_server::audit_sql::Db;
use sinergi_server::operator::Operator;
use sinergi_server::pks::{self, Action, AuditSink, Ctx, PksError};

use crate::tr;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: PksCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PksCommand {
    /// Buat PKS baru di node penyedia. [en] Create an agreement on the provider's node.
    Create(Box<CreateArgs>),
    /// Daftar PKS dan statusnya sekarang. [en] List agreements and their current status.
    List(ListArgs),
    /// Bekukan PKS sementara: permintaan ditolak AGREEMENT_SUSPENDED.
    /// [en] Suspend an agreement: requests are refused with AGREEMENT_SUSPENDED.
    Suspend(StatusArgs),
    /// Aktifkan kembali PKS yang dibekukan. [en] Reinstate a suspended agreement.
    Reinstate(StatusArgs),
    /// Cabut PKS; pencabutan bersifat final. [en] Revoke an agreement; revocation is final.
    Revoke(StatusArgs),
}

#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// Konfigurasi node (TOML); bawaan: konfigurasi demo tertanam.
    /// [en] Node configuration (TOML); default: the embedded demo configuration.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// PKS dari berkas JSON (bentuk yang sama dengan POST /admin/pks); tanpa opsi lain.
    /// [en] The agreement from a JSON file (the shape POST /admin/pks takes); no other options.
    #[arg(long, conflicts_with_all = ["id", "provider", "consumer", "service", "purpose", "legal_basis", "region", "from", "until", "per_second", "per_day"])]
    pub file: Option<PathBuf>,
    /// Nomor PKS, mis. PKS-DUKCAPIL-DINSOS3301-2025-001.
    /// [en] Agreement number, e.g. PKS-DUKCAPIL-DINSOS3301-2025-001.
    #[arg(long, required_unless_present = "file")]
    pub id: Option<String>,
    /// Penyedia data, anggota yang di-host node ini (INSTANCE/KELAS/KODE/SUBSISTEM).
    /// [en] Data provider, a member this node hosts (INSTANCE/CLASS/CODE/SUBSYSTEM).
    #[arg(long, required_unless_present = "file")]
    pub provider: Option<String>,
    /// Konsumen (INSTANCE/KELAS/KODE/SUBSISTEM). [en] Consumer (INSTANCE/CLASS/CODE/SUBSYSTEM).
    #[arg(long, required_unless_present = "file")]
    pub consumer: Option<String>,
    /// Layanan yang dibuka, dengan atribut yang boleh diterima: `verifikasi-identitas` atau
    /// `verifikasi-identitas:nama,tgl_lahir`. Boleh diulang.
    /// [en] Service opened, with the attributes that may be received: `verifikasi-identitas` or
    /// `verifikasi-identitas:nama,tgl_lahir`. Repeatable.
    #[arg(long, required_unless_present = "file")]
    pub service: Vec<String>,
    /// Kode tujuan, mis. VALIDASI_BANSOS. Boleh diulang.
    /// [en] Purpose code, e.g. VALIDASI_BANSOS. Repeatable.
    #[arg(long, required_unless_present = "file")]
    pub purpose: Vec<String>,
    /// Dasar hukum (undang-undang, peraturan, nomor PKS).
    /// [en] Legal basis (law, regulation, agreement number).
    #[arg(long, required_unless_present = "file")]
    pub legal_basis: Option<String>,
    /// Cakupan wilayah: `nasional`, atau kode Kemendagri (33, 33.01, ...). Boleh diulang.
    /// [en] Region scope: `nasional`, or Kemendagri codes (33, 33.01, ...). Repeatable.
    #[arg(long, required_unless_present = "file")]
    pub region: Vec<String>,
    /// Berlaku mulai (YYYY-MM-DD, 00:00 WIB). [en] In force from (YYYY-MM-DD, 00:00 WIB).
    #[arg(long, required_unless_present = "file")]
    pub from: Option<String>,
    /// Berlaku sampai dengan (YYYY-MM-DD, termasuk hari itu).
    /// [en] In force until (YYYY-MM-DD, that day included).
    #[arg(long, required_unless_present = "file")]
    pub until: Option<String>,
    /// Kuota permintaan per detik. [en] Request quota per second.
    #[arg(long, default_value_t = 50)]
    pub per_second: u32,
    /// Kuota permintaan per hari (WIB). [en] Request quota per day (WIB).
    #[arg(long, default_value_t = 200_000)]
    pub per_day: u64,
    /// Siapa yang membuat (dicatat di log audit). [en] Who creates it (written to the audit log).
    #[arg(long, default_value = "")]
    pub by: String,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Cetak sebagai JSON. [en] Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Nomor PKS. [en] Agreement number.
    pub id: String,
    #[command(flatten)]
    pub node: NodeArgs,
    /// Siapa yang bertindak (dicatat di riwayat PKS dan log audit).
    /// [en] Who acts (written to the agreement's history and the audit log).
    #[arg(long)]
    pub by: String,
    /// Alasan (dicatat di riwayat PKS dan log audit).
    /// [en] Reason (written to the agreement's history and the audit log).
    #[arg(long)]
    pub reason: String,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        PksCommand::Create(a) => create(*a).await,
        PksCommand::List(a) => list(a).await,
        PksCommand::Suspend(a) => change(a, Action::Suspend).await,
        PksCommand::Reinstate(a) => change(a, Action::Reinstate).await,
        PksCommand::Revoke(a) => change(a, Action::Revoke).await,
    }
}

/// The node's configuration and its audit database (where agreements live).
struct Node {
    config: sinergi_server::NodeConfig,
    db: Db,
}

async fn open(node: &NodeArgs) -> anyhow::Result<Node> {
    let config = crate::serve_cmd::load_config(node.config.as_deref())?;
    let url = config.audit_url();
    let db = Db::open(&url, false).await.map_err(|e| {
        anyhow::anyhow!(tr!(
            "Basis data node {url} tidak dapat dibuka: {e}",
            "The node's database {url} cannot be opened: {e}"
        ))
    })?;
    Ok(Node { config, db })
}

fn ctx<'a>(n: &'a Node, by: &'a str, reason: &'a str) -> anyhow::Result<Ctx<'a>> {
    let key = n.config.node_key().map_err(|e| {
        anyhow::anyhow!(tr!(
            "Kunci checkpoint node tidak dapat dibaca: {e}",
            "The node's checkpoint key cannot be read: {e}"
        ))
    })?;
    Ok(Ctx {
        db: &n.db,
        node: &n.config.node_name,
        audit: AuditSink::Direct {
            url: n.config.audit_url(),
            node: n.config.node_name.clone(),
            key: Box::new(key),
        },
        by,
        reason,
    })
}

/// A refusal in the user's language, naming what to do.
fn explain(e: PksError, hosted: &[ClientId]) -> anyhow::Error {
    let msg = match &e {
        PksError::Invalid(m) => tr!("PKS tidak sah: {m}", "Invalid agreement: {m}"),
        PksError::NotHosted(p) => {
            let members = hosted
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            tr!(
                "Penyedia {p} tidak di-host node ini. Anggota node ini: {members}",
                "The provider {p} is not hosted on this node. This node's members: {members}"
            )
        }
        PksError::Exists(id) => tr!(
            "PKS {id} sudah ada; lihat `sinergi pks list`",
            "An agreement {id} already exists; see `sinergi pks list`"
        ),
        PksError::NotFound(id) => tr!(
            "PKS {id} tidak ada di node ini; lihat `sinergi pks list`",
            "No agreement {id} on this node; see `sinergi pks list`"
        ),
        PksError::Conflict { id, reason } if reason.contains("revoked") => tr!(
            "PKS {id} sudah dicabut; pencabutan bersifat final dan statusnya tidak dapat diubah lagi",
            "The agreement {id} is already revoked; revocation is final and its status cannot change again"
        ),
        PksError::Conflict { id, reason } => tr!(
            "Status PKS {id} tidak dapat diubah: {reason}",
            "The status of agreement {id} cannot be changed: {reason}"
        ),
        PksError::Audit(m) => tr!(
            "Log audit tidak dapat ditulis; tidak ada yang diubah: {m}",
            "The audit log cannot be written; nothing changed: {m}"
        ),
        PksError::Db(m) => tr!(
            "Basis data node gagal: {m}",
            "The node's database failed: {m}"
        ),
    };
    anyhow::anyhow!(msg)
}

/// A refusal the running node answered, in the CLI's words (the same as [`explain`]).
fn explain_code(
    status: u16,
    answer: &serde_json::Value,
    id: &str,
    hosted: &[ClientId],
) -> anyhow::Error {
    let code = answer["code"].as_str().unwrap_or("");
    let message = answer["message"].as_str().unwrap_or("");
    let e = match code {
        "AGREEMENT_EXISTS" => PksError::Exists(id.to_owned()),
        "AGREEMENT_NOT_FOUND" => PksError::NotFound(id.to_owned()),
        "AGREEMENT_STATUS_CONFLICT" => PksError::Conflict {
            id: id.to_owned(),
            reason: message.to_owned(),
        },
        "AUDIT_UNAVAILABLE" => PksError::Audit(message.to_owned()),
        "REQUEST_INVALID" => PksError::Invalid(message.to_owned()),
        _ => {
            return anyhow::anyhow!(tr!(
                "Node menolak perubahan: HTTP {status} {code} {message}",
                "The node refused the change: HTTP {status} {code} {message}"
            ));
        }
    };
    explain(e, hosted)
}

fn parse_client(what: &str, s: &str) -> anyhow::Result<ClientId> {
    ClientId::parse_header(s.trim()).map_err(|e| {
        anyhow::anyhow!(tr!(
            "{what} {s:?} bukan INSTANCE/KELAS/KODE/SUBSISTEM, mis. ID/GOV/DINSOS-3301/BANSOS: {e}",
            "{what} {s:?} is not INSTANCE/CLASS/CODE/SUBSYSTEM, e.g. ID/GOV/DINSOS-3301/BANSOS: {e}"
        ))
    })
}

fn agreement_from_flags(a: &CreateArgs) -> anyhow::Result<Agreement> {
    let req = |v: &Option<String>, flag: &str| {
        v.clone()
            .ok_or_else(|| anyhow::anyhow!(tr!("--{flag} wajib diisi", "--{flag} is required")))
    };
    let mut services = Vec::new();
    for s in &a.service {
        let (code, fields) = match s.split_once(':') {
            Some((c, f)) => (c, f),
            None => (s.as_str(), ""),
        };
        if code.trim().is_empty() {
            anyhow::bail!(
                "--service {s:?}: nama layanan kosong; tulis LAYANAN atau LAYANAN:atribut,atribut \
                 (empty service code)"
            );
        }
        services.push(ServiceGrant {
            service_code: code.trim().to_owned(),
            fields: fields
                .split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
        });
    }
    let national = a
        .region
        .iter()
        .any(|r| matches!(r.to_ascii_lowercase().as_str(), "nasional" | "national"));
    let region_scope = if national {
        if a.region.len() > 1 {
            anyhow::bail!(
                "--region nasional tidak dapat digabung dengan kode wilayah (national excludes region codes)"
            );
        }
        RegionScope::National
    } else {
        RegionScope::Regions(a.region.iter().map(|r| r.trim().to_owned()).collect())
    };
    let (from, until) = (req(&a.from, "from")?, req(&a.until, "until")?);
    Agreement {
        id: req(&a.id, "id")?,
        provider: parse_client("--provider", &req(&a.provider, "provider")?)?,
        consumer: parse_client("--consumer", &req(&a.consumer, "consumer")?)?,
        services,
        purposes: a.purpose.iter().map(|p| p.trim().to_owned()).collect(),
        legal_basis: req(&a.legal_basis, "legal-basis")?,
        region_scope,
        valid_from: Timestamp(0),
        valid_until: Timestamp(0),
        quota: Quota {
            per_second: a.per_second,
            per_day: a.per_day,
        },
        status_history: vec![],
    }
    .with_dates(&from, &until)
    .map_err(|_| {
        let bad = [&from, &until]
            .into_iter()
            .find(|d| Timestamp::parse_date(d, sinergi_exchange::WIB_OFFSET_MINUTES).is_none())
            .cloned()
            .unwrap_or_default();
        anyhow::anyhow!(
            "Tanggal {bad:?} tidak sah; tulis YYYY-MM-DD, mis. 2025-12-31 (date must be YYYY-MM-DD)"
        )
    })
}

async fn create(a: CreateArgs) -> anyhow::Result<ExitCode> {
    let agreement = match &a.file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!(
                    "Berkas {} tidak dapat dibaca (cannot read): {e}",
                    path.display()
                )
            })?;
            serde_json::from_str::<Agreement>(&text).map_err(|e| {
                anyhow::anyhow!(
                    "Berkas {}: bukan PKS dalam JSON (not an agreement; see docs/EXCHANGE.md \
                     section 4): {e}",
                    path.display()
                )
            })?
        }
        None => agreement_from_flags(&a)?,
    };
    let config = crate::serve_cmd::load_config(a.node.config.as_deref())?;
    let hosted: Vec<ClientId> = config.members.iter().map(|m| m.id.clone()).collect();
    let (created, via) = if let Some(node) = Operator::find(&config).await {
        let body = serde_json::to_vec(&agreement)?;
        let (status, answer) = node
            .call("POST", "/admin/pks", body, &a.by)
            .await
            .map_err(|e| no_answer(node.url(), e))?;
        if status != 201 {
            return Err(explain_code(status, &answer, &agreement.id, &hosted));
        }
        (
            serde_json::from_value::<Agreement>(answer)?,
            Some(node.url().to_owned()),
        )
    } else {
        let n = open(&a.node).await?;
        let result = pks::create(&ctx(&n, &a.by, "")?, &hosted, agreement).await;
        n.db.close().await;
        (result.map_err(|e| explain(e, &hosted))?, None)
    };
    println!(
        "PKS {} dibuat (agreement created): {} -> {}, berlaku {} s.d. {}.",
        created.id,
        created.provider,
        created.consumer,
        date(created.valid_from.0),
        last_day(created.valid_until.0)
    );
    applied(&config, via.as_deref());
    Ok(ExitCode::SUCCESS)
}

/// Where the change went: the running node (in force now), or its database.
fn applied(config: &sinergi_server::NodeConfig, via: Option<&str>) {
    let audit = config.audit_url();
    let text = match via {
        Some(url) => tr!(
            "Diterapkan oleh node yang berjalan di {url}: berlaku untuk setiap permintaan setelah ini. Dicatat di log audit {audit}.",
            "Applied by the node running at {url}: in force for every request from now on. Written to the audit log {audit}."
        ),
        None => {
            let (at, poll) = (
                sinergi_server::operator::local_url(config),
                sinergi_server::state::AGREEMENT_POLL.as_secs(),
            );
            tr!(
                "Node tidak berjalan di {at}: dicatat di basis data dan log audit {audit}; node menerapkannya saat dijalankan, atau dalam {poll} detik bila ternyata berjalan di alamat lain.",
                "No node runs at {at}: written to the database and the audit log {audit}; the node applies it when it starts, or within {poll} seconds if it runs at another address."
            )
        }
    };
    println!("{text}");
}

fn no_answer(url: &str, e: String) -> anyhow::Error {
    anyhow::anyhow!(tr!(
        "Node {url} tidak menjawab: {e}",
        "The node at {url} does not answer: {e}"
    ))
}

async fn change(a: StatusArgs, action: Action) -> anyhow::Result<ExitCode> {
    if a.by.trim().is_empty() || a.reason.trim().is_empty() {
        anyhow::bail!(tr!(
            "--by dan --reason wajib diisi (siapa dan mengapa)",
            "--by and --reason are required (who and why)"
        ));
    }
    let config = crate::serve_cmd::load_config(a.node.config.as_deref())?;
    let hosted: Vec<ClientId> = config.members.iter().map(|m| m.id.clone()).collect();
    let id = a.id.trim();
    let (changed, via) = if let Some(node) = Operator::find(&config).await {
        let body = serde_json::to_vec(&serde_json::json!({"by": a.by, "reason": a.reason}))?;
        let path = format!("/admin/pks/{id}/{}", action.name());
        let (status, answer) = node
            .call("POST", &path, body, &a.by)
            .await
            .map_err(|e| no_answer(node.url(), e))?;
        if status != 200 {
            return Err(explain_code(status, &answer, id, &hosted));
        }
        (
            serde_json::from_value::<Agreement>(answer)?,
            Some(node.url().to_owned()),
        )
    } else {
        let n = open(&a.node).await?;
        let result = pks::change_status(&ctx(&n, &a.by, &a.reason)?, id, action).await;
        n.db.close().await;
        (result.map_err(|e| explain(e, &hosted))?, None)
    };
    let (id, by, reason) = (&changed.id, &a.by, &a.reason);
    println!(
        "{}",
        match action {
            Action::Suspend => tr!(
                "PKS {id} dibekukan oleh {by}: {reason}.",
                "Agreement {id} suspended by {by}: {reason}."
            ),
            Action::Reinstate => tr!(
                "PKS {id} diaktifkan kembali oleh {by}: {reason}.",
                "Agreement {id} reinstated by {by}: {reason}."
            ),
            Action::Revoke => tr!(
                "PKS {id} dicabut oleh {by}: {reason}.",
                "Agreement {id} revoked by {by}: {reason}."
            ),
            Action::Create => tr!(
                "PKS {id} dibuat oleh {by}: {reason}.",
                "Agreement {id} created by {by}: {reason}."
            ),
        }
    );
    applied(&config, via.as_deref());
    Ok(ExitCode::SUCCESS)
}

/// The status as `--json` gives it: a stable code, whatever the language.
fn status_code(s: AgreementStatus) -> &'static str {
    match s {
        AgreementStatus::Active => "AKTIF",
        AgreementStatus::Suspended => "DIBEKUKAN",
        AgreementStatus::Revoked => "DICABUT",
    }
}

/// The status in the user's language.
fn status_word(s: AgreementStatus) -> String {
    match s {
        AgreementStatus::Active => tr!("AKTIF", "ACTIVE"),
        AgreementStatus::Suspended => tr!("DIBEKUKAN", "SUSPENDED"),
        AgreementStatus::Revoked => tr!("DICABUT", "REVOKED"),
    }
}

async fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let n = open(&a.node).await?;
    let all = pks::list(&n.db).await;
    n.db.close().await;
    let all = all.map_err(|e| explain(e, &[]))?;
    let now = sinergi_server::now();
    if a.json {
        let rows: Vec<serde_json::Value> = all
            .iter()
            .map(|p| {
                let mut v = serde_json::to_value(p).unwrap_or_default();
                v["status_now"] = serde_json::json!(status_code(p.status_at(now).0));
                v
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "agreements": rows }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if all.is_empty() {
        println!(
            "{}",
            tr!(
                "Belum ada PKS di node ini. Buat dengan `sinergi pks create`.",
                "No agreements on this node yet. Create one with `sinergi pks create`."
            )
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} PKS:", all.len());
    for p in &all {
        let (st, change) = p.status_at(now);
        let in_force = if now < p.valid_from {
            tr!(" (belum berlaku)", " (not yet in force)")
        } else if now >= p.valid_until {
            tr!(" (kedaluwarsa)", " (expired)")
        } else {
            String::new()
        };
        println!("{}  {}{in_force}", p.id, status_word(st));
        let label = |id: &str, en: &str| {
            let w = if crate::lang::lang().is_en() { en } else { id };
            format!("  {w:<9} ")
        };
        println!("{}{}", label("penyedia", "provider"), p.provider);
        println!("{}{}", label("konsumen", "consumer"), p.consumer);
        let (from, until) = (date(p.valid_from.0), last_day(p.valid_until.0));
        println!(
            "{}{}",
            label("berlaku", "in force"),
            tr!("{from} s.d. {until}", "{from} to {until}")
        );
        for s in &p.services {
            let f = if s.fields.is_empty() {
                tr!("ya/tidak saja", "yes/no only")
            } else {
                s.fields.join(", ")
            };
            println!("{}{} ({f})", label("layanan", "service"), s.service_code);
        }
        println!("{}{}", label("tujuan", "purpose"), p.purposes.join(", "));
        let region = match &p.region_scope {
            RegionScope::National => tr!("nasional", "national"),
            RegionScope::Regions(r) => r.join(", "),
        };
        println!("{}{region}", label("wilayah", "region"));
        let (ps, pd) = (p.quota.per_second, p.quota.per_day);
        println!(
            "{}{}",
            label("kuota", "quota"),
            tr!("{ps}/detik, {pd}/hari", "{ps}/second, {pd}/day")
        );
        if let Some(c) = change {
            let (st, at, by, reason) = (status_word(c.status), date(c.at.0), &c.by, &c.reason);
            println!(
                "{}{}",
                label("status", "status"),
                tr!(
                    "{st} sejak {at} oleh {by}: {reason}",
                    "{st} since {at} by {by}: {reason}"
                )
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Microseconds as a WIB calendar date.
fn date(us: i64) -> String {
    let offset = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.with_timezone(&offset).format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| format!("{us}µs"))
}

/// The last day in force of an exclusive end instant.
fn last_day(until_us: i64) -> String {
    date(until_us - 1)
}
