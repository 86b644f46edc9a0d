// Browser tests: Playwright driving Debian's Chromium against the built site (www/).
// Build first: `bash scripts/build.sh && npx playwright test`.
import { defineConfig } from '@playwright/test';

// Another checkout (a second worktree) may be testing on the same machine: its port can be
// moved with STORMGLASS_TEST_PORT.
const PORT = Number(process.env.STORMGLASS_TEST_PORT) || 8081;

export default defineConfig({
  testDir: 'tests/browser',
  testMatch: '*.spec.mjs',
  // Two cores on the project's machines: two workers at most; no retries, so a flaky test
  // shows up as a failure instead of being hidden.
  workers: 2,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    viewport: { width: 1440, height: 1000 },
    deviceScaleFactor: 1,
    launchOptions: {
      // Playwright's own browser downloads are not used: the system Chromium is.
      executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: 'node scripts/serve.mjs',
    env: { PORT: String(PORT) },
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    timeout: 20_000,
  },
});
