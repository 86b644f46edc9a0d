// The LLM endpoint fieldset's controls, as edits of the selected LLM node (a plain object in
// the scenario JSON format). Reading and writing only: no value is judged here, and the values
// an endpoint leaves out come from the simulator itself (`llm_defaults()` of the wasm module),
// shown as placeholders.
//
// A blank field means the format's default: the field is left out of the scenario (no limit,
// no prompt cache, the default budget and prices). Slots have no default: a blank is written as
// null, and the simulator's message says so at the control.

function number(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The three prices of the price table: [control, field of `price`, label, unit]. */
export const LLM_PRICES = [
  ['llm-price-input', 'input_per_million_usd', 'Input tokens', '$ per million'],
  ['llm-price-cached', 'cached_input_per_million_usd', 'Cached input tokens', '$ per million'],
  ['llm-price-output', 'output_per_million_usd', 'Output tokens', '$ per million'],
];

/** Where each control writes, as validation errors name the fields of the LLM node. */
export const LLM_CONTROL_FIELDS = {
  'llm-slots': ['slots'],
  'llm-max-output': ['max_output_tokens'],
  'llm-rpm': ['rate_limits.requests_per_minute'],
  'llm-tpm': ['rate_limits.tokens_per_minute'],
  'llm-refusals': ['rate_limits.refusals_count'],
  // The control stands for the whole cache: blank is no cache.
  'llm-cache-hit': ['prompt_cache'],
  ...Object.fromEntries(LLM_PRICES.map(([control, field]) => [control, [`price.${field}`]])),
};

/** The LLM node with this id, or undefined. */
function findLlm(scenario, id) {
  return Array.isArray(scenario?.nodes) ? scenario.nodes.find((node) => node?.id === id && node.kind === 'llm') : undefined;
}

function object(value) {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
}

/**
 * What the LLM endpoint fieldset shows for endpoint `id`. Numbers are null where the field is
 * left out; the cache's hit ratio is what the simulator runs with when a cache leaves it out.
 */
export function readLlm(scenario, id, parseDurationMs, defaults) {
  const llm = findLlm(scenario, id);
  const limits = object(llm?.rate_limits) ?? {};
  const cache = object(llm?.prompt_cache);
  const price = object(llm?.price) ?? {};
  const ttlMs = typeof cache?.ttl === 'string' ? parseDurationMs(cache.ttl) : undefined;
  return {
    hasLlm: Boolean(llm),
    'llm-slots': number(llm?.slots),
    'llm-max-output': number(llm?.max_output_tokens),
    'llm-rpm': number(limits.requests_per_minute),
    'llm-tpm': number(limits.tokens_per_minute),
    refusalsCount: limits.refusals_count === true,
    hasCache: Boolean(cache),
    'llm-cache-hit': cache ? (number(cache.hit_ratio) ?? defaults?.prompt_cache?.hit_ratio ?? null) : null,
    cache: cache
      ? {
          ttl_ms: Number.isFinite(ttlMs) ? ttlMs : (defaults?.prompt_cache?.ttl_s ?? NaN) * 1000,
          cached_share: number(cache.cached_share) ?? defaults?.prompt_cache?.cached_share ?? null,
          prefixes: number(cache.prefixes) ?? 1,
        }
      : null,
    prices: Object.fromEntries(LLM_PRICES.map(([control, field]) => [control, number(price[field])])),
  };
}

/** What the cache control's value means, under it. */
export function cacheExplained(values, format) {
  if (!values.cache) return 'Blank: no prompt cache; every request pays its whole prefill.';
  const { ttl_ms: ttlMs, cached_share: share, prefixes } = values.cache;
  const spread = prefixes > 1 ? ` (one of ${format(prefixes, 'count')} prefixes)` : '';
  return `A request whose prefix${spread} was used in the last ${format(ttlMs, 'ms')} hits with this chance and reads ` +
    `${format(share, 'share')} of its prompt from the cache, faster and cheaper. Blank: no cache.`;
}

/** Sets or (for null) removes a field of an object held at `parent[key]`, dropping it when empty. */
function setNested(parent, key, field, value) {
  const nested = object(parent[key]) ? { ...parent[key] } : {};
  if (value === null) delete nested[field];
  else nested[field] = value;
  if (Object.keys(nested).length === 0) delete parent[key];
  else parent[key] = nested;
}

/**
 * Applies one control's value to endpoint `id` (in place): a number, null for a blank field, or
 * a boolean for the refusals checkbox. Returns `{changed, note}`: `changed` false when there is
 * nothing to edit; `note` says what else the edit changed, if anything.
 */
export function applyLlmControl(scenario, id, name, value) {
  const llm = findLlm(scenario, id);
  if (!llm) return { changed: false };
  const done = (note = null) => ({ changed: true, note });
  switch (name) {
    case 'llm-slots':
      // Required: a blank stays in the scenario for the simulator to name.
      llm.slots = value;
      return done();
    case 'llm-max-output':
      if (value === null) delete llm.max_output_tokens;
      else llm.max_output_tokens = value;
      return done();
    case 'llm-rpm':
      setNested(llm, 'rate_limits', 'requests_per_minute', value);
      return done();
    case 'llm-tpm':
      setNested(llm, 'rate_limits', 'tokens_per_minute', value);
      return done();
    case 'llm-refusals':
      // False is the format's default, left out.
      setNested(llm, 'rate_limits', 'refusals_count', value === true ? true : null);
      return done();
    case 'llm-cache-hit': {
      if (value !== null) {
        llm.prompt_cache = { ...(object(llm.prompt_cache) ?? {}), hit_ratio: value };
        return done();
      }
      const others = Object.keys(object(llm.prompt_cache) ?? {}).filter((key) => key !== 'hit_ratio');
      delete llm.prompt_cache;
      return done(others.length > 0 ? `Its other prompt cache settings (${others.join(', ')}) were removed: blank is no cache.` : null);
    }
    default: {
      const price = LLM_PRICES.find(([control]) => control === name);
      if (!price) return { changed: false };
      setNested(llm, 'price', price[1], value);
      return done();
    }
  }
}

/**
 * Validation messages per control (`Map<control, string[]>`) for endpoint `path`
 * ("nodes[2]"): an error belongs to the control whose field it names or lies under.
 */
export function llmErrors(errors, path) {
  const byControl = new Map();
  if (path === null) return byControl;
  for (const error of errors) {
    if (typeof error?.path !== 'string') continue;
    for (const [control, fields] of Object.entries(LLM_CONTROL_FIELDS)) {
      const matches = fields.some((field) => {
        const prefix = `${path}.${field}`;
        return error.path === prefix || error.path.startsWith(`${prefix}.`) || error.path.startsWith(`${prefix}[`);
      });
      if (matches) byControl.set(control, [...(byControl.get(control) ?? []), error.message]);
    }
  }
  return byControl;
}
