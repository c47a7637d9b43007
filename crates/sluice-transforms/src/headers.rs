//! Headers: `HeaderFrom$Key/$Value` (copy or move fields into headers), `InsertHeader` (a
//! literal header) and `DropHeaders`, plus the one place Connect values become header bytes.
//!
//! Sluice's headers are bytes, as on the wire. A Connect value becomes the bytes Connect's
//! default `SimpleHeaderConverter` writes (`Values.convertToString` in UTF-8):
//! - null → a null header value;
//! - strings as their text, booleans `true`/`false`, integers and floats as Java prints them
//!   (`42`, `4.2`, `1.0E10`), decimals as `BigDecimal.toString()`;
//! - bytes as base64;
//! - Connect `Date`/`Time`/`Timestamp` as ISO text in UTC (`2017-01-03`, `06:30:01.864Z`,
//!   `2017-01-03T06:30:01.864Z`);
//! - arrays as `[a,b]`, maps as `{"k":v}`, structs as `{"field":value}`, with strings inside
//!   them quoted and `"`/`\` escaped.
//!
//! A header is never dropped or rewritten here except by `DropHeaders`.

use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::data::{Schema, SchemaType, Value};
use sluice_core::json::display_value;
use sluice_core::logical;
use sluice_core::record::{Header, Record};
use sluice_core::transform::{Transform, TransformError};

use crate::date_format::connect_date_text;
use crate::operand::{
    add_field, copy_basics, decimal_of, exact_choice, field_value, java_decimal_string, map_get,
    opt_string_keeping_empty, require_map, require_struct, required_list, SchemaCache, Side,
    REPLACE_NULL_WITH_DEFAULT_DOC,
};

const GROUP: &str = "Transforms";

/// The header bytes of a Connect value (see the module documentation).
pub fn header_value(schema: Option<&Schema>, value: &Value) -> Option<Vec<u8>> {
    if value.is_null() {
        return None;
    }
    let mut out = String::new();
    append(&mut out, schema, value, false);
    Some(out.into_bytes())
}

/// `Values.append`: `embedded` values (inside a list, map or struct) quote their strings.
fn append(out: &mut String, schema: Option<&Schema>, value: &Value, embedded: bool) {
    let logical = schema.and_then(|s| s.name.as_deref());
    match (value, logical) {
        (Value::Null, _) => out.push_str("null"),
        (Value::Int(days), Some(logical::DATE)) => {
            out.push_str(&connect_date_text(days.saturating_mul(86_400_000)))
        }
        (Value::Int(ms), Some(logical::TIME | logical::TIMESTAMP)) => {
            out.push_str(&connect_date_text(*ms))
        }
        (Value::Bytes(b), Some(logical::DECIMAL)) => {
            let d = schema.map_or_else(logical::Decimal::zero, |s| decimal_of(s, b));
            out.push_str(&java_decimal_string(&d));
        }
        (Value::String(_) | Value::SharedString(_), _) => {
            let s = value.as_str().unwrap_or_default();
            if embedded {
                out.push('"');
                out.push_str(&s.replace('\\', "\\\\").replace('"', "\\\""));
                out.push('"');
            } else {
                out.push_str(s);
            }
        }
        (Value::Bytes(_), _) => {
            let text = display_value(None, value);
            if embedded {
                out.push('"');
                out.push_str(&text);
                out.push('"');
            } else {
                out.push_str(&text);
            }
        }
        (Value::Array(items), _) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, schema.and_then(|s| s.items.as_deref()), item, true);
            }
            out.push(']');
        }
        (Value::Map(entries), _) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, schema.and_then(|s| s.keys.as_deref()), k, true);
                out.push(':');
                append(out, schema.and_then(|s| s.items.as_deref()), v, true);
            }
            out.push('}');
        }
        (Value::Struct(values), _) => {
            out.push('{');
            if let Some(schema) = schema {
                for (i, f) in schema.fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    append(out, None, &Value::String(f.name.clone()), true);
                    out.push(':');
                    let v = field_value(f, values.get(i), true);
                    append(out, Some(&f.schema), &v, true);
                }
            }
            out.push('}');
        }
        // Booleans, integers and floats print as Java's toString does.
        (other, _) => out.push_str(&display_value(None, other)),
    }
}

