//! The statements the querier runs, built as Confluent's `BulkTableQuerier`,
//! `TimestampIncrementingTableQuerier` and `TimestampIncrementingCriteria` build them: the
//! table's `SELECT * FROM` or the user's query text, then the criteria appended as is (a query
//! is never wrapped: one with its own WHERE must bring its own subquery), then `query.suffix`.
//! Parameters are bound as pgjdbc binds `setTimestamp(..., calendar)` and `setLong`: typed by
//! what the server infers for them.

use bytes::{BufMut, BytesMut};
use sluice_config::jdbc_source::QuoteMethod;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use super::offset::Instant;
use crate::identifier::{column, TableId};

/// Which columns the criteria use.
#[derive(Debug, Clone, PartialEq)]
pub struct Criteria {
    /// The incrementing column, when the mode has one.
    pub incrementing: Option<String>,
    /// The timestamp columns (COALESCE'd in order), when the mode has them.
    pub timestamps: Vec<String>,
}

impl Criteria {
    fn coalesce(&self, table: Option<&TableId>, quote: QuoteMethod) -> String {
        let cols: Vec<String> = self
            .timestamps
            .iter()
            .map(|c| column(table, c, quote))
            .collect();
        if cols.len() == 1 {
            cols.into_iter().next().unwrap_or_default()
        } else {
            format!("COALESCE({})", cols.join(","))
        }
    }

    /// The WHERE and ORDER BY Confluent appends; empty for bulk.
    pub fn where_clause(&self, table: Option<&TableId>, quote: QuoteMethod) -> String {
        match (&self.incrementing, self.timestamps.is_empty()) {
            (Some(inc), false) => {
                let ts = self.coalesce(table, quote);
                let inc = column(table, inc, quote);
                format!(" WHERE {ts} < $1 AND (({ts} = $2 AND {inc} > $3) OR {ts} > $4) ORDER BY {ts},{inc} ASC")
            }
            (None, false) => {
                let ts = self.coalesce(table, quote);
                format!(" WHERE {ts} > $1 AND {ts} < $2 ORDER BY {ts} ASC")
            }
            (Some(inc), true) => {
                let inc = column(table, inc, quote);
                format!(" WHERE {inc} > $1 ORDER BY {inc} ASC")
            }
            (None, true) => String::new(),
        }
    }

    /// The parameters, in the order of `where_clause`'s placeholders: `end` is the database's
    /// current time less `timestamp.delay.interval.ms`.
    pub fn params(&self, begin: Instant, end: Instant, last: i64) -> Vec<Param> {
        match (self.incrementing.is_some(), self.timestamps.is_empty()) {
            (true, false) => vec![
                Param::Timestamp(end),
                Param::Timestamp(begin),
                Param::Long(last),
                Param::Timestamp(begin),
            ],
            (false, false) => vec![Param::Timestamp(begin), Param::Timestamp(end)],
            (true, true) => vec![Param::Long(last)],
            (false, true) => Vec::new(),
        }
    }
}

/// The statement text: `SELECT * FROM <table>` or the query, the criteria, the suffix.
pub fn statement(
    table: Option<&TableId>,
    query: Option<&str>,
    criteria: &Criteria,
    quote: QuoteMethod,
    suffix: &str,
) -> String {
    let mut sql = match (table, query) {
        (Some(t), _) => format!("SELECT * FROM {}", t.sql(quote)),
        (None, Some(q)) => q.to_owned(),
        (None, None) => String::new(),
    };
    sql.push_str(&criteria.where_clause(table, quote));
    if !suffix.is_empty() {
        sql.push(' ');
        sql.push_str(suffix);
    }
    sql
}

/// A criteria parameter. The zone turns an instant into the wall clock a `timestamp` column
/// is compared with (pgjdbc sends the instant formatted in the calendar's zone, untyped).
#[derive(Debug, Clone)]
pub enum Param {
    Timestamp(Instant),
    Long(i64),
}

/// A parameter with the zone it is bound in.
#[derive(Debug)]
pub struct Bound<'a> {
    pub param: &'a Param,
    pub zone: &'a jiff::tz::TimeZone,
}

const PG_EPOCH_US: i128 = 946_684_800_000_000;

impl Bound<'_> {
    /// The wall clock in the zone, as microseconds since 2000-01-01.
    fn wall_us(&self, i: Instant) -> Result<i64, Box<dyn std::error::Error + Sync + Send>> {
        let secs = i.nanos.div_euclid(1_000_000_000) as i64;
        let sub_us = (i.nanos.rem_euclid(1_000_000_000) / 1000) as i64;
        let offset = self
            .zone
            .to_offset(jiff::Timestamp::from_second(secs)?)
            .seconds();
        Ok(
            ((i128::from(secs) + i128::from(offset)) * 1_000_000 + i128::from(sub_us) - PG_EPOCH_US)
                as i64,
        )
    }
}

