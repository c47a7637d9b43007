//! Kafka Connect's `JsonConverter`, byte for byte: `{"schema":…,"payload":…}` with
//! `schemas.enable=true`, the bare payload otherwise. Consumers parse this output with Jackson
//! and compare schemas as text, so field order and number formatting must match Connect's.

use std::io::Write;
use std::sync::{Arc, LazyLock};

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
        let schema_len = match (&data.schema, self.schemas_enable) {
            (Some(schema), true) => schema_json(schema).len(),
            _ => 0,
        };
        let mut out = Vec::with_capacity(schema_len + 1024);
        self.serialize_into(&mut out, data);
        Some(out)
    }

    pub fn serialize_into(&self, out: &mut Vec<u8>, data: &Data) {
        if self.schemas_enable {
            out.extend_from_slice(b"{\"schema\":");
            match &data.schema {
                Some(schema) => out.extend_from_slice(schema_json(schema).as_bytes()),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"payload\":");
            write_data(out, data);
            out.push(b'}');
        } else {
            write_data(out, data);
        }
    }

    /// Wraps a payload already written as JSON (`write_value`'s bytes for `schema`) as
    /// `serialize_into` would have written the data itself.
    pub fn write_payload(&self, out: &mut Vec<u8>, schema: Option<&Schema>, payload: &[u8]) {
        if self.schemas_enable {
            out.extend_from_slice(b"{\"schema\":");
            match schema {
                Some(schema) => out.extend_from_slice(schema_json(schema).as_bytes()),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"payload\":");
            out.extend_from_slice(payload);
            out.push(b'}');
        } else {
            out.extend_from_slice(payload);
        }
    }

    /// Connect's `toConnectData`: `None` bytes are a null (tombstone). With schemas enabled
    /// the JSON must be exactly `{"schema":…,"payload":…}`.
    pub fn deserialize(&self, bytes: Option<&[u8]>) -> Result<Option<Data>, ConvertError> {
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let parse_error = |e: serde_json::Error| {
            ConvertError(format!(
                "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
            ))
        };
        let (schema, payload) = if self.schemas_enable {
            let envelope = match serde_json::from_slice::<Envelope<'_>>(bytes) {
                Ok(e) => e,
                // Valid JSON of another shape gets Connect's message; broken JSON the parser's.
                Err(e) if e.is_data() => return Err(ConvertError("JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.".into())),
                Err(e) => return Err(parse_error(e)),
            };
            let payload = serde_json::from_str(envelope.payload.get()).map_err(parse_error)?;
            (cached_schema(envelope.schema.get())?, payload)
        } else {
            (None, serde_json::from_slice(bytes).map_err(parse_error)?)
        };
        let value = to_connect(schema.as_deref(), &payload)?;
        Ok(Some(Data { schema, value }))
    }
}

/// `{"schema":…,"payload":…}` with both parts left as text: the schema is the same bytes for
/// every record of a topic, parsed once (`cached_schema`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(borrow)]
    schema: &'a serde_json::value::RawValue,
    #[serde(borrow)]
    payload: &'a serde_json::value::RawValue,
}

/// Schemas parsed from their JSON text, per thread: a sink reading a topic sees the same
/// schema text on every record.
fn cached_schema(text: &str) -> Result<Option<Arc<Schema>>, ConvertError> {
    thread_local! {
        static SCHEMAS: std::cell::RefCell<std::collections::HashMap<Box<str>, Arc<Schema>>> =
            std::cell::RefCell::default();
    }
    if text == "null" {
        return Ok(None);
    }
    if let Some(hit) = SCHEMAS.with_borrow(|m| m.get(text).cloned()) {
        return Ok(Some(hit));
    }
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        ConvertError(format!(
            "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
        ))
    })?;
    if json.is_null() {
        return Ok(None);
    }
    let schema = Arc::new(parse_schema(&json)?);
    SCHEMAS.with_borrow_mut(|m| {
        // A bound, for topics whose schema changes often.
        if m.len() >= 256 {
            m.clear();
        }
        m.insert(text.into(), schema.clone());
    });
    Ok(Some(schema))
}

/// Connect data that does not fit the converter (Connect's `DataException`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ConvertError(pub String);

