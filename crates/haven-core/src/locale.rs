//! The languages Haven speaks: English, Khmer and Vietnamese (many survivors and staff speak
//! only Khmer or Vietnamese).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Km,
    Vi,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::En, Locale::Km, Locale::Vi];

    /// ISO 639-1 code, also the BCP 47 tag Haven uses.
    pub const fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Km => "km",
            Locale::Vi => "vi",
        }
    }

    /// The language's own name, shown in the switcher so a speaker finds it without reading
    /// the current language.
    pub const fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Km => "ភាសាខ្មែរ",
            Locale::Vi => "Tiếng Việt",
        }
    }

    /// Accepts a language code or tag (`km`, `km-KH`, `VI`); anything else is refused.
    pub fn parse(input: &str) -> Option<Locale> {
        let primary = input.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Locale::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// Picks the best supported language from an HTTP `Accept-Language` header, honouring
    /// q-values; falls back to English.
    pub fn from_accept_language(header: &str) -> Locale {
        let mut best: Option<(f32, Locale)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(locale) = Locale::parse(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, locale));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_tags() {
        assert_eq!(Locale::parse("km"), Some(Locale::Km));
        assert_eq!(Locale::parse("vi-VN"), Some(Locale::Vi));
        assert_eq!(Locale::parse("EN_gb"), Some(Locale::En));
        assert_eq!(Locale::parse("fr"), None);
        assert_eq!(Locale::parse(""), None);
    }

    #[test]
    fn accept_language_honours_quality() {
        assert_eq!(
            Locale::from_accept_language("fr;q=1.0, vi;q=0.8, km;q=0.9"),
            Locale::Km
        );
        assert_eq!(Locale::from_accept_language("vi-VN,vi;q=0.9"), Locale::Vi);
        assert_eq!(Locale::from_accept_language("de, fr"), Locale::En);
        assert_eq!(Locale::from_accept_language(""), Locale::En);
    }
}
