//! `io.debezium.transforms.ExtractNewRecordState` ("unwrap"): a Debezium change event becomes
//! the row it describes (`after`, or `before` for a rewritten delete), with chosen envelope
//! fields added as `__`-prefixed fields or headers and an optional `__deleted` marker. Deletes
//! and tombstones follow `delete.tombstone.handling.mode` (or the older `drop.tombstones` +
//! `delete.handling.mode`). Records that are not change events (heartbeats, schema changes)
//! pass unchanged; a change event is never turned into a wrong row.

use std::sync::Arc;

use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::data::{Schema, SchemaType, Value};
use sluice_core::record::{Header, Record};
use sluice_core::transform::{Transform, TransformError};

use crate::headers::header_value;
use crate::operand::{
    add_field, copy_basics, copy_basics_of, field_value, java_split, require_struct,
    string_keeping_empty, struct_get, struct_get_typed, SchemaCache, Side,
};

const GROUP: &str = "Transforms";
const NEW_MODES: &[&str] = &[
    "drop",
    "tombstone",
    "rewrite",
    "rewrite-with-tombstone",
    "delete-to-tombstone",
];
const LEGACY_MODES: &[&str] = &["drop", "rewrite", "none"];

pub static KEYS: &[ConfigKey] = &[
    ConfigKey::new("delete.tombstone.handling.mode", KeyType::String, Importance::Medium, GROUP, "How to handle delete records. Options are: drop - Remove the delete event and tombstone from the stream. tombstone (default) - For each delete event, leave only a tombstone in the stream. rewrite - Remove tombstone from the record, and add a `__deleted` field with the value `true`. rewrite-with-tombstone - Retain tombstone in record and add a `__deleted` field with the value `true`. delete-to-tombstone - Convert delete events to tombstone events and drop tombstone events.").default("tombstone").one_of(NEW_MODES),
    ConfigKey::new("drop.tombstones", KeyType::Boolean, Importance::Low, GROUP, "Deprecated (use delete.tombstone.handling.mode): drop the tombstone that follows a delete.").default("true"),
    ConfigKey::new("delete.handling.mode", KeyType::String, Importance::Medium, GROUP, "Deprecated (use delete.tombstone.handling.mode): how to handle delete records: none - records are passed, drop - records are removed (the default), rewrite - __deleted field is added to records.").default("drop").one_of(LEGACY_MODES),
    ConfigKey::new("route.by.field", KeyType::String, Importance::Low, GROUP, "The column which determines how the events will be routed, the value will replace the topic name.").default(""),
    ConfigKey::new("add.fields.prefix", KeyType::String, Importance::Low, GROUP, "Adds this prefix to each field listed.").default("__"),
    ConfigKey::new("add.fields", KeyType::List, Importance::Low, GROUP, "Adds each field listed, prefixed with __ (or __<struct>_ if the struct is specified). Example: 'version,connector,source.ts_ms' would add __version, __connector and __source_ts_ms fields. Optionally one can also map new field name like version:VERSION,connector:CONNECTOR,source.ts_ms:EVENT_TIMESTAMP. Please note that the new field name is case-sensitive.").default(""),
    ConfigKey::new("add.headers.prefix", KeyType::String, Importance::Low, GROUP, "Adds this prefix listed to each header.").default("__"),
    ConfigKey::new("add.headers", KeyType::List, Importance::Low, GROUP, "Adds each field listed to the header, __ (or __<struct>_ if the struct is specified). Example: 'version,connector,source.ts_ms' would add __version, __connector and __source_ts_ms fields. Optionally one can also map new field name like version:VERSION,connector:CONNECTOR,source.ts_ms:EVENT_TIMESTAMP. Please note that the new field name is case-sensitive.").default(""),
    ConfigKey::new("replace.null.with.default", KeyType::Boolean, Importance::Low, GROUP, "When this option is enabled, null field values are replaced by source-defined defaults when rewriting the record.").default("true"),
    ConfigKey::new("drop.fields.header.name", KeyType::String, Importance::Low, GROUP, "Specifies the name of a header that contains a list of fields to be removed from the event value.").unsupported("it reads a list-valued header written by ExtractChangedRecordState, which Sluice does not have"),
    ConfigKey::new("drop.fields.from.key", KeyType::Boolean, Importance::Low, GROUP, "Specifies whether to apply the drop fields behavior to the event key as well as the value.").default("false").unsupported("it belongs to drop.fields.header.name, which Sluice does not support"),
    ConfigKey::new("drop.fields.keep.schema.compatible", KeyType::Boolean, Importance::Low, GROUP, "Controls the output event's schema compatibility when using the drop fields feature.").default("true").unsupported("it belongs to drop.fields.header.name, which Sluice does not support"),
];

