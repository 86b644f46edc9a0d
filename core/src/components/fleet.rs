//! One serverless function's fleet of execution environments (AWS Lambda), and the account-wide
//! concurrency pool that all functions share.
//!
//! Why it matters: a function is not a service with a fixed number of workers. Each invocation
//! needs an execution environment of its own; an idle warm one is reused at once, a new one pays
//! an init phase (a cold start) first, and new ones may only be created so fast. Three limits
//! throttle (HTTP 429) the invocations that cannot get one: the function's reserved concurrency,
//! the account's concurrency, and the scaling rate. A retry storm against a function therefore
//! behaves differently from one against a server: it turns into cold starts and throttles, and
//! one noisy function can starve every other function in the account.
//!
//! The simulator's contract, per invocation:
//!
//! ```text
//!   invocation ──acquire(now, account)──> Throttled(Reserved | Account | ScalingRate)  → 429
//!                        │
//!                        ├── Warm { env } ──────────────────────────> handler
//!                        └── Cold { env } ──> init (the simulator draws its duration) ──> handler
//!                                                                            │
//!   release(now, env, account) <── the handler finished ─────────────────────┘
//!   reap(now) at next_reap_at(): environments idle for idle_timeout are gone
//! ```
//!
//! Example:
//!
//! ```
//! use stormglass_core::components::fleet::{
//!     Acquire, AccountPool, EnvId, Fleet, FleetConfig, ScalingModel, ThrottleReason,
//! };
//! use stormglass_core::time::{SimDuration, SimTime};
//!
//! let mut account = AccountPool::new(AccountPool::LIMIT_DEFAULT);
//! let config = FleetConfig {
//!     reserved: Some(2),
//!     provisioned: 0,
//!     idle_timeout: SimDuration::from_secs(600),
//!     scaling: ScalingModel::AWS_2023,
//! };
//! let mut fleet = Fleet::new(config, SimTime::ZERO, &mut account);
//! assert_eq!(account.in_use(), 2, "reserved concurrency is carved out of the account at once");
//!
//! let t = SimTime(0);
//! assert_eq!(fleet.acquire(t, &mut account), Acquire::Cold { env: EnvId(0) });
//! assert_eq!(fleet.acquire(t, &mut account), Acquire::Cold { env: EnvId(1) });
//! assert_eq!(fleet.acquire(t, &mut account), Acquire::Throttled(ThrottleReason::Reserved));
//! // The invocation on environment 0 finishes; the next one reuses it without a cold start.
//! fleet.release(SimTime(1_000), EnvId(0), &mut account);
//! assert_eq!(fleet.acquire(SimTime(2_000), &mut account), Acquire::Warm { env: EnvId(0) });
//! assert_eq!((fleet.counters().cold_starts, fleet.counters().warm_starts), (2, 1));
//! ```
//!
//! # The model, and the readings taken
//!
//! **Concurrency is in-flight invocations.** "In Lambda, concurrency is the number of in-flight
//! requests that your function is currently handling" (configuration-concurrency). An idle warm
//! environment holds no concurrency: [`Fleet::concurrency`] counts busy environments only, and
//! both the reserved cap and the account limit are checked on *every* acquire, warm ones
//! included: a warm idle environment does not let an invocation past a full account.
//!
//! **The account pool is AWS's `ClaimedAccountConcurrency`**: the unreserved concurrent
//! executions plus the allocated concurrency, that is every function's reserved concurrency plus
//! the provisioned concurrency of functions without a reservation (monitoring-concurrency). So:
//! - A function with reserved concurrency `R` claims exactly `R` from the account when it is
//!   created ([`Fleet::new`]), busy or not, and never touches the account again: it is capped at
//!   `R` (reason [`ThrottleReason::Reserved`]) and guaranteed `R` (no other function can take
//!   it, so it is never throttled for the account). Its provisioned environments are part of `R`
//!   (AWS refuses provisioned > reserved; here provisioned is clamped to `R`).
//! - A function without reserved concurrency and with `P` provisioned environments claims
//!   `max(P, in flight)`: its `P` provisioned environments are allocated from the account up
//!   front, and an invocation beyond them takes one more unit of unreserved concurrency, granted
//!   while [`AccountPool::in_use`] < [`AccountPool::limit`] (else [`ThrottleReason::Account`]).
//!   Counting `max(P, in flight)` rather than which environment serves the invocation keeps the
//!   claim independent of which idle environment is picked.
//! - AWS also keeps at least 100 units unreserved ([`AccountPool::UNRESERVED_MIN`]) and
//!   refuses configurations that break it. That is a validation rule for the scenario; this
//!   module does not refuse anything: if reservations exceed the limit, functions without one
//!   simply get nothing.
//!
//! **The scaling rate throttles only the creation of new environments.** Both models are a
//! token bucket of "new environment" tokens, one taken per cold start; warm reuse never takes
//! one and never waits on it (scaling-behavior: the rate is "how quickly Lambda can create new
//! execution environments"). Throttle reasons are checked in the order reserved, account,
//! scaling rate, and the first that refuses is reported.
//! - [`ScalingModel::PerFunction`] (since November 2023): "each function ... 1,000 execution
//!   environment instances every 10 seconds", "Lambda makes a best attempt to refill your
//!   concurrency scaling rate continuously over time", and "doesn't accrue unused portions":
//!   a bucket of `environments_per_10s` tokens, refilled continuously at
//!   `environments_per_10s / 10 s` (100 per second for the default), never above capacity.
//!   Each function has its own bucket ("a function-level limit").
//! - [`ScalingModel::Legacy`] (before): an initial burst of 500 to 3,000 by region, "after this
//!   initial burst, functions can scale by an additional 500 instances per minute". Read as AWS
//!   staff described the mechanism on re:Post: a bucket holding `burst` tokens, refilled at
//!   `per_minute` tokens a minute; a new environment takes a token or is throttled. So the
//!   allowance *ramps* by `per_minute` a minute while demand keeps the bucket empty (continuously:
//!   250 after 30 s), and *resets* by refilling, not at once when demand drops: an empty
//!   3,000 bucket is full again after 3,000 / 500 = 6 minutes without new environments (the
//!   answer's own example). One simplification: AWS applied the burst quota per region across
//!   all functions of the account; here each function has its own bucket, which is exact for
//!   one function scaling up and generous when several scale up at once.
//!
//! Both buckets count in exact integers (`ScalingBucket`): the allowance after any gap,
//! split into any number of calls, is the same as in one call, and long gaps cannot overflow.
//!
//! **Which idle environment is reused.** Provisioned environments first (AWS routes invocations
//! to provisioned concurrency and spills over to on-demand environments only when it is fully
//! used), then the most recently released on-demand environment: reusing the freshest one lets
//! the others age out and be reaped, as a real fleet shrinks after a peak. Ties (released at the
//! same instant) go to the newest environment, the highest [`EnvId`]; ids count creations.
//!
//! **Reaping.** AWS reaps idle environments after an unspecified time; here an on-demand
//! environment idle since `t` is gone at exactly `t + idle_timeout`, never earlier.
//! [`Fleet::acquire`] reaps what is due first, so an invocation at that very instant starts cold
//! whatever order the simulator runs same-instant events in. Provisioned environments are never
//! reaped. All provisioned environments exist, initialized, from [`Fleet::new`] on (AWS
//! allocates them ahead of traffic; their allocation time is not modelled, and they take no
//! scaling tokens). An environment runs one invocation at a time, as Lambda's do. Left to the
//! simulator: the init duration and its 10 s limit. Not modelled: the 2023 rate's companion
//! limit of 10 requests per second per environment.
//!
//! **Bounds.** A new environment is only created when none is idle, so
//! [`Fleet::environments`] never exceeds `max(provisioned, peak concurrency)`: memory follows
//! the in-flight work the simulator already bounds. Acquire and release cost O(log n) in the
//! number of environments; reaping costs O(log n) per environment reaped, each reaped once.
//!
//! Sources (AWS Lambda Developer Guide unless noted):
//! - scaling-behavior, <https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html>
//!   (the 2023 rate, continuous refill, no accrual, 429 beyond the limits);
//! - burst-concurrency (the legacy page, kept at
//!   <https://docs.amazonaws.cn/en_us/lambda/latest/dg/burst-concurrency.html>: bursts of
//!   3,000 / 1,000 / 500 by region) and the Operator Guide's on-demand scaling example,
//!   <https://docs.aws.amazon.com/lambda/latest/operatorguide/on-demand-scaling.html>
//!   (+500 per minute, old environments reused), and its scaling-concurrency page,
//!   <https://docs.aws.amazon.com/lambda/latest/operatorguide/scaling-concurrency.html>
//!   (1,000 per account and region by default; 429 beyond it);
//! - "How is the Burst Capacity related to the Baseline?", AWS re:Post (accepted answer),
//!   <https://repost.aws/questions/QUtk6b7KN_QkabwGGn6PLs4w> (the legacy token bucket);
//! - configuration-concurrency,
//!   <https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html>
//!   (concurrency = in-flight requests; reserved and provisioned concurrency; 100 unreserved);
//! - monitoring-concurrency, <https://docs.aws.amazon.com/lambda/latest/dg/monitoring-concurrency.html>
//!   (`ClaimedAccountConcurrency`).

