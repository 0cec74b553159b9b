// End-to-end tests of the web console in Debian's headless chromium (playwright-core, never a browser
// download) against the packaged jar that run.sh started. The tokens are read from the files the service
// and run.sh wrote and typed into the sign-in form; they are never printed. The two-person flow uses a
// second browser context (a second person at their own browser) signed in as second-person.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const BASE = process.env.CONSOLE_URL;
const TOKEN = readFileSync(process.env.TOKEN_FILE, 'utf8').trim();
const SECOND_TOKEN = readFileSync(process.env.SECOND_TOKEN_FILE, 'utf8').trim();
const SHOTS = process.env.SCREENSHOT_DIR;
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const ORIGIN = new URL(BASE).origin;

let browser;
let page;
let second; // the second person's page, in a context of its own
const requests = [];
const problems = []; // CSP violations, page errors, console errors

/** A new browser context (its own sessionStorage) and page, watched for requests, errors and CSP violations. */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  context.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const p = await context.newPage();
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Refusals of the API are expected (the refused action, the wrong token); any other failed load is not.
  p.on('response', (r) => {
    if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith('/api/v1/')) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  p.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  return p;
}

before(async () => {
  assert.ok(BASE && TOKEN && SECOND_TOKEN, 'CONSOLE_URL, TOKEN_FILE and SECOND_TOKEN_FILE are set by run.sh');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await newPage();
});

after(async () => {
  await browser?.close();
});

async function axe(label, p = page) {
  await p.evaluate(AXE); // through the DevTools protocol: the page's CSP (rightly) refuses inline scripts
  const result = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [],
    `axe on ${label}`);
}

function card(env) {
  return page.locator(`[data-environment="${env}"]`);
}

function row(env, secret) {
  return card(env).locator('tbody tr').filter({ has: page.locator('th', { hasText: secret }) });
}

async function action(button, reason) {
  await page.getByRole('button', { name: button, exact: true }).click();
  return confirmAction(page, reason);
}

/** Fills the open action dialog of page p: reason, confirmation, submit. */
async function confirmAction(p, reason) {
  const dialog = p.locator('#action-dialog');
  await dialog.waitFor({ state: 'visible' });
  await p.getByLabel('Reason (recorded in the audit trail)').fill(reason);
  await dialog.locator('#action-confirm').check();
  await dialog.locator('#action-submit').click();
  return dialog;
}

async function closeDialog(p) {
  const dialog = p.locator('#action-dialog');
  await dialog.getByRole('button', { name: /^(Close|Cancel)$/ }).click();
  await dialog.waitFor({ state: 'hidden' });
}

/** A link of the console's navigation (the Access view links to Approvals too). */
function nav(p, name) {
  return p.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true });
}

async function signIn(p, token) {
  await p.goto(`${BASE}/console/`);
  await p.locator('input[type="password"][name="token"]').fill(token);
  await p.locator('#sign-in-form button[type="submit"]').click();
  await p.locator('[data-environment="prod"]').waitFor();
}

let approvalId; // the grant request of the two-person flow

