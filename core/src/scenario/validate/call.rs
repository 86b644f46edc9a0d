//! Calls: each becomes an edge of the model, with its target resolved, its retry, deadline and
//! policies checked, its fallback (an edge of its own) attached and its random streams named.

use super::policies;
use crate::limits::*;
use crate::policy::breaker::BreakerConfig;
use crate::policy::budget::RetryBudgetConfig;
use crate::prelude::*;
use crate::rng::stream_id;
use crate::scenario::check::{Checker, NodeIds};
use crate::scenario::error::ScenarioErrorKind as Kind;
use crate::scenario::format::*;
use crate::scenario::model::*;
use crate::scenario::policies::Fallback;
use crate::time::SimDuration;

/// Where a call is made: the calling node, the call's position among the node's calls, and
/// whether it is a fallback. Together they name the edge's random streams.
#[derive(Clone, Copy)]
struct Site {
    from_node: u16,
    call_index: usize,
    is_fallback: bool,
}

/// Validates a call and pushes its edge (and its fallback's) onto `edges`; returns the
/// index of the call's edge.
pub(super) fn call(
    check: &mut Checker,
    path: &str,
    call: &Call,
    call_index: usize,
    from_node: u16,
    ids: &NodeIds,
    edges: &mut Vec<EdgeModel>,
) -> Option<u16> {
    edge(check, path, call, Site { from_node, call_index, is_fallback: false }, ids, edges)
}

/// A service's (or function's) calls: their edges, and the call slots they make per job.
pub(super) fn service_calls(
    check: &mut Checker,
    path: &str,
    calls: &[Call],
    complete_on: CompleteOn,
    node_index: u16,
    ids: &NodeIds,
    edges: &mut Vec<EdgeModel>,
) -> (Vec<u16>, u32) {
    if calls.len() > CALLS_PER_SERVICE_MAX {
        check.fail(
            format!("{path}.calls"),
            Kind::OverLimit,
            format!("expected at most {CALLS_PER_SERVICE_MAX} calls, got {}", calls.len()),
        );
    }
    let mut call_edges = Vec::new();
    let mut call_slots: u32 = 0;
    for (index, service_call) in calls.iter().take(CALLS_PER_SERVICE_MAX).enumerate() {
        let call_path = format!("{path}.calls[{index}]");
        if service_call.count == 0 || service_call.count > CALL_COUNT_MAX {
            check.fail(
                format!("{call_path}.count"),
                Kind::Invalid,
                format!("expected 1 to {CALL_COUNT_MAX}, got {}", service_call.count),
            );
        }
        call_slots = call_slots.saturating_add(service_call.count.min(CALL_COUNT_MAX));
        if let Some(edge) = call(check, &call_path, service_call, index, node_index, ids, edges) {
            call_edges.push(edge);
        }
    }
    if let CompleteOn::Quorum(quorum) = complete_on {
        if quorum == 0 || quorum > call_slots {
            check.fail(
                format!("{path}.complete_on.quorum"),
                Kind::Invalid,
                format!("expected 1 to {call_slots} (the calls made per attempt), got {quorum}"),
            );
        }
    }
    (call_edges, call_slots)
}

/// A call's deadline settings, checked.
struct DeadlineSettings {
    total: Option<SimDuration>,
    propagate: bool,
    reduction: SimDuration,
}

/// A call's resilience policies, checked.
struct CallPolicies {
    budget: Option<RetryBudgetConfig>,
    throttle: Option<RetryBudgetConfig>,
    breaker: Option<BreakerConfig>,
    hedge: Option<HedgeModel>,
}

