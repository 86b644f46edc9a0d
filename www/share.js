// Share links and embeds: the scenario and what the page shows, packed into the address's
// fragment (`#v1.…`) by the simulator's own codec (`make_link` / `open_link` of the wasm
// module), so no server is needed and a link reproduces the exact run.
//
//   page state --viewOf--> view {cursor_s, focus, selected, call, compare} --make_link--> #v1.…
//   #v1.… --open_link--> {scenario_json, view} --checkedView--> page state
//
// A link is untrusted input: the codec bounds and checks the packing, the simulator's
// validation judges the scenario, and `checkedView` keeps only view fields of the right type
// that name nodes the scenario has. Nothing from a link is ever evaluated or set as HTML.

/** The charts an embed can show, in page order: [option name, label]. */
export const EMBED_CHARTS = [
  ['traffic', 'Traffic'],
  ['latency', 'Latency'],
  ['policies', 'Policies'],
  ['queue', 'Queue depth'],
];

/** What an embed shows when its options do not say. */
export const EMBED_DEFAULTS = Object.freeze({
  charts: ['traffic', 'latency'],
  graph: true,
  autoplay: true,
  controls: true,
  editable: false,
  theme: 'light',
  height: 480,
});

const EMBED_HEIGHT_MIN = 200;
const EMBED_HEIGHT_MAX = 2000;

/** Keys written first, in this order, wherever they occur; the rest keep their order. */
const LEADING_KEYS = ['version', 'name', 'description', 'what_to_try', 'seed', 'duration', 'kind', 'id', 'to'];

/**
 * A scenario from a link with its keys in reading order ("kind" and "id" first in each node):
 * a link keeps keys sorted, which reads badly in the JSON editor. Values are untouched.
 */
