// Structural edits of a scenario's graph: add, connect and remove nodes and calls. Pure
// functions on the scenario object (tested under Node); the editor (graph-editor.js) calls
// them and the simulator's validation judges the result like any other edit.

/** Kinds a node can be added as, with a label for people. */
export const NODE_KINDS = [
  ['service', 'service'],
  ['client', 'client'],
  ['queue', 'queue'],
  ['function', 'function'],
  ['llm', 'LLM endpoint'],
  ['load_balancer', 'load balancer'],
];

/** Kinds a call may reach. */
const CALLABLE = new Set(['service', 'queue', 'function', 'llm', 'load_balancer']);
/** Kinds that make calls. */
const CALLERS = new Set(['client', 'service', 'function']);
/** Kinds that can poll a queue. */
const CONSUMERS = new Set(['service', 'function']);

function nodesOf(scenario) {
  return Array.isArray(scenario?.nodes) ? scenario.nodes.filter((node) => node && typeof node === 'object') : [];
}

function findNode(scenario, id) {
  return nodesOf(scenario).find((node) => node.id === id);
}

/** `service-2`, `service-3`, ...: the first id of that kind not taken. */
export function uniqueId(scenario, kind) {
  const base = kind.replaceAll('_', '-');
  const taken = new Set(nodesOf(scenario).map((node) => node.id));
  if (!taken.has(base)) return base;
  for (let number = 2; ; number += 1) {
    if (!taken.has(`${base}-${number}`)) return `${base}-${number}`;
  }
}

/** A new node of `kind` with the fields it needs to be valid, and modest values. */
export function newNode(scenario, kind) {
  const id = uniqueId(scenario, kind);
  const firstCallable = nodesOf(scenario).find((node) => CALLABLE.has(node.kind))?.id;
  const firstService = nodesOf(scenario).find((node) => node.kind === 'service')?.id;
  switch (kind) {
    case 'client':
      // A client makes exactly one call: to the first node that takes calls, if any.
      return { kind, id, rate: 50, calls: firstCallable ? [{ to: firstCallable, timeout: '1s' }] : [] };
    case 'service':
      return { kind, id, workers: 4, service_time: { exponential: { mean: '20ms' } } };
    case 'queue':
      return { kind, id, visibility_timeout: '30s' };
    case 'function':
      return { kind, id, service_time: { exponential: { mean: '50ms' } } };
    case 'llm':
      return {
        kind,
        id,
        slots: 16,
        prompt_tokens: { lognormal: { p50: 1000, p99: 4000 } },
        output_tokens: { lognormal: { p50: 200, p99: 800 } },
      };
    case 'load_balancer':
      return { kind, id, policy: 'round_robin', pool: firstService ? [firstService] : [] };
    default:
      throw new Error(`unknown node kind ${kind}`);
  }
}

/** Adds a node of `kind`; returns its id. */
export function addNode(scenario, kind) {
  const node = newNode(scenario, kind);
  if (!Array.isArray(scenario.nodes)) scenario.nodes = [];
  scenario.nodes.push(node);
  return node.id;
}

const KIND_NAMES = { load_balancer: 'a load balancer', llm: 'an LLM endpoint', queue: 'a queue', client: 'a client' };
const kindName = (kind) => KIND_NAMES[kind] ?? `a ${kind}`;

/**
 * Connects `from` to `to` as the format allows: a call (`calls: [{to}]`) from a client, service
 * or function; a pool member of a load balancer; a queue polled by a service or function.
 * Returns `{ok: true, what}` or `{ok: false, why}` (said to the user), changing nothing then.
 */
