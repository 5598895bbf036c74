// End-to-end: the review console in Debian's Chromium (headless). A session captured
// through the demo page (fake camera) goes to review under the tenant's rules; reviewers sign
// in, open it from the queue, see its images and check results and decide; the customer's
// webhook receiver gets the signed decision. Also: four-eyes approval, axe-core on every
// console page, a cross-site form post refused, sign-in brute force rate-limited.
// Run by `cargo xtask test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { startStack, launchBrowser, env, confirmReview } from './harness.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const PASSWORD = 'correct horse battery staple';

let stack;
let receiver;
let webhookSecret;
let browser;
const reviewers = {};

/** A local webhook receiver that records every delivery. */
function startReceiver() {
  const got = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end('ok');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}/hook`, got, server }));
  });
}

async function api(method, path, body) {
  const res = await fetch(`${stack.verifierUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function until(what, fn, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A session with applicant data, captured through the demo page from `clip`, decided into review. */
async function caseInReview(applicant, clip = 'document_sharp.y4m') {
  const created = await api('POST', '/v1/sessions', { steps: ['document_front'], reference: 'e2e-console', applicant });
  const capture = await launchBrowser(join(env.assets(), clip));
  try {
    const page = await capture.newPage();
    // The demo page asks its backend for a session: hand it the one made with applicant data.
    await page.route('**/api/session', (route) =>
      route.fulfill({
        status: 201,
        contentType: 'application/json',
        body: JSON.stringify({
          session_id: created.session_id,
          client_token: created.client_token,
          steps: ['document_front'],
          verifier_url: stack.verifierUrl,
        }),
      }),
    );
    await page.goto(`${stack.demoUrl}/?autostart=1&steps=document_front`);
    await confirmReview(page, 90_000);
    await page.waitForSelector('#status[data-status="submitted"]', { timeout: 90_000 });
  } finally {
    await capture.close();
  }
  const view = await until('the decision', async () => {
    const s = await stack.session(created.session_id);
    return ['approved', 'declined', 'review', 'resubmission_requested'].includes(s.state) ? s : null;
  });
  assert.equal(view.state, 'review', JSON.stringify(view));
  return created.session_id;
}

/** axe-core on the current page: no serious or critical violation. */
async function assertAccessible(page, name) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(bad, [], `accessibility of the ${name} page`);
}

/** A fresh browser context signed in as `email`. */
async function signIn(email) {
  // bypassCSP only lets the test inject axe-core; the policy itself is checked on the responses.
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${stack.verifierUrl}/console`);
  assert.match(page.url(), /\/console\/login$/, 'signed-out reviewers are sent to the sign-in page');
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(/\/console$/), page.click('button[type="submit"]')]);
  return { context, page };
}

async function decide(page, sessionId, action, reason, note) {
  await page.goto(`${stack.verifierUrl}/console/cases/${sessionId}`);
  await page.selectOption(`#reason-${action}`, reason);
  await page.fill(`#note-${action}`, note);
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click(`#submit-${action}`),
  ]);
  return response;
}

async function webhookFor(sessionId, type) {
  const hit = await until(`webhook ${type}`, () =>
    receiver.got.find((r) => {
      const body = JSON.parse(r.body);
      return body.session_id === sessionId && body.type === type;
    }),
  );
  const { verifyWebhook } = await import(pathToFileURL(join(env.sdkDir(), 'webhook.js')).href);
  await verifyWebhook(hit.body, hit.headers['trustcap-signature'], webhookSecret);
  return JSON.parse(hit.body);
}

