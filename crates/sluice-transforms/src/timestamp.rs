//! Timestamps: `TimestampConverter$Key/$Value` converts a field (or the whole key or value)
//! between Unix time, formatted strings and Connect's `Date`/`Time`/`Timestamp`, changing the
//! schema with it; `TimestampRouter` puts the record's timestamp in its topic name. All in UTC,
//! as Connect does. A value that does not parse is an error, never the epoch.
//!
//! Schemaless data has no date type in Sluice (JSON has none): a schemaless conversion to
//! `Date`, `Time` or `Timestamp` gives milliseconds since the epoch, what Connect's
//! `java.util.Date` holds.

use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::data::{Schema, SchemaType, Value};
use sluice_core::logical;
use sluice_core::record::Record;
use sluice_core::transform::{Transform, TransformError};

use crate::date_format::DateFormat;
use crate::operand::{
    add_field, copy_basics, exact_choice, field_value, java_class, map_get, map_put, require_map,
    require_struct, SchemaCache, Side, REPLACE_NULL_WITH_DEFAULT_DOC,
};

const GROUP: &str = "Transforms";
const MS_PER_DAY: i64 = 86_400_000;

pub static CONVERTER_KEYS: &[ConfigKey] = &[
    ConfigKey::new("field", KeyType::String, Importance::High, GROUP, "The field containing the timestamp, or empty if the entire value is a timestamp").default(""),
    ConfigKey::new("target.type", KeyType::String, Importance::High, GROUP, "The desired timestamp representation: string, unix, Date, Time, or Timestamp").required().one_of(TYPES),
    ConfigKey::new("format", KeyType::String, Importance::Medium, GROUP, "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string.").default(""),
    ConfigKey::new("unix.precision", KeyType::String, Importance::Low, GROUP, "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long. Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components.").default("milliseconds").one_of(PRECISIONS),
    ConfigKey::new("replace.null.with.default", KeyType::Boolean, Importance::Medium, GROUP, REPLACE_NULL_WITH_DEFAULT_DOC).default("true"),
];

const TYPES: &[&str] = &["string", "unix", "Date", "Time", "Timestamp"];
const PRECISIONS: &[&str] = &["nanoseconds", "microseconds", "milliseconds", "seconds"];
const PURPOSE: &str = "converting timestamp formats";

/// A timestamp representation (Connect's `TimestampTranslator`s).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Unix,
    Date,
    Time,
    Timestamp,
}

