//! The Kafka sink: records are produced with librdkafka's idempotent producer (acks=all),
//! so `flush` returning means every record is acknowledged by the in-sync replicas and its
//! offset may be committed. Missing topics are created through the admin API first, as
//! Connect's `topic.creation.*` does, because a produce to a missing topic only times out.

use std::collections::HashSet;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use sluice_core::pipeline::{BoxError, Durable, OffsetBackend, Sink};
use sluice_core::record::{Json, ProducerRecord, RecordPosition, SourceOffset};

#[derive(Debug, thiserror::Error)]
pub enum KafkaSinkError {
    #[error("cannot create a Kafka client for {bootstrap}: {reason}")]
    Client { bootstrap: String, reason: String },
    #[error("cannot create topic {topic} on {bootstrap}: {reason}")]
    CreateTopic {
        topic: String,
        bootstrap: String,
        reason: String,
    },
    #[error("Kafka at {bootstrap} refused a record for topic {topic}: {reason}")]
    Produce {
        topic: String,
        bootstrap: String,
        reason: String,
    },
    #[error("cannot read topic {topic} on {bootstrap}: {reason}")]
    ReadOffsets {
        topic: String,
        bootstrap: String,
        reason: String,
    },
    #[error("Kafka producer at {bootstrap} lost a delivery report (the producer was closed)")]
    Canceled { bootstrap: String },
}

/// `topic.creation.default.*` settings used for topics the sink creates.
#[derive(Debug, Clone, Copy)]
pub struct TopicDefaults {
    pub partitions: i32,
    pub replication_factor: i32,
}

impl Default for TopicDefaults {
    fn default() -> Self {
        TopicDefaults {
            partitions: 1,
            replication_factor: 1,
        }
    }
}

pub struct KafkaSink {
    bootstrap: String,
    producer: FutureProducer,
    admin: AdminClient<DefaultClientContext>,
    defaults: TopicDefaults,
    known_topics: HashSet<String>,
    in_flight: Vec<(String, DeliveryFuture)>,
}

impl KafkaSink {
    pub fn new(bootstrap: &str, defaults: TopicDefaults) -> Result<Self, KafkaSinkError> {
        let client_err = |e: KafkaError| KafkaSinkError::Client {
            bootstrap: bootstrap.to_owned(),
            reason: e.to_string(),
        };
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", bootstrap)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "120000")
            .set("client.id", "sluice");
        let producer: FutureProducer = cfg.create().map_err(client_err)?;
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("client.id", "sluice-admin")
            .create()
            .map_err(client_err)?;
        Ok(KafkaSink {
            bootstrap: bootstrap.to_owned(),
            producer,
            admin,
            defaults,
            known_topics: HashSet::new(),
            in_flight: Vec::new(),
        })
    }

    async fn ensure_topic(&mut self, topic: &str) -> Result<(), KafkaSinkError> {
        if self.known_topics.contains(topic) {
            return Ok(());
        }
        let new = NewTopic::new(
            topic,
            self.defaults.partitions,
            TopicReplication::Fixed(self.defaults.replication_factor),
        );
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let err = |reason: String| KafkaSinkError::CreateTopic {
            topic: topic.to_owned(),
            bootstrap: self.bootstrap.clone(),
            reason,
        };
        let results = self
            .admin
            .create_topics([&new], &opts)
            .await
            .map_err(|e| err(e.to_string()))?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((_, code)) => return Err(err(code.to_string())),
            }
        }
        tracing::debug!(topic, "topic ready");
        self.known_topics.insert(topic.to_owned());
        Ok(())
    }
}

impl Sink for KafkaSink {
    async fn write(&mut self, records: &[ProducerRecord]) -> Result<Vec<RecordPosition>, BoxError> {
        let mut positions = Vec::with_capacity(records.len());
        for r in records {
            self.ensure_topic(&r.topic).await?;
            let mut headers = OwnedHeaders::new_with_capacity(r.headers.len());
            for h in &r.headers {
                headers = headers.insert(Header {
                    key: &h.key,
                    value: h.value.as_deref(),
                });
            }
            let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&r.topic)
                .timestamp(r.timestamp_ms)
                .headers(headers);
            if let Some(k) = &r.key {
                record = record.key(k.as_slice());
            }
            if let Some(v) = &r.value {
                record = record.payload(v.as_slice());
            }
            // A full local queue means librdkafka is behind: wait for what is in flight.
            let mut pending = record;
            loop {
                match self.producer.send_result(pending) {
                    Ok(delivery) => {
                        self.in_flight.push((r.topic.clone(), delivery));
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        pending = back;
                        self.flush().await?;
                    }
                    Err((source, _)) => {
                        return Err(Box::new(KafkaSinkError::Produce {
                            topic: r.topic.clone(),
                            bootstrap: self.bootstrap.clone(),
                            reason: source.to_string(),
                        }))
                    }
                }
            }
            positions.push(RecordPosition {
                partition: -1,
                offset: None,
            });
        }
        Ok(positions)
    }

    async fn flush(&mut self) -> Result<(), BoxError> {
        delivered(&self.bootstrap, std::mem::take(&mut self.in_flight)).await
    }

    async fn start_flush(&mut self) -> Result<Durable, BoxError> {
        let in_flight = std::mem::take(&mut self.in_flight);
        let bootstrap = self.bootstrap.clone();
        Ok(Box::pin(
            async move { delivered(&bootstrap, in_flight).await },
        ))
    }
}

