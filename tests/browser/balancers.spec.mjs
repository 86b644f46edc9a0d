// Load balancers and call chains in the event graph: a scenario built in the JSON editor
// (clients -> lb -> three instances) renders and its balancer is edited from the panel; the
// graph grows for a pool of instances.
import {
  test,
  expect,
  openPlayground,
  changeAndWait,
  canvasStats,
  canvasDataUrl,
  applyScenarioJson,
  editedScenario,
} from './fixtures.mjs';
import { BALANCED } from './scenarios.mjs';

test('a load-balancer scenario renders, and its balancer is edited from the Policies panel', async ({ page }) => {
  await openPlayground(page);
  await expect(page.locator('#balancer-policy-group')).toBeHidden();
  await changeAndWait(page, () => applyScenarioJson(page, JSON.stringify(BALANCED)));
  await expect(page.locator('#errors')).toBeHidden();
  const stats = await canvasStats(page, '#graph');
  expect(stats.inkedShare).toBeGreaterThan(0.03);
  expect(stats.colours).toBeGreaterThanOrEqual(5);
  await expect(page.locator('#balancer-policy-group')).toBeVisible();
  await expect(page.locator('#balancer-name')).toHaveText('lb');
  await expect(page.locator('#policy-call-name')).toHaveText('clients → lb');
  await expect(page.locator('#policy-balance')).toHaveValue('least_outstanding');

  // The balancer sits alone in the middle column: clicking there selects it.
  const box = await page.locator('#graph').boundingBox();
  await page.locator('#graph').click({ position: { x: box.width * 0.5, y: 34 + (box.height - 26 - 34) / 2 } });
  await expect(page.locator('#traffic-focus')).toHaveText('into lb');
  await expect(page.locator('#policies-focus')).toHaveText('of lb');

  const graph = await canvasDataUrl(page, '#graph');
  await page.locator('#policy-balance-details summary').click();
  await changeAndWait(page, () => page.locator('#policy-balance').selectOption('round_robin'));
  expect((await editedScenario(page)).nodes[1].policy).toBe('round_robin');
  // Round robin sends the slow instance its third: the shares drawn change.
  await expect.poll(() => canvasDataUrl(page, '#graph')).not.toBe(graph);

  await page.locator('#policy-outlier-details summary').click();
  await changeAndWait(page, () => page.locator('#policy-outlier').selectOption('on'));
  expect((await editedScenario(page)).nodes[1].outlier_detection).toEqual({
    consecutive_errors: 5,
    base_ejection: '30s',
    max_ejection: '300s',
    max_ejection_percent: 10,
  });
  await changeAndWait(page, () => page.locator('#policy-outlier-always_eject_one_host').check());
  expect((await editedScenario(page)).nodes[1].outlier_detection.always_eject_one_host).toBe(true);
});

test('the graph grows for a pool of instances and for call layers', async ({ page }) => {
  await openPlayground(page);
  const height = () => page.locator('#graph').evaluate((canvas) => canvas.clientHeight);
  const oneRow = await height();
  await changeAndWait(page, () => page.locator('#preset').selectOption('load-balancing'));
  // Three pools of five instances in one column.
  expect(await height()).toBeGreaterThan(oneRow * 2.5);
  await expect(page.locator('#balancer-name select')).toHaveValue('rr-lb');
  await changeAndWait(page, () => page.locator('#preset').selectOption('layered-retries'));
  expect(await height()).toBe(oneRow);
  // Five layers of calls: each call can be picked and edited.
  const calls = await page.locator('#call-choice option').allTextContents();
  expect(calls).toEqual(['clients → layer-1', 'layer-1 → layer-2', 'layer-2 → layer-3', 'layer-3 → layer-4', 'layer-4 → layer-5']);
  await page.locator('#call-choice').selectOption({ label: 'layer-2 → layer-3' });
  await expect(page.locator('#policies-focus')).toHaveText('of layer-2 → layer-3');
  await expect(page.locator('#policy-call-name')).toHaveText('layer-2 → layer-3');
  // The picker, rebuilt after the change, still shows the picked call.
  await expect(page.locator('#call-choice option:checked')).toHaveText('layer-2 → layer-3');
  await changeAndWait(page, () => page.locator('#retries').fill('0'));
  const scenario = await editedScenario(page);
  expect(scenario.nodes[2].calls[0].retry.max_attempts).toBe(1);
  expect(scenario.nodes[1].calls[0].retry.max_attempts).toBe(3);
});
