//! The bytes of one object, as Confluent's format classes write them: JSON lines (JsonConverter
//! without schemas), Parquet (column types from the Connect schema, as AvroData + parquet-avro
//! derive them), Avro object container files, and raw bytes. A file holds records of one value
//! schema (a schema change rolls the file first), and the same records always give the same
//! bytes: no clocks, no random sync markers, no hash-map order.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::BooleanBufferBuilder;
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int32Array, Int64Array, ListArray, RecordBatch, StringArray, StructArray,
    Time32MillisecondArray, TimestampMillisecondArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, TimeUnit};
use sluice_config::s3::{AvroCodec, Format, ParquetCodec, S3SinkConfig};
use sluice_core::data::{Data, Schema, SchemaType, Value};
use sluice_core::logical::{self, DECIMAL_PRECISION};
use sluice_core::record::Record;

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// This record cannot go into this format (the error policy decides what happens to it).
    #[error("{0}")]
    Record(String),
    /// The file as a whole could not be encoded.
    #[error("{0}")]
    File(String),
}

/// The settings a file writer needs.
#[derive(Debug, Clone)]
pub struct FormatSettings {
    pub format: Format,
    pub parquet_codec: ParquetCodec,
    pub avro_codec: AvroCodec,
    pub gzip_level: Option<i64>,
    pub bytearray_extension: String,
    pub bytearray_separator: Vec<u8>,
    pub connect_meta_data: bool,
}

impl FormatSettings {
    pub fn from_config(c: &S3SinkConfig) -> Self {
        FormatSettings {
            format: c.format,
            parquet_codec: c.parquet_codec,
            avro_codec: c.avro_codec,
            gzip_level: c.gzip_level,
            bytearray_extension: c.bytearray_extension.clone(),
            bytearray_separator: c.bytearray_separator.clone(),
            connect_meta_data: c.connect_meta_data,
        }
    }

    /// The object name's extension (`RecordWriterProvider.getExtension`).
    pub fn extension(&self) -> String {
        let gz = if self.gzip_level.is_some() { ".gz" } else { "" };
        match self.format {
            Format::Json => format!(".json{gz}"),
            Format::ByteArray => format!("{}{gz}", self.bytearray_extension),
            Format::Avro => ".avro".into(),
            Format::Parquet => {
                let codec = match self.parquet_codec {
                    ParquetCodec::None => "",
                    ParquetCodec::Snappy => ".snappy",
                    ParquetCodec::Gzip => ".gz",
                    ParquetCodec::Lz4 => ".lz4hadoop",
                    ParquetCodec::Lz4Raw => ".lz4raw",
                    ParquetCodec::Zstd => ".zstd",
                };
                format!("{codec}.parquet")
            }
        }
    }
}

/// An open file: records go in one by one, the object's bytes come out at the end.
pub enum FileWriter {
    /// JSON lines or raw bytes with separators, gzipped or not.
    Lines {
        json: bool,
        separator: Vec<u8>,
        out: LineOut,
    },
    /// Rows kept until the file is closed: Parquet and Avro write a file at once.
    Rows {
        schema: Arc<Schema>,
        rows: Vec<Value>,
    },
}

pub enum LineOut {
    Plain(Vec<u8>),
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
}

impl LineOut {
    fn write(&mut self, bytes: &[u8]) {
        // Writing into memory cannot fail.
        let _ = match self {
            LineOut::Plain(v) => v.write_all(bytes),
            LineOut::Gzip(g) => g.write_all(bytes),
        };
    }
}

