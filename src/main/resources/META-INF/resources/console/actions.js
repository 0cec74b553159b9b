// The action dialog: every action asks for a reason and an explicit confirmation (an emergency also for
// the environment's name, typed), shows the API's problem when it is refused, and follows the rotation
// it started step by step until it ends.
import { api, ApiProblem, seg } from './api.js';
import { badge, clear, h, TERMINAL } from './dom.js';

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
  if (result && result.id && result.kind) follow(result);
  else progress.append(h('p', {}, 'Done.'));
  cancel.focus();
});

// Polls the rotation until COMPLETED, FAILED or ROLLED_BACK, showing its steps as they are journaled.
function follow(rotation) {
  const render = (r) => {
    const versions = r.secret ? ` v${r.fromVersion ?? '–'} → v${r.toVersion ?? '–'}` : '';
    clear(progress).append(
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
      progress.append(problemText(err));
    }
  };
  if (!TERMINAL.has(rotation.status)) polling = setTimeout(poll, 300);
}
