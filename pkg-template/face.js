// @trustcap/web face module loader.
//
// Face detection (BlazeFace through tract) and passive liveness live in a second WebAssembly
// module (crates/wasm-face), several times the size of the core module. Nothing here runs at
// import time: the page downloads the face module only when it calls prefetchFaceModule()
// (in idle time, as the selfie step nears) or loadFaceModule(), so a document-only flow never
// pays for it. There are two builds of it: one with WebAssembly SIMD kernels (every browser
// since 2021–2023: Chrome 91, Firefox 89, Safari 16.4) and a slower one without SIMD for the
// rest; the loader validates a tiny SIMD probe and downloads only the build this browser runs.

import { TrustCapError } from './errors.js';
import { assetUrl } from './assets.js';

// The face module's JS glue of each build, imported on demand: literal specifiers, so bundlers
// split each into its own chunk and a page without a bundler fetches it next to this file.
const BUILDS = Object.freeze({
  simd: Object.freeze({ glue: () => import('./wasm-face-simd/trustcap_wasm_face.js'), wasm: 'faceWasm' }),
  plain: Object.freeze({ glue: () => import('./wasm-face/trustcap_wasm_face.js'), wasm: 'faceWasmPlain' }),
});

// The build this browser runs: with SIMD where the probe validates.
const build = () => (faceSimdSupported() ? BUILDS.simd : BUILDS.plain);

const wasmSupported = () => typeof WebAssembly === 'object' && typeof WebAssembly.compile === 'function';

// The asset name (see assets.js) of each model variant.
const MODEL_ASSETS = Object.freeze({ front128: 'faceModelFront128', back256: 'faceModelBack256' });
// The URL of a model variant's package copy, or null for an unknown variant.
const modelUrlOf = (variant) =>
  Object.prototype.hasOwnProperty.call(MODEL_ASSETS, variant) ? assetUrl(MODEL_ASSETS[variant]).href : null;

/** The BlazeFace models the package serves, by variant (package-relative paths; see `setAssetsUrl`). */
export const FACE_MODELS = Object.freeze({
  front128: './models/blazeface_front_128.onnx',
  back256: './models/blazeface_back_256.onnx',
});

// The smallest module with a SIMD instruction (a function returning `v128.const 0`): it
// validates exactly where WebAssembly SIMD is supported.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 11,
]);

/**
 * Whether this browser runs WebAssembly SIMD, so that the face module's SIMD build loads (the
 * other browsers get the slower build without SIMD).
 */
export function faceSimdSupported() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

// The compiled WebAssembly.Module and the loaded FaceModule (promises), and model bytes by URL.
let compiled = null;
let loaded = null;
const modelBytes = new Map();

// Errors from the wasm module carry "<code>: <detail>" messages; a trap (a bug in the module)
// poisons the instance, so the next loadFaceModule() starts a fresh one.
function faceError(err, fallbackCode) {
  if (err instanceof TrustCapError) return err;
  if (typeof WebAssembly === 'object' && err instanceof WebAssembly.RuntimeError) {
    loaded = null;
    return new TrustCapError('face_module_crashed', `the face module stopped: ${err.message}`);
  }
  const message = String(err && err.message !== undefined ? err.message : err);
  const match = /^([a-z0-9_]+): /.exec(message);
  return new TrustCapError(match ? match[1] : fallbackCode, message);
}

async function fetchOk(url) {
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  return response;
}

function compileModule() {
  if (!compiled) {
    const url = assetUrl(build().wasm).href;
    const pending = (async () => {
      if (typeof WebAssembly.compileStreaming === 'function') {
        try {
          return await WebAssembly.compileStreaming(fetchOk(url));
        } catch {
          // e.g. served without `application/wasm`: compile from the bytes below.
        }
      }
      return WebAssembly.compile(await (await fetchOk(url)).arrayBuffer());
    })();
    compiled = pending;
    pending.catch(() => {
      if (compiled === pending) compiled = null;
    });
  }
  return compiled;
}

function fetchModel(url) {
  let pending = modelBytes.get(url);
  if (!pending) {
    pending = fetchOk(url).then((r) => r.arrayBuffer()).then((b) => new Uint8Array(b));
    modelBytes.set(url, pending);
    pending.catch(() => modelBytes.delete(url));
  }
  return pending;
}

/**
 * The face module compiled for this browser (the build {@link loadFaceModule} picks), downloading
 * and compiling it once per page. A `WebAssembly.Module` can be posted to a worker, which then
 * hands it to {@link adoptCompiledFaceModule} instead of downloading it again.
 *
 * @returns {Promise<WebAssembly.Module>}
 */
