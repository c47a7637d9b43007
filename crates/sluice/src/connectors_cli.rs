//! `sluice connectors ...`: Heroku's `data:connectors` flow (create, list, info, update,
//! pause, resume, destroy, wait) as a client of a running worker's Kafka Connect REST API.
//! `create` turns a `postgres://` URL and a list of tables into a Debezium Postgres connector
//! config; everything else is a thin layer over the REST calls. Tables for people by default,
//! the worker's JSON with `--json`. Passwords are never printed: the worker masks them, and
//! the `--source` URL is masked in our own messages.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use reqwest::{Method, StatusCode, Url};
use serde_json::{json, Map, Value};
use sluice_config::raw::{is_secret_key, MASK};
use sluice_config::POSTGRES_CONNECTOR_CLASS;

/// Heroku's heartbeat topics are `heartbeat.<connector>`.
const HEARTBEAT_PREFIX: &str = "heartbeat";
const HEARTBEAT_MS: &str = "10000";
/// PostgreSQL's limit for slot and publication names (NAMEDATALEN - 1).
const MAX_PG_NAME: usize = 63;
const POLL: Duration = Duration::from_millis(500);
/// With heartbeats off, a task RUNNING this long counts as running though it wrote nothing.
const QUIET_RUNNING: Duration = Duration::from_secs(30);

#[derive(Args)]
pub struct ConnectorsArgs {
    /// The Sluice worker's REST API.
    #[arg(
        long,
        env = "SLUICE_WORKER",
        default_value = "http://127.0.0.1:8083",
        global = true
    )]
    worker: String,
    /// The worker's `rest.auth.bearer.token`, when it requires one (basic credentials go in
    /// the URL: http://user:password@host:8083).
    #[arg(
        long,
        env = "SLUICE_WORKER_TOKEN",
        global = true,
        hide_env_values = true
    )]
    token: Option<String>,
    /// Print the worker's JSON responses instead of tables (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: ConnectorsCommand,
}

#[derive(Subcommand)]
enum ConnectorsCommand {
    /// Capture changes of Postgres tables into topics `<name>.<schema>.<table>`.
    Create(CreateArgs),
    /// Connectors with their state and tables.
    List,
    /// A connector's status, topics and config (secrets masked).
    Info { name: String },
    /// Change connector settings; the task restarts from its committed position.
    Update {
        name: String,
        /// KEY=VALUE, repeatable.
        #[arg(long = "setting", value_name = "KEY=VALUE", required = true)]
        settings: Vec<String>,
    },
    /// Stop sending changes until `resume`.
    Pause { name: String },
    /// Continue after `pause`.
    Resume { name: String },
    /// Delete a connector (its replication slot and publication stay in Postgres).
    Destroy { name: String },
    /// Wait until a connector runs; exits 1 if it fails or the timeout passes.
    Wait {
        name: String,
        /// Seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
}

#[derive(Args)]
struct CreateArgs {
    /// The database: postgres://user:password@host:5432/dbname
    #[arg(long)]
    source: String,
    /// A table to capture, as schema.table; repeatable.
    #[arg(long = "table", value_name = "SCHEMA.TABLE", required = true)]
    tables: Vec<String>,
    /// A column never to send, as schema.table.column; repeatable.
    #[arg(long = "exclude", value_name = "SCHEMA.TABLE.COLUMN")]
    excludes: Vec<String>,
    /// Connector name (default: a generated one like witty_connector_44833).
    #[arg(long)]
    name: Option<String>,
    /// Fail unless the worker writes here: kafka://host:9092 or its data directory.
    #[arg(long)]
    store: Option<String>,
}

pub async fn run(args: ConnectorsArgs) -> Result<()> {
    let worker = Worker::new(&args.worker, args.token)?;
    let json = args.json;
    let out = match args.command {
        ConnectorsCommand::Create(c) => create(&worker, c, json).await?,
        ConnectorsCommand::List => list(&worker, json).await?,
        ConnectorsCommand::Info { name } => info(&worker, &name, json).await?,
        ConnectorsCommand::Update { name, settings } => {
            update(&worker, &name, &settings, json).await?
        }
        ConnectorsCommand::Pause { name } => set_state(&worker, &name, "pause", json).await?,
        ConnectorsCommand::Resume { name } => set_state(&worker, &name, "resume", json).await?,
        ConnectorsCommand::Destroy { name } => destroy(&worker, &name, json).await?,
        ConnectorsCommand::Wait { name, timeout } => {
            wait(&worker, &name, Duration::from_secs(timeout), json).await?
        }
    };
    emit(&out)
}

// ---------------------------------------------------------------------------------------
// The worker's REST API

struct Worker {
    base: Url,
    http: reqwest::Client,
    token: Option<String>,
}

impl Worker {
    fn new(url: &str, token: Option<String>) -> Result<Self> {
        let base = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| anyhow!("--worker {} is not an http:// URL", mask_password(url)))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // Deleting or reconfiguring waits for the task to stop and commit.
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| anyhow!("cannot set up the HTTP client: {e}"))?;
        Ok(Worker { base, http, token })
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn shown(&self) -> String {
        mask_password(self.base.as_str().trim_end_matches('/'))
    }

