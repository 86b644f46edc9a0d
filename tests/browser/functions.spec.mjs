// The Function fieldset on the function-burst preset: it shows the preset's settings with the
// simulator's defaults as placeholders, its edits change the run (the summary's functions table
// and the function capacity chart), and the simulator's validation errors appear at the control
// they concern.
import { test, expect, openPlayground, changeAndWait, canvasDataUrl, canvasPixelsNear, editedScenario } from './fixtures.mjs';

/** A function's invocations running, as the capacity chart draws them (palette::RUNNING). */
const RUNNING_LINE = [0x4f, 0x46, 0xe5];

async function openFunctionBurst(page) {
  await openPlayground(page);
  await changeAndWait(page, () => page.locator('#preset').selectOption('function-burst'));
  await expect(page.locator('#errors')).toBeHidden();
  await expect(page.locator('#function-controls')).toBeVisible();
}

/** A cell of a function's row in the summary: "id", "cold-starts", "throttles", "gb-seconds" or "cost". */
const cell = (page, id, key) => page.locator(`#function-rows tr[data-function="${id}"] [data-key="${key}"]`);

/** "1.1k (0.9%)" -> 1100, "$0.251" -> 0.251: the leading number of a summary cell, scaled. */
async function cellNumber(page, id, key) {
  const text = (await cell(page, id, key).textContent()) ?? '';
  const match = /([0-9.]+)\s*([kM]?)/.exec(text.replace('$', ''));
  if (!match) throw new Error(`no number in ${id}'s ${key}: ${text}`);
  return Number(match[1]) * ({ k: 1e3, M: 1e6 }[match[2]] ?? 1);
}

async function selectFunction(page, id) {
  await page.locator('#function-name select').selectOption(id);
  await expect(page.locator('#function-name select')).toHaveValue(id);
}

test("the Function fieldset shows the preset's functions, with the simulator's defaults as placeholders", async ({ page }) => {
  await openFunctionBurst(page);
  const picker = page.locator('#function-name select');
  await expect(picker.locator('option')).toHaveText(['on-demand', 'provisioned', 'pre-2023']);
  await expect(picker).toHaveValue('on-demand');
  await expect(page.locator('#function-controls')).toBeEnabled();

  // on-demand: what the preset writes, blanks where it leaves a field out.
  await expect(page.locator('#fn-memory')).toHaveValue('512');
  await expect(page.locator('#fn-timeout')).toHaveValue('10');
  await expect(page.locator('#fn-init')).toHaveValue('400');
  await expect(page.locator('#fn-init-explain')).toContainText('p99 1.5 s');
  await expect(page.locator('#fn-account')).toHaveValue('3000');
  await expect(page.locator('#fn-reserved')).toHaveValue('');
  await expect(page.locator('#fn-reserved')).toHaveAttribute('placeholder', 'none');
  await expect(page.locator('#fn-provisioned')).toHaveValue('');
  await expect(page.locator('#fn-provisioned')).toHaveAttribute('placeholder', '0');
  await expect(page.locator('#fn-scaling')).toHaveValue('aws_2023');
  await expect(page.locator('#fn-scaling-explain')).toContainText('1,000 execution environments every 10 s');
  await expect(page.locator('#fn-per-ten-seconds')).toBeHidden();
  await expect(page.locator('#fn-invocation')).toHaveValue('sync');
  // The simulator's defaults (AWS's), read from the wasm, not written in the page.
  await expect(page.locator('#price-requests')).toHaveValue('');
  await expect(page.locator('#price-requests')).toHaveAttribute('placeholder', '0.2');
  await expect(page.locator('#price-duration')).toHaveAttribute('placeholder', '0.0000166667');
  await expect(page.locator('#price-provisioned')).toHaveAttribute('placeholder', '0.0000041667');
  await expect(page.locator('#price-provisioned-duration')).toHaveAttribute('placeholder', '0.0000097222');

  // The other two functions' own settings.
  await selectFunction(page, 'provisioned');
  await expect(page.locator('#fn-provisioned')).toHaveValue('1000');
  await expect(page.locator('#fn-scaling')).toHaveValue('aws_2023');
  await selectFunction(page, 'pre-2023');
  await expect(page.locator('#fn-provisioned')).toHaveValue('');
  await expect(page.locator('#fn-scaling')).toHaveValue('legacy-500');
  await expect(page.locator('#fn-scaling-explain')).toContainText('A burst of 500 new environments at once');
  await expect(page.locator('#fn-scaling-explain')).toContainText('500 more a minute');
  // The Memory field's default shows when the field is blank.
  await expect(page.locator('#fn-memory')).toHaveAttribute('placeholder', '128');
  await expect(page.locator('#fn-timeout')).toHaveAttribute('placeholder', '3');
});

