//! The consistent initial snapshot: every captured table read with `COPY … TO STDOUT` inside
//! the transaction that imported the slot's exported snapshot, so the snapshot and the stream
//! that starts at the slot's consistent point neither miss nor repeat a change.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::pin::Pin;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use sluice_config::postgres::PostgresConfig;
use sluice_core::data::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, CopyOutStream};

use crate::catalog::quote_ident;
use crate::envelope::{Cell, TableEvents};
use crate::error::{query_error, PostgresError};

/// Reads the rows of one table, in COPY text format, one line (without its newline) at a time.
/// Lines are slices of the received messages: no copy unless a line spans two messages.
pub struct TableCopy {
    stream: Pin<Box<CopyOutStream>>,
    lines: Lines,
    done: bool,
}

/// COPY messages cut into lines.
#[derive(Default)]
struct Lines {
    lines: VecDeque<Bytes>,
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
}

impl TableCopy {
    /// Starts reading the table, or the rows `filter` (a SQL condition) selects.
    pub async fn start(
        client: &Client,
        table: &TableEvents,
        filter: Option<&str>,
    ) -> Result<Self, PostgresError> {
        let cols: Vec<String> = table.column_names().map(quote_ident).collect();
        let sql = format!(
            "COPY (SELECT {} FROM {}{}) TO STDOUT",
            cols.join(", "),
            table.table.quoted(),
            filter.map_or(String::new(), |f| format!(" WHERE {f}"))
        );
        let stream = client.copy_out(&sql).await.map_err(query_error(format!(
            "snapshot of {}",
            table.table.full_name()
        )))?;
        Ok(TableCopy {
            stream: Box::pin(stream),
            lines: Lines::default(),
            done: false,
        })
    }

    /// The next line, `None` at the end of the table.
    pub async fn next_line(&mut self) -> Result<Option<Bytes>, PostgresError> {
        while self.lines.lines.is_empty() && !self.done {
            // Take every message already received, not just one: fewer wake-ups per row.
            let mut chunk = Some(self.stream.next().await);
            while let Some(next) = chunk {
                match next {
                    Some(bytes) => {
                        let bytes: Bytes = bytes.map_err(query_error("reading the snapshot"))?;
                        self.lines.split(bytes);
                    }
                    None => {
                        self.done = true;
                        break;
                    }
                }
                chunk = self.stream.next().now_or_never();
            }
        }
        Ok(self.lines.lines.pop_front())
    }

    /// The next row, `None` at the end of the table.
    pub async fn next_row(&mut self) -> Result<Option<CopyRow>, PostgresError> {
        Ok(self.next_line().await?.map(|l| CopyRow::parse(&l)))
    }
}

impl Lines {
    fn split(&mut self, mut bytes: Bytes) {
        // PostgreSQL sends each row in its own message: take it whole, without new references.
        if self.partial.is_empty()
            && bytes.last() == Some(&b'\n')
            && memchr::memchr(b'\n', &bytes) == Some(bytes.len() - 1)
        {
            bytes.truncate(bytes.len() - 1);
            self.lines.push_back(bytes);
            return;
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', &bytes) {
            if self.partial.is_empty() {
                self.lines.push_back(bytes.slice(start..end));
            } else {
                self.partial.extend_from_slice(&bytes[start..end]);
                self.lines
                    .push_back(Bytes::from(std::mem::take(&mut self.partial)));
            }
            start = end + 1;
        }
        if start < bytes.len() {
            self.partial.extend_from_slice(&bytes[start..]);
        }
    }
}

/// A COPY text field's value: unescaped (into `scratch` when it has escapes), and as a Java
/// client would decode bytes that are not UTF-8 (a SQL_ASCII database): replaced.
pub fn copy_text<'a>(field: &'a [u8], scratch: &'a mut Vec<u8>) -> Cow<'a, str> {
    let bytes: &'a [u8] = if memchr::memchr(b'\\', field).is_none() {
        field
    } else {
        scratch.clear();
        unescape(field, scratch);
        scratch
    };
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// One row of COPY text output: its unescaped fields in one string.
#[derive(Debug)]
pub struct CopyRow {
    text: String,
    /// Byte ranges into `text`, `None` for NULL.
    fields: Vec<Option<(usize, usize)>>,
}