impl FileWriter {
    /// A new file for `first`'s value schema (which decides Parquet and Avro columns).
    pub fn new(settings: &FormatSettings, first: &Record) -> Result<Self, FormatError> {
        Ok(match settings.format {
            Format::Json | Format::ByteArray => FileWriter::Lines {
                json: settings.format == Format::Json,
                separator: if settings.format == Format::Json {
                    b"\n".to_vec()
                } else {
                    settings.bytearray_separator.clone()
                },
                out: match settings.gzip_level {
                    None => LineOut::Plain(Vec::new()),
                    Some(level) => {
                        let level = if level < 0 { 6 } else { level as u32 };
                        LineOut::Gzip(flate2::write::GzEncoder::new(
                            Vec::new(),
                            flate2::Compression::new(level),
                        ))
                    }
                },
            },
            Format::Parquet | Format::Avro => {
                let what = if settings.format == Format::Parquet {
                    "ParquetFormat"
                } else {
                    "AvroFormat"
                };
                match first.value.as_ref() {
                    Some(Data { schema: Some(schema), value: Value::Struct(_) })
                        if schema.ty == SchemaType::Struct =>
                    {
                        FileWriter::Rows { schema: schema.clone(), rows: Vec::new() }
                    }
                    Some(Data { schema: None, .. }) => {
                        return Err(FormatError::Record(format!(
                            "{what} needs records with a value schema, and this record has none (schemaless JSON): set value.converter.schemas.enable=true on data written with schemas"
                        )))
                    }
                    _ => {
                        return Err(FormatError::Record(format!(
                            "{what} writes Struct values; this record's value is not a Struct"
                        )))
                    }
                }
            }
        })
    }

    pub fn write(&mut self, record: &Record) -> Result<(), FormatError> {
        match self {
            FileWriter::Lines {
                json,
                separator,
                out,
            } => {
                let mut line = Vec::new();
                match (&record.value, *json) {
                    (Some(data), true) => sluice_core::json::write_data(&mut line, data),
                    (None, true) => line.extend_from_slice(b"null"),
                    (Some(Data { value: Value::Bytes(b), .. }), false) => line.extend_from_slice(b),
                    (None, false) => {}
                    (Some(_), false) => {
                        return Err(FormatError::Record(
                            "ByteArrayFormat writes bytes values; set value.converter=org.apache.kafka.connect.converters.ByteArrayConverter".into(),
                        ))
                    }
                }
                line.extend_from_slice(separator);
                out.write(&line);
                Ok(())
            }
            FileWriter::Rows { schema, rows } => match &record.value {
                Some(Data {
                    schema: Some(s),
                    value,
                }) if Arc::ptr_eq(s, schema) || **s == **schema => {
                    rows.push(value.clone());
                    Ok(())
                }
                _ => Err(FormatError::Record(
                    "the record's value schema differs from the open file's".into(),
                )),
            },
        }
    }

    /// The object's bytes. `key` seeds what a format needs to be unique per file yet
    /// repeatable (Avro's sync marker).
    pub fn finish(self, settings: &FormatSettings, key: &str) -> Result<Vec<u8>, FormatError> {
        match self {
            FileWriter::Lines { out, .. } => Ok(match out {
                LineOut::Plain(v) => v,
                LineOut::Gzip(g) => g.finish().map_err(|e| FormatError::File(e.to_string()))?,
            }),
            FileWriter::Rows { schema, rows } => match settings.format {
                Format::Avro => avro_file(&schema, &rows, settings, key),
                _ => parquet_file(&schema, &rows, settings.parquet_codec),
            },
        }
    }
}

// ---- Parquet ----

