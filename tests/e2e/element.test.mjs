// End-to-end: the <trustcap-capture> Web Component with its default UI, on the demo page (which uses the
// package exactly as an integrator would), in Debian's Chromium against the demo backend and a real
// verifier. The whole document-front + selfie flow, operated with the keyboard only, ends with a verified
// submission; axe-core finds no serious or critical violation on any screen (start, camera, review,
// uploading, done, error); `lang="es"` shows Spanish guidance; a refused token shows the error screen with
// its stable code and a working retry. Run by `cargo xtask test`.
//
// Cameras: Chromium has one fake camera file per browser, so the document step films the rendered
// document clip through `--use-file-for-fake-video-capture`, while the selfie step (the SDK asks for
// `facingMode: 'user'`) is answered by a second fake camera in the page: a canvas stream playing the first
// frame of `selfie_still_frame.y4m` (the selfie suite's clip; capture takes it, liveness rejects it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { startStack, launchBrowser, launchBrowserWithoutCamera, env } from './harness.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const CAPTURE_PATH = '/v1/client/captures';
let stack;
let catalogs;

before(async () => {
  stack = await startStack();
  ({ CATALOGS: catalogs } = await import(pathToFileURL(join(env.sdkDir(), 'i18n.js')).href));
});
after(async () => {
  await stack?.stop();
});

/** The first frame of a 4:2:0 Y4M clip (`C420jpeg`: full-range BT.601) as RGBA. */
function y4mFirstFrameRgba(path) {
  const bytes = readFileSync(path);
  const headerEnd = bytes.indexOf(0x0a);
  const header = bytes.subarray(0, headerEnd).toString('latin1');
  const width = Number(/ W(\d+)/.exec(header)[1]);
  const height = Number(/ H(\d+)/.exec(header)[1]);
  const frameStart = bytes.indexOf(0x0a, headerEnd + 1) + 1; // after "FRAME\n"
  const ySize = width * height;
  const cw = width / 2;
  const y = bytes.subarray(frameStart, frameStart + ySize);
  const u = bytes.subarray(frameStart + ySize, frameStart + ySize + ySize / 4);
  const v = bytes.subarray(frameStart + ySize + ySize / 4, frameStart + ySize + ySize / 2);
  const rgba = Buffer.alloc(ySize * 4);
  const clamp = (x) => Math.max(0, Math.min(255, Math.round(x)));
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const Y = y[row * width + col];
      const c = (row >> 1) * cw + (col >> 1);
      const U = u[c] - 128;
      const V = v[c] - 128;
      const i = (row * width + col) * 4;
      rgba[i] = clamp(Y + 1.402 * V);
      rgba[i + 1] = clamp(Y - 0.344136 * U - 0.714136 * V);
      rgba[i + 2] = clamp(Y + 1.772 * U);
      rgba[i + 3] = 255;
    }
  }
  return { width, height, rgba: rgba.toString('base64') };
}

/** Answers the page's front-camera requests (`facingMode: 'user'`) with a canvas stream playing `frame`. */
async function addFrontCamera(page, frame) {
  await page.addInitScript(({ width, height, rgba }) => {
    const devices = navigator.mediaDevices;
    const original = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
      // The SDK asks for the front camera as `facingMode: { ideal: 'user' }` (or a plain 'user').
      const facing = constraints && constraints.video && constraints.video.facingMode;
      const front = facing === 'user' || (facing && (facing.ideal === 'user' || facing.exact === 'user'));
      if (!front) return original(constraints);
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext('2d');
      const image = new ImageData(Uint8ClampedArray.from(atob(rgba), (ch) => ch.charCodeAt(0)), width, height);
      const stream = canvas.captureStream(30);
      const timer = setInterval(() => ctx.putImageData(image, 0, 0), 33);
      ctx.putImageData(image, 0, 0);
      for (const track of stream.getVideoTracks()) track.addEventListener('ended', () => clearInterval(timer));
      const stop = MediaStreamTrack.prototype.stop;
      for (const track of stream.getVideoTracks()) {
        track.stop = function () {
          clearInterval(timer);
          return stop.call(this);
        };
      }
      return stream;
    };
  }, frame);
}

