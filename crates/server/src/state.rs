//! The node's shared state: configuration, keys, agreements, index, audit writer, metrics.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use sinergi_exchange::audit::NodeSecret;
use sinergi_exchange::httpsig::MemberKey;
use sinergi_exchange::token::{ApiTokenRecord, TokenHash};
use sinergi_exchange::{
    Agreement, ClientId, QuotaTracker, SigningKey, Timestamp, Verifier, VerifyConfig,
};
use sinergi_rules::Program;
use sinergi_store::Store;

use crate::audit_sql::{AuditDbError, AuditWriter, Db, WriterConfig};
use crate::config::{self, ConfigError, NodeConfig};
use crate::index::Index;
use crate::metrics::Metrics;

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("store: {0}")]
    Store(String),
    #[error(transparent)]
    Audit(#[from] AuditDbError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Routes mounted beside the node's (`spawn_with`) could not start.
    #[error("{0}")]
    Extra(String),
}

/// A member subsystem hosted on this node.
#[derive(Debug)]
pub struct Hosted {
    pub id: ClientId,
    pub name: String,
    pub key: SigningKey,
    pub key_id: String,
    pub services: Vec<String>,
}

/// Where a service is provided: by which member, at which node (`None`: this node).
#[derive(Debug, Clone)]
pub struct Route {
    pub provider: ClientId,
    pub base_url: Option<String>,
}

/// Everything handlers share.
pub struct AppState {
    pub config: NodeConfig,
    pub hosted: BTreeMap<ClientId, Hosted>,
    /// Peers' members (listClients) with their display names.
    pub peer_members: Vec<(ClientId, String)>,
    pub keys: HashMap<String, MemberKey>,
    pub tokens: HashMap<[u8; 32], ApiTokenRecord>,
    pub admin_tokens: Vec<TokenHash>,
    pub verifier: Verifier,
    /// The node's own checkpoint key as an admin credential (`sinergi pks`, `sinergi audit`
    /// on the node's machine sign their admin requests with it), and its verifier.
    pub admin_keys: HashMap<String, MemberKey>,
    pub admin_verifier: Verifier,
    /// Decisions take it shared, agreement changes exclusively: a change is in force for
    /// every request whose time is after the change's recorded time, with no window.
    pub decisions: tokio::sync::RwLock<()>,
    /// Checkpoints the audit writer signed, for the witness sender (taken by `run`).
    pub signed_checkpoints:
        Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<sinergi_exchange::Checkpoint>>>,
    pub agreements: RwLock<Arc<Vec<Agreement>>>,
    /// Serialises agreement changes (read-modify-write of one agreement).
    pub agreements_write: tokio::sync::Mutex<()>,
    pub quotas: QuotaTracker,
    pub index: RwLock<Arc<Index>>,
    /// The engine's registries over this node's store, for the services that answer with the
    /// engine's own functions (`pencarian-identitas`); `None` when no such service is hosted.
    pub identity: RwLock<Option<Arc<sinergi_engine::embedded::Embedded>>>,
    /// Linkage models lists taught this node (`pencarian-identitas-batch?latih=true`).
    pub models: crate::pencarian::Models,
    /// The household overlap ledger of the lists validated here and the rosters stored here
    /// (`validasi-penerima`).
    pub households: crate::households::Households,
    pub store: Option<Store>,
    pub audit: AuditWriter,
    audit_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    pub db: Db,
    pub secret: NodeSecret,
    pub node_key: SigningKey,
    pub metrics: Metrics,
    pub local_addr: OnceLock<std::net::SocketAddr>,
    pub client: crate::client::HttpClient,
    pub programs: BTreeMap<String, Program>,
    /// Service code → provider, for calls this node makes.
    pub routes: BTreeMap<String, Route>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("node", &self.config.node_name)
            .finish_non_exhaustive()
    }
}

const PROGRAMS: [(&str, &str); 4] = [
    ("PKH", include_str!("../../../config/programs/PKH.toml")),
    ("BPNT", include_str!("../../../config/programs/BPNT.toml")),
    (
        "PBI_JK",
        include_str!("../../../config/programs/PBI_JK.toml"),
    ),
    (
        "BLT_DD",
        include_str!("../../../config/programs/BLT_DD.toml"),
    ),
];

