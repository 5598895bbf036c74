// The SDK's face module in headless Chromium (node --test; run by `cargo xtask test` after
// `cargo xtask build-sdk`):
//
// - importing the package (the document step) downloads neither the face module nor a model, and
//   the core wasm contains no tract code;
// - prefetchFaceModule() downloads and compiles the face module and the selfie model in idle
//   time; loadFaceModule() is then cached (one download, one instance);
// - a browser without WebAssembly SIMD (Chromium with `--js-flags=--no-enable-sse4-1`: V8 then
//   refuses every SIMD instruction) downloads only the build without SIMD, which validates there,
//   and finds the astronaut with the same boxes as the SIMD build;
// - the real BlazeFace models find the astronaut's face (public-domain NASA portrait from the model
//   cache) where the native test (crates/wasm-face/tests/real_model.rs) finds it;
// - bad input gives TrustCapErrors with stable codes, never a crash; a still frame repeated does
//   not pass liveness.
//
// Environment: TRUSTCAP_SDK_DIR (the built package), TRUSTCAP_MODEL_DIR (the model cache).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const sdkDir = process.env.TRUSTCAP_SDK_DIR;
const modelDir = process.env.TRUSTCAP_MODEL_DIR || join(homedir(), '.cache/trustcap/models');
if (!sdkDir) throw new Error('TRUSTCAP_SDK_DIR (the built package, `cargo xtask build-sdk`) is required');

// The same bounds as crates/wasm-face/tests/real_model.rs.
const ASTRONAUT = { centreX: [200, 270], centreY: [100, 180], width: [70, 160] };

const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.png': 'image/png' };
let server;
let browser;
let base;
const requests = [];

