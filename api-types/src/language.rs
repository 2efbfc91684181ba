use serde::{Deserialize, Serialize};

/// The widget's languages. Russian is the default, as on ePay's own pages.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Ru,
    Kk,
    En,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::Ru, Language::Kk, Language::En];

    /// Reads a language tag loosely: "kk", "kz", "KAZ", "en-US", "rus"...
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        match primary.as_str() {
            "ru" | "rus" => Some(Language::Ru),
            "kk" | "kz" | "kaz" => Some(Language::Kk),
            "en" | "eng" => Some(Language::En),
            _ => None,
        }
    }

    /// The BCP 47 tag, for `Intl` and the `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Language::Ru => "ru",
            Language::Kk => "kk",
            Language::En => "en",
        }
    }

    /// The code the merchant document's payment object sends in `language` ("RU", "KZ", "EN").
    pub fn epay_code(self) -> &'static str {
        match self {
            Language::Ru => "RU",
            Language::Kk => "KZ",
            Language::En => "EN",
        }
    }

    /// The code ePay's docs and Halyk's SDK use ("rus", "kaz", "eng").
    pub fn epay_code3(self) -> &'static str {
        match self {
            Language::Ru => "rus",
            Language::Kk => "kaz",
            Language::En => "eng",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tags_from_every_source() {
        assert_eq!(Language::from_tag("kz"), Some(Language::Kk));
        assert_eq!(Language::from_tag("KAZ"), Some(Language::Kk));
        assert_eq!(Language::from_tag("en-US"), Some(Language::En));
        assert_eq!(Language::from_tag("rus"), Some(Language::Ru));
        assert_eq!(Language::from_tag("de"), None);
    }
}
