//! `org.apache.kafka.connect.transforms.Flatten$Key/$Value`: nested structs (or maps) become
//! one level, field names joined by `delimiter` (default `.`). The flattened schema takes the
//! optional-ness and defaults of enclosing structs into each field, as Connect does. Arrays are
//! kept as they are; a map inside a struct is an error, never dropped.

use std::sync::Arc;

use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::data::{Schema, SchemaType, Value};
use sluice_core::record::Record;
use sluice_core::transform::{Transform, TransformError};

use crate::operand::{
    add_field, copy_basics, copy_basics_of, field_value, java_class, map_put, require_map,
    require_struct, sides, type_name, SchemaCache, Side,
};

pub static KEYS: &[ConfigKey] = &[ConfigKey::new(
    "delimiter",
    KeyType::String,
    Importance::Medium,
    "Transforms",
    "Delimiter to insert between field names from the input record when generating field names for the output record",
)
.default(".")];

const PURPOSE: &str = "flattening";

pub struct Flatten {
    side: Side,
    delimiter: String,
    schemas: SchemaCache,
}

fn build(r: &mut KeyReader<'_>, side: Side) -> Option<Box<dyn Transform>> {
    Some(Box::new(Flatten {
        side,
        // An empty delimiter is a value of its own (names simply concatenated).
        delimiter: crate::operand::string_keeping_empty(r, "delimiter"),
        schemas: SchemaCache::default(),
    }))
}

sides!(build);

fn unsupported(ty: SchemaType, name: &str) -> TransformError {
    TransformError::new(format!(
        "Flatten transformation does not support {} for record with schemas (for field {name}).",
        type_name(ty)
    ))
}

impl Flatten {
    fn name(&self, prefix: &str, field: &str) -> String {
        if prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{prefix}{}{field}", self.delimiter)
        }
    }

    fn flatten_map(
        &self,
        entries: &[(Value, Value)],
        prefix: &str,
        out: &mut Vec<(Value, Value)>,
    ) -> Result<(), TransformError> {
        for (k, v) in entries {
            let Some(key) = k.as_str() else { continue };
            let name = self.name(prefix, key);
            match v {
                Value::Map(inner) => self.flatten_map(inner, &name, out)?,
                Value::Struct(_) => {
                    return Err(TransformError::new(format!(
                        "Flatten transformation does not support class {} for record without schemas (for field {name}).",
                        java_class(None, v)
                    )))
                }
                other => map_put(out, &name, other.clone()),
            }
        }
        Ok(())
    }

    /// `buildUpdatedSchema`: leaves are optional under an optional parent and take the
    /// parent's default when they have none of their own.
    fn flatten_schema(
        &self,
        schema: &Schema,
        prefix: &str,
        out: &mut Schema,
        optional: bool,
        parent_default: Option<&[Value]>,
    ) -> Result<(), TransformError> {
        for (i, f) in schema.fields.iter().enumerate() {
            let name = self.name(prefix, &f.name);
            let field_optional = optional || f.schema.optional;
            let default = match &f.schema.default {
                Some(d) => Some(d.clone()),
                None => parent_default.map(|d| field_value(f, d.get(i), true)),
            }
            .filter(|d| !d.is_null());
            match f.schema.ty {
                SchemaType::Struct => {
                    let nested = match &default {
                        Some(Value::Struct(d)) => Some(d.as_slice()),
                        _ => None,
                    };
                    self.flatten_schema(&f.schema, &name, out, field_optional, nested)?;
                }
                SchemaType::Map => return Err(unsupported(SchemaType::Map, &name)),
                _ => {
                    let mut leaf = copy_basics_of(&f.schema);
                    leaf.optional = field_optional;
                    leaf.default = default;
                    add_field(out, &name, Arc::new(leaf))?;
                }
            }
        }
        Ok(())
    }

    /// `buildWithSchema`: a null nested struct leaves its fields null.
    fn flatten_values(
        &self,
        schema: &Schema,
        values: Option<&[Value]>,
        prefix: &str,
        out: &mut Vec<Value>,
    ) -> Result<(), TransformError> {
        for (i, f) in schema.fields.iter().enumerate() {
            let name = self.name(prefix, &f.name);
            let v = values.map_or(Value::Null, |v| field_value(f, v.get(i), true));
            match (f.schema.ty, &v) {
                (SchemaType::Struct, Value::Struct(inner)) => {
                    self.flatten_values(&f.schema, Some(inner), &name, out)?
                }
                (SchemaType::Struct, _) => self.flatten_values(&f.schema, None, &name, out)?,
                (SchemaType::Map, _) => return Err(unsupported(SchemaType::Map, &name)),
                _ => out.push(v),
            }
        }
        Ok(())
    }
}

