// End-to-end: a real browser (Debian Chromium, headless) with a fake camera playing
// rendered document clips, the demo page using the SDK package, the demo backend, and the
// verifier on SQLite. Run by `cargo xtask test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, launchBrowser, envelopeParts, env, confirmReview } from './harness.mjs';

const CAPTURE_PATH = '/v1/client/captures';
let stack;

before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

/** Opens the demo page with the given camera clip; records the session and uploads. */
async function openDemo(clip) {
  const browser = await launchBrowser(join(env.assets(), clip));
  const page = await browser.newPage();
  const seen = { uploads: [], sessionId: null, token: null, consoleErrors: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.consoleErrors.push(msg.text());
  });
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === CAPTURE_PATH) {
      seen.uploads.push({ body: req.postDataBuffer(), headers: req.headers(), url: req.url() });
    }
  });
  page.on('response', async (res) => {
    if (new URL(res.url()).pathname === '/api/session' && res.ok()) {
      const body = await res.json();
      seen.sessionId = body.session_id;
      seen.token = body.client_token;
    }
  });
  await page.goto(`${stack.demoUrl}/?autostart=1&steps=document_front`);
  return { browser, page, seen };
}

test('a sharp document is auto-captured, signed, uploaded and verified; a tampered copy is refused and a retried one is idempotent', async () => {
  const { browser, page, seen } = await openDemo('document_sharp.y4m');
  try {
    await confirmReview(page);
    await page.waitForSelector('#status[data-status="submitted"]', { timeout: 60_000 });
    assert.equal(seen.uploads.length, 1, 'exactly one upload');
    assert.ok(seen.sessionId, 'the page got a session from the demo backend');

    // The customer's view, through the API key: submitted, with a verified signature.
    const session = await stack.session(seen.sessionId);
    assert.equal(session.status, 'submitted');
    assert.equal(session.captures.length, 1);
    const [capture] = session.captures;
    assert.equal(capture.step, 'document_front');
    assert.equal(capture.signature_verified, true);
    assert.equal(capture.server_quality.acceptable, true, JSON.stringify(capture.server_quality));

    // What went over the wire: a manifest naming this session, the document as a JPEG part and, when
    // its outline was found (then it is the rectified document), the whole camera frame after it.
    const upload = seen.uploads[0];
    const original = new Uint8Array(upload.body);
    const { manifest, parts } = envelopeParts(original);
    assert.equal(manifest.session_id, seen.sessionId);
    const found = manifest.quality['document.found'] === 1;
    assert.deepEqual(
      manifest.images.map((i) => i.name),
      found ? ['document_front', 'document_original'] : ['document_front'],
    );
    assert.equal(parts.length, manifest.images.length);
    assert.deepEqual(capture.images.map((i) => i.sha256), manifest.images.map((i) => i.sha256));

    const send = (body) =>
      fetch(upload.url, {
        method: 'POST',
        headers: { authorization: upload.headers.authorization, 'content-type': upload.headers['content-type'] },
        body,
      });

    // One byte changed in the image → refused as tampered.
    const tampered = original.slice();
    tampered[parts[0].start + Math.floor(parts[0].len / 2)] ^= 0x01;
    let res = await send(tampered);
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 'payload_tampered');

    // The untouched payload again (a retried upload) → answered idempotently: the stored capture, marked as
    // a duplicate, and nothing new stored.
    res = await send(original);
    assert.equal(res.status, 200);
    const again = await res.json();
    assert.equal(again.duplicate, true);
    assert.equal(again.capture_id, capture.capture_id);
    // (A different payload under a used nonce is still `409 nonce_replayed`: the verifier's HTTP tests.)

    // Nothing was stored for either.
    const after = await stack.session(seen.sessionId);
    assert.equal(after.captures.length, 1);
    assert.equal(after.status, 'submitted');
    assert.deepEqual(seen.consoleErrors, []);
  } finally {
    await browser.close();
  }
});

test('a blurred document is never captured and the page shows the blur guidance', async () => {
  const { browser, page, seen } = await openDemo('document_blurred.y4m');
  try {
    await page.waitForSelector('#guidance[data-code="too_blurry"]', { timeout: 30_000 });
    // Give auto-capture ample time: at 30 fps this is well over a hundred analysed frames.
    await page.waitForTimeout(6_000);
    assert.equal(seen.uploads.length, 0, 'no upload for a blurred document');
    assert.equal(await page.getAttribute('#guidance', 'data-code'), 'too_blurry');
    const text = (await page.textContent('#guidance')).toLowerCase();
    assert.match(text, /blur|focus|sharp/);
    assert.notEqual(await page.getAttribute('#status', 'data-status'), 'submitted');
    const session = await stack.session(seen.sessionId);
    assert.equal(session.captures.length, 0);
  } finally {
    await browser.close();
  }
});

