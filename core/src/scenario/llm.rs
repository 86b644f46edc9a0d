//! The LLM part of the scenario format: an inference endpoint whose latency is measured in
//! tokens and whose limits are per minute (POLICIES.md, "LLM endpoints"). The validated values
//! live in [`super::model::LlmModel`]; the state machines in [`crate::components::llm`].

use super::duration::Duration;
use crate::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "schema")]
use schemars::JsonSchema;

/// An LLM inference endpoint. A request's time to first token is its wait (for a decoding
/// slot, and for the model to load) plus prefill, which grows with the prompt and shrinks on a
/// prompt-cache hit; then each further output token takes the time per output token.
/// Requests beyond the per-minute limits get 429 with a retry-after hint; beyond the queue,
/// "overloaded".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LlmNode {
    /// Unique node id.
    pub id: String,
    /// Requests decoded at once (continuous batching slots).
    pub slots: u32,
    /// Requests that may wait for a slot; beyond it a request is refused as overloaded.
    /// Default: unbounded (up to the run's in-flight limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_capacity: Option<u32>,
    /// Tokens in a request's prompt.
    pub prompt_tokens: Tokens,
    /// Tokens the model would answer with, before the output budget cuts it.
    pub output_tokens: Tokens,
    /// The output budget of each request (max_tokens): caps the answer, and is what the token
    /// limits charge at admission. Default 1024.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// Time to first token and per output token. Default: rules of thumb for a hosted
    /// mid-size model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<TokenLatency>,
    /// Per-minute limits, as continuously refilled buckets. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<LlmRateLimits>,
    /// A prompt cache that cuts prefill on a hit. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache: Option<PromptCache>,
    /// A deployment that scales to zero and must load its model first. Default: always loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_load: Option<ColdLoad>,
    /// Probability that a request fails (a server error after its time). Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub error_rate: f64,
    /// Prices per million tokens, for the cost figures. Default: an example mid-size model
    /// ($3 input, $0.30 cached input, $15 output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<TokenPrice>,
}

/// A distribution of token counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Tokens {
    /// Always the same.
    Constant(u64),
    /// Uniform between two counts.
    Uniform(TokenRange),
    /// Log-normal given by its median and 99th percentile: a long tail of long prompts or
    /// answers.
    Lognormal(TokenPercentiles),
}

/// Uniform token counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenRange {
    pub min: u64,
    pub max: u64,
}

/// Log-normal token counts by percentiles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenPercentiles {
    pub p50: u64,
    pub p99: u64,
}

/// Token latency.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenLatency {
    /// Prefill time that does not grow with the prompt. Default 500ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill_base: Option<Duration>,
    /// Prefill time per 1000 prompt tokens not read from the cache. Default 110ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill_per_1k_tokens: Option<Duration>,
    /// Prefill time per 1000 prompt tokens read from the cache. Default 19ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_prefill_per_1k_tokens: Option<Duration>,
    /// Time per output token after the first. Default 20ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_per_output_token: Option<Duration>,
}

/// Per-minute limits (OpenAI's RPM and TPM; Anthropic's input and output tokens per minute).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LlmRateLimits {
    /// Requests per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u64>,
    /// Tokens per minute; a request is charged its prompt plus its output budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_minute: Option<u64>,
    /// Input tokens per minute; a request is charged its prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens_per_minute: Option<u64>,
    /// Output tokens per minute; a request is charged its output budget, and the unused part
    /// is given back when it finishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_per_minute: Option<u64>,
    /// Refused requests count against the limits too (as OpenAI says of its limits), so a
    /// request resent at once keeps the limit exhausted. Default false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub refusals_count: bool,
}

/// A prompt cache: a request whose prompt prefix was used within the time to live finds it
/// cached (with the hit ratio), and its cached tokens prefill faster and cost less.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PromptCache {
    /// Chance that a request on a warm prefix hits. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit_ratio: Option<f64>,
    /// A prefix not used for this long is evicted. Default 5m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Duration>,
    /// Share of a prompt that is the shared, cacheable prefix. Default 0.9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_share: Option<f64>,
    /// Distinct prefixes (system prompts, documents) the requests spread over, each cached on
    /// its own. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefixes: Option<u32>,
}

/// A deployment scaled to zero: the first request after idling waits for the model to load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ColdLoad {
    /// Time to load the model onto a fresh replica.
    pub load_time: Duration,
    /// Idle time after which the deployment scales to zero. Default: never (it still starts
    /// unloaded unless `starts_loaded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_to_zero_after: Option<Duration>,
    /// Loaded when the run starts. Default false: scaled to zero.
    #[serde(default, skip_serializing_if = "is_false")]
    pub starts_loaded: bool,
}

/// Prices in US dollars per million tokens.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenPrice {
    /// Input tokens not read from the cache. Default 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_per_million_usd: Option<f64>,
    /// Input tokens read from the cache. Default 0.30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_per_million_usd: Option<f64>,
    /// Output tokens. Default 15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_per_million_usd: Option<f64>,
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

fn is_false(value: &bool) -> bool {
    !*value
}
