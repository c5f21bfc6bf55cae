//! Benchmark of the synthetic generator.
//!
//! `cargo bench -p sinergi-synth --bench synth -- --people 10000000 [--seed 1]
//!  [--anomalies default] [--out DIR] [--keep]`
//!
//! Prints people/s, wall seconds, peak RSS (VmHWM from /proc/self/status) and output sizes.
//! Without `--out`, writes into a temporary directory that is removed afterwards unless
//! `--keep` is given.

use std::path::PathBuf;
use std::time::Instant;

use sinergi_synth::{AnomalyLevel, Phase, SynthConfig, generate};

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let mut people: u64 = 1_000_000;
    let mut seed: u64 = 1;
    let mut anomalies = AnomalyLevel::Default;
    let mut out: Option<PathBuf> = None;
    let mut keep = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--people" => {
                people = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--people N")
            }
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).expect("--seed S"),
            "--anomalies" => {
                anomalies = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--anomalies none|default|high")
            }
            "--out" => out = args.next().map(PathBuf::from),
            "--keep" => keep = true,
            // cargo bench passes --bench; ignore unknown flags.
            _ => {}
        }
    }
    let temp = out.is_none();
    let dir = out.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("sinergi-synth-bench-{}", std::process::id()))
    });
    let cfg = SynthConfig {
        people,
        seed,
        anomalies,
        ..SynthConfig::default()
    };
    eprintln!(
        "generating {people} people (seed {seed}) into {}",
        dir.display()
    );
    let start = Instant::now();
    let mut pass1_end = None;
    let summary = generate(&cfg, &dir, &mut |p| {
        if p.phase == Phase::Rosters && pass1_end.is_none() {
            pass1_end = Some(start.elapsed());
        }
    })
    .expect("generation succeeds");
    let secs = start.elapsed().as_secs_f64();
    let total_bytes: u64 = summary.files.iter().map(|f| f.bytes).sum();
    println!("people:        {}", summary.people);
    println!("families:      {}", summary.families);
    println!("seconds:       {secs:.1}");
    if let Some(p1) = pass1_end {
        println!(
            "  agency files {:.1} s, rosters + truth + hashes {:.1} s",
            p1.as_secs_f64(),
            secs - p1.as_secs_f64()
        );
    }
    println!("people/s:      {:.0}", summary.people as f64 / secs);
    if let Some(kib) = vm_hwm_kib() {
        println!("peak RSS:      {:.0} MiB (VmHWM)", kib as f64 / 1024.0);
    }
    println!("output:        {:.1} MiB", total_bytes as f64 / 1048576.0);
    for f in &summary.files {
        println!(
            "  {:<34} {:>12} rows {:>10.1} MiB",
            f.path,
            f.rows,
            f.bytes as f64 / 1048576.0
        );
    }
    if temp && !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
