// Undo and redo of scenario edits: a bounded list of snapshots (the scenario's JSON text).
//
//   root(text)            a preset or a link opened: history starts over
//   record(text, key, t)  after an edit; edits to the same control within COALESCE_MS of the
//                         last one replace it (a slider drag, typing digits: one step)
//   undo() / redo()       the text to show, or null
//
// Pure (no DOM, no clock): the caller passes the time, so it is tested under Node.

/** Snapshots kept, at most (the oldest go first). */
export const HISTORY_COUNT_MAX = 100;
/** Characters of snapshots kept, at most (a scenario is at most a few hundred KB). */
export const HISTORY_CHARS_MAX = 8_000_000;
/** Edits of one control closer together than this are one step. */
export const COALESCE_MS = 600;

export function createHistory({ countMax = HISTORY_COUNT_MAX, charsMax = HISTORY_CHARS_MAX, coalesceMs = COALESCE_MS } = {}) {
  /** Snapshots, oldest first; `index` is the one shown. */
  let entries = [];
  let index = -1;
  /** The control and time of the last recorded edit, while it may still be coalesced. */
  let last = null;

  function trim() {
    let chars = entries.reduce((sum, text) => sum + text.length, 0);
    // Always keep the current snapshot, whatever its size.
    while (entries.length > 1 && index > 0 && (entries.length > countMax || chars > charsMax)) {
      chars -= entries[0].length;
      entries.shift();
      index -= 1;
    }
  }

  return {
    root(text) {
      entries = [text];
      index = 0;
      last = null;
    },
    /** Records the scenario after an edit; `key` names the control (null: never coalesced). */
    record(text, key = null, now_ms = 0) {
      if (index < 0) {
        this.root(text);
        return;
      }
      if (text === entries[index]) return;
      entries.length = index + 1;
      const coalesce = key !== null && last !== null && last.key === key && now_ms - last.at_ms < coalesceMs && index > 0;
      if (coalesce) {
        entries[index] = text;
      } else {
        entries.push(text);
        index += 1;
      }
      last = key === null ? null : { key, at_ms: now_ms };
      trim();
    },
    undo() {
      if (index <= 0) return null;
      index -= 1;
      last = null;
      return entries[index];
    },
    redo() {
      if (index >= entries.length - 1) return null;
      index += 1;
      last = null;
      return entries[index];
    },
    get canUndo() {
      return index > 0;
    },
    get canRedo() {
      return index >= 0 && index < entries.length - 1;
    },
    get size() {
      return entries.length;
    },
  };
}

/**
 * What a key press asks of the history: "undo", "redo" or null. Ctrl or ⌘ with Z undoes, with
 * Shift+Z or Y redoes. Never inside a text field, where the browser's own text undo applies.
 */
export function historyKeyAction(event, target = event.target) {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return null;
  const tag = target?.tagName;
  const typing = tag === 'TEXTAREA' || target?.isContentEditable
    || (tag === 'INPUT' && !['checkbox', 'radio', 'range', 'button', 'submit', 'color', 'file'].includes(target.type));
  if (typing) return null;
  const key = String(event.key).toLowerCase();
  if (key === 'z') return event.shiftKey ? 'redo' : 'undo';
  if (key === 'y' && !event.shiftKey) return 'redo';
  return null;
}