/// The Arrow type of a Connect schema, as parquet-avro would store AvroData's Avro type:
/// int8/int16 widen to int32, Decimal is a decimal, Date/Time/Timestamp are logical columns.
fn arrow_type(s: &Schema) -> Result<DataType, FormatError> {
    Ok(match (s.ty, s.name.as_deref()) {
        (SchemaType::Bytes, Some(logical::DECIMAL)) => {
            let scale = logical::decimal_scale(s).unwrap_or(0);
            let precision = s
                .parameter(DECIMAL_PRECISION)
                .and_then(|v| v.parse::<u8>().ok())
                .unwrap_or(38)
                .clamp(1, 38);
            DataType::Decimal128(precision.max(scale.clamp(0, 38) as u8), scale as i8)
        }
        (SchemaType::Int32, Some(logical::DATE)) => DataType::Date32,
        (SchemaType::Int32, Some(logical::TIME)) => DataType::Time32(TimeUnit::Millisecond),
        (SchemaType::Int64, Some(logical::TIMESTAMP)) => {
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        }
        (SchemaType::Int8 | SchemaType::Int16 | SchemaType::Int32, _) => DataType::Int32,
        (SchemaType::Int64, _) => DataType::Int64,
        (SchemaType::Float32, _) => DataType::Float32,
        (SchemaType::Float64, _) => DataType::Float64,
        (SchemaType::Boolean, _) => DataType::Boolean,
        (SchemaType::String, _) => DataType::Utf8,
        (SchemaType::Bytes, _) => DataType::Binary,
        (SchemaType::Struct, _) => DataType::Struct(arrow_fields(s)?),
        (SchemaType::Array, _) => {
            let items = s
                .items
                .as_deref()
                .ok_or_else(|| FormatError::File("array without items".into()))?;
            DataType::List(Arc::new(Field::new(
                "element",
                arrow_type(items)?,
                items.optional,
            )))
        }
        (SchemaType::Map, _) => {
            return Err(FormatError::Record(
                "map values are not written to Parquet by Sluice yet".into(),
            ))
        }
    })
}

fn arrow_fields(s: &Schema) -> Result<Fields, FormatError> {
    s.fields
        .iter()
        .map(|f| {
            Ok(Field::new(
                &f.name,
                arrow_type(&f.schema)?,
                f.schema.optional,
            ))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Fields::from)
}

static NULL: Value = Value::Null;

fn nulls(values: &[&Value]) -> Option<NullBuffer> {
    if values.iter().all(|v| !v.is_null()) {
        return None;
    }
    let mut b = BooleanBufferBuilder::new(values.len());
    for v in values {
        b.append(!v.is_null());
    }
    Some(NullBuffer::new(b.finish()))
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        _ => None,
    }
}

