//! The language of everything `sinergi` prints, and the one place that reads `SINERGI_LANG`.
//!
//! Bahasa Indonesia is the default; `SINERGI_LANG=en` (also `en_US.UTF-8`, `en-GB`, ...)
//! switches to English. The value is read once, at the first call to [`lang`], and handed as
//! a [`Lang`] to the libraries that produce text (they never read the environment).
//!
//! - Messages: `tr!("Indonesian {x}", "English {x}")` formats the text of the current language
//!   (arguments and inline captures as `format!`).
//! - `--help`: every doc comment of a clap argument or command holds both languages, the
//!   English part after the marker `[en]` (see [`EN_MARKER`]). [`localize`] keeps the half
//!   of the current language and translates clap's own words (headings, the help and version
//!   flags, "Usage", defaults, environment variables); [`parse`] renders clap's errors in the
//!   current language. A test walks the whole command tree and fails on any argument or
//!   command without its English half.

use std::io::IsTerminal;
use std::sync::OnceLock;

use clap::builder::{Arg, ArgAction, Command};
use clap::error::{ContextKind, ContextValue, ErrorKind};
pub use sinergi_model::Lang;

/// The environment variable that chooses the language.
pub const ENV: &str = "SINERGI_LANG";

/// Separates the Indonesian and English halves of a doc comment.
pub const EN_MARKER: &str = "[en]";

static LANG: OnceLock<Lang> = OnceLock::new();

/// The language chosen by `SINERGI_LANG` (read once).
pub fn lang() -> Lang {
    *LANG.get_or_init(|| Lang::from_setting(std::env::var(ENV).ok().as_deref()))
}

/// `tr!("Memuat {n} baris", "Loading {n} rows")`: the message in the current language, as a
/// `String`. Both literals take the same arguments.
#[macro_export]
macro_rules! tr {
    ($id:literal, $en:literal $(,)?) => {
        if $crate::lang::lang().is_en() { format!($en) } else { format!($id) }
    };
    ($id:literal, $en:literal, $($arg:tt)*) => {
        if $crate::lang::lang().is_en() { format!($en, $($arg)*) } else { format!($id, $($arg)*) }
    };
}

/// An error for a person to read, in the current language: the library errors that know both
/// languages give theirs (with their stable code); others their chain of causes.
pub fn error_text_of(e: &anyhow::Error) -> String {
    let lang = lang();
    for cause in e.chain() {
        if let Some(x) = cause.downcast_ref::<sinergi_engine::EngineError>() {
            return with_context(e, cause, x.message(lang));
        }
        if let Some(x) = cause.downcast_ref::<sinergi_ingest::IngestError>() {
            return with_context(e, cause, format!("{} [{}]", x.message(lang), x.code()));
        }
    }
    format!("{e:#}")
}

