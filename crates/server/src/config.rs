//! Node configuration (TOML): who this node hosts, which services each member provides,
//! its peers, its databases, its secrets and its API tokens.
//!
//! Secrets never sit in the file itself: signing keys, the audit node secret and the node's
//! checkpoint key are files (32 raw bytes as base64), generated into `data_dir` on first
//! start when absent. API tokens are listed by their hash only (`sinergi_exchange::token`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sinergi_exchange::audit::NodeSecret;
use sinergi_exchange::httpsig::generate_signing_key;
use sinergi_exchange::token::TokenHash;
use sinergi_exchange::{Agreement, ClientId, SigningKey, VerifyingKey};

/// The whole node configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Address to listen on, e.g. `127.0.0.1:8480` (port 0: any free port).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The X-Road instance, e.g. `ID`.
    #[serde(default = "default_instance")]
    pub instance: String,
    /// The node's name in its audit log and checkpoints.
    #[serde(default = "default_node_name")]
    pub node_name: String,
    /// Folder for generated keys, the secret and the default SQLite databases.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The node's own store (canonical registries). `None`: `{data_dir}/sinergi.db`.
    #[serde(default)]
    pub database_url: Option<String>,
    /// Where the audit log, agreements and tokens live. `None`: for SQLite a separate file
    /// `{data_dir}/audit.db` (a snapshot load holds SQLite's single write lock for minutes;
    /// the audit writer must not wait behind it); for PostgreSQL the store's database.
    #[serde(default)]
    pub audit_database_url: Option<String>,
    /// File holding the audit node secret (HMAC key of subject hashes). Default
    /// `{data_dir}/audit-secret.key`, generated when absent.
    #[serde(default)]
    pub audit_secret_file: Option<PathBuf>,
    /// File holding the node's Ed25519 key that signs audit checkpoints. Default
    /// `{data_dir}/node.key`, generated when absent.
    #[serde(default)]
    pub node_key_file: Option<PathBuf>,
    /// Sign a checkpoint every this many entries...
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: u64,
    /// ... or after this many seconds with new entries, whichever comes first.
    #[serde(default = "default_checkpoint_secs")]
    pub checkpoint_secs: u64,
    /// Scheme used to rebuild `@target-uri` for signature checks (`https` behind a TLS proxy).
    #[serde(default = "default_scheme")]
    pub public_scheme: String,
    /// Largest request body, bytes (batches: 100,000 NIKs are about 4 MB of NDJSON).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// How long a call to another node (one question, or one chunk of a batch) may take,
    /// answer included; past it the call has failed and its facts are not checked.
    #[serde(default = "default_peer_timeout_secs")]
    pub peer_timeout_secs: u64,
    /// Check the store for a new snapshot every this many seconds (0: never).
    #[serde(default = "default_reload_secs")]
    pub reload_secs: u64,
    /// Hashes (hex of `sinergi_exchange::token::hash_token`) of the admin API tokens.
    #[serde(default)]
    pub admin_token_hashes: Vec<String>,
    /// Members (subsystems) this node hosts.
    #[serde(default)]
    pub members: Vec<MemberConfig>,
    /// API tokens of systems inside a hosted agency.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// Other nodes.
    #[serde(default)]
    pub peers: Vec<PeerConfig>,
    /// Agreements to create at start when absent from the database (demo/bootstrap).
    #[serde(default)]
    pub agreements: Vec<Agreement>,
    /// Other nodes that countersign and keep a copy of each of this node's audit
    /// checkpoints (docs/EXCHANGE.md section 5, "Anchoring"). `sinergi audit verify` checks
    /// the log against their copies.
    #[serde(default)]
    pub witnesses: Vec<WitnessConfig>,
    /// TLS (rustls, ring provider): serve HTTPS, and whom to trust when calling `https://`
    /// peers. Absent: plain HTTP (behind a TLS proxy, set `public_scheme = "https"`).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

/// `[tls]`: PEM files.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain this node serves (leaf first). With `key_file`: the node listens
    /// with TLS only (a plain-HTTP request to its port fails at the handshake).
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// The certificate's private key (PKCS#8, SEC1 or PKCS#1).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// CA certificates trusted when this node calls `https://` peers (e.g. the government's
    /// private CA). Absent: the Mozilla root programme.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// `[[witnesses]]`: a node that witnesses this node's checkpoints. It must list one of this