/** Opens the demo page; records uploads, the session the demo backend made and console errors. */
async function openDemo(browser, query, { frontCamera } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen = { uploads: [], sessionId: null, consoleErrors: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => seen.consoleErrors.push(`pageerror: ${err.message}`));
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === CAPTURE_PATH) seen.uploads.push(req.url());
  });
  page.on('response', async (res) => {
    if (new URL(res.url()).pathname === '/api/session' && res.ok()) seen.sessionId = (await res.json()).session_id;
  });
  if (frontCamera) await addFrontCamera(page, frontCamera);
  // The guidance codes the element re-dispatched (a sharp document is captured within a few frames, so
  // the camera screen may be gone before a selector poll sees it).
  await page.addInitScript(() => {
    window.__codes = [];
    document.addEventListener('guidance', (e) => {
      // Read when the element re-dispatches the event, after it updated its screen.
      const root = document.querySelector('trustcap-capture').shadowRoot;
      const text = (id) => root.querySelector(id).textContent.trim();
      const step = root.querySelector('#guidance').dataset.step;
      window.__codes.push({ code: e.detail.code, step, progress: text('#progress'), title: text('#title') });
    });
  });
  await page.goto(`${stack.demoUrl}/${query}`);
  return { page, seen };
}

/** axe-core on the page (the element's open shadow root included): no serious or critical violation. */
async function assertAccessible(page, screen) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
  assert.deepEqual(bad, [], `accessibility of the ${screen} screen`);
}

/** The id of the element focused inside <trustcap-capture>'s shadow root, if any. */
function focusedInElement(page) {
  return page.evaluate(() => {
    const host = document.activeElement;
    return host && host.localName === 'trustcap-capture' ? host.shadowRoot.activeElement?.id ?? null : null;
  });
}

