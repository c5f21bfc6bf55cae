//! `sinergi synth`: write a synthetic Indonesia as every agency's native files.

use std::path::PathBuf;
use std::process::ExitCode;

use sinergi_synth::{AnomalyLevel, NikDensity, Phase, Summary, SynthConfig, generate};

use crate::progress;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Jumlah penduduk sintetis. [en] Number of synthetic people.
    #[arg(long, default_value_t = 100_000)]
    pub people: u64,
    /// Benih acak; benih yang sama menghasilkan berkas yang identik.
    /// [en] Random seed; the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder keluaran. [en] Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Tingkat anomali daftar penerima: none, default, high.
    /// [en] Anomaly level of the recipient lists: none, default, high.
    #[arg(long, default_value = "default")]
    pub anomalies: AnomalyLevel,
    /// Jumlah baris daftar penerima suatu program, mis. PBI_JK=1000000 (maks. 1.000.000;
    /// dapat diulang); bawaan: sesuai porsi program. Untuk uji kinerja; berkas instansi tidak
    /// berubah.
    /// [en] Rows of one programme's recipient list, e.g. PBI_JK=1000000 (at most 1,000,000;
    /// repeatable); default: the programme's share. For benchmarks; the agencies' files do not
    /// change.
    #[arg(long, value_parser = parse_roster_rows)]
    pub roster_rows: Vec<(String, u64)>,
    /// Kepadatan ruang NIK: sparse (NIK tersebar, jarang bertetangga) atau national (sepadat
    /// data nasional: puluhan NIK terdaftar berjarak satu digit dari NIK biasa); bawaan:
    /// national untuk --anomalies high, selain itu sparse.
    /// [en] NIK space density: sparse (NIKs scattered, few neighbours) or national (as crowded
    /// as the national registry: tens of registered NIKs one digit away from a typical NIK);
    /// default: national with --anomalies high, otherwise sparse.
    #[arg(long)]
    pub nik_density: Option<NikDensity>,
    /// Kebiasaan salah tulis daftar nyata (tanggal lahir pengganti 01-01/31-12, salah ketik
    /// hari dan nama, BIN/BINTI, kata nama hilang, inisial): on atau off; bawaan: on untuk
    /// --anomalies high, selain itu off.
    /// [en] The error habits of real lists (default birth dates 01-01/31-12, mistyped days and
    /// names, BIN/BINTI, dropped name words, initials): on or off; default: on with
    /// --anomalies high, otherwise off.
    #[arg(long, value_parser = parse_on_off)]
    pub habits: Option<bool>,
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "on" | "ya" | "true" | "1" => Ok(true),
        "off" | "tidak" | "false" | "0" => Ok(false),
        _ => Err(crate::tr!(
            "'{s}': tulis on atau off",
            "'{s}': write on or off"
        )),
    }
}

/// `PROGRAM=ROWS`, the programme one of the four demo programmes.
fn parse_roster_rows(s: &str) -> Result<(String, u64), String> {
    let (p, n) = s.split_once('=').ok_or_else(|| {
        format!("'{s}': tulis PROGRAM=JUMLAH, mis. PBI_JK=1000000 (write PROGRAM=ROWS)")
    })?;
    let p = p.trim().to_ascii_uppercase().replace('-', "_");
    if !["PKH", "BPNT", "PBI_JK", "BLT_DD"].contains(&p.as_str()) {
        return Err(format!(
            "program '{p}' tidak dikenal; pilih PKH, BPNT, PBI_JK atau BLT_DD (unknown programme)"
        ));
    }
    let n: u64 = n
        .trim()
        .replace(['.', '_'], "")
        .parse()
        .map_err(|_| format!("'{n}' bukan bilangan bulat (not a whole number)"))?;
    if n == 0 || n > 1_000_000 {
        return Err(crate::tr!(
            "{n}: jumlah baris harus 1 s.d. 1.000.000",
            "{n}: the number of rows must be 1 to 1,000,000"
        ));
    }
    Ok((p, n))
}

/// Generates with a progress bar and returns the summary.
pub fn generate_with_progress(cfg: &SynthConfig, out: &std::path::Path) -> anyhow::Result<Summary> {
    let bar = progress::bar(
        cfg.people,
        &crate::tr!("Membuat data kependudukan", "Generating population data"),
    );
    let mut last_phase = Phase::Agencies;
    let summary = generate(cfg, out, &mut |p| {
        if p.phase != last_phase {
            last_phase = p.phase;
            bar.set_position(0);
            bar.set_message(match p.phase {
                Phase::Agencies => crate::tr!("Membuat data instansi", "Generating agency files"),
                Phase::Rosters => {
                    crate::tr!("Membuat daftar penerima", "Generating recipient lists")
                }
                Phase::Manifest => crate::tr!("Menulis manifest", "Writing the manifest"),
            });
        }
        bar.set_length(p.people_total.max(1));
        bar.set_position(p.people_done);
    })
    .map_err(|e| {
        anyhow::anyhow!(crate::tr!(
            "Gagal membuat data sintetis: {e}",
            "Generating synthetic data failed: {e}"
        ))
    })?;
    bar.finish_and_clear();
    Ok(summary)
}

/// Prints the per-file table.
pub fn print_summary(summary: &Summary, out: &std::path::Path) {
    println!(
        "Data sintetis: {} orang dalam {} keluarga, benih {}, ditulis ke {}",
        summary.people,
        summary.families,
        summary.config.seed,
        out.display()
    );
    println!("{:<40} {:>12} {:>14}", "berkas", "baris", "bita");
    for f in &summary.files {
        println!("{:<40} {:>12} {:>14}", f.path, f.rows, f.bytes);
    }
    let s = &summary.nik_space;
    println!(
        "{}",
        crate::tr!(
            "Ruang NIK: {} kecamatan; rata-rata {} NIK terdaftar berjarak satu digit (median {}), {:.1}% NIK punya tetangga",
            "NIK space: {} districts; on average {} registered NIKs one digit away (median {}), {:.1}% of NIKs have a neighbour",
            s.districts,
            s.one_digit_mean,
            s.one_digit_median,
            s.with_neighbour * 100.0
        )
    );
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cfg = SynthConfig {
        people: args.people,
        seed: args.seed,
        anomalies: args.anomalies,
        roster_rows: args.roster_rows.into_iter().collect(),
        nik_density: args.nik_density,
        habits: args.habits,
        ..SynthConfig::default()
    };
    let summary = generate_with_progress(&cfg, &args.out)?;
    print_summary(&summary, &args.out);
    Ok(ExitCode::SUCCESS)
}
