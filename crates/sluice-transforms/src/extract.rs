//! Moving fields between a record's key and value and in and out of structs:
//! `ExtractField$Key/$Value` (one field, dotted paths with `field.syntax.version=V2` as in
//! Kafka 3.8+), `HoistField$Key/$Value` (wrap in a one-field struct or map) and `ValueToKey`
//! (a key from value fields). The schema follows the data; a field that is not there is an
//! error where Connect's is, never a silently empty key.

use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::data::{Field, Schema, SchemaType, Value};
use sluice_core::record::Record;
use sluice_core::transform::{Transform, TransformError};

use crate::operand::{
    add_field, check_required, field_value, java_class, map_get, require_map, require_struct,
    required_list, SchemaCache, Side, REPLACE_NULL_WITH_DEFAULT_DOC,
};

const GROUP: &str = "Transforms";

pub static EXTRACT_FIELD_KEYS: &[ConfigKey] = &[
    ConfigKey::new("field", KeyType::String, Importance::Medium, GROUP, "Field name to extract.").required(),
    ConfigKey::new("replace.null.with.default", KeyType::Boolean, Importance::Medium, GROUP, REPLACE_NULL_WITH_DEFAULT_DOC).default("true"),
    ConfigKey::new("field.syntax.version", KeyType::String, Importance::High, GROUP, "Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. If set to `V2`, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots. E.g. to access the subfield `baz` from a field named \"foo.bar\" in a struct/map the following format can be used to access its elements: \"`foo.bar`.baz\".").default("V1").one_of(&["V1", "V2"]),
];

pub static HOIST_FIELD_KEYS: &[ConfigKey] = &[ConfigKey::new(
    "field",
    KeyType::String,
    Importance::Medium,
    GROUP,
    "Field name for the single field that will be created in the resulting Struct or Map.",
)
.required()];

pub static VALUE_TO_KEY_KEYS: &[ConfigKey] = &[
    ConfigKey::new(
        "fields",
        KeyType::List,
        Importance::High,
        GROUP,
        "Field names on the record value to extract as the record key.",
    )
    .required(),
    ConfigKey::new(
        "replace.null.with.default",
        KeyType::Boolean,
        Importance::Medium,
        GROUP,
        REPLACE_NULL_WITH_DEFAULT_DOC,
    )
    .default("true"),
];

/// Connect's `SingleFieldPath`: the steps from the root of a struct or map to one field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    steps: Vec<String>,
}

impl FieldPath {
    /// `V1`: the whole text is one field name.
    pub fn v1(path: &str) -> FieldPath {
        FieldPath {
            steps: vec![path.to_owned()],
        }
    }

    /// `V2`: dots separate steps; a step wrapped in backticks may contain dots, and a
    /// backslash before a closing backtick keeps it in the name.
    pub fn v2(path: &str) -> Result<FieldPath, String> {
        let chars: Vec<char> = path.chars().collect();
        let find = |from: usize, c: char| (from..chars.len()).find(|&i| chars[i] == c);
        let text = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
        let incomplete = |at: usize| {
            format!("Incomplete backtick pair in path: [{path}], consider adding a backslash before backtick at position {at} to escape it")
        };
        let mut steps = Vec::new();
        let mut idx = 0;
        while idx < chars.len() {
            if chars[idx] != '`' {
                let start = idx;
                match find(idx, '.') {
                    Some(dot) => {
                        steps.push(text(start, dot));
                        idx = dot + 1;
                    }
                    None => {
                        steps.push(text(start, chars.len()));
                        idx = chars.len();
                    }
                }
                continue;
            }
            let backtick_at = idx;
            idx += 1;
            let mut field = String::new();
            let mut start = idx;
            loop {
                let Some(found) = find(idx, '`') else {
                    return Err(incomplete(backtick_at));
                };
                idx = found;
                let escaped = idx > 0 && chars[idx - 1] == '\\';
                if idx + 1 >= chars.len() {
                    if escaped {
                        return Err(incomplete(backtick_at));
                    }
                    field.push_str(&text(start, idx));
                    steps.push(field);
                    idx += 1;
                    break;
                }
                if chars[idx + 1] != '.' {
                    idx += 1;
                    continue;
                }
                if escaped {
                    field.push_str(&text(start, idx - 1));
                    field.push('`');
                    idx += 1;
                    start = idx;
                    continue;
                }
                field.push_str(&text(start, idx));
                steps.push(field);
                idx += 2;
                break;
            }
        }
        if path.ends_with('.') {
            steps.push(String::new());
        }
        Ok(FieldPath { steps })
    }

