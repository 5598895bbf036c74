// End-to-end: the SDK as an integrator uses it through a bundler. The test packs the built
// package (`npm pack`), creates a minimal Vite app that depends on the tarball, builds it with
// Vite (the pinned dev tool in tests/e2e), serves `dist/` from its own origin and completes a
// document capture in Chromium (fake camera) against a real verifier. It checks that Vite copied
// the WebAssembly module into `dist/` (the package resolves its assets with
// `new URL('./…', import.meta.url)`) and that the page fetched nothing but its own files and the
// verifier. Run by `cargo xtask test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { startStack, launchBrowser, env } from './harness.mjs';
import { TOOLS, createApp, packSdk, tempDir } from './pack.mjs';

const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>TrustCap in a Vite app</title>
    <link rel="icon" href="data:," />
  </head>
  <body>
    <video id="camera" playsinline muted></video>
    <p id="guidance" data-code="">Starting…</p>
    <p id="status" data-status="idle"></p>
    <script type="module" src="./main.js"></script>
  </body>
</html>
`;

// The app: the headless API, as the package README shows it. The verifier URL and the client token
// come in the URL's fragment (never sent to the app's server).
const MAIN_JS = `import { createCapture, TrustCapError } from '@trustcap/web';

const params = new URLSearchParams(location.hash.slice(1));
const guidance = document.querySelector('#guidance');
const status = document.querySelector('#status');

async function run() {
  const capture = await createCapture({
    verifierUrl: params.get('verifier'),
    token: params.get('token'),
    step: 'document_front',
    video: document.querySelector('#camera'),
  });
  capture.addEventListener('guidance', (e) => {
    guidance.dataset.code = e.detail.code;
    guidance.textContent = e.detail.message;
  });
  capture.addEventListener('uploaded', (e) => {
    status.dataset.captureId = e.detail.captureId;
    status.dataset.status = 'uploaded';
    status.textContent = 'Uploaded.';
  });
  capture.addEventListener('error', (e) => {
    status.dataset.status = 'error:' + e.detail.code;
  });
  try {
    await capture.start();
  } catch (err) {
    status.dataset.status = 'error:' + (err instanceof TrustCapError ? err.code : 'unknown');
  }
}
run();
`;

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' };
let stack;
let work;
let dist;
let server;
let appUrl;
const served = [];

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Every file under `dir`, as paths relative to it. */
function listFiles(dir, prefix = '') {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

before(async () => {
  stack = await startStack();
  work = tempDir('trustcap-vite-');
  const tarball = packSdk(work);
  const app = createApp(join(work, 'app'), tarball, { 'index.html': INDEX_HTML, 'main.js': MAIN_JS });
  execFileSync(process.execPath, [join(TOOLS, 'vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: app,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  dist = join(app, 'dist');
  // dist/ from its own origin, as a static host would serve it.
  server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    served.push(path);
    const full = resolve(dist, `.${decodeURIComponent(path === '/' ? '/index.html' : path)}`);
    try {
      if (!full.startsWith(dist + sep) || !(await stat(full)).isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-type': TYPES[extname(full)] ?? 'application/octet-stream' });
      res.end(await readFile(full));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  appUrl = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  server?.close();
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('vite build of an app using the packed SDK emits its WebAssembly and model files as assets', () => {
  const files = listFiles(dist);
  const byHash = new Map(files.map((f) => [sha256(readFileSync(join(dist, f))), f]));
  const sdk = env.sdkDir();
  for (const asset of [
    'wasm/trustcap_wasm_bg.wasm',
    'wasm-face-simd/trustcap_wasm_face_bg.wasm',
    'wasm-face/trustcap_wasm_face_bg.wasm',
    'models/blazeface_front_128.onnx',
    'models/blazeface_back_256.onnx',
  ]) {
    const emitted = byHash.get(sha256(readFileSync(join(sdk, asset))));
    assert.ok(emitted, `dist/ has no copy of the package's ${asset}: ${files.join(', ')}`);
    assert.ok(emitted.startsWith('assets/'), `${asset} emitted as ${emitted}`);
  }
  // The face module's JS glue (one per build) is split into its own chunks, loaded on demand.
  const chunks = files.filter((f) => f.endsWith('.js'));
  assert.ok(chunks.length >= 3, `expected the face glue in a separate chunk: ${chunks.join(', ')}`);
  assert.ok(existsSync(join(dist, 'index.html')));
});

test('the Vite app completes a document capture in Chromium and fetches only its own files and the verifier', async () => {
  const created = await fetch(`${stack.verifierUrl}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ steps: ['document_front'] }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const { session_id: sessionId, client_token: token } = await created.json();

  const browser = await launchBrowser(join(env.assets(), 'document_sharp.y4m'));
  try {
    const page = await browser.newPage();
    const requests = [];
    const consoleErrors = [];
    page.on('request', (req) => requests.push(req.url()));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    const fragment = new URLSearchParams({ verifier: stack.verifierUrl, token });
    await page.goto(`${appUrl}/#${fragment}`);
    await page.waitForSelector('#status[data-status="uploaded"], #status[data-status^="error:"]', {
      state: 'attached',
      timeout: 60_000,
    });
    assert.equal(await page.getAttribute('#status', 'data-status'), 'uploaded');
    const captureId = await page.getAttribute('#status', 'data-capture-id');

    const session = await stack.session(sessionId);
    assert.equal(session.status, 'submitted');
    assert.equal(session.captures.length, 1);
    assert.equal(session.captures[0].capture_id, captureId);
    assert.equal(session.captures[0].signature_verified, true);

    // Nothing but the app's own origin and the verifier (blob:/data: URLs never leave the page).
    const origins = new Set(requests.filter((u) => /^https?:/.test(u)).map((u) => new URL(u).origin));
    assert.deepEqual([...origins].sort(), [appUrl, stack.verifierUrl].sort(), requests.join('\n'));
    // The core module came from dist/ (where Vite put it); the document step never loads the face module.
    const coreHash = sha256(readFileSync(join(env.sdkDir(), 'wasm/trustcap_wasm_bg.wasm')));
    const wasmServed = served.filter((p) => p.endsWith('.wasm'));
    assert.equal(wasmServed.length, 1, wasmServed.join(', '));
    assert.equal(sha256(readFileSync(join(dist, wasmServed[0]))), coreHash);
    assert.ok(!served.some((p) => p.endsWith('.onnx')), served.join(', '));
    assert.deepEqual(consoleErrors, []);
  } finally {
    await browser.close();
  }
});
