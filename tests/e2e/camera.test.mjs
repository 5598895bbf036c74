// End-to-end camera handling of the SDK with Chromium's fake camera: the page being hidden pauses the
// analysis and releases the camera, being shown again reopens it and resumes; a camera track that
// ends is reopened; a device change that removes the camera reopens it (or, with no camera left,
// offers the file fallback); a camera without a torch says so. Run by `cargo xtask test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, env } from './harness.mjs';
import { openFixture } from './fixture_page.mjs';

let stack;

before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

// Chromium's headless pages stay visible; the test sets the page's visibility state as a browser does
// when the tab is switched, and sends the same event.
const setVisibility = (page, state) =>
  page.evaluate((state) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => state === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);

test('hidden pauses and releases the camera, visible reopens and resumes; an ended track is reopened; no torch', async () => {
  // The blurred clip is never auto-captured, so the capture keeps running throughout.
  const { browser, page, seen } = await openFixture(stack, { camera: join(env.assets(), 'document_blurred.y4m') });
  try {
    await page.waitForSelector('#status[data-status="capturing"]', { timeout: 60_000 });
    await page.waitForFunction(() => window.t.guidance.length > 3, null, { timeout: 30_000 });
    const camera = await page.evaluate(() => ({
      live: document.getElementById('video').srcObject?.getVideoTracks()[0]?.readyState,
      torch: window.capture.torchAvailable,
    }));
    assert.deepEqual(camera, { live: 'live', torch: false });
    const torch = await page.evaluate(() => window.capture.setTorch(true).then(() => 'on', (e) => e.code));
    assert.equal(torch, 'torch_unavailable');

    // Hidden: paused, camera released, no more frames analysed.
    await setVisibility(page, 'hidden');
    await page.waitForFunction(() => window.t.events.some((e) => e.type === 'paused'), null, { timeout: 10_000 });
    assert.equal(await page.evaluate(() => document.getElementById('video').srcObject), null);
    const frozen = await page.evaluate(() => window.t.guidance.length);
    await page.waitForTimeout(1_000);
    assert.equal(await page.evaluate(() => window.t.guidance.length), frozen, 'no analysis while hidden');
    assert.equal(await page.evaluate(() => window.capture.state), 'capturing');

    // Visible again: the camera reopens and the analysis resumes.
    await setVisibility(page, 'visible');
    await page.waitForFunction(() => window.t.events.some((e) => e.type === 'resumed'), null, { timeout: 30_000 });
    await page.waitForFunction((n) => window.t.guidance.length > n + 3, frozen, { timeout: 30_000 });
    assert.equal(
      await page.evaluate(() => document.getElementById('video').srcObject?.getVideoTracks()[0]?.readyState),
      'live',
    );

    // The camera's track ends (unplugged, or taken by the system): the SDK reopens it.
    const before = await page.evaluate(() => window.t.guidance.length);
    await page.evaluate(() => {
      const track = document.getElementById('video').srcObject.getVideoTracks()[0];
      track.stop(); // stop() alone fires no `ended`; a browser fires it when the device goes away
      track.dispatchEvent(new Event('ended'));
    });
    await page.waitForFunction(
      () => window.t.events.filter((e) => e.type === 'resumed').length >= 2,
      null,
      { timeout: 30_000 },
    );
    await page.waitForFunction((n) => window.t.guidance.length > n + 3, before, { timeout: 30_000 });
    const events = await page.evaluate(() => window.t.events.map((e) => e.type));
    assert.deepEqual(events, ['paused', 'resumed', 'paused', 'resumed']);
    assert.equal(seen.uploads.length, 0);
    assert.deepEqual(seen.consoleErrors, []);
  } finally {
    await browser.close();
  }
});

// Chromium's fake camera cannot be unplugged; the test makes `enumerateDevices` (and, for the last
// part, `getUserMedia`) answer as a browser does once the camera is gone, and sends `devicechange`.
test('device change: the camera still listed changes nothing; gone, it is reopened; none left, the file fallback', async () => {
  const { browser, page, seen } = await openFixture(stack, { camera: join(env.assets(), 'document_blurred.y4m') });
  try {
    await page.waitForSelector('#status[data-status="capturing"]', { timeout: 60_000 });
    await page.waitForFunction(() => window.t.guidance.length > 3, null, { timeout: 30_000 });
    const events = () => page.evaluate(() => window.t.events.map((e) => (e.code ? `${e.type}:${e.code}` : e.type)));

    // Another device came or went, the camera is still listed: nothing happens.
    await page.evaluate(() => navigator.mediaDevices.dispatchEvent(new Event('devicechange')));
    await page.waitForTimeout(1_000);
    assert.deepEqual(await events(), []);

    // The camera is no longer listed: paused, reopened (the system offers the fake camera again), resumed.
    const before = await page.evaluate(() => window.t.guidance.length);
    await page.evaluate(() => {
      const real = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices);
      window.__realEnumerate = real;
      navigator.mediaDevices.enumerateDevices = async () => (await real()).filter((d) => d.kind !== 'videoinput');
      navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
    });
    await page.waitForFunction(() => window.t.events.some((e) => e.type === 'resumed'), null, { timeout: 30_000 });
    await page.waitForFunction((n) => window.t.guidance.length > n + 3, before, { timeout: 30_000 });
    assert.deepEqual(await events(), ['paused', 'resumed']);
    assert.equal(
      await page.evaluate(() => document.getElementById('video').srcObject?.getVideoTracks()[0]?.readyState),
      'live',
    );

    // No camera at all any more: the reopen fails, so the capture offers the file fallback.
    await page.evaluate(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
      navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
    });
    await page.waitForFunction(() => window.capture.state === 'fallback', null, { timeout: 30_000 });
    assert.deepEqual(await events(), ['paused', 'resumed', 'paused', 'error:camera_lost']);
    assert.equal(await page.evaluate(() => document.getElementById('video').srcObject), null);
    assert.equal(seen.uploads.length, 0);
    assert.deepEqual(seen.consoleErrors, []);
  } finally {
    await browser.close();
  }
});

test('constraints the camera cannot meet are loosened instead of failing', async () => {
  const constraints = encodeURIComponent(JSON.stringify({ width: { exact: 5000 }, height: { exact: 4000 } }));
  const { browser, page } = await openFixture(stack, {
    camera: join(env.assets(), 'document_blurred.y4m'),
    query: `constraints=${constraints}`,
  });
  try {
    await page.waitForSelector('#status[data-status="capturing"]', { timeout: 60_000 });
    await page.waitForFunction(() => window.t.guidance.length > 3, null, { timeout: 30_000 });
    const settings = await page.evaluate(() => document.getElementById('video').srcObject.getVideoTracks()[0].getSettings());
    assert.notEqual(settings.width, 5000);
    assert.equal(await page.evaluate(() => window.t.startError), null);
  } finally {
    await browser.close();
  }
});

test('a webview without navigator.mediaDevices: insecure_context with the file fallback', async () => {
  const { browser, page } = await openFixture(stack, {
    camera: join(env.assets(), 'document_blurred.y4m'),
    initScript: () => Object.defineProperty(Navigator.prototype, 'mediaDevices', { configurable: true, get: () => undefined }),
  });
  try {
    await page.waitForSelector('#status[data-status="fallback"]', { timeout: 60_000 });
    const t = await page.evaluate(() => window.t);
    assert.deepEqual(t.startError, { code: 'insecure_context', fileFallback: true, state: 'fallback' });
    assert.equal(await page.locator('#file').getAttribute('accept'), 'image/*');
  } finally {
    await browser.close();
  }
});
