//! Queue nodes: an SQS standard queue's visibility timeout, retention and redrive to a
//! dead-letter queue.

use crate::components::broker::BrokerConfig;
use crate::limits::{RETENTION_MAX, VISIBILITY_TIMEOUT_MAX};
use crate::prelude::*;
use crate::rng::stream_id;
use crate::scenario::check::{Checker, NodeIds};
use crate::scenario::error::ScenarioErrorKind as Kind;
use crate::scenario::format::QueueNode;
use crate::scenario::model::QueueModel;
use crate::time::SimDuration;

/// Checks a queue node and builds its model, SQS's defaults filled in.
pub(super) fn queue(check: &mut Checker, path: &str, queue: &QueueNode, node_index: u16, ids: &NodeIds) -> QueueModel {
    let defaults = BrokerConfig::sqs_default();
    let visibility_timeout = queue.visibility_timeout.map_or(defaults.visibility_timeout, |timeout| {
        check.span(&format!("{path}.visibility_timeout"), timeout, SimDuration::ZERO, VISIBILITY_TIMEOUT_MAX)
    });
    let retention = queue.retention.map_or(defaults.retention, |retention| {
        check.span(&format!("{path}.retention"), retention, SimDuration::from_secs(60), RETENTION_MAX)
    });
    if let Some(count) = queue.max_receive_count {
        if !(1..=1000).contains(&count) {
            check.fail(format!("{path}.max_receive_count"), Kind::Invalid, format!("expected 1 to 1000, got {count}"));
        }
        if queue.dead_letter.is_none() {
            check.fail(
                format!("{path}.max_receive_count"),
                Kind::Invalid,
                "expected a dead_letter queue with it: a redrive policy needs somewhere to send messages",
            );
        }
    }
    let dead_letter = queue.dead_letter.as_ref().and_then(|dead_letter| {
        let dead_path = format!("{path}.dead_letter");
        if dead_letter == &queue.id {
            check.fail(
                &dead_path,
                Kind::Invalid,
                "expected another queue: a queue cannot be its own dead-letter queue",
            );
            return None;
        }
        ids.queue(check, &dead_path, dead_letter)
    });
    check.probability(&format!("{path}.poison_rate"), queue.poison_rate);
    QueueModel {
        node: node_index,
        broker: BrokerConfig { visibility_timeout, max_receive_count: queue.max_receive_count, retention },
        dead_letter,
        poison_rate: queue.poison_rate,
        poison_stream_id: stream_id(&[&queue.id, "poison"]),
    }
}
