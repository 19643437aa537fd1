// Overview: every service by environment with its release, phase, split and instance health; what needs
// attention; and what waits on the caller (approvals they may give, checklists they may sign).

import { get, may, caller, seg } from '../api.js';
import { h, phase, phaseName, section, table } from '../dom.js';
import { splitBar } from '../charts.js';

const attention = new Set(['failed', 'aborted', 'paused', 'rolledBack']);

export async function overview() {
  // Four reads however many services: each environment brings its newest rollout's split and message.
  const [services, active, instances, approvals] = await Promise.all([
    get('/services'), get('/rollouts?active=true&limit=500'), get('/instances'), get('/approvals')]);
  const releases = new Map(active.map((r) => [r.id, r.release.version]));
  const health = new Map();
  for (const i of instances) {
    const key = `${i.service}/${i.environment}`;
    const e = health.get(key) ?? { ready: 0, total: 0, restarts: 0 };
    e.total++;
    if (String(i.phase).toLowerCase() === 'ready') e.ready++;
    e.restarts += i.restarts;
    health.set(key, e);
  }

  const rows = [];
  const needs = [];
  for (const s of services) {
    for (const env of s.environments) {
      const traffic = env.traffic ?? (env.stable ? [{ role: 'stable', version: env.stable, weight: 100 }] : []);
      const coming = releases.get(env.latestRollout);
      const hl = health.get(`${s.name}/${env.name}`) ?? { ready: 0, total: 0, restarts: 0 };
      const link = env.latestRollout ? h('a', { href: '#/rollout/' + seg(env.latestRollout) }, env.latestRollout) : 'none';
      rows.push(h('tr', { 'data-service': s.name, 'data-environment': env.name },
        h('th', { scope: 'row' }, h('a', { href: '#/service/' + seg(s.name) }, s.name)),
        h('td', {}, env.name),
        h('td', {}, env.stable ?? 'none', coming && coming !== env.stable ? ` → ${coming}` : ''),
        h('td', {}, env.phase ? phase(env.phase) : 'none', ' ', link, env.maintenance ? h('span', { class: 'badge warn' }, 'maintenance') : null),
        h('td', { class: 'splitcell' }, traffic.length ? splitBar(traffic) : 'no traffic'),
        h('td', {}, `${hl.ready}/${hl.total} ready`, hl.restarts ? `, ${hl.restarts} restarts` : '')));
      if (env.phase && attention.has(phaseName(env.phase))) {
        needs.push(h('li', { 'data-rollout': env.latestRollout }, phase(env.phase), ' ', h('a', { href: '#/rollout/' + seg(env.latestRollout) }, `${s.name} in ${env.name}`),
          env.message ? `: ${env.message}` : ''));
      }
    }
  }

  const mine = approvals.filter((a) => a.waiting && a.canDecide).map((a) =>
    h('li', {}, h('a', { href: '#/approvals' }, `Approve ${a.service} ${a.version} to ${a.environment}`),
      `, deployed by ${a.requestedBy ?? 'unknown'}: ${a.status?.message ?? ''}`));
  for (const r of active.filter((r) => r.awaitsChecklist && may('approver', r.environment) && r.createdBy !== caller()?.name)) {
    mine.push(h('li', {}, h('a', { href: '#/rollout/' + seg(r.id) }, `Sign the checklist of ${r.service} ${r.release.version} to ${r.environment}`)));
  }

  return [
    h('h1', {}, 'Overview'),
    h('div', { class: 'cards' },
      section('Waiting on me', mine.length ? h('ul', { class: 'inbox' }, mine) : h('p', {}, 'Nothing waits on you.')),
      section('Needs attention', needs.length ? h('ul', { class: 'inbox' }, needs) : h('p', {}, 'Nothing failed, aborted or paused.'))),
    section('Services', table('Every service by environment', ['Service', 'Environment', 'Release', 'Rollout', 'Traffic', 'Instances'], rows)),
  ];
}
