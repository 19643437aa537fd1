// Charts drawn as SVG by hand: a split bar, a line chart over time and a bar chart by week. Small enough that a
// charting library would be the larger part of the page; each chart carries a text description for screen readers.

import { h } from './dom.js';

const W = 640;

/** The traffic split: one segment per set, as wide as its weight. */
export function splitBar(traffic) {
  const label = traffic.map((t) => `${t.role} ${t.version} ${t.weight}%`).join(', ') || 'no traffic';
  const svg = h('svg:svg', { class: 'split', viewBox: '0 0 100 6', preserveAspectRatio: 'none', role: 'img', 'aria-label': 'Traffic: ' + label });
  let x = 0;
  for (const t of traffic) {
    if (t.weight <= 0) continue;
    svg.append(h('svg:rect', { x, y: 0, width: t.weight, height: 6, class: 'seg ' + t.role, 'data-role': t.role, 'data-weight': t.weight },
      h('svg:title', {}, `${t.role} ${t.version}: ${t.weight}%`)));
    x += t.weight;
  }
  const legend = h('ul', { class: 'legend' }, traffic.map((t) =>
    h('li', { 'data-role': t.role, 'data-weight': t.weight }, h('span', { class: 'swatch ' + t.role, 'aria-hidden': 'true' }),
      `${t.role} ${t.version}: ${t.weight}%`, t.replicas !== undefined ? ` (${t.ready}/${t.replicas} ready)` : '')));
  return h('div', { class: 'splitbox', 'data-split': traffic.map((t) => `${t.role}:${t.weight}`).join(',') }, svg, legend);
}

function scale(min, max, from, to) {
  const span = max - min || 1;
  return (v) => from + ((v - min) / span) * (to - from);
}

function fmt(v, unit) {
  if (v === null || v === undefined) return 'no data';
  if (unit === 'ratio') return (v * 100).toFixed(2) + '%';
  if (unit === 's') return v < 1 ? (v * 1000).toFixed(1) + ' ms' : v.toFixed(2) + ' s';
  return Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString();
}

/** A metric over time: series of { name, cls, points: [{ t, v, phase }] }. */
export function lineChart(title, series, unit) {
  const H = 180, left = 56, right = 12, top = 12, bottom = 28;
  const all = series.flatMap((s) => s.points).filter((p) => p.v !== null && p.v !== undefined);
  const times = series.flatMap((s) => s.points).map((p) => p.t);
  const t0 = Math.min(...times), t1 = Math.max(...times);
  const vmax = Math.max(0, ...all.map((p) => p.v)) * 1.15 || 1;
  const x = scale(t0, t1 === t0 ? t0 + 1 : t1, left, W - right);
  const y = scale(0, vmax, H - bottom, top);
  const described = series.map((s) => `${s.name}: ${s.points.map((p) => fmt(p.v, unit)).join(', ')}`).join('; ');
  const svg = h('svg:svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}. ${described}` });
  for (const v of [0, vmax / 2, vmax]) {
    svg.append(h('svg:line', { x1: left, x2: W - right, y1: y(v), y2: y(v), class: 'grid' }),
      h('svg:text', { x: left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, fmt(v, unit)));
  }
  svg.append(h('svg:text', { x: left, y: H - 8, class: 'axis' }, new Date(t0).toISOString().slice(11, 19) + 'Z'),
    h('svg:text', { x: W - right, y: H - 8, class: 'axis', 'text-anchor': 'end' }, new Date(t1).toISOString().slice(11, 19) + 'Z'));
  for (const s of series) {
    const pts = s.points.filter((p) => p.v !== null && p.v !== undefined);
    if (pts.length > 1) svg.append(h('svg:polyline', { class: 'line ' + s.cls, points: pts.map((p) => `${x(p.t)},${y(p.v)}`).join(' ') }));
    for (const p of pts) {
      svg.append(h('svg:circle', { cx: x(p.t), cy: y(p.v), r: 4, class: `dot ${s.cls} ${p.phase ?? ''}`, 'data-phase': p.phase ?? '' },
        h('svg:title', {}, `${s.name} ${fmt(p.v, unit)}${p.phase ? ' (' + p.phase + ')' : ''}`)));
    }
  }
  const legend = h('ul', { class: 'legend' }, series.map((s) => h('li', {}, h('span', { class: 'swatch ' + s.cls, 'aria-hidden': 'true' }), s.name)));
  return h('figure', { class: 'chartbox' }, svg, h('figcaption', {}, title), legend);
}

/** Values by week as bars, with an optional second series as a line (its own scale, 0-100%). */
export function weekChart(title, weeks, bars, line) {
  const H = 180, left = 40, right = 40, top = 12, bottom = 28;
  const n = Math.max(weeks.length, 1);
  const bmax = Math.max(1, ...weeks.map((w) => w[bars.key] ?? 0));
  const step = (W - left - right) / n;
  const y = scale(0, bmax, H - bottom, top);
  const yl = scale(0, 1, H - bottom, top);
  const svg = h('svg:svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `${title}. ${weeks.map((w) => `${w.start.slice(0, 10)}: ${w[bars.key] ?? 0} ${bars.name}${line && w[line.key] !== null ? `, ${fmt(w[line.key], 'ratio')} ${line.name}` : ''}`).join('; ')}` });
  svg.append(h('svg:line', { x1: left, x2: W - right, y1: y(0), y2: y(0), class: 'grid' }),
    h('svg:text', { x: left - 6, y: y(bmax) + 4, class: 'axis', 'text-anchor': 'end' }, String(bmax)),
    h('svg:text', { x: left - 6, y: y(0) + 4, class: 'axis', 'text-anchor': 'end' }, '0'));
  weeks.forEach((w, i) => {
    const v = w[bars.key] ?? 0;
    svg.append(h('svg:rect', { x: left + i * step + 2, y: y(v), width: Math.max(step - 4, 1), height: y(0) - y(v), class: 'bar' },
      h('svg:title', {}, `week of ${w.start.slice(0, 10)}: ${v} ${bars.name}`)));
  });
  if (line) {
    const pts = weeks.map((w, i) => [i, w[line.key]]).filter(([, v]) => v !== null && v !== undefined);
    if (pts.length > 1) svg.append(h('svg:polyline', { class: 'line failure', points: pts.map(([i, v]) => `${left + i * step + step / 2},${yl(v)}`).join(' ') }));
    for (const [i, v] of pts) svg.append(h('svg:circle', { cx: left + i * step + step / 2, cy: yl(v), r: 3, class: 'dot failure' }));
    svg.append(h('svg:text', { x: W - right + 4, y: yl(1) + 4, class: 'axis' }, '100%'));
  }
  if (weeks.length) {
    svg.append(h('svg:text', { x: left, y: H - 8, class: 'axis' }, weeks[0].start.slice(0, 10)),
      h('svg:text', { x: W - right, y: H - 8, class: 'axis', 'text-anchor': 'end' }, weeks[weeks.length - 1].start.slice(0, 10)));
  }
  const legend = h('ul', { class: 'legend' }, h('li', {}, h('span', { class: 'swatch bar', 'aria-hidden': 'true' }), bars.name),
    line ? h('li', {}, h('span', { class: 'swatch failure', 'aria-hidden': 'true' }), line.name) : null);
  return h('figure', { class: 'chartbox' }, svg, h('figcaption', {}, title), legend);
}