before(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    requests.push(url.pathname);
    try {
      if (url.pathname === '/') {
        res.setHeader('content-type', 'text/html');
        return res.end('<!doctype html><meta charset="utf-8"><title>face module</title>');
      }
      if (url.pathname === '/astronaut.png') {
        res.setHeader('content-type', 'image/png');
        return res.end(await readFile(join(modelDir, 'astronaut.png')));
      }
      if (url.pathname.startsWith('/sdk/')) {
        const rel = normalize(url.pathname.slice(5)).replace(/^(\.\.[/\\])+/, '');
        const ext = rel.slice(rel.lastIndexOf('.'));
        res.setHeader('content-type', types[ext] ?? 'application/octet-stream');
        return res.end(await readFile(join(sdkDir, rel)));
      }
    } catch {
      /* 404 below */
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

const faceRequests = () => requests.filter((p) => p.includes('/wasm-face') || p.includes('/models/'));

async function freshPage() {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(base + '/');
  return page;
}

test('the document step downloads no face code and the core wasm holds no tract', async () => {
  const core = await readFile(join(sdkDir, 'wasm/trustcap_wasm_bg.wasm'));
  const face = await readFile(join(sdkDir, 'wasm-face-simd/trustcap_wasm_face_bg.wasm'));
  assert.equal(core.includes('tract'), false, 'the core module contains tract code');
  assert.equal(face.includes('tract'), true, 'the face module should contain tract (the check above would be void)');
  assert.ok(face.length > 5 * core.length, `face ${face.length} bytes vs core ${core.length}`);

  requests.length = 0;
  const page = await freshPage();
  const exported = await page.evaluate(async () => {
    const sdk = await import('/sdk/index.js');
    // The core module instantiates as the document step does.
    const wasm = await import('/sdk/wasm/trustcap_wasm.js');
    await wasm.default({ module_or_path: '/sdk/wasm/trustcap_wasm_bg.wasm' });
    new wasm.FrameAnalyzer('document').free();
    await new Promise((r) => setTimeout(r, 300));
    return ['loadFaceModule', 'prefetchFaceModule', 'faceSimdSupported'].filter((n) => typeof sdk[n] === 'function');
  });
  assert.deepEqual(exported, ['loadFaceModule', 'prefetchFaceModule', 'faceSimdSupported']);
  assert.ok(requests.includes('/sdk/wasm/trustcap_wasm_bg.wasm'), requests.join(' '));
  assert.deepEqual(faceRequests(), []);
  await page.close();
});

test('prefetch downloads the face module and the selfie model once; loadFaceModule is cached', async () => {
  requests.length = 0;
  const page = await freshPage();
  const result = await page.evaluate(async () => {
    const sdk = await import('/sdk/index.js');
    const supported = sdk.faceSimdSupported();
    await sdk.prefetchFaceModule();
    const afterPrefetch = performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname);
    const [a, b] = await Promise.all([sdk.loadFaceModule(), sdk.loadFaceModule()]);
    const c = await sdk.loadFaceModule();
    const detector = await a.createDetector('front128');
    const out = {
      supported,
      afterPrefetch,
      same: a === b && b === c,
      simd: a.simd,
      version: a.version,
      variant: detector.variant,
      inputSize: detector.inputSize,
    };
    detector.free();
    return out;
  });
  assert.equal(result.supported, true, 'headless Chromium runs wasm SIMD');
  assert.ok(result.afterPrefetch.includes('/sdk/wasm-face-simd/trustcap_wasm_face_bg.wasm'), result.afterPrefetch.join(' '));
  assert.ok(result.afterPrefetch.includes('/sdk/models/blazeface_front_128.onnx'), result.afterPrefetch.join(' '));
  assert.ok(result.afterPrefetch.includes('/sdk/wasm-face-simd/trustcap_wasm_face.js'), result.afterPrefetch.join(' '));
  assert.equal(result.same, true);
  assert.equal(result.simd, true);
  assert.match(result.version, /^\d+\.\d+\.\d+/);
  assert.equal(result.variant, 'front128');
  assert.equal(result.inputSize, 128);
  const count = (suffix) => requests.filter((p) => p.endsWith(suffix)).length;
  assert.equal(count('/wasm-face-simd/trustcap_wasm_face_bg.wasm'), 1, requests.join(' '));
  assert.equal(count('/models/blazeface_front_128.onnx'), 1, requests.join(' '));
  await page.close();
});

// Both models on the astronaut portrait in a fresh page of `b`: which build ran, and the faces.
async function astronautFaces(b) {
  const page = await b.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(base + '/');
  const out = await page.evaluate(async () => {
    const sdk = await import('/sdk/index.js');
    const bitmap = await createImageBitmap(await (await fetch('/astronaut.png')).blob());
    const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const image = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    await sdk.prefetchFaceModule();
    const face = await sdk.loadFaceModule();
    const faces = {};
    for (const variant of ['front128', 'back256']) {
      const detector = await face.createDetector(variant);
      faces[variant] = detector.detect(image);
      detector.free();
    }
    const probe = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0, 11,
    ]);
    // Compiling (not only the package's own check) shows what the engine itself accepts.
    let engineSimd = true;
    try {
      new WebAssembly.Module(probe);
    } catch {
      engineSimd = false;
    }
    const wasmFiles = performance
      .getEntriesByType('resource')
      .map((e) => new URL(e.name).pathname)
      .filter((p) => p.includes('/wasm-face'))
      .sort();
    return { supported: sdk.faceSimdSupported(), engineSimd, simd: face.simd, faces, wasmFiles };
  });
  await page.close();
  return out;
}

