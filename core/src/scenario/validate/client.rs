//! Client nodes: the workload that sends requests (open or closed loop) and the one call each
//! request makes.

use super::call;
use crate::limits::*;
use crate::prelude::*;
use crate::rng::stream_id;
use crate::scenario::check::{Checker, NodeIds};
use crate::scenario::error::ScenarioErrorKind as Kind;
use crate::scenario::format::*;
use crate::scenario::model::*;
use crate::time::{SimDuration, SimTime};

/// Checks a client node and builds its model; its call's edge is pushed onto `edges`.
pub(super) fn client(
    check: &mut Checker,
    path: &str,
    client: &ClientNode,
    node_index: u16,
    ids: &NodeIds,
    edges: &mut Vec<EdgeModel>,
) -> ClientModel {
    let workload = workload(check, path, client);
    if client.calls.len() != 1 {
        check.fail(
            format!("{path}.calls"),
            Kind::Invalid,
            format!("expected exactly one call, got {}", client.calls.len()),
        );
    }
    let edge_index = edges.len() as u16;
    if let Some(first) = client.calls.first() {
        let call_path = format!("{path}.calls[0]");
        if first.count != 1 {
            check.fail(
                format!("{call_path}.count"),
                Kind::Invalid,
                "expected 1: a client's request makes its call once (counts are for services' calls)",
            );
        }
        call::call(check, &call_path, first, 0, node_index, ids, edges);
    }
    ClientModel {
        node: node_index,
        workload,
        criticality: client.criticality,
        edge: edge_index,
        arrival_stream_id: stream_id(&[&client.id, "arrivals"]),
    }
}

/// Open or closed loop, and their parameters.
fn workload(check: &mut Checker, path: &str, client: &ClientNode) -> Workload {
    match (client.rate, client.users) {
        (Some(_), Some(_)) | (None, None) => {
            check.fail(
                path,
                Kind::Invalid,
                "expected either rate (open loop: requests per second) or users (closed loop), not both or neither",
            );
        }
        _ => {}
    }
    match client.users {
        Some(users) => closed_loop(check, path, client, users),
        None => open_loop(check, path, client),
    }
}

/// A fixed number of users, each sending its next request when the last one is answered.
fn closed_loop(check: &mut Checker, path: &str, client: &ClientNode, users: u32) -> Workload {
    if users == 0 || users > USERS_MAX {
        check.fail(format!("{path}.users"), Kind::Invalid, format!("expected 1 to {USERS_MAX} users, got {users}"));
    }
    let open_loop_only =
        [("arrivals", client.arrivals != Arrivals::default()), ("rate_changes", !client.rate_changes.is_empty())];
    for (field, present) in open_loop_only {
        if present {
            check.fail(format!("{path}.{field}"), Kind::Invalid, "expected only with rate (an open-loop client)");
        }
    }
    let think_time = client.think_time.as_ref().map(|dist| check.dist(&format!("{path}.think_time"), dist, false));
    if client.requests_per_user == Some(0) {
        check.fail(format!("{path}.requests_per_user"), Kind::Invalid, "expected at least 1");
    }
    Workload::Closed { users, think_time, requests_per_user: client.requests_per_user }
}

/// Requests arriving at a rate, whatever becomes of earlier ones; the rate may change over time.
fn open_loop(check: &mut Checker, path: &str, client: &ClientNode) -> Workload {
    for (field, present) in
        [("think_time", client.think_time.is_some()), ("requests_per_user", client.requests_per_user.is_some())]
    {
        if present {
            check.fail(format!("{path}.{field}"), Kind::Invalid, "expected only with users (a closed-loop client)");
        }
    }
    let rate_per_s = client.rate.unwrap_or(0.0);
    check.number(&format!("{path}.rate"), rate_per_s, 0.0, RATE_PER_S_MAX);
    if client.rate_changes.len() > RATE_CHANGES_MAX {
        check.fail(
            format!("{path}.rate_changes"),
            Kind::OverLimit,
            format!("expected at most {RATE_CHANGES_MAX} changes, got {}", client.rate_changes.len()),
        );
    }
    let mut rate_changes = Vec::new();
    let mut previous_at: Option<SimDuration> = None;
    for (index, change) in client.rate_changes.iter().take(RATE_CHANGES_MAX).enumerate() {
        let at = check.span(&format!("{path}.rate_changes[{index}].at"), change.at, SimDuration::ZERO, DURATION_MAX);
        if previous_at.is_some_and(|previous| at <= previous) {
            check.fail(
                format!("{path}.rate_changes[{index}].at"),
                Kind::Invalid,
                format!("expected a time after the previous change, got {at}"),
            );
        }
        previous_at = Some(at);
        check.number(&format!("{path}.rate_changes[{index}].rate"), change.rate, 0.0, RATE_PER_S_MAX);
        rate_changes.push((SimTime(at.0), change.rate));
    }
    Workload::Open { arrivals: client.arrivals, rate_per_s, rate_changes }
}
