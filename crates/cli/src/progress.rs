//! Progress bars on standard error (indicatif). Hidden when stderr is not a terminal, so
//! logs and CI output stay clean.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar counting `unit` (e.g. "orang", "baris") towards `total`.
pub fn bar(total: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:<28} [{bar:30}] {human_pos}/{human_len} ({per_sec}, sisa {eta})",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar
}

/// A bar over bytes of input.
pub fn bytes_bar(message: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:<28} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, sisa {eta})",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar
}
