// The live event stream (server-sent events over fetch, so that the token goes in a header, not the URL). The first
// connect asks for what comes next only; after a drop (a server restart) the page connects again with the id of the
// last event it saw as Last-Event-ID, so nothing committed in between is missed.

import { base, headers } from './api.js';

let controller = null;
let lastId = null;
const listeners = new Set();
let state = 'closed';
const stateListeners = new Set();

export const onEvent = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };
export const onState = (fn) => { stateListeners.add(fn); fn(state); return () => stateListeners.delete(fn); };
export const lastEventId = () => lastId;

function setState(s) {
  state = s;
  for (const fn of stateListeners) fn(s);
}

export function start() {
  stop();
  controller = new AbortController();
  run(controller.signal);
}

export function stop() {
  controller?.abort();
  controller = null;
  lastId = null;
  setState('closed');
}

async function run(signal) {
  let delay = 500;
  while (!signal.aborted) {
    try {
      const h = headers({ Accept: 'text/event-stream' });
      if (lastId !== null) h['Last-Event-ID'] = String(lastId);
      const answer = await fetch(base + '/events' + (lastId === null ? '?after=-1' : ''), { headers: h, signal, cache: 'no-store' });
      if (answer.status === 401) {
        // The token was revoked or expired: asking again would only fill the audit trail with failures.
        setState('refused');
        return;
      }
      if (!answer.ok || !answer.body) throw new Error('HTTP ' + answer.status);
      if (lastId === null) lastId = 0;
      setState('live');
      delay = 500;
      await read(answer.body, signal);
    } catch {
      if (signal.aborted) return;
    }
    setState('reconnecting');
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5000);
  }
}

async function read(body, signal) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      dispatch(block);
    }
  }
}

function dispatch(block) {
  let id = null;
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('id:')) id = line.slice(3).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (id !== null && /^\d+$/.test(id)) lastId = Number(id);
  if (data.length === 0) return;
  let event;
  try { event = JSON.parse(data.join('\n')); } catch { return; }
  for (const fn of listeners) fn(event);
}
