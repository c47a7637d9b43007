//! Debezium's `JsonSchemaData`: a JSON payload text (`table.expand.json.payload`) turned into a
//! Connect struct with a schema inferred from the document, as the outbox router expands it.
//! A document it cannot type (mixed arrays, numbers too large) is an error the router logs
//! before keeping the text as it was.

use std::sync::Arc;

use serde_json::Value as Json;
use sluice_core::data::{Schema, SchemaType, Value};

/// `table.json.payload.null.behavior` and `table.json.payload.empty.array.behavior`.
#[derive(Debug, Clone, Copy)]
pub struct Inference {
    /// `optional_bytes`: a null field is kept as optional bytes (else it is left out).
    pub null_as_bytes: bool,
    /// `optional_string`: an empty array is kept as an array of optional strings.
    pub empty_array_as_strings: bool,
}

impl Inference {
    /// The schema and value of a payload document named `key` (the payload column).
    pub fn expand(&self, key: &str, text: &str) -> Result<(Arc<Schema>, Value), String> {
        if !(text.starts_with('{') || text.starts_with('[')) {
            let first = text.chars().next().map(String::from).unwrap_or_default();
            return Err(format!("Unable to parse payload starting with '{first}'"));
        }
        let doc: Json = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let schema = self
            .schema(Some(key), &doc)?
            .ok_or_else(|| "the payload has no typed content".to_owned())?;
        if schema.ty != SchemaType::Struct {
            // Debezium builds a Struct of the document and fails on anything else.
            return Err(format!(
                "a top-level JSON {} cannot be expanded into a Struct",
                schema.ty.json_name()
            ));
        }
        let value = value(&doc, &schema)?;
        Ok((Arc::new(schema), value))
    }

    /// `toConnectSchema`; `None` for what Debezium leaves out (nulls, empty arrays).
    fn schema(&self, key: Option<&str>, node: &Json) -> Result<Option<Schema>, String> {
        Ok(Some(match node {
            Json::String(_) => Schema::new(SchemaType::String).optional(),
            Json::Bool(_) => Schema::new(SchemaType::Boolean).optional(),
            Json::Number(n) => Schema::new(number_type(n)).optional(),
            Json::Array(items) if items.is_empty() => {
                if !self.empty_array_as_strings {
                    return Ok(None);
                }
                Schema::array(Schema::new(SchemaType::String).optional()).optional()
            }
            Json::Array(items) => Schema::array(self.element_schema(key, items)?).optional(),
            Json::Object(fields) => {
                let mut s = Schema::structure()
                    .named(key.unwrap_or_default())
                    .optional();
                if key.is_none() {
                    s.name = None;
                }
                for (name, v) in fields {
                    let field_key = match key {
                        Some(k) if !k.trim().is_empty() => format!("{k}.{name}"),
                        _ => name.clone(),
                    };
                    if let Some(fs) = self.schema(Some(&field_key), v)? {
                        if s.field_index(name).is_none() {
                            s = s.field(name.clone(), fs);
                        }
                    }
                }
                s
            }
            Json::Null if self.null_as_bytes => Schema::new(SchemaType::Bytes).optional(),
            Json::Null => return Ok(None),
        }))
    }

    /// `toConnectSchemaWithCycles`: arrays are homogeneous; object elements merge their fields.
    fn element_schema(&self, key: Option<&str>, items: &[Json]) -> Result<Schema, String> {
        let sample = first_element(items)?;
        if sample.is_object() {
            let mut merged: Option<Schema> = None;
            let mut seen: Vec<Schema> = Vec::new();
            for item in items.iter().filter(|i| i.is_object()) {
                if let Some(s) = self.schema(key, item)? {
                    if !seen.contains(&s) {
                        seen.push(s);
                    }
                }
            }
            for s in seen {
                merged = Some(match merged {
                    None => s,
                    Some(left) => merge(&left, &s),
                });
            }
            return merged.ok_or_else(|| "Array has unrecognized member schema.".to_owned());
        }
        self.schema(None, sample)?
            .ok_or_else(|| format!("Array '{sample}' has unrecognized member schema."))
    }
}

