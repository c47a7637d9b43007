//! What every transform shares: the side of a record a `$Key`/`$Value` class works on, Connect's
//! `Requirements` checks and `SchemaUtil.copySchemaBasics`, and `Struct`/`Map` access with
//! Connect's semantics (defaults of null fields, positional structs, string-keyed maps).
//! Nothing here may panic on record data: every mismatch is a `TransformError` in Connect's words.

use std::sync::{Arc, Mutex};

use sluice_config::keys::split_list;
use sluice_config::KeyReader;
use sluice_core::data::{Data, Field, Schema, SchemaType, Value};
use sluice_core::logical::{self, Decimal};
use sluice_core::record::Record;
use sluice_core::transform::TransformError;

/// Which part of the record a `$Key` or `$Value` class transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Key,
    Value,
}

impl Side {
    pub fn get(self, record: &Record) -> Option<&Data> {
        match self {
            Side::Key => record.key.as_ref(),
            Side::Value => record.value.as_ref(),
        }
    }

    /// Connect's `(operatingSchema, operatingValue)`: a missing side is a null schema and value.
    pub fn take(self, record: &mut Record) -> (Option<Arc<Schema>>, Value) {
        let data = match self {
            Side::Key => record.key.take(),
            Side::Value => record.value.take(),
        };
        match data {
            Some(d) => (d.schema, d.value),
            None => (None, Value::Null),
        }
    }

    /// Sets the side from a schema and value; a null value without a schema is no data at all
    /// (a tombstone on the value side), while a null value with a schema keeps its schema, as
    /// a Connect record does.
    pub fn put(self, record: &mut Record, schema: Option<Arc<Schema>>, value: Value) {
        let data = match (schema, value) {
            (None, Value::Null) => None,
            (schema, value) => Some(Data { schema, value }),
        };
        match self {
            Side::Key => record.key = data,
            Side::Value => record.value = data,
        }
    }

    /// Whether the side's value is null (Connect's `operatingValue(record) == null`).
    pub fn is_null(self, record: &Record) -> bool {
        self.get(record).is_none_or(|d| d.value.is_null())
    }
}

/// `Schema.Type` as Java names it in messages.
pub fn type_name(ty: SchemaType) -> &'static str {
    match ty {
        SchemaType::Int8 => "INT8",
        SchemaType::Int16 => "INT16",
        SchemaType::Int32 => "INT32",
        SchemaType::Int64 => "INT64",
        SchemaType::Float32 => "FLOAT32",
        SchemaType::Float64 => "FLOAT64",
        SchemaType::Boolean => "BOOLEAN",
        SchemaType::String => "STRING",
        SchemaType::Bytes => "BYTES",
        SchemaType::Array => "ARRAY",
        SchemaType::Map => "MAP",
        SchemaType::Struct => "STRUCT",
    }
}

/// The Java class Connect would hold this value in, for error messages that name it.
pub fn java_class(schema: Option<&Schema>, value: &Value) -> &'static str {
    let logical = schema.and_then(|s| s.name.as_deref());
    match (value, logical) {
        (Value::Null, _) => "null",
        (Value::Int(_), Some(logical::DATE | logical::TIME | logical::TIMESTAMP)) => {
            "java.util.Date"
        }
        (Value::Bytes(_), Some(logical::DECIMAL)) => "java.math.BigDecimal",
        (Value::Boolean(_), _) => "java.lang.Boolean",
        (Value::Int(_), _) => match schema.map(|s| s.ty) {
            Some(SchemaType::Int8) => "java.lang.Byte",
            Some(SchemaType::Int16) => "java.lang.Short",
            Some(SchemaType::Int32) => "java.lang.Integer",
            _ => "java.lang.Long",
        },
        (Value::Float32(_), _) => "java.lang.Float",
        (Value::Float64(_), _) => "java.lang.Double",
        (Value::String(_) | Value::SharedString(_), _) => "java.lang.String",
        (Value::Bytes(_), _) => "[B",
        (Value::Array(_), _) => "java.util.ArrayList",
        (Value::Map(_), _) => "java.util.HashMap",
        (Value::Struct(_), _) => "org.apache.kafka.connect.data.Struct",
    }
}

