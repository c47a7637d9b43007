//! A sink connector's reader of Kafka topics, with its positions kept in consumer group
//! `connect-<connector>` as Connect keeps them (committed by hand only after the sink made the
//! records before them durable), and those positions as an offset backend for the driver and
//! the REST offsets API.
//!
//! Sluice runs one task per sink connector, so the task assigns itself every partition of its
//! topics rather than joining the group's rebalance protocol: a restarted worker resumes at
//! once from the committed positions, instead of waiting for the crashed member's session to
//! expire (a broker may give the new member no partitions until then, or, as the test broker
//! does, never). New partitions and, with `topics.regex`, new topics are picked up as they
//! appear.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{Message, Offset, TopicPartitionList};
use sluice_core::error::ConnectorError;
use sluice_core::json::Converter;
use sluice_core::pipeline::{OffsetBackend, Source};
use sluice_core::record::{
    merge_offsets, Consumed, Header, Json, ProducerRecord, Record, SourceBatch, SourceOffset,
    Unconverted,
};
use sluice_core::topics::TopicSelection;

use crate::client::{KafkaConnection, Role};
use crate::error::{classify, KafkaSinkError};
use crate::producer::client_error;

/// How long an idle poll waits for records.
const IDLE_POLL: Duration = Duration::from_millis(250);
const TIMEOUT: Duration = Duration::from_secs(30);

/// Connect's consumer group for a sink connector.
pub fn group_id(connector: &str) -> String {
    format!("connect-{connector}")
}

/// A consumer of the connector's group, shared by the reader and its offset backend.
pub struct GroupConsumer {
    conn: KafkaConnection,
    /// The group's name in Kafka.
    group: String,
    consumer: StreamConsumer,
}

impl GroupConsumer {
    pub fn new(conn: &KafkaConnection, connector: &str) -> Result<Arc<Self>, ConnectorError> {
        let group = conn.name(&group_id(connector));
        let mut config = conn.client(Role::Consumer);
        // librdkafka's own debug contexts (e.g. `cgrp,fetch`), for diagnosing a broker.
        if let Ok(debug) = std::env::var("SLUICE_KAFKA_DEBUG") {
            config.set("debug", debug);
        }
        let consumer: StreamConsumer = config
            .set("group.id", &group)
            .set("client.id", format!("connector-consumer-{connector}-0"))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // Connect's sink default: a group without positions starts at the beginning.
            .set("auto.offset.reset", "earliest")
            .set("fetch.wait.max.ms", "50")
            .create()
            .map_err(client_error(&conn.bootstrap))?;
        Ok(Arc::new(GroupConsumer {
            conn: conn.clone(),
            group,
            consumer,
        }))
    }

    fn commit_error(&self, e: KafkaError) -> ConnectorError {
        let error = KafkaSinkError::Commit {
            group: self.group.clone(),
            bootstrap: self.conn.bootstrap.clone(),
            reason: e.to_string(),
        };
        classify(&e, error)
    }

    /// Every partition of the topics `selection` names, as the broker has them now.
    fn partitions(&self, selection: &TopicSelection) -> Result<TopicPartitionList, ConnectorError> {
        let metadata = self
            .consumer
            .fetch_metadata(None, TIMEOUT)
            .map_err(|e| self.commit_error(e))?;
        let mut tpl = TopicPartitionList::new();
        for t in metadata.topics() {
            if self
                .conn
                .logical(t.name())
                .is_some_and(|l| selection.matches(l))
            {
                for p in t.partitions() {
                    tpl.add_partition(t.name(), p.id());
                }
            }
        }
        Ok(tpl)
    }

    /// The group's committed positions in the selected topics.
    pub fn committed(
        &self,
        selection: &TopicSelection,
    ) -> Result<Vec<SourceOffset>, ConnectorError> {
        let tpl = self.partitions(selection)?;
        self.committed_in(tpl)
    }

