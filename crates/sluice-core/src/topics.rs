//! Local topics, the embedded default when no Kafka is configured: each topic is an
//! append-only log `<data-dir>/topics/<topic>/partition-0.jsonl` of one JSON object per record
//! (`topic, partition, offset, timestamp, key, value, headers`), key and value embedded exactly
//! as the JSON converter produced them. A torn last line (kill -9 mid-write) is cut on open;
//! `sync` fsyncs every file written since the last sync before offsets may be committed.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::json::{write_str, JsonConverter};
use crate::record::{Header, ProducerRecord, RecordPosition, SourceRecord};

const PARTITION_FILE: &str = "partition-0.jsonl";

#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error("local topic file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("invalid topic name {0:?}: Kafka topic names use only letters, digits, '.', '_' and '-' (at most 249 characters)")]
    InvalidName(String),
    #[error("local topic {0:?} does not exist (see `sluice topics list`)")]
    NotFound(String),
}

pub fn validate_topic_name(name: &str) -> Result<(), TopicError> {
    let ok = !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(TopicError::InvalidName(name.to_owned()))
    }
}

/// Writes records into local topics.
pub struct LocalTopics {
    dir: PathBuf,
    logs: HashMap<String, TopicLog>,
}

struct TopicLog {
    path: PathBuf,
    file: File,
    /// Lines are encoded straight into this buffer (no intermediate copy) and written out
    /// when it is large or on `sync`.
    buf: Vec<u8>,
    next_offset: i64,
    dirty: bool,
}

const WRITE_AT: usize = 1 << 20;

impl LocalTopics {
    pub fn open(data_dir: &Path) -> Result<Self, TopicError> {
        let dir = data_dir.join("topics");
        fs::create_dir_all(&dir).map_err(|source| TopicError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(LocalTopics {
            dir,
            logs: HashMap::new(),
        })
    }

    /// Appends one record (buffered; durable only after `sync`).
    pub fn append(&mut self, record: &ProducerRecord) -> Result<RecordPosition, TopicError> {
        self.append_with(&record.topic, |out, offset| {
            encode_line(out, record, 0, Some(offset))
        })
    }

    /// Appends one record converted straight into the topic's buffer, without building the
    /// key and value bytes first.
    pub fn append_converted(
        &mut self,
        record: &SourceRecord,
        key: &JsonConverter,
        value: &JsonConverter,
    ) -> Result<RecordPosition, TopicError> {
        self.append_with(&record.topic, |out, offset| {
            let line = Line {
                topic: &record.topic,
                partition: 0,
                offset: Some(offset),
                timestamp_ms: record.timestamp_ms,
                headers: &record.headers,
            };
            line.encode(
                out,
                |out| match &record.key {
                    Some(data) => key.serialize_into(out, data),
                    None => out.extend_from_slice(b"null"),
                },
                |out| match &record.value {
                    Some(data) => value.serialize_into(out, data),
                    None => out.extend_from_slice(b"null"),
                },
            )
        })
    }

    fn append_with(
        &mut self,
        topic: &str,
        encode: impl FnOnce(&mut Vec<u8>, i64),
    ) -> Result<RecordPosition, TopicError> {
        if !self.logs.contains_key(topic) {
            validate_topic_name(topic)?;
            let log = TopicLog::open(&self.dir.join(topic))?;
            self.logs.insert(topic.to_owned(), log);
        }
        let Some(log) = self.logs.get_mut(topic) else {
            return Err(TopicError::NotFound(topic.to_owned()));
        };
        let offset = log.next_offset;
        encode(&mut log.buf, offset);
        log.buf.push(b'\n');
        if log.buf.len() >= WRITE_AT {
            log.write_out()?;
        }
        log.next_offset += 1;
        log.dirty = true;
        Ok(RecordPosition {
            partition: 0,
            offset: Some(offset),
        })
    }

    /// Flushes and fsyncs every topic written since the last sync.
    pub fn sync(&mut self) -> Result<(), TopicError> {
        self.start_sync()?.wait()
    }

    /// Writes out every topic written since the last sync and returns what fsyncs them, so the
    /// fsync can run elsewhere while appends go on (it covers what was written before).
    pub fn start_sync(&mut self) -> Result<PendingSync, TopicError> {
        let mut files = Vec::new();
        for log in self.logs.values_mut().filter(|l| l.dirty) {
            log.write_out()?;
            let file = log.file.try_clone().map_err(|source| TopicError::Io {
                path: log.path.clone(),
                source,
            })?;
            files.push((log.path.clone(), file));
            log.dirty = false;
        }
        Ok(PendingSync { files })
    }
}

/// Files written out and not yet fsynced (`LocalTopics::start_sync`).
pub struct PendingSync {
    files: Vec<(PathBuf, File)>,
}

impl PendingSync {
    pub fn wait(self) -> Result<(), TopicError> {
        for (path, file) in self.files {
            file.sync_data()
                .map_err(|source| TopicError::Io { path, source })?;
        }
        Ok(())
    }
}

impl TopicLog {
    fn write_out(&mut self) -> Result<(), TopicError> {
        self.file
            .write_all(&self.buf)
            .map_err(|source| TopicError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.buf.clear();
        Ok(())
    }

    fn open(dir: &Path) -> Result<Self, TopicError> {
        let path = dir.join(PARTITION_FILE);
        let io = |source| TopicError::Io {
            path: path.clone(),
            source,
        };
        let new_dir = !dir.exists();
        fs::create_dir_all(dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        if new_dir {
            // The directory entry must survive a crash too, or the topic vanishes.
            File::open(dir.parent().unwrap_or(dir))
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        let (valid_len, last_line) = last_complete_line(&mut file).map_err(io)?;
        if file.metadata().map_err(io)?.len() != valid_len {
            file.set_len(valid_len).map_err(io)?;
            file.sync_data().map_err(io)?;
        }
        let next_offset = match last_line {
            Some(line) => line_offset(&line).map(|o| o + 1).ok_or_else(|| {
                io(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "last record has no offset",
                ))
            })?,
            None => 0,
        };
        Ok(TopicLog {
            path,
            file,
            buf: Vec::with_capacity(WRITE_AT + 64 * 1024),
            next_offset,
            dirty: false,
        })
    }
}

/// Length of the file up to its last newline, and the last complete line.
fn last_complete_line(file: &mut File) -> io::Result<(u64, Option<Vec<u8>>)> {
    let len = file.metadata()?.len();
    let Some(last_nl) = rfind_newline(file, len)? else {
        return Ok((0, None));
    };
    let start = rfind_newline(file, last_nl)?.map_or(0, |p| p + 1);
    let mut line = vec![0; (last_nl - start) as usize];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut line)?;
    Ok((last_nl + 1, Some(line)))
}

/// Position of the last newline before byte `end`, scanning backwards in chunks.
fn rfind_newline(file: &mut File, end: u64) -> io::Result<Option<u64>> {
    let mut pos = end;
    let mut buf = vec![0; 64 * 1024];
    while pos > 0 {
        let n = (buf.len() as u64).min(pos) as usize;
        pos -= n as u64;
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(Some(pos + i as u64));
        }
    }
    Ok(None)
}

fn line_offset(line: &[u8]) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Line {
        offset: i64,
    }
    serde_json::from_slice::<Line>(line).ok().map(|l| l.offset)
}

