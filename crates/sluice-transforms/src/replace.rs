//! `org.apache.kafka.connect.transforms.ReplaceField$Key/$Value`: keeps (`include`, older
//! `whitelist`), drops (`exclude`, older `blacklist`) and renames (`renames=a:b,c:d`) fields of
//! a struct, renaming them in its schema too, or of a schemaless map. Exclusion wins over
//! inclusion. A null key or value passes unchanged.

use std::collections::HashMap;

use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::data::{SchemaType, Value};
use sluice_core::record::Record;
use sluice_core::transform::{Transform, TransformError};

use crate::operand::{
    add_field, copy_basics, java_split, require_map, require_struct, sides, struct_get,
    SchemaCache, Side, REPLACE_NULL_WITH_DEFAULT_DOC,
};

const GROUP: &str = "Transforms";

pub static KEYS: &[ConfigKey] = &[
    ConfigKey::new(
        "exclude",
        KeyType::List,
        Importance::Medium,
        GROUP,
        "Fields to exclude. This takes precedence over the fields to include.",
    )
    .default("")
    .aliases(&["blacklist"]),
    ConfigKey::new(
        "include",
        KeyType::List,
        Importance::Medium,
        GROUP,
        "Fields to include. If specified, only these fields will be used.",
    )
    .default("")
    .aliases(&["whitelist"]),
    ConfigKey::new(
        "renames",
        KeyType::List,
        Importance::Medium,
        GROUP,
        "Field rename mappings: a list of colon-delimited pairs, e.g. foo:bar,abc:xyz.",
    )
    .default(""),
    ConfigKey::new(
        "replace.null.with.default",
        KeyType::Boolean,
        Importance::Medium,
        GROUP,
        REPLACE_NULL_WITH_DEFAULT_DOC,
    )
    .default("true"),
];

const PURPOSE: &str = "field replacement";

pub struct ReplaceField {
    side: Side,
    exclude: Vec<String>,
    include: Vec<String>,
    renames: HashMap<String, String>,
    reverse: HashMap<String, String>,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

fn build(r: &mut KeyReader<'_>, side: Side) -> Option<Box<dyn Transform>> {
    let exclude = r.list("exclude");
    let include = r.list("include");
    let mappings = r.list("renames");
    let replace_null_with_default = r.bool("replace.null.with.default");
    let mut renames = HashMap::new();
    for mapping in &mappings {
        match java_split(mapping, ':')[..] {
            [from, to] => {
                renames.insert(from.to_owned(), to.to_owned());
            }
            _ => {
                r.issue(
                    "renames",
                    Some(&mappings.join(",")),
                    format!("Invalid rename mapping: {mapping}"),
                );
                return None;
            }
        }
    }
    let reverse = renames
        .iter()
        .map(|(from, to)| (to.clone(), from.clone()))
        .collect();
    Some(Box::new(ReplaceField {
        side,
        exclude,
        include,
        renames,
        reverse,
        replace_null_with_default,
        schemas: SchemaCache::default(),
    }))
}

sides!(build);

impl ReplaceField {
    fn keeps(&self, name: &str) -> bool {
        !self.exclude.iter().any(|e| e == name)
            && (self.include.is_empty() || self.include.iter().any(|i| i == name))
    }

    fn renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames.get(name).map_or(name, String::as_str)
    }
}

