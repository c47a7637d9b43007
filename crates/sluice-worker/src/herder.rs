//! The herder (Connect's name): the connectors of this worker, their configs, target states
//! and task status. Every change is validated first, persisted, then applied; a config update
//! restarts the task gracefully from its committed offsets. A task that fails with a transient
//! error is retried with backoff and stays RUNNING; a permanent error marks it FAILED.
//!
//! Locking: the map of connectors is locked only to look entries up; each connector has its
//! own lifecycle lock, held while its task stops, so a slow stop never blocks other
//! connectors or status requests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex as StdMutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};
use sluice_config::raw::{is_secret_key, MASK};
use sluice_config::{
    ConfigError, ConfigIssue, ConnectorClass, ConnectorKind, ConnectorSettings, RawConfig,
};
use sluice_core::error::{chain, ConnectorError};
use sluice_core::pipeline::{OffsetBackend, SnapshotProgress, TaskControl, TaskStats};
use sluice_core::record::SourceOffset;
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;

use crate::runner::{
    clean_up_on_delete, run_task, sink_group_offsets, Offsets, TaskContext, TopicStore, Watch,
};
use crate::store::{ConfigStore, StoredConnector, TargetState};

#[derive(Debug, thiserror::Error)]
pub enum HerderError {
    #[error("Connector {0} not found")]
    NotFound(String),
    #[error("Connector {0} already exists")]
    Conflict(String),
    #[error("Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`", .0.len(), .0.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ConfigIssue>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Internal(String),
}

/// The runtime state of a task, as Connect reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskState {
    Unassigned,
    Running,
    Paused,
    Stopped,
    Failed(String),
    Restarting,
}

impl TaskState {
    pub fn name(&self) -> &'static str {
        match self {
            TaskState::Unassigned => "UNASSIGNED",
            TaskState::Running => "RUNNING",
            TaskState::Paused => "PAUSED",
            TaskState::Stopped => "STOPPED",
            TaskState::Failed(_) => "FAILED",
            TaskState::Restarting => "RESTARTING",
        }
    }
}

/// A task's state, and the transient error it is retrying, if any.
#[derive(Debug, Clone)]
struct TaskStatus {
    state: TaskState,
    last_error: Option<String>,
    retries: u64,
    /// The task's offset commits when `last_error` happened: once it commits again it has
    /// recovered, and the error is no longer shown.
    error_commits: u64,
}

impl TaskStatus {
    /// The error being retried, unless the task committed offsets since; else what a flush
    /// that has waited long is waiting on (`TaskStats::stalled`).
    fn retrying(&self, stats: &TaskStats) -> Option<String> {
        let commits = stats
            .offset_commits
            .load(std::sync::atomic::Ordering::Relaxed);
        self.last_error
            .clone()
            .filter(|_| commits == self.error_commits)
            .or_else(|| lock(&stats.stalled).clone())
    }
}

struct Entry {
    info: StdMutex<Info>,
    status: Arc<StdMutex<TaskStatus>>,
    stats: Arc<TaskStats>,
    task: Mutex<Task>,
    /// What the worker watches for the connector whatever its task does (its slot).
    watch: StdMutex<Option<Watch>>,
}

struct Info {
    raw: RawConfig,
    target: TargetState,
    kind: ConnectorKind,
}

#[derive(Default)]
struct Task {
    control: Option<watch::Sender<TaskControl>>,
    handle: Option<JoinHandle<()>>,
}

