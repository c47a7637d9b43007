//! Each partitioner and rotation rule, object by object, through the sink itself: the object
//! keys and what they hold. Avro and Parquet are read back by independent readers (fastavro,
//! pyarrow: `SLUICE_TEST_PYTHON`, set by scripts/test), and a multipart upload above
//! `s3.part.size` goes to the S3 server scripts/test starts (`SLUICE_TEST_S3`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sluice_config::{ConnectorConfig, ConnectorSettings, RawConfig};
use sluice_core::data::{Data, Schema, SchemaType, Value};
use sluice_core::logical;
use sluice_core::record::{Consumed, ProducerRecord, Record};
use sluice_core::sink::Sink;
use sluice_s3::S3Sink;

fn config(extra: &[(&str, &str)]) -> sluice_config::s3::S3SinkConfig {
    let mut props = serde_json::json!({
        "name": "rules",
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "topics": "orders",
        "s3.bucket.name": "lake",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
        "flush.size": "1000",
    });
    for (k, v) in extra {
        props[*k] = serde_json::Value::String((*v).to_owned());
    }
    let raw = RawConfig::from_json(&props.to_string(), "s3").unwrap();
    match ConnectorSettings::parse(&raw).unwrap().connector {
        ConnectorConfig::S3Sink(c) => *c,
        other => panic!("{other:?}"),
    }
}

fn schema(version: i32) -> Arc<Schema> {
    let mut s = Schema::structure()
        .named("shop.orders.Value")
        .version(version)
        .field("id", Schema::new(SchemaType::Int64))
        .field("country", Schema::new(SchemaType::String))
        .field(
            "amount",
            logical::decimal_schema(2).param(logical::DECIMAL_PRECISION, "10"),
        )
        .field("placed", logical::timestamp_schema())
        .field("note", Schema::new(SchemaType::String).optional());
    if version > 1 {
        s = s.field("gift", Schema::new(SchemaType::Boolean).optional());
    }
    Arc::new(s)
}

/// Order `offset` placed at `ts` in `country`.
fn order(schema: &Arc<Schema>, offset: i64, ts: i64, country: &str) -> Record {
    let mut values = vec![
        Value::Int(offset),
        Value::from(country),
        Value::Bytes((offset * 100 + 99).to_be_bytes().to_vec()),
        Value::Int(ts),
        if offset % 2 == 0 {
            Value::Null
        } else {
            Value::from("fragile")
        },
    ];
    if schema.fields.len() > 5 {
        values.push(Value::Boolean(true));
    }
    let mut r = Record::new(
        "orders",
        None,
        Some(Data::new(schema.clone(), Value::Struct(values))),
        ts,
    );
    r.partition = Some(0);
    r.consumed = Some(Arc::new(Consumed {
        record: ProducerRecord {
            topic: "orders".into(),
            key: None,
            value: None,
            timestamp_ms: ts,
            headers: Vec::new(),
        },
        partition: 0,
        offset,
    }));
    r
}

/// Writes `records` and flushes; returns the object keys under the bucket, sorted.
async fn run(cfg: &sluice_config::s3::S3SinkConfig, records: &[Record]) -> Vec<String> {
    let mut sink = S3Sink::open(cfg, false).await.unwrap();
    let written = sink.write(records).await.unwrap();
    assert!(written.rejected.is_empty(), "{:?}", written.rejected);
    sink.flush().await.unwrap();
    let root = bucket_dir(cfg);
    let mut keys = Vec::new();
    list(&root, &root, &mut keys);
    keys.sort();
    keys
}

fn bucket_dir(cfg: &sluice_config::s3::S3SinkConfig) -> PathBuf {
    let base = cfg
        .store_url
        .as_deref()
        .and_then(|u| u.strip_prefix("file://"))
        .unwrap();
    Path::new(base).join(&cfg.bucket)
}

fn list(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            list(root, &p, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().display().to_string());
        }
    }
}

