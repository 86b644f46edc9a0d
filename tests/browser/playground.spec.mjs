// The playground on its default preset: it loads cleanly, draws, reacts to a control, and
// the time cursor scrubs without re-running.
import { test, expect, openPlayground, changeAndWait, canvasStats, canvasDataUrl, resultsShown } from './fixtures.mjs';

const CANVASES = ['#graph', '#chart-traffic', '#chart-latency', '#chart-queue'];

test('opens on the retry-storm preset with no console errors', async ({ page }) => {
  await openPlayground(page);
  await expect(page.locator('#preset')).toHaveValue('retry-storm');
  await expect(page.locator('#scenario-name')).toHaveText('Retry storm after a slowdown');
  await expect(page.locator('#what-to-try')).toContainText('max retries');
  await expect(page.locator('#retries')).toHaveValue('3');
  await expect(page.locator('#rate')).toHaveValue('800');
  await expect(page.locator('#timeout')).toHaveValue('100');
  await expect(page.locator('#seed')).toHaveValue('42');
  await expect(page.locator('#verdicts [data-verdict]')).toHaveAttribute('data-verdict', 'metastable');
  await expect(page.locator('[data-key="amplification"]')).toContainText(/\d(\.\d)?x/);
  await expect(page.locator('#errors')).toBeHidden();
  await expect(page.locator('#banner')).toBeHidden();
});

test('draws the event graph and every chart', async ({ page }) => {
  await openPlayground(page);
  for (const selector of CANVASES) {
    const stats = await canvasStats(page, selector);
    expect(stats.width, `${selector} has a backing store`).toBeGreaterThan(100);
    expect(stats.inkedShare, `${selector} is not blank`).toBeGreaterThan(0.01);
    expect(stats.colours, `${selector} uses several colours`).toBeGreaterThanOrEqual(5);
  }
});

test.describe('on a high-DPI screen', () => {
  test.use({ deviceScaleFactor: 2 });
  test('canvases have device-pixel backing stores', async ({ page }) => {
    await openPlayground(page);
    for (const selector of CANVASES) {
      const size = await page.$eval(selector, (canvas) => ({
        width: canvas.width,
        height: canvas.height,
        cssWidth: canvas.clientWidth,
        cssHeight: canvas.clientHeight,
      }));
      expect(size.width, selector).toBe(size.cssWidth * 2);
      expect(size.height, selector).toBe(size.cssHeight * 2);
    }
    await page.screenshot({ path: 'tests/screenshots/desktop-dpr2.png' });
  });
});

test('max retries 3 -> 0 turns the metastable failure into a recovery', async ({ page }) => {
  await openPlayground(page);
  const verdict = page.locator('#verdicts [data-verdict]');
  await expect(verdict).toHaveAttribute('data-verdict', 'metastable');
  await changeAndWait(page, () => page.locator('#retries').fill('0'));
  await expect(verdict).toHaveAttribute('data-verdict', 'recovered');
  await expect(verdict).toContainText(/recovered \d+ s after the fault ended/);
  await expect(page.locator('[data-key="amplification"]')).toContainText('1.0x');
  // The scenario JSON follows the control: retries are attempts minus one.
  const scenario = JSON.parse(await page.locator('#scenario-json').inputValue());
  expect(scenario.nodes[0].calls[0].retry.max_attempts).toBe(1);
  // The slider follows the number field.
  await expect(page.locator('#retries-range')).toHaveValue('0');
});

test('the time cursor scrubs the graph and the charts without re-running', async ({ page }) => {
  await openPlayground(page);
  const runs = await resultsShown(page);
  const graphAtEnd = await canvasDataUrl(page, '#graph');
  const trafficAtEnd = await canvasDataUrl(page, '#chart-traffic');
  await page.locator('#cursor').fill('50');
  await expect(page.locator('#cursor-value')).toHaveText('t = 50 s');
  await expect.poll(() => canvasDataUrl(page, '#graph')).not.toBe(graphAtEnd);
  await expect.poll(() => canvasDataUrl(page, '#chart-traffic')).not.toBe(trafficAtEnd);
  // During the fault the graph looks different again (fault badge, queue).
  const graphAt50 = await canvasDataUrl(page, '#graph');
  await page.locator('#cursor').fill('105');
  await expect.poll(() => canvasDataUrl(page, '#graph')).not.toBe(graphAt50);
  expect(await resultsShown(page), 'scrubbing must not re-run the simulation').toBe(runs);
  // A re-run keeps the cursor where the user put it.
  await changeAndWait(page, () => page.locator('#retries').fill('1'));
  await expect(page.locator('#cursor')).toHaveValue('105');
});