/// The converters a connector config can name (`key.converter`, `value.converter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Converter {
    /// `org.apache.kafka.connect.json.JsonConverter`
    Json(JsonConverter),
    /// `org.apache.kafka.connect.converters.ByteArrayConverter`: bytes as they are (the
    /// dead letter queue writes records with it, as Connect does).
    ByteArray,
    /// `org.apache.kafka.connect.storage.StringConverter`
    String,
}

impl Default for Converter {
    fn default() -> Self {
        Converter::Json(JsonConverter::default())
    }
}

impl Converter {
    pub fn serialize(&self, data: Option<&Data>) -> Result<Option<Vec<u8>>, ConvertError> {
        let Some(data) = data else { return Ok(None) };
        match self {
            Converter::Json(j) => Ok(j.serialize(Some(data))),
            Converter::ByteArray => match &data.value {
                Value::Null => Ok(None),
                Value::Bytes(b) => Ok(Some(b.clone())),
                _ => Err(ConvertError(
                    "ByteArrayConverter is not compatible with objects of type other than byte[]"
                        .into(),
                )),
            },
            Converter::String => match &data.value {
                Value::Null => Ok(None),
                v => Ok(Some(display_value(data.schema.as_deref(), v).into_bytes())),
            },
        }
    }

    /// Serializes into `out` (JSON straight into the buffer, the hot path of local topics).
    pub fn serialize_into(&self, out: &mut Vec<u8>, data: &Data) -> Result<(), ConvertError> {
        match self {
            Converter::Json(j) => {
                j.serialize_into(out, data);
                Ok(())
            }
            _ => {
                if let Some(bytes) = self.serialize(Some(data))? {
                    out.extend_from_slice(&bytes);
                }
                Ok(())
            }
        }
    }

    pub fn deserialize(&self, bytes: Option<&[u8]>) -> Result<Option<Data>, ConvertError> {
        let Some(bytes) = bytes else { return Ok(None) };
        match self {
            Converter::Json(j) => j.deserialize(Some(bytes)),
            Converter::ByteArray => Ok(Some(Data::new(
                Schema::new(SchemaType::Bytes).optional(),
                Value::Bytes(bytes.to_vec()),
            ))),
            Converter::String => Ok(Some(Data::new(
                Schema::new(SchemaType::String).optional(),
                Value::String(String::from_utf8_lossy(bytes).into_owned()),
            ))),
        }
    }

    /// Whether what this converter writes is JSON text (local topics embed it as is).
    pub fn writes_json(&self) -> bool {
        matches!(self, Converter::Json(_))
    }

    /// The JSON converter, when this is one.
    pub fn as_json(&self) -> Option<JsonConverter> {
        match self {
            Converter::Json(j) => Some(*j),
            _ => None,
        }
    }
}

/// A value as Java's `toString` shows Connect data (`Struct{a=1,b=x}`, `{k=v}`, `[1, 2]`),
/// as the StringConverter and the file sink print it. Bytes, which Java shows as an object
/// identity, are shown as base64.
pub fn display_value(schema: Option<&Schema>, value: &Value) -> String {
    let mut out = String::new();
    display_into(&mut out, schema, value);
    out
}

fn display_into(out: &mut String, schema: Option<&Schema>, value: &Value) {
    use std::fmt::Write as _;
    match value {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float32(f) => {
            let mut b = Vec::new();
            write_java_float(&mut b, *f);
            out.push_str(String::from_utf8_lossy(&b).trim_matches('"'));
        }
        Value::Float64(f) => {
            let mut b = Vec::new();
            write_java_double(&mut b, *f);
            out.push_str(String::from_utf8_lossy(&b).trim_matches('"'));
        }
        Value::String(s) => out.push_str(s),
        Value::SharedString(s) => out.push_str(s),
        Value::Bytes(b) => out.push_str(&base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                display_into(out, schema.and_then(|s| s.items.as_deref()), v);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                display_into(out, schema.and_then(|s| s.keys.as_deref()), k);
                out.push('=');
                display_into(out, schema.and_then(|s| s.items.as_deref()), v);
            }
            out.push('}');
        }
        Value::Struct(values) => {
            // Connect's Struct.toString: fields with a null value are left out.
            out.push_str("Struct{");
            let mut first = true;
            if let Some(schema) = schema {
                for (f, v) in schema.fields.iter().zip(values) {
                    if v.is_null() {
                        continue;
                    }
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str(&f.name);
                    out.push('=');
                    display_into(out, Some(&f.schema), v);
                }
            }
            out.push('}');
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

/// Writes a value with its schema, or as schemaless data when it has none.
pub fn write_data(out: &mut Vec<u8>, data: &Data) {
    match &data.schema {
        Some(schema) => write_value(out, schema, &data.value),
        None => write_schemaless(out, &data.value),
    }
}

/// Schemaless data as `convertToJson(null, value)` writes it: a map whose keys are all
/// strings is an object, any other map a list of `[key, value]` pairs.
pub fn write_schemaless(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_schemaless(out, item);
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            let string_keys = entries.iter().all(|(k, _)| k.as_str().is_some());
            out.push(if string_keys { b'{' } else { b'[' });
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if string_keys {
                    write_schemaless(out, k);
                    out.push(b':');
                    write_schemaless(out, v);
                } else {
                    out.push(b'[');
                    write_schemaless(out, k);
                    out.push(b',');
                    write_schemaless(out, v);
                    out.push(b']');
                }
            }
            out.push(if string_keys { b'}' } else { b']' });
        }
        // A struct cannot be written without its schema; Connect refuses it too.
        Value::Struct(_) => out.extend_from_slice(b"null"),
        other => write_value(out, &SCHEMALESS, other),
    }
}

