//! Progress bars on standard error (indicatif). Hidden when stderr is not a terminal, so
//! logs and CI output stay clean.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar counting towards a known `total`.
const BAR: &str = "{msg:<28} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {eta_word} {eta})";
/// A counter for work whose total is not known in advance (rows of a list being read): no
/// "6,000/0", no bar that never fills.
const COUNTER: &str = "{spinner} {msg:<28} {human_pos} {unit} ({per_sec}, {elapsed})";
/// A bar over bytes of input.
const BYTES: &str = "{msg:<28} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta_word} {eta})";

fn style(template: &str) -> ProgressStyle {
    let eta = crate::tr!("sisa", "left");
    let unit = crate::tr!("baris", "rows");
    ProgressStyle::with_template(
        &template
            .replace("{eta_word}", &eta)
            .replace("{unit}", &unit),
    )
    .expect("static template")
    .progress_chars("=> ")
}

/// A bar counting towards `total` (which must be known and non-zero; use [`counter`]
/// otherwise).
pub fn bar(total: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(style(BAR));
    bar.set_message(message.to_string());
    bar
}

/// A counter of rows done when the total is unknown.
pub fn counter(message: &str) -> ProgressBar {
    let bar = ProgressBar::no_length();
    bar.set_style(style(COUNTER));
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// A bar over bytes of input.
pub fn bytes_bar(message: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(style(BYTES));
    bar.set_message(message.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15: the validation bar showed "6,000/0" (a bar with no total).
    #[test]
    fn a_counter_shows_no_total_and_a_bar_needs_one() {
        assert!(!COUNTER.contains("len") && !COUNTER.contains("{bar"));
        let c = counter("Memvalidasi");
        c.set_position(6000);
        assert_eq!(c.length(), None);
        assert!(BAR.contains("{human_len}"));
    }
}