#[derive(Debug, Clone, Copy)]
enum Precision {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

pub struct TimestampConverter {
    side: Side,
    field: String,
    target: Kind,
    format: Option<DateFormat>,
    precision: Precision,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

fn build_converter(r: &mut KeyReader<'_>, side: Side) -> Option<Box<dyn Transform>> {
    let field = r.string("field");
    let target = exact_choice(r, "target.type", TYPES);
    let pattern = r.string("format");
    let precision = exact_choice(r, "unix.precision", PRECISIONS);
    let replace_null_with_default = r.bool("replace.null.with.default");
    let target = match target?.as_str() {
        "string" => Kind::Text,
        "unix" => Kind::Unix,
        "Date" => Kind::Date,
        "Time" => Kind::Time,
        _ => Kind::Timestamp,
    };
    let precision = match precision?.as_str() {
        "seconds" => Precision::Seconds,
        "microseconds" => Precision::Micros,
        "nanoseconds" => Precision::Nanos,
        _ => Precision::Millis,
    };
    if target == Kind::Text && pattern.trim().is_empty() {
        r.issue(
            "format",
            None,
            "TimestampConverter requires format option to be specified when using string timestamps",
        );
        return None;
    }
    let format = if pattern.trim().is_empty() {
        None
    } else {
        match DateFormat::new(&pattern) {
            Ok(f) => Some(f),
            Err(e) => {
                r.issue(
                    "format",
                    Some(&pattern),
                    format!("TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: {pattern} ({e})"),
                );
                return None;
            }
        }
    };
    Some(Box::new(TimestampConverter {
        side,
        field,
        target,
        format,
        precision,
        replace_null_with_default,
        schemas: SchemaCache::default(),
    }))
}

pub mod converter {
    crate::operand::sides!(super::build_converter);
}

/// `timestampTypeFromSchema`.
fn kind_of(schema: &Schema) -> Result<Kind, TransformError> {
    match (schema.name.as_deref(), schema.ty) {
        (Some(logical::TIMESTAMP), _) => Ok(Kind::Timestamp),
        (Some(logical::DATE), _) => Ok(Kind::Date),
        (Some(logical::TIME), _) => Ok(Kind::Time),
        (_, SchemaType::String) => Ok(Kind::Text),
        (_, SchemaType::Int64) => Ok(Kind::Unix),
        _ => Err(TransformError::new(format!(
            "Schema {} does not correspond to a known timestamp type format",
            crate::operand::type_name(schema.ty)
        ))),
    }
}

/// `inferTimestampType` for schemaless data: a long is Unix time, a string is formatted.
fn infer_kind(value: &Value) -> Result<Kind, TransformError> {
    match value {
        Value::Int(_) => Ok(Kind::Unix),
        Value::String(_) | Value::SharedString(_) => Ok(Kind::Text),
        other => Err(TransformError::new(format!(
            "TimestampConverter does not support class {} objects as timestamps",
            java_class(None, other)
        ))),
    }
}

impl TimestampConverter {
    fn schema_of(&self, optional: bool) -> Schema {
        let s = match self.target {
            Kind::Text => Schema::new(SchemaType::String),
            Kind::Unix => Schema::new(SchemaType::Int64),
            Kind::Date => logical::date_schema(),
            Kind::Time => logical::time_schema(),
            Kind::Timestamp => logical::timestamp_schema(),
        };
        if optional {
            s.optional()
        } else {
            s
        }
    }

    fn format(&self) -> Result<&DateFormat, TransformError> {
        self.format.as_ref().ok_or_else(|| {
            TransformError::new("TimestampConverter requires format option to be specified when using string timestamps")
        })
    }

    /// `toRaw`: milliseconds since the epoch.
    fn millis_of(&self, kind: Kind, value: &Value) -> Result<i64, TransformError> {
        match (kind, value) {
            (Kind::Text, Value::String(_) | Value::SharedString(_)) => {
                let text = value.as_str().unwrap_or_default();
                let format = self.format()?;
                format.parse(text).ok_or_else(|| {
                    TransformError::new(format!(
                        "Could not parse timestamp: value ({text}) does not match pattern ({})",
                        format.pattern()
                    ))
                })
            }
            (Kind::Text, other) => Err(TransformError::new(format!(
                "Expected string timestamp to be a String, but found class {}",
                java_class(None, other)
            ))),
            (Kind::Unix, Value::Int(v)) => Ok(match self.precision {
                Precision::Seconds => v.saturating_mul(1000),
                Precision::Millis => *v,
                Precision::Micros => v / 1000,
                Precision::Nanos => v / 1_000_000,
            }),
            (Kind::Date, Value::Int(days)) => Ok(days.saturating_mul(MS_PER_DAY)),
            (Kind::Time | Kind::Timestamp, Value::Int(ms)) => Ok(*ms),
            (kind, other) => Err(TransformError::new(format!(
                "Expected {} to be a {}, but found class {}",
                match kind {
                    Kind::Unix => "Unix timestamp",
                    Kind::Date => "Date",
                    Kind::Time => "Time",
                    _ => "Timestamp",
                },
                if kind == Kind::Unix {
                    "Long"
                } else {
                    "java.util.Date"
                },
                java_class(None, other)
            ))),
        }
    }

    /// `toType`; `schemaless` values of the date kinds are milliseconds (see the module doc).
    fn millis_to_target(&self, ms: i64, schemaless: bool) -> Value {
        match self.target {
            Kind::Text => Value::String(
                self.format
                    .as_ref()
                    .map_or_else(String::new, |f| f.format(ms)),
            ),
            Kind::Unix => Value::Int(match self.precision {
                Precision::Seconds => ms / 1000,
                Precision::Millis => ms,
                Precision::Micros => ms.saturating_mul(1000),
                Precision::Nanos => ms.saturating_mul(1_000_000),
            }),
            Kind::Date if schemaless => Value::Int(ms - ms.rem_euclid(MS_PER_DAY)),
            Kind::Date => Value::Int(ms.div_euclid(MS_PER_DAY)),
            Kind::Time => Value::Int(ms.rem_euclid(MS_PER_DAY)),
            Kind::Timestamp => Value::Int(ms),
        }
    }

