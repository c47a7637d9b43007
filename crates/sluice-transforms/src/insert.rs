//! `org.apache.kafka.connect.transforms.InsertField$Key/$Value`: adds the record's topic,
//! partition, offset, timestamp and a static string as fields of a struct (the schema gains the
//! fields) or of a schemaless map. A null key or value passes unchanged; a record it cannot
//! extend is an error, never a record without the fields.

use std::sync::Arc;

use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::data::{Schema, SchemaType, Value};
use sluice_core::logical;
use sluice_core::record::Record;
use sluice_core::transform::{Transform, TransformError};

use crate::operand::{
    add_field, copy_basics, field_value, map_put, opt_string_keeping_empty, require_map,
    require_struct, sides, SchemaCache, Side, REPLACE_NULL_WITH_DEFAULT_DOC,
};

const GROUP: &str = "Transforms";

pub static KEYS: &[ConfigKey] = &[
    ConfigKey::new("topic.field", KeyType::String, Importance::Medium, GROUP, "Field name for Kafka topic. Suffix with ! to make this a required field, or ? to keep it optional (the default)."),
    ConfigKey::new("partition.field", KeyType::String, Importance::Medium, GROUP, "Field name for Kafka partition. Suffix with ! to make this a required field, or ? to keep it optional (the default)."),
    ConfigKey::new("offset.field", KeyType::String, Importance::Medium, GROUP, "Field name for Kafka offset - only applicable to sink connectors. Suffix with ! to make this a required field, or ? to keep it optional (the default)."),
    ConfigKey::new("timestamp.field", KeyType::String, Importance::Medium, GROUP, "Field name for record timestamp. Suffix with ! to make this a required field, or ? to keep it optional (the default)."),
    ConfigKey::new("static.field", KeyType::String, Importance::Medium, GROUP, "Field name for static data field. Suffix with ! to make this a required field, or ? to keep it optional (the default)."),
    ConfigKey::new("static.value", KeyType::String, Importance::Medium, GROUP, "Static field value, if field name configured."),
    ConfigKey::new("replace.null.with.default", KeyType::Boolean, Importance::Medium, GROUP, REPLACE_NULL_WITH_DEFAULT_DOC).default("true"),
];

const PURPOSE: &str = "field insertion";

/// A field to insert: `name`, `name?` (optional, the default) or `name!` (required).
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    optional: bool,
}

impl Spec {
    fn parse(spec: Option<String>) -> Option<Spec> {
        let spec = spec?;
        Some(if let Some(name) = spec.strip_suffix('?') {
            Spec {
                name: name.to_owned(),
                optional: true,
            }
        } else if let Some(name) = spec.strip_suffix('!') {
            Spec {
                name: name.to_owned(),
                optional: false,
            }
        } else {
            Spec {
                name: spec,
                optional: true,
            }
        })
    }

    fn schema(&self, base: Schema) -> Arc<Schema> {
        Arc::new(if self.optional { base.optional() } else { base })
    }
}

