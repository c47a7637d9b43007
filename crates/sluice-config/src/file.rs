//! Kafka's `org.apache.kafka.connect.file.FileStreamSinkConnector`: each record's value, as
//! Java prints it, one line per record, appended to a file (standard output when unset).

use std::path::PathBuf;

use crate::def::{ConfigKey, Importance, KeyType};
use crate::keys::KeyReader;

pub static KEYS: &[ConfigKey] = &[ConfigKey::new(
    "file",
    KeyType::String,
    Importance::High,
    "File",
    "Destination filename. If not specified, the standard output will be used",
)];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSinkConfig {
    /// `None`: standard output.
    pub file: Option<PathBuf>,
}

impl FileSinkConfig {
    pub(crate) fn read(r: &mut KeyReader<'_>) -> Self {
        FileSinkConfig {
            file: r.get("file").map(PathBuf::from),
        }
    }
}
