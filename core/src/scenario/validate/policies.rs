//! The policy parts of a scenario: each spec becomes the config of its policy module in
//! [`crate::policy`], with the published defaults filled in and every value checked.

use crate::limits::{ATTEMPTS_PER_REQUEST_MAX, SPAN_MAX};
use crate::policy::balancer::{OutlierConfig, PickPolicy, FINAGLE_PEAK_EWMA_DECAY, HOSTS_MAX};
use crate::policy::breaker::{BreakerConfig, BreakerWindow, WINDOW_CALLS_MAX};
use crate::policy::budget::RetryBudgetConfig;
use crate::policy::limiter::LimiterConfig;
use crate::prelude::*;
use crate::scenario::check::Checker;
use crate::scenario::error::ScenarioErrorKind as Kind;
use crate::scenario::model::HedgeModel;
use crate::scenario::policies::*;
use crate::time::SimDuration;

/// Largest limit or limiter bound.
const LIMIT_MAX: u32 = 1_000_000;

pub(super) fn budget(check: &mut Checker, path: &str, spec: &RetryBudget) -> RetryBudgetConfig {
    match spec {
        RetryBudget::AwsStandard(aws) => {
            let RetryBudgetConfig::AwsStandard {
                capacity,
                retry_cost,
                timeout_cost,
                throttling_cost,
                no_retry_increment,
            } = RetryBudgetConfig::aws_standard()
            else {
                return RetryBudgetConfig::aws_standard();
            };
            let path = format!("{path}.aws_standard");
            RetryBudgetConfig::AwsStandard {
                capacity: check.count_or(&format!("{path}.capacity"), aws.capacity, capacity, 1, LIMIT_MAX),
                retry_cost: check.count_or(&format!("{path}.retry_cost"), aws.retry_cost, retry_cost, 0, LIMIT_MAX),
                timeout_cost: check.count_or(
                    &format!("{path}.timeout_cost"),
                    aws.timeout_cost,
                    timeout_cost,
                    0,
                    LIMIT_MAX,
                ),
                throttling_cost,
                no_retry_increment,
            }
        }
        RetryBudget::Grpc(grpc) => {
            let path = format!("{path}.grpc");
            RetryBudgetConfig::GrpcThrottling {
                // A6: maxTokens in (0, 1000], tokenRatio in (0, 1] with three decimals.
                max_tokens: check.number_or(&format!("{path}.max_tokens"), grpc.max_tokens, 10.0, 0.001, 1000.0),
                token_ratio: check.number_or(&format!("{path}.token_ratio"), grpc.token_ratio, 0.1, 0.001, 1.0),
            }
        }
        RetryBudget::Percentage(percentage) => {
            let path = format!("{path}.percentage");
            RetryBudgetConfig::Percentage {
                ratio: check.number_or(&format!("{path}.ratio"), percentage.ratio, 0.2, 0.0, 1000.0),
                min_retries_per_s: check.number_or(
                    &format!("{path}.min_retries_per_s"),
                    percentage.min_retries_per_s,
                    10.0,
                    0.0,
                    1e6,
                ),
                window: check.span_or(
                    &format!("{path}.window"),
                    percentage.window,
                    SimDuration::from_secs(10),
                    SimDuration::from_ms(1),
                ),
            }
        }
        RetryBudget::Envoy(envoy) => {
            let path = format!("{path}.envoy");
            RetryBudgetConfig::EnvoyConcurrency {
                budget_percent: check.number_or(
                    &format!("{path}.budget_percent"),
                    envoy.budget_percent,
                    20.0,
                    0.0,
                    100.0,
                ),
                min_retry_concurrency: check.count_or(
                    &format!("{path}.min_retry_concurrency"),
                    envoy.min_retry_concurrency,
                    3,
                    0,
                    LIMIT_MAX,
                ),
            }
        }
    }
}

pub(super) fn throttle(check: &mut Checker, path: &str, spec: &AdaptiveThrottle) -> RetryBudgetConfig {
    RetryBudgetConfig::AdaptiveThrottling {
        k: check.number_or(&format!("{path}.k"), spec.k, 2.0, 1.0, 100.0),
        window: check.span_or(
            &format!("{path}.window"),
            spec.window,
            SimDuration::from_secs(120),
            SimDuration::from_secs(1),
        ),
    }
}