pub static HEADER_FROM_KEYS: &[ConfigKey] = &[
    ConfigKey::new("fields", KeyType::List, Importance::High, GROUP, "Field names in the record whose values are to be copied or moved to headers.").required(),
    ConfigKey::new("headers", KeyType::List, Importance::High, GROUP, "Header names, in the same order as the field names listed in the fields configuration property.").required(),
    ConfigKey::new("operation", KeyType::String, Importance::High, GROUP, "Either move if the fields are to be moved to the headers (removed from the key/value), or copy if the fields are to be copied to the headers (retained in the key/value).").required().one_of(&["move", "copy"]),
    ConfigKey::new("replace.null.with.default", KeyType::Boolean, Importance::Medium, GROUP, REPLACE_NULL_WITH_DEFAULT_DOC).default("true"),
];

pub struct HeaderFrom {
    side: Side,
    fields: Vec<String>,
    headers: Vec<String>,
    moving: bool,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

fn build_header_from(r: &mut KeyReader<'_>, side: Side) -> Option<Box<dyn Transform>> {
    let fields = required_list(r, "fields");
    let headers = required_list(r, "headers");
    let operation = exact_choice(r, "operation", &["move", "copy"]);
    let replace_null_with_default = r.bool("replace.null.with.default");
    let (fields, headers, operation) = (fields?, headers?, operation?);
    if fields.len() != headers.len() {
        r.issue(
            "headers",
            Some(&headers.join(",")),
            "'fields' config must have the same number of elements as 'headers' config.",
        );
        return None;
    }
    Some(Box::new(HeaderFrom {
        side,
        fields,
        headers,
        moving: operation == "move",
        replace_null_with_default,
        schemas: SchemaCache::default(),
    }))
}

pub mod header_from {
    crate::operand::sides!(super::build_header_from);
}

impl Transform for HeaderFrom {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        let purpose = if self.moving {
            "header move"
        } else {
            "header copy"
        };
        let (schema, value) = self.side.take(&mut record);
        let mut added = Vec::with_capacity(self.fields.len());
        match &schema {
            None => {
                let entries = require_map(&value, purpose)?;
                for (field, header) in self.fields.iter().zip(&self.headers) {
                    let v = map_get(entries, field).cloned().unwrap_or(Value::Null);
                    added.push(Header {
                        key: header.clone(),
                        value: header_value(None, &v),
                    });
                }
                let kept = if self.moving {
                    let kept = entries
                        .iter()
                        .filter(|(k, _)| {
                            !k.as_str()
                                .is_some_and(|k| self.fields.iter().any(|f| f == k))
                        })
                        .cloned()
                        .collect();
                    Value::Map(kept)
                } else {
                    value.clone()
                };
                self.side.put(&mut record, None, kept);
            }
            Some(_) => {
                let (s, values) = require_struct(schema.as_ref(), &value, purpose)?;
                for (field, header) in self.fields.iter().zip(&self.headers) {
                    let Some(i) = s.field_index(field) else {
                        return Err(TransformError::new(format!("Unknown field: {field}")));
                    };
                    let f = &s.fields[i];
                    let v = field_value(f, values.get(i), self.replace_null_with_default);
                    added.push(Header {
                        key: header.clone(),
                        value: header_value(Some(&f.schema), &v),
                    });
                }
                if self.moving {
                    let updated = self.schemas.get_or_build(&[s], || {
                        let mut out = copy_basics(s, SchemaType::Struct);
                        for f in s.fields.iter().filter(|f| !self.fields.contains(&f.name)) {
                            add_field(&mut out, &f.name, f.schema.clone())?;
                        }
                        Ok(out)
                    })?;
                    let kept = s
                        .fields
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| !self.fields.contains(&f.name))
                        .map(|(i, f)| field_value(f, values.get(i), self.replace_null_with_default))
                        .collect();
                    self.side
                        .put(&mut record, Some(updated), Value::Struct(kept));
                } else {
                    let s = s.clone();
                    self.side.put(&mut record, Some(s), value.clone());
                }
            }
        }
        record.headers.extend(added);
        Ok(Some(record))
    }
}

