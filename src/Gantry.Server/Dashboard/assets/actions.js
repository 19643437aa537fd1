// Every action is confirmed in a dialog that says what will happen; a reason or comment is asked for where the
// audit trail keeps one. The API's refusal is shown in the dialog, word for word, and changes nothing.

import { h } from './dom.js';
import { announce } from './live.js';

/**
 * A button that opens the confirmation: { label, title, text, reason: 'required' | 'optional' | undefined,
 * reasonLabel, danger, run: async (reason) => message }. onDone runs after a success.
 */
export function actionButton(spec, onDone) {
  return h('button', { type: 'button', class: spec.danger ? 'danger' : '', 'data-action': spec.id ?? spec.label, onclick: () => confirmAction(spec, onDone) }, spec.label);
}

export function confirmAction(spec, onDone) {
  const error = h('p', { class: 'error', role: 'alert' });
  const reasonId = 'reason-' + Math.random().toString(36).slice(2);
  const reason = spec.reason ? h('textarea', { id: reasonId, name: 'reason', rows: 3, required: spec.reason === 'required' }) : null;
  const ok = h('button', { type: 'submit', class: spec.danger ? 'danger' : 'primary', 'data-confirm': 'yes' }, spec.confirm ?? spec.label);
  const cancel = h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel');
  const form = h('form', { method: 'dialog' },
    h('h2', { id: reasonId + '-t' }, spec.title ?? spec.label),
    h('p', {}, spec.text),
    reason ? [h('label', { for: reasonId }, (spec.reasonLabel ?? 'Reason') + (spec.reason === 'required' ? ' (required)' : ' (optional)')), reason] : null,
    error,
    h('div', { class: 'buttons' }, ok, cancel));
  const dialog = h('dialog', { 'aria-labelledby': reasonId + '-t' }, form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = reason ? reason.value.trim() : '';
    if (spec.reason === 'required' && !text) {
      error.textContent = 'A reason is required.';
      reason.focus();
      return;
    }
    ok.disabled = true;
    try {
      const message = await spec.run(text || null);
      dialog.close();
      announce(message ?? `${spec.label}: done`);
      onDone?.();
    } catch (err) {
      error.textContent = `Refused: ${err.message}${err.code ? ` [${err.code}]` : ''}`;
      ok.disabled = false;
    }
  });
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  (reason ?? ok).focus();
}
