// The simulation worker: runs scenarios off the page's thread so the page never freezes.
//
// Protocol (every message is a plain object with a `type`):
//   page -> worker
//     {type: 'run', id, json}      run this scenario; supersedes any earlier run
//     {type: 'debug-panic'}        make the wasm panic (browser test of the crash path)
//   worker -> page
//     {type: 'ready'}                                  wasm loaded
//     {type: 'fatal', message}                         wasm could not load; nothing will run
//     {type: 'progress', id, simulated_s, duration_s, fraction}
//     {type: 'partial', id, report, faults, topology}  results so far, for long runs
//     {type: 'result', id, report, faults, topology, worker_ms}  the finished (or limit-stopped) run
//     {type: 'invalid', id, errors: [{path, kind, message}]}
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

async function run(id, json) {
  if (id !== latestId) return;
  let handle;
  try {
    handle = new RunHandle(json);
  } catch (error) {
    if (error?.name === 'ScenarioError' && Array.isArray(error.errors)) {
      self.postMessage({ type: 'invalid', id, errors: error.errors });
    } else {
      crash(id, error);
    }
    return;
  }
  try {
    const started = performance.now();
    // The scenario's structure does not change while it runs: converted once.
    const topology = handle.topology();
    let lastPartial = started;
    let step_s = Math.min(FIRST_SLICE_S, Math.max(handle.duration_s, 0.001));
    for (;;) {
      const sliceStarted = performance.now();
      const done = handle.step(step_s);
      const sliceMs = performance.now() - sliceStarted;
      if (done) break;
      // Aim the next slice at the target wall time, changing by at most 4x at a time.
      const factor = Math.min(4, Math.max(0.25, SLICE_MS_TARGET / Math.max(sliceMs, 0.5)));
      step_s = Math.max(0.001, step_s * factor);
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
      await yieldToEvents();
      if (id !== latestId) return; // superseded by a newer request
    }
    self.postMessage({
      type: 'result',
      id,
      report: handle.report(),
      faults: handle.faults(),
      topology,
      worker_ms: performance.now() - started,
    });
  } catch (error) {
    crash(id, error);
  } finally {
    try {
      handle.free();
    } catch {
      // After a trap the wasm instance may refuse even this; the page restarts the worker.
    }
  }
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
