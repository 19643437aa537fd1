// The audit trail: filtered by target and time, verified end to end, exported whole as JSON lines.

import { get, headers, base, query } from '../api.js';
import { h, fill, section, table, row, when } from '../dom.js';
import { announce } from '../live.js';

export async function audit(ctx, _id, params) {
  const target = params.get('target') ?? '';
  const since = params.get('since') ?? '';
  const events = await get('/audit' + query({ target, since: since ? new Date(since).toISOString() : '', limit: 200 }));
  const result = h('p', { class: 'verdict', role: 'status' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the audit trail' },
    h('label', { for: 'f-target' }, 'Target'), h('input', { id: 'f-target', name: 'target', value: target, placeholder: 'shop/production' }),
    h('label', { for: 'f-since' }, 'Since'), h('input', { id: 'f-since', name: 'since', type: 'datetime-local', value: since }),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = '#/audit' + query({ target: form.target.value.trim(), since: form.since.value });
  });
  return [
    h('h1', {}, 'Audit trail'),
    form,
    h('div', { class: 'actions' },
      h('button', { type: 'button', 'data-action': 'verify', onclick: async () => {
        const v = await get('/audit/verify');
        fill(result, h('span', { class: 'badge ' + (v.intact ? 'good' : 'bad') }, v.intact ? 'intact' : 'broken'), ' ', v.message);
        announce(v.message);
      } }, 'Verify the chain'),
      h('button', { type: 'button', 'data-action': 'export', onclick: exportAll }, 'Export (JSON lines)')),
    result,
    section('Events', table('Audit events, newest first', ['#', 'At', 'Actor', 'Action', 'Target', 'Detail', 'Reason', 'Source'],
      events.map((e) => row(String(e.seq), when(e.at), e.actor, e.action, e.target, e.detail, e.reason ?? '', e.source ?? '')))),
  ];
}

async function exportAll() {
  const answer = await fetch(base + '/audit/export', { headers: headers() });
  const blob = await answer.blob();
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: 'gantry-audit.jsonl' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  announce(`exported ${blob.size} bytes of audit events`);
}
