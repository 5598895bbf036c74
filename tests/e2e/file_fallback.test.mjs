// End-to-end file-input fallback: a browser whose camera permission is denied (or that has no camera
// at all), as in webviews and in-app browsers. `start()` rejects with a camera error code and
// `fileFallback: true`, the page offers `<input type=file accept="image/*" capture>`, and the photo
// the user picks goes through the same quality checks as the live camera: a blurred photo is refused
// with guidance, a sharp one is rectified, signed, uploaded and held by the verifier.
// Run by `cargo xtask test` (stills from `cargo xtask e2e-assets`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, envelopeParts, env } from './harness.mjs';
import { openFixture } from './fixture_page.mjs';

let stack;

before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

test('camera permission denied: the file fallback refuses a blurred photo with guidance, then uploads a sharp one', async () => {
  const { browser, page, seen } = await openFixture(stack, { camera: 'denied' });
  try {
    await page.waitForSelector('#status[data-status="fallback"]', { timeout: 60_000 });
    const t = await page.evaluate(() => window.t);
    assert.deepEqual(t.startError, { code: 'camera_denied', fileFallback: true, state: 'fallback' });
    assert.deepEqual(
      t.events.map((e) => [e.type, e.code]),
      [['error', 'camera_denied']],
    );
    // The helper's markup: a file input for images that asks phones for the rear camera.
    const input = page.locator('#file');
    assert.equal(await input.getAttribute('type'), 'file');
    assert.equal(await input.getAttribute('accept'), 'image/*');
    assert.equal(await input.getAttribute('capture'), 'environment');

    // A blurred photo: refused with the live path's blur guidance, nothing uploaded.
    await input.setInputFiles(join(env.assets(), 'document_still_blurred.png'));
    await page.waitForSelector('#status[data-status="retry"]', { timeout: 60_000 });
    let results = await page.evaluate(() => window.t.results);
    assert.equal(results.length, 1);
    assert.equal(results[0].accepted, false);
    assert.equal(results[0].guidance.code, 'too_blurry', JSON.stringify(results[0].guidance.reasons));
    assert.equal(results[0].guidance.source, 'file');
    assert.match(results[0].guidance.message.toLowerCase(), /blur|focus|sharp/);
    assert.equal(await page.getAttribute('#guidance', 'data-code'), 'too_blurry');
    assert.equal(seen.uploads.length, 0);
    assert.equal(await page.evaluate(() => window.capture.state), 'fallback');

    // Another photo, sharp: accepted and uploaded as the rectified document.
    await input.setInputFiles(join(env.assets(), 'document_still.png'));
    await page.waitForSelector('#status[data-status="submitted"]', { timeout: 60_000 });
    results = await page.evaluate(() => window.t.results);
    assert.equal(results.length, 2);
    assert.equal(results[1].accepted, true, JSON.stringify(results[1]));
    assert.ok(results[1].captureId);
    assert.equal(await page.evaluate(() => window.capture.state), 'uploaded');

    assert.equal(seen.uploads.length, 1, 'exactly one upload');
    const { manifest } = envelopeParts(new Uint8Array(seen.uploads[0].body));
    // The rectified document, then the photo it was cut from (scaled to the analysis size, 1280 px wide).
    assert.deepEqual(manifest.images.map((i) => i.name), ['document_front', 'document_original']);
    assert.deepEqual([manifest.images[0].width, manifest.images[0].height], [1012, 638], 'rectified ID-1 size');
    assert.deepEqual([manifest.images[1].width, manifest.images[1].height], [1280, 720], 'the original photo');
    assert.equal(manifest.quality['capture.file'], 1, 'the upload says it is a still from a file');
    assert.equal(manifest.quality['document.found'], 1);

    // The verifier holds the capture, with a valid signature and its own quality checks passed.
    const session = await stack.session(await page.evaluate(() => window.t.sessionId));
    assert.equal(session.status, 'submitted');
    assert.equal(session.captures.length, 1);
    const [capture] = session.captures;
    assert.equal(capture.capture_id, results[1].captureId);
    assert.equal(capture.step, 'document_front');
    assert.equal(capture.signature_verified, true);
    assert.equal(capture.images[0].sha256, manifest.images[0].sha256);
    assert.equal(capture.server_quality.acceptable, true, JSON.stringify(capture.server_quality));
    assert.deepEqual(seen.consoleErrors.filter((e) => !/Permission denied|NotAllowedError/i.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('no camera at all: start() rejects with no_camera and offers the file fallback; non-images are refused', async () => {
  const { browser, page, seen } = await openFixture(stack, { camera: 'none' });
  try {
    await page.waitForSelector('#status[data-status="fallback"]', { timeout: 60_000 });
    const t = await page.evaluate(() => window.t);
    assert.deepEqual(t.startError, { code: 'no_camera', fileFallback: true, state: 'fallback' });
    // Not an image: `invalid_image`, and the capture stays usable.
    await page.locator('#file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await page.waitForSelector('#status[data-status="failed"]', { timeout: 30_000 });
    const results = await page.evaluate(() => window.t.results);
    assert.deepEqual(results, [{ error: 'invalid_image' }]);
    assert.equal(await page.evaluate(() => window.capture.state), 'fallback');
    // Bytes that claim to be a JPEG but are not: refused too.
    const bad = await page.evaluate(async () => {
      try {
        await window.capture.submitFile(new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0, 1, 2, 3])], { type: 'image/jpeg' }));
        return 'accepted';
      } catch (e) {
        return e.code;
      }
    });
    assert.equal(bad, 'invalid_image');
    assert.equal(seen.uploads.length, 0);
  } finally {
    await browser.close();
  }
});

/** Polls the verifier (customer API) until the session has a decision. */
async function decided(sessionId) {
  for (let i = 0; i < 240; i++) {
    const session = await stack.session(sessionId);
    if (session.decision) return session;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no decision for ${sessionId} in 2 minutes`);
}

test('selfie photo from the file fallback: uploaded without a burst, liveness inconclusive, never approved', async () => {
  const { browser, page, seen } = await openFixture(stack, { camera: 'denied', query: 'step=selfie' });
  try {
    await page.waitForSelector('#status[data-status="fallback"]', { timeout: 60_000 });
    const input = page.locator('#file');
    assert.equal(await input.getAttribute('capture'), 'user', 'the front camera for a selfie');
    await input.setInputFiles(join(env.assets(), 'selfie_still.png'));
    await page.waitForSelector('#status[data-status="submitted"]', { timeout: 120_000 });
    const results = await page.evaluate(() => window.t.results);
    assert.equal(results.length, 1);
    assert.equal(results[0].accepted, true, JSON.stringify(results[0]));

    // One image, no burst frames, no liveness entries, and the file mark.
    assert.equal(seen.uploads.length, 1);
    const { manifest } = envelopeParts(new Uint8Array(seen.uploads[0].body));
    assert.deepEqual(manifest.images.map((i) => i.name), ['selfie']);
    assert.equal(manifest.quality['capture.file'], 1);
    assert.deepEqual(Object.keys(manifest.quality).filter((k) => k.startsWith('liveness.')), []);

    // Liveness cannot be judged from one still: the verifier says so and does not approve.
    const session = await decided(await page.evaluate(() => window.t.sessionId));
    const liveness = session.checks.find((c) => c.name === 'liveness');
    assert.ok(liveness, JSON.stringify(session.checks.map((c) => c.name)));
    assert.equal(liveness.outcome, 'inconclusive', JSON.stringify(liveness));
    assert.ok(liveness.reasons.some((r) => r.code === 'liveness.no_burst'), JSON.stringify(liveness.reasons));
    // Never approved: a person reviews it, or (when the server's own quality check also asks for a better
    // photo, as it does for this small synthetic selfie) the applicant is asked to capture again.
    assert.ok(['review', 'resubmission_requested'].includes(session.decision.state), JSON.stringify(session.decision));
    if (session.decision.state === 'review') {
      assert.ok(session.decision.reasons.some((r) => r.code.startsWith('liveness.')), JSON.stringify(session.decision));
    }
  } finally {
    await browser.close();
  }
});