use alloc::collections::BTreeSet;

use crate::prelude::*;
use crate::time::{SimDuration, SimTime};

/// How fast a function may create new execution environments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalingModel {
    /// Since November 2023: each function may add up to `environments_per_10s` environments
    /// every 10 s, read as a bucket of that many "new environment" tokens refilled continuously
    /// at `environments_per_10s / 10 s` and never above its capacity. AWS's value is 1,000
    /// ([`ScalingModel::AWS_2023`]).
    PerFunction { environments_per_10s: u32 },
    /// Before: an immediate burst of `burst` new environments (500, 1,000 or 3,000 by region),
    /// then `per_minute` more a minute (AWS: 500). Read as a bucket of `burst` tokens refilled
    /// continuously at `per_minute` a minute: the allowance ramps by `per_minute` a minute while
    /// demand keeps it empty, and is back to the full burst after `burst / per_minute` minutes
    /// without new environments. Per function here (AWS: per region; see the module doc).
    Legacy { burst: u32, per_minute: u32 },
}

impl ScalingModel {
    /// AWS Lambda's rate since November 2023: 1,000 new environments every 10 s per function.
    pub const AWS_2023: ScalingModel = ScalingModel::PerFunction { environments_per_10s: 1_000 };

    /// AWS Lambda's rate before November 2023 for a region's `burst` (3,000 in US East (N.
    /// Virginia), US West (Oregon) and Europe (Ireland); 1,000 in Tokyo, Frankfurt and Ohio; 500
    /// elsewhere): `burst` at once, then 500 a minute.
    pub const fn legacy(burst: u32) -> ScalingModel {
        ScalingModel::Legacy { burst, per_minute: 500 }
    }
}

/// One function's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FleetConfig {
    /// Reserved concurrency: caps the function's concurrency at this value and carves it out of
    /// the account when the fleet is created (no other function can use it). `Some(0)` throttles
    /// every invocation. `None`: the function shares the account's unreserved concurrency.
    pub reserved: Option<u32>,
    /// Provisioned concurrency: environments initialized from the start, never cold and never
    /// reaped. Clamped to `reserved` when there is one (AWS refuses more).
    pub provisioned: u32,
    /// An on-demand environment is reaped once it has been idle this long (AWS does not publish
    /// the value; observed lifetimes run from minutes to hours). Zero: never reused.
    pub idle_timeout: SimDuration,
    /// How fast new environments may be created.
    pub scaling: ScalingModel,
}

/// The account-wide concurrency pool, shared by every function in a region: AWS's
/// `ClaimedAccountConcurrency` (see the module doc for what claims it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountPool {
    /// The account's concurrency limit (AWS default: 1,000 per region).
    pub limit: u32,
    /// Sum of the reserved concurrency of the functions that have one.
    reserved: u32,
    /// Sum over functions without reserved concurrency of `max(provisioned, in flight)`.
    unreserved_claimed: u32,
}

