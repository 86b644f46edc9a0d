//! Validation: a [`Scenario`] as written becomes a [`ValidScenario`] or a list of errors, each
//! naming its field. Every rule a user can break lives in this module, so the simulator never
//! has to second-guess its input.
//!
//! [`validate`] sets the order of the checks (and so of the errors); each area's rules live in
//! a file of their own, built on the primitive checks in [`super::check`].

mod balancer;
mod call;
mod client;
mod cycle;
mod fault;
mod function;
mod llm;
mod nodes;
mod policies;
mod queue;
mod run;
mod service;

use super::check::Checker;
use super::error::{ScenarioErrorKind as Kind, ScenarioErrors};
use super::format::*;
use super::model::*;
use crate::limits::*;
use crate::prelude::*;

/// Checks a parsed scenario and resolves it into the model the simulator runs.
pub fn validate(scenario: Scenario) -> Result<ValidScenario, ScenarioErrors> {
    let mut check = Checker::default();
    if scenario.version != FORMAT_VERSION {
        check.fail("version", Kind::Version, format!("expected {FORMAT_VERSION}, got {}", scenario.version));
    }
    check.text("name", &scenario.name, NAME_BYTES_MAX);
    check.text("description", &scenario.description, TEXT_BYTES_MAX);
    check.text("what_to_try", &scenario.what_to_try, TEXT_BYTES_MAX);
    if scenario.seed > SEED_MAX {
        check.fail("seed", Kind::Invalid, format!("expected an integer from 0 to {SEED_MAX}, got {}", scenario.seed));
    }
    let run = run::run(&mut check, &scenario);

    // Nodes: ids first, so that references can be resolved in any order.
    let ids = nodes::ids_and_kinds(&mut check, &scenario.nodes);
    let account_concurrency_limit = function::account_limit(&mut check, scenario.account.as_ref());
    let (mut clients, mut services, mut balancers, mut queues, mut edges) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Then each node by its area's rules. Edges are numbered as their callers are checked, so
    // they come in node order.
    for (position, node) in scenario.nodes.iter().take(NODES_MAX).enumerate() {
        let (path, index) = (format!("nodes[{position}]"), position as u16);
        let check = &mut check;
        match node {
            Node::Client(client) => clients.push(client::client(check, &path, client, index, &ids, &mut edges)),
            Node::Service(service) => services.push(service::service(check, &path, service, index, &ids, &mut edges)),
            Node::Function(function) => {
                let limit = account_concurrency_limit;
                services.push(function::function(check, &path, function, index, limit, &ids, &mut edges));
            }
            Node::Llm(llm) => services.push(llm::llm(check, &path, llm, index)),
            Node::Queue(queue) => queues.push(queue::queue(check, &path, queue, index, &ids)),
            Node::LoadBalancer(balancer) => balancers.push(balancer::balancer(check, &path, balancer, index, &ids)),
        }
    }

    let faults = fault::faults(&mut check, &scenario.faults, run.duration, &ids, &clients);
    if let Some(cycle) = cycle::find_call_cycle(&ids.models, &services, &balancers, &edges) {
        check.fail("nodes", Kind::Invalid, format!("expected calls without cycles; they loop: {}", cycle.join(" -> ")));
    }
    check.finish()?;
    Ok(ValidScenario {
        seed: scenario.seed,
        duration: run.duration,
        bucket: run.bucket,
        bucket_count: run.bucket_count,
        events_max: run.events_max,
        in_flight_max: run.in_flight_max,
        nodes: ids.into_models(),
        clients,
        services,
        balancers,
        queues,
        edges,
        account_concurrency_limit,
        faults,
        scenario,
    })
}
