// The selfie analysis worker (a module worker started by analysis.js): loads the wasm core (the
// SelfieAnalyzer) and the face module (BlazeFace and the liveness analyser), draws each
// transferred ImageBitmap into an OffscreenCanvas at the analysis size and runs the selfie step's
// per-frame logic (selfie.js) on it. The burst's frames stay here until the page takes them.
//
// Messages in: { id, type: 'init', wasmModule, wasmUrl, assetsUrl, faceModule, model } |
// { id, type: 'analyze', bitmap, width, height, now, at, requested, limit, cameraLabel } |
// { id, type: 'burst' } | { type: 'reset' }. Out: { id, result } or { id, error: { code, message } }.

import init, { SelfieAnalyzer } from './wasm/trustcap_wasm.js';
import { setAssetsUrl } from './assets.js';
import { adoptCompiledFaceModule, loadFaceModule } from './face.js';
import { SelfieSession } from './selfie.js';
import { FrameSurface, errorOf } from './worker-frame.js';

let session = null;
let detector = null;
const surface = new FrameSurface();

async function start(msg) {
  // The page's asset base (setAssetsUrl lives per realm) and its compiled modules, so nothing is
  // downloaded twice; the URLs otherwise.
  if (typeof msg.assetsUrl === 'string') setAssetsUrl(msg.assetsUrl);
  if (msg.faceModule instanceof WebAssembly.Module) adoptCompiledFaceModule(msg.faceModule);
  const wasmUrl = typeof msg.wasmUrl === 'string' ? msg.wasmUrl : new URL('./wasm/trustcap_wasm_bg.wasm', import.meta.url);
  const [faceModule] = await Promise.all([
    loadFaceModule(),
    init({ module_or_path: msg.wasmModule instanceof WebAssembly.Module ? msg.wasmModule : wasmUrl }),
  ]);
  detector = await faceModule.createDetector('front128', msg.model instanceof Uint8Array ? { model: msg.model } : {});
  session = new SelfieSession({ analyzer: new SelfieAnalyzer(), detector, faceModule });
  return { ready: true, simd: faceModule.simd, oval: session.oval };
}

function analyze(msg) {
  const { bitmap } = msg;
  try {
    if (!session) throw new Error('not_ready: the worker has no analyzer');
    // A fresh copy of the pixels every call: a burst keeps them.
    const { image, resized } = surface.draw(bitmap, msg.width, msg.height);
    if (resized) session.reset();
    const now = Number.isFinite(msg.now) ? msg.now : performance.now();
    const at = Number.isFinite(msg.at) ? msg.at : Date.now();
    const step = session.analyze(image, now, at, {
      requested: msg.requested === true,
      limit: Number.isInteger(msg.limit) ? msg.limit : 0,
      cameraLabel: typeof msg.cameraLabel === 'string' ? msg.cameraLabel : '',
    });
    return { ...step, framesAnalyzed: step.result.framesAnalyzed };
  } finally {
    bitmap.close();
  }
}

// The burst's report and frames; the pixels move to the page.
function takeBurst() {
  const burst = session ? session.takeBurst() : null;
  if (!burst) return { result: null, transfer: [] };
  const frames = burst.frames.map(({ image, width, height, t, at, metrics }) => ({ pixels: image.data, width, height, t, at, metrics }));
  return { result: { report: burst.report, frames }, transfer: frames.map((f) => f.pixels.buffer) };
}

self.addEventListener('message', async (event) => {
  const msg = event.data;
  if (!msg || typeof msg !== 'object') return;
  try {
    let result;
    let transfer = [];
    switch (msg.type) {
      case 'init':
        result = await start(msg);
        break;
      case 'analyze':
        result = analyze(msg);
        break;
      case 'burst':
        ({ result, transfer } = takeBurst());
        break;
      case 'reset':
        if (session) session.reset();
        break;
      default:
        throw new Error(`invalid_argument: unknown message ${String(msg.type)}`);
    }
    if (msg.id !== undefined) self.postMessage({ id: msg.id, result }, transfer);
  } catch (err) {
    if (msg.id !== undefined) self.postMessage({ id: msg.id, error: errorOf(err, 'frame_error') });
  }
});
