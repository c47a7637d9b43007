//! Connect's internal topics (`connect-offsets`, `connect-configs`, `connect-status`), read
//! as a key → latest value log: a null value deletes the key, as compaction would. They are
//! created as Connect creates them (25 partitions for offsets, 5 for status, 1 for configs by
//! default), every key is written to the partition a Java producer would choose (murmur2),
//! and reading covers every partition, so a topic a Connect cluster made works unchanged.
//! Tansu has no compaction, so reading means scanning from the start.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use sluice_core::error::ConnectorError;
use sluice_core::pipeline::OffsetBackend;
use sluice_core::record::{Json, SourceOffset};

use crate::client::{check_brokers, BrokerErrors, KafkaConnection, Role};
use crate::error::{classify, KafkaSinkError};
use crate::producer::{client_error, TopicCreator, TopicDefaults};

/// A record's key and value bytes.
pub type KeyValue = (Vec<u8>, Vec<u8>);

pub struct InternalTopic {
    conn: KafkaConnection,
    /// The topic's name in Kafka.
    topic: String,
    producer: FutureProducer<BrokerErrors>,
}

impl InternalTopic {
    /// Opens the topic, creating it with `settings` when it does not exist.
    pub async fn open(
        conn: &KafkaConnection,
        topic: &str,
        settings: TopicDefaults,
    ) -> Result<Self, ConnectorError> {
        let errors = BrokerErrors::default();
        let producer: FutureProducer<BrokerErrors> = conn
            .client(Role::Worker)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // The Java client's partitioner, so keys land where Connect puts them.
            .set("partitioner", "murmur2_random")
            .set("client.id", "sluice-internal")
            .create_with_context(errors.clone())
            .map_err(client_error(&conn.bootstrap))?;
        check_brokers(producer.client(), &errors, &conn.bootstrap)?;
        let mut creator = TopicCreator::new(conn)?;
        creator.ensure(topic, settings).await?;
        Ok(InternalTopic {
            conn: conn.clone(),
            topic: conn.name(topic),
            producer,
        })
    }

    /// Durably writes `key` → `value` (`None`: a tombstone).
    pub async fn put(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), ConnectorError> {
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&self.topic).key(key);
        if let Some(v) = value {
            record = record.payload(v);
        }
        self.producer
            .send(record, Duration::from_secs(60))
            .await
            .map_err(|(e, _)| {
                let error = KafkaSinkError::Produce {
                    topic: self.topic.clone(),
                    bootstrap: self.conn.bootstrap.clone(),
                    reason: e.to_string(),
                };
                classify(&e, error)
            })?;
        Ok(())
    }

    /// The latest value of every live key, in first-written order per partition.
    pub async fn read_all(&self) -> Result<Vec<KeyValue>, ConnectorError> {
        tokio::task::block_in_place(|| self.scan())
    }

    fn read_error(&self, e: KafkaError, what: &str) -> ConnectorError {
        let error = KafkaSinkError::Read {
            topic: self.topic.clone(),
            bootstrap: self.conn.bootstrap.clone(),
            reason: format!("{what}: {e}"),
        };
        classify(&e, error)
    }

    fn scan(&self) -> Result<Vec<KeyValue>, ConnectorError> {
        let timeout = Duration::from_secs(30);
        let consumer: BaseConsumer = self
            .conn
            .client(Role::Worker)
            .set("group.id", self.conn.name("sluice-internal-reader"))
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", "10")
            .create()
            .map_err(client_error(&self.conn.bootstrap))?;
        let metadata = consumer
            .fetch_metadata(Some(&self.topic), timeout)
            .map_err(|e| self.read_error(e, "reading its metadata"))?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|t| t.name() == self.topic)
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        let mut ends = Vec::new();
        let mut tpl = TopicPartitionList::new();
        for &p in &partitions {
            let (_, high) = consumer
                .fetch_watermarks(&self.topic, p, timeout)
                .map_err(|e| self.read_error(e, "reading its end offsets"))?;
            if high > 0 {
                ends.push((p, high));
                tpl.add_partition_offset(&self.topic, p, Offset::Beginning)
                    .map_err(|e| self.read_error(e, "assigning partitions"))?;
            }
        }
        let mut live: Vec<KeyValue> = Vec::new();
        if ends.is_empty() {
            return Ok(live);
        }
        consumer
            .assign(&tpl)
            .map_err(|e| self.read_error(e, "assigning partitions"))?;
        // Next offset to read per partition.
        let mut next: Vec<(i32, i64, i64)> = ends.iter().map(|&(p, h)| (p, 0, h)).collect();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while next.iter().any(|(_, n, h)| n < h) {
            if std::time::Instant::now() > deadline {
                let read: i64 = next.iter().map(|(_, n, _)| n).sum();
                let total: i64 = next.iter().map(|(_, _, h)| h).sum();
                return Err(ConnectorError::transient(KafkaSinkError::Read {
                    topic: self.topic.clone(),
                    bootstrap: self.conn.bootstrap.clone(),
                    reason: format!("timed out after reading {read} of {total} records"),
                }));
            }
            match consumer.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    if let Some(entry) = next.iter_mut().find(|(p, _, _)| *p == m.partition()) {
                        entry.1 = m.offset() + 1;
                    }
                    let Some(key) = m.key() else { continue };
                    match (live.iter_mut().find(|(k, _)| k == key), m.payload()) {
                        (Some(entry), Some(v)) => entry.1 = v.to_vec(),
                        (None, Some(v)) => live.push((key.to_vec(), v.to_vec())),
                        (_, None) => live.retain(|(k, _)| k != key),
                    }
                }
                Some(Err(e)) => return Err(self.read_error(e, "reading records")),
                None => {}
            }
        }
        Ok(live)
    }
}

