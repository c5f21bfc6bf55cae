//! Exchange-node benchmark program (loopback only, bounded in count and time).
//!
//! `cargo bench -p sinergi-server --bench node -- serve SECS [PERSONS]`
//!   starts a Dukcapil node (PERSONS synthetic persons, default 100,000) and a bare axum
//!   hello-world on 127.0.0.1, writes `target/bench-node.env` (ports, token, body file) for
//!   wrk, and stops after SECS seconds.
//! `cargo bench -p sinergi-server --bench node -- signed RATE SECS`
//!   open-loop load at a fixed RATE for SECS seconds of signed `verifikasi-identitas`
//!   requests and, in the same run, of token requests and of the hello-world route; latency
//!   is measured from each request's scheduled time (no coordinated omission). A first row,
//!   `token-cold`, is the node's first audited traffic after its start. Requests are
//!   built (and signed) before each timed window and sent from a thread with a runtime of
//!   its own, so the generator is a separate client as wrk or oha would be.
//! `cargo bench -p sinergi-server --bench node -- batch N`
//!   one `verifikasi-identitas-batch` call with N NIKs (NDJSON in, NDJSON out).

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sinergi_exchange::httpsig::{SignOptions, generate_signing_key, new_nonce, sign_request};
use sinergi_exchange::token::token_from_bytes;
use sinergi_exchange::{Agreement, ClientId, Quota, RegionScope, ServiceGrant, SigningKey};
use sinergi_model::standard::{Record, Table, Value as V};
use sinergi_server::config::{
    MemberConfig, NodeConfig, PeerConfig, PeerMember, TokenConfig, public_key_b64, token_hash_hex,
};
use sinergi_store::{DatasetMeta, LoadMode, LoadStats, Store};

const DUKCAPIL: &str = "ID/GOV/KEMENDAGRI-DUKCAPIL/DATA";
const LOKET: &str = "ID/GOV/KEMENDAGRI-DUKCAPIL/LOKET";
const DINSOS: &str = "ID/GOV/DINSOS-3301/BANSOS";

fn cid(s: &str) -> ClientId {
    ClientId::parse_header(s).unwrap()
}

fn nik(i: usize) -> String {
    // 33.01.01, born 01-01-90 .. serial: unique per i (day varies to widen the space).
    format!(
        "3301{:02}{:02}0190{:04}",
        1 + (i / 10_000) % 20,
        1 + (i / 200_000) % 28,
        i % 10_000
    )
}

async fn seed(db: &Path, persons: usize) {
    let store = Store::open(Some(&format!("sqlite://{}", db.display())))
        .await
        .unwrap();
    let meta = DatasetMeta {
        name: "dukcapil-penduduk".into(),
        table: Table::Person,
        owner_agency: "Dukcapil".into(),
        description: "bench".into(),
        reference_codes: vec![],
        update_cadence: "monthly".into(),
    };
    let mut l = store.begin_load(&meta, LoadMode::Snapshot).await.unwrap();
    let t = Table::Person;
    let i = |f: &str| t.field_index(f).unwrap();
    let mut batch = Vec::with_capacity(5000);
    for n in 0..persons {
        let mut v = vec![V::Null; t.fields().len()];
        v[i("nik")] = V::Text(nik(n));
        v[i("kk")] = V::Text("3301010101100001".into());
        v[i("name")] = V::Text(format!("WARGA {n}"));
        v[i("sex")] = V::Text("L".into());
        v[i("birth_date")] = V::Text("1990-01-01".into());
        v[i("region")] = V::Text("3301012001".into());
        batch.push(Record {
            table: t,
            values: v,
        });
        if batch.len() == 5000 {
            l.insert(&batch).await.unwrap();
            batch.clear();
        }
    }
    l.insert(&batch).await.unwrap();
    l.commit(LoadStats::default()).await.unwrap();
    store.close().await;
}

struct Setup {
    node: sinergi_server::Running,
    hello: std::net::SocketAddr,
    dinsos: SigningKey,
    token: String,
    _dir: tempfile::TempDir,
}

