// End-to-end selfie step: Debian Chromium's fake camera plays a rendered face clip to the demo page,
// which runs the SDK's selfie step (face module, live guidance, liveness burst) against the demo
// backend and a real verifier. Two presentation attacks, neither of which may pass liveness:
//
// - selfie_flat_photo.y4m: a face photo moved as a flat plane (a hand-held print or screen);
// - selfie_still_frame.y4m: one frame repeated bit for bit (a virtual camera playing a still).
//
// Chromium's fake camera reports a virtual-camera label (`fake_device_0`), which the injection signal
// flags by itself; so each test also asserts the signal that catches *its* attack from the pixels
// (planar motion for the flat photo, identical frames for the still), which the label does not touch.
// Run by `cargo xtask test` (clips from `cargo xtask e2e-assets`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchBrowser, envelopeParts, env, confirmReview } from './harness.mjs';

const CAPTURE_PATH = '/v1/client/captures';
// Selfie guidance codes (trustcap_vision::selfie::SelfieGuidance).
const SELFIE_CODES = new Set([
  'more_light',
  'too_bright',
  'no_face',
  'multiple_faces',
  'center_face',
  'too_close',
  'too_far',
  'turn_left',
  'turn_right',
  'look_up',
  'look_down',
  'tilt_left',
  'tilt_right',
  'low_contrast',
  'too_blurry',
  'hold_still',
  'ready',
]);
let stack;

before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

/** Opens the demo's selfie step with the given camera clip; records guidance, the session and uploads. */
async function openSelfie(clip) {
  const browser = await launchBrowser(join(env.assets(), clip));
  const page = await browser.newPage();
  const seen = { uploads: [], sessionId: null, consoleErrors: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => seen.consoleErrors.push(`pageerror: ${err.message}`));
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === CAPTURE_PATH) {
      seen.uploads.push({ body: req.postDataBuffer() });
    }
  });
  page.on('response', async (res) => {
    if (new URL(res.url()).pathname === '/api/session' && res.ok()) seen.sessionId = (await res.json()).session_id;
  });
  // Every change of the guidance line of <trustcap-capture>, as the applicant saw it (read when the
  // element re-dispatches a `guidance` event, after it has updated its live region).
  await page.addInitScript(() => {
    window.__guidance = [];
    document.addEventListener('guidance', () => {
      const g = document.querySelector('trustcap-capture')?.shadowRoot?.querySelector('#guidance');
      if (!g) return;
      const entry = { step: g.dataset.step || '', code: g.dataset.code || '', text: g.textContent };
      const last = window.__guidance[window.__guidance.length - 1];
      if (!last || last.code !== entry.code || last.text !== entry.text) window.__guidance.push(entry);
    });
  });
  await page.goto(`${stack.demoUrl}/?autostart=1&steps=selfie`);
  return { browser, page, seen };
}

