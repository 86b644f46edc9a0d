// The page's editing pieces that need no browser: undo history, autosave records, the graph
// edits (checked by the simulator's own validation) and how the schema form reads the schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { wasm } from './load.mjs';
import { createHistory, historyKeyAction } from '../../www/history.js';
import { AUTOSAVE_CHARS_MAX, decodeAutosave, encodeAutosave } from '../../www/autosave.js';
import { addNode, callAt, connect, NODE_KINDS, removeCall, removeNode } from '../../www/graph-edits.js';
import { fieldKind, nodeSchema, unitOf } from '../../www/schema-form.js';

const schema = JSON.parse(readFileSync(new URL('../../www/scenario.schema.json', import.meta.url), 'utf8'));
const preset = (name) => JSON.parse(wasm.presets().find((p) => p.name === name).json);
const problems = (scenario) => {
  const result = wasm.validate_scenario(JSON.stringify(scenario));
  return result.ok ? [] : result.errors.map((error) => `${error.path}: ${error.message}`);
};

test('history: undo and redo walk the snapshots; a new edit drops the redo branch', () => {
  const history = createHistory();
  history.root('a');
  assert.equal(history.canUndo, false);
  history.record('b', null, 0);
  history.record('c', null, 10);
  assert.equal(history.undo(), 'b');
  assert.equal(history.undo(), 'a');
  assert.equal(history.undo(), null, 'nothing before the root');
  assert.equal(history.redo(), 'b');
  history.record('d', null, 20);
  assert.equal(history.canRedo, false);
  assert.equal(history.undo(), 'b');
  history.record('b', 'x', 30);
  assert.equal(history.canRedo, true, 'an unchanged scenario is not an edit');
});

test('history: a burst on one control is one step; another control or a pause starts a new one', () => {
  const history = createHistory({ coalesceMs: 600 });
  history.root('0');
  for (const [text, at] of [['1', 0], ['12', 100], ['120', 650]]) history.record(text, 'rate', at);
  history.record('120x', 'workers', 700);
  history.record('120xy', 'workers', 2000);
  assert.deepEqual([history.undo(), history.undo(), history.undo(), history.undo()], ['120x', '120', '0', null]);
});

test('history: bounded in count and in characters, keeping the newest', () => {
  const history = createHistory({ countMax: 5, charsMax: 1_000 });
  history.root('root');
  for (let index = 0; index < 20; index += 1) history.record(`s${index}`, null, index * 1000);
  assert.equal(history.size, 5);
  const undone = [];
  for (let text = history.undo(); text !== null; text = history.undo()) undone.push(text);
  assert.deepEqual(undone, ['s18', 's17', 's16', 's15']);
  const big = createHistory({ countMax: 100, charsMax: 1_000 });
  big.root('x'.repeat(400));
  big.record('y'.repeat(400));
  big.record('z'.repeat(400));
  assert.equal(big.size, 2);
});

test('history keys: Ctrl/⌘+Z undoes, with Shift or Y redoes, never while typing in a field', () => {
  const on = (tagName, type = undefined) => ({ tagName, type });
  const cases = [
    [{ ctrlKey: true, key: 'z' }, on('BODY'), 'undo'],
    [{ metaKey: true, key: 'z' }, on('BUTTON'), 'undo'],
    [{ ctrlKey: true, shiftKey: true, key: 'Z' }, on('SELECT'), 'redo'],
    [{ ctrlKey: true, key: 'y' }, on('INPUT', 'range'), 'redo'],
    [{ ctrlKey: true, key: 'z' }, on('TEXTAREA'), null],
    [{ ctrlKey: true, key: 'z' }, on('INPUT', 'number'), null],
    [{ ctrlKey: true, key: 'z' }, on('INPUT', 'text'), null],
    [{ key: 'z' }, on('BODY'), null],
    [{ ctrlKey: true, altKey: true, key: 'z' }, on('BODY'), null],
  ];
  for (const [event, target, expected] of cases) assert.equal(historyKeyAction(event, target), expected, JSON.stringify([event, target]));
});