impl AppState {
    /// Loads keys, opens the store and the audit database, loads agreements and the index,
    /// and starts the audit writer.
    pub async fn start(config: NodeConfig) -> Result<Arc<AppState>, StartError> {
        let mut hosted = BTreeMap::new();
        let mut keys = HashMap::new();
        let mut routes = BTreeMap::new();
        for m in &config.members {
            let key = config::load_signing_key(&config.member_key_path(m))?;
            let key_id = m.key_id();
            keys.insert(
                key_id.clone(),
                MemberKey {
                    client: m.id.clone(),
                    key: key.verifying_key(),
                },
            );
            for s in &m.services {
                routes.insert(
                    s.clone(),
                    Route {
                        provider: m.id.clone(),
                        base_url: None,
                    },
                );
            }
            hosted.insert(
                m.id.clone(),
                Hosted {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    key,
                    key_id,
                    services: m.services.clone(),
                },
            );
        }
        let mut peer_members = Vec::new();
        for p in &config.peers {
            for m in &p.members {
                keys.insert(
                    m.key_id.clone(),
                    MemberKey {
                        client: m.id.clone(),
                        key: config::decode_public_key(&m.public_key)?,
                    },
                );
                for s in &m.services {
                    routes.entry(s.clone()).or_insert(Route {
                        provider: m.id.clone(),
                        base_url: Some(p.base_url.trim_end_matches('/').to_owned()),
                    });
                }
                peer_members.push((m.id.clone(), m.name.clone()));
            }
        }
        let mut tokens = HashMap::new();
        for t in &config.tokens {
            let hash = config::parse_hash(&t.hash)?;
            tokens.insert(
                hash.0,
                ApiTokenRecord {
                    hash,
                    client: t.client.clone(),
                    label: t.label.clone(),
                    created_at: Timestamp(0),
                    expires_at: t.expires_at.map(Timestamp),
                    revoked_at: t.revoked_at.map(Timestamp),
                },
            );
        }
        let admin_tokens = config
            .admin_token_hashes
            .iter()
            .map(|h| config::parse_hash(h))
            .collect::<Result<Vec<_>, _>>()?;
        let secret_path = config
            .audit_secret_file
            .clone()
            .unwrap_or_else(|| config.data_dir.join("audit-secret.key"));
        let secret = config::load_secret(&secret_path)?;
        let node_key = config.node_key()?;

        let store = if hosted.values().any(|h| {
            h.services
                .iter()
                .any(|s| crate::services::Kind::parse(s).is_some())
        }) {
            Some(
                Store::open(Some(&config.store_url()))
                    .await
                    .map_err(|e| StartError::Store(e.to_string()))?,
            )
        } else {
            None
        };
        let index = match &store {
            Some(s) => Index::load(s).await.map_err(StartError::Store)?,
            None => Index::default(),
        };
        let identity = match &store {
            Some(s) if hosts_engine_service(&hosted) => Some(load_identity(s).await?),
            _ => None,
        };

        let audit_url = config.audit_url();
        let db = Db::open(&audit_url, false).await?;
        // Bootstrap agreements from the configuration when absent from the database.
        let at = crate::now();
        for a in &config.agreements {
            let body = serde_json::to_string(a).map_err(|e| ConfigError::Invalid(e.to_string()))?;
            db.put_agreement(
                &a.id,
                &a.provider.to_string(),
                &a.consumer.to_string(),
                &body,
                at.0,
            )
            .await?;
        }
        let agreements = load_agreements(&db).await?;

        let (signed_tx, signed_rx) = tokio::sync::mpsc::unbounded_channel();
        let (audit, thread) = {
            let cfg = WriterConfig {
                url: audit_url.clone(),
                node: config.node_name.clone(),
                key: node_key.clone(),
                checkpoint_every: config.checkpoint_every,
                checkpoint_secs: config.checkpoint_secs,
                signed: (!config.witnesses.is_empty()).then_some(signed_tx),
            };
            tokio::task::spawn_blocking(move || AuditWriter::start(cfg))
                .await
                .map_err(|e| StartError::Io(std::io::Error::other(e.to_string())))??
        };
        // Nonces of signatures verified before a restart stay refused until they expire.
        let verifier = Verifier::new(VerifyConfig::default());
        let now_secs = crate::now().as_secs();
        verifier.preload_replay(db.replay_keys(now_secs).await?, now_secs);
        let admin_keys = HashMap::from([(
            crate::admin::admin_key_id(&config.node_name),
            MemberKey {
                client: crate::admin::admin_client(),
                key: node_key.verifying_key(),
            },
        )]);

        let client = crate::client::new_client(config.tls.as_ref())?;
        let mut programs = BTreeMap::new();
        for (code, text) in PROGRAMS {
            match Program::parse(&format!("config/programs/{code}.toml"), text) {
                Ok(p) => {
                    programs.insert(code.to_owned(), p);
                }
                Err(e) => tracing::warn!(program = code, error = %e, "programme rules not loaded"),
            }
        }

        Ok(Arc::new(AppState {
            config,
            hosted,
            peer_members,
            keys,
            tokens,
            admin_tokens,
            verifier,
            admin_keys,
            admin_verifier: Verifier::new(VerifyConfig::default()),
            decisions: tokio::sync::RwLock::new(()),
            signed_checkpoints: Mutex::new(Some(signed_rx)),
            agreements: RwLock::new(Arc::new(agreements)),
            agreements_write: tokio::sync::Mutex::new(()),
            quotas: QuotaTracker::default(),
            index: RwLock::new(Arc::new(index)),
            identity: RwLock::new(identity),
            models: crate::pencarian::Models::default(),
            households: crate::households::Households::default(),
            store,
            audit,
            audit_thread: Mutex::new(Some(thread)),
            db,
            secret,
            node_key,
            metrics: Metrics::default(),
            local_addr: OnceLock::new(),
            client,
            programs,
            routes,
        }))
    }