/// One column of `values` (all of schema `s`; nulls where absent).
fn arrow_array(s: &Schema, values: &[&Value]) -> Result<ArrayRef, FormatError> {
    let ty = arrow_type(s)?;
    let bad = |what: &str| FormatError::Record(format!("a value does not match its {what} schema"));
    Ok(match ty {
        DataType::Int32 => Arc::new(Int32Array::from_iter(
            values.iter().map(|v| int(v).map(|n| n as i32)),
        )),
        DataType::Int64 => Arc::new(Int64Array::from_iter(values.iter().map(|v| int(v)))),
        DataType::Date32 => Arc::new(Date32Array::from_iter(
            values.iter().map(|v| int(v).map(|n| n as i32)),
        )),
        DataType::Time32(_) => Arc::new(Time32MillisecondArray::from_iter(
            values.iter().map(|v| int(v).map(|n| n as i32)),
        )),
        DataType::Timestamp(_, _) => Arc::new(
            TimestampMillisecondArray::from_iter(values.iter().map(|v| int(v)))
                .with_timezone("UTC"),
        ),
        DataType::Float32 => Arc::new(Float32Array::from_iter(values.iter().map(|v| match v {
            Value::Float32(f) => Some(*f),
            Value::Float64(f) => Some(*f as f32),
            _ => None,
        }))),
        DataType::Float64 => Arc::new(Float64Array::from_iter(values.iter().map(|v| match v {
            Value::Float64(f) => Some(*f),
            Value::Float32(f) => Some(f64::from(*f)),
            _ => None,
        }))),
        DataType::Boolean => Arc::new(BooleanArray::from_iter(values.iter().map(|v| match v {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }))),
        DataType::Utf8 => Arc::new(StringArray::from_iter(values.iter().map(|v| v.as_str()))),
        DataType::Binary => Arc::new(BinaryArray::from_iter(values.iter().map(|v| match v {
            Value::Bytes(b) => Some(b.as_slice()),
            _ => None,
        }))),
        DataType::Decimal128(p, sc) => {
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                out.push(match v {
                    Value::Bytes(b) => Some(unscaled_i128(b).ok_or_else(|| bad("Decimal"))?),
                    _ => None,
                });
            }
            Arc::new(
                Decimal128Array::from_iter(out)
                    .with_precision_and_scale(p, sc)
                    .map_err(|e| FormatError::Record(e.to_string()))?,
            )
        }
        DataType::Struct(fields) => {
            let mut columns = Vec::with_capacity(s.fields.len());
            for (i, f) in s.fields.iter().enumerate() {
                let child: Vec<&Value> = values
                    .iter()
                    .map(|v| match v {
                        Value::Struct(vs) => vs.get(i).unwrap_or(&NULL),
                        _ => &NULL,
                    })
                    .collect();
                columns.push(arrow_array(&f.schema, &child)?);
            }
            Arc::new(
                StructArray::try_new(fields, columns, nulls(values))
                    .map_err(|e| FormatError::Record(e.to_string()))?,
            )
        }
        DataType::List(field) => {
            let items = s.items.as_deref().ok_or_else(|| bad("array"))?;
            let mut offsets = vec![0i32];
            let mut flat: Vec<&Value> = Vec::new();
            for v in values {
                if let Value::Array(xs) = v {
                    flat.extend(xs.iter());
                }
                offsets.push(flat.len() as i32);
            }
            let child = arrow_array(items, &flat)?;
            Arc::new(
                ListArray::try_new(
                    field,
                    OffsetBuffer::new(offsets.into()),
                    child,
                    nulls(values),
                )
                .map_err(|e| FormatError::Record(e.to_string()))?,
            )
        }
        other => return Err(FormatError::File(format!("no Parquet column for {other}"))),
    })
}

/// Big-endian two's complement bytes (Connect's Decimal) as an i128.
fn unscaled_i128(b: &[u8]) -> Option<i128> {
    if b.len() > 16 {
        return None;
    }
    let fill = if b.first().is_some_and(|x| x & 0x80 != 0) {
        0xff
    } else {
        0
    };
    let mut buf = [fill; 16];
    buf[16 - b.len()..].copy_from_slice(b);
    Some(i128::from_be_bytes(buf))
}

fn parquet_file(
    schema: &Schema,
    rows: &[Value],
    codec: ParquetCodec,
) -> Result<Vec<u8>, FormatError> {
    use parquet::basic::{Compression, GzipLevel, ZstdLevel};
    let refs: Vec<&Value> = rows.iter().collect();
    let root = arrow_array(schema, &refs)?;
    let root = root
        .as_any()
        .downcast_ref::<StructArray>()
        .ok_or_else(|| FormatError::File("the value schema is not a struct".into()))?;
    let batch = RecordBatch::from(root.clone());
    let compression = match codec {
        ParquetCodec::None => Compression::UNCOMPRESSED,
        ParquetCodec::Snappy => Compression::SNAPPY,
        ParquetCodec::Gzip => Compression::GZIP(GzipLevel::default()),
        ParquetCodec::Lz4 => Compression::LZ4,
        ParquetCodec::Lz4Raw => Compression::LZ4_RAW,
        ParquetCodec::Zstd => Compression::ZSTD(ZstdLevel::default()),
    };
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(compression)
        .build();
    let file_err = |e: parquet::errors::ParquetError| FormatError::File(format!("Parquet: {e}"));
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), Some(props))
        .map_err(file_err)?;
    w.write(&batch).map_err(file_err)?;
    w.close().map_err(file_err)?;
    Ok(out)
}

// ---- Avro ----

