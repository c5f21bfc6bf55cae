//! TLS (rustls, ring): a node serving HTTPS with the test certificate of `tests/server/tls/`
//! (see the README there), a signed node-to-node call over https through the node's own
//! client code trusting the test CA, a plain-HTTP request to the TLS port failing cleanly, a
//! client without the CA refusing the certificate, and configurations that cannot work.

use std::path::PathBuf;

use serde_json::json;
use sinergi_exchange::Agreement;
use sinergi_server::client::{CallMeta, new_client, send_signed};
use sinergi_server::config::TlsConfig;
use sinergi_server::state::Hosted;
use tempfile::TempDir;

/// How long a test's signed call may take.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

use crate::common::*;

fn tls_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/server/tls")
}

fn serving() -> TlsConfig {
    TlsConfig {
        cert_file: Some(tls_dir().join("node.pem")),
        key_file: Some(tls_dir().join("node.key")),
        ca_file: None,
    }
}

fn trusting_test_ca() -> TlsConfig {
    TlsConfig {
        ca_file: Some(tls_dir().join("ca.pem")),
        ..TlsConfig::default()
    }
}

fn pks() -> Agreement {
    agreement(
        "PKS-DUKCAPIL-DINSOS-TLS",
        DUKCAPIL,
        DINSOS,
        "verifikasi-identitas",
        &[],
    )
}

#[tokio::test]
async fn node_serves_https_and_peers_call_it_over_tls() {
    let dir = TempDir::new().unwrap();
    seed_dukcapil(&dir.path().join("sinergi.db"), 0).await;
    let (dinsos_key, _) = key_file(dir.path(), "dinsos");
    let mut c = config(dir.path(), "dukcapil-tls");
    c.members
        .push(member(DUKCAPIL, None, &["verifikasi-identitas"]));
    c.peers
        .push(peer("https://127.0.0.1:9", DINSOS, &dinsos_key, &[]));
    c.agreements.push(pks());
    c.tls = Some(serving());
    let node = spawn_node(c).await;
    let port = node.addr.port();
    assert!(node.url().starts_with("https://"), "{}", node.url());

    // A consumer node's client (the code path of node-to-node calls), trusting the test CA.
    let client = new_client(Some(&trusting_test_ca())).unwrap();
    let dinsos = Hosted {
        id: cid(DINSOS),
        name: "Dinsos".into(),
        key: dinsos_key.clone(),
        key_id: format!("{DINSOS}#1"),
        services: vec![],
    };
    let meta = CallMeta {
        request_id: "tls-1",
        purpose: "VALIDASI_BANSOS",
        ..CallMeta::default()
    };
    let body = serde_json::to_vec(&json!({"nik": NIK_CILACAP, "nama": "SITI AMINAH"})).unwrap();
    // The certificate names localhost and 127.0.0.1: both verify.
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{port}/r1/{DUKCAPIL}/verifikasi-identitas");
        let (status, answer) =
            send_signed(&client, &dinsos, "POST", &url, body.clone(), &meta, TIMEOUT)
                .await
                .unwrap_or_else(|e| panic!("https call to {host} failed: {e}"));
        let v: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["nama"], "sesuai", "{v}");
    }

    // Plain HTTP to the TLS port: a clean failure (the handshake fails, the connection is
    // closed), never an answer, and the node keeps serving.
    let plain = http();
    let url = format!("http://127.0.0.1:{port}/healthz");
    let r = plain
        .request(
            hyper::Request::get(&url)
                .body(http_body_util::Full::new(bytes::Bytes::new()))
                .unwrap(),
        )
        .await;
    assert!(r.is_err(), "plain HTTP to the TLS port got an answer");

    // A raw TCP client that sends plain HTTP sees the connection closed or an alert, no
    // HTTP response.
    {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut s = tokio::net::TcpStream::connect(node.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(15), s.read_to_end(&mut buf))
            .await
            .expect("the node closes a plain-HTTP connection to its TLS port");
        assert!(
            !buf.starts_with(b"HTTP/"),
            "got an HTTP answer: {:?}",
            String::from_utf8_lossy(&buf)
        );
    }

    // A client that does not trust the test CA refuses the certificate.
    let untrusting = new_client(None).unwrap();
    let url = format!("https://localhost:{port}/r1/{DUKCAPIL}/verifikasi-identitas");
    let err = send_signed(
        &untrusting,
        &dinsos,
        "POST",
        &url,
        body.clone(),
        &meta,
        TIMEOUT,
    )
    .await
    .expect_err("a certificate from an unknown CA must be refused");
    assert!(
        matches!(err, sinergi_server::client::CallError::Http(_)),
        "{err}"
    );

    // Still serving over TLS after all that.
    let url = format!("https://localhost:{port}/r1/{DUKCAPIL}/verifikasi-identitas");
    let (status, _) = send_signed(&client, &dinsos, "POST", &url, body, &meta, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(status, 200);
    node.stop().await.unwrap();
}

#[tokio::test]
async fn tls_configurations_that_cannot_work_are_refused_with_the_file_named() {
    let dir = TempDir::new().unwrap();
    // A certificate without its key.
    let text = format!(
        "[tls]\ncert_file = {:?}\n",
        tls_dir().join("node.pem").display().to_string()
    );
    let e = sinergi_server::NodeConfig::parse("t.toml", &text).unwrap_err();
    assert!(e.to_string().contains("key_file"), "{e}");

    // The key file is not a key.
    let mut c = config(dir.path(), "bad-tls");
    c.tls = Some(TlsConfig {
        cert_file: Some(tls_dir().join("node.pem")),
        key_file: Some(tls_dir().join("ca.pem")),
        ca_file: None,
    });
    let e = match sinergi_server::spawn(c).await {
        Ok(_) => panic!("a node with a certificate as its key started"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("ca.pem"), "{e}");

    // A missing certificate file.
    let mut c = config(dir.path(), "bad-tls");
    c.tls = Some(TlsConfig {
        cert_file: Some(dir.path().join("absent.pem")),
        key_file: Some(tls_dir().join("node.key")),
        ca_file: None,
    });
    let e = match sinergi_server::spawn(c).await {
        Ok(_) => panic!("a node without its certificate started"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("absent.pem"), "{e}");

    // A CA file that holds no certificate.
    let e = match new_client(Some(&TlsConfig {
        ca_file: Some(tls_dir().join("node.key")),
        ..TlsConfig::default()
    })) {
        Ok(_) => panic!("a key is not a CA certificate"),
        Err(e) => e,
    };
    assert!(e.to_string().contains("node.key"), "{e}");
}

async fn spawn_node(c: sinergi_server::NodeConfig) -> sinergi_server::Running {
    sinergi_server::spawn(c).await.expect("TLS node starts")
}
