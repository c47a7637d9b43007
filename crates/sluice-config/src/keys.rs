//! Reading typed values out of flat keys while collecting every problem, the way Connect's
//! `ConfigDef.validate` reports them: the key, the offending value, what is allowed.

use std::fmt;

use regex::{Regex, RegexBuilder};

use crate::raw::{is_secret_key, RawConfig, MASK};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub key: String,
    /// The offending value, already masked for secret keys.
    pub value: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(
                f,
                "Invalid value {v} for configuration {}: {}",
                self.key, self.message
            ),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

pub struct KeyReader<'a> {
    raw: &'a RawConfig,
    issues: Vec<ConfigIssue>,
}

impl<'a> KeyReader<'a> {
    pub fn new(raw: &'a RawConfig) -> Self {
        KeyReader {
            raw,
            issues: Vec::new(),
        }
    }

    pub fn raw(&self) -> &'a RawConfig {
        self.raw
    }

    pub fn issue(&mut self, key: &str, value: Option<&str>, message: impl Into<String>) {
        let value = value.map(|v| {
            if is_secret_key(key) {
                MASK.to_owned()
            } else {
                v.to_owned()
            }
        });
        self.issues.push(ConfigIssue {
            key: key.to_owned(),
            value,
            message: message.into(),
        });
    }

    pub fn finish(self) -> Vec<ConfigIssue> {
        self.issues
    }

    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.raw.get(key).map(str::trim).filter(|v| !v.is_empty())
    }

    /// The first of several spellings that is set (new name first, deprecated aliases after).
    pub fn get_any(&self, keys: &[&'static str]) -> Option<(&'static str, &'a str)> {
        keys.iter().find_map(|k| self.get(k).map(|v| (*k, v)))
    }

    pub fn required_string(&mut self, key: &str) -> Option<String> {
        let v = self.get(key).map(str::to_owned);
        if v.is_none() {
            self.issue(
                key,
                None,
                "Missing required configuration \"".to_owned()
                    + key
                    + "\" which has no default value.",
            );
        }
        v
    }

    pub fn string(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or(default).to_owned()
    }

    pub fn int(&mut self, key: &str, default: i64, min: i64, max: i64) -> i64 {
        let Some(v) = self.get(key) else {
            return default;
        };
        match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            Ok(_) => {
                self.issue(
                    key,
                    Some(v),
                    format!("Value must be between {min} and {max}"),
                );
                default
            }
            Err(_) => {
                self.issue(
                    key,
                    Some(v),
                    "Not a number of type INT (a whole number is expected)",
                );
                default
            }
        }
    }

    pub fn bool(&mut self, key: &str, default: bool) -> bool {
        let Some(v) = self.get(key) else {
            return default;
        };
        match v.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => {
                self.issue(key, Some(v), "Expected value to be either true or false");
                default
            }
        }
    }

    /// One of `allowed` (case-insensitive, as Debezium's EnumeratedValue lookups are).
    pub fn choice<T: Copy>(&mut self, key: &str, default: T, allowed: &[(&str, T)]) -> T {
        let Some(v) = self.get(key) else {
            return default;
        };
        match allowed
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(v))
        {
            Some((_, t)) => *t,
            None => {
                let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
                self.issue(
                    key,
                    Some(v),
                    format!("Value must be one of {}", names.join(", ")),
                );
                default
            }
        }
    }

    /// A comma-separated list, items trimmed, empty items dropped.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A comma-separated list of regular expressions, each matched against the whole
    /// identifier, case-insensitively (Debezium's `Strings.setOfRegex`).
    pub fn regex_list(&mut self, key: &str) -> Vec<Regex> {
        let mut out = Vec::new();
        for item in self.list(key) {
            match RegexBuilder::new(&format!("^(?:{item})$"))
                .case_insensitive(true)
                .build()
            {
                Ok(re) => out.push(re),
                Err(e) => self.issue(
                    key,
                    Some(&item),
                    format!("not a valid regular expression: {e}"),
                ),
            }
        }
        out
    }
}
