// Loads the built wasm module (www/pkg, made by scripts/build.sh) into Node.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const wasm = await import(`${root}www/pkg/stormglass_web.js`);
wasm.initSync({ module: readFileSync(`${root}www/pkg/stormglass_web_bg.wasm`) });

export { wasm, root };
