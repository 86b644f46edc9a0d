//! The scenario's structure as the drawing code needs it and the report does not carry: where
//! each call edge is written in the scenario (its path), which policies it has, each load
//! balancer's pool and policy, each function's reserved and provisioned concurrency, and each
//! LLM endpoint's per-minute limits.
//!
//! ```text
//!  ValidScenario --Topology::of--> {edges: [{from, to, path, fallback, policies}], balancers, services, functions, llms}
//!        (worker: RunHandle.topology())        --postMessage-->    Figures (page): badges, pools
//! ```
//!
//! The report's `series.edges` are in the order of the model's edges; the model builds them
//! in scenario order (node by node, call by call, each call followed by its fallback call).
//! `Topology::of` walks the scenario in that order and checks the result against the model
//! edge by edge, so a change of that order gives edges without paths instead of wrong ones.

use serde::{Deserialize, Serialize};
use stormglass_core::scenario::{BalancePolicy, Call, ConcurrencyLimit, Fallback, Node, RetryBudget, ValidScenario};

/// One call edge, in the order of the report's `series.edges`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EdgeInfo {
    pub from: String,
    pub to: String,
    /// Where the call is written, like `nodes[0].calls[0]` or `nodes[2].calls[1].fallback.call`
    /// (empty if it could not be told).
    #[serde(default)]
    pub path: String,
    /// A fallback call (made after the call it belongs to has finally failed).
    #[serde(default)]
    pub fallback: bool,
    #[serde(default)]
    pub policies: EdgePolicies,
}

/// Which policies a call has (what the graph marks on its edge).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EdgePolicies {
    /// The retry budget's kind ("aws_standard", "grpc", "percentage", "envoy"), if any.
    #[serde(default)]
    pub budget: Option<String>,
    #[serde(default)]
    pub throttle: bool,
    #[serde(default)]
    pub breaker: bool,
    #[serde(default)]
    pub hedge: bool,
    /// "degraded" or "call", if the call has a fallback.
    #[serde(default)]
    pub fallback: Option<String>,
    #[serde(default)]
    pub deadline: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BalancerInfo {
    pub id: String,
    pub pool: Vec<String>,
    /// For people: "round robin", "peak EWMA", ...
    #[serde(default)]
    pub policy: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub id: String,
    /// The concurrency limit's kind ("static", "aimd", ...), if any.
    #[serde(default)]
    pub limiter: Option<String>,
}

/// A function's concurrency settings as the simulator runs them (provisioned concurrency is
/// held to the reserved concurrency).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionInfo {
    pub id: String,
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    #[serde(default)]
    pub provisioned_concurrency: u32,
}

/// An LLM endpoint's per-minute limits as the simulator runs them (`None`: no such limit), so
/// a chart can draw what it charges against them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmInfo {
    pub id: String,
    #[serde(default)]
    pub requests_per_minute: Option<u64>,
    #[serde(default)]
    pub tokens_per_minute: Option<u64>,
    #[serde(default)]
    pub input_tokens_per_minute: Option<u64>,
    #[serde(default)]
    pub output_tokens_per_minute: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    #[serde(default)]
    pub edges: Vec<EdgeInfo>,
    #[serde(default)]
    pub balancers: Vec<BalancerInfo>,
    #[serde(default)]
    pub services: Vec<ServiceInfo>,
    /// Services polling queues: `(queue, service)`.
    #[serde(default)]
    pub consumers: Vec<(String, String)>,
    #[serde(default)]
    pub functions: Vec<FunctionInfo>,
    #[serde(default)]
    pub llms: Vec<LlmInfo>,
}