    pub fn agreements(&self) -> Arc<Vec<Agreement>> {
        self.agreements
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn index(&self) -> Arc<Index> {
        self.index.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Rebuilds the index when the store's current snapshots changed. Returns whether it did.
    pub async fn reload_index(&self, force: bool) -> Result<bool, String> {
        let Some(store) = &self.store else {
            return Ok(false);
        };
        let current = Index::current_snapshots(store).await?;
        if !force && current == self.index().snapshots {
            return Ok(false);
        }
        let ix = Index::load(store).await?;
        let identity = if hosts_engine_service(&self.hosted) {
            Some(load_identity(store).await.map_err(|e| e.to_string())?)
        } else {
            None
        };
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(ix);
        *self.identity.write().unwrap_or_else(|e| e.into_inner()) = identity;
        self.households.forget_stored();
        Ok(true)
    }

    /// The engine's registries, when this node hosts a service answered with them.
    pub fn identity(&self) -> Option<Arc<sinergi_engine::embedded::Embedded>> {
        self.identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops the audit writer after everything queued is written; closes the databases.
    pub async fn finish(&self) {
        self.audit.shutdown();
        let thread = self
            .audit_thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(t) = thread {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        self.db.close().await;
        if let Some(s) = &self.store {
            s.close().await;
        }
    }
}

pub(crate) async fn load_agreements(db: &Db) -> Result<Vec<Agreement>, AuditDbError> {
    let mut out = Vec::new();
    for body in db.agreements().await? {
        match serde_json::from_str::<Agreement>(&body) {
            Ok(a) => out.push(a),
            Err(e) => tracing::error!(error = %e, "stored agreement does not parse; ignored"),
        }
    }
    Ok(out)
}

/// Checks the store for a new snapshot every `reload_secs`.
pub fn spawn_reloader(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let secs = state.config.reload_secs;
        if secs == 0 || state.store.is_none() {
            return;
        }
        let mut tick = tokio::time::interval(Duration::from_secs(secs));
        tick.tick().await;
        loop {
            tick.tick().await;
            match state.reload_index(false).await {
                Ok(true) => tracing::info!("new snapshot loaded into the index"),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "index reload failed"),
            }
        }
    })
}

/// How often a running node re-reads its agreements from the database.
pub const AGREEMENT_POLL: Duration = Duration::from_secs(2);

/// Re-reads the agreements from the database every [`AGREEMENT_POLL`]: the safety net for a
/// change written straight into the database (`sinergi pks` when it cannot reach the
/// running node). `sinergi pks` normally hands the change to the running node itself
/// (`admin.rs`), which applies it before it answers, with no window.
pub fn spawn_agreement_watcher(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(AGREEMENT_POLL);
        tick.tick().await;
        let mut last: Option<Vec<String>> = None;
        loop {
            tick.tick().await;
            // Under the admin API's lock: never overwrite its fresher refresh with this read.
            let _guard = state.agreements_write.lock().await;
            match state.db.agreements().await {
                Ok(bodies) if last.as_ref() != Some(&bodies) => {
                    let parsed = bodies
                        .iter()
                        .filter_map(|b| match serde_json::from_str::<Agreement>(b) {
                            Ok(a) => Some(a),
                            Err(e) => {
                                tracing::error!(error = %e, "stored agreement does not parse; ignored");
                                None
                            }
                        })
                        .collect();
                    let _epoch = state.decisions.write().await;
                    *state.agreements.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(parsed);
                    last = Some(bodies);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "agreements reload failed"),
            }
        }
    })
}

/// Whether a hosted member provides a service answered with the engine's registries.
fn hosts_engine_service(hosted: &BTreeMap<ClientId, Hosted>) -> bool {
    hosted.values().any(|h| {
        h.services
            .iter()
            .any(|s| crate::services::Kind::parse(s).is_some_and(|(k, _)| k.uses_engine()))
    })
}

/// The engine's registries over the store (the linkage index of the population registry):
/// the same code `sinergi validate` links with.
async fn load_identity(
    store: &Store,
) -> Result<Arc<sinergi_engine::embedded::Embedded>, StartError> {
    let (registries, _) = sinergi_engine::Registries::load(store, &[])
        .await
        .map_err(|e| StartError::Store(e.to_string()))?;
    Ok(Arc::new(sinergi_engine::embedded::Embedded::new(Arc::new(
        registries,
    ))))
}
