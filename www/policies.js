// The policy families of the side panel, as data: where each family lives in the scenario,
// its choices with a one-line explanation in plain words, and the parameters each choice
// shows, prefilled with the published defaults (shared/POLICIES.md, core/src/scenario/policies.rs).
// Reading and writing the scenario only: no value is judged here; the simulator's validation
// names the field of anything wrong, and the panel shows that message next to the family.
//
// Family shapes (how the scenario writes the family's value at `field`):
//   tagged  absent (choice "none") | "name" (a choice with no parameters) | {"name": {params}}
//   toggle  absent (choice "off")  | {params} (choice "on")
//   enum    "name"; absent means the choice marked `isDefault`
//   number  absent (choice "off")  | a number (choice "on"; its one parameter is the number)
//   flags   no choice: each parameter is a true/absent field of the target
//
// Parameter kinds: count (whole number), number, ms and s (durations shown in milliseconds or
// seconds, written "250ms" / "10s"), flag (a checkbox, written true or left out).

const none = (explain) => ({ value: 'none', label: 'none', explain });
const off = (explain) => ({ value: 'off', label: 'off', explain });

/** The hedge delay to start from: the last run's p90 attempt latency (The Tail at Scale hedges near the p95), else 50 ms. */
function hedgeDelayMs(ctx) {
  const p90 = ctx?.report?.summary?.attempt_latency_ms?.p90;
  if (!(Number.isFinite(p90) && p90 > 0)) return 50;
  return p90 >= 10 ? Math.round(p90) : Number(p90.toPrecision(2));
}

/** A rate limit to start from: the clients' offered rate in the last run, else 100/s. */
function offeredRatePerS(ctx) {
  const rate = ctx?.report?.summary?.offered_per_s;
  return Number.isFinite(rate) && rate > 0 ? Number(rate.toPrecision(2)) : 100;
}

const workersTimes = (factor, fallback) => (ctx) =>
  Number.isFinite(ctx?.workers) && ctx.workers > 0 ? ctx.workers * factor : fallback;

