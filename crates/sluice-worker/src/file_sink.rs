//! Kafka's `FileStreamSinkConnector`: every record's value printed as Java prints it, one line
//! each, appended to a file (or standard output). Unlike Connect's, `flush` fsyncs the file,
//! so a committed position never covers lines a crash could lose.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

use sluice_config::file::FileSinkConfig;
use sluice_core::error::{io_is_transient, ConnectorError};
use sluice_core::json::display_value;
use sluice_core::record::{Record, Written};
use sluice_core::sink::Sink;

#[derive(Debug, thiserror::Error)]
#[error("file sink {path}: {source}")]
pub struct FileSinkError {
    path: String,
    source: std::io::Error,
}

pub struct FileSink {
    path: Option<PathBuf>,
    file: Option<File>,
    buf: Vec<u8>,
}

impl FileSink {
    pub fn open(cfg: &FileSinkConfig) -> Result<Self, ConnectorError> {
        let file = match &cfg.file {
            Some(path) => Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| error(Some(path), source))?,
            ),
            None => None,
        };
        Ok(FileSink {
            path: cfg.file.clone(),
            file,
            buf: Vec::new(),
        })
    }

    fn write_out(&mut self) -> Result<(), ConnectorError> {
        let result = match &mut self.file {
            Some(f) => f.write_all(&self.buf),
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(&self.buf).and_then(|_| out.flush())
            }
        };
        result.map_err(|source| error(self.path.as_ref(), source))?;
        self.buf.clear();
        Ok(())
    }
}

fn error(path: Option<&PathBuf>, source: std::io::Error) -> ConnectorError {
    let transient = io_is_transient(&source);
    let e = FileSinkError {
        path: path.map_or_else(|| "stdout".into(), |p| p.display().to_string()),
        source,
    };
    if transient {
        ConnectorError::transient(e)
    } else {
        ConnectorError::permanent(e)
    }
}

impl Sink for FileSink {
    async fn write(&mut self, records: &[Record]) -> Result<Written, ConnectorError> {
        for r in records {
            // `println(record.value())`: a tombstone prints "null".
            let line = match &r.value {
                Some(v) => display_value(v.schema.as_deref(), &v.value),
                None => "null".to_owned(),
            };
            self.buf.extend_from_slice(line.as_bytes());
            self.buf.push(b'\n');
        }
        if self.buf.len() > 1 << 20 {
            tokio::task::block_in_place(|| self.write_out())?;
        }
        Ok(Written::default())
    }

    async fn flush(&mut self) -> Result<(), ConnectorError> {
        tokio::task::block_in_place(|| {
            self.write_out()?;
            if let Some(f) = &self.file {
                f.sync_data()
                    .map_err(|source| error(self.path.as_ref(), source))?;
            }
            Ok(())
        })
    }
}
