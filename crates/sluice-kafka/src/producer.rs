//! The topic sink of source connectors on Kafka: records converted with the connector's
//! converters and produced with librdkafka's idempotent producer (acks=all), so a flush that
//! returns means every record is acknowledged by the in-sync replicas and its offset may be
//! committed. Missing topics are created through the admin API first, as Connect's
//! `topic.creation.*` does, because a produce to a missing topic only times out.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer, PurgeConfig};
use sluice_core::error::ConnectorError;
use sluice_core::json::Converter;
use sluice_core::record::{EncodedBatch, ProducerRecord, Record, RecordPosition, Written};
use sluice_core::sink::{convert, Durable, Sink};

use crate::client::{BrokerErrors, KafkaConnection, Role};
use crate::error::{classify, KafkaSinkError};

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

pub(crate) fn client_error(bootstrap: &str) -> impl Fn(KafkaError) -> ConnectorError + '_ {
    move |e| {
        let error = KafkaSinkError::Client {
            bootstrap: bootstrap.to_owned(),
            reason: e.to_string(),
        };
        classify(&e, error)
    }
}

/// Creates topics that do not exist yet (an existing one is fine).
pub struct TopicCreator {
    conn: KafkaConnection,
    admin: AdminClient<BrokerErrors>,
    errors: BrokerErrors,
    known: HashSet<String>,
}

impl TopicCreator {
    pub fn new(conn: &KafkaConnection) -> Result<Self, ConnectorError> {
        let errors = BrokerErrors::default();
        let admin: AdminClient<BrokerErrors> = conn
            .client(Role::Admin)
            .set("client.id", "sluice-admin")
            .create_with_context(errors.clone())
            .map_err(client_error(&conn.bootstrap))?;
        Ok(TopicCreator {
            conn: conn.clone(),
            admin,
            errors,
            known: HashSet::new(),
        })
    }

    pub async fn ensure(
        &mut self,
        topic: &str,
        settings: TopicDefaults,
    ) -> Result<(), ConnectorError> {
        if self.known.contains(topic) {
            return Ok(());
        }
        let actual = self.conn.name(topic);
        let new = NewTopic::new(
            &actual,
            settings.partitions,
            TopicReplication::Fixed(settings.replication_factor),
        );
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let err = |reason: String| KafkaSinkError::CreateTopic {
            topic: actual.clone(),
            bootstrap: self.conn.bootstrap.clone(),
            reason,
        };
        let results = self
            .admin
            .create_topics([&new], &opts)
            .await
            .map_err(|e| self.errors.explain(&e, err(e.to_string())))?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((_, code)) => {
                    let e = KafkaError::AdminOp(code);
                    return Err(self.errors.explain(&e, err(code.to_string())));
                }
            }
        }
        tracing::debug!(topic, "topic ready");
        self.known.insert(topic.to_owned());
        Ok(())
    }
}

/// Produces records to Kafka: a source connector's topic sink, or a sink connector's dead
/// letter queue (with the byte-array converter).
pub struct KafkaTopicSink {
    conn: KafkaConnection,
    producer: FutureProducer<BrokerErrors>,
    errors: BrokerErrors,
    topics: TopicCreator,
    defaults: TopicDefaults,
    key: Converter,
    value: Converter,
    in_flight: Vec<(String, DeliveryFuture)>,
    /// A delivery failed: what librdkafka still holds must not reach the topic after it,
    /// since the task's retry sends the failed records again (order per key).
    failed: Arc<AtomicBool>,
}

impl KafkaTopicSink {
    /// A producer with the settings of `role` (source connectors: `Producer`; the dead
    /// letter queue: `Admin`, as Connect configures it).
    pub fn new(
        conn: &KafkaConnection,
        role: Role,
        defaults: TopicDefaults,
        key: Converter,
        value: Converter,
    ) -> Result<Self, ConnectorError> {
        let errors = BrokerErrors::default();
        let producer: FutureProducer<BrokerErrors> = conn
            .client(role)
            .set("enable.idempotence", "true")
            // A batch the broker refused for good would otherwise be skipped (the epoch
            // bumped, later records renumbered and written), leaving a gap that the task's
            // retry fills after later records. Gapless, the producer stops instead.
            .set("enable.gapless.guarantee", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "120000")
            .set("client.id", "sluice")
            .create_with_context(errors.clone())
            .map_err(client_error(&conn.bootstrap))?;
        Ok(KafkaTopicSink {
            conn: conn.clone(),
            producer,
            errors,
            topics: TopicCreator::new(conn)?,
            defaults,
            key,
            value,
            in_flight: Vec::new(),
            failed: Arc::default(),
        })
    }

    async fn produce(&mut self, r: &ProducerRecord) -> Result<(), ConnectorError> {
        self.produce_parts(
            &r.topic,
            r.key.as_deref(),
            r.value.as_deref(),
            r.timestamp_ms,
            &r.headers,
        )
        .await
    }

