//! Local topics pass the sink conformance suite.

use std::path::PathBuf;

use sluice_core::conformance::{run_all, SinkUnderTest, TOPIC};
use sluice_core::json::{Converter, JsonConverter};
use sluice_core::topics::{LocalTopicSink, LocalTopics, TopicReader};

struct Local {
    dir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl SinkUnderTest for Local {
    type S = LocalTopicSink;

    async fn open(&self) -> LocalTopicSink {
        let conv = Converter::Json(JsonConverter {
            schemas_enable: false,
        });
        LocalTopicSink {
            topics: LocalTopics::open(&self.dir).unwrap(),
            key: conv,
            value: conv,
        }
    }

    async fn read_back(&self) -> Vec<i64> {
        let Ok(mut reader) = TopicReader::open(&self.dir, TOPIC, true) else {
            return Vec::new();
        };
        reader
            .read_lines()
            .unwrap()
            .iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_slice(l).unwrap();
                v["value"].as_i64().unwrap()
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_topics_conform() {
    run_all(|_| {
        let tmp = tempfile::tempdir().unwrap();
        Local {
            dir: tmp.path().to_owned(),
            _tmp: tmp,
        }
    })
    .await;
}
