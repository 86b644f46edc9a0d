//! An LLM endpoint's prompt cache ([`PromptCache`]): one entry per prompt prefix, warm for a
//! lifetime after its last use.
//!
//! **Why it matters.** A warm prompt cache cuts the time to first token by up to ~80%; when traffic
//! pauses for longer than the cache's lifetime, every request pays the full prefill at once,
//! exactly when the burst that follows the pause arrives.
//!
//! **The model.** One cache entry per prompt prefix (`prefixes`, the simulator draws which one a
//! request uses). An entry is warm at `now` if it was last used in `(now - ttl, now]`: used at `t`,
//! it is warm until `t + ttl` and cold *at* `t + ttl` exactly. A request on a warm entry hits if
//! the simulator's uniform draw `u` in `[0, 1)` is below `hit_ratio` (best-effort caches that route
//! by prefix miss sometimes); then the cached share of its prompt (`cached_prompt_ppm`, parts per
//! million) is read from the cache. Every admitted request, hit or miss, refreshes its entry
//! (Anthropic: "the cache is refreshed for no additional cost each time the cached content is
//! used"; a miss writes the entry). A deployment that scales to zero loses its cache:
//! [`LlmEndpoint`](super::LlmEndpoint) clears it when a load starts. The facade looks up the cache
//! at `ready_at` (when the model can first read the prompt), not at the end of the queue. Not
//! modelled: the minimum cacheable length (1,024 tokens on several Anthropic models), the premium
//! Anthropic charges for cache writes, the 1-hour TTL option (configure `ttl`). The 5-minute
//! default lifetime is Anthropic's documented one.
//!
//! Sources:
//! - Anthropic, "Prompt caching",
//!   <https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching> (5-minute lifetime
//!   refreshed on use; cache read and write prices), and the announcement "Prompt caching with
//!   Claude" (August 2024), <https://www.anthropic.com/news/prompt-caching> (100,000-token
//!   book: 11.5 s -> 2.4 s time to first token; up to 85% lower latency).

use crate::prelude::*;
use crate::time::{SimDuration, SimTime};

/// Most prompt prefixes a cache keeps apart (each has one entry; memory is one word each).
pub const PROMPT_PREFIXES_MAX: u32 = 4_096;

/// How an endpoint's prompt cache behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PromptCacheConfig {
    /// An entry last used at `t` is warm until `t + ttl` (cold at `t + ttl` exactly). Anthropic's
    /// default is 5 minutes (a 1-hour option exists).
    pub ttl: SimDuration,
    /// Chance that a request on a warm entry hits: a hit when the simulator's uniform draw
    /// `u` in `[0, 1)` is below it. 1 for a cache that always hits when warm; below 1 for a
    /// best-effort cache. NaN never hits.
    pub hit_ratio: f64,
    /// On a hit, the share of the prompt read from the cache (the shared prefix), in parts per
    /// million, rounded down to whole tokens. Values above 1,000,000 count as 1,000,000.
    pub cached_prompt_ppm: u32,
    /// Distinct prompt prefixes, each with its own entry; the simulator draws which one a
    /// request uses, from 0. 0 counts as 1; more than [`PROMPT_PREFIXES_MAX`] as that.
    pub prefixes: u32,
}

impl PromptCacheConfig {
    /// Anthropic's default lifetime (5 minutes), a cache that always hits when warm, the whole
    /// prompt cached (as in the published 100,000-token example), one prefix.
    pub const ANTHROPIC_DEFAULT: PromptCacheConfig = PromptCacheConfig {
        ttl: SimDuration::from_secs(300),
        hit_ratio: 1.0,
        cached_prompt_ppm: 1_000_000,
        prefixes: 1,
    };

    /// Prompt tokens read from the cache on a hit: `prompt_tokens x cached_prompt_ppm / 10^6`,
    /// rounded down.
    pub fn cached_tokens(&self, prompt_tokens: u64) -> u64 {
        let ppm = u128::from(self.cached_prompt_ppm.min(1_000_000));
        // At most prompt_tokens, so it fits back in u64.
        (u128::from(prompt_tokens) * ppm / 1_000_000) as u64
    }
}

