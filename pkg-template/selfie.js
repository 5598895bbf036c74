// The selfie step's per-frame logic, shared by the analysis worker (selfie-worker.js) and the
// page-thread fallback (index.js): face detection and guidance on every frame; once the face has
// been good and steady (or the user pressed the shutter), a burst of BURST_FRAMES frames
// BURST_INTERVAL_MS apart for passive liveness. The liveness analyser sees every frame of the
// burst's span (motion between consecutive camera frames is small enough to track); the upload
// keeps BURST_FRAMES of them, evenly spaced, from which the verifier recomputes its own verdict.
//
// It holds only wasm objects handed to it (a SelfieAnalyzer from the core module, a detector and
// the face module from face.js), so it runs the same on either thread.

/** Frames of a selfie's liveness burst (the protocol's maximum, `trustcap_protocol::burst`). */
export const BURST_FRAMES = 8;
/** Interval between burst frames, milliseconds: 8 frames span about 1.05 s. */
export const BURST_INTERVAL_MS = 150;
// Guidance codes that end a burst in progress: the face is gone or not alone any more.
const BURST_BREAKERS = new Set(['no_face', 'multiple_faces', 'center_face']);

/**
 * One selfie step's analysis state: the guidance analyser, the face detector and the burst in
 * progress.
 */
export class SelfieSession {
  #analyzer;
  #detector;
  #faceModule;
  #burst = null; // { frames: [{ image, width, height, t, at, metrics }], liveness, startedAt }

  /**
   * @param {{ analyzer: object, detector: object, faceModule: object }} parts
   *   a wasm `SelfieAnalyzer`, a face detector and the `FaceModule` that made it; the session owns
   *   the analyser (see {@link SelfieSession#free}), the caller keeps the detector
   */
  constructor({ analyzer, detector, faceModule }) {
    this.#analyzer = analyzer;
    this.#detector = detector;
    this.#faceModule = faceModule;
  }

  /** Frames analysed since the start or the last reset. */
  get framesAnalyzed() {
    return this.#analyzer.framesAnalyzed;
  }

  /**
   * Analyses one RGBA frame (an `ImageData`, kept by a burst: pass a fresh one every call).
   *
   * @param {ImageData} image
   * @param {number} now the frame's time on a monotonic clock, milliseconds
   * @param {number} at the frame's wall-clock time (`Date.now()`)
   * @param {{ requested?: boolean, limit?: number, cameraLabel?: string }} [shutter] `requested`: the
   *   user asked for the capture; `limit`: start the burst after this many frames even without
   *   auto-capture (0: never); `cameraLabel`: the camera track's label (a liveness signal: known
   *   virtual cameras)
   * @returns {{ result: object, code: string, message: string, progress: { frames: number, total: number } | null,
   *   burstStarted: boolean, complete: boolean }} the analyser's `result`; the guidance `code` and
   *   `message` to show; the burst's `progress` while one runs; `burstStarted` when this frame
   *   started it; `complete` when the burst has all its frames (call {@link SelfieSession#takeBurst})
   */
  analyze(image, now, at, { requested = false, limit = 0, cameraLabel = '' } = {}) {
    const { width, height } = image;
    const faces = this.#detector.detect(image);
    const result = this.#analyzer.analyze(image.data, width, height, width * 4, faces);
    const manual = requested || (limit > 0 && result.framesAnalyzed >= limit);
    let burstStarted = false;
    if (!this.#burst && (result.capture || manual) && result.face && result.faces === 1) {
      const liveness = this.#faceModule.createLivenessAnalyzer({ cameraLabel: String(cameraLabel) });
      this.#burst = { frames: [], startedAt: now, liveness };
      burstStarted = true;
    }
    const burst = this.#burst;
    const framing = (code) => ({
      result,
      code,
      message: result.message,
      progress: null,
      burstStarted,
      complete: false,
    });
    if (!burst) return framing(result.guidance);
    if (BURST_BREAKERS.has(result.reasons[0]) || !result.face) {
      // The face left the oval (or another one came in): back to framing.
      this.endBurst();
      this.#analyzer.reset();
      return framing(result.reasons[0] || 'no_face');
    }
    burst.liveness.push(image, result.face.box, now);
    const due = burst.startedAt + burst.frames.length * BURST_INTERVAL_MS;
    if (now + 1 >= due) burst.frames.push({ image, width, height, t: now, at, metrics: result.metrics });
    return {
      result,
      code: 'hold_still',
      message: 'Hold still',
      progress: { frames: burst.frames.length, total: BURST_FRAMES },
      burstStarted,
      complete: burst.frames.length >= BURST_FRAMES,
    };
  }

  /** The face oval the guidance measures against: `{ cx, cy, rx, ry }`, shares of the frame size. */
  get oval() {
    return this.#analyzer.oval;
  }

  /** Whether a burst is in progress. */
  get bursting() {
    return this.#burst !== null;
  }

  /**
   * Ends the burst and hands it over: the liveness analyser's report and the kept frames
   * (`{ image, width, height, t, at, metrics }`), or null when no burst was taken.
   *
   * @returns {{ report: object, frames: object[] } | null}
   */
  takeBurst() {
    const burst = this.#burst;
    if (!burst) return null;
    this.#burst = null;
    try {
      return { report: burst.liveness.report(), frames: burst.frames };
    } finally {
      burst.liveness.free();
    }
  }

  /** Drops the burst in progress, if any (the frames are discarded). */
  endBurst() {
    if (this.#burst) {
      this.#burst.liveness.free();
      this.#burst = null;
    }
  }

  /** Starts over: no burst, no motion history. */
  reset() {
    this.endBurst();
    this.#analyzer.reset();
  }

  /** Frees the wasm objects the session owns (the burst in progress and the analyser). */
  free() {
    this.endBurst();
    this.#analyzer.free();
  }
}
