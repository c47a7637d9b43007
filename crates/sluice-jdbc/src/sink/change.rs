//! What one sink record asks of the target: which table, and whether a row is written,
//! deleted or the table truncated, with its key and value fields. Confluent reads flat rows
//! (after `ExtractNewRecordState`); Debezium reads its own envelopes (`op`, `before`,
//! `after`) as well. A record that cannot be applied is refused with the reason, and the
//! framework's error policy decides what happens to it.

use std::sync::Arc;

use sluice_config::jdbc_sink::{Flavour, JdbcSinkConfig, PkMode};
use sluice_core::data::{Schema, SchemaType, Value};
use sluice_core::record::Record;

use crate::identifier::TableId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Upsert,
    Delete,
    Truncate,
}

/// One field written into one column.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub schema: Arc<Schema>,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub struct Change {
    pub table: TableId,
    pub op: Op,
    /// The primary key columns (empty in `pk.mode=none`).
    pub key: Vec<Field>,
    /// The other columns (upserts only).
    pub fields: Vec<Field>,
}

impl Change {
    /// The columns of this change, key first.
    pub fn columns(&self) -> impl Iterator<Item = &Field> {
        self.key.iter().chain(&self.fields)
    }
}

/// The change a record asks for; `Ok(None)` when the record is skipped on purpose (a
/// Debezium tombstone or delete with `delete.enabled=false`, a message event).
pub fn change(cfg: &JdbcSinkConfig, record: &Record) -> Result<Option<Change>, String> {
    let value = record.value.as_ref().filter(|v| !v.value.is_null());
    let envelope = value.and_then(|v| {
        let s = v.schema.as_deref()?;
        let is = s.ty == SchemaType::Struct
            && s.field_index("op").is_some()
            && s.field_index("after").is_some()
            && s.field_index("before").is_some();
        is.then_some((s, &v.value))
    });
    let (op, row): (Op, Option<(&Schema, &Value)>) = match envelope {
        Some((schema, Value::Struct(fields))) if cfg.flavour == Flavour::Debezium => {
            let at = |name: &str| schema.field_index(name).map(|i| (i, &fields[i]));
            let op = at("op").and_then(|(_, v)| v.as_str()).unwrap_or("");
            match op {
                "c" | "r" | "u" => {
                    let (i, after) = at("after").ok_or("an envelope without after")?;
                    let after_schema = schema.fields[i].schema.as_ref();
                    if after.is_null() {
                        return Err(format!("op {op} without an after row"));
                    }
                    (Op::Upsert, Some((after_schema, after)))
                }
                "d" if cfg.delete_enabled => (Op::Delete, None),
                "d" | "m" => return Ok(None),
                "t" if cfg.truncate_enabled => (Op::Truncate, None),
                "t" => return Ok(None),
                other => return Err(format!("unknown op {other:?} in a Debezium envelope")),
            }
        }
        _ => match value {
            // Debezium skips a tombstone whose table it cannot name (no source block).
            None if cfg.flavour == Flavour::Debezium
                && (!cfg.delete_enabled || cfg.table_name_format.contains("${source.")) =>
            {
                return Ok(None)
            }
            None if cfg.delete_enabled => (Op::Delete, None),
            None => {
                return Err("a tombstone (null value) needs delete.enabled=true (with pk.mode=record_key) to be applied; drop tombstones before the sink or enable deletes".into())
            }
            Some(v) => match (v.schema.as_deref(), &v.value) {
                (Some(s), Value::Struct(_)) if s.ty == SchemaType::Struct => {
                    (Op::Upsert, Some((s, &v.value)))
                }
                (None, _) => {
                    return Err("the record value has no schema; the JDBC sink needs a Struct schema (value.converter.schemas.enable=true)".into())
                }
                _ => return Err("the record value is not a Struct; the JDBC sink writes structs as rows".into()),
            },
        },
    };
    let table = table_name(cfg, record)?;
    if op == Op::Truncate {
        return Ok(Some(Change {
            table,
            op,
            key: Vec::new(),
            fields: Vec::new(),
        }));
    }
    let key = key_fields(cfg, record, row)?;
    if op == Op::Delete && key.is_empty() {
        return Err("a delete needs the record key".into());
    }
    let mut fields = Vec::new();
    if let Some((schema, Value::Struct(values))) = row {
        for (f, v) in schema.fields.iter().zip(values) {
            if key.iter().any(|k| k.name == f.name) || !included(cfg, &record.topic, &f.name) {
                continue;
            }
            let mut value = v.clone();
            if value.is_null() && cfg.replace_null_with_default {
                if let Some(d) = &f.schema.default {
                    value = d.clone();
                }
            }
            fields.push(Field {
                name: f.name.clone(),
                schema: f.schema.clone(),
                value,
            });
        }
    }
    Ok(Some(Change {
        table,
        op,
        key,
        fields,
    }))
}

fn included(cfg: &JdbcSinkConfig, topic: &str, field: &str) -> bool {
    let named = |list: &[String]| {
        list.iter().any(|e| match e.split_once(':') {
            Some((t, f)) => t == topic && f == field,
            None => e == field,
        })
    };
    (cfg.fields_include.is_empty() || named(&cfg.fields_include)) && !named(&cfg.fields_exclude)
}

