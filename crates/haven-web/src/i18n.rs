//! Translations (Fluent): English, Khmer and Vietnamese, embedded in the binary.

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};
use haven_core::Locale;
use std::borrow::Cow;
use std::collections::HashMap;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they show as boxes in some fonts.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// Looks up UI strings in one language. Passed to every template as `t`.
#[derive(Debug, Clone)]
pub struct Translator {
    pub locale: Locale,
    lang: LanguageIdentifier,
}

impl Translator {
    pub fn new(locale: Locale) -> Translator {
        let lang = locale
            .code()
            .parse()
            .unwrap_or_else(|_| LanguageIdentifier::default());
        Translator { locale, lang }
    }

    /// The string for `key`; falls back to English, then to the key itself.
    pub fn get(&self, key: &str) -> String {
        LOCALES.lookup(&self.lang, key)
    }

    /// The string for `key` with one named argument.
    pub fn with(&self, key: &str, name: &'static str, value: &str) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        args.insert(Cow::Borrowed(name), FluentValue::from(value.to_owned()));
        LOCALES.lookup_with_args(&self.lang, key, &args)
    }

    /// The string for `key` with several named arguments.
    pub fn with_args(&self, key: &str, args: &[(&'static str, String)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(value.clone())))
            .collect();
        LOCALES.lookup_with_args(&self.lang, key, &map)
    }

    /// The language code for `<html lang>`.
    pub fn code(&self) -> &'static str {
        self.locale.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(ftl: &str) -> BTreeSet<String> {
        ftl.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' '))
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_owned()))
            .collect()
    }

    /// Each feature keeps its strings in its own file (`main.ftl`, `crisis.ftl`, ...); every
    /// file of `en/` must exist in every other language with exactly the same keys.
    #[test]
    fn every_string_is_translated_into_every_language() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let read = |lang: &str, file: &std::ffi::OsStr| {
            std::fs::read_to_string(root.join(lang).join(file))
                .unwrap_or_else(|e| panic!("{lang}/{file:?}: {e}"))
        };
        let mut files: Vec<_> = std::fs::read_dir(root.join("en"))
            .expect("locales/en")
            .map(|e| e.expect("entry").file_name())
            .collect();
        files.sort();
        assert!(files.iter().any(|f| f == "main.ftl"));
        let mut all_keys = BTreeSet::new();
        for file in &files {
            let en = keys(&read("en", file));
            for key in &en {
                assert!(all_keys.insert(key.clone()), "{key} is defined twice");
            }
            for lang in ["km", "vi"] {
                let other = keys(&read(lang, file));
                let missing: Vec<_> = en.difference(&other).collect();
                let extra: Vec<_> = other.difference(&en).collect();
                assert!(missing.is_empty(), "{lang}/{file:?} lacks {missing:?}");
                assert!(
                    extra.is_empty(),
                    "{lang}/{file:?} has unknown keys {extra:?}"
                );
            }
        }
        for lang in ["km", "vi"] {
            let count = std::fs::read_dir(root.join(lang))
                .expect("locale dir")
                .count();
            assert_eq!(count, files.len(), "{lang}/ has files that en/ lacks");
        }
        assert!(all_keys.len() > 40);
    }

    /// Every key the code or a template asks for by name, in English (the other languages
    /// are held to English's keys above).
    fn english_keys() -> BTreeSet<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales/en");
        std::fs::read_dir(&root)
            .expect("locales/en")
            .flat_map(|e| keys(&std::fs::read_to_string(e.expect("entry").path()).expect("ftl")))
            .collect()
    }

    fn sources(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("source folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "html") {
                let text = std::fs::read_to_string(&path).expect("source file");
                out.push((path.display().to_string(), text));
            }
        }
    }

    /// The keys asked for literally: `t.get("key")`, `.with("key", …)`, `.with_args("key", …)`.
    fn literal_keys(text: &str, families: &BTreeSet<String>) -> Vec<String> {
        let mut found = Vec::new();
        for call in [".get(", ".with(", ".with_args("] {
            for (at, _) in text.match_indices(call) {
                let Some(rest) = text[at + call.len()..].trim_start().strip_prefix('"') else {
                    continue;
                };
                let Some(end) = rest.find('"') else { continue };
                let key = &rest[..end];
                let shaped = key.contains('-')
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                let family = key.split('-').next().unwrap_or_default();
                if shaped && families.contains(family) {
                    found.push(key.to_owned());
                }
            }
        }
        found
    }

    /// A page must never show a raw key such as `referral-notification-incident-reported`:
    /// every key named in the code or the templates exists (and so, by the test above, in
    /// Khmer and Vietnamese too).
    #[test]
    fn every_key_the_code_names_exists() {
        let known = english_keys();
        let families: BTreeSet<String> = known
            .iter()
            .filter_map(|k| k.split('-').next().map(str::to_owned))
            .collect();
        let crate_root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sources(&crate_root.join("src"), &mut files);
        sources(&crate_root.join("templates"), &mut files);
        let mut checked = 0;
        let mut missing = Vec::new();
        for (path, text) in &files {
            for key in literal_keys(text, &families) {
                checked += 1;
                if !known.contains(&key) {
                    missing.push(format!("{key} ({path})"));
                }
            }
        }
        assert!(missing.is_empty(), "keys with no translation: {missing:#?}");
        assert!(
            checked > 300,
            "only {checked} keys found: is the scanner still right?"
        );
    }

    #[test]
    fn strings_come_in_the_chosen_language() {
        assert_eq!(Translator::new(Locale::En).get("login-title"), "Sign in");
        assert_eq!(Translator::new(Locale::Km).get("login-title"), "ចូលប្រើប្រាស់");
        assert_eq!(Translator::new(Locale::Vi).get("login-title"), "Đăng nhập");
    }

    #[test]
    fn arguments_are_filled_in() {
        assert_eq!(
            Translator::new(Locale::Vi).with("home-welcome", "name", "Lan"),
            "Xin chào, Lan"
        );
    }
}