const PURPOSE: &str = "source field insertion";
const DELETED_FIELD: &str = "__deleted";

/// What happens to a delete event.
#[derive(Debug, Clone, Copy, PartialEq)]
enum OnDelete {
    Drop,
    /// The `after` side: a record with a null value that keeps the row schema (Debezium's
    /// `tombstone` mode and the older `none`).
    NullValue,
    /// A real tombstone: no value, no schema (`delete-to-tombstone`).
    Tombstone,
    /// The `before` row with `__deleted=true`; other rows get `__deleted=false`.
    Rewrite,
}

/// Debezium's `FieldReference`: an envelope field (`op`, `source.ts_ms`, `transaction.id`...)
/// and the name it is added under.
#[derive(Debug, Clone)]
struct FieldReference {
    /// The struct holding the field (`source`, `transaction`), `None` for top-level ones.
    parent: Option<String>,
    field: String,
    new_field: String,
}

impl FieldReference {
    fn parse(prefix: &str, spec: &str) -> Result<FieldReference, String> {
        let parts = java_split(spec, ':');
        let path = parts.first().copied().unwrap_or("");
        let splits = java_split(path, '.');
        let field = match splits.len() {
            0 => String::new(),
            1 => splits[0].to_owned(),
            _ => splits[1].to_owned(),
        };
        let parent = match splits.len() {
            0 | 1 => Self::parent_of(&field).map(str::to_owned),
            _ => Some(splits[0].to_owned()),
        };
        let new_field = match parts.len() {
            0 | 1 if splits.len() > 1 => format!("{prefix}{}_{field}", splits[0]),
            0 | 1 => format!("{prefix}{field}"),
            2 => format!("{prefix}{}", parts[1]),
            _ => return Err(format!("Unexpected field name: {spec}")),
        };
        Ok(FieldReference {
            parent,
            field,
            new_field,
        })
    }

    /// Where an unqualified field lives in a Debezium envelope.
    fn parent_of(field: &str) -> Option<&'static str> {
        match field {
            "id" | "total_order" | "data_collection_order" => Some("transaction"),
            "op" | "ts_ms" | "ts_us" | "ts_ns" => None,
            "updateDescription" => Some("updateDescription"),
            _ => Some("source"),
        }
    }

    /// `getSchema`: the field's schema made optional, if the envelope has the field (in its
    /// struct, or else at the top level).
    fn schema(&self, envelope: &Schema) -> Option<Arc<Schema>> {
        let parent = match &self.parent {
            Some(p) => &envelope.fields[envelope.field_index(p)?].schema,
            None => envelope,
        };
        let field = match parent.field_index(&self.field) {
            Some(i) => &parent.fields[i],
            None => &envelope.fields[envelope.field_index(&self.field)?],
        };
        let mut s = copy_basics_of(&field.schema);
        // Debezium copies only the basics; a struct or map keeps its fields so its value
        // stays writable.
        s.fields = field.schema.fields.clone();
        s.keys = field.schema.keys.clone();
        s.items = field.schema.items.clone();
        s.optional = true;
        Some(Arc::new(s))
    }

    /// `getValue`: the raw value (no defaults), null when its struct is null.
    fn value(&self, envelope: &Schema, values: &[Value]) -> Value {
        let (parent, parent_values) = match &self.parent {
            Some(p) => {
                let Some(i) = envelope.field_index(p) else {
                    return Value::Null;
                };
                match values.get(i) {
                    Some(Value::Struct(inner)) => (&*envelope.fields[i].schema, inner.as_slice()),
                    _ => return Value::Null,
                }
            }
            None => (envelope, values),
        };
        // A field another transform added to the envelope's top level is found there.
        struct_get(parent, parent_values, &self.field, false)
            .or_else(|| struct_get(envelope, values, &self.field, false))
            .map_or(Value::Null, |(_, v)| v)
    }
}

pub struct ExtractNewRecordState {
    keep_tombstones: bool,
    on_delete: OnDelete,
    route_by_field: Option<String>,
    fields: Vec<FieldReference>,
    headers: Vec<FieldReference>,
    replace_null_with_default: bool,
    deleted_schemas: SchemaCache,
    added_schemas: SchemaCache,
}

fn references(r: &mut KeyReader<'_>, key: &str, prefix: &str) -> Vec<FieldReference> {
    let mut out = Vec::new();
    for spec in r.list(key) {
        match FieldReference::parse(prefix, &spec) {
            Ok(f) => out.push(f),
            Err(e) => r.issue(key, Some(&spec), e),
        }
    }
    out
}

