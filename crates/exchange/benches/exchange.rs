//! Throughput of the exchange hot path on this machine (one thread):
//! `cargo bench -p sinergi-exchange`. Prints rates; asserts nothing.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use sinergi_exchange::audit::{ChainHead, request_hash};
use sinergi_exchange::httpsig::{MemberKey, Request, SignOptions, sign_request};
use sinergi_exchange::{
    AccessRequest, Agreement, AuditRecord, ClientId, NodeSecret, Quota, QuotaTracker, RegionScope,
    ServiceGrant, ServiceId, SigningKey, Timestamp, Verifier, VerifyConfig, decide, subject_hash,
};

fn rate(name: &str, n: u64, f: impl FnOnce()) {
    let t = Instant::now();
    f();
    let s = t.elapsed().as_secs_f64();
    println!(
        "{name:<28} {n:>8} in {s:>7.3} s  = {:>10.0}/s  ({:>7.2} µs each)",
        n as f64 / s,
        s * 1e6 / n as f64
    );
}

fn main() {
    let client = ClientId::new("ID", "GOV", "DINSOS-3301", "BANSOS").unwrap();
    let provider = ClientId::new("ID", "GOV", "KEMENDAGRI-DUKCAPIL", "DATA").unwrap();
    let key = SigningKey::from_bytes(&[7; 32]);
    let mut keys = HashMap::new();
    keys.insert(
        "k1".to_owned(),
        MemberKey {
            client: client.clone(),
            key: key.verifying_key(),
        },
    );
    let uri = "https://node.example/r1/ID/GOV/KEMENDAGRI-DUKCAPIL/DATA/verifikasi_nik";
    let body = br#"{"nik":"3301010101010001","fields":["nama"]}"#;
    let now = 1_750_000_000;
    let n = 20_000u64;

    let mut signed = Vec::with_capacity(n as usize);
    rate("sign (ed25519 + base)", n, || {
        for i in 0..n {
            let nonce = format!("bench-nonce-{i:016}");
            let h = sign_request(
                &key,
                "POST",
                uri,
                &Vec::<(String, String)>::new(),
                body,
                &SignOptions {
                    label: "sig1",
                    key_id: "k1",
                    created: now,
                    expires: now + 60,
                    nonce: &nonce,
                    extra_components: &[],
                },
            )
            .unwrap();
            signed.push(vec![
                ("Content-Digest".to_owned(), h.content_digest),
                ("Signature-Input".to_owned(), h.signature_input),
                ("Signature".to_owned(), h.signature),
            ]);
        }
    });
    let verifier = Verifier::new(VerifyConfig::default());
    rate("verify (full profile)", n, || {
        for h in &signed {
            let req = Request {
                method: "POST",
                target_uri: uri,
                headers: h,
                body,
            };
            verifier.verify(&req, &keys, now + 1).unwrap();
        }
    });

    let secret = NodeSecret::from_bytes([1; 32]);
    let mut head = ChainHead::default();
    let record = |i: u64| AuditRecord {
        at: Timestamp(i as i64),
        node: "ID/GOV/KEMENDAGRI-DUKCAPIL/NODE-1".into(),
        request_id: "8f14e45f-ceea-467f-a8f1-0bd6d6a3c1a2".into(),
        client: client.to_string(),
        service: "ID/GOV/KEMENDAGRI-DUKCAPIL/DATA/verifikasi_nik".into(),
        purpose: "VALIDASI_BANSOS".into(),
        pks_id: Some("PKS-001".into()),
        user_id: "petugas01".into(),
        issue: "SK-12/2025".into(),
        decision: "ALLOWED".into(),
        clause: "PKS-001#grant".into(),
        subject_hash: Some(subject_hash(&secret, "3301010101010001")),
        status: 200,
        latency_us: 420,
        request_hash: request_hash("POST", uri, body),
    };
    let n_audit = 200_000u64;
    let records: Vec<AuditRecord> = (0..n_audit).map(record).collect();
    rate("audit append (link + hash)", n_audit, || {
        for r in records {
            black_box(head.append(r));
        }
    });

    let agreement = Agreement {
        id: "PKS-001".into(),
        provider: provider.clone(),
        consumer: client.clone(),
        services: vec![ServiceGrant {
            service_code: "verifikasi_nik".into(),
            fields: vec!["nama".into(), "tgl_lahir".into()],
        }],
        purposes: vec!["VALIDASI_BANSOS".into()],
        legal_basis: "PKS".into(),
        region_scope: RegionScope::Regions(vec!["33.01".into()]),
        valid_from: Timestamp(0),
        valid_until: Timestamp(i64::MAX),
        quota: Quota {
            per_second: u32::MAX,
            per_day: u64::MAX,
        },
        status_history: vec![],
    };
    let agreements = vec![agreement];
    let quotas = QuotaTracker::default();
    let req = AccessRequest {
        consumer: client,
        service: ServiceId::new(provider, "verifikasi_nik").unwrap(),
        purpose: "VALIDASI_BANSOS".into(),
        pks_id: None,
        subject_region: Some("33.01.02.2001".into()),
        fields_requested: vec!["nama".into()],
        at: Timestamp(1),
    };
    rate("decide (1 agreement, quota)", n_audit, || {
        for i in 0..n_audit {
            let mut r = req.clone();
            r.at = Timestamp(i as i64);
            assert!(black_box(decide(&agreements, &quotas, &r)).allowed);
        }
    });
}
