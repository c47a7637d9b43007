//! Kafka's FileStreamSinkConnector, as Sluice runs it, passes the sink conformance suite.

use std::path::PathBuf;

use sluice_config::file::FileSinkConfig;
use sluice_core::conformance::{run_all, SinkUnderTest};
use sluice_worker::file_sink::FileSink;

struct File {
    path: PathBuf,
    _tmp: tempfile::TempDir,
}

impl SinkUnderTest for File {
    type S = FileSink;

    async fn open(&self) -> FileSink {
        FileSink::open(&FileSinkConfig {
            file: Some(self.path.clone()),
        })
        .unwrap()
    }

    async fn read_back(&self) -> Vec<i64> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_sink_conforms() {
    run_all(|_| {
        let tmp = tempfile::tempdir().unwrap();
        File {
            path: tmp.path().join("out.txt"),
            _tmp: tmp,
        }
    })
    .await;
}
