//! Validation: a [`Scenario`] as written becomes a [`ValidScenario`] or a list of errors, each
//! naming its field. Every rule a user can break lives here, so the simulator never has to
//! second-guess its input.

use super::duration::Duration;
use super::error::{ScenarioError, ScenarioErrorKind as Kind, ScenarioErrors};
use super::format::*;
use super::model::*;
use super::policies::Fallback;
use super::validate_function as functions;
use super::validate_llm as llms;
use super::validate_policies as policies;
use crate::components::broker::BrokerConfig;
use crate::dist::DistModel;
use crate::limits::*;
use crate::prelude::*;
use crate::rng::stream_id;
use crate::time::{SimDuration, SimTime, NS_PER_MS, NS_PER_S};

pub(super) struct Checker {
    pub(super) errors: Vec<ScenarioError>,
}

impl Checker {
    pub(super) fn fail(&mut self, path: impl Into<String>, kind: Kind, message: impl Into<String>) {
        self.errors.push(ScenarioError::new(path, kind, message));
    }

    pub(super) fn text(&mut self, path: &str, text: &str, max_bytes: usize) {
        if text.len() > max_bytes {
            self.fail(path, Kind::OverLimit, format!("expected at most {max_bytes} bytes, got {}", text.len()));
        }
    }

    /// A finite number in [min, max].
    pub(super) fn number(&mut self, path: &str, value: f64, min: f64, max: f64) -> bool {
        if value.is_finite() && value >= min && value <= max {
            true
        } else {
            self.fail(path, Kind::Invalid, format!("expected a number from {min} to {max}, got {value}"));
            false
        }
    }

    pub(super) fn probability(&mut self, path: &str, value: f64) -> bool {
        if value.is_finite() && (0.0..=1.0).contains(&value) {
            true
        } else {
            self.fail(path, Kind::Invalid, format!("expected a probability from 0 to 1, got {value}"));
            false
        }
    }

    /// A duration in [min, max].
    pub(super) fn span(&mut self, path: &str, value: Duration, min: SimDuration, max: SimDuration) -> SimDuration {
        let value = value.0;
        if value < min || value > max {
            self.fail(path, Kind::Invalid, format!("expected a duration from {min} to {max}, got {value}"));
        }
        value
    }

    pub(super) fn dist(&mut self, path: &str, dist: &Dist, nested: bool) -> DistModel {
        match dist {
            Dist::Constant(value) => DistModel::Constant {
                ns: self.span(&format!("{path}.constant"), *value, SimDuration::ZERO, SPAN_MAX).0,
            },
            Dist::Exponential(exponential) => {
                let mean = self.span(&format!("{path}.exponential.mean"), exponential.mean, SimDuration(1), SPAN_MAX);
                DistModel::Exponential { mean_ns: mean.0 as f64 }
            }
            Dist::Lognormal(lognormal) => {
                let p50 = self.span(&format!("{path}.lognormal.p50"), lognormal.p50, SimDuration(1), SPAN_MAX);
                let p99 = self.span(&format!("{path}.lognormal.p99"), lognormal.p99, SimDuration(1), SPAN_MAX);
                if p99 < p50 {
                    self.fail(
                        format!("{path}.lognormal.p99"),
                        Kind::Invalid,
                        format!("expected at least p50 ({p50}), got {p99}"),
                    );
                }
                DistModel::lognormal_from_percentiles(p50.0.max(1), p99.0.max(p50.0).max(1))
            }
            Dist::Uniform(uniform) => {
                let min = self.span(&format!("{path}.uniform.min"), uniform.min, SimDuration::ZERO, SPAN_MAX);
                let max = self.span(&format!("{path}.uniform.max"), uniform.max, SimDuration::ZERO, SPAN_MAX);
                if max < min {
                    self.fail(
                        format!("{path}.uniform.max"),
                        Kind::Invalid,
                        format!("expected at least min ({min}), got {max}"),
                    );
                }
                DistModel::Uniform { min_ns: min.0 as f64, max_ns: max.0.max(min.0) as f64 }
            }
            Dist::Mixture(components) => {
                let path = format!("{path}.mixture");
                if nested {
                    self.fail(
                        &path,
                        Kind::Invalid,
                        "expected a plain distribution: a mixture cannot contain a mixture",
                    );
                    return DistModel::Constant { ns: 0 };
                }
                if components.is_empty() || components.len() > MIXTURE_COMPONENTS_MAX {
                    self.fail(
                        &path,
                        Kind::OverLimit,
                        format!("expected 1 to {MIXTURE_COMPONENTS_MAX} components, got {}", components.len()),
                    );
                    return DistModel::Constant { ns: 0 };
                }
                let mut total_weight = 0.0;
                for (index, component) in components.iter().enumerate() {
                    if self.number(&format!("{path}[{index}].weight"), component.weight, 0.0, 1e9) {
                        total_weight += component.weight;
                    }
                }
                if total_weight <= 0.0 {
                    self.fail(&path, Kind::Invalid, "expected at least one component with a positive weight");
                    total_weight = 1.0;
                }
                let mut cumulative = 0.0;
                let mut models = Vec::with_capacity(components.len());
                for (index, component) in components.iter().enumerate() {
                    let model = self.dist(&format!("{path}[{index}].dist"), &component.dist, true);
                    cumulative += component.weight.max(0.0) / total_weight;
                    let is_last = index + 1 == components.len();
                    models.push((if is_last { 1.0 } else { cumulative }, model));
                }
                DistModel::Mixture { components: models }
            }
        }
    }
}