static SCHEMALESS: LazyLock<Schema> = LazyLock::new(|| Schema::new(SchemaType::String));

/// Parses a schema as JsonConverter's `asConnectSchema` does.
pub fn parse_schema(json: &serde_json::Value) -> Result<Schema, ConvertError> {
    let obj = json
        .as_object()
        .ok_or_else(|| ConvertError("Schema must be a JSON object".into()))?;
    let ty_name = obj
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or_else(|| ConvertError("Schema must contain 'type' field".into()))?;
    let ty = match ty_name {
        "boolean" => SchemaType::Boolean,
        "int8" => SchemaType::Int8,
        "int16" => SchemaType::Int16,
        "int32" => SchemaType::Int32,
        "int64" => SchemaType::Int64,
        "float" => SchemaType::Float32,
        "double" => SchemaType::Float64,
        "bytes" => SchemaType::Bytes,
        "string" => SchemaType::String,
        "array" => SchemaType::Array,
        "map" => SchemaType::Map,
        "struct" => SchemaType::Struct,
        other => return Err(ConvertError(format!("Unknown schema type: {other}"))),
    };
    let mut schema = Schema::new(ty);
    match ty {
        SchemaType::Struct => {
            let fields = obj
                .get("fields")
                .and_then(|f| f.as_array())
                .ok_or_else(|| {
                    ConvertError("Struct schema's \"fields\" argument is not an array.".into())
                })?;
            for f in fields {
                let name = f.get("field").and_then(|n| n.as_str()).ok_or_else(|| {
                    ConvertError("Struct schema's field name not specified properly".into())
                })?;
                schema = schema.field(name, parse_schema(f)?);
            }
        }
        SchemaType::Array => {
            let items = obj.get("items").ok_or_else(|| {
                ConvertError("Array schema did not specify the element type".into())
            })?;
            schema.items = Some(Arc::new(parse_schema(items)?));
        }
        SchemaType::Map => {
            let keys = obj
                .get("keys")
                .ok_or_else(|| ConvertError("Map schema did not specify the key type".into()))?;
            let values = obj
                .get("values")
                .ok_or_else(|| ConvertError("Map schema did not specify the value type".into()))?;
            schema.keys = Some(Arc::new(parse_schema(keys)?));
            schema.items = Some(Arc::new(parse_schema(values)?));
        }
        _ => {}
    }
    schema.optional = obj.get("optional").and_then(|o| o.as_bool()) == Some(true);
    schema.name = obj.get("name").and_then(|n| n.as_str()).map(str::to_owned);
    schema.version = obj
        .get("version")
        .and_then(|v| v.as_i64())
        .and_then(|v| i32::try_from(v).ok());
    schema.doc = obj.get("doc").and_then(|d| d.as_str()).map(str::to_owned);
    if let Some(params) = obj.get("parameters") {
        let params = params
            .as_object()
            .ok_or_else(|| ConvertError("Schema parameters must be a JSON object".into()))?;
        for (k, v) in params {
            let v = v
                .as_str()
                .ok_or_else(|| ConvertError("Schema parameters must be strings".into()))?;
            schema.parameters.push((k.clone(), v.to_owned()));
        }
    }
    if let Some(default) = obj.get("default").filter(|d| !d.is_null()) {
        schema.default = Some(to_connect(Some(&schema), default)?);
    }
    Ok(schema)
}

