// The development server: MIME types the browser needs, and no way out of www/.
import { request as httpRequest } from 'node:http';
import { test, expect } from '@playwright/test';

/** A raw request (no URL normalisation, unlike browsers and fetch). */
function get(baseURL, path) {
  const { hostname, port } = new URL(baseURL);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ hostname, port, path, method: 'GET' }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode, type: response.headers['content-type'] }));
    });
    request.on('error', reject);
    request.end();
  });
}

test('serves the site with the right types and refuses to leave www/', async ({ baseURL }) => {
  expect(await get(baseURL, '/')).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
  expect(await get(baseURL, '/app.js')).toEqual({ status: 200, type: 'text/javascript; charset=utf-8' });
  expect(await get(baseURL, '/pkg/stormglass_web_bg.wasm')).toEqual({ status: 200, type: 'application/wasm' });
  for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/pkg/../../Cargo.toml']) {
    expect((await get(baseURL, path)).status, path).toBe(403);
  }
  expect((await get(baseURL, '/no-such-file.js')).status).toBe(404);
  expect((await get(baseURL, '/%E0%A4%A')).status).toBe(400);
});
