//! The S3 sink: Confluent's `S3SinkTask` and `TopicPartitionWriter`. Records of each topic
//! partition go into open files, one per encoded partition, named after the offset of their
//! first record; files rotate together (all of a topic partition's open files) on
//! `flush.size`, `rotate.interval.ms` (record time), `rotate.schedule.interval.ms` (wall
//! clock), a schema change or `partitioner.max.open.files`, and a rotated file is uploaded
//! whole. Open files are never uploaded early and never survive a restart: the sink reports
//! where they start (`Sink::retained`), the driver commits no further, and a restart reads
//! those records again and rewrites the same objects with the same bytes. That is the
//! exactly-once argument, and why rotation may depend on nothing but the records (except the
//! wall-clock rules, which Confluent documents as not exactly-once either).

use std::collections::HashMap;
use std::sync::Arc;

use sluice_config::s3::{NullValues, S3SinkConfig, SchemaCompatibility};
use sluice_core::data::{Data, Schema, SchemaType, Value};
use sluice_core::error::{BoxError, ConnectorError};
use sluice_core::record::{Record, SourceOffset, Written};
use sluice_core::sink::{Durable, Sink};
use tokio::task::JoinSet;

use crate::format::{FileWriter, FormatError, FormatSettings};
use crate::partition::{Partitioner, Zone};
use crate::store::Bucket;

pub struct S3Sink {
    bucket: Bucket,
    cfg: Arc<S3SinkConfig>,
    format: Arc<FormatSettings>,
    partitioner: Partitioner,
    schedule_zone: Zone,
    /// Null values sent to the error policy (`report.null.values.to.dlq` with errors.tolerance=all).
    report_nulls: bool,
    writers: HashMap<(String, i32), PartitionWriter>,
    /// Uploads of rotated files not yet awaited by a flush.
    uploads: JoinSet<Result<(), ConnectorError>>,
}

impl S3Sink {
    /// Opens the bucket and checks it is there (the task fails at once otherwise).
    pub async fn open(cfg: &S3SinkConfig, report_nulls: bool) -> Result<Self, ConnectorError> {
        let partitioner = Partitioner::new(&cfg.partitioner, &cfg.extractor, &cfg.directory_delim)
            .map_err(ConnectorError::permanent)?;
        let schedule_zone = Zone::named(&cfg.timezone).map_err(ConnectorError::permanent)?;
        let bucket = Bucket::open(cfg)?;
        bucket.check(&cfg.topics_dir).await?;
        tracing::info!(bucket = bucket.name(), "S3 sink writing objects");
        Ok(S3Sink {
            bucket,
            cfg: Arc::new(cfg.clone()),
            format: Arc::new(FormatSettings::from_config(cfg)),
            partitioner,
            schedule_zone,
            report_nulls,
            writers: HashMap::new(),
            uploads: JoinSet::new(),
        })
    }

    /// Starts uploading what rotated.
    fn upload(&mut self, files: Vec<(String, Vec<u8>)>) {
        for (key, bytes) in files {
            let bucket = self.bucket.clone();
            tracing::debug!(key, bytes = bytes.len(), "uploading");
            self.uploads
                .spawn(async move { bucket.upload(&key, bytes).await });
        }
    }

    /// Rotations due by the wall clock with no record to trigger them
    /// (`commitOnTimeIfNoData` in Connect's periodic `put` of nothing).
    fn rotate_on_schedule(&mut self, now: i64) -> Result<(), ConnectorError> {
        let mut done = Vec::new();
        for w in self.writers.values_mut() {
            if w.record_count > 0 && w.rotate_on_time(None, None, now, &self.cfg, &self.partitioner)
            {
                w.set_next_scheduled(now, &self.cfg, &self.schedule_zone);
                done.extend(w.commit_files(&self.format)?);
            }
        }
        self.upload(done);
        Ok(())
    }
}

