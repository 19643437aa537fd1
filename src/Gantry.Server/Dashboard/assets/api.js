// The API as the page calls it. The token lives in this module's memory only: never in storage, a cookie or a
// URL, so a reload signs out, and no other site can act with it.

let token = null;
let principal = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? null;
  }
}

export const base = '/api/v1';

/** Signs in: the token is checked by asking who it belongs to; nothing is kept when it is refused. */
export async function signIn(secret) {
  const answer = await fetch(base + '/whoami', { headers: { Authorization: 'Bearer ' + secret } });
  if (!answer.ok) throw new ApiError(answer.status, await problem(answer));
  token = secret;
  principal = await answer.json();
  return principal;
}

export function signOut() {
  token = null;
  principal = null;
}

export const caller = () => principal;

/** Whether the caller may act with a role (in an environment): the page hides what it may not; the API still decides. */
export function may(role, environment) {
  if (!principal) return false;
  if (role === 'viewer') return true;
  const roles = principal.roles ?? [];
  if (!roles.includes('admin') && !roles.includes(role)) return false;
  const envs = principal.environments ?? [];
  return envs.length === 0 || !environment || envs.includes(environment);
}

/** Whether the caller may sign a checklist item off: an approver there, in the item's group, and not the deployer. */
export function maySign(group, environment, deployer) {
  return may('approver', environment) && (principal.groups ?? []).includes(group) && principal.name !== deployer;
}

export function headers(extra = {}) {
  return { Authorization: 'Bearer ' + token, Accept: 'application/json', ...extra };
}

async function problem(answer) {
  try { return await answer.json(); } catch { return null; }
}

async function call(method, path, body, signal) {
  const init = { method, headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }), signal };
  if (body !== undefined) init.body = JSON.stringify(body);
  const answer = await fetch(base + path, init);
  if (!answer.ok) throw new ApiError(answer.status, await problem(answer));
  const type = answer.headers.get('Content-Type') ?? '';
  return type.includes('json') ? answer.json() : answer.text();
}

export const get = (path, signal) => call('GET', path, undefined, signal);
export const post = (path, body = {}) => call('POST', path, body);

/** A GET whose 404 means "there is none" (a rollout without a checklist or an approval rule). */
export async function maybe(path) {
  try { return await get(path); } catch (e) { if (e.status === 404) return null; throw e; }
}

/** A path segment, escaped. */
export const seg = (s) => encodeURIComponent(s);

/** Query text from the values that are set. */
export function query(values) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? '?' + text : '';
}
