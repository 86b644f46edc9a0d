//! Retry budgets and client-side throttling. One [`RetryBudget`] per client edge, shared by all
//! the requests on that edge, decides whether a failed attempt may be retried and, for adaptive
//! throttling, whether an attempt may be sent at all.
//!
//! **Why it matters.** A fixed "3 attempts per request" triples the load on a service exactly
//! when it is failing, and the factors multiply across layers (3 attempts at each of 5 layers is
//! 3^5 = 243x, Google SRE book). A budget ties retries to the health of the whole edge: when most
//! attempts fail, retries stop, and the service gets room to recover instead of a self-sustaining
//! retry storm.
//!
//! Kinds, each after its published source (defaults in POLICIES.md):
//!
//! | kind                 | source                             | what it limits                             |
//! |----------------------|------------------------------------|--------------------------------------------|
//! | `AwsStandard`        | AWS SDK "standard" retry quota     | tokens per retry, refunded on success      |
//! | `GrpcThrottling`     | gRPC proposal A6, retry throttling | retries while tokens > max/2               |
//! | `Percentage`         | Finagle `RetryBudget`              | ~ratio of requests + a floor per second    |
//! | `EnvoyConcurrency`   | Envoy cluster `retry_budget`       | retries *in flight* at once                |
//! | `AdaptiveThrottling` | Google SRE book, Handling Overload | every attempt, rejected locally at random  |
//!
//! **How the simulator calls it**, per request (it keeps the request's last permit):
//!
//! ```text
//! request starts         on_request(now)
//! before each attempt    admit_attempt(now, stream)   false: rejected locally, never sent
//! the attempt ends       on_attempt_result(now, outcome, last_permit)   once per sent attempt
//! if it failed           try_retry(now, failure, active_requests, retries_in_flight)
//!                          Some(permit): retry after the backoff; the permit is now the last one
//!                          None: the failure goes back to the caller at once
//! ```
//!
//! The result is reported *before* the retry is asked for, because gRPC's throttle counts the
//! failure first and then decides (gRPC C-core `RetryThrottler::RecordFailure`).
//!
//! **Example** (AWS standard, 500 tokens): 50 requests time out and each retries, 50 x 10 = 500
//! tokens, and the bucket is empty; the 51st timeout gets no retry and its error returns at once.
//! A retried request that then succeeds refunds its last retry's cost (10); a request that
//! succeeds at the first try refunds 1; the bucket never holds more than 500.
//!
//! Sources: AWS SDKs and Tools Reference Guide, "Retry behavior",
//! <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>; gRPC proposal A6,
//! "gRPC Retry Design", <https://github.com/grpc/proposal/blob/master/A6-client-retries.md>;
//! Finagle `RetryBudget`, <https://github.com/twitter/finagle>; Envoy, cluster `CircuitBreakers`
//! `retry_budget`,
//! <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/circuit_breaker.proto>;
//! Google, *Site Reliability Engineering* (O'Reilly, 2016), "Handling Overload",
//! <https://sre.google/sre-book/handling-overload/>.

use crate::prelude::*;
use crate::rng::Stream;
use crate::time::{SimDuration, SimTime};

/// Buckets of the Finagle window: its `WindowedAdder` splits the TTL into 10 slices.
const PERCENTAGE_BUCKET_COUNT: usize = 10;
/// Buckets of the adaptive-throttling window: 120, so the SRE book's 2 minutes move by 1 s.
const ADAPTIVE_BUCKET_COUNT: usize = 120;
/// Finagle's fixed-point scale: one request deposits 1000 tokens (`TokenRetryBudget.ScaleFactor`).
const FINAGLE_SCALE: f64 = 1000.0;
/// gRPC keeps tokens in thousandths (C-core `milli_tokens`, grpc-java `ThrottleData`).
const GRPC_MILLI_PER_TOKEN: u64 = 1000;
/// gRPC allows at most 1000 tokens (A6: `maxTokens` in (0, 1000]), in thousandths.
const GRPC_MILLI_TOKENS_MAX: u64 = 1000 * GRPC_MILLI_PER_TOKEN;

