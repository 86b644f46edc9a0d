// The Policies panel: each family edits its field of the scenario, the run changes because of
// it, and the simulator's validation errors appear next to the family they concern.
import {
  test,
  expect,
  openPlayground,
  changeAndWait,
  canvasDataUrl,
  canvasPixelsNear,
  editedScenario,
  applyScenarioJson,
} from './fixtures.mjs';

/** Colours as the charts draw them (web/src/palette.rs), over the white background. */
const LEVEL_LINE = [0x33, 0x41, 0x55];
const SHORT_CIRCUITED_LINE = [0xca, 0x8a, 0x04];
/** The breaker-open band: SHORT_CIRCUITED at 22% over white. */
const BREAKER_BAND = [243, 229, 200];

async function openFamily(page, key) {
  const details = page.locator(`#policy-${key}-details`);
  if (!(await details.evaluate((element) => element.open))) await details.locator('summary').click();
  await expect(page.locator(`#policy-${key}-details .policy-body`)).toBeVisible();
}

async function choose(page, key, value) {
  await openFamily(page, key);
  await changeAndWait(page, () => page.locator(`#policy-${key}`).selectOption(value));
}

const verdict = (page) => page.locator('#verdicts [data-verdict]');

test('an AWS retry budget stops the retry storm, and the JSON and charts show it', async ({ page }) => {
  await openPlayground(page);
  await expect(verdict(page)).toHaveAttribute('data-verdict', 'metastable');
  const traffic = await canvasDataUrl(page, '#chart-traffic');
  const graph = await canvasDataUrl(page, '#graph');
  await expect(page.locator('#policies-focus')).toHaveText('of clients → api');
  expect(await canvasPixelsNear(page, '#chart-policies', LEVEL_LINE, 8), 'no budget line yet').toBeLessThan(20);

  await choose(page, 'budget', 'aws_standard');
  await expect(verdict(page)).toHaveAttribute('data-verdict', 'recovered');
  const call = (await editedScenario(page)).nodes[0].calls[0];
  expect(call.budget).toEqual({ aws_standard: { capacity: 500, retry_cost: 5, timeout_cost: 10 } });
  await expect(page.locator('#policy-budget-details .policy-state')).toHaveText('AWS SDK (standard)');
  await expect(page.locator('#policy-budget-explain')).toContainText('500 tokens');
  await expect(page.locator('#policy-budget-capacity')).toHaveValue('500');
  await expect.poll(() => canvasDataUrl(page, '#chart-traffic')).not.toBe(traffic);
  // The budget's badge on the edge, and its level on the policies chart.
  await expect.poll(() => canvasDataUrl(page, '#graph')).not.toBe(graph);
  expect(await canvasPixelsNear(page, '#chart-policies', LEVEL_LINE, 8)).toBeGreaterThan(100);

  // A parameter edits its field and re-runs.
  await changeAndWait(page, () => page.locator('#policy-budget-capacity').fill('50'));
  expect((await editedScenario(page)).nodes[0].calls[0].budget.aws_standard.capacity).toBe(50);
  // Back to none: the field is gone.
  await changeAndWait(page, () => page.locator('#policy-budget').selectOption('none'));
  expect((await editedScenario(page)).nodes[0].calls[0].budget).toBeUndefined();
  await expect(verdict(page)).toHaveAttribute('data-verdict', 'metastable');
});

test('a Hystrix breaker short-circuits the storm: summary row, traffic line and open spells', async ({ page }) => {
  await openPlayground(page);
  await expect(page.locator('[data-key="short-circuited"]')).toHaveCount(0);
  await choose(page, 'breaker', 'hystrix');
  await expect(verdict(page)).toHaveAttribute('data-verdict', 'recovered');
  expect((await editedScenario(page)).nodes[0].calls[0].breaker).toBe('hystrix');
  await expect(page.locator('#policy-breaker-details .policy-params input')).toHaveCount(0);
  await expect(page.locator('[data-key="short-circuited"]')).toContainText('%');
  expect(await canvasPixelsNear(page, '#chart-traffic', SHORT_CIRCUITED_LINE, 10)).toBeGreaterThan(20);
  expect(await canvasPixelsNear(page, '#chart-policies', BREAKER_BAND, 3), 'open spells shaded').toBeGreaterThan(200);

  // A breaker with parameters shows them prefilled, and they edit the JSON.
  await changeAndWait(page, () => page.locator('#policy-breaker').selectOption('consecutive_failures'));
  await expect(page.locator('#policy-breaker-threshold')).toHaveValue('5');
  await expect(page.locator('#policy-breaker-open_for')).toHaveValue('30');
  await changeAndWait(page, () => page.locator('#policy-breaker-open_for').fill('2.5'));
  expect((await editedScenario(page)).nodes[0].calls[0].breaker).toEqual({
    consecutive_failures: { threshold: 5, open_for: '2.5s', half_open_trials: 1 },
  });
});

