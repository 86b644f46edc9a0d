// The playground page: wires the controls, the worker and the drawing together.
//
//   controls, function, LLM and policies panels / JSON editor --edit--> scenario (plain object) --debounced 'run'--> worker.js
//   worker 'result' --> new Figures({report, faults, topology}) --> graph + charts at the time cursor
//
// The page holds no simulation logic: the worker runs the wasm simulator, the wasm draws, and
// the simulator's validation decides what a valid scenario is. Scenario text (names, ids,
// descriptions) is user data: it is only ever set with textContent.

import init, * as wasm from './pkg/stormglass_web.js';
import {
  addSlowdownFault,
  applyControl,
  callList,
  findNode,
  nodeIds,
  nodePath,
  readControls,
  reconcileSelection,
  selectedCall,
  selectedCallInfo,
} from './controls.js';
import {
  applyFunctionControl,
  functionErrors,
  FUNCTION_CONTROL_FIELDS,
  initExplained,
  PRICES,
  readFunction,
  scalingChoices,
  scalingExplained,
} from './functions.js';
import { applyLlmControl, cacheExplained, LLM_CONTROL_FIELDS, LLM_PRICES, llmErrors, readLlm } from './llms.js';
import { applyChoice, applyParam, BALANCER_FAMILIES, CALL_FAMILIES, familyForError, SERVICE_FAMILIES } from './policies.js';
import { createFamilyGroup } from './policy-panel.js';
import { renderFunctionSummary } from './function-summary.js';
import { renderLlmSummary } from './llm-summary.js';
import { renderSummary } from './summary.js';
import { drawAtNextFrame, startPlaying as play, stopPlaying as stopPlayer } from './player.js';
import { hideVariants, renderComparison, renderSpread } from './variants.js';
import { queueCaption } from './captions.js';
import { checkedView, isLinkFragment, readableKeyOrder, viewOf } from './share.js';
import { wireSharePanel } from './share-panel.js';
import { wireExportPanel } from './export-panel.js';
import { createHistory, historyKeyAction } from './history.js';
import { createAutosave } from './autosave.js';
import { wireGraphEditor } from './graph-editor.js';

/** Quiet time after the last control change before re-running. */
const RERUN_DEBOUNCE_MS = 150;
/** Quiet time after the last change before the address bar's link follows it. */
const ADDRESS_DEBOUNCE_MS = 400;

const CHARTS = [
  ['traffic', 'chart-traffic'],
  ['latency', 'chart-latency'],
  ['policies', 'chart-policies'],
  ['queue', 'chart-queue'],
];

/** What each queue discipline does, under the discipline picker. */
const DISCIPLINE_EXPLAINED = {
  fifo: 'Oldest first: under overload, workers serve attempts whose callers may have given up.',
  lifo: 'Newest first: under overload, serves the attempts whose callers still wait.',
  adaptive_lifo: 'FIFO normally, LIFO once a queue has formed (Facebook, Fail at Scale).',
  priority: "Most critical first (a client's criticality), oldest first within one.",
};

/** What each invocation type does, under its picker. */
const INVOCATION_EXPLAINED = {
  sync: 'Callers wait for the result; a throttle is a 429 they see, and may retry.',
  async: "Lambda's event queue accepts each event at once and retries it; retries, event age and an on-failure queue are edited in the Scenario JSON.",
};

const state = {
  presets: [],
  /** The scenario being edited, in the scenario JSON format. */
  scenario: null,
  selection: { client: null, service: null, balancer: null, function: null, llm: null, call: null },
  /** The node whose traffic the traffic chart shows (the last one clicked); null: all. */
  focus: null,
  /**
   * What the policies chart shows: a call's path ("nodes[0].calls[0]") or a service's or load
   * balancer's id, as last picked; null: the selected call.
   */
  policyFocus: null,
  /** What a function leaves out, as the simulator fills it in (placeholders of the Function fieldset). */
  functionDefaults: null,
  /** What an LLM endpoint leaves out, as the simulator fills it in (placeholders of the LLM fieldset). */
  llmDefaults: null,
  /** The last report shown (policy defaults start from its figures). */
  lastReport: null,
  /** Validation errors of the last run request, shown next to the policies they concern. */
  lastErrors: [],
  /** The policies panel's groups, by target kind ("call", "service", "balancer"). */
  policyGroups: {},
  /** wasm Figures of the results on screen (the last valid run). */
  figures: null,
  cursor_s: 0,
  /** Once the user moves the cursor, new results keep it where it is. */
  cursorTouched: false,
  /**
   * Whether the address bar carries the scenario as a link (`#v1.…`): from the first edit, or
   * when the page was opened from a link, so a reload keeps the edits. A preset just picked
   * needs no link.
   */
  addressTracks: false,
  addressTimer: 0,
  /** The preset the scenario came from (what "Reset to preset" goes back to); null: a link or a file. */
  origin: null,
  requestId: 0,
  /** performance.now() when the current request was sent, to measure the re-run time. */
  requestSentAt: 0,
  resultsShown: 0,
  worker: null,
  /**
   * Compare mode: {A, B, editing: 'A' | 'B'}, two scenarios run on the same seed;
   * `state.scenario` is the one being edited. null outside compare mode.
   */
  compare: null,
  /** How many consecutive seeds a run covers (1 outside multi-seed mode). */
  seeds: 1,
  /** What the current request runs: 'single', 'compare' or 'seeds' (how to read its results). */
  requestKind: 'single',
  debounceTimer: 0,
  playing: false,
  /** Set after the page's wasm trapped: it is not called again (the banner says reload). */
  wasmBroken: false,
  editorDirty: false,
};

// A Rust panic is logged through console.error (console_error_panic_hook) just before the
// wasm traps; the crash banner quotes it.
let lastConsoleError = '';
const consoleError = console.error.bind(console);
console.error = (...args) => {
  lastConsoleError = args.map(String).join(' ');
  consoleError(...args);
};

/** Elements by id; a missing one is reported in the banner instead of failing later. */
const ui = {};

function collectElements() {
  const ids = {
    preset: 'preset', run: 'run', seed: 'seed', runStatus: 'run-status', runProgress: 'run-progress',
    banner: 'banner', bannerText: 'banner-text', bannerReload: 'banner-reload', bannerDismiss: 'banner-dismiss',
    scenarioName: 'scenario-name', scenarioDescription: 'scenario-description', whatToTry: 'what-to-try',
    clientControls: 'client-controls', clientName: 'client-name', rateControl: 'rate-control', usersControl: 'users-control',
    callControls: 'call-controls', callName: 'call-name',
    serviceControls: 'service-controls', serviceName: 'service-name', disciplineExplain: 'discipline-explain',
    functionControls: 'function-controls', functionName: 'function-name', priceRows: 'price-rows',
    fnScaling: 'fn-scaling', fnScalingExplain: 'fn-scaling-explain', fnPerTenSeconds: 'fn-per-ten-seconds',
    fnPerTenSecondsLabel: 'fn-per-ten-seconds-label', fnInvocation: 'fn-invocation', fnInvocationExplain: 'fn-invocation-explain',
    fnInvocationNote: 'fn-invocation-note', fnInit: 'fn-init', fnInitExplain: 'fn-init-explain',
    queueTitle: 'queue-title', queueFocus: 'queue-focus', queueUnit: 'queue-unit',
    functionSummary: 'function-summary', functionRows: 'function-rows', functionDetail: 'function-detail',
    llmControls: 'llm-controls', llmName: 'llm-name', llmPriceRows: 'llm-price-rows', llmRefusals: 'llm-refusals',
    llmCacheExplain: 'llm-cache-hit-explain', llmCacheNote: 'llm-cache-note',
    llmSummary: 'llm-summary', llmRows: 'llm-rows', llmDetail: 'llm-detail', llmCacheColumn: 'llm-cache-column',
    servicePolicyGroup: 'service-policy-group',
    callFamilies: 'call-families', serviceFamilies: 'service-families', balancerFamilies: 'balancer-families',
    policyCallName: 'policy-call-name', policyServiceName: 'policy-service-name', balancerName: 'balancer-name',
    balancerGroup: 'balancer-policy-group', policiesFocus: 'policies-focus',
    faultControls: 'fault-controls', faultName: 'fault-name', noFault: 'no-fault', addFault: 'add-fault', faultFields: 'fault-fields',
    backoffBaseLabel: 'backoff-base-label',
    faultFactorControl: 'fault-factor-control', faultFactorLabel: 'fault-factor-label', faultFactorUnit: 'fault-factor-unit',
    faultOther: 'fault-other',
    errors: 'errors', errorsTitle: 'errors-title', errorsList: 'errors-list',
    graph: 'graph', play: 'play', trafficFocus: 'traffic-focus', latencyFocus: 'latency-focus', cursor: 'cursor', cursorValue: 'cursor-value',
    summaryList: 'summary-list', verdicts: 'verdicts', stopReason: 'stop-reason', runFacts: 'run-facts',
    json: 'scenario-json', applyJson: 'apply-json', revertJson: 'revert-json', editorStatus: 'editor-status',
    editorDetails: 'editor-details',
    seeds: 'seeds', compare: 'compare', editing: 'editing', editA: 'edit-a', editB: 'edit-b',
    summaryTitle: 'summary-title', variants: 'variants', variantsTitle: 'variants-title', variantsTable: 'variants-table', variantsNote: 'variants-note',
  };
  const missing = [];
  for (const [key, id] of Object.entries(ids)) {
    ui[key] = document.getElementById(id);
    if (!ui[key]) missing.push(id);
  }
  ui.charts = CHARTS.map(([name, id]) => [name, document.getElementById(id)]).filter(([, canvas]) => canvas);
  return missing;
}

