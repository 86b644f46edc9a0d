// The LLM endpoint fieldset on the llm-rate-limit preset: it shows the preset's settings with the
// simulator's defaults as placeholders, clicking a model focuses it (its tokens chart, its time to
// first token, its row and line in the summary), the preset's "what to try" edits change the run
// as it says, and the simulator's validation errors appear at the control they concern.
import { test, expect, openPlayground, changeAndWait, canvasDataUrl, canvasPixelsNear, editedScenario } from './fixtures.mjs';

/** Tokens charged to a tokens-per-minute limit, as the tokens chart draws them (palette::TOKENS_CHARGED). */
const CHARGED_LINE = [0xd9, 0x77, 0x06];

/** The models of the preset, in scenario order, and where their boxes are on the graph at 1440 px. */
const MODELS = ['naive-model', 'retry-after-model', 'fallback-model', 'small-model'];
const MODEL_AT = { 'naive-model': [0.83, 0.18], 'small-model': [0.83, 0.82] };

async function openLlmRateLimit(page) {
  await openPlayground(page);
  await changeAndWait(page, () => page.locator('#preset').selectOption('llm-rate-limit'));
  await expect(page.locator('#errors')).toBeHidden();
  await expect(page.locator('#llm-controls')).toBeVisible();
}

/** A cell of an endpoint's row in the summary: "id", "admitted", "rate-limited", "ttft", "tokens", "cache", "cost" or "cost-per-1000". */
const cell = (page, id, key) => page.locator(`#llm-rows tr[data-llm="${id}"] [data-key="${key}"]`);

/** "2.1k (84%)" -> 2100, "$3.61" -> 3.61, "612 ms / 914 ms" -> 612: the leading number of a summary cell, scaled. */
async function cellNumber(page, id, key) {
  const text = (await cell(page, id, key).textContent()) ?? '';
  const match = /([0-9.]+)\s*([kM]?)/.exec(text.replace('$', ''));
  if (!match) throw new Error(`no number in ${id}'s ${key}: ${text}`);
  return Number(match[1]) * ({ k: 1e3, M: 1e6 }[match[2]] ?? 1);
}

async function clickModel(page, id) {
  const box = await page.locator('#graph').boundingBox();
  const [x, y] = MODEL_AT[id];
  await page.locator('#graph').click({ position: { x: box.width * x, y: box.height * y } });
  await expect(page.locator('#traffic-focus')).toHaveText(`into ${id}`);
}

async function selectModel(page, id) {
  await page.locator('#llm-name select').selectOption(id);
  await expect(page.locator('#llm-name select')).toHaveValue(id);
}

test("the LLM endpoint fieldset shows the preset's models, with the simulator's defaults as placeholders", async ({ page }) => {
  await openLlmRateLimit(page);
  const picker = page.locator('#llm-name select');
  await expect(picker.locator('option')).toHaveText(MODELS);
  await expect(picker).toHaveValue('naive-model');
  await expect(page.locator('#llm-controls')).toBeEnabled();

  // naive-model: what the preset writes, blanks where it leaves a field out.
  await expect(page.locator('#llm-slots')).toHaveValue('64');
  await expect(page.locator('#llm-max-output')).toHaveValue('1024');
  await expect(page.locator('#llm-tpm')).toHaveValue('150000');
  await expect(page.locator('#llm-rpm')).toHaveValue('');
  await expect(page.locator('#llm-rpm')).toHaveAttribute('placeholder', 'none');
  await expect(page.locator('#llm-refusals')).not.toBeChecked();
  await expect(page.locator('#llm-refusals-explain')).toContainText('OpenAI counts refused requests');
  await expect(page.locator('#llm-cache-hit')).toHaveValue('');
  await expect(page.locator('#llm-cache-hit')).toHaveAttribute('placeholder', 'no cache');
  // The simulator's defaults, read from the wasm, not written in the page.
  await expect(page.locator('#llm-max-output')).toHaveAttribute('placeholder', '1024');
  await expect(page.locator('#llm-price-input')).toHaveValue('');
  await expect(page.locator('#llm-price-input')).toHaveAttribute('placeholder', '3');
  await expect(page.locator('#llm-price-cached')).toHaveAttribute('placeholder', '0.3');
  await expect(page.locator('#llm-price-output')).toHaveAttribute('placeholder', '15');

  // The small model's own limit and prices.
  await selectModel(page, 'small-model');
  await expect(page.locator('#llm-tpm')).toHaveValue('2000000');
  await expect(page.locator('#llm-price-input')).toHaveValue('0.25');
  await expect(page.locator('#llm-price-cached')).toHaveValue('0.025');
  await expect(page.locator('#llm-price-output')).toHaveValue('1.25');
  // Picking a model focuses it, as clicking it does.
  await expect(page.locator('#queue-focus')).toHaveText('of small-model');
});

