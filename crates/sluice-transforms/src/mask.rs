//! `org.apache.kafka.connect.transforms.MaskField$Key/$Value`: replaces the listed fields with
//! the empty value of their type (0, false, "", empty list or map, the epoch for dates) or with
//! `replacement` converted to the field's type. The schema is unchanged. A type Connect cannot
//! mask is an error, never an unmasked value.

use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::data::{Schema, SchemaType, Value};
use sluice_core::logical::{self, Decimal};
use sluice_core::record::Record;
use sluice_core::transform::{Transform, TransformError};

use crate::operand::{
    field_value, java_class, java_long_value, map_get, map_put, require_map, require_struct,
    required_list, sides, Side, REPLACE_NULL_WITH_DEFAULT_DOC,
};

const GROUP: &str = "Transforms";

pub static KEYS: &[ConfigKey] = &[
    ConfigKey::new("fields", KeyType::List, Importance::High, GROUP, "Names of fields to mask.").required(),
    ConfigKey::new("replacement", KeyType::String, Importance::Low, GROUP, "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."),
    ConfigKey::new("replace.null.with.default", KeyType::Boolean, Importance::Medium, GROUP, REPLACE_NULL_WITH_DEFAULT_DOC).default("true"),
];

const PURPOSE: &str = "mask fields";

pub struct MaskField {
    side: Side,
    fields: Vec<String>,
    replacement: Option<String>,
    replace_null_with_default: bool,
}

fn build(r: &mut KeyReader<'_>, side: Side) -> Option<Box<dyn Transform>> {
    let fields = required_list(r, "fields");
    let replacement = r.get("replacement").map(str::to_owned);
    if replacement.is_none() && r.raw().props.contains_key("replacement") {
        r.issue("replacement", Some(""), "String must be non-empty");
    }
    let replace_null_with_default = r.bool("replace.null.with.default");
    Some(Box::new(MaskField {
        side,
        fields: fields?,
        replacement,
        replace_null_with_default,
    }))
}

sides!(build);

/// What Java's `Class.toString()` prints in MaskField's messages.
fn class_text(schema: Option<&Schema>, value: &Value) -> String {
    format!("class {}", java_class(schema, value))
}

impl MaskField {
    fn masked(&self, schema: Option<&Schema>, value: &Value) -> Result<Value, TransformError> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        match &self.replacement {
            None => empty_value(schema, value),
            Some(r) => replaced(schema, value, r),
        }
    }
}

/// `maskWithNullValue`: the empty value of the Java class the value is held in.
fn empty_value(schema: Option<&Schema>, value: &Value) -> Result<Value, TransformError> {
    let logical = schema.and_then(|s| s.name.as_deref());
    Ok(match (value, logical) {
        (Value::Bytes(_), Some(logical::DECIMAL)) => Value::Bytes(vec![0]),
        (Value::Int(_), Some(logical::DATE | logical::TIME | logical::TIMESTAMP)) => Value::Int(0),
        (Value::Boolean(_), _) => Value::Boolean(false),
        (Value::Int(_), _) => Value::Int(0),
        (Value::Float32(_), _) => Value::Float32(0.0),
        (Value::Float64(_), _) => Value::Float64(0.0),
        (Value::String(_) | Value::SharedString(_), _) => Value::String(String::new()),
        (Value::Array(_), _) => Value::Array(Vec::new()),
        (Value::Map(_), _) => Value::Map(Vec::new()),
        (other, _) => {
            return Err(TransformError::new(format!(
                "Cannot mask value of type: {}",
                class_text(schema, other)
            )))
        }
    })
}

/// `maskWithCustomReplacement`: the replacement converted as Connect's `Values.convertTo*`.
fn replaced(
    schema: Option<&Schema>,
    value: &Value,
    replacement: &str,
) -> Result<Value, TransformError> {
    let logical = schema.and_then(|s| s.name.as_deref());
    let number = || {
        Decimal::parse(replacement).ok_or_else(|| {
            TransformError::new(format!(
                "Unable to convert {replacement} (class java.lang.String) to a number"
            ))
        })
    };
    let cannot = || {
        TransformError::new(format!(
            "Cannot mask value of type {} with custom replacement.",
            class_text(schema, value)
        ))
    };
    Ok(match (value, logical) {
        (Value::Bytes(_), Some(logical::DECIMAL)) => {
            let scale = schema.and_then(logical::decimal_scale).unwrap_or(0);
            let d = number()?;
            // Connect's converter refuses a BigDecimal whose scale differs from the schema's;
            // an exact rescale keeps the value the user asked for.
            let exact = d
                .with_scale(scale, logical::Round::Unnecessary)
                .ok_or_else(|| {
                    TransformError::new(format!(
                    "BigDecimal has mismatching scale value for given Decimal schema: {replacement}"
                ))
                })?;
            Value::Bytes(exact.unscaled_bytes())
        }
        (Value::Int(_), Some(logical::DATE | logical::TIME | logical::TIMESTAMP)) => {
            return Err(cannot())
        }
        (Value::Int(_), _) => {
            let long = java_long_value(&number()?);
            Value::Int(match schema.map(|s| s.ty) {
                Some(SchemaType::Int8) => i64::from(long as i8),
                Some(SchemaType::Int16) => i64::from(long as i16),
                Some(SchemaType::Int32) => i64::from(long as i32),
                _ => long,
            })
        }
        (Value::Float32(_), _) => Value::Float32(number()?.to_f64() as f32),
        (Value::Float64(_), _) => Value::Float64(number()?.to_f64()),
        (Value::String(_) | Value::SharedString(_), _) => Value::String(replacement.to_owned()),
        _ => return Err(cannot()),
    })
}

