//! The settings every connector shares, whatever its class: converters, the transforms and
//! predicates (their own options are checked by the transform catalogue), error handling and
//! retries, and for sinks the topics they read.

use std::collections::BTreeMap;

use regex::Regex;
use sluice_core::json::{Converter, JsonConverter};
use sluice_core::tolerance::{ErrorPolicy, Tolerance};
use sluice_core::topics::{validate_topic_name, TopicSelection};

use crate::keys::{split_list, Delegated, KeyReader};
use crate::ConnectorKind;

/// `transforms.<alias>.*`: the class and its own options (keys without the prefix).
#[derive(Debug, Clone, PartialEq)]
pub struct TransformSpec {
    pub alias: String,
    pub class: String,
    pub props: BTreeMap<String, String>,
    /// `transforms.<alias>.predicate`
    pub predicate: Option<String>,
    /// `transforms.<alias>.negate`
    pub negate: bool,
}

/// `predicates.<alias>.*`
#[derive(Debug, Clone, PartialEq)]
pub struct PredicateSpec {
    pub alias: String,
    pub class: String,
    pub props: BTreeMap<String, String>,
}

/// How a task that failed with a transient error is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// `errors.max.retries` (Debezium): -1 without limit, 0 never.
    pub max_retries: i64,
    /// `errors.retry.timeout`: when > 0, how long (ms) a run of retries may last.
    pub timeout_ms: i64,
    /// `errors.retry.delay.max.ms`: the longest wait between two tries.
    pub delay_max_ms: i64,
}

/// Connect's `topic.creation.default.*` for topics a source connector creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicCreation {
    pub partitions: i32,
    pub replication_factor: i32,
}

#[derive(Debug, Clone)]
pub struct CommonConfig {
    pub key_converter: Converter,
    pub value_converter: Converter,
    pub transforms: Vec<TransformSpec>,
    pub predicates: Vec<PredicateSpec>,
    pub errors: ErrorPolicy,
    pub retry: RetryPolicy,
    /// Source connectors: set when the config asks for its own topic settings.
    pub topic_creation: Option<TopicCreation>,
    /// Sink connectors: the topics they read.
    pub topics: Option<TopicSelection>,
    /// Sink connectors: the DLQ topic's replication factor when Sluice creates it.
    pub dlq_replication_factor: i32,
}

const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
const BYTE_ARRAY_CONVERTER: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";
const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";

impl CommonConfig {
    pub(crate) fn read(r: &mut KeyReader<'_>, kind: ConnectorKind) -> Self {
        let key_converter = converter(r, "key");
        let value_converter = converter(r, "value");
        let (transforms, predicates) = transforms(r);
        let tolerance = r.choice(
            "errors.tolerance",
            &[("none", Tolerance::None), ("all", Tolerance::All)],
        );
        let mut errors = ErrorPolicy {
            tolerance,
            log: r.bool("errors.log.enable"),
            log_messages: r.bool("errors.log.include.messages"),
            dlq_topic: None,
            dlq_context_headers: false,
        };
        let retry = RetryPolicy {
            max_retries: r.int("errors.max.retries"),
            timeout_ms: r.int("errors.retry.timeout"),
            delay_max_ms: r.int("errors.retry.delay.max.ms"),
        };
        if retry.max_retries < -1 {
            r.issue(
                "errors.max.retries",
                r.raw().get("errors.max.retries"),
                "must be -1 (no limit), 0 (no retries) or a number of retries",
            );
        }
        let mut topic_creation = None;
        let mut topics = None;
        let mut dlq_replication_factor = 3;
        match kind {
            ConnectorKind::Source => {
                let set = r.get("topic.creation.default.partitions").is_some()
                    || r.get("topic.creation.default.replication.factor").is_some();
                let partitions = r.int("topic.creation.default.partitions") as i32;
                let replication_factor = r.int("topic.creation.default.replication.factor") as i32;
                if set {
                    topic_creation = Some(TopicCreation {
                        partitions,
                        replication_factor,
                    });
                }
            }
            ConnectorKind::Sink => {
                topics = sink_topics(r);
                if let Some(dlq) = r.get("errors.deadletterqueue.topic.name") {
                    if let Err(e) = validate_topic_name(dlq) {
                        r.issue(
                            "errors.deadletterqueue.topic.name",
                            Some(dlq),
                            e.to_string(),
                        );
                    } else if topics.as_ref().is_some_and(|t| t.matches(dlq)) {
                        r.issue(
                            "errors.deadletterqueue.topic.name",
                            Some(dlq),
                            "The DLQ topic may not be included in the topics consumed by the connector",
                        );
                    }
                    errors.dlq_topic = Some(dlq.to_owned());
                }
                errors.dlq_context_headers =
                    r.bool("errors.deadletterqueue.context.headers.enable");
                dlq_replication_factor =
                    r.int("errors.deadletterqueue.topic.replication.factor") as i32;
            }
        }
        client_overrides(r);
        CommonConfig {
            key_converter,
            value_converter,
            transforms,
            predicates,
            errors,
            retry,
            topic_creation,
            topics,
            dlq_replication_factor,
        }
    }

