//! The same connector into Kafka (the Tansu broker started by scripts/test) and into local
//! topics: the consumed records equal the local-topic records.

mod common;

use std::time::{Duration, Instant};

use common::*;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::Value as Json;

/// Drops what differs between two runs of the same events: processing times, and the
/// position of snapshot reads (each run has its own slot and snapshot).
fn normalize(mut r: Json) -> Json {
    if let Some(p) = r.get_mut("value").and_then(|v| v.get_mut("payload")) {
        if let Some(o) = p.as_object_mut() {
            for k in ["ts_ms", "ts_us", "ts_ns"] {
                o.remove(k);
            }
        }
        let snapshot = p["op"] == "r";
        if let Some(src) = p.get_mut("source").and_then(|s| s.as_object_mut()) {
            for k in ["ts_ms", "ts_us", "ts_ns"] {
                src.remove(k);
            }
            if snapshot {
                for k in ["lsn", "txId", "sequence"] {
                    src.remove(k);
                }
            }
        }
    }
    serde_json::json!({"topic": r["topic"], "key": r["key"], "value": r["value"]})
}

fn consumer_partitions(bootstrap: &str, topic: &str) -> i32 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique("meta"))
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    metadata.topics()[0].partitions().len() as i32
}

/// Java's `Utils.murmur2`, which picks the partition of a keyed record
/// (`toPositive(murmur2(key)) % partitions`).
fn murmur2(data: &[u8]) -> i32 {
    let seed: u32 = 0x9747_b28c;
    let m: u32 = 0x5bd1_e995;
    let r = 24;
    let mut h: u32 = seed ^ data.len() as u32;
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(m);
        k ^= k >> r;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
    }
    match tail.len() {
        3 => {
            h ^= u32::from(tail[2]) << 16;
            h ^= u32::from(tail[1]) << 8;
            h ^= u32::from(tail[0]);
            h = h.wrapping_mul(m);
        }
        2 => {
            h ^= u32::from(tail[1]) << 8;
            h ^= u32::from(tail[0]);
            h = h.wrapping_mul(m);
        }
        1 => {
            h ^= u32::from(tail[0]);
            h = h.wrapping_mul(m);
        }
        _ => {}
    }
    h ^= h >> 13;
    h = h.wrapping_mul(m);
    h ^= h >> 15;
    h as i32
}

