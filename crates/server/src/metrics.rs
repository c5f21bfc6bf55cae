//! Prometheus text metrics: per service and status, request counts and latency histograms.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

/// Histogram bucket upper bounds, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The node's counters.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, u16), Series>>,
}

impl Metrics {
    /// Records one request to `service` that ended with `status` after `secs`.
    pub fn record(&self, service: &str, status: u16, secs: f64) {
        let mut m = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let s = match m.get_mut(&(service.to_owned(), status)) {
            Some(s) => s,
            None => m.entry((service.to_owned(), status)).or_default(),
        };
        s.count += 1;
        s.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let m = self
            .series
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut out = String::new();
        out.push_str(
            "# HELP sinergi_requests_total Requests to services, by service and HTTP status.\n",
        );
        out.push_str("# TYPE sinergi_requests_total counter\n");
        for ((svc, st), s) in &m {
            let _ = writeln!(
                out,
                "sinergi_requests_total{{service=\"{svc}\",status=\"{st}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP sinergi_request_duration_seconds Time from request to answer, including the durable audit write.\n");
        out.push_str("# TYPE sinergi_request_duration_seconds histogram\n");
        let mut by_svc: BTreeMap<&str, Series> = BTreeMap::new();
        for ((svc, _), s) in &m {
            let t = by_svc.entry(svc.as_str()).or_default();
            t.count += s.count;
            t.sum += s.sum;
            for i in 0..BUCKETS.len() {
                t.buckets[i] += s.buckets[i];
            }
        }
        for (svc, s) in by_svc {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "sinergi_request_duration_seconds_bucket{{service=\"{svc}\",le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "sinergi_request_duration_seconds_bucket{{service=\"{svc}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "sinergi_request_duration_seconds_sum{{service=\"{svc}\"}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "sinergi_request_duration_seconds_count{{service=\"{svc}\"}} {}",
                s.count
            );
        }
        out
    }
}

/// `GET /metrics`.
pub async fn handler(State(st): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(),
    )
}
