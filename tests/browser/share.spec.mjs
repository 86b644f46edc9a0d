// Share links, embeds, export and import: a copied link reproduces the run in a new page, a
// damaged link says why and falls back to the default scenario, the address keeps edits over
// a reload, the embed page renders with its options, and files come out and go back in.
import { readFile } from 'node:fs/promises';
import { test, expect, openPlayground, waitForResults, changeAndWait, canvasStats } from './fixtures.mjs';

/** The run facts without the wall-clock time: "300 s simulated · seed 8 · … · digest …". */
async function runFacts(page) {
  return (await page.locator('#run-facts').innerText()).replace(/ · ran in \d+ ms$/, '');
}

/** Opens the Share dialog and returns the link it shows (and copied). */
async function sharedUrl(page) {
  await page.locator('#share').click();
  await expect(page.locator('#share-dialog')).toBeVisible();
  const url = await page.locator('#share-url').inputValue();
  await page.locator('#share-dialog .dialog-close').click();
  return url;
}

test.describe('share links', () => {
  test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

  test('a copied link opens the identical run, seed and view in a new page', async ({ page, context }) => {
    await openPlayground(page);
    await changeAndWait(page, () => page.locator('#seed').fill('11'));
    // Focus the service and put the cursor in the fault: the view travels with the link.
    const box = await page.locator('#graph').boundingBox();
    // The service is drawn in the right half, at mid-height.
    await page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.42);
    await expect(page.locator('#traffic-focus')).toHaveText('into api');
    await page.locator('#cursor').fill('106');
    const facts = await runFacts(page);
    expect(facts).toContain('seed 11');

    const url = await sharedUrl(page);
    expect(new URL(url).hash).toMatch(/^#v1\.[A-Za-z0-9_-]+$/);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);

    const other = await context.newPage();
    await other.goto(url);
    await waitForResults(other, 1);
    expect(await runFacts(other)).toBe(facts);
    await expect(other.locator('#seed')).toHaveValue('11');
    await expect(other.locator('#traffic-focus')).toHaveText('into api');
    await expect(other.locator('#cursor-value')).toHaveText('t = 106 s');
    await expect(other.locator('#preset')).toHaveValue('');
    await other.close();
  });

  test('the address keeps edits over a reload, and picking a preset clears it', async ({ page }) => {
    await openPlayground(page);
    expect(await page.evaluate(() => location.hash)).toBe('');
    await changeAndWait(page, () => page.locator('#seed').fill('23'));
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#v1\./);
    await page.reload();
    await waitForResults(page, 1);
    await expect(page.locator('#seed')).toHaveValue('23');
    expect(await runFacts(page)).toContain('seed 23');

    await changeAndWait(page, () => page.locator('#preset').selectOption('healthy-70'));
    expect(await page.evaluate(() => location.hash)).toBe('');
  });
});

test.describe('damaged links', () => {
  test('a corrupted link says why and shows the default scenario', async ({ page }) => {
    await page.goto('/');
    await waitForResults(page, 1);
    const defaultFacts = await runFacts(page);
    const defaultPreset = await page.locator('#preset').inputValue();
    const good = (await sharedUrl(page)).split('#')[1];
    // One changed character in the middle: the checksum catches it.
    const middle = Math.floor(good.length / 2);
    const changed = `${good.slice(0, middle)}${good[middle] === 'A' ? 'B' : 'A'}${good.slice(middle + 1)}`;

    for (const [fragment, reason] of [
      [changed, /damaged/],
      [good.slice(0, middle), /cut short/],
      ['v9.AAAA', /newer Stormglass/],
      ['v1.%%%', /cannot contain/],
    ]) {
      const fresh = await page.context().newPage();
      await fresh.goto(`/#${fragment}`);
      await waitForResults(fresh, 1);
      await expect(fresh.locator('#banner')).toBeVisible();
      await expect(fresh.locator('#banner-text')).toContainText('This link could not be opened');
      await expect(fresh.locator('#banner-text')).toContainText(reason);
      await expect(fresh.locator('#preset')).toHaveValue(defaultPreset);
      expect(await runFacts(fresh)).toBe(defaultFacts);
      expect(await fresh.evaluate(() => location.hash)).toBe('');
      await fresh.close();
    }
  });

  test('a link whose scenario is invalid opens it, with the errors at their fields', async ({ page }) => {
    await page.goto('/');
    await waitForResults(page, 1);
    const link = await page.evaluate(async () => {
      const wasm = await import('./pkg/stormglass_web.js');
      const scenario = { version: 1, duration: '10s', nodes: [{ kind: 'client', id: 'c', rate: -5, calls: [] }] };
      return wasm.make_link(JSON.stringify(scenario), null);
    });
    await page.goto(`/#${link}`);
    await expect(page.locator('body')).toHaveAttribute('data-run-state', 'invalid');
    await expect(page.locator('#errors')).toContainText('nodes[0].rate');
  });
});

