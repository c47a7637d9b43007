//! Local topics, the embedded default when no Kafka is configured: each topic is an
//! append-only log `<data-dir>/topics/<topic>/partition-0.jsonl` of one JSON object per record
//! (`topic, partition, offset, timestamp, key, value, headers`), key and value embedded exactly
//! as the JSON converter produced them. A torn last line (kill -9 mid-write) is cut on open;
//! `sync` fsyncs every file written since the last sync before offsets may be committed.
//!
//! Readers (sink connectors) see only what is durable: after each fsync the writer records the
//! synced length in `partition-0.durable`, and a reader never reads past it. Otherwise a sink
//! could commit a position in records that a crash then erases and the source writes again at
//! other offsets, and the sink would skip them.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use std::sync::Arc;
use std::time::{Duration, Instant};

use regex::Regex;

use crate::error::{io_is_transient, ConnectorError};
use crate::json::{write_str, Converter, JsonConverter};
use crate::pipeline::Source;
use crate::record::{
    Consumed, EncodedBatch, EncodedRecord, Header, ProducerRecord, Record, RecordPosition,
    SourceBatch, SourceOffset, Unconverted, Written,
};
use crate::sink::{Durable, Sink};

const PARTITION_FILE: &str = "partition-0.jsonl";
const DURABLE_FILE: &str = "partition-0.durable";

#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error("local topic file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("invalid topic name {0:?}: Kafka topic names use only letters, digits, '.', '_' and '-' (at most 249 characters)")]
    InvalidName(String),
    #[error("local topic {0:?} does not exist (see `sluice topics list`)")]
    NotFound(String),
    #[error("cannot convert a record for topic {topic}: {reason}")]
    Convert { topic: String, reason: String },
    #[error("local topic file {path} line {line}: {reason}")]
    Corrupt {
        path: PathBuf,
        line: i64,
        reason: String,
    },
}

impl From<TopicError> for ConnectorError {
    fn from(e: TopicError) -> Self {
        match &e {
            // A full disk or a vanished mount may come back; the task retries.
            TopicError::Io { source, .. } if io_is_transient(source) => {
                ConnectorError::transient(e)
            }
            _ => ConnectorError::permanent(e),
        }
    }
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

/// 128 KiB: small enough that the lines just encoded are still in the core's cache when the
/// kernel copies them into the page cache (1 MiB cost about 10 % more CPU per snapshot row).
const WRITE_AT: usize = 128 << 10;

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
    /// key and value bytes first. Converters that do not write JSON (byte arrays, strings)
    /// are stored as JSON strings.
    pub fn append_converted(
        &mut self,
        record: &Record,
        key: &Converter,
        value: &Converter,
    ) -> Result<RecordPosition, TopicError> {
        if !key.writes_json() || !value.writes_json() {
            let bytes =
                crate::sink::convert(record, key, value).map_err(|e| TopicError::Convert {
                    topic: record.topic.clone(),
                    reason: e.to_string(),
                })?;
            return self.append(&bytes);
        }
        self.append_with(&record.topic, |out, offset| {
            let line = Line {
                topic: &record.topic,
                partition: 0,
                offset: Some(offset),
                timestamp_ms: record.timestamp_ms,
                headers: &record.headers,
            };
            // JSON converters cannot fail.
            line.encode(
                out,
                |out| match &record.key {
                    Some(data) => {
                        let _ = key.serialize_into(out, data);
                    }
                    None => out.extend_from_slice(b"null"),
                },
                |out| match &record.value {
                    Some(data) => {
                        let _ = value.serialize_into(out, data);
                    }
                    None => out.extend_from_slice(b"null"),
                },
            )
        })
    }

    /// Appends a batch of records the source encoded itself, each one line exactly as
    /// `append_converted` writes the same record. Runs of one topic share one log lookup.
    pub fn append_encoded(
        &mut self,
        batch: &EncodedBatch,
        key: JsonConverter,
        value: JsonConverter,
        positions: &mut Vec<RecordPosition>,
    ) -> Result<(), TopicError> {
        let mut records = batch.records.iter().peekable();
        while let Some(first) = records.peek().copied() {
            let topic = &batch.topics[first.topic as usize].topic;
            let log = self.log(topic)?;
            while let Some(r) = records.next_if(|r| r.topic == first.topic) {
                let offset = log.next_offset;
                encoded_line(&mut log.buf, batch, r, key, value, 0, Some(offset));
                log.buf.push(b'\n');
                if log.buf.len() >= WRITE_AT {
                    log.write_out()?;
                }
                log.next_offset += 1;
                log.dirty = true;
                positions.push(RecordPosition {
                    partition: 0,
                    offset: Some(offset),
                });
            }
        }
        Ok(())
    }

