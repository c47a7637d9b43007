//! Persisted connector configs and target states, so a restarted worker runs the same
//! connectors in the same states. Standalone: one JSON file per connector under
//! `<data-dir>/connectors/`, replaced atomically. With Kafka: Connect's `connect-configs`
//! topic (keys `connector-<name>`, `target-state-<name>`), and task status written to
//! `connect-status` as Connect does.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sluice_config::worker::InternalTopicConfig;
use sluice_core::error::{chain, ConnectorError};
use sluice_core::offsets::replace_durably;
use sluice_kafka::{InternalTopic, KafkaConnection, TopicDefaults};

/// Connect's target state of a connector: what the operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TargetState {
    Started,
    Paused,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredConnector {
    pub name: String,
    pub config: BTreeMap<String, String>,
    pub target_state: TargetState,
}

#[derive(Debug, thiserror::Error)]
#[error("connector store {path}: {reason}")]
pub struct StoreError {
    pub path: PathBuf,
    pub reason: String,
}

/// Where connector configs and states live.
pub enum ConfigStore {
    File(FileStore),
    Kafka {
        configs: InternalTopic,
        status: InternalTopic,
    },
}

impl ConfigStore {
    pub fn file(data_dir: &Path) -> Result<Self, StoreError> {
        Ok(ConfigStore::File(FileStore::open(data_dir)?))
    }

    pub async fn kafka(
        conn: &KafkaConnection,
        configs: &InternalTopicConfig,
        status: &InternalTopicConfig,
    ) -> Result<Self, StoreError> {
        let open = |t: &InternalTopicConfig| {
            let t = t.clone();
            async move {
                let settings = TopicDefaults {
                    partitions: t.partitions,
                    replication_factor: t.replication_factor,
                };
                InternalTopic::open(conn, &t.name, settings)
                    .await
                    .map_err(|e| StoreError {
                        path: PathBuf::from(format!("kafka://{}/{}", conn.bootstrap, t.name)),
                        reason: chain(&e),
                    })
            }
        };
        Ok(ConfigStore::Kafka {
            configs: open(configs).await?,
            status: open(status).await?,
        })
    }

    pub async fn load_all(&self) -> Result<Vec<StoredConnector>, StoreError> {
        let records = match self {
            ConfigStore::File(f) => return f.load_all(),
            ConfigStore::Kafka { configs, .. } => configs.read_all().await.map_err(kafka_err)?,
        };
        let mut out: Vec<StoredConnector> = Vec::new();
        for (key, value) in &records {
            let key = String::from_utf8_lossy(key);
            let Some(name) = key.strip_prefix("connector-") else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_slice(value).unwrap_or_default();
            let Ok(config) =
                serde_json::from_value::<BTreeMap<String, String>>(v["properties"].clone())
            else {
                continue;
            };
            let target = records
                .iter()
                .find(|(k, _)| k.as_slice() == format!("target-state-{name}").as_bytes())
                .and_then(|(_, v)| serde_json::from_slice::<serde_json::Value>(v).ok())
                .and_then(|v| serde_json::from_value(v["state.v2"].clone()).ok())
                .unwrap_or(TargetState::Started);
            out.push(StoredConnector {
                name: name.to_owned(),
                config,
                target_state: target,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub async fn put(&self, c: &StoredConnector) -> Result<(), StoreError> {
        match self {
            ConfigStore::File(f) => f.put(c),
            ConfigStore::Kafka { configs, .. } => {
                let config = serde_json::json!({"properties": c.config}).to_string();
                configs
                    .put(
                        format!("connector-{}", c.name).as_bytes(),
                        Some(config.as_bytes()),
                    )
                    .await
                    .map_err(kafka_err)?;
                let state =
                    serde_json::json!({"state": c.target_state, "state.v2": c.target_state})
                        .to_string();
                configs
                    .put(
                        format!("target-state-{}", c.name).as_bytes(),
                        Some(state.as_bytes()),
                    )
                    .await
                    .map_err(kafka_err)
            }
        }
    }

    pub async fn remove(&self, name: &str) -> Result<(), StoreError> {
        match self {
            ConfigStore::File(f) => f.remove(name),
            ConfigStore::Kafka { configs, .. } => {
                configs
                    .put(format!("connector-{name}").as_bytes(), None)
                    .await
                    .map_err(kafka_err)?;
                configs
                    .put(format!("target-state-{name}").as_bytes(), None)
                    .await
                    .map_err(kafka_err)
            }
        }
    }

    /// Records a state change in `connect-status` (Kafka only; standalone status lives in memory).
    pub async fn put_status(&self, key: &str, state: &str, trace: Option<&str>, worker_id: &str) {
        if let ConfigStore::Kafka { status, .. } = self {
            let value = serde_json::json!({"state": state, "trace": trace, "worker_id": worker_id, "generation": 0});
            if let Err(e) = status
                .put(key.as_bytes(), Some(value.to_string().as_bytes()))
                .await
            {
                tracing::warn!("cannot record status {key}={state}: {}", chain(&e));
            }
        }
    }
}

fn kafka_err(e: ConnectorError) -> StoreError {
    StoreError {
        path: PathBuf::from("kafka"),
        reason: chain(&e),
    }
}

/// The standalone store.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let dir = data_dir.join("connectors");
        fs::create_dir_all(&dir).map_err(|e| StoreError {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        Ok(FileStore { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        // Names are free text in Connect; hex keeps any name a safe, unique file name.
        let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.json"))
    }

    pub fn load_all(&self) -> Result<Vec<StoredConnector>, StoreError> {
        let err = |path: &Path, reason: String| StoreError {
            path: path.to_owned(),
            reason,
        };
        let mut out = Vec::new();
        let entries = fs::read_dir(&self.dir).map_err(|e| err(&self.dir, e.to_string()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = fs::read(&path).map_err(|e| err(&path, e.to_string()))?;
            let stored: StoredConnector = serde_json::from_slice(&text).map_err(|e| {
                err(
                    &path,
                    format!(
                        "not a valid connector record ({e}); move it away to forget the connector"
                    ),
                )
            })?;
            out.push(stored);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub fn put(&self, c: &StoredConnector) -> Result<(), StoreError> {
        let path = self.path(&c.name);
        let err = |e: std::io::Error| StoreError {
            path: path.clone(),
            reason: e.to_string(),
        };
        let bytes = serde_json::to_vec_pretty(c).map_err(|e| err(std::io::Error::other(e)))?;
        replace_durably(&path, &bytes).map_err(err)
    }

    pub fn remove(&self, name: &str) -> Result<(), StoreError> {
        let path = self.path(name);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError {
                path,
                reason: e.to_string(),
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_load_remove() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let c = StoredConnector {
            name: "a/b c".into(),
            config: [("k".to_string(), "v".to_string())].into(),
            target_state: TargetState::Paused,
        };
        store.put(&c).unwrap();
        assert_eq!(
            FileStore::open(dir.path()).unwrap().load_all().unwrap(),
            vec![c.clone()]
        );
        store.remove("a/b c").unwrap();
        assert!(store.load_all().unwrap().is_empty());
    }
}