impl Transform for Flatten {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        if self.side.is_null(&record) {
            return Ok(Some(record));
        }
        let (schema, value) = self.side.take(&mut record);
        match &schema {
            None => {
                let entries = require_map(&value, PURPOSE)?;
                let mut out = Vec::with_capacity(entries.len());
                self.flatten_map(entries, "", &mut out)?;
                self.side.put(&mut record, None, Value::Map(out));
            }
            Some(_) => {
                let (s, values) = require_struct(schema.as_ref(), &value, PURPOSE)?;
                let updated = self.schemas.get_or_build(&[s], || {
                    let mut out = copy_basics(s, SchemaType::Struct);
                    let default = match &s.default {
                        Some(Value::Struct(d)) => Some(d.as_slice()),
                        _ => None,
                    };
                    self.flatten_schema(s, "", &mut out, s.optional, default)?;
                    Ok(out)
                })?;
                let mut out = Vec::with_capacity(updated.fields.len());
                self.flatten_values(s, Some(values), "", &mut out)?;
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
    use crate::operand::testing::transform;
    use sluice_core::data::Data;

    fn apply(props: &[(&str, &str)], data: Data) -> Result<Data, TransformError> {
        let out = transform(KEYS, value, props).apply(Record::new("topic", None, Some(data), 0))?;
        Ok(out.and_then(|r| r.value).unwrap())
    }

    fn primitives() -> (Schema, Vec<Value>) {
        let p = |t| Schema::new(t);
        (
            Schema::structure()
                .field("int8", p(SchemaType::Int8))
                .field("int16", p(SchemaType::Int16))
                .field("int32", p(SchemaType::Int32))
                .field("int64", p(SchemaType::Int64))
                .field("float32", p(SchemaType::Float32))
                .field("float64", p(SchemaType::Float64))
                .field("boolean", p(SchemaType::Boolean))
                .field("string", p(SchemaType::String))
                .field("bytes", p(SchemaType::Bytes)),
            vec![
                Value::Int(8),
                Value::Int(16),
                Value::Int(32),
                Value::Int(64),
                Value::Float32(32.0),
                Value::Float64(64.0),
                true.into(),
                "stringy".into(),
                Value::Bytes(b"bytes".to_vec()),
            ],
        )
    }

    // FlattenTest.topLevelStructRequired / topLevelMapRequired
    #[test]
    fn top_level_must_be_struct_or_map() {
        assert!(apply(
            &[],
            Data::new(Schema::new(SchemaType::Int32), Value::Int(42))
        )
        .is_err());
        assert!(apply(&[], Data::schemaless(Value::Int(42))).is_err());
    }

    // FlattenTest.testNestedStruct
    #[test]
    fn nested_struct() {
        let (s, v) = primitives();
        let one = Schema::structure().field("B", s);
        let two = Schema::structure().field("A", one);
        let out = apply(
            &[],
            Data::new(
                two,
                Value::Struct(vec![Value::Struct(vec![Value::Struct(v.clone())])]),
            ),
        )
        .unwrap();
        let schema = out.schema.unwrap();
        let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "A.B.int8",
                "A.B.int16",
                "A.B.int32",
                "A.B.int64",
                "A.B.float32",
                "A.B.float64",
                "A.B.boolean",
                "A.B.string",
                "A.B.bytes"
            ]
        );
        assert_eq!(out.value, Value::Struct(v));
    }

