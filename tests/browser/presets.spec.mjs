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

test('no control looks invalid on any preset', async ({ page }) => {
  await openPlayground(page);
  const names = await page.locator('#preset option').evaluateAll((options) => options.map((option) => option.value));
  for (const name of names) {
    await changeAndWait(page, () => page.locator('#preset').selectOption(name));
    const invalid = await page.locator('.controls input:invalid').evaluateAll((inputs) => inputs.map((input) => `${input.id}=${input.value}`));
    expect(invalid, name).toEqual([]);
  }
});