test('without WebAssembly SIMD the build without SIMD loads and finds the same faces', async () => {
  const noSimd = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--js-flags=--no-enable-sse4-1'],
  });
  try {
    const plain = await astronautFaces(noSimd);
    const simd = await astronautFaces(browser);
    assert.equal(plain.engineSimd, false, 'the flag should take WebAssembly SIMD away (or this test is void)');
    assert.deepEqual({ supported: plain.supported, simd: plain.simd }, { supported: false, simd: false });
    assert.deepEqual(plain.wasmFiles, ['/sdk/wasm-face/trustcap_wasm_face.js', '/sdk/wasm-face/trustcap_wasm_face_bg.wasm']);
    assert.deepEqual({ engineSimd: simd.engineSimd, simd: simd.simd }, { engineSimd: true, simd: true });
    assert.deepEqual(simd.wasmFiles, ['/sdk/wasm-face-simd/trustcap_wasm_face.js', '/sdk/wasm-face-simd/trustcap_wasm_face_bg.wasm']);
    for (const variant of ['front128', 'back256']) {
      const [p, s] = [plain.faces[variant], simd.faces[variant]];
      assert.equal(p.length, 1, `${variant} without SIMD: ${JSON.stringify(p)}`);
      assert.equal(s.length, 1, `${variant} with SIMD: ${JSON.stringify(s)}`);
      // Only the order of float additions differs between the kernels.
      assert.ok(Math.abs(p[0].score - s[0].score) < 1e-3, `${variant}: score ${p[0].score} vs ${s[0].score}`);
      for (const k of ['x', 'y', 'width', 'height']) {
        assert.ok(Math.abs(p[0].box[k] - s[0].box[k]) < 0.5, `${variant}: box.${k} ${p[0].box[k]} vs ${s[0].box[k]}`);
      }
    }
  } finally {
    await noSimd.close();
  }
});

test('the build without SIMD validates where SIMD is missing; the SIMD build does not', async () => {
  const noSimd = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--js-flags=--no-enable-sse4-1'],
  });
  try {
    const page = await noSimd.newPage();
    await page.goto(base + '/');
    const valid = await page.evaluate(async () => {
      const bytes = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
      return {
        plain: WebAssembly.validate(await bytes('/sdk/wasm-face/trustcap_wasm_face_bg.wasm')),
        simd: WebAssembly.validate(await bytes('/sdk/wasm-face-simd/trustcap_wasm_face_bg.wasm')),
      };
    });
    assert.deepEqual(valid, { plain: true, simd: false });
  } finally {
    await noSimd.close();
  }
});

test('both models find the astronaut where the native build does', async () => {
  const page = await freshPage();
  const runs = await page.evaluate(async () => {
    const { loadFaceModule } = await import('/sdk/index.js');
    const bitmap = await createImageBitmap(await (await fetch('/astronaut.png')).blob());
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const image = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    const out = [];
    const face = await loadFaceModule();
    for (const variant of ['front128', 'back256']) {
      const detector = await face.createDetector(variant);
      out.push({ simd: face.simd, variant, faces: detector.detect(image) });
      // ImageData and a plain object with a stride give the same result.
      const again = detector.detect({ data: image.data, width: image.width, height: image.height, stride: image.width * 4 });
      out.push({ simd: face.simd, variant, faces: again });
      detector.free();
    }
    return out;
  });
  assert.equal(runs.length, 4);
  for (const { simd, variant, faces } of runs) {
    const label = `${variant} simd=${simd}`;
    assert.equal(faces.length, 1, `${label}: ${JSON.stringify(faces)}`);
    const [f] = faces;
    assert.ok(f.score > 0.75, `${label}: score ${f.score}`);
    const cx = f.box.x + f.box.width / 2;
    const cy = f.box.y + f.box.height / 2;
    assert.ok(cx > ASTRONAUT.centreX[0] && cx < ASTRONAUT.centreX[1], `${label}: centre x ${cx}`);
    assert.ok(cy > ASTRONAUT.centreY[0] && cy < ASTRONAUT.centreY[1], `${label}: centre y ${cy}`);
    assert.ok(f.box.width > ASTRONAUT.width[0] && f.box.width < ASTRONAUT.width[1], `${label}: width ${f.box.width}`);
    const k = f.keypoints;
    assert.ok(k.rightEye.x < k.leftEye.x && k.rightEye.y < k.mouth.y, `${label}: keypoints ${JSON.stringify(k)}`);
  }
  for (const variant of ['front128', 'back256']) {
    const [a, b] = runs.filter((r) => r.variant === variant).map((r) => r.faces);
    assert.deepEqual(a, b, `${variant}: the same pixels give the same faces`);
  }
  await page.close();
});

