// Compare mode and several seeds in the summary: a table of A, B and the signed difference,
// or of the median and 10–90% range over seeds. The rows come from the wasm
// (`compare_reports`, `seed_summary`); this only lays them out, with textContent only.

function cell(row, tag, text, className) {
  const element = document.createElement(tag);
  element.textContent = text;
  if (className) element.className = className;
  row.append(element);
  return element;
}

function table(element, head, rows, fill) {
  element.replaceChildren();
  const thead = element.createTHead().insertRow();
  for (const text of head) cell(thead, 'th', text);
  const body = element.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    tr.dataset.key = row.key;
    cell(tr, 'th', row.label);
    fill(tr, row);
  }
}

/** A against B: `rows` from compare_reports; `edited` the letter being edited. */
export function renderComparison(ui, rows, edited) {
  ui.variants.hidden = false;
  ui.variantsTitle.textContent = `A against B (same seed; editing ${edited})`;
  table(ui.variantsTable, ['', 'A', 'B', 'B − A'], rows, (tr, row) => {
    cell(tr, 'td', row.a, row.better === 'a' ? 'better' : row.better === 'b' ? 'worse' : '');
    cell(tr, 'td', row.b, row.better === 'b' ? 'better' : row.better === 'a' ? 'worse' : '');
    cell(tr, 'td', row.delta, 'delta');
  });
  ui.variantsNote.textContent = 'A solid, B dashed on the charts. Both variants see the same arrivals and service times, so the difference is the change.';
}

/** Several seeds: `rows` from seed_summary over `count` seeds from `firstSeed`. */
export function renderSpread(ui, rows, count, firstSeed) {
  ui.variants.hidden = false;
  ui.variantsTitle.textContent = `Over ${count} seeds (${firstSeed} to ${firstSeed + count - 1})`;
  table(ui.variantsTable, ['', 'median', '10–90% range'], rows, (tr, row) => {
    cell(tr, 'td', row.median);
    cell(tr, 'td', row.range);
  });
  ui.variantsNote.textContent =
    `Time charts: each line is the median over the seeds in each time bucket, inside its 10–90% band. ` +
    `The numbers above, the graph and the policies chart are seed ${firstSeed}'s.`;
}

export function hideVariants(ui) {
  ui.variants.hidden = true;
  ui.variantsTable.replaceChildren();
}