/** Presses Tab until the element's `id` control has focus (keyboard only); fails after 10 presses. */
async function tabTo(page, id) {
  for (let i = 0; i < 10; i++) {
    if ((await focusedInElement(page)) === id) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached #${id}`);
}

/** The focused control shows a visible focus indicator (an outline of at least 2 px). */
async function assertVisibleFocus(page) {
  const outline = await page.evaluate(() => {
    const el = document.activeElement.shadowRoot.activeElement;
    const style = getComputedStyle(el);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  assert.notEqual(outline.style, 'none', JSON.stringify(outline));
  assert.ok(outline.width >= 2, JSON.stringify(outline));
}

const screen = (page, name, timeout = 60_000) => page.waitForSelector(`trustcap-capture[screen="${name}"]`, { timeout });

test('document front + selfie through <trustcap-capture>, keyboard only, accessible on every screen, ends verified', async () => {
  const frontCamera = y4mFirstFrameRgba(join(env.assets(), 'selfie_still_frame.y4m'));
  const browser = await launchBrowser(join(env.assets(), 'document_sharp.y4m'));
  try {
    const { page, seen } = await openDemo(browser, '?steps=document_front,selfie', { frontCamera });
    // Start screen: step 1 of 2, the document step's title, an enabled Start button.
    await page.waitForSelector('trustcap-capture #start:not([disabled])', { timeout: 60_000 });
    assert.equal((await page.textContent('trustcap-capture #progress')).trim(), 'Step 1 of 2');
    assert.equal((await page.textContent('trustcap-capture #title')).trim(), catalogs.en['step.document_front.title']);
    await assertAccessible(page, 'start');

    // Keyboard only: Tab to Start, Enter.
    await tabTo(page, 'start');
    await assertVisibleFocus(page);
    await page.keyboard.press('Enter');
    await screen(page, 'camera');
    await page.waitForFunction(() => window.__codes.length > 0, null, { timeout: 60_000 });
    // The guidance is spoken through a polite live region once it holds (not at frame rate).
    const live = await page.$eval('trustcap-capture', (el) => {
      const a = el.shadowRoot.querySelector('#announce');
      return { live: a.getAttribute('aria-live'), role: a.getAttribute('role') };
    });
    assert.deepEqual(live, { live: 'polite', role: 'status' });
    await assertAccessible(page, 'camera (document)');

    // Review: the picture and its two choices; focus moved to the review heading, Tab reaches "Use this photo".
    await screen(page, 'review');
    assert.equal(seen.uploads.length, 0, 'nothing is uploaded before the applicant confirms');
    assert.equal(
      await page.$eval('trustcap-capture', (el) => el.shadowRoot.querySelector('#announce').textContent),
      catalogs.en['review.title'],
      'the new screen is announced',
    );
    const still = await page.$eval('trustcap-capture', (el) => {
      const img = el.shadowRoot.querySelector('#still');
      return { alt: img.alt, loaded: img.complete && img.naturalWidth > 0, width: img.naturalWidth };
    });
    assert.equal(still.alt, catalogs.en['review.image']);
    assert.ok(still.loaded, JSON.stringify(still));
    await assertAccessible(page, 'review (document)');
    // The upload is held at the network while axe looks at the uploading screen.
    let release;
    const held = new Promise((resolve) => {
      release = resolve;
    });
    await page.route(`**${CAPTURE_PATH}`, async (route) => {
      await held;
      await route.continue();
    });
    await tabTo(page, 'confirm');
    await assertVisibleFocus(page);
    await page.keyboard.press('Enter');
    await screen(page, 'uploading');
    await assertAccessible(page, 'uploading');
    release(); // (later uploads pass straight through)

    // Step 2: the selfie, started by the element itself once the document is uploaded.
    await page.waitForFunction(() => window.__codes.some((c) => c.step === 'selfie'), null, { timeout: 60_000 });
    const codes = await page.evaluate(() => window.__codes);
    const first = codes.find((c) => c.step === 'selfie');
    assert.deepEqual(first.progress, 'Step 2 of 2');
    assert.deepEqual(first.title, catalogs.en['step.selfie.title']);
    // The document step's guidance was shown with its own title, as step 1 of 2.
    const documentGuidance = codes.filter((c) => c.step === 'document_front');
    assert.ok(documentGuidance.length > 0);
    assert.ok(documentGuidance.every((c) => c.progress === 'Step 1 of 2' && c.title === catalogs.en['step.document_front.title']));
    await assertAccessible(page, 'camera (selfie)');
    await screen(page, 'review', 120_000);
    await assertAccessible(page, 'review (selfie)');
    await tabTo(page, 'confirm');
    await page.keyboard.press('Enter');

    // Done: the element's completion event, the page's confirmation, and the verifier's view.
    await screen(page, 'done', 60_000);
    await assertAccessible(page, 'done');
    await page.waitForSelector('#status[data-status="submitted"]', { timeout: 60_000 });
    assert.equal(seen.uploads.length, 2, 'one upload per step');
    const session = await stack.session(seen.sessionId);
    assert.equal(session.status, 'submitted', JSON.stringify(session.status));
    assert.deepEqual(session.captures.map((c) => c.step).sort(), ['document_front', 'selfie']);
    for (const capture of session.captures) assert.equal(capture.signature_verified, true, capture.step);
    assert.deepEqual(seen.consoleErrors, []);
  } finally {
    await browser.close();
  }
});

test('the element re-dispatches the headless events in order and emits trustcap-complete', async () => {
  const browser = await launchBrowser(join(env.assets(), 'document_sharp.y4m'));
  try {
    const { page, seen } = await openDemo(browser, '?steps=document_front');
    await page.evaluate(() => {
      window.__events = [];
      for (const type of ['guidance', 'quality', 'captured', 'uploading', 'uploaded', 'done', 'error', 'trustcap-complete']) {
        // Listening on the document: the events bubble out of the element (composed).
        document.addEventListener(type, (e) => {
          const last = window.__events[window.__events.length - 1];
          if (last !== type) window.__events.push(type);
          if (type === 'trustcap-complete') window.__complete = e.detail;
        });
      }
    });
    await page.waitForSelector('trustcap-capture #start:not([disabled])', { timeout: 60_000 });
    await page.click('trustcap-capture #start');
    await screen(page, 'review');
    await page.click('trustcap-capture #confirm');
    await screen(page, 'done');
    const events = await page.evaluate(() => window.__events);
    // guidance/quality alternate per frame, then the upload events once.
    const frames = events.slice(0, events.indexOf('captured'));
    assert.ok(frames.length >= 2 && frames.every((t, i) => t === (i % 2 === 0 ? 'guidance' : 'quality')), events.join(' '));
    assert.deepEqual(events.slice(events.indexOf('captured')), ['captured', 'uploading', 'uploaded', 'done', 'trustcap-complete']);
    const complete = await page.evaluate(() => window.__complete);
    assert.equal(complete.captures.length, 1);
    assert.equal(complete.captures[0].step, 'document_front');
    const session = await stack.session(seen.sessionId);
    assert.equal(session.captures[0].capture_id, complete.captures[0].captureId);
  } finally {
    await browser.close();
  }
});

test('lang="es" shows the Spanish catalog: step, buttons and live guidance', async () => {
  const browser = await launchBrowser(join(env.assets(), 'document_blurred.y4m'));
  try {
    const { page } = await openDemo(browser, '?steps=document_front&lang=es&autostart=1');
    await page.waitForSelector('trustcap-capture #guidance[data-code="too_blurry"]', { timeout: 30_000 });
    const es = catalogs.es;
    assert.equal((await page.textContent('trustcap-capture #guidance')).trim(), es['guidance.document.too_blurry']);
    // The live region speaks it (in Spanish) once it has held for a moment.
    await page.waitForFunction(
      (text) => document.querySelector('trustcap-capture').shadowRoot.querySelector('#announce').textContent === text,
      es['guidance.document.too_blurry'],
      { timeout: 10_000 },
    );
    assert.equal((await page.textContent('trustcap-capture #title')).trim(), es['step.document_front.title']);
    assert.equal((await page.textContent('trustcap-capture #progress')).trim(), 'Paso 1 de 1');
    assert.equal((await page.textContent('trustcap-capture #capture')).trim(), es['camera.capture']);
    assert.equal(await page.$eval('trustcap-capture', (el) => el.shadowRoot.querySelector('.root').lang), 'es');
    await assertAccessible(page, 'camera (Spanish)');
    // Integrator overrides apply per key at once, the rest stays Spanish.
    await page.$eval('trustcap-capture', (el) => {
      el.messages = { 'camera.capture': 'Foto ya' };
    });
    assert.equal((await page.textContent('trustcap-capture #capture')).trim(), 'Foto ya');
    assert.equal((await page.textContent('trustcap-capture #title')).trim(), es['step.document_front.title']);
    // The manual shutter works from the keyboard too: it takes the best (blurred) frame to review.
    await tabTo(page, 'capture');
    await page.keyboard.press('Enter');
    await screen(page, 'review');
    assert.equal((await page.textContent('trustcap-capture #confirm')).trim(), es['review.confirm']);
    // Retake goes back to the camera; nothing was uploaded.
    await tabTo(page, 'retake');
    await page.keyboard.press('Enter');
    await page.waitForSelector('trustcap-capture[screen="camera"] #guidance[data-code="too_blurry"]', { timeout: 30_000 });
  } finally {
    await browser.close();
  }
});

test('a refused token shows the error screen with its stable code; Try again retries', async () => {
  const browser = await launchBrowser(join(env.assets(), 'document_sharp.y4m'));
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The demo backend hands out a token the verifier does not know.
    await page.route('**/api/session', (route) =>
      route.fulfill({
        status: 201,
        contentType: 'application/json',
        body: JSON.stringify({
          session_id: 'nonexistent',
          client_token: 'not-a-valid-token',
          steps: ['document_front'],
          verifier_url: stack.verifierUrl,
        }),
      }),
    );
    const errors = [];
    await page.exposeFunction('__onError', (code) => errors.push(code));
    await page.addInitScript(() => document.addEventListener('error', (e) => window.__onError(e.detail && e.detail.code)));
    await page.goto(`${stack.demoUrl}/?autostart=1`);
    await screen(page, 'error', 30_000);
    const code = (await page.textContent('trustcap-capture #error-code')).trim();
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.ok(errors[0] && /^[a-z0-9_]+$/.test(errors[0]), JSON.stringify(errors));
    assert.equal(code, catalogs.en['error.code'].replace('{code}', errors[0]));
    assert.equal((await page.textContent('trustcap-capture #title')).trim(), catalogs.en['error.title']);
    await assertAccessible(page, 'error');
    // prefers-reduced-motion: the busy indicator stops spinning (and transitions are off).
    const motion = () =>
      page.$eval('trustcap-capture', (el) => {
        const style = getComputedStyle(el.shadowRoot.querySelector('.spinner'));
        const button = getComputedStyle(el.shadowRoot.querySelector('#retry'));
        return { animation: style.animationName, transition: button.transitionDuration };
      });
    await page.emulateMedia({ reducedMotion: 'no-preference' });
    assert.deepEqual(await motion(), { animation: 'spin', transition: '0.15s' });
    await page.emulateMedia({ reducedMotion: 'reduce' });
    assert.deepEqual(await motion(), { animation: 'none', transition: '0s' });
    // The page reports it too, with the same code.
    assert.equal(await page.getAttribute('#status', 'data-status'), `error:${errors[0]}`);
    await tabTo(page, 'retry');
    await assertVisibleFocus(page);
    await page.keyboard.press('Enter');
    for (let i = 0; i < 300 && errors.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(errors, [errors[0], errors[0]], 'the retry ran and failed the same way');
    await screen(page, 'error', 30_000);
  } finally {
    await browser.close();
  }
});

test('camera permission denied: the element offers a photo from a file, refuses a blurred one, uploads a sharp one', async () => {
  const browser = await launchBrowserWithoutCamera();
  try {
    const { page, seen } = await openDemo(browser, '?steps=document_front');
    await page.waitForSelector('trustcap-capture #start:not([disabled])', { timeout: 60_000 });
    await page.click('trustcap-capture #start');
    await screen(page, 'fallback');
    const en = catalogs.en;
    assert.equal((await page.textContent('trustcap-capture #title')).trim(), en['fallback.title.document']);
    assert.ok((await page.textContent('trustcap-capture #lead')).includes(en['error.camera_denied']));
    const input = page.locator('trustcap-capture #file');
    assert.equal(await input.getAttribute('accept'), 'image/*');
    assert.equal(await input.getAttribute('capture'), 'environment');
    assert.equal((await page.textContent('trustcap-capture #file-label')).trim(), en['fallback.choose.document']);
    await assertAccessible(page, 'fallback');

    // A blurred photo: refused with the blur guidance, still on the fallback screen, nothing uploaded.
    await input.setInputFiles(join(env.assets(), 'document_still_blurred.png'));
    await page.waitForFunction(
      () => document.querySelector('trustcap-capture').shadowRoot.querySelector('#guidance').dataset.code === 'too_blurry',
      null,
      { timeout: 60_000 },
    );
    assert.equal(await page.getAttribute('trustcap-capture', 'screen'), 'fallback');
    const refused = (await page.textContent('trustcap-capture #lead')).trim();
    assert.ok(refused.endsWith(en['fallback.refused'].replace('{message} ', '')), refused);
    assert.equal(seen.uploads.length, 0);

    // A sharp photo: reviewed like a camera capture, then uploaded and verified.
    await input.setInputFiles(join(env.assets(), 'document_still.png'));
    await screen(page, 'review');
    await page.click('trustcap-capture #confirm');
    await screen(page, 'done');
    assert.equal(seen.uploads.length, 1);
    const session = await stack.session(seen.sessionId);
    assert.equal(session.captures.length, 1);
    assert.equal(session.captures[0].step, 'document_front');
    assert.equal(session.captures[0].signature_verified, true);
  } finally {
    await browser.close();
  }
});