async fn setup(persons: usize) -> Setup {
    let dir = tempfile::TempDir::new().unwrap();
    let t0 = Instant::now();
    seed(&dir.path().join("sinergi.db"), persons).await;
    eprintln!(
        "seeded {persons} persons in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    let dinsos = generate_signing_key().unwrap();
    let token = token_from_bytes(&[3; 32]);
    let mut c = NodeConfig::parse("bench", "").unwrap();
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.node_name = "bench-dukcapil".into();
    c.data_dir = dir.path().to_path_buf();
    c.reload_secs = 0;
    c.members.push(MemberConfig {
        id: cid(DUKCAPIL),
        name: "Dukcapil".into(),
        key_file: None,
        key_id: None,
        services: vec![
            "verifikasi-identitas".into(),
            "verifikasi-identitas-batch".into(),
        ],
    });
    c.peers.push(PeerConfig {
        base_url: "http://127.0.0.1:9".into(),
        members: vec![PeerMember {
            id: cid(DINSOS),
            name: "Dinsos".into(),
            key_id: format!("{DINSOS}#1"),
            public_key: public_key_b64(&dinsos),
            services: vec![],
        }],
    });
    c.tokens.push(TokenConfig {
        hash: token_hash_hex(&token.hash),
        client: cid(LOKET),
        label: "bench".into(),
        expires_at: None,
        revoked_at: None,
    });
    for (id, consumer) in [("PKS-BENCH-DINSOS", DINSOS), ("PKS-BENCH-LOKET", LOKET)] {
        c.agreements.push(
            Agreement {
                id: id.into(),
                provider: cid(DUKCAPIL),
                consumer: cid(consumer),
                services: vec![
                    ServiceGrant {
                        service_code: "verifikasi-identitas".into(),
                        fields: vec!["nama".into()],
                    },
                    ServiceGrant {
                        service_code: "verifikasi-identitas-batch".into(),
                        fields: vec!["nama".into()],
                    },
                ],
                purposes: vec!["VALIDASI_BANSOS".into()],
                legal_basis: "bench".into(),
                region_scope: RegionScope::Regions(vec!["33".into()]),
                valid_from: sinergi_exchange::Timestamp(0),
                valid_until: sinergi_exchange::Timestamp(1),
                quota: Quota {
                    per_second: 1_000_000,
                    per_day: 1_000_000_000,
                },
                status_history: vec![],
            }
            .with_dates("2025-01-01", "2030-12-31")
            .unwrap(),
        );
    }
    let node = sinergi_server::spawn(c).await.unwrap();
    let hello_app = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hello = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, hello_app).await });
    Setup {
        node,
        hello,
        dinsos,
        token: token.plaintext,
        _dir: dir,
    }
}

type Http = Client<HttpConnector, Full<Bytes>>;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Signed,
    Token,
    Hello,
}

/// Builds request `i` of a run, signing it when `mode` is `Signed`. Called before the timed
/// window: the generator then only sends, as wrk or oha would, and the signing cost (which
/// belongs to the calling agency's host) is not charged to the node's latency.
fn build(s: &Setup, mode: Mode, i: usize, valid_secs: i64) -> hyper::Request<Full<Bytes>> {
    let path = format!("/r1/{DUKCAPIL}/verifikasi-identitas");
    let url = format!("http://{}{path}", s.node.addr);
    let body = format!(
        "{{\"nik\":\"{}\",\"nama\":\"WARGA {i}\"}}",
        nik(i % 100_000)
    )
    .into_bytes();
    // Origin-form target and a Host header, as an HTTP/1.1 client sends them; the node
    // rebuilds the signed `@target-uri` from the two.
    let mut b = hyper::Request::builder()
        .method("POST")
        .uri(&path)
        .header("host", s.node.addr.to_string());
    match mode {
        Mode::Hello => {
            return hyper::Request::builder()
                .method("GET")
                .uri("/hello")
                .header("host", s.hello.to_string())
                .body(Full::new(Bytes::new()))
                .unwrap();
        }
        Mode::Token => {
            b = b
                .header("authorization", format!("Bearer {}", s.token))
                .header("x-road-client", LOKET)
                .header("x-sinergi-purpose", "VALIDASI_BANSOS");
        }
        Mode::Signed => {
            let h = [
                ("x-road-client", DINSOS),
                ("x-sinergi-purpose", "VALIDASI_BANSOS"),
            ];
            let now = sinergi_server::now().as_secs();
            let nonce = new_nonce().unwrap();
            let signed = sign_request(
                &s.dinsos,
                "POST",
                &url,
                &h[..],
                &body,
                &SignOptions {
                    label: "sig1",
                    key_id: &format!("{DINSOS}#1"),
                    created: now,
                    expires: now + valid_secs,
                    nonce: &nonce,
                    extra_components: &["x-road-client", "x-sinergi-purpose"],
                },
            )
            .unwrap();
            for (k, v) in h {
                b = b.header(k, v);
            }
            b = b
                .header("content-digest", signed.content_digest)
                .header("signature-input", signed.signature_input)
                .header("signature", signed.signature);
        }
    }
    b.body(Full::new(Bytes::from(body))).unwrap()
}

