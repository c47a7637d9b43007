//! Debezium change events for one table: the key, row, source and envelope schemas (built once
//! per table version and shared), and the records for read/create/update/delete/truncate and
//! tombstones. Field order and schema metadata follow Debezium's PostgreSQL connector exactly.

use std::sync::Arc;

use sluice_config::postgres::PostgresConfig;
use sluice_core::data::{Data, Schema, SchemaType, Value};
use sluice_core::json::write_str;
use sluice_core::record::{EncodedTopic, Record};

use crate::catalog::TableInfo;
use crate::error::PostgresError;
use crate::snapshot::copy_text;
use crate::types::{
    column_schema, decode_text, driver_type_name, is_plain_json_text, null_value,
    source_type_parameters, write_text_json, ColumnDesc, ShapeSource, TextJson,
};

pub const CONNECTOR: &str = "postgresql";
pub const SOURCE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One cell of a row as it arrives from COPY or pgoutput.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Null,
    /// An unchanged TOASTed value the log does not carry.
    Unchanged,
    Text(&'a str),
    /// Not sent at all (e.g. a non-key column in a delete's old key tuple).
    Absent,
}

/// The `source` block's changing parts.
#[derive(Debug, Clone)]
pub struct SourcePosition {
    /// Commit time for streamed events, read time for snapshot records, in µs since epoch.
    pub ts_us: i64,
    pub snapshot: &'static str,
    pub last_commit_lsn: Option<u64>,
    pub lsn: Option<u64>,
    pub tx_id: Option<i64>,
}

/// Schemas shared by every table of a connector.
#[derive(Debug)]
pub struct SharedSchemas {
    pub source: Arc<Schema>,
    pub transaction: Arc<Schema>,
}

impl SharedSchemas {
    pub fn new() -> Self {
        let string = || Schema::new(SchemaType::String);
        let int64 = || Schema::new(SchemaType::Int64);
        let source = Schema::structure()
            .field("version", string())
            .field("connector", string())
            .field("name", string())
            .field("ts_ms", int64())
            .field(
                "snapshot",
                string()
                    .optional()
                    .named("io.debezium.data.Enum")
                    .version(1)
                    .param("allowed", "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental")
                    .default_value(Value::from("false")),
            )
            .field("db", string())
            .field("sequence", string().optional())
            .field("ts_us", int64().optional())
            .field("ts_ns", int64().optional())
            .field("schema", string())
            .field("table", string())
            .field("txId", int64().optional())
            .field("lsn", int64().optional())
            .field("xmin", int64().optional())
            .named("io.debezium.connector.postgresql.Source");
        let transaction = Schema::structure()
            .field("id", string())
            .field("total_order", int64())
            .field("data_collection_order", int64())
            .optional()
            .named("event.block")
            .version(1);
        SharedSchemas {
            source: Arc::new(source),
            transaction: Arc::new(transaction),
        }
    }
}

impl Default for SharedSchemas {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug)]
struct EventColumn {
    desc: ColumnDesc,
    schema: Arc<Schema>,
    /// How its COPY text becomes JSON on the snapshot's fast path.
    json: TextJson,
    /// `"name":` as the row's JSON writes it, with the comma before every field but the first.
    prefix: Box<[u8]>,
}

/// A struct field's name as the JSON converter writes it before the value.
fn field_prefix(first: bool, name: &str) -> Box<[u8]> {
    let mut out = Vec::with_capacity(name.len() + 4);
    if !first {
        out.push(b',');
    }
    write_str(&mut out, name);
    out.push(b':');
    out.into_boxed_slice()
}

const SNAPSHOT_MARKERS: [&str; 7] = [
    "true",
    "first",
    "first_in_data_collection",
    "last_in_data_collection",
    "last",
    "false",
    "incremental",
];

#[derive(Debug)]
struct SourceNames {
    version: Arc<str>,
    connector: Arc<str>,
    name: Arc<str>,
    db: Arc<str>,
    schema: Arc<str>,
    table: Arc<str>,
    markers: [Arc<str>; 7],
}

/// Everything needed to turn rows of one table into Debezium records.
#[derive(Debug)]
pub struct TableEvents {
    pub table: TableInfo,
    pub topic: String,
    columns: Vec<EventColumn>,
    /// Indexes into `columns` of the message key, empty when the table has no key.
    key_fields: Vec<usize>,
    /// The key fields' `"name":` prefixes, as `EventColumn::prefix`.
    key_prefixes: Vec<Box<[u8]>>,
    key_schema: Option<Arc<Schema>>,
    envelope_schema: Arc<Schema>,
    /// The source block's strings, shared by every record of the table.
    names: SourceNames,
    placeholder: String,
    types: sluice_config::postgres::TypeOptions,
}