/// The Avro schema AvroData derives from a Connect schema (with `connect.*` properties when
/// `connect.meta.data` is on). A named record already defined is referred to by name.
fn avro_schema(
    s: &Schema,
    meta: bool,
    defined: &mut Vec<String>,
    unnamed: &mut u32,
) -> serde_json::Value {
    use serde_json::{json, Map, Value as J};
    let mut props = Map::new();
    let base = match (s.ty, s.name.as_deref()) {
        (SchemaType::Bytes, Some(logical::DECIMAL)) => {
            let scale = logical::decimal_scale(s).unwrap_or(0);
            let precision = s
                .parameter(DECIMAL_PRECISION)
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(64);
            props.insert("type".into(), json!("bytes"));
            props.insert("scale".into(), json!(scale));
            props.insert("precision".into(), json!(precision));
            props.insert("logicalType".into(), json!("decimal"));
            None
        }
        (SchemaType::Int32, Some(logical::DATE)) => {
            props.insert("type".into(), json!("int"));
            props.insert("logicalType".into(), json!("date"));
            None
        }
        (SchemaType::Int32, Some(logical::TIME)) => {
            props.insert("type".into(), json!("int"));
            props.insert("logicalType".into(), json!("time-millis"));
            None
        }
        (SchemaType::Int64, Some(logical::TIMESTAMP)) => {
            props.insert("type".into(), json!("long"));
            props.insert("logicalType".into(), json!("timestamp-millis"));
            None
        }
        (SchemaType::Int8, _) => {
            props.insert("type".into(), json!("int"));
            props.insert("connect.type".into(), json!("int8"));
            None
        }
        (SchemaType::Int16, _) => {
            props.insert("type".into(), json!("int"));
            props.insert("connect.type".into(), json!("int16"));
            None
        }
        (SchemaType::Int32, _) => Some("int"),
        (SchemaType::Int64, _) => Some("long"),
        (SchemaType::Float32, _) => Some("float"),
        (SchemaType::Float64, _) => Some("double"),
        (SchemaType::Boolean, _) => Some("boolean"),
        (SchemaType::String, _) => Some("string"),
        (SchemaType::Bytes, _) => Some("bytes"),
        (SchemaType::Array, _) => {
            let items = s
                .items
                .as_deref()
                .map_or(J::Null, |i| avro_type(i, meta, defined, unnamed));
            props.insert("type".into(), json!("array"));
            props.insert("items".into(), items);
            None
        }
        (SchemaType::Map, _) => {
            let values = s
                .items
                .as_deref()
                .map_or(J::Null, |i| avro_type(i, meta, defined, unnamed));
            props.insert("type".into(), json!("map"));
            props.insert("values".into(), values);
            None
        }
        (SchemaType::Struct, name) => {
            let full = match name {
                Some(n) => n.to_owned(),
                None => {
                    *unnamed += 1;
                    match *unnamed {
                        1 => "io.confluent.connect.avro.ConnectDefault".to_owned(),
                        n => format!("io.confluent.connect.avro.ConnectDefault{n}"),
                    }
                }
            };
            if defined.contains(&full) {
                return json!(full);
            }
            defined.push(full.clone());
            let (namespace, simple) = match full.rsplit_once('.') {
                Some((ns, n)) => (Some(ns), n),
                None => (None, full.as_str()),
            };
            props.insert("type".into(), json!("record"));
            props.insert("name".into(), json!(simple));
            if let Some(ns) = namespace {
                props.insert("namespace".into(), json!(ns));
            }
            let fields: Vec<J> = s
                .fields
                .iter()
                .map(|f| {
                    let mut field = Map::new();
                    field.insert("name".into(), json!(f.name));
                    field.insert("type".into(), avro_type(&f.schema, meta, defined, unnamed));
                    if f.schema.optional {
                        field.insert("default".into(), J::Null);
                    }
                    J::Object(field)
                })
                .collect();
            props.insert("fields".into(), J::Array(fields));
            None
        }
    };
    if meta {
        if let Some(v) = s.version {
            props.insert("connect.version".into(), json!(v));
        }
        if let Some(d) = &s.doc {
            props.insert("connect.doc".into(), json!(d));
        }
        if !s.parameters.is_empty() {
            let params: Map<String, J> = s
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            props.insert("connect.parameters".into(), J::Object(params));
        }
        if let Some(n) = &s.name {
            props.insert("connect.name".into(), json!(n));
        }
    }
    match base {
        Some(t) if props.is_empty() => json!(t),
        Some(t) => {
            props.insert("type".into(), json!(t));
            J::Object(props)
        }
        None => J::Object(props),
    }
}