/// Waits for every delivery report; the first failure is the error.
async fn delivered(
    bootstrap: &str,
    in_flight: Vec<(String, DeliveryFuture)>,
) -> Result<(), BoxError> {
    for (topic, delivery) in in_flight {
        match delivery.await {
            Ok(Ok(_)) => {}
            Ok(Err((source, _))) => {
                return Err(Box::new(KafkaSinkError::Produce {
                    topic,
                    bootstrap: bootstrap.to_owned(),
                    reason: source.to_string(),
                }))
            }
            Err(_) => {
                return Err(Box::new(KafkaSinkError::Canceled {
                    bootstrap: bootstrap.to_owned(),
                }))
            }
        }
    }
    Ok(())
}

impl Drop for KafkaSink {
    fn drop(&mut self) {
        let _ = self.producer.flush(Duration::from_secs(5));
    }
}

/// A record's key and value bytes.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// One of Connect's internal topics (`connect-offsets`, `connect-configs`, `connect-status`)
/// read as a key → latest value log: a null value deletes the key, as compaction would.
/// Tansu has no compaction, so reading means scanning from the start.
pub struct InternalTopic {
    bootstrap: String,
    topic: String,
    producer: FutureProducer,
}

impl InternalTopic {
    pub async fn open(bootstrap: &str, topic: &str) -> Result<Self, KafkaSinkError> {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("client.id", "sluice-internal")
            .create()
            .map_err(|e: KafkaError| KafkaSinkError::Client {
                bootstrap: bootstrap.to_owned(),
                reason: e.to_string(),
            })?;
        let mut sink = KafkaSink::new(bootstrap, TopicDefaults::default())?;
        sink.ensure_topic(topic).await?;
        Ok(InternalTopic {
            bootstrap: bootstrap.to_owned(),
            topic: topic.to_owned(),
            producer,
        })
    }

    /// Durably writes `key` → `value` (`None`: a tombstone).
    pub async fn put(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), KafkaSinkError> {
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&self.topic).key(key);
        if let Some(v) = value {
            record = record.payload(v);
        }
        self.producer
            .send(record, Duration::from_secs(60))
            .await
            .map_err(|(source, _)| KafkaSinkError::Produce {
                topic: self.topic.clone(),
                bootstrap: self.bootstrap.clone(),
                reason: source.to_string(),
            })?;
        Ok(())
    }

    /// The latest value of every live key, in first-written order.
    pub async fn read_all(&self) -> Result<Vec<KeyValue>, KafkaSinkError> {
        tokio::task::block_in_place(|| self.scan())
    }

    fn scan(&self) -> Result<Vec<KeyValue>, KafkaSinkError> {
        use rdkafka::consumer::{BaseConsumer, Consumer};
        use rdkafka::{Message, Offset, TopicPartitionList};
        let client_err = |e: KafkaError| KafkaSinkError::Client {
            bootstrap: self.bootstrap.clone(),
            reason: e.to_string(),
        };
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", "sluice-internal-reader")
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", "10")
            .create()
            .map_err(client_err)?;
        let (_, high) = consumer
            .fetch_watermarks(&self.topic, 0, Duration::from_secs(30))
            .map_err(client_err)?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, 0, Offset::Beginning)
            .map_err(client_err)?;
        consumer.assign(&tpl).map_err(client_err)?;
        let mut live: Vec<KeyValue> = Vec::new();
        let mut next = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while next < high {
            if std::time::Instant::now() > deadline {
                return Err(KafkaSinkError::ReadOffsets {
                    topic: self.topic.clone(),
                    bootstrap: self.bootstrap.clone(),
                    reason: format!("timed out after reading {next} of {high} records"),
                });
            }
            match consumer.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    next = m.offset() + 1;
                    let Some(key) = m.key() else { continue };
                    match (live.iter_mut().find(|(k, _)| k == key), m.payload()) {
                        (Some(entry), Some(v)) => entry.1 = v.to_vec(),
                        (None, Some(v)) => live.push((key.to_vec(), v.to_vec())),
                        (_, None) => live.retain(|(k, _)| k != key),
                    }
                }
                Some(Err(e)) => return Err(client_err(e)),
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
    pub async fn open(bootstrap: &str, topic: &str) -> Result<Self, KafkaSinkError> {
        Ok(KafkaOffsetStore {
            log: InternalTopic::open(bootstrap, topic).await?,
        })
    }

    fn key(connector: &str, partition: &Json) -> Vec<u8> {
        Json::Array(vec![connector.into(), partition.clone()])
            .to_string()
            .into_bytes()
    }
}

impl OffsetBackend for KafkaOffsetStore {
    async fn get(&self, connector: &str, partition: &Json) -> Result<Option<Json>, BoxError> {
        let all = self.list(connector).await?;
        Ok(all
            .into_iter()
            .find(|o| &o.partition == partition)
            .map(|o| o.offset))
    }

    async fn list(&self, connector: &str) -> Result<Vec<SourceOffset>, BoxError> {
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

    async fn clear(&self, connector: &str) -> Result<(), BoxError> {
        for o in self.list(connector).await? {
            self.log
                .put(&Self::key(connector, &o.partition), None)
                .await?;
        }
        Ok(())
    }

    async fn commit(&self, connector: &str, offset: &SourceOffset) -> Result<(), BoxError> {
        let value = offset.offset.to_string().into_bytes();
        self.log
            .put(&Self::key(connector, &offset.partition), Some(&value))
            .await?;
        Ok(())
    }
}
