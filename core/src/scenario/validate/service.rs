//! Service nodes: workers and their queue, admission control, pushback, consuming a queue,
//! side effects, and the calls each job makes.

use super::{call, policies};
use crate::limits::*;
use crate::prelude::*;
use crate::scenario::check::{Checker, NodeIds};
use crate::scenario::error::ScenarioErrorKind as Kind;
use crate::scenario::format::*;
use crate::scenario::model::*;
use crate::time::SimDuration;

/// Checks a service node and builds its model; its calls' edges are pushed onto `edges`.
pub(super) fn service(
    check: &mut Checker,
    path: &str,
    service: &ServiceNode,
    node_index: u16,
    ids: &NodeIds,
    edges: &mut Vec<EdgeModel>,
) -> ServiceModel {
    if service.workers == 0 || service.workers > WORKERS_MAX {
        check.fail(
            format!("{path}.workers"),
            Kind::Invalid,
            format!("expected 1 to {WORKERS_MAX} workers, got {}", service.workers),
        );
    }
    if let Some(capacity) = service.queue.capacity {
        if capacity > QUEUE_CAPACITY_MAX {
            check.fail(
                format!("{path}.queue.capacity"),
                Kind::OverLimit,
                format!("expected at most {QUEUE_CAPACITY_MAX} (omit it for an unbounded queue), got {capacity}"),
            );
        }
    }
    check.probability(&format!("{path}.error_rate"), service.error_rate);
    let service_time = check.dist(&format!("{path}.service_time"), &service.service_time, false);
    let consumer = service.consumes.as_ref().and_then(|consumer| self::consumer(check, path, service, consumer, ids));
    let side_effects = side_effects(check, path, service.side_effects.as_ref());
    let (calls, call_slots) =
        call::service_calls(check, path, &service.calls, service.complete_on, node_index, ids, edges);
    let admission = service.admission.clone().unwrap_or_default();
    let limiter = admission
        .concurrency_limit
        .as_ref()
        .map(|limit| policies::limiter(check, &format!("{path}.admission.concurrency_limit"), limit));
    let rate_limit = admission
        .rate_limit
        .as_ref()
        .map(|limit| policies::rate_limit(check, &format!("{path}.admission.rate_limit"), limit));
    let pushback = service.pushback.as_ref().map(|pushback| {
        pushback
            .retry_after
            .map(|after| check.span(&format!("{path}.pushback.retry_after"), after, SimDuration::ZERO, SPAN_MAX))
    });
    ServiceModel {
        queue_capacity: service.queue.capacity,
        discipline: service.queue.discipline,
        calls,
        call_mode: service.call_mode,
        complete_on: service.complete_on,
        call_slots,
        drop_expired: service.drop_expired,
        write_conflicts: service.write_conflicts,
        management: service.queue.management.clone(),
        limiter,
        rate_limit,
        shed_sheddable_above: admission.shed_sheddable_above,
        pushback,
        consumer,
        side_effects,
        ..ServiceModel::plain(node_index, &service.id, service.workers, service_time, service.error_rate)
    }
}

/// A service consuming a queue: which queue, and how many messages it receives at once.
fn consumer(
    check: &mut Checker,
    path: &str,
    service: &ServiceNode,
    consumer: &Consumer,
    ids: &NodeIds,
) -> Option<ConsumerModel> {
    let consumer_path = format!("{path}.consumes");
    if !service.calls.is_empty() {
        check.fail(
            &consumer_path,
            Kind::Invalid,
            "expected a consumer without calls: a consumer's work is its own in this version",
        );
    }
    let batch_size = match consumer.batch_size {
        None => 10,
        Some(size) if (1..=10).contains(&size) => size,
        Some(size) => {
            check.fail(
                format!("{consumer_path}.batch_size"),
                Kind::Invalid,
                format!("expected 1 to 10 (SQS receives at most 10 messages per call), got {size}"),
            );
            10
        }
    };
    let queue = ids.queue(check, &format!("{consumer_path}.queue"), &consumer.queue)?;
    Some(ConsumerModel { queue, batch_size, partial_batch_failures: consumer.partial_batch_failures })
}

/// A service's (or function's) side effects: `Some(window)` when counted, the window when
/// deduplicated.
pub(super) fn side_effects(
    check: &mut Checker,
    path: &str,
    side_effects: Option<&SideEffects>,
) -> Option<Option<SimDuration>> {
    side_effects.map(|effects| {
        effects.idempotency_window.map(|window| {
            check.span(&format!("{path}.side_effects.idempotency_window"), window, SimDuration(1), DURATION_MAX)
        })
    })
}
