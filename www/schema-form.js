// Forms generated from the scenario's JSON Schema (scenario.schema.json, itself generated from
// the simulator's Rust types, whose doc comments are the descriptions shown as help).
//
//   schema property --fieldKind--> number | integer | string | boolean | choice | duration
//                                  | group (a nested object: a collapsible <details>) | json
//   renderForm(container, {objectSchema, target}) --user edit--> target mutated, onChange(key)
//
// Blank means "not set": the key is removed and the simulator's default applies. Durations are
// checked with the simulator's own parser; everything else is judged by its validation after
// the edit (its errors are shown with field paths). Values are only set as properties and text
// only through textContent: a scenario is user data.

/** The definition a `$ref` names, followed until it is not a reference. */
export function resolve(schema, part) {
  let current = part;
  for (let depth = 0; current?.$ref && depth < 16; depth += 1) {
    const name = current.$ref.replace('#/$defs/', '');
    current = schema.$defs?.[name];
  }
  return current ?? {};
}

/** The Node variant of a kind ("client", "service", ...), or undefined. */
export function nodeSchema(schema, kind) {
  return schema.$defs?.Node?.oneOf?.find((variant) => variant.properties?.kind?.const === kind);
}

/** `anyOf: [X, null]` is an optional X; other parts are themselves. */
function unwrapNullable(part) {
  const options = part?.anyOf;
  if (Array.isArray(options) && options.length === 2 && options.some((option) => option.type === 'null')) {
    return { part: options.find((option) => option.type !== 'null'), nullable: true };
  }
  return { part, nullable: false };
}

/** The string choices of a `oneOf` of consts and enums, or null if it is anything else. */
function choicesOf(part) {
  if (Array.isArray(part.enum)) return part.enum.map((value) => ({ value, description: '' }));
  if (!Array.isArray(part.oneOf)) return null;
  const choices = [];
  for (const option of part.oneOf) {
    if (option.type !== 'string') return null;
    if (typeof option.const === 'string') choices.push({ value: option.const, description: option.description ?? '' });
    else if (Array.isArray(option.enum)) choices.push(...option.enum.map((value) => ({ value, description: '' })));
    else return null;
  }
  return choices;
}

/**
 * How a property is edited: `{kind, nullable, choices?, minimum?, maximum?, objectSchema?}`.
 * Kinds: "duration" (a Duration string), "number", "integer", "string", "boolean", "choice",
 * "group" (an object with properties) and "json" (anything else: lists, distributions).
 */
export function fieldKind(schema, property) {
  const { part, nullable: optional } = unwrapNullable(property);
  if (part?.$ref === '#/$defs/Duration') return { kind: 'duration', nullable: optional };
  const resolved = resolve(schema, part);
  const types = Array.isArray(resolved.type) ? resolved.type : [resolved.type];
  const nullable = optional || types.includes('null');
  const bounds = { minimum: resolved.minimum, maximum: resolved.maximum };
  if (types.includes('integer')) return { kind: 'integer', nullable, ...bounds };
  if (types.includes('number')) return { kind: 'number', nullable, ...bounds };
  if (types.includes('boolean')) return { kind: 'boolean', nullable };
  if (types.includes('string') && resolved.const === undefined && !resolved.enum) return { kind: 'string', nullable };
  const choices = choicesOf(resolved);
  if (choices) return { kind: 'choice', nullable, choices };
  if (types.includes('object') && resolved.properties && !resolved.oneOf) return { kind: 'group', nullable, objectSchema: resolved };
  return { kind: 'json', nullable };
}

