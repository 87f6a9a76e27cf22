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
    pub fn with_args(&self, key: &str, named: &[(&'static str, String)]) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        for (name, value) in named {
            args.insert(Cow::Borrowed(*name), FluentValue::from(value.clone()));
        }
        LOCALES.lookup_with_args(&self.lang, key, &args)
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
