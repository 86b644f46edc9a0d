// The Export dialog: a chart or the event graph as PNG, a time chart as SVG, the run's time
// series as CSV, the scenario as a JSON file, and a scenario JSON file to open. Files are made
// in the page (the CSV and the SVG by the wasm module's own writers) and handed to the browser
// as downloads: nothing leaves it.

/** Scenario files larger than the simulator reads are refused before reading them. */
const SCENARIO_FILE_BYTES_MAX = 1 << 20;

/** The sides an SVG chart may have, in CSS pixels (as `Figures.chart_svg` accepts them). */
const SVG_SIDE_CSS_MIN = 200;
const SVG_SIDE_CSS_MAX = 4000;

/** Why the event graph has no SVG: it is painted straight onto its canvas, not through plotters. */
const GRAPH_SVG_NOTE = 'The event graph is painted directly on its canvas, so it saves as PNG only.';

function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page lacks #${id}`);
  return found;
}

/** A file name from the scenario's name and seed: "retry-storm-after-a-slowdown-seed-8". */
export function fileStem(scenario) {
  const name = String(scenario?.name ?? 'scenario')
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60) || 'scenario';
  const seed = Number.isSafeInteger(scenario?.seed) ? `-seed-${scenario.seed}` : '';
  return `${name}${seed}`;
}

function download(blob, fileName) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked after the click has started the download.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Wires the Export button and dialog. `figures()` is the drawn run (or null), `scenario()` the
 * scenario being edited, `canvases` the drawable canvases by name, `chartView(name)` the
 * `{cursor_s, focus}` a chart is drawn with, `validate(text)` the simulator's check, and
 * `open(scenario)` loads a valid scenario into the page.
 */
export function wireExportPanel({ figures, scenario, canvases, chartView, validate, open }) {
  const dialog = element('export-dialog');
  const status = element('export-status');
  const picker = element('export-chart');
  const svgButton = element('export-svg');
  const say = (text) => {
    status.textContent = text;
  };
  const syncSvgButton = () => {
    const graph = picker.value === 'graph';
    svgButton.disabled = graph;
    svgButton.title = graph ? GRAPH_SVG_NOTE : 'A vector drawing of the chart, as it is shown now';
  };
  picker.addEventListener('change', () => {
    syncSvgButton();
    say(picker.value === 'graph' ? GRAPH_SVG_NOTE : '');
  });
  syncSvgButton();
  element('export').addEventListener('click', () => {
    say('');
    syncSvgButton();
    dialog.showModal();
  });
  dialog.querySelector('.dialog-close').addEventListener('click', () => dialog.close());

  element('export-png').addEventListener('click', () => {
    const canvas = canvases.get(picker.value);
    if (!canvas || !figures()) {
      say('Nothing drawn yet: wait for the run to finish.');
      return;
    }
    canvas.toBlob((blob) => {
      if (!blob) {
        say('The browser could not make a PNG of this chart.');
        return;
      }
      download(blob, `${fileStem(scenario())}-${picker.value}.png`);
      say(`Saved ${picker.value} as PNG.`);
    }, 'image/png');
  });

  svgButton.addEventListener('click', () => {
    const run = figures();
    const canvas = canvases.get(picker.value);
    if (picker.value === 'graph') {
      say(GRAPH_SVG_NOTE);
      return;
    }
    if (!canvas || !run) {
      say('Nothing drawn yet: wait for the run to finish.');
      return;
    }
    // The size the chart has on the page, so the file looks like what was on screen.
    const side = (css) => Math.min(SVG_SIDE_CSS_MAX, Math.max(SVG_SIDE_CSS_MIN, Math.round(css) || SVG_SIDE_CSS_MIN));
    const { cursor_s, focus } = chartView(picker.value);
    let svg;
    try {
      svg = run.chart_svg(picker.value, side(canvas.clientWidth), side(canvas.clientHeight), cursor_s, focus);
    } catch (error) {
      say(`Could not make an SVG of the ${picker.value} chart: ${error.message}`);
      return;
    }
    const text = `<?xml version="1.0" encoding="UTF-8"?>\n${svg}`;
    download(new Blob([text], { type: 'image/svg+xml' }), `${fileStem(scenario())}-${picker.value}.svg`);
    say(`Saved ${picker.value} as SVG.`);
  });

  element('export-csv').addEventListener('click', () => {
    const run = figures();
    if (!run) {
      say('Nothing to export yet: wait for the run to finish.');
      return;
    }
    download(new Blob([run.series_csv()], { type: 'text/csv' }), `${fileStem(scenario())}.csv`);
    say('Saved the time series as CSV: one row per time bucket, one column per series.');
  });

  element('export-json').addEventListener('click', () => {
    const text = `${JSON.stringify(scenario(), null, 2)}\n`;
    download(new Blob([text], { type: 'application/json' }), `${fileStem(scenario())}.json`);
    say('Saved the scenario as JSON.');
  });

  const fileInput = element('import-file');
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (!file) return;
    if (file.size > SCENARIO_FILE_BYTES_MAX) {
      say(`${file.name} is ${Math.round(file.size / 1024)} KiB; a scenario file can be at most 1024 KiB.`);
      return;
    }
    const text = await file.text();
    const validation = validate(text);
    if (!validation.ok) {
      const first = validation.errors[0];
      const more = validation.errors.length > 1 ? ` (and ${validation.errors.length - 1} more)` : '';
      say(`${file.name} is not a valid scenario: ${first.path ? `${first.path}: ` : ''}${first.message}${more}`);
      return;
    }
    open(JSON.parse(text));
    dialog.close();
  });
}