before(async () => {
  // The verifier inherits these: local http receivers, and only the capture checks (no models needed).
  process.env.TRUSTCAP_WEBHOOKS_ALLOW_HTTP = 'true';
  process.env.TRUSTCAP_WEBHOOKS_ALLOW_PRIVATE_NETWORKS = 'true';
  process.env.TRUSTCAP_CHECKS = 'capture_quality,capture_integrity';
  stack = await startStack();
  receiver = await startReceiver();
  webhookSecret = (await api('PUT', '/v1/webhook', { url: receiver.url })).secret;
  // Every session goes to review: a required check that never runs.
  await api('PUT', '/v1/rules', {
    required_checks: ['capture_quality', 'capture_integrity', 'manual_review'],
    approve_at: 0.8,
  });
  process.env.TRUSTCAP_REVIEWER_PASSWORD = PASSWORD;
  for (const [name, role] of [['ana', 'reviewer'], ['ben', 'reviewer'], ['target', 'reviewer']]) {
    reviewers[name] = stack.cli('add-reviewer', '--tenant', stack.tenant, '--email', `${name}@e2e.example`, '--role', role);
  }
  delete process.env.TRUSTCAP_REVIEWER_PASSWORD;
  browser = await launchBrowser(join(env.assets(), 'document_sharp.y4m'));
});

after(async () => {
  await browser?.close();
  receiver?.server.close();
  await stack?.stop();
});

