// Share links in wasm: the saved links (tests/links/, checked natively by
// core/tests/it/links.rs) open in the wasm build to the same scenario and run to the same
// digests, links made in wasm are the links the native build makes, and damaged links are
// errors with a code, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { wasm, root } from './load.mjs';

const dir = `${root}tests/links`;
const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8'));
const saved = readdirSync(dir).filter((name) => name.endsWith('.txt')).sort();

test('every saved link has a manifest entry', () => {
  assert.deepEqual(saved, Object.keys(manifest).sort());
});

for (const name of saved) {
  test(`a saved link opens in wasm, runs to its digest and is made again identically: ${name}`, () => {
    const fragment = readFileSync(`${dir}/${name}`, 'utf8');
    const opened = wasm.open_link(fragment);
    assert.equal(wasm.run_digest(opened.scenario_json), manifest[name].digest);
    assert.deepEqual(opened.view, manifest[name].view);
    const again = wasm.make_link(opened.scenario_json, opened.view === null ? undefined : JSON.stringify(opened.view));
    assert.equal(`#${again}\n`, fragment);
  });
}

test('damaged links are errors with a code and a message', () => {
  const good = readFileSync(`${dir}/v1-retry-storm.txt`, 'utf8').trim();
  for (const [fragment, code] of [
    ['', 'empty'],
    ['#v9.AAAA', 'unsupported_version'],
    [good.slice(0, good.length / 2), 'truncated'],
    [`${good.slice(0, 40)}${good[40] === 'A' ? 'B' : 'A'}${good.slice(41)}`, 'corrupt'],
  ]) {
    assert.throws(() => wasm.open_link(fragment), (error) => {
      assert.equal(error.name, 'LinkError');
      assert.equal(error.code, code, `${fragment.slice(0, 20)}…: ${error.message}`);
      assert.equal(error.errors[0].kind, 'link');
      return true;
    });
  }
});
