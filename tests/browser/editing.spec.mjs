// Editing the scenario: the graph editor adds, connects and removes nodes and edits them in a
// form generated from the schema; undo and redo walk every edit back and forth; the scenario
// survives a reload without a link (autosave), and Reset to preset goes back to the preset.
import { test, expect, openPlayground, waitForResults, changeAndWait, editedScenario, resultsShown } from './fixtures.mjs';

const ids = async (page) => (await editedScenario(page)).nodes.map((node) => node.id);
const node = async (page, id) => (await editedScenario(page)).nodes.find((item) => item.id === id);

/** Clicks the graph at a fraction of its width and height. */
async function clickGraph(page, fx, fy) {
  const box = await page.locator('#graph').boundingBox();
  await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
}

/** Clicks down the graph at a fraction of its width until the inspector shows a call. */
async function clickEdge(page, fx) {
  for (let fy = 0.3; fy <= 0.6; fy += 0.02) {
    await clickGraph(page, fx, fy);
    if ((await page.locator('#inspector-title').innerText()).startsWith('Call')) return;
  }
  throw new Error(`no edge found at x = ${fx} of the graph`);
}

/** Turns the editor on and adds a service connected from api (the default preset's service). */
async function addConnectedService(page) {
  await page.locator('#edit-graph').click();
  await expect(page.locator('#inspector')).toBeVisible();
  await page.locator('#add-node-kind').selectOption('service');
  await changeAndWait(page, () => page.locator('#add-node').click());
  await expect(page.locator('#inspector-title')).toHaveText('Node service');
  expect(await ids(page)).toContain('service');
  await page.locator('#inspector-choice').selectOption('node:api');
  await page.locator('#inspector-link-target').selectOption('service');
  await changeAndWait(page, () => page.locator('#inspector-link-add').click());
  await expect(page.locator('#graph-edit-status')).toHaveText('Connected: api calls service.');
  expect((await node(page, 'api')).calls.map((call) => call.to)).toContain('service');
}

test('add a node, connect it, see it in the JSON and the drawn run, edit it in the schema form', async ({ page }) => {
  await openPlayground(page);
  await addConnectedService(page);
  // The run draws it: a third column, found by the graph's own hit test.
  await clickGraph(page, 0.9, 0.42);
  await expect(page.locator('#inspector-title')).toHaveText('Node service');
  await expect(page.locator('body')).toHaveAttribute('data-run-state', 'done');

  // A schema-generated field: the JSON follows and the run repeats.
  const workers = page.locator('#inspector-form [data-field="workers"] input');
  await expect(page.locator('#inspector-form [data-field="workers"] .explain')).toHaveText('Attempts served at once.');
  await changeAndWait(page, () => workers.fill('7'));
  expect((await node(page, 'service')).workers).toBe(7);
  // Undone from the inspector's own picker: the form shows, and then edits, the restored scenario.
  await page.locator('#inspector-choice').focus();
  await changeAndWait(page, () => page.keyboard.press('Control+z'));
  expect((await node(page, 'service')).workers).toBe(4);
  await expect(workers).toHaveValue('4');
  await changeAndWait(page, () => workers.fill('9'));
  expect((await node(page, 'service')).workers).toBe(9);

  // Connect by clicking: the new service, then... a client cannot be called: said why.
  await page.locator('#connect-nodes').click();
  await clickGraph(page, 0.9, 0.42);
  await clickGraph(page, 0.1, 0.42);
  await expect(page.locator('#graph-edit-status')).toContainText('Nothing calls a client');

  // An edge picked in the graph edits its call: a duration checked by the simulator's parser.
  await page.locator('#connect-nodes').click();
  await clickEdge(page, 0.7);
  await expect(page.locator('#inspector-title')).toHaveText('Call api → service');
  const timeout = page.locator('#inspector-form [data-field="timeout"] input');
  await timeout.fill('fast');
  await expect(page.locator('#inspector-form [data-field="timeout"] .control-error')).toContainText('like 250ms');
  expect((await node(page, 'api')).calls.find((call) => call.to === 'service').timeout).toBeUndefined();
  await changeAndWait(page, () => timeout.fill('300ms'));
  expect((await node(page, 'api')).calls.find((call) => call.to === 'service').timeout).toBe('300ms');
});

