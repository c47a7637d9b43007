//! Single message transforms and predicates by their Connect and Debezium class names. Each
//! class declares its options like a connector does (`ConfigDef`), so a bad option is reported
//! as `transforms.<alias>.<key>` by validate and by `sluice run` before anything starts.
//! A transform never drops a record silently: one it cannot process is an error, which the
//! connector's `errors.tolerance` handles.

mod cast;
mod date_format;
mod extract;
mod filter;
mod flatten;
mod headers;
mod insert;
mod logical_router;
mod mask;
mod operand;
mod outbox;
mod replace;
mod router;
mod schema_metadata;
mod timestamp;
mod unwrap;

use std::sync::Arc;

use sluice_config::common::{PredicateSpec, TransformSpec};
use sluice_config::def::ConfigDef;
use sluice_config::keys::NoDelegation;
use sluice_config::{CommonConfig, ConfigIssue, KeyReader, RawConfig};
use sluice_core::transform::{Predicate, Step, Transform, TransformChain};

/// A transform class: its names, declared options, and how to build it from them.
pub struct TransformClass {
    pub class: &'static str,
    pub def: ConfigDef,
    pub build: fn(&mut KeyReader<'_>) -> Option<Box<dyn Transform>>,
}

/// A predicate class.
pub struct PredicateClass {
    pub class: &'static str,
    pub def: ConfigDef,
    pub build: fn(&mut KeyReader<'_>) -> Option<Arc<dyn Predicate>>,
}

/// Every transform Sluice knows.
pub static TRANSFORMS: &[TransformClass] = &[
    transform(
        "org.apache.kafka.connect.transforms.InsertField$Key",
        insert::KEYS,
        insert::key,
    ),
    transform(
        "org.apache.kafka.connect.transforms.InsertField$Value",
        insert::KEYS,
        insert::value,
    ),
    transform(
        "org.apache.kafka.connect.transforms.ReplaceField$Key",
        replace::KEYS,
        replace::key,
    ),
    transform(
        "org.apache.kafka.connect.transforms.ReplaceField$Value",
        replace::KEYS,
        replace::value,
    ),
    transform(
        "org.apache.kafka.connect.transforms.ValueToKey",
        extract::VALUE_TO_KEY_KEYS,
        extract::value_to_key,
    ),
    transform(
        "org.apache.kafka.connect.transforms.ExtractField$Key",
        extract::EXTRACT_FIELD_KEYS,
        extract::extract_field::key,
    ),
    transform(
        "org.apache.kafka.connect.transforms.ExtractField$Value",
        extract::EXTRACT_FIELD_KEYS,
        extract::extract_field::value,
    ),
    transform(
        "org.apache.kafka.connect.transforms.HoistField$Key",
        extract::HOIST_FIELD_KEYS,
        extract::hoist_field::key,
    ),
    transform(
        "org.apache.kafka.connect.transforms.HoistField$Value",
        extract::HOIST_FIELD_KEYS,
        extract::hoist_field::value,
    ),
    transform(
        "org.apache.kafka.connect.transforms.MaskField$Key",
        mask::KEYS,
        mask::key,
    ),
    transform(
        "org.apache.kafka.connect.transforms.MaskField$Value",
        mask::KEYS,
        mask::value,
    ),
    transform(
        "org.apache.kafka.connect.transforms.Cast$Key",
        cast::KEYS,
        cast::key,
    ),
    transform(
        "org.apache.kafka.connect.transforms.Cast$Value",
        cast::KEYS,
        cast::value,
    ),
    transform(
        "org.apache.kafka.connect.transforms.RegexRouter",
        router::REGEX_ROUTER_KEYS,
        router::regex_router,
    ),
    transform(
        "org.apache.kafka.connect.transforms.TimestampConverter$Key",
        timestamp::CONVERTER_KEYS,
        timestamp::converter::key,
    ),
    transform(
        "org.apache.kafka.connect.transforms.TimestampConverter$Value",
        timestamp::CONVERTER_KEYS,
        timestamp::converter::value,
    ),
    transform(
        "org.apache.kafka.connect.transforms.TimestampRouter",
        timestamp::ROUTER_KEYS,
        timestamp::timestamp_router,
    ),
    transform(
        "org.apache.kafka.connect.transforms.SetSchemaMetadata$Key",
        schema_metadata::KEYS,
        schema_metadata::key,
    ),
    transform(
        "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value",
        schema_metadata::KEYS,
        schema_metadata::value,
    ),
    transform(
        "org.apache.kafka.connect.transforms.Flatten$Key",
        flatten::KEYS,
        flatten::key,
    ),
    transform(
        "org.apache.kafka.connect.transforms.Flatten$Value",
        flatten::KEYS,
        flatten::value,
    ),
    transform(
        "org.apache.kafka.connect.transforms.HeaderFrom$Key",
        headers::HEADER_FROM_KEYS,
        headers::header_from::key,
    ),
    transform(
        "org.apache.kafka.connect.transforms.HeaderFrom$Value",
        headers::HEADER_FROM_KEYS,
        headers::header_from::value,
    ),
    transform(
        "org.apache.kafka.connect.transforms.InsertHeader",
        headers::INSERT_HEADER_KEYS,
        headers::insert_header,
    ),
    transform(
        "org.apache.kafka.connect.transforms.DropHeaders",
        headers::DROP_HEADERS_KEYS,
        headers::drop_headers,
    ),
    transform(
        "org.apache.kafka.connect.transforms.Filter",
        &[],
        filter::filter,
    ),
    transform(
        "io.debezium.transforms.ExtractNewRecordState",
        unwrap::KEYS,
        unwrap::build,
    ),
    transform(
        "io.debezium.transforms.outbox.EventRouter",
        outbox::KEYS,
        outbox::build,
    ),
    transform(
        "io.debezium.transforms.ByLogicalTableRouter",
        &logical_router::BY_LOGICAL_TABLE_KEYS,
        logical_router::by_logical_table,
    ),
    transform(
        "io.debezium.transforms.ToLogicalTopicRouter",
        &logical_router::TO_LOGICAL_TOPIC_KEYS,
        logical_router::to_logical_topic,
    ),
];

const fn transform(
    class: &'static str,
    keys: &'static [sluice_config::def::ConfigKey],
    build: fn(&mut KeyReader<'_>) -> Option<Box<dyn Transform>>,
) -> TransformClass {
    TransformClass {
        class,
        def: ConfigDef { keys },
        build,
    }
}

/// Every predicate Sluice knows.
pub static PREDICATES: &[PredicateClass] = &[
    PredicateClass {
        class: "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
        def: ConfigDef { keys: &[] },
        build: filter::record_is_tombstone,
    },
    PredicateClass {
        class: "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        def: ConfigDef {
            keys: filter::TOPIC_NAME_MATCHES_KEYS,
        },
        build: filter::topic_name_matches,
    },
    PredicateClass {
        class: "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
        def: ConfigDef {
            keys: filter::HAS_HEADER_KEY_KEYS,
        },
        build: filter::has_header_key,
    },
];

pub fn find_transform(class: &str) -> Option<&'static TransformClass> {
    TRANSFORMS.iter().find(|t| t.class == class)
}

pub fn find_predicate(class: &str) -> Option<&'static PredicateClass> {
    PREDICATES.iter().find(|p| p.class == class)
}

