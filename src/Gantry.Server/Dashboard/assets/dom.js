// Building the page: elements made in code, every text set as text (never parsed as HTML), so a name, reason or
// comment holding markup is shown as the characters it is.

/** An element: h('a', { href: '#/x', class: 'c', onclick: fn }, 'text', child, [more]). */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what an element holds. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A time as the page shows it: UTC, to the second. */
export function when(text) {
  if (!text) return '';
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? String(text) : d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

/** A phase's name as the API's records spell it (camelCase), whichever way a view spelled it. */
export function phaseName(name) {
  const p = String(name ?? 'none');
  return p[0].toLowerCase() + p.slice(1);
}

/** A phase as a badge whose class says how it stands. */
export function phase(name) {
  const p = phaseName(name);
  const tone = ({ succeeded: 'good', watching: 'good', healthy: 'good', ready: 'good', resolved: 'good',
    failed: 'bad', aborted: 'bad', rolledBack: 'bad', unhealthy: 'bad', open: 'bad', crashed: 'bad',
    paused: 'warn', inconclusive: 'warn', awaitingApproval: 'warn', acknowledged: 'warn', mitigated: 'warn', starting: 'warn' })[p] ?? 'info';
  return h('span', { class: `badge ${tone}`, 'data-phase': p }, p.replace(/([A-Z])/g, ' $1').toLowerCase());
}

/** A section with a heading. */
export function section(title, ...children) {
  const id = 'h-' + title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/** A table: headings and rows of cells. */
export function table(caption, headings, rows) {
  // Each cell carries its column's heading, so that on a narrow screen a row can be shown as a card of labelled lines.
  for (const tr of rows) [...tr.children].forEach((cell, i) => cell.setAttribute('data-label', headings[i] ?? ''));
  return h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': caption }, h('table', { class: 'stack' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headings.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headings.length }, 'none')))));
}

export function row(...cells) {
  return h('tr', {}, cells.map((c) => h('td', {}, c)));
}