export function readableKeyOrder(value) {
  if (Array.isArray(value)) return value.map(readableKeyOrder);
  if (!value || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  const leading = LEADING_KEYS.filter((key) => keys.includes(key));
  const ordered = {};
  for (const key of [...leading, ...keys.filter((key) => !LEADING_KEYS.includes(key))]) {
    // Defined, not assigned: a "__proto__" key from a link stays a plain (invalid) field.
    Object.defineProperty(ordered, key, { value: readableKeyOrder(value[key]), enumerable: true, writable: true, configurable: true });
  }
  return ordered;
}

/** True when an address fragment looks like a share link (not an in-page anchor). */
export function isLinkFragment(hash) {
  return typeof hash === 'string' && /^#v\d/.test(hash);
}

/**
 * Compare mode's variant B travels in the view, whose size the link codec bounds
 * (LINK_VIEW_BYTES_MAX, 64 KiB): a larger B is left out and the link opens A alone.
 */
export const COMPARE_VARIANT_CHARS_MAX = 60_000;

/**
 * The part of the page's state a link keeps: plain data, no ids that are not in the scenario.
 * In compare mode the link's scenario is A and `compare: {variant: B, editing}` carries B.
 */
export function viewOf({ cursor_s, cursorTouched, focus, selection, compare }) {
  const view = {};
  if (compare && JSON.stringify(compare.B).length <= COMPARE_VARIANT_CHARS_MAX) {
    view.compare = { variant: compare.B, editing: compare.editing === 'A' ? 'A' : 'B' };
  }
  if (cursorTouched && Number.isFinite(cursor_s)) view.cursor_s = Math.round(cursor_s * 1000) / 1000;
  if (focus) view.focus = focus;
  const selected = ['client', 'service', 'balancer', 'function', 'llm']
    .map((kind) => selection?.[kind])
    .filter((id) => typeof id === 'string');
  if (selected.length > 0) view.selected = selected;
  if (selection?.call) view.call = { node: selection.call.node, index: selection.call.index };
  return view;
}

/**
 * The view fields of a link that fit `scenario`: a finite cursor, and ids of its nodes.
 * Unknown fields and anything of the wrong type are dropped, never trusted.
 */
export function checkedView(view, scenario) {
  const checked = {};
  if (!view || typeof view !== 'object' || Array.isArray(view)) return checked;
  const ids = new Set((scenario?.nodes ?? []).map((node) => node?.id).filter((id) => typeof id === 'string'));
  if (typeof view.cursor_s === 'number' && Number.isFinite(view.cursor_s) && view.cursor_s >= 0) {
    checked.cursor_s = view.cursor_s;
  }
  if (typeof view.focus === 'string' && ids.has(view.focus)) checked.focus = view.focus;
  if (Array.isArray(view.selected)) {
    checked.selected = view.selected.filter((id) => typeof id === 'string' && ids.has(id)).slice(0, 8);
  }
  const call = view.call;
  if (call && typeof call === 'object' && typeof call.node === 'string' && ids.has(call.node)
    && Number.isInteger(call.index) && call.index >= 0 && call.index < 1000) {
    checked.call = { node: call.node, index: call.index };
  }
  // B is a scenario like the link's own: the simulator's validation judges it when it runs.
  const compare = view.compare;
  if (compare && typeof compare === 'object' && compare.variant && typeof compare.variant === 'object' && !Array.isArray(compare.variant)) {
    checked.compare = { variant: compare.variant, editing: compare.editing === 'A' ? 'A' : 'B' };
  }
  return checked;
}

/** Reads an embed's options from its query string; anything unreadable keeps its default. */
export function embedOptions(search) {
  const params = new URLSearchParams(search);
  const options = { ...EMBED_DEFAULTS, charts: [...EMBED_DEFAULTS.charts] };
  const flag = (name) => {
    const value = params.get(name);
    if (value === '1' || value === 'true') options[name] = true;
    else if (value === '0' || value === 'false') options[name] = false;
  };
  for (const name of ['graph', 'autoplay', 'controls', 'editable']) flag(name);
  if (params.has('charts')) {
    const known = new Set(EMBED_CHARTS.map(([name]) => name));
    const wanted = (params.get('charts') ?? '').split(',').map((name) => name.trim());
    options.charts = EMBED_CHARTS.map(([name]) => name).filter((name) => known.has(name) && wanted.includes(name));
  }
  if (params.get('theme') === 'dark') options.theme = 'dark';
  const height = Number(params.get('height'));
  if (params.has('height') && Number.isFinite(height)) {
    options.height = Math.round(Math.min(EMBED_HEIGHT_MAX, Math.max(EMBED_HEIGHT_MIN, height)));
  }
  return options;
}

/**
 * The query string of an embed with `options` (defaults left out, so snippets stay short).
 * Every value is a known word or a number, so the string is written as is: "charts=a,b", not
 * URLSearchParams' "charts=a%2Cb".
 */
export function embedQuery(options) {
  const parts = [];
  if (options.charts.join(',') !== EMBED_DEFAULTS.charts.join(',')) parts.push(`charts=${options.charts.join(',')}`);
  for (const name of ['graph', 'autoplay', 'controls', 'editable']) {
    if (options[name] !== EMBED_DEFAULTS[name]) parts.push(`${name}=${options[name] ? '1' : '0'}`);
  }
  if (options.theme !== EMBED_DEFAULTS.theme) parts.push(`theme=${options.theme === 'dark' ? 'dark' : 'light'}`);
  if (options.height !== EMBED_DEFAULTS.height) parts.push(`height=${Math.round(options.height)}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** Escapes text for an HTML attribute value in double quotes. */
function attribute(text) {
  return String(text).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A ready `<iframe>` for a blog post: the embed page at `pageUrl` (the playground's address),
 * with `options` and the link, titled after the scenario.
 */
export function iframeSnippet(pageUrl, link, options, scenarioName) {
  const src = embedUrl(pageUrl, link, options);
  const title = `Stormglass: ${scenarioName || 'a simulated scenario'}`;
  return `<iframe src="${attribute(src.href)}" title="${attribute(title)}" width="100%" height="${options.height}" `
    + 'style="border:0;max-width:100%" loading="lazy"></iframe>';
}

/** The embed page's address for a link and options, next to the playground at `pageUrl`. */
export function embedUrl(pageUrl, link, options) {
  const url = new URL(`embed.html${embedQuery(options)}`, pageUrl);
  url.hash = link;
  return url;
}

/** The playground's address for a link (the embed's "open in Stormglass"). */
export function playgroundUrl(pageUrl, link) {
  const url = new URL('index.html', pageUrl);
  url.hash = link;
  return url.href;
}
