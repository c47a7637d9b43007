//! Persisted connector configs and target states, so a restarted worker runs the same
//! connectors in the same states. Standalone: one JSON file per connector under
//! `<data-dir>/connectors/`, replaced atomically.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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

#[derive(Debug, Clone)]
pub struct ConfigStore {
    dir: PathBuf,
}

impl ConfigStore {
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let dir = data_dir.join("connectors");
        fs::create_dir_all(&dir).map_err(|e| StoreError {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        Ok(ConfigStore { dir })
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
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(c).map_err(|e| err(std::io::Error::other(e)))?;
        let mut f = fs::File::create(&tmp).map_err(err)?;
        f.write_all(&bytes).map_err(err)?;
        f.sync_all().map_err(err)?;
        fs::rename(&tmp, &path).map_err(err)?;
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(err)
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
        let store = ConfigStore::open(dir.path()).unwrap();
        let c = StoredConnector {
            name: "a/b c".into(),
            config: [("k".to_string(), "v".to_string())].into(),
            target_state: TargetState::Paused,
        };
        store.put(&c).unwrap();
        assert_eq!(
            ConfigStore::open(dir.path()).unwrap().load_all().unwrap(),
            vec![c.clone()]
        );
        store.remove("a/b c").unwrap();
        assert!(store.load_all().unwrap().is_empty());
    }
}
