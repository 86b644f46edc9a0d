//! Function nodes (see [`crate::scenario::serverless`]): a function becomes a service of the
//! model whose capacity is a fleet of execution environments.

use super::{call, service};
use crate::components::fleet::{FleetConfig, ScalingModel};
use crate::limits::{CONCURRENCY_MAX, SPAN_MAX};
use crate::prelude::*;
use crate::rng::stream_id;
use crate::scenario::check::{Checker, NodeIds};
use crate::scenario::error::ScenarioErrorKind as Kind;
use crate::scenario::format::{Dist, LognormalDist};
use crate::scenario::model::*;
use crate::scenario::serverless::*;
use crate::scenario::Duration;
use crate::time::SimDuration;

/// AWS's defaults and limits for a function.
const MEMORY_MB_DEFAULT: u32 = 128;
const MEMORY_MB_RANGE: (u32, u32) = (128, 10_240);
const TIMEOUT_DEFAULT: SimDuration = SimDuration::from_secs(3);
const TIMEOUT_MAX: SimDuration = SimDuration::from_secs(900);
const IDLE_TIMEOUT_DEFAULT: SimDuration = SimDuration::from_secs(600);
const MAX_EVENT_AGE_RANGE: (SimDuration, SimDuration) = (SimDuration::from_secs(60), SimDuration::from_secs(6 * 3_600));
const ASYNC_RETRIES_MAX: u32 = 2;
const EVENT_SOURCE_CONCURRENCY_RANGE: (u32, u32) = (2, 1_000);
/// AWS Lambda on x86, us-east-1.
const PRICES_DEFAULT: FunctionPrices = FunctionPrices {
    gb_second_usd: 0.000_016_666_7,
    provisioned_gb_second_usd: 0.000_004_166_7,
    provisioned_duration_gb_second_usd: 0.000_009_722_2,
    per_million_requests_usd: 0.20,
};
const PRICE_USD_MAX: f64 = 1e6;

/// The default init phase: a small function on a managed runtime.
fn init_duration_default() -> Dist {
    Dist::Lognormal(LognormalDist {
        p50: Duration(SimDuration::from_ms(250)),
        p99: Duration(SimDuration::from_secs(1)),
    })
}

/// The account's concurrency limit, AWS's default if not given.
pub(super) fn account_limit(check: &mut Checker, account: Option<&Account>) -> u32 {
    let limit = account.and_then(|account| account.concurrency_limit).unwrap_or(1_000);
    if limit == 0 || limit > CONCURRENCY_MAX {
        check.fail(
            "account.concurrency_limit",
            Kind::Invalid,
            format!("expected 1 to {CONCURRENCY_MAX} concurrent invocations, got {limit}"),
        );
    }
    limit.clamp(1, CONCURRENCY_MAX)
}

/// Checks a function node and builds its service model; its calls' edges are pushed onto
/// `edges`.
pub(super) fn function(
    check: &mut Checker,
    path: &str,
    function: &FunctionNode,
    node_index: u16,
    account_limit: u32,
    ids: &NodeIds,
    edges: &mut Vec<EdgeModel>,
) -> ServiceModel {
    check.probability(&format!("{path}.error_rate"), function.error_rate);
    let service_time = check.dist(&format!("{path}.service_time"), &function.service_time, false);
    let memory_mb = function.memory_mb.unwrap_or(MEMORY_MB_DEFAULT);
    if !(MEMORY_MB_RANGE.0..=MEMORY_MB_RANGE.1).contains(&memory_mb) {
        check.fail(
            format!("{path}.memory_mb"),
            Kind::Invalid,
            format!("expected {} to {} MB, got {memory_mb}", MEMORY_MB_RANGE.0, MEMORY_MB_RANGE.1),
        );
    }
    let timeout = function.timeout.map_or(TIMEOUT_DEFAULT, |timeout| {
        check.span(&format!("{path}.timeout"), timeout, SimDuration::from_secs(1), TIMEOUT_MAX)
    });
    let init_duration = check.dist(
        &format!("{path}.init_duration"),
        function.init_duration.as_ref().unwrap_or(&init_duration_default()),
        false,
    );
    let provisioned = provisioned(check, path, function, account_limit);
    let idle_timeout = function.idle_timeout.map_or(IDLE_TIMEOUT_DEFAULT, |idle| {
        check.span(&format!("{path}.idle_timeout"), idle, SimDuration::ZERO, SPAN_MAX)
    });
    let scaling = scaling(check, &format!("{path}.scaling"), &function.scaling);
    let asynchronous = invocation(check, path, function, ids);
    let (consumer, pollers_max) = event_source(check, path, function, ids);
    let price = prices(check, path, function.price.clone().unwrap_or_default());
    let side_effects = service::side_effects(check, path, function.side_effects.as_ref());
    let (calls, call_slots) =
        call::service_calls(check, path, &function.calls, function.complete_on, node_index, ids, edges);
    // The most invocations that can run at once: what the fleet will ever allow.
    let concurrency_max = function.reserved_concurrency.unwrap_or(account_limit).clamp(1, account_limit.max(1));
    ServiceModel {
        calls,
        call_mode: function.call_mode,
        complete_on: function.complete_on,
        call_slots,
        consumer,
        side_effects,
        function: Some(Box::new(FunctionModel {
            fleet: FleetConfig { reserved: function.reserved_concurrency, provisioned, idle_timeout, scaling },
            memory_mb: memory_mb.clamp(MEMORY_MB_RANGE.0, MEMORY_MB_RANGE.1),
            timeout,
            init_duration,
            asynchronous,
            pollers_max,
            price,
            init_stream_id: stream_id(&[&function.id, "init"]),
        })),
        ..ServiceModel::plain(node_index, &function.id, concurrency_max, service_time, function.error_rate)
    }
}

