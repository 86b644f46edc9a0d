// Full-page screenshots to look at (tests/screenshots/*.png, not committed): desktop and a
// 390 px phone. Layout checks that a picture would show: nothing wider than the screen.
import { test, expect, openPlayground } from './fixtures.mjs';

test('desktop full page', async ({ page }) => {
  await openPlayground(page);
  await page.screenshot({ path: 'tests/screenshots/desktop.png', fullPage: true });
});

test.describe('narrow screen', () => {
  test.use({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });

  test('390 px full page, nothing overflows sideways', async ({ page }) => {
    await openPlayground(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, 'the page is not wider than the screen').toBeLessThanOrEqual(0);
    await page.screenshot({ path: 'tests/screenshots/narrow.png', fullPage: true });
  });
});
