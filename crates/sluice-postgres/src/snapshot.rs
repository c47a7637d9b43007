//! The consistent initial snapshot: every captured table read with `COPY … TO STDOUT` inside
//! the transaction that imported the slot's exported snapshot, so the snapshot and the stream
//! that starts at the slot's consistent point neither miss nor repeat a change.

use std::collections::VecDeque;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio_postgres::{Client, CopyOutStream};

use crate::catalog::quote_ident;
use crate::envelope::{Cell, TableEvents};
use crate::error::{query_error, PostgresError};

/// Reads the rows of one table, in COPY text format, as owned fields (`None` = NULL).
pub struct TableCopy {
    stream: Pin<Box<CopyOutStream>>,
    buf: Vec<u8>,
    rows: VecDeque<Vec<Option<String>>>,
    done: bool,
}

impl TableCopy {
    pub async fn start(client: &Client, table: &TableEvents) -> Result<Self, PostgresError> {
        let cols: Vec<String> = table.column_names().map(quote_ident).collect();
        let sql = format!(
            "COPY (SELECT {} FROM {}) TO STDOUT",
            cols.join(", "),
            table.table.quoted()
        );
        let stream = client.copy_out(&sql).await.map_err(query_error(format!(
            "snapshot of {}",
            table.table.full_name()
        )))?;
        Ok(TableCopy {
            stream: Box::pin(stream),
            buf: Vec::new(),
            rows: VecDeque::new(),
            done: false,
        })
    }

    /// The next row, `None` at the end of the table.
    pub async fn next_row(&mut self) -> Result<Option<Vec<Option<String>>>, PostgresError> {
        while self.rows.is_empty() && !self.done {
            match self.stream.next().await {
                Some(chunk) => {
                    let chunk: Bytes = chunk.map_err(query_error("reading the snapshot"))?;
                    self.buf.extend_from_slice(&chunk);
                    let mut start = 0;
                    while let Some(i) = self.buf[start..].iter().position(|&b| b == b'\n') {
                        self.rows
                            .push_back(parse_copy_line(&self.buf[start..start + i]));
                        start += i + 1;
                    }
                    self.buf.drain(..start);
                }
                None => self.done = true,
            }
        }
        Ok(self.rows.pop_front())
    }
}

/// One COPY text-format line: tab-separated, `\N` for NULL, backslash escapes.
pub fn parse_copy_line(line: &[u8]) -> Vec<Option<String>> {
    line.split(|&b| b == b'\t')
        .map(|field| {
            if field == b"\\N" {
                return None;
            }
            let mut out = Vec::with_capacity(field.len());
            let mut i = 0;
            while i < field.len() {
                let b = field[i];
                if b != b'\\' || i + 1 == field.len() {
                    out.push(b);
                    i += 1;
                    continue;
                }
                let e = field[i + 1];
                i += 2;
                match e {
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'v' => out.push(11),
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        let mut n = 1;
                        while n < 3 && i < field.len() && (b'0'..=b'7').contains(&field[i]) {
                            v = v * 8 + u32::from(field[i] - b'0');
                            i += 1;
                            n += 1;
                        }
                        out.push(v as u8);
                    }
                    b'x' => {
                        let mut v = 0u32;
                        let mut n = 0;
                        while n < 2 && i < field.len() && field[i].is_ascii_hexdigit() {
                            v = v * 16 + (field[i] as char).to_digit(16).unwrap_or(0);
                            i += 1;
                            n += 1;
                        }
                        out.push(v as u8);
                    }
                    other => out.push(other),
                }
            }
            Some(String::from_utf8_lossy(&out).into_owned())
        })
        .collect()
}

/// Builds a row from COPY fields (which come in `TableEvents::column_names` order).
pub fn row_from_copy(
    table: &TableEvents,
    fields: &[Option<String>],
) -> Result<sluice_core::data::Value, PostgresError> {
    table.row(|i| match fields.get(i) {
        Some(Some(text)) => Cell::Text(text),
        _ => Cell::Null,
    })
}

/// Debezium's `source.snapshot` marker for a row: first of the whole snapshot, first/last of
/// its table, last of the whole snapshot (only on the last table), or plain `true`.
pub fn snapshot_marker(
    first_row_of_table: bool,
    last_row_of_table: bool,
    first_table: bool,
    last_table: bool,
) -> &'static str {
    match (first_row_of_table, last_row_of_table) {
        (_, true) if last_table => "last",
        (true, _) if first_table => "first",
        (_, true) => "last_in_data_collection",
        (true, _) => "first_in_data_collection",
        _ => "true",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_lines_unescape() {
        assert_eq!(
            parse_copy_line(b"1\tab\\tc\\nd\t\\N\t\\\\x\t\\101\\x42"),
            vec![
                Some("1".into()),
                Some("ab\tc\nd".into()),
                None,
                Some("\\x".into()),
                Some("AB".into())
            ]
        );
        assert_eq!(parse_copy_line(b""), vec![Some(String::new())]);
    }

    #[test]
    fn markers_follow_debezium() {
        assert_eq!(snapshot_marker(true, false, true, false), "first");
        assert_eq!(snapshot_marker(false, false, true, false), "true");
        assert_eq!(
            snapshot_marker(false, true, true, false),
            "last_in_data_collection"
        );
        assert_eq!(
            snapshot_marker(true, false, false, true),
            "first_in_data_collection"
        );
        assert_eq!(snapshot_marker(false, true, false, true), "last");
        assert_eq!(snapshot_marker(true, true, true, true), "last");
    }
}