    fn convert(&self, value: &Value, kind: Option<Kind>) -> Result<Value, TransformError> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let kind = match kind {
            Some(k) => k,
            None => infer_kind(value)?,
        };
        let ms = self.millis_of(kind, value)?;
        Ok(self.millis_to_target(ms, false))
    }

    fn convert_schemaless(&self, value: &Value) -> Result<Value, TransformError> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let ms = self.millis_of(infer_kind(value)?, value)?;
        Ok(self.millis_to_target(ms, true))
    }

    fn convert_struct(&self, schema: &Schema, values: &[Value]) -> Result<Value, TransformError> {
        let mut out = Vec::with_capacity(schema.fields.len());
        for (i, f) in schema.fields.iter().enumerate() {
            let v = field_value(f, values.get(i), self.replace_null_with_default);
            out.push(if f.name == self.field {
                self.convert(&v, Some(kind_of(&f.schema)?))?
            } else {
                v
            });
        }
        Ok(Value::Struct(out))
    }
}

impl Transform for TimestampConverter {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        let (schema, value) = self.side.take(&mut record);
        match &schema {
            None if value.is_null() || self.field.is_empty() => {
                let converted = self.convert_schemaless(&value)?;
                self.side.put(&mut record, None, converted);
            }
            None => {
                let mut entries = require_map(&value, PURPOSE)?.to_vec();
                let original = map_get(&entries, &self.field)
                    .cloned()
                    .unwrap_or(Value::Null);
                let converted = self.convert_schemaless(&original)?;
                map_put(&mut entries, &self.field, converted);
                self.side.put(&mut record, None, Value::Map(entries));
            }
            Some(s) if self.field.is_empty() => {
                let converted = self.convert(&value, Some(kind_of(s)?))?;
                let updated = self
                    .schemas
                    .get_or_build(&[s], || Ok(self.schema_of(s.optional)))?;
                self.side.put(&mut record, Some(updated), converted);
            }
            Some(s) => {
                if !value.is_null() {
                    require_struct(Some(s), &value, PURPOSE)?;
                }
                let updated = self.schemas.get_or_build(&[s], || {
                    let mut out = copy_basics(s, SchemaType::Struct);
                    for f in &s.fields {
                        let fs = if f.name == self.field {
                            self.schema_of(f.schema.optional).into()
                        } else {
                            f.schema.clone()
                        };
                        add_field(&mut out, &f.name, fs)?;
                    }
                    out.optional = s.optional;
                    if let Some(Value::Struct(d)) = &s.default {
                        out.default = Some(self.convert_struct(s, d)?);
                    }
                    Ok(out)
                })?;
                let converted = match &value {
                    Value::Struct(values) => self.convert_struct(s, values)?,
                    _ => Value::Null,
                };
                self.side.put(&mut record, Some(updated), converted);
            }
        }
        Ok(Some(record))
    }
}

pub static ROUTER_KEYS: &[ConfigKey] = &[
    ConfigKey::new("topic.format", KeyType::String, Importance::High, GROUP, "Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively.").default("${topic}-${timestamp}"),
    ConfigKey::new("timestamp.format", KeyType::String, Importance::High, GROUP, "Format string for the timestamp that is compatible with java.text.SimpleDateFormat.").default("yyyyMMdd"),
];

pub struct TimestampRouter {
    topic_format: String,
    timestamp_format: DateFormat,
}

pub fn timestamp_router(r: &mut KeyReader<'_>) -> Option<Box<dyn Transform>> {
    let topic_format = r.string("topic.format");
    let pattern = r.string("timestamp.format");
    match DateFormat::new(&pattern) {
        Ok(timestamp_format) => Some(Box::new(TimestampRouter {
            topic_format,
            timestamp_format,
        })),
        Err(e) => {
            r.issue("timestamp.format", Some(&pattern), e);
            None
        }
    }
}

