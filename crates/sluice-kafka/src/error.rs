//! Kafka errors as the operator needs them: which broker, which topic, what it said, and
//! whether trying again can help (a broker down, a leader moving) or not (a refused login,
//! a topic Sluice may not write).

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use sluice_core::error::ConnectorError;

#[derive(Debug, thiserror::Error)]
pub enum KafkaSinkError {
    #[error("cannot create a Kafka client for {bootstrap}: {reason}")]
    Client { bootstrap: String, reason: String },
    #[error("cannot reach the Kafka brokers at {bootstrap}: {reason}")]
    Connect { bootstrap: String, reason: String },
    #[error("cannot create topic {topic} on {bootstrap}: {reason}")]
    CreateTopic {
        topic: String,
        bootstrap: String,
        reason: String,
    },
    #[error("Kafka at {bootstrap} refused a record for topic {topic}: {reason}")]
    Produce {
        topic: String,
        bootstrap: String,
        reason: String,
    },
    #[error("cannot read topic {topic} on {bootstrap}: {reason}")]
    Read {
        topic: String,
        bootstrap: String,
        reason: String,
    },
    #[error("cannot commit the positions of consumer group {group} on {bootstrap}: {reason}")]
    Commit {
        group: String,
        bootstrap: String,
        reason: String,
    },
    #[error("Kafka producer at {bootstrap} lost a delivery report (the producer was closed)")]
    Canceled { bootstrap: String },
}

impl KafkaSinkError {
    /// The same error with what the brokers said added to its reason.
    pub fn with_cause(self, cause: &str) -> Self {
        let add = |r: String| format!("{r} (the brokers said: {cause})");
        match self {
            KafkaSinkError::Client { bootstrap, reason } => KafkaSinkError::Client {
                bootstrap,
                reason: add(reason),
            },
            KafkaSinkError::Connect { bootstrap, reason } => KafkaSinkError::Connect {
                bootstrap,
                reason: add(reason),
            },
            KafkaSinkError::CreateTopic {
                topic,
                bootstrap,
                reason,
            } => KafkaSinkError::CreateTopic {
                topic,
                bootstrap,
                reason: add(reason),
            },
            KafkaSinkError::Produce {
                topic,
                bootstrap,
                reason,
            } => KafkaSinkError::Produce {
                topic,
                bootstrap,
                reason: add(reason),
            },
            KafkaSinkError::Read {
                topic,
                bootstrap,
                reason,
            } => KafkaSinkError::Read {
                topic,
                bootstrap,
                reason: add(reason),
            },
            KafkaSinkError::Commit {
                group,
                bootstrap,
                reason,
            } => KafkaSinkError::Commit {
                group,
                bootstrap,
                reason: add(reason),
            },
            other => other,
        }
    }
}

/// Whether librdkafka's error is one a retry can get past.
pub fn transient(e: &KafkaError) -> bool {
    use RDKafkaErrorCode as C;
    match e.rdkafka_error_code() {
        Some(code) => matches!(
            code,
            C::BrokerTransportFailure
                | C::AllBrokersDown
                | C::Resolve
                | C::MessageTimedOut
                | C::OperationTimedOut
                | C::TimedOutQueue
                | C::QueueFull
                | C::RequestTimedOut
                | C::NetworkException
                | C::LeaderNotAvailable
                | C::NotLeaderForPartition
                | C::BrokerNotAvailable
                | C::ReplicaNotAvailable
                | C::NotEnoughReplicas
                | C::NotEnoughReplicasAfterAppend
                | C::CoordinatorLoadInProgress
                | C::CoordinatorNotAvailable
                | C::NotCoordinator
                | C::WaitingForCoordinator
                | C::RebalanceInProgress
                | C::UnknownTopicOrPartition
                | C::KafkaStorageError
                | C::ThrottlingQuotaExceeded
                | C::Retry
                | C::DestroyBroker
                | C::Interrupted
                | C::IllegalGeneration
                | C::UnknownMemberId
                | C::AssignmentLost
                // Kafka's UNKNOWN_SERVER_ERROR: the broker failed on its side (Tansu answers
                // it to produce requests while it comes back after a restart). The records
                // are not taken, so a retry can only help; errors.retry.* bound it.
                | C::Unknown
                // The idempotent producer stopped rather than leave a gap in the topic
                // (`enable.gapless.guarantee`): a new producer resumes from the committed offset.
                | C::GaplessGuarantee
        ),
        // A client that could not even be created (bad config) will not get better.
        None => !matches!(
            e,
            KafkaError::ClientCreation(_) | KafkaError::ClientConfig(..)
        ),
    }
}

/// Wraps a Kafka failure with its kind.
pub fn classify(e: &KafkaError, error: KafkaSinkError) -> ConnectorError {
    if transient(e) {
        ConnectorError::transient(error)
    } else {
        ConnectorError::permanent(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fault suite (broker stopped and started): the offsets producer got the
    /// broker's unknown server error once it was back, and the task was FAILED for good.
    #[test]
    fn a_broker_failing_on_its_side_is_retried() {
        assert!(transient(&KafkaError::MessageProduction(
            RDKafkaErrorCode::Unknown
        )));
        assert!(!transient(&KafkaError::MessageProduction(
            RDKafkaErrorCode::TopicAuthorizationFailed
        )));
    }

    /// Found by the fault suite (broker stopped during produce requests): a refused batch
    /// stops the gapless producer, and the task's retry with a new producer is the way on.
    #[test]
    fn a_producer_stopped_to_keep_the_topic_gapless_is_retried() {
        assert!(transient(&KafkaError::MessageProduction(
            RDKafkaErrorCode::GaplessGuarantee
        )));
    }
}
