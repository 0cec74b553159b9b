// ltc-secrets web console: every view and action is a call of /api/v1 with the signed-in user's token.
// Never calls the env-file fetch endpoint and never shows a secret value (the API returns none elsewhere).
import { api, ApiProblem, clearToken, download, query, seg, setToken, token, whenUnauthorized } from './api.js';
import { badge, clear, duration, field, h, inputFromDate, select, table, TERMINAL, time, timeEl, utcFromInput } from './dom.js';
import { disposeCharts, dueBars, versionTimeline } from './charts.js';
import { openAction, problemText } from './actions.js';

const view = document.getElementById('view');
const signIn = document.getElementById('sign-in');
const nav = document.getElementById('nav');
const announcer = document.getElementById('announce');
let timers = [];

function announce(text) {
  announcer.textContent = text;
}

function stopTimers() {
  timers.forEach((t) => clearTimeout(t));
  timers = [];
}

function later(fn, ms) {
  timers.push(setTimeout(fn, ms));
}

// ---- sign-in / sign-out --------------------------------------------------------------------------------

function showSignIn(message) {
  stopTimers();
  disposeCharts();
  clear(view);
  view.hidden = true;
  nav.hidden = true;
  signIn.hidden = false;
  document.getElementById('sign-in-error').textContent = message || '';
  document.getElementById('token').focus();
}

function signOut(message) {
  clearToken();
  document.getElementById('token').value = '';
  showSignIn(message);
}

whenUnauthorized(() => signOut('The service refused the token (expired, revoked or mistyped): sign in again.'));

document.getElementById('sign-out').addEventListener('click', () => signOut('Signed out.'));

document.getElementById('sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = document.getElementById('token');
  const value = input.value.trim();
  const error = document.getElementById('sign-in-error');
  if (!value) {
    error.textContent = 'Enter a token.';
    return;
  }
  setToken(value);
  input.value = '';
  try {
    await api('GET', '/environments');
  } catch (err) {
    clearToken();
    error.textContent = err instanceof ApiProblem && err.status === 401
      ? 'The service refused this token (unknown, expired or revoked).' : `Sign-in failed: ${err.message}`;
    input.focus();
    return;
  }
  error.textContent = '';
  if (!location.hash.startsWith('#/')) location.hash = '#/overview';
  else route();
});

// ---- routing ---------------------------------------------------------------------------------------------

const ROUTES = { overview, approvals, secret, rotations, access, audit };
let routes = 0; // only the latest navigation renders; a slower earlier one is dropped

async function route() {
  if (!token()) {
    showSignIn();
    return;
  }
  if (!location.hash.startsWith('#/')) {
    location.hash = '#/overview';
    return;
  }
  const [name, ...args] = location.hash.slice(2).split('/').map(decodeURIComponent);
  const render = ROUTES[name] || overview;
  stopTimers();
  disposeCharts();
  signIn.hidden = true;
  nav.hidden = false;
  view.hidden = false;
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  clear(view).append(h('p', { class: 'muted' }, 'Loading…'));
  const mine = ++routes;
  try {
    const content = await render(...args);
    if (mine !== routes) return;
    clear(view).append(content);
    document.title = `${content.dataset.title || 'Console'} – ltc-secrets`;
    announce(`${content.dataset.title || 'View'} loaded`);
    if (content.afterMount) await content.afterMount();
  } catch (err) {
    if (mine !== routes || (err instanceof ApiProblem && err.status === 401)) return;
    clear(view).append(h('h1', {}, 'Could not load this view'), problemText(err));
  }
}

window.addEventListener('hashchange', async () => {
  if (!location.hash.startsWith('#/')) return;
  await route();
  // A new view: keyboard and screen-reader users start at its content, not at the top of the page.
  if (!view.hidden) document.getElementById('main').focus();
});

export function refresh() {
  route();
}

/** Wraps a loader so that only the latest call renders: an older answer arriving late is dropped. */
function latest(load) {
  let n = 0;
  return async (...args) => {
    const mine = ++n;
    return load(() => mine === n, ...args);
  };
}

function page(title, ...children) {
  const el = h('section', { 'aria-labelledby': 'view-title' }, h('h1', { id: 'view-title' }, title), ...children);
  el.dataset.title = title;
  return el;
}

async function optional(promise) {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof ApiProblem && err.status === 401) throw err;
    return { error: err };
  }
}

// ---- actions ---------------------------------------------------------------------------------------------

function rotateAction(env, name) {
  openAction({
    title: `Rotate ${name} in ${env}`,
    summary: `A new value for ${name} becomes CURRENT; the env file is rewritten and the app restarted as the policy says.`,
    confirm: `I want to rotate ${name} in ${env} now.`,
    submit: 'Rotate',
    run: (reason) => api('POST', `/environments/${seg(env)}/secrets/${seg(name)}/rotations`, { reason }),
    done: refresh,
  });
}