test('the console is served without a token, with its CSP and headers; the API still needs one', async () => {
  const res = await fetch(`${BASE}/console/`);
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  const html = await res.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  const js = await fetch(`${BASE}/console/app.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-security-policy'), /default-src 'self'/);
  await js.arrayBuffer(); // an unread body would hold its connection open, and node's test runner with it
  const api = await fetch(`${BASE}/api/v1/environments`);
  assert.equal(api.status, 401);
  await api.arrayBuffer();
});

test('a wrong token is refused and stored nowhere', async () => {
  await page.goto(`${BASE}/console/`);
  const input = page.locator('input[type="password"][name="token"]');
  await input.fill('ltcs_0000000000000000_not-a-real-token');
  await page.locator('#sign-in-form button[type="submit"]').click();
  await page.locator('#sign-in-error', { hasText: 'refused' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

test('sign in: the overview shows each environment with its versions and states', async () => {
  await page.locator('input[type="password"][name="token"]').fill(TOKEN);
  await page.locator('#sign-in-form button[type="submit"]').click();
  await card('prod').waitFor();
  await card('staging').waitFor();
  assert.equal(await page.locator('[data-environment]').count(), 2);
  for (const [env, secret, version, state] of [
    ['prod', 'LTC_SECRET_KEY', 'v1', 'OK'],
    ['prod', 'LTC_STALE_KEY', 'v1', 'OVERDUE'],
    ['staging', 'LTC_SECRET_KEY', 'v1', 'OK'],
  ]) {
    const r = row(env, secret);
    assert.equal(await r.count(), 1, `${env}/${secret} row`);
    assert.equal((await r.locator('td.version').textContent()).trim(), version, `${env}/${secret} version`);
    assert.match(await r.textContent(), new RegExp(`\\b${state}\\b`), `${env}/${secret} state`);
  }
  // The token lives in sessionStorage only: not in the URL, a cookie or localStorage.
  const where = await page.evaluate(() => ({
    session: Object.keys(sessionStorage).length, local: localStorage.length, cookie: document.cookie, url: location.href,
  }));
  assert.equal(where.session, 1);
  assert.equal(where.local, 0);
  assert.equal(where.cookie, '');
  assert.ok(!where.url.includes(TOKEN.slice(5, 20)));
  await card('prod').locator('canvas').first().waitFor();
  await page.screenshot({ path: join(SHOTS, 'console-overview.png'), fullPage: true });
  await axe('overview');
});

test('a refused action shows the API problem (no grant on prod)', async () => {
  const dialog = await action('Rotate LTC_SECRET_KEY in prod', 'console test: expect a refusal');
  const problem = dialog.locator('#action-problem');
  await problem.filter({ hasText: '403' }).waitFor();
  assert.match(await problem.textContent(), /403 forbidden: .*needs an active grant/);
  await axe('action dialog');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
});

test('an emergency needs the environment name typed; nothing is sent otherwise', async () => {
  await page.getByRole('button', { name: 'Emergency rotation of prod…' }).click();
  const dialog = page.locator('#action-dialog');
  await page.getByLabel('Reason (recorded in the audit trail)').fill('console test');
  await page.getByLabel("Type the environment's name, prod, to confirm").fill('staging');
  await dialog.locator('#action-confirm').check();
  await dialog.locator('#action-submit').click();
  await dialog.locator('#action-problem', { hasText: 'exactly' }).waitFor();
  assert.ok(!requests.some((r) => r.method === 'POST' && r.url.includes('emergency-rotations')));
  await page.getByRole('button', { name: 'Cancel' }).click();
});

test('a rotation from the console completes and the overview moves to the new version', async () => {
  const dialog = await action('Rotate LTC_SECRET_KEY in staging', 'console test rotation');
  await dialog.locator('.rotation-status[data-status="COMPLETED"]').waitFor({ timeout: 60_000 });
  assert.match(await dialog.locator('#action-progress').textContent(), /v1 → v2/);
  await page.getByRole('button', { name: 'Close' }).click();
  await page.waitForFunction(() => {
    const r = [...document.querySelectorAll('[data-environment="staging"] tbody tr')]
      .find((tr) => tr.querySelector('th')?.textContent.includes('LTC_SECRET_KEY'));
    return r && r.querySelector('td.version')?.textContent.trim() === 'v2';
  }, null, { timeout: 30_000 });
  assert.match(await row('staging', 'LTC_SECRET_KEY').textContent(), /\bOK\b/);
  assert.match(await row('staging', 'LTC_SECRET_KEY').textContent(), /COMPLETED/);
});

test('secret, rotations and access views', async () => {
  await page.goto(`${BASE}/console/#/secret/staging/LTC_SECRET_KEY`);
  await page.getByRole('heading', { name: 'LTC_SECRET_KEY in staging' }).waitFor();
  const versions = page.locator('table', { hasText: 'Versions of LTC_SECRET_KEY' });
  await versions.waitFor();
  assert.match(await versions.textContent(), /v2●CURRENT/);
  assert.match(await versions.textContent(), /PREVIOUS/);
  await page.locator('.chart canvas').first().waitFor();
  await axe('secret view');

  await page.getByRole('link', { name: 'Rotations' }).click();
  await page.getByRole('heading', { name: 'Rotations', level: 1 }).waitFor();
  const history = page.locator('table', { hasText: 'Rotation history' });
  await history.waitFor();
  assert.match(await history.textContent(), /MANUAL.*COMPLETED/s);
  await axe('rotations view');

  await page.getByRole('link', { name: 'Access' }).click();
  const grants = page.locator('table', { hasText: 'Active grants' });
  await grants.waitFor();
  assert.match(await grants.textContent(), /bootstrap-admin.*staging.*secret:rotate/s);
  await page.getByRole('form', { name: 'Access review window' }).getByRole('combobox', { name: 'Environment' }).selectOption('staging');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('table', { hasText: 'Grants in force during the window' }).filter({ hasText: 'secret:rotate' }).waitFor();
  await axe('access view');
});

test('audit: chain status, checkpoint, events, export', async () => {
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByRole('heading', { name: 'Chain status' }).waitFor();
  assert.match(await page.locator('section', { hasText: 'Chain status' }).last().textContent(), /VALID/);
  assert.doesNotMatch(await page.locator('section', { hasText: 'Chain status' }).last().textContent(), /INVALID/);
  const events = page.locator('table', { hasText: 'Audit events after seq' });
  await events.waitFor();
  assert.match(await events.textContent(), /rotation\.complete/);
  await page.getByLabel('Action').fill('rotation.request');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.locator('table', { hasText: 'Audit events after seq' }).filter({ hasText: 'rotation.request' }).waitFor();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export JSONL' }).click();
  const file = await download;
  assert.equal(file.suggestedFilename(), 'ltc-secrets-audit.jsonl');
  await page.getByLabel('Action').fill('');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.locator('table', { hasText: 'Audit events after seq' }).filter({ hasText: 'system.start' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'console-audit.png'), fullPage: false });
  await axe('audit view');
});

