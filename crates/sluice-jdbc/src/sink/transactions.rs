//! The transaction-consistent mode (`sluice.transaction.topic`): with the source's
//! `provide.transaction.metadata`, the sink reads the transaction topic beside the tables'
//! topics and holds each change back until its whole source transaction is in hand (the END
//! record says how many changes it had, and every change says which of them it is). Complete
//! transactions are applied in commit order (the transaction topic's order), their changes in
//! the order the source made them, so the target goes only through states the source had.
//!
//! Duplicates: a source that restarts sends the transactions after its last committed offset
//! again. A transaction whose END position is not past the last one applied (kept with the
//! consumer positions in the target) is collected like any other, then dropped instead of
//! applied. Consumer positions never pass a record held back (`held_from`): a restart reads
//! again every change not yet applied or dropped, and the END that completes it.

use std::collections::{BTreeMap, HashMap, VecDeque};

use sluice_core::data::{Schema, Value};
use sluice_core::record::Record;

use super::change::Change;

/// Where a record was read: topic, partition, offset.
pub(crate) type At = (String, i32, i64);

/// What a record is to this mode.
pub(crate) enum Kind {
    /// A BEGIN on the transaction topic: nothing to do.
    Begin,
    /// An END on the transaction topic.
    End { xid: u32, end_lsn: u64, count: i64 },
    /// A change inside a source transaction.
    Change { xid: u32, order: i64 },
    /// A record outside any transaction (snapshot rows, tombstones): applied as it comes.
    Outside,
}

#[derive(Debug)]
struct End {
    xid: u32,
    end_lsn: u64,
    count: i64,
    at: At,
}

#[derive(Debug)]
pub(crate) struct Transactions {
    pub(crate) topic: String,
    /// END position of the last source transaction applied.
    pub(crate) last_end: Option<u64>,
    /// Changes held back per xid, by their order in the transaction (`None`: nothing to
    /// write, e.g. a delete with `delete.enabled=false`), until the transaction is complete.
    open: HashMap<u32, BTreeMap<i64, (At, Option<Change>)>>,
    /// ENDs read and not yet applied, in commit order.
    ends: VecDeque<End>,
    /// ENDs of transactions applied already (sent again), until their changes are all read.
    again: HashMap<u32, End>,
}

impl Transactions {
    pub(crate) fn new(topic: String, last_end: Option<u64>) -> Self {
        Transactions {
            topic,
            last_end,
            open: HashMap::new(),
            ends: VecDeque::new(),
            again: HashMap::new(),
        }
    }

    pub(crate) fn kind(&self, record: &Record) -> Result<Kind, String> {
        let topic = record
            .consumed
            .as_ref()
            .map_or(&record.topic, |c| &c.record.topic);
        let Some(value) = record.value.as_ref() else {
            return Ok(Kind::Outside);
        };
        let Some(schema) = value.schema.as_deref() else {
            return Err("the record value has no schema; the transaction-consistent mode needs Debezium's schemas (value.converter.schemas.enable=true)".into());
        };
        if *topic == self.topic {
            let status = field(schema, &value.value, "status").and_then(Value::as_str);
            let id = field(schema, &value.value, "id").and_then(Value::as_str);
            return match (status, id) {
                (Some("BEGIN"), _) => Ok(Kind::Begin),
                (Some("END"), Some(id)) => {
                    let (xid, end_lsn) = parse_id(id)?;
                    let count = match field(schema, &value.value, "event_count") {
                        Some(Value::Int(n)) => *n,
                        _ => return Err(format!("END of transaction {id} without event_count")),
                    };
                    Ok(Kind::End {
                        xid,
                        end_lsn,
                        count,
                    })
                }
                _ => Err(format!(
                    "not a Debezium transaction record (status BEGIN or END, and an id) on the transaction topic {}",
                    self.topic
                )),
            };
        }
        let Some(Value::Struct(block)) = field(schema, &value.value, "transaction") else {
            // Only the snapshot's reads are outside transactions.
            return match field(schema, &value.value, "op").and_then(Value::as_str) {
                Some("r") => Ok(Kind::Outside),
                Some(_) => Err(format!("a streamed change without a transaction block: the source must set provide.transaction.metadata=true for the transaction-consistent mode (sluice.transaction.topic={})", self.topic)),
                None => Err("not a Debezium change event (no op): the transaction-consistent mode reads Debezium envelopes, without ExtractNewRecordState".into()),
            };
        };
        let block_schema = schema
            .fields
            .iter()
            .find(|f| f.name == "transaction")
            .map(|f| f.schema.as_ref());
        let at = |name: &str| {
            block_schema
                .and_then(|s| s.field_index(name))
                .and_then(|i| block.get(i))
        };
        match (at("id").and_then(Value::as_str), at("total_order")) {
            (Some(id), Some(Value::Int(order))) => Ok(Kind::Change {
                xid: parse_id(id)?.0,
                order: *order,
            }),
            _ => Err("a transaction block without id or total_order".into()),
        }
    }