impl CopyRow {
    /// Parses one COPY text-format line: tab-separated, `\N` for NULL, backslash escapes.
    pub fn parse(line: &[u8]) -> CopyRow {
        let mut text = Vec::with_capacity(line.len());
        let mut fields = Vec::new();
        for field in line.split(|&b| b == b'\t') {
            if field == b"\\N" {
                fields.push(None);
                continue;
            }
            let start = text.len();
            if !field.contains(&b'\\') {
                text.extend_from_slice(field);
            } else {
                unescape(field, &mut text);
            }
            fields.push(Some((start, text.len())));
        }
        // Escapes can produce bytes that are not UTF-8 (a SQL_ASCII database); replace them
        // as a Java client decoding the text would.
        let text = match String::from_utf8(text) {
            Ok(text) => text,
            Err(e) => {
                // Replacement characters change lengths: rebuild field by field.
                let bytes = e.into_bytes();
                let mut text = String::with_capacity(bytes.len() + 8);
                for f in fields.iter_mut().flatten() {
                    let start = text.len();
                    text.push_str(&String::from_utf8_lossy(&bytes[f.0..f.1]));
                    *f = (start, text.len());
                }
                text
            }
        };
        CopyRow { text, fields }
    }

    /// Field `i`, `None` when NULL or absent.
    pub fn get(&self, i: usize) -> Option<&str> {
        let (start, end) = (*self.fields.get(i)?)?;
        self.text.get(start..end)
    }
}

fn unescape(field: &[u8], out: &mut Vec<u8>) {
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
}

/// A table's snapshot as COPY lines: read over the snapshot connection, or in block ranges
/// over several connections at once (`snapshot.max.threads`). Chunks are taken in block order,
/// so lines come out in the order one sequential read gives.
pub enum TableRows {
    Single(TableCopy),
    Chunked(ChunkedRows),
}

impl TableRows {
    pub async fn next_line(&mut self) -> Result<Option<Bytes>, PostgresError> {
        match self {
            TableRows::Single(copy) => copy.next_line().await,
            TableRows::Chunked(chunks) => chunks.next_line().await,
        }
    }
}

/// What a chunk reader sends: lines, then `Done` (a channel that closes without it means the
/// reader failed).
enum Chunk {
    Lines(Vec<Bytes>),
    Done,
}

pub struct ChunkedRows {
    chunks: VecDeque<mpsc::Receiver<Result<Chunk, PostgresError>>>,
    lines: std::vec::IntoIter<Bytes>,
    readers: Vec<JoinHandle<()>>,
}

impl Drop for ChunkedRows {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

/// Lines each chunk reader may read ahead of the one being consumed.
const CHUNK_BATCH: usize = 1024;
const CHUNK_BATCHES_AHEAD: usize = 4;

impl ChunkedRows {
    /// Reads `table` as `ranges` of heap blocks (`[start, end)`, the last one open-ended), each
    /// over its own connection that imports `snapshot` (exported by the snapshot transaction).
    pub fn start(
        cfg: Arc<PostgresConfig>,
        snapshot: &str,
        table: Arc<TableEvents>,
        ranges: &[(u64, Option<u64>)],
    ) -> ChunkedRows {
        let mut chunks = VecDeque::new();
        let mut readers = Vec::new();
        for &(start, end) in ranges {
            let (tx, rx) = mpsc::channel(CHUNK_BATCHES_AHEAD);
            let filter = match end {
                Some(end) => format!("ctid >= '({start},0)'::tid AND ctid < '({end},0)'::tid"),
                None => format!("ctid >= '({start},0)'::tid"),
            };
            readers.push(tokio::spawn(read_chunk(
                cfg.clone(),
                snapshot.to_owned(),
                table.clone(),
                filter,
                tx,
            )));
            chunks.push_back(rx);
        }
        ChunkedRows {
            chunks,
            lines: Vec::new().into_iter(),
            readers,
        }
    }