pub(super) fn breaker(check: &mut Checker, path: &str, spec: &Breaker) -> BreakerConfig {
    match spec {
        Breaker::Resilience4j => BreakerConfig::resilience4j(),
        Breaker::Hystrix => BreakerConfig::hystrix(),
        Breaker::ConsecutiveFailures(consecutive) => {
            let path = format!("{path}.consecutive_failures");
            BreakerConfig::ConsecutiveFailures {
                threshold: check.count_or(&format!("{path}.threshold"), Some(consecutive.threshold), 5, 1, LIMIT_MAX),
                open_for: check.span_or(
                    &format!("{path}.open_for"),
                    consecutive.open_for,
                    SimDuration::from_secs(30),
                    SimDuration(1),
                ),
                half_open_trials: check.count_or(
                    &format!("{path}.half_open_trials"),
                    consecutive.half_open_trials,
                    1,
                    1,
                    LIMIT_MAX,
                ),
            }
        }
        Breaker::FailureRate(rate) => {
            let path = format!("{path}.failure_rate");
            let window = match (rate.window_calls, rate.window) {
                (Some(_), Some(_)) => {
                    check.fail(&path, Kind::Invalid, "expected window_calls or window, not both");
                    BreakerWindow::Calls(100)
                }
                (None, Some(window)) => BreakerWindow::Time(check.span(
                    &format!("{path}.window"),
                    window,
                    SimDuration::from_secs(1),
                    SPAN_MAX,
                )),
                (calls, None) => BreakerWindow::Calls(check.count_or(
                    &format!("{path}.window_calls"),
                    calls,
                    100,
                    1,
                    WINDOW_CALLS_MAX,
                )),
            };
            BreakerConfig::FailureRate {
                window,
                min_calls: check.count_or(&format!("{path}.min_calls"), rate.min_calls, 100, 1, WINDOW_CALLS_MAX),
                failure_threshold_percent: check.number_or(
                    &format!("{path}.failure_threshold_percent"),
                    rate.failure_threshold_percent,
                    50.0,
                    0.0,
                    100.0,
                ),
                open_for: check.span_or(
                    &format!("{path}.open_for"),
                    rate.open_for,
                    SimDuration::from_secs(60),
                    SimDuration(1),
                ),
                half_open_trials: check.count_or(
                    &format!("{path}.half_open_trials"),
                    rate.half_open_trials,
                    10,
                    1,
                    LIMIT_MAX,
                ),
            }
        }
    }
}

pub(super) fn hedge(check: &mut Checker, path: &str, spec: &Hedge) -> HedgeModel {
    HedgeModel {
        delay: check.span(&format!("{path}.delay"), spec.delay, SimDuration(1), SPAN_MAX),
        max_attempts: check.count_or(
            &format!("{path}.max_attempts"),
            spec.max_attempts,
            2,
            2,
            ATTEMPTS_PER_REQUEST_MAX,
        ),
        cancel_losers: spec.cancel_losers,
    }
}

