// Quality gate evaluations, newest first: the decision and score, and every category with its criteria.

import { get, seg } from '../api.js';
import { h, section, table, row, when } from '../dom.js';

const tones = { pass: 'good', warning: 'warn', fail: 'bad' };
const outcome = (o) => { const k = String(o).toLowerCase(); return h('span', { class: `badge ${tones[k] ?? 'info'}`, 'data-outcome': k }, k); };

export async function gates() {
  const evaluations = await get('/gates/evaluations?limit=50');
  return [
    h('h1', {}, 'Gate evaluations'),
    evaluations.length === 0 ? h('p', {}, 'No gate has been evaluated.') : null,
    evaluations.map((e) => section(`${e.gate}: ${e.service} ${e.version}`,
      h('p', {}, h('span', { class: 'badge ' + (e.decision === 'deploy' ? 'good' : e.decision === 'remediate' ? 'warn' : 'bad') }, String(e.decision).toUpperCase()),
        ` score ${Number(e.score).toFixed(1)} at ${when(e.at)}`, e.by ? ` by ${e.by}` : '', e.override ? `; overridden by ${e.override.by}: ${e.override.reason}` : ''),
      h('p', { class: 'verdict' }, e.reason),
      e.categories.map((c) => table(`${c.name}: ${c.missing ? 'missing' : Number(c.score).toFixed(1)} (weight ${c.weight}); ${c.figures}`,
        ['Criterion', 'Outcome', 'Value', 'Previous', 'Blocking', 'Sentence'],
        c.criteria.map((k) => row(k.measure, outcome(k.outcome), k.value ?? '', k.previous ?? '', k.blocking ? 'yes' : 'no', k.sentence)))),
      h('p', {}, h('a', { href: '#/service/' + seg(e.service) }, `History of ${e.service}`)))),
  ];
}