/// The contexts added above `cause` (what was being done), then the message of `cause`.
fn with_context(
    e: &anyhow::Error,
    cause: &(dyn std::error::Error + 'static),
    msg: String,
) -> String {
    let mut parts: Vec<String> = e
        .chain()
        .take_while(|c| !std::ptr::addr_eq(*c as *const _, cause as *const _))
        .map(|c| c.to_string())
        .collect();
    parts.push(msg);
    parts.join(": ")
}

/// A count as the current language writes it: `1.575` in Bahasa Indonesia, `1,575` in
/// English.
pub fn num(x: u64) -> String {
    let sep = if lang().is_en() { ',' } else { '.' };
    let digits = x.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A share as a percentage with one decimal, as the current language writes it: `12,5%` or
/// `12.5%`.
pub fn pct(share: f64) -> String {
    let p = format!("{:.1}%", share * 100.0);
    if lang().is_en() {
        p
    } else {
        p.replace('.', ",")
    }
}

/// The half of a bilingual help text for `lang`. Paragraphs (separated by blank lines) are
/// split at [`EN_MARKER`]; a paragraph that starts with the marker is English only; one without
/// it (an example, a command line) is shown in both languages.
pub fn pick_help(text: &str, lang: Lang) -> String {
    let mut out: Vec<String> = Vec::new();
    for para in text.split("\n\n") {
        let trimmed = para.trim_start();
        let chosen = if let Some(en) = trimmed.strip_prefix(EN_MARKER) {
            lang.is_en().then(|| en.trim().to_string())
        } else if let Some((id, en)) = para.split_once(EN_MARKER) {
            Some(lang.pick(id.trim(), en.trim()).to_string())
        } else {
            Some(para.trim_end().to_string())
        };
        if let Some(c) = chosen.filter(|c| !c.is_empty()) {
            out.push(c);
        }
    }
    out.join("\n\n")
}

/// clap's own words in one language.
struct Words {
    usage: &'static str,
    commands: &'static str,
    command: &'static str,
    arguments: &'static str,
    options: &'static str,
    help: &'static str,
    version: &'static str,
    default: &'static str,
    values: &'static str,
    help_subcommand: &'static str,
}

fn words(lang: Lang) -> &'static Words {
    const ID: Words = Words {
        usage: "Penggunaan:",
        commands: "Perintah",
        command: "PERINTAH",
        arguments: "Argumen",
        options: "Opsi",
        help: "Tampilkan bantuan (ringkas dengan -h)",
        version: "Tampilkan versi",
        default: "bawaan",
        values: "pilihan",
        help_subcommand: "Tampilkan bantuan perintah ini atau subperintah yang disebut",
    };
    const EN: Words = Words {
        usage: "Usage:",
        commands: "Commands",
        command: "COMMAND",
        arguments: "Arguments",
        options: "Options",
        help: "Print help (a summary with -h)",
        version: "Print version",
        default: "default",
        values: "possible values",
        help_subcommand: "Print this message or the help of the given subcommand(s)",
    };
    match lang {
        Lang::Id => &ID,
        Lang::En => &EN,
    }
}

/// The command tree in `lang`: bilingual doc comments cut to one language, clap's headings,
/// flags and annotations translated.
pub fn localize(cmd: Command, lang: Lang) -> Command {
    let mut cmd = localize_one(cmd, lang, true);
    // clap adds its `help` subcommand while building; build now to translate it too.
    cmd.build();
    let w = words(lang);
    fix_help_subcommands(cmd, w)
}

fn fix_help_subcommands(cmd: Command, w: &'static Words) -> Command {
    let has_help = cmd.get_subcommands().any(|s| s.get_name() == "help");
    let cmd = if has_help {
        cmd.mut_subcommand("help", |s| s.about(w.help_subcommand))
    } else {
        cmd
    };
    cmd.mut_subcommands(|s| fix_help_subcommands(s, w))
}

fn localize_one(cmd: Command, lang: Lang, root: bool) -> Command {
    let w = words(lang);
    let about = cmd.get_about().map(|s| pick_help(&s.to_string(), lang));
    let long_about = cmd
        .get_long_about()
        .map(|s| pick_help(&s.to_string(), lang));
    let mut cmd = cmd
        .help_template(format!(
            "{{before-help}}{{about-with-newline}}\n{} {{usage}}\n\n{{all-args}}{{after-help}}",
            w.usage
        ))
        .subcommand_help_heading(w.commands)
        .subcommand_value_name(w.command)
        .disable_help_flag(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help(w.help)
                .help_heading(w.options)
                .display_order(usize::MAX - 1),
        );
    if let Some(a) = about {
        cmd = cmd.about(a);
    }
    if let Some(a) = long_about {
        cmd = cmd.long_about(a);
    }
    if root {
        cmd = cmd.disable_version_flag(true).arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help(w.version)
                .help_heading(w.options)
                .display_order(usize::MAX),
        );
    }
    let cmd = cmd.mut_args(|a| localize_arg(a, lang));
    cmd.mut_subcommands(|s| localize_one(s, lang, false))
}