/// One record as a local-topic (and `--stdout`) JSON line, without the newline. Key and value
/// are the JSON converter's bytes embedded as they are.
pub fn encode_line(
    out: &mut Vec<u8>,
    record: &ProducerRecord,
    partition: i32,
    offset: Option<i64>,
) {
    let line = Line {
        topic: &record.topic,
        partition,
        offset,
        timestamp_ms: record.timestamp_ms,
        headers: &record.headers,
    };
    line.encode(
        out,
        |out| embed(out, record.key.as_deref()),
        |out| embed(out, record.value.as_deref()),
    );
}

/// The parts of a line around the key and value.
struct Line<'a> {
    topic: &'a str,
    partition: i32,
    offset: Option<i64>,
    timestamp_ms: i64,
    headers: &'a [Header],
}

impl Line<'_> {
    fn encode(
        &self,
        out: &mut Vec<u8>,
        key: impl FnOnce(&mut Vec<u8>),
        value: impl FnOnce(&mut Vec<u8>),
    ) {
        out.extend_from_slice(b"{\"topic\":");
        write_str(out, self.topic);
        let mut n = itoa::Buffer::new();
        out.extend_from_slice(b",\"partition\":");
        out.extend_from_slice(n.format(self.partition).as_bytes());
        out.extend_from_slice(b",\"offset\":");
        match self.offset {
            Some(o) => out.extend_from_slice(n.format(o).as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"timestamp\":");
        out.extend_from_slice(n.format(self.timestamp_ms).as_bytes());
        out.extend_from_slice(b",\"key\":");
        key(out);
        out.extend_from_slice(b",\"value\":");
        value(out);
        out.extend_from_slice(b",\"headers\":[");
        for (i, h) in self.headers.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"key\":");
            write_str(out, &h.key);
            out.extend_from_slice(b",\"value\":");
            match &h.value {
                Some(v) => write_str(out, &String::from_utf8_lossy(v)),
                None => out.extend_from_slice(b"null"),
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
    }
}

