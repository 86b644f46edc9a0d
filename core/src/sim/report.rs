//! Turning a run's state into a [`RunReport`].

use super::{RunStatus, Simulation, StopReason};
use crate::components::llm::{LlmCounters, PriceTable};
use crate::metrics::histogram::Histogram;
use crate::metrics::recovery::{judge, FaultVerdict, HealthInput};
use crate::metrics::series::{ClientBucket, EdgeBucket, FunctionBucket, LlmBucket, QueueBucket, ServiceBucket};
use crate::prelude::*;
use crate::report::*;
use crate::scenario::{FallbackModel, FunctionModel, NodeKind, Target, ValidScenario};
use crate::time::{SimTime, NS_PER_MS, NS_PER_S};

fn percentiles_ms(histogram: &Histogram) -> Option<Percentiles> {
    let ms = |ns: u64| ns as f64 / NS_PER_MS as f64;
    Some(Percentiles {
        p50: ms(histogram.quantile(0.5)?),
        p90: ms(histogram.quantile(0.9)?),
        p99: ms(histogram.quantile(0.99)?),
        p999: ms(histogram.quantile(0.999)?),
        mean: histogram.mean()? / NS_PER_MS as f64,
        max: ms(histogram.max()?),
    })
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        0.0
    }
}

/// Per-second rate of a count in a bucket of `seconds`.
fn rate(count: u64, seconds: f64) -> f64 {
    ratio(count as f64, seconds)
}

