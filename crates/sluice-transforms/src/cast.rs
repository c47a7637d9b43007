//! `org.apache.kafka.connect.transforms.Cast$Key/$Value`: casts fields (`spec=f:int64,g:string`)
//! or the whole key or value (`spec=int32`) to another primitive type, changing the schema type
//! with the value as Connect does (logical dates cast as their integers, decimals and bytes as
//! text). A value out of range or of a type Connect cannot cast is an error, never a guess.

use std::collections::HashMap;

use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::data::{Schema, SchemaType, Value};
use sluice_core::json::display_value;
use sluice_core::logical::{self, Decimal};
use sluice_core::record::Record;
use sluice_core::transform::{Transform, TransformError};

use crate::date_format::connect_date_text;
use crate::operand::{
    add_field, copy_basics, decimal_of, field_value, java_class, java_decimal_string,
    java_long_value, java_split, map_get, map_put, require_map, require_struct, sides, type_name,
    SchemaCache, Side, REPLACE_NULL_WITH_DEFAULT_DOC,
};

const GROUP: &str = "Transforms";

pub static KEYS: &[ConfigKey] = &[
    ConfigKey::new("spec", KeyType::List, Importance::High, GROUP, "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string.").required(),
    ConfigKey::new("replace.null.with.default", KeyType::Boolean, Importance::Medium, GROUP, REPLACE_NULL_WITH_DEFAULT_DOC).default("true"),
];

const PURPOSE: &str = "cast types";

const OUTPUT_TYPES: [SchemaType; 8] = [
    SchemaType::Int8,
    SchemaType::Int16,
    SchemaType::Int32,
    SchemaType::Int64,
    SchemaType::Float32,
    SchemaType::Float64,
    SchemaType::Boolean,
    SchemaType::String,
];

pub struct Cast {
    side: Side,
    /// Per-field casts, or (`whole`) one cast of the whole key or value.
    fields: HashMap<String, SchemaType>,
    whole: Option<SchemaType>,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

fn parse_type(name: &str) -> Result<SchemaType, String> {
    let ty = match name.trim().to_ascii_uppercase().as_str() {
        "INT8" => SchemaType::Int8,
        "INT16" => SchemaType::Int16,
        "INT32" => SchemaType::Int32,
        "INT64" => SchemaType::Int64,
        "FLOAT32" => SchemaType::Float32,
        "FLOAT64" => SchemaType::Float64,
        "BOOLEAN" => SchemaType::Boolean,
        "STRING" => SchemaType::String,
        "BYTES" => SchemaType::Bytes,
        "ARRAY" => SchemaType::Array,
        "MAP" => SchemaType::Map,
        "STRUCT" => SchemaType::Struct,
        _ => {
            return Err(format!(
                "Invalid type found in casting spec: {}",
                name.trim()
            ))
        }
    };
    if !OUTPUT_TYPES.contains(&ty) {
        return Err(format!(
            "Cast transformation does not support casting to {}; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]",
            type_name(ty)
        ));
    }
    Ok(ty)
}

fn build(r: &mut KeyReader<'_>, side: Side) -> Option<Box<dyn Transform>> {
    let spec = r.required_string("spec");
    let replace_null_with_default = r.bool("replace.null.with.default");
    let spec = spec?;
    let mappings = sluice_config::keys::split_list(&spec);
    let fail = |r: &mut KeyReader<'_>, message: String| {
        r.issue("spec", Some(&spec), message);
        None
    };
    if mappings.is_empty() {
        return fail(r, "Must specify at least one field to cast.".into());
    }
    let (mut fields, mut whole) = (HashMap::new(), None);
    for mapping in &mappings {
        let parsed = match java_split(mapping, ':')[..] {
            [ty] => parse_type(ty).map(|t| whole = Some(t)),
            [field, ty] => parse_type(ty).map(|t| {
                fields.insert(field.trim().to_owned(), t);
            }),
            _ => Err(format!("Invalid rename mapping: {mapping}")),
        };
        if let Err(message) = parsed {
            return fail(r, message);
        }
    }
    if whole.is_some() && mappings.len() > 1 {
        return fail(r, "Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec".into());
    }
    Some(Box::new(Cast {
        side,
        fields,
        whole,
        replace_null_with_default,
        schemas: SchemaCache::default(),
    }))
}

sides!(build);

/// A value as the Java object Cast works on.
enum Java {
    Long(i64),
    Float(f32),
    Double(f64),
    Decimal(Decimal),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
    Date(i64),
}