pub(super) fn limiter(check: &mut Checker, path: &str, spec: &ConcurrencyLimit) -> LimiterConfig {
    // Fills an adaptive limit's published defaults with the overrides, and checks
    // min <= initial <= max.
    let range = |check: &mut Checker, kind: &str, overrides: &AdaptiveLimitRange, initial: u32, min: u32, max: u32| {
        let path = format!("{path}.{kind}");
        if kind != "aimd" && overrides.timeout.is_some() {
            check.fail(format!("{path}.timeout"), Kind::Invalid, "expected a timeout only for aimd");
        }
        let initial = check.count_or(&format!("{path}.initial"), overrides.initial, initial, 1, LIMIT_MAX);
        let min = check.count_or(&format!("{path}.min"), overrides.min, min.min(initial), 1, LIMIT_MAX);
        let max = check.count_or(&format!("{path}.max"), overrides.max, max.max(initial), 1, LIMIT_MAX);
        if !(min <= initial && initial <= max) {
            check.fail(&path, Kind::Invalid, format!("expected min <= initial <= max, got {min}, {initial}, {max}"));
        }
        (initial, min, max)
    };
    match spec {
        ConcurrencyLimit::Static(limit) => LimiterConfig::Static {
            limit: check.count_or(&format!("{path}.static.limit"), Some(limit.limit), 1, 1, LIMIT_MAX),
        },
        ConcurrencyLimit::Aimd(overrides) => {
            let LimiterConfig::Aimd { backoff_ratio, timeout, .. } = LimiterConfig::netflix_aimd() else {
                return LimiterConfig::netflix_aimd();
            };
            let (initial, min, max) = range(check, "aimd", overrides, 20, 20, 200);
            let timeout = check.span_or(&format!("{path}.aimd.timeout"), overrides.timeout, timeout, SimDuration(1));
            LimiterConfig::Aimd { initial, min, max, backoff_ratio, timeout }
        }
        ConcurrencyLimit::Vegas(overrides) => {
            let LimiterConfig::Vegas { smoothing, probe_multiplier, .. } = LimiterConfig::netflix_vegas() else {
                return LimiterConfig::netflix_vegas();
            };
            if overrides.min.is_some() {
                check.fail(format!("{path}.vegas.min"), Kind::Invalid, "expected no min: Vegas's floor is 1");
            }
            let (initial, _, max) = range(check, "vegas", overrides, 20, 1, 1000);
            LimiterConfig::Vegas { initial, max, smoothing, probe_multiplier }
        }
        ConcurrencyLimit::Gradient2(overrides) => {
            let LimiterConfig::Gradient2 { smoothing, rtt_tolerance, long_window, queue_size, .. } =
                LimiterConfig::netflix_gradient2()
            else {
                return LimiterConfig::netflix_gradient2();
            };
            let (initial, min, max) = range(check, "gradient2", overrides, 20, 20, 200);
            LimiterConfig::Gradient2 { initial, min, max, smoothing, rtt_tolerance, long_window, queue_size }
        }
        ConcurrencyLimit::EnvoyGradient(overrides) => {
            let LimiterConfig::EnvoyGradient {
                sample_interval,
                sample_percentile,
                min_rtt_interval,
                min_rtt_request_count,
                min_concurrency,
                max,
                min_rtt_buffer_percent,
            } = LimiterConfig::envoy_gradient()
            else {
                return LimiterConfig::envoy_gradient();
            };
            if overrides.initial.is_some() {
                check.fail(
                    format!("{path}.envoy_gradient.initial"),
                    Kind::Invalid,
                    "expected no initial: Envoy starts by measuring minRTT at its min",
                );
            }
            let (_, min_concurrency, max) =
                range(check, "envoy_gradient", overrides, min_concurrency, min_concurrency, max);
            LimiterConfig::EnvoyGradient {
                sample_interval,
                sample_percentile,
                min_rtt_interval,
                min_rtt_request_count,
                min_concurrency,
                max,
                min_rtt_buffer_percent,
            }
        }
    }
}

/// Token bucket (capacity, rate per second).
pub(super) fn rate_limit(check: &mut Checker, path: &str, spec: &RateLimit) -> (f64, f64) {
    let rate_per_s =
        if check.number(&format!("{path}.rate_per_s"), spec.rate_per_s, 0.001, 1e7) { spec.rate_per_s } else { 1.0 };
    let burst = check.number_or(&format!("{path}.burst"), spec.burst, rate_per_s.max(1.0), 1.0, 1e9);
    (burst, rate_per_s)
}

pub(super) fn balance_policy(policy: BalancePolicy) -> PickPolicy {
    match policy {
        BalancePolicy::RoundRobin => PickPolicy::RoundRobin,
        BalancePolicy::Random => PickPolicy::Random,
        BalancePolicy::LeastOutstanding => PickPolicy::LeastOutstanding,
        BalancePolicy::PowerOfTwoChoices => PickPolicy::PowerOfTwoChoices,
        BalancePolicy::PeakEwma => PickPolicy::PeakEwma { decay: FINAGLE_PEAK_EWMA_DECAY },
    }
}

pub(super) fn outlier(check: &mut Checker, path: &str, spec: &OutlierDetection) -> OutlierConfig {
    let defaults = OutlierConfig::envoy();
    OutlierConfig {
        consecutive_errors: check.count_or(
            &format!("{path}.consecutive_errors"),
            spec.consecutive_errors,
            defaults.consecutive_errors,
            1,
            LIMIT_MAX,
        ),
        base_ejection: check.span_or(
            &format!("{path}.base_ejection"),
            spec.base_ejection,
            defaults.base_ejection,
            SimDuration(1),
        ),
        max_ejection: check.span_or(
            &format!("{path}.max_ejection"),
            spec.max_ejection,
            defaults.max_ejection,
            SimDuration(1),
        ),
        max_ejection_percent: check.number_or(
            &format!("{path}.max_ejection_percent"),
            spec.max_ejection_percent,
            defaults.max_ejection_percent,
            0.0,
            100.0,
        ),
        always_eject_one_host: spec.always_eject_one_host,
        ..defaults
    }
}

/// Pools larger than this are refused (the balancer's own bound).
pub(super) const POOL_MAX: u32 = HOSTS_MAX;