    /// One request; the body of a 2xx answer (`Null` when empty), or a one-line error.
    async fn call(&self, method: Method, segments: &[&str], body: Option<&Value>) -> Result<Value> {
        self.call_url(method, self.url(segments), body).await
    }

    async fn call_url(&self, method: Method, url: Url, body: Option<&Value>) -> Result<Value> {
        Ok(self.send(method, url, body).await?.0)
    }

    /// The response body and headers of a successful call.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<(Value, reqwest::header::HeaderMap)> {
        let mut request = self.http.request(method, url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(b) = body {
            request = request.json(b);
        }
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(|e| self.unreachable(&e))?;
        let value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_success() {
            Ok((value, headers))
        } else {
            Err(anyhow!(
                "{} (HTTP {})",
                one_line(&error_message(&value, status)),
                status.as_u16()
            ))
        }
    }

    fn unreachable(&self, e: &reqwest::Error) -> anyhow::Error {
        anyhow!(
            "cannot reach the Sluice worker at {}: {} (start one with 'sluice worker')",
            self.shown(),
            one_line(&root_cause(e))
        )
    }

    async fn get(&self, segments: &[&str]) -> Result<Value> {
        self.call(Method::GET, segments, None).await
    }

    async fn status(&self, name: &str) -> Result<Value> {
        self.get(&["connectors", name, "status"]).await
    }

    async fn topics(&self, name: &str) -> Result<Value> {
        self.get(&["connectors", name, "topics"]).await
    }
}

/// Connect's `{"error_code": N, "message": "..."}`, else whatever the body says.
fn error_message(body: &Value, status: StatusCode) -> String {
    match body {
        Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_owned),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
    .unwrap_or_else(|| status.canonical_reason().unwrap_or("no message").to_owned())
}

/// The innermost cause ("Connection refused (os error 111)") says more than reqwest's
/// "error sending request for url".
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Multi-line worker messages (validation errors) as one line.
fn one_line(message: &str) -> String {
    let mut out = String::new();
    for line in message.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(line);
    }
    out
}

// ---------------------------------------------------------------------------------------
// create

async fn create(worker: &Worker, args: CreateArgs, json: bool) -> Result<String> {
    let source = PgSource::parse(&args.source)?;
    check_tables(&args.tables, &args.excludes)?;
    let root = worker.get(&[]).await?;
    let store = root["store"].as_str().unwrap_or("").to_owned();
    if let Some(wanted) = &args.store {
        check_store(wanted, &store, &worker.shown())?;
    }
    let name = args.name.clone().unwrap_or_else(generated_name);
    let body = json!({"name": name, "config": connector_config(&name, &args, &source)});
    let created = worker
        .call(Method::POST, &["connectors"], Some(&body))
        .await?;
    if json {
        return Ok(pretty(&created));
    }
    Ok(render_created(&name, &args.tables, &store))
}

