// Frame analysis off the main thread, in a module Web Worker: for documents worker.js owns the wasm
// FrameAnalyzer, for selfies selfie-worker.js owns the SelfieAnalyzer, the face detector and the
// liveness burst. The page transfers each camera frame to the worker as an ImageBitmap and gets
// back the guidance, metrics and document outline or face. The worker keeps the best frame's (or
// the burst's) pixels until the page asks for them at capture time. `workerSupported()` says
// whether this browser can do it at all.

import { assetUrl, getAssetsUrl } from './assets.js';
import { TrustCapError } from './errors.js';

/** How long the worker may take to load the wasm core before the page falls back to the main thread. */
export const WORKER_START_TIMEOUT_MS = 20_000;

/**
 * Whether this browser has what the worker path needs: `Worker`, `OffscreenCanvas` with a 2D
 * context, and `createImageBitmap`. (Module-worker support itself shows only when one starts.)
 *
 * @returns {boolean}
 */
export function workerSupported() {
  return (
    typeof Worker === 'function' &&
    typeof OffscreenCanvas === 'function' &&
    typeof createImageBitmap === 'function' &&
    typeof OffscreenCanvas.prototype.getContext === 'function'
  );
}

/**
 * The main thread's handle on an analysis worker. It offers the surface `Capture` uses of a wasm
 * `FrameAnalyzer` (`framesAnalyzed`, `reset()`, `free()`) plus the asynchronous `analyze` and `best`.
 */
export class WorkerAnalyzer {
  #worker;
  #pending = new Map(); // id -> { resolve, reject }
  #nextId = 1;
  #frames = 0;
  #busy = false;
  #dead = null; // the error that ended the worker
  #info = null; // the worker's answer to 'init'

  /** @param {Worker} worker a started worker (use {@link WorkerAnalyzer.create}) */
  constructor(worker) {
    this.#worker = worker;
    worker.addEventListener('message', (e) => this.#onMessage(e.data));
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      this.#die(new TrustCapError('worker_failed', 'the analysis worker failed'));
    });
    worker.addEventListener('messageerror', () => this.#die(new TrustCapError('worker_failed', 'unreadable message')));
  }