impl Topology {
    pub fn of(scenario: &ValidScenario) -> Topology {
        let mut edges = Vec::new();
        let mut balancers = Vec::new();
        let mut services = Vec::new();
        let mut consumers = Vec::new();
        for (position, node) in scenario.scenario.nodes.iter().enumerate() {
            let calls: &[Call] = match node {
                Node::Client(client) => &client.calls[..client.calls.len().min(1)],
                Node::Service(service) => {
                    if let Some(consumer) = &service.consumes {
                        consumers.push((consumer.queue.clone(), service.id.clone()));
                    }
                    let limit = service.admission.as_ref().and_then(|admission| admission.concurrency_limit.as_ref());
                    services
                        .push(ServiceInfo { id: service.id.clone(), limiter: limit.map(|l| limiter_kind(l).into()) });
                    &service.calls
                }
                Node::LoadBalancer(balancer) => {
                    balancers.push(BalancerInfo {
                        id: balancer.id.clone(),
                        pool: balancer.pool.clone(),
                        policy: balance_policy_name(balancer.policy).into(),
                    });
                    &[]
                }
                Node::Function(function) => {
                    if let Some(source) = &function.consumes {
                        consumers.push((source.queue.clone(), function.id.clone()));
                    }
                    &function.calls
                }
                // Queues make no calls; their consumers poll them (not a call edge). An LLM
                // endpoint only answers.
                Node::Queue(_) | Node::Llm(_) => &[],
            };
            for (index, call) in calls.iter().enumerate() {
                let path = format!("nodes[{position}].calls[{index}]");
                edges.push(edge_info(node.id(), call, path.clone(), false));
                if let Some(Fallback::Call(fallback)) = &call.fallback {
                    edges.push(edge_info(node.id(), fallback, format!("{path}.fallback.call"), true));
                }
            }
        }
        let matches_model = edges.len() == scenario.edges.len()
            && edges.iter().zip(&scenario.edges).all(|(info, model)| {
                info.from == scenario.node_id(model.from_node) && info.to == scenario.node_id(model.to_node)
            });
        if !matches_model {
            // The model's edge order is not the one assumed: name the edges from the model,
            // without paths or policies, rather than attach policies to the wrong edges.
            edges = scenario
                .edges
                .iter()
                .map(|model| EdgeInfo {
                    from: scenario.node_id(model.from_node).to_string(),
                    to: scenario.node_id(model.to_node).to_string(),
                    fallback: model.is_fallback,
                    ..EdgeInfo::default()
                })
                .collect();
        }
        let functions = scenario
            .services
            .iter()
            .filter_map(|service| {
                let function = service.function.as_ref()?;
                Some(FunctionInfo {
                    id: scenario.node_id(service.node).to_string(),
                    reserved_concurrency: function.fleet.reserved,
                    provisioned_concurrency: function.fleet.provisioned,
                })
            })
            .collect();
        let llms = scenario
            .services
            .iter()
            .filter_map(|service| {
                let limits = &service.llm.as_ref()?.endpoint.limits;
                Some(LlmInfo {
                    id: scenario.node_id(service.node).to_string(),
                    requests_per_minute: limits.requests_per_minute,
                    tokens_per_minute: limits.tokens_per_minute,
                    input_tokens_per_minute: limits.input_tokens_per_minute,
                    output_tokens_per_minute: limits.output_tokens_per_minute,
                })
            })
            .collect();
        Topology { edges, balancers, services, consumers, functions, llms }
    }

    pub fn balancer(&self, id: &str) -> Option<&BalancerInfo> {
        self.balancers.iter().find(|balancer| balancer.id == id)
    }

    pub fn service(&self, id: &str) -> Option<&ServiceInfo> {
        self.services.iter().find(|service| service.id == id)
    }

    pub fn function(&self, id: &str) -> Option<&FunctionInfo> {
        self.functions.iter().find(|function| function.id == id)
    }

    pub fn llm(&self, id: &str) -> Option<&LlmInfo> {
        self.llms.iter().find(|llm| llm.id == id)
    }
}

fn edge_info(from: &str, call: &Call, path: String, fallback: bool) -> EdgeInfo {
    let policies = EdgePolicies {
        budget: call.budget.as_ref().map(|budget| budget_kind(budget).to_string()),
        throttle: call.throttle.is_some(),
        breaker: call.breaker.is_some(),
        hedge: call.hedge.is_some(),
        fallback: call.fallback.as_ref().map(|fallback| {
            match fallback {
                Fallback::Degraded => "degraded",
                Fallback::Call(_) => "call",
            }
            .to_string()
        }),
        deadline: call.deadline.as_ref().is_some_and(|deadline| deadline.total.is_some() || deadline.propagate),
    };
    EdgeInfo { from: from.to_string(), to: call.to.clone(), path, fallback, policies }
}

pub fn budget_kind(budget: &RetryBudget) -> &'static str {
    match budget {
        RetryBudget::AwsStandard(_) => "aws_standard",
        RetryBudget::Grpc(_) => "grpc",
        RetryBudget::Percentage(_) => "percentage",
        RetryBudget::Envoy(_) => "envoy",
    }
}

fn limiter_kind(limit: &ConcurrencyLimit) -> &'static str {
    match limit {
        ConcurrencyLimit::Static(_) => "static",
        ConcurrencyLimit::Aimd(_) => "aimd",
        ConcurrencyLimit::Vegas(_) => "vegas",
        ConcurrencyLimit::Gradient2(_) => "gradient2",
        ConcurrencyLimit::EnvoyGradient(_) => "envoy_gradient",
    }
}