fn connector_config(name: &str, args: &CreateArgs, source: &PgSource) -> Value {
    let pg_name = pg_object_name(name);
    let mut config = json!({
        "connector.class": POSTGRES_CONNECTOR_CLASS,
        "database.hostname": source.host,
        "database.port": source.port.to_string(),
        "database.user": source.user,
        "database.password": source.password,
        "database.dbname": source.dbname,
        "topic.prefix": name,
        "table.include.list": args.tables.join(","),
        "slot.name": pg_name,
        "publication.name": pg_name,
        // Explicit, so excluded columns stay inside Postgres (publication column lists)
        // whatever the worker's default.
        "publication.autocreate.mode": "filtered",
        "heartbeat.interval.ms": HEARTBEAT_MS,
        "topic.heartbeat.prefix": HEARTBEAT_PREFIX,
    });
    if !args.excludes.is_empty() {
        config["column.exclude.list"] = json!(args.excludes.join(","));
    }
    for (k, v) in &source.tls {
        config[k] = json!(v);
    }
    config
}

/// Tables are `schema.table`, excluded columns `schema.table.column` of one of those tables:
/// a typo in an exclude would otherwise send the very column it meant to hide.
fn check_tables(tables: &[String], excludes: &[String]) -> Result<()> {
    for t in tables {
        if t.split('.').count() != 2 || t.split('.').any(str::is_empty) {
            bail!("--table {t}: expected <schema>.<table>, e.g. public.users");
        }
    }
    for x in excludes {
        let table = x.rsplit_once('.').map(|(table, _)| table).unwrap_or("");
        if x.split('.').count() != 3 || x.split('.').any(str::is_empty) {
            bail!("--exclude {x}: expected <schema>.<table>.<column>, e.g. public.users.password");
        }
        if !tables.iter().any(|t| t == table) {
            bail!(
                "--exclude {x}: table {table} is not among the --table options ({})",
                tables.join(", ")
            );
        }
    }
    Ok(())
}

/// Where the worker writes must be where the user expects records (Heroku's `--store`).
fn check_store(wanted: &str, actual: &str, worker: &str) -> Result<()> {
    if actual.is_empty() {
        bail!("the worker at {worker} does not say where it writes (no \"store\" in GET /); leave out --store");
    }
    if store_key(&wanted_store(wanted)?) != store_key(actual) {
        bail!(
            "--store {wanted} does not match the worker at {worker}, which writes to {actual}; point --worker at the worker for that store"
        );
    }
    Ok(())
}

/// `--store` as the worker spells its store: `kafka://...` or `file://<canonical path>`.
fn wanted_store(arg: &str) -> Result<String> {
    if arg.starts_with("kafka://") {
        return Ok(arg.to_owned());
    }
    if arg.contains("://") && !arg.starts_with("file://") {
        bail!("--store {arg}: expected kafka://host:port or a directory");
    }
    let path = std::path::Path::new(arg.strip_prefix("file://").unwrap_or(arg));
    let absolute = std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .map_err(|e| anyhow!("--store {arg}: {e}"))?;
    Ok(format!("file://{}", absolute.display()))
}

/// Bootstrap server order does not matter.
fn store_key(store: &str) -> String {
    match store.strip_prefix("kafka://") {
        Some(hosts) => {
            let mut hosts: Vec<&str> = hosts
                .trim_end_matches('/')
                .split(',')
                .map(str::trim)
                .collect();
            hosts.sort_unstable();
            format!("kafka://{}", hosts.join(","))
        }
        None => store.trim_end_matches('/').to_owned(),
    }
}

fn render_created(name: &str, tables: &[String], store: &str) -> String {
    let mut out = format!("Created connector {name}");
    if !store.is_empty() {
        out.push_str(&format!(" (records go to {store})"));
    }
    out.push_str("\nTopics:\n");
    for t in tables {
        out.push_str(&format!("  {name}.{t}\n"));
    }
    out.push_str(&format!("  {HEARTBEAT_PREFIX}.{name}\n"));
    out.push_str(&format!(
        "\nThe connector is starting. To wait until it runs:\n  sluice connectors wait {name}\n"
    ));
    out
}