pub struct InsertField {
    side: Side,
    topic: Option<Spec>,
    partition: Option<Spec>,
    offset: Option<Spec>,
    timestamp: Option<Spec>,
    constant: Option<(Spec, String)>,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

fn build(r: &mut KeyReader<'_>, side: Side) -> Option<Box<dyn Transform>> {
    let topic = Spec::parse(r.opt_string("topic.field"));
    let partition = Spec::parse(r.opt_string("partition.field"));
    let offset = Spec::parse(r.opt_string("offset.field"));
    let timestamp = Spec::parse(r.opt_string("timestamp.field"));
    let static_field = Spec::parse(r.opt_string("static.field"));
    let static_value = opt_string_keeping_empty(r, "static.value");
    let replace_null_with_default = r.bool("replace.null.with.default");
    if topic.is_none()
        && partition.is_none()
        && offset.is_none()
        && timestamp.is_none()
        && static_field.is_none()
    {
        r.issue(
            "static.field",
            None,
            "No field insertion configured: set at least one of topic.field, partition.field, offset.field, timestamp.field or static.field",
        );
        return None;
    }
    let constant = match (static_field, static_value) {
        (Some(field), Some(value)) => Some((field, value)),
        (Some(field), None) => {
            r.issue(
                "static.value",
                None,
                format!("No value specified for static field: {}", field.name),
            );
            return None;
        }
        (None, _) => None,
    };
    Some(Box::new(InsertField {
        side,
        topic,
        partition,
        offset,
        timestamp,
        constant,
        replace_null_with_default,
        schemas: SchemaCache::default(),
    }))
}

sides!(build);

impl InsertField {
    /// The fields to insert with their values, in Connect's order.
    fn insertions(&self, record: &Record) -> Result<Vec<(&Spec, Schema, Value)>, TransformError> {
        let mut out = Vec::new();
        if let Some(spec) = &self.topic {
            out.push((
                spec,
                Schema::new(SchemaType::String),
                Value::String(record.topic.clone()),
            ));
        }
        if let Some(spec) = &self.partition {
            let value = record
                .partition
                .map_or(Value::Null, |p| Value::Int(p.into()));
            out.push((spec, Schema::new(SchemaType::Int32), value));
        }
        if let Some(spec) = &self.offset {
            let Some(offset) = record.kafka_offset() else {
                return Err(TransformError::new(format!(
                    "Only SinkRecord supported for [{PURPOSE}], found: org.apache.kafka.connect.source.SourceRecord"
                )));
            };
            out.push((spec, Schema::new(SchemaType::Int64), Value::Int(offset)));
        }
        if let Some(spec) = &self.timestamp {
            out.push((
                spec,
                logical::timestamp_schema(),
                Value::Int(record.timestamp_ms),
            ));
        }
        if let Some((spec, value)) = &self.constant {
            out.push((
                spec,
                Schema::new(SchemaType::String),
                Value::String(value.clone()),
            ));
        }
        Ok(out)
    }
}

impl Transform for InsertField {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        if self.side.is_null(&record) {
            return Ok(Some(record));
        }
        let insertions = self.insertions(&record)?;
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let mut entries = require_map(&value, PURPOSE)?.to_vec();
                for (spec, _, v) in insertions {
                    // Connect leaves an unknown partition out of a map rather than insert null.
                    if !v.is_null() {
                        map_put(&mut entries, &spec.name, v);
                    }
                }
                self.side.put(&mut record, None, Value::Map(entries));
            }
            Some(schema) => {
                let (schema, values) = require_struct(Some(&schema), &value, PURPOSE)?;
                let updated = self.schemas.get_or_build(&[schema], || {
                    let mut s = copy_basics(schema, SchemaType::Struct);
                    s.fields = schema.fields.clone();
                    for (spec, field_schema, _) in &insertions {
                        add_field(&mut s, &spec.name, spec.schema(field_schema.clone()))?;
                    }
                    Ok(s)
                })?;
                let mut out: Vec<Value> = schema
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| field_value(f, values.get(i), self.replace_null_with_default))
                    .collect();
                for (spec, _, v) in insertions {
                    if v.is_null() && !spec.optional {
                        // What Connect's converter says of the field it left unset.
                        return Err(TransformError::new(format!(
                            "Conversion error: null value for field that is required and has no default value ({})",
                            spec.name
                        )));
                    }
                    out.push(v);
                }
                self.side
                    .put(&mut record, Some(updated), Value::Struct(out));
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operand::testing::{refused, transform};
    use sluice_core::data::Data;

    const ALL: &[(&str, &str)] = &[
        ("topic.field", "topic_field!"),
        ("partition.field", "partition_field"),
        ("timestamp.field", "timestamp_field?"),
        ("static.field", "instance_id"),
        ("static.value", "my-instance-id"),
    ];

    fn sink_side(mut r: Record, partition: i32) -> Record {
        r.partition = Some(partition);
        r
    }

