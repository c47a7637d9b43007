//! `sluice topics list|tail` over a data dir.

use std::process::Command;

use sluice_core::record::ProducerRecord;
use sluice_core::topics::LocalTopics;

fn sluice(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn topics_list_and_tail() {
    let dir = tempfile::tempdir().unwrap();
    let mut topics = LocalTopics::open(dir.path()).unwrap();
    for (topic, n) in [("b.public.t", 3), ("a.public.t", 1)] {
        for i in 0..n {
            topics
                .append(&ProducerRecord {
                    topic: topic.into(),
                    key: Some(format!("{{\"id\":{i}}}").into_bytes()),
                    value: None,
                    timestamp_ms: 1,
                    headers: vec![],
                })
                .unwrap();
        }
    }
    topics.sync().unwrap();
    let data = dir.path().to_str().unwrap();

    let (ok, out, _) = sluice(&["topics", "list", "--data-dir", data]);
    assert!(ok);
    assert_eq!(out, "a.public.t\nb.public.t\n");

    let (ok, out, _) = sluice(&[
        "topics",
        "tail",
        "b.public.t",
        "--from-beginning",
        "--data-dir",
        data,
    ]);
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[2],
        r#"{"topic":"b.public.t","partition":0,"offset":2,"timestamp":1,"key":{"id":2},"value":null,"headers":[]}"#
    );

    let (ok, _, err) = sluice(&["topics", "tail", "nope", "--data-dir", data]);
    assert!(!ok);
    assert!(err.contains("local topic \"nope\" does not exist"), "{err}");
}
