//! The herder (Connect's name): the connectors of this worker, their configs, target states
//! and task status. Every change is validated first, persisted, then applied; a config update
//! restarts the task gracefully from its committed offset.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex as StdMutex};

use serde_json::{json, Value as Json};
use sluice_config::raw::{is_secret_key, MASK};
use sluice_config::{ConfigError, ConfigIssue, ConnectorConfig, RawConfig};
use sluice_core::pipeline::{OffsetBackend, TaskControl, TaskStats};
use sluice_core::record::SourceOffset;
use sluice_kafka::TopicDefaults;
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;

use crate::runner::Destination;
use crate::runner::{run_task, Offsets, TaskContext};
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

struct Connector {
    raw: RawConfig,
    target: TargetState,
    state: Arc<StdMutex<TaskState>>,
    control: Option<watch::Sender<TaskControl>>,
    handle: Option<JoinHandle<()>>,
    stats: Arc<TaskStats>,
}

pub struct Herder {
    worker_id: String,
    destination: Destination,
    offsets: Arc<Offsets>,
    store: Arc<ConfigStore>,
    stdout: bool,
    connectors: Mutex<BTreeMap<String, Connector>>,
    /// Connect's `offset.flush.interval.ms` for every task.
    flush_interval: std::time::Duration,
    /// Told of every task failure (`sluice run` exits on one).
    failures: Option<mpsc::UnboundedSender<(String, String)>>,
}