export const CALL_FAMILIES = [
  {
    key: 'budget',
    title: 'Retry budget',
    field: ['budget'],
    shape: 'tagged',
    choices: [
      none('No budget: every failed attempt may be retried, up to the max retries.'),
      {
        value: 'aws_standard',
        label: 'AWS SDK (standard)',
        explain: 'A bucket of 500 tokens: a retry costs 5 (10 after a timeout), a success pays back; when it runs dry, failures return at once.',
        params: [
          { name: 'capacity', label: 'Capacity', unit: 'tokens', kind: 'count', value: 500 },
          { name: 'retry_cost', label: 'Retry cost', unit: 'tokens', kind: 'count', value: 5 },
          { name: 'timeout_cost', label: 'After a timeout', unit: 'tokens', kind: 'count', value: 10 },
        ],
      },
      {
        value: 'grpc',
        label: 'gRPC retry throttling',
        explain: 'Tokens start full; a failure takes one, a success gives back the ratio; no retries or hedges while half or fewer are left.',
        params: [
          { name: 'max_tokens', label: 'Max tokens', unit: 'tokens', kind: 'number', value: 10 },
          { name: 'token_ratio', label: 'Token ratio', unit: 'per success', kind: 'number', value: 0.1 },
        ],
      },
      {
        value: 'percentage',
        label: 'Percentage (Finagle)',
        explain: 'Retries may be at most 20% of requests plus 10 per second, counted over the last 10 s.',
        params: [
          { name: 'ratio', label: 'Ratio', unit: 'retries per request', kind: 'number', value: 0.2 },
          { name: 'min_retries_per_s', label: 'Floor', unit: 'retries/s', kind: 'number', value: 10 },
          { name: 'window', label: 'Window', unit: 's', kind: 's', value: 10 },
        ],
      },
      {
        value: 'envoy',
        label: 'Envoy',
        explain: 'Retries in flight may be at most 20% of the requests in flight, and always at least 3.',
        params: [
          { name: 'budget_percent', label: 'Budget', unit: '% of active', kind: 'number', value: 20 },
          { name: 'min_retry_concurrency', label: 'Always allowed', unit: 'retries', kind: 'count', value: 3 },
        ],
      },
    ],
  },
  {
    key: 'throttle',
    title: 'Client throttling',
    field: ['throttle'],
    shape: 'toggle',
    choices: [
      off('The client sends every attempt, however many the callee refuses.'),
      {
        value: 'on',
        label: 'adaptive (Google SRE)',
        explain: 'When the callee accepts too few requests, the client refuses some itself, with probability (requests − K × accepts) / (requests + 1).',
        params: [
          { name: 'k', label: 'K', unit: 'accepts multiplier', kind: 'number', value: 2 },
          { name: 'window', label: 'Window', unit: 's', kind: 's', value: 120 },
        ],
      },
    ],
  },
  {
    key: 'breaker',
    title: 'Circuit breaker',
    field: ['breaker'],
    shape: 'tagged',
    choices: [
      none('Every call is attempted, even while the callee keeps failing.'),
      {
        value: 'resilience4j',
        label: 'resilience4j defaults',
        explain: 'Opens at 50% failures over the last 100 calls; fails calls at once for 60 s, then lets 10 trial calls through.',
      },
      {
        value: 'hystrix',
        label: 'Hystrix defaults',
        explain: 'Opens at 50% errors among at least 20 requests in 10 s; fails calls at once for 5 s, then tries one.',
      },
      {
        value: 'consecutive_failures',
        label: 'consecutive failures',
        explain: 'Opens after this many failures in a row; fails calls at once while open, then tries a few.',
        params: [
          { name: 'threshold', label: 'Failures in a row', unit: '', kind: 'count', value: 5 },
          { name: 'open_for', label: 'Open for', unit: 's', kind: 's', value: 30 },
          { name: 'half_open_trials', label: 'Trial calls', unit: '', kind: 'count', value: 1 },
        ],
      },
      {
        value: 'failure_rate',
        label: 'failure rate',
        explain: 'Opens when the share of failures over the last calls reaches the threshold.',
        params: [
          { name: 'window_calls', label: 'Window', unit: 'calls', kind: 'count', value: 100 },
          { name: 'min_calls', label: 'Min calls', unit: '', kind: 'count', value: 100 },
          { name: 'failure_threshold_percent', label: 'Threshold', unit: '%', kind: 'number', value: 50 },
          { name: 'open_for', label: 'Open for', unit: 's', kind: 's', value: 60 },
          { name: 'half_open_trials', label: 'Trial calls', unit: '', kind: 'count', value: 10 },
        ],
      },
    ],
  },
  {
    key: 'hedge',
    title: 'Hedging',
    field: ['hedge'],
    shape: 'toggle',
    choices: [
      off('One attempt at a time: a further one (a retry) only after a failure.'),
      {
        value: 'on',
        label: 'on',
        explain: 'If no answer came within the delay, sends another attempt; the first success wins. Replaces retries, as in gRPC.',
        params: [
          { name: 'delay', label: 'Delay', unit: 'ms', kind: 'ms', value: hedgeDelayMs },
          { name: 'max_attempts', label: 'Attempts', unit: 'in total', kind: 'count', value: 2 },
          { name: 'cancel_losers', label: 'Cancel the losing attempts', kind: 'flag', value: false },
        ],
      },
    ],
    afterChoice(call, choice) {
      if (choice !== 'on' || call.retry === undefined) return null;
      delete call.retry;
      return "Hedging replaces retries: this call's retry policy was removed (a call has one or the other).";
    },
    afterParam(call, param, value) {
      if (param !== 'cancel_losers' || value !== true || call.cancel_on_give_up === true) return null;
      call.cancel_on_give_up = true;
      return 'Losers are cancelled the way given-up attempts are: "Tell the server on give-up" was turned on.';
    },
  },
  {
    key: 'fallback',
    title: 'Fallback',
    field: ['fallback'],
    shape: 'enum',
    choices: [
      { value: 'none', label: 'none', isDefault: true, explain: 'A request that finally fails is a failure.' },
      {
        value: 'degraded',
        label: 'degraded answer',
        explain: 'A request that finally fails gets a degraded answer (a default, a cached value), counted apart from successes.',
      },
      {
        value: 'call',
        label: 'another call',
        readOnly: true,
        explain: 'A request that finally fails calls another node instead; edit that call in the Scenario JSON.',
      },
    ],
  },
  {
    key: 'deadline',
    title: 'Deadline',
    field: ['deadline'],
    shape: 'toggle',
    choices: [
      off('No limit on a request across its attempts: each attempt has only its timeout.'),
      {
        value: 'on',
        label: 'on',
        explain: 'The request fails when its deadline passes, whatever its attempts are doing.',
        params: [
          { name: 'total', label: 'Total', unit: 'ms, all attempts', kind: 'ms', value: 1000 },
          { name: 'propagate', label: "Inherit the caller's deadline", kind: 'flag', value: false, onlyForServiceCalls: true },
          { name: 'reduce_per_hop', label: 'Less per hop', unit: 'ms', kind: 'ms', value: null, onlyForServiceCalls: true },
        ],
      },
    ],
  },
  {
    key: 'cancel',
    title: 'Cancellation and pushback',
    shape: 'flags',
    explain: 'By default a server finishes work its caller gave up on (wasted work), and callers retry whatever the answer.',
    params: [
      { name: 'cancel_on_give_up', at: ['cancel_on_give_up'], label: 'Tell the server on give-up (it drops the attempt)', kind: 'flag' },
      {
        name: 'honor_pushback',
        at: ['retry', 'honor_pushback'],
        // A retry policy needs its attempts: the call keeps "no retries" if it had no policy.
        create: { retry: { max_attempts: 1 } },
        label: 'Honour pushback (no retry after "overloaded")',
        kind: 'flag',
      },
    ],
  },
];