test('clicking a model focuses it: its tokens against its limit, its time to first token and its cost', async ({ page }) => {
  await openLlmRateLimit(page);
  // Nothing focused: each endpoint's 429s; a row per endpoint, in scenario order.
  await expect(page.locator('#queue-title')).toHaveText('LLM 429s');
  await expect(page.locator('#queue-unit')).toContainText('per endpoint');
  await expect(page.locator('#chart-queue')).toHaveAttribute('aria-label', /429s/);
  await expect(page.locator('#llm-summary')).toBeVisible();
  await expect(page.locator('#llm-rows tr th')).toHaveText(MODELS);
  // Without a cache anywhere, no cache column.
  await expect(page.locator('#llm-cache-column')).toBeHidden();
  await expect(cell(page, 'naive-model', 'ttft')).toHaveText(/^\d+ ms \/ \d+ ms$/);
  await expect(cell(page, 'naive-model', 'cost')).toHaveText(/^\$\d+\.\d+$/);
  await expect(cell(page, 'naive-model', 'cost-per-1000')).toHaveText(/^\$\d+\.\d+$/);
  // The naive retries meet the most 429s; the small model none.
  expect(await cellNumber(page, 'naive-model', 'rate-limited')).toBeGreaterThan(await cellNumber(page, 'retry-after-model', 'rate-limited'));
  await expect(cell(page, 'small-model', 'rate-limited')).toHaveText('0');
  // The small model answers faster, and for a fraction of the cost per request.
  expect(await cellNumber(page, 'small-model', 'ttft')).toBeLessThan(await cellNumber(page, 'naive-model', 'ttft'));
  expect(5 * (await cellNumber(page, 'small-model', 'cost-per-1000'))).toBeLessThan(await cellNumber(page, 'naive-model', 'cost-per-1000'));
  expect(await canvasPixelsNear(page, '#chart-queue', CHARGED_LINE, 10), 'no charged tokens without a focus').toBe(0);

  const queue = await canvasDataUrl(page, '#chart-queue');
  await clickModel(page, 'naive-model');
  await expect(page.locator('#llm-name select')).toHaveValue('naive-model');
  await expect(page.locator('#queue-title')).toHaveText('LLM tokens');
  await expect(page.locator('#queue-focus')).toHaveText('of naive-model');
  await expect(page.locator('#queue-unit')).toContainText('charged, used, limits');
  await expect(page.locator('#latency-focus')).toHaveText('into naive-model and its time to first token (dashed)');
  await expect(page.locator('#llm-rows tr.focused th')).toHaveText('naive-model');
  await expect(page.locator('#llm-detail')).toContainText(/^naive-model: .*time to first token p50 \d+ ms, p99 \d+ ms/);
  await expect(page.locator('#llm-detail')).toContainText(/tokens charged to its tokens-per-minute limit for .* used/);
  await expect(page.locator('#llm-detail')).toContainText(/cost \$\d+\.\d+, \$\d+\.\d+ per 1,000 requests\.$/);
  await expect.poll(() => canvasDataUrl(page, '#chart-queue')).not.toBe(queue);
  expect(await canvasPixelsNear(page, '#chart-queue', CHARGED_LINE, 10), 'charged tokens drawn').toBeGreaterThan(200);

  // Another model: its own row and line.
  await clickModel(page, 'small-model');
  await expect(page.locator('#llm-rows tr.focused th')).toHaveText('small-model');
  await expect(page.locator('#llm-detail')).toContainText(/^small-model: /);
  await expect(page.locator('#queue-focus')).toHaveText('of small-model');
  // Reached only by a fallback call: the policies chart shows that call.
  await expect(page.locator('#policies-focus')).toHaveText('of fallback-api → small-model (fallback)');

  // The background: all endpoints again.
  const box = await page.locator('#graph').boundingBox();
  await page.locator('#graph').click({ position: { x: 8, y: box.height - 40 } });
  await expect(page.locator('#queue-title')).toHaveText('LLM 429s');
  await expect(page.locator('#queue-focus')).toHaveText('');
});