/// node's members (with its public key) among its `[[peers]]`: the checkpoints are sent as
/// requests signed by that member.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// The witness node's name (its `node_name`), as it signs its receipts.
    pub name: String,
    /// e.g. `https://10.0.0.6:8480`.
    pub base_url: String,
    /// Base64 of the witness node's checkpoint public key (its `node.key`), which signs the
    /// receipts: `sinergi serve --kunci-publik` prints it.
    pub public_key: String,
}

/// A hosted member subsystem.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberConfig {
    /// `INSTANCE/CLASS/CODE/SUBSYSTEM`.
    pub id: ClientId,
    /// Display name (listClients).
    #[serde(default)]
    pub name: String,
    /// Ed25519 signing key file; default `{data_dir}/keys/{CODE}_{SUBSYSTEM}.key`, generated.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The `keyid` to sign with; default `{id}#1`.
    #[serde(default)]
    pub key_id: Option<String>,
    /// Service codes this member provides here.
    #[serde(default)]
    pub services: Vec<String>,
}

impl MemberConfig {
    pub fn key_id(&self) -> String {
        self.key_id
            .clone()
            .unwrap_or_else(|| format!("{}#1", self.id))
    }
}

/// An API token (hash only) for a system inside a hosted agency.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Hex SHA-256 as given by `sinergi_exchange::token::hash_token`.
    pub hash: String,
    /// The system the token stands for.
    pub client: ClientId,
    #[serde(default)]
    pub label: String,
    /// Unix microseconds.
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub revoked_at: Option<i64>,
}

/// Another node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// e.g. `http://10.0.0.5:8480` (no trailing slash).
    pub base_url: String,
    #[serde(default)]
    pub members: Vec<PeerMember>,
}

/// A member hosted by a peer: its public key and the services it provides there.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerMember {
    pub id: ClientId,
    #[serde(default)]
    pub name: String,
    /// The `keyid` it signs with.
    pub key_id: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
    #[serde(default)]
    pub services: Vec<String>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8480))
}
fn default_instance() -> String {
    "ID".into()
}
fn default_node_name() -> String {
    "sinergi-node".into()
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("./sinergi-data")
}
fn default_checkpoint_every() -> u64 {
    10_000
}
fn default_checkpoint_secs() -> u64 {
    60
}
fn default_scheme() -> String {
    "http".into()
}
fn default_max_body() -> usize {
    64 * 1024 * 1024
}
fn default_peer_timeout_secs() -> u64 {
    10
}
fn default_reload_secs() -> u64 {
    30
}

/// Why a configuration or one of its files was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("configuration: {0}")]
    Toml(String),
    #[error("configuration: {0}")]
    Invalid(String),
}

/// The embedded demo configuration: every demo agency in one process.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../../config/node.example.toml");