    fn split(&self) -> Option<(&[String], &str)> {
        let (last, parents) = self.steps.split_last()?;
        Some((parents, last))
    }

    /// `fieldFrom(schema)`: the field at the path, if every step exists.
    pub fn field_from<'a>(&self, schema: &'a Schema) -> Option<&'a Field> {
        let (parents, last) = self.split()?;
        let mut current = schema;
        for step in parents {
            current = &current.fields[current.field_index(step)?].schema;
        }
        current.fields.get(current.field_index(last)?)
    }

    /// `valueFrom(struct, withDefault)`: null when a step is missing or a parent is null.
    pub fn value_from_struct(
        &self,
        schema: &Schema,
        values: &[Value],
        with_default: bool,
    ) -> Result<Value, TransformError> {
        let Some((parents, last)) = self.split() else {
            return Ok(Value::Null);
        };
        let (mut schema, mut values) = (schema, values);
        for step in parents {
            let Some(i) = schema.field_index(step) else {
                return Ok(Value::Null);
            };
            let field = &schema.fields[i];
            // Struct.get: a null parent reads as its default.
            let parent = values
                .get(i)
                .filter(|v| !v.is_null())
                .or(field.schema.default.as_ref());
            match parent {
                None | Some(Value::Null) => return Ok(Value::Null),
                Some(Value::Struct(inner)) if field.schema.ty == SchemaType::Struct => {
                    schema = &field.schema;
                    values = inner;
                }
                Some(other) => {
                    return Err(TransformError::new(format!(
                        "Only Struct objects supported for [nested field access], found: {}",
                        java_class(Some(&field.schema), other)
                    )))
                }
            }
        }
        Ok(match schema.field_index(last) {
            Some(i) => field_value(&schema.fields[i], values.get(i), with_default),
            None => Value::Null,
        })
    }

    /// `valueFrom(map)`: null when a step is missing.
    pub fn value_from_map(&self, entries: &[(Value, Value)]) -> Result<Value, TransformError> {
        let Some((parents, last)) = self.split() else {
            return Ok(Value::Null);
        };
        let mut current = entries;
        for step in parents {
            match map_get(current, step) {
                None | Some(Value::Null) => return Ok(Value::Null),
                Some(Value::Map(inner)) => current = inner,
                Some(other) => {
                    return Err(TransformError::new(format!(
                        "Only Map objects supported in absence of schema for [nested field access], found: {}",
                        java_class(None, other)
                    )))
                }
            }
        }
        Ok(map_get(current, last).cloned().unwrap_or(Value::Null))
    }
}

pub struct ExtractField {
    side: Side,
    original: String,
    path: FieldPath,
    replace_null_with_default: bool,
}

fn build_extract(r: &mut KeyReader<'_>, side: Side) -> Option<Box<dyn Transform>> {
    let field = r.required_string("field");
    let replace_null_with_default = r.bool("replace.null.with.default");
    let v2 = r.choice("field.syntax.version", &[("V1", false), ("V2", true)]);
    let original = field?;
    let path = if v2 {
        match FieldPath::v2(&original) {
            Ok(p) => p,
            Err(e) => {
                r.issue("field", Some(&original), e);
                return None;
            }
        }
    } else {
        FieldPath::v1(&original)
    };
    Some(Box::new(ExtractField {
        side,
        original,
        path,
        replace_null_with_default,
    }))
}

pub mod extract_field {
    crate::operand::sides!(super::build_extract);
}

const EXTRACT_PURPOSE: &str = "field extraction";

impl Transform for ExtractField {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let extracted = match &value {
                    Value::Null => Value::Null,
                    other => self
                        .path
                        .value_from_map(require_map(other, EXTRACT_PURPOSE)?)?,
                };
                self.side.put(&mut record, None, extracted);
            }
            Some(schema) => {
                if !value.is_null() {
                    require_struct(Some(&schema), &value, EXTRACT_PURPOSE)?;
                }
                let Some(field) = self.path.field_from(&schema) else {
                    return Err(TransformError::new(format!(
                        "Unknown field: {}",
                        self.original
                    )));
                };
                let extracted = match &value {
                    Value::Struct(values) => self.path.value_from_struct(
                        &schema,
                        values,
                        self.replace_null_with_default,
                    )?,
                    _ => Value::Null,
                };
                self.side
                    .put(&mut record, Some(field.schema.clone()), extracted);
            }
        }
        Ok(Some(record))
    }
}