/// A JSON payload as Connect data (`convertToConnect`). Like Connect, numbers are not range
/// checked against the integer type, and a missing required value is an error.
pub fn to_connect(
    schema: Option<&Schema>,
    json: &serde_json::Value,
) -> Result<Value, ConvertError> {
    use serde_json::Value as J;
    let Some(schema) = schema else {
        return Ok(match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Boolean(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float64(n.as_f64().unwrap_or(0.0)),
            },
            J::String(s) => Value::String(s.clone()),
            J::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| to_connect(None, i))
                    .collect::<Result<_, _>>()?,
            ),
            J::Object(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| Ok((Value::String(k.clone()), to_connect(None, v)?)))
                    .collect::<Result<_, ConvertError>>()?,
            ),
        });
    };
    if json.is_null() {
        if let Some(d) = &schema.default {
            return Ok(d.clone());
        }
        if schema.optional {
            return Ok(Value::Null);
        }
        return Err(ConvertError(format!(
            "Invalid null value for required {} field",
            schema.ty.json_name().to_uppercase()
        )));
    }
    let int = || {
        json.as_i64()
            .or_else(|| json.as_f64().map(|f| f as i64))
            .unwrap_or(0)
    };
    let float = || json.as_f64().unwrap_or(0.0);
    Ok(match schema.ty {
        SchemaType::Boolean => Value::Boolean(json.as_bool().unwrap_or(false)),
        SchemaType::Int8 => Value::Int(int() as i8 as i64),
        SchemaType::Int16 => Value::Int(int() as i16 as i64),
        SchemaType::Int32 => Value::Int(int() as i32 as i64),
        SchemaType::Int64 => Value::Int(int()),
        SchemaType::Float32 => {
            Value::Float32(java_number_or_special(json).map_or(float() as f32, |f| f as f32))
        }
        SchemaType::Float64 => Value::Float64(java_number_or_special(json).unwrap_or_else(float)),
        SchemaType::String => match json.as_str() {
            Some(s) => Value::String(s.to_owned()),
            None => Value::Null,
        },
        SchemaType::Bytes => match json {
            J::String(s) => Value::Bytes(
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| ConvertError(format!("Invalid bytes field: {e}")))?,
            ),
            // Decimals may also arrive as numbers (decimal.format=NUMERIC).
            J::Number(n) if schema.name.as_deref() == Some(crate::logical::DECIMAL) => {
                let scale = crate::logical::decimal_scale(schema).unwrap_or(0);
                Value::Bytes(
                    crate::logical::decimal_from_text(&n.to_string(), scale).ok_or_else(|| {
                        ConvertError(format!("Invalid decimal {n} for scale {scale}"))
                    })?,
                )
            }
            _ => return Err(ConvertError("Invalid bytes field".into())),
        },
        SchemaType::Array => {
            let items = schema.items.as_deref();
            Value::Array(
                json.as_array()
                    .map(|a| {
                        a.iter()
                            .map(|i| to_connect(items, i))
                            .collect::<Result<_, _>>()
                    })
                    .transpose()?
                    .unwrap_or_default(),
            )
        }
        SchemaType::Map => {
            let (keys, values) = (schema.keys.as_deref(), schema.items.as_deref());
            match json {
                J::Object(m) => Value::Map(
                    m.iter()
                        .map(|(k, v)| Ok((to_connect(keys, &J::String(k.clone()))?, to_connect(values, v)?)))
                        .collect::<Result<_, ConvertError>>()?,
                ),
                J::Array(pairs) => Value::Map(
                    pairs
                        .iter()
                        .map(|p| match p.as_array().map(Vec::as_slice) {
                            Some([k, v]) => Ok((to_connect(keys, k)?, to_connect(values, v)?)),
                            _ => Err(ConvertError("Found invalid map entry instead of array tuple".into())),
                        })
                        .collect::<Result<_, _>>()?,
                ),
                _ => return Err(ConvertError("Maps with non-string fields should be encoded as JSON array of tuples, but found ".to_owned() + json_type(json))),
            }
        }
        SchemaType::Struct => {
            let J::Object(m) = json else {
                return Err(ConvertError(format!(
                    "Structs should be encoded as JSON objects, but found {}",
                    json_type(json)
                )));
            };
            Value::Struct(
                schema
                    .fields
                    .iter()
                    .map(|f| to_connect(Some(&f.schema), m.get(&f.name).unwrap_or(&J::Null)))
                    .collect::<Result<_, _>>()?,
            )
        }
    })
}

