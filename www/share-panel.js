// The Share and Embed dialogs of the playground: a link to the current scenario and view, and
// an <iframe> snippet for a blog post with the embed's options. The page hands in how to make
// the current link (`currentLink`, which also puts it in the address bar) and the scenario's
// name; this module only builds text and copies it.

import { EMBED_CHARTS, EMBED_DEFAULTS, embedUrl, iframeSnippet } from './share.js';

/** Copies `text`; falls back to selecting `field` for the user when the browser refuses. */
async function copyText(text, field, status) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = 'Copied.';
  } catch {
    field.focus();
    field.select();
    status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
  }
}

function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page lacks #${id}`);
  return found;
}

/** The embed options the dialog's fields say. */
function readEmbedOptions() {
  const charts = EMBED_CHARTS.map(([name]) => name).filter((name) => element(`embed-chart-${name}`).checked);
  const height = element('embed-height').valueAsNumber;
  return {
    charts,
    graph: element('embed-graph').checked,
    autoplay: element('embed-autoplay').checked,
    controls: element('embed-controls').checked,
    editable: element('embed-editable').checked,
    theme: element('embed-theme').value === 'dark' ? 'dark' : 'light',
    height: Number.isFinite(height) ? Math.round(Math.min(2000, Math.max(200, height))) : EMBED_DEFAULTS.height,
  };
}

function createChartChoices() {
  const container = element('embed-charts');
  for (const [name, label] of EMBED_CHARTS) {
    const row = document.createElement('label');
    row.className = 'check';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.id = `embed-chart-${name}`;
    box.checked = EMBED_DEFAULTS.charts.includes(name);
    row.append(box, ` ${label}`);
    container.append(row);
  }
}

/**
 * Wires the Share and Embed buttons. `currentLink()` returns the fragment (`v1.…`) of the
 * current scenario and view, or null when it cannot be made (the page says why);
 * `scenarioName()` names the scenario for the iframe's title.
 */
export function wireSharePanel({ currentLink, scenarioName }) {
  const shareDialog = element('share-dialog');
  const shareUrl = element('share-url');
  const shareStatus = element('share-status');
  const embedDialog = element('embed-dialog');
  const snippet = element('embed-snippet');
  const embedStatus = element('embed-status');
  const preview = element('embed-preview');
  createChartChoices();

  element('share').addEventListener('click', () => {
    const link = currentLink();
    if (!link) return;
    const url = new URL(location.href);
    url.hash = link;
    shareUrl.value = url.href;
    shareStatus.textContent = '';
    shareDialog.showModal();
    copyText(url.href, shareUrl, shareStatus);
  });
  element('share-copy').addEventListener('click', () => copyText(shareUrl.value, shareUrl, shareStatus));

  let link = null;
  const refreshSnippet = () => {
    if (!link) return;
    const options = readEmbedOptions();
    snippet.value = iframeSnippet(location.href, link, options, scenarioName());
    preview.href = embedUrl(location.href, link, options).href;
    embedStatus.textContent = options.charts.length === 0 && !options.graph ? 'Pick a chart or the graph to show.' : '';
  };
  element('embed').addEventListener('click', () => {
    link = currentLink();
    if (!link) return;
    refreshSnippet();
    embedDialog.showModal();
  });
  embedDialog.addEventListener('input', refreshSnippet);
  embedDialog.addEventListener('change', refreshSnippet);
  element('embed-copy').addEventListener('click', () => copyText(snippet.value, snippet, embedStatus));
  for (const dialog of [shareDialog, embedDialog]) {
    dialog.querySelector('.dialog-close').addEventListener('click', () => dialog.close());
  }
}
