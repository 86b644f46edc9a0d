// The embed page: one scenario from a share link, run in a worker and drawn as a live figure
// for a blog post. Options come from the query string (see `embedOptions` in share.js):
//
//   embed.html?charts=traffic,latency&graph=1&autoplay=1&controls=1&editable=0&theme=light&height=480#v1.…
//
// It runs only once scrolled into view, plays the time cursor through the run while visible
// (never under prefers-reduced-motion), and pauses off-screen. Its size is fixed by the
// iframe and its layout by CSS, so nothing jumps while it loads.

import init, * as wasm from './pkg/stormglass_web.js';
import { queueCaption } from './captions.js';
import { drawAtNextFrame, startPlaying as play, stopPlaying as stopPlayer } from './player.js';
import { checkedView, EMBED_CHARTS, embedOptions, playgroundUrl, readableKeyOrder } from './share.js';


/** Chart captions: [title, unit]; the queue chart's follows what it shows. */
const CAPTIONS = {
  traffic: ['Traffic', 'requests per second'],
  latency: ['Latency of successful requests', 'ms, log scale'],
  policies: ['Policies', 'levels (left), per second (right)'],
  queue: ['Queue depth', 'attempts or messages waiting'],
};

const options = embedOptions(location.search);
const reducedMotion = matchMedia('(prefers-reduced-motion: reduce)');
const state = {
  scenario: null,
  view: {},
  figures: null,
  worker: null,
  requestId: 0,
  cursor_s: 0,
  /** The reader moved the cursor or pressed play/pause: no more automatic playing. */
  userTouched: false,
  playing: false,
  /** Playing stopped because the figure left the screen: resume when it is back. */
  pausedOffscreen: false,
  visible: false,
  started: false,
  wasmReady: false,
};
const ui = {};

function element(id) {
  return document.getElementById(id);
}

function setStatus(text) {
  ui.status.textContent = text;
}

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = false;
}

function describe(error) {
  return error instanceof Error ? error.message : String(error);
}

/** Builds the figures the options ask for; their sizes come from CSS before any data. */
function buildLayout() {
  document.body.classList.toggle('dark', options.theme === 'dark');
  document.body.style.height = `${options.height}px`;
  ui.graph.hidden = !options.graph;
  ui.timeline.hidden = !options.controls;
  ui.charts.dataset.count = String(options.charts.length);
  ui.stage.classList.toggle('no-graph', !options.graph);
  ui.canvases = [];
  for (const name of options.charts) {
    const figure = document.createElement('figure');
    figure.className = 'chart';
    const caption = document.createElement('figcaption');
    const title = document.createElement('span');
    const unit = document.createElement('span');
    unit.className = 'unit';
    caption.append(title, ' ', unit);
    const canvas = document.createElement('canvas');
    const label = EMBED_CHARTS.find(([chart]) => chart === name)?.[1] ?? name;
    canvas.setAttribute('aria-label', `${label} over time`);
    figure.append(caption, canvas);
    ui.charts.append(figure);
    ui.canvases.push({ name, canvas, title, unit });
    new ResizeObserver(() => scheduleDraw()).observe(canvas);
  }
  syncCaptions();
  if (options.graph) new ResizeObserver(() => scheduleDraw()).observe(ui.graph);
}

function syncCaptions() {
  for (const { name, title, unit, canvas } of ui.canvases) {
    let [titleText, unitText] = CAPTIONS[name];
    if (name === 'queue' && state.figures) {
      const caption = queueCaption(state.figures.queue_chart(state.view.focus ?? null), state.scenario, state.view.focus);
      titleText = caption.of ? `${caption.title} of ${caption.of}` : caption.title;
      unitText = caption.unit;
      canvas.setAttribute('aria-label', caption.label);
    }
    title.textContent = titleText;
    unit.textContent = unitText;
  }
}

// ---- running --------------------------------------------------------------------------------

function startWorker() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event) => onWorkerMessage(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    showError(`The simulation could not start: ${event.message || 'the worker failed'}.`);
  };
  state.worker = worker;
}

function run() {
  if (!state.worker) startWorker();
  state.requestId += 1;
  state.worker.postMessage({ type: 'run', id: state.requestId, json: JSON.stringify(state.scenario) });
  setStatus('Running…');
}

function onWorkerMessage(message) {
  if (!message || typeof message !== 'object') return;
  if (message.type === 'fatal') {
    showError(`The simulation ${message.message}.`);
    return;
  }
  if (message.id !== state.requestId) return;
  switch (message.type) {
    case 'progress':
      setStatus(`Running… ${Math.round(message.fraction * 100)}%`);
      break;
    case 'partial':
    case 'result':
      showResult(message);
      if (message.type === 'result') {
        setStatus('');
        document.body.dataset.results = String(Number(document.body.dataset.results ?? 0) + 1);
        if (autoplayAllowed() && state.visible) startPlaying();
      }
      break;
    case 'invalid':
      showError(`This scenario has errors: ${message.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ')}`);
      setStatus('');
      break;
    case 'crash':
      showError(`The simulation crashed (${message.message}).`);
      state.worker.terminate();
      state.worker = null;
      break;
    default:
      break;
  }
}

