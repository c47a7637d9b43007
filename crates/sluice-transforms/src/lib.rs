//! Single message transforms and predicates by their Connect and Debezium class names. Each
//! class declares its options like a connector does (`ConfigDef`), so a bad option is reported
//! as `transforms.<alias>.<key>` by validate and by `sluice run` before anything starts.
//! A transform never drops a record silently: one it cannot process is an error, which the
//! connector's `errors.tolerance` handles.

mod filter;
mod router;

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
    TransformClass {
        class: "org.apache.kafka.connect.transforms.RegexRouter",
        def: ConfigDef {
            keys: router::REGEX_ROUTER_KEYS,
        },
        build: router::regex_router,
    },
    TransformClass {
        class: "org.apache.kafka.connect.transforms.Filter",
        def: ConfigDef { keys: &[] },
        build: filter::filter,
    },
];

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