/// Which budget a client edge uses, with its parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RetryBudgetConfig {
    /// AWS SDK "standard" retry quota (botocore `retries/standard.py`, `RetryQuotaChecker`):
    /// a bucket of `capacity` tokens, starting full. A retry costs `retry_cost` tokens,
    /// `timeout_cost` after a timeout and `throttling_cost` after a throttling error; when the
    /// cost exceeds what is left there is no retry. On a successful attempt the request refunds
    /// the cost of its last retry, or `no_retry_increment` if it never retried, capped at
    /// `capacity`. Errors and timeouts refund nothing.
    ///
    /// `throttling_cost` equals `retry_cost` in the standard mode; it exists so that the opt-in
    /// 2026 revision (cost 14, 5 for throttling errors) can be expressed too.
    AwsStandard { capacity: u32, retry_cost: u32, timeout_cost: u32, throttling_cost: u32, no_retry_increment: u32 },
    /// gRPC retry throttling (proposal A6), per server: tokens start at `max_tokens`; every
    /// failed attempt takes 1 (floor 0), every success adds `token_ratio` (cap `max_tokens`);
    /// retries and hedges are allowed only while tokens > `max_tokens / 2`.
    ///
    /// Tokens are kept in integer thousandths, as gRPC C-core and grpc-java do (A6 allows three
    /// decimals in `tokenRatio`), so repeated +0.1 never drifts across the threshold. A6 counts
    /// as failures only attempts that fail with a retryable status or get pushback; in this
    /// simulator every failure is retryable, so errors, timeouts (DEADLINE_EXCEEDED /
    /// UNAVAILABLE) and throttles (pushback) all count.
    GrpcThrottling { max_tokens: f64, token_ratio: f64 },
    /// Finagle `RetryBudget` (`TokenRetryBudget` over a leaky `TokenBucket`): over a sliding
    /// `window` (Finagle's TTL, 10 s), retries are allowed while
    /// `ratio * requests + min_retries_per_s * window - retries` is at least one retry.
    ///
    /// Computed in Finagle's integers: a request deposits 1000 tokens, a retry withdraws
    /// `floor(1000 / ratio)`, and a constant reserve of `min_retries_per_s * window * withdrawal`
    /// (Finagle truncates the TTL to whole seconds; here it may be fractional) never expires; deposits and withdrawals expire with the window (10 buckets, like
    /// Finagle's `WindowedAdder`). Requests deposit once each, not per attempt (`RetryFilter`).
    Percentage { ratio: f64, min_retries_per_s: f64, window: SimDuration },
    /// Envoy retry budget (`envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget`):
    /// concurrent retries allowed = max(`min_retry_concurrency`, `budget_percent`% of active
    /// requests), the product truncated to an integer as in Envoy's `resource_manager_impl.h`
    /// (`std::max<uint64_t>(budget_percent / 100.0 * active, min_retry_concurrency)`).
    /// `budget_percent` is a percentage (20.0 means 20%), as in Envoy's config. Envoy's newer,
    /// optional `budget_interval` (counting requests over a fixed interval) is not modelled: its
    /// default, 0, is this in-flight rule.
    EnvoyConcurrency { budget_percent: f64, min_retry_concurrency: u32 },
    /// Client-side adaptive throttling (Google SRE book, "Handling Overload"): reject an attempt
    /// locally with probability max(0, (requests - k * accepts) / (requests + 1)), counting over
    /// the last `window` (2 minutes in the book). Retries are not limited separately.
    ///
    /// "requests" are all attempts the application asked to send, including those rejected
    /// locally (the book counts at the application layer, above the throttle). "accepts" are
    /// attempts the backend answered without signalling overload: successes and ordinary errors.
    /// Throttles ("overloaded, don't retry", 429) are not accepts, and neither are timeouts: the
    /// client never saw the backend accept the work, and a timeout is the commonest sign of
    /// overload, so counting it as accepted would keep the throttle open exactly when the
    /// backend is drowning in queued work.
    AdaptiveThrottling { k: f64, window: SimDuration },
}

impl RetryBudgetConfig {
    /// AWS SDK standard mode: 500 tokens, retry 5, timeout 10, throttling 5, refund 1.
    pub fn aws_standard() -> Self {
        RetryBudgetConfig::AwsStandard {
            capacity: 500,
            retry_cost: 5,
            timeout_cost: 10,
            throttling_cost: 5,
            no_retry_increment: 1,
        }
    }

    /// The gRPC A6 example: `maxTokens` 10, `tokenRatio` 0.1.
    pub fn grpc_example() -> Self {
        RetryBudgetConfig::GrpcThrottling { max_tokens: 10.0, token_ratio: 0.1 }
    }

    /// Finagle's default `RetryBudget()`: 20% of requests plus 10 retries per second, 10 s TTL.
    pub fn finagle() -> Self {
        RetryBudgetConfig::Percentage { ratio: 0.2, min_retries_per_s: 10.0, window: SimDuration::from_secs(10) }
    }

    /// Envoy's retry-budget defaults: 20% of active requests, at least 3 concurrent retries.
    pub fn envoy() -> Self {
        RetryBudgetConfig::EnvoyConcurrency { budget_percent: 20.0, min_retry_concurrency: 3 }
    }

    /// The SRE book's adaptive throttling: K = 2 over the last 2 minutes.
    pub fn sre() -> Self {
        RetryBudgetConfig::AdaptiveThrottling { k: 2.0, window: SimDuration::from_secs(120) }
    }
}

/// Why an attempt failed, as seen when deciding on a retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptFailure {
    /// No answer before the attempt's timeout.
    Timeout,
    /// An ordinary error answer from the backend.
    Error,
    /// The backend said it is overloaded (429, "overloaded, don't retry", gRPC pushback).
    Throttled,
}

/// How a sent attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    Success,
    /// An ordinary error answer: the backend accepted and processed the attempt.
    Error,
    /// No answer before the attempt's timeout.
    Timeout,
    /// The backend said it is overloaded (429, "overloaded", pushback).
    Throttled,
}

impl From<AttemptFailure> for AttemptOutcome {
    fn from(failure: AttemptFailure) -> Self {
        match failure {
            AttemptFailure::Timeout => AttemptOutcome::Timeout,
            AttemptFailure::Error => AttemptOutcome::Error,
            AttemptFailure::Throttled => AttemptOutcome::Throttled,
        }
    }
}

/// Proof that a retry was granted, and what it cost. The request keeps its last permit and
/// hands it back in [`RetryBudget::on_attempt_result`], so that AWS standard can refund exactly
/// that retry's cost on success. Only [`RetryBudget::try_retry`] makes permits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPermit {
    cost_tokens: u32,
}

impl RetryPermit {
    /// Tokens the retry took from the budget (AWS standard); zero for the other kinds.
    pub fn cost_tokens(self) -> u32 {
        self.cost_tokens
    }
}

/// A retry budget for one client edge. See the module documentation for the calling sequence.
#[derive(Clone, Debug)]
pub struct RetryBudget {
    state: BudgetState,
}