/// Heroku-like: `witty_connector_44833`.
fn generated_name() -> String {
    const ADJECTIVES: &[&str] = &[
        "witty", "brave", "calm", "eager", "gentle", "happy", "jolly", "keen", "lively", "merry",
        "nimble", "proud", "quiet", "swift", "sunny", "tidy", "bold", "bright", "clever", "steady",
    ];
    const NOUNS: &[&str] = &[
        "connector",
        "stream",
        "river",
        "current",
        "channel",
        "brook",
        "canal",
        "flow",
    ];
    // RandomState is seeded randomly per process: enough for names.
    let r = RandomState::new().build_hasher().finish();
    let adjective = ADJECTIVES[(r % ADJECTIVES.len() as u64) as usize];
    let noun = NOUNS[((r >> 16) % NOUNS.len() as u64) as usize];
    format!("{adjective}_{noun}_{}", 10_000 + (r >> 32) % 90_000)
}

/// Slot and publication name for a connector: lower case, `[a-z0-9_]`, at most 63 chars.
/// When that changes the name, a hash of the original keeps two connectors apart
/// (`My-Conn` and `my_conn` must not share a slot).
fn pg_object_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean == name && clean.len() <= MAX_PG_NAME {
        return clean;
    }
    let suffix = format!("_{:08x}", fnv1a(name) as u32);
    let keep = (MAX_PG_NAME - suffix.len()).min(clean.len());
    format!("{}{suffix}", &clean[..keep])
}

/// A hash that stays the same across Rust releases (std's does not promise that).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The parts of a `postgres://` URL a connector config needs.
struct PgSource {
    host: String,
    port: u16,
    user: String,
    password: String,
    dbname: String,
    /// The URL's TLS parameters as connector keys (`database.sslmode`, ...).
    tls: Vec<(String, String)>,
}

impl PgSource {
    fn parse(url: &str) -> Result<Self> {
        Self::parse_inner(url).map_err(|reason| {
            anyhow!(
                "--source {} is not a usable PostgreSQL URL: {reason} (expected postgres://user:password@host:5432/dbname)",
                mask_password(url)
            )
        })
    }

    fn parse_inner(url: &str) -> Result<Self, String> {
        let u = Url::parse(url).map_err(|e| e.to_string())?;
        if !matches!(u.scheme(), "postgres" | "postgresql") {
            return Err(format!(
                "the scheme must be postgres://, not {}://",
                u.scheme()
            ));
        }
        let host = u.host_str().unwrap_or("");
        let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(ipv6) => ipv6.to_owned(),
            None => decode(host, "host")?,
        };
        if host.is_empty() {
            return Err("no host".into());
        }
        let user = decode(u.username(), "user name")?;
        if user.is_empty() {
            return Err("no user name".into());
        }
        let password = decode(u.password().unwrap_or(""), "password")?;
        let path = u.path().strip_prefix('/').unwrap_or(u.path());
        if path.contains('/') {
            return Err("the path must be just the database name".into());
        }
        // As libpq: the database defaults to the user's name.
        let dbname = match decode(path, "database name")? {
            d if d.is_empty() => user.clone(),
            d => d,
        };
        let params: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let tls = sluice_config::tls::url_params_to_keys(
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )?;
        Ok(PgSource {
            host,
            port: u.port().unwrap_or(5432),
            user,
            password,
            dbname,
            tls,
        })
    }
}

fn decode(s: &str, what: &str) -> Result<String, String> {
    let bad = || format!("the {what} has a bad %-escape");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex)
                .ok()
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("the {what} is not UTF-8"))
}