/// Open-loop fixed-rate run; returns (achieved rps, p50, p99, max in ms, errors).
///
/// The generator works as oha does: [`CONNECTIONS`] keep-alive HTTP/1.1 connections opened
/// before the window, each driven by one task that takes the next due request; a dispatcher
/// releases request `i` at `start + i / rate` whether or not earlier ones are answered (open
/// loop), and latency counts from that due time (no coordinated omission). It runs on a thread
/// of its own with a single-threaded runtime, apart from the node's runtime (as a separate
/// load-generator process would be): the two share the cores through the OS scheduler, not
/// through one tokio run queue.
///
/// With `NODE_BENCH_TRACE=DIR` in the environment, every request's latency is written to
/// `DIR/{name}.txt` (to see when the slow ones happen).
fn fixed_rate(
    s: &Setup,
    name: &str,
    mode: Mode,
    rate: u64,
    secs: u64,
) -> (f64, f64, f64, f64, usize) {
    let trace = std::env::var_os("NODE_BENCH_TRACE")
        .map(|d| std::path::Path::new(&d).join(format!("{name}.txt")));
    let total = (rate * secs) as usize;
    // Signatures made now must still be valid at the end of the run.
    let valid = secs as i64 + 60;
    let requests: Vec<_> = (0..total).map(|i| build(s, mode, i, valid)).collect();
    let addr = if mode == Mode::Hello {
        s.hello
    } else {
        s.node.addr
    };
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(send_at_rate(addr, requests, rate, trace))
            })
            .join()
            .unwrap()
    })
}

/// Connections the generator keeps open (oha's `-c`).
const CONNECTIONS: usize = 64;

type Due = (usize, Instant, hyper::Request<Full<Bytes>>);