fn consume(bootstrap: &str, topic: &str, want: usize, wait: Duration) -> Vec<Json> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique("test"))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()
        .unwrap();
    // Every partition (Connect's offsets topic has 25).
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in metadata.topics()[0].partitions() {
        tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + wait;
    while out.len() < want && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let parse =
                |b: Option<&[u8]>| b.map_or(Json::Null, |b| serde_json::from_slice(b).unwrap());
            out.push(serde_json::json!({"topic": m.topic(), "partition": m.partition(), "key": parse(m.key()), "value": parse(m.payload()), "key_bytes": m.key().map(|k| String::from_utf8_lossy(k).into_owned())}));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_records_equal_local_topic_records() {
    let bootstrap = env("SLUICE_TEST_KAFKA");
    let db = TestDb::pagila("kafka").await;
    let prefix = unique("kf");
    let tables = [("table.include.list", "public.actor,public.language")];
    let mut local_cfg = db.connector(&prefix, &tables);
    local_cfg["config"]["slot.name"] = Json::String(format!("slot_{}_l", db.name));
    local_cfg["config"]["publication.name"] = Json::String(format!("pub_{}_l", db.name));
    let kafka_cfg = db.connector(&prefix, &tables);
    assert_eq!(kafka_cfg["name"], prefix.as_str());

    let local_dir = tempfile::tempdir().unwrap();
    let kafka_dir = tempfile::tempdir().unwrap();
    let mut local = Sluice::new(local_dir.path());
    let mut kafka = Sluice::new(kafka_dir.path());
    local.start(&[local_cfg], &[]);
    kafka.start(
        std::slice::from_ref(&kafka_cfg),
        &["--bootstrap-servers", &bootstrap],
    );
    local.wait_streaming().await;
    kafka.wait_streaming().await;
    db.exec("INSERT INTO public.language (language_id, name) VALUES (100, 'Klingon')")
        .await;
    db.exec("UPDATE public.actor SET first_name = 'PENNY' WHERE actor_id = 1")
        .await;
    db.exec("DELETE FROM public.language WHERE language_id = 100")
        .await;
    let actor_topic = format!("{prefix}.public.actor");
    let language_topic = format!("{prefix}.public.language");
    wait_for(60, "local changes", &local, || {
        local.records(&language_topic).len() == 6 + 3
    })
    .await;

    for (topic, n) in [(&actor_topic, 201), (&language_topic, 9)] {
        let want: Vec<Json> = local.records(topic).into_iter().map(normalize).collect();
        assert_eq!(want.len(), n);
        let got: Vec<Json> = consume(&bootstrap, topic, n, Duration::from_secs(60))
            .into_iter()
            .map(normalize)
            .collect();
        assert_eq!(
            got.len(),
            n,
            "records consumed from Kafka topic {topic}\n{}",
            kafka.log_text()
        );
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "record {i} of {topic}");
        }
    }
    // The tombstone is a real Kafka tombstone (null value), not the string "null".
    let consumed = consume(&bootstrap, &language_topic, 9, Duration::from_secs(60));
    assert!(consumed[8]["value"].is_null());
    local.stop();

    // Offsets live in Connect's connect-offsets topic, keyed as Connect keys them; a restart
    // resumes from there instead of snapshotting again.
    kafka.stop();
    let offsets = consume(
        &bootstrap,
        "connect-offsets",
        usize::MAX,
        Duration::from_secs(3),
    );
    let key = serde_json::json!([prefix, {"server": prefix}]);
    let last = offsets
        .iter()
        .rev()
        .find(|r| r["key"] == key)
        .expect("an offset record for the connector");
    assert!(last["value"]["lsn"].is_u64(), "{last}");
    // Connect creates connect-offsets with 25 partitions and a Java producer puts each key in
    // the partition murmur2 chooses: so does Sluice.
    let key_bytes = last["key_bytes"].as_str().unwrap();
    assert_eq!(
        key_bytes,
        format!("[\"{prefix}\",{{\"server\":\"{prefix}\"}}]")
    );
    let partitions = consumer_partitions(&bootstrap, "connect-offsets");
    assert_eq!(partitions, 25);
    let expected = (murmur2(key_bytes.as_bytes()) & 0x7fff_ffff) % partitions;
    assert_eq!(last["partition"], expected, "{last}");
    db.exec("UPDATE public.actor SET first_name = 'ZED' WHERE actor_id = 2")
        .await;
    kafka.start(&[kafka_cfg], &["--bootstrap-servers", &bootstrap]);
    let actors = consume(&bootstrap, &actor_topic, 203, Duration::from_secs(8));
    assert_eq!(
        actors.len(),
        202,
        "only the new change follows the restart\n{}",
        kafka.log_text()
    );
    assert_eq!(
        actors[201]["value"]["payload"]["after"]["first_name"],
        "ZED"
    );
    kafka.stop();
    db.drop().await;
}

/// The cases of Kafka's UtilsTest.testMurmur2, so the check above tests against Java's hash.
#[test]
fn murmur2_is_javas() {
    for (key, hash) in [
        ("21", -973932308),
        ("foobar", -790332482),
        ("a-little-bit-long-string", -985981536),
        ("a-little-bit-longer-string", -1486304829),
        (
            "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
            -58897971,
        ),
        ("abc", 479470107),
    ] {
        assert_eq!(murmur2(key.as_bytes()), hash, "{key}");
    }
}