test('the queue chart shows function capacity, and the summary a row per function', async ({ page }) => {
  await openFunctionBurst(page);
  // No services or queues: the queue chart shows the functions' invocations running.
  await expect(page.locator('#queue-title')).toHaveText('Function capacity');
  await expect(page.locator('#queue-unit')).toContainText('per function');
  await expect(page.locator('#chart-queue')).toHaveAttribute('aria-label', /invocations running/);
  expect(await canvasPixelsNear(page, '#chart-queue', RUNNING_LINE, 10), 'running lines drawn').toBeGreaterThan(200);

  // One row per function, in scenario order, with what the run found.
  await expect(page.locator('#function-summary')).toBeVisible();
  await expect(page.locator('#function-rows tr')).toHaveCount(3);
  await expect(page.locator('#function-rows tr th')).toHaveText(['on-demand', 'provisioned', 'pre-2023']);
  // The burst starts every on-demand environment cold; provisioned ones were ready.
  expect(await cellNumber(page, 'on-demand', 'cold-starts')).toBeGreaterThan(500);
  expect(await cellNumber(page, 'provisioned', 'cold-starts')).toBeLessThan(50);
  // The pre-2023 model cannot scale fast enough: far more throttles than the others.
  expect(await cellNumber(page, 'pre-2023', 'throttles')).toBeGreaterThan(10 * (await cellNumber(page, 'on-demand', 'throttles')));
  // Provisioned concurrency is paid for while it waits.
  expect(await cellNumber(page, 'provisioned', 'cost')).toBeGreaterThan(await cellNumber(page, 'on-demand', 'cost'));
  await expect(cell(page, 'on-demand', 'cost')).toHaveText(/^\$0\.\d+$/);
  await expect(page.locator('#function-detail')).toContainText(/^on-demand: .* invocations/);

  // Clicking a function (the middle row on the right) focuses it: its capacity with its
  // provisioned level, and its details under the table.
  const queue = await canvasDataUrl(page, '#chart-queue');
  const box = await page.locator('#graph').boundingBox();
  await page.locator('#graph').click({ position: { x: box.width * 0.75, y: 34 + (box.height - 26 - 34) / 2 } });
  await expect(page.locator('#traffic-focus')).toHaveText('into provisioned');
  await expect(page.locator('#queue-focus')).toHaveText('of provisioned');
  await expect(page.locator('#queue-unit')).toHaveText('invocations running, environments (dashed)');
  await expect(page.locator('#function-name select')).toHaveValue('provisioned');
  await expect(page.locator('#fn-provisioned')).toHaveValue('1000');
  await expect(page.locator('#function-rows tr.focused th')).toHaveText('provisioned');
  await expect(page.locator('#function-detail')).toContainText(/^provisioned: /);
  await expect.poll(() => canvasDataUrl(page, '#chart-queue')).not.toBe(queue);

  // The background: all functions again.
  await page.locator('#graph').click({ position: { x: 8, y: box.height - 40 } });
  await expect(page.locator('#queue-focus')).toHaveText('');
  await expect(page.locator('#queue-unit')).toContainText('per function');
});

test('provisioned concurrency ends the cold starts of the on-demand function, and costs more', async ({ page }) => {
  await openFunctionBurst(page);
  const coldBefore = await cellNumber(page, 'on-demand', 'cold-starts');
  const costBefore = await cellNumber(page, 'on-demand', 'cost');
  const queue = await canvasDataUrl(page, '#chart-queue');
  const graph = await canvasDataUrl(page, '#graph');

  await changeAndWait(page, () => page.locator('#fn-provisioned').fill('1000'));
  expect((await editedScenario(page)).nodes[1].provisioned_concurrency).toBe(1000);
  await expect(page.locator('#fn-provisioned-range')).toHaveValue('1000');
  expect(await cellNumber(page, 'on-demand', 'cold-starts')).toBeLessThan(coldBefore / 10);
  expect(await cellNumber(page, 'on-demand', 'cost')).toBeGreaterThan(costBefore);
  await expect.poll(() => canvasDataUrl(page, '#chart-queue')).not.toBe(queue);
  await expect.poll(() => canvasDataUrl(page, '#graph')).not.toBe(graph);

  // Zero is the format's default: the field leaves the scenario, as the preset had it.
  await changeAndWait(page, () => page.locator('#fn-provisioned').fill('0'));
  expect((await editedScenario(page)).nodes[1].provisioned_concurrency).toBeUndefined();
  expect(await cellNumber(page, 'on-demand', 'cold-starts')).toBe(coldBefore);

  // A price edits the function's price table and its cost.
  await changeAndWait(page, () => page.locator('#price-requests').fill('2'));
  expect((await editedScenario(page)).nodes[1].price).toEqual({ per_million_requests_usd: 2 });
  expect(await cellNumber(page, 'on-demand', 'cost')).toBeGreaterThan(costBefore);
  await changeAndWait(page, () => page.locator('#price-requests').fill(''));
  expect((await editedScenario(page)).nodes[1].price).toBeUndefined();
});