// Jackson writes NaN and infinities as strings; read them back the same way.
fn java_number_or_special(json: &serde_json::Value) -> Option<f64> {
    match json.as_str()? {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

fn json_type(json: &serde_json::Value) -> &'static str {
    match json {
        serde_json::Value::Null => "NULL",
        serde_json::Value::Bool(_) => "BOOLEAN",
        serde_json::Value::Number(_) => "NUMBER",
        serde_json::Value::String(_) => "STRING",
        serde_json::Value::Array(_) => "ARRAY",
        serde_json::Value::Object(_) => "OBJECT",
    }
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
                schema: Some(key),
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
            schema: Some(value.clone()),
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

    #[test]
    fn to_connect_data_round_trips_with_and_without_schemas() {
        let conv = JsonConverter::default();
        let text = r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"price"},{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int64","optional":true},"optional":true,"field":"m"},{"type":"double","optional":true,"field":"d"}],"optional":true,"name":"t.Value"},"payload":{"id":7,"price":"bg==","m":{"a":1,"b":null},"d":"NaN"}}"#;
        let data = conv.deserialize(Some(text.as_bytes())).unwrap().unwrap();
        let schema = data.schema.clone().unwrap();
        assert_eq!(
            schema.fields[1].schema.parameters,
            vec![("scale".to_string(), "2".to_string())]
        );
        match &data.value {
            Value::Struct(v) => {
                assert_eq!(v[0], Value::Int(7));
                assert_eq!(v[1], Value::Bytes(vec![0x6e]));
                assert!(matches!(v[3], Value::Float64(f) if f.is_nan()));
            }
            other => panic!("{other:?}"),
        }
        // What comes back out is the same text, byte for byte.
        assert_eq!(
            String::from_utf8(conv.serialize(Some(&data)).unwrap()).unwrap(),
            text
        );

        let plain = JsonConverter {
            schemas_enable: false,
        };
        let data = plain
            .deserialize(Some(br#"{"a":1,"b":[1.5,"x",null],"c":{"d":true}}"#))
            .unwrap()
            .unwrap();
        assert!(data.schema.is_none());
        assert_eq!(
            String::from_utf8(plain.serialize(Some(&data)).unwrap()).unwrap(),
            r#"{"a":1,"b":[1.5,"x",null],"c":{"d":true}}"#
        );
        assert_eq!(plain.deserialize(None).unwrap(), None);
        let with_null_schema = conv.serialize(Some(&data)).unwrap();
        assert!(String::from_utf8(with_null_schema)
            .unwrap()
            .starts_with(r#"{"schema":null,"payload":{"a":1"#));
    }

    #[test]
    fn to_connect_data_errors_like_connect() {
        let conv = JsonConverter::default();
        let err = conv.deserialize(Some(br#"{"a":1}"#)).unwrap_err();
        assert!(
            err.0.contains("requires \"schema\" and \"payload\" fields"),
            "{err}"
        );
        let err = conv
            .deserialize(Some(
                br#"{"schema":{"type":"int32","optional":false},"payload":null}"#,
            ))
            .unwrap_err();
        assert_eq!(err.0, "Invalid null value for required INT32 field");
        let err = conv.deserialize(Some(b"{not json")).unwrap_err();
        assert!(err.0.contains("serialization error"), "{err}");
        let err = conv
            .deserialize(Some(
                br#"{"schema":{"type":"struct","fields":[],"optional":false},"payload":[1]}"#,
            ))
            .unwrap_err();
        assert_eq!(
            err.0,
            "Structs should be encoded as JSON objects, but found ARRAY"
        );
    }

    #[test]
    fn structs_display_as_java_to_string() {
        let schema = Schema::structure()
            .field("id", Schema::new(SchemaType::Int32))
            .field("name", Schema::new(SchemaType::String).optional())
            .field("gone", Schema::new(SchemaType::String).optional())
            .field("f", Schema::new(SchemaType::Float64));
        let v = Value::Struct(vec![
            Value::Int(1),
            "x".into(),
            Value::Null,
            Value::Float64(2.0),
        ]);
        assert_eq!(
            display_value(Some(&schema), &v),
            "Struct{id=1,name=x,f=2.0}"
        );
    }
}
