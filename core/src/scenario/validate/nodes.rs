//! Node ids and kinds: the first pass over the nodes, so that any node can name any other,
//! whatever their order.

use crate::limits::{NODES_MAX, NODE_ID_BYTES_MAX};
use crate::prelude::*;
use crate::scenario::check::{Checker, NodeIds};
use crate::scenario::error::ScenarioErrorKind as Kind;
use crate::scenario::format::Node;
use crate::scenario::model::{NodeKind, NodeModel};

/// Checks the number of nodes and their ids, and numbers each node among its kind.
pub(super) fn ids_and_kinds<'a>(check: &mut Checker, nodes: &'a [Node]) -> NodeIds<'a> {
    if nodes.is_empty() || nodes.len() > NODES_MAX {
        check.fail("nodes", Kind::OverLimit, format!("expected 1 to {NODES_MAX} nodes, got {}", nodes.len()));
    }
    let mut ids = NodeIds { index_of_id: BTreeMap::new(), models: Vec::new() };
    let (mut client_count, mut service_count, mut balancer_count, mut queue_count) = (0u16, 0u16, 0u16, 0u16);
    for (position, node) in nodes.iter().take(NODES_MAX).enumerate() {
        let id = node.id();
        let path = format!("nodes[{position}].id");
        if id.is_empty() || id.len() > NODE_ID_BYTES_MAX || id.chars().any(char::is_control) {
            check.fail(
                &path,
                Kind::Invalid,
                format!("expected 1 to {NODE_ID_BYTES_MAX} bytes of printable text, got {id:?}"),
            );
        }
        let position = position as u16;
        if ids.index_of_id.insert(id, position).is_some() {
            check.fail(&path, Kind::Duplicate, format!("expected a unique id; {id:?} is used by an earlier node"));
        }
        let (kind, index) = match node {
            Node::Client(_) => (NodeKind::Client, post_increment(&mut client_count)),
            Node::Service(_) => (NodeKind::Service, post_increment(&mut service_count)),
            Node::LoadBalancer(_) => (NodeKind::Balancer, post_increment(&mut balancer_count)),
            Node::Queue(_) => (NodeKind::Queue, post_increment(&mut queue_count)),
            // A function is a service of the model: callers address both alike.
            Node::Function(_) => (NodeKind::Function, post_increment(&mut service_count)),
            Node::Llm(_) => (NodeKind::Llm, post_increment(&mut service_count)),
        };
        ids.models.push(NodeModel { id: id.to_string(), kind, index });
    }
    if client_count == 0 && !nodes.is_empty() {
        check.fail("nodes", Kind::Invalid, "expected at least one node of kind \"client\" to send requests");
    }
    ids
}

fn post_increment(counter: &mut u16) -> u16 {
    let value = *counter;
    *counter += 1;
    value
}
