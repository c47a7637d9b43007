//! The snapshot's fast path: each COPY text line written straight into the JSON payloads the
//! converter would write for its read event and key, with no Connect values in between.
//!
//! Per table, once: a text-to-JSON writer per column (`types::TextJson`), the field-name
//! prefixes, and per poll the envelope's tail (source block, `op`, times), which is the same
//! bytes for every row but the `snapshot` marker. Per row: the columns' text into the batch
//! buffer, the key copied from the row's own bytes, the cached tail. The cached parts are made
//! by the general encoder itself, so every record is byte for byte what the Connect-value path
//! writes (the tests compare the two).

use std::sync::Arc;

use sluice_core::json::write_value;
use sluice_core::record::{EncodedBatch, EncodedRecord};

use crate::envelope::{SourcePosition, TableEvents};
use crate::error::PostgresError;

/// What every read event's value starts with: no `before`, the row follows.
const READ_HEAD: &[u8] = b"{\"before\":null,\"after\":";

/// Builds one poll's batch of encoded read events.
pub struct ReadEvents {
    batch: EncodedBatch,
    now_us: i64,
    /// The table (by address) of each of `batch.topics`.
    tables: Vec<usize>,
    /// The envelope's tail after `after`, per table (by address) and marker, for this poll.
    tails: Vec<(usize, &'static str, Vec<u8>)>,
    /// Where each column's value lies in the batch buffer, for the key.
    spans: Vec<(usize, usize)>,
    scratch: Vec<u8>,
}

impl ReadEvents {
    /// `capacity`: bytes to reserve, e.g. the previous batch's size.
    pub fn new(now_us: i64, records: usize, capacity: usize) -> Self {
        ReadEvents {
            batch: EncodedBatch {
                buf: Vec::with_capacity(capacity),
                topics: Vec::new(),
                records: Vec::with_capacity(records),
            },
            now_us,
            tables: Vec::new(),
            tails: Vec::new(),
            spans: Vec::new(),
            scratch: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.batch.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.batch.records.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.batch.buf.len()
    }

    /// Appends the read event of one COPY line of `table`.
    pub fn push(
        &mut self,
        table: &Arc<TableEvents>,
        line: &[u8],
        pos: &SourcePosition,
    ) -> Result<(), PostgresError> {
        let topic = self.topic_index(table);
        let tail = self.tail(table, pos);
        let buf = &mut self.batch.buf;
        let value_start = buf.len();
        buf.extend_from_slice(READ_HEAD);
        table.write_copy_row(line, buf, &mut self.spans, &mut self.scratch)?;
        buf.extend_from_slice(&self.tails[tail].2);
        let value = (value_start, buf.len());
        let key = table
            .write_key_from(buf, &self.spans)
            .then_some((value.1, buf.len()));
        self.batch.records.push(EncodedRecord {
            topic,
            key,
            value: Some(value),
            timestamp_ms: self.now_us.div_euclid(1000),
        });
        Ok(())
    }

    pub fn finish(self) -> EncodedBatch {
        self.batch
    }

    fn topic_index(&mut self, table: &Arc<TableEvents>) -> u32 {
        let id = Arc::as_ptr(table) as usize;
        match self.tables.iter().rposition(|&t| t == id) {
            Some(i) => i as u32,
            None => {
                self.tables.push(id);
                self.batch.topics.push(table.encoded_topic());
                (self.tables.len() - 1) as u32
            }
        }
    }

    /// Index into `tails` of the envelope's tail for this table and marker, made by the general
    /// encoder from the same event with a null row and cut after `"after":null`.
    fn tail(&mut self, table: &Arc<TableEvents>, pos: &SourcePosition) -> usize {
        let key = Arc::as_ptr(table) as usize;
        if let Some(i) = self
            .tails
            .iter()
            .rposition(|(t, m, _)| *t == key && *m == pos.snapshot)
        {
            return i;
        }
        let record = table.change(
            "r",
            None,
            Some(sluice_core::data::Value::Null),
            pos,
            self.now_us,
        );
        let mut whole = Vec::with_capacity(1024);
        if let Some(value) = &record.value {
            if let Some(schema) = &value.schema {
                write_value(&mut whole, schema, &value.value);
            }
        }
        let head_len = READ_HEAD.len() + b"null".len();
        debug_assert!(whole.starts_with(READ_HEAD));
        let tail = whole.get(head_len..).unwrap_or_default().to_vec();
        self.tails.push((key, pos.snapshot, tail));
        self.tails.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CatalogColumn, TableInfo};
    use crate::envelope::SharedSchemas;
    use crate::snapshot::{row_from_copy, CopyRow};
    use crate::types::{ColumnDesc, PgType, PgTypeKind, ShapeSource};
    use sluice_config::postgres::PostgresConfig;
    use sluice_config::{ConnectorConfig, ConnectorSettings, RawConfig};
    use sluice_core::json::JsonConverter;
    use sluice_core::sink::convert;
    use sluice_core::topics::{encode_line, encoded_line};

    fn config(extra: &str) -> PostgresConfig {
        let json = format!(
            r#"{{"name":"c","connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":"h","database.user":"u","database.password":"p","database.dbname":"d","topic.prefix":"p"{extra}}}"#
        );
        match ConnectorSettings::parse(&RawConfig::from_json(&json, "c").unwrap())
            .unwrap()
            .connector
        {
            ConnectorConfig::Postgres(cfg) => *cfg,
            _ => unreachable!(),
        }
    }

    fn base(oid: u32, name: &str) -> PgType {
        PgType {
            oid,
            name: name.into(),
            kind: PgTypeKind::Base,
        }
    }

    fn array(element: PgType) -> PgType {
        PgType {
            oid: 60_000 + element.oid,
            name: format!("_{}", element.name),
            kind: PgTypeKind::Array {
                element: Box::new(element),
            },
        }
    }

    /// Every kind of column the fast path knows, and some it leaves to the general path, with
    /// COPY text as PostgreSQL prints it in the snapshot session (UTC, ISO) and `\N` for NULL.
    fn columns() -> Vec<(ColumnDesc, Vec<&'static str>)> {
        let col =
            |name: &str, ty: PgType, typmod: i32, not_null: bool, texts: Vec<&'static str>| {
                let desc = ColumnDesc {
                    name: name.into(),
                    ty,
                    typmod,
                    not_null,
                    default_expr: None,
                };
                (desc, texts)
            };
        let numeric = |p: i32, s: i32| ((p << 16) | s) + 4;
        let mood = PgType {
            oid: 70_000,
            name: "mood".into(),
            kind: PgTypeKind::Enum {
                labels: vec!["sad".into(), "ok".into(), "happy".into()],
            },
        };
        vec![
            col(
                "id",
                base(20, "int8"),
                -1,
                true,
                vec!["1", "-9223372036854775808", "9223372036854775807", "42"],
            ),
            col(
                "i2",
                base(21, "int2"),
                -1,
                false,
                vec!["-32768", "\\N", "7", "0"],
            ),
            col(
                "i4",
                base(23, "int4"),
                -1,
                false,
                vec!["2147483647", "-1", "\\N", "0"],
            ),
            col(
                "o",
                base(26, "oid"),
                -1,
                false,
                vec!["4294967295", "0", "1", "\\N"],
            ),
            col(
                "flag",
                base(16, "bool"),
                -1,
                false,
                vec!["t", "f", "\\N", "t"],
            ),
            col(
                "f4",
                base(700, "float4"),
                -1,
                false,
                vec!["3.3", "1e+20", "NaN", "-Infinity"],
            ),
            col(
                "f8",
                base(701, "float8"),
                -1,
                false,
                vec!["3", "1.7976931348623157e+308", "Infinity", "-0"],
            ),
            col(
                "n",
                base(1700, "numeric"),
                numeric(12, 2),
                false,
                vec!["1.10", "-0.01", "9999999999.99", "0.00"],
            ),
            col(
                "n0",
                base(1700, "numeric"),
                numeric(5, 0),
                false,
                vec!["-128", "127", "\\N", "32768"],
            ),
            col(
                "nv",
                base(1700, "numeric"),
                -1,
                false,
                vec!["10", "-1.2500", "123456789012345678901234567890.5", "0"],
            ),
            col(
                "nbig",
                base(1700, "numeric"),
                numeric(38, 10),
                false,
                vec![
                    "1234567890123456789012345678.0123456789",
                    "-1",
                    "\\N",
                    "0.0000000001",
                ],
            ),
            col(
                "m",
                base(790, "money"),
                -1,
                false,
                vec!["$1,000.10", "-$0.01", "\\N", "$0.00"],
            ),
            col(
                "t",
                base(25, "text"),
                -1,
                false,
                vec![
                    "plain",
                    "tab\\there\\nnew\\\\line \"q\"",
                    "\\001ctl\\037 é ☃ 𝄞",
                    "",
                ],
            ),
            col(
                "vc",
                base(1043, "varchar"),
                20,
                false,
                vec!["a/b", "\\N", "</script>\u{7f}", "\\x41\\102"],
            ),
            col(
                "bp",
                base(1042, "bpchar"),
                8,
                false,
                vec!["ab      ", "\\N", "x       ", "\\\\N     "],
            ),
            col(
                "u",
                base(2950, "uuid"),
                -1,
                false,
                vec![
                    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                    "\\N",
                    "00000000-0000-0000-0000-000000000000",
                    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12",
                ],
            ),
            col(
                "j",
                base(3802, "jsonb"),
                -1,
                false,
                vec![
                    "{\"k\": 1, \"v\": \"va\\\\\"lue\"}",
                    "[1, 2]",
                    "\\N",
                    "{\"s\": \"a\\\\nb\"}",
                ],
            ),
            col(
                "js",
                base(114, "json"),
                -1,
                false,
                vec!["{ \"a\" : [1,2] }", "\\N", "null", "\"x\""],
            ),
            col(
                "x",
                base(142, "xml"),
                -1,
                false,
                vec!["<a>1</a>", "\\N", "<b/>", "text"],
            ),
            col(
                "ip",
                base(869, "inet"),
                -1,
                false,
                vec!["192.168.0.1/24", "::1", "\\N", "10.0.0.1"],
            ),
            col(
                "d",
                base(1082, "date"),
                -1,
                false,
                vec!["2016-11-04", "0001-01-01 BC", "infinity", "\\N"],
            ),
            col(
                "tm",
                base(1083, "time"),
                -1,
                false,
                vec!["11:51:30.123456", "24:00:00", "\\N", "00:00:00"],
            ),
            col(
                "ttz",
                base(1266, "timetz"),
                -1,
                false,
                vec!["11:51:30.123+02", "24:00:00+00", "\\N", "00:00:00-05:30"],
            ),
            col(
                "ts",
                base(1114, "timestamp"),
                -1,
                false,
                vec![
                    "2016-11-04 11:51:30.123456",
                    "1900-01-01 00:00:00",
                    "infinity",
                    "\\N",
                ],
            ),
            col(
                "ts3",
                base(1114, "timestamp"),
                3,
                false,
                vec![
                    "2016-11-04 11:51:30.123",
                    "\\N",
                    "-infinity",
                    "2016-11-04 11:51:30",
                ],
            ),
            col(
                "tz",
                base(1184, "timestamptz"),
                -1,
                false,
                vec![
                    "2016-11-04 11:51:30.123456+00",
                    "2016-11-04 11:51:30+00",
                    "0044-03-15 12:00:00+00 BC",
                    "infinity",
                ],
            ),
            col(
                "tz3",
                base(1184, "timestamptz"),
                3,
                false,
                vec![
                    "2016-11-04 11:51:30.1+00",
                    "12345-01-01 00:00:00+00",
                    "-infinity",
                    "\\N",
                ],
            ),
            col(
                "tz0",
                base(1184, "timestamptz"),
                0,
                false,
                vec![
                    "2016-11-04 11:51:30+00",
                    "2016-11-04 11:51:30.5+05:30",
                    "9999-12-31 23:59:59+00",
                    "0001-01-01 00:00:00+00",
                ],
            ),
            col(
                "tzn",
                base(1184, "timestamptz"),
                -1,
                true,
                vec![
                    "2016-11-04 11:51:30.000001+00",
                    "2016-11-04 11:51:30.1+00",
                    "2016-11-04 11:51:30.12+00",
                    "2016-11-04 11:51:30.999999+00",
                ],
            ),
            col(
                "iv",
                base(1186, "interval"),
                -1,
                false,
                vec!["P1Y2M3DT4H5M6.78S", "\\N", "PT0S", "P-1D"],
            ),
            col(
                "b",
                base(17, "bytea"),
                -1,
                false,
                vec!["\\\\x0001ff", "\\\\x", "\\N", "\\\\xdeadbeef"],
            ),
            col(
                "bit1",
                base(1560, "bit"),
                1,
                false,
                vec!["1", "0", "\\N", "1"],
            ),
            col(
                "bit8",
                base(1560, "bit"),
                8,
                false,
                vec!["10101010", "\\N", "00000000", "11111111"],
            ),
            col(
                "pt",
                base(600, "point"),
                -1,
                false,
                vec!["(1,2)", "\\N", "(-1.5,3e+20)", "(0,0)"],
            ),
            col(
                "r",
                base(3904, "int4range"),
                -1,
                false,
                vec!["[1,10)", "empty", "\\N", "(,5]"],
            ),
            col("e", mood, -1, false, vec!["happy", "sad", "\\N", "ok"]),
            col(
                "ai",
                array(base(23, "int4")),
                -1,
                false,
                vec!["{1,2,3}", "{}", "\\N", "{NULL,4}"],
            ),
            col(
                "ai2",
                array(base(21, "int2")),
                -1,
                false,
                vec!["{-32768,32767}", "{NULL,NULL}", "{}", "\\N"],
            ),
            col(
                "ai8",
                array(base(20, "int8")),
                -1,
                true,
                vec!["{9223372036854775807,-1}", "{NULL}", "\\N", "{0}"],
            ),
            col(
                "at",
                array(base(25, "text")),
                -1,
                false,
                vec!["{a,\"b c\",\"d\\\\\\\\\\\\\"e\"}", "\\N", "{}", "{NULL}"],
            ),
            col(
                "ajn",
                array(base(3802, "jsonb")),
                -1,
                true,
                vec![
                    "{\"{\\\\\"a\\\\\": 1}\",NULL,\"[]\"}",
                    "{\"\",\"NULL\",null,ü}",
                    "\\N",
                    "{}",
                ],
            ),
            col(
                "an",
                array(base(1700, "numeric")),
                numeric(10, 2),
                false,
                vec!["{1.10,2.00}", "\\N", "{}", "{-0.01}"],
            ),
            col(
                "atz",
                array(base(1184, "timestamptz")),
                -1,
                false,
                vec![
                    "{\"2016-11-04 11:51:30.123456+00\"}",
                    "\\N",
                    "{}",
                    "{infinity}",
                ],
            ),
            col(
                "aj",
                array(base(3802, "jsonb")),
                -1,
                false,
                vec!["{\"{\\\\\"a\\\\\": 1}\"}", "\\N", "{}", "{NULL}"],
            ),
            col(
                "ci",
                base(50_000, "citext"),
                -1,
                false,
                vec!["MiXeD", "\\N", "", "x"],
            ),
            col(
                "hs",
                base(50_001, "hstore"),
                -1,
                false,
                vec!["\"a\"=>\"1\", \"b\"=>NULL", "\\N", "", "\"k\"=>\"v\""],
            ),
        ]
    }