test('a reviewer signs in, opens the case from the queue, sees its images and checks, and approves it; the webhook arrives', async () => {
  // The angled card: the SDK finds its outline and uploads the rectified document and the original photo.
  const sessionId = await caseInReview(
    { given_names: 'Ana María', family_name: "O'Neil <test>", date_of_birth: '1990-01-31' },
    'document_angled.y4m',
  );
  const { context, page } = await signIn('ana@e2e.example');
  try {
    // The session cookie: Secure (localhost is a secure context), HttpOnly, SameSite=Strict, /console only.
    const cookie = (await context.cookies(stack.verifierUrl + '/console')).find((c) => c.name === 'tc_console');
    assert.ok(cookie, 'Chromium stored the Secure cookie over http://127.0.0.1');
    assert.deepEqual([cookie.secure, cookie.httpOnly, cookie.sameSite, cookie.path], [true, true, 'Strict', '/console']);

    const row = page.locator(`tr[data-session="${sessionId}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /manual_review\.not_run/);
    await assertAccessible(page, 'queue');

    const [caseResponse] = await Promise.all([page.waitForNavigation(), row.locator('a').click()]);
    const headers = caseResponse.headers();
    assert.match(headers['content-security-policy'], /default-src 'none'/);
    assert.doesNotMatch(headers['content-security-policy'], /script-src/);
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.equal(headers['cache-control'], 'no-store');

    // The captured document image is shown and loads.
    await page.waitForFunction(() => [...document.querySelectorAll('#images img')].every((i) => i.complete));
    const images = await page.$$eval('#images img', (imgs) => imgs.map((i) => i.naturalWidth));
    assert.ok(images.length >= 2 && images.every((w) => w > 0), `images loaded: ${images}`);
    // Side by side: the original camera photo, then the rectified document, each loaded, with a text alternative.
    await page.waitForFunction(() => [...document.querySelectorAll('#compare img')].every((i) => i.complete));
    const compare = await page.$$eval('#compare figure', (figures) =>
      figures.map((f) => {
        const img = f.querySelector('img');
        return { kind: f.dataset.kind, caption: f.querySelector('figcaption').textContent, alt: img.alt, w: img.naturalWidth, h: img.naturalHeight };
      }),
    );
    assert.deepEqual(compare.map((f) => f.kind), ['original', 'rectified'], JSON.stringify(compare));
    assert.deepEqual(compare.map((f) => f.caption), ['Original photo · document front', 'Rectified document · document front']);
    assert.deepEqual(compare.map((f) => [f.w, f.h]), [[960, 540], [1012, 638]], 'both images loaded at their sizes');
    assert.ok(compare.every((f) => f.alt.length > 20), 'each image has a text alternative');
    // Every check with its result, and the declared data (escaped, shown as text).
    for (const check of ['capture_quality', 'capture_integrity']) {
      assert.match(await page.locator(`[data-check="${check}"]`).innerText(), /passed/);
    }
    assert.match(await page.locator('#declared').innerText(), /O'Neil <test>/);
    assert.equal(await page.locator('#declared script, #declared test').count(), 0);
    await assertAccessible(page, 'case');

    await decide(page, sessionId, 'approve', 'reviewer.evidence_verified', 'document checked by hand');
    assert.match(page.url(), /\?done=approved$/);
    assert.equal(await page.locator('#state').innerText(), 'approved');
    assert.equal((await stack.session(sessionId)).state, 'approved');

    const event = await webhookFor(sessionId, 'session.approved');
    assert.equal(event.data.decision.decided_by, 'reviewer');
    assert.deepEqual(event.data.decision.reviewers, [reviewers.ana]);
    assert.equal(event.data.decision.reasons[0].code, 'reviewer.evidence_verified');

    await page.goto(`${stack.verifierUrl}/console/settings`);
    await assertAccessible(page, 'settings');
    // Signed out, then the login page.
    await Promise.all([page.waitForURL(/\/console\/login$/), page.click('text=Sign out')]);
    await assertAccessible(page, 'sign-in');
  } finally {
    await context.close();
  }
});

test('four-eyes: one approval is not enough, the same reviewer cannot approve twice, a second reviewer finalises; a cross-site post is refused', async () => {
  assert.deepEqual(await api('PUT', '/v1/review/settings', { four_eyes: true }), { four_eyes: true });
  const sessionId = await caseInReview({ family_name: 'Doe' });
  const ana = await signIn('ana@e2e.example');
  const ben = await signIn('ben@e2e.example');
  // Another site (another port of the same host: the SameSite cookie is even sent) posts a forged approval.
  const attacker = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end(
      `<!DOCTYPE html><html lang="en"><title>x</title><form method="post" action="${stack.verifierUrl}/console/cases/${sessionId}/decision">` +
        '<input name="csrf" value="forged"><input name="action" value="approve">' +
        '<input name="reason" value="reviewer.evidence_verified"><button id="go">win a prize</button></form></html>',
    );
  });
  await new Promise((r) => attacker.listen(0, '127.0.0.1', r));
  try {
    await ana.page.goto(`http://127.0.0.1:${attacker.address().port}/`);
    const [forged] = await Promise.all([ana.page.waitForNavigation(), ana.page.click('#go')]);
    assert.equal(forged.status(), 403);
    assert.match(await forged.text(), /cross_site_request/);
    assert.equal((await stack.session(sessionId)).state, 'review');

    await decide(ana.page, sessionId, 'approve', 'reviewer.evidence_verified', 'first pair of eyes');
    assert.match(ana.page.url(), /\?done=pending$/);
    assert.equal(await ana.page.locator('#state').innerText(), 'review');
    assert.equal((await stack.session(sessionId)).state, 'review', 'one approval is not enough');

    const again = await decide(ana.page, sessionId, 'approve', 'reviewer.evidence_verified', 'again');
    assert.equal(again.status(), 409);
    assert.match(await ana.page.locator('main').innerText(), /second, different reviewer/);
    assert.equal((await stack.session(sessionId)).state, 'review');

    await decide(ben.page, sessionId, 'approve', 'reviewer.evidence_verified', 'second pair of eyes');
    assert.match(ben.page.url(), /\?done=approved$/);
    assert.equal((await stack.session(sessionId)).state, 'approved');
    const event = await webhookFor(sessionId, 'session.approved');
    assert.deepEqual(event.data.decision.reviewers, [reviewers.ana, reviewers.ben]);
  } finally {
    attacker.close();
    await ana.context.close();
    await ben.context.close();
  }
});

test('sign-in brute force is rate-limited', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    const statuses = [];
    for (let i = 0; i < 6; i += 1) {
      await page.goto(`${stack.verifierUrl}/console/login`);
      await page.fill('#email', 'target@e2e.example');
      await page.fill('#password', `wrong guess ${i}`);
      const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
      statuses.push(response.status());
      if (response.status() === 429) assert.ok(Number(response.headers()['retry-after']) > 0);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 429, 429]);
    // Even the right password is refused while the account is locked.
    await page.goto(`${stack.verifierUrl}/console/login`);
    await page.fill('#email', 'target@e2e.example');
    await page.fill('#password', PASSWORD);
    const [locked] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    assert.equal(locked.status(), 429);
  } finally {
    await context.close();
  }
});