function rollbackAction(env, name) {
  openAction({
    title: `Roll back ${name} in ${env}`,
    summary: `The PREVIOUS version of ${name} becomes CURRENT again and today's CURRENT is RETIRED.`,
    confirm: `I want to roll ${name} in ${env} back to its previous version.`,
    submit: 'Roll back',
    run: (reason) => api('POST', `/environments/${seg(env)}/secrets/${seg(name)}/rollback`, { reason }),
    done: refresh,
  });
}

function emergencyAction(env) {
  openAction({
    title: `Emergency rotation of ${env}`,
    summary: `Every secret of ${env} gets a new value at once; the old versions are REVOKED (never brought back) and every `
      + 'other principal\'s grant on the environment is revoked in the same commit. Running rotations are pre-empted.',
    confirm: `I understand that this revokes every key and every other grant on ${env}.`,
    submit: 'Start the emergency rotation',
    danger: true,
    incident: true,
    typeToConfirm: env,
    run: (reason, incident) => api('POST', `/environments/${seg(env)}/emergency-rotations`,
      incident ? { reason, incident } : { reason }),
    done: refresh,
  });
}

function revokeAction(grant) {
  openAction({
    title: `Revoke grant ${grant.id}`,
    summary: `${grant.principal} loses ${grant.permission} on ${grant.environment} from the next request on.`,
    confirm: `I want to revoke ${grant.principal}'s ${grant.permission} grant on ${grant.environment}.`,
    submit: 'Revoke',
    danger: true,
    run: (reason) => api('DELETE', `/grants/${seg(grant.id)}${query({ reason })}`),
    done: refresh,
  });
}

function grantAction(principal, environment, permission, ttl) {
  openAction({
    title: `Grant ${permission} on ${environment} to ${principal}`,
    summary: `${principal} may use ${permission} on ${environment} for ${ttl} (ISO 8601 duration). Where the environment's `
      + 'policy asks for two-person approval this only requests the grant: it takes effect when a second person approves it.',
    confirm: `I want ${principal} to hold ${permission} on ${environment} for ${ttl}.`,
    submit: 'Grant',
    run: (reason) => api('POST', '/grants', { principal, environment, permission, ttl, reason }),
    done: refresh,
  });
}

function approveAction(a) {
  openAction({
    title: `Approve request ${a.id}`,
    summary: `${a.summary}, requested by ${a.requestedBy}${a.reason ? ` (“${a.reason}”)` : ''}. Approving it makes it take `
      + 'effect now, as if requested now, and records you as the second person.',
    confirm: `I have checked this request and approve it as the second person: ${a.summary}.`,
    submit: 'Approve',
    run: (reason) => api('POST', `/approvals/${seg(a.id)}/approve`, { reason }),
    done: refresh,
  });
}

function denyAction(a) {
  openAction({
    title: `Deny request ${a.id}`,
    summary: `${a.summary}, requested by ${a.requestedBy}. Denying it ends the request: nothing takes effect. `
      + 'The requester may also withdraw their own request this way.',
    confirm: `I want to deny this request: ${a.summary}.`,
    submit: 'Deny',
    danger: true,
    run: (reason) => api('POST', `/approvals/${seg(a.id)}/deny`, { reason }),
    done: refresh,
  });
}

function reviewAction(i) {
  openAction({
    title: `Review incident ${i.incident}`,
    summary: `The emergency rotation of ${i.environment} by ${i.requestedBy} at ${time(i.requestedAt)}`
      + `${i.reason ? ` (“${i.reason}”)` : ''} ran at once, without a second person; its environment asks for two-person `
      + 'approval, so a second person reviews it afterwards.',
    confirm: `I have reviewed incident ${i.incident} as the second person.`,
    submit: 'Record the review',
    run: (reason) => api('POST', `/incidents/${seg(i.incident)}/review`, { reason }),
    done: refresh,
  });
}

// ---- overview --------------------------------------------------------------------------------------------

function envFileState(envFile) {
  if (!envFile) return badge('–');
  if (envFile.conflict) {
    return [badge('CONFLICT'), ' a file this service did not write is in its place (left alone)'];
  }
  if (envFile.drift) return [badge('DRIFT'), ` ${envFile.drift}`, envFile.driftSince ? ` since ${time(envFile.driftSince)}` : ''];
  if (envFile.lastWrittenAt) return [badge('WRITTEN'), ` ${time(envFile.lastWrittenAt)}`, h('br'), h('code', {}, envFile.path)];
  return ['not written yet ', h('code', {}, envFile.path)];
}