/// Checks reserved concurrency against the account's limit, and provisioned concurrency against
/// both; returns the provisioned environments, capped.
fn provisioned(check: &mut Checker, path: &str, function: &FunctionNode, account_limit: u32) -> u32 {
    if let Some(reserved) = function.reserved_concurrency {
        if reserved > account_limit {
            check.fail(
                format!("{path}.reserved_concurrency"),
                Kind::Invalid,
                format!("expected at most the account's concurrency limit ({account_limit}), got {reserved}"),
            );
        }
    }
    let provisioned = function.provisioned_concurrency;
    let provisioned_cap = function.reserved_concurrency.unwrap_or(account_limit);
    if provisioned > provisioned_cap {
        let what = if function.reserved_concurrency.is_some() {
            "the reserved concurrency"
        } else {
            "the account's concurrency limit"
        };
        check.fail(
            format!("{path}.provisioned_concurrency"),
            Kind::Invalid,
            format!("expected at most {what} ({provisioned_cap}), got {provisioned}"),
        );
    }
    provisioned.min(provisioned_cap)
}

/// Synchronous, or asynchronous with Lambda's event queue settings.
fn invocation(check: &mut Checker, path: &str, function: &FunctionNode, ids: &NodeIds) -> Option<AsyncModel> {
    match (function.invocation, &function.asynchronous) {
        (Invocation::Sync, Some(_)) => {
            check.fail(
                format!("{path}.asynchronous"),
                Kind::Invalid,
                "expected only with \"invocation\": \"async\" (a synchronous caller sees its errors itself)",
            );
            None
        }
        (Invocation::Sync, None) => None,
        (Invocation::Async, settings) => {
            Some(asynchronous(check, &format!("{path}.asynchronous"), settings.clone().unwrap_or_default(), ids))
        }
    }
}

/// A queue the function consumes through Lambda's pollers: the consumer, and the most batches
/// the pollers hand the function at once (0 without an event source).
fn event_source(
    check: &mut Checker,
    path: &str,
    function: &FunctionNode,
    ids: &NodeIds,
) -> (Option<ConsumerModel>, u32) {
    let Some(source) = &function.consumes else {
        return (None, 0);
    };
    let source_path = format!("{path}.consumes");
    if !function.calls.is_empty() {
        check.fail(
            &source_path,
            Kind::Invalid,
            "expected a consumer without calls: a consumer's work is its own in this version",
        );
    }
    if function.invocation == Invocation::Async {
        check.fail(
            format!("{path}.invocation"),
            Kind::Invalid,
            "expected \"sync\" with an event source: Lambda's pollers invoke the function synchronously",
        );
    }
    let batch_size = source.batch_size.unwrap_or(10);
    if !(1..=10).contains(&batch_size) {
        check.fail(
            format!("{source_path}.batch_size"),
            Kind::Invalid,
            format!("expected 1 to 10 messages per batch, got {batch_size}"),
        );
    }
    let (low, high) = EVENT_SOURCE_CONCURRENCY_RANGE;
    let pollers_max = source.maximum_concurrency.unwrap_or(high);
    if !(low..=high).contains(&pollers_max) {
        check.fail(
            format!("{source_path}.maximum_concurrency"),
            Kind::Invalid,
            format!("expected {low} to {high} batches at once, got {pollers_max}"),
        );
    }
    let queue = ids.queue(check, &format!("{source_path}.queue"), &source.queue);
    let consumer = queue.map(|queue| ConsumerModel {
        queue,
        batch_size: batch_size.clamp(1, 10),
        partial_batch_failures: source.partial_batch_failures,
    });
    (consumer, pollers_max.clamp(low, high))
}

