//! The web console in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver) against a worker with real PostgreSQL. Every page visited is saved as a
//! screenshot under `<target>/tmp/console-screenshots/<test>/`, which the test prints.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value as Json};

/// A headless Chromium behind its own chromedriver on a free port; both end with it.
struct Browser {
    client: Option<Client>,
    driver: Child,
    shots: PathBuf,
    taken: usize,
    _profile: tempfile::TempDir,
}

/// Where the screenshots of one test go (emptied first).
fn screenshot_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("console-screenshots")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    println!("console screenshots: {}", dir.display());
    dir
}

impl Browser {
    async fn start(shots: PathBuf) -> Browser {
        let chromedriver = std::env::var("SLUICE_TEST_CHROMEDRIVER")
            .unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium =
            std::env::var("SLUICE_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        for bin in [&chromedriver, &chromium] {
            assert!(
                Path::new(bin).exists(),
                "{bin} not found: scripts/test installs Debian's chromium and chromium-driver"
            );
        }
        let port = free_port();
        let log = std::fs::File::create(shots.join("chromedriver.log")).unwrap();
        // Its own process group: chromedriver and the Chromium it starts end together.
        let driver = {
            use std::os::unix::process::CommandExt;
            Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(log)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("start {chromedriver}: {e}"))
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        // The flags this machine needs (no sandbox as root, no network beyond localhost).
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1400,1000",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium, "args": args}),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session in headless Chromium");
        Browser {
            client: Some(client),
            driver,
            shots,
            taken: 0,
            _profile: profile,
        }
    }

    fn c(&self) -> &Client {
        self.client.as_ref().expect("browser open")
    }

    async fn goto(&self, url: &str) {
        self.c().goto(url).await.unwrap();
    }

    /// Saves what the browser shows as `NN-name.png`.
    async fn shot(&mut self, name: &str) {
        self.taken += 1;
        let png = self.c().screenshot().await.unwrap();
        std::fs::write(
            self.shots.join(format!("{:02}-{name}.png", self.taken)),
            png,
        )
        .unwrap();
    }

    /// Runs `script` (a function body) until it returns something truthy; returns that.
    async fn wait_js(&mut self, secs: u64, what: &str, script: &str, sluice: &Sluice) -> Json {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self.c().execute(script, vec![]).await.unwrap();
            let truthy =
                !matches!(v, Json::Null | Json::Bool(false)) && v != json!("") && v != json!(0);
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                self.shot(&format!("timeout-{}", what.replace(' ', "-")))
                    .await;
                panic!(
                    "timed out waiting for {what} (screenshots in {})\n--- sluice log ---\n{}",
                    self.shots.display(),
                    sluice.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn css(&self, css: &str) -> fantoccini::elements::Element {
        self.c()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
    }

    async fn click(&self, css: &str) {
        self.css(css).await.click().await.unwrap();
    }

    /// Types into a form field, opening the section it is folded in.
    async fn fill(&self, name: &str, value: &str) {
        let css = format!("#groups [name=\"{name}\"]");
        self.c()
            .execute(
                "const el = document.querySelector(arguments[0]); const d = el.closest('details'); if (d) d.open = true; el.scrollIntoView({block: 'center'});",
                vec![json!(css)],
            )
            .await
            .unwrap();
        let el = self.css(&css).await;
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
    }

    async fn close(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: chromedriver and its Chromium, by the group id of the one we started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn console_creates_watches_pauses_and_deletes_a_postgres_connector() {
    let db = TestDb::pagila("console").await;
    // Updates then carry the old row, and the tail shows the fields that changed.
    db.exec("ALTER TABLE public.customer REPLICA IDENTITY FULL")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let base = s.start_worker(&[]);
    let api = Api::new(base.clone());
    let name = unique("ui").replace('_', "-");
    let topic = format!("{name}.public.customer");
    let mut b = Browser::start(screenshot_dir("postgres")).await;

    b.goto(&format!("{base}/ui/")).await;
    b.wait_js(
        30,
        "the connectors list",
        "return document.querySelector('#empty') && !document.querySelector('#empty').hidden",
        &s,
    )
    .await;
    b.shot("connectors-empty").await;

    // A connector that cannot log in fails; its trace unfolds in the list, wrapped.
    let broken = format!("{name}-broken");
    let (code, body) = api
        .post(
            "/connectors",
            Some(db.connector(
                &broken,
                &[
                    ("database.password", "wrong"),
                    ("slot.name", "slot_broken"),
                    ("publication.name", "pub_broken"),
                ],
            )),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    b.wait_js(
        60,
        "the FAILED filter",
        "return document.querySelector('.chip[data-state=FAILED]') !== null",
        &s,
    )
    .await;
    b.click(".chip[data-state=FAILED]").await;
    b.click(&format!("details.trace[data-name=\"{broken}\"] summary"))
        .await;
    let wraps = b
        .wait_js(10, "the trace", &format!("const p = document.querySelector('details.trace[data-name=\"{broken}\"] pre'); return p && p.offsetHeight > 0 && p.scrollWidth <= p.clientWidth && p.textContent"), &s)
        .await;
    assert!(
        wraps
            .as_str()
            .unwrap()
            .contains("password authentication failed"),
        "{wraps}"
    );
    b.shot("connectors-failed-trace").await;
    b.click(".chip[data-state=ALL]").await;
    let (code, _) = api.delete(&format!("/connectors/{broken}")).await;
    assert_eq!(code, StatusCode::NO_CONTENT);

    // The form of the Postgres class, from its declared keys.
    b.click("header nav a[data-nav=new]").await;
    b.wait_js(
        30,
        "the form",
        "return !!document.querySelector('#groups [name=\"database.hostname\"]')",
        &s,
    )
    .await;
    let class = b
        .c()
        .execute("return document.querySelector('#class').value", vec![])
        .await
        .unwrap();
    assert_eq!(
        class,
        json!("io.debezium.connector.postgresql.PostgresConnector")
    );
    b.css("#name").await.send_keys(&name).await.unwrap();
    let pg = &db.pg;
    let port = pg.port.to_string();
    for (key, value) in [
        ("database.hostname", pg.host.as_str()),
        ("database.port", "54x32"),
        ("database.user", pg.user.as_str()),
        ("database.password", pg.password.as_str()),
        ("database.dbname", db.name.as_str()),
        ("topic.prefix", name.as_str()),
        ("table.include.list", "public.customer"),
        ("slot.name", &format!("slot_{}", db.name)),
        ("publication.name", &format!("pub_{}", db.name)),
    ] {
        b.fill(key, value).await;
    }
    // The bad value is refused next to its field, live, through the validate endpoint.
    let error = b
        .wait_js(30, "the database.port error", "const li = document.querySelector('.field[data-key=\"database.port\"] ul.errors li'); return li && li.textContent", &s)
        .await;
    assert!(error.as_str().unwrap().contains("54x32"), "{error}");
    b.c()
        .execute("document.querySelector('.field[data-key=\"database.port\"]').scrollIntoView({block: 'center'})", vec![])
        .await
        .unwrap();
    b.shot("create-form-field-error").await;
    b.fill("database.port", &port).await;
    b.wait_js(30, "a valid config", "return document.querySelector('#validity').dataset.errors === '0' && !document.querySelector('.field.has-error')", &s)
        .await;
    b.shot("create-form-valid").await;
    b.click("#submit").await;

    // Its page: RUNNING.
    b.wait_js(
        60,
        "the task RUNNING",
        "return document.querySelector('#task-state .badge.s-RUNNING') !== null",
        &s,
    )
    .await;
    s.wait_streaming().await;
    b.shot("connector-running").await;
    b.goto(&format!("{base}/ui/#/")).await;
    b.wait_js(30, "the connector in the list", &format!("const r = document.querySelector('tr[data-name=\"{name}\"]'); return r && r.dataset.state === 'RUNNING'"), &s)
        .await;
    b.shot("connectors-list").await;

    // A live UPDATE in the topic's tail, the changed field highlighted.
    b.goto(&format!("{base}/ui/#/topics/{topic}")).await;
    b.wait_js(
        30,
        "the tail to connect",
        "return document.querySelector('#conn').textContent === 'live'",
        &s,
    )
    .await;
    db.exec("UPDATE public.customer SET first_name = 'MARIELLE' WHERE customer_id = 1")
        .await;
    let after = b
        .wait_js(60, "the update in the tail", "const td = document.querySelector('article.event[data-op=\"u\"] tr.changed[data-field=\"first_name\"] td.after'); return td && td.textContent", &s)
        .await;
    assert_eq!(after, json!("MARIELLE"));
    let before = b.c().execute("return document.querySelector('article.event[data-op=\"u\"] tr[data-field=\"first_name\"] td.before').textContent", vec![]).await.unwrap();
    assert_eq!(before, json!("MARY"));
    let unchanged = b.c().execute("return document.querySelector('article.event[data-op=\"u\"] tr[data-field=\"email\"]').className", vec![]).await.unwrap();
    assert_eq!(unchanged, json!(""), "email did not change");
    b.click("article.event[data-op=\"u\"] details.raw-json summary")
        .await;
    // The JSON is shown once the details element has opened.
    let raw = b
        .wait_js(10, "the raw JSON", "const p = document.querySelector('article.event[data-op=\"u\"] details.raw-json[open] pre'); return p && p.innerText", &s)
        .await;
    let raw = raw.as_str().unwrap_or_default();
    assert!(
        raw.contains("\"MARIELLE\"") && raw.contains("\"op\": \"u\""),
        "{raw}"
    );
    b.shot("topic-tail-update").await;

    // Search by key, from the beginning: the snapshot's read of the row and the update.
    b.c()
        .execute(
            "document.querySelector('#from').value = 'beginning'",
            vec![],
        )
        .await
        .unwrap();
    b.css("#key")
        .await
        .send_keys("customer_id=1")
        .await
        .unwrap();
    b.click("#tail-form button[type=submit]").await;
    let keys = b
        .wait_js(30, "the events of customer 1", "const a = [...document.querySelectorAll('article.event')]; return a.length >= 2 && a.map(e => e.dataset.op + ' ' + e.dataset.key)", &s)
        .await;
    let keys: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        vec!["u customer_id=1", "r customer_id=1"],
        "newest first"
    );
    b.shot("topic-tail-search-by-key").await;

    b.goto(&format!("{base}/ui/#/topics")).await;
    let records = b
        .wait_js(30, "the topic list", &format!("const r = document.querySelector('tr[data-topic=\"{topic}\"] td.num'); return r && r.textContent"), &s)
        .await;
    assert_eq!(records, json!("600"), "599 snapshot rows and the update");
    b.shot("topics").await;

    // Its config edited in the form of its class, the password kept behind its mask.
    b.goto(&format!("{base}/ui/#/connectors/{name}")).await;
    b.wait_js(
        30,
        "the connector page",
        "return document.querySelector('#connector-state .badge') !== null",
        &s,
    )
    .await;
    b.click("#actions button[data-action=edit]").await;
    let shown = b
        .wait_js(30, "the form filled in", "const h = document.querySelector('#groups [name=\"database.hostname\"]'); return h && h.value && [h.value, document.querySelector('#groups [name=\"database.password\"]').value]", &s)
        .await;
    assert_eq!(shown, json!([pg.host, "********"]));
    b.fill("max.batch.size", "1024").await;
    b.wait_js(
        30,
        "a valid config",
        "return document.querySelector('#validity').dataset.errors === '0'",
        &s,
    )
    .await;
    b.shot("edit-config").await;
    b.click("#submit").await;
    b.wait_js(60, "the new config, running", "const v = document.querySelector('#config tr[data-key=\"max.batch.size\"] td:last-child'); return v && v.textContent === '1024' && document.querySelector('#task-state .badge.s-RUNNING') !== null", &s)
        .await;
    let (_, config) = api.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(config["max.batch.size"], "1024");
    assert_eq!(config["database.password"], "********");

    // Paused: the state changes, and the slot keeps WAL while writes go on.
    b.click("#actions button[data-action=pause]").await;
    b.wait_js(30, "the state PAUSED", "return document.querySelector('#connector-state .badge.s-PAUSED') !== null && document.querySelector('#task-state .badge.s-PAUSED') !== null", &s)
        .await;
    assert_eq!(api.task_state(&name).await, "PAUSED");
    let start = b
        .wait_js(30, "a retained-WAL sample", "const c = document.querySelector('#chart-wal'); return c && c.dataset.last !== '' && Number(c.dataset.last)", &s)
        .await
        .as_f64()
        .unwrap();
    let writer = {
        let (pg, dbname) = (Pg::from_env(), db.name.clone());
        tokio::spawn(async move {
            let c = pg.connect(&dbname).await;
            for i in 0..40 {
                c.batch_execute(&format!(
                    "UPDATE public.customer SET activebool = {} ",
                    i % 2 == 0
                ))
                .await
                .unwrap();
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let risen = b
        .wait_js(60, "the retained-WAL chart to rise", &format!("const c = document.querySelector('#chart-wal'); return Number(c.dataset.last) > {start} + 65536 && Number(c.dataset.points) >= 3 && Number(c.dataset.last)"), &s)
        .await;
    b.shot("connector-paused-wal-rising").await;
    assert!(risen.as_f64().unwrap() > start, "{risen} > {start}");
    writer.abort();

    // Resumed, then stopped, and its offsets reset: both ask first.
    b.click("#actions button[data-action=resume]").await;
    b.wait_js(
        30,
        "the task RUNNING again",
        "return document.querySelector('#task-state .badge.s-RUNNING') !== null",
        &s,
    )
    .await;
    b.click("#actions button[data-action=stop]").await;
    b.wait_js(
        10,
        "the confirmation",
        "return document.querySelector('#confirm').open",
        &s,
    )
    .await;
    b.click("#confirm-ok").await;
    b.wait_js(60, "the state STOPPED", "return document.querySelector('#connector-state .badge.s-STOPPED') !== null && !document.querySelector('#actions [data-action=reset]').disabled", &s)
        .await;
    b.click("#actions button[data-action=reset]").await;
    b.wait_js(
        10,
        "the confirmation",
        "return document.querySelector('#confirm').open",
        &s,
    )
    .await;
    b.click("#confirm-ok").await;
    b.wait_js(
        30,
        "the offsets gone",
        "return document.querySelector('#offsets').textContent.includes('None stored')",
        &s,
    )
    .await;
    b.shot("connector-stopped-offsets-reset").await;
    let (_, offsets) = api.get(&format!("/connectors/{name}/offsets")).await;
    assert_eq!(offsets, json!({"offsets": []}));

    // Deleted, after a confirmation, with what was dropped in the database.
    b.click("#actions button[data-action=delete]").await;
    b.wait_js(
        10,
        "the confirmation",
        "return document.querySelector('#confirm').open",
        &s,
    )
    .await;
    b.shot("confirm-delete").await;
    b.click("#confirm-ok").await;
    let cleanup = b
        .wait_js(60, "the cleanup report", "const t = [...document.querySelectorAll('.toast')].find(t => t.textContent.includes('Sluice-Cleanup')); return t && t.textContent", &s)
        .await;
    let cleanup = cleanup.as_str().unwrap();
    assert!(cleanup.contains("dropped replication slot"), "{cleanup}");
    b.wait_js(
        30,
        "the empty list",
        "return document.querySelector('#empty') && !document.querySelector('#empty').hidden",
        &s,
    )
    .await;
    b.shot("connector-deleted").await;
    let (_, list) = api.get("/connectors").await;
    assert_eq!(list, json!([]));
    assert_eq!(
        db.scalar_i64(
            "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"
        )
        .await,
        0
    );

    b.close().await;
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn console_and_api_answer_401_without_the_configured_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let worker = |props: &str| {
        let path = dir
            .path()
            .join(format!("worker-{}.properties", props.len()));
        std::fs::write(&path, props).unwrap();
        path
    };
    let both = worker("rest.auth.basic.username=admin\nrest.auth.basic.password=pw\nrest.auth.bearer.token=t0ken\n");
    let mut s = Sluice::new(dir.path());
    let base = s.start_worker(&["--worker-config", both.to_str().unwrap()]);
    let http = http_client();
    for path in ["/ui/", "/connectors", "/metrics", "/ui/api/topics"] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNAUTHORIZED,
            "{path} without credentials"
        );
        let challenges: Vec<_> = r.headers().get_all("www-authenticate").iter().collect();
        assert_eq!(challenges.len(), 2, "{path}: {challenges:?}");
        let r = http
            .get(format!("{base}{path}"))
            .basic_auth("admin", Some("wrong"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNAUTHORIZED,
            "{path} with a wrong password"
        );
        let r = http
            .get(format!("{base}{path}"))
            .basic_auth("admin", Some("pw"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path} with basic credentials");
        let r = http
            .get(format!("{base}{path}"))
            .bearer_auth("t0ken")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path} with the token");
    }
    // curl-style clients change state with their credentials; a page of another site cannot.
    let r = http
        .put(format!("{base}/connectors/nope/pause"))
        .basic_auth("admin", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = http
        .put(format!("{base}/connectors/nope/pause"))
        .basic_auth("admin", Some("pw"))
        .header("Origin", "http://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The CLI: a token, or basic credentials in the worker's URL.
    let cli = |worker: &str, token: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
        cmd.args(["connectors", "list", "--json", "--worker", worker]);
        if let Some(t) = token {
            cmd.env("SLUICE_WORKER_TOKEN", t);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = cli(&base, None);
    assert!(!ok && err.contains("HTTP 401"), "{err}");
    assert!(cli(&base, Some("t0ken")).0);
    let with_password = base.replace("http://", "http://admin:pw@");
    let (ok, err) = cli(&with_password, None);
    assert!(ok, "{err}");
    s.stop();
    assert!(
        !s.log_text().contains("without authentication"),
        "no warning on loopback"
    );

    // Beyond loopback without credentials: it works, and says how exposed it is.
    let open_dir = tempfile::tempdir().unwrap();
    let mut open = Sluice::new(open_dir.path());
    let open_base = open.start_worker(&["--rest-bind", "0.0.0.0"]);
    let (code, _) = Api::new(open_base).get("/connectors").await;
    assert_eq!(code, StatusCode::OK);
    open.stop();
    assert!(
        open.log_text()
            .contains("listen on 0.0.0.0 without authentication"),
        "{}",
        open.log_text()
    );

    // The console asks for the token, then works.
    let token_only = worker("rest.auth.bearer.token=t0ken\n");
    let mut s = Sluice::new(dir.path());
    let base = s.start_worker(&["--worker-config", token_only.to_str().unwrap()]);
    let mut b = Browser::start(screenshot_dir("auth")).await;
    b.goto(&format!("{base}/ui/")).await;
    b.wait_js(
        30,
        "the sign-in form",
        "return !!document.querySelector('form#login')",
        &s,
    )
    .await;
    b.css("#token").await.send_keys("wrong").await.unwrap();
    b.click("form#login button").await;
    b.wait_js(
        30,
        "the refusal",
        "return document.querySelector('#error').textContent",
        &s,
    )
    .await;
    b.shot("login-refused").await;
    b.css("#token").await.clear().await.unwrap();
    b.css("#token").await.send_keys("t0ken").await.unwrap();
    b.click("form#login button").await;
    b.wait_js(
        30,
        "the console after signing in",
        "return document.querySelector('#empty') && !document.querySelector('#empty').hidden",
        &s,
    )
    .await;
    b.shot("signed-in").await;
    b.close().await;
    s.stop();
}

/// The console's reads of Kafka topics: record counts from the watermarks, and a tail.
#[tokio::test(flavor = "multi_thread")]
async fn console_counts_and_tails_kafka_topics() {
    let bootstrap = env("SLUICE_TEST_KAFKA");
    let db = TestDb::pagila("consolekafka").await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let base = s.start_worker(&["--bootstrap-servers", &bootstrap]);
    let api = Api::new(base.clone());
    let name = unique("uik");
    let topic = format!("{name}.public.language");
    let (code, body) = api
        .post(
            "/connectors",
            Some(db.connector(&name, &[("table.include.list", "public.language")])),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, body) = api.get("/ui/api/topics").await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let count = body["topics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == topic.as_str())
            .map(|t| t["records"].clone());
        if count == Some(json!(6)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{topic} never counted 6 records: {body}\n{}",
            s.log_text()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The tail from the beginning: six records, as local-topic lines.
    let mut resp = http_client()
        .get(format!("{base}/ui/api/topics/{topic}/tail?from=beginning"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut text = String::new();
    // Complete records only: an event's `data:` line can arrive in the next chunk.
    let ids = |text: &str| -> Vec<i64> {
        text.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Json>(d).ok())
            .filter(|r| r.get("topic").is_some())
            .map(|r| key_payload(&r)["language_id"].as_i64().unwrap())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while ids(&text).len() < 6 {
        assert!(Instant::now() < deadline, "tail: {text}");
        match tokio::time::timeout(Duration::from_secs(5), resp.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(other) => panic!("tail ended: {other:?}\n{text}"),
            Err(_) => {}
        }
    }
    assert_eq!(ids(&text), vec![1, 2, 3, 4, 5, 6]);
    drop(resp);
    let missing = tokio::time::timeout(
        Duration::from_secs(30),
        api.get("/ui/api/topics/no.such.topic/tail"),
    )
    .await
    .expect("a tail of a missing topic is refused at once");
    assert_eq!(missing.0, StatusCode::NOT_FOUND, "{}", missing.1);
    let (code, _) = api.delete(&format!("/connectors/{name}")).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    s.stop();
    db.drop().await;
}