pub fn build(r: &mut KeyReader<'_>) -> Option<Box<dyn Transform>> {
    let mode = r.get("delete.tombstone.handling.mode").map(str::to_owned);
    let legacy_tombstones = r.get("drop.tombstones").map(str::to_owned);
    let legacy_deletes = r.get("delete.handling.mode").map(str::to_owned);
    let new_mode = r.choice(
        "delete.tombstone.handling.mode",
        &[
            ("drop", (false, OnDelete::Drop)),
            ("tombstone", (false, OnDelete::NullValue)),
            ("rewrite", (false, OnDelete::Rewrite)),
            ("rewrite-with-tombstone", (true, OnDelete::Rewrite)),
            ("delete-to-tombstone", (false, OnDelete::Tombstone)),
        ],
    );
    let drop_tombstones = r.bool("drop.tombstones");
    let legacy_mode = r.choice(
        "delete.handling.mode",
        &[
            ("drop", OnDelete::Drop),
            ("none", OnDelete::NullValue),
            ("rewrite", OnDelete::Rewrite),
        ],
    );
    // Debezium 2.x: the newer key wins whenever it is set; the older pair applies (with a
    // deprecation warning) only without it. Neither set: Debezium 3.x's default, tombstone.
    let (keep_tombstones, on_delete) = match (&mode, &legacy_tombstones, &legacy_deletes) {
        (Some(_), _, _) => {
            for (key, value) in [
                ("drop.tombstones", &legacy_tombstones),
                ("delete.handling.mode", &legacy_deletes),
            ] {
                if let Some(v) = value {
                    r.warn(
                        key,
                        Some(v),
                        "is ignored: delete.tombstone.handling.mode is set and takes precedence",
                    );
                }
            }
            new_mode
        }
        (None, None, None) => new_mode,
        (None, t, d) => {
            let key = if t.is_some() {
                "drop.tombstones"
            } else {
                "delete.handling.mode"
            };
            r.warn(
                key,
                t.as_deref().or(d.as_deref()),
                "The deleted record handling configs \"drop.tombstones\" and \"delete.handling.mode\" have been deprecated, please use \"delete.tombstone.handling.mode\" instead.",
            );
            (!drop_tombstones, legacy_mode)
        }
    };
    let route_by_field = Some(r.string("route.by.field")).filter(|f| !f.is_empty());
    let fields_prefix = string_keeping_empty(r, "add.fields.prefix");
    let headers_prefix = string_keeping_empty(r, "add.headers.prefix");
    let fields = references(r, "add.fields", &fields_prefix);
    let headers = references(r, "add.headers", &headers_prefix);
    let replace_null_with_default = r.bool("replace.null.with.default");
    Some(Box::new(ExtractNewRecordState {
        keep_tombstones,
        on_delete,
        route_by_field,
        fields,
        headers,
        replace_null_with_default,
        deleted_schemas: SchemaCache::default(),
        added_schemas: SchemaCache::default(),
    }))
}

/// A Debezium change event: its value schema is named `<topic>.Envelope`.
pub fn is_envelope(record: &Record) -> bool {
    record
        .value
        .as_ref()
        .and_then(|d| d.schema.as_ref())
        .and_then(|s| s.name.as_deref())
        .is_some_and(|n| n.ends_with(".Envelope"))
}

impl ExtractNewRecordState {
    /// `makeHeaders`: for a tombstone only `op` (as `d`).
    fn headers_for(&self, envelope: Option<(&Schema, &[Value])>) -> Vec<Header> {
        let mut out = Vec::new();
        for h in &self.headers {
            match envelope {
                None if h.field == "op" => out.push(Header {
                    key: h.new_field.clone(),
                    value: Some(b"d".to_vec()),
                }),
                None => {}
                Some((schema, values)) => {
                    if let Some(s) = h.schema(schema) {
                        out.push(Header {
                            key: h.new_field.clone(),
                            value: header_value(Some(&s), &h.value(schema, values)),
                        });
                    }
                }
            }
        }
        out
    }