/// `Requirements.requireStruct`: the value must be a struct with a struct schema.
pub fn require_struct<'a>(
    schema: Option<&'a Arc<Schema>>,
    value: &'a Value,
    purpose: &str,
) -> Result<(&'a Arc<Schema>, &'a [Value]), TransformError> {
    match (schema, value) {
        (Some(s), Value::Struct(values)) if s.ty == SchemaType::Struct => Ok((s, values)),
        _ => Err(TransformError::new(format!(
            "Only Struct objects supported for [{purpose}], found: {}",
            java_class(schema.map(|s| &**s), value)
        ))),
    }
}

/// `Requirements.requireMap`: schemaless data must be a map.
pub fn require_map<'a>(
    value: &'a Value,
    purpose: &str,
) -> Result<&'a [(Value, Value)], TransformError> {
    match value {
        Value::Map(entries) => Ok(entries),
        other => Err(TransformError::new(format!(
            "Only Map objects supported in absence of schema for [{purpose}], found: {}",
            java_class(None, other)
        ))),
    }
}

/// `Requirements.requireSchema`.
pub fn require_schema<'a>(
    schema: Option<&'a Arc<Schema>>,
    purpose: &str,
) -> Result<&'a Arc<Schema>, TransformError> {
    schema.ok_or_else(|| TransformError::new(format!("Schema required for [{purpose}]")))
}

