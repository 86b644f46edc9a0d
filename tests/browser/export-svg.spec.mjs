// Charts as SVG: the Export dialog saves a time chart as a vector drawing made by the wasm
// module (plotters' SVG backend), and explains why the event graph has none.
import { readFile } from 'node:fs/promises';
import { test, expect, openPlayground } from './fixtures.mjs';

test('the latency chart saves as a well-formed SVG with its series, legend and axes', async ({ page }) => {
  await openPlayground(page);
  // The cursor before the storm, where requests succeed: the legend shows values there.
  await page.locator('#cursor').fill('30');
  await page.locator('#export').click();

  // The event graph is painted on its canvas: PNG only, and the dialog says so.
  await page.locator('#export-chart').selectOption('graph');
  await expect(page.locator('#export-svg')).toBeDisabled();
  await expect(page.locator('#export-status')).toContainText('PNG only');

  await page.locator('#export-chart').selectOption('latency');
  await expect(page.locator('#export-svg')).toBeEnabled();
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-svg').click()]);
  expect(download.suggestedFilename()).toBe('retry-storm-after-a-slowdown-seed-42-latency.svg');
  await expect(page.locator('#export-status')).toHaveText('Saved latency as SVG.');
  const text = await readFile(await download.path(), 'utf8');
  expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ')).toBe(true);
  expect(text).toContain('xmlns="http://www.w3.org/2000/svg"');

  // Parsed as XML by the browser: well-formed, and with what the chart draws.
  const facts = await page.evaluate((source) => {
    const document = new DOMParser().parseFromString(source, 'image/svg+xml');
    const root = document.documentElement;
    const texts = [...document.querySelectorAll('text')].map((element) => element.textContent.trim());
    return {
      parseErrors: document.getElementsByTagName('parsererror').length,
      root: root.localName,
      width: Number(root.getAttribute('width')),
      height: Number(root.getAttribute('height')),
      // plotters writes every line (series, grid, cursor) as a polyline.
      longPolylines: [...document.querySelectorAll('polyline')]
        .filter((element) => element.getAttribute('points').trim().split(/\s+/).length >= 50).length,
      texts,
    };
  }, text);
  expect(facts.parseErrors).toBe(0);
  expect(facts.root).toBe('svg');
  // The size of the chart on the page.
  const box = await page.locator('#chart-latency').boundingBox();
  expect(Math.abs(facts.width - box.width)).toBeLessThanOrEqual(1);
  expect(Math.abs(facts.height - box.height)).toBeLessThanOrEqual(1);
  // p50, p99 and p99.9 over 300 one-second buckets: long polylines, not only grid lines.
  expect(facts.longPolylines).toBeGreaterThanOrEqual(3);
  // The legend (with the values at the cursor), the fault, and the axes' titles and labels.
  expect(facts.texts.some((text) => /^p99 \d/.test(text))).toBe(true);
  expect(facts.texts.some((text) => /^p50 \d/.test(text))).toBe(true);
  expect(facts.texts.some((text) => text.startsWith('fault: '))).toBe(true);
  expect(facts.texts).toContain('time (s)');
  expect(facts.texts).toContain('latency (log)');
  expect(facts.texts.some((text) => /^\d+ ms$/.test(text))).toBe(true);
});

test('an SVG file opens in the browser and draws ink', async ({ page }) => {
  await openPlayground(page);
  await page.locator('#export').click();
  await page.locator('#export-chart').selectOption('traffic');
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-svg').click()]);
  const text = await readFile(await download.path(), 'utf8');
  // Rendered as an image (as a viewer would), it draws: lines in several colours, text.
  const stats = await page.evaluate(async (source) => {
    const image = new Image();
    // A data: address, as the page's Content-Security-Policy allows for images.
    image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(source)}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Set();
    let inked = 0;
    for (let index = 0; index < data.length; index += 4) {
      const [red, green, blue] = [data[index], data[index + 1], data[index + 2]];
      if (!(red > 245 && green > 245 && blue > 245)) inked += 1;
      colours.add(`${red >> 4},${green >> 4},${blue >> 4}`);
    }
    return { width: canvas.width, inkedShare: inked / (data.length / 4), colours: colours.size };
  }, text);
  expect(stats.width).toBeGreaterThan(200);
  expect(stats.inkedShare).toBeGreaterThan(0.02);
  expect(stats.colours).toBeGreaterThan(8);
});
