// The simulation worker: runs scenarios off the page's thread so the page never freezes.
//
// Protocol (every message is a plain object with a `type`):
//   page -> worker
//     {type: 'run', id, json}      run this scenario; supersedes any earlier run
//     {type: 'run-many', id, jsons, events_max}
//                                  run these scenarios one after another (compare mode's A and
//                                  B; one scenario on several seeds); supersedes any earlier
//                                  run. Stops with 'too-much' once the events simulated so
//                                  far, plus as many again per run left, would pass events_max.
//     {type: 'debug-panic'}        make the wasm panic (browser test of the crash path)
//   worker -> page
//     {type: 'ready'}                                  wasm loaded
//     {type: 'fatal', message}                         wasm could not load; nothing will run
//     {type: 'progress', id, simulated_s, duration_s, fraction}   (fraction of all runs of a 'run-many')
//     {type: 'partial', id, report, faults, topology}  results so far, for long runs
//     {type: 'result', id, report, faults, topology, worker_ms}  the finished (or limit-stopped) run
//     {type: 'results', id, runs: [{report, faults, topology}], worker_ms}   all of a 'run-many'
//     {type: 'too-much', id, done, count, events}      a 'run-many' refused after `done` runs
//     {type: 'invalid', id, errors: [{path, kind, message}], index}   (index: which of a 'run-many')
//     {type: 'crash', id, message}                     a bug: wasm trapped; restart this worker
//
// A run is stepped in slices of simulated time sized to take about SLICE_MS_TARGET of wall
// time; between slices the worker yields, so a newer 'run' message is seen and the older run
// is dropped. Slicing does not change results: a run is a pure function of scenario and seed.
// (Wall-clock time here only schedules the slices; the simulation never reads it.)

import init, { RunHandle, debug_panic } from './pkg/stormglass_web.js';

const SLICE_MS_TARGET = 25;
const PARTIAL_EVERY_MS = 300;
/** First slice, in simulated seconds; adapted after each slice. */
const FIRST_SLICE_S = 2;
/** Most scenarios in one 'run-many' (the page's largest seed count). */
const MANY_MAX = 20;

let latestId = -1;

// A Rust panic is logged through console.error by console_error_panic_hook just before the
// wasm traps; keep the last such message so the crash report can say what panicked.
let lastConsoleError = '';
const consoleError = console.error.bind(console);
console.error = (...args) => {
  lastConsoleError = args.map(String).join(' ');
  consoleError(...args);
};

const ready = init().then(
  () => {
    self.postMessage({ type: 'ready' });
    return true;
  },
  (error) => {
    self.postMessage({ type: 'fatal', message: `could not load the simulator: ${describe(error)}` });
    return false;
  },
);