pub struct HoistField {
    side: Side,
    field: String,
    schemas: SchemaCache,
}

fn build_hoist(r: &mut KeyReader<'_>, side: Side) -> Option<Box<dyn Transform>> {
    Some(Box::new(HoistField {
        side,
        field: r.required_string("field")?,
        schemas: SchemaCache::default(),
    }))
}

pub mod hoist_field {
    crate::operand::sides!(super::build_hoist);
}

impl Transform for HoistField {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let map = Value::Map(vec![(Value::String(self.field.clone()), value)]);
                self.side.put(&mut record, None, map);
            }
            Some(schema) => {
                check_required(&self.field, &schema, &value)?;
                let updated = self.schemas.get_or_build(&[&schema], || {
                    let mut s = Schema::structure();
                    add_field(&mut s, &self.field, schema.clone())?;
                    Ok(s)
                })?;
                self.side
                    .put(&mut record, Some(updated), Value::Struct(vec![value]));
            }
        }
        Ok(Some(record))
    }
}

pub struct ValueToKey {
    fields: Vec<String>,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

pub fn value_to_key(r: &mut KeyReader<'_>) -> Option<Box<dyn Transform>> {
    let fields = required_list(r, "fields");
    let replace_null_with_default = r.bool("replace.null.with.default");
    Some(Box::new(ValueToKey {
        fields: fields?,
        replace_null_with_default,
        schemas: SchemaCache::default(),
    }))
}

const VALUE_TO_KEY_PURPOSE: &str = "copying fields from value to key";

impl Transform for ValueToKey {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        let (schema, value) = Side::Value.take(&mut record);
        match &schema {
            None => {
                let entries = require_map(&value, VALUE_TO_KEY_PURPOSE)?;
                let key = self
                    .fields
                    .iter()
                    .map(|f| {
                        let v = map_get(entries, f).cloned().unwrap_or(Value::Null);
                        (Value::String(f.clone()), v)
                    })
                    .collect();
                Side::Key.put(&mut record, None, Value::Map(key));
            }
            Some(_) => {
                let (value_schema, values) =
                    require_struct(schema.as_ref(), &value, VALUE_TO_KEY_PURPOSE)?;
                let key_schema = self.schemas.get_or_build(&[value_schema], || {
                    let mut s = Schema::structure();
                    for name in &self.fields {
                        let Some(i) = value_schema.field_index(name) else {
                            return Err(TransformError::new(format!(
                                "Field does not exist: {name}"
                            )));
                        };
                        add_field(&mut s, name, value_schema.fields[i].schema.clone())?;
                    }
                    Ok(s)
                })?;
                let mut key = Vec::with_capacity(self.fields.len());
                for (name, key_field) in self.fields.iter().zip(&key_schema.fields) {
                    let v = value_schema.field_index(name).map_or(Value::Null, |i| {
                        field_value(
                            &value_schema.fields[i],
                            values.get(i),
                            self.replace_null_with_default,
                        )
                    });
                    check_required(name, &key_field.schema, &v)?;
                    key.push(v);
                }
                Side::Key.put(&mut record, Some(key_schema), Value::Struct(key));
            }
        }
        Side::Value.put(&mut record, schema, value);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operand::testing::{refused, transform};
    use sluice_core::data::Data;
    use std::sync::Arc;

