// The analysis worker (a module worker started by analysis.js): loads the wasm core, owns one
// FrameAnalyzer, draws each transferred ImageBitmap into an OffscreenCanvas at the analysis size,
// analyses it and answers with the result. It keeps the best frame's pixels (the analyzer's pick
// among good frames or, until there is one, the sharpest frame) for the page to take at capture.
//
// Messages in: { id, type: 'init', kind, wasmModule, wasmUrl } | { id, type: 'analyze', bitmap, width, height, at } |
// { id, type: 'best' } | { type: 'reset' }. Out: { id, result } or { id, error: { code, message } }.

import init, { FrameAnalyzer } from './wasm/trustcap_wasm.js';
import { FrameSurface, errorOf } from './worker-frame.js';

let analyzer = null;
const surface = new FrameSurface();
let best = null; // { image: ImageData, acceptable, sharpness, document, metrics, at }

async function handle(msg) {
  switch (msg.type) {
    case 'init': {
      // The page resolves the core's URL (it honours setAssetsUrl); next to this module otherwise.
      // The page's compiled module when it sent one (no second download), else the URL.
      const wasmUrl = typeof msg.wasmUrl === 'string' ? msg.wasmUrl : new URL('./wasm/trustcap_wasm_bg.wasm', import.meta.url);
      await init({ module_or_path: msg.wasmModule instanceof WebAssembly.Module ? msg.wasmModule : wasmUrl });
      analyzer = new FrameAnalyzer(msg.kind);
      return { ready: true };
    }
    case 'analyze': {
      const { bitmap } = msg;
      try {
        if (!analyzer) throw new Error('not_ready: the worker has no analyzer');
        const { image, resized } = surface.draw(bitmap, msg.width, msg.height);
        const { width, height } = image;
        if (resized) {
          analyzer.reset();
          best = null;
        }
        const result = analyzer.analyze(image.data, width, height, width * 4);
        const sharpness = result.metrics.sharpness;
        const sharper = !best || (!best.acceptable && sharpness > best.sharpness);
        result.kept = Boolean(result.isNewBest || sharper);
        if (result.kept) {
          const at = Number.isFinite(msg.at) ? msg.at : Date.now();
          best = { image, acceptable: result.isNewBest, sharpness, document: result.document, metrics: result.metrics, at };
        }
        return result;
      } finally {
        bitmap.close();
      }
    }
    case 'best': {
      if (!best) return null;
      const { image, document, metrics, acceptable, at } = best;
      return { pixels: image.data, width: image.width, height: image.height, document, metrics, acceptable, at };
    }
    case 'reset': {
      if (analyzer) analyzer.reset();
      best = null;
      return undefined;
    }
    default:
      throw new Error(`invalid_argument: unknown message ${String(msg.type)}`);
  }
}

self.addEventListener('message', async (event) => {
  const msg = event.data;
  if (!msg || typeof msg !== 'object') return;
  try {
    const result = await handle(msg);
    if (msg.id === undefined) return;
    // The best frame's pixels move to the page (the worker keeps no copy after a capture).
    const transfer = msg.type === 'best' && result ? [result.pixels.buffer] : [];
    if (msg.type === 'best' && result) best = null;
    self.postMessage({ id: msg.id, result }, transfer);
  } catch (err) {
    if (msg.id !== undefined) self.postMessage({ id: msg.id, error: errorOf(err, 'frame_error') });
  }
});
