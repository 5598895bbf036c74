// @trustcap/web: document and selfie capture with on-device quality checks and signed uploads.
//
// This file only orchestrates browser APIs (camera, canvas, fetch). Frame analysis,
// auto-capture decisions, hashing, the manifest and the signature all happen in the
// WebAssembly module (crates/wasm over trustcap-vision and trustcap-protocol).

import init, {
  CaptureKey,
  FrameAnalyzer,
  SelfieAnalyzer,
  rectifyDocument,
  version as wasmVersion,
} from './wasm/trustcap_wasm.js';
import { compiledFaceModule, faceModelBytes, loadFaceModule } from './face.js';
import { SelfieSession } from './selfie.js';
import { RETRY_DEFAULTS, isRetryableStatus, requestWithRetry } from './upload.js';
import { TrustCapError } from './errors.js';
import { Camera, watchVisibility } from './camera.js';
import { decodeStill } from './still.js';
import { WorkerAnalyzer, workerSupported } from './analysis.js';

export { TrustCapError } from './errors.js';
export { CAMERA_ERROR_CODES, createFileInput } from './camera.js';
import { assetUrl } from './assets.js';

/** The package version (kept equal to the wasm crate version by the build). */
export const VERSION = '0.1.0';

/** The HTTP content type of a capture upload. */
export const CAPTURE_CONTENT_TYPE = 'application/vnd.trustcap.capture.v1';

/** The part name of a document step's original camera photo (`trustcap_protocol::document::ORIGINAL_PART`). */
export const DOCUMENT_ORIGINAL_PART = 'document_original';

/** The capture steps a session may contain. */
export const STEPS = Object.freeze(['document_front', 'document_back', 'selfie']);

const MAX_FRAME_WIDTH = 1280;
const JPEG_QUALITY = 0.92;

export { BURST_FRAMES, BURST_INTERVAL_MS } from './selfie.js';
// The burst format version of the signed `liveness.*` quality entries.
const BURST_FORMAT_VERSION = 1;

// The wasm module is loaded once per page, whatever the number of captures.
let wasmReady = null;
// Registered capture keys by verifier URL and client token (see Capture#session).
const sessionKeys = new Map();

// The compiled core module, kept so the analysis worker instantiates it without a second download.
let coreModule = null;

async function compileCore() {
  const url = assetUrl('coreWasm');
  if (typeof WebAssembly.compileStreaming === 'function') {
    try {
      return await WebAssembly.compileStreaming(fetch(url));
    } catch {
      // A server without the application/wasm type: compile from the bytes below.
    }
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  return WebAssembly.compile(await response.arrayBuffer());
}

function loadWasm() {
  if (!wasmReady) {
    wasmReady = compileCore()
      .then((module) => {
        coreModule = module;
        return init({ module_or_path: module });
      })
      .then(
        () => {
          const v = wasmVersion();
          if (v !== VERSION) console.warn(`@trustcap/web ${VERSION} loaded wasm core ${v}`);
        },
        (err) => {
          wasmReady = null; // allow a retry
          throw new TrustCapError('wasm_load_failed', `could not load the TrustCap WebAssembly module: ${err}`);
        },
      );
  }
  return wasmReady;
}

// The selfie step's face module (loaded lazily, once per page) and a BlazeFace front-128 detector.
async function loadFace() {
  const module = await loadFaceModule();
  return { module, detector: await module.createDetector('front128') };
}

// Errors thrown by the wasm module carry "<code>: <detail>" messages.
function fromWasmError(err, fallbackCode) {
  if (err instanceof TrustCapError) return err;
  const message = String(err && err.message !== undefined ? err.message : err);
  const match = /^([a-z0-9_]+): /.exec(message);
  return new TrustCapError(match ? match[1] : fallbackCode, message);
}

function createCanvas(width, height) {
  if (typeof OffscreenCanvas === 'function') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function encodeJpeg(canvas) {
  if (typeof canvas.convertToBlob === 'function') {
    return canvas.convertToBlob({ type: 'image/jpeg', quality: JPEG_QUALITY });
  }
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('toBlob failed'))), 'image/jpeg', JPEG_QUALITY);
  });
}

// Guidance texts of the still checks that the wasm analyzers have no message for.
const STILL_MESSAGES = Object.freeze({
  ready: 'The photo looks good',
  no_document: 'No document was found in the photo: place it flat on a plain surface, filling most of the frame',
  no_face: 'No face was found in the photo',
  multiple_faces: 'More than one face is in the photo',
});

function finiteMetrics(metrics) {
  const out = {};
  for (const [name, value] of Object.entries(metrics || {})) {
    if (typeof value === 'number' && Number.isFinite(value)) out[name] = value;
  }
  return out;
}

/**
 * One capture of one step at a time: camera, live guidance, auto-capture, an optional review
 * and the signed upload. Create it with {@link createCapture}. Events (all `CustomEvent`s, data in
 * `detail`), in order: `guidance` and `quality` per analysed frame, `captured`, `uploading`,
 * `uploaded` then `done`; or `error` at any point.
 */
export class Capture extends EventTarget {
  #opts;
  #state = 'idle';
  #key = null;
  #sessionId = null;
  #analyzer = null; // a wasm FrameAnalyzer, a selfie.js SelfieSession, or a WorkerAnalyzer
  #analysisMode = null; // 'worker' or 'main' once a step's analysis started
  #camera = null; // camera.js Camera
  #stream = null; // the open camera's stream (null while closed)
  #video = null;
  #frameSize = null; // worker mode: the analysis size of the frames sent so far
  #paused = false; // the page is hidden: camera released, analysis paused
  #stopWatching = null; // ends the visibilitychange watch
  #stillUpload = false; // the upload is a still from submitFile, not the live camera
  #reopenSeq = 0; // the latest camera reopen (an older one that finishes late is ignored)
  #frameCanvas = null;
  #frameCtx = null;
  #bestCanvas = null;
  #bestCtx = null;
  #best = null; // { width, height, metrics, acceptable, document, at }
  #loopHandle = null;
  #loopKind = null;
  #abort = new AbortController();
  // Selfie step: the page thread's face detector (no worker, or a still from a file) and a
  // manual-shutter request (the liveness burst lives in the SelfieSession, here or in the worker).
  #face = null; // { module, detector }
  #burstRequested = false;
  #oval = null; // the face oval the guidance measures against (drawn on the overlay)
  // Review mode: the pending decision on the captured image (resolves true to upload, false to retake).
  #reviewDecision = null;