test.describe('embeds', () => {
  test('the iframe snippet loads the embed, with the options it was made with', async ({ page, context }) => {
    await openPlayground(page);
    await page.locator('#embed').click();
    await page.locator('#embed-controls').uncheck();
    await page.locator('#embed-chart-queue').check();
    await page.locator('#embed-height').fill('560');
    const snippet = await page.locator('#embed-snippet').inputValue();
    expect(snippet).toMatch(/^<iframe src="http:\/\/127\.0\.0\.1:\d+\/embed\.html\?[^"]*controls=0[^"]*#v1\.[^"]+" title="Stormglass: Retry storm after a slowdown"/);
    expect(snippet).toContain('charts=traffic,latency,queue');
    expect(snippet).toContain('height="560"');

    const host = await context.newPage();
    await host.setContent(`<!doctype html><title>A blog</title><p>Before.</p>${snippet}<p>After.</p>`);
    const frame = host.frameLocator('iframe');
    await expect(frame.locator('body')).toHaveAttribute('data-results', /[1-9]/, { timeout: 30_000 });
    await expect(frame.locator('#embed-name')).toHaveText('Retry storm after a slowdown');
    await expect(frame.locator('#embed-timeline')).toBeHidden();
    await expect(frame.locator('#embed-charts canvas')).toHaveCount(3);
    await expect(frame.locator('#embed-open')).toHaveAttribute('href', /\/index\.html#v1\./);
    const inner = host.frames().find((candidate) => candidate.url().includes('embed.html'));
    const stats = await canvasStats(inner, '#embed-charts .chart:nth-child(1) canvas');
    expect(stats.inkedShare).toBeGreaterThan(0.02);
    expect((await host.locator('iframe').boundingBox()).height).toBe(560);
    await host.close();
  });

  test('an embed shows the link at its moment and does not play under reduced motion', async ({ page, browser }) => {
    await openPlayground(page);
    await page.locator('#cursor').fill('50');
    const link = (await sharedUrl(page)).split('#')[1];
    const context = await browser.newContext({ reducedMotion: 'reduce' });
    const embed = await context.newPage();
    await embed.goto(`/embed.html?theme=dark#${link}`);
    await expect(embed.locator('body')).toHaveAttribute('data-results', /[1-9]/, { timeout: 30_000 });
    await expect(embed.locator('body')).toHaveClass(/dark/);
    await expect(embed.locator('#embed-time')).toHaveText('t = 50 s');
    await embed.waitForTimeout(600);
    await expect(embed.locator('#embed-time')).toHaveText('t = 50 s');
    await expect(embed.locator('#embed-play')).toHaveAttribute('aria-label', 'Play the run');
    await context.close();
  });

  test('an embed plays once in view, and pauses off-screen', async ({ page, baseURL }) => {
    const link = (await readFile('tests/links/v1-retry-storm.txt', 'utf8')).trim();
    await page.setContent(`<!doctype html><p style="height:3000px">A long post.</p><iframe src="${baseURL}/embed.html${link}" width="800" height="480"></iframe>`);
    const frame = page.frameLocator('iframe');
    // Off-screen: not even run yet.
    await page.waitForTimeout(500);
    await expect(frame.locator('body')).not.toHaveAttribute('data-results', /[1-9]/);
    await page.locator('iframe').scrollIntoViewIfNeeded();
    await expect(frame.locator('#embed-play')).toHaveAttribute('aria-label', 'Pause', { timeout: 30_000 });
    const playing = await frame.locator('#embed-time').innerText();
    await expect.poll(() => frame.locator('#embed-time').innerText()).not.toBe(playing);
    await page.evaluate(() => window.scrollTo(0, 0));
    await expect(frame.locator('#embed-play')).toHaveAttribute('aria-label', 'Play the run');
  });

  test('an embed with a damaged link says so', async ({ page }) => {
    await page.goto('/embed.html#v1.AAAA');
    await expect(page.locator('#embed-error')).toContainText("This figure's link could not be opened");
  });
});

test.describe('export and import', () => {
  test('the time series as CSV, the scenario as JSON and a chart as PNG', async ({ page }) => {
    await openPlayground(page);
    await page.locator('#export').click();

    const [csvFile] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
    expect(csvFile.suggestedFilename()).toBe('retry-storm-after-a-slowdown-seed-42.csv');
    const csv = await readFile(await csvFile.path(), 'utf8');
    const rows = csv.trim().split('\n');
    expect(rows[0]).toMatch(/^time_s,system\./);
    expect(rows[0]).toContain('clients->api.attempts_per_s');
    expect(rows.length).toBe(1 + 300);
    expect(rows[1].split(',').length).toBe(rows[0].split(',').length);

    const [jsonFile] = await Promise.all([page.waitForEvent('download'), page.locator('#export-json').click()]);
    const saved = JSON.parse(await readFile(await jsonFile.path(), 'utf8'));
    expect(saved.name).toBe('Retry storm after a slowdown');
    expect(saved.nodes.map((node) => node.id)).toEqual(['clients', 'api']);

    await page.locator('#export-chart').selectOption('latency');
    const [pngFile] = await Promise.all([page.waitForEvent('download'), page.locator('#export-png').click()]);
    expect(pngFile.suggestedFilename()).toBe('retry-storm-after-a-slowdown-seed-42-latency.png');
    const png = await readFile(await pngFile.path());
    expect([...png.subarray(1, 4)].map((byte) => String.fromCharCode(byte)).join('')).toBe('PNG');
    expect(png.length).toBeGreaterThan(5_000);
  });

  test('a scenario file opens; an invalid one names the field', async ({ page }) => {
    await openPlayground(page);
    await page.locator('#export').click();
    const scenario = {
      version: 1, name: 'From a file', seed: 4, duration: '30s',
      nodes: [
        { kind: 'client', id: 'users', rate: 50, calls: [{ to: 'db' }] },
        { kind: 'service', id: 'db', workers: 2, service_time: { constant: '10ms' } },
      ],
    };
    await page.locator('#import-file').setInputFiles({
      name: 'bad.json', mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ ...scenario, duration: 'soon' })),
    });
    await expect(page.locator('#export-status')).toContainText('bad.json is not a valid scenario: duration:');
    await changeAndWait(page, () => page.locator('#import-file').setInputFiles({
      name: 'good.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(scenario)),
    }));
    await expect(page.locator('#export-dialog')).toBeHidden();
    await expect(page.locator('#scenario-name')).toHaveText('From a file');
    expect(await runFacts(page)).toContain('seed 4');
  });
});