fn balance_policy_name(policy: BalancePolicy) -> &'static str {
    match policy {
        BalancePolicy::RoundRobin => "round robin",
        BalancePolicy::Random => "random",
        BalancePolicy::LeastOutstanding => "least outstanding",
        BalancePolicy::PowerOfTwoChoices => "power of two",
        BalancePolicy::PeakEwma => "peak EWMA",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stormglass_core::parse_scenario;
    use stormglass_core::presets::PRESETS;

    fn topology(json: &str) -> Topology {
        Topology::of(&parse_scenario(json).unwrap_or_else(|errors| panic!("{errors}")))
    }

    #[test]
    fn every_preset_edge_gets_its_path() {
        for preset in PRESETS {
            let topology = topology(preset.json);
            let scenario: serde_json::Value = serde_json::from_str(preset.json).unwrap_or_default();
            for edge in &topology.edges {
                assert!(!edge.path.is_empty(), "{}: {edge:?}", preset.name);
                // The path leads to a call to the edge's target.
                let pointer =
                    format!("/{}", edge.path.replace('[', "/").replace("].", "/").replace(']', "")).replace('.', "/");
                assert_eq!(scenario.pointer(&format!("{pointer}/to")).and_then(|to| to.as_str()), Some(&*edge.to));
            }
        }
    }

    #[test]
    fn fallbacks_services_calls_and_balancers_are_described() {
        let topology = topology(
            r#"{"version": 1, "duration": "10s", "nodes": [
              {"kind": "client", "id": "c", "rate": 10, "calls": [{"to": "lb", "budget": {"grpc": {}},
                 "breaker": "hystrix", "fallback": {"call": {"to": "cache"}}}]},
              {"kind": "load_balancer", "id": "lb", "pool": ["a", "b"], "policy": "peak_ewma"},
              {"kind": "service", "id": "a", "workers": 1, "service_time": {"constant": "1ms"},
               "calls": [{"to": "db", "hedge": {"delay": "5ms"}}, {"to": "cache"}],
               "admission": {"concurrency_limit": {"aimd": {}}}},
              {"kind": "service", "id": "b", "workers": 1, "service_time": {"constant": "1ms"}},
              {"kind": "service", "id": "db", "workers": 1, "service_time": {"constant": "1ms"}},
              {"kind": "service", "id": "cache", "workers": 1, "service_time": {"constant": "1ms"}}]}"#,
        );
        let paths: Vec<(&str, &str, bool)> =
            topology.edges.iter().map(|edge| (edge.path.as_str(), edge.to.as_str(), edge.fallback)).collect();
        assert_eq!(
            paths,
            [
                ("nodes[0].calls[0]", "lb", false),
                ("nodes[0].calls[0].fallback.call", "cache", true),
                ("nodes[2].calls[0]", "db", false),
                ("nodes[2].calls[1]", "cache", false),
            ]
        );
        let first = &topology.edges[0].policies;
        assert_eq!(
            (first.budget.as_deref(), first.breaker, first.fallback.as_deref()),
            (Some("grpc"), true, Some("call"))
        );
        assert!(topology.edges[2].policies.hedge);
        assert_eq!(topology.balancer("lb").map(|b| (b.pool.len(), b.policy.as_str())), Some((2, "peak EWMA")));
        assert_eq!(topology.service("a").and_then(|s| s.limiter.as_deref()), Some("aimd"));
    }

    #[test]
    fn functions_carry_their_concurrency_as_run() {
        let topology = topology(
            r#"{"version": 1, "duration": "10s", "nodes": [
              {"kind": "client", "id": "c", "rate": 10, "calls": [{"to": "f"}]},
              {"kind": "function", "id": "f", "service_time": {"constant": "1ms"},
               "reserved_concurrency": 50, "provisioned_concurrency": 20},
              {"kind": "function", "id": "g", "service_time": {"constant": "1ms"}}]}"#,
        );
        let functions: Vec<_> = topology
            .functions
            .iter()
            .map(|f| (f.id.as_str(), f.reserved_concurrency, f.provisioned_concurrency))
            .collect();
        assert_eq!(functions, [("f", Some(50), 20), ("g", None, 0)]);
    }

    #[test]
    fn llm_endpoints_carry_their_limits() {
        let topology = topology(
            r#"{"version": 1, "duration": "10s", "nodes": [
              {"kind": "client", "id": "c", "rate": 10, "calls": [{"to": "m"}]},
              {"kind": "llm", "id": "m", "slots": 4, "prompt_tokens": {"constant": 10}, "output_tokens": {"constant": 10},
               "rate_limits": {"tokens_per_minute": 150000, "requests_per_minute": 500}},
              {"kind": "llm", "id": "open", "slots": 4, "prompt_tokens": {"constant": 10}, "output_tokens": {"constant": 10}}]}"#,
        );
        let limits: Vec<_> =
            topology.llms.iter().map(|llm| (llm.id.as_str(), llm.tokens_per_minute, llm.requests_per_minute)).collect();
        assert_eq!(limits, [("m", Some(150_000), Some(500)), ("open", None, None)]);
        assert_eq!(topology.llm("m").and_then(|llm| llm.input_tokens_per_minute), None);
    }
}