pub static INSERT_HEADER_KEYS: &[ConfigKey] = &[
    ConfigKey::new(
        "header",
        KeyType::String,
        Importance::High,
        GROUP,
        "The name of the header.",
    )
    .required(),
    ConfigKey::new(
        "value.literal",
        KeyType::String,
        Importance::High,
        GROUP,
        "The literal value that is to be set as the header value on all records.",
    )
    .required(),
];

pub struct InsertHeader {
    header: String,
    literal: Vec<u8>,
}

pub fn insert_header(r: &mut KeyReader<'_>) -> Option<Box<dyn Transform>> {
    let header = r.required_string("header");
    // An empty literal is a value (an empty header), not a missing one.
    let literal = match opt_string_keeping_empty(r, "value.literal") {
        Some(v) => Some(v),
        None => r.required_string("value.literal"),
    };
    Some(Box::new(InsertHeader {
        header: header?,
        literal: literal?.into_bytes(),
    }))
}

impl Transform for InsertHeader {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        record.headers.push(Header {
            key: self.header.clone(),
            value: Some(self.literal.clone()),
        });
        Ok(Some(record))
    }
}

pub static DROP_HEADERS_KEYS: &[ConfigKey] = &[ConfigKey::new(
    "headers",
    KeyType::List,
    Importance::High,
    GROUP,
    "The name of the headers to be removed.",
)
.required()];

pub struct DropHeaders(Vec<String>);

pub fn drop_headers(r: &mut KeyReader<'_>) -> Option<Box<dyn Transform>> {
    Some(Box::new(DropHeaders(required_list(r, "headers")?)))
}

impl Transform for DropHeaders {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        record.headers.retain(|h| !self.0.contains(&h.key));
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operand::testing::{refused, transform};
    use sluice_core::data::Data;
    use std::sync::Arc;

    fn h(key: &str, value: &str) -> Header {
        Header {
            key: key.into(),
            value: Some(value.as_bytes().to_vec()),
        }
    }

    fn string() -> Schema {
        Schema::new(SchemaType::String)
    }

    struct Case {
        fields: &'static str,
        headers: &'static str,
        operation: &'static str,
        replace: &'static str,
        schema: Schema,
        values: Vec<Value>,
        existing: Vec<Header>,
        expected_fields: Vec<&'static str>,
        expected_headers: Vec<Header>,
    }