    // FlattenTest.testNestedMapWithDelimiter / testKey
    #[test]
    fn nested_map_with_delimiter() {
        let (s, v) = primitives();
        let inner = Value::Map(
            s.fields
                .iter()
                .zip(&v)
                .map(|(f, v)| (Value::from(f.name.as_str()), v.clone()))
                .collect(),
        );
        let m = Value::Map(vec![("A".into(), Value::Map(vec![("B".into(), inner)]))]);
        let out = apply(&[("delimiter", "#")], Data::schemaless(m)).unwrap();
        let Value::Map(entries) = out.value else {
            panic!()
        };
        assert_eq!(entries.len(), 9);
        assert_eq!(entries[0], ("A#B#int8".into(), Value::Int(8)));
        assert_eq!(
            entries[8],
            ("A#B#bytes".into(), Value::Bytes(b"bytes".to_vec()))
        );

        let t = transform(KEYS, key, &[]);
        let k = Value::Map(vec![(
            "A".into(),
            Value::Map(vec![("B".into(), Value::Int(12))]),
        )]);
        let out = t
            .apply(Record::new("topic", Some(Data::schemaless(k)), None, 0))
            .unwrap()
            .unwrap();
        assert_eq!(
            out.key.unwrap().value,
            Value::Map(vec![("A.B".into(), Value::Int(12))])
        );
    }

    // FlattenTest.testOptionalFieldStruct / testOptionalNestedStruct / testOptionalStruct
    #[test]
    fn optional_structs() {
        let inner = Arc::new(
            Schema::structure().field("opt_int32", Schema::new(SchemaType::Int32).optional()),
        );
        let outer = Schema::structure().field("B", inner.clone());
        let out = apply(
            &[],
            Data::new(outer, Value::Struct(vec![Value::Struct(vec![Value::Null])])),
        )
        .unwrap();
        assert_eq!(out.value, Value::Struct(vec![Value::Null]));

        let optional_inner = Arc::new((*inner).clone().optional());
        let outer = Schema::structure().field("B", optional_inner);
        let out = apply(&[], Data::new(outer, Value::Struct(vec![Value::Null]))).unwrap();
        assert_eq!(out.schema.unwrap().fields[0].name, "B.opt_int32");
        assert_eq!(out.value, Value::Struct(vec![Value::Null]));

        let optional = Arc::new((*inner).clone().optional());
        let out = apply(&[], Data::new(optional.clone(), Value::Null)).unwrap();
        assert_eq!(out.schema.as_deref(), Some(&*optional));
        assert!(out.value.is_null());
    }

    // FlattenTest.testOptionalFieldMap / testMapWithNullFields / testSchemalessArray
    #[test]
    fn schemaless_nulls_and_arrays() {
        let m = Value::Map(vec![(
            "B".into(),
            Value::Map(vec![("opt_int32".into(), Value::Null)]),
        )]);
        let out = apply(&[], Data::schemaless(m)).unwrap();
        assert_eq!(
            out.value,
            Value::Map(vec![("B.opt_int32".into(), Value::Null)])
        );
        let m = Value::Map(vec![
            ("firstNull".into(), Value::Null),
            ("firstNonNull".into(), "nonNull".into()),
            ("secondNull".into(), Value::Null),
            ("secondNonNull".into(), "alsoNonNull".into()),
            ("thirdNonNull".into(), Value::Null),
        ]);
        assert_eq!(apply(&[], Data::schemaless(m.clone())).unwrap().value, m);
        let arr = Value::Map(vec![(
            "foo".into(),
            Value::Array(vec![
                "bar".into(),
                Value::Map(vec![(
                    "baz".into(),
                    Value::Map(vec![("lfg".into(), "lfg".into())]),
                )]),
            ]),
        )]);
        assert_eq!(
            apply(&[], Data::schemaless(arr.clone())).unwrap().value,
            arr
        );
    }

