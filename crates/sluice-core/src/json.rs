//! Kafka Connect's `JsonConverter`, byte for byte: `{"schema":…,"payload":…}` with
//! `schemas.enable=true`, the bare payload otherwise. Consumers parse this output with Jackson
//! and compare schemas as text, so field order and number formatting must match Connect's.

use std::io::Write;

use base64::Engine as _;

use crate::data::{Data, Schema, SchemaType, Value};

/// Connect's JSON converter (`org.apache.kafka.connect.json.JsonConverter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonConverter {
    pub schemas_enable: bool,
}

impl Default for JsonConverter {
    fn default() -> Self {
        JsonConverter {
            schemas_enable: true,
        }
    }
}

impl JsonConverter {
    /// Serializes one side of a record; `None` (a tombstone) stays `None`, as in Connect.
    pub fn serialize(&self, data: Option<&Data>) -> Option<Vec<u8>> {
        let data = data?;
        // Room for the schema and a typical row, so encoding rarely reallocates.
        let schema_len = if self.schemas_enable {
            schema_json(&data.schema).len()
        } else {
            0
        };
        let mut out = Vec::with_capacity(schema_len + 1024);
        self.serialize_into(&mut out, data);
        Some(out)
    }

    pub fn serialize_into(&self, out: &mut Vec<u8>, data: &Data) {
        if self.schemas_enable {
            out.extend_from_slice(b"{\"schema\":");
            out.extend_from_slice(schema_json(&data.schema).as_bytes());
            out.extend_from_slice(b",\"payload\":");
            write_value(out, &data.schema, &data.value);
            out.push(b'}');
        } else {
            write_value(out, &data.schema, &data.value);
        }
    }
}

/// The schema as JsonConverter's `asJsonSchema` writes it, computed once per schema.
pub fn schema_json(schema: &Schema) -> &str {
    schema.json.get_or_init(|| {
        let mut out = Vec::with_capacity(512);
        write_schema(&mut out, schema, None);
        // Only valid UTF-8 is ever written: names and strings come from &str.
        String::from_utf8(out).unwrap_or_default().into_boxed_str()
    })
}

// Field order follows Connect: type, fields/items/keys+values, optional, name, version, doc,
// parameters, default, then the field name its parent struct adds.
fn write_schema(out: &mut Vec<u8>, schema: &Schema, field: Option<&str>) {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(schema.ty.json_name().as_bytes());
    out.push(b'"');
    match schema.ty {
        SchemaType::Struct => {
            out.extend_from_slice(b",\"fields\":[");
            for (i, f) in schema.fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_schema(out, &f.schema, Some(&f.name));
            }
            out.push(b']');
        }
        SchemaType::Array => {
            if let Some(items) = &schema.items {
                out.extend_from_slice(b",\"items\":");
                write_schema(out, items, None);
            }
        }
        SchemaType::Map => {
            if let (Some(keys), Some(values)) = (&schema.keys, &schema.items) {
                out.extend_from_slice(b",\"keys\":");
                write_schema(out, keys, None);
                out.extend_from_slice(b",\"values\":");
                write_schema(out, values, None);
            }
        }
        _ => {}
    }
    out.extend_from_slice(if schema.optional {
        b",\"optional\":true"
    } else {
        b",\"optional\":false"
    });
    if let Some(name) = &schema.name {
        out.extend_from_slice(b",\"name\":");
        write_str(out, name);
    }
    if let Some(version) = schema.version {
        let _ = write!(out, ",\"version\":{version}");
    }
    if let Some(doc) = &schema.doc {
        out.extend_from_slice(b",\"doc\":");
        write_str(out, doc);
    }
    if !schema.parameters.is_empty() {
        out.extend_from_slice(b",\"parameters\":{");
        for (i, (k, v)) in schema.parameters.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, k);
            out.push(b':');
            write_str(out, v);
        }
        out.push(b'}');
    }
    if let Some(default) = &schema.default {
        out.extend_from_slice(b",\"default\":");
        write_value(out, schema, default);
    }
    if let Some(field) = field {
        out.extend_from_slice(b",\"field\":");
        write_str(out, field);
    }
    out.push(b'}');
}

