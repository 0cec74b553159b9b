// The action dialog: every action asks for a reason and an explicit confirmation (an emergency also for
// the environment's name, typed), shows the API's problem when it is refused, and shows what the action
// did: a rotation it started is followed step by step until it ends; a request the environment's policy
// holds for two-person approval (202 {"approval": …}) is shown as waiting for a second person, never as a
// rotation or a grant.
import { api, ApiProblem, seg } from './api.js';
import { badge, clear, h, TERMINAL, time } from './dom.js';

const dialog = document.getElementById('action-dialog');
const form = document.getElementById('action-form');
const title = document.getElementById('action-title');
const summary = document.getElementById('action-summary');
const reason = document.getElementById('action-reason');
const confirmBox = document.getElementById('action-confirm');
const confirmLabel = document.getElementById('action-confirm-label');
const incidentField = document.getElementById('action-incident-field');
const incident = document.getElementById('action-incident');
const nameField = document.getElementById('action-name-field');
const nameInput = document.getElementById('action-name');
const nameLabel = document.getElementById('action-name-label');
const problem = document.getElementById('action-problem');
const progress = document.getElementById('action-progress');
const submit = document.getElementById('action-submit');
const cancel = document.getElementById('action-cancel');

let current = null;
let changed = false;
let polling = null;

export function problemText(err) {
  if (err instanceof ApiProblem) {
    return h('p', { class: 'problem', role: 'alert' }, `Refused: ${err.status} ${err.code}: ${err.detail}`,
      err.requestId ? h('span', { class: 'muted' }, ` (request ${err.requestId})`) : null);
  }
  return h('p', { class: 'problem', role: 'alert' }, String(err && err.message ? err.message : err));
}

/**
 * spec: {title, summary, confirm, submit, danger?, incident?, typeToConfirm?, run(reason, incident) → Promise, done()}
 */
export function openAction(spec) {
  current = spec;
  changed = false;
  title.textContent = spec.title;
  summary.textContent = spec.summary;
  reason.value = '';
  incident.value = '';
  nameInput.value = '';
  confirmBox.checked = false;
  confirmLabel.textContent = spec.confirm;
  incidentField.hidden = !spec.incident;
  nameField.hidden = !spec.typeToConfirm;
  nameLabel.textContent = spec.typeToConfirm ? `Type the environment's name, ${spec.typeToConfirm}, to confirm` : '';
  problem.textContent = '';
  clear(progress);
  submit.textContent = spec.submit;
  submit.className = spec.danger ? 'danger' : 'primary';
  submit.hidden = false;
  submit.disabled = false;
  for (const el of [reason, incident, nameInput, confirmBox]) el.disabled = false;
  cancel.textContent = 'Cancel';
  dialog.showModal();
  reason.focus();
}

function close() {
  if (polling) clearTimeout(polling);
  polling = null;
  dialog.close();
}

dialog.addEventListener('close', () => {
  if (polling) clearTimeout(polling);
  polling = null;
  if (changed && current && current.done) current.done();
  current = null;
});

cancel.addEventListener('click', close);

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!current || submit.hidden) return;
  problem.textContent = '';
  const why = reason.value.trim();
  if (!why) {
    problem.textContent = 'Give a reason: it is recorded in the audit trail.';
    reason.focus();
    return;
  }
  if (current.typeToConfirm && nameInput.value.trim() !== current.typeToConfirm) {
    problem.textContent = `Type the environment's name exactly (${current.typeToConfirm}) to confirm.`;
    nameInput.focus();
    return;
  }
  if (!confirmBox.checked) {
    problem.textContent = 'Tick the confirmation first.';
    confirmBox.focus();
    return;
  }
  submit.disabled = true;
  let result;
  try {
    result = await current.run(why, incident.value.trim());
  } catch (err) {
    submit.disabled = false;
    clear(problem).append(err instanceof ApiProblem
      ? `Refused: ${err.status} ${err.code}: ${err.detail}${err.requestId ? ` (request ${err.requestId})` : ''}`
      : String(err.message || err));
    return;
  }
  changed = true;
  submit.hidden = true;
  for (const el of [reason, incident, nameInput, confirmBox]) el.disabled = true;
  cancel.textContent = 'Close';
  outcome(result);
  cancel.focus();
});