/// `Struct.get(field)` (`with_default`: a null field reads as its schema's default) or
/// `Struct.getWithoutDefault`.
pub fn field_value(field: &Field, value: Option<&Value>, with_default: bool) -> Value {
    match value {
        Some(v) if !v.is_null() => v.clone(),
        _ if with_default => field.schema.default.clone().unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// A struct's field by name: its position and value.
pub fn struct_get(
    schema: &Schema,
    values: &[Value],
    name: &str,
    with_default: bool,
) -> Option<(usize, Value)> {
    let i = schema.field_index(name)?;
    Some((
        i,
        field_value(&schema.fields[i], values.get(i), with_default),
    ))
}

/// `Struct.getString` / `getInt64` and friends: the field must exist and have the type.
pub fn struct_get_typed(
    schema: &Schema,
    values: &[Value],
    name: &str,
    ty: SchemaType,
) -> Result<Value, TransformError> {
    let Some(i) = schema.field_index(name) else {
        return Err(TransformError::new(format!(
            "{name} is not a valid field name"
        )));
    };
    if schema.fields[i].schema.ty != ty {
        return Err(TransformError::new(format!(
            "Field '{name}' is not of type {}",
            type_name(ty)
        )));
    }
    Ok(field_value(&schema.fields[i], values.get(i), true))
}

/// A schemaless map's entry by string key.
pub fn map_get<'a>(entries: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

/// `Map.put`: replaces the entry in place, or appends it.
pub fn map_put(entries: &mut Vec<(Value, Value)>, key: &str, value: Value) {
    match entries.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
        Some(entry) => entry.1 = value,
        None => entries.push((Value::String(key.to_owned()), value)),
    }
}

/// `SchemaUtil.copySchemaBasics(source, builder)`: name, version, doc and parameters on a new
/// schema of type `ty` (optional-ness and default are not copied, as in Connect).
pub fn copy_basics(source: &Schema, ty: SchemaType) -> Schema {
    let mut s = Schema::new(ty);
    s.name = source.name.clone();
    s.version = source.version;
    s.doc = source.doc.clone();
    s.parameters = source.parameters.clone();
    s
}

/// `SchemaUtil.copySchemaBasics(source)`: the same type, arrays keep their element schema.
pub fn copy_basics_of(source: &Schema) -> Schema {
    let mut s = copy_basics(source, source.ty);
    if source.ty == SchemaType::Array {
        s.items = source.items.clone();
    }
    s
}

/// `SchemaBuilder.field`: a struct may not have two fields of one name.
pub fn add_field(
    schema: &mut Schema,
    name: &str,
    field_schema: Arc<Schema>,
) -> Result<(), TransformError> {
    if name.is_empty() {
        return Err(TransformError::new("fieldName cannot be null."));
    }
    if schema.field_index(name).is_some() {
        return Err(TransformError::new(format!(
            "Cannot create field because of field name duplication {name}"
        )));
    }
    schema.fields.push(Field {
        name: name.to_owned(),
        schema: field_schema,
    });
    Ok(())
}

/// `Struct.put` refuses a null in a required field without a default; Connect's converter
/// would refuse it later, so a transform refuses it where it arises.
pub fn check_required(name: &str, schema: &Schema, value: &Value) -> Result<(), TransformError> {
    if value.is_null() && !schema.optional && schema.default.is_none() {
        return Err(TransformError::new(format!(
            "Invalid value: null used for required field: \"{name}\", schema type: {}",
            type_name(schema.ty)
        )));
    }
    Ok(())
}

/// Derived schemas by the schema they came from, so a table's records share one output schema
/// (and its JSON form) instead of building one per record. Keys are held, so an address is
/// never reused while cached; a tag tells apart schemas that also depend on something else
/// (a routed name).
pub struct SchemaCache {
    entries: Mutex<Vec<CacheEntry>>,
}

struct CacheEntry {
    keys: Vec<Arc<Schema>>,
    tag: String,
    schema: Arc<Schema>,
}

const CACHE_SIZE: usize = 16;

impl Default for SchemaCache {
    fn default() -> Self {
        SchemaCache {
            entries: Mutex::new(Vec::with_capacity(CACHE_SIZE)),
        }
    }
}

impl SchemaCache {
    pub fn get_or_build(
        &self,
        keys: &[&Arc<Schema>],
        build: impl FnOnce() -> Result<Schema, TransformError>,
    ) -> Result<Arc<Schema>, TransformError> {
        self.get_or_build_tagged(keys, "", build)
    }

    pub fn get_or_build_tagged(
        &self,
        keys: &[&Arc<Schema>],
        tag: &str,
        build: impl FnOnce() -> Result<Schema, TransformError>,
    ) -> Result<Arc<Schema>, TransformError> {
        let same = |e: &CacheEntry, eq: fn(&Arc<Schema>, &Arc<Schema>) -> bool| {
            e.tag == tag
                && e.keys.len() == keys.len()
                && e.keys.iter().zip(keys).all(|(a, b)| eq(a, b))
        };
        {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            // Sources share one schema per table; a sink's converter parses an equal one per
            // record, which an (also cheap) comparison still finds.
            let hit = entries
                .iter()
                .find(|e| same(e, Arc::ptr_eq))
                .or_else(|| entries.iter().find(|e| same(e, |a, b| a == b)));
            if let Some(e) = hit {
                return Ok(e.schema.clone());
            }
        }
        let built = Arc::new(build()?);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CACHE_SIZE {
            entries.remove(0);
        }
        entries.push(CacheEntry {
            keys: keys.iter().map(|k| (*k).clone()).collect(),
            tag: tag.to_owned(),
            schema: built.clone(),
        });
        Ok(built)
    }
}

/// A required list option (`ConfigDef.NO_DEFAULT_VALUE` with `NonEmptyListValidator`).
pub fn required_list(r: &mut KeyReader<'_>, key: &str) -> Option<Vec<String>> {
    let raw = r.required_string(key)?;
    let items = split_list(&raw);
    if items.is_empty() {
        r.issue(key, Some(&raw), "Empty list");
        return None;
    }
    Some(items)
}

/// A key Connect validates case-sensitively (`ConfigDef.ValidString.in`), with a default or
/// required; `None` when missing or not one of `allowed` (both reported).
pub fn exact_choice(r: &mut KeyReader<'_>, key: &str, allowed: &[&str]) -> Option<String> {
    let Some(value) = r.opt_string(key) else {
        return r.required_string(key);
    };
    if allowed.contains(&value.as_str()) {
        Some(value)
    } else {
        r.issue(
            key,
            Some(&value),
            format!("String must be one of: {}", allowed.join(", ")),
        );
        None
    }
}

/// A string option whose empty value is a value, not an unset key (`static.value=`,
/// `add.fields.prefix=`): the raw value when the key is present, else the declared default.
pub fn opt_string_keeping_empty(r: &mut KeyReader<'_>, key: &str) -> Option<String> {
    match r.get(key) {
        Some(v) => Some(v.to_owned()),
        None if r.raw().props.contains_key(key) => Some(String::new()),
        None => r.opt_string(key),
    }
}

/// `opt_string_keeping_empty`, empty when unset without a default.
pub fn string_keeping_empty(r: &mut KeyReader<'_>, key: &str) -> String {
    opt_string_keeping_empty(r, key).unwrap_or_default()
}

/// Java's `String.split(regex)` on a literal: trailing empty parts are dropped.
pub fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    if parts.len() == 1 && parts[0].is_empty() && !s.is_empty() {
        parts.clear();
    }
    parts
}

