//! The model of an LLM deployment that scales to zero ([`ModelLoader`]): scaled to zero, loading
//! or loaded; a cold load on demand, an unload after idling.
//!
//! **Why it matters.** A deployment scaled to zero pays a model load of tens of seconds before its
//! first answer, and every request that arrives during the load waits for the same instant, its
//! end; after the next quiet spell longer than the idle timeout the whole cost comes back.
//!
//! **The model.** A deployment is scaled to zero, loading, or loaded. A request that finds it
//! scaled to zero starts a load of `load_time`; it and every request that arrives during the load
//! are ready at the same instant, the load's end. The loader counts its own in-flight requests
//! (from [`ModelLoader::on_request`] to [`ModelLoader::on_finish`]): when none is in flight the
//! deployment is idle, and after `scale_to_zero_after` of idleness it is scaled to zero *at* that
//! instant (half-open, like the cache): a request arriving at exactly the unload instant finds it
//! scaled to zero and pays a new load. Every call first applies what is due, so the result does not
//! depend on the order in which the simulator runs same-instant events;
//! [`ModelLoader::next_unload_at`] tells when to call [`ModelLoader::advance`] so charts show the
//! unload when it happens. Rate-limited requests never reach the loader: a 429 does not wake a
//! model.
//!
//! The figures of [`ModelLoaderConfig::SERVERLESS_RULE_OF_THUMB`] (a 60 s load, scaled to zero
//! after 15 minutes idle) are typical orders of magnitude, not any vendor's numbers.
//!
//! Source: no vendor publishes these figures; the cycle (load on the first request, scale to zero
//! after an idle timeout) is the serverless pattern that [`crate::components::fleet`] follows for
//! AWS Lambda's cold starts.

use crate::time::{SimDuration, SimTime};

/// How a deployment loads and unloads its model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModelLoaderConfig {
    /// Time from a request finding the deployment scaled to zero until it can serve.
    pub load_time: SimDuration,
    /// Idle time (no request in flight) after which the deployment scales to zero; `None`:
    /// never (an always-on deployment, or a hosted API).
    pub scale_to_zero_after: Option<SimDuration>,
    /// Whether the deployment is loaded at the start (and idle from then) or scaled to zero.
    pub starts_loaded: bool,
}

impl ModelLoaderConfig {
    /// Loaded from the start and never unloaded: a hosted API or an always-on deployment.
    pub const ALWAYS_LOADED: ModelLoaderConfig =
        ModelLoaderConfig { load_time: SimDuration::ZERO, scale_to_zero_after: None, starts_loaded: true };

    /// A rule of thumb for a serverless deployment (orders of magnitude, not a vendor's
    /// numbers): starts scaled to zero, loads in 60 s, scales to zero after 15 minutes idle.
    pub const SERVERLESS_RULE_OF_THUMB: ModelLoaderConfig = ModelLoaderConfig {
        load_time: SimDuration::from_secs(60),
        scale_to_zero_after: Some(SimDuration::from_secs(15 * 60)),
        starts_loaded: false,
    };
}

impl Default for ModelLoaderConfig {
    fn default() -> Self {
        ModelLoaderConfig::ALWAYS_LOADED
    }
}

/// Where a deployment is in its load cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelState {
    /// No model in memory: the next request starts a load.
    ScaledToZero,
    /// A load is under way.
    Loading {
        /// When the load ends and the deployment can serve.
        ready_at: SimTime,
    },
    /// Serving.
    Loaded,
}

/// What a model loader has done since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoaderCounters {
    /// Loads started (cold starts of the deployment).
    pub loads: u64,
    /// Times the deployment scaled to zero after idling.
    pub unloads: u64,
    /// Requests that had to wait for a load (the one that started it included).
    pub requests_waited_for_load: u64,
}

