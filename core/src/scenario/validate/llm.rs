//! LLM nodes (see [`crate::scenario::llm`]): an LLM endpoint becomes a service of the model
//! whose workers are decoding slots and whose service time comes from token counts.

use crate::components::llm::{
    LatencyModel, LlmEndpointConfig, ModelLoaderConfig, PriceTable, PromptCacheConfig, RateLimitsConfig,
    PROMPT_PREFIXES_MAX,
};
use crate::dist::DistModel;
use crate::limits::{DURATION_MAX, PER_MINUTE_LIMIT_MAX, QUEUE_CAPACITY_MAX, SPAN_MAX, TOKENS_MAX, WORKERS_MAX};
use crate::prelude::*;
use crate::rng::stream_id;
use crate::scenario::check::Checker;
use crate::scenario::error::ScenarioErrorKind as Kind;
use crate::scenario::llm::*;
use crate::scenario::model::*;
use crate::scenario::Duration;
use crate::time::SimDuration;

const MAX_OUTPUT_TOKENS_DEFAULT: u64 = 1_024;
const CACHED_SHARE_DEFAULT: f64 = 0.9;
const PRICE_USD_MAX: f64 = 1e6;

/// Checks an LLM node and builds its service model.
pub(super) fn llm(check: &mut Checker, path: &str, llm: &LlmNode, node_index: u16) -> ServiceModel {
    if llm.slots == 0 || llm.slots > WORKERS_MAX {
        check.fail(
            format!("{path}.slots"),
            Kind::Invalid,
            format!("expected 1 to {WORKERS_MAX} slots, got {}", llm.slots),
        );
    }
    if let Some(capacity) = llm.queue_capacity {
        if capacity > QUEUE_CAPACITY_MAX {
            check.fail(
                format!("{path}.queue_capacity"),
                Kind::OverLimit,
                format!("expected at most {QUEUE_CAPACITY_MAX} (omit it for an unbounded queue), got {capacity}"),
            );
        }
    }
    check.probability(&format!("{path}.error_rate"), llm.error_rate);
    let prompt_tokens = tokens(check, &format!("{path}.prompt_tokens"), &llm.prompt_tokens);
    let output_tokens = tokens(check, &format!("{path}.output_tokens"), &llm.output_tokens);
    let max_output_tokens = llm.max_output_tokens.unwrap_or(MAX_OUTPUT_TOKENS_DEFAULT);
    if max_output_tokens == 0 || max_output_tokens > TOKENS_MAX {
        check.fail(
            format!("{path}.max_output_tokens"),
            Kind::Invalid,
            format!("expected 1 to {TOKENS_MAX} tokens, got {max_output_tokens}"),
        );
    }
    let latency = latency(check, &format!("{path}.latency"), llm.latency.clone().unwrap_or_default());
    let limits = rate_limits(check, &format!("{path}.rate_limits"), llm.rate_limits.clone().unwrap_or_default());
    let cache = llm.prompt_cache.as_ref().map(|cache| prompt_cache(check, &format!("{path}.prompt_cache"), cache));
    let loader = llm.cold_load.as_ref().map_or(ModelLoaderConfig::ALWAYS_LOADED, |cold| {
        let cold_path = format!("{path}.cold_load");
        ModelLoaderConfig {
            load_time: check.span(&format!("{cold_path}.load_time"), cold.load_time, SimDuration::ZERO, SPAN_MAX),
            scale_to_zero_after: cold.scale_to_zero_after.map(|after| {
                check.span(&format!("{cold_path}.scale_to_zero_after"), after, SimDuration::from_secs(1), DURATION_MAX)
            }),
            starts_loaded: cold.starts_loaded,
        }
    });
    let price = price(check, &format!("{path}.price"), llm.price.clone().unwrap_or_default());
    ServiceModel {
        queue_capacity: llm.queue_capacity,
        llm: Some(Box::new(LlmModel {
            endpoint: LlmEndpointConfig { limits, latency, cache, loader },
            prompt_tokens,
            output_tokens,
            max_output_tokens: max_output_tokens.clamp(1, TOKENS_MAX),
            prefixes: cache.map_or(1, |cache| cache.prefixes),
            price,
            token_stream_id: stream_id(&[&llm.id, "tokens"]),
            cache_stream_id: stream_id(&[&llm.id, "cache"]),
        })),
        ..ServiceModel::plain(
            node_index,
            &llm.id,
            llm.slots.clamp(1, WORKERS_MAX),
            DistModel::Constant { ns: 0 },
            llm.error_rate,
        )
    }
}

/// A token-count distribution, as a distribution over "nanoseconds" (see [`LlmModel::tokens`]).
fn tokens(check: &mut Checker, path: &str, tokens: &Tokens) -> DistModel {
    let mut count = |field: &str, value: u64| {
        if value == 0 || value > TOKENS_MAX {
            check.fail(
                format!("{path}.{field}"),
                Kind::Invalid,
                format!("expected 1 to {TOKENS_MAX} tokens, got {value}"),
            );
        }
        value.clamp(1, TOKENS_MAX)
    };
    match tokens {
        Tokens::Constant(value) => DistModel::Constant { ns: count("constant", *value) },
        Tokens::Uniform(range) => {
            let (min, max) = (count("uniform.min", range.min), count("uniform.max", range.max));
            if max < min {
                check.fail(
                    format!("{path}.uniform.max"),
                    Kind::Invalid,
                    format!("expected at least min ({min}), got {max}"),
                );
            }
            DistModel::Uniform { min_ns: min as f64, max_ns: max.max(min) as f64 }
        }
        Tokens::Lognormal(percentiles) => {
            let (p50, p99) = (count("lognormal.p50", percentiles.p50), count("lognormal.p99", percentiles.p99));
            if p99 < p50 {
                check.fail(
                    format!("{path}.lognormal.p99"),
                    Kind::Invalid,
                    format!("expected at least p50 ({p50}), got {p99}"),
                );
            }
            DistModel::lognormal_from_percentiles(p50, p99.max(p50))
        }
    }
}