// ---- messages to the user -------------------------------------------------------------

function describe(error) {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function showBanner(text) {
  if (!ui.banner || !ui.bannerText) {
    // The page is broken beyond its own banner: say so in the simplest way there is.
    document.body.prepend(Object.assign(document.createElement('p'), { textContent: text, className: 'banner' }));
    return;
  }
  ui.bannerText.textContent = text;
  ui.banner.hidden = false;
}

function setStatus(text) {
  ui.runStatus.textContent = text;
}

function setRunState(runState) {
  document.body.dataset.runState = runState;
}

/**
 * Calls into the page's wasm. A JS error (bad input) is shown and the page goes on; a
 * WebAssembly.RuntimeError means the wasm trapped (a Rust panic: its message is in the
 * console, logged by console_error_panic_hook), after which the instance cannot be trusted.
 */
function guard(what, call) {
  if (state.wasmBroken) return undefined;
  try {
    return call();
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) {
      state.wasmBroken = true;
      setRunState('crashed');
      const panic = lastConsoleError ? `: ${lastConsoleError}` : '';
      showBanner(
        `Stormglass crashed while ${what} (${describe(error)}${panic}). This is a bug in Stormglass, not in your ` +
          'scenario. Reload the page to continue.',
      );
    } else {
      showBanner(`Problem while ${what}: ${describe(error)}`);
    }
    return undefined;
  }
}

function showErrors(errors) {
  ui.errorsList.replaceChildren();
  for (const error of errors) {
    const item = document.createElement('li');
    if (error.path) {
      const path = document.createElement('code');
      path.textContent = error.path;
      item.append(path, `: ${error.message}`);
    } else {
      item.textContent = error.message;
    }
    ui.errorsList.append(item);
  }
  ui.errorsTitle.textContent = errors.length === 1 ? 'The scenario has a problem' : `The scenario has ${errors.length} problems`;
  ui.errors.hidden = false;
}

function hideErrors() {
  ui.errors.hidden = true;
  ui.errorsList.replaceChildren();
}

// ---- the worker ---------------------------------------------------------------------------

function startWorker() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event) => onWorkerMessage(worker, event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    showBanner(`The simulation worker failed: ${event.message || 'it could not start'}.`);
    setRunState('crashed');
  };
  state.worker = worker;
}

/** A crashed worker's wasm cannot be trusted: replace the worker, keep the page. */
function restartWorker() {
  state.worker?.terminate();
  startWorker();
}

function requestRun({ immediate = false } = {}) {
  clearTimeout(state.debounceTimer);
  if (immediate) sendRun();
  else state.debounceTimer = setTimeout(sendRun, RERUN_DEBOUNCE_MS);
}

function sendRun() {
  if (!state.scenario || !state.worker) return;
  const id = ++state.requestId;
  state.requestSentAt = performance.now();
  const eventsMax = wasm.seed_events_max();
  if (state.compare) {
    // The same seed for both, whichever was edited last.
    const { A, B } = state.compare;
    for (const variant of [A, B]) {
      if (state.scenario.seed === undefined) delete variant.seed;
      else variant.seed = state.scenario.seed;
    }
    state.requestKind = 'compare';
    state.worker.postMessage({ type: 'run-many', id, jsons: [JSON.stringify(A), JSON.stringify(B)], events_max: 2 * eventsMax });
  } else if (state.seeds > 1) {
    // The last run's events are what each seed will roughly take.
    const events = state.lastReport?.events ?? 0;
    if (events * state.seeds > eventsMax) {
      state.requestKind = 'single';
      refuseSeeds(state.seeds, events, eventsMax);
      return;
    }
    const first = Number(state.scenario.seed ?? 0);
    const jsons = Array.from({ length: state.seeds }, (_, index) => JSON.stringify({ ...state.scenario, seed: first + index }));
    state.requestKind = 'seeds';
    state.worker.postMessage({ type: 'run-many', id, jsons, events_max: eventsMax });
  } else {
    state.requestKind = 'single';
    state.worker.postMessage({ type: 'run', id, json: JSON.stringify(state.scenario) });
  }
  setRunState('running');
  setStatus('Running…');
}

function refuseSeeds(count, eventsPerRun, eventsMax) {
  const fits = Math.max(1, Math.floor(eventsMax / Math.max(eventsPerRun, 1)));
  setStatus(
    `Not run: ${count} seeds of this scenario would simulate about ${wasm.format_value(count * eventsPerRun, 'count')} events, ` +
      `more than the ${wasm.format_value(eventsMax, 'count')} a multi-seed run may; ${fits > 1 ? `${fits} seeds fit` : 'run one seed'}.`,
  );
  ui.runProgress.hidden = true;
  setRunState('refused');
}

function onWorkerMessage(worker, message) {
  if (worker !== state.worker || !message || typeof message !== 'object') return;
  if (message.type === 'fatal') {
    showBanner(`The simulation worker ${message.message}.`);
    setRunState('crashed');
    return;
  }
  if (message.type === 'ready') return;
  // Anything about an older request is stale: a newer one superseded it.
  if (message.id !== state.requestId) return;
  switch (message.type) {
    case 'progress':
      ui.runProgress.hidden = false;
      ui.runProgress.value = message.fraction;
      if (message.count > 1) {
        const what = state.requestKind === 'compare' ? `variant ${'AB'[message.index] ?? message.index + 1}` : `seed ${message.index + 1} of ${message.count}`;
        setStatus(`Running ${what}… ${Math.round(message.fraction * 100)}%`);
      } else {
        setStatus(`Running… ${Math.round(message.fraction * 100)}%`);
      }
      break;
    case 'too-much':
      refuseSeeds(message.count, message.events / Math.max(message.done, 1), wasm.seed_events_max());
      break;
    case 'partial':
      showResult(message, { partial: true });
      break;
    case 'result':
    case 'results': {
      const elapsedMs = performance.now() - state.requestSentAt;
      ui.runProgress.hidden = true;
      hideErrors();
      showControlErrors([]);
      if (message.type === 'results') showRuns(message.runs, { elapsedMs });
      else showResult(message, { partial: false, elapsedMs });
      const drawnMs = performance.now() - state.requestSentAt;
      document.body.dataset.lastDrawnMs = String(Math.round(drawnMs));
      setStatus(`Ran in ${Math.round(elapsedMs)} ms, drawn at ${Math.round(drawnMs)} ms`);
      state.resultsShown += 1;
      document.body.dataset.results = String(state.resultsShown);
      document.body.dataset.lastRunMs = String(Math.round(elapsedMs));
      document.body.dataset.lastWorkerMs = String(Math.round(message.worker_ms));
      setRunState('done');
      break;
    }
    case 'invalid':
      ui.runProgress.hidden = true;
      if (state.requestKind === 'compare' && message.index !== undefined) {
        const letter = 'AB'[message.index];
        showErrors(message.errors.map((error) => ({ ...error, message: `variant ${letter}: ${error.message}` })));
      } else showErrors(message.errors);
      showControlErrors(message.errors);
      setStatus('Not run: the scenario has errors');
      setRunState('invalid');
      break;
    case 'crash':
      ui.runProgress.hidden = true;
      showBanner(
        `The simulation crashed (${message.message}). This is a bug in Stormglass; the worker was restarted ` +
          'and the last good results stay on screen. The browser console has the details.',
      );
      setStatus('The last run crashed');
      setRunState('crashed');
      restartWorker();
      break;
    default:
      break;
  }
}

