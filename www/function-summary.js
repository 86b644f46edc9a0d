// The functions' part of the summary panel: a row per function node (cold starts, throttles,
// GB-seconds, cost) and, under the table, the details of the function in focus. Everything
// comes from the report's node summaries (NodeDetail::Function in core/src/report.rs); built
// with textContent only, since node ids are user data.

import { countAndShare, nodeRow, splitByLimit } from './node-table.js';

/** Throttles split by the limit that refused them, largest first; [] when there were none. */
function throttledBy(node, format) {
  return splitByLimit([
    [node.throttled_reserved, 'reserved concurrency'],
    [node.throttled_account, "the account's concurrency"],
    [node.throttled_scaling_rate, 'the scaling rate'],
  ], format);
}

/** What the table row of a function has no room for, as short phrases; zeros left out. */
function functionFacts(node, format) {
  const facts = [
    `${format(node.invocations, 'count')} invocations`,
    `${format(node.mean_concurrency, 'count')} running on average`,
    `${format(node.environments_at_end, 'count')} environments at the end`,
    `init phases ${format(node.init_share, 'share')} of billed time`,
  ];
  const by = throttledBy(node, format);
  if (by.length > 0) facts.push(`throttled ${by.join(', ')}`);
  if (node.timeouts > 0) facts.push(`${format(node.timeouts, 'count')} stopped at the timeout`);
  if (node.failed > 0) facts.push(`${format(node.failed, 'count')} failed`);
  if (node.async_accepted > 0) {
    facts.push(
      `${format(node.async_accepted, 'count')} events accepted, ${format(node.async_retries, 'count')} retried, ` +
        `${format(node.async_failed, 'count')} failed for good, ${format(node.async_waiting_at_end, 'count')} waiting at the end`,
    );
  }
  if (node.messages_processed > 0) {
    facts.push(`${format(node.messages_processed, 'count')} queue messages processed, ${format(node.messages_failed, 'count')} failed`);
  }
  if (node.duplicate_effects > 0) facts.push(`${format(node.duplicate_effects, 'count')} duplicate side effects`);
  if (node.wasted_work_share > 0) facts.push(`${format(node.wasted_work_share, 'share')} of its time wasted`);
  return facts;
}

/**
 * Fills the functions' table and the details of function `focus` (else the first one); hides
 * the section when the report has no function. Called on every result and whenever the focus
 * moves, so the details follow the node last clicked.
 */
export function renderFunctionSummary(ui, report, focus, format) {
  const functions = (report?.nodes ?? []).filter((node) => node?.kind === 'function');
  ui.functionSummary.hidden = functions.length === 0;
  const shown = functions.find((node) => node.id === focus) ?? functions[0];
  ui.functionRows.replaceChildren();
  for (const node of functions) {
    const cells = [
      ['id', node.id],
      ['cold-starts', countAndShare(node.cold_starts, node.invocations, format)],
      ['throttles', format(node.throttled, 'count')],
      ['gb-seconds', format(node.billed_gb_seconds, 'count')],
      ['cost', format(node.cost_usd, 'usd')],
    ];
    // Several functions: the row whose details are spelled out below is marked.
    ui.functionRows.append(nodeRow('function', node.id, cells, node === shown && functions.length > 1));
  }
  ui.functionDetail.textContent = shown ? `${shown.id}: ${functionFacts(shown, format).join(' · ')}.` : '';
}