    /// The keys checked elsewhere: listed transforms' and predicates' options, converter
    /// settings, client overrides.
    pub fn delegation(&self) -> CommonDelegation {
        CommonDelegation {
            transforms: self.transforms.iter().map(|t| t.alias.clone()).collect(),
            predicates: self.predicates.iter().map(|p| p.alias.clone()).collect(),
        }
    }
}

pub struct CommonDelegation {
    transforms: Vec<String>,
    predicates: Vec<String>,
}

impl Delegated for CommonDelegation {
    fn is_delegated(&self, key: &str) -> bool {
        let under = |prefix: &str, aliases: &[String]| {
            key.strip_prefix(prefix)
                .is_some_and(|rest| aliases.iter().any(|a| rest.starts_with(&format!("{a}."))))
        };
        under("transforms.", &self.transforms)
            || under("predicates.", &self.predicates)
            || CONVERTER_SETTINGS.iter().any(|(k, _)| {
                key.strip_prefix("key.converter.")
                    .or_else(|| key.strip_prefix("value.converter."))
                    == Some(*k)
            })
            || OVERRIDES.iter().any(|p| key.starts_with(p))
    }
}

/// JsonConverter settings besides `schemas.enable`, and what Sluice does with them.
const CONVERTER_SETTINGS: &[(&str, Option<&str>)] = &[
    // Only the default is implemented (the value it must have, when set).
    ("decimal.format", Some("BASE64")),
    ("replace.null.with.default", Some("true")),
    // Caches no schemas: accepted as is.
    ("schemas.cache.size", None),
];

fn converter(r: &mut KeyReader<'_>, side: &str) -> Converter {
    let key = format!("{side}.converter");
    let class = r.get(&key).map(str::to_owned);
    let schemas_enable = r.bool(&format!("{side}.converter.schemas.enable"));
    for (setting, only) in CONVERTER_SETTINGS {
        let k = format!("{key}.{setting}");
        if let (Some(v), Some(only)) = (r.raw().get(&k), only) {
            if !v.trim().eq_ignore_ascii_case(only) {
                r.issue(
                    &k,
                    Some(v),
                    format!("Sluice's JsonConverter implements only {setting}={only}"),
                );
            }
        }
    }
    match class.as_deref() {
        None | Some(JSON_CONVERTER) => Converter::Json(JsonConverter { schemas_enable }),
        Some(BYTE_ARRAY_CONVERTER) => Converter::ByteArray,
        Some(STRING_CONVERTER) => Converter::String,
        Some(other) => {
            r.issue(
                &key,
                Some(other),
                format!("Sluice implements {JSON_CONVERTER}, {BYTE_ARRAY_CONVERTER} and {STRING_CONVERTER}"),
            );
            Converter::default()
        }
    }
}

/// `topics` or `topics.regex`, exactly one, as Connect's `SinkConnectorConfig.validate`.
fn sink_topics(r: &mut KeyReader<'_>) -> Option<TopicSelection> {
    let list = r.list("topics");
    let regex = r.get("topics.regex");
    match (list.is_empty(), regex) {
        (false, Some(_)) => {
            r.issue(
                "topics.regex",
                regex,
                "topics and topics.regex are mutually exclusive options, but both are set",
            );
            None
        }
        (true, None) => {
            r.issue(
                "topics",
                None,
                "Must configure one of topics or topics.regex",
            );
            None
        }
        (false, None) => {
            for t in &list {
                if let Err(e) = validate_topic_name(t) {
                    r.issue("topics", Some(t), e.to_string());
                }
            }
            Some(TopicSelection::List(list))
        }
        (true, Some(re)) => match Regex::new(&format!("^(?:{re})$")) {
            Ok(re) => Some(TopicSelection::Regex(re)),
            Err(e) => {
                r.issue(
                    "topics.regex",
                    Some(re),
                    format!("not a valid regular expression: {e}"),
                );
                None
            }
        },
    }
}