fn edge(
    check: &mut Checker,
    path: &str,
    call: &Call,
    site: Site,
    ids: &NodeIds,
    edges: &mut Vec<EdgeModel>,
) -> Option<u16> {
    let target = target(check, &format!("{path}.to"), &call.to, ids);
    let network_delay =
        call.network_delay.as_ref().map(|dist| check.dist(&format!("{path}.network_delay"), dist, false));
    let timeout = call.timeout.map(|timeout| check.span(&format!("{path}.timeout"), timeout, SimDuration(1), SPAN_MAX));
    let retry = match &call.retry {
        None => RetryModel::NEVER,
        Some(retry_spec) => retry(check, &format!("{path}.retry"), retry_spec),
    };
    let from = ids.model(site.from_node);
    let from_is_client = from.kind == NodeKind::Client;
    let deadline = deadline(check, path, call, from_is_client);
    let policies = call_policies(check, path, call, &retry);
    let (to_node, target) = target?;
    // The first call to a node keeps the stream ids of format version 1; later calls from the
    // same node, and fallbacks, get their own.
    let stream = |purpose: &str| match (site.call_index, site.is_fallback) {
        (0, false) => stream_id(&[&from.id, &call.to, purpose]),
        (index, false) => stream_id(&[&from.id, &call.to, &format!("{index}"), purpose]),
        (index, true) => stream_id(&[&from.id, &call.to, &format!("{index}"), "fallback", purpose]),
    };
    let index = edges.len() as u16;
    edges.push(EdgeModel {
        from_node: site.from_node,
        from_client: from_is_client,
        to_node,
        target,
        count: call.count.clamp(1, CALL_COUNT_MAX),
        network_delay,
        timeout,
        retry,
        deadline_total: deadline.total,
        propagate_deadline: deadline.propagate,
        deadline_reduction: deadline.reduction,
        budget: policies.budget,
        throttle: policies.throttle,
        breaker: policies.breaker,
        hedge: policies.hedge,
        fallback: FallbackModel::None,
        cancel_on_give_up: call.cancel_on_give_up,
        is_fallback: site.is_fallback,
        network_stream_id: stream("network"),
        jitter_stream_id: stream("jitter"),
        policy_stream_id: stream("policy"),
    });
    edges[usize::from(index)].fallback = fallback(check, path, call, site, ids, edges);
    Some(index)
}

/// The node a call goes to: a service, a load balancer or a queue.
fn target(check: &mut Checker, path: &str, id: &str, ids: &NodeIds) -> Option<(u16, Target)> {
    let node = ids.resolve(check, path, id)?;
    let model = ids.model(node);
    match model.kind {
        NodeKind::Service | NodeKind::Function | NodeKind::Llm => Some((node, Target::Service(model.index))),
        NodeKind::Balancer => Some((node, Target::Balancer(model.index))),
        NodeKind::Queue => Some((node, Target::Queue(model.index))),
        NodeKind::Client => {
            check.fail(
                path,
                Kind::UnknownReference,
                format!("expected the id of a service, function, LLM, load balancer or queue; {id:?} is a client"),
            );
            None
        }
    }
}

fn retry(check: &mut Checker, path: &str, retry: &Retry) -> RetryModel {
    if retry.max_attempts == 0 || retry.max_attempts > ATTEMPTS_PER_REQUEST_MAX {
        check.fail(
            format!("{path}.max_attempts"),
            Kind::Invalid,
            format!(
                "expected 1 to {ATTEMPTS_PER_REQUEST_MAX} attempts (the first one included), got {}",
                retry.max_attempts
            ),
        );
    }
    let backoff = match &retry.backoff {
        Backoff::None => BackoffModel::None,
        Backoff::Constant(delay) => BackoffModel::Constant {
            delay: check.span(&format!("{path}.backoff.constant"), *delay, SimDuration::ZERO, SPAN_MAX),
        },
        Backoff::Exponential(exponential) => {
            let base =
                check.span(&format!("{path}.backoff.exponential.base"), exponential.base, SimDuration(1), SPAN_MAX);
            let cap = check.span(&format!("{path}.backoff.exponential.cap"), exponential.cap, SimDuration(1), SPAN_MAX);
            if cap < base {
                check.fail(
                    format!("{path}.backoff.exponential.cap"),
                    Kind::Invalid,
                    format!("expected at least base ({base}), got {cap}"),
                );
            }
            check.number(
                &format!("{path}.backoff.exponential.multiplier"),
                exponential.multiplier,
                1.0,
                BACKOFF_MULTIPLIER_MAX,
            );
            BackoffModel::Exponential { base, cap: cap.max(base), multiplier: exponential.multiplier }
        }
    };
    if retry.jitter == Jitter::Decorrelated && !matches!(backoff, BackoffModel::Exponential { .. }) {
        check.fail(
            format!("{path}.jitter"),
            Kind::Invalid,
            "expected an exponential backoff (base and cap) with decorrelated jitter",
        );
    }
    RetryModel { max_attempts: retry.max_attempts, backoff, jitter: retry.jitter, honor_pushback: retry.honor_pushback }
}

