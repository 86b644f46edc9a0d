// Pieces shared by the summary's tables per node kind (functions, LLM endpoints): counts with
// their shares, refusals split by limit, and a table row built with textContent only, since
// node ids are user data.

/** "1.1k (0.9%)": a count and its share of `whole`; a share that would round to 0% says "<0.1%". */
export function countAndShare(value, whole, format) {
  const count = format(value, 'count');
  if (!(whole > 0 && value > 0)) return count;
  const share = value / whole;
  return `${count} (${share < 0.0005 ? '<0.1%' : format(share, 'share')})`;
}

/** `[[count, limit name], ...]` as "12 by limit", largest first, zeros left out. */
export function splitByLimit(counts, format) {
  return counts
    .filter(([count]) => count > 0)
    .sort(([a], [b]) => b - a)
    .map(([count, limit]) => `${format(count, 'count')} by ${limit}`);
}

/**
 * A table row for one node: `cells` are `[key, text]`, the first the node's id (a row header).
 * `dataKey` names the row's data attribute (`data-function`, `data-llm`); `focused` marks the
 * row whose details are spelled out under the table.
 */
export function nodeRow(dataKey, id, cells, focused) {
  const row = document.createElement('tr');
  row.dataset[dataKey] = id;
  if (focused) row.className = 'focused';
  for (const [key, text] of cells) {
    const cell = document.createElement(key === 'id' ? 'th' : 'td');
    if (key === 'id') cell.scope = 'row';
    cell.dataset.key = key;
    cell.textContent = text;
    row.append(cell);
  }
  return row;
}