  /** @param {object} opts validated options from createCapture */
  constructor(opts) {
    super();
    this.#opts = opts;
  }

  /**
   * `idle`, `starting`, `capturing`, `review` (review mode: waiting for `confirm()` or `retake()`),
   * `fallback` (the camera failed: waiting for `submitFile`), `checking` (a submitted still is being
   * checked), `uploading`, `uploaded`, `error` or `stopped`.
   */
  get state() {
    return this.#state;
  }

  /** The capture step, e.g. `document_front`. */
  get step() {
    return this.#opts.step;
  }

  /**
   * Where frames are analysed: `'worker'` (a Web Worker), `'main'` (the page's thread: `worker: false`,
   * no worker support, or a worker that could not start) or null before analysis started.
   */
  get analysisMode() {
    return this.#analysisMode;
  }

  /** Whether the open camera has a torch that {@link Capture#setTorch} can switch. */
  get torchAvailable() {
    return Boolean(this.#camera && this.#camera.torchAvailable);
  }

  /**
   * Switches the camera's torch (for a document in a dim room). Rejects with `torch_unavailable`
   * when the camera has none or is closed.
   * @param {boolean} on
   */
  async setTorch(on) {
    if (!this.#camera) throw new TrustCapError('torch_unavailable', 'no camera is open');
    await this.#camera.setTorch(on);
  }

  /**
   * Loads the wasm core, registers the session's capture key with the verifier (a fresh
   * key, once per session and page), opens the camera and starts analysing frames.
   * Resolves once frames are being analysed; rejects with a {@link TrustCapError} (also
   * emitted as an `error` event) if any of that fails.
   *
   * @param {string} [step] the step to capture (default: the `step` option). After `done`, calling
   *   `start(nextStep)` again captures the session's next step with the same object.
   */
  async start(step) {
    if (this.#state !== 'idle' && this.#state !== 'uploaded') {
      throw new TrustCapError('invalid_state', `start() called in state ${this.#state}`);
    }
    if (step !== undefined) {
      if (!STEPS.includes(step)) throw new TrustCapError('invalid_options', `step must be one of ${STEPS.join(', ')}`);
      this.#opts.step = step;
    }
    this.#best = null;
    this.#frameCanvas = null;
    this.#burstRequested = false;
    this.#state = 'starting';
    // The selfie step needs the face module and model: start downloading them now, alongside the
    // session and the camera (both are fetched once per page; failures surface below).
    if (this.#opts.step === 'selfie') Promise.all([compiledFaceModule(), faceModelBytes('front128')]).catch(() => {});
    try {
      // Three things at once: the session and capture key, the camera, and (once the wasm core is
      // compiled, with the session) the frame analysis. The first failure in that order is reported:
      // a session error before a camera error, so a bad token never offers the file fallback.
      const preparing = this.#prepare();
      const opening = this.#openCamera();
      const analysing = preparing.then(() =>
        this.#opts.step === 'selfie' ? this.#startSelfieAnalysis() : this.#startDocumentAnalysis(),
      );
      const settled = await Promise.allSettled([preparing, opening, analysing]);
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      this.#checkStopped();
      this.#stopWatching = watchVisibility(
        () => this.#onHidden(),
        () => this.#onVisible(),
      );
      this.#state = 'capturing';
      this.#scheduleFrame();
    } catch (err) {
      if (this.#state === 'stopped') {
        this.#cleanup();
        return;
      }
      const error = err instanceof TrustCapError ? err : fromWasmError(err, 'internal');
      if (error.fileFallback) this.#enterFallback(error);
      else this.#fail(error);
      throw error;
    }
  }

  /**
   * The file-input fallback (webviews and in-app browsers without a usable camera, a denied
   * permission, or a user who prefers a photo): decodes the still (EXIF orientation applied), runs
   * the same quality checks as the live path and, when it passes, uploads it like a live capture
   * (marked `capture.file` in the signed quality map; a selfie from a file has no liveness burst, so
   * the verifier leaves liveness to a person). When it does not pass, emits `guidance` and resolves
   * `{ accepted: false, guidance }` so the page can ask for another photo. Works after `start()`
   * rejected with `fileFallback`, while capturing (the camera is stopped) or without `start()`.
   *
   * @param {Blob} file a `File` from `<input type="file" accept="image/*" capture>` or any image Blob
   * @returns {Promise<{ accepted: true, captureId: string, status: string } | { accepted: false, guidance: object }>}
   */
  async submitFile(file) {
    const from = this.#state;
    if (from !== 'idle' && from !== 'fallback' && from !== 'capturing') {
      throw new TrustCapError('invalid_state', `submitFile() called in state ${from}`);
    }
    this.#state = 'checking';
    let still;
    try {
      if (from === 'capturing') this.#releaseLive();
      if (from === 'idle') await this.#prepare();
      still = await decodeStill(file);
      this.#checkStopped();
    } catch (err) {
      if (this.#state === 'stopped') throw new TrustCapError('stopped', 'the capture was stopped');
      const error = err instanceof TrustCapError ? err : fromWasmError(err, 'internal');
      if (error.code === 'invalid_image' || error.code === 'unsupported') {
        this.#state = 'fallback';
        throw error;
      }
      this.#fail(error);
      throw error;
    }
    let check;
    try {
      check = this.#opts.step === 'selfie' ? await this.#checkSelfieStill(still) : this.#checkDocumentStill(still);
      this.#checkStopped();
    } catch (err) {
      if (this.#state === 'stopped') throw new TrustCapError('stopped', 'the capture was stopped');
      this.#state = 'fallback';
      throw fromWasmError(err, 'frame_error');
    }
    if (!check.acceptable) {
      this.#state = 'fallback';
      const guidance = { ...check.guidance, source: 'file' };
      this.#emit('guidance', guidance);
      return { accepted: false, guidance };
    }
    this.#bestCanvas = still.canvas;
    this.#bestCtx = still.ctx;
    this.#best = {
      width: still.width,
      height: still.height,
      // `capture.file` tells the verifier (signed) that this is a still from a file, not the live camera.
      metrics: { ...check.metrics, 'capture.file': 1 },
      acceptable: true,
      document: check.document,
      at: Date.now(),
    };
    this.#stillUpload = true;
    this.#state = 'capturing';
    const outcome = new Promise((resolve, reject) => {
      const onUploaded = (e) => {
        this.removeEventListener('error', onError);
        resolve({ accepted: true, captureId: e.detail.captureId, status: e.detail.status });
      };
      const onError = (e) => {
        this.removeEventListener('uploaded', onUploaded);
        reject(new TrustCapError(e.detail.code, e.detail.message, e.detail.status));
      };
      this.addEventListener('uploaded', onUploaded, { once: true });
      this.addEventListener('error', onError, { once: true });
    });
    await this.#finish();
    if (this.#state === 'stopped') throw new TrustCapError('stopped', 'the capture was stopped');
    return outcome;
  }

  /**
   * Takes the best frame seen so far now, without waiting for auto-capture (a manual
   * shutter). Does nothing unless the capture is running and a frame was analysed. In the
   * selfie step it starts the liveness burst at the next frame with a face instead.
   */
  captureNow() {
    if (this.#state !== 'capturing') return;
    if (this.#opts.step === 'selfie') this.#burstRequested = true;
    else if (this.#best) this.#capture();
  }

  /**
   * Review mode (`review: true`): uploads the image shown in the `captured` event. Does nothing
   * unless the capture is in state `review`.
   */
  confirm() {
    this.#decideReview(true, 'uploading');
  }

  /**
   * Review mode (`review: true`): discards the image shown in the `captured` event, reopens the
   * camera and goes back to `capturing`. Does nothing unless the capture is in state `review`.
   */
  retake() {
    this.#decideReview(false, 'starting');
  }

  /** Ends the review with `confirmed` and moves to state `next`; nothing unless in state `review`. */
  #decideReview(confirmed, next) {
    if (this.#state !== 'review' || !this.#reviewDecision) return;
    const decide = this.#reviewDecision;
    this.#reviewDecision = null;
    this.#state = next;
    decide(confirmed);
  }

  /** Stops the camera, the frame loop and any upload in progress. No event is emitted. */
  stop() {
    if (this.#state !== 'uploaded' && this.#state !== 'error') this.#state = 'stopped';
    this.#abort.abort();
    if (this.#reviewDecision) {
      const decide = this.#reviewDecision;
      this.#reviewDecision = null;
      decide(false);
    }
    this.#cleanup();
  }

  // ---- internals ----

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #fail(error) {
    this.#state = 'error';
    this.#cleanup();
    this.#emit('error', { code: error.code, message: error.message, status: error.status });
  }

  /** A camera failure: the capture stays usable for {@link Capture#submitFile}. */
  #enterFallback(error) {
    this.#state = 'fallback';
    this.#releaseLive();
    this.#emit('error', { code: error.code, message: error.message, status: error.status, fileFallback: true });
  }

  /** Loads the wasm core and the session's capture key (once per session and page). */
  async #prepare() {
    // Loads the wasm core too, while the session is fetched.
    const session = await this.#session();
    this.#checkStopped();
    this.#sessionId = session.sessionId;
    this.#key = session.key;
    if (Array.isArray(session.steps) && !session.steps.includes(this.#opts.step)) {
      throw new TrustCapError('step_not_allowed', `the session does not include the step ${this.#opts.step}`);
    }
  }

  /** Stops the live path (frame loop, camera, worker, burst, visibility watch); keeps the session. */
  #releaseLive() {
    this.#cancelFrame();
    this.#stopCamera();
    if (this.#stopWatching) {
      this.#stopWatching();
      this.#stopWatching = null;
    }
    if (this.#analyzer) {
      this.#analyzer.free();
      this.#analyzer = null;
    }
    this.#paused = false;
  }

  /** A document step's analyzer: a worker when possible (and not disabled), else on this thread. */
  async #startDocumentAnalysis() {
    if (this.#opts.worker !== false && workerSupported()) {
      try {
        this.#analyzer = await WorkerAnalyzer.create(this.#analyzerKind(), { module: coreModule });
        this.#analysisMode = 'worker';
        return;
      } catch {
        // No module workers, or the worker could not load the wasm core: analyse here instead.
      }
    }
    this.#analyzer = new FrameAnalyzer(this.#analyzerKind());
    this.#analysisMode = 'main';
  }

  /**
   * A selfie step's analysis: a worker running the face module when possible (and not disabled),
   * else a {@link SelfieSession} on this thread.
   */
  async #startSelfieAnalysis() {
    if (this.#opts.worker !== false && workerSupported()) {
      try {
        const [faceModule, model] = await Promise.all([compiledFaceModule(), faceModelBytes('front128')]);
        this.#checkStopped();
        this.#analyzer = await WorkerAnalyzer.createSelfie({ module: coreModule, faceModule, model });
        this.#oval = this.#analyzer.info.oval;
        this.#analysisMode = 'worker';
        return;
      } catch (err) {
        if (this.#state === 'stopped') throw err;
        // No module workers, or the worker could not start: analyse here instead (a face module
        // that cannot load at all fails again below, with its own code).
      }
    }
    if (!this.#face) this.#face = await loadFace();
    this.#checkStopped();
    const { module, detector } = this.#face;
    this.#analyzer = new SelfieSession({ analyzer: new SelfieAnalyzer(), detector, faceModule: module });
    this.#oval = this.#analyzer.oval;
    this.#analysisMode = 'main';
  }

  /** Document still from a file: the live path's analyzer on one frame. */
  #checkDocumentStill(still) {
    const analyzer = new FrameAnalyzer(this.#analyzerKind());
    try {
      const r = analyzer.analyze(still.image.data, still.width, still.height, still.width * 4);
      // A failing frame's guidance is its most important failing check, as on the live path.
      const acceptable = r.acceptable && Boolean(r.document);
      const code = acceptable ? 'ready' : r.acceptable ? 'no_document' : r.guidance;
      return { acceptable, metrics: r.metrics, document: r.document, guidance: this.#stillGuidance(r, code) };
    } finally {
      analyzer.free();
    }
  }

  /** Selfie still from a file: face detection and the selfie quality gates on one frame. */
  async #checkSelfieStill(still) {
    if (!this.#face) this.#face = await loadFace();
    const faces = this.#face.detector.detect(still.image);
    const analyzer = new SelfieAnalyzer();
    try {
      const r = analyzer.analyze(still.image.data, still.width, still.height, still.width * 4, faces);
      const acceptable = r.acceptable && r.faces === 1;
      const code = acceptable ? 'ready' : !r.acceptable ? r.guidance : r.faces > 1 ? 'multiple_faces' : 'no_face';
      return { acceptable, metrics: r.metrics, document: null, guidance: this.#stillGuidance(r, code) };
    } finally {
      analyzer.free();
    }
  }

  #stillGuidance(r, code) {
    return {
      code,
      message: code === r.guidance ? r.message : STILL_MESSAGES[code],
      reasons: r.reasons,
      document: r.document || null,
      metrics: r.metrics,
      steadyCount: 0,
      acceptable: r.acceptable,
      framesAnalyzed: 1,
    };
  }

  #onHidden() {
    if (this.#state !== 'capturing' || this.#paused) return;
    this.#paused = true;
    this.#cancelFrame();
    this.#dropBurst();
    this.#stopCamera();
    this.#emit('paused', { reason: 'hidden' });
  }

  async #onVisible() {
    if (this.#state !== 'capturing' || !this.#paused) return;
    await this.#reopen('visible');
  }

  /** The camera track ended or its device went away: reopen it once, else offer the fallback. */
  async #onCameraLost() {
    if (this.#state !== 'capturing' || this.#paused) return;
    this.#paused = true;
    this.#cancelFrame();
    this.#dropBurst();
    this.#emit('paused', { reason: 'camera_lost' });
    await this.#reopen('camera_lost');
  }

  async #reopen(reason) {
    const seq = ++this.#reopenSeq;
    try {
      await this.#openCamera();
    } catch (err) {
      if (this.#state !== 'capturing' || seq !== this.#reopenSeq) return;
      const lost = new TrustCapError('camera_lost', `the camera could not be reopened (${err && err.code})`, undefined, {
        fileFallback: true,
      });
      this.#enterFallback(reason === 'camera_lost' ? lost : err instanceof TrustCapError ? err : lost);
      return;
    }
    if (seq !== this.#reopenSeq) return; // a later reopen took over
    if (
      this.#state !== 'capturing' ||
      !this.#stream ||
      (typeof document !== 'undefined' && document.visibilityState === 'hidden')
    ) {
      // Stopped, or hidden again while the camera opened: stay paused.
      if (this.#state === 'capturing') this.#stopCamera();
      return;
    }
    this.#paused = false;
    // The scene changed: start the analysis over at the next frame.
    this.#frameCanvas = null;
    this.#frameSize = null;
    this.#emit('resumed', { reason });
    this.#scheduleFrame();
  }

  #checkStopped() {
    if (this.#state === 'stopped') throw new TrustCapError('stopped', 'the capture was stopped');
  }

  /**
   * After `captured`: in review mode, waits for confirm() (true: go on to upload) or retake()
   * (false: the camera reopens and capturing resumes). Without review mode, true at once.
   */
  async #review() {
    if (!this.#opts.review) return true;
    this.#state = 'review';
    const confirmed = await new Promise((resolve) => {
      this.#reviewDecision = resolve;
    });
    this.#checkStopped();
    if (confirmed) return true;
    this.#resume();
    return false;
  }

  /** Retake: reopens the camera and starts over with a fresh analyser state. */
  async #resume() {
    this.#best = null;
    this.#frameCanvas = null;
    this.#burstRequested = false;
    try {
      await this.#openCamera();
      this.#checkStopped();
      this.#analyzer.reset();
      this.#state = 'capturing';
      this.#scheduleFrame();
    } catch (err) {
      if (this.#state === 'stopped') return;
      this.#fail(err instanceof TrustCapError ? err : fromWasmError(err, 'internal'));
    }
  }

  /** The `quality` event of an analysed frame. */
  #emitQuality(result) {
    this.#emit('quality', {
      metrics: result.metrics,
      acceptable: result.acceptable,
      steadyCount: result.steadyCount,
      framesAnalyzed: result.framesAnalyzed,
    });
  }

  /** `uploaded` (kept for compatibility), then `done`, with the same detail. */
  #emitDone(detail) {
    this.#emit('uploaded', detail);
    this.#emit('done', { ...detail, step: this.#opts.step });
  }

  async #api(method, path, json, body, contentType) {
    const headers = { Authorization: `Bearer ${this.#opts.token}` };
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (contentType) {
      headers['Content-Type'] = contentType;
    }
    let response;
    try {
      response = await fetch(`${this.#opts.verifierUrl}${path}`, {
        method,
        headers,
        body,
        signal: this.#abort.signal,
        credentials: 'omit',
      });
    } catch (err) {
      this.#checkStopped();
      throw new TrustCapError('network_error', `request to the verifier failed: ${err}`);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const e = data && data.error;
      throw new TrustCapError(
        (e && e.code) || `http_${response.status}`,
        (e && e.message) || `the verifier answered ${response.status}`,
        response.status,
      );
    }
    return data;
  }

  /**
   * A request of the upload path (the nonce and the capture itself) through {@link requestWithRetry}:
   * network errors, 408, 429 and 5xx are retried with backoff, the identical `body` each time. After
   * the last attempt: `network_error`, or `upload_failed` with the `status`; another 4xx keeps the
   * verifier's own code. `uploading` events report the progress of `body` and the attempt.
   */
  async #apiRetry(method, path, body, contentType) {
    const headers = { Authorization: `Bearer ${this.#opts.token}` };
    if (contentType) headers['Content-Type'] = contentType;
    const progress = body
      ? (loaded, total, attempt) => this.#emit('uploading', { loaded, total, attempt })
      : undefined;
    let result;
    try {
      result = await requestWithRetry({
        method,
        url: `${this.#opts.verifierUrl}${path}`,
        headers,
        body,
        signal: this.#abort.signal,
        onAttempt: body ? (attempt) => this.#emit('uploading', { loaded: 0, total: body.byteLength, attempt }) : undefined,
        onProgress: progress,
      });
    } catch (err) {
      this.#checkStopped();
      throw new TrustCapError('network_error', `request to the verifier failed: ${err}`);
    }
    this.#checkStopped();
    if (result.ok) return result.data;
    const attempts = RETRY_DEFAULTS.attempts;
    if (result.network) {
      throw new TrustCapError('network_error', `the verifier could not be reached (${attempts} attempts)`);
    }
    const e = result.data && result.data.error;
    if (isRetryableStatus(result.status)) {
      throw new TrustCapError(
        'upload_failed',
        `the verifier answered ${result.status}${e && e.code ? ` (${e.code})` : ''} (${attempts} attempts)`,
        result.status,
      );
    }
    throw new TrustCapError(
      (e && e.code) || `http_${result.status}`,
      (e && e.message) || `the verifier answered ${result.status}`,
      result.status,
    );
  }

  /**
   * The session's id, steps and capture key. A session accepts one key, so every Capture of
   * the page that uses the same token shares it.
   */
  #session() {
    const cacheKey = `${this.#opts.verifierUrl} ${this.#opts.token}`;
    let pending = sessionKeys.get(cacheKey);
    if (!pending) {
      pending = (async () => {
        // The wasm core (needed from the key on) loads while the session is fetched.
        const [session] = await Promise.all([this.#api('GET', '/v1/client/session'), loadWasm()]);
        const key = CaptureKey.generate();
        const registered = await this.#api('POST', '/v1/client/key', { public_key: key.publicKey() });
        if (registered && registered.key_id && registered.key_id !== key.keyId()) {
          throw new TrustCapError('key_mismatch', 'the verifier registered a different key id');
        }
        return { sessionId: session.session_id, steps: session.steps, key };
      })();
      sessionKeys.set(cacheKey, pending);
      pending.catch(() => sessionKeys.delete(cacheKey));
    }
    return pending;
  }

  /** Opens (or reopens) the camera: rear for documents, front for selfies (see camera.js). */
  async #openCamera() {
    if (!this.#camera) {
      this.#camera = new Camera({ step: this.#opts.step, constraints: this.#opts.constraints, video: this.#opts.video });
      this.#camera.addEventListener('lost', () => this.#onCameraLost());
    }
    await this.#camera.open();
    this.#stream = this.#camera.stream;
    this.#video = this.#camera.video;
  }

  #scheduleFrame() {
    const video = this.#video;
    if (!video || this.#state !== 'capturing' || this.#loopHandle !== null) return;
    if (typeof video.requestVideoFrameCallback === 'function') {
      this.#loopKind = 'video';
      this.#loopHandle = video.requestVideoFrameCallback(() => this.#onFrame());
    } else {
      this.#loopKind = 'raf';
      this.#loopHandle = requestAnimationFrame(() => this.#onFrame());
    }
  }

  #cancelFrame() {
    if (this.#loopHandle === null) return;
    if (this.#loopKind === 'video' && this.#video) this.#video.cancelVideoFrameCallback(this.#loopHandle);
    if (this.#loopKind === 'raf') cancelAnimationFrame(this.#loopHandle);
    this.#loopHandle = null;
  }

  #onFrame() {
    this.#loopHandle = null;
    if (this.#state !== 'capturing') return;
    if (this.#analyzer instanceof WorkerAnalyzer) {
      // At most one frame in flight: the frames that arrive meanwhile are dropped.
      if (!this.#analyzer.busy) this.#sendFrameToWorker();
      this.#scheduleFrame();
      return;
    }
    try {
      if (this.#analyzeFrame()) {
        this.#finish();
        return;
      }
    } catch (err) {
      this.#fail(fromWasmError(err, 'frame_error'));
      return;
    }
    this.#scheduleFrame();
  }

  /** Worker mode: transfers the current video frame to the worker and handles its answer. */
  #sendFrameToWorker() {
    const video = this.#video;
    const analyzer = this.#analyzer;
    const vw = video.videoWidth;
    const vh = video.videoHeight;
    if (!vw || !vh) return;
    const width = Math.min(vw, MAX_FRAME_WIDTH);
    const height = Math.max(1, Math.round((vh * width) / vw));
    if (!this.#frameSize || this.#frameSize.width !== width || this.#frameSize.height !== height) {
      // First frame, or the camera changed resolution (rotation) or reopened: start over.
      this.#frameSize = { width, height };
      this.#best = null;
      analyzer.reset();
    }
    const selfie = this.#opts.step === 'selfie';
    // A selfie frame carries its time on this thread's clock (the burst's spacing and timing signals).
    const extra = selfie ? { now: performance.now(), ...this.#shutter() } : {};
    analyzer.analyze(video, width, height, Date.now(), extra).then(
      (result) => {
        if (this.#state !== 'capturing' || this.#analyzer !== analyzer || this.#paused) return;
        let done;
        try {
          done = selfie ? this.#onSelfieStep(result, width, height) : this.#onWorkerDocumentFrame(result, width, height);
        } catch (err) {
          this.#fail(fromWasmError(err, 'frame_error'));
          return;
        }
        if (!done) return;
        if (selfie) this.#finish();
        else this.#capture();
      },
      (err) => {
        if (this.#state !== 'capturing' || this.#analyzer !== analyzer || this.#paused) return;
        this.#fail(fromWasmError(err, 'frame_error'));
      },
    );
  }

  /** A document frame's answer from the worker: events and overlay; true when it is time to capture. */
  #onWorkerDocumentFrame(result, width, height) {
    // The worker keeps the pixels; this side only needs to know there is a best frame.
    if (result.kept) this.#best = { width, height, metrics: result.metrics, acceptable: result.isNewBest };
    return this.#reportFrame(result, width, height);
  }

  /** Takes the best frame: in worker mode its pixels come back from the worker first. */
  async #capture() {
    const analyzer = this.#analyzer;
    if (!(analyzer instanceof WorkerAnalyzer)) return this.#finish();
    if (this.#state !== 'capturing') return;
    this.#cancelFrame();
    this.#state = 'uploading';
    let best;
    try {
      best = await analyzer.best();
    } catch (err) {
      if (this.#state === 'stopped') return;
      this.#fail(fromWasmError(err, 'frame_error'));
      return;
    }
    if (this.#state !== 'uploading') return;
    if (!best) {
      this.#fail(new TrustCapError('frame_error', 'the analysis worker kept no frame'));
      return;
    }
    // The frame's own analysis (outline, metrics) travels with its pixels.
    this.#best = {
      width: best.width,
      height: best.height,
      metrics: best.metrics,
      acceptable: best.acceptable,
      document: best.document,
      at: best.at,
    };
    this.#bestCanvas = createCanvas(best.width, best.height);
    this.#bestCtx = this.#bestCanvas.getContext('2d');
    this.#bestCtx.putImageData(new ImageData(best.pixels, best.width, best.height), 0, 0);
    this.#state = 'capturing';
    return this.#finish();
  }

  /** Analyses the current video frame; true when it is time to capture. */
  #analyzeFrame() {
    const video = this.#video;
    const vw = video.videoWidth;
    const vh = video.videoHeight;
    if (!vw || !vh) return false;
    const width = Math.min(vw, MAX_FRAME_WIDTH);
    const height = Math.max(1, Math.round((vh * width) / vw));
    if (!this.#frameCanvas || this.#frameCanvas.width !== width || this.#frameCanvas.height !== height) {
      // First frame, or the camera changed resolution (rotation): start over.
      this.#frameCanvas = createCanvas(width, height);
      this.#frameCtx = this.#frameCanvas.getContext('2d', { willReadFrequently: true });
      this.#bestCanvas = createCanvas(width, height);
      this.#bestCtx = this.#bestCanvas.getContext('2d');
      this.#best = null;
      this.#analyzer.reset();
    }
    const ctx = this.#frameCtx;
    ctx.drawImage(video, 0, 0, width, height);
    // A fresh copy of the pixels every call: a burst keeps them.
    const image = ctx.getImageData(0, 0, width, height);
    if (this.#opts.step === 'selfie') return this.#analyzeSelfieFrame(image, width, height, performance.now());
    const result = this.#analyzer.analyze(image.data, width, height, width * 4);
    // Keep the pixels of the best frame: the analyzer's pick among good frames, or, until
    // there is one (for captureNow / autoCaptureFrames), the sharpest frame so far.
    const best = this.#best;
    const sharper = !best || (!best.acceptable && result.metrics.sharpness > best.metrics.sharpness);
    if (result.isNewBest || sharper) {
      this.#bestCtx.putImageData(image, 0, 0);
      this.#best = {
        width,
        height,
        metrics: result.metrics,
        acceptable: result.isNewBest,
        document: result.document,
        at: Date.now(),
      };
    }
    return this.#reportFrame(result, width, height);
  }

  /**
   * A document frame's analysis, from the worker or the page's thread: the `guidance` and `quality`
   * events and the overlay. True when the capture should be taken now (auto-capture, or
   * `autoCaptureFrames` reached).
   */
  #reportFrame(result, width, height) {
    this.#emit('guidance', {
      code: result.guidance,
      message: result.message,
      reasons: result.reasons,
      document: result.document,
      metrics: result.metrics,
      steadyCount: result.steadyCount,
      acceptable: result.acceptable,
      framesAnalyzed: result.framesAnalyzed,
    });
    this.#emitQuality(result);
    this.#drawOverlay(width, height, result.guidance, result.document);
    const limit = this.#opts.autoCaptureFrames;
    return result.capture || (limit > 0 && result.framesAnalyzed >= limit);
  }

  /**
   * Selfie step on this thread: face detection and guidance on every frame, then the liveness burst
   * (see selfie.js). True when the burst is complete.
   */
  #analyzeSelfieFrame(image, width, height, now) {
    const step = this.#analyzer.analyze(image, now, Date.now(), this.#shutter());
    return this.#onSelfieStep(step, width, height);
  }

  /** What the selfie analysis needs to know besides the frame: manual shutter, frame limit, camera. */
  #shutter() {
    return {
      requested: this.#burstRequested,
      limit: this.#opts.autoCaptureFrames || 0,
      cameraLabel: this.#stream?.getVideoTracks()[0]?.label || '',
    };
  }

  /** A selfie frame's analysis, from the worker or this thread: events and overlay. True when the burst is complete. */
  #onSelfieStep(step, width, height) {
    if (step.burstStarted) this.#burstRequested = false;
    this.#emitSelfieGuidance(step.result, step.code, step.message, step.progress);
    this.#drawOverlay(width, height, step.progress ? 'burst' : step.code, null, step.progress || undefined);
    return step.complete;
  }