fn java_value(
    schema: Option<&Schema>,
    value: &Value,
    target: SchemaType,
) -> Result<Java, TransformError> {
    let ty = match schema {
        Some(s) => s.ty,
        None => match value {
            Value::Boolean(_) => SchemaType::Boolean,
            Value::Int(_) => SchemaType::Int64,
            Value::Float32(_) => SchemaType::Float32,
            Value::Float64(_) => SchemaType::Float64,
            Value::String(_) | Value::SharedString(_) => SchemaType::String,
            Value::Bytes(_) => SchemaType::Bytes,
            Value::Array(_) => SchemaType::Array,
            Value::Map(_) => SchemaType::Map,
            Value::Struct(_) | Value::Null => SchemaType::Struct,
        },
    };
    if matches!(ty, SchemaType::Array | SchemaType::Map | SchemaType::Struct) {
        return Err(TransformError::new(format!(
            "Cast transformation does not support casting from {}; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]",
            type_name(ty)
        )));
    }
    let logical = schema.and_then(|s| s.name.as_deref());
    Ok(match (value, logical) {
        (Value::Int(v), Some(logical::DATE)) if target == SchemaType::String => {
            Java::Date(v.saturating_mul(86_400_000))
        }
        (Value::Int(v), Some(logical::TIME | logical::TIMESTAMP))
            if target == SchemaType::String =>
        {
            Java::Date(*v)
        }
        (Value::Bytes(b), Some(logical::DECIMAL)) => {
            Java::Decimal(schema.map_or_else(Decimal::zero, |s| decimal_of(s, b)))
        }
        (Value::Int(v), _) => Java::Long(*v),
        (Value::Float32(v), _) => Java::Float(*v),
        (Value::Float64(v), _) => Java::Double(*v),
        (Value::Boolean(v), _) => Java::Bool(*v),
        (Value::String(_) | Value::SharedString(_), _) => {
            Java::Text(value.as_str().unwrap_or_default().to_owned())
        }
        (Value::Bytes(b), _) => Java::Bytes(b.clone()),
        (other, _) => {
            return Err(TransformError::new(format!(
                "Unexpected type in Cast transformation: class {}",
                java_class(schema, other)
            )))
        }
    })
}

/// Java's `Number.longValue()` (`narrow`: `intValue()`, which saturates a float to an int
/// before `byteValue()`/`shortValue()` keep its low bits).
fn integer(v: &Java, narrow: bool) -> Option<i64> {
    Some(match v {
        Java::Long(l) => *l,
        Java::Float(f) if narrow => i64::from(*f as i32),
        Java::Double(d) if narrow => i64::from(*d as i32),
        Java::Float(f) => *f as i64,
        Java::Double(d) => *d as i64,
        Java::Decimal(d) => java_long_value(d),
        Java::Bool(b) => i64::from(*b),
        _ => return None,
    })
}

/// `Byte.parseByte` and friends: an optional sign and decimal digits only.
fn parse_java_int(s: &str, min: i64, max: i64) -> Option<i64> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.starts_with('+') || digits.is_empty() {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    (min..=max).contains(&n).then_some(n)
}

/// `Double.parseDouble`: surrounding whitespace and a trailing `d`/`f` are allowed.
fn parse_java_double(s: &str) -> Option<f64> {
    let t = s.trim();
    let t = t
        .strip_suffix(['d', 'D', 'f', 'F'])
        .filter(|t| !t.ends_with(['d', 'D', 'f', 'F']))
        .unwrap_or(t);
    match t {
        "NaN" => Some(f64::NAN),
        "Infinity" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ if t
            .chars()
            .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E') =>
        {
            None
        }
        _ => t.parse().ok(),
    }
}