/// `transforms`, `predicates` and their per-alias keys, as Connect's `ConnectorConfig`
/// enriches them.
fn transforms(r: &mut KeyReader<'_>) -> (Vec<TransformSpec>, Vec<PredicateSpec>) {
    let raw = r.raw();
    let aliases = |r: &mut KeyReader<'_>, key: &str| {
        let list = r.list(key);
        let mut seen: Vec<String> = Vec::new();
        for a in &list {
            if seen.contains(a) {
                r.issue(key, Some(&list.join(",")), "Duplicate alias provided.");
            } else {
                seen.push(a.clone());
            }
        }
        seen
    };
    let sub_props = |prefix: &str| -> BTreeMap<String, String> {
        raw.props
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_owned(), v.clone())))
            .collect()
    };
    let predicate_aliases = aliases(r, "predicates");
    let mut predicates = Vec::new();
    for alias in &predicate_aliases {
        let prefix = format!("predicates.{alias}.");
        let mut props = sub_props(&prefix);
        match props.remove("type").filter(|c| !c.trim().is_empty()) {
            Some(class) => predicates.push(PredicateSpec {
                alias: alias.clone(),
                class: class.trim().to_owned(),
                props,
            }),
            None => r.issue(
                &format!("{prefix}type"),
                None,
                format!(
                    "Missing required configuration \"{prefix}type\" which has no default value."
                ),
            ),
        }
    }
    let mut transforms = Vec::new();
    for alias in aliases(r, "transforms") {
        let prefix = format!("transforms.{alias}.");
        let mut props = sub_props(&prefix);
        let class = props.remove("type").filter(|c| !c.trim().is_empty());
        let predicate = props.remove("predicate").filter(|p| !p.trim().is_empty());
        let negate = props.remove("negate");
        let negate = match negate.as_deref().map(|n| n.trim().to_ascii_lowercase()) {
            None => false,
            Some(n) if n == "true" => true,
            Some(n) if n == "false" => false,
            Some(n) => {
                r.issue(
                    &format!("{prefix}negate"),
                    Some(&n),
                    "Expected value to be either true or false",
                );
                false
            }
        };
        if let Some(p) = &predicate {
            if !predicate_aliases.iter().any(|a| a == p.trim()) {
                r.issue(
                    &format!("{prefix}predicate"),
                    Some(p),
                    format!(
                        "The predicate {p} is not listed in predicates ({})",
                        predicate_aliases.join(",")
                    ),
                );
            }
        } else if negate {
            r.issue(
                &format!("{prefix}negate"),
                Some("true"),
                format!("negate needs a predicate: set {prefix}predicate"),
            );
        }
        match class {
            Some(class) => transforms.push(TransformSpec {
                alias,
                class: class.trim().to_owned(),
                props,
                predicate: predicate.map(|p| p.trim().to_owned()),
                negate,
            }),
            None => r.issue(
                &format!("{prefix}type"),
                None,
                format!(
                    "Missing required configuration \"{prefix}type\" which has no default value."
                ),
            ),
        }
    }
    (transforms, predicates)
}

/// Per-connector client overrides (`producer.override.*`, ...), which Connect applies to the
/// task's Kafka clients.
const OVERRIDES: &[&str] = &[
    "producer.override.",
    "consumer.override.",
    "admin.override.",
];

fn client_overrides(r: &mut KeyReader<'_>) {
    let set: Vec<(String, String)> = r
        .raw()
        .props
        .iter()
        .filter(|(k, _)| OVERRIDES.iter().any(|p| k.starts_with(p)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in set {
        r.issue(
            &k,
            Some(&v),
            "per-connector Kafka client overrides are not supported by Sluice; set client properties in the worker config",
        );
    }
}

/// Splits a comma list (shared with the transform catalogue).
pub fn list_of(v: &str) -> Vec<String> {
    split_list(v)
}
