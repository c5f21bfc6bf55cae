//! `sinergi eval`: precision, recall and F1 of verdicts against the generator's truth.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder truth/ dari `sinergi synth`. [en] The truth/ folder of `sinergi synth`.
    #[arg(long)]
    pub truth: PathBuf,
    /// Folder hasil `sinergi validate` (atau induknya, berisi satu folder per program).
    /// [en] The result folder of `sinergi validate` (or its parent, one folder per programme).
    #[arg(long)]
    pub verdicts: PathBuf,
    /// Cetak sebagai JSON. [en] Print as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let report = sinergi_engine::eval::eval(&args.truth, &args.verdicts)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_table());
    }
    Ok(ExitCode::SUCCESS)
}
