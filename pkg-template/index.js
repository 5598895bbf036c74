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
import { loadFaceModule } from './face.js';
import { assetUrl } from './assets.js';

/** The package version (kept equal to the wasm crate version by the build). */
export const VERSION = '0.1.0';

/** The HTTP content type of a capture upload. */
export const CAPTURE_CONTENT_TYPE = 'application/vnd.trustcap.capture.v1';

/** The capture steps a session may contain. */
export const STEPS = Object.freeze(['document_front', 'document_back', 'selfie']);

const MAX_FRAME_WIDTH = 1280;
const JPEG_QUALITY = 0.92;

/** Frames of a selfie's liveness burst (the protocol's maximum, `trustcap_protocol::burst`). */
export const BURST_FRAMES = 8;
/** Interval between burst frames, milliseconds: 8 frames span about 1.05 s. */
export const BURST_INTERVAL_MS = 150;
// The burst format version of the signed `liveness.*` quality entries.
const BURST_FORMAT_VERSION = 1;
// Guidance codes that end a burst in progress: the face is gone or not alone any more.
const BURST_BREAKERS = new Set(['no_face', 'multiple_faces', 'center_face']);

/** An error with a stable machine-readable `code` (and the HTTP `status` for server refusals). */
export class TrustCapError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {number} [status]
   */
  constructor(code, message, status) {
    super(message);
    this.name = 'TrustCapError';
    this.code = code;
    this.status = status;
  }
}

// The wasm module is loaded once per page, whatever the number of captures.
let wasmReady = null;
// Registered capture keys by verifier URL and client token (see Capture#session).
const sessionKeys = new Map();