/// A field's type: optional ones are `["null", T]`.
fn avro_type(
    s: &Schema,
    meta: bool,
    defined: &mut Vec<String>,
    unnamed: &mut u32,
) -> serde_json::Value {
    let t = avro_schema(s, meta, defined, unnamed);
    if s.optional {
        serde_json::json!(["null", t])
    } else {
        t
    }
}

fn avro_value(s: &Schema, v: &Value) -> Result<apache_avro::types::Value, FormatError> {
    use apache_avro::types::Value as A;
    let plain = |v: &Value| -> Result<A, FormatError> {
        let bad = || {
            FormatError::Record(format!(
                "a value does not match its {} schema",
                s.ty.json_name()
            ))
        };
        Ok(match (s.ty, s.name.as_deref(), v) {
            (SchemaType::Bytes, Some(logical::DECIMAL), Value::Bytes(b)) => {
                A::Decimal(apache_avro::Decimal::from(b))
            }
            (SchemaType::Int32, Some(logical::DATE), Value::Int(n)) => A::Date(*n as i32),
            (SchemaType::Int32, Some(logical::TIME), Value::Int(n)) => A::TimeMillis(*n as i32),
            (SchemaType::Int64, Some(logical::TIMESTAMP), Value::Int(n)) => A::TimestampMillis(*n),
            (SchemaType::Int8 | SchemaType::Int16 | SchemaType::Int32, _, Value::Int(n)) => {
                A::Int(*n as i32)
            }
            (SchemaType::Int64, _, Value::Int(n)) => A::Long(*n),
            (SchemaType::Float32, _, Value::Float32(f)) => A::Float(*f),
            (SchemaType::Float64, _, Value::Float64(f)) => A::Double(*f),
            (SchemaType::Boolean, _, Value::Boolean(b)) => A::Boolean(*b),
            (SchemaType::String, _, v) => A::String(v.as_str().ok_or_else(bad)?.to_owned()),
            (SchemaType::Bytes, _, Value::Bytes(b)) => A::Bytes(b.clone()),
            (SchemaType::Struct, _, Value::Struct(vs)) => A::Record(
                s.fields
                    .iter()
                    .zip(vs)
                    .map(|(f, v)| Ok((f.name.clone(), avro_value(&f.schema, v)?)))
                    .collect::<Result<_, FormatError>>()?,
            ),
            (SchemaType::Array, _, Value::Array(xs)) => {
                let items = s.items.as_deref().ok_or_else(bad)?;
                A::Array(
                    xs.iter()
                        .map(|x| avro_value(items, x))
                        .collect::<Result<_, _>>()?,
                )
            }
            (SchemaType::Map, _, Value::Map(entries)) => {
                let values = s.items.as_deref().ok_or_else(bad)?;
                let mut m = std::collections::HashMap::new();
                for (k, v) in entries {
                    m.insert(
                        k.as_str().ok_or_else(bad)?.to_owned(),
                        avro_value(values, v)?,
                    );
                }
                A::Map(m)
            }
            _ => return Err(bad()),
        })
    };
    if s.optional {
        Ok(match v {
            Value::Null => A::Union(0, Box::new(A::Null)),
            v => A::Union(1, Box::new(plain(v)?)),
        })
    } else {
        plain(v)
    }
}

