// The Policies panel: one collapsible <details> per policy family (see policies.js), each with
// a picker, a one-line explanation of the choice, the choice's parameters, a note when a
// change touched something else, and the simulator's validation error for the family's fields.
//
// A group is built once per list of families; `update` then shows a target's values and
// rebuilds a family's fields only when its choice changes, so a field being typed in keeps its
// caret. Labels come from the family data (never from the scenario), set with textContent.

import { describeFamily, paramDefault, readFamily, visibleParams } from './policies.js';

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A number field's value: null when blank (the format's default), else a number (maybe NaN). */
function numberValue(input) {
  return input.value.trim() === '' ? null : input.valueAsNumber;
}

/**
 * Builds the families into `container`. `onChoice(family, value)` and `onParam(family, name,
 * value)` are called on user edits (value: a number, null for blank, or a boolean for flags).
 */
export function createFamilyGroup(container, families, { onChoice, onParam }) {
  const parts = new Map();
  container.replaceChildren();
  for (const family of families) {
    const details = element('details', 'policy');
    details.dataset.family = family.key;
    details.id = `policy-${family.key}-details`;
    const summary = element('summary');
    const state = element('span', 'policy-state');
    summary.append(element('span', 'policy-title', family.title), state);
    const body = element('div', 'policy-body');
    const explain = element('p', 'explain');
    explain.id = `policy-${family.key}-explain`;
    let select = null;
    if (family.shape !== 'flags') {
      select = element('select');
      select.id = `policy-${family.key}`;
      select.setAttribute('aria-label', family.title);
      select.setAttribute('aria-describedby', `${explain.id} policy-${family.key}-error`);
      for (const choice of family.choices) select.append(new Option(choice.label, choice.value));
      select.addEventListener('change', () => onChoice(family, select.value));
      body.append(select);
    }
    const params = element('div', 'policy-params');
    const note = element('p', 'policy-note');
    note.setAttribute('role', 'status');
    note.hidden = true;
    const error = element('p', 'policy-error');
    error.id = `policy-${family.key}-error`;
    error.setAttribute('role', 'alert');
    error.hidden = true;
    body.append(explain, params, note, error);
    details.append(summary, body);
    container.append(details);
    parts.set(family.key, { family, details, state, select, explain, params, note, error, fieldsKey: null });
  }

  /** The fields of a family's current choice (or its flags), wired to `onParam`. */
  function buildFields(part, paramList, ctx) {
    part.params.replaceChildren();
    for (const param of paramList) {
      const id = `policy-${part.family.key}-${param.name}`;
      if (param.kind === 'flag') {
        const label = element('label', 'param flag');
        const box = element('input');
        box.type = 'checkbox';
        box.id = id;
        box.addEventListener('change', () => onParam(part.family, param.name, box.checked));
        label.append(box, ` ${param.label}`);
        part.params.append(label);
        continue;
      }
      const label = element('label', 'param');
      label.htmlFor = id;
      const text = element('span', 'param-label', param.label);
      if (param.unit) text.append(' ', element('span', 'unit', param.unit));
      const input = element('input');
      input.type = 'number';
      input.id = id;
      input.min = '0';
      // Any fraction is accepted here: the simulator's validation judges the value.
      input.step = 'any';
      if (param.kind === 'count') input.inputMode = 'numeric';
      const initial = paramDefault(param, ctx);
      if (initial !== null && initial !== undefined) input.placeholder = String(initial);
      input.addEventListener('input', () => onParam(part.family, param.name, numberValue(input)));
      label.append(text, input);
      part.params.append(label);
    }
  }

  return {
    /**
     * Shows `target`'s policies (a call, service or balancer object; null: nothing selected,
     * every control disabled). `ctx`: {fromService, workers, report} for defaults.
     */
    update(target, ctx, parseDurationMs) {
      for (const part of parts.values()) {
        const { family } = part;
        const current = target ? readFamily(target, family, parseDurationMs) : { choice: null, values: {} };
        const choice = family.choices?.find((c) => c.value === current.choice);
        const paramList = family.shape === 'flags' ? family.params : visibleParams(choice, ctx);
        const fieldsKey = `${current.choice}|${paramList.map((param) => param.name).join(',')}`;
        if (part.fieldsKey !== fieldsKey) {
          buildFields(part, paramList, ctx);
          part.fieldsKey = fieldsKey;
        }
        if (part.select) {
          part.select.value = current.choice ?? part.select.options[0]?.value;
          part.select.disabled = !target;
          for (const option of part.select.options) {
            const spec = family.choices.find((c) => c.value === option.value);
            // A choice only the JSON editor makes (a fallback call) is shown, not offered.
            option.disabled = Boolean(spec?.readOnly) && option.value !== current.choice;
          }
        }
        const isOn = family.shape === 'flags'
          ? Object.values(current.values).some(Boolean)
          : Boolean(choice) && !(['none', 'off'].includes(choice.value) || choice.isDefault);
        part.details.classList.toggle('on', target !== null && isOn);
        part.state.textContent = target ? describeFamily(family, current) : '';
        part.explain.textContent = family.shape === 'flags' ? family.explain : (choice?.explain ?? '');
        for (const param of paramList) {
          const input = document.getElementById(`policy-${family.key}-${param.name}`);
          if (!input) continue;
          input.disabled = !target;
          const value = current.values[param.name];
          if (param.kind === 'flag') input.checked = value === true;
          else if (document.activeElement !== input) input.value = value === null || value === undefined ? '' : String(value);
        }
      }
    },

    /** Shows a note under one family (null clears every note of the group). */
    setNote(key, text) {
      for (const part of parts.values()) {
        const show = part.family.key === key && Boolean(text);
        part.note.hidden = !show;
        part.note.textContent = show ? text : '';
      }
    },

    /** Shows validation messages per family key (`Map<key, string[]>`), opening those families. */
    showErrors(byFamily) {
      for (const part of parts.values()) {
        const messages = byFamily.get(part.family.key) ?? [];
        part.error.hidden = messages.length === 0;
        part.error.textContent = messages.join(' ');
        part.details.classList.toggle('invalid', messages.length > 0);
        if (part.select) {
          if (messages.length > 0) part.select.setAttribute('aria-invalid', 'true');
          else part.select.removeAttribute('aria-invalid');
        }
        if (messages.length > 0) part.details.open = true;
      }
    },
  };
}
