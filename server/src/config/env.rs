//! One small typed reader of the environment: each method reads one variable as one kind of
//! value, and an invalid value is an error that names the variable. Empty values count as
//! unset.

use std::time::Duration;

use epay_api_types::Amount;
use url::Url;

use super::ConfigError;

pub fn problem(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { variable, problem: problem.into() }
}

pub struct Env<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn new(lookup: F) -> Env<F> {
        Env { lookup }
    }

    /// The trimmed value, when set and not empty.
    pub fn text(&self, name: &str) -> Option<String> {
        (self.lookup)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// An http(s) URL (`default` when unset).
    pub fn url(&self, name: &'static str, default: &str) -> Result<Url, ConfigError> {
        parse_http_url(name, &self.text(name).unwrap_or_else(|| default.to_owned()))
    }

    /// An http(s) URL that paths are appended to: no query, no fragment.
    pub fn base_url(&self, name: &'static str, default: &str) -> Result<Url, ConfigError> {
        let url = self.url(name, default)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(problem(name, format!("`{url}` must not have a query or fragment")));
        }
        Ok(url)
    }

    /// Seconds, fractions allowed, above 0 and at most 600 (timeouts).
    pub fn seconds(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        match self.text(name) {
            None => Ok(Duration::from_secs(default)),
            Some(text) => match text.parse::<f64>() {
                Ok(s) if s > 0.0 && s <= 600.0 => Ok(Duration::from_secs_f64(s)),
                _ => Err(problem(name, format!("`{text}` is not a number of seconds between 0 and 600"))),
            },
        }
    }

    /// A whole number of seconds above 0 (schedules).
    pub fn whole_seconds(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        match self.text(name) {
            None => Ok(Duration::from_secs(default)),
            Some(text) => match text.parse::<u64>() {
                Ok(s) if s > 0 => Ok(Duration::from_secs(s)),
                _ => Err(problem(name, format!("`{text}` is not a whole number of seconds above 0"))),
            },
        }
    }

    pub fn flag(&self, name: &'static str) -> Result<bool, ConfigError> {
        self.flag_or(name, false)
    }

    /// `true`/`false` (also 1/0, yes/no), `default` when unset.
    pub fn flag_or(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.text(name).as_deref() {
            None => Ok(default),
            Some("false") | Some("0") | Some("no") => Ok(false),
            Some("true") | Some("1") | Some("yes") => Ok(true),
            Some(other) => Err(problem(name, format!("`{other}` is not true or false"))),
        }
    }

    /// A socket address (`example` shows the form in the error), when set.
    pub fn address(&self, name: &'static str, example: &str) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        self.text(name)
            .map(|text| text.parse().map_err(|_| problem(name, format!("`{text}` is not an address like {example}"))))
            .transpose()
    }

    /// A whole number within `range`.
    pub fn count(&self, name: &'static str, default: u32, range: std::ops::RangeInclusive<u32>) -> Result<u32, ConfigError> {
        let value = match self.text(name) {
            None => default,
            Some(text) => text.parse().map_err(|_| problem(name, format!("`{text}` is not a whole number")))?,
        };
        if !range.contains(&value) {
            return Err(problem(name, format!("must be between {} and {}", range.start(), range.end())));
        }
        Ok(value)
    }

    /// A comma-separated list, trimmed, without empty items.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.text(name).unwrap_or_default().split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
    }

    /// A credential: the value, or outside production the published test merchant's
    /// (`test_value`); required in production.
    pub fn credential(&self, name: &'static str, production: bool, test_value: &str) -> Result<String, ConfigError> {
        match self.text(name) {
            Some(value) => Ok(value),
            None if production => Err(problem(name, "required when EPAY_ENV=prod")),
            None => Ok(test_value.to_owned()),
        }
    }

    /// A `credential` that must never be printed: `Debug` shows no content.
    pub fn secret(&self, name: &'static str, production: bool, test_value: &str) -> Result<secrecy::SecretString, ConfigError> {
        self.credential(name, production, test_value).map(secrecy::SecretString::from)
    }

    /// An amount with at most two decimals.
    pub fn amount(&self, name: &'static str, default: &str) -> Result<Amount, ConfigError> {
        let text = self.text(name).unwrap_or_else(|| default.to_owned());
        Amount::parse(&text).map_err(|_| problem(name, format!("`{text}` is not a positive amount with at most 2 decimals")))
    }

    /// One of `choices` (by name), `default` when unset.
    pub fn choice<T: Copy>(&self, name: &'static str, default: T, choices: &[(&str, T)]) -> Result<T, ConfigError> {
        let Some(text) = self.text(name) else { return Ok(default) };
        choices.iter().find(|(word, _)| *word == text).map(|(_, value)| *value).ok_or_else(|| {
            let words: Vec<&str> = choices.iter().map(|(word, _)| *word).collect();
            problem(name, format!("`{text}` is not one of {}", words.join(", ")))
        })
    }
}

pub fn parse_http_url(variable: &'static str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text).map_err(|e| problem(variable, format!("`{text}` is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(problem(variable, format!("`{text}` is not an http(s) URL")));
    }
    Ok(url)
}