test('a card held at an angle is found, auto-captured and uploaded as the rectified document', async (t) => {
  const { browser, page, seen } = await openDemo('document_angled.y4m');
  try {
    // The overlay follows the detected outline while framing.
    await confirmReview(page);
    await page.waitForSelector('#status[data-status="submitted"]', { timeout: 60_000 });
    assert.equal(seen.uploads.length, 1, 'exactly one upload');
    const meta = JSON.parse(readFileSync(join(env.assets(), 'document_angled.json'), 'utf8'));

    // The upload carries the document warped to the ID-1 size first, then the whole camera frame.
    const { manifest, parts } = envelopeParts(new Uint8Array(seen.uploads[0].body));
    assert.deepEqual(manifest.images.map((i) => i.name), ['document_front', 'document_original']);
    assert.deepEqual([manifest.images[0].width, manifest.images[0].height], [meta.width, meta.height]);
    assert.deepEqual([manifest.images[1].width, manifest.images[1].height], meta.frame);
    t.diagnostic(
      `upload sizes: envelope ${seen.uploads[0].body.length} B, rectified ${manifest.images[0].byte_len} B ` +
        `(${meta.width}x${meta.height}), original ${manifest.images[1].byte_len} B (${meta.frame.join('x')})`,
    );
    assert.equal(manifest.quality['document.found'], 1);
    // The detected corners (signed in the manifest) are those of the rendered card, within 2% of the diagonal.
    const diag = Math.hypot(meta.frame[0], meta.frame[1]);
    const found = ['tl', 'tr', 'br', 'bl'].map((k) => [manifest.quality[`document.${k}_x`], manifest.quality[`document.${k}_y`]]);
    found.forEach(([x, y], i) => {
      const err = Math.hypot(x - meta.corners[i][0], y - meta.corners[i][1]);
      assert.ok(err <= 0.02 * diag, `corner ${i}: ${err.toFixed(1)} px off`);
    });

    // The verifier stored exactly that image and found it acceptable when it re-ran the checks.
    const session = await stack.session(seen.sessionId);
    assert.equal(session.status, 'submitted');
    const [capture] = session.captures;
    assert.equal(capture.images[0].sha256, manifest.images[0].sha256);
    assert.equal(capture.server_quality.acceptable, true, JSON.stringify(capture.server_quality));

    // Its content is the flat card: decode the uploaded JPEG in the page and compare it with the texture the
    // card was rendered from (mean absolute difference over the inner 80%, away from the rounded corners).
    const body = new Uint8Array(seen.uploads[0].body);
    // Bytes cross into the page as base64 (far cheaper than arrays of numbers).
    const jpeg = Buffer.from(body.subarray(parts[0].start, parts[0].start + parts[0].len)).toString('base64');
    const texture = readFileSync(join(env.assets(), 'document_angled_texture.rgba')).toString('base64');
    const diff = await page.evaluate(
      async ({ jpeg, texture, width, height }) => {
        const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        texture = bytes(texture);
        const bitmap = await createImageBitmap(new Blob([bytes(jpeg)], { type: 'image/jpeg' }));
        const canvas = new OffscreenCanvas(width, height);
        const ctx = canvas.getContext('2d');
        ctx.drawImage(bitmap, 0, 0);
        const got = ctx.getImageData(0, 0, width, height).data;
        let sum = 0;
        let n = 0;
        for (let y = Math.floor(height / 10); y < Math.floor((height * 9) / 10); y++) {
          for (let x = Math.floor(width / 10); x < Math.floor((width * 9) / 10); x++) {
            const i = (y * width + x) * 4;
            for (let c = 0; c < 3; c++) sum += Math.abs(got[i + c] - texture[i + c]);
            n += 3;
          }
        }
        return sum / n;
      },
      { jpeg, texture, width: meta.width, height: meta.height },
    );
    assert.ok(diff < 20, `the uploaded image differs from the flat card by ${diff.toFixed(1)} levels on average`);
    assert.deepEqual(seen.consoleErrors, []);
  } finally {
    await browser.close();
  }
});
