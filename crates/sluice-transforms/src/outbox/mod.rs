//! `io.debezium.transforms.outbox.EventRouter`: the outbox pattern. Each row inserted into an
//! outbox table (`id, aggregatetype, aggregateid, type, payload` by default) becomes a
//! business event on `outbox.event.<aggregatetype>`, keyed by `aggregateid`, with the payload as
//! value and the event id in the `id` header. Updates are unexpected and skipped with
//! Debezium's warning (or fail, per `table.op.invalid.behavior`); deletes and tombstones of the
//! outbox table are dropped, as Debezium does. Records that are not change events pass.

mod json;

use regex::Regex;
use sluice_config::def::{ConfigKey, Importance, KeyType};
use sluice_config::KeyReader;
use sluice_core::data::{Schema, SchemaType, Value};
use sluice_core::json::display_value;
use sluice_core::record::{Header, Record};
use sluice_core::transform::{Transform, TransformError};

use crate::headers::header_value;
use crate::operand::{
    add_field, field_value, java_split, require_struct, struct_get_typed, SchemaCache, Side,
};
use crate::router::{java_replacement, whole_match};
use crate::unwrap::is_envelope;

const TABLE: &str = "Table";
const ROUTER: &str = "Router";
const TRACING: &str = "Tracing";
const NO_TRACING: &str = "Sluice does not emit OpenTelemetry spans";

