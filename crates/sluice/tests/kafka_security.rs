//! Kafka with the worker properties Kafka Connect users have: SASL/SCRAM against a broker that
//! requires it, TLS and mutual TLS through a TLS-terminating proxy (stunnel) in front of a
//! broker, and Heroku Kafka's environment variables. A wrong password and an untrusted
//! certificate fail clearly, and no secret reaches the log.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::Value as Json;

fn certs(file: &str) -> String {
    format!("{}/{file}", env("SLUICE_TEST_TLS_CERTS"))
}

fn pem(file: &str) -> String {
    std::fs::read_to_string(certs(file)).unwrap()
}

/// Worker properties: the given client settings and internal topics of the test's own.
fn worker_props(dir: &std::path::Path, lines: &[(&str, &str)]) -> String {
    let id = unique("w");
    let mut text = format!(
        "config.storage.topic=cfg-{id}\noffset.storage.topic=off-{id}\nstatus.storage.topic=st-{id}\n"
    );
    for (k, v) in lines {
        // .properties: backslashes and newlines escaped.
        let v = v.replace('\\', "\\\\").replace('\n', "\\n");
        text.push_str(&format!("{k}={v}\n"));
    }
    let path = dir.join("worker.properties");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Reads a topic with a consumer configured like the worker.
fn consume(bootstrap: &str, topic: &str, settings: &[(&str, &str)], want: usize) -> Vec<Json> {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", bootstrap)
        .set("group.id", unique("reader"))
        .set("fetch.wait.max.ms", "10");
    for (k, v) in settings {
        cfg.set(*k, *v);
    }
    let consumer: BaseConsumer = cfg.create().unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while out.len() < want && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            out.push(
                m.payload()
                    .map_or(Json::Null, |b| serde_json::from_slice(b).unwrap()),
            );
        }
    }
    out
}

