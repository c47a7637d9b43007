//! `org.apache.kafka.connect.transforms.Filter` (drops every record it is applied to, so it is
//! used with a predicate) and the predicates `RecordIsTombstone`, `TopicNameMatches` and
//! `HasHeaderKey`.

use std::sync::Arc;

use regex::Regex;
use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::record::Record;
use sluice_core::transform::{Predicate, Transform, TransformError};

use crate::router::whole_match;

pub struct Filter;

impl Transform for Filter {
    fn apply(&self, _record: Record) -> Result<Option<Record>, TransformError> {
        Ok(None)
    }
}

pub fn filter(_r: &mut KeyReader<'_>) -> Option<Box<dyn Transform>> {
    Some(Box::new(Filter))
}

/// A tombstone: a record whose value is null.
pub struct RecordIsTombstone;

impl Predicate for RecordIsTombstone {
    fn test(&self, record: &Record) -> bool {
        record.value.as_ref().is_none_or(|v| v.value.is_null())
    }
}

pub fn record_is_tombstone(_r: &mut KeyReader<'_>) -> Option<Arc<dyn Predicate>> {
    Some(Arc::new(RecordIsTombstone))
}

pub static TOPIC_NAME_MATCHES_KEYS: &[ConfigKey] = &[ConfigKey::new(
    "pattern",
    KeyType::String,
    Importance::Medium,
    "Predicates",
    "A Java regular expression for matching against the name of a record's topic.",
)
.required()];

pub struct TopicNameMatches(Regex);

impl Predicate for TopicNameMatches {
    fn test(&self, record: &Record) -> bool {
        self.0.is_match(&record.topic)
    }
}

pub fn topic_name_matches(r: &mut KeyReader<'_>) -> Option<Arc<dyn Predicate>> {
    let pattern = r.required_string("pattern")?;
    match whole_match(&pattern) {
        Ok(re) => Some(Arc::new(TopicNameMatches(re))),
        Err(e) => {
            r.issue("pattern", Some(&pattern), format!("Invalid regex: {e}"));
            None
        }
    }
}

pub static HAS_HEADER_KEY_KEYS: &[ConfigKey] = &[ConfigKey::new(
    "name",
    KeyType::String,
    Importance::Medium,
    "Predicates",
    "The header name.",
)
.required()];

pub struct HasHeaderKey(String);

impl Predicate for HasHeaderKey {
    fn test(&self, record: &Record) -> bool {
        record.headers.iter().any(|h| h.key == self.0)
    }
}

pub fn has_header_key(r: &mut KeyReader<'_>) -> Option<Arc<dyn Predicate>> {
    Some(Arc::new(HasHeaderKey(r.required_string("name")?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_core::data::{Data, Schema, SchemaType, Value};
    use sluice_core::record::Header;
    use sluice_core::transform::{Step, TransformChain};

    fn record(topic: &str, value: Option<i64>) -> Record {
        let schema = Arc::new(Schema::new(SchemaType::Int64).optional());
        let mut r = Record::new(
            topic,
            None,
            value.map(|v| Data::new(schema, Value::Int(v))),
            0,
        );
        r.headers.push(Header {
            key: "h".into(),
            value: None,
        });
        r
    }

    // Kafka's PredicatedTransformationTest / RecordIsTombstoneTest in one: Filter applied
    // only where the (possibly negated) predicate holds.
    #[test]
    fn filter_with_predicates() {
        let chain = |negate| {
            TransformChain::new(vec![Step {
                alias: "dropTombstones".into(),
                class: "org.apache.kafka.connect.transforms.Filter".into(),
                transform: Box::new(Filter),
                predicate: Some(Arc::new(RecordIsTombstone)),
                negate,
            }])
        };
        assert!(chain(false).apply(record("t", None)).unwrap().is_none());
        assert!(chain(false).apply(record("t", Some(1))).unwrap().is_some());
        assert!(chain(true).apply(record("t", None)).unwrap().is_some());
        assert!(chain(true).apply(record("t", Some(1))).unwrap().is_none());
        let topic = TopicNameMatches(whole_match("pagila\\..*").unwrap());
        assert!(topic.test(&record("pagila.public.a", None)));
        assert!(!topic.test(&record("x.pagila.public.a", None)));
        assert!(HasHeaderKey("h".into()).test(&record("t", None)));
        assert!(!HasHeaderKey("g".into()).test(&record("t", None)));
    }
}