impl Sink for S3Sink {
    async fn write(&mut self, records: &[Record]) -> Result<Written, ConnectorError> {
        let now = now_ms();
        let mut written = Written::default();
        let mut done = Vec::new();
        for w in self.writers.values_mut() {
            // `resetExpiredScheduledRotationIfNoPendingRecords`
            if w.record_count == 0 && w.scheduled_due(now, &self.cfg) {
                w.set_next_scheduled(now, &self.cfg, &self.schedule_zone);
            }
        }
        for (i, r) in records.iter().enumerate() {
            let Some(offset) = r.kafka_offset() else {
                return Err(ConnectorError::permanent(
                    "the S3 sink names objects after the records' topic offsets, and this record has none",
                ));
            };
            if r.value.is_none() {
                match self.cfg.null_values {
                    NullValues::Ignore => {
                        if self.report_nulls {
                            written.rejected.push((i, "Skipping null value record.".into()));
                        }
                        continue;
                    }
                    NullValues::Fail => {
                        return Err(ConnectorError::permanent(format!(
                            "Null valued records are not writeable with current behavior.on.null.values 'settings. (topic {}, partition {}, offset {offset})",
                            r.topic,
                            r.partition.unwrap_or(0)
                        )))
                    }
                }
            }
            let partition = r.partition.unwrap_or(0);
            let (format, partitioner, cfg, zone) = (
                self.format.clone(),
                &self.partitioner,
                self.cfg.clone(),
                &self.schedule_zone,
            );
            let w = self
                .writers
                .entry((r.topic.clone(), partition))
                .or_insert_with(|| PartitionWriter::new(&r.topic, partition, &cfg, zone, now));
            match w.process(r, offset, now, &cfg, &format, partitioner, zone) {
                Ok(files) => done.extend(files),
                Err(Refused::Record(e)) => written.rejected.push((i, e)),
                Err(Refused::Task(e)) => return Err(e),
            }
        }
        self.upload(done);
        // `commitOnTimeIfNoData`: with no record left to trigger it, the wall clock can.
        self.rotate_on_schedule(now)?;
        Ok(written)
    }

    async fn flush(&mut self) -> Result<(), ConnectorError> {
        self.start_flush().await?.await
    }

    /// Every upload started so far; open files stay open (see `retained`).
    async fn start_flush(&mut self) -> Result<Durable, ConnectorError> {
        self.rotate_on_schedule(now_ms())?;
        let mut uploads = std::mem::take(&mut self.uploads);
        Ok(Box::pin(async move {
            while let Some(done) = uploads.join_next().await {
                done.map_err(|e| {
                    ConnectorError::permanent(format!("an upload task failed: {e}"))
                })??;
            }
            Ok(())
        }))
    }

    fn retained(&self) -> Vec<SourceOffset> {
        self.writers
            .values()
            .filter_map(|w| {
                let first = w.files.iter().map(|f| f.start_offset).min()?;
                Some(SourceOffset::consumer(&w.topic, w.partition, first))
            })
            .collect()
    }
}

/// Why a record was not written: the error policy's business, or the task's end.
enum Refused {
    Record(BoxError),
    Task(ConnectorError),
}

impl From<ConnectorError> for Refused {
    fn from(e: ConnectorError) -> Self {
        Refused::Task(e)
    }
}

impl From<FormatError> for Refused {
    fn from(e: FormatError) -> Self {
        match e {
            FormatError::Record(m) => Refused::Record(m.into()),
            FormatError::File(m) => Refused::Task(ConnectorError::permanent(m)),
        }
    }
}

struct OpenFile {
    encoded: String,
    key: String,
    start_offset: i64,
    writer: FileWriter,
}

/// `TopicPartitionWriter`: one topic partition's open files and rotation state.
struct PartitionWriter {
    topic: String,
    partition: i32,
    /// In the order they were opened (Confluent's `commitFiles` is a LinkedHashMap).
    files: Vec<OpenFile>,
    current_schemas: HashMap<String, Option<Arc<Schema>>>,
    record_count: i64,
    base_record_ts: Option<i64>,
    current_ts: Option<i64>,
    current_encoded: Option<String>,
    next_scheduled_rotation: i64,
}

impl PartitionWriter {
    fn new(topic: &str, partition: i32, cfg: &S3SinkConfig, zone: &Zone, now: i64) -> Self {
        let mut w = PartitionWriter {
            topic: topic.to_owned(),
            partition,
            files: Vec::new(),
            current_schemas: HashMap::new(),
            record_count: 0,
            base_record_ts: None,
            current_ts: None,
            current_encoded: None,
            next_scheduled_rotation: i64::MAX,
        };
        w.set_next_scheduled(now, cfg, zone);
        w
    }

    fn scheduled_due(&self, now: i64, cfg: &S3SinkConfig) -> bool {
        cfg.rotate_schedule_interval_ms > 0 && now >= self.next_scheduled_rotation
    }

