// Browser harness for `cargo xtask bench facewasm`: in one headless Debian Chromium page, times
//
// - BlazeFace-128 per frame in the SDK's face module, SIMD build and the build without SIMD
//   (the fallback for browsers without WebAssembly SIMD: see crates/xtask/src/sdk_face.rs):
//   the model alone on the prepared input tensor (FaceDetector.bestScoreOfTensor, the same
//   Float32Array onnxruntime-web gets: apples to apples with session.run), and the whole
//   FaceDetector.detect (RGBA to float input, tract inference, decoding and weighted NMS) on the
//   astronaut portrait scaled to 128x128 (the model's input: no letterbox resampling) and on a
//   640x480 camera-sized frame (with the letterbox resampling);
// - the same ONNX file in onnxruntime-web (npm, wasm backend, one thread, as a page without
//   cross-origin isolation gets it): session.run alone on the prepared input tensor, and with the
//   RGBA-to-tensor conversion in JavaScript;
// - passive liveness per frame (LivenessAnalyzer.push on a 640x480 frame).
//
// Wall time comes from batches timed with performance.now(); CPU time of the page's main thread
// (where all of this runs) from the DevTools protocol's Performance.getMetrics `ThreadTime`, so a
// busy machine inflates the first much more than the second. The rows are measured in
// interleaved rounds (each figure is the median of its rounds). Prints one JSON line.
//
// Environment: TRUSTCAP_SDK_DIR (built package), TRUSTCAP_MODEL_DIR (model cache).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');
// onnxruntime-web's package exports hide its files: serve them from the installed folder.
const ortRoot = fileURLToPath(new URL('../../tests/e2e/node_modules/onnxruntime-web/', import.meta.url));
const ortDir = join(ortRoot, 'dist');
const ortVersion = JSON.parse(await readFile(join(ortRoot, 'package.json'), 'utf8')).version;

const sdkDir = process.env.TRUSTCAP_SDK_DIR;
const modelDir = process.env.TRUSTCAP_MODEL_DIR || join(homedir(), '.cache/trustcap/models');
if (!sdkDir) throw new Error('TRUSTCAP_SDK_DIR is required');