    fn with_key(data: Option<Data>) -> Record {
        Record::new("test", data, None, 0)
    }

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (Value::from(*k), v.clone()))
                .collect(),
        )
    }

    fn int32() -> Schema {
        Schema::new(SchemaType::Int32)
    }

    // ExtractFieldTest.schemaless / schemalessAndNestedPath / nullSchemaless /
    // nonExistentFieldSchemalessShouldReturnNull / nonExistentNestedFieldSchemalessShouldReturnNull
    #[test]
    fn extract_field_schemaless() {
        let t = transform(
            EXTRACT_FIELD_KEYS,
            extract_field::key,
            &[("field", "magic")],
        );
        let out = t
            .apply(with_key(Some(Data::schemaless(map(&[(
                "magic",
                Value::Int(42),
            )])))))
            .unwrap()
            .unwrap();
        let k = out.key.unwrap();
        assert!(k.schema.is_none());
        assert_eq!(k.value, Value::Int(42));
        assert!(t.apply(with_key(None)).unwrap().unwrap().key.is_none());
        let t = transform(
            EXTRACT_FIELD_KEYS,
            extract_field::key,
            &[("field", "nonexistent")],
        );
        let out = t
            .apply(with_key(Some(Data::schemaless(map(&[(
                "magic",
                Value::Int(42),
            )])))))
            .unwrap()
            .unwrap();
        assert!(out.key.is_none());

        let nested = map(&[("magic", map(&[("foo", Value::Int(42))]))]);
        for (path, expected) in [
            ("magic.foo", Value::Int(42)),
            ("magic.nonexistent", Value::Null),
        ] {
            let t = transform(
                EXTRACT_FIELD_KEYS,
                extract_field::key,
                &[("field", path), ("field.syntax.version", "V2")],
            );
            let out = t
                .apply(with_key(Some(Data::schemaless(nested.clone()))))
                .unwrap()
                .unwrap();
            assert_eq!(out.key.map_or(Value::Null, |k| k.value), expected);
        }
    }

    // ExtractFieldTest.withSchema / withSchemaAndNestedPath / testNullWithSchema /
    // nonExistentFieldWithSchemaShouldFail / nonExistentNestedFieldWithSchemaShouldFail
    #[test]
    fn extract_field_with_schema() {
        let t = transform(
            EXTRACT_FIELD_KEYS,
            extract_field::key,
            &[("field", "magic")],
        );
        let schema = Arc::new(Schema::structure().field("magic", int32()));
        let out = t
            .apply(with_key(Some(Data::new(
                schema.clone(),
                Value::Struct(vec![Value::Int(42)]),
            ))))
            .unwrap()
            .unwrap();
        let k = out.key.unwrap();
        assert_eq!(k.schema.as_deref(), Some(&int32()));
        assert_eq!(k.value, Value::Int(42));

        let optional = Arc::new(Schema::structure().field("magic", int32()).optional());
        let out = t
            .apply(with_key(Some(Data::new(optional, Value::Null))))
            .unwrap()
            .unwrap();
        let k = out.key.unwrap();
        assert_eq!(k.schema.as_deref(), Some(&int32()));
        assert!(k.value.is_null());

        let t = transform(
            EXTRACT_FIELD_KEYS,
            extract_field::key,
            &[("field", "nonexistent")],
        );
        let err = t
            .apply(with_key(Some(Data::new(
                schema,
                Value::Struct(vec![Value::Int(42)]),
            ))))
            .unwrap_err();
        assert_eq!(err.to_string(), "Unknown field: nonexistent");

        let foo = Arc::new(Schema::structure().field("foo", int32()));
        let nested = Arc::new(Schema::structure().field("magic", foo.clone()));
        let data = Data::new(
            nested,
            Value::Struct(vec![Value::Struct(vec![Value::Int(42)])]),
        );
        let v2 = |path| {
            transform(
                EXTRACT_FIELD_KEYS,
                extract_field::key,
                &[("field", path), ("field.syntax.version", "V2")],
            )
        };
        let out = v2("magic.foo")
            .apply(with_key(Some(data.clone())))
            .unwrap()
            .unwrap();
        assert_eq!(out.key.unwrap().value, Value::Int(42));
        let err = v2("magic.nonexistent")
            .apply(with_key(Some(data)))
            .unwrap_err();
        assert_eq!(err.to_string(), "Unknown field: magic.nonexistent");
    }

    // ExtractFieldTest.testUnsetOptionalKey / testUnsetOptionalField
    #[test]
    fn extract_field_replace_null_with_default() {
        for (replace, expected) in [("false", Value::Null), ("true", Value::Int(42))] {
            let schema = Schema::structure().field(
                "optional_with_default",
                int32().optional().default_value(Value::Int(42)),
            );
            let data = Data::new(schema, Value::Struct(vec![Value::Null]));
            let props = [
                ("field", "optional_with_default"),
                ("replace.null.with.default", replace),
            ];
            let out = transform(EXTRACT_FIELD_KEYS, extract_field::key, &props)
                .apply(with_key(Some(data.clone())))
                .unwrap()
                .unwrap();
            assert_eq!(out.key.unwrap().value, expected);
            let out = transform(EXTRACT_FIELD_KEYS, extract_field::value, &props)
                .apply(Record::new("test", None, Some(data), 0))
                .unwrap()
                .unwrap();
            assert_eq!(out.value.unwrap().value, expected);
        }
    }

    fn v2(path: &str) -> Vec<String> {
        FieldPath::v2(path).unwrap().steps
    }

    // FieldPathNotationTest
    #[test]
    fn field_path_notation() {
        assert_eq!(FieldPath::v1("foo.`bar.baz`").steps, ["foo.`bar.baz`"]);
        assert_eq!(v2(".."), ["", "", ""]);
        assert_eq!(v2("foo.."), ["foo", "", ""]);
        assert_eq!(v2(".bar."), ["", "bar", ""]);
        assert_eq!(v2("..baz"), ["", "", "baz"]);
        assert!(v2("").is_empty());
        assert_eq!(v2("foobarbaz"), ["foobarbaz"]);
        assert_eq!(v2("foo.bar.baz"), ["foo", "bar", "baz"]);
        assert_eq!(v2("foo`bar`baz"), ["foo`bar`baz"]);
        assert_eq!(v2("`foo.bar.baz`"), ["foo.bar.baz"]);
        assert_eq!(v2("foo.`bar.baz`"), ["foo", "bar.baz"]);
        assert_eq!(v2("`foo.bar`.baz"), ["foo.bar", "baz"]);
        assert_eq!(v2("foo.`bar`.baz"), ["foo", "bar", "baz"]);
        assert_eq!(v2("foo.``bar.baz`"), ["foo", "`bar.baz"]);
        assert_eq!(v2("foo.`bar.baz``"), ["foo", "bar.baz`"]);
        assert_eq!(v2("foo.`ba`r.baz`"), ["foo", "ba`r.baz"]);
        assert_eq!(v2("foo.ba`r.baz"), ["foo", "ba`r", "baz"]);
        assert_eq!(v2("foo.``bar``.baz"), ["foo", "`bar`", "baz"]);
        assert_eq!(v2("``foo.bar.baz``"), ["`foo.bar.baz`"]);
        assert_eq!(v2("foo.`bar\\`.baz`"), ["foo", "bar`.baz"]);
        assert_eq!(v2("foo.`bar.`baz`"), ["foo", "bar.`baz"]);
        assert_eq!(v2("foo.`bar\\`.`baz`"), ["foo", "bar`.`baz"]);
        assert_eq!(v2("foo.`bar\\\\`.\\`baz`"), ["foo", "bar\\`.\\`baz"]);
        for (path, at) in [
            ("`foo.bar.baz", 0),
            ("foo.`bar.baz", 4),
            ("foo.bar.`baz", 8),
            ("foo.bar.`baz\\`", 8),
        ] {
            assert_eq!(
                FieldPath::v2(path).unwrap_err(),
                format!("Incomplete backtick pair in path: [{path}], consider adding a backslash before backtick at position {at} to escape it")
            );
        }
        assert!(refused(
            EXTRACT_FIELD_KEYS,
            extract_field::value,
            &[("field", "`foo"), ("field.syntax.version", "V2")]
        )
        .contains("transforms.t.field: Incomplete backtick pair"));
    }

    // SingleFieldPathTest
    #[test]
    fn single_field_path() {
        let bar = Arc::new(Schema::structure().field("bar", int32()));
        let schema = Schema::structure().field("foo", bar.clone());
        let p = |s| FieldPath::v2(s).unwrap();
        assert_eq!(p("foo.bar").field_from(&schema).unwrap().name, "bar");
        assert_eq!(p("foo").field_from(&schema).unwrap().name, "foo");
        assert!(p("un.known").field_from(&schema).is_none());
        assert!(p("foo.unknown").field_from(&schema).is_none());
        assert!(p("unknown").field_from(&schema).is_none());

        let foo = [("bar", Value::Int(42)), ("baz", Value::Null)];
        let Value::Map(m) = map(&[("foo", map(&foo))]) else {
            panic!()
        };
        assert_eq!(p("foo.bar").value_from_map(&m).unwrap(), Value::Int(42));
        for missing in [
            "foo.baz",
            "un.known",
            "foo.unknown",
            "unknown",
            "foo.baz.inner",
        ] {
            assert_eq!(p(missing).value_from_map(&m).unwrap(), Value::Null);
        }

        let baz = Arc::new(
            Schema::structure()
                .field("inner", Schema::new(SchemaType::String))
                .optional(),
        );
        let bar = Arc::new(Schema::structure().field("bar", int32()).field("baz", baz));
        let schema = Schema::structure().field("foo", bar);
        let values = vec![Value::Struct(vec![Value::Int(42), Value::Null])];
        assert_eq!(
            p("foo.bar")
                .value_from_struct(&schema, &values, true)
                .unwrap(),
            Value::Int(42)
        );
        for missing in [
            "foo.baz",
            "un.known",
            "foo.unknown",
            "unknown",
            "foo.baz.inner",
        ] {
            assert_eq!(
                p(missing)
                    .value_from_struct(&schema, &values, true)
                    .unwrap(),
                Value::Null
            );
        }
    }

    // HoistFieldTest.schemaless / withSchema
    #[test]
    fn hoist_field() {
        let t = transform(HOIST_FIELD_KEYS, hoist_field::key, &[("field", "magic")]);
        let out = t
            .apply(with_key(Some(Data::schemaless(Value::Int(42)))))
            .unwrap()
            .unwrap();
        let k = out.key.unwrap();
        assert!(k.schema.is_none());
        assert_eq!(k.value, map(&[("magic", Value::Int(42))]));

        let out = t
            .apply(with_key(Some(Data::new(int32(), Value::Int(42)))))
            .unwrap()
            .unwrap();
        let k = out.key.unwrap();
        let s = k.schema.unwrap();
        assert_eq!(s.ty, SchemaType::Struct);
        assert_eq!(*s.fields[0].schema, int32());
        assert_eq!(k.value, Value::Struct(vec![Value::Int(42)]));
    }

    // ValueToKeyTest.schemaless / withSchema / nonExistingField
    #[test]
    fn value_to_key_test() {
        let t = transform(VALUE_TO_KEY_KEYS, value_to_key, &[("fields", "a,b")]);
        let value = map(&[
            ("a", Value::Int(1)),
            ("b", Value::Int(2)),
            ("c", Value::Int(3)),
        ]);
        let out = t
            .apply(Record::new("", None, Some(Data::schemaless(value)), 0))
            .unwrap()
            .unwrap();
        let k = out.key.unwrap();
        assert!(k.schema.is_none());
        assert_eq!(k.value, map(&[("a", Value::Int(1)), ("b", Value::Int(2))]));

        let schema = Arc::new(
            Schema::structure()
                .field("a", int32())
                .field("b", int32())
                .field("c", int32()),
        );
        let v = Value::Struct(vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
        let out = t
            .apply(Record::new(
                "",
                None,
                Some(Data::new(schema.clone(), v.clone())),
                0,
            ))
            .unwrap()
            .unwrap();
        let k = out.key.unwrap();
        assert_eq!(
            k.schema.as_deref(),
            Some(&Schema::structure().field("a", int32()).field("b", int32()))
        );
        assert_eq!(k.value, Value::Struct(vec![Value::Int(1), Value::Int(2)]));
        assert_eq!(out.value.unwrap().value, v);

        let t = transform(VALUE_TO_KEY_KEYS, value_to_key, &[("fields", "not_exist")]);
        let err = t
            .apply(Record::new("", None, Some(Data::new(schema, v)), 0))
            .unwrap_err();
        assert_eq!(err.to_string(), "Field does not exist: not_exist");
        assert!(
            refused(VALUE_TO_KEY_KEYS, value_to_key, &[("fields", " , ")])
                .contains("transforms.t.fields: Empty list")
        );
    }

    // ValueToKeyTest.testReplaceNullWithDefaultConfig
    #[test]
    fn value_to_key_replace_null_with_default() {
        for (replace, expected) in [("false", Value::Null), ("true", Value::Int(42))] {
            let t = transform(
                VALUE_TO_KEY_KEYS,
                value_to_key,
                &[
                    ("fields", "optional_with_default"),
                    ("replace.null.with.default", replace),
                ],
            );
            let schema = Schema::structure().field(
                "optional_with_default",
                int32().optional().default_value(Value::Int(42)),
            );
            let out = t
                .apply(Record::new(
                    "",
                    None,
                    Some(Data::new(schema, Value::Struct(vec![Value::Null]))),
                    0,
                ))
                .unwrap()
                .unwrap();
            assert_eq!(out.key.unwrap().value, Value::Struct(vec![expected]));
        }
    }
}
