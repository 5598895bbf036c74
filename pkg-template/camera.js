// Camera handling for the capture steps: opening the right camera with constraints that degrade
// gracefully, the torch, losing the camera (unplugged, taken by another app, device change) and
// mapping every failure to a stable TrustCapError code that tells the page to offer the
// file-input fallback (`Capture#submitFile`).

import { TrustCapError } from './errors.js';

/**
 * The stable codes of camera failures. Every such error carries `fileFallback: true`: the page
 * should offer `<input type="file" accept="image/*" capture>` and pass the photo to `submitFile`.
 */
export const CAMERA_ERROR_CODES = Object.freeze([
  'camera_denied',
  'no_camera',
  'camera_busy',
  'insecure_context',
  'camera_unavailable',
  'camera_lost',
]);

function fallbackError(code, message) {
  return new TrustCapError(code, message, undefined, { fileFallback: true });
}

/**
 * Maps a `getUserMedia` (or preview) failure to a {@link TrustCapError} with `fileFallback: true`:
 * `camera_denied` (NotAllowedError, SecurityError), `no_camera` (NotFoundError, OverconstrainedError
 * after every fallback), `camera_busy` (NotReadableError) or `camera_unavailable`.
 *
 * @param {unknown} err
 * @returns {TrustCapError}
 */
export function cameraError(err) {
  if (err instanceof TrustCapError) return err;
  const name = err && typeof err === 'object' ? err.name : undefined;
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return fallbackError('camera_denied', 'camera access was denied');
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
    case 'ConstraintNotSatisfiedError':
      return fallbackError('no_camera', 'no suitable camera was found');
    case 'NotReadableError':
    case 'TrackStartError':
      return fallbackError('camera_busy', 'the camera is in use by another application or cannot be started');
    default:
      return fallbackError('camera_unavailable', `the camera could not be opened (${name || 'unknown error'})`);
  }
}

/**
 * Throws `insecure_context` (with `fileFallback`) when this page cannot use a camera at all: not a
 * secure context (https or localhost), or no `navigator.mediaDevices.getUserMedia` (many webviews).
 */
export function checkCameraAvailable() {
  if (typeof isSecureContext === 'boolean' && !isSecureContext) {
    throw fallbackError('insecure_context', 'camera access needs a secure context (https)');
  }
  if (typeof navigator === 'undefined' || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw fallbackError('insecure_context', 'this browser or webview offers no camera access (navigator.mediaDevices)');
  }
}

/**
 * The video constraints to try in order for a step: the ideal resolution (1920×1080 for documents
 * with the rear camera, 1280×720 for selfies with the front one) with the integrator's extra
 * constraints, then without them, then a lower resolution, then any camera facing the right way.
 * Browsers answer an over-constrained request with `OverconstrainedError`; the next entry is looser.
 *
 * @param {string} step `document_front`, `document_back` or `selfie`
 * @param {MediaTrackConstraints} [extra] the integrator's constraints (merged into the first try)
 * @returns {MediaTrackConstraints[]}
 */
export function constraintLadder(step, extra) {
  const selfie = step === 'selfie';
  const facingMode = { ideal: selfie ? 'user' : 'environment' };
  const [w, h] = selfie ? [1280, 720] : [1920, 1080];
  const ladder = [];
  if (extra && Object.keys(extra).length > 0) {
    ladder.push({ facingMode, width: { ideal: w }, height: { ideal: h }, ...extra });
  }
  ladder.push({ facingMode, width: { ideal: w }, height: { ideal: h } });
  ladder.push({ facingMode, width: { ideal: 640 }, height: { ideal: 480 } });
  ladder.push({ facingMode });
  return ladder;
}

/**
 * Opens a camera stream for a step, loosening the constraints after each `OverconstrainedError`.
 * Rejects with a camera {@link TrustCapError} (see {@link cameraError}).
 *
 * @param {string} step
 * @param {MediaTrackConstraints} [extra]
 * @returns {Promise<MediaStream>}
 */
export async function openStream(step, extra) {
  checkCameraAvailable();
  let last = null;
  for (const video of constraintLadder(step, extra)) {
    try {
      return await navigator.mediaDevices.getUserMedia({ video, audio: false });
    } catch (err) {
      last = err;
      const name = err && err.name;
      if (name !== 'OverconstrainedError' && name !== 'ConstraintNotSatisfiedError') break;
    }
  }
  throw cameraError(last);
}

/**
 * One open camera: its stream shown in a `<video>`, the torch, and notice of losing it (`lost`
 * event: the track ended, or a `devicechange` removed the device).
 */
export class Camera extends EventTarget {
  #step;
  #extra;
  #video = null;
  #ownsVideo = false;
  #stream = null;
  #onEnded = () => this.#lost('the camera track ended');
  #onDeviceChange = () => this.#checkDevice();

  /**
   * @param {{ step: string, constraints?: MediaTrackConstraints, video?: HTMLVideoElement | null }} opts
   */
  constructor({ step, constraints, video }) {
    super();
    this.#step = step;
    this.#extra = constraints;
    this.#video = video || null;
  }

  /** The `<video>` element showing the preview (created when the page gave none); null before `open`. */
  get video() {
    return this.#video;
  }