/// `postgres://user:****@host/db`. Works on text that is not a valid URL too (no scheme,
/// unescaped `@` or `/` in the password), masking too much rather than too little.
fn mask_password(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let Some(at) = rest.rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!("{}{}****{}", &url[..start], &rest[..=colon], &rest[at..]),
        None => url.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// list, info

async fn list(worker: &Worker, json: bool) -> Result<String> {
    let mut url = worker.url(&["connectors"]);
    url.set_query(Some("expand=status&expand=info"));
    let all = worker.call_url(Method::GET, url, None).await?;
    if json {
        return Ok(pretty(&all));
    }
    let empty = Map::new();
    let connectors = all.as_object().unwrap_or(&empty);
    if connectors.is_empty() {
        return Ok(format!("No connectors on {}\n", worker.shown()));
    }
    let rows: Vec<Vec<String>> = connectors
        .iter()
        .map(|(name, c)| {
            vec![
                name.clone(),
                text(&c["status"]["connector"]["state"]),
                text(&c["status"]["tasks"][0]["state"]),
                text(&c["info"]["type"]),
                reads_of(&c["info"]["config"]),
            ]
        })
        .collect();
    Ok(table(&["NAME", "STATE", "TASK", "TYPE", "READS"], &rows))
}

async fn info(worker: &Worker, name: &str, json: bool) -> Result<String> {
    let info = worker.get(&["connectors", name]).await?;
    let status = worker.status(name).await?;
    let topics = worker.topics(name).await?;
    if json {
        return Ok(pretty(
            &json!({"info": info, "status": status, "topics": topics}),
        ));
    }
    Ok(render_info(
        name,
        &info["config"],
        &status,
        &topic_list(&topics, name),
    ))
}

fn render_info(name: &str, config: &Value, status: &Value, topics: &[String]) -> String {
    let task = &status["tasks"][0];
    let mut task_state = text(&task["state"]);
    if let Some(w) = task["worker_id"].as_str() {
        task_state.push_str(&format!(" (worker {w})"));
    }
    let summary = vec![
        kv("State", &text(&status["connector"]["state"])),
        kv("Task", &task_state),
        kv("Type", &text(&status["type"])),
        kv("Reads", &reads_of(config)),
        kv("Excluded columns", &text(&config["column.exclude.list"])),
    ];
    let mut out = format!("=== {name}\n{}", table(&[], &summary));
    out.push_str("\nTopics:\n");
    if topics.is_empty() {
        out.push_str("  (nothing written yet)\n");
    }
    for t in topics {
        out.push_str(&format!("  {t}\n"));
    }
    let settings: Vec<Vec<String>> = config
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| kv(&format!("  {k}"), &text(v)))
                .collect()
        })
        .unwrap_or_default();
    out.push_str(&format!("\nConfig:\n{}", table(&[], &settings)));
    if let Some(trace) = task["trace"].as_str() {
        out.push_str("\nTask failed:\n");
        for line in trace.lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    if let Some(error) = task["last_error"].as_str() {
        out.push_str(&format!(
            "\nRetrying after a transient error ({} retries so far):\n  {error}\n",
            task["retries"]
        ));
    }
    out
}

fn kv(key: &str, value: &str) -> Vec<String> {
    vec![format!("{key}:"), value.to_owned()]
}