fn latency(check: &mut Checker, path: &str, latency: TokenLatency) -> LatencyModel {
    let defaults = LatencyModel::RULE_OF_THUMB;
    let mut span = |field: &str, value: Option<Duration>, default: SimDuration| {
        value.map_or(default, |value| check.span(&format!("{path}.{field}"), value, SimDuration::ZERO, SPAN_MAX))
    };
    // Per 1000 tokens as written; per token (whole nanoseconds) in the model.
    let per_token = |per_1k: SimDuration| SimDuration(per_1k.0 / 1_000);
    let thousand = |per_token: SimDuration| SimDuration(per_token.0 * 1_000);
    LatencyModel {
        prefill_base: span("prefill_base", latency.prefill_base, defaults.prefill_base),
        prefill_per_token: per_token(span(
            "prefill_per_1k_tokens",
            latency.prefill_per_1k_tokens,
            thousand(defaults.prefill_per_token),
        )),
        prefill_per_cached_token: per_token(span(
            "cached_prefill_per_1k_tokens",
            latency.cached_prefill_per_1k_tokens,
            thousand(defaults.prefill_per_cached_token),
        )),
        time_per_output_token: span(
            "time_per_output_token",
            latency.time_per_output_token,
            defaults.time_per_output_token,
        ),
    }
}

fn rate_limits(check: &mut Checker, path: &str, limits: LlmRateLimits) -> RateLimitsConfig {
    let mut limit = |field: &str, value: Option<u64>| {
        value.inspect(|&value| {
            if value == 0 || value > PER_MINUTE_LIMIT_MAX {
                check.fail(
                    format!("{path}.{field}"),
                    Kind::Invalid,
                    format!("expected 1 to {PER_MINUTE_LIMIT_MAX} a minute (omit it for no limit), got {value}"),
                );
            }
        })
    };
    RateLimitsConfig {
        requests_per_minute: limit("requests_per_minute", limits.requests_per_minute),
        tokens_per_minute: limit("tokens_per_minute", limits.tokens_per_minute),
        input_tokens_per_minute: limit("input_tokens_per_minute", limits.input_tokens_per_minute),
        output_tokens_per_minute: limit("output_tokens_per_minute", limits.output_tokens_per_minute),
        // Anthropic settles its output estimate when a request ends.
        output_settled_at_finish: true,
        refusals_count: limits.refusals_count,
    }
}

fn prompt_cache(check: &mut Checker, path: &str, cache: &PromptCache) -> PromptCacheConfig {
    let defaults = PromptCacheConfig::ANTHROPIC_DEFAULT;
    let hit_ratio = cache.hit_ratio.unwrap_or(defaults.hit_ratio);
    check.probability(&format!("{path}.hit_ratio"), hit_ratio);
    let ttl = cache
        .ttl
        .map_or(defaults.ttl, |ttl| check.span(&format!("{path}.ttl"), ttl, SimDuration::from_secs(1), DURATION_MAX));
    let cached_share = cache.cached_share.unwrap_or(CACHED_SHARE_DEFAULT);
    check.probability(&format!("{path}.cached_share"), cached_share);
    let prefixes = cache.prefixes.unwrap_or(1);
    if prefixes == 0 || prefixes > PROMPT_PREFIXES_MAX {
        check.fail(
            format!("{path}.prefixes"),
            Kind::Invalid,
            format!("expected 1 to {PROMPT_PREFIXES_MAX} prefixes, got {prefixes}"),
        );
    }
    PromptCacheConfig {
        ttl,
        hit_ratio: hit_ratio.clamp(0.0, 1.0),
        // A share in [0, 1] as parts per million; `as` saturates the same on every target.
        cached_prompt_ppm: (cached_share.clamp(0.0, 1.0) * 1e6 + 0.5) as u32,
        prefixes: prefixes.clamp(1, PROMPT_PREFIXES_MAX),
    }
}

fn price(check: &mut Checker, path: &str, price: TokenPrice) -> PriceTable {
    let mut usd = |field: &str, value: Option<f64>, default_micro_usd: u64| {
        let default = default_micro_usd as f64 / 1e6;
        let value = value.unwrap_or(default);
        if check.number(&format!("{path}.{field}"), value, 0.0, PRICE_USD_MAX) {
            value
        } else {
            default
        }
    };
    let example = PriceTable::EXAMPLE_MID_SIZE_2025;
    PriceTable::from_usd_per_million(
        usd("input_per_million_usd", price.input_per_million_usd, example.input_micro_usd_per_million_tokens),
        usd(
            "cached_input_per_million_usd",
            price.cached_input_per_million_usd,
            example.cached_input_micro_usd_per_million_tokens,
        ),
        usd("output_per_million_usd", price.output_per_million_usd, example.output_micro_usd_per_million_tokens),
    )
}