/// Writes a value as JsonConverter's `convertToJson` does for this schema.
pub fn write_value(out: &mut Vec<u8>, schema: &Schema, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Value::Float32(f) => write_java_float(out, *f),
        Value::Float64(f) => write_java_double(out, *f),
        Value::String(s) => write_str(out, s),
        Value::SharedString(s) => write_str(out, s),
        Value::Bytes(b) => {
            out.push(b'"');
            let start = out.len();
            out.resize(start + base64::encoded_len(b.len(), true).unwrap_or(0), 0);
            let n = base64::engine::general_purpose::STANDARD
                .encode_slice(b, &mut out[start..])
                .unwrap_or(0);
            out.truncate(start + n);
            out.push(b'"');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match &schema.items {
                    Some(s) => write_value(out, s, item),
                    None => write_value(out, schema, item),
                }
            }
            out.push(b']');
        }
        Value::Map(entries) => write_map(out, schema, entries),
        Value::Struct(values) => {
            out.push(b'{');
            for (i, (f, v)) in schema.fields.iter().zip(values).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, &f.name);
                out.push(b':');
                write_value(out, &f.schema, v);
            }
            out.push(b'}');
        }
    }
}

// Connect writes a map with string keys as an object, any other map as [[k,v],...].
fn write_map(out: &mut Vec<u8>, schema: &Schema, entries: &[(Value, Value)]) {
    let string_keys = schema
        .keys
        .as_ref()
        .is_some_and(|k| k.ty == SchemaType::String);
    let key_schema = schema.keys.as_deref().unwrap_or(schema);
    let value_schema = schema.items.as_deref().unwrap_or(schema);
    out.push(if string_keys { b'{' } else { b'[' });
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if string_keys {
            write_value(out, key_schema, k);
            out.push(b':');
            write_value(out, value_schema, v);
        } else {
            out.push(b'[');
            write_value(out, key_schema, k);
            out.push(b',');
            write_value(out, value_schema, v);
            out.push(b']');
        }
    }
    out.push(if string_keys { b'}' } else { b']' });
}

/// A JSON string literal, escaped as Jackson does (control characters as \uXXXX, except the
/// short forms \b \t \n \f \r).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Most strings need no escaping: one scan, one copy.
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                let _ = write!(out, "\\u{:04X}", b);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether any byte must be escaped. Checks 16 bytes at a time without branching inside a
/// block, which the compiler turns into vector compares.
fn needs_escape(bytes: &[u8]) -> bool {
    let special = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        if block.iter().fold(false, |found, &b| found | special(b)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&b| special(b))
}

/// `Double.toString`, which Jackson uses; NaN and infinities become strings (Jackson's
/// QUOTE_NON_NUMERIC_NUMBERS, on by default).
pub fn write_java_double(out: &mut Vec<u8>, f: f64) {
    if !f.is_finite() {
        return write_non_finite(out, f.is_nan(), f > 0.0);
    }
    java_decimal(
        out,
        &format!("{f:e}"),
        f.abs() >= 1e-3 && f.abs() < 1e7 || f == 0.0,
    );
}

/// `Float.toString`, which Jackson uses for float fields.
pub fn write_java_float(out: &mut Vec<u8>, f: f32) {
    if !f.is_finite() {
        return write_non_finite(out, f.is_nan(), f > 0.0);
    }
    java_decimal(
        out,
        &format!("{f:e}"),
        f.abs() >= 1e-3 && f.abs() < 1e7 || f == 0.0,
    );
}

fn write_non_finite(out: &mut Vec<u8>, nan: bool, positive: bool) {
    out.extend_from_slice(match (nan, positive) {
        (true, _) => b"\"NaN\"",
        (false, true) => b"\"Infinity\"",
        (false, false) => b"\"-Infinity\"",
    });
}