    async fn next_line(&mut self) -> Result<Option<Bytes>, PostgresError> {
        loop {
            if let Some(line) = self.lines.next() {
                return Ok(Some(line));
            }
            let Some(chunk) = self.chunks.front_mut() else {
                return Ok(None);
            };
            match chunk.recv().await {
                Some(Ok(Chunk::Lines(lines))) => self.lines = lines.into_iter(),
                Some(Ok(Chunk::Done)) => {
                    self.chunks.pop_front();
                }
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(PostgresError::Query {
                        context: "snapshot".into(),
                        reason: "a chunk reader ended without finishing its chunk".into(),
                    })
                }
            }
        }
    }
}

async fn read_chunk(
    cfg: Arc<PostgresConfig>,
    snapshot: String,
    table: Arc<TableEvents>,
    filter: String,
    tx: mpsc::Sender<Result<Chunk, PostgresError>>,
) {
    let read = async {
        let client = crate::catalog::connect(&cfg).await?;
        client
            .batch_execute(&format!(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{}'",
                snapshot.replace('\'', "''")
            ))
            .await
            .map_err(query_error("importing the snapshot for a chunk"))?;
        let mut copy = TableCopy::start(&client, &table, Some(&filter)).await?;
        let mut rows = Vec::with_capacity(CHUNK_BATCH);
        while let Some(line) = copy.next_line().await? {
            rows.push(line);
            if rows.len() == CHUNK_BATCH {
                let full = std::mem::replace(&mut rows, Vec::with_capacity(CHUNK_BATCH));
                if tx.send(Ok(Chunk::Lines(full))).await.is_err() {
                    return Ok(());
                }
            }
        }
        client
            .batch_execute("COMMIT")
            .await
            .map_err(query_error("ending a chunk's transaction"))?;
        if !rows.is_empty() && tx.send(Ok(Chunk::Lines(rows))).await.is_err() {
            return Ok(());
        }
        let _ = tx.send(Ok(Chunk::Done)).await;
        Ok(())
    };
    if let Err(e) = read.await {
        let _ = tx.send(Err(e)).await;
    }
}

/// Builds a row from COPY fields (which come in `TableEvents::column_names` order).
pub fn row_from_copy(table: &TableEvents, row: &CopyRow) -> Result<Value, PostgresError> {
    table.row(|i| match row.get(i) {
        Some(text) => Cell::Text(text),
        None => Cell::Null,
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
        let row = CopyRow::parse(b"1\tab\\tc\\nd\t\\N\t\\\\x\t\\101\\x42\t\\351t\\303\\251");
        let fields: Vec<Option<&str>> = (0..7).map(|i| row.get(i)).collect();
        assert_eq!(
            fields,
            vec![
                Some("1"),
                Some("ab\tc\nd"),
                None,
                Some("\\x"),
                Some("AB"),
                // A lone Latin-1 byte is not UTF-8; an escaped UTF-8 sequence is.
                Some("\u{fffd}t\u{e9}"),
                None,
            ]
        );
        assert_eq!(CopyRow::parse(b"").get(0), Some(""));
    }

    #[test]
    fn lines_are_cut_from_messages_of_any_shape() {
        let mut lines = Lines::default();
        for message in ["1\ta\n", "2\tb\n3\t", "c\n4", "\td\n", "5\te\n"] {
            lines.split(Bytes::from(message));
        }
        let got: Vec<Bytes> = lines.lines.into_iter().collect();
        assert_eq!(got, ["1\ta", "2\tb", "3\tc", "4\td", "5\te"]);
        assert!(lines.partial.is_empty());
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