/// `BigDecimal.longValue()`: the integer part, keeping its low 64 bits.
pub fn java_long_value(d: &Decimal) -> i64 {
    let whole = d
        .with_scale(0, logical::Round::Down)
        .unwrap_or_else(Decimal::zero);
    let mut magnitude: u64 = 0;
    for digit in &whole.digits {
        magnitude = magnitude
            .wrapping_mul(10)
            .wrapping_add(u64::from(digit.saturating_sub(b'0')));
    }
    let low = magnitude as i64;
    if whole.negative {
        low.wrapping_neg()
    } else {
        low
    }
}

/// `BigDecimal.toString()`: plain notation unless the exponent is large, as Java prints it.
pub fn java_decimal_string(d: &Decimal) -> String {
    let digits = if d.digits.is_empty() {
        "0".to_owned()
    } else {
        String::from_utf8_lossy(&d.digits).into_owned()
    };
    let adjusted = -i64::from(d.scale) + (digits.len() as i64 - 1);
    if d.scale >= 0 && adjusted >= -6 {
        return d.to_plain_string();
    }
    let mut out = String::new();
    if d.negative {
        out.push('-');
    }
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('E');
    if adjusted >= 0 {
        out.push('+');
    }
    out.push_str(&adjusted.to_string());
    out
}

/// A Decimal-schema value as Java's `BigDecimal`.
pub fn decimal_of(schema: &Schema, bytes: &[u8]) -> Decimal {
    Decimal::from_unscaled_bytes(bytes, logical::decimal_scale(schema).unwrap_or(0))
}

/// The builders of a `$Key`/`$Value` pair, for the catalogue.
macro_rules! sides {
    ($build:path) => {
        pub fn key(
            r: &mut sluice_config::KeyReader<'_>,
        ) -> Option<Box<dyn sluice_core::transform::Transform>> {
            $build(r, $crate::operand::Side::Key)
        }

        pub fn value(
            r: &mut sluice_config::KeyReader<'_>,
        ) -> Option<Box<dyn sluice_core::transform::Transform>> {
            $build(r, $crate::operand::Side::Value)
        }
    };
}
pub(crate) use sides;

/// The `replace.null.with.default` option most Connect transforms share.
pub const REPLACE_NULL_WITH_DEFAULT_DOC: &str = "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.";