/// The primary key columns as `pk.mode` / `primary.key.mode` finds them.
fn key_fields(
    cfg: &JdbcSinkConfig,
    record: &Record,
    row: Option<(&Schema, &Value)>,
) -> Result<Vec<Field>, String> {
    let pk_key = match cfg.flavour {
        Flavour::Confluent => "pk.mode",
        Flavour::Debezium => "primary.key.mode",
    };
    match cfg.pk_mode {
        PkMode::None => Ok(Vec::new()),
        PkMode::Kafka => {
            let c = record
                .consumed
                .as_ref()
                .ok_or("pk.mode=kafka needs the record's Kafka coordinates")?;
            let int32 = Arc::new(Schema::new(SchemaType::Int32));
            Ok(vec![
                Field {
                    name: cfg.pk_fields[0].clone(),
                    schema: Arc::new(Schema::new(SchemaType::String)),
                    value: Value::String(record.topic.clone()),
                },
                Field {
                    name: cfg.pk_fields[1].clone(),
                    schema: int32,
                    value: Value::Int(i64::from(c.partition)),
                },
                Field {
                    name: cfg.pk_fields[2].clone(),
                    schema: Arc::new(Schema::new(SchemaType::Int64)),
                    value: Value::Int(c.offset),
                },
            ])
        }
        PkMode::RecordKey => {
            let key = record
                .key
                .as_ref()
                .filter(|k| !k.value.is_null())
                .ok_or_else(|| format!("{pk_key}=record_key needs records with a non-null key"))?;
            let schema = key.schema.as_deref().ok_or_else(|| {
                format!(
                    "{pk_key}=record_key needs a key schema (key.converter.schemas.enable=true)"
                )
            })?;
            struct_or_primitive(cfg, schema, &key.value, "key")
        }
        PkMode::RecordValue => {
            let (schema, value) = row.ok_or_else(|| {
                format!("{pk_key}=record_value needs a value to take the key from")
            })?;
            let all = struct_or_primitive(cfg, schema, value, "value")?;
            if cfg.pk_fields.is_empty() {
                Ok(all)
            } else {
                Ok(all
                    .into_iter()
                    .filter(|f| cfg.pk_fields.contains(&f.name))
                    .collect())
            }
        }
    }
}

fn struct_or_primitive(
    cfg: &JdbcSinkConfig,
    schema: &Schema,
    value: &Value,
    side: &str,
) -> Result<Vec<Field>, String> {
    match (schema.ty, value) {
        (SchemaType::Struct, Value::Struct(values)) => {
            let mut out = Vec::new();
            for (f, v) in schema.fields.iter().zip(values) {
                if side == "key" && !cfg.pk_fields.is_empty() && !cfg.pk_fields.contains(&f.name) {
                    continue;
                }
                if side == "key" && v.is_null() {
                    return Err(format!("the key field {} is null", f.name));
                }
                out.push(Field {
                    name: f.name.clone(),
                    schema: f.schema.clone(),
                    value: v.clone(),
                });
            }
            for name in &cfg.pk_fields {
                if side == "key" && !out.iter().any(|f| &f.name == name) {
                    return Err(format!("the key has no field {name} (pk.fields)"));
                }
            }
            Ok(out)
        }
        (SchemaType::Struct, _) => Err(format!("the record {side} is not a struct")),
        (_, v) => match cfg.pk_fields.as_slice() {
            [name] => Ok(vec![Field {
                name: name.clone(),
                schema: Arc::new(schema.clone()),
                value: v.clone(),
            }]),
            _ => Err(format!(
                "the record {side} is a primitive: name its column with exactly one primary key field"
            )),
        },
    }
}

/// The table a record goes to: `table.name.format` with `${topic}` (Debezium: the topic's
/// dots become underscores, and `${source.<field>}` reads the envelope's source block).
fn table_name(cfg: &JdbcSinkConfig, record: &Record) -> Result<TableId, String> {
    let mut name = match cfg.flavour {
        Flavour::Confluent => cfg.table_name_format.replace("${topic}", &record.topic),
        Flavour::Debezium => cfg
            .table_name_format
            .replace("${topic}", &record.topic.replace('.', "_")),
    };
    while let Some(start) = name.find("${source.") {
        let end = name[start..]
            .find('}')
            .map(|e| start + e)
            .ok_or("collection.name.format has an unclosed ${source.")?;
        let field = &name[start + 9..end];
        let value = source_field(record, field).ok_or_else(|| {
            format!("collection.name.format names ${{source.{field}}} but the record has no such source field")
        })?;
        name.replace_range(start..=end, &value);
    }
    TableId::parse(&name).ok_or_else(|| format!("{name:?} is not a table name"))
}

fn source_field(record: &Record, field: &str) -> Option<String> {
    let v = record.value.as_ref()?;
    let s = v.schema.as_deref()?;
    let Value::Struct(fields) = &v.value else {
        return None;
    };
    let i = s.field_index("source")?;
    let source_schema = &s.fields[i].schema;
    let Value::Struct(source) = &fields[i] else {
        return None;
    };
    let j = source_schema.field_index(field)?;
    source[j].as_str().map(str::to_owned)
}
