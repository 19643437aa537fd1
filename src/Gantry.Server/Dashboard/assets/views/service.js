// A service's history in every environment: its rollouts, newest first, and its releases.

import { get, seg } from '../api.js';
import { h, phase, section, table, row, when } from '../dom.js';

export async function service(ctx, name) {
  const [rollouts, releases] = await Promise.all([get(`/rollouts?service=${seg(name)}&limit=200`), get(`/services/${seg(name)}/releases`)]);
  return [
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Overview'), ' / ', name),
    h('h1', {}, `${name}: history`),
    section('Rollouts', table(`Rollouts of ${name}, newest first`, ['Rollout', 'Environment', 'Version', 'Kind', 'Phase', 'By', 'Started', 'Finished'],
      rollouts.map((r) => row(h('a', { href: '#/rollout/' + seg(r.id) }, r.id), r.environment, r.release.version, r.kind, phase(r.phase),
        r.createdBy ?? '', when(r.createdAt), when(r.finishedAt))))),
    section('Releases', table(`Releases of ${name}, as first deployed`, ['Version', 'Variables', 'Commit', 'First deployed'],
      releases.map((x) => row(x.release.version, (x.release.variables ?? []).map((v) => `${v.key}=${v.value}`).join(', '),
        x.release.commitSha ?? '', when(x.createdAt))))),
  ];
}
