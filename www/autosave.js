// The scenario being edited, kept in localStorage so a reload (or a closed tab) loses nothing.
//
// What opens on load: a link in the address wins (it is what the user asked for); without one,
// the autosave if there is a usable one; else the default preset. A saved value that is not
// ours, is damaged or too large is dropped with a notice, never an error.
//
// The record: {"format": 1, "preset": "<name>" | null, "scenario": <the scenario object>}.

export const AUTOSAVE_KEY = 'stormglass.autosave';
export const AUTOSAVE_FORMAT = 1;
/** Largest record kept (characters): a scenario is at most a few hundred KB. */
export const AUTOSAVE_CHARS_MAX = 1_000_000;
/** Quiet time after the last edit before saving. */
export const AUTOSAVE_DEBOUNCE_MS = 500;

/** The record's text for a scenario and the preset it came from (null: a link or a file). */
export function encodeAutosave(scenario, preset) {
  return JSON.stringify({ format: AUTOSAVE_FORMAT, preset: preset ?? null, scenario });
}

/**
 * Reads a saved record: `{scenario, preset}`, `{problem}` (why it is not used), or null when
 * there is none. Whether the scenario is valid is the simulator's to say, after loading.
 */
export function decodeAutosave(text) {
  if (text === null || text === undefined || text === '') return null;
  if (typeof text !== 'string' || text.length > AUTOSAVE_CHARS_MAX) {
    return { problem: 'it is larger than the page keeps' };
  }
  let record;
  try {
    record = JSON.parse(text);
  } catch {
    return { problem: 'it is damaged' };
  }
  if (!record || typeof record !== 'object' || record.format !== AUTOSAVE_FORMAT) {
    return { problem: 'it was saved in a format this version does not read' };
  }
  const { scenario, preset } = record;
  if (!scenario || typeof scenario !== 'object' || Array.isArray(scenario) || !Array.isArray(scenario.nodes)) {
    return { problem: 'it holds no scenario' };
  }
  return { scenario, preset: typeof preset === 'string' ? preset : null };
}

/**
 * Saving, debounced, to `storage` (localStorage; absent or refusing — private mode, full —
 * means no autosave, quietly). `read()` gives `{scenario, preset}` at save time.
 */
export function createAutosave(storage, read, delayMs = AUTOSAVE_DEBOUNCE_MS) {
  let timer = 0;
  const save = () => {
    clearTimeout(timer);
    const { scenario, preset } = read();
    if (!scenario) return;
    const text = encodeAutosave(scenario, preset);
    try {
      if (text.length <= AUTOSAVE_CHARS_MAX) storage?.setItem(AUTOSAVE_KEY, text);
      else storage?.removeItem(AUTOSAVE_KEY);
    } catch {
      // Storage full or disabled: the address bar's link still keeps the edits.
    }
  };
  return {
    schedule() {
      clearTimeout(timer);
      timer = setTimeout(save, delayMs);
    },
    /** Saves now (before the page goes away). */
    flush: save,
    load() {
      let text = null;
      try {
        text = storage?.getItem(AUTOSAVE_KEY) ?? null;
      } catch {
        return null;
      }
      const saved = decodeAutosave(text);
      if (saved?.problem) this.clear();
      return saved;
    },
    clear() {
      clearTimeout(timer);
      try {
        storage?.removeItem(AUTOSAVE_KEY);
      } catch {
        // Nothing to clear.
      }
    },
  };
}
