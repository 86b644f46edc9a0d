// A small static file server for www/, for development and the browser tests.
// No dependencies. Listens on 127.0.0.1 only; port from PORT (default 8080).
// Serves .wasm as application/wasm (needed for WebAssembly.instantiateStreaming), refuses
// paths that leave www/ (including through symlinks), and answers only GET and HEAD.
//
//   node scripts/serve.mjs            # http://127.0.0.1:8080
//   PORT=8081 node scripts/serve.mjs

import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT_DIR = resolve(fileURLToPath(new URL('../www', import.meta.url)));
const HOST = '127.0.0.1';
const PORT_DEFAULT = 8080;

const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

function parsePort(text) {
  if (text === undefined || text === '') return PORT_DEFAULT;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`[serve] PORT must be an integer from 1 to 65535, got ${JSON.stringify(text)}`);
    process.exit(1);
  }
  return port;
}

function send(response, status, message) {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  response.end(`${status} ${message}\n`);
}

const BAD_REQUEST = Symbol('bad request');

/**
 * The file a URL path names inside ROOT_DIR: {path, size}; null if the path would leave
 * ROOT_DIR; undefined if there is no such file; BAD_REQUEST if the path is malformed.
 */
async function resolveFile(urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return BAD_REQUEST;
  }
  if (decoded.includes('\0')) return BAD_REQUEST;
  let candidate = resolve(ROOT_DIR, '.' + sep + decoded);
  if (candidate !== ROOT_DIR && !candidate.startsWith(ROOT_DIR + sep)) return null;
  let info = await stat(candidate).catch(() => null);
  if (info?.isDirectory()) {
    candidate = join(candidate, 'index.html');
    info = await stat(candidate).catch(() => null);
  }
  if (!info?.isFile()) return undefined;
  // A symlink inside www/ must not lead outside it either.
  const real = await realpath(candidate).catch(() => null);
  const realRoot = await realpath(ROOT_DIR);
  if (!real || (real !== realRoot && !real.startsWith(realRoot + sep))) return null;
  return { path: real, size: info.size, modifiedMs: info.mtimeMs };
}

const server = createServer(async (request, response) => {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return send(response, 405, 'Method Not Allowed');
  }
  const urlPath = (request.url ?? '/').split('?')[0].split('#')[0];
  const file = await resolveFile(urlPath);
  if (file === BAD_REQUEST) return send(response, 400, 'Bad Request');
  if (file === null) return send(response, 403, 'Forbidden');
  if (file === undefined) return send(response, 404, 'Not Found');
  // Development server: always revalidate, so a rebuild shows up on reload; the ETag lets the
  // page and its worker share one download of the wasm.
  const etag = `W/"${file.size}-${Math.floor(file.modifiedMs)}"`;
  const headers = { 'Cache-Control': 'no-cache', ETag: etag, 'X-Content-Type-Options': 'nosniff' };
  if (request.headers['if-none-match'] === etag) {
    response.writeHead(304, headers);
    return response.end();
  }
  response.writeHead(200, {
    ...headers,
    'Content-Type': MIME_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': file.size,
  });
  if (request.method === 'HEAD') return response.end();
  createReadStream(file.path)
    .on('error', () => response.destroy())
    .pipe(response);
});

const port = parsePort(process.env.PORT);
server.on('error', (error) => {
  console.error(`[serve] cannot listen on ${HOST}:${port}: ${error.message}`);
  process.exit(1);
});
server.listen(port, HOST, () => {
  console.log(`[serve] serving ${ROOT_DIR} at http://${HOST}:${port}/`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    // Browsers keep connections alive; without this, close() would wait for them.
    server.closeAllConnections();
  });
}
