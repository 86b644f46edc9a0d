// The defaults the page shows as placeholders are the simulator's own: spelled out in a
// scenario, they run exactly as when left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wasm } from './load.mjs';

const llmPreset = () => JSON.parse(wasm.presets().find((p) => p.name === 'llm-rate-limit').json);

test('llm_defaults gives the output budget, the prompt cache and the prices', () => {
  assert.deepEqual(wasm.llm_defaults(), {
    max_output_tokens: 1024,
    prompt_cache: { hit_ratio: 1, ttl_s: 300, cached_share: 0.9 },
    price: { input_per_million_usd: 3, cached_input_per_million_usd: 0.3, output_per_million_usd: 15 },
  });
});

test("an endpoint spelling out llm_defaults runs as one leaving them out", () => {
  const defaults = wasm.llm_defaults();
  const bare = llmPreset();
  // The naive model, with a cache that names nothing and no budget or prices of its own.
  const model = bare.nodes[2];
  delete model.max_output_tokens;
  model.prompt_cache = {};
  const spelled = structuredClone(bare);
  Object.assign(spelled.nodes[2], {
    max_output_tokens: defaults.max_output_tokens,
    prompt_cache: {
      hit_ratio: defaults.prompt_cache.hit_ratio,
      ttl: `${defaults.prompt_cache.ttl_s}s`,
      cached_share: defaults.prompt_cache.cached_share,
    },
    price: defaults.price,
  });
  const [left, right] = [bare, spelled].map((scenario) => wasm.run_report(JSON.stringify(scenario)));
  assert.equal(right.digest, left.digest);
  const naive = (report) => report.nodes.find((node) => node.id === 'naive-model');
  assert.ok(naive(left).cache_hits > 0, 'the cache was used');
  for (const field of ['admitted', 'rate_limited', 'charged_tokens', 'cached_input_tokens', 'cost_usd']) {
    assert.equal(naive(right)[field], naive(left)[field], field);
  }
});
