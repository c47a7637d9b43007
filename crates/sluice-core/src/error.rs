//! Errors at the connector seams keep their cause and say whether trying again can help:
//! a lost connection, a restarting server or an unavailable broker is transient (the task
//! retries with backoff and stays RUNNING); a bad config, a missing permission or a schema
//! the sink cannot take is permanent (the task is FAILED, with the cause and a hint).

use std::fmt;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Transient,
    Permanent,
}

/// An error from a source, sink, offset store or converter, with its kind.
#[derive(Debug)]
pub struct ConnectorError {
    pub kind: ErrorKind,
    pub error: BoxError,
}

impl ConnectorError {
    pub fn transient(error: impl Into<BoxError>) -> Self {
        ConnectorError {
            kind: ErrorKind::Transient,
            error: error.into(),
        }
    }

    pub fn permanent(error: impl Into<BoxError>) -> Self {
        ConnectorError {
            kind: ErrorKind::Permanent,
            error: error.into(),
        }
    }

    pub fn is_transient(&self) -> bool {
        self.kind == ErrorKind::Transient
    }
}

// Displays as the error it wraps, and hands out that error's causes, so a report of the
// chain names every cause once.
impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for ConnectorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// The error and all its causes on one line: `outer: cause: root`.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        src = inner.source();
    }
    s
}

/// Whether an I/O error is one a retry can get past (the peer went away, the disk is full
/// for now) rather than one that will repeat (permission denied, bad path).
pub fn io_is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::BrokenPipe
            | K::TimedOut
            | K::Interrupted
            | K::UnexpectedEof
            | K::WouldBlock
            | K::StorageFull
            | K::QuotaExceeded
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::NetworkDown
    )
}
