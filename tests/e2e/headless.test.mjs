// End-to-end: the headless API (`createCapture`) in Debian's Chromium with the fake camera playing a
// sharp document clip, against a real verifier: its events come in order (guidance and quality per
// frame, then captured → uploading → uploaded → done), and with `review: true` nothing is uploaded
// until `confirm()`, while `retake()` reopens the camera and captures again; one Capture runs a second
// step with `start(step)` after `done`. Run by `cargo xtask test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchBrowser, env } from './harness.mjs';

const CAPTURE_PATH = '/v1/client/captures';
const EVENTS = ['guidance', 'quality', 'captured', 'uploading', 'uploaded', 'done', 'error'];
let stack;

before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

/** A fresh session (customer API) and a page of the demo's origin (it serves the package at /sdk/). */
async function openPage(steps) {
  const res = await fetch(`${stack.verifierUrl}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ steps }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const session = await res.json();
  const browser = await launchBrowser(join(env.assets(), 'document_sharp.y4m'));
  const page = await browser.newPage();
  const uploads = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === CAPTURE_PATH) uploads.push(req.url());
  });
  // The demo page only serves as an origin here: the test drives the package itself, headless.
  await page.route('**/api/session', (route) => route.fulfill({ status: 503, body: '{}' }));
  await page.goto(`${stack.demoUrl}/`);
  return { browser, page, session, uploads };
}

/** Runs-length-collapses a list of event names: `a a a b` → `a b`. */
function collapse(names) {
  return names.filter((n, i) => i === 0 || names[i - 1] !== n);
}

test('the headless API emits guidance and quality per frame, then captured, uploading, uploaded and done', async () => {
  const { browser, page, session, uploads } = await openPage(['document_front']);
  try {
    const log = await page.evaluate(
      async ({ verifierUrl, token, events }) => {
        const { createCapture } = await import('/sdk/index.js');
        const capture = await createCapture({ verifierUrl, token, step: 'document_front' });
        const log = [];
        const finished = new Promise((resolve) => {
          for (const type of events) {
            capture.addEventListener(type, (e) => {
              log.push({ type, state: capture.state, detail: type === 'captured' ? { bytes: e.detail.bytes } : e.detail });
              if (type === 'done' || type === 'error') resolve();
            });
          }
        });
        await capture.start();
        await finished;
        return log;
      },
      { verifierUrl: stack.verifierUrl, token: session.client_token, events: EVENTS },
    );
    const names = log.map((e) => e.type);
    assert.ok(!names.includes('error'), JSON.stringify(log.filter((e) => e.type === 'error')));
    // After the frames: captured, then `uploading` as the upload starts and as its bytes go out, then the result.
    const at = names.indexOf('captured');
    assert.deepEqual(collapse(names.slice(at)), ['captured', 'uploading', 'uploaded', 'done'], JSON.stringify(collapse(names)));
    const uploading = log.filter((e) => e.type === 'uploading').map((e) => e.detail);
    assert.ok(uploading.every((u) => u.attempt === 1 && u.loaded <= u.total), JSON.stringify(uploading));
    assert.equal(uploading[uploading.length - 1].loaded, uploading[0].total, 'the last progress event covers the whole envelope');
    const frames = names.slice(0, at);
    assert.ok(frames.length >= 4, 'a few frames were analysed');
    // Every analysed frame: its guidance, then its quality.
    for (let i = 0; i < frames.length; i += 2) {
      assert.deepEqual(frames.slice(i, i + 2), ['guidance', 'quality'], `frame ${i / 2}: ${collapse(names)}`);
    }
    const quality = log.filter((e) => e.type === 'quality');
    assert.ok(quality.every((q) => typeof q.detail.acceptable === 'boolean' && typeof q.detail.metrics.sharpness === 'number'));
    assert.ok(quality.some((q) => q.detail.acceptable), 'an acceptable frame was seen');
    assert.deepEqual(
      quality.map((q) => q.detail.framesAnalyzed),
      quality.map((_, i) => i + 1),
    );
    const done = log[log.length - 1].detail;
    assert.equal(done.step, 'document_front');
    assert.equal(done.captureId, log[log.length - 2].detail.captureId);
    assert.equal(log[log.length - 1].state, 'uploaded');
    assert.equal(uploads.length, 1);
    const view = await stack.session(session.session_id);
    assert.equal(view.status, 'submitted');
    assert.equal(view.captures[0].capture_id, done.captureId);
    assert.equal(view.captures[0].signature_verified, true);
  } finally {
    await browser.close();
  }
});

test('with review: true the capture waits for confirm(); retake() reopens the camera and captures again', async () => {
  const { browser, page, session, uploads } = await openPage(['document_front']);
  try {
    const log = await page.evaluate(
      async ({ verifierUrl, token, events }) => {
        const { createCapture } = await import('/sdk/index.js');
        const capture = await createCapture({ verifierUrl, token, step: 'document_front', review: true });
        const log = [];
        const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
        let captures = 0;
        const finished = new Promise((resolve) => {
          for (const type of events) {
            capture.addEventListener(type, async (e) => {
              log.push({ type, state: capture.state });
              if (type === 'done' || type === 'error') resolve();
              if (type !== 'captured') return;
              captures += 1;
              // The capture holds the picture for review: no upload while the applicant looks at it.
              await sleep(0);
              log.push({ type: 'state', state: capture.state, image: e.detail.image.size });
              await sleep(1500);
              log.push({ type: 'state', state: capture.state });
              if (captures === 1) capture.retake();
              else capture.confirm();
              log.push({ type: 'state', state: capture.state });
            });
          }
        });
        await capture.start();
        await finished;
        return log;
      },
      { verifierUrl: stack.verifierUrl, token: session.client_token, events: EVENTS },
    );
    const names = log.filter((e) => e.type !== 'quality').map((e) => e.type);
    assert.ok(!names.includes('error'), JSON.stringify(log.filter((e) => e.type === 'error')));
    const flow = collapse(names);
    assert.deepEqual(
      flow,
      ['guidance', 'captured', 'state', 'guidance', 'captured', 'state', 'uploading', 'uploaded', 'done'],
      JSON.stringify(flow),
    );
    const states = log.filter((e) => e.type === 'state');
    // First picture: in review for 1.5 s, then retaken (back to starting the camera).
    assert.equal(states[0].state, 'review');
    assert.ok(states[0].image > 0);
    assert.equal(states[1].state, 'review');
    assert.equal(states[2].state, 'starting');
    // Second picture: confirmed → uploading.
    assert.equal(states[3].state, 'review');
    assert.equal(states[4].state, 'review');
    assert.equal(states[5].state, 'uploading');
    assert.equal(uploads.length, 1, 'only the confirmed picture was uploaded');
    const view = await stack.session(session.session_id);
    assert.equal(view.captures.length, 1);
    assert.equal(view.captures[0].signature_verified, true);
  } finally {
    await browser.close();
  }
});

test('one Capture runs the steps one after the other: start(step) again after done', async () => {
  const { browser, page, session, uploads } = await openPage(['document_front', 'document_back']);
  try {
    const result = await page.evaluate(
      async ({ verifierUrl, token }) => {
        const { createCapture } = await import('/sdk/index.js');
        const capture = await createCapture({ verifierUrl, token });
        const done = [];
        const errors = [];
        const run = (step) =>
          new Promise((resolve) => {
            const onDone = (e) => {
              done.push(e.detail);
              capture.removeEventListener('done', onDone);
              resolve();
            };
            capture.addEventListener('done', onDone);
            capture.addEventListener('error', (e) => {
              errors.push(e.detail.code);
              resolve();
            });
            capture.start(step).catch(() => resolve());
          });
        await run('document_front');
        const between = capture.state;
        await run('document_back');
        let invalid = null;
        try {
          await capture.start('passport');
        } catch (err) {
          invalid = err.code;
        }
        return { done, errors, between, after: capture.state, step: capture.step, invalid };
      },
      { verifierUrl: stack.verifierUrl, token: session.client_token },
    );
    assert.deepEqual(result.errors, []);
    assert.equal(result.between, 'uploaded');
    assert.deepEqual(result.done.map((d) => d.step), ['document_front', 'document_back']);
    assert.equal(result.step, 'document_back');
    assert.equal(result.invalid, 'invalid_options');
    assert.equal(uploads.length, 2);
    const view = await stack.session(session.session_id);
    assert.deepEqual(view.captures.map((c) => c.step).sort(), ['document_back', 'document_front']);
    assert.ok(view.captures.every((c) => c.signature_verified));
  } finally {
    await browser.close();
  }
});