impl Transform for TimestampRouter {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        let stamp = self.timestamp_format.format(record.timestamp_ms);
        // Connect substitutes ${topic} first, then ${timestamp} in the result.
        record.topic = self
            .topic_format
            .replace("${topic}", &record.topic)
            .replace("${timestamp}", &stamp);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operand::testing::{refused, transform};
    use sluice_core::data::Data;

    const FMT: &str = "yyyy MM dd HH mm ss SSS z";
    const DATE_PLUS_TIME: i64 = 86_401_234;
    const DATE_PLUS_TIME_STRING: &str = "1970 01 02 00 00 01 234 UTC";
    const DATE_DAYS: i64 = 1;
    const TIME: i64 = 1234;

    fn conv(props: &[(&str, &str)]) -> Box<dyn Transform> {
        transform(CONVERTER_KEYS, converter::value, props)
    }

    fn apply(t: &dyn Transform, data: Option<Data>) -> Option<Data> {
        t.apply(Record::new("topic", None, data, 0))
            .unwrap()
            .unwrap()
            .value
    }

    // TimestampConverterTest.testConfig*
    #[test]
    fn config() {
        assert!(refused(CONVERTER_KEYS, converter::value, &[]).contains("target.type"));
        assert!(refused(
            CONVERTER_KEYS,
            converter::value,
            &[("target.type", "invalid")]
        )
        .contains("transforms.t.target.type"));
        assert!(refused(
            CONVERTER_KEYS,
            converter::value,
            &[("target.type", "unix"), ("unix.precision", "invalid")]
        )
        .contains("transforms.t.unix.precision"));
        conv(&[("target.type", "unix"), ("unix.precision", "seconds")]);
        assert!(refused(
            CONVERTER_KEYS,
            converter::value,
            &[("target.type", "string")]
        )
        .contains("requires format option"));
        assert!(refused(
            CONVERTER_KEYS,
            converter::value,
            &[("target.type", "string"), ("format", "bad-format")]
        )
        .contains("SimpleDateFormat-compatible"));
    }

    // TimestampConverterTest.testSchemaless* (Date values are milliseconds without a schema)
    #[test]
    fn schemaless() {
        let unix = Some(Data::schemaless(Value::Int(DATE_PLUS_TIME)));
        let cases = [
            ("Timestamp", Value::Int(DATE_PLUS_TIME)),
            ("Date", Value::Int(86_400_000)),
            ("Time", Value::Int(TIME)),
            ("unix", Value::Int(DATE_PLUS_TIME)),
            ("string", DATE_PLUS_TIME_STRING.into()),
        ];
        for (target, expected) in cases {
            let t = conv(&[("target.type", target), ("format", FMT)]);
            let out = apply(&*t, unix.clone()).unwrap();
            assert!(out.schema.is_none());
            assert_eq!(out.value, expected, "{target}");
        }
        let t = conv(&[("target.type", "Timestamp"), ("format", FMT)]);
        let out = apply(&*t, Some(Data::schemaless(DATE_PLUS_TIME_STRING.into()))).unwrap();
        assert_eq!(out.value, Value::Int(DATE_PLUS_TIME));
        // testSchemalessNullValueTo* / null fields
        for target in TYPES {
            for field in ["", "ts"] {
                let t = conv(&[("target.type", target), ("format", FMT), ("field", field)]);
                assert!(apply(&*t, None).is_none());
            }
        }
        // testSchemalessFieldConversion
        let t = conv(&[("target.type", "Date"), ("field", "ts")]);
        let m = Value::Map(vec![("ts".into(), Value::Int(DATE_PLUS_TIME))]);
        let out = apply(&*t, Some(Data::schemaless(m))).unwrap();
        assert_eq!(
            out.value,
            Value::Map(vec![("ts".into(), Value::Int(86_400_000))])
        );
        // testSchemalessStringToUnix_*
        for (precision, expected) in [
            ("microseconds", 86_401_234_000),
            ("nanoseconds", 86_401_234_000_000),
            ("seconds", 86_401),
        ] {
            let t = conv(&[
                ("target.type", "unix"),
                ("unix.precision", precision),
                ("format", FMT),
            ]);
            let out = apply(&*t, Some(Data::schemaless(DATE_PLUS_TIME_STRING.into()))).unwrap();
            assert_eq!(out.value, Value::Int(expected), "{precision}");
        }
    }

