//! The Kafka Connect data model: schemas and values as Connect's `Schema`/`Struct` hold them.
//! Sources build these, transforms reshape them, converters serialize them. Nothing here
//! knows about Postgres or JSON.

use std::sync::{Arc, OnceLock};

/// Connect's `Schema.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaType {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array,
    Map,
    Struct,
}

impl SchemaType {
    /// The name Connect's JSON converter writes in `"type"`.
    pub fn json_name(self) -> &'static str {
        match self {
            SchemaType::Int8 => "int8",
            SchemaType::Int16 => "int16",
            SchemaType::Int32 => "int32",
            SchemaType::Int64 => "int64",
            SchemaType::Float32 => "float",
            SchemaType::Float64 => "double",
            SchemaType::Boolean => "boolean",
            SchemaType::String => "string",
            SchemaType::Bytes => "bytes",
            SchemaType::Array => "array",
            SchemaType::Map => "map",
            SchemaType::Struct => "struct",
        }
    }
}

/// A Connect schema. Built once per table (or per relation version) and shared by `Arc`,
/// so its JSON form is computed once and reused for every record. A clone starts without
/// that cache, so a transform may clone a schema and change it.
#[derive(Debug)]
pub struct Schema {
    pub ty: SchemaType,
    pub optional: bool,
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
    /// Ordered as the builder added them (Connect keeps a LinkedHashMap).
    pub parameters: Vec<(String, String)>,
    pub default: Option<Value>,
    pub fields: Vec<Field>,
    /// Element schema of an array, value schema of a map.
    pub items: Option<Arc<Schema>>,
    /// Key schema of a map.
    pub keys: Option<Arc<Schema>>,
    /// JSON converter cache, filled on first use.
    pub(crate) json: OnceLock<Box<str>>,
}

impl Clone for Schema {
    fn clone(&self) -> Self {
        Schema {
            ty: self.ty,
            optional: self.optional,
            name: self.name.clone(),
            version: self.version,
            doc: self.doc.clone(),
            parameters: self.parameters.clone(),
            default: self.default.clone(),
            fields: self.fields.clone(),
            items: self.items.clone(),
            keys: self.keys.clone(),
            json: OnceLock::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub schema: Arc<Schema>,
}

impl Schema {
    pub fn new(ty: SchemaType) -> Self {
        Schema {
            ty,
            optional: false,
            name: None,
            version: None,
            doc: None,
            parameters: Vec::new(),
            default: None,
            fields: Vec::new(),
            items: None,
            keys: None,
            json: OnceLock::new(),
        }
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub fn required(mut self, required: bool) -> Self {
        self.optional = !required;
        self
    }

    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn version(mut self, version: i32) -> Self {
        self.version = Some(version);
        self
    }

    pub fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.push((key.into(), value.into()));
        self
    }

    /// The value of one parameter, if set.
    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn default_value(mut self, value: Value) -> Self {
        self.default = Some(value);
        self
    }

    pub fn field(mut self, name: impl Into<String>, schema: impl Into<Arc<Schema>>) -> Self {
        self.fields.push(Field {
            name: name.into(),
            schema: schema.into(),
        });
        self
    }

    pub fn array(items: impl Into<Arc<Schema>>) -> Self {
        let mut s = Schema::new(SchemaType::Array);
        s.items = Some(items.into());
        s
    }

    pub fn map(keys: impl Into<Arc<Schema>>, values: impl Into<Arc<Schema>>) -> Self {
        let mut s = Schema::new(SchemaType::Map);
        s.keys = Some(keys.into());
        s.items = Some(values.into());
        s
    }

    pub fn structure() -> Self {
        Schema::new(SchemaType::Struct)
    }

    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

/// A Connect value. Structs are positional: `Struct(values)[i]` belongs to `schema.fields[i]`.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Boolean(bool),
    /// Any integer type (int8..int64); the schema says which.
    Int(i64),
    Float32(f32),
    Float64(f64),
    String(String),
    /// A string many records carry (e.g. the source block's names), shared instead of copied
    /// per record; equal to the same `String`.
    SharedString(Arc<str>),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Struct(Vec<Value>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::SharedString(s) => Some(s),
            _ => None,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Boolean(a), Boolean(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float32(a), Float32(b)) => a == b,
            (Float64(a), Float64(b)) => a == b,
            (String(_) | SharedString(_), String(_) | SharedString(_)) => {
                self.as_str() == other.as_str()
            }
            (Bytes(a), Bytes(b)) => a == b,
            (Array(a), Array(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            (Struct(a), Struct(b)) => a == b,
            _ => false,
        }
    }
}

impl From<Arc<str>> for Value {
    fn from(s: Arc<str>) -> Self {
        Value::SharedString(s)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A schema with its value: Connect's `SchemaAndValue`, one side (key or value) of a record.
/// A schemaless value (JSON read with `schemas.enable=false`) has no schema: objects are
/// maps with string keys, numbers `Int` or `Float64`, as Connect's JsonConverter reads them.
#[derive(Debug, Clone)]
pub struct Data {
    pub schema: Option<Arc<Schema>>,
    pub value: Value,
}

impl Data {
    pub fn new(schema: impl Into<Arc<Schema>>, value: Value) -> Self {
        Data {
            schema: Some(schema.into()),
            value,
        }
    }

    pub fn schemaless(value: Value) -> Self {
        Data {
            schema: None,
            value,
        }
    }
}

impl PartialEq for Data {
    fn eq(&self, other: &Self) -> bool {
        let same_schema = match (&self.schema, &other.schema) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
            (None, None) => true,
            _ => false,
        };
        same_schema && self.value == other.value
    }
}

impl PartialEq for Schema {
    fn eq(&self, other: &Self) -> bool {
        self.ty == other.ty
            && self.optional == other.optional
            && self.name == other.name
            && self.version == other.version
            && self.doc == other.doc
            && self.parameters == other.parameters
            && self.default == other.default
            && self.fields.len() == other.fields.len()
            && self
                .fields
                .iter()
                .zip(&other.fields)
                .all(|(a, b)| a.name == b.name && a.schema == b.schema)
            && self.items == other.items
            && self.keys == other.keys
    }
}
