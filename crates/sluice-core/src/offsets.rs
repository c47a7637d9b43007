//! The standalone offset store: one JSON file per connector under `<data-dir>/offsets/`,
//! replaced durably (`replace_durably`) so a kill -9 leaves either the old offsets or the new
//! ones, never a torn file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::record::SourceOffset;

#[derive(Debug, thiserror::Error)]
pub enum OffsetError {
    #[error("offset store {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "offset store {path} is not valid JSON ({source}); move it away to start from scratch"
    )]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
}

#[derive(Debug, Clone)]
pub struct OffsetStore {
    dir: PathBuf,
}

impl OffsetStore {
    pub fn open(data_dir: &Path) -> Result<Self, OffsetError> {
        let dir = data_dir.join("offsets");
        fs::create_dir_all(&dir).map_err(|source| OffsetError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(OffsetStore { dir })
    }

    fn path(&self, connector: &str) -> PathBuf {
        self.dir.join(format!("{}.json", sanitize(connector)))
    }

    /// All stored `(partition, offset)` pairs of a connector.
    pub fn load(&self, connector: &str) -> Result<Vec<SourceOffset>, OffsetError> {
        let path = self.path(connector);
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(OffsetError::Io { path, source }),
        };
        let entries: Vec<Json> = serde_json::from_slice(&text)
            .map_err(|source| OffsetError::Corrupt { path, source })?;
        Ok(entries
            .into_iter()
            .filter_map(|e| {
                Some(SourceOffset {
                    partition: e.get("partition")?.clone(),
                    offset: e.get("offset")?.clone(),
                })
            })
            .collect())
    }

    /// The stored offset for one source partition.
    pub fn get(&self, connector: &str, partition: &Json) -> Result<Option<Json>, OffsetError> {
        Ok(self
            .load(connector)?
            .into_iter()
            .find(|o| &o.partition == partition)
            .map(|o| o.offset))
    }

    /// Durably replaces the offsets of these partitions, keeping the other partitions.
    pub fn commit(&self, connector: &str, offsets: &[SourceOffset]) -> Result<(), OffsetError> {
        let mut all = self.load(connector)?;
        crate::record::merge_offsets(&mut all, offsets.iter().cloned());
        self.write(connector, &all)
    }

    /// Forgets every offset of a connector (it starts from scratch next time).
    pub fn clear(&self, connector: &str) -> Result<(), OffsetError> {
        let path = self.path(connector);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(OffsetError::Io { path, source }),
        }
    }

    fn write(&self, connector: &str, all: &[SourceOffset]) -> Result<(), OffsetError> {
        let path = self.path(connector);
        let io = |source| OffsetError::Io {
            path: path.clone(),
            source,
        };
        let json: Vec<Json> = all
            .iter()
            .map(|o| serde_json::json!({"partition": o.partition, "offset": o.offset}))
            .collect();
        let bytes = serde_json::to_vec(&json).map_err(|e| io(std::io::Error::other(e)))?;
        replace_durably(&path, &bytes).map_err(io)
    }
}

/// Replaces a file so that a crash at any point leaves the old content or the new one:
/// write a temporary file, fsync it, rename it over the old one, fsync the directory.
pub fn replace_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::File::open(dir).and_then(|d| d.sync_all())
}

/// Connector names become file names: keep them readable but never a path.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commit_replaces_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = OffsetStore::open(dir.path()).unwrap();
        let p = json!({"server": "pagila"});
        assert_eq!(store.get("c1", &p).unwrap(), None);
        store
            .commit(
                "c1",
                &[SourceOffset {
                    partition: p.clone(),
                    offset: json!({"lsn": 1}),
                }],
            )
            .unwrap();
        store
            .commit(
                "c1",
                &[SourceOffset {
                    partition: p.clone(),
                    offset: json!({"lsn": 2}),
                }],
            )
            .unwrap();
        let other = json!({"server": "x"});
        store
            .commit(
                "c1",
                &[SourceOffset {
                    partition: other.clone(),
                    offset: json!({"lsn": 9}),
                }],
            )
            .unwrap();
        let reopened = OffsetStore::open(dir.path()).unwrap();
        assert_eq!(reopened.get("c1", &p).unwrap(), Some(json!({"lsn": 2})));
        assert_eq!(reopened.get("c1", &other).unwrap(), Some(json!({"lsn": 9})));
        assert_eq!(reopened.get("c2", &p).unwrap(), None);
        reopened.clear("c1").unwrap();
        assert_eq!(reopened.load("c1").unwrap(), vec![]);
    }

    #[test]
    fn corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = OffsetStore::open(dir.path()).unwrap();
        fs::write(dir.path().join("offsets/c.json"), b"{not json").unwrap();
        let err = store.load("c").unwrap_err().to_string();
        assert!(
            err.contains("not valid JSON") && err.contains("c.json"),
            "{err}"
        );
    }
}