    // TimestampConverterTest.testWithSchema*
    #[test]
    fn with_schema() {
        let ts = || {
            Some(Data::new(
                logical::timestamp_schema(),
                Value::Int(DATE_PLUS_TIME),
            ))
        };
        let cases = [
            (
                "Timestamp",
                logical::timestamp_schema(),
                Value::Int(DATE_PLUS_TIME),
            ),
            ("Date", logical::date_schema(), Value::Int(DATE_DAYS)),
            ("Time", logical::time_schema(), Value::Int(TIME)),
            (
                "unix",
                Schema::new(SchemaType::Int64),
                Value::Int(DATE_PLUS_TIME),
            ),
            (
                "string",
                Schema::new(SchemaType::String),
                DATE_PLUS_TIME_STRING.into(),
            ),
        ];
        for (target, schema, expected) in cases {
            let t = conv(&[("target.type", target), ("format", FMT)]);
            let out = apply(&*t, ts()).unwrap();
            assert_eq!(out.schema.as_deref(), Some(&schema), "{target}");
            assert_eq!(out.value, expected, "{target}");
        }
        let to_ts = conv(&[("target.type", "Timestamp"), ("format", FMT)]);
        for (schema, v, expected) in [
            (logical::date_schema(), Value::Int(DATE_DAYS), 86_400_000),
            (logical::time_schema(), Value::Int(TIME), TIME),
            (
                Schema::new(SchemaType::Int64),
                Value::Int(DATE_PLUS_TIME),
                DATE_PLUS_TIME,
            ),
            (
                Schema::new(SchemaType::String),
                DATE_PLUS_TIME_STRING.into(),
                DATE_PLUS_TIME,
            ),
        ] {
            let out = apply(&*to_ts, Some(Data::new(schema, v))).unwrap();
            assert_eq!(out.schema.as_deref(), Some(&logical::timestamp_schema()));
            assert_eq!(out.value, Value::Int(expected));
        }
    }

    // TimestampConverterTest.testWithSchemaNullValueTo* / testWithSchemaNullFieldTo*
    #[test]
    fn with_schema_nulls() {
        let originals = [
            Schema::new(SchemaType::Int64).optional(),
            logical::time_schema().optional(),
            logical::date_schema().optional(),
            Schema::new(SchemaType::String).optional(),
            logical::timestamp_schema().optional(),
        ];
        let targets = [
            ("Timestamp", logical::timestamp_schema().optional()),
            ("unix", Schema::new(SchemaType::Int64).optional()),
            ("Time", logical::time_schema().optional()),
            ("Date", logical::date_schema().optional()),
            ("string", Schema::new(SchemaType::String).optional()),
        ];
        for (target, expected) in &targets {
            for original in &originals {
                let t = conv(&[("target.type", target), ("format", FMT)]);
                let out = apply(&*t, Some(Data::new(original.clone(), Value::Null))).unwrap();
                assert_eq!(out.schema.as_deref(), Some(expected));
                assert!(out.value.is_null());

                let t = conv(&[("target.type", target), ("format", FMT), ("field", "ts")]);
                let s = Schema::structure()
                    .field("ts", original.clone())
                    .field("other", Schema::new(SchemaType::String));
                let expected_struct = Schema::structure()
                    .field("ts", expected.clone())
                    .field("other", Schema::new(SchemaType::String));
                let v = Value::Struct(vec![Value::Null, "test".into()]);
                let out = apply(&*t, Some(Data::new(s.clone(), v))).unwrap();
                assert_eq!(out.schema.as_deref(), Some(&expected_struct));
                assert_eq!(out.value, Value::Struct(vec![Value::Null, "test".into()]));
                let out = apply(&*t, Some(Data::new(s.optional(), Value::Null))).unwrap();
                assert_eq!(out.schema.as_deref(), Some(&expected_struct.optional()));
                assert!(out.value.is_null());
            }
        }
    }

