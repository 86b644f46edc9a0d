// What the queue chart's caption says for what it shows (`Figures.queue_chart(focus)` of the
// wasm module): queues waiting, functions' capacity or LLM endpoints' tokens. Shared by the
// playground and the embed page.

import { findNode, nodeIds } from './controls.js';

/** What the queue chart's caption says for what it shows (`Figures.queue_chart`). */
export const QUEUE_CAPTIONS = {
  waiting: { title: 'Queue depth', unit: 'attempts or messages waiting', label: 'Queue depth over time' },
  functions: {
    title: 'Function capacity',
    unit: 'invocations running, environments (dashed)',
    label: "Functions' invocations running and execution environments over time",
  },
  /** Several functions and none in focus: the chart draws each one's invocations running. */
  severalFunctions: {
    title: 'Function capacity',
    unit: 'invocations running, per function: click one for its environments',
    label: "Each function's invocations running over time",
  },
  llm: {
    title: 'LLM tokens',
    unit: 'in the last minute: charged, used, limits (dashed)',
    label: "An LLM endpoint's tokens over the last minute against its per-minute limits over time",
  },
  /** Several endpoints and none in focus: the chart draws each one's 429s. */
  severalLlms: {
    title: 'LLM 429s',
    unit: 'in the last minute, per endpoint: click one for its tokens',
    label: "Each LLM endpoint's 429s over the last minute over time",
  },
};

/**
 * The caption of the queue chart showing `shows` with `focusId` focused: its title, unit and
 * accessible label, and `of`, the one node it is about (or null).
 */
export function queueCaption(shows, scenario, focusId) {
  const focus = findNode(scenario, focusId);
  // One node's chart when one of that kind is focused or it is the only one (as the chart
  // draws it); else one line per node.
  const kind = { functions: 'function', llm: 'llm' }[shows];
  const ids = kind ? nodeIds(scenario, kind) : [];
  const one = !kind ? null : focus?.kind === kind ? focus.id : ids.length === 1 ? ids[0] : null;
  const several = { functions: 'severalFunctions', llm: 'severalLlms' }[shows];
  const key = kind && one === null ? several : shows;
  return { ...(QUEUE_CAPTIONS[key] ?? QUEUE_CAPTIONS.waiting), of: one };
}
