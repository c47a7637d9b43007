//! The transforms seam: Connect's single message transforms, applied to a source connector's
//! records before they are converted and written to a topic, and to a sink connector's
//! records after they are read and before the sink writes them. A transform takes a record and
//! returns at most one; the schema changes with the value. The catalogue (classes by their
//! Connect and Debezium names) lives in `sluice-transforms`.

use std::sync::Arc;

use crate::record::Record;

/// Why a transform could not process a record (Connect's `DataException`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct TransformError(pub String);

impl TransformError {
    pub fn new(message: impl Into<String>) -> Self {
        TransformError(message.into())
    }
}

/// One configured transform (`transforms.<alias>.type=<class>`).
pub trait Transform: Send + Sync {
    /// The record transformed; `None` drops it (e.g. `Filter`).
    fn apply(&self, record: Record) -> Result<Option<Record>, TransformError>;
}

/// A configured predicate (`predicates.<alias>.type=<class>`).
pub trait Predicate: Send + Sync {
    fn test(&self, record: &Record) -> bool;
}

/// A transform with its alias, class and optional predicate (`transforms.<alias>.predicate`,
/// `transforms.<alias>.negate`).
pub struct Step {
    pub alias: String,
    pub class: String,
    pub transform: Box<dyn Transform>,
    pub predicate: Option<Arc<dyn Predicate>>,
    pub negate: bool,
}

/// Where a record failed in the chain: which step, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFailure {
    pub alias: String,
    pub class: String,
    pub error: TransformError,
}

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "transform {} ({}) failed: {}",
            self.alias, self.class, self.error
        )
    }
}

impl std::error::Error for StepFailure {}

/// The transforms of a connector, in `transforms` order.
#[derive(Default)]
pub struct TransformChain {
    steps: Vec<Step>,
}

impl TransformChain {
    pub fn new(steps: Vec<Step>) -> Self {
        TransformChain { steps }
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Runs the record through every step whose predicate (negated if asked) holds, as
    /// Connect's `TransformationChain` does: a step returning `None` ends the chain.
    pub fn apply(&self, mut record: Record) -> Result<Option<Record>, StepFailure> {
        for step in &self.steps {
            if let Some(p) = &step.predicate {
                if p.test(&record) == step.negate {
                    continue;
                }
            }
            match step.transform.apply(record) {
                Ok(Some(r)) => record = r,
                Ok(None) => return Ok(None),
                Err(error) => {
                    return Err(StepFailure {
                        alias: step.alias.clone(),
                        class: step.class.clone(),
                        error,
                    })
                }
            }
        }
        Ok(Some(record))
    }
}