fn deadline(check: &mut Checker, path: &str, call: &Call, from_is_client: bool) -> DeadlineSettings {
    let deadline = call.deadline.clone().unwrap_or(Deadline { total: None, propagate: false, reduce_per_hop: None });
    let total =
        deadline.total.map(|total| check.span(&format!("{path}.deadline.total"), total, SimDuration(1), SPAN_MAX));
    let reduction = deadline.reduce_per_hop.map_or(SimDuration::ZERO, |d| {
        check.span(&format!("{path}.deadline.reduce_per_hop"), d, SimDuration::ZERO, SPAN_MAX)
    });
    if from_is_client && (deadline.propagate || deadline.reduce_per_hop.is_some()) {
        check.fail(
            format!("{path}.deadline.propagate"),
            Kind::Invalid,
            "expected only on a service's call: a client has no incoming deadline to propagate",
        );
    }
    DeadlineSettings { total, propagate: deadline.propagate, reduction }
}

/// Budget, throttle, breaker and hedge; hedging goes with neither retries nor attempts that
/// are left running when given up.
fn call_policies(check: &mut Checker, path: &str, call: &Call, retry: &RetryModel) -> CallPolicies {
    let budget = call.budget.as_ref().map(|spec| policies::budget(check, &format!("{path}.budget"), spec));
    let throttle = call.throttle.as_ref().map(|spec| policies::throttle(check, &format!("{path}.throttle"), spec));
    let breaker = call.breaker.as_ref().map(|spec| policies::breaker(check, &format!("{path}.breaker"), spec));
    let hedge = call.hedge.as_ref().map(|spec| policies::hedge(check, &format!("{path}.hedge"), spec));
    if hedge.is_some() && retry.max_attempts > 1 {
        check.fail(
            format!("{path}.hedge"),
            Kind::Invalid,
            "expected either retry or hedge, not both (as in gRPC: hedging sends its further attempts itself)",
        );
    }
    if hedge.as_ref().is_some_and(|hedge| hedge.cancel_losers) && !call.cancel_on_give_up {
        check.fail(
            format!("{path}.hedge.cancel_losers"),
            Kind::Invalid,
            "expected cancel_on_give_up on this call too: losers are cancelled the way given-up attempts are",
        );
    }
    CallPolicies { budget, throttle, breaker, hedge }
}

/// A call's fallback: degraded, or one more call (pushed as an edge of its own).
fn fallback(
    check: &mut Checker,
    path: &str,
    call: &Call,
    site: Site,
    ids: &NodeIds,
    edges: &mut Vec<EdgeModel>,
) -> FallbackModel {
    match &call.fallback {
        None => FallbackModel::None,
        Some(Fallback::Degraded) => FallbackModel::Degraded,
        Some(Fallback::Call(_)) if site.is_fallback => {
            check.fail(format!("{path}.fallback"), Kind::Invalid, "expected no fallback inside a fallback call");
            FallbackModel::None
        }
        Some(Fallback::Call(fallback)) => {
            let fallback_path = format!("{path}.fallback.call");
            if fallback.count != 1 {
                check.fail(format!("{fallback_path}.count"), Kind::Invalid, "expected 1: a fallback replaces one call");
            }
            match edge(check, &fallback_path, fallback, Site { is_fallback: true, ..site }, ids, edges) {
                Some(edge) => FallbackModel::Call(edge),
                None => FallbackModel::None,
            }
        }
    }
}
