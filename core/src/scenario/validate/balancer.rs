//! Load balancer nodes: a pool of services, the policy that picks one, and outlier ejection.

use super::policies;
use crate::prelude::*;
use crate::scenario::check::{Checker, NodeIds};
use crate::scenario::error::ScenarioErrorKind as Kind;
use crate::scenario::format::BalancerNode;
use crate::scenario::model::{BalancerModel, NodeKind};

/// Checks a load balancer node and builds its model.
pub(super) fn balancer(
    check: &mut Checker,
    path: &str,
    balancer: &BalancerNode,
    node_index: u16,
    ids: &NodeIds,
) -> BalancerModel {
    if balancer.pool.is_empty() || balancer.pool.len() > policies::POOL_MAX as usize {
        check.fail(
            format!("{path}.pool"),
            Kind::Invalid,
            format!("expected 1 to {} service ids, got {}", policies::POOL_MAX, balancer.pool.len()),
        );
    }
    let mut pool: Vec<u16> = Vec::new();
    for (index, id) in balancer.pool.iter().enumerate() {
        let member_path = format!("{path}.pool[{index}]");
        if let Some(service) = service(check, &member_path, id, ids) {
            if pool.contains(&service) {
                check.fail(
                    &member_path,
                    Kind::Duplicate,
                    format!("expected each service once; {id:?} is listed twice"),
                );
            }
            pool.push(service);
        }
    }
    BalancerModel {
        node: node_index,
        pool,
        policy: policies::balance_policy(balancer.policy),
        outlier: balancer
            .outlier_detection
            .as_ref()
            .map(|outlier| policies::outlier(check, &format!("{path}.outlier_detection"), outlier)),
    }
}

/// The service index of the service node `id` names: a pool holds services only.
fn service(check: &mut Checker, path: &str, id: &str, ids: &NodeIds) -> Option<u16> {
    let model = ids.model(ids.resolve(check, path, id)?);
    match model.kind {
        NodeKind::Service => Some(model.index),
        NodeKind::Client => {
            check.fail(path, Kind::UnknownReference, format!("expected the id of a service; {id:?} is a client"));
            None
        }
        NodeKind::Balancer | NodeKind::Queue | NodeKind::Function | NodeKind::Llm => {
            let kind = model.kind.with_article();
            check.fail(path, Kind::UnknownReference, format!("expected the id of a service; {id:?} is {kind}"));
            None
        }
    }
}
