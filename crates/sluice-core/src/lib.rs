//! Sluice's core: the Connect data model, records and offsets, the JSON converter, local
//! topics, and the driver loop that moves records from a source to a sink without losing any.

pub mod data;
pub mod json;
pub mod metrics;
pub mod offsets;
pub mod pipeline;
pub mod record;
pub mod topics;