/** "max_attempts" -> "Max attempts". */
export function labelOf(name) {
  const words = name.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The unit a field's name carries (`memory_mb` -> "MB"), or a duration's hint. */
export function unitOf(name, kind) {
  if (kind === 'duration') return 'like 250ms, 2s';
  const units = [
    ['_per_million_usd', 'USD per million'], ['_usd', 'USD'], ['_per_minute', 'per minute'], ['_per_s', 'per s'],
    ['_mb', 'MB'], ['_ms', 'ms'], ['_s', 's'], ['_ratio', '0 to 1'], ['_rate', '0 to 1'], ['_share', '0 to 1'],
  ];
  if (name === 'rate') return 'requests per s';
  return units.find(([suffix]) => name.endsWith(suffix))?.[1] ?? '';
}

/** The description as one line of help. */
function helpOf(property, schema) {
  const text = property.description ?? unwrapNullable(property).part?.description ?? resolve(schema, property).description ?? '';
  return text.replace(/\s*\n\s*/g, ' ');
}

let formCount = 0;

/**
 * Builds the fields of `objectSchema` into `container`, editing `target()` (a function, since
 * a nested group's object may not exist until its first field is set: `ensure()` makes it).
 * `onChange(key)` follows each applied edit; `key` names the field (edits of one field in a
 * row make one undo step). `skip`: property names not shown; `readOnly`: shown, not edited.
 */
export function renderForm(container, options) {
  const { schema, objectSchema, parseDurationMs, onChange, skip = [], readOnly = [] } = options;
  const target = options.target;
  const ensure = options.ensure ?? target;
  const prefix = `sf${(formCount += 1)}`;
  const required = new Set(objectSchema.required ?? []);
  const names = Object.keys(objectSchema.properties ?? {}).filter((name) => !skip.includes(name));
  // Required fields first, then single inputs, then JSON boxes, then nested groups (each set
  // alphabetically, as the schema lists them), so the grid fills without holes.
  const rank = (name) => {
    const kind = fieldKind(schema, objectSchema.properties[name]).kind;
    if (required.has(name)) return 0;
    return kind === 'group' ? 3 : kind === 'json' ? 2 : 1;
  };
  names.sort((a, b) => rank(a) - rank(b));
  for (const name of names) {
    const property = objectSchema.properties[name];
    const field = fieldKind(schema, property);
    const id = `${prefix}-${name}`;
    const current = () => target()?.[name];
    const write = (value) => {
      if (value === undefined) {
        const object = target();
        if (!object || !(name in object)) return;
        delete object[name];
      } else {
        ensure()[name] = value;
      }
      onChange(`${options.keyPrefix ?? ''}${name}`);
    };
    const help = helpOf(property, schema);
    if (field.kind === 'group') {
      container.append(groupOf({ ...options, name, id, help, field, required: required.has(name) }));
      continue;
    }
    const row = document.createElement('div');
    row.className = 'sf-field';
    row.dataset.field = name;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.append(labelOf(name));
    const unit = unitOf(name, field.kind);
    if (unit) {
      const unitText = document.createElement('span');
      unitText.className = 'unit';
      unitText.textContent = ` ${unit}`;
      label.append(unitText);
    }
    const error = document.createElement('p');
    error.className = 'control-error';
    error.id = `${id}-error`;
    error.hidden = true;
    const helpText = document.createElement('p');
    helpText.className = 'explain';
    helpText.id = `${id}-help`;
    helpText.textContent = help;
    const showError = (message) => {
      error.hidden = !message;
      error.textContent = message ?? '';
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    };
    const input = inputFor(field, current(), required.has(name));
    input.id = id;
    input.setAttribute('aria-describedby', `${id}-help ${id}-error`);
    if (readOnly.includes(name)) {
      input.readOnly = true;
      input.disabled = input.tagName === 'SELECT' || input.type === 'checkbox';
    } else {
      wireInput(input, field, { write, showError, parseDurationMs, required: required.has(name) });
    }
    if (field.kind === 'boolean') {
      label.prepend(input, ' ');
      label.classList.add('check');
      row.append(label, helpText, error);
    } else {
      row.append(label, input, helpText, error);
    }
    container.append(row);
  }
}

/** A nested object: a collapsible group of its own fields, with Remove when optional. */
function groupOf(options) {
  const { name, id, help, field, required } = options;
  const details = document.createElement('details');
  details.className = 'sf-group';
  details.dataset.field = name;
  const summary = document.createElement('summary');
  summary.id = `${id}-summary`;
  summary.textContent = labelOf(name);
  const state = document.createElement('span');
  state.className = 'muted small';
  const parent = options.target;
  const showState = () => {
    state.textContent = parent()?.[name] !== undefined && parent()?.[name] !== null ? ' · set' : ' · default';
  };
  showState();
  summary.append(state);
  details.append(summary);
  const helpText = document.createElement('p');
  helpText.className = 'explain';
  helpText.textContent = help;
  details.append(helpText);
  const body = document.createElement('div');
  body.className = 'sf-body';
  renderForm(body, {
    ...options,
    objectSchema: field.objectSchema,
    skip: [],
    readOnly: [],
    keyPrefix: `${options.keyPrefix ?? ''}${name}.`,
    target: () => parent()?.[name] ?? undefined,
    ensure: () => {
      const object = (options.ensure ?? parent)();
      if (!object[name] || typeof object[name] !== 'object') object[name] = {};
      return object[name];
    },
    onChange: (key) => {
      showState();
      options.onChange(key);
    },
  });
  details.append(body);
  if (!required) {
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'sf-remove';
    remove.textContent = `Remove ${labelOf(name).toLowerCase()}`;
    remove.addEventListener('click', () => {
      const object = parent();
      if (!object || !(name in object)) return;
      delete object[name];
      showState();
      options.onChange(`${options.keyPrefix ?? ''}${name}`);
    });
    details.append(remove);
  }
  return details;
}

/** The input element for a field, showing `value`. */
function inputFor(field, value, required) {
  if (field.kind === 'choice') {
    const select = document.createElement('select');
    if (!required || value === undefined) select.append(new Option('(default)', ''));
    for (const choice of field.choices) {
      const option = new Option(choice.value.replaceAll('_', ' '), choice.value);
      if (choice.description) option.title = choice.description;
      select.append(option);
    }
    select.value = typeof value === 'string' ? value : '';
    return select;
  }
  if (field.kind === 'json') {
    const area = document.createElement('textarea');
    area.rows = 2;
    area.spellcheck = false;
    area.className = 'sf-json';
    area.placeholder = required ? 'JSON' : 'JSON; blank = not set';
    area.value = value === undefined || value === null ? '' : JSON.stringify(value);
    return area;
  }
  const input = document.createElement('input');
  if (field.kind === 'boolean') {
    input.type = 'checkbox';
    input.checked = value === true;
    return input;
  }
  if (field.kind === 'number' || field.kind === 'integer') {
    input.type = 'number';
    input.step = field.kind === 'integer' ? '1' : 'any';
    if (field.kind === 'integer') input.inputMode = 'numeric';
    if (Number.isFinite(field.minimum)) input.min = String(field.minimum);
    if (Number.isFinite(field.maximum)) input.max = String(field.maximum);
    input.value = typeof value === 'number' ? String(value) : '';
    if (field.nullable) input.placeholder = 'default';
    return input;
  }
  input.type = 'text';
  input.spellcheck = false;
  input.autocomplete = 'off';
  input.value = typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
  if (field.kind === 'duration') input.placeholder = field.nullable ? 'none' : '250ms';
  return input;
}

/** Applies the input's value on each edit (JSON fields when left, as typing passes through invalid text). */
function wireInput(input, field, { write, showError, parseDurationMs, required }) {
  const blank = () => (required ? showError('Required.') : (showError(null), write(undefined)));
  if (field.kind === 'boolean') {
    input.addEventListener('change', () => write(input.checked ? true : undefined));
  } else if (field.kind === 'choice') {
    input.addEventListener('change', () => (input.value === '' ? blank() : write(input.value)));
  } else if (field.kind === 'number' || field.kind === 'integer') {
    input.addEventListener('input', () => {
      if (input.value.trim() === '') return blank();
      const value = input.valueAsNumber;
      if (!Number.isFinite(value)) return showError('Expected a number.');
      showError(null);
      return write(value);
    });
  } else if (field.kind === 'duration') {
    input.addEventListener('input', () => {
      const text = input.value.trim();
      if (text === '') return blank();
      const ms = parseDurationMs(text);
      if (ms === undefined || ms === null || !Number.isFinite(ms)) {
        return showError('Expected a duration: a number and a unit (ns, us, ms, s, m, h), like 250ms.');
      }
      showError(null);
      return write(text);
    });
  } else if (field.kind === 'json') {
    input.addEventListener('change', () => {
      const text = input.value.trim();
      if (text === '') return blank();
      try {
        const value = JSON.parse(text);
        showError(null);
        return write(value);
      } catch {
        return showError('Not valid JSON (like {"constant": "20ms"} or ["a", "b"]).');
      }
    });
  } else {
    input.addEventListener('input', () => (input.value === '' ? blank() : (showError(null), write(input.value))));
  }
}
