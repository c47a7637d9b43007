//! Typed configuration of the Debezium Postgres connector
//! (`io.debezium.connector.postgresql.PostgresConnector`).

/// `decimal.handling.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecimalHandlingMode {
    #[default]
    Precise,
    Double,
    String,
}

/// `time.precision.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimePrecisionMode {
    #[default]
    Adaptive,
    AdaptiveTimeMicroseconds,
    Connect,
}

/// `binary.handling.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BinaryHandlingMode {
    #[default]
    Bytes,
    Base64,
    Base64UrlSafe,
    Hex,
}

/// `interval.handling.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IntervalHandlingMode {
    #[default]
    Numeric,
    String,
}

/// `hstore.handling.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HstoreHandlingMode {
    #[default]
    Json,
    Map,
}

/// The options that decide how a Postgres value becomes a Connect value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeOptions {
    pub decimal: DecimalHandlingMode,
    pub time_precision: TimePrecisionMode,
    pub binary: BinaryHandlingMode,
    pub interval: IntervalHandlingMode,
    pub hstore: HstoreHandlingMode,
}
