// DOM helpers. Every text from the API goes in through textContent (never innerHTML), so an audit
// event's details or a grant's reason can never become markup or script on this page.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** RFC 3339 time as "2026-03-06 09:00:00 UTC" (the service's times are UTC; so are the console's). */
export function time(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function timeEl(iso) {
  return iso ? h('time', { datetime: iso }, time(iso)) : '–';
}

/** Seconds as the two largest units: "3d 4h", "5m 2s", "40s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  let s = Math.max(0, Math.round(Math.abs(seconds)));
  const units = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];
  const parts = [];
  for (const [u, n] of units) {
    if (s >= n || (u === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(s / n)}${u}`);
      s %= n;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

const STATES = {
  OK: ['state-ok', '✓'], GO: ['state-ok', '✓'], PASS: ['state-ok', '✓'], COMPLETED: ['state-ok', '✓'],
  SUCCESS: ['state-ok', '✓'], CURRENT: ['state-ok', '●'], VALID: ['state-ok', '✓'], WRITTEN: ['state-ok', '✓'],
  DUE_SOON: ['state-warn', '⚠'], WARN: ['state-warn', '⚠'], PENDING: ['state-warn', '…'], RUNNING: ['state-warn', '↻'],
  PREVIOUS: ['state-warn', '◐'], DRIFT: ['state-warn', '⚠'],
  OVERDUE: ['state-bad', '✕'], FAIL: ['state-bad', '✕'], FAILED: ['state-bad', '✕'], 'NO-GO': ['state-bad', '✕'],
  DENIED: ['state-bad', '⛔'], REVOKED: ['state-bad', '⛔'], INVALID: ['state-bad', '✕'], CONFLICT: ['state-bad', '✕'],
  ROLLED_BACK: ['state-warn', '↶'], RETIRED: ['state-neutral', '○'],
  APPROVED: ['state-ok', '✓'], REVIEWED: ['state-ok', '✓'], EXPIRED: ['state-neutral', '⌛'],
  UNREVIEWED: ['state-warn', '⚠'],
};

/** A state as a badge: the word itself, an icon and a colour (never the colour alone). */
export function badge(word) {
  const [cls, icon] = STATES[word] || ['state-neutral', '•'];
  return h('span', { class: `state ${cls}` }, h('span', { 'aria-hidden': 'true' }, icon), word || '–');
}

export const TERMINAL = new Set(['COMPLETED', 'FAILED', 'ROLLED_BACK']);

/** A datetime-local input's value (read as UTC) as RFC 3339, or '' when empty. */
export function utcFromInput(value) {
  if (!value) return '';
  const withSeconds = value.length === 16 ? `${value}:00` : value;
  return `${withSeconds}Z`;
}

export function inputFromDate(d) {
  return d.toISOString().slice(0, 16);
}

export function table(caption, headers, rows) {
  // A table may scroll sideways on a phone: its wrapper is a named region the keyboard can reach and scroll.
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: 0 },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length }, 'Nothing to show.')))));
}

export function field(label, control) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control);
}

export function select(name, options, value) {
  return h('select', { name },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}