/// The transforms chain a connector's config describes, with the warnings its options gave
/// (unknown options); or every problem found.
pub fn build_chain(
    common: &CommonConfig,
) -> Result<(TransformChain, Vec<ConfigIssue>), Vec<ConfigIssue>> {
    let mut issues = Vec::new();
    let mut warnings = Vec::new();
    let mut predicates: Vec<(String, Arc<dyn Predicate>)> = Vec::new();
    for spec in &common.predicates {
        let prefix = format!("predicates.{}.", spec.alias);
        match find_predicate(&spec.class) {
            None => issues.push(unknown_class(
                &prefix,
                &spec.class,
                PREDICATES.iter().map(|p| p.class),
            )),
            Some(class) => {
                let built = with_reader(
                    spec_props(spec),
                    &prefix,
                    class.def,
                    &mut issues,
                    &mut warnings,
                    |r| (class.build)(r),
                );
                if let Some(p) = built {
                    predicates.push((spec.alias.clone(), p));
                }
            }
        }
    }
    let mut steps = Vec::new();
    for spec in &common.transforms {
        let prefix = format!("transforms.{}.", spec.alias);
        let Some(class) = find_transform(&spec.class) else {
            issues.push(unknown_class(
                &prefix,
                &spec.class,
                TRANSFORMS.iter().map(|t| t.class),
            ));
            continue;
        };
        let built = with_reader(
            transform_props(spec),
            &prefix,
            class.def,
            &mut issues,
            &mut warnings,
            |r| (class.build)(r),
        );
        let predicate = spec
            .predicate
            .as_ref()
            .and_then(|p| predicates.iter().find(|(a, _)| a == p))
            .map(|(_, p)| p.clone());
        if let Some(transform) = built {
            steps.push(Step {
                alias: spec.alias.clone(),
                class: spec.class.clone(),
                transform,
                predicate,
                negate: spec.negate,
            });
        }
    }
    if issues.is_empty() {
        Ok((TransformChain::new(steps), warnings))
    } else {
        Err(issues)
    }
}