impl NodeConfig {
    /// Parses TOML text; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<NodeConfig, ConfigError> {
        let cfg: NodeConfig =
            toml::from_str(text).map_err(|e| ConfigError::Toml(format!("{origin}: {e}")))?;
        cfg.check()?;
        Ok(cfg)
    }

    /// Reads a TOML file.
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        NodeConfig::parse(&path.display().to_string(), &text)
    }

    /// The embedded default (all demo agencies in one process).
    pub fn embedded_default() -> NodeConfig {
        NodeConfig::parse("embedded default", EMBEDDED_DEFAULT)
            .expect("the embedded default configuration is valid")
    }

    fn check(&self) -> Result<(), ConfigError> {
        for h in &self.admin_token_hashes {
            parse_hash(h)?;
        }
        for t in &self.tokens {
            parse_hash(&t.hash)?;
        }
        for p in &self.peers {
            for m in &p.members {
                decode_public_key(&m.public_key)?;
            }
        }
        for w in &self.witnesses {
            decode_public_key(&w.public_key)
                .map_err(|e| ConfigError::Invalid(format!("witness {}: {e}", w.name)))?;
            if w.name == self.node_name {
                return Err(ConfigError::Invalid(format!(
                    "witness {}: a node cannot witness itself",
                    w.name
                )));
            }
        }
        for a in &self.agreements {
            a.validate()
                .map_err(|e| ConfigError::Invalid(format!("agreement {}: {e}", a.id)))?;
        }
        if let Some(t) = &self.tls
            && t.cert_file.is_some() != t.key_file.is_some()
        {
            return Err(ConfigError::Invalid(
                "[tls] needs both cert_file and key_file to serve HTTPS (or neither)".into(),
            ));
        }
        Ok(())
    }

    /// The certificate and key to serve with, when TLS is configured.
    pub fn tls_serving(&self) -> Option<(&Path, &Path)> {
        let t = self.tls.as_ref()?;
        Some((t.cert_file.as_deref()?, t.key_file.as_deref()?))
    }

    /// The scheme clients use to reach this node: `https` when it serves TLS itself,
    /// otherwise `public_scheme` (set it to `https` behind a TLS proxy).
    /// `peer_timeout_secs` as a duration (at least one second).
    pub fn peer_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.peer_timeout_secs.max(1))
    }

    pub fn scheme(&self) -> &str {
        if self.tls_serving().is_some() {
            "https"
        } else {
            &self.public_scheme
        }
    }

    pub fn store_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("sinergi.db").display()))
    }

    pub fn audit_url(&self) -> String {
        if let Some(u) = &self.audit_database_url {
            return u.clone();
        }
        match &self.database_url {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => u.clone(),
            _ => format!("sqlite://{}", self.data_dir.join("audit.db").display()),
        }
    }

    /// Where the node's checkpoint key lives.
    pub fn node_key_path(&self) -> PathBuf {
        self.node_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("node.key"))
    }

    /// The node's checkpoint key, generated into its file when absent (as a node does on its
    /// first start).
    pub fn node_key(&self) -> Result<SigningKey, ConfigError> {
        load_signing_key(&self.node_key_path())
    }

    /// A hosted member's signing key, generated into its file when absent.
    pub fn member_signing_key(&self, m: &MemberConfig) -> Result<SigningKey, ConfigError> {
        load_signing_key(&self.member_key_path(m))
    }

    pub fn member_key_path(&self, m: &MemberConfig) -> PathBuf {
        m.key_file.clone().unwrap_or_else(|| {
            self.data_dir
                .join("keys")
                .join(format!("{}_{}.key", m.id.member_code, m.id.subsystem_code))
        })
    }
}

pub(crate) fn parse_hash(h: &str) -> Result<TokenHash, ConfigError> {
    let bad = || ConfigError::Invalid(format!("token hash {h:?} is not 64 hex digits"));
    if h.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(h.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())?;
    }
    Ok(TokenHash(out))
}

/// Hex of a token hash, as written in the configuration.
pub fn token_hash_hex(h: &TokenHash) -> String {
    h.0.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn decode_public_key(b64: &str) -> Result<VerifyingKey, ConfigError> {
    let bytes = STANDARD
        .decode(b64.trim())
        .map_err(|e| ConfigError::Invalid(format!("public key: {e}")))?;
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| ConfigError::Invalid("public key must be 32 bytes".into()))?;
    VerifyingKey::from_bytes(&arr).map_err(|e| ConfigError::Invalid(format!("public key: {e}")))
}

/// Reads 32 bytes (base64) from a file, or generates them into it (mode 0600).
fn read_or_generate(
    path: &Path,
    generate: impl FnOnce() -> Option<[u8; 32]>,
) -> Result<[u8; 32], ConfigError> {
    let err = |reason: String| ConfigError::File {
        path: path.display().to_string(),
        reason,
    };
    if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| err(format!("not base64: {e}")))?;
        return bytes
            .try_into()
            .map_err(|_| err("expected 32 bytes of base64".into()));
    }
    let bytes = generate().ok_or_else(|| err("no random source".into()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    }
    std::fs::write(path, STANDARD.encode(bytes) + "\n").map_err(|e| err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(bytes)
}

pub(crate) fn load_signing_key(path: &Path) -> Result<SigningKey, ConfigError> {
    let b = read_or_generate(path, || generate_signing_key().ok().map(|k| k.to_bytes()))?;
    Ok(SigningKey::from_bytes(&b))
}

pub(crate) fn load_secret(path: &Path) -> Result<NodeSecret, ConfigError> {
    let b = read_or_generate(path, || {
        let mut b = [0u8; 32];
        // NodeSecret keeps its bytes private: generate our own the same way.
        sinergi_exchange::httpsig::generate_signing_key()
            .ok()
            .map(|k| {
                b.copy_from_slice(&k.to_bytes());
                b
            })
    })?;
    Ok(NodeSecret::from_bytes(b))
}

/// The public key of a member's signing key file, base64 (for a peer's configuration).
pub fn public_key_b64(key: &SigningKey) -> String {
    STANDARD.encode(key.verifying_key().as_bytes())
}