export const SERVICE_FAMILIES = [
  {
    key: 'management',
    title: 'Queue management',
    field: ['queue', 'management'],
    shape: 'enum',
    choices: [
      { value: 'none', label: 'none', isDefault: true, explain: 'Attempts wait in the queue however long it takes.' },
      {
        value: 'codel',
        label: 'CoDel',
        explain: 'RFC 8289: once waits have stayed above 5 ms for 100 ms, drops queued work, faster and faster.',
      },
      {
        value: 'controlled_delay',
        label: 'controlled delay',
        explain: "Facebook's: while the queue has not drained for 100 ms, drops work that waited more than 10 ms.",
      },
    ],
  },
  {
    key: 'limit',
    title: 'Concurrency limit',
    field: ['admission', 'concurrency_limit'],
    shape: 'tagged',
    choices: [
      none('Admits every attempt the queue can hold.'),
      {
        value: 'static',
        label: 'static',
        explain: 'At most this many attempts admitted at once (queued or in service); the rest are refused.',
        params: [{ name: 'limit', label: 'Limit', unit: 'attempts', kind: 'count', value: workersTimes(2, 20) }],
      },
      {
        value: 'aimd',
        label: 'AIMD (Netflix)',
        explain: 'The limit grows by one while busy and shrinks by 10% on a drop or an answer slower than the timeout.',
        params: [
          { name: 'initial', label: 'Initial', unit: '', kind: 'count', value: 20 },
          { name: 'min', label: 'Min', unit: '', kind: 'count', value: 20 },
          { name: 'max', label: 'Max', unit: '', kind: 'count', value: 200 },
          { name: 'timeout', label: 'Slow after', unit: 'ms', kind: 'ms', value: 5000 },
        ],
      },
      {
        value: 'vegas',
        label: 'Vegas (Netflix)',
        explain: 'Grows while the estimated queue (from round-trip times) is small, shrinks when it is large.',
        params: [
          { name: 'initial', label: 'Initial', unit: '', kind: 'count', value: 20 },
          { name: 'max', label: 'Max', unit: '', kind: 'count', value: 1000 },
        ],
      },
      {
        value: 'gradient2',
        label: 'Gradient2 (Netflix)',
        explain: 'Follows the ratio of the long-term to the current round-trip time: shrinks as latency rises.',
        params: [
          { name: 'initial', label: 'Initial', unit: '', kind: 'count', value: 20 },
          { name: 'min', label: 'Min', unit: '', kind: 'count', value: 20 },
          { name: 'max', label: 'Max', unit: '', kind: 'count', value: 200 },
        ],
      },
      {
        value: 'envoy_gradient',
        label: 'Envoy adaptive',
        explain: 'Scales the limit by min RTT × 1.25 / sampled RTT, plus headroom; over-limit attempts get 503.',
        params: [
          { name: 'min', label: 'Min', unit: '', kind: 'count', value: 3 },
          { name: 'max', label: 'Max', unit: '', kind: 'count', value: 1000 },
        ],
      },
    ],
  },
  {
    key: 'rate_limit',
    title: 'Rate limit',
    field: ['admission', 'rate_limit'],
    shape: 'toggle',
    choices: [
      off('Arrivals are admitted at any rate.'),
      {
        value: 'on',
        label: 'token bucket',
        explain: "Arrivals beyond the rate (after a burst) are refused. Starts at the last run's offered rate.",
        params: [
          { name: 'rate_per_s', label: 'Rate', unit: 'per s', kind: 'number', value: offeredRatePerS },
          { name: 'burst', label: 'Burst', unit: 'blank = 1 s worth', kind: 'number', value: null },
        ],
      },
    ],
  },
  {
    key: 'shed',
    title: 'Load shedding',
    field: ['admission', 'shed_sheddable_above'],
    shape: 'number',
    choices: [
      off('Sheddable and critical requests queue alike.'),
      {
        value: 'on',
        label: 'shed sheddable work',
        explain: "Refuses sheddable requests (a client's criticality) while the queue holds this many; critical work still queues.",
        params: [{ name: 'value', label: 'Queue length', unit: 'attempts', kind: 'count', value: workersTimes(1, 10) }],
      },
    ],
  },
  {
    key: 'pushback',
    title: 'Pushback',
    field: ['pushback'],
    shape: 'toggle',
    choices: [
      off('A refusal for overload is a plain rejection: callers may retry at once.'),
      {
        value: 'on',
        label: 'on',
        explain: 'A refusal says "overloaded": callers that honour pushback wait the retry-after hint, or without one do not retry.',
        params: [{ name: 'retry_after', label: 'Retry after', unit: 'ms, blank = do not retry', kind: 'ms', value: null }],
      },
    ],
  },
  {
    key: 'expired',
    title: 'Expired work',
    shape: 'flags',
    explain: 'Work whose caller has given up is still served, unless deadlines tell the service.',
    params: [
      { name: 'drop_expired', at: ['drop_expired'], label: 'Drop queued work whose propagated deadline has passed', kind: 'flag' },
    ],
  },
];