function preflightState(report) {
  if (!report || report.error) return h('span', { class: 'muted' }, `unavailable (${report && report.error.message})`);
  const failing = report.checks.filter((c) => c.status === 'FAIL');
  return [badge(report.go ? 'GO' : 'NO-GO'),
    failing.length ? ` failing: ${failing.map((c) => c.name).join(', ')}` : ` ${report.checks.length} checks`];
}

function dueText(s, now) {
  if (!s.rotationDueAt) return '–';
  const left = (Date.parse(s.rotationDueAt) - now) / 1000;
  return [timeEl(s.rotationDueAt), h('br'), h('span', { class: 'muted' },
    left >= 0 ? `in ${duration(left)}` : `${duration(-left)} ago`)];
}

function lastRotationText(r) {
  if (!r) return '–';
  return [badge(r.status), ` ${r.kind} `, h('span', { class: 'muted' }, time(r.requestedAt))];
}

function envCard(summary, detail, preflight, history, now) {
  const env = detail.name;
  const lastBySecret = new Map();
  for (const r of history.error ? [] : history) {
    const names = r.secret ? [r.secret] : (r.secrets || []).map((s) => s.name);
    for (const n of names) if (!lastBySecret.has(n)) lastBySecret.set(n, r);
  }
  const rows = detail.secrets.map((s) => h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: `#/secret/${seg(env)}/${seg(s.name)}` }, s.name)),
    h('td', { class: 'version' }, s.currentVersion ? `v${s.currentVersion}` : '–'),
    h('td', {}, duration(s.ageSeconds)),
    h('td', {}, dueText(s, now)),
    h('td', {}, badge(s.status)),
    h('td', {}, lastRotationText(lastBySecret.get(s.name))),
    h('td', {}, h('div', { class: 'row-actions' },
      h('button', { type: 'button', 'aria-label': `Rotate ${s.name} in ${env}`, onclick: () => rotateAction(env, s.name) }, 'Rotate…'),
      h('button', { type: 'button', 'aria-label': `Roll back ${s.name} in ${env}`, onclick: () => rollbackAction(env, s.name) }, 'Roll back…')))));
  const chartBox = h('div', { class: 'chart', role: 'img', 'aria-label': `Age of each secret of ${env} as a share of its rotation period; 100% is due` });
  const card = h('section', { class: 'card', 'aria-labelledby': `env-${env}`, dataset: { environment: env } },
    h('h2', { id: `env-${env}` }, env),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Env file'), h('dd', {}, envFileState(detail.envFile)),
      h('dt', {}, 'Preflight'), h('dd', {}, preflightState(preflight)),
      h('dt', {}, 'App'), h('dd', {}, summary.hasApp ? 'restarted and health-checked on rotation' : 'no app section')),
    table(`Secrets of ${env}`, ['Secret', 'Version', 'Age', 'Due', 'State', 'Last rotation', 'Actions'], rows),
    h('h3', {}, 'Toward the due date'),
    chartBox,
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', class: 'danger', onclick: () => emergencyAction(env) }, `Emergency rotation of ${env}…`)));
  card.chart = () => dueBars(chartBox, detail.secrets, now);
  return card;
}

async function overview() {
  const summaries = await api('GET', '/environments');
  const now = Date.now();
  const cards = await Promise.all(summaries.map(async (s) => {
    const [detail, preflight, history] = await Promise.all([
      api('GET', `/environments/${seg(s.name)}`),
      optional(api('GET', `/environments/${seg(s.name)}/preflight`)),
      optional(api('GET', `/rotations${query({ environment: s.name, limit: 200 })}`)),
    ]);
    return envCard(s, detail, preflight, history, now);
  }));
  const el = page('Overview',
    h('p', { class: 'muted' }, `As of ${time(new Date(now).toISOString())}. `,
      h('button', { type: 'button', onclick: refresh }, 'Refresh')),
    cards.length ? h('div', { class: 'cards wide' }, cards) : h('p', {}, 'No environments: the service has no policies.'));
  el.afterMount = () => Promise.all(cards.map((c) => c.chart()));
  return el;
}

// ---- approvals -------------------------------------------------------------------------------------------

const DECIDED = ['APPROVED', 'DENIED', 'EXPIRED'];

function expiresText(a, now) {
  if (!a.expiresAt) return '–';
  const left = (Date.parse(a.expiresAt) - now) / 1000;
  return [timeEl(a.expiresAt), h('br'), h('span', { class: 'muted' }, left >= 0 ? `in ${duration(left)}` : `${duration(-left)} ago`)];
}