test('autosave: a record reads back; damaged, foreign or oversized ones say why', () => {
  const scenario = preset('retry-storm');
  assert.deepEqual(decodeAutosave(encodeAutosave(scenario, 'retry-storm')), { scenario, preset: 'retry-storm' });
  assert.equal(decodeAutosave(null), null);
  for (const text of ['{"format":1,', '[]', '{"format":9,"scenario":{"nodes":[]}}', '{"format":1,"scenario":"x"}', 'x'.repeat(AUTOSAVE_CHARS_MAX + 1)]) {
    assert.equal(typeof decodeAutosave(text).problem, 'string', text.slice(0, 40));
  }
});

test('graph edits: every kind of node added to a preset is valid, with a fresh id', () => {
  for (const [kind] of NODE_KINDS) {
    const scenario = preset('retry-storm');
    const id = addNode(scenario, kind);
    assert.equal(scenario.nodes.filter((node) => node.id === id).length, 1);
    assert.deepEqual(problems(scenario), [], kind);
  }
  const scenario = preset('retry-storm');
  assert.deepEqual([addNode(scenario, 'service'), addNode(scenario, 'service')], ['service', 'service-2']);
});

test('graph edits: connections follow the format, refusals say why and change nothing', () => {
  const scenario = preset('retry-storm');
  const [client, service] = scenario.nodes.map((node) => node.id);
  const added = addNode(scenario, 'service');
  assert.deepEqual(connect(scenario, service, added), { ok: true, what: `${service} calls ${added}` });
  assert.equal(scenario.nodes.find((node) => node.id === service).calls.at(-1).to, added);
  const queue = addNode(scenario, 'queue');
  assert.equal(connect(scenario, queue, added).ok, true);
  assert.deepEqual(scenario.nodes.find((node) => node.id === added).consumes, { queue });
  const balancer = addNode(scenario, 'load_balancer');
  assert.equal(connect(scenario, balancer, added).ok, true);
  assert.deepEqual(problems(scenario), []);
  const before = JSON.stringify(scenario);
  for (const [from, to, why] of [
    [service, client, /Nothing calls a client/],
    [client, added, /exactly one call/],
    [added, added, /itself/],
    [balancer, queue, /services only/],
    [service, added, /already calls/],
  ]) {
    const result = connect(scenario, from, to);
    assert.equal(result.ok, false);
    assert.match(result.why, why);
  }
  assert.equal(JSON.stringify(scenario), before);
});

test('graph edits: removing a node removes what refers to it; calls are found and removed by path', () => {
  const scenario = preset('llm-rate-limit');
  assert.equal(callAt(scenario, 'nodes[7].calls[0].fallback.call').call.to, 'small-model');
  removeNode(scenario, 'small-model');
  assert.equal(JSON.stringify(scenario).includes('small-model'), false);
  assert.equal(callAt(scenario, 'nodes[7].calls[0].fallback.call'), null);
  const storm = preset('retry-storm');
  assert.equal(removeCall(storm, 'nodes[0].calls[0]'), true);
  assert.deepEqual(storm.nodes[0].calls, []);
  assert.equal(removeCall(storm, 'nodes[0].calls[0]'), false);
  assert.equal(callAt(storm, 'nodes[x]'), null);
});

test('schema form: fields are read as their editors', () => {
  const service = nodeSchema(schema, 'service');
  const call = schema.$defs.Call;
  const kinds = (object, names) => names.map((name) => fieldKind(schema, object.properties[name]).kind);
  assert.deepEqual(kinds(service, ['workers', 'error_rate', 'drop_expired', 'call_mode', 'queue', 'service_time', 'id']),
    ['integer', 'number', 'boolean', 'choice', 'group', 'json', 'string']);
  assert.deepEqual(kinds(call, ['timeout', 'retry', 'count', 'to']), ['duration', 'group', 'integer', 'string']);
  assert.deepEqual(fieldKind(schema, service.properties.call_mode).choices.map((choice) => choice.value), ['sequential', 'parallel']);
  assert.equal(fieldKind(schema, call.properties.timeout).nullable, true);
  for (const [kind] of NODE_KINDS) assert.ok(nodeSchema(schema, kind), kind);
  assert.deepEqual([unitOf('memory_mb', 'integer'), unitOf('timeout', 'duration'), unitOf('users', 'integer')], ['MB', 'like 250ms, 2s', '']);
});