export function compiledFaceModule() {
  return compileModule();
}

/**
 * Makes `module` (from {@link compiledFaceModule} on another thread) the compiled face module of
 * this realm, unless one is already compiled or loading. For workers; pages do not need it.
 *
 * @param {WebAssembly.Module} module
 */
export function adoptCompiledFaceModule(module) {
  if (!compiled && module instanceof WebAssembly.Module) compiled = Promise.resolve(module);
}

/**
 * The bytes of a BlazeFace model variant, fetched once per page (shared with
 * {@link prefetchFaceModule}).
 *
 * @param {'front128' | 'back256'} variant
 * @returns {Promise<Uint8Array>}
 */
export function faceModelBytes(variant) {
  const url = modelUrlOf(variant);
  if (!url) return Promise.reject(new TrustCapError('invalid_options', `unknown face model variant ${String(variant)}`));
  return fetchModel(url);
}

function whenIdle() {
  return new Promise((done) => {
    if (typeof requestIdleCallback === 'function') requestIdleCallback(() => done(), { timeout: 2000 });
    else setTimeout(done, 0);
  });
}

/**
 * Starts downloading (and compiling) the face module and the selfie model in idle time, so
 * that {@link loadFaceModule} is quick when the selfie step starts. Call it when the selfie
 * step nears (e.g. once the document is captured). Never rejects: a failed prefetch is
 * retried by loadFaceModule().
 *
 * @param {{ models?: string[] }} [options] `models`: variants to fetch (default `['front128']`)
 * @returns {Promise<void>} settles when the prefetch is done
 */
export async function prefetchFaceModule({ models = ['front128'] } = {}) {
  if (!wasmSupported()) return;
  await whenIdle();
  // The glue is small and side-effect free: importing it is its prefetch.
  const work = [build().glue(), compileModule()];
  for (const variant of models) {
    const url = modelUrlOf(variant);
    if (url) work.push(fetchModel(url));
  }
  await Promise.allSettled(work);
}

/**
 * Loads the face module once per page (later calls return the same promise) and resolves to
 * a {@link FaceModule}: the SIMD build where the browser runs WebAssembly SIMD, otherwise the
 * build without SIMD ({@link FaceModule#simd} says which). Rejects with a TrustCapError:
 * `face_module_unsupported` (no WebAssembly at all) or `face_module_load_failed` (a later call
 * tries again).
 *
 * @returns {Promise<FaceModule>}
 */
export function loadFaceModule() {
  if (!wasmSupported()) {
    return Promise.reject(new TrustCapError('face_module_unsupported', 'this browser lacks WebAssembly, which face detection needs'));
  }
  if (!loaded) {
    const pending = (async () => {
      const [glue, module] = await Promise.all([build().glue(), compileModule()]);
      await glue.default({ module_or_path: module });
      return new FaceModule(glue);
    })().catch((err) => {
      if (loaded === pending) loaded = null;
      throw new TrustCapError('face_module_load_failed', `could not load the TrustCap face module: ${err}`);
    });
    loaded = pending;
  }
  return loaded;
}

// A frame as the face module takes it: ImageData, or { data, width, height, stride? }.
function frameArgs(frame) {
  if (!frame || !frame.data || !Number.isInteger(frame.width) || !Number.isInteger(frame.height)) {
    throw new TrustCapError('invalid_frame', 'a frame is { data, width, height, stride? } or an ImageData');
  }
  const data = frame.data instanceof Uint8Array ? frame.data : new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
  return [data, frame.width, frame.height, frame.stride ?? frame.width * 4];
}

/** The loaded face module: factories for detectors and liveness analysers. */
export class FaceModule {
  #glue;

  /** @internal use {@link loadFaceModule} */
  constructor(glue) {
    this.#glue = glue;
  }

  /** Whether the running build is the one with WebAssembly SIMD kernels (otherwise the slower one without). */
  get simd() {
    return this.#glue.simd();
  }

  /** The face module's version (equal to the package's). */
  get version() {
    return this.#glue.version();
  }