    fn log(&mut self, topic: &str) -> Result<&mut TopicLog, TopicError> {
        if !self.logs.contains_key(topic) {
            validate_topic_name(topic)?;
            let log = TopicLog::open(&self.dir.join(topic))?;
            self.logs.insert(topic.to_owned(), log);
        }
        self.logs
            .get_mut(topic)
            .ok_or_else(|| TopicError::NotFound(topic.to_owned()))
    }

    fn append_with(
        &mut self,
        topic: &str,
        encode: impl FnOnce(&mut Vec<u8>, i64),
    ) -> Result<RecordPosition, TopicError> {
        let log = self.log(topic)?;
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
            let len = file.metadata().map_err(|source| TopicError::Io {
                path: log.path.clone(),
                source,
            })?;
            files.push((log.path.clone(), file, len.len()));
            log.dirty = false;
        }
        Ok(PendingSync { files })
    }
}

/// Files written out and not yet fsynced (`LocalTopics::start_sync`).
pub struct PendingSync {
    files: Vec<(PathBuf, File, u64)>,
}

impl PendingSync {
    pub fn wait(self) -> Result<(), TopicError> {
        for (path, file, len) in self.files {
            file.sync_data().map_err(|source| TopicError::Io {
                path: path.clone(),
                source,
            })?;
            mark_durable(&path, len)?;
        }
        Ok(())
    }
}

/// Records that a topic file is durable up to `len` bytes. Written after the fsync of those
/// bytes, so whatever a crash leaves in it never exceeds what is on disk; it is not fsynced
/// itself (a stale value only holds readers back).
fn mark_durable(data_path: &Path, len: u64) -> Result<(), TopicError> {
    let path = data_path.with_file_name(DURABLE_FILE);
    let io = |source| TopicError::Io {
        path: path.clone(),
        source,
    };
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    // Fixed width, one write: a reader never sees half a number.
    f.write_all(format!("{len:020}").as_bytes()).map_err(io)
}