test('a smaller output budget lets more requests through the same tokens-per-minute limit', async ({ page }) => {
  await openLlmRateLimit(page);
  const admittedBefore = await cellNumber(page, 'naive-model', 'admitted');
  const rateLimitedBefore = await cellNumber(page, 'naive-model', 'rate-limited');

  await changeAndWait(page, () => page.locator('#llm-max-output').fill('400'));
  expect((await editedScenario(page)).nodes[2].max_output_tokens).toBe(400);
  await expect(page.locator('#llm-max-output-range')).toHaveValue('400');
  expect(await cellNumber(page, 'naive-model', 'admitted')).toBeGreaterThan(admittedBefore * 1.2);
  expect(await cellNumber(page, 'naive-model', 'rate-limited')).toBeLessThan(rateLimitedBefore);
  // The other models keep their budgets.
  expect((await editedScenario(page)).nodes[5].max_output_tokens).toBe(1024);

  // Blank: the default budget (1,024, as the preset wrote it), left out of the scenario.
  await changeAndWait(page, () => page.locator('#llm-max-output').fill(''));
  expect((await editedScenario(page)).nodes[2].max_output_tokens).toBeUndefined();
  expect(await cellNumber(page, 'naive-model', 'admitted')).toBe(admittedBefore);
});

test('counting refusals against the limit locks the naive retries out', async ({ page }) => {
  await openLlmRateLimit(page);
  const admittedBefore = await cellNumber(page, 'naive-model', 'admitted');
  const rateLimitedBefore = await cellNumber(page, 'naive-model', 'rate-limited');

  await changeAndWait(page, () => page.locator('#llm-refusals').check());
  expect((await editedScenario(page)).nodes[2].rate_limits).toEqual({ tokens_per_minute: 150000, refusals_count: true });
  expect(await cellNumber(page, 'naive-model', 'admitted')).toBeLessThan(admittedBefore / 2);
  expect(await cellNumber(page, 'naive-model', 'rate-limited')).toBeGreaterThan(rateLimitedBefore);

  await changeAndWait(page, () => page.locator('#llm-refusals').uncheck());
  expect((await editedScenario(page)).nodes[2].rate_limits).toEqual({ tokens_per_minute: 150000 });
  expect(await cellNumber(page, 'naive-model', 'admitted')).toBe(admittedBefore);
});

test("an invalid limit shows the simulator's message at its control, until it is corrected", async ({ page }) => {
  await openLlmRateLimit(page);
  const error = page.locator('#llm-tpm-error');
  await expect(error).toBeHidden();

  await page.locator('#llm-tpm').fill('0');
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'invalid');
  await expect(error).toBeVisible();
  await expect(error).toHaveText('expected 1 to 1000000000000 a minute (omit it for no limit), got 0');
  await expect(page.locator('#llm-tpm')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#errors')).toContainText('nodes[2].rate_limits.tokens_per_minute');
  // Only that control shows it.
  await expect(page.locator('#llm-controls .control-error:visible')).toHaveCount(1);

  // The error belongs to naive-model: another model shows none; back again, it is there.
  await selectModel(page, 'retry-after-model');
  await expect(error).toBeHidden();
  await selectModel(page, 'naive-model');
  await expect(error).toBeVisible();

  // Corrected: the run goes on and the message goes.
  await changeAndWait(page, () => page.locator('#llm-tpm').fill('150000'));
  await expect(page.locator('#errors')).toBeHidden();
  await expect(page.locator('#llm-controls .control-error:visible')).toHaveCount(0);
  await expect(page.locator('#llm-tpm')).not.toHaveAttribute('aria-invalid', 'true');

  // Blank: no limit at all, and no 429s.
  await changeAndWait(page, () => page.locator('#llm-tpm').fill(''));
  expect((await editedScenario(page)).nodes[2].rate_limits).toBeUndefined();
  await expect(cell(page, 'naive-model', 'rate-limited')).toHaveText('0');

  // Slots have no default: a blank is the simulator's to name, at the control.
  await page.locator('#llm-slots').fill('');
  await expect(page.locator('#llm-slots-error')).toHaveText('wrong type: got null, expected u32');
});

