//! Confluent's `io.confluent.connect.s3.S3SinkConnector`: every key its `S3SinkConnectorConfig`
//! declares, with those it inherits from kafka-connect-storage-common (`StorageCommonConfig`,
//! `StorageSinkConnectorConfig`, `PartitionerConfig`), Confluent's defaults and how Sluice
//! treats each; and the typed config the sink runs on. Read from
//! confluentinc/kafka-connect-storage-cloud and kafka-connect-storage-common (2026-07).

use std::path::Path;

use crate::def::{ConfigKey, Importance, KeyType};
use crate::keys::KeyReader;

use Importance::{High, Low, Medium};
use KeyType::{Boolean, Class, Int, List, Long, Password, String};

const I32_MAX: i64 = i32::MAX as i64;

const TAGGING: &str = "object tagging is not implemented";
const SSE: &str =
    "server-side encryption settings are not implemented (use the bucket's default encryption)";
const PROXY: &str = "S3 proxies are not implemented";
const KEYS_HEADERS: &str = "writing record keys and headers to their own files is not implemented";
const CREDENTIALS: &str = "credentials come from aws.access.key.id/aws.secret.access.key or the AWS environment and profile chain";

pub const JSON_FORMAT: &str = "io.confluent.connect.s3.format.json.JsonFormat";
pub const PARQUET_FORMAT: &str = "io.confluent.connect.s3.format.parquet.ParquetFormat";
pub const AVRO_FORMAT: &str = "io.confluent.connect.s3.format.avro.AvroFormat";
pub const BYTE_ARRAY_FORMAT: &str = "io.confluent.connect.s3.format.bytearray.ByteArrayFormat";
pub const S3_STORAGE: &str = "io.confluent.connect.s3.storage.S3Storage";
const PARTITIONER_PACKAGE: &str = "io.confluent.connect.storage.partitioner.";

