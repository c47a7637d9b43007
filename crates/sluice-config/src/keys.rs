//! Reading typed values out of flat keys while collecting every problem, the way Connect's
//! `ConfigDef.validate` reports them: the key, the offending value, what is allowed. Defaults,
//! ranges and aliases come from the declared keys (`def`), so they are stated once.

use std::collections::BTreeSet;
use std::fmt;

use regex::{Regex, RegexBuilder};

use crate::def::{find_key, ConfigDef, ConfigKey, Support, Valid};
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

/// Keys whose sub-keys belong to something else (a transform, a predicate, a converter,
/// a client override) and are checked there.
pub trait Delegated {
    fn is_delegated(&self, key: &str) -> bool;
}

pub struct KeyReader<'a> {
    raw: &'a RawConfig,
    defs: Vec<ConfigDef>,
    /// Issue keys get this prefix (a transform's options are reported as
    /// `transforms.<alias>.<key>`).
    prefix: String,
    issues: Vec<ConfigIssue>,
    warnings: Vec<ConfigIssue>,
    read: BTreeSet<&'static str>,
}

impl<'a> KeyReader<'a> {
    pub fn new(raw: &'a RawConfig, defs: &[ConfigDef]) -> Self {
        KeyReader {
            raw,
            defs: defs.to_vec(),
            prefix: String::new(),
            issues: Vec::new(),
            warnings: Vec::new(),
            read: BTreeSet::new(),
        }
    }