function loadWasm() {
  if (!wasmReady) {
    wasmReady = init({ module_or_path: assetUrl('coreWasm') }).then(
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

function cameraError(err) {
  const name = err && err.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return new TrustCapError('camera_denied', 'camera access was denied');
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return new TrustCapError('camera_not_found', 'no suitable camera was found');
  }
  if (name === 'NotReadableError' || name === 'AbortError') {
    return new TrustCapError('camera_unavailable', 'the camera is in use or cannot be started');
  }
  return new TrustCapError('camera_unavailable', `the camera could not be opened: ${err}`);
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

function finiteMetrics(metrics) {
  const out = {};
  for (const [name, value] of Object.entries(metrics || {})) {
    if (typeof value === 'number' && Number.isFinite(value)) out[name] = value;
  }
  return out;
}

/**
 * One capture of one step: camera, live guidance, auto-capture and the signed upload.
 * Create it with {@link createCapture}. Events (all `CustomEvent`s, data in `detail`):
 * `guidance`, `captured`, `uploading`, `uploaded`, `error`.
 */
export class Capture extends EventTarget {
  #opts;
  #state = 'idle';
  #key = null;
  #sessionId = null;
  #analyzer = null;
  #stream = null;
  #video = null;
  #ownsVideo = false;
  #frameCanvas = null;
  #frameCtx = null;
  #bestCanvas = null;
  #bestCtx = null;
  #best = null; // { width, height, metrics, acceptable, document, at }
  #loopHandle = null;
  #loopKind = null;
  #abort = new AbortController();
  // Selfie step: the face detector, the liveness burst in progress and a manual-shutter request.
  #face = null; // { module, detector }
  #burst = null; // { frames: [{ image, width, height, t, at, metrics }], liveness, startedAt }
  #burstRequested = false;

  /** @param {object} opts validated options from createCapture */
  constructor(opts) {
    super();
    this.#opts = opts;
  }

  /** `idle`, `starting`, `capturing`, `uploading`, `uploaded`, `error` or `stopped`. */
  get state() {
    return this.#state;
  }

  /** The capture step, e.g. `document_front`. */
  get step() {
    return this.#opts.step;
  }

  /**
   * Loads the wasm core, registers the session's capture key with the verifier (a fresh
   * key, once per session and page), opens the camera and starts analysing frames.
   * Resolves once frames are being analysed; rejects with a {@link TrustCapError} (also
   * emitted as an `error` event) if any of that fails.
   */
  async start() {
    if (this.#state !== 'idle') throw new TrustCapError('invalid_state', `start() called in state ${this.#state}`);
    this.#state = 'starting';
    // The selfie step needs the face module: start loading it now, alongside the session and camera.
    const face = this.#opts.step === 'selfie' ? loadFace() : null;
    try {
      // Loads the wasm core too, while the session is fetched.
      const session = await this.#session();
      this.#checkStopped();
      this.#sessionId = session.sessionId;
      this.#key = session.key;
      if (Array.isArray(session.steps) && !session.steps.includes(this.#opts.step)) {
        throw new TrustCapError('step_not_allowed', `the session does not include the step ${this.#opts.step}`);
      }
      await this.#openCamera();
      this.#checkStopped();
      if (face) {
        this.#face = await face;
        if (this.#state === 'stopped') {
          this.#cleanup();
          return;
        }
      }
      this.#analyzer = this.#opts.step === 'selfie' ? new SelfieAnalyzer() : new FrameAnalyzer(this.#analyzerKind());
      this.#state = 'capturing';
      this.#scheduleFrame();
    } catch (err) {
      if (face && !this.#face) face.then((f) => f.detector.free(), () => {});
      if (this.#state === 'stopped') return;
      const error = err instanceof TrustCapError ? err : fromWasmError(err, 'internal');
      this.#fail(error);
      throw error;
    }
  }

  /**
   * Takes the best frame seen so far now, without waiting for auto-capture (a manual
   * shutter). Does nothing unless the capture is running and a frame was analysed. In the
   * selfie step it starts the liveness burst at the next frame with a face instead.
   */
  captureNow() {
    if (this.#state !== 'capturing') return;
    if (this.#opts.step === 'selfie') this.#burstRequested = true;
    else if (this.#best) this.#finish();
  }

  /** Stops the camera, the frame loop and any upload in progress. No event is emitted. */
  stop() {
    if (this.#state !== 'uploaded' && this.#state !== 'error') this.#state = 'stopped';
    this.#abort.abort();
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

  #checkStopped() {
    if (this.#state === 'stopped') throw new TrustCapError('stopped', 'the capture was stopped');
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

  async #openCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new TrustCapError('camera_unavailable', 'this browser cannot access a camera (a secure context is required)');
    }
    const video = {
      facingMode: this.#opts.step === 'selfie' ? 'user' : 'environment',
      width: { ideal: 1280 },
      height: { ideal: 720 },
      ...(this.#opts.constraints || {}),
    };
    try {
      this.#stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
    } catch (err) {
      throw cameraError(err);
    }
    if (this.#state === 'stopped') {
      this.#cleanup();
      return;
    }
    let el = this.#opts.video;
    if (!el) {
      el = document.createElement('video');
      this.#ownsVideo = true;
    }
    el.muted = true;
    el.playsInline = true;
    el.setAttribute('playsinline', '');
    el.srcObject = this.#stream;
    this.#video = el;
    if (el.readyState < 1) {
      await new Promise((resolve, reject) => {
        el.addEventListener('loadedmetadata', resolve, { once: true });
        el.addEventListener('error', () => reject(new TrustCapError('camera_unavailable', 'the camera stream failed')), {
          once: true,
        });
      });
    }
    try {
      await el.play();
    } catch (err) {
      throw new TrustCapError('camera_unavailable', `the camera preview could not start: ${err}`);
    }
  }

  #scheduleFrame() {
    const video = this.#video;
    if (!video || this.#state !== 'capturing') return;
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
      this.#endBurst();
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
    this.#drawOverlay(width, height, result.guidance, result.document);
    const limit = this.#opts.autoCaptureFrames;
    return result.capture || (limit > 0 && result.framesAnalyzed >= limit);
  }

  /**
   * Selfie step: face detection and guidance on every frame; once the face has been good and steady
   * for a few frames, a burst of {@link BURST_FRAMES} frames {@link BURST_INTERVAL_MS} apart for
   * passive liveness (the client's analyser also sees the frames between them). True when the burst
   * is complete.
   */
  #analyzeSelfieFrame(image, width, height, now) {
    const faces = this.#face.detector.detect(image);
    const result = this.#analyzer.analyze(image.data, width, height, width * 4, faces);
    const limit = this.#opts.autoCaptureFrames;
    const manual = this.#burstRequested || (limit > 0 && result.framesAnalyzed >= limit);
    if (!this.#burst && (result.capture || manual) && result.face && result.faces === 1) {
      this.#burstRequested = false;
      this.#startBurst(now);
    }
    const burst = this.#burst;
    if (!burst) {
      this.#emitSelfieGuidance(result, result.guidance, result.message, null);
      this.#drawOverlay(width, height, result.guidance, null);
      return false;
    }
    if (BURST_BREAKERS.has(result.reasons[0]) || !result.face) {
      // The face left the oval (or another one came in): back to framing.
      this.#endBurst();
      this.#analyzer.reset();
      this.#emitSelfieGuidance(result, result.reasons[0] || 'no_face', result.message, null);
      this.#drawOverlay(width, height, result.reasons[0] || 'no_face', null);
      return false;
    }
    // The client's analyser sees every frame of the burst's span (motion between consecutive camera
    // frames is small enough to track); the upload keeps BURST_FRAMES of them, evenly spaced, from
    // which the verifier recomputes its own verdict.
    burst.liveness.push(image, result.face.box, now);
    const due = burst.startedAt + burst.frames.length * BURST_INTERVAL_MS;
    if (now + 1 >= due) {
      burst.frames.push({ image, width, height, t: now, at: Date.now(), metrics: result.metrics });
    }
    const progress = { frames: burst.frames.length, total: BURST_FRAMES };
    this.#emitSelfieGuidance(result, 'hold_still', 'Hold still', progress);
    this.#drawOverlay(width, height, 'burst', null, progress);
    return burst.frames.length >= BURST_FRAMES;
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
  }

  #startBurst(now) {
    const cameraLabel = this.#stream?.getVideoTracks()[0]?.label || '';
    const liveness = this.#face.module.createLivenessAnalyzer({ cameraLabel });
    this.#burst = { frames: [], startedAt: now, liveness };
  }

  #endBurst() {
    if (this.#burst) {
      this.#burst.liveness.free();
      this.#burst = null;
    }
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
      const o = this.#analyzer.oval;
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
    if (this.#opts.step === 'selfie') return this.#finishSelfie();
    this.#cancelFrame();
    const best = this.#best;
    const framesAnalyzed = this.#analyzer ? this.#analyzer.framesAnalyzed : 0;
    const cameraLabel = this.#stream?.getVideoTracks()[0]?.label || '';
    this.#state = 'uploading';
    this.#stopCamera();
    try {
      // A document step uploads the document itself, rectified to its format's fixed size; without
      // a detected outline (manual capture before one was found) it uploads the whole frame.
      const { canvas, width, height, rectified } = this.#imageToUpload(best);
      const blob = await encodeJpeg(canvas);
      const bytes = new Uint8Array(await blob.arrayBuffer());
      this.#checkStopped();
      this.#emit('captured', { width, height, bytes: bytes.byteLength, image: blob, rectified });
      this.#emit('uploading', {});
      const { nonce } = await this.#api('POST', '/v1/client/nonce');
      let envelope;
      try {
        envelope = this.#key.seal(
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
          bytes,
          'image/jpeg',
          width,
          height,
        );
      } catch (err) {
        throw fromWasmError(err, 'seal_failed');
      }
      const result = await this.#api('POST', '/v1/client/captures', undefined, envelope, CAPTURE_CONTENT_TYPE);
      this.#checkStopped();
      this.#state = 'uploaded';
      this.#cleanup();
      this.#emit('uploaded', { captureId: result.capture_id, status: result.status });
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
    const burst = this.#burst;
    this.#burst = null;
    const framesAnalyzed = this.#analyzer ? this.#analyzer.framesAnalyzed : 0;
    const cameraLabel = this.#stream?.getVideoTracks()[0]?.label || '';
    this.#state = 'uploading';
    this.#stopCamera();
    try {
      let report;
      try {
        report = burst.liveness.report();
      } finally {
        burst.liveness.free();
      }
      const frames = burst.frames;
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
      this.#emit('uploading', {});
      const { nonce } = await this.#api('POST', '/v1/client/nonce');
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
      const result = await this.#api('POST', '/v1/client/captures', undefined, envelope, CAPTURE_CONTENT_TYPE);
      this.#checkStopped();
      this.#state = 'uploaded';
      this.#cleanup();
      this.#emit('uploaded', { captureId: result.capture_id, status: result.status, liveness });
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
    if (this.#stream) {
      for (const track of this.#stream.getTracks()) track.stop();
      this.#stream = null;
    }
    if (this.#video) {
      this.#video.pause();
      this.#video.srcObject = null;
    }
  }

  #cleanup() {
    this.#cancelFrame();
    this.#stopCamera();
    if (this.#analyzer) {
      this.#analyzer.free();
      this.#analyzer = null;
    }
    this.#endBurst();
    if (this.#face) {
      this.#face.detector.free();
      this.#face = null;
    }
    if (this.#ownsVideo) this.#video = null;
  }
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
 * @param {MediaTrackConstraints} [options.constraints] extra camera constraints
 * @param {number} [options.autoCaptureFrames] capture the best frame after this many frames
 *   even if auto-capture has not triggered (default: wait for auto-capture)
 * @param {string} [options.documentFormat] `id1` (ID card, driving licence) or `id3` (passport page)
 *   when the flow knows it; default: guessed from the document's aspect ratio
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
  return new Capture({
    verifierUrl: verifierUrl.replace(/\/+$/, ''),
    token,
    step,
    video: video || null,
    canvas: canvas || null,
    constraints,
    autoCaptureFrames: autoCaptureFrames || 0,
    documentFormat,
  });
}
export { verifyWebhook, WebhookSignatureError } from './webhook.js';
export { loadFaceModule, prefetchFaceModule, faceSimdSupported, FACE_MODELS } from './face.js';
export { setAssetsUrl, getAssetsUrl } from './assets.js';
