//! The language of user-facing text: Bahasa Indonesia (the default) or English.
//!
//! A pure value: nothing here reads the environment. The binaries decide the language once
//! (the `sinergi` CLI from `SINERGI_LANG`, the server per request from `Accept-Language`) and
//! hand a [`Lang`] to whatever produces text for a person to read. Engine crates that keep both
//! languages side by side (a verdict's reasons carry `message_id` and `message_en`) pick with
//! [`Lang::pick`].

use serde::{Deserialize, Serialize};

/// The language of user-facing text.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum Lang {
    /// Bahasa Indonesia: the default everywhere.
    #[default]
    #[serde(rename = "id")]
    Id,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// Reads a language setting as people write it: `en`, `EN`, `en_US.UTF-8`, `en-GB`,
    /// `english` give English; anything else (`id`, `id_ID`, empty, unknown, absent) gives
    /// Bahasa Indonesia, the default.
    pub fn from_setting(value: Option<&str>) -> Lang {
        let Some(v) = value else {
            return Lang::Id;
        };
        let v = v.trim().to_ascii_lowercase();
        let primary = v.split(['_', '-', '.', '@']).next().unwrap_or("");
        if primary == "en" || primary == "english" || primary == "inggris" {
            Lang::En
        } else {
            Lang::Id
        }
    }

    /// The ISO 639-1 code: `id` or `en`.
    pub const fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// The text in this language, from a pair (Indonesian, English).
    pub fn pick<'a>(self, id: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }

    /// Whether this is English.
    pub const fn is_en(self) -> bool {
        matches!(self, Lang::En)
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_people_write_are_read() {
        for (setting, want) in [
            (None, Lang::Id),
            (Some(""), Lang::Id),
            (Some("id"), Lang::Id),
            (Some("id_ID.UTF-8"), Lang::Id),
            (Some("fr"), Lang::Id),
            (Some("en"), Lang::En),
            (Some(" EN "), Lang::En),
            (Some("en_US.UTF-8"), Lang::En),
            (Some("en-GB"), Lang::En),
            (Some("English"), Lang::En),
            (Some("eng"), Lang::Id),
        ] {
            assert_eq!(Lang::from_setting(setting), want, "{setting:?}");
        }
    }

    #[test]
    fn pick_and_code_follow_the_language() {
        assert_eq!(Lang::default(), Lang::Id);
        assert_eq!(Lang::Id.pick("Layak", "Eligible"), "Layak");
        assert_eq!(Lang::En.pick("Layak", "Eligible"), "Eligible");
        assert_eq!(Lang::En.to_string(), "en");
        assert_eq!(serde_json::to_string(&Lang::Id).unwrap(), "\"id\"");
    }
}
