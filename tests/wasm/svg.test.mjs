// Charts as SVG from the wasm build: drawn without a page (no DOM to measure text with), and
// sizes out of bounds refused as typed errors naming the argument.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wasm } from './load.mjs';

function figures() {
  const json = wasm.presets().find((preset) => preset.name === 'retry-storm').json;
  const run = new wasm.RunHandle(json);
  while (!run.step(run.duration_s));
  const result = new wasm.Figures({ report: run.report(), faults: run.faults(), topology: run.topology() });
  run.free();
  return result;
}

test('every time chart is an SVG document, drawn without a page', () => {
  const run = figures();
  for (const name of ['traffic', 'latency', 'queue', 'policies']) {
    const svg = run.chart_svg(name, 640, 300, 30, undefined);
    assert.ok(svg.startsWith('<svg '), name);
    assert.match(svg, /width="640" height="300"/);
    assert.ok(svg.trimEnd().endsWith('</svg>'), name);
    assert.ok(svg.includes('time (s)'), name);
  }
  assert.match(run.chart_svg('latency', 640, 300, 30, undefined), /\np99 \d/);
  run.free();
});

test('an SVG size out of bounds, or an unknown chart, is an ArgumentError naming it', () => {
  const run = figures();
  for (const [width, height, path] of [[199, 300, 'width_css'], [640, 4001, 'height_css'], [Number.NaN, 300, 'width_css']]) {
    assert.throws(() => run.chart_svg('latency', width, height, 0, undefined), (error) => {
      assert.equal(error.name, 'ArgumentError');
      assert.equal(error.errors[0].path, path);
      assert.match(error.message, /expected a number of CSS pixels from 200 to 4000/);
      return true;
    });
  }
  assert.throws(() => run.chart_svg('graph', 640, 300, 0, undefined), (error) => error.errors[0].path === 'name');
  run.free();
});
