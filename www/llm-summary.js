// The LLM endpoints' part of the summary panel: a row per endpoint (admitted, 429s, time to
// first token, tokens, cache hits when there is a cache, cost) and, under the table, the
// details of the endpoint in focus. Everything comes from the report's node summaries
// (NodeDetail::Llm in core/src/report.rs); built with textContent only, since node ids are
// user data.

import { countAndShare, nodeRow, splitByLimit } from './node-table.js';

/** An endpoint with a prompt cache looked its prompts up (hits or misses). */
function hasCache(node) {
  return node.cache_hits + node.cache_misses > 0;
}

function ttft(node, format) {
  return node.ttft_ms ? `${format(node.ttft_ms.p50, 'ms')} / ${format(node.ttft_ms.p99, 'ms')}` : '–';
}

/** 429s split by the limit that refused them, largest first; [] when there were none. */
function rateLimitedBy(node, format) {
  return splitByLimit([
    [node.rate_limited_tokens_per_minute, 'tokens per minute'],
    [node.rate_limited_requests_per_minute, 'requests per minute'],
    [node.rate_limited_input_tokens_per_minute, 'input tokens per minute'],
    [node.rate_limited_output_tokens_per_minute, 'output tokens per minute'],
  ], format);
}

/** What the table row of an endpoint has no room for, as short phrases; zeros left out. */
function llmFacts(node, format) {
  const facts = [`${format(node.arrivals, 'count')} requests arrived, ${format(node.admitted, 'count')} admitted`];
  const by = rateLimitedBy(node, format);
  if (by.length > 0) facts.push(`429s: ${by.join(', ')}`);
  if (node.too_large > 0) facts.push(`${format(node.too_large, 'count')} too large for a limit`);
  if (node.overloaded > 0) facts.push(`${format(node.overloaded, 'count')} overloaded (slot queue full)`);
  if (node.ttft_ms) {
    facts.push(`time to first token p50 ${format(node.ttft_ms.p50, 'ms')}, p99 ${format(node.ttft_ms.p99, 'ms')}`);
  }
  if (node.charged_tokens > 0) {
    // What the limit counted (prompts plus whole output budgets) against what the answers used.
    const used = node.input_tokens + node.output_tokens;
    facts.push(`${format(node.charged_tokens, 'count')} tokens charged to its tokens-per-minute limit for ${format(used, 'count')} used`);
  }
  if (node.truncated > 0) facts.push(`${format(node.truncated, 'count')} answers cut at the output budget`);
  if (hasCache(node)) facts.push(`prompt cache hits ${format(node.cache_hits / (node.cache_hits + node.cache_misses), 'share')}`);
  if (node.loads > 0) {
    facts.push(`${format(node.loads, 'count')} model loads, ${format(node.requests_waited_for_load, 'count')} requests waited for one`);
  }
  if (node.failed > 0) facts.push(`${format(node.failed, 'count')} failed`);
  facts.push(`slots ${format(node.utilization, 'share')} busy`);
  facts.push(`cost ${format(node.cost_usd, 'usd')}, ${format(node.cost_per_1000_requests_usd, 'usd')} per 1,000 requests`);
  return facts;
}

/**
 * Fills the endpoints' table and the details of endpoint `focus` (else the first one); hides
 * the section when the report has no LLM endpoint. Called on every result and whenever the
 * focus moves, so the details follow the node last clicked.
 */
export function renderLlmSummary(ui, report, focus, format) {
  const llms = (report?.nodes ?? []).filter((node) => node?.kind === 'llm');
  ui.llmSummary.hidden = llms.length === 0;
  const shown = llms.find((node) => node.id === focus) ?? llms[0];
  // The cache column only when some endpoint has a cache.
  const cacheColumn = llms.some(hasCache);
  ui.llmCacheColumn.hidden = !cacheColumn;
  ui.llmRows.replaceChildren();
  for (const node of llms) {
    const cells = [
      ['id', node.id],
      ['admitted', format(node.admitted, 'count')],
      ['rate-limited', countAndShare(node.rate_limited, node.arrivals, format)],
      ['ttft', ttft(node, format)],
      ['tokens', `${format(node.input_tokens, 'count')} / ${format(node.output_tokens, 'count')}`],
      ...(cacheColumn
        ? [['cache', hasCache(node) ? format(node.cache_hits / (node.cache_hits + node.cache_misses), 'share') : '–']]
        : []),
      ['cost', format(node.cost_usd, 'usd')],
      ['cost-per-1000', node.admitted > 0 ? format(node.cost_per_1000_requests_usd, 'usd') : '–'],
    ];
    // Several endpoints: the row whose details are spelled out below is marked.
    ui.llmRows.append(nodeRow('llm', node.id, cells, node === shown && llms.length > 1));
  }
  ui.llmDetail.textContent = shown ? `${shown.id}: ${llmFacts(shown, format).join(' · ')}.` : '';
}