/// The prices a function's cost is reckoned at, AWS's defaults for any not given.
fn prices(check: &mut Checker, path: &str, price: FunctionPrice) -> FunctionPrices {
    let mut price_or_default = |field: &str, given: Option<f64>, default: f64| {
        let value = given.unwrap_or(default);
        if check.number(&format!("{path}.price.{field}"), value, 0.0, PRICE_USD_MAX) {
            value
        } else {
            default
        }
    };
    FunctionPrices {
        gb_second_usd: price_or_default("gb_second_usd", price.gb_second_usd, PRICES_DEFAULT.gb_second_usd),
        provisioned_gb_second_usd: price_or_default(
            "provisioned_gb_second_usd",
            price.provisioned_gb_second_usd,
            PRICES_DEFAULT.provisioned_gb_second_usd,
        ),
        provisioned_duration_gb_second_usd: price_or_default(
            "provisioned_duration_gb_second_usd",
            price.provisioned_duration_gb_second_usd,
            PRICES_DEFAULT.provisioned_duration_gb_second_usd,
        ),
        per_million_requests_usd: price_or_default(
            "per_million_requests_usd",
            price.per_million_requests_usd,
            PRICES_DEFAULT.per_million_requests_usd,
        ),
    }
}

fn scaling(check: &mut Checker, path: &str, scaling: &FunctionScaling) -> ScalingModel {
    match scaling {
        FunctionScaling::Aws2023 => ScalingModel::AWS_2023,
        FunctionScaling::Legacy(legacy) => {
            let burst = legacy.burst.unwrap_or(3_000);
            let per_minute = legacy.per_minute.unwrap_or(500);
            for (field, value) in [("burst", burst), ("per_minute", per_minute)] {
                if value == 0 || value > CONCURRENCY_MAX {
                    check.fail(
                        format!("{path}.legacy.{field}"),
                        Kind::Invalid,
                        format!("expected 1 to {CONCURRENCY_MAX} environments, got {value}"),
                    );
                }
            }
            ScalingModel::Legacy { burst, per_minute }
        }
        FunctionScaling::PerTenSeconds(environments) => {
            if *environments == 0 || *environments > CONCURRENCY_MAX {
                check.fail(
                    format!("{path}.per_ten_seconds"),
                    Kind::Invalid,
                    format!("expected 1 to {CONCURRENCY_MAX} environments, got {environments}"),
                );
            }
            ScalingModel::PerFunction { environments_per_10s: *environments }
        }
    }
}

fn asynchronous(check: &mut Checker, path: &str, settings: AsyncInvocation, ids: &NodeIds) -> AsyncModel {
    let max_retries = settings.max_retries.unwrap_or(ASYNC_RETRIES_MAX);
    if max_retries > ASYNC_RETRIES_MAX {
        check.fail(
            format!("{path}.max_retries"),
            Kind::Invalid,
            format!("expected 0 to {ASYNC_RETRIES_MAX} retries (Lambda's limit), got {max_retries}"),
        );
    }
    let (low, high) = MAX_EVENT_AGE_RANGE;
    let max_event_age =
        settings.max_event_age.map_or(high, |age| check.span(&format!("{path}.max_event_age"), age, low, high));
    let on_failure =
        settings.on_failure.as_ref().and_then(|queue| ids.queue(check, &format!("{path}.on_failure"), queue));
    AsyncModel { max_retries: max_retries.min(ASYNC_RETRIES_MAX), max_event_age, on_failure }
}