function pendingRow(a, now) {
  return h('tr', { dataset: { approval: a.id, status: a.status } },
    h('td', {}, timeEl(a.requestedAt)),
    h('td', {}, a.kind),
    h('td', {}, a.environment),
    h('th', { scope: 'row', class: 'wrap' }, a.summary, h('div', { class: 'muted mono' }, a.id)),
    h('td', {}, a.requestedBy),
    h('td', { class: 'wrap' }, a.reason || '–'),
    h('td', {}, expiresText(a, now)),
    h('td', {}, h('div', { class: 'row-actions' },
      h('button', { type: 'button', class: 'primary', 'aria-label': `Approve ${a.summary} (${a.id})`, onclick: () => approveAction(a) }, 'Approve…'),
      h('button', { type: 'button', class: 'danger', 'aria-label': `Deny ${a.summary} (${a.id})`, onclick: () => denyAction(a) }, 'Deny…'))));
}

function decidedRow(a) {
  const result = a.grantId ? ['grant ', h('code', {}, a.grantId)]
    : a.rotationId ? ['rotation ', h('code', {}, a.rotationId)] : '–';
  return h('tr', { dataset: { approval: a.id, status: a.status } },
    h('td', {}, timeEl(a.requestedAt)),
    h('td', {}, a.kind),
    h('td', {}, a.environment),
    h('th', { scope: 'row', class: 'wrap' }, a.summary, h('div', { class: 'muted mono' }, a.id)),
    h('td', {}, a.requestedBy),
    h('td', {}, badge(a.status)),
    h('td', { class: 'wrap' }, a.decidedBy ? [a.decidedBy, ' ', h('span', { class: 'muted' }, time(a.decidedAt)),
      a.decisionReason ? h('div', {}, a.decisionReason) : null] : (a.status === 'EXPIRED' ? ['lapsed ', timeEl(a.expiresAt)] : '–')),
    h('td', {}, result));
}

function reviewCell(i) {
  if (!i.reviewRequired) return h('span', { class: 'muted' }, 'not required');
  if (i.reviewedBy) {
    return [badge('REVIEWED'), ` by ${i.reviewedBy} `, h('span', { class: 'muted' }, time(i.reviewedAt)),
      i.reviewReason ? h('div', { class: 'wrap' }, i.reviewReason) : null];
  }
  return h('div', { class: 'row-actions' }, badge('UNREVIEWED'),
    h('button', { type: 'button', 'aria-label': `Review incident ${i.incident}`, onclick: () => reviewAction(i) }, 'Review…'));
}

function incidentRows(list) {
  return list.map((i) => h('tr', { dataset: { incident: i.incident } },
    h('th', { scope: 'row' }, i.incident || '–'), h('td', {}, i.environment), h('td', {}, i.requestedBy),
    h('td', { class: 'wrap' }, i.reason), h('td', {}, timeEl(i.requestedAt)), h('td', {}, timeEl(i.finishedAt)),
    h('td', {}, badge(i.outcome)), h('td', {}, reviewCell(i))));
}

const INCIDENT_HEADERS = ['Incident', 'Environment', 'By', 'Reason', 'Requested', 'Finished', 'Outcome', 'Review'];