/** Polls the verifier (customer API) until the session has a decision. */
async function decided(sessionId) {
  for (let i = 0; i < 240; i++) {
    const session = await stack.session(sessionId);
    if (session.decision) return session;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no decision for ${sessionId} in 2 minutes`);
}

/**
 * Runs the selfie step on `clip` to its decision and checks what every run must show: live selfie
 * guidance on the page, one signed upload with the selfie and its 8-frame burst and the `liveness.*`
 * entries, a liveness check that did not pass, and no approval. Returns what the assertions of each
 * attack need.
 */
async function runAttack(clip) {
  const { browser, page, seen } = await openSelfie(clip);
  try {
    // The element shows the selfie for review; the applicant sends it.
    await confirmReview(page, 120_000);
    await page.waitForSelector('#status[data-status="submitted"]', { timeout: 120_000 });
    assert.equal(seen.uploads.length, 1, 'exactly one upload');

    // Live guidance during the step: selfie codes with their text, then the burst's "Hold still (k/8)".
    const log = await page.evaluate(() => window.__guidance);
    const selfie = log.filter((g) => g.step === 'selfie' && SELFIE_CODES.has(g.code));
    assert.ok(selfie.length >= 2, JSON.stringify(log));
    assert.ok(selfie.every((g) => g.text.trim().length > 0));
    assert.ok(
      log.some((g) => g.code === 'hold_still' && /\(\d\/8\)/.test(g.text)),
      `the burst's progress was shown: ${JSON.stringify(log)}`,
    );

    // The signed upload: the selfie, then selfie_frame_0..7, and the burst's signed quality entries.
    const { manifest, parts } = envelopeParts(new Uint8Array(seen.uploads[0].body));
    assert.equal(manifest.step, 'selfie');
    assert.deepEqual(
      manifest.images.map((i) => i.name),
      ['selfie', ...Array.from({ length: 8 }, (_, k) => `selfie_frame_${k}`)],
    );
    assert.equal(parts.length, 9);
    const q = manifest.quality;
    assert.equal(q['liveness.v'], 1);
    assert.equal(q['liveness.frames'], 8);
    assert.ok(q['liveness.score'] >= 0 && q['liveness.score'] <= 1);
    const times = Array.from({ length: 8 }, (_, k) => q[`liveness.t.${k}`]);
    assert.ok(times.every((t, k) => k === 0 || t >= times[k - 1]), `timestamps ${times}`);
    // The burst spans 1-2 s (8 frames 150 ms apart, a frame's wait at most on top).
    assert.ok(times[7] - times[0] >= 1000 && times[7] - times[0] <= 2500, `burst span ${times[7] - times[0]} ms`);
    assert.equal(q['selfie.faces'], 1);

    // The verifier recomputed liveness from the frames: not a pass, and the session is not approved.
    const session = await decided(seen.sessionId);
    const liveness = session.checks.find((c) => c.name === 'liveness');
    assert.ok(liveness, JSON.stringify(session.checks.map((c) => c.name)));
    assert.notEqual(liveness.outcome, 'passed', JSON.stringify(liveness));
    assert.notEqual(session.decision.state, 'approved', JSON.stringify(session.decision));
    assert.ok(liveness.details.frames >= 6, JSON.stringify(liveness.details));
    // What the page showed: the decision, not an approval.
    await page.waitForSelector('#decision[data-state]', { timeout: 30_000 });
    assert.equal(await page.getAttribute('#decision', 'data-state'), session.decision.state);
    assert.deepEqual(seen.consoleErrors, []);
    return { manifest, liveness, session };
  } finally {
    await browser.close();
  }
}

function signal(liveness, name) {
  const s = liveness.details.signals.find((x) => x.name === name);
  assert.ok(s, `signal ${name} in ${JSON.stringify(liveness.details.signals)}`);
  return s;
}

test('a face photo moved as a flat plane is captured but fails liveness on planar motion', async () => {
  const { manifest, liveness } = await runAttack('selfie_flat_photo.y4m');
  assert.equal(liveness.outcome, 'failed', JSON.stringify(liveness));
  assert.ok(liveness.reasons.some((r) => r.code === 'liveness.attack_suspected'), JSON.stringify(liveness.reasons));
  // The pixels give it away, not only the fake camera's label: the face moved, and one homography
  // explains that motion (a flat picture), on the server and on the client alike.
  const planar = signal(liveness, 'planar_motion');
  assert.equal(planar.judged, true, JSON.stringify(planar));
  assert.ok(planar.attack >= 0.5, JSON.stringify(planar));
  assert.ok(manifest.quality['liveness.attack.planar_motion'] >= 0.5, JSON.stringify(manifest.quality));
  // Fresh sensor noise in every frame: no frame is a copy of the previous one.
  assert.equal(liveness.details.injection.duplicate_pairs, 0, JSON.stringify(liveness.details.injection));
});

test('a single still frame repeated is captured but fails liveness as copied frames', async () => {
  const { manifest, liveness } = await runAttack('selfie_still_frame.y4m');
  assert.equal(liveness.outcome, 'failed', JSON.stringify(liveness));
  assert.ok(liveness.reasons.some((r) => r.code === 'liveness.attack_suspected'), JSON.stringify(liveness.reasons));
  // Every frame is a bit-for-bit copy of the previous one: no sensor made them.
  const injection = liveness.details.injection;
  assert.ok(injection.pairs >= 5, JSON.stringify(injection));
  assert.equal(injection.duplicate_pairs, injection.pairs, JSON.stringify(injection));
  // The upload's frames are identical too (the client signed what it saw).
  const hashes = new Set(manifest.images.slice(1).map((i) => i.sha256));
  assert.equal(hashes.size, 1, 'the eight burst frames are one image');
  assert.ok(signal(liveness, 'injection').attack >= 0.9, JSON.stringify(signal(liveness, 'injection')));
});
