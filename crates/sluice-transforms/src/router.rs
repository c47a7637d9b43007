//! `org.apache.kafka.connect.transforms.RegexRouter`: renames the topic when the whole name
//! matches `regex`, with Java's replacement syntax (`$1`, `${name}`, `\$`).

use regex::Regex;
use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::record::Record;
use sluice_core::transform::{Transform, TransformError};

pub static REGEX_ROUTER_KEYS: &[ConfigKey] = &[
    ConfigKey::new(
        "regex",
        KeyType::String,
        Importance::High,
        "Transforms",
        "Regular expression to use for matching.",
    )
    .required(),
    ConfigKey::new(
        "replacement",
        KeyType::String,
        Importance::High,
        "Transforms",
        "Replacement string.",
    )
    .required(),
];

pub struct RegexRouter {
    regex: Regex,
    /// The replacement in the `regex` crate's syntax.
    replacement: String,
}

pub fn regex_router(r: &mut KeyReader<'_>) -> Option<Box<dyn Transform>> {
    let pattern = r.required_string("regex");
    // An empty replacement is a value (the topic becomes empty), not a missing one.
    let replacement = match crate::operand::opt_string_keeping_empty(r, "replacement") {
        Some(v) => Some(v),
        None => r.required_string("replacement"),
    };
    let (pattern, replacement) = (pattern?, replacement);
    let regex = match whole_match(&pattern) {
        Ok(re) => re,
        Err(e) => {
            r.issue(
                "regex",
                Some(&pattern),
                format!("not a valid regular expression: {e}"),
            );
            return None;
        }
    };
    let replacement = java_replacement(&replacement?, regex.captures_len());
    Some(Box::new(RegexRouter { regex, replacement }))
}

/// Java's `Matcher.matches()`: the pattern must match the whole input.
pub(crate) fn whole_match(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// Java's `appendReplacement` syntax in the `regex` crate's: `$12` takes as many digits as
/// still name a group, `\x` is a literal x, and a literal `$` is written `$$`.
pub(crate) fn java_replacement(java: &str, groups: usize) -> String {
    let mut out = String::with_capacity(java.len() + 8);
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => {}
            },
            '$' if chars.peek() == Some(&'{') => {
                chars.next();
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                out.push_str(&format!("${{{name}}}"));
            }
            '$' => {
                let mut number = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    let longer = format!("{number}{d}");
                    if !number.is_empty() && longer.parse::<usize>().map_or(true, |n| n >= groups) {
                        break;
                    }
                    number = longer;
                    chars.next();
                }
                out.push_str(&format!("${{{number}}}"));
            }
            other => out.push(other),
        }
    }
    out
}

impl Transform for RegexRouter {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        if self.regex.is_match(&record.topic) {
            record.topic = self
                .regex
                .replace(&record.topic, self.replacement.as_str())
                .into_owned();
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_config::def::ConfigDef;
    use sluice_config::RawConfig;

    fn apply(regex: &str, replacement: &str, topic: &str) -> String {
        let raw = RawConfig {
            name: "t".into(),
            props: [
                ("regex".to_string(), regex.to_string()),
                ("replacement".to_string(), replacement.to_string()),
            ]
            .into(),
        };
        let mut r = KeyReader::new(
            &raw,
            &[ConfigDef {
                keys: REGEX_ROUTER_KEYS,
            }],
        );
        let t = regex_router(&mut r).unwrap();
        t.apply(Record::new(topic, None, None, 0))
            .unwrap()
            .unwrap()
            .topic
    }

    // Ported from Kafka's RegexRouterTest.
    #[test]
    fn regex_router_test() {
        assert_eq!(apply("(.*)", "prefix-$1", "orig"), "prefix-orig");
        assert_eq!(apply("(.*)", "$1-suffix", "orig"), "orig-suffix");
        assert_eq!(
            apply("(.*)-(\\d\\d\\d\\d\\d\\d\\d\\d)", "$1", "index-20160117"),
            "index"
        );
        assert_eq!(apply("(.*)", "$1", "orig"), "orig");
        assert_eq!(apply("(.*)", "$1", ""), "");
        // Only a whole-name match renames.
        assert_eq!(apply("orig", "new", "orig-1"), "orig-1");
        assert_eq!(
            apply("pagila\\.public\\.(.*)", "lake.$1", "pagila.public.address"),
            "lake.address"
        );
        assert_eq!(apply("(a)(b)", "\\$$2$1", "ab"), "$ba");
    }
}
