//! `provide.transaction.metadata`: Debezium's transaction topic (a BEGIN and an END record per
//! source transaction) and the `transaction` block of each change event, as Debezium's
//! `TransactionMonitor` and `PostgresTransactionMonitor` make them. Their ids are
//! `"<xid>:<lsn>"` with the LSN of the record at hand, so only the xid part is the same on
//! the BEGIN, the changes and the END of one transaction (Debezium's own tests split on `:`).
//! The BEGIN's LSN is the commit record's (pgoutput's Begin carries no other), where Debezium
//! has the transaction's first.

use std::sync::Arc;

use sluice_core::data::{Data, Schema, SchemaType, Value};
use sluice_core::record::Record;

/// The transaction topic's schemas (`SchemaFactory.transaction*Schema`).
#[derive(Debug)]
pub(crate) struct TransactionTopic {
    topic: String,
    key_schema: Arc<Schema>,
    value_schema: Arc<Schema>,
}

/// The transaction being streamed: its xid and event counters.
#[derive(Debug, Default)]
pub(crate) struct TransactionCounts {
    xid: u32,
    total: i64,
    /// Events per data collection (`schema.table`), in the order first seen.
    per_collection: Vec<(String, i64)>,
}

impl TransactionTopic {
    pub(crate) fn new(topic: String) -> Self {
        let string = || Schema::new(SchemaType::String);
        let int64 = || Schema::new(SchemaType::Int64);
        let collection_schema = Arc::new(
            Schema::structure()
                .field("data_collection", string())
                .field("event_count", int64())
                .optional()
                .named("event.collection")
                .version(1),
        );
        let key_schema = Arc::new(
            Schema::structure()
                .field("id", string())
                .named("io.debezium.connector.common.TransactionMetadataKey")
                .version(1),
        );
        let value_schema = Arc::new(
            Schema::structure()
                .field("status", string())
                .field("id", string())
                .field("event_count", int64().optional())
                .field(
                    "data_collections",
                    Schema::array(collection_schema).optional(),
                )
                .field("ts_ms", int64())
                .named("io.debezium.connector.common.TransactionMetadataValue")
                .version(1),
        );
        TransactionTopic {
            topic,
            key_schema,
            value_schema,
        }
    }

    /// The BEGIN record of transaction `xid`, and its fresh counters.
    pub(crate) fn begin(
        &self,
        xid: u32,
        lsn: u64,
        commit_ms: i64,
        now_ms: i64,
    ) -> (Record, TransactionCounts) {
        let id = format!("{xid}:{lsn}");
        let value = vec![
            Value::from("BEGIN"),
            Value::from(id.as_str()),
            Value::Null,
            Value::Null,
            Value::Int(commit_ms),
        ];
        let counts = TransactionCounts {
            xid,
            ..TransactionCounts::default()
        };
        (self.record(id, value, now_ms), counts)
    }

    /// The END record: how many events the transaction had, in total and per table.
    pub(crate) fn end(
        &self,
        counts: TransactionCounts,
        end_lsn: u64,
        commit_ms: i64,
        now_ms: i64,
    ) -> Record {
        let id = format!("{}:{end_lsn}", counts.xid);
        let collections = counts
            .per_collection
            .into_iter()
            .map(|(name, n)| Value::Struct(vec![Value::from(name), Value::Int(n)]))
            .collect();
        let value = vec![
            Value::from("END"),
            Value::from(id.as_str()),
            Value::Int(counts.total),
            Value::Array(collections),
            Value::Int(commit_ms),
        ];
        self.record(id, value, now_ms)
    }

    fn record(&self, id: String, value: Vec<Value>, now_ms: i64) -> Record {
        Record::new(
            self.topic.clone(),
            Some(Data::new(
                self.key_schema.clone(),
                Value::Struct(vec![Value::from(id)]),
            )),
            Some(Data::new(self.value_schema.clone(), Value::Struct(value))),
            now_ms,
        )
    }
}

impl TransactionCounts {
    /// Counts a change event of `collection` at `lsn` and fills its `transaction` block
    /// (`{id, total_order, data_collection_order}`, the envelope's fourth field).
    pub(crate) fn event(&mut self, record: &mut Record, collection: &str, lsn: u64) {
        let Some(Value::Struct(envelope)) = record.value.as_mut().map(|v| &mut v.value) else {
            return;
        };
        self.total += 1;
        let order = match self
            .per_collection
            .iter_mut()
            .find(|(c, _)| c == collection)
        {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.per_collection.push((collection.to_owned(), 1));
                1
            }
        };
        envelope[3] = Value::Struct(vec![
            Value::from(format!("{}:{lsn}", self.xid)),
            Value::Int(self.total),
            Value::Int(order),
        ]);
    }
}