  /**
   * Starts a worker with a wasm `FrameAnalyzer` of the given kind (`document`, `document:id1`, …).
   * Rejects with `worker_failed` when the worker cannot start or load the wasm core in time.
   *
   * @param {string} kind
   * @param {{ timeoutMs?: number, module?: WebAssembly.Module | null }} [opts] `module`: the page's compiled
   *   core, sent to the worker so it does not download and compile it again
   * @returns {Promise<WorkerAnalyzer>}
   */
  static create(kind, { timeoutMs = WORKER_START_TIMEOUT_MS, module = null } = {}) {
    return WorkerAnalyzer.#start(
      () => new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'trustcap-analysis' }),
      { type: 'init', kind, wasmModule: module, wasmUrl: assetUrl('coreWasm').href },
      timeoutMs,
    );
  }

  /**
   * Starts a selfie worker: the wasm core's `SelfieAnalyzer`, the face module (the build this
   * browser runs) with a BlazeFace front-128 detector, and the liveness burst (see selfie.js).
   * Rejects with `worker_failed` when it cannot start in time, or with the face module's error.
   *
   * @param {{ timeoutMs?: number, module?: WebAssembly.Module | null, faceModule?: WebAssembly.Module | null,
   *   model?: Uint8Array | null }} [opts] the page's compiled core and face modules and the model
   *   bytes, so the worker downloads nothing again
   * @returns {Promise<WorkerAnalyzer>}
   */
  static createSelfie({ timeoutMs = WORKER_START_TIMEOUT_MS, module = null, faceModule = null, model = null } = {}) {
    return WorkerAnalyzer.#start(
      () => new Worker(new URL('./selfie-worker.js', import.meta.url), { type: 'module', name: 'trustcap-selfie' }),
      {
        type: 'init',
        wasmModule: module,
        wasmUrl: assetUrl('coreWasm').href,
        assetsUrl: getAssetsUrl(),
        faceModule,
        model,
      },
      timeoutMs,
    );
  }

  static async #start(spawn, init, timeoutMs) {
    let worker;
    try {
      worker = spawn();
    } catch (err) {
      throw new TrustCapError('worker_failed', `the analysis worker could not be created (${err && err.name})`);
    }
    const analyzer = new WorkerAnalyzer(worker);
    let timer;
    try {
      analyzer.#info = await Promise.race([
        analyzer.#request(init),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new TrustCapError('worker_failed', 'the analysis worker did not start')), timeoutMs);
        }),
      ]);
    } catch (err) {
      analyzer.free();
      throw err instanceof TrustCapError ? err : new TrustCapError('worker_failed', String(err));
    } finally {
      clearTimeout(timer);
    }
    return analyzer;
  }

  /** What the worker said when it started (a selfie worker: `{ ready, simd, oval }`). */
  get info() {
    return this.#info;
  }

  /** Frames analysed since the start or the last `reset()`. */
  get framesAnalyzed() {
    return this.#frames;
  }

  /** Whether a frame is being analysed now (the page drops frames meanwhile). */
  get busy() {
    return this.#busy;
  }

  /**
   * Analyses one frame, scaled to `width`×`height` in the worker: `source` is an `ImageBitmap`
   * (transferred: the caller must not use it again) or anything `createImageBitmap` takes (a
   * `<video>`). `busy` is true from this call until it settles. A document worker resolves with the
   * wasm analyzer's result plus `kept` (this frame is now the best one, its pixels kept in the
   * worker); a selfie worker with selfie.js's step (`result`, `code`, `message`, `progress`,
   * `burstStarted`, `complete`).
   *
   * @param {ImageBitmap | HTMLVideoElement | VideoFrame} source
   * @param {number} width
   * @param {number} height
   * @param {number} at when the frame was grabbed (`Date.now()`), kept with a best frame
   * @param {object} [extra] more fields for the worker (selfie: `now`, `requested`, `limit`, `cameraLabel`)
   * @returns {Promise<object>}
   */
  async analyze(source, width, height, at, extra = {}) {
    this.#busy = true;
    try {
      const bitmap = source instanceof ImageBitmap ? source : await createImageBitmap(source);
      if (this.#dead) {
        bitmap.close();
        throw this.#dead;
      }
      const result = await this.#request({ ...extra, type: 'analyze', bitmap, width, height, at }, [bitmap]);
      this.#frames = result.framesAnalyzed;
      return result;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Selfie worker: ends the burst and takes its liveness report and frames
   * (`{ pixels, width, height, t, at, metrics }`), or null when no burst was taken.
   * @returns {Promise<{ report: object, frames: object[] } | null>}
   */
  takeBurst() {
    return this.#request({ type: 'burst' });
  }

  /**
   * The kept best frame: its RGBA pixels and its analysis (`document` outline, `metrics`,
   * `acceptable`, grab time `at`), or null when no frame was kept. The worker forgets it.
   * @returns {Promise<{ pixels: Uint8ClampedArray, width: number, height: number, document: object | null,
   *   metrics: object, acceptable: boolean, at: number } | null>}
   */
  best() {
    return this.#request({ type: 'best' });
  }

  /** Forgets every frame (motion history, steady count, the kept best frame). */
  reset() {
    this.#frames = 0;
    if (!this.#dead) this.#worker.postMessage({ type: 'reset' });
  }

  /** Ends the worker; pending requests reject. */
  free() {
    this.#die(new TrustCapError('stopped', 'the analysis worker was stopped'));
  }

  #request(message, transfer = []) {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id }, transfer);
    });
  }

  #onMessage(data) {
    if (!data || typeof data !== 'object') return;
    const pending = this.#pending.get(data.id);
    if (!pending) return;
    this.#pending.delete(data.id);
    if (data.error) {
      const e = data.error;
      pending.reject(new TrustCapError(String(e.code || 'frame_error'), String(e.message || 'analysis failed')));
    } else {
      pending.resolve(data.result);
    }
  }

  #die(error) {
    if (this.#dead) return;
    this.#dead = error;
    this.#worker.terminate();
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }
}