impl AccountPool {
    /// AWS's default concurrency limit per account and region.
    pub const LIMIT_DEFAULT: u32 = 1_000;
    /// Concurrency AWS keeps for functions without a reservation: reservations (and provisioned
    /// concurrency) may not bring the unreserved part below it. Not enforced here; a scenario
    /// validator can check it.
    pub const UNRESERVED_MIN: u32 = 100;

    /// An account with nothing claimed yet.
    pub fn new(limit: u32) -> Self {
        AccountPool { limit, reserved: 0, unreserved_claimed: 0 }
    }

    /// Concurrency claimed across the account: every reservation, plus the provisioned
    /// concurrency and in-flight invocations beyond it of functions without one. Can exceed
    /// [`Self::limit`] only if reservations and provisioned concurrency alone do.
    pub fn in_use(&self) -> u32 {
        self.reserved.saturating_add(self.unreserved_claimed)
    }

    /// Concurrency still available to functions without a reservation.
    pub fn available(&self) -> u32 {
        self.limit.saturating_sub(self.in_use())
    }

    /// Sum of the reserved concurrency carved out of the account.
    pub fn reserved(&self) -> u32 {
        self.reserved
    }

    /// What functions without a reservation share: the limit minus the reservations.
    pub fn unreserved_limit(&self) -> u32 {
        self.limit.saturating_sub(self.reserved)
    }

    fn has_room(&self) -> bool {
        self.in_use() < self.limit
    }
}

/// An execution environment of one fleet. Ids count creations from 0 (provisioned environments
/// first), so they also give the creation order that breaks ties.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvId(pub u64);

/// The answer to an invocation that wants an environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// An idle initialized environment: the handler runs at once.
    Warm { env: EnvId },
    /// A new environment: it counts against concurrency from now; the simulator runs its init
    /// phase, then the handler.
    Cold { env: EnvId },
    /// Refused (HTTP 429): nothing was taken.
    Throttled(ThrottleReason),
}

/// Which limit throttled an invocation (checked in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ThrottleReason {
    /// The function is at its reserved concurrency.
    Reserved,
    /// The account's concurrency is all claimed.
    Account,
    /// No idle environment, and the scaling rate allows no new one yet.
    ScalingRate,
}

/// What a fleet has done since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FleetCounters {
    /// Invocations that got a new environment (and pay its init).
    pub cold_starts: u64,
    /// Invocations that reused an idle environment (provisioned ones included).
    pub warm_starts: u64,
    /// Invocations throttled by the function's reserved concurrency.
    pub throttled_reserved: u64,
    /// Invocations throttled by the account's concurrency.
    pub throttled_account: u64,
    /// Invocations throttled by the scaling rate.
    pub throttled_scaling_rate: u64,
    /// Environments reaped after idling for `idle_timeout`.
    pub reaped: u64,
}