test('bad input gives stable error codes, and a repeated still frame does not pass liveness', async () => {
  const page = await freshPage();
  const result = await page.evaluate(async () => {
    const { loadFaceModule, TrustCapError } = await import('/sdk/index.js');
    const face = await loadFaceModule();
    const codeOf = async (fn) => {
      try {
        await fn();
        return 'no error';
      } catch (e) {
        return e instanceof TrustCapError ? e.code : `not a TrustCapError: ${e}`;
      }
    };
    const detector = await face.createDetector('front128');
    const grey = { data: new Uint8Array(64 * 48 * 4).fill(128), width: 64, height: 48 };
    const codes = {
      garbageModel: await codeOf(() => face.createDetector('front128', { model: new Uint8Array([1, 2, 3, 4]) })),
      unknownVariant: await codeOf(() => face.createDetector('front64')),
      shortBuffer: await codeOf(() => detector.detect({ data: new Uint8Array(10), width: 64, height: 48 })),
      smallStride: await codeOf(() => detector.detect({ ...grey, stride: 8 })),
      notAFrame: await codeOf(() => detector.detect(null)),
      badThreshold: await codeOf(() => face.createLivenessAnalyzer({ threshold: 7 })),
      unknownOption: await codeOf(() => face.createLivenessAnalyzer({ treshold: 0.5 })),
    };
    const greyFaces = detector.detect(grey).length;
    // A still frame repeated: no motion, identical frames.
    const w = 320;
    const h = 240;
    const data = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      const x = i % w;
      const y = Math.floor(i / w);
      const inside = (x - 160) ** 2 / 60 ** 2 + (y - 120) ** 2 / 80 ** 2 < 1;
      const v = inside ? 170 + ((x * 7 + y * 3) % 30) : 60 + ((x ^ y) % 50);
      data.set([v, Math.max(0, v - 25), Math.max(0, v - 45), 255], i * 4);
    }
    const frame = { data, width: w, height: h };
    const box = { x: 100, y: 40, width: 120, height: 160 };
    const liveness = face.createLivenessAnalyzer({ cameraLabel: 'Integrated Camera' });
    codes.nanTimestamp = await codeOf(() => liveness.push(frame, box, NaN));
    codes.badBox = await codeOf(() => liveness.push(frame, { x: 'left' }, 0));
    codes.boxOutside = await codeOf(() => liveness.push(frame, { ...box, x: 5000 }, 0));
    for (let i = 0; i < 20; i++) liveness.push(frame, box, i * 33.3);
    const report = liveness.report();
    const json = JSON.parse(liveness.reportJson());
    // The module is still usable after all those errors.
    const after = detector.detect(grey).length;
    detector.free();
    liveness.free();
    return { codes, greyFaces, after, report, json };
  });
  assert.deepEqual(result.codes, {
    garbageModel: 'model_invalid',
    unknownVariant: 'unknown_model_variant',
    shortBuffer: 'frame_buffer_too_short',
    smallStride: 'frame_stride_too_small',
    notAFrame: 'invalid_frame',
    badThreshold: 'invalid_options',
    unknownOption: 'invalid_options',
    nanTimestamp: 'bad_timestamp',
    badBox: 'bad_face_box',
    boxOutside: 'bad_face_box',
  });
  assert.equal(result.greyFaces, 0);
  assert.equal(result.after, 0);
  assert.equal(result.report.frames, 20);
  assert.equal(result.report.passed, false, JSON.stringify(result.report.signals));
  assert.equal(result.json.passed, false);
  assert.deepEqual(
    result.json.signals.map((s) => s.name).sort(),
    ['colour', 'flicker', 'injection', 'planar_motion', 'screen_or_print_pattern'],
  );
});
