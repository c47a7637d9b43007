//! `io.debezium.transforms.ByLogicalTableRouter` (and its newer name `ToLogicalTopicRouter`):
//! the change events of many physical tables (shards) go to one logical topic. The key gains a
//! field naming the physical table so keys stay unique, and the key, row and envelope schemas
//! are renamed after the new topic. A record whose topic does not match passes unchanged.

use std::sync::Arc;

use regex::Regex;
use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::data::{Schema, SchemaType, Value};
use sluice_core::record::Record;
use sluice_core::transform::{Transform, TransformError};

use crate::operand::{add_field, field_value, require_struct, SchemaCache, Side};
use crate::router::{java_replacement, whole_match};
use crate::unwrap::is_envelope;

const GROUP: &str = "Transforms";

const fn keys(key_field_default: &'static str) -> [ConfigKey; 8] {
    [
        ConfigKey::new("topic.regex", KeyType::String, Importance::Low, GROUP, "The regex used for extracting the name of the logical destination from the original topic name.").required(),
        ConfigKey::new("topic.replacement", KeyType::String, Importance::Low, GROUP, "The replacement string used in conjunction with topic.regex. This will be used to create the new topic name.").required(),
        ConfigKey::new("key.enforce.uniqueness", KeyType::Boolean, Importance::Low, GROUP, "Augment each record's key with a field denoting the source topic. This field distinguishes records coming from different physical tables which may otherwise have primary/unique key conflicts. If the source tables are guaranteed to have globally unique keys then this may be set to false to disable key rewriting.").default("true"),
        ConfigKey::new("key.field.regex", KeyType::String, Importance::Low, GROUP, "The regex used for extracting the source identifier from the original topic name."),
        ConfigKey::new("key.field.name", KeyType::String, Importance::Low, GROUP, "Each record's key schema will be augmented with this field name. The purpose of this field is to distinguish the different physical tables that can now share a single topic.").default(key_field_default),
        ConfigKey::new("key.field.replacement", KeyType::String, Importance::Low, GROUP, "The replacement string used in conjunction with key.field.regex. This will be used to create the source identifier in the record's key."),
        ConfigKey::new("schema.name.adjustment.mode", KeyType::String, Importance::Low, GROUP, "Specify how the message key schema names derived from the resulting topic name should be adjusted for compatibility with the message converter used by the connector: 'avro' replaces the characters that cannot be used in the Avro type name with underscore, 'avro_unicode' with _uxxxx, 'none' does not apply any adjustment").default("none").one_of(&["none", "avro", "avro_unicode"]),
        ConfigKey::new("logical.destination.cache.size", KeyType::Int, Importance::Low, GROUP, "The size used for holding the max entries in LRUCache.").default("16").aliases(&["logical.table.cache.size"]).not_applicable("Sluice caches derived schemas by their source schema, not per topic"),
    ]
}

pub static BY_LOGICAL_TABLE_KEYS: [ConfigKey; 8] = keys("__dbz__physicalTableIdentifier");
pub static TO_LOGICAL_TOPIC_KEYS: [ConfigKey; 8] = keys("__dbz__sourceIdentifier");

#[derive(Debug, Clone, Copy, PartialEq)]
enum Adjust {
    None,
    Avro,
    AvroUnicode,
}

/// Debezium's `SchemaNameAdjuster`: names made valid Avro full names.
fn adjust(mode: Adjust, name: &str) -> String {
    let first_ok = |c: char| c.is_ascii_alphabetic() || (c == '_' && mode == Adjust::Avro);
    let other_ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let replace = |c: char| match mode {
        Adjust::AvroUnicode => {
            let hex = format!("{:x}", u32::from(c));
            format!("_u{}{hex}", if hex.len() <= 2 { "00" } else { "" })
        }
        _ => "_".to_owned(),
    };
    if mode == Adjust::None {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        if (i == 0 && first_ok(c)) || (i > 0 && other_ok(c)) {
            out.push(c);
        } else {
            out.push_str(&replace(c));
            // A leading digit is kept after the underscore, so `1a` and `2a` stay apart.
            if i == 0 && c.is_ascii_digit() && mode == Adjust::Avro {
                out.push(c);
            }
        }
    }
    out
}

pub struct LogicalTableRouter {
    topic_regex: Regex,
    topic_replacement: String,
    key_field_regex: Option<(Regex, String)>,
    key_field_name: String,
    enforce_uniqueness: bool,
    adjust: Adjust,
    key_schemas: SchemaCache,
    envelope_schemas: SchemaCache,
}

