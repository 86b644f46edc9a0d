// The playground's controls, as edits of the scenario (a plain object in the scenario JSON
// format). Reading and writing only: no value is judged here. Whatever a control produces
// goes to the simulator, whose validation names the field if it is wrong, so the page has one
// source of truth about what a valid scenario is.
//
// Client controls edit the selected client; call controls the selected call (a client's call
// or one of a service's calls); service controls the selected service; fault controls the
// first fault.

/** The node with this id, or undefined. */
export function findNode(scenario, id) {
  return Array.isArray(scenario?.nodes) ? scenario.nodes.find((node) => node?.id === id) : undefined;
}

/** Ids of the nodes of one kind ("client", "service", "load_balancer", "function", "llm"), in scenario order. */
export function nodeIds(scenario, kind) {
  if (!Array.isArray(scenario?.nodes)) return [];
  return scenario.nodes.filter((node) => node?.kind === kind && typeof node.id === 'string').map((node) => node.id);
}

/**
 * Every call of the scenario, in scenario order: `{node, index, path, label}`, `node` the
 * caller's id, `path` where the call is written (as validation errors name it), `label` for
 * people ("clients → api", "api → db (2)" for a second call to the same node).
 */
export function callList(scenario) {
  if (!Array.isArray(scenario?.nodes)) return [];
  const list = [];
  scenario.nodes.forEach((node, position) => {
    if (!Array.isArray(node?.calls) || typeof node.id !== 'string') return;
    node.calls.forEach((call, index) => {
      const to = typeof call?.to === 'string' ? call.to : '?';
      const same = node.calls.slice(0, index).filter((earlier) => earlier?.to === to).length;
      list.push({
        node: node.id,
        index,
        path: `nodes[${position}].calls[${index}]`,
        label: `${node.id} → ${to}${same > 0 ? ` (${same + 1})` : ''}`,
      });
    });
  });
  return list;
}

/** The selected call's entry in `callList`, or undefined. */
export function selectedCallInfo(scenario, selection) {
  const call = selection?.call;
  return callList(scenario).find((entry) => entry.node === call?.node && entry.index === call?.index);
}

/** The path of a node in the scenario ("nodes[3]"), or null. */
export function nodePath(scenario, id) {
  const position = Array.isArray(scenario?.nodes) ? scenario.nodes.findIndex((node) => node?.id === id) : -1;
  return position < 0 ? null : `nodes[${position}]`;
}

/**
 * The selection kept where its nodes and call still exist; else the first client, service,
 * load balancer, function and LLM endpoint, and the selected client's call.
 */
export function reconcileSelection(scenario, selection = {}) {
  const pick = (kind, current) => {
    const ids = nodeIds(scenario, kind);
    return ids.includes(current) ? current : (ids[0] ?? null);
  };
  const client = pick('client', selection.client);
  const calls = callList(scenario);
  const kept = calls.find((entry) => entry.node === selection.call?.node && entry.index === selection.call?.index);
  const fallback = calls.find((entry) => entry.node === client) ?? calls[0];
  const call = kept ?? fallback;
  return {
    client,
    service: pick('service', selection.service),
    balancer: pick('load_balancer', selection.balancer),
    function: pick('function', selection.function),
    llm: pick('llm', selection.llm),
    call: call ? { node: call.node, index: call.index } : null,
  };
}

/** The selected call (an object of the scenario, edited in place), or undefined. */
export function selectedCall(scenario, selection) {
  const node = findNode(scenario, selection?.call?.node);
  return Array.isArray(node?.calls) ? node.calls[selection.call.index] : undefined;
}

function firstFault(scenario) {
  return Array.isArray(scenario?.faults) ? scenario.faults[0] : undefined;
}

/** "100ms" -> 100, using the simulator's own duration parser; null when absent or unreadable. */
function ms(text, parseDurationMs) {
  if (typeof text !== 'string') return null;
  return parseDurationMs(text) ?? null;
}

/** A number as a duration string of the format: 100 -> "100ms", 1.5 -> "1.5ms". */
function msText(value) {
  return `${Number(value.toPrecision(12))}ms`;
}