fn number_type(n: &serde_json::Number) -> SchemaType {
    match n.as_i64() {
        Some(i) if i32::try_from(i).is_ok() => SchemaType::Int32,
        Some(_) => SchemaType::Int64,
        None => SchemaType::Float64,
    }
}

/// `getFirstArrayElement`: the first non-null element; all must be of one JSON type (and one
/// number type).
fn first_element(items: &[Json]) -> Result<&Json, String> {
    let kind = |j: &Json| std::mem::discriminant(j);
    let mut first: Option<&Json> = None;
    for item in items.iter().filter(|i| !i.is_null()) {
        let reference = *first.get_or_insert(item);
        if kind(reference) != kind(item) {
            return Err(format!(
                "Field is not a homogenous array ({reference} x {item})."
            ));
        }
        if let (Json::Number(a), Json::Number(b)) = (reference, item) {
            if number_type(a) != number_type(b) {
                return Err(format!(
                    "Field is not a homogenous array ({a} x {b}), different number types"
                ));
            }
        }
    }
    Ok(first.unwrap_or(&Json::Null))
}

/// `mergeSchema`: the left fields, then the right's new ones; a bytes field (from a null)
/// gives way to a typed one.
fn merge(left: &Schema, right: &Schema) -> Schema {
    let mut fields = left.fields.clone();
    for f in &right.fields {
        match fields.iter_mut().find(|l| l.name == f.name) {
            None => fields.push(f.clone()),
            Some(l)
                if l.schema != f.schema
                    && l.schema.ty == SchemaType::Bytes
                    && f.schema.ty != SchemaType::Bytes =>
            {
                *l = f.clone()
            }
            Some(_) => {}
        }
    }
    let mut s = crate::operand::copy_basics_of(left);
    s.fields = fields;
    s
}

