// How runs are scheduled: long runs report progress and partial results, a newer request
// supersedes an older one, and a run stopped by a limit says why.
import { test, expect, openPlayground, changeAndWait, resultsShown } from './fixtures.mjs';

async function applyScenario(page, edit) {
  const scenario = JSON.parse(await page.locator('#scenario-json').inputValue());
  edit(scenario);
  await page.locator('#editor-details summary').click();
  await page.locator('#scenario-json').fill(JSON.stringify(scenario, null, 2));
  await page.locator('#apply-json').click();
}

/** A healthy run twenty times longer than the preset: it takes seconds, not milliseconds. */
function long(scenario) {
  scenario.duration = '6000s';
  scenario.nodes[0].calls[0].retry.max_attempts = 1;
}

test('a newer request supersedes a long run still in progress', async ({ page }) => {
  await openPlayground(page);
  const before = await resultsShown(page);
  await applyScenario(page, long);
  await expect(page.locator('#run-progress')).toBeVisible();
  await expect(page.locator('#run-status')).toContainText('Running');
  await page.locator('#rate').fill('900');
  await expect.poll(() => resultsShown(page), { timeout: 60_000 }).toBeGreaterThan(before);
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'done');
  // Only the newest request's result was shown: the run at 800/s was dropped unfinished.
  expect(await resultsShown(page)).toBe(before + 1);
  await expect(page.locator('[data-key="goodput"]')).toContainText('of 900/s offered');
  await expect(page.locator('#run-facts')).toContainText('1.7 h simulated');
});

test('a long run draws partial results while it goes', async ({ page }) => {
  await openPlayground(page);
  await applyScenario(page, long);
  await expect(page.locator('#run-facts')).toContainText('running:', { timeout: 20_000 });
  await expect(page.locator('#run-facts')).toContainText('1.7 h simulated', { timeout: 60_000 });
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'done');
});

test('a run stopped by its event limit says so', async ({ page }) => {
  await openPlayground(page);
  await changeAndWait(page, () =>
    applyScenario(page, (scenario) => {
      scenario.limits = { events_max: 200000 };
    }),
  );
  const reason = page.locator('#stop-reason');
  await expect(reason).toBeVisible();
  await expect(reason).toContainText('limits.events_max');
  await expect(page.locator('#run-facts')).toContainText('stopped at');
});