// Rust's `{:e}` gives the shortest round-trip digits ("-1.2345e3"); Java prints the same
// digits either as plain decimal (1e-3 <= |x| < 1e7) or as "d.dddE<exp>", always with a
// digit after the point.
fn java_decimal(out: &mut Vec<u8>, sci: &str, plain: bool) {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if neg {
        out.push(b'-');
    }
    if !plain {
        out.push(digits.as_bytes()[0]);
        out.push(b'.');
        if digits.len() > 1 {
            out.extend_from_slice(&digits.as_bytes()[1..]);
        } else {
            out.push(b'0');
        }
        let _ = write!(out, "E{exp}");
        return;
    }
    if exp < 0 {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(digits.as_bytes());
        return;
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        out.extend_from_slice(digits.as_bytes());
        for _ in digits.len()..int_len {
            out.push(b'0');
        }
        out.extend_from_slice(b".0");
    } else {
        out.extend_from_slice(&digits.as_bytes()[..int_len]);
        out.push(b'.');
        out.extend_from_slice(&digits.as_bytes()[int_len..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn double(f: f64) -> String {
        let mut out = Vec::new();
        write_java_double(&mut out, f);
        String::from_utf8(out).unwrap()
    }

    fn float(f: f32) -> String {
        let mut out = Vec::new();
        write_java_float(&mut out, f);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn doubles_print_like_java() {
        // Expected strings are Java's Double.toString / Float.toString output.
        let cases = [
            (3.0, "3.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.5, "1.5"),
            (-123.456, "-123.456"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1234567.0, "1234567.0"),
            (1.0e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (1.0e-10, "1.0E-10"),
            (f64::MAX, "1.7976931348623157E308"),
            (0.1 + 0.2, "0.30000000000000004"),
            (100.0, "100.0"),
        ];
        for (f, want) in cases {
            assert_eq!(double(f), want, "{f:?}");
        }
        assert_eq!(float(3.3), "3.3");
        assert_eq!(float(1.0e10), "1.0E10");
        assert_eq!(float(-7.25), "-7.25");
        assert_eq!(double(f64::NAN), "\"NaN\"");
        assert_eq!(double(f64::INFINITY), "\"Infinity\"");
        assert_eq!(float(f32::NEG_INFINITY), "\"-Infinity\"");
    }

    #[test]
    fn escapes_are_found_anywhere_in_long_strings() {
        for len in [0, 1, 15, 16, 17, 31, 32, 33, 100] {
            let plain = "a".repeat(len);
            assert!(!needs_escape(plain.as_bytes()), "{len}");
            for at in 0..len {
                for special in [b'"', b'\\', b'\n', 0x1f] {
                    let mut bytes = plain.clone().into_bytes();
                    bytes[at] = special;
                    assert!(needs_escape(&bytes), "{len} {at} {special}");
                }
            }
        }
    }

    #[test]
    fn strings_escape_like_jackson() {
        let mut out = Vec::new();
        write_str(&mut out, "a\"b\\c\n\t\u{1}é");
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\n\t\u0001é""#);
    }

    #[test]
    fn struct_with_schema_matches_connect_layout() {
        let key = Arc::new(
            Schema::structure()
                .field(
                    "id",
                    Schema::new(SchemaType::Int32).default_value(Value::Int(0)),
                )
                .named("srv.public.t.Key"),
        );
        let decimal = Schema::new(SchemaType::Bytes)
            .optional()
            .named("org.apache.kafka.connect.data.Decimal")
            .version(1)
            .param("scale", "2")
            .param("connect.decimal.precision", "3");
        let value = Arc::new(
            Schema::structure()
                .field("id", Schema::new(SchemaType::Int32))
                .field("price", decimal)
                .field(
                    "tags",
                    Schema::array(Schema::new(SchemaType::String).optional()).optional(),
                )
                .optional()
                .named("srv.public.t.Value"),
        );
        let conv = JsonConverter::default();
        let k = conv
            .serialize(Some(&Data {
                schema: key,
                value: Value::Struct(vec![Value::Int(7)]),
            }))
            .unwrap();
        assert_eq!(
            String::from_utf8(k).unwrap(),
            r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"default":0,"field":"id"}],"optional":false,"name":"srv.public.t.Key"},"payload":{"id":7}}"#
        );
        let v = JsonConverter {
            schemas_enable: false,
        }
        .serialize(Some(&Data {
            schema: value.clone(),
            value: Value::Struct(vec![
                Value::Int(1),
                Value::Bytes(vec![0x6e]),
                Value::Array(vec![Value::from("a"), Value::Null]),
            ]),
        }))
        .unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            r#"{"id":1,"price":"bg==","tags":["a",null]}"#
        );
        assert_eq!(
            schema_json(&value),
            r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"3"},"field":"price"},{"type":"array","items":{"type":"string","optional":true},"optional":true,"field":"tags"}],"optional":true,"name":"srv.public.t.Value"}"#
        );
        assert_eq!(conv.serialize(None), None);
    }
}