export const BALANCER_FAMILIES = [
  {
    key: 'balance',
    title: 'Balancing',
    field: ['policy'],
    shape: 'enum',
    choices: [
      { value: 'round_robin', label: 'round robin', isDefault: true, explain: 'Each instance in turn, however busy it is.' },
      { value: 'random', label: 'random', explain: 'A random instance each time.' },
      { value: 'least_outstanding', label: 'least outstanding', explain: 'The instance with the fewest attempts in flight.' },
      { value: 'power_of_two_choices', label: 'power of two choices', explain: 'The less busy of two instances picked at random.' },
      {
        value: 'peak_ewma',
        label: 'peak EWMA (Finagle)',
        explain: 'Of two random instances, the one with the lower latency × (attempts in flight + 1).',
      },
    ],
  },
  {
    key: 'outlier',
    title: 'Outlier detection',
    field: ['outlier_detection'],
    shape: 'toggle',
    choices: [
      off('Every instance keeps its share, even one that keeps failing.'),
      {
        value: 'on',
        label: 'Envoy',
        explain: 'Ejects an instance after 5 errors in a row, for 30 s × times ejected; at most 10% of the pool, unless "always one".',
        params: [
          { name: 'consecutive_errors', label: 'Errors in a row', unit: '', kind: 'count', value: 5 },
          { name: 'base_ejection', label: 'Ejection', unit: 's', kind: 's', value: 30 },
          { name: 'max_ejection', label: 'Longest', unit: 's', kind: 's', value: 300 },
          { name: 'max_ejection_percent', label: 'Most ejected', unit: '% of pool', kind: 'number', value: 10 },
          { name: 'always_eject_one_host', label: 'Always allow one ejection', kind: 'flag', value: false },
        ],
      },
    ],
  },
];