function secondsText(value) {
  return `${Number(value.toPrecision(12))}s`;
}

/** The kind of a backoff value ("none" | {constant} | {exponential}). */
function backoffKind(backoff) {
  if (backoff && typeof backoff === 'object') {
    if ('constant' in backoff) return 'constant';
    if ('exponential' in backoff) return 'exponential';
  }
  return 'none';
}

/**
 * What the controls show for a scenario and selection. Numbers are null where the scenario
 * has nothing (no timeout, unbounded queue) or an unreadable value.
 */
export function readControls(scenario, selection, parseDurationMs) {
  const client = findNode(scenario, selection.client);
  const call = selectedCall(scenario, selection);
  const service = findNode(scenario, selection.service);
  const fault = firstFault(scenario);
  const retry = call?.retry;
  const backoff = retry?.backoff;
  const kind = backoffKind(backoff);
  const number = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
  const faultStart = ms(fault?.start, parseDurationMs);
  const faultEnd = ms(fault?.end, parseDurationMs);
  return {
    seed: number(scenario?.seed) ?? 0,
    hasClient: Boolean(client),
    // A closed-loop client has users instead of a rate.
    closedLoop: client?.users !== undefined && client?.users !== null,
    rate_per_s: number(client?.rate),
    users: number(client?.users),
    criticality: typeof client?.criticality === 'string' ? client.criticality : 'critical',
    hasCall: Boolean(call),
    timeout_ms: ms(call?.timeout, parseDurationMs),
    retries: retry ? Math.max(0, (number(retry.max_attempts) ?? 1) - 1) : 0,
    backoff: kind,
    backoff_base_ms:
      kind === 'constant' ? ms(backoff.constant, parseDurationMs) : kind === 'exponential' ? ms(backoff.exponential?.base, parseDurationMs) : null,
    backoff_cap_ms: kind === 'exponential' ? ms(backoff.exponential?.cap, parseDurationMs) : null,
    jitter: typeof retry?.jitter === 'string' ? retry.jitter : 'none',
    hasService: Boolean(service),
    workers: number(service?.workers),
    discipline: typeof service?.queue?.discipline === 'string' ? service.queue.discipline : 'fifo',
    queue_capacity: number(service?.queue?.capacity),
    hasFault: Boolean(fault),
    fault_node: typeof fault?.node === 'string' ? fault.node : '',
    // The fault's factor: a surge multiplies a client's rate, a slowdown a service's times.
    // Other effects (errors, outages, lost workers, added latency) are edited as JSON.
    fault_effect: faultEffect(fault),
    fault_factor: number(fault?.[faultEffect(fault)]),
    fault_start_s: faultStart === null ? null : faultStart / 1000,
    fault_length_s: faultStart === null || faultEnd === null ? null : (faultEnd - faultStart) / 1000,
  };
}

/** Which factor the fault controls edit: "surge", "slowdown", or "other". */
function faultEffect(fault) {
  if (!fault) return 'other';
  if (typeof fault.surge === 'number') return 'surge';
  if (typeof fault.slowdown === 'number') return 'slowdown';
  const others = ['added_latency', 'error_rate', 'outage', 'workers_lost'];
  return others.some((key) => fault[key] !== undefined && fault[key] !== null) ? 'other' : 'slowdown';
}

/** The retry policy of a call, created (as "no retries") if the call has none. */
function ensureRetry(call) {
  if (!call.retry || typeof call.retry !== 'object') call.retry = { max_attempts: 1 };
  return call.retry;
}

/**
 * Applies one control's value to the scenario (in place). `value` is a number, a string for
 * selects, or null for a blank number field. Returns false when the control has nothing to
 * edit (no client, service or fault selected).
 */