/// How many bytes of a topic file are durable (0 when not recorded yet).
fn durable_len(dir: &Path) -> u64 {
    fs::read_to_string(dir.join(DURABLE_FILE))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
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
        }
        // Complete lines a crashed writer left unsynced are kept: make them durable now.
        if durable_len(dir) != valid_len {
            file.sync_data().map_err(io)?;
            mark_durable(&path, valid_len)?;
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

/// One record of an encoded batch as a local-topic line (without the newline): the same bytes
/// `append_converted` writes for the record, the payloads wrapped by the converters.
pub fn encoded_line(
    out: &mut Vec<u8>,
    batch: &EncodedBatch,
    r: &EncodedRecord,
    key: JsonConverter,
    value: JsonConverter,
    partition: i32,
    offset: Option<i64>,
) {
    let topic = &batch.topics[r.topic as usize];
    let line = Line {
        topic: &topic.topic,
        partition,
        offset,
        timestamp_ms: r.timestamp_ms,
        headers: &[],
    };
    line.encode(
        out,
        |out| match batch.key(r) {
            Some(p) => key.write_payload(out, topic.key_schema.as_deref(), p),
            None => out.extend_from_slice(b"null"),
        },
        |out| match batch.value(r) {
            Some(p) => value.write_payload(out, topic.value_schema.as_deref(), p),
            None => out.extend_from_slice(b"null"),
        },
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

/// The offset the next record of a local topic will get: its record count, as offsets start
/// at 0 and have no gaps. Only durable records count.
pub fn end_offset(data_dir: &Path, topic: &str) -> Result<i64, TopicError> {
    validate_topic_name(topic)?;
    let dir = data_dir.join("topics").join(topic);
    let path = dir.join(PARTITION_FILE);
    let io = |source| TopicError::Io {
        path: path.clone(),
        source,
    };
    let mut file = File::open(&path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => TopicError::NotFound(topic.to_owned()),
        _ => io(source),
    })?;
    let durable = durable_len(&dir).min(file.metadata().map_err(io)?.len());
    let Some(last_nl) = rfind_newline(&mut file, durable).map_err(io)? else {
        return Ok(0);
    };
    let start = rfind_newline(&mut file, last_nl)
        .map_err(io)?
        .map_or(0, |p| p + 1);
    let mut line = vec![0; (last_nl - start) as usize];
    file.seek(SeekFrom::Start(start)).map_err(io)?;
    file.read_exact(&mut line).map_err(io)?;
    line_offset(&line)
        .map(|o| o + 1)
        .ok_or_else(|| TopicError::Corrupt {
            path: path.clone(),
            line: 0,
            reason: "the last record has no offset".into(),
        })
}

/// A source connector's topic sink on local topics: records encoded with the connector's
/// converters straight into the topic buffers.
pub struct LocalTopicSink {
    pub topics: LocalTopics,
    pub key: Converter,
    pub value: Converter,
}

impl Sink for LocalTopicSink {
    async fn write(&mut self, records: &[Record]) -> Result<Written, ConnectorError> {
        let (topics, key, value) = (&mut self.topics, &self.key, &self.value);
        let mut written = Written::default();
        tokio::task::block_in_place(|| {
            for (i, r) in records.iter().enumerate() {
                match topics.append_converted(r, key, value) {
                    Ok(p) => written.positions.push(p),
                    Err(e @ TopicError::Convert { .. }) => {
                        written.positions.push(RecordPosition {
                            partition: 0,
                            offset: None,
                        });
                        written.rejected.push((i, Box::new(e)));
                    }
                    Err(e) => return Err(ConnectorError::from(e)),
                }
            }
            Ok(written)
        })
    }

    async fn write_encoded(&mut self, batch: &EncodedBatch) -> Result<Written, ConnectorError> {
        let (Some(key), Some(value)) = (self.key.as_json(), self.value.as_json()) else {
            return self
                .write(&batch.to_records().map_err(ConnectorError::permanent)?)
                .await;
        };
        let mut written = Written::default();
        written.positions.reserve(batch.len());
        tokio::task::block_in_place(|| {
            self.topics
                .append_encoded(batch, key, value, &mut written.positions)
        })?;
        Ok(written)
    }

    async fn flush(&mut self) -> Result<(), ConnectorError> {
        tokio::task::block_in_place(|| self.topics.sync()).map_err(Into::into)
    }

    async fn start_flush(&mut self) -> Result<Durable, ConnectorError> {
        let pending = tokio::task::block_in_place(|| self.topics.start_sync())?;
        // fsync on a blocking thread: appending goes on meanwhile.
        Ok(Box::pin(async move {
            match tokio::task::spawn_blocking(move || pending.wait()).await {
                Ok(synced) => synced.map_err(Into::into),
                Err(e) => Err(ConnectorError::permanent(format!(
                    "fsync of local topics failed: {e}"
                ))),
            }
        }))
    }
}

/// Which topics a sink connector reads (`topics` or `topics.regex`).
#[derive(Debug, Clone)]
pub enum TopicSelection {
    List(Vec<String>),
    Regex(Regex),
}

impl TopicSelection {
    pub fn matches(&self, topic: &str) -> bool {
        match self {
            TopicSelection::List(l) => l.iter().any(|t| t == topic),
            TopicSelection::Regex(r) => r.is_match(topic),
        }
    }
}

/// A sink connector's reader of local topics: tails each selected topic up to what is
/// durable, from the stored positions (Connect's consumer offsets, `{"kafka_topic",
/// "kafka_partition"}` → `{"kafka_offset"}`), converting lines back into Connect data.
pub struct LocalTopicSource {
    data_dir: PathBuf,
    selection: TopicSelection,
    key: Converter,
    value: Converter,
    /// Stored positions: the next offset to read, per topic.
    start: Vec<SourceOffset>,
    tails: Vec<Tail>,
    last_scan: Option<Instant>,
    max_batch: usize,
}

struct Tail {
    topic: String,
    dir: PathBuf,
    path: PathBuf,
    file: File,
    /// Byte position of the next line.
    pos: u64,
    next_offset: i64,
}

/// How often `topics.regex` looks for new topics.
const TOPIC_SCAN: Duration = Duration::from_secs(2);
/// How long an idle poll waits for new durable records.
const IDLE_WAIT: Duration = Duration::from_millis(200);

impl LocalTopicSource {
    pub fn new(
        data_dir: &Path,
        selection: TopicSelection,
        key: Converter,
        value: Converter,
        start: Vec<SourceOffset>,
        max_batch: usize,
    ) -> Self {
        LocalTopicSource {
            data_dir: data_dir.to_owned(),
            selection,
            key,
            value,
            start,
            tails: Vec::new(),
            last_scan: None,
            max_batch: max_batch.max(1),
        }
    }

    /// Opens tails for selected topics that exist now (a listed topic that does not exist
    /// yet is picked up once its source writes it).
    fn discover(&mut self) -> Result<(), TopicError> {
        if self.last_scan.is_some_and(|t| t.elapsed() < TOPIC_SCAN) {
            return Ok(());
        }
        self.last_scan = Some(Instant::now());
        for topic in list_topics(&self.data_dir)? {
            if !self.selection.matches(&topic) || self.tails.iter().any(|t| t.topic == topic) {
                continue;
            }
            let next = self
                .start
                .iter()
                .filter_map(SourceOffset::as_consumer)
                .find(|(t, p, _)| *t == topic && *p == 0)
                .map_or(0, |(_, _, o)| o);
            let tail = Tail::open(&self.data_dir.join("topics").join(&topic), &topic, next)?;
            tracing::info!(topic, offset = tail.next_offset, "reading local topic");
            self.tails.push(tail);
        }
        Ok(())
    }

    fn read(&mut self) -> Result<SourceBatch, TopicError> {
        self.discover()?;
        let mut batch = SourceBatch::default();
        for tail in &mut self.tails {
            let before = tail.next_offset;
            let room = self.max_batch.saturating_sub(batch.records.len());
            for consumed in tail.read(room)? {
                let consumed = Arc::new(consumed);
                let key = self.key.deserialize(consumed.record.key.as_deref());
                let value = self.value.deserialize(consumed.record.value.as_deref());
                match (key, value) {
                    (Ok(key), Ok(value)) => batch.records.push(Record {
                        topic: consumed.record.topic.clone(),
                        partition: Some(0),
                        key,
                        value,
                        timestamp_ms: consumed.record.timestamp_ms,
                        headers: consumed.record.headers.clone(),
                        consumed: Some(consumed),
                    }),
                    (Err(e), _) | (_, Err(e)) => batch.unconverted.push(Unconverted {
                        consumed,
                        error: Box::new(e),
                    }),
                }
            }
            if tail.next_offset != before {
                batch
                    .offsets
                    .push(SourceOffset::consumer(&tail.topic, 0, tail.next_offset));
            }
        }
        batch.caught_up = batch.records.len() + batch.unconverted.len() < self.max_batch;
        Ok(batch)
    }
}

impl Source for LocalTopicSource {
    async fn poll(&mut self) -> Result<SourceBatch, ConnectorError> {
        let deadline = Instant::now() + IDLE_WAIT;
        loop {
            let batch = tokio::task::block_in_place(|| self.read())?;
            if !batch.is_empty() || Instant::now() >= deadline {
                return Ok(batch);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Positions live in the offset store; the files need no release.
    async fn commit(&mut self, _offsets: &[SourceOffset]) -> Result<(), ConnectorError> {
        Ok(())
    }
}

impl Tail {
    fn open(dir: &Path, topic: &str, next_offset: i64) -> Result<Self, TopicError> {
        let path = dir.join(PARTITION_FILE);
        let mut file = File::open(&path).map_err(|source| TopicError::Io {
            path: path.clone(),
            source,
        })?;
        let durable = durable_len(dir);
        let pos =
            seek_offset(&mut file, durable, next_offset).map_err(|source| TopicError::Io {
                path: path.clone(),
                source,
            })?;
        Ok(Tail {
            topic: topic.to_owned(),
            dir: dir.to_owned(),
            path,
            file,
            pos: pos.0,
            next_offset: pos.1.unwrap_or(next_offset),
        })
    }

    /// Up to `max` complete durable records from the current position.
    fn read(&mut self, max: usize) -> Result<Vec<Consumed>, TopicError> {
        let durable = durable_len(&self.dir);
        if durable <= self.pos || max == 0 {
            return Ok(Vec::new());
        }
        let io = |source| TopicError::Io {
            path: self.path.clone(),
            source,
        };
        let want = (durable - self.pos).min(4 << 20) as usize;
        let mut buf = vec![0; want];
        self.file.seek(SeekFrom::Start(self.pos)).map_err(io)?;
        self.file.read_exact(&mut buf).map_err(io)?;
        let mut out = Vec::new();
        let mut start = 0;
        while out.len() < max {
            let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') else {
                break;
            };
            let line = &buf[start..start + nl];
            let consumed = parse_line(line).map_err(|reason| TopicError::Corrupt {
                path: self.path.clone(),
                line: self.next_offset,
                reason,
            })?;
            self.next_offset = consumed.offset + 1;
            out.push(consumed);
            start += nl + 1;
        }
        if out.is_empty() && want == 4 << 20 {
            return Err(TopicError::Corrupt {
                path: self.path.clone(),
                line: self.next_offset,
                reason: "a record longer than 4 MiB".into(),
            });
        }
        self.pos += start as u64;
        Ok(out)
    }
}

/// One local-topic line back into the record bytes it holds.
fn parse_line(line: &[u8]) -> Result<Consumed, String> {
    #[derive(serde::Deserialize)]
    struct HeaderIn {
        key: String,
        value: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct LineIn<'a> {
        topic: String,
        partition: i32,
        offset: i64,
        timestamp: i64,
        #[serde(borrow)]
        key: &'a serde_json::value::RawValue,
        #[serde(borrow)]
        value: &'a serde_json::value::RawValue,
        #[serde(default)]
        headers: Vec<HeaderIn>,
    }
    let l: LineIn = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    let bytes = |raw: &serde_json::value::RawValue| {
        let text = raw.get();
        (text != "null").then(|| text.as_bytes().to_vec())
    };
    Ok(Consumed {
        record: ProducerRecord {
            topic: l.topic,
            key: bytes(l.key),
            value: bytes(l.value),
            timestamp_ms: l.timestamp,
            headers: l
                .headers
                .into_iter()
                .map(|h| Header {
                    key: h.key,
                    value: h.value.map(String::into_bytes),
                })
                .collect(),
        },
        partition: l.partition,
        offset: l.offset,
    })
}

/// The byte position of the first line whose offset is at least `target` (within the first
/// `len` bytes), found by bisection over line starts; with the offset found there, if any.
fn seek_offset(file: &mut File, len: u64, target: i64) -> io::Result<(u64, Option<i64>)> {
    if target <= 0 || len == 0 {
        return Ok((0, None));
    }
    // The offset of the first line starting at or after `p`, and where it starts.
    let mut first_from = |p: u64| -> io::Result<Option<(u64, i64)>> {
        let start = if p == 0 {
            0
        } else {
            match find_newline(file, p - 1, len)? {
                Some(nl) => nl + 1,
                None => return Ok(None),
            }
        };
        if start >= len {
            return Ok(None);
        }
        let Some(end) = find_newline(file, start, len)? else {
            return Ok(None);
        };
        let mut line = vec![0; (end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut line)?;
        Ok(line_offset(&line).map(|o| (start, o)))
    };
    let (mut lo, mut hi) = (0u64, len);
    // Invariant: the first line from `lo` has an offset < target; from `hi`, >= (or none).
    if let Some((start, o)) = first_from(0)? {
        if o >= target {
            return Ok((start, Some(o)));
        }
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match first_from(mid)? {
            Some((_, o)) if o < target => lo = mid,
            _ => hi = mid,
        }
    }
    Ok(match first_from(hi)? {
        Some((start, o)) => (start, Some(o)),
        None => (len, None),
    })
}

/// Position of the first newline at or after `from`, before `len`.
fn find_newline(file: &mut File, from: u64, len: u64) -> io::Result<Option<u64>> {
    let mut pos = from;
    let mut buf = vec![0; 64 * 1024];
    while pos < len {
        let n = (buf.len() as u64).min(len - pos) as usize;
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            return Ok(Some(pos + i as u64));
        }
        pos += n as u64;
    }
    Ok(None)
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

    /// Opens a local topic at the first record whose offset is at least `offset` (at the
    /// end when there is none).
    pub fn open_at(data_dir: &Path, topic: &str, offset: i64) -> Result<Self, TopicError> {
        let mut reader = Self::open(data_dir, topic, true)?;
        let io = |source| TopicError::Io {
            path: reader.path.clone(),
            source,
        };
        let len = reader.file.metadata().map_err(io)?.len();
        let (pos, _) = seek_offset(&mut reader.file, len, offset).map_err(io)?;
        reader.file.seek(SeekFrom::Start(pos)).map_err(io)?;
        Ok(reader)
    }

    /// The complete lines appended since the last call (a line still being written waits).
    pub fn read_lines(&mut self) -> Result<Vec<Vec<u8>>, TopicError> {
        self.read_lines_up_to(u64::MAX)
    }

    /// As [`Self::read_lines`], reading at most about `max_bytes` of the file per call, so a
    /// reader of a large topic never holds all of it in memory.
    pub fn read_lines_up_to(&mut self, max_bytes: u64) -> Result<Vec<Vec<u8>>, TopicError> {
        let mut buf = Vec::new();
        (&mut self.file)
            .take(max_bytes)
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
    fn end_offset_counts_durable_records_and_readers_open_at_an_offset() {
        let dir = tempfile::tempdir().unwrap();
        let mut topics = LocalTopics::open(dir.path()).unwrap();
        for i in 0..10 {
            topics.append(&rec("t", &format!("{{\"n\":{i}}}"))).unwrap();
        }
        topics.sync().unwrap();
        topics.append(&rec("t", "{}")).unwrap();
        assert_eq!(end_offset(dir.path(), "t").unwrap(), 10);
        assert!(matches!(
            end_offset(dir.path(), "missing"),
            Err(TopicError::NotFound(_))
        ));
        let mut reader = TopicReader::open_at(dir.path(), "t", 7).unwrap();
        let lines = reader.read_lines_up_to(50).unwrap();
        assert!(lines.len() < 3, "{} lines from 50 bytes", lines.len());
        let mut all = lines;
        all.extend(reader.read_lines().unwrap());
        let offsets: Vec<i64> = all.iter().filter_map(|l| line_offset(l)).collect();
        // The unsynced record may or may not have reached the file yet.
        assert_eq!(offsets[..3], [7, 8, 9]);
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

    #[tokio::test(flavor = "multi_thread")]
    async fn reader_sees_only_durable_records_and_resumes_at_a_stored_offset() {
        use crate::data::{Data, Schema, SchemaType, Value};
        use crate::json::JsonConverter;
        let dir = tempfile::tempdir().unwrap();
        let conv = Converter::Json(JsonConverter::default());
        let mut sink = LocalTopicSink {
            topics: LocalTopics::open(dir.path()).unwrap(),
            key: conv,
            value: conv,
        };
        let schema = std::sync::Arc::new(Schema::new(SchemaType::Int64));
        let rec =
            |i: i64| Record::new("t", None, Some(Data::new(schema.clone(), Value::Int(i))), i);
        let batch: Vec<Record> = (0..1000).map(rec).collect();
        sink.write(&batch).await.unwrap();
        let read_all = |start: Vec<SourceOffset>| {
            let mut src = LocalTopicSource::new(
                dir.path(),
                TopicSelection::Regex(Regex::new("^t$").unwrap()),
                conv,
                conv,
                start,
                10_000,
            );
            async move {
                let b = src.poll().await.unwrap();
                (b.records, b.offsets)
            }
        };
        // Written but not synced: invisible to readers.
        assert!(read_all(vec![]).await.0.is_empty());
        sink.flush().await.unwrap();
        sink.write(&[rec(1000)]).await.unwrap();
        let (records, offsets) = read_all(vec![]).await;
        assert_eq!(records.len(), 1000);
        assert_eq!(offsets, vec![SourceOffset::consumer("t", 0, 1000)]);
        assert_eq!(records[5].value.as_ref().unwrap().value, Value::Int(5));
        assert_eq!(records[5].kafka_offset(), Some(5));
        for start in [1, 2, 499, 998, 999, 1000, 5000] {
            let (records, _) = read_all(vec![SourceOffset::consumer("t", 0, start)]).await;
            assert_eq!(records.len() as i64, (1000 - start).max(0), "from {start}");
            if let Some(first) = records.first() {
                assert_eq!(first.kafka_offset(), Some(start));
            }
        }
    }
}