    fn cases() -> Vec<Case> {
        let two = || {
            (
                Schema::structure()
                    .field("field1", string())
                    .field("field2", string()),
                vec![Value::from("field1-value"), Value::from("field2-value")],
            )
        };
        let foo = Arc::new(Schema::structure().field("foo", string()));
        let with_struct = Schema::structure()
            .field("field1", foo)
            .field("field2", string());
        let struct_values = vec![
            Value::Struct(vec!["foo-value".into()]),
            "field2-value".into(),
        ];
        let defaults = Schema::structure()
            .field(
                "field1",
                string().optional().default_value("default".into()),
            )
            .field(
                "field2",
                string().optional().default_value("default".into()),
            );
        let default_values = vec![Value::from("field1-value"), Value::Null];
        let case = |fields,
                    headers,
                    operation,
                    schema_values: (Schema, Vec<Value>),
                    existing,
                    expected_fields,
                    expected_headers| Case {
            fields,
            headers,
            operation,
            replace: "true",
            schema: schema_values.0,
            values: schema_values.1,
            existing,
            expected_fields,
            expected_headers,
        };
        vec![
            // "basic copy"
            case(
                "field1",
                "inserted1",
                "copy",
                two(),
                vec![h("header1", "existing-value")],
                vec!["field1", "field2"],
                vec![
                    h("header1", "existing-value"),
                    h("inserted1", "field1-value"),
                ],
            ),
            // "basic move"
            case(
                "field1",
                "inserted1",
                "move",
                two(),
                vec![h("header1", "existing-value")],
                vec!["field2"],
                vec![
                    h("header1", "existing-value"),
                    h("inserted1", "field1-value"),
                ],
            ),
            // "copy with preexisting header"
            case(
                "field1",
                "inserted1",
                "copy",
                two(),
                vec![h("inserted1", "existing-value")],
                vec!["field1", "field2"],
                vec![
                    h("inserted1", "existing-value"),
                    h("inserted1", "field1-value"),
                ],
            ),
            // "move with preexisting header"
            case(
                "field1",
                "inserted1",
                "move",
                two(),
                vec![h("inserted1", "existing-value")],
                vec!["field2"],
                vec![
                    h("inserted1", "existing-value"),
                    h("inserted1", "field1-value"),
                ],
            ),
            // "copy with struct value"
            case(
                "field1",
                "inserted1",
                "copy",
                (with_struct.clone(), struct_values.clone()),
                vec![h("header1", "existing-value")],
                vec!["field1", "field2"],
                vec![
                    h("header1", "existing-value"),
                    h("inserted1", "{\"foo\":\"foo-value\"}"),
                ],
            ),
            // "move with struct value"
            case(
                "field1",
                "inserted1",
                "move",
                (with_struct, struct_values),
                vec![h("header1", "existing-value")],
                vec!["field2"],
                vec![
                    h("header1", "existing-value"),
                    h("inserted1", "{\"foo\":\"foo-value\"}"),
                ],
            ),
            // "two headers from same field"
            case(
                "field1,field1",
                "inserted1,inserted2",
                "move",
                two(),
                vec![h("header1", "existing-value")],
                vec!["field2"],
                vec![
                    h("header1", "existing-value"),
                    h("inserted1", "field1-value"),
                    h("inserted2", "field1-value"),
                ],
            ),
            // "two fields to same header"
            case(
                "field1,field2",
                "inserted1,inserted1",
                "move",
                two(),
                vec![h("header1", "existing-value")],
                vec![],
                vec![
                    h("header1", "existing-value"),
                    h("inserted1", "field1-value"),
                    h("inserted1", "field2-value"),
                ],
            ),
            // "Copy null field without default"
            Case {
                replace: "false",
                ..case(
                    "field1,field2",
                    "inserted1,inserted2",
                    "copy",
                    (defaults.clone(), default_values.clone()),
                    vec![h("header1", "existing-value")],
                    vec!["field1", "field2"],
                    vec![
                        h("header1", "existing-value"),
                        h("inserted1", "field1-value"),
                        Header {
                            key: "inserted2".into(),
                            value: None,
                        },
                    ],
                )
            },
            // "Move null field without default"
            Case {
                replace: "false",
                ..case(
                    "field1,field2",
                    "inserted1,inserted2",
                    "move",
                    (defaults, default_values),
                    vec![h("header1", "existing-value")],
                    vec![],
                    vec![
                        h("header1", "existing-value"),
                        h("inserted1", "field1-value"),
                        Header {
                            key: "inserted2".into(),
                            value: None,
                        },
                    ],
                )
            },
        ]
    }