impl FleetCounters {
    /// All throttled invocations, whatever the reason.
    pub fn throttled(&self) -> u64 {
        self.throttled_reserved.saturating_add(self.throttled_account).saturating_add(self.throttled_scaling_rate)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Environment {
    provisioned: bool,
    /// `None` while an invocation runs in it; else when it became idle.
    idle_since: Option<SimTime>,
}

/// One function's execution environments. See the module doc for the model.
#[derive(Clone, Debug)]
pub struct Fleet {
    config: FleetConfig,
    environments: BTreeMap<EnvId, Environment>,
    /// Idle on-demand environments by (idle since, id): the first is the next to reap, the last
    /// the most recently released.
    idle_on_demand: BTreeSet<(SimTime, EnvId)>,
    /// Idle provisioned environments, in the same order (never reaped).
    idle_provisioned: BTreeSet<(SimTime, EnvId)>,
    busy_count: u32,
    env_id_next: u64,
    scaling: ScalingBucket,
    counters: FleetCounters,
}

impl Fleet {
    /// A fleet whose provisioned environments exist, initialized and idle, from `now`, with a
    /// full scaling bucket. Claims the function's reserved concurrency (or, without one, its
    /// provisioned concurrency) from `account`, which must be the pool later passed to
    /// [`Self::acquire`] and [`Self::release`].
    pub fn new(config: FleetConfig, now: SimTime, account: &mut AccountPool) -> Self {
        let mut config = config;
        match config.reserved {
            Some(reserved) => {
                config.provisioned = config.provisioned.min(reserved);
                account.reserved = account.reserved.saturating_add(reserved);
            }
            None => account.unreserved_claimed = account.unreserved_claimed.saturating_add(config.provisioned),
        }
        let mut environments = BTreeMap::new();
        let mut idle_provisioned = BTreeSet::new();
        for index in 0..u64::from(config.provisioned) {
            let env = EnvId(index);
            environments.insert(env, Environment { provisioned: true, idle_since: Some(now) });
            idle_provisioned.insert((now, env));
        }
        Fleet {
            scaling: ScalingBucket::new(config.scaling, now),
            config,
            environments,
            idle_on_demand: BTreeSet::new(),
            idle_provisioned,
            busy_count: 0,
            env_id_next: u64::from(config.provisioned),
            counters: FleetCounters::default(),
        }
    }

    /// An invocation wants an environment at `now`. First reaps what is due (so an environment
    /// idle for exactly `idle_timeout` is not reused), then: throttled if the function is at its
    /// reserved concurrency, or (without a reservation, beyond its provisioned concurrency) the
    /// account is full; else an idle environment, provisioned first, then the most recently
    /// released; else a new cold environment if the scaling rate allows; else throttled.
    pub fn acquire(&mut self, now: SimTime, account: &mut AccountPool) -> Acquire {
        self.reap(now);
        let takes_unreserved = match self.config.reserved {
            Some(reserved) if self.busy_count >= reserved => return self.throttle(ThrottleReason::Reserved),
            Some(_) => false,
            None => self.busy_count >= self.config.provisioned,
        };
        if takes_unreserved && !account.has_room() {
            return self.throttle(ThrottleReason::Account);
        }
        let reused = match self.idle_provisioned.pop_last() {
            Some(idle) => Some(idle),
            None => self.idle_on_demand.pop_last(),
        };
        let outcome = match reused {
            Some((_, env)) => {
                if let Some(environment) = self.environments.get_mut(&env) {
                    environment.idle_since = None;
                }
                self.counters.warm_starts = self.counters.warm_starts.saturating_add(1);
                Acquire::Warm { env }
            }
            None => {
                if !self.scaling.try_take(now) {
                    return self.throttle(ThrottleReason::ScalingRate);
                }
                let env = EnvId(self.env_id_next);
                self.env_id_next = self.env_id_next.saturating_add(1);
                self.environments.insert(env, Environment { provisioned: false, idle_since: None });
                self.counters.cold_starts = self.counters.cold_starts.saturating_add(1);
                Acquire::Cold { env }
            }
        };
        self.busy_count = self.busy_count.saturating_add(1);
        if takes_unreserved {
            account.unreserved_claimed = account.unreserved_claimed.saturating_add(1);
        }
        outcome
    }

    /// The invocation on `env` finished at `now`: the environment is warm and idle from `now`,
    /// and its concurrency returns to the function (and, beyond provisioned concurrency, to the
    /// account). Returns false, changing nothing, if `env` is not a busy environment of this
    /// fleet (already released, reaped, or never handed out).
    pub fn release(&mut self, now: SimTime, env: EnvId, account: &mut AccountPool) -> bool {
        let Some(environment) = self.environments.get_mut(&env) else { return false };
        if environment.idle_since.is_some() {
            return false;
        }
        environment.idle_since = Some(now);
        if environment.provisioned {
            self.idle_provisioned.insert((now, env));
        } else {
            self.idle_on_demand.insert((now, env));
        }
        if self.config.reserved.is_none() && self.busy_count > self.config.provisioned {
            account.unreserved_claimed = account.unreserved_claimed.saturating_sub(1);
        }
        self.busy_count = self.busy_count.saturating_sub(1);
        true
    }

    /// Reaps the on-demand environments idle for at least `idle_timeout` at `now` (provisioned
    /// ones never); returns how many. Call it at [`Self::next_reap_at`].
    pub fn reap(&mut self, now: SimTime) -> u32 {
        let mut reaped_count = 0u32;
        while let Some(&(idle_since, env)) = self.idle_on_demand.first() {
            if idle_since + self.config.idle_timeout > now {
                break;
            }
            self.idle_on_demand.pop_first();
            self.environments.remove(&env);
            reaped_count = reaped_count.saturating_add(1);
        }
        self.counters.reaped = self.counters.reaped.saturating_add(u64::from(reaped_count));
        reaped_count
    }

    /// When the next idle environment is due to be reaped, if any is idle.
    pub fn next_reap_at(&self) -> Option<SimTime> {
        self.idle_on_demand.first().map(|&(idle_since, _)| idle_since + self.config.idle_timeout)
    }

    /// Whether `env` is one of the provisioned environments (billed at their own price).
    pub fn is_provisioned(&self, env: EnvId) -> bool {
        self.environments.get(&env).is_some_and(|environment| environment.provisioned)
    }

    /// In-flight invocations (busy environments, initializing ones included).
    pub fn concurrency(&self) -> u32 {
        self.busy_count
    }

    /// Live environments, busy or idle (provisioned ones included).
    pub fn environments(&self) -> u32 {
        count_u32(self.environments.len())
    }

    /// Idle environments, provisioned ones included.
    pub fn idle(&self) -> u32 {
        count_u32(self.idle_on_demand.len().saturating_add(self.idle_provisioned.len()))
    }

    /// New environments the scaling rate would allow at `now` (whole ones; for charts and tests).
    pub fn scaling_allowance(&self, now: SimTime) -> u32 {
        self.scaling.available(now)
    }

    /// Counts of cold and warm starts, throttles by reason and reaped environments.
    pub fn counters(&self) -> FleetCounters {
        self.counters
    }

    /// The configuration in force (provisioned clamped to reserved).
    pub fn config(&self) -> &FleetConfig {
        &self.config
    }

    fn throttle(&mut self, reason: ThrottleReason) -> Acquire {
        let counter = match reason {
            ThrottleReason::Reserved => &mut self.counters.throttled_reserved,
            ThrottleReason::Account => &mut self.counters.throttled_account,
            ThrottleReason::ScalingRate => &mut self.counters.throttled_scaling_rate,
        };
        *counter = counter.saturating_add(1);
        Acquire::Throttled(reason)
    }
}

fn count_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// The scaling bucket in exact integers: one new environment is `window_ns` units, where the
/// model refills `per_window` environments per window (10 s or 60 s). A nanosecond then adds
/// exactly `per_window` units, so refilling never rounds: any split of a gap refills as much as
/// the gap in one step. u128 holds the largest capacity (2^32 environments x 6e10 units) and
/// the largest refill (2^64 ns x 2^32 units) without overflow; the sums saturate anyway.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ScalingBucket {
    units_per_environment: u128,
    refill_units_per_ns: u128,
    capacity_units: u128,
    units: u128,
    updated_at: SimTime,
}

impl ScalingBucket {
    /// A full bucket at `now`.
    fn new(model: ScalingModel, now: SimTime) -> Self {
        let (capacity, per_window, window) = match model {
            ScalingModel::PerFunction { environments_per_10s } => {
                (environments_per_10s, environments_per_10s, SimDuration::from_secs(10))
            }
            ScalingModel::Legacy { burst, per_minute } => (burst, per_minute, SimDuration::from_secs(60)),
        };
        let units_per_environment = u128::from(window.as_ns());
        let capacity_units = u128::from(capacity).saturating_mul(units_per_environment);
        ScalingBucket {
            units_per_environment,
            refill_units_per_ns: u128::from(per_window),
            capacity_units,
            units: capacity_units,
            updated_at: now,
        }
    }

    fn refilled_units(&self, now: SimTime) -> u128 {
        let elapsed_ns = u128::from(now.since(self.updated_at).as_ns());
        self.units.saturating_add(elapsed_ns.saturating_mul(self.refill_units_per_ns)).min(self.capacity_units)
    }

