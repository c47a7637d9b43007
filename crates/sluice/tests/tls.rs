//! TLS to PostgreSQL, against a server that takes only TLS (scripts/test makes its CA and
//! certificates with openssl; the server's certificate names `localhost` only): every
//! `sslmode` means what it means to libpq on both the query and the replication connection,
//! client certificates work as PEM and as pgjdbc's DER `.pk8` (encrypted too), and each way it
//! can go wrong is one clear error.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::{json, Value as Json};

struct TlsServer {
    port: String,
    socket: String,
    certs: PathBuf,
}

impl TlsServer {
    fn from_env() -> Self {
        TlsServer {
            port: env("SLUICE_TEST_TLS_PG_PORT"),
            socket: env("SLUICE_TEST_TLS_PG_SOCKET"),
            certs: PathBuf::from(env("SLUICE_TEST_TLS_CERTS")),
        }
    }

    /// SQL as postgres over the server's unix socket (TCP takes only TLS).
    fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new("psql")
            .args([
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                &self.socket,
                "-p",
                &self.port,
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn database(&self, prefix: &str) -> String {
        let name = unique(prefix);
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.psql(&name, "CREATE TABLE public.t (id int PRIMARY KEY, v text); INSERT INTO public.t VALUES (1, 'one'), (2, 'two')");
        name
    }

    fn cert(&self, file: &str) -> String {
        self.certs.join(file).display().to_string()
    }

    fn connector(
        &self,
        db: &str,
        name: &str,
        host: &str,
        user: &str,
        extra: &[(&str, &str)],
    ) -> Json {
        let password = if user == "sluice_mtls" {
            "mtlspass"
        } else {
            "tlspass"
        };
        let mut config = json!({
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": host,
            "database.port": self.port,
            "database.user": user,
            "database.password": password,
            "database.dbname": db,
            "topic.prefix": name,
            "slot.name": format!("slot_{name}"),
            "publication.name": format!("pub_{name}"),
            "table.include.list": "public.t",
        });
        for (k, v) in extra {
            config[*k] = json!(v);
        }
        json!({"name": name, "config": config})
    }
}

/// `sluice run` on one config, which must fail; its stderr, which names no key password.
fn run_failing_tls(config: &Json) -> String {
    let stderr = run_failing(90, config);
    assert!(
        !stderr.contains("tlspass") && !stderr.contains("keypass"),
        "{stderr}"
    );
    stderr
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_and_streaming_over_tls_in_every_verifying_mode() {
    let srv = TlsServer::from_env();
    let db = srv.database("tlsmodes");
    let ca = srv.cert("ca.crt");
    let cases: Vec<(String, Json)> = vec![
        (
            "req".into(),
            srv.connector(
                &db,
                &unique("req"),
                "127.0.0.1",
                "sluice_tls",
                &[("database.sslmode", "require")],
            ),
        ),
        (
            "vca".into(),
            srv.connector(
                &db,
                &unique("vca"),
                "127.0.0.1",
                "sluice_tls",
                &[
                    ("database.sslmode", "verify-ca"),
                    ("database.sslrootcert", &ca),
                ],
            ),
        ),
        (
            "vfull".into(),
            srv.connector(
                &db,
                &unique("vfull"),
                "localhost",
                "sluice_tls",
                &[
                    ("database.sslmode", "verify-full"),
                    ("database.sslrootcert", &ca),
                ],
            ),
        ),
        // Debezium's default, prefer: TLS when the server offers it.
        (
            "prefer".into(),
            srv.connector(&db, &unique("pref"), "127.0.0.1", "sluice_tls", &[]),
        ),
        // allow: plain first, TLS when the server refuses plain (this one does).
        (
            "allow".into(),
            srv.connector(
                &db,
                &unique("allow"),
                "127.0.0.1",
                "sluice_tls",
                &[("database.sslmode", "allow")],
            ),
        ),
        // Client certificates: PEM, DER .pk8, encrypted .pk8.
        (
            "mtls-pem".into(),
            srv.connector(
                &db,
                &unique("mpem"),
                "localhost",
                "sluice_mtls",
                &[
                    ("database.sslmode", "verify-full"),
                    ("database.sslrootcert", &ca),
                    ("database.sslcert", &srv.cert("sluice_mtls.crt")),
                    ("database.sslkey", &srv.cert("sluice_mtls.key")),
                ],
            ),
        ),
        (
            "mtls-pk8".into(),
            srv.connector(
                &db,
                &unique("mpk8"),
                "localhost",
                "sluice_mtls",
                &[
                    ("database.sslmode", "verify-full"),
                    ("database.sslrootcert", &ca),
                    ("database.sslcert", &srv.cert("sluice_mtls.crt")),
                    ("database.sslkey", &srv.cert("sluice_mtls.pk8")),
                ],
            ),
        ),
        (
            "mtls-enc".into(),
            srv.connector(
                &db,
                &unique("menc"),
                "localhost",
                "sluice_mtls",
                &[
                    ("database.sslmode", "verify-full"),
                    ("database.sslrootcert", &ca),
                    ("database.sslcert", &srv.cert("sluice_mtls.crt")),
                    ("database.sslkey", &srv.cert("sluice_mtls.enc.pk8")),
                    ("database.sslpassword", "keypass"),
                ],
            ),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let configs: Vec<Json> = cases.iter().map(|(_, c)| c.clone()).collect();
    s.start(&configs, &["--rest-port", &free_port().to_string()]);
    let names: Vec<String> = configs
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    for n in &names {
        wait_for(120, &format!("{n}'s snapshot"), &s, || {
            s.records(&format!("{n}.public.t")).len() >= 2
        })
        .await;
    }
    srv.psql(&db, "INSERT INTO public.t VALUES (3, 'three')");
    for n in &names {
        wait_for(60, &format!("{n} streaming the insert"), &s, || {
            s.records(&format!("{n}.public.t"))
                .iter()
                .any(|r| payload(r)["after"]["id"] == 3)
        })
        .await;
    }
    // Both connections of every connector are encrypted (the replication one is a walsender).
    for n in &names {
        let rows = srv.psql(&db, &format!("SELECT count(*) FILTER (WHERE ssl), count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE application_name = 'sluice-{n}'"));
        let (encrypted, total) = rows.split_once('|').unwrap();
        assert!(
            total.parse::<i32>().unwrap() >= 1 && encrypted == total,
            "{n}: {rows}"
        );
    }
    s.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn each_tls_failure_is_one_clear_error() {
    let srv = TlsServer::from_env();
    let db = srv.database("tlserr");
    let ca = srv.cert("ca.crt");
    let other = srv.cert("other-ca.crt");

    // A CA that did not sign the server's certificate.
    let err = run_failing_tls(&srv.connector(
        &db,
        "e1",
        "localhost",
        "sluice_tls",
        &[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", &other),
        ],
    ));
    assert!(
        err.contains(&format!("not signed by a CA in {other}")),
        "{err}"
    );
    // The right CA but the wrong host name (the certificate names localhost).
    let err = run_failing_tls(&srv.connector(
        &db,
        "e2",
        "127.0.0.1",
        "sluice_tls",
        &[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", &ca),
        ],
    ));
    assert!(err.contains("does not name 127.0.0.1"), "{err}");
    // No TLS against a server that takes only TLS.
    let err = run_failing_tls(&srv.connector(
        &db,
        "e3",
        "127.0.0.1",
        "sluice_tls",
        &[("database.sslmode", "disable")],
    ));
    assert!(
        err.contains("accepts only encrypted connections") && err.contains("sslmode=disable"),
        "{err}"
    );
    // A user that needs a client certificate, without one.
    let err = run_failing_tls(&srv.connector(
        &db,
        "e4",
        "localhost",
        "sluice_mtls",
        &[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", &ca),
        ],
    ));
    assert!(err.contains("requires a client certificate"), "{err}");
    // An encrypted key without its password, a wrong password.
    let err = run_failing_tls(&srv.connector(
        &db,
        "e5",
        "localhost",
        "sluice_mtls",
        &[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", &ca),
            ("database.sslcert", &srv.cert("sluice_mtls.crt")),
            ("database.sslkey", &srv.cert("sluice_mtls.enc.pk8")),
        ],
    ));
    assert!(
        err.contains("set sslpassword") || err.contains("sslpassword"),
        "{err}"
    );
    let err = run_failing_tls(&srv.connector(
        &db,
        "e6",
        "localhost",
        "sluice_mtls",
        &[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", &ca),
            ("database.sslcert", &srv.cert("sluice_mtls.crt")),
            ("database.sslkey", &srv.cert("sluice_mtls.enc.pk8")),
            ("database.sslpassword", "wrong"),
        ],
    ));
    assert!(err.contains("wrong sslpassword"), "{err}");
    // Verifying modes need a CA: a config error before anything connects.
    let err = run_failing_tls(&srv.connector(
        &db,
        "e7",
        "localhost",
        "sluice_tls",
        &[("database.sslmode", "verify-full")],
    ));
    assert!(
        err.contains("Invalid value") || err.contains("database.sslrootcert"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_takes_a_tls_url_and_the_config_carries_it() {
    let srv = TlsServer::from_env();
    let db = srv.database("tlscli");
    srv.psql(&db, "CREATE TABLE public.users (id int PRIMARY KEY, name text); INSERT INTO public.users VALUES (1, 'a')");
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let url = w.start_worker(&[]);
    let ca = srv.cert("ca.crt");
    let source = format!(
        "postgres://sluice_tls:tlspass@localhost:{}/{db}?sslmode=verify-full&sslrootcert={ca}",
        srv.port
    );
    let name = unique("cli");
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "connectors",
            "create",
            "--worker",
            &url,
            "--source",
            &source,
            "--table",
            "public.users",
            "--name",
            &name,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("tlspass"));
    let api = Api::new(url);
    let (_, config) = api.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(config["database.sslmode"], "verify-full", "{config}");
    assert_eq!(config["database.sslrootcert"], ca, "{config}");
    let topic = format!("{name}.public.users");
    wait_for(60, "the snapshot over TLS", &w, || {
        w.records(&topic).len() == 1
    })
    .await;
    w.stop();
}