function showResult({ report, faults, topology }) {
  let figures;
  try {
    figures = new wasm.Figures({ report, faults, topology });
  } catch (error) {
    showError(`Could not read the results: ${describe(error)}`);
    return;
  }
  state.figures?.free();
  state.figures = figures;
  ui.cursor.max = String(figures.duration_s);
  ui.cursor.step = String(figures.bucket_s);
  if (!state.userTouched && !state.playing) {
    // The moment the link names, else the latest one with data.
    state.cursor_s = state.view.cursor_s ?? Math.max(0, report.simulated_s - figures.bucket_s / 2);
  }
  state.cursor_s = Math.min(state.cursor_s, figures.duration_s);
  ui.cursor.value = String(state.cursor_s);
  syncCaptions();
  drawNow();
}

// ---- drawing and playing ------------------------------------------------------------------

/** Draws at the next frame, once however often asked. */
const scheduleDraw = drawAtNextFrame(() => drawNow());

function drawNow() {
  // Resize observers fire before the wasm module has loaded.
  if (!state.wasmReady) return;
  ui.time.textContent = `t = ${wasm.format_value(state.cursor_s, 's')}`;
  const figures = state.figures;
  if (!figures) return;
  try {
    if (options.graph) figures.draw_graph(ui.graph, state.cursor_s, state.view.selected ?? []);
    for (const { name, canvas } of ui.canvases) figures.draw_chart(name, canvas, state.cursor_s, state.view.focus ?? null);
  } catch (error) {
    showError(`Could not draw the figure: ${describe(error)}`);
  }
}

function startPlaying() {
  if (state.playing) return;
  play(state, ui.play, () => {
    ui.cursor.value = String(state.cursor_s);
    drawNow();
  });
}

function stopPlaying() {
  stopPlayer(state, ui.play);
}

function autoplayAllowed() {
  return options.autoplay && !reducedMotion.matches && !state.userTouched;
}

function wire() {
  ui.play.addEventListener('click', () => {
    state.userTouched = true;
    if (state.playing) stopPlaying();
    else startPlaying();
  });
  ui.cursor.addEventListener('input', () => {
    state.userTouched = true;
    stopPlaying();
    state.cursor_s = ui.cursor.valueAsNumber;
    scheduleDraw();
  });
  // A click on a node shows its traffic (as in the playground); on the background, everyone's.
  ui.graph.addEventListener('click', (event) => {
    if (!state.figures) return;
    const box = ui.graph.getBoundingClientRect();
    const id = state.figures.node_at(event.clientX - box.left, event.clientY - box.top);
    state.view = { ...state.view, focus: id ?? undefined, selected: id ? [id] : [] };
    syncCaptions();
    scheduleDraw();
  });
  // Run when first seen; play only while seen.
  new IntersectionObserver((entries) => {
    state.visible = entries.some((entry) => entry.isIntersecting);
    if (state.visible && !state.started && state.scenario) {
      state.started = true;
      run();
    } else if (!state.visible && state.playing) {
      stopPlaying();
      state.pausedOffscreen = true;
    } else if (state.visible && state.pausedOffscreen && autoplayAllowed()) {
      state.pausedOffscreen = false;
      startPlaying();
    }
  }, { threshold: 0.2 }).observe(document.body);
  if (options.editable) {
    ui.edit.hidden = false;
    ui.seed.value = state.scenario?.seed ?? '';
    ui.json.value = JSON.stringify(state.scenario, null, 2);
    ui.seed.addEventListener('change', () => {
      const seed = ui.seed.valueAsNumber;
      if (!Number.isSafeInteger(seed) || seed < 0) return;
      state.scenario.seed = seed;
      ui.json.value = JSON.stringify(state.scenario, null, 2);
      ui.error.hidden = true;
      run();
    });
    ui.apply.addEventListener('click', () => {
      const validation = wasm.validate_scenario(ui.json.value);
      if (!validation.ok) {
        showError(validation.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; '));
        return;
      }
      ui.error.hidden = true;
      state.scenario = JSON.parse(ui.json.value);
      ui.seed.value = state.scenario.seed ?? '';
      run();
    });
  }
}

async function main() {
  for (const [key, id] of Object.entries({
    name: 'embed-name', status: 'embed-status', open: 'embed-open', error: 'embed-error', stage: 'embed-stage',
    graph: 'embed-graph', timeline: 'embed-timeline', play: 'embed-play', cursor: 'embed-cursor', time: 'embed-time',
    charts: 'embed-charts', edit: 'embed-edit', seed: 'embed-seed', json: 'embed-json', apply: 'embed-apply',
  })) ui[key] = element(id);
  buildLayout();
  await init();
  state.wasmReady = true;
  let opened;
  try {
    opened = wasm.open_link(location.hash);
    state.scenario = readableKeyOrder(JSON.parse(opened.scenario_json));
  } catch (error) {
    setStatus('');
    showError(`This figure's link could not be opened: ${describe(error)}`);
    return;
  }
  state.view = checkedView(opened.view, state.scenario);
  ui.name.textContent = state.scenario.name || 'A simulated scenario';
  document.title = `${ui.name.textContent} · Stormglass`;
  ui.open.href = playgroundUrl(location.href, location.hash);
  wire();
  setStatus(state.visible ? 'Running…' : '');
}

main().catch((error) => showError(`The figure failed to start: ${describe(error)}`));