    // TimestampConverterTest.testWithSchemaFieldConversion{,_Micros,_Nanos,_Seconds} and
    // testWithSchemaNullFieldWithDefaultConversion
    #[test]
    fn with_schema_field_conversion() {
        for (precision, input, expected) in [
            ("milliseconds", DATE_PLUS_TIME, DATE_PLUS_TIME),
            ("microseconds", DATE_PLUS_TIME * 1000 + 123, DATE_PLUS_TIME),
            (
                "nanoseconds",
                (DATE_PLUS_TIME * 1000 + 123) * 1000 + 456,
                DATE_PLUS_TIME,
            ),
            ("seconds", DATE_PLUS_TIME / 1000, 86_401_000),
        ] {
            let t = conv(&[
                ("target.type", "Timestamp"),
                ("field", "ts"),
                ("unix.precision", precision),
            ]);
            let s = Schema::structure()
                .field("ts", Schema::new(SchemaType::Int64))
                .field("other", Schema::new(SchemaType::String));
            let out = apply(
                &*t,
                Some(Data::new(
                    s,
                    Value::Struct(vec![Value::Int(input), "test".into()]),
                )),
            )
            .unwrap();
            assert_eq!(
                out.schema.as_deref(),
                Some(
                    &Schema::structure()
                        .field("ts", logical::timestamp_schema())
                        .field("other", Schema::new(SchemaType::String))
                )
            );
            assert_eq!(
                out.value,
                Value::Struct(vec![Value::Int(expected), "test".into()]),
                "{precision}"
            );
        }
        let t = conv(&[
            ("target.type", "Timestamp"),
            ("field", "ts"),
            ("replace.null.with.default", "false"),
        ]);
        let s = Schema::structure()
            .field(
                "ts",
                Schema::new(SchemaType::Int64)
                    .optional()
                    .default_value(Value::Int(0)),
            )
            .field("other", Schema::new(SchemaType::String));
        let out = apply(
            &*t,
            Some(Data::new(
                s,
                Value::Struct(vec![Value::Null, "test".into()]),
            )),
        )
        .unwrap();
        assert_eq!(out.value, Value::Struct(vec![Value::Null, "test".into()]));
    }

    // TimestampConverterTest.testKey
    #[test]
    fn key() {
        let t = transform(
            CONVERTER_KEYS,
            converter::key,
            &[("target.type", "Timestamp")],
        );
        let r = Record::new(
            "topic",
            Some(Data::schemaless(Value::Int(DATE_PLUS_TIME))),
            None,
            0,
        );
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.key.unwrap().value, Value::Int(DATE_PLUS_TIME));
    }

    #[test]
    fn unparsable_strings_are_errors() {
        let t = conv(&[("target.type", "unix"), ("format", FMT)]);
        let r = Record::new("topic", None, Some(Data::schemaless("yesterday".into())), 0);
        assert_eq!(
            t.apply(r).unwrap_err().to_string(),
            "Could not parse timestamp: value (yesterday) does not match pattern (yyyy MM dd HH mm ss SSS z)"
        );
    }

    // TimestampRouterTest.defaultConfiguration
    #[test]
    fn timestamp_router_test() {
        let t = transform(ROUTER_KEYS, timestamp_router, &[]);
        let out = t
            .apply(Record::new("test", None, None, 1_483_425_001_864))
            .unwrap()
            .unwrap();
        assert_eq!(out.topic, "test-20170103");
        let t = transform(
            ROUTER_KEYS,
            timestamp_router,
            &[
                ("topic.format", "${timestamp}.${topic}"),
                ("timestamp.format", "yyyy-MM"),
            ],
        );
        let out = t
            .apply(Record::new("test", None, None, 1_483_425_001_864))
            .unwrap()
            .unwrap();
        assert_eq!(out.topic, "2017-01.test");
        assert!(refused(
            ROUTER_KEYS,
            timestamp_router,
            &[("timestamp.format", "bad-format")]
        )
        .contains("transforms.t.timestamp.format"));
    }
}
