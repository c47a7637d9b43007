//! Source partitions and offsets exactly as Confluent stores them, so offsets move between
//! Kafka Connect and Sluice: a table's partition is `{"protocol":"1","table":"schema.table"}`
//! (offset protocol V1; V0, `{"table":"table"}`, is still read), the query's is
//! `{"query":"query"}`; an offset holds `incrementing`, and/or `timestamp` (epoch ms) with
//! `timestamp_nanos` (the nanoseconds of that second, as `java.sql.Timestamp` keeps them).
//! Keys are written in the order Java's HashMap serializes them.

use serde_json::{json, Map, Value as Json};
use sluice_core::record::SourceOffset;

use crate::identifier::TableId;

/// An instant with nanosecond precision: `java.sql.Timestamp`'s millis and nanos-of-second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    /// Nanoseconds since the epoch.
    pub nanos: i128,
}

impl Instant {
    pub const EPOCH: Instant = Instant { nanos: 0 };

    #[cfg(test)]
    pub fn from_micros(us: i64) -> Self {
        Instant {
            nanos: i128::from(us) * 1000,
        }
    }

    pub fn from_millis(ms: i64) -> Self {
        Instant {
            nanos: i128::from(ms) * 1_000_000,
        }
    }

    /// `Timestamp.getTime()`: milliseconds, floored.
    pub fn millis(self) -> i64 {
        self.nanos.div_euclid(1_000_000) as i64
    }

    /// `Timestamp.getNanos()`: the nanoseconds within the second.
    pub fn nanos_of_second(self) -> i64 {
        self.nanos.rem_euclid(1_000_000_000) as i64
    }

    /// `new Timestamp(ms)` then `setNanos(nanos)`.
    pub fn from_offset(ms: i64, nanos: Option<i64>) -> Self {
        let base = i128::from(ms.div_euclid(1000)) * 1_000_000_000;
        match nanos {
            Some(n) => Instant {
                nanos: base + i128::from(n),
            },
            None => Instant::from_millis(ms),
        }
    }
}

/// Confluent's `TimestampIncrementingOffset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Offset {
    pub timestamp: Option<Instant>,
    pub incrementing: Option<i64>,
}

impl Offset {
    /// The timestamp the next query starts after (the epoch when there is none).
    pub fn timestamp_or_epoch(&self) -> Instant {
        self.timestamp.unwrap_or(Instant::EPOCH)
    }

    /// The incrementing value the next query starts after (-1 when there is none).
    pub fn incrementing_or_start(&self) -> i64 {
        self.incrementing.unwrap_or(-1)
    }

    pub fn to_json(self) -> Json {
        let mut m = Map::new();
        if let Some(ts) = self.timestamp {
            m.insert("timestamp_nanos".into(), json!(ts.nanos_of_second()));
        }
        if let Some(i) = self.incrementing {
            m.insert("incrementing".into(), json!(i));
        }
        if let Some(ts) = self.timestamp {
            m.insert("timestamp".into(), json!(ts.millis()));
        }
        Json::Object(m)
    }

    pub fn from_json(offset: &Json) -> Offset {
        let timestamp = offset.get("timestamp").and_then(Json::as_i64).map(|ms| {
            Instant::from_offset(ms, offset.get("timestamp_nanos").and_then(Json::as_i64))
        });
        Offset {
            timestamp,
            incrementing: offset.get("incrementing").and_then(Json::as_i64),
        }
    }
}

/// The partition a table's offsets are written under (protocol V1).
pub fn table_partition(table: &TableId) -> Json {
    json!({"protocol": "1", "table": table.unquoted()})
}

/// The partitions a table's stored offsets may be under, newest protocol first (as
/// `JdbcSourceTask.possibleTablePartitions`).
pub fn table_partitions_to_read(table: &TableId) -> [Json; 2] {
    [table_partition(table), json!({"table": table.table})]
}

/// The query's partition.
pub fn query_partition() -> Json {
    json!({"query": "query"})
}

/// A record's offset, for the driver.
pub fn source_offset(partition: &Json, offset: Offset) -> SourceOffset {
    SourceOffset {
        partition: partition.clone(),
        offset: offset.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Ported from TimestampIncrementingOffsetTest.
    #[test]
    fn offsets_round_trip_as_confluent_writes_them() {
        let ts = Instant::from_offset(100, Some(100_000_000));
        let both = Offset {
            timestamp: Some(ts),
            incrementing: Some(1000),
        };
        let j = both.to_json();
        assert_eq!(
            serde_json::to_string(&j).unwrap(),
            r#"{"timestamp_nanos":100000000,"incrementing":1000,"timestamp":100}"#
        );
        assert_eq!(Offset::from_json(&j), both);
        assert_eq!(Offset::from_json(&json!({})), Offset::default());
        assert_eq!(Offset::default().timestamp_or_epoch(), Instant::EPOCH);
        assert_eq!(Offset::default().incrementing_or_start(), -1);
        assert_eq!(
            Offset::from_json(&json!({"incrementing": 7})).to_json(),
            json!({"incrementing": 7})
        );
        // A microsecond timestamp keeps its micros in timestamp_nanos.
        let us = Instant::from_micros(1_628_815_418_508_453);
        let o = Offset {
            timestamp: Some(us),
            incrementing: None,
        };
        assert_eq!(
            o.to_json(),
            json!({"timestamp_nanos": 508_453_000, "timestamp": 1_628_815_418_508i64})
        );
        assert_eq!(Offset::from_json(&o.to_json()).timestamp, Some(us));
        // Before the epoch: millis floor, nanos stay positive (java.sql.Timestamp).
        let neg = Instant::from_micros(-1);
        assert_eq!((neg.millis(), neg.nanos_of_second()), (-1, 999_999_000));
        assert_eq!(Instant::from_offset(-1, Some(999_999_000)), neg);
    }

    #[test]
    fn partitions() {
        let t = TableId::new("public", "address");
        assert_eq!(
            serde_json::to_string(&table_partition(&t)).unwrap(),
            r#"{"protocol":"1","table":"public.address"}"#
        );
        assert_eq!(table_partitions_to_read(&t)[1], json!({"table": "address"}));
        assert_eq!(query_partition(), json!({"query": "query"}));
    }
}