    // InsertFieldTest.topLevelStructRequired
    #[test]
    fn top_level_struct_required() {
        let t = transform(KEYS, value, &[("topic.field", "topic_field")]);
        let r = Record::new(
            "",
            None,
            Some(Data::new(Schema::new(SchemaType::Int32), Value::Int(42))),
            0,
        );
        assert_eq!(
            t.apply(r).unwrap_err().to_string(),
            "Only Struct objects supported for [field insertion], found: java.lang.Integer"
        );
    }

    // InsertFieldTest.copySchemaAndInsertConfiguredFields
    #[test]
    fn copy_schema_and_insert_configured_fields() {
        let t = transform(KEYS, value, ALL);
        let mut base = Schema::structure()
            .named("name")
            .version(1)
            .field("magic", Schema::new(SchemaType::Int64).optional());
        base.doc = Some("doc".into());
        let s = Arc::new(base);
        let r = sink_side(
            Record::new(
                "test",
                None,
                Some(Data::new(s.clone(), Value::Struct(vec![Value::Int(42)]))),
                789,
            ),
            0,
        );
        let out = t.apply(r).unwrap().unwrap();
        let v = out.value.unwrap();
        let vs = v.schema.unwrap();
        assert_eq!(vs.name.as_deref(), Some("name"));
        assert_eq!(vs.version, Some(1));
        assert_eq!(vs.doc.as_deref(), Some("doc"));
        let field = |n: &str| vs.fields[vs.field_index(n).unwrap()].schema.clone();
        assert_eq!(*field("magic"), Schema::new(SchemaType::Int64).optional());
        assert_eq!(*field("topic_field"), Schema::new(SchemaType::String));
        assert_eq!(
            *field("partition_field"),
            Schema::new(SchemaType::Int32).optional()
        );
        assert_eq!(
            *field("timestamp_field"),
            logical::timestamp_schema().optional()
        );
        assert_eq!(
            *field("instance_id"),
            Schema::new(SchemaType::String).optional()
        );
        assert_eq!(
            v.value,
            Value::Struct(vec![
                Value::Int(42),
                "test".into(),
                Value::Int(0),
                Value::Int(789),
                "my-instance-id".into()
            ])
        );
        // The same input schema gives the same output schema (Connect's cache).
        let again = t
            .apply(sink_side(
                Record::new(
                    "test",
                    None,
                    Some(Data::new(s, Value::Struct(vec![Value::Null]))),
                    1,
                ),
                1,
            ))
            .unwrap()
            .unwrap();
        assert!(Arc::ptr_eq(
            &vs,
            again.value.unwrap().schema.as_ref().unwrap()
        ));
    }

    // InsertFieldTest.schemalessInsertConfiguredFields
    #[test]
    fn schemaless_insert_configured_fields() {
        let t = transform(KEYS, value, ALL);
        let r = sink_side(
            Record::new(
                "test",
                None,
                Some(Data::schemaless(Value::Map(vec![(
                    "magic".into(),
                    Value::Int(42),
                )]))),
                123,
            ),
            0,
        );
        let out = t.apply(r).unwrap().unwrap().value.unwrap();
        assert!(out.schema.is_none());
        assert_eq!(
            out.value,
            Value::Map(vec![
                ("magic".into(), Value::Int(42)),
                ("topic_field".into(), "test".into()),
                ("partition_field".into(), Value::Int(0)),
                ("timestamp_field".into(), Value::Int(123)),
                ("instance_id".into(), "my-instance-id".into()),
            ])
        );
    }

