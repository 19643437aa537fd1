// Incidents: the list, and one incident's timeline with acknowledge, mitigate and resolve.

import { get, post, may, seg } from '../api.js';
import { h, phase, section, table, row, when } from '../dom.js';
import { actionButton } from '../actions.js';

export async function incidents() {
  const list = await get('/incidents?limit=200');
  return [
    h('h1', {}, 'Incidents'),
    table('Incidents, newest first', ['Incident', 'Title', 'Severity', 'Status', 'Service', 'Opened'],
      list.map((i) => row(h('a', { href: '#/incident/' + i.id }, `INC-${i.id}`), i.title, String(i.severity).toUpperCase(), phase(i.status),
        i.service ? `${i.service}${i.environment ? ' in ' + i.environment : ''}` : '', `${when(i.openedAt)} by ${i.openedBy}`))),
  ];
}

const next = { open: ['acknowledge', 'mitigate', 'resolve'], acknowledged: ['mitigate', 'resolve'], mitigated: ['resolve'], resolved: [] };

export async function incident(ctx, id) {
  const view = await get('/incidents/' + seg(id));
  const i = view.incident;
  const responder = may('deployer', i.environment) || may('approver', i.environment);
  return [
    h('p', { class: 'crumbs' }, h('a', { href: '#/incidents' }, 'Incidents'), ' / ', `INC-${i.id}`),
    h('h1', {}, `INC-${i.id}: ${i.title}`),
    h('p', { class: 'status' }, phase(i.status), ` ${String(i.severity).toUpperCase()}`, i.service ? `, ${i.service}${i.environment ? ' in ' + i.environment : ''}` : '',
      i.rolloutId ? [', caused by ', h('a', { href: '#/rollout/' + seg(i.rolloutId) }, i.rolloutId)] : ''),
    h('p', {}, view.targets, view.nextLevel ? `; escalates to ${view.nextLevel} at ${when(view.nextEscalationAt)}` : ''),
    i.impact ? h('p', {}, `Impact: ${i.impact}`) : null,
    responder && next[i.status]?.length
      ? h('div', { class: 'actions', role: 'group', 'aria-label': 'Incident steps' }, next[i.status].map((step) =>
        actionButton({ id: step, label: step[0].toUpperCase() + step.slice(1), text: `${step} INC-${i.id}.`, reason: 'optional', reasonLabel: 'Note',
          run: async (note) => { await post(`/incidents/${seg(id)}/${step}`, { reason: note }); return `INC-${i.id}: ${step}d`; } }, () => ctx.refresh())))
      : null,
    section('Timeline', h('ol', { class: 'timeline' }, view.timeline.map((t) =>
      h('li', {}, h('time', { datetime: t.at }, when(t.at)), ' ', h('strong', {}, t.kind), ` by ${t.by}: `, t.text,
        t.rolloutId ? [' (', h('a', { href: '#/rollout/' + seg(t.rolloutId) }, t.rolloutId), ')'] : '')))),
  ];
}
