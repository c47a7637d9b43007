//! The S3 sink passes the sink conformance suite: into a local directory always, and into the
//! S3-compatible server scripts/test starts (`SLUICE_TEST_S3`, objects read back from its data
//! directory `SLUICE_TEST_S3_DIR`). Rotation by `flush.size` only, so a restart rewrites the
//! same objects: nothing committed is lost, nothing committed is written twice.

use std::path::{Path, PathBuf};

use sluice_config::{ConnectorConfig, ConnectorSettings, RawConfig};
use sluice_core::conformance::{run_all, SinkUnderTest};
use sluice_s3::S3Sink;

struct Bucket {
    config: sluice_config::s3::S3SinkConfig,
    /// Where the bucket's objects are on disk.
    dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

fn config(extra: &[(&str, String)]) -> sluice_config::s3::S3SinkConfig {
    let mut props = serde_json::json!({
        "name": "s3-conformance",
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "topics": "conformance",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
        "flush.size": "10",
    });
    for (k, v) in extra {
        props[*k] = serde_json::Value::String(v.clone());
    }
    let raw = RawConfig::from_json(&props.to_string(), "s3").unwrap();
    match ConnectorSettings::parse(&raw).unwrap().connector {
        ConnectorConfig::S3Sink(c) => *c,
        other => panic!("{other:?}"),
    }
}

impl SinkUnderTest for Bucket {
    type S = S3Sink;

    async fn open(&self) -> S3Sink {
        S3Sink::open(&self.config, false).await.unwrap()
    }

    async fn read_back(&self) -> Vec<i64> {
        let mut out = Vec::new();
        collect(&self.dir, &mut out);
        out
    }
}

/// The numbers in every `.json` object under `dir`.
fn collect(dir: &Path, out: &mut Vec<i64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&p).unwrap();
            out.extend(text.lines().map(|l| l.parse::<i64>().unwrap()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_sink_into_a_local_directory_conforms() {
    run_all(|name| {
        let tmp = tempfile::tempdir().unwrap();
        let bucket = format!("bucket{}", name.len());
        let config = config(&[
            ("s3.bucket.name", bucket.clone()),
            ("store.url", format!("file://{}", tmp.path().display())),
        ]);
        Bucket {
            config,
            dir: tmp.path().join(bucket),
            _tmp: Some(tmp),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_sink_into_an_s3_server_conforms() {
    let (Ok(url), Ok(data)) = (
        std::env::var("SLUICE_TEST_S3"),
        std::env::var("SLUICE_TEST_S3_DIR"),
    ) else {
        eprintln!("SLUICE_TEST_S3 is not set: run scripts/test to test against an S3 server");
        return;
    };
    let access = std::env::var("SLUICE_TEST_S3_ACCESS_KEY").unwrap();
    let secret = std::env::var("SLUICE_TEST_S3_SECRET_KEY").unwrap();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros();
    let counter = std::sync::atomic::AtomicU32::new(0);
    run_all(|_| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let bucket = format!("conf-{}-{stamp}-{n}", std::process::id());
        let dir = Path::new(&data).join(&bucket);
        std::fs::create_dir_all(&dir).unwrap();
        let config = config(&[
            ("s3.bucket.name", bucket),
            ("store.url", url.clone()),
            ("aws.access.key.id", access.clone()),
            ("aws.secret.access.key", secret.clone()),
        ]);
        Bucket {
            config,
            dir,
            _tmp: None,
        }
    })
    .await;
}
