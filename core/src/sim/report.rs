//! Turning a run's state into a [`RunReport`].

use super::{RunStatus, Simulation, StopReason};
use crate::metrics::histogram::Histogram;
use crate::metrics::recovery::{judge, FaultVerdict, HealthInput};
use crate::metrics::series::{EdgeBucket, ServiceBucket};
use crate::prelude::*;
use crate::report::*;
use crate::scenario::NodeKind;
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

fn edge_metrics(buckets: &[EdgeBucket], widths_s: &[f64]) -> Metrics {
    let series = |value: fn(&EdgeBucket) -> u64| -> Vec<f64> {
        buckets.iter().zip(widths_s).map(|(bucket, &width)| rate(value(bucket), width)).collect()
    };
    let mut metrics = Metrics::new();
    metrics.insert("offered_per_s", series(|b| b.offered));
    metrics.insert("attempts_per_s", series(|b| b.attempts));
    metrics.insert("retries_per_s", series(|b| b.retries));
    metrics.insert("goodput_per_s", series(|b| b.succeeded));
    metrics.insert("failed_per_s", series(|b| b.failed));
    metrics.insert("timeouts_per_s", series(|b| b.timeouts));
    metrics.insert("errors_per_s", series(|b| b.errors));
    metrics.insert("rejected_per_s", series(|b| b.rejected));
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
    let series = |value: &dyn Fn(&ServiceBucket, f64) -> f64| -> Vec<f64> {
        buckets.iter().zip(widths_s).map(|(bucket, &width)| value(bucket, width)).collect()
    };
    let mut metrics = Metrics::new();
    metrics.insert("arrivals_per_s", series(&|b, w| rate(b.arrivals, w)));
    metrics.insert("throughput_per_s", series(&|b, w| rate(b.completed, w)));
    metrics.insert("errors_per_s", series(&|b, w| rate(b.failed, w)));
    metrics.insert("rejected_per_s", series(&|b, w| rate(b.rejected, w)));
    metrics.insert("dropped_per_s", series(&|b, w| rate(b.dropped, w)));
    metrics.insert("expired_per_s", series(&|b, w| rate(b.expired, w)));
    metrics.insert("queue_depth", series(&|b, w| ratio(b.queue_ns as f64, w * NS_PER_S as f64)));
    metrics.insert("queue_depth_max", series(&|b, _| f64::from(b.queue_max)));
    // Utilization is of all workers, so lost workers show as lost capacity.
    metrics.insert("utilization", series(&|b, w| ratio(b.busy_ns as f64, w * NS_PER_S as f64 * f64::from(workers))));
    metrics.insert("wasted_share", series(&|b, _| ratio(b.wasted_ns as f64, b.busy_ns as f64).min(1.0)));
    metrics.insert("workers_available", series(&|b, _| f64::from(b.workers_available)));
    metrics
}