#[derive(Clone, Debug)]
enum BudgetState {
    AwsStandard {
        capacity_tokens: u32,
        retry_cost_tokens: u32,
        timeout_cost_tokens: u32,
        throttling_cost_tokens: u32,
        no_retry_increment_tokens: u32,
        available_tokens: u32,
    },
    Grpc {
        max_milli_tokens: u64,
        ratio_milli_tokens: u64,
        milli_tokens: u64,
    },
    Percentage {
        deposit_tokens: i128,
        withdrawal_tokens: i128,
        reserve_tokens: i128,
        /// `requests` are deposits, `tagged` are withdrawals (retries).
        window: SlidingCounts,
    },
    Envoy {
        budget_fraction: f64,
        min_retry_concurrency: u32,
        /// The concurrency limit computed at the last decision, for [`RetryBudget::level`].
        last_limit: u32,
    },
    Adaptive {
        k: f64,
        /// `requests` are attempts asked for, `tagged` are accepts.
        window: SlidingCounts,
    },
}

impl RetryBudget {
    /// A budget in its initial state: buckets full, windows empty.
    pub fn new(config: RetryBudgetConfig) -> Self {
        let state = match config {
            RetryBudgetConfig::AwsStandard {
                capacity,
                retry_cost,
                timeout_cost,
                throttling_cost,
                no_retry_increment,
            } => BudgetState::AwsStandard {
                capacity_tokens: capacity,
                retry_cost_tokens: retry_cost,
                timeout_cost_tokens: timeout_cost,
                throttling_cost_tokens: throttling_cost,
                no_retry_increment_tokens: no_retry_increment,
                available_tokens: capacity,
            },
            RetryBudgetConfig::GrpcThrottling { max_tokens, token_ratio } => {
                // Rounded first, then capped, so a NaN becomes 0 rather than the cap.
                let milli = |tokens: f64| round_to_u64(tokens * GRPC_MILLI_PER_TOKEN as f64).min(GRPC_MILLI_TOKENS_MAX);
                let max_milli_tokens = milli(max_tokens);
                let ratio_milli_tokens = milli(token_ratio);
                BudgetState::Grpc { max_milli_tokens, ratio_milli_tokens, milli_tokens: max_milli_tokens }
            }
            RetryBudgetConfig::Percentage { ratio, min_retries_per_s, window } => {
                // Finagle: with no ratio a retry costs 1 and requests earn nothing; the ratio is
                // capped at 1000 (`percentCanRetry <= ScaleFactor`), so a withdrawal is >= 1.
                let (deposit_tokens, withdrawal_tokens) = if ratio > 0.0 {
                    let withdrawal = (FINAGLE_SCALE / ratio.min(FINAGLE_SCALE)) as i128;
                    (FINAGLE_SCALE as i128, withdrawal.max(1))
                } else {
                    (0, 1)
                };
                let min_retries_per_s = if min_retries_per_s > 0.0 { min_retries_per_s } else { 0.0 };
                // `as` saturates, so an absurd floor gives a huge reserve, never a wrap.
                let reserve_tokens =
                    (min_retries_per_s * window.as_secs_f64() * withdrawal_tokens as f64) as i64 as i128;
                BudgetState::Percentage {
                    deposit_tokens,
                    withdrawal_tokens,
                    reserve_tokens,
                    window: SlidingCounts::new(window, PERCENTAGE_BUCKET_COUNT),
                }
            }
            RetryBudgetConfig::EnvoyConcurrency { budget_percent, min_retry_concurrency } => {
                let budget_fraction = if budget_percent > 0.0 { budget_percent / 100.0 } else { 0.0 };
                BudgetState::Envoy { budget_fraction, min_retry_concurrency, last_limit: min_retry_concurrency }
            }
            RetryBudgetConfig::AdaptiveThrottling { k, window } => {
                BudgetState::Adaptive { k, window: SlidingCounts::new(window, ADAPTIVE_BUCKET_COUNT) }
            }
        };
        RetryBudget { state }
    }

    /// The application wants to send an attempt (a first try or a retry). Only adaptive
    /// throttling can say no, a local rejection: the attempt is not sent and should fail back
    /// to the caller without a retry. Every call counts as a "request" for adaptive throttling,
    /// rejected or not; the probability is computed from the counts before this attempt.
    /// The stream is drawn from only when the rejection probability is positive, so a healthy
    /// edge leaves its stream untouched.
    pub fn admit_attempt(&mut self, now: SimTime, stream: &mut Stream) -> bool {
        match &mut self.state {
            BudgetState::Adaptive { k, window } => {
                let counts = window.total_at(now);
                let rejected = stream.chance(rejection_probability(counts, *k));
                window.add(now, 1, 0);
                !rejected
            }
            _ => true,
        }
    }

    /// A new request starts (not a retry). Finagle's budget deposits here.
    pub fn on_request(&mut self, now: SimTime) {
        if let BudgetState::Percentage { window, .. } = &mut self.state {
            window.add(now, 1, 0);
        }
    }