fn localize_arg(a: Arg, lang: Lang) -> Arg {
    let w = words(lang);
    if matches!(a.get_id().as_str(), "help" | "version") {
        return a;
    }
    let mut notes: Vec<String> = Vec::new();
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .filter(|v| !v.is_empty())
        .collect();
    let takes_value = a.get_action().takes_values();
    if takes_value && !defaults.is_empty() && !a.is_hide_default_value_set() {
        notes.push(format!("[{}: {}]", w.default, defaults.join(", ")));
    }
    if takes_value && !a.is_hide_possible_values_set() {
        let values: Vec<String> = a
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
        if !values.is_empty() {
            notes.push(format!("[{}: {}]", w.values, values.join(", ")));
        }
    }
    if let Some(env) = a.get_env()
        && !a.is_hide_env_set()
    {
        notes.push(format!("[env: {}]", env.to_string_lossy()));
    }
    let note = |s: String| {
        if notes.is_empty() {
            s
        } else {
            format!("{s} {}", notes.join(" "))
        }
    };
    let help = a.get_help().map(|s| note(pick_help(&s.to_string(), lang)));
    let long_help = a
        .get_long_help()
        .map(|s| note(pick_help(&s.to_string(), lang)));
    let heading = if a.get_help_heading().is_some() {
        None
    } else if a.is_positional() {
        Some(w.arguments)
    } else {
        Some(w.options)
    };
    let mut a = if takes_value {
        a.hide_default_value(true).hide_possible_values(true)
    } else {
        a
    };
    if a.get_env().is_some() {
        a = a.hide_env(true);
    }
    if let Some(h) = help {
        a = a.help(h);
    }
    if let Some(h) = long_help {
        a = a.long_help(h);
    }
    if let Some(h) = heading {
        a = a.help_heading(h);
    }
    a
}

/// Parses the command line into `T` with help and errors in the current language. On help or
/// version it prints and exits 0; on a usage error it prints the error in the current language
/// and exits 2, as clap does.
pub fn parse<T: clap::FromArgMatches + clap::CommandFactory>() -> T {
    let lang = lang();
    let cmd = localize(T::command(), lang);
    let result = cmd.try_get_matches().and_then(|m| T::from_arg_matches(&m));
    match result {
        Ok(v) => v,
        Err(e) => exit_with(&e, lang),
    }
}

fn exit_with(e: &clap::Error, lang: Lang) -> ! {
    use std::io::Write;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let out = std::io::stdout();
            let text = render(e, out.is_terminal(), lang);
            let _ = out.lock().write_all(text.as_bytes());
            std::process::exit(0);
        }
        _ => {
            let err = std::io::stderr();
            let text = if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                render(e, err.is_terminal(), lang)
            } else {
                error_text(e, lang)
            };
            let _ = err.lock().write_all(text.as_bytes());
            std::process::exit(2);
        }
    }
}