    /// Whole new environments allowed at `now`.
    fn available(&self, now: SimTime) -> u32 {
        let environments = self.refilled_units(now) / self.units_per_environment.max(1);
        u32::try_from(environments).unwrap_or(u32::MAX)
    }

    /// Takes one new environment's token if a whole one is there at `now`.
    fn try_take(&mut self, now: SimTime) -> bool {
        self.units = self.refilled_units(now);
        // Time never runs backwards here: an earlier `now` adds nothing and moves nothing.
        self.updated_at = self.updated_at.max(now);
        if self.units >= self.units_per_environment {
            self.units -= self.units_per_environment;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{NS_PER_MS, NS_PER_S};

    fn at_secs(seconds: u64) -> SimTime {
        SimTime(seconds * NS_PER_S)
    }

    /// What a step does.
    #[derive(Clone, Copy, Debug)]
    enum Action {
        Acquire,
        Release(u64),
        Reap,
    }

    /// What a step must answer. `times(n)` repeats a step: `Cold(id)` then expects ids
    /// `id..id + n` and `Release(id)` releases them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Expect {
        Warm(u64),
        Cold(u64),
        Throttled(ThrottleReason),
        Released(bool),
        Reaped(u32),
    }

    /// One step of a worked sequence, on fleet `fleet`, at `at_ns`, with optional checks of the
    /// state after it: (concurrency, environments, idle), the account's `in_use`, `next_reap_at`.
    #[derive(Clone, Copy, Debug)]
    struct Step {
        at_ns: u64,
        fleet: usize,
        action: Action,
        expect: Expect,
        times: u32,
        state: Option<(u32, u32, u32)>,
        account_in_use: Option<u32>,
        next_reap_at_ms: Option<Option<u64>>,
    }

    const fn step(at_ms: u64, action: Action, expect: Expect) -> Step {
        Step {
            at_ns: at_ms * NS_PER_MS,
            fleet: 0,
            action,
            expect,
            times: 1,
            state: None,
            account_in_use: None,
            next_reap_at_ms: None,
        }
    }
    const fn warm(at_ms: u64, env: u64) -> Step {
        step(at_ms, Action::Acquire, Expect::Warm(env))
    }
    const fn cold(at_ms: u64, env: u64) -> Step {
        step(at_ms, Action::Acquire, Expect::Cold(env))
    }
    const fn throttled(at_ms: u64, reason: ThrottleReason) -> Step {
        step(at_ms, Action::Acquire, Expect::Throttled(reason))
    }
    const fn release(at_ms: u64, env: u64) -> Step {
        step(at_ms, Action::Release(env), Expect::Released(true))
    }
    const fn release_ignored(at_ms: u64, env: u64) -> Step {
        step(at_ms, Action::Release(env), Expect::Released(false))
    }
    const fn reap(at_ms: u64, reaped_count: u32) -> Step {
        step(at_ms, Action::Reap, Expect::Reaped(reaped_count))
    }

    impl Step {
        const fn on(self, fleet: usize) -> Step {
            Step { fleet, ..self }
        }
        const fn times(self, times: u32) -> Step {
            Step { times, ..self }
        }
        const fn at_ns(self, at_ns: u64) -> Step {
            Step { at_ns, ..self }
        }
        /// Expected (concurrency, environments, idle) of the step's fleet after it.
        const fn state(self, concurrency: u32, environments: u32, idle: u32) -> Step {
            Step { state: Some((concurrency, environments, idle)), ..self }
        }
        const fn account(self, in_use: u32) -> Step {
            Step { account_in_use: Some(in_use), ..self }
        }
        const fn next_reap_ms(self, at_ms: Option<u64>) -> Step {
            Step { next_reap_at_ms: Some(at_ms), ..self }
        }
    }

    /// Runs `steps` against fleets created at time zero from `configs`, sharing one account of
    /// `account_limit`, asserting every answer and state check; returns them for further checks.
    fn check(configs: &[FleetConfig], account_limit: u32, steps: &[Step]) -> (Vec<Fleet>, AccountPool) {
        let mut account = AccountPool::new(account_limit);
        let mut fleets: Vec<Fleet> =
            configs.iter().map(|config| Fleet::new(*config, SimTime::ZERO, &mut account)).collect();
        for (index, step) in steps.iter().enumerate() {
            let now = SimTime(step.at_ns);
            let fleet = &mut fleets[step.fleet];
            for repeat in 0..u64::from(step.times) {
                let answer = match step.action {
                    Action::Acquire => match fleet.acquire(now, &mut account) {
                        Acquire::Warm { env } => Expect::Warm(env.0),
                        Acquire::Cold { env } => Expect::Cold(env.0.wrapping_sub(repeat)),
                        Acquire::Throttled(reason) => Expect::Throttled(reason),
                    },
                    Action::Release(env) => Expect::Released(fleet.release(now, EnvId(env + repeat), &mut account)),
                    Action::Reap => Expect::Reaped(fleet.reap(now)),
                };
                assert_eq!(answer, step.expect, "step {index} (repeat {repeat}): {step:?}; fleet {fleet:?}");
            }
            if let Some(state) = step.state {
                let actual = (fleet.concurrency(), fleet.environments(), fleet.idle());
                assert_eq!(actual, state, "step {index}: (concurrency, environments, idle)");
            }
            if let Some(in_use) = step.account_in_use {
                assert_eq!(account.in_use(), in_use, "step {index}: account in use");
            }
            if let Some(next) = step.next_reap_at_ms {
                assert_eq!(fleet.next_reap_at(), next.map(|ms| SimTime(ms * NS_PER_MS)), "step {index}: next reap");
            }
            assert_invariants(&fleets, &account);
        }
        (fleets, account)
    }

    /// What must hold after every call: the idle sets and the busy count partition the
    /// environments, and the account's claim is what the fleets' configurations and
    /// concurrency say it is.
    fn assert_invariants(fleets: &[Fleet], account: &AccountPool) {
        let mut reserved = 0u32;
        let mut unreserved_claimed = 0u32;
        for fleet in fleets {
            let busy = fleet.environments.values().filter(|environment| environment.idle_since.is_none()).count();
            assert_eq!(count_u32(busy), fleet.concurrency());
            assert_eq!(fleet.concurrency() + fleet.idle(), fleet.environments());
            for &(idle_since, env) in fleet.idle_on_demand.iter().chain(fleet.idle_provisioned.iter()) {
                assert_eq!(
                    fleet.environments.get(&env).and_then(|environment| environment.idle_since),
                    Some(idle_since)
                );
            }
            assert_eq!(
                count_u32(fleet.environments.values().filter(|environment| environment.provisioned).count()),
                fleet.config.provisioned,
                "provisioned environments are never reaped"
            );
            match fleet.config.reserved {
                Some(limit) => {
                    reserved += limit;
                    assert!(fleet.concurrency() <= limit);
                }
                None => unreserved_claimed += fleet.config.provisioned.max(fleet.concurrency()),
            }
        }
        assert_eq!((account.reserved, account.unreserved_claimed), (reserved, unreserved_claimed));
    }

    const MINUTE_MS: u64 = 60_000;

    /// On demand only, no reservation, ten-minute idle timeout, the 2023 scaling rate.
    const ON_DEMAND: FleetConfig = FleetConfig {
        reserved: None,
        provisioned: 0,
        idle_timeout: SimDuration::from_secs(600),
        scaling: ScalingModel::AWS_2023,
    };

    #[test]
    fn warm_reuse_after_release_and_cold_only_for_new_environments() {
        let (fleets, _) = check(
            &[ON_DEMAND],
            1_000,
            &[
                cold(0, 0).state(1, 1, 0).account(1),
                release(100, 0).state(0, 1, 1).account(0),
                warm(200, 0).state(1, 1, 0), // reused: no cold start
                cold(200, 1).state(2, 2, 0), // a second concurrent invocation needs a new one
                release(300, 0),
                release(400, 1).state(0, 2, 2),
                warm(500, 1), // the most recently released first
                warm(500, 0),
                cold(500, 2).state(3, 3, 0).account(3),
                release_ignored(600, 7), // never handed out
                release(600, 2),
                release_ignored(600, 2), // already idle
            ],
        );
        let counters = fleets[0].counters();
        assert_eq!((counters.cold_starts, counters.warm_starts, counters.throttled()), (3, 3, 0));
    }

    #[test]
    fn reserved_concurrency_caps_and_is_carved_out_at_once() {
        use ThrottleReason::Reserved;
        let reserved_two = FleetConfig { reserved: Some(2), ..ON_DEMAND };
        let (fleets, _) = check(
            &[reserved_two],
            1_000,
            &[
                reap(0, 0).account(2), // claimed before any invocation
                cold(0, 0),
                cold(0, 1).state(2, 2, 0),
                throttled(0, Reserved).state(2, 2, 0).account(2),
                release(10, 0),
                warm(20, 0),
                throttled(20, Reserved).times(5).account(2),
            ],
        );
        assert_eq!(fleets[0].counters().throttled_reserved, 6);
        // Reserved 0 switches a function off; provisioned is clamped to the reservation.
        let off = FleetConfig { reserved: Some(0), provisioned: 3, ..ON_DEMAND };
        let (fleets, account) = check(&[off], 1_000, &[throttled(0, Reserved).state(0, 0, 0).account(0)]);
        assert_eq!((fleets[0].config().provisioned, account.available()), (0, 1_000));
    }

    #[test]
    fn account_limit_is_shared_by_two_fleets() {
        use ThrottleReason::Account;
        check(
            &[ON_DEMAND, ON_DEMAND],
            3,
            &[
                cold(0, 0).on(0),
                cold(0, 1).on(0),
                cold(0, 0).on(1).account(3),
                throttled(0, Account).on(1),
                throttled(0, Account).on(0),
                release(10, 1).on(0).account(2),
                cold(20, 1).on(1).account(3), // fleet 1 takes the freed unit
                // Fleet 0 has an idle environment, but idle environments do not bypass the account.
                throttled(20, Account).on(0).state(1, 2, 1),
                release(30, 0).on(1),
                warm(40, 1).on(0).account(3),
            ],
        );
    }

    #[test]
    fn reservation_is_guaranteed_and_shrinks_what_others_share() {
        use ThrottleReason::{Account, Reserved};
        let reserved_two = FleetConfig { reserved: Some(2), ..ON_DEMAND };
        let (_, account) = check(
            &[reserved_two, ON_DEMAND],
            4,
            &[
                cold(0, 0).on(1).account(3),
                cold(0, 1).on(1).account(4),
                throttled(0, Account).on(1),
                cold(0, 0).on(0).account(4), // the reservation is there although the account is full
                cold(0, 1).on(0),
                throttled(0, Reserved).on(0),
            ],
        );
        assert_eq!((account.reserved(), account.unreserved_limit(), account.available()), (2, 2, 0));
        // Reservations over the limit leave nothing to the others, and nothing panics.
        let greedy = FleetConfig { reserved: Some(5), ..ON_DEMAND };
        check(&[greedy, ON_DEMAND], 4, &[throttled(0, Account).on(1).account(5), cold(0, 0).on(0)]);
    }

    #[test]
    fn scaling_2023_thousand_at_once_then_hundred_per_second() {
        use ThrottleReason::ScalingRate;
        let (fleets, _) = check(
            &[ON_DEMAND],
            100_000,
            &[
                cold(0, 0).times(1_000).state(1_000, 1_000, 0),
                throttled(0, ScalingRate).state(1_000, 1_000, 0),
                cold(1_000, 1_000).times(100), // 1 s at 100/s
                throttled(1_000, ScalingRate),
                // Warm reuse never waits on the scaling rate.
                release(1_000, 0),
                warm(1_000, 0),
                throttled(1_009, ScalingRate), // 9 ms: 0.9 environment
                cold(1_010, 1_100),            // 10 ms: one
                cold(11_010, 1_101).times(1_000),
                throttled(11_010, ScalingRate),
                cold(100_000, 2_101).times(1_000), // a long gap refills to 1,000, never more
                throttled(100_000, ScalingRate).state(2_101 + 1_000, 2_101 + 1_000, 0),
            ],
        );
        assert_eq!(fleets[0].counters().throttled_scaling_rate, 5);
    }

    #[test]
    fn scaling_legacy_burst_then_five_hundred_per_minute() {
        use ThrottleReason::ScalingRate;
        let legacy = FleetConfig { scaling: ScalingModel::legacy(3_000), ..ON_DEMAND };
        let (fleets, _) = check(
            &[legacy],
            100_000,
            &[
                cold(0, 0).times(3_000),
                throttled(0, ScalingRate),
                cold(30_000, 3_000).times(250), // the ramp is continuous: 250 after 30 s
                throttled(30_000, ScalingRate),
                cold(MINUTE_MS - 1, 3_250).times(249), // 499.99... after 60 s - 1 ms
                throttled(MINUTE_MS - 1, ScalingRate),
                cold(MINUTE_MS, 3_499), // 500 after a minute
                throttled(MINUTE_MS, ScalingRate),
                cold(2 * MINUTE_MS, 3_500).times(500), // another 500 in the second minute
                throttled(2 * MINUTE_MS, ScalingRate).state(4_000, 4_000, 0),
            ],
        );
        // The allowance resets by refilling: empty at 2 min, full 6 minutes later, capped there.
        let fleet = &fleets[0];
        assert_eq!(fleet.scaling_allowance(SimTime((2 * MINUTE_MS + 3 * MINUTE_MS) * NS_PER_MS)), 1_500);
        assert_eq!(fleet.scaling_allowance(SimTime((8 * MINUTE_MS - 1) * NS_PER_MS)), 2_999);
        assert_eq!(fleet.scaling_allowance(SimTime(8 * MINUTE_MS * NS_PER_MS)), 3_000);
        assert_eq!(fleet.scaling_allowance(at_secs(1_000_000)), 3_000);
    }

    #[test]
    fn provisioned_environments_are_warm_from_the_start_and_never_reaped() {
        let provisioned_two = FleetConfig { provisioned: 2, idle_timeout: SimDuration::from_secs(1), ..ON_DEMAND };
        let (fleets, _) = check(
            &[provisioned_two],
            1_000,
            &[
                reap(0, 0).state(0, 2, 2).account(2).next_reap_ms(None),
                warm(0, 1).account(2), // within the provisioned allocation: no extra claim
                warm(0, 0).account(2),
                cold(0, 2).state(3, 3, 0).account(3), // beyond it: on demand
                release(10, 0).account(2),            // claim = max(provisioned 2, in flight 2)
                release(20, 1).account(2),
                release(30, 2).account(2).state(0, 3, 3).next_reap_ms(Some(1_030)),
                // Provisioned first, though the on-demand one was released last.
                warm(40, 1).next_reap_ms(Some(1_030)),
                release(50, 1),
                reap(1_029, 0),
                reap(1_030, 1).state(0, 2, 2).next_reap_ms(None),
                reap(10_000_000, 0).state(0, 2, 2),
                warm(10_000_000, 1),
            ],
        );
        let counters = fleets[0].counters();
        assert_eq!((counters.cold_starts, counters.warm_starts, counters.reaped), (1, 4, 1));
    }

    #[test]
    fn reaping_at_exactly_idle_timeout_with_most_recently_used_reuse() {
        // A 60 s idle timeout; three environments released at 1 s, 2 s and 3 s.
        let (fleets, _) = check(
            &[FleetConfig { idle_timeout: SimDuration::from_secs(60), ..ON_DEMAND }],
            1_000,
            &[
                cold(0, 0).times(3).next_reap_ms(None),
                release(1_000, 0).next_reap_ms(Some(61_000)),
                release(2_000, 1),
                release(3_000, 2).state(0, 3, 3).next_reap_ms(Some(61_000)),
                warm(4_000, 2), // the freshest: the older ones keep ageing
                release(5_000, 2).next_reap_ms(Some(61_000)),
                reap(61_000, 0).at_ns(61_000 * NS_PER_MS - 1).state(0, 3, 3), // 1 ns early
                reap(61_000, 1).state(0, 2, 2).next_reap_ms(Some(62_000)),
                reap(62_000, 1).state(0, 1, 1).next_reap_ms(Some(65_000)),
                // An invocation at exactly 65 s finds environment 2 gone: a cold start, whatever
                // order the simulator runs same-instant events in.
                cold(65_000, 3).state(1, 1, 0).next_reap_ms(None),
                reap(65_000, 0),
                release(70_000, 3).next_reap_ms(Some(130_000)),
            ],
        );
        assert_eq!(fleets[0].counters().reaped, 3);
    }

    #[test]
    fn same_instant_ties_go_to_the_newest_environment() {
        check(
            &[ON_DEMAND],
            1_000,
            &[
                cold(0, 0).times(3),
                release(5, 0).times(3).state(0, 3, 3),
                warm(6, 2),
                warm(6, 1),
                warm(6, 0),
                cold(6, 3),
            ],
        );
    }

    #[test]
    fn zero_idle_timeout_never_reuses_and_zero_rate_never_scales() {
        let no_reuse = FleetConfig { idle_timeout: SimDuration::ZERO, ..ON_DEMAND };
        check(&[no_reuse], 1_000, &[cold(0, 0), release(0, 0).next_reap_ms(Some(0)), cold(0, 1).state(1, 1, 0)]);
        let frozen =
            FleetConfig { provisioned: 1, scaling: ScalingModel::PerFunction { environments_per_10s: 0 }, ..ON_DEMAND };
        check(&[frozen], 1_000, &[warm(0, 0), throttled(10, ThrottleReason::ScalingRate), release(20, 0), warm(30, 0)]);
        let one_burst = FleetConfig { scaling: ScalingModel::Legacy { burst: 1, per_minute: 0 }, ..ON_DEMAND };
        check(&[one_burst], 1_000, &[cold(0, 0), throttled(1_000_000_000, ThrottleReason::ScalingRate)]);
    }

    /// The bucket is exact integers: token boundaries fall on the nanosecond, any split of a gap
    /// refills exactly as much as the gap at once, and extreme times neither overflow nor panic.
    #[test]
    fn scaling_arithmetic_is_exact_over_long_gaps_and_any_split() {
        // 2023 rate: one environment per 10 ms exactly.
        let mut bucket = ScalingBucket::new(ScalingModel::AWS_2023, SimTime::ZERO);
        for _ in 0..1_000 {
            assert!(bucket.try_take(SimTime::ZERO));
        }
        assert!(!bucket.try_take(SimTime(10 * NS_PER_MS - 1)));
        assert!(bucket.try_take(SimTime(10 * NS_PER_MS)));
        assert_eq!(bucket.available(SimTime(10 * NS_PER_MS)), 0);

        // Legacy 500/min: one environment per 120 ms exactly.
        let mut legacy = ScalingBucket::new(ScalingModel::legacy(500), SimTime::ZERO);
        while legacy.try_take(SimTime::ZERO) {}
        assert_eq!(legacy.available(SimTime(120 * NS_PER_MS - 1)), 0);
        assert_eq!(legacy.available(SimTime(120 * NS_PER_MS)), 1);

        // Many small steps (odd lengths, never a whole token each) equal one big one.
        let mut stepped = ScalingBucket::new(ScalingModel::PerFunction { environments_per_10s: 7 }, SimTime::ZERO);
        while stepped.try_take(SimTime::ZERO) {}
        let mut at_once = stepped.clone();
        let mut now = SimTime::ZERO;
        let mut taken_stepped = 0u32;
        for step in 0..100_000u64 {
            now += SimDuration(77_777 + step % 13);
            if stepped.try_take(now) {
                taken_stepped += 1;
            }
        }
        let elapsed_ns = u128::from(now.as_ns());
        let expected_total = (elapsed_ns * 7 / u128::from(10 * NS_PER_S)) as u32;
        let mut taken_at_once = 0u32;
        while at_once.try_take(now) {
            taken_at_once += 1;
        }
        assert!(expected_total > 0 && expected_total <= 7, "the gap stays under the bucket's capacity");
        assert_eq!(taken_at_once, expected_total);
        assert_eq!(taken_stepped + stepped.available(now), expected_total, "no rounding lost or gained");

        // Long and extreme gaps: capped, no overflow; an earlier time adds nothing.
        let mut huge =
            ScalingBucket::new(ScalingModel::Legacy { burst: u32::MAX, per_minute: u32::MAX }, SimTime::ZERO);
        assert_eq!(huge.available(SimTime::MAX), u32::MAX);
        assert!(huge.try_take(SimTime::MAX));
        assert_eq!(huge.available(SimTime::ZERO), u32::MAX - 1);
        assert!(huge.try_take(SimTime::ZERO));
        assert_eq!(huge.updated_at, SimTime::MAX);
    }

    /// A long deterministic mix of acquires (two in three calls, so demand presses on every
    /// limit), releases and reaps on three fleets sharing one account: no panic, the invariants
    /// after every call, a fleet never larger than its peak concurrency (or its provisioned
    /// environments), every outcome seen, and two runs alike call for call.
    #[test]
    fn random_mix_keeps_invariants_and_is_deterministic() {
        fn run() -> (Vec<(Acquire, u32, u32, u32)>, FleetCounters) {
            let configs = [
                FleetConfig {
                    reserved: Some(40),
                    provisioned: 5,
                    idle_timeout: SimDuration::from_secs(2),
                    ..ON_DEMAND
                },
                FleetConfig {
                    provisioned: 3,
                    idle_timeout: SimDuration::from_ms(500),
                    scaling: ScalingModel::Legacy { burst: 4, per_minute: 60 },
                    ..ON_DEMAND
                },
                FleetConfig {
                    idle_timeout: SimDuration::from_secs(1),
                    scaling: ScalingModel::PerFunction { environments_per_10s: 10 },
                    ..ON_DEMAND
                },
            ];
            let mut account = AccountPool::new(80);
            let mut fleets: Vec<Fleet> = configs.iter().map(|c| Fleet::new(*c, SimTime::ZERO, &mut account)).collect();
            let mut busy: Vec<Vec<EnvId>> = vec![Vec::new(); 3];
            let mut peak = [0u32; 3];
            let mut trace = Vec::new();
            let mut state = 0x9E37_79B9_7F4A_7C15u64;
            let mut now = SimTime::ZERO;
            for _ in 0..20_000 {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let draw = state >> 33;
                now += SimDuration((draw % 7) * NS_PER_MS);
                let index = (draw / 7 % 3) as usize;
                let fleet = &mut fleets[index];
                if draw / 21 % 3 != 0 || busy[index].is_empty() {
                    let answer = fleet.acquire(now, &mut account);
                    if let Acquire::Warm { env } | Acquire::Cold { env } = answer {
                        busy[index].push(env);
                    }
                    peak[index] = peak[index].max(fleet.concurrency());
                    trace.push((answer, fleet.concurrency(), fleet.environments(), account.in_use()));
                } else {
                    let position = (draw / 42) as usize % busy[index].len();
                    let env = busy[index].swap_remove(position);
                    assert!(fleet.release(now, env, &mut account));
                }
                if draw % 5 == 0 {
                    fleet.reap(now);
                }
                assert!(fleet.environments() <= peak[index].max(fleet.config().provisioned));
                assert_invariants(&fleets, &account);
            }
            let mut total = FleetCounters::default();
            for counters in fleets.iter().map(Fleet::counters) {
                total.cold_starts += counters.cold_starts;
                total.warm_starts += counters.warm_starts;
                total.reaped += counters.reaped;
            }
            (trace, total)
        }
        let (first, total) = run();
        assert_eq!((first.clone(), total), run());
        assert!(total.cold_starts > 0 && total.warm_starts > 0 && total.reaped > 0, "{total:?}");
        for reason in [ThrottleReason::Reserved, ThrottleReason::Account, ThrottleReason::ScalingRate] {
            assert!(first.iter().any(|(answer, ..)| *answer == Acquire::Throttled(reason)), "{reason:?} never seen");
        }
    }
}