#[cfg(test)]
pub(crate) mod testing {
    //! Building transforms from option lists in unit tests, as `configure(props)` does.
    use sluice_config::def::ConfigDef;
    use sluice_config::keys::NoDelegation;
    use sluice_config::{ConfigIssue, KeyReader, RawConfig};
    use sluice_core::transform::Transform;

    pub fn raw(props: &[(&str, &str)]) -> RawConfig {
        RawConfig {
            name: "t".into(),
            props: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The transform, or the issues its options gave.
    pub fn build<T>(
        keys: &'static [sluice_config::def::ConfigKey],
        build: fn(&mut KeyReader<'_>) -> Option<T>,
        props: &[(&str, &str)],
    ) -> Result<T, Vec<ConfigIssue>> {
        let raw = raw(props);
        let mut r = KeyReader::new(&raw, &[ConfigDef { keys }]).with_prefix("transforms.t.");
        let built = build(&mut r);
        let (errors, _) = r.finish(&NoDelegation);
        match built {
            Some(t) if errors.is_empty() => Ok(t),
            _ => Err(errors),
        }
    }

    pub fn transform(
        keys: &'static [sluice_config::def::ConfigKey],
        build: fn(&mut KeyReader<'_>) -> Option<Box<dyn Transform>>,
        props: &[(&str, &str)],
    ) -> Box<dyn Transform> {
        match self::build(keys, build, props) {
            Ok(t) => t,
            Err(issues) => panic!("{props:?}: {issues:?}"),
        }
    }

    /// The first issue's text when the options are refused.
    pub fn refused(
        keys: &'static [sluice_config::def::ConfigKey],
        build: fn(&mut KeyReader<'_>) -> Option<Box<dyn Transform>>,
        props: &[(&str, &str)],
    ) -> String {
        match self::build(keys, build, props) {
            Ok(_) => panic!("{props:?} accepted"),
            Err(issues) => issues
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_split_drops_trailing_empty_parts() {
        assert_eq!(java_split("a:b", ':'), vec!["a", "b"]);
        assert_eq!(java_split("a:", ':'), vec!["a"]);
        assert_eq!(java_split(":b", ':'), vec!["", "b"]);
        assert_eq!(java_split("a:b:", ':'), vec!["a", "b"]);
        assert_eq!(java_split("a", ':'), vec!["a"]);
    }

    #[test]
    fn schema_cache_finds_the_same_and_equal_schemas() {
        let cache = SchemaCache::default();
        let a = Arc::new(Schema::structure().field("a", Schema::new(SchemaType::Int32)));
        let equal = Arc::new((*a).clone());
        let build = || Ok(Schema::new(SchemaType::String));
        let first = cache.get_or_build(&[&a], build).unwrap();
        let same = cache.get_or_build(&[&a], || panic!("rebuilt")).unwrap();
        let from_equal = cache.get_or_build(&[&equal], || panic!("rebuilt")).unwrap();
        assert!(Arc::ptr_eq(&first, &same) && Arc::ptr_eq(&first, &from_equal));
        let tagged = cache.get_or_build_tagged(&[&a], "x", build).unwrap();
        assert!(!Arc::ptr_eq(&first, &tagged));
    }

    #[test]
    fn big_decimal_text_and_long_value() {
        let d = |s: &str| Decimal::parse(s).unwrap();
        assert_eq!(java_decimal_string(&d("42")), "42");
        assert_eq!(java_decimal_string(&d("-1.50")), "-1.50");
        assert_eq!(java_decimal_string(&d("0.0000001")), "1E-7");
        assert_eq!(java_decimal_string(&d("1E+3")), "1E+3");
        assert_eq!(java_decimal_string(&d("0.00")), "0.00");
        assert_eq!(java_long_value(&d("123.9")), 123);
        assert_eq!(java_long_value(&d("-123.9")), -123);
        assert_eq!(java_long_value(&d("2147483648")) as i32, i32::MIN);
    }
}