// ---- results and drawing ------------------------------------------------------------------

/** The runs of a 'run-many': compare mode's A and B, or several seeds. */
function showRuns(runs, { elapsedMs }) {
  if (state.requestKind === 'compare' && runs.length === 2) {
    const edited = state.compare?.editing ?? 'B';
    const [own, other] = edited === 'A' ? [runs[0], runs[1]] : [runs[1], runs[0]];
    showResult(own, { partial: false, elapsedMs, overlay: (figures) => figures.set_variant(other, edited) });
    const rows = guard('comparing A and B', () => wasm.compare_reports(runs[0].report, runs[1].report));
    if (rows) renderComparison(ui, rows, edited);
    ui.summaryTitle.textContent = `Summary of variant ${edited} (being edited)`;
  } else if (state.requestKind === 'seeds' && runs.length > 1) {
    showResult(runs[0], { partial: false, elapsedMs, overlay: (figures) => figures.set_seed_runs(runs) });
    const rows = guard('summarising the seeds', () => wasm.seed_summary(runs.map((run) => run.report)));
    if (rows) renderSpread(ui, rows, runs.length, runs[0].report.seed);
    ui.summaryTitle.textContent = `Summary of seed ${runs[0].report.seed}`;
  } else {
    showResult(runs[0], { partial: false, elapsedMs });
  }
}

function showResult({ report, faults, topology }, { partial, elapsedMs, overlay }) {
  const figures = guard('reading the results', () => new wasm.Figures({ report, faults, topology }));
  if (!figures) return;
  if (overlay) guard('overlaying the runs', () => overlay(figures));
  else {
    hideVariants(ui);
    ui.summaryTitle.textContent = 'Summary';
  }
  state.figures?.free();
  state.figures = figures;
  state.lastReport = report;
  fitGraphHeight(figures.graph_rows);
  const bucket_s = figures.bucket_s;
  ui.cursor.max = String(figures.duration_s);
  ui.cursor.step = String(bucket_s);
  if (!state.cursorTouched) {
    // Until the user scrubs, the cursor shows the latest moment with data.
    state.cursor_s = Math.max(0, report.simulated_s - bucket_s / 2);
  }
  state.cursor_s = Math.min(state.cursor_s, figures.duration_s);
  ui.cursor.value = String(state.cursor_s);
  renderSummary(ui, { report, faults, partial, elapsedMs }, wasm.format_value);
  renderFunctionSummary(ui, report, summaryFunction(), wasm.format_value);
  renderLlmSummary(ui, report, summaryLlm(), wasm.format_value);
  syncQueueCaption();
  drawNow();
}

/** Draws at the next frame, once however often asked. */
const scheduleDraw = drawAtNextFrame(() => drawNow());

function drawNow() {
  ui.cursorValue.textContent = `t = ${wasm.format_value(state.cursor_s, 's')}`;
  const figures = state.figures;
  if (!figures) return;
  const selected = [state.selection.client, state.selection.service, state.selection.function, state.selection.llm].filter(Boolean);
  guard('drawing the event graph', () => figures.draw_graph(ui.graph, state.cursor_s, selected));
  const policyFocus = policyFocusTarget();
  for (const [name, canvas] of ui.charts) {
    const focus = name === 'policies' ? policyFocus : state.focus;
    guard(`drawing the ${name} chart`, () => figures.draw_chart(name, canvas, state.cursor_s, focus));
  }
}

// ---- the scenario and the controls ----------------------------------------------------

/** Number inputs, each optionally paired with a range slider, and the control they drive. */
const NUMBER_CONTROLS = [
  ['rate', 'rate', 'rate_per_s'],
  ['users', 'users', 'users'],
  ['timeout', 'timeout', 'timeout_ms'],
  ['retries', 'retries', 'retries'],
  ['backoff-base', 'backoff-base', 'backoff_base_ms'],
  ['backoff-cap', 'backoff-cap', 'backoff_cap_ms'],
  ['workers', 'workers', 'workers'],
  ['capacity', 'capacity', 'queue_capacity'],
  ['fault-factor', 'fault-factor', 'fault_factor'],
  ['fault-start', 'fault-start', 'fault_start_s'],
  ['fault-length', 'fault-length', 'fault_length_s'],
];
const SELECT_CONTROLS = [
  ['criticality', 'criticality', 'criticality'],
  ['backoff', 'backoff', 'backoff'],
  ['jitter', 'jitter', 'jitter'],
  ['discipline', 'discipline', 'discipline'],
];

function setNumber(id, value) {
  const input = document.getElementById(id);
  const range = document.getElementById(`${id}-range`);
  if (input) input.value = value === null || value === undefined ? '' : String(value);
  if (range && value !== null && value !== undefined) {
    // Let the slider reach well past the scenario's value.
    const max = Number(range.dataset.baseMax ?? range.max);
    range.dataset.baseMax = String(max);
    range.max = String(Math.max(max, value * 2));
    range.value = String(value);
  }
}

/** Shows the scenario's values in the controls (after a preset, an Apply or a selection). */
function syncControls() {
  const values = readControls(state.scenario, state.selection, wasm.parse_duration_ms);
  ui.seed.value = String(values.seed);
  for (const [id, , key] of NUMBER_CONTROLS) setNumber(id, values[key]);
  for (const [id, , key] of SELECT_CONTROLS) {
    const select = document.getElementById(id);
    if (select) select.value = values[key];
  }
  ui.clientControls.disabled = !values.hasClient;
  ui.callControls.disabled = !values.hasCall;
  ui.serviceControls.disabled = !values.hasService;
  // A scenario without services (functions or LLM endpoints only): nothing to show there.
  ui.serviceControls.hidden = nodeIds(state.scenario, 'service').length === 0;
  ui.rateControl.hidden = values.closedLoop;
  ui.usersControl.hidden = !values.closedLoop;
  ui.disciplineExplain.textContent = DISCIPLINE_EXPLAINED[values.discipline] ?? '';
  ui.noFault.hidden = values.hasFault;
  ui.faultFields.hidden = !values.hasFault;
  ui.faultName.textContent = values.hasFault ? `on ${values.fault_node}` : '';
  ui.faultFactorControl.hidden = values.fault_effect === 'other';
  ui.faultOther.hidden = !values.hasFault || values.fault_effect !== 'other';
  ui.faultFactorLabel.textContent = values.fault_effect === 'surge' ? 'Surge' : 'Slowdown';
  ui.faultFactorUnit.textContent = values.fault_effect === 'surge' ? '× request rate' : '× service time';
  const backoffHasTimes = values.backoff !== 'none';
  document.getElementById('backoff-base').disabled = !backoffHasTimes;
  document.getElementById('backoff-cap').disabled = values.backoff !== 'exponential';
  ui.backoffBaseLabel.textContent = values.backoff === 'constant' ? 'Delay' : 'Base';
  syncNodeChoice(ui.clientName, 'client', state.selection.client);
  syncNodeChoice(ui.serviceName, 'service', state.selection.service);
  syncNodeChoice(ui.balancerName, 'load_balancer', state.selection.balancer);
  syncFunctionControls();
  syncLlmControls();
  syncCallChoice();
  syncPolicies();
}