    /// A reader whose issues name `<prefix><key>`.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    pub fn raw(&self) -> &'a RawConfig {
        self.raw
    }

    pub fn issue(&mut self, key: &str, value: Option<&str>, message: impl Into<String>) {
        let issue = self.make(key, value, message.into());
        self.issues.push(issue);
    }

    pub fn warn(&mut self, key: &str, value: Option<&str>, message: impl Into<String>) {
        let issue = self.make(key, value, message.into());
        self.warnings.push(issue);
    }

    fn make(&self, key: &str, value: Option<&str>, message: String) -> ConfigIssue {
        let value = value.map(|v| {
            if is_secret_key(key) {
                MASK.to_owned()
            } else {
                v.to_owned()
            }
        });
        ConfigIssue {
            key: format!("{}{key}", self.prefix),
            value,
            message,
        }
    }

    /// The declared key; reading an undeclared key is a Sluice bug, reported as an issue.
    fn def(&mut self, key: &str) -> Option<&'static ConfigKey> {
        match find_key(&self.defs, key) {
            Some(k) => {
                self.read.insert(k.name);
                Some(k)
            }
            None => {
                self.issue(
                    key,
                    None,
                    "is read but not declared (a Sluice bug: please report it)",
                );
                None
            }
        }
    }

    /// The value set for a declared key (or one of its older spellings), trimmed; `None`
    /// when unset or empty.
    pub fn get(&mut self, key: &str) -> Option<&'a str> {
        let def = self.def(key)?;
        let raw = self.raw;
        std::iter::once(def.name)
            .chain(def.aliases.iter().copied())
            .find_map(|k| raw.get(k).map(str::trim).filter(|v| !v.is_empty()))
    }

    fn default_of(&mut self, key: &str) -> Option<&'static str> {
        self.def(key).and_then(|d| d.default_value())
    }

    /// A key with no default that must be set.
    pub fn required_string(&mut self, key: &str) -> Option<String> {
        let v = self.get(key).map(str::to_owned);
        if v.is_none() {
            self.issue(
                key,
                None,
                format!(
                    "Missing required configuration \"{}{key}\" which has no default value.",
                    self.prefix
                ),
            );
        }
        v
    }

    /// The value, or the declared default (empty when there is none).
    pub fn string(&mut self, key: &str) -> String {
        match self.get(key) {
            Some(v) => v.to_owned(),
            None => self.default_of(key).unwrap_or("").to_owned(),
        }
    }

    /// The value, or the declared default; `None` when neither.
    pub fn opt_string(&mut self, key: &str) -> Option<String> {
        match self.get(key) {
            Some(v) => Some(v.to_owned()),
            None => self.default_of(key).map(str::to_owned),
        }
    }

    /// An integer within the declared range.
    pub fn int(&mut self, key: &str) -> i64 {
        let def = self.def(key);
        let default = def
            .and_then(|d| d.default_value())
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        let (min, max) = match def.map(|d| d.valid) {
            Some(Valid::Range(min, max)) => (min, max),
            _ => (i64::MIN, i64::MAX),
        };
        let Some(v) = self.get(key) else {
            return default;
        };
        match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            Ok(_) => {
                let allowed = match (min, max) {
                    (min, i64::MAX) => format!("Value must be at least {min}"),
                    (i64::MIN, max) => format!("Value must be no more than {max}"),
                    (min, max) => format!("Value must be between {min} and {max}"),
                };
                self.issue(key, Some(v), allowed);
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

    pub fn bool(&mut self, key: &str) -> bool {
        let default = self.default_of(key) == Some("true");
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

    /// One of `allowed` (case-insensitive, as Debezium's enumerations are); the default is
    /// the declared one.
    pub fn choice<T: Copy>(&mut self, key: &str, allowed: &[(&str, T)]) -> T {
        let default = self.default_of(key);
        let find = |v: &str| {
            allowed
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(v))
                .map(|(_, t)| *t)
        };
        let fallback = default.and_then(find).unwrap_or(allowed[0].1);
        let Some(v) = self.get(key) else {
            return fallback;
        };
        match find(v) {
            Some(t) => t,
            None => {
                let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
                self.issue(
                    key,
                    Some(v),
                    format!("Value must be one of {}", names.join(", ")),
                );
                fallback
            }
        }
    }

    /// A comma-separated list, items trimmed, empty items dropped.
    pub fn list(&mut self, key: &str) -> Vec<String> {
        let v = match self.get(key) {
            Some(v) => Some(v),
            None => self.default_of(key),
        };
        split_list(v.unwrap_or(""))
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

    /// A comma-separated list of regular expressions, each matched against the whole
    /// identifier, case-sensitively (Java's `String.matches`, as Confluent's connectors use).
    pub fn regex_list_case_sensitive(&mut self, key: &str) -> Vec<Regex> {
        let mut out = Vec::new();
        for item in self.list(key) {
            match Regex::new(&format!("^(?:{item})$")) {
                Ok(re) => out.push(re),
                Err(e) => self.issue(
                    key,
                    Some(&item),
                    format!(
                        "Must be a valid comma-separated list of regular expression patterns: {e}"
                    ),
                ),
            }
        }
        out
    }

    /// Checks every key that is set: a declared key Sluice does not implement is refused
    /// unless set to its default; one without a counterpart is noted; an undeclared key is a
    /// warning (Connect ignores it; Sluice says so). Returns `(errors, warnings)`.
    pub fn finish(mut self, delegated: &dyn Delegated) -> (Vec<ConfigIssue>, Vec<ConfigIssue>) {
        let raw = self.raw;
        for (key, value) in &raw.props {
            if delegated.is_delegated(key) {
                continue;
            }
            match find_key(&self.defs, key) {
                Some(def) => match def.support {
                    Support::Yes => {}
                    Support::Unsupported(reason) if !def.is_default(value) => self.issue(
                        key,
                        Some(value),
                        format!("is not supported by Sluice: {reason}"),
                    ),
                    Support::NotApplicable(reason) if !def.is_default(value) => {
                        self.warn(key, Some(value), format!("has no effect in Sluice: {reason}"))
                    }
                    _ => {}
                },
                None => self.warn(
                    key,
                    None,
                    "Unknown configuration key: no connector, transform or converter uses it, so it has no effect",
                ),
            }
        }
        (self.issues, self.warnings)
    }

    /// Keys read so far (tests check every declared key is used).
    pub fn read_keys(&self) -> &BTreeSet<&'static str> {
        &self.read
    }
}

/// Nothing is delegated.
pub struct NoDelegation;

impl Delegated for NoDelegation {
    fn is_delegated(&self, _key: &str) -> bool {
        false
    }
}

pub fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