// What the API answered, by its shape: {approval} (held for a second person), a rotation record (has
// steps), a decided approval, a grant, a reviewed incident.
function outcome(result) {
  if (result && result.approval) {
    waiting(result.approval);
  } else if (result && Array.isArray(result.steps)) {
    follow(result, progress);
  } else if (result && result.summary && result.status && result.status !== 'PENDING') {
    decided(result);
  } else if (result && result.permission && result.grantedAt) {
    progress.append(h('p', { class: 'grant-created', dataset: { grant: result.id } }, badge('OK'),
      ` Granted: ${result.principal} holds ${result.permission} on ${result.environment} until ${time(result.expiresAt)} (grant `,
      h('code', {}, result.id), ').'));
  } else if (result && result.reviewedBy) {
    progress.append(h('p', { class: 'incident-reviewed' }, badge('REVIEWED'),
      ` Incident ${result.incident} reviewed by ${result.reviewedBy} at ${time(result.reviewedAt)}.`));
  } else {
    progress.append(h('p', {}, 'Done.'));
  }
}

// 202 {"approval": …}: nothing happened yet; a second person approves it in the Approvals view.
function waiting(a) {
  progress.append(h('div', { class: 'notice approval-pending', dataset: { approval: a.id } },
    h('p', {}, badge(a.status || 'PENDING'), ' Waiting for approval by a second person: nothing takes effect until then.'),
    h('p', {}, 'Approval ', h('code', { class: 'approval-id' }, a.id), `: ${a.summary || a.kind}. `,
      a.expiresAt ? `It lapses at ${time(a.expiresAt)} unless approved. ` : '',
      'Another admin or security engineer decides it in ',
      h('a', { href: '#/approvals', onclick: close }, 'Approvals'), '.')));
}

// An approval decided here: APPROVED names the grant it created or the rotation it started (followed).
function decided(a) {
  const what = a.grantId ? ['grant ', h('code', {}, a.grantId), ' is in force']
    : a.rotationId ? ['rotation ', h('code', {}, a.rotationId), ' started'] : [];
  progress.append(h('p', { class: 'approval-decided', dataset: { approval: a.id, status: a.status } },
    badge(a.status), ` Approval ${a.id} ${a.status.toLowerCase()} by ${a.decidedBy || 'you'}`,
    what.length ? ': ' : '.', what, what.length ? '.' : ''));
  if (a.rotationId) {
    const box = h('div');
    progress.append(box);
    follow({ id: a.rotationId, status: 'PENDING', steps: [] }, box);
  }
}

// Polls the rotation until COMPLETED, FAILED or ROLLED_BACK, showing its steps as they are journaled.
function follow(rotation, into) {
  const render = (r) => {
    const versions = r.secret ? ` v${r.fromVersion ?? '–'} → v${r.toVersion ?? '–'}` : '';
    clear(into).append(
      h('p', { class: 'rotation-status', dataset: { status: r.status } }, 'Rotation ', h('code', {}, r.id), ': ', badge(r.status), versions),
      h('ol', { class: 'steps' }, (r.steps || []).map((s) => h('li', {}, badge(s.status), ` ${s.name}`,
        s.detail ? h('span', { class: 'muted' }, ` – ${s.detail}`) : null))));
  };
  render(rotation);
  const poll = async () => {
    if (!dialog.open) return;
    try {
      const r = await api('GET', `/rotations/${seg(rotation.id)}`);
      render(r);
      if (!TERMINAL.has(r.status)) polling = setTimeout(poll, 1000);
    } catch (err) {
      into.append(problemText(err));
    }
  };
  if (!TERMINAL.has(rotation.status)) polling = setTimeout(poll, 300);
}
