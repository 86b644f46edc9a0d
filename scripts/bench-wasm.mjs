// The engine benchmark in wasm under Node: attempts simulated per wall-clock second on the
// same scenarios as `stormglass bench` (core/presets/bench/). Reports medians and the wasm
// linear memory at the end (it never shrinks, so it is the peak).
// Usage: node scripts/bench-wasm.mjs [--repeat N]
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = fileURLToPath(new URL('../', import.meta.url));
const wasm = await import(`${root}www/pkg/stormglass_web.js`);
const exports = wasm.initSync({ module: readFileSync(`${root}www/pkg/stormglass_web_bg.wasm`) });

const repeatIndex = process.argv.indexOf('--repeat');
const repeat = repeatIndex > 0 ? Number(process.argv[repeatIndex + 1]) : 5;
if (!Number.isInteger(repeat) || repeat < 1) {
  console.error('--repeat: expected a positive integer');
  process.exit(1);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const dir = `${root}core/presets/bench`;
console.log(['scenario'.padEnd(14), 'attempts'.padStart(10), 'median wall s'.padStart(14), 'attempts/s'.padStart(14)].join(' '));
for (const file of readdirSync(dir).filter((name) => name.endsWith('.json')).sort()) {
  const json = readFileSync(`${dir}/${file}`, 'utf8');
  const attempts = wasm.run_report(json).summary.attempts;
  const seconds = [];
  for (let i = 0; i < repeat; i += 1) {
    const started = performance.now();
    wasm.run_digest(json);
    seconds.push((performance.now() - started) / 1000);
  }
  const wall = median(seconds);
  console.log([file.replace('.json', '').padEnd(14), String(attempts).padStart(10), wall.toFixed(3).padStart(14), Math.round(attempts / wall).toString().padStart(14)].join(' '));
}
console.log(`wasm linear memory at the end (peak): ${(exports.memory.buffer.byteLength / 2 ** 20).toFixed(1)} MiB`);
