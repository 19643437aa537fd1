// The dashboard: sign in, then one view per address (#/...), each rendered from the API and drawn again when the
// event stream says something it shows has changed.

import { signIn, signOut, caller, ApiError } from './api.js';
import { h, fill } from './dom.js';
import { announce } from './live.js';
import * as stream from './stream.js';
import { overview } from './views/overview.js';
import { rollout } from './views/rollout.js';
import { service } from './views/service.js';
import { approvals } from './views/approvals.js';
import { gates } from './views/gates.js';
import { incidents, incident } from './views/incidents.js';
import { audit } from './views/audit.js';
import { dora } from './views/dora.js';

const routes = [
  [/^\/?$/, overview, 'Overview', 'any'],
  [/^\/rollout\/([^/]+)$/, rollout, 'Rollout', 'rollout'],
  [/^\/service\/([^/]+)$/, service, 'Service', 'service'],
  [/^\/approvals$/, approvals, 'Approvals', 'any'],
  [/^\/gates$/, gates, 'Gates', null],
  [/^\/incidents$/, incidents, 'Incidents', null],
  [/^\/incident\/([^/]+)$/, incident, 'Incident', null],
  [/^\/audit$/, audit, 'Audit', null],
  [/^\/dora$/, dora, 'DORA', null],
];

const main = document.getElementById('main');
let current = null;
let generation = 0;
let pending = null;
let unwatchState = null;

function parse() {
  const hash = location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
  const [path, search] = hash.split('?');
  for (const [pattern, view, title, live] of routes) {
    const m = pattern.exec(path);
    if (m) return { view, title, live, id: m[1] ? decodeURIComponent(m[1]) : null, params: new URLSearchParams(search ?? '') };
  }
  return null;
}

async function render(moveFocus) {
  if (!caller()) return showSignIn();
  const route = parse();
  const mine = ++generation;
  current = route;
  markNav();
  if (!route) {
    fill(main, h('h1', {}, 'Not found'), h('p', {}, 'There is no such view. '), h('a', { href: '#/' }, 'Back to the overview'));
    return;
  }
  const focused = document.activeElement?.dataset?.action ?? null;
  try {
    const content = await route.view({ refresh: () => render(false) }, route.id, route.params);
    if (mine !== generation) return;
    fill(main, content);
    document.title = `${route.title}${route.id ? ' ' + route.id : ''} · Gantry`;
    main.dataset.view = route.title.toLowerCase();
    main.dataset.rendered = String(Date.now());
    if (moveFocus) main.focus();
    else if (focused) main.querySelector(`[data-action="${CSS.escape(focused)}"]`)?.focus();
  } catch (e) {
    if (mine !== generation) return;
    if (e instanceof ApiError && e.status === 401) {
      doSignOut('Your token is no longer accepted: ' + e.message);
      return;
    }
    fill(main, h('h1', {}, route.title), h('p', { class: 'error', role: 'alert' }, `Could not load this view: ${e.message}${e.code ? ` [${e.code}]` : ''}`));
  }
}

function markNav() {
  const path = location.hash || '#/';
  for (const a of document.querySelectorAll('#nav a')) {
    const here = a.getAttribute('href') === path.split('?')[0] || (a.getAttribute('href') === '#/' && /^#\/(rollout|service)\//.test(path));
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** Draws the view again when an event bears on it: at most once per quarter second, however many events come. */
function onEvent(event) {
  if (!current?.live) return;
  if (current.live === 'rollout' && event.rolloutId !== current.id) return;
  if (current.live === 'service' && event.service !== current.id) return;
  if (pending) return;
  pending = setTimeout(() => { pending = null; render(false); }, 250);
}

function showSignIn(message) {
  document.getElementById('nav').hidden = true;
  fill(document.getElementById('session'));
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const form = h('form', { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to Gantry'),
    h('label', { for: 'token' }, 'API token'), input,
    h('p', { class: 'muted' }, 'Use a token from "gantry token create" (or the server\'s data directory, admin.token). It stays in this page\'s memory only: reloading the page signs you out.'),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const who = await signIn(input.value.trim());
      input.value = '';
      showSession(who);
      stream.start();
      announce(`signed in as ${who.name}`);
      await render(true);
    } catch (err) {
      error.textContent = `Sign-in refused: ${err.message}`;
      input.focus();
    }
  });
  fill(main, form);
  main.dataset.view = 'signin';
  input.focus();
}

function showSession(who) {
  document.getElementById('nav').hidden = false;
  const state = h('span', { class: 'stream', 'data-stream': 'closed' }, 'offline');
  unwatchState?.();
  unwatchState = stream.onState((s) => {
    state.dataset.stream = s;
    state.textContent = s === 'live' ? 'live' : s === 'reconnecting' ? 'reconnecting…' : 'offline';
    if (s === 'refused' && caller()) doSignOut('Your token is no longer accepted: sign in again.');
  });
  fill(document.getElementById('session'),
    state, ' ',
    h('span', { 'data-user': who.name }, `${who.name} (${(who.roles ?? []).join(', ')}${who.environments?.length ? ' in ' + who.environments.join(', ') : ''})`), ' ',
    h('button', { type: 'button', onclick: () => doSignOut('Signed out.') }, 'Sign out'));
}

function doSignOut(message) {
  stream.stop();
  signOut();
  current = null;
  // A view still loading for the session that ended is not drawn over the sign-in form (it would show the last
  // caller's data after sign-out), and one due to be drawn again for its events does not draw the form again
  // under the next person's typing.
  generation++;
  clearTimeout(pending);
  pending = null;
  showSignIn(message);
}

stream.onEvent(onEvent);
document.querySelector('.skip').addEventListener('click', (e) => { e.preventDefault(); main.focus(); });
window.addEventListener('hashchange', () => {
  if (location.hash === '#main') return;
  render(true);
});
render(true);