test('the scaling, init and invocation controls edit the selected function', async ({ page }) => {
  await openFunctionBurst(page);
  await selectFunction(page, 'pre-2023');
  const throttlesBefore = await cellNumber(page, 'pre-2023', 'throttles');

  // Tokyo's burst of 1000: fewer throttles; the per-minute rate is kept.
  await changeAndWait(page, () => page.locator('#fn-scaling').selectOption('legacy-1000'));
  expect((await editedScenario(page)).nodes[5].scaling).toEqual({ legacy: { burst: 1000, per_minute: 500 } });
  expect(await cellNumber(page, 'pre-2023', 'throttles')).toBeLessThan(throttlesBefore);

  // A rate of one's own shows its field.
  await changeAndWait(page, () => page.locator('#fn-scaling').selectOption('per_ten_seconds'));
  await expect(page.locator('#fn-per-ten-seconds')).toBeVisible();
  await expect(page.locator('#fn-per-ten-seconds')).toHaveValue('1000');
  await changeAndWait(page, () => page.locator('#fn-per-ten-seconds').fill('200'));
  expect((await editedScenario(page)).nodes[5].scaling).toEqual({ per_ten_seconds: 200 });

  // The init median keeps the preset's spread (400 ms -> 1.5 s at the 99th percentile).
  await changeAndWait(page, () => page.locator('#fn-init').fill('800'));
  expect((await editedScenario(page)).nodes[5].init_duration).toEqual({ lognormal: { p50: '800ms', p99: '3000ms' } });
  await expect(page.locator('#fn-init-explain')).toContainText('p99 3 s');

  // Asynchronous invocation: the callers' events are accepted; the summary says so.
  await changeAndWait(page, () => page.locator('#fn-invocation').selectOption('async'));
  expect((await editedScenario(page)).nodes[5].invocation).toBe('async');
  await expect(page.locator('#fn-invocation-explain')).toContainText('event queue');
  await expect(page.locator('#function-detail')).toContainText(/^pre-2023: .*events accepted/);
  await changeAndWait(page, () => page.locator('#fn-invocation').selectOption('sync'));
  expect((await editedScenario(page)).nodes[5].invocation).toBeUndefined();
});

test("an invalid value shows the simulator's message at its control, until it is corrected", async ({ page }) => {
  await openFunctionBurst(page);
  const error = page.locator('#fn-provisioned-error');
  await expect(error).toBeHidden();

  // More provisioned concurrency than the account has.
  await page.locator('#fn-provisioned').fill('5000');
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'invalid');
  await expect(error).toBeVisible();
  await expect(error).toHaveText("expected at most the account's concurrency limit (3000), got 5000");
  await expect(page.locator('#fn-provisioned')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#errors')).toContainText('nodes[1].provisioned_concurrency');
  // Only that control shows it.
  await expect(page.locator('#function-controls .control-error:visible')).toHaveCount(1);

  // The error belongs to on-demand: another function shows none; back again, it is there.
  await selectFunction(page, 'provisioned');
  await expect(error).toBeHidden();
  await selectFunction(page, 'on-demand');
  await expect(error).toBeVisible();

  // An account-wide error shows at the account control, whichever function is selected.
  await page.locator('#fn-account').fill('0');
  await expect(page.locator('#fn-account-error')).toContainText('expected 1 to');
  await expect(page.locator('#fn-account')).toHaveAttribute('aria-invalid', 'true');

  // Corrected: the run goes on and the messages go.
  await page.locator('#fn-account').fill('3000');
  await changeAndWait(page, () => page.locator('#fn-provisioned').fill('300'));
  await expect(page.locator('#errors')).toBeHidden();
  await expect(page.locator('#function-controls .control-error:visible')).toHaveCount(0);
  await expect(page.locator('#fn-provisioned')).not.toHaveAttribute('aria-invalid', 'true');
  expect(await cellNumber(page, 'on-demand', 'cold-starts')).toBeGreaterThan(0);

  // A memory size out of range, at the memory control.
  await page.locator('#fn-memory').fill('64');
  await expect(page.locator('#fn-memory-error')).toHaveText('expected 128 to 10240 MB, got 64');
});

test('a scenario without functions hides the Function fieldset and keeps the queue chart', async ({ page }) => {
  await openFunctionBurst(page);
  await changeAndWait(page, () => page.locator('#preset').selectOption('retry-storm'));
  await expect(page.locator('#function-controls')).toBeHidden();
  await expect(page.locator('#function-summary')).toBeHidden();
  await expect(page.locator('#queue-title')).toHaveText('Queue depth');
  await expect(page.locator('#queue-unit')).toHaveText('attempts or messages waiting');
});
