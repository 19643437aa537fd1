// The approvals inbox: every rollout waiting for approval, with the rule's verdict so far; approve or reject with a
// comment where the caller may decide, and why not where they may not.

import { get, post, seg } from '../api.js';
import { h, phase, section, when } from '../dom.js';
import { actionButton } from '../actions.js';

export async function approvals(ctx) {
  const waiting = await get('/approvals');
  return [
    h('h1', {}, 'Approvals'),
    waiting.length === 0 ? h('p', {}, 'No rollout is waiting for approval.') : null,
    waiting.map((a) => section(`${a.service} ${a.version} to ${a.environment}`,
      h('p', {}, phase(a.phase), ' ', h('a', { href: '#/rollout/' + seg(a.rolloutId) }, a.rolloutId), `, deployed by ${a.requestedBy ?? 'unknown'}`),
      h('p', { class: 'verdict' }, a.status?.message ?? ''),
      a.decisions.length ? h('ul', {}, a.decisions.map((d) => h('li', {}, `${d.decision} by ${d.by} at ${when(d.at)}`, d.comment ? `: ${d.comment}` : ''))) : null,
      a.canDecide
        ? h('div', { class: 'actions', role: 'group', 'aria-label': `Decide on ${a.rolloutId}` },
          actionButton({ id: 'approve', label: 'Approve', text: `Approve ${a.service} ${a.version} to ${a.environment}.`, reason: 'optional', reasonLabel: 'Comment',
            run: async (comment) => { const v = await post(`/rollouts/${seg(a.rolloutId)}/approve`, { reason: comment }); return `approved: ${v.status?.message ?? a.rolloutId}`; } }, () => ctx.refresh()),
          actionButton({ id: 'reject', label: 'Reject', danger: true, text: `Reject ${a.service} ${a.version} to ${a.environment}: the rollout ends.`, reason: 'required', reasonLabel: 'Comment',
            run: async (comment) => { await post(`/rollouts/${seg(a.rolloutId)}/reject`, { reason: comment }); return `rejected: ${a.rolloutId}`; } }, () => ctx.refresh()))
        : h('p', { class: 'muted' }, `You cannot decide: ${a.cannotDecide ?? 'not allowed'}`))),
  ];
}