    fn table(cfg: &PostgresConfig) -> Arc<TableEvents> {
        let cols = columns();
        let info = TableInfo {
            oid: 1,
            schema: "public".into(),
            name: "all \"types\"".into(),
            columns: cols
                .iter()
                .map(|(desc, _)| CatalogColumn {
                    desc: desc.clone(),
                    generated: false,
                    captured: true,
                })
                .collect(),
            // Not in column order: the key's fields are copied from anywhere in the row.
            primary_key: vec!["t".into(), "id".into()],
            replica_identity: 'd',
            partitioned: false,
        };
        Arc::new(TableEvents::new(info, cfg, &SharedSchemas::new(), ShapeSource::Catalog).unwrap())
    }

    fn lines() -> Vec<String> {
        let cols = columns();
        (0..4)
            .map(|i| {
                cols.iter()
                    .map(|(_, texts)| texts[i])
                    .collect::<Vec<_>>()
                    .join("\t")
            })
            .collect()
    }

    /// The fast path's records against the Connect-value path's, byte for byte, in every
    /// converter and handling mode.
    #[test]
    fn fast_path_writes_the_same_bytes_as_connect_values() {
        let modes = [
            "",
            r#","decimal.handling.mode":"string","time.precision.mode":"connect","binary.handling.mode":"hex""#,
            r#","decimal.handling.mode":"double","interval.handling.mode":"string","hstore.handling.mode":"map""#,
        ];
        for mode in modes {
            let cfg = config(mode);
            let table = table(&cfg);
            let now = 1_700_000_000_123_456;
            let mut events = ReadEvents::new(now, 16, 0);
            let mut want = Vec::new();
            for (i, line) in lines().iter().enumerate() {
                let pos = SourcePosition {
                    ts_us: now - 5_000,
                    snapshot: if i == 0 { "first" } else { "true" },
                    last_commit_lsn: None,
                    lsn: Some(123_456),
                    tx_id: Some(789),
                };
                events.push(&table, line.as_bytes(), &pos).unwrap();
                let row = row_from_copy(&table, &CopyRow::parse(line.as_bytes())).unwrap();
                want.push(table.change("r", None, Some(row), &pos, now));
            }
            let batch = events.finish();
            assert_eq!(batch.records.len(), want.len());
            for schemas_enable in [true, false] {
                let conv = JsonConverter { schemas_enable };
                let c = sluice_core::json::Converter::Json(conv);
                for (i, (r, record)) in batch.records.iter().zip(&want).enumerate() {
                    let bytes = convert(record, &c, &c).unwrap();
                    let mut line = Vec::new();
                    encode_line(&mut line, &bytes, 0, Some(i as i64));
                    let mut fast = Vec::new();
                    encoded_line(&mut fast, &batch, r, conv, conv, 0, Some(i as i64));
                    assert_eq!(
                        String::from_utf8_lossy(&fast),
                        String::from_utf8_lossy(&line),
                        "record {i}, mode {mode:?}, schemas {schemas_enable}"
                    );
                }
            }
        }
    }