/// Runs one Postgres connector into Kafka with these worker settings; returns the records
/// read back with `read_settings`.
async fn round_trip(
    bootstrap: Option<&str>,
    props: &[(&str, &str)],
    envs: &[(&str, String)],
    read_bootstrap: &str,
    topic_prefix: &str,
    read_settings: &[(&str, &str)],
) {
    let db = TestDb::empty("ksec").await;
    db.exec("CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t SELECT generate_series(1, 5)")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let props_file = worker_props(dir.path(), props);
    let name = unique("ks");
    let mut s = Sluice::new(dir.path());
    s.envs = envs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let mut args = vec!["--worker-config", props_file.as_str(), "--rest-port", "0"];
    if let Some(b) = bootstrap {
        args.extend(["--bootstrap-servers", b]);
    }
    s.start(
        &[db.connector(&name, &[("table.include.list", "public.t")])],
        &args,
    );
    let topic = format!("{topic_prefix}{name}.public.t");
    let records = consume(read_bootstrap, &topic, read_settings, 5);
    assert_eq!(records.len(), 5, "records in {topic}\n{}", s.log_text());
    let log = s.log_text();
    for secret in ["alicepw", "bobpw", "PRIVATE KEY", "St0rePass"] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sasl_scram_256_and_512() {
    let bs = env("SLUICE_TEST_KAFKA_SASL");
    for (mechanism, user, password) in [
        ("SCRAM-SHA-256", "alice", "alicepw"),
        ("SCRAM-SHA-512", "bob", "bobpw"),
    ] {
        let jaas = format!(
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{user}\" password=\"{password}\";"
        );
        let read = [
            ("security.protocol", "sasl_plaintext"),
            ("sasl.mechanisms", mechanism),
            ("sasl.username", user),
            ("sasl.password", password),
        ];
        round_trip(
            Some(&bs),
            &[
                ("security.protocol", "SASL_PLAINTEXT"),
                ("sasl.mechanism", mechanism),
                ("sasl.jaas.config", &jaas),
            ],
            &[],
            &bs,
            "",
            &read,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_and_mutual_tls_through_a_tls_proxy() {
    let tls = env("SLUICE_TEST_KAFKA_TLS");
    let ca = certs("ca.crt");
    let read = [
        ("security.protocol", "ssl"),
        ("ssl.ca.location", ca.as_str()),
    ];
    round_trip(
        Some(&tls),
        &[
            ("security.protocol", "SSL"),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.location", &ca),
        ],
        &[],
        &tls,
        "",
        &read,
    )
    .await;
    // Mutual TLS with a PEM keystore given inline, as Connect's worker properties allow.
    let mtls = env("SLUICE_TEST_KAFKA_MTLS");
    let (cert, key) = (certs("kafka_client.crt"), certs("kafka_client.key"));
    let read = [
        ("security.protocol", "ssl"),
        ("ssl.ca.location", ca.as_str()),
        ("ssl.certificate.location", cert.as_str()),
        ("ssl.key.location", key.as_str()),
    ];
    round_trip(
        Some(&mtls),
        &[
            ("security.protocol", "SSL"),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.certificates", &pem("ca.crt")),
            ("ssl.keystore.type", "PEM"),
            ("ssl.keystore.certificate.chain", &pem("kafka_client.crt")),
            ("ssl.keystore.key", &pem("kafka_client.key")),
        ],
        &[],
        &mtls,
        "",
        &read,
    )
    .await;
    // The same with a PKCS12 keystore file and its password.
    let dir = tempfile::tempdir().unwrap();
    let p12 = dir.path().join("keystore.p12");
    let made = Command::new("openssl")
        .args([
            "pkcs12",
            "-export",
            "-passout",
            "pass:St0rePass",
            "-in",
            &cert,
            "-inkey",
            &key,
            "-out",
        ])
        .arg(&p12)
        .status()
        .unwrap();
    assert!(made.success());
    round_trip(
        Some(&mtls),
        &[
            ("security.protocol", "SSL"),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.location", &ca),
            ("ssl.keystore.type", "PKCS12"),
            ("ssl.keystore.location", p12.to_str().unwrap()),
            ("ssl.keystore.password", "St0rePass"),
        ],
        &[],
        &mtls,
        "",
        &read,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn heroku_kafka_environment() {
    let mtls = env("SLUICE_TEST_KAFKA_MTLS");
    let (ca, cert, key) = (
        certs("ca.crt"),
        certs("kafka_client.crt"),
        certs("kafka_client.key"),
    );
    let read = [
        ("security.protocol", "ssl"),
        ("ssl.ca.location", ca.as_str()),
        ("ssl.certificate.location", cert.as_str()),
        ("ssl.key.location", key.as_str()),
    ];
    // Heroku rotates its CA with two certificates in KAFKA_TRUSTED_CERT.
    let trusted = format!("{}{}", pem("other-ca.crt"), pem("ca.crt"));
    round_trip(
        None,
        &[],
        &[
            ("KAFKA_URL", format!("kafka+ssl://{mtls}")),
            ("KAFKA_TRUSTED_CERT", trusted),
            ("KAFKA_CLIENT_CERT", pem("kafka_client.crt")),
            ("KAFKA_CLIENT_CERT_KEY", pem("kafka_client.key")),
            ("KAFKA_PREFIX", "tenant-".into()),
        ],
        &mtls,
        "tenant-",
        &read,
    )
    .await;
}

/// `sluice worker` with these settings must fail at start; its stderr.
fn worker_fails(bootstrap: &str, props: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let props_file = worker_props(dir.path(), props);
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["worker", "--data-dir"])
        .arg(dir.path().join("data"))
        .args([
            "--rest-port",
            "0",
            "--bootstrap-servers",
            bootstrap,
            "--worker-config",
            &props_file,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!status.success(), "{stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
            return stderr;
        }
        assert!(Instant::now() < deadline, "the worker did not fail");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_wrong_password_and_an_untrusted_certificate_fail_clearly() {
    let sasl = env("SLUICE_TEST_KAFKA_SASL");
    let err = worker_fails(
        &sasl,
        &[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "SCRAM-SHA-256"),
            ("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"Wr0ngSecret\";"),
        ],
    );
    assert!(
        err.contains("authentication") || err.contains("Authentication"),
        "{err}"
    );
    assert!(!err.contains("Wr0ngSecret"), "{err}");
    let tls = env("SLUICE_TEST_KAFKA_TLS");
    let other = certs("other-ca.crt");
    let err = worker_fails(
        &tls,
        &[
            ("security.protocol", "SSL"),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.location", &other),
        ],
    );
    assert!(
        err.contains("certificate verify failed") || err.contains("SSL handshake failed"),
        "{err}"
    );
    // A JKS store is refused with how to convert it, before any connection.
    let err = worker_fails(
        &tls,
        &[
            ("security.protocol", "SSL"),
            ("ssl.truststore.location", "/etc/kafka/truststore.jks"),
            ("ssl.truststore.password", "changeit"),
        ],
    );
    assert!(
        err.contains("keytool -exportcert") && !err.contains("changeit"),
        "{err}"
    );
}
