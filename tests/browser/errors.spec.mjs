// Bad input and crashes: the page says what is wrong, keeps the last good results, and keeps
// working.
import { test, expect, openPlayground, changeAndWait, resultsShown } from './fixtures.mjs';

async function applyJson(page, text) {
  await page.locator('#editor-details summary').click();
  await page.locator('#scenario-json').fill(text);
  await page.locator('#apply-json').click();
}

async function presetScenario(page) {
  return JSON.parse(await page.locator('#scenario-json').inputValue());
}

async function expectStillWorks(page) {
  // The last good results stay on screen...
  await expect(page.locator('#verdicts [data-verdict]')).toHaveAttribute('data-verdict', 'metastable');
  // ...and a control change still re-runs.
  await changeAndWait(page, () => page.locator('#retries').fill('0'));
  await expect(page.locator('#verdicts [data-verdict]')).toHaveAttribute('data-verdict', 'recovered');
  await expect(page.locator('#errors')).toBeHidden();
}

test('invalid JSON shows where it breaks, and the page goes on', async ({ page }) => {
  await openPlayground(page);
  await applyJson(page, '{ "version": 1, "duration": "300s", nodes: [] }');
  const errors = page.locator('#errors');
  await expect(errors).toBeVisible();
  await expect(errors).toContainText('not valid JSON at line 1');
  await expect(page.locator('#editor-status')).toContainText('Not applied');
  await expectStillWorks(page);
});

test('a negative rate is named by its field', async ({ page }) => {
  await openPlayground(page);
  const scenario = await presetScenario(page);
  scenario.nodes[0].rate = -5;
  await applyJson(page, JSON.stringify(scenario, null, 2));
  await expect(page.locator('#errors')).toBeVisible();
  await expect(page.locator('#errors-list')).toContainText('nodes[0].rate');
  await expectStillWorks(page);
});

test('"timeout": "fast" is named by its field and says what a duration looks like', async ({ page }) => {
  await openPlayground(page);
  const scenario = await presetScenario(page);
  scenario.nodes[0].calls[0].timeout = 'fast';
  await applyJson(page, JSON.stringify(scenario, null, 2));
  const list = page.locator('#errors-list');
  await expect(list).toContainText('nodes[0].calls[0].timeout');
  await expect(list).toContainText('250ms');
  await expectStillWorks(page);
});

test('a bad value typed into a control shows the error, and fixing it clears it', async ({ page }) => {
  await openPlayground(page);
  const before = await resultsShown(page);
  await page.locator('#rate').fill('-5');
  await expect(page.locator('#errors-list')).toContainText('nodes[0].rate');
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'invalid');
  expect(await resultsShown(page)).toBe(before);
  await changeAndWait(page, () => page.locator('#rate').fill('800'));
  await expect(page.locator('#errors')).toBeHidden();
});

test('an applied scenario replaces the controls, and the graph follows its node names', async ({ page }) => {
  await openPlayground(page);
  const scenario = await presetScenario(page);
  scenario.name = '<img src=x onerror=alert(1)> renamed';
  scenario.nodes[1].id = 'backend';
  scenario.nodes[0].calls[0].to = 'backend';
  scenario.faults[0].node = 'backend';
  await changeAndWait(page, () => applyJson(page, JSON.stringify(scenario)));
  // Scenario text is shown as text, never as HTML.
  await expect(page.locator('#scenario-name')).toHaveText('<img src=x onerror=alert(1)> renamed');
  await expect(page.locator('#scenario-name img')).toHaveCount(0);
  await expect(page.locator('#service-name')).toHaveText('backend');
  await expect(page.locator('#verdicts')).toContainText('Fault on backend');
});

test.describe('crashes', () => {
  // The panic hook logs the panic, and the trap follows: both are expected here.
  test.use({ expectedErrors: /panicked at|debug_panic|unreachable/i });

  test('a panic in the worker becomes a visible message, and the page keeps working', async ({ page }) => {
    await openPlayground(page);
    await page.evaluate(async () => (await import('/app.js')).debugCrashWorker());
    const banner = page.locator('#banner');
    await expect(banner).toBeVisible();
    await expect(banner).toContainText('The simulation crashed');
    await expect(page.locator('body')).toHaveAttribute('data-run-state', 'crashed');
    // The worker was replaced: a control change runs again.
    await expectStillWorks(page);
  });

  test('a panic on the page becomes a visible message', async ({ page }) => {
    await openPlayground(page);
    await page.evaluate(async () => (await import('/app.js')).debugCrashPage());
    const banner = page.locator('#banner');
    await expect(banner).toBeVisible();
    await expect(banner).toContainText('Stormglass crashed');
    await expect(banner).toContainText('Reload the page');
  });
});