impl Transform for ReplaceField {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        if self.side.is_null(&record) {
            return Ok(Some(record));
        }
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let entries = require_map(&value, PURPOSE)?;
                let mut out: Vec<(Value, Value)> = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let Some(name) = k.as_str() else { continue };
                    if self.keeps(name) {
                        crate::operand::map_put(&mut out, self.renamed(name), v.clone());
                    }
                }
                self.side.put(&mut record, None, Value::Map(out));
            }
            Some(schema) => {
                let (schema, values) = require_struct(Some(&schema), &value, PURPOSE)?;
                let updated = self.schemas.get_or_build(&[schema], || {
                    let mut s = copy_basics(schema, SchemaType::Struct);
                    for f in &schema.fields {
                        if self.keeps(&f.name) {
                            add_field(&mut s, self.renamed(&f.name), f.schema.clone())?;
                        }
                    }
                    Ok(s)
                })?;
                let mut out = Vec::with_capacity(updated.fields.len());
                for f in &updated.fields {
                    let original = self.reverse.get(&f.name).unwrap_or(&f.name);
                    match struct_get(schema, values, original, self.replace_null_with_default) {
                        Some((_, v)) => out.push(v),
                        None => {
                            return Err(TransformError::new(format!(
                                "{original} is not a valid field name"
                            )))
                        }
                    }
                }
                self.side
                    .put(&mut record, Some(updated), Value::Struct(out));
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operand::testing::{refused, transform};
    use sluice_core::data::{Data, Schema};
    use std::sync::Arc;

    fn schema() -> Arc<Schema> {
        Arc::new(
            Schema::structure()
                .field("dont", Schema::new(SchemaType::String))
                .field("abc", Schema::new(SchemaType::Int32))
                .field("foo", Schema::new(SchemaType::Boolean))
                .field("etc", Schema::new(SchemaType::String)),
        )
    }

    // ReplaceFieldTest.tombstoneSchemaless / tombstoneWithSchema
    #[test]
    fn tombstones() {
        let t = transform(
            KEYS,
            value,
            &[("include", "abc,foo"), ("renames", "abc:xyz,foo:bar")],
        );
        assert!(t
            .apply(Record::new("test", None, None, 0))
            .unwrap()
            .unwrap()
            .value
            .is_none());
        let r = Record::new("test", None, Some(Data::new(schema(), Value::Null)), 0);
        let out = t.apply(r).unwrap().unwrap().value.unwrap();
        assert_eq!(out.schema.as_deref(), Some(&*schema()));
    }

    // ReplaceFieldTest.schemaless
    #[test]
    fn schemaless() {
        let t = transform(
            KEYS,
            value,
            &[("exclude", "dont"), ("renames", "abc:xyz,foo:bar")],
        );
        let map = Value::Map(vec![
            ("dont".into(), "whatever".into()),
            ("abc".into(), Value::Int(42)),
            ("foo".into(), true.into()),
            ("etc".into(), "etc".into()),
        ]);
        let r = Record::new("test", None, Some(Data::schemaless(map)), 0);
        let out = t.apply(r).unwrap().unwrap().value.unwrap();
        assert_eq!(
            out.value,
            Value::Map(vec![
                ("xyz".into(), Value::Int(42)),
                ("bar".into(), true.into()),
                ("etc".into(), "etc".into()),
            ])
        );
    }

    // ReplaceFieldTest.withSchema
    #[test]
    fn with_schema() {
        let t = transform(
            KEYS,
            value,
            &[("include", "abc,foo"), ("renames", "abc:xyz,foo:bar")],
        );
        let v = Value::Struct(vec![
            "whatever".into(),
            Value::Int(42),
            true.into(),
            "etc".into(),
        ]);
        let r = Record::new("test", None, Some(Data::new(schema(), v)), 0);
        let out = t.apply(r).unwrap().unwrap().value.unwrap();
        let s = out.schema.unwrap();
        let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["xyz", "bar"]);
        assert_eq!(s.fields[0].schema.ty, SchemaType::Int32);
        assert_eq!(out.value, Value::Struct(vec![Value::Int(42), true.into()]));
    }

    // ReplaceFieldTest.testReplaceNullWithDefaultConfigOnValue / OnKey
    #[test]
    fn replace_null_with_default() {
        for (replace, expected) in [("false", Value::Null), ("true", Value::Int(42))] {
            let props = [
                ("include", "abc"),
                ("renames", "abc:optional_with_default"),
                ("replace.null.with.default", replace),
            ];
            let s = Schema::structure().field(
                "abc",
                Schema::new(SchemaType::Int32)
                    .optional()
                    .default_value(Value::Int(42)),
            );
            let data = Data::new(s, Value::Struct(vec![Value::Null]));
            let out = transform(KEYS, value, &props)
                .apply(Record::new("test", None, Some(data.clone()), 0))
                .unwrap()
                .unwrap();
            assert_eq!(
                out.value.unwrap().value,
                Value::Struct(vec![expected.clone()])
            );
            let out = transform(KEYS, key, &props)
                .apply(Record::new("test", Some(data), None, 0))
                .unwrap()
                .unwrap();
            assert_eq!(out.key.unwrap().value, Value::Struct(vec![expected]));
        }
    }

    #[test]
    fn older_spellings_and_bad_renames() {
        let t = transform(
            KEYS,
            value,
            &[("blacklist", "dont"), ("whitelist", "dont,etc")],
        );
        let v = Value::Struct(vec![
            "whatever".into(),
            Value::Int(42),
            true.into(),
            "etc".into(),
        ]);
        let out = t
            .apply(Record::new("test", None, Some(Data::new(schema(), v)), 0))
            .unwrap()
            .unwrap();
        assert_eq!(out.value.unwrap().value, Value::Struct(vec!["etc".into()]));
        assert!(refused(KEYS, value, &[("renames", "a:b:c")])
            .contains("transforms.t.renames: Invalid rename mapping: a:b:c"));
    }
}
