// What the page says to everyone, sighted or not: the status line (a polite live region).

let timer = null;

/** Says a line for a few seconds. */
export function announce(text) {
  const live = document.getElementById('live');
  if (!live) return;
  live.textContent = text;
  clearTimeout(timer);
  timer = setTimeout(() => { live.textContent = ''; }, 6000);
}
