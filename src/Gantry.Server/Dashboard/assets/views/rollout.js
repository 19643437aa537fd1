// One rollout: its steps with the current one marked, the live split, the instances, each analysis metric as a
// chart of canary against baseline with its verdict, approval and checklist, the event timeline, and the
// commands the caller's roles allow.

import { get, maybe, post, may, maySign, seg } from '../api.js';
import { h, phase, section, table, row, when } from '../dom.js';
import { splitBar, lineChart } from '../charts.js';
import { actionButton } from '../actions.js';

const ended = new Set(['succeeded', 'aborted', 'rolledBack', 'failed']);
const units = { 'error-rate': 'ratio' };

function unitOf(metric) {
  if (units[metric.name]) return units[metric.name];
  if (/latency|duration|p9\d/.test(metric.name)) return 's';
  return '';
}

export async function rollout(ctx, id) {
  const path = '/rollouts/' + seg(id);
  // Retry and rollback act on the service's newest rollout, so they are offered on that one only: asked for as soon
  // as the rollout says its service, while the other reads are still on their way.
  const read = get(path);
  const newestOf = read.then((v) => maybe(`/services/${seg(v.rollout.service)}/rollout?environment=${seg(v.rollout.environment)}`));
  const [view, runs, events, approval, checklist, newest] = await Promise.all([
    read, get(path + '/analysis'), get(path + '/events?limit=1000'), maybe(path + '/approval'), maybe(path + '/checklist'), newestOf]);
  const r = view.rollout;
  const isNewest = newest?.rollout.id === r.id;
  return [
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Overview'), ' / ', h('a', { href: '#/service/' + seg(r.service) }, r.service), ' / ', r.id),
    h('h1', {}, `${r.service} ${r.release.version} in ${r.environment}`),
    h('p', { class: 'status' }, phase(r.phase), ' ', h('span', { 'data-message': '' }, r.message)),
    h('p', { class: 'meta' }, `${r.kind} by ${r.createdBy ?? 'unknown'} at ${when(r.createdAt)}; ${r.strategy}`,
      r.previousVersion ? `; replaces ${r.previousVersion}` : '', r.emergency ? `; emergency: ${r.emergencyReason ?? ''}` : ''),
    commands(view, ctx, isNewest),
    section('Traffic', splitBar(view.traffic)),
    section('Steps', view.steps.length
      ? h('ol', { class: 'steps' }, view.steps.map((s) => h('li', { class: s.status, 'data-status': s.status, 'aria-current': s.status === 'current' ? 'step' : null },
        h('span', { class: 'visually-hidden' }, s.status + ': '), s.text)))
      : h('p', {}, 'This strategy has no steps.')),
    section('Instances', table('Instances of the rollout\'s sets', ['Instance', 'Version', 'Phase', 'Restarts', 'Address', 'Last error'],
      view.instances.map((i) => row(i.id, i.version, phase(i.phase), String(i.restarts), i.address ? `${i.address.host}:${i.address.port}` : '', i.lastError ?? '')))),
    approvalSection(approval),
    checklistSection(r, checklist, ctx),
    section('Analysis', runs.length ? runs.map(analysisRun) : h('p', {}, 'No analysis has run.')),
    section('Events', h('ol', { class: 'timeline', reversed: true }, [...events].reverse().map((e) =>
      h('li', { 'data-type': e.type }, h('time', { datetime: e.time }, when(e.time)), ' ', h('strong', {}, e.type), ': ', e.message)))),
  ];
}

