//! Faults: a window of time in which a node is slowed, fails, loses workers or (a client)
//! surges.

use crate::limits::*;
use crate::prelude::*;
use crate::scenario::check::{Checker, NodeIds};
use crate::scenario::error::ScenarioErrorKind as Kind;
use crate::scenario::format::Fault;
use crate::scenario::model::*;
use crate::time::{SimDuration, SimTime};

/// Checks the faults and builds their models; a surge needs an open-loop client.
pub(super) fn faults(
    check: &mut Checker,
    faults: &[Fault],
    duration: SimDuration,
    ids: &NodeIds,
    clients: &[ClientModel],
) -> Vec<FaultModel> {
    if faults.len() > FAULTS_MAX {
        check.fail("faults", Kind::OverLimit, format!("expected at most {FAULTS_MAX} faults, got {}", faults.len()));
    }
    let mut models = Vec::new();
    for (index, fault) in faults.iter().take(FAULTS_MAX).enumerate() {
        if let Some(model) = self::fault(check, &format!("faults[{index}]"), fault, duration, ids) {
            models.push(model);
        }
    }
    for (index, fault) in models.iter().enumerate() {
        let node = ids.model(fault.node);
        let closed_loop = node.kind == NodeKind::Client
            && matches!(clients.get(usize::from(node.index)).map(|c| &c.workload), Some(Workload::Closed { .. }));
        if closed_loop && fault.effects.surge != 1.0 {
            check.fail(
                format!("faults[{index}].surge"),
                Kind::Invalid,
                format!("expected an open-loop client (with a rate); {:?} has users", node.id),
            );
        }
    }
    models
}

fn fault(check: &mut Checker, path: &str, fault: &Fault, duration: SimDuration, ids: &NodeIds) -> Option<FaultModel> {
    let start = check.span(&format!("{path}.start"), fault.start, SimDuration::ZERO, DURATION_MAX);
    let end = check.span(&format!("{path}.end"), fault.end, SimDuration::ZERO, DURATION_MAX);
    if end <= start {
        check.fail(format!("{path}.end"), Kind::Invalid, format!("expected a time after start ({start}), got {end}"));
    }
    if start >= duration {
        check.fail(
            format!("{path}.start"),
            Kind::Invalid,
            format!("expected a time before the end of the run ({duration}), got {start}"),
        );
    }
    let node = ids.resolve(check, &format!("{path}.node"), &fault.node)?;
    effect_kinds(check, path, fault, ids.model(node).kind);
    let effects = effects(check, path, fault);
    Some(FaultModel { node, start: SimTime(start.0), end: SimTime(end.0.min(duration.0.max(start.0))), effects })
}

/// Checks that the fault has at least one effect, each on a node of a kind it can affect.
fn effect_kinds(check: &mut Checker, path: &str, fault: &Fault, kind: NodeKind) {
    let mut effect_count = 0;
    let wrong_kind = |check: &mut Checker, field: &str, needs: NodeKind| {
        check.fail(
            format!("{path}.{field}"),
            Kind::Invalid,
            format!(
                "expected a node of kind \"{}\" for this effect; {:?} is {}",
                needs.as_str(),
                fault.node,
                kind.with_article()
            ),
        );
    };
    let service_effects: [(&str, bool); 5] = [
        ("slowdown", fault.slowdown.is_some()),
        ("added_latency", fault.added_latency.is_some()),
        ("error_rate", fault.error_rate.is_some()),
        ("outage", fault.outage.is_some()),
        ("workers_lost", fault.workers_lost.is_some()),
    ];
    for (field, present) in service_effects {
        if present {
            effect_count += 1;
            // A function's capacity is its fleet, not workers a fault could take away.
            let function_too = field != "workers_lost";
            let allowed =
                matches!(kind, NodeKind::Service | NodeKind::Llm) || (function_too && kind == NodeKind::Function);
            if !allowed {
                wrong_kind(check, field, NodeKind::Service);
            }
        }
    }
    if fault.surge.is_some() {
        effect_count += 1;
        if kind != NodeKind::Client {
            wrong_kind(check, "surge", NodeKind::Client);
        }
    }
    if effect_count == 0 {
        check.fail(path, Kind::Invalid, "expected at least one effect: slowdown, added_latency, error_rate, outage (services, functions, LLM endpoints), workers_lost (services, LLM endpoints) or surge (clients)");
    }
}

/// The fault's effects, each value checked; an effect left out leaves the node as it is.
fn effects(check: &mut Checker, path: &str, fault: &Fault) -> FaultEffects {
    let mut effects = FaultEffects::NONE;
    if let Some(slowdown) = fault.slowdown {
        if check.number(&format!("{path}.slowdown"), slowdown, 0.001, FACTOR_MAX) {
            effects.slowdown = slowdown;
        }
    }
    if let Some(added_latency) = fault.added_latency {
        effects.added_latency =
            check.span(&format!("{path}.added_latency"), added_latency, SimDuration::ZERO, SPAN_MAX);
    }
    if let Some(error_rate) = fault.error_rate {
        if check.probability(&format!("{path}.error_rate"), error_rate) {
            effects.error_rate = error_rate;
        }
    }
    effects.outage = fault.outage;
    if let Some(workers_lost) = fault.workers_lost {
        if workers_lost == 0 {
            check.fail(format!("{path}.workers_lost"), Kind::Invalid, "expected at least 1 worker lost");
        }
        effects.workers_lost = workers_lost;
    }
    if let Some(surge) = fault.surge {
        if check.number(&format!("{path}.surge"), surge, 0.0, FACTOR_MAX) {
            effects.surge = surge;
        }
    }
    effects
}