pub static KEYS: &[ConfigKey] = &[
    // ---- Connector (StorageSinkConnectorConfig) ----
    ConfigKey::new(
        "format.class",
        Class,
        High,
        "Connector",
        "The format class to use when writing data to the store.",
    )
    .required(),
    ConfigKey::new(
        "flush.size",
        Int,
        High,
        "Connector",
        "Number of records written to store before invoking file commits.",
    )
    .required()
    .range(1, I32_MAX),
    ConfigKey::new(
        "rotate.interval.ms",
        Long,
        High,
        "Connector",
        "The time interval in milliseconds to invoke file commits, measured with the timestamp extractor. -1 disables it.",
    )
    .default("-1"),
    ConfigKey::new(
        "rotate.schedule.interval.ms",
        Long,
        Medium,
        "Connector",
        "The wall-clock interval in milliseconds to periodically invoke file commits, aligned to 00:00 in timezone. -1 disables it.",
    )
    .default("-1"),
    ConfigKey::new(
        "schemas.cache.config",
        Int,
        Low,
        "Connector",
        "The size of the schema cache used in the Avro converter.",
    )
    .default("1000")
    .not_applicable("Sluice keeps no Avro schema cache"),
    ConfigKey::new(
        "enhanced.avro.schema.support",
        Boolean,
        Low,
        "Connector",
        "Enable enhanced avro schema support in AvroConverter: Enum symbol preservation and Package Name awareness",
    )
    .default("true")
    .not_applicable("Connect schemas in Sluice never come from Avro, so there are no enum symbols or packages to keep"),
    ConfigKey::new(
        "connect.meta.data",
        Boolean,
        Low,
        "Connector",
        "Allow connect converter to add its metadata to the output schema",
    )
    .default("true"),
    ConfigKey::new(
        "retry.backoff.ms",
        Long,
        Low,
        "Connector",
        "The retry backoff in milliseconds before a failed batch is delivered again.",
    )
    .default("5000")
    .not_applicable("a task failed by a transient error is retried by the worker with errors.retry.delay.max.ms"),
    ConfigKey::new(
        "shutdown.timeout.ms",
        Long,
        Medium,
        "Connector",
        "Clean shutdown timeout for asynchronous Hive metastore updates.",
    )
    .default("3000")
    .not_applicable("there is no Hive integration"),
    ConfigKey::new(
        "filename.offset.zero.pad.width",
        Int,
        Low,
        "Connector",
        "Width to zero pad offsets in store's filenames.",
    )
    .default("10")
    .range(0, I32_MAX),
    ConfigKey::new(
        "avro.codec",
        String,
        Low,
        "Connector",
        "The Avro compression codec to be used for output files: null, deflate, snappy, bzip2.",
    )
    .default("null")
    .one_of(&["null", "deflate", "snappy", "bzip2"]),
    ConfigKey::new(
        "allow.optional.map.keys",
        Boolean,
        Low,
        "Connector",
        "Allow optional string map key when converting from Connect Schema to Avro Schema.",
    )
    .default("false")
    .unsupported("optional map keys are not implemented"),
    ConfigKey::new(
        "parquet.codec",
        String,
        Low,
        "Connector",
        "The Parquet compression codec to be used for output files.",
    )
    .default("snappy")
    .one_of(&["none", "snappy", "gzip", "lzo", "brotli", "lz4", "zstd", "lz4_raw"]),
    // ---- Schema ----
    ConfigKey::new(
        "schema.compatibility",
        String,
        High,
        "Schema",
        "The schema compatibility rule to use when the connector is observing schema changes: NONE, BACKWARD, FORWARD, FULL.",
    )
    .default("NONE")
    .one_of(&["none", "backward", "forward", "full"]),
    // ---- Storage (StorageCommonConfig) ----
    ConfigKey::new("storage.class", Class, High, "Storage", "The underlying storage layer.")
        .required(),
    ConfigKey::new(
        "topics.dir",
        String,
        High,
        "Storage",
        "Top level directory to store the data ingested from Kafka.",
    )
    .default("topics"),
    ConfigKey::new(
        "store.url",
        String,
        High,
        "Storage",
        "Store's connection URL: an S3-compatible endpoint (http://host:port), or file:///path for a local directory.",
    ),
    ConfigKey::new("directory.delim", String, Medium, "Storage", "Directory delimiter pattern")
        .default("/"),
    ConfigKey::new("file.delim", String, Medium, "Storage", "File delimiter pattern").default("+"),
    // ---- Partitioner (PartitionerConfig) ----
    ConfigKey::new(
        "partitioner.class",
        Class,
        High,
        "Partitioner",
        "The partitioner to use when writing data to the store.",
    )
    .default("io.confluent.connect.storage.partitioner.DefaultPartitioner"),
    ConfigKey::new(
        "partition.field.name",
        List,
        Medium,
        "Partitioner",
        "The name of the partitioning field when FieldPartitioner is used.",
    )
    .default(""),
    ConfigKey::new(
        "partition.duration.ms",
        Long,
        Medium,
        "Partitioner",
        "The duration of a partition milliseconds used by TimeBasedPartitioner.",
    )
    .default("-1"),
    ConfigKey::new(
        "path.format",
        String,
        Medium,
        "Partitioner",
        "The format of the data directories when partitioning with TimeBasedPartitioner (a Joda-Time pattern).",
    )
    .default(""),
    ConfigKey::new(
        "locale",
        String,
        Medium,
        "Partitioner",
        "The locale to use when partitioning with TimeBasedPartitioner.",
    )
    .default(""),
    ConfigKey::new(
        "timezone",
        String,
        Medium,
        "Partitioner",
        "The timezone to use when partitioning with TimeBasedPartitioner: a tz database name or [+-]hh:mm.",
    )
    .default(""),
    ConfigKey::new(
        "timestamp.extractor",
        String,
        Medium,
        "Partitioner",
        "The extractor that gets the timestamp for records when partitioning with TimeBasedPartitioner: Wallclock, Record or RecordField.",
    )
    .default("Wallclock"),
    ConfigKey::new(
        "timestamp.field",
        String,
        Medium,
        "Partitioner",
        "The record field to be used as timestamp by the timestamp extractor.",
    )
    .default("timestamp"),
    // ---- S3 ----
    ConfigKey::new("s3.bucket.name", String, High, "S3", "The S3 Bucket.").required(),
    ConfigKey::new(
        "s3.object.tagging",
        Boolean,
        Low,
        "S3",
        "Tag S3 objects with start and end offsets, as well as record count.",
    )
    .default("false")
    .unsupported(TAGGING),
    ConfigKey::new(
        "s3.object.tagging.key.value.pairs",
        List,
        Low,
        "S3",
        "Additional S3 tag key value pairs",
    )
    .default("")
    .unsupported(TAGGING),
    ConfigKey::new(
        "s3.object.behavior.on.tagging.error",
        String,
        Low,
        "S3",
        "How to handle S3 object tagging error. Valid options are 'ignore' and 'fail'.",
    )
    .default("ignore")
    .one_of(&["ignore", "fail"])
    .unsupported(TAGGING),
    ConfigKey::new(
        "s3.region",
        String,
        Medium,
        "S3",
        "The AWS region to be used the connector.",
    )
    .default("us-west-2"),
    ConfigKey::new(
        "s3.part.size",
        Int,
        High,
        "S3",
        "The Part Size in S3 Multi-part Uploads.",
    )
    .default("26214400")
    .range(5 * 1024 * 1024, I32_MAX),
    ConfigKey::new(
        "s3.credentials.provider.class",
        Class,
        Low,
        "S3",
        "Credentials provider or provider chain to use for authentication to AWS.",
    )
    .default("software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider")
    .unsupported(CREDENTIALS),
    ConfigKey::new(
        "aws.access.key.id",
        String,
        High,
        "S3",
        "The AWS access key ID used to authenticate personal AWS credentials such as IAM credentials.",
    )
    .default(""),
    ConfigKey::new(
        "aws.secret.access.key",
        Password,
        High,
        "S3",
        "The secret access key used to authenticate personal AWS credentials such as IAM credentials.",
    ),
    ConfigKey::new("s3.ssea.name", String, Low, "S3", "The S3 Server Side Encryption Algorithm.")
        .default("")
        .unsupported(SSE),
    ConfigKey::new(
        "s3.sse.customer.key",
        Password,
        Low,
        "S3",
        "The S3 Server Side Encryption Customer-Provided Key (SSE-C).",
    )
    .unsupported(SSE),
    ConfigKey::new(
        "s3.sse.kms.key.id",
        String,
        Low,
        "S3",
        "The name of the AWS Key Management Service (AWS-KMS) key to be used for server side encryption of the S3 objects.",
    )
    .default("")
    .unsupported(SSE),
    ConfigKey::new(
        "s3.acl.canned",
        String,
        Low,
        "S3",
        "An S3 canned ACL header value to apply when writing objects.",
    )
    .unsupported("canned ACLs are not implemented"),
    ConfigKey::new("s3.wan.mode", Boolean, Medium, "S3", "Use S3 accelerated endpoint.")
        .default("false")
        .unsupported("the S3 accelerated endpoint is not implemented"),
    ConfigKey::new(
        "s3.compression.type",
        String,
        Low,
        "S3",
        "Compression type for files written to S3, with JsonFormat or ByteArrayFormat: none, gzip.",
    )
    .default("none")
    .one_of(&["none", "gzip"]),
    ConfigKey::new(
        "s3.compression.level",
        Int,
        Low,
        "S3",
        "Compression level for files written to S3 (gzip), -1 for the default.",
    )
    .default("-1")
    .range(-1, 9),
    ConfigKey::new(
        "json.decimal.format",
        String,
        Medium,
        "S3",
        "Controls which format json converter will serialize decimals in: BASE64 or NUMERIC.",
    )
    .default("BASE64")
    .one_of(&["base64", "numeric"]),
    ConfigKey::new(
        "s3.part.retries",
        Int,
        Medium,
        "S3",
        "Maximum number of retry attempts for failed requests. Zero means no retries.",
    )
    .default("3")
    .range(0, I32_MAX),
    ConfigKey::new(
        "s3.retry.backoff.ms",
        Long,
        Low,
        "S3",
        "How long to wait in milliseconds before attempting the first retry of a failed S3 request.",
    )
    .default("200")
    .range(0, i64::MAX),
    ConfigKey::new(
        "format.bytearray.extension",
        String,
        Low,
        "S3",
        "Output file extension for ByteArrayFormat. Defaults to .bin.",
    )
    .default(".bin"),
    ConfigKey::new(
        "format.bytearray.separator",
        String,
        Low,
        "S3",
        "String inserted between records for ByteArrayFormat; escape sequences like \\n allowed. Defaults to a newline.",
    ),
    ConfigKey::new("s3.proxy.url", String, Low, "S3", "S3 Proxy settings encoded in URL syntax.")
        .default("")
        .unsupported(PROXY),
    ConfigKey::new("s3.proxy.user", String, Low, "S3", "S3 Proxy User.").unsupported(PROXY),
    ConfigKey::new("s3.proxy.password", Password, Low, "S3", "S3 Proxy Password.")
        .unsupported(PROXY),
    ConfigKey::new(
        "s3.http.send.expect.continue",
        Boolean,
        Low,
        "S3",
        "Enable or disable use of the HTTP/1.1 handshake using EXPECT: 100-CONTINUE during multi-part upload.",
    )
    .default("true")
    .not_applicable("the HTTP client decides"),
    ConfigKey::new(
        "behavior.on.null.values",
        String,
        Low,
        "S3",
        "How to handle records with a null value (tombstones): ignore, fail or write.",
    )
    .default("fail")
    .one_of(&["ignore", "fail", "write"]),
    ConfigKey::new(
        "report.null.values.to.dlq",
        Boolean,
        Low,
        "S3",
        "Determine whether to log records with null values to dlq (errors.tolerance must be all).",
    )
    .default("true"),
    ConfigKey::new(
        "max.write.duration.ms",
        Long,
        Low,
        "S3",
        "The maximum duration that a task will spend in batching and writing to S3.",
    )
    .default("9223372036854775807")
    .not_applicable("Sluice writes each batch as it comes; there is no consumer group rebalance to dodge"),
    ConfigKey::new(
        "rotate.file.on.partition.change",
        Boolean,
        Low,
        "S3",
        "Rotate existing files when a record belongs to a new encoded partition (with rotate.interval.ms and a timestamp extractor).",
    )
    .default("true"),
    ConfigKey::new(
        "tombstone.encoded.partition",
        String,
        Low,
        "S3",
        "Output s3 folder to write the tombstone records to.",
    )
    .default("tombstone"),
    ConfigKey::new(
        "s3.schema.partition.affix.type",
        String,
        Low,
        "S3",
        "Append the record schema name to prefix or suffix in the s3 path after the topic name.",
    )
    .default("NONE")
    .one_of(&["none", "prefix", "suffix"])
    .unsupported("schema name affixes are not implemented"),
    ConfigKey::new(
        "s3.send.digest",
        Boolean,
        Low,
        "S3",
        "Enable or disable sending MD5 digest with S3 multipart upload request.",
    )
    .default("false")
    .unsupported("MD5 digests are not sent"),
    ConfigKey::new(
        "enable.conditional.writes",
        Boolean,
        Low,
        "S3",
        "Flag to control whether to enable conditional writes during multipart upload.",
    )
    .default("true")
    .not_applicable("Sluice overwrites an object of the same name: the same records make the same bytes"),
    ConfigKey::new(
        "max.files.scan.limit",
        Int,
        Low,
        "S3",
        "Internal: how many offsets to scan for a free file name after a conditional write failed.",
    )
    .default("100")
    .not_applicable("conditional writes are not used"),
    // ---- Keys and Headers ----
    ConfigKey::new(
        "store.kafka.keys",
        Boolean,
        Low,
        "Keys and Headers",
        "Enable or disable writing keys to storage.",
    )
    .default("false")
    .unsupported(KEYS_HEADERS),
    ConfigKey::new(
        "store.kafka.headers",
        Boolean,
        Low,
        "Keys and Headers",
        "Enable or disable writing headers to storage.",
    )
    .default("false")
    .unsupported(KEYS_HEADERS),
    ConfigKey::new(
        "keys.format.class",
        Class,
        Low,
        "Keys and Headers",
        "The format class to use when writing keys to the store.",
    )
    .default(AVRO_FORMAT)
    .unsupported(KEYS_HEADERS),
    ConfigKey::new(
        "headers.format.class",
        Class,
        Low,
        "Keys and Headers",
        "The format class to use when writing headers to the store.",
    )
    .default(AVRO_FORMAT)
    .unsupported(KEYS_HEADERS),
    ConfigKey::new(
        "s3.path.style.access.enabled",
        Boolean,
        Low,
        "Keys and Headers",
        "Specifies whether or not to enable path style access to the bucket used by the connector",
    )
    .default("true"),
    ConfigKey::new(
        "s3.elastic.buffer.enable",
        Boolean,
        Low,
        "Keys and Headers",
        "Specifies whether or not to allocate elastic buffer for staging s3-part to save memory.",
    )
    .default("false")
    .not_applicable("Sluice's buffers grow as a file grows"),
    ConfigKey::new(
        "s3.elastic.buffer.init.capacity",
        Int,
        Low,
        "Keys and Headers",
        "Elastic buffer initial capacity.",
    )
    .default("131072")
    .range(4096, I32_MAX)
    .not_applicable("Sluice's buffers grow as a file grows"),
    ConfigKey::new(
        "partitioner.max.open.files",
        Int,
        Low,
        "Keys and Headers",
        "Internal: rotate every open file when a record needs a new one and this many are open; -1 for no limit.",
    )
    .default("-1"),
];