fn cast(
    schema: Option<&Schema>,
    value: &Value,
    target: SchemaType,
) -> Result<Value, TransformError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let v = java_value(schema, value, target)?;
    let out_of_range = |text: &str| {
        TransformError::new(format!(
            "Value ({text}) was out of range for requested data type"
        ))
    };
    let unexpected = || {
        TransformError::new(format!(
            "Unexpected type in Cast transformation: class {}",
            java_class(schema, value)
        ))
    };
    let int = |min: i64, max: i64, wrap: fn(i64) -> i64| -> Result<Value, TransformError> {
        match &v {
            Java::Text(s) => parse_java_int(s, min, max)
                .map(Value::Int)
                .ok_or_else(|| out_of_range(s)),
            other => integer(other, max < i64::MAX)
                .map(|n| Value::Int(wrap(n)))
                .ok_or_else(unexpected),
        }
    };
    Ok(match target {
        SchemaType::Int8 => int(i8::MIN.into(), i8::MAX.into(), |n| i64::from(n as i8))?,
        SchemaType::Int16 => int(i16::MIN.into(), i16::MAX.into(), |n| i64::from(n as i16))?,
        SchemaType::Int32 => int(i32::MIN.into(), i32::MAX.into(), |n| i64::from(n as i32))?,
        SchemaType::Int64 => int(i64::MIN, i64::MAX, |n| n)?,
        SchemaType::Float32 | SchemaType::Float64 => {
            let d = match &v {
                Java::Long(l) => *l as f64,
                Java::Float(f) => f64::from(*f),
                Java::Double(d) => *d,
                Java::Decimal(d) => d.to_f64(),
                Java::Bool(b) => f64::from(u8::from(*b)),
                Java::Text(s) => parse_java_double(s).ok_or_else(|| out_of_range(s))?,
                _ => return Err(unexpected()),
            };
            match (target, &v) {
                (SchemaType::Float32, Java::Long(l)) => Value::Float32(*l as f32),
                (SchemaType::Float32, Java::Float(f)) => Value::Float32(*f),
                (SchemaType::Float32, _) => Value::Float32(d as f32),
                _ => Value::Float64(d),
            }
        }
        SchemaType::Boolean => Value::Boolean(match &v {
            Java::Text(s) => s.eq_ignore_ascii_case("true"),
            other => integer(other, false).ok_or_else(unexpected)? != 0,
        }),
        _ => Value::String(match v {
            Java::Date(ms) => connect_date_text(ms),
            Java::Bytes(b) => display_value(None, &Value::Bytes(b)),
            Java::Decimal(d) => java_decimal_string(&d),
            Java::Text(s) => s,
            Java::Long(l) => l.to_string(),
            Java::Bool(b) => b.to_string(),
            Java::Float(f) => display_value(None, &Value::Float32(f)),
            Java::Double(d) => display_value(None, &Value::Float64(d)),
        }),
    })
}

fn primitive(ty: SchemaType) -> Schema {
    Schema::new(ty)
}

impl Cast {
    fn updated_schema(&self, schema: &Schema) -> Result<Schema, TransformError> {
        let mut s = match self.whole {
            Some(target) => copy_basics(schema, target),
            None => {
                let mut s = copy_basics(schema, SchemaType::Struct);
                for f in &schema.fields {
                    match self.fields.get(&f.name) {
                        Some(&target) => {
                            let mut fs = primitive(target);
                            fs.optional = f.schema.optional;
                            if let Some(d) = &f.schema.default {
                                fs.default = Some(cast(Some(&f.schema), d, target)?);
                            }
                            add_field(&mut s, &f.name, fs.into())?;
                        }
                        None => add_field(&mut s, &f.name, f.schema.clone())?,
                    }
                }
                s
            }
        };
        s.optional = schema.optional;
        if let Some(d) = &schema.default {
            s.default = Some(cast(Some(schema), d, s.ty)?);
        }
        Ok(s)
    }
}

