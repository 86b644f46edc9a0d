// Every built-in preset loads, runs and draws without an error.
import { test, expect, openPlayground, changeAndWait, canvasStats } from './fixtures.mjs';

test('every preset loads and runs without error', async ({ page }) => {
  test.setTimeout(120_000);
  await openPlayground(page);
  const names = await page.locator('#preset option').evaluateAll((options) => options.map((option) => option.value));
  expect(names.length).toBeGreaterThanOrEqual(1);
  expect(names).toContain('retry-storm');
  for (const name of names) {
    await changeAndWait(page, () => page.locator('#preset').selectOption(name));
    await expect(page.locator('#errors'), name).toBeHidden();
    await expect(page.locator('#banner'), name).toBeHidden();
    await expect(page.locator('#scenario-name'), name).not.toHaveText('');
    await expect(page.locator('#what-to-try'), name).not.toBeEmpty();
    const stats = await canvasStats(page, '#chart-traffic');
    expect(stats.inkedShare, `${name}: traffic chart drawn`).toBeGreaterThan(0.01);
    await page.screenshot({ path: `tests/screenshots/preset-${name}.png` });
  }
});

test('no control looks invalid on any preset, whichever call, service, balancer, function or LLM endpoint is selected', async ({ page }) => {
  test.setTimeout(120_000);
  await openPlayground(page);
  const names = await page.locator('#preset option').evaluateAll((options) => options.map((option) => option.value));
  /** Inputs the browser finds invalid, pickers showing no choice, and policy errors shown. */
  const problems = () =>
    page.locator('.controls').evaluate((panel) => [
      ...[...panel.querySelectorAll('input')].filter((input) => !input.checkValidity()).map((input) => `${input.id}=${input.value}`),
      ...[...panel.querySelectorAll('select')].filter((select) => select.value === '').map((select) => `${select.id || select.getAttribute('aria-label')} blank`),
      ...[...panel.querySelectorAll('.policy-error, .control-error')].filter((error) => !error.hidden).map((error) => `${error.id}: ${error.textContent}`),
    ]);
  const pickEach = async (selector, name) => {
    const picker = page.locator(selector);
    if ((await picker.count()) === 0) return;
    for (const value of await picker.locator('option').evaluateAll((options) => options.map((option) => option.value))) {
      await picker.selectOption(value);
      expect(await problems(), `${name}, ${selector} = ${value}`).toEqual([]);
    }
  };
  for (const name of names) {
    await changeAndWait(page, () => page.locator('#preset').selectOption(name));
    expect(await problems(), name).toEqual([]);
    await pickEach('#call-choice', name);
    await pickEach('#service-name select', name);
    await pickEach('#balancer-name select', name);
    await pickEach('#function-name select', name);
    await pickEach('#llm-name select', name);
  }
});
