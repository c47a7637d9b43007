//! The declared keys of every connector class, the parts Connect shares between classes, and
//! the worker's own properties.

pub mod connect;
pub mod jdbc_sink;
pub mod jdbc_source;
pub mod postgres;
pub mod worker;

#[cfg(test)]
mod tests {
    use super::connect::{COMMON, SINK, SOURCE};
    use super::jdbc_source::JDBC_SOURCE;
    use super::postgres::POSTGRES;
    use super::worker::WORKER;
    use crate::def::{ConfigKey, Default, KeyType, Valid};
    use crate::s3::KEYS as S3;
    use std::collections::HashSet;

    fn tables() -> [(&'static str, &'static [ConfigKey]); 7] {
        [
            ("S3", S3),
            ("POSTGRES", POSTGRES),
            ("JDBC_SOURCE", JDBC_SOURCE),
            ("COMMON", COMMON),
            ("SOURCE", SOURCE),
            ("SINK", SINK),
            ("WORKER", WORKER),
        ]
    }

    /// Names and aliases, each once.
    fn assert_unique<'a>(what: &str, keys: impl IntoIterator<Item = &'a ConfigKey>) {
        let mut seen = HashSet::new();
        for k in keys {
            for name in std::iter::once(&k.name).chain(k.aliases) {
                assert!(seen.insert(*name), "{what}: {name} is declared twice");
            }
        }
    }

    #[test]
    fn defs_no_duplicate_names_within_a_table() {
        for (what, keys) in tables() {
            assert_unique(what, keys);
        }
    }

    #[test]
    fn defs_no_duplicate_names_across_connector_tables() {
        assert_unique(
            "POSTGRES+COMMON+SOURCE",
            POSTGRES.iter().chain(COMMON).chain(SOURCE),
        );
        assert_unique(
            "JDBC_SOURCE+COMMON+SOURCE",
            JDBC_SOURCE.iter().chain(COMMON).chain(SOURCE),
        );
        assert_unique("COMMON+SINK", COMMON.iter().chain(SINK));
        assert_unique("S3+COMMON+SINK", S3.iter().chain(COMMON).chain(SINK));
    }

    #[test]
    fn defs_one_of_defaults_are_allowed_values() {
        for (what, keys) in tables() {
            for k in keys {
                if let (Valid::OneOf(values), Default::Value(d)) = (k.valid, k.default) {
                    assert!(
                        values.iter().any(|v| v.eq_ignore_ascii_case(d)),
                        "{what}: default {d:?} of {} is not one of {values:?}",
                        k.name
                    );
                }
            }
        }
    }

    #[test]
    fn defs_one_of_values_are_lowercase() {
        for (what, keys) in tables() {
            for k in keys {
                if let Valid::OneOf(values) = k.valid {
                    for v in values {
                        assert_eq!(*v, v.to_ascii_lowercase(), "{what}: {}", k.name);
                    }
                }
            }
        }
    }

    #[test]
    fn defs_numeric_defaults_parse_and_lie_in_range() {
        for (what, keys) in tables() {
            for k in keys {
                let Default::Value(d) = k.default else {
                    continue;
                };
                match k.ty {
                    KeyType::Int | KeyType::Long | KeyType::Short => {
                        let n: i64 = d.parse().unwrap_or_else(|_| {
                            panic!("{what}: default {d:?} of {} is not an integer", k.name)
                        });
                        let (lo, hi) = match k.ty {
                            KeyType::Int => (i64::from(i32::MIN), i64::from(i32::MAX)),
                            KeyType::Short => (i64::from(i16::MIN), i64::from(i16::MAX)),
                            _ => (i64::MIN, i64::MAX),
                        };
                        assert!(
                            (lo..=hi).contains(&n),
                            "{what}: {} default {n} overflows its type",
                            k.name
                        );
                        if let Valid::Range(min, max) = k.valid {
                            assert!(
                                (min..=max).contains(&n),
                                "{what}: {} default {n} is outside {min}..={max}",
                                k.name
                            );
                        }
                    }
                    KeyType::Double => {
                        d.parse::<f64>().unwrap_or_else(|_| {
                            panic!("{what}: default {d:?} of {} is not a number", k.name)
                        });
                    }
                    KeyType::Boolean => assert!(
                        d == "true" || d == "false",
                        "{what}: default {d:?} of {} is not a boolean",
                        k.name
                    ),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn defs_ranges_only_on_numeric_keys_and_ordered() {
        for (what, keys) in tables() {
            for k in keys {
                if let Valid::Range(min, max) = k.valid {
                    assert!(
                        matches!(k.ty, KeyType::Int | KeyType::Long | KeyType::Short),
                        "{what}: {} has a range but is {}",
                        k.name,
                        k.ty.name()
                    );
                    assert!(min <= max, "{what}: {} has an empty range", k.name);
                }
            }
        }
    }

    #[test]
    fn defs_docs_are_short_plain_ascii() {
        for (what, keys) in tables() {
            for k in keys {
                assert!(k.doc.is_ascii(), "{what}: doc of {} is not ASCII", k.name);
                assert!(!k.doc.is_empty(), "{what}: {} has no doc", k.name);
                assert!(
                    k.doc.len() <= 200,
                    "{what}: doc of {} is {} chars",
                    k.name,
                    k.doc.len()
                );
                assert!(!k.group.is_empty(), "{what}: {} has no group", k.name);
            }
        }
    }

    #[test]
    fn defs_postgres_support_marking() {
        const HONOURED: &[&str] = &[
            "database.hostname",
            "database.port",
            "database.user",
            "database.password",
            "database.dbname",
            "topic.prefix",
            "plugin.name",
            "slot.name",
            "publication.name",
            "publication.autocreate.mode",
            "slot.drop.on.stop",
            "schema.include.list",
            "schema.exclude.list",
            "table.include.list",
            "table.exclude.list",
            "column.include.list",
            "column.exclude.list",
            "snapshot.mode",
            "heartbeat.interval.ms",
            "topic.heartbeat.prefix",
            "heartbeat.action.query",
            "decimal.handling.mode",
            "time.precision.mode",
            "binary.handling.mode",
            "interval.handling.mode",
            "hstore.handling.mode",
            "tombstones.on.delete",
            "message.key.columns",
            "skipped.operations",
            "max.batch.size",
            "max.queue.size",
            "snapshot.max.threads",
            "unavailable.value.placeholder",
            "status.update.interval.ms",
            "provide.transaction.metadata",
            "topic.transaction",
            "column.propagate.source.type",
            "datatype.propagate.source.type",
            "database.sslmode",
            "database.sslrootcert",
            "database.sslcert",
            "database.sslkey",
            "database.sslpassword",
            "slot.drop.on.delete",
            "slot.retained.wal.warn.bytes",
        ];
        for k in POSTGRES {
            let honoured = k.support == crate::def::Support::Yes;
            assert_eq!(
                honoured,
                HONOURED.contains(&k.name),
                "{} is marked {:?}",
                k.name,
                k.support
            );
        }
        for name in HONOURED {
            assert!(POSTGRES.iter().any(|k| k.name == *name), "{name} missing");
        }
        for shared in ["name", "connector.class", "tasks.max", "errors.max.retries"] {
            assert!(
                POSTGRES.iter().all(|k| k.name != shared),
                "{shared} is shared"
            );
        }
    }
}
