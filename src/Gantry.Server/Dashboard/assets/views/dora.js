// DORA's four keys with their bands, and the weekly trend as charts.

import { get, query } from '../api.js';
import { h, section } from '../dom.js';
import { weekChart, lineChart } from '../charts.js';

const keys = [
  ['deploymentFrequency', 'Deployment frequency'],
  ['leadTimeMedian', 'Lead time for changes (median)'],
  ['changeFailureRate', 'Change failure rate'],
  ['timeToRestore', 'Time to restore service'],
];

export async function dora(ctx, _id, params) {
  const service = params.get('service') ?? '';
  const environment = params.get('environment') ?? '';
  const since = params.get('since') ?? '';
  const report = await get('/dora' + query({ service, environment, since }));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the report' },
    h('label', { for: 'd-service' }, 'Service'), h('input', { id: 'd-service', name: 'service', value: service }),
    h('label', { for: 'd-env' }, 'Environment'), h('input', { id: 'd-env', name: 'environment', value: environment }),
    h('label', { for: 'd-since' }, 'Since'), h('input', { id: 'd-since', name: 'since', value: since, placeholder: '90d' }),
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = '#/dora' + query({ service: form.service.value.trim(), environment: form.environment.value.trim(), since: form.since.value.trim() });
  });
  const weeks = report.weeks ?? [];
  const hours = weeks.filter((w) => w.leadTimeMedianHours !== null || w.timeToRestoreMedianHours !== null);
  return [
    h('h1', {}, 'DORA metrics'),
    form,
    h('p', { class: 'meta' }, `${report.service ?? 'every service'}, ${report.environment ?? 'every environment'}, ${report.from.slice(0, 10)} to ${report.to.slice(0, 10)}`),
    h('div', { class: 'cards' }, keys.map(([key, title]) => {
      const m = report[key];
      return h('section', { class: 'card', 'aria-label': title, 'data-key': key },
        h('h2', {}, title), h('p', { class: 'big' }, m.band ? h('span', { class: 'badge band ' + m.band }, m.band) : h('span', { class: 'badge info' }, 'no band')),
        h('p', {}, m.text));
    })),
    section('Weekly trend',
      weekChart('Deployments per week, and change failure rate', weeks, { key: 'deployments', name: 'deployments' }, { key: 'changeFailureRate', name: 'change failure rate' }),
      hours.length > 0
        ? lineChart('Lead time and time to restore, median hours per week', [
          { name: 'lead time (h)', cls: 'canary', points: weeks.map((w) => ({ t: Date.parse(w.start), v: w.leadTimeMedianHours })) },
          { name: 'time to restore (h)', cls: 'baseline', points: weeks.map((w) => ({ t: Date.parse(w.start), v: w.timeToRestoreMedianHours })) }], '')
        : h('p', {}, 'No lead time or restore time in this period.')),
  ];
}
