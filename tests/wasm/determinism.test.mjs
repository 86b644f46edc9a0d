// The wasm build gives the same event digests as the native build: both are checked against
// tests/golden/digests.json (natively by core/tests/it/determinism.rs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { wasm, root } from './load.mjs';

const golden = JSON.parse(readFileSync(`${root}tests/golden/digests.json`, 'utf8'));

function goldenScenarios() {
  const dir = `${root}tests/golden`;
  const files = readdirSync(dir).filter((name) => name.endsWith('.json') && name !== 'digests.json').sort();
  const scenarios = files.map((name) => [name, readFileSync(`${dir}/${name}`, 'utf8')]);
  for (const preset of wasm.presets()) scenarios.push([`preset:${preset.name}`, preset.json]);
  return scenarios;
}

test('every golden scenario and preset has a digest on record', () => {
  const names = goldenScenarios().map(([name]) => name).sort();
  assert.deepEqual(names, Object.keys(golden).sort());
});

for (const [name, json] of goldenScenarios()) {
  test(`wasm digest equals the native golden digest: ${name}`, () => {
    assert.equal(wasm.run_digest(json), golden[name]);
  });
}

test('a run stepped in slices from JS gives the same digest as one call', () => {
  const json = wasm.presets().find((p) => p.name === 'retry-storm').json;
  const run = new wasm.RunHandle(json);
  while (!run.step(13.7)) { /* step until done */ }
  assert.equal(run.digest(), golden['preset:retry-storm']);
  assert.equal(run.report().digest, golden['preset:retry-storm']);
  run.free();
});
