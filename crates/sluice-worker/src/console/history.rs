//! A short history per connector for the console's charts (events/s, lag behind the source,
//! WAL retained by the slot), sampled from the herder every few seconds and kept in memory
//! for about fifteen minutes: enough to see a trend without an external Prometheus. It only
//! reads the herder, never waits on a task, and forgets connectors that were deleted.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::herder::{ConnectorView, Herder};

/// How often the herder is sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(3);
/// Samples kept per connector: fifteen minutes.
pub const KEEP: usize = 300;

/// One sample of one connector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// Unix time in ms.
    pub at_ms: i64,
    /// Records polled per second since the previous sample (none for the first).
    pub events_per_sec: Option<f64>,
    pub ms_behind_source: Option<i64>,
    pub retained_wal_bytes: Option<u64>,
}

struct Series {
    points: VecDeque<Point>,
    /// The counter and when it was read, for the next rate.
    events_seen: u64,
    at: Instant,
}

#[derive(Default)]
pub struct History {
    series: Mutex<BTreeMap<String, Series>>,
}

impl History {
    /// Samples `herder` every [`SAMPLE_EVERY`] until it is dropped.
    pub fn start(herder: Weak<Herder>) -> Arc<History> {
        let history = Arc::new(History::default());
        let weak = Arc::downgrade(&history);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let (Some(herder), Some(history)) = (herder.upgrade(), weak.upgrade()) else {
                    return;
                };
                history.record(&herder.views(), now_ms(), Instant::now());
            }
        });
        history
    }

    /// Adds a sample of every connector in `views`; drops the series of those not in it.
    pub fn record(&self, views: &[ConnectorView], at_ms: i64, now: Instant) {
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        series.retain(|name, _| views.iter().any(|v| &v.name == name));
        for v in views {
            let s = series.entry(v.name.clone()).or_insert_with(|| Series {
                points: VecDeque::with_capacity(KEEP),
                events_seen: v.events_seen,
                at: now,
            });
            let elapsed = now.duration_since(s.at).as_secs_f64();
            let events_per_sec = (!s.points.is_empty() && elapsed > 0.0)
                .then(|| v.events_seen.saturating_sub(s.events_seen) as f64 / elapsed);
            s.events_seen = v.events_seen;
            s.at = now;
            if s.points.len() == KEEP {
                s.points.pop_front();
            }
            s.points.push_back(Point {
                at_ms,
                events_per_sec,
                ms_behind_source: v.ms_behind_source,
                retained_wal_bytes: v.retained_wal_bytes,
            });
        }
    }

    /// A connector's samples, oldest first.
    pub fn points(&self, name: &str) -> Vec<Point> {
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        series
            .get(name)
            .map(|s| s.points.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The newest events/s of every connector.
    pub fn latest_rates(&self) -> BTreeMap<String, f64> {
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        series
            .iter()
            .filter_map(|(name, s)| Some((name.clone(), s.points.back()?.events_per_sec?)))
            .collect()
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_config::ConnectorKind;

    fn view(name: &str, events: u64, wal: Option<u64>) -> ConnectorView {
        ConnectorView {
            name: name.into(),
            kind: ConnectorKind::Source,
            class: "io.debezium.connector.postgresql.PostgresConnector".into(),
            state: "RUNNING",
            task: None,
            events_seen: events,
            records_written: events,
            ms_behind_source: Some(12),
            retained_wal_bytes: wal,
            warnings: vec![],
        }
    }

    #[test]
    fn rates_from_counters_a_bounded_window_and_deleted_connectors_forgotten() {
        let h = History::default();
        let t0 = Instant::now();
        h.record(&[view("a", 100, Some(10)), view("b", 0, None)], 0, t0);
        h.record(
            &[view("a", 400, Some(20)), view("b", 0, None)],
            3000,
            t0 + Duration::from_secs(3),
        );
        let a = h.points("a");
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].events_per_sec, None);
        assert_eq!(a[1].events_per_sec, Some(100.0));
        assert_eq!(a[1].retained_wal_bytes, Some(20));
        assert_eq!(h.latest_rates().get("a"), Some(&100.0));
        for i in 0..(KEEP as u64 + 10) {
            h.record(
                &[view("a", 400 + i, None)],
                6000 + i as i64,
                t0 + Duration::from_secs(6 + i),
            );
        }
        assert_eq!(h.points("a").len(), KEEP);
        assert_eq!(h.points("a")[KEEP - 1].events_per_sec, Some(1.0));
        assert!(h.points("b").is_empty(), "b was deleted");
    }
}