export function connect(scenario, fromId, toId) {
  const from = findNode(scenario, fromId);
  const to = findNode(scenario, toId);
  if (!from || !to) return { ok: false, why: 'Pick two nodes of the graph.' };
  if (from === to) return { ok: false, why: 'A node cannot connect to itself.' };
  if (to.kind === 'client') return { ok: false, why: 'Nothing calls a client: clients only make calls.' };
  if (from.kind === 'load_balancer') {
    if (to.kind !== 'service') return { ok: false, why: "A load balancer's pool holds services only." };
    if (!Array.isArray(from.pool)) from.pool = [];
    if (from.pool.includes(to.id)) return { ok: false, why: `${to.id} is already in ${from.id}'s pool.` };
    from.pool.push(to.id);
    return { ok: true, what: `${to.id} joined ${from.id}'s pool` };
  }
  if (from.kind === 'queue') {
    if (!CONSUMERS.has(to.kind)) return { ok: false, why: 'A queue is polled by services or functions only.' };
    if (to.consumes?.queue && to.consumes.queue !== from.id) {
      return { ok: false, why: `${to.id} already polls ${to.consumes.queue}; a node polls one queue.` };
    }
    if (to.consumes?.queue === from.id) return { ok: false, why: `${to.id} already polls ${from.id}.` };
    to.consumes = { queue: from.id };
    return { ok: true, what: `${to.id} polls ${from.id}` };
  }
  if (!CALLERS.has(from.kind)) return { ok: false, why: `${kindName(from.kind)} makes no calls.` };
  if (!CALLABLE.has(to.kind)) return { ok: false, why: `${kindName(to.kind)} cannot be called.` };
  if (!Array.isArray(from.calls)) from.calls = [];
  if (from.kind === 'client' && from.calls.length > 0) {
    return { ok: false, why: `A client makes exactly one call: remove ${from.id}'s call to ${from.calls[0]?.to} first.` };
  }
  if (from.calls.some((call) => call?.to === to.id)) return { ok: false, why: `${from.id} already calls ${to.id}.` };
  from.calls.push({ to: to.id });
  return { ok: true, what: `${from.id} calls ${to.id}` };
}

/** Removes node `id` and everything that refers to it: calls, fallbacks, pool places, polling, dead-letter targets, faults. */
export function removeNode(scenario, id) {
  const before = nodesOf(scenario).length;
  scenario.nodes = (scenario.nodes ?? []).filter((node) => node?.id !== id);
  for (const node of nodesOf(scenario)) {
    if (Array.isArray(node.calls)) {
      node.calls = node.calls.filter((call) => call?.to !== id);
      for (const call of node.calls) {
        if (call?.fallback?.call?.to === id) delete call.fallback;
      }
    }
    if (Array.isArray(node.pool)) node.pool = node.pool.filter((member) => member !== id);
    if (node.consumes?.queue === id) delete node.consumes;
    if (node.dead_letter === id) delete node.dead_letter;
    if (node.asynchronous?.on_failure === id) delete node.asynchronous.on_failure;
  }
  if (Array.isArray(scenario.faults)) scenario.faults = scenario.faults.filter((fault) => fault?.node !== id);
  return nodesOf(scenario).length < before;
}

/** `nodes[2].calls[1]` or `nodes[2].calls[1].fallback.call` as numbers, or null. */
export function parseCallPath(path) {
  const match = /^nodes\[(\d+)\]\.calls\[(\d+)\](\.fallback\.call)?$/.exec(String(path));
  return match ? { node: Number(match[1]), call: Number(match[2]), fallback: Boolean(match[3]) } : null;
}

/** The call object a path names, with its caller: `{caller, call}`, or null. */
export function callAt(scenario, path) {
  const parsed = parseCallPath(path);
  const caller = parsed ? scenario?.nodes?.[parsed.node] : null;
  const call = caller?.calls?.[parsed.call];
  if (!call || typeof call !== 'object') return null;
  if (parsed.fallback) return call.fallback?.call ? { caller, call: call.fallback.call } : null;
  return { caller, call };
}

/** Removes the call a path names (a fallback call: its fallback). */
export function removeCall(scenario, path) {
  const parsed = parseCallPath(path);
  const found = callAt(scenario, path);
  if (!found) return false;
  if (parsed.fallback) delete found.caller.calls[parsed.call].fallback;
  else found.caller.calls.splice(parsed.call, 1);
  return true;
}