    #[test]
    fn timestamps_reformat_as_the_general_path_parses_them() {
        let cfg = config("");
        for width in [-1, 0, 1, 3, 6] {
            let desc = ColumnDesc {
                name: "tz".into(),
                ty: base(1184, "timestamptz"),
                typmod: width,
                not_null: false,
                default_expr: None,
            };
            let schema = crate::types::column_schema(&desc, &cfg.types)
                .unwrap()
                .unwrap();
            let kind = crate::types::TextJson::of(&desc, &cfg.types);
            for secs in (0..200).map(|i: i64| -62_135_596_800 + i * 1_272_722_131) {
                for fraction in ["", ".5", ".123", ".000001", ".999999", ".100000"] {
                    let (y, rest) = {
                        let days = secs.div_euclid(86_400);
                        let (y, m, d) = civil(days);
                        let s = secs.rem_euclid(86_400);
                        (
                            y,
                            format!(
                                "-{m:02}-{d:02} {:02}:{:02}:{:02}",
                                s / 3600,
                                s / 60 % 60,
                                s % 60
                            ),
                        )
                    };
                    let text = format!("{y:04}{rest}{fraction}+00");
                    let mut fast = Vec::new();
                    crate::types::write_text_json(
                        kind, &desc, &schema, &text, &cfg.types, &mut fast,
                    )
                    .unwrap();
                    let value =
                        crate::types::decode_text(&desc, &schema, &text, &cfg.types).unwrap();
                    let mut general = Vec::new();
                    write_value(&mut general, &schema, &value);
                    assert_eq!(fast, general, "{text} width {width}");
                }
            }
        }
    }

    /// Year, month, day of days since 1970-01-01 (proleptic Gregorian).
    fn civil(z: i64) -> (i64, u32, u32) {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }
}