fn spec_props(spec: &PredicateSpec) -> RawConfig {
    RawConfig {
        name: spec.alias.clone(),
        props: spec.props.clone(),
    }
}

fn transform_props(spec: &TransformSpec) -> RawConfig {
    RawConfig {
        name: spec.alias.clone(),
        props: spec.props.clone(),
    }
}

fn with_reader<T>(
    raw: RawConfig,
    prefix: &str,
    def: ConfigDef,
    issues: &mut Vec<ConfigIssue>,
    warnings: &mut Vec<ConfigIssue>,
    build: impl FnOnce(&mut KeyReader<'_>) -> Option<T>,
) -> Option<T> {
    let mut r = KeyReader::new(&raw, &[def]).with_prefix(prefix);
    let built = build(&mut r);
    let (errs, warns) = r.finish(&NoDelegation);
    let ok = errs.is_empty();
    issues.extend(errs);
    warnings.extend(warns);
    built.filter(|_| ok)
}

fn unknown_class<'a>(
    prefix: &str,
    class: &str,
    known: impl Iterator<Item = &'a str>,
) -> ConfigIssue {
    ConfigIssue {
        key: format!("{prefix}type"),
        value: Some(class.to_owned()),
        message: format!(
            "Class {class} could not be found; Sluice implements {}",
            known.collect::<Vec<_>>().join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_config::ConnectorSettings;

    fn settings(extra: &str) -> ConnectorSettings {
        let json = format!(
            r#"{{"name":"s","connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector","topics":"a"{extra}}}"#
        );
        ConnectorSettings::parse(&RawConfig::from_json(&json, "s").unwrap()).unwrap()
    }

    /// The smallest valid options of each class.
    fn minimal(class: &str) -> &'static [(&'static str, &'static str)] {
        let short = class.rsplit('.').next().unwrap_or(class);
        let short = short.split('$').next().unwrap_or(short);
        match short {
            "InsertField" => &[("static.field", "a"), ("static.value", "b")],
            "ValueToKey" | "MaskField" => &[("fields", "a")],
            "ExtractField" | "HoistField" => &[("field", "a")],
            "Cast" => &[("spec", "int8")],
            "RegexRouter" => &[("regex", "a"), ("replacement", "b")],
            "TimestampConverter" => &[("target.type", "unix")],
            "SetSchemaMetadata" => &[("schema.name", "a")],
            "HeaderFrom" => &[("fields", "a"), ("headers", "b"), ("operation", "copy")],
            "InsertHeader" => &[("header", "a"), ("value.literal", "b")],
            "DropHeaders" => &[("headers", "a")],
            "ByLogicalTableRouter" | "ToLogicalTopicRouter" => {
                &[("topic.regex", "a"), ("topic.replacement", "b")]
            }
            _ => &[],
        }
    }

    #[test]
    fn every_class_builds_and_reads_every_key_it_declares() {
        use sluice_config::def::Support;
        let mut seen = std::collections::BTreeSet::new();
        for class in TRANSFORMS {
            assert!(seen.insert(class.class), "{} listed twice", class.class);
            let raw = RawConfig {
                name: "t".into(),
                props: minimal(class.class)
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            };
            let mut r = KeyReader::new(&raw, &[class.def]);
            let built = (class.build)(&mut r);
            let read = r.read_keys().clone();
            let (errors, _) = r.finish(&NoDelegation);
            assert!(
                built.is_some() && errors.is_empty(),
                "{}: {errors:?}",
                class.class
            );
            for key in class.def.keys {
                if key.support == Support::Yes {
                    assert!(
                        read.contains(key.name),
                        "{} never reads {}",
                        class.class,
                        key.name
                    );
                }
            }
        }
    }

    #[test]
    fn unknown_classes_and_bad_options_name_the_alias_and_key() {
        let s = settings(
            r#","transforms":"unwrap,route","transforms.unwrap.type":"com.example.Unwrap","transforms.route.type":"org.apache.kafka.connect.transforms.RegexRouter","transforms.route.regex":"(unclosed""#,
        );
        let issues = match build_chain(&s.common) {
            Err(issues) => issues,
            Ok(_) => panic!("accepted"),
        };
        let text: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        assert!(
            text.iter().any(|t| t.starts_with("Invalid value com.example.Unwrap for configuration transforms.unwrap.type: Class com.example.Unwrap could not be found")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("transforms.route.regex")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t
                    .contains("Missing required configuration \"transforms.route.replacement\"")),
            "{text:?}"
        );
    }
}