  /** The open camera's stream, or null when it is closed. */
  get stream() {
    return this.#stream;
  }

  /** The video track, or null when the camera is closed. */
  get track() {
    return this.#stream ? this.#stream.getVideoTracks()[0] || null : null;
  }

  /** The camera's label (empty when closed or unknown). */
  get label() {
    const track = this.track;
    return (track && track.label) || '';
  }

  /** Whether the open camera has a torch the page can switch (`setTorch`). */
  get torchAvailable() {
    const track = this.track;
    if (!track || typeof track.getCapabilities !== 'function') return false;
    try {
      return track.getCapabilities().torch === true;
    } catch {
      return false;
    }
  }

  /**
   * Switches the torch. Rejects with `torch_unavailable` when the camera has none.
   * @param {boolean} on
   */
  async setTorch(on) {
    const track = this.track;
    if (!track || !this.torchAvailable) throw new TrustCapError('torch_unavailable', 'this camera has no torch');
    try {
      await track.applyConstraints({ advanced: [{ torch: Boolean(on) }] });
    } catch (err) {
      throw new TrustCapError('torch_unavailable', `the torch could not be switched (${err && err.name})`);
    }
  }

  /** Opens the camera and starts the preview. Rejects with a camera {@link TrustCapError}. */
  async open() {
    this.close();
    const stream = await openStream(this.#step, this.#extra);
    this.#stream = stream;
    let el = this.#video;
    if (!el) {
      el = document.createElement('video');
      this.#ownsVideo = true;
      this.#video = el;
    }
    el.muted = true;
    el.playsInline = true;
    el.setAttribute('playsinline', '');
    el.srcObject = stream;
    if (el.readyState < 1) {
      await new Promise((resolve, reject) => {
        el.addEventListener('loadedmetadata', resolve, { once: true });
        el.addEventListener('error', () => reject(cameraError(new Error('the camera stream failed'))), { once: true });
      });
    }
    if (this.#stream !== stream) return; // closed meanwhile
    try {
      await el.play();
    } catch (err) {
      if (this.#stream !== stream) return;
      this.close();
      throw new TrustCapError('camera_unavailable', `the camera preview could not start (${err && err.name})`, undefined, {
        fileFallback: true,
      });
    }
    const track = this.track;
    if (track) track.addEventListener('ended', this.#onEnded);
    if (navigator.mediaDevices && typeof navigator.mediaDevices.addEventListener === 'function') {
      navigator.mediaDevices.addEventListener('devicechange', this.#onDeviceChange);
    }
  }

  /** Stops the camera and detaches the preview (the camera light goes off). */
  close() {
    if (navigator.mediaDevices && typeof navigator.mediaDevices.removeEventListener === 'function') {
      navigator.mediaDevices.removeEventListener('devicechange', this.#onDeviceChange);
    }
    if (this.#stream) {
      for (const track of this.#stream.getTracks()) {
        track.removeEventListener('ended', this.#onEnded);
        track.stop();
      }
      this.#stream = null;
    }
    if (this.#video) {
      this.#video.pause();
      this.#video.srcObject = null;
    }
  }

  /** Closes the camera and forgets a video element it created. */
  dispose() {
    this.close();
    if (this.#ownsVideo) this.#video = null;
  }

  #lost(reason) {
    if (!this.#stream) return;
    this.close();
    this.dispatchEvent(new CustomEvent('lost', { detail: { reason } }));
  }

  async #checkDevice() {
    const track = this.track;
    if (!track) return;
    if (track.readyState === 'ended') return this.#lost('the camera track ended');
    const settings = typeof track.getSettings === 'function' ? track.getSettings() : {};
    if (!settings.deviceId || typeof navigator.mediaDevices.enumerateDevices !== 'function') return;
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      const present = devices.some((d) => d.kind === 'videoinput' && (!d.deviceId || d.deviceId === settings.deviceId));
      if (!present) this.#lost('the camera was disconnected');
    } catch {
      // enumerateDevices failing says nothing about the camera: keep it.
    }
  }
}

/**
 * Calls `onHidden` when the page is hidden (tab switched, app backgrounded) and `onVisible` when it
 * is shown again. Returns a function that stops watching.
 *
 * @param {() => void} onHidden
 * @param {() => void} onVisible
 * @returns {() => void}
 */
export function watchVisibility(onHidden, onVisible) {
  if (typeof document === 'undefined') return () => {};
  const listener = () => (document.visibilityState === 'hidden' ? onHidden() : onVisible());
  document.addEventListener('visibilitychange', listener);
  return () => document.removeEventListener('visibilitychange', listener);
}

/**
 * An `<input type="file" accept="image/*" capture="…">` for the file fallback: on phones it opens
 * the camera app (rear camera for documents, front for selfies), elsewhere a file picker. Its
 * `change` event carries the photo in `input.files[0]`; pass it to `Capture#submitFile`.
 *
 * @param {{ step?: string, document?: Document }} [opts]
 * @returns {HTMLInputElement}
 */
export function createFileInput({ step = 'document_front', document: doc = globalThis.document } = {}) {
  const input = doc.createElement('input');
  input.type = 'file';
  input.accept = 'image/*';
  input.setAttribute('capture', step === 'selfie' ? 'user' : 'environment');
  return input;
}