pub static KEYS: &[ConfigKey] = &[
    ConfigKey::new("table.field.event.id", KeyType::String, Importance::Low, TABLE, "The column which contains the event ID within the outbox table").default("id"),
    ConfigKey::new("table.field.event.key", KeyType::String, Importance::Low, TABLE, "The column which contains the event key within the outbox table").default("aggregateid"),
    ConfigKey::new("table.field.event.type", KeyType::String, Importance::Low, TABLE, "The column which contains the event type within the outbox table").default("type"),
    ConfigKey::new("table.field.event.payload", KeyType::String, Importance::Low, TABLE, "The column which contains the event payload within the outbox table").default("payload"),
    ConfigKey::new("table.field.event.timestamp", KeyType::String, Importance::Medium, TABLE, "Optionally you can override the Kafka message timestamp with a value from a chosen column, otherwise it'll be the Debezium event processed timestamp."),
    ConfigKey::new("table.fields.additional.placement", KeyType::List, Importance::High, TABLE, "Extra fields can be added as part of the event envelope or a message header, format is a list of colon-delimited pairs or trios when you desire to have aliases, e.g. id:header,field_name:envelope:alias,field_name:partition"),
    ConfigKey::new("table.field.additional.missing", KeyType::String, Importance::Medium, TABLE, "When transforming the 'table.fields.additional.placement' fields, defines the behavior when one of the configured fields is missing in the change data. 'error' (default) will throw an exception; 'ignore' will silently skip the missing field.").default("error").one_of(&["error", "ignore"]),
    ConfigKey::new("table.field.event.schema.version", KeyType::String, Importance::Low, TABLE, "The column which contains the event schema version within the outbox table"),
    ConfigKey::new("table.op.invalid.behavior", KeyType::String, Importance::Medium, TABLE, "While Debezium is capturing changes from the outbox table, it is expecting only to process 'create' or 'delete' row events; in case something else is processed this transform can log it as warning, error or stop the process.").default("warn").one_of(&["warn", "error", "fatal"]),
    ConfigKey::new("table.expand.json.payload", KeyType::Boolean, Importance::Medium, TABLE, "Whether or not to try unescaping a JSON string and make it real JSON. It will infer schema information from payload and update the record schema accordingly. If content is not JSON, it just produces a warning and emits the record unchanged").default("false"),
    ConfigKey::new("table.json.payload.null.behavior", KeyType::String, Importance::Medium, TABLE, "Behavior when json payload including null value, the default will ignore null, optional_bytes will keep the null value, and treat null as optional bytes of connect.").default("ignore").one_of(&["ignore", "optional_bytes"]),
    ConfigKey::new("table.json.payload.empty.array.behavior", KeyType::String, Importance::Medium, TABLE, "Behavior when json payload including an empty array value, the default ignore will drop the empty array field, optional_string will keep the field as an optional array with an optional string element type.").default("ignore").one_of(&["ignore", "optional_string"]),
    ConfigKey::new("route.by.field", KeyType::String, Importance::High, ROUTER, "The column which determines how the events will be routed, the value will become part of the topic name").default("aggregatetype"),
    ConfigKey::new("route.topic.regex", KeyType::String, Importance::Low, ROUTER, "The default regex to use within the RegexRouter, the default capture will allow to replace the routed field into a new topic name defined in 'route.topic.replacement'").default("(?<routedByValue>.*)"),
    ConfigKey::new("route.topic.replacement", KeyType::String, Importance::High, ROUTER, "The name of the topic in which the events will be routed, a replacement '${routedByValue}' is available which is the value of The column configured via 'route.by.field'").default("outbox.event.${routedByValue}"),
    ConfigKey::new("route.tombstone.on.empty.payload", KeyType::Boolean, Importance::High, ROUTER, "Whether or not an empty payload should cause a tombstone event.").default("false"),
    ConfigKey::new("tracing.span.context.field", KeyType::String, Importance::Low, TRACING, "The name of the field containing java.util.Properties representation of serialized span context.").default("tracingspancontext").not_applicable(NO_TRACING),
    ConfigKey::new("tracing.operation.name", KeyType::String, Importance::Low, TRACING, "The operation name representing Debezium processing span.").default("debezium-read").not_applicable(NO_TRACING),
    ConfigKey::new("tracing.with.context.field.only", KeyType::Boolean, Importance::Low, TRACING, "Set to true when only events that have serialized context field should be traced.").default("false").not_applicable(NO_TRACING),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Placement {
    Header,
    Envelope,
    Partition,
}

#[derive(Debug, Clone)]
struct Additional {
    placement: Placement,
    field: String,
    alias: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum OnUpdate {
    Warn,
    Error,
    Fatal,
}

pub struct EventRouter {
    event_id: String,
    event_key: String,
    payload: String,
    timestamp: Option<String>,
    schema_version: Option<String>,
    route_by_field: String,
    route_regex: Regex,
    route_replacement: String,
    tombstone_on_empty_payload: bool,
    on_update: OnUpdate,
    additional: Vec<Additional>,
    ignore_missing: bool,
    expand_json: Option<json::Inference>,
    schemas: SchemaCache,
}

pub fn build(r: &mut KeyReader<'_>) -> Option<Box<dyn Transform>> {
    let event_id = r.string("table.field.event.id");
    let event_key = r.string("table.field.event.key");
    r.string("table.field.event.type");
    let payload = r.string("table.field.event.payload");
    let timestamp = r.opt_string("table.field.event.timestamp");
    let placements = r.list("table.fields.additional.placement");
    let ignore_missing = r.choice(
        "table.field.additional.missing",
        &[("error", false), ("ignore", true)],
    );
    let schema_version = r.opt_string("table.field.event.schema.version");
    let on_update = r.choice(
        "table.op.invalid.behavior",
        &[
            ("warn", OnUpdate::Warn),
            ("error", OnUpdate::Error),
            ("fatal", OnUpdate::Fatal),
        ],
    );
    let expand = r.bool("table.expand.json.payload");
    let null_as_bytes = r.choice(
        "table.json.payload.null.behavior",
        &[("ignore", false), ("optional_bytes", true)],
    );
    let empty_array_as_strings = r.choice(
        "table.json.payload.empty.array.behavior",
        &[("ignore", false), ("optional_string", true)],
    );
    let route_by_field = r.string("route.by.field");
    let route_regex = r.string("route.topic.regex");
    let route_replacement = r.string("route.topic.replacement");
    let tombstone_on_empty_payload = r.bool("route.tombstone.on.empty.payload");
    for key in ["tracing.span.context.field", "tracing.operation.name"] {
        r.string(key);
    }
    r.bool("tracing.with.context.field.only");

    let mut additional = Vec::new();
    for spec in &placements {
        let parts = java_split(spec, ':');
        if parts.len() != 2 && parts.len() != 3 {
            r.issue(
                "table.fields.additional.placement",
                Some(&placements.join(",")),
                format!("A comma-separated list of valid String pairs or trios is expected but got: [{}]", placements.join(", ")),
            );
            return None;
        }
        let placement = match parts[1].trim().to_ascii_lowercase().as_str() {
            "header" => Placement::Header,
            "envelope" => Placement::Envelope,
            "partition" => Placement::Partition,
            other => {
                r.issue(
                    "table.fields.additional.placement",
                    Some(spec),
                    format!("Unknown placement {other}: value must be one of header, envelope, partition"),
                );
                return None;
            }
        };
        let field = parts[0].trim().to_owned();
        let alias = parts
            .get(2)
            .map_or_else(|| field.clone(), |a| a.trim().to_owned());
        additional.push(Additional {
            placement,
            field,
            alias,
        });
    }
    let route = match whole_match(&route_regex) {
        Ok(re) => re,
        Err(e) => {
            r.issue(
                "route.topic.regex",
                Some(&route_regex),
                format!("not a valid regular expression: {e}"),
            );
            return None;
        }
    };
    Some(Box::new(EventRouter {
        event_id,
        event_key,
        payload,
        timestamp,
        schema_version,
        route_by_field,
        route_replacement: java_replacement(&route_replacement, route.captures_len()),
        route_regex: route,
        tombstone_on_empty_payload,
        on_update,
        additional,
        ignore_missing,
        expand_json: expand.then_some(json::Inference {
            null_as_bytes,
            empty_array_as_strings,
        }),
        schemas: SchemaCache::default(),
    }))
}

/// Debezium's `getSchemaName`: the routed value inserted before the last part of the row's
/// schema name (`server.public.outbox.Value` → `server.public.outbox.Order.Value`).
fn schema_name(row_name: Option<&str>, routed: &str) -> String {
    match row_name {
        Some(name) => match name.rfind('.') {
            Some(dot) => format!("{}{routed}.{}", &name[..=dot], &name[dot + 1..]),
            None => format!("{routed}.{name}"),
        },
        None => routed.to_owned(),
    }
}

fn key_text(record: &Record) -> String {
    record.key.as_ref().map_or_else(
        || "null".to_owned(),
        |k| display_value(k.schema.as_deref(), &k.value),
    )
}

impl EventRouter {
    /// The Kafka timestamp: the configured column (Timestamp, MicroTimestamp or NanoTimestamp)
    /// or the event's `ts_ms`.
    fn timestamp_ms(
        &self,
        envelope: (&Schema, &[Value]),
        row: (&Schema, &[Value]),
    ) -> Result<Option<i64>, TransformError> {
        let event_ts = || match crate::operand::struct_get(envelope.0, envelope.1, "ts_ms", true) {
            Some((_, Value::Int(ms))) => Some(ms),
            _ => None,
        };
        let Some(column) = &self.timestamp else {
            return Ok(event_ts());
        };
        let Some(i) = row.0.field_index(column) else {
            return Err(TransformError::new(format!(
                "Unable to find timestamp field {column} in event"
            )));
        };
        let Value::Int(ts) = struct_get_typed(row.0, row.1, column, SchemaType::Int64)? else {
            return Ok(event_ts());
        };
        match row.0.fields[i].schema.name.as_deref() {
            None => Err(TransformError::new(
                "Unsupported field type INT64 (without logical schema name) for event timestamp",
            )),
            Some("org.apache.kafka.connect.data.Timestamp" | "io.debezium.time.Timestamp") => {
                Ok(Some(ts))
            }
            Some("io.debezium.time.MicroTimestamp") => Ok(Some(ts / 1_000)),
            Some("io.debezium.time.NanoTimestamp") => Ok(Some(ts / 1_000_000)),
            Some(other) => Err(TransformError::new(format!(
                "Unsupported field type {other} for event timestamp"
            ))),
        }
    }
}

impl Transform for EventRouter {
    fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        if Side::Value.is_null(&record) {
            tracing::debug!(
                "Tombstone message ignored. Message key: \"{}\"",
                key_text(&record)
            );
            return Ok(None);
        }
        if !is_envelope(&record) {
            return Ok(Some(record));
        }
        let (schema, value) = Side::Value.take(&mut record);
        let (envelope_schema, envelope) =
            require_struct(schema.as_ref(), &value, "Detect Debezium Operation")?;
        let op = struct_get_typed(envelope_schema, envelope, "op", SchemaType::String)?;
        match op.as_str() {
            Some("d") => {
                tracing::debug!("Delete message {} ignored", key_text(&record));
                return Ok(None);
            }
            Some("u") => {
                match self.on_update {
                    OnUpdate::Warn => tracing::warn!(
                        "Unexpected update message received {} and ignored",
                        key_text(&record)
                    ),
                    OnUpdate::Error => tracing::error!(
                        "Unexpected update message received {} and ignored",
                        key_text(&record)
                    ),
                    OnUpdate::Fatal => {
                        return Err(TransformError::new(format!(
                            "Unexpected update message received {}, fail.",
                            key_text(&record)
                        )))
                    }
                }
                return Ok(None);
            }
            _ => {}
        }
        let after_index = envelope_schema
            .field_index("after")
            .ok_or_else(|| TransformError::new("Unknown field: after"))?;
        let row_schema = &envelope_schema.fields[after_index].schema;
        let row_value = field_value(
            &envelope_schema.fields[after_index],
            envelope.get(after_index),
            true,
        );
        let (row_schema, row) = require_struct(Some(row_schema), &row_value, "Read Outbox Event")?;

        let Some(payload_index) = row_schema.field_index(&self.payload) else {
            return Err(TransformError::new(format!(
                "Unable to find payload field {} in event",
                self.payload
            )));
        };
        let mut payload_schema = row_schema.fields[payload_index].schema.clone();
        let mut payload = field_value(
            &row_schema.fields[payload_index],
            row.get(payload_index),
            true,
        );
        let timestamp = self.timestamp_ms((envelope_schema, envelope), (row_schema, row))?;
        let Some(id_index) = row_schema.field_index(&self.event_id) else {
            return Err(TransformError::new(format!(
                "Unable to find event-id field {} in event",
                self.event_id
            )));
        };
        let id = field_value(&row_schema.fields[id_index], row.get(id_index), true);
        record.headers.push(Header {
            key: "id".into(),
            value: header_value(Some(&row_schema.fields[id_index].schema), &id),
        });

        if let Some(inference) = &self.expand_json {
            match &payload {
                Value::String(_) | Value::SharedString(_) => {
                    match inference.expand(&self.payload, payload.as_str().unwrap_or_default()) {
                        Ok((s, v)) => {
                            payload_schema = s;
                            payload = v;
                        }
                        Err(e) => tracing::warn!("JSON expansion failed: {e}"),
                    }
                }
                Value::Null => {}
                _ => tracing::warn!(
                    "Expand JSON payload is turned on but payload is not a string in {}",
                    key_text(&record)
                ),
            }
        }

        let routed = match struct_get_typed(row_schema, row, &self.route_by_field, SchemaType::String)? {
            Value::Null => {
                return Err(TransformError::new(format!(
                    "The outbox row has no value in {}, the column route.by.field names: its event has no topic",
                    self.route_by_field
                )))
            }
            v => v.as_str().unwrap_or_default().to_owned(),
        };
        let version = match &self.schema_version {
            None => None,
            Some(column) => match struct_get_typed(row_schema, row, column, SchemaType::Int32)? {
                Value::Int(v) => Some(v as i32),
                _ => None,
            },
        };

        let missing =
            |field: &str| TransformError::new(format!("Unable to find field {field} in event"));
        let envelope_fields: Vec<&Additional> = self
            .additional
            .iter()
            .filter(|a| a.placement == Placement::Envelope)
            .filter(|a| !(self.ignore_missing && row_schema.field_index(&a.field).is_none()))
            .collect();
        let in_envelope = self
            .additional
            .iter()
            .any(|a| a.placement == Placement::Envelope);
        let mut partition = None;
        for a in &self.additional {
            let Some(i) = row_schema.field_index(&a.field) else {
                if self.ignore_missing {
                    continue;
                }
                return Err(missing(&a.field));
            };
            let v = field_value(&row_schema.fields[i], row.get(i), true);
            match a.placement {
                Placement::Header => record.headers.push(Header {
                    key: a.alias.clone(),
                    value: header_value(Some(&row_schema.fields[i].schema), &v),
                }),
                Placement::Partition => {
                    partition =
                        match struct_get_typed(row_schema, row, &a.field, SchemaType::Int32)? {
                            Value::Int(p) => i32::try_from(p).ok(),
                            _ => None,
                        }
                }
                Placement::Envelope => {}
            }
        }

        let empty = match &payload {
            Value::Null => true,
            Value::String(_) | Value::SharedString(_) => {
                payload.as_str().unwrap_or_default().trim().is_empty()
            }
            _ => false,
        };
        if empty && self.tombstone_on_empty_payload {
            Side::Value.put(&mut record, None, Value::Null);
        } else if !in_envelope {
            Side::Value.put(&mut record, Some(payload_schema), payload);
        } else {
            // Debezium caches this schema per payload schema, so the first routed value names
            // it for all; Sluice names it after each event's own routed value.
            let name = schema_name(row_schema.name.as_deref(), &routed);
            let tag = format!("{name}/{version:?}");
            let value_schema =
                self.schemas
                    .get_or_build_tagged(&[row_schema, &payload_schema], &tag, || {
                        let mut s = Schema::structure();
                        s.name = Some(name.clone());
                        s.version = version;
                        add_field(&mut s, "payload", payload_schema.clone())?;
                        for a in &envelope_fields {
                            let i = row_schema
                                .field_index(&a.field)
                                .ok_or_else(|| missing(&a.field))?;
                            add_field(&mut s, &a.alias, row_schema.fields[i].schema.clone())?;
                        }
                        Ok(s)
                    })?;
            let mut values = vec![payload];
            for a in &envelope_fields {
                let i = row_schema
                    .field_index(&a.field)
                    .ok_or_else(|| missing(&a.field))?;
                values.push(field_value(&row_schema.fields[i], row.get(i), true));
            }
            Side::Value.put(&mut record, Some(value_schema), Value::Struct(values));
        }

        let Some(key_index) = row_schema.field_index(&self.event_key) else {
            return Err(TransformError::new(format!(
                "{} is not a valid field name",
                self.event_key
            )));
        };
        let key = field_value(&row_schema.fields[key_index], row.get(key_index), true);
        Side::Key.put(
            &mut record,
            Some(row_schema.fields[key_index].schema.clone()),
            key,
        );
        record.partition = partition;
        if let Some(ts) = timestamp {
            record.timestamp_ms = ts;
        }
        record.topic = if self.route_regex.is_match(&routed) {
            self.route_regex
                .replace(&routed, self.route_replacement.as_str())
                .into_owned()
        } else {
            routed
        };
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operand::testing::{refused, transform};
    use sluice_core::data::Data;
    use sluice_core::logical;
    use std::sync::Arc;

    fn router(props: &[(&str, &str)]) -> Box<dyn Transform> {
        transform(KEYS, build, props)
    }

    fn string() -> Schema {
        Schema::new(SchemaType::String)
    }

    /// EventRouterTest.createEventRecord: an `event.Envelope` create of an outbox row.
    fn event(
        id: &str,
        event_type: &str,
        aggregate_id: &str,
        aggregate_type: &str,
        payload: Value,
        extra: &[(&str, Schema, Value)],
    ) -> Record {
        let mut row = Schema::structure()
            .named("db.outbox.Value")
            .field("id", string())
            .field("aggregatetype", string())
            .field("aggregateid", string())
            .field("type", string())
            .field("payload", string().optional())
            .field("is_deleted", Schema::new(SchemaType::Boolean).optional());
        let mut values = vec![
            id.into(),
            aggregate_type.into(),
            aggregate_id.into(),
            event_type.into(),
            payload,
            Value::Null,
        ];
        for (name, schema, value) in extra {
            match row.field_index(name) {
                Some(i) => values[i] = value.clone(),
                None => {
                    row = row.field(*name, schema.clone());
                    values.push(value.clone());
                }
            }
        }
        let row = Arc::new(row.optional());
        let envelope = Schema::structure()
            .named("event.Envelope")
            .field("before", row.clone())
            .field("after", row)
            .field("op", string())
            .field("ts_ms", Schema::new(SchemaType::Int64).optional());
        let v = Value::Struct(vec![
            Value::Null,
            Value::Struct(values),
            "c".into(),
            Value::Int(1_700_000_000_000),
        ]);
        Record::new("db.outbox", None, Some(Data::new(envelope, v)), 0)
    }

    fn default_event() -> Record {
        event(
            "da8d6de6-3b77-45ff-8f44-57db55a7a06c",
            "UserCreated",
            "10711fa5",
            "User",
            "{}".into(),
            &[],
        )
    }

    fn with_op(mut r: Record, op: &str) -> Record {
        if let Some(Data {
            value: Value::Struct(v),
            ..
        }) = &mut r.value
        {
            v[2] = op.into();
        }
        r
    }

    // EventRouterTest.canSkipTombstone / canSkipDeletion / canSkipUpdates / canFailOnUpdates /
    // canSkipMessagesWithoutDebeziumCdcEnvelope*
    #[test]
    fn skips() {
        let t = router(&[]);
        assert!(t
            .apply(Record::new("db.outbox", None, None, 0))
            .unwrap()
            .is_none());
        assert!(t.apply(with_op(default_event(), "d")).unwrap().is_none());
        assert!(t.apply(with_op(default_event(), "u")).unwrap().is_none());
        let err = router(&[("table.op.invalid.behavior", "fatal")])
            .apply(with_op(default_event(), "u"))
            .unwrap_err();
        assert!(err
            .to_string()
            .starts_with("Unexpected update message received"));
        for schema in [
            Schema::structure().field("a", string()),
            Schema::structure()
                .named("x.NotEnvelope")
                .field("a", string()),
        ] {
            let r = Record::new(
                "db.outbox",
                None,
                Some(Data::new(schema, Value::Struct(vec!["v".into()]))),
                0,
            );
            assert_eq!(t.apply(r.clone()).unwrap().unwrap().value, r.value);
        }
        let r = Record::new(
            "db.outbox",
            None,
            Some(Data::schemaless(Value::Map(vec![]))),
            0,
        );
        assert!(t.apply(r).unwrap().is_some());
    }

    // EventRouterTest.canExtractTableFields / canSetDefaultMessageKey / canSetMessageKey /
    // failsOnInvalidSetMessageKey / canSetTimestampFromDebeziumEnvelopeByDefault /
    // canRouteBasedOnField
    #[test]
    fn routes_keys_and_timestamps() {
        let out = router(&[]).apply(default_event()).unwrap().unwrap();
        let v = out.value.unwrap();
        assert_eq!(v.value, "{}".into());
        assert_eq!(v.schema.unwrap().version, None);
        let k = out.key.unwrap();
        assert_eq!(k.schema.unwrap().ty, SchemaType::String);
        assert_eq!(k.value, "10711fa5".into());
        assert_eq!(out.timestamp_ms, 1_700_000_000_000);
        assert_eq!(out.topic, "outbox.event.User");
        assert_eq!(
            out.headers,
            [Header {
                key: "id".into(),
                value: Some(b"da8d6de6-3b77-45ff-8f44-57db55a7a06c".to_vec())
            }]
        );

        let out = router(&[("table.field.event.key", "type")])
            .apply(default_event())
            .unwrap()
            .unwrap();
        assert_eq!(out.key.unwrap().value, "UserCreated".into());
        assert!(router(&[("table.field.event.key", "fakefield")])
            .apply(default_event())
            .is_err());

        let address = event(
            "ab720dd3",
            "AddressCreated",
            "10711fa5",
            "Address",
            "{}".into(),
            &[],
        );
        assert_eq!(
            router(&[("route.by.field", "aggregatetype")])
                .apply(address)
                .unwrap()
                .unwrap()
                .topic,
            "outbox.event.Address"
        );
        let t = router(&[
            ("route.topic.regex", "(?<routedByValue>.*)"),
            ("route.topic.replacement", "events.${routedByValue}.v1"),
        ]);
        assert_eq!(
            t.apply(default_event()).unwrap().unwrap().topic,
            "events.User.v1"
        );
    }

    // EventRouterTest.canSetTimestampByUserDefinedConfiguration
    #[test]
    fn timestamp_from_a_column() {
        let t = router(&[("table.field.event.timestamp", "event_timestamp")]);
        let r = event(
            "id",
            "UserCreated",
            "420b186d",
            "User",
            "{}".into(),
            &[(
                "event_timestamp",
                logical::timestamp_schema(),
                Value::Int(14_222_264_625_338),
            )],
        );
        assert_eq!(
            t.apply(r).unwrap().unwrap().timestamp_ms,
            14_222_264_625_338
        );
        let micros = Schema::new(SchemaType::Int64).named("io.debezium.time.MicroTimestamp");
        let r = event(
            "id",
            "UserCreated",
            "420b186d",
            "User",
            "{}".into(),
            &[(
                "event_timestamp",
                micros,
                Value::Int(14_222_264_625_338_000),
            )],
        );
        assert_eq!(
            t.apply(r).unwrap().unwrap().timestamp_ms,
            14_222_264_625_338
        );
    }

    // EventRouterTest.canConfigureEveryTableField
    #[test]
    fn every_table_field() {
        let t = router(&[
            ("table.field.event.id", "event_id"),
            ("table.field.event.key", "payload_id"),
            ("table.field.event.type", "event_type"),
            ("table.field.event.payload", "payload_body"),
            ("route.by.field", "payload_id"),
        ]);
        let row = Arc::new(
            Schema::structure()
                .field("event_id", string())
                .field("payload_id", string())
                .field("event_type", string())
                .field("payload_body", string())
                .optional(),
        );
        let env = Schema::structure()
            .named("event.Envelope")
            .field("before", row.clone())
            .field("after", row)
            .field("op", string());
        let v = Value::Struct(vec![
            Value::Null,
            Value::Struct(vec![
                "da8d6de6-3b77-45ff-8f44-57db55a7a06c".into(),
                "10711fa5".into(),
                "UserCreated".into(),
                "{}".into(),
            ]),
            "c".into(),
        ]);
        let out = t
            .apply(Record::new("db.outbox", None, Some(Data::new(env, v)), 0))
            .unwrap()
            .unwrap();
        assert_eq!(out.value.unwrap().value, "{}".into());
        assert_eq!(out.topic, "outbox.event.10711fa5");
        assert_eq!(out.headers.len(), 1);
        assert_eq!(
            out.headers[0].value.as_deref(),
            Some(&b"da8d6de6-3b77-45ff-8f44-57db55a7a06c"[..])
        );
    }

    // EventRouterTest.canSetPayloadTypeIntoTheEnvelope(WithAlias) / canSetMultipleFieldsIntoTheEnvelope /
    // canSetSchemaVersionWhenMoreThanPayloadIsInEnvelope / canSetPartitionWithAdditionalFields
    #[test]
    fn additional_fields() {
        let out = router(&[(
            "table.fields.additional.placement",
            "type:envelope:eventType,aggregateid:header:key",
        )])
        .apply(default_event())
        .unwrap()
        .unwrap();
        let v = out.value.unwrap();
        let s = v.schema.unwrap();
        assert_eq!(s.name.as_deref(), Some("db.outbox.User.Value"));
        let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["payload", "eventType"]);
        assert_eq!(
            v.value,
            Value::Struct(vec!["{}".into(), "UserCreated".into()])
        );
        assert_eq!(
            out.headers[1],
            Header {
                key: "key".into(),
                value: Some(b"10711fa5".to_vec())
            }
        );

        let t = router(&[
            ("table.fields.additional.placement", "type:envelope"),
            ("table.field.event.schema.version", "version"),
        ]);
        let r = event(
            "id",
            "UserCreated",
            "10711fa5",
            "User",
            "{}".into(),
            &[("version", Schema::new(SchemaType::Int32), Value::Int(3))],
        );
        assert_eq!(
            t.apply(r)
                .unwrap()
                .unwrap()
                .value
                .unwrap()
                .schema
                .unwrap()
                .version,
            Some(3)
        );

        let t = router(&[("table.fields.additional.placement", "partition:partition")]);
        let r = event(
            "id",
            "UserCreated",
            "10711fa5",
            "User",
            "{}".into(),
            &[("partition", Schema::new(SchemaType::Int32), Value::Int(2))],
        );
        assert_eq!(t.apply(r).unwrap().unwrap().partition, Some(2));
    }

    // EventRouterTest.canMarkAnEventAsDeleted / noTombstoneIfNotConfigured
    #[test]
    fn empty_payloads() {
        let extra = [(
            "is_deleted",
            Schema::new(SchemaType::Boolean).optional(),
            Value::from(true),
        )];
        let t = router(&[
            (
                "table.fields.additional.placement",
                "is_deleted:envelope:deleted",
            ),
            ("route.tombstone.on.empty.payload", "true"),
        ]);
        let out = t
            .apply(event(
                "id",
                "UserCreated",
                "10711fa5",
                "User",
                "{}".into(),
                &extra,
            ))
            .unwrap()
            .unwrap();
        assert_eq!(
            out.value.unwrap().value,
            Value::Struct(vec!["{}".into(), true.into()])
        );
        let out = t
            .apply(event(
                "id",
                "UserCreated",
                "10711fa5",
                "User",
                "".into(),
                &extra,
            ))
            .unwrap()
            .unwrap();
        assert!(out.value.is_none());
        assert_eq!(out.key.unwrap().value, "10711fa5".into());
        let t = router(&[(
            "table.fields.additional.placement",
            "is_deleted:envelope:deleted",
        )]);
        let out = t
            .apply(event(
                "id",
                "UserCreated",
                "10711fa5",
                "User",
                "".into(),
                &extra,
            ))
            .unwrap()
            .unwrap();
        assert_eq!(
            out.value.unwrap().value,
            Value::Struct(vec!["".into(), true.into()])
        );
        // shouldNotWarnOnNullPayloadWhenExpandJsonPayloadEnabled: a null payload is a tombstone.
        let t = router(&[
            ("table.expand.json.payload", "true"),
            ("route.tombstone.on.empty.payload", "true"),
        ]);
        assert!(t
            .apply(event(
                "id",
                "UserCreated",
                "10711fa5",
                "User",
                Value::Null,
                &[]
            ))
            .unwrap()
            .unwrap()
            .value
            .is_none());
    }

    // EventRouterTest.canExpandJsonPayloadIfConfigured / shouldNotExpandJSONPayloadIfNotConfigured /
    // canExpandJsonPayloadWithAdditionalFieldInEnvelope / canExpandJsonArrayWithComplexElements
    #[test]
    fn expand_json() {
        let text = r#"{"fullName": "John Doe", "rating": 4.9, "age": 42}"#;
        let out = router(&[])
            .apply(event(
                "id",
                "UserCreated",
                "10711fa5",
                "User",
                text.into(),
                &[],
            ))
            .unwrap()
            .unwrap();
        assert_eq!(out.value.unwrap().value, text.into());
        let out = router(&[("table.expand.json.payload", "true")])
            .apply(event(
                "id",
                "UserCreated",
                "10711fa5",
                "User",
                text.into(),
                &[],
            ))
            .unwrap()
            .unwrap();
        let v = out.value.unwrap();
        assert_eq!(v.schema.unwrap().ty, SchemaType::Struct);
        assert_eq!(
            v.value,
            Value::Struct(vec!["John Doe".into(), Value::Float64(4.9), Value::Int(42)])
        );

        let t = router(&[
            ("table.expand.json.payload", "true"),
            ("table.fields.additional.placement", "type:envelope"),
        ]);
        let out = t
            .apply(event(
                "id",
                "UserCreated",
                "10711fa5",
                "User",
                r#"{"fullName": "John Doe"}"#.into(),
                &[],
            ))
            .unwrap()
            .unwrap();
        let v = out.value.unwrap();
        let s = v.schema.unwrap();
        assert_eq!(s.fields[0].schema.fields[0].name, "fullName");
        assert_eq!(
            v.value,
            Value::Struct(vec![
                Value::Struct(vec!["John Doe".into()]),
                "UserCreated".into()
            ])
        );

        let t = router(&[("table.expand.json.payload", "true")]);
        let one = r#"{"id":"1028cbab","attributes":[{"id":"10911586","adr":null,"eans":[{"code":"2007000013656","createdAt":"2022-06-08T11:33:16.465Z"}],"isCanBeReturnToSupplier":false}]}"#;
        let two = r#"{"id":"1028cbab","attributes":[{"id":"10911586","adr":null,"eans":[{"code":"2007000013656","createdAt":"2022-06-08T11:33:16.465Z"},{"code":"2000630108556","createdAt":"2022-06-23T07:57:54.717Z"}],"isCanBeReturnToSupplier":false}]}"#;
        let a = t
            .apply(event(
                "id",
                "UserCreated",
                "6a3f12a0",
                "User",
                one.into(),
                &[],
            ))
            .unwrap()
            .unwrap()
            .value
            .unwrap();
        let b = t
            .apply(event(
                "id",
                "UserCreated",
                "6a3f12a0",
                "User",
                two.into(),
                &[],
            ))
            .unwrap()
            .unwrap()
            .value
            .unwrap();
        assert_eq!(a.schema, b.schema);
        // Not JSON: a warning, and the payload as it was.
        let out = t
            .apply(event("id", "UserCreated", "1", "User", "plain".into(), &[]))
            .unwrap()
            .unwrap();
        assert_eq!(out.value.unwrap().value, "plain".into());
    }

    // EventRouterTest.canSetFieldIntoTheEnvelopeWithMissingField / shouldFailOnMissingField
    #[test]
    fn missing_additional_fields() {
        let t = router(&[
            (
                "table.fields.additional.placement",
                "nonExistingField:envelope:alias",
            ),
            ("table.field.additional.missing", "ignore"),
        ]);
        let v = t.apply(default_event()).unwrap().unwrap().value.unwrap();
        assert!(v.schema.unwrap().field_index("alias").is_none());
        let t = router(&[(
            "table.fields.additional.placement",
            "nonExistingField:envelope:alias",
        )]);
        assert_eq!(
            t.apply(default_event()).unwrap_err().to_string(),
            "Unable to find field nonExistingField in event"
        );
        assert!(
            refused(KEYS, build, &[("table.fields.additional.placement", "a")])
                .contains("pairs or trios")
        );
        assert!(refused(
            KEYS,
            build,
            &[("table.fields.additional.placement", "a:nowhere")]
        )
        .contains("header, envelope, partition"));
    }
}
