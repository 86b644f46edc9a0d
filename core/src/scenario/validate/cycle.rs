//! Call cycles: calls from service to service, through load balancers and fallbacks, must not
//! loop.

use crate::prelude::*;
use crate::scenario::model::*;

/// A cycle of service calls, as node ids (first repeated at the end), if there is one. A
/// cycle would make every attempt call itself forever.
pub(super) fn find_call_cycle(
    nodes: &[NodeModel],
    services: &[ServiceModel],
    balancers: &[BalancerModel],
    edges: &[EdgeModel],
) -> Option<Vec<String>> {
    // Depth-first search over services; colour 1 = on the current path, 2 = done.
    fn visit(
        service: usize,
        services: &[ServiceModel],
        balancers: &[BalancerModel],
        edges: &[EdgeModel],
        colour: &mut Vec<u8>,
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        colour[service] = 1;
        path.push(service);
        // A service reaches what its calls (and their fallbacks) reach, through balancers.
        let mut reached: Vec<u16> = Vec::new();
        for &edge in &services[service].calls {
            let mut edge = Some(edge);
            while let Some(index) = edge {
                let model = &edges[usize::from(index)];
                match model.target {
                    Target::Service(next) => reached.push(next),
                    Target::Balancer(balancer) => reached.extend(&balancers[usize::from(balancer)].pool),
                    // A message is not a synchronous call: it cannot loop.
                    Target::Queue(_) => {}
                }
                edge = match model.fallback {
                    FallbackModel::Call(fallback) => Some(fallback),
                    _ => None,
                };
            }
        }
        for next in reached {
            let next = usize::from(next);
            if colour[next] == 1 {
                let start = path.iter().position(|&s| s == next).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(next);
                return Some(cycle);
            }
            if colour[next] == 0 {
                if let Some(cycle) = visit(next, services, balancers, edges, colour, path) {
                    return Some(cycle);
                }
            }
        }
        path.pop();
        colour[service] = 2;
        None
    }
    let mut colour = vec![0u8; services.len()];
    for start in 0..services.len() {
        if colour[start] == 0 {
            if let Some(cycle) = visit(start, services, balancers, edges, &mut colour, &mut Vec::new()) {
                return Some(cycle.into_iter().map(|s| nodes[usize::from(services[s].node)].id.clone()).collect());
            }
        }
    }
    None
}