/// A per-second series: its name and the count it is made of.
type Count<B> = (&'static str, fn(&B) -> u64);

/// Each count of `counts` as a rate per second, under its name.
fn insert_rates<B>(metrics: &mut Metrics, buckets: &[B], widths_s: &[f64], counts: &[Count<B>]) {
    for (name, value) in counts {
        metrics.insert(name, series(buckets, widths_s, |b, w| rate(value(b), w)));
    }
}

/// One series per bucket from `value(bucket, width_s)`.
fn series<B>(buckets: &[B], widths_s: &[f64], value: impl Fn(&B, f64) -> f64) -> Vec<f64> {
    buckets.iter().zip(widths_s).map(|(bucket, &width)| value(bucket, width)).collect()
}

/// The call-level series of an edge: what happened to its requests and attempts.
fn edge_metrics(buckets: &[EdgeBucket], widths_s: &[f64]) -> Metrics {
    let mut metrics = Metrics::new();
    let counts: [Count<EdgeBucket>; 12] = [
        ("offered_per_s", |b| b.offered),
        ("attempts_per_s", |b| b.attempts),
        ("retries_per_s", |b| b.retries),
        ("hedges_per_s", |b| b.hedges),
        ("goodput_per_s", |b| b.succeeded),
        ("degraded_per_s", |b| b.degraded),
        ("failed_per_s", |b| b.failed),
        ("timeouts_per_s", |b| b.timeouts),
        ("errors_per_s", |b| b.errors),
        ("rejected_per_s", |b| b.rejected),
        ("short_circuited_per_s", |b| b.short_circuited),
        ("throttled_per_s", |b| b.throttled),
    ];
    insert_rates(&mut metrics, buckets, widths_s, &counts);
    metrics.insert("budget_level", series(buckets, widths_s, |b, _| b.budget_level));
    metrics.insert("breaker_open", series(buckets, widths_s, |b, _| f64::from(u8::from(b.breaker_open))));
    insert_latency(&mut metrics, buckets.iter().map(|b| b.latency_ns));
    metrics
}

/// The four `latency_*_ms` series from per-bucket quantiles (NaN where nothing succeeded).
fn insert_latency(metrics: &mut Metrics, quantiles_ns: impl Iterator<Item = Option<[u64; 4]>> + Clone) {
    for (index, name) in
        ["latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_p999_ms"].into_iter().enumerate()
    {
        let values = quantiles_ns.clone().map(|q| q.map_or(f64::NAN, |q| q[index] as f64 / NS_PER_MS as f64)).collect();
        metrics.insert(name, values);
    }
}

fn service_metrics(buckets: &[ServiceBucket], widths_s: &[f64], workers: u32) -> Metrics {
    let mut metrics = Metrics::new();
    let counts: [Count<ServiceBucket>; 13] = [
        ("arrivals_per_s", |b| b.arrivals),
        ("throughput_per_s", |b| b.completed),
        ("errors_per_s", |b| b.failed),
        ("rejected_per_s", |b| b.rejected),
        ("dropped_per_s", |b| b.dropped),
        ("expired_per_s", |b| b.expired),
        ("shed_per_s", |b| b.shed),
        ("cancelled_per_s", |b| b.cancelled),
        ("effects_per_s", |b| b.effects),
        ("duplicate_effects_per_s", |b| b.duplicate_effects),
        ("deduplicated_per_s", |b| b.deduplicated),
        ("messages_per_s", |b| b.messages_processed),
        ("message_failures_per_s", |b| b.messages_failed),
    ];
    insert_rates(&mut metrics, buckets, widths_s, &counts);
    metrics.insert("queue_depth", series(buckets, widths_s, |b, w| ratio(b.queue_ns as f64, w * NS_PER_S as f64)));
    metrics.insert("queue_depth_max", series(buckets, widths_s, |b, _| f64::from(b.queue_max)));
    // Utilization is of all workers, so lost workers show as lost capacity.
    metrics.insert(
        "utilization",
        series(buckets, widths_s, |b, w| ratio(b.busy_ns as f64, w * NS_PER_S as f64 * f64::from(workers))),
    );
    metrics
        .insert("wasted_share", series(buckets, widths_s, |b, _| ratio(b.wasted_ns as f64, b.busy_ns as f64).min(1.0)));
    metrics.insert("workers_available", series(buckets, widths_s, |b, _| f64::from(b.workers_available)));
    metrics.insert("concurrency_limit", series(buckets, widths_s, |b, _| f64::from(b.concurrency_limit)));
    metrics
}

/// A function's invocations, environments, event queue and cost. `concurrency` is the mean
/// number of invocations running; `cost_usd` is the cost so far at the end of each bucket.
fn function_metrics(
    services: &[ServiceBucket],
    functions: &[FunctionBucket],
    widths_s: &[f64],
    model: &FunctionModel,
) -> Metrics {
    let mut metrics = Metrics::new();
    let service_counts: [Count<ServiceBucket>; 9] = [
        ("arrivals_per_s", |b| b.arrivals),
        ("throughput_per_s", |b| b.completed),
        ("errors_per_s", |b| b.failed),
        ("rejected_per_s", |b| b.rejected),
        ("effects_per_s", |b| b.effects),
        ("duplicate_effects_per_s", |b| b.duplicate_effects),
        ("deduplicated_per_s", |b| b.deduplicated),
        ("messages_per_s", |b| b.messages_processed),
        ("message_failures_per_s", |b| b.messages_failed),
    ];
    insert_rates(&mut metrics, services, widths_s, &service_counts);
    let function_counts: [Count<FunctionBucket>; 7] = [
        ("invocations_per_s", |b| b.invocations),
        ("cold_starts_per_s", |b| b.cold_starts),
        ("throttles_per_s", |b| b.throttled),
        ("timeouts_per_s", |b| b.timeouts),
        ("async_accepted_per_s", |b| b.async_accepted),
        ("async_retries_per_s", |b| b.async_retries),
        ("async_failed_per_s", |b| b.async_failed),
    ];
    insert_rates(&mut metrics, functions, widths_s, &function_counts);
    metrics.insert("concurrency", series(services, widths_s, |b, w| ratio(b.busy_ns as f64, w * NS_PER_S as f64)));
    metrics.insert(
        "wasted_share",
        series(services, widths_s, |b, _| ratio(b.wasted_ns as f64, b.busy_ns as f64).min(1.0)),
    );
    metrics.insert("environments", series(functions, widths_s, |b, _| f64::from(b.environments_end)));
    metrics.insert(
        "init_share",
        series(functions, widths_s, |b, _| {
            ratio(b.init_ns as f64, (b.billed_ns + b.billed_provisioned_ns) as f64).min(1.0)
        }),
    );
    metrics.insert("async_waiting", series(functions, widths_s, |b, _| f64::from(b.async_waiting_end)));
    metrics.insert("pollers", series(functions, widths_s, |b, _| f64::from(b.pollers_end)));
    let mut cost_usd = 0.0;
    metrics.insert(
        "cost_usd",
        functions
            .iter()
            .zip(widths_s)
            .map(|(b, &width_s)| {
                cost_usd += function_cost_usd(model, b.billed_ns, b.billed_provisioned_ns, b.invocations, width_s);
                cost_usd
            })
            .collect(),
    );
    metrics
}

/// GB-seconds of `billed_ns` at the function's memory.
fn gb_seconds(model: &FunctionModel, billed_ns: u64) -> f64 {
    f64::from(model.memory_mb) / 1024.0 * (billed_ns as f64 / NS_PER_S as f64)
}

/// What a function costs over `span_s` seconds: duration in on-demand and in provisioned
/// environments, the provisioned concurrency kept ready all along, and the requests.
fn function_cost_usd(
    model: &FunctionModel,
    billed_ns: u64,
    billed_provisioned_ns: u64,
    invocations: u64,
    span_s: f64,
) -> f64 {
    let price = &model.price;
    let provisioned_gb = f64::from(model.fleet.provisioned) * f64::from(model.memory_mb) / 1024.0;
    gb_seconds(model, billed_ns) * price.gb_second_usd
        + gb_seconds(model, billed_provisioned_ns) * price.provisioned_duration_gb_second_usd
        + provisioned_gb * span_s * price.provisioned_gb_second_usd
        + invocations as f64 / 1e6 * price.per_million_requests_usd
}

/// An LLM endpoint's requests, tokens, time to first token, slots and cost. `cost_usd` is the
/// cost so far at the end of each bucket.
fn llm_metrics(
    services: &[ServiceBucket],
    llms: &[LlmBucket],
    widths_s: &[f64],
    slots: u32,
    price: &PriceTable,
) -> Metrics {
    let mut metrics = Metrics::new();
    let service_counts: [Count<ServiceBucket>; 4] = [
        ("arrivals_per_s", |b| b.arrivals),
        ("throughput_per_s", |b| b.completed),
        ("errors_per_s", |b| b.failed),
        ("rejected_per_s", |b| b.rejected),
    ];
    insert_rates(&mut metrics, services, widths_s, &service_counts);
    let llm_counts: [Count<LlmBucket>; 10] = [
        ("admitted_per_s", |b| b.requests),
        ("rate_limited_per_s", |b| b.rate_limited),
        ("too_large_per_s", |b| b.too_large),
        ("overloaded_per_s", |b| b.overloaded),
        ("input_tokens_per_s", |b| b.input_tokens),
        ("cached_input_tokens_per_s", |b| b.cached_input_tokens),
        ("output_tokens_per_s", |b| b.output_tokens),
        ("charged_tokens_per_s", |b| b.charged_tokens),
        ("truncated_per_s", |b| b.truncated),
        ("loads_per_s", |b| b.loads),
    ];
    insert_rates(&mut metrics, llms, widths_s, &llm_counts);
    metrics.insert(
        "cache_hit_ratio",
        series(llms, widths_s, |b, _| ratio(b.cache_hits as f64, (b.cache_hits + b.cache_misses) as f64)),
    );
    metrics.insert("loaded", series(llms, widths_s, |b, _| f64::from(u8::from(b.loaded_end))));
    for (index, name) in ["ttft_p50_ms", "ttft_p90_ms", "ttft_p99_ms", "ttft_p999_ms"].into_iter().enumerate() {
        metrics.insert(
            name,
            llms.iter().map(|b| b.ttft_ns.map_or(f64::NAN, |q| q[index] as f64 / NS_PER_MS as f64)).collect(),
        );
    }
    metrics.insert("queue_depth", series(services, widths_s, |b, w| ratio(b.queue_ns as f64, w * NS_PER_S as f64)));
    metrics.insert(
        "utilization",
        series(services, widths_s, |b, w| ratio(b.busy_ns as f64, w * NS_PER_S as f64 * f64::from(slots))),
    );
    let mut cost_usd = 0.0;
    metrics.insert(
        "cost_usd",
        llms.iter()
            .map(|b| {
                cost_usd += token_cost_usd(price, b.input_tokens, b.cached_input_tokens, b.output_tokens);
                cost_usd
            })
            .collect(),
    );
    metrics
}

/// The cost of tokens at `price`.
fn token_cost_usd(price: &PriceTable, input_tokens: u64, cached_input_tokens: u64, output_tokens: u64) -> f64 {
    price.cost_usd(&LlmCounters { input_tokens, cached_input_tokens, output_tokens, ..LlmCounters::default() })
}

/// A queue's traffic and levels.
fn queue_metrics(buckets: &[QueueBucket], widths_s: &[f64]) -> Metrics {
    let mut metrics = Metrics::new();
    let counts: [Count<QueueBucket>; 6] = [
        ("sent_per_s", |b| b.sent),
        ("received_per_s", |b| b.received),
        ("redeliveries_per_s", |b| b.redeliveries),
        ("deleted_per_s", |b| b.deleted),
        ("dead_lettered_per_s", |b| b.dead_lettered),
        ("expired_per_s", |b| b.expired),
    ];
    insert_rates(&mut metrics, buckets, widths_s, &counts);
    metrics.insert("depth", series(buckets, widths_s, |b, _| f64::from(b.visible_end)));
    metrics.insert("in_flight", series(buckets, widths_s, |b, _| f64::from(b.in_flight_end)));
    metrics.insert("oldest_age_s", series(buckets, widths_s, |b, _| b.oldest_age_ns as f64 / NS_PER_S as f64));
    for (index, name) in ["age_p50_s", "age_p90_s", "age_p99_s", "age_p999_s"].into_iter().enumerate() {
        metrics.insert(
            name,
            buckets.iter().map(|b| b.age_ns.map_or(f64::NAN, |q| q[index] as f64 / NS_PER_S as f64)).collect(),
        );
    }
    metrics
}

/// A client's final outcomes (what its users see).
fn client_metrics(buckets: &[ClientBucket], widths_s: &[f64]) -> Metrics {
    let mut metrics = Metrics::new();
    metrics.insert("offered_per_s", series(buckets, widths_s, |b, w| rate(b.offered, w)));
    metrics.insert("goodput_per_s", series(buckets, widths_s, |b, w| rate(b.succeeded, w)));
    metrics.insert("degraded_per_s", series(buckets, widths_s, |b, w| rate(b.degraded, w)));
    metrics.insert("failed_per_s", series(buckets, widths_s, |b, w| rate(b.failed, w)));
    insert_latency(&mut metrics, buckets.iter().map(|b| b.latency_ns));
    metrics
}

/// Adds `from` into `into`, element by element, for the named series.
fn accumulate(into: &mut Metrics, from: &Metrics, names: &[&'static str]) {
    for &name in names {
        let Some(values) = from.get(name) else { continue };
        let sums = into.entry(name).or_insert_with(|| vec![0.0; values.len()]);
        for (sum, value) in sums.iter_mut().zip(values) {
            *sum += value;
        }
    }
}

/// Attempt-level series a client's node shows, summed over its calls and their fallbacks (its
/// outcomes, degraded answers among them, are its own series: one per request).
const CALL_RATES: [&str; 8] = [
    "attempts_per_s",
    "retries_per_s",
    "hedges_per_s",
    "timeouts_per_s",
    "errors_per_s",
    "rejected_per_s",
    "short_circuited_per_s",
    "throttled_per_s",
];

/// The nodes whose trouble a client's requests can feel: everything its calls reach, through
/// services' calls, load balancers and fallbacks.
fn reached_nodes(model: &ValidScenario, client_edge: u16) -> Vec<u16> {
    let mut reached: Vec<u16> = Vec::new();
    let mut edges = vec![client_edge];
    while let Some(edge) = edges.pop() {
        let edge_model = &model.edges[usize::from(edge)];
        if let FallbackModel::Call(fallback) = edge_model.fallback {
            edges.push(fallback);
        }
        let services: Vec<u16> = match edge_model.target {
            Target::Service(service) => vec![service],
            Target::Balancer(balancer) => {
                reached.push(edge_model.to_node);
                model.balancers[usize::from(balancer)].pool.clone()
            }
            // A message's consumers work asynchronously: their trouble does not fail the send.
            Target::Queue(_) => {
                reached.push(edge_model.to_node);
                Vec::new()
            }
        };
        for service in services {
            let service_model = &model.services[usize::from(service)];
            if !reached.contains(&service_model.node) {
                reached.push(service_model.node);
                edges.extend(&service_model.calls);
            }
        }
    }
    reached
}

impl Simulation {
    /// Everything the run has to say so far. Cheap enough to call for progress updates.
    pub fn report(&self) -> RunReport {
        let model = &self.model;
        let bucket_ns = model.bucket.0;
        let buckets_done = match self.status {
            RunStatus::Finished => self.series.bucket_count as usize,
            // The bucket in progress holds the data up to a stop.
            RunStatus::Stopped { .. } => (self.bucket as usize + 1).min(self.series.bucket_count as usize),
            RunStatus::Running => self.bucket as usize,
        };
        let data_end_ns = match self.status {
            RunStatus::Stopped { at, .. } => at.0,
            _ => (buckets_done as u64 * bucket_ns).min(self.end.0),
        };
        let widths_s: Vec<f64> = (0..buckets_done as u64)
            .map(|index| {
                let start = index * bucket_ns;
                (data_end_ns.min(start + bucket_ns).saturating_sub(start)) as f64 / NS_PER_S as f64
            })
            .collect();

        let edge_series: Vec<EdgeSeries> = model
            .edges
            .iter()
            .zip(&self.series.edges)
            .map(|(edge, buckets)| EdgeSeries {
                from: model.node_id(edge.from_node).to_string(),
                to: model.node_id(edge.to_node).to_string(),
                metrics: edge_metrics(&buckets[..buckets_done], &widths_s),
            })
            .collect();
        let mut node_series = Vec::new();
        let mut system = Metrics::new();
        let mut service_totals = Metrics::new();
        let mut total_workers = 0u32;
        for (position, node) in model.nodes.iter().enumerate() {
            let index = usize::from(node.index);
            let calls_from_here = || {
                model.edges.iter().zip(&edge_series).filter(move |(edge, _)| usize::from(edge.from_node) == position)
            };
            let metrics = match node.kind {
                NodeKind::Client => {
                    let mut metrics = client_metrics(&self.series.clients[index][..buckets_done], &widths_s);
                    for (_, call) in calls_from_here() {
                        accumulate(&mut metrics, &call.metrics, &CALL_RATES);
                    }
                    let mut names: Vec<&'static str> = CALL_RATES.to_vec();
                    names.extend(["offered_per_s", "goodput_per_s", "degraded_per_s", "failed_per_s"]);
                    accumulate(&mut system, &metrics, &names);
                    metrics
                }
                NodeKind::Service => {
                    let workers = model.services[index].workers;
                    total_workers += workers;
                    let metrics = service_metrics(&self.series.services[index][..buckets_done], &widths_s, workers);
                    accumulate(&mut service_totals, &metrics, &["queue_depth"]);
                    metrics
                }
                NodeKind::Balancer => {
                    let mut metrics = Metrics::new();
                    for (edge, series) in model.edges.iter().zip(&edge_series) {
                        if usize::from(edge.to_node) == position {
                            accumulate(&mut metrics, &series.metrics, &["attempts_per_s"]);
                        }
                    }
                    let buckets = &self.series.balancers[index][..buckets_done];
                    metrics.insert("ejected_hosts", buckets.iter().map(|b| f64::from(b.ejected_hosts)).collect());
                    metrics
                }
                NodeKind::Queue => queue_metrics(&self.series.queues[index][..buckets_done], &widths_s),
                NodeKind::Llm => match model.services[index].llm.as_deref() {
                    Some(llm) => llm_metrics(
                        &self.series.services[index][..buckets_done],
                        &self.series.llms[index][..buckets_done],
                        &widths_s,
                        model.services[index].workers,
                        &llm.price,
                    ),
                    None => Metrics::new(),
                },
                NodeKind::Function => match model.services[index].function.as_deref() {
                    Some(function) => function_metrics(
                        &self.series.services[index][..buckets_done],
                        &self.series.functions[index][..buckets_done],
                        &widths_s,
                        function,
                    ),
                    None => Metrics::new(),
                },
            };
            node_series.push(NodeSeries { id: node.id.clone(), kind: node.kind.as_str(), metrics });
        }
        // Utilization and wasted work are of the services' workers; a function's capacity is
        // its fleet, shown on its own node.
        let workers: Vec<_> =
            self.series.services.iter().zip(&model.services).filter(|(_, m)| m.function.is_none()).collect();
        let service_buckets = |value: fn(&ServiceBucket) -> u64| -> Vec<u64> {
            (0..buckets_done).map(|b| workers.iter().map(|(s, _)| value(&s[b])).sum()).collect()
        };
        let busy = service_buckets(|b| b.busy_ns);
        let wasted = service_buckets(|b| b.wasted_ns);
        system.insert("queue_depth", service_totals.remove("queue_depth").unwrap_or_else(|| vec![0.0; buckets_done]));
        system.insert(
            "utilization",
            busy.iter()
                .zip(&widths_s)
                .map(|(&ns, &w)| ratio(ns as f64, w * NS_PER_S as f64 * f64::from(total_workers)))
                .collect(),
        );
        system.insert(
            "wasted_share",
            busy.iter().zip(&wasted).map(|(&b, &w)| ratio(w as f64, b as f64).min(1.0)).collect(),
        );
        let offered = system.get("offered_per_s").cloned().unwrap_or_default();
        let attempts = system.get("attempts_per_s").cloned().unwrap_or_default();
        system.insert(
            "amplification",
            attempts.iter().zip(&offered).map(|(&a, &o)| if o > 0.0 { a / o } else { f64::NAN }).collect(),
        );
        let gauges = &self.series.system[..buckets_done];
        system.insert("requests_in_flight", gauges.iter().map(|g| f64::from(g.requests_in_flight)).collect());
        system.insert("attempts_in_flight", gauges.iter().map(|g| f64::from(g.attempts_in_flight)).collect());
        insert_latency(&mut system, gauges.iter().map(|g| g.latency_ns));

        let verdicts = self.verdicts(buckets_done, data_end_ns);
        let summary = self.summary(data_end_ns);
        let nodes = self.node_summaries(data_end_ns);
        RunReport {
            name: model.scenario.name.clone(),
            seed: model.seed,
            status: match self.status {
                RunStatus::Running => "running",
                RunStatus::Finished => "finished",
                RunStatus::Stopped { .. } => "stopped",
            },
            stop_reason: self.stop_message(),
            simulated_s: self.now.as_secs_f64(),
            duration_s: model.duration.as_secs_f64(),
            events: self.events_processed,
            digest: self.digest_hex(),
            summary,
            nodes,
            verdicts,
            series: SeriesReport {
                bucket_s: model.bucket.as_secs_f64(),
                buckets: buckets_done as u32,
                system,
                nodes: node_series,
                edges: edge_series,
            },
        }
    }

    /// Attempts alive now on the clients' calls.
    fn client_attempts(&self) -> impl Iterator<Item = &super::state::Attempt> {
        // An asynchronous function event's attempt has no edge.
        self.attempts.iter().filter(|a| self.model.edges.get(usize::from(a.edge)).is_some_and(|edge| edge.from_client))
    }

    /// A sentence for people about why the run stopped early.
    pub fn stop_message(&self) -> Option<String> {
        let RunStatus::Stopped { reason, at } = self.status else { return None };
        Some(match reason {
            StopReason::EventsLimit { limit } => format!(
                "Stopped at {:.1} s of simulated time: the run reached its limit of {limit} events (limits.events_max). Shorten the run or lower the load.",
                at.as_secs_f64()
            ),
            StopReason::Stalled { events } => format!(
                "Stopped at {:.3} s of simulated time: {events} events happened at that one instant and time stopped moving. A loop has no delay in it: give closed-loop users a think time, or the services a service time above zero.",
                at.as_secs_f64()
            ),
            StopReason::InFlightLimit { limit } => format!(
                "Stopped at {:.1} s of simulated time: {limit} attempts were in flight at once (limits.in_flight_max). The system is overloaded beyond what this run may hold: bound the queue, shorten the run, or raise the limit.",
                at.as_secs_f64()
            ),
        })
    }

    fn summary(&self, data_end_ns: u64) -> Summary {
        let totals = &self.totals;
        let mut latency = Histogram::new();
        for client in &self.clients {
            latency.merge(&client.latency);
        }
        let mut attempt_latency = Histogram::new();
        for (edge, model) in self.edges.iter().zip(&self.model.edges) {
            if model.from_client {
                attempt_latency.merge(&edge.attempt_latency);
            }
        }
        let failed = totals.failed_timeout
            + totals.failed_error
            + totals.failed_rejected
            + totals.failed_deadline
            + totals.failed_short_circuit
            + totals.failed_throttled;
        let seconds = data_end_ns as f64 / NS_PER_S as f64;
        let unfinished = totals.requests.saturating_sub(totals.succeeded + totals.degraded + failed);
        Summary {
            requests: totals.requests,
            attempts: totals.attempts,
            retries: totals.retries,
            hedges: totals.hedges,
            fallback_requests: totals.fallback_requests,
            refused_before_sending: totals.refused_before_sending,
            amplification: ratio(totals.attempts as f64, totals.requests as f64),
            succeeded: totals.succeeded,
            degraded: totals.degraded,
            failed,
            failed_timeout: totals.failed_timeout,
            failed_error: totals.failed_error,
            failed_rejected: totals.failed_rejected,
            failed_deadline: totals.failed_deadline,
            failed_short_circuit: totals.failed_short_circuit,
            failed_throttled: totals.failed_throttled,
            unfinished,
            success_ratio: ratio(totals.succeeded as f64, totals.requests as f64),
            attempt_successes: totals.attempt_successes,
            attempt_timeouts: totals.attempt_timeouts,
            attempt_errors: totals.attempt_errors,
            attempt_rejections: totals.attempt_rejections,
            attempt_deadline_abandons: totals.attempt_deadline_abandons,
            hedge_losers: totals.hedge_losers,
            late_responses: totals.late_responses,
            attempts_awaited_at_end: self.client_attempts().filter(|a| a.awaited).count() as u64,
            attempts_abandoned_at_end: self.client_attempts().filter(|a| !a.awaited).count() as u64,
            offered_per_s: ratio(totals.requests as f64, seconds),
            goodput_per_s: ratio(totals.succeeded as f64, seconds),
            last_outcome_s: totals.last_outcome_at.as_secs_f64(),
            latency_ms: percentiles_ms(&latency),
            attempt_latency_ms: percentiles_ms(&attempt_latency),
            wasted_work_share: ratio(totals.wasted_ns as f64, totals.busy_ns as f64).min(1.0),
            wasted_work_s: totals.wasted_ns as f64 / NS_PER_S as f64,
        }
    }

    /// A function's whole-run figures (service index `index`).
    fn function_summary(&self, index: usize, data_end_ns: u64) -> NodeDetail {
        let services = &self.series.services[index];
        let functions = &self.series.functions[index];
        let sum = |value: fn(&ServiceBucket) -> u64| services.iter().map(value).sum::<u64>();
        let sum_function = |value: fn(&FunctionBucket) -> u64| functions.iter().map(value).sum::<u64>();
        let state = self.services[index].function.as_deref();
        let counters = state.map(|f| f.fleet.counters()).unwrap_or_default();
        let (billed_ns, invocations) = (sum_function(|b| b.billed_ns), sum_function(|b| b.invocations));
        let billed_provisioned_ns = sum_function(|b| b.billed_provisioned_ns);
        let model = self.model.services[index].function.as_deref();
        let busy_ns = sum(|b| b.busy_ns) as f64;
        NodeDetail::Function {
            invocations,
            cold_starts: sum_function(|b| b.cold_starts),
            throttled: sum_function(|b| b.throttled),
            throttled_reserved: counters.throttled_reserved,
            throttled_account: counters.throttled_account,
            throttled_scaling_rate: counters.throttled_scaling_rate,
            timeouts: sum_function(|b| b.timeouts),
            failed: sum(|b| b.failed),
            init_share: ratio(sum_function(|b| b.init_ns) as f64, (billed_ns + billed_provisioned_ns) as f64).min(1.0),
            mean_concurrency: ratio(busy_ns, data_end_ns as f64),
            environments_at_end: state.map_or(0, |f| f.fleet.environments()),
            billed_gb_seconds: model.map_or(0.0, |m| gb_seconds(m, billed_ns + billed_provisioned_ns)),
            cost_usd: model.map_or(0.0, |m| {
                let span_s = data_end_ns as f64 / NS_PER_S as f64;
                function_cost_usd(m, billed_ns, billed_provisioned_ns, invocations, span_s)
            }),
            async_accepted: sum_function(|b| b.async_accepted),
            async_retries: sum_function(|b| b.async_retries),
            async_failed: sum_function(|b| b.async_failed),
            async_waiting_at_end: state.map_or(0, |f| f.async_waiting),
            effects: sum(|b| b.effects),
            duplicate_effects: sum(|b| b.duplicate_effects),
            deduplicated: sum(|b| b.deduplicated),
            messages_processed: sum(|b| b.messages_processed),
            messages_failed: sum(|b| b.messages_failed),
            wasted_work_share: ratio(sum(|b| b.wasted_ns) as f64, busy_ns).min(1.0),
        }
    }

    /// An LLM endpoint's whole-run figures (service index `index`).
    fn llm_summary(&self, index: usize, data_end_ns: u64) -> NodeDetail {
        let services = &self.series.services[index];
        let sum = |value: fn(&ServiceBucket) -> u64| services.iter().map(value).sum::<u64>();
        let overloaded = self.series.llms[index].iter().map(|b| b.overloaded).sum::<u64>();
        let state = self.services[index].llm.as_deref();
        let counters = state.map(|llm| llm.endpoint.counters()).unwrap_or_default();
        let limits = counters.rate_limits;
        let cost_usd = self.model.services[index].llm.as_deref().map_or(0.0, |model| {
            token_cost_usd(&model.price, counters.input_tokens, counters.cached_input_tokens, counters.output_tokens)
        });
        let slots = self.model.services[index].workers;
        let span_s = data_end_ns as f64 / NS_PER_S as f64;
        NodeDetail::Llm {
            slots,
            arrivals: sum(|b| b.arrivals),
            admitted: limits.admitted,
            rate_limited: limits.rate_limited(),
            rate_limited_requests_per_minute: limits.rate_limited_requests_per_minute,
            rate_limited_tokens_per_minute: limits.rate_limited_tokens_per_minute,
            rate_limited_input_tokens_per_minute: limits.rate_limited_input_tokens_per_minute,
            rate_limited_output_tokens_per_minute: limits.rate_limited_output_tokens_per_minute,
            too_large: limits.too_large,
            overloaded,
            completed: sum(|b| b.completed),
            failed: sum(|b| b.failed),
            input_tokens: counters.input_tokens,
            cached_input_tokens: counters.cached_input_tokens,
            output_tokens: counters.output_tokens,
            charged_tokens: limits.tokens_per_minute_charged,
            truncated: counters.truncated_responses,
            cache_hits: counters.cache.hits,
            cache_misses: counters.cache.misses,
            loads: counters.loader.loads,
            requests_waited_for_load: counters.loader.requests_waited_for_load,
            ttft_ms: state.and_then(|llm| percentiles_ms(&llm.ttft)),
            output_tokens_per_s: ratio(counters.output_tokens as f64, span_s),
            utilization: ratio(sum(|b| b.busy_ns) as f64, data_end_ns as f64 * f64::from(slots)),
            mean_queue_length: ratio(sum(|b| b.queue_ns) as f64, data_end_ns as f64),
            cost_usd,
            cost_per_1000_requests_usd: ratio(cost_usd * 1000.0, limits.admitted as f64),
        }
    }

    fn node_summaries(&self, data_end_ns: u64) -> Vec<NodeSummary> {
        let model = &self.model;
        model
            .nodes
            .iter()
            .enumerate()
            .map(|(position, node)| {
                let index = usize::from(node.index);
                let detail = match node.kind {
                    NodeKind::Client => {
                        let buckets = &self.series.clients[index];
                        let sum = |value: fn(&ClientBucket) -> u64| buckets.iter().map(value).sum::<u64>();
                        let calls: Vec<&Vec<EdgeBucket>> = model
                            .edges
                            .iter()
                            .zip(&self.series.edges)
                            .filter(|(edge, _)| usize::from(edge.from_node) == position)
                            .map(|(_, buckets)| buckets)
                            .collect();
                        let sum_calls = |value: fn(&EdgeBucket) -> u64| {
                            calls.iter().flat_map(|buckets| buckets.iter()).map(value).sum::<u64>()
                        };
                        NodeDetail::Client {
                            requests: sum(|b| b.offered),
                            attempts: sum_calls(|b| b.attempts),
                            succeeded: sum(|b| b.succeeded),
                            degraded: sum(|b| b.degraded),
                            failed: sum(|b| b.failed),
                            timeouts: sum_calls(|b| b.timeouts),
                            latency_ms: percentiles_ms(&self.clients[index].latency),
                        }
                    }
                    NodeKind::Service => {
                        let service = &model.services[index];
                        let state = &self.services[index];
                        let buckets = &self.series.services[index];
                        let sum = |value: fn(&ServiceBucket) -> u64| buckets.iter().map(value).sum::<u64>();
                        let busy_ns = sum(|b| b.busy_ns) as f64;
                        let span_ns = data_end_ns as f64;
                        NodeDetail::Service {
                            workers: service.workers,
                            arrivals: sum(|b| b.arrivals),
                            completed: sum(|b| b.completed),
                            failed: sum(|b| b.failed),
                            rejected: sum(|b| b.rejected),
                            dropped: sum(|b| b.dropped),
                            expired: sum(|b| b.expired),
                            shed: sum(|b| b.shed),
                            cancelled: sum(|b| b.cancelled),
                            utilization: ratio(busy_ns, span_ns * f64::from(service.workers)),
                            mean_wait_ms: ratio(state.wait_ns_sum as f64, state.started as f64) / NS_PER_MS as f64,
                            mean_queue_length: ratio(sum(|b| b.queue_ns) as f64, span_ns),
                            max_queue_length: buckets.iter().map(|b| b.queue_max).max().unwrap_or(0),
                            queued_at_end: state.queue.len(),
                            in_service_at_end: state.busy - state.batches_in_service,
                            effects: sum(|b| b.effects),
                            duplicate_effects: sum(|b| b.duplicate_effects),
                            deduplicated: sum(|b| b.deduplicated),
                            messages_processed: sum(|b| b.messages_processed),
                            messages_failed: sum(|b| b.messages_failed),
                            wasted_work_share: ratio(sum(|b| b.wasted_ns) as f64, busy_ns).min(1.0),
                        }
                    }
                    NodeKind::Queue => {
                        let counters = self.queues[index].broker.counters();
                        NodeDetail::Queue {
                            sent: counters.sent,
                            received: counters.received,
                            redeliveries: counters.redeliveries,
                            deleted: counters.deleted,
                            dead_lettered: counters.dead_lettered,
                            expired: counters.expired,
                            visible_at_end: self.queues[index].broker.visible(),
                            in_flight_at_end: self.queues[index].broker.in_flight(),
                        }
                    }
                    NodeKind::Function => self.function_summary(index, data_end_ns),
                    NodeKind::Llm => self.llm_summary(index, data_end_ns),
                    NodeKind::Balancer => {
                        let balancer = &model.balancers[index];
                        NodeDetail::Balancer {
                            pool: balancer
                                .pool
                                .iter()
                                .map(|&service| model.node_id(model.services[usize::from(service)].node).to_string())
                                .collect(),
                            ejections: self.balancers[index].balancer.ejections(),
                            no_host: self.balancers[index].no_host,
                        }
                    }
                };
                NodeSummary { id: node.id.clone(), kind: node.kind.as_str(), detail }
            })
            .collect()
    }

    fn verdicts(&self, buckets_done: usize, data_end_ns: u64) -> Vec<FaultVerdict> {
        let model = &self.model;
        let data_end = SimTime(data_end_ns);
        let reach: Vec<Vec<u16>> = model.clients.iter().map(|client| reached_nodes(model, client.edge)).collect();
        model
            .faults
            .iter()
            .enumerate()
            .filter(|(_, fault)| fault.start < data_end)
            .map(|(index, fault)| {
                // Judge the requests of the clients the fault can touch: the faulted client, or
                // the clients whose calls reach the faulted node, so a fault on one part of the
                // graph is neither diluted nor masked by healthy traffic elsewhere.
                let touched: Vec<&Vec<ClientBucket>> = model
                    .clients
                    .iter()
                    .zip(&self.series.clients)
                    .zip(&reach)
                    .filter(|((client, _), reached)| client.node == fault.node || reached.contains(&fault.node))
                    .map(|((_, buckets), _)| buckets)
                    .collect();
                let sum = |value: fn(&ClientBucket) -> u64| -> Vec<u64> {
                    (0..buckets_done).map(|b| touched.iter().map(|buckets| value(&buckets[b])).sum()).collect()
                };
                let (offered, succeeded) = (sum(|b| b.offered), sum(|b| b.succeeded));
                let input =
                    HealthInput { offered: &offered, succeeded: &succeeded, bucket: model.bucket, buckets_done };
                // Judge up to the next fault that starts after this one ends.
                let horizon = model
                    .faults
                    .iter()
                    .map(|other| other.start)
                    .filter(|&start| start >= fault.end)
                    .min()
                    .unwrap_or(data_end)
                    .min(data_end);
                let (baseline, degraded, verdict) = judge(&input, fault.start, fault.end, horizon);
                FaultVerdict {
                    fault: index as u32,
                    node: model.node_id(fault.node).to_string(),
                    start_s: fault.start.as_secs_f64(),
                    end_s: fault.end.as_secs_f64(),
                    baseline_success_share: baseline,
                    degraded,
                    verdict,
                }
            })
            .collect()
    }
}