    // InsertFieldTest.insertConfiguredFieldsIntoTombstoneEvent{With,Without}SchemaLeavesValueUnchanged
    #[test]
    fn tombstones_pass_unchanged() {
        let t = transform(KEYS, value, ALL);
        let out = t
            .apply(Record::new("test", None, None, 0))
            .unwrap()
            .unwrap();
        assert!(out.value.is_none());
        let schema = Arc::new(
            Schema::structure()
                .named("name")
                .field("magic", Schema::new(SchemaType::Int64).optional()),
        );
        let r = Record::new(
            "test",
            None,
            Some(Data::new(schema.clone(), Value::Null)),
            0,
        );
        let out = t.apply(r).unwrap().unwrap().value.unwrap();
        assert_eq!(out.schema.as_deref(), Some(&*schema));
        assert!(out.value.is_null());
    }

    // InsertFieldTest.insertKeyFieldsIntoTombstoneEvent and insertIntoNullKeyLeavesRecordUnchanged
    #[test]
    fn key_side() {
        let t = transform(KEYS, key, ALL);
        let r = sink_side(
            Record::new(
                "test",
                Some(Data::schemaless(Value::Map(vec![(
                    "magic".into(),
                    Value::Int(42),
                )]))),
                None,
                0,
            ),
            0,
        );
        let out = t.apply(r).unwrap().unwrap();
        let Value::Map(k) = out.key.unwrap().value else {
            panic!()
        };
        assert_eq!(k.len(), 5);
        assert!(out.value.is_none());
        let r = Record::new("test", None, Some(Data::schemaless(Value::Map(vec![]))), 0);
        let out = t.apply(r).unwrap().unwrap();
        assert!(out.key.is_none());
    }

    // InsertFieldTest.testUnsetOptionalField (both parameter sets)
    #[test]
    fn unset_optional_field_with_default() {
        for (replace, expected) in [("false", Value::Null), ("true", Value::Int(42))] {
            let mut props = ALL.to_vec();
            props.push(("replace.null.with.default", replace));
            let t = transform(KEYS, value, &props);
            let magic = Schema::new(SchemaType::Int64)
                .optional()
                .default_value(Value::Int(42));
            let schema = Schema::structure()
                .named("name")
                .field("magic_with_default", magic);
            let r = Record::new(
                "test",
                None,
                Some(Data::new(schema, Value::Struct(vec![Value::Null]))),
                789,
            );
            let out = t.apply(r).unwrap().unwrap().value.unwrap();
            let Value::Struct(v) = out.value else {
                panic!()
            };
            assert_eq!(v[0], expected);
        }
    }

    #[test]
    fn config_errors_name_the_key() {
        assert!(refused(KEYS, value, &[])
            .contains("transforms.t.static.field: No field insertion configured"));
        assert!(refused(KEYS, value, &[("static.field", "x")])
            .contains("transforms.t.static.value: No value specified for static field: x"));
    }

    #[test]
    fn offsets_only_on_sink_records_and_required_partition() {
        let t = transform(KEYS, value, &[("offset.field", "off")]);
        let schema = Schema::structure().field("a", Schema::new(SchemaType::Int32));
        let r = Record::new(
            "t",
            None,
            Some(Data::new(
                schema.clone(),
                Value::Struct(vec![Value::Int(1)]),
            )),
            0,
        );
        assert!(t
            .apply(r)
            .unwrap_err()
            .to_string()
            .starts_with("Only SinkRecord supported for [field insertion]"));
        let t = transform(KEYS, value, &[("partition.field", "p!")]);
        let r = Record::new(
            "t",
            None,
            Some(Data::new(schema, Value::Struct(vec![Value::Int(1)]))),
            0,
        );
        assert!(t.apply(r).is_err());
    }

    #[test]
    fn a_field_that_exists_is_a_duplicate() {
        let t = transform(KEYS, value, &[("static.field", "a"), ("static.value", "x")]);
        let schema = Schema::structure().field("a", Schema::new(SchemaType::Int32));
        let r = Record::new(
            "t",
            None,
            Some(Data::new(schema, Value::Struct(vec![Value::Int(1)]))),
            0,
        );
        assert_eq!(
            t.apply(r).unwrap_err().to_string(),
            "Cannot create field because of field name duplication a"
        );
    }
}