  /**
   * A BlazeFace detector. The model comes from `options.model` (bytes), `options.modelUrl`, or
   * the package's own copy (fetched once per page, or already prefetched).
   *
   * @param {'front128' | 'back256'} [variant] `front128` (selfies, default) or `back256` (small faces)
   * @param {{ model?: ArrayBuffer | Uint8Array, modelUrl?: string, minScore?: number }} [options]
   * @returns {Promise<FaceDetector>}
   */
  async createDetector(variant = 'front128', { model, modelUrl, minScore } = {}) {
    let bytes = model;
    if (!bytes) {
      const url = modelUrl ?? modelUrlOf(variant);
      if (!url) throw new TrustCapError('unknown_model_variant', `unknown model variant ${variant} (front128, back256)`);
      try {
        bytes = await fetchModel(url);
      } catch (err) {
        throw new TrustCapError('model_fetch_failed', `could not fetch the face model: ${err}`);
      }
    }
    const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    let inner;
    try {
      inner = new this.#glue.FaceDetector(view, variant);
      if (minScore !== undefined) inner.minScore = minScore;
    } catch (err) {
      if (inner) inner.free();
      throw faceError(err, 'model_invalid');
    }
    return new FaceDetector(inner);
  }

  /**
   * A passive-liveness analyser for one burst of frames.
   *
   * @param {{ threshold?: number, minFrames?: number, cameraLabel?: string }} [options]
   * @returns {LivenessAnalyzer}
   */
  createLivenessAnalyzer({ cameraLabel, ...options } = {}) {
    const unknown = Object.keys(options).filter((k) => k !== 'threshold' && k !== 'minFrames');
    if (unknown.length) {
      throw new TrustCapError('invalid_options', `unknown liveness options: ${unknown.join(', ')} (threshold, minFrames, cameraLabel)`);
    }
    try {
      const inner = new this.#glue.LivenessAnalyzer(options);
      if (cameraLabel) inner.setCameraLabel(String(cameraLabel));
      return new LivenessAnalyzer(inner);
    } catch (err) {
      throw faceError(err, 'invalid_options');
    }
  }
}

/** BlazeFace on RGBA frames. Create it with {@link FaceModule#createDetector}. */
export class FaceDetector {
  #inner;

  /** @internal */
  constructor(inner) {
    this.#inner = inner;
  }

  /** `front128` or `back256`. */
  get variant() {
    return this.#inner.variant;
  }

  /** The model's input side in pixels. */
  get inputSize() {
    return this.#inner.inputSize;
  }

  /** Minimum score of a reported face. */
  get minScore() {
    return this.#inner.minScore;
  }

  set minScore(value) {
    try {
      this.#inner.minScore = value;
    } catch (err) {
      throw faceError(err, 'invalid_options');
    }
  }

  /**
   * Faces in a frame, best first: `{ score, box: { x, y, width, height }, keypoints: { rightEye,
   * leftEye, noseTip, mouth, rightEar, leftEar } }` in frame pixels.
   *
   * @param {ImageData | { data: Uint8Array | Uint8ClampedArray, width: number, height: number, stride?: number }} frame
   */
  detect(frame) {
    try {
      return this.#inner.detect(...frameArgs(frame));
    } catch (err) {
      throw faceError(err, 'inference_failed');
    }
  }

  /** Releases the model's memory. */
  free() {
    this.#inner.free();
  }
}

/** Passive liveness on a burst (1–2 s of frames). Create it with {@link FaceModule#createLivenessAnalyzer}. */
export class LivenessAnalyzer {
  #inner;

  /** @internal */
  constructor(inner) {
    this.#inner = inner;
  }

  /** Frames accepted so far. */
  get frames() {
    return this.#inner.frames;
  }

  /**
   * Adds a frame with the face's box (a detection's `box`) and its timestamp in milliseconds.
   *
   * @param {ImageData | { data: Uint8Array | Uint8ClampedArray, width: number, height: number, stride?: number }} frame
   * @param {{ x: number, y: number, width: number, height: number }} box
   * @param {number} timestampMs
   */
  push(frame, box, timestampMs) {
    try {
      this.#inner.push(...frameArgs(frame), box, timestampMs);
    } catch (err) {
      throw faceError(err, 'frame_error');
    }
  }

  /** The verdict so far: `{ frames, score, passed, decisive, signals, ... }`. */
  report() {
    try {
      return this.#inner.report();
    } catch (err) {
      throw faceError(err, 'internal');
    }
  }

  /** The verdict as JSON text (what goes into the signed payload). */
  reportJson() {
    try {
      return this.#inner.reportJson();
    } catch (err) {
      throw faceError(err, 'internal');
    }
  }

  /** Releases the analyser's memory. */
  free() {
    this.#inner.free();
  }
}