/// Help or version text as clap renders it, with the words clap writes inside usage lines
/// translated.
fn render(e: &clap::Error, color: bool, lang: Lang) -> String {
    let styled = e.render();
    let text = if color {
        styled.ansi().to_string()
    } else {
        styled.to_string()
    };
    let mut text = usage_words(&text, lang);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn usage_words(text: &str, lang: Lang) -> String {
    match lang {
        Lang::En => text.to_string(),
        Lang::Id => text
            .replace("[OPTIONS]", "[OPSI]")
            .replace("Usage:", "Penggunaan:"),
    }
}

/// A usage error in the current language: what was wrong, a suggestion when clap has one, the
/// usage line, and where to look.
pub fn error_text(e: &clap::Error, lang: Lang) -> String {
    if lang.is_en() {
        return e.render().to_string();
    }
    let get = |k: ContextKind| -> Option<String> {
        e.get(k).map(|v| match v {
            ContextValue::String(s) => s.clone(),
            ContextValue::Strings(v) => v.join(", "),
            ContextValue::StyledStr(s) => s.to_string(),
            ContextValue::StyledStrs(v) => v
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            ContextValue::Number(n) => n.to_string(),
            ContextValue::Bool(b) => b.to_string(),
            _ => String::new(),
        })
    };
    let arg = get(ContextKind::InvalidArg).unwrap_or_default();
    let value = get(ContextKind::InvalidValue).unwrap_or_default();
    let mut msg = match e.kind() {
        ErrorKind::UnknownArgument => format!("argumen '{arg}' tidak dikenal"),
        ErrorKind::InvalidSubcommand => format!(
            "perintah '{}' tidak dikenal",
            get(ContextKind::InvalidSubcommand).unwrap_or_default()
        ),
        ErrorKind::MissingRequiredArgument => {
            format!("argumen wajib belum diberikan: {arg}")
        }
        ErrorKind::MissingSubcommand => format!(
            "'{}' memerlukan perintah; pilih salah satu: {}",
            get(ContextKind::InvalidSubcommand).unwrap_or_default(),
            get(ContextKind::ValidSubcommand).unwrap_or_default()
        ),
        ErrorKind::InvalidValue if value.is_empty() => {
            format!("'{arg}' memerlukan nilai, tetapi tidak ada yang diberikan")
        }
        ErrorKind::InvalidValue => {
            let valid = get(ContextKind::ValidValue)
                .map(|v| format!(" (pilihan: {v})"))
                .unwrap_or_default();
            format!("nilai '{value}' tidak sah untuk '{arg}'{valid}")
        }
        ErrorKind::ValueValidation => {
            // The validator's own message (ours are bilingual) follows clap's English frame.
            let full = e.to_string();
            let cause = full
                .lines()
                .next()
                .and_then(|l| l.split_once("': ").map(|(_, c)| c.to_string()))
                .unwrap_or_default();
            format!("nilai '{value}' tidak sah untuk '{arg}': {cause}")
        }
        ErrorKind::ArgumentConflict => format!(
            "'{arg}' tidak dapat dipakai bersama '{}'",
            get(ContextKind::PriorArg).unwrap_or_default()
        ),
        ErrorKind::TooManyValues | ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("jumlah nilai untuk '{arg}' tidak sesuai")
        }
        ErrorKind::NoEquals => {
            format!("'{arg}' harus ditulis dengan '=' (mis. {arg}=NILAI)")
        }
        ErrorKind::InvalidUtf8 => "argumen berisi karakter yang bukan UTF-8".to_string(),
        _ => {
            // Rare kinds: clap's own sentence, so nothing is lost.
            let full = e.to_string();
            let first = full
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            first.to_string()
        }
    };
    msg = format!("galat: {msg}\n");
    let tip = get(ContextKind::SuggestedArg)
        .or_else(|| get(ContextKind::SuggestedSubcommand))
        .or_else(|| get(ContextKind::SuggestedValue));
    if let Some(t) = tip {
        msg.push_str(&format!("\n  saran: mungkin maksudnya '{t}'\n"));
    }
    if let Some(usage) = get(ContextKind::Usage) {
        msg.push('\n');
        msg.push_str(&usage_words(usage.trim_end(), lang));
        msg.push('\n');
    }
    msg.push_str("\nUntuk keterangan lebih lanjut, coba '--help'.\n");
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_text_is_cut_to_one_language() {
        let t = "Kode program. [en] Programme code.";
        assert_eq!(pick_help(t, Lang::Id), "Kode program.");
        assert_eq!(pick_help(t, Lang::En), "Programme code.");
        let long = "Ringkas. [en] Short.\n\nContoh:\n\n  sinergi x\n\n[en] Only English.";
        assert_eq!(
            pick_help(long, Lang::Id),
            "Ringkas.\n\nContoh:\n\n  sinergi x"
        );
        assert_eq!(
            pick_help(long, Lang::En),
            "Short.\n\nContoh:\n\n  sinergi x\n\nOnly English."
        );
    }
}