fn ids_in(path: &Path) -> Vec<i64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

const T0: i64 = 1_710_063_930_000; // 2024-03-10T09:45:30Z

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_partitioner_and_flush_size() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("file://{}", tmp.path().display());
    let cfg = config(&[("store.url", &url), ("flush.size", "3")]);
    let s = schema(1);
    let records: Vec<Record> = (0..8).map(|i| order(&s, i, T0, "Chad")).collect();
    let keys = run(&cfg, &records).await;
    // Records 6 and 7 stay in an open file: never uploaded before it rotates.
    assert_eq!(
        keys,
        vec![
            "topics/orders/partition=0/orders+0+0000000000.json",
            "topics/orders/partition=0/orders+0+0000000003.json",
        ]
    );
    assert_eq!(ids_in(&bucket_dir(&cfg).join(&keys[1])), vec![3, 4, 5]);
    // topics.dir, the delimiters and the pad width.
    let cfg = config(&[
        ("store.url", &url),
        ("s3.bucket.name", "other"),
        ("flush.size", "2"),
        ("topics.dir", "lake/raw"),
        ("file.delim", "_"),
        ("filename.offset.zero.pad.width", "4"),
    ]);
    let keys = run(&cfg, &records[..2]).await;
    assert_eq!(keys, vec!["lake/raw/orders/partition=0/orders_0_0000.json"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_partitioner_keeps_spaces_and_rotates_every_file_together() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("file://{}", tmp.path().display());
    let cfg = config(&[
        ("store.url", &url),
        ("flush.size", "4"),
        (
            "partitioner.class",
            "io.confluent.connect.storage.partitioner.FieldPartitioner",
        ),
        ("partition.field.name", "country,note"),
    ]);
    let s = schema(1);
    let countries = ["United States", "Chad", "United States", "Chad"];
    let records: Vec<Record> = (0..4)
        .map(|i| order(&s, i, T0, countries[i as usize]))
        .collect();
    let keys = run(&cfg, &records).await;
    assert_eq!(
        keys,
        vec![
            "topics/orders/country=Chad/note=fragile/orders+0+0000000001.json",
            "topics/orders/country=United States/note=null/orders+0+0000000000.json",
        ]
    );
    let us = bucket_dir(&cfg)
        .join("topics/orders/country=United States/note=null/orders+0+0000000000.json");
    assert_eq!(ids_in(&us), vec![0, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_based_partitioners_and_rotate_interval() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("file://{}", tmp.path().display());
    let hour = 3_600_000;
    // Hourly by record time, rotated when the hour changes (rotate.file.on.partition.change)
    // or 30 minutes of record time passed since a file's first record: the last file (11:17
    // and 11:45) is still open, so not uploaded.
    let cfg = config(&[
        ("store.url", &url),
        (
            "partitioner.class",
            "io.confluent.connect.storage.partitioner.HourlyPartitioner",
        ),
        ("timestamp.extractor", "Record"),
        ("locale", "en-US"),
        ("timezone", "UTC"),
        ("rotate.interval.ms", "1800000"),
    ]);
    let s = schema(1);
    let times = [
        T0,
        T0 + 60_000,
        T0 + hour,
        T0 + hour + 1_900_000,
        T0 + 2 * hour + 10,
    ];
    let records: Vec<Record> = times
        .iter()
        .enumerate()
        .map(|(i, t)| order(&s, i as i64, *t, "Chad"))
        .collect();
    let keys = run(&cfg, &records).await;
    assert_eq!(
        keys,
        vec![
            "topics/orders/year=2024/month=03/day=10/hour=09/orders+0+0000000000.json",
            "topics/orders/year=2024/month=03/day=10/hour=10/orders+0+0000000002.json",
        ]
    );
    // TimeBased with its own path.format, a field as the timestamp, in another zone; Daily.
    let cfg = config(&[
        ("store.url", &url),
        ("s3.bucket.name", "time-based"),
        ("flush.size", "2"),
        (
            "partitioner.class",
            "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
        ),
        ("path.format", "'dt'=YYYY-MM-dd/'hh'=HH"),
        ("partition.duration.ms", "7200000"),
        ("timestamp.extractor", "RecordField"),
        ("timestamp.field", "placed"),
        ("locale", "fr-FR"),
        ("timezone", "Asia/Kolkata"),
    ]);
    let keys = run(&cfg, &records[..2]).await;
    assert_eq!(
        keys,
        vec!["topics/orders/dt=2024-03-10/hh=14/orders+0+0000000000.json"]
    );
    let cfg = config(&[
        ("store.url", &url),
        ("s3.bucket.name", "daily"),
        ("flush.size", "1"),
        (
            "partitioner.class",
            "io.confluent.connect.storage.partitioner.DailyPartitioner",
        ),
        ("timestamp.extractor", "Record"),
        ("locale", "en"),
        ("timezone", "America/Los_Angeles"),
    ]);
    let keys = run(&cfg, &records[..1]).await;
    assert_eq!(
        keys,
        vec!["topics/orders/year=2024/month=03/day=10/orders+0+0000000000.json"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_changes_roll_files_by_schema_compatibility() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("file://{}", tmp.path().display());
    let (v1, v2) = (schema(1), schema(2));
    // v1, v2, v1: NONE rolls on every change; BACKWARD rolls only on the newer version and
    // projects the older record into it.
    let records = vec![
        order(&v1, 0, T0, "Chad"),
        order(&v2, 1, T0, "Chad"),
        order(&v1, 2, T0, "Chad"),
    ];
    let none = config(&[
        ("store.url", &url),
        ("s3.bucket.name", "none"),
        ("flush.size", "3"),
    ]);
    let keys = run(&none, &records).await;
    assert_eq!(
        keys,
        vec![
            "topics/orders/partition=0/orders+0+0000000000.json",
            "topics/orders/partition=0/orders+0+0000000001.json",
        ]
    );
    let backward = config(&[
        ("store.url", &url),
        ("s3.bucket.name", "backward"),
        ("flush.size", "2"),
        ("schema.compatibility", "BACKWARD"),
    ]);
    let keys = run(&backward, &records).await;
    assert_eq!(
        keys,
        vec![
            "topics/orders/partition=0/orders+0+0000000000.json",
            "topics/orders/partition=0/orders+0+0000000001.json",
        ]
    );
    let text = std::fs::read_to_string(bucket_dir(&backward).join(&keys[1])).unwrap();
    assert!(
        text.lines().nth(1).unwrap().contains("\"gift\":null"),
        "{text}"
    );
}

/// Runs a Python snippet with the test's Python (pyarrow, fastavro); `None` when there is none.
fn python(code: &str, arg: &Path) -> Option<String> {
    let py = std::env::var("SLUICE_TEST_PYTHON").ok()?;
    let out = std::process::Command::new(py)
        .arg("-c")
        .arg(code)
        .arg(arg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_and_parquet_read_back_by_other_readers() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("file://{}", tmp.path().display());
    let s = schema(1);
    let records: Vec<Record> = (0..5)
        .map(|i| order(&s, i, T0 + i, "United States"))
        .collect();
    let avro = config(&[
        ("store.url", &url),
        ("s3.bucket.name", "avro"),
        ("flush.size", "5"),
        (
            "format.class",
            "io.confluent.connect.s3.format.avro.AvroFormat",
        ),
        ("avro.codec", "snappy"),
    ]);
    let keys = run(&avro, &records).await;
    assert_eq!(
        keys,
        vec!["topics/orders/partition=0/orders+0+0000000000.avro"]
    );
    let read = python(
        "import sys, fastavro, json\n\
         r = fastavro.reader(open(sys.argv[1], 'rb'))\n\
         print(json.dumps({'schema': r.writer_schema['name'], 'rows': [[x['id'], str(x['amount']), x['placed'].isoformat(), x['note']] for x in r]}))",
        &bucket_dir(&avro).join(&keys[0]),
    );
    if let Some(read) = read {
        let v: serde_json::Value = serde_json::from_str(&read).unwrap();
        assert_eq!(v["schema"], "shop.orders.Value");
        assert_eq!(
            v["rows"][1],
            serde_json::json!([1, "1.99", "2024-03-10T09:45:30.001000+00:00", "fragile"])
        );
        assert_eq!(v["rows"][0][3], serde_json::Value::Null);
    }
    let parquet = config(&[
        ("store.url", &url),
        ("s3.bucket.name", "parquet"),
        ("flush.size", "5"),
        (
            "format.class",
            "io.confluent.connect.s3.format.parquet.ParquetFormat",
        ),
        ("parquet.codec", "zstd"),
    ]);
    let keys = run(&parquet, &records).await;
    assert_eq!(
        keys,
        vec!["topics/orders/partition=0/orders+0+0000000000.zstd.parquet"]
    );
    let read = python(
        "import sys, pyarrow.parquet as pq\n\
         t = pq.read_table(sys.argv[1])\n\
         print(t.schema.to_string(show_schema_metadata=False))\n\
         print(t.column('amount').to_pylist()[2], t.num_rows)",
        &bucket_dir(&parquet).join(&keys[0]),
    );
    if let Some(read) = read {
        for want in [
            "id: int64 not null",
            "country: string not null",
            "amount: decimal128(10, 2) not null",
            "placed: timestamp[ms, tz=UTC] not null",
            "note: string",
            "2.99 5",
        ] {
            assert!(read.contains(want), "{want} not in {read}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_upload_above_the_part_size() {
    let Ok(url) = std::env::var("SLUICE_TEST_S3") else {
        eprintln!("SLUICE_TEST_S3 is not set: run scripts/test to test against an S3 server");
        return;
    };
    let data = std::env::var("SLUICE_TEST_S3_DIR").unwrap();
    let access = std::env::var("SLUICE_TEST_S3_ACCESS_KEY").unwrap();
    let secret = std::env::var("SLUICE_TEST_S3_SECRET_KEY").unwrap();
    let bucket = format!("multipart-{}", std::process::id());
    std::fs::create_dir_all(Path::new(&data).join(&bucket)).unwrap();
    let cfg = config(&[
        ("store.url", &url),
        ("s3.bucket.name", &bucket),
        ("aws.access.key.id", &access),
        ("aws.secret.access.key", &secret),
        ("s3.part.size", "5242880"),
        ("flush.size", "12"),
        (
            "format.class",
            "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        ),
    ]);
    // 12 records of 1 MiB: a 12 MiB object in three parts.
    let records: Vec<Record> = (0..12)
        .map(|i| {
            let mut r = order(&schema(1), i, T0, "Chad");
            r.value = Some(Data::new(
                Schema::new(SchemaType::Bytes),
                Value::Bytes(vec![b'a' + i as u8; 1 << 20]),
            ));
            r
        })
        .collect();
    let mut sink = S3Sink::open(&cfg, false).await.unwrap();
    sink.write(&records).await.unwrap();
    sink.flush().await.unwrap();
    // s3s-fs keeps an object as a file at its key under the bucket's directory.
    let mut files = Vec::new();
    list(
        &Path::new(&data).join(&bucket),
        &Path::new(&data).join(&bucket),
        &mut files,
    );
    assert_eq!(
        files,
        vec!["topics/orders/partition=0/orders+0+0000000000.bin"]
    );
    let bytes = std::fs::read(Path::new(&data).join(&bucket).join(&files[0])).unwrap();
    assert_eq!(bytes.len(), 12 * ((1 << 20) + 1));
    assert_eq!(bytes[(1 << 20) + 1], b'b');
}