test('at 390 px wide the overview fits and stays accessible', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${BASE}/console/#/overview`);
  await card('prod').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page scrolls sideways by ${overflow} px`);
  await axe('overview at 390 px');
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('the keyboard reaches the navigation and the actions', async () => {
  await page.goto(`${BASE}/console/#/overview`);
  await card('prod').waitFor();
  await page.evaluate(() => document.activeElement?.blur());
  const seen = new Set();
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    seen.add(await page.evaluate(() => document.activeElement?.textContent?.trim()));
  }
  assert.ok(seen.has('Overview') && seen.has('Audit') && seen.has('Sign out'), [...seen].join(' | '));
  assert.ok([...seen].some((t) => t && t.startsWith('Rotate')), [...seen].join(' | '));
});

test('two-person approval: a grant on prod is only requested, and its requester cannot approve it', async () => {
  await page.goto(`${BASE}/console/#/access`);
  const form = page.getByRole('form', { name: 'Grant a permission' });
  await form.waitFor();
  await form.getByLabel('Principal').fill('bootstrap-admin');
  await form.getByRole('combobox', { name: 'Environment' }).selectOption('prod');
  await form.getByRole('combobox', { name: 'Permission' }).selectOption('secret:rotate');
  await form.getByLabel('Duration (ISO 8601)').fill('PT1H');
  await form.getByRole('button', { name: 'Grant…' }).click();
  const dialog = await confirmAction(page, 'console test: two-person grant');
  const pending = dialog.locator('.approval-pending');
  await pending.waitFor();
  assert.match(await pending.textContent(), /Waiting for approval by a second person/);
  approvalId = (await pending.locator('.approval-id').textContent()).trim();
  assert.match(approvalId, /^[0-9a-f]{16}$/);
  assert.equal(await pending.getAttribute('data-approval'), approvalId);
  assert.equal(await dialog.locator('.rotation-status, .grant-created').count(), 0, 'nothing shown as done');
  await axe('a grant waiting for approval');
  await closeDialog(page);
  // Nothing took effect: no prod grant among the active ones.
  const grants = page.locator('table', { hasText: 'Active grants' });
  await grants.waitFor();
  assert.doesNotMatch(await grants.textContent(), /bootstrap-admin\s*prod\s*secret:rotate/);

  await nav(page, 'Approvals').click();
  await page.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor();
  const row = page.locator(`tr[data-approval="${approvalId}"][data-status="PENDING"]`);
  await row.waitFor();
  const text = await row.textContent();
  for (const want of ['GRANT', 'prod', 'secret:rotate', 'bootstrap-admin', 'console test: two-person grant']) {
    assert.ok(text.includes(want), `pending row shows ${want}: ${text}`);
  }
  await page.screenshot({ path: join(SHOTS, 'console-approvals.png'), fullPage: false });
  await axe('approvals view');

  // Self-approval: the API refuses it (403) and the dialog says why; the request stays pending.
  await row.getByRole('button', { name: /^Approve/ }).click();
  const refused = await confirmAction(page, 'console test: approving my own request');
  const problem = refused.locator('#action-problem');
  await problem.filter({ hasText: '403' }).waitFor();
  assert.match(await problem.textContent(), /Refused: 403 forbidden: .+/);
  await closeDialog(page);
  await page.locator(`tr[data-approval="${approvalId}"][data-status="PENDING"]`).waitFor();
});