pub fn topic_name(prefix: &str, schema: &str, table: &str) -> String {
    // Debezium replaces characters Kafka does not allow in topic names with '_'.
    format!("{prefix}.{schema}.{table}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl TableEvents {
    pub fn new(
        table: TableInfo,
        cfg: &PostgresConfig,
        shared: &SharedSchemas,
        from: ShapeSource,
    ) -> Result<Self, PostgresError> {
        let topic = topic_name(&cfg.topic_prefix, &table.schema, &table.name);
        let mut columns = Vec::new();
        for col in table.captured_columns() {
            let value = |reason: String| PostgresError::Value {
                table: table.full_name(),
                column: col.desc.name.clone(),
                reason,
            };
            match column_schema(&col.desc, &cfg.types).map_err(|e| value(e.to_string()))? {
                Some(schema) => {
                    let json = TextJson::of(&col.desc, &cfg.types);
                    if json.is_general() {
                        tracing::debug!(
                            table = %table.full_name(),
                            column = %col.desc.name,
                            r#type = %col.desc.ty.name,
                            "snapshot JSON through Connect values for this column (no direct text-to-JSON writer)"
                        );
                    }
                    columns.push(EventColumn {
                        prefix: field_prefix(columns.is_empty(), &col.desc.name),
                        desc: col.desc.clone(),
                        schema: Arc::new(schema),
                        json,
                    })
                }
                None => tracing::warn!(
                    table = %table.full_name(),
                    column = %col.desc.name,
                    r#type = %col.desc.ty.name,
                    "column left out of events: its type has no Debezium mapping"
                ),
            }
        }
        let key_names: Vec<String> = match cfg.key_columns_for(&table.schema, &table.name) {
            Some(cols) => cols.to_vec(),
            None => table.primary_key.clone(),
        };
        let key_fields: Vec<usize> = key_names
            .iter()
            .filter_map(|k| columns.iter().position(|c| &c.desc.name == k))
            .collect();
        let mut row = Schema::structure();
        for c in &columns {
            // Source types go into the value's fields only (Debezium maps no key columns).
            let ty = driver_type_name(&c.desc);
            let field = if cfg.propagates_source_type(&table.schema, &table.name, &c.desc.name, ty)
            {
                let mut s = (*c.schema).clone();
                s.parameters.extend(source_type_parameters(&c.desc, from));
                Arc::new(s)
            } else {
                c.schema.clone()
            };
            row = row.field(c.desc.name.clone(), field);
        }
        let row_schema = Arc::new(row.optional().named(format!("{topic}.Value")));
        let key_schema = (!key_fields.is_empty()).then(|| {
            let mut key = Schema::structure();
            for &i in &key_fields {
                key = key.field(columns[i].desc.name.clone(), columns[i].schema.clone());
            }
            Arc::new(key.named(format!("{topic}.Key")))
        });
        let int64 = || Schema::new(SchemaType::Int64).optional();
        let envelope_schema = Arc::new(
            Schema::structure()
                .field("before", row_schema.clone())
                .field("after", row_schema.clone())
                .field("source", shared.source.clone())
                .field("transaction", shared.transaction.clone())
                .field("op", Schema::new(SchemaType::String))
                .field("ts_ms", int64())
                .field("ts_us", int64())
                .field("ts_ns", int64())
                .named(format!("{topic}.Envelope"))
                .version(2),
        );
        let key_prefixes = key_fields
            .iter()
            .enumerate()
            .map(|(j, &i)| field_prefix(j == 0, &columns[i].desc.name))
            .collect();
        Ok(TableEvents {
            topic,
            columns,
            key_fields,
            key_prefixes,
            key_schema,
            envelope_schema,
            names: SourceNames {
                version: SOURCE_VERSION.into(),
                connector: CONNECTOR.into(),
                name: cfg.topic_prefix.as_str().into(),
                db: cfg.dbname.as_str().into(),
                schema: table.schema.as_str().into(),
                table: table.name.as_str().into(),
                markers: SNAPSHOT_MARKERS.map(Arc::from),
            },
            placeholder: cfg.unavailable_value_placeholder.clone(),
            types: cfg.types.clone(),
            table,
        })
    }

    /// Names of the columns in events, in order (the snapshot COPY reads exactly these).
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.desc.name.as_str())
    }

    pub fn has_key(&self) -> bool {
        self.key_schema.is_some()
    }

    /// Builds the row struct; `cell(i)` gives the value of the i-th column of `column_names`.
    pub fn row<'a>(&self, mut cell: impl FnMut(usize) -> Cell<'a>) -> Result<Value, PostgresError> {
        let mut values = Vec::with_capacity(self.columns.len());
        for (i, c) in self.columns.iter().enumerate() {
            let value_error = |e: crate::types::TypeError| PostgresError::Value {
                table: self.table.full_name(),
                column: c.desc.name.clone(),
                reason: e.to_string(),
            };
            let v = match cell(i) {
                Cell::Null => Value::Null,
                Cell::Text(text) => {
                    decode_text(&c.desc, &c.schema, text, &self.types).map_err(value_error)?
                }
                Cell::Unchanged => placeholder(&c.schema, &self.placeholder),
                // Debezium fills the columns a key-only old tuple lacks with their defaults or
                // its per-type fallback, so the struct stays valid against its schema.
                Cell::Absent => null_value(&c.desc, &c.schema, &self.types).map_err(value_error)?,
            };
            values.push(v);
        }
        Ok(Value::Struct(values))
    }

    /// Writes a COPY text line as the row's JSON payload: the bytes `row` then the JSON
    /// converter write for it, with no Connect values in between. `spans` gets where each
    /// column's value lies in `out` (for the key); `scratch` holds unescaped text.
    pub fn write_copy_row(
        &self,
        line: &[u8],
        out: &mut Vec<u8>,
        spans: &mut Vec<(usize, usize)>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), PostgresError> {
        spans.clear();
        out.push(b'{');
        // Fields as CopyRow::parse splits them: a missing one is NULL, extra ones are ignored.
        let mut rest = Some(line);
        for c in &self.columns {
            out.extend_from_slice(&c.prefix);
            let start = out.len();
            let field = match rest {
                Some(r) => match memchr::memchr(b'\t', r) {
                    Some(i) => {
                        rest = Some(&r[i + 1..]);
                        Some(&r[..i])
                    }
                    None => {
                        rest = None;
                        Some(r)
                    }
                },
                None => None,
            };
            match field {
                None | Some(b"\\N") => out.extend_from_slice(b"null"),
                // Most text needs neither unescaping, UTF-8 checks nor JSON escapes.
                Some(field) if c.json == TextJson::String && is_plain_json_text(field) => {
                    out.push(b'"');
                    out.extend_from_slice(field);
                    out.push(b'"');
                }
                Some(field) => {
                    let text = copy_text(field, scratch);
                    write_text_json(c.json, &c.desc, &c.schema, &text, &self.types, out).map_err(
                        |e| PostgresError::Value {
                            table: self.table.full_name(),
                            column: c.desc.name.clone(),
                            reason: e.to_string(),
                        },
                    )?;
                }
            }
            spans.push((start, out.len()));
        }
        out.push(b'}');
        Ok(())
    }

    /// Writes the key payload of the row `write_copy_row` just wrote (its `spans`), copied from
    /// the row's own bytes; `false` (nothing written) for tables without a key.
    pub fn write_key_from(&self, out: &mut Vec<u8>, spans: &[(usize, usize)]) -> bool {
        if self.key_schema.is_none() {
            return false;
        }
        out.push(b'{');
        for (&i, prefix) in self.key_fields.iter().zip(&self.key_prefixes) {
            out.extend_from_slice(prefix);
            match spans.get(i) {
                Some(&(start, end)) => out.extend_from_within(start..end),
                None => out.extend_from_slice(b"null"),
            }
        }
        out.push(b'}');
        true
    }

    /// The topic and schemas of this table's records, for encoded batches.
    pub fn encoded_topic(&self) -> EncodedTopic {
        EncodedTopic {
            topic: self.topic.clone(),
            key_schema: self.key_schema.clone(),
            value_schema: Some(self.envelope_schema.clone()),
        }
    }

    /// The message key of a row, `None` for tables without a key.
    pub fn key(&self, row: &Value) -> Option<Data> {
        let schema = self.key_schema.clone()?;
        let Value::Struct(values) = row else {
            return None;
        };
        let key = self
            .key_fields
            .iter()
            .map(|&i| values.get(i).cloned().unwrap_or(Value::Null))
            .collect();
        Some(Data::new(schema, Value::Struct(key)))
    }

    /// Whether two rows have different keys (a primary-key change).
    pub fn key_changed(&self, old: &Value, new: &Value) -> bool {
        match (self.key(old), self.key(new)) {
            (Some(a), Some(b)) => a.value != b.value,
            _ => false,
        }
    }

    fn source(&self, pos: &SourcePosition) -> Value {
        // `["<last commit lsn>","<lsn>"]`, `[null,"<lsn>"]` before the first commit.
        let sequence = pos.lsn.map(|lsn| {
            let mut n = itoa::Buffer::new();
            let mut seq = String::with_capacity(48);
            seq.push('[');
            match pos.last_commit_lsn {
                Some(l) => {
                    seq.push('"');
                    seq.push_str(n.format(l));
                    seq.push('"');
                }
                None => seq.push_str("null"),
            }
            seq.push_str(",\"");
            seq.push_str(n.format(lsn));
            seq.push_str("\"]");
            seq
        });
        let n = &self.names;
        let snapshot = match n.markers.iter().find(|m| &***m == pos.snapshot) {
            Some(m) => Value::SharedString(m.clone()),
            None => Value::from(pos.snapshot),
        };
        Value::Struct(vec![
            Value::SharedString(n.version.clone()),
            Value::SharedString(n.connector.clone()),
            Value::SharedString(n.name.clone()),
            Value::Int(pos.ts_us.div_euclid(1000)),
            snapshot,
            Value::SharedString(n.db.clone()),
            Value::from(sequence),
            Value::Int(pos.ts_us),
            Value::Int(pos.ts_us.saturating_mul(1000)),
            Value::SharedString(n.schema.clone()),
            Value::SharedString(n.table.clone()),
            pos.tx_id.map_or(Value::Null, Value::Int),
            pos.lsn.map_or(Value::Null, |l| Value::Int(l as i64)),
            Value::Null,
        ])
    }

    /// A change event (`op` r/c/u/d) keyed by `key_row` (the new row, or the old one for deletes).
    pub fn change(
        &self,
        op: &str,
        before: Option<Value>,
        after: Option<Value>,
        pos: &SourcePosition,
        now_us: i64,
    ) -> Record {
        let key = match (&after, &before) {
            (Some(row), _) if op != "d" => self.key(row),
            (_, Some(row)) => self.key(row),
            _ => None,
        };
        let value = Value::Struct(vec![
            before.unwrap_or(Value::Null),
            after.unwrap_or(Value::Null),
            self.source(pos),
            Value::Null,
            Value::from(op),
            Value::Int(now_us.div_euclid(1000)),
            Value::Int(now_us),
            Value::Int(now_us.saturating_mul(1000)),
        ]);
        Record::new(
            self.topic.clone(),
            key,
            Some(Data::new(self.envelope_schema.clone(), value)),
            now_us.div_euclid(1000),
        )
    }

    /// The tombstone that follows a delete so compaction can drop the key.
    pub fn tombstone(&self, old_row: &Value, now_us: i64) -> Record {
        Record::new(
            self.topic.clone(),
            self.key(old_row),
            None,
            now_us.div_euclid(1000),
        )
    }

    /// A truncate event: no key, no rows.
    pub fn truncate(&self, pos: &SourcePosition, now_us: i64) -> Record {
        let mut r = self.change("t", None, None, pos, now_us);
        r.key = None;
        r
    }
}

