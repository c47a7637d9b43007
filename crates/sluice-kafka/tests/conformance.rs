//! The Kafka topic sink passes the sink conformance suite against the broker scripts/test
//! starts (`SLUICE_TEST_KAFKA`).

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use sluice_core::conformance::{run_all, SinkUnderTest};
use sluice_core::error::ConnectorError;
use sluice_core::json::{Converter, JsonConverter};
use sluice_core::record::{Record, Written};
use sluice_core::sink::Sink;
use sluice_kafka::{KafkaConnection, KafkaTopicSink, Role, TopicDefaults};

struct Kafka {
    bootstrap: String,
    topic: String,
}

/// The suite's records, renamed to this scenario's own topic.
struct Renamed {
    inner: KafkaTopicSink,
    topic: String,
}

impl Sink for Renamed {
    async fn write(&mut self, records: &[Record]) -> Result<Written, ConnectorError> {
        let renamed: Vec<Record> = records
            .iter()
            .map(|r| Record {
                topic: self.topic.clone(),
                ..r.clone()
            })
            .collect();
        self.inner.write(&renamed).await
    }

    async fn flush(&mut self) -> Result<(), ConnectorError> {
        self.inner.flush().await
    }

    async fn start_flush(&mut self) -> Result<sluice_core::sink::Durable, ConnectorError> {
        self.inner.start_flush().await
    }
}

impl SinkUnderTest for Kafka {
    type S = Renamed;

    async fn open(&self) -> Renamed {
        let conv = Converter::Json(JsonConverter {
            schemas_enable: false,
        });
        Renamed {
            inner: KafkaTopicSink::new(
                &KafkaConnection::plain(&self.bootstrap),
                Role::Producer,
                TopicDefaults::default(),
                conv,
                conv,
            )
            .unwrap(),
            topic: self.topic.clone(),
        }
    }

    async fn read_back(&self) -> Vec<i64> {
        let (bootstrap, topic) = (self.bootstrap.clone(), self.topic.clone());
        tokio::task::spawn_blocking(move || {
            let consumer: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &bootstrap)
                .set("group.id", format!("reader-{topic}"))
                .set("enable.auto.commit", "false")
                .set("fetch.wait.max.ms", "10")
                .create()
                .unwrap();
            let Ok((_, high)) = consumer.fetch_watermarks(&topic, 0, Duration::from_secs(10))
            else {
                return Vec::new();
            };
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(&topic, 0, Offset::Beginning)
                .unwrap();
            consumer.assign(&tpl).unwrap();
            let mut out = Vec::new();
            let mut next = 0;
            let deadline = Instant::now() + Duration::from_secs(60);
            while next < high && Instant::now() < deadline {
                if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                    next = m.offset() + 1;
                    let v: serde_json::Value =
                        serde_json::from_slice(m.payload().unwrap()).unwrap();
                    out.push(v.as_i64().unwrap());
                }
            }
            out
        })
        .await
        .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_topic_sink_conforms() {
    let bootstrap = std::env::var("SLUICE_TEST_KAFKA")
        .expect("SLUICE_TEST_KAFKA is not set: run the tests with scripts/test");
    let run = std::process::id();
    run_all(|scenario| Kafka {
        bootstrap: bootstrap.clone(),
        topic: format!("conformance-{run}-{}", scenario.replace(' ', "-")),
    })
    .await;
}