// ---- reading and writing ---------------------------------------------------------------

function getIn(object, path) {
  let value = object;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = value[key];
  }
  return value;
}

/** Sets a nested value, creating objects on the way. */
function setIn(object, path, value) {
  let parent = object;
  for (const key of path.slice(0, -1)) {
    if (parent[key] === null || typeof parent[key] !== 'object') parent[key] = {};
    parent = parent[key];
  }
  parent[path[path.length - 1]] = value;
}

/** Deletes a nested value, and the objects it leaves empty (an empty `admission` means none). */
function deleteIn(object, path) {
  const parents = [object];
  for (const key of path.slice(0, -1)) {
    const next = parents[parents.length - 1][key];
    if (next === null || typeof next !== 'object') return;
    parents.push(next);
  }
  delete parents[parents.length - 1][path[path.length - 1]];
  for (let depth = parents.length - 1; depth > 0; depth -= 1) {
    if (Object.keys(parents[depth]).length > 0) break;
    delete parents[depth - 1][path[depth - 1]];
  }
}

/** A parameter's default for this context (defaults may depend on the last run or the service). */
export function paramDefault(param, ctx) {
  return typeof param.value === 'function' ? param.value(ctx) : param.value;
}

/** The parameters of a choice that apply to this target (some are for services' calls only). */
export function visibleParams(choice, ctx) {
  return (choice?.params ?? []).filter((param) => !param.onlyForServiceCalls || ctx?.fromService);
}

/** The scenario value of a parameter, from the number (or boolean) a field shows. */
function toScenario(param, value) {
  switch (param.kind) {
    case 'ms':
      return `${Number(value.toPrecision(12))}ms`;
    case 's':
      return `${Number(value.toPrecision(12))}s`;
    default:
      return value;
  }
}

/** The number (or boolean) a field shows for a scenario value; null when absent or unreadable. */
function fromScenario(param, raw, parseDurationMs) {
  if (raw === undefined || raw === null) return null;
  switch (param.kind) {
    case 'flag':
      return raw === true;
    case 'ms':
    case 's': {
      const ms = typeof raw === 'string' ? parseDurationMs(raw) : undefined;
      if (ms === undefined || ms === null) return null;
      return param.kind === 's' ? ms / 1000 : ms;
    }
    default:
      return typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
  }
}

/** Which choice a family's scenario value is. */
function choiceOf(family, raw) {
  const known = (value) => family.choices.some((choice) => choice.value === value);
  switch (family.shape) {
    case 'tagged':
      if (raw === undefined || raw === null) return 'none';
      if (typeof raw === 'string') return known(raw) ? raw : 'none';
      if (typeof raw === 'object') {
        const [tag] = Object.keys(raw);
        return known(tag) ? tag : 'none';
      }
      return 'none';
    case 'toggle':
    case 'number':
      return raw === undefined || raw === null ? 'off' : 'on';
    case 'enum': {
      const value = typeof raw === 'string' ? raw : raw && typeof raw === 'object' ? Object.keys(raw)[0] : undefined;
      if (known(value)) return value;
      return family.choices.find((choice) => choice.isDefault)?.value ?? family.choices[0].value;
    }
    default:
      return null;
  }
}

/** The object holding a choice's parameters in the scenario, if any. */
function paramsObject(family, raw, choice) {
  if (family.shape === 'toggle') return raw && typeof raw === 'object' ? raw : undefined;
  if (family.shape === 'tagged' && raw && typeof raw === 'object') return raw[choice];
  return undefined;
}

/**
 * What a family shows for a target (a call, service or balancer object of the scenario):
 * `{choice, values: {param: value|null}}`, values null where the scenario leaves the default.
 */
export function readFamily(target, family, parseDurationMs) {
  if (family.shape === 'flags') {
    const values = {};
    for (const param of family.params) values[param.name] = getIn(target, param.at) === true;
    return { choice: null, values };
  }
  const raw = getIn(target, family.field);
  const choice = choiceOf(family, raw);
  const values = {};
  const spec = family.choices.find((c) => c.value === choice);
  if (family.shape === 'number') {
    for (const param of spec?.params ?? []) values[param.name] = fromScenario(param, raw, parseDurationMs);
  } else {
    const object = paramsObject(family, raw, choice);
    for (const param of spec?.params ?? []) values[param.name] = fromScenario(param, object?.[param.name], parseDurationMs);
  }
  return { choice, values };
}