    /// May the request retry after its attempt failed with `after`? On yes, the budget is
    /// charged and the permit says what was paid. Report the failed attempt with
    /// [`Self::on_attempt_result`] first. `active_requests` (requests in flight plus those
    /// waiting to be sent, Envoy's "active + pending") and `retries_in_flight` (retries sent
    /// or scheduled and not finished, this one excluded) are read only by `EnvoyConcurrency`.
    /// gRPC applies the same threshold to hedges, so a hedge may ask here before it is sent.
    pub fn try_retry(
        &mut self,
        now: SimTime,
        after: AttemptFailure,
        active_requests: u32,
        retries_in_flight: u32,
    ) -> Option<RetryPermit> {
        match &mut self.state {
            BudgetState::AwsStandard {
                retry_cost_tokens,
                timeout_cost_tokens,
                throttling_cost_tokens,
                available_tokens,
                ..
            } => {
                let cost_tokens = match after {
                    AttemptFailure::Timeout => *timeout_cost_tokens,
                    AttemptFailure::Error => *retry_cost_tokens,
                    AttemptFailure::Throttled => *throttling_cost_tokens,
                };
                // botocore `RetryQuota.acquire`: refuse when the cost exceeds what is left.
                if cost_tokens > *available_tokens {
                    return None;
                }
                *available_tokens -= cost_tokens;
                Some(RetryPermit { cost_tokens })
            }
            BudgetState::Grpc { max_milli_tokens, milli_tokens, .. } => {
                // Integer halving as in C-core: `milli_tokens > max_milli_tokens / 2`.
                (*milli_tokens > *max_milli_tokens / 2).then_some(RetryPermit { cost_tokens: 0 })
            }
            BudgetState::Percentage { deposit_tokens, withdrawal_tokens, reserve_tokens, window } => {
                let counts = window.total_at(now);
                let balance = finagle_balance_tokens(counts, *deposit_tokens, *withdrawal_tokens, *reserve_tokens);
                // Finagle `tryGet`: withdraw only if the whole withdrawal is there.
                if balance < *withdrawal_tokens {
                    return None;
                }
                window.add(now, 0, 1);
                Some(RetryPermit { cost_tokens: 0 })
            }
            BudgetState::Envoy { budget_fraction, min_retry_concurrency, last_limit } => {
                let share = (*budget_fraction * f64::from(active_requests)) as u32;
                *last_limit = share.max(*min_retry_concurrency);
                (retries_in_flight < *last_limit).then_some(RetryPermit { cost_tokens: 0 })
            }
            BudgetState::Adaptive { .. } => Some(RetryPermit { cost_tokens: 0 }),
        }
    }

    /// A sent attempt ended with `outcome`; call exactly once per sent attempt (never for one
    /// rejected by [`Self::admit_attempt`]). `last_permit` is the permit of the request's most
    /// recent retry, `None` if this was its first attempt.
    pub fn on_attempt_result(&mut self, now: SimTime, outcome: AttemptOutcome, last_permit: Option<RetryPermit>) {
        match &mut self.state {
            BudgetState::AwsStandard { capacity_tokens, no_retry_increment_tokens, available_tokens, .. } => {
                // botocore releases quota only on a 2xx answer.
                if outcome == AttemptOutcome::Success {
                    let refund_tokens = last_permit.map_or(*no_retry_increment_tokens, RetryPermit::cost_tokens);
                    *available_tokens = available_tokens.saturating_add(refund_tokens).min(*capacity_tokens);
                }
            }
            BudgetState::Grpc { max_milli_tokens, ratio_milli_tokens, milli_tokens } => {
                *milli_tokens = match outcome {
                    AttemptOutcome::Success => milli_tokens.saturating_add(*ratio_milli_tokens).min(*max_milli_tokens),
                    AttemptOutcome::Error | AttemptOutcome::Timeout | AttemptOutcome::Throttled => {
                        milli_tokens.saturating_sub(GRPC_MILLI_PER_TOKEN)
                    }
                };
            }
            BudgetState::Adaptive { window, .. } => {
                if matches!(outcome, AttemptOutcome::Success | AttemptOutcome::Error) {
                    window.add(now, 0, 1);
                }
            }
            BudgetState::Percentage { .. } | BudgetState::Envoy { .. } => {}
        }
    }

    /// The budget's level at `now`, for charts, in each kind's own unit: AWS tokens left; gRPC
    /// tokens; Finagle retries that could be made now (its `balance`, may be negative after
    /// deposits expire); Envoy the concurrent-retry limit at the last decision; adaptive
    /// throttling the probability that an attempt sent now is rejected.
    pub fn level(&self, now: SimTime) -> f64 {
        match &self.state {
            BudgetState::AwsStandard { available_tokens, .. } => f64::from(*available_tokens),
            BudgetState::Grpc { milli_tokens, .. } => *milli_tokens as f64 / GRPC_MILLI_PER_TOKEN as f64,
            BudgetState::Percentage { deposit_tokens, withdrawal_tokens, reserve_tokens, window } => {
                let counts = window.total_at(now);
                let balance = finagle_balance_tokens(counts, *deposit_tokens, *withdrawal_tokens, *reserve_tokens);
                (balance / *withdrawal_tokens) as f64
            }
            BudgetState::Envoy { last_limit, .. } => f64::from(*last_limit),
            BudgetState::Adaptive { k, window } => rejection_probability(window.total_at(now), *k),
        }
    }
}

/// Finagle's token count: deposits minus withdrawals in the window, plus the fixed reserve.
fn finagle_balance_tokens(counts: Tally, deposit_tokens: i128, withdrawal_tokens: i128, reserve_tokens: i128) -> i128 {
    let deposited = i128::from(counts.requests).saturating_mul(deposit_tokens);
    let withdrawn = i128::from(counts.tagged).saturating_mul(withdrawal_tokens);
    deposited.saturating_sub(withdrawn).saturating_add(reserve_tokens)
}

/// The SRE book's max(0, (requests - k * accepts) / (requests + 1)). Anything not a positive
/// number (a NaN from a nonsensical `k`) means no rejection: a bad setting fails open.
fn rejection_probability(counts: Tally, k: f64) -> f64 {
    let requests = counts.requests as f64;
    let probability = (requests - k * counts.tagged as f64) / (requests + 1.0);
    if probability > 0.0 {
        probability.min(1.0)
    } else {
        0.0
    }
}