test('two-person approval: a second person signs in, approves it, and the grant is in force', async () => {
  second = await newPage();
  await signIn(second, SECOND_TOKEN);
  await nav(second, 'Approvals').click();
  const row = second.locator(`tr[data-approval="${approvalId}"][data-status="PENDING"]`);
  await row.waitFor();
  await row.getByRole('button', { name: /^Approve/ }).click();
  const dialog = await confirmAction(second, 'console test: checked, approved by a second person');
  const decided = dialog.locator(`.approval-decided[data-status="APPROVED"]`);
  await decided.waitFor();
  assert.match(await decided.textContent(), /APPROVED.*second-person.*grant \S+ is in force/s);
  await closeDialog(second);
  // The view reloads: the request has left "Pending" and is among the recent decisions.
  const done = second.locator(`tr[data-approval="${approvalId}"][data-status="APPROVED"]`);
  await done.waitFor();
  assert.match(await done.textContent(), /second-person/);
  assert.equal(await second.locator(`tr[data-approval="${approvalId}"][data-status="PENDING"]`).count(), 0);
  await axe('approvals view after a decision', second);

  // The requester sees the grant in force, granted by itself and approved by the second person.
  await page.goto(`${BASE}/console/#/access`);
  const grant = page.locator('table', { hasText: 'Active grants' }).locator('tbody tr')
    .filter({ hasText: 'prod' }).filter({ hasText: 'secret:rotate' });
  await grant.waitFor();
  assert.match(await grant.textContent(), /bootstrap-admin.*approved by second-person/s);
  await page.getByRole('form', { name: 'Access review window' }).getByRole('combobox', { name: 'Environment' }).selectOption('prod');
  await page.getByRole('button', { name: 'Review', exact: true }).click();
  await page.locator('table', { hasText: 'Grants in force during the window' }).filter({ hasText: 'approved by second-person' }).waitFor();
  await axe('access view with an approved grant');
});