    /// Holds a change of transaction `xid` back until its transaction is complete.
    pub(crate) fn hold(&mut self, xid: u32, order: i64, at: At, change: Option<Change>) {
        // A source that restarted mid-transaction sends its changes again: one of each order.
        let held = self.open.entry(xid).or_default();
        held.entry(order).or_insert((at, change));
        self.drop_if_complete_again(xid);
    }

    /// Queues an END; `false` when it is a duplicate (of a transaction applied, or queued).
    pub(crate) fn end(
        &mut self,
        xid: u32,
        end_lsn: u64,
        count: i64,
        at: At,
    ) -> Result<bool, String> {
        if self.last_end.is_some_and(|l| end_lsn <= l) {
            let end = End {
                xid,
                end_lsn,
                count,
                at,
            };
            // The first copy read holds the position.
            self.again.entry(xid).or_insert(end);
            self.drop_if_complete_again(xid);
            return Ok(false);
        }
        if self
            .ends
            .iter()
            .any(|e| e.xid == xid && e.end_lsn == end_lsn)
        {
            return Ok(false);
        }
        if let Some(newest) = self.ends.back().filter(|e| end_lsn < e.end_lsn) {
            return Err(format!(
                "the END of transaction {xid}:{end_lsn} was read after the END of {}:{}, a later commit: the transaction topic {} must have a single partition to give the commit order",
                newest.xid, newest.end_lsn, self.topic
            ));
        }
        self.ends.push_back(End {
            xid,
            end_lsn,
            count,
            at,
        });
        Ok(true)
    }

    /// The next complete transaction in commit order, its changes in source order; its END
    /// position becomes `last_end`.
    pub(crate) fn next_complete(&mut self) -> Option<(Vec<Change>, u64)> {
        let end = self.ends.front()?;
        let have = self.open.get(&end.xid).map_or(0, |c| c.len() as i64);
        if have < end.count {
            return None;
        }
        let end = self.ends.pop_front()?;
        let changes = self.open.remove(&end.xid).unwrap_or_default();
        self.last_end = Some(end.end_lsn);
        let changes = changes
            .into_values()
            .take(end.count as usize)
            .filter_map(|(_, c)| c)
            .collect();
        Some((changes, end.end_lsn))
    }

    /// Drops a transaction sent again once all its changes are read.
    fn drop_if_complete_again(&mut self, xid: u32) {
        let Some(end) = self.again.get(&xid) else {
            return;
        };
        if self.open.get(&xid).map_or(0, |c| c.len() as i64) >= end.count {
            self.again.remove(&xid);
            self.open.remove(&xid);
        }
    }

    /// For each topic partition with records held back, the offset of the first of them.
    pub(crate) fn held_from(&self) -> BTreeMap<(String, i32), i64> {
        let mut from: BTreeMap<(String, i32), i64> = BTreeMap::new();
        let ats = self
            .open
            .values()
            .flat_map(|c| c.values().map(|(at, _)| at))
            .chain(self.ends.iter().chain(self.again.values()).map(|e| &e.at));
        for (topic, partition, offset) in ats {
            let first = from.entry((topic.clone(), *partition)).or_insert(*offset);
            *first = (*first).min(*offset);
        }
        from
    }
}