export function applyControl(scenario, selection, name, value, parseDurationMs) {
  if (name === 'seed') {
    scenario.seed = value;
    return true;
  }
  const client = findNode(scenario, selection.client);
  const call = selectedCall(scenario, selection);
  const service = findNode(scenario, selection.service);
  const fault = firstFault(scenario);
  switch (name) {
    case 'rate':
      if (!client) return false;
      client.rate = value;
      return true;
    case 'users':
      if (!client) return false;
      client.users = value;
      return true;
    case 'criticality':
      if (!client) return false;
      // The format's default is left out, as the presets write it.
      if (value === 'critical') delete client.criticality;
      else client.criticality = value;
      return true;
    case 'timeout':
      if (!call) return false;
      // Blank: no timeout (wait forever), as the format's default.
      if (value === null) delete call.timeout;
      else call.timeout = msText(value);
      return true;
    case 'retries': {
      if (!call) return false;
      ensureRetry(call).max_attempts = value === null ? null : value + 1;
      return true;
    }
    case 'backoff': {
      if (!call) return false;
      const retry = ensureRetry(call);
      const current = readControls(scenario, selection, parseDurationMs);
      if (value === 'constant') {
        retry.backoff = { constant: msText(current.backoff_base_ms ?? 50) };
      } else if (value === 'exponential') {
        const previous = retry.backoff?.exponential;
        retry.backoff = {
          exponential: {
            base: msText(current.backoff_base_ms ?? 10),
            cap: msText(current.backoff_cap_ms ?? 1000),
            ...(previous && typeof previous.multiplier === 'number' ? { multiplier: previous.multiplier } : {}),
          },
        };
      } else {
        retry.backoff = 'none';
      }
      return true;
    }
    case 'backoff-base': {
      if (!call) return false;
      const retry = ensureRetry(call);
      const kind = backoffKind(retry.backoff);
      const text = value === null ? null : msText(value);
      if (kind === 'constant') retry.backoff.constant = text;
      else if (kind === 'exponential') retry.backoff.exponential.base = text;
      else return false;
      return true;
    }
    case 'backoff-cap': {
      if (!call) return false;
      const retry = ensureRetry(call);
      if (backoffKind(retry.backoff) !== 'exponential') return false;
      retry.backoff.exponential.cap = value === null ? null : msText(value);
      return true;
    }
    case 'jitter':
      if (!call) return false;
      ensureRetry(call).jitter = value;
      return true;
    case 'workers':
      if (!service) return false;
      service.workers = value;
      return true;
    case 'discipline':
      if (!service) return false;
      service.queue = { ...(service.queue ?? {}), discipline: value };
      return true;
    case 'capacity':
      if (!service) return false;
      service.queue = { ...(service.queue ?? {}) };
      // Blank: unbounded, as the format's default.
      if (value === null) delete service.queue.capacity;
      else service.queue.capacity = value;
      return true;
    case 'fault-factor': {
      const effect = faultEffect(fault);
      if (!fault || effect === 'other') return false;
      if (value === null) delete fault[effect];
      else fault[effect] = value;
      return true;
    }
    case 'fault-start': {
      if (!fault) return false;
      const { fault_length_s: length } = readControls(scenario, selection, parseDurationMs);
      fault.start = value === null ? null : secondsText(value);
      if (value !== null) fault.end = secondsText(value + (length ?? 10));
      return true;
    }
    case 'fault-length': {
      if (!fault) return false;
      const { fault_start_s: start } = readControls(scenario, selection, parseDurationMs);
      fault.end = value === null || start === null ? null : secondsText(start + value);
      return true;
    }
    default:
      return false;
  }
}

/**
 * Adds a slowdown fault on the selected service: 3x for 10 s, a third of the way into the run.
 * Returns false when there is no service to put it on.
 */
export function addSlowdownFault(scenario, selection, parseDurationMs) {
  if (!selection.service) return false;
  const duration_s = (ms(scenario.duration, parseDurationMs) ?? 300_000) / 1000;
  const start_s = Math.round(duration_s / 3);
  scenario.faults = [
    ...(Array.isArray(scenario.faults) ? scenario.faults : []),
    { node: selection.service, start: secondsText(start_s), end: secondsText(start_s + 10), slowdown: 3 },
  ];
  return true;
}