    fn set_next_scheduled(&mut self, now: i64, cfg: &S3SinkConfig, zone: &Zone) {
        if cfg.rotate_schedule_interval_ms > 0 {
            self.next_scheduled_rotation =
                zone.next_time_adjusted_by_day(now, cfg.rotate_schedule_interval_ms);
        }
    }

    /// `rotateOnTime`: record time past `rotate.interval.ms` from the file's first record, a
    /// new encoded partition (`rotate.file.on.partition.change`), or the wall-clock schedule.
    fn rotate_on_time(
        &self,
        encoded: Option<&str>,
        ts: Option<i64>,
        now: i64,
        cfg: &S3SinkConfig,
        partitioner: &Partitioner,
    ) -> bool {
        if self.record_count <= 0 {
            return false;
        }
        let periodic = cfg.rotate_interval_ms > 0
            && partitioner.is_time_based()
            && (matches!((self.base_record_ts, ts.or(self.current_ts)), (Some(b), Some(t)) if t - b >= cfg.rotate_interval_ms)
                || (cfg.rotate_on_partition_change
                    && encoded.is_some_and(|e| Some(e) != self.current_encoded.as_deref())));
        periodic || self.scheduled_due(now, cfg)
    }

    /// One record through the state machine (`executeState`); returns the files a rotation
    /// closed, ready to upload.
    #[allow(clippy::too_many_arguments)]
    fn process(
        &mut self,
        r: &Record,
        offset: i64,
        now: i64,
        cfg: &S3SinkConfig,
        format: &FormatSettings,
        partitioner: &Partitioner,
        zone: &Zone,
    ) -> Result<Vec<(String, Vec<u8>)>, Refused> {
        let mut done = Vec::new();
        // A rotation closes the files and the record is looked at again (Confluent's record
        // stays in its buffer through SHOULD_ROTATE → FILE_COMMITTED).
        for _ in 0..3 {
            let ts = partitioner
                .timestamp(r, now)
                .map_err(|e| Refused::Record(e.into()))?;
            if ts.is_some() {
                self.current_ts = ts;
                self.base_record_ts.get_or_insert(ts.unwrap_or_default());
            }
            let encoded = partitioner
                .encode(r, ts)
                .map_err(|e| Refused::Record(e.into()))?;
            let value_schema = r.value.as_ref().and_then(|d| d.schema.clone());
            let known = self.current_schemas.get(&encoded).cloned();
            let rotate_for_null_schema =
                matches!(&known, Some(cur) if cur.is_none() != value_schema.is_none());
            let mut current = known.flatten();
            if current.is_none() || value_schema.is_none() {
                self.current_schemas
                    .insert(encoded.clone(), value_schema.clone());
                current = value_schema.clone();
            }
            let rotate = if rotate_for_null_schema {
                true
            } else if self.rotate_on_time(Some(&encoded), ts, now, cfg, partitioner) {
                self.set_next_scheduled(now, cfg, zone);
                true
            } else if self.record_count > 0
                && incompatible(
                    cfg.schema_compatibility,
                    value_schema.as_ref(),
                    current.as_ref(),
                )
                .map_err(|e| Refused::Record(e.into()))?
            {
                self.current_schemas
                    .insert(encoded.clone(), value_schema.clone());
                true
            } else {
                cfg.max_open_files != -1
                    && !self.files.iter().any(|f| f.encoded == encoded)
                    && self.files.len() as i64 == cfg.max_open_files
            };
            if rotate {
                done.extend(self.commit_files(format)?);
                continue;
            }
            let projected;
            let record = match (&current, &value_schema) {
                (Some(cur), Some(vs)) if !Arc::ptr_eq(cur, vs) && **cur != **vs => {
                    projected = project(r, cur).map_err(|e| Refused::Record(e.into()))?;
                    &projected
                }
                _ => r,
            };
            self.write_record(record, &encoded, offset, cfg, format)?;
            self.current_encoded = Some(encoded);
            self.record_count += 1;
            if self.record_count >= cfg.flush_size {
                done.extend(self.commit_files(format)?);
            }
            return Ok(done);
        }
        Err(Refused::Task(ConnectorError::permanent(
            "a record kept rotating files without being written (a Sluice bug: please report it)",
        )))
    }