/// Checks a parsed scenario and resolves it into the model the simulator runs.
pub fn validate(scenario: Scenario) -> Result<ValidScenario, ScenarioErrors> {
    let mut check = Checker { errors: Vec::new() };

    if scenario.version != FORMAT_VERSION {
        check.fail("version", Kind::Version, format!("expected {FORMAT_VERSION}, got {}", scenario.version));
    }
    check.text("name", &scenario.name, NAME_BYTES_MAX);
    check.text("description", &scenario.description, TEXT_BYTES_MAX);
    check.text("what_to_try", &scenario.what_to_try, TEXT_BYTES_MAX);
    if scenario.seed > SEED_MAX {
        check.fail("seed", Kind::Invalid, format!("expected an integer from 0 to {SEED_MAX}, got {}", scenario.seed));
    }
    let duration = check.span("duration", scenario.duration, SimDuration(NS_PER_MS), DURATION_MAX);

    let bucket = match scenario.metrics.as_ref().and_then(|metrics| metrics.bucket) {
        Some(bucket) => {
            let bucket = check.span("metrics.bucket", bucket, BUCKET_MIN, duration.max(BUCKET_MIN));
            if bucket.0 > 0 && duration.0.div_ceil(bucket.0.max(1)) > BUCKETS_MAX {
                check.fail(
                    "metrics.bucket",
                    Kind::OverLimit,
                    format!(
                        "expected at most {BUCKETS_MAX} buckets in the run; choose a bucket of at least {}",
                        SimDuration(duration.0.div_ceil(BUCKETS_MAX))
                    ),
                );
            }
            bucket
        }
        None => default_bucket(duration),
    };
    let bucket_count = u32::try_from(duration.0.div_ceil(bucket.0.max(1)).clamp(1, BUCKETS_MAX)).unwrap_or(1);

    let limits = scenario.limits.clone().unwrap_or(LimitsSpec { events_max: None, in_flight_max: None });
    let events_max = limits.events_max.unwrap_or(EVENTS_MAX_DEFAULT);
    if events_max == 0 || events_max > EVENTS_MAX_CEILING {
        check.fail(
            "limits.events_max",
            Kind::OverLimit,
            format!("expected 1 to {EVENTS_MAX_CEILING}, got {events_max}"),
        );
    }
    let in_flight_max = limits.in_flight_max.unwrap_or(IN_FLIGHT_MAX_DEFAULT);
    if in_flight_max == 0 || in_flight_max > IN_FLIGHT_MAX_CEILING {
        check.fail(
            "limits.in_flight_max",
            Kind::OverLimit,
            format!("expected 1 to {IN_FLIGHT_MAX_CEILING}, got {in_flight_max}"),
        );
    }

    // Nodes: ids first, so that references can be resolved in any order.
    if scenario.nodes.is_empty() || scenario.nodes.len() > NODES_MAX {
        check.fail("nodes", Kind::OverLimit, format!("expected 1 to {NODES_MAX} nodes, got {}", scenario.nodes.len()));
    }
    let mut index_of_id: BTreeMap<&str, u16> = BTreeMap::new();
    let mut nodes = Vec::new();
    let (mut client_count, mut service_count, mut balancer_count, mut queue_count) = (0u16, 0u16, 0u16, 0u16);
    for (position, node) in scenario.nodes.iter().take(NODES_MAX).enumerate() {
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
        if index_of_id.insert(id, position).is_some() {
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
        nodes.push(NodeModel { id: id.to_string(), kind, index });
    }
    if client_count == 0 && !scenario.nodes.is_empty() {
        check.fail("nodes", Kind::Invalid, "expected at least one node of kind \"client\" to send requests");
    }

    let account_concurrency_limit = functions::account_limit(&mut check, scenario.account.as_ref());
    let mut clients = Vec::new();
    let mut services = Vec::new();
    let mut balancers = Vec::new();
    let mut queues = Vec::new();
    let mut edges = Vec::new();
    for (position, node) in scenario.nodes.iter().take(NODES_MAX).enumerate() {
        let path = format!("nodes[{position}]");
        let node_index = position as u16;
        match node {
            Node::Client(client) => {
                let workload = validate_workload(&mut check, &path, client);
                if client.calls.len() != 1 {
                    check.fail(
                        format!("{path}.calls"),
                        Kind::Invalid,
                        format!("expected exactly one call, got {}", client.calls.len()),
                    );
                }
                let edge_index = edges.len() as u16;
                if let Some(call) = client.calls.first() {
                    let call_path = format!("{path}.calls[0]");
                    if call.count != 1 {
                        check.fail(
                            format!("{call_path}.count"),
                            Kind::Invalid,
                            "expected 1: a client's request makes its call once (counts are for services' calls)",
                        );
                    }
                    validate_call(&mut check, &call_path, call, 0, node_index, &index_of_id, &nodes, &mut edges);
                }
                clients.push(ClientModel {
                    node: node_index,
                    workload,
                    criticality: client.criticality,
                    edge: edge_index,
                    arrival_stream_id: stream_id(&[&client.id, "arrivals"]),
                });
            }
            Node::Service(service) => {
                if service.workers == 0 || service.workers > WORKERS_MAX {
                    check.fail(
                        format!("{path}.workers"),
                        Kind::Invalid,
                        format!("expected 1 to {WORKERS_MAX} workers, got {}", service.workers),
                    );
                }
                if let Some(capacity) = service.queue.capacity {
                    if capacity > QUEUE_CAPACITY_MAX {
                        check.fail(format!("{path}.queue.capacity"), Kind::OverLimit, format!("expected at most {QUEUE_CAPACITY_MAX} (omit it for an unbounded queue), got {capacity}"));
                    }
                }
                check.probability(&format!("{path}.error_rate"), service.error_rate);
                let service_time = check.dist(&format!("{path}.service_time"), &service.service_time, false);
                let admission = service.admission.clone().unwrap_or_default();
                let consumer = service.consumes.as_ref().and_then(|consumer| {
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
                    let queue_path = format!("{consumer_path}.queue");
                    let queue = resolve_queue(&mut check, &queue_path, &consumer.queue, &index_of_id, &nodes)?;
                    Some(ConsumerModel { queue, batch_size, partial_batch_failures: consumer.partial_batch_failures })
                });
                let side_effects = validate_side_effects(&mut check, &path, service.side_effects.as_ref());
                let (calls, call_slots) = validate_service_calls(
                    &mut check,
                    &path,
                    &service.calls,
                    service.complete_on,
                    node_index,
                    &index_of_id,
                    &nodes,
                    &mut edges,
                );
                services.push(ServiceModel {
                    queue_capacity: service.queue.capacity,
                    discipline: service.queue.discipline,
                    calls,
                    call_mode: service.call_mode,
                    complete_on: service.complete_on,
                    call_slots,
                    drop_expired: service.drop_expired,
                    write_conflicts: service.write_conflicts,
                    management: service.queue.management.clone(),
                    limiter: admission.concurrency_limit.as_ref().map(|limit| {
                        policies::limiter(&mut check, &format!("{path}.admission.concurrency_limit"), limit)
                    }),
                    rate_limit: admission
                        .rate_limit
                        .as_ref()
                        .map(|limit| policies::rate_limit(&mut check, &format!("{path}.admission.rate_limit"), limit)),
                    shed_sheddable_above: admission.shed_sheddable_above,
                    pushback: service.pushback.as_ref().map(|pushback| {
                        pushback.retry_after.map(|after| {
                            check.span(&format!("{path}.pushback.retry_after"), after, SimDuration::ZERO, SPAN_MAX)
                        })
                    }),
                    consumer,
                    side_effects,
                    ..ServiceModel::plain(node_index, &service.id, service.workers, service_time, service.error_rate)
                });
            }
            Node::Function(function) => {
                services.push(functions::function(
                    &mut check,
                    &path,
                    function,
                    node_index,
                    account_concurrency_limit,
                    &index_of_id,
                    &nodes,
                    &mut edges,
                ));
            }
            Node::Llm(llm) => services.push(llms::llm(&mut check, &path, llm, node_index)),
            Node::Queue(queue) => {
                let defaults = BrokerConfig::sqs_default();
                let visibility_timeout = queue.visibility_timeout.map_or(defaults.visibility_timeout, |timeout| {
                    check.span(
                        &format!("{path}.visibility_timeout"),
                        timeout,
                        SimDuration::ZERO,
                        VISIBILITY_TIMEOUT_MAX,
                    )
                });
                let retention = queue.retention.map_or(defaults.retention, |retention| {
                    check.span(&format!("{path}.retention"), retention, SimDuration::from_secs(60), RETENTION_MAX)
                });
                if let Some(count) = queue.max_receive_count {
                    if !(1..=1000).contains(&count) {
                        check.fail(
                            format!("{path}.max_receive_count"),
                            Kind::Invalid,
                            format!("expected 1 to 1000, got {count}"),
                        );
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
                    resolve_queue(&mut check, &dead_path, dead_letter, &index_of_id, &nodes)
                });
                check.probability(&format!("{path}.poison_rate"), queue.poison_rate);
                queues.push(QueueModel {
                    node: node_index,
                    broker: BrokerConfig { visibility_timeout, max_receive_count: queue.max_receive_count, retention },
                    dead_letter,
                    poison_rate: queue.poison_rate,
                    poison_stream_id: stream_id(&[&queue.id, "poison"]),
                });
            }
            Node::LoadBalancer(balancer) => {
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
                    if let Some((_, service)) = resolve_service(&mut check, &member_path, id, &index_of_id, &nodes) {
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
                balancers.push(BalancerModel {
                    node: node_index,
                    pool,
                    policy: policies::balance_policy(balancer.policy),
                    outlier: balancer
                        .outlier_detection
                        .as_ref()
                        .map(|outlier| policies::outlier(&mut check, &format!("{path}.outlier_detection"), outlier)),
                });
            }
        }
    }

    if scenario.faults.len() > FAULTS_MAX {
        check.fail(
            "faults",
            Kind::OverLimit,
            format!("expected at most {FAULTS_MAX} faults, got {}", scenario.faults.len()),
        );
    }
    let mut faults = Vec::new();
    for (index, fault) in scenario.faults.iter().take(FAULTS_MAX).enumerate() {
        if let Some(model) =
            validate_fault(&mut check, &format!("faults[{index}]"), fault, duration, &index_of_id, &nodes)
        {
            faults.push(model);
        }
    }

    for (index, fault) in faults.iter().enumerate() {
        let node = &nodes[usize::from(fault.node)];
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
    if let Some(cycle) = find_call_cycle(&nodes, &services, &balancers, &edges) {
        check.fail("nodes", Kind::Invalid, format!("expected calls without cycles; they loop: {}", cycle.join(" -> ")));
    }

    if !check.errors.is_empty() {
        return Err(ScenarioErrors(check.errors));
    }
    Ok(ValidScenario {
        seed: scenario.seed,
        duration,
        bucket,
        bucket_count,
        events_max,
        in_flight_max,
        nodes,
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

/// A cycle of service calls, as node ids (first repeated at the end), if there is one. A
/// cycle would make every attempt call itself forever.
fn find_call_cycle(
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

/// A service's (or function's) side effects: `Some(window)` when counted, the window when
/// deduplicated.
pub(super) fn validate_side_effects(
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

/// A service's (or function's) calls: their edges, and the call slots they make per job.
#[allow(clippy::too_many_arguments)]
pub(super) fn validate_service_calls(
    check: &mut Checker,
    path: &str,
    calls: &[Call],
    complete_on: CompleteOn,
    node_index: u16,
    index_of_id: &BTreeMap<&str, u16>,
    nodes: &[NodeModel],
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
    for (index, call) in calls.iter().take(CALLS_PER_SERVICE_MAX).enumerate() {
        let call_path = format!("{path}.calls[{index}]");
        if call.count == 0 || call.count > CALL_COUNT_MAX {
            check.fail(
                format!("{call_path}.count"),
                Kind::Invalid,
                format!("expected 1 to {CALL_COUNT_MAX}, got {}", call.count),
            );
        }
        call_slots = call_slots.saturating_add(call.count.min(CALL_COUNT_MAX));
        if let Some(edge) = validate_call(check, &call_path, call, index, node_index, index_of_id, nodes, edges) {
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

fn post_increment(counter: &mut u16) -> u16 {
    let value = *counter;
    *counter += 1;
    value
}

/// 1 s buckets, widened to whole seconds so a long run has at most [`BUCKETS_DEFAULT_MAX`];
/// a run shorter than 20 s gets 20 buckets.
fn default_bucket(duration: SimDuration) -> SimDuration {
    if duration.0 < 20 * NS_PER_S {
        let bucket_ms = (duration.0 / 20 / NS_PER_MS).max(1);
        return SimDuration(bucket_ms * NS_PER_MS);
    }
    let seconds = duration.0.div_ceil(NS_PER_S).div_ceil(BUCKETS_DEFAULT_MAX).max(1);
    SimDuration(seconds * NS_PER_S)
}

/// The node `id` names, or an error listing the ids that exist.
fn resolve_node(check: &mut Checker, path: &str, id: &str, index_of_id: &BTreeMap<&str, u16>) -> Option<u16> {
    let node = index_of_id.get(id).copied();
    if node.is_none() {
        let known: Vec<&str> = index_of_id.keys().copied().collect();
        check.fail(
            path,
            Kind::UnknownReference,
            format!("expected the id of a node ({}), got {id:?}", known.join(", ")),
        );
    }
    node
}

fn resolve_service(
    check: &mut Checker,
    path: &str,
    id: &str,
    index_of_id: &BTreeMap<&str, u16>,
    nodes: &[NodeModel],
) -> Option<(u16, u16)> {
    let node = resolve_node(check, path, id, index_of_id)?;
    let model = &nodes[usize::from(node)];
    match model.kind {
        NodeKind::Service => Some((node, model.index)),
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

/// Open or closed loop, and their parameters.
fn validate_workload(check: &mut Checker, path: &str, client: &ClientNode) -> Workload {
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
    if let Some(users) = client.users {
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
        return Workload::Closed { users, think_time, requests_per_user: client.requests_per_user };
    }
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

/// Validates a call and pushes its edge (and its fallback's) onto `edges`; returns the
/// index of the call's edge.
#[allow(clippy::too_many_arguments)]
fn validate_call(
    check: &mut Checker,
    path: &str,
    call: &Call,
    call_index: usize,
    from_node: u16,
    index_of_id: &BTreeMap<&str, u16>,
    nodes: &[NodeModel],
    edges: &mut Vec<EdgeModel>,
) -> Option<u16> {
    validate_call_edge(check, path, call, call_index, from_node, index_of_id, nodes, edges, false)
}

#[allow(clippy::too_many_arguments)]
fn validate_call_edge(
    check: &mut Checker,
    path: &str,
    call: &Call,
    call_index: usize,
    from_node: u16,
    index_of_id: &BTreeMap<&str, u16>,
    nodes: &[NodeModel],
    edges: &mut Vec<EdgeModel>,
    is_fallback: bool,
) -> Option<u16> {
    let target = resolve_target(check, &format!("{path}.to"), &call.to, index_of_id, nodes);
    let network_delay =
        call.network_delay.as_ref().map(|dist| check.dist(&format!("{path}.network_delay"), dist, false));
    let timeout = call.timeout.map(|timeout| check.span(&format!("{path}.timeout"), timeout, SimDuration(1), SPAN_MAX));
    let retry = match &call.retry {
        None => RetryModel::NEVER,
        Some(retry) => validate_retry(check, &format!("{path}.retry"), retry),
    };
    let deadline = call.deadline.clone().unwrap_or(Deadline { total: None, propagate: false, reduce_per_hop: None });
    let deadline_total =
        deadline.total.map(|total| check.span(&format!("{path}.deadline.total"), total, SimDuration(1), SPAN_MAX));
    let deadline_reduction = deadline.reduce_per_hop.map_or(SimDuration::ZERO, |d| {
        check.span(&format!("{path}.deadline.reduce_per_hop"), d, SimDuration::ZERO, SPAN_MAX)
    });
    let from_is_client = nodes[usize::from(from_node)].kind == NodeKind::Client;
    if from_is_client && (deadline.propagate || deadline.reduce_per_hop.is_some()) {
        check.fail(
            format!("{path}.deadline.propagate"),
            Kind::Invalid,
            "expected only on a service's call: a client has no incoming deadline to propagate",
        );
    }
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
    let (to_node, target) = target?;
    let from_id = nodes[usize::from(from_node)].id.as_str();
    // The first call to a node keeps the stream ids of format version 1; later calls from the
    // same node, and fallbacks, get their own.
    let stream = |purpose: &str| match (call_index, is_fallback) {
        (0, false) => stream_id(&[from_id, &call.to, purpose]),
        (index, false) => stream_id(&[from_id, &call.to, &format!("{index}"), purpose]),
        (index, true) => stream_id(&[from_id, &call.to, &format!("{index}"), "fallback", purpose]),
    };
    let index = edges.len() as u16;
    edges.push(EdgeModel {
        from_node,
        from_client: from_is_client,
        to_node,
        target,
        count: call.count.clamp(1, CALL_COUNT_MAX),
        network_delay,
        timeout,
        retry,
        deadline_total,
        propagate_deadline: deadline.propagate,
        deadline_reduction,
        budget,
        throttle,
        breaker,
        hedge,
        fallback: FallbackModel::None,
        cancel_on_give_up: call.cancel_on_give_up,
        is_fallback,
        network_stream_id: stream("network"),
        jitter_stream_id: stream("jitter"),
        policy_stream_id: stream("policy"),
    });
    let fallback = match &call.fallback {
        None => FallbackModel::None,
        Some(Fallback::Degraded) => FallbackModel::Degraded,
        Some(Fallback::Call(_)) if is_fallback => {
            check.fail(format!("{path}.fallback"), Kind::Invalid, "expected no fallback inside a fallback call");
            FallbackModel::None
        }
        Some(Fallback::Call(fallback)) => {
            let fallback_path = format!("{path}.fallback.call");
            if fallback.count != 1 {
                check.fail(format!("{fallback_path}.count"), Kind::Invalid, "expected 1: a fallback replaces one call");
            }
            match validate_call_edge(
                check,
                &fallback_path,
                fallback,
                call_index,
                from_node,
                index_of_id,
                nodes,
                edges,
                true,
            ) {
                Some(edge) => FallbackModel::Call(edge),
                None => FallbackModel::None,
            }
        }
    };
    edges[usize::from(index)].fallback = fallback;
    Some(index)
}

/// The queue node `id` names.
pub(super) fn resolve_queue(
    check: &mut Checker,
    path: &str,
    id: &str,
    index_of_id: &BTreeMap<&str, u16>,
    nodes: &[NodeModel],
) -> Option<u16> {
    let node = resolve_node(check, path, id, index_of_id)?;
    let model = &nodes[usize::from(node)];
    if model.kind == NodeKind::Queue {
        Some(model.index)
    } else {
        check.fail(
            path,
            Kind::UnknownReference,
            format!("expected the id of a queue; {id:?} is {}", model.kind.with_article()),
        );
        None
    }
}

/// The node a call goes to: a service, a load balancer or a queue.
fn resolve_target(
    check: &mut Checker,
    path: &str,
    id: &str,
    index_of_id: &BTreeMap<&str, u16>,
    nodes: &[NodeModel],
) -> Option<(u16, Target)> {
    let node = resolve_node(check, path, id, index_of_id)?;
    let model = &nodes[usize::from(node)];
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

fn validate_retry(check: &mut Checker, path: &str, retry: &Retry) -> RetryModel {
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

fn validate_fault(
    check: &mut Checker,
    path: &str,
    fault: &Fault,
    duration: SimDuration,
    index_of_id: &BTreeMap<&str, u16>,
    nodes: &[NodeModel],
) -> Option<FaultModel> {
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
    let node = resolve_node(check, &format!("{path}.node"), &fault.node, index_of_id)?;
    let kind = nodes[usize::from(node)].kind;
    let mut effects = FaultEffects::NONE;
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
    Some(FaultModel { node, start: SimTime(start.0), end: SimTime(end.0.min(duration.0.max(start.0))), effects })
}