const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.png': 'image/png' };
const serveFrom = async (res, dir, rel) => {
  rel = normalize(rel).replace(/^(\.\.[/\\])+/, '');
  res.setHeader('content-type', types[rel.slice(rel.lastIndexOf('.'))] ?? 'application/octet-stream');
  res.end(await readFile(join(dir, rel)));
};
const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    if (url.pathname === '/') {
      res.setHeader('content-type', 'text/html');
      return res.end('<!doctype html><meta charset="utf-8"><title>TrustCap face bench</title>');
    }
    if (url.pathname === '/astronaut.png') return await serveFrom(res, modelDir, 'astronaut.png');
    if (url.pathname.startsWith('/sdk/')) return await serveFrom(res, sdkDir, url.pathname.slice(5));
    if (url.pathname.startsWith('/ort/')) return await serveFrom(res, ortDir, url.pathname.slice(5));
  } catch {
    /* 404 */
  }
  res.statusCode = 404;
  res.end();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error('page:', m.text()));
  await page.goto(base + '/');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' }).catch(() => cdp.send('Performance.enable'));
  const threadTime = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'ThreadTime')?.value ?? NaN;
  };

  const setup = await page.evaluate(async () => {
    const sdk = await import('/sdk/index.js');
    const bitmap = await createImageBitmap(await (await fetch('/astronaut.png')).blob());
    const draw = (w, h) => {
      const canvas = new OffscreenCanvas(w, h);
      const ctx = canvas.getContext('2d');
      if (w === h) ctx.drawImage(bitmap, 0, 0, w, h);
      else {
        // The portrait in the middle of a camera-sized frame.
        ctx.fillStyle = '#556';
        ctx.fillRect(0, 0, w, h);
        ctx.drawImage(bitmap, (w - h) / 2, 0, h, h);
      }
      return ctx.getImageData(0, 0, w, h);
    };
    const small = draw(128, 128);
    const camera = draw(640, 480);
    const modelBytes = new Uint8Array(await (await fetch('/sdk/models/blazeface_front_128.onnx')).arrayBuffer());

    const simdModule = await sdk.loadFaceModule();
    const simd = await simdModule.createDetector('front128', { model: modelBytes });
    // The build without simd128 is not part of the package's API: load its bindings directly; the
    // raw bindings of both builds for the model-only timing (bestScoreOfTensor is not in face.js).
    const plainGlue = await import('/sdk/wasm-face/trustcap_wasm_face.js');
    await plainGlue.default({ module_or_path: '/sdk/wasm-face/trustcap_wasm_face_bg.wasm' });
    const plainRaw = new plainGlue.FaceDetector(modelBytes, 'front128');
    const plain = { detect: (image) => plainRaw.detect(image.data, image.width, image.height, image.width * 4) };
    const plainModule = { simd: plainGlue.simd() };
    const simdGlue = await import('/sdk/wasm-face-simd/trustcap_wasm_face.js');
    const simdRaw = new simdGlue.FaceDetector(modelBytes, 'front128');
    const ours = simd.detect(small);

    // onnxruntime-web, wasm backend, the same model bytes and the same pixels.
    const ort = await import('/ort/ort.wasm.min.mjs');
    ort.env.wasm.wasmPaths = '/ort/';
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    const session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const input = new Float32Array(128 * 128 * 3);
    const toTensor = (image) => {
      const d = image.data;
      for (let i = 0, j = 0; i < d.length; i += 4, j += 3) {
        input[j] = d[i] / 127.5 - 1;
        input[j + 1] = d[i + 1] / 127.5 - 1;
        input[j + 2] = d[i + 2] / 127.5 - 1;
      }
      return new ort.Tensor('float32', input, [1, 128, 128, 3]);
    };
    const feeds = { [session.inputNames[0]]: toTensor(small) };
    const oursTensorScore = simdRaw.bestScoreOfTensor(input);
    const plainTensorScore = plainRaw.bestScoreOfTensor(input);
    const outputs = await session.run(feeds);
    let best = -Infinity;
    for (const name of session.outputNames) {
      const t = outputs[name];
      if (t.dims[t.dims.length - 1] === 1) for (const v of t.data) best = Math.max(best, v);
    }
    const ortScore = 1 / (1 + Math.exp(-best));

    const makeBurst = () => simdModule.createLivenessAnalyzer();
    let burst = makeBurst();
    let t = 0;
    const cameraFaces = simd.detect(camera);
    const cameraBox = cameraFaces.length ? cameraFaces[0].box : { x: 220, y: 100, width: 200, height: 240 };

    window.bench = {
      simd_infer_128: () => simdRaw.bestScoreOfTensor(input),
      plain_infer_128: () => plainRaw.bestScoreOfTensor(input),
      simd_detect_128: () => simd.detect(small),
      plain_detect_128: () => plain.detect(small),
      simd_detect_640x480: () => simd.detect(camera),
      plain_detect_640x480: () => plain.detect(camera),
      ort_run: () => session.run(feeds),
      ort_pre_and_run: () => session.run({ [session.inputNames[0]]: toTensor(small) }),
      liveness_push_640x480: () => {
        if (burst.frames >= 100) {
          burst.free();
          burst = makeBurst();
        }
        t += 33.3;
        burst.push(camera, cameraBox, t);
      },
    };
    return {
      simd_module: simdModule.simd,
      plain_module: plainModule.simd,
      ours_tensor_score: oursTensorScore,
      plain_tensor_score: plainTensorScore,
      ours_faces: ours.length,
      ours_score: ours.length ? ours[0].score : 0,
      ort_score: ortScore,
      camera_faces: cameraFaces.length,
      output_names: session.outputNames,
    };
  });
  if (!setup.simd_module || setup.plain_module) throw new Error(`SIMD flags wrong: ${JSON.stringify(setup)}`);

  // Warm-up: at least 20 calls and 1.5 s. V8 first runs wasm from its baseline compiler and
  // tiers hot functions up in the background.
  const warm = (name) =>
    page.evaluate(async ([name, warm]) => {
      const t0 = performance.now();
      for (let i = 0; i < warm || performance.now() - t0 < 1500; i++) await window.bench[name]();
    }, [name, 20]);
  // One batch of `n` calls (wall: performance.now(); CPU: the main thread's ThreadTime from the
  // DevTools protocol around the batch), timed in slices of 5 calls too: the fastest slice is the
  // figure least disturbed by other processes on a busy machine.
  const batch = async (name, n) => {
    const cpu0 = await threadTime();
    const [wall, best] = await page.evaluate(async ([name, n]) => {
      let best = Infinity;
      const t0 = performance.now();
      for (let i = 0; i < n; i += 5) {
        const s0 = performance.now();
        for (let j = 0; j < 5; j++) await window.bench[name]();
        best = Math.min(best, (performance.now() - s0) / 5);
      }
      return [(performance.now() - t0) / n, best];
    }, [name, n]);
    const cpu1 = await threadTime();
    return { wall, best, cpu: ((cpu1 - cpu0) * 1000) / n };
  };
  // Calls per row, spread over ROUNDS rounds that visit every row in turn: this machine's speed
  // changes over seconds, and interleaving gives every row (TrustCap's and onnxruntime-web's
  // alike) a share of the fast and the slow phases. A row's figures are the medians of its
  // rounds (wall, CPU), its fastest round (CPU) and its fastest slice over all of them.
  const ROUNDS = 7;
  const plan = [
    ['simd_infer_128', 200],
    ['plain_infer_128', 50],
    ['simd_detect_128', 200],
    ['plain_detect_128', 50],
    ['ort_run', 200],
    ['ort_pre_and_run', 200],
    ['simd_detect_640x480', 100],
    ['plain_detect_640x480', 50],
    ['liveness_push_640x480', 200],
  ];
  // Every row warmed up before the first round: V8 tiers the face module's functions up lazily,
  // and the model-only and detect timings share them, so whichever came first would pay for it.
  for (const [name] of plan) await warm(name);
  const batches = Object.fromEntries(plan.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, n] of plan) batches[name].push(await batch(name, Math.max(5, Math.round(n / ROUNDS / 5) * 5)));
  }
  const median = (xs) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const round3 = (v) => Math.round(v * 1000) / 1000;
  const results = {};
  for (const [name, list] of Object.entries(batches)) {
    results[name] = {
      wall_ms: round3(median(list.map((b) => b.wall))),
      cpu_ms: round3(median(list.map((b) => b.cpu))),
      best_ms: round3(Math.min(...list.map((b) => b.best))),
      cpu_fastest_round_ms: round3(Math.min(...list.map((b) => b.cpu))),
      rounds: list.length,
      cpu_ms_by_round: list.map((b) => round3(b.cpu)),
    };
  }
  console.log(JSON.stringify({ ...setup, ort_version: ortVersion, results }));
} finally {
  await browser.close();
  server.close();
}