async function approvals() {
  const names = await environmentNames();
  const form = h('form', { class: 'filters', 'aria-label': 'Filter approvals' },
    field('Environment', select('environment', [['', 'all'], ...names.map((n) => [n, n])], '')),
    field('Decided', select('status', [['', 'any'], ...DECIDED.map((k) => [k, k])], '')),
    field('Limit', h('input', { type: 'number', name: 'limit', min: 1, max: 1000, value: 50 })),
    h('button', { type: 'submit', class: 'primary' }, 'Show'),
    h('button', { type: 'button', onclick: refresh }, 'Refresh'));
  const pending = h('div', { class: 'block', 'aria-live': 'polite' });
  const recent = h('div', { class: 'block' });
  const incidents = h('div', { class: 'block' });
  const load = latest(async (current) => {
    const f = Object.fromEntries(new FormData(form));
    const [open, decided, emergencies] = await Promise.all([
      api('GET', `/approvals${query({ status: 'PENDING', environment: f.environment, limit: 1000 })}`),
      api('GET', `/approvals${query({ status: f.status, environment: f.environment, limit: f.limit })}`),
      optional(api('GET', `/incidents${query({ environment: f.environment, limit: 100 })}`))]);
    if (!current()) return;
    const now = Date.now();
    // The API shows a lapsed PENDING request as EXPIRED; this guards against a clock step between the two calls.
    const waiting = open.filter((a) => a.status === 'PENDING');
    clear(pending).append(table(`Waiting for a second person (${waiting.length})`,
      ['Requested', 'Kind', 'Environment', 'Request', 'Requested by', 'Reason', 'Expires', 'Actions'],
      waiting.map((a) => pendingRow(a, now))));
    clear(recent).append(table('Recent decisions (newest first)',
      ['Requested', 'Kind', 'Environment', 'Request', 'Requested by', 'Status', 'Decided by', 'Result'],
      decided.filter((a) => a.status !== 'PENDING').map(decidedRow)));
    if (emergencies.error) {
      clear(incidents).append(problemText(emergencies.error));
    } else {
      const unreviewed = emergencies.filter((i) => i.reviewRequired && !i.reviewedBy);
      clear(incidents).append(table(`Emergencies awaiting review (${unreviewed.length})`, INCIDENT_HEADERS, incidentRows(unreviewed)));
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load().catch((err) => clear(pending).append(problemText(err)));
  });
  const el = page('Approvals',
    h('p', { class: 'muted' }, 'Where an environment\'s policy asks for two people, a grant or a rotation waits here until another '
      + 'admin or security engineer approves it; nobody approves their own request, nor a grant to themselves. '
      + 'An emergency never waits: it is reviewed afterwards.'),
    form,
    h('h2', {}, 'Pending'), pending,
    h('h2', {}, 'Emergencies to review'), incidents,
    h('h2', {}, 'Recent'), recent);
  el.afterMount = () => load().catch((err) => clear(pending).append(problemText(err)));
  return el;
}

// ---- secret ----------------------------------------------------------------------------------------------

function stepsList(r) {
  return h('ol', { class: 'steps' }, (r.steps || []).map((s) => h('li', {}, badge(s.status), ` ${s.name} `,
    h('span', { class: 'muted' }, time(s.at)), s.detail ? h('div', { class: 'muted wrap' }, s.detail) : null)));
}

function rotationRow(r, withEnv = true) {
  const what = r.secret || (r.secrets || []).map((s) => s.name).join(', ') || '–';
  const versions = r.secret ? `${r.fromVersion ? `v${r.fromVersion}` : '–'} → ${r.toVersion ? `v${r.toVersion}` : '–'}`
    : (r.secrets || []).map((s) => `${s.name} v${s.fromVersion ?? '–'}→v${s.toVersion}`).join('; ');
  return h('tr', { dataset: { rotation: r.id } },
    h('td', {}, timeEl(r.requestedAt)),
    withEnv ? h('td', {}, r.environment) : null,
    h('td', {}, what),
    h('td', {}, r.kind),
    h('td', {}, badge(r.status)),
    h('td', {}, versions),
    h('td', {}, r.requestedBy, r.approvedBy ? h('div', { class: 'approved-by muted' }, `approved by ${r.approvedBy}`) : null),
    h('td', { class: 'wrap' }, r.reason || '–', r.incident ? h('div', { class: 'muted' }, `incident ${r.incident}`) : null),
    h('td', {}, h('details', {}, h('summary', {}, `${(r.steps || []).length} steps`), stepsList(r))));
}

const ROTATION_HEADERS = ['Requested', 'Environment', 'Secret', 'Kind', 'Status', 'Versions', 'By', 'Reason', 'Steps'];

async function secret(env, name) {
  const [versions, history] = await Promise.all([
    api('GET', `/environments/${seg(env)}/secrets/${seg(name)}/versions`),
    api('GET', `/rotations${query({ environment: env, limit: 1000 })}`),
  ]);
  const mine = history.filter((r) => r.secret === name || (r.secrets || []).some((s) => s.name === name));
  const chartBox = h('div', { class: 'chart tall', role: 'img', 'aria-label': `Versions of ${name} in ${env} over time, by state` });
  const el = page(`${name} in ${env}`,
    h('p', {}, h('a', { href: '#/overview' }, '← Overview'), ' ',
      h('button', { type: 'button', onclick: () => rotateAction(env, name) }, 'Rotate…'), ' ',
      h('button', { type: 'button', onclick: () => rollbackAction(env, name) }, 'Roll back…')),
    h('h2', {}, 'Versions over time'),
    chartBox,
    table(`Versions of ${name} (newest first; values are never shown)`, ['Version', 'State', 'Created', 'Fingerprint', 'Rotation'],
      versions.map((v) => h('tr', {},
        h('th', { scope: 'row' }, `v${v.version}`), h('td', {}, badge(v.state)), h('td', {}, timeEl(v.createdAt)),
        h('td', { class: 'wrap mono' }, v.fingerprint || '–'), h('td', { class: 'mono' }, v.rotationId || '–')))),
    h('h2', {}, 'Rotations'),
    table(`Rotations of ${name}`, ROTATION_HEADERS.filter((t) => t !== 'Environment'), mine.map((r) => rotationRow(r, false))));
  el.afterMount = () => versionTimeline(chartBox, versions);
  return el;
}

// ---- rotations -------------------------------------------------------------------------------------------

async function environmentNames() {
  return (await api('GET', '/environments')).map((e) => e.name);
}

async function rotations() {
  const names = await environmentNames();
  const form = h('form', { class: 'filters', 'aria-label': 'Filter rotations' },
    field('Environment', select('environment', [['', 'all'], ...names.map((n) => [n, n])], '')),
    field('Kind', select('kind', [['', 'all'], ...['INITIAL', 'IMPORT', 'MANUAL', 'SCHEDULED', 'EMERGENCY', 'ROLLBACK'].map((k) => [k, k])], '')),
    field('Status', select('status', [['', 'all'], ...['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'ROLLED_BACK'].map((k) => [k, k])], '')),
    field('Limit', h('input', { type: 'number', name: 'limit', min: 1, max: 1000, value: 100 })),
    h('button', { type: 'submit', class: 'primary' }, 'Show'));
  const running = h('div', { 'aria-live': 'polite' });
  const results = h('div');
  const load = latest(async (current) => {
    const f = new FormData(form);
    const list = await api('GET', `/rotations${query(Object.fromEntries(f))}`);
    if (!current()) return;
    clear(results).append(table('Rotation history (newest first)', ROTATION_HEADERS, list.map((r) => rotationRow(r))));
    watchRunning(list.filter((r) => !TERMINAL.has(r.status)));
  });
  // A running rotation's steps, polled live until it ends; then the history is reloaded once.
  function watchRunning(list) {
    clear(running);
    if (!list.length) return;
    running.append(h('h2', {}, 'Running now'));
    for (const r of list) {
      const box = h('div', { class: 'card', dataset: { running: r.id } });
      running.append(box);
      const poll = async () => {
        let now;
        try {
          now = await api('GET', `/rotations/${seg(r.id)}`);
        } catch (err) {
          clear(box).append(problemText(err));
          return;
        }
        clear(box).append(h('p', {}, badge(now.status), ` ${now.kind} of ${now.secret || now.environment} in ${now.environment}`), stepsList(now));
        if (TERMINAL.has(now.status)) later(load, 500);
        else later(poll, 1000);
      };
      poll();
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    stopTimers();
    load().catch((err) => clear(results).append(problemText(err)));
  });
  const el = page('Rotations', form, running, results);
  el.afterMount = load;
  return el;
}

const PERMISSIONS = ['secret:rotate', 'env-file:read', 'env-file:write'];

/** Who granted it, and who approved it where the environment asks for a second person. */
function grantedBy(g) {
  return [g.grantedBy, g.approvedBy ? h('div', { class: 'approved-by muted' }, `approved by ${g.approvedBy}`) : null];
}

// ---- access ----------------------------------------------------------------------------------------------

async function access() {
  const [grants, names] = await Promise.all([api('GET', `/grants${query({ active: 'true', limit: 1000 })}`), environmentNames()]);
  const now = Date.now();
  const grantRows = grants.map((g) => h('tr', {},
    h('th', { scope: 'row' }, g.principal), h('td', {}, g.environment), h('td', {}, g.permission),
    h('td', {}, grantedBy(g)), h('td', { class: 'wrap' }, g.reason), h('td', {}, timeEl(g.grantedAt)),
    h('td', {}, timeEl(g.expiresAt), h('br'), h('span', { class: 'muted' }, `${duration((Date.parse(g.expiresAt) - now) / 1000)} left`)),
    h('td', {}, `${g.useCount}`, g.lastUsedAt ? h('div', { class: 'muted' }, `last ${time(g.lastUsedAt)}`) : null),
    h('td', {}, h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${g.principal}'s ${g.permission} grant on ${g.environment}`,
      onclick: () => revokeAction(g) }, 'Revoke…'))));
  const grantForm = h('form', { class: 'filters', 'aria-label': 'Grant a permission' },
    field('Principal', h('input', { type: 'text', name: 'principal', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 64 })),
    field('Environment', select('environment', names.map((n) => [n, n]), names[0])),
    field('Permission', select('permission', PERMISSIONS.map((p) => [p, p]), PERMISSIONS[0])),
    field('Duration (ISO 8601)', h('input', { type: 'text', name: 'ttl', value: 'PT1H', required: true, autocomplete: 'off', spellcheck: 'false', size: 8 })),
    h('button', { type: 'submit' }, 'Grant…'));
  const grantProblem = h('p', { class: 'problem', role: 'alert' });
  grantForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(grantForm));
    const principal = String(f.principal || '').trim();
    const ttl = String(f.ttl || '').trim().toUpperCase();
    if (!principal || !ttl) {
      grantProblem.textContent = 'Name the principal and the duration (e.g. PT1H, P1D).';
      return;
    }
    grantProblem.textContent = '';
    grantAction(principal, f.environment, f.permission, ttl);
  });
  const from = new Date(now - 30 * 86400 * 1000);
  const form = h('form', { class: 'filters', 'aria-label': 'Access review window' },
    field('Environment', select('environment', names.map((n) => [n, n]), names[0])),
    field('Permission', select('permission', [['', 'any'], ...PERMISSIONS.map((p) => [p, p])], '')),
    field('From (UTC)', h('input', { type: 'datetime-local', name: 'from', value: inputFromDate(from) })),
    field('To (UTC)', h('input', { type: 'datetime-local', name: 'to', value: '' })),
    h('button', { type: 'submit', class: 'primary' }, 'Review'));
  const results = h('div', { 'aria-live': 'polite' });
  const review = latest(async (current) => {
    const f = Object.fromEntries(new FormData(form));
    const r = await api('GET', `/access-review${query({ environment: f.environment, permission: f.permission, from: utcFromInput(f.from), to: utcFromInput(f.to) })}`);
    if (!current()) return;
    clear(results).append(
      h('p', {}, `${r.environment}: ${time(r.from)} to ${time(r.to)}, generated ${time(r.generatedAt)}.`,
        r.partlyArchived ? h('strong', {}, ` Part of this window is archived (before ${time(r.archivedBefore)}): older uses are not counted.`) : null),
      table('Grants in force during the window', ['Principal', 'Role', 'Permission', 'Granted by', 'Reason', 'Granted', 'Ends', 'Uses in window', 'Last use in window'],
        r.entries.map((e) => h('tr', {},
          h('th', { scope: 'row' }, e.principal, e.principalEnabled ? null : h('div', { class: 'muted' }, '(disabled)')),
          h('td', {}, e.role), h('td', {}, e.permission), h('td', {}, grantedBy(e)), h('td', { class: 'wrap' }, e.reason),
          h('td', {}, timeEl(e.grantedAt)),
          h('td', {}, e.revokedAt ? ['revoked ', timeEl(e.revokedAt), ` by ${e.revokedBy}`] : timeEl(e.expiresAt)),
          h('td', {}, `${e.usesInWindow}`), h('td', {}, timeEl(e.lastUseInWindow))))));
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    review().catch((err) => clear(results).append(problemText(err)));
  });
  const el = page('Access',
    h('h2', {}, 'Grants in force'),
    table('Active grants (newest first)', ['Principal', 'Environment', 'Permission', 'Granted by', 'Reason', 'Granted', 'Expires', 'Uses', 'Actions'], grantRows),
    h('h2', {}, 'Grant a permission'),
    h('p', { class: 'muted' }, 'A grant on an environment whose policy asks for two-person approval waits until a second person approves it under ',
      h('a', { href: '#/approvals' }, 'Approvals'), '.'),
    grantForm, grantProblem,
    h('h2', {}, 'Access review'),
    h('p', { class: 'muted' }, 'Who could use a permission on an environment during a window, who granted it, why, and whether it was used.'),
    form, results);
  el.afterMount = () => review().catch((err) => clear(results).append(problemText(err)));
  return el;
}