fn avro_file(
    schema: &Schema,
    rows: &[Value],
    settings: &FormatSettings,
    key: &str,
) -> Result<Vec<u8>, FormatError> {
    let json = avro_schema(schema, settings.connect_meta_data, &mut Vec::new(), &mut 0);
    let parsed = apache_avro::Schema::parse(&json).map_err(|e| {
        FormatError::File(format!(
            "the value schema is not a valid Avro schema ({e}): {json}"
        ))
    })?;
    let codec = match settings.avro_codec {
        AvroCodec::Null => apache_avro::Codec::Null,
        AvroCodec::Deflate => apache_avro::Codec::Deflate(Default::default()),
        AvroCodec::Snappy => apache_avro::Codec::Snappy,
    };
    let codec_name = match settings.avro_codec {
        AvroCodec::Null => "null",
        AvroCodec::Deflate => "deflate",
        AvroCodec::Snappy => "snappy",
    };
    let marker = sync_marker(key);
    // The header is written here: apache-avro keeps its metadata in a HashMap, whose order
    // (and so the file's bytes) would change from run to run.
    let mut header = b"Obj\x01".to_vec();
    avro_long(&mut header, 2);
    for (k, v) in [
        ("avro.schema", json.to_string()),
        ("avro.codec", codec_name.to_owned()),
    ] {
        avro_long(&mut header, k.len() as i64);
        header.extend_from_slice(k.as_bytes());
        avro_long(&mut header, v.len() as i64);
        header.extend_from_slice(v.as_bytes());
    }
    avro_long(&mut header, 0);
    header.extend_from_slice(&marker);
    let file_err = |e: apache_avro::Error| FormatError::File(format!("Avro: {e}"));
    let mut w = apache_avro::Writer::builder()
        .schema(&parsed)
        .writer(header)
        .codec(codec)
        .marker(marker)
        .has_header(true)
        .build()
        .map_err(file_err)?;
    for row in rows {
        let v = avro_value(schema, row)?;
        w.append_value_ref(&v).map_err(file_err)?;
    }
    w.into_inner().map_err(file_err)
}