pub fn by_logical_table(r: &mut KeyReader<'_>) -> Option<Box<dyn Transform>> {
    build(r, "io.debezium.transforms.ByLogicalTableRouter")
}

pub fn to_logical_topic(r: &mut KeyReader<'_>) -> Option<Box<dyn Transform>> {
    build(r, "io.debezium.transforms.ToLogicalTopicRouter")
}

fn regex(r: &mut KeyReader<'_>, key: &str, pattern: &str) -> Option<Regex> {
    match whole_match(pattern) {
        Ok(re) => Some(re),
        Err(e) => {
            r.issue(
                key,
                Some(pattern),
                format!("not a valid regular expression: {e}"),
            );
            None
        }
    }
}

fn build(r: &mut KeyReader<'_>, class: &str) -> Option<Box<dyn Transform>> {
    let topic_regex = r.required_string("topic.regex");
    let topic_replacement = r.required_string("topic.replacement");
    let enforce_uniqueness = r.bool("key.enforce.uniqueness");
    let key_regex = r.opt_string("key.field.regex");
    let key_field_name = r.string("key.field.name");
    let key_replacement = r.opt_string("key.field.replacement");
    let adjust = r.choice(
        "schema.name.adjustment.mode",
        &[
            ("none", Adjust::None),
            ("avro", Adjust::Avro),
            ("avro_unicode", Adjust::AvroUnicode),
        ],
    );
    r.int("logical.destination.cache.size");
    if class.ends_with("ByLogicalTableRouter") {
        tracing::warn!("{class} is deprecated and will be removed in a future release. Please adjust the connector configuration to use io.debezium.transforms.ToLogicalTopicRouter instead.");
    }
    let (topic_pattern, topic_replacement) = (topic_regex?, topic_replacement?);
    let topic_regex = regex(r, "topic.regex", &topic_pattern)?;
    let key_field_regex = match (key_regex, key_replacement) {
        (None, _) => None,
        (Some(_), None) => {
            r.issue(
                "key.field.replacement",
                None,
                "key.field.replacement must be non-empty if key.field.regex is set.",
            );
            return None;
        }
        (Some(pattern), Some(replacement)) => {
            let re = regex(r, "key.field.regex", &pattern)?;
            let replacement = java_replacement(&replacement, re.captures_len());
            Some((re, replacement))
        }
    };
    Some(Box::new(LogicalTableRouter {
        topic_replacement: java_replacement(&topic_replacement, topic_regex.captures_len()),
        topic_regex,
        key_field_regex,
        key_field_name,
        enforce_uniqueness,
        adjust,
        key_schemas: SchemaCache::default(),
        envelope_schemas: SchemaCache::default(),
    }))
}

/// `copySchemaExcludingName`: the schema renamed, everything else kept.
fn renamed(source: &Schema, name: String, keep_fields: bool) -> Schema {
    let mut s = Schema::new(SchemaType::Struct);
    s.name = Some(name);
    s.version = source.version;
    s.doc = source.doc.clone();
    s.parameters = source.parameters.clone();
    s.optional = source.optional;
    if keep_fields {
        s.fields = source.fields.clone();
    }
    s
}

impl LogicalTableRouter {
    fn physical_identifier(&self, topic: &str) -> String {
        match &self.key_field_regex {
            Some((re, replacement)) if re.is_match(topic) => {
                re.replace(topic, replacement.as_str()).into_owned()
            }
            _ => topic.to_owned(),
        }
    }

    fn envelope_schema(&self, old: &Schema, topic: &str) -> Result<Schema, TransformError> {
        let row = ["before", "after"]
            .iter()
            .find_map(|n| old.field_index(n))
            .map(|i| &old.fields[i].schema);
        let new_row = row.map(|r| {
            Arc::new(renamed(
                r,
                adjust(self.adjust, &format!("{topic}.Value")),
                true,
            ))
        });
        let mut s = renamed(
            old,
            adjust(self.adjust, &format!("{topic}.Envelope")),
            false,
        );
        for f in &old.fields {
            let fs = match &new_row {
                Some(r) if f.name == "before" || f.name == "after" => r.clone(),
                _ => f.schema.clone(),
            };
            add_field(&mut s, &f.name, fs)?;
        }
        Ok(s)
    }
}