impl ToSql for Bound<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match (self.param, ty) {
            (Param::Timestamp(i), &Type::TIMESTAMPTZ) => {
                out.put_i64((i.nanos.div_euclid(1000) - PG_EPOCH_US) as i64)
            }
            (Param::Timestamp(i), &Type::TIMESTAMP) => out.put_i64(self.wall_us(*i)?),
            (Param::Timestamp(i), &Type::DATE) => {
                out.put_i32(self.wall_us(*i)?.div_euclid(86_400_000_000) as i32)
            }
            (Param::Timestamp(i), _) => {
                // Text (or a type the server left unknown): pgjdbc's string form.
                let wall = self.wall_us(*i)? as i128 + PG_EPOCH_US;
                let ts = jiff::Timestamp::from_microsecond(wall as i64)?;
                let dt = jiff::tz::Offset::UTC.to_datetime(ts);
                let off = self.zone.to_offset(jiff::Timestamp::from_microsecond(
                    (i.nanos.div_euclid(1000)) as i64,
                )?);
                let text = format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}{}",
                    dt.year(),
                    dt.month(),
                    dt.day(),
                    dt.hour(),
                    dt.minute(),
                    dt.second(),
                    dt.subsec_nanosecond() / 1000,
                    off
                );
                out.extend_from_slice(text.as_bytes());
            }
            (Param::Long(v), &Type::INT8) => out.put_i64(*v),
            (Param::Long(v), &Type::INT4) => out.put_i32(i32::try_from(*v)?),
            (Param::Long(v), &Type::INT2) => out.put_i16(i16::try_from(*v)?),
            (Param::Long(v), &Type::NUMERIC) => numeric_from_i64(*v, out),
            (Param::Long(v), &Type::FLOAT8) => out.put_f64(*v as f64),
            (Param::Long(v), &Type::FLOAT4) => out.put_f32(*v as f32),
            (Param::Long(v), _) => out.extend_from_slice(v.to_string().as_bytes()),
        }
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// numeric_recv's format for a whole number.
fn numeric_from_i64(v: i64, out: &mut BytesMut) {
    let mut digits = Vec::new();
    let mut n = i128::from(v).unsigned_abs();
    while n > 0 {
        digits.push((n % 10_000) as i16);
        n /= 10_000;
    }
    digits.reverse();
    out.put_i16(digits.len() as i16);
    out.put_i16(digits.len().saturating_sub(1) as i16);
    out.put_u16(if v < 0 { 0x4000 } else { 0 });
    out.put_u16(0);
    for d in digits {
        out.put_i16(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crit(inc: Option<&str>, ts: &[&str]) -> Criteria {
        Criteria {
            incrementing: inc.map(str::to_owned),
            timestamps: ts.iter().map(|s| s.to_string()).collect(),
        }
    }

    // Ported from TimestampIncrementingCriteriaTest (with PostgreSQL's $n placeholders).
    #[test]
    fn where_clauses_as_confluent_builds_them() {
        let t = TableId {
            schema: None,
            table: "myTable".into(),
        };
        let q = QuoteMethod::Always;
        assert_eq!(
            crit(Some("id"), &[]).where_clause(Some(&t), q),
            " WHERE \"myTable\".\"id\" > $1 ORDER BY \"myTable\".\"id\" ASC"
        );
        assert_eq!(
            crit(Some("id"), &[]).where_clause(Some(&t), QuoteMethod::Never),
            " WHERE myTable.id > $1 ORDER BY myTable.id ASC"
        );
        assert_eq!(
            crit(None, &["ts1", "ts2"]).where_clause(Some(&t), q),
            " WHERE COALESCE(\"myTable\".\"ts1\",\"myTable\".\"ts2\") > $1 AND COALESCE(\"myTable\".\"ts1\",\"myTable\".\"ts2\") < $2 ORDER BY COALESCE(\"myTable\".\"ts1\",\"myTable\".\"ts2\") ASC"
        );
        assert_eq!(
            crit(Some("id"), &["ts1", "ts2"]).where_clause(Some(&t), QuoteMethod::Never),
            " WHERE COALESCE(myTable.ts1,myTable.ts2) < $1 AND ((COALESCE(myTable.ts1,myTable.ts2) = $2 AND myTable.id > $3) OR COALESCE(myTable.ts1,myTable.ts2) > $4) ORDER BY COALESCE(myTable.ts1,myTable.ts2),myTable.id ASC"
        );
    }

    // As seed 001 prints the statements the connector runs.
    #[test]
    fn statements_as_seed_001_shows_them() {
        let t = TableId::new("public", "address");
        let ts = crit(None, &["last_update"]);
        assert_eq!(
            statement(Some(&t), None, &ts, QuoteMethod::Always, ""),
            "SELECT * FROM \"public\".\"address\" WHERE \"public\".\"address\".\"last_update\" > $1 AND \"public\".\"address\".\"last_update\" < $2 ORDER BY \"public\".\"address\".\"last_update\" ASC"
        );
        let q = "SELECT * FROM (SELECT a.address_id, a.last_update FROM address AS a ORDER BY address_id) AS subquery";
        assert_eq!(
            statement(None, Some(q), &ts, QuoteMethod::Always, "LIMIT 10"),
            format!("{q} WHERE \"last_update\" > $1 AND \"last_update\" < $2 ORDER BY \"last_update\" ASC LIMIT 10")
        );
        assert_eq!(
            statement(Some(&t), None, &crit(None, &[]), QuoteMethod::Always, ""),
            "SELECT * FROM \"public\".\"address\""
        );
    }

    #[test]
    fn parameters_in_placeholder_order() {
        let (b, e) = (Instant::from_millis(1), Instant::from_millis(2));
        let p = crit(Some("id"), &["ts"]).params(b, e, 7);
        assert!(matches!(
            p.as_slice(),
            [Param::Timestamp(x), Param::Timestamp(y), Param::Long(7), Param::Timestamp(z)] if *x == e && *y == b && *z == b
        ));
        assert!(
            matches!(crit(None, &["ts"]).params(b, e, 7).as_slice(), [Param::Timestamp(x), Param::Timestamp(y)] if *x == b && *y == e)
        );
    }

    #[test]
    fn numeric_parameters() {
        let mut out = BytesMut::new();
        numeric_from_i64(-123_456_789, &mut out);
        assert_eq!(
            out.to_vec(),
            vec![0, 3, 0, 2, 0x40, 0, 0, 0, 0, 1, 0x09, 0x29, 0x1a, 0x85]
        );
    }
}