fn lock_state(state: &StdMutex<TaskState>) -> std::sync::MutexGuard<'_, TaskState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl Herder {
    pub fn new(
        worker_id: String,
        destination: Destination,
        offsets: Offsets,
        store: ConfigStore,
        stdout: bool,
    ) -> Self {
        Herder {
            worker_id,
            destination,
            offsets: Arc::new(offsets),
            store: Arc::new(store),
            stdout,
            connectors: Mutex::new(BTreeMap::new()),
            flush_interval: std::time::Duration::from_millis(1000),
            failures: None,
        }
    }

    pub fn set_flush_interval(&mut self, interval: std::time::Duration) {
        self.flush_interval = interval;
    }

    /// Reports each task failure as `(connector, error)` on the returned channel.
    pub fn report_failures(&mut self) -> mpsc::UnboundedReceiver<(String, String)> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.failures = Some(tx);
        rx
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
            let mut map = self.connectors.lock().await;
            let mut c = Connector::new(raw, s.target_state);
            self.apply_target(&s.name, &mut c).await;
            map.insert(s.name, c);
        }
        Ok(())
    }

    /// Validates a config the way `PUT /connector-plugins/{class}/config/validate` reports it.
    pub fn validate(raw: &RawConfig) -> Result<ConnectorConfig, Vec<ConfigIssue>> {
        match ConnectorConfig::parse(raw) {
            Ok(c) => Ok(c),
            Err(ConfigError::Invalid { issues, .. }) => Err(issues),
            Err(e) => Err(vec![ConfigIssue {
                key: "config".into(),
                value: None,
                message: e.to_string(),
            }]),
        }
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
        let mut map = self.connectors.lock().await;
        let existing = map.get(name);
        if must_be_new && existing.is_some() {
            return Err(HerderError::Conflict(name.to_owned()));
        }
        for (k, v) in props.iter_mut() {
            if is_secret_key(k) && v == MASK {
                match existing.and_then(|old| old.raw.props.get(k)) {
                    Some(stored) => v.clone_from(stored),
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
        Self::validate(&raw).map_err(HerderError::Invalid)?;
        let target = existing.map_or(TargetState::Started, |c| c.target);
        self.persist(&raw, target).await?;
        let mut c = Connector::new(raw, target);
        let created = match map.remove(name) {
            Some(mut old) => {
                old.shutdown().await;
                // Connect keeps a connector's active topics across restarts and updates.
                c.stats = old.stats;
                false
            }
            None => true,
        };
        self.apply_target(name, &mut c).await;
        map.insert(name.to_owned(), c);
        tracing::info!(connector = name, created, "connector config stored");
        Ok(created)
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

    pub async fn delete(&self, name: &str) -> Result<(), HerderError> {
        let mut map = self.connectors.lock().await;
        let mut c = map
            .remove(name)
            .ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        c.shutdown().await;
        self.store
            .remove(name)
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))?;
        tracing::info!(connector = name, "connector deleted");
        Ok(())
    }

    pub async fn set_target(&self, name: &str, target: TargetState) -> Result<(), HerderError> {
        let mut map = self.connectors.lock().await;
        let c = map
            .get_mut(name)
            .ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        if c.target == target {
            return Ok(());
        }
        self.persist(&c.raw, target).await?;
        c.target = target;
        self.apply_target(name, c).await;
        if target == TargetState::Paused {
            // Answer once the task really stopped polling, so nothing is written after.
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
            while c.handle.as_ref().is_some_and(|h| !h.is_finished())
                && !c.stats.paused.load(std::sync::atomic::Ordering::SeqCst)
                && tokio::time::Instant::now() < deadline
            {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
        Ok(())
    }

    /// Restarts the task (Connect: `POST /connectors/{name}/restart`); with `only_failed`,
    /// only a FAILED task restarts. Returns whether it restarted.
    pub async fn restart(&self, name: &str, only_failed: bool) -> Result<bool, HerderError> {
        let mut map = self.connectors.lock().await;
        let c = map
            .get_mut(name)
            .ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        let failed = matches!(*lock_state(&c.state), TaskState::Failed(_));
        if (only_failed && !failed) || c.target == TargetState::Stopped {
            return Ok(false);
        }
        *lock_state(&c.state) = TaskState::Restarting;
        c.shutdown().await;
        self.apply_target(name, c).await;
        Ok(true)
    }

    /// Brings the task in line with the target state.
    async fn apply_target(&self, name: &str, c: &mut Connector) {
        match c.target {
            TargetState::Stopped => {
                c.shutdown().await;
                *lock_state(&c.state) = TaskState::Stopped;
            }
            TargetState::Paused | TargetState::Started => {
                let control = if c.target == TargetState::Paused {
                    TaskControl::Pause
                } else {
                    TaskControl::Run
                };
                let running = c.handle.as_ref().is_some_and(|h| !h.is_finished());
                match &c.control {
                    Some(tx) if running => {
                        let _ = tx.send(control);
                        *lock_state(&c.state) = if control == TaskControl::Pause {
                            TaskState::Paused
                        } else {
                            TaskState::Running
                        };
                    }
                    _ => self.spawn(name, c, control),
                }
            }
        }
        let connector_state = match c.target {
            TargetState::Started => "RUNNING",
            TargetState::Paused => "PAUSED",
            TargetState::Stopped => "STOPPED",
        };
        let task_state = lock_state(&c.state).name();
        self.store
            .put_status(
                &format!("status-connector-{name}"),
                connector_state,
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

    fn spawn(&self, name: &str, c: &mut Connector, control: TaskControl) {
        let (tx, rx) = watch::channel(control);
        let state = c.state.clone();
        *lock_state(&state) = if control == TaskControl::Pause {
            TaskState::Paused
        } else {
            TaskState::Running
        };
        let config = match Self::validate(&c.raw) {
            Ok(cfg) => cfg,
            Err(issues) => {
                *lock_state(&state) = TaskState::Failed(HerderError::Invalid(issues).to_string());
                return;
            }
        };
        let ctx = TaskContext {
            destination: self.destination.clone(),
            offsets: self.offsets.clone(),
            stats: c.stats.clone(),
            stdout: self.stdout,
            flush_interval: self.flush_interval,
        };
        let topic_defaults = topic_defaults(&c.raw);
        let name = name.to_owned();
        let failures = self.failures.clone();
        let (store, worker_id) = (self.store.clone(), self.worker_id.clone());
        c.control = Some(tx);
        c.handle = Some(tokio::spawn(async move {
            let result = run_task(&name, config, topic_defaults, ctx, rx).await;
            match result {
                Ok(()) => tracing::info!(connector = %name, "task stopped"),
                Err(e) => {
                    let trace = e.to_string();
                    tracing::error!(connector = %name, "task failed: {trace}");
                    *lock_state(&state) = TaskState::Failed(trace.clone());
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
                }
            }
        }));
    }

    pub fn store_url(&self) -> String {
        match &self.destination {
            Destination::Kafka { bootstrap, .. } => format!("kafka://{bootstrap}"),
            Destination::Local { data_dir } => {
                let abs = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.clone());
                format!("file://{}", abs.display())
            }
        }
    }

    pub async fn names(&self) -> Vec<String> {
        self.connectors.lock().await.keys().cloned().collect()
    }

    /// The config with secrets masked.
    pub async fn config(&self, name: &str) -> Result<BTreeMap<String, String>, HerderError> {
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        Ok(masked(&c.raw.props))
    }

    /// `GET /connectors/{name}`.
    pub async fn info(&self, name: &str) -> Result<Json, HerderError> {
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        Ok(info_json(name, c))
    }

    /// `GET /connectors/{name}/status`.
    pub async fn status(&self, name: &str) -> Result<Json, HerderError> {
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        Ok(self.status_json(name, c))
    }

    pub async fn task_status(&self, name: &str, task: u32) -> Result<Json, HerderError> {
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        if task != 0 || c.target == TargetState::Stopped {
            return Err(HerderError::NotFound(format!("{name} task {task}")));
        }
        Ok(self.task_json(c))
    }

    fn task_json(&self, c: &Connector) -> Json {
        let state = lock_state(&c.state).clone();
        let mut t = json!({"id": 0, "state": state.name(), "worker_id": self.worker_id});
        if let TaskState::Failed(trace) = state {
            t["trace"] = Json::String(trace);
        }
        t
    }

    fn status_json(&self, name: &str, c: &Connector) -> Json {
        let connector_state = match c.target {
            TargetState::Started => "RUNNING",
            TargetState::Paused => "PAUSED",
            TargetState::Stopped => "STOPPED",
        };
        let tasks = if c.target == TargetState::Stopped {
            vec![]
        } else {
            vec![self.task_json(c)]
        };
        json!({
            "name": name,
            "connector": {"state": connector_state, "worker_id": self.worker_id},
            "tasks": tasks,
            "type": "source",
        })
    }

    /// `GET /connectors?expand=status&expand=info`.
    pub async fn expanded(&self, status: bool, info: bool) -> Json {
        let map = self.connectors.lock().await;
        let mut out = serde_json::Map::new();
        for (name, c) in map.iter() {
            let mut entry = serde_json::Map::new();
            if status {
                entry.insert("status".into(), self.status_json(name, c));
            }
            if info {
                entry.insert("info".into(), info_json(name, c));
            }
            out.insert(name.clone(), Json::Object(entry));
        }
        Json::Object(out)
    }

    pub async fn topics(&self, name: &str) -> Result<Vec<String>, HerderError> {
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        let topics = c.stats.topics.lock().unwrap_or_else(|e| e.into_inner());
        Ok(topics.iter().cloned().collect())
    }

    pub async fn reset_topics(&self, name: &str) -> Result<(), HerderError> {
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        c.stats
            .topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(())
    }

    pub async fn offsets(&self, name: &str) -> Result<Vec<SourceOffset>, HerderError> {
        if !self.connectors.lock().await.contains_key(name) {
            return Err(HerderError::NotFound(name.to_owned()));
        }
        self.offsets
            .list(name)
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))
    }

    /// KIP-875: offsets change only while the connector is STOPPED. `None` resets them all.
    pub async fn alter_offsets(
        &self,
        name: &str,
        offsets: Option<Vec<SourceOffset>>,
    ) -> Result<(), HerderError> {
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        if c.target != TargetState::Stopped || c.handle.as_ref().is_some_and(|h| !h.is_finished()) {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        let result = match offsets {
            None => self.offsets.clear(name).await,
            Some(list) => {
                let mut r = Ok(());
                for o in list {
                    r = self.offsets.commit(name, &o).await;
                    if r.is_err() {
                        break;
                    }
                }
                r
            }
        };
        result.map_err(|e| HerderError::Internal(e.to_string()))
    }

    /// Stops every task (their offsets are committed up to what the sinks made durable).
    pub async fn shutdown(&self) {
        let mut map = self.connectors.lock().await;
        for c in map.values_mut() {
            c.shutdown().await;
        }
    }
}

impl Connector {
    fn new(raw: RawConfig, target: TargetState) -> Self {
        Connector {
            raw,
            target,
            state: Arc::new(StdMutex::new(TaskState::Unassigned)),
            control: None,
            handle: None,
            stats: Arc::new(TaskStats::default()),
        }
    }

    async fn shutdown(&mut self) {
        if let Some(tx) = self.control.take() {
            let _ = tx.send(TaskControl::Stop);
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

fn info_json(name: &str, c: &Connector) -> Json {
    let tasks = if c.target == TargetState::Stopped {
        json!([])
    } else {
        json!([{"connector": name, "task": 0}])
    };
    json!({"name": name, "config": masked(&c.raw.props), "tasks": tasks, "type": "source"})
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

/// Connect's per-connector `topic.creation.default.*` (KIP-158); invalid numbers were
/// already refused by validation.
pub fn topic_defaults(raw: &RawConfig) -> Option<TopicDefaults> {
    let int = |k: &str| raw.get(k).and_then(|v| v.trim().parse::<i32>().ok());
    let (p, r) = (
        int("topic.creation.default.partitions"),
        int("topic.creation.default.replication.factor"),
    );
    (p.is_some() || r.is_some()).then(|| TopicDefaults {
        partitions: p.unwrap_or(1),
        replication_factor: r.unwrap_or(1),
    })
}