async fn send_at_rate(
    addr: std::net::SocketAddr,
    requests: Vec<hyper::Request<Full<Bytes>>>,
    rate: u64,
    trace: Option<std::path::PathBuf>,
) -> (f64, f64, f64, f64, usize) {
    let total = requests.len();
    let period = Duration::from_nanos(1_000_000_000 / rate);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Due>();
    let rx = std::sync::Arc::new(tokio::sync::Mutex::new(rx));
    let mut workers = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let rx = rx.clone();
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let next = rx.lock().await.recv().await;
                let Some((i, due, req)) = next else { break };
                let st = match sender.ready().await {
                    Ok(()) => match sender.send_request(req).await {
                        Ok(r) => {
                            let st = r.status().as_u16();
                            let _ = r.into_body().collect().await;
                            st
                        }
                        Err(_) => 0,
                    },
                    Err(_) => 0,
                };
                done.push((i, st, due.elapsed()));
            }
            done
        }));
    }
    // The dispatcher is an OS thread sleeping with the kernel's timer (tens of µs late at
    // most), not tokio's, whose 1 ms granularity would add up to 1 ms of the generator's own
    // lateness to every request's latency.
    let start = Instant::now();
    let dispatcher = std::thread::spawn(move || {
        for (i, req) in requests.into_iter().enumerate() {
            let due = start + period * i as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if tx.send((i, due, req)).is_err() {
                break;
            }
        }
    });
    // Awaited before the join: the workers run on this thread, and end when the dispatcher,
    // done, drops the sender.
    let mut results = vec![(0u16, Duration::ZERO); total];
    for w in workers {
        for (i, st, d) in w.await.unwrap() {
            results[i] = (st, d);
        }
    }
    dispatcher.join().unwrap();
    let mut lat = Vec::with_capacity(total);
    let mut errors = 0;
    for (st, d) in results {
        if st != 200 {
            errors += 1;
        }
        lat.push(d.as_secs_f64() * 1000.0);
    }
    let elapsed = start.elapsed().as_secs_f64();
    if let Some(path) = trace {
        // One line per request in sending order: due time and latency, both in ms.
        let mut out = String::from("due_ms latency_ms\n");
        for (i, l) in lat.iter().enumerate() {
            let due = (period * i as u32).as_secs_f64() * 1000.0;
            out.push_str(&format!("{due:.3} {l:.3}\n"));
        }
        std::fs::write(&path, out).unwrap();
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    (
        total as f64 / elapsed,
        p(0.5),
        p(0.99),
        *lat.last().unwrap(),
        errors,
    )
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        match args.first().map(String::as_str) {
            Some("serve") => {
                let secs: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(60).min(900);
                let persons: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100_000);
                let s = setup(persons).await;
                let body = format!("{{\"nik\":\"{}\",\"nama\":\"WARGA 7\"}}", nik(7));
                let env = format!(
                    "NODE=http://{}\nHELLO=http://{}\nTOKEN={}\nLOKET={LOKET}\nURL=http://{}/r1/{DUKCAPIL}/verifikasi-identitas\nBODY={body}\n",
                    s.node.addr, s.hello, s.token, s.node.addr
                );
                std::fs::write("target/bench-node.env", env).unwrap();
                eprintln!("serving for {secs}s; see target/bench-node.env");
                tokio::time::sleep(Duration::from_secs(secs)).await;
                let t = Instant::now();
                s.node.stop().await.unwrap();
                eprintln!("graceful stop (audit drained) in {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
            }
            Some("signed") => {
                let rate: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000).min(20_000);
                let secs: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10).min(60);
                let s = setup(100_000).await;
                // The first audited traffic after a start also allocates the audit WAL file
                // (a one-time cost of tens of ms, measured): reported as its own row, then
                // the same routes in steady state.
                for (name, mode) in [("token-cold", Mode::Token), ("hello-world", Mode::Hello), ("token", Mode::Token), ("signed", Mode::Signed)] {
                    let (rps, p50, p99, max, err) = tokio::task::block_in_place(|| fixed_rate(&s, name, mode, rate, secs));
                    println!("{name:12} rate {rate}/s x {secs}s: achieved {rps:.0}/s, p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms, non-200 {err}");
                }
                let metrics = reqwestless_get(&format!("http://{}/metrics", s.node.addr)).await;
                for l in metrics.lines().filter(|l| !l.starts_with('#')) {
                    println!("  {l}");
                }
            }
            Some("batch") => {
                let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000).min(1_000_000);
                let s = setup(n.max(1000)).await;
                let mut body = String::with_capacity(n * 48);
                for i in 0..n {
                    body.push_str(&format!("{{\"nik\":\"{}\",\"nama\":\"WARGA {i}\"}}\n", nik(i)));
                }
                let http: Http = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
                let url = format!("http://{}/r1/{DUKCAPIL}/verifikasi-identitas-batch?fields=nama", s.node.addr);
                let req = hyper::Request::builder().method("POST").uri(&url)
                    .header("authorization", format!("Bearer {}", s.token))
                    .header("x-road-client", LOKET)
                    .header("x-sinergi-purpose", "VALIDASI_BANSOS")
                    .body(Full::new(Bytes::from(body))).unwrap();
                let t = Instant::now();
                let resp = http.request(req).await.unwrap();
                let first = t.elapsed();
                let out = resp.into_body().collect().await.unwrap().to_bytes();
                let total = t.elapsed();
                let lines = out.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
                let ok = out.split(|b| *b == b'\n').filter(|l| l.windows(6).any(|w| w == b"sesuai")).count();
                println!("batch {n} NIKs: {lines} lines out ({ok} answered), headers after {:.0} ms, complete in {:.2} s ({:.0} NIK/s, every line audited)",
                    first.as_secs_f64() * 1000.0, total.as_secs_f64(), n as f64 / total.as_secs_f64());
                s.node.stop().await.unwrap();
            }
            _ => eprintln!("usage: node (serve SECS [PERSONS] | signed RATE SECS | batch N)"),
        }
    });
}

async fn reqwestless_get(url: &str) -> String {
    let http: Http = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let r = http
        .request(
            hyper::Request::get(url)
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    String::from_utf8_lossy(&r.into_body().collect().await.unwrap().to_bytes()).into_owned()
}