/// Rounds a non-negative float to the nearest integer, saturating; NaN and negatives give 0.
fn round_to_u64(value: f64) -> u64 {
    if value > 0.0 {
        (value + 0.5) as u64
    } else {
        0
    }
}

/// Two counts per bucket: requests, and one more that each kind names (retries or accepts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    requests: u64,
    tagged: u64,
}

impl Tally {
    fn saturating_sub(self, other: Tally) -> Tally {
        Tally {
            requests: self.requests.saturating_sub(other.requests),
            tagged: self.tagged.saturating_sub(other.tagged),
        }
    }
}

/// Counts over a sliding window, in a fixed ring of buckets (memory does not grow with the
/// run). Bucket `i` covers `[i * width, (i + 1) * width)`; the window is the bucket `now` falls
/// in plus the `count - 1` before it, so it spans between `(count - 1) * width` and
/// `count * width`, as Finagle's `WindowedAdder` does. Time never runs backwards in the
/// simulator; if it did, the newest bucket would take the counts.
#[derive(Clone, Debug)]
struct SlidingCounts {
    bucket_width_ns: u64,
    buckets: Vec<Tally>,
    /// Absolute index (`time / width`) of the newest bucket.
    newest_index: u64,
    /// Sum of all buckets in the ring.
    total: Tally,
}

impl SlidingCounts {
    fn new(window: SimDuration, bucket_count: usize) -> Self {
        let bucket_count = bucket_count.max(1);
        let bucket_width_ns = window.as_ns().div_ceil(bucket_count as u64).max(1);
        SlidingCounts {
            bucket_width_ns,
            buckets: vec![Tally::default(); bucket_count],
            newest_index: 0,
            total: Tally::default(),
        }
    }

    fn bucket_count(&self) -> u64 {
        self.buckets.len() as u64
    }

    fn slot(&self, index: u64) -> usize {
        (index % self.bucket_count()) as usize
    }

    /// How many buckets fall out of the window when time moves from the newest bucket to `now`
    /// (they are the slots of indices `newest_index + 1 ..= newest_index + steps`).
    fn expiring_steps(&self, now: SimTime) -> u64 {
        let now_index = now.as_ns() / self.bucket_width_ns;
        now_index.saturating_sub(self.newest_index).min(self.bucket_count())
    }

    fn advance(&mut self, now: SimTime) {
        for step in 1..=self.expiring_steps(now) {
            let slot = self.slot(self.newest_index + step);
            if let Some(bucket) = self.buckets.get_mut(slot) {
                self.total = self.total.saturating_sub(*bucket);
                *bucket = Tally::default();
            }
        }
        self.newest_index = self.newest_index.max(now.as_ns() / self.bucket_width_ns);
    }

    fn add(&mut self, now: SimTime, requests: u64, tagged: u64) {
        self.advance(now);
        let slot = self.slot(self.newest_index);
        if let Some(bucket) = self.buckets.get_mut(slot) {
            bucket.requests = bucket.requests.saturating_add(requests);
            bucket.tagged = bucket.tagged.saturating_add(tagged);
            self.total.requests = self.total.requests.saturating_add(requests);
            self.total.tagged = self.total.tagged.saturating_add(tagged);
        }
    }

