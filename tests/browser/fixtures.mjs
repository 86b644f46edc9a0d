// The shared fixture: every test fails on any console error or uncaught page error, from the
// page or its worker. A test that provokes an error on purpose matches it with
// `test.use({ expectedErrors: /pattern/ })` (one RegExp: Playwright reads an array option as
// a fixture definition).
import { test as base, expect } from '@playwright/test';

export const test = base.extend({
  /** A RegExp matching console errors a test causes on purpose, or null. */
  expectedErrors: [null, { option: true }],

  page: async ({ page, expectedErrors }, use, testInfo) => {
    const problems = [];
    const expected = (text) => expectedErrors instanceof RegExp && expectedErrors.test(text);
    const record = (source) => (message) => {
      if (message.type() !== 'error') return;
      if (!expected(message.text())) problems.push(`${source} console.error: ${message.text()}`);
    };
    page.on('console', record('page'));
    page.on('worker', (worker) => worker.on('console', record('worker')));
    page.on('pageerror', (error) => {
      if (!expected(error.message)) problems.push(`page error: ${error.message}`);
    });
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
    });
    await use(page);
    expect(problems, `console errors, page errors or failed requests in "${testInfo.title}"`).toEqual([]);
  },
});

export { expect };

/** Opens the playground and waits for the first run of the default preset to be drawn. */
export async function openPlayground(page) {
  await page.goto('/');
  await waitForResults(page, 1);
}

/** Waits until at least `count` runs have finished and been shown since the page loaded. */
export async function waitForResults(page, count) {
  await expect.poll(() => resultsShown(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(count);
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'done');
}

/** Number of runs shown so far. */
export async function resultsShown(page) {
  return Number((await page.locator('body').getAttribute('data-results')) ?? '0');
}

/** Changes a control and waits for the re-run it causes to be shown. */
export async function changeAndWait(page, action) {
  const before = await resultsShown(page);
  await action();
  await expect.poll(() => resultsShown(page), { timeout: 20_000 }).toBeGreaterThan(before);
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'done');
}

/** Distinct colours and non-background pixels of a canvas, read in the page. */
export async function canvasStats(page, selector) {
  return page.$eval(selector, (canvas) => {
    const context = canvas.getContext('2d');
    const { width, height } = canvas;
    const data = context.getImageData(0, 0, width, height).data;
    const colours = new Set();
    let inked = 0;
    for (let index = 0; index < data.length; index += 4) {
      const [red, green, blue, alpha] = [data[index], data[index + 1], data[index + 2], data[index + 3]];
      if (alpha > 0 && !(red > 245 && green > 245 && blue > 245)) inked += 1;
      // Quantise so anti-aliasing does not count as colours.
      colours.add(`${red >> 4},${green >> 4},${blue >> 4}`);
    }
    return { width, height, inked, inkedShare: inked / (width * height), colours: colours.size };
  });
}

/** A PNG of a canvas's current pixels (to compare two moments of the same canvas). */
export async function canvasDataUrl(page, selector) {
  return page.$eval(selector, (canvas) => canvas.toDataURL('image/png'));
}

/** How many pixels of a canvas are within `tolerance` of an [r, g, b] colour on each channel. */
export async function canvasPixelsNear(page, selector, [red, green, blue], tolerance = 6) {
  return page.$eval(
    selector,
    (canvas, { red, green, blue, tolerance }) => {
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let index = 0; index < data.length; index += 4) {
        const near = Math.abs(data[index] - red) <= tolerance && Math.abs(data[index + 1] - green) <= tolerance
          && Math.abs(data[index + 2] - blue) <= tolerance;
        if (near) count += 1;
      }
      return count;
    },
    { red, green, blue, tolerance },
  );
}

/** Opens the Scenario JSON editor, replaces the text and applies it. */
export async function applyScenarioJson(page, text) {
  const details = page.locator('#editor-details');
  if (!(await details.evaluate((element) => element.open))) await page.locator('#editor-details summary').click();
  await page.locator('#scenario-json').fill(text);
  await page.locator('#apply-json').click();
}

/** The scenario as the JSON editor shows it. */
export async function editedScenario(page) {
  return JSON.parse(await page.locator('#scenario-json').inputValue());
}