    async fn produce_parts(
        &mut self,
        topic_name: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp_ms: i64,
        record_headers: &[sluice_core::record::Header],
    ) -> Result<(), ConnectorError> {
        self.topics.ensure(topic_name, self.defaults).await?;
        let mut headers = OwnedHeaders::new_with_capacity(record_headers.len());
        for h in record_headers {
            headers = headers.insert(Header {
                key: &h.key,
                value: h.value.as_deref(),
            });
        }
        let topic = self.conn.name(topic_name);
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&topic)
            .timestamp(timestamp_ms)
            .headers(headers);
        if let Some(k) = key {
            record = record.key(k);
        }
        if let Some(v) = value {
            record = record.payload(v);
        }
        // A full local queue means librdkafka is behind: wait for what is in flight.
        let mut pending = record;
        loop {
            match self.producer.send_result(pending) {
                Ok(delivery) => {
                    self.in_flight.push((topic_name.to_owned(), delivery));
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    pending = back;
                    self.flush().await?;
                }
                Err((e, _)) => {
                    self.failed.store(true, Ordering::SeqCst);
                    let (e, reason) = cause(&self.producer, e);
                    let error = KafkaSinkError::Produce {
                        topic: topic_name.to_owned(),
                        bootstrap: self.conn.bootstrap.clone(),
                        reason,
                    };
                    return Err(classify(&e, error));
                }
            }
        }
    }

    fn reports(&self) -> Reports {
        Reports {
            producer: self.producer.clone(),
            errors: self.errors.clone(),
            bootstrap: self.conn.bootstrap.clone(),
            failed: self.failed.clone(),
        }
    }
}

impl Sink for KafkaTopicSink {
    async fn write(&mut self, records: &[Record]) -> Result<Written, ConnectorError> {
        let mut written = Written::default();
        for (i, r) in records.iter().enumerate() {
            match convert(r, &self.key, &self.value) {
                Ok(bytes) => self.produce(&bytes).await?,
                Err(e) => written.rejected.push((i, e)),
            }
            // Offsets are known only once delivered.
            written.positions.push(RecordPosition {
                partition: -1,
                offset: None,
            });
        }
        Ok(written)
    }

    async fn write_encoded(&mut self, batch: &EncodedBatch) -> Result<Written, ConnectorError> {
        let (Some(key_conv), Some(value_conv)) = (self.key.as_json(), self.value.as_json()) else {
            return self
                .write(&batch.to_records().map_err(ConnectorError::permanent)?)
                .await;
        };
        let mut written = Written::default();
        let (mut key, mut value) = (Vec::new(), Vec::new());
        for r in &batch.records {
            let t = &batch.topics[r.topic as usize];
            key.clear();
            value.clear();
            let k = batch.key(r).map(|p| {
                key_conv.write_payload(&mut key, t.key_schema.as_deref(), p);
                key.as_slice()
            });
            let v = batch.value(r).map(|p| {
                value_conv.write_payload(&mut value, t.value_schema.as_deref(), p);
                value.as_slice()
            });
            self.produce_parts(&t.topic, k, v, r.timestamp_ms, &[])
                .await?;
            written.positions.push(RecordPosition {
                partition: -1,
                offset: None,
            });
        }
        Ok(written)
    }

    async fn flush(&mut self) -> Result<(), ConnectorError> {
        let in_flight = std::mem::take(&mut self.in_flight);
        self.reports().wait(in_flight).await
    }

    /// Asked when deliveries have waited long: librdkafka keeps re-sending on its own until
    /// `message.timeout.ms`, so say so, with a broker error it reported in the last 30 s.
    fn problem(&self) -> Option<String> {
        let bootstrap = &self.conn.bootstrap;
        Some(match self.errors.recent(Duration::from_secs(30)) {
            Some(e) => format!("Kafka at {bootstrap}: {e}"),
            None => format!("no acknowledgement from Kafka at {bootstrap} yet"),
        })
    }

    async fn start_flush(&mut self) -> Result<Durable, ConnectorError> {
        let in_flight = std::mem::take(&mut self.in_flight);
        let reports = self.reports();
        Ok(Box::pin(async move { reports.wait(in_flight).await }))
    }
}

/// Records after a fatal error only say `Fatal`: the producer knows the cause.
fn cause(producer: &FutureProducer<BrokerErrors>, e: KafkaError) -> (KafkaError, String) {
    match (&e, producer.client().fatal_error()) {
        (KafkaError::MessageProduction(RDKafkaErrorCode::Fatal), Some((code, why))) => {
            (KafkaError::MessageProduction(code), why)
        }
        _ => {
            let reason = e.to_string();
            (e, reason)
        }
    }
}

/// What waiting for delivery reports needs, apart from the sink (a flush runs on its own).
struct Reports {
    producer: FutureProducer<BrokerErrors>,
    errors: BrokerErrors,
    bootstrap: String,
    failed: Arc<AtomicBool>,
}

impl Reports {
    /// Waits for every delivery report; the first failure is the error.
    async fn wait(&self, in_flight: Vec<(String, DeliveryFuture)>) -> Result<(), ConnectorError> {
        for (topic, delivery) in in_flight {
            let e = match delivery.await {
                Ok(Ok(_)) => continue,
                Ok(Err((e, _))) => e,
                Err(_) => {
                    return Err(ConnectorError::transient(KafkaSinkError::Canceled {
                        bootstrap: self.bootstrap.clone(),
                    }))
                }
            };
            self.failed.store(true, Ordering::SeqCst);
            let (e, reason) = cause(&self.producer, e);
            let error = KafkaSinkError::Produce {
                topic,
                bootstrap: self.bootstrap.clone(),
                reason,
            };
            return Err(self.errors.explain(&e, error));
        }
        Ok(())
    }
}

impl Drop for KafkaTopicSink {
    fn drop(&mut self) {
        if self.failed.load(Ordering::SeqCst) {
            self.producer
                .purge(PurgeConfig::default().queue().inflight());
        } else {
            let _ = self.producer.flush(Duration::from_secs(5));
        }
    }
}