function describe(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Resolves after pending messages had their turn (a zero-delay yield without timer clamping). */
function yieldToEvents() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

function crash(id, error) {
  const panic = error instanceof WebAssembly.RuntimeError && lastConsoleError ? ` after ${lastConsoleError}` : '';
  self.postMessage({ type: 'crash', id, message: `${describe(error)}${panic}` });
}

/**
 * Opens scenario `json` and steps it to its end in slices, calling `onSlice(handle, topology)`
 * between slices. Returns `{run: {report, faults, topology}, events}`, or null when the
 * scenario was invalid or the run crashed (both already posted, `index` naming which of a
 * 'run-many') or a newer request superseded it.
 */
async function stepToEnd(id, json, index, onSlice) {
  let handle;
  try {
    handle = new RunHandle(json);
  } catch (error) {
    if (error?.name === 'ScenarioError' && Array.isArray(error.errors)) {
      self.postMessage({ type: 'invalid', id, errors: error.errors, ...(index === null ? {} : { index }) });
    } else {
      crash(id, error);
    }
    return null;
  }
  try {
    // The scenario's structure does not change while it runs: converted once.
    const topology = handle.topology();
    let step_s = Math.min(FIRST_SLICE_S, Math.max(handle.duration_s, 0.001));
    for (;;) {
      const sliceStarted = performance.now();
      const done = handle.step(step_s);
      const sliceMs = performance.now() - sliceStarted;
      if (done) break;
      // Aim the next slice at the target wall time, changing by at most 4x at a time.
      const factor = Math.min(4, Math.max(0.25, SLICE_MS_TARGET / Math.max(sliceMs, 0.5)));
      step_s = Math.max(0.001, step_s * factor);
      onSlice(handle, topology);
      await yieldToEvents();
      if (id !== latestId) return null; // superseded by a newer request
    }
    return { run: { report: handle.report(), faults: handle.faults(), topology }, events: handle.events };
  } catch (error) {
    crash(id, error);
    return null;
  } finally {
    try {
      handle.free();
    } catch {
      // After a trap the wasm instance may refuse even this; the page restarts the worker.
    }
  }
}

async function run(id, json) {
  if (id !== latestId) return;
  const started = performance.now();
  let lastPartial = started;
  const result = await stepToEnd(id, json, null, (handle, topology) => {
    self.postMessage({
      type: 'progress',
      id,
      simulated_s: handle.simulated_s,
      duration_s: handle.duration_s,
      fraction: handle.progress(),
    });
    const now = performance.now();
    if (now - lastPartial >= PARTIAL_EVERY_MS) {
      lastPartial = now;
      self.postMessage({ type: 'partial', id, report: handle.report(), faults: handle.faults(), topology });
    }
  });
  if (!result) return;
  self.postMessage({ type: 'result', id, ...result.run, worker_ms: performance.now() - started });
}

async function runMany(id, jsons, events_max) {
  if (id !== latestId) return;
  const started = performance.now();
  const runs = [];
  let events = 0;
  for (const [index, json] of jsons.entries()) {
    // Every run so far is a fair estimate of the ones left: refuse before passing the bound.
    if (index > 0 && events + (events / index) * (jsons.length - index) > events_max) {
      self.postMessage({ type: 'too-much', id, done: index, count: jsons.length, events });
      return;
    }
    const progress = (fraction) =>
      self.postMessage({ type: 'progress', id, index, count: jsons.length, fraction: (index + fraction) / jsons.length });
    progress(0);
    const result = await stepToEnd(id, json, index, (handle) => progress(handle.progress()));
    if (!result) return;
    runs.push(result.run);
    events += result.events;
    await yieldToEvents();
    if (id !== latestId) return;
  }
  self.postMessage({ type: 'results', id, runs, worker_ms: performance.now() - started });
}

self.onmessage = async (event) => {
  const message = event.data;
  if (!message || typeof message !== 'object') return;
  if (!(await ready)) return;
  switch (message.type) {
    case 'run':
      if (!Number.isSafeInteger(message.id) || typeof message.json !== 'string') {
        self.postMessage({ type: 'crash', id: message.id, message: 'bad run request: expected {id: integer, json: string}' });
        return;
      }
      latestId = Math.max(latestId, message.id);
      await run(message.id, message.json);
      break;
    case 'run-many':
      if (
        !Number.isSafeInteger(message.id) ||
        !Array.isArray(message.jsons) ||
        message.jsons.length === 0 ||
        message.jsons.length > MANY_MAX ||
        !message.jsons.every((json) => typeof json === 'string') ||
        !(message.events_max > 0)
      ) {
        self.postMessage({ type: 'crash', id: message.id, message: `bad run-many request: expected {id: integer, jsons: 1 to ${MANY_MAX} strings, events_max > 0}` });
        return;
      }
      latestId = Math.max(latestId, message.id);
      await runMany(message.id, message.jsons, message.events_max);
      break;
    case 'debug-panic':
      try {
        debug_panic('worker');
      } catch (error) {
        crash(latestId, error);
      }
      break;
    default:
      break;
  }
};