    fn write_record(
        &mut self,
        r: &Record,
        encoded: &str,
        offset: i64,
        cfg: &S3SinkConfig,
        format: &FormatSettings,
    ) -> Result<(), Refused> {
        if let Some(f) = self.files.iter_mut().find(|f| f.encoded == encoded) {
            return f.writer.write(r).map_err(Refused::from);
        }
        let mut writer = FileWriter::new(format, r)?;
        writer.write(r)?;
        let name = format!(
            "{topic}{d}{p}{d}{offset:0width$}{ext}",
            topic = self.topic,
            d = cfg.file_delim,
            p = self.partition,
            width = cfg.zero_pad_width,
            ext = format.extension()
        );
        let dir = format!("{}{}{}", self.topic, cfg.directory_delim, encoded);
        let key = if cfg.topics_dir.trim().is_empty() {
            format!("{dir}{}{name}", cfg.directory_delim)
        } else {
            format!(
                "{}{d}{dir}{d}{name}",
                cfg.topics_dir,
                d = cfg.directory_delim
            )
        };
        self.files.push(OpenFile {
            encoded: encoded.to_owned(),
            key,
            start_offset: offset,
            writer,
        });
        Ok(())
    }

    /// `commitFiles`: closes every open file of this topic partition.
    fn commit_files(
        &mut self,
        format: &FormatSettings,
    ) -> Result<Vec<(String, Vec<u8>)>, ConnectorError> {
        let mut out = Vec::with_capacity(self.files.len());
        for f in self.files.drain(..) {
            let bytes = f.writer.finish(format, &f.key).map_err(|e| match e {
                FormatError::Record(m) | FormatError::File(m) => {
                    ConnectorError::permanent(format!("{}: {m}", f.key))
                }
            })?;
            out.push((f.key, bytes));
        }
        self.current_schemas.clear();
        self.record_count = 0;
        self.base_record_ts = None;
        Ok(out)
    }
}

/// `StorageSchemaCompatibility.shouldChangeSchema`: whether a record of `value` schema may not
/// join a file of `current` schema. An error for what Confluent refuses outright.
fn incompatible(
    compat: SchemaCompatibility,
    value: Option<&Arc<Schema>>,
    current: Option<&Arc<Schema>>,
) -> Result<bool, String> {
    let (v, c) = match (value, current) {
        (None, None) => return Ok(false),
        (Some(v), Some(c)) if Arc::ptr_eq(v, c) => return Ok(false),
        (Some(v), Some(c)) => (v, c),
        _ => {
            return Err("Switch between schema-based and schema-less data is not supported".into())
        }
    };
    if compat == SchemaCompatibility::None {
        return Ok(**v != **c);
    }
    let (Some(vv), Some(cv)) = (v.version, c.version) else {
        return Err(
            format!("Schema version required for {compat:?} compatibility").to_ascii_uppercase(),
        );
    };
    let promotable = |a: SchemaType, b: SchemaType| {
        const ORDER: [SchemaType; 6] = [
            SchemaType::Int8,
            SchemaType::Int16,
            SchemaType::Int32,
            SchemaType::Int64,
            SchemaType::Float32,
            SchemaType::Float64,
        ];
        let pos = |t| ORDER.iter().position(|x| *x == t);
        matches!((pos(a), pos(b)), (Some(i), Some(j)) if i <= j)
    };
    if (v.ty != c.ty && !promotable(v.ty, c.ty)) || v.name != c.name || v.parameters != c.parameters
    {
        return Ok(true);
    }
    Ok(match compat {
        SchemaCompatibility::Forward => vv < cv,
        _ => vv > cv,
    })
}

/// `SchemaProjector.project` for a struct: the record's fields by name into `target`, absent
/// ones from the target field's default (or null when optional).
fn project(r: &Record, target: &Arc<Schema>) -> Result<Record, String> {
    let Some(Data {
        schema: Some(source),
        value: Value::Struct(values),
    }) = &r.value
    else {
        return Ok(r.clone());
    };
    let mut out = Vec::with_capacity(target.fields.len());
    for f in &target.fields {
        let v = match source.field_index(&f.name) {
            Some(i) => values.get(i).cloned().unwrap_or(Value::Null),
            None => match (&f.schema.default, f.schema.optional) {
                (Some(d), _) => d.clone(),
                (None, true) => Value::Null,
                (None, false) => {
                    return Err(format!(
                        "Required field `{}` is missing from source schema and has no default",
                        f.name
                    ))
                }
            },
        };
        out.push(v);
    }
    let mut projected = r.clone();
    projected.value = Some(Data {
        schema: Some(target.clone()),
        value: Value::Struct(out),
    });
    Ok(projected)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