/// A deployment's model: loads on demand, scales to zero when idle. See the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelLoader {
    config: ModelLoaderConfig,
    state: ModelState,
    /// Requests between `on_request` and `on_finish`.
    in_flight: u64,
    /// Since when a loaded deployment has had nothing in flight; `None` while busy or not loaded.
    idle_since: Option<SimTime>,
    /// The latest time seen: time never runs backwards here.
    latest: SimTime,
    counters: LoaderCounters,
}

impl ModelLoader {
    /// A deployment at `now`, loaded and idle from `now` or scaled to zero, as configured.
    pub fn new(config: ModelLoaderConfig, now: SimTime) -> Self {
        let (state, idle_since) =
            if config.starts_loaded { (ModelState::Loaded, Some(now)) } else { (ModelState::ScaledToZero, None) };
        let mut loader =
            ModelLoader { config, state, in_flight: 0, idle_since, latest: now, counters: LoaderCounters::default() };
        // A zero idle timeout scales a loaded start down at once.
        loader.advance(now);
        loader
    }

    /// A request reaches the deployment at `now`: returns when it can be served. `now` if the
    /// model is loaded; the end of the load under way if loading; if scaled to zero, starts a
    /// load and returns its end (`now` too for a zero `load_time`). The request is in flight
    /// until [`Self::on_finish`], which the simulator must call exactly once for it, whatever
    /// its outcome.
    pub fn on_request(&mut self, now: SimTime) -> SimTime {
        self.advance(now);
        let now = self.latest;
        self.in_flight = self.in_flight.saturating_add(1);
        self.idle_since = None;
        match self.state {
            ModelState::Loaded => now,
            ModelState::Loading { ready_at } => {
                self.counters.requests_waited_for_load = self.counters.requests_waited_for_load.saturating_add(1);
                ready_at
            }
            ModelState::ScaledToZero => {
                self.counters.loads = self.counters.loads.saturating_add(1);
                let ready_at = now + self.config.load_time;
                if ready_at > now {
                    self.counters.requests_waited_for_load = self.counters.requests_waited_for_load.saturating_add(1);
                    self.state = ModelState::Loading { ready_at };
                } else {
                    self.state = ModelState::Loaded;
                }
                ready_at
            }
        }
    }

    /// A request that [`Self::on_request`] let in is done at `now` (answered, failed, or dropped
    /// while waiting). When none is left in flight the deployment is idle from `now` (from the
    /// load's end if it is still loading).
    pub fn on_finish(&mut self, now: SimTime) {
        self.advance(now);
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.in_flight == 0 && self.state == ModelState::Loaded {
            self.idle_since = Some(self.latest);
            // A zero idle timeout unloads at once.
            self.advance(self.latest);
        }
    }

    /// Applies what is due at or before `now`: a load that has ended, then an unload after
    /// `scale_to_zero_after` of idleness (at that instant exactly). Every other call does this
    /// first; call it at [`Self::next_unload_at`] to see the unload when it happens.
    pub fn advance(&mut self, now: SimTime) {
        self.latest = self.latest.max(now);
        let now = self.latest;
        if let ModelState::Loading { ready_at } = self.state {
            if now >= ready_at {
                self.state = ModelState::Loaded;
                self.idle_since = if self.in_flight == 0 { Some(ready_at) } else { None };
            }
        }
        if let (ModelState::Loaded, Some(unload_at)) = (self.state, self.next_unload_at()) {
            if now >= unload_at {
                self.state = ModelState::ScaledToZero;
                self.idle_since = None;
                self.counters.unloads = self.counters.unloads.saturating_add(1);
            }
        }
    }

    /// When the deployment will scale to zero if no request comes: set while it is idle (or
    /// loading with nothing left in flight) and configured to scale to zero.
    pub fn next_unload_at(&self) -> Option<SimTime> {
        let after = self.config.scale_to_zero_after?;
        let idle_since = match self.state {
            ModelState::Loaded => self.idle_since?,
            ModelState::Loading { ready_at } if self.in_flight == 0 => ready_at,
            _ => return None,
        };
        Some(idle_since + after)
    }

