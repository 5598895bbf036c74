// End-to-end: where the SDK loads its binaries from. The package's JS is served at /js/ and a copy
// of its binaries at /cdn/trustcap/ (as a CDN that moves files would have them); the page calls
// setAssetsUrl('/cdn/trustcap/') and runs a document capture until the first guidance, then
// prefetches the face module: every WebAssembly module and model must come from /cdn/, none from
// /js/, and nothing from anywhere but this origin and the verifier. Without setAssetsUrl the same
// page loads them next to the JS. Run by `cargo xtask test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { startStack, launchBrowser, env } from './harness.mjs';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' };
const BINARY = /\.(wasm|onnx)$/;
let stack;
let server;
let origin;
let browser;
const served = [];

async function serve(res, root, rel) {
  const full = resolve(root, `.${decodeURIComponent(rel)}`);
  if (!full.startsWith(resolve(root) + sep) || !(await stat(full)).isFile()) throw new Error('not a file');
  res.writeHead(200, { 'content-type': TYPES[extname(full)] ?? 'application/octet-stream' });
  res.end(await readFile(full));
}

before(async () => {
  stack = await startStack();
  const sdk = env.sdkDir();
  server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    served.push(path);
    try {
      if (path === '/') {
        res.writeHead(200, { 'content-type': TYPES['.html'] });
        return res.end('<!doctype html><meta charset="utf-8"><title>assets</title><video id="camera" muted playsinline></video>');
      }
      // The whole package at /js/; a copy of its binaries (only) at /cdn/trustcap/.
      if (path.startsWith('/js/')) return await serve(res, sdk, path.slice(3));
      if (path.startsWith('/cdn/trustcap/') && BINARY.test(path)) return await serve(res, sdk, path.slice(13));
      throw new Error('not served');
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await launchBrowser(join(env.assets(), 'document_sharp.y4m'));
});

after(async () => {
  await browser?.close();
  server?.close();
  await stack?.stop();
});

async function newToken() {
  const res = await fetch(`${stack.verifierUrl}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ steps: ['document_front'] }),
  });
  assert.equal(res.status, 201);
  return (await res.json()).client_token;
}

/** Loads the page, runs a capture to its first guidance and prefetches the face module; returns the requests. */
async function run(assetsUrl) {
  const page = await browser.newPage();
  const requests = [];
  page.on('request', (req) => requests.push(req.url()));
  await page.goto(`${origin}/`);
  const result = await page.evaluate(
    async ({ verifierUrl, token, assetsUrl }) => {
      const sdk = await import('/js/index.js');
      if (assetsUrl) sdk.setAssetsUrl(assetsUrl);
      const capture = await sdk.createCapture({ verifierUrl, token, video: document.querySelector('#camera') });
      const guidance = new Promise((done) => capture.addEventListener('guidance', (e) => done(e.detail.code), { once: true }));
      await capture.start();
      const code = await guidance;
      capture.stop();
      await sdk.prefetchFaceModule();
      const face = await sdk.loadFaceModule();
      (await face.createDetector('front128')).free();
      return { code, base: sdk.getAssetsUrl() };
    },
    { verifierUrl: stack.verifierUrl, token: await newToken(), assetsUrl },
  );
  await page.close();
  return { ...result, requests };
}

test('setAssetsUrl moves every binary the SDK loads to the given folder; the JS stays where it is', async () => {
  const { code, base, requests } = await run('/cdn/trustcap/');
  assert.ok(code, 'a guidance event arrived');
  assert.equal(base, `${origin}/cdn/trustcap/`);
  const binaries = requests.filter((u) => BINARY.test(new URL(u).pathname)).map((u) => new URL(u).pathname).sort();
  assert.deepEqual(binaries, [
    '/cdn/trustcap/models/blazeface_front_128.onnx',
    '/cdn/trustcap/wasm-face-simd/trustcap_wasm_face_bg.wasm',
    '/cdn/trustcap/wasm/trustcap_wasm_bg.wasm',
  ]);
  assert.ok(requests.some((u) => u === `${origin}/js/wasm-face-simd/trustcap_wasm_face.js`), 'the face glue is JS: next to the package');
  const origins = new Set(requests.map((u) => new URL(u).origin));
  assert.deepEqual([...origins].sort(), [origin, stack.verifierUrl].sort());
});

test('by default the binaries load next to the package JS', async () => {
  const { base, requests } = await run(null);
  assert.equal(base, null);
  const binaries = requests.filter((u) => BINARY.test(new URL(u).pathname)).map((u) => new URL(u).pathname).sort();
  assert.deepEqual(binaries, [
    '/js/models/blazeface_front_128.onnx',
    '/js/wasm-face-simd/trustcap_wasm_face_bg.wasm',
    '/js/wasm/trustcap_wasm_bg.wasm',
  ]);
});

test('setAssetsUrl refuses what is not an http(s) folder with a TrustCapError', async () => {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  const codes = await page.evaluate(async () => {
    const sdk = await import('/js/index.js');
    const codeOf = (value) => {
      try {
        sdk.setAssetsUrl(value);
        return `accepted ${sdk.getAssetsUrl()}`;
      } catch (e) {
        return e instanceof sdk.TrustCapError ? e.code : String(e);
      }
    };
    return {
      javascript: codeOf('javascript:alert(1)'),
      data: codeOf('data:text/plain,x'),
      query: codeOf('https://cdn.example.com/x/?v=1'),
      noSlash: codeOf('https://cdn.example.com/trustcap'),
      reset: codeOf(null),
    };
  });
  await page.close();
  assert.deepEqual(codes, {
    javascript: 'invalid_options',
    data: 'invalid_options',
    query: 'invalid_options',
    noSlash: 'accepted https://cdn.example.com/trustcap/',
    reset: 'accepted null',
  });
});