test('two-person approval: a rotation on prod waits too, and its requester withdraws it', async () => {
  await page.goto(`${BASE}/console/#/overview`);
  await card('prod').waitFor();
  const dialog = await action('Rotate LTC_SECRET_KEY in prod', 'console test: rotation to withdraw');
  const pending = dialog.locator('.approval-pending');
  await pending.waitFor();
  assert.match(await pending.textContent(), /Waiting for approval by a second person.*MANUAL rotation of prod\/LTC_SECRET_KEY/s);
  assert.equal(await dialog.locator('.rotation-status').count(), 0, 'no rotation is followed');
  const id = (await pending.locator('.approval-id').textContent()).trim();
  await closeDialog(page);
  assert.equal((await row('prod', 'LTC_SECRET_KEY').locator('td.version').textContent()).trim(), 'v1');

  await nav(page, 'Approvals').click();
  const pendingRow = page.locator(`tr[data-approval="${id}"][data-status="PENDING"]`);
  await pendingRow.waitFor();
  assert.match(await pendingRow.textContent(), /ROTATION/);
  await pendingRow.getByRole('button', { name: /^Deny/ }).click();
  const denied = await confirmAction(page, 'console test: withdrawn');
  await denied.locator('.approval-decided[data-status="DENIED"]').waitFor();
  await closeDialog(page);
  await page.locator(`tr[data-approval="${id}"][data-status="DENIED"]`).waitFor();
});

test('an emergency in an environment with approvals is reviewed afterwards by a second person', async () => {
  // The grant approved above lets bootstrap-admin run it; an emergency never waits for approval.
  await page.goto(`${BASE}/console/#/overview`);
  await card('prod').waitFor();
  await page.getByRole('button', { name: 'Emergency rotation of prod…' }).click();
  await page.getByLabel("Type the environment's name, prod, to confirm").fill('prod');
  await page.getByLabel('Incident id (optional)').fill('INC-CONSOLE-1');
  const dialog = await confirmAction(page, 'console test: emergency to review');
  await dialog.locator('.rotation-status[data-status="COMPLETED"]').waitFor({ timeout: 60_000 });
  await closeDialog(page);

  // Its runner may not review it (403), and the Audit view says it awaits review.
  await page.getByRole('link', { name: 'Audit' }).click();
  const mine = page.locator('tr[data-incident="INC-CONSOLE-1"]');
  await mine.waitFor();
  assert.match(await mine.textContent(), /UNREVIEWED/);
  await mine.getByRole('button', { name: 'Review incident INC-CONSOLE-1' }).click();
  const refused = await confirmAction(page, 'console test: reviewing my own emergency');
  await refused.locator('#action-problem').filter({ hasText: '403' }).waitFor();
  await closeDialog(page);

  // The second person finds it in Approvals and reviews it.
  // (second is still on #/approvals from the test above: a goto to the same hash would not reload the view)
  await nav(second, 'Audit').click();
  await second.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
  await nav(second, 'Approvals').click();
  const row = second.locator('table', { hasText: 'Emergencies awaiting review' }).locator('tr[data-incident="INC-CONSOLE-1"]');
  await row.waitFor();
  await row.getByRole('button', { name: 'Review incident INC-CONSOLE-1' }).click();
  const reviewed = await confirmAction(second, 'console test: emergency reviewed');
  await reviewed.locator('.incident-reviewed').filter({ hasText: 'second-person' }).waitFor();
  await closeDialog(second);
  await second.getByRole('link', { name: 'Audit' }).click();
  const reviewedRow = second.locator('tr[data-incident="INC-CONSOLE-1"]');
  await reviewedRow.filter({ hasText: 'REVIEWED' }).waitFor();
  assert.match(await reviewedRow.textContent(), /REVIEWED by second-person/);
  assert.doesNotMatch(await reviewedRow.textContent(), /UNREVIEWED/);
  await axe('audit view with a reviewed incident', second);
});

test('sign-out clears sessionStorage', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('input[type="password"][name="token"]').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await page.reload();
  await page.locator('input[type="password"][name="token"]').waitFor();
  assert.equal(await page.locator('[data-environment]').count(), 0);
});

test('no request left the origin, the env-file fetch was never called, no CSP violation or script error', () => {
  assert.ok(requests.length > 10);
  const foreign = requests.filter((r) => !r.url.startsWith(`${ORIGIN}/`) && !r.url.startsWith('blob:'));
  assert.deepEqual(foreign, []);
  assert.deepEqual(requests.filter((r) => /\/env-file(\?|$)/.test(r.url)), []);
  assert.deepEqual(problems, []);
});