impl Transform for MaskField {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        let (schema, value) = self.side.take(&mut record);
        match &schema {
            None => {
                let mut entries = require_map(&value, PURPOSE)?.to_vec();
                for name in &self.fields {
                    let original = map_get(&entries, name).cloned().unwrap_or(Value::Null);
                    let masked = self.masked(None, &original)?;
                    map_put(&mut entries, name, masked);
                }
                self.side.put(&mut record, None, Value::Map(entries));
            }
            Some(_) => {
                let (s, values) = require_struct(schema.as_ref(), &value, PURPOSE)?;
                let mut out = Vec::with_capacity(s.fields.len());
                for (i, f) in s.fields.iter().enumerate() {
                    let v = field_value(f, values.get(i), self.replace_null_with_default);
                    out.push(if self.fields.contains(&f.name) {
                        self.masked(Some(&f.schema), &v)?
                    } else {
                        v
                    });
                }
                self.side.put(&mut record, schema, Value::Struct(out));
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
    use std::sync::Arc;

    fn schema() -> Arc<Schema> {
        let p = |t| Schema::new(t);
        Arc::new(
            Schema::structure()
                .field("magic", p(SchemaType::Int32))
                .field("bool", p(SchemaType::Boolean))
                .field("byte", p(SchemaType::Int8))
                .field("short", p(SchemaType::Int16))
                .field("int", p(SchemaType::Int32))
                .field("long", p(SchemaType::Int64))
                .field("float", p(SchemaType::Float32))
                .field("double", p(SchemaType::Float64))
                .field("string", p(SchemaType::String))
                .field("date", logical::date_schema())
                .field("time", logical::time_schema())
                .field("timestamp", logical::timestamp_schema())
                .field("decimal", logical::decimal_schema(0))
                .field("array", Schema::array(p(SchemaType::Int32)))
                .field(
                    "map",
                    Schema::map(p(SchemaType::String), p(SchemaType::String)),
                )
                .field(
                    "withDefault",
                    p(SchemaType::String)
                        .optional()
                        .default_value("default".into()),
                ),
        )
    }

    fn values() -> Value {
        Value::Struct(vec![
            Value::Int(42),
            true.into(),
            Value::Int(42),
            Value::Int(42),
            Value::Int(42),
            Value::Int(42),
            Value::Float32(42.0),
            Value::Float64(42.0),
            "hmm".into(),
            Value::Int(19_000),
            Value::Int(3_600_000),
            Value::Int(1_700_000_000_000),
            Value::Bytes(vec![42]),
            Value::Array(vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
            Value::Map(vec![("what".into(), "what".into())]),
            Value::Null,
        ])
    }

    fn schemaless() -> Value {
        Value::Map(vec![
            ("magic".into(), Value::Int(42)),
            ("bool".into(), true.into()),
            ("long".into(), Value::Int(42)),
            ("double".into(), Value::Float64(42.0)),
            ("string".into(), "55.121.20.20".into()),
            ("list".into(), Value::Array(vec![Value::Int(42)])),
            (
                "map".into(),
                Value::Map(vec![("key".into(), "value".into())]),
            ),
        ])
    }

    fn apply(fields: &str, replacement: Option<&str>, data: Data) -> Result<Value, TransformError> {
        let mut props = vec![("fields", fields), ("replace.null.with.default", "false")];
        if let Some(r) = replacement {
            props.push(("replacement", r));
        }
        let t = transform(KEYS, value, &props);
        Ok(t.apply(Record::new("", None, Some(data), 0))?
            .and_then(|r| r.value)
            .map_or(Value::Null, |d| d.value))
    }

    fn field(v: &Value, name: &str) -> Value {
        match v {
            Value::Struct(values) => values[schema().field_index(name).unwrap()].clone(),
            Value::Map(m) => map_get(m, name).cloned().unwrap_or(Value::Null),
            _ => panic!("{v:?}"),
        }
    }

    // MaskFieldTest.testSchemaless
    #[test]
    fn schemaless_masks_to_empty_values() {
        let out = apply(
            "bool,long,double,string,list,map",
            None,
            Data::schemaless(schemaless()),
        )
        .unwrap();
        assert_eq!(field(&out, "magic"), Value::Int(42));
        assert_eq!(field(&out, "bool"), false.into());
        assert_eq!(field(&out, "long"), Value::Int(0));
        assert_eq!(field(&out, "double"), Value::Float64(0.0));
        assert_eq!(field(&out, "string"), "".into());
        assert_eq!(field(&out, "list"), Value::Array(vec![]));
        assert_eq!(field(&out, "map"), Value::Map(vec![]));
    }

    // MaskFieldTest.testWithSchema
    #[test]
    fn with_schema_masks_to_empty_values() {
        let fields = "bool,byte,short,int,long,float,double,string,date,time,timestamp,decimal,array,map,withDefault";
        let out = apply(fields, None, Data::new(schema(), values())).unwrap();
        assert_eq!(field(&out, "magic"), Value::Int(42));
        assert_eq!(field(&out, "bool"), false.into());
        for f in ["byte", "short", "int", "long", "date", "time", "timestamp"] {
            assert_eq!(field(&out, f), Value::Int(0), "{f}");
        }
        assert_eq!(field(&out, "float"), Value::Float32(0.0));
        assert_eq!(field(&out, "double"), Value::Float64(0.0));
        assert_eq!(field(&out, "string"), "".into());
        assert_eq!(field(&out, "decimal"), Value::Bytes(vec![0]));
        assert_eq!(field(&out, "array"), Value::Array(vec![]));
        assert_eq!(field(&out, "map"), Value::Map(vec![]));
        assert_eq!(field(&out, "withDefault"), Value::Null);
    }

    // MaskFieldTest.testSchemalessWithReplacement / testWithSchemaAndReplacement
    #[test]
    fn replacements() {
        let cases = [
            ("short", Value::Int(123)),
            ("byte", Value::Int(123)),
            ("int", Value::Int(123)),
            ("long", Value::Int(123)),
            ("float", Value::Float32(123.0)),
            ("double", Value::Float64(123.0)),
            ("string", "123".into()),
            ("decimal", Value::Bytes(vec![123])),
        ];
        for (f, expected) in cases {
            let out = apply(f, Some("123"), Data::new(schema(), values())).unwrap();
            assert_eq!(field(&out, f), expected, "{f}");
        }
        let out = apply("long", Some("123.0"), Data::schemaless(schemaless())).unwrap();
        assert_eq!(field(&out, "long"), Value::Int(123));
        let out = apply("double", Some("123.0"), Data::schemaless(schemaless())).unwrap();
        assert_eq!(field(&out, "double"), Value::Float64(123.0));
        let out = apply("string", Some("123"), Data::schemaless(schemaless())).unwrap();
        assert_eq!(field(&out, "string"), "123".into());
    }

    // MaskFieldTest.testSchemalessUnsupportedReplacementType / testWithSchemaUnsupportedReplacementType
    // / testReplacementTypeMismatch / testEmptyStringReplacementValue
    #[test]
    fn unsupported_replacements() {
        for f in ["bool", "list", "map"] {
            let err = apply(f, Some("x"), Data::schemaless(schemaless())).unwrap_err();
            assert!(
                err.to_string().starts_with("Cannot mask value of type"),
                "{err}"
            );
        }
        for f in ["time", "timestamp", "array"] {
            let err = apply(f, Some("123"), Data::new(schema(), values())).unwrap_err();
            assert!(
                err.to_string().starts_with("Cannot mask value of type"),
                "{err}"
            );
        }
        for f in ["long", "double"] {
            let err = apply(f, Some("foo"), Data::schemaless(schemaless())).unwrap_err();
            assert_eq!(
                err.to_string(),
                "Unable to convert foo (class java.lang.String) to a number"
            );
        }
        let err = apply("string,long", Some("foo"), Data::schemaless(schemaless())).unwrap_err();
        assert!(err.to_string().contains("to a number"));
        assert!(
            refused(KEYS, value, &[("fields", "short"), ("replacement", "")])
                .contains("String must be non-empty")
        );
    }

    #[test]
    fn bytes_cannot_be_masked() {
        let s = Schema::structure().field("b", Schema::new(SchemaType::Bytes));
        let err = apply(
            "b",
            None,
            Data::new(s, Value::Struct(vec![Value::Bytes(vec![1])])),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "Cannot mask value of type: class [B");
    }
}
