//! Metric names, in one place: Debezium's and Connect's JMX metric names in Prometheus style
//! (`TotalNumberOfEventsSeen` → `sluice_source_total_number_of_events_seen`), labelled by
//! connector. Recorded through the `metrics` facade; the binary installs the exporter.

/// Counter: records the source produced (Debezium `TotalNumberOfEventsSeen`).
pub const EVENTS_SEEN: &str = "sluice_source_total_number_of_events_seen";
/// Counter: records the sink accepted.
pub const RECORDS_WRITTEN: &str = "sluice_sink_records_written_total";
/// Counter: events the source read but did not emit (`skipped.operations`, unknown tables).
pub const EVENTS_FILTERED: &str = "sluice_source_number_of_events_filtered";
/// Counter: records that failed conversion, a transform or the sink (Connect's `total-record-errors`).
pub const RECORD_ERRORS: &str = "sluice_task_total_record_errors";
/// Counter: failed records skipped under `errors.tolerance=all` (Connect's `total-records-skipped`).
pub const RECORDS_SKIPPED: &str = "sluice_task_total_records_skipped";
/// Counter: failed records logged (`errors.log.enable`, Connect's `total-errors-logged`).
pub const ERRORS_LOGGED: &str = "sluice_task_total_errors_logged";
/// Counter: records written to the dead letter queue (Connect's `deadletterqueue-produce-requests`).
pub const DLQ_PRODUCE_REQUESTS: &str = "sluice_task_deadletterqueue_produce_requests";
/// Counter: transient failures retried (the task stayed RUNNING).
pub const RETRIES: &str = "sluice_task_retries_total";
/// Counter: task failures.
pub const ERRORS: &str = "sluice_task_errors_total";
/// Histogram: records per batch.
pub const BATCH_SIZE: &str = "sluice_batch_size_records";
/// Counter: offsets committed after a durable flush.
pub const OFFSET_COMMITS: &str = "sluice_offset_commits_total";
/// Gauge: ms between the commit in the source database and the durable write in the sink
/// (Debezium `MilliSecondsBehindSource`).
pub const MS_BEHIND_SOURCE: &str = "sluice_source_milli_seconds_behind_source";
/// Gauge per table: rows read by the snapshot so far, and the planner's estimate.
pub const SNAPSHOT_ROWS_SCANNED: &str = "sluice_snapshot_rows_scanned";
pub const SNAPSHOT_ROWS_ESTIMATED: &str = "sluice_snapshot_rows_estimated";
/// Gauge: 1 while a snapshot runs, 0 after (Debezium `SnapshotRunning`).
pub const SNAPSHOT_RUNNING: &str = "sluice_snapshot_running";
/// Gauge: WAL the slot keeps on the server (`pg_current_wal_lsn() - restart_lsn`).
pub const SLOT_RETAINED_WAL_BYTES: &str = "sluice_postgres_slot_retained_wal_bytes";
/// Gauge: WAL written since the slot's confirmed position (`pg_current_wal_lsn() - confirmed_flush_lsn`).
pub const SLOT_CONFIRMED_FLUSH_LAG_BYTES: &str = "sluice_postgres_slot_confirmed_flush_lag_bytes";
/// Counter per table (label `table`: `schema.table`, or `query`): rows the JDBC source read.
pub const JDBC_ROWS_READ: &str = "sluice_jdbc_source_rows_read_total";