impl Default for PromptCacheConfig {
    fn default() -> Self {
        PromptCacheConfig::ANTHROPIC_DEFAULT
    }
}

/// What a request found in the prompt cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CacheLookup {
    /// The entry was warm and the draw fell below the hit ratio.
    pub hit: bool,
    /// Prompt tokens read from the cache (0 on a miss).
    pub cached_prompt_tokens: u64,
}

/// Hits and misses of a prompt cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheCounters {
    /// Requests that read part of their prompt from the cache.
    pub hits: u64,
    /// Requests that did not (each wrote or refreshed its entry).
    pub misses: u64,
}

/// An endpoint's prompt cache: one entry per prefix, warm for `ttl` after its last use.
#[derive(Clone, Debug, PartialEq)]
pub struct PromptCache {
    config: PromptCacheConfig,
    /// When each prefix's entry was last used; `None` if never (or since a clear).
    last_used_at: Vec<Option<SimTime>>,
    counters: CacheCounters,
}

impl PromptCache {
    /// A cold cache.
    pub fn new(config: PromptCacheConfig) -> Self {
        let prefixes = config.prefixes.clamp(1, PROMPT_PREFIXES_MAX);
        let config = PromptCacheConfig { prefixes, ..config };
        PromptCache { config, last_used_at: vec![None; prefixes as usize], counters: CacheCounters::default() }
    }

    /// Is `prefix`'s entry warm at `now` (used within `(now - ttl, now]`)? A prefix beyond the
    /// configured count is read as the last one.
    pub fn is_warm(&self, now: SimTime, prefix: u32) -> bool {
        matches!(self.last_used_at[self.index(prefix)], Some(used_at) if now < used_at + self.config.ttl)
    }

    /// A request of `prompt_tokens` on `prefix` at `now`, with the simulator's uniform draw
    /// `draw` in `[0, 1)`: a hit if the entry is warm and `draw < hit_ratio`. Hit or miss, the
    /// entry is refreshed (used at `now`).
    pub fn on_request(&mut self, now: SimTime, prefix: u32, draw: f64, prompt_tokens: u64) -> CacheLookup {
        let hit = self.is_warm(now, prefix) && draw < self.config.hit_ratio;
        let index = self.index(prefix);
        // Never moves a use back in time, should calls come out of order.
        self.last_used_at[index] = Some(self.last_used_at[index].map_or(now, |used_at| used_at.max(now)));
        if hit {
            self.counters.hits = self.counters.hits.saturating_add(1);
            CacheLookup { hit, cached_prompt_tokens: self.config.cached_tokens(prompt_tokens) }
        } else {
            self.counters.misses = self.counters.misses.saturating_add(1);
            CacheLookup::default()
        }
    }

    /// Forgets every entry (the deployment lost its memory, as when it scales to zero).
    pub fn clear(&mut self) {
        self.last_used_at.iter_mut().for_each(|used_at| *used_at = None);
    }

    /// Hits and misses so far.
    pub fn counters(&self) -> CacheCounters {
        self.counters
    }

    /// The configuration in force (`prefixes` clamped).
    pub fn config(&self) -> &PromptCacheConfig {
        &self.config
    }