/// `unavailable.value.placeholder` in the column's own representation.
fn placeholder(schema: &Schema, text: &str) -> Value {
    match schema.ty {
        SchemaType::String => Value::from(text),
        SchemaType::Bytes => Value::Bytes(text.as_bytes().to_vec()),
        SchemaType::Array => match schema.items.as_deref().map(|s| s.ty) {
            Some(SchemaType::String) => Value::Array(vec![Value::from(text)]),
            Some(SchemaType::Bytes) => Value::Array(vec![Value::Bytes(text.as_bytes().to_vec())]),
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

/// Heartbeat records on `<topic.heartbeat.prefix>.<topic.prefix>` (Debezium's HeartbeatImpl).
#[derive(Debug)]
pub struct Heartbeat {
    topic: String,
    key: Data,
    value_schema: Arc<Schema>,
}

impl Heartbeat {
    pub fn new(cfg: &PostgresConfig) -> Self {
        let key_schema = Arc::new(
            Schema::structure()
                .field("serverName", Schema::new(SchemaType::String))
                .named("io.debezium.connector.common.ServerNameKey"),
        );
        let value_schema = Arc::new(
            Schema::structure()
                .field("ts_ms", Schema::new(SchemaType::Int64))
                .named("io.debezium.connector.common.Heartbeat"),
        );
        Heartbeat {
            topic: format!("{}.{}", cfg.heartbeat_topics_prefix, cfg.topic_prefix),
            key: Data::new(
                key_schema,
                Value::Struct(vec![Value::from(cfg.topic_prefix.as_str())]),
            ),
            value_schema,
        }
    }

    pub fn record(&self, now_ms: i64) -> Record {
        Record::new(
            self.topic.clone(),
            Some(self.key.clone()),
            Some(Data::new(
                self.value_schema.clone(),
                Value::Struct(vec![Value::Int(now_ms)]),
            )),
            now_ms,
        )
    }
}
