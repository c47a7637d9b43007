//! Kafka Connect's own connector keys, shared by every connector class: `ConnectorConfig`
//! (`COMMON`), `SourceConnectorConfig` and `TopicCreationConfig` (`SOURCE`) and
//! `SinkConnectorConfig` (`SINK`), from apache/kafka at 4.0.0-SNAPSHOT, plus Debezium's
//! `errors.max.retries` and the JsonConverter `schemas.enable` keys users put in connector configs.

use crate::def::{ConfigKey, Importance, KeyType};

use Importance::{High, Low, Medium};
use KeyType::{Boolean, Class, Int, List, Long, Short, String};

const I32_MAX: i64 = i32::MAX as i64;
const I16_MAX: i64 = i16::MAX as i64;

const CONVERTER_DOC: &str = "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.";
const EXACTLY_ONCE: &str =
    "exactly-once source delivery (producer transactions) is not implemented";

pub static COMMON: &[ConfigKey] = &[
    ConfigKey::new(
        "name",
        String,
        High,
        "Common",
        "Globally unique name to use for this connector.",
    )
    .required(),
    ConfigKey::new(
        "connector.class",
        String,
        High,
        "Common",
        "Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector.",
    )
    .required(),
    ConfigKey::new(
        "tasks.max",
        Int,
        High,
        "Common",
        "Maximum number of tasks to use for this connector.",
    )
    .default("1")
    .range(1, I32_MAX),
    ConfigKey::new(
        "tasks.max.enforce",
        Boolean,
        Low,
        "Common",
        "(Deprecated) Whether to enforce that the tasks.max property is respected by the connector.",
    )
    .default("true")
    .not_applicable("deprecated in Connect; Sluice's connectors never create more tasks than tasks.max"),
    ConfigKey::new("key.converter", Class, Low, "Common", CONVERTER_DOC),
    ConfigKey::new("value.converter", Class, Low, "Common", CONVERTER_DOC),
    ConfigKey::new(
        "header.converter",
        Class,
        Low,
        "Common",
        "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.",
    )
    .unsupported("headers are written as their string bytes (SimpleHeaderConverter)"),
    // JsonConverterConfig's schemas.enable, as users pass it to the converters above.
    ConfigKey::new(
        "key.converter.schemas.enable",
        Boolean,
        High,
        "Common",
        "Include schemas within each of the serialized values and keys.",
    )
    .default("true"),
    ConfigKey::new(
        "value.converter.schemas.enable",
        Boolean,
        High,
        "Common",
        "Include schemas within each of the serialized values and keys.",
    )
    .default("true"),
    ConfigKey::new(
        "transforms",
        List,
        Low,
        "Transforms",
        "Aliases for the transformations to be applied to records.",
    )
    .default(""),
    ConfigKey::new(
        "predicates",
        List,
        Low,
        "Predicates",
        "Aliases for the predicates used by transformations.",
    )
    .default(""),
    ConfigKey::new(
        "config.action.reload",
        String,
        Low,
        "Common",
        "The action that Connect should take on the connector when changes in external configuration providers result in a change in the connector's configuration properties.",
    )
    .default("restart")
    .one_of(&["none", "restart"])
    .not_applicable("config providers are not implemented, so a config never changes underneath a connector"),
    ConfigKey::new(
        "errors.retry.timeout",
        Long,
        Medium,
        "Error Handling",
        "The maximum duration in milliseconds that a failed operation will be reattempted; 0 means no retries, -1 infinite retries.",
    )
    .default("0"),
    ConfigKey::new(
        "errors.retry.delay.max.ms",
        Long,
        Medium,
        "Error Handling",
        "The maximum duration in milliseconds between consecutive retry attempts.",
    )
    .default("60000"),
    ConfigKey::new(
        "errors.tolerance",
        String,
        Medium,
        "Error Handling",
        "Behavior for tolerating errors during connector operation: 'none' fails the task on any error, 'all' skips problematic records.",
    )
    .default("none")
    .one_of(&["none", "all"]),
    ConfigKey::new(
        "errors.log.enable",
        Boolean,
        Medium,
        "Error Handling",
        "If true, write each error and the details of the failed operation and problematic record to the Connect application log.",
    )
    .default("false"),
    ConfigKey::new(
        "errors.log.include.messages",
        Boolean,
        Medium,
        "Error Handling",
        "Whether to include in the log the Connect record that resulted in a failure.",
    )
    .default("false"),
    // Debezium's CommonConnectorConfig.MAX_RETRIES_ON_ERROR.
    ConfigKey::new(
        "errors.max.retries",
        Int,
        Low,
        "Error Handling",
        "The maximum number of retries on connection errors before failing (-1 = no limit, 0 = disabled, > 0 = num of retries).",
    )
    .default("-1"),
];