impl Transform for LogicalTableRouter {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        if !self.topic_regex.is_match(&record.topic) {
            return Ok(Some(record));
        }
        let topic = self
            .topic_regex
            .replace(&record.topic, self.topic_replacement.as_str())
            .into_owned();
        if topic.is_empty() {
            tracing::warn!(
                "Routing regex returned an empty topic name, propagating original record"
            );
            return Ok(Some(record));
        }
        // A key (absent for tables without a primary key) gains the physical table's name.
        let (key_schema, key) = Side::Key.take(&mut record);
        if key.is_null() {
            Side::Key.put(&mut record, None, Value::Null);
        } else {
            let (ks, kv) = require_struct(key_schema.as_ref(), &key, "Updating schema")?;
            let new_schema = self.key_schemas.get_or_build(&[ks], || {
                let mut s = renamed(ks, adjust(self.adjust, &format!("{topic}.Key")), true);
                if self.enforce_uniqueness {
                    add_field(
                        &mut s,
                        &self.key_field_name,
                        Arc::new(Schema::new(SchemaType::String)),
                    )?;
                }
                Ok(s)
            })?;
            let mut values: Vec<Value> = ks
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| field_value(f, kv.get(i), false))
                .collect();
            if self.enforce_uniqueness {
                values.push(Value::String(self.physical_identifier(&record.topic)));
            }
            Side::Key.put(&mut record, Some(new_schema), Value::Struct(values));
        }
        // Tombstones and records that are not change events keep their value.
        if !Side::Value.is_null(&record) && is_envelope(&record) {
            let (schema, value) = Side::Value.take(&mut record);
            let (es, ev) = require_struct(schema.as_ref(), &value, "Updating schema")?;
            let new_schema = self
                .envelope_schemas
                .get_or_build(&[es], || self.envelope_schema(es, &topic))?;
            let values = es
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| field_value(f, ev.get(i), true))
                .collect();
            Side::Value.put(&mut record, Some(new_schema), Value::Struct(values));
        }
        record.topic = topic;
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operand::testing::{refused, transform};
    use sluice_core::data::Data;

    fn router(props: &[(&str, &str)]) -> Box<dyn Transform> {
        transform(&BY_LOGICAL_TABLE_KEYS, by_logical_table, props)
    }

    fn keyed(topic: &str, schema: &Arc<Schema>, id: i64) -> Record {
        Record::new(
            topic,
            Some(Data::new(
                schema.clone(),
                Value::Struct(vec![Value::Int(id)]),
            )),
            None,
            0,
        )
    }

    // ByLogicalTableRouterTest.testBroken*Configuration*
    #[test]
    fn broken_configurations() {
        let keys: &'static [ConfigKey] = &BY_LOGICAL_TABLE_KEYS;
        assert!(refused(
            keys,
            by_logical_table,
            &[
                ("topic.regex", "someValidRegex(.*)"),
                ("topic.replacement", "$1"),
                ("key.field.regex", "x")
            ]
        )
        .contains("key.field.replacement must be non-empty if key.field.regex is set."));
        assert!(refused(
            keys,
            by_logical_table,
            &[
                ("topic.regex", "someValidRegex(.*)"),
                ("topic.replacement", "$1"),
                ("key.field.regex", "x"),
                ("key.field.replacement", "")
            ]
        )
        .contains("key.field.replacement"));
        assert!(refused(
            keys,
            by_logical_table,
            &[("topic.regex", "someValidRegex(.*)")]
        )
        .contains("transforms.t.topic.replacement"));
        assert!(refused(
            keys,
            by_logical_table,
            &[
                ("topic.regex", "someValidRegex(.*)"),
                ("topic.replacement", "")
            ]
        )
        .contains("transforms.t.topic.replacement"));
        assert!(refused(
            keys,
            by_logical_table,
            &[("topic.regex", "(unclosed"), ("topic.replacement", "x")]
        )
        .contains("transforms.t.topic.regex"));
    }

    // ByLogicalTableRouterTest.testKeyReplacementWorkingConfigurationWith{Avro,No}SchemaNameAdjustment
    #[test]
    fn key_replacement() {
        for (mode, expected) in [
            ("avro", "mysql_server_1.inventory.customers_all_shards.Key"),
            ("none", "mysql-server-1.inventory.customers_all_shards.Key"),
        ] {
            let t = router(&[
                ("topic.regex", "(.*)customers_shard(.*)"),
                ("topic.replacement", "$1customers_all_shards"),
                ("key.field.name", "shard_id"),
                ("key.field.regex", "(.*)customers_shard_(.*)"),
                ("key.field.replacement", "$2"),
                ("schema.name.adjustment.mode", mode),
            ]);
            let ks = Arc::new(
                Schema::structure()
                    .named("mysql-server-1.inventory.customers_shard_1.Key")
                    .field("id", Schema::new(SchemaType::Int64)),
            );
            for (topic, id, shard) in [
                ("mysql-server-1.inventory.customers_shard_1", 123, "1"),
                ("mysql-server-1.inventory.customers_shard_2", 123, "2"),
                ("mysql-server-1.inventory.customers_shard_2", 456, "2"),
            ] {
                let out = t.apply(keyed(topic, &ks, id)).unwrap().unwrap();
                assert_eq!(out.topic, "mysql-server-1.inventory.customers_all_shards");
                let k = out.key.unwrap();
                let s = k.schema.unwrap();
                assert_eq!(s.name.as_deref(), Some(expected));
                let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
                assert_eq!(names, ["id", "shard_id"]);
                assert_eq!(k.value, Value::Struct(vec![Value::Int(id), shard.into()]));
            }
        }
    }

    // ByLogicalTableRouterTest.testHeartbeatMessageTopicReplacementTopic and the default key field
    #[test]
    fn heartbeat_topic() {
        let t = router(&[
            ("topic.regex", "__debezium-heartbeat(.*)"),
            ("topic.replacement", "debezium_heartbeat_central"),
            ("key.field.name", "originalTopic"),
        ]);
        let ks = Arc::new(
            Schema::structure()
                .named("io.debezium.connector.mysql.ServerNameKey")
                .field("serverName", Schema::new(SchemaType::String)),
        );
        let r = Record::new(
            "__debezium-heartbeat.test_server_name_db",
            Some(Data::new(
                ks,
                Value::Struct(vec!["test_server_name_db".into()]),
            )),
            None,
            0,
        );
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.topic, "debezium_heartbeat_central");
        let k = out.key.unwrap();
        assert_eq!(
            k.schema.unwrap().name.as_deref(),
            Some("debezium_heartbeat_central.Key")
        );
        assert_eq!(
            k.value,
            Value::Struct(vec![
                "test_server_name_db".into(),
                "__debezium-heartbeat.test_server_name_db".into()
            ])
        );
        assert!(out.value.is_none());

        let t = router(&[("topic.regex", "(.*)"), ("topic.replacement", "all")]);
        let ks = Arc::new(Schema::structure().field("id", Schema::new(SchemaType::Int64)));
        let k = t.apply(keyed("a", &ks, 1)).unwrap().unwrap().key.unwrap();
        assert_eq!(
            k.schema.unwrap().fields[1].name,
            "__dbz__physicalTableIdentifier"
        );
        let t = transform(
            &TO_LOGICAL_TOPIC_KEYS,
            to_logical_topic,
            &[("topic.regex", "(.*)"), ("topic.replacement", "all")],
        );
        let k = t.apply(keyed("a", &ks, 1)).unwrap().unwrap().key.unwrap();
        assert_eq!(k.schema.unwrap().fields[1].name, "__dbz__sourceIdentifier");
    }

    // ByLogicalTableRouterTest: envelopes are renamed, their rows keep their values.
    #[test]
    fn envelope_and_row_schemas_are_renamed() {
        let t = router(&[
            ("topic.regex", "db\\.shard(\\d)\\.(.*)"),
            ("topic.replacement", "db.$2"),
            ("key.enforce.uniqueness", "false"),
        ]);
        let row = Arc::new(
            Schema::structure()
                .named("db.shard1.t.Value")
                .field("id", Schema::new(SchemaType::Int64))
                .optional(),
        );
        let env = Arc::new(
            Schema::structure()
                .named("db.shard1.t.Envelope")
                .version(2)
                .field("before", row.clone())
                .field("after", row)
                .field("op", Schema::new(SchemaType::String)),
        );
        let v = Value::Struct(vec![
            Value::Null,
            Value::Struct(vec![Value::Int(7)]),
            "c".into(),
        ]);
        let out = t
            .apply(Record::new(
                "db.shard1.t",
                None,
                Some(Data::new(env, v.clone())),
                0,
            ))
            .unwrap()
            .unwrap();
        assert_eq!(out.topic, "db.t");
        let d = out.value.unwrap();
        let s = d.schema.unwrap();
        assert_eq!(
            (s.name.as_deref(), s.version),
            (Some("db.t.Envelope"), Some(2))
        );
        assert_eq!(s.fields[1].schema.name.as_deref(), Some("db.t.Value"));
        assert!(s.fields[1].schema.optional);
        assert_eq!(d.value, v);
        assert_eq!(
            t.apply(Record::new("other", None, None, 0))
                .unwrap()
                .unwrap()
                .topic,
            "other"
        );
    }

    #[test]
    fn avro_names() {
        assert_eq!(adjust(Adjust::Avro, "1a-b.c"), "_1a_b.c");
        assert_eq!(adjust(Adjust::AvroUnicode, "a-b"), "a_u002db");
        assert_eq!(adjust(Adjust::None, "a-b"), "a-b");
    }
}