    fn committed_in(&self, tpl: TopicPartitionList) -> Result<Vec<SourceOffset>, ConnectorError> {
        let committed = self
            .consumer
            .committed_offsets(tpl, TIMEOUT)
            .map_err(|e| self.commit_error(e))?;
        Ok(committed
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some(SourceOffset::consumer(
                    self.conn.logical(e.topic()).unwrap_or(e.topic()),
                    e.partition(),
                    o,
                )),
                _ => None,
            })
            .collect())
    }

    pub fn commit(&self, offsets: &[SourceOffset]) -> Result<(), ConnectorError> {
        let mut tpl = TopicPartitionList::new();
        for o in offsets {
            let Some((topic, partition, next)) = o.as_consumer() else {
                return Err(ConnectorError::permanent(format!(
                    "{} is not a sink connector position (expected {{\"kafka_topic\",\"kafka_partition\"}} → {{\"kafka_offset\"}})",
                    o.partition
                )));
            };
            tpl.add_partition_offset(&self.conn.name(topic), partition, Offset::Offset(next))
                .map_err(|e| self.commit_error(e))?;
        }
        if tpl.count() == 0 {
            return Ok(());
        }
        self.consumer
            .commit(&tpl, CommitMode::Sync)
            .map_err(|e| self.commit_error(e))
    }
}

/// Reads the selected topics for a sink connector.
pub struct KafkaTopicSource {
    group: Arc<GroupConsumer>,
    selection: TopicSelection,
    key: Converter,
    value: Converter,
    max_batch: usize,
    /// The partitions assigned so far, and when the topics were last looked at.
    assigned: BTreeSet<(String, i32)>,
    last_refresh: Option<Instant>,
}

/// How often the topics are looked at for new partitions (and new topics matching
/// `topics.regex`).
const REFRESH: Duration = Duration::from_secs(5);

impl KafkaTopicSource {
    pub fn new(
        group: Arc<GroupConsumer>,
        selection: &TopicSelection,
        key: Converter,
        value: Converter,
        max_batch: usize,
    ) -> Result<Self, ConnectorError> {
        let mut source = KafkaTopicSource {
            group,
            selection: selection.clone(),
            key,
            value,
            max_batch: max_batch.max(1),
            assigned: BTreeSet::new(),
            last_refresh: None,
        };
        source.refresh()?;
        Ok(source)
    }

    /// Assigns partitions not assigned yet, each from the group's committed position (or
    /// the beginning).
    fn refresh(&mut self) -> Result<(), ConnectorError> {
        if self.last_refresh.is_some_and(|t| t.elapsed() < REFRESH) {
            return Ok(());
        }
        self.last_refresh = Some(Instant::now());
        let all = self.group.partitions(&self.selection)?;
        let mut new = TopicPartitionList::new();
        for e in all.elements() {
            if !self
                .assigned
                .contains(&(e.topic().to_owned(), e.partition()))
            {
                new.add_partition(e.topic(), e.partition());
            }
        }
        if new.count() == 0 {
            return Ok(());
        }
        let committed = self.group.committed_in(new.clone())?;
        let mut assign = TopicPartitionList::new();
        for e in new.elements() {
            let start = committed
                .iter()
                .filter_map(SourceOffset::as_consumer)
                .find(|(t, p, _)| {
                    Some(*t) == self.group.conn.logical(e.topic()) && *p == e.partition()
                })
                .map_or(Offset::Beginning, |(_, _, o)| Offset::Offset(o));
            assign
                .add_partition_offset(e.topic(), e.partition(), start)
                .map_err(|err| self.group.commit_error(err))?;
            tracing::info!(topic = e.topic(), partition = e.partition(), position = ?start, group = %self.group.group, "reading topic partition");
            self.assigned.insert((e.topic().to_owned(), e.partition()));
        }
        self.group
            .consumer
            .incremental_assign(&assign)
            .map_err(|e| self.group.commit_error(e))
    }

