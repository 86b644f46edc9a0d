// Bad input reaches JavaScript as typed errors naming the field, never as a panic (a panic in
// wasm would kill the page).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wasm } from './load.mjs';

const preset = () => JSON.parse(wasm.presets().find((p) => p.name === 'retry-storm').json);

test('validate_scenario lists every error with its path', () => {
  const scenario = preset();
  scenario.nodes[0].rate = -1;
  scenario.nodes[1].workers = 0;
  const result = wasm.validate_scenario(JSON.stringify(scenario));
  assert.equal(result.ok, false);
  assert.deepEqual(result.errors.map((e) => e.path), ['nodes[0].rate', 'nodes[1].workers']);
  assert.match(result.errors[0].message, /expected a number from 0/);
  assert.equal(wasm.validate_scenario(JSON.stringify(preset())).ok, true);
});

test('a bad duration names the field inside the node', () => {
  const scenario = preset();
  scenario.nodes[0].calls[0].timeout = 'fast';
  const result = wasm.validate_scenario(JSON.stringify(scenario));
  assert.equal(result.errors[0].path, 'nodes[0].calls[0].timeout');
  assert.match(result.errors[0].message, /expected a duration like "250ms"/);
});

test('running invalid input throws an Error with the errors list', () => {
  for (const text of ['{ not json', '[]', JSON.stringify({ version: 9 }), '']) {
    assert.throws(() => wasm.run_report(text), (error) => {
      assert.ok(error instanceof Error);
      assert.ok(Array.isArray(error.errors) && error.errors.length > 0, text);
      assert.ok(error.errors[0].message.length > 0);
      return true;
    });
  }
});

test('a run that outgrows its limit stops with a message instead of exhausting memory', () => {
  const scenario = preset();
  scenario.faults = [];
  scenario.nodes[0].rate = 3000;
  scenario.limits = { in_flight_max: 20000 };
  const report = wasm.run_report(JSON.stringify(scenario));
  assert.equal(report.status, 'stopped');
  assert.match(report.stop_reason, /in_flight_max/);
});