pub static SOURCE: &[ConfigKey] = &[
    ConfigKey::new(
        "topic.creation.groups",
        List,
        Low,
        "Topic Creation",
        "Groups of configurations for topics created by source connectors",
    )
    .default("")
    .unsupported("topic creation groups other than 'default' are not implemented"),
    // The default group's keys (TopicCreationConfig.defaultGroupConfigDef, embedded under
    // "topic.creation.default."). Connect requires the two numbers once any topic.creation.*
    // key is set and otherwise leaves topic creation to the broker.
    ConfigKey::new(
        "topic.creation.default.replication.factor",
        Short,
        Low,
        "Topic Creation",
        "The replication factor for new topics created for this connector; -1 uses the broker's default.",
    )
    .range(-1, I16_MAX),
    ConfigKey::new(
        "topic.creation.default.partitions",
        Int,
        Low,
        "Topic Creation",
        "The number of partitions new topics created for this connector; -1 uses the broker's default.",
    )
    .range(-1, I32_MAX),
    ConfigKey::new(
        "topic.creation.default.include",
        List,
        Low,
        "Topic Creation",
        "A list of regular expression literals used to match the topic names used by the source connector.",
    )
    .default(".*")
    .not_applicable("Connect ignores include and exclude for the default group"),
    ConfigKey::new(
        "topic.creation.default.exclude",
        List,
        Low,
        "Topic Creation",
        "A list of regular expression literals used to match the topic names used by the source connector.",
    )
    .default("")
    .not_applicable("Connect ignores include and exclude for the default group"),
    ConfigKey::new(
        "exactly.once.support",
        String,
        Medium,
        "Exactly Once Support",
        "Permitted values are requested, required.",
    )
    .default("requested")
    .one_of(&["requested", "required"])
    .unsupported(EXACTLY_ONCE),
    ConfigKey::new(
        "transaction.boundary",
        String,
        Medium,
        "Exactly Once Support",
        "Permitted values are: poll, interval, connector.",
    )
    .default("poll")
    .one_of(&["poll", "interval", "connector"])
    .unsupported(EXACTLY_ONCE),
    ConfigKey::new(
        "transaction.boundary.interval.ms",
        Long,
        Low,
        "Exactly Once Support",
        "If 'transaction.boundary' is set to 'interval', determines the interval for producer transaction commits by connector tasks.",
    )
    .range(0, i64::MAX)
    .unsupported(EXACTLY_ONCE),
    ConfigKey::new(
        "offsets.storage.topic",
        String,
        Low,
        "offsets.topic",
        "The name of a separate offsets topic to use for this connector.",
    )
    .unsupported(
        "per-connector offsets topics are not implemented; the worker's offset.storage.topic is used",
    ),
];

pub static SINK: &[ConfigKey] = &[
    ConfigKey::new(
        "topics",
        List,
        High,
        "Common",
        "List of topics to consume, separated by commas",
    )
    .default(""),
    ConfigKey::new(
        "topics.regex",
        String,
        High,
        "Common",
        "Regular expression giving topics to consume. Only one of topics or topics.regex should be specified.",
    )
    .default(""),
    ConfigKey::new(
        "errors.deadletterqueue.topic.name",
        String,
        Medium,
        "Error Handling",
        "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector.",
    )
    .default(""),
    ConfigKey::new(
        "errors.deadletterqueue.topic.replication.factor",
        Short,
        Medium,
        "Error Handling",
        "Replication factor used to create the dead letter queue topic when it doesn't already exist.",
    )
    .default("3"),
    ConfigKey::new(
        "errors.deadletterqueue.context.headers.enable",
        Boolean,
        Medium,
        "Error Handling",
        "If true, add headers containing error context to the messages written to the dead letter queue.",
    )
    .default("false"),
];