    /// The data as JSON read with `schemas.enable=false` holds it: structs become maps.
    fn schemaless(schema: &Schema, value: &Value) -> Value {
        match value {
            Value::Struct(values) => Value::Map(
                schema
                    .fields
                    .iter()
                    .zip(values)
                    .map(|(f, v)| (Value::from(f.name.as_str()), schemaless(&f.schema, v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    // HeaderFromTest.withSchema and HeaderFromTest.schemaless, key and value, every case.
    #[test]
    fn header_from_test() {
        for case in cases() {
            for side in [Side::Key, Side::Value] {
                for with_schema in [true, false] {
                    let build = if side == Side::Key {
                        header_from::key
                    } else {
                        header_from::value
                    };
                    let t = transform(
                        HEADER_FROM_KEYS,
                        build,
                        &[
                            ("fields", case.fields),
                            ("headers", case.headers),
                            ("operation", case.operation),
                            ("replace.null.with.default", case.replace),
                        ],
                    );
                    let data = if with_schema {
                        Data::new(case.schema.clone(), Value::Struct(case.values.clone()))
                    } else {
                        Data::schemaless(schemaless(
                            &case.schema,
                            &Value::Struct(case.values.clone()),
                        ))
                    };
                    let mut r = Record::new("topic", None, None, 0);
                    side.put(&mut r, data.schema, data.value);
                    r.headers = case.existing.clone();
                    let out = t.apply(r).unwrap().unwrap();
                    let what = format!("{} {side:?} schema={with_schema}", case.fields);
                    assert_eq!(out.headers, case.expected_headers, "{what}");
                    let d = side.get(&out).unwrap();
                    let names: Vec<String> = match (&d.schema, &d.value) {
                        (Some(s), _) => s.fields.iter().map(|f| f.name.clone()).collect(),
                        (None, Value::Map(m)) => m
                            .iter()
                            .filter_map(|(k, _)| k.as_str().map(str::to_owned))
                            .collect(),
                        other => panic!("{other:?}"),
                    };
                    assert_eq!(names, case.expected_fields, "{what}");
                }
            }
        }
    }

    // HeaderFromTest.invalidConfig*
    #[test]
    fn header_from_config() {
        let text = refused(
            HEADER_FROM_KEYS,
            header_from::value,
            &[
                ("fields", "foo,bar"),
                ("headers", "foo"),
                ("operation", "copy"),
            ],
        );
        assert!(text.contains(
            "'fields' config must have the same number of elements as 'headers' config."
        ));
        let text = refused(
            HEADER_FROM_KEYS,
            header_from::value,
            &[("fields", ","), ("headers", ","), ("operation", "copy")],
        );
        assert!(text.contains("Empty list"));
        let text = refused(
            HEADER_FROM_KEYS,
            header_from::value,
            &[("fields", "a"), ("headers", "b"), ("operation", "Copy")],
        );
        assert!(text.contains("transforms.t.operation"));
    }

    // InsertHeaderTest
    #[test]
    fn insert_header_test() {
        let t = transform(
            INSERT_HEADER_KEYS,
            insert_header,
            &[("header", "inserted"), ("value.literal", "inserted-value")],
        );
        let mut r = Record::new("topic", None, None, 0);
        r.headers.push(h("existing", "existing-value"));
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(
            out.headers,
            [
                h("existing", "existing-value"),
                h("inserted", "inserted-value")
            ]
        );
        let t = transform(
            INSERT_HEADER_KEYS,
            insert_header,
            &[("header", "existing"), ("value.literal", "1")],
        );
        let mut r = Record::new("topic", None, None, 0);
        r.headers.push(h("existing", "preexisting-value"));
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(
            out.headers,
            [h("existing", "preexisting-value"), h("existing", "1")]
        );
        assert!(
            refused(INSERT_HEADER_KEYS, insert_header, &[("value.literal", "1")])
                .contains("transforms.t.header")
        );
        assert!(
            refused(INSERT_HEADER_KEYS, insert_header, &[("header", "inserted")])
                .contains("transforms.t.value.literal")
        );
    }

    // DropHeadersTest
    #[test]
    fn drop_headers_test() {
        let t = transform(
            DROP_HEADERS_KEYS,
            drop_headers,
            &[("headers", "dropped1,dropped2")],
        );
        let mut r = Record::new("topic", None, None, 0);
        r.headers = vec![
            h("dropped1", "a"),
            h("existing", "b"),
            h("dropped2", "c"),
            h("dropped1", "d"),
        ];
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.headers, [h("existing", "b")]);
        assert!(refused(DROP_HEADERS_KEYS, drop_headers, &[]).contains("transforms.t.headers"));
    }

    #[test]
    fn header_texts() {
        let text =
            |s: Option<&Schema>, v: &Value| String::from_utf8(header_value(s, v).unwrap()).unwrap();
        assert_eq!(text(None, &Value::Int(1234)), "1234");
        assert_eq!(text(None, &Value::Float64(4.9)), "4.9");
        assert_eq!(text(None, &true.into()), "true");
        assert_eq!(text(None, &Value::Bytes(vec![1, 2])), "AQI=");
        assert_eq!(
            text(Some(&logical::date_schema()), &Value::Int(17_169)),
            "2017-01-03"
        );
        assert_eq!(
            text(Some(&logical::decimal_schema(2)), &Value::Bytes(vec![0x6e])),
            "1.10"
        );
        let list = Value::Array(vec!["a\"b".into(), Value::Int(1), Value::Null]);
        assert_eq!(text(None, &list), "[\"a\\\"b\",1,null]");
        let map = Value::Map(vec![("k".into(), Value::Int(1))]);
        assert_eq!(text(None, &map), "{\"k\":1}");
        assert!(header_value(None, &Value::Null).is_none());
    }
}