/**
 * Switches a family to a choice (in place), writing the choice's parameters with their
 * defaults. Returns a note for the user when the change touched something else (hedging
 * removes retries), else null.
 */
export function applyChoice(target, family, value, ctx) {
  const choice = family.choices.find((c) => c.value === value);
  if (!choice || choice.readOnly) return null;
  const defaults = {};
  for (const param of visibleParams(choice, ctx)) {
    const initial = paramDefault(param, ctx);
    // Flags off and parameters without a default are left out: the format's default applies.
    if (initial === null || initial === undefined || initial === false) continue;
    defaults[param.name] = toScenario(param, initial);
  }
  // "none" and "off" are written by leaving the field out; other choices are written out,
  // even a default one (a balancer's round robin), so the JSON says what was picked.
  const isOff = value === 'none' || value === 'off';
  if (isOff) deleteIn(target, family.field);
  else if (family.shape === 'tagged') setIn(target, family.field, choice.params ? { [value]: defaults } : value);
  else if (family.shape === 'toggle') setIn(target, family.field, defaults);
  else if (family.shape === 'number') setIn(target, family.field, defaults.value ?? null);
  else if (family.shape === 'enum') setIn(target, family.field, value);
  return family.afterChoice?.(target, value, ctx) ?? null;
}

/**
 * Sets one parameter of the family's current choice (in place). `value`: a number, a boolean
 * for flags, or null (blank: the format's default). Returns a note, as `applyChoice` does.
 */
export function applyParam(target, family, name, value, ctx) {
  if (family.shape === 'flags') {
    const param = family.params.find((p) => p.name === name);
    if (!param) return null;
    if (value === true) {
      for (const [key, initial] of Object.entries(param.create ?? {})) {
        if (target[key] === undefined || target[key] === null) target[key] = structuredClone(initial);
      }
      setIn(target, param.at, true);
    } else {
      deleteIn(target, param.at);
    }
    return null;
  }
  const raw = getIn(target, family.field);
  const choice = choiceOf(family, raw);
  const param = family.choices.find((c) => c.value === choice)?.params?.find((p) => p.name === name);
  if (!param) return null;
  if (family.shape === 'number') {
    // Blank keeps the number: the family is on while it has one (switch it off to remove it).
    if (value !== null) setIn(target, family.field, value);
    return null;
  }
  let object = paramsObject(family, raw, choice);
  if (!object) {
    // A choice written as a bare name ("hystrix") has no parameters to set.
    if (family.shape !== 'tagged' || typeof raw !== 'object') return null;
    object = raw[choice] = {};
  }
  if (value === null || value === false) delete object[name];
  else object[name] = param.kind === 'flag' ? true : toScenario(param, value);
  return family.afterParam?.(target, name, value, ctx) ?? null;
}

/** A short description of a family's state, for its collapsed summary line. */
export function describeFamily(family, state) {
  if (family.shape === 'flags') {
    const on = family.params.filter((param) => state.values[param.name]).length;
    return on === 0 ? 'off' : `${on} on`;
  }
  return family.choices.find((choice) => choice.value === state.choice)?.label ?? '';
}

/**
 * The family (of `families`, for the target written at `targetPath`) a validation error is
 * about, by the longest matching field path; undefined when none is.
 */
export function familyForError(errorPath, targetPath, families) {
  if (typeof errorPath !== 'string' || !targetPath) return undefined;
  let best;
  let bestLength = -1;
  for (const family of families) {
    const fields = family.shape === 'flags' ? family.params.map((param) => param.at) : [family.field];
    for (const field of fields) {
      const prefix = `${targetPath}.${field.join('.')}`;
      const matches = errorPath === prefix || errorPath.startsWith(`${prefix}.`) || errorPath.startsWith(`${prefix}[`);
      if (matches && prefix.length > bestLength) {
        best = family;
        bestLength = prefix.length;
      }
    }
  }
  return best;
}