fn field<'a>(schema: &Schema, value: &'a Value, name: &str) -> Option<&'a Value> {
    match value {
        Value::Struct(values) => values.get(schema.field_index(name)?),
        _ => None,
    }
}

/// `"<xid>:<lsn>"` as Debezium's PostgreSQL connector writes transaction ids.
fn parse_id(id: &str) -> Result<(u32, u64), String> {
    let parsed = id
        .split_once(':')
        .and_then(|(x, l)| Some((x.parse().ok()?, l.parse().ok()?)));
    parsed.ok_or_else(|| {
        format!(
            "transaction id {id:?} is not <xid>:<lsn> as Debezium's PostgreSQL connector writes it"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifier::TableId;
    use crate::sink::change::Op;

    fn change(n: i64) -> Option<Change> {
        Some(Change {
            table: TableId::parse(&format!("t{n}")).unwrap(),
            op: Op::Truncate,
            key: Vec::new(),
            fields: Vec::new(),
        })
    }

    fn at(topic: &str, offset: i64) -> At {
        (topic.into(), 0, offset)
    }

    fn tables(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| c.table.sql(sluice_config::jdbc_source::QuoteMethod::Never))
            .collect()
    }

    #[test]
    fn whole_transactions_in_commit_order() {
        let mut t = Transactions::new("tx".into(), None);
        // Transaction 7 commits first but its second change is read last.
        t.hold(8, 1, at("a", 0), change(81));
        t.hold(7, 2, at("b", 0), change(72));
        assert_eq!(t.end(7, 100, 2, at("tx", 1)), Ok(true));
        assert_eq!(t.end(8, 200, 1, at("tx", 3)), Ok(true));
        assert!(t.next_complete().is_none(), "7 lacks a change, 8 must wait");
        assert_eq!(t.held_from().get(&("a".into(), 0)), Some(&0));
        assert_eq!(t.held_from().get(&("tx".into(), 0)), Some(&1));
        t.hold(7, 1, at("a", 1), change(71));
        let (first, end) = t.next_complete().unwrap();
        assert_eq!(
            (tables(&first), end),
            (vec!["t71".into(), "t72".into()], 100)
        );
        let (second, end) = t.next_complete().unwrap();
        assert_eq!((tables(&second), end), (vec!["t81".into()], 200));
        assert!(t.next_complete().is_none());
        assert!(t.held_from().is_empty());
    }

    #[test]
    fn duplicates_from_a_restarted_source_are_dropped() {
        let mut t = Transactions::new("tx".into(), Some(150));
        // Applied before (END at 100 <= 150): its changes are dropped once all are read, read
        // before or after the END, which holds its position until then.
        t.hold(7, 1, at("a", 0), change(71));
        assert_eq!(t.end(7, 100, 2, at("tx", 0)), Ok(false));
        assert_eq!(t.held_from().get(&("tx".into(), 0)), Some(&0));
        assert!(t.next_complete().is_none());
        t.hold(7, 2, at("a", 1), change(72));
        assert!(t.held_from().is_empty());
        // A transaction read twice before it is applied: one copy of each change.
        t.hold(9, 1, at("a", 2), change(91));
        t.hold(9, 1, at("a", 3), change(91));
        assert_eq!(t.end(9, 300, 1, at("tx", 1)), Ok(true));
        assert_eq!(t.end(9, 300, 1, at("tx", 2)), Ok(false));
        let (changes, end) = t.next_complete().unwrap();
        assert_eq!((changes.len(), end, t.last_end), (1, 300, Some(300)));
        // A commit order broken by a partitioned transaction topic is an error.
        assert_eq!(t.end(10, 500, 1, at("tx", 3)), Ok(true));
        assert!(t
            .end(11, 400, 1, at("tx", 4))
            .unwrap_err()
            .contains("single partition"));
    }

    #[test]
    fn ids_are_xid_and_lsn() {
        assert_eq!(parse_id("571:53195832"), Ok((571, 53195832)));
        assert!(parse_id("571").unwrap_err().contains("<xid>:<lsn>"));
    }
}