    /// The `__deleted` marker (Connect's InsertField with a static optional string).
    fn mark_deleted(
        &self,
        row_schema: &Arc<Schema>,
        row: &[Value],
        deleted: bool,
    ) -> Result<(Arc<Schema>, Value), TransformError> {
        let schema = self.deleted_schemas.get_or_build(&[row_schema], || {
            let mut s = copy_basics(row_schema, SchemaType::Struct);
            s.fields = row_schema.fields.clone();
            add_field(
                &mut s,
                DELETED_FIELD,
                Arc::new(Schema::new(SchemaType::String).optional()),
            )?;
            Ok(s)
        })?;
        let mut values: Vec<Value> = row_schema
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| field_value(f, row.get(i), self.replace_null_with_default))
            .collect();
        values.push(Value::String(deleted.to_string()));
        Ok((schema, Value::Struct(values)))
    }

    /// `addFields`: the row with the envelope fields appended.
    fn add_fields(
        &self,
        envelope_schema: &Arc<Schema>,
        envelope: &[Value],
        row_schema: &Arc<Schema>,
        row: &Value,
    ) -> Result<(Arc<Schema>, Value), TransformError> {
        let (row_schema, row) = require_struct(Some(row_schema), row, PURPOSE)?;
        let present: Vec<(&FieldReference, Arc<Schema>)> = self
            .fields
            .iter()
            .filter_map(|f| f.schema(envelope_schema).map(|s| (f, s)))
            .collect();
        let schema = self
            .added_schemas
            .get_or_build(&[row_schema, envelope_schema], || {
                let mut s = copy_basics(row_schema, SchemaType::Struct);
                s.fields = row_schema.fields.clone();
                for (f, fs) in &present {
                    add_field(&mut s, &f.new_field, fs.clone())?;
                }
                Ok(s)
            })?;
        let mut values: Vec<Value> = row_schema
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| field_value(f, row.get(i), false))
            .collect();
        for (f, _) in &present {
            values.push(f.value(envelope_schema, envelope));
        }
        Ok((schema, Value::Struct(values)))
    }
}

/// The topic `route.by.field` names (`Struct.getString`); blank keeps the topic.
fn routed_topic(
    schema: &Schema,
    values: &[Value],
    field: &str,
) -> Result<Option<String>, TransformError> {
    let v = struct_get_typed(schema, values, field, SchemaType::String)?;
    Ok(v.as_str()
        .map(str::to_owned)
        .filter(|t| !t.trim().is_empty()))
}