test('undo brings a removed node back and redo removes it again; Ctrl+Z and Ctrl+Shift+Z too', async ({ page }) => {
  await openPlayground(page);
  await expect(page.locator('#undo')).toBeDisabled();
  await addConnectedService(page);
  await page.locator('#inspector-choice').selectOption('node:service');
  await changeAndWait(page, () => page.locator('#inspector-remove').click());
  expect(await ids(page)).not.toContain('service');
  expect((await node(page, 'api')).calls ?? []).toEqual([]);

  await changeAndWait(page, () => page.locator('#undo').click());
  expect(await ids(page)).toContain('service');
  expect((await node(page, 'api')).calls.map((call) => call.to)).toEqual(['service']);
  await expect(page.locator('#redo')).toBeEnabled();
  await changeAndWait(page, () => page.locator('#redo').click());
  expect(await ids(page)).not.toContain('service');

  // The keyboard, outside text fields: undo twice (the removal, the connection), redo once.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await changeAndWait(page, () => page.keyboard.press('Control+z'));
  await changeAndWait(page, () => page.keyboard.press('Control+z'));
  expect(await ids(page)).toContain('service');
  expect((await node(page, 'api')).calls ?? []).toEqual([]);
  await changeAndWait(page, () => page.keyboard.press('Control+Shift+z'));
  expect((await node(page, 'api')).calls.map((call) => call.to)).toEqual(['service']);
  // Undo back to the preset; nothing before it.
  await changeAndWait(page, () => page.keyboard.press('Control+z'));
  await changeAndWait(page, () => page.keyboard.press('Control+z'));
  expect(await ids(page)).not.toContain('service');
  await expect(page.locator('#undo')).toBeDisabled();
});

test('typing in a field is one undo step, and Ctrl+Z in a text field stays the browser\'s', async ({ page }) => {
  await openPlayground(page);
  const rate = page.locator('#rate');
  const before = (await editedScenario(page)).nodes[0].rate;
  await rate.click();
  await rate.press('End');
  await changeAndWait(page, () => rate.pressSequentially('12', { delay: 50 }));
  expect((await editedScenario(page)).nodes[0].rate).toBe(Number(`${before}12`));
  await page.locator('#preset').focus();
  await changeAndWait(page, () => page.locator('#undo').click());
  expect((await editedScenario(page)).nodes[0].rate).toBe(before);
  await expect(page.locator('#undo')).toBeDisabled();

  // In the JSON editor, Ctrl+Z is the textarea's own undo, not the scenario's.
  await changeAndWait(page, () => page.locator('#redo').click());
  await page.locator('#editor-details summary').click();
  const shown = await resultsShown(page);
  await page.locator('#scenario-json').press('Control+z');
  await page.waitForTimeout(500);
  expect(await resultsShown(page)).toBe(shown);
  expect((await editedScenario(page)).nodes[0].rate).toBe(Number(`${before}12`));
});

test('a reload without a link keeps the edits; Reset to preset restores the preset (undoably)', async ({ page }) => {
  await openPlayground(page);
  const preset = await editedScenario(page);
  await addConnectedService(page);
  await expect.poll(() => page.evaluate(() => localStorage.getItem('stormglass.autosave')?.includes('"service"'))).toBe(true);
  // No link in the address: the autosave opens.
  await page.goto('/');
  await waitForResults(page, 1);
  expect(await ids(page)).toContain('service');
  await expect(page.locator('#preset')).toHaveValue('retry-storm');
  await expect(page.locator('#reset-preset')).toBeEnabled();

  await changeAndWait(page, () => page.locator('#reset-preset').click());
  expect(await editedScenario(page)).toEqual(preset);
  await changeAndWait(page, () => page.locator('#undo').click());
  expect(await ids(page)).toContain('service');

  // A link in the address wins over the autosave.
  await changeAndWait(page, () => page.locator('#preset').selectOption('healthy-70'));
  const link = await page.evaluate(async () => {
    const wasm = await import('./pkg/stormglass_web.js');
    const scenario = { version: 1, duration: '10s', nodes: [{ kind: 'client', id: 'linked', rate: 5, calls: [] }] };
    return wasm.make_link(JSON.stringify(scenario), null);
  });
  // A new load (not a change of the fragment in the open page).
  await page.goto('about:blank');
  await page.goto(`/#${link}`);
  // The editor is empty until the page has loaded the link's scenario: read it only once filled.
  await expect.poll(async () => {
    const text = await page.locator('#scenario-json').inputValue();
    return text ? JSON.parse(text).nodes[0].id : null;
  }).toBe('linked');
});

test.describe('a damaged autosave', () => {
  test('is set aside with a notice, and the default preset opens', async ({ page }) => {
    await page.goto('/');
    await waitForResults(page, 1);
    const defaults = await editedScenario(page);
    // The browser asks a plain file's page for a favicon the site does not have.
    await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
    for (const saved of ['{"format":1,"scenario":', 'x'.repeat(1_000_001)]) {
      // Written from a page of the site that is not the playground, which would save over it when left.
      await page.goto('/scenario.schema.json');
      await page.evaluate((text) => localStorage.setItem('stormglass.autosave', text), saved);
      await page.goto('/');
      await waitForResults(page, 1);
      await expect(page.locator('#banner-text')).toContainText('was not restored');
      expect(await editedScenario(page)).toEqual(defaults);
    }
  });
});
