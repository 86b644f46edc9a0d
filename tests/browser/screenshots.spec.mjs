// Full-page screenshots to look at (tests/screenshots/*.png, not committed): desktop and a
// 390 px phone, of the default preset, of the retry storm with the Policies panel in use, and
// of load balancers. Layout checks that a picture would show: nothing wider than the screen.
import { test, expect, openPlayground, changeAndWait, applyScenarioJson } from './fixtures.mjs';
import { BALANCED } from './scenarios.mjs';

/** The retry storm with an AWS budget and a Hystrix breaker, their families open, at the fault. */
async function stormWithPolicies(page) {
  await openPlayground(page);
  for (const [key, value] of [['budget', 'aws_standard'], ['breaker', 'hystrix']]) {
    await page.locator(`#policy-${key}-details summary`).click();
    await changeAndWait(page, () => page.locator(`#policy-${key}`).selectOption(value));
  }
  await page.locator('#policy-hedge-details summary').click();
  await page.locator('#cursor').fill('106');
}

/** The balanced scenario, the editor closed again, the cursor in the fault. */
async function balanced(page) {
  await openPlayground(page);
  await changeAndWait(page, () => applyScenarioJson(page, JSON.stringify(BALANCED)));
  await page.locator('#editor-details summary').click();
  await page.locator('#cursor').fill('25');
}

async function expectNoSidewaysOverflow(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, 'the page is not wider than the screen').toBeLessThanOrEqual(0);
}

test('desktop full page', async ({ page }) => {
  await openPlayground(page);
  await page.screenshot({ path: 'tests/screenshots/desktop.png', fullPage: true });
});

test('desktop: the retry storm with policies, a load balancer, the load-balancing preset', async ({ page }) => {
  await stormWithPolicies(page);
  await page.screenshot({ path: 'tests/screenshots/policies-desktop.png', fullPage: true });
  await balanced(page);
  await page.screenshot({ path: 'tests/screenshots/load-balancer-desktop.png', fullPage: true });
  await changeAndWait(page, () => page.locator('#preset').selectOption('load-balancing'));
  await page.locator('#graph').screenshot({ path: 'tests/screenshots/load-balancing-graph.png' });
});

test.describe('narrow screen', () => {
  test.use({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });

  test('390 px full page, nothing overflows sideways', async ({ page }) => {
    await openPlayground(page);
    await expectNoSidewaysOverflow(page);
    await page.screenshot({ path: 'tests/screenshots/narrow.png', fullPage: true });
  });

  test('390 px: the retry storm with policies, and a load balancer', async ({ page }) => {
    await stormWithPolicies(page);
    await expectNoSidewaysOverflow(page);
    await page.screenshot({ path: 'tests/screenshots/policies-narrow.png', fullPage: true });
    await page.locator('#policies').screenshot({ path: 'tests/screenshots/policies-panel-narrow.png' });
    await balanced(page);
    await expectNoSidewaysOverflow(page);
    await page.screenshot({ path: 'tests/screenshots/load-balancer-narrow.png', fullPage: true });
    await page.locator('#graph').screenshot({ path: 'tests/screenshots/load-balancer-graph-narrow.png' });
  });
});
