//! The operator's side of the admin API: `sinergi pks` and `sinergi audit`, run on the node's
//! machine with its configuration, find the running node and hand their work to it, signed
//! with the node's own key (`admin.rs` accepts that key as an admin credential).
//!
//! Why through the node and not straight into its database: a node re-reads its agreements
//! only now and then, so a revocation written into the database is in force only at the next
//! read, and requests decided in between were allowed after the recorded revocation time.
//! Through the node, the change takes the lock every decision takes: it is in force for every
//! request decided after it. When no node answers at the configured address, the commands
//! fall back to the database (the node, when it starts, reads it).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use serde_json::Value;

use crate::client::{CallMeta, HttpClient, send_signed};
use crate::config::NodeConfig;
use crate::state::Hosted;

/// How long the operator waits for the node to say who it is.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an admin call through the node may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A running node, reachable with its own key.
pub struct Operator {
    base: String,
    client: HttpClient,
    signer: Hosted,
}

/// The address an operator reaches the node at: its `listen` address, with the loopback
/// address for an unspecified one (`0.0.0.0`, `::`).
pub fn local_url(config: &NodeConfig) -> String {
    let mut addr = config.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("{}://{addr}", config.scheme())
}

impl Operator {
    /// The node of this configuration, when it runs: something answers `/healthz` at its
    /// address with the configuration's node name. `None` otherwise (not running, another
    /// program on the port, or not reachable at that address).
    pub async fn find(config: &NodeConfig) -> Option<Operator> {
        if config.listen.port() == 0 {
            return None;
        }
        let client = crate::client::new_client(config.tls.as_ref()).ok()?;
        let base = local_url(config);
        let req = hyper::Request::builder()
            .method("GET")
            .uri(format!("{base}/healthz"))
            .body(Full::new(Bytes::new()))
            .ok()?;
        let probe = async {
            let resp = client.request(req).await.ok()?;
            if resp.status() != 200 {
                return None;
            }
            let body = resp.into_body().collect().await.ok()?.to_bytes();
            serde_json::from_slice::<Value>(&body).ok()
        };
        let health = tokio::time::timeout(PROBE_TIMEOUT, probe).await.ok()??;
        if health["node"] != config.node_name.as_str() {
            return None;
        }
        let key = config.node_key().ok()?;
        Some(Operator {
            base,
            client,
            signer: Hosted {
                id: crate::admin::admin_client(),
                name: String::new(),
                key,
                key_id: crate::admin::admin_key_id(&config.node_name),
                services: Vec::new(),
            },
        })
    }

    /// The node's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Calls an admin route (`path` from `/admin/...`) signed with the node's key;
    /// `user` goes to the audit entry as `X-Road-UserId`. The status and the JSON answer
    /// (`Null` when the body is not JSON).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        user: &str,
    ) -> Result<(u16, Value), String> {
        let request_id = sinergi_exchange::httpsig::new_nonce().map_err(|e| e.to_string())?;
        let meta = CallMeta {
            request_id: &request_id,
            user_id: user,
            issue: "",
            purpose: "ADMIN",
            pks: None,
        };
        let url = format!("{}{path}", self.base);
        let (status, answer) = send_signed(
            &self.client,
            &self.signer,
            method,
            &url,
            body,
            &meta,
            CALL_TIMEOUT,
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok((
            status,
            serde_json::from_slice(&answer).unwrap_or(Value::Null),
        ))
    }
}