    fn index(&self, prefix: u32) -> usize {
        prefix.min(self.config.prefixes - 1) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::llm::test_support::at_secs;
    use crate::time::NS_PER_S;

    /// Used at 10 s with a 300 s lifetime: warm one nanosecond before 310 s, cold at 310 s.
    /// Every request refreshes the entry, hit or miss.
    #[test]
    fn prompt_cache_expires_exactly_at_the_ttl_and_every_request_refreshes_it() {
        let mut cache = PromptCache::new(PromptCacheConfig::default());
        assert!(!cache.is_warm(SimTime::ZERO, 0));
        assert_eq!(cache.on_request(at_secs(10), 0, 0.0, 1_000), CacheLookup { hit: false, cached_prompt_tokens: 0 });
        assert!(cache.is_warm(at_secs(10), 0));
        assert!(cache.is_warm(SimTime(310 * NS_PER_S - 1), 0));
        assert!(!cache.is_warm(at_secs(310), 0), "cold at exactly the ttl");
        let hit = cache.on_request(SimTime(310 * NS_PER_S - 1), 0, 0.999, 1_000);
        assert_eq!(hit, CacheLookup { hit: true, cached_prompt_tokens: 1_000 });
        assert!(cache.is_warm(SimTime(610 * NS_PER_S - 2), 0), "the hit refreshed it");
        assert!(!cache.is_warm(SimTime(610 * NS_PER_S - 1), 0));
        assert!(!cache.on_request(at_secs(2_000), 0, 0.0, 1_000).hit);
        assert!(cache.on_request(at_secs(2_299), 0, 0.0, 1_000).hit, "the miss refreshed it");
        assert_eq!(cache.counters(), CacheCounters { hits: 2, misses: 2 });
        // An earlier time (which a simulator never sends) never moves a use back.
        assert!(cache.on_request(at_secs(5), 0, 0.0, 1_000).hit);
        assert!(cache.is_warm(SimTime(2_599 * NS_PER_S - 1), 0));
        cache.clear();
        assert!(!cache.is_warm(at_secs(2_500), 0));
    }

    #[test]
    fn prompt_cache_hits_below_the_hit_ratio_and_caches_its_share_of_the_prompt() {
        let config = PromptCacheConfig { hit_ratio: 0.5, cached_prompt_ppm: 900_000, ..PromptCacheConfig::default() };
        let mut cache = PromptCache::new(config);
        assert!(!cache.on_request(SimTime::ZERO, 0, 0.0, 1_001).hit, "cold: a miss whatever the draw");
        assert_eq!(cache.on_request(at_secs(1), 0, 0.499, 1_001), CacheLookup { hit: true, cached_prompt_tokens: 900 });
        assert!(!cache.on_request(at_secs(2), 0, 0.5, 1_001).hit, "u < hit_ratio, strictly");
        for hit_ratio in [0.0, f64::NAN, -1.0] {
            let mut never = PromptCache::new(PromptCacheConfig { hit_ratio, ..PromptCacheConfig::default() });
            never.on_request(SimTime::ZERO, 0, 0.0, 10);
            assert!(!never.on_request(SimTime::ZERO, 0, 0.0, 10).hit, "{hit_ratio}");
        }
        let whole = PromptCacheConfig { cached_prompt_ppm: u32::MAX, ..PromptCacheConfig::default() };
        assert_eq!(whole.cached_tokens(u64::MAX), u64::MAX);
        assert_eq!(PromptCacheConfig { cached_prompt_ppm: 1, ..whole }.cached_tokens(999_999), 0);
        let mut zero_ttl =
            PromptCache::new(PromptCacheConfig { ttl: SimDuration::ZERO, ..PromptCacheConfig::default() });
        zero_ttl.on_request(SimTime::ZERO, 0, 0.0, 10);
        assert!(!zero_ttl.on_request(SimTime::ZERO, 0, 0.0, 10).hit, "a zero lifetime is never warm");
    }

    #[test]
    fn prompt_cache_keeps_prefixes_apart_within_bounds() {
        let mut cache = PromptCache::new(PromptCacheConfig { prefixes: 3, ..PromptCacheConfig::default() });
        cache.on_request(SimTime::ZERO, 1, 0.0, 100);
        assert!(cache.is_warm(SimTime::ZERO, 1));
        assert!(!cache.is_warm(SimTime::ZERO, 0) && !cache.is_warm(SimTime::ZERO, 2));
        cache.on_request(SimTime::ZERO, u32::MAX, 0.0, 100);
        assert!(cache.is_warm(SimTime::ZERO, 2), "a prefix beyond the count is the last one");
        assert_eq!(
            PromptCache::new(PromptCacheConfig { prefixes: 0, ..PromptCacheConfig::default() }).config().prefixes,
            1
        );
        let huge = PromptCache::new(PromptCacheConfig { prefixes: u32::MAX, ..PromptCacheConfig::default() });
        assert_eq!(huge.config().prefixes, PROMPT_PREFIXES_MAX);
        assert_eq!(huge.last_used_at.len(), PROMPT_PREFIXES_MAX as usize);
    }
}