/// `format.class`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Parquet,
    Avro,
    ByteArray,
}

/// `parquet.codec`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetCodec {
    None,
    Snappy,
    Gzip,
    /// LZ4 with Hadoop's framing (Confluent's `lz4`, extension `.lz4hadoop`).
    Lz4,
    Lz4Raw,
    Zstd,
}

/// `avro.codec`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvroCodec {
    Null,
    Deflate,
    Snappy,
}

/// `schema.compatibility`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaCompatibility {
    None,
    Backward,
    Forward,
    Full,
}

/// `behavior.on.null.values`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullValues {
    Fail,
    Ignore,
}

/// `timestamp.extractor`
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimestampExtractor {
    Wallclock,
    Record,
    /// `timestamp.field` (dotted for a nested field)
    RecordField(std::string::String),
}

/// `partitioner.class` with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partitioner {
    /// `partition=<kafka partition>`
    Default,
    /// `<field>=<value>` per field (dotted names reach into nested structs).
    Field(Vec<std::string::String>),
    /// `TimeBasedPartitioner`, `DailyPartitioner` (1 day, `'year'=YYYY/'month'=MM/'day'=dd`) and
    /// `HourlyPartitioner` (1 hour, `.../'hour'=HH`).
    Time {
        duration_ms: i64,
        path_format: std::string::String,
        locale: std::string::String,
        timezone: std::string::String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3SinkConfig {
    pub bucket: std::string::String,
    pub region: std::string::String,
    /// `None`: AWS S3 itself; `http(s)://...`: an S3-compatible endpoint; `file:///dir`: a
    /// local directory holding one directory per bucket.
    pub store_url: Option<std::string::String>,
    pub path_style: bool,
    pub access_key_id: Option<std::string::String>,
    pub secret_access_key: Option<std::string::String>,
    pub part_size: usize,
    pub part_retries: usize,
    pub retry_backoff_ms: u64,
    pub topics_dir: std::string::String,
    pub directory_delim: std::string::String,
    pub file_delim: std::string::String,
    pub zero_pad_width: usize,
    pub format: Format,
    pub parquet_codec: ParquetCodec,
    pub avro_codec: AvroCodec,
    /// `s3.compression.type=gzip` (JSON and byte array files), with its level (-1: default).
    pub gzip_level: Option<i64>,
    pub bytearray_extension: std::string::String,
    pub bytearray_separator: Vec<u8>,
    pub connect_meta_data: bool,
    pub flush_size: i64,
    pub rotate_interval_ms: i64,
    pub rotate_schedule_interval_ms: i64,
    pub rotate_on_partition_change: bool,
    pub max_open_files: i64,
    pub schema_compatibility: SchemaCompatibility,
    pub null_values: NullValues,
    pub report_null_values: bool,
    pub partitioner: Partitioner,
    pub extractor: TimestampExtractor,
    /// `timezone` as set (empty when unset).
    pub timezone: std::string::String,
}

impl S3SinkConfig {
    pub(crate) fn read(r: &mut KeyReader<'_>) -> Self {
        let format_class = r.required_string("format.class").unwrap_or_default();
        let format = match simple_name(&format_class) {
            "JsonFormat" => Format::Json,
            "ParquetFormat" => Format::Parquet,
            "AvroFormat" => Format::Avro,
            "ByteArrayFormat" => Format::ByteArray,
            _ => {
                if !format_class.is_empty() {
                    r.issue(
                        "format.class",
                        Some(&format_class),
                        format!("Sluice implements {JSON_FORMAT}, {PARQUET_FORMAT}, {AVRO_FORMAT} and {BYTE_ARRAY_FORMAT}"),
                    );
                }
                Format::Json
            }
        };
        if let Some(storage) = r.required_string("storage.class") {
            if simple_name(&storage) != "S3Storage" {
                r.issue(
                    "storage.class",
                    Some(&storage),
                    format!("Sluice implements {S3_STORAGE}"),
                );
            }
        }
        let bucket = r.required_string("s3.bucket.name").unwrap_or_default();
        if !bucket.is_empty() && (bucket.len() < 3 || bucket.contains('/')) {
            r.issue(
                "s3.bucket.name",
                Some(&bucket),
                "a bucket name has at least 3 characters and no '/'",
            );
        }
        let store_url = r.get("store.url").map(str::to_owned);
        if let Some(url) = &store_url {
            let known = ["http://", "https://", "file://", "s3://"];
            if !known.iter().any(|p| url.starts_with(p)) {
                r.issue(
                    "store.url",
                    Some(url),
                    "expected an S3 endpoint (http://host:port, https://...) or a local directory (file:///path)",
                );
            }
        }
        let parquet_codec = r.choice(
            "parquet.codec",
            &[
                ("none", ParquetCodec::None),
                ("snappy", ParquetCodec::Snappy),
                ("gzip", ParquetCodec::Gzip),
                ("lz4", ParquetCodec::Lz4),
                ("lz4_raw", ParquetCodec::Lz4Raw),
                ("zstd", ParquetCodec::Zstd),
                ("lzo", ParquetCodec::None),
                ("brotli", ParquetCodec::None),
            ],
        );
        if let Some(v @ ("lzo" | "brotli")) = r.get("parquet.codec").map(str::trim) {
            r.issue(
                "parquet.codec",
                Some(v),
                "Sluice writes Parquet with none, snappy, gzip, lz4, lz4_raw or zstd",
            );
        }
        let avro_codec = r.choice(
            "avro.codec",
            &[
                ("null", AvroCodec::Null),
                ("deflate", AvroCodec::Deflate),
                ("snappy", AvroCodec::Snappy),
                ("bzip2", AvroCodec::Null),
            ],
        );
        if let Some(v) = r
            .get("avro.codec")
            .filter(|v| v.eq_ignore_ascii_case("bzip2"))
        {
            r.issue(
                "avro.codec",
                Some(v),
                "Sluice writes Avro with null, deflate or snappy",
            );
        }
        let gzip = r.choice("s3.compression.type", &[("none", false), ("gzip", true)]);
        let level = r.int("s3.compression.level");
        if gzip && !matches!(format, Format::Json | Format::ByteArray) {
            r.issue(
                "s3.compression.type",
                Some("gzip"),
                format!(
                    "Compression Type gzip not valid for data format class: ( {format_class} )."
                ),
            );
        }
        if r.choice(
            "json.decimal.format",
            &[("base64", false), ("numeric", true)],
        ) {
            let v = r.get("json.decimal.format");
            r.issue(
                "json.decimal.format",
                v,
                "Sluice's JsonFormat writes decimals as BASE64 only",
            );
        }
        let separator = match r.raw().get("format.bytearray.separator") {
            // Whitespace is significant here: the raw value, untrimmed.
            Some(s) if !s.is_empty() => unescape(s).into_bytes(),
            _ => b"\n".to_vec(),
        };
        r.get("format.bytearray.separator");
        let null_values = match r
            .string("behavior.on.null.values")
            .to_ascii_lowercase()
            .as_str()
        {
            "ignore" => NullValues::Ignore,
            "write" => {
                r.issue(
                    "behavior.on.null.values",
                    Some("write"),
                    "Writing Kafka record keys to storage is mandatory when tombstone writing is enabled, and store.kafka.keys is not implemented",
                );
                NullValues::Fail
            }
            _ => NullValues::Fail,
        };
        r.string("tombstone.encoded.partition");
        let timezone = r.string("timezone");
        if !timezone.is_empty() && !timezone_exists(&timezone) {
            r.issue(
                "timezone",
                Some(&timezone),
                "not a time zone: use a tz database name (Europe/Paris), UTC or a fixed offset [+-]hh:mm",
            );
        }
        let rotate_schedule_interval_ms = r.int("rotate.schedule.interval.ms");
        if rotate_schedule_interval_ms > 0 && timezone.is_empty() {
            r.issue(
                "timezone",
                None,
                "timezone configuration must be set when using rotate.schedule.interval.ms",
            );
        }
        let partitioner = partitioner(r, &timezone);
        let extractor = match r.string("timestamp.extractor").as_str() {
            "Wallclock" => TimestampExtractor::Wallclock,
            "Record" => TimestampExtractor::Record,
            "RecordField" => TimestampExtractor::RecordField(r.string("timestamp.field")),
            other => {
                r.issue(
                    "timestamp.extractor",
                    Some(other),
                    "Sluice implements the Wallclock, Record and RecordField extractors",
                );
                TimestampExtractor::Wallclock
            }
        };
        S3SinkConfig {
            bucket,
            region: r.string("s3.region"),
            store_url,
            path_style: r.bool("s3.path.style.access.enabled"),
            access_key_id: r.get("aws.access.key.id").map(str::to_owned),
            secret_access_key: r.get("aws.secret.access.key").map(str::to_owned),
            part_size: r.int("s3.part.size") as usize,
            part_retries: r.int("s3.part.retries") as usize,
            retry_backoff_ms: r.int("s3.retry.backoff.ms") as u64,
            topics_dir: r.string("topics.dir"),
            directory_delim: r.string("directory.delim"),
            file_delim: r.string("file.delim"),
            zero_pad_width: r.int("filename.offset.zero.pad.width") as usize,
            format,
            parquet_codec,
            avro_codec,
            gzip_level: gzip.then_some(level),
            bytearray_extension: r.string("format.bytearray.extension"),
            bytearray_separator: separator,
            connect_meta_data: r.bool("connect.meta.data"),
            flush_size: r.int("flush.size"),
            rotate_interval_ms: r.int("rotate.interval.ms"),
            rotate_schedule_interval_ms,
            rotate_on_partition_change: r.bool("rotate.file.on.partition.change"),
            max_open_files: r.int("partitioner.max.open.files"),
            schema_compatibility: r.choice(
                "schema.compatibility",
                &[
                    ("NONE", SchemaCompatibility::None),
                    ("BACKWARD", SchemaCompatibility::Backward),
                    ("FORWARD", SchemaCompatibility::Forward),
                    ("FULL", SchemaCompatibility::Full),
                ],
            ),
            null_values,
            report_null_values: r.bool("report.null.values.to.dlq"),
            partitioner,
            extractor,
            timezone,
        }
    }
}

fn partitioner(r: &mut KeyReader<'_>, timezone: &str) -> Partitioner {
    let class = r.string("partitioner.class");
    let fields = r.list("partition.field.name");
    let mut duration_ms = r.int("partition.duration.ms");
    let mut path_format = r.string("path.format");
    let locale = r.string("locale");
    let delim = r.string("directory.delim");
    let simple = class.strip_prefix(PARTITIONER_PACKAGE).unwrap_or(&class);
    match simple {
        "DefaultPartitioner" => return Partitioner::Default,
        "FieldPartitioner" => {
            if fields.is_empty() {
                r.issue(
                    "partition.field.name",
                    None,
                    "FieldPartitioner needs the fields to partition by",
                );
            }
            if let Some(f) = fields
                .iter()
                .find(|f| f.split('.').any(|s| s.trim().is_empty()))
            {
                r.issue(
                    "partition.field.name",
                    Some(f),
                    "Field name cannot contain an empty or whitespace-only path segment",
                );
            }
            return Partitioner::Field(fields);
        }
        "DailyPartitioner" => {
            duration_ms = 24 * 3600 * 1000;
            path_format = format!("'year'=YYYY{delim}'month'=MM{delim}'day'=dd");
        }
        "HourlyPartitioner" => {
            duration_ms = 3600 * 1000;
            path_format = format!("'year'=YYYY{delim}'month'=MM{delim}'day'=dd{delim}'hour'=HH");
        }
        "TimeBasedPartitioner" => {}
        _ => {
            r.issue(
                "partitioner.class",
                Some(&class),
                format!("Sluice implements {PARTITIONER_PACKAGE}DefaultPartitioner, FieldPartitioner, TimeBasedPartitioner, DailyPartitioner and HourlyPartitioner"),
            );
            return Partitioner::Default;
        }
    }
    if duration_ms < 0 {
        r.issue(
            "partition.duration.ms",
            Some(&duration_ms.to_string()),
            "Partition duration needs to be a positive.",
        );
    }
    if path_format.trim().is_empty() || path_format == delim {
        r.issue("path.format", None, "Path format cannot be empty.");
    } else if !delim.is_empty() && path_format.ends_with(&delim) {
        path_format.truncate(path_format.len() - delim.len());
    }
    if locale.trim().is_empty() {
        r.issue("locale", None, "Locale cannot be empty.");
    }
    if timezone.trim().is_empty() {
        r.issue("timezone", None, "Timezone cannot be empty.");
    }
    Partitioner::Time {
        duration_ms: duration_ms.max(1),
        path_format,
        locale,
        timezone: timezone.to_owned(),
    }
}

/// `io.confluent.connect.s3.format.json.JsonFormat` → `JsonFormat` (a simple name stays).
fn simple_name(class: &str) -> &str {
    class.trim().rsplit('.').next().unwrap_or("")
}

/// Whether the system knows a time zone name: `UTC`, a fixed offset, or a tz database file.
pub fn timezone_exists(tz: &str) -> bool {
    let tz = tz.trim();
    if tz == "UTC" || tz == "Z" || parse_fixed_offset(tz).is_some() {
        return true;
    }
    !tz.contains("..")
        && !tz.starts_with('/')
        && Path::new("/usr/share/zoneinfo").join(tz).is_file()
}

/// `[+-]hh:mm` (Joda's fixed-offset form) in seconds east of UTC.
pub fn parse_fixed_offset(tz: &str) -> Option<i32> {
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    ((0..=23).contains(&h) && (0..=59).contains(&m)).then_some(sign * (h * 3600 + m * 60))
}

/// Java-style escapes in a separator (`\n`, `\t`, `\r`, `\\`).
fn unescape(s: &str) -> std::string::String {
    let mut out = std::string::String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConnectorConfig, ConnectorSettings, RawConfig};

    fn parse(extra: &str) -> Result<S3SinkConfig, std::string::String> {
        let text = format!(
            r#"{{"name":"s3","connector.class":"io.confluent.connect.s3.S3SinkConnector","topics":"t",
            "s3.bucket.name":"lake","storage.class":"io.confluent.connect.s3.storage.S3Storage",
            "format.class":"io.confluent.connect.s3.format.json.JsonFormat","flush.size":"3"{extra}}}"#
        );
        let raw = RawConfig::from_json(&text, "s3").unwrap();
        match ConnectorSettings::parse(&raw) {
            Ok(s) => match s.connector {
                ConnectorConfig::S3Sink(c) => Ok(*c),
                other => panic!("{other:?}"),
            },
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn seed_001_sink_configs_parse() {
        // s3_sink_connector_02, as printed (its transforms aside).
        let c = parse(
            r#","s3.region":"us-east-1","s3.part.size":5242880,"rotate.schedule.interval.ms":60000,
            "timezone":"UTC","format.class":"io.confluent.connect.s3.format.parquet.ParquetFormat",
            "parquet.codec":"gzip","partitioner.class":"io.confluent.connect.storage.partitioner.FieldPartitioner",
            "partition.field.name":"country","schema.compatibility":"NONE""#,
        )
        .unwrap();
        assert_eq!(c.format, Format::Parquet);
        assert_eq!(c.parquet_codec, ParquetCodec::Gzip);
        assert_eq!(c.partitioner, Partitioner::Field(vec!["country".into()]));
        assert_eq!(c.part_size, 5242880);
        assert_eq!(c.rotate_schedule_interval_ms, 60000);
        assert_eq!(c.topics_dir, "topics");
        assert_eq!(c.region, "us-east-1");
    }

    #[test]
    fn partitioners_and_their_settings() {
        let c = parse(r#","partitioner.class":"io.confluent.connect.storage.partitioner.DailyPartitioner","locale":"en-US","timezone":"UTC""#).unwrap();
        assert_eq!(
            c.partitioner,
            Partitioner::Time {
                duration_ms: 86_400_000,
                path_format: "'year'=YYYY/'month'=MM/'day'=dd".into(),
                locale: "en-US".into(),
                timezone: "UTC".into()
            }
        );
        let e = parse(r#","partitioner.class":"io.confluent.connect.storage.partitioner.TimeBasedPartitioner","path.format":"","timezone":"Mars/Olympus""#).unwrap_err();
        assert!(e.contains("Path format cannot be empty"), "{e}");
        assert!(e.contains("Locale cannot be empty"), "{e}");
        assert!(e.contains("Mars/Olympus"), "{e}");
        let e = parse(r#","rotate.schedule.interval.ms":"1000""#).unwrap_err();
        assert!(e.contains("timezone configuration must be set"), "{e}");
        let c = parse(r#","timestamp.extractor":"RecordField","timestamp.field":"a.b""#).unwrap();
        assert_eq!(c.extractor, TimestampExtractor::RecordField("a.b".into()));
    }

    #[test]
    fn unsupported_values_are_refused_with_the_reason() {
        let e = parse(r#","store.kafka.keys":"true","s3.sse.kms.key.id":"k""#).unwrap_err();
        assert!(
            e.contains("store.kafka.keys") && e.contains("not implemented"),
            "{e}"
        );
        assert!(e.contains("s3.sse.kms.key.id"), "{e}");
        let e = parse(r#","s3.compression.type":"gzip","format.class":"io.confluent.connect.s3.format.avro.AvroFormat""#).unwrap_err();
        assert!(e.contains("not valid for data format"), "{e}");
        let e = parse(r#","behavior.on.null.values":"write""#).unwrap_err();
        assert!(e.contains("mandatory"), "{e}");
        assert!(parse(r#","flush.size":"0""#).is_err());
    }

    #[test]
    fn secret_key_is_masked() {
        let e = parse(r#","aws.secret.access.key":"hunter2","s3.part.size":"1""#).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(crate::raw::is_secret_key("aws.secret.access.key"));
        let raw = RawConfig::from_json(r#"{"aws.secret.access.key":"hunter2"}"#, "f").unwrap();
        assert!(!format!("{raw:?}").contains("hunter2"));
    }

    #[test]
    fn fixed_offsets() {
        assert_eq!(parse_fixed_offset("+05:30"), Some(19800));
        assert_eq!(parse_fixed_offset("-08:00"), Some(-28800));
        assert_eq!(parse_fixed_offset("UTC"), None);
        assert!(timezone_exists("UTC") && timezone_exists("+01:00"));
    }
}