    fn take(&self, m: &BorrowedMessage<'_>, batch: &mut SourceBatch) {
        let headers = m
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| Header {
                        key: h.key.to_owned(),
                        value: h.value.map(<[u8]>::to_vec),
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Records carry the name Sluice knows the topic by (without Heroku's prefix).
        let topic = self.group.conn.logical(m.topic()).unwrap_or(m.topic());
        let consumed = Arc::new(Consumed {
            record: ProducerRecord {
                topic: topic.to_owned(),
                key: m.key().map(<[u8]>::to_vec),
                value: m.payload().map(<[u8]>::to_vec),
                timestamp_ms: m.timestamp().to_millis().unwrap_or(0),
                headers,
            },
            partition: m.partition(),
            offset: m.offset(),
        });
        merge_offsets(
            &mut batch.offsets,
            [SourceOffset::consumer(topic, m.partition(), m.offset() + 1)],
        );
        let key = self.key.deserialize(consumed.record.key.as_deref());
        let value = self.value.deserialize(consumed.record.value.as_deref());
        match (key, value) {
            (Ok(key), Ok(value)) => batch.records.push(Record {
                topic: consumed.record.topic.clone(),
                partition: Some(consumed.partition),
                key,
                value,
                timestamp_ms: consumed.record.timestamp_ms,
                headers: consumed.record.headers.clone(),
                consumed: Some(consumed),
            }),
            (Err(e), _) | (_, Err(e)) => batch.unconverted.push(Unconverted {
                consumed,
                error: Box::new(e),
            }),
        }
    }

    fn read_error(&self, e: KafkaError) -> ConnectorError {
        let error = KafkaSinkError::Read {
            topic: format!("(group {})", self.group.group),
            bootstrap: self.group.conn.bootstrap.clone(),
            reason: e.to_string(),
        };
        classify(&e, error)
    }
}

impl Source for KafkaTopicSource {
    async fn poll(&mut self) -> Result<SourceBatch, ConnectorError> {
        tokio::task::block_in_place(|| self.refresh())?;
        let mut batch = SourceBatch::default();
        let consumer = &self.group.consumer;
        match tokio::time::timeout(IDLE_POLL, consumer.recv()).await {
            Err(_idle) => {
                batch.caught_up = true;
                return Ok(batch);
            }
            Ok(Err(e)) => return Err(self.read_error(e)),
            Ok(Ok(m)) => self.take(&m, &mut batch),
        }
        while batch.records.len() + batch.unconverted.len() < self.max_batch {
            match consumer.recv().now_or_never() {
                Some(Ok(m)) => self.take(&m, &mut batch),
                Some(Err(e)) => return Err(self.read_error(e)),
                None => {
                    batch.caught_up = true;
                    break;
                }
            }
        }
        Ok(batch)
    }

    /// The positions were committed to the group by the offset backend.
    async fn commit(&mut self, _offsets: &[SourceOffset]) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// A sink connector's positions in its consumer group.
pub struct GroupOffsets {
    pub group: Arc<GroupConsumer>,
    pub selection: TopicSelection,
}

impl OffsetBackend for GroupOffsets {
    async fn get(
        &self,
        _connector: &str,
        partition: &Json,
    ) -> Result<Option<Json>, ConnectorError> {
        let all = tokio::task::block_in_place(|| self.group.committed(&self.selection))?;
        Ok(all
            .into_iter()
            .find(|o| &o.partition == partition)
            .map(|o| o.offset))
    }

    async fn commit(
        &self,
        _connector: &str,
        offsets: &[SourceOffset],
    ) -> Result<(), ConnectorError> {
        tokio::task::block_in_place(|| self.group.commit(offsets))
    }

    async fn list(&self, _connector: &str) -> Result<Vec<SourceOffset>, ConnectorError> {
        tokio::task::block_in_place(|| self.group.committed(&self.selection))
    }

    /// Connect resets a sink connector by deleting its group's offsets: here, the group's
    /// positions go back to the start of each partition.
    async fn clear(&self, _connector: &str) -> Result<(), ConnectorError> {
        let committed = tokio::task::block_in_place(|| self.group.committed(&self.selection))?;
        let reset: Vec<SourceOffset> = committed
            .iter()
            .filter_map(SourceOffset::as_consumer)
            .map(|(t, p, _)| SourceOffset::consumer(t, p, 0))
            .collect();
        tokio::task::block_in_place(|| self.group.commit(&reset))
    }
}
