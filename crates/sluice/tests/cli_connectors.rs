//! `sluice connectors ...` (Heroku's data:connectors flow) against a running `sluice worker`
//! and real PostgreSQL, run as a subprocess like a user would.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value as Json;

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn sluice(worker: &str, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("connectors")
        .args(args)
        .env("SLUICE_WORKER", worker)
        .output()
        .unwrap();
    Out {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Succeeds, or fails the test with what it printed.
fn ok(worker: &str, args: &[&str]) -> String {
    let out = sluice(worker, args);
    assert!(
        out.ok,
        "sluice connectors {args:?} failed\n{}{}",
        out.stdout, out.stderr
    );
    out.stdout
}

/// Fails with exactly one line on stderr, which is returned.
fn fails(worker: &str, args: &[&str]) -> String {
    let out = sluice(worker, args);
    assert!(
        !out.ok,
        "sluice connectors {args:?} succeeded\n{}",
        out.stdout
    );
    assert_eq!(out.stderr.lines().count(), 1, "one line: {:?}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    out.stderr.trim_end().to_owned()
}

fn json(worker: &str, args: &[&str]) -> Json {
    let mut args = args.to_vec();
    args.push("--json");
    let text = ok(worker, &args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
}

/// The row of `list` for `name`, split on whitespace.
fn list_row(worker: &str, name: &str) -> Vec<String> {
    let out = ok(worker, &["list"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "STATE", "TASK", "TYPE", "READS"]
    );
    lines
        .iter()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} not listed:\n{out}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// The table captured end to end, its key, the column excluded and its row count.
const TABLE: &str = "public.customer";
const KEY: &str = "customer_id";
const EXCLUDED: &str = "email";
const ROWS: usize = 599;

fn source_url(db: &TestDb) -> String {
    // Percent-escapes in the user and password are decoded ('g' is %67, 's' is %73).
    let user = db.pg.user.replacen('g', "%67", 1);
    let password = db.pg.password.replacen('s', "%73", 1);
    format!(
        "postgres://{user}:{password}@{}:{}/{}",
        db.pg.host, db.pg.port, db.name
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn heroku_flow_end_to_end() {
    let db = TestDb::pagila("clic").await;
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let url = w.start_worker(&[]);
    let url = url.as_str();
    let source = source_url(&db);
    let store = w.data_dir().display().to_string();
    let excluded = format!("{TABLE}.{EXCLUDED}");

    // create, as on Heroku: a generated name, topics and the wait hint.
    let created = ok(
        url,
        &[
            "create",
            "--source",
            &source,
            "--store",
            &store,
            "--table",
            TABLE,
            "--exclude",
            &excluded,
        ],
    );
    assert!(!created.contains(&source), "{created}");
    let name = created
        .lines()
        .find_map(|l| l.trim().strip_prefix("sluice connectors wait "))
        .unwrap_or_else(|| panic!("no wait hint:\n{created}"))
        .to_owned();
    let parts: Vec<&str> = name.split('_').collect();
    assert_eq!(parts.len(), 3, "{name}");
    assert!(parts[2].len() == 5 && parts[2].bytes().all(|b| b.is_ascii_digit()));
    let topic = format!("{name}.{TABLE}");
    assert!(created.contains(&format!("  {topic}\n")), "{created}");
    assert!(
        created.contains(&format!("  heartbeat.{name}\n")),
        "{created}"
    );

    // The config the CLI built, as the worker stores it (password masked).
    let info = json(url, &["info", &name]);
    let config = &info["info"]["config"];
    assert_eq!(config["database.user"], db.pg.user.as_str());
    assert_eq!(config["database.password"], "********");
    assert_eq!(config["database.dbname"], db.name.as_str());
    assert_eq!(config["topic.prefix"], name.as_str());
    assert_eq!(config["table.include.list"], TABLE);
    assert_eq!(config["column.exclude.list"], excluded.as_str());
    assert_eq!(config["slot.name"], name.as_str());
    assert_eq!(config["publication.name"], name.as_str());
    assert_eq!(config["topic.heartbeat.prefix"], "heartbeat");

    assert_eq!(
        ok(url, &["wait", &name, "--timeout", "120"]),
        format!("{name} is running\n")
    );
    assert_eq!(
        list_row(url, &name),
        [name.as_str(), "RUNNING", "RUNNING", "source", TABLE]
    );
    wait_for(60, "the snapshot", &w, || w.records(&topic).len() == ROWS).await;
    for r in w.records(&topic) {
        let after = &payload(&r)["after"];
        assert!(after[KEY].is_i64(), "{r}");
        assert!(
            after.get(EXCLUDED).is_none(),
            "{EXCLUDED} was excluded: {r}"
        );
    }

    // update keeps the stored password: the restarted task still connects and streams.
    let updated = ok(url, &["update", &name, "--setting", "max.batch.size=100"]);
    assert!(updated.contains("max.batch.size = 100"), "{updated}");
    let config = json(url, &["info", &name]);
    assert_eq!(config["info"]["config"]["max.batch.size"], "100");
    assert_eq!(config["info"]["config"]["database.password"], "********");
    ok(url, &["wait", &name, "--timeout", "120"]);
    db.exec(&format!(
        "UPDATE {TABLE} SET last_update = now() WHERE {KEY} = 1"
    ))
    .await;
    wait_for(60, "the change after `update`", &w, || {
        w.records(&topic)
            .iter()
            .any(|r| payload(r)["op"] == "u" && payload(r)["after"][KEY] == 1)
    })
    .await;

    // pause / resume.
    assert!(ok(url, &["pause", &name]).starts_with(&format!("Paused {name}")));
    assert_eq!(list_row(url, &name)[1..3], ["PAUSED", "PAUSED"]);
    let status = json(url, &["resume", &name]);
    assert_eq!(status["connector"]["state"], "RUNNING");
    assert_eq!(list_row(url, &name)[1..3], ["RUNNING", "RUNNING"]);

    // info shows the topics written.
    let info = ok(url, &["info", &name]);
    assert!(info.starts_with(&format!("=== {name}\n")), "{info}");
    assert!(info.contains(&format!("\n  {topic}\n")), "{info}");
    assert!(
        info.contains("********") && !info.contains(&source),
        "{info}"
    );
    let listed = json(url, &["list"]);
    assert_eq!(listed[&name]["status"]["tasks"][0]["state"], "RUNNING");

    // destroy.
    let destroyed = ok(url, &["destroy", &name]);
    assert!(
        destroyed.starts_with(&format!("Destroyed {name}\n")),
        "{destroyed}"
    );
    assert!(
        destroyed.contains(&format!("In the database: dropped replication slot {name}")),
        "{destroyed}"
    );
    assert_eq!(ok(url, &["list"]), format!("No connectors on {url}\n"));
    assert_eq!(json(url, &["list"]), serde_json::json!({}));
    w.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let url = w.start_worker(&[]);
    let url = url.as_str();

    assert_eq!(
        fails(url, &["info", "nosuch"]),
        "error: Connector nosuch not found (HTTP 404)"
    );
    for cmd in ["pause", "resume", "destroy", "wait"] {
        assert_eq!(
            fails(url, &[cmd, "nosuch"]),
            "error: Connector nosuch not found (HTTP 404)"
        );
    }

    // Nothing listens on a just-freed port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gone = format!("http://127.0.0.1:{port}");
    let err = fails(&gone, &["list"]);
    assert!(
        err.starts_with(&format!(
            "error: cannot reach the Sluice worker at {gone}: "
        )) && err.ends_with("(start one with 'sluice worker')"),
        "{err}"
    );
    // --worker wins over SLUICE_WORKER.
    assert!(fails(url, &["--worker", &gone, "list"]).contains(&gone));

    // Bad --source URLs, the password never shown.
    for bad in [
        "postgres://u:s3cret@host:notaport/db",
        "mysql://u:s3cret@host/db",
        "u:s3cret@host/db",
        "postgres://u:s3cret@/db",
        "postgres://u:s3cret@host/db?channel_binding=require",
        "postgres://u:s3cret@host/db?sslmode=sometimes",
        "postgres://u:s3c%zzret@host/db",
    ] {
        let err = fails(url, &["create", "--source", bad, "--table", "public.t"]);
        assert!(err.contains("--source"), "{bad}: {err}");
        assert!(!err.contains("s3c"), "{bad}: the password is shown: {err}");
    }
    let err = fails(
        url,
        &[
            "create",
            "--source",
            "postgres://u:pw@h/db",
            "--table",
            "public.users",
            "--exclude",
            "public.user.password",
        ],
    );
    assert!(err.contains("table public.user is not among"), "{err}");

    // --store must be where the worker writes.
    let source = "postgres://u:s3cret@127.0.0.1:1/db";
    let create = |extra: &[&str]| {
        let mut args = vec!["create", "--source", source, "--table", "public.t"];
        args.extend(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let elsewhere = tempfile::tempdir().unwrap();
    let store = format!(
        "file://{}",
        std::fs::canonicalize(w.data_dir()).unwrap().display()
    );
    for wrong in [elsewhere.path().to_str().unwrap(), "kafka://127.0.0.1:9092"] {
        let args = create(&["--store", wrong, "--name", "x"]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = fails(url, &args);
        assert!(
            err.contains(&format!(
                "--store {wrong} does not match the worker at {url}, which writes to {store}"
            )),
            "{err}"
        );
    }
    assert_eq!(json(url, &["list"]), serde_json::json!({}));

    // A connector whose database is unreachable: created, then `wait` reports the failure.
    let args = create(&["--name", "broken", "--store", &store]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let created = ok(url, &args);
    assert!(created.contains("broken.public.t") && !created.contains("s3cret"));
    // Connection refused is transient: the task is retried with backoff and stays RUNNING,
    // and `wait` gives up once it keeps failing.
    let err = fails(url, &["wait", "broken", "--timeout", "60"]);
    assert!(err.starts_with("error: broken keeps failing ("), "{err}");
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    let info = ok(url, &["info", "broken"]);
    assert!(info.contains("Retrying after a transient error"), "{info}");
    assert_eq!(list_row(url, "broken")[1..3], ["RUNNING", "RUNNING"]);
    assert_eq!(
        fails(url, &args),
        "error: Connector broken already exists (HTTP 409)"
    );
    let err = fails(url, &["update", "broken", "--setting", "nokey"]);
    assert!(err.contains("expected KEY=VALUE"), "{err}");

    // The worker's validation errors (several lines) come out as one line.
    let args = create(&["--name", "bad name!"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = fails(url, &args);
    assert!(
        err.contains("topic.prefix: may contain only letters") && err.ends_with("(HTTP 400)"),
        "{err}"
    );
    let err = fails(
        url,
        &["update", "broken", "--setting", "snapshot.mode=sometimes"],
    );
    assert!(
        err.contains("snapshot.mode") && err.ends_with("(HTTP 400)"),
        "{err}"
    );

    ok(url, &["destroy", "broken"]);
    w.stop();
}