/// `GET /connectors/{name}/topics` is `{"<name>": {"topics": [...]}}`.
fn topic_list(topics: &Value, name: &str) -> Vec<String> {
    topics[name]["topics"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// What a connector reads: a source's tables, a sink's topics.
fn reads_of(config: &Value) -> String {
    let list = |key: &str| {
        config[key]
            .as_str()
            .map(|t| t.split(',').map(str::trim).collect::<Vec<_>>().join(", "))
    };
    list("table.include.list")
        .or_else(|| list("topics"))
        .or_else(|| config["topics.regex"].as_str().map(|r| format!("/{r}/")))
        .unwrap_or_else(|| "(all)".into())
}

// ---------------------------------------------------------------------------------------
// update, pause, resume, destroy

async fn update(worker: &Worker, name: &str, settings: &[String], json: bool) -> Result<String> {
    let changes = settings
        .iter()
        .map(|s| parse_setting(s))
        .collect::<Result<Vec<_>>>()?;
    // The config comes back with secrets masked; the worker keeps the stored secret when
    // the mask is sent back unchanged.
    let mut config = worker.get(&["connectors", name, "config"]).await?;
    for (key, value) in &changes {
        config[key.as_str()] = json!(value);
    }
    let updated = worker
        .call(Method::PUT, &["connectors", name, "config"], Some(&config))
        .await?;
    if json {
        return Ok(pretty(&updated));
    }
    let mut out = format!("Updated {name}:\n");
    for (key, value) in &changes {
        let shown = if is_secret_key(key) { MASK } else { value };
        out.push_str(&format!("  {key} = {shown}\n"));
    }
    Ok(out)
}

fn parse_setting(s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => bail!("--setting {s}: expected KEY=VALUE, e.g. heartbeat.interval.ms=5000"),
    }
}

/// `action` is `pause` or `resume`.
async fn set_state(worker: &Worker, name: &str, action: &str, json: bool) -> Result<String> {
    worker
        .call(Method::PUT, &["connectors", name, action], None)
        .await?;
    let status = worker.status(name).await?;
    if json {
        return Ok(pretty(&status));
    }
    let done = if action == "pause" {
        "Paused"
    } else {
        "Resumed"
    };
    Ok(format!(
        "{done} {name} (state {})\n",
        text(&status["connector"]["state"])
    ))
}

async fn destroy(worker: &Worker, name: &str, json: bool) -> Result<String> {
    let (_, headers) = worker
        .send(Method::DELETE, worker.url(&["connectors", name]), None)
        .await?;
    // What the worker cleaned up in the database: the slot and publication (or why not).
    let cleanup = headers
        .get("sluice-cleanup")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if json {
        return Ok(pretty(
            &json!({"name": name, "deleted": true, "cleanup": cleanup}),
        ));
    }
    let mut out = format!(
        "Destroyed {name}
"
    );
    if let Some(c) = cleanup {
        out.push_str(&format!("In the database: {c}\n"));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// wait

/// Polls until the task runs. The worker reports RUNNING as soon as the task is spawned,
/// before it has connected, so running also means something was written (snapshot records
/// or a heartbeat). Only with heartbeats off, when an idle connector writes nothing, does
/// RUNNING held for a while count.
/// Retries after which `wait` reports a task as failing.
const WAIT_RETRIES: u64 = 3;

async fn wait(worker: &Worker, name: &str, timeout: Duration, json: bool) -> Result<String> {
    let config = worker.get(&["connectors", name, "config"]).await?;
    let heartbeats = config["heartbeat.interval.ms"]
        .as_str()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|ms| ms > 0);
    let deadline = Instant::now() + timeout;
    let mut running_since: Option<Instant> = None;
    loop {
        let status = worker.status(name).await?;
        let task = &status["tasks"][0];
        let state = text(&task["state"]);
        match state.as_str() {
            "FAILED" => bail!("{name} failed: {}", one_line(&text(&task["trace"]))),
            "PAUSED" => bail!("{name} is paused; resume it with 'sluice connectors resume {name}'"),
            // A task that keeps failing with transient errors is retried and stays RUNNING;
            // waiting on is pointless after a few tries.
            "RUNNING" if task["retries"].as_u64().is_some_and(|n| n >= WAIT_RETRIES) => bail!(
                "{name} keeps failing ({} retries): {}",
                task["retries"],
                one_line(&text(&task["last_error"]))
            ),
            "RUNNING" => {
                let since = *running_since.get_or_insert_with(Instant::now);
                let quiet_enough = !heartbeats && since.elapsed() >= QUIET_RUNNING;
                if quiet_enough || !topic_list(&worker.topics(name).await?, name).is_empty() {
                    return Ok(if json {
                        pretty(&status)
                    } else {
                        format!("{name} is running\n")
                    });
                }
            }
            _ if status["connector"]["state"] == "STOPPED" => {
                bail!("{name} is stopped; start it with 'sluice connectors resume {name}'")
            }
            _ => running_since = None,
        }
        if Instant::now() >= deadline {
            let detail = if state == "RUNNING" {
                ", nothing written yet"
            } else {
                ""
            };
            bail!(
                "{name} is not running after {}s (task {state}{detail}); see 'sluice connectors info {name}'",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

// ---------------------------------------------------------------------------------------
// output

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    s.push('\n');
    s
}

/// Columns padded to their widest cell; no header line when `headers` is empty.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let head: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    let lines: Vec<&Vec<String>> = std::iter::once(&head)
        .filter(|h| !h.is_empty())
        .chain(rows)
        .collect();
    let columns = lines.iter().map(|l| l.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            lines
                .iter()
                .filter_map(|l| l.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(c, &w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Writes everything at once; a closed pipe (`| head`) is not an error.
fn emit(out: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow!("cannot write to stdout: {e}"))
        }
        _ => Ok(()),
    }
}
