//! `org.apache.kafka.connect.transforms.SetSchemaMetadata$Key/$Value`: sets the name and/or
//! version of the key or value schema; everything else about the schema and the data stays.
//! Data without a schema is an error, as in Connect (only a null key or value passes).

use std::sync::Arc;

use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::data::Value;
use sluice_core::record::Record;
use sluice_core::transform::{Transform, TransformError};

use crate::operand::{
    field_value, require_schema, sides, SchemaCache, Side, REPLACE_NULL_WITH_DEFAULT_DOC,
};

const GROUP: &str = "Transforms";

pub static KEYS: &[ConfigKey] = &[
    ConfigKey::new(
        "schema.name",
        KeyType::String,
        Importance::High,
        GROUP,
        "Schema name to set.",
    ),
    ConfigKey::new(
        "schema.version",
        KeyType::Int,
        Importance::High,
        GROUP,
        "Schema version to set.",
    )
    .range(i32::MIN as i64, i32::MAX as i64),
    ConfigKey::new(
        "replace.null.with.default",
        KeyType::Boolean,
        Importance::Medium,
        GROUP,
        REPLACE_NULL_WITH_DEFAULT_DOC,
    )
    .default("true"),
];

pub struct SetSchemaMetadata {
    side: Side,
    name: Option<String>,
    version: Option<i32>,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

fn build(r: &mut KeyReader<'_>, side: Side) -> Option<Box<dyn Transform>> {
    let name = r.opt_string("schema.name");
    let version = match r.get("schema.version") {
        Some(_) => i32::try_from(r.int("schema.version")).ok(),
        None => None,
    };
    let replace_null_with_default = r.bool("replace.null.with.default");
    if name.is_none() && version.is_none() {
        r.issue(
            "schema.name",
            None,
            "Neither schema name nor version configured",
        );
        return None;
    }
    Some(Box::new(SetSchemaMetadata {
        side,
        name,
        version,
        replace_null_with_default,
        schemas: SchemaCache::default(),
    }))
}

sides!(build);

impl Transform for SetSchemaMetadata {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        if self
            .side
            .get(&record)
            .is_none_or(|d| d.schema.is_none() && d.value.is_null())
        {
            return Ok(Some(record));
        }
        let (schema, value) = self.side.take(&mut record);
        let schema = require_schema(schema.as_ref(), "updating schema metadata")?;
        let updated: Arc<_> = self.schemas.get_or_build(&[schema], || {
            let mut s = (**schema).clone();
            if let Some(name) = &self.name {
                s.name = Some(name.clone());
            }
            if let Some(version) = self.version {
                s.version = Some(version);
            }
            Ok(s)
        })?;
        // `updateSchemaIn`: a struct is rebuilt against the new schema.
        let value = match value {
            Value::Struct(values) => Value::Struct(
                updated
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| field_value(f, values.get(i), self.replace_null_with_default))
                    .collect(),
            ),
            other => other,
        };
        self.side.put(&mut record, Some(updated), value);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operand::testing::{refused, transform};
    use sluice_core::data::{Data, Schema, SchemaType};

    fn apply(props: &[(&str, &str)], data: Option<Data>) -> Result<Option<Data>, TransformError> {
        Ok(transform(KEYS, value, props)
            .apply(Record::new("", None, data, 0))?
            .and_then(|r| r.value))
    }

    // SetSchemaMetadataTest.schemaNameUpdate / schemaVersionUpdate / schemaNameAndVersionUpdate
    #[test]
    fn name_and_version() {
        let empty = || Some(Data::new(Schema::structure(), Value::Null));
        let out = apply(&[("schema.name", "foo")], empty()).unwrap().unwrap();
        assert_eq!(out.schema.unwrap().name.as_deref(), Some("foo"));
        let out = apply(&[("schema.version", "42")], empty())
            .unwrap()
            .unwrap();
        assert_eq!(out.schema.unwrap().version, Some(42));
        let out = apply(&[("schema.name", "foo"), ("schema.version", "42")], empty())
            .unwrap()
            .unwrap();
        let s = out.schema.unwrap();
        assert_eq!((s.name.as_deref(), s.version), (Some("foo"), Some(42)));
    }

    // SetSchemaMetadataTest.schemaNameAndVersionUpdateWithStruct(AndNullField)
    #[test]
    fn with_struct() {
        for (replace, expected) in [("false", Value::Null), ("true", Value::from("default"))] {
            let schema = Schema::structure()
                .named("my.orig.SchemaDefn")
                .field(
                    "f1",
                    Schema::new(SchemaType::String)
                        .optional()
                        .default_value("default".into()),
                )
                .field("f2", Schema::new(SchemaType::Int32));
            let data = Data::new(schema, Value::Struct(vec![Value::Null, Value::Int(1)]));
            let out = apply(
                &[
                    ("schema.name", "foo"),
                    ("schema.version", "42"),
                    ("replace.null.with.default", replace),
                ],
                Some(data),
            )
            .unwrap()
            .unwrap();
            let s = out.schema.unwrap();
            assert_eq!((s.name.as_deref(), s.version), (Some("foo"), Some(42)));
            assert_eq!(s.fields.len(), 2);
            assert_eq!(out.value, Value::Struct(vec![expected, Value::Int(1)]));
        }
    }

    // SetSchemaMetadataTest.valueSchemaRequired / ignoreRecordWithNullValue
    #[test]
    fn schema_required_unless_null() {
        let err = apply(
            &[("schema.name", "foo")],
            Some(Data::schemaless(Value::Int(42))),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Schema required for [updating schema metadata]"
        );
        assert!(apply(&[("schema.name", "foo")], None).unwrap().is_none());
        assert!(refused(KEYS, value, &[]).contains("Neither schema name nor version configured"));
        assert!(refused(KEYS, value, &[("schema.version", "x")])
            .contains("transforms.t.schema.version"));
    }
}
