//! Sluice's core: the Connect data model and logical types, records and offsets, the
//! converters, the source/transform/sink seams, local topics, the error policy, and the driver
//! loop that moves records from a source to a sink without losing any.

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod data;
pub mod error;
pub mod json;
pub mod logical;
pub mod metrics;
pub mod offsets;
pub mod pipeline;
pub mod record;
pub mod sink;
pub mod tolerance;
pub mod topics;
pub mod transform;