impl Task {
    fn running(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.is_finished())
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.control.take() {
            let _ = tx.send(TaskControl::Stop);
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

fn lock<T>(m: &StdMutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One connector as the console lists and charts it: read from what the herder already holds,
/// never waiting on a task.
#[derive(Debug, Clone)]
pub struct ConnectorView {
    pub name: String,
    pub kind: ConnectorKind,
    /// `connector.class` in full when Sluice knows it, as configured otherwise.
    pub class: String,
    /// The connector's state (`RUNNING`, `PAUSED`, `STOPPED`).
    pub state: &'static str,
    /// Its task's, unless the connector is stopped.
    pub task: Option<TaskView>,
    pub events_seen: u64,
    pub records_written: u64,
    /// Lag behind the source at the last commit (Debezium's `MilliSecondsBehindSource`).
    pub ms_behind_source: Option<i64>,
    /// WAL the connector's replication slot keeps, when it has one.
    pub retained_wal_bytes: Option<u64>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct TaskView {
    pub state: &'static str,
    /// Why it failed.
    pub trace: Option<String>,
    /// The transient error a RUNNING task is retrying.
    pub last_error: Option<String>,
    pub retries: u64,
}

/// A config's problems and remarks, as validate reports them.
pub struct Checked {
    pub class: Option<&'static ConnectorClass>,
    pub issues: Vec<ConfigIssue>,
    pub warnings: Vec<ConfigIssue>,
}

pub struct Herder {
    worker_id: String,
    topics: TopicStore,
    offsets: Arc<Offsets>,
    store: Arc<ConfigStore>,
    stdout: bool,
    connectors: StdMutex<BTreeMap<String, Arc<Entry>>>,
    /// Connect's `offset.flush.interval.ms` for every task.
    flush_interval: Duration,
    /// The worker's `key.converter`, `value.converter` and their `schemas.enable`, for
    /// connectors that do not set their own.
    converter_defaults: BTreeMap<String, String>,
    /// Told of every task failure (`sluice run` exits on one).
    failures: Option<mpsc::UnboundedSender<(String, String)>>,
}

impl Herder {
    pub fn new(
        worker_id: String,
        topics: TopicStore,
        offsets: Offsets,
        store: ConfigStore,
        stdout: bool,
    ) -> Self {
        Herder {
            worker_id,
            topics,
            offsets: Arc::new(offsets),
            store: Arc::new(store),
            stdout,
            connectors: StdMutex::new(BTreeMap::new()),
            flush_interval: Duration::from_millis(1000),
            converter_defaults: BTreeMap::new(),
            failures: None,
        }
    }

    pub fn set_flush_interval(&mut self, interval: Duration) {
        self.flush_interval = interval;
    }

    pub fn set_converter_defaults(&mut self, defaults: BTreeMap<String, String>) {
        self.converter_defaults = defaults;
    }

    /// Reports each task failure as `(connector, error)` on the returned channel.
    pub fn report_failures(&mut self) -> mpsc::UnboundedReceiver<(String, String)> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.failures = Some(tx);
        rx
    }

    fn entry(&self, name: &str) -> Result<Arc<Entry>, HerderError> {
        lock(&self.connectors)
            .get(name)
            .cloned()
            .ok_or_else(|| HerderError::NotFound(name.to_owned()))
    }

    /// (Re)starts the watch of a connector (its slot), fed the connector's state.
    fn start_watch(&self, entry: &Arc<Entry>) {
        let raw = lock(&entry.info).raw.clone();
        let weak = Arc::downgrade(entry);
        let state: Arc<dyn Fn() -> &'static str + Send + Sync> = Arc::new(move || {
            weak.upgrade()
                .map_or("DELETED", |e| match lock(&e.info).target {
                    TargetState::Paused => "PAUSED",
                    TargetState::Stopped => "STOPPED",
                    TargetState::Started => lock(&e.status).state.name(),
                })
        });
        let watch = self
            .settings(&raw)
            .ok()
            .and_then(|s| Watch::start(&s, state));
        *lock(&entry.watch) = watch;
    }

    /// Starts every persisted connector in its target state.
    pub async fn resume_stored(&self) -> Result<(), HerderError> {
        let stored = self
            .store
            .load_all()
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))?;
        for s in stored {
            let raw = RawConfig {
                name: s.name.clone(),
                props: s.config,
            };
            let kind = self
                .settings(&raw)
                .map_or(ConnectorKind::Source, |c| c.class.kind);
            let entry = Arc::new(Entry::new(raw, s.target_state, kind, None));
            lock(&self.connectors).insert(s.name.clone(), entry.clone());
            self.start_watch(&entry);
            let mut task = entry.task.lock().await;
            self.apply_target(&s.name, &entry, &mut task).await;
        }
        Ok(())
    }

    /// The config with the worker's converter settings filled in where it has none.
    fn with_defaults(&self, raw: &RawConfig) -> RawConfig {
        with_defaults(raw, &self.converter_defaults)
    }

    /// Everything wrong with a config, and what deserves a word, as validate reports it.
    pub fn check(&self, raw: &RawConfig) -> Checked {
        check_config(raw, &self.converter_defaults)
    }

    /// The parsed config, or every problem in it.
    fn settings(&self, raw: &RawConfig) -> Result<ConnectorSettings, Vec<ConfigIssue>> {
        let checked = self.check(raw);
        if !checked.issues.is_empty() {
            return Err(checked.issues);
        }
        ConnectorSettings::parse(&self.with_defaults(raw)).map_err(|e| match e {
            ConfigError::Invalid { issues, .. } => issues,
            other => vec![ConfigIssue {
                key: "config".into(),
                value: None,
                message: other.to_string(),
            }],
        })
    }

    /// Creates (`created = true`) or replaces a connector's config. A masked secret sent back
    /// unchanged keeps the stored secret.
    pub async fn put_config(
        &self,
        name: &str,
        mut props: BTreeMap<String, String>,
        must_be_new: bool,
    ) -> Result<bool, HerderError> {
        if name.trim().is_empty() {
            return Err(HerderError::BadRequest(
                "Connector name must not be empty".into(),
            ));
        }
        if let Some(n) = props.get("name") {
            if n != name {
                return Err(HerderError::BadRequest(format!(
                    "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
                )));
            }
        }
        props.insert("name".into(), name.to_owned());
        let existing = lock(&self.connectors).get(name).cloned();
        if must_be_new && existing.is_some() {
            return Err(HerderError::Conflict(name.to_owned()));
        }
        for (k, v) in props.iter_mut() {
            if is_secret_key(k) && v == MASK {
                let stored = existing
                    .as_ref()
                    .and_then(|e| lock(&e.info).raw.props.get(k).cloned());
                match stored {
                    Some(stored) => *v = stored,
                    None => {
                        return Err(HerderError::BadRequest(format!(
                            "{k} is the mask {MASK}, but no secret is stored for it: send the real value"
                        )))
                    }
                }
            }
        }
        let raw = RawConfig {
            name: name.to_owned(),
            props,
        };
        let settings = self.settings(&raw).map_err(HerderError::Invalid)?;
        let kind = settings.class.kind;
        match existing {
            Some(entry) => {
                let mut task = entry.task.lock().await;
                let target = lock(&entry.info).target;
                self.persist(&raw, target).await?;
                task.stop().await;
                *lock(&entry.info) = Info { raw, target, kind };
                self.start_watch(&entry);
                self.apply_target(name, &entry, &mut task).await;
                tracing::info!(connector = name, "connector config updated");
                Ok(false)
            }
            None => {
                self.persist(&raw, TargetState::Started).await?;
                let entry = Arc::new(Entry::new(raw, TargetState::Started, kind, None));
                let mut task = entry.task.lock().await;
                {
                    let mut map = lock(&self.connectors);
                    if must_be_new && map.contains_key(name) {
                        return Err(HerderError::Conflict(name.to_owned()));
                    }
                    map.insert(name.to_owned(), entry.clone());
                }
                self.start_watch(&entry);
                self.apply_target(name, &entry, &mut task).await;
                tracing::info!(connector = name, "connector created");
                Ok(true)
            }
        }
    }

    async fn persist(&self, raw: &RawConfig, target: TargetState) -> Result<(), HerderError> {
        self.store
            .put(&StoredConnector {
                name: raw.name.clone(),
                config: raw.props.clone(),
                target_state: target,
            })
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))
    }

    /// Deletes a connector; returns what was cleaned up outside Sluice (a slot, a
    /// publication), or why it could not be.
    pub async fn delete(&self, name: &str) -> Result<Option<String>, HerderError> {
        let entry = self.entry(name)?;
        let mut task = entry.task.lock().await;
        task.stop().await;
        *lock(&entry.watch) = None;
        self.store
            .remove(name)
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))?;
        lock(&self.connectors).remove(name);
        let raw = lock(&entry.info).raw.clone();
        let others: Vec<ConnectorSettings> = lock(&self.connectors)
            .values()
            .map(|e| lock(&e.info).raw.clone())
            .collect::<Vec<_>>()
            .iter()
            .filter_map(|r| self.settings(r).ok())
            .collect();
        let cleanup = match self.settings(&raw) {
            Ok(settings) => clean_up_on_delete(&settings, &others).await,
            Err(_) => None,
        };
        match &cleanup {
            Some(c) => tracing::info!(connector = name, "connector deleted; {c}"),
            None => tracing::info!(connector = name, "connector deleted"),
        }
        Ok(cleanup)
    }

    pub async fn set_target(&self, name: &str, target: TargetState) -> Result<(), HerderError> {
        let entry = self.entry(name)?;
        let mut task = entry.task.lock().await;
        let raw = {
            let info = lock(&entry.info);
            if info.target == target {
                return Ok(());
            }
            info.raw.clone()
        };
        self.persist(&raw, target).await?;
        lock(&entry.info).target = target;
        self.apply_target(name, &entry, &mut task).await;
        if target == TargetState::Paused {
            // Answer once the task really stopped polling, so nothing is written after.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while task.running()
                && !entry.stats.paused.load(std::sync::atomic::Ordering::SeqCst)
                && tokio::time::Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        Ok(())
    }

    /// Restarts the task (Connect: `POST /connectors/{name}/restart`); with `only_failed`,
    /// only a FAILED task restarts. Returns whether it restarted.
    pub async fn restart(&self, name: &str, only_failed: bool) -> Result<bool, HerderError> {
        let entry = self.entry(name)?;
        let mut task = entry.task.lock().await;
        let failed = matches!(lock(&entry.status).state, TaskState::Failed(_));
        if (only_failed && !failed) || lock(&entry.info).target == TargetState::Stopped {
            return Ok(false);
        }
        lock(&entry.status).state = TaskState::Restarting;
        task.stop().await;
        self.apply_target(name, &entry, &mut task).await;
        Ok(true)
    }

    /// Brings the task in line with the target state.
    async fn apply_target(&self, name: &str, entry: &Arc<Entry>, task: &mut Task) {
        let target = lock(&entry.info).target;
        match target {
            TargetState::Stopped => {
                task.stop().await;
                lock(&entry.status).state = TaskState::Stopped;
            }
            TargetState::Paused | TargetState::Started => {
                let control = if target == TargetState::Paused {
                    TaskControl::Pause
                } else {
                    TaskControl::Run
                };
                let running = task.running();
                match &task.control {
                    Some(tx) if running => {
                        let _ = tx.send(control);
                        lock(&entry.status).state = if control == TaskControl::Pause {
                            TaskState::Paused
                        } else {
                            TaskState::Running
                        };
                    }
                    _ => self.spawn(name, entry, task, control),
                }
            }
        }
        let task_state = lock(&entry.status).state.name();
        self.store
            .put_status(
                &format!("status-connector-{name}"),
                connector_state(target),
                None,
                &self.worker_id,
            )
            .await;
        self.store
            .put_status(
                &format!("status-task-{name}-0"),
                task_state,
                None,
                &self.worker_id,
            )
            .await;
    }

    fn spawn(&self, name: &str, entry: &Arc<Entry>, task: &mut Task, control: TaskControl) {
        let (tx, rx) = watch::channel(control);
        let status = entry.status.clone();
        {
            let mut s = lock(&status);
            s.state = if control == TaskControl::Pause {
                TaskState::Paused
            } else {
                TaskState::Running
            };
            s.last_error = None;
        }
        let raw = lock(&entry.info).raw.clone();
        let settings = match self.settings(&raw) {
            Ok(s) => s,
            Err(issues) => {
                lock(&status).state = TaskState::Failed(HerderError::Invalid(issues).to_string());
                return;
            }
        };
        for w in &settings.warnings {
            tracing::warn!(connector = name, "{w}");
        }
        let ctx = TaskContext {
            topics: self.topics.clone(),
            offsets: self.offsets.clone(),
            stats: entry.stats.clone(),
            stdout: self.stdout,
            flush_interval: self.flush_interval,
        };
        let name = name.to_owned();
        let failures = self.failures.clone();
        let (store, worker_id) = (self.store.clone(), self.worker_id.clone());
        task.control = Some(tx);
        task.handle = Some(tokio::spawn(async move {
            let trace = match run_with_retries(&name, &settings, ctx, rx, &status).await {
                Ok(()) => {
                    tracing::info!(connector = %name, "task stopped");
                    return;
                }
                Err(e) => chain(&e),
            };
            tracing::error!(connector = %name, "task failed: {trace}");
            lock(&status).state = TaskState::Failed(trace.clone());
            metrics::counter!(sluice_core::metrics::ERRORS, "connector" => name.clone())
                .increment(1);
            store
                .put_status(
                    &format!("status-task-{name}-0"),
                    "FAILED",
                    Some(&trace),
                    &worker_id,
                )
                .await;
            if let Some(f) = failures {
                let _ = f.send((name.clone(), trace));
            }
        }));
    }

    pub fn store_url(&self) -> String {
        self.topics.url()
    }

    pub fn names(&self) -> Vec<String> {
        lock(&self.connectors).keys().cloned().collect()
    }

    /// The config with secrets masked.
    pub fn config(&self, name: &str) -> Result<BTreeMap<String, String>, HerderError> {
        Ok(masked(&lock(&self.entry(name)?.info).raw.props))
    }

    /// `GET /connectors/{name}`.
    pub fn info(&self, name: &str) -> Result<Json, HerderError> {
        let entry = self.entry(name)?;
        Ok(info_json(name, &entry))
    }

    /// `GET /connectors/{name}/status`.
    pub fn status(&self, name: &str) -> Result<Json, HerderError> {
        let entry = self.entry(name)?;
        Ok(self.status_json(name, &entry))
    }

    pub fn task_status(&self, name: &str, task: u32) -> Result<Json, HerderError> {
        let entry = self.entry(name)?;
        if task != 0 || lock(&entry.info).target == TargetState::Stopped {
            return Err(HerderError::NotFound(format!("{name} task {task}")));
        }
        Ok(self.task_json(&entry))
    }

    fn task_json(&self, entry: &Entry) -> Json {
        let status = lock(&entry.status).clone();
        let mut t = json!({"id": 0, "state": status.state.name(), "worker_id": self.worker_id});
        if let TaskState::Failed(trace) = &status.state {
            t["trace"] = Json::String(trace.clone());
        }
        // Not in Connect: the transient error a RUNNING task is retrying.
        if let Some(e) = status.retrying(&entry.stats) {
            t["last_error"] = Json::String(e);
            t["retries"] = json!(status.retries);
        }
        t
    }

    fn status_json(&self, name: &str, entry: &Entry) -> Json {
        let (target, kind) = {
            let info = lock(&entry.info);
            (info.target, info.kind)
        };
        let tasks = if target == TargetState::Stopped {
            vec![]
        } else {
            vec![self.task_json(entry)]
        };
        let mut status = json!({
            "name": name,
            "connector": {"state": connector_state(target), "worker_id": self.worker_id},
            "tasks": tasks,
            "type": kind.name(),
        });
        // Not in Connect: what the worker watches for it (a slot's retained WAL) and the
        // warnings that come with it.
        if let Some(w) = lock(&entry.watch).as_ref() {
            let (key, value) = w.status();
            status[key] = value;
            status["warnings"] = json!(w.warnings());
        }
        status
    }

    /// `GET /connectors?expand=status&expand=info`.
    pub fn expanded(&self, status: bool, info: bool) -> Json {
        let entries: Vec<(String, Arc<Entry>)> = lock(&self.connectors)
            .iter()
            .map(|(n, e)| (n.clone(), e.clone()))
            .collect();
        let mut out = serde_json::Map::new();
        for (name, entry) in entries {
            let mut e = serde_json::Map::new();
            if status {
                e.insert("status".into(), self.status_json(&name, &entry));
            }
            if info {
                e.insert("info".into(), info_json(&name, &entry));
            }
            out.insert(name, Json::Object(e));
        }
        Json::Object(out)
    }

    /// Every connector, as the console shows them.
    pub fn views(&self) -> Vec<ConnectorView> {
        let entries: Vec<(String, Arc<Entry>)> = lock(&self.connectors)
            .iter()
            .map(|(n, e)| (n.clone(), e.clone()))
            .collect();
        entries
            .into_iter()
            .map(|(name, entry)| view_of(name, &entry))
            .collect()
    }

    /// One connector, as the console shows it.
    pub fn view(&self, name: &str) -> Result<ConnectorView, HerderError> {
        let entry = self.entry(name)?;
        Ok(view_of(name.to_owned(), &entry))
    }

    /// A connector's snapshot, table by table (empty when it took none since the worker
    /// started).
    pub fn snapshot_progress(&self, name: &str) -> Result<SnapshotProgress, HerderError> {
        let entry = self.entry(name)?;
        let progress = lock(&entry.stats.snapshot).clone();
        Ok(progress)
    }

    /// Where this worker's topics live.
    pub fn topic_store(&self) -> &TopicStore {
        &self.topics
    }

    pub fn topics(&self, name: &str) -> Result<Vec<String>, HerderError> {
        let entry = self.entry(name)?;
        let topics = lock(&entry.stats.topics);
        Ok(topics.iter().cloned().collect())
    }

    pub fn reset_topics(&self, name: &str) -> Result<(), HerderError> {
        lock(&self.entry(name)?.stats.topics).clear();
        Ok(())
    }

    /// Where a connector's offsets live: the worker's store, or a sink's consumer group.
    fn offsets_of(&self, entry: &Entry) -> Result<Arc<Offsets>, HerderError> {
        let raw = lock(&entry.info).raw.clone();
        let settings = self.settings(&raw).map_err(HerderError::Invalid)?;
        let internal = |e: ConnectorError| HerderError::Internal(chain(&e));
        match (settings.class.kind, &settings.common.topics) {
            (ConnectorKind::Sink, Some(selection)) => {
                match sink_group_offsets(&self.topics, &raw.name, selection).map_err(internal)? {
                    Some(group) => Ok(Arc::new(Offsets::Group(group))),
                    None => Ok(self.offsets.clone()),
                }
            }
            _ => Ok(self.offsets.clone()),
        }
    }

    pub async fn offsets(&self, name: &str) -> Result<Vec<SourceOffset>, HerderError> {
        let entry = self.entry(name)?;
        self.offsets_of(&entry)?
            .list(name)
            .await
            .map_err(|e| HerderError::Internal(chain(&e)))
    }

    /// KIP-875: offsets change only while the connector is STOPPED. `None` resets them all.
    pub async fn alter_offsets(
        &self,
        name: &str,
        offsets: Option<Vec<SourceOffset>>,
    ) -> Result<(), HerderError> {
        let entry = self.entry(name)?;
        let task = entry.task.lock().await;
        if lock(&entry.info).target != TargetState::Stopped || task.running() {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        let backend = self.offsets_of(&entry)?;
        let result = match offsets {
            None => backend.clear(name).await,
            Some(list) => backend.commit(name, &list).await,
        };
        result.map_err(|e| HerderError::Internal(chain(&e)))
    }

    /// Stops every task (their offsets are committed up to what the sinks made durable).
    pub async fn shutdown(&self) {
        let entries: Vec<Arc<Entry>> = lock(&self.connectors).values().cloned().collect();
        for entry in entries {
            entry.task.lock().await.stop().await;
        }
    }
}

/// The config with the worker's converter settings filled in where it has none.
fn with_defaults(raw: &RawConfig, defaults: &BTreeMap<String, String>) -> RawConfig {
    let mut props = raw.props.clone();
    for (k, v) in defaults {
        props.entry(k.clone()).or_insert_with(|| v.clone());
    }
    RawConfig {
        name: raw.name.clone(),
        props,
    }
}

/// Everything wrong with a connector config (its own keys and its transforms'), and what
/// deserves a word; `defaults` are the worker's converter settings.
pub fn check_config(raw: &RawConfig, defaults: &BTreeMap<String, String>) -> Checked {
    let raw = with_defaults(raw, defaults);
    let class = raw
        .get("connector.class")
        .and_then(sluice_config::find_class);
    let (settings, mut issues, mut warnings) = ConnectorSettings::check(&raw);
    if let Some(settings) = settings {
        match sluice_transforms::build_chain(&settings.common) {
            Ok((_, more)) => warnings.extend(more),
            Err(more) => issues.extend(more),
        }
    }
    Checked {
        class,
        issues,
        warnings,
    }
}

/// The first wait after a transient failure (Connect's RetryWithToleranceOperator starts at
/// 300 ms and doubles).
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(300);

/// Runs the task, retrying transient failures with exponential backoff while the retry
/// budget (`errors.max.retries`, `errors.retry.timeout`) allows; the task stays RUNNING
/// meanwhile, with the error in its status. A run that committed offsets (it had recovered),
/// or lasted longer than the longest delay, starts a new budget: faults that come one after
/// another are each retried from the first, short delay.
async fn run_with_retries(
    name: &str,
    settings: &ConnectorSettings,
    ctx: TaskContext,
    control: watch::Receiver<TaskControl>,
    status: &StdMutex<TaskStatus>,
) -> Result<(), ConnectorError> {
    let retry = settings.common.retry;
    let delay_max = Duration::from_millis(retry.delay_max_ms.max(0) as u64);
    let mut attempt: u32 = 0;
    let mut first_failure: Option<Instant> = None;
    loop {
        let started = Instant::now();
        let commits = ctx
            .stats
            .offset_commits
            .load(std::sync::atomic::Ordering::Relaxed);
        let result = run_task(name, settings, ctx.clone(), control.clone()).await;
        let error = match result {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let stopping = *control.borrow() == TaskControl::Stop;
        if !error.is_transient() || stopping {
            return Err(error);
        }
        let progressed = ctx
            .stats
            .offset_commits
            .load(std::sync::atomic::Ordering::Relaxed)
            > commits;
        if progressed || started.elapsed() > delay_max.max(Duration::from_secs(60)) {
            attempt = 0;
            first_failure = None;
        }
        let since = *first_failure.get_or_insert_with(Instant::now);
        let out_of_retries = retry.max_retries >= 0 && i64::from(attempt) >= retry.max_retries;
        let out_of_time = retry.timeout_ms > 0
            && since.elapsed() >= Duration::from_millis(retry.timeout_ms as u64);
        if out_of_retries || out_of_time {
            let why = if out_of_retries {
                format!("errors.max.retries={}", retry.max_retries)
            } else {
                format!("errors.retry.timeout={} ms", retry.timeout_ms)
            };
            return Err(ConnectorError::permanent(format!(
                "{}; gave up retrying after {attempt} attempt(s) ({why})",
                chain(&error)
            )));
        }
        let delay = FIRST_RETRY_DELAY
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(delay_max.max(FIRST_RETRY_DELAY));
        attempt += 1;
        let message = chain(&error);
        tracing::warn!(
            connector = name,
            attempt,
            "task failed with a transient error, retrying in {} ms: {message}",
            delay.as_millis()
        );
        metrics::counter!(sluice_core::metrics::RETRIES, "connector" => name.to_owned())
            .increment(1);
        {
            let mut s = lock(status);
            s.last_error = Some(message);
            s.error_commits = ctx
                .stats
                .offset_commits
                .load(std::sync::atomic::Ordering::Relaxed);
            s.retries += 1;
        }
        // Wait out the delay, unless told to stop meanwhile.
        let mut watch = control.clone();
        let stop = async {
            while *watch.borrow_and_update() != TaskControl::Stop {
                if watch.changed().await.is_err() {
                    return;
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop => return Ok(()),
        }
    }
}

impl Entry {
    fn new(
        raw: RawConfig,
        target: TargetState,
        kind: ConnectorKind,
        stats: Option<Arc<TaskStats>>,
    ) -> Self {
        Entry {
            info: StdMutex::new(Info { raw, target, kind }),
            status: Arc::new(StdMutex::new(TaskStatus {
                state: TaskState::Unassigned,
                last_error: None,
                retries: 0,
                error_commits: 0,
            })),
            stats: stats.unwrap_or_default(),
            task: Mutex::new(Task::default()),
            watch: StdMutex::new(None),
        }
    }
}

fn view_of(name: String, entry: &Entry) -> ConnectorView {
    use std::sync::atomic::Ordering::Relaxed;
    let (target, kind, class) = {
        let info = lock(&entry.info);
        let class = info.raw.get("connector.class").unwrap_or_default();
        let class = sluice_config::find_class(class).map_or(class, |c| c.class);
        (info.target, info.kind, class.to_owned())
    };
    let task = (target != TargetState::Stopped).then(|| {
        let status = lock(&entry.status);
        TaskView {
            state: status.state.name(),
            trace: match &status.state {
                TaskState::Failed(trace) => Some(trace.clone()),
                _ => None,
            },
            last_error: status.retrying(&entry.stats),
            retries: status.retries,
        }
    });
    let (retained_wal_bytes, warnings) = match lock(&entry.watch).as_ref() {
        Some(w) => (w.retained_wal_bytes(), w.warnings()),
        None => (None, Vec::new()),
    };
    let lag = entry.stats.ms_behind_source.load(Relaxed);
    ConnectorView {
        name,
        kind,
        class,
        state: connector_state(target),
        task,
        events_seen: entry.stats.events_seen.load(Relaxed),
        records_written: entry.stats.records_written.load(Relaxed),
        ms_behind_source: (lag >= 0).then_some(lag),
        retained_wal_bytes,
        warnings,
    }
}

fn connector_state(target: TargetState) -> &'static str {
    match target {
        TargetState::Started => "RUNNING",
        TargetState::Paused => "PAUSED",
        TargetState::Stopped => "STOPPED",
    }
}

fn info_json(name: &str, entry: &Entry) -> Json {
    let info = lock(&entry.info);
    let tasks = if info.target == TargetState::Stopped {
        json!([])
    } else {
        json!([{"connector": name, "task": 0}])
    };
    json!({"name": name, "config": masked(&info.raw.props), "tasks": tasks, "type": info.kind.name()})
}

pub fn masked(props: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    props
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                if is_secret_key(k) {
                    MASK.to_owned()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}