test('a prompt cache and prices edit the selected model and its figures', async ({ page }) => {
  await openLlmRateLimit(page);
  await selectModel(page, 'retry-after-model');
  const costBefore = await cellNumber(page, 'retry-after-model', 'cost');

  await changeAndWait(page, () => page.locator('#llm-cache-hit').fill('0.8'));
  expect((await editedScenario(page)).nodes[5].prompt_cache).toEqual({ hit_ratio: 0.8 });
  // The cache's defaults, from the simulator, explain what a hit reads.
  await expect(page.locator('#llm-cache-hit-explain')).toContainText('reads 90% of its prompt from the cache');
  await expect(page.locator('#llm-cache-column')).toBeVisible();
  await expect(cell(page, 'retry-after-model', 'cache')).toHaveText(/^\d+%$/);
  await expect(cell(page, 'naive-model', 'cache')).toHaveText('–');
  // Cached input tokens cost a tenth: the same tokens, cheaper.
  expect(await cellNumber(page, 'retry-after-model', 'cost')).toBeLessThan(costBefore);

  // Blank: no cache; its other settings go with it, and the page says so.
  const scenario = await editedScenario(page);
  scenario.nodes[5].prompt_cache.ttl = '1m';
  await page.locator('#editor-details summary').click();
  await page.locator('#scenario-json').fill(JSON.stringify(scenario));
  await changeAndWait(page, () => page.locator('#apply-json').click());
  await selectModel(page, 'retry-after-model');
  await expect(page.locator('#llm-cache-hit-explain')).toContainText('in the last 60 s');
  await changeAndWait(page, () => page.locator('#llm-cache-hit').fill(''));
  expect((await editedScenario(page)).nodes[5].prompt_cache).toBeUndefined();
  await expect(page.locator('#llm-cache-note')).toContainText('(ttl) were removed');
  await expect(page.locator('#llm-cache-column')).toBeHidden();

  // A price edits the model's price table and its cost.
  await changeAndWait(page, () => page.locator('#llm-price-output').fill('1.5'));
  expect((await editedScenario(page)).nodes[5].price).toEqual({ output_per_million_usd: 1.5 });
  expect(await cellNumber(page, 'retry-after-model', 'cost')).toBeLessThan(costBefore / 2);
  await changeAndWait(page, () => page.locator('#llm-price-output').fill(''));
  expect((await editedScenario(page)).nodes[5].price).toBeUndefined();
  expect(await cellNumber(page, 'retry-after-model', 'cost')).toBe(costBefore);
});

test('a scenario without services hides the Service fieldset and the service policies; without LLMs, the LLM parts', async ({ page }) => {
  await openLlmRateLimit(page);
  // The preset has services (the APIs in front of the models): they stay.
  await expect(page.locator('#service-controls')).toBeVisible();
  await expect(page.locator('#service-policy-group')).toBeVisible();

  // Functions only: nothing to show there.
  await changeAndWait(page, () => page.locator('#preset').selectOption('function-burst'));
  await expect(page.locator('#service-controls')).toBeHidden();
  await expect(page.locator('#service-policy-group')).toBeHidden();
  await expect(page.locator('#call-policy-group')).toBeVisible();
  await expect(page.locator('#llm-controls')).toBeHidden();
  await expect(page.locator('#llm-summary')).toBeHidden();

  await changeAndWait(page, () => page.locator('#preset').selectOption('retry-storm'));
  await expect(page.locator('#service-controls')).toBeVisible();
  await expect(page.locator('#service-policy-group')).toBeVisible();
  await expect(page.locator('#queue-title')).toHaveText('Queue depth');
});