impl Transform for ExtractNewRecordState {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        let tombstone = Side::Value.is_null(&record);
        let envelope = is_envelope(&record);
        if (envelope || tombstone) && !self.headers.is_empty() {
            let headers = match (&record.value, envelope && !tombstone) {
                (Some(d), true) => match (&d.schema, &d.value) {
                    (Some(s), Value::Struct(v)) => self.headers_for(Some((s, v))),
                    _ => Vec::new(),
                },
                _ => self.headers_for(None),
            };
            record.headers.extend(headers);
        }
        if tombstone {
            return Ok(self.keep_tombstones.then_some(record));
        }
        if !envelope {
            return Ok(Some(record));
        }
        let (schema, value) = Side::Value.take(&mut record);
        let (envelope_schema, envelope) =
            require_struct(schema.as_ref(), &value, "Detect Debezium Operation")?;
        let side = |name: &str| -> Result<(Arc<Schema>, Value), TransformError> {
            let i = envelope_schema
                .field_index(name)
                .ok_or_else(|| TransformError::new(format!("Unknown field: {name}")))?;
            let f = &envelope_schema.fields[i];
            Ok((f.schema.clone(), field_value(f, envelope.get(i), true)))
        };
        let (after_schema, after) = side("after")?;
        if after.is_null() {
            let (before_schema, before) = side("before")?;
            if before.is_null() {
                // A truncate (or anything without a row): Debezium drops it.
                return Ok(None);
            }
            match self.on_delete {
                OnDelete::Drop => return Ok(None),
                OnDelete::NullValue => {
                    Side::Value.put(&mut record, Some(after_schema), Value::Null)
                }
                OnDelete::Tombstone => Side::Value.put(&mut record, None, Value::Null),
                OnDelete::Rewrite => {
                    let (row_schema, row) = require_struct(Some(&before_schema), &before, PURPOSE)?;
                    let (s, v) = self.mark_deleted(row_schema, row, true)?;
                    Side::Value.put(&mut record, Some(s), v);
                }
            }
            if let Some(field) = &self.route_by_field {
                let (bs, bv) = require_struct(
                    Some(&before_schema),
                    &before,
                    "Read record to set topic routing for DELETE",
                )?;
                if let Some(topic) = routed_topic(bs, bv, field)? {
                    record.topic = topic;
                }
            }
            let added = match &record.value {
                Some(d) if !d.value.is_null() => match &d.schema {
                    Some(rs) => Some(self.add_fields(envelope_schema, envelope, rs, &d.value)?),
                    None => None,
                },
                _ => None,
            };
            if let Some((s, v)) = added {
                Side::Value.put(&mut record, Some(s), v);
            }
        } else {
            let (row_schema, row) = match self.on_delete {
                OnDelete::Rewrite => {
                    let (rs, rv) = require_struct(Some(&after_schema), &after, PURPOSE)?;
                    self.mark_deleted(rs, rv, false)?
                }
                _ => (after_schema, after),
            };
            if let Some(field) = &self.route_by_field {
                let (rs, rv) = require_struct(
                    Some(&row_schema),
                    &row,
                    "Read record to set topic routing for CREATE / UPDATE",
                )?;
                if let Some(topic) = routed_topic(rs, rv, field)? {
                    record.topic = topic;
                }
            }
            let (s, v) = self.add_fields(envelope_schema, envelope, &row_schema, &row)?;
            Side::Value.put(&mut record, Some(s), v);
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operand::testing::{build as try_build, transform};
    use sluice_core::data::Data;

    // AbstractExtractStateTest's records: a `dummy.Envelope` around rows {id int8, name string}.
    fn row_schema() -> Arc<Schema> {
        Arc::new(
            Schema::structure()
                .field(
                    "id",
                    Schema::new(SchemaType::Int8).param("__debezium.source.column.name", "id"),
                )
                .field("name", Schema::new(SchemaType::String)),
        )
    }

    fn source_schema() -> Arc<Schema> {
        Arc::new(
            Schema::structure()
                .field("lsn", Schema::new(SchemaType::Int32))
                .field("ts_ms", Schema::new(SchemaType::Int64).optional())
                .field("db", Schema::new(SchemaType::String).optional())
                .field("table", Schema::new(SchemaType::String).optional()),
        )
    }

    fn transaction_schema() -> Arc<Schema> {
        Arc::new(
            Schema::structure()
                .field("id", Schema::new(SchemaType::String))
                .field("total_order", Schema::new(SchemaType::Int64))
                .field("data_collection_order", Schema::new(SchemaType::Int64))
                .optional(),
        )
    }

    fn envelope_schema() -> Arc<Schema> {
        let row = Arc::new((*row_schema()).clone().optional());
        Arc::new(
            Schema::structure()
                .named("dummy.Envelope")
                .field("before", row.clone())
                .field("after", row)
                .field("source", source_schema())
                .field("transaction", transaction_schema())
                .field("op", Schema::new(SchemaType::String))
                .field("ts_ms", Schema::new(SchemaType::Int64).optional()),
        )
    }

    fn row(name: &str) -> Value {
        Value::Struct(vec![Value::Int(1), name.into()])
    }

    fn event(before: Value, after: Value, op: &str, transaction: Value) -> Record {
        let source = Value::Struct(vec![
            Value::Int(1234),
            Value::Int(1_700_000_000_000),
            "test_db".into(),
            "test_table".into(),
        ]);
        let v = Value::Struct(vec![
            before,
            after,
            source,
            transaction,
            op.into(),
            Value::Int(1_700_000_000_001),
        ]);
        Record::new("dummy", None, Some(Data::new(envelope_schema(), v)), 0)
    }

    fn transaction() -> Value {
        Value::Struct(vec!["571".into(), Value::Int(42), Value::Int(42)])
    }

    fn create() -> Record {
        event(Value::Null, row("myRecord"), "c", Value::Null)
    }

    fn update() -> Record {
        event(row("myRecord"), row("updatedRecord"), "u", transaction())
    }

    fn delete() -> Record {
        event(row("myRecord"), Value::Null, "d", Value::Null)
    }

    fn truncate() -> Record {
        event(Value::Null, Value::Null, "t", Value::Null)
    }

    fn unwrap(props: &[(&str, &str)]) -> Box<dyn Transform> {
        transform(KEYS, build, props)
    }

    fn field(r: &Record, name: &str) -> Value {
        let d = r.value.as_ref().unwrap();
        let s = d.schema.as_ref().unwrap();
        let Value::Struct(v) = &d.value else {
            panic!("{d:?}")
        };
        v[s.field_index(name)
            .unwrap_or_else(|| panic!("no {name} in {s:?}"))]
        .clone()
    }

    fn header(r: &Record, key: &str) -> Option<String> {
        r.headers
            .iter()
            .find(|h| h.key == key)
            .and_then(|h| h.value.as_ref())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    fn tombstone() -> Record {
        Record::new("dummy", None, None, 0)
    }

    // ExtractNewRecordStateTest.testTombstone*, testTruncateDroppedByDefault,
    // testDeleteDroppedByDefault, testHandleDeleteDrop, testHandleDeleteNone
    #[test]
    fn tombstones_truncates_and_deletes() {
        for mode in ["drop", "tombstone", "rewrite", "delete-to-tombstone"] {
            let t = unwrap(&[("delete.tombstone.handling.mode", mode)]);
            assert!(t.apply(tombstone()).unwrap().is_none(), "{mode}");
            assert!(t.apply(truncate()).unwrap().is_none(), "{mode}");
        }
        let t = unwrap(&[("delete.tombstone.handling.mode", "rewrite-with-tombstone")]);
        assert!(t.apply(tombstone()).unwrap().is_some());
        assert!(unwrap(&[("delete.tombstone.handling.mode", "drop")])
            .apply(delete())
            .unwrap()
            .is_none());
        let out = unwrap(&[("delete.tombstone.handling.mode", "tombstone")])
            .apply(delete())
            .unwrap()
            .unwrap();
        let v = out.value.unwrap();
        assert!(v.value.is_null());
        assert_eq!(v.schema.unwrap().fields.len(), 2, "the row schema stays");
        // testDeleteRewriteToTombstoneAndDropActualTombstone
        let out = unwrap(&[("delete.tombstone.handling.mode", "delete-to-tombstone")])
            .apply(delete())
            .unwrap()
            .unwrap();
        assert!(out.value.is_none());
    }

    // ExtractNewRecordStateTest.testHandleDeleteRewrite / testHandleCreateRewrite
    #[test]
    fn rewrite() {
        let t = unwrap(&[
            ("delete.tombstone.handling.mode", "rewrite"),
            ("add.headers", "op"),
        ]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(field(&out, "__deleted"), "true".into());
        assert_eq!(field(&out, "name"), "myRecord".into());
        let out = t.apply(create()).unwrap().unwrap();
        assert_eq!(field(&out, "__deleted"), "false".into());
        assert_eq!(out.headers.len(), 1);
        assert_eq!(header(&out, "__op").as_deref(), Some("c"));
        // The row keeps its schema basics and gains an optional string; it is no longer optional.
        let s = out.value.unwrap().schema.unwrap();
        assert!(!s.optional);
        assert_eq!(
            *s.fields[2].schema,
            Schema::new(SchemaType::String).optional()
        );
    }

    // ExtractNewRecordStateTest.testUnwrapCreateRecord / testIgnoreUnknownRecord /
    // testUnwrapPropagatesRecordHeaders
    #[test]
    fn unwrap_create_and_pass_others() {
        let t = unwrap(&[("delete.tombstone.handling.mode", "tombstone")]);
        let mut r = create();
        r.headers.push(Header {
            key: "application/debezium-test-header".into(),
            value: Some(b"shouldPropagatePreviousRecordHeaders".to_vec()),
        });
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.value.as_ref().unwrap().value, row("myRecord"));
        // Debezium rebuilds the row schema from its basics even without added fields, so the
        // optional `after` schema comes out required.
        assert_eq!(
            out.value.as_ref().unwrap().schema.as_deref(),
            Some(&*row_schema())
        );
        assert_eq!(out.headers.len(), 1);
        let unknown = Record::new(
            "t",
            None,
            Some(Data::new(
                Schema::structure()
                    .named("unknown")
                    .field("a", Schema::new(SchemaType::Int32)),
                Value::Struct(vec![Value::Int(1)]),
            )),
            0,
        );
        let out = t.apply(unknown.clone()).unwrap().unwrap();
        assert_eq!(out.value, unknown.value);
        let unnamed = Record::new(
            "t",
            None,
            Some(Data::new(
                Schema::structure().field("a", Schema::new(SchemaType::Int32)),
                Value::Struct(vec![Value::Int(1)]),
            )),
            0,
        );
        assert_eq!(
            t.apply(unnamed.clone()).unwrap().unwrap().value,
            unnamed.value
        );
    }

    // ExtractNewRecordStateTest.testUnwrapCreateRecordRewriteWithOptionalDefaultValue(AndNullReplaceWithDefault)
    #[test]
    fn rewrite_with_optional_default() {
        let rs = Arc::new(
            Schema::structure()
                .field("id", Schema::new(SchemaType::Int8))
                .field(
                    "name",
                    Schema::new(SchemaType::String)
                        .optional()
                        .default_value("default_str".into()),
                )
                .optional(),
        );
        let env = Schema::structure()
            .named("dummy.Envelope")
            .field("before", rs.clone())
            .field("after", rs)
            .field("op", Schema::new(SchemaType::String));
        let r = || {
            Record::new(
                "dummy",
                None,
                Some(Data::new(
                    env.clone(),
                    Value::Struct(vec![
                        Value::Null,
                        Value::Struct(vec![Value::Int(1), Value::Null]),
                        "c".into(),
                    ]),
                )),
                0,
            )
        };
        for (replace, expected) in [("false", Value::Null), ("true", Value::from("default_str"))] {
            let out = unwrap(&[
                ("delete.tombstone.handling.mode", "rewrite"),
                ("replace.null.with.default", replace),
            ])
            .apply(r())
            .unwrap()
            .unwrap();
            assert_eq!(field(&out, "name"), expected);
        }
    }

    // ExtractNewRecordStateTest.testAddField / testAddTimestamp / testAddFields /
    // testAddFieldsForMissingOptionalField / testAddFieldsSpecifyStruct / testNewFieldAndHeaderMapping
    #[test]
    fn add_fields() {
        let t = unwrap(&[
            ("delete.tombstone.handling.mode", "tombstone"),
            ("add.fields", "op"),
        ]);
        assert_eq!(
            field(&t.apply(create()).unwrap().unwrap(), "__op"),
            "c".into()
        );

        let t = unwrap(&[("add.fields", "ts_ms")]);
        assert_eq!(
            field(&t.apply(create()).unwrap().unwrap(), "__ts_ms"),
            Value::Int(1_700_000_000_001)
        );
        let t = unwrap(&[("add.fields", "source.ts_ms")]);
        let out = t.apply(create()).unwrap().unwrap();
        assert_eq!(field(&out, "__source_ts_ms"), Value::Int(1_700_000_000_000));
        let s = out.value.unwrap().schema.unwrap();
        assert_eq!(
            *s.fields[2].schema,
            Schema::new(SchemaType::Int64).optional()
        );

        let t = unwrap(&[
            ("add.fields", "op , lsn,id"),
            ("add.fields.prefix", "prefix."),
        ]);
        let out = t.apply(update()).unwrap().unwrap();
        assert_eq!(field(&out, "prefix.op"), "u".into());
        assert_eq!(field(&out, "prefix.lsn"), Value::Int(1234));
        assert_eq!(field(&out, "prefix.id"), "571".into());

        let t = unwrap(&[("add.fields", "op,lsn,id")]);
        let out = t.apply(create()).unwrap().unwrap();
        assert_eq!(field(&out, "__lsn"), Value::Int(1234));
        assert_eq!(field(&out, "__id"), Value::Null);

        let t = unwrap(&[(
            "add.fields",
            "op,source.lsn,transaction.id,transaction.total_order",
        )]);
        let out = t.apply(update()).unwrap().unwrap();
        assert_eq!(field(&out, "__source_lsn"), Value::Int(1234));
        assert_eq!(field(&out, "__transaction_id"), "571".into());
        assert_eq!(field(&out, "__transaction_total_order"), Value::Int(42));

        let t = unwrap(&[
            ("add.fields", "op:OP, lsn:LSN, id:ID, source.lsn:source_lsn, transaction.total_order:TOTAL_ORDER"),
            ("add.fields.prefix", ""),
            ("add.headers", "op, source.lsn:source_lsn, transaction.id:TXN_ID, transaction.total_order:TOTAL_ORDER"),
            ("add.headers.prefix", "prefix."),
        ]);
        let out = t.apply(update()).unwrap().unwrap();
        assert_eq!(field(&out, "OP"), "u".into());
        assert_eq!(field(&out, "LSN"), Value::Int(1234));
        assert_eq!(field(&out, "ID"), "571".into());
        assert_eq!(field(&out, "source_lsn"), Value::Int(1234));
        assert_eq!(field(&out, "TOTAL_ORDER"), Value::Int(42));
        assert_eq!(out.headers.len(), 4);
        assert_eq!(header(&out, "prefix.op").as_deref(), Some("u"));
        assert_eq!(header(&out, "prefix.source_lsn").as_deref(), Some("1234"));
        assert_eq!(header(&out, "prefix.TXN_ID").as_deref(), Some("571"));
        assert_eq!(header(&out, "prefix.TOTAL_ORDER").as_deref(), Some("42"));
    }

    // ExtractNewRecordStateTest.testAddHeader(s) / testAddHeadersForMissingOptionalField /
    // testAddHeadersSpecifyStruct / testAddHeadersHandleDeleteRewriteAndTombstone
    #[test]
    fn add_headers() {
        let t = unwrap(&[("add.headers", "op , lsn,id")]);
        let out = t.apply(update()).unwrap().unwrap();
        assert_eq!(out.headers.len(), 3);
        assert_eq!(header(&out, "__op").as_deref(), Some("u"));
        assert_eq!(header(&out, "__lsn").as_deref(), Some("1234"));
        assert_eq!(header(&out, "__id").as_deref(), Some("571"));
        let out = t.apply(create()).unwrap().unwrap();
        assert_eq!(out.headers.len(), 3);
        assert_eq!(header(&out, "__id"), None);

        let t = unwrap(&[
            (
                "add.headers",
                "op,source.lsn,transaction.id,transaction.total_order",
            ),
            ("add.headers.prefix", "prefix."),
        ]);
        let out = t.apply(update()).unwrap().unwrap();
        assert_eq!(
            header(&out, "prefix.transaction_id").as_deref(),
            Some("571")
        );
        assert_eq!(
            header(&out, "prefix.transaction_total_order").as_deref(),
            Some("42")
        );

        let t = unwrap(&[
            ("delete.tombstone.handling.mode", "rewrite-with-tombstone"),
            ("add.headers", "op,source.lsn"),
        ]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(field(&out, "__deleted"), "true".into());
        assert_eq!(header(&out, "__op").as_deref(), Some("d"));
        assert_eq!(header(&out, "__source_lsn").as_deref(), Some("1234"));
        let out = t.apply(tombstone()).unwrap().unwrap();
        assert_eq!(header(&out, "__op").as_deref(), Some("d"));
        assert!(out.value.is_none());
    }

    // ExtractNewRecordStateTest.testAdd{Field,Fields}HandleDeleteRewrite(AndTombstone) /
    // testAddFieldsSpecifyStructHandleDeleteRewrite
    #[test]
    fn add_fields_to_rewritten_deletes() {
        let t = unwrap(&[
            ("delete.tombstone.handling.mode", "rewrite-with-tombstone"),
            ("add.fields", "op,lsn,source.lsn"),
        ]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(field(&out, "__deleted"), "true".into());
        assert_eq!(field(&out, "__op"), "d".into());
        assert_eq!(field(&out, "__lsn"), Value::Int(1234));
        assert_eq!(field(&out, "__source_lsn"), Value::Int(1234));
        let names: Vec<String> = out
            .value
            .unwrap()
            .schema
            .unwrap()
            .fields
            .iter()
            .map(|f| f.name.clone())
            .collect();
        assert_eq!(
            names,
            ["id", "name", "__deleted", "__op", "__lsn", "__source_lsn"]
        );
        assert!(t.apply(tombstone()).unwrap().unwrap().value.is_none());
    }

    // ExtractNewRecordStateTest.test{Add,Update,Delete}TopicRoutingField
    #[test]
    fn route_by_field() {
        let t = unwrap(&[("route.by.field", "name")]);
        assert_eq!(t.apply(create()).unwrap().unwrap().topic, "myRecord");
        assert_eq!(t.apply(update()).unwrap().unwrap().topic, "updatedRecord");
        assert_eq!(t.apply(delete()).unwrap().unwrap().topic, "myRecord");
        let t = unwrap(&[("route.by.field", "nope")]);
        assert_eq!(
            t.apply(create()).unwrap_err().to_string(),
            "nope is not a valid field name"
        );
    }

    // ExtractNewRecordStateTest.shouldRejectInvalidEnumValueForDeleteHandlingMode and the
    // precedence of the newer key over the older pair.
    #[test]
    fn modes_and_precedence() {
        assert!(try_build(
            KEYS,
            build,
            &[("delete.tombstone.handling.mode", "invalid")]
        )
        .is_err());
        assert!(try_build(KEYS, build, &[("delete.handling.mode", "invalid")]).is_err());
        // Older keys alone: drop.tombstones defaults to true, delete.handling.mode to drop.
        let t = unwrap(&[("drop.tombstones", "false")]);
        assert!(t.apply(tombstone()).unwrap().is_some());
        assert!(t.apply(delete()).unwrap().is_none());
        let t = unwrap(&[("delete.handling.mode", "rewrite")]);
        assert!(t.apply(tombstone()).unwrap().is_none());
        assert_eq!(
            field(&t.apply(delete()).unwrap().unwrap(), "__deleted"),
            "true".into()
        );
        let t = unwrap(&[
            ("delete.handling.mode", "none"),
            ("drop.tombstones", "false"),
        ]);
        assert!(t
            .apply(delete())
            .unwrap()
            .unwrap()
            .value
            .unwrap()
            .value
            .is_null());
        // The newer key wins.
        let t = unwrap(&[
            ("delete.handling.mode", "rewrite"),
            ("drop.tombstones", "false"),
            ("delete.tombstone.handling.mode", "drop"),
        ]);
        assert!(t.apply(tombstone()).unwrap().is_none());
        assert!(t.apply(delete()).unwrap().is_none());
        // Neither: Debezium 3's default, tombstone.
        let t = unwrap(&[]);
        assert!(t.apply(tombstone()).unwrap().is_none());
        assert!(t
            .apply(delete())
            .unwrap()
            .unwrap()
            .value
            .unwrap()
            .value
            .is_null());
        assert!(try_build(KEYS, build, &[("drop.fields.header.name", "x")]).is_err());
    }
}
