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

    #[test]
    fn every_string_is_translated_into_every_language() {
        let en = keys(include_str!("../locales/en/main.ftl"));
        assert!(en.len() > 40);
        for (name, ftl) in [
            ("km", include_str!("../locales/km/main.ftl")),
            ("vi", include_str!("../locales/vi/main.ftl")),
        ] {
            let other = keys(ftl);
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(missing.is_empty(), "{name} lacks {missing:?}");
            assert!(extra.is_empty(), "{name} has unknown keys {extra:?}");
        }
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