    /// The window's counts as of `now`, without moving it.
    fn total_at(&self, now: SimTime) -> Tally {
        (1..=self.expiring_steps(now))
            .filter_map(|step| self.buckets.get(self.slot(self.newest_index + step)))
            .fold(self.total, |total, bucket| total.saturating_sub(*bucket))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_MS;

    /// One event of a worked sequence, applied to the "current request" the helper tracks.
    #[derive(Clone, Copy, Debug)]
    enum Event {
        /// A new request starts: `on_request`, and it has no permit yet.
        Start,
        /// `admit_attempt`; checked against the decision when it is deterministic.
        Attempt(Option<bool>),
        /// `admit_attempt` (checked when deterministic), then, if admitted, `on_attempt_result`.
        Send(Option<bool>, AttemptOutcome),
        /// `on_attempt_result` with the current request's last permit.
        Report(AttemptOutcome),
        /// `try_retry`, which must grant iff the flag; a grant becomes the request's last permit.
        Retry(AttemptFailure, bool),
        /// The attempt fails: `Report` then `Retry`.
        Fail(AttemptFailure, bool),
        /// The active requests and retries in flight passed to `try_retry` from now on.
        Load { active_requests: u32, retries_in_flight: u32 },
        /// `level(now)` must be this (within 1e-9).
        Level(f64),
    }
    use AttemptFailure as F;
    use AttemptOutcome as O;
    use Event::*;

    /// Runs `(times, at_ms, event)` steps in order on a fresh budget, checking every decision.
    fn check(config: RetryBudgetConfig, steps: &[(u32, u64, Event)]) {
        let mut budget = RetryBudget::new(config);
        let mut stream = Stream::new(1, 2);
        let mut last_permit: Option<RetryPermit> = None;
        let (mut active_requests, mut retries_in_flight) = (0, 0);
        for (line, &(times, at_ms, event)) in steps.iter().enumerate() {
            let now = SimTime(at_ms * NS_PER_MS);
            for repetition in 0..times {
                let place = format!("{config:?}: step {line} ({event:?} at {at_ms} ms), repetition {repetition}");
                let ask = |budget: &mut RetryBudget, failure, allowed: bool, last_permit: &mut Option<RetryPermit>| {
                    let permit = budget.try_retry(now, failure, active_requests, retries_in_flight);
                    assert_eq!(permit.is_some(), allowed, "{place}: retry decision");
                    if permit.is_some() {
                        *last_permit = permit;
                    }
                };
                match event {
                    Start => {
                        budget.on_request(now);
                        last_permit = None;
                    }
                    Attempt(expected) => {
                        let admitted = budget.admit_attempt(now, &mut stream);
                        if let Some(expected) = expected {
                            assert_eq!(admitted, expected, "{place}: admission");
                        }
                    }
                    Send(expected, outcome) => {
                        let admitted = budget.admit_attempt(now, &mut stream);
                        if let Some(expected) = expected {
                            assert_eq!(admitted, expected, "{place}: admission");
                        }
                        if admitted {
                            budget.on_attempt_result(now, outcome, last_permit);
                        }
                    }
                    Report(outcome) => budget.on_attempt_result(now, outcome, last_permit),
                    Retry(failure, allowed) => ask(&mut budget, failure, allowed, &mut last_permit),
                    Fail(failure, allowed) => {
                        budget.on_attempt_result(now, failure.into(), last_permit);
                        ask(&mut budget, failure, allowed, &mut last_permit);
                    }
                    Load { active_requests: active, retries_in_flight: in_flight } => {
                        active_requests = active;
                        retries_in_flight = in_flight;
                    }
                    Level(expected) => {
                        let level = budget.level(now);
                        assert!((level - expected).abs() < 1e-9, "{place}: level {level}, expected {expected}");
                    }
                }
            }
        }
    }

    #[test]
    fn aws_standard_quota() {
        check(
            RetryBudgetConfig::aws_standard(),
            &[
                (1, 0, Level(500.0)),
                // 50 timeouts retried at 10 tokens each empty the bucket; the 51st gets no retry.
                (1, 0, Start),
                (50, 0, Fail(F::Timeout, true)),
                (1, 0, Level(0.0)),
                (1, 0, Fail(F::Timeout, false)),
                (1, 0, Fail(F::Error, false)),
                (1, 0, Fail(F::Throttled, false)),
                // The request's last retry cost 10: its success refunds 10.
                (1, 0, Report(O::Success)),
                (1, 0, Level(10.0)),
                // A request that succeeds at once refunds 1.
                (1, 0, Start),
                (1, 0, Report(O::Success)),
                (1, 0, Level(11.0)),
                // An error retry costs 5, a throttled one 5; failures refund nothing.
                (1, 0, Start),
                (1, 0, Fail(F::Error, true)),
                (1, 0, Level(6.0)),
                (1, 0, Fail(F::Throttled, true)),
                (1, 0, Level(1.0)),
                // 1 token left: neither a 5 nor a 10 fits.
                (1, 0, Fail(F::Error, false)),
                (1, 0, Fail(F::Timeout, false)),
                (1, 0, Report(O::Timeout)),
                (1, 0, Level(1.0)),
                // The request's last granted retry cost 5.
                (1, 0, Report(O::Success)),
                (1, 0, Level(6.0)),
            ],
        );
        // Refunds never lift the bucket above its capacity.
        check(
            RetryBudgetConfig::aws_standard(),
            &[
                (1, 0, Start),
                (1, 0, Fail(F::Error, true)),
                (1, 0, Level(495.0)),
                (1, 0, Report(O::Success)),
                (1, 0, Level(500.0)),
                (3, 0, Start),
                (3, 0, Report(O::Success)),
                (1, 0, Level(500.0)),
            ],
        );
    }

    #[test]
    fn aws_2026_revision_charges_less_for_throttling() {
        let revision = RetryBudgetConfig::AwsStandard {
            capacity: 500,
            retry_cost: 14,
            timeout_cost: 14,
            throttling_cost: 5,
            no_retry_increment: 1,
        };
        check(
            revision,
            &[
                (1, 0, Start),
                (1, 0, Fail(F::Error, true)),
                (1, 0, Level(486.0)),
                (1, 0, Fail(F::Throttled, true)),
                (1, 0, Level(481.0)),
            ],
        );
    }

    #[test]
    fn grpc_throttling_tokens() {
        check(
            RetryBudgetConfig::grpc_example(),
            &[
                (1, 0, Level(10.0)),
                (1, 0, Start),
                // 9, 8, 7, 6 are above max/2 = 5: retries allowed.
                (4, 0, Fail(F::Error, true)),
                // 5 is not above 5: no retry, and no hedge either.
                (1, 0, Fail(F::Timeout, false)),
                (1, 0, Level(5.0)),
                (1, 0, Retry(F::Error, false)),
                // One success: 5.1 > 5, retries allowed again.
                (1, 0, Report(O::Success)),
                (1, 0, Level(5.1)),
                (1, 0, Retry(F::Error, true)),
                // Asking does not spend tokens; failing does. Throttles count as failures.
                (1, 0, Level(5.1)),
                (1, 0, Fail(F::Throttled, false)),
                (1, 0, Level(4.1)),
                // Floor 0.
                (10, 0, Report(O::Timeout)),
                (1, 0, Level(0.0)),
                // 51 successes: 5.1 tokens, above the threshold.
                (50, 0, Report(O::Success)),
                (1, 0, Retry(F::Error, false)),
                (1, 0, Report(O::Success)),
                (1, 0, Level(5.1)),
                (1, 0, Retry(F::Error, true)),
                // Cap at max_tokens.
                (200, 0, Report(O::Success)),
                (1, 0, Level(10.0)),
            ],
        );
    }

    /// The +0.1 steps are exact in thousandths: after 10 failures and 50 successes the count is
    /// 5 exactly (not 4.999...), which is not above the threshold.
    #[test]
    fn grpc_tokens_do_not_drift() {
        check(
            RetryBudgetConfig::grpc_example(),
            &[
                (10, 0, Report(O::Error)),
                (50, 0, Report(O::Success)),
                (1, 0, Level(5.0)),
                (1, 0, Retry(F::Error, false)),
            ],
        );
    }

    #[test]
    fn finagle_percentage_small_worked_example() {
        // ratio 0.2: a request deposits 1000, a retry withdraws 5000; floor 1/s over 10 s
        // gives a reserve of 10 retries.
        let config =
            RetryBudgetConfig::Percentage { ratio: 0.2, min_retries_per_s: 1.0, window: SimDuration::from_secs(10) };
        check(
            config,
            &[
                (1, 0, Level(10.0)),
                // The reserve alone: 10 retries, then none.
                (10, 0, Retry(F::Error, true)),
                (1, 0, Retry(F::Error, false)),
                (1, 0, Level(0.0)),
                // 5 requests earn one retry; 4 are not enough for another.
                (5, 1_000, Start),
                (1, 1_000, Retry(F::Error, true)),
                (4, 1_000, Start),
                (1, 1_000, Retry(F::Timeout, false)),
                (1, 1_000, Level(0.0)),
                // Still inside the 10 s window at 9.999 s.
                (1, 9_999, Retry(F::Error, false)),
                // At 10 s the first second's withdrawals (the 10) leave the window: the reserve is
                // back, minus the retry of t = 1 s, plus the 9 deposits (1.8 retries).
                (1, 10_000, Level(10.0)),
                (10, 10_000, Retry(F::Error, true)),
                (1, 10_000, Retry(F::Error, false)),
                // At 11 s the t = 1 s deposits leave too; the 10 retries of t = 10 s remain.
                (1, 11_000, Level(0.0)),
                // At 20 s those leave as well: the reserve alone again.
                (1, 20_000, Level(10.0)),
            ],
        );
    }

    /// Every request at 100 requests/s fails once and asks for a retry: over the first 10 s
    /// window, 20% of 1000 requests plus 10/s * 10 s = 300 retries are granted, and exactly as
    /// many in every later 10 s, as old deposits and withdrawals leave the window together.
    #[test]
    fn finagle_allows_300_retries_per_window_at_100_per_s() {
        let mut budget = RetryBudget::new(RetryBudgetConfig::finagle());
        let mut granted_per_window = [0u32; 6];
        for request in 0..6_000u64 {
            let now = SimTime(request * 10 * NS_PER_MS);
            budget.on_request(now);
            budget.on_attempt_result(now, O::Error, None);
            if budget.try_retry(now, F::Error, 0, 0).is_some() {
                granted_per_window[(request / 1_000) as usize] += 1;
            }
        }
        assert_eq!(granted_per_window, [300; 6]);
    }

    #[test]
    fn finagle_zero_ratio_and_zero_floor_never_retries() {
        let config =
            RetryBudgetConfig::Percentage { ratio: 0.0, min_retries_per_s: 0.0, window: SimDuration::from_secs(10) };
        check(config, &[(100, 0, Start), (1, 0, Retry(F::Error, false))]);
        // With no ratio, only the floor: 2/s over 10 s = 20 retries, requests earn nothing.
        let config =
            RetryBudgetConfig::Percentage { ratio: 0.0, min_retries_per_s: 2.0, window: SimDuration::from_secs(10) };
        check(config, &[(100, 0, Start), (20, 0, Retry(F::Error, true)), (1, 0, Retry(F::Error, false))]);
    }

    #[test]
    fn envoy_concurrent_retry_budget() {
        check(
            RetryBudgetConfig::envoy(),
            &[
                (1, 0, Level(3.0)),
                // 10 active: 20% is 2, the floor of 3 wins.
                (1, 0, Load { active_requests: 10, retries_in_flight: 2 }),
                (1, 0, Retry(F::Error, true)),
                (1, 0, Level(3.0)),
                (1, 0, Load { active_requests: 10, retries_in_flight: 3 }),
                (1, 0, Retry(F::Timeout, false)),
                // 100 active: 20 concurrent retries.
                (1, 0, Load { active_requests: 100, retries_in_flight: 19 }),
                (1, 0, Retry(F::Error, true)),
                (1, 0, Level(20.0)),
                (1, 0, Load { active_requests: 100, retries_in_flight: 20 }),
                (1, 0, Retry(F::Error, false)),
                // 24 active: 4.8 truncates to 4.
                (1, 0, Load { active_requests: 24, retries_in_flight: 4 }),
                (1, 0, Retry(F::Throttled, false)),
                (1, 0, Level(4.0)),
                // Outcomes change nothing: the limit is on concurrency alone.
                (1, 0, Load { active_requests: 0, retries_in_flight: 0 }),
                (100, 0, Report(O::Error)),
                (1, 0, Retry(F::Error, true)),
            ],
        );
    }

    #[test]
    fn sre_adaptive_throttling_counts() {
        check(
            RetryBudgetConfig::sre(),
            &[
                (1, 0, Level(0.0)),
                // 10 accepted attempts: requests never exceed 2 x accepts, nothing is rejected.
                (10, 0, Send(Some(true), O::Success)),
                (1, 0, Level(0.0)),
                // Throttled answers are not accepts. While requests <= 2 x accepts = 20, no
                // rejection is possible.
                (10, 1_000, Send(Some(true), O::Throttled)),
                (1, 1_000, Level(0.0)),
                // Beyond that, attempts may be rejected; rejected ones count as requests too.
                (10, 2_000, Attempt(None)),
                (1, 2_000, Level(10.0 / 31.0)),
                // Timeouts are not accepts either; ordinary errors are.
                (5, 2_000, Report(O::Timeout)),
                (1, 2_000, Level(10.0 / 31.0)),
                (1, 2_000, Report(O::Error)),
                (1, 2_000, Level(8.0 / 31.0)),
                // Retries are not limited separately.
                (1, 2_000, Retry(F::Error, true)),
                // The window is 2 minutes in 1 s buckets: the t = 0 counts (10 requests, 10
                // accepts) leave at 120 s, those of t = 1 s (10, 0) at 121 s, the rest at 122 s.
                (1, 119_999, Level(8.0 / 31.0)),
                (1, 120_000, Level(18.0 / 21.0)),
                (1, 121_000, Level(8.0 / 11.0)),
                (1, 122_000, Level(0.0)),
                (1, 122_000, Attempt(Some(true))),
            ],
        );
    }

    /// With requests = 3 x accepts, the rejection frequency over many draws matches
    /// (r - 2a) / (r + 1). Each draw runs on a copy so that the counts stay fixed.
    #[test]
    fn sre_rejection_frequency_matches_the_formula() {
        let mut budget = RetryBudget::new(RetryBudgetConfig::sre());
        let mut stream = Stream::new(3, 4);
        let now = SimTime::ZERO;
        for attempt in 0..300 {
            budget.admit_attempt(now, &mut stream);
            if attempt % 3 == 0 {
                budget.on_attempt_result(now, O::Success, None);
            }
        }
        let expected = (300.0 - 2.0 * 100.0) / 301.0;
        assert!((budget.level(now) - expected).abs() < 1e-12);
        let draws = 200_000u32;
        let rejected = (0..draws).filter(|_| !budget.clone().admit_attempt(now, &mut stream)).count();
        let frequency = rejected as f64 / f64::from(draws);
        let sigma = libm::sqrt(expected * (1.0 - expected) / f64::from(draws));
        assert!((frequency - expected).abs() < 4.0 * sigma, "frequency {frequency}, expected {expected}");
    }

    /// Kinds other than adaptive throttling never reject locally and never touch the stream.
    #[test]
    fn only_adaptive_throttling_rejects_or_draws() {
        for config in [
            RetryBudgetConfig::aws_standard(),
            RetryBudgetConfig::grpc_example(),
            RetryBudgetConfig::finagle(),
            RetryBudgetConfig::envoy(),
        ] {
            let mut budget = RetryBudget::new(config);
            let mut stream = Stream::new(5, 6);
            let mut untouched = stream.clone();
            for _ in 0..1_000 {
                budget.on_attempt_result(SimTime::ZERO, O::Throttled, None);
                assert!(budget.admit_attempt(SimTime::ZERO, &mut stream), "{config:?}");
            }
            assert_eq!(stream.next_u64(), untouched.next_u64(), "{config:?}");
        }
    }

    /// The same calls give the same decisions, including the random ones.
    #[test]
    fn decisions_are_deterministic() {
        let run = || {
            let mut budget = RetryBudget::new(RetryBudgetConfig::sre());
            let mut stream = Stream::new(9, 9);
            (0..2_000u64)
                .map(|index| {
                    let now = SimTime(index * 50 * NS_PER_MS);
                    let admitted = budget.admit_attempt(now, &mut stream);
                    if admitted && index % 4 == 0 {
                        budget.on_attempt_result(now, O::Success, None);
                    }
                    admitted
                })
                .collect::<Vec<bool>>()
        };
        assert_eq!(run(), run());
    }

    /// Nonsense parameters (NaN, infinities, zero windows, extreme counts) never panic.
    #[test]
    fn degenerate_configs_do_not_panic() {
        let configs = [
            RetryBudgetConfig::GrpcThrottling { max_tokens: f64::NAN, token_ratio: -1.0 },
            RetryBudgetConfig::GrpcThrottling { max_tokens: f64::INFINITY, token_ratio: f64::INFINITY },
            RetryBudgetConfig::Percentage {
                ratio: f64::NAN,
                min_retries_per_s: f64::INFINITY,
                window: SimDuration::ZERO,
            },
            RetryBudgetConfig::Percentage { ratio: 1e-300, min_retries_per_s: 1e300, window: SimDuration(u64::MAX) },
            RetryBudgetConfig::EnvoyConcurrency { budget_percent: f64::INFINITY, min_retry_concurrency: u32::MAX },
            RetryBudgetConfig::AdaptiveThrottling { k: f64::NAN, window: SimDuration::ZERO },
            RetryBudgetConfig::AdaptiveThrottling { k: f64::INFINITY, window: SimDuration(u64::MAX) },
            RetryBudgetConfig::AwsStandard {
                capacity: u32::MAX,
                retry_cost: 0,
                timeout_cost: u32::MAX,
                throttling_cost: 1,
                no_retry_increment: u32::MAX,
            },
        ];
        let mut stream = Stream::new(1, 1);
        for config in configs {
            let mut budget = RetryBudget::new(config);
            for index in 0..200u64 {
                let now = SimTime(index.saturating_mul(u64::MAX / 100));
                budget.on_request(now);
                budget.admit_attempt(now, &mut stream);
                let permit = budget.try_retry(now, F::Timeout, u32::MAX, u32::MAX);
                budget.on_attempt_result(now, O::Success, permit);
                budget.on_attempt_result(now, O::Throttled, None);
                let _ = budget.level(now);
            }
        }
    }
}