  #emitSelfieGuidance(result, code, message, burst) {
    this.#emit('guidance', {
      code,
      message: code === result.guidance ? result.message : message,
      reasons: result.reasons,
      document: null,
      face: result.face,
      faces: result.faces,
      burst,
      metrics: result.metrics,
      steadyCount: result.steadyCount,
      acceptable: result.acceptable,
      framesAnalyzed: result.framesAnalyzed,
    });
    this.#emitQuality(result);
  }

  /** Selfie step: drops the liveness burst in progress (the camera paused or was lost). */
  #dropBurst() {
    if (this.#analyzer instanceof SelfieSession) this.#analyzer.endBurst();
    else if (this.#analyzer instanceof WorkerAnalyzer && this.#opts.step === 'selfie') this.#analyzer.reset();
  }

  /**
   * Selfie step: ends the burst and takes its liveness report and frames (`image` as ImageData),
   * from the worker or this thread.
   */
  async #takeBurst() {
    const analyzer = this.#analyzer;
    if (analyzer instanceof WorkerAnalyzer) {
      const burst = await analyzer.takeBurst();
      if (!burst) return null;
      const frames = burst.frames.map((f) => ({ ...f, image: new ImageData(f.pixels, f.width, f.height) }));
      return { report: burst.report, frames };
    }
    return analyzer ? analyzer.takeBurst() : null;
  }

  /** The wasm analyzer kind of a document step: boundary + quality, with a fixed format if known. */
  #analyzerKind() {
    return this.#opts.documentFormat ? `document:${this.#opts.documentFormat}` : 'document';
  }

  #drawOverlay(width, height, code, document, progress) {
    const canvas = this.#opts.canvas;
    if (!canvas) return;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, width, height);
    // A guide for the document (ID-1 card aspect) or the face.
    const ready = code === 'ready' || code === 'burst';
    ctx.lineWidth = Math.max(3, Math.round(width / 200));
    ctx.strokeStyle = ready ? '#22c55e' : 'rgba(255,255,255,0.9)';
    if (this.#opts.step === 'selfie') {
      // The oval the selfie guidance measures against (normalised frame coordinates).
      const o = this.#oval;
      if (!o) return;
      ctx.beginPath();
      ctx.ellipse(o.cx * width, o.cy * height, o.rx * width, o.ry * height, 0, 0, 2 * Math.PI);
      ctx.stroke();
      if (progress) {
        // The burst's progress as an arc around the oval.
        ctx.lineWidth *= 2;
        ctx.beginPath();
        const end = -Math.PI / 2 + (2 * Math.PI * progress.frames) / progress.total;
        ctx.ellipse(o.cx * width, o.cy * height, o.rx * width + ctx.lineWidth, o.ry * height + ctx.lineWidth, 0, -Math.PI / 2, end);
        ctx.stroke();
      }
    } else if (document) {
      // The detected document outline.
      const c = document.corners;
      ctx.beginPath();
      ctx.moveTo(c[0], c[1]);
      for (let i = 2; i < 8; i += 2) ctx.lineTo(c[i], c[i + 1]);
      ctx.closePath();
      ctx.stroke();
    } else {
      let w = width * 0.8;
      let h = w / 1.586;
      if (h > height * 0.8) {
        h = height * 0.8;
        w = h * 1.586;
      }
      ctx.strokeRect((width - w) / 2, (height - h) / 2, w, h);
    }
  }

  async #finish() {
    if (this.#opts.step === 'selfie' && !this.#stillUpload) return this.#finishSelfie();
    this.#cancelFrame();
    const best = this.#best;
    const framesAnalyzed = this.#analyzer ? this.#analyzer.framesAnalyzed : 0;
    const cameraLabel = this.#stream?.getVideoTracks()[0]?.label || '';
    this.#state = 'uploading';
    this.#stopCamera();
    try {
      // A document step uploads the document itself, rectified to its format's fixed size, then the
      // whole camera frame it was cut from (`document_original`, for the reviewer); without a detected
      // outline (manual capture before one was found) it uploads the whole frame only.
      const { canvas, width, height, rectified } = this.#imageToUpload(best);
      const blob = await encodeJpeg(canvas);
      const bytes = new Uint8Array(await blob.arrayBuffer());
      const original = rectified ? new Uint8Array(await (await encodeJpeg(this.#bestCanvas)).arrayBuffer()) : null;
      this.#checkStopped();
      this.#emit('captured', { width, height, bytes: bytes.byteLength, image: blob, rectified });
      if (!(await this.#review())) return;
      const { nonce } = await this.#apiRetry('POST', '/v1/client/nonce');
      const names = original ? [this.#opts.step, DOCUMENT_ORIGINAL_PART] : [this.#opts.step];
      let envelope;
      try {
        envelope = this.#key.sealParts(
          {
            sessionId: this.#sessionId,
            nonce,
            step: this.#opts.step,
            capturedAtMs: best.at,
            sdkVersion: VERSION,
            userAgent: navigator.userAgent || '',
            cameraLabel,
            framesAnalyzed,
            quality: finiteMetrics(best.metrics),
          },
          'image/jpeg',
          names,
          Uint32Array.from(original ? [width, best.width] : [width]),
          Uint32Array.from(original ? [height, best.height] : [height]),
          original ? [bytes, original] : [bytes],
        );
      } catch (err) {
        throw fromWasmError(err, 'seal_failed');
      }
      // Retries send this same envelope: the verifier stores it once.
      const result = await this.#apiRetry('POST', '/v1/client/captures', envelope, CAPTURE_CONTENT_TYPE);
      this.#checkStopped();
      this.#state = 'uploaded';
      this.#cleanup();
      this.#emitDone({ captureId: result.capture_id, status: result.status, duplicate: result.duplicate === true });
    } catch (err) {
      if (this.#state === 'stopped') return;
      this.#fail(err instanceof TrustCapError ? err : new TrustCapError('upload_failed', String(err)));
    }
  }

  /**
   * Selfie step: the burst's sharpest frame as `selfie`, every burst frame as `selfie_frame_<k>`, and
   * the client's liveness verdict in the signed quality map (`liveness.*`, see
   * `trustcap_protocol::burst`), sealed in one upload. The verifier recomputes liveness from the frames.
   */
  async #finishSelfie() {
    this.#cancelFrame();
    const framesAnalyzed = this.#analyzer ? this.#analyzer.framesAnalyzed : 0;
    const cameraLabel = this.#stream?.getVideoTracks()[0]?.label || '';
    this.#state = 'uploading';
    this.#stopCamera();
    try {
      const burst = await this.#takeBurst();
      this.#checkStopped();
      if (!burst || !burst.frames.length) throw new TrustCapError('frame_error', 'the selfie burst has no frames');
      const { report, frames } = burst;
      const best = frames.reduce((a, b) => ((b.metrics.sharpness || 0) > (a.metrics.sharpness || 0) ? b : a));
      const { width, height } = best;
      const canvas = createCanvas(width, height);
      const ctx = canvas.getContext('2d');
      const blobs = [];
      for (const frame of frames) {
        ctx.putImageData(frame.image, 0, 0);
        blobs.push(await encodeJpeg(canvas));
      }
      const bytes = await Promise.all(blobs.map(async (b) => new Uint8Array(await b.arrayBuffer())));
      this.#checkStopped();
      const bestIndex = frames.indexOf(best);
      const liveness = { score: report.score, passed: report.passed, decisive: report.decisive, frames: report.frames };
      this.#emit('captured', {
        width,
        height,
        bytes: bytes.reduce((n, b) => n + b.byteLength, 0),
        image: blobs[bestIndex],
        rectified: false,
        liveness,
      });
      if (!(await this.#review())) return;
      const { nonce } = await this.#apiRetry('POST', '/v1/client/nonce');
      const origin = frames[0].t;
      const quality = finiteMetrics(best.metrics);
      quality['liveness.v'] = BURST_FORMAT_VERSION;
      quality['liveness.frames'] = frames.length;
      quality['liveness.score'] = Math.min(1, Math.max(0, report.score));
      frames.forEach((f, k) => {
        quality[`liveness.t.${k}`] = Math.round((f.t - origin) * 1000) / 1000;
      });
      for (const signal of report.signals || []) {
        if (signal.judged && /^[a-z0-9_]+$/.test(signal.name) && Number.isFinite(signal.attack)) {
          quality[`liveness.attack.${signal.name}`] = Math.min(1, Math.max(0, signal.attack));
        }
      }
      const names = ['selfie', ...frames.map((_, k) => `selfie_frame_${k}`)];
      let envelope;
      try {
        envelope = this.#key.sealParts(
          {
            sessionId: this.#sessionId,
            nonce,
            step: 'selfie',
            capturedAtMs: best.at,
            sdkVersion: VERSION,
            userAgent: navigator.userAgent || '',
            cameraLabel,
            framesAnalyzed,
            quality,
          },
          'image/jpeg',
          names,
          Uint32Array.from(names, () => width),
          Uint32Array.from(names, () => height),
          [bytes[bestIndex], ...bytes],
        );
      } catch (err) {
        throw fromWasmError(err, 'seal_failed');
      }
      const result = await this.#apiRetry('POST', '/v1/client/captures', envelope, CAPTURE_CONTENT_TYPE);
      this.#checkStopped();
      this.#state = 'uploaded';
      this.#cleanup();
      this.#emitDone({ captureId: result.capture_id, status: result.status, duplicate: result.duplicate === true, liveness });
    } catch (err) {
      if (this.#state === 'stopped') return;
      this.#fail(err instanceof TrustCapError ? err : new TrustCapError('upload_failed', String(err)));
    }
  }

  /** The canvas to encode for upload: the rectified document, or the whole best frame. */
  #imageToUpload(best) {
    const doc = best.document;
    if (this.#opts.step === 'selfie' || !doc) {
      return { canvas: this.#bestCanvas, width: best.width, height: best.height, rectified: false };
    }
    const frame = this.#bestCtx.getImageData(0, 0, best.width, best.height);
    let rect;
    try {
      rect = rectifyDocument(
        frame.data,
        best.width,
        best.height,
        best.width * 4,
        Float64Array.from(doc.corners),
        doc.format,
        doc.portrait,
      );
    } catch (err) {
      throw fromWasmError(err, 'rectify_failed');
    }
    try {
      const { width, height } = rect;
      const pixels = new Uint8ClampedArray(rect.takeRgba().buffer);
      const canvas = createCanvas(width, height);
      canvas.getContext('2d').putImageData(new ImageData(pixels, width, height), 0, 0);
      return { canvas, width, height, rectified: true };
    } finally {
      rect.free();
    }
  }

  #stopCamera() {
    const overlay = this.#opts.canvas;
    if (overlay) overlay.getContext('2d').clearRect(0, 0, overlay.width, overlay.height);
    if (this.#camera) this.#camera.close();
    this.#stream = null;
  }

  #cleanup() {
    this.#releaseLive();
    if (this.#face) {
      this.#face.detector.free();
      this.#face = null;
    }
    if (this.#camera) this.#camera.dispose();
    this.#video = this.#opts.video;
  }
}

/**
 * Starts downloading and compiling the WebAssembly core now, before a capture exists (e.g. while
 * the page fetches its session token), so that `start()` does not wait for it. Optional: `start()`
 * loads it too. Never rejects: a failure is reported again by `start()`.
 *
 * @returns {Promise<boolean>} true once the core is ready, false if it could not be loaded
 */
export function preload() {
  return loadWasm().then(
    () => true,
    () => false,
  );
}

/**
 * Prepares a capture of one step. Nothing happens until `capture.start()`.
 *
 * @param {object} options
 * @param {string} options.verifierUrl base URL of the TrustCap verifier, e.g. `https://verify.example.com`
 * @param {string} options.token the session's client token (from your backend)
 * @param {string} [options.step] `document_front` (default), `document_back` or `selfie`
 * @param {HTMLVideoElement} [options.video] element that shows the camera preview
 * @param {HTMLCanvasElement} [options.canvas] optional overlay canvas drawn over the video
 * @param {MediaTrackConstraints} [options.constraints] extra camera constraints (rear camera, ideal
 *   1920×1080 for documents; front camera, ideal 1280×720 for selfies; loosened when over-constrained)
 * @param {boolean} [options.worker] `false` analyses frames on the page's thread instead of
 *   a Web Worker (default: a worker when the browser supports one)
 * @param {number} [options.autoCaptureFrames] capture the best frame after this many frames
 *   even if auto-capture has not triggered (default: wait for auto-capture)
 * @param {string} [options.documentFormat] `id1` (ID card, driving licence) or `id3` (passport page)
 *   when the flow knows it; default: guessed from the document's aspect ratio
 * @param {boolean} [options.review] after the image is taken, wait in state `review` for
 *   `confirm()` (upload) or `retake()` instead of uploading at once (default false)
 * @returns {Promise<Capture>}
 */
export async function createCapture({
  verifierUrl,
  token,
  step = 'document_front',
  video,
  canvas,
  constraints,
  autoCaptureFrames,
  documentFormat,
  review = false,
  worker,
} = {}) {
  if (typeof verifierUrl !== 'string' || !verifierUrl) {
    throw new TrustCapError('invalid_options', 'verifierUrl is required');
  }
  if (typeof token !== 'string' || !token) throw new TrustCapError('invalid_options', 'token is required');
  if (!STEPS.includes(step)) throw new TrustCapError('invalid_options', `step must be one of ${STEPS.join(', ')}`);
  if (documentFormat !== undefined && documentFormat !== 'id1' && documentFormat !== 'id3') {
    throw new TrustCapError('invalid_options', 'documentFormat must be id1 or id3');
  }
  if (autoCaptureFrames !== undefined && !(Number.isInteger(autoCaptureFrames) && autoCaptureFrames > 0)) {
    throw new TrustCapError('invalid_options', 'autoCaptureFrames must be a positive integer');
  }
  if (typeof review !== 'boolean') throw new TrustCapError('invalid_options', 'review must be a boolean');
  if (worker !== undefined && typeof worker !== 'boolean') {
    throw new TrustCapError('invalid_options', 'worker must be a boolean');
  }
  return new Capture({
    verifierUrl: verifierUrl.replace(/\/+$/, ''),
    token,
    step,
    video: video || null,
    canvas: canvas || null,
    constraints,
    autoCaptureFrames: autoCaptureFrames || 0,
    documentFormat,
    review,
    worker: worker !== false,
  });
}
export { RETRY_DEFAULTS } from './upload.js';
export { verifyWebhook, WebhookSignatureError } from './webhook.js';
export { loadFaceModule, prefetchFaceModule, faceSimdSupported, FACE_MODELS } from './face.js';
export { setAssetsUrl, getAssetsUrl } from './assets.js';
