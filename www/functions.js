// The Function fieldset's controls, as edits of the selected function node (a plain object in
// the scenario JSON format) and of the scenario's account. Reading and writing only: no value
// is judged here, and the values a function leaves out come from the simulator itself
// (`function_defaults()` of the wasm module), shown as placeholders.
//
// A blank field means the format's default: the field is left out of the scenario.

/** "100ms" -> 100 with the simulator's own duration parser; null when absent or unreadable. */
function ms(text, parseDurationMs) {
  if (typeof text !== 'string') return null;
  return parseDurationMs(text) ?? null;
}

/** A number of milliseconds as a duration of the format, to whole microseconds: "412.5ms". */
function msText(value) {
  return `${Number((Math.round(value * 1000) / 1000).toPrecision(12))}ms`;
}

function secondsText(value) {
  return `${Number(value.toPrecision(12))}s`;
}

function number(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The four prices of the price table: [control, field of `price`, label, unit]. */
export const PRICES = [
  ['price-duration', 'gb_second_usd', 'Duration', '$ per GB-second'],
  ['price-provisioned', 'provisioned_gb_second_usd', 'Provisioned, kept ready', '$ per GB-second'],
  ['price-provisioned-duration', 'provisioned_duration_gb_second_usd', 'Duration when provisioned', '$ per GB-second'],
  ['price-requests', 'per_million_requests_usd', 'Requests', '$ per million'],
];

/**
 * Where each control writes, as validation errors name it: fields of the function node, or
 * (`scenario: true`) of the scenario.
 */
export const FUNCTION_CONTROL_FIELDS = {
  'fn-reserved': ['reserved_concurrency'],
  'fn-provisioned': ['provisioned_concurrency'],
  'fn-memory': ['memory_mb'],
  'fn-timeout': ['timeout'],
  'fn-init': ['init_duration'],
  'fn-scaling': ['scaling'],
  'fn-invocation': ['invocation', 'asynchronous'],
  'fn-account': ['account.concurrency_limit'],
  ...Object.fromEntries(PRICES.map(([control, field]) => [control, [`price.${field}`]])),
};
const SCENARIO_LEVEL = new Set(['fn-account']);

/** Legacy bursts AWS used by region before November 2023. */
const LEGACY_BURSTS = [
  [3000, 'N. Virginia, Oregon, Ireland'],
  [1000, 'Tokyo, Frankfurt, Ohio'],
  [500, 'other regions'],
];

/**
 * The scaling picker's choices for a function's current scaling: [value, label]. Labels stay
 * short enough for the narrow picker; the regions of a burst are in the text under it.
 */
export function scalingChoices(current, defaults) {
  const perTen = defaults?.scaling_per_ten_seconds ?? 1000;
  const choices = [['aws_2023', `since Nov 2023: ${perTen.toLocaleString('en')} / 10 s`]];
  for (const [burst] of LEGACY_BURSTS) {
    choices.push([`legacy-${burst}`, `before Nov 2023: burst ${burst.toLocaleString('en')}`]);
  }
  // A burst only the JSON editor wrote is shown as it is.
  if (current.choice === 'legacy-other') choices.push(['legacy-other', `before Nov 2023: burst ${current.burst}`]);
  choices.push(['per_ten_seconds', 'a rate of your own']);
  return choices;
}

function readScaling(scaling, defaults) {
  if (scaling && typeof scaling === 'object' && 'legacy' in scaling) {
    const legacy = scaling.legacy ?? {};
    const burst = number(legacy.burst) ?? defaults?.legacy_burst ?? 3000;
    const perMinute = number(legacy.per_minute) ?? defaults?.legacy_per_minute ?? 500;
    const known = LEGACY_BURSTS.some(([value]) => value === burst);
    return { choice: known ? `legacy-${burst}` : 'legacy-other', burst, per_minute: perMinute, per_ten_seconds: null };
  }
  if (scaling && typeof scaling === 'object' && 'per_ten_seconds' in scaling) {
    return { choice: 'per_ten_seconds', burst: null, per_minute: null, per_ten_seconds: number(scaling.per_ten_seconds) };
  }
  return { choice: 'aws_2023', burst: null, per_minute: null, per_ten_seconds: null };
}

/** What the scaling choice means, under the picker. */
export function scalingExplained(scaling, defaults) {
  switch (scaling.choice) {
    case 'aws_2023':
      return `Each function may add up to ${(defaults?.scaling_per_ten_seconds ?? 1000).toLocaleString('en')} execution environments every 10 s.`;
    case 'per_ten_seconds':
      return 'Each function may add this many execution environments every 10 s.';
    default: {
      const regions = LEGACY_BURSTS.find(([burst]) => burst === scaling.burst)?.[1];
      return `A burst of ${scaling.burst.toLocaleString('en')} new environments at once${regions ? ` (${regions})` : ''}, then ${scaling.per_minute.toLocaleString('en')} more a minute; invocations beyond that are throttled.`;
    }
  }
}

/**
 * The init phase as the median control edits it: "default" (left out), "lognormal" (by p50
 * and p99), "constant", or "other" (a shape the control does not edit: exponential, uniform,
 * mixtures), with the median in milliseconds where there is one.
 */
function readInit(init, parseDurationMs) {
  if (init === undefined || init === null) return { kind: 'default', p50_ms: null, p99_ms: null };
  if (typeof init === 'object' && init.lognormal && typeof init.lognormal === 'object') {
    return {
      kind: 'lognormal',
      p50_ms: ms(init.lognormal.p50, parseDurationMs),
      p99_ms: ms(init.lognormal.p99, parseDurationMs),
    };
  }
  if (typeof init === 'object' && 'constant' in init) {
    const value = ms(init.constant, parseDurationMs);
    return { kind: 'constant', p50_ms: value, p99_ms: value };
  }
  const shape = typeof init === 'object' ? Object.keys(init)[0] : typeof init;
  return { kind: 'other', shape: shape ?? 'unknown', p50_ms: null, p99_ms: null };
}

/** What the init control's value is, under it. */
export function initExplained(init, defaults, format) {
  switch (init.kind) {
    case 'default':
      return `Blank: log-normal, median ${format(defaults?.init_p50_ms, 'ms')}, p99 ${format(defaults?.init_p99_ms, 'ms')}. A median keeps that spread.`;
    case 'lognormal':
      return init.p99_ms === null ? 'Log-normal.' : `Log-normal, p99 ${format(init.p99_ms, 'ms')}: the p99 moves with the median, keeping the spread.`;
    case 'constant':
      return 'Every init phase takes exactly this long.';
    default:
      return `The init phase is ${init.shape === 'exponential' ? 'an exponential' : `a ${init.shape}`} distribution: edit it in the Scenario JSON below.`;
  }
}

/** The function node with this id, or undefined. */
function findFunction(scenario, id) {
  return Array.isArray(scenario?.nodes) ? scenario.nodes.find((node) => node?.id === id && node.kind === 'function') : undefined;
}

/** What the Function fieldset shows for function `id`. Numbers are null where the field is left out. */
export function readFunction(scenario, id, parseDurationMs, defaults) {
  const fn = findFunction(scenario, id);
  const price = fn?.price && typeof fn.price === 'object' ? fn.price : {};
  return {
    hasFunction: Boolean(fn),
    'fn-reserved': number(fn?.reserved_concurrency),
    'fn-provisioned': number(fn?.provisioned_concurrency),
    'fn-memory': number(fn?.memory_mb),
    'fn-timeout': typeof fn?.timeout === 'string' ? (ms(fn.timeout, parseDurationMs) ?? NaN) / 1000 : null,
    init: readInit(fn?.init_duration, parseDurationMs),
    scaling: readScaling(fn?.scaling, defaults),
    invocation: fn?.invocation === 'async' ? 'async' : 'sync',
    hasAsyncSettings: fn?.asynchronous !== undefined && fn?.asynchronous !== null,
    'fn-account': number(scenario?.account?.concurrency_limit),
    prices: Object.fromEntries(PRICES.map(([control, field]) => [control, number(price[field])])),
  };
}

/** Sets or (for null) removes a field of an object held at `parent[key]`, dropping it when empty. */
function setNested(parent, key, field, value) {
  const object = parent[key] && typeof parent[key] === 'object' ? { ...parent[key] } : {};
  if (value === null) delete object[field];
  else object[field] = value;
  if (Object.keys(object).length === 0) delete parent[key];
  else parent[key] = object;
}

/** Sets or (for null) removes a field of the function. */
function setField(fn, field, value) {
  if (value === null) delete fn[field];
  else fn[field] = value;
}

/**
 * Applies one control's value to function `id` (in place): a number, null for a blank field, or
 * a string for the pickers. Returns `{changed, note}`: `changed` false when there is nothing to
 * edit; `note` says what else the edit changed, if anything.
 */
export function applyFunctionControl(scenario, id, name, value, parseDurationMs, defaults) {
  const fn = findFunction(scenario, id);
  if (!fn) return { changed: false };
  const done = (note = null) => ({ changed: true, note });
  switch (name) {
    case 'fn-reserved':
      setField(fn, 'reserved_concurrency', value);
      return done();
    case 'fn-provisioned':
      // Zero is the format's default, left out as the presets write it.
      setField(fn, 'provisioned_concurrency', value === 0 ? null : value);
      return done();
    case 'fn-memory':
      setField(fn, 'memory_mb', value);
      return done();
    case 'fn-timeout':
      setField(fn, 'timeout', value === null ? null : secondsText(value));
      return done();
    case 'fn-init': {
      const init = readInit(fn.init_duration, parseDurationMs);
      if (init.kind === 'other') return { changed: false };
      if (value === null) {
        delete fn.init_duration;
      } else if (init.kind === 'constant') {
        fn.init_duration = { constant: msText(value) };
      } else {
        // The p99 moves with the median: the same spread, shifted.
        const spread = init.kind === 'lognormal' && init.p50_ms > 0 && init.p99_ms !== null
          ? init.p99_ms / init.p50_ms
          : (defaults?.init_p99_ms ?? 1000) / (defaults?.init_p50_ms ?? 250);
        fn.init_duration = { lognormal: { p50: msText(value), p99: msText(value * spread) } };
      }
      return done();
    }
    case 'fn-scaling': {
      const current = readScaling(fn.scaling, defaults);
      if (value === 'aws_2023') {
        delete fn.scaling;
      } else if (value === 'per_ten_seconds') {
        fn.scaling = { per_ten_seconds: current.per_ten_seconds ?? defaults?.scaling_per_ten_seconds ?? 1000 };
      } else if (value.startsWith('legacy-') && value !== 'legacy-other') {
        const previous = fn.scaling?.legacy;
        fn.scaling = {
          legacy: {
            burst: Number(value.slice('legacy-'.length)),
            ...(previous && number(previous.per_minute) !== null ? { per_minute: previous.per_minute } : {}),
          },
        };
      } else {
        return { changed: false };
      }
      return done();
    }
    case 'fn-per-ten-seconds':
      if (readScaling(fn.scaling, defaults).choice !== 'per_ten_seconds') return { changed: false };
      fn.scaling = { per_ten_seconds: value };
      return done();
    case 'fn-invocation':
      if (value === 'async') {
        fn.invocation = 'async';
        return done();
      }
      delete fn.invocation;
      if (fn.asynchronous !== undefined) {
        delete fn.asynchronous;
        return done('Its asynchronous settings (retries, event age, on-failure queue) were removed: a synchronous caller sees its errors itself.');
      }
      return done();
    case 'fn-account':
      setNested(scenario, 'account', 'concurrency_limit', value);
      return done();
    default: {
      const price = PRICES.find(([control]) => control === name);
      if (!price) return { changed: false };
      setNested(fn, 'price', price[1], value);
      return done();
    }
  }
}

/**
 * Validation messages per control (`Map<control, string[]>`) for function `path`
 * ("nodes[3]"): an error belongs to the control whose field it names or lies under.
 */
export function functionErrors(errors, path) {
  const byControl = new Map();
  for (const error of errors) {
    if (typeof error?.path !== 'string') continue;
    for (const [control, fields] of Object.entries(FUNCTION_CONTROL_FIELDS)) {
      const prefixes = fields.map((field) => (SCENARIO_LEVEL.has(control) ? field : `${path}.${field}`));
      const matches = path !== null && prefixes.some(
        (prefix) => error.path === prefix || error.path.startsWith(`${prefix}.`) || error.path.startsWith(`${prefix}[`),
      );
      if (matches) byControl.set(control, [...(byControl.get(control) ?? []), error.message]);
    }
  }
  return byControl;
}