impl Transform for Cast {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        if self.side.is_null(&record) {
            return Ok(Some(record));
        }
        let (schema, value) = self.side.take(&mut record);
        match (&schema, self.whole) {
            (None, Some(target)) => {
                let cast = cast(None, &value, target)?;
                self.side.put(&mut record, None, cast);
            }
            (None, None) => {
                let mut entries = require_map(&value, PURPOSE)?.to_vec();
                for (field, &target) in &self.fields {
                    let original = map_get(&entries, field).cloned().unwrap_or(Value::Null);
                    let cast = cast(None, &original, target)?;
                    map_put(&mut entries, field, cast);
                }
                self.side.put(&mut record, None, Value::Map(entries));
            }
            (Some(s), whole) => {
                let updated = self.schemas.get_or_build(&[s], || self.updated_schema(s))?;
                let cast_value = match whole {
                    Some(target) => cast(Some(s), &value, target)?,
                    None => {
                        let (s, values) = require_struct(Some(s), &value, PURPOSE)?;
                        let mut out = Vec::with_capacity(s.fields.len());
                        for (i, f) in s.fields.iter().enumerate() {
                            let v = field_value(f, values.get(i), self.replace_null_with_default);
                            out.push(match self.fields.get(&f.name) {
                                Some(&target) => cast(Some(&f.schema), &v, target)?,
                                None => v,
                            });
                        }
                        Value::Struct(out)
                    }
                };
                self.side.put(&mut record, Some(updated), cast_value);
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

    fn whole(spec: &str, data: Data) -> Data {
        transform(KEYS, value, &[("spec", spec)])
            .apply(Record::new("topic", None, Some(data), 0))
            .unwrap()
            .unwrap()
            .value
            .unwrap()
    }

    // CastTest.testConfig*
    #[test]
    fn config_errors() {
        assert!(refused(KEYS, value, &[("spec", "")]).contains("Missing required configuration"));
        assert!(refused(KEYS, value, &[("spec", ",")])
            .contains("Must specify at least one field to cast."));
        assert!(refused(KEYS, value, &[("spec", "foo:faketype")])
            .contains("Invalid type found in casting spec: faketype"));
        for spec in ["foo:array", "array", "foo:bytes"] {
            assert!(
                refused(KEYS, value, &[("spec", spec)]).contains("does not support casting to"),
                "{spec}"
            );
        }
        assert!(refused(KEYS, value, &[("spec", "foo:int8:extra")]).contains("transforms.t.spec"));
        assert!(refused(KEYS, value, &[("spec", "foo:int8,int32")])
            .contains("may only specify a single cast"));
    }

    // CastTest.castNullValueRecordWithSchema / castNullValueRecordSchemaless / castNullKeyRecord*
    #[test]
    fn nulls_pass_unchanged() {
        let t = transform(KEYS, value, &[("spec", "foo:int64")]);
        let r = Record::new(
            "topic",
            None,
            Some(Data::new(Schema::new(SchemaType::String), Value::Null)),
            0,
        );
        let out = t.apply(r).unwrap().unwrap().value.unwrap();
        assert_eq!(out.schema.unwrap().ty, SchemaType::String);
        assert!(t
            .apply(Record::new("topic", None, None, 0))
            .unwrap()
            .unwrap()
            .value
            .is_none());
    }

    // CastTest.castWholeRecordValueWithSchema* / castWholeRecordKeyWithSchema
    #[test]
    fn whole_record_with_schema() {
        let int32 = || Data::new(Schema::new(SchemaType::Int32), Value::Int(42));
        let cases = [
            ("int8", SchemaType::Int8, Value::Int(42)),
            ("int16", SchemaType::Int16, Value::Int(42)),
            ("int32", SchemaType::Int32, Value::Int(42)),
            ("int64", SchemaType::Int64, Value::Int(42)),
            ("float32", SchemaType::Float32, Value::Float32(42.0)),
            ("float64", SchemaType::Float64, Value::Float64(42.0)),
            ("boolean", SchemaType::Boolean, true.into()),
            ("string", SchemaType::String, "42".into()),
        ];
        for (spec, ty, expected) in cases {
            let out = whole(spec, int32());
            assert_eq!(out.schema.unwrap().ty, ty, "{spec}");
            assert_eq!(out.value, expected, "{spec}");
        }
        let out = whole(
            "boolean",
            Data::new(Schema::new(SchemaType::Int32), Value::Int(0)),
        );
        assert_eq!(out.value, false.into());
        let out = transform(KEYS, key, &[("spec", "int8")])
            .apply(Record::new("topic", Some(int32()), None, 0))
            .unwrap()
            .unwrap()
            .key
            .unwrap();
        assert_eq!(out.schema.unwrap().ty, SchemaType::Int8);
    }

    // CastTest.castWholeBigDecimalRecordValueWithSchemaString / castWholeDateRecordValueWithSchemaString
    // / castWholeRecordDefaultValue
    #[test]
    fn whole_logical_values_and_defaults() {
        let d = Data::new(logical::decimal_schema(0), Value::Bytes(vec![42]));
        assert_eq!(whole("string", d).value, "42".into());
        let ts = Data::new(logical::timestamp_schema(), Value::Int(86_400_001));
        let out = whole("string", ts);
        assert_eq!(out.value, "1970-01-02T00:00:00.001Z".into());
        // Connect copies the schema basics, logical name included, onto the cast schema.
        assert_eq!(
            out.schema.unwrap().name.as_deref(),
            Some(logical::TIMESTAMP)
        );
        let f = Schema::new(SchemaType::Float32).default_value(Value::Float32(-42.125));
        let out = whole("int32", Data::new(f, Value::Float32(42.125)));
        let s = out.schema.unwrap();
        assert_eq!(s.ty, SchemaType::Int32);
        assert_eq!(out.value, Value::Int(42));
        assert_eq!(s.default, Some(Value::Int(-42)));
    }

    // CastTest.castWholeRecord*Schemaless* and castWholeRecordValueSchemalessUnsupportedType
    #[test]
    fn whole_record_schemaless() {
        let cases = [
            ("int8", Value::Int(42)),
            ("int16", Value::Int(42)),
            ("int32", Value::Int(42)),
            ("int64", Value::Int(42)),
            ("float32", Value::Float32(42.0)),
            ("float64", Value::Float64(42.0)),
            ("boolean", true.into()),
            ("string", "42".into()),
        ];
        for (spec, expected) in cases {
            let out = whole(spec, Data::schemaless(Value::Int(42)));
            assert!(out.schema.is_none());
            assert_eq!(out.value, expected, "{spec}");
        }
        assert_eq!(
            whole("boolean", Data::schemaless(Value::Int(0))).value,
            false.into()
        );
        let err = transform(KEYS, value, &[("spec", "int8")])
            .apply(Record::new(
                "topic",
                None,
                Some(Data::schemaless(Value::Array(vec!["foo".into()]))),
                0,
            ))
            .unwrap_err();
        assert!(err
            .to_string()
            .contains("does not support casting from ARRAY"));
    }

    // CastTest.castLogicalToPrimitive
    #[test]
    fn logical_to_primitive() {
        let spec = "date_to_int32:int32,timestamp_to_int64:int64,time_to_int64:int64,decimal_to_int32:int32,timestamp_to_float64:float64,null_timestamp_to_int32:int32";
        let schema = Schema::structure()
            .field("date_to_int32", logical::date_schema())
            .field("timestamp_to_int64", logical::timestamp_schema())
            .field("time_to_int64", logical::time_schema())
            .field("decimal_to_int32", logical::decimal_schema(0))
            .field("timestamp_to_float64", logical::timestamp_schema())
            .field(
                "null_timestamp_to_int32",
                logical::timestamp_schema().optional(),
            );
        let v = Value::Struct(vec![
            Value::Int(1),
            Value::Int(0),
            Value::Int(1),
            Value::Bytes(logical::decimal_from_text("2147483648", 0).unwrap()),
            Value::Int(i64::MAX),
            Value::Null,
        ]);
        let out = whole(spec, Data::new(schema, v));
        assert_eq!(
            out.value,
            Value::Struct(vec![
                Value::Int(1),
                Value::Int(0),
                Value::Int(1),
                Value::Int(i32::MIN.into()),
                Value::Float64(9.223372036854776E18),
                Value::Null,
            ])
        );
        let s = out.schema.unwrap();
        let types: Vec<SchemaType> = s.fields.iter().map(|f| f.schema.ty).collect();
        use SchemaType::*;
        assert_eq!(types, [Int32, Int64, Int64, Int32, Float64, Int32]);
        assert!(s.fields.iter().all(|f| f.schema.name.is_none()));
    }

    // CastTest.castLogicalToString
    #[test]
    fn logical_to_string() {
        let schema = Schema::structure()
            .field("date", logical::date_schema())
            .field("decimal", logical::decimal_schema(0))
            .field("time", logical::time_schema())
            .field("timestamp", logical::timestamp_schema());
        let v = Value::Struct(vec![
            Value::Int(1),
            Value::Bytes(logical::decimal_from_text("1982", 0).unwrap()),
            Value::Int(3_600_000),
            Value::Int(1_483_425_001_864),
        ]);
        let out = whole(
            "date:string,decimal:string,time:string,timestamp:string",
            Data::new(schema, v),
        );
        assert_eq!(
            out.value,
            Value::Struct(vec![
                "1970-01-02".into(),
                "1982".into(),
                "01:00:00.000Z".into(),
                "2017-01-03T06:30:01.864Z".into(),
            ])
        );
    }

    // CastTest.castFieldsWithSchema
    #[test]
    fn fields_with_schema() {
        let spec = "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32,bigdecimal:string,date:string,optional:int32,bytes:string,byteArray:string";
        let p = |t| Schema::new(t);
        let schema = Arc::new(
            Schema::structure()
                .field("int8", p(SchemaType::Int8))
                .field("int16", p(SchemaType::Int16).optional())
                .field("int32", p(SchemaType::Int32).default_value(Value::Int(2)))
                .field("int64", p(SchemaType::Int64))
                .field("float32", p(SchemaType::Float32))
                .field(
                    "float64",
                    p(SchemaType::Float64).default_value(Value::Float64(-1.125)),
                )
                .field("boolean", p(SchemaType::Boolean))
                .field("string", p(SchemaType::String))
                .field("bigdecimal", logical::decimal_schema(0))
                .field("date", logical::date_schema())
                .field("optional", p(SchemaType::Float32).optional())
                .field("timestamp", logical::timestamp_schema())
                .field("bytes", p(SchemaType::Bytes))
                .field("byteArray", p(SchemaType::Bytes)),
        );
        let bytes = vec![0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10];
        let v = Value::Struct(vec![
            Value::Int(8),
            Value::Int(16),
            Value::Int(32),
            Value::Int(64),
            Value::Float32(32.0),
            Value::Float64(-64.0),
            true.into(),
            "42".into(),
            Value::Bytes(vec![42]),
            Value::Int(1),
            Value::Null,
            Value::Int(0),
            Value::Bytes(bytes.clone()),
            Value::Bytes(bytes),
        ]);
        let out = whole(spec, Data::new(schema, v));
        assert_eq!(
            out.value,
            Value::Struct(vec![
                Value::Int(8),
                Value::Int(16),
                Value::Int(32),
                true.into(),
                Value::Float64(32.0),
                true.into(),
                Value::Int(1),
                Value::Int(42),
                "42".into(),
                "1970-01-02".into(),
                Value::Null,
                Value::Int(0),
                "/ty6mHZUMhA=".into(),
                "/ty6mHZUMhA=".into(),
            ])
        );
        let s = out.schema.unwrap();
        let f = |n: &str| s.fields[s.field_index(n).unwrap()].schema.clone();
        assert!(f("int16").optional);
        assert_eq!(f("int32").default, Some(Value::Int(2)));
        assert_eq!(f("float64").default, Some(true.into()));
        assert_eq!(f("optional").ty, SchemaType::Int32);
        assert_eq!(f("timestamp").name.as_deref(), Some(logical::TIMESTAMP));
        assert_eq!(f("bytes").ty, SchemaType::String);
    }

    // CastTest.castFieldsSchemaless
    #[test]
    fn fields_schemaless() {
        let spec = "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32";
        let m = Value::Map(vec![
            ("int8".into(), Value::Int(8)),
            ("int16".into(), Value::Int(16)),
            ("int32".into(), Value::Int(32)),
            ("int64".into(), Value::Int(64)),
            ("float32".into(), Value::Float32(32.0)),
            ("float64".into(), Value::Float64(-64.0)),
            ("boolean".into(), true.into()),
            ("string".into(), "42".into()),
        ]);
        let out = whole(spec, Data::schemaless(m));
        assert_eq!(
            out.value,
            Value::Map(vec![
                ("int8".into(), Value::Int(8)),
                ("int16".into(), Value::Int(16)),
                ("int32".into(), Value::Int(32)),
                ("int64".into(), true.into()),
                ("float32".into(), Value::Float64(32.0)),
                ("float64".into(), true.into()),
                ("boolean".into(), Value::Int(1)),
                ("string".into(), Value::Int(42)),
            ])
        );
    }

    // CastTest.castFieldWithDefaultValueRecordWithSchema
    #[test]
    fn field_with_default_value() {
        for (replace, expected) in [("false", Value::Null), ("true", Value::from("10"))] {
            let schema = Schema::structure().field(
                "magic",
                Schema::new(SchemaType::Int32)
                    .optional()
                    .default_value(Value::Int(10)),
            );
            let out = transform(
                KEYS,
                value,
                &[
                    ("spec", "magic:string"),
                    ("replace.null.with.default", replace),
                ],
            )
            .apply(Record::new(
                "topic",
                None,
                Some(Data::new(schema, Value::Struct(vec![Value::Null]))),
                0,
            ))
            .unwrap()
            .unwrap()
            .value
            .unwrap();
            assert_eq!(out.schema.unwrap().fields[0].schema.ty, SchemaType::String);
            assert_eq!(out.value, Value::Struct(vec![expected]));
        }
    }

    #[test]
    fn strings_out_of_range() {
        let err = transform(KEYS, value, &[("spec", "int8")])
            .apply(Record::new(
                "t",
                None,
                Some(Data::schemaless("300".into())),
                0,
            ))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Value (300) was out of range for requested data type"
        );
    }
}