test('hedging removes the retry policy and says so; retries and hedging together are refused next to hedging', async ({ page }) => {
  await openPlayground(page);
  await choose(page, 'hedge', 'on');
  const note = page.locator('#policy-hedge-details .policy-note');
  await expect(note).toBeVisible();
  await expect(note).toContainText('replaces retries');
  let call = (await editedScenario(page)).nodes[0].calls[0];
  expect(call.retry).toBeUndefined();
  expect(call.hedge.max_attempts).toBe(2);
  expect(call.hedge.delay).toMatch(/^\d+(\.\d+)?ms$/);
  await expect(page.locator('#retries')).toHaveValue('0');
  await expect(page.locator('[data-key="hedges"]')).toBeVisible();

  // Retries typed in while hedging: the validator's message appears at the hedging family.
  await page.locator('#retries').fill('2');
  const error = page.locator('#policy-hedge-error');
  await expect(error).toBeVisible();
  await expect(error).toContainText('either retry or hedge');
  await expect(page.locator('#policy-hedge')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'invalid');
  await changeAndWait(page, () => page.locator('#retries').fill('0'));
  await expect(error).toBeHidden();
  await expect(page.locator('#policy-hedge')).not.toHaveAttribute('aria-invalid', 'true');

  // Cancelling the losers needs cancellation on give-up: turned on with it, and said.
  await changeAndWait(page, () => page.locator('#policy-hedge-cancel_losers').check());
  call = (await editedScenario(page)).nodes[0].calls[0];
  expect(call.hedge.cancel_losers).toBe(true);
  expect(call.cancel_on_give_up).toBe(true);
  await expect(note).toContainText('give-up');
  await openFamily(page, 'cancel');
  await expect(page.locator('#policy-cancel-cancel_on_give_up')).toBeChecked();
});

test('service policies: a static concurrency limit ends the storm; a bad AIMD range is named next to it', async ({ page }) => {
  await openPlayground(page);
  const box = await page.locator('#graph').boundingBox();
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.42);
  await expect(page.locator('#policies-focus')).toHaveText('of api');
  await expect(page.locator('#policy-service-name')).toHaveText('api');
  const policies = await canvasDataUrl(page, '#chart-policies');

  await choose(page, 'limit', 'static');
  // Twice the workers, to start from.
  expect((await editedScenario(page)).nodes[1].admission).toEqual({ concurrency_limit: { static: { limit: 20 } } });
  await expect(verdict(page)).toHaveAttribute('data-verdict', 'recovered');
  await expect.poll(() => canvasDataUrl(page, '#chart-policies')).not.toBe(policies);
  expect(await canvasPixelsNear(page, '#chart-policies', LEVEL_LINE, 8), 'the limit is drawn').toBeGreaterThan(100);

  await changeAndWait(page, () => page.locator('#policy-limit').selectOption('aimd'));
  await page.locator('#policy-limit-min').fill('50');
  await expect(page.locator('#policy-limit-error')).toContainText('min <= initial <= max');
  await changeAndWait(page, () => page.locator('#policy-limit').selectOption('none'));
  await expect(page.locator('#policy-limit-error')).toBeHidden();
  // No admission left: the empty object goes too.
  expect((await editedScenario(page)).nodes[1].admission).toBeUndefined();

  await choose(page, 'management', 'controlled_delay');
  expect((await editedScenario(page)).nodes[1].queue).toEqual({ discipline: 'fifo', management: 'controlled_delay' });
});

test('families open from the keyboard and their controls are labelled', async ({ page }) => {
  await openPlayground(page);
  const summary = page.locator('#policy-throttle-details summary');
  await summary.focus();
  await page.keyboard.press('Enter');
  const select = page.locator('#policy-throttle');
  await expect(select).toBeVisible();
  await expect(select).toHaveAccessibleName('Client throttling');
  await expect(select).toHaveAccessibleDescription(/the client sends every attempt/i);
  await page.keyboard.press('Tab');
  await expect(select).toBeFocused();
  await changeAndWait(page, () => page.keyboard.press('ArrowDown'));
  expect((await editedScenario(page)).nodes[0].calls[0].throttle).toEqual({ k: 2, window: '120s' });
  await expect(page.locator('#policy-throttle-k')).toHaveAccessibleName(/K/);
});

test("shedding sheddable work: the client's criticality and the service's queue length end the storm", async ({ page }) => {
  await openPlayground(page);
  await changeAndWait(page, () => page.locator('#criticality').selectOption('sheddable'));
  expect((await editedScenario(page)).nodes[0].criticality).toBe('sheddable');
  await expect(verdict(page)).toHaveAttribute('data-verdict', 'metastable');
  await choose(page, 'shed', 'on');
  // One queued attempt per worker, to start from.
  expect((await editedScenario(page)).nodes[1].admission).toEqual({ shed_sheddable_above: 10 });
  await expect(verdict(page)).toHaveAttribute('data-verdict', 'recovered');
  // Pushback, honoured by the caller: flags on both sides.
  await choose(page, 'pushback', 'on');
  await openFamily(page, 'cancel');
  await changeAndWait(page, () => page.locator('#policy-cancel-honor_pushback').check());
  const scenario = await editedScenario(page);
  expect(scenario.nodes[1].pushback).toEqual({});
  expect(scenario.nodes[0].calls[0].retry.honor_pushback).toBe(true);
  await expect(page.locator('#policy-cancel-details .policy-state')).toHaveText('1 on');
  // Back to critical: the format's default is left out again.
  await changeAndWait(page, () => page.locator('#criticality').selectOption('critical'));
  expect((await editedScenario(page)).nodes[0].criticality).toBeUndefined();
});

test('a closed-loop client shows its users instead of a rate', async ({ page }) => {
  await openPlayground(page);
  const scenario = await editedScenario(page);
  delete scenario.nodes[0].rate;
  Object.assign(scenario.nodes[0], { users: 200, think_time: { constant: '200ms' } });
  await changeAndWait(page, () => applyScenarioJson(page, JSON.stringify(scenario)));
  await expect(page.locator('#rate')).toBeHidden();
  await expect(page.locator('#users')).toHaveValue('200');
  await changeAndWait(page, () => page.locator('#users').fill('50'));
  const edited = (await editedScenario(page)).nodes[0];
  expect(edited.users).toBe(50);
  expect(edited.rate).toBeUndefined();
});