function commands(view, ctx, isNewest) {
  const r = view.rollout;
  if (!may('deployer', r.environment)) return null;
  const target = '/rollouts/' + seg(r.id);
  const done = () => ctx.refresh();
  const buttons = [];
  const send = (command, body) => async (reason) => { await post(`${target}/${command}`, { ...body, reason }); return `${command}: sent for ${r.id}`; };
  if (r.phase === 'awaitingApproval' || r.phase === 'pending') {
    // Nothing runs yet (approvals, a checklist, a window): it can only be called off.
    buttons.push(actionButton({ id: 'abort', label: 'Abort', danger: true, text: `Abort ${r.id}: nothing of ${r.release.version} has started.`, reason: 'required', run: send('abort', {}) }, done));
  } else if (!ended.has(r.phase)) {
    buttons.push(actionButton({ id: 'promote', label: 'Promote', text: `Move ${r.id} past its current step.`, reason: 'optional', run: send('promote', {}) }, done));
    buttons.push(actionButton({ id: 'promote-full', label: 'Promote fully', text: `Skip every remaining step and analysis of ${r.id}: ${r.release.version} takes all traffic.`, reason: 'optional', run: send('promote', { full: true }) }, done));
    if (r.phase === 'paused') buttons.push(actionButton({ id: 'resume', label: 'Resume', text: `Resume ${r.id}.`, reason: 'optional', run: send('resume', {}) }, done));
    else buttons.push(actionButton({ id: 'pause', label: 'Pause', text: `Pause ${r.id} at its current step.`, reason: 'optional', run: send('pause', {}) }, done));
    buttons.push(actionButton({ id: 'abort', label: 'Abort', danger: true, text: `Abort ${r.id}: traffic goes back to ${r.previousVersion ?? 'the stable release'}.`, reason: 'required', run: send('abort', {}) }, done));
  } else if (isNewest) {
    if (r.phase === 'aborted' || r.phase === 'failed') {
      buttons.push(actionButton({ id: 'retry', label: 'Retry', text: `Start ${r.id} again from its first step.`, reason: 'optional', run: send('retry', {}) }, done));
    }
    if (r.previousVersion && r.phase === 'succeeded') {
      buttons.push(actionButton({ id: 'rollback', label: 'Roll back', danger: true, text: `Roll ${r.service} in ${r.environment} back to ${r.previousVersion}.`, reason: 'required',
        run: async (reason) => {
          const made = await post(`/services/${seg(r.service)}/rollback`, { environment: r.environment, reason });
          location.hash = '#/rollout/' + seg(made.rollout.id);
          return `rollback started: ${made.rollout.id}`;
        } }, done));
    }
  }
  return buttons.length ? h('div', { class: 'actions', role: 'group', 'aria-label': 'Commands' }, buttons) : null;
}

function approvalSection(approval) {
  if (!approval || (!approval.status && approval.decisions.length === 0)) return null;
  return section('Approval',
    h('p', {}, approval.status ? approval.status.message : 'No approval rule here.'),
    approval.decisions.length ? h('ul', {}, approval.decisions.map((d) => h('li', {}, `${d.decision} by ${d.by} at ${when(d.at)}`, d.comment ? `: ${d.comment}` : ''))) : null,
    approval.waiting ? h('p', {}, approval.canDecide ? h('a', { href: '#/approvals' }, 'Decide in the approvals inbox') : `You cannot decide: ${approval.cannotDecide ?? ''}`) : null);
}

function checklistSection(r, checklist, ctx) {
  if (!checklist || checklist.items.length === 0) return null;
  return section('Checklist', table('Pre-deployment checklist', ['Item', 'Kind', 'Required', 'Passed', 'Message', ''],
    checklist.items.map((i) => row(i.name, i.kind, i.required ? 'yes' : 'no', i.passed ? 'yes' : 'no', i.message,
      !i.passed && i.kind === 'signoff' && maySign(/sign-off by ([^:\s]+)/.exec(i.message)?.[1], r.environment, r.createdBy)
        ? actionButton({ id: 'signoff', label: `Sign off ${i.name}`, text: `Sign off "${i.name}" for ${r.id}.`,
          run: async () => { await post(`/rollouts/${seg(r.id)}/checklist/${seg(i.name)}/signoff`, {}); return `${i.name}: signed off`; } }, () => ctx.refresh())
        : ''))));
}

function analysisRun(run) {
  return h('article', { class: 'run', 'data-run': run.key, 'data-phase': run.phase },
    h('h3', {}, `${run.templates.join(', ')} (${run.purpose}) `, phase(run.phase)),
    h('p', { class: 'verdict' }, run.message),
    h('div', { class: 'charts' }, run.metrics.map((m) => {
      const canary = m.measurements.map((x) => ({ t: Date.parse(x.at), v: x.value, phase: x.phase }));
      const series = [{ name: 'canary', cls: 'canary', points: canary }];
      if (m.measurements.some((x) => x.baseline !== null && x.baseline !== undefined)) {
        series.push({ name: 'baseline', cls: 'baseline', points: m.measurements.map((x) => ({ t: Date.parse(x.at), v: x.baseline })) });
      }
      return h('div', { class: 'metric', 'data-metric': m.name, 'data-phase': m.phase },
        m.measurements.length ? lineChart(`${m.name}: ${m.phase}`, series, unitOf(m)) : h('p', {}, `${m.name}: no measurement yet`),
        h('p', { class: 'sentence' }, phase(m.phase), ' ', m.lastSentence ?? ''));
    })));
}