/// Source offsets in Connect's `connect-offsets` topic, in Connect's own format (key
/// `["<connector>",{partition}]`, value the offset map, both JSON without schemas), so
/// offsets move between Sluice and a Connect cluster.
pub struct KafkaOffsetStore {
    log: InternalTopic,
}

impl KafkaOffsetStore {
    pub async fn open(
        conn: &KafkaConnection,
        topic: &str,
        settings: TopicDefaults,
    ) -> Result<Self, ConnectorError> {
        Ok(KafkaOffsetStore {
            log: InternalTopic::open(conn, topic, settings).await?,
        })
    }

    /// Connect's key: `["<connector>",{partition}]` as compact JSON.
    pub fn key(connector: &str, partition: &Json) -> Vec<u8> {
        Json::Array(vec![connector.into(), partition.clone()])
            .to_string()
            .into_bytes()
    }
}

impl OffsetBackend for KafkaOffsetStore {
    async fn get(&self, connector: &str, partition: &Json) -> Result<Option<Json>, ConnectorError> {
        let all = self.list(connector).await?;
        Ok(all
            .into_iter()
            .find(|o| &o.partition == partition)
            .map(|o| o.offset))
    }

    async fn list(&self, connector: &str) -> Result<Vec<SourceOffset>, ConnectorError> {
        let mut out = Vec::new();
        for (key, value) in self.log.read_all().await? {
            let (Ok(Json::Array(key)), Ok(offset)) =
                (serde_json::from_slice(&key), serde_json::from_slice(&value))
            else {
                continue;
            };
            if key.len() == 2 && key[0].as_str() == Some(connector) {
                out.push(SourceOffset {
                    partition: key[1].clone(),
                    offset,
                });
            }
        }
        Ok(out)
    }

    async fn clear(&self, connector: &str) -> Result<(), ConnectorError> {
        for o in self.list(connector).await? {
            self.log
                .put(&Self::key(connector, &o.partition), None)
                .await?;
        }
        Ok(())
    }

    async fn commit(
        &self,
        connector: &str,
        offsets: &[SourceOffset],
    ) -> Result<(), ConnectorError> {
        for o in offsets {
            let value = o.offset.to_string().into_bytes();
            self.log
                .put(&Self::key(connector, &o.partition), Some(&value))
                .await?;
        }
        Ok(())
    }
}