// ---- the Function fieldset ----------------------------------------------------------------

/** Number fields of the Function fieldset (each with a slider `${id}-range` if it has one). */
const FUNCTION_NUMBERS = ['fn-reserved', 'fn-provisioned', 'fn-memory', 'fn-timeout', 'fn-init', 'fn-account'];

/** Builds a price table's rows, once: labels come from `prices`, never from the scenario. */
function createPriceRows(container, prices) {
  for (const [control, , label, unit] of prices) {
    const row = document.createElement('div');
    row.className = 'price-row';
    const text = document.createElement('label');
    text.htmlFor = control;
    text.append(`${label} `);
    const unitText = document.createElement('span');
    unitText.className = 'unit';
    unitText.textContent = unit;
    text.append(unitText);
    const input = document.createElement('input');
    input.type = 'number';
    input.id = control;
    input.min = '0';
    // Prices are fractions of a cent: any step, judged by the simulator's validation.
    input.step = 'any';
    input.setAttribute('aria-describedby', `${control}-error`);
    const error = document.createElement('p');
    error.id = `${control}-error`;
    error.className = 'control-error';
    error.setAttribute('role', 'alert');
    error.hidden = true;
    row.append(text, input, error);
    container.append(row);
  }
}

/** Shows the selected function's settings, with the simulator's defaults as placeholders. */
function syncFunctionControls() {
  const id = state.selection.function;
  const defaults = state.functionDefaults;
  const values = readFunction(state.scenario, id, wasm.parse_duration_ms, defaults);
  ui.functionControls.hidden = nodeIds(state.scenario, 'function').length === 0;
  ui.functionControls.disabled = !values.hasFunction;
  syncNodeChoice(ui.functionName, 'function', id);
  for (const [control] of PRICES) setNumber(control, values.prices[control]);
  const placeholders = {
    'fn-reserved': 'none',
    'fn-provisioned': 0,
    'fn-memory': defaults?.memory_mb,
    'fn-timeout': defaults?.timeout_s,
    'fn-init': values.init.kind === 'default' ? defaults?.init_p50_ms : undefined,
    'fn-account': defaults?.account_concurrency_limit,
    ...Object.fromEntries(PRICES.map(([control, field]) => [control, defaults?.price?.[field]])),
  };
  for (const control of FUNCTION_NUMBERS) {
    const value = control === 'fn-init' ? values.init.p50_ms : values[control];
    setNumber(control, value);
    // A blank field runs with the default: its slider shows that value rather than wherever
    // the last function left it (no reserved concurrency: the slider's far end, unlimited).
    const range = document.getElementById(`${control}-range`);
    if (range && value === null) {
      const fallback = Number(placeholders[control]);
      range.value = String(Number.isFinite(fallback) ? fallback : range.max);
    }
  }
  for (const [control, placeholder] of Object.entries(placeholders)) {
    document.getElementById(control).placeholder = placeholder === undefined ? '' : String(placeholder);
  }
  ui.fnInit.disabled = values.init.kind === 'other';

  ui.fnScaling.replaceChildren();
  for (const [value, label] of scalingChoices(values.scaling, defaults)) {
    ui.fnScaling.append(new Option(label, value, false, value === values.scaling.choice));
  }
  ui.fnScaling.value = values.scaling.choice;
  const ownRate = values.scaling.choice === 'per_ten_seconds';
  ui.fnPerTenSeconds.hidden = !ownRate;
  ui.fnPerTenSecondsLabel.hidden = !ownRate;
  if (document.activeElement !== ui.fnPerTenSeconds) ui.fnPerTenSeconds.value = values.scaling.per_ten_seconds ?? '';
  syncFunctionExplained(values);

  ui.fnInvocation.value = values.invocation;
  ui.fnInvocationExplain.textContent = INVOCATION_EXPLAINED[values.invocation];
  showFunctionErrors(state.lastErrors);
}

/**
 * The texts under the init and scaling controls, which follow their values (the p99 moves with
 * the median). Also after each keystroke, which must not rewrite the field being typed in.
 */
function syncFunctionExplained(
  values = readFunction(state.scenario, state.selection.function, wasm.parse_duration_ms, state.functionDefaults),
) {
  ui.fnInitExplain.textContent = initExplained(values.init, state.functionDefaults, wasm.format_value);
  ui.fnScalingExplain.textContent = scalingExplained(values.scaling, state.functionDefaults);
}