// ---- audit -----------------------------------------------------------------------------------------------

const ACTIONS = ['approval.request', 'approval.approve', 'approval.deny', 'approval.expire', 'incident.review', 'auth.denied', 'principal.create', 'principal.disable', 'token.create', 'token.revoke', 'grant.create',
  'grant.revoke', 'grant.expire', 'rotation.request', 'rotation.complete', 'rotation.fail', 'rotation.rollback',
  'secret.due-soon', 'secret.overdue', 'secret.retire', 'envfile.read', 'envfile.write', 'envfile.drift',
  'emergency.start', 'emergency.complete', 'audit.export', 'audit.checkpoint', 'audit.archive', 'system.start',
  'system.recover', 'masterkey.rewrap', 'access.review'];

async function audit() {
  const [verify, checkpoint, incidents, names] = await Promise.all([
    optional(api('GET', '/audit/verify')), optional(api('GET', '/audit/checkpoint')),
    optional(api('GET', `/incidents${query({ limit: 100 })}`)), environmentNames()]);
  const chain = verify.error ? problemText(verify.error) : h('dl', { class: 'facts' },
    h('dt', {}, 'Chain'), h('dd', {}, badge(verify.valid ? 'VALID' : 'INVALID'),
      verify.valid ? ` ${verify.events} events` : ` first invalid event: ${verify.firstInvalidSeq} (${verify.reason || 'no reason given'})`),
    h('dt', {}, 'Head'), h('dd', { class: 'mono' }, `seq ${verify.headSeq} · ${verify.headHash || '–'}`),
    h('dt', {}, 'Archived'), h('dd', {}, verify.archivedThroughSeq ? `through seq ${verify.archivedThroughSeq} (${verify.anchorFile})` : 'nothing archived'));
  const cp = checkpoint.error ? problemText(checkpoint.error) : h('dl', { class: 'facts' },
    h('dt', {}, 'Seq'), h('dd', {}, `${checkpoint.seq}`),
    h('dt', {}, 'Hash'), h('dd', { class: 'mono' }, checkpoint.hash),
    h('dt', {}, 'Signed'), h('dd', {}, timeEl(checkpoint.signedAt), ' (Ed25519; verify offline with tools/audit-verify)'));

  const datalist = h('datalist', { id: 'audit-actions' }, ACTIONS.map((a) => h('option', { value: a })));
  const filters = h('form', { class: 'filters', 'aria-label': 'Filter audit events' },
    field('Action', h('input', { type: 'text', name: 'action', list: 'audit-actions', autocomplete: 'off' })),
    field('Environment', select('environment', [['', 'all'], ...names.map((n) => [n, n])], '')),
    field('From (UTC)', h('input', { type: 'datetime-local', name: 'from' })),
    field('To (UTC)', h('input', { type: 'datetime-local', name: 'to' })),
    field('Page size', h('input', { type: 'number', name: 'limit', min: 1, max: 1000, value: 50 })),
    h('button', { type: 'submit', class: 'primary' }, 'Show'), datalist);
  const events = h('div', { 'aria-live': 'polite' });
  const pager = h('div', { class: 'toolbar' });
  const exportStatus = h('p', { role: 'status' });
  let after = 0;
  const pages = [];

  const loadEvents = latest(async (current, from) => {
    const f = Object.fromEntries(new FormData(filters));
    const list = await api('GET', `/audit/events${query({ after: from, limit: f.limit, action: f.action, environment: f.environment })}`);
    if (!current()) return;
    // The API pages by seq; the time window narrows each page here (times grow with seq).
    const lo = utcFromInput(f.from);
    const hi = utcFromInput(f.to);
    const shown = list.filter((e) => (!lo || e.time >= lo) && (!hi || e.time < hi));
    clear(events).append(table(`Audit events after seq ${from} (${shown.length} of ${list.length} on this page)`,
      ['Seq', 'Time', 'Actor', 'Action', 'Environment', 'Target', 'Outcome', 'Details'],
      shown.map((e) => h('tr', {},
        h('th', { scope: 'row' }, `${e.seq}`), h('td', {}, timeEl(e.time)), h('td', {}, e.actor), h('td', {}, e.action),
        h('td', {}, e.environment || '–'), h('td', { class: 'wrap' }, e.target || '–'), h('td', {}, badge(e.outcome)),
        h('td', {}, h('details', {}, h('summary', {}, 'details'),
          h('pre', { class: 'details' }, JSON.stringify({ ...e.details, requestId: e.requestId, sourceIp: e.sourceIp, hash: e.hash }, null, 1))))))));
    after = list.length ? list[list.length - 1].seq : from;
    clear(pager).append(
      h('button', { type: 'button', disabled: pages.length === 0, onclick: () => loadEvents(pages.pop()).catch(showErr) }, '← Previous page'),
      h('button', { type: 'button', disabled: list.length < Number(f.limit || 50),
        onclick: () => { pages.push(from); loadEvents(after).catch(showErr); } }, 'Next page →'));
  });
  function showErr(err) {
    clear(events).append(problemText(err));
  }
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    pages.length = 0;
    loadEvents(0).catch(showErr);
  });

  async function exportAs(format) {
    const f = Object.fromEntries(new FormData(filters));
    exportStatus.textContent = `Exporting ${format.toUpperCase()}…`;
    try {
      const { blob, headers } = await download(`/audit/export${query({ format, from: utcFromInput(f.from), to: utcFromInput(f.to) })}`);
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `ltc-secrets-audit.${format}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      exportStatus.textContent = `Exported through seq ${headers.get('X-Audit-Last-Seq') || '–'} (${blob.size} bytes).`;
    } catch (err) {
      clear(exportStatus).append(problemText(err));
    }
  }

  const el = page('Audit',
    h('div', { class: 'cards' },
      h('section', { class: 'card', 'aria-labelledby': 'chain-h' }, h('h2', { id: 'chain-h' }, 'Chain status'), chain),
      h('section', { class: 'card', 'aria-labelledby': 'cp-h' }, h('h2', { id: 'cp-h' }, 'Last checkpoint'), cp)),
    h('h2', {}, 'Events'),
    filters,
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', onclick: () => exportAs('jsonl') }, 'Export JSONL'),
      h('button', { type: 'button', onclick: () => exportAs('csv') }, 'Export CSV'),
      h('span', { class: 'muted' }, 'Exports cover the From/To window above (all events when empty).')),
    exportStatus,
    events, pager,
    h('h2', {}, 'Incidents'),
    incidents.error ? problemText(incidents.error) : table('Emergency procedures (newest first)', INCIDENT_HEADERS, incidentRows(incidents)));
  el.afterMount = () => loadEvents(0).catch(showErr);
  return el;
}

route();
