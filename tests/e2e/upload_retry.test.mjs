// End-to-end: uploads over a flaky network (issue 5). Playwright intercepts the SDK's requests to
// `/v1/client/captures`: the first upload reaches the verifier (which stores it) but its answer is cut
// (connection reset), so the SDK retries the identical envelope and the verifier answers with the
// capture it already holds; a 503 with `Retry-After` is waited out; a network that stays down ends
// in `network_error` after every attempt. Run by `cargo xtask test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchBrowser, env, confirmReview } from './harness.mjs';

const CAPTURE_PATH = '/v1/client/captures';
let stack;

before(async () => {
  // Only the capture checks (no models needed): the verifier then stops promptly after the tests.
  process.env.TRUSTCAP_CHECKS = 'capture_quality,capture_integrity';
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

/**
 * The demo page capturing `document_front` from the sharp clip, with `handler` deciding what happens to
 * each capture POST (`n` counts them from 1). Records the SDK's `uploading` and `uploaded` events, the
 * request bodies and the session.
 */
async function openDemo(handler) {
  const browser = await launchBrowser(join(env.assets(), 'document_sharp.y4m'));
  const page = await browser.newPage();
  // The SDK's events, seen from inside the page without touching the demo.
  await page.addInitScript(() => {
    window.__events = [];
    const dispatch = EventTarget.prototype.dispatchEvent;
    EventTarget.prototype.dispatchEvent = function (event) {
      if (['uploading', 'uploaded', 'error'].includes(event.type)) {
        window.__events.push({ type: event.type, detail: event.detail, at: performance.now() });
      }
      return dispatch.call(this, event);
    };
  });
  const seen = { bodies: [], sessionId: null };
  page.on('response', async (res) => {
    if (new URL(res.url()).pathname === '/api/session' && res.ok()) seen.sessionId = (await res.json()).session_id;
  });
  let n = 0;
  await page.route(`**${CAPTURE_PATH}`, async (route) => {
    const request = route.request();
    if (request.method() !== 'POST') return route.continue();
    n += 1;
    seen.bodies.push(request.postDataBuffer());
    return handler(route, n);
  });
  await page.goto(`${stack.demoUrl}/?autostart=1&steps=document_front`);
  return { browser, page, seen, events: () => page.evaluate(() => window.__events) };
}

test('the answer to the first upload is lost: the retry sends the identical envelope and the verifier holds it once', async () => {
  const { browser, page, seen, events } = await openDemo(async (route, n) => {
    if (n === 1) {
      // Forwarded to the verifier (which stores the capture), then the connection is reset.
      const response = await route.fetch();
      assert.equal(response.status(), 201, 'the first attempt was stored');
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  try {
    // The demo's element shows the picture first: the user confirms it.
    await confirmReview(page);
    await page.waitForSelector('#status[data-status="submitted"]', { timeout: 90_000 });
    assert.equal(seen.bodies.length, 2, 'one retry');
    assert.ok(seen.bodies[0].equals(seen.bodies[1]), 'the retry re-sends the identical sealed envelope');

    const log = await events();
    const uploading = log.filter((e) => e.type === 'uploading').map((e) => e.detail);
    const attempts = [...new Set(uploading.map((d) => d.attempt))];
    assert.deepEqual(attempts, [1, 2], JSON.stringify(uploading));
    for (const d of uploading) {
      assert.equal(d.total, seen.bodies[0].length);
      assert.ok(d.loaded >= 0 && d.loaded <= d.total);
    }
    assert.ok(uploading.some((d) => d.attempt === 2 && d.loaded === d.total), 'progress of the retry reaches the total');
    const uploaded = log.find((e) => e.type === 'uploaded').detail;
    assert.equal(uploaded.duplicate, true, 'the verifier recognised the retry');
    assert.ok(!log.some((e) => e.type === 'error'));

    // The verifier holds the submission once.
    const session = await stack.session(seen.sessionId);
    assert.equal(session.status, 'submitted');
    assert.equal(session.captures.length, 1);
    assert.equal(session.captures.filter((c) => c.step === 'document_front').length, 1);
    assert.equal(session.captures[0].capture_id, uploaded.captureId);
  } finally {
    await browser.close();
  }
});

test('a 503 with Retry-After is waited out, then the upload succeeds', async () => {
  const { browser, page, seen, events } = await openDemo(async (route, n) => {
    if (n === 1) {
      return route.fulfill({
        status: 503,
        contentType: 'application/json',
        headers: { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'retry-after', 'retry-after': '2' },
        body: JSON.stringify({ error: { code: 'unavailable', message: 'try later' } }),
      });
    }
    return route.continue();
  });
  try {
    // The demo's element shows the picture first: the user confirms it.
    await confirmReview(page);
    await page.waitForSelector('#status[data-status="submitted"]', { timeout: 90_000 });
    assert.equal(seen.bodies.length, 2);
    const uploading = (await events()).filter((e) => e.type === 'uploading');
    const first = uploading.find((e) => e.detail.attempt === 1);
    const second = uploading.find((e) => e.detail.attempt === 2);
    assert.ok(second.at - first.at >= 1900, `waited ${Math.round(second.at - first.at)} ms for Retry-After: 2`);
    const session = await stack.session(seen.sessionId);
    assert.equal(session.captures.length, 1);
  } finally {
    await browser.close();
  }
});

test('a network that stays down ends in network_error after every attempt, storing nothing', async () => {
  const { browser, page, seen, events } = await openDemo((route) => route.abort('connectionreset'));
  try {
    // The demo's element shows the picture first: the user confirms it.
    await confirmReview(page);
    await page.waitForSelector('#status[data-status="error:network_error"]', { timeout: 90_000 });
    assert.equal(seen.bodies.length, 4, 'four attempts');
    const log = await events();
    assert.deepEqual([...new Set(log.filter((e) => e.type === 'uploading').map((e) => e.detail.attempt))], [1, 2, 3, 4]);
    assert.equal(log.find((e) => e.type === 'error').detail.code, 'network_error');
    const session = await stack.session(seen.sessionId);
    assert.equal(session.captures.length, 0);
  } finally {
    await browser.close();
  }
});