test('clicking a node selects it for the controls and focuses the traffic chart on it', async ({ page }) => {
  await openPlayground(page);
  const box = await page.locator('#graph').boundingBox();
  const traffic = await canvasDataUrl(page, '#chart-traffic');
  // The client is drawn in the left half, the service in the right half, at mid-height.
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.42);
  await expect(page.locator('#service-name')).toHaveText('api');
  await expect(page.locator('#traffic-focus')).toHaveText('into api');
  await page.mouse.click(box.x + box.width * 0.25, box.y + box.height * 0.42);
  await expect(page.locator('#client-name')).toHaveText('clients');
  await expect(page.locator('#traffic-focus')).toHaveText('of clients');
  // The background: the whole system again. One client: the same chart as at the start.
  await page.mouse.click(box.x + 5, box.y + box.height * 0.5);
  await expect(page.locator('#traffic-focus')).toHaveText('of all clients');
  await expect.poll(() => canvasDataUrl(page, '#chart-traffic')).toBe(traffic);
});

test('with two clients, the traffic and latency charts follow the clicked service', async ({ page }) => {
  await openPlayground(page);
  await changeAndWait(page, () => page.locator('#preset').selectOption('fifo-vs-lifo'));
  const all = await canvasDataUrl(page, '#chart-traffic');
  const allLatency = await canvasDataUrl(page, '#chart-latency');
  const box = await page.locator('#graph').boundingBox();
  // fifo-api is the upper service, lifo-api the lower one.
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.58);
  await expect(page.locator('#traffic-focus')).toHaveText('into lifo-api');
  await expect(page.locator('#service-name select')).toHaveValue('lifo-api');
  await expect(page.locator('#discipline')).toHaveValue('lifo');
  await expect.poll(() => canvasDataUrl(page, '#chart-traffic')).not.toBe(all);
  await expect(page.locator('#latency-focus')).toHaveText('into lifo-api');
  await expect.poll(() => canvasDataUrl(page, '#chart-latency')).not.toBe(allLatency);
});

test('re-running the default preset: report the time it takes (a measurement, not a limit)', async ({ page }, testInfo) => {
  await openPlayground(page);
  const samples = [];
  for (let index = 0; index < 3; index += 1) {
    await changeAndWait(page, () => page.locator('#run').click());
    samples.push(
      await page.evaluate(() => ({
        result_ms: Number(document.body.dataset.lastRunMs),
        drawn_ms: Number(document.body.dataset.lastDrawnMs),
        worker_ms: Number(document.body.dataset.lastWorkerMs),
      })),
    );
  }
  const text = samples.map((s) => `result ${s.result_ms} ms, drawn ${s.drawn_ms} ms (worker ${s.worker_ms} ms)`).join('; ');
  testInfo.annotations.push({ type: 'rerun', description: text });
  console.log(`[measure] re-run of retry-storm in the page: ${text}`);
  // The page measured something real: a run took time and was drawn after its result came.
  for (const sample of samples) expect(sample.drawn_ms).toBeGreaterThanOrEqual(sample.result_ms);
});

test('every control edits its field of the scenario JSON', async ({ page }) => {
  await openPlayground(page);
  const scenario = async () => JSON.parse(await page.locator('#scenario-json').inputValue());
  await page.locator('#backoff').selectOption('constant');
  await expect(page.locator('#backoff-cap')).toBeDisabled();
  await page.locator('#backoff-base').fill('25');
  await page.locator('#jitter').selectOption('equal');
  await page.locator('#timeout').fill('250');
  await page.locator('#rate').fill('700');
  await page.locator('#workers').fill('12');
  await page.locator('#discipline').selectOption('lifo');
  await page.locator('#capacity').fill('100');
  await page.locator('#fault-factor').fill('4');
  await page.locator('#fault-start').fill('50');
  await page.locator('#fault-length').fill('5');
  await page.locator('#seed').fill('7');
  let edited = await scenario();
  const call = edited.nodes[0].calls[0];
  expect(call.retry).toEqual({ max_attempts: 4, backoff: { constant: '25ms' }, jitter: 'equal' });
  expect(call.timeout).toBe('250ms');
  expect(edited.nodes[0].rate).toBe(700);
  expect(edited.nodes[1].workers).toBe(12);
  expect(edited.nodes[1].queue).toEqual({ discipline: 'lifo', capacity: 100 });
  expect(edited.faults[0]).toMatchObject({ start: '50s', end: '55s', slowdown: 4 });
  expect(edited.seed).toBe(7);
  // Blank means the format's default: no timeout, an unbounded queue.
  await page.locator('#timeout').fill('');
  await page.locator('#capacity').fill('');
  await page.locator('#backoff').selectOption('exponential');
  await expect(page.locator('#backoff-cap')).toBeEnabled();
  edited = await scenario();
  expect(edited.nodes[0].calls[0].timeout).toBeUndefined();
  expect(edited.nodes[1].queue.capacity).toBeUndefined();
  expect(edited.nodes[0].calls[0].retry.backoff).toEqual({ exponential: { base: '25ms', cap: '1000ms' } });
  // The edits ran: a valid scenario, drawn, with the new seed.
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'done');
  await expect(page.locator('#run-facts')).toContainText('seed 7');
});