/// `toConnectData`: the document's value against the inferred schema.
fn value(node: &Json, schema: &Schema) -> Result<Value, String> {
    let mismatch = || {
        format!(
            "Invalid JSON value {node} for a {} field",
            schema.ty.json_name()
        )
    };
    Ok(match (node, schema.ty) {
        (Json::Null, _) => Value::Null,
        (Json::String(s), SchemaType::String) => Value::String(s.clone()),
        (Json::Bool(b), SchemaType::Boolean) => Value::Boolean(*b),
        (Json::Number(n), SchemaType::Int32) => Value::Int(
            n.as_i64()
                .filter(|i| i32::try_from(*i).is_ok())
                .ok_or_else(mismatch)?,
        ),
        (Json::Number(n), SchemaType::Int64) => Value::Int(n.as_i64().ok_or_else(mismatch)?),
        (Json::Number(n), SchemaType::Float64) if n.as_i64().is_none() && n.as_u64().is_none() => {
            Value::Float64(n.as_f64().ok_or_else(mismatch)?)
        }
        (Json::Array(items), SchemaType::Array) => {
            let element = schema.items.as_deref().ok_or_else(mismatch)?;
            Value::Array(
                items
                    .iter()
                    .map(|i| value(i, element))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Json::Object(fields), SchemaType::Struct) => Value::Struct(
            schema
                .fields
                .iter()
                .map(|f| {
                    fields
                        .get(&f.name)
                        .map_or(Ok(Value::Null), |v| value(v, &f.schema))
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(mismatch()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IGNORE: Inference = Inference {
        null_as_bytes: false,
        empty_array_as_strings: false,
    };

    fn names(s: &Schema) -> Vec<&str> {
        s.fields.iter().map(|f| f.name.as_str()).collect()
    }

    // JsonSchemaDataTest / EventRouterTest.canExpandJsonPayloadIfConfigured
    #[test]
    fn types_are_inferred() {
        let (s, v) = IGNORE
            .expand("payload", r#"{"fullName": "John Doe", "enabled": true, "rating": 4.9, "age": 42, "pets": ["dog", "cat"], "petObjects": [{"type": "dog"}, {"type": "cat"}]}"#)
            .unwrap();
        assert_eq!(s.name.as_deref(), Some("payload"));
        assert_eq!(
            names(&s),
            ["fullName", "enabled", "rating", "age", "pets", "petObjects"]
        );
        let types: Vec<SchemaType> = s.fields.iter().map(|f| f.schema.ty).collect();
        use SchemaType::*;
        assert_eq!(types, [String, Boolean, Float64, Int32, Array, Array]);
        assert_eq!(
            s.fields[5].schema.items.as_ref().unwrap().name.as_deref(),
            Some("payload.petObjects")
        );
        let Value::Struct(values) = v else { panic!() };
        assert_eq!(values[2], Value::Float64(4.9));
        assert_eq!(values[4], Value::Array(vec!["dog".into(), "cat".into()]));
        assert_eq!(
            values[5],
            Value::Array(vec![
                Value::Struct(vec!["dog".into()]),
                Value::Struct(vec!["cat".into()])
            ])
        );
    }

    // EventRouterTest.canExpandJsonWithNestedArraysWhereFirstArrayIsEmpty /
    // shouldExpandJSONPayloadWithEmptyArrayAndRemoveThatArray / canExpandJsonArrayWithFirstElementNull
    #[test]
    fn arrays() {
        let (s, v) = IGNORE
            .expand("payload", r#"{"fullName": "John Doe", "petObjects": [{"type": "dog", "colors": []}, {"type": "cat", "colors": [{"name": "white"}]}]}"#)
            .unwrap();
        let pets = s.fields[1].schema.items.clone().unwrap();
        assert_eq!(names(&pets), ["type", "colors"]);
        let colors = pets.fields[1].schema.items.clone().unwrap();
        assert_eq!(names(&colors), ["name"]);
        let Value::Struct(values) = v else { panic!() };
        assert_eq!(
            values[1],
            Value::Array(vec![
                Value::Struct(vec!["dog".into(), Value::Array(vec![])]),
                Value::Struct(vec![
                    "cat".into(),
                    Value::Array(vec![Value::Struct(vec!["white".into()])])
                ]),
            ])
        );
        let (s, _) = IGNORE
            .expand(
                "payload",
                r#"{"fullName": "John Doe", "petObjects": [{"type": "dog", "colors": []}]}"#,
            )
            .unwrap();
        assert_eq!(names(s.fields[1].schema.items.as_ref().unwrap()), ["type"]);
        let (s, v) = IGNORE
            .expand(
                "payload",
                r#"{"fullName": "John Doe", "numbers": [null, 2, 3]}"#,
            )
            .unwrap();
        assert_eq!(
            s.fields[1].schema.items.as_ref().unwrap().ty,
            SchemaType::Int32
        );
        let Value::Struct(values) = v else { panic!() };
        assert_eq!(
            values[1],
            Value::Array(vec![Value::Null, Value::Int(2), Value::Int(3)])
        );
        assert!(IGNORE.expand("payload", r#"{"mixed": [1, "a"]}"#).is_err());
        assert!(IGNORE
            .expand("payload", r#"{"mixed": [1, 3000000000]}"#)
            .is_err());
    }

    #[test]
    fn nulls_and_empty_arrays_by_behavior() {
        let keep = Inference {
            null_as_bytes: true,
            empty_array_as_strings: true,
        };
        let (s, _) = keep.expand("payload", r#"{"a": null, "b": []}"#).unwrap();
        assert_eq!(s.fields[0].schema.ty, SchemaType::Bytes);
        assert_eq!(
            s.fields[1].schema.items.as_ref().unwrap().ty,
            SchemaType::String
        );
        let (s, _) = IGNORE.expand("payload", r#"{"a": null, "b": []}"#).unwrap();
        assert!(s.fields.is_empty());
        assert!(IGNORE.expand("payload", "not json").is_err());
    }
}
