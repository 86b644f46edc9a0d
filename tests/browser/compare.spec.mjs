// Compare mode (A and B on the same seed, overlaid) and several seeds (median and band).
import { test, expect, openPlayground, changeAndWait, canvasDataUrl, canvasPixelsNear, canvasStats, resultsShown, waitForResults, applyScenarioJson, editedScenario } from './fixtures.mjs';

const GOODPUT = [0x16, 0xa3, 0x4a];

async function setRetries(page, value) {
  await changeAndWait(page, () => page.locator('#retries').fill(String(value)));
}

test('compare: B with no retries recovers where A stays metastable, both drawn', async ({ page }) => {
  await openPlayground(page);
  const single = await canvasDataUrl(page, '#chart-traffic');
  await expect(page.locator('#variants')).toBeHidden();

  await changeAndWait(page, () => page.locator('#compare').click());
  await expect(page.locator('#compare')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('#editing')).toBeVisible();
  await expect(page.locator('#edit-b')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('body')).toHaveAttribute('data-editing', 'B');
  // A and B are the same scenario yet: no difference.
  await expect(page.locator('#variants tr[data-key="goodput"] td.delta')).toHaveText('no change');

  await setRetries(page, 0);
  const verdict = page.locator('#variants tr[data-key="verdict-0"]');
  await expect(verdict.locator('td').nth(0)).toHaveText('metastable');
  await expect(verdict.locator('td').nth(1)).toHaveText('recovered');
  await expect(verdict.locator('td.delta')).toHaveText('B recovers, A does not');
  await expect(page.locator('#variants tr[data-key="goodput"] td.delta')).toHaveText(/^\+[\d.]+k?\/s$/);
  await expect(page.locator('#variants tr[data-key="success"] td.delta')).toHaveText(/^\+[\d.]+ pp$/);
  await expect(page.locator('#variants tr[data-key="amplification"] td.delta')).toHaveText(/^−[\d.]+x$/);

  // Two goodput series: A collapses, B's dashed line stays up; the chart is not the single run's.
  const compared = await canvasDataUrl(page, '#chart-traffic');
  expect(compared).not.toEqual(single);
  expect(await canvasPixelsNear(page, '#chart-traffic', GOODPUT, 20)).toBeGreaterThan(300);

  // The address holds both variants: a reload opens the comparison as it was.
  await expect.poll(() => page.evaluate(() => location.hash), { timeout: 10_000 }).toMatch(/^#v1\./);
  await page.waitForTimeout(1500);
  await page.reload();
  await waitForResults(page, 1);
  await expect(page.locator('body')).toHaveAttribute('data-editing', 'B');
  await expect(page.locator('#retries')).toHaveValue('0');
  await expect(verdict.locator('td.delta')).toHaveText('B recovers, A does not');

  // The controls edit B: A still has its retries.
  await expect(page.locator('#retries')).toHaveValue('0');
  await changeAndWait(page, () => page.locator('#edit-a').click());
  await expect(page.locator('body')).toHaveAttribute('data-editing', 'A');
  await expect(page.locator('#retries')).toHaveValue('3');
  await expect(verdict.locator('td').nth(1)).toHaveText('recovered');

  // Leaving keeps the variant being edited (A, with its retries); one run again.
  await changeAndWait(page, () => page.locator('#compare').click());
  await expect(page.locator('#editing')).toBeHidden();
  await expect(page.locator('#variants')).toBeHidden();
  await expect(page.locator('#retries')).toHaveValue('3');
  await expect(page.locator('#verdicts li').first()).toHaveAttribute('data-verdict', 'metastable');
});

test('seeds: five seeds draw a band and the summary a range; an edit supersedes the run', async ({ page }) => {
  await openPlayground(page);
  // Without retries the storm recovers, at a moment that differs from seed to seed.
  await setRetries(page, 0);
  const single = await canvasDataUrl(page, '#chart-traffic');
  const singleStats = await canvasStats(page, '#chart-traffic');
  await changeAndWait(page, () => page.locator('#seeds').selectOption('5'));
  await expect(page.locator('#variants-title')).toHaveText(/Over 5 seeds/);
  await expect(page.locator('#variants tr[data-key="goodput"] td').nth(1)).toHaveText(/^[\d.]+k?\/s – [\d.]+k?\/s$/);
  await expect(page.locator('#variants tr[data-key="verdict-0"] td').nth(0)).toHaveText(/of 5$/);
  expect(await canvasDataUrl(page, '#chart-traffic')).not.toEqual(single);
  // The bands: translucent fills around each median, blending into colours (and ink) a
  // single run's lines do not have. The medians alone are smoother than one run's lines.
  const seedStats = await canvasStats(page, '#chart-traffic');
  expect(seedStats.colours).toBeGreaterThan(singleStats.colours + 40);
  expect(seedStats.inked).toBeGreaterThan(singleStats.inked + 500);

  // A new edit while the seeds run: the older request is dropped, the newer one shown.
  const before = await resultsShown(page);
  await page.locator('#seeds').selectOption('10');
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'running');
  await page.locator('#rate').fill('600');
  await expect.poll(() => resultsShown(page), { timeout: 60_000 }).toBe(before + 1);
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'done');
  await expect(page.locator('#variants-title')).toHaveText(/Over 10 seeds/);
  await expect(page.locator('#variants tr[data-key="verdict-0"] td').nth(0)).toHaveText(/of 10$/);
  await expect(page.locator('#rate')).toHaveValue('600');
  // What is shown is the newer request's (600/s offered), and the older one never arrives.
  await expect(page.locator('#summary-list dd[data-key="goodput"]')).toContainText(/of (59\d|60\d)\/s offered/);
  await page.waitForTimeout(1000);
  expect(await resultsShown(page)).toBe(before + 1);
});

test('seeds: a count whose events would pass the run limit is refused, saying how many fit', async ({ page }) => {
  await openPlayground(page);
  // An hour at 800/s: about ten million events a run, so twenty seeds would be far too many.
  const long = { ...(await editedScenario(page)), duration: '3600s', faults: [] };
  await changeAndWait(page, () => applyScenarioJson(page, JSON.stringify(long)));
  await page.locator('#seeds').selectOption('20');
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'refused');
  await expect(page.locator('#run-status')).toHaveText(
    /^Not run: 20 seeds of this scenario would simulate about [\d.]+M events, more than the 100M a multi-seed run may; \d+ seeds fit\.$/,
  );
  // One seed runs again.
  await changeAndWait(page, () => page.locator('#seeds').selectOption('1'));
  await expect(page.locator('#variants')).toBeHidden();
});