/// Avro's zig-zag varint `long`.
fn avro_long(out: &mut Vec<u8>, n: i64) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8 & 0x7f) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// A sync marker unique to the object's key and the same on every run (FNV-1a, twice).
fn sync_marker(key: &str) -> [u8; 16] {
    let fnv = |seed: u64| {
        key.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    };
    let mut m = [0u8; 16];
    m[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_be_bytes());
    m[8..].copy_from_slice(&fnv(0x8422_2325_cbf2_9ce4).to_be_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(format: Format) -> FormatSettings {
        FormatSettings {
            format,
            parquet_codec: ParquetCodec::Gzip,
            avro_codec: AvroCodec::Deflate,
            gzip_level: None,
            bytearray_extension: ".bin".into(),
            bytearray_separator: b"\n".to_vec(),
            connect_meta_data: true,
        }
    }

    fn address(id: i64, country: Option<&str>) -> Record {
        let schema = Arc::new(
            Schema::structure()
                .named("pagila.query.Value")
                .field("address_id", Schema::new(SchemaType::Int32))
                .field("country", Schema::new(SchemaType::String).optional())
                .field(
                    "amount",
                    logical::decimal_schema(2)
                        .param(DECIMAL_PRECISION, "5")
                        .optional(),
                )
                .field("last_update", logical::timestamp_schema())
                .field("day", logical::date_schema().optional())
                .field("small", Schema::new(SchemaType::Int16)),
        );
        let value = Value::Struct(vec![
            Value::Int(id),
            country.into(),
            Value::Bytes(vec![0x04, 0xd2]),
            Value::Int(1_487_151_930_000),
            Value::Int(17_212),
            Value::Int(-3),
        ]);
        Record::new("pagila.query", None, Some(Data::new(schema, value)), 0)
    }

    #[test]
    fn extensions_as_confluent_names_them() {
        let mut s = settings(Format::Parquet);
        assert_eq!(s.extension(), ".gz.parquet");
        s.parquet_codec = ParquetCodec::Snappy;
        assert_eq!(s.extension(), ".snappy.parquet");
        s.parquet_codec = ParquetCodec::None;
        assert_eq!(s.extension(), ".parquet");
        let mut j = settings(Format::Json);
        assert_eq!(j.extension(), ".json");
        j.gzip_level = Some(-1);
        assert_eq!(j.extension(), ".json.gz");
        assert_eq!(settings(Format::Avro).extension(), ".avro");
        assert_eq!(settings(Format::ByteArray).extension(), ".bin");
    }

    #[test]
    fn json_lines_without_schemas() {
        let s = settings(Format::Json);
        let r = address(1, Some("Chad"));
        let mut w = FileWriter::new(&s, &r).unwrap();
        w.write(&r).unwrap();
        w.write(&address(2, None)).unwrap();
        // Avro's files read back with apache-avro's own reader.
        let a = settings(Format::Avro);
        let mut aw = FileWriter::new(&a, &r).unwrap();
        aw.write(&r).unwrap();
        let bytes = aw.finish(&a, "k").unwrap();
        let read: Vec<_> = apache_avro::Reader::new(&bytes[..])
            .unwrap()
            .map(|v| v.unwrap())
            .collect();
        assert_eq!(read.len(), 1);
        let text = String::from_utf8(w.finish(&s, "k").unwrap()).unwrap();
        assert_eq!(
            text,
            "{\"address_id\":1,\"country\":\"Chad\",\"amount\":\"BNI=\",\"last_update\":1487151930000,\"day\":17212,\"small\":-3}\n\
             {\"address_id\":2,\"country\":null,\"amount\":\"BNI=\",\"last_update\":1487151930000,\"day\":17212,\"small\":-3}\n"
        );
    }

    #[test]
    fn parquet_and_avro_are_repeatable_and_refuse_schemaless_records() {
        for format in [Format::Parquet, Format::Avro] {
            let s = settings(format);
            let bytes = |key: &str| {
                let first = address(1, Some("United States"));
                let mut w = FileWriter::new(&s, &first).unwrap();
                for i in 0..50 {
                    w.write(&address(i, (i % 3 != 0).then_some("Chad")))
                        .unwrap();
                }
                w.finish(&s, key).unwrap()
            };
            assert_eq!(bytes("a"), bytes("a"), "{format:?}");
            assert!(bytes("a").len() > 100);
            let schemaless = Record::new("t", None, Some(Data::schemaless(Value::Map(vec![]))), 0);
            let e = FileWriter::new(&s, &schemaless).err().unwrap().to_string();
            assert!(e.contains("needs records with a value schema"), "{e}");
        }
    }

    #[test]
    fn avro_schema_like_avro_data() {
        let r = address(1, None);
        let schema = r.value.as_ref().unwrap().schema.as_ref().unwrap();
        let json = avro_schema(schema, true, &mut Vec::new(), &mut 0);
        assert_eq!(json["name"], "Value");
        assert_eq!(json["namespace"], "pagila.query");
        assert_eq!(json["connect.name"], "pagila.query.Value");
        assert_eq!(
            json["fields"][1]["type"],
            serde_json::json!(["null", "string"])
        );
        assert_eq!(json["fields"][2]["type"][1]["logicalType"], "decimal");
        assert_eq!(json["fields"][2]["type"][1]["precision"], 5);
        assert_eq!(json["fields"][3]["type"]["logicalType"], "timestamp-millis");
        assert_eq!(json["fields"][5]["type"]["connect.type"], "int16");
    }
}