    /// The state as of the latest call.
    pub fn state(&self) -> ModelState {
        self.state
    }

    /// Requests in flight (let in by [`Self::on_request`], not yet finished).
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }

    /// Loads, unloads and requests that waited for a load, so far.
    pub fn counters(&self) -> LoaderCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::llm::test_support::{at_secs, traffic, SERVERLESS};
    use crate::prelude::*;
    use crate::time::{NS_PER_MS, NS_PER_S};

    /// Scaled to zero: the first request starts a 60 s load; one arriving during the load is
    /// ready at the same instant; idle from the last finish, unloaded 15 minutes later.
    #[test]
    fn cold_load_makes_every_request_during_it_wait_for_the_same_instant() {
        let mut loader = ModelLoader::new(SERVERLESS, SimTime::ZERO);
        assert_eq!((loader.state(), loader.next_unload_at()), (ModelState::ScaledToZero, None));
        assert_eq!(loader.on_request(at_secs(10)), at_secs(70));
        assert_eq!(loader.on_request(at_secs(40)), at_secs(70));
        assert_eq!(loader.state(), ModelState::Loading { ready_at: at_secs(70) });
        loader.advance(SimTime(70 * NS_PER_S - 1));
        assert_eq!(loader.state(), ModelState::Loading { ready_at: at_secs(70) });
        loader.advance(at_secs(70));
        assert_eq!(loader.state(), ModelState::Loaded);
        assert_eq!(loader.on_request(at_secs(75)), at_secs(75), "loaded: served at once");
        loader.on_finish(at_secs(80));
        loader.on_finish(at_secs(90));
        assert_eq!((loader.in_flight(), loader.next_unload_at()), (1, None), "busy: no unload scheduled");
        loader.on_finish(at_secs(100));
        assert_eq!(loader.next_unload_at(), Some(at_secs(100 + 900)));
        loader.advance(SimTime(1_000 * NS_PER_S - 1));
        assert_eq!(loader.state(), ModelState::Loaded);
        loader.advance(at_secs(1_000));
        assert_eq!((loader.state(), loader.next_unload_at()), (ModelState::ScaledToZero, None));
        assert_eq!(loader.counters(), LoaderCounters { loads: 1, unloads: 1, requests_waited_for_load: 2 });
    }

    /// A request at exactly the unload instant finds the model gone and pays a new load,
    /// whether or not the simulator ran the unload first; one nanosecond earlier it is served.
    #[test]
    fn a_request_at_exactly_the_unload_instant_pays_a_new_load() {
        let loaded = ModelLoaderConfig { starts_loaded: true, ..SERVERLESS };
        let mut early = ModelLoader::new(loaded, SimTime::ZERO);
        assert_eq!(early.next_unload_at(), Some(at_secs(900)));
        assert_eq!(early.on_request(SimTime(900 * NS_PER_S - 1)), SimTime(900 * NS_PER_S - 1));
        assert_eq!(early.counters().loads, 0);

        let mut lazy = ModelLoader::new(loaded, SimTime::ZERO);
        let mut advanced = lazy.clone();
        advanced.advance(at_secs(900));
        assert_eq!(advanced.state(), ModelState::ScaledToZero);
        for loader in [&mut lazy, &mut advanced] {
            assert_eq!(loader.on_request(at_secs(900)), at_secs(960));
            assert_eq!(loader.counters(), LoaderCounters { loads: 1, unloads: 1, requests_waited_for_load: 1 });
        }
        assert_eq!(lazy, advanced);
    }

    #[test]
    fn loader_edge_cases() {
        // Never scales to zero.
        let mut always = ModelLoader::new(ModelLoaderConfig::default(), SimTime::ZERO);
        assert_eq!(always.on_request(at_secs(1)), at_secs(1));
        always.on_finish(at_secs(2));
        always.advance(SimTime::MAX);
        assert_eq!((always.state(), always.next_unload_at()), (ModelState::Loaded, None));

        // A zero load time loads at once: counted as a load, nobody waits.
        let mut instant =
            ModelLoader::new(ModelLoaderConfig { load_time: SimDuration::ZERO, ..SERVERLESS }, SimTime::ZERO);
        assert_eq!(instant.on_request(at_secs(5)), at_secs(5));
        assert_eq!(instant.state(), ModelState::Loaded);
        assert_eq!(instant.counters(), LoaderCounters { loads: 1, unloads: 0, requests_waited_for_load: 0 });

        // Every waiting request dropped before the load ends: idle from the load's end.
        let mut abandoned = ModelLoader::new(SERVERLESS, SimTime::ZERO);
        assert_eq!(abandoned.on_request(SimTime::ZERO), at_secs(60));
        abandoned.on_finish(at_secs(30));
        assert_eq!(abandoned.next_unload_at(), Some(at_secs(960)));
        abandoned.advance(at_secs(959));
        assert_eq!(abandoned.state(), ModelState::Loaded);
        abandoned.advance(at_secs(960));
        assert_eq!(abandoned.state(), ModelState::ScaledToZero);

        // A zero idle timeout unloads the moment the last request finishes.
        let eager =
            ModelLoaderConfig { scale_to_zero_after: Some(SimDuration::ZERO), starts_loaded: true, ..SERVERLESS };
        let mut eager = ModelLoader::new(eager, SimTime::ZERO);
        assert_eq!(eager.state(), ModelState::ScaledToZero);
        assert_eq!(eager.on_request(at_secs(1)), at_secs(61));
        eager.on_finish(at_secs(70));
        assert_eq!(eager.state(), ModelState::ScaledToZero);

        // Time never runs backwards; extra finishes change nothing; huge times saturate.
        let mut odd = ModelLoader::new(SERVERLESS, at_secs(100));
        assert_eq!(odd.on_request(at_secs(5)), at_secs(160));
        odd.on_finish(at_secs(200));
        odd.on_finish(at_secs(200));
        assert_eq!(odd.in_flight(), 0);
        let mut late = ModelLoader::new(SERVERLESS, SimTime::ZERO);
        assert_eq!(late.on_request(SimTime::MAX), SimTime::MAX);
        assert_eq!(late.state(), ModelState::Loaded);
        late.on_finish(SimTime::MAX);
        assert_eq!(late.state(), ModelState::ScaledToZero, "the unload saturates to the last instant too");
    }

    /// Calling `advance` at any instants in between changes no answer and no state.
    #[test]
    fn loader_gives_the_same_answers_whatever_the_steps_in_between() {
        let config = ModelLoaderConfig { scale_to_zero_after: Some(SimDuration::from_secs(2)), ..SERVERLESS };
        let mut plain = ModelLoader::new(config, SimTime::ZERO);
        let mut stepped = plain.clone();
        let mut in_flight: Vec<SimTime> = Vec::new();
        for (index, (now, ..)) in traffic(3_000).enumerate() {
            // Finish what is due (in time order), then the arrival; every ninth arrival sits out
            // a long pause first so that the model unloads and loads again.
            let now = now + SimDuration(if index % 9 == 0 { 70 * NS_PER_S * (index as u64 / 9) } else { 0 });
            in_flight.sort();
            while in_flight.first().is_some_and(|&done_at| done_at <= now) {
                let done_at = in_flight.remove(0);
                for step in [3 * NS_PER_S, NS_PER_S, 1] {
                    stepped.advance(SimTime(done_at.as_ns().saturating_sub(step)));
                }
                plain.on_finish(done_at);
                stepped.on_finish(done_at);
            }
            stepped.advance(now);
            let ready_at = plain.on_request(now);
            assert_eq!(ready_at, stepped.on_request(now), "request {index}");
            in_flight.push(ready_at + SimDuration(500 * NS_PER_MS));
        }
        assert_eq!(plain, stepped);
        let counters = plain.counters();
        assert!(counters.loads > 10 && counters.unloads > 10, "{counters:?}");
    }
}