/** Puts each validation error of the selected function (or the account) at its control. */
function showFunctionErrors(errors) {
  const byControl = functionErrors(errors, nodePath(state.scenario, state.selection.function));
  for (const control of Object.keys(FUNCTION_CONTROL_FIELDS)) {
    const messages = byControl.get(control) ?? [];
    const error = document.getElementById(`${control}-error`);
    error.hidden = messages.length === 0;
    error.textContent = messages.join(' ');
    const fields = control === 'fn-scaling' ? [control, 'fn-per-ten-seconds'] : [control];
    for (const field of fields) {
      const input = document.getElementById(field);
      if (messages.length > 0) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }
}

/** A user edit of the selected function: applied, its note shown, re-run. */
function editFunction(name, value) {
  const result = applyFunctionControl(
    state.scenario, state.selection.function, name, value, wasm.parse_duration_ms, state.functionDefaults,
  );
  if (!result.changed) return;
  if (name === 'fn-invocation' || result.note) {
    ui.fnInvocationNote.hidden = !result.note;
    ui.fnInvocationNote.textContent = result.note ?? '';
  }
  syncFunctionExplained();
  edited();
}

function wireFunctionControls() {
  for (const control of [...FUNCTION_NUMBERS, ...PRICES.map(([id]) => id), 'fn-per-ten-seconds']) {
    const input = document.getElementById(control);
    const range = document.getElementById(`${control}-range`);
    input.addEventListener('input', () => {
      const value = numberValue(input);
      if (range && value !== null && Number.isFinite(value)) range.value = String(value);
      editFunction(control, value);
    });
    range?.addEventListener('input', () => {
      input.value = range.value;
      editFunction(control, range.valueAsNumber);
    });
  }
  for (const select of [ui.fnScaling, ui.fnInvocation]) {
    select.addEventListener('change', () => {
      editFunction(select.id, select.value);
      syncFunctionControls();
    });
  }
}

/** How many calls of the scenario reach node `id`, fallback calls included: its call edges. */
function callsInto(id) {
  let count = 0;
  for (const node of state.scenario?.nodes ?? []) {
    for (const call of Array.isArray(node?.calls) ? node.calls : []) {
      if (call?.to === id) count += 1;
      if (call?.fallback?.call?.to === id) count += 1;
    }
  }
  return count;
}

/**
 * The scenario's fallback calls: each as the `callList` entry of the call it belongs to, with
 * the fallback's own path (a call edge of the policies chart), label and target.
 */
function fallbackCalls() {
  return callList(state.scenario).flatMap((entry) => {
    const to = findNode(state.scenario, entry.node).calls[entry.index]?.fallback?.call?.to;
    if (typeof to !== 'string') return [];
    return [{ ...entry, path: `${entry.path}.fallback.call`, label: `${entry.node} → ${to} (fallback)`, to }];
  });
}

/** The fallback call that reaches node `id` (see `fallbackCalls`), or undefined. */
function fallbackCallInto(id) {
  return fallbackCalls().find((entry) => entry.to === id);
}

// ---- the LLM endpoint fieldset ----------------------------------------------------------

/** Number fields of the LLM endpoint fieldset (each with a slider `${id}-range` if it has one). */
const LLM_NUMBERS = ['llm-slots', 'llm-max-output', 'llm-rpm', 'llm-tpm', 'llm-cache-hit'];

/** Shows the selected endpoint's settings, with the simulator's defaults as placeholders. */
function syncLlmControls() {
  const id = state.selection.llm;
  const defaults = state.llmDefaults;
  const values = readLlm(state.scenario, id, wasm.parse_duration_ms, defaults);
  ui.llmControls.hidden = nodeIds(state.scenario, 'llm').length === 0;
  ui.llmControls.disabled = !values.hasLlm;
  syncNodeChoice(ui.llmName, 'llm', id);
  const placeholders = {
    'llm-max-output': defaults?.max_output_tokens,
    ...Object.fromEntries(LLM_PRICES.map(([control, field]) => [control, defaults?.price?.[field]])),
  };
  for (const control of LLM_NUMBERS) {
    setNumber(control, values[control]);
    const range = document.getElementById(`${control}-range`);
    if (range && values[control] === null) {
      const fallback = Number(placeholders[control]);
      if (Number.isFinite(fallback)) range.value = String(fallback);
    }
  }
  for (const [control] of LLM_PRICES) setNumber(control, values.prices[control]);
  for (const [control, placeholder] of Object.entries(placeholders)) {
    document.getElementById(control).placeholder = placeholder === undefined ? '' : String(placeholder);
  }
  ui.llmRefusals.checked = values.refusalsCount;
  ui.llmCacheExplain.textContent = cacheExplained(values, wasm.format_value);
  showLlmErrors(state.lastErrors);
}

/** Puts each validation error of the selected endpoint at its control. */
function showLlmErrors(errors) {
  const byControl = llmErrors(errors, nodePath(state.scenario, state.selection.llm));
  for (const control of Object.keys(LLM_CONTROL_FIELDS)) {
    const messages = byControl.get(control) ?? [];
    const error = document.getElementById(`${control}-error`);
    error.hidden = messages.length === 0;
    error.textContent = messages.join(' ');
    const input = document.getElementById(control);
    if (messages.length > 0) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

/** A user edit of the selected endpoint: applied, its note shown, re-run. */
function editLlm(name, value) {
  const result = applyLlmControl(state.scenario, state.selection.llm, name, value);
  if (!result.changed) return;
  if (name === 'llm-cache-hit') {
    ui.llmCacheNote.hidden = !result.note;
    ui.llmCacheNote.textContent = result.note ?? '';
    const values = readLlm(state.scenario, state.selection.llm, wasm.parse_duration_ms, state.llmDefaults);
    ui.llmCacheExplain.textContent = cacheExplained(values, wasm.format_value);
  }
  edited();
}

function wireLlmControls() {
  for (const control of [...LLM_NUMBERS, ...LLM_PRICES.map(([id]) => id)]) {
    const input = document.getElementById(control);
    const range = document.getElementById(`${control}-range`);
    input.addEventListener('input', () => {
      const value = numberValue(input);
      if (range && value !== null && Number.isFinite(value)) range.value = String(value);
      editLlm(control, value);
    });
    range?.addEventListener('input', () => {
      input.value = range.value;
      editLlm(control, range.valueAsNumber);
    });
  }
  ui.llmRefusals.addEventListener('change', () => editLlm('llm-refusals', ui.llmRefusals.checked));
}

/** The LLM endpoint the summary details: the focused one, else the selected one. */
function summaryLlm() {
  const focus = findNode(state.scenario, state.focus);
  return focus?.kind === 'llm' ? focus.id : state.selection.llm;
}

/** The function the summary details: the focused one, else the selected one. */
function summaryFunction() {
  const focus = findNode(state.scenario, state.focus);
  return focus?.kind === 'function' ? focus.id : state.selection.function;
}

/**
 * The queue chart's caption follows what it shows: queues waiting, functions' capacity, or LLM
 * endpoints' tokens and 429s.
 */
function syncQueueCaption() {
  const shows = state.figures ? guard('captioning the queue chart', () => state.figures.queue_chart(state.focus)) : 'waiting';
  const caption = queueCaption(shows, state.scenario, state.focus);
  ui.queueTitle.textContent = caption.title;
  ui.queueUnit.textContent = caption.unit;
  ui.queueFocus.textContent = caption.of ? `of ${caption.of}` : '';
  document.getElementById('chart-queue').setAttribute('aria-label', caption.label);
}

/** The call picker in the Call legend (a name alone when the scenario has one call). */
function syncCallChoice() {
  const calls = callList(state.scenario);
  const current = selectedCallInfo(state.scenario, state.selection);
  ui.callName.replaceChildren();
  ui.policyCallName.textContent = current?.label ?? '(no call)';
  if (calls.length <= 1) {
    ui.callName.textContent = current?.label ?? '(no call)';
    return;
  }
  const select = document.createElement('select');
  select.id = 'call-choice';
  select.setAttribute('aria-label', 'Selected call');
  calls.forEach((entry, position) => {
    const isCurrent = entry.node === current?.node && entry.index === current?.index;
    select.append(new Option(entry.label, String(position), false, isCurrent));
  });
  select.addEventListener('change', () => {
    const entry = calls[Number(select.value)];
    if (!entry) return;
    state.selection.call = { node: entry.node, index: entry.index };
    state.policyFocus = entry.path;
    clearPolicyNotes();
    syncControls();
    scheduleDraw();
  });
  ui.callName.append(select);
}

/** The object a group of policies edits, where it is written, and what its defaults start from. */
function policyTarget(kind) {
  const scenario = state.scenario;
  const report = state.lastReport;
  if (kind === 'call') {
    const call = selectedCall(scenario, state.selection);
    const caller = findNode(scenario, state.selection.call?.node);
    const path = selectedCallInfo(scenario, state.selection)?.path ?? null;
    return { object: call ?? null, path, ctx: { fromService: caller?.kind === 'service', report } };
  }
  const id = kind === 'service' ? state.selection.service : state.selection.balancer;
  const node = findNode(scenario, id);
  return { object: node ?? null, path: nodePath(scenario, id), ctx: { workers: node?.workers, report } };
}

const POLICY_FAMILIES = { call: CALL_FAMILIES, service: SERVICE_FAMILIES, balancer: BALANCER_FAMILIES };

function syncPolicies() {
  for (const [kind, group] of Object.entries(state.policyGroups)) {
    const target = policyTarget(kind);
    group.update(target.object, target.ctx, wasm.parse_duration_ms);
  }
  ui.policyServiceName.textContent = state.selection.service ?? '(no service)';
  ui.servicePolicyGroup.hidden = nodeIds(state.scenario, 'service').length === 0;
  ui.balancerGroup.hidden = nodeIds(state.scenario, 'load_balancer').length === 0;
  showControlErrors(state.lastErrors);
  syncPoliciesCaption();
}

function clearPolicyNotes() {
  for (const group of Object.values(state.policyGroups)) group.setNote(null);
}

/**
 * Puts each validation error next to the policy family of the selected targets it concerns,
 * and at the Function or LLM endpoint fieldset's control it concerns.
 */
function showControlErrors(errors) {
  state.lastErrors = errors;
  showFunctionErrors(errors);
  showLlmErrors(errors);
  for (const [kind, group] of Object.entries(state.policyGroups)) {
    const { path } = policyTarget(kind);
    const byFamily = new Map();
    for (const error of errors) {
      const family = familyForError(error.path, path, POLICY_FAMILIES[kind]);
      if (!family) continue;
      byFamily.set(family.key, [...(byFamily.get(family.key) ?? []), error.message]);
    }
    group.showErrors(byFamily);
  }
}

/** A user edit of a policy family: applied to the selected target, noted, re-run. */
function editPolicy(kind, family, change) {
  const target = policyTarget(kind);
  if (!target.object) return;
  const note = change(target.object, target.ctx);
  clearPolicyNotes();
  state.policyGroups[kind].setNote(family.key, note);
  syncControls();
  edited();
}

function createPolicyGroups() {
  const containers = { call: ui.callFamilies, service: ui.serviceFamilies, balancer: ui.balancerFamilies };
  for (const [kind, families] of Object.entries(POLICY_FAMILIES)) {
    state.policyGroups[kind] = createFamilyGroup(containers[kind], families, {
      onChoice: (family, value) => editPolicy(kind, family, (object, ctx) => applyChoice(object, family, value, ctx)),
      onParam: (family, name, value) =>
        editPolicy(kind, family, (object, ctx) => applyParam(object, family, name, value, ctx)),
    });
  }
}

/** What the policies chart shows now: the last picked call, service or balancer, else the selected call. */
function policyFocusTarget() {
  const focus = state.policyFocus;
  const isNode = focus !== null && findNode(state.scenario, focus);
  const isCall = focus !== null && [...callList(state.scenario), ...fallbackCalls()].some((entry) => entry.path === focus);
  if (isNode || isCall) return focus;
  return selectedCallInfo(state.scenario, state.selection)?.path ?? null;
}

function syncPoliciesCaption() {
  const focus = policyFocusTarget();
  const call = [...callList(state.scenario), ...fallbackCalls()].find((entry) => entry.path === focus);
  ui.policiesFocus.textContent = call ? `of ${call.label}` : focus ? `of ${focus}` : '';
}

/** The node name in a fieldset legend: a picker when there is more than one of that kind. */
function syncNodeChoice(container, kind, selectedId) {
  const ids = nodeIds(state.scenario, kind);
  const name = { load_balancer: 'load balancer', llm: 'LLM endpoint' }[kind] ?? kind;
  container.replaceChildren();
  if (ids.length <= 1) {
    container.textContent = selectedId ?? `(no ${name})`;
    return;
  }
  const select = document.createElement('select');
  select.setAttribute('aria-label', `Selected ${name}`);
  for (const id of ids) select.append(new Option(id, id, false, id === selectedId));
  select.addEventListener('change', () => selectNode(select.value));
  container.append(select);
}

/** A node picked (clicked in the graph, or chosen in a legend): the controls and charts follow it. */
function selectNode(id) {
  const node = findNode(state.scenario, id);
  const hasCalls = Array.isArray(node?.calls) && node.calls.length > 0;
  if (node?.kind === 'client') {
    state.selection.client = id;
    if (hasCalls) state.selection.call = { node: id, index: 0 };
    state.policyFocus = selectedCallInfo(state.scenario, state.selection)?.path ?? null;
  } else if (node?.kind === 'service') {
    state.selection.service = id;
    if (hasCalls) state.selection.call = { node: id, index: 0 };
    state.policyFocus = id;
  } else if (node?.kind === 'load_balancer') {
    state.selection.balancer = id;
    state.policyFocus = id;
  } else if (node?.kind === 'function') {
    state.selection.function = id;
    // Its own first call, as a service's; else the call that reaches it, whose retries meet
    // its throttles.
    const into = callList(state.scenario).find((entry) => findNode(state.scenario, entry.node).calls[entry.index]?.to === id);
    const call = hasCalls ? callList(state.scenario).find((entry) => entry.node === id && entry.index === 0) : into;
    if (call) {
      state.selection.call = { node: call.node, index: call.index };
      state.policyFocus = call.path;
    }
    ui.fnInvocationNote.hidden = true;
  } else if (node?.kind === 'llm') {
    state.selection.llm = id;
    // The call that reaches it, whose retries meet its 429s.
    const into = callList(state.scenario).find((entry) => findNode(state.scenario, entry.node).calls[entry.index]?.to === id)
      ?? fallbackCallInto(id);
    if (into) {
      state.selection.call = { node: into.node, index: into.index };
      state.policyFocus = into.path;
    }
    ui.llmCacheNote.hidden = true;
  } else {
    return;
  }
  clearPolicyNotes();
  setFocus(id);
  syncControls();
}

/** Which node's requests the traffic and latency charts show; null for all clients together. */
function setFocus(id) {
  state.focus = id && findNode(state.scenario, id) ? id : null;
  const node = state.focus ? findNode(state.scenario, state.focus) : null;
  ui.trafficFocus.textContent = !node ? 'of all clients' : node.kind === 'client' ? `of ${node.id}` : `into ${node.id}`;
  syncQueueCaption();
  if (state.lastReport) {
    renderFunctionSummary(ui, state.lastReport, summaryFunction(), wasm.format_value);
    renderLlmSummary(ui, state.lastReport, summaryLlm(), wasm.format_value);
  }
  // Percentiles of several callers cannot be combined: a node with other than one call into
  // it (fallback calls included) shows the latency of all clients (as the chart does).
  const callers = node && node.kind !== 'client' ? callsInto(node.id) : 0;
  const latencyOf = !node ? 'of all clients'
    : node.kind === 'client' ? `of ${node.id}` : callers === 1 ? `into ${node.id}` : 'of all clients';
  // A focused LLM endpoint adds its own time to first token (as the chart draws it).
  ui.latencyFocus.textContent = node?.kind !== 'llm' ? latencyOf
    : callers === 1 ? `${latencyOf} and its time to first token (dashed)` : `${latencyOf}; ${node.id}'s time to first token (dashed)`;
  syncPoliciesCaption();
  scheduleDraw();
  scheduleAddress();
}

function syncEditor({ force = false } = {}) {
  if (state.editorDirty && !force) return;
  ui.json.value = JSON.stringify(state.scenario, null, 2);
  state.editorDirty = false;
  ui.editorStatus.textContent = '';
  ui.editorStatus.classList.remove('bad');
}

function showScenarioText() {
  const scenario = state.scenario;
  ui.scenarioName.textContent = scenario.name || 'Untitled scenario';
  ui.scenarioDescription.textContent = scenario.description ?? '';
  ui.whatToTry.textContent = scenario.what_to_try || 'Change a control: the run repeats with the same seed, so any difference is the change.';
}

/**
 * The graph gets taller when a column holds many nodes (`rows`, from the graph's layout), so
 * each keeps room for its labels; crowded columns (a pool of instances) get compact boxes.
 */
function fitGraphHeight(rows) {
  const perRow = rows <= 4 ? 80 : 50;
  const height = `${Math.min(760, Math.max(250, perRow * Math.max(1, rows) + 70))}px`;
  if (ui.graph.style.height !== height) ui.graph.style.height = height;
}

/**
 * Makes `scenario` the one being edited and runs it. `history`: "record" (an edit, undoable),
 * "root" (a preset or a link opened: history starts over) or "none" (an undo or redo).
 */
function loadScenario(scenario, { history: how = 'record' } = {}) {
  state.scenario = scenario;
  if (state.compare) state.compare[state.compare.editing] = scenario;
  state.selection = reconcileSelection(scenario, state.selection);
  state.lastErrors = [];
  clearPolicyNotes();
  setFocus(state.focus);
  showScenarioText();
  syncControls();
  syncEditor({ force: true });
  requestRun({ immediate: true });
  scenarioChanged(how);
}

// ---- compare mode ---------------------------------------------------------------------------

/** Enters compare mode (B, a copy of the scenario, is edited) or leaves it (keeping the one edited). */
function setCompare(on) {
  if (on && state.scenario) {
    state.compare = { A: state.scenario, B: structuredClone(state.scenario), editing: 'B' };
    state.scenario = state.compare.B;
    state.seeds = 1;
    ui.seeds.value = '1';
  } else {
    state.compare = null;
  }
  syncCompareControls();
  syncEditor({ force: true });
  requestRun({ immediate: true });
  // Undo follows the variant being edited: a new history, so no step of one is undone into the other.
  scenarioChanged('root');
  state.addressTracks = true;
  scheduleAddress();
}

/** Makes variant `letter` the one the controls, the editor and the graph show. */
function editVariant(letter) {
  if (!state.compare || state.compare.editing === letter) return;
  state.compare.editing = letter;
  state.scenario = state.compare[letter];
  state.selection = reconcileSelection(state.scenario, state.selection);
  syncCompareControls();
  syncControls();
  syncEditor({ force: true });
  requestRun({ immediate: true });
  scenarioChanged('root');
  scheduleAddress();
}

function syncCompareControls() {
  const on = Boolean(state.compare);
  ui.compare.setAttribute('aria-pressed', String(on));
  ui.compare.textContent = on ? 'Leave compare' : 'Compare';
  ui.editing.hidden = !on;
  ui.seeds.disabled = on;
  document.body.dataset.compare = on ? 'on' : 'off';
  document.body.dataset.editing = on ? state.compare.editing : '';
  ui.editA.setAttribute('aria-pressed', String(on && state.compare.editing === 'A'));
  ui.editB.setAttribute('aria-pressed', String(on && state.compare.editing === 'B'));
}

function loadPreset(name) {
  const preset = state.presets.find((p) => p.name === name) ?? state.presets[0];
  if (!preset) {
    showBanner('This build has no preset scenarios.');
    return;
  }
  ui.preset.value = preset.name;
  // A preset starts clean: one scenario.
  state.compare = null;
  syncCompareControls();
  state.addressTracks = false;
  clearAddress();
  state.cursorTouched = false;
  state.selection = { client: null, service: null, balancer: null, function: null, llm: null, call: null };
  state.focus = null;
  state.policyFocus = null;
  state.origin = preset.name;
  try {
    loadScenario(JSON.parse(preset.json), { history: 'root' });
  } catch (error) {
    showErrors([{ path: '', kind: 'syntax', message: `preset ${preset.name} is not valid JSON: ${describe(error)}` }]);
  }
}

/** After a control edited the scenario: show it in the editor and re-run. */
function edited(key = typingKey()) {
  syncEditor();
  requestRun();
  state.addressTracks = true;
  scheduleAddress();
  scenarioChanged('record', key);
}

// ---- share links --------------------------------------------------------------------------

/** The link (`v1.…`) of the current scenario and view, or null (with a message) if none. */
function currentLink() {
  if (!state.scenario) return null;
  const view = viewOf(state);
  // In compare mode a link holds A, and B in its view (unless B is too large: then the one edited).
  const scenario = view.compare ? state.compare.A : state.scenario;
  return guard('making a link', () => wasm.make_link(JSON.stringify(scenario), JSON.stringify(view))) ?? null;
}

/** Puts the current link in the address bar, soon (typing and scrubbing make many changes). */
function scheduleAddress() {
  if (!state.addressTracks) return;
  clearTimeout(state.addressTimer);
  state.addressTimer = setTimeout(() => {
    const link = currentLink();
    if (link) history.replaceState(null, '', `#${link}`);
  }, ADDRESS_DEBOUNCE_MS);
}

function clearAddress() {
  clearTimeout(state.addressTimer);
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
}

/** Which selection slot a node of each kind fills. */
const SELECTION_SLOTS = { client: 'client', service: 'service', load_balancer: 'balancer', function: 'function', llm: 'llm' };

/**
 * Opens a share link: its scenario, seed and view. A link that cannot be opened says why and
 * leaves the page as it is (the caller shows the default scenario if there is none yet).
 */
function openLink(fragment) {
  let opened;
  let scenario;
  try {
    opened = wasm.open_link(fragment);
    scenario = readableKeyOrder(JSON.parse(opened.scenario_json));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    showBanner(`This link could not be opened: ${reason}`);
    clearAddress();
    return false;
  }
  const view = checkedView(opened.view, scenario);
  stopPlaying();
  state.selection = { client: null, service: null, balancer: null, function: null, llm: null, call: view.call ?? null };
  for (const id of view.selected ?? []) {
    const slot = SELECTION_SLOTS[findNode(scenario, id)?.kind];
    if (slot) state.selection[slot] = id;
  }
  state.focus = view.focus ?? null;
  state.policyFocus = null;
  state.cursorTouched = view.cursor_s !== undefined;
  if (state.cursorTouched) state.cursor_s = view.cursor_s;
  ui.preset.value = '';
  state.addressTracks = true;
  state.origin = null;
  if (view.compare) {
    const variant = readableKeyOrder(view.compare.variant);
    state.compare = { A: scenario, B: variant, editing: view.compare.editing };
    state.seeds = 1;
    ui.seeds.value = '1';
    syncCompareControls();
    loadScenario(state.compare[view.compare.editing], { history: 'root' });
  } else {
    state.compare = null;
    syncCompareControls();
    loadScenario(scenario, { history: 'root' });
  }
  return true;
}

function numberValue(input) {
  // valueAsNumber is NaN for a blank (or unparsable) field; blank means "none" to some controls.
  return input.value.trim() === '' ? null : input.valueAsNumber;
}

function wireControls() {
  for (const [id, control] of NUMBER_CONTROLS) {
    const input = document.getElementById(id);
    const range = document.getElementById(`${id}-range`);
    if (!input) continue;
    input.addEventListener('input', () => {
      const value = numberValue(input);
      if (range && value !== null && Number.isFinite(value)) range.value = String(value);
      if (applyControl(state.scenario, state.selection, control, value, wasm.parse_duration_ms)) edited();
    });
    range?.addEventListener('input', () => {
      input.value = range.value;
      if (applyControl(state.scenario, state.selection, control, range.valueAsNumber, wasm.parse_duration_ms)) edited();
    });
  }
  for (const [id, control] of SELECT_CONTROLS) {
    const select = document.getElementById(id);
    select?.addEventListener('change', () => {
      if (applyControl(state.scenario, state.selection, control, select.value, wasm.parse_duration_ms)) {
        syncControls();
        edited();
      }
    });
  }
  ui.seed.addEventListener('input', () => {
    applyControl(state.scenario, state.selection, 'seed', numberValue(ui.seed), wasm.parse_duration_ms);
    edited();
  });
  ui.addFault.addEventListener('click', () => {
    if (addSlowdownFault(state.scenario, state.selection, wasm.parse_duration_ms)) {
      syncControls();
      edited();
    }
  });
  ui.preset.addEventListener('change', () => loadPreset(ui.preset.value));
  ui.compare.addEventListener('click', () => setCompare(!state.compare));
  ui.editA.addEventListener('click', () => editVariant('A'));
  ui.editB.addEventListener('click', () => editVariant('B'));
  ui.seeds.addEventListener('change', () => {
    state.seeds = Number(ui.seeds.value) || 1;
    requestRun({ immediate: true });
  });
  ui.run.addEventListener('click', () => requestRun({ immediate: true }));
}

function wireEditor() {
  ui.json.addEventListener('input', () => {
    state.editorDirty = true;
    ui.editorStatus.textContent = 'Unapplied edits';
    ui.editorStatus.classList.remove('bad');
  });
  ui.applyJson.addEventListener('click', () => {
    const text = ui.json.value;
    const validation = guard('checking the scenario', () => wasm.validate_scenario(text));
    if (!validation) return;
    if (!validation.ok) {
      showErrors(validation.errors);
      const first = validation.errors[0];
      ui.editorStatus.textContent = `Not applied: ${first.path ? `${first.path}: ` : ''}${first.message}`;
      ui.editorStatus.classList.add('bad');
      setRunState('invalid');
      return;
    }
    hideErrors();
    state.editorDirty = false;
    state.addressTracks = true;
    loadScenario(JSON.parse(text));
    ui.editorStatus.textContent = 'Applied';
    ui.editorStatus.classList.remove('bad');
  });
  ui.revertJson.addEventListener('click', () => syncEditor({ force: true }));
}

function wireCursor() {
  ui.cursor.addEventListener('input', () => {
    state.cursorTouched = true;
    state.cursor_s = ui.cursor.valueAsNumber;
    scheduleDraw();
    scheduleAddress();
  });
  ui.play.addEventListener('click', () => (state.playing ? stopPlaying() : startPlaying()));
  ui.graph.addEventListener('click', (event) => {
    if (!state.figures || state.wasmBroken) return;
    const box = ui.graph.getBoundingClientRect();
    const id = guard('finding a node', () => state.figures.node_at(event.clientX - box.left, event.clientY - box.top));
    if (id) {
      selectNode(id);
    } else {
      // The background: the whole system's traffic, and the selected call's policies.
      state.policyFocus = null;
      setFocus(null);
    }
  });
}

function startPlaying() {
  state.cursorTouched = true;
  play(state, ui.play, () => {
    ui.cursor.value = String(state.cursor_s);
    drawNow();
  });
}

function stopPlaying() {
  stopPlayer(state, ui.play);
}

function applyPalette() {
  const colours = guard('reading the palette', () => wasm.palette());
  if (!colours) return;
  for (const [name, value] of Object.entries(colours)) {
    document.documentElement.style.setProperty(`--${name}`, value);
  }
}

// ---- start -------------------------------------------------------------------------------

async function main() {
  const missing = collectElements();
  if (missing.length > 0) {
    showBanner(`The page is incomplete (missing: ${missing.join(', ')}). Reload it; if this persists, it is a bug.`);
    return;
  }
  ui.bannerReload.addEventListener('click', () => location.reload());
  ui.bannerDismiss.addEventListener('click', () => {
    ui.banner.hidden = true;
  });
  window.addEventListener('unhandledrejection', (event) => showBanner(`Unexpected error: ${describe(event.reason)}`));
  setRunState('loading');
  try {
    await init();
  } catch (error) {
    showBanner(`Could not load the simulator (WebAssembly): ${describe(error)}`);
    setRunState('crashed');
    return;
  }
  applyPalette();
  state.presets = guard('listing the presets', () => wasm.presets()) ?? [];
  // Shown when the scenario came from a link rather than a preset.
  const fromLink = new Option('Opened from a link', '');
  fromLink.hidden = true;
  ui.preset.append(fromLink);
  for (const preset of state.presets) ui.preset.append(new Option(preset.title || preset.name, preset.name));
  state.functionDefaults = guard('reading the defaults of functions', () => wasm.function_defaults()) ?? null;
  state.llmDefaults = guard('reading the defaults of LLM endpoints', () => wasm.llm_defaults()) ?? null;
  createPriceRows(ui.priceRows, PRICES);
  createPriceRows(ui.llmPriceRows, LLM_PRICES);
  createPolicyGroups();
  wireControls();
  syncCompareControls();
  wireFunctionControls();
  wireLlmControls();
  wireEditor();
  wireEditing();
  wireCursor();
  new ResizeObserver(() => scheduleDraw()).observe(ui.graph);
  for (const [, canvas] of ui.charts) new ResizeObserver(() => scheduleDraw()).observe(canvas);
  wireSharePanel({ currentLink: linkInAddress, scenarioName: () => state.scenario?.name ?? '' });
  wireExportPanel({
    figures: () => state.figures,
    scenario: () => state.scenario,
    canvases: new Map([['graph', ui.graph], ...ui.charts]),
    chartView: (name) => ({ cursor_s: state.cursor_s, focus: name === 'policies' ? policyFocusTarget() : state.focus }),
    validate: (text) => wasm.validate_scenario(text),
    open: (scenario) => {
      ui.preset.value = '';
      state.addressTracks = true;
      state.origin = null;
      loadScenario(scenario);
    },
  });
  startWorker();
  // A link in the address opens its scenario; else the scenario saved in this browser (see
  // autosave.js); else (or when neither can be opened, which says why) the default preset.
  if (!(isLinkFragment(location.hash) && openLink(location.hash)) && !restoreAutosave()) {
    loadPreset(guard('reading the default preset', () => wasm.default_preset()));
  }
  // A link pasted into the address bar of the open page.
  window.addEventListener('hashchange', () => {
    if (isLinkFragment(location.hash)) openLink(location.hash);
  });
}

// ---- undo and redo, autosave, the graph editor ---------------------------------------------

const edits = createHistory();
const autosave = createAutosave(localStorageOrNull(), () => ({ scenario: state.scenario, preset: state.origin }));
let graphEditor = null;

function localStorageOrNull() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** The control being typed in or dragged (its edits in a row make one undo step), or null. */
function typingKey() {
  const active = document.activeElement;
  return active && ['INPUT', 'TEXTAREA'].includes(active.tagName) && active.id ? active.id : null;
}

/** After any change of the scenario: history, autosave, the Undo and Redo buttons, the inspector. */
function scenarioChanged(how, key = null) {
  const text = JSON.stringify(state.scenario);
  if (how === 'root') edits.root(text);
  else if (how === 'record') edits.record(text, key, performance.now());
  document.getElementById('undo').disabled = !edits.canUndo;
  document.getElementById('redo').disabled = !edits.canRedo;
  document.getElementById('reset-preset').disabled = !state.presets.some((preset) => preset.name === state.origin);
  autosave.schedule();
  graphEditor?.sync({ force: how !== 'record' });
}

function undoOrRedo(action) {
  const text = action === 'undo' ? edits.undo() : edits.redo();
  if (text === null) return;
  state.addressTracks = true;
  loadScenario(JSON.parse(text), { history: 'none' });
}

function resetToPreset() {
  const preset = state.presets.find((candidate) => candidate.name === state.origin);
  if (!preset) return;
  ui.preset.value = preset.name;
  state.addressTracks = true;
  loadScenario(JSON.parse(preset.json));
}

/** Opens the scenario saved in this browser, if there is a usable one; says why not if not. */
function restoreAutosave() {
  const saved = autosave.load();
  if (!saved) return false;
  const notRestored = (why) =>
    showBanner(`The scenario saved in this browser was not restored (${why}); the default preset is shown instead.`);
  if (saved.problem) {
    notRestored(saved.problem);
    return false;
  }
  const preset = state.presets.find((candidate) => candidate.name === saved.preset);
  try {
    const pristine = preset !== undefined && JSON.stringify(JSON.parse(preset.json)) === JSON.stringify(saved.scenario);
    ui.preset.value = preset ? preset.name : '';
    state.origin = preset ? preset.name : null;
    // An edited scenario keeps its link in the address, as it did before the reload.
    state.addressTracks = !pristine;
    loadScenario(saved.scenario, { history: 'root' });
    return true;
  } catch (error) {
    autosave.clear();
    notRestored(`it could not be opened: ${describe(error)}`);
    return false;
  }
}

function wireEditing() {
  document.getElementById('undo').addEventListener('click', () => undoOrRedo('undo'));
  document.getElementById('redo').addEventListener('click', () => undoOrRedo('redo'));
  document.getElementById('reset-preset').addEventListener('click', resetToPreset);
  document.addEventListener('keydown', (event) => {
    const action = historyKeyAction(event);
    if (!action || document.querySelector('dialog[open]')) return;
    event.preventDefault();
    undoOrRedo(action);
  });
  window.addEventListener('pagehide', () => autosave.flush());
  graphEditor = wireGraphEditor({
    scenario: () => state.scenario,
    figures: () => (state.wasmBroken ? null : state.figures),
    parseDurationMs: (text) => wasm.parse_duration_ms(text),
    loadSchema: () => fetch(new URL('./scenario.schema.json', import.meta.url)).then((response) => response.json()),
    commit: (key, { structural }) => {
      if (structural) {
        state.addressTracks = true;
        loadScenario(state.scenario);
      } else {
        syncControls();
        edited(key);
      }
    },
  });
}

/** The current link, also put in the address bar at once (what Share copies is what it shows). */
function linkInAddress() {
  const link = currentLink();
  if (link) {
    clearTimeout(state.addressTimer);
    state.addressTracks = true;
    history.replaceState(null, '', `#${link}`);
  }
  return link;
}

// For the browser tests of the crash paths: make the worker's wasm, or the page's, panic.
export function debugCrashWorker() {
  state.worker?.postMessage({ type: 'debug-panic' });
}
export function debugCrashPage() {
  guard('running a test of the crash path', () => wasm.debug_panic('page'));
}

main().catch((error) => showBanner(`The page failed to start: ${describe(error)}`));
