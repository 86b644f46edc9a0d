// The graph editor: with "Edit graph" on, nodes are added (a kind picker), connected (click a
// source then a target, or "Add a link to" in the inspector) and removed; a node or call edge
// picked in the graph (or in the inspector's picker, for the keyboard) is edited in the
// inspector, a form generated from the scenario's schema (schema-form.js).
//
//   graph click --Figures.node_at / edge_at--> selection {node id | call path}
//   inspector form / add / connect / remove --mutate state's scenario--> commit(key, structural)
//
// The page (app.js) owns the scenario: `commit` re-runs it and records the edit for undo.

import { addNode, callAt, connect, NODE_KINDS, removeCall, removeNode } from './graph-edits.js';
import { nodeSchema, renderForm } from './schema-form.js';

/**
 * `hooks`: scenario() the scenario being edited; figures() the drawn results (node_at,
 * edge_at); commit(key, {structural}) after each edit; parseDurationMs(text);
 * loadSchema() the schema (a promise).
 */
export function wireGraphEditor(hooks) {
  const element = (id) => document.getElementById(id);
  const ui = {
    toggle: element('edit-graph'), tools: element('graph-edit-tools'), kind: element('add-node-kind'),
    add: element('add-node'), connect: element('connect-nodes'), status: element('graph-edit-status'),
    inspector: element('inspector'), title: element('inspector-title'), choice: element('inspector-choice'),
    linkRow: element('inspector-link'), linkTarget: element('inspector-link-target'), linkAdd: element('inspector-link-add'),
    remove: element('inspector-remove'), form: element('inspector-form'), canvas: element('graph'),
  };
  if (Object.values(ui).some((found) => !found)) return { sync() {}, get active() { return false; } };

  const editor = { active: false, selection: null, connectFrom: null, connecting: false, schema: null };
  for (const [kind, label] of NODE_KINDS) ui.kind.append(new Option(label, kind));

  const say = (text) => {
    ui.status.textContent = text;
  };

  function setActive(active) {
    editor.active = active;
    ui.toggle.setAttribute('aria-pressed', String(active));
    ui.tools.hidden = !active;
    ui.inspector.hidden = !active;
    document.body.dataset.graphEditing = String(active);
    setConnecting(false);
    say(active ? 'Click a node or an edge to edit it.' : '');
    if (active && !editor.schema) {
      hooks.loadSchema().then(
        (schema) => {
          editor.schema = schema;
          render();
        },
        (error) => say(`The form could not be built: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
    render();
  }

  function setConnecting(on) {
    editor.connecting = on;
    editor.connectFrom = null;
    ui.connect.setAttribute('aria-pressed', String(on));
    ui.canvas.classList.toggle('connecting', on);
    if (on) say('Connect: click the source node.');
  }

  function select(selection) {
    editor.selection = selection;
    render();
  }

  /** The selection, if it still names something in the scenario. */
  function current() {
    const scenario = hooks.scenario();
    const selection = editor.selection;
    if (selection?.node) {
      const node = scenario?.nodes?.find((item) => item?.id === selection.node);
      return node ? { type: 'node', node } : null;
    }
    if (selection?.call) {
      const found = callAt(scenario, selection.call);
      return found ? { type: 'call', ...found, path: selection.call } : null;
    }
    return null;
  }

  function fillChoice(found) {
    const scenario = hooks.scenario();
    ui.choice.replaceChildren(new Option('(pick a node or a call)', ''));
    for (const node of scenario?.nodes ?? []) {
      if (node?.id) ui.choice.append(new Option(`${node.id} (${node.kind})`, `node:${node.id}`));
    }
    (scenario?.nodes ?? []).forEach((node, position) => {
      (Array.isArray(node?.calls) ? node.calls : []).forEach((call, index) => {
        const path = `nodes[${position}].calls[${index}]`;
        ui.choice.append(new Option(`call ${node.id} → ${call?.to}`, `call:${path}`));
        if (call?.fallback?.call?.to) {
          ui.choice.append(new Option(`call ${node.id} → ${call.fallback.call.to} (fallback)`, `call:${path}.fallback.call`));
        }
      });
    });
    ui.choice.value = found?.type === 'node' ? `node:${found.node.id}` : found?.type === 'call' ? `call:${found.path}` : '';
  }

  function render() {
    if (!editor.active) return;
    const found = current();
    if (!found) editor.selection = null;
    fillChoice(found);
    ui.form.replaceChildren();
    ui.remove.hidden = !found;
    ui.linkRow.hidden = found?.type !== 'node';
    if (!found) {
      ui.title.textContent = 'Inspector';
      return;
    }
    const schema = editor.schema;
    if (found.type === 'node') {
      ui.title.textContent = `Node ${found.node.id}`;
      ui.remove.textContent = 'Remove node';
      fillLinkTargets(found.node);
    } else {
      ui.title.textContent = `Call ${found.caller.id} → ${found.call.to}`;
      ui.remove.textContent = 'Remove call';
    }
    if (!schema) {
      ui.form.textContent = 'Loading the form…';
      return;
    }
    const objectSchema = found.type === 'node' ? nodeSchema(schema, found.node.kind) : schema.$defs?.Call;
    if (!objectSchema) {
      ui.form.textContent = 'This kind of node is edited in the Scenario JSON.';
      return;
    }
    const target = found.type === 'node' ? found.node : found.call;
    renderForm(ui.form, {
      schema,
      objectSchema,
      target: () => target,
      parseDurationMs: hooks.parseDurationMs,
      // A node's calls are edited through their edges; its id names it everywhere.
      skip: found.type === 'node' ? ['kind', 'calls'] : [],
      readOnly: ['id'],
      keyPrefix: `inspector:${found.type === 'node' ? found.node.id : found.path}:`,
      onChange: (key) => hooks.commit(key, { structural: false }),
    });
  }

  function fillLinkTargets(node) {
    ui.linkTarget.replaceChildren();
    for (const other of hooks.scenario()?.nodes ?? []) {
      if (other?.id && other.id !== node.id) ui.linkTarget.append(new Option(other.id, other.id));
    }
    ui.linkAdd.disabled = ui.linkTarget.options.length === 0;
  }

  function link(fromId, toId) {
    const result = connect(hooks.scenario(), fromId, toId);
    if (!result.ok) {
      say(result.why);
      return false;
    }
    say(`Connected: ${result.what}.`);
    hooks.commit(null, { structural: true });
    render();
    return true;
  }

  ui.toggle.addEventListener('click', () => setActive(!editor.active));
  ui.add.addEventListener('click', () => {
    const id = addNode(hooks.scenario(), ui.kind.value);
    editor.selection = { node: id };
    say(`Added ${id}. Connect it, or edit it below.`);
    hooks.commit(null, { structural: true });
    render();
  });
  ui.connect.addEventListener('click', () => setConnecting(!editor.connecting));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && editor.connecting) {
      setConnecting(false);
      say('Connecting stopped.');
    }
  });
  ui.choice.addEventListener('change', () => {
    const [type, value] = [ui.choice.value.slice(0, ui.choice.value.indexOf(':')), ui.choice.value.slice(ui.choice.value.indexOf(':') + 1)];
    select(type === 'node' ? { node: value } : type === 'call' ? { call: value } : null);
  });
  ui.linkAdd.addEventListener('click', () => {
    const found = current();
    if (found?.type === 'node') link(found.node.id, ui.linkTarget.value);
  });
  ui.remove.addEventListener('click', () => {
    const found = current();
    if (!found) return;
    const scenario = hooks.scenario();
    if (found.type === 'node') {
      removeNode(scenario, found.node.id);
      say(`Removed ${found.node.id} and the links to it (Undo brings it back).`);
    } else {
      removeCall(scenario, found.path);
      say(`Removed the call ${found.caller.id} → ${found.call.to} (Undo brings it back).`);
    }
    editor.selection = null;
    hooks.commit(null, { structural: true });
    render();
  });

  // Picks in the graph: before the page's own handler, which focuses the charts on the node.
  ui.canvas.addEventListener('click', (event) => {
    if (!editor.active) return;
    const figures = hooks.figures();
    if (!figures) return;
    const box = ui.canvas.getBoundingClientRect();
    const [x, y] = [event.clientX - box.left, event.clientY - box.top];
    const id = figures.node_at(x, y);
    if (editor.connecting) {
      if (!id) {
        say('Connect: click a node (or press Connect again to stop).');
      } else if (!editor.connectFrom) {
        editor.connectFrom = id;
        say(`Connect ${id} to: click the target node.`);
      } else {
        const from = editor.connectFrom;
        editor.connectFrom = null;
        if (link(from, id)) setConnecting(false);
        else editor.connectFrom = null;
      }
      return;
    }
    if (id) {
      select({ node: id });
      return;
    }
    const path = figures.edge_at(x, y);
    select(path ? { call: path } : null);
  });

  return {
    get active() {
      return editor.active;
    },
    /**
     * After the scenario changed elsewhere (a control, Apply, undo): the inspector follows,
     * unless the edit came from its own fields (being typed in). `force`: a new scenario
     * object (undo, redo, a preset) that the form must not keep editing.
     */
    sync({ force = false } = {}) {
      if (!editor.active || (!force && ui.inspector.contains(document.activeElement))) return;
      render();
    },
  };
}