    // FlattenTest.testArrayWithSchema / testStructWithNullFields
    #[test]
    fn arrays_and_null_fields_with_schema() {
        let nested = Arc::new(Schema::structure().field("lfg", Schema::new(SchemaType::String)));
        let inner = Arc::new(Schema::structure().field("baz", nested));
        let mut array = Schema::array(inner);
        array.doc = Some("durk".into());
        let s = Arc::new(Schema::structure().field("foo", array));
        let v = Value::Struct(vec![Value::Array(vec![Value::Struct(vec![
            Value::Struct(vec!["lfg".into()]),
        ])])]);
        let out = apply(&[], Data::new(s.clone(), v.clone())).unwrap();
        assert_eq!(out.value, v);
        assert_eq!(out.schema.as_deref(), Some(&*s));

        let opt = || Schema::new(SchemaType::String).optional();
        let s = Arc::new(
            Schema::structure()
                .field("firstNull", opt())
                .field("firstNonNull", opt())
                .field("secondNull", opt()),
        );
        let v = Value::Struct(vec![Value::Null, "nonNull".into(), Value::Null]);
        let out = apply(&[], Data::new(s.clone(), v.clone())).unwrap();
        assert_eq!(out.value, v);
        assert_eq!(out.schema.as_deref(), Some(&*s));
    }

    // FlattenTest.testOptionalAndDefaultValuesNested
    #[test]
    fn optional_and_default_values_nested() {
        let child = Schema::structure()
            .field("req_field", Schema::new(SchemaType::String))
            .field(
                "opt_field",
                Schema::new(SchemaType::String)
                    .optional()
                    .default_value("child_default".into()),
            )
            .optional()
            .default_value(Value::Struct(vec!["req_default".into(), Value::Null]));
        let out = apply(
            &[],
            Data::new(child, Value::Struct(vec![Value::Null, Value::Null])),
        )
        .unwrap();
        let s = out.schema.unwrap();
        assert_eq!(s.fields.len(), 2);
        assert_eq!(
            *s.fields[0].schema,
            Schema::new(SchemaType::String)
                .optional()
                .default_value("req_default".into())
        );
        assert_eq!(
            *s.fields[1].schema,
            Schema::new(SchemaType::String)
                .optional()
                .default_value("child_default".into())
        );
    }

    // FlattenTest.tombstoneEventWithoutSchemaShouldPassThrough / tombstoneEventWithSchemaShouldPassThrough
    #[test]
    fn tombstones_pass() {
        let t = transform(KEYS, value, &[]);
        assert!(t
            .apply(Record::new("test", None, None, 0))
            .unwrap()
            .unwrap()
            .value
            .is_none());
        let s = Arc::new(
            Schema::structure()
                .named("name")
                .version(1)
                .field("magic", Schema::new(SchemaType::Int64).optional()),
        );
        let out = t
            .apply(Record::new(
                "test",
                None,
                Some(Data::new(s.clone(), Value::Null)),
                0,
            ))
            .unwrap()
            .unwrap();
        assert_eq!(out.value.unwrap().schema.as_deref(), Some(&*s));
    }

    #[test]
    fn maps_inside_structs_are_refused() {
        let s = Schema::structure().field(
            "m",
            Schema::map(
                Schema::new(SchemaType::String),
                Schema::new(SchemaType::String),
            ),
        );
        let err = apply(&[], Data::new(s, Value::Struct(vec![Value::Map(vec![])]))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Flatten transformation does not support MAP for record with schemas (for field m)."
        );
    }
}