/// Adds `from` into `into`, element by element.
fn accumulate(into: &mut Metrics, from: &Metrics) {
    for (name, values) in from {
        let sums = into.entry(name).or_insert_with(|| vec![0.0; values.len()]);
        for (sum, value) in sums.iter_mut().zip(values) {
            *sum += value;
        }
    }
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

        // Per edge, then clients (the sum of their edges) and services.
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
            let metrics = match node.kind {
                NodeKind::Client => {
                    let calls: Vec<&EdgeSeries> = model
                        .edges
                        .iter()
                        .zip(&edge_series)
                        .filter(|(edge, _)| usize::from(edge.from_node) == position)
                        .map(|(_, series)| series)
                        .collect();
                    // Rates add up over a client's calls; latency percentiles do not, so they
                    // are kept only when the client makes a single call.
                    let mut metrics = Metrics::new();
                    for call in &calls {
                        accumulate(&mut metrics, &call.metrics);
                    }
                    metrics.retain(|name, _| name.ends_with("_per_s"));
                    accumulate(&mut system, &metrics);
                    if let [only] = calls.as_slice() {
                        metrics = only.metrics.clone();
                    }
                    metrics
                }
                NodeKind::Service => {
                    let workers = model.services[usize::from(node.index)].workers;
                    total_workers += workers;
                    let buckets = &self.series.services[usize::from(node.index)][..buckets_done];
                    let metrics = service_metrics(buckets, &widths_s, workers);
                    accumulate(&mut service_totals, &metrics);
                    metrics
                }
            };
            node_series.push(NodeSeries { id: node.id.clone(), kind: node.kind.as_str(), metrics });
        }
        let service_buckets = |value: fn(&ServiceBucket) -> u64| -> Vec<u64> {
            (0..buckets_done).map(|b| self.series.services.iter().map(|s| value(&s[b])).sum()).collect()
        };
        let busy = service_buckets(|b| b.busy_ns);
        let wasted = service_buckets(|b| b.wasted_ns);
        system.insert("queue_depth", service_totals.remove("queue_depth").unwrap_or_default());
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
        self.attempts.iter().filter(|a| self.model.edges[usize::from(a.edge)].from_client)
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
        let mut attempt_latency = Histogram::new();
        // The clients' latency: what users see, not the calls between services.
        for (edge, model) in self.edges.iter().zip(&self.model.edges) {
            if model.from_client {
                latency.merge(&edge.latency);
                attempt_latency.merge(&edge.attempt_latency);
            }
        }
        let failed = totals.failed_timeout + totals.failed_error + totals.failed_rejected + totals.failed_deadline;
        let seconds = data_end_ns as f64 / NS_PER_S as f64;
        Summary {
            requests: totals.requests,
            attempts: totals.attempts,
            retries: totals.retries,
            amplification: ratio(totals.attempts as f64, totals.requests as f64),
            succeeded: totals.succeeded,
            failed,
            failed_timeout: totals.failed_timeout,
            failed_error: totals.failed_error,
            failed_rejected: totals.failed_rejected,
            failed_deadline: totals.failed_deadline,
            unfinished: self.requests.iter().filter(|r| self.model.edges[usize::from(r.edge)].from_client).count()
                as u64,
            success_ratio: ratio(totals.succeeded as f64, totals.requests as f64),
            attempt_timeouts: totals.attempt_timeouts,
            attempt_errors: totals.attempt_errors,
            attempt_rejections: totals.attempt_rejections,
            attempt_deadline_abandons: totals.attempt_deadline_abandons,
            late_responses: totals.late_responses,
            attempts_awaited_at_end: self.client_attempts().filter(|a| a.awaited).count() as u64,
            attempts_abandoned_at_end: self.client_attempts().filter(|a| !a.awaited).count() as u64,
            offered_per_s: ratio(totals.requests as f64, seconds),
            goodput_per_s: ratio(totals.succeeded as f64, seconds),
            latency_ms: percentiles_ms(&latency),
            attempt_latency_ms: percentiles_ms(&attempt_latency),
            wasted_work_share: ratio(totals.wasted_ns as f64, totals.busy_ns as f64).min(1.0),
            wasted_work_s: totals.wasted_ns as f64 / NS_PER_S as f64,
        }
    }

    fn node_summaries(&self, data_end_ns: u64) -> Vec<NodeSummary> {
        let model = &self.model;
        model
            .nodes
            .iter()
            .map(|node| {
                let index = usize::from(node.index);
                let detail = match node.kind {
                    NodeKind::Client => {
                        let client = &model.clients[index];
                        let edge = usize::from(client.edge);
                        let buckets = self.series.edges.get(edge).map(Vec::as_slice).unwrap_or(&[]);
                        let sum = |value: fn(&EdgeBucket) -> u64| buckets.iter().map(value).sum::<u64>();
                        NodeDetail::Client {
                            requests: sum(|b| b.offered),
                            attempts: sum(|b| b.attempts),
                            succeeded: sum(|b| b.succeeded),
                            failed: sum(|b| b.failed),
                            timeouts: sum(|b| b.timeouts),
                            latency_ms: self.edges.get(edge).and_then(|e| percentiles_ms(&e.latency)),
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
                            utilization: ratio(busy_ns, span_ns * f64::from(service.workers)),
                            mean_wait_ms: ratio(state.wait_ns_sum as f64, state.started as f64) / NS_PER_MS as f64,
                            mean_queue_length: ratio(sum(|b| b.queue_ns) as f64, span_ns),
                            max_queue_length: buckets.iter().map(|b| b.queue_max).max().unwrap_or(0),
                            queued_at_end: state.queue.len() as u32,
                            in_service_at_end: state.busy,
                            wasted_work_share: ratio(sum(|b| b.wasted_ns) as f64, busy_ns).min(1.0),
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
        model
            .faults
            .iter()
            .enumerate()
            .filter(|(_, fault)| fault.start < data_end)
            .map(|(index, fault)| {
                // Judge the requests whose calls touch the faulted node, so a fault on one
                // service is not diluted (or masked) by healthy traffic elsewhere.
                let touched: Vec<&Vec<EdgeBucket>> = model
                    .edges
                    .iter()
                    .zip(&self.series.edges)
                    .filter(|(edge, _)| edge.to_node == fault.node || edge.from_node == fault.node)
                    .map(|(_, buckets)| buckets)
                    .collect();
                let sum = |value: fn(&EdgeBucket) -> u64| -> Vec<u64> {
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