fn embed(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        Some(b) => out.extend_from_slice(b),
        None => out.extend_from_slice(b"null"),
    }
}

/// Names of the local topics under a data dir, sorted.
pub fn list_topics(data_dir: &Path) -> Result<Vec<String>, TopicError> {
    let dir = data_dir.join("topics");
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(TopicError::Io { path: dir, source }),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join(PARTITION_FILE).exists())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

/// Reads a local topic's complete lines from a byte position; used by `topics tail` and tests.
pub struct TopicReader {
    path: PathBuf,
    file: File,
    pending: Vec<u8>,
}

impl TopicReader {
    pub fn open(data_dir: &Path, topic: &str, from_beginning: bool) -> Result<Self, TopicError> {
        validate_topic_name(topic)?;
        let path = data_dir.join("topics").join(topic).join(PARTITION_FILE);
        let mut file = File::open(&path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => TopicError::NotFound(topic.to_owned()),
            _ => TopicError::Io {
                path: path.clone(),
                source,
            },
        })?;
        if !from_beginning {
            file.seek(SeekFrom::End(0))
                .map_err(|source| TopicError::Io {
                    path: path.clone(),
                    source,
                })?;
        }
        Ok(TopicReader {
            path,
            file,
            pending: Vec::new(),
        })
    }

    /// The complete lines appended since the last call (a line still being written waits).
    pub fn read_lines(&mut self) -> Result<Vec<Vec<u8>>, TopicError> {
        let mut buf = Vec::new();
        self.file
            .read_to_end(&mut buf)
            .map_err(|source| TopicError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.pending.extend_from_slice(&buf);
        let mut lines = Vec::new();
        let mut start = 0;
        while let Some(i) = self.pending[start..].iter().position(|&b| b == b'\n') {
            lines.push(self.pending[start..start + i].to_vec());
            start += i + 1;
        }
        self.pending.drain(..start);
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(topic: &str, v: &str) -> ProducerRecord {
        ProducerRecord {
            topic: topic.into(),
            key: Some(br#"{"id":1}"#.to_vec()),
            value: if v.is_empty() {
                None
            } else {
                Some(v.as_bytes().to_vec())
            },
            timestamp_ms: 5,
            headers: vec![],
        }
    }

    #[test]
    fn append_sync_reopen_continues_offsets_and_cuts_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut topics = LocalTopics::open(dir.path()).unwrap();
        for i in 0..3 {
            let pos = topics
                .append(&rec("srv.public.t", &format!("{{\"n\":{i}}}")))
                .unwrap();
            assert_eq!(pos.offset, Some(i));
        }
        topics.append(&rec("srv.public.t", "")).unwrap();
        topics.sync().unwrap();
        drop(topics);
        let path = dir.path().join("topics/srv.public.t").join(PARTITION_FILE);
        // A torn write from a crash: half a line with no newline.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"topic\":\"srv.public.t\",\"partition\":0,\"off")
            .unwrap();
        drop(f);

        let mut topics = LocalTopics::open(dir.path()).unwrap();
        assert_eq!(
            topics.append(&rec("srv.public.t", "{}")).unwrap().offset,
            Some(4)
        );
        topics.sync().unwrap();
        let mut reader = TopicReader::open(dir.path(), "srv.public.t", true).unwrap();
        let lines = reader.read_lines().unwrap();
        assert_eq!(lines.len(), 5);
        assert_eq!(
            String::from_utf8(lines[0].clone()).unwrap(),
            r#"{"topic":"srv.public.t","partition":0,"offset":0,"timestamp":5,"key":{"id":1},"value":{"n":0},"headers":[]}"#
        );
        assert!(String::from_utf8(lines[3].clone())
            .unwrap()
            .contains(r#""value":null"#));
        assert_eq!(
            list_topics(dir.path()).unwrap(),
            vec!["srv.public.t".to_string()]
        );
    }

    #[test]
    fn long_lines_across_chunks_are_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let mut topics = LocalTopics::open(dir.path()).unwrap();
        let big = format!("{{\"s\":\"{}\"}}", "x".repeat(200_000));
        for _ in 0..3 {
            topics.append(&rec("big", &big)).unwrap();
        }
        topics.sync().unwrap();
        drop(topics);
        let mut topics = LocalTopics::open(dir.path()).unwrap();
        assert_eq!(topics.append(&rec("big", "{}")).unwrap().offset, Some(3));
    }

    #[test]
    fn bad_topic_names_are_refused() {
        assert!(validate_topic_name("../etc").is_err());
        assert!(validate_topic_name("a/b").is_err());
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name("__debezium-heartbeat.pagila").is_ok());
    }
}
